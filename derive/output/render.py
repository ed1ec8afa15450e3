"""Rendering: one Jinja environment, TeX-safe delimiters, strict undefined.

Templates live in ``templates/<artefact>.tex.jinja``.  They receive finished
LaTeX strings built in Python by :mod:`derive.paper.latex` and never build
mathematics themselves.  Prose passes through the ``prose`` filter, which
escapes the ten LaTeX special characters outside ``$...$`` inline mathematics;
``tex`` escapes everything.
"""

import re
from pathlib import Path

import jinja2

TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates"
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


#: What a cross-reference says when its target is not in the host document
#: (a fragment pasted alone): ``\grporef`` prints these words instead of a
#: number, so no ``??`` reaches the page.
FRAGMENTS = {
    "tab:baselines": "the table of baselines (RLHF, NLHF, direct KL)",
    "tab:binary": "the table of binary stationary policies",
    "tab:critical-beta": "the table of the critical $\\beta_c(p)$",
    "tab:finite-groups": "the table of finite group sizes",
    "tab:noisy": "the table of noisy rewards",
    "tab:stability": "the table of stationary policies and their stability",
    "tab:maximiser": "the table of where GRPO's fixed points stop maximising its objective",
    "tab:monte-carlo": "the table of Monte Carlo runs",
    "tab:variants": "the table of every GRPO variant at $G = 2$",
    "tab:variants-limit": "the table of every GRPO variant as $G \\to \\infty$",
    "tab:verification": "the summary of the verification records",
    "fig:binary-two": "the figure of the stationary policy at $G = 2$",
    "fig:binary-limit": "the figure of the stationary policy as $G \\to \\infty$",
    "fig:binary-compare": "the figure comparing GRPO with the baselines",
    "fig:binary-direct-kl": "the figure of the direct KL variant",
    "fig:finite-groups": "the figure of the stationary policy against $G$",
    "fig:trajectories": "the figure of the training trajectories",
    "sec:advantage": "the section on the group-relative advantage",
    "sec:preference": "the section on the reward preference",
    "sec:penalty": "the section on the penalty",
    "sec:stationarity": "the section on stationary policies",
    "sec:binary": "the section on binary questions",
    "sec:extensions": "the section on the extensions",
    "sec:baselines": "the section on the baselines",
    "sec:noisy": "the section on noisy rewards",
    "sec:finite-groups": "the section on finite group sizes",
    "sec:stability": "the section on stability",
    "sec:paper_notes": "the section on where the paper and the derivation differ",
    "sec:large-group": "the section on large groups",
    "sec:variants": "the section on every GRPO variant",
}

#: ``Table [[tab:name]]``: a word naming the kind of target, then the target.
_REF = re.compile(r"(?:(Table|Figure|Section)s? )?\[\[([a-z]+:[A-Za-z0-9-]+)\]\]")

#: A reference to a place in the paper: ``Eq. (14)``, ``(14)--(19)``, a bare
#: ``(11)``, ``App. B.2``, ``Appendix A``, ``Sec. 2.3.1``, ``Section 3``.
_PAPER = re.compile(
    r"(?P<word>Eqs?\.\s*)?\((?P<a>[0-9]{1,2})\)(?:\s*(?:--|-|\u2013)\s*\((?P<b>[0-9]{1,2})\))?"
    r"|(?P<kind>App(?:endix|\.)|Sec(?:tion|\.)|Fig(?:ure|\.))\s+(?P<loc>[A-Z](?:\.[0-9]+)*|[0-9]+(?:\.[0-9]+)*)\b"
    r"(?(kind)(?: of the paper)?)")


def paper_refs(text):
    r"""Plain *text* with every reference to the paper through the host-redefinable
    macros of ``preamble.tex``; the rest escaped.

    A bare ``(14)`` would land on the host's own equation (14): it becomes
    ``\grpoeq{14}``, printed "(VY 14)" unless the host redefines ``\grpoVY``.

    >>> paper_refs("Eq. (14) and (11)--(13), App. B.2; 50%")
    'Eq.~\\grpoeq{14} and \\grpoeqs{11}{13}, \\grpoat{App.~B.2}; 50\\%'
    """
    out, last = [], 0
    for m in _PAPER.finditer(text):
        out.append(tex_escape(text[last:m.start()]))
        last = m.end()
        if m.group("kind"):
            kind = {"A": "App.", "S": "Sec.", "F": "Fig."}[m.group("kind")[0]]
            out.append(rf"\grpoat{{{kind}~{m.group('loc')}}}")
            continue
        word = ""
        if m.group("word"):
            word = "Eqs.~" if (m.group("b") or m.group("word").startswith("Eqs")) else "Eq.~"
        if m.group("b"):
            out.append(rf"{word}\grpoeqs{{{m.group('a')}}}{{{m.group('b')}}}")
        else:
            out.append(rf"{word}\grpoeq{{{m.group('a')}}}")
    out.append(tex_escape(text[last:]))
    return "".join(out)


def fragment_ref(kind, target):
    r"""``\grporef``: "Table 3" when the target is in the document, else words."""
    if target not in FRAGMENTS:
        raise ValueError(f"cross-reference to an unknown fragment: {target!r}")
    kind = kind or {"tab": "Table", "fig": "Figure", "sec": "Section"}[target.split(":")[0]]
    return rf"\grporef{{{kind}}}{{{LABEL_PREFIX}:{target}}}{{{FRAGMENTS[target]}}}"


def prose(text):
    r"""Escape prose but keep ``$...$`` inline mathematics as written.

    ``Table [[tab:name]]`` becomes ``\grporef`` (a number when the target is
    in the document, words when it is not); references to the paper go
    through :func:`paper_refs`.
    """
    parts = str(text).split("$")
    if len(parts) % 2 == 0:
        raise ValueError(f"unbalanced $ in prose: {text!r}")
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(f"${part}$")
            continue
        last = 0
        for m in _REF.finditer(part):
            out.append(paper_refs(part[last:m.start()]))
            out.append(fragment_ref(m.group(1), m.group(2)))
            last = m.end()
        out.append(paper_refs(part[last:]))
    return "".join(out)


def paper_lead(ref):
    """The paper's places a section derives, for its lead line: ``"(14)--(19)"``
    becomes "Eqs. (VY 14--19)", ``"(2)"`` "Eq. (VY 2)"; other places as written.

    >>> paper_lead("(2)"), paper_lead("(11), (14)")
    ('Eq.~\\\\grpoeq{2}', 'Eqs.~\\\\grpoeq{11}, \\\\grpoeq{14}')
    """
    ref = str(ref)
    if ref.startswith("("):
        ref = ("Eqs. " if len(re.findall(r"\(", ref)) > 1 else "Eq. ") + ref
    return paper_refs(ref)


_PAPER_EQUATION = re.compile(r"Eq\. \(([0-9]{1,2})\)")


def paper_tag(text):
    """The paper's number of the display that follows *text*: the last
    "Eq. (n)" of a sentence that introduces the display (ends with ":" or
    "or"), else ``""``.

    >>> paper_tag("The admissible root is Eq. (15):"), paper_tag("Squaring gives")
    ('15', '')
    >>> paper_tag("Eq. (8) becomes Eq. (10), the gradient:"), paper_tag("Eq. (11): either or")
    ('10', '11')
    """
    text = str(text).rstrip()
    found = _PAPER_EQUATION.findall(text)
    return found[-1] if found and (text.endswith(":") or text.endswith(" or")) else ""


def display_math(math, label, tag=""):
    r"""One display: its rows in ``aligned`` inside an ``equation``, scaled down
    (``\grpofitmath``) only if wider than the line, with the paper's number
    *tag* (``\grpotag``, printed "(VY 14)") if it is one of the paper's
    equations, and the label ``grpo:eq:<label>``; unnumbered without either.

    >>> print(display_math(r"x &= y \\ z &= w", "two", "14"))
    \begin{equation}
    \grpofitmath{\begin{aligned}
    x &= y \\
    z &= w
    \end{aligned}} \grpotag{14} \label{grpo:eq:two}
    \end{equation}
    """
    rows = " \\\\\n".join(r.strip() for r in math.split(r" \\ "))
    env = "equation" if (label or tag) else "equation*"
    after = (rf" \grpotag{{{tag}}}" if tag else "") + (
        rf" \label{{{LABEL_PREFIX}:eq:{label}}}" if label else "")
    return (f"\\begin{{{env}}}\n\\grpofitmath{{\\begin{{aligned}}\n{rows}\n\\end{{aligned}}}}"
            f"{after}\n\\end{{{env}}}")


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
    env.filters["display_math"] = display_math
    env.filters["paper_refs"] = paper_refs
    env.filters["paper_tag"] = paper_tag
    env.filters["paper_lead"] = paper_lead
    env.globals["prefix"] = LABEL_PREFIX
    return env


def render(env, template, **context):
    return env.get_template(template).render(**context)
