import hashlib
import os
import shutil
from pathlib import Path

import flint
import mpmath
import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent
#: Where `make` saves each part's data (derive/output/parts.py, the Makefile).
PART_CACHE = ROOT / ".cache" / "parts"

# Seeded, reproducible property tests everywhere.
settings.register_profile("seeded", derandomize=True, deadline=None, max_examples=40)
settings.load_profile("seeded")


def pytest_addoption(parser):
    parser.addoption("--shard", default=None, metavar="K/N",
                     help="run only the K-th of N interleaved slices of the collected tests")
    parser.addoption("--queue", default=None, metavar="FILE",
                     help="share the collected tests with the other pytest processes given the "
                          "same FILE (a new or empty file): each runs the next test no process "
                          "has taken yet (`make test` runs one process per core)")


def _shard(text):
    try:
        k, n = (int(v) for v in text.split("/"))
    except ValueError:
        raise pytest.UsageError(f"--shard {text!r}: give K/N with 1 <= K <= N") from None
    if not 1 <= k <= n:
        raise pytest.UsageError(f"--shard {text!r}: give K/N with 1 <= K <= N")
    return k, n


def pytest_collection_modifyitems(config, items):
    """With ``--shard K/N``, keep the tests K, K + N, K + 2N, ... of the collection order:
    the N slices cover every test once, and a slow family of parametrised tests is
    spread over all of them."""
    if config.getoption("--shard") is None:
        return
    k, n = _shard(config.getoption("--shard"))
    keep = items[k - 1::n]
    config.hook.pytest_deselected(items=[it for i, it in enumerate(items) if i % n != k - 1])
    items[:] = keep


class _Queue:
    """The collected tests, shared through *path* by the processes that collected the
    same tests: :meth:`take` returns the index of the next test no process has taken."""

    def __init__(self, path, items):
        self.path = Path(path)
        self.key = hashlib.sha256("\n".join(it.nodeid for it in items).encode()).hexdigest()

    def take(self):
        import fcntl

        with open(self.path, "a+", encoding="utf-8") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            fh.seek(0)
            key, _, taken = fh.read().partition(" ")
            if key and key != self.key:
                raise pytest.UsageError(f"--queue {self.path}: shared by processes that "
                                        "collected other tests; give a new file")
            index = int(taken or 0)
            fh.seek(0)
            fh.truncate()
            fh.write(f"{self.key} {index + 1}")
            return index


def pytest_runtestloop(session):
    """With ``--queue FILE``: run the tests that this process takes from the queue, in
    the collection order (pytest's own loop otherwise).  Each test is taken one ahead,
    so that pytest knows the next test this process runs and keeps module and session
    fixtures set up between them."""
    path = session.config.getoption("--queue")
    if path is None or session.config.option.collectonly or session.testsfailed:
        return None
    items = session.items
    queue = _Queue(path, items)
    current = queue.take()
    while current < len(items):
        following = queue.take()
        nextitem = items[following] if following < len(items) else None
        items[current].config.hook.pytest_runtest_protocol(item=items[current], nextitem=nextitem)
        if session.shouldfail:
            raise session.Failed(session.shouldfail)
        if session.shouldstop:
            raise session.Interrupted(session.shouldstop)
        current = following
    return True


@pytest.fixture(autouse=True)
def reset_mp_dps():
    """Every test starts and ends at mpmath's and Arb's default precisions."""
    mpmath.mp.dps = 15
    flint.ctx.prec = 53
    yield
    mpmath.mp.dps = 15
    flint.ctx.prec = 53


_PARTS = {}


def computed_part(name):
    """The plain data of the part *name* (:func:`derive.output.parts.compute_part`: its
    sections, check records and artefacts), as the pipeline makes it.

    Read from the cache that ``make`` saved (``.cache/parts/NAME.json``) when it is
    fresh, that is, computed from exactly the sources now in the tree and with these
    package versions (:func:`derive.output.parts.is_fresh`); otherwise computed here, at
    the default precisions, as the pipeline does.  Either way once per session.
    """
    from derive.output import parts

    if name not in _PARTS:
        data = parts.fresh_part(PART_CACHE / f"{name}.json", name)
        if data is None:
            dps, prec = mpmath.mp.dps, flint.ctx.prec
            mpmath.mp.dps, flint.ctx.prec = 15, 53
            try:
                data = parts.compute_part(name)
            finally:
                mpmath.mp.dps, flint.ctx.prec = dps, prec
        _PARTS[name] = data
    return _PARTS[name]


def failed_checks(records):
    """The ids of the check records that do not pass."""
    return [c["id"] for c in records if c["status"] != "pass"]


def artefact(part, path):
    """The artefact of *part* written to *path*."""
    (art,) = [a for a in part["artefacts"] if a["path"] == path]
    return art


def require_tex():
    """Skip without pdflatex, except under CI where a missing TeX is a failure."""
    if shutil.which("pdflatex") is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("pdflatex is missing under CI; .ci/run must install TeX Live")
        pytest.skip("pdflatex not installed")
