"""Binary questions, arXiv:2502.18548v3, Section 2.3.1 and Appendix B.1.

Two answers ``a`` and ``b``; ``x = pi(a)`` and ``p = pi_ref(a)``.  Starting from
the stationarity condition (11) derived in :mod:`derive.stationarity`:

* ``G = 2``: the pairwise preference gives ``P_2(a|pi) = gamma (1 - x)`` and
  ``P_2(b|pi) = -gamma x`` with the confidence margin
  ``gamma = P(a > b) - P(b > a)``; (11) becomes the quadratic (17), whose one
  non-negative root is (14).
* ``G -> infinity`` with deterministic rewards ``r(a) > r(b)``: the
  standardised preference gives the unsquared condition (19),
  ``beta (x - p) = sqrt(x (1 - x))``.  Squaring it gives a quadratic with two
  roots; the engine keeps the root that satisfies the unsquared condition and
  shows the other one violates it.  The result is (15).
"""

from functools import cache, cached_property

import mpmath
from sympy import (
    Add,
    Integer,
    Mul,
    Poly,
    Pow,
    Rational,
    Symbol,
    cancel,
    diff,
    expand,
    factor,
    limit,
    oo,
    radsimp,
    solve,
    sqrt,
)

from derive import claims
from derive import symbols as S
from derive.checks import (
    CHECK_DIGITS,
    CHECK_SEED,
    Section,
    inequality_check,
    numeric_check,
    symbolic_check,
)
from derive.display import U, condition, frac, matching, signed, value
from derive.latex import equation, latex
from derive.limit import preference_limit
from derive.numerics import mpf_exact as to_mp
from derive.stationarity import Stationarity

x, p, beta, gamma = S.x, S.p, S.beta, S.gamma


def _stationary_numerator(P_a, P_b, pi_b=1 - x):
    """``x (beta + E_pi P - P_a) - beta p`` from the derived policy of Eq. (11).

    The derived solution is ``pi(a) = beta pi_ref(a)/(beta + lambda - P_a)`` with
    ``lambda = E_pi P``; clearing the denominator gives this polynomial form.
    """
    st = Stationarity("ab").derive()
    subs = {st.pi[0]: x, st.pi[1]: pi_b, st.ref[0]: p, st.ref[1]: 1 - p,
            st.P[0]: P_a, st.P[1]: P_b}
    num, den = st.policy_solution[0].as_numer_denom()     # beta pi_ref(a), beta + lambda - P_a
    mean = expand(st.mean_preference.subs(subs))
    return expand((x * den - num).subs(subs).subs(S.lam, mean)), mean


class BinaryTwo:
    """G = 2 (Section 2.3.1): from (11) to (17) and (14).

    >>> BinaryTwo().derive().policy
    (-beta + gamma + sqrt(beta**2 + 4*beta*gamma*p - 2*beta*gamma + gamma**2))/(2*gamma)
    """

    def derive(self):
        win, lose = Symbol("w", positive=True), Symbol("l", positive=True)
        # Pairwise preferences (Eq. (5)): a ties with itself, beats b with margin gamma.
        P_a = (1 - x) * (win - lose)
        P_b = x * (lose - win)
        cond, self.mean_preference = _stationary_numerator(P_a, P_b)
        self.condition = expand(cond.subs(win, lose + gamma))
        self.roots = solve(self.condition, x)
        self.product_of_roots = cancel(Poly(self.condition, x).all_coeffs()[2]
                                       / Poly(self.condition, x).all_coeffs()[0])
        self.policy = select_root(self.roots, self.admissible)
        return self

    @staticmethod
    def admissible(root, point):
        """0 <= x <= 1 and x >= p (the sign of x - p fixed by (17): gamma x (1-x) >= 0)."""
        v = root.evalf(30, subs=point)
        return v.is_real and 0 <= v <= 1 and v >= point[p]

    @cached_property
    def closed_form(self):
        return self.policy


class BinaryLimit:
    """G -> infinity, deterministic rewards (Appendix B.1): from (13) to (19) and (15).

    The preference is the limit of P_G derived in :mod:`derive.large_group` (whose
    leading term is checked there against the printed (13)), not the typed claim.
    """

    def derive(self):
        u = Symbol("u", positive=True)             # u = 1 - x = pi(b), kept positive
        sigma = sqrt(x * u)                        # one draw: reward 1 w.p. x, else 0
        # the derived limit (13): (r(o) - E_pi r)/sigma with E_pi r = x = 1 - u
        P_a = preference_limit(1, 1 - u, sigma)
        P_b = preference_limit(0, x, sigma)
        cond, mean = _stationary_numerator(P_a, P_b, pi_b=u)
        self.mean_preference = expand(mean.subs(u, 1 - x))
        #: the unsquared condition (19) as lhs - rhs: beta (x - p) - sqrt(x) sqrt(1 - x)
        self.unsquared = cond.subs(u, 1 - x)
        rhs = expand(beta * (x - p) - cond)        # sqrt(x) sqrt(u), non-negative
        self.squared = expand((beta * (x - p)) ** 2 - expand(rhs**2).subs(u, 1 - x))
        self.roots = solve(self.squared, x)
        self.policy = select_root(self.roots, self.admissible)
        self.spurious = [r for r in self.roots if r != self.policy]
        return self

    def admissible(self, root, point):
        """0 <= x <= 1 and the derived *unsquared* condition holds (its residual vanishes)."""
        with mpmath.workdps(40):
            v = root.evalf(40, subs=point)
            if not v.is_real or not 0 <= v <= 1:
                return False
            res = self.unsquared.evalf(40, subs={x: v, p: point[p], beta: point[beta]})
            return abs(res) < 1e-30


#: Seeded sample points at which root selection is decided (and must be unanimous).
def _sample_points(n=12, seed=CHECK_SEED + 14):
    import random

    rng = random.Random(seed)
    pts = []
    for _ in range(n):
        pts.append({p: Rational(rng.randint(1, 99), 100), beta: Rational(rng.randint(1, 400), 100),
                    gamma: Rational(rng.randint(1, 100), 100)})
    return pts


def select_root(roots, admissible, points=None):
    """The one root that is admissible at every sample point; an error otherwise.

    Selection is by the constraints (range, and the unsquared condition), at
    seeded points spread over the parameter domain; a root admissible at some
    points and not at others, or two admissible roots, is a derivation error.
    """
    points = points or _sample_points()
    keep = [r for r in roots if all(admissible(r, pt) for pt in points)]
    if len(keep) != 1:
        raise ArithmeticError(f"root selection is ambiguous: {len(keep)} admissible roots")
    return keep[0]


# -- numerics: the unsquared conditions, solved independently -----------------

def condition_two(xv, pv, bv, gv=1):
    """Residual of (17) at numbers: ``beta (x - p) - gamma x (1 - x)``."""
    return bv * (xv - pv) - gv * xv * (1 - xv)


def condition_limit(xv, pv, bv):
    """Residual of the unsquared (19) at numbers."""
    return bv * (xv - pv) - mpmath.sqrt(xv * (1 - xv))


def numeric_root(condition, pv, bv):
    """The root of an unsquared condition on ``[p, 1]`` by bracketing (Anderson-Bjorck).

    Both conditions are negative... positive at x = 1 and <= 0 at x = p, so the
    bracket holds a root; no closed form is used.
    """
    lo, hi = mpmath.mpf(pv), mpmath.mpf(1)
    if condition(lo) == 0:
        return lo
    if condition(hi) == 0:
        return hi
    return mpmath.findroot(condition, (lo, hi), solver="anderson")


#: Precisions of the closed-form-versus-root checks.
PRECISIONS = (15, 30, 50)


def _grid(n=10, seed=CHECK_SEED + 15):
    """Seeded (p, beta, gamma) points, exact."""
    import random

    rng = random.Random(seed)
    return [(Rational(rng.randint(1, 999), 1000), Rational(rng.randint(1, 3000), 1000),
             Rational(rng.randint(50, 1000), 1000)) for _ in range(n)]


def property_residues(two):
    """Symbolic residues of the (14) properties: each is 0 when the property is proved."""
    X = two.policy
    D = beta**2 + 4 * beta * gamma * p - 2 * beta * gamma + gamma**2
    t, s = Symbol("t", positive=True), Symbol("s", positive=True)
    res = {}
    scaled = cancel(X.subs(beta, t * gamma))
    scaled = cancel(scaled.replace(lambda e: e.is_Pow and e.exp == Rational(1, 2),
                                   lambda e: sqrt(factor(e.base))))
    res["ratio"] = 0 if gamma not in scaled.free_symbols else scaled
    F = two.condition                                   # increasing in x at the root
    Fx = diff(F, x)
    res["slope"] = radsimp(expand(Fx.subs(x, X)) - sqrt(D))
    for var, name in ((beta, "d_beta"), (gamma, "d_gamma"), (p, "d_p")):
        implicit = (-diff(F, var) / Fx).subs(x, X)
        res[name] = radsimp(cancel(diff(X, var) - implicit))
    res["beta_to_0"] = limit(X, beta, 0, "+") - 1
    res["beta_to_oo"] = limit(X, beta, oo) - p
    res["beta_eq_gamma"] = radsimp(X.subs(beta, gamma) - sqrt(p))
    res["bound_p"] = expand(F.subs(x, p) + gamma * p * (1 - p))
    res["bound_1"] = expand(F.subs(x, 1 - beta / gamma) + beta * p)
    res["tie"] = 0 if solve(F.subs(gamma, 0), x) == [p] else 1
    below = limit(X.subs(beta, gamma / (1 + s)), p, 0, "+")
    above = limit(X.subs(beta, gamma * (1 + s)), p, 0, "+")
    res["jump_below"] = cancel(_factor_radicands(below) - (1 - 1 / (1 + s)))
    res["jump_above"] = above
    return res


def limit_residues(lim):
    X = lim.policy
    D = 1 + 4 * beta**2 * p * (1 - p)
    (spur,) = lim.spurious
    res = {}
    res["spurious_gap"] = cancel(expand(2 * (1 + beta**2) * (spur - p)) - (1 - 2 * p - sqrt(D)))
    res["spurious_sign"] = expand(D - (1 - 2 * p) ** 2 - 4 * p * (1 - p) * (beta**2 + 1))
    res["bound_sqrt"] = cancel(X - (beta**2 * p + 1) / (1 + beta**2) - (sqrt(D) - 1) / (2 * (1 + beta**2)))
    res["bound_p"] = cancel(X - p - (1 - 2 * p + sqrt(D)) / (2 * (1 + beta**2)))
    res["one_minus_beta"] = factor(claims.binary_lower_bound_limit() - (1 - beta)) \
        - beta * (beta**2 - beta + 1) / (beta**2 + 1)
    res["quadratic_positive"] = expand((beta - Rational(1, 2)) ** 2 + Rational(3, 4)
                                       - (beta**2 - beta + 1))
    res["jump"] = limit(X, p, 0, "+") - claims.binary_lower_bound_limit()
    return res


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
                       cancel(_factor_radicands(two.policy - claims.binary_policy_two()))),
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


def _factor_radicands(expr):
    return expr.replace(lambda e: e.is_Pow and e.exp == Rational(1, 2),
                        lambda e: sqrt(factor(expand(e.base))))


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
            for pv, bv, gv in _grid():
                P, B, Gm = to_mp(pv), to_mp(bv), to_mp(gv)
                root = numeric_root(lambda t: condition_two(t, P, B, Gm), P, B)
                e_two.append(f_two(P, B, Gm) - root)
                root = numeric_root(lambda t: condition_limit(t, P, B), P, B)
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
        for pv, bv, gv in _grid(20, CHECK_SEED + 16):
            P, B, Gm = to_mp(pv), to_mp(bv), to_mp(gv)
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


@cache
def binary_two():
    """The :class:`BinaryTwo` derivation, once per process (:mod:`derive.closed_forms` reads it)."""
    return BinaryTwo().derive()


@cache
def binary_limit():
    """The :class:`BinaryLimit` derivation, once per process."""
    return BinaryLimit().derive()
