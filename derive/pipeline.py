"""The pipeline: compute every derivation and check, then render ``results/``.

Computation (SymPy derivations, mpmath checks) is kept apart from rendering
(Jinja), so that a change of layout does not recompute: :func:`compute`
returns plain data that :func:`write_results` renders.  The output folder is
written to a temporary sibling and swapped in only when complete, so an
interrupted run never leaves a half-written ``results/``.
"""

import importlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from derive.checks import CHECK_DIGITS, CHECK_SEED

#: The result modules, in the paper's order.  Each has ``section()`` and ``checks()``.
RESULT_MODULES = (
    "derive.advantage",
    "derive.preference",
    "derive.penalty",
    "derive.stationarity",
    "derive.binary",
    "derive.extensions",
    "derive.baselines",
    "derive.tables",
    "derive.figures",
    "derive.noisy",
    "derive.finite_groups",
    "derive.large_group",
    "derive.stability",
    "derive.paper_notes",
)

PAPER = "arXiv:2502.18548v3"


class ChecksFailed(Exception):
    """Raised when at least one verification record fails."""


def compute(progress=None):
    """Run every derivation and check; return plain, JSON-serialisable data."""
    from dataclasses import asdict

    sections, checks, artefacts = [], [], []
    for i, name in enumerate(RESULT_MODULES):
        if progress:
            progress(f"[{i + 1}/{len(RESULT_MODULES)}] {name.split('.')[-1]}")
        mod = importlib.import_module(name)
        if hasattr(mod, "results"):
            res = mod.results()
        else:
            res = {"sections": [mod.section()], "checks": mod.checks(), "artefacts": []}
        sections.extend(asdict(s) for s in res["sections"])
        checks.extend(c.as_record() for c in res["checks"])
        artefacts.extend(res["artefacts"])
    seen = set()
    for c in checks:
        if c["id"] in seen:
            raise ValueError(f"duplicate check id {c['id']!r}")
        seen.add(c["id"])
    return {"paper": PAPER, "digits": CHECK_DIGITS, "seed": CHECK_SEED,
            "sections": sections, "checks": checks, "artefacts": artefacts}


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
    files["tables/verification.tex"] = render(env, "verification_table.tex.jinja", checks=rows,
                                              passed=ver["summary"]["passed"],
                                              total=ver["summary"]["total"])
    fragments.append("tables/verification")
    files["preamble.tex"] = render(env, "preamble.tex.jinja")
    files["main.tex"] = render(env, "main.tex.jinja", fragments=fragments,
                               digits=computed["digits"], seed=computed["seed"])
    files["verification.json"] = json.dumps(ver, indent=2) + "\n"
    return files


def write_results(computed, out):
    """Render into a temporary sibling of *out*, then swap it in atomically.

    Raises :class:`ChecksFailed` (and leaves *out* untouched) if any check fails.
    """
    out = Path(out)
    ver = verification(computed)
    if ver["summary"]["failed"]:
        failed = [c["id"] for c in ver["checks"] if c["status"] != "pass"]
        raise ChecksFailed(f"{len(failed)} check(s) failed: {', '.join(failed)}")
    files = render_files(computed)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        for rel, text in sorted(files.items()):
            target = tmp / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
        os.chmod(tmp, 0o755)
        old = None
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.rmdir(old)
            os.rename(out, old)
        os.rename(tmp, out)
        if old is not None:
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return ver


def load_cache(path):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def save_cache(computed, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(computed, fh, indent=1)
    os.replace(tmp, path)


def summary_lines(ver):
    s = ver["summary"]
    lines = [f"{s['passed']} of {s['total']} checks pass ({ver['paper']}, "
             f"{ver['digits']} digits)"]
    by_ref = {}
    for c in ver["checks"]:
        by_ref.setdefault(c["paper_ref"], [0, 0])
        by_ref[c["paper_ref"]][0] += c["status"] == "pass"
        by_ref[c["paper_ref"]][1] += 1
    def natural(ref):
        import re
        nums = [int(n) for n in re.findall(r"\d+", ref)]
        return (0 if ref.startswith("(") else 1, nums, ref)

    for ref in sorted(by_ref, key=natural):
        lines.append(f"  {ref:<10} {by_ref[ref][0]}/{by_ref[ref][1]}")
    for c in ver["checks"]:
        if c["status"] != "pass":
            lines.append(f"  FAIL {c['id']}: {c['statement']}")
    return lines


def progress_printer(stream=sys.stderr):
    def progress(msg):
        print(msg, file=stream, flush=True)
    return progress
