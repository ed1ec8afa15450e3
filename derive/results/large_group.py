"""The section and the checks of the large-group limit derived, with its first 1/G correction (arXiv:2502.18548v3, Eq. (13)).

Its derivation, :mod:`derive.paper.large_group`, is checked here against the
claims and an independent path.
"""

import mpmath
from sympy import (
    Add,
    Mul,
    Pow,
    cancel,
    expand,
    sqrt,
)

from derive.numerics.context import mpf_exact
from derive.numerics.precision import CHECK_DIGITS
from derive.paper import claims
from derive.paper.large_group import (
    C_CASES,
    C_GROUPS,
    C_POINTS,
    CORRECTION_DISPLAY,
    D_LAWS,
    GroupStdIdentity,
    beta,
    binary_correction,
    binary_correction_display,
    correction_display_residue,
    expected_group_std,
    extrapolated_correction,
    p,
    richardson,
    x,
)
from derive.paper.latex import equation, latex
from derive.paper.limit import LargeGroup, derived_large_group, mu, mu3, mu4, sigma, v
from derive.verify.checks import ENUMERATION, Section, inequality_check, numeric_check, symbolic_check
from derive.verify.display import U, frac, value


def extrapolated_policy_correction(problem_at, policy_inf, digits=40, groups=C_GROUPS):
    """``lim G (pi_G - pi_inf)`` by Richardson extrapolation over *groups*: ``pi_G`` is the
    exact finite-G interior root (general solver) nearest to *policy_inf*."""
    from derive.solve.solver import stationary_policies

    ys = []
    with mpmath.workdps(digits + 10):
        for G in groups:
            sols = [s for s in stationary_policies(problem_at(G), digits + 10, certify=False)
                    if s.kind == "interior"]
            best = min(sols, key=lambda s: max(abs(a - b) for a, b in zip(s.policy, policy_inf)))
            ys.append([G * (a - b) for a, b in zip(best.policy, policy_inf)])
        hs = [mpmath.mpf(1) / G for G in groups]
        return [richardson(hs, [y[o] for y in ys]) for o in range(len(policy_inf))]


def _interior_inf(problem, digits):
    from derive.solve.solver import stationary_policies

    return [s for s in stationary_policies(problem, digits, certify=False)
            if s.kind == "interior"]


def _problem(case, group):
    from fractions import Fraction

    from derive.solve.solver import Problem

    ref, rew, kind, bt, norm = case[:5]
    penalty = case[5] if len(case) > 5 else "k3"
    ref = tuple(Fraction(r) for r in ref)
    rew = tuple(Fraction(r) for r in rew)
    make = Problem.bernoulli if kind == "bernoulli" else Problem.deterministic
    return make(ref, rew, Fraction(bt), group, penalty=penalty, normalisation=norm)


def checks(digits=CHECK_DIGITS):
    from sympy import lambdify

    from derive.solve.correction import finite_group_correction
    from derive.solve.correction import preference_correction as d_numeric

    lg = derived_large_group()
    out = [symbolic_check(
        "large-group-advantage-moments", "(2)",
        "G=2..6: the encoded advantage A_1 equals (v - m)/sqrt(M - m^2) with m the group mean "
        "and M the group second moment (radicands expanded, cancel)",
        sum(abs(lg.advantage_residue(G)) for G in range(2, 7)))]
    out.append(symbolic_check(
        "large-group-higher-orders", "(13)",
        "the third- and fourth-order Taylor terms of the delta method, with the exact third and "
        "fourth moments of the i.i.d. sums (generic joint moments of (r, r^2)), vanish at "
        "orders 1 and 1/G (series in h = 1/G, simplify)", lg.higher_order_residue()))
    out.append(symbolic_check(
        "large-group-limit", "(13)",
        "G -> infinity: the h^0 term of the delta-method expansion of E[A_1 | r_1 = v] is the "
        "printed P_inf = (v - mu)/sigma (cancel)",
        cancel(lg.limit - claims.preference_limit(v, mu, sigma))))
    out.append(symbolic_check(
        "large-group-correction", "(13)",
        "the 1/G term of E[A_1 | r_1 = v] is d = mu_3/(2 sigma^3) + (3/8)(mu_4/sigma^4 - 1) z "
        "- z^3/2 with z = (v - mu)/sigma, as displayed (expand)", correction_display_residue()))
    out.append(symbolic_check(
        "large-group-correction-mean-zero", "(6)",
        "the 1/G term d_j has mean zero under q (E z = 0, E z^2 = 1, E z^3 = skew; expand), as "
        "E_pi P_G = 0 at every G requires", lg.mean_zero_residue()))
    # the numeric d_j of derive.solve.correction is the derived one
    f_d = lambdify((v, mu, sigma, mu3, mu4), lg.correction, "mpmath")
    errs = []
    with mpmath.workdps(digits + 15):
        for vals, q in (((0, 1), ("7/10", "3/10")), ((0, "1/2", 1), ("1/5", "3/10", "1/2")),
                        ((-1, 0, 2, 5), ("1/10", "2/5", "3/10", "1/5"))):
            from fractions import Fraction

            vals = tuple(Fraction(a) for a in vals)
            qf = tuple(Fraction(a) for a in q)
            qm = [mpf_exact(a) for a in q]
            mean = mpmath.fsum(a * mpf_exact(b) for a, b in zip(qm, vals))
            cm = [mpmath.fsum(a * (mpf_exact(b) - mean) ** k for a, b in zip(qm, vals)) for k in (2, 3, 4)]
            num = d_numeric(vals, qf)
            errs += [f_d(mpf_exact(b), mean, mpmath.sqrt(cm[0]), cm[1], cm[2]) - num[j]
                     for j, b in enumerate(vals)]
    out.append(numeric_check(
        "large-group-correction-numeric-path", "(13)",
        "the d_j that the stationary solver uses (derive.solve.correction) equals the derived "
        "expression at three laws (2, 3 and 4 values), 50 digits", errs, digits))
    for t_text in D_LAWS:
        ext, der = extrapolated_correction(t_text, 40)
        out.append(numeric_check(
            f"large-group-correction-richardson-{t_text.replace('/', '-')}", "(13)",
            f"0/1 rewards, P(r = 1) = {t_text}: G (Phi_j(G) - Phi_j(inf)) from the exact binomial "
            f"sums at G = 1000, 1500, ..., 10000, Richardson-extrapolated to G = infinity, equals "
            "the derived d_j for both values, 40 digits",
            [a - b for a, b in zip(ext, der)], 40, method=ENUMERATION))
    bc = binary_correction()
    out.append(symbolic_check(
        "large-group-binary-mean-zero", "(6)",
        "binary, deterministic rewards: E_pi P_G = 0 at orders 1 and 1/G of the derived "
        "expansion (radsimp, cancel)", sum(abs(e) for e in bc.mean_preference)))
    out.append(symbolic_check(
        "large-group-binary-d1", "(13)",
        "binary, deterministic rewards: d_1(x) = -1/(8 x sqrt(x(1-x))), so "
        "U_G(x) = sqrt((1-x)/x) - 1/(8 G x sqrt(x(1-x))) + O(1/G^2) (in the odds "
        "w = sqrt(x/(1-x)), cancel)", bc.preference_one_residue()))
    out.append(symbolic_check(
        "large-group-binary-correction-of-x", "(19)",
        "binary, deterministic rewards: the implicit function theorem on beta (x - p) = "
        "x U_G(x) gives c = -1/(4 (2 beta sqrt(x(1-x)) + 2x - 1)), and, with "
        "sqrt(x(1-x)) = beta (x - p) at the root, c = (x - p)/(4 (2 p x - p - x)) (cancel)",
        bc.correction_of_x_residue + bc.on_root_residue))
    out.append(symbolic_check(
        "large-group-binary-correction", "(15)",
        "binary, deterministic rewards: x_G = x_inf + c/G + O(1/G^2) with "
        "c = -1/(4 sqrt(1 + 4 beta^2 p (1-p))), from the implicit function theorem on the "
        "derived condition at (15) (radsimp, cancel)", bc.closed_form_residue()))
    f_c = lambdify((p, beta), bc.correction, "mpmath")
    errs = []
    for pt, bt in C_POINTS:
        from fractions import Fraction

        from derive.solve.solver import Problem

        ref = (Fraction(pt), 1 - Fraction(pt))
        def make(G, ref=ref, bt=bt):
            return Problem.deterministic(ref, (1, 0), Fraction(bt), G)

        with mpmath.workdps(50):
            (s,) = _interior_inf(make(None), 50)
            ext = extrapolated_policy_correction(make, s.policy)
            errs.append(ext[0] - f_c(mpf_exact(pt), mpf_exact(bt)))
    out.append(numeric_check(
        "large-group-binary-correction-richardson", "(15)",
        "binary, deterministic rewards, (p, beta) = (3/10, 1/2), (1/10, 2), (7/10, 1): "
        "G (x_G - x_inf) from exact finite-G roots (general solver) at G = 400, 800, ..., 12800, "
        "Richardson-extrapolated, equals the closed-form c (tolerance 1e-10, wider than the "
        "working precision: the extrapolation error, which falls about 100-fold per added "
        "node, is the limit)", errs, 40, tolerance=mpmath.mpf(10) ** -10))
    errs = []
    for case in C_CASES:
        with mpmath.workdps(50):
            (s,) = _interior_inf(_problem(case, None), 50)
            c = finite_group_correction(_problem(case, None), s.policy)
            ext = extrapolated_policy_correction(lambda G, case=case: _problem(case, G),
                                                 s.policy)
            errs += [a - b for a, b in zip(ext, c)]
    out.append(numeric_check(
        "large-group-correction-any-K", "Sec. 2.3",
        "K = 2 and 3, Bernoulli rewards, shift-scale and shift-only, k3 and k3-is: c from the "
        "implicit function theorem (derive.solve.correction) equals Richardson extrapolation of "
        "G (pi_G - pi_inf) over exact finite-G roots at G = 400, ..., 12800 (tolerance 1e-10, "
        "as for the binary closed form)", errs, 40, tolerance=mpmath.mpf(10) ** -10))
    out.extend(identity_checks(digits))
    return out


def identity_checks(digits=CHECK_DIGITS):
    from fractions import Fraction

    from derive.solve.solver import Problem, stationary_policies
    from derive.verify import enumeration

    ident = GroupStdIdentity()
    out = [symbolic_check(
        "group-std-identity-group", "(2)",
        "G=2..6: sum_i r_i A_i = G sigma_hat for every group, sigma_hat the population std "
        "(radicands expanded, cancel)",
        sum(abs(ident.group_residue(G)) for G in range(2, 7))),
        symbolic_check(
        "group-std-identity-summed", "(11)",
        "three outputs: summing the derived (11) against r gives beta (E_pi r - E_ref r) = "
        "sum_o pi(o) r(o) P_G(o|pi) - E_pi P_G E_pi r (expand)",
        ident.summed_condition_residue())]
    out.append(symbolic_check(
        "group-std-identity-other-normalisations", "Sec. 3",
        "G=2..6: sum_i r_i A_i = G sigma_hat^2 with shift-only advantages and "
        "sqrt(G(G-1)) sigma_hat with the sample std, so at a k3 stationary point "
        "beta (E_pi r - E_ref r) = (1 - 1/G) Var_pi(r) (shift-only) and "
        "sqrt((G-1)/G) E[sigma_hat_G] (sample std) (expand; radicands expanded, cancel)",
        sum(abs(e) for G in range(2, 7) for e in ident.normalisation_residues(G))))
    out.append(symbolic_check(
        "group-std-identity-binary", "(17), (19)",
        "0/1 rewards, G=2..6: x U_G(x) = E[sigma_hat_G(x)], so the finite-G condition is "
        "beta (x - p) = E[sigma_hat_G(x)] (expand)",
        sum(abs(ident.binary_residue(G)) for G in range(2, 7))))
    out.append(symbolic_check(
        "group-std-identity-special-cases", "(17)",
        "E[sigma_hat_2] = x(1-x) (Eq. (17), gamma = 1) and E[sigma_hat_3] = sqrt(2) x(1-x) "
        "(the G = 3 result) (expand)",
        expand(ident.expected_std_binary(2) - x * (1 - x))
        + expand(ident.expected_std_binary(3) - sqrt(2) * x * (1 - x))))
    lead, second = ident.limit_of_expected_std()
    bc = binary_correction()
    out.append(symbolic_check(
        "group-std-identity-limit", "(19)",
        "G -> infinity: E[sigma_hat_G] -> sqrt(x(1-x)), Eq. (19); its 1/G term by the delta "
        "method on sqrt(t(1-t)) equals x d_1(x) from the preference expansion (radsimp)",
        cancel(second.subs(x, bc.x_of_w) - bc.x_of_w * bc.preference_one)
        + (0 if lead == sqrt(x * (1 - x)) else 1)))
    # enumeration: every group at a stationary policy, three outputs
    rewards = (Fraction(1), Fraction(1, 2), Fraction(0))
    ref = (Fraction(1, 5), Fraction(3, 10), Fraction(1, 2))
    values, rho = (Fraction(0), Fraction(1, 2), Fraction(1)), ((0, 0, 1), (0, 1, 0), (1, 0, 0))
    errs, errs_any, gaps, errs_shift = [], [], [], []
    with mpmath.workdps(digits + 15):
        for G, bt in ((2, "1/2"), (3, "1/4"), (4, "1")):
            prob = Problem.deterministic(ref, rewards, Fraction(bt), G, normalisation="shift-only")
            (s,) = [s for s in stationary_policies(prob, digits, certify=False)
                    if s.kind == "interior"]
            lhs = mpf_exact(bt) * mpmath.fsum((a - mpf_exact(b)) * mpf_exact(r)
                                        for a, b, r in zip(s.policy, ref, rewards))
            errs_shift.append(lhs - expected_group_std(s.policy, rewards, G, power=2))
            for pen in ("k3", "k3-is"):
                prob = Problem.deterministic(ref, rewards, Fraction(bt), G, penalty=pen)
                (s,) = [s for s in stationary_policies(prob, digits, certify=False)
                        if s.kind == "interior"]
                lhs = mpf_exact(bt) * mpmath.fsum((a - mpf_exact(b)) * mpf_exact(r)
                                            for a, b, r in zip(s.policy, ref, rewards))
                std = expected_group_std(s.policy, rewards, G)
                (errs if pen == "k3" else gaps).append(lhs - std)
            pi = [mpmath.mpf(3) / 10, mpmath.mpf(1) / 10, mpmath.mpf(6) / 10]
            pref = [enumeration.preference(o, pi, rho, values, G) for o in range(3)]
            errs_any.append(mpmath.fsum(a * mpf_exact(r) * b for a, r, b in zip(pi, rewards, pref))
                            - expected_group_std(pi, rewards, G))
    out.append(numeric_check(
        "group-std-identity-any-policy-enumeration", "(6)",
        "three outputs, rewards 1, 1/2, 0, G = 2, 3, 4: sum_o pi(o) r(o) P_G(o|pi) equals "
        "E[sigma_hat_G] over every group (both by exhaustive enumeration)", errs_any, digits,
        method=ENUMERATION))
    out.append(numeric_check(
        "group-std-identity-enumeration", "(11)",
        "three outputs, rewards 1, 1/2, 0, k3 penalty, G = 2, 3, 4: at the stationary policy "
        "(general solver) beta (E_pi r - E_ref r) equals E[sigma_hat_G] by exhaustive enumeration "
        "of every group", errs, digits, method=ENUMERATION))
    out.append(numeric_check(
        "group-std-identity-shift-only-enumeration", "Sec. 3",
        "three outputs, rewards 1, 1/2, 0, k3 penalty, shift-only advantages, G = 2, 3, 4: at the "
        "stationary policy beta (E_pi r - E_ref r) equals E[sigma_hat_G^2] by exhaustive "
        "enumeration of every group", errs_shift, digits, method=ENUMERATION))
    out.append(inequality_check(
        "group-std-identity-not-k3-is", "Sec. 3",
        "with the importance-weighted k3 penalty (KL(pi || pi_ref)) the identity fails: "
        "|beta (E_pi r - E_ref r) - E[sigma_hat_G]| > 0 at the same three problems",
        [abs(g) for g in gaps], digits, method=ENUMERATION))
    return out


def section():
    lg = derived_large_group()
    bc = binary_correction()
    sec = Section("large-group", "The large-group limit, derived, and its first correction",
                  "(13), (15), (17), (19)",
                  "The preference (13) as the limit of the encoded preference, its $1/G$ "
                  "correction, the $1/G$ correction of the stationary policy, and the identity "
                  "behind the binary results.")
    sec.step("With $m$ and $M$ the mean and second moment of a group's rewards, the advantage "
             "(2) of its first member, with reward $v$, is",
             equation("A_1", latex(LargeGroup.advantage_of_moments)) + r" \\ "
             + equation("m", r"\frac{v + S_1}{G}, \quad M = \frac{v^2 + S_2}{G},"),
             "large-group-moments")
    sec.step("where $S_1$ and $S_2$ are the sums of the other $G - 1$ rewards and of their "
             "squares, drawn independently from the law $q$ of one draw's reward with mean $\\mu$, standard "
             "deviation $\\sigma$ and central moments $\\mu_3$, $\\mu_4$.  The delta method "
             "(the function at the means of $m$ and $M$, plus half its Hessian contracted with "
             "their covariance, $(G-1)/G^2$ times that of $(r, r^2)$) gives, with $h = 1/G$,",
             equation(r"\mathbb{E}[A_1 \mid r_1 = v]",
                      latex(lg.limit) + " + h \\, d(v) + O(h^2)"), "large-group-expansion")
    sec.step("The leading term is Eq. (13).  The correction is, with $z = (v - \\mu)/\\sigma$, "
             "skewness $\\mu_3/\\sigma^3$ and kurtosis $\\mu_4/\\sigma^4$,",
             equation("d(v)", CORRECTION_DISPLAY), "large-group-correction")
    sec.step("and has mean zero under $q$, as it must.  Third- and fourth-order Taylor terms "
             "carry moments of order $(G-1)/G^3$ and $(G-1)^2/G^4$; SymPy confirms that they "
             "vanish at orders $1$ and $h$ for any joint moments of $(r, r^2)$.  Ties, where the "
             "advantage is $0/0$, have exponentially small probability when $\\sigma > 0$.  For "
             "$0/1$ rewards the exact binomial sums at $G = 1000, 1500, \\dots, 10000$, "
             "extrapolated by Richardson's method, agree with $d$ to 40 digits.  For a binary "
             "question with $r(a) = 1 > r(b) = 0$ and $x = \\pi(a)$,",
             equation("U_G(x)", latex(sqrt(1 - x) / sqrt(x))
                      + " - \\frac{1}{8 G x \\sqrt{x (1 - x)}} + O(G^{-2}),"),
             "large-group-binary")
    sec.step("and the implicit function theorem on the condition $\\beta(x - p) = x U_G(x)$ "
             "at Eq. (15) gives the first correction of the stationary policy,",
             equation("x_G", "x_\\infty + \\frac{c}{G} + O(G^{-2})") + r" \\ "
             + value(sec, "large-group-policy-correction", "(15)", "c",
                     -frac(1, U(Mul, 4, sqrt(U(Add, 1, U(Mul, 4, U(Pow, beta, 2), p, U(Add, 1, -p))),
                                             evaluate=False))),
                     binary_correction_display()),
             "large-group-policy-correction")
    sec.step("For $K$ answers and any reward distributions $c = -J^{-1} \\partial_h H$, with "
             "$J$ the Jacobian of the $G = \\infty$ stationarity system in reduced coordinates "
             "and $\\partial_h H$ its derivative in $h$ through $d$.  The JSON output of the "
             "stationary command at $G = \\infty$ carries it as the field "
             "finite_group_correction; it is checked against extrapolated exact finite-$G$ roots.  "
             "With shift-only normalisation $P_G = (1 - 1/G)(r(o) - \\mathbb{E}_\\pi r)$ exactly, "
             "so $d = -(r(o) - \\mathbb{E}_\\pi r)$.")
    sec.step("For deterministic rewards and GRPO's k3 penalty, (11) reads "
             "$\\beta(\\pi(o) - \\pi_{\\mathrm{ref}}(o)) = \\pi(o) P_G(o \\mid \\pi)$; summing it "
             "against $r$, using exchangeability and $\\sum_i r_i A_i = G \\hat\\sigma_G$ for "
             "every group (population standard deviation $\\hat\\sigma_G$), gives at every $G$",
             equation("\\beta\\,(\\mathbb{E}_\\pi r - \\mathbb{E}_{\\pi_{\\mathrm{ref}}} r)",
                      "\\mathbb{E}\\bigl[\\hat\\sigma_G\\bigr],"), "large-group-identity")
    sec.step("the expected standard deviation of a group's rewards drawn from $\\pi$.  For a "
             "binary question it is $\\beta (x - p) = \\mathbb{E}[\\hat\\sigma_G(x)]$: at $G = 2$ "
             "$\\mathbb{E}\\hat\\sigma_2 = x(1-x)$ (Eq. (17) with $\\gamma = 1$), at $G = 3$ "
             "$\\sqrt{2}\\, x (1 - x)$, and as $G \\to \\infty$ $\\sqrt{x(1-x)}$ (Eq. (19)).  The "
             "identity needs the k3 penalty without importance weight and deterministic "
             "rewards; with the importance-weighted penalty it fails, as the checks show.  "
             "Other normalisations change its right-hand side: shift-only advantages give "
             "$(1 - 1/G)\\operatorname{Var}_\\pi(r)$, and the sample standard deviation gives "
             "$\\sqrt{(G-1)/G}\\, \\mathbb{E}[\\hat\\sigma_G]$.")
    del bc
    return sec
