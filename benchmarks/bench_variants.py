"""Whole-process time of `stationary` for one problem per kind of GRPO variant.

Prints, for each case, the wall time of `python -m derive stationary ... --json` (best of 2)
and the estimate of the cost model (derive.solve.solver.estimate_cost), so that the model can be
re-fitted when the solver changes.  Run: `.venv/bin/python benchmarks/bench_variants.py`.
"""

import subprocess
import sys
import time
from fractions import Fraction as F
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from derive.solve.solver import Problem, estimate_cost

REF3 = (F(1, 5), F(3, 10), F(1, 2))
FINITE = [[(0, F(1, 5)), (1, F(1, 2)), (2, F(3, 10))], [(0, F(3, 10)), (1, F(3, 10)), (2, F(2, 5))],
          [(0, F(3, 10)), (1, F(3, 5)), (2, F(1, 10))]]
FINITE_ARGS = ["--reward-dist", "0:0.2,1:0.5,2:0.3", "--reward-dist", "0:0.3,1:0.3,2:0.4",
               "--reward-dist", "0:3/10,1:0.6,2:0.1"]

CASES = [
    ("k3, sample std, 3 levels, G = 6", ["--rewards", "1,1/2,0", "--std", "sample"],
     Problem.deterministic(REF3, (1, F(1, 2), 0), F(1, 2), 6, "k3", std="sample")),
    ("k2-is (faces), 3 levels, G = 6", ["--rewards", "1,1/2,0", "--penalty", "k2-is"],
     Problem.deterministic(REF3, (1, F(1, 2), 0), F(1, 2), 6, "k2-is")),
    ("k3 + eps, finite rewards, G = 6", FINITE_ARGS + ["--std-eps", "1e-4"],
     Problem.finite(REF3, FINITE, F(1, 2), 6, "k3", std_eps=F(1, 10**4))),
    ("k1 in the reward, Bernoulli, G = 6", ["--success", "0.8,0.5,0.1", "--kl-in", "reward"],
     Problem.bernoulli(REF3, (F(4, 5), F(1, 2), F(1, 10)), F(1, 2), 6, "k1", kl_in="reward")),
    ("k1 in the reward, finite rewards, G = 6", FINITE_ARGS + ["--kl-in", "reward"],
     Problem.finite(REF3, FINITE, F(1, 2), 6, "k1", kl_in="reward")),
    ("k3 in the reward (faces), finite rewards, G = 6",
     FINITE_ARGS + ["--kl-in", "reward", "--penalty", "k3"],
     Problem.finite(REF3, FINITE, F(1, 2), 6, "k3", kl_in="reward")),
]


def main():
    print(f"{'case':50s} {'wall s':>8s} {'model s':>8s}")
    for name, args, problem in CASES:
        argv = [sys.executable, "-m", "derive", "stationary", "--ref", "1/5,3/10,1/2",
                "--beta", "1/2", "--group", "6", "--json", "--max-cost", "1e12"] + args
        best = float("inf")
        for _ in range(2):
            t = time.perf_counter()
            subprocess.run(argv, cwd=ROOT, check=True, capture_output=True)
            best = min(best, time.perf_counter() - t)
        print(f"{name:50s} {best:8.2f} {estimate_cost(problem).seconds:8.2f}")


if __name__ == "__main__":
    main()
