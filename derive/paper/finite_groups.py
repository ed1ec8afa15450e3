"""Finite group sizes for binary questions: beyond arXiv:2502.18548v3.

The paper treats ``G = 2`` and ``G -> infinity``.  For 0/1 rewards with
``r(a) = 1 > r(b) = 0`` and any G, the preference of ``a`` against ``pi`` is the
binomial sum ``U_G(x)`` of :mod:`derive.paper.preference` and its mean under ``pi`` is
zero, so the derived condition (11) for ``a`` is

    beta (x - p) = x U_G(x),   U_G(x) = sum_k C(G-1,k) x^k (1-x)^(G-1-k) sqrt((G-1-k)/(k+1)).

For ``G = 2`` and ``G = 3``, ``x U_G(x)`` is ``c_G x (1 - x)`` with ``c_2 = 1`` and
``c_3 = sqrt(2)``, so the stationary policy is Eq. (14) with ``gamma = c_G``;
SymPy finds these closed forms.  From ``G = 4`` on the condition is a
polynomial of degree G in x (with radical coefficients) and the engine solves
it numerically; the path from (14) at ``G = 2`` to (15) at ``G -> infinity`` is
tabulated and drawn.
"""

import mpmath
from sympy import Poly, cancel, expand, sqrt

from derive.numerics.roots import bracket_then_anderson
from derive.paper import claims
from derive.paper import symbols as S
from derive.paper.binary import stationary_numerator
from derive.paper.preference import binomial_sums

x, p, beta = S.x, S.p, S.beta


def condition(G):
    """``beta (x - p) - x U_G(x)``: (11) for answer a with ``P_G(a|pi) = U_G(x)`` and
    ``P_G(b|pi) = -L_G(x)``, through the kernel :func:`derive.paper.binary.stationary_numerator`;
    also returns ``E_pi P_G``, which expands to 0 (derived)."""
    U, L = binomial_sums(G, x)
    return stationary_numerator(U, -L)


def closed_form(G):
    """The admissible root when the condition is quadratic in x, else ``None``.

    Returns ``(root, c_G)`` with the condition equal to the derived G = 2 condition
    (17) with ``gamma = c_G``, ``beta (x-p) - c_G x (1-x)``; the root is then the
    derived (14) (:mod:`derive.paper.closed_forms`) at ``gamma = c_G``, never the claim.
    """
    from derive.paper import closed_forms

    cond, _ = condition(G)
    poly = Poly(cond, x)
    if poly.degree() != 2:
        return None
    c = cancel(poly.all_coeffs()[0])                   # coefficient of x^2 is c_G
    if expand(cond - closed_forms.quadratic_two().subs(S.gamma, c)) != 0:
        return None
    return closed_forms.policy_two().subs(S.gamma, c), c


def display_three():
    """The G = 3 closed form as the paper writes (14), at ``gamma = sqrt(2)``; the check
    ``finite-closed-form-G3-display`` proves it equals the derived root."""
    return claims.binary_policy_two(gamma=sqrt(2))


def degree(G):
    return Poly(condition(G)[0], x).degree()


_COEFF_CACHE = {}


def _coefficients(G):
    """``C(G-1, k)``, ``sqrt((G-1-k)/(k+1))`` and ``sqrt(k/(G-k))`` at the working
    precision (cached per precision)."""
    key = (G, mpmath.mp.prec)
    if key not in _COEFF_CACHE:
        _COEFF_CACHE[key] = [(mpmath.binomial(G - 1, k), mpmath.sqrt(mpmath.mpf(G - 1 - k) / (k + 1)),
                              mpmath.sqrt(mpmath.mpf(k) / (G - k))) for k in range(G)]
    return _COEFF_CACHE[key]


def _bernstein(G, xv, which):
    """``sum_k C(G-1,k) x^k (1-x)^(G-1-k) c_k`` with running powers (no x**k per term)."""
    ratio = xv / (1 - xv)
    weight = (1 - xv) ** (G - 1)
    total = mpmath.mpf(0)
    for row in _coefficients(G):
        total += row[0] * weight * row[which]
        weight *= ratio
    return total


def preference_one(G, xv):
    """``U_G(x) = P_G(a | pi)`` for 0/1 rewards, the binomial sum of Eq. (6)."""
    if G is None:
        return mpmath.sqrt((1 - xv) / xv)
    return _bernstein(G, xv, 1)


def stationary_x(G, pv, bv):
    """The root of ``beta (x - p) - x U_G(x)`` on ``[p, 1]`` (``G=None``: (19)).

    The condition is negative at ``x = p`` and positive just below 1
    (:func:`derive.numerics.roots.bracket_then_anderson`: a bracket of width 1e-12
    by bisection in double precision, refined by Anderson-Bjorck at the working
    precision once it is seen to change sign; plain bisection is the fallback).
    """
    return bracket_then_anderson(lambda t: bv * (t - pv) - t * preference_one(G, t), pv)


#: Group sizes of the finite-G table and figure (None is G -> infinity).
GROUPS = (2, 3, 4, 5, 8, 16, 32, 64, 256, 1024, None)


GROUP_BETAS = ("0.1", "0.5", "1", "2")


GROUP_P = "0.3"


def preference_zero(G, xv):
    """``L_G(x)``: ``P_G(b | pi) = -L_G(x)`` for the answer with reward 0."""
    if G is None:
        return mpmath.sqrt(xv / (1 - xv))
    return _bernstein(G, xv, 2)


def stationary_x_b(G, pv, bv):
    """Independent path: (11) for answer *b*, ``(1 + L_G(x)/beta)(1 - x) = 1 - p``.

    It agrees with the equation for *a* only through ``x U_G = (1 - x) L_G``
    (``E_pi P_G = 0``).  Solved on ``[p, 1)`` as :func:`stationary_x` is, without the
    sign check before Anderson-Bjorck (bisection if it fails).
    """
    return bracket_then_anderson(lambda t: (1 - pv) - (1 + preference_zero(G, t) / bv) * (1 - t), pv,
                                 check_sign=False)


#: Group sizes at which the closed forms and the mean-zero identity are derived.
SYMBOLIC_GROUPS = (2, 3, 4, 5, 6)


#: Group sizes drawn in the figure (log scale), besides G -> infinity.
FIGURE_GROUPS = (2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 128, 256, 512, 1024)


def asymptotic_correction():
    """``c(p, beta)`` of ``x_G = x_inf + c/G + O(1/G^2)``, as derived in
    :class:`derive.paper.large_group.BinaryCorrection` (a function for mpmath)."""
    from sympy import lambdify

    from derive.paper import closed_forms

    return lambdify((p, beta), closed_forms.policy_correction_limit(), "mpmath")


#: Smallest G at which the table's check asks pi_inf + c/G to beat pi_inf.
ASYMPTOTIC_FROM = 32


def correction_display():
    """``c`` as displayed; the check ``large-group-binary-correction`` proves it is the derived one."""
    from derive.paper.large_group import binary_correction_display

    return binary_correction_display()
