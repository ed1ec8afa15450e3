"""Exact parsing of user numbers: no ``eval``, no ``sympify``.

Accepted: integers (``3``), decimals (``0.04``, ``-1.5``, ``2e-3``) and
fractions of those (``1/3``, ``0.5/2``).  Everything else is rejected with a
:class:`ParseError` whose message says what is accepted.
"""

import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction

_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,4})?$")
ACCEPTED = "a decimal such as 0.25 or 1e-3, or a fraction such as 1/3"


class ParseError(ValueError):
    """A user string that is not a number of the accepted forms."""


def _decimal(text, what):
    if not _DECIMAL.match(text):
        raise ParseError(f"{what}: {text!r} is not a number; expected {ACCEPTED}")
    try:
        return Fraction(Decimal(text))
    except (InvalidOperation, ValueError):
        raise ParseError(f"{what}: {text!r} is not a number; expected {ACCEPTED}") from None


def parse_number(text, what="number"):
    """An exact :class:`~fractions.Fraction` from a decimal or a fraction string.

    >>> parse_number("1/3"), parse_number("0.04"), parse_number("2e-3")
    (Fraction(1, 3), Fraction(1, 25), Fraction(1, 500))
    """
    s = str(text).strip()
    if s.count("/") == 1:
        num, den = (part.strip() for part in s.split("/"))
        d = _decimal(den, what)
        if d == 0:
            raise ParseError(f"{what}: {text!r} divides by zero")
        return _decimal(num, what) / d
    return _decimal(s, what)


def parse_list(text, what="list"):
    """Comma-separated numbers, each as in :func:`parse_number`."""
    items = [t for t in str(text).split(",")]
    if not text or any(not t.strip() for t in items):
        raise ParseError(f"{what}: {text!r} must be comma-separated numbers, each {ACCEPTED}")
    return tuple(parse_number(t, what) for t in items)


def parse_group(text):
    """A group size: an integer >= 2, or ``inf``."""
    s = str(text).strip().lower()
    if s in ("inf", "infinity", "oo"):
        return None
    if not re.fullmatch(r"\d+", s) or int(s) < 2:
        raise ParseError(f"--group: {text!r} is not a group size; expected an integer >= 2 or 'inf'")
    return int(s)
