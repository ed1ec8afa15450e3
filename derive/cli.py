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

from derive.model.estimators import PENALTY_NAMES
from derive.model.normalisations import NORMALISATION_NAMES
from derive.options import (
    MAX_REWARD_EXPONENT,
    PRESET_NAMES,
    UsageError,
    build_problem,
    check_numbers,
    problem_record,
    variant_options,
)
from derive.output import outputs

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 128 + signal.SIGINT
EXIT_PIPE = 128 + 13  # SIGPIPE (not in the signal module on every system)
EXIT_TERMINATED = 128 + signal.SIGTERM

# Mirrors of derive.solve.solver.DEFAULT_MAX_COST and OPERATIONS_PER_SECOND (the solver is
# imported lazily; tests check that the two agree).
DEFAULT_MAX_COST = 6e7
OPERATIONS_PER_SECOND = 3e6

_STATIONARY_EPILOG = """\
OUTPUT (one entry per stationary policy; --json gives the same fields)
  policy          pi(o) for every answer, in the order of --ref, to --digits digits
  kind            interior (every pi(o) > 0) or boundary (some pi(o) = 0)
  classification  the point as a rest point of the GRPO iteration, from the eigenvalues
                  of its Jacobian on the logits: attractor (all negative real parts),
                  repeller (all positive), saddle (mixed), undecided (an eigenvalue is
                  zero within the precision, or a continuum at beta = 0: not decided);
                  boundary-attractor, boundary-repeller, boundary-saddle for boundary
                  points
  stable          true when the GRPO iteration converges to the point from nearby
                  (attractor or boundary-attractor), false when the eigenvalues say it
                  does not, null (human output: "stability undecided") when undecided
  maximiser       whether pi maximises the paper's J(.; pi_old = pi): global, local,
                  no or unknown (maximiser_note: how it was decided)
  certified       true when an interval Newton/Krawczyk test proves that the enclosure
                  holds exactly one solution of the stationarity system
  enclosure       an interval [lo, hi] per coordinate that provably contains the policy
                  when certified (otherwise the point itself)
  residual        max over answers of |g(o) - E_pi g| (g the gradient of the objective,
                  arXiv:2502.18548v3, Eq. (11)), divided by the size of the largest term
                  that makes up g: a relative error, about 10^-(digits+10) at a root
  note            why a certificate or a classification is missing, and other caveats
  finite_group_correction
                  (--group inf, interior points) c in pi_G = pi_inf + c/G + O(1/G^2)
  problem, digits the problem as parsed (exact rationals) and the precision
  search          (JSON) what the root search covered (a grid and its range, and whether
                  a root provably exists)
  none_found      (JSON, only when the list is empty) "no stationary policy found by
                  the search" (the search is not a proof that none exists), or "a
                  stationary policy exists but the search did not locate it" (a
                  failure: exit status 1 and an error line)
  sweep           (JSON) one record per beta when --beta is a list; on Ctrl-C
                  (or SIGTERM) the finished points are printed, with
                  "interrupted": true, "finished" and "requested", before the
                  line "error: interrupted" (exit status 130; 143 for SIGTERM)

COST
  Before solving, the work is estimated from the terms of the preference sums
  (C(G+m-2, m-1) multinomial coefficients for m reward levels, G binomial terms for two
  levels up to G = 3000, and beyond a window of about 40 sqrt(G) terms around the mode of
  the binomial), the number of unknowns (a grid of about 13^n points for n unknowns) and
  the K x K stability Jacobian (K^3).  Problems above --max-cost (default 6e7 operations,
  about 20 s) are refused with the estimate; use --group inf, fewer reward levels or
  answers, or a larger --max-cost.  Problems whose tables need more than 1.5 GiB are
  refused whatever --max-cost says.  A --beta sweep adds the costs of its points.
  Two levels at G > 3000: when only the interval certificates (ball arithmetic over
  every term of the window; G = 10^9 takes seconds) exceed these limits, the policies
  are answered without them, and their note says so.

Examples:
  grpo-derive stationary --ref 0.1,0.9 --rewards 1,0 --beta 0.5 --group 2 --json
  grpo-derive stationary --ref 1/3,1/3,1/3 --rewards -1,0,2 --beta 1/4 --group 8
  grpo-derive stationary --ref 0.3,0.7 --success 0.8,0.3 --group 8 --preset trl
  grpo-derive stationary --ref 0.2,0.8 --reward-dist 0:0.5,2:0.5 --reward-dist 1:1 \\
      --beta 1/2 --group 4 --penalty k2-is --std sample --std-eps 1e-4
"""


class _StoreOnce(argparse._StoreAction):
    """``store``, refusing an option given twice (argparse would keep the last value)."""

    def __call__(self, parser, namespace, values, option_string=None):
        _mark_given(parser, namespace, self, option_string)
        super().__call__(parser, namespace, values, option_string)


class _StoreTrueOnce(argparse._StoreTrueAction):
    """``store_true``, refusing a flag given twice."""

    def __call__(self, parser, namespace, values, option_string=None):
        _mark_given(parser, namespace, self, option_string)
        super().__call__(parser, namespace, values, option_string)


class _AppendEach(argparse._AppendAction):
    """``append``: an option given once per answer (``--reward-dist``)."""


def _mark_given(parser, namespace, action, option_string):
    seen = namespace.__dict__.setdefault("_given_options", set())
    if action.dest in seen:
        name = "/".join(action.option_strings) if len(action.option_strings) > 1 else option_string
        raise UsageError(f"{name} given twice; give each option once "
                         "(a comma list in --beta sweeps several values)")
    seen.add(action.dest)


class _Parser(argparse.ArgumentParser):
    """``ArgumentParser`` with one-line errors, options given at most once, and negative values.

    argparse reads a value that starts with ``-`` (``--rewards -1,-2``) as an
    option; a value-taking option followed by such a token is rewritten as
    ``--rewards=-1,-2`` before parsing.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.register("action", "store", _StoreOnce)
        self.register("action", None, _StoreOnce)
        self.register("action", "store_true", _StoreTrueOnce)

    def error(self, message):
        raise UsageError(message.splitlines()[0] if message else "bad arguments")

    def parse_known_args(self, args=None, namespace=None):
        args = list(sys.argv[1:] if args is None else args)
        joined = []
        i = 0
        while i < len(args):
            tok = args[i]
            action = self._option_string_actions.get(tok)
            if (action is not None and action.nargs is None and action.option_strings
                    and isinstance(action, (_StoreOnce, _AppendEach)) and i + 1 < len(args)
                    and args[i + 1].startswith("-") and not args[i + 1].startswith("--")
                    and args[i + 1] not in self._option_string_actions):
                joined.append(f"{tok}={args[i + 1]}")
                i += 2
                continue
            joined.append(tok)
            i += 1
        return super().parse_known_args(joined, namespace)


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
                    "(JSON: finite_group_correction; the paper's k3 and k3-is only).\n\n"
                    "Every GRPO variant is solved: the penalty estimator (--penalty), where the KL "
                    "enters (--kl-in), the normalisation (--normalisation, --std, --std-eps), or a "
                    "trainer's defaults (--preset).  k2 and k1-is are solved as k3-is (the same "
                    "expected gradient up to a constant); k1 in the loss has a constant gradient, "
                    "so beta drops out; k2-is, and k2 or k3 in the reward, keep every face "
                    "invariant, so the stationary points of every face are listed.  Variants other "
                    "than the paper's take at most 4 answers, and their maximiser verdict is "
                    "'unknown'.\n\n"
                    "Numbers are exact: decimals (0.04, 1e-3) or fractions (1/3), in ASCII "
                    "digits, with at most 400 characters and a magnitude from 1e-1000 to 1e1000 "
                    "(or 0).  Negative values may follow the option (--rewards -1,-2,-3) or be "
                    "attached with '=' (--rewards=-1,-2,-3).  Each option may be given once.",
        epilog=_STATIONARY_EPILOG)
    p.add_argument("--ref", required=True, metavar="P1,...,PK",
                   help="reference policy: K >= 2 probabilities from 1e-1000 to 1 summing "
                        "exactly to 1")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--rewards", metavar="R1,...,RK",
                   help=f"deterministic reward of each answer (|r| <= 1e{MAX_REWARD_EXPONENT})")
    g.add_argument("--success", metavar="S1,...,SK",
                   help="Bernoulli success probability in [0, 1] of each answer (0/1 rewards)")
    g.add_argument("--reward-dist", metavar="V:P,...", action=_AppendEach,
                   help="finite reward distribution of one answer (value:probability pairs, "
                        "probabilities summing exactly to 1); give it once per answer, in the "
                        "order of --ref")
    p.add_argument("--beta", metavar="BETA",
                   help="regularisation constant: 0 or from 1e-1000 to 1e1000, or a comma list "
                        "to sweep several (required unless --preset gives one)")
    p.add_argument("--group", default="2", metavar="G",
                   help="group size: an integer from 2 to 10^18 or 'inf' (default: 2); large G "
                        "with several reward levels is refused by the cost limit")
    p.add_argument("--penalty", choices=PENALTY_NAMES,
                   help="per-sample KL estimator with rho = pi_ref/pi: k1 = -log rho, "
                        "k2 = (log rho)^2/2, k3 = rho - 1 - log rho (GRPO as published; the "
                        "gradient of KL(pi_ref || pi)); '-is' multiplies it by pi/pi_old (k3-is: "
                        "KL(pi || pi_ref)); default k3, and k1 with --kl-in reward")
    p.add_argument("--kl-in", choices=("loss", "reward"),
                   help="where the KL enters: loss (a penalty term, the paper) or reward (beta "
                        "times the estimate subtracted from each sampled reward before the "
                        "normalisation, no gradient through it); default loss")
    p.add_argument("--normalisation", choices=NORMALISATION_NAMES,
                   help="advantage normalisation: shift-scale (r - mean)/(std + eps), the paper; "
                        "shift-only r - mean (Dr. GRPO); none (r itself); default shift-scale")
    p.add_argument("--std", choices=("population", "sample"),
                   help="the std of shift-scale: population (divide by G, the paper) or sample "
                        "(Bessel, divide by G - 1); default population")
    p.add_argument("--std-eps", metavar="E",
                   help="added to the std of shift-scale, >= 0 (common: 1e-4, 1e-6); default 0")
    p.add_argument("--preset", choices=tuple(PRESET_NAMES),
                   help="a trainer's defaults (penalty, kl-in, normalisation, std, std-eps and "
                        "beta); explicit options override it: " + ", ".join(PRESET_NAMES))
    p.add_argument("--digits", default="50", metavar="N",
                   help="significant digits of the output, 5..1000 (default 50)")
    p.add_argument("--max-cost", default=None, metavar="OPS",
                   help="refuse problems whose estimated cost exceeds OPS operations "
                        f"(default {DEFAULT_MAX_COST:.0e}, about {DEFAULT_MAX_COST / OPERATIONS_PER_SECOND:.0f} s; see COST below)")
    p.add_argument("--json", action="store_true", help="machine-readable JSON output")
    p.add_argument("--latex", action="store_true",
                   help="print a paste-ready LaTeX fragment instead (the derived condition of "
                        "the variant and a table of the policies, verified before printing; "
                        "needs results/preamble.tex in the host's preamble)")
    p.add_argument("--no-certify", action="store_true",
                   help="skip the interval certificates (faster)")

    p = sub.add_parser(
        "study", help="a grid of problems from a study file: data, table, figure, section",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Solve every grid point of a study file (studies/NAME.toml: the options of "
                    "`stationary` in [problem], lists of values in [sweep]) with certificates, "
                    "check it, and write DIR atomically: data.csv, table.tex, figure.tex, "
                    "section.tex and verification.json (labels prefixed study-NAME-; the "
                    "fragments need results/preamble.tex).  Exit 1 (nothing written) if a "
                    "check fails.  Points are cached in .cache/studies/NAME/, so an "
                    "interrupted or extended study resumes.\n\n"
                    "`grpo-derive study new NAME` writes a commented template studies/NAME.toml.",
        epilog="Examples:\n"
               "  grpo-derive study new my-trainer\n"
               "  grpo-derive study studies/my-trainer.toml --jobs 2\n"
               "  grpo-derive study studies/my-trainer.toml --scheduler tcp://127.0.0.1:8786")
    p.add_argument("file", metavar="FILE", help="the study file (or `new`)")
    p.add_argument("name", metavar="NAME", nargs="?", help="with `new`: the study's name")
    p.add_argument("--out", metavar="DIR", help="output folder (default: results/studies/NAME)")
    p.add_argument("--jobs", metavar="N", help="local worker processes (default: all cores)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="solve on the Dask cluster at tcp://HOST:PORT (needs grpo-derive[cluster])")
    p.add_argument("--max-cost", metavar="OPS",
                   help="refuse studies whose estimated cost (the grid points not yet in the "
                        "cache) exceeds OPS operations (default 2e9, about 11 min of one core "
                        "by the cost model)")
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
    from derive.output import cache, pipeline

    _refusal("--out", args.out, lambda: outputs.prepare_folder(args.out))
    if args.cache:
        _refusal("--cache", args.cache, lambda: cache.prepare_cache(args.cache))
    progress = None if args.quiet else pipeline.progress_printer()
    computed = pipeline.compute(progress)
    if args.cache:
        cache.save_cache(computed, args.cache)
    return _write(computed, args.out)


def _write(computed, out, files=None):
    from derive.output import pipeline

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
    from derive.output import cache, pipeline

    _refusal("--cache", args.cache, lambda: cache.prepare_cache(args.cache))
    computed = pipeline.compute(None if args.quiet else pipeline.progress_printer())
    ver = pipeline.verification(computed)
    if ver["summary"]["failed"]:
        for line in pipeline.summary_lines(ver):
            print(line, file=sys.stderr)
        return 1
    cache.save_cache(computed, args.cache)
    return 0


def _render(args):
    import jinja2

    from derive.output import cache, pipeline

    try:
        computed = cache.load_cache(args.cache)
    except cache.Malformed as exc:
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
    from derive.output import cache, pipeline

    path = os.path.join(args.results, "verification.json")
    if not os.path.isfile(path):
        raise UsageError(f"no readable {path}; run `grpo-derive build` first")
    try:
        ver = cache.load_verification(path)
    except cache.Malformed as exc:
        raise UsageError(f"{path}: {exc}; run `grpo-derive build` to rewrite it") from None
    for line in pipeline.summary_lines(ver):
        print(line)
    return 0 if ver["summary"]["failed"] == 0 else 1


def _stationary(args):

    from derive.parsing import (
        ParseError,
        parse_distribution,
        parse_group,
        parse_integer,
        parse_list,
        parse_number,
    )

    variant, betas_text = variant_options(args)
    try:
        ref = parse_list(args.ref, "--ref")
        rewards = parse_list(args.rewards, "--rewards") if args.rewards is not None else None
        success = parse_list(args.success, "--success") if args.success is not None else None
        dists = ([parse_distribution(d) for d in args.reward_dist]
                 if args.reward_dist is not None else None)
        betas = betas_text if isinstance(betas_text, tuple) else parse_list(betas_text, "--beta")
        group = parse_group(args.group)
        digits = parse_integer(args.digits, "--digits", 5, 1000)
        max_cost = (DEFAULT_MAX_COST if args.max_cost is None
                    else parse_number(args.max_cost, "--max-cost"))
    except ParseError as exc:
        raise UsageError(str(exc)) from None
    if max_cost <= 0:
        raise UsageError(f"--max-cost: {args.max_cost!r} must be a positive number of operations")
    try:
        check_numbers(ref, rewards, success, dists, betas, lambda key: f"--{key}")
    except ValueError as exc:
        raise UsageError(str(exc)) from None

    from derive.solve.solver import (
        FIXED_COST,
        MAX_MEMORY,
        WINDOW_GROUP,
        estimate_cost,
        search_limits,
        stationary_policies,
    )

    if len(betas) > 1 and len(betas) * FIXED_COST > max_cost:   # before building a problem each
        raise UsageError(f"refused: a sweep of {len(betas)} values of --beta costs at least "
                         f"{len(betas) * FIXED_COST:.2g} operations, above --max-cost "
                         f"{float(max_cost):.2g}; sweep fewer values, or raise --max-cost")

    problems = []
    for beta in betas:
        try:
            prob = build_problem(ref, rewards, success, dists, beta, group, variant)
        except ValueError as exc:
            raise UsageError(str(exc).splitlines()[0]) from None
        refusal = search_limits(prob)
        if refusal:
            raise UsageError(refusal)
        problems.append(prob)

    certify = not args.no_certify
    costs = [estimate_cost(prob, digits, certify) for prob in problems]
    # huge groups: the interval certificates (ball arithmetic over every term of the
    # window) can be what exceeds the limits; then answer without them, and say so
    skipped = ""
    if certify and all(prob.group is not None and prob.group > WINDOW_GROUP for prob in problems):
        light = [estimate_cost(prob, digits, False) for prob in problems]
        memory, operations = max(c.memory for c in costs), sum(c.operations for c in costs)
        if memory > MAX_MEMORY or operations > max_cost:
            # (if even that is too much, the refusal below gives the cost without certificates)
            certify, costs = False, light
            why = (f"about {_size(memory)} of memory, above the limit of {_size(MAX_MEMORY)}"
                   if memory > MAX_MEMORY else
                   f"about {_duration(operations / OPERATIONS_PER_SECOND)}, above --max-cost "
                   f"{float(max_cost):.2g} (--max-cost {_round_up(operations)} to certify)")
            skipped = (f"certificate skipped: the interval certificates would need {why}; the root is "
                       "polished but its uniqueness is not proved")
    memory = max(c.memory for c in costs)
    if memory > MAX_MEMORY:
        c = max(costs, key=lambda c: c.memory)
        raise UsageError(f"refused: the preference tables need about {_size(memory)} of memory "
                         f"({float(c.terms):.3g} terms per evaluation), above the limit of {_size(MAX_MEMORY)}; "
                         "use --group inf, a smaller --group, or fewer reward levels")
    operations = sum(c.operations for c in costs)
    if operations > max_cost:
        c = max(costs, key=lambda c: c.operations)
        raise UsageError(f"refused: estimated cost {operations:.2g} operations (about "
                         f"{_duration(operations / OPERATIONS_PER_SECOND)}; mostly {c.dominant}) "
                         f"is above --max-cost {float(max_cost):.2g}; use --group inf, fewer reward "
                         f"levels or answers, or --max-cost {_round_up(operations)} to go ahead")

    results = []
    bar = _ProgressBar(len(problems)) if len(problems) > 1 and sys.stderr.isatty() else None
    try:
        for prob in problems:
            sols = stationary_policies(prob, digits=digits, certify=certify)
            if skipped:
                from dataclasses import replace

                sols = [replace(s, note=s.note.replace("certificate not requested", skipped))
                        for s in sols]
            results.append(sols)
            if bar:
                bar.step()
    except (KeyboardInterrupt, Terminated):
        # keep the finished points of a sweep: print them, then report the interrupt
        if bar:
            bar.close()
        if len(problems) > 1 and results:
            records = [problem_record(p, s, digits, args.preset) for p, s in zip(problems, results)]
            if args.json:
                print(json.dumps({"sweep": records, "interrupted": True,
                                  "finished": len(records), "requested": len(problems)},
                                 indent=2))
            else:
                print(f"interrupted: {len(records)} of {len(problems)} values of beta finished")
                for rec in records:
                    _print_human(rec)
            sys.stdout.flush()
        raise
    if bar:
        bar.close()

    records = [problem_record(prob, sols, digits, args.preset)
               for prob, sols in zip(problems, results)]
    if args.latex:
        return _print_latex(args, problems, records, digits)
    if args.json:
        out = records[0] if len(records) == 1 else {"sweep": records}
        print(json.dumps(out, indent=2))
    else:
        for rec in records:
            _print_human(rec)
    # a root that provably exists but was not located is a failure, not an answer
    if any(rec.get("none_found", "").startswith("a stationary policy exists") for rec in records):
        print("error: a stationary policy provably exists but the search did not locate it "
              "(a failure of the engine; a larger --digits may help)", file=sys.stderr)
        return 1
    return 0


def _print_latex(args, problems, records, digits):
    """``stationary --latex``: the problem as a one-point study (a --beta list: a sweep over
    beta), its section and table printed, after the study's checks (exit 1 if one fails)."""
    from derive.study import ChecksFailed, Point, Study, study_files

    if args.json:
        raise UsageError("--latex and --json: give one of them")
    if args.no_certify:
        raise UsageError("--latex prints only certified digits: drop --no-certify")
    betas = [str(p.beta) for p in problems]
    keys = ("beta",) if len(problems) > 1 else ()
    points = tuple(Point(i, (("beta", b),) if keys else (), {"beta": b}, prob, digits, args.preset)
                   for i, (b, prob) in enumerate(zip(betas, problems)))
    study = Study("stationary", "stationary", "GRPO stationary policies", keys, points,
                  min(digits, 6), "beta" if keys else None, 1)
    try:
        files = study_files(study, records)
    except ChecksFailed as exc:
        print(f"error: a check failed, nothing printed: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    print(files["section.tex"] + "\n" + files["table.tex"], end="")
    return 0



def _size(nbytes):
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20)):
        if nbytes >= scale:
            return f"{nbytes / scale:.4g} {unit}"
    return f"{nbytes / 1024:.3g} KiB"


def _duration(seconds):
    if seconds < 120:
        return f"{seconds:.2g} s"
    if seconds < 7200:
        return f"{seconds / 60:.2g} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.2g} h"
    if seconds < 2 * 365 * 86400:
        return f"{seconds / 86400:.2g} days"
    return f"{seconds / (365 * 86400):.2g} years"


def _round_up(x):
    """A short number of the form ``d e k`` at least ``x``."""
    import math

    if x >= 1e300:
        return "1e300 (not feasible)"
    e = math.floor(math.log10(x))
    d = math.ceil(x / 10**e)
    if d >= 10:
        d, e = 1, e + 1
    return f"{d}e{e}"




def _short(text):
    """A policy coordinate to 12 significant digits for the human summary."""
    import mpmath

    from derive.numerics.format import decimal

    return decimal(mpmath.mpf(text), 12, strip=True, min_fixed=-6, max_fixed=14)


def _exact_short(text):
    """An exact rational as printed, or its 15-digit value when the fraction is long."""
    if len(text) <= 40:
        return text
    import mpmath

    from derive.numerics.context import mpf_exact

    with mpmath.workdps(20):
        return "~" + mpmath.nstr(mpf_exact(text), 15)


def _norm_text(pr):
    if pr["normalisation"] != "shift-scale":
        return pr["normalisation"]
    eps = "" if pr["std_eps"] == "0" else f" + {_exact_short(pr['std_eps'])}"
    return f"shift-scale ({pr['std']} std{eps})"


def _print_human(rec):
    pr = rec["problem"]
    G = pr["group"]
    refs = [_exact_short(r) for r in pr["ref"]]
    if len(refs) > 12:
        refs = refs[:10] + [f"... {len(refs) - 10} more"]
    print(f"GRPO stationary policies: beta = {_exact_short(pr['beta'])}, G = {G}, "
          f"penalty {pr['penalty']} in the {pr['kl_in']}, {_norm_text(pr)} normalisation, "
          f"pi_ref = ({', '.join(refs)})")
    if not rec["stationary"]:
        print(f"  {rec['none_found']}; searched: {rec['search']}")
    for i, s in enumerate(rec["stationary"], 1):
        short = ", ".join(_short(p) for p in s["policy"])
        cert = "certified unique in its enclosure" if s["certified"] else "uniqueness NOT certified"
        stable = {True: "stable", False: "unstable", None: "stability undecided"}[s["stable"]]
        print(f"  {i}. pi = ({short})  {s['kind']}, {s['classification']}, "
              f"{stable}; maximiser of J(.; pi): {s['maximiser']}; {cert}; "
              f"residual {s['residual']}")
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


def _study(args):
    """``grpo-derive study FILE`` and ``grpo-derive study new NAME`` (:mod:`derive.study`)."""
    import re

    from derive import study
    from derive.parsing import ParseError, parse_integer, parse_number

    if args.file == "new":
        if args.name is None:
            raise UsageError("study new: give the study's name (grpo-derive study new NAME)")
        for opt in ("out", "jobs", "scheduler", "max_cost"):
            if getattr(args, opt) is not None:
                raise UsageError(f"study new: --{opt.replace('_', '-')} does not apply")
        try:
            path = study.new_study(args.name)
        except study.StudyError as exc:
            raise UsageError(str(exc)) from None
        print(f"wrote {path}; edit it, then run: grpo-derive study {path}")
        return 0
    if args.name is not None:
        raise UsageError(f"study: unexpected argument {args.name!r} (grpo-derive study FILE, "
                         "or grpo-derive study new NAME)")
    try:
        jobs = (None if args.jobs is None
                else parse_integer(args.jobs, "--jobs", 1, 1024))
        max_cost = (study.STUDY_MAX_COST if args.max_cost is None
                    else parse_number(args.max_cost, "--max-cost"))
    except ParseError as exc:
        raise UsageError(str(exc)) from None
    if max_cost <= 0:
        raise UsageError(f"--max-cost: {args.max_cost!r} must be a positive number of operations")
    if args.scheduler is not None:
        if not re.fullmatch(r"(tcp|tls)://[A-Za-z0-9.\-\[\]:]+:[0-9]{1,5}", args.scheduler):
            raise UsageError(f"--scheduler: {args.scheduler!r} is not accepted; expected "
                             "tcp://HOST:PORT")
        if jobs is not None:
            raise UsageError("--jobs applies to local workers; drop it with --scheduler")
    try:
        st = study.load_study(args.file)
    except study.StudyError as exc:
        raise UsageError(str(exc)) from None
    out = args.out if args.out is not None else os.path.join("results", "studies", st.name)

    from derive.solve.solver import MAX_MEMORY

    cache_dir = os.path.join(".cache", "studies", st.name)
    todo = study.uncached_points(st, cache_dir)
    operations, memory = study.total_cost(todo)
    if memory > MAX_MEMORY:
        raise UsageError(f"refused: a grid point of {args.file} needs about {_size(memory)} of "
                         f"memory, above the limit of {_size(MAX_MEMORY)}; use a smaller group "
                         "or fewer reward levels")
    if operations > max_cost:
        raise UsageError(f"refused: {args.file}: estimated cost {operations:.2g} operations "
                         f"(about {_duration(operations / OPERATIONS_PER_SECOND)} on one core) for "
                         f"{len(todo)} grid points not in the cache is above --max-cost {float(max_cost):.2g}; "
                         f"use fewer points, or --max-cost {_round_up(operations)} to go ahead")
    _refusal("--out", out, lambda: outputs.prepare_folder(out))   # creates its parents
    if args.scheduler is not None:
        try:
            import dask.distributed  # noqa: F401
        except ImportError:
            raise UsageError("--scheduler needs dask.distributed: pip install "
                             "'grpo-derive[cluster]'") from None
    try:
        records = study.run_study(st, jobs=jobs, scheduler=args.scheduler, cache_dir=cache_dir)
    except OSError as exc:
        if args.scheduler is None:
            raise
        raise UsageError(f"--scheduler {args.scheduler}: {str(exc).splitlines()[0]}") from None
    try:
        files = study.study_files(st, records)
    except study.ChecksFailed as exc:
        _error_line(f"{args.file}: verification failed: {exc}; {out} left unchanged")
        return EXIT_FAILURE
    path = _refusal("--out", out, lambda: outputs.write_folder(files, out))
    ver = json.loads(files["verification.json"])["summary"]
    print(f"{st.name}: {ver['points']} grid points, {ver['policies']} stationary policies "
          f"({ver['certified']} certified), {ver['passed']} of {ver['checks']} checks passed "
          f"-> {path}")
    return 0


COMMANDS = {"build": _build, "compute": _compute, "render": _render, "summary": _summary,
            "stationary": _stationary, "study": _study}
