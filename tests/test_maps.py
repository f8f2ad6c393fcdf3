"""Tests of tz.maps and the Chinese font resolver.

Oracles: the sample town's stated figures (conflict areas in m² and 亩, land-use areas), class
breaks worked out by hand, rasters whose extent follows from their transform, and a small
independent PDF text extractor (below) that decodes the embedded fonts' ToUnicode maps, so a
searchable title is checked without any PDF library. Warnings are errors in this suite, so a
missing glyph (matplotlib's "Glyph … missing from font(s)") fails every test that draws.
"""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
import zlib

import geopandas as gpd
import matplotlib
import matplotlib.pyplot as plt
import matplotlib.text
import numpy as np
import pandas as pd
import pytest
from affine import Affine
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from matplotlib import ft2font
from matplotlib.colors import to_hex
from matplotlib_scalebar.scalebar import ScaleBar
from shapely import Polygon

import tongzhen_gis as tz
from tongzhen_gis.errors import CRSError, InputFileError, SchemaError, TongzhenError
from tongzhen_gis.maps import fonts as _fonts
from tongzhen_gis.raster import Raster


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# -------------------------------------------------------------------------- helpers


def legend_texts(ax) -> list[str]:
    legend = ax.get_legend()
    return [] if legend is None else [t.get_text() for t in legend.get_texts()]


def texts_with_gid(ax, gid: str) -> list[str]:
    return [t.get_text() for t in ax.texts if t.get_gid() == gid]


def assert_furniture(ax, *, title: str, crs_text: str = "EPSG:4549") -> None:
    """Title, scale bar, north arrow, CRS/source note."""
    assert ax.get_title() == title
    assert any(isinstance(a, ScaleBar) for a in ax.artists), "scale bar missing"
    gids = {child.get_gid() for child in ax.get_children()}
    assert "north_arrow" in gids
    assert texts_with_gid(ax, "north_arrow_label") == ["N"]
    (note,) = texts_with_gid(ax, "source_note")
    assert crs_text in note
    assert "数据来源" in note


def assert_covers(ax, bounds) -> None:
    minx, miny, maxx, maxy = bounds
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    assert x0 <= minx and x1 >= maxx and y0 <= miny and y1 >= maxy


# A tiny PDF text extractor, independent of matplotlib: objects, streams (Flate), the
# ToUnicode CMaps of the fonts, and the strings shown between BT and ET.
def _pdf_objects(data: bytes) -> dict[int, bytes]:
    return {int(m.group(1)): m.group(2) for m in re.finditer(rb"(?m)^(\d+) 0 obj\s*(.*?)\bendobj", data, re.S)}


def _pdf_stream(objs: dict[int, bytes], body: bytes) -> bytes:
    head, _, rest = body.partition(b"stream")
    rest = rest[2:] if rest.startswith(b"\r\n") else rest[1:]
    m = re.search(rb"/Length (\d+)( 0 R)?", head)
    n = int(objs[int(m.group(1))].split()[0]) if m.group(2) else int(m.group(1))
    raw = rest[:n]
    return zlib.decompress(raw) if b"/FlateDecode" in head else raw


_PDF_ESCAPES = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("f"): 12}


def _pdf_tokens(block: bytes):
    i = 0
    while i < len(block):
        ch = block[i]
        if ch == ord("/"):
            m = re.match(rb"/(\w+)\s+[\d.]+\s+Tf", block[i:])
            if m:
                yield "font", m.group(1).decode()
                i += m.end()
                continue
            i += 1
        elif ch == ord("<"):
            j = block.index(b">", i)
            yield "bytes", bytes.fromhex(block[i + 1 : j].decode())
            i = j + 1
        elif ch == ord("("):
            out, depth, i = bytearray(), 1, i + 1
            while True:
                c = block[i]
                if c == ord("\\"):
                    nxt = block[i + 1]
                    if ord("0") <= nxt <= ord("7"):
                        m = re.match(rb"[0-7]{1,3}", block[i + 1 : i + 4])
                        out.append(int(m.group(0), 8) & 0xFF)
                        i += 1 + m.end()
                        continue
                    out.append(_PDF_ESCAPES.get(nxt, nxt))
                    i += 2
                    continue
                if c == ord("("):
                    depth += 1
                elif c == ord(")"):
                    depth -= 1
                    if depth == 0:
                        i += 1
                        break
                out.append(c)
                i += 1
            yield "bytes", bytes(out)
        else:
            i += 1


def _pdf_cmap(cmap: bytes) -> dict[int, str]:
    table: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            table[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", cmap, re.S):
        for lo, hi, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(<[0-9A-Fa-f]+>|\[[^\]]*\])", block):
            codes = range(int(lo, 16), int(hi, 16) + 1)
            if dst.startswith(b"["):
                for code, d in zip(codes, re.findall(rb"<([0-9A-Fa-f]+)>", dst), strict=False):
                    table[code] = bytes.fromhex(d.decode()).decode("utf-16-be")
            else:
                for k, code in enumerate(codes):
                    table[code] = chr(int(dst[1:-1], 16) + k)
    return table


def pdf_text(data: bytes) -> str:
    """Text shown in a PDF with Type 0 (CID) fonts, one line per BT…ET block."""
    objs = _pdf_objects(data)
    cmaps: dict[str, dict[int, str]] = {}
    for body in objs.values():
        for name, ref in re.findall(rb"/(F\d+) (\d+) 0 R", body):
            m = re.search(rb"/ToUnicode (\d+) 0 R", objs[int(ref)])
            if m:
                cmaps[name.decode()] = _pdf_cmap(_pdf_stream(objs, objs[int(m.group(1))]))
    lines = []
    for body in objs.values():
        if b"stream" not in body:
            continue
        content = _pdf_stream(objs, body)
        for block in re.findall(rb"\bBT\b(.*?)\bET\b", content, re.S):
            font, chars = None, []
            for kind, value in _pdf_tokens(block):
                if kind == "font":
                    font = value
                    continue
                table = cmaps.get(font, {})
                chars += [
                    table.get(int.from_bytes(value[k : k + 2], "big"), "\ufffd") for k in range(0, len(value) - 1, 2)
                ]
            lines.append("".join(chars))
    return "\n".join(lines)


# -------------------------------------------------------------------------- font resolver


def _has_glyphs(font: _fonts.ResolvedFont, text: str) -> bool:
    face = ft2font.FT2Font(str(font.path), face_index=font.face_index)
    return all(face.get_char_index(ord(ch)) for ch in text)


def test_default_font_is_noto_sans_cjk_sc_from_the_package(monkeypatch):
    monkeypatch.delenv(_fonts.FONT_ENV, raising=False)
    font = tz.maps.resolve_font()
    assert font.source == "noto-cjk-sans-otc"
    assert font.family == "Noto Sans CJK SC"
    assert font.path.suffix.lower() in (".ttc", ".otc")
    # the chosen face really is the Simplified Chinese one and draws the map vocabulary
    assert ft2font.FT2Font(str(font.path), face_index=font.face_index).family_name == "Noto Sans CJK SC"
    assert _has_glyphs(font, "三条控制线核查图用地用海分类容积率亩均幼儿园(含托育)")


def test_explicit_missing_font_raises_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv(_fonts.FONT_ENV, raising=False)
    missing = tmp_path / "nope" / "simhei.ttf"
    with pytest.raises(_fonts.FontNotFoundError, match="does not exist") as info:
        tz.maps.resolve_font(missing)
    assert isinstance(info.value, TongzhenError) and isinstance(info.value, OSError)
    assert str(missing) in str(info.value)
    assert "noto-cjk-sans-otc" in str(info.value)  # says how to fix it


def test_missing_font_in_environment_variable_is_an_error_not_a_silent_fallback(tmp_path, monkeypatch):
    monkeypatch.setenv(_fonts.FONT_ENV, str(tmp_path / "gone.ttc"))
    with pytest.raises(_fonts.FontNotFoundError, match=r"\$TONGZHEN_FONT"):
        tz.maps.resolve_font()


def test_font_without_chinese_glyphs_is_refused(monkeypatch):
    monkeypatch.delenv(_fonts.FONT_ENV, raising=False)
    dejavu = matplotlib.get_data_path() + "/fonts/ttf/DejaVuSans.ttf"
    with pytest.raises(_fonts.FontNotFoundError, match="no Chinese glyphs"):
        tz.maps.resolve_font(dejavu)


def test_explicit_and_environment_font_files_are_used(monkeypatch):
    monkeypatch.delenv(_fonts.FONT_ENV, raising=False)
    noto = tz.maps.resolve_font().path
    assert tz.maps.resolve_font(noto).source == "argument"
    monkeypatch.setenv(_fonts.FONT_ENV, str(noto))
    font = tz.maps.resolve_font()
    assert font.source == "environment"
    assert font.family == "Noto Sans CJK SC"


def test_without_the_package_a_system_font_is_used_else_a_clear_error(monkeypatch):
    monkeypatch.delenv(_fonts.FONT_ENV, raising=False)
    tz.maps.resolve_font()  # registers Noto with matplotlib, so it is a "system" font below
    monkeypatch.setitem(sys.modules, _fonts.NOTO_PACKAGE, None)  # import now raises ImportError
    monkeypatch.setattr(_fonts, "SYSTEM_FAMILIES", ("No Such Family", "Noto Sans CJK SC"))
    font = tz.maps.resolve_font()
    assert font.source == "system"
    assert font.family == "Noto Sans CJK SC"

    monkeypatch.setattr(_fonts, "SYSTEM_FAMILIES", ("No Such Family",))
    with pytest.raises(_fonts.FontNotFoundError) as info:
        tz.maps.resolve_font()
    message = str(info.value)
    assert "boxes" in message
    assert "pip install noto-cjk-sans-otc" in message
    assert _fonts.FONT_ENV in message


def test_map_with_a_missing_font_raises_before_drawing(scene, tmp_path):
    before = plt.get_fignums()
    with pytest.raises(_fonts.FontNotFoundError):
        tz.maps.landuse_map(scene.parcels, font=tmp_path / "missing.ttf")
    assert plt.get_fignums() == before


def test_maps_leave_global_rcparams_unchanged(scene):
    before = dict(matplotlib.rcParams)
    fig, ax = tz.maps.landuse_map(scene.parcels)
    assert dict(matplotlib.rcParams) == before
    # the text keeps the Chinese font although the figure is drawn outside the font context
    assert ax.title.get_fontproperties().get_family()[0] == "Noto Sans CJK SC"
    fig.canvas.draw()


def test_importing_maps_does_not_touch_rcparams():
    code = (
        "import matplotlib; before = dict(matplotlib.rcParams); "
        "import tongzhen_gis.maps, tongzhen_gis.maps.fonts; "
        "assert dict(matplotlib.rcParams) == before, 'rcParams changed at import'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -------------------------------------------------------------------------- control lines


@pytest.fixture
def checked(scene):
    result = tz.controllines.check(
        scene.towns, red_line=scene.red_line, farmland=scene.farmland, urban_boundary=scene.urban_boundary
    )
    return scene, result


def test_control_lines_map_structure_and_conflict_areas(checked):
    scene, result = checked
    fig, ax = tz.maps.control_lines_map(
        scene.towns,
        red_line=scene.red_line,
        farmland=scene.farmland,
        urban_boundary=scene.urban_boundary,
        conflicts=result.conflicts,
        roads=scene.roads,
        water=scene.water,
        source="示例小镇",
    )
    assert_furniture(ax, title="三条控制线核查图")
    assert legend_texts(ax) == [
        "生态保护红线",
        "永久基本农田",
        "城镇开发边界",
        "核查对象 (小镇/地块)",
        "冲突: 占用生态保护红线",
        "冲突: 占用永久基本农田",
        "冲突: 超出城镇开发边界",
        "水系",
        "道路",
    ]
    assert sorted(texts_with_gid(ax, "feature_label")) == sorted(scene.towns["name_zh"])
    labels = "\n".join(texts_with_gid(ax, "conflict_label"))
    # sample docstring: T2 red line 100 000 m² = 150 亩 (the union: STBHHX001 and 002 overlap,
    # 125 000 would be double counting); T3 farmland 120 000 = 180 亩; outside 100 000 and 300 000
    assert "红线 100,000 m²\n(150.0 亩)" in labels
    assert "农田 120,000 m²\n(180.0 亩)" in labels
    assert "界外 100,000 m²\n(150.0 亩)" in labels
    assert "界外 300,000 m²\n(450.0 亩)" in labels
    assert "125,000" not in labels and "150,000 m²" not in labels
    assert "示例小镇" in texts_with_gid(ax, "source_note")[0]
    assert_covers(ax, scene.towns.total_bounds)
    fig.canvas.draw()


def test_control_lines_map_accepts_the_result_object_and_omits_missing_lines(checked):
    scene, result = checked
    _fig, ax = tz.maps.control_lines_map(scene.towns, red_line=scene.red_line, conflicts=result, title="红线核查")
    texts = legend_texts(ax)
    assert ax.get_title() == "红线核查"
    assert "生态保护红线" in texts
    assert "永久基本农田" not in texts and "城镇开发边界" not in texts


def test_control_lines_map_in_degrees_is_drawn_in_the_metric_zone(scene):
    towns = scene.towns.to_crs("EPSG:4326")
    _fig, ax = tz.maps.control_lines_map(towns, red_line=scene.red_line)
    assert_furniture(ax, title="三条控制线核查图", crs_text="EPSG:4549")
    assert_covers(ax, scene.towns.total_bounds)  # the metric bounds (to_metric chose EPSG:4549)


def test_control_lines_map_errors(scene, checked):
    _, result = checked
    no_crs = scene.towns.set_crs(None, allow_override=True)
    with pytest.raises(CRSError, match="set_crs"):
        tz.maps.control_lines_map(no_crs)
    with pytest.raises(SchemaError, match="sliver"):
        tz.maps.control_lines_map(scene.towns, conflicts=result.conflicts.drop(columns="sliver"))
    bad = result.conflicts.assign(line="river")
    with pytest.raises(SchemaError, match="unknown line"):
        tz.maps.control_lines_map(scene.towns, conflicts=bad)


def test_empty_layers_are_named_in_the_legend_not_plotted(scene, checked):
    _, result = checked
    no_farmland = scene.farmland.iloc[0:0]
    _fig, ax = tz.maps.control_lines_map(scene.towns, farmland=no_farmland, conflicts=result.conflicts.iloc[0:0])
    assert not any("永久基本农田" in t for t in legend_texts(ax))  # the legend lists only what is drawn
    assert "永久基本农田: 图层无图斑" in texts_with_gid(ax, "source_note")[0]
    assert texts_with_gid(ax, "conflict_label") == []
    with pytest.raises(SchemaError, match="nothing to map"):
        tz.maps.control_lines_map(scene.towns.assign(geometry=None).set_crs(scene.towns.crs, allow_override=True))


def test_a_map_that_fails_half_way_leaves_no_figure_open(scene):
    before = plt.get_fignums()
    with pytest.raises(SchemaError):
        tz.maps.access_map(scene.homes, facilities=scene.facilities.drop(columns="category"), category=None)
    assert plt.get_fignums() == before


def test_slivers_are_counted_and_label_overflow_is_noted(checked):
    scene, result = checked
    conflicts = result.conflicts.copy()
    conflicts.loc[0, "sliver"] = True
    _fig, ax = tz.maps.control_lines_map(scene.towns, conflicts=conflicts, max_labels=1)
    assert "微小重叠 1 处 (待核)" in legend_texts(ax)
    assert len(texts_with_gid(ax, "conflict_label")) == 1
    assert "仅标注面积最大的 1 处" in texts_with_gid(ax, "source_note")[0]


# -------------------------------------------------------------------------- land use


def test_landuse_map_colours_and_chinese_class_names(scene):
    classes = tz.rules.load("landuse")["class"]
    _fig, ax = tz.maps.landuse_map(scene.parcels, towns=scene.towns, roads=scene.roads, source="示例")
    assert_furniture(ax, title="用地用海分类图")
    texts = legend_texts(ax)
    # first-level classes present in the sample: 01 03 07 09 10 11 14, in code order, with 亩
    expected_codes = ["01", "03", "07", "09", "10", "11", "14"]
    assert [t.split()[0] for t in texts[: len(expected_codes)]] == expected_codes
    assert [t.split()[1] for t in texts[: len(expected_codes)]] == [classes[k]["name_zh"] for k in expected_codes]
    # 07: P1 200 000 + Q1 500 000 = 700 000 m² = 1 050 亩 (whole parcels)
    assert "07 居住用地 (1,050 亩)" in texts
    assert "小镇范围" in texts and "道路" in texts
    # every parcel is filled with its class colour from the rules
    parcel_patches = ax.collections[1]  # 0: roads, 1: parcels
    faces = [to_hex(c) for c in parcel_patches.get_facecolors()]
    assert faces == [classes[code[:2]]["colour"] for code in scene.parcels["landuse_code"]]
    assert_covers(ax, scene.parcels.total_bounds)


def test_landuse_map_reports_unreadable_codes(scene):
    parcels = scene.parcels.copy()
    parcels.loc[0, "landuse_code"] = "道路"
    parcels.loc[1, "landuse_code"] = None
    _fig, ax = tz.maps.landuse_map(parcels)
    assert "代码无法识别 2 块" in legend_texts(ax)
    with pytest.raises(SchemaError, match="landuse_col"):
        tz.maps.landuse_map(parcels, landuse_col="code")


# -------------------------------------------------------------------------- intensity


def test_intensity_map_of_parcels_with_hand_breaks(scene):
    parcels = scene.parcels.copy()
    parcels["far"] = [0.0, 0.5, 1.0, 1.5, 2.0, 0.25, 0.75, 1.25, 1.75, np.nan]
    _fig, ax = tz.maps.intensity_map(parcels, scheme="EqualInterval", k=2)
    assert_furniture(ax, title="容积率分布图")
    assert ax.get_legend().get_title().get_text() == "容积率 (FAR)"
    # equal intervals over [0, 2]: (0, 1] holds 0, .25, .5, .75, 1 and (1, 2] holds 1.25 … 2
    assert legend_texts(ax) == ["0.00 – 1.00 (5)", "1.00 – 2.00 (4)", "无数据 1 个"]


def test_intensity_map_reduces_k_to_the_distinct_values_without_warning(scene):
    parcels = scene.parcels.copy()
    parcels["far"] = [1.0, 2.0] * 5
    _fig, ax = tz.maps.intensity_map(parcels, k=5)
    assert legend_texts(ax) == ["1.00 – 1.00 (5)", "1.00 – 2.00 (5)"]


def test_values_a_map_cannot_tell_apart_are_one_class(scene):
    # mapclassify's NaturalBreaks fails on 0 and 4e-89 as two values; the map merges them
    parcels = scene.parcels.assign(far=[0.0, 4e-89, 1.0, 1.0, 0.0, 4e-89, 1.0, 0.0, 1.0, 1.0])
    _fig, ax = tz.maps.intensity_map(parcels, k=3)
    assert legend_texts(ax) == ["0.00 – 0.00 (5)", "0.00 – 1.00 (5)"]
    _fig, ax = tz.maps.intensity_map(parcels.assign(far=[0.0, 1e-300] * 5), k=2)
    assert legend_texts(ax) == ["0.00 – 0.00 (10)"]


def test_natural_breaks_are_reproducible_and_leave_numpy_state_alone(scene):
    parcels = scene.parcels.copy()
    parcels["far"] = np.random.default_rng(3).gamma(2.0, 0.5, len(parcels))
    np.random.seed(123)  # noqa: NPY002 (mapclassify uses the global generator)
    expected_next = np.random.random()  # noqa: NPY002 (mapclassify uses the global generator)
    np.random.seed(123)  # noqa: NPY002 (mapclassify uses the global generator)
    first = legend_texts(tz.maps.intensity_map(parcels, k=3)[1])
    second = legend_texts(tz.maps.intensity_map(parcels, k=3)[1])
    assert first == second
    assert np.random.random() == expected_next  # noqa: NPY002 (mapclassify uses the global generator)


def test_intensity_map_of_a_raster(scene):
    array = np.array([[0.0, 0.5, 1.0, -9.0], [1.5, 2.0, 0.0, 0.5], [0.0, 0.0, 2.0, 1.0]])
    raster = Raster(array, Affine(100.0, 0.0, 520_000.0, 0.0, -100.0, 3_350_300.0), "EPSG:4549", nodata=-9.0)
    _fig, ax = tz.maps.intensity_map(raster, scheme="EqualInterval", k=2, hide_zero=True, towns=scene.towns)
    assert_furniture(ax, title="容积率分布图")
    # valid non-zero cells: .5 1 1.5 2 .5 2 1 → (0.5, 1.25]: 4 cells (min 0.5 included), (1.25, 2]: 3
    assert legend_texts(ax)[:2] == ["0.50 – 1.25 (4)", "1.25 – 2.00 (3)"]
    (image,) = ax.images
    assert image.get_extent() == [520_000.0, 520_400.0, 3_350_000.0, 3_350_300.0]
    assert image.get_array().mask.sum() == 5  # 4 zero cells and 1 nodata cell left blank
    note = texts_with_gid(ax, "source_note")[0]
    assert "无数据栅格 1 个" in note and "数值为 0 的栅格 4 个" in note and "栅格 100 m × 100 m" in note


def test_intensity_map_refuses_a_raster_in_degrees():
    raster = Raster(np.ones((2, 2)), Affine(0.001, 0.0, 120.0, 0.0, -0.001, 30.0), "EPSG:4326")
    with pytest.raises(CRSError, match="metric CRS"):
        tz.maps.intensity_map(raster)


def test_intensity_map_errors(scene):
    with pytest.raises(SchemaError, match="column"):
        tz.maps.intensity_map(scene.parcels, column="far")
    empty = scene.parcels.assign(far=np.nan)
    with pytest.raises(SchemaError, match="no value"):
        tz.maps.intensity_map(empty)


# -------------------------------------------------------------------------- access


@pytest.fixture
def hand_nearest(scene):
    """A hand-made nearest table for the sample homes: kindergarten distances cycle through bands."""
    homes = scene.homes
    cats = list(tz.rules.load("facilities")["category"])
    bands = [100.0, 400.0, 800.0, 1500.0, np.nan]
    table = pd.DataFrame(index=homes.index)
    for c in cats:
        table[c] = 300.0
    table["kindergarten"] = [bands[i % 5] for i in range(len(homes))]
    table["clinic"] = 5000.0  # never within 1000 m
    table["snap_m"] = 50.0
    table["reachable"] = True
    farm = homes.index[homes["home_id"] == "H_FARM"][0]
    table.loc[farm, cats] = np.nan
    table.loc[farm, "reachable"] = False
    return table


def test_access_map_by_distance_bands(scene, hand_nearest):
    kg = scene.facilities[scene.facilities["category"] == "kindergarten"]
    areas = gpd.GeoDataFrame(
        {"category": ["kindergarten"] * 3, "threshold_m": [0.0, 500.0, 1000.0]},
        geometry=[Polygon(), kg.union_all().buffer(200), kg.union_all().buffer(400)],
        crs=kg.crs,
    )
    _fig, ax = tz.maps.access_map(
        scene.homes,
        nearest=hand_nearest,
        category="kindergarten",
        facilities=scene.facilities,
        service_areas=areas,
        towns=scene.towns,
    )
    assert_furniture(ax, title="15分钟生活圈可达性: 幼儿园(含托育)")
    texts = legend_texts(ax)
    # 53 homes: 52 in towns (indices 0–51) + H_FARM (index 52, unreachable).
    # Band of index i: i % 5 → 0: ≤300, 1: ≤500, 2: ≤1000, 3: >1000, 4: NaN (none in reach)
    n = {k: sum(1 for i in range(52) if i % 5 == k) for k in range(5)}
    assert f"0–300 m 5分钟生活圈 ({n[0]} 处)" in texts
    assert f"300–500 m 10分钟生活圈 ({n[1]} 处)" in texts
    assert f"500–1000 m 15分钟生活圈 ({n[2]} 处)" in texts
    assert f"> 1000 m 或检索范围内无 ({n[3] + n[4]} 处)" in texts
    assert "无法接入路网 1 处" in texts
    assert "服务范围 500 m" in texts and "服务范围 1000 m" in texts
    assert "服务范围 0 m (无可达街道)" in texts  # an empty area is named, not plotted (no warning)
    assert "幼儿园(含托育) (2)" in texts  # only the chosen category's facilities, T1 and T2
    assert_covers(ax, scene.homes.total_bounds)


def test_access_map_by_number_of_categories(scene, hand_nearest):
    _fig, ax = tz.maps.access_map(scene.homes, nearest=hand_nearest, facilities=scene.facilities)
    texts = legend_texts(ax)
    # every reachable home reaches the 6 categories at 300 m, no clinic; kindergarten adds
    # one where it is ≤ 1000 m (bands 0, 1, 2)
    with_kg = sum(1 for i in range(52) if i % 5 in (0, 1, 2))
    assert f"7 类 ({with_kg} 处)" in texts
    assert f"5–6 类 ({52 - with_kg} 处)" in texts
    assert "无法接入路网 1 处" in texts
    names = tz.rules.load("facilities")["category"]
    # all eight categories in the legend with their Chinese names; the sample has a park in each
    # town (3) and a kindergarten only in T1 and T2 (2)
    for category in names:
        assert any(t.startswith(names[category]["name_zh"] + " (") for t in texts), category
    assert f"{names['park']['name_zh']} (3)" in texts
    assert f"{names['kindergarten']['name_zh']} (2)" in texts
    note = texts_with_gid(ax, "source_note")[0]
    assert "计入的设施类别 (8 类, 步行距离 ≤ 1000 m): " in note
    assert all(names[k]["name_zh"] in note for k in names)


def test_access_map_errors(scene, hand_nearest):
    with pytest.raises(SchemaError, match="indexed like homes"):
        tz.maps.access_map(scene.homes, nearest=hand_nearest.iloc[1:])
    with pytest.raises(SchemaError, match="library"):
        tz.maps.access_map(scene.homes, nearest=hand_nearest, category="library")


# -------------------------------------------------------------------------- export


def test_export_png_pdf_svg(scene, checked, tmp_path):
    _, result = checked
    fig, _ax = tz.maps.control_lines_map(
        scene.towns, red_line=scene.red_line, farmland=scene.farmland, conflicts=result, source="示例小镇"
    )
    png = tz.maps.export(fig, tmp_path / "out" / "lines.png", dpi=80)
    pdf = tz.maps.export(fig, tmp_path / "out" / "lines.pdf")
    svg = tz.maps.export(fig, tmp_path / "out" / "lines.svg")
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    image = matplotlib.image.imread(png)
    assert image.shape[0] > 100 and image.shape[1] > 400
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    assert b"/CIDFontType2" in data and b"/FontFile2" in data and b"/Type3" not in data  # TrueType, embedded
    assert b"NotoSansCJKsc" in data
    text = pdf_text(data)
    for expected in (
        "三条控制线核查图",
        "生态保护红线",
        "冲突: 占用生态保护红线",
        "云溪数智小镇",
        "数据来源: 示例小镇",
    ):
        assert expected in text
    assert "红线 100,000 m²" in text and "(150.0 亩)" in text
    assert svg.read_bytes().lstrip().startswith(b"<?xml") and b"<svg" in svg.read_bytes()


def test_export_refuses_other_formats(scene, tmp_path):
    fig, _ = tz.maps.landuse_map(scene.parcels)
    with pytest.raises(InputFileError, match=r"\.png, \.pdf or \.svg"):
        tz.maps.export(fig, tmp_path / "map.jpg")


def test_every_map_exports_without_warnings(scene, hand_nearest, tmp_path):
    parcels = scene.parcels.assign(far=np.linspace(0.1, 2.0, len(scene.parcels)))
    maps = {
        "landuse": tz.maps.landuse_map(scene.parcels, water=scene.water),
        "intensity": tz.maps.intensity_map(parcels, roads=scene.roads),
        "access": tz.maps.access_map(scene.homes, nearest=hand_nearest, category="clinic"),
    }
    for name, (fig, _) in maps.items():
        path = tz.maps.export(fig, tmp_path / f"{name}.pdf", dpi=72)
        assert path.read_bytes().startswith(b"%PDF")


def test_crumbs_of_a_conflict_are_counted_not_labelled(scene):
    # one conflict row whose geometry is a 50 000 m² patch plus a 0.25 m² crumb far away
    from shapely import MultiPolygon, box

    x0, y0 = 521_500.0, 3_350_000.0
    geom = MultiPolygon([box(x0, y0, x0 + 100, y0 + 500), box(x0 + 700, y0 + 900, x0 + 700.5, y0 + 900.5)])
    conflicts = gpd.GeoDataFrame(
        {"town_id": ["T2"], "line": ["red_line"], "source_id": ["X"], "area_m2": [geom.area], "sliver": [False]},
        geometry=[geom],
        crs=scene.towns.crs,
    )
    _fig, ax = tz.maps.control_lines_map(scene.towns, conflicts=conflicts)
    assert texts_with_gid(ax, "conflict_label") == ["红线 50,000 m²\n(75.0 亩)"]
    assert "另有 1 处 ≤ 1 m² 的冲突碎片未标注面积" in texts_with_gid(ax, "source_note")[0]


def test_every_text_of_a_map_uses_the_chinese_font(checked, hand_nearest):
    scene, result = checked
    figures = [
        tz.maps.control_lines_map(scene.towns, red_line=scene.red_line, conflicts=result, water=scene.water)[0],
        tz.maps.access_map(scene.homes, nearest=hand_nearest, facilities=scene.facilities)[0],
    ]
    for fig in figures:
        fig.canvas.draw()
        texts = [t for t in fig.findobj(matplotlib.text.Text) if t.get_text()]
        assert texts
        assert {t.get_fontproperties().get_family()[0] for t in texts} == {"Noto Sans CJK SC"}


_SAMPLE = tz.samples.sample_town()


@settings(max_examples=20, deadline=None)
@given(
    values=st.lists(st.one_of(st.floats(0.0, 20.0), st.just(np.nan)), min_size=10, max_size=10),
    k=st.integers(1, 6),
    scheme=st.sampled_from(["NaturalBreaks", "Quantiles", "EqualInterval"]),
)
def test_intensity_legend_counts_every_feature_once(values, k, scheme):
    finite = [v for v in values if np.isfinite(v)]
    assume(finite)
    parcels = _SAMPLE.parcels.assign(far=values)
    fig, ax = tz.maps.intensity_map(parcels, scheme=scheme, k=k)
    texts = legend_texts(ax)
    plt.close(fig)
    classes = [t for t in texts if " – " in t]
    assert 1 <= len(classes) <= min(k, len(set(finite)))
    counts = [int(t.rsplit("(", 1)[1].rstrip(")")) for t in classes]
    missing = len(values) - len(finite)
    assert sum(counts) == len(finite)
    assert (f"无数据 {missing} 个" in texts) == (missing > 0)
    uppers = [float(t.split(" – ")[1].split(" ")[0]) for t in classes]
    assert uppers == sorted(uppers)
    assert uppers[-1] == pytest.approx(max(finite), abs=0.006)  # the last class ends at the maximum


# -------------------------------------------------------------------------- layout


def test_overlapping_conflict_labels_are_stacked_not_printed_over_each_other(checked):
    scene, result = checked
    fig, ax = tz.maps.control_lines_map(scene.towns, farmland=scene.farmland, conflicts=result)
    fig.draw_without_rendering()
    labels = [t for t in ax.texts if t.get_gid() == "conflict_label"]
    boxes = [t.get_window_extent() for t in labels]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b)
    # T3's farmland patch (120 000 m²) lies inside its outside-boundary strip (300 000 m²): the two
    # labels fall on nearly the same spot, so they share one block; every figure is still written
    joined = "\n".join(t.get_text() for t in labels)
    for text in ("红线 100,000 m²", "农田 120,000 m²", "界外 100,000 m²", "界外 300,000 m²"):
        assert joined.count(text) == 1


def test_a_wide_map_is_not_framed_by_blank_paper_and_a_long_legend_fits(scene, hand_nearest):
    fig, ax = tz.maps.landuse_map(scene.parcels, towns=scene.towns)
    fig.draw_without_rendering()
    tight = fig.get_tightbbox()
    width, height = fig.get_size_inches()
    assert tight.height >= 0.9 * height and tight.width >= 0.9 * width
    # 8 facility categories + count classes: the legend is taller than the wide map itself
    fig, ax = tz.maps.access_map(scene.homes, nearest=hand_nearest, facilities=scene.facilities)
    fig.draw_without_rendering()
    legend = ax.get_legend().get_window_extent()
    page = fig.bbox
    assert legend.y0 >= page.y0 and legend.y1 <= page.y1 and legend.x1 <= page.x1
    # the map keeps most of the width left of the legend (the layout did not shrink it to fit)
    assert ax.get_window_extent().width >= 0.6 * (legend.x0 - page.x0)


def test_facility_counts_are_of_the_map_frame(scene, hand_nearest):
    t3 = scene.towns[scene.towns["town_id"] == "T3"]
    minx, miny, maxx, maxy = t3.total_bounds
    mine = (scene.homes["town_id"] == "T3").to_numpy()
    _fig, ax = tz.maps.access_map(
        scene.homes[mine],
        nearest=hand_nearest[mine],
        facilities=scene.facilities,
        extent=(minx - 50, miny - 50, maxx + 50, maxy + 50),
    )
    names = tz.rules.load("facilities")["category"]
    texts = legend_texts(ax)
    # sample: one facility of each category per town, T3 has no kindergarten: named in the note, not the legend
    assert not any(names["kindergarten"]["name_zh"] in t for t in texts)
    assert f"图内无: {names['kindergarten']['name_zh']}" in texts_with_gid(ax, "source_note")[0]
    assert f"{names['park']['name_zh']} (1)" in texts


# -------------------------------------------------------------------------- issue 14: maps that sit right


def _square(x0: float, y0: float, side: float) -> Polygon:
    return Polygon([(x0, y0), (x0 + side, y0), (x0 + side, y0 + side), (x0, y0 + side)])


X0, Y0 = 500_000.0, 3_340_000.0  # EPSG:4549 metres, near Hangzhou


def test_a_town_in_several_parts_is_labelled_on_its_largest_part():
    from shapely import MultiPolygon

    big, small = _square(X0, Y0, 1000), _square(X0 + 5000, Y0 + 3000, 100)
    towns = gpd.GeoDataFrame(
        {"town_id": ["M"], "name_zh": ["多块小镇"]}, geometry=[MultiPolygon([small, big])], crs="EPSG:4549"
    )
    _fig, ax = tz.maps.control_lines_map(towns, red_line=towns.iloc[:0])
    (label,) = [t for t in ax.texts if t.get_gid() == "feature_label"]
    x, y = label.get_position()
    assert x == pytest.approx(X0 + 500) and y == pytest.approx(Y0 + 1000)  # top centre of the big part


def test_polygon_facilities_are_outlines_points_are_markers(scene, hand_nearest):
    from matplotlib.patches import Patch

    names = tz.rules.load("facilities")["category"]
    t1 = scene.towns[scene.towns["town_id"] == "T1"]
    park_geom = t1.geometry.iloc[0].centroid.buffer(80)
    facilities = scene.facilities.copy()
    facilities.loc[facilities["category"] == "park", "geometry"] = park_geom
    mine = (scene.homes["town_id"] == "T1").to_numpy()
    _fig, ax = tz.maps.access_map(scene.homes[mine], nearest=hand_nearest[mine], facilities=facilities, towns=t1)
    handles = {h.get_label(): h for h in ax.get_legend().legend_handles}
    park = next(h for label, h in handles.items() if label.startswith(names["park"]["name_zh"]))
    school = next(h for label, h in handles.items() if label.startswith(names["clinic"]["name_zh"]))
    assert isinstance(park, Patch) and park.get_facecolor()[3] == 0  # an outline, no fill
    assert school.get_marker() == "^"
    colour = to_hex(names["park"]["colour"])
    outlines = [
        c
        for c in ax.collections
        if len(c.get_paths()) and to_hex(c.get_edgecolor()[0]) == colour and c.get_linewidth()[0] == 1.6
    ]
    assert outlines, "the park polygon is drawn as an outline in its category colour"


def _display_polygon(ax, geom):
    """A polygon of data coordinates in display (pixel) coordinates."""
    return Polygon(ax.transData.transform(np.asarray(geom.exterior.coords)))


def test_north_arrow_and_scale_bar_go_to_the_empty_corners():
    """A diagonal band from lower left to upper right leaves the other two corners empty."""
    from shapely import box

    band = Polygon(
        [
            (X0, Y0),
            (X0 + 400, Y0),
            (X0 + 2000, Y0 + 1600),
            (X0 + 2000, Y0 + 2000),
            (X0 + 1600, Y0 + 2000),
            (X0, Y0 + 400),
        ]
    )
    towns = gpd.GeoDataFrame({"town_id": ["D"], "name_zh": [None]}, geometry=[band], crs="EPSG:4549")
    fig, ax = tz.maps.control_lines_map(
        towns, red_line=towns.assign(geometry=[band]), extent=(X0, Y0, X0 + 2000, Y0 + 2000)
    )
    fig.draw_without_rendering()
    feature = _display_polygon(ax, band)
    arrow = next(a for a in ax.get_children() if a.get_gid() == "north_arrow").get_window_extent()
    n_label = next(t for t in ax.texts if t.get_gid() == "north_arrow_label").get_window_extent()
    (bar,) = [a for a in ax.artists if isinstance(a, ScaleBar)]
    frame = ax.get_window_extent()
    # the bar's room in its corner (30 % × 10 % of the frame; matplotlib-scalebar has no extent)
    bar_room = box(frame.x1 - 0.3 * frame.width, frame.y0, frame.x1, frame.y0 + 0.1 * frame.height)
    for extent in (arrow, n_label):
        assert not box(extent.x0, extent.y0, extent.x1, extent.y1).intersects(feature), extent
    assert not bar_room.intersects(feature)
    # the arrow went to the upper left, the bar to the lower right (the usual corners are full)
    assert arrow.x1 < frame.x0 + 0.5 * frame.width and arrow.y0 > frame.y0 + 0.5 * frame.height
    assert bar.location in ("lower right", 4)


def test_furniture_keeps_the_usual_corners_on_an_empty_frame():
    towns = gpd.GeoDataFrame(
        {"town_id": ["S"], "name_zh": ["小"]}, geometry=[_square(X0 + 900, Y0 + 900, 200)], crs="EPSG:4549"
    )
    fig, ax = tz.maps.control_lines_map(towns, extent=(X0, Y0, X0 + 2000, Y0 + 2000))
    fig.draw_without_rendering()
    frame = ax.get_window_extent()
    arrow = next(a for a in ax.get_children() if a.get_gid() == "north_arrow").get_window_extent()
    (bar,) = [a for a in ax.artists if isinstance(a, ScaleBar)]
    assert arrow.x0 > frame.x0 + 0.5 * frame.width and arrow.y0 > frame.y0 + 0.5 * frame.height
    assert bar.location in ("lower left", 3)  # matplotlib's location code


def test_the_legend_lists_only_the_layers_drawn_in_the_frame():
    town = _square(X0, Y0, 1000)
    far_forest = _square(X0 + 20_000, Y0, 500)  # given, but far outside the town's frame
    towns = gpd.GeoDataFrame({"town_id": ["A"], "name_zh": ["甲"]}, geometry=[town], crs="EPSG:4549")
    red = gpd.GeoDataFrame({"BSM": ["R1"]}, geometry=[far_forest], crs="EPSG:4549")
    farm = gpd.GeoDataFrame({"BSM": ["F1"]}, geometry=[_square(X0 + 200, Y0 + 200, 100)], crs="EPSG:4549")
    water = gpd.GeoDataFrame(geometry=[_square(X0 - 30_000, Y0, 100)], crs="EPSG:4549")
    _fig, ax = tz.maps.control_lines_map(
        towns, red_line=red, farmland=farm, water=water, extent=(X0 - 100, Y0 - 100, X0 + 1100, Y0 + 1100)
    )
    texts = legend_texts(ax)
    assert "永久基本农田" in texts and "核查对象 (小镇/地块)" in texts
    assert "生态保护红线" not in texts and "水系" not in texts
    assert "图内无: 生态保护红线、水系" in texts_with_gid(ax, "source_note")[0]


def _lab(hex_colour: str) -> np.ndarray:
    """CIE L*a*b* (D65) of an sRGB colour, from the standard formulas."""
    rgb = np.array(matplotlib.colors.to_rgb(hex_colour))
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = m @ lin / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8])
def test_categories_reached_classes_cover_every_count_once_and_neighbours_are_distinguishable(n):
    from tongzhen_gis.maps.access import _COUNT_COLOURS, _count_classes

    classes = _count_classes(n)
    counts = [k for lo, hi in classes for k in range(lo, hi + 1)]
    assert sorted(counts) == list(range(n + 1))  # each count in exactly one class
    picks = np.linspace(len(_COUNT_COLOURS) - 1, 0, len(classes)).round().astype(int)
    colours = [_COUNT_COLOURS[p] for p in picks]
    for a, b in itertools.pairwise(colours):
        assert np.linalg.norm(_lab(a) - _lab(b)) > 20, (a, b)  # ΔE*ab 1976: clearly different


def test_road_and_water_names_are_placed_without_overlaps():
    from shapely import LineString

    towns = gpd.GeoDataFrame({"town_id": ["A"], "name_zh": ["甲镇"]}, geometry=[_square(X0, Y0, 2000)], crs="EPSG:4549")
    roads = gpd.GeoDataFrame(
        {
            "name": ["文一西路", "文一西路", "文二西路", "小巷", None, "远方大道"],
            "fclass": ["primary", "primary", "secondary", "residential", "primary", "trunk"],
        },
        geometry=[
            LineString([(X0 - 100, Y0 + 1000), (X0 + 1000, Y0 + 1000)]),  # two pieces of one road
            LineString([(X0 + 1000, Y0 + 1000), (X0 + 2100, Y0 + 1000)]),
            LineString([(X0 - 100, Y0 + 1010), (X0 + 2100, Y0 + 1010)]),  # 10 m away: its name would overlap
            LineString([(X0 + 500, Y0), (X0 + 500, Y0 + 2000)]),
            LineString([(X0 + 1500, Y0), (X0 + 1500, Y0 + 2000)]),
            LineString([(X0 + 50_000, Y0), (X0 + 60_000, Y0)]),  # outside the frame
        ],
        crs="EPSG:4549",
    )
    water = gpd.GeoDataFrame({"name": ["西湖"]}, geometry=[_square(X0 + 200, Y0 + 200, 400)], crs="EPSG:4549")
    fig, ax = tz.maps.control_lines_map(
        towns, roads=roads, water=water, extent=(X0 - 100, Y0 - 100, X0 + 2100, Y0 + 2100)
    )
    names = texts_with_gid(ax, "context_label")
    assert names.count("文一西路") == 1  # the pieces of one road are one label
    assert "西湖" in names
    assert "文二西路" not in names  # it would sit on 文一西路's label
    assert "小巷" not in names and "远方大道" not in names  # minor roads and roads outside the frame are not named
    fig.draw_without_rendering()
    boxes = [t.get_window_extent() for t in ax.texts if t.get_text() and t.get_gid() != "source_note"]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b)
    label = next(t for t in ax.texts if t.get_text() == "文一西路")
    assert label.get_rotation() == pytest.approx(0.0)


def test_close_values_that_natural_breaks_cannot_split_still_give_a_map():
    """Regression (found by hypothesis): 0 and 6e-08 beside 10.5 made NaturalBreaks fail."""
    values = [np.nan, 0, 10.5, np.nan, np.nan, 10.5, 6e-08, 2, np.nan, 0]
    fig, ax = tz.maps.intensity_map(_SAMPLE.parcels.assign(far=values), scheme="NaturalBreaks", k=5)
    classes = [t for t in legend_texts(ax) if " – " in t]
    plt.close(fig)
    assert sum(int(t.rsplit("(", 1)[1].rstrip(")")) for t in classes) == 6
