"""The section and the checks of the group-relative advantage, arXiv:2502.18548v3, Eq. (2).

Its derivation, :mod:`derive.paper.advantage`, is checked here against the
claims and an independent path.
"""

from fractions import Fraction

from sympy import Abs, Add, Mul, Pow, cancel

from derive.numerics.precision import CHECK_DIGITS, CHECK_SEED
from derive.paper import claims
from derive.paper.advantage import GROUP_SIZES, Advantage, expand_radicand, sign_form_residue, tie_residue
from derive.paper.latex import equation
from derive.verify.checks import Section, numeric_check, numeric_difference, random_points, symbolic_check
from derive.verify.display import U, frac, value


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
