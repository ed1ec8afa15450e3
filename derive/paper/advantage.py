"""The group-relative advantage, arXiv:2502.18548v3, Eq. (2).

For the rewards ``r_1, ..., r_G`` of one group,

    A_i = (r_i - mean(r)) / std(r),   std(r) = sqrt((1/G) sum_i (r_i - mean(r))^2),

with the *population* standard deviation and ``A_i := 0`` when all rewards are
equal (the 0/0 convention).  :class:`Advantage` derives, for a concrete group
size, the pairwise form printed in the paper, the invariance under
``r -> a r + b`` (``a > 0``) and the ``G = 2`` sign form.
"""

from functools import cached_property

from sympy import Eq, Piecewise, Pow, Rational, Symbol, cancel, expand, factor, sqrt

from derive.paper import claims
from derive.paper import symbols as S


class Advantage:
    """Symbolic advantage of a group of size *G* (Eq. (2)).

    >>> Advantage(3).advantage(0, (2, 1, 0))
    sqrt(6)/2
    >>> Advantage(3).advantage(0, (1, 1, 1))
    0
    """

    def __init__(self, G):
        if int(G) != G or G < 2:
            raise ValueError("the group size G must be an integer >= 2")
        self.G = int(G)
        self.r = S.rewards(self.G)

    def direct(self, i):
        """``(r_i - mean)/std``: Eq. (2) away from ties."""
        return (self.r[i] - self.mean) / sqrt(self.variance)

    @cached_property
    def mean(self):
        return self.mean_of(self.r)

    @cached_property
    def variance(self):
        """Population variance ``(1/G) sum_i (r_i - mean)^2``."""
        return self.variance_of(self.r)

    def mean_of(self, r):
        return Rational(1, self.G) * sum(r)

    def variance_of(self, r):
        """Population variance of the rewards *r* (symbols or numbers)."""
        m = self.mean_of(r)
        return Rational(1, self.G) * sum((ri - m) ** 2 for ri in r)

    def advantage(self, i, r=None):
        """``A_i`` of the rewards *r* (default: the symbols ``r_1..r_G``),
        with the 0/0 convention."""
        r = self.r if r is None else tuple(r)
        if len(r) != self.G:
            raise ValueError(f"expected {self.G} rewards, got {len(r)}")
        var = self.variance_of(r)
        return Piecewise((0, Eq(expand(var), 0)),
                         ((r[i] - self.mean_of(r)) / sqrt(var), True))

    def scaled_advantage(self, i):
        """``A_i`` of the rewards ``a r + b`` (``a > 0``), before the 0/0 case."""
        rr = [S.scale * ri + S.shift for ri in self.r]
        m = Rational(1, self.G) * sum(rr)
        var = factor(expand(Rational(1, self.G) * sum((ri - m) ** 2 for ri in rr)))
        return (rr[i] - m) / sqrt(var)

    # -- derived facts -------------------------------------------------------

    def pairwise_numerator(self, i):
        """``(1/G) sum_j (r_i - r_j)`` of the pairwise form."""
        return Rational(1, self.G) * sum(self.r[i] - rj for rj in self.r)

    def pairwise_variance(self):
        """``(1/(2 G^2)) sum_j sum_k (r_j - r_k)^2`` of the pairwise form."""
        return Rational(1, 2 * self.G**2) * sum((rj - rk) ** 2 for rj in self.r for rk in self.r)

    def pairwise_residue(self, i):
        """Both parts of the pairwise identity, expanded: ``(0, 0)`` proves it."""
        return (expand(self.pairwise_numerator(i) - (self.r[i] - self.mean)),
                expand(self.pairwise_variance() - self.variance))

    def invariance_residue(self, i):
        """``A_i(a r + b) - A_i(r)`` after ``cancel``: 0 proves the invariance."""
        direct = (self.r[i] - self.mean) / sqrt(factor(expand(self.variance)))
        return cancel(self.scaled_advantage(i) - direct)


def sign_form_residue():
    """For G = 2, ``A_1 - sign(r_1 - r_2)`` on both sides of a tie.

    With ``r_1 = r_2 + d`` the residue is reduced by ``cancel`` for ``d > 0``
    and for ``d < 0``; the tie ``d = 0`` is the 0/0 convention.
    """
    adv = Advantage(2)
    r2 = adv.r[1]
    d = Symbol("d", positive=True)
    return [cancel(adv.advantage(0, (r2 + s, r2)) - claims.advantage_two(r2 + s, r2))
            for s in (d, -d)]


def tie_residue(G):
    """The advantages of a constant group: all 0 by the convention."""
    adv = Advantage(G)
    return [adv.advantage(i, [S.r] * G) for i in range(G)]


#: Group sizes at which the identities are derived symbolically.
GROUP_SIZES = (2, 3, 4, 5, 6)


def expand_radicand(expr):
    """Expand the argument of every square root in *expr* (a targeted rewrite)."""
    return expr.replace(lambda e: e.is_Pow and e.exp in (Rational(1, 2), Rational(-1, 2)),
                        lambda e: Pow(factor(expand(e.base)), e.exp))
