"""The section and the checks of binary questions, arXiv:2502.18548v3, Section 2.3.1 and Appendix B.1.

Its derivation, :mod:`derive.paper.binary`, is checked here against the
claims and an independent path.
"""

import mpmath
from sympy import (
    Add,
    Integer,
    Mul,
    Pow,
    cancel,
    diff,
    expand,
    factor,
    sqrt,
)

from derive.numerics.context import mpf_exact
from derive.numerics.precision import CHECK_DIGITS, CHECK_SEED
from derive.numerics.roots import anderson
from derive.paper import claims
from derive.paper.binary import (
    PRECISIONS,
    BinaryLimit,
    BinaryTwo,
    beta,
    check_grid,
    condition_limit,
    condition_two,
    factor_radicands,
    gamma,
    limit_residues,
    p,
    property_residues,
    x,
)
from derive.paper.latex import equation, latex
from derive.verify.checks import Section, inequality_check, numeric_check, symbolic_check
from derive.verify.display import U, condition, frac, matching, signed, value


def checks():
    two, lim = BinaryTwo().derive(), BinaryLimit().derive()
    out = [
        symbolic_check("binary-two-quadratic", "(17)",
                       "G=2: (11) with the pairwise preferences P_2(a|pi) = gamma(1-x), "
                       "P_2(b|pi) = -gamma x (mean 0) is beta (x - p) = gamma x (1 - x) (expand)",
                       expand(two.condition - claims.binary_quadratic_two()) + two.mean_preference),
        symbolic_check("binary-two-root-selection", "(17)",
                       "G=2: the product of the two roots of (17) is -beta p/gamma < 0, so exactly "
                       "one root is non-negative; it is the one with x >= p (cancel)",
                       cancel(two.product_of_roots + beta * p / gamma)),
        symbolic_check("binary-two-closed-form", "(14)",
                       "G=2: the admissible root of (17) equals the printed (14) (radicand "
                       "factored, cancel)",
                       cancel(factor_radicands(two.policy - claims.binary_policy_two()))),
        symbolic_check("binary-limit-condition", "(19)",
                       "G->inf, deterministic: (13) gives the unsquared beta (x - p) = "
                       "sqrt(x(1-x)) (expand); the square root is needed in (19)",
                       expand(lim.unsquared - claims.binary_condition_limit()) + lim.mean_preference),
        symbolic_check("binary-limit-quadratic", "(19)",
                       "G->inf: squaring (19) gives (1+beta^2) x^2 - (2 beta^2 p + 1) x + "
                       "beta^2 p^2 = 0 (expand)",
                       expand(lim.squared - claims.binary_quadratic_limit())),
        symbolic_check("binary-limit-closed-form", "(15)",
                       "G->inf: the root of the squared equation that satisfies the unsquared "
                       "condition equals the printed (15) (cancel)",
                       cancel(lim.policy - claims.binary_policy_limit())),
    ]
    labels = {
        "ratio": ("(14)", "x depends on beta and gamma only through beta/gamma (cancel)"),
        "slope": ("(14)", "d/dx of (17) at the root is sqrt(D) > 0 (radsimp)"),
        "d_beta": ("(14)", "dx/dbeta = -(x - p)/sqrt(D) <= 0 (implicit differentiation, radsimp)"),
        "d_gamma": ("(14)", "dx/dgamma = x(1-x)/sqrt(D) > 0 (implicit differentiation, radsimp)"),
        "d_p": ("(14)", "dx/dp = beta/sqrt(D) > 0 (implicit differentiation, radsimp)"),
        "beta_to_0": ("(14)", "x -> 1 as beta -> 0+ (limit)"),
        "beta_to_oo": ("(14)", "x -> p as beta -> infinity (limit)"),
        "beta_eq_gamma": ("(14)", "x = sqrt(p) at beta = gamma (radsimp)"),
        "bound_p": ("(14)", "(17) at x = p is -gamma p (1-p) <= 0, so x >= p (expand)"),
        "bound_1": ("(14)", "(17) at x = 1 - beta/gamma is -beta p <= 0, so x >= 1 - beta/gamma "
                            "(expand)"),
        "tie": ("(14)", "a tie (gamma = 0) leaves beta (x - p) = 0, so x = p (solve)"),
        "jump_below": ("(14)", "beta < gamma: x -> 1 - beta/gamma > 0 as p -> 0+, while pi(a) = 0 "
                               "at p = 0 (support): a jump (limit with beta = gamma/(1+s))"),
        "jump_above": ("(14)", "beta >= gamma: x -> 0 as p -> 0+, no jump (limit with beta = "
                               "gamma(1+s))"),
    }
    for key, residue in property_residues(two).items():
        ref, statement = labels[key]
        out.append(symbolic_check(f"binary-two-{key.replace('_', '-')}", ref, statement, residue))
    labels = {
        "spurious_gap": ("(15)", "2(1+beta^2)(x_- - p) = 1 - 2p - sqrt(D) for the other root "
                                 "(cancel)"),
        "spurious_sign": ("(15)", "D - (1-2p)^2 = 4p(1-p)(1+beta^2) > 0, so x_- < p and the "
                                  "unsquared condition fails there: the root is spurious (expand)"),
        "bound_sqrt": ("(15)", "x - (beta^2 p + 1)/(1+beta^2) = (sqrt(D) - 1)/(2(1+beta^2)) >= 0, "
                               "so x >= 1/(1+beta^2) (cancel)"),
        "bound_p": ("(15)", "x - p = (1 - 2p + sqrt(D))/(2(1+beta^2)) >= 0 since sqrt(D) >= "
                            "|1-2p| (cancel)"),
        "one_minus_beta": ("(15)", "1/(1+beta^2) - (1 - beta) = beta(beta^2 - beta + 1)/(1+beta^2) "
                                   "(factor)"),
        "quadratic_positive": ("(15)", "beta^2 - beta + 1 = (beta - 1/2)^2 + 3/4 > 0, so "
                                       "1/(1+beta^2) > 1 - beta for all beta > 0 (expand)"),
        "jump": ("(15)", "x -> 1/(1+beta^2) > 0 as p -> 0+ for every beta > 0: a jump at p = 0 "
                         "(limit)"),
    }
    for key, residue in limit_residues(lim).items():
        ref, statement = labels[key]
        out.append(symbolic_check(f"binary-limit-{key.replace('_', '-')}", ref, statement, residue))
    out.extend(numeric_checks(two, lim))
    return out


def numeric_checks(two, lim):
    from sympy import lambdify

    f_two = lambdify((p, beta, gamma), claims.binary_policy_two(), "mpmath")
    f_lim = lambdify((p, beta), claims.binary_policy_limit(), "mpmath")
    f_spur = lambdify((p, beta), lim.spurious[0], "mpmath")
    d_fns = [lambdify((p, beta, gamma), diff(two.policy, v), "mpmath") for v in (beta, gamma, p)]
    out = []
    for digits in PRECISIONS:
        e_two, e_lim = [], []
        with mpmath.workdps(digits + 10):
            for pv, bv, gv in check_grid():
                P, B, Gm = mpf_exact(pv), mpf_exact(bv), mpf_exact(gv)
                root = anderson(lambda t: condition_two(t, P, B, Gm), mpmath.mpf(P), mpmath.mpf(1))
                e_two.append(f_two(P, B, Gm) - root)
                root = anderson(lambda t: condition_limit(t, P, B), mpmath.mpf(P), mpmath.mpf(1))
                e_lim.append(f_lim(P, B) - root)
        out.append(numeric_check(f"binary-two-root-{digits}", "(14)",
                                 f"(14) equals the root of the unsquared (17) on [p, 1] found by "
                                 f"bracketing, 10 seeded (p, beta, gamma), at {digits} digits",
                                 e_two, digits))
        out.append(numeric_check(f"binary-limit-root-{digits}", "(15)",
                                 f"(15) equals the root of the unsquared (19) on [p, 1] found by "
                                 f"bracketing, 10 seeded (p, beta), at {digits} digits",
                                 e_lim, digits))
    with mpmath.workdps(CHECK_DIGITS + 10):
        margins_spur, margins_d, margins_b = [], [], []
        for pv, bv, gv in check_grid(20, CHECK_SEED + 16):
            P, B, Gm = mpf_exact(pv), mpf_exact(bv), mpf_exact(gv)
            xs = f_spur(P, B)
            margins_spur.append(abs(condition_limit(xs, P, B)) if 0 <= xs <= 1 else mpmath.mpf(1))
            db, dg, dp = (f(P, B, Gm) for f in d_fns)
            margins_d += [-db, dg, dp]
            x2, xl = f_two(P, B, Gm), f_lim(P, B)
            margins_b += [x2 - max(1 - B / Gm, P), xl - max(1 / (1 + B**2), P),
                          1 / (1 + B**2) - (1 - B)]
    out.append(inequality_check("binary-limit-spurious-numeric", "(15)",
                                "the other root of the squared equation leaves a nonzero residual "
                                "in the unsquared (19) at 20 seeded (p, beta)", margins_spur))
    out.append(inequality_check("binary-two-monotone-numeric", "(14)",
                                "dx/dbeta < 0, dx/dgamma > 0, dx/dp > 0 (SymPy derivatives of (14)) "
                                "at 20 seeded points, 50 digits", margins_d))
    out.append(inequality_check("binary-bounds-numeric", "(14)",
                                "x >= max(1 - beta/gamma, p) for (14), x >= max(1/(1+beta^2), p) "
                                "for (15) and 1/(1+beta^2) > 1 - beta, at 20 seeded points "
                                "(strict at these interior points)", margins_b))
    return out


def section():
    two, lim = BinaryTwo().derive(), BinaryLimit().derive()
    sec = Section("binary", "Binary questions", "(14)--(19)",
                  "Two answers $a$ and $b$, with $x = \\pi(a)$ and $p = \\pi_{\\mathrm{ref}}(a)$; "
                  "the stationary $x$ for groups of two and for large groups.")
    sec.step("For $G = 2$ the pairwise preferences are $P_2(a \\mid \\pi) = \\gamma (1 - x)$ and "
             "$P_2(b \\mid \\pi) = -\\gamma x$, with confidence margin "
             "$\\gamma = P(a \\succ b) - P(b \\succ a) > 0$; their mean under $\\pi$ is "
             f"${latex(two.mean_preference)}$.  The derived condition (11) for $a$ becomes Eq. (17):",
             condition(sec, "binary-quadratic", "(17)", U(Mul, beta, U(Add, x, -p)),
                       U(Mul, gamma, x, U(Add, 1, -x)), two.condition), "binary-quadratic")
    D = U(Add, U(Pow, U(Add, beta, -gamma), 2), U(Mul, 4, beta, gamma, p))
    forms = [frac(U(Add, gamma, -beta, signed(sign, sqrt(D, evaluate=False))), U(Mul, 2, gamma))
             for sign in (-1, 1)]
    sec.step("Its two roots are",
             " \\\\ ".join(value(sec, f"binary-roots-{i}", "(17)", f"x_{{{i}}}", form,
                                 matching(form, two.roots)) for i, form in enumerate(forms, 1)),
             "binary-roots")
    ratio = frac(beta, gamma)
    sec.step("Their product is $" + latex(two.product_of_roots) + " < 0$, so exactly one root is "
             "non-negative, and it satisfies $x \\ge p$ as (17) requires.  It is Eq. (14):",
             value(sec, "binary-two", "(14)", "x",
                   frac(U(Add, 1, -ratio, sqrt(U(Add, U(Pow, U(Add, 1, -ratio), 2),
                                                  U(Mul, 4, ratio, p)), evaluate=False)), 2),
                   two.policy), "binary-two")
    sec.step("Implicit differentiation of (17), whose slope in $x$ at the root is "
             "$\\sqrt{D} > 0$ with $D = (\\beta - \\gamma)^2 + 4 \\beta\\gamma p$, gives the signs "
             "of the derivatives:",
             equation("\\frac{\\partial x}{\\partial \\beta}", "-\\frac{x - p}{\\sqrt{D}} \\le 0")
             + " \\\\ " + equation("\\frac{\\partial x}{\\partial \\gamma}",
                                   "\\frac{x (1 - x)}{\\sqrt{D}} > 0") + " \\\\ "
             + equation("\\frac{\\partial x}{\\partial p}", "\\frac{\\beta}{\\sqrt{D}} > 0"),
             "binary-two-derivatives")
    sec.step("The stationary $x$ depends only on $\\beta/\\gamma$ and $p$; it tends to $1$ as "
             "$\\beta \\to 0$ and to $p$ as $\\beta \\to \\infty$; it equals $\\sqrt{p}$ at "
             "$\\beta = \\gamma$; and since (17) is negative at $x = p$ and at "
             "$x = 1 - \\beta/\\gamma$, $x \\ge \\max(1 - \\beta/\\gamma, p)$.  A tie "
             "($\\gamma = 0$) gives $x = p$.  As $p \\to 0^+$, $x \\to 1 - \\beta/\\gamma$ when "
             "$\\beta < \\gamma$, whereas $\\pi(a) = 0$ at $p = 0$ by the support assumption: "
             "the stationary policy jumps at $p = 0$ exactly when $\\beta < \\gamma$.")
    sec.step("For $G \\to \\infty$ with deterministic rewards $r(a) > r(b)$, the standardised "
             "preference (13) has $\\sigma(\\pi) = \\sqrt{x(1-x)}$, and the derived condition is "
             "the unsquared Eq. (19):",
             condition(sec, "binary-limit-unsquared", "(19)", U(Mul, beta, U(Add, x, -p)),
                       sqrt(U(Mul, x, U(Add, 1, -x)), evaluate=False), lim.unsquared),
             "binary-limit-unsquared")
    beta2 = U(Pow, beta, 2)
    sec.step("Squaring it gives the quadratic",
             condition(sec, "binary-limit-quadratic", "(15)",
                       U(Add, U(Mul, U(Add, 1, beta2), U(Pow, x, 2)),
                         U(Mul, -1, U(Add, U(Mul, 2, beta2, p), 1), x), U(Mul, beta2, U(Pow, p, 2))),
                       Integer(0), lim.squared), "binary-limit-quadratic")

    def limit_root(sign):
        disc = sqrt(U(Add, 1, U(Mul, 4, beta2, p, U(Add, 1, -p))), evaluate=False)
        return frac(U(Add, U(Mul, 2, beta2, p), 1, signed(sign, disc)),
                    U(Mul, 2, U(Add, 1, beta2)))

    sec.step("with the roots",
             " \\\\ ".join(value(sec, f"binary-limit-roots-{name}", "(15)", f"x_{{{s}}}",
                                 limit_root(sign), r)
                           for name, s, sign, r in (("plus", "+", 1, lim.policy),
                                                    ("minus", "-", -1, lim.spurious[0]))),
             "binary-limit-roots")
    sec.step("Here $2(1+\\beta^2)(x_- - p) = 1 - 2p - \\sqrt{D}$ with "
             "$D - (1 - 2p)^2 = 4p(1-p)(1+\\beta^2) > 0$, so $x_- < p$ and the left side of the "
             "unsquared condition is negative there: $x_-$ is spurious.  The admissible root is "
             "Eq. (15):",
             value(sec, "binary-limit", "(15)", "x", limit_root(1), lim.policy), "binary-limit")
    sec.step("Since $\\sqrt{D} \\ge 1$ and $\\sqrt{D} \\ge |1 - 2p|$, "
             "$x \\ge \\max(1/(1+\\beta^2), p)$; and",
             equation("\\frac{1}{1 + \\beta^2} - (1 - \\beta)",
                      latex(factor(claims.binary_lower_bound_limit() - (1 - beta))) + " > 0,"),
             "binary-limit-bound")
    sec.step("because $\\beta^2 - \\beta + 1 = (\\beta - 1/2)^2 + 3/4$.  As $p \\to 0^+$, "
             "$x \\to 1/(1+\\beta^2) > 0$: for large groups the stationary policy jumps at "
             "$p = 0$ for every $\\beta > 0$.")
    sec.step("Table [[tab:binary]] tabulates both closed forms and Figures [[fig:binary-two]] and "
             "[[fig:binary-limit]] draw them, with the jump at $p = 0$; Table [[tab:baselines]] "
             "and Figure [[fig:binary-compare]] place them beside the direct KL variant and RLHF.")
    sec.remarks.append("In the extracted text of arXiv:2502.18548v3 the square root in Eq. (19) "
                       "is not visible.  The derivation from (13) produces it, and the printed "
                       "quadratic and Eq. (15) are consistent only with it; the engine uses the "
                       "derived, unsquared form.")
    return sec
