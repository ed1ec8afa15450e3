"""The section and the checks of the reward preference model, arXiv:2502.18548v3, Section 2.1, Eqs. (5)-(6).

Its derivation, :mod:`derive.paper.preference`, is checked here against the
claims and an independent path.
"""

from sympy import (
    Add,
    Mul,
    Symbol,
    cancel,
    expand,
    sqrt,
)

from derive.numerics.context import mpf_exact
from derive.numerics.precision import CHECK_DIGITS, CHECK_SEED
from derive.paper import claims
from derive.paper import symbols as S
from derive.paper.latex import equation, latex
from derive.paper.preference import (
    BINOMIAL,
    ENUMERATED,
    RHO,
    VALUES,
    PreferenceModel,
    binary_coefficients,
    binomial_sums,
    claimed_binomial,
    derived_preference_limit,
    expectation_identity_general,
    limit_coefficients,
    mixture,
)
from derive.verify.checks import ENUMERATION, Section, numeric_check, random_points, symbolic_check
from derive.verify.display import U, frac, value


def checks(digits=CHECK_DIGITS):
    import mpmath

    from derive.verify import enumeration

    out = []
    (a1, c1, a0, c0), _ = binary_coefficients()
    out.append(symbolic_check(
        "preference-binomial-coefficients", "(6)",
        "0/1 rewards, any G: advantage of a 1 among k ones is sqrt((G-1-k)/(k+1)), of a 0 among "
        "k ones is -sqrt(k/(G-k)) (derived from the population variance; cancel)",
        cancel(a1 - c1) + cancel(a0 - c0)))
    for G in BINOMIAL:
        U, L = binomial_sums(G)
        cU, cL = claimed_binomial(G)
        out.append(symbolic_check(
            f"preference-binomial-G{G}", "(6)",
            f"G={G}: the composition sum for 0/1 rewards is the binomial sum with G terms (expand)",
            expand(U - cU) + expand(L - cL)))
    q0, q1 = Symbol("q_0", positive=True), Symbol("q_1", positive=True)
    qs = (q0, q1, 1 - q0 - q1)
    for G in ENUMERATED:
        model = PreferenceModel(G, VALUES)
        total = expand(sum(qs[j] * model.phi(j, qs) for j in range(3)))
        out.append(symbolic_check(
            f"preference-expectation-G{G}", "(6)",
            f"G={G}, three reward values: E_(o~pi) P_G(o|pi) = sum_j q_j Phi_j(q) = 0 for every q "
            "(expand)", total))
    out.append(symbolic_check(
        "preference-expectation-any-G", "(6)",
        "0/1 rewards, any G: q U(q) = (1-q) L(q) because C(G-1,j-1)/C(G-1,j) = j/(G-j) "
        "(combsimp), so E_(o~pi) P_G(o|pi) = 0", expectation_identity_general()))
    # G = 2: the pairwise-comparison form (5)/(12), for symbolic noisy rewards.
    r0, r1 = Symbol("rho_0", positive=True), Symbol("rho_1", positive=True)
    rho = (r0, r1, 1 - r0 - r1)
    model = PreferenceModel(2, VALUES)
    win = sum(rho[j] * qs[l] for j in range(3) for l in range(3) if VALUES[j] > VALUES[l])
    lose = sum(rho[j] * qs[l] for j in range(3) for l in range(3) if VALUES[j] < VALUES[l])
    out.append(symbolic_check(
        "preference-pairwise-G2", "(5)",
        "G=2, noisy rewards on three values: P_2(o|pi) = P(r(o) > r') - P(r(o) < r') with "
        "r' the reward of a draw from pi (expand)",
        expand(model.preference(rho, qs) - claims.preference_two(win, lose))))
    one, zero, t = limit_coefficients()
    s, a, b = (Symbol(n, positive=True) for n in "sab")
    qq = a / (a + b)                     # 0 < q < 1 without assumptions on 1 - q
    limit_form = s * one.subs(t, qq) - (1 - s) * zero.subs(t, qq)
    claim = claims.preference_limit(s, qq, sqrt(qq * (1 - qq)))
    out.append(symbolic_check(
        "preference-limit-bernoulli", "(13)",
        "G -> infinity, Bernoulli(s) rewards: the limit of the binomial coefficients at k = qG gives "
        "(s - q)/sqrt(q(1-q)), i.e. (r(o) - E r)/sigma with sigma^2 = q(1-q) including the noise "
        "(limit, q = a/(a+b), cancel)",
        cancel(limit_form - claim)))
    # Independent path: enumeration of every group and reward outcome.
    pts = random_points(3, ["a", "b"], seed=CHECK_SEED + 6, low=0.1, high=0.45)
    for G in ENUMERATED:
        model = PreferenceModel(G, VALUES)
        errs, sums = [], []
        with mpmath.workdps(digits + 15):
            for pt in pts[: 4 - G // 2]:
                pi = (mpf_exact(pt["a"]), mpf_exact(pt["b"]))
                pi = pi + (1 - pi[0] - pi[1],)
                qv = mixture(pi, [[mpf_exact(w) for w in row] for row in RHO])
                phis = [model.phi_numeric(j, qv) for j in range(3)]
                formula = [mpmath.fsum(mpf_exact(w) * phis[j] for j, w in enumerate(RHO[o]))
                           for o in range(3)]
                enum = [enumeration.preference(o, pi, RHO, VALUES, G) for o in range(3)]
                errs += [abs(formula[o] - enum[o]) for o in range(3)]
                sums.append(mpmath.fsum(pi[o] * enum[o] for o in range(3)))
        out.append(numeric_check(
            f"preference-enumeration-G{G}", "(6)",
            f"G={G}, three outputs with noisy rewards on three values: the composition sum equals "
            "exhaustive enumeration of all groups and reward outcomes at 3 seeded policies",
            errs, digits, method=ENUMERATION))
        out.append(numeric_check(
            f"preference-expectation-enumeration-G{G}", "(6)",
            f"G={G}: E_(o~pi) P_G(o|pi) = 0 by exhaustive enumeration at 3 seeded policies",
            sums, digits, method=ENUMERATION))
    return out


def section():
    sec = Section("preference", "The reward preference model", "(5)--(6)",
                  "The preference of an output against a policy is its expected advantage in a "
                  "group whose other members are drawn from that policy.")
    sec.step("The engine encodes the preference of output $o$ against the policy $\\pi$ as",
             equation("P_G(o \\mid \\pi)",
                      "\\mathbb{E}\\bigl[A_1 \\bigm| o_1 = o,\\; o_2, \\dots, o_G \\sim \\pi\\bigr]"),
             "preference")
    sec.step("It depends on $\\pi$ only through the law $q$ of the reward of one draw from $\\pi$, "
             "reward noise included.  For rewards on the values $v_0 < \\dots < v_{m-1}$ it is a "
             "finite sum over the compositions $n = (n_0, \\dots, n_{m-1})$ of $G - 1$:",
             equation("P_G(o \\mid \\pi)", "\\sum_{j} \\rho_o(v_j)\\, \\Phi_j(q)") + " \\\\ "
             + equation("\\Phi_j(q)", "\\sum_{n} \\binom{G-1}{n_0, \\dots, "
                        "n_{m-1}} \\prod_k q_k^{n_k}\\, A(v_j; n)"),
             "preference-compositions")
    (a1, c1, a0, c0), (u, w, k_one, k_zero) = binary_coefficients()
    sec.step("For $0/1$ rewards, the population variance of a group with $k + 1$ ones among $G$ "
             "members gives the advantage of a one; with $u = G - 1 - k$,",
             value(sec, "preference-binomial-one", "(2)", "A(1; k)",
                   sqrt(frac(u, U(Add, k_one, 1)), evaluate=False), a1) + " \\\\ "
             + value(sec, "preference-binomial-zero", "(2)", "A(0; k)",
                     -sqrt(frac(k_zero, w), evaluate=False), a0) + " \\quad (w = G - k)",
             "preference-binomial-coefficients")
    qs = S.q
    U2, L2 = binomial_sums(2)
    U3, L3 = binomial_sums(3)
    sec.step("so the composition sum is a binomial sum with $G$ terms, $U(q)$ for a one and "
             "$-L(q)$ for a zero.  For $G = 2$ and $G = 3$ SymPy reduces them to",
             " \\\\ ".join(value(sec, f"preference-{name}-G{g}", "(6)",
                                 f"{name}(q)\\big|_{{G={g}}}", form, e)
                           for g, name, form, e in (
                               (2, "U", U(Add, 1, -qs), U2), (2, "L", qs, L2),
                               (3, "U", U(Mul, sqrt(2), U(Add, 1, -qs)), U3),
                               (3, "L", U(Mul, sqrt(2), qs), L3))),
             "preference-small-groups")
    sec.step("Because the advantages of a group sum to zero, the preference has mean zero "
             "under the policy it is measured against; for $0/1$ rewards and any $G$ this is the "
             "reindexing $q\\, U(q) = (1 - q)\\, L(q)$:",
             equation("\\mathbb{E}_{o \\sim \\pi} P_G(o \\mid \\pi)", "0."),
             "preference-mean-zero")
    sec.step("For $G = 2$ the advantage is a sign, and the preference is a pairwise comparison "
             "as in (5):",
             equation("P_2(o \\mid \\pi)", "\\mathbb{E}_{o' \\sim \\pi}\\bigl[P(r(o) > r(o')) "
                      "- P(r(o) < r(o'))\\bigr]."), "preference-pairwise")
    one, zero, t = limit_coefficients()
    sec.step("As $G$ grows the binomial weights concentrate at $k = tG$ with $t = q$, and the "
             "coefficients tend to",
             value(sec, "preference-limit-one", "(13)", "\\sqrt{\\tfrac{G-1-tG}{tG+1}}",
                   sqrt(frac(U(Add, 1, -t), t), evaluate=False), one) + " \\\\ "
             + value(sec, "preference-limit-zero", "(13)", "\\sqrt{\\tfrac{tG}{G - tG}}",
                     sqrt(frac(t, U(Add, 1, -t)), evaluate=False), zero),
             "preference-limit-coefficients")
    sec.step("so that, with $\\mu$ and $\\sigma$ the mean and standard deviation of the reward of "
             "one draw from $\\pi$ (noise included),",
             equation("P_\\infty(o \\mid \\pi)",
                      latex(derived_preference_limit(Symbol("r_o", real=True))) + "."),
             "preference-limit")
    return sec
