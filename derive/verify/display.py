r"""Displayed equations in the form an author writes, each proven equal to its derivation.

SymPy prints a derived expression in its own canonical order
(``-\beta p + \beta x + \gamma x^{2} - \gamma x = 0``).  An author writes the
paper's form (``\beta (x - p) = \gamma x (1 - x)``).  This module lets a section
show the author's form without typing it beside the derivation: the form is a
SymPy expression built unevaluated (:func:`U`), printed in the order it was
built (``order='none'``), and a verification record (method ``symbolic``)
proves that it and the derived expression are the same:

* :func:`value` -- ``lhs = form`` where *form* must equal the derived
  expression: ``form - derived`` reduces to ``0``;
* :func:`condition` -- ``lhs = rhs`` where the derived condition is
  ``derived = 0``: ``(lhs - rhs)/derived`` reduces to a non-zero constant, so the
  two equations have the same solutions.

Both return the ``align`` row and append the record to the section, which the
pipeline collects with the section's other checks.
"""

from sympy import Add, Mul, Pow, cancel, expand, expand_log, factor, factor_terms, log, radsimp, together

from derive.paper.latex import latex
from derive.verify.checks import symbolic_check

__all__ = ["U", "condition", "form_tex", "frac", "matching", "signed", "value"]


def U(head, *args):
    """``head(*args)`` unevaluated: ``U(Add, x, -p)`` prints as ``x - p``.

    >>> from derive.paper.symbols import x, p
    >>> form_tex(U(Add, x, -p)), latex(x - p + 0)
    ('x - p', 'x - p')
    """
    return head(*args, evaluate=False)


def signed(sign, term):
    """``+term`` or ``-term`` (printed without a unit factor)."""
    return term if sign > 0 else Mul(-1, term, evaluate=False)


def frac(num, den):
    """``num/den`` unevaluated (printed as ``\\frac{num}{den}``)."""
    if num == 1:
        return Pow(den, -1, evaluate=False)
    return Mul(num, Pow(den, -1, evaluate=False), evaluate=False)


def form_tex(form):
    """LaTeX of an author's form, its terms in the order they were built."""
    return latex(form, order="none")


def _split_logs(expr, positive):
    """``log(a/b) -> log a - log b`` where every factor is a positive symbol or
    one of the expressions declared *positive* (sound: both sides are defined
    and equal exactly when every factor is positive)."""
    positive = set(positive)

    def split(arg):
        terms = []
        for term in Mul.make_args(arg):
            base, e = term.as_base_exp()
            if not (base.is_positive or base in positive) or not e.is_number:
                return None
            terms.append(e * log(base))
        return Add(*terms)

    def rewrite(node):
        out = split(node.args[0])
        return node if out is None else out

    return expr.replace(lambda e: isinstance(e, log), rewrite)


def evaluated(expr):
    """*expr* rebuilt node by node with evaluation (``doit`` leaves some
    unevaluated sums as they were built)."""
    if not expr.args:
        return expr
    return expr.func(*[evaluated(a) for a in expr.args])


def reduced_form(expr, positive=()):
    """*expr* after ``doit``, ``together``, ``expand_log``, ``expand``, ``cancel``
    and ``radsimp`` (or, failing that, after factoring the radicands).  The expressions in *positive* (``1 - x`` on ``0 < x < 1``)
    are replaced by positive symbols first, so that logarithms of them expand
    soundly."""
    expr = _split_logs(expand_log(evaluated(expr)), positive)
    reduced = cancel(expand(together(expr)))
    if reduced != 0:
        reduced = radsimp(reduced)
    if reduced != 0:
        # radicands factored (sqrt((r_1 - r_2)^2/4) -> |r_1 - r_2|/2), not re-expanded
        factored = expr.replace(lambda t: t.is_Pow and t.exp.is_Rational and t.exp.q == 2,
                                lambda t: Pow(factor(t.base), t.exp))
        if cancel(together(factored)) == 0:
            return cancel(together(factored))
    return reduced


def matching(form, candidates):
    """The candidate (a derived root, say) that *form* equals, else the first
    one (whose check then fails)."""
    for c in candidates:
        if reduced_form(form - c) == 0:
            return c
    return candidates[0]


def value(section, key, paper_ref, lhs, form, derived, statement="", prefix="", positive=()):
    """Row ``lhs = form``, proven: *form* equals the *derived* expression.

    *lhs* is LaTeX (``"x"``); *form* an unevaluated SymPy expression.
    """
    section.display_checks.append(symbolic_check(
        f"display-{key}", paper_ref,
        statement or f"the displayed form of {key} minus the derived expression reduces to 0 "
                     "(together, expand, cancel, radsimp)",
        reduced_form(form - derived, positive)))
    return f"{lhs} &= {prefix}{form_tex(form)}"


def _nonzero_monomial(expr):
    """A non-zero number times powers of positive symbols: the two equations
    then have the same solutions wherever both are defined."""
    coeff, rest = expr.as_coeff_Mul()
    if not coeff.is_number or coeff == 0:
        return False
    for term in Mul.make_args(rest):
        base = term.as_base_exp()[0]
        if not (term.is_number and term != 0) and not (base.is_Symbol and base.is_positive):
            return False
    return True


def condition(section, key, paper_ref, lhs, rhs, derived, relation="=", statement="",
              positive=()):
    """Row ``lhs = rhs``, proven to be the derived condition ``derived = 0``:
    ``(lhs - rhs)/derived`` reduces to a non-zero constant."""
    ratio = factor_terms(reduced_form((evaluated(lhs) - evaluated(rhs)) / derived, positive))
    constant = _nonzero_monomial(ratio)
    section.display_checks.append(symbolic_check(
        f"display-{key}", paper_ref,
        statement or f"the displayed form of {key}, moved to one side and divided by the "
                     "derived condition, reduces to a non-zero constant times powers of positive "
                     "symbols (together, expand, cancel, radsimp)",
        0 if constant else (ratio if ratio != 0 else 1)))
    return f"{form_tex(lhs)} &{relation} {form_tex(rhs)}"

