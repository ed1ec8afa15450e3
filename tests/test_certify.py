"""Tests of derive.numerics.certify: interval Newton / Krawczyk certificates and enclosures."""

import doctest
from fractions import Fraction as F

import mpmath
import pytest
from mpmath import mp

from derive.numerics import certify
from derive.numerics.certify import (
    DERIVATIVE_HOLDS_ZERO,
    KRAWCZYK_NOT_INSIDE,
    NEWTON_NOT_INSIDE,
    certify_root_1d,
    certify_root_nd,
    exact_enclosure,
    interval_ends,
    krawczyk_image,
    newton_enclosure,
    newton_image,
    widen_until,
)
from derive.numerics.certify import exact_value as _exact
from derive.numerics.context import ARB, MP, arb_precision, interval
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
    policy = system.residual_1d(root.u, root.v, MP)[2]
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


# -- the shared primitives, tested directly -------------------------------------------


def _sqrt2_box(prec, half_width):
    """``X = [sqrt(2) -+ half_width]`` (centre rounded), its midpoint, ``f(m) = m^2 - 2`` and ``f'(X) = 2X``."""
    with mp.workprec(prec):
        c = mp.sqrt(2)
        ends = (c - mp.mpf(half_width.numerator) / half_width.denominator,
                c + mp.mpf(half_width.numerator) / half_width.denominator)
    with arb_precision(prec):
        X = interval(*ends)
        m = X.mid()
        return X, m, m * m - 2, 2 * X


@pytest.mark.parametrize("digits", [15, 30, 50])
def test_newton_image_proves_a_simple_root_with_a_narrow_image(digits):
    prec = mpmath.libmp.dps_to_prec(digits + 10)
    X, m, fm, dfX = _sqrt2_box(prec, F(1, 10**digits))
    with arb_precision(prec):
        N, why = newton_image(X, m, fm, dfX)
        lo, hi = interval_ends(N)
    mp.dps = digits + 20
    assert why == "" and lo < mp.sqrt(2) < hi
    # the Newton image is quadratically narrower than the box (radius ~ width^2), not just inside it
    assert hi - lo < mp.mpf(10) ** -(digits + 5)


def test_newton_image_says_no_when_the_image_is_not_inside_the_box():
    X, m, fm, dfX = _sqrt2_box(200, F(1, 10**20))
    with arb_precision(200):
        N, why = newton_image(X, m, fm + ARB.num(F(1, 10**10)), dfX)      # f(x) = x^2 - 2 + 1e-10: no root in X
    assert why == NEWTON_NOT_INSIDE and N is not None


def test_newton_image_says_no_when_the_derivative_holds_zero():
    with arb_precision(200):
        X = interval(-1, 2)
        N, why = newton_image(X, ARB.num(F(1, 2)), ARB.num(F(-7, 4)), 2 * X)
    assert N is None and why == DERIVATIVE_HOLDS_ZERO
    with arb_precision(200):                     # a ball that is not finite is no derivative either
        assert newton_image(X, ARB.num(F(1, 2)), ARB.num(1), ARB.num(1) / 0)[1] == DERIVATIVE_HOLDS_ZERO


def test_newton_enclosure_is_the_box_when_it_proves_nothing():
    X, m, fm, dfX = _sqrt2_box(200, F(1, 10**20))
    with arb_precision(200):
        lo, hi, certified = newton_enclosure(X, m, fm, dfX)
        bad = newton_enclosure(X, m, fm + ARB.num(F(1, 10**10)), dfX)
    assert certified and lo < hi and (lo, hi) != interval_ends(X)
    mp.dps = 60
    assert lo < mp.sqrt(2) < hi and hi - lo < mp.mpf(10) ** -35
    assert bad == (*interval_ends(X), False)


def _circle_line(prec, radius, shift=0):
    """The Krawczyk data of ``F = (x^2 + y^2 - 1 - shift, x - y)`` on the box ``(c, c) -+ radius``,
    ``c`` near ``1/sqrt(2)``, with ``Y`` the inverse of the Jacobian at the centre."""
    with arb_precision(prec):
        c = mp.sqrt(mp.mpf(1) / 2)
        X = [interval(c - radius, c + radius)] * 2
        Xm = [ARB.num(c)] * 2
        F_m = [Xm[0] * Xm[0] + Xm[1] * Xm[1] - 1 - ARB.num(shift), Xm[0] - Xm[1]]
        J_X = [[2 * X[0], 2 * X[1]], [ARB.num(1), ARB.num(-1)]]
    Y = [[1 / (4 * c), mp.mpf(1) / 2], [1 / (4 * c), -mp.mpf(1) / 2]]
    return X, Xm, F_m, J_X, Y


@pytest.mark.parametrize("digits", [15, 30, 50])
def test_krawczyk_image_proves_the_root_of_a_two_unknown_system(digits):
    mp.dps = digits + 10
    prec = mp.prec + 10
    X, Xm, F_m, J_X, Y = _circle_line(prec, mp.mpf(10) ** -(digits - 1))
    with arb_precision(prec):
        assert krawczyk_image(X, Xm, F_m, J_X, Y) == ""


def test_krawczyk_image_says_no_when_the_image_is_not_inside_the_box():
    mp.dps = 40
    # the root moved out of the box (F shifted), and a Y that is not an inverse at all
    X, Xm, F_m, J_X, Y = _circle_line(mp.prec + 10, mp.mpf(10) ** -30, F(1, 10**20))
    with arb_precision(mp.prec + 10):
        assert krawczyk_image(X, Xm, F_m, J_X, Y) == KRAWCZYK_NOT_INSIDE
    X, Xm, F_m, J_X, _ = _circle_line(mp.prec + 10, mp.mpf(10) ** -30)
    with arb_precision(mp.prec + 10):
        assert krawczyk_image(X, Xm, F_m, J_X, [[1, 0], [0, 1]]) == KRAWCZYK_NOT_INSIDE


def test_widen_until_widens_by_the_factor_and_stops_at_the_limit():
    tried = []

    def test(r):
        tried.append(r)
        return "not inside" if r < 10**5 else r

    assert widen_until(test, 1, 10**9) == (10**6, "")
    assert tried == [1, 10**3, 10**6]
    tried.clear()
    assert widen_until(test, 1, 10**4) == (None, "not inside")
    assert tried == [1, 10**3]
    assert widen_until(test, 10, 1) == (None, None)       # no box within the limit: no test, no claim


def test_widen_until_stops_at_a_failure_it_is_told_not_to_retry():
    tried = []

    def test(r):
        tried.append(r)
        return "the interval evaluation is undefined" if r < 10**5 else r

    assert widen_until(test, 1, 10**9, retry=lambda why: "contains 0" in why) == \
        (None, "the interval evaluation is undefined")
    assert tried == [1]
