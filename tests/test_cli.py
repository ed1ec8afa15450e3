import json
import subprocess
import sys

import pytest

from conftest import ROOT


def run(*args):
    return subprocess.run([sys.executable, "-m", "derive", *args], capture_output=True,
                          text=True, cwd=ROOT)


@pytest.mark.parametrize("args,needle", [
    (["stationary", "--ref", "0.1,0.8", "--rewards", "1,0", "--beta", "0.5"], "sum exactly to 1"),
    (["stationary", "--ref", "0.1,0.9", "--rewards", "1,0", "--beta", "abc"], "--beta"),
    (["stationary", "--ref", "0.1,0.9", "--rewards", "1,0", "--beta", "__import__('os')"], "not a number"),
    (["stationary", "--ref", "0.1,0.9", "--rewards", "1,0,2", "--beta", "1"], "one per answer"),
    (["stationary", "--ref", "0.1,0.9", "--rewards", "1,0", "--beta", "-1"], ">= 0"),
    (["stationary", "--ref", "0.1,0.9", "--rewards", "1,0", "--beta", "1", "--group", "1"], "--group"),
    (["stationary", "--ref", "0.1,0.9", "--rewards", "1,0", "--success", "1,0", "--beta", "1"], "not allowed"),
    (["stationary", "--ref", "0,1", "--rewards", "1,0", "--beta", "1"], "positive"),
    (["stationary", "--ref", "0.1,0.9", "--success", "1.5,0", "--beta", "1"], "[0, 1]"),
    (["stationary", "--ref", "0.1,0.9", "--rewards", "1,0", "--beta", "1", "--digits", "3"], "--digits"),
    (["stationary", "--ref", "0.1,0.9", "--rewards", "1,0", "--beta", "1", "--penalty", "k9"], "invalid choice"),
    (["frobnicate"], "invalid choice"),
    ([], "required"),
    (["summary", "--results", "/nonexistent"], "no readable"),
])
def test_bad_input_one_line_exit_2(args, needle):
    res = run(*args)
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("error: ") and needle in lines[0]
    assert "Traceback" not in res.stderr and res.stdout == ""


def test_help_explains():
    res = run("--help")
    assert res.returncode == 0 and "stationary" in res.stdout and "build" in res.stdout
    res = run("stationary", "--help")
    assert res.returncode == 0 and "--penalty" in res.stdout and "1/3" in res.stdout


def test_summary_of_committed_results():
    res = run("summary")
    assert res.returncode == 0
    assert "checks pass" in res.stdout.splitlines()[0]
