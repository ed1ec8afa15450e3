"""Studies (derive.study): parsing of study files, running a grid, outputs, the CLI."""

import json
import textwrap
from fractions import Fraction
from pathlib import Path

import pytest

from derive import study as st
from derive.solve.solver import Problem

TINY = """\
title = "Tiny"
[problem]
ref = "0.2,0.8"
rewards = "1,0"
digits = "20"
[sweep]
beta = ["1/2", "0.1"]
group = ["2", "inf"]
"""


def write(tmp_path, text, name="tiny"):
    path = tmp_path / f"{name}.toml"
    path.write_text(textwrap.dedent(text))
    return path


def test_grid_in_file_order(tmp_path):
    s = st.load_study(write(tmp_path, TINY))
    assert s.name == "tiny" and s.title == "Tiny" and s.sweep_keys == ("beta", "group")
    assert [p.swept for p in s.points] == [
        (("beta", "1/2"), ("group", "2")), (("beta", "1/2"), ("group", "inf")),
        (("beta", "0.1"), ("group", "2")), (("beta", "0.1"), ("group", "inf"))]
    assert [(p.problem.beta, p.problem.group) for p in s.points] == [
        (Fraction(1, 2), 2), (Fraction(1, 2), None), (Fraction(1, 10), 2), (Fraction(1, 10), None)]
    assert {p.digits for p in s.points} == {20}
    assert s.figure_x == "beta" and s.table_digits == 6 and s.figure_answer == 1


def test_problem_as_stationary_builds_it():
    """The trl preset with an explicit beta: the same Problem the command line builds."""
    prob, digits, preset = st.problem_of({"ref": "1/3,1/3,1/3", "success": "0.8,0.3,0.1",
                                          "beta": "1/4", "group": "8", "preset": "trl"})
    expected = Problem.bernoulli((Fraction(1, 3),) * 3,
                                 (Fraction(4, 5), Fraction(3, 10), Fraction(1, 10)),
                                 Fraction(1, 4), 8, penalty="k3", normalisation="shift-scale",
                                 kl_in="loss", std="sample", std_eps=Fraction(1, 10**4))
    assert prob == expected and digits == 50 and preset == "trl"


def test_problem_from_the_preset_beta():
    prob, _, _ = st.problem_of({"ref": "0.5,0.5", "rewards": "1,0", "preset": "verl"})
    assert prob.beta == Fraction(1, 1000) and prob.std_eps == Fraction(1, 10**6)


BAD = {
    "unknown-key": (("[problem]\nref = \"0.2,0.8\"\nrewards = \"1,0\"\nbeta = \"1\"\nbogus = \"1\"\n"
                    "[sweep]\ngroup = [\"2\"]\n"), ["key 'bogus'", "line 5", "accepted"]),
    "unknown-top": ("colour = \"red\"\n[problem]\nref = \"0.2,0.8\"\n", ["key 'colour'", "line 1"]),
    "bad-number": ("[problem]\nref = \"0.2,0.8\"\nrewards = \"1,0\"\n[sweep]\nbeta = [\"1\", \"x2\"]\n",
                   ["[sweep] key 'beta'", "line 5", "'x2' is not a number", "expected"]),
    "float": ("[problem]\nref = \"0.2,0.8\"\nrewards = \"1,0\"\n[sweep]\nbeta = [0.5]\n",
              ["key 'beta'", "not a string"]),
    "missing-ref": ("[problem]\nrewards = \"1,0\"\n[sweep]\nbeta = [\"1\"]\n",
                    ["key 'ref'", "missing"]),
    "mismatched": ("[problem]\nref = \"0.2,0.8\"\n[sweep]\nrewards = [\"1,0\", \"1,0,0\"]\nbeta = [\"1\"]\n",
                   ["key 'rewards'", "3 values but 'ref' has 2"]),
    "sweep-non-option": ("[problem]\nref = \"0.2,0.8\"\nrewards = \"1,0\"\n[sweep]\ncolour = [\"1\"]\n",
                         ["[sweep] key 'colour'", "line 5", "not an option"]),
    "not-toml": ("[problem\nref = 1\n", ["not TOML", "line 1"]),
    "empty-sweep": ("[problem]\nref = \"0.2,0.8\"\nrewards = \"1,0\"\nbeta = \"1\"\n[sweep]\n",
                    ["[sweep]", "empty"]),
    "empty-list": ("[problem]\nref = \"0.2,0.8\"\nrewards = \"1,0\"\n[sweep]\nbeta = []\n",
                   ["key 'beta'", "non-empty list"]),
    "bad-choice": (("[problem]\nref = \"0.2,0.8\"\nrewards = \"1,0\"\nbeta = \"1\"\n[sweep]\n"
                   "penalty = [\"k3\", \"k9\"]\n"), ["key 'penalty'", "'k9'", "accepted: k1"]),
    "ref-sum": ("[problem]\nref = \"0.2,0.7\"\nrewards = \"1,0\"\n[sweep]\nbeta = [\"1\"]\n",
                ["key 'ref'", "sum exactly to 1"]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_files_name_the_file_and_the_key(tmp_path, case):
    text, fragments = BAD[case]
    path = write(tmp_path, text, case)
    with pytest.raises(st.StudyError) as err:
        st.load_study(path)
    message = str(err.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    for frag in fragments:
        assert frag in message, (frag, message)


# -- the command line -------------------------------------------------------------------------------

def run_cli(argv, capsys):
    from derive.cli import main

    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_files_exit_2_one_line_nothing_written(tmp_path, monkeypatch, capsys, case):
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path, BAD[case][0], case)
    status, out, err = run_cli(["study", path, "--out", tmp_path / "out"], capsys)
    assert status == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and str(path) in err
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_study_end_to_end(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path, TINY)
    status, _out, err = run_cli(["study", path, "--jobs", "1"], capsys)
    assert status == 0, err
    folder = tmp_path / "results" / "studies" / "tiny"
    assert sorted(p.name for p in folder.iterdir()) == [
        ".grpo-derive", "data.csv", "figure.tex", "section.tex", "table.tex", "verification.json"]
    rows = (folder / "data.csv").read_text().splitlines()
    assert rows[0] == ("beta,group,kind,pi_1,pi_2,lo_1,hi_1,lo_2,hi_2,certified,stable,maximiser")
    assert [r.split(",")[:3] for r in rows[1:]] == [
        ["1/2", "2", "interior"], ["1/2", "inf", "interior"],
        ["0.1", "2", "interior"], ["0.1", "inf", "interior"]]
    # G = 2, k3: arXiv:2502.18548v3, Eq. (14) with gamma = 1, beta = 1/2, p = 1/5
    import mpmath

    mpmath.mp.dps = 40
    b, p = mpmath.mpf(1) / 2, mpmath.mpf(1) / 5
    x = ((1 - b) + mpmath.sqrt((1 - b) ** 2 + 4 * b * p)) / 2
    first = rows[1].split(",")
    assert abs(mpmath.mpf(first[3]) - x) < mpmath.mpf(10) ** -19
    assert mpmath.mpf(first[5]) <= x <= mpmath.mpf(first[6])
    ver = json.loads((folder / "verification.json").read_text())
    assert ver["summary"]["failed"] == 0 and ver["summary"]["policies"] == 4
    assert ver["summary"]["checks"] == ver["summary"]["passed"] > 4
    # every label and every reference carries the study's prefix
    import re

    for name in ("table.tex", "figure.tex", "section.tex"):
        text = (folder / name).read_text()
        labels = re.findall(r"\\label\{([^}]*)\}", text)
        assert labels and all(lab.startswith("study-tiny-") for lab in labels), (name, labels)
        refs = re.findall(r"\\(?:ref|grporef\{[A-Za-z]+\})\{([^}]*)\}", text)
        assert all(r.startswith("study-tiny-") for r in refs), (name, refs)
    section = (folder / "section.tex").read_text()
    assert r"g_o = 1 - \frac{\pi_{\mathrm{ref}}(o)}{\pi(o)}" in section   # Eq. (10), author form
    assert "1/2 & 2 & interior & $0.653113$ & $0.346887$ & yes & true" in (folder / "table.tex").read_text()


def test_jobs_1_and_2_give_the_same_bytes(tmp_path, monkeypatch, capsys):
    path = write(tmp_path, TINY)
    outs = {}
    for jobs in ("1", "2"):
        work = tmp_path / f"run{jobs}"
        work.mkdir()
        monkeypatch.chdir(work)        # a cache of its own: both runs solve
        status, _, err = run_cli(["study", path, "--jobs", jobs, "--out", "out"], capsys)
        assert status == 0, err
        outs[jobs] = {f.name: f.read_bytes() for f in (work / "out").iterdir()}
    assert outs["1"] == outs["2"]


def test_cache_resumes_without_solving(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path, TINY)
    assert run_cli(["study", path, "--jobs", "1", "--out", "a"], capsys)[0] == 0
    cached = sorted((tmp_path / ".cache" / "studies" / "tiny").glob("*.json"))
    assert len(cached) == 4

    def refuse(*args):
        raise AssertionError("solved a cached point")

    monkeypatch.setattr(st, "solve_point", refuse)
    status, _, err = run_cli(["study", path, "--jobs", "1", "--out", "b"], capsys)
    assert status == 0, err
    for name in ("data.csv", "verification.json", "table.tex", "figure.tex", "section.tex"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    # an extended study solves only its new points
    extended = write(tmp_path, TINY.replace('["1/2", "0.1"]', '["1/2", "0.1", "2"]'))
    solved = []
    monkeypatch.setattr(st, "solve_point", lambda *a: solved.append(a) or RealSolve(*a))
    assert run_cli(["study", extended, "--jobs", "1", "--out", "c"], capsys)[0] == 0
    assert [a[0].beta for a in solved] == [Fraction(2), Fraction(2)]
    # a cache file that is not this point's record is solved again
    first = cached[0]
    rec = json.loads(first.read_text())
    rec["digits"] = 21
    first.write_text(json.dumps(rec))
    monkeypatch.setattr(st, "solve_point", refuse)
    with pytest.raises(AssertionError, match="solved a cached point"):
        st.run_study(st.load_study(path), jobs=1, cache_dir=first.parent)


RealSolve = st.solve_point


def test_a_foreign_out_folder_is_refused_before_solving(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path, TINY)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("keep me")
    monkeypatch.setattr(st, "solve_point", lambda *a: pytest.fail("solved before refusing"))
    status, _, err = run_cli(["study", path, "--out", "mine"], capsys)
    assert status == 2 and err.startswith("error: --out mine") and err.count("\n") == 1
    assert [p.name for p in (tmp_path / "mine").iterdir()] == ["thesis.tex"]


def test_a_failed_check_writes_nothing(tmp_path, monkeypatch, capsys):
    """A policy whose printed digits leave its enclosure: exit 1, no output folder."""
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path, TINY)

    def tampered(problem, digits, preset):
        rec = RealSolve(problem, digits, preset)
        s = rec["stationary"][0]
        lo, hi = s["enclosure"][0]
        s["enclosure"][0] = [str(Fraction(lo) - Fraction(1, 1000)), hi]
        return rec

    monkeypatch.setattr(st, "solve_point", tampered)
    status, out, err = run_cli(["study", path, "--jobs", "1", "--out", "out"], capsys)
    assert status == 1 and out == ""
    assert err.startswith("error: ") and "table digits certified" in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_closed_form_check_can_fail(tmp_path):
    """An enclosure moved off the exact value by 1e-15 keeps its 6 table digits and its
    residual, and fails only the closed-form check (arXiv:2502.18548v3, Eq. (14))."""
    s = st.load_study(write(tmp_path, TINY))
    records = st.run_study(s, jobs=1)
    used, checks = st.closed_forms(s, records)
    assert sorted(key[-1] or 0 for key in used) == [0, 2] and len(checks) == 4
    assert all(ok for _, _, ok, _ in checks)
    enc = records[0]["stationary"][0]["enclosure"][0]
    shift = Fraction(1, 10**15)
    records[0]["stationary"][0]["enclosure"][0] = [str(Fraction(b) + shift) for b in enc]
    _, checks = st.closed_forms(s, records)
    assert [ok for _, _, ok, _ in checks] == [False, True, True, True]
    with pytest.raises(st.ChecksFailed, match="closed form"):
        st.study_files(s, records)


def test_residual_check_can_fail():
    rec = {"digits": 20, "stationary": [{
        "policy": ["0.5", "0.5"], "kind": "interior", "residual": "1e-14", "certified": False,
        "enclosure": [["0.5", "0.5"], ["0.5", "0.5"]]}]}
    checks = {c: ok for c, ok, _ in st.policy_checks(rec, 6)}
    assert checks == {"policy 1: residual": False, "policy 1: sums to 1": True}
    rec["stationary"][0]["policy"] = ["0.50000000000000000000", "0.49999999999999999990"]
    assert not {c: ok for c, ok, _ in st.policy_checks(rec, 6)}["policy 1: sums to 1"]


def test_study_problem_is_the_stationary_problem(tmp_path, capsys):
    """The record of `stationary --json` and the study's canonical problem agree."""
    argv = ["stationary", "--ref", "0.3,0.7", "--success", "0.7,0.4", "--beta", "1/5",
            "--group", "4", "--preset", "trl", "--digits", "20", "--json"]
    status, out, _ = run_cli(argv, capsys)
    assert status == 0
    options = {"ref": "0.3,0.7", "success": "0.7,0.4", "beta": "1/5", "group": "4",
               "preset": "trl", "digits": "20"}
    prob, digits, preset = st.problem_of(options)
    point = st.Point(0, (), options, prob, digits, preset)
    assert json.loads(out)["problem"] == st.canonical_problem(point)


def test_study_new_writes_a_template_that_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    status, out, _ = run_cli(["study", "new", "mine"], capsys)
    assert status == 0 and "studies/mine.toml" in out
    s = st.load_study(tmp_path / "studies" / "mine.toml")
    assert s.sweep_keys == ("beta",) and s.points[0].problem.K == 4
    before = (tmp_path / "studies" / "mine.toml").read_bytes()
    status, _, err = run_cli(["study", "new", "mine"], capsys)
    assert status == 2 and "refusing to overwrite" in err and err.count("\n") == 1
    assert (tmp_path / "studies" / "mine.toml").read_bytes() == before
    assert run_cli(["study", "new", "../evil"], capsys)[0] == 2


def test_cost_refused_before_solving(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path, TINY)
    status, _, err = run_cli(["study", path, "--max-cost", "1000"], capsys)
    assert status == 2 and err.startswith("error: refused:") and "--max-cost" in err
    assert not (tmp_path / ".cache").exists() and not (tmp_path / "results").exists()
    # only the points left to solve count: a finished study resumes under any --max-cost
    assert run_cli(["study", path, "--jobs", "1"], capsys)[0] == 0
    assert run_cli(["study", path, "--max-cost", "1000"], capsys)[0] == 0


@pytest.mark.parametrize("shipped", ["trainer-vs-paper", "partial-credit", "noisy-groups"])
def test_shipped_studies_parse(shipped):
    from pathlib import Path

    s = st.load_study(Path(__file__).resolve().parent.parent / "studies" / f"{shipped}.toml")
    assert s.name == shipped and len(s.points) >= 10


def test_dask_cluster_gives_the_same_bytes(tmp_path, monkeypatch, capsys):
    distributed = pytest.importorskip("dask.distributed")
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    monkeypatch.setenv("PYTHONPATH", str(root))
    path = write(tmp_path, TINY)
    outs = {}
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        for how, extra in (("local", ["--jobs", "1"]),
                           ("dask", ["--scheduler", cluster.scheduler_address])):
            work = tmp_path / how
            work.mkdir()
            monkeypatch.chdir(work)
            status, _, err = run_cli(["study", path, *extra, "--out", "out"], capsys)
            assert status == 0, err
            outs[how] = (work / "out" / "data.csv").read_bytes()
    assert outs["local"] == outs["dask"]


def test_two_studies_compile_in_one_two_column_article(tmp_path, monkeypatch, capsys):
    """Two studies pasted into one manuscript: no error, no clash, no overfull box, no ??."""
    import re
    import shutil
    import subprocess
    from pathlib import Path

    from conftest import require_tex

    require_tex()
    monkeypatch.chdir(tmp_path)
    four = write(tmp_path, """\
        [problem]
        ref = "0.25,0.25,0.25,0.25"
        rewards = "1,2/3,1/3,0"
        digits = "20"
        [sweep]
        group = ["2", "inf"]
        beta = ["0.1", "1"]
        """, "four")
    for path in (write(tmp_path, TINY), four):
        assert run_cli(["study", path, "--jobs", "1", "--out", f"doc/{path.stem}"], capsys)[0] == 0
    doc = tmp_path / "doc"
    shutil.copy(Path(__file__).resolve().parent.parent / "results" / "preamble.tex", doc)
    body = "".join(f"\\input{{{s}/{f}}}\n" for s in ("tiny", "four")
                   for f in ("section", "table", "figure"))
    (doc / "doc.tex").write_text("\\documentclass[twocolumn]{article}\n\\input{preamble}\n"
                                 "\\begin{document}\n" + body + "\\end{document}\n")
    for _ in range(2):
        run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
                             check=False, cwd=doc, capture_output=True, text=True, timeout=300)
    log = (doc / "doc.log").read_text(encoding="latin-1")
    assert run.returncode == 0, [line for line in log.splitlines() if line.startswith("!")][:3]
    overfull = [float(w) for w in re.findall(r"Overfull \\hbox \(([0-9.]+)pt too wide", log)]
    assert all(w <= 1.0 for w in overfull), overfull
    assert not re.findall(r"Reference `[^']*' .*undefined", log)
    assert "There were undefined references" not in log and "multiply defined" not in log


class _Terminal:
    """A stream that says it is a terminal, and keeps what is written."""

    def __init__(self, tty):
        self.tty, self.text = tty, ""

    def isatty(self):
        return self.tty

    def write(self, text):
        self.text += text

    def flush(self):
        pass


def test_progress_bar_with_eta_on_a_terminal_only():
    term = _Terminal(True)
    bar = st.Progress(4, stream=term, width=8)
    bar.step()
    bar.step()
    bar.close()
    frames = term.text.split("\r")[1:]
    assert frames[0].startswith("[........] 0/4") and "ETA" not in frames[0]
    assert frames[2].startswith("[####....] 2/4  ETA 0:0") and term.text.endswith("\n")
    quiet = _Terminal(False)
    bar = st.Progress(4, stream=quiet)
    bar.step()
    bar.close()
    assert quiet.text == ""


SHIPPED = sorted((Path(__file__).resolve().parent.parent / "studies").glob("*.toml"))


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_committed_studies_are_what_the_study_command_writes(tmp_path, capsys, path):
    """results/studies/NAME/ (written by `make`) is byte for byte what `grpo-derive study`
    writes now for studies/NAME.toml."""
    committed = path.parent.parent / "results" / "studies" / path.stem
    status, _, err = run_cli(["study", path, "--out", tmp_path / "out", "--jobs", "1"], capsys)
    assert status == 0, err
    fresh = tmp_path / "out"
    names = sorted(p.name for p in fresh.iterdir())
    assert names == sorted(p.name for p in committed.iterdir()), "run make and commit results/"
    for name in names:
        assert (fresh / name).read_bytes() == (committed / name).read_bytes(), (
            f"results/studies/{path.stem}/{name} is stale: run make and commit results/")
