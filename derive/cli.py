"""The command line: ``grpo-derive`` (also ``python -m derive``).

Subcommands:

``build``       derive, check and render everything into ``results/`` (what ``make`` runs)
``compute``     derive and check only, into a cache file
``render``      render ``results/`` from a cache file
``summary``     print the verification summary of ``results/verification.json``
``stationary``  every stationary policy of one problem, with certificates

Exit status: 0 done; 1 a check failed, or writing failed (one line
``error: cannot write ...``, the old output intact); 2 bad input or a refused
destination (one line ``error: ...``, nothing written); 130 interrupted
(SIGINT, ``error: interrupted``); 143 terminated (SIGTERM, ``error:
terminated``); 141, quietly, when standard output is a closed pipe.  User
strings are parsed as exact numbers (:mod:`derive.parsing`), never evaluated.
Heavy modules (SymPy, Jinja) are imported only by the subcommands that need
them, so ``stationary`` starts quickly.
"""

import argparse
import contextlib
import errno
import json
import os
import signal
import sys
import threading

from derive import outputs

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 128 + signal.SIGINT
EXIT_PIPE = 128 + 13  # SIGPIPE (not in the signal module on every system)
EXIT_TERMINATED = 128 + signal.SIGTERM


class UsageError(Exception):
    """Bad command-line input: reported as one ``error:`` line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def build_parser():
    parser = _Parser(
        prog="grpo-derive",
        description="Symbolic derivation engine for the stationary policies of GRPO "
                    "(arXiv:2502.18548v3, Vojnovic & Yun).",
        epilog="Examples:\n"
               "  grpo-derive build                 regenerate results/ (what `make` runs)\n"
               "  grpo-derive summary               print the verification summary\n"
               "  grpo-derive stationary --ref 0.1,0.9 --rewards 1,0 --beta 0.5 --group 2\n"
               "  grpo-derive stationary --ref 1/3,1/3,1/3 --success 0.8,0.3,0.1 "
               "--beta 1/4 --group 8 --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("build", help="derive, check and render everything into results/",
                       description="Derive every result, run every check, and write results/ "
                                   "atomically.  Exits 1 if any check fails (results/ is then "
                                   "left untouched).")
    p.add_argument("--out", default="results", help="output folder (default: results)")
    p.add_argument("--cache", help="also save the computed data to this file")
    p.add_argument("--quiet", action="store_true", help="no progress lines")

    p = sub.add_parser("compute", help="derive and check only, saving the data to a cache file",
                       description="Run the derivations and checks and save their data; "
                                   "exits 1 if any check fails.")
    p.add_argument("--cache", required=True, help="cache file to write (JSON)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")

    p = sub.add_parser("render", help="render results/ from a cache file",
                       description="Render results/ from the data saved by `compute`.")
    p.add_argument("--cache", required=True, help="cache file written by `compute`")
    p.add_argument("--out", default="results", help="output folder (default: results)")

    p = sub.add_parser("summary", help="print the verification summary",
                       description="Print the summary of results/verification.json.")
    p.add_argument("--results", default="results", help="results folder (default: results)")

    p = sub.add_parser(
        "stationary", help="every stationary policy of one problem",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Every stationary policy of GRPO for one question with K answers: "
                    "interior points and, where the support assumption allows, boundary "
                    "points; each with an interval enclosure, whether uniqueness in the "
                    "enclosure is certified, whether the GRPO iteration converges to it (stable; "
                    "attractor / repeller / saddle), and whether it maximises the paper's "
                    "objective J(.; pi_old = pi) (maximiser: global / local / no / unknown).  "
                    "With --group inf every interior policy also carries "
                    "its first finite-group correction c, pi_G = pi_inf + c/G + O(1/G^2) "
                    "(JSON: finite_group_correction).\n\nNumbers are exact: decimals (0.04, "
                    "1e-3) or fractions (1/3).",
        epilog="Example:\n  grpo-derive stationary --ref 0.1,0.9 --rewards 1,0 --beta 0.5 "
               "--group 2 --json")
    p.add_argument("--ref", required=True, metavar="P1,...,PK",
                   help="reference policy: K positive probabilities summing exactly to 1")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--rewards", metavar="R1,...,RK", help="deterministic reward of each answer")
    g.add_argument("--success", metavar="S1,...,SK",
                   help="Bernoulli success probability in [0, 1] of each answer (0/1 rewards)")
    p.add_argument("--beta", required=True, metavar="BETA",
                   help="regularisation constant >= 0, or a comma list to sweep several")
    p.add_argument("--group", default="2", metavar="G",
                   help="group size: an integer >= 2 or 'inf' (default: 2)")
    p.add_argument("--penalty", default="k3", choices=("k3", "k3-is"),
                   help="k3: GRPO as published (gradient of KL(pi_ref || pi)); k3-is: "
                        "importance-weighted k3 (KL(pi || pi_ref)); default k3")
    p.add_argument("--normalisation", default="shift-scale", choices=("shift-scale", "shift-only"),
                   help="advantage normalisation (default shift-scale)")
    p.add_argument("--digits", default="50", metavar="N",
                   help="significant digits of the output, 5..1000 (default 50)")
    p.add_argument("--json", action="store_true", help="machine-readable JSON output")
    p.add_argument("--no-certify", action="store_true",
                   help="skip the interval certificates (faster)")
    return parser


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that temporary files are removed."""


def _raise_terminated(signum, frame):
    raise Terminated


def _error_line(message):
    """``error: message`` on a line of its own on stderr (after a progress bar
    left mid-line); a closed stderr is ignored."""
    with contextlib.suppress(OSError, ValueError, _StreamFailed):
        if _ProgressBar.midline:
            sys.stderr.write("\n")
            _ProgressBar.midline = False
        sys.stderr.write(f"error: {message}\n")
        sys.stderr.flush()


class _StreamFailed(Exception):
    """Writing to standard output or standard error failed."""

    def __init__(self, name, error):
        super().__init__(f"cannot write to {name}: {error.strerror or error}")
        self.name, self.error = name, error


class _Stream:
    """A standard stream as the commands see it: a failed write raises
    :class:`_StreamFailed`, told apart from every other ``OSError``."""

    def __init__(self, stream, name):
        self._stream, self._name = stream, name

    def write(self, text):
        try:
            return self._stream.write(text)
        except OSError as exc:
            raise _StreamFailed(self._name, exc) from None

    def flush(self):
        try:
            return self._stream.flush()
        except OSError as exc:
            raise _StreamFailed(self._name, exc) from None

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _silence(stream):
    """Point a broken stream at /dev/null, so that the interpreter's last flush
    cannot fail again."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, stream.fileno())
        os.close(fd)


def main(argv=None):
    """Run one command and return its exit status (see the module docstring)."""
    in_main_thread = threading.current_thread() is threading.main_thread()
    if in_main_thread:
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Stream(stdout, "standard output"), _Stream(stderr, "standard error")
    try:
        try:
            args = build_parser().parse_args(argv)
            status = COMMANDS[args.command](args)
        except SystemExit as exc:  # --help: flush its text through the checks below
            if exc.code is not None and not isinstance(exc.code, int):
                raise
            status = exc.code or 0
        sys.stdout.flush()
        return status
    except UsageError as exc:
        _error_line(exc)
        return EXIT_USAGE
    except outputs.Refused as exc:
        _error_line(exc)
        return EXIT_USAGE
    except outputs.WriteFailed as exc:
        _error_line(exc)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        _error_line("interrupted")
        return EXIT_INTERRUPTED
    except Terminated:
        _error_line("terminated")
        return EXIT_TERMINATED
    except _StreamFailed as exc:
        _silence(stdout if exc.name == "standard output" else stderr)
        if exc.error.errno == errno.EPIPE:
            return EXIT_PIPE
        _error_line(exc)
        return EXIT_FAILURE
    except OSError as exc:  # a stream not seen through _Stream, or the file system
        if isinstance(exc, BrokenPipeError):
            _silence(stdout)
            _silence(stderr)
            return EXIT_PIPE
        _error_line(f"{exc.filename}: {exc.strerror}" if exc.filename else exc)
        return EXIT_FAILURE
    finally:
        sys.stdout, sys.stderr = stdout, stderr
        if in_main_thread:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def _refusal(option, value, action):
    """Run *action*; a refused destination becomes a usage error naming *option*."""
    try:
        return action()
    except outputs.Refused as exc:
        raise UsageError(f"{option} {value}: {exc}") from None


def _build(args):
    from derive import pipeline

    _refusal("--out", args.out, lambda: outputs.prepare_folder(args.out))
    if args.cache:
        _refusal("--cache", args.cache, lambda: pipeline.prepare_cache(args.cache))
    progress = None if args.quiet else pipeline.progress_printer()
    computed = pipeline.compute(progress)
    if args.cache:
        pipeline.save_cache(computed, args.cache)
    return _write(computed, args.out)


def _write(computed, out, files=None):
    from derive import pipeline

    try:
        ver = _refusal("--out", out, lambda: pipeline.write_results(computed, out, files))
    except pipeline.ChecksFailed as exc:
        for line in pipeline.summary_lines(pipeline.verification(computed)):
            print(line, file=sys.stderr)
        print(f"verification failed: {exc}; {out}/ left unchanged", file=sys.stderr)
        return 1
    for line in pipeline.summary_lines(ver):
        print(line)
    return 0


def _compute(args):
    from derive import pipeline

    _refusal("--cache", args.cache, lambda: pipeline.prepare_cache(args.cache))
    computed = pipeline.compute(None if args.quiet else pipeline.progress_printer())
    ver = pipeline.verification(computed)
    if ver["summary"]["failed"]:
        for line in pipeline.summary_lines(ver):
            print(line, file=sys.stderr)
        return 1
    pipeline.save_cache(computed, args.cache)
    return 0


def _render(args):
    import jinja2

    from derive import pipeline

    try:
        computed = pipeline.load_cache(args.cache)
    except pipeline.Malformed as exc:
        raise UsageError(f"--cache {args.cache}: {exc}; run `grpo-derive compute` to make "
                         "one") from None
    _refusal("--out", args.out, lambda: outputs.prepare_folder(args.out))
    try:
        files = pipeline.render_files(computed)
    except (jinja2.TemplateError, KeyError, TypeError, AttributeError, IndexError,
            ValueError) as exc:
        reason = str(exc).splitlines()[0][:100] if str(exc) else exc.__class__.__name__
        raise UsageError(f"--cache {args.cache}: does not fit this version's templates "
                         f"({reason}); run `grpo-derive compute` again") from None
    return _write(computed, args.out, files)


def _summary(args):
    from derive import pipeline

    path = os.path.join(args.results, "verification.json")
    if not os.path.isfile(path):
        raise UsageError(f"no readable {path}; run `grpo-derive build` first")
    try:
        ver = pipeline.load_verification(path)
    except pipeline.Malformed as exc:
        raise UsageError(f"{path}: {exc}; run `grpo-derive build` to rewrite it") from None
    for line in pipeline.summary_lines(ver):
        print(line)
    return 0 if ver["summary"]["failed"] == 0 else 1


def _stationary(args):
    from derive.parsing import ParseError, parse_group, parse_list, parse_number

    try:
        ref = parse_list(args.ref, "--ref")
        rewards = parse_list(args.rewards, "--rewards") if args.rewards else None
        success = parse_list(args.success, "--success") if args.success else None
        betas = parse_list(args.beta, "--beta")
        group = parse_group(args.group)
        digits = parse_number(args.digits, "--digits")
    except ParseError as exc:
        raise UsageError(str(exc)) from None
    if digits.denominator != 1 or not 5 <= digits <= 1000:
        raise UsageError(f"--digits: {args.digits!r} must be an integer from 5 to 1000")
    digits = int(digits)
    if any(r <= 0 for r in ref) or sum(ref) != 1:
        raise UsageError("--ref must be positive probabilities that sum exactly to 1 "
                         f"(got sum {sum(ref)})")
    K = len(ref)
    if K < 2:
        raise UsageError("--ref needs at least 2 answers")
    given = rewards if rewards is not None else success
    if len(given) != K:
        which = "--rewards" if rewards is not None else "--success"
        raise UsageError(f"{which} has {len(given)} values but --ref has {K}; give one per answer")
    if success is not None and any(not 0 <= s <= 1 for s in success):
        raise UsageError("--success values must be probabilities in [0, 1]")
    if any(b < 0 for b in betas):
        raise UsageError("--beta must be >= 0")

    from derive.solver import Problem, stationary_policies

    problems = []
    for beta in betas:
        try:
            if rewards is not None:
                prob = Problem.deterministic(ref, rewards, beta, group, penalty=args.penalty,
                                             normalisation=args.normalisation)
            else:
                prob = Problem.bernoulli(ref, success, beta, group, penalty=args.penalty,
                                         normalisation=args.normalisation)
        except ValueError as exc:
            raise UsageError(str(exc).splitlines()[0]) from None
        problems.append(prob)

    results = []
    bar = _ProgressBar(len(problems)) if len(problems) > 1 and sys.stderr.isatty() else None
    for prob in problems:
        results.append(stationary_policies(prob, digits=digits, certify=not args.no_certify))
        if bar:
            bar.step()
    if bar:
        bar.close()

    records = [_problem_record(prob, sols, digits) for prob, sols in zip(problems, results)]
    if args.json:
        out = records[0] if len(records) == 1 else {"sweep": records}
        print(json.dumps(out, indent=2))
    else:
        for rec in records:
            _print_human(rec)
    return 0


def _fmt(x, digits):
    import mpmath

    if x == 0:
        return "0." + "0" * (digits - 1)
    return mpmath.nstr(x, digits, strip_zeros=False, min_fixed=-6, max_fixed=digits + 2)


def _problem_record(prob, sols, digits):
    import mpmath

    from derive.certify import printed_enclosure

    rec = {
        "problem": {
            "ref": [str(r) for r in prob.ref],
            "values": [str(v) for v in prob.values],
            "reward_distributions": [[str(w) for w in row] for row in prob.rho],
            "beta": str(prob.beta),
            "group": "inf" if prob.group is None else prob.group,
            "penalty": prob.penalty,
            "normalisation": prob.normalisation,
        },
        "digits": digits,
        "stationary": [],
    }
    from derive.maximiser import maximiser

    for s in sols:
        policy = [_fmt(x, digits) for x in s.policy]
        verdict = maximiser(prob, s, digits)
        rec["stationary"].append({
            "policy": policy,
            "kind": s.kind,
            "classification": s.classification,
            "residual": mpmath.nstr(s.residual, 5),
            "enclosure": printed_enclosure(s.enclosure, policy, digits + 5),
            "certified": bool(s.certified),
            "stable": bool(s.stable),
            "maximiser": verdict.verdict,
            "maximiser_note": verdict.note,
            "note": s.note,
        })
        if prob.group is None:
            c = s.finite_group_correction
            rec["stationary"][-1]["finite_group_correction"] = (
                None if c is None else [_fmt(v, digits) for v in c])
    return rec


def _short(text):
    """A policy coordinate to 12 significant digits for the human summary."""
    import mpmath

    return mpmath.nstr(mpmath.mpf(text), 12, min_fixed=-6, max_fixed=14)


def _print_human(rec):
    pr = rec["problem"]
    G = pr["group"]
    print(f"GRPO stationary policies: beta = {pr['beta']}, G = {G}, penalty {pr['penalty']}, "
          f"{pr['normalisation']} normalisation, pi_ref = ({', '.join(pr['ref'])})")
    if not rec["stationary"]:
        print("  no stationary policy found")
    for i, s in enumerate(rec["stationary"], 1):
        short = ", ".join(_short(p) for p in s["policy"])
        cert = "certified unique in its enclosure" if s["certified"] else "uniqueness NOT certified"
        print(f"  {i}. pi = ({short})  {s['kind']}, {s['classification']}, "
              f"{'stable' if s['stable'] else 'unstable'}; maximiser of J(.; pi): "
              f"{s['maximiser']}; {cert}; residual {s['residual']}")
        if s["maximiser_note"]:
            print(f"     maximiser: {s['maximiser_note']}")
        if s.get("finite_group_correction"):
            c = ", ".join(_short(v) for v in s["finite_group_correction"])
            print(f"     finite groups: pi_G = pi + c/G + O(1/G^2), c = ({c})")
        if s["note"]:
            print(f"     note: {s['note']}")


class _ProgressBar:
    """A minimal progress bar on stderr, for sweeps on a terminal.

    ``midline`` is true while a bar is drawn without its closing newline, so
    that an error line starts on a line of its own.
    """

    midline = False

    def __init__(self, total, width=30):
        self.total, self.done, self.width = total, 0, width
        self._draw()

    def _draw(self):
        filled = self.width * self.done // self.total
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (self.width - filled)}] "
                         f"{self.done}/{self.total}")
        sys.stderr.flush()
        _ProgressBar.midline = True

    def step(self):
        self.done += 1
        self._draw()

    def close(self):
        sys.stderr.write("\n")
        sys.stderr.flush()
        _ProgressBar.midline = False


COMMANDS = {"build": _build, "compute": _compute, "render": _render, "summary": _summary,
            "stationary": _stationary}
