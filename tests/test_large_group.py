"""The large-group limit and its first 1/G correction (derive.paper.large_group, derive.solve.correction).

Independent paths: exact binomial sums and exact finite-G roots extrapolated by
Richardson's method, exhaustive enumeration of every group, and SymPy closed forms.
"""

from fractions import Fraction as F

import mpmath
import pytest
from conftest import computed_part, failed_checks
from hypothesis import given
from hypothesis import strategies as st
from sympy import cancel, lambdify, sqrt

from derive.numerics.group_preference import value_preference
from derive.paper import claims
from derive.paper import large_group as LD
from derive.paper import limit as LIM
from derive.paper import symbols as S
from derive.results import large_group as L
from derive.solve.correction import central_moments, finite_group_correction, preference_correction
from derive.solve.solver import Problem, stationary_policies


def _interior(prob, digits=40):
    return [s for s in stationary_policies(prob, digits, certify=False) if s.kind == "interior"]


def test_leading_term_is_eq_13():
    lg = LIM.LargeGroup().derive()
    assert cancel(lg.limit - claims.preference_limit(LIM.v, LIM.mu, LIM.sigma)) == 0


def test_correction_is_the_displayed_form_and_has_mean_zero():
    assert LD.correction_display_residue() == 0
    assert LIM.LargeGroup().derive().mean_zero_residue() == 0


def test_higher_taylor_orders_do_not_reach_order_one_over_G():
    assert LIM.LargeGroup().derive().higher_order_residue() == 0


def test_encoded_advantage_is_a_function_of_the_group_moments():
    lg = LIM.LargeGroup()
    assert all(lg.advantage_residue(G) == 0 for G in (2, 3, 4))


@pytest.mark.parametrize("t", ["1/10", "1/2"])
def test_correction_against_richardson_of_binomial_sums(t):
    ext, der = LD.extrapolated_correction(t, 30)
    with mpmath.workdps(40):
        assert all(abs(a - b) < mpmath.mpf(10) ** -30 for a, b in zip(ext, der))


def test_a_wrong_correction_would_be_caught():
    """The Richardson path sees a change of d in the fifth digit (it can say no)."""
    ext, der = LD.extrapolated_correction("3/10", 20)
    assert abs(ext[1] - der[1] * (1 + mpmath.mpf(10) ** -5)) > mpmath.mpf(10) ** -7


def test_three_value_correction_against_exact_multinomial_sums():
    """Three reward values (not covered by the binomial path): exact Phi at moderate G,
    Richardson-extrapolated, against the numeric d_j (tolerance from the node range)."""
    values = (F(0), F(1, 2), F(1))
    q = (F(1, 5), F(3, 10), F(1, 2))
    groups = (40, 60, 80, 100, 120)
    with mpmath.workdps(40):
        inf = value_preference(values, q, None)
        rows = [[G * (a - b) for a, b in zip(value_preference(values, q, G), inf)] for G in groups]
        hs = [mpmath.mpf(1) / G for G in groups]
        ext = [LD.richardson(hs, [r[j] for r in rows]) for j in range(3)]
        d = preference_correction(values, q)
        assert all(abs(a - b) < 1e-5 for a, b in zip(ext, d))


def test_binary_closed_form_matches_the_numeric_ift():
    bc = LD.BinaryCorrection().derive()
    assert bc.closed_form_residue() == 0
    f = lambdify((S.p, S.beta), bc.correction, "mpmath")
    with mpmath.workdps(30):
        for p, b in ((F(1, 5), F(1, 3)), (F(9, 10), F(3))):
            prob = Problem.deterministic((p, 1 - p), (1, 0), b, None)
            (s,) = _interior(prob, 30)
            c = finite_group_correction(prob, s.policy)
            assert abs(c[0] - f(mpmath.mpf(p.numerator) / p.denominator,
                                mpmath.mpf(b.numerator) / b.denominator)) < mpmath.mpf(10) ** -25
            assert abs(c[0] + c[1]) < mpmath.mpf(10) ** -28


def test_binary_correction_against_extrapolated_exact_roots():
    p, b = F(2, 5), F(3, 4)

    def make(G):
        return Problem.deterministic((p, 1 - p), (1, 0), b, G)

    with mpmath.workdps(40):
        (s,) = _interior(make(None))
        ext = L.extrapolated_policy_correction(make, s.policy, 30)
        D = 1 + 4 * (mpmath.mpf(3) / 4) ** 2 * mpmath.mpf(2) / 5 * mpmath.mpf(3) / 5
        assert abs(ext[0] + 1 / (4 * mpmath.sqrt(D))) < 1e-10


def test_bernoulli_three_outputs_against_extrapolated_exact_roots():
    ref, succ, b = (F(1, 3), F(1, 3), F(1, 3)), (F(4, 5), F(1, 2), F(1, 10)), F(1, 2)
    with mpmath.workdps(40):
        (s,) = _interior(Problem.bernoulli(ref, succ, b, None))
        c = finite_group_correction(Problem.bernoulli(ref, succ, b, None), s.policy)
        ext = L.extrapolated_policy_correction(lambda G: Problem.bernoulli(ref, succ, b, G),
                                               s.policy, 30)
        assert all(abs(a - e) < 1e-9 for a, e in zip(c, ext))
        assert abs(mpmath.fsum(c)) < mpmath.mpf(10) ** -30


def test_shift_only_correction_is_exact_d():
    values, q = (F(0), F(1)), (F(2, 5), F(3, 5))
    with mpmath.workdps(30):
        d = preference_correction(values, q, "shift-only")
        for G in (2, 7, 50):
            fin = value_preference(values, q, G, "shift-only")
            inf = value_preference(values, q, None, "shift-only")
            assert all(abs(G * (a - b) - dj) < mpmath.mpf(10) ** -25 for a, b, dj in zip(fin, inf, d))


def test_identical_outputs_have_no_correction():
    prob = Problem.deterministic((F(1, 2), F(1, 2)), (1, 1), F(1), None)
    assert finite_group_correction(prob, (mpmath.mpf(0.5), mpmath.mpf(0.5))) == (0, 0)


@given(st.fractions(min_value=F(1, 20), max_value=F(19, 20)))
def test_binary_d1_closed_form(t):
    """d_1 = -1/(8 t sqrt(t(1-t))) for 0/1 rewards, and d has mean zero."""
    with mpmath.workdps(30):
        d = preference_correction((F(0), F(1)), (1 - t, t))
        tt = mpmath.mpf(t.numerator) / t.denominator
        assert abs(d[1] + 1 / (8 * tt * mpmath.sqrt(tt * (1 - tt)))) < mpmath.mpf(10) ** -25
        assert abs((1 - tt) * d[0] + tt * d[1]) < mpmath.mpf(10) ** -25
        _, var, _, _ = central_moments((F(0), F(1)), (1 - t, t))
        assert abs(var - tt * (1 - tt)) < mpmath.mpf(10) ** -28


@given(st.lists(st.fractions(min_value=F(1, 10), max_value=F(1)), min_size=3, max_size=3),
       st.lists(st.integers(min_value=-3, max_value=3), min_size=3, max_size=3, unique=True))
def test_correction_has_mean_zero_for_any_law(weights, vals):
    total = sum(weights)
    q = [w / total for w in weights]
    order = sorted(range(3), key=lambda i: vals[i])
    values = tuple(F(vals[i]) for i in order)
    q = tuple(q[i] for i in order)
    with mpmath.workdps(30):
        d = preference_correction(values, q)
        assert abs(mpmath.fsum(mpmath.mpf(a.numerator) / a.denominator * b
                               for a, b in zip(q, d))) < mpmath.mpf(10) ** -25


# -- the identity beta (E_pi r - E_ref r) = E[sigma_hat_G] -----------------------------

def test_identity_symbolic_steps():
    ident = LD.GroupStdIdentity()
    assert all(ident.group_residue(G) == 0 for G in (2, 3, 4))
    assert ident.summed_condition_residue() == 0
    assert all(ident.binary_residue(G) == 0 for G in (2, 3, 4, 5))
    assert (ident.expected_std_binary(3) - sqrt(2) * S.x * (1 - S.x)).expand() == 0
    assert all(e == 0 for G in (2, 3, 4) for e in ident.normalisation_residues(G))


@pytest.mark.parametrize("G", [2, 3, 4])
def test_identity_by_enumeration_at_stationary_points(G):
    ref, rewards, b = (F(1, 2), F(1, 4), F(1, 4)), (F(2), F(0), F(-1)), F(1, 3)
    with mpmath.workdps(40):
        (s,) = _interior(Problem.deterministic(ref, rewards, b, G), 30)
        lhs = mpmath.mpf(1) / 3 * mpmath.fsum(
            (a - mpmath.mpf(r.numerator) / r.denominator) * int(w)
            for a, r, w in zip(s.policy, ref, rewards))
        assert abs(lhs - LD.expected_group_std(s.policy, rewards, G)) < mpmath.mpf(10) ** -25


def test_identity_fails_for_importance_weighted_penalty():
    ref, rewards, b = (F(1, 2), F(1, 2)), (F(1), F(0)), F(1, 2)
    with mpmath.workdps(30):
        (s,) = _interior(Problem.deterministic(ref, rewards, b, 3, penalty="k3-is"), 30)
        lhs = mpmath.mpf(1) / 2 * (s.policy[0] - mpmath.mpf(1) / 2)
        assert abs(lhs - LD.expected_group_std(s.policy, rewards, 3)) > 1e-3


def test_all_large_group_checks_pass():
    records = computed_part("large_group")["checks"]
    assert records and not failed_checks(records)


def test_limits_start_from_the_derived_preference_not_the_claim(monkeypatch):
    """Regression: BinaryLimit, DirectKLLimit, the noisy limit and finite_groups.closed_form
    once started from the typed claims.preference_limit; they must not need it."""
    from derive.paper import claims as claims_module
    from derive.paper import finite_groups, noisy
    from derive.paper.binary import BinaryLimit
    from derive.paper.extensions import DirectKLLimit

    def refuse(*args, **kwargs):
        raise AssertionError("the typed claim was used")

    monkeypatch.setattr(claims_module, "preference_limit", refuse)
    monkeypatch.setattr(claims_module, "stationarity_limit", refuse)
    monkeypatch.setattr(claims_module, "binary_policy_two", refuse)
    monkeypatch.setattr(claims_module, "binary_quadratic_two", refuse)
    lim = BinaryLimit().derive()
    assert cancel(lim.unsquared - (S.beta * (S.x - S.p) - sqrt(S.x) * sqrt(1 - S.x))) == 0
    DirectKLLimit().derive()
    derived, _ = noisy.condition_limit_noisy()
    assert derived.has(noisy.s_a)
    form, c = finite_groups.closed_form(3)
    assert c == sqrt(2) and form.has(S.p)


def test_cli_group_inf_json_carries_the_correction(capsys):
    import json

    from derive.cli import main

    assert main(["stationary", "--ref", "1/10,9/10", "--rewards", "1,0", "--beta", "2",
                 "--group", "inf", "--json", "--digits", "30"]) == 0
    rec = json.loads(capsys.readouterr().out)
    (s,) = [s for s in rec["stationary"] if s["kind"] == "interior"]
    with mpmath.workdps(40):
        c = [mpmath.mpf(v) for v in s["finite_group_correction"]]
        closed = -1 / (4 * mpmath.sqrt(1 + 16 * mpmath.mpf(9) / 100))   # beta = 2, p = 1/10
        assert abs(c[0] - closed) < mpmath.mpf(10) ** -28
        assert abs(c[0] + c[1]) < mpmath.mpf(10) ** -28


def test_cli_correction_for_k3_is_interior_points_and_not_for_finite_groups(capsys):
    import json

    from derive.cli import main

    assert main(["stationary", "--ref", "3/10,7/10", "--rewards", "1,0", "--beta", "3",
                 "--group", "inf", "--penalty", "k3-is", "--json", "--digits", "20"]) == 0
    rec = json.loads(capsys.readouterr().out)
    kinds = {s["kind"]: s["finite_group_correction"] for s in rec["stationary"]}
    assert kinds["boundary"] is None
    assert all(len(s["finite_group_correction"]) == 2 for s in rec["stationary"]
               if s["kind"] == "interior")
    assert main(["stationary", "--ref", "3/10,7/10", "--rewards", "1,0", "--beta", "3",
                 "--group", "8", "--json", "--digits", "20"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert all("finite_group_correction" not in s for s in rec["stationary"])


def test_no_correction_where_the_jacobian_is_singular():
    """At beta = 0 the penalty vanishes and J = d/dx (P_inf(a) - P_inf(b)) = d/dx 1/sqrt(x(1-x))
    is 0 at x = 1/2: no correction is claimed there."""
    from derive.solve.correction import condition_number

    assert condition_number([[1, 1], [1, 1]]) == mpmath.inf
    assert condition_number([[2, 0], [0, 10**20]]) == 1           # row scaling does not count
    assert condition_number([[1, 1], [1, 1 + mpmath.mpf(10) ** -12]]) > 10**12
    prob = Problem.deterministic((F(1, 2), F(1, 2)), (1, 0), F(0), None)
    with mpmath.workdps(30):
        assert finite_group_correction(prob, (mpmath.mpf(1) / 2, mpmath.mpf(1) / 2)) is None


def test_three_distinct_deterministic_rewards_against_extrapolated_exact_roots():
    """K = 3 with three reward levels (multinomial sums, so only moderate G): the Richardson
    estimate over G = 20..60 agrees with c to 1e-3 (its own error is about 2e-4 there)."""
    def make(G):
        return Problem.deterministic((F(1, 5), F(3, 10), F(1, 2)), (F(1), F(1, 2), F(0)), F(1), G)

    with mpmath.workdps(30):
        (s,) = _interior(make(None), 30)
        ext = L.extrapolated_policy_correction(make, s.policy, 20, groups=(20, 30, 40, 50, 60))
        assert all(abs(a - b) < 1e-3 for a, b in zip(ext, s.finite_group_correction))
        assert abs(s.finite_group_correction[0]) > 0.1      # the test can tell c from 0
