"""Huge groups: the binomial sums on a window around the mode (issue 12, part 4).

The windowed sums (:func:`derive.numerics.group_preference._window_sums`, ``G > WINDOW_GROUP``)
are checked against the exact coefficient tables (the path for small ``G``,
an independent computation) at moderate ``G``; their Arb balls must contain
the exact value computed at twice the precision, even when the window is cut
short (then the Chernoff bound of the neglected mass is what keeps the ball
honest).  At ``G = 10^6`` the stationary policy must agree with the
large-group expansion ``pi_inf + c/G`` to ``1e-10``, and ``G = 10^12`` must be
answered within the issue's limits (60 s, 2 GiB).
"""

import json
import math
import resource
import subprocess
import sys
from fractions import Fraction as F

import pytest
from conftest import ROOT
from mpmath import mp

from derive.numerics import group_preference as nm
from derive.numerics.context import ARB, FLOAT, MP, arb_ends, arb_precision, interval
from derive.solve.solver import Problem, stationary_policies

# exact dyadic q1 (so that every precision sees the same point): interior, both faces, q1 > 1/2
POINTS = [F(3, 8), F(61, 64), F(1, 2**20), 1 - F(1, 2**22), F(1, 2**100)]


def _mpq(x):
    return mp.mpf(x.numerator) / x.denominator


def _exact(G, q1, dps, monkeypatch):
    """``(U, L, dU/dq1, dL/dq1)`` from the exact integer tables at ``dps`` digits."""
    monkeypatch.setattr(nm, "WINDOW_GROUP", 10**9)
    model = nm.GroupPreference((F(0), F(1)), G, "shift-scale")
    with mp.workdps(dps):
        q = [_mpq(1 - q1), _mpq(q1)]
        phi = model.phi_values(q, MP)
        jac = model.phi_jacobian(q, MP)
        out = [phi[1], -phi[0], jac[1][0], -jac[0][0]]
    monkeypatch.undo()
    return out


def _relative(x, y):
    return abs(x - y) / abs(y)


@pytest.mark.parametrize("G", [3001, 4500])
@pytest.mark.parametrize("q1", POINTS)
def test_window_agrees_with_the_exact_tables_in_mpmath(G, q1, monkeypatch):
    exact = _exact(G, q1, 80, monkeypatch)
    mp.dps = 40
    got = nm._window_sums(G - 1, _mpq(1 - q1), _mpq(q1), MP)
    for x, y in zip(got, exact):
        assert _relative(x, y) < mp.mpf(2) ** -(mp.prec - 12)


@pytest.mark.parametrize("q1", POINTS)
def test_arb_ball_contains_the_exact_sums_at_twice_the_precision(q1, monkeypatch):
    G = 3500
    exact = _exact(G, q1, 100, monkeypatch)
    mp.dps = 100
    with arb_precision(150):
        got = nm._window_sums(G - 1, ARB.num(1 - q1), ARB.num(q1), ARB)
    for x, y in zip(got, exact):
        lo, hi = arb_ends(x)
        assert lo <= y <= hi
        assert (hi - lo) / abs(y) < mp.mpf(2) ** -140


def test_arb_ball_over_a_box_contains_the_sums_at_its_ends(monkeypatch):
    G, q1 = 3500, F(3, 8)
    r = F(1, 2**120)
    ends = [_exact(G, q1 - r, 100, monkeypatch), _exact(G, q1 + r, 100, monkeypatch)]
    mp.dps = 100
    with arb_precision(150):
        box = interval(q1 - r, q1 + r)
        got = nm._window_sums(G - 1, 1 - box, box, ARB)
    for i, x in enumerate(got):
        lo, hi = arb_ends(x)
        for end in ends:
            assert lo <= end[i] <= hi


def test_a_window_cut_short_is_still_enclosed_by_its_tail_bound(monkeypatch):
    """With a window of mean -+ 2 standard deviations the Chernoff bound is what keeps the ball honest."""
    G, q1 = 4000, F(3, 8)
    exact = _exact(G, q1, 80, monkeypatch)

    def narrow(N, q, E):
        mean, sd = N * float(q), (N * float(q) * (1 - float(q))) ** 0.5
        return int(mean - 2 * sd), int(mean + 2 * sd)

    monkeypatch.setattr(nm, "_window_ends", narrow)
    mp.dps = 60
    with arb_precision(200):
        got = nm._window_sums(G - 1, ARB.num(1 - q1), ARB.num(q1), ARB)
    for x, y in zip(got, exact):
        lo, hi = arb_ends(x)
        assert lo <= y <= hi
        assert hi - lo > mp.mpf(10) ** -6       # the neglected mass is in the ball, not dropped


@pytest.mark.parametrize("N,a,b,q", [(60, 10, 30, F(1, 3)), (60, 0, 5, F(1, 50)), (200, 150, 200, F(9, 10)),
                                     (200, 60, 100, F(2, 5))])
def test_chernoff_tail_bound_is_above_the_exact_tail(N, a, b, q):
    mp.dps = 30
    exact = sum(F(math.comb(N, k)) * q**k * (1 - q) ** (N - k)
                for k in range(N + 1) if k < a or k > b)
    lo, hi = arb_ends(nm._tail_mass(N, a, b, ARB.num(1 - q), ARB.num(q)))
    assert lo <= 0 and hi >= _mpq(exact)
    assert hi < 20 * _mpq(exact) + mp.mpf(10) ** -25        # and not uselessly loose


@pytest.mark.parametrize("q1", POINTS)
def test_double_precision_window_agrees_with_the_exact_tables(q1, monkeypatch):
    G = 4500
    exact = _exact(G, q1, 30, monkeypatch)
    got = nm._window_float(G - 1, float(1 - q1), float(q1))
    for x, y in zip(got, exact):
        assert _relative(mp.mpf(x), y) < 1e-11


@pytest.mark.parametrize("N,q1", [(10**6, F(3, 8)), (4 * 10**6, F(29, 32))])
def test_sampled_window_agrees_with_the_full_window(N, q1, monkeypatch):
    """mpmath samples long windows (Poisson summation); Arb's path sums every term."""
    mp.dps = 40
    q0, q = _mpq(1 - q1), _mpq(q1)
    sampled = nm._window_sums(N, q0, q, MP)
    with arb_precision(mp.prec + 20):
        full = nm._window_sums(N, ARB.num(1 - q1), ARB.num(q1), ARB)
    for x, y in zip(sampled, full):
        lo, hi = arb_ends(y)
        assert _relative(x, (lo + hi) / 2) < mp.mpf(2) ** -(mp.prec - 12)


def test_rounded_complement_costs_no_digits_at_huge_n():
    """``q0 = 1 - q1`` rounded: the weights sum to ``(q0 + q1)^N``, which the window normalises away."""
    N = 10**12 - 1
    mp.prec = 209
    q1 = mp.mpf("0.10000000000022727273")
    low = nm._window_sums(N, 1 - q1, q1, MP)          # 1 - q1 rounded to 209 bits
    mp.prec = 320
    high = nm._window_sums(N, 1 - q1, q1, MP)         # 1 - q1 exact
    for x, y in zip(low, high):
        assert _relative(x, y) < mp.mpf(2) ** -(209 - 12)


def test_huge_groups_never_build_the_exact_tables():
    model = nm.group_preference((F(0), F(1)), 10**6, "shift-scale")
    mp.dps = 30
    model.phi_jacobian([mp.mpf("0.7"), mp.mpf("0.3")], MP)
    model.phi_values([0.7, 0.3], FLOAT)
    # the windowed evaluator holds no table over the whole group (neither the fixed-point
    # integers nor the float Bernstein coefficients): only the last window
    assert isinstance(model.evaluator, nm._WindowPhi)
    assert set(model.evaluator._tables) == {"window"}


def _interior(problem, certify):
    (s,) = [s for s in stationary_policies(problem, 50, certify) if s.kind == "interior"]
    return s


@pytest.mark.parametrize("make,rewards", [(Problem.deterministic, (1, 0)),
                                          (Problem.bernoulli, (F(9, 10), F(1, 5)))])
def test_g_1e6_agrees_with_the_large_group_expansion(make, rewards):
    ref, beta, G = (F(3, 10), F(7, 10)), F(1, 2), 10**6
    inf = _interior(make(ref, rewards, beta, None), False)
    c = inf.finite_group_correction
    finite = _interior(make(ref, rewards, beta, G), True)
    assert finite.certified
    mp.dps = 50
    for p, p_inf, ck in zip(finite.policy, inf.policy, c):
        # the O(1/G^2) term is about 1e-12 here
        assert abs(p - (p_inf + ck / G)) < 1e-10
    if make is Problem.deterministic:
        # binary deterministic rewards: c = -1/(4 sqrt(1 + 4 beta^2 p (1 - p))), p = pi_ref(0)
        assert abs(c[0] + 1 / (4 * mp.sqrt(1 + 4 * mp.mpf(1) / 4 * mp.mpf("0.21")))) < mp.mpf(10) ** -40


def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))


def test_g_1e12_is_answered_within_the_limits():
    """The Arb window of 2e7 terms is beyond the memory limit: answered without a certificate, which is said."""
    res = subprocess.run([sys.executable, "-m", "derive", "stationary", "--ref", "0.3,0.7", "--rewards",
                          "1,0", "--beta", "0.5", "--group", str(10**12), "--json"],
                         capture_output=True, text=True, cwd=ROOT, timeout=60,
                         preexec_fn=_limit_memory, check=False)
    assert res.returncode == 0, res.stderr[-2000:]
    (s,) = json.loads(res.stdout)["stationary"]
    assert s["kind"] == "interior" and s["certified"] is False
    assert s["note"].startswith("certificate skipped: the interval certificates would need about")
    mp.dps = 30
    # pi_inf = 9/10 and c = -1/4.4 (the expansion): pi_G(0) = 0.9 - 2.27e-13 + O(1e-24)
    assert abs(mp.mpf(s["policy"][0]) - (mp.mpf("0.9") - 1 / (mp.mpf("4.4") * 10**12))) < 1e-22


def test_certificates_beyond_max_cost_are_skipped_not_refused():
    res = subprocess.run([sys.executable, "-m", "derive", "stationary", "--ref", "0.3,0.7", "--rewards",
                          "1,0", "--beta", "0.5", "--group", str(10**9), "--max-cost", "2e7"],
                         capture_output=True, text=True, cwd=ROOT, timeout=60,
                         preexec_fn=_limit_memory, check=False)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "certificate skipped" in res.stdout and "--max-cost" in res.stdout
