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
#: Names of display-only symbols (:mod:`derive.verify.display`) and how they print.
NAMED = {
    "E_pi_P": r"\mathbb{E}_{o' \sim \pi} P_G(o' \mid \pi)",
    "pairwise_o": r"P(r(o) > r(o')) - P(r(o) < r(o'))",
    "E_pi_r": r"\mathbb{E}_{\pi} r",
    "sigma_pi": r"\sigma(\pi)",
}


class GRPOLatexPrinter(LatexPrinter):
    """A :class:`~sympy.printing.latex.LatexPrinter` with the paper's notation."""

    printmethod = "_grpo_latex"

    def __init__(self, settings=None):
        settings = dict(settings or {})
        settings.setdefault("mul_symbol", None)
        super().__init__(settings)

    # -- forms an author writes ---------------------------------------------

    def _print_log(self, expr, exp=None):
        r"""``\log x``, ``\log \pi(o)``, ``\log\frac{p}{1 - p}``, else ``\log(\dots)``."""
        (arg,) = expr.args
        body = self._print(arg)
        if arg.is_Symbol or (arg.is_Pow and arg.exp.is_negative is False and arg.base.is_Symbol):
            tex = rf"\log {body}"
        elif body.startswith(r"\frac"):
            tex = rf"\log{body}"
        else:
            tex = rf"\log\left({body}\right)"
        return tex if exp is None else rf"\left({tex}\right)^{{{exp}}}"

    def _print_Pow(self, expr):
        r"""``e^{\gamma/\beta}``: a slashed fraction in an exponent of ``e``."""
        from sympy import E
        if expr.base == E:
            return rf"e^{{{self._slashed(expr.exp)}}}"
        return super()._print_Pow(expr)

    def _slashed(self, expr):
        r"""*expr* as ``a/b`` (``\gamma/(2 \beta)``), for exponents."""
        from sympy import fraction
        sign = ""
        if expr.could_extract_minus_sign():
            sign, expr = "-", -expr
        num, den = fraction(expr)
        if den == 1:
            return sign + self._print(expr)
        n, d = self._print(num), self._print(den)
        if num.is_Add:
            n = rf"({n})"
        if not (den.is_Symbol or den.is_Integer):
            d = rf"({d})"
        return rf"{sign}{n}/{d}"

    def _print_exp(self, expr, exp=None):
        from sympy import E, Pow
        tex = self._print_Pow(Pow(E, expr.args[0], evaluate=False))
        return tex if exp is None else rf"\left({tex}\right)^{{{exp}}}"

    def _as_ordered_terms(self, expr, order=None):
        """SymPy's order, but a sum starts with a positive term where it has one:
        ``x - p``, not ``- p + x``; ``1 - \\beta/\\gamma``, not ``- \\beta/\\gamma + 1``."""
        terms = list(super()._as_ordered_terms(expr, order=order))
        if self._settings.get("order") == "none" or not terms:
            return terms
        if terms[0].could_extract_minus_sign():
            for i, t in enumerate(terms):
                if not t.could_extract_minus_sign():
                    return [t] + terms[:i] + terms[i + 1:]
        return terms

    def _print_Symbol(self, expr, style="plain"):
        name = expr.name
        if name in NAMED:
            return NAMED[name]
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

    >>> from derive.paper.symbols import beta, policy_symbols
    >>> (pi_a,), (ref_a,) = policy_symbols("pi", "a"), policy_symbols("pi_ref", "a")
    >>> latex(ref_a / pi_a - 1)
    '\\\\frac{\\\\pi_{\\\\mathrm{ref}}(a)}{\\\\pi(a)} - 1'
    """
    return GRPOLatexPrinter(settings).doprint(expr)


def equation(lhs, rhs, relation="="):
    """``lhs & relation rhs`` for an ``align`` row; strings pass through."""
    left = lhs if isinstance(lhs, str) else latex(lhs)
    right = rhs if isinstance(rhs, str) else latex(rhs)
    return f"{left} &{relation} {right}"


#: Significant digits of a number in a table fragment (the data files keep 50).
TABLE_DIGITS = 6


def number_tex(value, digits=TABLE_DIGITS):
    r"""A table entry as an author sets it: math mode (a real minus sign), at most
    *digits* significant digits, and ``\times 10^{n}`` instead of ``e-n``.

    >>> from mpmath import mpf
    >>> number_tex(mpf("0.9901009997")), number_tex(mpf("-0.36531")), number_tex(mpf("1.25e-7"))
    ('$0.990101$', '$-0.365310$', '$1.25000 \\times 10^{-7}$')
    """
    from derive.numerics.format import decimal

    return scientific_tex(decimal(value, digits, min_fixed=-4, max_fixed=digits))


def scientific_tex(text):
    r"""A decimal literal as TeX in math mode: ``m e n`` becomes ``m \times 10^{n}``.

    >>> scientific_tex("-7.5e-7"), scientific_tex("0.25")
    ('$-7.5 \\times 10^{-7}$', '$0.25$')
    """
    if "e" in text:
        mantissa, exponent = text.split("e")
        return rf"${mantissa} \times 10^{{{int(exponent)}}}$"
    return f"${text}$"
