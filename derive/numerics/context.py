"""The number types of the engine and the one exact converter (mpmath and Arb).

This module imports only the standard library, mpmath and python-flint (never
SymPy, NumPy or Jinja), so that the command line and the solver start quickly.

Number contexts
---------------
Every evaluator of the engine takes a number type ``ctx``: :data:`MP`
(``mpmath.mp`` at the current precision, no claim of rigour), :data:`ARB` (Arb
balls through python-flint at ``flint.ctx.prec``, used by
:mod:`derive.numerics.certify` and :mod:`derive.numerics.enclosures`), or
:data:`FLOAT` (Python floats, used for scanning).  :func:`mpf_exact` is the one
converter of an exact number (``Fraction``, ``int``, SymPy ``Rational``, ``"p/q"``)
into mpmath: it computes ``mp.mpf(n) / d``; :meth:`NumberType.num` is the same
for any number type.  :func:`interval`, :func:`arb_ends` and :func:`arb_precision`
move between Arb balls and exact ends.

Why Arb and not ``mpmath.iv``: Arb's elementary functions return balls that
are guaranteed to contain the exact value (its error bounds are proved), so
an enclosure computed with it is a proof.  ``mpmath.iv.exp`` does not round
its endpoints outward correctly for every argument (mpmath issue 1181), so an
``iv`` interval can miss ``exp(x)``.  ``mpmath.mp`` stays the engine's
arithmetic wherever no enclosure is claimed.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from fractions import Fraction

import flint
from flint import arb, fmpq, fmpz
from mpmath import mp
from mpmath.libmp import from_man_exp


class NumberType:
    """One number type behind a small common interface: ``num``, ``key``, ``sqrt``, ``exp``, ``log``.

    :data:`FLOAT` is Python floats (the fast root scan), :data:`MP` is
    ``mpmath.mp`` at its current precision, :data:`ARB` is Arb balls through
    python-flint at ``flint.ctx.prec`` (correctly rounded ball arithmetic, for
    certificates and enclosures).
    """

    def __init__(self, name):
        self.name = name

    def num(self, x):
        """Convert ``x`` (``Fraction``, ``int``, float, mpmath or Arb number) into this type.

        Rationals become the correctly rounded double (FLOAT), a rounded mpf
        (MP) or a ball containing them (ARB); an mpf or a float becomes the
        exact ball of radius 0 (ARB).

        >>> from fractions import Fraction as F
        >>> mp.dps = 50
        >>> with arb_precision(100):
        ...     third = ARB.num(F(1, 3))
        >>> lo, hi = arb_ends(third)
        >>> lo < mp.mpf(1) / 3 < hi and hi - lo < mp.mpf(2) ** -98
        True
        """
        if isinstance(x, (Fraction, int)) and not isinstance(x, bool):
            x = Fraction(x)
            if self.name == "float":
                return x.numerator / x.denominator
            if self.name == "arb":
                if x.denominator == 1:
                    return arb(fmpz(x.numerator))
                return arb(fmpq(x.numerator, x.denominator))
            if x.denominator == 1:
                return mp.mpf(x.numerator)
            return mp.mpf(x.numerator) / x.denominator
        if self.name == "float":
            return float(x)
        if self.name == "mp":
            return mp.mpf(x)
        if isinstance(x, arb):
            return x
        if isinstance(x, float):
            return arb(x)
        if not isinstance(x, mp.mpf):
            x = mp.mpf(x)                   # a string or another number: rounded at mp.prec
        return arb_of_mpf(x)               # an mpf exactly, whatever mp.prec is now

    def mpf(self, x):
        return self.num(x)

    def key(self):
        """Cache key: the kind and the current precision."""
        if self.name == "float":
            return ("float", 53)
        if self.name == "mp":
            return ("mp", mp.prec)
        return ("arb", flint.ctx.prec)

    def precision(self):
        """The working precision in bits."""
        return self.key()[1]

    def sqrt(self, x):
        if self.name == "float":
            return math.sqrt(x)
        if self.name == "mp":
            return mp.sqrt(x)
        return self.num(x).sqrt()

    def exp(self, x):
        if self.name == "float":
            return math.exp(x)
        if self.name == "mp":
            return mp.exp(x)
        return self.num(x).exp()

    def log(self, x):
        if self.name == "float":
            return math.log(x)
        if self.name == "mp":
            return mp.log(x)
        return self.num(x).log()

    def __repr__(self) -> str:
        return self.name.upper()


#: Double precision: used for the fast root scan only.
FLOAT = NumberType("float")


#: ``mpmath.mp`` at its current precision.
MP = NumberType("mp")


#: Arb balls (python-flint) at ``flint.ctx.prec``: every result contains the exact value.
ARB = NumberType("arb")


@contextmanager
def arb_precision(bits):
    """Temporarily set ``flint.ctx.prec`` (bits); the previous precision is restored.

    >>> import flint
    >>> before = flint.ctx.prec
    >>> with arb_precision(200):
    ...     flint.ctx.prec
    200
    >>> flint.ctx.prec == before
    True
    """
    old = flint.ctx.prec
    flint.ctx.prec = int(bits)
    try:
        yield
    finally:
        flint.ctx.prec = old


def dyadic_parts(x):
    """``(man, exp)`` of an exact finite Arb number, as Python integers."""
    man, exp = x.man_exp()
    return int(man), int(exp)


def mantissa_exponent(raw):
    """``(man, exp)`` with the sign in ``man`` of a finite raw mpf (``x = man 2^exp``).

    (``mpmath.libmp.to_man_exp`` returns the magnitude of the mantissa only.)
    """
    sign, man, exp, _ = raw
    return (-man if sign else man), exp


def arb_of_mpf(x):
    """The exact Arb ball (radius 0) of a finite mpf; an infinite one gives ``[+/- inf]``."""
    if not mp.isfinite(x):
        return arb("nan") if mp.isnan(x) else arb(0, "inf")
    man, exp = mantissa_exponent(x._mpf_)
    return arb((fmpz(man), fmpz(exp)))


def _exact_mpf(man, exp):
    return mp.make_mpf(from_man_exp(man, exp))


def arb_ends(x):
    """``(lo, hi)``: the ends ``mid -+ rad`` of an Arb ball as exact mpf (no rounding).

    A ball that is not finite (an infinite radius, or ``nan``) gives
    ``(-inf, +inf)``: it encloses nothing useful and no comparison passes.

    >>> mp.dps = 40
    >>> with arb_precision(60):
    ...     lo, hi = arb_ends(ARB.num(Fraction(1, 10)))
    >>> lo < mp.mpf("0.1") < hi and 0 < hi - lo < mp.mpf(2) ** -60
    True
    >>> arb_ends(ARB.num(1) / 0)
    (mpf('-inf'), mpf('+inf'))
    """
    if not x.is_finite():
        return mp.mpf("-inf"), mp.mpf("inf")
    mm, me = dyadic_parts(x.mid())
    rm, re_ = dyadic_parts(x.rad())
    e = min(me, re_) if rm else me
    M = mm << (me - e)
    R = rm << (re_ - e) if rm else 0
    return _exact_mpf(M - R, e), _exact_mpf(M + R, e)


def interval(lo, hi):
    """An Arb ball containing ``[lo, hi]`` (ends: int, ``Fraction``, float, mpf or Arb).

    The ends are enclosed exactly (a rational end by its ball at the working
    precision), and the ball is ``[mid -+ rad]`` with the midpoint exact and
    the radius rounded up, so it contains the whole interval.

    >>> mp.dps = 40
    >>> with arb_precision(80):
    ...     X = interval(Fraction(1, 3), mp.mpf("0.5"))
    >>> a, b = arb_ends(X)
    >>> a <= mp.mpf(1) / 3 and b >= mp.mpf("0.5") and b - a < mp.mpf("0.17")
    True
    """
    a = arb_ends(ARB.num(lo))[0]
    b = arb_ends(ARB.num(hi))[1]
    if not (mp.isfinite(a) and mp.isfinite(b)):
        return arb(0, "inf")
    if a > b:
        raise ValueError("interval: lo > hi")
    am, ae = mantissa_exponent(a._mpf_)
    bm, be = mantissa_exponent(b._mpf_)
    if not am:
        ae = be
    if not bm:
        be = ae
    e = min(ae, be)
    A, B = am << (ae - e), bm << (be - e)
    # mid = (A + B) 2^(e-1), rad = (B - A) 2^(e-1), both exact dyadics
    return arb((fmpz(A + B), fmpz(e - 1)), (fmpz(B - A), fmpz(e - 1)))


def mpf_exact(x):
    """An exact rational (or an mpf) as an mpf at mpmath's current precision (the one converter).

    *x*: a ``Fraction``, an ``int``, a SymPy ``Rational`` (``.p``/``.q``) or a
    fraction string such as ``"3/7"``.

    >>> mp.dps = 30
    >>> mpf_exact("1/3") == mp.mpf(1) / 3, mpf_exact(Fraction(2, 5)) == mp.mpf(2) / 5
    (True, True)
    """
    if isinstance(x, mp.mpf):
        return mp.mpf(x)                     # already a number: rounded to the precision
    if hasattr(x, "p") and hasattr(x, "q"):
        return mp.mpf(int(x.p)) / int(x.q)
    x = Fraction(x)
    return mp.mpf(x.numerator) / x.denominator


def context_key(ctx) -> tuple:
    """Cache key of a number type: its kind and current precision."""
    return ctx.key()


def to_context(ctx, x):
    """Convert an exact rational (``Fraction`` or ``int``) into the number type ``ctx``."""
    return ctx.num(Fraction(x))
