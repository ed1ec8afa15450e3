"""Certified enclosures of tabulated values (mpmath.iv).

A tabulated stationary ``x`` is the root of an unsquared condition ``f(x) = 0``
(a SymPy expression in ``x`` and parameters).  :func:`certified_root`
evaluates the derived closed form in interval arithmetic, widens it into a box
``X``, and applies one interval Newton step

    N(X) = m - f(m) / f'(X).

If ``N(X)`` lies strictly inside ``X``, then ``X`` contains exactly one root of
``f`` (Moore's theorem), and ``X ∩ N(X)`` encloses it.  Every exact rational in
the expressions is converted with ``iv.mpf`` so no step rounds outside the
enclosure.
"""

from fractions import Fraction

import mpmath
from mpmath import iv
from sympy import diff, lambdify

_IV_MODULES = [{"sqrt": iv.sqrt, "exp": iv.exp, "log": iv.log, "mpf": iv.mpf,
                "pi": iv.pi, "E": iv.e}, "mpmath"]


def interval_function(expr, symbols):
    """*expr* as a function of intervals (``iv.mpf``) of *symbols*."""
    return lambdify(symbols, expr, modules=_IV_MODULES)


def iv_exact(v):
    """An exact rational as a (possibly non-degenerate) interval."""
    v = Fraction(v) if not hasattr(v, "p") else Fraction(int(v.p), int(v.q))
    return iv.mpf(v.numerator) / v.denominator


def certified_root(condition, closed, x, params, values, dps=60, widen=None):
    """Enclosure ``(lo, hi)`` of the root of *condition* near the *closed* form, and
    whether the interval Newton test certifies that it is the only root in it.

    *params* are SymPy symbols, *values* exact rationals.  *closed* is a SymPy
    expression in *params* (evaluated in interval arithmetic), or a number (a
    numerically found root, used as the centre of the box).  Returns
    ``(lo, hi, certified)`` as mpf endpoints.
    """
    f = interval_function(condition, (x,) + tuple(params))
    df = interval_function(diff(condition, x), (x,) + tuple(params))
    g = interval_function(closed, tuple(params)) if hasattr(closed, "free_symbols") else None
    old = iv.dps
    iv.dps = dps
    try:
        args = [iv_exact(v) for v in values]
        V = g(*args) if g is not None else iv.mpf(closed)
        w = iv.mpf(10) ** (-(dps - 12)) if widen is None else widen
        X = iv.mpf([V.a - w, V.b + w])
        m = iv.mpf(X.mid)
        N = m - f(m, *args) / df(X, *args)
        certified = bool(N.a > X.a and N.b < X.b)
        lo, hi = (max(N.a, X.a), min(N.b, X.b)) if certified else (X.a, X.b)
        with mpmath.workdps(dps):                 # endpoints are exact binary numbers
            return +mpmath.mpf(lo), +mpmath.mpf(hi), certified
    except (ZeroDivisionError, ValueError):
        with mpmath.workdps(dps):
            return +mpmath.mpf(V.a), +mpmath.mpf(V.b), False
    finally:
        iv.dps = old
