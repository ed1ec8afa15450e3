"""Timings of huge binary groups (prints figures, asserts nothing).

Run from the repository root::

    .venv/bin/python benchmarks/bench_huge_groups.py

The binomial sums of ``G > WINDOW_GROUP`` are summed on a window of about
``sqrt(G)`` terms around the mode (:func:`derive.numerics.group_preference._window_sums`).  For
each group size this prints the wall time of :func:`derive.solve.solver.stationary_policies`
(50 digits, one cold call), the number of window terms of one Arb evaluation,
the estimate of :func:`derive.solve.solver.estimate_cost`, and the distance of the
interior root to the large-group expansion ``pi_inf + c/G``.

Problem: ``pi_ref = (3/10, 7/10)``, 0/1 deterministic rewards, ``beta = 1/2``,
k3.  ``G = 10^12`` is run without certificates (the Arb window of ``2e7``
terms is refused by the cost estimate).
"""

from __future__ import annotations

import sys
import time
from fractions import Fraction as F
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mpmath import mp

from derive.solve.solver import Problem, estimate_cost, stationary_policies

REF, REWARDS, BETA = (F(3, 10), F(7, 10)), (1, 0), F(1, 2)
CASES = [(10**4, True), (10**5, True), (10**6, True), (10**9, True), (10**12, False)]


def _interior(problem, certify):
    return next(s for s in stationary_policies(problem, 50, certify) if s.kind == "interior")


def main():
    inf = _interior(Problem.deterministic(REF, REWARDS, BETA, None), False)
    c = inf.finite_group_correction
    print(f"{'G':>14} {'certified':>9} {'seconds':>8} {'estimate s':>10} {'terms':>9}  |pi_G - pi_inf - c/G|")
    for G, certify in CASES:
        problem = Problem.deterministic(REF, REWARDS, BETA, G)
        cost = estimate_cost(problem, 50, certify)
        start = time.perf_counter()
        s = _interior(problem, certify)
        seconds = time.perf_counter() - start
        mp.dps = 50
        gap = abs(s.policy[0] - inf.policy[0] - c[0] / G)
        print(f"{G:>14} {s.certified!s:>9} {seconds:8.2f} {cost.seconds:10.2f} {cost.terms:>9}  "
              f"{mp.nstr(gap, 3)}")


if __name__ == "__main__":
    main()
