import re
from pathlib import Path

import pytest

from derive.output.render import display_math, make_env, paper_refs, paper_tag, prose, tex_escape


def test_escape_all_ten_specials():
    assert tex_escape("\\{}$&#^_~%") == (r"\textbackslash{}\{\}\$\&\#\textasciicircum{}\_"
                                        r"\textasciitilde{}\%")


def test_prose_keeps_inline_math():
    assert prose("for $\\beta > 0$ and pi_ref") == r"for $\beta > 0$ and pi\_ref"
    with pytest.raises(ValueError):
        prose("unbalanced $x")
    assert prose("Table [[tab:binary]] shows") == (
        r"\grporef{Table}{grpo:tab:binary}{the table of binary stationary policies} shows")
    # a second target without its own word takes the word of its kind
    assert prose("Figures [[fig:binary-two]] and [[fig:binary-limit]]").count(
        r"\grporef{Figure}") == 2
    with pytest.raises(ValueError):
        prose("Table [[tab:nowhere]]")


@pytest.mark.parametrize("text, expected", [
    ("Eq. (14)", r"Eq.~\grpoeq{14}"),
    ("Eqs. (16) and (18)", r"Eqs.~\grpoeq{16} and \grpoeq{18}"),
    ("(14)--(19)", r"\grpoeqs{14}{19}"),
    ("condition (11) for a", r"condition \grpoeq{11} for a"),
    ("Appendix A and App. B.2", r"\grpoat{App.~A} and \grpoat{App.~B.2}"),
    ("Section 2.3.1, Sec. 3", r"\grpoat{Sec.~2.3.1}, \grpoat{Sec.~3}"),
    ("Figure 1 of the paper", r"\grpoat{Fig.~1}"),
    ("50% ~ x_1", r"50\% \textasciitilde{} x\_1"),
])
def test_paper_places_never_reach_the_page_bare(text, expected):
    assert paper_refs(text) == expected


def test_paper_tag_only_for_announced_paper_equations():
    assert paper_tag("It is Eq. (14):") == "14"
    assert paper_tag("Implicit differentiation of (17) gives") == ""
    assert display_math("x &= y", "two", "14").endswith(
        "\\end{aligned}} \\grpotag{14} \\label{grpo:eq:two}\n\\end{equation}")


def test_display_math_numbers_only_labelled_or_tagged_displays():
    out = display_math(r"a &= b \\ c &= d", "eq1")
    assert out.startswith("\\begin{equation}\n\\grpofitmath{\\begin{aligned}\na &= b \\\\\nc &= d")
    assert out.endswith("\\label{grpo:eq:eq1}\n\\end{equation}")
    assert display_math("a &= b", "").startswith("\\begin{equation*}")
    assert "\\notag" not in out


def test_environment_is_strict_and_tex_safe():
    env = make_env()
    assert env.variable_start_string == "((("
    assert env.block_start_string == "((*"
    assert env.comment_start_string == "((="
    tpl = env.from_string(r"{#1} \frac{a}{b} ((( x ))) ((* if y *))Y((* endif *))")
    assert tpl.render(x="X", y=True) == r"{#1} \frac{a}{b} X Y"
    import jinja2
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("((( missing )))").render()


RESULTS = Path(__file__).resolve().parent.parent / "results"
_BARE = re.compile(r"(?<![A-Za-z{~])\(([0-9]{1,2})\)|App(?:endix|\.)[~ ][A-Z]\b|Sec(?:tion|\.)[~ ][0-9]")


def _text_outside_math(tex):
    """*tex* without comments, inline/display maths and command arguments of \\label/\\ref."""
    tex = re.sub(r"(?<!\\)%.*", "", tex)
    tex = re.sub(r"\\begin\{(align|equation|tikzpicture)\*?\}.*?\\end\{\1\*?\}", "", tex, flags=re.S)
    tex = re.sub(r"\$[^$]*\$", "", tex)
    return re.sub(r"\\(label|ref|grporef|grpoat|grpoeqs?|grpotag)\{[^}]*\}", "", tex)


def test_generated_fragments_have_no_escaped_macros_or_bare_paper_places():
    """Issue 10: no \\textasciitilde, no printed backslash, no bare (14) or App. A."""
    fragments = sorted(RESULTS.glob("*/*.tex"))
    assert len(fragments) > 20
    for path in fragments:
        tex = path.read_text(encoding="utf-8")
        assert "\\textasciitilde" not in tex, path
        assert "\\textbackslash" not in tex, path
        assert "\\texttt{data/" not in tex and "derive/" not in _text_outside_math(tex), path
        bare = _BARE.findall(_text_outside_math(tex))
        assert not bare, (path, bare)


def test_labels_of_earlier_releases_still_exist():
    """A manuscript that refers to a released label must not break (issue 10)."""
    released = (Path(__file__).parent / "data" / "released_labels.txt").read_text().split()
    present = set()
    for path in RESULTS.glob("*/*.tex"):
        present |= set(re.findall(r"\\label\{([^}]+)\}", path.read_text(encoding="utf-8")))
    assert len(released) > 50
    assert [label for label in released if label not in present] == []
    assert all(label.startswith("grpo:") for label in present)
