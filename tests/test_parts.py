"""The parts of the results: each computed alone into its own cache, with its own
dependencies, merged in the paper's order (derive/output/parts.py and the Makefile)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from derive.output import cache, parts


def _part_record(name, ids):
    return {"paper": parts.PAPER, "digits": 50, "seed": 1, "part": name,
            "sections": [{"key": name}], "artefacts": [{"path": f"{name}.csv", "text": ""}],
            "checks": [{"id": i, "paper_ref": "(1)", "statement": "s", "method": "symbolic",
                        "max_abs_error": 0.0, "digits": None, "status": "pass"} for i in ids]}


def test_merge_orders_the_parts_as_the_paper_and_refuses_a_gap_or_a_repeat():
    records = [_part_record(name, [f"{name}-{j}" for j in range(2)])
               for name in reversed(parts.PARTS)]
    merged = parts.merge(records)
    assert [s["key"] for s in merged["sections"]] == list(parts.PARTS)
    assert [c["id"] for c in merged["checks"]] == [f"{n}-{j}" for n in parts.PARTS
                                                   for j in range(2)]
    assert [a["path"] for a in merged["artefacts"]] == [f"{n}.csv" for n in parts.PARTS]
    with pytest.raises(ValueError, match="missing penalty"):
        parts.merge([p for p in records if p["part"] != "penalty"])
    with pytest.raises(ValueError, match="given twice"):
        parts.merge(records + records[:1])
    with pytest.raises(ValueError, match="unknown nonsense"):
        parts.merge(records + [_part_record("nonsense", [])])
    records[0]["checks"].append(dict(records[1]["checks"][0]))
    with pytest.raises(ValueError, match="duplicate check id"):
        parts.merge(records)


def _run_parts(*args):
    return subprocess.run([sys.executable, "-m", "derive.output.parts", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, check=False)


def test_a_part_saves_its_data_and_exactly_the_sources_it_imported(tmp_path):
    cache, deps = tmp_path / "penalty.json", tmp_path / "penalty.d"
    res = _run_parts("part", "penalty", "--cache", cache, "--deps", deps)
    assert res.returncode == 0, res.stderr
    part = parts.load_part(cache, "penalty")
    assert {k: v for k, v in part.items() if k not in ("environment", "sources")} \
        == parts.compute_part("penalty")
    assert part["environment"] == parts.environment()
    sources = part["sources"]
    assert {"derive/results/penalty.py", "derive/paper/penalty.py", "derive/output/parts.py",
            "derive/verify/checks.py"} <= set(sources)
    # only what it imported to compute: the solver is no dependency of the penalty's
    # derivation, and the writers of files (imported afterwards) are none of any part's
    assert not {"derive/solve/solver.py", "derive/output/pipeline.py",
                "derive/output/outputs.py"} & set(sources)
    assert parts.is_fresh(part)
    # the makefile rules: the part depends on each source, each of which may vanish
    lines = deps.read_text().splitlines()
    target, _, prerequisites = lines[0].partition(": ")
    assert target == str(cache)
    assert sorted(os.path.relpath(ROOT / p) for p in prerequisites.split()) \
        == sorted(os.path.relpath(ROOT / rel) for rel in sources)
    assert lines[1:] == [f"{p}:" for p in prerequisites.split()]


def test_a_part_is_stale_when_a_source_or_a_version_differs(tmp_path):
    part = parts.compute_part("penalty")
    fresh = dict(part, environment=parts.environment(), sources=parts.imported_sources())
    assert parts.is_fresh(fresh)
    edited = dict(fresh["sources"], **{"derive/results/penalty.py": "0" * 64})
    assert not parts.is_fresh(dict(fresh, sources=edited))
    gone = dict(fresh["sources"], **{"derive/no_such_module.py": None})
    assert not parts.is_fresh(dict(fresh, sources=gone))
    assert not parts.is_fresh(dict(fresh, environment={**fresh["environment"], "sympy": "0"}))
    assert not parts.is_fresh(part)                   # no record of its sources
    path = tmp_path / "penalty.json"
    cache.save_cache(fresh, path)
    assert parts.fresh_part(path, "penalty") == fresh
    assert parts.fresh_part(path, "advantage") is None  # another part's file
    cache.save_cache(dict(fresh, sources=edited), path)
    assert parts.fresh_part(path, "penalty") is None


def test_a_part_with_a_failing_check_writes_nothing(tmp_path, monkeypatch, capsys):
    bad = dict(_part_record("penalty", ["penalty-ok"]))
    bad["checks"] = bad["checks"] + [dict(bad["checks"][0], id="penalty-bad", status="fail")]
    monkeypatch.setattr(parts, "compute_part", lambda name: bad)
    cache, deps = tmp_path / "penalty.json", tmp_path / "penalty.d"
    assert parts.main(["part", "penalty", "--cache", str(cache), "--deps", str(deps)]) == 1
    assert "FAIL penalty-bad" in capsys.readouterr().err
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("args,message", [
    ([], "error: the following arguments are required"),
    (["part", "nonsense", "--cache", "x.json"], "error: unknown part 'nonsense'"),
    (["merge", "--cache", "{tmp}/all.json", "{tmp}/not-a-part.json"],
     "error: {tmp}/not-a-part.json: cannot read it"),
    (["merge", "--cache", "{tmp}/all.json", "pyproject.toml"], "error: pyproject.toml: not JSON"),
])
def test_bad_pipeline_arguments_give_one_error_line(args, message, tmp_path):
    res = _run_parts(*(a.format(tmp=tmp_path) for a in args))
    assert res.returncode == 2
    assert res.stderr.startswith(message.format(tmp=tmp_path)) and res.stderr.count("\n") == 1
    assert not (tmp_path / "all.json").exists() and not (ROOT / "x.json").exists()


def test_merge_refuses_parts_of_different_sources(tmp_path):
    files = []
    for name in parts.PARTS:
        rec = dict(_part_record(name, [name]), environment={"v": 1},
                   sources={"derive/x.py": "a" if name == "penalty" else "b"})
        rec["sections"] = []
        files.append(tmp_path / f"{name}.json")
        cache.save_cache(rec, files[-1])
    res = _run_parts("merge", "--cache", tmp_path / "all.json", *files)
    assert res.returncode == 2, res.stderr
    assert res.stderr == "error: the parts were computed from different versions of derive/x.py\n"


def test_shards_cover_every_test_once():
    def collected(*extra):
        res = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                              "-p", "no:cacheprovider", "tests/test_render.py", *extra],
                             cwd=ROOT, capture_output=True, text=True, check=False)
        assert res.returncode == 0, res.stdout + res.stderr
        return [line for line in res.stdout.splitlines() if "::" in line]

    whole, first, second = collected(), collected("--shard", "1/2"), collected("--shard", "2/2")
    assert len(whole) > 4 and first and second
    assert sorted(first + second) == sorted(whole) and not set(first) & set(second)
    assert first == whole[0::2]


def test_make_recomputes_only_the_parts_that_import_a_changed_module(tmp_path):
    """The Makefile's own dependencies, dry-run (``make -n``) on a tree of stand-ins:
    each part depends on what its ``.d`` file lists, and on nothing else."""
    if shutil.which("make") is None:
        pytest.skip("make not installed")
    shutil.copy(ROOT / "Makefile", tmp_path)
    for layer in ("output", "results", "solve"):
        (tmp_path / "derive" / layer).mkdir(parents=True)
    shutil.copy(ROOT / "derive" / "output" / "parts.py", tmp_path / "derive" / "output")
    (tmp_path / ".cache" / "parts").mkdir(parents=True)
    (tmp_path / "results").mkdir()
    moments = {}

    def write(rel, text, moment):
        (tmp_path / rel).write_text(text)
        os.utime(tmp_path / rel, (moment, moment))
        moments[rel] = moment

    write("pyproject.toml", "", 1000)
    (tmp_path / ".venv").mkdir()
    write(".venv/.installed", "", 1001)
    (tmp_path / "templates").mkdir()
    for rel in ("derive/common.py", "derive/solve/solver.py", "templates/section.tex.jinja"):
        write(rel, "", 1001)
    os.utime(tmp_path / "derive/output/parts.py", (1001, 1001))    # the real one: it names the parts
    uses_solver = {"stability", "variants"}
    for name in parts.PARTS:
        write(f"derive/results/{name}.py", "", 1001)
        deps = [f"derive/results/{name}.py", "derive/common.py"] + ["derive/solve/solver.py"] * (
            name in uses_solver)
        rules = parts.dependency_rules(f".cache/parts/{name}.json", deps, start=ROOT)
        write(f".cache/parts/{name}.d", rules, 1002)
        write(f".cache/parts/{name}.json", "{}", 1003)
    write(".cache/computed.json", "{}", 1004)
    write("results/.grpo-derive", "", 1004)
    write(".cache/results.stamp", "", 1005)

    def planned():
        env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
        res = subprocess.run(["make", "-n", "JOBS=1", "PY=python"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=60, check=False)
        assert res.returncode == 0, res.stderr
        return sorted(line.split()[4] for line in res.stdout.splitlines()
                      if " derive.output.parts part " in line), res.stdout

    changed, out = planned()
    assert changed == [] and "derive" not in out         # up to date: nothing to do
    os.utime(tmp_path / "derive/solve/solver.py", (2000, 2000))
    changed, out = planned()
    assert changed == sorted(uses_solver)
    assert "derive.output.parts merge" in out and "derive render" in out
    os.utime(tmp_path / "derive/solve/solver.py", (1001, 1001))
    os.utime(tmp_path / "derive/results/penalty.py", (2000, 2000))
    assert planned()[0] == ["penalty"]
    os.utime(tmp_path / "derive/results/penalty.py", (1001, 1001))
    os.utime(tmp_path / "templates/section.tex.jinja", (2000, 2000))  # a change of layout:
    changed, out = planned()                                          # render, no recompute
    assert changed == [] and "derive.output.parts merge" not in out and "derive render" in out
    os.utime(tmp_path / "templates/section.tex.jinja", (1001, 1001))
    (tmp_path / "derive/solve/solver.py").unlink()           # a module removed: no "No rule to make"
    assert planned()[0] == sorted(uses_solver)


@pytest.mark.parametrize("name", ["penalty", "noisy", "paper_notes"])
def test_a_part_computed_in_another_process_is_the_same_data(name, tmp_path):
    """Determinism across processes (what the tests' reuse of `make`'s caches rests on):
    the cache that `make` saved, when fresh, else one computed now in a subprocess,
    holds exactly what computing the part here gives."""
    saved = parts.fresh_part(ROOT / ".cache" / "parts" / f"{name}.json", name)
    if saved is None:
        res = _run_parts("part", name, "--cache", tmp_path / f"{name}.json")
        assert res.returncode == 0, res.stderr
        saved = parts.load_part(tmp_path / f"{name}.json", name)
    assert {k: v for k, v in saved.items() if k not in ("environment", "sources")} \
        == parts.compute_part(name)


def _pytest(*args, **kw):
    return subprocess.Popen([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                             "-o", "console_output_style=classic", *map(str, args)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


def test_processes_sharing_a_queue_run_every_test_once(tmp_path):
    """What `make test` runs: N pytest processes, one queue; each test runs in one of them."""
    files = ["tests/test_render.py", "tests/test_parsing.py", "tests/test_latex.py"]
    whole = _pytest("--collect-only", "-q", *files).communicate()[0]
    whole = [line for line in whole.splitlines() if "::" in line]
    queue = tmp_path / "queue"
    queue.touch()
    procs = [_pytest("-v", "--queue", queue, *files) for _ in range(2)]
    runs = [proc.communicate(timeout=120)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], runs
    ran = [[line.removesuffix(" PASSED") for line in out.splitlines() if line.endswith(" PASSED")]
           for out in runs]
    assert len(whole) > 20 and sorted(ran[0] + ran[1]) == sorted(whole)
    assert not set(ran[0]) & set(ran[1])
    # a queue shared with processes that collected other tests is refused
    other = _pytest("--queue", queue, "tests/test_render.py")
    out = other.communicate(timeout=120)[0]
    assert other.returncode != 0 and "collected other tests" in out


def test_the_render_depends_on_every_module_it_imports(tmp_path):
    """The Makefile's RENDER_SRC names every module of ``derive`` that ``render`` imports,
    so that a change to one of them renders ``results/`` again."""
    from derive.output import cache as caches

    computed = ROOT / ".cache" / "computed.json"
    try:
        caches.load_cache(computed)
    except (caches.Malformed, OSError):
        pytest.skip("no cache saved by make to render from")
    code = ("import sys\nfrom derive import cli\n"
            "try:\n    cli.main(['render', '--cache', sys.argv[1], '--out', sys.argv[2]])\n"
            "except SystemExit as e:\n    assert not e.code, e.code\n"
            "open(sys.argv[3], 'w').write(' '.join(sorted(\n"
            "    m.__file__ for n, m in sys.modules.items() if n.split('.')[0] == 'derive')))\n")
    modules = tmp_path / "modules.txt"
    res = subprocess.run([sys.executable, "-c", code, str(computed), str(tmp_path / "out"), str(modules)],
                         cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert res.returncode == 0, res.stderr
    imported = {str(Path(f).resolve().relative_to(ROOT)) for f in modules.read_text().split()}
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    listed = subprocess.run(["make", "-s", "--no-print-directory", "--eval",
                             "print-render-src: ; @echo $(RENDER_SRC)", "print-render-src"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
                            check=False)
    assert listed.returncode == 0, listed.stderr
    assert "derive/output/render.py" in imported
    assert imported - set(listed.stdout.split()) == set()
