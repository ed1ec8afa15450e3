"""The generic solver of every GRPO variant (:mod:`derive.solve.variant_solver`).

Independent paths: the SymPy derivation of each penalty's expected gradient
(:class:`derive.model.variants.EffectiveDivergence`), the exact enumeration of every
ordered group and reward outcome (:func:`derive.results.variants.enumerated_preference`),
the derived binary conditions of the variant matrix, and RLHF's closed form.
"""

import itertools
import random
from fractions import Fraction as F

import mpmath
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from derive.model.objective import PENALTIES, Objective
from derive.model.variants import EffectiveDivergence
from derive.numerics.context import ARB, FLOAT, MP, arb_ends, arb_precision
from derive.results.variants import enumerated_preference
from derive.solve.solver import Problem, stationary_policies
from derive.solve.variant_solver import PENALTY_GRADIENTS, REWARD_ESTIMATES, Dual, VariantSystem, logit_range

DIGITS = 30


@pytest.mark.parametrize("name", sorted(PENALTY_GRADIENTS))
def test_penalty_gradient_is_the_derived_one_up_to_a_constant(name):
    """h(L) of the solver against dD/dpi(o) at pi_old = pi from SymPy (Eq. (7) differentiated)."""
    penalty, iw = name.removesuffix("-is"), name.endswith("-is")
    e = EffectiveDivergence(penalty, iw, "ab").derive()
    diffs = []
    with mpmath.workdps(40):
        for pa, ra in ((F(1, 5), F(1, 3)), (F(7, 10), F(1, 2)), (F(1, 100), F(9, 10))):
            sub = {e.pi[0]: pa, e.pi[1]: 1 - pa, e.ref[0]: ra, e.ref[1]: 1 - ra}
            derived = mpmath.mpf(e.gradient[0].evalf(50, subs=sub))
            L = mpmath.log(mpmath.mpf(pa.numerator) / pa.denominator
                           / (mpmath.mpf(ra.numerator) / ra.denominator))
            diffs.append(derived - PENALTY_GRADIENTS[name](L, MP))
        assert max(diffs) - min(diffs) < mpmath.mpf(10) ** -35, diffs


@pytest.mark.parametrize("name", sorted(REWARD_ESTIMATES))
def test_reward_estimate_is_the_model_estimator(name):
    from sympy import exp, symbols

    L = symbols("L", real=True)
    k = PENALTIES[name].k(exp(-L))
    for Lv in (-2.5, -0.1, 0.3, 4.0):
        assert abs(float(k.subs(L, Lv)) - REWARD_ESTIMATES[name](Lv, FLOAT)) < 1e-12


def _random_problem(rng, kl_in, K=None, G=None):
    K = K or rng.choice((2, 3))
    G = G or rng.choice((2, 3, 4))
    norm = rng.choice(("shift-scale", "shift-only", "none"))
    std = rng.choice(("population", "sample")) if norm == "shift-scale" else "population"
    eps = rng.choice((F(0), F(1, 10))) if norm == "shift-scale" else F(0)
    pen = rng.choice(("k1", "k2", "k3")) if kl_in == "reward" else rng.choice(sorted(PENALTY_GRADIENTS))
    dists = []
    for _ in range(K):
        vals = rng.sample((0, 1, 2, F(1, 2)), rng.choice((1, 2)))
        w = F(rng.randint(1, 9), 10)
        dists.append([(vals[0], w), (vals[1], 1 - w)] if len(vals) == 2 else [(vals[0], 1)])
    raw = [rng.randint(1, 9) for _ in range(K)]
    ref = [F(r, sum(raw)) for r in raw]
    return Problem.finite(ref, dists, F(rng.randint(1, 8), 4), G, pen, norm, kl_in=kl_in,
                          std=std, std_eps=eps), dists


@settings(max_examples=25, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10**6), kl_in=st.sampled_from(("loss", "reward")))
def test_preferences_match_the_enumeration_of_every_group(seed, kl_in):
    """P(o|pi) of the solver = E[A_1 | o_1 = o] summed over every ordered group and outcome."""
    rng = random.Random(seed)
    pb, dists = _random_problem(rng, kl_in)
    system = VariantSystem(pb)
    with mpmath.workdps(DIGITS):
        raw = [mpmath.mpf(rng.randint(1, 20)) for _ in range(pb.K)]
        pi = [r / sum(raw) for r in raw]
        ref = [mpmath.mpf(r.numerator) / r.denominator for r in pb.ref]
        L = [mpmath.log(a / b) for a, b in zip(pi, ref)]
        mine = system.preferences(pi, L, MP)
        beta = mpmath.mpf(pb.beta.numerator) / pb.beta.denominator
        outcomes = []
        for o, d in enumerate(dists):
            shift = beta * REWARD_ESTIMATES[pb.penalty](L[o], MP) if kl_in == "reward" else 0
            outcomes.append([(mpmath.mpf(F(v).numerator) / F(v).denominator - shift,
                              mpmath.mpf(w.numerator) / w.denominator) for v, w in d])
        obj = Objective(normalisation=pb.normalisation, std=pb.std, std_eps=pb.std_eps)
        for o in range(pb.K):
            ref_value = enumerated_preference(obj, o, pi, outcomes, pb.group)
            assert abs(mine[o] - ref_value) < mpmath.mpf(10) ** (-DIGITS + 5), (o, mine[o], ref_value)


def test_forward_derivatives_match_finite_differences():
    rng = random.Random(7)
    for kl_in in ("loss", "reward"):
        pb, _ = _random_problem(rng, kl_in, K=3, G=3)
        system = VariantSystem(pb)
        with mpmath.workdps(40):
            x = [mpmath.mpf("0.3"), mpmath.mpf("-0.7")]
            J = system.residual_nd.value_and_jacobian(x, MP).J
            for j in range(2):
                num = [mpmath.diff(lambda t: system.residual_nd(
                    [a + (t if k == j else 0) for k, a in enumerate(x)], MP)[0][i], 0)
                    for i in range(2)]
                for i in range(2):
                    assert abs(num[i] - J[i][j]) < mpmath.mpf(10) ** -20


def test_dual_arithmetic_in_arb_contains_the_exact_value_and_derivative():
    with arb_precision(200):
        x = Dual(ARB.num(F(1, 3)), [ARB.num(1)])
        y = (x * x + 2) / (x + ARB.num(F(1, 7)))
    xq, c = F(1, 3), F(1, 7)
    exact = (xq * xq + 2) / (xq + c)
    slope = (2 * xq * (xq + c) - (xq * xq + 2)) / (xq + c) ** 2
    for ball, q in ((y.v, exact), (y.d[0], slope)):
        with arb_precision(200):
            assert (ball - ARB.num(q)).contains(0)
        lo, hi = arb_ends(ball)
        assert hi - lo < mpmath.mpf(2) ** -190


@pytest.mark.parametrize("penalty", ["k1", "k2", "k3"])
@pytest.mark.parametrize("norm", ["shift-scale", "shift-only", "none"])
def test_kl_in_reward_deterministic_is_rlhf_for_k1(penalty, norm):
    """Deterministic rewards: stationary iff every modified reward is equal.  With k1 that is
    RLHF's pi propto pi_ref e^{r/beta} (arXiv:2502.18548v3, Eqs. (3)-(4))."""
    ref, rewards, beta = (F(1, 5), F(3, 10), F(1, 2)), (1, F(1, 2), 0), F(2, 3)
    pb = Problem.deterministic(ref, rewards, beta, 3, penalty, norm, kl_in="reward")
    sols = stationary_policies(pb, digits=DIGITS)
    interior = [s for s in sols if s.kind == "interior"]
    with mpmath.workdps(DIGITS + 10):
        b = mpmath.mpf(2) / 3
        if penalty == "k1":
            w = [mpmath.mpf(r.numerator) / r.denominator * mpmath.exp(mpmath.mpf(v) / b)
                 for r, v in zip(ref, (1, 0.5, 0))]
            expected = [a / sum(w) for a in w]
            (s,) = interior
            assert max(abs(a - e) for a, e in zip(s.policy, expected)) < mpmath.mpf(10) ** -(DIGITS - 2)
            assert s.certified and s.classification in ("attractor", "undecided")
        est = REWARD_ESTIMATES[penalty]
        for s in interior:   # every modified reward equal at every reported point
            mod = [mpmath.mpf(F(v).numerator) / F(v).denominator
                   - b * est(mpmath.log(p / (mpmath.mpf(r.numerator) / r.denominator)), MP)
                   for v, p, r in zip(rewards, s.policy, ref)]
            assert max(mod) - min(mod) < mpmath.mpf(10) ** -(DIGITS - 3)
            if norm == "shift-only":
                # the independent path: the field itself, enumerated over every ordered group
                # with the estimate taken from the model's estimator (the field is linear in
                # the rewards here, so it vanishes at the point rather than jumping)
                from sympy import Float

                from derive.verify.enumeration import preference_of

                k = PENALTIES[penalty].k
                shifted = [[(mpmath.mpf(F(v).numerator) / F(v).denominator - b * mpmath.mpf(
                    k(Float(str(mpmath.mpf(r.numerator) / r.denominator / p), DIGITS + 10))
                    .evalf(DIGITS + 10)), 1)] for v, p, r in zip(rewards, s.policy, ref)]
                field = [preference_of(o, s.policy, shifted, 3, "shift-only") for o in range(3)]
                assert max(abs(f) for f in field) < mpmath.mpf(10) ** -(DIGITS - 5)


def test_sample_std_is_population_with_beta_scaled():
    """Derived: A_sample = sqrt((G-1)/G) A_population, so the sample-std policy at beta is the
    population one at beta sqrt(G/(G-1)); G = 4 makes that rational (beta sqrt(4/3) = 2/sqrt(3))."""
    G = 4
    ref, rewards = (F(1, 5), F(4, 5)), (1, 0)
    sample = stationary_policies(Problem.deterministic(ref, rewards, F(3, 4), G, "k3",
                                                       std="sample"), digits=DIGITS)
    # beta sqrt(G/(G-1)) = (3/4)(2/sqrt 3) = sqrt(3)/2: solve the population problem by the
    # variant system with an epsilon-free population std at that beta, via its residual
    pop = Problem.deterministic(ref, rewards, F(1), G, "k3")
    system = VariantSystem(pop)
    with mpmath.workdps(DIGITS + 10):
        x0 = mpmath.log(sample[0].policy[0] / sample[0].policy[1]) - mpmath.log(mpmath.mpf(1) / 4)

        def f(x):
            pi, L = system.policy_of_logits([x], MP)
            P = system.preferences(pi, L, MP)
            h = [PENALTY_GRADIENTS["k3"](a, MP) for a in L]
            return (P[0] - P[1]) - mpmath.sqrt(3) / 2 * (h[0] - h[1])

        assert abs(f(x0)) < mpmath.mpf(10) ** -(DIGITS - 3)


def test_k2_and_k1_is_give_the_k3_is_policies():
    ref, rewards, beta = (F(1, 4), F(1, 4), F(1, 2)), (1, F(1, 3), 0), F(1, 3)
    base = stationary_policies(Problem.deterministic(ref, rewards, beta, 3, "k3-is"), digits=DIGITS)
    for pen in ("k2", "k1-is"):
        sols = stationary_policies(Problem.deterministic(ref, rewards, beta, 3, pen), digits=DIGITS)
        assert [s.policy for s in sols] == [s.policy for s in base]
        assert all("k3-is" in s.note for s in sols)


def test_k1_drops_beta():
    ref, rewards = (F(1, 4), F(3, 4)), (1, 0)
    a = stationary_policies(Problem.deterministic(ref, rewards, F(1, 2), 3, "k1"), digits=DIGITS)
    b = stationary_policies(Problem.deterministic(ref, rewards, F(5), 3, "k1"), digits=DIGITS)
    assert [s.policy for s in a] == [s.policy for s in b]
    assert all(s.kind == "boundary" for s in a)
    assert [s.classification for s in a] == ["boundary-attractor", "boundary-repeller"]


def test_k2_is_faces_are_stationary_and_attract_from_outside():
    pb = Problem.deterministic((F(1, 5), F(3, 10), F(1, 2)), (1, F(1, 2), 0), F(1, 2), 3, "k2-is")
    sols = stationary_policies(pb, digits=DIGITS)
    vertices = [s for s in sols if sum(1 for p in s.policy if p > 0) == 1]
    assert len(vertices) == 3 and all(s.classification == "boundary-attractor" for s in vertices)
    for s in sols:
        assert s.residual < mpmath.mpf(10) ** -(DIGITS - 5)
        if s.kind == "boundary" and len(vertices):
            support = [o for o, p in enumerate(s.policy) if p > 0]
            assert len(support) < 3


def test_no_spurious_roots_with_tiny_reference_mass():
    """k3-is with pi_ref(a) = 1e-30 and a small beta: the float scan never reports a root
    that the mpmath polishing does not confirm (every reported residual is tiny)."""
    pb = Problem.deterministic((F(1, 10**30), 1 - F(1, 10**30)), (1, 0), F(1, 20), 3, "k3-is",
                               std="sample")
    sols = stationary_policies(pb, digits=DIGITS)
    assert len(sols) == 1 and sols[0].certified
    assert sols[0].residual < mpmath.mpf(10) ** -(DIGITS - 5)


def test_variant_matrix_roots_are_the_solvers():
    """The binary cells of the variant matrix (bracketed roots of the SymPy-derived condition,
    arXiv:2502.18548v3, Eqs. (11)-(15) generalised) against the generic solver."""
    from derive.model.variants import BETA, EPS, P_REF, column_objective, matrix_cells

    cells = matrix_cells(30)
    P, B, E = (F(str(v)) for v in (P_REF, BETA, EPS))
    checked = 0
    for (pen, iw, col, G), cell in cells.items():
        obj = column_objective(col, pen, iw)
        name = pen + ("-is" if iw else "")
        pb = Problem.deterministic((P, 1 - P), (1, 0), B, G, name, obj.normalisation,
                                   std=obj.std, std_eps=E if obj.std_eps else 0)
        sols = [s for s in stationary_policies(pb, digits=25) if s.kind == "interior"
                and s.classification != "undecided"]
        found = sorted(s.policy[0] for s in sols)
        want = sorted(cell["roots"])
        assert len(found) == len(want), (pen, iw, col, G, found, want)
        for a, b in zip(found, want):
            assert abs(a - b) < mpmath.mpf(10) ** -20, (pen, iw, col, G)
        checked += 1
    assert checked == len(cells)


def test_logit_range_bounds_every_root():
    rng = random.Random(3)
    for _ in range(6):
        pb, _ = _random_problem(rng, "loss", K=2, G=3)
        if pb.penalty == "k1":
            continue
        X, proved = logit_range(VariantSystem(pb))
        for s in stationary_policies(pb, digits=20):
            if s.kind == "interior" and proved:
                x = mpmath.log(s.policy[0] / pb.ref[0]) - mpmath.log(s.policy[1] / pb.ref[1])
                assert abs(x) <= X


def test_preset_settings_build_the_model_presets():
    from derive.model.objective import PRESETS
    from derive.model.presets import PRESET_SETTINGS

    for name, s in PRESET_SETTINGS.items():
        obj = PRESETS[name].objective
        assert obj.penalty_name == s["penalty"] and obj.normalisation == s["normalisation"]
        assert obj.std == s["std"] and obj.kl_in == s["kl_in"]
        assert F(str(obj.std_eps)) == s["std_eps"] and F(str(PRESETS[name].beta)) == s["beta"]


def test_every_cell_is_answered_by_the_command_line():
    """K = 3, G = 3, finite distributions: every penalty x weight x normalisation and the KL
    in the reward give an answer with small residuals (exit 0)."""
    import json
    import subprocess
    import sys

    base = [sys.executable, "-m", "derive", "stationary", "--ref", "1/5,3/10,1/2",
            "--reward-dist", "0:0.2,1:0.8", "--reward-dist", "1:1", "--reward-dist", "0:1/2,2:1/2",
            "--beta", "1/2", "--group", "3", "--json", "--digits", "20"]
    cells = [["--penalty", p] for p in PENALTY_GRADIENTS] + [["--kl-in", "reward"]]
    norms = [["--normalisation", "shift-only"], ["--normalisation", "none"],
             ["--std", "sample", "--std-eps", "1e-4"]]
    for extra in itertools.islice(itertools.product(cells, norms), 0, None, 3):
        out = subprocess.run(base + extra[0] + extra[1], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        rec = json.loads(out.stdout)
        assert rec["problem"]["penalty"] in PENALTY_GRADIENTS
        for s in rec["stationary"]:
            assert float(s["residual"]) < 1e-15


MC_CASES = [("k1", "loss"), ("k2", "loss"), ("k3", "loss"), ("k1-is", "loss"), ("k2-is", "loss"),
            ("k3-is", "loss"), ("k1", "reward"), ("k3", "reward")]


@pytest.mark.parametrize("penalty,kl_in", MC_CASES)
def test_dynamics_and_monte_carlo_reach_the_attractor(penalty, kl_in):
    """For every penalty (and the KL in the reward): the exact expected-gradient flow and a
    sampled GRPO run (groups drawn, rewards sampled, clipped surrogate) from pi_ref both end at
    the attractor the solver reports (a vertex for k1, where beta drops out)."""
    from derive.dynamics.iteration import monte_carlo_grpo, simulate_expected_gradient

    pb = Problem.bernoulli((F(2, 5), F(3, 5)), (F(4, 5), F(3, 10)), F(1, 2), 4, penalty,
                           std="sample", std_eps=F(1, 10**4), kl_in=kl_in)
    sols = stationary_policies(pb, digits=20)
    attractors = [s for s in sols if s.classification in ("attractor", "boundary-attractor")]
    assert attractors
    flow = simulate_expected_gradient(pb, 600, 0.5, digits=20)[-1]
    run = monte_carlo_grpo(pb, 300, 64, 4, lr=0.1, seed=11)
    nearest = min(attractors, key=lambda s: abs(s.policy[0] - flow[0]))
    # an interior attractor is approached geometrically, a vertex only algebraically
    tol = 1e-3 if nearest.kind == "interior" else 1e-2
    assert abs(flow[0] - nearest.policy[0]) < tol, (flow[0], [s.policy[0] for s in sols])
    assert abs(run.averaged[0] - float(nearest.policy[0])) < 0.05, (run.averaged, nearest.policy)
