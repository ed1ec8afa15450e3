"""Binary questions, arXiv:2502.18548v3, Section 2.3.1 and Appendix B.1.

Two answers ``a`` and ``b``; ``x = pi(a)`` and ``p = pi_ref(a)``.  Starting from
the stationarity condition (11) derived in :mod:`derive.paper.stationarity`:

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
    Poly,
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

from derive.numerics.precision import CHECK_SEED
from derive.paper import claims
from derive.paper import symbols as S
from derive.paper.limit import preference_limit
from derive.paper.stationarity import Stationarity

x, p, beta, gamma = S.x, S.p, S.beta, S.gamma


def stationary_numerator(P_a, P_b, pi_b=1 - x):
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
        cond, self.mean_preference = stationary_numerator(P_a, P_b)
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

    The preference is the limit of P_G derived in :mod:`derive.paper.large_group` (whose
    leading term is checked there against the printed (13)), not the typed claim.
    """

    def derive(self):
        u = Symbol("u", positive=True)             # u = 1 - x = pi(b), kept positive
        sigma = sqrt(x * u)                        # one draw: reward 1 w.p. x, else 0
        # the derived limit (13): (r(o) - E_pi r)/sigma with E_pi r = x = 1 - u
        P_a = preference_limit(1, 1 - u, sigma)
        P_b = preference_limit(0, x, sigma)
        cond, mean = stationary_numerator(P_a, P_b, pi_b=u)
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


def condition_two(xv, pv, bv, gv=1):
    """Residual of (17) at numbers: ``beta (x - p) - gamma x (1 - x)``."""
    return bv * (xv - pv) - gv * xv * (1 - xv)


def condition_limit(xv, pv, bv):
    """Residual of the unsquared (19) at numbers."""
    return bv * (xv - pv) - mpmath.sqrt(xv * (1 - xv))


#: Precisions of the closed-form-versus-root checks.
PRECISIONS = (15, 30, 50)


def check_grid(n=10, seed=CHECK_SEED + 15):
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
    res["jump_below"] = cancel(factor_radicands(below) - (1 - 1 / (1 + s)))
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


def factor_radicands(expr):
    return expr.replace(lambda e: e.is_Pow and e.exp == Rational(1, 2),
                        lambda e: sqrt(factor(expand(e.base))))


@cache
def binary_two():
    """The :class:`BinaryTwo` derivation, once per process (:mod:`derive.paper.closed_forms` reads it)."""
    return BinaryTwo().derive()


@cache
def binary_limit():
    """The :class:`BinaryLimit` derivation, once per process."""
    return BinaryLimit().derive()
