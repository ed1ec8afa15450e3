"""Tests of derive.results.maximiser_table: where GRPO's k3 fixed points stop being maximisers."""

from fractions import Fraction as F

import mpmath
import pytest
from conftest import artefact, computed_part, failed_checks

from derive.output.render import make_env, render
from derive.results import maximiser_table as T
from derive.solve.solver import Problem, stationary_policies


@pytest.fixture(scope="module")
def res():
    return computed_part("maximiser_table")


def test_checks_pass_and_csv_covers_the_grid(res):
    assert res["checks"] and not failed_checks(res["checks"])
    csv = artefact(res, "data/maximiser.csv")["text"]
    header, *lines = csv.strip().splitlines()
    assert header.split(",")[-3:] == ["classification", "stable", "maximiser"]
    assert len(lines) == len(T.GROUPS) * len(T.BETAS) * len(T.PS)


def test_issue_cell_is_stable_but_not_a_maximiser(res):
    csv = artefact(res, "data/maximiser.csv")["text"]
    row = next(line.split(",") for line in csv.splitlines() if line.startswith("2,1,1/100,"))
    assert row[3].startswith("0.1000000000") and row[-2:] == ["true", "no"]
    assert {line.split(",")[-1] for line in csv.splitlines()[1:]} == {"global", "local", "no"}


def test_table_renders_every_cell(res):
    art = artefact(res, "tables/maximiser.tex")
    tex = render(make_env(), art["template"], **art["context"])
    assert "$$" not in tex and "--" not in tex.split("\\toprule")[1]
    assert tex.split("\\toprule")[1].count("\\textbf{no}") == sum(
        line.endswith(",no") for line in res["artefacts"][1]["text"].splitlines())


def test_brute_force_detects_a_wrong_verdict():
    """The independent search can say no: a wrong verdict gets a negative margin."""
    pb = Problem.deterministic((F(1, 100), F(99, 100)), (1, 0), F(1), 2)
    (s,) = stationary_policies(pb, digits=30)
    assert T.brute_force_agrees(pb, s.policy[0], "no", 30) > 0
    assert T.brute_force_agrees(pb, s.policy[0], "global", 30) < 0
    assert T.brute_force_agrees(pb, s.policy[0], "local", 30) < 0
    pb = Problem.deterministic((F(1, 1000), F(999, 1000)), (1, 0), F(1, 2), 2)
    (s,) = stationary_policies(pb, digits=30)
    assert T.brute_force_agrees(pb, s.policy[0], "local", 30) > 0
    assert T.brute_force_agrees(pb, s.policy[0], "global", 30) < 0
    with mpmath.workdps(30):
        assert T.field_slope(pb, s.policy[0], 30) < 0 and s.stable


def test_section_quotes_only_computed_facts(res):
    (sec,) = res["sections"]
    text = " ".join(step["text"] for step in sec["steps"])
    assert "is a local minimum of" in text          # the issue's cell was computed as "no"
    csv = res["artefacts"][1]["text"].splitlines()[1:]
    parted = sum(1 for line in csv if line.split(",")[-2:] in (["true", "local"], ["true", "no"]))
    assert f"Of the {len(csv)} tabulated fixed points, {parted} are stable" in text
    quiet = T.section({"total": 1, "parted": 0, "all_stable": True, "issue": "global"})
    assert "local minimum" not in " ".join(step.text for step in quiet.steps)


def test_simplex_search_detects_a_wrong_verdict():
    from derive.solve.maximiser import maximiser

    pb = Problem.deterministic((F(1, 100), F(1, 10), F(89, 100)), (1, F(1, 2), 0), F(1, 4), 2)
    (s,) = stationary_policies(pb, digits=30)
    assert maximiser(pb, s, 30).verdict == "local"
    assert T.simplex_search_agrees(pb, s.policy, "local") > 0
    assert T.simplex_search_agrees(pb, s.policy, "global") < 0
    pb = Problem.deterministic((F(1, 2), F(3, 10), F(1, 5)), (1, F(1, 2), 0), F(1, 2), 4)
    (s,) = stationary_policies(pb, digits=30)
    assert T.simplex_search_agrees(pb, s.policy, "global") > 0
    assert T.simplex_search_agrees(pb, s.policy, "local") < 0


def test_every_printed_enclosure_holds_a_recomputed_root(res):
    """Each (pi_a, [lo, hi]) of the data holds the printed value and a root of g_a - g_b
    (derive.numerics.field, not the solver): the field changes sign across it, at 70 digits."""
    from derive.numerics.certify import exact_value
    from derive.numerics.group_preference import objective_gradient

    csv = res["artefacts"][1]["text"].strip().splitlines()[1:]
    with mpmath.workdps(70):
        for line in csv:
            G, beta, p, x, lo, hi = line.split(",")[:6]
            pb = Problem.deterministic((F(p), 1 - F(p)), (1, 0), F(beta),
                                       None if G == "inf" else int(G))

            def g(t, pb=pb):
                ga, gb = objective_gradient(pb.values, pb.rho, pb.ref, (t, 1 - t), pb.beta,
                                            pb.group, pb.penalty, pb.normalisation)
                return ga - gb

            low, high = (mpmath.mpf(v.numerator) / v.denominator
                         for v in (exact_value(lo), exact_value(hi)))
            assert low <= mpmath.mpf(x) <= high, line
            # the field changes sign across the enclosure: it holds a root (evaluated at 70 digits)
            assert g(low) * g(high) < 0, line
            assert high - low < mpmath.mpf(10) ** -45
