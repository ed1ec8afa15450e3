"""The a-priori cost estimate against measured times (prints figures, asserts nothing).

Run from the repository root::

    .venv/bin/python benchmarks/bench_cost.py

For each problem: :func:`derive.solve.solver.estimate_cost` (operations, and seconds at
``OPERATIONS_PER_SECOND``) beside the wall time of ``stationary_policies`` at 50
digits with certificates.  The estimate is meant to be within a factor of about
3, on the safe side, so that ``--max-cost`` (default 6e7, about 20 s) keeps
every accepted problem well under a minute.
"""

from __future__ import annotations

import time
from fractions import Fraction as F

from derive.solve.solver import Problem, estimate_cost, stationary_policies


def _uniform(K):
    return tuple([F(1, K)] * K)


PROBLEMS = {
    "binary, G = 1024": Problem.deterministic(_uniform(2), (1, 0), F(1, 2), 1024),
    "binary, G = 8192": Problem.deterministic(_uniform(2), (1, 0), F(1, 2), 8192),
    "binary, G = 64, beta = 1e-400": Problem.deterministic(_uniform(2), (1, 0), F(1, 10**400), 64),
    "binary, G = 1000, beta = 1e-400": Problem.deterministic(_uniform(2), (1, 0), F(1, 10**400), 1000),
    "binary k3-is, G = 2, beta = 4e-5": Problem.deterministic(_uniform(2), (1, 0), F(4, 10**5), 2, "k3-is"),
    "three levels, G = 64": Problem.deterministic(_uniform(3), (0, 1, 2), F(1, 2), 64),
    "four levels, G = 16": Problem.deterministic(_uniform(4), (0, 1, 2, 3), F(1, 2), 16),
    "five answers, G = 2": Problem.deterministic(_uniform(5), (0, 1, 2, 3, 4), F(1, 2), 2),
    "three answers, G = 2, beta = 1e-1000": Problem.deterministic(_uniform(3), (0, 1, 2), F(1, 10**1000), 2),
    "50 answers, 0/1, G = 2": Problem.deterministic(_uniform(50), tuple(i % 2 for i in range(50)), F(1, 2), 2),
}


def main():
    print(f"{'problem':40s} {'estimate':>10s} {'est. s':>8s} {'measured s':>11s}")
    for name, problem in PROBLEMS.items():
        cost = estimate_cost(problem, 50, True)
        start = time.perf_counter()
        stationary_policies(problem, digits=50, certify=True)
        elapsed = time.perf_counter() - start
        print(f"{name:40s} {cost.operations:10.3g} {cost.seconds:8.3g} {elapsed:11.3g}")


if __name__ == "__main__":
    main()
