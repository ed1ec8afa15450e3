"""Studies (derive.study): parsing of study files, running a grid, outputs, the CLI."""

import textwrap
from fractions import Fraction

import pytest

from derive import study as st
from derive.solver import Problem

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
