"""Bracketing root finding for the independent numeric paths (mpmath only).

Bisection never needs a closed form, cannot jump out of its bracket, and its
error bound is the bracket width; the checks use it where a Newton-type solver
might stall (near double roots, for example).
"""

import mpmath


def bisect(f, lo, hi, extra_bits=10):
    """A root of *f* in ``[lo, hi]`` with ``f(lo)`` and ``f(hi)`` of opposite signs (or 0),
    to the working precision (bracket halved until it stops shrinking)."""
    lo, hi = mpmath.mpf(lo), mpmath.mpf(hi)
    flo, fhi = f(lo), f(hi)
    if flo == 0:
        return lo
    if fhi == 0:
        return hi
    if (flo > 0) == (fhi > 0):
        raise ValueError("bisect: the bracket does not change sign")
    for _ in range(mpmath.mp.prec + extra_bits):
        mid = (lo + hi) / 2
        if mid in (lo, hi):
            break
        fm = f(mid)
        if fm == 0:
            return mid
        if (fm > 0) == (flo > 0):
            lo, flo = mid, fm
        else:
            hi = mid
    return (lo + hi) / 2
