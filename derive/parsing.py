"""Exact parsing of user numbers: no ``eval``, no ``sympify``.

Accepted: integers (``3``), decimals (``0.04``, ``-1.5``, ``2e-3``) and
fractions of those (``1/3``, ``0.5/2``), written with ASCII digits only.
Everything else is rejected with a :class:`ParseError` whose message says what
is accepted.

Magnitudes are bounded before any conversion, so that no user string can
reach Python's limit on int/str conversions or build an integer of unbounded
size: one number has at most :data:`MAX_CHARS` characters and a decimal
exponent within ``+-`` :data:`MAX_EXPONENT`; the size of the resulting
rational (``|x|`` and its denominator within ``10^MAX_MAGNITUDE``) is checked
from the digit counts, not by forming the number first.  Quantities with a
narrower range (probabilities, ``beta``, rewards) are checked by the caller,
which knows the range the mathematics and the precision allow.
"""

import re
from fractions import Fraction

#: Longest accepted number (characters, after stripping blanks).
MAX_CHARS = 400
#: Largest accepted decimal exponent in magnitude (``1e-1000`` .. ``1e1000``).
MAX_EXPONENT = 1000
#: ``|x| <= 10^MAX_MAGNITUDE`` and ``x`` a multiple of ``10^-MAX_MAGNITUDE`` (for decimals).
MAX_MAGNITUDE = 1000
#: Longest accepted list (items).
MAX_ITEMS = 100000

_LOW = Fraction(1, 10**MAX_MAGNITUDE)
_HIGH = Fraction(10**MAX_MAGNITUDE)
_DECIMAL = re.compile(r"^([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE]([+-]?[0-9]+))?$", re.ASCII)
ACCEPTED = "a decimal such as 0.25 or 1e-3, or a fraction such as 1/3, in ASCII digits"


class ParseError(ValueError):
    """A user string that is not a number of the accepted forms."""


def _show(text, limit=40):
    """``repr`` of a user string, shortened so that an error stays one short line."""
    text = str(text)
    if len(text) > limit:
        return repr(text[:limit]) + f"... ({len(text)} characters)"
    return repr(text)


def _decimal(text, what):
    """A decimal string as an exact Fraction, with its size checked first."""
    if not text.isascii():
        raise ParseError(f"{what}: {_show(text)} contains non-ASCII characters; expected {ACCEPTED}")
    m = _DECIMAL.match(text)
    if not m:
        raise ParseError(f"{what}: {_show(text)} is not a number; expected {ACCEPTED}")
    sign, mantissa, exponent = m.groups()
    if exponent is not None and len(exponent.lstrip("+-").lstrip("0")) > 6:
        raise ParseError(f"{what}: {_show(text)} has an exponent out of range; "
                         f"accepted: exponents from -{MAX_EXPONENT} to {MAX_EXPONENT}")
    e = int(exponent) if exponent is not None else 0
    if abs(e) > MAX_EXPONENT:
        raise ParseError(f"{what}: {_show(text)} has an exponent out of range; "
                         f"accepted: exponents from -{MAX_EXPONENT} to {MAX_EXPONENT}")
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    if not digits:
        return Fraction(0)
    # |value| < 10^(len(digits) + scale): the integers formed have at most
    # MAX_CHARS + MAX_EXPONENT digits, far below Python's int/str limit
    scale = e - len(frac)
    value = Fraction(int(digits)) * (Fraction(10) ** scale)
    if not _LOW <= value <= _HIGH:
        raise ParseError(f"{what}: {_show(text)} is out of range; accepted: magnitudes from "
                         f"1e-{MAX_MAGNITUDE} to 1e{MAX_MAGNITUDE} (or 0)")
    return -value if sign == "-" else value


def parse_number(text, what="number"):
    """An exact :class:`~fractions.Fraction` from a decimal or a fraction string.

    >>> parse_number("1/3"), parse_number("0.04"), parse_number("2e-3")
    (Fraction(1, 3), Fraction(1, 25), Fraction(1, 500))
    >>> parse_number("1e5000", "--beta")
    Traceback (most recent call last):
      ...
    derive.parsing.ParseError: --beta: '1e5000' has an exponent out of range; accepted: exponents from -1000 to 1000
    """
    s = str(text).strip()
    if not s:
        raise ParseError(f"{what}: an empty value; expected {ACCEPTED}")
    if len(s) > MAX_CHARS:
        raise ParseError(f"{what}: {_show(s)} is too long; accepted: at most {MAX_CHARS} characters "
                         "per number")
    if s.count("/") == 1:
        num, den = (part.strip() for part in s.split("/"))
        if not num or not den:
            raise ParseError(f"{what}: {_show(text)} is not a number; expected {ACCEPTED}")
        d = _decimal(den, what)
        if d == 0:
            raise ParseError(f"{what}: {_show(text)} divides by zero")
        value = _decimal(num, what) / d
        if value and not _LOW <= abs(value) <= _HIGH:
            raise ParseError(f"{what}: {_show(text)} is out of range; accepted: magnitudes from "
                             f"1e-{MAX_MAGNITUDE} to 1e{MAX_MAGNITUDE} (or 0)")
        return value
    return _decimal(s, what)


def parse_list(text, what="list"):
    """Comma-separated numbers, each as in :func:`parse_number`.

    Empty lists and empty items are refused:

    >>> parse_list("0.1,,0.9", "--ref")
    Traceback (most recent call last):
      ...
    derive.parsing.ParseError: --ref: item 2 of '0.1,,0.9' is empty; expected comma-separated numbers, each a decimal such as 0.25 or 1e-3, or a fraction such as 1/3, in ASCII digits
    """
    text = "" if text is None else str(text)
    if not text.strip():
        raise ParseError(f"{what}: an empty list; expected comma-separated numbers, each {ACCEPTED}")
    items = text.split(",")
    if len(items) > MAX_ITEMS:
        raise ParseError(f"{what}: {len(items)} items; accepted: at most {MAX_ITEMS}")
    for i, t in enumerate(items, 1):
        if not t.strip():
            raise ParseError(f"{what}: item {i} of {_show(text)} is empty; expected comma-separated "
                             f"numbers, each {ACCEPTED}")
    return tuple(parse_number(t, what) for t in items)


def parse_distribution(text, what="--reward-dist"):
    """A finite reward distribution ``V:P,V:P,...``: exact values and probabilities summing to 1.

    >>> parse_distribution("0:0.2,1:0.5,2:3/10")
    ((Fraction(0, 1), Fraction(1, 5)), (Fraction(1, 1), Fraction(1, 2)), (Fraction(2, 1), Fraction(3, 10)))
    >>> parse_distribution("0:0.5,0:0.5")
    Traceback (most recent call last):
      ...
    derive.parsing.ParseError: --reward-dist: value 0 appears twice in '0:0.5,0:0.5'; give each reward value once, as V:P,V:P,... with probabilities summing to 1
    """
    text = "" if text is None else str(text)
    shape = "as V:P,V:P,... with probabilities summing to 1"
    if not text.strip():
        raise ParseError(f"{what}: an empty distribution; expected {shape}")
    items = text.split(",")
    if len(items) > MAX_ITEMS:
        raise ParseError(f"{what}: {len(items)} items; accepted: at most {MAX_ITEMS}")
    out, seen = [], set()
    for i, item in enumerate(items, 1):
        v, sep, p = item.partition(":")
        if not sep or not v.strip() or not p.strip():
            raise ParseError(f"{what}: item {i} of {_show(text)} is not V:P; expected {shape}, "
                             f"each number {ACCEPTED}")
        value, prob = parse_number(v, what), parse_number(p, what)
        if not 0 <= prob <= 1:
            raise ParseError(f"{what}: probability {_show(p.strip())} of item {i} is not in [0, 1]")
        if value in seen:
            raise ParseError(f"{what}: value {v.strip()} appears twice in {_show(text)}; give each "
                             f"reward value once, {shape}")
        seen.add(value)
        out.append((value, prob))
    if sum(p for _, p in out) != 1:
        raise ParseError(f"{what}: the probabilities of {_show(text)} sum to "
                         f"{float(sum(p for _, p in out)):.6g}, not exactly 1; expected {shape}")
    return tuple(out)


#: Largest accepted finite group size (larger ones are refused by the cost estimate anyway).
MAX_GROUP = 10**18


def parse_group(text):
    """A group size: an integer from 2 to :data:`MAX_GROUP`, or ``inf``.

    >>> parse_group("16"), parse_group("inf")
    (16, None)
    """
    s = str(text).strip().lower()
    if s in ("inf", "infinity", "oo"):
        return None
    accepted = "expected an integer from 2 to 10^18 (ASCII digits) or 'inf'"
    if not s.isascii() or not re.fullmatch(r"[0-9]{1,19}", s, re.ASCII):
        raise ParseError(f"--group: {_show(text)} is not a group size; {accepted}")
    g = int(s)
    if not 2 <= g <= MAX_GROUP:
        raise ParseError(f"--group: {_show(text)} is out of range; {accepted}")
    return g


def parse_integer(text, what, low, high):
    """An integer in ``[low, high]`` written in ASCII digits (no sign, no exponent).

    >>> parse_integer("50", "--digits", 5, 1000)
    50
    """
    s = str(text).strip()
    accepted = f"expected an integer from {low} to {high}"
    if not s.isascii() or not re.fullmatch(r"[0-9]{1,30}", s, re.ASCII):
        raise ParseError(f"{what}: {_show(text)} is not an integer; {accepted}")
    n = int(s)
    if not low <= n <= high:
        raise ParseError(f"{what}: {_show(text)} is out of range; {accepted}")
    return n
