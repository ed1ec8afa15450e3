"""Timings of :func:`derive.solve.solver.stationary_policies` (prints figures, asserts nothing).

Run from the repository root::

    .venv/bin/python benchmarks/bench_stationary.py

* "cold": the first call at a new group size, with every coefficient cache of
  :mod:`derive.numerics.group_preference` and :mod:`derive.solve.solver` emptied first (module imports
  and mpmath's own constants are warmed once, by an unrelated problem).
* "warm": the same call repeated (median of several).

All runs: 50 digits, interval certificates on.  Binary questions use 0/1
deterministic rewards, ``pi_ref = (1/5, 4/5)``, ``beta = 1/2``, k3.  Three
levels: rewards ``(1, 1/2, 0)``, ``pi_ref = (1/2, 3/10, 1/5)``, ``beta = 1/2``.

Also timed: the command ``python -m derive stationary ... --group 1024 --json``
as a subprocess (if the CLI supports it), and a straightforward baseline that
solves the same ``G = 1024`` problem with ``sympy.nsolve`` on the symbolic
binomial sum (SymPy is imported here only).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from fractions import Fraction as F
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mpmath import mp  # noqa: E402

from derive.numerics import group_preference as numerics
from derive.solve import solver

DIGITS = 50


def _clear_caches():
    numerics.group_preference.cache_clear()
    solver.system_of.cache_clear()


def _time(call, repeat=1):
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return result, times


def _row(label, problem):
    _clear_caches()
    sols, cold = _time(lambda: solver.stationary_policies(problem, digits=DIGITS))
    _, warm = _time(lambda: solver.stationary_policies(problem, digits=DIGITS), repeat=5)
    certified = all(s.certified for s in sols if s.kind == "interior")
    first = mp.nstr(sols[0].policy[0], 20) if sols else "-"
    print(f"{label:<28} {cold[0] * 1e3:9.1f} {statistics.median(warm) * 1e3:9.1f}   "
          f"{len(sols)} point(s), certified={certified}, pi[0] = {first}")
    return cold[0], statistics.median(warm)


def bench_binary():
    print("binary 0/1 rewards, pi_ref = (1/5, 4/5), beta = 1/2, k3, 50 digits, certified")
    print(f"{'problem':<28} {'cold ms':>9} {'warm ms':>9}")
    out = {}
    for G in (2, 4, 8, 16, 32, 64, 256, 1024):
        problem = solver.Problem.deterministic((F(1, 5), F(4, 5)), (1, 0), F(1, 2), G)
        out[G] = _row(f"G = {G}", problem)
    return out


def bench_three_levels():
    print()
    print("K = 3, rewards (1, 1/2, 0), pi_ref = (1/2, 3/10, 1/5), beta = 1/2, 50 digits, certified")
    print(f"{'problem':<28} {'cold ms':>9} {'warm ms':>9}")
    for penalty in ("k3", "k3-is"):
        for G in (2, 4, 8, 16):
            problem = solver.Problem.deterministic(
                (F(1, 2), F(3, 10), F(1, 5)), (1, F(1, 2), 0), F(1, 2), G, penalty)
            _row(f"G = {G}, {penalty}", problem)


def bench_cli():
    print()
    command = [sys.executable, "-m", "derive", "stationary", "--ref", "1/5,4/5", "--rewards", "1,0",
               "--beta", "1/2", "--group", "1024", "--json"]
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0 or '"stationary"' not in proc.stdout:
        message = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"CLI: skipped, `python -m derive stationary` is not available ({message})")
        return None
    print(f"CLI `python -m derive stationary ... --group 1024 --json` (subprocess, incl. start-up): "
          f"{elapsed * 1e3:.0f} ms")
    return elapsed


def bench_sympy_baseline(fast_cold, fast_warm):
    print()
    print("baseline: sympy.nsolve on the symbolic binomial sum, G = 1024, 50 digits")
    import sympy

    start = time.perf_counter()
    x = sympy.Symbol("x", positive=True)
    G = 1024
    N = G - 1
    U = sympy.Add(*[sympy.binomial(N, k) * x**k * (1 - x) ** (N - k) * sympy.sqrt(sympy.Rational(N - k, k + 1))
                    for k in range(N + 1)])
    beta, p = sympy.Rational(1, 2), sympy.Rational(1, 5)
    # Eq. (11) for the rewarded answer: x (1 - U(x)/beta) = p
    f = beta * (x - p) - x * U
    built = time.perf_counter() - start
    start = time.perf_counter()
    root = sympy.nsolve(f, x, sympy.Float("0.87", 60), prec=DIGITS + 10)
    solved = time.perf_counter() - start
    total = built + solved
    ours = solver.stationary_policies(solver.Problem.deterministic((F(1, 5), F(4, 5)), (1, 0), F(1, 2), G),
                                      digits=DIGITS)[0].policy[0]
    with mp.workdps(DIGITS + 10):
        agree = abs(mp.mpf(str(root)) - ours)
    print(f"  build expression {built * 1e3:.0f} ms, nsolve {solved * 1e3:.0f} ms, total {total * 1e3:.0f} ms")
    print(f"  agreement with stationary_policies: |difference| = {mp.nstr(agree, 3)}")
    print(f"  speed ratio (baseline / ours): {total / fast_cold:.0f}x cold, {total / fast_warm:.0f}x warm "
          f"(ours also certifies and classifies)")


def main():
    # warm module imports and mpmath's constants once, on an unrelated problem
    solver.stationary_policies(solver.Problem.deterministic((F(1, 3), F(2, 3)), (1, 0), F(1, 3), 3), digits=DIGITS)
    binary = bench_binary()
    bench_three_levels()
    bench_cli()
    bench_sympy_baseline(*binary[1024])


if __name__ == "__main__":
    main()
