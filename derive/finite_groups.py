"""Finite group sizes for binary questions: beyond arXiv:2502.18548v3.

The paper treats ``G = 2`` and ``G -> infinity``.  For 0/1 rewards with
``r(a) = 1 > r(b) = 0`` and any G, the preference of ``a`` against ``pi`` is the
binomial sum ``U_G(x)`` of :mod:`derive.preference` and its mean under ``pi`` is
zero, so the derived condition (11) for ``a`` is

    beta (x - p) = x U_G(x),   U_G(x) = sum_k C(G-1,k) x^k (1-x)^(G-1-k) sqrt((G-1-k)/(k+1)).

For ``G = 2`` and ``G = 3``, ``x U_G(x)`` is ``c_G x (1 - x)`` with ``c_2 = 1`` and
``c_3 = sqrt(2)``, so the stationary policy is Eq. (14) with ``gamma = c_G``;
SymPy finds these closed forms.  From ``G = 4`` on the condition is a
polynomial of degree G in x (with radical coefficients) and the engine solves
it numerically; the path from (14) at ``G = 2`` to (15) at ``G -> infinity`` is
tabulated and drawn.
"""

from sympy import Poly, Rational, Symbol, cancel, expand, factor, solve, sqrt

from derive import claims
from derive import symbols as S
from derive.preference import binomial_sums

x, p, beta = S.x, S.p, S.beta


def condition(G):
    """``beta (x - p) - x U_G(x)``: (11) for answer a with P_G(a|pi) = U_G(x)."""
    U, L = binomial_sums(G, x)
    mean = expand(x * U - (1 - x) * L)        # E_pi P_G = 0, derived
    return expand(beta * (x - p) - x * U), mean


def closed_form(G):
    """The admissible root when the condition is quadratic in x, else ``None``.

    Returns ``(root, c_G)`` with the condition equal to ``beta (x-p) - c_G x (1-x)``.
    """
    cond, _ = condition(G)
    poly = Poly(cond, x)
    if poly.degree() != 2:
        return None
    c = cancel(poly.all_coeffs()[0])                   # coefficient of x^2 is c_G
    if expand(cond - claims.binary_quadratic_two(gamma=c)) != 0:
        return None
    return claims.binary_policy_two(gamma=c), c


def degree(G):
    return Poly(condition(G)[0], x).degree()
