import mpmath
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sympy import Rational, lambdify

from derive.numerics.roots import anderson
from derive.paper import claims
from derive.paper import symbols as S
from derive.paper.binary import (
    BinaryLimit,
    BinaryTwo,
    condition_limit,
    condition_two,
    limit_residues,
    property_residues,
    select_root,
)


@pytest.fixture(scope="module")
def two():
    return BinaryTwo().derive()


@pytest.fixture(scope="module")
def lim():
    return BinaryLimit().derive()


def test_quadratic_17_and_root_14(two):
    assert (two.condition - claims.binary_quadratic_two()).expand() == 0
    assert len(two.roots) == 2
    pt = {S.p: Rational(3, 10), S.beta: Rational(1, 2), S.gamma: 1}
    assert abs((two.policy - claims.binary_policy_two()).evalf(50, subs=pt)) < 1e-45


def test_properties_of_14_are_proved(two):
    assert all(v == 0 for v in property_residues(two).values())


def test_limit_root_selection_discards_spurious_root(lim):
    assert (lim.squared - claims.binary_quadratic_limit()).expand() == 0
    (spur,) = lim.spurious
    pt = {S.p: Rational(1, 5), S.beta: 2}
    xs = spur.evalf(40, subs=pt)
    assert xs < Rational(1, 5)                                  # violates x >= p
    assert abs(claims.binary_condition_limit(xs, Rational(1, 5), 2).evalf(40)) > 1e-3
    assert all(v == 0 for v in limit_residues(lim).values())


def test_select_root_refuses_ambiguity():
    with pytest.raises(ArithmeticError):
        select_root([S.p, S.p / 2], lambda r, pt: True)


@pytest.mark.parametrize("digits", [15, 30, 50])
@pytest.mark.parametrize("p,beta", [("0.01", "0.04"), ("0.3", "0.5"), ("0.9", "2"), ("0.5", "1")])
def test_closed_forms_against_unsquared_roots(digits, p, beta):
    f2 = lambdify((S.p, S.beta), claims.binary_policy_two().subs(S.gamma, 1), "mpmath")
    fl = lambdify((S.p, S.beta), claims.binary_policy_limit(), "mpmath")
    with mpmath.workdps(digits + 10):
        P, B = mpmath.mpf(p), mpmath.mpf(beta)
        tol = mpmath.mpf(10) ** (-digits)
        assert abs(f2(P, B) - anderson(lambda t: condition_two(t, P, B), mpmath.mpf(P), mpmath.mpf(1))) < tol
        assert abs(fl(P, B) - anderson(lambda t: condition_limit(t, P, B), mpmath.mpf(P), mpmath.mpf(1))) < tol


def test_known_values():
    with mpmath.workdps(50):
        f2 = lambdify((S.p, S.beta), claims.binary_policy_two().subs(S.gamma, 1), "mpmath")
        # beta = gamma gives sqrt(p); beta = 1/2, p = 1/10 gives (1 + sqrt(5))/2 - 1/2 ... = 0.5854...
        assert abs(f2(mpmath.mpf("0.3"), 1) - mpmath.sqrt(mpmath.mpf("0.3"))) < 1e-45
        assert mpmath.nstr(f2(mpmath.mpf("0.1"), mpmath.mpf("0.5")), 12) == "0.585410196625"


probs = st.fractions(min_value=Rational(1, 100), max_value=Rational(99, 100), max_denominator=1000)
betas = st.fractions(min_value=Rational(1, 100), max_value=5, max_denominator=1000)


@given(probs, betas)
def test_bounds_hold(p, beta):
    with mpmath.workdps(30):
        P, B = mpmath.mpf(p.numerator) / p.denominator, mpmath.mpf(beta.numerator) / beta.denominator
        x2 = anderson(lambda t: condition_two(t, P, B), mpmath.mpf(P), mpmath.mpf(1))
        xl = anderson(lambda t: condition_limit(t, P, B), mpmath.mpf(P), mpmath.mpf(1))
        eps = mpmath.mpf(10) ** -25
        assert x2 >= max(1 - B, P) - eps
        assert xl >= max(1 / (1 + B**2), P) - eps
        assert 1 / (1 + B**2) > 1 - B


def _seeded_points(n, seed):
    """*n* seeded exact points ``(x, p, beta, gamma)``: x, p, gamma in (0, 1), beta in (0, 4)."""
    from derive.verify.checks import random_points

    return [(pt["x"], pt["p"], 4 * pt["beta"], pt["gamma"])
            for pt in random_points(n, ("x", "p", "beta", "gamma"), seed, low=0.001, high=0.999)]


def test_typed_residuals_are_the_derived_conditions(two, lim):
    """condition_two and condition_limit (the fast numeric forms the checks bracket) equal the
    lambdified derived (17) and unsquared (19) at 40 seeded points, to 1e-40 at 50 digits."""
    from derive.numerics.context import mpf_exact

    x, p, beta, gamma = S.x, S.p, S.beta, S.gamma
    f17 = lambdify((x, p, beta, gamma), two.condition, "mpmath")
    f19 = lambdify((x, p, beta), lim.unsquared, "mpmath")
    with mpmath.workdps(50):
        for point in _seeded_points(40, 8):
            xv, pv, bv, gv = map(mpf_exact, point)
            for typed, derived in ((condition_two(xv, pv, bv, gv), f17(xv, pv, bv, gv)),
                                   (condition_limit(xv, pv, bv), f19(xv, pv, bv))):
                assert abs(typed - derived) <= mpmath.mpf(10) ** -40 * max(1, abs(derived))
            # and they are not trivially small: the test can fail
            assert abs(condition_two(xv, pv, bv, gv) - condition_limit(xv, pv, bv)) > 0
