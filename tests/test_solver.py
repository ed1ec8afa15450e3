"""Tests of derive.solve.solver: closed forms, independent stationarity checks, boundary points."""

import doctest
import itertools
from fractions import Fraction as F

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mpmath import mp

from derive.numerics.certify import exact_value as _exact
from derive.solve import solver
from derive.solve.solver import Problem, stationarity_residual, stationary_policies


def _mp(x):
    x = F(x)
    return mp.mpf(x.numerator) / x.denominator


def g2_k3(beta, p):
    """arXiv:2502.18548v3, Eq. (14) with gamma = 1."""
    return ((1 - beta) + mp.sqrt((1 - beta) ** 2 + 4 * beta * p)) / 2


def ginf_k3(beta, p):
    """arXiv:2502.18548v3, Eq. (15)."""
    return (2 * beta**2 * p + 1 + mp.sqrt(1 + 4 * beta**2 * p * (1 - p))) / (2 * (1 + beta**2))


def g2_k3is(beta, p):
    """arXiv:2502.18548v3, Section 3 (direct KL), binary, G = 2."""
    e = mp.exp(1 / (2 * beta))
    return e * p / (e * p + (1 - p) / e)


@pytest.mark.parametrize("digits", [15, 30, 50])
@pytest.mark.parametrize("beta", [F(1, 25), F(1, 2), F(2)])
@pytest.mark.parametrize("p", [F(1, 10), F(1, 2), F(9, 10)])
@pytest.mark.parametrize("group, penalty, closed_form", [(2, "k3", g2_k3), (None, "k3", ginf_k3), (2, "k3-is", g2_k3is)])
def test_binary_closed_forms(digits, beta, p, group, penalty, closed_form):
    sols = stationary_policies(Problem.deterministic((p, 1 - p), (1, 0), beta, group, penalty), digits=digits)
    assert len(sols) == 1
    (s,) = sols
    mp.dps = 2 * digits + 60  # the enclosure can be far tighter than 10^-digits near x = 1
    x = closed_form(_mp(beta), _mp(p))
    assert abs(s.policy[0] - x) < mp.mpf(10) ** -(digits - 3)
    assert abs(s.policy[0] + s.policy[1] - 1) < mp.mpf(10) ** -(digits - 3)
    assert s.kind == "interior" and s.classification == "attractor" and s.stable and s.certified
    assert s.residual < mp.mpf(10) ** -(digits - 5)
    lo, hi = s.enclosure[0]
    assert lo <= x <= hi and hi - lo < mp.mpf(10) ** -(digits - 5)


def test_large_groups_approach_the_infinite_group():
    mp.dps = 30
    limit = ginf_k3(mp.mpf(1) / 2, mp.mpf(1) / 5)
    errors = []
    for G in (16, 64, 256, 1024):
        (s,) = stationary_policies(Problem.deterministic((F(1, 5), F(4, 5)), (1, 0), F(1, 2), G), digits=30)
        errors.append(abs(s.policy[0] - limit))
    assert errors == sorted(errors, reverse=True)
    assert errors[-1] < 1e-3


def brute_force_preference(values, rho, pi, G):
    """P_G(o|pi) from every group and every reward outcome (independent of derive)."""
    K = len(pi)
    out = []
    for o in range(K):
        total = mp.mpf(0)
        for others in itertools.product(range(K), repeat=G - 1):
            members = (o,) + others
            weight = mp.fprod(pi[k] for k in others)
            for outcome in itertools.product(*[[j for j in range(len(values)) if rho[k][j]] for k in members]):
                w = weight * mp.fprod(_mp(rho[k][j]) for k, j in zip(members, outcome))
                r = [_mp(values[j]) for j in outcome]
                mean = mp.fsum(r) / G
                sd = mp.sqrt(mp.fsum((x - mean) ** 2 for x in r) / G)
                if sd > mp.mpf(10) ** -(mp.dps - 5):
                    total += w * (r[0] - mean) / sd
        out.append(total)
    return out


@pytest.mark.parametrize("penalty", ["k3", "k3-is"])
@pytest.mark.parametrize(
    "problem",
    [
        Problem.deterministic((F(1, 2), F(3, 10), F(1, 5)), (1, F(1, 2), 0), F(1, 2), 3),
        Problem.deterministic((F(1, 6), F(1, 3), F(1, 2)), (0, 1, F(1, 4)), F(1, 10), 3),
        Problem((F(1, 2), F(1, 4), F(1, 4)), (F(0), F(1, 2), F(1)),
                ((F(0), F(0), F(1)), (F(1, 2), F(0), F(1, 2)), (F(0), F(1), F(0))), F(1, 3), 3),
    ],
)
def test_three_outputs_satisfy_an_independent_stationarity_condition(problem, penalty):
    problem = Problem(problem.ref, problem.values, problem.rho, problem.beta, problem.group, penalty)
    sols = stationary_policies(problem, digits=50)
    assert sols and all(s.kind == "interior" for s in sols)
    mp.dps = 50
    beta = _mp(problem.beta)
    for s in sols:
        pi = [mp.mpf(x) for x in s.policy]
        P = brute_force_preference(problem.values, problem.rho, pi, 3)
        for o in range(3):
            ref = _mp(problem.ref[o])
            if penalty == "k3":
                # arXiv:2502.18548v3, Eq. (11), with E_pi P_G = 0
                assert abs(pi[o] * (1 - P[o] / beta) - ref) < mp.mpf(10) ** -28
            else:
                # pi(o) = pi_ref(o) exp(P_G(o|pi)/beta) / Z
                Z = mp.fsum(_mp(problem.ref[k]) * mp.exp(P[k] / beta) for k in range(3))
                assert abs(pi[o] - ref * mp.exp(P[o] / beta) / Z) < mp.mpf(10) ** -28


def _h(beta, p, x):
    """arXiv:2502.18548v3, Appendix B.2: the direct-KL field at G -> infinity is beta h(x)."""
    return (1 / beta) / mp.sqrt(x * (1 - x)) - mp.log(x / (1 - x)) + mp.log(p / (1 - p))


def test_direct_kl_infinite_group_large_beta_has_three_stationary_points():
    sols = stationary_policies(Problem.deterministic((F(1, 5), F(4, 5)), (1, 0), F(3), None, "k3-is"))
    assert [s.classification for s in sols] == ["boundary-attractor", "repeller", "attractor"]
    assert [s.kind for s in sols] == ["boundary", "interior", "interior"]
    assert sols[0].policy == (1, 0) and sols[0].stable and sols[0].certified
    x2, x1 = sols[1].policy[0], sols[2].policy[0]
    assert x1 < x2
    mp.dps = 50
    for x in (x1, x2):
        assert abs(_h(mp.mpf(3), mp.mpf(1) / 5, x)) < mp.mpf(10) ** -40
    # x* = (1 + sqrt(1 - 1/(1 + beta^2)))/2 separates them (h falls, then rises)
    x_star = (1 + mp.sqrt(1 - 1 / (1 + mp.mpf(9)))) / 2
    assert x1 < x_star < x2
    assert sols[2].stable and not sols[1].stable
    assert all(s.certified for s in sols)


def test_direct_kl_infinite_group_small_beta_has_only_the_boundary_attractor():
    sols = stationary_policies(Problem.deterministic((F(1, 5), F(4, 5)), (1, 0), F(1, 10), None, "k3-is"))
    assert len(sols) == 1
    assert sols[0].policy == (1, 0) and sols[0].classification == "boundary-attractor" and sols[0].kind == "boundary"
    mp.dps = 30
    # h > 0 everywhere: no interior zero (the test can fail if the solver missed one)
    assert min(_h(mp.mpf(1) / 10, mp.mpf(1) / 5, mp.mpf(k) / 1000) for k in range(1, 1000)) > 0


def test_two_close_roots_near_the_critical_beta_are_resolved():
    mp.dps = 40
    p = mp.mpf(1) / 5

    def equations(x, b):
        return [_h(b, p, x), mp.diff(lambda y: _h(b, p, y), x)]

    x_c, beta_c = mp.findroot(equations, (mp.mpf("0.83"), mp.mpf("0.9")))
    above = F(int(beta_c * 10**15) + 1, 10**15) + F(1, 10**9)
    below = F(int(beta_c * 10**15), 10**15) - F(1, 10**9)
    sols = stationary_policies(Problem.deterministic((F(1, 5), F(4, 5)), (1, 0), above, None, "k3-is"), digits=30)
    interior = [s for s in sols if s.kind == "interior"]
    assert [s.classification for s in interior] == ["repeller", "attractor"]
    assert all(abs(s.policy[0] - x_c) < 1e-3 for s in interior)
    assert interior[0].policy[0] - interior[1].policy[0] < 1e-3
    assert all(s.certified for s in interior)
    sols = stationary_policies(Problem.deterministic((F(1, 5), F(4, 5)), (1, 0), below, None, "k3-is"), digits=30)
    assert [s.kind for s in sols] == ["boundary"]


def test_three_levels_infinite_group_direct_kl_faces():
    sols = stationary_policies(Problem.deterministic((F(1, 2), F(3, 10), F(1, 5)), (1, F(1, 2), 0), F(3), None, "k3-is"))
    boundary = {s.policy: s.classification for s in sols if s.kind == "boundary"}
    # the top face attracts; the middle one is a saddle; the bottom one repels in every direction
    assert boundary == {(1, 0, 0): "boundary-attractor", (0, 1, 0): "boundary-saddle"}
    interior = [s for s in sols if s.kind == "interior"]
    assert sorted(s.classification for s in interior) == ["attractor", "saddle"]


def test_rlhf_pooling_for_shift_only_with_direct_kl():
    # shift-only + KL(pi || pi_ref): pi ∝ pi_ref exp((1 - 1/G) r / beta) (arXiv:2502.18548v3, Section 3)
    ref, rewards, beta = (F(1, 10), F(3, 10), F(1, 5), F(2, 5)), (1, F(1, 4), 0, F(1, 3)), F(1, 3)
    for G in (3, 8, None):
        (s,) = stationary_policies(Problem.deterministic(ref, rewards, beta, G, "k3-is", "shift-only"))
        mp.dps = 50
        scale = 1 if G is None else 1 - mp.mpf(1) / G
        w = [_mp(r) * mp.exp(scale * _mp(x) / _mp(beta)) for r, x in zip(ref, rewards)]
        Z = mp.fsum(w)
        assert all(abs(a - b / Z) < mp.mpf(10) ** -45 for a, b in zip(s.policy, w))
        assert s.classification == "attractor" and s.certified
        mp.dps = 15


def test_beta_zero_gives_degenerate_faces():
    sols = stationary_policies(Problem.deterministic((F(1, 5), F(4, 5)), (1, 0), F(0), 3))
    assert [(s.policy, s.kind, s.classification) for s in sols] == [
        ((1, 0), "boundary", "boundary-attractor"), ((0, 1), "boundary", "boundary-repeller")]
    assert sols[0].stable and not sols[1].stable
    sols = stationary_policies(Problem.deterministic((F(1, 5), F(2, 5), F(2, 5)), (1, 1, 0), F(0), 4))
    top = sols[0]
    mp.dps = 50
    assert all(abs(a - _mp(b)) < mp.mpf(10) ** -45 for a, b in zip(top.policy, (F(1, 3), F(2, 3), 0)))
    assert top.classification == "boundary-attractor" and not top.certified
    assert "continuum" in top.note
    sols = stationary_policies(Problem.deterministic((F(1, 5), F(4, 5)), (1, 1), F(0), 4))
    assert [(s.kind, s.classification) for s in sols] == [("interior", "undecided")]


def test_identical_reward_distributions_give_the_reference_policy():
    for penalty in ("k3", "k3-is"):
        (s,) = stationary_policies(Problem.bernoulli((F(1, 3), F(2, 3)), (F(1, 2), F(1, 2)), F(1, 7), 5, penalty))
        with mp.workdps(50):
            assert all(abs(a - _mp(b)) < mp.mpf(10) ** -45 for a, b in zip(s.policy, (F(1, 3), F(2, 3))))
            lo, hi = s.enclosure[0]
            assert _exact(lo) <= F(1, 3) <= _exact(hi)
        assert s.certified and s.classification == "attractor"


@settings(derandomize=True, deadline=None, max_examples=25)
@given(
    p=st.integers(1, 9), s1=st.integers(0, 10), s2=st.integers(0, 10), s3=st.integers(0, 10),
    beta=st.sampled_from([F(1, 20), F(1, 3), F(2)]), group=st.sampled_from([2, 3, 7, None]),
    penalty=st.sampled_from(["k3", "k3-is"]),
)
def test_every_interior_policy_is_a_distribution_and_stationary(p, s1, s2, s3, beta, group, penalty):
    ref = (F(p, 20), F(10 - p, 20), F(1, 2))
    problem = Problem.bernoulli(ref, (F(s1, 10), F(s2, 10), F(s3, 10)), beta, group, penalty)
    sols = stationary_policies(problem, digits=40)
    assert any(s.kind == "interior" for s in sols)
    for s in sols:
        if s.kind != "interior":
            continue
        assert all(x > 0 for x in s.policy)
        assert abs(mp.fsum(s.policy) - 1) < mp.mpf(10) ** -38
        with mp.workdps(50):
            assert stationarity_residual(problem, s.policy) < mp.mpf(10) ** -35


def test_results_are_deterministic_and_sorted():
    problem = Problem.deterministic((F(1, 5), F(4, 5)), (1, 0), F(3), None, "k3-is")
    a = stationary_policies(problem)
    b = stationary_policies(problem)
    assert [s.policy for s in a] == [s.policy for s in b]
    assert [s.policy[0] for s in a] == sorted((s.policy[0] for s in a), reverse=True)


def test_lower_precision_agrees_with_higher():
    problem = Problem.deterministic((F(1, 2), F(3, 10), F(1, 5)), (1, F(1, 2), 0), F(1, 2), 4)
    (low,) = stationary_policies(problem, digits=15)
    (high,) = stationary_policies(problem, digits=50)
    assert all(abs(a - b) < mp.mpf(10) ** -13 for a, b in zip(low.policy, high.policy))


def test_residual_is_the_unsquared_condition():
    problem = Problem.deterministic((F(1, 5), F(4, 5)), (1, 0), F(1, 2), 2)
    (s,) = stationary_policies(problem)
    mp.dps = 60
    x = s.policy[0]
    # g_a - g_b at G = 2 (Eq. (10), (12)): (1 - x) + x - beta (1 - p/x) + beta (1 - (1-p)/(1-x))
    ga = (1 - x) - mp.mpf(1) / 2 * (1 - mp.mpf(1) / 5 / x)
    gb = -x - mp.mpf(1) / 2 * (1 - mp.mpf(4) / 5 / (1 - x))
    assert abs(ga - gb) < mp.mpf(10) ** -45
    # away from the root the residual is large (it can fail)
    assert stationarity_residual(problem, (x + mp.mpf(10) ** -5, 1 - x - mp.mpf(10) ** -5)) > mp.mpf(10) ** -7


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(ref=(F(1, 2), F(1, 3)), values=(0, 1), rho=((1, 0), (0, 1)), beta=1, group=2), "ref must be positive and sum to 1"),
        (dict(ref=(F(1, 2), F(1, 2)), values=(1, 0), rho=((1, 0), (0, 1)), beta=1, group=2), "sorted and distinct"),
        (dict(ref=(F(1, 2), F(1, 2)), values=(0, 1), rho=((1, 0), (0, 1)), beta=-1, group=2), "beta must be >= 0"),
        (dict(ref=(F(1, 2), F(1, 2)), values=(0, 1), rho=((1, 0), (0, 1)), beta=1, group=1), "group must be"),
        (dict(ref=(0.5, 0.5), values=(0, 1), rho=((1, 0), (0, 1)), beta=1, group=2), "exact rationals"),
        (dict(ref=(F(1, 2), F(1, 2)), values=(0, 1), rho=((1, 0), (F(1, 2), F(1, 3))), beta=1, group=2), "sum to 1"),
        (dict(ref=(F(1, 2), F(1, 2)), values=(0, 1), rho=((1, 0), (0, 1)), beta=1, group=2, penalty="k4"), "penalty"),
    ],
)
def test_problem_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Problem(**kwargs)


def test_docstring_examples():
    failures, _ = doctest.testmod(solver)
    assert failures == 0


# -- extreme beta and extreme pi_ref: roots within 1e-400 of a face are found -----
#
# The references below are the closed forms written without cancellation (the
# other root of each quadratic rationalised), evaluated in mpmath: a different
# expression from the solver's stationarity residual, not the same one reused.


def _g2_pair(t, p):
    """``(x, 1 - x)`` of arXiv:2502.18548v3, Eq. (14) with ``t = beta/gamma``, both without cancellation.

    ``x = ((1 - t) + S)/2`` and ``1 - x = ((1 + t) - S)/2`` with
    ``S = sqrt((1 - t)^2 + 4 t p)``; ``(1 + t)^2 - S^2 = 4 t (1 - p)`` and
    ``S^2 - (1 - t)^2 = 4 t p`` remove the cancellations.
    """
    S = mp.sqrt((1 - t) ** 2 + 4 * t * p)
    x = ((1 - t) + S) / 2 if t <= 1 else 2 * t * p / ((t - 1) + S)
    y = 2 * t * (1 - p) / ((1 + t) + S)
    return x, y


def _ginf_pair(beta, p):
    """``(x, 1 - x)`` of arXiv:2502.18548v3, Eq. (15); ``1 - x = 2 beta^2 (1-p)^2 / (1 + 2 beta^2 (1-p) + S)``."""
    S = mp.sqrt(1 + 4 * beta**2 * p * (1 - p))
    x = (2 * beta**2 * p + 1 + S) / (2 * (1 + beta**2))
    y = 2 * beta**2 * (1 - p) ** 2 / (1 + 2 * beta**2 * (1 - p) + S)
    return x, y


def _assert_policy(s, x, y, digits, certified=True):
    tol = mp.mpf(10) ** -(digits - 2)
    assert abs(s.policy[0] - x) <= tol * x, (s.policy, x)
    assert abs(s.policy[1] - y) <= tol * y, (s.policy, y)
    assert s.kind == "interior" and s.certified == certified


@pytest.mark.parametrize("beta,p", [
    (F(1, 10**20), F(1, 10)), (F(1, 10**30), F(1, 10)), (F(1, 10**400), F(1, 10)),
    (F(1, 10**16), F(1, 10)), (F(10**100), F(1, 10)), (F(10**309), F(1, 10)), (F(10**1000), F(1, 3)),
    (F(1, 2), F(1, 10**40)), (F(1, 2), F(1, 10**25)), (F(2), F(1, 10**30)), (F(1, 10**5), F(1, 10**30)),
    (F(1), F(1, 10**30)), (F(1, 10**50), F(1, 10**300)),
])
def test_regression_extreme_beta_and_pi_ref_roots_are_found_g2(beta, p):
    """Issue 12: these gave "no stationary policy found" (exit 0) although a root exists."""
    digits = 30
    (s,) = stationary_policies(Problem.deterministic((p, 1 - p), (1, 0), beta, 2), digits=digits)
    with mp.workdps(digits + 30):
        x, y = _g2_pair(_mp(beta), _mp(p))
        _assert_policy(s, x, y, digits)
        assert s.residual < mp.mpf(10) ** -(digits - 5)


@pytest.mark.parametrize("beta,p", [(F(1, 10**16), F(1, 10)), (F(1, 10**200), F(1, 2)),
                                    (F(1, 2), F(1, 10**40)), (F(10**50), F(1, 10))])
def test_regression_extreme_roots_are_found_ginf(beta, p):
    digits = 30
    sols = [s for s in stationary_policies(Problem.deterministic((p, 1 - p), (1, 0), beta, None),
                                           digits=digits) if s.kind == "interior"]
    (s,) = sols
    with mp.workdps(digits + 30):
        x, y = _ginf_pair(_mp(beta), _mp(p))
        _assert_policy(s, x, y, digits)


@pytest.mark.parametrize("success,beta", [((F(9, 10), F(1, 10)), F(1, 10**300)),
                                          ((F(3, 4), F(1, 4)), F(10**200)),
                                          # nearly equal answers: P_G cancels to 1e-37 of its terms
                                          ((F(1, 2) + F(1, 10**37), F(1, 2)), F(1, 10**30))])
def test_extreme_bernoulli_g2_against_eq14_with_the_margin(success, beta):
    """Bernoulli rewards at G = 2: Eq. (14) with ``gamma = s_a - s_b``."""
    digits = 25
    p = F(3, 10)
    (s,) = stationary_policies(Problem.bernoulli((p, 1 - p), success, beta, 2), digits=digits)
    with mp.workdps(digits + 30):
        x, y = _g2_pair(_mp(beta) / _mp(success[0] - success[1]), _mp(p))
        # nearly equal answers: interval arithmetic loses the cancellation of P_G
        # (its enclosure over the smallest box is wider than beta), so no certificate
        _assert_policy(s, x, y, digits, certified=success[0] - success[1] > F(1, 10**30))


@pytest.mark.parametrize("beta", [F(1, 1000), F(4, 10**5)])
def test_k3is_roots_far_beyond_double_precision(beta):
    """Direct KL at G = 2: ``1 - x = 1/(1 + e^(1/beta) p/(1-p))`` is ``e^-1000`` and ``e^-25000``."""
    digits = 30
    p = F(1, 2)
    (s,) = stationary_policies(Problem.deterministic((p, 1 - p), (1, 0), beta, 2, "k3-is"), digits=digits)
    with mp.workdps(digits + 30):
        y = 1 / (1 + mp.exp(1 / _mp(beta)))
        assert abs(s.policy[1] - y) <= mp.mpf(10) ** -(digits - 2) * y
        assert s.certified


def _binary_preference_by_enumeration(G, x, y):
    """``P_G(a|pi)`` for 0/1 rewards, ``pi(a) = x``, ``pi(b) = y``, by enumerating the other members.

    Each of the other ``G - 1`` members is ``a`` (reward 1) or ``b`` (reward 0);
    with ``k`` of them ``a`` the advantage of the first member is exact:
    ``(1 - mean)/std`` with ``mean = (k+1)/G`` and the population std
    (arXiv:2502.18548v3, Eq. (2)), ``0`` when every reward is 1.
    """
    total = mp.mpf(0)
    for members in itertools.product((1, 0), repeat=G - 1):
        k = sum(members)
        weight = x**k * y ** (G - 1 - k)
        mean = F(k + 1, G)
        var = mean * (1 - mean)
        if var:
            total += weight * _mp(1 - mean) / mp.sqrt(_mp(var))
    return total


@pytest.mark.parametrize("G", [3, 4])
@pytest.mark.parametrize("beta", [F(1, 10**30), F(1, 10**120)])
def test_extreme_beta_finite_group_against_a_bisection_of_eq11(G, beta):
    """A root at ``1 - x ~ beta``: bisection on ``log(1 - x)`` of ``beta (x - p) = x P_G(a|pi)``.

    Eq. (11) for ``a`` written as ``beta (x - p) = x P_G(a|pi)``, with ``P_G`` by
    enumeration of groups and ``1 - x`` as the variable, so nothing cancels.
    """
    digits = 30
    p = F(2, 5)
    (s,) = stationary_policies(Problem.deterministic((p, 1 - p), (1, 0), beta, G), digits=digits)
    with mp.workdps(digits + 40):
        b, pp = _mp(beta), _mp(p)

        def h(w):  # w = -log(1 - x)
            y = mp.exp(-w)
            x = 1 - y
            return b * (x - pp) - x * _binary_preference_by_enumeration(G, x, y)

        lo, hi = mp.mpf(1), -mp.log(b) + 20
        assert h(lo) < 0 < h(hi)
        for _ in range(400):
            mid = (lo + hi) / 2
            if h(mid) < 0:
                lo = mid
            else:
                hi = mid
        y = mp.exp(-(lo + hi) / 2)
        assert abs(s.policy[1] - y) <= mp.mpf(10) ** -(digits - 2) * y


def test_regression_undecided_stability_is_not_reported_as_unstable():
    """p = 1e-30, beta = gamma, 20 digits: an eigenvalue within rounding of zero is 'undecided'."""
    p = F(1, 10**30)
    (s,) = stationary_policies(Problem.deterministic((p, 1 - p), (1, 0), F(1), 2), digits=20)
    assert s.classification == "undecided" and s.stable is None
    assert "undecided" in s.note
    with mp.workdps(40):
        assert abs(s.policy[0] - mp.mpf(10) ** -15) < mp.mpf(10) ** -33   # sqrt(p), Eq. (14)


def test_regression_residual_is_relative_to_the_terms():
    """beta = 1e100 printed "residual 0.9": the residual now divides by the largest term of g."""
    pb = Problem.deterministic((F(1, 10), F(9, 10)), (1, 0), F(10**100), 2)
    (s,) = stationary_policies(pb, digits=30)
    assert s.residual < mp.mpf(10) ** -35
    with mp.workdps(42):
        absolute = stationarity_residual(pb, s.policy)
        relative = stationarity_residual(pb, s.policy, relative=True)
        assert relative * mp.mpf(10) ** 100 / 2 < absolute <= relative * mp.mpf(10) ** 100 * 2
        # and a policy off the root has a residual of order one
        off = (mp.mpf(1) / 10 + mp.mpf(10) ** -5, 1 - mp.mpf(1) / 10 - mp.mpf(10) ** -5)
        assert stationarity_residual(pb, off, relative=True) > mp.mpf(10) ** -6


def test_search_description_and_limits():
    pb = Problem.deterministic((F(1, 10), F(9, 10)), (1, 0), F(1, 10**30), 2)
    text, exists = solver.search_description(pb)
    assert exists is True and "a root exists" in text
    assert solver.search_limits(pb) == ""
    too_small = Problem.deterministic((F(1, 2), F(1, 2)), (1, 0), F(1, 10**20), 2, "k3-is")
    assert "beyond the searched" in solver.search_limits(too_small)
    three = Problem.deterministic((F(1, 4), F(1, 4), F(1, 2)), (0, 1, 2), F(1, 2), 2)
    assert solver.search_description(three)[1] is None


def test_cost_estimate_grows_with_the_group_and_the_levels():
    def cost(K, G):
        return solver.estimate_cost(Problem.deterministic(tuple([F(1, K)] * K), tuple(range(K)),
                                                          F(1, 2), G))

    # two levels: exact tables up to WINDOW_GROUP, then a window of ~sqrt(G) terms (cheaper at 4096
    # than the tables at 3000); the cost grows with G along each path
    assert cost(2, 65).operations < cost(2, 1024).operations < cost(2, solver.WINDOW_GROUP).operations
    assert cost(2, 4096).operations < cost(2, 10**6).operations < cost(2, 10**9).operations
    assert cost(3, 16).operations < cost(3, 64).operations < cost(3, 1024).operations
    assert cost(3, 1024).terms == 525825 - 1025   # C(1025, 2)
    assert cost(5, 3).operations < cost(6, 3).operations < cost(50, 3).operations
    # G = 2 and G = infinity with many answers go through derive.solve.reduced: a scan in one
    # unknown, so K = 50 costs less than the K^3 stability Jacobian of K = 6
    assert cost(50, 2).seconds < 1 and cost(50, None).seconds < 1
    assert cost(2, 10**12).memory > solver.MAX_MEMORY
    assert cost(2, 1000).memory < solver.MAX_MEMORY


def test_cli_cost_constants_mirror_the_solver():
    from derive import cli

    assert cli.DEFAULT_MAX_COST == solver.DEFAULT_MAX_COST
    from derive.solve.records import OPERATIONS_PER_SECOND

    assert cli.OPERATIONS_PER_SECOND == OPERATIONS_PER_SECOND


def _eq11_by_hand(rewards, pi, beta, group):
    """``pi_o (1 - P_o/beta) - pi_ref(o)`` terms, with ``P_o`` written directly (not through the solver).

    ``G = 2``: ``P_o = sum_o' pi_o' sign(r_o - r_o')`` (arXiv:2502.18548v3, Eq. (12));
    ``G = infinity``: ``P_o = (r_o - mu)/sigma`` with ``r_o - mu = sum_o' pi_o' (r_o - r_o')``
    and ``sigma^2 = sum_o pi_o (r_o - mu)^2`` (Eq. (13)).
    """
    K = len(pi)
    if group == 2:
        P = [mp.fsum(pi[j] * ((rewards[o] > rewards[j]) - (rewards[o] < rewards[j])) for j in range(K))
             for o in range(K)]
    else:
        centred = [mp.fsum(pi[j] * (rewards[o] - rewards[j]) for j in range(K)) for o in range(K)]
        sigma = mp.sqrt(mp.fsum(p * c * c for p, c in zip(pi, centred)))
        P = [c / sigma for c in centred]
    return [pi[o] * (1 - P[o] / beta) for o in range(K)]


@pytest.mark.parametrize("group,beta", [(2, F(1, 10**300)), (None, F(1, 10**30)), (4, F(1, 10**30))])
def test_regression_three_answers_near_a_vertex_are_found(group, beta):
    """Three distinct rewards, tiny beta: two coordinates of 1e-61 .. 1e-301 (several unknowns)."""
    digits = 30
    ref = (F(1, 3), F(1, 3), F(1, 3))
    sols = stationary_policies(Problem.deterministic(ref, (0, 1, 2), beta, group), digits=digits)
    (s,) = [t for t in sols if t.kind == "interior"]
    assert s.certified and s.policy[2] > 0.5
    if group == 4:
        return  # no hand-written P_G at G = 4; the solver's own residual was checked
    with mp.workdps(digits + 40):
        pi = [mp.mpf(p) for p in s.policy]
        lhs = _eq11_by_hand((0, 1, 2), pi, _mp(beta), group)
        for value, r in zip(lhs, ref):
            assert abs(value - _mp(r)) < mp.mpf(10) ** -(digits - 3)


def test_regression_identical_outputs_have_no_unknowns_in_the_cost_and_search():
    """Identical success probabilities: no unknown (crashed the cost estimate with AttributeError)."""
    pb = Problem.bernoulli((F(1, 3), F(2, 3)), (F(1, 2), F(1, 2)), F(1, 1000), 8)
    assert solver.estimate_cost(pb).unknowns == 0
    assert solver.search_limits(pb) == ""
    assert solver.search_description(pb)[1] is True


def test_k3is_at_infinite_group_with_a_noisy_answer_is_found_or_refused():
    """A sure and a noisy answer, k3-is, G = inf: the root sits near the noisy vertex at z ~ 1/beta."""
    pb = Problem.bernoulli((F(1, 3), F(2, 3)), (F(0), F(1, 2)), F(1, 1000), None, "k3-is")
    (s,) = stationary_policies(pb, digits=20)
    assert s.certified and s.policy[0] < mp.mpf(10) ** -400
    far = Problem.bernoulli((F(1, 3), F(2, 3)), (F(0), F(1, 2)), F(1, 10**400), None, "k3-is")
    assert "beyond the searched" in solver.search_limits(far)


def test_regression_a_tiny_reference_coordinate_with_several_unknowns():
    """pi_ref(a) = 1e-30 among three answers at G = inf: the equation of the largest coordinate
    left out, and every equation relative to its pi_ref (this root was missed)."""
    ref = (F(1, 10**30), F(1, 2), F(1, 2) - F(1, 10**30))
    (s,) = stationary_policies(Problem.deterministic(ref, (1, 0, 2), F(2), None), digits=50)
    assert s.certified
    with mp.workdps(90):
        pi = [mp.mpf(p) for p in s.policy]
        lhs = _eq11_by_hand((1, 0, 2), pi, mp.mpf(2), None)
        for value, r in zip(lhs, ref):
            assert abs(value - _mp(r)) < mp.mpf(10) ** -47 * _mp(r)


def test_cost_estimate_of_many_levels_follows_the_fast_path():
    # issue 8, part 7: three levels at G = 256 and four at G = 16 run in seconds and are
    # accepted by the default limit; three levels at G = 1024 (half a million terms per
    # evaluation, past the grid's float range) are refused by it
    def cost(values, G):
        K = len(values)
        return solver.estimate_cost(Problem.deterministic(tuple([F(1, K)] * K), values, F(1, 4), G))

    assert cost((1, F(1, 2), 0), 256).seconds < 10
    assert cost((1, F(1, 2), 0), 256).operations < solver.DEFAULT_MAX_COST
    assert cost((1, F(2, 3), F(1, 3), 0), 16).seconds < 2
    assert cost((1, F(1, 2), 0), 1024).operations > solver.DEFAULT_MAX_COST
    assert "Newton" in cost((1, F(2, 3), F(1, 3), 0), 32).dominant   # the starting points of the search


# -- the pieces of the stationarity system ---------------------------------------

_SPACES = {
    # (problem, expected unknowns): one unknown in pi, one in q, several in pi, several in q
    "pi-1d": (Problem.deterministic((F(1, 5), F(4, 5)), (1, 0), F(1, 2), 4), ("pi", 1)),
    "q-1d": (Problem.bernoulli((F(1, 3), F(1, 3), F(1, 3)), (F(9, 10), F(1, 2), F(1, 5)), F(2), 4),
             ("q", 1)),
    "pi-nd": (Problem.deterministic((F(1, 4), F(1, 4), F(1, 2)), (1, F(1, 2), 0), F(1, 3), 4), ("pi", 2)),
    "q-nd": (Problem.deterministic((F(1, 5),) * 5, (1, 1, F(1, 2), 0, 0), F(2), 3), ("q", 2)),
}


@pytest.mark.parametrize("penalty", ("k3", "k3-is"))
@pytest.mark.parametrize("name", sorted(_SPACES))
def test_system_value_and_jacobian_agree_with_finite_differences(name, penalty):
    """value, value_and_jacobian and with_policy_derivative of residual_1d / residual_nd: the same F and
    pi, J = dF/d(unknowns) and dpi = dpi/d(unknowns) by central differences (mpmath.diff)."""
    from dataclasses import replace

    from mpmath import diff

    from derive.numerics.context import MP

    pb, (space, dim) = _SPACES[name]
    system = solver._System(replace(pb, penalty=penalty))
    assert (system.space, system.dim) == (space, dim)
    with mp.workdps(40):
        if dim == 1:
            u = mp.mpf("0.37")
            evaluate = system.residual_1d

            def at(t):
                return (u + t, 1 - u - t)

            point = at(0)
        else:
            x = [mp.mpf("0.2"), mp.mpf("-0.4")]
            evaluate = system.residual_nd

            def at(t, j=None):
                return ([a + (t if k == j else 0) for k, a in enumerate(x)],)

            point = at(0)
        plain = evaluate.value(*point, MP)
        full = evaluate.with_policy_derivative(*point, MP)
        assert plain.J is None and plain.dpi is None
        assert evaluate(*point, MP) == plain
        assert evaluate.value_and_jacobian(*point, MP)[:3] == full[:3]
        assert plain.F == full.F and plain.pi == full.pi
        tol = mp.mpf(10) ** -25
        if dim == 1:
            assert abs(diff(lambda t: evaluate.value(*at(t), MP).F, 0) - full.J) < tol
            for o, d in enumerate(full.dpi):
                assert abs(diff(lambda t: evaluate.value(*at(t), MP).pi[o], 0) - d) < tol
        else:
            for j in range(dim):
                for i in range(dim):
                    num = diff(lambda t: evaluate.value(*at(t, j), MP).F[i], 0)
                    assert abs(num - full.J[i][j]) < tol
                for o in range(system.K):
                    num = diff(lambda t: evaluate.value(*at(t, j), MP).pi[o], 0)
                    assert abs(num - full.dpi[o][j]) < tol


@pytest.mark.parametrize("penalty", ("k3", "k3-is"))
def test_field_jacobian_is_the_derivative_of_the_field(penalty):
    """dg/dpi of _System.field_jacobian along the simplex (directions e_k - e_0) against central
    differences of _System.field, and g the same in both."""
    from mpmath import diff

    from derive.numerics.context import MP

    pb = Problem.bernoulli((F(1, 3), F(1, 3), F(1, 3)), (F(9, 10), F(1, 2), F(1, 5)), F(1, 3), 4, penalty)
    system = solver._System(pb)
    with mp.workdps(40):
        pi = [mp.mpf("0.5"), mp.mpf("0.3"), mp.mpf("0.2")]
        g, dg = system.field_jacobian(pi, MP)
        assert g == system.field(pi, MP)
        for k in (1, 2):
            step = [-1 if j == 0 else 1 if j == k else 0 for j in range(3)]
            for o in range(3):
                num = diff(lambda t: system.field([p + t * s for p, s in zip(pi, step)], MP)[o], 0)
                assert abs(num - (dg[o][k] - dg[o][0])) < mp.mpf(10) ** -25
