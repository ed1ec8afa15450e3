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
