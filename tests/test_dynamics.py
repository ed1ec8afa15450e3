"""Tests of derive.dynamics.iteration: stability from the logit Jacobian, expected-gradient and Monte Carlo GRPO."""

import doctest
from fractions import Fraction as F

import pytest
from mpmath import mp

from derive.dynamics import iteration as dynamics
from derive.dynamics.iteration import (
    logit_flow,
    logit_jacobian,
    logit_jacobian_eigenvalues,
    monte_carlo_grpo,
    simulate_expected_gradient,
    stability,
    trajectory_dataset,
)
from derive.numerics.group_preference import deterministic_rewards, objective_gradient
from derive.solve.solver import Problem, stationary_policies

THREE = Problem.deterministic((F(1, 2), F(3, 10), F(1, 5)), (1, F(1, 2), 0), F(1, 2), 4)


def _binary_field(problem, x):
    """g(x) = g_a - g_b from derive.numerics.group_preference.objective_gradient."""
    values, rho = deterministic_rewards([1, 0])
    g = objective_gradient(values, rho, problem.ref, (x, 1 - x), problem.beta, problem.group, problem.penalty)
    return g[0] - g[1]


@pytest.mark.parametrize(
    "problem",
    [
        Problem.deterministic((F(1, 5), F(4, 5)), (1, 0), F(1, 2), 2),
        Problem.deterministic((F(1, 5), F(4, 5)), (1, 0), F(1, 25), 16, "k3-is"),
        Problem.deterministic((F(1, 5), F(4, 5)), (1, 0), F(3), None, "k3-is"),
    ],
)
def test_binary_eigenvalue_is_2x2_1mx2_times_dg_dx(problem):
    for s in stationary_policies(problem):
        if s.kind != "interior":
            continue
        mp.dps = 60
        x = s.policy[0]
        slope = mp.diff(lambda y: _binary_field(problem, y), x)
        (lam,) = s.eigenvalues
        assert abs(lam - 2 * x**2 * (1 - x) ** 2 * slope) < mp.mpf(10) ** -25 * max(1, abs(lam))
        assert (lam < 0) == (slope < 0) == s.stable == (s.classification == "attractor")
        mp.dps = 15


def test_direct_kl_pair_has_one_stable_and_one_unstable_point():
    sols = stationary_policies(Problem.deterministic((F(1, 5), F(4, 5)), (1, 0), F(3), None, "k3-is"))
    interior = {s.classification: s.eigenvalues[0] for s in sols if s.kind == "interior"}
    assert interior["attractor"] < 0 < interior["repeller"]


@pytest.mark.parametrize("at_root", [True, False])
def test_logit_jacobian_matches_finite_differences(at_root):
    mp.dps = 50
    if at_root:
        policy = list(stationary_policies(THREE)[0].policy)
    else:
        policy = [mp.mpf(1) / 2, mp.mpf(1) / 3, mp.mpf(1) / 6]
    theta = [mp.log(p) for p in policy]
    M = logit_jacobian(THREE, policy)
    h = mp.mpf(10) ** -15

    def reduced_flow(th):
        top = max(th)
        w = [mp.exp(t - top) for t in th]
        Z = mp.fsum(w)
        F_ = logit_flow(THREE, [v / Z for v in w])
        return [F_[j] - F_[-1] for j in range(len(th) - 1)]

    for l in range(2):
        up, down = list(theta), list(theta)
        up[l] += h
        down[l] -= h
        fu, fd = reduced_flow(up), reduced_flow(down)
        for j in range(2):
            assert abs((fu[j] - fd[j]) / (2 * h) - M[j][l]) < mp.mpf(10) ** -25


def test_three_output_stability():
    (s,) = stationary_policies(THREE)
    assert s.classification == "attractor" and s.stable
    assert all(mp.re(e) < 0 for e in s.eigenvalues) and len(s.eigenvalues) == 2
    eigenvalues, cls = stability(THREE, s.policy, 30)
    assert cls == "attractor"
    assert all(abs(a - b) < mp.mpf(10) ** -25 for a, b in zip(eigenvalues, logit_jacobian_eigenvalues(THREE, s.policy, 30)))


def test_saddle_is_classified_and_unstable():
    problem = Problem.deterministic((F(1, 2), F(3, 10), F(1, 5)), (1, F(1, 2), 0), F(3), None, "k3-is")
    saddles = [s for s in stationary_policies(problem) if s.classification == "saddle"]
    assert len(saddles) == 1 and not saddles[0].stable
    re = sorted(mp.re(e) for e in saddles[0].eigenvalues)
    assert re[0] < 0 < re[1]


@pytest.mark.parametrize("penalty, steps, tol", [("k3", 400, 1e-7), ("k3-is", 1500, 1e-6)])
def test_expected_gradient_converges_to_the_stable_point(penalty, steps, tol):
    # k3-is converges more slowly: its slowest eigenvalue is smaller, hence more steps
    problem = Problem.deterministic((F(1, 2), F(3, 10), F(1, 5)), (1, F(1, 2), 0), F(1, 2), 4, penalty)
    (s,) = stationary_policies(problem, digits=20)
    path = simulate_expected_gradient(problem, steps, 1.0, digits=20)
    assert len(path) == steps + 1
    assert max(abs(a - b) for a, b in zip(path[-1], s.policy)) < tol
    assert max(abs(a - b) for a, b in zip(path[1], s.policy)) > 0.01  # it moved from pi_ref


def test_expected_gradient_is_deterministic():
    a = simulate_expected_gradient(THREE, 20, 0.5, digits=25)
    b = simulate_expected_gradient(THREE, 20, 0.5, digits=25)
    assert a == b


@pytest.mark.parametrize("penalty", ["k3", "k3-is"])
def test_monte_carlo_grpo_converges_within_sampling_error(penalty):
    problem = Problem.deterministic((F(1, 2), F(3, 10), F(1, 5)), (1, F(1, 2), 0), F(1, 2), 4, penalty)
    (s,) = stationary_policies(problem, digits=20)
    run = monte_carlo_grpo(problem, iterations=600, groups_per_iteration=32, inner_steps=4, clip_eps=0.2, lr=0.1, seed=7)
    assert len(run.policies) == 601 and run.policies[0] == (0.5, 0.3, 0.2)
    assert max(abs(a - float(b)) for a, b in zip(run.averaged, s.policy)) < 0.02
    assert abs(sum(run.averaged) - 1) < 1e-12


def test_monte_carlo_grpo_is_seeded():
    kwargs = dict(iterations=50, groups_per_iteration=8, inner_steps=2, clip_eps=0.2, lr=0.1)
    a = monte_carlo_grpo(THREE, seed=1, **kwargs)
    b = monte_carlo_grpo(THREE, seed=1, **kwargs)
    c = monte_carlo_grpo(THREE, seed=2, **kwargs)
    assert a == b and a.policies != c.policies


def test_monte_carlo_with_stochastic_rewards_and_infinite_group():
    problem = Problem.bernoulli((F(1, 5), F(1, 2), F(3, 10)), (F(9, 10), F(1, 2), F(1, 5)), F(1, 2), 4)
    (s,) = stationary_policies(problem, digits=20)
    run = monte_carlo_grpo(problem, iterations=600, groups_per_iteration=32, inner_steps=4, lr=0.1, seed=3)
    assert max(abs(a - float(b)) for a, b in zip(run.averaged, s.policy)) < 0.02
    run = monte_carlo_grpo(Problem.deterministic((F(1, 2), F(1, 2)), (1, 0), F(1, 2), None), 20, 4, 1, seed=0)
    assert len(run.policies) == 21


def test_trajectory_dataset():
    data = trajectory_dataset(THREE, steps=40, lr=0.5, every=10,
                              monte_carlo=dict(iterations=30, groups_per_iteration=4, inner_steps=1, seed=0))
    assert [t for t, _ in data["expected"]] == [0, 10, 20, 30, 40]
    assert [t for t, _ in data["monte_carlo"]] == [0, 10, 20, 30]
    assert all(isinstance(x, float) for _, pi in data["expected"] for x in pi)
    assert len(data["averaged"]) == 3


def test_docstring_examples():
    failures, _ = doctest.testmod(dynamics)
    assert failures == 0


def test_stability_at_a_double_eigenvalue_is_decided_not_a_crash():
    # regression: at this root the logit Jacobian has a (nearly) double eigenvalue -1/16 and
    # mpmath's QR iteration raised "qr: failed to converge"; the characteristic polynomial decides
    pb = Problem.bernoulli((F(1, 4),) * 4, (1, F(1, 2), F(1, 3), 0), F(1, 4), 128)
    (s,) = stationary_policies(pb, digits=50, certify=False)
    assert s.classification == "attractor" and s.stable is True
    assert all(mp.re(e) < 0 for e in s.eigenvalues)


def test_characteristic_roots_agree_with_the_qr_eigenvalues():
    from derive.dynamics.iteration import _characteristic_roots

    mp.dps = 40
    M = [[mp.mpf(3) / 7, 1, -2], [mp.mpf(1) / 3, -1, mp.mpf(5) / 11], [2, mp.mpf(1) / 9, mp.mpf(-7) / 5]]
    qr = sorted(mp.eig(mp.matrix(M), left=False, right=False), key=lambda e: (mp.re(e), mp.im(e)))
    poly = sorted(_characteristic_roots(M), key=lambda e: (mp.re(e), mp.im(e)))
    # simple eigenvalues: the polynomial's roots are accurate to the working precision
    assert all(abs(a - b) < mp.mpf(10) ** -35 for a, b in zip(qr, poly))
