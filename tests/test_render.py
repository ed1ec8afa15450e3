import pytest

from derive.render import align_rows, make_env, prose, tex_escape


def test_escape_all_ten_specials():
    assert tex_escape("\\{}$&#^_~%") == (r"\textbackslash{}\{\}\$\&\#\textasciicircum{}\_"
                                        r"\textasciitilde{}\%")


def test_prose_keeps_inline_math():
    assert prose("for $\\beta > 0$ and pi_ref") == r"for $\beta > 0$ and pi\_ref"
    with pytest.raises(ValueError):
        prose("unbalanced $x")
    assert prose("Table [[tab:binary]] shows") == r"Table~\ref{grpo:tab:binary} shows"


def test_align_rows_labels_last_row():
    out = align_rows(r"a &= b \\ c &= d", "eq1")
    assert out == "a &= b \\notag \\\\\nc &= d \\label{grpo:eq:eq1}"
    assert align_rows("a &= b", "") == r"a &= b \notag"


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
