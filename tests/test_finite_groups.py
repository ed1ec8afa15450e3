"""The finite-groups table's asymptotic column pi_inf + c/G (derive.paper.finite_groups)."""

from fractions import Fraction as F

import mpmath
from conftest import computed_part

from derive.paper import claims
from derive.paper import finite_groups as FGD
from derive.paper import symbols as S
from derive.results import finite_groups as FG
from derive.solve.correction import finite_group_correction
from derive.solve.solver import Problem, stationary_policies


def test_asymptotic_correction_is_the_numeric_ift_value():
    corr = FGD.asymptotic_correction()
    with mpmath.workdps(30):
        for bt in ("1/2", "2"):
            prob = Problem.deterministic((F(3, 10), F(7, 10)), (1, 0), F(bt), None)
            (s,) = [s for s in stationary_policies(prob, 30, certify=False) if s.kind == "interior"]
            c = finite_group_correction(prob, s.policy)
            b = F(bt)
            assert abs(corr(mpmath.mpf(3) / 10, mpmath.mpf(b.numerator) / b.denominator) - c[0]) \
                < mpmath.mpf(10) ** -25


def test_asymptotic_error_against_independent_values():
    """pi(a) from the equation for b, pi_inf from the printed (15), c from the numeric IFT."""
    from sympy import lambdify

    f15 = lambdify((S.p, S.beta), claims.binary_policy_limit(), "mpmath")
    with mpmath.workdps(40):
        P, B, G = mpmath.mpf(3) / 10, mpmath.mpf(1), 256
        prob = Problem.deterministic((F(3, 10), F(7, 10)), (1, 0), F(1), None)
        (s,) = [s for s in stationary_policies(prob, 30, certify=False) if s.kind == "interior"]
        c = finite_group_correction(prob, s.policy)[0]
        err = FGD.stationary_x_b(G, P, B) - (f15(P, B) + c / G)
        assert abs(err) < 1e-5                       # O(1/G^2): about 0.23/G^2
        assert abs(err * G**2 + mpmath.mpf("0.227")) < 1e-2
        assert FG.error_tex(err).startswith("$-3.5 \\times 10^{-6}")


def test_table_has_the_asymptotic_columns_and_check():
    res = computed_part("finite_groups")
    header = res["artefacts"][1]["text"].splitlines()[0]
    assert header.endswith("asymptotic_pi_inf_plus_c_over_G,asymptotic_error")
    (chk,) = [c for c in res["checks"] if c["id"] == "finite-table-asymptotic"]
    assert chk["status"] == "pass"
    rows = res["artefacts"][0]["context"]["rows"]
    assert all(len(r["errors"]) == len(r["cells"]) for r in rows)


def test_condition_through_the_kernel_is_the_papers_form():
    """condition(G) goes through the derived kernel of (11) (binary.stationary_numerator); it is
    beta (x - p) - x U_G(x) with E_pi P_G = 0, term for term, for G = 2..6."""
    from sympy import expand

    from derive.paper.preference import binomial_sums

    x, p, beta = S.x, S.p, S.beta
    for G in (2, 3, 4, 5, 6):
        cond, mean = FGD.condition(G)
        U, _ = binomial_sums(G, x)
        assert mean == 0
        assert cond == expand(beta * (x - p) - x * U)
        assert cond != expand(beta * (x - p) - x * U.subs(x, x / 2))    # the comparison can fail
