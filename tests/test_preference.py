import mpmath
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sympy import Rational, expand, sqrt

from derive.numerics.context import mpf_exact
from derive.paper import symbols as S
from derive.paper.preference import (
    PreferenceModel,
    binomial_sums,
    claimed_binomial,
    compositions,
    expectation_identity_general,
    mixture,
)
from derive.verify import enumeration


def test_compositions_count_and_order():
    comps = compositions(4, 3)
    assert len(comps) == 15 and comps == sorted(comps)
    assert all(sum(c) == 4 for c in comps)


def test_two_member_binomial_sum_is_one_minus_q():
    U, L = binomial_sums(2)
    assert U == 1 - S.q and L == S.q


def test_three_member_group_scales_pairwise_preference_by_sqrt2():
    U, L = binomial_sums(3)
    assert expand(U - sqrt(2) * (1 - S.q)) == 0 and expand(L - sqrt(2) * S.q) == 0


@pytest.mark.parametrize("G", [2, 3, 4, 5, 6])
def test_binomial_form(G):
    U, L = binomial_sums(G)
    cU, cL = claimed_binomial(G)
    assert expand(U - cU) == 0 and expand(L - cL) == 0


def test_expectation_identity_general():
    assert expectation_identity_general() == 0


def test_wrong_coefficient_is_detected():
    U, _ = binomial_sums(4)
    wrong = claimed_binomial(4)[0] + S.q * (1 - S.q) ** 2 / 100
    assert expand(U - wrong) != 0


def test_rejects_unsorted_values():
    with pytest.raises(ValueError):
        PreferenceModel(3, (1, 0))


probs = st.fractions(min_value=Rational(1, 20), max_value=Rational(9, 20), max_denominator=40)


@given(probs, probs, st.integers(2, 4))
def test_composition_sum_matches_enumeration(a, b, G):
    values = (Rational(0), Rational(1, 3), Rational(1))
    rho = ((Rational(1, 2), Rational(1, 4), Rational(1, 4)), (0, 0, 1), (Rational(1, 3), Rational(2, 3), 0))
    model = PreferenceModel(G, values)
    with mpmath.workdps(40):
        pi = [mpmath.mpf(a.numerator) / a.denominator, mpmath.mpf(b.numerator) / b.denominator]
        pi.append(1 - pi[0] - pi[1])
        rho_m = [[mpf_exact(w) for w in row] for row in rho]
        q = mixture(pi, rho_m)
        phis = [model.phi_numeric(j, q) for j in range(3)]
        total = mpmath.mpf(0)
        for o in range(3):
            formula = mpmath.fsum(rho_m[o][j] * phis[j] for j in range(3))
            enum = enumeration.preference(o, pi, rho, values, G)
            assert abs(formula - enum) < mpmath.mpf(10) ** -35
            total += pi[o] * enum
        assert abs(total) < mpmath.mpf(10) ** -35      # E_pi P_G(.|pi) = 0


def test_pairwise_two_member_preference_on_example():
    # G = 2, deterministic rewards 1 > 1/2 > 0: P_2(a|pi) = P(win) - P(lose).
    values = (Rational(0), Rational(1, 2), Rational(1))
    model = PreferenceModel(2, values)
    q = (Rational(1, 5), Rational(3, 10), Rational(1, 2))
    assert model.phi(2, q) == Rational(1, 2)            # beats 0 and 1/2 (0.5), ties with 1
    assert model.phi(0, q) == -Rational(4, 5)
