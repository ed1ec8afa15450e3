import doctest
from dataclasses import asdict

import mpmath
import pytest
from sympy import Rational, expand

from derive.paper import claims
from derive.paper import symbols as S
from derive.results import baselines, paper_notes
from derive.results.paper_notes import (
    BoundaryBranch,
    binary_reward_preference_limit,
    binary_reward_preference_two,
    boundary_numeric,
    reward_bias_margins,
    reward_bias_residues,
    reward_preference_two,
    tie_residues,
)


def test_r2_forms():
    R2, win, lose, anti, ties, _, _ = reward_preference_two()
    assert expand(R2 - claims.reward_preference_two(win, lose)) == 0
    assert expand(R2 - claims.reward_preference_two_antisymmetric(anti)) == 0
    # the literal P(o > o') = P[r > r'] misses the ties
    gap = expand(claims.reward_preference_two_antisymmetric(win) - R2)
    assert gap != 0 and expand(gap + ties) == 0


def test_r2_literal_form_fails_for_deterministic_rewards():
    """Deterministic rewards 1, 1/2, 0 (no ties between distinct outputs, certain tie
    with itself): 2 E[P[r > r']] - 1 - R_2 = -sum_o pi(o) pi_old(o) < 0."""
    R2, win, _, _, _, pi, old = reward_preference_two()
    w = paper_notes.pair_probabilities("abc")
    subs = {w[i][i]: 0 for i in range(3)}
    subs.update({w[i][j]: (1 if i < j else 0) for i in range(3) for j in range(3) if i != j})
    gap = expand((claims.reward_preference_two_antisymmetric(win) - R2).subs(subs))
    assert expand(gap + sum(a * b for a, b in zip(pi, old))) == 0


def test_eq16_and_eq18():
    value, gam, _ = binary_reward_preference_two()
    assert expand(value - claims.binary_reward_preference_two(S.x, paper_notes.y, gam)) == 0
    for s in (1, -1):
        assert (binary_reward_preference_limit(s)
                - claims.binary_reward_preference_limit(S.x, paper_notes.y, s)).cancel() == 0
    # without the square root (the extracted text) it is wrong
    wrong = binary_reward_preference_limit(1) - (S.x - paper_notes.y) / (
        paper_notes.y * (1 - paper_notes.y))
    assert wrong.subs({S.x: Rational(1, 2), paper_notes.y: Rational(1, 5)}) != 0


def test_tie_gives_pi_ref():
    adv, policy, limit = tie_residues()
    assert all(a == 0 for a in adv) and all(v == 0 for v in policy)
    assert limit == [S.p]


def test_reward_bias_proof_steps():
    assert all(v == 0 for v in reward_bias_residues().values())


def test_reward_bias_grid_is_positive_and_tends_to_zero_at_the_ends():
    m = reward_bias_margins(digits=30)
    assert min(m) > 0
    # at beta = 0.001 both policies are within 1e-3 of 1: the margin is small there
    assert min(m) < mpmath.mpf(10) ** -3


def test_kkt_zero_branch():
    br = BoundaryBranch().derive()
    assert br.multiplier_residue() == 0
    assert br.paper_multiplier_gap() != 0           # (11)'s lambda = E_pi P is not it
    assert all(v == 0 for v in br.support_residue())
    assert expand(BoundaryBranch.binary_vertex() - (1 - S.beta * (1 - S.p))) == 0


def test_vertex_numeric_paths():
    errs_p, errs_j = boundary_numeric(digits=30)
    assert max(abs(e) for e in errs_p + errs_j) < mpmath.mpf(10) ** -25


@pytest.fixture(scope="module")
def notes_checks():
    return paper_notes.checks()


def test_every_note_check_passes(notes_checks):
    assert all(c.passed for c in notes_checks), [c.id for c in notes_checks if not c.passed]
    ids = [c.id for c in notes_checks]
    assert len(ids) == len(set(ids)) and all(i.startswith("notes-") for i in ids)
    assert {"notes-eq16", "notes-eq18", "notes-r2-antisymmetric", "notes-tie-limit",
            "notes-bias-grid", "notes-kkt-zero-multiplier"} <= set(ids)


def test_section_renders_and_names_its_records(notes_checks):
    from derive.output.render import make_env, render

    sec = paper_notes.section()
    text = render(make_env(), "section.tex.jinja", section=asdict(sec))
    assert "\\label{grpo:sec:paper_notes}" in text
    for label in ("notes-eq16", "notes-eq18", "notes-r2", "notes-bias", "notes-kkt"):
        assert f"\\label{{grpo:eq:{label}}}" in text
    ids = {c.id for c in notes_checks}
    assert "notes-eq18" in ids
    for slip in ("\\gamma_{a,b} \\neq 0", "antisymmetry", "\\pi_\\theta(q \\mid q)",
                 "\\tilde\\gamma_{a,b}", "0.04"):
        assert slip in text


def test_pipeline_registers_the_notes():
    from derive.output.parts import RESULT_MODULES
    assert "derive.results.paper_notes" in RESULT_MODULES


@pytest.mark.parametrize("module", [baselines, paper_notes])
def test_doctests(module):
    failures, _ = doctest.testmod(module)
    assert failures == 0
