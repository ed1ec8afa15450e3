import mpmath
from conftest import computed_part, failed_checks

from derive.results import figures


def test_binary_table_cells_verified():
    res = computed_part("tables")
    assert res["checks"] and not failed_checks(res["checks"])
    ids = {c["id"] for c in res["checks"]}
    assert len([i for i in ids if i.startswith("table-") and "-beta" in i]) == 3 * 7 * 5
    assert {"table-g2-enclosures", "table-ginf-enclosures", "table-dkl2-enclosures"} <= ids
    panel = res["artefacts"][0]["context"]["panels"][0]
    row = {r["beta"]: r["cells"] for r in panel["rows"]}
    assert row["0.5"][1] == "$0.585410$"              # (14) at beta = 1/2, p = 0.1: 6 digits
    assert row["0"] == ["$1.00000$"] * 5


def test_figure_jump_marks():
    coords, marks, worst = figures.curve("g2", "0.5")
    assert marks["open"] == "(0,0.5)" and marks["filled"] == "(0,0)"
    coords, marks, worst = figures.curve("g2", "2")
    assert "open" not in marks                          # beta >= gamma: continuous
    coords, marks, worst = figures.curve("ginf", "1")
    assert marks["open"] == "(0,0.5)"                   # 1/(1 + beta^2)
    assert worst < mpmath.mpf(10) ** -45


def test_every_enclosure_in_the_data_files_holds_its_printed_value():
    """Exactly, as decimals: ``enclosure_lo <= value <= enclosure_hi`` for every data row."""
    import csv
    from decimal import Decimal
    from fractions import Fraction

    from conftest import ROOT

    files = sorted((ROOT / "results" / "data").glob("*.csv"))
    checked = 0
    for path in files:
        with open(path, newline="") as fh:
            rows = list(csv.reader(fh))
        header = rows[0]
        pairs = [i for i, h in enumerate(header) if h.endswith("_lo")
                 and i + 1 < len(header) and header[i + 1] == h[:-3] + "_hi"]
        for row in rows[1:]:
            for i in pairs:
                value, lo, hi = (Fraction(Decimal(t)) for t in (row[i - 1], row[i], row[i + 1]))
                assert lo <= value <= hi, (path.name, header[i - 1], row)
                assert hi - lo <= abs(value) * Fraction(1, 10**40) + Fraction(1, 10**60), (path.name, row)
                checked += 1
    assert checked >= 250
