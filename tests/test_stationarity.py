import mpmath
import pytest
from sympy import Rational

from derive.numerics.context import mpf_exact
from derive.paper.preference import PreferenceModel, mixture
from derive.paper.stationarity import Stationarity, limit_residue, pairwise_residue, solve_fixed_point
from derive.verify import enumeration


def test_kkt_gives_eq_11():
    st = Stationarity("abc").derive()
    assert st.claim_residue() == [0, 0, 0]
    assert st.multiplier_residue() == 0


def test_special_forms():
    assert pairwise_residue() == [0, 0, 0]
    assert limit_residue() == [0, 0, 0, 0]


@pytest.mark.parametrize("digits", [15, 30, 50])
def test_binary_fixed_point_matches_enumerated_gradient(digits):
    # Two answers, rewards 1 and 0, G = 2: the stationary pi(a) solves beta (x - p) = x (1 - x).
    values = (Rational(0), Rational(1))
    rho = ((0, 1), (1, 0))
    model = PreferenceModel(2, values)
    with mpmath.workdps(digits + 10):
        beta, p = mpmath.mpf(1) / 2, mpmath.mpf(3) / 10

        def pref(pi):
            q = mixture(pi, [[mpf_exact(w) for w in row] for row in rho])
            phis = [model.phi_numeric(j, q) for j in range(2)]
            return [sum(mpf_exact(rho[o][j]) * phis[j] for j in range(2)) for o in range(2)]

        pi = solve_fixed_point(pref, [p, 1 - p], beta)
        x = pi[0]
        tol = mpmath.mpf(10) ** (-digits)
        assert abs(beta * (x - p) - x * (1 - x)) < tol
        grad = enumeration.objective_gradient(pi, [p, 1 - p], rho, values, 2, beta)
        assert abs(grad[0] - grad[1]) < tol
        # A perturbed policy is not stationary: the check can fail.
        moved = [x + mpmath.mpf(10) ** -3, 1 - x - mpmath.mpf(10) ** -3]
        grad = enumeration.objective_gradient(moved, [p, 1 - p], rho, values, 2, beta)
        assert abs(grad[0] - grad[1]) > mpmath.mpf(10) ** -4
