"""Timings of a cold ``make`` and of ``make test`` on a fresh clone (prints figures).

Run from the repository root (it takes several minutes and uses every core)::

    python3 benchmarks/bench_make.py            # make, then make test
    python3 benchmarks/bench_make.py --no-tests # make only

It clones the committed ``HEAD`` of this repository into a temporary folder and,
there:

1. runs ``make`` (set-up of ``.venv``, every part, merge, render), stamping each
   line of its output with the time since the start: the set-up ends when
   ``touch .venv/.installed`` is printed, each part prints its own time;
2. runs ``make test`` (the parts are then up to date: this is the test suite);
3. the straightforward baseline, in the same run: one process computing every
   part in turn (``python -m derive build``, what ``make`` ran before the parts
   had their own caches), into another folder, which must be byte-identical
   to the ``results/`` that ``make`` wrote.

A cold ``make test`` on a clean clone costs (1) plus (2).  SIGINT is restored to
its default in the children, so that a run started in the background (where the
shell ignores SIGINT) still lets the tests of Ctrl-C work.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(command, cwd, log):
    """Run *command*; return (seconds, exit status, [(seconds since start, line)])."""
    start = time.monotonic()
    lines = []
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    with subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, env=env) as proc:
        for line in proc.stdout:
            lines.append((time.monotonic() - start, line.rstrip("\n")))
            print(f"{lines[-1][0]:7.1f}  {lines[-1][1]}", file=log, flush=True)
    return time.monotonic() - start, proc.returncode, lines


def _tree(path):
    """Every file under *path* (hidden ones too) as ``{relative path: bytes}``, without the
    studies (``results/studies/``: written by ``grpo-derive study``, not by ``build``)."""
    return {p.relative_to(path).as_posix(): p.read_bytes()
            for p in sorted(Path(path).rglob("*"))
            if p.is_file() and p.relative_to(path).parts[0] != "studies"}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-tests", action="store_true", help="time `make` only")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip the one-process baseline")
    parser.add_argument("--log", help="also write make's time-stamped output here")
    args = parser.parse_args(argv)
    # A handled signal is reset to its default in a child, an ignored one stays ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    with open(args.log or os.devnull, "w") as log:
        return _run(args, log)


def _run(args, log):
    work = Path(tempfile.mkdtemp(prefix="bench-make-"))
    try:
        clone = work / "clone"
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
        cores = os.cpu_count()
        print(f"fresh clone of {ROOT} at HEAD; {cores} cores; load average "
              f"{os.getloadavg()[0]:.2f} at the start")

        total, status, lines = timed(["make"], clone, log)
        if status:
            print(f"make failed (exit {status}); see --log")
            return 1
        setup = next(t for t, line in lines if line.startswith("touch .venv/.installed"))
        parts = {m.group(1): float(m.group(2)) for _, line in lines
                 if (m := re.match(r"part (\w+): .*\(([\d.]+) s\)", line))}
        computed = max(t for t, line in lines if line.startswith("part "))
        print(f"cold make: {total:.1f} s  (set-up {setup:.1f} s; parts done at "
              f"{computed:.1f} s; merge and render {total - computed:.1f} s)")
        print("  each part in its own process: " + ", ".join(
            f"{name} {sec:.1f}" for name, sec in sorted(parts.items(), key=lambda kv: -kv[1])))
        print(f"  sum over the parts {sum(parts.values()):.1f} s, run {cores} at a time")

        _, status, _ = timed(["make", "-q"], clone, log)
        print("afterwards `make -q`: " + ("up to date, a second make does nothing" if status == 0
                                          else f"NOT up to date (exit {status})"))

        if not args.no_tests:
            tests, status, lines = timed(["make", "test"], clone, log)
            summary = [line for _, line in lines if re.search(r"\d+ passed", line)]
            print(f"make test after it: {tests:.1f} s (exit {status}): {'; '.join(summary)}")
            print(f"cold make test on a clean clone: about {total + tests:.1f} s")

        if not args.no_baseline:
            out = work / "baseline-results"
            start = time.monotonic()
            res = subprocess.run([str(clone / ".venv/bin/python"), "-m", "derive", "build",
                                  "--quiet", "--out", str(out)], cwd=clone,
                                 capture_output=True, text=True, check=False)
            base = time.monotonic() - start
            same = res.returncode == 0 and _tree(out) == _tree(clone / "results")
            print(f"baseline, one process (python -m derive build): {base:.1f} s; "
                  f"output {'byte-identical to' if same else 'DIFFERENT from'} make's results/")
        print(f"load average at the end {os.getloadavg()[0]:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
