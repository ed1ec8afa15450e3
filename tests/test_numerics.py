"""Tests of derive.numerics.group_preference (and its number types): Phi(q), its derivatives, enclosures, and P_G by brute force."""

import doctest
import itertools
from fractions import Fraction as F

import mpmath
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mpmath import mp

from derive.numerics import group_preference as numerics
from derive.numerics.context import ARB, FLOAT, MP, arb_ends, arb_precision, interval
from derive.numerics.group_preference import (
    PreferenceTable,
    bernoulli_rewards,
    deterministic_rewards,
    group_preference,
    objective_gradient,
    reward_preference,
    value_preference,
    value_preference_jacobian,
)


def _mp(x):
    x = F(x)
    return mp.mpf(x.numerator) / x.denominator


# -- an independent brute force: every group, every reward outcome -------------


def brute_force_preference(values, rho, pi, G, normalisation="shift-scale"):
    """P_G(o|pi) = E[A_1 | o_1 = o] by enumerating all G-1 other outputs and all rewards.

    Written from the definition of the advantage (population std, A = 0 when
    all rewards are equal; or A = r - mean), independently of derive.numerics.group_preference.
    """
    K, m = len(pi), len(values)
    sqrt_cache = {}
    out = []
    for o in range(K):
        total = mp.mpf(0)
        for others in itertools.product(range(K), repeat=G - 1):
            weight = F(1)
            for k in others:
                weight *= pi[k]
            if weight == 0:
                continue
            members = (o,) + others
            supports = [[j for j in range(m) if rho[k][j]] for k in members]
            for outcome in itertools.product(*supports):
                w = weight
                for k, j in zip(members, outcome):
                    w *= rho[k][j]
                r = [values[j] for j in outcome]
                mean = sum(r) / G
                if normalisation == "shift-only":
                    a = _mp(r[0] - mean)
                else:
                    var = sum((x - mean) ** 2 for x in r) / G
                    if var == 0:
                        continue
                    if var not in sqrt_cache:
                        sqrt_cache[var] = mp.sqrt(_mp(var))
                    a = _mp(r[0] - mean) / sqrt_cache[var]
                total += _mp(w) * a
        out.append(total)
    return out


VALUES3 = (F(0), F(1, 2), F(1))
RHO3 = ((F(0), F(0), F(1)), (F(1, 4), F(1, 2), F(1, 4)), (F(2, 3), F(0), F(1, 3)))
PI3 = (F(1, 2), F(1, 3), F(1, 6))


@pytest.mark.parametrize("G", [2, 3, 4, 5])
def test_preference_matches_brute_force_enumeration(G):
    mp.dps = 50
    expected = brute_force_preference(VALUES3, RHO3, PI3, G)
    got = reward_preference(VALUES3, RHO3, PI3, G)
    for e, g in zip(expected, got):
        assert abs(e - g) < mp.mpf(10) ** -45
    # the expectation under pi is zero (exchangeability), also for the brute force
    assert abs(mp.fsum(_mp(p) * e for p, e in zip(PI3, expected))) < mp.mpf(10) ** -45


@pytest.mark.parametrize("G", [2, 3, 4])
def test_binary_bernoulli_preference_matches_brute_force(G):
    mp.dps = 50
    values, rho = bernoulli_rewards([F(9, 10), F(1, 2), F(0)])
    pi = (F(1, 5), F(1, 2), F(3, 10))
    expected = brute_force_preference(values, rho, pi, G)
    got = reward_preference(values, rho, pi, G)
    for e, g in zip(expected, got):
        assert abs(e - g) < mp.mpf(10) ** -45


@pytest.mark.parametrize("G", [2, 3, 4])
def test_shift_only_preference_matches_brute_force(G):
    mp.dps = 50
    expected = brute_force_preference(VALUES3, RHO3, PI3, G, "shift-only")
    got = reward_preference(VALUES3, RHO3, PI3, G, "shift-only")
    for e, g in zip(expected, got):
        assert abs(e - g) < mp.mpf(10) ** -45
    # arXiv:2502.18548v3, Section 3: E_pi' P_G(.|pi) = (1 - 1/G)(E_pi' r - E_pi r)
    means = [sum(w * v for w, v in zip(row, VALUES3)) for row in RHO3]
    mean_pi = sum(p * r for p, r in zip(PI3, means))
    for o in range(3):
        assert abs(got[o] - _mp((1 - F(1, G)) * (means[o] - mean_pi))) < mp.mpf(10) ** -45


def test_two_point_rewards_are_shift_and_scale_invariant():
    mp.dps = 40
    q = (F(3, 7), F(4, 7))
    for G in (2, 5, 33):
        a = value_preference((F(0), F(1)), q, G)
        b = value_preference((F(-3), F(7, 2)), q, G)
        assert all(abs(x - y) < mp.mpf(10) ** -35 for x, y in zip(a, b))


def test_binomial_sums_small_group_closed_forms():
    mp.dps = 40
    q = F(2, 7)
    # G = 2: Phi_1 = 1 - q, Phi_0 = -q (the pairwise preference, arXiv:2502.18548v3, Eq. (12))
    phi0, phi1 = value_preference((F(0), F(1)), (1 - q, q), 2)
    assert abs(phi1 - _mp(1 - q)) < mp.mpf(10) ** -38 and abs(phi0 + _mp(q)) < mp.mpf(10) ** -38
    # G = 3: U = (1-q)^2 sqrt(2) + 2 q (1-q) sqrt(1/2), L = 2 q (1-q) sqrt(1/2) + q^2 sqrt(2)
    Q = _mp(q)
    U = (1 - Q) ** 2 * mp.sqrt(2) + 2 * Q * (1 - Q) * mp.sqrt(mp.mpf(1) / 2)
    L = 2 * Q * (1 - Q) * mp.sqrt(mp.mpf(1) / 2) + Q**2 * mp.sqrt(2)
    phi0, phi1 = value_preference((F(0), F(1)), (1 - q, q), 3)
    assert abs(phi1 - U) < mp.mpf(10) ** -38 and abs(phi0 + L) < mp.mpf(10) ** -38


@pytest.mark.parametrize("G", [7, 256, 1024])
@pytest.mark.parametrize("q", [F(1, 10**12), F(1, 1000), F(3, 10), F(1, 2), F(37, 40), 1 - F(1, 10**9)])
def test_large_group_sums_match_direct_summation(G, q):
    N = G - 1
    mp.dps = 90
    Q1, Q0 = _mp(q), _mp(1 - q)
    U = mp.fsum(mp.binomial(N, k) * Q1**k * Q0 ** (N - k) * mp.sqrt(mp.mpf(N - k) / (k + 1)) for k in range(N + 1))
    L = mp.fsum(mp.binomial(N, k) * Q1**k * Q0 ** (N - k) * mp.sqrt(mp.mpf(k) / (G - k)) for k in range(N + 1))
    mp.dps = 50
    phi0, phi1 = value_preference((F(0), F(1)), (1 - q, q), G)
    assert abs(phi1 - U) <= mp.mpf(10) ** -47 * abs(U)
    assert abs(phi0 + L) <= mp.mpf(10) ** -47 * abs(L)


@settings(derandomize=True, deadline=None, max_examples=40)
@given(
    a=st.integers(1, 60), b=st.integers(1, 60), c=st.integers(0, 60),
    G=st.sampled_from([2, 3, 4, 6, 9, 17, None]),
    normalisation=st.sampled_from(["shift-scale", "shift-only"]),
)
def test_exchangeability_sum_q_phi_is_zero(a, b, c, G, normalisation):
    mp.dps = 40
    total = a + b + c
    q = (F(a, total), F(b, total), F(c, total))
    phi = value_preference(VALUES3, q, G, normalisation)
    assert abs(mp.fsum(_mp(x) * y for x, y in zip(q, phi))) < mp.mpf(10) ** -35


@settings(derandomize=True, deadline=None, max_examples=30)
@given(a=st.integers(1, 999), G=st.sampled_from([2, 3, 5, 64, 300, None]))
def test_binary_exchangeability_and_signs(a, G):
    mp.dps = 40
    q = F(a, 1000)
    phi0, phi1 = value_preference((F(0), F(1)), (1 - q, q), G)
    assert abs(_mp(1 - q) * phi0 + _mp(q) * phi1) < mp.mpf(10) ** -35
    assert phi0 < 0 < phi1


@pytest.mark.parametrize(
    "G, values",
    # three levels use the multinomial table, whose size grows like G^2: keep G small
    [(2, VALUES3), (3, VALUES3), (6, VALUES3), (None, VALUES3)]
    + [(G, (F(0), F(1))) for G in (2, 3, 6, 1024, None)],
)
@pytest.mark.parametrize("normalisation", ["shift-scale", "shift-only"])
def test_jacobian_matches_central_differences(G, normalisation, values):
    mp.dps = 50
    m = len(values)
    q = [mp.mpf(3) / 10, mp.mpf(1) / 2, mp.mpf(1) / 5][:m] if m == 3 else [mp.mpf(3) / 10, mp.mpf(7) / 10]
    jac = value_preference_jacobian(values, q, G, normalisation)
    h = mp.mpf(10) ** -18
    for i in range(1, m):
        up, down = list(q), list(q)
        up[i] += h
        up[0] -= h
        down[i] -= h
        down[0] += h
        fu = value_preference(values, up, G, normalisation)
        fd = value_preference(values, down, G, normalisation)
        for j in range(m):
            assert abs((fu[j] - fd[j]) / (2 * h) - jac[j][i - 1]) < mp.mpf(10) ** -25


@settings(derandomize=True, deadline=None, max_examples=25)
@given(a=st.integers(1, 10**6 - 1), G=st.sampled_from([2, 5, 64, 1024, None]))
def test_interval_evaluation_encloses_the_value(a, G):
    q = F(a, 10**6)
    table = PreferenceTable(G, (F(0), F(1)), "shift-scale")
    mp.dps = 45
    with arb_precision(mp.prec):
        box, dbox = table.phi_and_derivative(ARB, [ARB.num(1 - q), ARB.num(q)])
    mp.dps = 70  # the reference: 25 digits finer than the balls
    point, dpoint = table.phi_and_derivative(MP, [_mp(1 - q), _mp(q)])
    for j in range(2):
        lo, hi = arb_ends(box[j])
        assert lo <= point[j] <= hi
        assert hi - lo <= mp.mpf(10) ** -40 * max(1, abs(point[j]))
        dlo, dhi = arb_ends(dbox[j][1])
        assert dlo <= dpoint[j][1] - dpoint[j][0] <= dhi


def _exact(x):
    sign, man, exp, _ = x._mpf_
    q = F(man * 2**exp) if exp >= 0 else F(man, 2**-exp)
    return -q if sign else q


@given(n=st.integers(-10**30, 10**30), d=st.integers(1, 10**30), bits=st.sampled_from([53, 100, 300]))
def test_a_rational_ball_contains_the_rational_and_is_one_ulp_wide(n, d, bits):
    with arb_precision(bits):
        lo, hi = arb_ends(ARB.num(F(n, d)))
    assert _exact(lo) <= F(n, d) <= _exact(hi)
    # a correctly rounded midpoint and a radius of at most an ulp or so
    assert _exact(hi) - _exact(lo) <= F(4, 2**bits) * max(1, abs(F(n, d)))


@given(a=st.fractions(-10**6, 10**6), b=st.fractions(-10**6, 10**6))
def test_interval_contains_both_ends(a, b):
    a, b = min(a, b), max(a, b)
    with arb_precision(120):
        lo, hi = arb_ends(interval(a, b))
    assert _exact(lo) <= a and b <= _exact(hi)
    # Arb stores a radius with a 30-bit mantissa, rounded up: the width can grow by 2^-29 of itself
    assert _exact(hi) - _exact(lo) <= (b - a) * (1 + F(1, 2**28)) + F(8, 2**120) * (1 + abs(a) + abs(b))


def test_negative_mpf_enters_arb_with_its_sign():
    # regression: mpmath.libmp.to_man_exp drops the sign of the mantissa
    mp.dps = 60
    x = -mp.mpf(2) / 3
    lo, hi = arb_ends(ARB.num(x))
    assert lo == hi == x
    lo, hi = arb_ends(interval(x - mp.mpf(10) ** -50, x + mp.mpf(10) ** -50))
    assert lo < x < hi and hi - lo < mp.mpf(10) ** -49


def test_an_mpf_enters_arb_exactly_whatever_mp_precision_is():
    # regression: converting through mp.mpf(x) rounded a 200-bit mpf to mp.prec
    mp.dps = 60
    x = mp.mpf(1) / 3
    mp.dps = 15
    lo, hi = arb_ends(ARB.num(x))
    assert lo == hi and _exact(lo) == _exact(x)


def test_arb_precision_is_restored_after_an_error():
    import flint

    before = flint.ctx.prec
    with pytest.raises(RuntimeError), arb_precision(400):
        assert flint.ctx.prec == 400
        raise RuntimeError("inside")
    assert flint.ctx.prec == before


def test_binomial_sums_give_no_enclosure_for_a_ball_off_the_simplex():
    # the integer bounds of the Horner sums need t = q1/q0 >= 0; a ball reaching below 0
    # must give a ball that is not finite, never a false enclosure
    table = PreferenceTable(8, (F(0), F(1)), "shift-scale")
    with arb_precision(100):
        q1 = interval(F(-1, 10**6), F(1, 10**6))
        phi = table.phi(ARB, [1 - q1, q1])
    assert not any(p.is_finite() for p in phi)


def test_a_ball_that_is_not_finite_has_infinite_ends():
    lo, hi = arb_ends(ARB.num(1) / 0)
    assert lo == -mp.inf and hi == mp.inf


@pytest.mark.parametrize("G", [3, 64, 1024])
def test_double_precision_scan_values_are_close(G):
    table = PreferenceTable(G, (F(0), F(1)), "shift-scale")
    mp.dps = 30
    for q in (1e-9, 0.01, 0.3, 0.5, 0.8, 1 - 1e-7):
        exact = table.phi(MP, [mp.mpf(1) - mp.mpf(q), mp.mpf(q)])
        approx = table.phi(FLOAT, [1 - q, q])
        for e, a in zip(exact, approx):
            assert abs(e - a) < 1e-11 * max(1, abs(e))


def test_finite_groups_approach_infinite_group():
    mp.dps = 30
    q = (F(1, 5), F(1, 2), F(3, 10))
    limit = value_preference(VALUES3, q, None)
    errors = []
    for G in (4, 16, 64):
        phi = value_preference(VALUES3, q, G)
        errors.append(max(abs(a - b) for a, b in zip(phi, limit)))
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 0.05


def test_reward_models():
    values, rho = deterministic_rewards([F(1), F(1, 2), F(0)])
    assert values == (F(0), F(1, 2), F(1))
    assert rho[0] == (0, 0, 1) and rho[2] == (1, 0, 0)
    values, rho = bernoulli_rewards([F(1), F(1)])
    assert values == (F(1),) and rho == ((F(1),), (F(1),))
    with pytest.raises(ValueError):
        bernoulli_rewards([F(3, 2)])
    with pytest.raises(ValueError):
        group_preference((F(0), F(1)), 1, "shift-scale")
    with pytest.raises(ValueError):
        group_preference((F(0), F(1)), 2, "scale-only")


def test_objective_gradient_is_constant_at_the_g2_closed_form():
    # arXiv:2502.18548v3, Eq. (14): beta (x - p) = x (1 - x) at G = 2, gamma = 1
    mp.dps = 50
    beta, p = mp.mpf(1) / 2, mp.mpf(1) / 5
    x = ((1 - beta) + mp.sqrt((1 - beta) ** 2 + 4 * beta * p)) / 2
    values, rho = deterministic_rewards([1, 0])
    g = objective_gradient(values, rho, (F(1, 5), F(4, 5)), (x, 1 - x), F(1, 2), 2)
    assert abs(g[0] - g[1]) < mp.mpf(10) ** -45
    # ... and not constant elsewhere (the test can fail)
    g = objective_gradient(values, rho, (F(1, 5), F(4, 5)), (x + mp.mpf(10) ** -6, 1 - x - mp.mpf(10) ** -6), F(1, 2), 2)
    assert abs(g[0] - g[1]) > mp.mpf(10) ** -8


def test_import_is_light():
    import subprocess
    import sys

    code = "import sys, derive.solve.solver; print(sorted(m for m in ('sympy', 'numpy', 'jinja2') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_docstring_examples():
    failures, _ = doctest.testmod(numerics, optionflags=doctest.ELLIPSIS)
    assert failures == 0
    assert mpmath.mp.dps  # doctests set mp.dps themselves; the fixture resets it


# -- many reward levels: the exact tables, the Horner path, the grid path -----------


MANY_LEVELS = [
    ((F(0), F(1, 2), F(1)), 6),
    ((F(0), F(1, 3), F(2, 3), F(1)), 5),
    ((F(-1), F(0), F(2), F(7, 3)), 4),
    ((F(0), F(1), F(3), F(4), F(9)), 4),
]


@pytest.mark.parametrize(("values", "G"), MANY_LEVELS)
def test_integer_advantage_parts_are_the_exact_advantages(values, G):
    model = group_preference(values, G)
    comps, _, weights, _, parts, _, dens = model.evaluator._multinomial_exact()
    for j in range(len(values)):
        for n, w, (X, Y) in zip(comps, weights, parts[j]):
            diff, variance = numerics.advantage_parts(values, j, n, G)
            assert (F(X, dens[0]), F(Y, dens[1])) == (diff, variance)
            assert w == numerics.multinomial_coefficient(n)


@pytest.mark.parametrize(("values", "G"), MANY_LEVELS)
@pytest.mark.parametrize("dps", [20, 60])
def test_horner_evaluation_matches_brute_force_enumeration(values, G, dps):
    # the MP path (nested Horner's rule in Arb) against every group, independently
    mp.dps = dps + 10
    rho = tuple(tuple(F(int(j == k)) for j in range(len(values))) for k in range(len(values)))
    pi = tuple(F(k + 1, sum(range(1, len(values) + 1))) for k in range(len(values)))
    expected = brute_force_preference(values, rho, pi, G)
    mp.dps = dps
    got = value_preference(values, [_mp(p) for p in pi], G)
    for e, g in zip(expected, got):
        # absolute accuracy of the sum (terms up to sqrt(G - 1)), a few units of the last place
        assert abs(e - g) < 16 * mp.eps * mp.sqrt(G)


@pytest.mark.parametrize(("values", "G"), MANY_LEVELS[:2])
def test_horner_evaluation_near_a_face_matches_the_power_sums(values, G):
    # q with a coordinate of 1e-40: the power sums in Arb enclose the value; the Horner
    # path (MP) must lie within its absolute accuracy of them
    mp.dps = 40
    q = [mp.mpf(10) ** -40] + [mp.mpf(k + 1) for k in range(len(values) - 1)]
    total = mp.fsum(q)
    q = [x / total for x in q]
    model = group_preference(values, G)
    with arb_precision(mp.prec + 40):
        balls = model.phi_values([ARB.num(x) for x in q], ARB)
        dballs = model.phi_jacobian([ARB.num(x) for x in q], ARB)
    for h, ball in zip(model.phi_values(q, MP), balls):
        lo, hi = arb_ends(ball)
        assert lo - 8 * mp.eps <= h <= hi + 8 * mp.eps
    for row, brow in zip(model.phi_jacobian(q, MP), dballs):
        for h, ball in zip(row, brow):
            lo, hi = arb_ends(ball)
            assert lo - 8 * G * mp.eps <= h <= hi + 8 * G * mp.eps


@pytest.mark.parametrize(("values", "G"), MANY_LEVELS)
def test_grid_evaluation_matches_pointwise_evaluation(values, G):
    import math
    import random

    rng = random.Random(7)
    m = len(values)
    perm = list(range(m))
    rng.shuffle(perm)
    axes = [[-28.0, -3.6, 0.0, 0.7, 14.0] for _ in range(m - 1)]
    model = group_preference(values, G)
    grid = model.phi_on_logit_grid(axes, perm)
    assert len(grid) == 5 ** (m - 1)
    for idx, phi in grid.items():
        x = [axes[d][i] for d, i in enumerate(idx)]
        top = max([0.0, *x])
        w = [math.exp(-top)] + [math.exp(t - top) for t in x]
        coords = [t / sum(w) for t in w]
        q = [coords[perm[j]] for j in range(m)]
        for a, b in zip(phi, model.phi_values(q, FLOAT)):
            # double-precision rounding of sums of terms up to sqrt(G - 1)
            assert abs(a - b) < 1e-13 * math.sqrt(G)


def test_grid_evaluation_declines_where_it_does_not_apply():
    assert group_preference((F(0), F(1)), 8).phi_on_logit_grid([[0.0]], [0, 1]) is None
    assert group_preference((F(0), F(1), F(2)), 1003).phi_on_logit_grid([[0.0], [0.0]], [0, 1, 2]) is None


@pytest.mark.parametrize(("values", "G"), MANY_LEVELS[:2])
def test_float_power_sums_round_as_the_plain_loop(values, G):
    # the C-loop version performs the same products and left-to-right sums
    model = group_preference(values, G)
    comps, coef, _, _ = model.evaluator._multinomial_table(FLOAT)
    q = [0.1 * (k + 1) for k in range(len(values))]
    q = [x / sum(q) for x in q]
    powers = [[x ** 0] for x in q]
    for row, x in zip(powers, q):
        for _ in range(G - 1):
            row.append(row[-1] * x)
    expected = []
    for c in coef:
        acc = 0.0
        for idx, n in enumerate(comps):
            mono = powers[0][n[0]]
            for k in range(1, len(q)):
                mono = mono * powers[k][n[k]]
            acc += c[idx] * mono
        expected.append(acc)
    assert model.phi_values(q, FLOAT) == expected


@given(st.lists(st.fractions(min_value=-3, max_value=3, max_denominator=7), min_size=2, max_size=4, unique=True),
       st.data())
@settings(max_examples=60, derandomize=True)
def test_advantage_parts_are_the_definition_for_both_variances(values, data):
    """(r - mean, sum of squared deviations / divisor) of the group v_j + counts, from the group written out."""
    values = tuple(sorted(values))
    m = len(values)
    counts = tuple(data.draw(st.lists(st.integers(0, 3), min_size=m, max_size=m)))
    j = data.draw(st.integers(0, m - 1))
    group = [values[j]] + [v for c, v in zip(counts, values) for _ in range(c)]
    G = len(group)
    mean = sum(group) / F(G)
    ss = sum((r - mean) ** 2 for r in group)
    assert numerics.advantage_parts(values, j, counts, G) == (values[j] - mean, ss / G)
    if G > 1:
        assert numerics.advantage_parts(values, j, counts, G, G - 1) == (values[j] - mean, ss / (G - 1))
