from fractions import Fraction as F

import mpmath
import pytest

from derive.paper.noisy import (
    condition_value,
    margin_two,
    s_a,
    s_b,
    stationary_limit_noisy,
    stationary_limit_noisy_b,
)
from derive.results.noisy import checks, deviation_rows


def test_margin_is_difference_of_success_probabilities():
    assert margin_two() == s_a - s_b


def test_all_noisy_checks_pass():
    assert all(c.passed for c in checks())


@pytest.mark.parametrize("sa,sb,beta,p", [("0.9", "0.1", "0.5", "0.2"), ("0.7", "0.2", "2", "0.6"),
                                           ("1", "0.5", "1", "0.1")])
def test_two_equations_agree_and_residual_vanishes(sa, sb, beta, p):
    with mpmath.workdps(50):
        args = [mpmath.mpf(v) for v in (p, beta, sa, sb)]
        xa = stationary_limit_noisy(*args)
        xb = stationary_limit_noisy_b(*args)
        assert abs(xa - xb) < mpmath.mpf(10) ** -40
        assert abs(condition_value(xa, *args)) < mpmath.mpf(10) ** -40
        assert args[0] < xa < 1


def test_noise_moves_the_policy_below_15():
    rows, _ = deviation_rows(30)
    noisy = [r for r in rows if r["s_a"] != "1"]
    assert all(r["diff"] < 0 for r in noisy)          # noise lowers pi(a) at p = 0.2
    assert all(abs(r["diff"]) < mpmath.mpf(10) ** -25 for r in rows if r["s_a"] == "1")


def test_condition_value_is_the_derived_noisy_condition():
    """condition_value (typed once, numeric) equals the lambdified derived condition
    (condition_limit_noisy, sigma = sqrt(q (1 - q))) at 40 seeded points, to 1e-40 at 50 digits."""
    import random

    from sympy import Symbol, lambdify

    from derive.numerics.context import mpf_exact
    from derive.paper import symbols as S
    from derive.paper.noisy import condition_limit_noisy

    derived, q = condition_limit_noisy()
    sigma = Symbol("sigma", positive=True)
    f = lambdify((S.x, S.p, S.beta, s_a, s_b, sigma), derived, "mpmath")
    rng = random.Random(11)
    with mpmath.workdps(50):
        for _ in range(40):
            xv, pv, bv = (mpf_exact(F(rng.randint(1, 999), 1000)) for _ in range(3))
            bv *= 4
            sb = mpf_exact(F(rng.randint(0, 500), 1000))
            sa = sb + mpf_exact(F(rng.randint(1, 500), 1000))
            qv = xv * sa + (1 - xv) * sb
            want = f(xv, pv, bv, sa, sb, mpmath.sqrt(qv * (1 - qv)))
            got = condition_value(xv, pv, bv, sa, sb)
            assert abs(got - want) <= mpmath.mpf(10) ** -40 * max(1, abs(want))
