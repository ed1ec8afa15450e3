"""LaTeX for the engine's expressions, from a SymPy printer.

:class:`GRPOLatexPrinter` fixes the paper's notation (arXiv:2502.18548v3):
``pi_ref_a`` prints as :math:`\\pi_{\\mathrm{ref}}(a)`, ``P_a`` as
:math:`P_G(a \\mid \\pi)`, and so on.  Every equation in ``results/`` comes from
:func:`latex`; templates never build mathematics themselves.
"""

import re

from sympy.printing.latex import LatexPrinter

_POLICY = re.compile(r"^(pi|pi_ref|pi_old)_([A-Za-z0-9]+)$")
_POLICY_TEX = {"pi": r"\pi", "pi_ref": r"\pi_{\mathrm{ref}}", "pi_old": r"\pi_{\mathrm{old}}"}
_PREFERENCE = re.compile(r"^P_([A-Za-z0-9]+)$")
_OUTPUT_REWARD = re.compile(r"^r_([A-Za-z]+)$")
_INDEXED = re.compile(r"^([A-Za-z]+)_([0-9]+)$")


class GRPOLatexPrinter(LatexPrinter):
    """A :class:`~sympy.printing.latex.LatexPrinter` with the paper's notation."""

    printmethod = "_grpo_latex"

    def __init__(self, settings=None):
        settings = dict(settings or {})
        settings.setdefault("mul_symbol", None)
        settings.setdefault("ln_notation", True)
        super().__init__(settings)

    def _print_Symbol(self, expr, style="plain"):
        name = expr.name
        m = _POLICY.match(name)
        if m:
            return rf"{_POLICY_TEX[m.group(1)]}({m.group(2)})"
        m = _PREFERENCE.match(name)
        if m:
            return rf"P_G({m.group(1)} \mid \pi)"
        m = _OUTPUT_REWARD.match(name)
        if m:
            return rf"r({m.group(1)})"
        m = _INDEXED.match(name)
        if m and m.group(1) in ("r", "A", "o"):
            return rf"{m.group(1)}_{{{m.group(2)}}}"
        return super()._print_Symbol(expr, style=style)


def latex(expr, **settings):
    """LaTeX of *expr* in the paper's notation.

    >>> from derive.symbols import beta, policy_symbols
    >>> (pi_a,), (ref_a,) = policy_symbols("pi", "a"), policy_symbols("pi_ref", "a")
    >>> latex(ref_a / pi_a - 1)
    '-1 + \\\\frac{\\\\pi_{\\\\mathrm{ref}}(a)}{\\\\pi(a)}'
    """
    return GRPOLatexPrinter(settings).doprint(expr)


def equation(lhs, rhs, relation="="):
    """``lhs & relation rhs`` for an ``align`` row; strings pass through."""
    left = lhs if isinstance(lhs, str) else latex(lhs)
    right = rhs if isinstance(rhs, str) else latex(rhs)
    return f"{left} &{relation} {right}"
