"""Timings of :func:`derive.solve.solver.stationary_policies` for many answers (prints figures, asserts nothing).

Run from the repository root::

    .venv/bin/python benchmarks/bench_many_answers.py

For ``K = 10, 100, 1000`` outputs: distinct deterministic rewards (a random
sample of integers) and 0/1 rewards, at ``G = 2`` and ``G = infinity``, k3 and
k3-is, ``beta = 1/10`` (``beta = 3`` for k3-is at ``G = infinity``, where the
interior points need a large ``beta``), a seeded random ``pi_ref``, 50 digits,
certificates on.  Each line gives the estimate of
:func:`derive.solve.solver.estimate_cost`, and the time of one call if the estimate
is under :data:`derive.solve.solver.DEFAULT_MAX_COST` ("refused" otherwise, as the
command line would).  Also printed: the number of policies, how many are
certified, and which path solved the interior.
"""

from __future__ import annotations

import random
import sys
import time
from fractions import Fraction as F
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from derive.solve import reduced, solver
from derive.solve.solver import Problem, estimate_cost, stationary_policies

DIGITS = 50


def problem(K, kind, group, penalty, seed=1):
    rng = random.Random(seed)
    w = [rng.randint(1, 60) for _ in range(K)]
    ref = tuple(F(x, sum(w)) for x in w)
    rewards = tuple(rng.sample(range(10 * K), K)) if kind == "distinct" else tuple(rng.randrange(2) for _ in range(K))
    beta = F(3) if (group is None and penalty == "k3-is") else F(1, 10)
    return Problem.deterministic(ref, rewards, beta, group, penalty=penalty)


def path(pb):
    if solver._uses_reduced(pb):
        return f"reduced ({reduced.applies(pb)})"
    if solver._classes_of(pb) is not None:
        return "classes"
    return "general"


def main():
    print(f"{'K':>5} {'rewards':>9} {'G':>4} {'penalty':>7} {'estimate s':>11} {'time s':>8} {'found':>6} {'cert':>5}  path")
    for K in (10, 100, 1000):
        for kind in ("distinct", "0/1"):
            for group in (2, None):
                for penalty in ("k3", "k3-is"):
                    pb = problem(K, kind, group, penalty)
                    cost = estimate_cost(pb, DIGITS)
                    G = "inf" if group is None else str(group)
                    head = f"{K:>5} {kind:>9} {G:>4} {penalty:>7} {cost.seconds:>11.3g}"
                    if cost.operations > solver.DEFAULT_MAX_COST:
                        print(f"{head} {'refused':>8}   ({cost.dominant})")
                        continue
                    t = time.perf_counter()
                    sols = stationary_policies(pb, digits=DIGITS)
                    dt = time.perf_counter() - t
                    cert = sum(1 for s in sols if s.certified)
                    print(f"{head} {dt:>8.3f} {len(sols):>6} {cert:>5}  {path(pb)}")


if __name__ == "__main__":
    main()
