"""The pipeline: compute every derivation and check, then render ``results/``.

Computation (SymPy derivations, mpmath checks) is kept apart from rendering
(Jinja), so that a change of layout does not recompute: :func:`compute`
returns plain data that :func:`write_results` renders.  The output folder is
written by :func:`derive.outputs.write_folder`: a temporary sibling swapped in
only when complete, so an interrupted run never leaves a half-written
``results/``, and a folder that is not an earlier output is refused.

Data read back from files (a cache for ``render``, ``verification.json`` for
``summary``) is checked field by field before it is used
(:func:`load_cache`, :func:`load_verification`); what does not fit raises
:class:`Malformed`.

Each result module is a *part* (:mod:`derive.parts`), computed alone by
:func:`derive.parts.compute_part`; :func:`derive.parts.merge` puts the parts
together in the paper's order, and :func:`compute` is the two in one process.
``make`` computes each part in its own process, into its own cache, and merges
the caches into the one that ``render`` reads.
"""

import json
import math
import re
import sys

from derive import outputs

# RESULT_MODULES, compute_part and merge are also this module's names, as before the parts
from derive.parts import PAPER, PARTS, RESULT_MODULES, compute_part, merge  # noqa: F401


class ChecksFailed(Exception):
    """Raised when at least one verification record fails."""


def compute(progress=None):
    """Run every derivation and check; return plain, JSON-serialisable data."""
    parts = []
    for i, name in enumerate(PARTS):
        if progress:
            progress(f"[{i + 1}/{len(PARTS)}] {name}")
        parts.append(compute_part(name))
    return merge(parts)


def verification(computed):
    """The content of ``verification.json``."""
    checks = computed["checks"]
    passed = sum(c["status"] == "pass" for c in checks)
    return {"paper": computed["paper"], "digits": computed["digits"], "seed": computed["seed"],
            "summary": {"total": len(checks), "passed": passed, "failed": len(checks) - passed},
            "checks": checks}


def _error_tex(c):
    if c["method"] == "symbolic":
        return "exact"
    e = c["max_abs_error"]
    if e == 0:
        return "$0$"
    mantissa, exponent = f"{e:.2e}".split("e")
    return rf"${mantissa} \times 10^{{{int(exponent)}}}$"


def _by_place(checks):
    """Rows of the verification summary: per place of the paper, the number of
    records of each method and how many pass, in the paper's order."""
    from derive.render import paper_refs

    places = {}
    for c in checks:
        row = places.setdefault(c["paper_ref"], {"symbolic": 0, "numeric": 0, "enumeration": 0,
                                                 "interval": 0, "passed": 0, "total": 0})
        row[c["method"]] = row.get(c["method"], 0) + 1
        row["passed"] += c["status"] == "pass"
        row["total"] += 1
    return [dict(row, place=paper_refs(ref)) for ref, row in sorted(places.items(),
                                                                      key=lambda kv: _natural(kv[0]))]


def _natural(ref):
    """The paper's order: equations by number, then sections and appendices."""
    nums = [int(n) for n in re.findall(r"\d+", ref)]
    return (0 if ref.startswith("(") else 1, nums, ref)


def render_files(computed):
    """Every output file as ``{relative path: text}``."""
    from derive.render import make_env, render

    env = make_env()
    files = {}
    fragments = []
    for sec in computed["sections"]:
        path = f"sections/{sec['key']}.tex"
        files[path] = render(env, "section.tex.jinja", section=sec)
        fragments.append(path[:-4])
    for art in computed.get("artefacts", []):
        if "template" in art:
            files[art["path"]] = render(env, art["template"], **art["context"])
            if art["path"].endswith(".tex"):
                fragments.append(art["path"][:-4])
        else:
            files[art["path"]] = art["text"]
    rows = [dict(c, error_tex=_error_tex(c),
                 digits_tex="--" if c["digits"] is None else str(c["digits"]))
            for c in computed["checks"]]
    ver = verification(computed)
    counts = {"passed": ver["summary"]["passed"], "total": ver["summary"]["total"]}
    files["tables/verification.tex"] = render(env, "verification_table.tex.jinja",
                                              by_place=_by_place(computed["checks"]), **counts)
    files["verification-full.tex"] = render(env, "verification_full.tex.jinja", checks=rows,
                                            **counts)
    fragments.append("tables/verification")
    files["preamble.tex"] = render(env, "preamble.tex.jinja")
    files["main.tex"] = render(env, "main.tex.jinja", fragments=fragments,
                               digits=computed["digits"], seed=computed["seed"])
    files["verification.json"] = json.dumps(ver, indent=2) + "\n"
    return files


def write_results(computed, out, files=None):
    """Render *computed* (or write the rendered *files*) as the folder *out*,
    swapped in atomically (:func:`derive.outputs.write_folder`).

    Raises :class:`ChecksFailed` (and leaves *out* untouched) if any check
    fails; :class:`derive.outputs.Refused` if *out* is not new, empty or an
    earlier output; :class:`derive.outputs.WriteFailed` if writing fails.
    """
    ver = verification(computed)
    if ver["summary"]["failed"]:
        failed = [c["id"] for c in ver["checks"] if c["status"] != "pass"]
        raise ChecksFailed(f"{len(failed)} check(s) failed: {', '.join(failed)}")
    outputs.write_folder(render_files(computed) if files is None else files, out)
    return ver


class Malformed(ValueError):
    """A file read back (cache, verification.json) is not what this engine writes."""


def _kind(value):
    return {dict: "an object", list: "a list", str: "a string", bool: "true/false",
            type(None): "null"}.get(type(value), "a number")


def _need(value, types, where):
    """*value* if it is of one of *types* (``int`` and ``float`` never admit a
    bool, and a float must be finite), else :class:`Malformed`."""
    ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
    if ok and isinstance(value, float) and not math.isfinite(value):
        ok = False
    if not ok:
        names = {dict: "an object", list: "a list", str: "a string", int: "an integer",
                 float: "a number", bool: "true/false", type(None): "null"}
        want = " or ".join(dict.fromkeys(names[t] for t in types))
        raise Malformed(f"{where} must be {want}, not {_kind(value)}")
    return value


def _fields(obj, spec, where):
    """Check the object *obj* has each field of ``{name: types}``."""
    _need(obj, (dict,), where)
    for name, types in spec.items():
        if name not in obj:
            raise Malformed(f"{where} has no field {name!r}")
        _need(obj[name], types, f"{where}.{name}")
    return obj


_NUMBER = (int, float)
_NAME = re.compile(r"[A-Za-z0-9_-]+\Z")
_CHECK_FIELDS = {"id": (str,), "paper_ref": (str,), "statement": (str,), "method": (str,),
                 "max_abs_error": _NUMBER, "digits": (int, type(None)), "status": (str,)}
_METHODS = ("symbolic", "numeric", "enumeration", "interval")


def _check_records(checks, where):
    _need(checks, (list,), where)
    seen = set()
    for i, c in enumerate(checks):
        _fields(c, _CHECK_FIELDS, f"{where}[{i}]")
        if c["method"] not in _METHODS:
            raise Malformed(f"{where}[{i}].method is {c['method']!r}, not one of "
                            f"{', '.join(_METHODS)}")
        if c["status"] not in ("pass", "fail"):
            raise Malformed(f"{where}[{i}].status is {c['status']!r}, not 'pass' or 'fail'")
        if c["id"] in seen:
            raise Malformed(f"{where} has the id {c['id']!r} twice")
        seen.add(c["id"])


def validate_computed(data):
    """*data* if it has the shape :func:`compute` returns, else :class:`Malformed`.

    >>> validate_computed({"paper": PAPER, "digits": 50, "seed": 1, "sections": [],
    ...                    "checks": [], "artefacts": []})["digits"]
    50
    >>> try:
    ...     validate_computed([1, 2])
    ... except Malformed as exc:
    ...     print(exc)
    the cache must be an object, not a list
    """
    _fields(data, {"paper": (str,), "digits": (int,), "seed": (int,), "sections": (list,),
                   "checks": (list,), "artefacts": (list,)}, "the cache")
    if data["paper"] != PAPER:
        raise Malformed(f"the cache is for {data['paper']!r}, not {PAPER}")
    for i, sec in enumerate(data["sections"]):
        where = f"sections[{i}]"
        _fields(sec, {"key": (str,), "title": (str,), "paper_ref": (str,), "summary": (str,),
                      "steps": (list,), "remarks": (list,)}, where)
        if not _NAME.match(sec["key"]):
            raise Malformed(f"{where}.key {sec['key']!r} is not a plain name")
        for j, step in enumerate(sec["steps"]):
            _fields(step, {"text": (str,), "math": (str,), "label": (str,)}, f"{where}.steps[{j}]")
        for j, remark in enumerate(sec["remarks"]):
            _need(remark, (str,), f"{where}.remarks[{j}]")
    _check_records(data["checks"], "checks")
    for i, art in enumerate(data["artefacts"]):
        where = f"artefacts[{i}]"
        _fields(art, {"path": (str,)}, where)
        try:
            outputs.safe_relative(art["path"])
        except ValueError as exc:
            raise Malformed(f"{where}.path: {exc}") from None
        if "template" in art:
            _fields(art, {"template": (str,), "context": (dict,)}, where)
            if not _NAME.match(art["template"].removesuffix(".tex.jinja")):
                raise Malformed(f"{where}.template {art['template']!r} is not a template name")
        else:
            _fields(art, {"text": (str,)}, where)
    return data


def load_cache(path):
    """The data saved by ``compute`` in the file *path*, checked by :func:`validate_computed`.

    Raises :class:`Malformed` with a one-line reason if it cannot be read or does not fit.
    """
    return validate_computed(_read_json(path))


def _read_json(path):
    """The JSON in the file *path*, or :class:`Malformed` with a one-line reason."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except OSError as exc:
        raise Malformed(f"cannot read it: {exc.strerror}") from None
    except (ValueError, RecursionError) as exc:
        raise Malformed(f"not JSON ({str(exc).splitlines()[0][:80]})") from None
    return data


def is_cache(path):
    """Whether the file *path* is a cache written by this engine (so ``compute``
    may replace it): a JSON object naming the paper."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(data, dict) and data.get("paper") == PAPER and "checks" in data


def prepare_cache(path):
    """Refuse (:class:`derive.outputs.Refused`) a cache destination that cannot be
    written or that holds a file this engine did not write, before any work."""
    return outputs.prepare_file(path, is_cache)


def save_cache(computed, path):
    """Write the cache file atomically (:func:`derive.outputs.write_file`)."""
    outputs.write_file(json.dumps(computed, indent=1), path)


def validate_verification(ver):
    """*ver* if it has the shape of ``verification.json`` and its summary counts
    its records, else :class:`Malformed`."""
    _fields(ver, {"paper": (str,), "digits": (int,), "summary": (dict,), "checks": (list,)},
            "verification.json")
    s = _fields(ver["summary"], {"total": (int,), "passed": (int,), "failed": (int,)}, "summary")
    _check_records(ver["checks"], "checks")
    passed = sum(c["status"] == "pass" for c in ver["checks"])
    if (s["total"], s["passed"], s["failed"]) != (len(ver["checks"]), passed,
                                                  len(ver["checks"]) - passed):
        raise Malformed(f"its summary ({s['passed']} of {s['total']} pass, {s['failed']} fail) "
                        f"does not count its {len(ver['checks'])} records ({passed} pass)")
    return ver


def load_verification(path):
    """``verification.json`` from *path*, checked by :func:`validate_verification`."""
    return validate_verification(_read_json(path))


def summary_lines(ver):
    s = ver["summary"]
    lines = [f"{s['passed']} of {s['total']} checks pass ({ver['paper']}, "
             f"{ver['digits']} digits)"]
    by_ref = {}
    for c in ver["checks"]:
        by_ref.setdefault(c["paper_ref"], [0, 0])
        by_ref[c["paper_ref"]][0] += c["status"] == "pass"
        by_ref[c["paper_ref"]][1] += 1
    for ref in sorted(by_ref, key=_natural):
        lines.append(f"  {ref:<10} {by_ref[ref][0]}/{by_ref[ref][1]}")
    for c in ver["checks"]:
        if c["status"] != "pass":
            lines.append(f"  FAIL {c['id']}: {c['statement']}")
    return lines


def progress_printer(stream=None):
    """Progress lines to *stream* (default: ``sys.stderr`` as it is at each line)."""
    def progress(msg):
        print(msg, file=stream or sys.stderr, flush=True)
    return progress
