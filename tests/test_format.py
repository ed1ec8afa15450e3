"""The one decimal formatter (derive/numerics/format.py) and the TeX built on it, by exact string.

Each table below is one caller's setting; the strings are what results/ prints, so a
change here is a change of the published bytes.
"""

import mpmath
import pytest
from hypothesis import given
from hypothesis import strategies as st
from mpmath import mp, mpf

from derive.numerics.format import decimal
from derive.paper.latex import number_tex, scientific_tex
from derive.results.finite_groups import error_tex

#: The values of audit section 6: 0, 1, 1e-7, 1.2345e-4, 1234567 and negative numbers.
VALUES = ("0", "1", "1e-7", "1.2345e-4", "1234567", "-0.36531", "-1234567", "-1e-7")


@pytest.fixture(autouse=True)
def _dps():
    old = mp.dps
    mp.dps = 60
    try:
        yield
    finally:
        mp.dps = old


def _row(**options):
    return tuple(decimal(mpf(v), 6, **options) for v in VALUES)


def test_house_table_format():
    """tables, maximiser_table, finite_groups and noisy: zeros kept, fixed in (1e-8, 1e8)."""
    assert _row() == ("0.0", "1.00000", "0.000000100000", "0.000123450", "1234570.",
                      "-0.365310", "-1234570.", "-0.000000100000")


def test_figure_format_strips_zeros():
    assert _row(strip=True) == ("0.0", "1.0", "0.0000001", "0.00012345", "1234570.0",
                                "-0.36531", "-1234570.0", "-0.0000001")


def test_json_policy_format():
    """options._fmt: zero as 0.00000, exponent below 1e-6."""
    assert _row(min_fixed=-6, max_fixed=8, zero="0.00000") == (
        "0.00000", "1.00000", "1.00000e-7", "0.000123450", "1234570.", "-0.365310",
        "-1234570.", "-1.00000e-7")


def test_mpmath_default_switch():
    """variants.cell_number: None passes mpmath's own min_fixed/max_fixed."""
    assert _row(min_fixed=None, max_fixed=None) == (
        "0.0", "1.00000", "1.00000e-7", "0.000123450", "1.23457e+6", "-0.365310",
        "-1.23457e+6", "-1.00000e-7")
    assert decimal(mpf(1234567), 6, min_fixed=None, max_fixed=None) == mpmath.nstr(
        mpf(1234567), 6, strip_zeros=False)


def test_vertices_as_integers():
    """stability._fmt: 0 and 1 printed as the integers they are, nothing else changes."""
    assert tuple(decimal(mpf(v), 4, zero="0", one="1") for v in VALUES) == (
        "0", "1", "0.0000001000", "0.0001234", "1235000.", "-0.3653", "-1235000.",
        "-0.0000001000")
    assert decimal(mpf(-1), 4, zero="0", one="1") == "-1.000"


def test_the_callers_settings():
    """The wrappers that keep a caller's setting print what the setting says."""
    from derive.model.variants import cell_number as variants_fmt
    from derive.options import _fmt as policy_fmt
    from derive.results.figures import _fmt as figure_fmt
    from derive.results.stability import _fmt as stability_fmt

    assert figure_fmt(mpf("0.25")) == "0.25"
    assert policy_fmt(mpf(0), 5) == "0.0000" and policy_fmt(mpf("2e-7"), 3) == "2.00e-7"
    assert stability_fmt(mpf(1), 6) == "1" and stability_fmt(mpf("0.5"), 3) == "0.500"
    assert variants_fmt(mpf("0.123456")) == "0.1235"


def test_non_mpmath_values_print_as_str():
    assert decimal(3, 6) == "3" and decimal(-12, 2) == "-12"


@given(st.integers(-10**12, 10**12), st.integers(1, 10**12), st.integers(2, 20))
def test_decimal_reads_back_within_its_digits(n, d, digits):
    """The printed text is the number to *digits* significant digits (half a unit of the last)."""
    v = mpf(n) / d
    text = decimal(v, digits, min_fixed=None, max_fixed=None)
    if v == 0:
        assert text == "0.0"
    else:
        # nstr rounds the (digits+3)-digit truncation: at most half a unit plus the truncation
        assert abs(mpf(text) - v) <= abs(v) * mpf(10) ** (1 - digits) * mpf("0.51")


def test_number_tex():
    assert [number_tex(mpf(v)) for v in VALUES] == [
        "$0.0$", "$1.00000$", r"$1.00000 \times 10^{-7}$", r"$1.23450 \times 10^{-4}$",
        r"$1.23457 \times 10^{6}$", "$-0.365310$", r"$-1.23457 \times 10^{6}$",
        r"$-1.00000 \times 10^{-7}$"]


def test_scientific_tex():
    assert scientific_tex("1.5e+3") == r"$1.5 \times 10^{3}$"
    assert scientific_tex("-2.0e-12") == r"$-2.0 \times 10^{-12}$"
    assert scientific_tex("0.5") == "$0.5$"


def test_error_tex_every_size():
    """Regression: error_tex split on "e" and crashed for 0 and for errors in [1, 10)."""
    assert [error_tex(mpf(v)) for v in VALUES] == [
        "$0$", r"$1.0 \times 10^{0}$", r"$1.0 \times 10^{-7}$", r"$1.2 \times 10^{-4}$",
        r"$1.2 \times 10^{6}$", r"$-3.7 \times 10^{-1}$", r"$-1.2 \times 10^{6}$",
        r"$-1.0 \times 10^{-7}$"]
    assert error_tex(mpf("-3.49e-6")) == r"$-3.5 \times 10^{-6}$"
    assert error_tex(mpf("9.96")) == r"$1.0 \times 10^{1}$"
