"""How report.docx and report.xlsx print: read back with python-docx and openpyxl.

Seen on the pages LibreOffice renders (tools/render_report_pages.py): Word tables whose columns
all had the same width (a year wrapped as "20 / 23" beside a column of long town lists), the
14-column city table squeezed onto a portrait page, town categories in English only on the
workbook's sheets (``digital`` where the page says 数字经济 (digital)), comparators and units as
the rule files spell them (``>=``, ``m2``), and sheets with no print setup (a 13-column sheet
split over two portrait pages, no header row on the next pages).
"""

from __future__ import annotations

from pathlib import Path

import docx
import openpyxl
import pytest
from docx.shared import Cm

import tongzhen_gis as tz
from tongzhen_gis.report import content
from tongzhen_gis.report.docx import _column_widths_cm

#: A4 less the report's 2 cm side margins, in cm (portrait and landscape).
TEXT_CM = {"portrait": 21.0 - 4.0, "landscape": 29.7 - 4.0}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    """The sample's report with the city chapter, Word and Excel only, no maps (fast)."""
    raw = tmp_path_factory.mktemp("raw")
    written = tz.samples.write_scene(tz.samples.sample_town(), raw)
    city = tz.samples.write_city(tz.samples.sample_city(), raw)
    written = {**written, "city_towns": city["towns"], "city_locations": city["locations"]}
    text = tz.report.sample_config_text(written, base_dir=raw)
    assert "[maps]\nenabled = true" in text
    text = text.replace("[maps]\nenabled = true", "[maps]\nenabled = false")
    text += '\n[report]\nformats = ["docx", "xlsx"]\n'
    out = tmp_path_factory.mktemp("out")
    tz.report.build(tz.report.parse_config(text, base_dir=raw), out)
    return out


def _sheet(path: Path, name: str) -> list[dict]:
    wb = openpyxl.load_workbook(path, read_only=True)
    head, *rows = list(wb[name].values)
    return [dict(zip(head, row, strict=True)) for row in rows]


def test_workbook_names_categories_comparators_and_units_as_the_page_does(bundle):
    summary = _sheet(bundle / "report.xlsx", "汇总")
    # the sample's towns: T1 digital, T2 tourism, T3 manufacturing (rules/town_categories.toml names)
    assert [r["类型"] for r in summary] == ["数字经济 (digital)", "文旅 (tourism)", "先进制造 (manufacturing)"]
    card = _sheet(bundle / "report.xlsx", "评估")
    assert {r["比较"] for r in card} <= {"≥", "≤", ">", "<", "="}
    assert "m2" not in {r["单位"] for r in card} and "m²" in {r["单位"] for r in card}
    assert {r["类型"] for r in card} <= {"数字经济 (digital)", "文旅 (tourism)", "先进制造 (manufacturing)"}
    assert {r["状态代码"] for r in card} <= {"pass", "fail", "missing", "not_applicable"}  # the codes stay codes


def test_every_sheet_prints_landscape_a4_with_its_header_row_on_each_page(bundle):
    wb = openpyxl.load_workbook(bundle / "report.xlsx")
    widths: dict[bool, list[float]] = {True: [], False: []}
    for ws in wb:
        assert ws.page_setup.orientation == "landscape", ws.title
        assert int(ws.page_setup.paperSize) == 9, ws.title  # 9 is A4 in the OOXML paper codes
        assert ws.print_title_rows == "$1:$1", ws.title
        fit = bool(ws.sheet_properties.pageSetUpPr.fitToPage)
        widths[fit].append(sum(ws.column_dimensions[c].width for c in ws.column_dimensions))
        if fit:  # shrunk to one page wide, never to many pages down
            assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0), ws.title
        else:  # too wide to shrink legibly: the id column repeats on every page instead
            assert ws.print_title_cols == "$A:$A", ws.title
    assert max(widths[True]) < min(widths[False])  # only the narrower sheets are shrunk
    # the narrow conflicts list (8 columns) is shrunk to fit; the 40-odd columns of 用地集约 are not
    assert wb["三线冲突清单"].sheet_properties.pageSetUpPr.fitToPage
    assert wb["用地集约"].max_column > 40 and not wb["用地集约"].sheet_properties.pageSetUpPr.fitToPage


def _section_of_each_table(doc) -> list:
    """The section each table of a Word file sits in (a section ends at a paragraph holding sectPr)."""
    from docx.oxml.ns import qn

    out, pending = [], 0
    sections = iter(doc.sections)
    current = next(sections)
    for child in doc.element.body.iterchildren():
        if child.tag == qn("w:tbl"):
            pending += 1
        elif child.tag == qn("w:p") and child.find(f"{qn('w:pPr')}/{qn('w:sectPr')}") is not None:
            out += [current] * pending
            pending, current = 0, next(sections)
    return out + [current] * pending


def test_word_tables_fill_the_text_width_and_wide_ones_turn_landscape(bundle):
    doc = docx.Document(str(bundle / "report.docx"))
    sections = _section_of_each_table(doc)
    assert len(sections) == len(doc.tables)
    seen = set()
    for table, section in zip(doc.tables, sections, strict=True):
        landscape = section.page_width > section.page_height
        seen.add(landscape)
        widths = [col.width for col in table.columns]
        expected = TEXT_CM["landscape" if landscape else "portrait"]
        assert sum(widths) / Cm(1) == pytest.approx(expected, abs=0.01)  # twips round each column
        text_cm = (section.page_width - section.left_margin - section.right_margin) / Cm(1)
        assert text_cm == pytest.approx(expected, abs=0.01)  # Word stores cm as whole twips
        if len(table.columns) > 11:
            assert landscape, [c.text for c in table.rows[0].cells]
    assert seen == {True, False}  # the city targets (14 columns) and coverage tables are landscape, the rest portrait
    city = next(t for t in doc.tables if t.rows[0].cells[0].text == "目标")
    head = [c.text for c in city.rows[0].cells]
    year, towns = city.columns[head.index("年份")].width, city.columns[head.index("计入小镇")].width
    assert year >= Cm(1.0)  # "2023" at 8 pt: 4 digits of ~0.16 cm and ~0.38 cm of cell padding, on one line
    assert towns > year


def test_column_widths_follow_the_content_and_add_up():
    """A hand-made table: a year beside a long list; all columns fit when they can."""
    block = content.Table(header=("年份", "计入小镇"), rows=(("2023", "云栖数智小镇、" * 20),), numeric=(True, False))
    year, towns = _column_widths_cm(block, 17.0)
    assert year + towns == pytest.approx(17.0)
    assert 1.0 <= year < towns
    short = content.Table(header=("a", "b", "c"), rows=(("1", "22", "333"),))
    widths = _column_widths_cm(short, 9.0)  # everything fits: the spare width in proportion, order kept
    assert sum(widths) == pytest.approx(9.0) and widths[0] < widths[1] < widths[2]
    crowded = content.Table(header=tuple("abcdefghijklmn"), rows=(tuple("x" * 40 for _ in range(14)),))
    widths = _column_widths_cm(crowded, 25.7)  # nothing fits: equal shares, still adding up
    assert widths == pytest.approx([25.7 / 14] * 14)
