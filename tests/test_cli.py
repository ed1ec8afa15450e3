import json
import subprocess
import sys

import pytest
from conftest import ROOT


def run(*args):
    return subprocess.run([sys.executable, "-m", "derive", *args], capture_output=True,
                          text=True, cwd=ROOT)


@pytest.mark.parametrize("args,needle", [
    (["stationary", "--ref", "0.1,0.8", "--rewards", "1,0", "--beta", "0.5"], "sum exactly to 1"),
    (["stationary", "--ref", "0.1,0.9", "--rewards", "1,0", "--beta", "abc"], "--beta"),
    (["stationary", "--ref", "0.1,0.9", "--rewards", "1,0", "--beta", "__import__('os')"], "not a number"),
    (["stationary", "--ref", "0.1,0.9", "--rewards", "1,0,2", "--beta", "1"], "one per answer"),
    (["stationary", "--ref", "0.1,0.9", "--rewards", "1,0", "--beta", "-1"], ">= 0"),
    (["stationary", "--ref", "0.1,0.9", "--rewards", "1,0", "--beta", "1", "--group", "1"], "--group"),
    (["stationary", "--ref", "0.1,0.9", "--rewards", "1,0", "--success", "1,0", "--beta", "1"], "not allowed"),
    (["stationary", "--ref", "0,1", "--rewards", "1,0", "--beta", "1"], "positive"),
    (["stationary", "--ref", "0.1,0.9", "--success", "1.5,0", "--beta", "1"], "[0, 1]"),
    (["stationary", "--ref", "0.1,0.9", "--rewards", "1,0", "--beta", "1", "--digits", "3"], "--digits"),
    (["stationary", "--ref", "0.1,0.9", "--rewards", "1,0", "--beta", "1", "--penalty", "k9"], "invalid choice"),
    (["frobnicate"], "invalid choice"),
    ([], "required"),
    (["summary", "--results", "/nonexistent"], "no readable"),
])
def test_bad_input_one_line_exit_2(args, needle):
    res = run(*args)
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("error: ") and needle in lines[0]
    assert "Traceback" not in res.stderr and res.stdout == ""


def test_help_explains():
    res = run("--help")
    assert res.returncode == 0 and "stationary" in res.stdout and "build" in res.stdout
    res = run("stationary", "--help")
    assert res.returncode == 0 and "--penalty" in res.stdout and "1/3" in res.stdout


def test_summary_of_committed_results():
    res = run("summary")
    assert res.returncode == 0
    assert "checks pass" in res.stdout.splitlines()[0]


# -- stationary: the command end to end, against an independent condition -----

import itertools
from fractions import Fraction as F

import mpmath

from derive.paper import claims
from derive.paper import symbols as S


def _stationary_json(*args):
    res = run("stationary", *args, "--json")
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def _mp(q):
    return mpmath.mpf(q.numerator) / q.denominator


def _brute_preference(values_of, success, pi, G):
    """``P_G(o|pi) - E_pi P_G`` by enumerating every group of (output, reward) pairs.

    Written from the definition (2) and (6) alone: population std, A := 0 on ties,
    rewards either deterministic (``values_of``) or Bernoulli (``success``).
    """
    K = len(pi)
    if success is None:
        draws = [[(_mp(values_of[o]), mpmath.mpf(1))] for o in range(K)]
    else:
        draws = [[(1, _mp(success[o])), (0, 1 - _mp(success[o]))] for o in range(K)]
    pref = []
    for o in range(K):
        total = mpmath.mpf(0)
        for first_r, first_w in draws[o]:
            for others in itertools.product(range(K), repeat=G - 1):
                for rs in itertools.product(*(draws[j] for j in others)):
                    w = first_w
                    for j, (_, wj) in zip(others, rs):
                        w *= pi[j] * wj
                    r = [mpmath.mpf(first_r)] + [mpmath.mpf(v) for v, _ in rs]
                    mean = sum(r) / G
                    sd = mpmath.sqrt(sum((ri - mean) ** 2 for ri in r) / G)
                    total += w * ((r[0] - mean) / sd if sd else 0)
        pref.append(total)
    mean_pref = sum(p * q for p, q in zip(pi, pref))
    return [q - mean_pref for q in pref]


def _limit_preference(values_of, success, pi):
    if success is None:
        means = [_mp(v) for v in values_of]
        second = [m * m for m in means]
    else:
        means = [_mp(s) for s in success]
        second = means
    mu = sum(p * m for p, m in zip(pi, means))
    sigma = mpmath.sqrt(sum(p * s for p, s in zip(pi, second)) - mu * mu)
    return [(m - mu) / sigma for m in means]


CASES = [
    (["--ref", "1/5,3/10,1/2", "--rewards", "1,0.5,0", "--beta", "0.3", "--group", "4"], 4),
    (["--ref", "0.25,0.25,0.5", "--success", "0.8,0.3,0.1", "--beta", "0.2", "--group", "3"], 3),
    (["--ref", "0.4,0.6", "--success", "0.9,0.35", "--beta", "0.07", "--group", "5"], 5),
    (["--ref", "0.3,0.7", "--success", "0.7,0.2", "--beta", "0.4", "--group", "inf"], None),
    (["--ref", "0.2,0.5,0.3", "--rewards", "2,-1,0.5", "--beta", "1/3", "--group", "inf"], None),
]


@pytest.mark.parametrize("args, G", CASES)
def test_stationary_policies_satisfy_an_independent_condition(args, G):
    out = _stationary_json(*args)
    opts = dict(zip(args[::2], args[1::2]))
    ref = [F(t) for t in opts["--ref"].split(",")]
    values_of = [F(t) for t in opts["--rewards"].split(",")] if "--rewards" in opts else None
    success = [F(t) for t in opts["--success"].split(",")] if "--success" in opts else None
    assert out["stationary"]
    with mpmath.workdps(60):
        beta = _mp(F(opts["--beta"]))
        for entry in out["stationary"]:
            pi = [mpmath.mpf(t) for t in entry["policy"]]
            assert abs(sum(pi) - 1) < mpmath.mpf(10) ** -45
            for (lo, hi), x in zip(entry["enclosure"], pi):
                assert mpmath.mpf(lo) <= x <= mpmath.mpf(hi)
            assert isinstance(entry["certified"], bool) and isinstance(entry["stable"], bool)
            if entry["kind"] != "interior":
                continue
            gaps = (_limit_preference(values_of, success, pi) if G is None
                    else _brute_preference(values_of, success, pi, G))
            for x, p, gap in zip(pi, ref, gaps):
                lhs = (1 - gap / beta) * x - _mp(p)
                assert abs(lhs) < mpmath.mpf(10) ** -28, (entry["policy"], lhs)


@pytest.mark.parametrize("group, formula", [("2", claims.binary_policy_two),
                                            ("inf", claims.binary_policy_limit)])
@pytest.mark.parametrize("p, beta", [("0.1", "0.5"), ("0.7", "3"), ("1/3", "1/50")])
def test_binary_reference_root_is_reported(group, formula, p, beta):
    """The paper's printed (14) and (15) are among the reported policies (to 1e-30)."""
    out = _stationary_json("--ref", f"{p},{1 - F(p)}",
                           "--rewards", "1,0", "--beta", beta, "--group", group)
    subs = {S.p: F(p), S.beta: F(beta)}
    if group == "2":
        subs[S.gamma] = 1
    with mpmath.workdps(60):
        target = mpmath.mpf(str(formula().subs(subs).evalf(70)))
        firsts = [mpmath.mpf(e["policy"][0]) for e in out["stationary"]]
        assert min(abs(x - target) for x in firsts) < mpmath.mpf(10) ** -30
    stable = [e for e in out["stationary"] if e["stable"]]
    assert len(stable) == 1 and stable[0]["certified"]


def test_stationary_sweep_json_and_no_progress_bar_off_terminal():
    res = run("stationary", "--ref", "0.1,0.9", "--rewards", "1,0", "--beta", "0.1,0.5,2",
              "--group", "1024", "--json")
    assert res.returncode == 0 and res.stderr == ""
    sweep = json.loads(res.stdout)["sweep"]
    assert [rec["problem"]["beta"] for rec in sweep] == ["1/10", "1/2", "2"]
    firsts = [mpmath.mpf(rec["stationary"][0]["policy"][0]) for rec in sweep]
    assert firsts[0] > firsts[1] > firsts[2] > mpmath.mpf("0.1")


def test_human_summary_keeps_exponents_and_zero_is_printed_with_its_digits():
    res = run("stationary", "--ref", "1e-9,0.999999999", "--rewards", "1,0", "--beta", "0.001",
              "--group", "inf", "--digits", "20")
    assert res.returncode == 0 and "9.99998998001e-7" in res.stdout
    out = _stationary_json("--ref", "0.3,0.7", "--rewards", "1,0", "--beta", "0.5", "--group",
                           "inf", "--penalty", "k3-is", "--digits", "20")
    (entry,) = out["stationary"]
    assert entry["policy"] == ["1.0000000000000000000", "0.0000000000000000000"]
    assert entry["kind"] == "boundary" and entry["classification"] == "boundary-attractor"


def test_stationary_reports_maximiser_of_the_paper_objective():
    """Issue 9: x = sqrt(p) = 0.1 at p = 0.01, beta = gamma = 1 is a stable fixed point of the
    iteration but not a maximiser of J(.; pi_old = pi); the JSON says both."""
    out = _stationary_json("--ref", "0.01,0.99", "--rewards", "1,0", "--beta", "1", "--group", "2")
    (entry,) = out["stationary"]
    assert entry["stable"] and entry["classification"] == "attractor"
    assert entry["maximiser"] == "no" and entry["maximiser_note"]
    out = _stationary_json("--ref", "0.5,0.5", "--rewards", "1,0", "--beta", "1", "--group", "2")
    assert [e["maximiser"] for e in out["stationary"]] == ["global"]
    out = _stationary_json("--ref", "0.3,0.7", "--rewards", "1,0", "--beta", "0.5", "--group",
                           "inf", "--penalty", "k3-is", "--digits", "20")
    assert [e["maximiser"] for e in out["stationary"]] == ["global"]
    res = run("stationary", "--ref", "0.01,0.99", "--rewards", "1,0", "--beta", "1", "--group", "2")
    assert res.returncode == 0 and "maximiser of J(.; pi): no" in res.stdout
