"""Tests of derive.numerics.certify: interval Newton / Krawczyk certificates and enclosures."""

import doctest
from fractions import Fraction as F

import pytest
from mpmath import mp

from derive.numerics import certify
from derive.numerics.certify import certify_root_1d, certify_root_nd, exact_enclosure
from derive.numerics.certify import exact_value as _exact
from derive.numerics.context import ARB
from derive.solve.solver import Problem, _roots_1d, _roots_nd, stationary_policies, system_of


def test_exact_enclosure_contains_the_rational():
    for value in (F(1, 3), F(2, 7), F(0), F(1)):
        ((lo, hi),) = exact_enclosure([value], 200)
        assert _exact(lo) <= value <= _exact(hi)
        assert _exact(hi) - _exact(lo) < F(1, 10**55)


@pytest.mark.parametrize("digits", [15, 30, 50])
@pytest.mark.parametrize("group", [2, 64, 1024, None])
def test_enclosure_contains_the_closed_form_and_is_narrow(digits, group):
    (s,) = stationary_policies(Problem.deterministic((F(1, 5), F(4, 5)), (1, 0), F(1, 2), group), digits=digits)
    assert s.certified and s.note == ""
    for (lo, hi), p in zip(s.enclosure, s.policy):
        assert lo <= p <= hi
        assert hi - lo < mp.mpf(10) ** -(digits - 5)
    if group == 2:
        # arXiv:2502.18548v3, Eq. (14) at beta = 1/2, p = 1/5: x = (1/2 + sqrt(13/20))/2
        mp.dps = 3 * digits
        x = (mp.mpf(1) / 2 + mp.sqrt(mp.mpf(13) / 20)) / 2
        lo, hi = s.enclosure[0]
        assert lo <= x <= hi


def _one_root(problem, digits=50):
    system = system_of(problem)
    mp.dps = digits + 12
    (root,) = _roots_1d(system, digits)
    return system, root


def test_interval_newton_certifies_a_simple_root():
    system, root = _one_root(Problem.deterministic((F(1, 5), F(4, 5)), (1, 0), F(1, 2), 8))
    policy = system.residual_1d(root.u, root.v, __import__("derive.numerics.context", fromlist=["MP"]).MP)[2]
    enclosure, certified, why = certify_root_1d(system, root.u, root.v, 50, policy)
    assert certified and why == ""
    assert all(lo <= p <= hi for (lo, hi), p in zip(enclosure, policy))


def test_interval_newton_rejects_a_point_that_is_not_a_root():
    system, root = _one_root(Problem.deterministic((F(1, 5), F(4, 5)), (1, 0), F(1, 2), 8))
    u = root.u * (1 + mp.mpf(10) ** -30)
    enclosure, certified, why = certify_root_1d(system, u, 1 - u, 50, (u, 1 - u))
    assert not certified and why
    assert all(lo == hi for lo, hi in enclosure)  # no claim is made


def test_a_ball_that_is_not_finite_is_a_failed_evaluation_not_a_certificate():
    # Arb does not raise where mpmath.iv did (division by a ball holding 0): the ball
    # is not finite, and the test must report a failure rather than compare its ends.
    system, root = _one_root(Problem.deterministic((F(1, 5), F(4, 5)), (1, 0), F(1, 2), 8))
    w, flip = min(root.u, root.v), root.v < root.u
    why = certify._interval_newton(system, w, flip, mp.mpf(2))
    assert isinstance(why, str) and "not finite" in why
    assert not certify._finite([ARB.num(1) / 0]) and certify._finite([ARB.num(1), None, 0])


def test_krawczyk_certifies_a_three_output_root_and_rejects_a_perturbed_one():
    problem = Problem.deterministic((F(1, 2), F(3, 10), F(1, 5)), (1, F(1, 2), 0), F(1, 2), 4)
    system = system_of(problem)
    mp.dps = 62
    (x,) = _roots_nd(system, 50)
    from derive.numerics.context import MP

    policy = system.residual_nd(x, MP)[2]
    enclosure, certified, why = certify_root_nd(system, x, 50, policy)
    assert certified and why == ""
    assert all(lo <= p <= hi and hi - lo < mp.mpf(10) ** -45 for (lo, hi), p in zip(enclosure, policy))
    moved = [x[0] + mp.mpf(10) ** -30, x[1]]
    _, certified, why = certify_root_nd(system, moved, 50, policy)
    assert not certified and "Krawczyk" in why


def test_ill_conditioned_root_is_certified_with_a_wider_box():
    # four outputs, three values, shift-only with a small beta: condition number ~ 1e8
    problem = Problem.deterministic((F(1, 10), F(3, 10), F(1, 5), F(2, 5)), (1, 1, 0, F(1, 3)), F(1, 25), 3,
                                    "k3-is", "shift-only")
    (s,) = stationary_policies(problem)
    assert s.certified
    assert all(lo <= p <= hi and hi - lo < mp.mpf(10) ** -45 for (lo, hi), p in zip(s.enclosure, s.policy))


def test_boundary_points_are_exact_and_certified():
    sols = stationary_policies(Problem.deterministic((F(1, 5), F(4, 5)), (1, 0), F(3), None, "k3-is"))
    boundary = [s for s in sols if s.kind == "boundary"]
    assert len(boundary) == 1 and boundary[0].certified
    (lo0, hi0), (lo1, hi1) = boundary[0].enclosure
    assert lo0 == hi0 == 1 and lo1 == hi1 == 0


def test_without_certificates_nothing_is_claimed():
    (s,) = stationary_policies(Problem.deterministic((F(1, 5), F(4, 5)), (1, 0), F(1, 2), 4), certify=False)
    assert not s.certified and "not requested" in s.note
    assert all(lo == hi == p for (lo, hi), p in zip(s.enclosure, s.policy))


def test_docstring_examples():
    failures, _ = doctest.testmod(certify)
    assert failures == 0
