r"""Studies: a researcher's own grid of GRPO problems, from one TOML file.

A study file ``studies/<name>.toml`` holds

* ``title`` (a string; default: the name);
* ``[problem]``: the options of ``grpo-derive stationary`` under their long
  names (:data:`OPTIONS`), each a string (``reward-dist``: a list of strings,
  one per answer), e.g. ``ref = "0.2,0.8"``, ``beta = "1/4"``;
* ``[sweep]``: any of those keys mapped to a non-empty list of values of the
  same form; the study is the product grid, in file order (the last key varies
  fastest);
* optional ``[table]`` (``digits``: significant digits in ``table.tex``,
  default 6) and ``[figure]`` (``x``: the swept key on the horizontal axis,
  default the first of beta, group, std-eps that is swept; ``answer``: the
  plotted coordinate ``pi(answer)``, 1-based, default 1).

Every grid point is built into a :class:`derive.solve.solver.Problem` exactly as
``stationary`` builds its problem (:func:`problem_of`), solved by
:func:`derive.solve.solver.stationary_policies` with certificates, and recorded as
``stationary --json`` records it (:func:`derive.options.problem_record`): the
stationarity condition is arXiv:2502.18548v3, Eq. (11) for the paper's GRPO
and its variant otherwise.  Numbers are parsed exactly (:mod:`derive.parsing`);
nothing is evaluated.

A bad file raises :class:`StudyError` naming the file, the key (and the line)
and what is accepted.

:func:`run_study` solves the points in local processes or on a Dask cluster and
caches each record under ``.cache/studies/<name>/<sha256>.json``, keyed by the
point's problem, its digits and :func:`engine_version`; the records are put in
grid order, so the output does not depend on the executor.  :func:`study_files`
checks every record (:func:`policy_checks`, :func:`closed_forms`,
:func:`section_checks`) and renders ``data.csv``, ``verification.json``,
``table.tex``, ``figure.tex`` and ``section.tex`` (labels ``study-<name>-...``;
the fragments need the macros of ``results/preamble.tex``); a failed check
raises :class:`ChecksFailed` and nothing is rendered.
"""

import argparse
import hashlib
import itertools
import json
import os
import re
import sys
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from derive.model.estimators import PENALTY_NAMES
from derive.model.normalisations import NORMALISATION_NAMES
from derive.model.presets import PRESET_SETTINGS

#: The keys of ``[problem]`` and ``[sweep]``: the long options of ``stationary``.
OPTIONS = ("ref", "rewards", "success", "reward-dist", "beta", "group", "penalty", "kl-in",
           "normalisation", "std", "std-eps", "preset", "digits")
#: The choices of the options that take one (as on the command line).
CHOICES = {
    "penalty": PENALTY_NAMES,
    "kl-in": ("loss", "reward"),
    "normalisation": NORMALISATION_NAMES,
    "std": ("population", "sample"),
    "preset": tuple(PRESET_SETTINGS),
}
TOP_KEYS = ("title", "problem", "sweep", "table", "figure")
TABLE_KEYS = ("digits",)
FIGURE_KEYS = ("x", "answer")
#: Swept keys that can be the horizontal axis of the figure, in order of preference.
AXIS_KEYS = ("beta", "group", "std-eps")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
#: Largest accepted grid (points).
MAX_POINTS = 100000


class StudyError(ValueError):
    """A bad study file (or bad study options): one line naming the file and the key."""


@dataclass(frozen=True)
class Point:
    """One grid point: its index, the swept values as written, the options, and the problem."""

    index: int
    swept: tuple          # ((key, value as written), ...) in file order
    options: dict         # every option of the point (problem merged with the sweep)
    problem: object       # derive.solve.solver.Problem
    digits: int
    preset: str | None


@dataclass(frozen=True)
class Study:
    """A parsed study file."""

    name: str
    path: str
    title: str
    sweep_keys: tuple
    points: tuple
    table_digits: int
    figure_x: str | None
    figure_answer: int


# -- parsing ------------------------------------------------------------------------------------

def _line_of(text, section, key):
    """The line of ``key = ...`` in ``[section]`` (or at the top, section None), or None."""
    current = None
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        m = re.fullmatch(r"\[\s*([^\]]+?)\s*\]\s*(#.*)?", s)
        if m:
            current = m.group(1).strip('"\'')
            continue
        if current == section and re.match(rf"""["']?{re.escape(key)}["']?\s*=""", s):
            return n
    return None


class _Where:
    """Builds error messages that name the file, the table, the key and its line."""

    def __init__(self, path, text):
        self.path, self.text = path, text

    def error(self, section, key, message):
        line = _line_of(self.text, section, key) if key is not None else None
        place = f"[{section}] " if section else ""
        keyname = f"key '{key}'" if key is not None else ""
        at = f" (line {line})" if line else ""
        head = f"{self.path}: {place}{keyname}{at}".rstrip()
        return StudyError(f"{head}: {message}")


def _show(value):
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:40] + "..."


def _option_value(where, section, key, value):
    """A study value as ``stationary`` takes it: a string, or a list of strings for reward-dist."""
    if key == "reward-dist":
        if not (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
            raise where.error(section, key, f"{_show(value)} is not accepted; expected a list of "
                              'strings "V:P,V:P,..." (one per answer, in the order of ref)')
        return tuple(value)
    if not isinstance(value, str):
        raise where.error(section, key, f"{_show(value)} is not a string; write every value as a "
                          'string (e.g. "0.25" or "1/3"), so that it is read exactly')
    return value


def _written(value):
    """A swept value as written in the file (a reward-dist list joined by ';')."""
    return "; ".join(value) if isinstance(value, tuple) else value


def _cli_text(message):
    """A command-line message with ``--option`` written as the study key ``'option'``."""
    return re.sub(r"--([a-z][a-z-]*)", r"'\1'", message)


def problem_of(options):
    """``(Problem, digits, preset)`` from study options, built as ``stationary`` builds its problem.

    *options* maps the keys of :data:`OPTIONS` to strings (``reward-dist``: a tuple
    of strings).  The checks, their order and the problem are those of
    :func:`derive.cli._stationary` and :func:`derive.options.variant_options` (which
    this calls); a bad value raises ``ValueError`` with a one-line message.

    >>> prob, digits, preset = problem_of({"ref": "0.2,0.8", "rewards": "1,0", "beta": "1/2"})
    >>> prob.beta, prob.group, prob.penalty, digits, preset
    (Fraction(1, 2), 2, 'k3', 50, None)
    """
    from derive import options as cli
    from derive.parsing import (
        ParseError,
        parse_distribution,
        parse_group,
        parse_integer,
        parse_list,
        parse_number,
    )

    o = dict(options)
    for key, allowed in CHOICES.items():
        if key in o and o[key] not in allowed:
            raise ValueError(f"'{key}': {o[key]!r} is not accepted; accepted: {', '.join(allowed)}")
    if "ref" not in o:
        raise ValueError("'ref' is missing; give the reference policy, e.g. ref = \"0.2,0.8\"")
    given = [k for k in ("rewards", "success", "reward-dist") if k in o]
    if len(given) != 1:
        raise ValueError("give exactly one of 'rewards', 'success' or 'reward-dist' (got "
                         f"{', '.join(given) or 'none'})")
    if "beta" in o and "," in o["beta"]:
        raise ValueError(f"'beta': {o['beta']!r} is a list; sweep several values in [sweep] instead")
    args = argparse.Namespace(
        preset=o.get("preset"), kl_in=o.get("kl-in"), penalty=o.get("penalty"),
        normalisation=o.get("normalisation"), std=o.get("std"), std_eps=o.get("std-eps"),
        beta=o.get("beta"))
    try:
        variant, beta_text = cli.variant_options(args)
    except cli.UsageError as exc:
        raise ValueError(_cli_text(str(exc))) from None
    try:
        ref = parse_list(o["ref"], "'ref'")
        rewards = parse_list(o["rewards"], "'rewards'") if "rewards" in o else None
        success = parse_list(o["success"], "'success'") if "success" in o else None
        dists = ([parse_distribution(d, "'reward-dist'") for d in o["reward-dist"]]
                 if "reward-dist" in o else None)
        beta = beta_text[0] if isinstance(beta_text, tuple) else parse_number(beta_text, "'beta'")
        try:
            group = parse_group(o.get("group", "2"))
        except ParseError as exc:
            raise ParseError(_cli_text(str(exc))) from None
        digits = parse_integer(o.get("digits", "50"), "'digits'", 5, 1000)
    except ParseError as exc:
        raise ValueError(str(exc)) from None
    cli.check_numbers(ref, rewards, success, dists, (beta,), lambda key: f"'{key}'")

    from derive.solve.solver import search_limits

    prob = cli.build_problem(ref, rewards, success, dists, beta, group, variant)
    refusal = search_limits(prob)
    if refusal:
        raise ValueError(refusal)
    return prob, digits, o.get("preset")


def _choice_int(where, section, key, value, low, high):
    from derive.parsing import ParseError, parse_integer

    if not isinstance(value, str | int) or isinstance(value, bool):
        raise where.error(section, key, f"{_show(value)} is not accepted; expected an integer "
                          f"from {low} to {high}")
    try:
        return parse_integer(str(value), "value", low, high)
    except ParseError as exc:
        raise where.error(section, key, str(exc).removeprefix("value: ")) from None


def load_study(path):
    """The :class:`Study` of the file *path*; :class:`StudyError` for a bad file."""
    import tomllib

    path = str(path)
    name = Path(path).stem
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise StudyError(f"{path}: cannot read the study file ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError:
        raise StudyError(f"{path}: not TOML: the file is not UTF-8 text; expected a TOML "
                         "study file (grpo-derive study new NAME writes a template)") from None
    except tomllib.TOMLDecodeError as exc:
        raise StudyError(f"{path}: not TOML: {str(exc).splitlines()[0]}; expected a TOML study "
                         "file (grpo-derive study new NAME writes a template)") from None
    where = _Where(path, text)
    if not NAME.fullmatch(name):
        raise StudyError(f"{path}: the study name {name!r} (the file name) is not accepted; "
                         "expected letters, digits, '-' and '_' (at most 64, starting with a "
                         "letter or digit)")
    for key in data:
        if key not in TOP_KEYS:
            raise where.error(None, key, "unknown key; accepted at the top: "
                              + ", ".join(TOP_KEYS))
    title = data.get("title", name)
    if not isinstance(title, str) or not title.strip() or "\n" in title or len(title) > 200:
        raise where.error(None, "title", "expected a one-line string of at most 200 characters")
    tables = {}
    for section, keys in (("problem", OPTIONS), ("sweep", OPTIONS), ("table", TABLE_KEYS),
                          ("figure", FIGURE_KEYS)):
        table = data.get(section, {})
        if not isinstance(table, dict):
            raise where.error(None, section, f"expected a table [{section}]")
        for key in table:
            if key not in keys:
                what = ("not an option of stationary; a sweep is over" if section == "sweep"
                        else "unknown key; accepted in [" + section + "]:")
                raise where.error(section, key, f"{what} {', '.join(keys)}")
        tables[section] = table
    if "problem" not in data:
        raise where.error(None, "problem", "missing: a study needs a [problem] table with at "
                          "least 'ref' and one of 'rewards', 'success', 'reward-dist'")
    base = {k: _option_value(where, "problem", k, v) for k, v in tables["problem"].items()}
    sweep = tables["sweep"]
    if not sweep:
        raise where.error(None, "sweep", "missing or empty: a study needs a [sweep] table mapping "
                          f"at least one of {', '.join(OPTIONS)} to a list of values")
    swept = {}
    for key, values in sweep.items():
        if not isinstance(values, list) or not values:
            raise where.error("sweep", key, f"{_show(values)} is not accepted; expected a "
                              "non-empty list of values, e.g. [\"0.1\", \"1\"]")
        swept[key] = [_option_value(where, "sweep", key, v) for v in values]
        if len(set(swept[key])) != len(swept[key]):
            raise where.error("sweep", key, "a value appears twice; give each value once")
    # a swept key given in [problem] too would be ambiguous
    both = [k for k in swept if k in base]
    if both:
        raise where.error("problem", both[0], "is swept in [sweep] too; give it in one place")
    n = 1
    for values in swept.values():
        n *= len(values)
    if n > MAX_POINTS:
        raise where.error(None, "sweep", f"the grid has {n} points; accepted: at most {MAX_POINTS}")
    if "ref" not in base and "ref" not in swept:
        raise where.error("problem", "ref", "missing: give the reference policy, e.g. "
                          'ref = "0.2,0.8" (K >= 2 probabilities summing exactly to 1)')

    keys = tuple(swept)
    points = []
    for index, combo in enumerate(itertools.product(*(swept[k] for k in keys))):
        options = dict(base) | dict(zip(keys, combo))
        try:
            prob, digits, preset = problem_of(options)
        except ValueError as exc:
            message = str(exc).splitlines()[0]
            m = re.match(r"'([a-z-]+)'", message)
            key = m.group(1) if m and m.group(1) in OPTIONS else None
            section = "sweep" if key in swept else "problem"
            at = ", ".join(f"{k} = {_written(v)!r}" for k, v in zip(keys, combo))
            raise where.error(section, key, f"{message} (at grid point {at})") from None
        points.append(Point(index, tuple((k, _written(v)) for k, v in zip(keys, combo)),
                            options, prob, digits, preset))

    table = tables["table"]
    table_digits = (_choice_int(where, "table", "digits", table["digits"], 2, 30)
                    if "digits" in table else 6)
    figure = tables["figure"]
    if "x" in figure:
        if figure["x"] not in AXIS_KEYS or figure["x"] not in swept:
            raise where.error("figure", "x", f"{_show(figure['x'])} is not accepted; expected a "
                              f"swept key among {', '.join(AXIS_KEYS)}")
        figure_x = figure["x"]
    else:
        figure_x = next((k for k in AXIS_KEYS if k in swept), None)
    K_min = min(p.problem.K for p in points)
    answer = (_choice_int(where, "figure", "answer", figure["answer"], 1, K_min)
              if "answer" in figure else 1)
    return Study(name, path, title.strip(), keys, tuple(points), table_digits, figure_x, answer)


# -- running ------------------------------------------------------------------------------------

def engine_version():
    """A hash of the engine's sources (``derive/**/*.py``): part of every cache key."""
    h = hashlib.sha256()
    root = Path(__file__).resolve().parent
    for f in sorted(root.rglob("*.py")):
        h.update(f.relative_to(root).as_posix().encode() + b"\0")
        h.update(f.read_bytes() + b"\0")
    return h.hexdigest()


def canonical_problem(point):
    """The problem of *point* as ``stationary --json`` records it (exact rationals as text)."""
    from derive.options import problem_fields

    return problem_fields(point.problem, point.preset)


def cache_key(point, engine):
    """The sha256 naming the cache file of *point* (its problem, digits and the engine)."""
    blob = json.dumps({"problem": canonical_problem(point), "digits": point.digits,
                       "engine": engine}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def solve_point(problem, digits, preset):
    """The ``stationary --json`` record of one problem: every stationary policy, certified.

    Runs in a worker process (local or Dask); a top-level function so that it pickles.
    """
    from derive.options import problem_record
    from derive.solve.solver import stationary_policies

    sols = stationary_policies(problem, digits=digits, certify=True)
    return json.loads(json.dumps(problem_record(problem, sols, digits, preset)))


#: The fixed work of one grid point in a warm worker (measured: about 5 ms for a binary point
#: at G = 64 beside its search), in place of the solver's per-process set-up.
POINT_FIXED_COST = 1.5e4
#: Default ``--max-cost`` of a study: about 11 minutes of one core by the cost model (which is
#: pessimistic for the cheap points of a large grid: a 10,000-point binary grid at G = 64,
#: estimated at about 3.6e8 operations, takes about a minute with two workers).
STUDY_MAX_COST = 2e9


def total_cost(points):
    """``(operations, memory)`` of solving *points*, from :func:`derive.solve.solver.estimate_cost`
    (its per-process set-up replaced by :data:`POINT_FIXED_COST` per point)."""
    from derive.solve.solver import FIXED_COST, estimate_cost

    costs = [estimate_cost(p.problem, p.digits, True) for p in points]
    return (sum(max(c.operations - FIXED_COST, 0) + POINT_FIXED_COST for c in costs),
            max((c.memory for c in costs), default=0))


def uncached_points(study, cache_dir):
    """The grid points of *study* without a usable record in *cache_dir* (what a run solves)."""
    if cache_dir is None:
        return list(study.points)
    engine = engine_version()
    return [p for p in study.points
            if _read_cache(Path(cache_dir) / f"{cache_key(p, engine)}.json", p) is None]


class Progress:
    """A progress bar with an ETA on a terminal's stderr; silent otherwise."""

    def __init__(self, total, stream=None, width=30):
        self.stream = stream if stream is not None else sys.stderr
        self.on = bool(total) and self.stream.isatty()
        self.total, self.done, self.width, self.start = total, 0, width, time.monotonic()
        if self.on:
            self._draw()

    def _draw(self):
        filled = self.width * self.done // max(self.total, 1)
        eta = ""
        if self.done:
            left = (time.monotonic() - self.start) / self.done * (self.total - self.done)
            eta = f"  ETA {int(left) // 60}:{int(left) % 60:02d}"
        self.stream.write(f"\r[{'#' * filled}{'.' * (self.width - filled)}] "
                          f"{self.done}/{self.total}{eta}   ")
        self.stream.flush()

    def step(self):
        self.done += 1
        if self.on:
            self._draw()

    def close(self):
        if self.on:
            self.stream.write("\n")
            self.stream.flush()


def _read_cache(path, point):
    """The cached record of *point*, or None (missing, unreadable, or not this point's)."""
    try:
        with open(path, encoding="utf-8") as fh:
            rec = json.load(fh)
    except (OSError, ValueError):
        return None
    if not (isinstance(rec, dict) and isinstance(rec.get("stationary"), list)
            and rec.get("problem") == canonical_problem(point)
            and rec.get("digits") == point.digits):
        return None
    return rec


#: Seconds to wait for a Dask scheduler.
CONNECT_TIMEOUT = 20


def _worker_init():
    """Local workers leave SIGINT to the parent, which cancels the queued points."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_study(study, jobs=None, scheduler=None, cache_dir=None, progress=None):
    """The records of every grid point, in grid order: from the cache or solved.

    Solved in a :class:`concurrent.futures.ProcessPoolExecutor` of *jobs*
    processes (default: all cores; 1: in this process), or on the Dask cluster
    at *scheduler*.  Each record is stored in *cache_dir* as soon as it is
    solved, so an interrupted study resumes.  The result does not depend on
    the executor: records are JSON data, put in grid order.
    """
    from derive.output import outputs

    engine = engine_version()
    cache = Path(cache_dir) if cache_dir is not None else None
    records = [None] * len(study.points)
    todo = []
    for p in study.points:
        rec = _read_cache(cache / f"{cache_key(p, engine)}.json", p) if cache else None
        if rec is not None:
            records[p.index] = rec
        else:
            todo.append(p)
    bar = progress if progress is not None else Progress(len(todo))

    def store(p, rec):
        records[p.index] = rec
        if cache:
            outputs.write_file(json.dumps(rec, indent=1, sort_keys=True) + "\n",
                               cache / f"{cache_key(p, engine)}.json")
        bar.step()

    try:
        if not todo:
            pass
        elif scheduler is not None:
            from dask.distributed import Client, as_completed

            with Client(scheduler, timeout=CONNECT_TIMEOUT) as client:
                futures = {client.submit(solve_point, p.problem, p.digits, p.preset,
                                         pure=False): p for p in todo}
                for fut in as_completed(futures):
                    store(futures[fut], fut.result())
        elif (jobs or os.cpu_count() or 1) <= 1 or len(todo) == 1:
            for p in todo:
                store(p, solve_point(p.problem, p.digits, p.preset))
        else:
            from concurrent.futures import ProcessPoolExecutor, as_completed

            pool = ProcessPoolExecutor(max_workers=min(jobs or os.cpu_count(), len(todo)),
                                       initializer=_worker_init)
            try:
                futures = {pool.submit(solve_point, p.problem, p.digits, p.preset): p
                           for p in todo}
                for fut in as_completed(futures):
                    store(futures[fut], fut.result())
            except BaseException:
                # Ctrl-C or a failure: drop the queued points (the finished ones are cached)
                pool.shutdown(wait=False, cancel_futures=True)
                raise
            pool.shutdown()
    finally:
        bar.close()
    return records


# -- checks -------------------------------------------------------------------------------------

class ChecksFailed(Exception):
    """A check of the study failed: nothing is written."""


def _ulp(text):
    """One unit in the last printed place of a decimal string (``0.6531`` -> ``1/10000``)."""
    mantissa, _, exponent = text.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return Fraction(10) ** (int(exponent or 0) - decimals)


def table_number(text, digits):
    """``(tex, decimal text)``: a policy coordinate as ``table.tex`` prints it
    (:func:`derive.paper.latex.number_tex`), and the decimal that the TeX shows."""
    import mpmath

    from derive.paper.latex import number_tex

    with mpmath.workdps(len(text) + 10):
        tex = number_tex(mpmath.mpf(text), digits)
    m = re.fullmatch(r"\$(-?[0-9.]+)(?: \\times 10\^\{(-?[0-9]+)\})?\$", tex)
    return tex, m.group(1) + (f"e{m.group(2)}" if m.group(2) else "")


def policy_checks(rec, table_digits):
    """The checks of one grid point's record: ``[(name, passed, detail), ...]``.

    For every stationary policy: its relative residual (arXiv:2502.18548v3,
    Eq. (11) or its variant) is below ``10^-(digits - 5)``; when certified, each
    coordinate as ``table.tex`` prints it (*table_digits* digits) is the correct
    rounding of every point of the certified enclosure (the enclosure lies within
    half a unit of its last digit), and the enclosure is reported in units of
    the last digit of ``data.csv``; an interior policy sums to 1 within ``K``
    units of its last digits.  A stationary policy that provably exists but was
    not located fails.  An uncertified policy is printed as such, not checked.
    """
    digits = rec["digits"]
    out = []
    if rec.get("none_found", "").startswith("a stationary policy exists"):
        out.append(("located", False, rec["none_found"]))
    for n, s in enumerate(rec["stationary"], 1):
        residual = Fraction(s["residual"])
        bound = Fraction(1, 10 ** (digits - 5))
        out.append((f"policy {n}: residual", residual < bound,
                    f"{s['residual']} < 1e-{digits - 5}"))
        if s["certified"]:
            worst_table = worst_csv = Fraction(0)
            for p, (lo, hi) in zip(s["policy"], s["enclosure"]):
                _, shown = table_number(p, table_digits)
                t = Fraction(shown)
                worst_table = max(worst_table, (Fraction(hi) - t) / _ulp(shown),
                                  (t - Fraction(lo)) / _ulp(shown))
                worst_csv = max(worst_csv, (Fraction(hi) - Fraction(lo)) / _ulp(p))
            out.append((f"policy {n}: table digits certified", worst_table <= Fraction(1, 2),
                        (f"the enclosure lies within {float(worst_table):.3g} units of the last "
                        f"digit of the {table_digits}-digit table entry (at most 0.5); its width "
                        f"is {float(worst_csv):.3g} units of the last digit in data.csv")))
        if s["kind"] == "interior":
            total = sum(Fraction(p) for p in s["policy"])
            units = sum(_ulp(p) for p in s["policy"])
            out.append((f"policy {n}: sums to 1", abs(total - 1) <= units,
                        f"|sum - 1| = {float(abs(total - 1)):.3g} <= {float(units):.3g}"))
    return out


def section_checks(variants):
    """Symbolic checks of the displayed conditions: the KKT residual of the Lagrangian
    (:class:`derive.model.variants.KKT`) equals ``P_o - E P - beta (g_o - E g)`` with ``g`` the
    derived gradient of the expected penalty, for every output (``cancel`` to 0)."""
    from sympy import cancel

    from derive.model.variants import KKT, EffectiveDivergence
    from derive.paper import symbols as S
    from derive.results.variants import gradient_form
    from derive.verify.display import reduced_form

    out = []
    for v in variants:
        if v["kl_in"] != "loss":
            continue
        K = v["K"]
        outputs = "abcd"[:min(K, 4)]
        kkt = KKT(v["base"], v["iw"], outputs).derive()
        e = kkt.eff
        mean_P = sum(t * P for t, P in zip(e.pi, kkt.P))
        mean_g = sum(t * g for t, g in zip(e.pi, e.gradient))
        last = {e.pi[-1]: 1 - sum(e.pi[:-1])}
        ok = all(cancel((r - (P - mean_P - S.beta * (g - mean_g))).subs(last)) == 0
                 for r, P, g in zip(kkt.residual, kkt.P, e.gradient))
        out.append((f"condition of {v['penalty']}", ok,
                    (f"KKT residual of the Lagrangian = P_o - E P - beta (g_o - E g), "
                    f"{len(outputs)} outputs")))
        (pi_o,), (ref_o,) = (S.policy_symbols(n, "o") for n in ("pi", "pi_ref"))
        derived = EffectiveDivergence(v["base"], v["iw"], "o").derive().gradient[0]
        shown = gradient_form(v["base"], v["iw"], pi_o, ref_o)
        out.append((f"displayed gradient of {v['penalty']}", reduced_form(shown - derived) == 0,
                    "the displayed g_o minus the derived gradient reduces to 0 (expand_log, "
                    "together, cancel)"))
    return out


def _binary_setting(prob):
    """``(a, key)`` when *prob* is a binary question that :class:`derive.model.variants.BinaryVariant`
    covers (rewards 1 > 0, up to what the normalisation ignores; KL in the loss; G = 2 or
    G -> inf): ``a`` the index of the better answer; ``None`` otherwise."""
    if prob.K != 2 or prob.kl_in != "loss" or prob.group not in (2, None):
        return None
    if any(sorted(row) != [0, 1] for row in prob.rho):
        return None
    r = [prob.values[row.index(1)] for row in prob.rho]
    if r[0] == r[1]:
        return None
    a = 0 if r[0] > r[1] else 1
    gap_ok = {"shift-scale": True, "shift-only": abs(r[0] - r[1]) == 1,
              "none": sorted(r) == [0, 1]}[prob.normalisation]
    if not gap_ok:
        return None
    return a, (prob.penalty, prob.normalisation, prob.std, prob.std_eps, prob.group)


def closed_forms(study, records):
    """Closed forms of the binary points (:class:`derive.model.variants.BinaryVariant`: SymPy's
    admissible root of the derived condition; Eq. (14) for k3 at G = 2, Eq. (15) as
    G -> inf) and their checks: the closed form, evaluated at the point, must lie in the
    certified enclosure of the solver's policy (an independent path: no shared formula)."""
    import mpmath

    from derive.model.objective import Objective
    from derive.model.variants import BinaryVariant, eps
    from derive.numerics.context import mpf_exact
    from derive.paper import symbols as S

    derived, checks, used = {}, [], {}
    for point, rec in zip(study.points, records):
        setting = _binary_setting(point.problem)
        if setting is None:
            continue
        a, key = setting
        if key not in derived:
            penalty, norm, std, std_eps, G = key
            obj = Objective(penalty.removesuffix("-is"), penalty.endswith("-is"), "loss", norm,
                            std, std_eps)
            derived[key] = BinaryVariant(obj, G).derive().closed_form
        cf = derived[key]
        if cf is None:
            continue
        used.setdefault(key, cf)
        prob = point.problem
        sub = {S.p: prob.ref[a], S.beta: prob.beta, eps: prob.std_eps}
        for n, s_ in enumerate(rec["stationary"], 1):
            if s_["kind"] != "interior" or not s_["certified"]:
                continue
            lo, hi = (Fraction(t) for t in s_["enclosure"][a])
            with mpmath.workdps(point.digits + 20):
                value = cf.evalf(point.digits + 20, subs={k: _sympy_rational(v)
                                                        for k, v in sub.items()})
                v = mpmath.mpf(str(value))
                ok = mpf_exact(lo) <= v <= mpf_exact(hi)
                shown = mpmath.nstr(v, 12)
            checks.append((point.index, f"policy {n}: closed form", bool(ok),
                           f"the closed form gives pi({a + 1}) = {shown}, inside the certified "
                           "enclosure" if ok else f"the closed form gives pi({a + 1}) = {shown}, "
                           "outside the certified enclosure"))
    return used, checks


def _sympy_rational(value):
    from sympy import Rational

    return Rational(value.numerator, value.denominator)


def verification(study, records, variants, closed=()):
    extra = {}
    for index, name, ok, detail in closed:
        extra.setdefault(index, []).append((name, ok, detail))
    points = []
    failed = total = certified = policies = 0
    for p, rec in zip(study.points, records):
        checks = policy_checks(rec, study.table_digits) + extra.get(p.index, [])
        points.append({"index": p.index, "swept": dict(p.swept),
                       "checks": [{"check": c, "passed": ok, "detail": d} for c, ok, d in checks]})
        total += len(checks)
        failed += sum(not ok for _, ok, _ in checks)
        policies += len(rec["stationary"])
        certified += sum(s["certified"] for s in rec["stationary"])
    sec = [{"check": c, "passed": ok, "detail": d} for c, ok, d in section_checks(variants)]
    total += len(sec)
    failed += sum(not c["passed"] for c in sec)
    return {"study": study.name, "title": study.title,
            "summary": {"points": len(records), "policies": policies, "certified": certified,
                        "checks": total, "passed": total - failed, "failed": failed},
            "section": sec, "points": points}


# -- outputs ------------------------------------------------------------------------------------

def _stable_word(value):
    return {True: "true", False: "false", None: "undecided"}[value]


def data_csv(study, records):
    """``data.csv``: one row per stationary policy per grid point."""
    import csv
    import io

    K = max(p.problem.K for p in study.points)
    header = (list(study.sweep_keys) + ["kind"] + [f"pi_{i}" for i in range(1, K + 1)]
              + [f"{b}_{i}" for i in range(1, K + 1) for b in ("lo", "hi")]
              + ["certified", "stable", "maximiser"])
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for p, rec in zip(study.points, records):
        pad = [""] * (K - p.problem.K)
        for s in rec["stationary"]:
            bounds = [b for lo_hi in s["enclosure"] for b in lo_hi]
            w.writerow([v for _, v in p.swept] + [s["kind"]] + s["policy"] + pad
                       + bounds + pad + pad
                       + [str(s["certified"]).lower(), _stable_word(s["stable"]), s["maximiser"]])
    return buf.getvalue()


def _label(study, kind):
    return f"study-{study.name}-{kind}"


def study_variants(study):
    """The distinct objectives of the study, in grid order: one per penalty and place of the
    KL (which fix the stationarity condition), with every normalisation they are used with."""
    seen = {}
    for p in study.points:
        prob = p.problem
        key = (prob.penalty, prob.kl_in)
        if key not in seen:
            seen[key] = {"penalty": prob.penalty, "base": prob.penalty.removesuffix("-is"),
                         "iw": prob.penalty.endswith("-is"), "kl_in": prob.kl_in,
                         "normalisations": [], "K": prob.K}
        v = seen[key]
        v["K"] = max(v["K"], prob.K)
        norm = (prob.normalisation, prob.std, prob.std_eps)
        if norm not in v["normalisations"]:
            v["normalisations"].append(norm)
    return list(seen.values())


#: Most rows in table.tex (a float cannot break across pages); every row is in data.csv.
MAX_TABLE_ROWS = 48


def table_tex(env, study, records):
    from derive.output.render import render, tex_escape

    K = max(p.problem.K for p in study.points)
    rows = []
    for p, rec in zip(study.points, records):
        for s in rec["stationary"]:
            cells = [tex_escape(v) for _, v in p.swept] + [s["kind"]]
            cells += [table_number(x, study.table_digits)[0] for x in s["policy"]] + ["--"] * (K - p.problem.K)
            cells += ["yes" if s["certified"] else "no", _stable_word(s["stable"])]
            rows.append(" & ".join(cells))
        if not rec["stationary"]:
            rows.append(" & ".join([tex_escape(v) for _, v in p.swept]
                                   + [r"\multicolumn{" + str(K + 3) + "}{l}{none found}"]))
    note = ""
    if len(rows) > MAX_TABLE_ROWS:
        step = -(-len(rows) // MAX_TABLE_ROWS)
        note = (f"  Every {step}th of the {len(rows)} rows; all of them are in "
                f"\\texttt{{{tex_escape('data.csv')}}}.")
        rows = rows[::step]
    header = ([r"\texttt{" + tex_escape(k) + "}" for k in study.sweep_keys] + ["kind"]
              + [f"$\\pi({i})$" for i in range(1, K + 1)] + ["certified", "stable"])
    spec = "l" * (len(study.sweep_keys) + 1) + "l" * K + "ll"
    what = ("at each grid point of " + ", ".join(r"\texttt{" + tex_escape(k) + "}"
                                                 for k in study.sweep_keys)
            if study.sweep_keys else "of this problem")
    return render(env, "study_table.tex.jinja", source=Path(study.path).name, title=study.title,
                  what=what, digits=study.table_digits, note=note, label=_label(study, "tab"),
                  spec=spec, header=" & ".join(header), rows=rows)


def _x_value(point, key):
    prob = point.problem
    return {"beta": prob.beta, "group": prob.group, "std-eps": prob.std_eps}[key]


def figure_tex(env, study, records):
    from mpmath import mpf, nstr

    from derive.output.render import render, tex_escape

    key, answer = study.figure_x, study.figure_answer
    others = [k for k in study.sweep_keys if k != key]
    curves, dropped = {}, 0
    multiple = False
    for p, rec in zip(study.points, records):
        x = p.index + 1 if key is None else _x_value(p, key)
        if x is None:  # G = inf has no place on a G axis
            dropped += 1
            continue
        legend = ", ".join(f"{k} = {v}" for k, v in p.swept if k in others)
        interior = [s for s in rec["stationary"] if s["kind"] == "interior"]
        multiple |= len(interior) > 1
        for s in interior:
            curves.setdefault(legend, []).append((Fraction(x), s["policy"][answer - 1]))
    xs = [x for c in curves.values() for x, _ in c]
    log = (key is not None and xs and min(xs) > 0 and max(xs) / min(xs) >= 50)
    out = []
    for legend, pts in curves.items():
        coords = [f"({float(x):.10g}, {nstr(mpf(y), 10)})" for x, y in sorted(pts)]
        out.append({"legend": tex_escape(legend) if legend else "", "coords": coords,
                    "style": "only marks" if multiple else "thick"})
    xlabel = ("grid point (in the order of the table)" if key is None
              else {"beta": r"$\beta$", "group": r"group size $G$",
                    "std-eps": r"$\epsilon$ added to the std"}[key])
    per = ", ".join(r"\texttt{" + tex_escape(k) + "}" for k in others)
    caption = (f"$\\pi({answer})$ at the interior stationary policies against {xlabel}"
               + (f", one curve per value of {per}" if others and key else "")
               + (f"; the {dropped} grid points with $G \\to \\infty$ are in the table only"
                  if dropped else "") + ".")
    return render(env, "study_figure.tex.jinja", source=Path(study.path).name, title=study.title,
                  axis="semilogxaxis" if log else "axis", xlabel=xlabel,
                  ylabel=f"$\\pi({answer})$", curves=out,
                  columns=1 if max((len(c["legend"]) for c in out), default=0) > 22 else 2,
                  caption=caption,
                  label=_label(study, "fig"))


def _display(rows, label):
    body = " \\\\\n".join(rows)
    return (f"\\begin{{equation}}\n\\grpofitmath{{\\begin{{aligned}}\n{body}\n"
            f"\\end{{aligned}}}} \\label{{{label}}}\n\\end{{equation}}")


def _norm_words(v):
    """The advantages of the variant *v* in words: "the shift-only advantage ..., and ..."."""
    words = []
    for normalisation, std, std_eps in v["normalisations"]:
        if normalisation == "shift-only":
            words.append("the shift-only advantage $r_i - \\bar r$")
        elif normalisation == "none":
            words.append("the raw reward $r_i$ as advantage")
        else:
            eps = "" if not std_eps else f" plus $\\epsilon = {std_eps}$"
            words.append(f"the shift-scale advantage of Eq.~\\grpoeq{{2}} with the {std} std{eps}")
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def section_tex(env, study, variants, closed=None):
    """``section.tex``: the derived gradient of the expected penalty and the stationarity
    condition (arXiv:2502.18548v3, Eqs. (10)-(11) and their variants) of each variant."""
    from derive.model.objective import PENALTIES
    from derive.model.variants import EffectiveDivergence
    from derive.output.render import render
    from derive.paper import symbols as S
    from derive.paper.latex import latex
    from derive.results.variants import gradient_form
    from derive.verify.display import form_tex

    (pi_o,), (ref_o,) = (S.policy_symbols(n, "o") for n in ("pi", "pi_ref"))
    condition = (r"P_G(o \mid \pi) - \mathbb{E}_{o' \sim \pi} P_G(o' \mid \pi) &= "
                 r"\beta\,(g_o - \mathbb{E}_{o' \sim \pi} g_{o'})")
    out = []
    for i, v in enumerate(variants, 1):
        tag = f"{i}" if len(variants) > 1 else ""
        head = (f"Penalty ${v['base'][0]}_{v['base'][1]}$" + ("-is" if v["iw"] else "")
                + f", KL in the {v['kl_in']}.")
        if v["kl_in"] == "loss":
            e = EffectiveDivergence(v["base"], v["iw"], "o").derive()
            g = form_tex(gradient_form(v["base"], v["iw"], pi_o, ref_o))   # proven: section_checks
            div = ("none: the gradient is constant, so $\\beta$ drops out of stationarity"
                   if e.divergence == "none" else f"${e.tex}$")
            text = (f"With {_norm_words(v)}, $P_G(o \\mid \\pi)$ is the reward preference of "
                    "Eq.~\\grpoeq{6} for that advantage (as the grid point says).  The expected penalty "
                    "$D(\\pi; \\pi_{\\mathrm{old}})$ of Eq.~\\grpoeq{7} has, at "
                    f"$\\pi_{{\\mathrm{{old}}}} = \\pi$, the gradient $g_o = {g}$ "
                    f"(Eq.~\\grpoeq{{10}} for $k_3$); the divergence it follows on the simplex: {div}.  "
                    "The Lagrangian of $J(\\pi'; \\pi_{\\mathrm{old}})$ on the simplex gives, for "
                    "every output with $\\pi(o) > 0$ (Eq.~\\grpoeq{11} for $k_3$; checked "
                    "symbolically against the derived Lagrangian),")
            math = _display([condition], _label(study, f"eq-condition{tag}"))
        else:
            k = latex(PENALTIES[v["base"]].sample(pi_o, ref_o))
            text = (f"The KL enters the reward: each sampled reward becomes "
                    f"$r_i - \\beta\\, k(o_i)$ with $k(o) = {k}$ (no gradient through it), "
                    f"and {_norm_words(v)} is taken of the modified rewards.  The objective is "
                    "then linear in the trial policy, so at $\\pi_{\\mathrm{old}} = \\pi$ every "
                    "output with $\\pi(o) > 0$ satisfies, with $P'_G$ the reward preference "
                    "(Eq.~\\grpoeq{6}) of the modified rewards,")
            math = _display([r"P'_G(o \mid \pi) &= \mathbb{E}_{o' \sim \pi} P'_G(o' \mid \pi)"],
                            _label(study, f"eq-condition{tag}"))
        out.append({"heading": head, "text": text, "math": math})
    for j, ((penalty, norm, std, std_eps, G), cf) in enumerate((closed or {}).items(), 1):
        base = penalty.removesuffix("-is")
        where = "$G = 2$" if G == 2 else "$G \\to \\infty$"
        paper = ""
        if penalty == "k3" and norm == "shift-scale" and std == "population" and not std_eps:
            paper = (" (Eq.~\\grpoeq{14} with $\\gamma = 1$)" if G == 2
                     else " (Eq.~\\grpoeq{15})")
        eps_words = f", $\\epsilon = {std_eps}$" if std_eps else ""
        text = (f"Two answers with deterministic rewards $r(a) > r(b)$, penalty ${base[0]}_{base[1]}$"
                + ("-is" if penalty.endswith("-is") else "") + f", {norm}"
                + (f" ({std} std{eps_words})" if norm == "shift-scale" else "")
                + f", {where}: with $p = \\pi_{{\\mathrm{{ref}}}}(a)$, SymPy solves the derived "
                "binary condition (the conditions of $a$ and $b$ subtracted) for the closed form"
                f"{paper}, the one root admissible on $(0, 1)$; at every such grid point it lies "
                "in the certified enclosure of the tabulated $\\pi(a)$.")
        out.append({"heading": "Closed form.", "text": text,
                    "math": _display([f"\\pi(a) &= {closed_form_tex(cf, (penalty, norm, std, std_eps, G))}"],
                                     _label(study, f"eq-closed-form{j}"))})
    table = f"\\grporef{{Table}}{{{_label(study, 'tab')}}}{{the study's table}} lists them"
    figure = (f" and \\grporef{{Figure}}{{{_label(study, 'fig')}}}{{the study's figure}} plots them"
              if study.figure_x else "")
    where = "at every grid point" if study.sweep_keys else ""
    intro = (f"The stationary policies of this study solve the condition below{' ' + where if where else ''} "
             "(after \\grpopaper{}, arXiv:2502.18548v3); " + table + figure + ".")
    return render(env, "study_section.tex.jinja", source=Path(study.path).name, title=study.title,
                  label=_label(study, "sec"), intro=intro, variants=out)


def author_closed_form(cf, c):
    """The author's form of a binary closed form ``pi(a)`` in ``p`` and ``beta``, or ``None``.

    *c* is the derived preference gap ``P_G(a) - P_G(b)`` when it does not depend on
    ``pi`` (``G = 2``), else ``None``.  Two families, each proven equal to *cf*
    (:func:`derive.verify.display.reduced_form`) before it is used: the root of
    ``beta (x - p) = c x (1 - x)`` (Eq. (14) with ``gamma = c``), and logarithmic pooling
    ``p e^{c/beta} / (1 - p + p e^{c/beta})`` (Eqs. (3)-(4)).
    """
    from sympy import Add, Mul, Pow, exp, sqrt

    from derive.paper import symbols as S
    from derive.verify.display import U, frac, reduced_form

    if c is None:
        return None
    p, beta = S.p, S.beta
    ratio = beta / c
    coeff, rest = ratio.as_coeff_Mul()
    four = U(Mul, 4 * coeff, rest, p) if coeff != 1 else U(Mul, 4, ratio, p)
    quadratic = frac(U(Add, 1, -ratio, sqrt(U(Add, U(Pow, U(Add, 1, -ratio), 2), four),
                                            evaluate=False)), 2)
    e = exp(c / beta, evaluate=False)
    pooling = U(Mul, U(Mul, p, e), Pow(U(Add, 1, -p, U(Mul, p, e)), -1, evaluate=False))
    for form in (quadratic, pooling):
        if reduced_form(form - cf, (1 - p,)) == 0:
            return form
    return None


def closed_form_tex(cf, key):
    """LaTeX of a binary closed form: the author's form where :func:`author_closed_form`
    finds one (proven equal), SymPy's otherwise.  *key*: ``(penalty, norm, std, std_eps, G)``."""
    from derive.model.variants import binary_preference_gap, eps
    from derive.paper.latex import latex
    from derive.verify.display import form_tex

    _, norm, std, std_eps, G = key
    gap = binary_preference_gap(norm, std, eps if std_eps else 0, G) if G == 2 else None
    from derive.paper.symbols import x as x_symbol

    c = gap if gap is not None and x_symbol not in gap.free_symbols else None
    form = author_closed_form(cf, c)
    return form_tex(form) if form is not None else latex(cf)


def study_files(study, records):
    """``{file: text}`` of the study's output folder; :class:`ChecksFailed` if a check fails."""
    from derive.output.render import make_env

    variants = study_variants(study)
    closed, closed_checks = closed_forms(study, records)
    ver = verification(study, records, variants, closed_checks)
    if ver["summary"]["failed"]:
        first = next((f"grid point {pt['index'] + 1}: {c['check']} ({c['detail']})"
                      for pt in ver["points"] for c in pt["checks"] if not c["passed"]),
                     next((f"{c['check']} ({c['detail']})" for c in ver["section"]
                           if not c["passed"]), ""))
        raise ChecksFailed(f"{ver['summary']['failed']} of {ver['summary']['checks']} checks "
                           f"failed; the first: {first}")
    env = make_env()
    return {
        "data.csv": data_csv(study, records),
        "verification.json": json.dumps(ver, indent=1) + "\n",
        "table.tex": table_tex(env, study, records),
        "figure.tex": figure_tex(env, study, records),
        "section.tex": section_tex(env, study, variants, closed),
    }


#: What ``grpo-derive study new NAME`` writes: a commented study that runs as it is.
TEMPLATE = '''\
# A study for grpo-derive: `grpo-derive study studies/{name}.toml` writes
# results/studies/{name}/ (data.csv, table.tex, figure.tex, section.tex, verification.json).
# Every value is a string, read exactly as on the command line of `grpo-derive stationary`
# (decimals such as "0.04" or "1e-3", fractions such as "1/3"); nothing is evaluated.

title = "{name}"

[problem]
# The options of `grpo-derive stationary`, by their long names:
#   ref            reference policy, K >= 2 probabilities summing exactly to 1 (required)
#   rewards        deterministic reward of each answer          (one of rewards,
#   success        Bernoulli success probability of each answer  success and
#   reward-dist    a list of "V:P,V:P,..." strings, one per answer  reward-dist)
#   beta, group ("inf" for G -> infinity), penalty (k1 k2 k3 k1-is k2-is k3-is),
#   kl-in (loss reward), normalisation (shift-scale shift-only none),
#   std (population sample), std-eps, preset (a trainer's defaults), digits (5..1000)
ref = "0.25,0.25,0.25,0.25"
rewards = "1,2/3,1/3,0"
digits = "30"

[sweep]
# Any of the keys above, each with a list of values: the study is the product grid
# (the last key varies fastest).
beta = ["0.04", "0.1", "0.5"]

[table]
# digits = "6"      # significant digits in table.tex (every one certified)

[figure]
# x = "beta"        # the swept key on the horizontal axis (beta, group or std-eps)
# answer = "1"      # plot pi(answer)
'''


def new_study(name, folder="studies"):
    """Write the commented template ``<folder>/<name>.toml``; refuse to overwrite a file."""
    if not NAME.fullmatch(name):
        raise StudyError(f"study new: {name!r} is not a study name; expected letters, digits, "
                         "'-' and '_' (at most 64, starting with a letter or digit)")
    path = Path(folder) / f"{name}.toml"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise StudyError(f"study new: {path} exists; refusing to overwrite it (choose another "
                         "name, or edit that file)") from None
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(TEMPLATE.format(name=name))
    return path
