import mpmath
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sympy import Rational, sqrt

from derive.paper import claims
from derive.paper.advantage import Advantage, sign_form_residue, tie_residue
from derive.verify.enumeration import group_advantages

rewards = st.lists(st.fractions(min_value=-5, max_value=5, max_denominator=50),
                   min_size=2, max_size=6)


@pytest.mark.parametrize("G", [2, 3, 4, 5])
def test_pairwise_identity_reduces_to_zero(G):
    adv = Advantage(G)
    for i in range(G):
        assert adv.pairwise_residue(i) == (0, 0)


@pytest.mark.parametrize("G", [2, 3, 4])
def test_invariance_under_positive_affine_map(G):
    adv = Advantage(G)
    assert all(adv.invariance_residue(i) == 0 for i in range(G))


def test_invariance_fails_for_negative_scale():
    # A check that can fail: r -> -r flips every advantage.
    adv = Advantage(3)
    r = (Rational(2), Rational(1), Rational(0))
    assert adv.advantage(0, [-v for v in r]) == -adv.advantage(0, r)
    assert adv.advantage(0, r) == sqrt(6) / 2


def test_sign_form_and_tie():
    assert sign_form_residue() == [0, 0]
    assert tie_residue(4) == [0, 0, 0, 0]
    assert Advantage(2).advantage(0, (3, 3)) == 0


def test_population_not_sample_std():
    # Population std of (1, 0) is 1/2, so A_1 = 1; the sample std would give 1/sqrt(2).
    assert Advantage(2).advantage(0, (1, 0)) == 1


def test_rejects_bad_group_size():
    with pytest.raises(ValueError):
        Advantage(1)


@given(rewards)
def test_advantages_sum_to_zero_and_unit_variance(r):
    with mpmath.workdps(40):
        a = group_advantages([mpmath.mpf(v.numerator) / v.denominator for v in r])
        assert abs(mpmath.fsum(a)) < mpmath.mpf(10) ** -35
        if len(set(r)) > 1:
            assert abs(mpmath.fsum(x * x for x in a) / len(a) - 1) < mpmath.mpf(10) ** -35
        else:
            assert all(x == 0 for x in a)


@given(rewards, st.fractions(min_value=Rational(1, 10), max_value=10, max_denominator=20),
       st.fractions(min_value=-10, max_value=10, max_denominator=20))
def test_shift_scale_invariance_numeric(r, a, b):
    with mpmath.workdps(40):
        conv = lambda v: mpmath.mpf(v.numerator) / v.denominator
        base = group_advantages([conv(v) for v in r])
        moved = group_advantages([conv(a * v + b) for v in r])
        assert max(abs(x - y) for x, y in zip(base, moved)) < mpmath.mpf(10) ** -35


@given(st.lists(st.integers(-4, 4), min_size=3, max_size=3))
def test_symbolic_matches_pairwise_claim_at_points(r):
    adv = Advantage(3)
    rr = [Rational(v) for v in r]
    if len(set(r)) == 1:
        return
    for i in range(3):
        derived = adv.advantage(i, rr)
        claim = claims.advantage_pairwise(rr, i)
        assert (derived - claim).equals(0)
