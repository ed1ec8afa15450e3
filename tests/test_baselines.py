import mpmath
import pytest
from conftest import artefact, computed_part, failed_checks
from hypothesis import given
from hypothesis import strategies as st
from sympy import Rational, exp, expand

from derive.paper import symbols as S
from derive.paper.baselines import (
    NLHF,
    RLHF,
    antisymmetric_preference,
    nlhf_best_response_binary,
    nlhf_binary,
    nlhf_condition_binary,
    nlhf_payoff,
    nlhf_payoff_gradient,
    nlhf_policy_binary,
    pairwise_expected_advantage,
    rank_preference,
    rlhf_binary,
)


@pytest.fixture(scope="module")
def three():
    return NLHF("abc").derive()


def test_rlhf_pooling():
    assert RLHF().derive().residue() == [0, 0]


def test_antisymmetric_matrix_has_half_on_the_diagonal():
    P = antisymmetric_preference("abc")
    for i in range(3):
        assert P[i][i] == Rational(1, 2)
        for j in range(3):
            assert expand(P[i][j] + P[j][i]) == 1


def test_nlhf_fixed_point_is_the_printed_form(three):
    assert three.multiplier_free
    assert three.claim_residue() == [0, 0, 0]
    assert three.curvature == [-S.beta / q for q in three.pi]


def test_nlhf_game_is_constant_sum_only_with_half_diagonal(three):
    assert three.constant_sum_residue() == 0
    broken = NLHF("ab", diagonal=0)
    assert broken.constant_sum_residue() != 0


def test_nlhf_binary_closed_form():
    x = nlhf_policy_binary()
    p, beta, gamma = S.p, S.beta, S.gamma
    e = exp(gamma / (2 * beta))
    assert (x - p * e / (p * e + 1 - p)).cancel() == 0
    assert NLHF("ab").derive().exponent_gap == gamma / 2


def test_nlhf_is_direct_kl_at_G2_and_twice_beta(three):
    residues, pair = three.direct_kl_residue()
    assert residues == [0, 0]
    assert pair == 0
    e_adv, _, (w, l) = pairwise_expected_advantage()
    assert e_adv == w - l


def test_regression_nlhf_binary_used_p_aa_zero():
    """The old engine solved logit(x) - logit(p) = (1 - x)/beta (P(a > a) = 0): at
    p = 1/2, beta = 1 that gives 0.6590..., the paper's convention gives 1/(1 + e^{-1/2})."""
    with mpmath.workdps(50):
        v = nlhf_binary(mpmath.mpf(1) / 2, mpmath.mpf(1))
        assert abs(v - 1 / (1 + mpmath.exp(-mpmath.mpf(1) / 2))) < mpmath.mpf(10) ** -45
        old = mpmath.findroot(lambda t: mpmath.log(t / (1 - t)) - (1 - t), 0.6)
        assert abs(v - old) > mpmath.mpf(10) ** -2


@pytest.mark.parametrize("digits", [15, 30, 60])
@pytest.mark.parametrize("p,beta", [("0.01", "0.04"), ("0.1", "0.5"), ("0.5", "1"), ("0.9", "2")])
def test_nlhf_closed_form_is_its_own_best_response(digits, p, beta):
    with mpmath.workdps(digits + 10):
        P, B = mpmath.mpf(p), mpmath.mpf(beta)
        v = nlhf_binary(P, B)
        assert abs(v - nlhf_best_response_binary(v, P, B)) < mpmath.mpf(10) ** -(digits - 5)
        # NLHF at beta is RLHF (= direct KL, G = 2, gamma = 1) at 2 beta
        assert abs(v - rlhf_binary(P, 2 * B)) < mpmath.mpf(10) ** -(digits - 5)


def test_best_response_detects_a_wrong_value():
    with mpmath.workdps(40):
        P, B = mpmath.mpf("0.3"), mpmath.mpf("0.5")
        wrong = rlhf_binary(P, B)                       # RLHF at beta, not NLHF
        assert abs(wrong - nlhf_best_response_binary(wrong, P, B)) > mpmath.mpf(10) ** -3


def test_fixed_point_by_iteration_at_60_digits():
    """Iterate the best-response map from pi_ref; it reaches the closed form in one
    step (the exponent gap is constant) and stays there."""
    with mpmath.workdps(70):
        P, B = mpmath.mpf("0.2"), mpmath.mpf("0.25")
        y = P
        for _ in range(3):
            y = nlhf_best_response_binary(y, P, B)
        assert abs(y - nlhf_binary(P, B)) < mpmath.mpf(10) ** -60


@given(st.fractions(min_value="0.01", max_value="0.99"),
       st.fractions(min_value="0.02", max_value="5"))
def test_condition_vanishes_at_closed_form(pv, bv):
    from sympy import lambdify
    cond = lambdify((S.x, S.p, S.beta), nlhf_condition_binary().subs(S.gamma, 1), "mpmath")
    with mpmath.workdps(50):
        P, B = mpmath.mpf(pv.numerator) / pv.denominator, mpmath.mpf(bv.numerator) / bv.denominator
        assert abs(cond(nlhf_binary(P, B), P, B)) < mpmath.mpf(10) ** -40


def test_payoff_is_constant_sum_numerically():
    with mpmath.workdps(30):
        P = rank_preference((1, mpmath.mpf(1) / 2, 0))
        ref = [mpmath.mpf(v) for v in ("0.2", "0.3", "0.5")]
        a = [mpmath.mpf(v) for v in ("0.1", "0.6", "0.3")]
        b = [mpmath.mpf(v) for v in ("0.5", "0.25", "0.25")]
        s = nlhf_payoff(a, b, ref, P, mpmath.mpf(1)) + nlhf_payoff(b, a, ref, P, mpmath.mpf(1))
        assert abs(s - 1) < mpmath.mpf(10) ** -25
        # at pi_ref the gradient of J(., pi_ref) on the simplex is not zero (not an equilibrium)
        assert max(abs(g) for g in nlhf_payoff_gradient(ref, ref, P, mpmath.mpf(1))) > 0.01


def test_checks_pass():
    out = computed_part("baselines")["checks"]
    assert not failed_checks(out)
    assert {"nlhf-equals-direct-kl-two", "nlhf-binary-best-response",
            "nlhf-direct-kl-two-solver"} <= {c["id"] for c in out}


def test_baselines_csv_nlhf_column_against_an_independent_closed_form():
    """The data file's NLHF rows against x = p e^{1/(2 beta)}/(p e^{1/(2 beta)} + 1 - p),
    typed here at 80 digits; the printed 50 digits and the enclosure must hold it."""
    import csv
    import io
    from decimal import Decimal
    from fractions import Fraction

    tables = computed_part("tables")      # the pipeline's data file, and its checks
    assert tables["checks"] and not failed_checks(tables["checks"])
    text = artefact(tables, "data/baselines.csv")["text"]
    rows = list(csv.DictReader(io.StringIO(text)))
    nlhf = [r for r in rows if r["method"] == "nlhf"]
    assert len(nlhf) == 8
    with mpmath.workdps(80):
        for r in nlhf:
            P, B = mpmath.mpf(r["pi_ref_a"]), mpmath.mpf(r["beta"])
            e = mpmath.exp(1 / (2 * B))
            exact = P * e / (P * e + 1 - P)
            assert abs(mpmath.mpf(r["pi_a"]) - exact) < mpmath.mpf(10) ** -49
            assert r["certified"] == "true"
            lo, hi = Fraction(Decimal(r["enclosure_lo"])), Fraction(Decimal(r["enclosure_hi"]))
            ex = Fraction(Decimal(mpmath.nstr(exact, 75)))
            assert lo - Fraction(1, 10**70) <= ex <= hi + Fraction(1, 10**70)
    by = {(r["beta"], r["pi_ref_a"], r["method"]): r["pi_a"] for r in rows}
    for (b, pv, m), v in by.items():
        if m == "rlhf":
            assert by[(b, pv, "grpo-direct-kl-g2")] == v        # identical columns, as captioned


def test_rlhf_condition_is_the_objectives_derivative_not_only_the_pooling():
    """RLHF's binary condition comes from its pooled closed form; a second equation, the
    derivative along ``x`` of Eq. (3)'s objective ``x r_a + (1-x) r_b - beta KL`` with
    ``r(a) - r(b) = 1``, is the same condition (up to sign)."""
    from sympy import diff, expand_log, log, simplify

    from derive.paper.baselines import rlhf_condition_binary

    x, p, beta = S.x, S.p, S.beta
    J = x * 1 + (1 - x) * 0 - beta * (x * log(x / p) + (1 - x) * log((1 - x) / (1 - p)))
    assert simplify(expand_log(diff(J, x) + rlhf_condition_binary(), force=True)) == 0
