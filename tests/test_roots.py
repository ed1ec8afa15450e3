"""Tests of derive.numerics.roots: every bracketing root finder and the sign-change scan,
each tested directly, including the cases where it must say no."""

import math

import mpmath
import pytest
from hypothesis import given
from hypothesis import strategies as st

from derive.model import variants as VD
from derive.numerics import roots
from derive.numerics.roots import (
    Bracket,
    bisect,
    bisect_geometric,
    bisection,
    bracket_then_anderson,
    illinois,
    root_below_one,
    sign_changes,
)
from derive.solve import reduced

# -- sign_changes -------------------------------------------------------------------


def test_sign_changes_reports_zeros_and_brackets_in_grid_order():
    assert sign_changes([3, 1, -2, -2, 0, 5, 0]) == [(1, 2), (4, 4), (6, 6)]


def test_sign_changes_says_no_without_a_sign_change():
    assert sign_changes([1.0, 2.0, 0.5, 3.0]) == []
    assert sign_changes([-1.0, -2.0]) == []
    assert sign_changes([]) == []


def test_sign_changes_never_brackets_across_an_undefined_value():
    assert sign_changes([1.0, None, -1.0]) == []
    assert sign_changes([1.0, float("nan"), -1.0]) == []
    assert sign_changes([mpmath.mpf(1), mpmath.nan, mpmath.mpf(-1)]) == []


def test_sign_changes_a_bracket_never_ends_on_a_zero():
    # the zero is reported itself, once
    assert sign_changes([1.0, 0.0, -1.0]) == [(1, 1)]


def test_sign_change_whose_product_underflows_is_found():
    # regression: reduced._scan tested f_i f_(i+1) < 0, and 1e-200 * -1e-200 underflows to -0.0
    assert 1e-200 * -1e-200 == 0
    assert sign_changes([1e-200, -1e-200]) == [(0, 1)]


def test_reduced_scan_finds_a_sign_change_whose_product_underflows():
    # regression for reduced._scan (it multiplied the two values, which underflowed to 0)
    root = 3.0
    brackets = reduced._scan(lambda t: 1e-170 * (t - root), 1.0, 10.0, 7)
    assert len(brackets) == 1
    a, b = brackets[0]
    assert a < root < b


def test_bracketed_roots_finds_a_zero_at_the_last_grid_point():
    # regression: variants.bracketed_roots never reported an exact zero at the last grid point
    mpmath.mp.dps = 30
    with mpmath.workdps(20):
        last = 1 / (1 + mpmath.exp(-30))
    assert VD.bracketed_roots(lambda t: t - last, 8) == [last]


@given(st.lists(st.one_of(st.none(), st.integers(-3, 3).map(float)), max_size=12))
def test_sign_changes_matches_its_definition(values):
    found = sign_changes(values)
    assert found == sorted(found)
    for i, j in found:
        assert values[i] is not None
        if i == j:
            assert values[i] == 0
        else:
            assert j == i + 1 and values[j] is not None and values[i] * values[j] < 0
    # every sign change of neighbours is found
    for i in range(len(values) - 1):
        a, b = values[i], values[i + 1]
        if a is not None and b is not None and a * b < 0:
            assert (i, i + 1) in found


# -- bisection and bisect --------------------------------------------------------------


@pytest.mark.parametrize("dps", [15, 30, 50])
def test_bisect_reaches_the_working_precision(dps):
    mpmath.mp.dps = dps
    r = bisect(lambda t: t**3 - 2, 1, 2)
    assert abs(r - mpmath.cbrt(2)) <= 2 * mpmath.eps * r


def test_bisect_says_no_without_a_sign_change():
    with pytest.raises(ValueError, match="does not change sign"):
        bisect(lambda t: t * t + 1, -1, 1)


def test_bisect_returns_an_exact_zero_at_an_end():
    assert bisect(lambda t: t - 1, 1, 3) == 1
    assert bisect(lambda t: t - 3, 1, 3) == 3


def test_bisection_stops_when_the_bracket_stops_shrinking():
    calls = []

    def f(t):
        calls.append(t)
        return t * t - 0.3

    br = bisection(f, 0.0, 1.0, -0.3, 0.7, 10_000)
    assert br.defined and br.fa < 0 < br.fb
    assert br.b == math.nextafter(br.a, 2)          # adjacent doubles
    assert len(calls) < 70                           # it stopped; far fewer than 10 000 steps


def test_bisection_reports_where_the_function_is_undefined():
    br = bisection(lambda t: None if t > 0.6 else t - 0.55, 0.0, 1.0, -0.55, 0.45, 50)
    assert not br.defined
    assert (br.a, br.b) == (0.5, 1.0)                # the last bracket on which f was defined


def test_bisection_geometric_midpoint_and_close_rule():
    br = bisection(lambda t: t - 1e-20, 1e-30, 1.0, -1.0, 1.0, 200, midpoint=lambda a, b: math.sqrt(a * b),
                   close=lambda a, b: b - a <= 1e-15 * b)
    assert br.a <= 1e-20 <= br.b and br.b - br.a <= 1e-15 * br.b


def test_bisect_geometric_on_a_log_scale():
    r = bisect_geometric(lambda t: math.log(t) + 40, 1e-30, 1.0)
    assert abs(r - math.exp(-40)) <= 1e-14 * r
    assert bisect_geometric(lambda t: t - 2, 2.0, 2.0) == 2.0


# -- illinois ----------------------------------------------------------------------------


@pytest.mark.parametrize("dps", [15, 30, 50])
def test_illinois_converges_in_mpmath(dps):
    mpmath.mp.dps = dps
    f = lambda t: mpmath.exp(t) - 3                  # noqa: E731
    a, b = mpmath.mpf(0), mpmath.mpf(2)
    tol = mpmath.mpf(2) ** (-mpmath.mp.prec + 10)
    br = illinois(f, a, b, f(a), f(b), lambda u, v: abs(v - u) <= tol * max(1, abs(u)), 400)
    assert br.defined
    assert abs((br.a + br.b) / 2 - mpmath.log(3)) <= 2 ** 12 * mpmath.eps


def test_illinois_is_faster_than_bisection():
    steps = []
    f = lambda t: (steps.append(t), t**5 - 7)[1]     # noqa: E731
    illinois(f, 1.0, 2.0, -6.0, 25.0, lambda a, b: abs(b - a) <= 1e-14, 200)
    assert len(steps) < 20                           # bisection needs 47


def test_illinois_says_no_where_the_function_is_undefined():
    f = lambda t: None if 0.4 < t < 0.9 else t - 0.5   # noqa: E731
    br = illinois(f, 0.0, 1.0, -0.5, 0.5, lambda a, b: False, 50)
    assert not br.defined and (br.a, br.b) == (0.0, 1.0)
    # with the midpoint retry it tries 0.5 too, where f is defined and zero
    br = illinois(lambda t: None if 0.3 < t < 0.45 or t > 0.6 else t - 0.5, 0.0, 1.0, -0.5, 0.5,
                  lambda a, b: False, 50, retry_midpoint=True)
    assert br == Bracket(0.5, 0.0, 0.5, 0.0)


def test_illinois_forced_bisection_steps():
    # with a bisection at every step it is bisection: the width halves exactly at each step
    f = lambda t: math.expm1(20 * t) - 1             # noqa: E731
    br = illinois(f, 0.0, 1.0, f(0.0), f(1.0), lambda a, b: False, 8, bisect_every=1)
    assert br.b - br.a == 2.0**-8
    # without it the first step is the secant point, not the midpoint
    br = illinois(f, 0.0, 1.0, f(0.0), f(1.0), lambda a, b: False, 1)
    assert (br.a, br.b) != (0.0, 0.5) and (br.a, br.b) != (0.5, 1.0)


# -- root_below_one and bracket_then_anderson -------------------------------------------


def test_root_below_one_returns_one_where_the_condition_is_not_positive_below_one():
    mpmath.mp.dps = 30
    assert root_below_one(lambda t: t - 2, mpmath.mpf(1) / 5) == 1
    assert root_below_one(lambda t: t - 1, mpmath.mpf(1) / 5) == 1


@pytest.mark.parametrize("dps", [15, 30, 50])
def test_root_below_one_solves_eq_14(dps):
    # arXiv:2502.18548v3, Eq. (14) at beta = 1/2, p = 1/5: x = (1/2 + sqrt(13/20))/2, the root of
    # the unsquared G = 2 condition beta (x - p) - x (1 - x) = 0
    mpmath.mp.dps = dps + 10
    P, B = mpmath.mpf(1) / 5, mpmath.mpf(1) / 2
    x = root_below_one(lambda t: B * (t - P) - t * (1 - t), P)
    closed = (mpmath.mpf(1) / 2 + mpmath.sqrt(mpmath.mpf(13) / 20)) / 2
    assert abs(x - closed) < mpmath.mpf(10) ** -(dps + 5)


@pytest.mark.parametrize("check_sign", [True, False])
def test_bracket_then_anderson(check_sign):
    mpmath.mp.dps = 40
    x = bracket_then_anderson(lambda t: mpmath.exp(t) - 2, mpmath.mpf(1) / 10, check_sign=check_sign)
    assert abs(x - mpmath.log(2)) < mpmath.mpf(10) ** -38


def test_bracket_then_anderson_falls_back_to_bisection_at_an_exact_zero():
    # the double-precision bisection meets t = 1/2 exactly: no Anderson step on (1/2, 1/2)
    mpmath.mp.dps = 40
    assert bracket_then_anderson(lambda t: t - mpmath.mpf(1) / 2, 0, check_sign=False) == mpmath.mpf(1) / 2


def test_grid_local_minima_on_a_2d_grid_against_brute_force():
    """Every point whose finite value no grid neighbour beats, and no other."""
    import itertools
    import random

    rng = random.Random(20250313)
    for _ in range(50):
        n = rng.choice((1, 2, 3))
        merit = {idx: rng.choice((None, math.inf, float(rng.randrange(5))))
                 for idx in itertools.product(range(4), repeat=n)}
        mins = roots.grid_local_minima(merit)
        for idx, val in merit.items():
            finite = val is not None and val != math.inf
            beaten = any(
                merit.get(tuple(i + d for i, d in zip(idx, delta))) is not None
                and merit[tuple(i + d for i, d in zip(idx, delta))] < val
                for delta in itertools.product((-1, 0, 1), repeat=n) if any(delta)
                if tuple(i + d for i, d in zip(idx, delta)) in merit) if finite else True
            assert ((val, idx) in mins) == (finite and not beaten)
    assert roots.grid_local_minima({(0,): None, (1,): math.inf}) == []
