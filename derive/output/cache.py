"""Files read back: the computed cache (``render``) and ``verification.json`` (``summary``).

Every field is checked before it is used (:func:`load_cache`,
:func:`load_verification`); what does not fit raises :class:`Malformed`.  Kept
apart from :mod:`derive.output.pipeline` so that :mod:`derive.output.parts` (one cache per
part) and the pipeline read and write caches without importing each other.
"""

import json
import math
import re

#: The paper every cache and ``verification.json`` is about.
PAPER = "arXiv:2502.18548v3"


def _outputs():
    """:mod:`derive.output.outputs`, imported when a file is written or a path checked (a part that
    only reads :data:`PAPER` does not depend on it)."""
    from derive.output import outputs

    return outputs


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
            _outputs().safe_relative(art["path"])
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
    """Refuse (:class:`derive.output.outputs.Refused`) a cache destination that cannot be
    written or that holds a file this engine did not write, before any work."""
    return _outputs().prepare_file(path, is_cache)


def save_cache(computed, path):
    """Write the cache file atomically (:func:`derive.output.outputs.write_file`)."""
    _outputs().write_file(json.dumps(computed, indent=1), path)


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
