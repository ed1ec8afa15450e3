"""Every GRPO variant from one objective (derive.model.variants): divergences, preferences,
stationarity, the KL in the reward, each against an independent path."""

from fractions import Fraction

import mpmath
import pytest
from conftest import computed_part, failed_checks
from hypothesis import given
from hypothesis import strategies as st
from sympy import Rational, cancel, exp, radsimp

from derive.model import variants as VD
from derive.model.objective import Objective
from derive.paper import claims
from derive.paper import symbols as S
from derive.results import variants as V
from derive.verify import enumeration

x, p, beta = S.x, S.p, S.beta
prob = st.fractions(min_value=Fraction(1, 20), max_value=Fraction(19, 20), max_denominator=100)


def _mp(v):
    return mpmath.mpf(v.numerator) / v.denominator


@pytest.mark.parametrize("pen,iw,expected", [
    ("k1", False, "none"), ("k1", True, "KL(pi||pi_ref)"), ("k2", False, "KL(pi||pi_ref)"),
    ("k2", True, "D(pi;pi)"), ("k3", False, "KL(pi_ref||pi)"), ("k3", True, "KL(pi||pi_ref)")])
def test_effective_divergence(pen, iw, expected):
    assert VD.EffectiveDivergence(pen, iw).derive().divergence == expected


def test_k3_gradient_is_eq_10():
    e = VD.EffectiveDivergence("k3").derive()
    assert cancel(e.gradient[0] - claims.penalty_gradient_on_policy(e.pi[0], e.ref[0])) == 0


@given(prob, prob, prob, prob)
def test_divergence_by_finite_differences(a, b, c, d):
    """The penalty's expected gradient matches finite differences of its divergence."""
    a, b, c, d = a / 2, b / 2, c / 2, d / 2           # keep the third coordinate positive
    pts = [{"pi": (a, b, 1 - a - b), "ref": (c, d, 1 - c - d)}]
    for e in VD.effective_divergences().values():
        errs = V.penalty_gradient_check(e, pts, 30)
        assert max(errs) < mpmath.mpf(10) ** -25


@pytest.mark.parametrize("G", [2, 3, 4])
@given(prob, prob, prob)
def test_shift_only_and_none_preference_by_enumeration(G, xa, qa, qb):
    with mpmath.workdps(30):
        pi = (_mp(xa), 1 - _mp(xa))
        outs = [[(mpmath.mpf(1), _mp(qa)), (mpmath.mpf(0), 1 - _mp(qa))],
                [(mpmath.mpf(1), _mp(qb)), (mpmath.mpf(0), 1 - _mp(qb))]]
        mu = pi[0] * _mp(qa) + pi[1] * _mp(qb)
        sh = V.enumerated_preference(Objective(normalisation="shift-only"), 0, pi, outs, G)
        assert abs(sh - (1 - mpmath.mpf(1) / G) * (_mp(qa) - mu)) < mpmath.mpf(10) ** -25
        no = V.enumerated_preference(Objective(normalisation="none"), 1, pi, outs, G)
        assert abs(no - _mp(qb)) < mpmath.mpf(10) ** -25


@pytest.mark.parametrize("G", [2, 3, 4])
def test_sample_std_against_population_enumeration(G):
    with mpmath.workdps(30):
        pi = (mpmath.mpf("0.3"), mpmath.mpf("0.7"))
        dists = ((Rational(2, 5), Rational(3, 5)), (Rational(4, 5), Rational(1, 5)))
        outs = [[(mpmath.mpf(0), _mp(Fraction(2, 5))), (mpmath.mpf(1), _mp(Fraction(3, 5)))],
                [(mpmath.mpf(0), _mp(Fraction(4, 5))), (mpmath.mpf(1), _mp(Fraction(1, 5)))]]
        sa = V.enumerated_preference(Objective(std="sample"), 0, pi, outs, G)
        po = enumeration.preference(0, pi, dists, (0, 1), G)
        assert abs(sa - mpmath.sqrt(mpmath.mpf(G - 1) / G) * po) < mpmath.mpf(10) ** -25


@pytest.mark.parametrize("G", [2, 3, 4])
def test_binary_gap_against_enumeration(G):
    """The symbolic preference gap of every normalisation equals the enumerated one."""
    with mpmath.workdps(30):
        for col, _, norm, std, has_eps in VD.COLUMNS:
            obj = VD.column_objective(col)
            gap = VD.binary_preference_gap(norm, std, VD.eps if has_eps else 0, G)
            for xv in (Rational(1, 7), Rational(3, 4)):
                sym = mpmath.mpf(gap.evalf(40, subs={x: xv, VD.eps: VD.EPS}))
                pi = (_mp(xv), 1 - _mp(xv))
                enum = (V.enumerated_preference(obj, 0, pi, VD.deterministic_outcomes(), G)
                        - V.enumerated_preference(obj, 1, pi, VD.deterministic_outcomes(), G))
                assert abs(sym - enum) < mpmath.mpf(10) ** -25


def test_eps_is_no_rescaling():
    e10 = Rational(1, 10)
    ratios = [radsimp(VD.binary_preference("shift-scale", "population", e10, 4, 0).subs(x, xv)
                      / VD.binary_preference("shift-scale", "population", 0, 4, 0).subs(x, xv))
              for xv in (Rational(1, 4), Rational(1, 2))]
    assert abs(float(ratios[0] - ratios[1])) > 1e-4
    assert cancel(VD.binary_preference_gap("shift-scale", "population", VD.eps, 2)
                  - 1 / (1 + 2 * VD.eps)) == 0


@pytest.mark.parametrize("dps", [15, 30, 50])
def test_k3_closed_form_is_eq_14_and_a_bracketed_root(dps):
    b = VD.BinaryVariant(Objective(), 2).derive()
    assert cancel(radsimp(b.closed_form - claims.binary_policy_two().subs(S.gamma, 1))) == 0
    with mpmath.workdps(dps + 10):
        for pv, bv in ((Rational(1, 5), Rational(1, 2)), (Rational(9, 10), Rational(3))):
            f = VD.condition_function(b.condition, pv, bv, VD.EPS)
            (root,) = VD.bracketed_roots(f)
            closed = mpmath.mpf(b.closed_form.evalf(dps + 10, subs={p: pv, beta: bv}))
            assert abs(root - closed) < mpmath.mpf(10) ** -(dps - 5)


@pytest.mark.parametrize("dps", [15, 30, 50])
def test_k3_limit_closed_form_is_eq_15(dps):
    b = VD.BinaryVariant(Objective(), None).derive()
    assert cancel(b.closed_form - claims.binary_policy_limit()) == 0
    with mpmath.workdps(dps + 10):
        f = VD.condition_function(b.condition, Rational(1, 5), Rational(1, 2), VD.EPS)
        (root,) = VD.bracketed_roots(f)
        closed = mpmath.mpf(b.closed_form.evalf(dps + 10, subs={p: Rational(1, 5),
                                                               beta: Rational(1, 2)}))
        assert abs(root - closed) < mpmath.mpf(10) ** -(dps - 5)


def test_k2_plain_is_logistic_pooling():
    b = VD.BinaryVariant(Objective("k2"), 2).derive()
    assert cancel(b.closed_form - p * exp(1 / beta) / (p * exp(1 / beta) + 1 - p)) == 0


def test_k1_plain_beta_drops_out():
    for G in (2, 3):
        F = VD.binary_condition(Objective("k1"), G)
        assert beta not in F.free_symbols and F != 0


def test_k2_is_has_three_stationary_points_and_enumeration_confirms():
    obj = Objective("k2", importance_weighted=True)
    F = VD.binary_condition(obj, 2)
    with mpmath.workdps(40):
        roots = VD.bracketed_roots(VD.condition_function(F, Rational(1, 5), Rational(1, 2), VD.EPS))
        assert len(roots) == 3
        for r in roots:
            field = V.enumerated_field(obj, r, mpmath.mpf(1) / 5, VD.deterministic_outcomes(), 2,
                                       mpmath.mpf(1) / 2)
            assert abs(field) < mpmath.mpf(10) ** -25


def test_kkt_of_k3_is_eq_11():
    kkt = VD.KKT("k3").derive()
    e = kkt.eff
    mean_P = sum(t * P for t, P in zip(e.pi, kkt.P))
    tail = {e.pi[-1]: 1 - e.pi[0] - e.pi[1], e.ref[-1]: 1 - e.ref[0] - e.ref[1]}
    eq11 = kkt.P[0] - mean_P - beta * (1 - e.ref[0] / e.pi[0])
    assert cancel((kkt.residual[0] - eq11).subs(tail)) == 0


def test_kl_in_reward_is_rlhf_for_every_normalisation():
    kr = VD.KLInReward().derive()
    assert cancel(kr.policy - kr.rlhf) == 0
    assert kr.signs_ok()


def test_kl_in_reward_bernoulli_g2_rests_at_reference_by_a_jump():
    pa, pb = VD.SUCCESS
    outs = [[(mpmath.mpf(1), _mp(pa)), (mpmath.mpf(0), 1 - _mp(pa))],
            [(mpmath.mpf(1), _mp(pb)), (mpmath.mpf(0), 1 - _mp(pb))]]
    with mpmath.workdps(25):
        f = lambda xv: V.reward_field(Objective(), xv, mpmath.mpf(1) / 5, mpmath.mpf(1) / 2,
                                      outs, 2)
        h = mpmath.mpf(10) ** -10
        below, above = f(mpmath.mpf(1) / 5 - h), f(mpmath.mpf(1) / 5 + h)
        # the jump: pa - pb + P(tie) = 0.82 below, pa - pb - P(tie) = -0.02 above
        assert abs(below - mpmath.mpf("0.82")) < 1e-6 and abs(above + mpmath.mpf("0.02")) < 1e-6


def test_equal_rewards_give_zero_advantages_after_rounding():
    """Regression: the rounded mean of equal values left residue/residue = O(1) advantages."""
    with mpmath.workdps(15):
        v = mpmath.mpf(1) - mpmath.log(mpmath.mpf("0.26889") / mpmath.mpf("0.2")) / 2
        assert V.mp_advantages(Objective(), [v, v, v]) == [0, 0, 0]


def test_results_pass_and_tables_fit():
    res = computed_part("variants")     # the display checks of its sections are among them
    assert res["checks"] and not failed_checks(res["checks"])
    table = res["artefacts"][0]["context"]
    assert [pl["label"] for pl in table["panels"]] == ["tab:variants", "tab:variants-limit"]
    assert res["artefacts"][1]["text"].startswith("penalty,importance_weighted,kl_in,column,G,")


@pytest.mark.parametrize("G", [2, 3, 5])
def test_numeric_binary_gap_matches_symbolic(G):
    with mpmath.workdps(30):
        for col, _, norm, std, has_eps in VD.COLUMNS:
            gap = VD.binary_preference_gap(norm, std, VD.eps if has_eps else 0, G)
            sym = mpmath.mpf(gap.evalf(40, subs={x: Rational(2, 7), VD.eps: VD.EPS}))
            num = V.binary_gap_numeric(VD.column_objective(col), G, mpmath.mpf(2) / 7)
            assert abs(sym - num) < mpmath.mpf(10) ** -25
