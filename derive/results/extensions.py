"""The section and the checks of extensions of GRPO, arXiv:2502.18548v3, Section 3 and Appendix B.2.

Its derivation, :mod:`derive.paper.extensions`, is checked here against the
claims and an independent path.
"""

import mpmath
from sympy import (
    Add,
    Integer,
    Mul,
    Pow,
    Rational,
    Symbol,
    cancel,
    exp,
    expand,
    log,
    oo,
    powsimp,
    sqrt,
)

from derive.numerics.precision import CHECK_DIGITS
from derive.numerics.roots import bisect
from derive.paper import claims
from derive.paper import symbols as S
from derive.paper.extensions import (
    CRITICAL_P,
    DirectKL,
    DirectKLLimit,
    beta,
    critical_beta,
    critical_beta_joint,
    gamma,
    h_derivative,
    h_minimiser,
    h_value,
    p,
    pooling_residual,
    shift_only_preference,
    stationary_points_limit,
)
from derive.paper.latex import equation
from derive.verify.checks import Section, inequality_check, numeric_check, symbolic_check
from derive.verify.display import U, condition, frac, value


def checks():
    from derive.numerics.context import mpf_exact
    from derive.paper.binary import PRECISIONS

    dk = DirectKL().derive()
    out = [
        symbolic_check("direct-kl-pi-old-free", "Sec. 3",
                       "importance-weighted k3: the stationarity conditions do not involve pi_old",
                       0 if dk.old_free else 1),
        symbolic_check("direct-kl-pooling", "Sec. 3",
                       "importance-weighted k3: the KKT solution is pi(o) = pi_ref(o) "
                       "exp(P_G(o|pi)/beta)/Z, logarithmic pooling (powsimp, cancel)",
                       sum(map(abs, dk.pooling_residue()))),
    ]
    two = dk.binary_two()
    claim = claims.direct_kl_policy_two()
    out.append(symbolic_check("direct-kl-two", "Sec. 3",
                              "G=2, direct KL: x = e^(gamma/(2beta)) p/(e^(gamma/(2beta)) p + "
                              "e^(-gamma/(2beta)) (1-p)) (powsimp, cancel)",
                              sum(abs(cancel(powsimp(s - claim))) for s in two)
                              + (len(two) != 1)))
    lim = DirectKLLimit().derive()
    out.append(symbolic_check("direct-kl-limit-h", "App. B.2",
                              "G->inf, deterministic, direct KL: the derivative of the objective "
                              "along x is beta h(x) with the printed h (expand_log)",
                              lim.h_residue()))
    out.append(symbolic_check("direct-kl-limit-minimiser", "App. B.2",
                              "h'(x) = 0 at the root of (2x-1) = 2 beta sqrt(x(1-x)) with x > 1/2, "
                              "x* = (1 + sqrt(1 - 1/(1+beta^2)))/2 (factor, cancel)",
                              lim.minimiser_residue()))
    ends = lim.end_limits()
    out.append(symbolic_check("direct-kl-limit-ends", "App. B.2",
                              "h(x) -> +infinity as x -> 0+ and as x -> 1- (limit through "
                              "x = eps^2 and x = 1 - eps^2)", 0 if ends == [oo, oo] else 1))
    with mpmath.workdps(CHECK_DIGITS + 10):
        grow = []
        for bv in (mpmath.mpf(1) / 10, mpmath.mpf(1), mpmath.mpf(10)):
            vals = [h_value(1 - mpmath.mpf(10) ** -k, mpmath.mpf(1) / 2, bv) for k in (20, 30, 40)]
            grow += [vals[1] - vals[0], vals[2] - vals[1], vals[0]]
    out.append(inequality_check("direct-kl-limit-ends-numeric", "App. B.2",
                                "h(1 - 10^-k) is positive and increasing in k = 20, 30, 40 for "
                                "beta = 0.1, 1, 10 (p = 1/2)", grow))
    # Shift-only normalisation.
    G = Symbol("G", integer=True, positive=True)
    so = [shift_only_preference(g) for g in (2, 3, 4, 5)]
    r_o = Symbol("r_o", real=True)
    res = sum(abs(expand(so[i] - (1 - Rational(1, g)) * (r_o - S.mu)))
              for i, g in enumerate((2, 3, 4, 5)))
    out.append(symbolic_check("shift-only-preference", "Sec. 3",
                              "shift-only advantage r_i - mean: P_G(o|pi') = (1 - 1/G)(r(o) - "
                              "E_pi' r) for G = 2..5 (expand)", res))
    m_pi, m_old = Symbol("m_pi", real=True), Symbol("m_old", real=True)
    out.append(symbolic_check("shift-only-mean", "Sec. 3",
                              "E_(o~pi) P_G(o|pi_old) = (1 - 1/G)(E_pi r - E_old r) (linearity; "
                              "G = 4 shown, expand)",
                              expand(so[2].subs({r_o: m_pi, S.mu: m_old})
                                     - claims.shift_only_mean_preference(4, m_pi, m_old))))
    # Shift-only + direct KL = RLHF (4) with beta G/(G-1): ratio of two outputs.
    ra, rb = Symbol("r_a", real=True), Symbol("r_b", real=True)
    Pa, Pb = ((1 - 1 / G) * (rv - S.mu) for rv in (ra, rb))
    ratio = powsimp((dk.policy[0] / dk.policy[1]).subs({dk.P[0]: Pa, dk.P[1]: Pb}))
    Z = Symbol("Z", positive=True)
    rl = claims.rlhf_policy(dk.ref[0], ra, Z, beta * G / (G - 1)) / \
        claims.rlhf_policy(dk.ref[1], rb, Z, beta * G / (G - 1))
    out.append(symbolic_check("shift-only-direct-kl-rlhf", "(4)",
                              "shift-only normalisation with the direct KL penalty gives RLHF's "
                              "pi(o) ∝ pi_ref(o) exp(r(o)/beta') with beta' = beta G/(G-1) "
                              "(ratio of two outputs; powsimp, cancel)",
                              cancel(powsimp(ratio / rl, force=True) - 1)))
    # Numeric: the logistic form against the root of the unsquared direct-KL condition.
    from sympy import lambdify
    f_two = lambdify((p, beta, gamma), claim, "mpmath")
    from derive.paper.binary import check_grid
    for digits in PRECISIONS:
        errs = []
        with mpmath.workdps(digits + 10):
            for pv, bv, gv in check_grid():
                P, B, Gm = mpf_exact(pv), mpf_exact(bv), mpf_exact(gv)
                cond = lambda t: pooling_residual(t, P, B, Gm)
                root = bisect(cond, P, 1 - mpmath.mpf(10) ** (-digits - 5))
                errs.append(f_two(P, B, Gm) - root)
        out.append(numeric_check(f"direct-kl-two-root-{digits}", "Sec. 3",
                                 f"G=2 direct KL: the closed form equals the root of beta(logit x - "
                                 f"logit p) = gamma by bracketing, 10 seeded points, {digits} digits",
                                 errs, digits))
    # beta_c(p): two independent computations at 50 digits, and the zero count on each side.
    errs, margins = [], []
    with mpmath.workdps(CHECK_DIGITS + 10):
        for pv in CRITICAL_P:
            P = mpf_exact(pv)
            bc = critical_beta(P)
            bj, _ = critical_beta_joint(P, bc * (1 + mpmath.mpf(10) ** -3))
            errs.append(bc - bj)
            below = stationary_points_limit(P, bc * (1 - mpmath.mpf(10) ** -6))
            above = stationary_points_limit(P, bc * (1 + mpmath.mpf(10) ** -6))
            margins.append(1 if [c for _, c in below] == ["boundary-attractor"] and
                           [c for _, c in above] == ["attractor", "repeller", "boundary-attractor"] else -1)
            for xv, c in above[:2]:
                margins.append(abs(h_derivative(xv, bc * (1 + mpmath.mpf(10) ** -6))))
                margins.append(-h_derivative(xv, bc) if c == "attractor" else 1)
    out.append(numeric_check("direct-kl-critical-beta", "App. B.2",
                             "beta_c(p) from h(x*(beta)) = 0 equals the Newton solution of "
                             "{h = 0, h' = 0} in (x, beta), p in {0.01, 0.1, 0.3, 0.5, 0.9}, 50 digits",
                             errs, CHECK_DIGITS))
    out.append(inequality_check("direct-kl-classification", "App. B.2",
                                "just below beta_c only x = 1 (boundary attractor) is stationary; "
                                "just above, two interior zeros appear: h' < 0 at the left one "
                                "(an attractor of the iteration) and h' > 0 at the right one "
                                "(a repeller)",
                                margins))
    return out


def critical_beta_table(digits=CHECK_DIGITS):
    """``[(p, beta_c(p), x*(beta_c))]`` at *digits*, for :data:`CRITICAL_P`."""
    from derive.numerics.context import mpf_exact

    rows = []
    with mpmath.workdps(digits + 10):
        for pv in CRITICAL_P:
            bc = critical_beta(mpf_exact(pv))
            rows.append((pv, +bc, +h_minimiser(bc)))
    return rows


def section():
    dk = DirectKL().derive()
    lim = DirectKLLimit().derive()
    pi_a, ref_a, P_a = dk.pi[0], dk.ref[0], dk.P[0]
    x, p, gamma = S.x, S.p, S.gamma
    e_full = exp(frac(gamma, S.beta), evaluate=False)
    e_half = exp(frac(gamma, U(Mul, 2, S.beta)), evaluate=False)
    e_minus = exp(-frac(gamma, U(Mul, 2, S.beta)), evaluate=False)
    sec = Section("extensions", "Extensions: the direct KL penalty and shift-only normalisation",
                  "Sec. 3, App. B.2",
                  "Importance weighting turns the penalty into $\\mathrm{KL}(\\pi \\,\\|\\, "
                  "\\pi_{\\mathrm{ref}})$; dropping the scale normalisation recovers RLHF.")
    sec.step("Weighting each k3 term by $\\pi(o_i)/\\pi_{\\mathrm{old}}(o_i)$ makes the expected "
             "penalty $\\mathrm{KL}(\\pi \\,\\|\\, \\pi_{\\mathrm{ref}})$ for every "
             "$\\pi_{\\mathrm{old}}$, and the stationarity condition for output $a$ reads",
             condition(sec, "direct-kl-condition", "Sec. 3",
                       U(Add, P_a, -U(Mul, S.beta, log(frac(pi_a, ref_a), evaluate=False)), -S.lam),
                       Integer(0), dk.conditions[0]), "direct-kl-condition")
    sec.step("Solving and normalising gives logarithmic pooling with a policy-dependent "
             "preference:",
             equation("\\pi(o)", "\\frac{\\pi_{\\mathrm{ref}}(o)\\, e^{P_G(o \\mid \\pi)/\\beta}}"
                      "{\\sum_{o'} \\pi_{\\mathrm{ref}}(o')\\, e^{P_G(o' \\mid \\pi)/\\beta}}."),
             "direct-kl-pooling")
    (two,) = dk.binary_two()
    sec.step("For a binary question with $G = 2$ the preferences are $\\gamma(1-x)$ and "
             "$-\\gamma x$, whose difference $\\gamma$ does not depend on $x$, so",
             value(sec, "direct-kl-two", "App. B.2", "x",
                   frac(U(Mul, p, e_full), U(Add, U(Mul, p, e_full), 1, -p)), two)
             + " \\\\ " + value(sec, "direct-kl-two-symmetric", "App. B.2", "",
                                frac(U(Mul, e_half, p),
                                     U(Add, U(Mul, e_half, p), U(Mul, e_minus, U(Add, 1, -p)))),
                                two) + ".", "direct-kl-two")
    sec.step("For $G \\to \\infty$ and deterministic rewards the derivative of the objective "
             "along $x$ at $\\pi_{\\mathrm{old}} = \\pi$ is $\\beta h(x)$ with",
             value(sec, "direct-kl-h", "App. B.2", "h(x)",
                   U(Add, frac(1, U(Mul, S.beta, sqrt(U(Mul, x, U(Add, 1, -x)), evaluate=False))),
                     -log(frac(x, U(Add, 1, -x)), evaluate=False),
                     log(frac(p, U(Add, 1, -p)), evaluate=False)),
                   lim.h, positive=(1 - x, 1 - p)) + ".", "direct-kl-h")
    sec.step("Setting $h'(x) = 0$ and clearing the positive denominator "
             "$2\\beta x^{3/2}(1-x)^{3/2}$ gives",
             condition(sec, "direct-kl-critical", "App. B.2", U(Add, U(Mul, 2, x), -1),
                       U(Mul, 2, S.beta, sqrt(U(Mul, x, U(Add, 1, -x)), evaluate=False)),
                       lim.stationary_unsquared) + ",", "direct-kl-critical")
    sec.step("which needs $x > 1/2$; of the two roots of its square the admissible one is",
             value(sec, "direct-kl-minimiser", "App. B.2", "x^{*}",
                   frac(U(Add, 1, frac(S.beta, sqrt(U(Add, 1, U(Pow, S.beta, 2)), evaluate=False))), 2),
                   lim.minimiser), "direct-kl-minimiser")
    sec.step("$h$ falls on $(0, x^*]$, rises on $[x^*, 1)$, and tends to $+\\infty$ at both ends "
             "(the term $1/(\\beta\\sqrt{x(1-x)})$ dominates the logarithms).  By the envelope "
             "theorem $\\beta \\mapsto h(x^*(\\beta))$ is strictly decreasing, so there is one "
             "critical $\\beta_c(p)$: for $\\beta < \\beta_c(p)$, $h > 0$ on $(0,1)$ and the only "
             "stationary point is $x = 1$, an attractor of the iteration; for "
             "$\\beta > \\beta_c(p)$, $h$ has two zeros $x_1 < x^* < x_2$: $x_1$ attracts the "
             "iteration (there $h$ turns from positive to negative) and $x_2$ repels it, besides "
             "the boundary attractor $x = 1$.  "
             "Table [[tab:critical-beta]] gives $\\beta_c(p)$ and classifies the stationary "
             "points; Figure [[fig:binary-direct-kl]] draws the $G = 2$ closed form.")
    sec.step("Without the division by the standard deviation ($A_i = r_i - \\bar r$), "
             "linearity gives",
             equation("P_G(o \\mid \\pi')", "\\Bigl(1 - \\frac{1}{G}\\Bigr)\\bigl(r(o) - "
                      "\\mathbb{E}_{\\pi'} r\\bigr)") + " \\\\ "
             + equation("\\mathbb{E}_{o \\sim \\pi} P_G(o \\mid \\pi_{\\mathrm{old}})",
                        "\\Bigl(1 - \\frac{1}{G}\\Bigr)\\bigl(\\mathbb{E}_{\\pi} r - "
                        "\\mathbb{E}_{\\pi_{\\mathrm{old}}} r\\bigr),"), "shift-only")
    sec.step("and with the direct KL penalty the stationary policy is RLHF's logarithmic "
             "pooling (4) with the regularisation $\\beta G/(G-1)$:",
             equation("\\pi(o)", "\\frac{\\pi_{\\mathrm{ref}}(o)\\, e^{(1 - 1/G)\\, r(o)/\\beta}}"
                      "{\\sum_{o'} \\pi_{\\mathrm{ref}}(o')\\, e^{(1 - 1/G)\\, r(o')/\\beta}}."),
             "shift-only-rlhf")
    sec.remarks.append("The paper describes the two interior zeros of $h$ at large $\\beta$ as "
                       "two values that maximise the objective.  In its sense they do: with the "
                       "direct KL penalty $J(\\cdot\\,; \\pi_{\\mathrm{old}})$ is strictly "
                       "concave, so each zero is the unique maximiser of $J(\\cdot\\,; \\pi)$ "
                       "with $\\pi_{\\mathrm{old}} = \\pi$ set to itself.  As rest points of "
                       "the GRPO iteration they differ: the left zero attracts it and the right "
                       "zero repels it, and $x = 1$ attracts it for every $\\beta > 0$; $x = 1$ "
                       "maximises $J(\\cdot\\,; \\text{itself})$ only with the limit "
                       "$G \\to \\infty$ taken first (at every finite $G$ it does not).  Which "
                       "attractor the iteration reaches depends on where it starts.")
    return sec
