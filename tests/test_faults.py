"""Faults and hostile destinations: a user's files are never lost, an output is
always exactly old or exactly new, and every failure is one line and an exit status.

Outputs are rendered from two small caches (no computation), so each run is a
fraction of a second.  Interrupts at named moments come from the fault hook
``GRPO_DERIVE_FAULT`` of :mod:`derive.output.outputs`; interrupts at arbitrary moments
from signals sent after seeded random delays.
"""

import doctest
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, require_tex

from derive import cli
from derive.output import cache, outputs, pipeline

OLD = {"paper": cache.PAPER, "digits": 50, "seed": 1, "sections": [], "checks": [],
       "artefacts": []}
NEW = {"paper": cache.PAPER, "digits": 50, "seed": 2,
       "sections": [{"key": "demo", "title": "A demonstration", "paper_ref": "(2)",
                     "summary": "One step.", "remarks": ["A remark."],
                     "steps": [{"text": "The value is", "math": "x &= 1", "label": "demo"}]}],
       "checks": [{"id": "demo", "paper_ref": "(2)", "statement": "x = 1", "method": "numeric",
                   "max_abs_error": 1e-60, "digits": 50, "status": "pass", "tolerance": 1e-45}],
       "artefacts": [{"path": "data/demo.csv", "text": "x\n1\n"}]}


def _default_sigint():
    """In a child: SIGINT back to its default.  A shell runs background jobs (`make test &`,
    nohup) with SIGINT ignored, children inherit that, and Python then installs no
    KeyboardInterrupt handler: the tests of Ctrl-C would see it ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run(*args, env=None, timeout=60, **kw):
    full = {k: v for k, v in os.environ.items() if k != outputs.FAULT_ENV}
    full.update(env or {})
    return subprocess.run([sys.executable, "-m", "derive", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, env=full, timeout=timeout,
                          check=False, preexec_fn=_default_sigint, **kw)


def snapshot(path):
    """Every file under *path* (hidden ones too) as ``{relative path: bytes}``."""
    path = Path(path)
    return {str(p.relative_to(path)): p.read_bytes()
            for p in sorted(path.rglob("*")) if p.is_file() or p.is_symlink()}


def hidden_siblings(out):
    return sorted(n for n in os.listdir(Path(out).parent) if n.startswith(f".{Path(out).name}."))


def one_error_line(res, start="error: "):
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(start), res.stderr
    assert "Traceback" not in res.stderr
    return lines[0]


@pytest.fixture(scope="module")
def caches(tmp_path_factory):
    """The two caches, and what each renders to."""
    base = tmp_path_factory.mktemp("caches")
    out = {}
    for name, data in (("old", OLD), ("new", NEW)):
        (base / f"{name}.json").write_text(json.dumps(data))
        pipeline.write_results(data, base / f"{name}-out")
        out[name] = snapshot(base / f"{name}-out")
    assert out["old"] != out["new"] and outputs.MARKER in out["new"]
    return {"old": base / "old.json", "new": base / "new.json",
            "old_tree": out["old"], "new_tree": out["new"]}


@pytest.fixture
def earlier(tmp_path, caches):
    """An earlier output (the old version) at ``tmp_path/results``."""
    out = tmp_path / "results"
    res = run("render", "--cache", caches["old"], "--out", out)
    assert res.returncode == 0, res.stderr
    assert snapshot(out) == caches["old_tree"]
    return out


# -- --out refuses what is not an earlier output ----------------------------------


def _user_folder(tmp_path):
    user = tmp_path / "manuscript"
    (user / "figs").mkdir(parents=True)
    (user / "chapter1.tex").write_text("\\chapter{One}\nMy own words.\n")
    (user / "figs" / "plot.pdf").write_bytes(b"%PDF-1.4 not really\n")
    return user


@pytest.mark.parametrize("command", ["render", "build"])
def test_out_refuses_a_users_folder(tmp_path, caches, command):
    user = _user_folder(tmp_path)
    before, listing = snapshot(user), sorted(os.listdir(tmp_path))
    args = ["render", "--cache", caches["new"]] if command == "render" else ["build", "--quiet"]
    res = run(*args, "--out", user, timeout=30)  # build refuses before computing anything
    assert res.returncode == 2
    line = one_error_line(res, "error: --out ")
    assert "did not write" in line and outputs.MARKER in line
    assert snapshot(user) == before and sorted(os.listdir(tmp_path)) == listing
    assert res.stdout == ""


@pytest.mark.parametrize("command", ["render", "build"])
def test_out_refuses_an_existing_file(tmp_path, caches, command):
    target = tmp_path / "notes.txt"
    target.write_text("do not lose me\n")
    args = ["render", "--cache", caches["new"]] if command == "render" else ["build", "--quiet"]
    res = run(*args, "--out", target, timeout=30)
    assert res.returncode == 2
    assert "is not a folder" in one_error_line(res, "error: --out ")
    assert target.read_text() == "do not lose me\n"
    assert sorted(os.listdir(tmp_path)) == ["notes.txt"]


def test_out_refuses_a_link_to_a_users_folder(tmp_path, caches):
    user = _user_folder(tmp_path)
    before = snapshot(user)
    (tmp_path / "link").symlink_to(user)
    res = run("render", "--cache", caches["new"], "--out", tmp_path / "link")
    assert res.returncode == 2 and "did not write" in one_error_line(res)
    assert snapshot(user) == before and (tmp_path / "link").is_symlink()


def test_a_foreign_marker_is_not_an_earlier_output(tmp_path, caches):
    user = _user_folder(tmp_path)
    (user / outputs.MARKER).write_text("something else\n")
    before = snapshot(user)
    res = run("render", "--cache", caches["new"], "--out", user)
    assert res.returncode == 2 and snapshot(user) == before


def test_out_accepts_new_empty_and_earlier_output(tmp_path, caches):
    for out in (tmp_path / "a" / "b" / "results", tmp_path / "empty"):
        if out.name == "empty":
            out.mkdir()
        res = run("render", "--cache", caches["new"], "--out", out)
        assert res.returncode == 0, res.stderr
        assert snapshot(out) == caches["new_tree"] and hidden_siblings(out) == []
        assert (out / outputs.MARKER).read_text() == outputs.MARKER_TEXT


def test_earlier_output_is_replaced_whole(earlier, caches):
    (earlier / "main.pdf").write_bytes(b"a by-product of make pdf")
    res = run("render", "--cache", caches["new"], "--out", earlier)
    assert res.returncode == 0, res.stderr
    assert snapshot(earlier) == caches["new_tree"]
    assert sorted(os.listdir(earlier.parent)) == ["results"]


def test_refused_root_and_unsafe_paths(tmp_path):
    with pytest.raises(outputs.Refused):
        outputs.prepare_folder("/")
    for rel in ("../x.tex", "/abs.tex", "a/../../x", ".hidden", outputs.MARKER, "a//b", ""):
        with pytest.raises(ValueError):
            outputs.write_folder({rel: "x"}, tmp_path / "out")
    assert not (tmp_path / "out").exists() and not (tmp_path.parent / "x.tex").exists()


# -- the swap, stale siblings, a half-swapped folder ----------------------------------


def test_exchange_swaps_two_folders(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "f").write_text("a")
    (b / "f").write_text("b")
    if not outputs.exchange(a, b):
        pytest.skip("renameat2(RENAME_EXCHANGE) not available here; the two-rename path is "
                    "tested with exchange:unsupported")
    assert (a / "f").read_text() == "b" and (b / "f").read_text() == "a"


def test_stale_siblings_are_removed_and_others_kept(earlier, caches):
    parent = earlier.parent
    stale_tmp = parent / ".results.tmp-k1lled00"
    (stale_tmp / "sections").mkdir(parents=True)
    (stale_tmp / "sections" / "half.tex").write_text("half")
    stale_old = parent / ".results.old-k1lled01"
    shutil.copytree(earlier, stale_old)
    os.unlink(stale_old / outputs.MARKER)  # half removed
    (parent / ".results.tmp-k1lled02").write_text("a file")
    keep = {".results.tmpx": "not ours", "results.tmp-abc": "not hidden", "notes.txt": "mine",
            ".other.tmp-abcdefgh": "another output's"}
    for name, text in keep.items():
        (parent / name).write_text(text)
    res = run("render", "--cache", caches["new"], "--out", earlier)
    assert res.returncode == 0, res.stderr
    assert snapshot(earlier) == caches["new_tree"]
    assert sorted(os.listdir(parent)) == sorted([*keep, "results"])
    assert all((parent / n).read_text() == t for n, t in keep.items())


def test_a_live_runs_temporary_folder_is_not_removed(earlier, caches):
    import fcntl

    live = earlier.parent / ".results.tmp-alive000"
    live.mkdir()
    fd = os.open(live, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        res = run("render", "--cache", caches["new"], "--out", earlier)
        assert res.returncode == 0, res.stderr
        assert live.is_dir()
    finally:
        os.close(fd)
    outputs.recover(earlier)
    assert not live.exists()


def test_half_swapped_folder_is_put_back(earlier, caches):
    """Killed between the two renames: NAME is missing, the old version is aside."""
    parent = earlier.parent
    aside = parent / ".results.old-halfway0"
    os.rename(earlier, aside)
    shutil.copytree(aside, parent / ".results.tmp-halfway1")  # a complete new one
    outputs.recover(earlier)
    assert snapshot(earlier) == caches["old_tree"] and hidden_siblings(earlier) == []


# -- interrupts at named moments ----------------------------------------------

# (stage, action) -> which version the output folder holds afterwards.  SIGINT and
# SIGTERM sent during the swap are held back until it is done: the new version.
SCHEDULE = [
    ("write", "interrupt", "old"), ("write", "sigint", "old"), ("write", "sigterm", "old"),
    ("write", "sigkill", "old"),
    ("written", "interrupt", "old"), ("written", "sigint", "old"),
    ("written", "sigterm", "old"), ("written", "sigkill", "old"),
    ("swapped", "interrupt", "new"), ("swapped", "sigint", "new"),
    ("swapped", "sigterm", "new"), ("swapped", "sigkill", "new"),
    ("removing-old", "interrupt", "new"), ("removing-old", "sigterm", "new"),
    ("removing-old", "sigkill", "new"),
]
FALLBACK = [  # two renames instead of renameat2
    ("moved-aside", "interrupt", "old"), ("moved-aside", "sigint", "new"),
    ("moved-aside", "sigterm", "new"), ("moved-aside", "sigkill", "old"),
    ("swapped", "interrupt", "new"), ("swapped", "sigkill", "new"),
    ("removing-old", "sigkill", "new"),
]
EXPECT = {"interrupt": (130, "error: interrupted\n"), "sigint": (130, "error: interrupted\n"),
          "sigterm": (143, "error: terminated\n"), "sigkill": (-signal.SIGKILL, "")}


@pytest.mark.parametrize("fallback,stage,action,version",
                         [(False, *s) for s in SCHEDULE] + [(True, *s) for s in FALLBACK])
def test_interrupt_leaves_old_or_new(earlier, caches, fallback, stage, action, version):
    fault = ("exchange:unsupported," if fallback else "") + f"{stage}:{action}"
    res = run("render", "--cache", caches["new"], "--out", earlier,
              env={outputs.FAULT_ENV: fault})
    status, stderr = EXPECT[action]
    assert (res.returncode, res.stderr) == (status, stderr)
    if action == "sigkill":  # nothing ran after the kill: the next run tidies up
        outputs.recover(earlier)
    assert snapshot(earlier) == caches[f"{version}_tree"]
    assert hidden_siblings(earlier) == []
    res = run("render", "--cache", caches["new"], "--out", earlier)  # and the next run works
    assert res.returncode == 0 and snapshot(earlier) == caches["new_tree"]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_signal_at_random_moments(earlier, caches, sig):
    rng = random.Random(20260 + sig)
    for _ in range(6):
        proc = subprocess.Popen([sys.executable, "-m", "derive", "render", "--cache",
                                 str(caches["new"]), "--out", str(earlier)], cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                preexec_fn=_default_sigint)
        time.sleep(rng.uniform(0.0, 0.25))
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
        # SIGINT while the interpreter itself starts (before any code of ours runs) kills it
        # with -SIGINT, or with "Fatal Python error: init_import_site" and status 1
        starting = proc.returncode == -signal.SIGINT or (
            proc.returncode == 1 and "init_import_site" in err)
        assert proc.returncode in (0, 130, 143, -sig) or starting, err
        if not starting:
            assert "Traceback" not in err and len(err.splitlines()) <= 1, err
        outputs.recover(earlier)
        assert snapshot(earlier) in (caches["old_tree"], caches["new_tree"])
        assert hidden_siblings(earlier) == []
        res = run("render", "--cache", caches["old"], "--out", earlier)
        assert res.returncode == 0 and snapshot(earlier) == caches["old_tree"]


def test_progress_bar_then_interrupt_starts_a_new_line(capsys, monkeypatch):
    def interrupted(args):
        cli._ProgressBar(3).step()
        raise KeyboardInterrupt

    monkeypatch.setitem(cli.COMMANDS, "summary", interrupted)
    handler = signal.getsignal(signal.SIGTERM)
    assert cli.main(["summary"]) == 130
    assert capsys.readouterr().err.endswith("] 1/3\nerror: interrupted\n")
    assert signal.getsignal(signal.SIGTERM) is handler


# -- failed writes and closed or full streams -----------------------------------------


def test_full_disk_during_write_leaves_old(earlier, caches):
    res = run("render", "--cache", caches["new"], "--out", earlier,
              env={outputs.FAULT_ENV: "write:enospc"})
    assert res.returncode == 1
    line = one_error_line(res, f"error: cannot write {earlier}{os.sep}")
    assert line.endswith(": " + os.strerror(28))
    assert snapshot(earlier) == caches["old_tree"] and hidden_siblings(earlier) == []


def test_full_disk_saving_the_cache_keeps_the_old_cache(tmp_path, monkeypatch):
    dest = tmp_path / "computed.json"
    cache.save_cache(OLD, dest)
    before = dest.read_bytes()
    monkeypatch.setenv(outputs.FAULT_ENV, "file:enospc")
    with pytest.raises(outputs.WriteFailed, match="No space left"):
        cache.save_cache(NEW, dest)
    assert dest.read_bytes() == before and os.listdir(tmp_path) == ["computed.json"]


def test_closed_pipe_is_a_quiet_exit(earlier):
    for args in (["summary", "--results", earlier], ["--help"]):
        proc = subprocess.Popen([sys.executable, "-m", "derive", *map(str, args)], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        proc.stdout.close()  # the reader is gone before anything is written
        err = proc.stderr.read()
        assert proc.wait(timeout=60) == 141 and err == b""


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_full_stdout_is_one_line(earlier):
    with open("/dev/full", "w") as full:
        res = subprocess.run([sys.executable, "-m", "derive", "summary", "--results",
                              str(earlier)], cwd=ROOT, stdout=full, stderr=subprocess.PIPE,
                             text=True, timeout=60, check=False)
    assert res.returncode == 1
    assert res.stderr == f"error: cannot write to standard output: {os.strerror(28)}\n"


# -- malformed inputs -----------------------------------------------------------


def _cache_with(**changes):
    data = json.loads(json.dumps(NEW))
    for key, value in changes.items():
        data[key] = value
    return json.dumps(data)


MALFORMED_CACHES = [
    ("{}", "no field 'paper'"),
    ("[1,2]", "must be an object"),
    ('"text"', "must be an object"),
    ("not json", "not JSON"),
    ("", "not JSON"),
    ('{"paper": ', "not JSON"),
    (_cache_with(digits="50"), "digits must be an integer"),
    (_cache_with(digits=True), "digits must be an integer"),
    (_cache_with(paper="arXiv:0000.00000"), "is for"),
    (_cache_with(sections={}), "sections must be a list"),
    (_cache_with(sections=[{"key": "a"}]), "has no field"),
    (_cache_with(sections=[dict(NEW["sections"][0], key="../evil")]), "not a plain name"),
    (_cache_with(checks=[dict(NEW["checks"][0], status="maybe")]), "status"),
    (_cache_with(checks=[dict(NEW["checks"][0], max_abs_error="small")]), "max_abs_error"),
    (_cache_with(checks=NEW["checks"] * 2), "twice"),
    (_cache_with(artefacts=[{"path": "../../evil.tex", "text": "x"}]), "not a safe"),
    (_cache_with(artefacts=[{"path": "/tmp/evil.tex", "text": "x"}]), "not a safe"),
    (_cache_with(artefacts=[{"path": "a.tex", "template": "../../x", "context": {}}]),
     "not a template name"),
    (_cache_with(artefacts=[{"path": "a.tex", "template": "figure.tex.jinja",
                             "context": {}}]), "does not fit"),
    (_cache_with(sections=[dict(NEW["sections"][0], summary="unbalanced $x")]), "does not fit"),
]


@pytest.mark.parametrize("text,needle", MALFORMED_CACHES)
def test_render_refuses_a_malformed_cache(tmp_path, text, needle):
    cache = tmp_path / "cache.json"
    cache.write_text(text)
    res = run("render", "--cache", cache, "--out", tmp_path / "out")
    assert res.returncode == 2
    assert needle in one_error_line(res, f"error: --cache {cache}: ")
    assert sorted(os.listdir(tmp_path)) == ["cache.json"] and res.stdout == ""


def test_render_refuses_a_missing_cache(tmp_path):
    res = run("render", "--cache", tmp_path / "none.json", "--out", tmp_path / "out")
    assert res.returncode == 2 and "cannot read it" in one_error_line(res)
    res = run("render", "--cache", tmp_path, "--out", tmp_path / "out")
    assert res.returncode == 2 and "cannot read it" in one_error_line(res)


def _verification(**changes):
    ver = pipeline.verification(NEW)
    ver.update(changes)
    return json.dumps(ver)


MALFORMED_VERIFICATIONS = [
    ("{}", "no field"),
    ("[1,2]", "must be an object"),
    ("nonsense", "not JSON"),
    (_verification(summary={"total": 1, "passed": 1}), "no field 'failed'"),
    (_verification(summary={"total": 5, "passed": 5, "failed": 0}), "does not count"),
    (_verification(summary={"total": 1, "passed": "1", "failed": 0}), "must be an integer"),
    (_verification(checks=[{"id": "x"}]), "has no field"),
    (_verification(checks="all"), "must be a list"),
]


@pytest.mark.parametrize("text,needle", MALFORMED_VERIFICATIONS)
def test_summary_refuses_a_malformed_verification(tmp_path, text, needle):
    (tmp_path / "verification.json").write_text(text)
    res = run("summary", "--results", tmp_path)
    assert res.returncode == 2 and needle in one_error_line(res) and res.stdout == ""


def test_summary_of_a_valid_verification(tmp_path):
    (tmp_path / "verification.json").write_text(_verification())
    res = run("summary", "--results", tmp_path)
    assert res.returncode == 0 and res.stdout.startswith("1 of 1 checks pass")


# -- compute --cache: refused before the computation ------------------------------


def test_compute_refuses_a_cache_destination_at_once(tmp_path):
    """Refused (2) or unwritable (1) before the computation: each run is quick."""
    mine = tmp_path / "chapter1.tex"
    mine.write_text("mine\n")
    (tmp_path / "dir").mkdir()
    cases = [(mine / "cache.json", 1, f"error: cannot write {mine / 'cache.json'}: "
              + os.strerror(20)),
             (mine, 2, "error: --cache "), (tmp_path / "dir", 2, "error: --cache "),
             (Path("/proc/self/no/cache.json"), 1, "error: cannot write /proc/")]
    for dest, status, start in cases:
        res = run("compute", "--quiet", "--cache", dest, timeout=30)  # no computation
        assert res.returncode == status, (dest, res.stderr)
        one_error_line(res, start)
    assert mine.read_text() == "mine\n"
    assert sorted(os.listdir(tmp_path)) == ["chapter1.tex", "dir"]


def test_read_only_folder_is_a_one_line_write_failure(tmp_path, caches):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("this user may write in a read-only folder (root); the full disk "
                        "case stands in for it")
        for args in (["render", "--cache", caches["new"], "--out", ro / "results"],
                     ["compute", "--quiet", "--cache", ro / "c.json"]):
            res = run(*args, timeout=30)
            assert res.returncode == 1
            assert one_error_line(res, "error: cannot write ").endswith(os.strerror(13))
        assert os.listdir(ro) == []
    finally:
        ro.chmod(0o755)


def test_an_earlier_cache_may_be_replaced(tmp_path):
    dest = tmp_path / "computed.json"
    cache.save_cache(OLD, dest)
    assert cache.prepare_cache(dest) == dest.resolve()
    cache.save_cache(NEW, dest)
    assert cache.load_cache(dest) == NEW and os.listdir(tmp_path) == ["computed.json"]


# -- make ---------------------------------------------------------------------


def _make(*args, **env):
    if shutil.which("make") is None:
        pytest.skip("make not installed")
    full = {k: v for k, v in os.environ.items()  # not the flags of a `make test` around us
            if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", outputs.FAULT_ENV)}
    return subprocess.run(["make", "-s", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env=dict(full, **env), check=False,
                          preexec_fn=_default_sigint)


def test_make_target_is_outside_results(tmp_path, caches):
    """An interrupted render under .DELETE_ON_ERROR leaves results/ whole; the
    next make renders it, and the one after that does nothing."""
    out, stamp = tmp_path / "results", tmp_path / "cache" / "results.stamp"
    cache = tmp_path / "computed.json"
    shutil.copy(caches["old"], cache)
    assert run("render", "--cache", caches["old"], "--out", out).returncode == 0
    shutil.copy(caches["new"], cache)
    # the goal is the render's stamp (not `all`, which also writes the studies)
    make = ["-o", cache, f"PY={sys.executable}", f"CACHE={cache}", f"OUT={out}",
            f"RESULTS={stamp}", stamp]
    res = _make(*make, **{outputs.FAULT_ENV: "written:interrupt"})
    assert res.returncode != 0 and "error: interrupted" in res.stderr
    assert snapshot(out) == caches["old_tree"] and not stamp.exists()
    stamp.parent.mkdir()
    res = _make(*make)
    assert res.returncode == 0, res.stderr
    assert snapshot(out) == caches["new_tree"] and stamp.exists()
    assert _make("-q", *make).returncode == 0  # up to date: nothing to do


def test_make_pdf_without_pdflatex_fails_with_a_message(tmp_path):
    res = _make("-o", ".cache/results.stamp", "pdf", f"OUT={tmp_path}",
                f"PDF_DIR={tmp_path / 'build'}", "PDFLATEX=pdflatex-not-installed-here")
    assert res.returncode != 0 and "pdflatex-not-installed-here not found" in res.stderr


def test_make_pdf_shows_why_pdflatex_failed(tmp_path):
    require_tex()
    (tmp_path / "main.tex").write_text(
        "\\documentclass{article}\\begin{document}\\undefinedcommandhere\\end{document}\n")
    res = _make("-o", ".cache/results.stamp", "pdf", f"OUT={tmp_path}",
                f"PDF_DIR={tmp_path / 'build'}")
    assert res.returncode != 0
    assert "Undefined control sequence" in res.stderr and "undefinedcommandhere" in res.stderr


# -- doctests -------------------------------------------------------------------


@pytest.mark.parametrize("module", [outputs, pipeline])
def test_doctests(module):
    failures, _ = doctest.testmod(module)
    assert failures == 0


def test_interrupted_sweep_keeps_its_finished_points():
    """Issue 12: Ctrl-C during a --beta sweep prints the points already finished, then
    one line 'error: interrupted' and exit 130."""
    import json as _json
    import signal as _signal
    import subprocess as _subprocess
    import sys as _sys
    import time as _time

    base = [_sys.executable, "-m", "derive", "stationary", "--ref", "0.5,0.3,0.2",
            "--rewards", "1,0.5,0", "--group", "64", "--max-cost", "1e10", "--json"]
    start = _time.monotonic()
    _subprocess.run(base + ["--beta", "0.1"], capture_output=True, check=True, timeout=300)
    one = _time.monotonic() - start          # start-up, tables and one point
    betas = ",".join(f"{k}/100" for k in range(10, 90))
    proc = _subprocess.Popen(base + ["--beta", betas], stdout=_subprocess.PIPE,
                             stderr=_subprocess.PIPE, text=True, preexec_fn=_default_sigint)
    _time.sleep(1.5 * one + 1.0)
    proc.send_signal(_signal.SIGINT)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 130
    assert err.strip().splitlines()[-1] == "error: interrupted"
    data = _json.loads(out)
    assert data["interrupted"] is True and data["requested"] == 80
    assert 1 <= data["finished"] < 80 and len(data["sweep"]) == data["finished"]
    assert all(rec["stationary"] for rec in data["sweep"])
