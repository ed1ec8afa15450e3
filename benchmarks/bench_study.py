"""Points per second of ``grpo-derive study`` (prints figures, asserts nothing).

Run from the repository root::

    .venv/bin/python benchmarks/bench_study.py [POINTS]

A binary grid ``beta x pi_ref(a)`` at ``G = 64`` (0/1 deterministic rewards, k3,
50 digits, certificates on), ``POINTS`` points (default 400, a square grid), is
solved without the cache with 1 and 2 local worker processes, and on a local
Dask cluster of 2 worker processes when ``dask.distributed`` is installed
(``pip install '.[cluster]'``).  The outputs of every run are compared byte for
byte.
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from derive import study


def grid_file(folder, points):
    side = max(2, math.isqrt(points))
    betas = [f"{(i + 1) / side:.6g}" for i in range(side)]
    refs = [f"{j + 1}/{side + 1},{side - j}/{side + 1}" for j in range(side)]
    path = Path(folder) / "bench.toml"
    path.write_text('[problem]\nrewards = "1,0"\ngroup = "64"\n[sweep]\n'
                    f"beta = {betas!r}\nref = {refs!r}\n".replace("'", '"'))
    return path


def timed(label, s, **how):
    start = time.perf_counter()
    records = study.run_study(s, cache_dir=None, **how)
    seconds = time.perf_counter() - start
    print(f"{label:>24}: {len(s.points)} points in {seconds:7.2f} s = "
          f"{len(s.points) / seconds:7.2f} points/s")
    return study.data_csv(s, records)


def main():
    points = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    with tempfile.TemporaryDirectory() as tmp:
        s = study.load_study(grid_file(tmp, points))
        print(f"binary grid at G = 64, {len(s.points)} points, {os.cpu_count()} cores")
        outs = {"1 local worker": timed("1 local worker", s, jobs=1),
                "2 local workers": timed("2 local workers", s, jobs=2)}
        try:
            from dask.distributed import LocalCluster
        except ImportError:
            print(f"{'Dask':>24}: not installed (pip install '.[cluster]')")
        else:
            os.environ["PYTHONPATH"] = str(ROOT)
            with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                              dashboard_address=None) as cluster:
                outs["Dask, 2 workers"] = timed("Dask, 2 workers", s,
                                                scheduler=cluster.scheduler_address)
        same = len(set(outs.values())) == 1
        print("data.csv identical across executors:", same)


if __name__ == "__main__":
    main()
