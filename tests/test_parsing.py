from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from derive.parsing import ParseError, parse_group, parse_list, parse_number


@pytest.mark.parametrize("text,value", [
    ("1/3", Fraction(1, 3)), ("0.04", Fraction(1, 25)), ("2e-3", Fraction(1, 500)),
    ("-1.5", Fraction(-3, 2)), (" 7 ", Fraction(7)), ("0.5/2", Fraction(1, 4)), (".25", Fraction(1, 4)),
])
def test_accepted(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["", "abc", "1/0", "nan", "inf", "__import__('os')", "1+1",
                                  "2**3", "1/2/3", "0x10", "1e99999"])
def test_rejected(text):
    with pytest.raises(ParseError):
        parse_number(text)


def test_list_and_group():
    assert parse_list("0.1,0.9") == (Fraction(1, 10), Fraction(9, 10))
    with pytest.raises(ParseError):
        parse_list("0.1,,0.9")
    assert parse_group("inf") is None and parse_group("16") == 16
    for bad in ("1", "0", "2.5", "-3", "x"):
        with pytest.raises(ParseError):
            parse_group(bad)


@given(st.fractions(max_denominator=10**6))
def test_roundtrip_fraction_strings(f):
    assert parse_number(f"{f.numerator}/{f.denominator}") == f
