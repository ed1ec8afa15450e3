from sympy import Rational, Symbol, exp, log, sqrt

from derive.paper import symbols as S
from derive.paper.latex import equation, latex


def test_policy_symbols():
    (pi_a,) = S.policy_symbols("pi", "a")
    (ref_a,) = S.policy_symbols("pi_ref", "a")
    (old_a,) = S.policy_symbols("pi_old", "a")
    assert latex(pi_a) == r"\pi(a)"
    assert latex(ref_a) == r"\pi_{\mathrm{ref}}(a)"
    assert latex(old_a) == r"\pi_{\mathrm{old}}(a)"
    assert latex(ref_a / pi_a) == r"\frac{\pi_{\mathrm{ref}}(a)}{\pi(a)}"


def test_preference_and_rewards():
    (P_a,) = S.preference_symbols("a")
    assert latex(P_a) == r"P_G(a \mid \pi)"
    assert latex(S.rewards(2)[0]) == "r_{1}"
    assert latex(Symbol("r_o")) == "r(o)"


def test_greek_and_log():
    assert latex(S.beta * S.x * (1 - S.x)) == r"\beta x \left(1 - x\right)"
    assert latex(log(S.x)) == r"\log x"
    assert latex(log(S.p / (1 - S.p))) == r"\log\frac{p}{1 - p}"
    assert latex(exp(S.gamma / (2 * S.beta))) == r"e^{\gamma/(2 \beta)}"
    assert latex(S.x - S.p) == "x - p"
    assert latex(sqrt(S.p)) == r"\sqrt{p}"
    assert latex(Rational(1, 3)) == r"\frac{1}{3}"


def test_equation_row():
    assert equation(S.x, S.p) == "x &= p"
    assert equation("a", S.beta, r"\le") == r"a &\le \beta"
