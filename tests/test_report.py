"""Tests of tz.report: the bundle written for the sample town, opened back and checked.

The full bundle is built once per module by ``tongzhen demo`` (sample scene, its project.toml,
every analysis, maps). Expected figures come from the sample docstring (tongzhen_gis/samples.py).
"""

from __future__ import annotations

import base64
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
import rasterio

import tongzhen_gis as tz
from tongzhen_gis.cli import main as cli_main
from tongzhen_gis.errors import InputFileError, SchemaError

SHEETS = ["汇总", "三线核查", "三线冲突清单", "用地集约", "生活圈", "评估"]
N_RULES = len(tz.rules.load("hangzhou-2021").thresholds)


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
    # overview maps (land use, FAR) + per town: control lines and access
    assert len(page.images) == 2 + 3 * 2
    for name, tid in (("云溪数智小镇", "T1"), ("青山文旅小镇", "T2"), ("桑田智造小镇", "T3")):
        assert f"{name} ({tid})" in page.h2
    # one scorecard row per (town, rule); statuses by class: T2 fails 9 + advisory + unconfirmed...
    assert sum(page.rows_by_class.values()) == 3 * N_RULES
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
    at = cells.index("住宅用地占建设用地比重上限", cells.index("青山文旅小镇 (T2)"))
    assert cells[at + 1 : at + 6] == [f"{100 * 5 / 9:.4g}%", "≤", "30%", "比例", "未达标"]
    assert "文旅 (tourism)" in cells  # category shown in Chinese in the summary
    # conflicts: STBHHX001 covers 100 000 m² = 150 亩 = 10 % of T2
    at = cells.index("STBHHX001")
    assert cells[at + 1 : at + 4] == ["100,000", "150", "10%"]
    # coverage: T3 has no kindergarten, so 0 % of its people reach one within the 1000 m it is checked at
    at = cells.index("幼儿园(含托育)", cells.index("桑田智造小镇 (T3)"))
    assert cells[at + 1] == "1,000" and cells[at + 2] == "15分钟生活圈"
    assert cells[at + 5] == "0%" and cells[at + 10] == "0%"


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
