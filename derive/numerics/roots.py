"""Bracketing root finders and the sign-change scan: each written once, for every layer.

Bisection never needs a closed form, cannot jump out of its bracket, and its
error bound is the bracket width; the checks use it where a Newton-type solver
might stall (near double roots, for example).  The pieces, lowest first:

* :func:`sign_changes` -- where a function sampled on a grid changes sign (the
  scans of the solvers and of the variant table);
* :func:`bisection` -- the one bisection loop (arithmetic or geometric midpoint,
  floats or mpmath, a function that may be undefined), returning the narrowed
  :class:`Bracket`; :func:`bisect` (a root to the working precision of mpmath)
  and :func:`bisect_geometric` (double precision, on a log scale) are built on it;
* :func:`illinois` -- the Illinois variant of regula falsi (superlinear, still
  bracketing), optionally forcing a bisection every few steps;
* :func:`root_below_one` -- the root of a binary stationarity condition on
  ``[p, 1)``, or 1 where the condition is still not positive just below 1;
* :func:`bracket_then_anderson` -- a double-precision bracket refined by
  Anderson-Bjorck at the working precision, bisection as the fallback.
"""

import math
from typing import Any, NamedTuple

import mpmath

__all__ = ["Bracket", "anderson", "bisect", "bisect_geometric", "bisection", "bracket_then_anderson",
           "illinois",
           "grid_local_minima", "root_below_one", "sign_changes"]


class Bracket(NamedTuple):
    """A narrowed sign change: ``f(a) = fa`` and ``f(b) = fb`` of opposite signs.

    ``a == b`` (and ``fa == fb == 0``) at an exact zero.  ``defined`` is false when
    the function was undefined (returned ``None``) at the last point tried; the
    bracket is then the last one on which it was defined.  ``fb`` is ``None`` when
    the caller did not give it and ``b`` never moved.
    """

    a: Any
    fa: Any
    b: Any
    fb: Any
    defined: bool = True


def sign_changes(values):
    """Where a sampled function changes sign: ``(i, i)`` for an exact zero at ``i``,
    ``(i, i + 1)`` for nonzero values of opposite signs at ``i`` and ``i + 1``.

    *values* are the samples in grid order; ``None`` or ``nan`` (undefined) neither
    is a zero nor brackets one.  A zero is reported at every point, the last one included,
    and a bracket never ends on a zero (the zero is reported itself).  The test
    compares signs, never the product ``f_i f_{i+1}``, which can underflow to 0.

    >>> sign_changes([2.0, 0.0, -1.0, None, -1.0, 3.0, float("nan"), -2.0, 0.0])
    [(1, 1), (4, 5), (8, 8)]
    >>> sign_changes([1e-200, -1e-200])          # the product underflows; the signs differ
    [(0, 1)]
    """
    def defined(v):
        return v is not None and v == v

    out = []
    for i, fa in enumerate(values):
        if not defined(fa):
            continue
        if fa == 0:
            out.append((i, i))
            continue
        fb = values[i + 1] if i + 1 < len(values) else None
        if defined(fb) and fb != 0 and (fa > 0) != (fb > 0):
            out.append((i, i + 1))
    return out


def grid_local_minima(merit):
    """The local minima of a sampled merit (``max |F|``) on a product grid: the seeds of a
    multidimensional root search.

    *merit* maps each grid index tuple to its value, ``None`` or ``inf`` where the
    function is undefined.  A point is a local minimum when its value is finite and no
    neighbour on the grid (one step along any subset of the axes) has a strictly smaller
    one.  Returns ``[(value, index)]`` in the order of *merit*.

    >>> m = {(0,): 3.0, (1,): 1.0, (2,): 2.0, (3,): None, (4,): 0.5, (5,): float("inf")}
    >>> grid_local_minima(m)
    [(1.0, (1,)), (0.5, (4,))]
    >>> grid_local_minima({(0, 0): 1.0, (0, 1): 1.0, (1, 0): 2.0, (1, 1): 0.0})
    [(0.0, (1, 1))]
    """
    import itertools

    out = []
    for idx, val in merit.items():
        if val is None or val == math.inf:
            continue
        neighbours = (tuple(i + d for i, d in zip(idx, delta))
                      for delta in itertools.product((-1, 0, 1), repeat=len(idx)) if any(delta))
        if not any(w is not None and w < val for w in map(merit.get, neighbours)):
            out.append((val, idx))
    return out


def _halfway(a, b):
    return (a + b) / 2


def bisection(f, a, b, fa, fb, steps, *, midpoint=_halfway, close=None):
    """At most *steps* halvings of a sign change of *f* on ``[a, b]``: a :class:`Bracket`.

    Only the sign of ``fa = f(a)`` is used (``fb = f(b)`` is carried along).  Before
    each step it stops when ``close(a, b)`` holds (if given) and when the
    *midpoint* (arithmetic by default; ``math.sqrt(a * b)`` halves on a log scale)
    equals an end, so the bracket no longer shrinks.  An exact zero at a midpoint
    ends it with ``a == b``; ``None`` from *f* ends it with ``defined=False``.

    >>> br = bisection(lambda t: t * t - 2, 1.0, 2.0, -1.0, 2.0, 100)
    >>> br.a <= 2 ** 0.5 <= br.b and 0 < br.b - br.a <= 2.3e-16 and br.defined   # adjacent doubles
    True
    >>> bisection(lambda t: t - 0.5, 0.0, 1.0, -0.5, 0.5, 10)   # an exact zero at the first midpoint
    Bracket(a=0.5, fa=0.0, b=0.5, fb=0.0, defined=True)
    >>> bisection(lambda t: None if t > 0.3 else t - 0.2, 0.0, 1.0, -0.2, 0.8, 10)
    Bracket(a=0.0, fa=-0.2, b=1.0, fb=0.8, defined=False)
    """
    for _ in range(steps):
        if close is not None and close(a, b):
            break
        c = midpoint(a, b)
        if c == a or c == b:
            break
        fc = f(c)
        if fc is None:
            return Bracket(a, fa, b, fb, False)
        if fc == 0:
            return Bracket(c, fc, c, fc)
        if (fc > 0) == (fa > 0):
            a, fa = c, fc
        else:
            b, fb = c, fc
    return Bracket(a, fa, b, fb)


def bisect(f, lo, hi, extra_bits=10):
    """A root of *f* in ``[lo, hi]`` with ``f(lo)`` and ``f(hi)`` of opposite signs (or 0),
    to the working precision of mpmath (the bracket halved until it stops shrinking).

    >>> mpmath.mp.dps = 30
    >>> abs(bisect(lambda t: t * t - 2, 1, 2) - mpmath.sqrt(2)) < mpmath.mpf(10) ** -29
    True
    >>> bisect(lambda t: t * t + 1, 0, 1)
    Traceback (most recent call last):
    ...
    ValueError: bisect: the bracket does not change sign
    """
    lo, hi = mpmath.mpf(lo), mpmath.mpf(hi)
    flo, fhi = f(lo), f(hi)
    if flo == 0:
        return lo
    if fhi == 0:
        return hi
    if (flo > 0) == (fhi > 0):
        raise ValueError("bisect: the bracket does not change sign")
    br = bisection(f, lo, hi, flo, fhi, mpmath.mp.prec + extra_bits)
    return (br.a + br.b) / 2


def bisect_geometric(f, a, b, iters=80, rtol=1e-15):
    """A root of *f* in ``[a, b]`` (``0 < a <= b``, a sign change) in double precision,
    halving the bracket on a log scale (midpoint ``sqrt(a b)``) until ``b - a <= rtol b``.

    For unknowns that span many orders of magnitude, such as ``t = 1/(beta sigma)``
    in :mod:`derive.solve.reduced`.

    >>> r = bisect_geometric(lambda t: t - 1e-30, 1e-40, 1.0)
    >>> abs(r - 1e-30) <= 1e-15 * r
    True
    """
    if a == b:
        return a
    br = bisection(f, a, b, f(a), None, iters, midpoint=lambda u, v: math.sqrt(u * v),
                   close=lambda u, v: v - u <= rtol * v)
    if br.a == br.b:
        return br.a
    return math.sqrt(br.a * br.b)


def illinois(f, a, b, fa, fb, close, maxit, *, bisect_every=0, retry_midpoint=False):
    """Narrow a sign change of *f* on ``[a, b]`` by the Illinois method: a :class:`Bracket`.

    Regula falsi, with the function value at the end that stays twice in a row
    halved (Dowell and Jarratt, BIT 11 (1971) 168), so that both ends move and the
    convergence is superlinear.  Works in floats or mpmath.  Before each of at most
    *maxit* steps it stops when ``close(a, b)`` holds.  With ``bisect_every = k``
    every ``k``-th step is a bisection (a guard against slow one-sided
    progress); with ``retry_midpoint``, a point where *f* is undefined (``None``)
    is replaced by the midpoint once before giving up with ``defined=False``.

    >>> mpmath.mp.dps = 30
    >>> f = lambda t: t ** 3 - 2
    >>> br = illinois(f, mpmath.mpf(1), mpmath.mpf(2), f(mpmath.mpf(1)), f(mpmath.mpf(2)),
    ...               lambda a, b: abs(b - a) <= mpmath.mpf(10) ** -28, 400)
    >>> abs((br.a + br.b) / 2 - mpmath.cbrt(2)) < mpmath.mpf(10) ** -27
    True
    """
    side = 0
    for step in range(maxit):
        if close(a, b):
            break
        c = (a * fb - b * fa) / (fb - fa) if fb != fa else (a + b) / 2
        if not (min(a, b) < c < max(a, b)) or (bisect_every and step % bisect_every == bisect_every - 1):
            c = (a + b) / 2
        fc = f(c)
        if fc is None and retry_midpoint:
            c = (a + b) / 2
            fc = f(c)
        if fc is None:
            return Bracket(a, fa, b, fb, False)
        if fc == 0:
            return Bracket(c, fc, c, fc)
        if (fc > 0) == (fa > 0):
            a, fa = c, fc
            if side == -1:
                fb /= 2
            side = -1
        else:
            b, fb = c, fc
            if side == 1:
                fa /= 2
            side = 1
    return Bracket(a, fa, b, fb)


def _below_one():
    """``1 - 10^-(dps - 3)``: the right end of a bracket on ``[p, 1)`` at the working precision."""
    return 1 - mpmath.mpf(10) ** (-(mpmath.mp.dps - 3))


def root_below_one(f, lo):
    """The root of *f* in ``[lo, 1)``, for a binary stationarity condition negative at
    ``x = lo = p`` (arXiv:2502.18548v3, Eq. (11) for ``x = pi(a)``).

    Where *f* is still not positive at ``1 - 10^-(dps-3)`` the root is ``x = 1`` to the
    working precision, and 1 is returned; otherwise :func:`bisect` on ``[lo, 1 - 10^-(dps-3)]``.

    >>> mpmath.mp.dps = 30
    >>> abs(root_below_one(lambda t: t - mpmath.mpf(3) / 4, mpmath.mpf(1) / 5) - 0.75) < 1e-29
    True
    >>> root_below_one(lambda t: t - 2, mpmath.mpf(1) / 5)
    mpf('1.0')
    """
    hi = _below_one()
    if f(hi) <= 0:
        return mpmath.mpf(1)
    return bisect(f, lo, hi)


def anderson(f, lo, hi):
    """The root of *f* on ``[lo, hi]`` by Anderson-Bjorck (a bracketing method) at the
    working precision; an end is returned when *f* is exactly 0 there.  *f* must change
    sign on the bracket (mpmath raises otherwise).

    >>> mpmath.mp.dps = 30
    >>> x = anderson(lambda t: t * t - 2, mpmath.mpf(1), mpmath.mpf(2))
    >>> abs(x - mpmath.sqrt(2)) < mpmath.mpf(10) ** -28
    True
    >>> anderson(lambda t: t - 1, mpmath.mpf(0), mpmath.mpf(1))
    mpf('1.0')
    """
    if f(lo) == 0:
        return lo
    if f(hi) == 0:
        return hi
    return mpmath.findroot(f, (lo, hi), solver="anderson")


def bracket_then_anderson(f, lo, check_sign=True, coarse_steps=40):
    """The root of *f* on ``[lo, 1)``, *f* increasing through 0 (negative at *lo*).

    A bracket of width about ``2^-coarse_steps`` is found by bisection in double
    precision, then refined by Anderson-Bjorck (a bracketing method) at the working
    precision.  With ``check_sign`` the double-precision bracket is first checked to
    change sign at the working precision.  :func:`bisect` on ``[lo, 1 - 10^-(dps-3)]``
    is the fallback when the check fails, when Anderson-Bjorck fails, or when the
    coarse bisection met an exact zero.

    >>> mpmath.mp.dps = 30
    >>> x = bracket_then_anderson(lambda t: t * t - mpmath.mpf(1) / 2, mpmath.mpf(1) / 5)
    >>> abs(x - mpmath.sqrt(mpmath.mpf(1) / 2)) < mpmath.mpf(10) ** -28
    True
    """
    hi = _below_one()
    with mpmath.workprec(53):
        br = bisection(f, mpmath.mpf(lo), mpmath.mpf(hi), -1, 1, coarse_steps)
    a, b = mpmath.mpf(br.a), mpmath.mpf(br.b)
    if a != b and (not check_sign or f(a) < 0 < f(b)):
        try:
            return mpmath.findroot(f, (a, b), solver="anderson")
        except (ValueError, ZeroDivisionError):
            pass
    return bisect(f, lo, hi)
