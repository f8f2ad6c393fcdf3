"""Numbers written as text in enterprise tables: converted when they have one reading, refused otherwise.

The sample town's docstring gives the firms' figures: T1's four firms pay 15 000 + 9 000 +
4 000 + 2 000 = 30 000 万元 of tax on 1 500 亩 of construction land (20 万元/亩), T2's two
pay 5 100 + 3 000 = 8 100 万元 on 1 350 亩 (6 万元/亩).
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tongzhen_gis as tz
from tongzhen_gis import cli
from tongzhen_gis.errors import SchemaError
from tongzhen_gis.textnumbers import parse_column, parse_number


@pytest.mark.parametrize(
    ("text", "unit", "number"),
    [
        ("１２３", "", 123.0),  # full-width digits
        ("１２３．５", "万元", 123.5),
        ("1,234.5", "万元", 1234.5),
        ("1,234,567", "", 1234567.0),
        ("１，２３４", "", 1234.0),  # full-width comma
        ("1.2亿", "万元", 12_000.0),  # 1.2 × 10⁸ 元 = 12 000 万元
        ("1.2亿元", "万元", 12_000.0),
        ("3万", "万元", 3.0),  # 万 in a 万元 column is 万元
        ("3 万元", "万元", 3.0),
        ("500元", "万元", 0.05),
        ("1.5万", "persons", 15_000.0),  # 万 in a persons column is 10⁴ persons
        ("120人", "persons", 120.0),
        ("8.5亩", "亩", 8.5),
        ("-12", "", -12.0),
        (" 80 ", "", 80.0),
    ],
)
def test_unambiguous_text_is_converted(text, unit, number):
    assert parse_number(text, unit=unit).value == pytest.approx(number, rel=1e-12)
    assert parse_number(text, unit=unit).refused == ""


@pytest.mark.parametrize("text", ["—", "-", "——", "–", "空", "/", "N/A", "#N/A"])
def test_missing_marks_become_missing_not_zero(text):
    conv = parse_number(text, unit="万元")
    assert math.isnan(conv.value) and conv.how == "missing mark" and conv.refused == ""


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("约120", "not a number"),
        ("120-150", "range"),
        ("12%", "percentage"),
        ("1,23", "groups of three"),
        ("1.234,5", "groups of three"),
        ("5亩", "does not fit"),  # in a 万元 column
        ("无", "not a number"),  # zero or missing? not ours to say
        ("1 234", "not a number"),
        (">100", "not a number"),
    ],
)
def test_ambiguous_text_is_refused_with_a_reason(text, why):
    conv = parse_number(text, unit="万元")
    assert math.isnan(conv.value) and why in conv.refused


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=0, max_value=99))
def test_grouped_and_full_width_numbers_round_trip(whole, cents):
    value = whole + cents / 100
    text = f"{whole:,}.{cents:02d}"
    assert parse_number(text).value == pytest.approx(value, rel=1e-12)
    wide = text.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789,."})  # ０-９ ， ．
    assert parse_number(wide).value == pytest.approx(value, rel=1e-12)


def test_parse_column_lists_every_cell_that_was_not_plain():
    numbers, cells = parse_column(pd.Series(["12", "1.5万", "—", "约3", None, 7.0]), unit="万元")
    assert numbers.tolist()[:3] == [12.0, 1.5, pytest.approx(math.nan, nan_ok=True)]
    assert math.isnan(numbers[4]) and numbers[5] == 7.0
    assert cells["index"].tolist() == [1, 2, 3]
    assert cells["refused"].tolist() == ["", "", "not a number"]


def _text_firms(scene) -> pd.DataFrame:
    """The sample firms with tax and jobs columns able to hold text."""
    return scene.enterprises.astype({"tax_wan": object, "jobs": object})


TEXT_TAX = {(0, "tax_wan"): "1.5亿", (1, "tax_wan"): "9,000", (2, "tax_wan"): "４０００", (3, "tax_wan"): "2000万元"}


def test_summarize_reads_tax_written_as_text_and_reports_each_cell(scene):
    firms = _text_firms(scene)
    for (row, col), value in TEXT_TAX.items():
        firms.loc[row, col] = value
    firms.loc[5, "tax_wan"] = "3,000.0"
    t = tz.intensity.summarize(scene.towns, parcels=scene.parcels, enterprises=firms)
    assert t.loc["T1", "tax_wan"] == pytest.approx(30_000) and t.loc["T1", "tax_per_mu"] == pytest.approx(20)
    assert t.loc["T2", "tax_per_mu"] == pytest.approx(6)
    (line,) = [r for r in t.attrs["repairs"] if "tax_wan" in r]
    assert "5 cell(s)" in line
    assert "'1.5亿' (index 0) → 15000 万元 (亿 → 万元)" in line and "'４０００' (index 2) → 4000 万元" in line


def test_a_dash_means_missing_and_the_town_total_is_missing_not_smaller(scene):
    firms = _text_firms(scene)
    firms.loc[3, "tax_wan"] = "—"
    t = tz.intensity.summarize(scene.towns, parcels=scene.parcels, enterprises=firms)
    assert math.isnan(t.loc["T1", "tax_wan"]) and math.isnan(t.loc["T1", "tax_per_mu"])
    assert any("'—' (index 3) → missing (missing mark)" in r for r in t.attrs["repairs"])


def test_ambiguous_cells_are_refused_naming_row_column_and_value(scene, tmp_path):
    firms = _text_firms(scene)
    firms.loc[1, "tax_wan"] = "约9000"
    firms.loc[4, "jobs"] = "1000-1200"
    path = tz.io.write_table(firms.rename(columns={"tax_wan": "税收(万元)"}), tmp_path / "企业.csv", index=False)
    with pytest.raises(SchemaError) as info:
        tz.io.read_table(path, role="enterprises")
    text = str(info.value)
    tax = "'tax_wan' (input column '税收(万元)') should hold numbers in 万元"
    assert f"{tax} but holds text '约9000' (index 1, row 3 of the file)" in text
    assert "'jobs' should hold numbers in persons but holds text '1000-1200' (index 4, row 6 of the file)" in text
    with pytest.raises(SchemaError, match="约9000"):
        tz.intensity.summarize(scene.towns, parcels=scene.parcels, enterprises=tz.io.read_table(path))


def test_read_table_with_a_role_converts_and_lists_file_rows(scene, tmp_path):
    firms = _text_firms(scene)
    for (row, col), value in TEXT_TAX.items():
        firms.loc[row, col] = value
    path = tz.io.write_table(firms.rename(columns={"tax_wan": "税收"}), tmp_path / "企业.csv", index=False)
    table = tz.io.read_table(path, role="enterprises")
    assert table["tax_wan"].tolist()[:4] == [15_000.0, 9_000.0, 4_000.0, 2_000.0]
    conversions = table.attrs["conversions"]
    assert conversions["index"].tolist() == [0, 1, 2, 3] and set(conversions["column"]) == {"tax_wan"}
    assert "'9,000' (index 1, row 3 of the file) → 9000 万元 (thousands separators)" in table.attrs["repairs"][0]


def run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    return info.value.code


def test_intensity_command_converts_or_refuses_in_one_line(scene, tmp_path, capsys):
    files = tz.samples.write_scene(scene, tmp_path / "raw")
    gpkg = str(files["gpkg"])
    firms = _text_firms(scene)
    for (row, col), value in TEXT_TAX.items():
        firms.loc[row, col] = value
    good = tz.io.write_table(firms, tmp_path / "good.csv", index=False)
    argv = ["intensity", gpkg, "--layer", "towns", "--parcels", gpkg, "--layer", "parcels=parcels"]
    assert run([*argv, "--enterprises", str(good), "--out", str(tmp_path / "o1")]) == 0
    table = pd.read_csv(tmp_path / "o1" / "intensity.csv", encoding="utf-8-sig", index_col="town_id")
    assert table.loc["T1", "tax_per_mu"] == pytest.approx(20)
    notes = pd.read_csv(tmp_path / "o1" / "intensity_problems.csv", encoding="utf-8-sig")["problem"]
    assert notes.str.contains("'1.5亿' \\(index 0, row 2 of the file\\) → 15000 万元").any()
    firms.loc[1, "tax_wan"] = "约9000"
    bad = tz.io.write_table(firms, tmp_path / "bad.csv", index=False)
    capsys.readouterr()
    assert run([*argv, "--enterprises", str(bad), "--out", str(tmp_path / "o2")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "'约9000' (index 1, row 3 of the file)" in err[0]
