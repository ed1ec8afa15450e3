"""The section and the checks of every GRPO variant from one objective: what it regularises towards, and where it rests.

Its derivation, :mod:`derive.model.variants`, is checked here against the
claims and an independent path.
"""

import mpmath
from sympy import (
    Integer,
    Rational,
    Symbol,
    cancel,
    diff,
    log,
    radsimp,
    sqrt,
)

from derive.model.normalisations import NORMALISATIONS
from derive.model.objective import Objective
from derive.model.variants import (
    AGGREGATION,
    BETA,
    C_GAP,
    COLUMNS,
    EPS,
    KKT,
    P_REF,
    ROWS,
    SUCCESS,
    EffectiveDivergence,
    KLInReward,
    beta,
    binary_gradient_gap,
    binary_preference,
    binary_preference_gap,
    bracketed_roots,
    cell_number,
    column_objective,
    condition_function,
    deterministic_outcomes,
    effective_divergences,
    eps,
    matrix_cells,
    p,
    simplified,
    solve_condition,
    table_rows,
    x,
)
from derive.numerics.context import mpf_exact
from derive.numerics.precision import CHECK_DIGITS, CHECK_SEED
from derive.paper import symbols as S
from derive.verify import enumeration
from derive.verify.checks import ENUMERATION, Section, inequality_check, numeric_check, symbolic_check


def gradient_form(penalty, importance_weighted, pi_o, ref_o):
    """The author's form of ``g_o`` (the derived gradient of Eq. (7)'s penalty at
    ``pi_old = pi``, arXiv:2502.18548v3, Eq. (10) for k3) in ``log(pi(o)/pi_ref(o))``;
    :func:`derive.verify.display.value` proves it equal to :class:`EffectiveDivergence`'s gradient.

    >>> from derive.verify.display import form_tex
    >>> from derive.paper import symbols as S
    >>> (pi_o,), (ref_o,) = S.policy_symbols("pi", "o"), S.policy_symbols("pi_ref", "o")
    >>> print(form_tex(gradient_form("k3", False, pi_o, ref_o)))
    1 - \\frac{\\pi_{\\mathrm{ref}}(o)}{\\pi(o)}
    """
    from sympy import Add, Mul, Pow

    from derive.verify.display import U, frac

    L = log(frac(pi_o, ref_o), evaluate=False)
    forms = {
        ("k1", False): Integer(1),
        ("k1", True): U(Add, L, 1),
        ("k2", False): L,
        ("k2", True): U(Add, U(Mul, Rational(1, 2), U(Pow, L, 2)), L),
        ("k3", False): U(Add, 1, -frac(ref_o, pi_o)),
        ("k3", True): L,
    }
    return forms[(penalty, bool(importance_weighted))]


def penalty_gradient_check(eff, points, digits):
    """``|d/dt D(pi + t u; pi) - d/dt C(pi + t u)|`` along ``u = e_o - e_c`` at each point.

    Finite differences (``mpmath.diff``) of the per-sample estimator's expectation
    under ``pi_old = pi`` and of the candidate divergence *C*: independent of the
    symbolic gradient.  Points: ``{"pi": (..), "ref": (..)}`` on the simplex.
    """
    errors = []
    est, iw = eff.estimator, eff.importance_weighted
    def k(rho):
        return enumeration.estimate(est.name, rho)

    with mpmath.workdps(digits + 20):
        for pt in points:
            pi = [mpf_exact(v) for v in pt["pi"]]
            ref = [mpf_exact(v) for v in pt["ref"]]
            n = len(pi)

            def D(t, o, pi=pi, ref=ref):
                moved = list(pi)
                moved[o] += t
                moved[-1] -= t
                return mpmath.fsum(old * ((m / old) if iw else 1) * k(r / m)
                                   for m, r, old in zip(moved, ref, pi))

            def C(t, o, pi=pi, ref=ref):
                moved = list(pi)
                moved[o] += t
                moved[-1] -= t
                if eff.divergence == "none":
                    return mpmath.mpf(0)
                if eff.divergence == "KL(pi||pi_ref)":
                    return mpmath.fsum(m * mpmath.log(m / r) for m, r in zip(moved, ref))
                if eff.divergence == "KL(pi_ref||pi)":
                    return mpmath.fsum(r * mpmath.log(r / m) for m, r in zip(moved, ref))
                return mpmath.fsum(m * k(r / m) for m, r in zip(moved, ref))   # D(pi; pi)

            for o in range(n - 1):
                errors.append(abs(mpmath.diff(lambda t, o=o: D(t, o), 0)
                                  - mpmath.diff(lambda t, o=o: C(t, o), 0)))
    return errors


def mp_advantages(obj, rewards):
    """Advantages by definition at numbers (:func:`derive.verify.enumeration.group_advantages`)."""
    return enumeration.group_advantages(rewards, obj.normalisation, obj.std, obj.std_eps)


def enumerated_objective(obj, trial, old, ref, outcomes, G, beta_):
    """``J(trial; old)`` of Eq. (1) for the variant *obj*, by enumeration
    (:func:`derive.verify.enumeration.objective_of`)."""
    return enumeration.objective_of(trial, old, ref, outcomes, G, beta_, obj.penalty_name,
                                    obj.normalisation, obj.std, obj.std_eps, obj.kl_in)


def enumerated_field(obj, xv, pv, outcomes, G, beta_):
    """``d/dt J((x + t, 1 - x - t); (x, 1 - x))`` at ``t = 0``: the binary field, by
    numerical differentiation of the enumerated objective."""
    old, ref = (xv, 1 - xv), (pv, 1 - pv)
    return mpmath.diff(lambda t: enumerated_objective(obj, (xv + t, 1 - xv - t), old, ref,
                                                      outcomes, G, beta_), 0)


def enumerated_preference(obj, o, pi, outcomes, G):
    """``P_G(o|pi) = E[A_1 | o_1 = o]`` for the normalisation of *obj*, by enumeration."""
    return enumeration.preference_of(o, pi, outcomes, G, obj.normalisation, obj.std, obj.std_eps)


def reward_field(obj, xv, pv, beta_, outcomes, G):
    """``P'_G(a|pi) - P'_G(b|pi)`` of the KL-in-reward variant by enumeration: the
    modified reward of each output is its reward minus ``beta log(pi/pi_ref)``."""
    shifted = [[(v - beta_ * mpmath.log(pi_o / r_o), w) for v, w in out]
               for out, pi_o, r_o in zip(outcomes, (xv, 1 - xv), (pv, 1 - pv))]
    plain = Objective(normalisation=obj.normalisation, std=obj.std, std_eps=obj.std_eps)
    return (enumerated_preference(plain, 0, (xv, 1 - xv), shifted, G)
            - enumerated_preference(plain, 1, (xv, 1 - xv), shifted, G))


def divergence_checks(digits):
    out = []
    eff = effective_divergences()
    pts = []
    import random
    rng = random.Random(CHECK_SEED)
    for _ in range(4):
        a, b = rng.randint(1, 60), rng.randint(1, 30)
        c, d = rng.randint(1, 60), rng.randint(1, 30)
        pts.append({"pi": (Rational(a, 100), Rational(b, 100), 1 - Rational(a + b, 100)),
                    "ref": (Rational(c, 100), Rational(d, 100), 1 - Rational(c + d, 100))})
    for e in eff.values():
        name = e.name
        found = e.divergence is not None
        words = {"none": "a constant: beta drops out (no divergence)",
                 "D(pi;pi)": "D(pi; pi) = E_pi[(log(pi/pi_ref))^2]/2 itself, neither KL"}.get(
                     e.divergence, e.divergence)
        out.append(symbolic_check(
            f"variants-divergence-{name}", "(7)-(10)",
            f"{name}: at pi_old = pi, dD/dpi(o) minus the gradient of {words} is the same "
            f"constant {e.constant} for every output (expand_log, cancel), so on the simplex the "
            "penalty follows that divergence", 0 if found else 1))
        errs = penalty_gradient_check(e, pts, digits)
        out.append(numeric_check(
            f"variants-divergence-fd-{name}", "(7)-(10)",
            f"{name}: along e_o - e_c on the simplex, finite differences (mpmath.diff) of the "
            f"expected penalty of samples of pi_old = pi match those of {words}, 4 seeded points",
            errs, digits))
    return out


def normalisation_checks(digits):
    from derive.verify import enumeration

    out = []
    Gs, SS = S.G, Symbol("SS", positive=True)
    pop, samp = sqrt(SS / Gs), sqrt(SS / (Gs - 1))
    ratio = pop / samp          # A_sample / A_population = std_pop / std_sample
    out.append(symbolic_check(
        "variants-sample-std", "(2)",
        "sample std: A_sample/A_population = std_pop/std_sample = sqrt((G-1)/G) for every "
        "group with a nonzero std, so P_G^sample = sqrt((G-1)/G) P_G (ratio^2 - (G-1)/G, cancel)",
        cancel(ratio**2 - (Gs - 1) / Gs)))
    reg = []
    for G in range(2, 5):
        rs = S.rewards(G)
        A_s = NORMALISATIONS["shift-scale"].advantage(rs, 0, "sample", 0)
        A_p = NORMALISATIONS["shift-scale"].advantage(rs, 0, "population", 0)
        reg.append(cancel((A_s / A_p) ** 2 - Rational(G - 1, G)))
    out.append(symbolic_check(
        "variants-sample-std-registry", "(2)",
        "sample std through the registry, symbolic rewards, G = 2, 3, 4: "
        "(A_sample/A_population)^2 = (G-1)/G (cancel; both advantages have the sign of "
        "r_1 - mean, so the ratio is the positive root)", sum(abs(t) for t in reg)))
    mu_, r_ = S.mu, S.r
    res = []
    for G in range(2, 7):
        rs = S.rewards(G)
        A = NORMALISATIONS["shift-only"].advantage(rs, 0, "population", 0)
        # linear in the rewards: the expectation over the others replaces r_j by E_pi r
        P = A.subs({rs[0]: r_} | {t: mu_ for t in rs[1:]})
        res.append(cancel(P - (1 - Rational(1, G)) * (r_ - mu_)))
        A0 = NORMALISATIONS["none"].advantage(rs, 0, "population", 0)
        res.append(A0.subs({rs[0]: r_} | {t: mu_ for t in rs[1:]}) - r_)
    out.append(symbolic_check(
        "variants-shift-only-none", "(6)",
        "G = 2..6: shift-only gives P_G(o|pi) = (1 - 1/G)(r(o) - E_pi r) and none gives "
        "P_G(o|pi) = r(o) (the advantage is linear in the rewards, cancel)",
        sum(abs(t) for t in res)))
    # enumeration: three outputs with finite reward distributions
    pi = (Rational(1, 2), Rational(3, 10), Rational(1, 5))
    dists = ((0, Rational(1, 5), Rational(4, 5)), (Rational(1, 2), Rational(1, 2), 0),
             (Rational(7, 10), 0, Rational(3, 10)))
    values = (0, 1, 2)
    errs = []
    with mpmath.workdps(digits + 10):
        mpi = [mpf_exact(t) for t in pi]
        outs = [[(mpmath.mpf(v), mpf_exact(w)) for v, w in zip(values, d) if w != 0] for d in dists]
        means = [mpmath.fsum(v * w for v, w in o) for o in outs]
        mu_pi = mpmath.fsum(a * m for a, m in zip(mpi, means))
        for G in (2, 3, 4):
            for o in range(3):
                sh = enumerated_preference(Objective(normalisation="shift-only"), o, mpi, outs, G)
                errs.append(sh - (1 - mpmath.mpf(1) / G) * (means[o] - mu_pi))
                no = enumerated_preference(Objective(normalisation="none"), o, mpi, outs, G)
                errs.append(no - means[o])
                sa = enumerated_preference(Objective(std="sample"), o, mpi, outs, G)
                po = enumeration.preference(o, mpi, dists, values, G)
                errs.append(sa - mpmath.sqrt(mpmath.mpf(G - 1) / G) * po)
    out.append(numeric_check(
        "variants-normalisation-enumeration", "(6)",
        "enumeration of every ordered group and reward outcome (3 outputs, rewards on {0,1,2}, "
        "G = 2, 3, 4): shift-only P = (1-1/G)(r - E_pi r), none P = r, sample std P = "
        "sqrt((G-1)/G) times derive.verify.enumeration's population-std P", errs, digits,
        method=ENUMERATION))
    # epsilon: no exact relation in general
    g2 = binary_preference_gap("shift-scale", "population", eps, 2)
    out.append(symbolic_check(
        "variants-eps-two", "(2)",
        "std + eps, rewards 1, 0, G = 2: every group with two rewards has std 1/2, so "
        "P_2^eps = P_2/(1 + 2 eps) exactly (cancel)", cancel(g2 - 1 / (1 + 2 * eps))))
    e10 = Rational(1, 10)
    ratios = []
    for xv in (Rational(1, 4), Rational(1, 2)):
        pe = binary_preference("shift-scale", "population", e10, 4, 0).subs(x, xv)
        pp = binary_preference("shift-scale", "population", 0, 4, 0).subs(x, xv)
        ratios.append(radsimp(pe / pp))
    gap = abs(mpmath.mpf(ratios[0].evalf(digits)) - mpmath.mpf(ratios[1].evalf(digits)))
    out.append(inequality_check(
        "variants-eps-counterexample", "(2)",
        "std + eps, rewards 1, 0, G = 4, eps = 1/10: P_4^eps(a|pi)/P_4(a|pi) differs between "
        f"pi(a) = 1/4 and 1/2 (by {float(gap):.3g}): a group's std (sqrt(3)/4 or 1/2) varies, "
        "so eps is no rescaling of beta", [gap], digits))
    cont = [cancel(radsimp(binary_preference("shift-scale", "population", eps, G, 0).subs(eps, 0)
                           - binary_preference("shift-scale", "population", 0, G, 0)))
            for G in (3, 4)]
    first = [radsimp(cancel(diff(binary_preference("shift-scale", "population", eps, G, 0), eps)
                            .subs(eps, 0))) for G in (2, 3)]
    out.append(symbolic_check(
        "variants-eps-limit", "(2)",
        "std + eps, rewards 1, 0: P_G^eps is continuous at eps = 0 (every group with a nonzero "
        "std keeps a positive denominator) and equals P_G there (G = 3, 4, cancel); to first "
        f"order P_2^eps(a) = P_2(a) + ({first[0]}) eps and P_3^eps(a) = P_3(a) + ({first[1]}) eps",
        sum(abs(t) for t in cont)))
    return out


def binary_gap_numeric(obj, G, xv):
    """``P_G(a|pi) - P_G(b|pi)`` for rewards 1, 0 at numbers, from the definition of the
    advantage applied to a group with ``m`` ones (mean ``m/G``, population variance
    ``m (G - m)/G^2``), summed over the binomial law of the others: ``O(G)``, for large G."""
    G = int(G)
    total = mpmath.mpf(0)
    eps_ = mpf_exact(obj.std_eps)
    for k in range(G):
        w = mpmath.binomial(G - 1, k) * xv**k * (1 - xv) ** (G - 1 - k)
        for own, m, sign in ((1, k + 1, 1), (0, k, -1)):
            if obj.normalisation == "none":
                a = mpmath.mpf(own)
            else:
                centred = own - mpmath.mpf(m) / G
                if obj.normalisation == "shift-only":
                    a = centred
                else:
                    var = mpmath.mpf(m * (G - m)) / G**2
                    if obj.std == "sample":
                        var = var * G / (G - 1)
                    den = mpmath.sqrt(var) + eps_
                    a = 0 if den == 0 else centred / den
            total += sign * w * a
    return total


def limit_checks():
    """The ``G -> inf`` gaps against Richardson extrapolation of exact sums at large G."""
    errs = []
    with mpmath.workdps(30):
        for xv in (mpmath.mpf(3) / 10, mpmath.mpf(4) / 5):
            for col, _, norm, std, has_eps in COLUMNS:
                obj = column_objective(col)
                lim = binary_preference_gap(norm, std, eps if has_eps else 0, None)
                want = mpmath.mpf(lim.evalf(30, subs={x: mpmath.nstr(xv, 30), eps: EPS}))
                g1, g2 = binary_gap_numeric(obj, 400, xv), binary_gap_numeric(obj, 800, xv)
                errs.append(2 * g2 - g1 - want)
    return [numeric_check(
        "variants-limit-large-G", "(13)",
        "G -> inf: the gap 1/(sigma(pi) + eps) of every std column, and 1 for shift-only and "
        "none, equals the Richardson extrapolation 2 P_800 - P_400 of exact binomial sums over "
        "groups (x = 3/10, 4/5); tolerance 1e-4 because the extrapolation leaves O(1/G^2)",
        errs, 30, tolerance=mpmath.mpf(10) ** -4)]


def kkt_checks():
    out = []
    for pen, iw in ROWS:
        kkt = KKT(pen, iw).derive()
        e = kkt.eff
        mean_g = sum(pi * g for pi, g in zip(e.pi, e.gradient))
        mean_P = sum(pi * P for pi, P in zip(e.pi, kkt.P))
        n = len(e.pi)
        tail = {e.pi[-1]: 1 - sum(e.pi[:-1])}
        res = sum(abs(simplified((kkt.residual[o] - (kkt.P[o] - mean_P - beta * (e.gradient[o] - mean_g))
                               ).subs(tail))) for o in range(n))
        out.append(symbolic_check(
            f"variants-kkt-{e.name}", "(11)",
            f"{e.name}: the Lagrangian of J(pi'; pi_old) at pi_old = pi gives "
            "P_G(o|pi) - E_pi P = beta (g_o - E_pi g), g the derived penalty gradient, on "
            "sum pi = 1 (expand_log, cancel)", res))
    return out


def cell_checks(cells, digits):
    out, enum_errs, closed_errs, drops = [], [], [], []
    with mpmath.workdps(digits + 10):
        for (pen, iw, col, G), c in sorted(cells.items(), key=lambda kv: str(kv[0])):
            if c["closed"] is not None:
                closed_errs.append(abs(c["closed"] - c["roots"][0]) if len(c["roots"]) == 1
                                   else mpmath.mpf(1))
    with mpmath.workdps(30):
        for (pen, iw, col, G), c in cells.items():
            if G is None:
                continue
            if not c["roots"]:
                if x not in c["condition"].free_symbols:
                    f1 = enumerated_field(c["obj"], mpmath.mpf(1) / 2, mpf_exact(P_REF),
                                          deterministic_outcomes(), G, mpmath.mpf(1) / 2)
                    f2 = enumerated_field(c["obj"], mpmath.mpf(1) / 2, mpf_exact(P_REF),
                                          deterministic_outcomes(), G, mpmath.mpf(2))
                    drops.append((abs(f1 - f2), f1))
                continue
            for root in c["roots"]:
                enum_errs.append(enumerated_field(c["obj"], root, mpf_exact(P_REF), deterministic_outcomes(), G,
                                                  mpf_exact(BETA)))
    # the same closed forms at seeded (beta, p) away from the stated point
    import random
    rng = random.Random(CHECK_SEED + 81)
    extra = [(Rational(rng.randint(1, 400), 100), Rational(rng.randint(1, 99), 100))
             for _ in range(2)]
    with mpmath.workdps(digits + 10):
        for (pen, iw, col, G), c in sorted(cells.items(), key=lambda kv: str(kv[0])):
            if c["closed"] is None:
                continue
            for bv, pv in extra:
                roots = bracketed_roots(condition_function(c["condition"], pv, bv, EPS), 200)
                cf = mpmath.mpf(c["variant"].closed_form.evalf(digits + 10, subs={
                    p: pv, beta: bv, eps: EPS}))
                closed_errs.append(abs(cf - roots[0]) if len(roots) == 1 else mpmath.mpf(1))
    n_closed = sum(1 for c in cells.values() if c["closed"] is not None)
    out.append(numeric_check(
        "variants-binary-closed-forms", "(14), (15)",
        f"binary, rewards 1, 0, eps = {EPS}: each of the {n_closed} closed forms SymPy finds "
        f"(G = 2, G -> inf) equals the one bracketed root of the unsquared condition on (0, 1) "
        f"(bisection on a logit grid) at (beta, p) = ({BETA}, {P_REF}), "
        + ", ".join(f"({b}, {q})" for b, q in extra) + ", 50 digits",
        closed_errs, digits))
    out.append(numeric_check(
        "variants-binary-enumeration", "(1), (11)",
        f"binary, G = 2, 3: at each of the {len(enum_errs)} roots of the derived condition, the "
        "gradient of J(pi'; pi) along e_a - e_b, enumerated over every ordered group and "
        "differentiated numerically (mpmath.diff), vanishes; 30 digits",
        enum_errs, 30))
    out.append(numeric_check(
        "variants-k1-beta-drops-out", "(10)",
        "k1 without importance weight: the enumerated gradient of J at pi(a) = 1/2 is the same "
        f"at beta = 1/2 and beta = 2 (G = 2, 3, every normalisation, {len(drops)} cells): beta "
        "drops out", [d for d, _ in drops], 30))
    out.append(inequality_check(
        "variants-k1-no-stationary", "(10)",
        "k1 without importance weight, rewards 1, 0: that gradient is positive, so pi(a) grows "
        "to 1 and there is no interior stationary point", [f for _, f in drops], 30))
    return out


def reward_checks(digits):
    kr = KLInReward().derive()
    out = [symbolic_check(
        "variants-kl-reward-sign", "(1), (6)",
        "KL in the reward, rewards 1, 0: for every normalisation and G = 2, 3, inf the preference "
        "gap is positive when the modified rewards differ by d > 0 and negative for -d "
        "(evaluated at sample points)", 0 if kr.signs_ok() else 1),
        symbolic_check(
        "variants-kl-reward-rlhf", "(3)-(4)",
        "KL in the reward, deterministic rewards: the one interior stationary point "
        "r'(a) = r'(b) is RLHF's pi(a) = p e^{1/beta}/(p e^{1/beta} + 1 - p) (solve, cancel)",
        cancel(kr.policy - kr.rlhf))]
    margins, zeros = [], []
    with mpmath.workdps(30):
        xs = mpmath.mpf(kr.policy.evalf(40, subs={p: P_REF, beta: BETA}))
        h = mpmath.mpf(10) ** -12
        for col, *_ in COLUMNS:
            obj = column_objective(col, "k1", False, "reward")
            for G in (2, 3):
                below = enumerated_field(obj, xs * (1 - h), mpf_exact(P_REF), deterministic_outcomes(), G, mpf_exact(BETA))
                above = enumerated_field(obj, xs * (1 + h), mpf_exact(P_REF), deterministic_outcomes(), G, mpf_exact(BETA))
                margins += [below, -above]
                if col in ("shift", "none"):
                    zeros.append(enumerated_field(obj, xs, mpf_exact(P_REF), deterministic_outcomes(), G,
                                                  mpf_exact(BETA)))
    out.append(inequality_check(
        "variants-kl-reward-enumeration", "(1)",
        "KL in the reward, rewards 1, 0: the enumerated gradient of J along e_a - e_b is positive "
        "just below the RLHF policy and negative just above it (relative offset 1e-12) for every "
        "normalisation, G = 2, 3: the point attracts; with a std in the scale the field jumps "
        "there (the sign of r'(a) - r'(b)), it is not a smooth zero", margins, 30,
        method=ENUMERATION))
    out.append(numeric_check(
        "variants-kl-reward-linear-zero", "(3)-(4)",
        "KL in the reward, shift-only and none, G = 2, 3: the enumerated gradient vanishes at "
        "the RLHF policy (the field is linear in the rewards, continuous), 30 digits", zeros, 30,
        method=ENUMERATION))
    # Bernoulli rewards
    pa, pb = SUCCESS
    outs = [[(mpmath.mpf(1), mpf_exact(pa)), (mpmath.mpf(0), 1 - mpf_exact(pa))],
            [(mpmath.mpf(1), mpf_exact(pb)), (mpmath.mpf(0), 1 - mpf_exact(pb))]]
    bern = {}
    with mpmath.workdps(25):
        for norm in ("shift-scale", "shift-only"):
            obj = Objective(normalisation=norm)
            for G in (2, 3):
                f = lambda xv, obj=obj, G=G: reward_field(obj, xv, mpf_exact(P_REF), mpf_exact(BETA), outs, G)
                roots = bracketed_roots(f, 60)
                kinds = []
                for z in roots:
                    h = mpmath.mpf(10) ** -12
                    lo, hi = f(z * (1 - h)), f(z * (1 + h))
                    kinds.append("jump" if min(abs(lo), abs(hi)) > mpmath.mpf(10) ** -6 else "zero")
                bern[(norm, G)] = list(zip(roots, kinds))
    lin = mpmath.mpf(kr.bernoulli_linear.evalf(30, subs={p: P_REF, beta: BETA}))
    errs = [r - lin for G in (2, 3) for r, k in bern[("shift-only", G)]]
    ok = all(len(bern[("shift-only", G)]) == 1 for G in (2, 3))
    out.append(numeric_check(
        "variants-kl-reward-bernoulli-linear", "(3)-(4)",
        f"KL in the reward, Bernoulli rewards ({pa}, {pb}), shift-only, G = 2, 3: the one sign "
        "change of the enumerated field is a zero at RLHF with the mean rewards, "
        "pi(a) = p e^{(p_a - p_b)/beta}/(...)", errs if ok else [1], 20, method=ENUMERATION))
    two = bern[("shift-scale", 2)]
    ok2 = len(two) == 1 and two[0][1] == "jump"
    out.append(numeric_check(
        "variants-kl-reward-bernoulli-two", "(5)",
        "KL in the reward, Bernoulli rewards, population std, G = 2: the field is piecewise "
        "constant in d = beta (logit x - logit p) (A = sign); it changes sign only by a jump at "
        "d = 0, i.e. at pi = pi_ref, because P(r_a = r_b) > p_a - p_b: no zero, the iteration "
        "chatters about pi_ref", [two[0][0] - mpf_exact(P_REF)] if ok2 else [1], 20,
        method=ENUMERATION))
    return out, kr, bern


def results(digits=CHECK_DIGITS):
    cells = matrix_cells(digits)
    checks = divergence_checks(digits) + normalisation_checks(digits) + kkt_checks()
    checks += limit_checks()
    checks += cell_checks(cells, digits)
    rchecks, kr, bern = reward_checks(digits)
    checks += rchecks
    csv = []
    panels = [{"label": "tab:variants", "G": "G = 2", "rows": table_rows(cells, kr, 2)},
              {"label": "tab:variants-limit", "G": "G \\to \\infty",
               "rows": table_rows(cells, kr, None)}]
    header = ("penalty,importance_weighted,kl_in,column,G,effective_divergence,aggregation,pi_a,"
              "closed_form\n")
    for (pen, iw, col, G), c in sorted(cells.items(), key=lambda kv: str(kv[0])):
        if G == 3:
            continue
        eff = effective_divergences()[(pen, iw)].divergence
        vals = ";".join(mpmath.nstr(r, 20) for r in c["roots"]) or "none"
        csv.append(f"{pen},{'true' if iw else 'false'},loss,{col},{'inf' if G is None else G},"
                   f"{eff},{AGGREGATION[eff]},{vals},"
                   f"{'true' if c['closed'] is not None else 'false'}\n")
    xs = mpmath.nstr(mpmath.mpf(kr.policy.evalf(30, subs={p: P_REF, beta: BETA})), 20)
    for col, *_ in COLUMNS:
        for G in ("2", "inf"):
            csv.append(f"k1,false,reward,{col},{G},RLHF,logarithmic pooling with the rewards: "
                       f"pi propto pi_ref exp(r/beta) (deterministic rewards),{xs},true\n")
    verified = all(c.passed for c in checks)
    return {"sections": [section(cells, kr, bern)], "checks": checks,
            "artefacts": [{"path": "tables/variants.tex", "template": "variants_table.tex.jinja",
                           "context": {"panels": panels, "columns": [c[1] for c in COLUMNS],
                                       "beta": str(BETA), "p": str(P_REF), "eps": str(EPS),
                                       "verified": verified}},
                          {"path": "data/variants.csv", "text": header + "".join(csv)}]}


def section(cells=None, kr=None, bern=None):
    """The appendix section deriving the variant matrix (Table [[tab:variants]])."""
    from sympy import Add, Mul, Pow, exp

    from derive.paper.latex import equation
    from derive.verify.display import U, condition, frac, value

    kr = kr or KLInReward().derive()
    sec = Section("variants", "Every GRPO variant from one objective (beyond the paper)",
                  "(1), (2), (7)-(11)",
                  "Trainers change the penalty estimator, where the KL enters and the advantage "
                  "normalisation; each choice is derived here from its definition.")
    (pi_o,), (ref_o,) = (S.policy_symbols(n, "o") for n in ("pi", "pi_ref"))
    sec.step("With $\\rho = \\pi_{\\mathrm{ref}}(o_i)/\\pi(o_i)$ the estimators of the penalty are "
             "$k_1 = -\\log\\rho$, $k_2 = \\tfrac12 (\\log\\rho)^2$ and "
             "$k_3 = \\rho - 1 - \\log\\rho$ (GRPO's, Eq. (1)); each is used as is on samples of "
             "$\\pi_{\\mathrm{old}}$, or weighted by $\\pi(o_i)/\\pi_{\\mathrm{old}}(o_i)$.  The "
             "expected penalty is $D(\\pi; \\pi_{\\mathrm{old}}) = \\sum_o "
             "\\pi_{\\mathrm{old}}(o)\\, w(o)\\, k(o)$ as in Eq. (7), and stationarity needs only "
             "its gradient $g_o$ at $\\pi_{\\mathrm{old}} = \\pi$ (Eq. (10) for $k_3$).  "
             "Differentiating gives, for $k_2$ without and with the weight,")
    one = {}
    for iw in (False, True):
        e = EffectiveDivergence("k2", iw, "o").derive()
        one[iw] = e.gradient[0]
    L = log(frac(pi_o, ref_o), evaluate=False)
    sec.step("", value(sec, "variants-k2-gradient", "(10)", "g_o^{k_2}", L, one[False])
             + " \\\\ " + value(sec, "variants-k2-is-gradient", "(10)", "g_o^{k_2\\text{-is}}",
                                U(Add, U(Mul, Rational(1, 2), U(Pow, L, 2)), L), one[True]),
             "variants-gradients")
    eff = effective_divergences()
    words = {"none": "no divergence",
             "KL(pi||pi_ref)": "$\\mathrm{KL}(\\pi \\,\\|\\, \\pi_{\\mathrm{ref}})$",
             "KL(pi_ref||pi)": "$\\mathrm{KL}(\\pi_{\\mathrm{ref}} \\,\\|\\, \\pi)$",
             "D(pi;pi)": "$M_2$"}
    listing = "; ".join(f"$k_{e.estimator.name[1]}${'-is' if e.importance_weighted else ''}: "
                        f"{words[e.divergence]}" for e in eff.values())
    sec.step("On the simplex a gradient is defined up to a constant (the multiplier of "
             "$\\sum_o \\pi(o) = 1$ absorbs it), so the engine compares $g_o$ with the gradient of "
             "each candidate divergence and keeps the first whose difference is one constant for "
             "every output, checked again by finite differences of the candidate.  The result: "
             f"{listing}.  Here $M_2 = \\tfrac12 \\mathbb{{E}}_\\pi[(\\log(\\pi/\\pi_{{\\mathrm{{ref}}}}))^2]$, "
             "which is neither KL.  The estimator $k_1$ without a weight has the constant "
             "gradient $g_o = 1$: the penalty drops out of stationarity, and $\\beta$ with it.  "
             "The estimator $k_2$ without a weight follows $\\mathrm{KL}(\\pi \\,\\|\\, "
             "\\pi_{\\mathrm{ref}})$, as $k_1$ and $k_3$ with the weight do, while GRPO's $k_3$ "
             "follows $\\mathrm{KL}(\\pi_{\\mathrm{ref}} \\,\\|\\, \\pi)$ (Eq. (10)).")
    sec.step("The Lagrangian of $J(\\pi'; \\pi_{\\mathrm{old}})$ on the simplex, at "
             "$\\pi_{\\mathrm{old}} = \\pi$, gives for every output with $\\pi(o) > 0$",
             equation("P_G(o \\mid \\pi) - \\mathbb{E}_{o' \\sim \\pi} P_G(o' \\mid \\pi)",
                      "\\beta\\,(g_o - \\mathbb{E}_{o' \\sim \\pi} g_{o'}),"), "variants-kkt")
    sec.step("which is Eq. (11) for $k_3$ and logarithmic pooling wherever the divergence is "
             "$\\mathrm{KL}(\\pi \\,\\|\\, \\pi_{\\mathrm{ref}})$.  For a binary question the "
             "conditions of $a$ and $b$ subtract to $c = \\beta (g_a - g_b)$ with the preference "
             "gap $c = P_G(a \\mid \\pi) - P_G(b \\mid \\pi)$; with $x = \\pi(a)$, "
             "$p = \\pi_{\\mathrm{ref}}(a)$ the derived right-hand sides are")
    c = C_GAP
    Lx = U(Add, log(frac(x, p), evaluate=False), -log(frac(U(Add, 1, -x), U(Add, 1, -p)),
                                                       evaluate=False))
    rows = [condition(sec, "variants-condition-k2", "(11)", c, U(Mul, beta, Lx),
                      c - beta * binary_gradient_gap("k2", False), positive=(1 - x, 1 - p)),
            condition(sec, "variants-condition-k3", "(17)", c,
                      frac(U(Mul, beta, U(Add, x, -p)), U(Mul, x, U(Add, 1, -x))),
                      c - beta * binary_gradient_gap("k3", False))]
    sec.step("", " \\\\ ".join(rows), "variants-binary-conditions")
    sec.step("the first also for $k_1$ and $k_3$ with the weight, and for $k_1$ without it "
             "$g_a - g_b = 0$.  The gap $c$ comes from the advantages of every group "
             "(a binomial sum over the number of $a$ among the other $G - 1$ members).  With "
             "rewards $1$ and $0$ it does not depend on $x$ at finite $G$; at $G = 2$")
    gaps = [("variants-gap-sample", "s", frac(1, sqrt(2, evaluate=False)),
             binary_preference_gap("shift-scale", "sample", 0, 2)),
            ("variants-gap-eps", "\\sigma + \\epsilon", frac(1, U(Add, 1, U(Mul, 2, eps))),
             binary_preference_gap("shift-scale", "population", eps, 2)),
            ("variants-gap-shift", "\\text{shift-only}", Rational(1, 2),
             binary_preference_gap("shift-only", "population", 0, 2))]
    sec.step("", " \\\\ ".join(value(sec, key, "(2)", f"c_{{{lab}}}", form, derived)
                               for key, lab, form, derived in gaps), "variants-gaps")
    sec.step("against $c = \\gamma = 1$ for the population std (Eq. (14)) and for no "
             "normalisation.  In general the sample std multiplies every advantage by exactly "
             "$\\sqrt{(G-1)/G}$ where the std is nonzero, so it acts as the larger "
             "$\\beta\\sqrt{G/(G-1)}$; shift-only gives $P_G(o \\mid \\pi) = (1 - 1/G)(r(o) - "
             "\\mathbb{E}_\\pi r)$ and no normalisation $P_G(o \\mid \\pi) = r(o)$, so with a "
             "$\\mathrm{KL}(\\pi \\,\\|\\, \\pi_{\\mathrm{ref}})$ penalty these are RLHF "
             "(Eqs. (3)-(4)) with $\\beta$ scaled by $G/(G-1)$ or not at all.  The epsilon has no "
             "exact relation: at $G = 4$ the groups' std is $\\sqrt3/4$ or $1/2$, and "
             "$P_4^{\\epsilon}/P_4$ changes with $\\pi(a)$; $P_G^{\\epsilon} \\to P_G$ as "
             "$\\epsilon \\to 0$.  As $G \\to \\infty$ the gap is $1/(\\sigma(\\pi) + \\epsilon)$ "
             "with $\\sigma(\\pi) = \\sqrt{x(1-x)}$ for any std, and $1$ without a scale.")
    sec.step("Solving $c = \\beta (g_a - g_b)$ with SymPy gives the logistic pooling, for example",
             value(sec, "variants-logistic", "(3)", "x",
                   frac(U(Mul, p, exp(frac(c, beta), evaluate=False)),
                        U(Add, U(Mul, p, exp(frac(c, beta), evaluate=False)), 1, -p)),
                   solve_condition(C_GAP - beta * binary_gradient_gap("k2", False))[0]),
             "variants-logistic")
    sec.step("and for $k_3$ the quadratic root of Eq. (14) with $\\gamma$ replaced by $c$.  "
             "For the weighted $k_2$ SymPy finds no closed form, and the bracketed roots show "
             "three stationary points (the potential $M_2$ is not convex); at $G \\to \\infty$ "
             "only $k_3$ (Eq. (15)) and the gaps free of $x$ have closed forms.  Every closed "
             "form is checked against a bracketed root of the unsquared condition at 50 digits, "
             "and every root against the gradient of $J$ enumerated over every ordered group "
             "at $G = 2, 3$.")
    sec.step("With the KL in the reward, $r_i \\leftarrow r_i - \\beta \\log(\\pi(o_i)/"
             "\\pi_{\\mathrm{ref}}(o_i))$ before the normalisation and no penalty term, "
             "$J(\\cdot\\,; \\pi)$ is linear in the trial policy and its gradient is the gap of "
             "the modified rewards' preferences.  With deterministic rewards that gap has the "
             "sign of $r'(a) - r'(b)$ for every normalisation, so the one interior stationary "
             "point is $r'(a) = r'(b)$:",
             value(sec, "variants-kl-reward", "(3)-(4)", "x",
                   frac(U(Mul, p, exp(frac(1, beta), evaluate=False)),
                        U(Add, U(Mul, p, exp(frac(1, beta), evaluate=False)), 1, -p)),
                   kr.policy), "variants-kl-reward")
    sec.step("RLHF's logarithmic pooling (Eqs. (3)-(4)), at every $G$.  With a std in the scale "
             "the gradient jumps there (its sign flips, its size does not vanish): the iteration "
             "is pulled to the point from both sides rather than settling smoothly.")
    if bern:
        pa, pb = SUCCESS
        g3 = [r for r, k in bern[("shift-scale", 3)] if k == "zero"]
        text = (f"With Bernoulli rewards (success probabilities ${pa}$ and ${pb}$, "
                f"$\\beta = {BETA}$, $p = {P_REF}$) the estimate makes each reward random and the "
                "scale-normalised field is no longer a sign.  Without a scale the field stays "
                "linear in the rewards and the rest point is RLHF with the mean rewards.  With "
                "the population std at $G = 2$ the advantage is the sign of "
                "$r'_1 - r'_2$, the field is piecewise constant in "
                "$d = \\beta(\\log\\frac{x}{p} - \\log\\frac{1-x}{1-p})$, and because "
                "$P(r_a = r_b) > p_a - p_b$ it changes sign only by a jump at $d = 0$: the "
                "iteration is held at $\\pi = \\pi_{\\mathrm{ref}}$ for any success "
                "probabilities with $P(r_a = r_b) > p_a - p_b$.")
        if g3:
            text += (f"  At $G = 3$ the field has a zero, at $\\pi(a) = {cell_number(g3[0], 6)}$ "
                     "(enumeration).")
        sec.step(text)
    sec.step("Tables [[tab:variants]] ($G = 2$) and [[tab:variants-limit]] ($G \\to \\infty$) "
             "collect the matrix at the stated $(\\beta, p)$.")
    sec.remarks.append("The sequence-level model leaves out what trainers do per token: the "
                       "KL estimate is summed or averaged over the tokens of $o_i$ (the sum of "
                       "per-token $k_1$ is the sequence $k_1$; for $k_2$ and $k_3$ it is not), "
                       "and the loss is normalised by the length of $o_i$.  The presets of "
                       "derive.model name the trainer versions they describe.")
    return sec
