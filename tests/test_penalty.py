from hypothesis import given
from hypothesis import strategies as st
from sympy import Rational, cancel, diff, expand, expand_log

from derive.paper import claims
from derive.paper.penalty import Penalty, kl
from derive.results.penalty import checks


def test_all_penalty_checks_pass():
    assert all(c.passed for c in checks())


def test_gradient_on_policy_is_reverse_kl_plus_one():
    pen = Penalty("ab")
    g = cancel(pen.on_policy(pen.gradient(0)))
    assert cancel(g - (diff(kl(pen.ref, pen.pi), pen.pi[0]) + 1)) == 0
    # and not the gradient of KL(pi || pi_ref): a check that can fail
    assert expand(expand_log(g - claims.kl_gradient(pen.pi[0], pen.ref[0]), force=True)) != 0


unit = st.fractions(min_value=Rational(1, 20), max_value=Rational(9, 20), max_denominator=30)


@given(unit, unit, unit)
def test_k3_expectation_equals_kl_on_policy_numeric(a, r, o):
    pen = Penalty("ab")
    subs = {pen.pi[0]: a, pen.pi[1]: 1 - a, pen.ref[0]: r, pen.ref[1]: 1 - r}
    on = pen.on_policy(pen.expected).subs(subs)
    kl_val = kl(pen.pi, pen.ref).subs(subs)
    assert abs((on - kl_val).evalf(40)) < 1e-35
    off = pen.expected.subs(subs).subs({pen.old[0]: o, pen.old[1]: 1 - o})
    if o != a and a != r:       # at pi = pi_ref both vanish
        assert abs((off - kl_val).evalf(40)) > 1e-12
