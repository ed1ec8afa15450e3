"""The reward preference model, arXiv:2502.18548v3, Section 2.1, Eqs. (5)-(6).

The preference of output ``o`` against a policy ``pi'`` is the expected
advantage of ``o`` in a group whose other G - 1 members are drawn from ``pi'``:

    P_G(o | pi') = E[A_1 | o_1 = o, o_2..o_G ~ pi' iid]           (Eq. (6))

It depends on ``pi'`` only through ``q``, the distribution of the reward of one
draw from ``pi'`` (a mixture over outputs, reward noise included).  For rewards
on a finite value set ``v_0 < ... < v_{m-1}``:

    P_G(o | pi') = sum_j rho_o(v_j) Phi_j(q),
    Phi_j(q) = sum_{n: |n| = G-1} multinomial(G-1; n) prod_k q_k^{n_k} A(v_j; n),

a finite sum over compositions ``n`` of G - 1 into m parts, where
``A(v_j; n)`` is the advantage (Eq. (2)) of ``v_j`` in the group made of
``v_j`` and ``n_k`` copies of each ``v_k``.  For 0/1 rewards this is a binomial
sum with G terms.  :class:`PreferenceModel` builds these sums from
:class:`~derive.paper.advantage.Advantage`, so the preference model is derived from
the encoded advantage, never typed in.
"""

from functools import cached_property

from sympy import (
    Add,
    Mul,
    Rational,
    Symbol,
    binomial,
    cancel,
    combsimp,
    expand,
    factor,
    factorial,
    limit,
    oo,
    sqrt,
)

from derive.paper import symbols as S
from derive.paper.advantage import Advantage


def compositions(total, parts):
    """All tuples of *parts* non-negative integers summing to *total*, sorted."""
    if parts == 1:
        return [(total,)]
    return [(first,) + rest for first in range(total + 1)
            for rest in compositions(total - first, parts - 1)]


class PreferenceModel:
    """``P_G(o | pi')`` for rewards on the finite value set *values* (Eq. (6)).

    >>> from sympy import Rational
    >>> model = PreferenceModel(2, (0, 1))
    >>> model.phi(1, (1 - S.q, S.q))
    1 - q
    """

    def __init__(self, G, values):
        self.G = int(G)
        self.values = tuple(Rational(v) for v in values)
        if list(self.values) != sorted(set(self.values)):
            raise ValueError("reward values must be distinct and increasing")
        self.advantage = Advantage(self.G)
        self._phi, self._values = {}, {}

    @cached_property
    def compositions(self):
        return compositions(self.G - 1, len(self.values))

    def group_advantage(self, j, n):
        """``A(v_j; n)``: advantage of ``v_j`` among ``n_k`` copies of each ``v_k``."""
        rewards = [self.values[j]] + [v for v, c in zip(self.values, n) for _ in range(c)]
        return self.advantage.advantage(0, rewards)

    def weight(self, n, q):
        """Multinomial probability of the composition *n* under *q*."""
        coeff = factorial(self.G - 1)
        for c in n:
            coeff /= factorial(c)
        return coeff * Mul(*(qk**c for qk, c in zip(q, n)))

    def phi(self, j, q):
        """``Phi_j(q) = E[A_1 | r_1 = v_j]`` with the others' rewards iid from *q*."""
        key = (j, tuple(q))
        if key not in self._phi:
            self._phi[key] = Add(*(self.weight(n, q) * self.group_advantage(j, n)
                                   for n in self.compositions))
        return self._phi[key]

    def phi_numeric(self, j, q):
        """``Phi_j(q)`` at numeric *q* (mpmath numbers), at the current mp.dps.

        Evaluates the same composition sum term by term: each exact advantage
        ``A(v_j; n)`` is evaluated once with ``evalf``.
        """
        import mpmath

        total = mpmath.mpf(0)
        for n in self.compositions:
            a = self._advantage_value(j, n, mpmath.mp.dps)
            if a == 0:
                continue
            w = mpmath.mpf(int(self.weight(n, (1,) * len(n))))
            total += w * mpmath.fprod(qk**c for qk, c in zip(q, n)) * a
        return total

    def _advantage_value(self, j, n, dps):
        import mpmath

        key = (j, n, dps)
        if key not in self._values:
            self._values[key] = mpmath.mpmathify(str(self.group_advantage(j, n).evalf(dps + 5)))
        return self._values[key]

    def preference(self, rho, q):
        """``P_G(o | pi')`` for an output with reward distribution *rho* (Eq. (6))."""
        return Add(*(w * self.phi(j, q) for j, w in enumerate(rho) if w != 0))


def binary_coefficients():
    """Advantages in a 0/1 group for symbolic G: the binomial form of Eq. (6).

    A member with reward 1 among ``k`` other ones and ``G - 1 - k`` zeros has
    advantage ``sqrt((G-1-k)/(k+1))``; a member with reward 0 among ``k`` ones
    has ``-sqrt(k/(G-k))``.  Derived from the population variance of the group
    for symbolic ``k`` and ``u = G - 1 - k > 0`` (away from a tie).

    Returns ``(A_one, claimed_one, A_zero, claimed_zero)`` and the symbols
    ``(u, w, k_one, k_zero)``: the count ``k`` of other ones is a non-negative
    integer for a one and positive for a zero.
    """
    u = Symbol("u", positive=True)       # G - 1 - k zeros besides a one
    kk = S.k
    G = kk + 1 + u
    m = (kk + 1) / G
    var = factor(((kk + 1) * (1 - m) ** 2 + u * m**2) / G)
    a_one = cancel((1 - m)) / sqrt(var)
    # a zero among k ones and G - 1 - k = u zeros: k + ... shift the count
    w = Symbol("w", positive=True)       # w = G - k zeros including itself
    kp = Symbol("k", positive=True)      # k >= 1 ones among the others
    G2 = kp + w
    m2 = kp / G2
    var2 = factor((kp * (1 - m2) ** 2 + w * m2**2) / G2)
    a_zero = -m2 / sqrt(var2)
    return (a_one, sqrt(u / (kk + 1)), a_zero, -sqrt(kp / w)), (u, w, kk, kp)


def binomial_sums(G, q=S.q):
    """``(U(q), L(q))`` for 0/1 rewards: ``Phi_1 = U`` and ``Phi_0 = -L``."""
    model = PreferenceModel(G, (0, 1))
    qq = (1 - q, q)
    return expand(model.phi(1, qq)), expand(-model.phi(0, qq))


def expectation_identity_general():
    """The reindexing behind ``E_pi P_G = 0`` for 0/1 rewards and any G.

    ``q U(q)`` and ``(1 - q) L(q)`` have the same terms after ``j = k + 1``
    because ``C(G-1, j-1) sqrt((G-j)/j) = C(G-1, j) sqrt(j/(G-j))``; the ratio
    of the binomials is ``j/(G-j)`` (``combsimp``).
    """
    j = Symbol("j", integer=True, positive=True)
    ratio = combsimp(binomial(S.G - 1, j - 1) / binomial(S.G - 1, j))
    return cancel(ratio - j / (S.G - j))


def limit_coefficients():
    """G -> infinity of the binomial coefficients at ``k = t G``: ``sqrt((1-t)/t)``."""
    t = Symbol("t", positive=True)
    one = limit(sqrt((S.G - 1 - t * S.G) / (t * S.G + 1)), S.G, oo)
    zero = limit(sqrt((t * S.G) / (S.G - t * S.G)), S.G, oo)
    return one, zero, t


#: An example with three outputs and noisy rewards on three values, used by the
#: enumeration checks: reward distributions over VALUES for outputs a, b, c.
VALUES = (Rational(0), Rational(1, 2), Rational(1))


RHO = ((Rational(1, 5), Rational(3, 10), Rational(1, 2)),
       (Rational(1, 2), Rational(1, 4), Rational(1, 4)),
       (Rational(0), Rational(1), Rational(0)))


#: Group sizes checked against enumeration and symbolically.
ENUMERATED = (2, 3, 4, 5)


BINOMIAL = (2, 3, 4, 5, 6)


def mixture(pi, rho):
    """``q``: distribution of the reward of one draw from *pi* (noise included)."""
    return tuple(sum(pi[o] * rho[o][j] for o in range(len(pi))) for j in range(len(rho[0])))


def claimed_binomial(G, q=S.q):
    """``sum_k C(G-1,k) q^k (1-q)^(G-1-k) sqrt((G-1-k)/(k+1))`` and its zero-side twin."""
    one = sum(binomial(G - 1, kk) * q**kk * (1 - q) ** (G - 1 - kk) * sqrt(Rational(G - 1 - kk, kk + 1))
              for kk in range(G))
    zero = sum(binomial(G - 1, kk) * q**kk * (1 - q) ** (G - 1 - kk) * sqrt(Rational(kk, G - kk))
               for kk in range(G))
    return expand(one), expand(zero)


def derived_preference_limit(r_o):
    """The G -> infinity preference derived in :mod:`derive.paper.large_group` (Eq. (13))."""
    from derive.paper.limit import preference_limit

    return preference_limit(r_o, S.mu, S.sigma)
