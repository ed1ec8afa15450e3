"""The section and the checks of baselines beside GRPO, arXiv:2502.18548v3, Eqs. (3)-(5).

Its derivation, :mod:`derive.paper.baselines`, is checked here against the
claims and an independent path.
"""

import mpmath
from sympy import Add, Mul, cancel, exp, expand

from derive.numerics.precision import CHECK_DIGITS
from derive.paper import symbols as S
from derive.paper.baselines import (
    NLHF,
    NLHF_GRID,
    RLHF,
    beta,
    gamma,
    nlhf_best_response_binary,
    nlhf_binary,
    nlhf_binary_derivation,
    nlhf_payoff_gradient,
    p,
    rank_preference,
    rlhf_policy_binary,
)
from derive.paper.extensions import direct_kl_policy_two
from derive.paper.latex import equation, latex
from derive.verify.checks import Section, inequality_check, numeric_check, symbolic_check
from derive.verify.display import U, frac, value


def checks():
    rl = RLHF().derive()
    out = [symbolic_check("rlhf-pooling", "(4)",
                          "maximising E_pi r - beta KL(pi || pi_ref) on the simplex gives "
                          "pi(o) = pi_ref(o) exp(r(o)/beta)/Z (powsimp, cancel)",
                          sum(map(abs, rl.residue())))]
    nl = NLHF("abc").derive()
    out.append(symbolic_check(
        "nlhf-constant-sum", "(5)",
        "NLHF payoff (5) with the antisymmetric preference (P(o' > o) = 1 - P(o > o'), "
        "P(o > o) = 1/2), three outputs: J(pi, pi') + J(pi', pi) = 1 on the simplex, a "
        "constant-sum game (expand)", nl.constant_sum_residue()))
    broken = NLHF("ab", diagonal=0)
    out.append(symbolic_check(
        "nlhf-diagonal-zero-breaks-antisymmetry", "(5)",
        "with P(o > o) = 0 instead of 1/2 the game is no longer constant-sum: "
        "J(pi, pi') + J(pi', pi) - 1 = -sum_o pi(o) pi'(o) (expand); the engine uses 1/2",
        expand(broken.constant_sum_residue() + sum(a * b for a, b in zip(broken.pi, broken.opp)))))
    out.append(symbolic_check(
        "nlhf-best-response-concave", "(5)",
        "d^2 J(pi, pi')/d pi(o)^2 = -beta/pi(o) < 0: the stationary point of the Lagrangian is "
        "the best response (cancel)",
        sum(abs(cancel(c + beta / q)) for c, q in zip(nl.curvature, nl.pi))))
    out.append(symbolic_check(
        "nlhf-fixed-point", "(5)",
        "NLHF, three outputs: best response on the simplex, then pi' = pi, gives the printed "
        "pi(o) = pi_ref(o) exp(E_{o'~pi} P(o > o')/beta)/Z (powsimp, expand_log, cancel)",
        sum(map(abs, nl.claim_residue()))))
    two = nlhf_binary_derivation()
    out.append(symbolic_check(
        "nlhf-binary-exponent", "(5)",
        "NLHF, binary: E_{o'~pi} P(a > o') - E_{o'~pi} P(b > o') = gamma/2 for every pi(a), "
        "gamma = P(a > b) - P(b > a) (expand)", expand(two.exponent_gap - gamma / 2)))
    out.append(symbolic_check(
        "nlhf-binary-closed-form", "(5)",
        "NLHF, binary: x = p e^{gamma/(2 beta)}/(p e^{gamma/(2 beta)} + 1 - p), i.e. "
        "x/(1-x) = p/(1-p) e^{gamma/(2 beta)} (cancel of the derived root against this form)",
        cancel(two.binary_policy - p * exp(gamma / (2 * beta))
               / (p * exp(gamma / (2 * beta)) + 1 - p))))
    residues, pair = nl.direct_kl_residue()
    out.append(symbolic_check(
        "nlhf-pairwise-advantage", "Sec. 2.1",
        "G = 2: E[A_1 | o, o'] = P(r > r') - P(r < r') = 2 P(o > o') - 1 with the antisymmetric "
        "P(o > o') = P(r > r') + P(r = r')/2, from the derived advantage (expand)", pair))
    out.append(symbolic_check(
        "nlhf-equals-direct-kl-two", "(5), Sec. 3",
        "three outputs, any antisymmetric P: NLHF at beta is GRPO with the direct KL penalty "
        "KL(pi || pi_ref) at G = 2 and 2 beta (P_2(o|pi) = 2 E_pi P(o > o') - 1; the constant "
        "cancels in Z): log-ratios agree (expand_log, expand)", sum(map(abs, residues))))
    dk2 = direct_kl_policy_two()
    out.append(symbolic_check(
        "direct-kl-two-equals-rlhf-binary", "(4), Sec. 3",
        "binary, gamma = 1, r(a) - r(b) = 1: the direct-KL G = 2 policy equals RLHF's "
        "(the exponent gap P_2(a) - P_2(b) = gamma is the reward gap); the baselines table's "
        "two columns coincide (cancel)",
        cancel(dk2.subs(gamma, 1) - rlhf_policy_binary())))
    out.extend(numeric_checks())
    return out


def numeric_checks(digits=CHECK_DIGITS):
    """Independent paths for NLHF at ``digits`` (+10 guard) digits."""
    from fractions import Fraction

    from derive.numerics.context import mpf_exact
    from derive.solve.solver import Problem, stationary_policies

    errs, dk_errs = [], []
    with mpmath.workdps(digits + 10):
        for pv, bv in NLHF_GRID:
            P, B = mpf_exact(pv), mpf_exact(bv)
            xv = nlhf_binary(P, B)
            # best response to the closed form, from the payoff (5) alone
            errs.append(xv - nlhf_best_response_binary(xv, P, B))
        # K = 3, rewards (1, 1/2, 0): the GRPO solver's direct-KL G = 2 policy at 2 beta is an
        # NLHF equilibrium at beta (the payoff gradient on the simplex vanishes)
        ref = (Fraction(1, 5), Fraction(3, 10), Fraction(1, 2))
        rewards = (1, Fraction(1, 2), 0)
        for bv in (Fraction(1, 10), Fraction(1, 2), Fraction(2)):
            pb = Problem.deterministic(ref=ref, rewards=rewards, beta=2 * bv, group=2,
                                       penalty="k3-is")
            sols = stationary_policies(pb, digits=digits + 5, certify=False)
            if len(sols) != 1:
                dk_errs.append(mpmath.mpf(1))
                continue
            pi = [mpmath.mpf(v) for v in sols[0].policy]
            grad = nlhf_payoff_gradient(pi, [mpf_exact(r) for r in ref],
                                        rank_preference(rewards), mpf_exact(bv))
            dk_errs.extend(grad)
        # ... and it is not RLHF's pooling pi_ref e^{r/beta}: P_2 sees ranks, not reward values
        bv = Fraction(1, 2)
        pb = Problem.deterministic(ref=ref, rewards=rewards, beta=bv, group=2, penalty="k3-is")
        (sol,) = stationary_policies(pb, digits=digits + 5, certify=False)
        w = [mpf_exact(r) * mpmath.exp(mpf_exact(v) / mpf_exact(bv)) for r, v in zip(ref, rewards)]
        gap = max(abs(mpmath.mpf(a) - b / mpmath.fsum(w)) for a, b in zip(sol.policy, w))
    return [
        inequality_check("direct-kl-two-differs-from-rlhf-k3", "(4), Sec. 3",
                         "three outputs, rewards (1, 1/2, 0), beta = 1/2: the direct-KL G = 2 "
                         "stationary policy (general solver) differs from RLHF's pooling "
                         "pi_ref e^{r/beta}/Z by more than 1e-3, unlike the binary case",
                         [gap - mpmath.mpf(10) ** -3]),
        numeric_check("nlhf-binary-best-response", "(5)",
                      "NLHF, binary, P(a > b) = 1, P(a > a) = 1/2: the closed form is the best "
                      "response to itself, argmax_x J((x, 1-x), pi*) of the payoff (5) found by "
                      "bisection on its numerical derivative, 30 (p, beta), at 50 digits",
                      errs, digits),
        numeric_check("nlhf-direct-kl-two-solver", "(5), Sec. 3",
                      "three outputs, rewards (1, 1/2, 0), ties P = 1/2: the general solver's "
                      "unique direct-KL (k3-is) G = 2 stationary policy at 2 beta makes the "
                      "numerical gradient of the NLHF payoff (5) at beta vanish on the simplex, "
                      "beta = 1/10, 1/2, 2, at 50 digits", dk_errs, digits),
    ]


def section():
    rl = RLHF().derive()
    two = nlhf_binary_derivation()
    p_ = S.p
    e_half = exp(frac(S.gamma, U(Mul, 2, S.beta)), evaluate=False)
    sec = Section("baselines", "Baselines: RLHF and NLHF", "(3)--(5)",
                  "The aggregation rules that GRPO is compared with.")
    sec.step("RLHF maximises $\\mathbb{E}_{\\pi} r - \\beta\\,\\mathrm{KL}(\\pi \\,\\|\\, "
             "\\pi_{\\mathrm{ref}})$; the Lagrangian on the simplex gives logarithmic pooling, "
             "Eq. (4):", equation("\\pi(a)", latex(rl.pooling[0])), "rlhf")
    sec.step("NLHF's payoff (5) uses pairwise preferences that the paper takes antisymmetric, "
             "$P(o' \\succ o) = 1 - P(o \\succ o')$, so $P(o \\succ o) = 1/2$; the game is then "
             "constant-sum, $J(\\pi, \\pi') + J(\\pi', \\pi) = 1$.  The best response to $\\pi'$ "
             "(the Lagrangian on the simplex; $\\partial^2 J/\\partial \\pi(o)^2 = "
             "-\\beta/\\pi(o) < 0$), with $\\pi' = \\pi$, is the fixed point",
             equation("\\pi(o)", "\\frac{\\pi_{\\mathrm{ref}}(o) \\exp\\bigl(\\mathbb{E}_{o' \\sim "
                      "\\pi} P(o \\succ o')/\\beta\\bigr)}{Z}."), "nlhf")
    sec.step("For a binary question, $\\mathbb{E}_{o'\\sim\\pi} P(a \\succ o') - "
             "\\mathbb{E}_{o'\\sim\\pi} P(b \\succ o') = "
             f"{latex(two.exponent_gap)}$ for every $x$, with "
             "$\\gamma = P(a \\succ b) - P(b \\succ a)$, so NLHF is logistic:",
             value(sec, "nlhf-binary", "(5)", "x",
                   frac(U(Mul, p_, e_half), U(Add, U(Mul, p_, e_half), 1, -p_)), two.binary_policy),
             "nlhf-binary")
    sec.step("At $G = 2$ the expected advantage of $o$ against $o'$ is "
             "$P(r > r') - P(r < r') = 2 P(o \\succ o') - 1$ with the antisymmetric "
             "$P(o \\succ o') = P(r > r') + \\tfrac12 P(r = r')$, so "
             "$P_2(o \\mid \\pi) = 2\\,\\mathbb{E}_{o' \\sim \\pi} P(o \\succ o') - 1$.  GRPO "
             "with the direct KL penalty pools $\\pi_{\\mathrm{ref}}(o) e^{P_2(o \\mid \\pi)/\\beta}$; "
             "at $2\\beta$ the exponent is $\\mathbb{E}_{o'\\sim\\pi} P(o \\succ o')/\\beta - "
             "1/(2\\beta)$, and the constant cancels in $Z$.  So the paper's ``akin'' is "
             "exact: NLHF at $\\beta$ is GRPO with the direct KL penalty at $G = 2$ and "
             "$2\\beta$, for any number of outputs.")
    sec.step("For $r(a) = 1 > r(b) = 0$ ($\\gamma = 1$) GRPO with the direct KL penalty at "
             "$G = 2$ has the exponent gap $P_2(a \\mid \\pi) - P_2(b \\mid \\pi) = \\gamma = "
             "r(a) - r(b)$, so it coincides with RLHF, "
             "$x = p e^{1/\\beta}/(p e^{1/\\beta} + 1 - p)$, and NLHF is the same curve at "
             "$2\\beta$: $x = p e^{1/(2\\beta)}/(p e^{1/(2\\beta)} + 1 - p)$.  With three or more "
             "outputs direct KL at $G = 2$ and RLHF differ, since $P_2$ depends on ranks, not "
             "reward values.  Table [[tab:baselines]] places them beside GRPO.")
    sec.remarks.append("An earlier version of this engine solved "
                       "$\\log\\frac{x}{1-x} - \\log\\frac{p}{1-p} = (1 - x)/\\beta$, which amounts "
                       "to $P(a \\succ a) = 0$; with the paper's antisymmetry the exponent gap is "
                       "the constant $1/2$.")
    return sec
