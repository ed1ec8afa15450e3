"""``stationary --json`` against an independent reference, for every GRPO variant (issue 8).

The reference (:mod:`variant_reference`) is written apart from ``derive``: it enumerates every
ordered group and every reward outcome, differentiates the objective of arXiv:2502.18548v3,
Eq. (1), itself, and finds the interior stationary policies by scanning the logits.  It is
first validated against what is known in closed form (Eq. (14), the importance-weighted
G = 2 policy of Appendix B.2, the shift-only preference of Section 3), then compared, case by
case, with the command line: every reference policy must be among the interior policies the
command reports, to 1e-25, and every interior policy it reports must be one of the reference's.
"""

import json
import random
import subprocess
import sys
from fractions import Fraction as F

import mpmath
import pytest
from conftest import ROOT
from variant_reference import (
    DPS,
    Field,
    Variant,
    expected_penalty,
    penalty_gradient,
    stationary_policies,
)

#: The command prints 40 digits; the two must agree to 1e-25.
CLI_DIGITS = 40
MATCH_TOL = mpmath.mpf(10) ** -25


def mp(x):
    return mpmath.mpf(x.numerator) / x.denominator


# -- the reference, validated ------------------------------------------------------------

def eq14(beta, gamma, p):
    """arXiv:2502.18548v3, Eq. (14): binary G = 2 stationary pi(a) of the k3 penalty."""
    r = beta / gamma
    return ((1 - r) + mpmath.sqrt((1 - r) ** 2 + 4 * r * p)) / 2


@pytest.mark.parametrize("p,beta,rewards", [
    (F(1, 10), F(1, 2), ("deterministic", (1, 0))),
    (F(7, 10), F(2), ("deterministic", (-1, 1))),
    (F(1, 4), F(1, 10), ("bernoulli", (F(9, 10), F(3, 10)))),
    (F(1, 2), F(3, 5), ("bernoulli", (F(1, 5), F(1, 2)))),
])
def test_binary_group_of_two_k3_is_eq14(p, beta, rewards):
    kind, params = rewards
    if kind == "deterministic":
        v = Variant.deterministic([p, 1 - p], params, beta, 2)
        gamma = 1 if params[0] > params[1] else -1
    else:
        v = Variant.bernoulli([p, 1 - p], params, beta, 2)
        gamma = params[0] - params[1]
    (policy,) = stationary_policies(v)
    with mpmath.workdps(DPS):
        if gamma > 0:
            x = eq14(mp(F(beta)), mp(F(gamma)), mp(p))
        else:  # (14) for the better answer b
            x = 1 - eq14(mp(F(beta)), mp(F(-gamma)), mp(1 - p))
        assert abs(policy[0] - x) < mpmath.mpf(10) ** -(DPS - 10)


@pytest.mark.parametrize("p,beta,success", [
    (F(1, 10), F(1, 2), (1, 0)),
    (F(3, 10), F(1, 10), (F(4, 5), F(1, 10))),
    (F(9, 10), F(3, 2), (F(1, 5), F(7, 10))),
])
def test_binary_group_of_two_k3_is_is_logistic(p, beta, success):
    """Appendix B.2: x = e^{gamma/(2 beta)} p / (e^{gamma/(2 beta)} p + e^{-gamma/(2 beta)} (1 - p))."""
    v = Variant.bernoulli([p, 1 - p], success, beta, 2, importance=True)
    (policy,) = stationary_policies(v)
    with mpmath.workdps(DPS):
        gamma = mp(F(success[0]) - F(success[1]))
        e = mpmath.exp(gamma / (2 * mp(beta)))
        x = e * mp(p) / (e * mp(p) + (1 - mp(p)) / e)
        assert abs(policy[0] - x) < mpmath.mpf(10) ** -(DPS - 10)


@pytest.mark.parametrize("name", ["k1", "k2", "k3"])
@pytest.mark.parametrize("importance", [False, True])
def test_penalty_gradient_by_hand_is_the_derivative_of_the_expected_penalty(name, importance):
    ref = [F(1, 5), F(3, 10), F(1, 2)]
    with mpmath.workdps(40):
        ref_mp = [mp(r) for r in ref]
        for pi in ([F(1, 3)] * 3, [F(1, 100), F(9, 100), F(9, 10)], [F(7, 10), F(1, 5), F(1, 10)]):
            pi_mp = [mp(x) for x in pi]
            for o in range(3):
                def penalty(t, o=o, pi_old=pi_mp):
                    trial = list(pi_old)
                    trial[o] = t
                    return expected_penalty(name, importance, trial, pi_old, ref_mp, mpmath.log)
                numeric = mpmath.diff(penalty, pi_mp[o])
                by_hand = penalty_gradient(name, importance, pi_mp[o], ref_mp[o], mpmath.log)
                assert abs(numeric - by_hand) < mpmath.mpf(10) ** -30 * (1 + abs(by_hand))


def _preference(variant, pi):
    """The surrogate part of g (beta = 0 removes the penalty), at DPS digits."""
    field = Field(variant)
    with mpmath.workdps(DPS):
        g, _ = field.gradient([mp(x) for x in pi], True)
        return g


@pytest.mark.parametrize("G", [2, 3, 5])
@pytest.mark.parametrize("normalisation,std,eps", [
    ("shift-scale", "population", 0), ("shift-scale", "sample", F(1, 10)), ("shift-only", "population", 0),
])
def test_group_advantages_average_to_zero(G, normalisation, std, eps):
    """E_{o ~ pi} P_G(o | pi) = 0: the advantages of a shifted group sum to zero."""
    dists = [[(0, F(3, 10)), (1, F(1, 2)), (2, F(1, 5))], [(1, 1)], [(-1, F(1, 4)), (2, F(3, 4))]]
    pi = [F(1, 6), F(1, 2), F(1, 3)]
    v = Variant(pi, dists, 0, G, normalisation=normalisation, std=std, eps=eps)
    g = _preference(v, pi)
    with mpmath.workdps(DPS):
        assert abs(mpmath.fsum(mp(p) * x for p, x in zip(pi, g))) < mpmath.mpf(10) ** -(DPS - 5)
        assert max(abs(x) for x in g) > 0.01


@pytest.mark.parametrize("G", [2, 4, 6])
def test_shift_only_preference_is_the_mean_reward_gap(G):
    """Section 3: shift-only P_G(o | pi) = (1 - 1/G)(r(o) - E_pi r), r(o) the mean reward."""
    dists = [[(0, F(1, 5)), (1, F(4, 5))], [(F(1, 2), 1)], [(-1, F(1, 2)), (2, F(1, 2))]]
    pi = [F(1, 10), F(3, 5), F(3, 10)]
    g = _preference(Variant(pi, dists, 0, G, normalisation="shift-only"), pi)
    means = [sum(val * q for val, q in d) for d in dists]
    mean = sum(p * r for p, r in zip(pi, means))
    with mpmath.workdps(DPS):
        for o in range(3):
            assert abs(g[o] - mp((1 - F(1, G)) * (means[o] - mean))) < mpmath.mpf(10) ** -(DPS - 5)


@pytest.mark.parametrize("G", [2, 3, 6])
def test_sample_std_rescales_the_preference(G):
    """Without epsilon the sample std multiplies every advantage by sqrt((G - 1)/G)."""
    dists = [[(0, F(1, 5)), (1, F(4, 5))], [(0, F(1, 2)), (1, F(1, 2))]]
    pi = [F(1, 3), F(2, 3)]
    population = _preference(Variant(pi, dists, 0, G), pi)
    sample = _preference(Variant(pi, dists, 0, G, std="sample"), pi)
    with mpmath.workdps(DPS):
        for a, b in zip(population, sample):
            assert abs(b - a * mpmath.sqrt(mpmath.mpf(G - 1) / G)) < mpmath.mpf(10) ** -(DPS - 5)


@pytest.mark.parametrize("G", [2, 3, 5])
def test_kl_in_reward_binary_deterministic_is_the_coincidence_point(G):
    """k1 in the reward, deterministic rewards, shift-and-scale: the advantages are
    +-(something) until the modified rewards coincide, where they are 0/0 -> 0.  The one
    stationary policy is v_a - beta log(x/p) = v_b - beta log((1-x)/(1-p)), and the field
    jumps across it (it is not a smooth zero)."""
    p, beta, va, vb = F(1, 5), F(1, 4), F(1), F(0)
    v = Variant.deterministic([p, 1 - p], [va, vb], beta, G, penalty="k1", kl_in="reward")
    (policy,) = stationary_policies(v)
    field = Field(v)
    with mpmath.workdps(DPS):
        z = mpmath.log(mp(p) / (1 - mp(p))) + (mp(va) - mp(vb)) / mp(beta)
        assert abs(policy[0] - 1 / (1 + mpmath.exp(-z))) < mpmath.mpf(10) ** -(DPS - 10)
        h = mpmath.mpf(10) ** -(DPS // 2)
        left, right = field.residual([z - h], True)[0][0], field.residual([z + h], True)[0][0]
        assert left > 0.1 and right < -0.1


def test_reference_finds_no_root_where_beta_drops_out_and_rewards_order_the_answers():
    """k1 as is: the penalty gradient is constant, so an interior point needs P_G(o | pi) = 0
    for every o; with deterministic rewards the best answer always has P_G > 0."""
    v = Variant.deterministic([F(1, 2), F(1, 2)], [1, 0], F(1, 2), 4, penalty="k1")
    assert stationary_policies(v) == []


def test_reference_finds_the_intransitive_equilibrium():
    """Efron-like dice A = {2,4,9}, B = {1,6,8}, C = {3,5,7}: each beats the next with
    probability 5/9, so at G = 2 with k1 (beta drops out) the uniform policy is stationary."""
    dice = [[(2, F(1, 3)), (4, F(1, 3)), (9, F(1, 3))], [(1, F(1, 3)), (6, F(1, 3)), (8, F(1, 3))],
            [(3, F(1, 3)), (5, F(1, 3)), (7, F(1, 3))]]
    v = Variant([F(1, 5), F(3, 10), F(1, 2)], dice, F(1, 2), 2, penalty="k1")
    (policy,) = stationary_policies(v)
    with mpmath.workdps(DPS):
        assert max(abs(x - mpmath.mpf(1) / 3) for x in policy) < mpmath.mpf(10) ** -(DPS - 10)


def _log_pooling(ref, means, scale):
    """pi(o) proportional to pi_ref(o) exp(scale * r(o)) (RLHF's logarithmic pooling)."""
    w = [mp(p) * mpmath.exp(scale * mp(r)) for p, r in zip(ref, means)]
    return [x / mpmath.fsum(w) for x in w]


@pytest.mark.parametrize("case", [
    # (penalty, importance, kl_in, normalisation, G, factor of r(o)/beta)
    ("k3", True, "loss", "shift-only", 3, F(2, 3)),   # Section 3: RLHF-style aggregation
    ("k1", True, "loss", "shift-only", 5, F(4, 5)),   # k1-is: log(pi/pi_ref) + 1
    ("k2", False, "loss", "none", 4, F(1)),           # k2 as is: log(pi/pi_ref)
    ("k3", True, "loss", "none", 2, F(1)),
    ("k1", False, "reward", "none", 3, F(1)),         # r - beta log(pi/pi_ref) equal
    ("k1", False, "reward", "shift-only", 4, F(1)),
])
def test_logarithmic_pooling_cells(case):
    """Cells whose stationary policy is pi ∝ pi_ref exp(c r(o)/beta) with r(o) the mean reward:
    with shift-only advantages P_G(o | pi) = (1 - 1/G)(r(o) - E_pi r), with none P_G = r(o)."""
    penalty, importance, kl_in, normalisation, G, factor = case
    ref = [F(1, 5), F(1, 2), F(3, 10)]
    dists = [[(0, F(3, 10)), (1, F(7, 10))], [(0, F(4, 5)), (2, F(1, 5))], [(1, F(1, 2)), (-1, F(1, 2))]]
    beta = F(1, 2)
    v = Variant(ref, dists, beta, G, penalty=penalty, importance=importance, kl_in=kl_in,
                normalisation=normalisation)
    (policy,) = stationary_policies(v)
    means = [sum(val * q for val, q in d) for d in dists]
    with mpmath.workdps(DPS):
        expected = _log_pooling(ref, means, mp(factor / beta))
        assert max(abs(a - b) for a, b in zip(policy, expected)) < mpmath.mpf(10) ** -(DPS - 10)


def test_penalties_that_differ_by_a_constant_share_their_stationary_policies():
    """k1-is (L + 1), k2 as is (L) and k3-is (L) have gradients that differ by constants."""
    ref = [F(3, 20), F(1, 4), F(3, 5)]
    policies = [stationary_policies(Variant.bernoulli(ref, [F(9, 10), F(1, 2), F(1, 5)], F(1, 4), 4,
                                                      penalty=k, importance=w))
                for k, w in (("k1", True), ("k2", False), ("k3", True))]
    assert len(policies[0]) == 1
    with mpmath.workdps(DPS):
        for other in policies[1:]:
            assert len(other) == 1
            assert max(abs(a - b) for a, b in zip(policies[0][0], other[0])) < mpmath.mpf(10) ** -(DPS - 10)


def test_reference_finds_a_root_on_a_grid_node():
    """Regression: the root x = 1/2 (logit 0, a node of the scan) was seen as a sign change in
    double precision but not at DPS digits, and was dropped."""
    v = Variant.bernoulli([F(2, 5), F(3, 5)], [F(9, 10), F(1, 10)], 1, 2, normalisation="shift-only")
    (policy,) = stationary_policies(v)
    with mpmath.workdps(DPS):
        assert abs(policy[0] - mpmath.mpf(1) / 2) < mpmath.mpf(10) ** -(DPS - 10)


# -- the cases: a seeded generator covering every cell -------------------------------------

VALUES = [F(-1), F(0), F(1, 2), F(1), F(2)]
BETAS = [F(1, 10), F(1, 5), F(1, 4), F(1, 2), F(3, 4), F(1), F(3, 2), F(2)]
INTRANSITIVE_DICE = [[(2, F(1, 3)), (4, F(1, 3)), (9, F(1, 3))],
                     [(1, F(1, 3)), (6, F(1, 3)), (8, F(1, 3))],
                     [(3, F(1, 3)), (5, F(1, 3)), (7, F(1, 3))]]


def _cells():
    """Every penalty x importance weight x normalisation with the KL in the loss; the std
    options on shift-and-scale; the KL in the reward with every normalisation."""
    cells = [{"penalty": k, "importance": w, "normalisation": n}
             for k in ("k1", "k2", "k3") for w in (False, True)
             for n in ("shift-scale", "shift-only", "none")]
    cells += [{"penalty": "k3", "importance": False, "std": "sample"},
              {"penalty": "k3", "importance": True, "std": "sample"},
              {"penalty": "k2", "importance": True, "eps": F(1, 10**4)},
              {"penalty": "k3", "importance": False, "eps": F(1, 10)},
              {"penalty": "k1", "importance": True, "std": "sample", "eps": F(1, 10)}]
    cells += [{"penalty": "k1", "kl_in": "reward", "normalisation": n}
              for n in ("shift-scale", "shift-only", "none")]
    cells += [{"penalty": "k2", "kl_in": "reward"}, {"penalty": "k3", "kl_in": "reward"},
              {"penalty": "k1", "kl_in": "reward", "std": "sample"},
              {"penalty": "k1", "kl_in": "reward", "eps": F(1, 10)},
              {"penalty": "k3", "kl_in": "reward", "normalisation": "shift-only"}]
    return cells


def _composition(rng, total, parts):
    cuts = sorted(rng.sample(range(1, total), parts - 1))
    return [F(b - a, total) for a, b in zip([0] + cuts, cuts + [total])]


def _rewards(rng, K, kind, max_atoms):
    if kind == "deterministic":
        return rng.sample(VALUES, K)
    if kind == "bernoulli":
        return [F(s, 10) for s in rng.sample(range(11), K)]
    while True:
        sizes = [rng.randint(1, 3) for _ in range(K)]
        if sum(sizes) <= max_atoms and max(sizes) > 1:
            break
    dists = []
    for n in sizes:
        values = sorted(rng.sample(VALUES, n))
        dists.append(list(zip(values, _composition(rng, 10, n))))
    if len({tuple(d) for d in dists}) < K:  # equal laws would make a continuum
        return _rewards(rng, K, kind, max_atoms)
    return dists


def generate_cases(seed=8):
    rng = random.Random(seed)
    cases = []
    for cell in _cells():
        cell = dict(cell)
        K = rng.choice([2, 3])
        G = rng.randint(2, 6)
        kind = rng.choice(["deterministic", "bernoulli", "finite"])
        reward_cell = cell.get("kl_in") == "reward"
        if reward_cell and K == 3:
            # the reference recomputes every group's advantages at every point: keep it small
            if cell.get("normalisation", "shift-scale") == "shift-scale" and not cell.get("eps"):
                kind = "deterministic"
            elif kind != "deterministic":
                G = min(G, 3)
        ref = _composition(rng, 20, K)
        beta = rng.choice(BETAS)
        if (cell["penalty"], cell.get("importance"), cell.get("kl_in"),
                cell.get("normalisation")) == ("k1", False, None, "shift-scale"):
            # beta drops out: intransitive rewards give an interior point
            K, kind, G = 3, "dice", rng.randint(2, 3)  # no interior point from G = 4 on
            ref = _composition(rng, 20, 3)
        if kind == "dice":
            v = Variant(ref, INTRANSITIVE_DICE, beta, G, reward_kind="finite", **cell)
        elif kind == "deterministic":
            v = Variant.deterministic(ref, _rewards(rng, K, kind, 0), beta, G, **cell)
        elif kind == "bernoulli":
            v = Variant.bernoulli(ref, _rewards(rng, K, kind, 0), beta, G, **cell)
        else:
            max_atoms = 6 if K == 3 and G <= 4 else 5
            v = Variant(ref, _rewards(rng, K, kind, max_atoms), beta, G, **cell)
        cases.append(v)
    return cases


CASES = generate_cases()


def generate_todays_cases(seed=14, n=8):
    """k3 and k3-is with shift-and-scale or shift-only, deterministic or Bernoulli rewards:
    what the command line answered before issue 8, to validate the reference against it."""
    rng = random.Random(seed)
    cases = []
    for i in range(n):
        K, G = rng.choice([2, 3]), 2 + i % 5
        kind = ("deterministic", "bernoulli")[i % 2]
        cell = {"importance": bool(i // 2 % 2), "normalisation": ("shift-scale", "shift-only")[i // 4]}
        make = Variant.deterministic if kind == "deterministic" else Variant.bernoulli
        cases.append(make(_composition(rng, 20, K), _rewards(rng, K, kind, 0), rng.choice(BETAS),
                          G, **cell))
    return cases


TODAYS_CASES = generate_todays_cases()


def test_cases_cover_every_cell_and_shape():
    assert {(v.penalty, v.importance, v.normalisation) for v in CASES if v.kl_in == "loss"} == {
        (k, w, n) for k in ("k1", "k2", "k3") for w in (False, True)
        for n in ("shift-scale", "shift-only", "none")}
    assert {v.normalisation for v in CASES if v.kl_in == "reward"} == {
        "shift-scale", "shift-only", "none"}
    assert {v.K for v in CASES} == {2, 3} and {v.G for v in CASES} == {2, 3, 4, 5, 6}
    assert {v.reward_kind for v in CASES} == {"deterministic", "bernoulli", "finite"}
    assert {v.std for v in CASES} == {"population", "sample"}
    assert {v.eps for v in CASES} >= {0, F(1, 10**4), F(1, 10)}
    assert all(F(1, 10) <= v.beta <= 2 for v in CASES)


def run_stationary(variant):
    return subprocess.run([sys.executable, "-m", "derive", *variant.cli_args(CLI_DIGITS)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300, check=False)


def _close(a, b):
    return max(abs(x - y) for x, y in zip(a, b)) <= MATCH_TOL


@pytest.mark.parametrize("variant", TODAYS_CASES + CASES,
                         ids=[f"k3-{i}" for i in range(len(TODAYS_CASES))]
                         + [f"{i:02d}" for i in range(len(CASES))])
def test_stationary_command_matches_the_reference(variant):
    reference = stationary_policies(variant)
    res = run_stationary(variant)
    assert res.returncode == 0, f"{variant}: {res.stderr.strip()}"
    out = json.loads(res.stdout)
    assert (out["problem"]["penalty"], out["problem"]["normalisation"]) == (
        variant.penalty_name(), variant.normalisation)
    reported = out["stationary"]
    with mpmath.workdps(DPS):
        interior = [[mpmath.mpf(x) for x in s["policy"]] for s in reported
                    if s["kind"] == "interior"]
        missing = [p for p in reference if not any(_close(p, q) for q in interior)]
        extra = [q for q in interior if not any(_close(q, p) for p in reference)]
        fmt = lambda ps: [[mpmath.nstr(x, 30) for x in p] for p in ps]
        assert not missing, f"{variant}: reference policies not reported: {fmt(missing)}"
        assert not extra, f"{variant}: reported policies not in the reference: {fmt(extra)}"
