"""Bad input to ``grpo-derive stationary``: exit 2 and exactly one ``error:`` line, never a traceback.

The table is run in-process through :func:`derive.cli.main` (fast).  Each case
also names a fragment that the error line must contain, so that a case cannot
pass by failing for an unrelated reason.  Refusals by the cost estimate are in
the table too: they must be decided before any work is done.
"""

import contextlib
import io

import pytest

from derive import cli

OK = ["--ref", "0.1,0.9", "--rewards", "1,0", "--beta", "0.5"]


def _args(**override):
    """``stationary`` argv from a valid base problem, with options replaced or removed (``None``)."""
    base = {"--ref": "0.1,0.9", "--rewards": "1,0", "--beta": "0.5"}
    base.update(override)
    argv = ["stationary"]
    for key, value in base.items():
        if value is not None:
            argv += [key, value]
    return argv


def _uniform(K):
    return ",".join([f"1/{K}"] * K)


LONG_DIGITS = "9" * 5000
DEEP_DECIMAL = "0." + "0" * 5000 + "1"

CASES = [
    # -- numbers: forms that are not numbers ------------------------------------
    (_args(**{"--beta": "abc"}), "not a number"),
    (_args(**{"--beta": ""}), "empty"),
    (_args(**{"--beta": " "}), "empty"),
    (_args(**{"--beta": "nan"}), "not a number"),
    (_args(**{"--beta": "inf"}), "not a number"),
    (_args(**{"--beta": "1/0"}), "divides by zero"),
    (_args(**{"--beta": "1//2"}), "not a number"),
    (_args(**{"--beta": "1/2/3"}), "not a number"),
    (_args(**{"--beta": "0x10"}), "not a number"),
    (_args(**{"--beta": "1_000"}), "not a number"),
    (_args(**{"--beta": "__import__('os')"}), "not a number"),
    (_args(**{"--beta": "2**3"}), "not a number"),
    (_args(**{"--beta": "1+1"}), "not a number"),
    (_args(**{"--beta": "1e"}), "not a number"),
    (_args(**{"--beta": "e5"}), "not a number"),
    (_args(**{"--beta": "."}), "not a number"),
    (_args(**{"--beta": "1 2"}), "not a number"),
    (_args(**{"--beta": "1e+"}), "not a number"),
    (_args(**{"--beta": "/2"}), "not a number"),
    (_args(**{"--beta": "sqrt(2)"}), "not a number"),
    # -- numbers: non-ASCII digits --------------------------------------------------
    (_args(**{"--beta": "\u0660.\u0665"}), "non-ASCII"),            # Arabic-Indic 0.5
    (_args(**{"--beta": "\uff14"}), "non-ASCII"),                   # fullwidth 4
    (_args(**{"--beta": "\uff11e3"}), "non-ASCII"),
    (_args(**{"--beta": "\u00bd"}), "non-ASCII"),                   # vulgar fraction 1/2
    (_args(**{"--beta": "\u0967"}), "non-ASCII"),                   # Devanagari 1
    (_args(**{"--ref": "\u0660.\u0665,\u0660.\u0665"}), "non-ASCII"),
    # -- numbers: magnitudes (never Python's int/str limit) ----------------------------
    (_args(**{"--beta": "1e5000"}), "exponent out of range"),
    (_args(**{"--beta": "1e-9999"}), "exponent out of range"),
    (_args(**{"--beta": "1e99999999999999999999"}), "exponent out of range"),
    (_args(**{"--beta": "1e1001"}), "exponent out of range"),
    (_args(**{"--beta": "2e1000"}), "out of range"),
    (_args(**{"--beta": "0.5e-1000"}), "out of range"),
    (_args(**{"--beta": "1e1000/1e-1000"}), "out of range"),
    (_args(**{"--beta": LONG_DIGITS}), "too long"),
    (_args(**{"--beta": DEEP_DECIMAL}), "too long"),
    (_args(**{"--rewards": LONG_DIGITS + ",0"}), "too long"),
    (_args(**{"--rewards": "1e101,0"}), "1e100"),
    (_args(**{"--ref": _uniform(3), "--rewards": "0,1e-101,1"}), "smallest gap"),
    # -- lists ------------------------------------------------------------------------
    (_args(**{"--ref": ""}), "empty list"),
    (_args(**{"--ref": "0.5,,0.5"}), "item 2"),
    (_args(**{"--ref": "0.5,0.5,"}), "item 3"),
    (_args(**{"--ref": ",0.5,0.5"}), "item 1"),
    (_args(**{"--ref": "0.5;0.5"}), "not a number"),
    (_args(**{"--ref": "0.5 0.5"}), "not a number"),
    (_args(**{"--rewards": ""}), "empty list"),
    (_args(**{"--rewards": "1,,0"}), "item 2"),
    (_args(**{"--rewards": None, "--success": ""}), "empty list"),
    (_args(**{"--rewards": None, "--success": "0.5,"}), "item 2"),
    (_args(**{"--beta": "0.5,,1"}), "item 2"),
    (_args(**{"--beta": ","}), "item 1"),
    # -- the reference policy -------------------------------------------------------------
    (_args(**{"--ref": "1", "--rewards": "1"}), "at least 2"),
    (_args(**{"--ref": "0.1,0.8"}), "sum exactly to 1"),
    (_args(**{"--ref": "0,1"}), "positive"),
    (_args(**{"--ref": "-0.5,1.5"}), "positive"),
    (_args(**{"--ref": "1.5,-0.5"}), "positive"),
    (_args(**{"--ref": "1/3,1/3,1/3.0001", "--rewards": "0,1,2"}), "sum exactly to 1"),
    (_args(**{"--ref": "0.1,0.9000000000000000000000000000001"}), "sum exactly to 1"),
    # -- rewards and success probabilities --------------------------------------------------
    (_args(**{"--rewards": "1,0,2"}), "one per answer"),
    (_args(**{"--rewards": "1"}), "one per answer"),
    (_args(**{"--rewards": "a,b"}), "not a number"),
    (_args(**{"--rewards": None, "--success": "1.5,0"}), "[0, 1]"),
    (_args(**{"--rewards": None, "--success": "-0.1,0.5"}), "[0, 1]"),
    (_args(**{"--rewards": None, "--success": "0.5"}), "one per answer"),
    (_args(**{"--success": "1,0"}), "not allowed"),
    (_args(**{"--rewards": None}), "required"),
    # -- beta ---------------------------------------------------------------------------------
    (_args(**{"--beta": "-1"}), ">= 0"),
    (_args(**{"--beta": "0.5,-1"}), ">= 0"),
    (_args(**{"--beta": "-1e-1000"}), ">= 0"),
    (_args(**{"--beta": None}), "required"),
    # -- group size ------------------------------------------------------------------------------
    (_args(**{"--group": "1"}), "--group"),
    (_args(**{"--group": "0"}), "--group"),
    (_args(**{"--group": "-3"}), "--group"),
    (_args(**{"--group": "2.5"}), "--group"),
    (_args(**{"--group": "x"}), "--group"),
    (_args(**{"--group": ""}), "--group"),
    (_args(**{"--group": "\uff14"}), "--group"),
    (_args(**{"--group": "1e3"}), "--group"),
    (_args(**{"--group": "99999999999999999999"}), "--group"),
    (_args(**{"--group": "9" * 5000}), "--group"),
    (_args(**{"--group": "infinity2"}), "--group"),
    # -- digits, penalty, normalisation, max-cost ----------------------------------------------------
    (_args(**{"--digits": "3"}), "--digits"),
    (_args(**{"--digits": "1001"}), "--digits"),
    (_args(**{"--digits": "5.5"}), "--digits"),
    (_args(**{"--digits": ""}), "--digits"),
    (_args(**{"--digits": "1e2"}), "--digits"),
    (_args(**{"--digits": "\uff15\uff10"}), "--digits"),
    (_args(**{"--digits": "9" * 5000}), "--digits"),
    (_args(**{"--penalty": "k9"}), "invalid choice"),
    (_args(**{"--normalisation": "scale-only"}), "invalid choice"),
    # -- variants: combinations that make no sense, reward distributions, presets ---------------------
    (_args(**{"--kl-in": "reward", "--penalty": "k3-is"}), "without importance weight"),
    (_args(**{"--kl-in": "everywhere"}), "invalid choice"),
    (_args(**{"--normalisation": "shift-only", "--std": "sample"}), "--std applies to"),
    (_args(**{"--normalisation": "none", "--std-eps": "1e-4"}), "--std-eps applies to"),
    (_args(**{"--std-eps": "-1e-4"}), "negative"),
    (_args(**{"--std-eps": "abc"}), "--std-eps"),
    (_args(**{"--std": "bessel"}), "invalid choice"),
    (_args(**{"--preset": "deepspeed"}), "invalid choice"),
    (_args(**{"--beta": None}), "--beta is required"),
    (_args(**{"--rewards": None}) + ["--reward-dist", "0:0.5,1:0.5"], "given 1 times but --ref has 2"),
    (_args(**{"--rewards": None}) + ["--reward-dist", "0:0.5,1:0.4", "--reward-dist", "1:1"],
     "not exactly 1"),
    (_args(**{"--rewards": None}) + ["--reward-dist", "0:0.5,0:0.5", "--reward-dist", "1:1"],
     "appears twice"),
    (_args(**{"--rewards": None}) + ["--reward-dist", "0-0.5,1:0.5", "--reward-dist", "1:1"],
     "is not V:P"),
    (_args(**{"--rewards": None}) + ["--reward-dist", "0:1.5,1:-0.5", "--reward-dist", "1:1"],
     "not in [0, 1]"),
    (_args(**{"--rewards": None}) + ["--reward-dist", "__import__('os'):1", "--reward-dist", "1:1"],
     "not a number"),
    (_args() + ["--reward-dist", "0:1"], "not allowed with argument"),
    (_args(**{"--ref": _uniform(5), "--rewards": "1,2,3,4,5", "--penalty": "k2-is"}),
     "at most 4 answers"),
    (_args(**{"--max-cost": "0"}), "--max-cost"),
    (_args(**{"--max-cost": "-5"}), "--max-cost"),
    (_args(**{"--max-cost": "abc"}), "--max-cost"),
    (_args(**{"--max-cost": ""}), "--max-cost"),
    # -- repeated and unknown options ---------------------------------------------------------------------
    (_args() + ["--beta", "1"], "--beta given twice"),
    (_args() + ["--beta=1"], "--beta given twice"),
    (_args() + ["--ref", "0.5,0.5"], "--ref given twice"),
    (_args() + ["--rewards", "0,1"], "--rewards given twice"),
    (_args() + ["--group", "2", "--group", "4"], "--group given twice"),
    (_args() + ["--json", "--json"], "--json given twice"),
    (_args() + ["--no-certify", "--no-certify"], "--no-certify given twice"),
    (_args() + ["--penalty", "k3", "--penalty", "k3-is"], "--penalty given twice"),
    (_args() + ["--foo"], "unrecognized"),
    (_args() + ["--quiet"], "unrecognized"),
    (["stationary", "--ref"], "expected one argument"),
    (_args() + ["--beta"], "expected one argument"),
    (["frobnicate"], "invalid choice"),
    ([], "required"),
    # -- refused by the cost estimate, before any work ---------------------------------------------------
    (_args(**{"--ref": _uniform(3), "--rewards": "0,1,2", "--group": str(10**14)}), "memory"),
    (_args(**{"--ref": "0.5,0.5", "--group": str(10**9), "--max-cost": "1e6"}), "--max-cost"),
    (_args(**{"--ref": _uniform(3), "--rewards": "0,1,2", "--group": str(10**6)}), "memory"),
    (_args(**{"--ref": _uniform(3), "--rewards": "0,1,2", "--group": "1024"}), "refused: the preference tables need"),
    (_args(**{"--ref": _uniform(4), "--rewards": "0,1,2,3", "--group": "100"}), "--max-cost"),
    # (50 distinct rewards at G = 2 and 1000 0/1 rewards are answered: derive.solve.reduced; not these)
    (_args(**{"--ref": _uniform(50), "--rewards": ",".join(map(str, range(50))), "--group": "3"}), "--max-cost"),
    (_args(**{"--ref": _uniform(50), "--rewards": ",".join(map(str, range(50))), "--penalty": "k3-is"}),
     "--max-cost"),
    (_args(**{"--ref": _uniform(1000), "--rewards": None,
              "--success": ",".join(f"{i + 1}/1002" for i in range(1000))}), "--max-cost"),
    (_args(**{"--ref": _uniform(8), "--rewards": ",".join(map(str, range(8))),
              "--group": "1000000000"}), "memory"),
    (_args(**{"--max-cost": "10"}), "is above --max-cost 10;"),
    (_args(**{"--ref": _uniform(3), "--rewards": "0,1,2", "--group": "400",
              "--beta": "0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8"}), "--max-cost"),
    (_args(**{"--ref": _uniform(1001), "--rewards": ",".join(map(str, range(1001)))}), "a table of"),
    (_args(**{"--beta": ",".join(str(i + 1) for i in range(1000))}), "a sweep of 1000 values"),
    (_args(**{"--penalty": "k3-is", "--beta": "1e-20"}), "beyond the searched"),
    (_args(**{"--penalty": "k3-is", "--beta": "1e-1000"}), "beyond the searched"),
]


def _run(argv):
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            code = cli.main(argv)
        except SystemExit as exc:        # argparse's own exits (--help) are not expected here
            code = exc.code
    return code, out.getvalue(), err.getvalue()


def test_the_table_is_large_enough():
    assert len(CASES) >= 80


@pytest.mark.parametrize("argv,needle", CASES, ids=[f"case{i:03d}" for i in range(len(CASES))])
def test_bad_input_gives_one_error_line_and_exit_2(argv, needle):
    code, out, err = _run(argv)
    assert code == 2, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    assert needle in lines[0], lines[0]
    assert "Traceback" not in err and out == ""
    assert len(lines[0]) < 600            # one readable line, whatever the input's length


def test_cost_refusal_gives_the_estimate_and_what_to_do():
    _, _, err = _run(_args(**{"--ref": _uniform(3), "--rewards": "0,1,2", "--group": "800"}))
    assert "estimated cost" in err and "operations" in err
    assert "--group inf" in err and "fewer reward levels" in err


def test_negative_values_are_values_not_options():
    for argv in (["stationary", "--ref", "0.2,0.3,0.5", "--rewards", "-1,-2,-3", "--beta", "0.5"],
                 ["stationary", "--ref", "0.2,0.3,0.5", "--rewards=-1,-2,-3", "--beta", "0.5"],
                 ["stationary", "--ref", "0.2,0.3,0.5", "--rewards", "-1", "--rewards", "2"]):
        code, out, err = _run(argv)
        if argv[-2] == "--rewards":      # the third: given twice
            assert code == 2 and "given twice" in err
            continue
        assert code == 0, err
        assert "pi = (0.653112887415, 0.15590410696, 0.190983005625)" in out
    # a negative reward list and a shifted one describe the same problem (shift invariance)
    _, shifted, _ = _run(["stationary", "--ref", "0.2,0.3,0.5", "--rewards", "3,2,1", "--beta", "0.5"])
    assert "pi = (0.653112887415, 0.15590410696, 0.190983005625)" in shifted


def test_max_cost_lets_a_refused_problem_go_ahead():
    argv = _args(**{"--max-cost": "10"})
    assert _run(argv)[0] == 2
    argv = _args(**{"--max-cost": "1e12"})
    code, out, err = _run(argv)
    assert code == 0 and "0.585410196625" in out, err


def test_help_explains_every_output_field_and_the_cost_limit():
    code, text, _ = _run(["stationary", "--help"])
    assert code == 0
    for word in ("kind", "classification", "stable", "certified", "residual", "enclosure",
                 "note", "search", "sweep", "undecided", "--max-cost", "COST", "--rewards=-1,-2,-3",
                 "C(G+m-2, m-1)"):
        assert word in text, word
