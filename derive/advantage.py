"""The group-relative advantage, arXiv:2502.18548v3, Eq. (2).

For the rewards ``r_1, ..., r_G`` of one group,

    A_i = (r_i - mean(r)) / std(r),   std(r) = sqrt((1/G) sum_i (r_i - mean(r))^2),

with the *population* standard deviation and ``A_i := 0`` when all rewards are
equal (the 0/0 convention).  :class:`Advantage` derives, for a concrete group
size, the pairwise form printed in the paper, the invariance under
``r -> a r + b`` (``a > 0``) and the ``G = 2`` sign form.
"""

from fractions import Fraction
from functools import cached_property

from sympy import Abs, Add, Eq, Mul, Piecewise, Pow, Rational, Symbol, cancel, expand, factor, sqrt

from derive import claims
from derive import symbols as S
from derive.checks import (
    CHECK_DIGITS,
    CHECK_SEED,
    Section,
    numeric_check,
    numeric_difference,
    random_points,
    symbolic_check,
)
from derive.display import U, frac, value
from derive.latex import equation


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


def checks():
    """Verification records for Eq. (2)."""
    out = []
    for G in GROUP_SIZES:
        adv = Advantage(G)
        res = [cancel(expand_radicand(claims.advantage_pairwise(adv.r, i)
                                      - adv.direct(i))) for i in range(G)]
        out.append(symbolic_check(
            f"advantage-pairwise-G{G}", "(2)",
            f"G={G}: the pairwise form of A_i equals (r_i - mean)/std for every i "
            "(radicands expanded, difference cancelled)",
            sum(abs(e) for e in res)))
    for G in GROUP_SIZES[:4]:
        adv = Advantage(G)
        out.append(symbolic_check(
            f"advantage-invariance-G{G}", "(2)",
            f"G={G}: A_i(a r + b) = A_i(r) for a > 0 and every i (cancel)",
            sum(abs(adv.invariance_residue(i)) for i in range(G))))
    out.append(symbolic_check(
        "advantage-sign-G2", "(2)",
        "G=2: A_1 = sign(r_1 - r_2) for r_1 > r_2 and r_1 < r_2 (cancel)",
        sum(abs(e) for e in sign_form_residue())))
    out.append(symbolic_check(
        "advantage-tie", "(2)",
        "G=2..6: all advantages of a constant group are 0 (the 0/0 convention)",
        sum(abs(e) for G in GROUP_SIZES for e in tie_residue(G))))
    out.extend(numeric_checks())
    return out


def numeric_checks(digits=CHECK_DIGITS):
    """The pairwise form and the invariance at seeded random rewards, at *digits*."""
    errs_pair, errs_inv = [], []
    for G in GROUP_SIZES:
        adv = Advantage(G)
        names = [str(ri) for ri in adv.r] + ["a", "b"]
        points = random_points(4, names, seed=CHECK_SEED + G, low=-3, high=3)
        for pt in points:
            pt["a"] = abs(pt["a"]) + Fraction(1, 10)
        for i in range(G):
            direct = adv.direct(i)
            errs_pair += numeric_difference(claims.advantage_pairwise(adv.r, i), direct,
                                            points, digits)
            errs_inv += numeric_difference(adv.scaled_advantage(i), direct, points, digits)
    return [numeric_check("advantage-pairwise-numeric", "(2)",
                          "pairwise form = direct form at 4 seeded points per G=2..6, every i",
                          errs_pair, digits),
            numeric_check("advantage-invariance-numeric", "(2)",
                          "A_i(a r + b) = A_i(r) at 4 seeded points per G=2..6, every i",
                          errs_inv, digits)]


def section():
    """The appendix section for Eq. (2)."""
    G = 3
    adv = Advantage(G)
    r = adv.r
    sec = Section("advantage", "The group-relative advantage", "(2)",
                  "The advantage of each member of a group is its reward, shifted by "
                  "the group mean and scaled by the population standard deviation.")
    sec.step("For a group of size $G$ with rewards $r_1, \\dots, r_G$ the engine encodes",
             equation(r"A_i", r"\frac{r_i - \frac{1}{G}\sum_{j=1}^{G} r_j}"
                      r"{\sqrt{\frac{1}{G}\sum_{j=1}^{G}\bigl(r_j - \frac{1}{G}\sum_{k=1}^{G} r_k\bigr)^2}}")
             + r" \\ A_i &= 0 \quad\text{if } r_1 = \dots = r_G,", "advantage")
    r1, r2, r3 = r
    sec.step(f"For $G = {G}$ SymPy reduces the encoded centred reward and variance to the "
             "pairwise form printed in the paper,",
             value(sec, "advantage-pairwise-numerator", "(2)", "r_1 - \\bar r",
                   frac(U(Add, U(Mul, 2, r1), -r2, -r3), 3), r1 - adv.mean) + " \\\\ "
             + value(sec, "advantage-pairwise-variance", "(2)",
                     "\\frac{1}{3} \\sum_{j=1}^{3} (r_j - \\bar r)^2",
                     frac(U(Add, U(Pow, U(Add, r1, -r2), 2), U(Pow, U(Add, r1, -r3), 2),
                            U(Pow, U(Add, r2, -r3), 2)), 9), adv.variance),
             "advantage-pairwise")
    sec.step("and the same identities are verified for "
             f"$G = {', '.join(map(str, GROUP_SIZES))}$.  Rescaling the rewards by $a > 0$ and "
             "shifting them by $b$ multiplies the centred rewards and the standard deviation by "
             f"$a$, so (verified symbolically for $G = {G}$)",
             equation("A_i(a r_1 + b, \\dots, a r_G + b)", "A_i(r_1, \\dots, r_G).")
             , "advantage-invariance")
    two = Advantage(2)
    sec.step("For $G = 2$ the standard deviation is half the absolute difference of the "
             "two rewards, hence",
             value(sec, "advantage-sign", "(2)", "A_1",
                   frac(U(Add, two.r[0], -two.r[1]), Abs(U(Add, two.r[0], -two.r[1]))),
                   two.advantage(0).args[1][0])
             + r" = \operatorname{sign}(r_1 - r_2) \quad (r_1 \ne r_2).", "advantage-sign")
    return sec


def expand_radicand(expr):
    """Expand the argument of every square root in *expr* (a targeted rewrite)."""
    return expr.replace(lambda e: e.is_Pow and e.exp in (Rational(1, 2), Rational(-1, 2)),
                        lambda e: Pow(factor(expand(e.base)), e.exp))
