"""Speed of ``stationary`` with many reward levels, beside a straightforward baseline (prints figures, asserts nothing).

Run from the repository root::

    .venv/bin/python benchmarks/bench_speed.py

Problems (issue 8, part 7; 50 digits, k3, shift-scale):

* (a) ``--ref 1/3,1/3,1/3 --rewards 1,1/2,0 --beta 1/4 --group 64``;
* (b) the same at ``--group 256``;
* (c) ``--ref 1/4,1/4,1/4,1/4 --rewards 1,2/3,1/3,0 --beta 1/4 --group 16``;
* (d) binary 0/1 rewards at ``G = 1024`` (``pi_ref = (1/5, 4/5)``, ``beta = 1/2``).

For (a), (b), (c): the wall time of the whole process ``python -m derive
stationary ... --json`` (start-up, search, certificates, stability and the
maximiser verdict; best of 3 subprocesses, wall and CPU time), and, measured in the same run, a
straightforward baseline written here, independent of the package: the
multinomial preference sums of arXiv:2502.18548v3, Eq. (6) evaluated term by
term in mpmath (the advantages of every composition of the other ``G - 1``
rewards computed once, at 60 digits, then a power sum per evaluation), and
``mpmath.findroot`` (multidimensional Newton, numerical Jacobian) on the
``K - 1`` logits ``y`` of ``pi = softmax(0, y)`` (so that ``pi`` stays a policy)
and the ``K - 1`` equations of Eq. (11), ``pi(o) (1 - P_G(o|pi)/beta) = pi_ref(o)``
for ``o >= 1``, started from the damped fixed-point iteration of Eq. (11) from
``pi_ref`` at 15 digits (to steps below ``1e-10``, at most 200) (Newton from ``pi_ref`` itself leaves the
simplex, or fails, on these problems); no search for other roots, no
certificate, no stability.  The baseline's root is compared with the
CLI's first policy.

For (d): :func:`derive.solve.solver.stationary_policies` inside the process (the
module imported, the caches of the problem emptied first: "cold"; and the call
repeated: "warm", median of 5).
"""

from __future__ import annotations

import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time
from fractions import Fraction as F
from pathlib import Path

import mpmath

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROBLEMS = {
    "(a) 3 levels, G = 64": (("1/3", "1/3", "1/3"), ("1", "1/2", "0"), "1/4", 64),
    "(b) 3 levels, G = 256": (("1/3", "1/3", "1/3"), ("1", "1/2", "0"), "1/4", 256),
    "(c) 4 levels, G = 16": (("1/4", "1/4", "1/4", "1/4"), ("1", "2/3", "1/3", "0"), "1/4", 16),
}
DIGITS = 50


def cli_seconds(ref, rewards, beta, group, repeat=3):
    """Best wall and CPU (user + system) times of ``python -m derive stationary ... --json`` over ``repeat`` runs, and its JSON.

    The CPU time of the child process depends less on other jobs sharing the machine.
    """
    cmd = [sys.executable, "-m", "derive", "stationary", "--ref", ",".join(ref), "--rewards",
           ",".join(rewards), "--beta", beta, "--group", str(group), "--digits", str(DIGITS), "--json"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    best, cpu, out = math.inf, math.inf, None
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, check=False)
        elapsed = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            raise RuntimeError(done.stderr.strip().splitlines()[-1])
        used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        best, cpu, out = min(best, elapsed), min(cpu, used), json.loads(done.stdout)
    return best, cpu, out


def _compositions(total, parts):
    if parts == 1:
        yield (total,)
        return
    for first in range(total, -1, -1):
        for rest in _compositions(total - first, parts - 1):
            yield (first,) + rest


def baseline_root(ref, rewards, beta, group):
    """``pi`` solving Eq. (11) by ``mpmath.findroot`` from ``pi_ref``, and the seconds (wall, CPU) it took.

    ``P_G(o|pi) = sum_n multinomial(G-1; n) prod_k pi_k^{n_k} A(r(o); n)`` over the
    counts ``n`` of each answer among the other ``G - 1`` members, with
    ``A(r; n) = (r - mean)/std`` (population std, ``0`` for equal rewards) of the
    group made of ``r`` and those members (arXiv:2502.18548v3, Eqs. (2), (6)).
    """
    start, start_cpu = time.perf_counter(), time.process_time()
    K, N = len(ref), group - 1
    with mpmath.workdps(DIGITS + 10):
        r = [mpmath.mpf(F(x).numerator) / F(x).denominator for x in rewards]
        pref = [mpmath.mpf(F(x).numerator) / F(x).denominator for x in ref]
        b = mpmath.mpf(F(beta).numerator) / F(beta).denominator
        comps = list(_compositions(N, K))
        coef = []
        for o in range(K):
            row = []
            for n in comps:
                group_r = [r[o]] + [r[k] for k in range(K) for _ in range(n[k])]
                mean = mpmath.fsum(group_r) / group
                var = mpmath.fsum((x - mean) ** 2 for x in group_r) / group
                adv = 0 if var == 0 else (r[o] - mean) / mpmath.sqrt(var)
                row.append(math.factorial(N) // math.prod(math.factorial(c) for c in n) * adv)
            coef.append(row)

        def preference(pi):
            powers = [[pi[k] ** e for e in range(N + 1)] for k in range(K)]
            monos = [mpmath.fprod(powers[k][n[k]] for k in range(K)) for n in comps]
            return [mpmath.fdot(coef[o], monos) for o in range(K)]

        def policy(y):
            w = [mpmath.mpf(1)] + [mpmath.exp(t) for t in y]
            total = mpmath.fsum(w)
            return [t / total for t in w]

        def equations(*y):
            pi = policy(y)
            P = preference(pi)
            return [pi[o] * (1 - P[o] / b) / pref[o] - 1 for o in range(1, K)]

        # a start: the damped fixed-point iteration pi <- pi_ref / (1 - P_G/beta), normalised,
        # at 15 digits (Newton from pi_ref itself lands outside the simplex or diverges)
        pi = list(pref)
        with mpmath.workdps(15):
            for _ in range(200):
                P = preference(pi)
                new = [p / max(1 - x / b, mpmath.mpf(10) ** -6) for p, x in zip(pref, P)]
                total = mpmath.fsum(new)
                new = [(a + c / total) / 2 for a, c in zip(pi, new)]
                step = max(abs(a - c) for a, c in zip(pi, new))
                pi = new
                if step < 1e-10:
                    break
        y = mpmath.findroot(equations, [mpmath.log(p / pi[0]) for p in pi[1:]])
        pi = policy([y] if K == 2 else list(y))
    return pi, time.perf_counter() - start, time.process_time() - start_cpu


def in_process_binary():
    """(d): binary 0/1 rewards at ``G = 1024`` inside the process, cold and warm (seconds)."""
    from derive.numerics import group_preference as numerics
    from derive.solve import solver

    problem = solver.Problem.deterministic((F(1, 5), F(4, 5)), (1, 0), F(1, 2), 1024)
    solver.stationary_policies(solver.Problem.deterministic((F(1, 2), F(1, 2)), (1, 0), F(1, 3), 3), DIGITS)
    numerics.group_preference.cache_clear()
    solver.system_of.cache_clear()
    start = time.perf_counter()
    solver.stationary_policies(problem, DIGITS)
    cold = time.perf_counter() - start
    warm = []
    for _ in range(5):
        start = time.perf_counter()
        solver.stationary_policies(problem, DIGITS)
        warm.append(time.perf_counter() - start)
    return cold, statistics.median(warm)


def main():
    print(f"load average before: {os.getloadavg()[0]:.2f} (the machine's other jobs slow the wall times)")
    print(f"{'problem':<24} {'CLI wall s':>10} {'CLI CPU s':>10} {'baseline wall s':>16} {'baseline CPU s':>15}"
          f" {'|pi - baseline|':>16}")
    for name, (ref, rewards, beta, group) in PROBLEMS.items():
        seconds, cpu, out = cli_seconds(ref, rewards, beta, group)
        pi, base, base_cpu = baseline_root(ref, rewards, beta, group)
        policy = out["stationary"][0]["policy"]
        with mpmath.workdps(DIGITS + 10):
            gap = max(abs(mpmath.mpf(p) - q) for p, q in zip(policy, pi))
        print(f"{name:<24} {seconds:10.2f} {cpu:10.2f} {base:16.2f} {base_cpu:15.2f} {mpmath.nstr(gap, 3):>16}",
              flush=True)
    cold, warm = in_process_binary()
    print(f"{'(d) binary, G = 1024':<24} in process: {cold * 1e3:.1f} ms cold, {warm * 1e3:.1f} ms warm "
          "(stationary_policies, certified, 50 digits)")


if __name__ == "__main__":
    main()
