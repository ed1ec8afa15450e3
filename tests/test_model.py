"""The objective specification and its registries (derive.model)."""

import doctest
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy import Rational, Symbol, cancel, log, sqrt, sympify

from derive.model import objective as objective_module
from derive.model.objective import NORMALISATIONS, PENALTIES, PRESETS, Objective, advantages

rewards_st = st.lists(st.fractions(min_value=-5, max_value=5, max_denominator=20),
                      min_size=2, max_size=6)


def test_doctests_of_objective():
    failures, _ = doctest.testmod(objective_module, optionflags=doctest.ELLIPSIS)
    assert failures == 0


@pytest.mark.parametrize("name", sorted(PENALTIES))
def test_estimator_vanishes_at_rho_one(name):
    assert PENALTIES[name].k(Rational(1)) == 0


@given(st.fractions(min_value=Fraction(1, 100), max_value=100))
def test_k2_k3_non_negative(rho):
    r = Rational(rho.numerator, rho.denominator)
    assert PENALTIES["k2"].k(r).evalf(30) >= 0
    assert PENALTIES["k3"].k(r).evalf(30) >= 0


def test_k1_is_minus_log_rho():
    rho = Symbol("rho", positive=True)
    assert PENALTIES["k1"].k(rho) == -log(rho)


@given(rewards_st)
def test_centred_advantages_sum_to_zero(rs):
    for norm in ("shift-scale", "shift-only"):
        for std in ("population", "sample"):
            A = advantages(Objective(normalisation=norm, std=std), rs)
            assert cancel(sum(A)) == 0


@given(rewards_st, st.fractions(min_value=Fraction(1, 10), max_value=10),
       st.fractions(min_value=-3, max_value=3))
def test_shift_and_scale_leave_population_advantage_unchanged(rs, a, b):
    obj = Objective()
    A = advantages(obj, rs)
    B = advantages(obj, [a * r + b for r in rs])
    assert all(cancel(x - y) == 0 for x, y in zip(A, B))


@given(rewards_st)
def test_sample_std_rescales_by_sqrt_g_minus_one_over_g(rs):
    G = len(rs)
    pop = advantages(Objective(), rs)
    samp = advantages(Objective(std="sample"), rs)
    assert all(cancel(s - sqrt(Rational(G - 1, G)) * q) == 0 for s, q in zip(samp, pop))


def test_epsilon_breaks_scale_invariance():
    obj = Objective(std_eps=Rational(1, 10))
    A = advantages(obj, [1, 0])
    B = advantages(obj, [10, 0])
    assert A[0] == Rational(5, 6) and B[0] == Rational(50, 51)


def test_none_returns_the_rewards():
    assert advantages(Objective(normalisation="none"), [3, 1, 2]) == [3, 1, 2]


def test_equal_rewards_give_zero_advantages():
    assert advantages(Objective(), [2, 2, 2]) == [0, 0, 0]


@pytest.mark.parametrize("kwargs", [{"penalty": "k4"}, {"normalisation": "whiten"},
                                    {"std": "bessel"}, {"kl_in": "both"},
                                    {"std_eps": -1}, {"std_eps": 0.5},
                                    {"kl_in": "reward", "importance_weighted": True}])
def test_objective_refuses_nonsense(kwargs):
    with pytest.raises(ValueError):
        Objective(**kwargs)


def test_registries_cover_the_issue():
    assert sorted(PENALTIES) == ["k1", "k2", "k3"]
    assert sorted(NORMALISATIONS) == ["none", "shift-only", "shift-scale"]


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_say_what_they_describe(name):
    preset = PRESETS[name]
    assert isinstance(preset.objective, Objective)
    doc = preset.doc
    assert "arXiv" in doc or "v0." in doc or "not confirmed" in doc
    if name != "paper":
        assert "token" in doc and "length" in doc


def test_paper_preset_is_eq_1():
    assert PRESETS["paper"].objective == Objective("k3", False, "loss", "shift-scale",
                                                   "population", 0)


# -- the numeric forms of the estimator registry ---------------------------------


def _derived_gradient_minus(form, penalty, iw, seed):
    """``dD/dpi(a)`` at ``pi_old = pi`` from SymPy (EffectiveDivergence) minus *form* at seeded points."""
    import random

    import mpmath

    from derive.model.variants import EffectiveDivergence

    e = EffectiveDivergence(penalty, iw, "ab").derive()
    rng = random.Random(seed)
    out = []
    with mpmath.workdps(40):
        for _ in range(6):
            pa, ra = (Fraction(rng.randint(1, 999), 1000) for _ in range(2))
            sub = {e.pi[0]: pa, e.pi[1]: 1 - pa, e.ref[0]: ra, e.ref[1]: 1 - ra}
            derived = mpmath.mpf(e.gradient[0].evalf(50, subs=sub))
            pm, rm = (mpmath.mpf(x.numerator) / x.denominator for x in (pa, ra))
            out.append(derived - form(pm, rm))
    return out


@pytest.mark.parametrize("iw", (False, True))
@pytest.mark.parametrize("name", sorted(PENALTIES))
def test_gradient_in_log_ratio_is_the_derived_gradient_up_to_a_constant(name, iw):
    """The registry's h(L) against Eq. (7) differentiated by SymPy, at seeded points."""
    import mpmath

    est = PENALTIES[name]
    diffs = _derived_gradient_minus(
        lambda p, r: est.gradient_in_log_ratio(mpmath.log(p / r), mpmath.exp, iw), name, iw, seed=8)
    assert max(diffs) - min(diffs) < mpmath.mpf(10) ** -35, diffs


@pytest.mark.parametrize("penalty", ("k3", "k3-is"))
def test_paper_field_gradient_is_the_derived_gradient_up_to_a_constant(penalty):
    """derive.numerics.field's k3 / k3-is forms (the paper's solver) against the same derivation."""
    import mpmath

    from derive.numerics.context import MP
    from derive.numerics.field import penalty_gradient

    diffs = _derived_gradient_minus(lambda p, r: penalty_gradient(p, r, penalty, MP),
                                    "k3", penalty == "k3-is", seed=9)
    assert max(diffs) - min(diffs) < mpmath.mpf(10) ** -35, diffs


@pytest.mark.parametrize("name", sorted(PENALTIES))
def test_numeric_estimates_are_the_symbolic_estimator(name):
    """estimate, estimate_in_log_ratio and derivative_in_log_pi against k(rho) and -rho k'(rho)."""
    import math
    import random

    from sympy import diff, exp

    est = PENALTIES[name]
    rho = Symbol("rho", positive=True)
    k = est.k(rho)
    slope = -rho * diff(k, rho)
    rng = random.Random(10)
    for _ in range(8):
        r = rng.uniform(0.01, 20.0)
        assert est.estimate(r, math.log) == pytest.approx(float(k.subs(rho, r)), rel=1e-12, abs=1e-12)
        assert est.derivative_in_log_pi(r, math.log) == pytest.approx(float(slope.subs(rho, r)),
                                                                      rel=1e-12, abs=1e-12)
        L = -math.log(r)
        assert est.estimate_in_log_ratio(L, math.exp) == pytest.approx(float(k.subs(rho, exp(-L))),
                                                                       rel=1e-12, abs=1e-12)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(st.integers(-5, 5), min_size=2, max_size=6), st.sampled_from(("population", "sample")),
       st.sampled_from((0, 1, 3)))
def test_float_advantages_are_the_exact_ones(rewards, std, eps_tenths):
    """Each normalisation's float advantages (the Monte Carlo's) equal its exact ones."""
    from derive.model.normalisations import NORMALISATIONS

    eps = Fraction(eps_tenths, 10)
    for norm in NORMALISATIONS.values():
        exact = [float(a) for a in norm.advantages(rewards, std, Rational(eps.numerator, eps.denominator))]
        floats = norm.float_advantages([float(r) for r in rewards], std, float(eps))
        assert floats == pytest.approx(exact, rel=1e-12, abs=1e-12)


def test_the_command_line_offers_the_registries():
    from derive.cli import build_parser
    from derive.model.estimators import PENALTY_NAMES
    from derive.model.normalisations import NORMALISATION_NAMES

    assert NORMALISATION_NAMES == tuple(NORMALISATIONS) == ("shift-scale", "shift-only", "none")
    assert PENALTY_NAMES == ("k1", "k2", "k3", "k1-is", "k2-is", "k3-is")
    sub = next(a for a in build_parser()._actions if a.dest == "command").choices["stationary"]
    choices = {a.dest: a.choices for a in sub._actions}
    assert tuple(choices["normalisation"]) == NORMALISATION_NAMES
    assert tuple(choices["penalty"]) == PENALTY_NAMES


def test_the_estimators_declared_behaviour_is_their_derived_behaviour():
    """What the solvers read from the registry (constant gradient, faces attracting, linear
    estimate) is what the limits of each estimator's own gradient and estimate say."""
    import sympy

    from derive.model.estimators import PENALTIES as REGISTRY

    L = Symbol("L", real=True)
    for est in REGISTRY.values():
        plain = sympify(est.gradient_in_log_ratio(L, sympy.exp, False))
        weighted = sympify(est.gradient_in_log_ratio(L, sympy.exp, True))
        estimate = sympify(est.estimate_in_log_ratio(L, sympy.exp))
        assert est.constant_gradient == (sympy.diff(plain, L) == 0), est.name
        assert est.faces_attract_in_loss == (sympy.limit(weighted, L, -sympy.oo) == sympy.oo), est.name
        assert est.faces_attract_in_reward == (sympy.limit(estimate, L, -sympy.oo) == sympy.oo), est.name
        assert est.linear_estimate == (sympy.diff(estimate, L, 2) == 0), est.name
        # the estimate and the plain gradient are the registry's k, as derived
        assert sympy.simplify(estimate - est.k(sympy.exp(-L))) == 0, est.name


@pytest.mark.parametrize("U", [0.0, 0.5, 3.0, 20.0])
@pytest.mark.parametrize("B", [0.1, 1.0, 10.0])
def test_logit_range_inverts_each_gradient(U, B):
    """``r = logit_range(U, B)`` is far enough: the gradient moves by at least ``B`` from
    ``L = U`` to ``L = U - r`` (for k2-is, whose gradient is not monotone, ``U - r`` is where
    the left branch reaches ``h(U) + B``), so no support spans more than ``r``."""
    import math

    from derive.model.estimators import PENALTIES as REGISTRY

    for est in REGISTRY.values():
        for weighted in (False, True):
            r = est.logit_range(U, B, weighted)
            if est.constant_gradient and not weighted:
                assert r is None
                continue

            def h(x):
                return est.gradient_in_log_ratio(x, math.exp, weighted)

            assert r > 0
            assert abs(h(U - r) - h(U)) >= B * (1 - 1e-12), (est.name, weighted)
