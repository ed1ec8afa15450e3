"""The one decimal formatter: the numbers the engine prints as decimals with a chosen
format go through :func:`decimal` (tables, figures, CSV files, the JSON ``policy``, the
rounded errors of the check records and the command line's summary).

It is ``mpmath.nstr`` with the house defaults written once: *digits* significant
digits, trailing zeros kept (a table column shows its precision), and fixed point
while the leading digit lies strictly between the 10^-8 and 10^8 places (mpmath's
``min_fixed`` / ``max_fixed``), scientific notation outside.  The TeX form of a
printed number (``\\times 10^{n}``) is :func:`derive.paper.latex.number_tex`.
"""

import mpmath

__all__ = ["decimal"]


def decimal(value, digits, *, strip=False, min_fixed=-8, max_fixed=8, zero=None, one=None):
    """*value* as a decimal literal with *digits* significant digits (``mpmath.nstr``).

    *strip* removes trailing zeros; the number is printed in fixed point when the
    position of its leading digit lies strictly between *min_fixed* and
    *max_fixed*, else with an exponent (``None`` for either: mpmath's default,
    ``min(-(digits // 3), -5)`` and *digits*).  *zero* and *one*, when given, are
    the texts printed for a value equal to 0 or to 1 (an exact number set as an
    author sets it).  A Python ``int`` (no mpmath number) prints as ``str`` does, as in
    ``mpmath.nstr``.

    >>> from mpmath import mp, mpf
    >>> mp.dps = 30
    >>> decimal(mpf(1) / 3, 6), decimal(mpf("1.2345e-4"), 6), decimal(mpf("1e-9"), 6)
    ('0.333333', '0.000123450', '1.00000e-9')
    >>> decimal(mpf("0.25"), 6, strip=True), decimal(mpf(1234567), 6, min_fixed=None, max_fixed=None)
    ('0.25', '1.23457e+6')
    >>> decimal(mpf(0), 6), decimal(mpf(0), 6, zero="0.00000"), decimal(mpf(1), 4, zero="0", one="1")
    ('0.0', '0.00000', '1')
    """
    if zero is not None and value == 0:
        return zero
    if one is not None and value == 1:
        return one
    return mpmath.nstr(value, digits, strip_zeros=strip, min_fixed=min_fixed, max_fixed=max_fixed)
