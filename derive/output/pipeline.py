"""The pipeline: compute every derivation and check, then render ``results/``.

Computation (SymPy derivations, mpmath checks) is kept apart from rendering
(Jinja), so that a change of layout does not recompute: :func:`compute`
returns plain data that :func:`write_results` renders.  The output folder is
written by :func:`derive.output.outputs.write_folder`: a temporary sibling swapped in
only when complete, so an interrupted run never leaves a half-written
``results/``, and a folder that is not an earlier output is refused.

Data read back from files (a cache for ``render``, ``verification.json`` for
``summary``) is checked field by field before it is used
(:func:`load_cache`, :func:`load_verification`); what does not fit raises
:class:`Malformed`.

Each result module is a *part* (:mod:`derive.output.parts`), computed alone by
:func:`derive.output.parts.compute_part`; :func:`derive.output.parts.merge` puts the parts
together in the paper's order, and :func:`compute` is the two in one process.
``make`` computes each part in its own process, into its own cache, and merges
the caches into the one that ``render`` reads.
"""

import json
import re
import sys

from derive.output import outputs
from derive.output.parts import PARTS, compute_part, merge
from derive.paper.latex import scientific_tex


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
    return scientific_tex(f"{e:.2e}")      # the JSON's float, 3 significant digits


def _by_place(checks):
    """Rows of the verification summary: per place of the paper, the number of
    records of each method and how many pass, in the paper's order."""
    from derive.output.render import paper_refs

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
    from derive.output.render import make_env, render

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
    swapped in atomically (:func:`derive.output.outputs.write_folder`).

    Raises :class:`ChecksFailed` (and leaves *out* untouched) if any check
    fails; :class:`derive.output.outputs.Refused` if *out* is not new, empty or an
    earlier output; :class:`derive.output.outputs.WriteFailed` if writing fails.
    """
    ver = verification(computed)
    if ver["summary"]["failed"]:
        failed = [c["id"] for c in ver["checks"] if c["status"] != "pass"]
        raise ChecksFailed(f"{len(failed)} check(s) failed: {', '.join(failed)}")
    outputs.write_folder(render_files(computed) if files is None else files, out)
    return ver


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
