"""Certified enclosures of tabulated values (Arb ball arithmetic).

A tabulated stationary ``x`` is the root of an unsquared condition ``f(x) = 0``
(a SymPy expression in ``x`` and parameters).  :func:`certified_root`
evaluates the derived closed form in Arb ball arithmetic (python-flint), widens
it into a box ``X``, and applies one interval Newton step

    N(X) = m - f(m) / f'(X).

If ``N(X)`` lies strictly inside ``X`` (compared on the exact ends of the
balls), then ``X`` contains exactly one root of ``f`` (Moore's theorem), and
``X ∩ N(X)`` encloses it (:func:`derive.numerics.certify.newton_enclosure`).

The SymPy expressions are evaluated by walking their tree
(:func:`arb_function`), not through ``lambdify``: every exact rational enters
as an Arb ball of the rational, and every operation (``+``, ``*``, powers,
``sqrt``, ``exp``, ``log``) is Arb's, whose result provably contains the exact
value.  ``mpmath.iv`` is not used: its ``exp`` can return an interval that
misses ``exp(x)`` (mpmath issue 1181).
"""

from fractions import Fraction

import mpmath
from flint import arb, fmpq, fmpz
from sympy import Add, E, Integer, Mul, Pow, Rational, Symbol, diff, exp, log, pi

from derive.numerics.certify import newton_enclosure
from derive.numerics.context import ARB, arb_ends, arb_precision, interval

__all__ = ["arb_exact", "arb_function", "certified_root"]


def _compile(expr, index):
    """A closure ``f(args) -> arb`` for *expr*; ``index`` maps symbols to argument positions."""
    if isinstance(expr, Symbol):
        if expr not in index:
            raise ValueError(f"arb_function: free symbol {expr} is not an argument")
        i = index[expr]
        return lambda args: args[i]
    if isinstance(expr, Integer):
        n = fmpz(int(expr))
        return lambda args: arb(n)
    if isinstance(expr, Rational):
        q = fmpq(int(expr.p), int(expr.q))
        return lambda args: arb(q)
    if expr is pi:
        return lambda args: arb.pi()
    if expr is E:
        return lambda args: arb(1).exp()
    if isinstance(expr, Add):
        parts = [_compile(a, index) for a in expr.args]

        def add(args):
            acc = parts[0](args)
            for f in parts[1:]:
                acc = acc + f(args)
            return acc
        return add
    if isinstance(expr, Mul):
        parts = [_compile(a, index) for a in expr.args]

        def mul(args):
            acc = parts[0](args)
            for f in parts[1:]:
                acc = acc * f(args)
            return acc
        return mul
    if isinstance(expr, Pow):
        base = _compile(expr.base, index)
        e = expr.exp
        if isinstance(e, Integer):
            n = int(e)
            return lambda args: base(args) ** n
        if isinstance(e, Rational) and e.q == 2:
            n = int(e.p)                       # x^(n/2) = sqrt(x)^n
            return lambda args: base(args).sqrt() ** n
        if isinstance(e, Rational):
            q = fmpq(int(e.p), int(e.q))
            return lambda args: base(args) ** arb(q)
        power = _compile(e, index)
        return lambda args: (power(args) * base(args).log()).exp()
    if isinstance(expr, exp):
        inner = _compile(expr.args[0], index)
        return lambda args: inner(args).exp()
    if isinstance(expr, log) and len(expr.args) == 1:
        inner = _compile(expr.args[0], index)
        return lambda args: inner(args).log()
    raise TypeError(f"arb_function: no ball evaluation for {type(expr).__name__} ({expr})")


def arb_function(expr, symbols):
    """*expr* as a function of Arb balls of *symbols*, evaluated at ``flint.ctx.prec``.

    Supports sums, products, integer and rational powers, ``sqrt``, ``exp``,
    ``log``, exact rationals, ``pi`` and ``E``; anything else raises
    ``TypeError`` (no float ever enters).

    >>> from sympy import sqrt, symbols
    >>> x, b = symbols("x b", positive=True)
    >>> f = arb_function(sqrt(x) * exp(b) - log(x) / 3, (x, b))
    >>> with arb_precision(100):
    ...     lo, hi = arb_ends(f(arb_exact(2), arb_exact(Fraction(1, 2))))
    >>> mpmath.mp.dps = 50
    >>> v = mpmath.sqrt(2) * mpmath.exp(mpmath.mpf(1) / 2) - mpmath.log(2) / 3
    >>> lo <= v <= hi and hi - lo < mpmath.mpf(2) ** -95
    True
    """
    index = {s: i for i, s in enumerate(symbols)}
    compiled = _compile(expr, index)

    def f(*args):
        if len(args) != len(index):
            raise TypeError(f"arb_function: {len(index)} arguments expected, {len(args)} given")
        return compiled(args)
    return f


def arb_exact(v):
    """An exact rational (``int``, ``Fraction`` or SymPy ``Rational``) as an Arb ball.

    The ball is exact when the rational is dyadic and representable at the
    working precision, else it is the correctly rounded ball.
    """
    v = Fraction(v) if not hasattr(v, "p") else Fraction(int(v.p), int(v.q))
    return ARB.num(v)


def certified_root(condition, closed, x, params, values, dps=60, widen=None):
    """Enclosure ``(lo, hi)`` of the root of *condition* near the *closed* form, and
    whether the interval Newton test certifies that it is the only root in it.

    *params* are SymPy symbols, *values* exact rationals.  *closed* is a SymPy
    expression in *params* (evaluated in ball arithmetic), or a number (a
    numerically found root, used as the centre of the box).  The working
    precision is that of ``dps`` decimal digits.  Returns ``(lo, hi,
    certified)`` with exact mpf endpoints.
    """
    f = arb_function(condition, (x,) + tuple(params))
    df = arb_function(diff(condition, x), (x,) + tuple(params))
    g = arb_function(closed, tuple(params)) if hasattr(closed, "free_symbols") else None
    with arb_precision(mpmath.libmp.dps_to_prec(dps)):
        args = [arb_exact(v) for v in values]
        V = g(*args) if g is not None else ARB.num(closed)
        v_lo, v_hi = arb_ends(V)
        if not V.is_finite():
            return v_lo, v_hi, False
        if widen is None:
            with mpmath.workdps(dps):
                w = mpmath.mpf(10) ** (-(dps - 12))
        else:
            w = widen
        w = mpmath.mpf(w)
        X = interval(mpmath.fsub(v_lo, w, exact=True), mpmath.fadd(v_hi, w, exact=True))
        m = X.mid()
        return newton_enclosure(X, m, f(m, *args), df(X, *args))
