"""Rendering: one Jinja environment, TeX-safe delimiters, strict undefined.

Templates live in ``templates/<artefact>.tex.jinja``.  They receive finished
LaTeX strings built in Python by :mod:`derive.latex` and never build
mathematics themselves.  Prose passes through the ``prose`` filter, which
escapes the ten LaTeX special characters outside ``$...$`` inline mathematics;
``tex`` escapes everything.
"""

import re
from pathlib import Path

import jinja2

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
#: Prefix of every \label in the generated fragments.
LABEL_PREFIX = "grpo"

_TEX_ESCAPES = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&",
    "#": r"\#", "^": r"\textasciicircum{}", "_": r"\_", "~": r"\textasciitilde{}",
    "%": r"\%",
}
_TEX_RE = re.compile("|".join(re.escape(c) for c in _TEX_ESCAPES))


def tex_escape(text):
    """Escape the ten LaTeX special characters of plain prose.

    >>> tex_escape("50% of pi_ref & {x}")
    '50\\\\% of pi\\\\_ref \\\\& \\\\{x\\\\}'
    """
    return _TEX_RE.sub(lambda m: _TEX_ESCAPES[m.group(0)], str(text))


_REF = re.compile(r" ?\[\[([a-z]+:[A-Za-z0-9-]+)\]\]")


def prose(text):
    """Escape prose but keep ``$...$`` inline mathematics as written.

    ``[[tab:name]]`` becomes a cross-reference ``~\\ref{grpo:tab:name}``.
    """
    parts = str(text).split("$")
    if len(parts) % 2 == 0:
        raise ValueError(f"unbalanced $ in prose: {text!r}")
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(f"${part}$")
            continue
        pieces = _REF.split(part)
        out.append("".join(tex_escape(piece) if j % 2 == 0 else f"~\\ref{{{LABEL_PREFIX}:{piece}}}"
                           for j, piece in enumerate(pieces)))
    return "".join(out)


def align_rows(math, label):
    """Rows of an ``align`` body: every row but the last gets ``\\notag``,
    the last gets the label."""
    rows = [r.strip() for r in math.split(r" \\ ")]
    out = [r + r" \notag" for r in rows[:-1]]
    out.append(rows[-1] + (rf" \label{{{LABEL_PREFIX}:eq:{label}}}" if label else r" \notag"))
    return " \\\\\n".join(out)


def make_env(path=TEMPLATES):
    """The one Jinja environment of the engine."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(path)),
        block_start_string="((*", block_end_string="*))",
        variable_start_string="(((", variable_end_string=")))",
        comment_start_string="((=", comment_end_string="=))",
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined, autoescape=False,
    )
    env.filters["tex"] = tex_escape
    env.filters["prose"] = prose
    env.filters["align_rows"] = align_rows
    env.globals["prefix"] = LABEL_PREFIX
    return env


def render(env, template, **context):
    return env.get_template(template).render(**context)
