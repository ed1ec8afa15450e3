"""Displayed author's forms are proven equal to the derivation, and a wrong form fails."""

from sympy import Add, Integer, Mul, sqrt

from derive.paper.symbols import beta, gamma, p, x
from derive.verify.checks import Section
from derive.verify.display import U, condition, form_tex, frac, matching, signed, value


def _section():
    return Section("t", "T", "(1)", "")


def test_condition_accepts_a_constant_multiple_and_rejects_another_equation():
    sec = _section()
    derived = -beta * p + beta * x + gamma * x**2 - gamma * x
    row = condition(sec, "ok", "(17)", U(Mul, beta, U(Add, x, -p)),
                    U(Mul, gamma, x, U(Add, 1, -x)), 3 * derived)
    assert row == r"\beta \left(x - p\right) &= \gamma x \left(1 - x\right)"
    condition(sec, "wrong", "(17)", U(Mul, beta, U(Add, x, -p)), U(Mul, gamma, x), derived)
    condition(sec, "zero", "(17)", x, x, derived)
    assert [c.status for c in sec.display_checks] == ["pass", "fail", "fail"]


def test_value_proves_a_radical_form_and_rejects_a_sign_slip():
    sec = _section()
    derived = (-beta + gamma + sqrt(beta**2 + 4 * beta * gamma * p - 2 * beta * gamma + gamma**2)) \
        / (2 * gamma)
    D = U(Add, (beta - gamma) ** 2, U(Mul, 4, beta, gamma, p))
    for sign in (1, -1):
        form = frac(U(Add, gamma, -beta, signed(sign, sqrt(D, evaluate=False))), U(Mul, 2, gamma))
        value(sec, f"root{sign}", "(14)", "x", form, derived)
    assert [c.status for c in sec.display_checks] == ["pass", "fail"]
    assert "1 \\sqrt" not in form_tex(form)


def test_matching_picks_the_equal_candidate():
    assert matching(U(Add, x, -p), [x + p, x - p]) == x - p
    assert matching(x, [Integer(2), Integer(3)]) == 2
