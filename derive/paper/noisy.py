"""Binary questions with noisy (Bernoulli) rewards: beyond arXiv:2502.18548v3.

Answer ``a`` succeeds with probability ``s_a`` and ``b`` with ``s_b < s_a``;
rewards are 0/1.  Write ``Delta = s_a - s_b``.

* ``G = 2``: the confidence margin is ``gamma = P(a > b) - P(b > a) =
  s_a (1 - s_b) - s_b (1 - s_a) = Delta``, so Eq. (14) holds with that gamma.
* ``G -> infinity``: ``sigma(pi)^2 = q (1 - q)`` with ``q = x s_a + (1-x) s_b``
  *includes the reward noise*, and (13) becomes the unsquared condition

      beta (x - p) sqrt(q (1 - q)) = Delta x (1 - x),

  which reduces to (19) only when ``s_a = 1, s_b = 0``.  The deterministic
  formula (15) then no longer holds; :func:`deviation_rows` measures how far
  off it is.
"""

import mpmath
from sympy import Symbol, expand, sqrt

from derive.numerics.roots import bisect
from derive.paper import claims
from derive.paper import symbols as S

x, p, beta = S.x, S.p, S.beta


s_a, s_b = Symbol("s_a", positive=True), Symbol("s_b", positive=True)


def margin_two():
    """``gamma`` for Bernoulli rewards from the pairwise form (5): ``P(a>b) - P(b>a)``."""
    return expand(s_a * (1 - s_b) - s_b * (1 - s_a))


def condition_limit_noisy():
    """(11) at G -> infinity for the binary question with Bernoulli rewards, ``lhs - rhs``, unsquared.

    The preference of a reward value is the derived limit of :mod:`derive.paper.large_group`,
    ``Phi_j = (v_j - q)/sigma`` with ``q = x s_a + (1-x) s_b`` and ``sigma = sqrt(q(1-q))``;
    an answer with success probability ``s`` has ``P_inf = s Phi_1 + (1 - s) Phi_0 =
    (s - q)/sigma``.  The derived condition (11) for ``a`` (with ``E_pi P_inf = 0``),
    multiplied by ``sigma``: ``beta sigma (x - p) = x (s_a - q)``.
    """
    from derive.paper.binary import stationary_numerator
    from derive.paper.limit import preference_limit

    q = x * s_a + (1 - x) * s_b
    sigma = Symbol("sigma", positive=True)
    phi0, phi1 = (preference_limit(val, q, sigma) for val in (0, 1))
    P_a, P_b = s_a * phi1 + (1 - s_a) * phi0, s_b * phi1 + (1 - s_b) * phi0
    cond, mean = stationary_numerator(P_a, P_b)
    if expand(mean) != 0:
        raise ArithmeticError("E_pi P_inf must vanish for the Bernoulli mixture")
    derived = expand(cond * sigma)
    return derived, q


def claim_residue():
    """The derived noisy condition minus the printed (13) times ``beta sigma``: 0 (expand)."""
    derived, q = condition_limit_noisy()
    sigma = Symbol("sigma", positive=True)
    return expand(derived - claims.stationarity_limit(x, p, s_a, q, sigma) * beta * sigma)


def condition_value(xv, pv, bv, sa, sb):
    """Residual of the unsquared noisy condition at numbers: beta sigma (x - p) - x (s_a - q)."""
    q = xv * sa + (1 - xv) * sb
    return bv * mpmath.sqrt(q * (1 - q)) * (xv - pv) - xv * (sa - q)


def stationary_limit_noisy(pv, bv, sa, sb):
    """The stationary x at G -> infinity with Bernoulli rewards: the root on [p, 1].

    At ``x = p`` the residual is ``-p (1-p) Delta < 0``; just below ``x = 1`` it
    is positive.  Multiplying (13) by ``sigma`` adds the spurious root ``x = 1``
    when ``s_a = 1`` (there ``sigma = 0`` and (13) itself is 0/0), so the bracket
    stops short of 1.
    """
    f = lambda t: condition_value(t, pv, bv, sa, sb)
    return bisect(f, pv, 1 - mpmath.mpf(10) ** (-mpmath.mp.dps + 5))


#: Cases of the deviation table: (s_a, s_b).
NOISE = (("1", "0"), ("0.9", "0.1"), ("0.8", "0.3"), ("0.6", "0.4"))


DEV_BETAS = ("0.1", "0.5", "1", "2")


DEV_P = "0.2"


def stationary_limit_noisy_b(pv, bv, sa, sb):
    """Independent path: (13) for answer *b*, solved in ``q = E_pi r`` by bisection.

    ``(1 - (s_b - q)/(beta sigma)) (1 - x) = 1 - p`` with ``x = (q - s_b)/Delta``;
    it agrees with the equation for ``a`` only through ``E_pi P_inf = 0``.
    """
    delta = sa - sb

    def f(q):
        xv = (q - sb) / delta
        sigma = mpmath.sqrt(q * (1 - q))
        return (1 - (sb - q) / (bv * sigma)) * (1 - xv) - (1 - pv)

    lo = sb + delta * pv                 # x = p: f = (1-p)(q - s_b)/(beta sigma) > 0
    hi = sa - delta * mpmath.mpf(10) ** (-mpmath.mp.dps + 5)    # x -> 1: f -> -(1-p) < 0
    return (bisect(f, lo, hi) - sb) / delta


def deterministic_residue(derived, q):
    """At s_a = 1, s_b = 0 (q = x): the noisy condition is sigma times the unsquared (19)."""
    sig = Symbol("sigma", positive=True)
    at = derived.subs({s_a: 1, s_b: 0}).subs(sig, sqrt(q.subs({s_a: 1, s_b: 0}) * (1 - x)))
    return expand(at - sqrt(x * (1 - x)) * claims.binary_condition_limit())
