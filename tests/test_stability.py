from fractions import Fraction as F

import mpmath
import pytest
from conftest import artefact, computed_part, failed_checks

from derive.results import stability
from derive.solve.solver import Problem, stationary_policies


@pytest.fixture(autouse=True)
def _precision():
    mpmath.mp.dps = 60
    yield
    mpmath.mp.dps = 15


@pytest.mark.parametrize("key", [k for k, _, _ in stability.EXAMPLES])
def test_independent_gap_vanishes_at_the_solver_policies_and_not_elsewhere(key):
    spec = dict((k, s) for k, _, s in stability.EXAMPLES)[key]
    problem = stability.problem_of(spec)
    interior = [s for s in stationary_policies(problem, digits=40) if s.kind == "interior"]
    assert interior
    for s in interior:
        assert abs(stability.independent_gap(problem, s.policy)) < mpmath.mpf(10) ** -35
        moved = [s.policy[0] * (1 + mpmath.mpf(10) ** -6)] + list(s.policy[1:])
        total = mpmath.fsum(moved)
        moved = [v / total for v in moved]
        assert abs(stability.independent_gap(problem, moved)) > mpmath.mpf(10) ** -12


def test_finite_difference_eigenvalues_match_the_analytic_ones():
    problem = Problem.deterministic((F(1, 2), F(3, 10), F(1, 5)), (1, F(1, 2), 0), F(1, 2), 4)
    (s,) = stationary_policies(problem, digits=40)
    fd = stability._fd_eigenvalues(problem, s.policy, mpmath.mpf(10) ** -18)
    assert len(fd) == 2 == len(s.eigenvalues)
    for a, b in zip(fd, s.eigenvalues):
        assert abs(a - b) < mpmath.mpf(10) ** -25
    assert all(mpmath.re(e) < 0 for e in fd)


def test_monte_carlo_errors_are_within_sampling_error_and_detect_a_wrong_target():
    problem, predicted, runs, flow = stability.monte_carlo()
    errs = stability.monte_carlo_errors(predicted, runs)
    assert all(abs(d) <= 4 * se for d, se in errs)
    assert all(se < 1e-3 for _, se in errs)
    wrong = type(predicted)(**{**predicted.__dict__,
                               "policy": tuple(p + mpmath.mpf(1) / 100 * (1 if i == 0 else -0.5)
                                               for i, p in enumerate(predicted.policy))})
    assert any(abs(d) > 4 * se for d, se in stability.monte_carlo_errors(wrong, runs))
    assert len(flow) == stability.FLOW_STEPS + 1
    assert max(abs(a - b) for a, b in zip(flow[-1], predicted.policy)) < 1e-5


def test_results_checks_all_pass_and_data_rows_cover_every_point():
    res = computed_part("stability")
    assert res["checks"] and not failed_checks(res["checks"])
    data = artefact(res, "data/stability.csv")["text"]
    table = artefact(res, "tables/stability.tex")
    n_coords = sum(r["policy"].count(",") + 1 for r in table["context"]["rows"])
    assert len(data.strip().splitlines()) == 1 + n_coords
    # k3-is at G -> inf, beta = 3 with three answers: a saddle between the boundary and the interior attractor
    kinds = [r["classification"] for r in table["context"]["rows"]]
    assert "saddle" in kinds and "repeller" in kinds and kinds.count("attractor") == 7
    # every point carries a maximiser verdict; with k3-is J(.; pi) is concave, so every interior
    # point is global; the boundary saddle of three-kl-inf has P_inf = +infinity off its face
    rows = table["context"]["rows"]
    assert {r["maximiser"] for r in rows} <= {"global", "local", "no", "unknown"}
    header, *lines = data.strip().splitlines()
    assert header.endswith(",stable,maximiser")
    kl = [line.split(",") for line in lines if line.startswith(("direct-kl-inf,", "three-kl-inf,"))]
    assert all(f[-1] == "global" for f in kl if f[7] == "interior")
    assert {f[-1] for f in kl if f[8] == "boundary-saddle"} == {"no"}
