"""The parts of the results: one per result module, each with its own cache and
its own dependencies (what ``make`` runs, on the showyourwork pattern).

:func:`compute_part` computes one result module into plain, JSON-serialisable
data; :func:`merge` puts every part together in the paper's order, as
:func:`derive.output.pipeline.compute` returns it (which is the two in one process).

``make`` runs each part in its own process, in parallel::

    python -m derive.output.parts part NAME --cache .cache/parts/NAME.json --deps .cache/parts/NAME.d
    python -m derive.output.parts merge --cache .cache/computed.json .cache/parts/*.json

A part's cache records the SHA-256 of every module of the package that the
process had imported when the part was computed (:func:`imported_sources`: this
module, :mod:`derive.verify.checks` and the result module with everything it imports,
not the writers of files, which are imported afterwards) and the package
versions (:func:`environment`).  Its ``.d`` file lists the same sources as
make prerequisites, as a compiler's ``-MD -MP`` file does, so a change to one
module recomputes only the parts that import it; a module that disappears
makes its parts stale, never breaks ``make``.  (A result module reads no file
but Python modules; one that did would have to add that file to its sources.)
The tests read a part's cache
instead of computing it again when :func:`is_fresh` says it was computed from
the sources now in the tree with these versions.
"""

import argparse
import hashlib
import importlib
import os
import sys
from pathlib import Path

from derive.numerics.precision import CHECK_DIGITS, CHECK_SEED
from derive.output.cache import PAPER

#: The result modules, in the paper's order.  Each has ``results()``, or ``section()``
#: and ``checks()``.
RESULT_MODULES = (
    "derive.results.advantage",
    "derive.results.preference",
    "derive.results.penalty",
    "derive.results.stationarity",
    "derive.results.binary",
    "derive.results.extensions",
    "derive.results.baselines",
    "derive.results.tables",
    "derive.results.figures",
    "derive.results.noisy",
    "derive.results.finite_groups",
    "derive.results.large_group",
    "derive.results.stability",
    "derive.results.maximiser_table",
    "derive.results.variants",
    "derive.results.paper_notes",
)

#: The name of each part (the last name of its module): its cache is ``.cache/parts/NAME.json``.
PARTS = tuple(name.rsplit(".", 1)[-1] for name in RESULT_MODULES)

#: The folder that holds the ``derive`` package: source paths are relative to it.
ROOT = Path(__file__).resolve().parent.parent.parent


def compute_part(name):
    """The plain data of the part *name* (one of :data:`PARTS`): its sections (their
    display checks go among the checks), check records and artefacts.

    >>> part = compute_part("penalty")
    >>> part["part"], [s["key"] for s in part["sections"]], len(part["checks"]) > 0
    ('penalty', ['penalty'], True)
    """
    from dataclasses import asdict

    mod = importlib.import_module(RESULT_MODULES[PARTS.index(name)])
    if hasattr(mod, "results"):
        res = mod.results()
    else:
        res = {"sections": [mod.section()], "checks": mod.checks(), "artefacts": []}
    sections, checks = [], []
    for s in res["sections"]:
        checks.extend(c.as_record() for c in s.display_checks)
        sections.append({k: v for k, v in asdict(s).items() if k != "display_checks"})
    checks.extend(c.as_record() for c in res["checks"])
    return {"paper": PAPER, "digits": CHECK_DIGITS, "seed": CHECK_SEED, "part": name,
            "sections": sections, "checks": checks, "artefacts": list(res["artefacts"])}


def merge(parts):
    """The data of every part, in the paper's order (:data:`PARTS`), as one record
    of the shape :func:`derive.output.pipeline.compute` returns.  *parts* must hold each
    part once; a check id may not repeat.  Raises :class:`ValueError`."""
    by_name = {}
    for part in parts:
        if part["part"] in by_name:
            raise ValueError(f"the part {part['part']!r} is given twice")
        by_name[part["part"]] = part
    missing = [name for name in PARTS if name not in by_name]
    unknown = sorted(set(by_name) - set(PARTS))
    if missing or unknown:
        raise ValueError("the parts do not match this version's: "
                         + "; ".join(filter(None, [missing and f"missing {', '.join(missing)}",
                                                   unknown and f"unknown {', '.join(unknown)}"])))
    sections, checks, artefacts = [], [], []
    for name in PARTS:
        sections.extend(by_name[name]["sections"])
        checks.extend(by_name[name]["checks"])
        artefacts.extend(by_name[name]["artefacts"])
    seen = set()
    for c in checks:
        if c["id"] in seen:
            raise ValueError(f"duplicate check id {c['id']!r}")
        seen.add(c["id"])
    return {"paper": PAPER, "digits": CHECK_DIGITS, "seed": CHECK_SEED,
            "sections": sections, "checks": checks, "artefacts": artefacts}


# -- what a part depends on ------------------------------------------------------


def environment():
    """The versions that, besides the sources, decide a part's data."""
    import flint
    import mpmath
    import sympy

    return {"python": "{}.{}".format(*sys.version_info[:2]), "sympy": sympy.__version__,
            "mpmath": mpmath.__version__, "python-flint": flint.__version__}


def _sha256(path):
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def imported_sources():
    """``{path relative to ROOT: SHA-256}`` of every module of the package that this
    process has imported."""
    package = ROOT / "derive"
    sources = {}
    for mod in list(sys.modules.values()):
        file = getattr(mod, "__file__", None)
        if not file:
            continue
        path = Path(file).resolve()
        if path.suffix == ".py" and path.is_relative_to(package):
            sources[path.relative_to(ROOT).as_posix()] = _sha256(path)
    return dict(sorted(sources.items()))


def is_fresh(data):
    """Whether *data* (a part, or the merged cache) was computed from the sources now
    under :data:`ROOT` and with the versions of :func:`environment`: then computing
    it again would give the same data."""
    sources = data.get("sources") if isinstance(data, dict) else None
    if not isinstance(sources, dict) or not sources or data.get("environment") != environment():
        return False
    return all(isinstance(rel, str) and isinstance(digest, str)
               and _sha256(ROOT / rel) == digest for rel, digest in sources.items())


def load_part(path, name=None):
    """The part saved in the file *path*, checked by
    :func:`derive.output.cache.validate_computed`; :class:`derive.output.cache.Malformed`
    if it is not one (or not the part *name*)."""
    from derive.output.cache import Malformed, load_cache

    data = load_cache(path)
    if not isinstance(data.get("part"), str) or data["part"] not in PARTS:
        raise Malformed("it is not the cache of a part (no known 'part' field)")
    if name is not None and data["part"] != name:
        raise Malformed(f"it holds the part {data['part']!r}, not {name!r}")
    return data


def fresh_part(path, name):
    """The part *name* saved in *path* if it is there, well formed and fresh
    (:func:`is_fresh`), else None."""
    from derive.output.cache import Malformed

    try:
        data = load_part(path, name)
    except Malformed:
        return None
    return data if is_fresh(data) else None


def merged_sources(parts):
    """The sources of every part, which must agree where they overlap."""
    sources = {}
    for part in parts:
        for rel, digest in part.get("sources", {}).items():
            if sources.setdefault(rel, digest) != digest:
                raise ValueError(f"the parts were computed from different versions of {rel}")
    return dict(sorted(sources.items()))


def dependency_rules(target, sources, start=None):
    """A makefile fragment: *target* depends on each of *sources* (paths relative
    to :data:`ROOT`, written relative to *start*, default the working folder, where
    make runs), each of which may disappear without breaking ``make``.

    >>> print(dependency_rules(".cache/parts/x.json", ["derive/a.py"], start=ROOT), end="")
    .cache/parts/x.json: derive/a.py
    derive/a.py:
    """
    def shown(rel):
        path = ROOT / rel
        try:
            here = os.path.relpath(path, start)
        except ValueError:  # another drive
            here = str(path)
        text = path.as_posix() if here.startswith("..") else Path(here).as_posix()
        return text.replace("$", "$$").replace(" ", "\\ ").replace("#", "\\#")
    deps = [shown(rel) for rel in sources]
    return "".join([f"{target}: {' '.join(deps)}\n"] + [f"{d}:\n" for d in deps])


# -- the command line of make's steps ---------------------------------------------


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise _UsageError(message)


def _parser():
    parser = _Parser(prog="python -m derive.output.parts",
                     description="The steps of `make`: compute one part into its own cache, "
                                 "or merge the parts' caches into one.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    p = sub.add_parser("part", help="compute one part and save it")
    p.add_argument("name", help=f"one of: {', '.join(PARTS)}")
    p.add_argument("--cache", required=True, help="the part's cache file to write (JSON)")
    p.add_argument("--deps", help="also write the makefile rules of its dependencies here")
    p = sub.add_parser("merge", help="merge the caches of every part into one")
    p.add_argument("--cache", required=True, help="the cache file to write (JSON)")
    p.add_argument("parts", nargs="+", help="the caches of the parts")
    return parser


def _refused(option, path, prepare):
    from derive.output import outputs

    try:
        prepare(path)
    except outputs.Refused as exc:
        raise _UsageError(f"{option} {path}: {exc}") from None


def _part(args):
    import time

    if args.name not in PARTS:
        raise _UsageError(f"unknown part {args.name!r}; the parts are {', '.join(PARTS)}")
    start = time.perf_counter()
    data = compute_part(args.name)
    # recorded before the writers of files are imported: they are not what the data depends on
    data["environment"] = environment()
    data["sources"] = imported_sources()
    failed = [c for c in data["checks"] if c["status"] != "pass"]
    if failed:
        for c in failed:
            print(f"  FAIL {c['id']}: {c['statement']}", file=sys.stderr)
        print(f"part {args.name}: {len(failed)} of {len(data['checks'])} checks fail; "
              "nothing written", file=sys.stderr)
        return 1
    from derive.output import cache as pipeline
    from derive.output import outputs

    _refused("--cache", args.cache, pipeline.prepare_cache)
    if args.deps is not None:
        _refused("--deps", args.deps, lambda p: outputs.prepare_file(
            p, lambda f: Path(f).read_text(errors="replace").startswith(f"{args.cache}: ")))
        # first, so that a saved part never lacks its dependencies
        outputs.write_file(dependency_rules(args.cache, data["sources"]), args.deps)
    pipeline.save_cache(data, args.cache)
    print(f"part {args.name}: {len(data['checks'])} checks pass "
          f"({time.perf_counter() - start:.1f} s)", file=sys.stderr)
    return 0


def _merge(args):
    from derive.output import cache as pipeline

    _refused("--cache", args.cache, pipeline.prepare_cache)
    parts = []
    for path in args.parts:
        try:
            parts.append(load_part(path))
        except pipeline.Malformed as exc:
            raise _UsageError(f"{path}: {exc}; run `make` to compute it again") from None
    try:
        merged = merge(parts)
        merged["environment"] = parts[0].get("environment")
        if any(p.get("environment") != merged["environment"] for p in parts):
            raise ValueError("the parts were computed with different package versions")
        merged["sources"] = merged_sources(parts)
    except ValueError as exc:
        raise _UsageError(str(exc)) from None
    pipeline.save_cache(merged, args.cache)
    return 0


def main(argv=None):
    """``python -m derive.output.parts part NAME --cache F [--deps D]`` and
    ``python -m derive.output.parts merge --cache F PART...``: the steps of ``make``.
    Exit status as for ``grpo-derive``: 0 done; 1 a check failed (nothing written)
    or writing failed; 2 bad input or a refused destination (one line
    ``error: ...``); 130 interrupted."""
    try:
        args = _parser().parse_args(argv)
        return {"part": _part, "merge": _merge}[args.command](args)
    except _UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        outputs = sys.modules.get("derive.output.outputs")  # imported only to write, after computing
        if outputs is None or not isinstance(exc, outputs.WriteFailed):
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    # the imported module's main, not this __main__ copy's
    from derive.output.parts import main as _main

    raise SystemExit(_main())
