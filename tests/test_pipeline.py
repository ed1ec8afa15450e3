"""Determinism, atomicity and the up-to-date check of results/."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, require_tex

from derive.output import cache, outputs, parts, pipeline

#: The cache of every part that `make` saves (the Makefile's CACHE).
CACHE = ROOT / ".cache" / "computed.json"


def _tree(path):
    """The files of a results folder, without LaTeX's by-products and without the studies
    (``results/studies/``, written by ``grpo-derive study``: tests/test_study.py)."""
    return sorted(str(p.relative_to(path)) for p in Path(path).rglob("*") if p.is_file()
                  and p.suffix not in (".aux", ".log", ".pdf", ".out")
                  and p.relative_to(path).parts[0] != "studies")


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """``results/`` as this version of the engine writes it, through the command line:
    rendered from the cache `make` saved when that is fresh (computed from exactly the
    sources in the tree, with these package versions), else derived, checked and
    rendered from scratch (``build``)."""
    out = tmp_path_factory.mktemp("fresh") / "results"
    try:
        fresh_cache = parts.is_fresh(cache.load_cache(CACHE))
    except cache.Malformed:
        fresh_cache = False
    command = (["render", "--cache", str(CACHE)] if fresh_cache
               else ["build", "--quiet"])
    res = subprocess.run([sys.executable, "-m", "derive", *command, "--out", str(out)],
                         cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    return out


def test_committed_results_are_up_to_date(fresh):
    committed = ROOT / "results"
    assert _tree(fresh) == _tree(committed), "file lists differ: run `make` and commit results/"
    for rel in _tree(fresh):
        assert (fresh / rel).read_bytes() == (committed / rel).read_bytes(), \
            f"results/{rel} is stale: run `make` and commit results/"


def test_verification_json_schema(fresh):
    ver = json.loads((fresh / "verification.json").read_text())
    fields = {"id", "paper_ref", "statement", "method", "max_abs_error", "digits", "status"}
    assert ver["summary"]["failed"] == 0 and ver["summary"]["total"] >= 40
    for c in ver["checks"]:
        assert fields <= set(c)
        assert c["method"] in ("symbolic", "numeric", "enumeration", "interval")
        assert c["status"] == "pass"
    refs = {c["paper_ref"] for c in ver["checks"]}
    assert {"(2)", "(6)", "(8)", "(9)", "(10)", "(11)", "(12)", "(13)"} <= refs


def test_failed_check_leaves_results_untouched(tmp_path):
    out = tmp_path / "results"
    out.mkdir()
    (out / "keep.txt").write_text("old")
    computed = {"paper": "x", "digits": 50, "seed": 1, "sections": [], "checks": [
        {"id": "bad", "paper_ref": "(1)", "statement": "s", "method": "numeric",
         "max_abs_error": 1.0, "digits": 50, "status": "fail", "tolerance": 1e-45}]}
    with pytest.raises(pipeline.ChecksFailed):
        pipeline.write_results(computed, out)
    assert (out / "keep.txt").read_text() == "old"
    assert sorted(os.listdir(tmp_path)) == ["results"]


def test_swap_replaces_whole_folder(tmp_path):
    out = tmp_path / "results"
    out.mkdir()
    (out / outputs.MARKER).write_text(outputs.MARKER_TEXT)  # an earlier output
    (out / "stale.txt").write_text("old")
    computed = {"paper": "x", "digits": 50, "seed": 1, "sections": [], "checks": []}
    pipeline.write_results(computed, out)
    assert not (out / "stale.txt").exists() and (out / "main.tex").exists()
    assert (out / outputs.MARKER).read_text() == outputs.MARKER_TEXT
    assert sorted(os.listdir(tmp_path)) == ["results"]


def test_main_tex_compiles(fresh, tmp_path):
    require_tex()
    work = tmp_path / "doc"
    subprocess.run(["cp", "-r", str(fresh), str(work)], check=True)
    for _ in range(2):
        res = subprocess.run(["pdflatex", "-no-shell-escape", "-interaction=nonstopmode",
                              "-halt-on-error", "main.tex"], cwd=work, capture_output=True,
                             text=True)
        assert res.returncode == 0, res.stdout[-3000:]
    log = (work / "main.log").read_text(errors="replace")
    assert "undefined references" not in log and "Reference `" not in log
    assert "Citation" not in log or "undefined" not in log
    assert (work / "main.pdf").stat().st_size > 10000

