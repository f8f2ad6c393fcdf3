"""Tests of tz.report: the bundle written for the sample town, opened back and checked.

The full bundle is built once per module by ``tongzhen demo`` (sample scene, its project.toml,
every analysis, maps). Expected figures come from the sample docstring (tongzhen_gis/samples.py).
"""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
import rasterio
from hypothesis import given
from hypothesis import strategies as st

import tongzhen_gis as tz
from tongzhen_gis.cli import main as cli_main
from tongzhen_gis.errors import InputFileError, SchemaError
from tongzhen_gis.report import _format

SHEETS = ["汇总", "三线核查", "三线冲突清单", "用地集约", "生活圈", "评估", "城市总体目标", "小镇预警"]
N_RULES = len(tz.rules.load("hangzhou-2021").thresholds)
#: Maps of the sample's report: land use and FAR, access per facility category, per town control lines and access.
N_IMAGES = (
    2 + len(tz.rules.load("facilities")["category"]) + 2 + 3 * 2
)  # overview, per category, city chapter, per town


class _Page(HTMLParser):
    """Collects tags, text and image sources of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text: list[str] = []
        self.images: list[str] = []
        self.links: list[str] = []
        self.h2: list[str] = []
        self._in_h2 = False
        self.rows_by_class: dict[str, int] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if tag == "img":
            self.images.append(a.get("src", ""))
        if "href" in a or (tag != "img" and "src" in a):
            self.links.append(a.get("href") or a.get("src"))
        if tag == "h2":
            self._in_h2 = True
            self.h2.append("")
        if tag == "tr" and a.get("class"):
            self.rows_by_class[a["class"]] = self.rows_by_class.get(a["class"], 0) + 1

    def handle_endtag(self, tag):
        if tag == "h2":
            self._in_h2 = False

    def handle_data(self, data):
        self.text.append(data)
        if self._in_h2:
            self.h2[-1] += data


def parse_html(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


class _Tables(HTMLParser):
    """Collects every table of a page as rows of cell texts (header row first)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """``tongzhen demo --out DIR`` once: exits 1 because T2 and T3 fail rules on purpose."""
    base = tmp_path_factory.mktemp("demo")
    with pytest.raises(SystemExit) as exc:
        cli_main(["demo", "--out", str(base)])
    assert exc.value.code == 1
    return base


def test_demo_writes_inputs_config_and_bundle(demo):
    raw, out = demo / "raw" / "sample", demo / "processed" / "sample"
    for name in ("sample.gpkg", "enterprises.csv", "town_stats.csv", "project.toml"):
        assert (raw / name).is_file()
    for name in ("report.html", "report.xlsx", "results.gpkg", "far_grid.tif"):
        assert (out / name).is_file()
    cfg = tz.report.parse_config((raw / "project.toml").read_text(encoding="utf-8"), base_dir=raw)
    assert cfg.get("towns", "path") == raw / "sample.gpkg"
    assert cfg.get("control_lines", "red_line").layer == "red_line"


def test_html_is_self_contained_with_a_section_per_town(demo):
    page = parse_html(demo / "processed" / "sample" / "report.html")
    assert "script" not in page.tags
    assert page.links == []  # no external stylesheet, script or link
    assert page.images, "maps are embedded"
    for src in page.images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    # overview maps (land use, FAR), access per category (8), per town: control lines and access
    assert len(page.images) == N_IMAGES
    for name, tid in (("云溪数智小镇", "T1"), ("青山文旅小镇", "T2"), ("桑田智造小镇", "T3")):
        assert f"{name} ({tid})" in page.h2
    # one scorecard row per (town, rule); statuses by class: T2 fails 9 + advisory + unconfirmed...
    # (and one row per city target in the chapter 城市总体目标)
    assert sum(page.rows_by_class.values()) == 3 * N_RULES + len(tz.rules.load("hangzhou-2021-city").thresholds)
    text = "".join(page.text)
    assert "STBHHX001" in text and "YJJBNT004" in text  # conflicts listed
    assert "建议等级" in text and "供评审参考" in text


def test_workbook_sheets_and_chinese_headers(demo):
    wb = openpyxl.load_workbook(demo / "processed" / "sample" / "report.xlsx", read_only=True)
    assert wb.sheetnames == SHEETS
    rows = list(wb["评估"].values)
    header, body = rows[0], rows[1:]
    assert len(body) == 3 * N_RULES
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in str(h)) for h in header)
    df = pd.DataFrame(body, columns=header).set_index(["小镇编号", "规则"])
    assert df.loc[("T2", "tax_per_mu_min"), "结论"] == "未达标"
    assert df.loc[("T2", "tax_per_mu_min"), "数值"] == pytest.approx(6.0)
    assert df.loc[("T2", "investment_per_mu_min"), "结论"] == "达标"  # exactly 200 passes
    assert df.loc[("T3", "tax_per_mu_min"), "结论"] == "缺数据"
    assert df.loc[("T3", "farmland_overlap_max"), "数值"] == pytest.approx(120_000.0)
    assert df.loc[("T1", "visitors_min"), "结论"] == "不适用"
    # T3 has no kindergarten: nobody has all eight within reach
    assert df.loc[("T3", "fifteen_minute_complete_min"), "数值"] == 0.0
    # T1's home at (850, 950) is 1035.55 m from the town lounge: T1 is not complete either
    assert df.loc[("T1", "fifteen_minute_complete_min"), "结论"] == "未达标"
    head, *rows = list(wb["汇总"].values)
    summary = pd.DataFrame(rows, columns=head).set_index("小镇编号")
    assert summary.loc["T1", "三线核查结论"] == "通过"
    assert summary.loc["T2", "三线核查结论"] == "冲突"
    assert list(summary.index) == ["T1", "T2", "T3"]
    intensity = list(wb["用地集约"].values)
    far_label = tz.intensity.COLUMNS_ZH["far"][0]
    assert far_label in intensity[0]
    far = dict(zip(intensity[0], intensity[1], strict=True))[far_label]
    assert far == pytest.approx(0.31)  # T1
    head, *rows = list(wb["三线冲突清单"].values)
    conflicts = pd.DataFrame(rows, columns=head)
    assert sorted(conflicts.loc[conflicts["控制线"] == "永久基本农田", "控制线图斑编号"]) == ["YJJBNT001", "YJJBNT004"]
    head, *rows = list(wb["生活圈"].values)
    coverage = pd.DataFrame(rows, columns=head).set_index(["小镇编号", "设施类别"])
    assert coverage.loc[("T3", "kindergarten"), "覆盖比例 (按人口)"] == 0.0  # T3 has no kindergarten
    assert coverage.loc[("T3", "kindergarten"), "设施类别名称"] == "幼儿园(含托育)"
    assert list(head[:3]) == ["小镇编号", "小镇名称", "设施类别"]  # the town's name beside its id
    towns = tz.samples.sample_town().towns.set_index("town_id")["name_zh"]
    assert coverage.loc[("T2", "park"), "小镇名称"] == towns["T2"]


def test_geopackage_layers_and_far_grid(demo):
    out = demo / "processed" / "sample"
    layers = dict(pyogrio.list_layers(out / "results.gpkg"))
    assert {"towns", "conflicts", "homes", "service_areas"} <= set(layers)
    towns = tz.io.read_layer(out / "results.gpkg", layer="towns").set_index("town_id")
    assert towns.loc["T2", "red_line_m2"] == pytest.approx(100_000.0)
    assert towns.loc["T3", "outside_boundary_m2"] == pytest.approx(300_000.0)
    assert list(towns["grade"]) == ["优秀", "淘汰", "降格"]
    conflicts = tz.io.read_layer(out / "results.gpkg", layer="conflicts")
    got = sorted(zip(conflicts["line"], conflicts["area_m2"].round(6), strict=True))
    assert got == sorted(
        [
            ("red_line", 100_000.0),
            ("red_line", 25_000.0),
            ("outside_boundary", 100_000.0),
            ("farmland", 120_000.0),
            ("farmland", 30_000.0),
            ("outside_boundary", 300_000.0),
        ]
    )
    homes = tz.io.read_layer(out / "results.gpkg", layer="homes")
    assert len(homes) == 16 + 16 + 20 + 1  # every home kept, the unreachable farmhouse too
    with rasterio.open(out / "far_grid.tif") as src:
        far = src.read(1)
        cell_m2 = abs(src.transform.a * src.transform.e)
    # floor area of every building with known floors, whole footprints (B05 entirely):
    # T1 320 000 + T2 700 000 + T3 400 000 = 1 420 000 m²
    assert float(np.nansum(far)) * cell_m2 == pytest.approx(1_420_000.0, rel=1e-9)


def test_maps_written_under_sanitised_town_folders(demo):
    maps = demo / "processed" / "sample" / "maps"
    assert (maps / "云溪数智小镇" / "control_lines.png").is_file()
    assert (maps / "landuse.png").is_file()
    # one access map per facility category given (the nearest distance in classes, service areas)
    categories = set(tz.rules.load("facilities")["category"])
    assert {p.stem for p in (maps / "access").glob("*.png")} == categories
    assert all((maps / "access" / f"{c}.png").read_bytes()[:4] == b"\x89PNG" for c in categories)


# ----------------------------------------------------------------------------- hostile names


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """The sample with hostile town names, control lines only (a light, fast build)."""
    base = tmp_path_factory.mktemp("hostile")
    scene = tz.samples.sample_town()
    scene.towns.loc[0, "name_zh"] = "<script>alert(1)</script>"
    scene.towns.loc[1, "name_zh"] = "../../逃逸\\小镇"
    scene.towns.loc[2, "town_id"] = '"T3" & <b>'
    written = tz.samples.write_scene(scene, base / "raw")
    text = tz.report.sample_config_text(written, base_dir=base / "raw")
    text = text.split("[intensity]")[0] + "[maps]\nenabled = true\ndpi = 40\n"
    cfg = tz.report.parse_config(text, base_dir=base / "raw")
    result = tz.report.build(cfg, base / "out")
    return base, result


def test_every_data_value_is_escaped(hostile):
    base, _ = hostile
    raw_html = (base / "out" / "report.html").read_text(encoding="utf-8")
    assert "<script>" not in raw_html and "<b>" not in raw_html
    page = parse_html(base / "out" / "report.html")
    assert "script" not in page.tags and "b" not in page.tags
    text = "".join(page.text)
    assert "<script>alert(1)</script>" in text  # shown as text
    assert '"T3" & <b>' in text


def test_nothing_written_outside_the_output_folder(hostile):
    base, result = hostile
    out = (base / "out").resolve()
    for path in result.files.values():
        assert Path(path).resolve().is_relative_to(out)
    written = [p for p in base.rglob("*") if p.is_file()]
    assert all(p.resolve().is_relative_to(out) or p.resolve().is_relative_to((base / "raw").resolve()) for p in written)
    folders = sorted(p.name for p in (out / "maps").iterdir())
    assert len(folders) == 3
    assert all("/" not in f and "\\" not in f for f in folders)


def test_absent_sections_make_rules_missing_not_passed(hostile):
    _, result = hostile
    card = result.evaluation.scorecard
    tid = result.indicators.index[0]
    assert card.loc[(tid, "tax_per_mu_min"), "status"] == "missing"
    assert card.loc[(tid, "green_share_min"), "status"] == "missing"
    assert card.loc[(tid, "red_line_overlap_max"), "status"] == "pass"
    assert any("[intensity]" in p for p in result.problems)
    assert result.exit_code == 1  # T2 and T3 still fail the control lines


# ----------------------------------------------------------------------------- config


def test_unknown_keys_are_reported_with_the_valid_ones():
    text = '[towns]\npath = "t.gpkg"\nidcol = "x"\n[control_line]\nred_line = "r.gpkg"\n[maps]\ndpi = "high"\n'
    with pytest.raises(SchemaError) as err:
        tz.report.parse_config(text)
    msg = str(err.value)
    assert "unknown key [towns].idcol" in msg and "id_col" in msg
    assert "unknown table [control_line]" in msg and "control_lines" in msg
    assert "[maps].dpi must be a number" in msg
    assert len(err.value.problems) == 3
    with pytest.raises(SchemaError, match=r"no \[towns\] table"):
        tz.report.parse_config("[project]\ntitle = 'x'\n")
    with pytest.raises(SchemaError, match="not valid TOML"):
        tz.report.parse_config("[towns\n")
    with pytest.raises(SchemaError, match=r"unknown key\(s\) \['lyr'\]"):
        tz.report.parse_config('[towns]\npath = "t.gpkg"\n[control_lines]\nred_line = { path = "r", lyr = "x" }\n')


def test_missing_input_files_listed_at_once(tmp_path):
    text = '[towns]\npath = "towns.gpkg"\n[control_lines]\nred_line = "red.gpkg"\n'
    cfg = tz.report.parse_config(text, base_dir=tmp_path)
    with pytest.raises(InputFileError) as err:
        tz.report.build(cfg, tmp_path / "out")
    assert "towns.gpkg" in str(err.value) and "red.gpkg" in str(err.value)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        # a column the library refuses (param=landuse_col): given the step's table by the build
        ("far_cell_m = 50.0", 'far_cell_m = 50.0\nlanduse_col = "YDYHFLDM"', "[intensity]"),
        # a layer the file lacks: named by the entry that names the file
        ('layer = "red_line" }', 'layer = "no_such_layer" }', "[control_lines].red_line"),
        # a homes column named in [access]: named by the report itself, kept as it is
        ('population_col = "population"', 'population_col = "RK"', "[access].population_col"),
    ],
)
def test_a_config_error_names_its_entry_in_config_key(tmp_path, old, new, key):
    written = tz.samples.write_scene(tz.samples.sample_town(), tmp_path / "raw")
    text = tz.report.sample_config_text(written, base_dir=tmp_path / "raw").replace("enabled = true", "enabled = false")
    assert old in text
    cfg = tz.report.parse_config(text.replace(old, new, 1), base_dir=tmp_path / "raw")
    with pytest.raises(tz.errors.TongzhenError) as err:
        tz.report.build(cfg, tmp_path / "out")
    assert err.value.config_key == key
    assert str(err.value).startswith(key.split("]")[0] + "]")  # the text names the table too


def test_config_key_is_none_outside_the_report():
    assert tz.errors.SchemaError("x").config_key is None
    exc = tz.report.config._config_error(tz.errors.CRSError("no CRS", param="crs"), "[towns]")
    assert exc.config_key == "[towns]" and exc.param == "crs" and type(exc) is tz.errors.CRSError


def test_safe_name():
    assert tz.report.safe_name("云栖小镇") == "云栖小镇"
    assert tz.report.safe_name("a/b\\c\x00d\u202e") == "a_b_c_d_"
    assert tz.report.safe_name("..") == "town.."
    assert tz.report.safe_name("", fallback="T1") == "T1"
    for name in ("../../x", "a/../../b", "\x1b[31m"):
        path = tz.io.safe_join("/tmp/out", tz.report.safe_name(name))
        assert path.parent == Path("/tmp/out")


# ----------------------------------------------------------------------------- compare


def test_compare_two_editions_of_the_sample(scene):
    """Edition 2 moves T2 out of the red line (STBHHX001/002 removed from the layer)."""

    def evaluation(red_line):
        lines = tz.controllines.check(
            scene.towns, red_line=red_line, farmland=scene.farmland, urban_boundary=scene.urban_boundary
        )
        ind = tz.evaluate.collect_indicators(
            scene.towns,
            control_lines=lines.summary,
            intensity=tz.intensity.summarize(scene.towns, parcels=scene.parcels, enterprises=scene.enterprises),
            town_stats=scene.town_stats,
        )
        return tz.evaluate.evaluate(ind, conflicts=lines.conflicts)

    first = evaluation(scene.red_line)
    second = evaluation(scene.red_line[~scene.red_line["BSM"].isin(["STBHHX001", "STBHHX002"])])
    diff = tz.evaluate.compare(first, second)
    got = sorted(zip(diff["town_id"], diff["change"], diff["rule"], diff["label_zh"], strict=True))
    assert got == [
        ("T2", "now_passes", "red_line_overlap_max", "与生态保护红线重叠面积"),
        ("T2", "resolved_conflict", "red_line", "STBHHX001"),
        ("T2", "resolved_conflict", "red_line", "STBHHX002"),
    ]
    # T2 still fails its other rules: 0 + 30 points back = 8, still 淘汰; T2 stays a failing town
    assert second.grades.loc["T2", "points"] == 8.0
    assert second.failing == ["T2", "T3"]


#: Every English code a verdict or a rule status is written with in the library.
ENGLISH_VERDICTS = {"pass", "review", "conflict", "unchecked", "fail", "missing", "not_applicable"}


def test_verdicts_read_the_same_chinese_words_on_every_sheet_and_the_page(demo):
    """Regression: the 三线核查 sheet said ``conflict`` where 汇总 said 冲突.

    The sample's docstring: T1 lies clear of every line, T2 overlaps the red line, T3 the farmland.
    """
    out = demo / "processed" / "sample"
    expected = {"T1": "通过", "T2": "冲突", "T3": "冲突"}
    wb = openpyxl.load_workbook(out / "report.xlsx", read_only=True)
    verdict_columns = 0
    for sheet in wb.sheetnames:
        head, *rows = list(wb[sheet].values)
        df = pd.DataFrame(rows, columns=head)
        for col in (c for c in df.columns if "结论" in str(c)):  # 三线核查结论, 结论
            verdict_columns += 1
            words = {str(v).strip().lower() for v in df[col].dropna()}
            assert not words & ENGLISH_VERDICTS, (sheet, col, words & ENGLISH_VERDICTS)
        if "三线核查结论" in df.columns:
            assert set(df["三线核查结论"]) <= {"通过", "待核", "冲突", "未核查"}
            assert dict(zip(df["小镇编号"], df["三线核查结论"], strict=True)) == expected, sheet
    assert verdict_columns == 3  # 汇总, 三线核查 (三线核查结论) and 评估 (结论)
    parser = _Tables()
    parser.feed((out / "report.html").read_text(encoding="utf-8"))
    summary = next(t for t in parser.tables if "三线核查结论" in t[0])
    at, tid_at = summary[0].index("三线核查结论"), summary[0].index("小镇编号")
    assert {row[tid_at]: row[at] for row in summary[1:]} == expected
    cells = {c.lower() for table in parser.tables for row in table[1:] for c in row}
    assert not cells & ENGLISH_VERDICTS


def test_html_scorecard_shows_ratios_as_percentages(demo):
    """T2's residential share 5/9 against ≤ 30 % (docstring), as a planner reads it."""
    page = parse_html(demo / "processed" / "sample" / "report.html")
    cells = [t.strip() for t in page.text if t.strip()]

    def section(name: str) -> int:  # the town's own section comes after the analysis sections
        return len(cells) - 1 - cells[::-1].index(name)

    at = cells.index("住宅用地占建设用地比重上限", section("青山文旅小镇 (T2)"))
    assert cells[at + 1 : at + 6] == ["55.6%", "≤", "30.0%", "比例", "未达标"]
    assert "文旅 (tourism)" in cells  # category shown in Chinese in the summary
    # conflicts: STBHHX001 covers 100 000 m² = 150 亩 = 10 % of T2
    at = cells.index("STBHHX001")
    assert cells[at + 1 : at + 3] == ["100,000.00 (150.00 亩)", "10.0%"]
    # coverage: T3 has no kindergarten, so 0 % of its people reach one within the 1000 m it is checked at
    at = cells.index("幼儿园(含托育)", section("桑田智造小镇 (T3)"))
    assert cells[at + 1] == "1,000" and cells[at + 2] == "15分钟生活圈"
    assert cells[at + 5] == "0.0%" and cells[at + 10] == "0.0%"


def test_demo_evaluation_matches_the_sample_docstring(demo):
    """Every binding failure of the full pipeline, town by town, as the sample docstring states it."""
    wb = openpyxl.load_workbook(demo / "processed" / "sample" / "report.xlsx", read_only=True)
    head, *rows = list(wb["评估"].values)
    card = pd.DataFrame(rows, columns=head)
    binding_fails = {
        town: set(group.loc[(group["结论"] == "未达标") & group["约束性"].astype(bool), "规则"])
        for town, group in card.groupby("小镇编号")
    }
    assert binding_fails == {
        "T1": set(),
        "T2": {
            "red_line_overlap_max",
            "outside_boundary_max",
            "residential_share_max",
            "green_share_min",
            "tax_per_mu_min",
            "jobs_min",
            "visitors_min",
            "lead_industry_investment_share_min_zj",
        },
        "T3": {"farmland_overlap_max", "outside_boundary_max", "green_share_min"},
    }
    status = card.set_index(["小镇编号", "规则"])["结论"]
    assert status[("T1", "fifteen_minute_complete_min")] == "未达标"  # unconfirmed, not binding
    assert status[("T2", "investment_per_mu_min")] == "达标"  # exactly 200 万元/亩
    for rule in ("tax_per_mu_min", "investment_per_mu_min", "jobs_min", "labour_productivity_min", "rd_intensity_min"):
        assert status[("T3", rule)] == "缺数据"  # no enterprise rows: missing, never passed


def test_bad_numbers_and_map_scheme_are_config_errors():
    text = (
        '[towns]\npath = "t.gpkg"\n[intensity]\nfar_cell_m = -5.0\n[control_lines]\nsliver_m2 = 0\n'
        '[maps]\ndpi = 0\nscheme = "Bogus"\n'
    )
    with pytest.raises(SchemaError) as err:
        tz.report.parse_config(text)
    msg = str(err.value)
    assert "[intensity].far_cell_m must be above 0" in msg and "[maps].dpi must be above 0" in msg
    assert "'Bogus' is not a classification scheme" in msg and "NaturalBreaks" in msg
    assert len(err.value.problems) == 3  # sliver_m2 = 0 is allowed
    assert tz.report.parse_config('[towns]\npath = "t.gpkg"\n[maps]\nscheme = "natural_breaks"\n').get("maps", "scheme")


# --- the Word file, the numbers, the workbook's formats ------------------------------------------


def _docx(path: Path):
    import docx

    return docx.Document(str(path))


def test_docx_has_cover_heading_styles_real_tables_and_the_maps(demo):
    out = demo / "processed" / "sample"
    doc = _docx(out / "report.docx")
    styled = [(p.style.name, p.text) for p in doc.paragraphs]
    assert styled[[s for s, _ in styled].index("Title")][1] == "示例小镇 年度评估"
    heading1 = [t for s, t in styled if s == "Heading 1"]
    for section in ("汇总", "数据来源与坐标系", "三线核查", "用地集约", "15分钟生活圈", "数据问题与未运行的分析"):
        assert section in heading1
    for name, tid in (("云溪数智小镇", "T1"), ("青山文旅小镇", "T2"), ("桑田智造小镇", "T3")):
        assert f"{name} ({tid})" in heading1
    assert "三线冲突清单" in [t for s, t in styled if s == "Heading 2"]
    assert any(re.fullmatch(r"报告日期 \d{4}-\d{2}-\d{2}", t) for _, t in styled)  # the date on the cover
    # the same maps as the page, as pictures
    assert len(doc.inline_shapes) == len(parse_html(out / "report.html").images) == N_IMAGES
    # editable tables: the conflict STBHHX001 of T2, 100 000 m² = 150 亩 = 10 % of the town
    rows = [[c.text for c in row.cells] for t in doc.tables for row in t.rows]
    row = next(r for r in rows if "STBHHX001" in r)
    assert row[0] == "青山文旅小镇 (T2)" and "100,000.00 (150.00 亩)" in row and "10.0%" in row
    # every verdict with its clause: the basis table names the document and clause of each line rule
    clauses = {r[-1] for r in rows}
    for rule in tz.rules.load("hangzhou-2021").thresholds.values():
        if rule.indicator in ("red_line_m2", "farmland_m2", "outside_boundary_m2"):
            assert rule.clause in clauses
    text = "\n".join(c for r in rows for c in r)
    assert "EPSG:4549" in text  # data sources and CRS
    assert not re.search(r"\d[eE][-+]\d", text)  # no scientific notation anywhere


def test_intensity_section_shows_far_and_coverage_per_town(demo):
    """容积率 (net and gross) and 建筑密度 per town, on the page and in the Word file."""
    out = demo / "processed" / "sample"
    parser = _Tables()
    parser.feed((out / "report.html").read_text(encoding="utf-8"))
    intensity = next(t for t in parser.tables if any("综合容积率" in h for h in t[0]))
    head = intensity[0]
    by_town = {row[0]: dict(zip(head, row, strict=True)) for row in intensity[1:]}
    t1 = by_town["云溪数智小镇 (T1)"]
    far = next(h for h in head if h.startswith("综合容积率"))
    assert t1[far] == "0.31"  # T1's FAR, 0.31 as in the workbook (test_workbook_sheets_and_chinese_headers)
    assert any(h.startswith("毛容积率") for h in head) and any(h.startswith("建筑密度") for h in head)
    assert any(h.startswith("开发强度") for h in head) and any("亩均" in h for h in head)
    doc_rows = [[c.text for c in row.cells] for t in _docx(out / "report.docx").tables for row in t.rows]
    assert [h for h in doc_rows if h[:1] == ["小镇"] and far in h]


def test_workbook_number_formats_units_and_frozen_header(demo):
    wb = openpyxl.load_workbook(demo / "processed" / "sample" / "report.xlsx")
    for ws in wb:
        assert ws.freeze_panes == "A2", ws.title
    lines = wb["三线核查"]
    head = {c.value: c.column for c in lines[1]}
    assert lines.cell(2, head["占用生态保护红线 (m²)"]).number_format == "#,##0.00"
    assert lines.cell(2, head["红线占比"]).number_format == "0.0%"
    intensity = wb["用地集约"]
    head = {c.value: c.column for c in intensity[1]}
    assert intensity.cell(2, head["开发强度 (建设用地/小镇面积) (%)"]).number_format == "0.0%"
    card = wb["评估"]
    head = {c.value: c.column for c in card[1]}
    for row in range(2, card.max_row + 1):
        cell = card.cell(row, head["数值"])
        if isinstance(cell.value, float):
            assert "E" not in cell.number_format and cell.number_format != "General"
    # widths fit the widest shown value: the area column holds "1,200,000.00"
    letter = openpyxl.utils.get_column_letter(lines["B1"].column)
    assert lines.column_dimensions[letter].width >= len("1,200,000.00")


@pytest.mark.parametrize("formats", [["docx"], ["html", "xlsx"]])
def test_report_formats_choose_the_files(tmp_path, formats):
    scene = tz.samples.sample_town()
    written = tz.samples.write_scene(scene, tmp_path / "raw")
    text = tz.report.sample_config_text(written, base_dir=tmp_path / "raw").split("[intensity]")[0]
    text += "[maps]\nenabled = false\n[report]\nformats = [" + ", ".join(f'"{f}"' for f in formats) + "]\n"
    config = tz.report.parse_config(text, base_dir=tmp_path / "raw")
    result = tz.report.build(config, tmp_path / "out")
    for name in ("html", "docx", "xlsx"):
        assert ((tmp_path / "out" / f"report.{name}").is_file()) == (name in formats), name
        assert (name in result.files) == (name in formats)


def test_bad_report_formats_are_a_config_error():
    with pytest.raises(SchemaError, match=r"\[report\]\.formats .* must be a non-empty list of 'html', 'docx', 'xlsx'"):
        tz.report.parse_config('[towns]\npath = "t.gpkg"\n[report]\nformats = ["pdf"]\n')
    assert tz.report.parse_config('[towns]\npath = "t.gpkg"\n').formats == ("html", "docx", "xlsx")


# --- one number formatter: never scientific notation ----------------------------------------------

_wide = st.floats(min_value=-1e30, max_value=1e30, allow_nan=False, allow_infinity=False)


@given(_wide, st.sampled_from(["area_m2", "area_mu", "share", "far", "tax_per_mu", "n_conflicts", "value", None]))
def test_no_formatted_number_is_in_scientific_notation(value, col):
    for text in (
        _format.cell(value, col),
        _format.number(value),
        _format.area(value),
        _format.area(value, sliver_m2=1.0),
        _format.share(value),
    ):
        assert "e-" not in text.lower() and "e+" not in text.lower(), text
        assert not re.search(r"\de\d", text.lower()), text


@given(st.floats(min_value=0.0, max_value=1e9, allow_nan=False))
def test_area_text_reads_back_as_the_value_to_the_hundredth_and_its_mu_twin(area_m2):
    text = _format.area(area_m2)
    if area_m2 == 0:
        assert text == "0 m²"
        return
    m2, mu = re.fullmatch(r"([\d,]+\.\d\d) m² \(([\d,]+\.\d\d) 亩\)", text).groups()
    assert float(m2.replace(",", "")) == pytest.approx(area_m2, abs=0.005 + 1e-9 * area_m2)
    assert float(mu.replace(",", "")) == pytest.approx(area_m2 * 15 / 10000, abs=0.005 + 1e-9 * area_m2)


def test_slivers_read_zero_with_the_note_mark():
    # the values the issue saw in report.html: 1.528e-06 % and 4.701e-08 m²
    assert _format.area(4.701e-08, sliver_m2=1.0) == "0 m² (0 亩)*"
    assert _format.share(1.528e-08) == "0.0%"
    assert _format.share(1.528e-08, sliver=True) == "0.0%*"
    assert _format.area(1.5, sliver_m2=1.0) == "1.50 m² (0.00 亩)"  # above the tolerance: the value
    assert "1 m²" in _format.sliver_note(1.0)
    assert _format.share(0.12345) == "12.3%" and _format.share(1.0) == "100.0%"
    assert _format.number(1234567) == "1,234,567"


# --- in a real browser ----------------------------------------------------------------------------

#: Injected into a copy of the page: writes what the browser saw into the DOM (read with --dump-dom).
_CHECK_JS = """
<script>
window.__errors = [];
window.addEventListener('error', e => window.__errors.push(String(e.message || (e.target && e.target.tagName))), true);
window.addEventListener('load', () => {
  const imgs = [...document.images];
  // drawing an image on a canvas decodes it synchronously; a broken one throws or has no size
  const decodes = img => {
    try {
      const canvas = document.createElement('canvas');
      canvas.width = canvas.height = 4;
      const ctx = canvas.getContext('2d');
      ctx.drawImage(img, 0, 0, 4, 4);
      return img.complete && img.naturalWidth > 0 && ctx.getImageData(0, 0, 4, 4).data.length === 64;
    } catch (err) { return false; }
  };
  const decoded = imgs.filter(decodes).length;
  const page = document.body.getBoundingClientRect();
  const wide = [...document.querySelectorAll('table')].filter(
    t => t.getBoundingClientRect().right > page.right + 1 || t.scrollWidth > t.parentElement.clientWidth + 1);
  const out = document.createElement('pre');
  out.id = 'tz-check';
  out.textContent = JSON.stringify({images: imgs.length, decoded: decoded,
    tables: document.querySelectorAll('table').length, wide: wide.map(t => t.rows[0].cells[0].innerText),
    errors: window.__errors, bodyWidth: page.width});
  document.body.appendChild(out);
});
</script>
"""

needs_chromium = pytest.mark.skipif(
    tz.io.find_chromium() is None,
    reason="no Chromium on this machine: install Debian's chromium (apt-get install chromium; .ci/run does) "
    "or set TONGZHEN_CHROMIUM",
)


@needs_chromium
def test_report_in_headless_chromium_images_decode_tables_fit_no_errors(demo, tmp_path):
    import json

    out = demo / "processed" / "sample"
    page = (out / "report.html").read_text(encoding="utf-8")
    # a deliberately too-wide table proves the width check can fail
    too_wide = '<div class="wide"><table><tr><th>PROBE-WIDE</th>' + "<td>unbreakable_cell_text</td>" * 60
    too_wide += "</tr></table></div>"
    too_wide += '<img alt="broken" src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUg==">'  # and a broken image
    probe = tz.io.write_text(page.replace("</body>", too_wide + _CHECK_JS + "</body>"), tmp_path / "probe.html")
    dom, log = tz.io.dump_dom(probe)  # an A4 page at 96 dpi: 794 px wide
    found = re.search(r'<pre id="tz-check">(.*?)</pre>', dom, re.S)
    assert found, "the check script did not run"
    seen = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert seen["images"] == N_IMAGES + 1 and seen["decoded"] == N_IMAGES, seen  # all but the broken probe
    assert seen["tables"] > 10 and seen["wide"] == ["PROBE-WIDE"], seen  # every report table fits the page width
    assert seen["errors"] == ["IMG"], seen  # only the broken probe image failed to load
    console_errors = [ln for ln in log.splitlines() if "CONSOLE" in ln and ("ERROR" in ln or "Uncaught" in ln)]
    assert console_errors == []


@needs_chromium
def test_demo_prints_the_report_to_pdf_and_keeps_a_screenshot(demo):
    import matplotlib.image

    out = demo / "processed" / "sample"
    pdf = (out / "report.pdf").read_bytes()
    assert pdf[:5] == b"%PDF-" and pdf.rstrip().endswith(b"%%EOF")
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) >= 3  # cover, sections, towns: several A4 pages
    shot = matplotlib.image.imread(out / "report_first_screen.png")
    assert shot.shape[:2] == (900, 1280)
    assert shot[..., :3].std() > 0.01  # not a blank screen


# --- the report on real Hangzhou data -------------------------------------------------------------

#: OSM land-use classes as 用地用海 first-level codes (a proxy for the test: OSM is not a 国土调查 layer).
_OSM_TO_LANDUSE = {
    "residential": "07",
    "commercial": "09",
    "retail": "09",
    "industrial": "10",
    "forest": "03",
    "farm": "01",
    "farmland": "01",
    "grass": "14",
    "park": "14",
}
_CLIPS = ("yunqi", "yuhuangshan", "dream_town")
_CATEGORY = {"玉皇山南基金小镇": "finance"}


@pytest.mark.shared_data
def test_report_on_the_real_hangzhou_clips(shared_data, tmp_path):
    """Towns = OSM town_parcels of the three clips; forest as the red-line proxy, farm as farmland's.

    The red-line figure of every town is checked against an independent shapely union and
    intersection in EPSG:4549. The building footprints are tests-only: everything is written
    under tmp_path, nothing is kept.
    """
    import geopandas as gpd
    import shapely

    metric = "EPSG:4549"
    layers: dict[str, list[gpd.GeoDataFrame]] = {k: [] for k in ("towns", "landuse", "buildings", "water", "roads")}
    for clip in _CLIPS:
        path = shared_data(f"hangzhou/clip_{clip}_r2500m.gpkg")
        for key, layer in (("towns", "town_parcels"), ("landuse", "landuse"), ("buildings", "buildings")):
            layers[key].append(tz.io.read_layer(path, layer=layer).to_crs(metric))
        layers["water"].append(tz.io.read_layer(path, layer="water").to_crs(metric))
        layers["roads"].append(tz.io.read_layer(path, layer="roads").to_crs(metric))
    merged = {k: gpd.GeoDataFrame(pd.concat(v, ignore_index=True), crs=metric) for k, v in layers.items()}
    towns = merged["towns"].assign(
        town_id=lambda d: "osm" + d["osm_id"].astype(str),
        name_zh=lambda d: d["town_zh"],
        category=lambda d: d["town_zh"].map(_CATEGORY).fillna("digital"),
    )[["town_id", "name_zh", "category", "geometry"]]
    landuse = merged["landuse"]
    red = landuse[landuse["fclass"].isin(["forest", "nature_reserve"])].reset_index(drop=True)
    farm = landuse[landuse["fclass"].isin(["farm", "farmland"])].reset_index(drop=True)
    parcels = landuse.assign(landuse_code=landuse["fclass"].map(_OSM_TO_LANDUSE))
    gpkg = tmp_path / "raw" / "hangzhou.gpkg"
    for name, gdf in (
        ("towns", towns),
        ("red_line", red),
        ("farmland", farm),
        ("parcels", parcels),
        ("buildings", merged["buildings"]),
        ("water", merged["water"]),
        ("roads", merged["roads"]),
    ):
        tz.io.write_layer(gdf, gpkg, layer=name)
    config = tz.io.write_text(
        "\n".join(
            [
                "[project]",
                'title = "杭州特色小镇 (OSM 代理数据) 评估"',
                (
                    'source = "© OpenStreetMap contributors (ODbL); 生态保护红线以 OSM forest/nature_reserve 代替, '
                    '永久基本农田以 OSM farm 代替; 建筑轮廓仅供测试"'
                ),
                "[towns]",
                'path = "hangzhou.gpkg"',
                'layer = "towns"',
                'id_col = "town_id"',
                'name_col = "name_zh"',
                'category_col = "category"',
                "[control_lines]",
                'red_line = { path = "hangzhou.gpkg", layer = "red_line" }',
                'farmland = { path = "hangzhou.gpkg", layer = "farmland" }',
                "[intensity]",
                'parcels = { path = "hangzhou.gpkg", layer = "parcels" }',
                'buildings = { path = "hangzhou.gpkg", layer = "buildings" }',
                "far_cell_m = 100.0",
                "[base_layers]",
                'water = { path = "hangzhou.gpkg", layer = "water" }',
                'roads = { path = "hangzhou.gpkg", layer = "roads" }',
                "[maps]",
                "dpi = 60",
                "",
            ]
        ),
        tmp_path / "raw" / "project.toml",
    )
    out = tmp_path / "out"
    result = tz.report.build(config, out)
    for name in ("html", "docx", "xlsx"):
        assert result.files[name] == out / f"report.{name}" and result.files[name].stat().st_size > 0
    # the red-line overlap of each town against an independent shapely computation
    wb = openpyxl.load_workbook(out / "report.xlsx", read_only=True)
    head, *rows = list(wb["三线核查"].values)
    got = pd.DataFrame(rows, columns=head).set_index("小镇编号")["占用生态保护红线 (m²)"]
    red_union = shapely.union_all(shapely.make_valid(red.geometry.values))
    for tid, geom in zip(towns["town_id"], towns.geometry, strict=True):
        expected = shapely.make_valid(geom).intersection(red_union).area
        assert got[tid] == pytest.approx(expected, abs=0.01), tid
    assert (got > 0).any()  # the hills of 玉皇山 are forest: the proxy finds overlaps
    # the Word file: one heading per town (name beside id), the sources, and no scientific notation
    doc = _docx(out / "report.docx")
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    for tid, name in zip(towns["town_id"], towns["name_zh"], strict=True):
        assert f"{name} ({tid})" in headings
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "OSM forest/nature_reserve 代替" in text
    cells = "\n".join(c.text for t in doc.tables for r in t.rows for c in r.cells)
    assert not re.search(r"\d[eE][-+]?\d", cells)
    page = (out / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"\d\.?\d*e[-+]\d", page.split("<img")[0])  # text before the first image


def test_city_targets_read_in_chinese(demo):
    """解读 on the 城市总体目标 sheet is the rule file's ``note_zh``, one per target (never the English note)."""
    ruleset = tz.rules.load("hangzhou-2021-city")
    readings = {t.label_zh: t.note_zh for t in ruleset.thresholds.values()}
    assert all(readings.values()), "every city target has its reading in Chinese"
    wb = openpyxl.load_workbook(demo / "processed" / "sample" / "report.xlsx", read_only=True)
    head, *rows = list(wb["城市总体目标"].values)
    sheet = pd.DataFrame(rows, columns=head)
    assert len(sheet) and set(sheet["目标"]) <= set(readings)
    assert (sheet["解读"] == sheet["目标"].map(readings)).all()
    html = (demo / "processed" / "sample" / "report.html").read_text(encoding="utf-8")
    assert "Counts towns with status" not in html and readings["累计省政府命名特色小镇数"] in html
