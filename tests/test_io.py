"""Tests of tz.io: round trips, encodings, CRS declarations, repairs and error messages.

Oracles: the GeoDataFrame written (geometry compared topologically with shapely, attributes
with pandas), areas of hand-drawn shapes, plain pyogrio/openpyxl/rasterio reads of what was
written, and the bytes on disk.
"""

from __future__ import annotations

import json
import logging

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
import rasterio
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

import tongzhen_gis as tz
from tongzhen_gis.errors import CRSError, InputFileError, OptionError

LOGGER = "tongzhen_gis.io"
NAMES = ["云栖小镇", "梦想小镇", "玉皇山南基金小镇"]


@pytest.fixture
def layer() -> gpd.GeoDataFrame:
    """Three 100 m-ish polygons near Hangzhou (EPSG:4549) with Chinese names and numbers."""
    boxes = [shapely.box(520000 + 200 * i, 3350000, 520100 + 200 * i, 3350000 + 50 * (i + 1)) for i in range(3)]
    return gpd.GeoDataFrame(
        {"name": NAMES, "floors": [3, 12, 6], "far": [0.5, 1.25, 2.0]},
        geometry=boxes,
        crs="EPSG:4549",
    )


def assert_same_layer(read: gpd.GeoDataFrame, original: gpd.GeoDataFrame) -> None:
    assert len(read) == len(original)
    assert (read.crs is not None and read.crs.equals(original.crs)) or read.crs.to_epsg() == original.crs.to_epsg()
    assert read.geometry.reset_index(drop=True).geom_equals(original.geometry.reset_index(drop=True)).all()
    cols = [c for c in original.columns if c != original.geometry.name]
    pd.testing.assert_frame_equal(
        pd.DataFrame(read[cols]).reset_index(drop=True),
        pd.DataFrame(original[cols]).reset_index(drop=True),
        check_dtype=False,
    )


# --- round trips -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["a.gpkg", "a.shp", "a.geojson", "a.fgb", "a.parquet", "a.gdb"])
def test_round_trip_every_format(tmp_path, layer, name):
    path = tz.io.write_layer(layer, tmp_path / "sub" / name)
    assert path == tmp_path / "sub" / name and path.exists()
    read = tz.io.read_layer(path)
    assert_same_layer(read, layer)
    assert list(read["name"]) == NAMES
    assert read.attrs["repairs"]["invalid_repaired"] == 0
    assert read.attrs["repairs"]["empty_removed"] == 0


def test_write_layer_returns_path_and_overwrites_single_layer_files(tmp_path, layer):
    path = tmp_path / "a.geojson"
    tz.io.write_layer(layer, path)
    tz.io.write_layer(layer.iloc[:1], path)
    assert len(tz.io.read_layer(path)) == 1


@pytest.mark.parametrize("name", ["s.gpkg", "s.gdb"])
def test_write_layer_replaces_one_layer_and_keeps_the_others(tmp_path, layer, name):
    path = tmp_path / name
    tz.io.write_layer(layer, path, layer="towns")
    tz.io.write_layer(layer.iloc[:2], path, layer="other")
    tz.io.write_layer(layer.iloc[:1], path, layer="towns")
    assert sorted(tz.io.list_layers(path)) == ["other", "towns"]
    assert len(tz.io.read_layer(path, layer="towns")) == 1
    assert len(tz.io.read_layer(path, layer="other")) == 2


def _as_python(value):
    """A cell read back: JSON text (GeoPackage) or native JSON (GeoJSON, read as arrays/dicts)."""
    if isinstance(value, str):
        return json.loads(value)
    return value.tolist() if isinstance(value, np.ndarray) else value


@pytest.mark.parametrize("name", ["n.gpkg", "n.geojson"])
def test_write_layer_stores_lists_as_json_and_names_as_text(tmp_path, layer, name):
    gdf = layer.assign(reasons=[["压红线", "超边界"], [], ("a",)])
    gdf["extra"] = [{"k": 1}, {"k": 2}, {"名": "云栖"}]
    gdf[2025] = [1, 2, 3]
    read = tz.io.read_layer(tz.io.write_layer(gdf, tmp_path / name))
    assert [_as_python(v) for v in read["reasons"]] == [["压红线", "超边界"], [], ["a"]]
    assert [_as_python(v) for v in read["extra"]] == [{"k": 1}, {"k": 2}, {"名": "云栖"}]
    assert list(read["2025"]) == [1, 2, 3]
    assert gdf[2025].tolist() == [1, 2, 3] and isinstance(gdf["reasons"].iloc[0], list)  # input untouched


def test_write_layer_rejects_unknown_suffix_and_non_utf8_outside_shapefiles(tmp_path, layer):
    with pytest.raises(InputFileError, match=r"\.gpkg"):
        tz.io.write_layer(layer, tmp_path / "a.kml")
    with pytest.raises(OptionError, match="only possible for shapefiles"):
        tz.io.write_layer(layer, tmp_path / "a.gpkg", encoding="GBK")


def test_shapefile_long_field_names_are_logged(tmp_path, layer, caplog):
    layer = layer.rename(columns={"floors": "building_floors"})
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        tz.io.write_layer(layer, tmp_path / "a.shp")
    assert "building_floors" in caplog.text


def test_sample_scene_written_by_write_scene_reads_back(tmp_path, scene):
    out = tz.samples.write_scene(scene, tmp_path / "sample")
    layers = scene.layers()
    assert sorted(tz.io.list_layers(out["gpkg"])) == sorted(layers)
    for name, original in layers.items():
        read = tz.io.read_layer(out["gpkg"], layer=name)
        assert len(read) == len(original)
        assert read.geometry.geom_equals(original.geometry.reset_index(drop=True)).all()


# --- shapefile encodings ----------------------------------------------------------------------


def test_gbk_shapefile_with_cpg_is_honoured(tmp_path, layer):
    path = tz.io.write_layer(layer, tmp_path / "gbk.shp", encoding="GBK")
    assert path.with_suffix(".cpg").read_text().strip().upper() in {"GBK", "936", "CP936"}
    read = tz.io.read_layer(path)
    assert list(read["name"]) == NAMES
    assert read.attrs["encoding"].startswith("cpg:")


@pytest.mark.parametrize("cpg", ["936", "ANSI 936", "cp936", "GB18030", "gbk"])
def test_cpg_code_pages_are_understood(tmp_path, layer, cpg):
    path = tz.io.write_layer(layer, tmp_path / "gbk.shp", encoding="GBK")
    path.with_suffix(".cpg").write_text(cpg)
    read = tz.io.read_layer(path)
    assert list(read["name"]) == NAMES
    assert read.attrs["encoding"] == f"cpg:{cpg}"


@pytest.mark.parametrize("cpg", ["65001", "UTF-8"])
def test_utf8_cpg_code_page(tmp_path, layer, cpg):
    path = tz.io.write_layer(layer, tmp_path / "u.shp")
    path.with_suffix(".cpg").write_text(cpg)
    assert list(tz.io.read_layer(path)["name"]) == NAMES


def test_cpg_claiming_utf8_over_gbk_bytes_falls_back_and_warns(tmp_path, layer, caplog):
    path = tz.io.write_layer(layer, tmp_path / "gbk.shp", encoding="GBK")
    path.with_suffix(".cpg").write_text("UTF-8")
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        read = tz.io.read_layer(path)
    assert list(read["name"]) == NAMES
    assert "not valid UTF-8" in caplog.text


def test_unknown_encoding_is_refused(tmp_path, layer):
    path = tz.io.write_layer(layer, tmp_path / "a.shp")
    with pytest.raises(OptionError, match="unknown text encoding") as info:
        tz.io.read_layer(path, encoding="martian")
    assert info.value.param == "encoding"


def test_gbk_shapefile_without_cpg_falls_back_to_gbk_and_logs(tmp_path, layer, caplog):
    path = tz.io.write_layer(layer, tmp_path / "gbk.shp", encoding="GBK")
    path.with_suffix(".cpg").unlink()
    dbf = path.with_suffix(".dbf").read_bytes()
    assert "云栖小镇".encode("gbk") in dbf  # the bytes on disk really are GBK
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        read = tz.io.read_layer(path)
    assert list(read["name"]) == NAMES
    assert "GBK" in caplog.text and "no usable .cpg" in caplog.text
    assert read.attrs["encoding"] == "fallback:GBK"


def test_big5_shapefile_without_cpg_is_recognised_not_garbled(tmp_path, caplog):
    names = ["雲溪數智小鎮", "青山文旅小鎮", "桑田智造小鎮"]  # Big5 bytes GBK cannot decode
    assert not all(_decodes(n.encode("big5"), "gbk") for n in names)
    gdf = gpd.GeoDataFrame(
        {"name": names}, geometry=gpd.points_from_xy([500_000, 500_001, 500_002], [3_340_000] * 3), crs=4549
    )
    path = tz.io.write_layer(gdf, tmp_path / "big5.shp", encoding="BIG5")
    path.with_suffix(".cpg").unlink()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        read = tz.io.read_layer(path)
    assert list(read["name"]) == names
    assert read.attrs["encoding"] == "detected:BIG5" and "BIG5" in caplog.text and "雲溪數智小鎮" in caplog.text


def test_big5_bytes_under_a_gbk_cpg_are_repaired(tmp_path, caplog):
    names = ["雲溪數智小鎮", "青山文旅小鎮"]
    gdf = gpd.GeoDataFrame({"name": names}, geometry=gpd.points_from_xy([500_000, 500_001], [3_340_000] * 2), crs=4549)
    path = tz.io.write_layer(gdf, tmp_path / "told_gbk.shp", encoding="BIG5")
    path.with_suffix(".cpg").write_text("936")  # a wrong declaration: the bytes are Big5
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        read = tz.io.read_layer(path)
    assert list(read["name"]) == names and read.attrs["encoding"] == "repaired:BIG5 (cpg:936)"
    assert "not valid GBK" in caplog.text


def test_text_no_chinese_encoding_reads_is_refused_without_cpg(tmp_path):
    # Latin-1 bytes (é, ü before ASCII) are neither UTF-8, GBK, GB18030 nor Big5 Chinese text
    gdf = gpd.GeoDataFrame({"name": ["Café Zürich", "Ré"]}, geometry=gpd.points_from_xy([0, 1], [0, 1]), crs=4326)
    path = tz.io.write_layer(gdf, tmp_path / "latin.shp", encoding="CP1252")
    path.with_suffix(".cpg").unlink()
    assert "Café Zürich".encode("cp1252") in path.with_suffix(".dbf").read_bytes()
    with pytest.raises(tz.errors.InputFileError, match=r"no \.cpg file.*encoding=") as err:
        tz.io.read_layer(path)
    assert err.value.param == "encoding"


def _decodes(data: bytes, codec: str) -> bool:
    try:
        data.decode(codec)
    except UnicodeDecodeError:
        return False
    return True


def test_utf8_shapefile_without_cpg_is_read_as_utf8(tmp_path, layer, caplog):
    path = tz.io.write_layer(layer, tmp_path / "u.shp")
    path.with_suffix(".cpg").unlink()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        read = tz.io.read_layer(path)
    assert list(read["name"]) == NAMES
    assert "fallback" not in caplog.text.lower() and read.attrs["encoding"] == "detected:UTF-8"


def test_gbk_field_names_alone_trigger_the_fallback(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"名称": ["a", "b"]}, geometry=gpd.points_from_xy([500_000, 500_001], [3_340_000, 3_340_001]), crs=4549
    )
    path = tz.io.write_layer(gdf, tmp_path / "names.shp", encoding="GBK")
    path.with_suffix(".cpg").unlink()
    read = tz.io.read_layer(path)
    assert "名称" in read.columns and list(read["名称"]) == ["a", "b"]


def _dbf(values: list[bytes], width: int) -> bytes:
    """A hand-built dBASE III table with one text field ``NAME`` of ``width`` bytes."""
    header_len, record_len = 32 + 32 + 1, 1 + width
    head = bytes([3, 126, 1, 1]) + len(values).to_bytes(4, "little")
    head += header_len.to_bytes(2, "little") + record_len.to_bytes(2, "little") + bytes(20)
    field = b"NAME".ljust(11, b"\x00") + b"C" + bytes(4) + bytes([width, 0]) + bytes(14)
    records = b"".join(b" " + v.ljust(width, b" ") for v in values)
    return head + field + b"\r" + records + b"\x1a"


def test_dbf_utf8_detection_on_hand_built_tables(tmp_path):
    cut = "云栖".encode()[:4]  # "云" plus the first byte of "栖": a writer cut bytes, not characters
    cases = {
        "ascii": ([b"abc", b"xyz"], True),
        "utf8": (["云栖".encode(), "小镇".encode()], True),
        "cut": ([cut, "小".encode()], True),
        "gbk": (["云栖".encode("gbk"), "小镇".encode("gbk")], False),
        "gbk_late": ([b"abc"] * 5 + ["小镇".encode("gbk")], False),
    }
    for name, (values, expected) in cases.items():
        path = tmp_path / f"{name}.dbf"
        path.write_bytes(_dbf(values, width=4 if name == "cut" else 8))
        assert tz.io.encodings._dbf_is_utf8(path) is expected, name
        assert tz.io.encodings._dbf_is_utf8(path, chunk_records=2) is expected, name  # across chunk borders


def test_explicit_encoding_wins_over_a_wrong_cpg(tmp_path, layer):
    path = tz.io.write_layer(layer, tmp_path / "gbk.shp", encoding="GBK")
    path.with_suffix(".cpg").write_text("UTF-8")  # a lying .cpg
    read = tz.io.read_layer(path, encoding="GBK")
    assert list(read["name"]) == NAMES
    assert read.attrs["encoding"] == "explicit"


# --- CRS --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["nocrs.shp", "nocrs.gpkg", "nocrs.fgb"])
def test_file_without_crs_raises_and_crs_declares_it(tmp_path, layer, name, caplog):
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        path = tz.io.write_layer(layer.set_crs(None, allow_override=True), tmp_path / name)
    assert "without a CRS" in caplog.text
    assert pyogrio.read_info(path)["crs"] is None
    with pytest.raises(CRSError, match=r"crs='EPSG:4549'") as info:
        tz.io.read_layer(path)
    # The library names its keyword; the CLI maps it to its own option (never in the message).
    assert info.value.param == "crs" and "CLI" not in str(info.value) and "--" not in str(info.value)
    read = tz.io.read_layer(path, crs="EPSG:4549")
    assert read.crs.to_epsg() == 4549
    assert_same_layer(read, layer)


def test_declared_crs_that_contradicts_the_file_raises(tmp_path, layer):
    path = tz.io.write_layer(layer, tmp_path / "a.gpkg")
    with pytest.raises(CRSError, match="reproject") as info:
        tz.io.read_layer(path, crs="EPSG:4326")
    assert info.value.param == "crs"
    assert tz.io.read_layer(path, crs=4549).crs.to_epsg() == 4549  # agreeing declaration is fine
    with pytest.raises(CRSError, match="EPSG:4549"):
        tz.io.read_layer(path, crs="not a crs")


def test_geojson_with_metres_but_no_crs_member(tmp_path, layer):
    path = tz.io.write_layer(layer, tmp_path / "gk.geojson")
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc.pop("crs")  # what many exports look like: projected metres, no crs member
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    assert pyogrio.read_info(path)["crs"] == "EPSG:4326"  # GDAL assumes WGS84 (RFC 7946)
    with pytest.raises(CRSError, match=r"not degrees.*crs="):
        tz.io.read_layer(path)
    with pytest.raises(CRSError):
        tz.io.read_layer(path, crs="EPSG:4490")  # declaring degrees does not help either
    read = tz.io.read_layer(path, crs="EPSG:4549")
    assert read.crs.to_epsg() == 4549
    assert_same_layer(read, layer)


def test_web_mercator_file_is_read_as_is_and_to_metric_gives_true_areas(tmp_path, layer):
    true_area_m2 = layer.area.to_numpy()  # boxes drawn in Gauss-Krüger metres
    assert true_area_m2 == pytest.approx([100 * 50, 100 * 100, 100 * 150])
    path = tz.io.write_layer(layer.to_crs("EPSG:3857"), tmp_path / "merc.gpkg")
    read = tz.io.read_layer(path)
    assert read.crs.to_epsg() == 3857
    assert (read.area.to_numpy() / true_area_m2).min() > 1.25  # Web Mercator inflates areas at 30°N
    metric = tz.crs.to_metric(read)
    assert metric.crs.to_epsg() == 4549
    np.testing.assert_allclose(metric.area.to_numpy(), true_area_m2, rtol=1e-6)


def test_unknown_coord_system_raises(tmp_path, layer):
    path = tz.io.write_layer(layer.to_crs(4326), tmp_path / "a.gpkg")
    with pytest.raises(OptionError, match="coord_system") as info:
        tz.io.read_layer(path, coord_system="mars")
    assert info.value.param == "coord_system"


def test_wgs84_declaration_is_recorded_without_change(tmp_path, layer):
    wgs = layer.to_crs(4326)
    path = tz.io.write_layer(wgs, tmp_path / "a.gpkg")
    read = tz.io.read_layer(path, coord_system="wgs84")
    assert read.attrs["coord_system_declared"] == "wgs84" and read.attrs["coord_system"] == "wgs84"
    assert read.geometry.geom_equals_exact(wgs.geometry, tolerance=1e-12).all()


def test_gcj02_declaration_converts_back_to_wgs84_within_1cm(tmp_path):
    if not hasattr(tz.crs, "wgs84_to_gcj02") or not hasattr(tz.crs, "convert_coord_system"):
        pytest.skip("tz.crs.wgs84_to_gcj02 / convert_coord_system not available yet")
    lon = np.array([120.10, 120.155, 120.2, 119.95])
    lat = np.array([30.22, 30.27, 30.31, 30.40])
    glon, glat = tz.crs.wgs84_to_gcj02(lon, lat)
    assert np.hypot(glon - lon, glat - lat).min() > 1e-3  # the offset is real (hundreds of metres)
    gcj = gpd.GeoDataFrame({"name": ["a", "b", "c", "d"]}, geometry=gpd.points_from_xy(glon, glat), crs=4326)
    path = tz.io.write_layer(gcj, tmp_path / "amap_pois.geojson")
    read = tz.io.read_layer(path, coord_system="gcj02")
    assert read.attrs["coord_system_declared"] == "gcj02" and read.attrs["coord_system"] == "wgs84"
    assert read.attrs["coord_conversions"] == [{"source": "gcj02", "target": "wgs84", "features": 4}]
    assert read.attrs["source"] == str(path) and "repairs" in read.attrs
    original = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=4326).to_crs(4549)
    back = read.geometry.to_crs(4549)
    assert back.distance(original).max() < 0.01


def test_bd09_declaration_converts_back_to_wgs84_within_1cm(tmp_path):
    lon = np.array([120.10, 120.155, 120.2])
    lat = np.array([30.22, 30.27, 30.31])
    blon, blat = tz.crs.gcj02_to_bd09(*tz.crs.wgs84_to_gcj02(lon, lat))
    bd = gpd.GeoDataFrame({"name": NAMES}, geometry=gpd.points_from_xy(blon, blat), crs=4326)
    read = tz.io.read_layer(tz.io.write_layer(bd, tmp_path / "baidu.gpkg"), coord_system="BD-09")
    assert read.attrs["coord_system_declared"] == "bd09"
    original = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=4326).to_crs(4549)
    assert read.geometry.to_crs(4549).distance(original).max() < 0.01


def test_gcj02_declaration_on_a_projected_layer_reprojects_first(tmp_path):
    lon, lat = np.array([120.155]), np.array([30.27])
    glon, glat = tz.crs.wgs84_to_gcj02(lon, lat)
    merc = gpd.GeoDataFrame({"n": [1]}, geometry=gpd.points_from_xy(glon, glat), crs=4326).to_crs(3857)
    read = tz.io.read_layer(tz.io.write_layer(merc, tmp_path / "m.gpkg"), coord_system="gcj02")
    assert read.crs.to_epsg() == 4326
    original = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=4326).to_crs(4549)
    assert read.geometry.to_crs(4549).distance(original).max() < 0.01


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.text(alphabet="云栖梦想小镇玉皇山南基金西溪谷杭州市余杭区用地红线农田 abcXYZ0123-（）", max_size=20),
        min_size=1,
        max_size=4,
    )
)
def test_gbk_shapefile_round_trip_of_any_chinese_text(tmp_path_factory, names):
    folder = tmp_path_factory.mktemp("gbk")
    gdf = gpd.GeoDataFrame(
        {"name": names},
        geometry=gpd.points_from_xy(np.arange(len(names)) + 500_000.0, [3_340_000] * len(names)),
        crs=4549,
    )
    read = tz.io.read_layer(tz.io.write_layer(gdf, folder / "p.shp", encoding="GBK"))
    # dBASE pads text with spaces, GDAL trims them, and "" comes back as NULL: compare what a
    # shapefile can hold.
    expected = [n.strip() or None for n in names]
    assert [None if pd.isna(v) else v.strip() for v in read["name"]] == expected


# --- repairs ----------------------------------------------------------------------------------


def test_bow_tie_polygon_is_repaired_and_counted(tmp_path, layer, caplog):
    bow_tie = shapely.from_wkt("POLYGON ((0 0, 2 2, 2 0, 0 2, 0 0))")
    assert not bow_tie.is_valid
    bad = layer.copy()
    bad.loc[1, "geometry"] = shapely.affinity.translate(bow_tie, 520000, 3350000)
    path = tz.io.write_layer(bad, tmp_path / "bad.gpkg")
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        read = tz.io.read_layer(path)
    assert read.attrs["repairs"]["invalid_repaired"] == 1
    assert read.attrs["repairs"]["invalid_repaired_index"] == [1]
    assert "repaired 1 invalid" in caplog.text
    fixed = read.geometry.loc[1]
    assert fixed.is_valid and fixed.geom_type == "MultiPolygon"
    assert fixed.area == pytest.approx(2.0)  # two triangles of area 1, by hand
    assert read.geometry.is_valid.all() and len(read) == 3


def test_repair_false_leaves_validity_to_the_caller(tmp_path, layer):
    bow_tie = shapely.affinity.translate(shapely.from_wkt("POLYGON ((0 0, 2 2, 2 0, 0 2, 0 0))"), 520000, 3350000)
    bad = layer.copy()
    bad.loc[1, "geometry"] = bow_tie
    read = tz.io.read_layer(tz.io.write_layer(bad, tmp_path / "bad.gpkg"), repair=False)
    assert read.attrs["repairs"]["validity_checked"] is False
    assert read.attrs["repairs"]["invalid_repaired"] == 0
    assert not read.geometry.loc[1].is_valid and len(read) == 3  # as in the file, nothing dropped
    checked = tz.io.read_layer(tmp_path / "bad.gpkg")
    assert checked.attrs["repairs"]["validity_checked"] is True and checked.geometry.is_valid.all()


def test_repair_keeps_only_the_polygon_part_of_a_collection(tmp_path, layer):
    # A square with a dangling spike: make_valid returns GEOMETRYCOLLECTION(POLYGON, LINESTRING).
    spiky = shapely.from_wkt("POLYGON ((0 0, 1 0, 1 1, 0 1, 0 0.5, -1 0.5, 0 0.5, 0 0))")
    assert shapely.make_valid(spiky).geom_type == "GeometryCollection"
    bad = layer.copy()
    bad.loc[0, "geometry"] = shapely.affinity.translate(spiky, 520000, 3350000)
    read = tz.io.read_layer(tz.io.write_layer(bad, tmp_path / "spike.gpkg"))
    assert read.geometry.loc[0].geom_type == "Polygon"
    assert read.geometry.loc[0].equals(shapely.box(520000, 3350000, 520001, 3350001))


def test_empty_and_missing_geometries_are_removed_and_counted(tmp_path, layer, caplog):
    bad = layer.copy()
    bad.loc[0, "geometry"] = shapely.Polygon()
    bad.loc[2, "geometry"] = None
    path = tz.io.write_layer(bad, tmp_path / "holes.gpkg")
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        read = tz.io.read_layer(path)
    assert list(read.index) == [1]  # labels still name the features of the file
    assert read.loc[1, "name"] == NAMES[1]
    assert read.attrs["repairs"]["empty_removed"] == 2
    assert read.attrs["repairs"]["empty_removed_index"] == [0, 2]
    assert "removed 2 features" in caplog.text


def test_drop_empty_false_keeps_every_feature_with_geometry_none(tmp_path, layer, caplog):
    bad = layer.copy()
    bad.loc[0, "geometry"] = shapely.Polygon()
    bad.loc[2, "geometry"] = None
    path = tz.io.write_layer(bad, tmp_path / "holes.gpkg")
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        read = tz.io.read_layer(path, drop_empty=False)
    assert list(read.index) == [0, 1, 2]
    assert read["name"].tolist() == NAMES
    assert read.geometry.isna().tolist() == [True, False, True]  # empty polygon -> None, as a missing one
    assert read.attrs["repairs"]["empty_kept"] == 2 and read.attrs["repairs"]["empty_kept_index"] == [0, 2]
    assert read.attrs["repairs"]["empty_removed"] == 0
    assert "kept with geometry None" in caplog.text


def test_web_map_declaration_on_a_cgcs2000_projected_layer_is_refused(tmp_path, layer):
    # Official Gauss-Krüger survey layers are never GCJ-02; "converting" would move them ~500 m.
    path = tz.io.write_layer(layer, tmp_path / "official.gpkg")
    with pytest.raises(CRSError, match="never GCJ-02; drop coord_system") as info:
        tz.io.read_layer(path, coord_system="gcj02")
    assert info.value.param == "coord_system" and "CLI" not in str(info.value)


def test_coord_systems_have_one_source_of_truth():
    assert tz.io.COORD_SYSTEMS is tz.crs.COORD_SYSTEMS


# --- errors -----------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(InputFileError, match="not found"):
        tz.io.read_layer(tmp_path / "nope.gpkg")
    with pytest.raises(OSError):  # InputFileError is also an OSError
        tz.io.list_layers(tmp_path / "nope.gpkg")


def test_empty_layer(tmp_path):
    empty = gpd.GeoDataFrame({"name": []}, geometry=gpd.GeoSeries([], crs=4549))
    path = tmp_path / "empty.gpkg"
    pyogrio.write_dataframe(empty, path, layer="towns", geometry_type="Polygon")
    with pytest.raises(InputFileError, match="empty"):
        tz.io.read_layer(path)


def test_layer_of_only_empty_geometries(tmp_path, layer):
    bad = layer.copy()
    bad["geometry"] = None
    path = tz.io.write_layer(bad, tmp_path / "nothing.gpkg")
    with pytest.raises(InputFileError, match="empty or missing geometry"):
        tz.io.read_layer(path)


def test_wrong_layer_name_lists_the_layers(tmp_path, layer):
    path = tmp_path / "two.gpkg"
    tz.io.write_layer(layer, path, layer="towns")
    tz.io.write_layer(layer, path, layer="parcels")
    with pytest.raises(InputFileError, match=r"'roads' not found.*('towns'.*'parcels'|'parcels'.*'towns')"):
        tz.io.read_layer(path, layer="roads")
    with pytest.raises(InputFileError, match=r"2 layers.*choose one with layer=.*layer='towns'") as info:
        tz.io.read_layer(path)
    assert info.value.param == "layer" and "CLI" not in str(info.value)


def test_corrupt_file(tmp_path):
    path = tmp_path / "broken.gpkg"
    path.write_bytes(b"this is not a geopackage" * 10)
    with pytest.raises(InputFileError, match="cannot read"):
        tz.io.read_layer(path)
    truncated = tmp_path / "broken.geojson"
    truncated.write_text('{"type": "FeatureCollection", "features": [{"type": "Fea', encoding="utf-8")
    with pytest.raises(InputFileError):
        tz.io.read_layer(truncated)


def test_table_without_geometry_is_refused(tmp_path):
    path = tmp_path / "t.gpkg"
    pyogrio.write_dataframe(pd.DataFrame({"a": [1, 2]}), path, layer="t")
    with pytest.raises(InputFileError, match="read_table"):
        tz.io.read_layer(path)


# --- rasters ----------------------------------------------------------------------------------


def test_raster_round_trip_keeps_values_crs_nodata_and_is_compressed(tmp_path, scene):
    raster = scene.landcover
    path = tz.io.write_raster(raster, tmp_path / "r" / "landcover.tif")
    assert path == tmp_path / "r" / "landcover.tif"
    with rasterio.open(path) as src:  # independent read
        assert src.compression is not None and src.compression.name.lower() == "deflate"
        np.testing.assert_array_equal(src.read(1), raster.array)
    back = tz.io.read_raster(path)
    np.testing.assert_array_equal(back.array, raster.array)
    assert back.transform == raster.transform
    assert back.crs.equals(raster.crs)
    assert back.nodata == raster.nodata


def test_float_raster_with_nan_nodata(tmp_path):
    from affine import Affine

    arr = np.array([[1.5, np.nan], [2.0, 3.25]], dtype="float32")
    raster = tz.raster.Raster(arr, Affine(10, 0, 520000, 0, -10, 3350000), "EPSG:4549", float("nan"))
    back = tz.io.read_raster(tz.io.write_raster(raster, tmp_path / "f.tif"))
    np.testing.assert_array_equal(back.array, arr)
    assert np.isnan(back.nodata)


def test_raster_without_crs_raises(tmp_path):
    from affine import Affine

    path = tmp_path / "nocrs.tif"
    profile = {"driver": "GTiff", "height": 2, "width": 2, "count": 1, "dtype": "uint8"}
    with rasterio.open(path, "w", transform=Affine(10, 0, 520000, 0, -10, 3350000), **profile) as dst:
        dst.write(np.ones((2, 2), dtype="uint8"), 1)
    with pytest.raises(CRSError, match="EPSG:4549"):
        tz.io.read_raster(path)


def test_read_raster_errors(tmp_path, scene):
    with pytest.raises(InputFileError, match="not found"):
        tz.io.read_raster(tmp_path / "nope.tif")
    path = tz.io.write_raster(scene.landcover, tmp_path / "a.tif")
    with pytest.raises(InputFileError, match="band=2"):
        tz.io.read_raster(path, band=2)
    junk = tmp_path / "junk.tif"
    junk.write_bytes(b"not a tiff")
    with pytest.raises(InputFileError):
        tz.io.read_raster(junk)


# --- tables -----------------------------------------------------------------------------------


@pytest.fixture
def table() -> pd.DataFrame:
    return pd.DataFrame(
        {"town": NAMES, "code": ["0101", "1001", "0703"], "tax_wan": [1200.5, 300.0, 45.25]},
        index=pd.Index(["T1", "T2", "T3"], name="town_id"),
    )


def test_write_table_csv_has_bom_and_reads_back_equal(tmp_path, table):
    path = tz.io.write_table(table, tmp_path / "out" / "t.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert "云栖小镇".encode() in raw
    back = tz.io.read_table(path, dtype={"code": str}).set_index("town_id")
    pd.testing.assert_frame_equal(back, table, check_dtype=False)
    assert list(back["code"]) == ["0101", "1001", "0703"]  # leading zeros kept as text


def test_write_table_without_index(tmp_path, table):
    path = tz.io.write_table(table, tmp_path / "t.csv", index=False)
    back = pd.read_csv(path, encoding="utf-8-sig", dtype={"code": str})
    assert list(back.columns) == ["town", "code", "tax_wan"]


def test_read_table_explicit_utf8_on_a_bom_file(tmp_path, table):
    path = tz.io.write_table(table, tmp_path / "t.csv")
    back = tz.io.read_table(path, encoding="UTF-8")
    assert list(back.columns) == ["town_id", "town", "code", "tax_wan"]  # no BOM glued to the header
    with pytest.raises(OptionError, match="unknown text encoding"):
        tz.io.read_table(path, encoding="martian")


def test_read_table_gbk_csv_fallback_is_logged(tmp_path, table, caplog):
    path = tmp_path / "gbk.csv"
    table.to_csv(path, encoding="gbk")
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        back = tz.io.read_table(path, dtype={"code": str})
    assert list(back["town"]) == NAMES
    assert "GBK" in caplog.text
    assert list(tz.io.read_table(path, encoding="gbk")["town"]) == NAMES


def test_xlsx_table_round_trip_and_sheet_errors(tmp_path, table):
    path = tz.io.write_table(table, tmp_path / "t.xlsx")
    back = tz.io.read_table(path, dtype={"code": str}).set_index("town_id")
    pd.testing.assert_frame_equal(back, table, check_dtype=False)
    with pytest.raises(InputFileError, match=r"sheet 'nope' not found.*'Sheet1'"):
        tz.io.read_table(path, sheet="nope")


def test_read_table_errors(tmp_path):
    with pytest.raises(InputFileError, match="not found"):
        tz.io.read_table(tmp_path / "nope.csv")
    old = tmp_path / "old.xls"
    old.write_bytes(b"x")
    with pytest.raises(InputFileError, match="xlsx"):
        tz.io.read_table(old)


def test_write_workbook_sanitises_chinese_sheet_names(tmp_path, table):
    long_name = "杭州市特色小镇综合评价指标体系各项得分明细及问题清单表（二〇二三年度）"
    assert len(long_name) > 31
    sheets = {"总表": table, "违规/问题: 清单?": table.iloc[:1], long_name: table.iloc[:2]}
    path = tz.io.write_workbook(sheets, tmp_path / "wb" / "report.xlsx")
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        assert wb.sheetnames == ["总表", "违规_问题_ 清单_", long_name[:31]]
        rows = list(wb["总表"].iter_rows(values_only=True))
    finally:
        wb.close()
    assert rows[0] == ("town_id", "town", "code", "tax_wan")
    assert rows[1] == ("T1", "云栖小镇", "0101", 1200.5)
    back = tz.io.read_table(path, sheet=long_name[:31], dtype={"code": str})
    assert len(back) == 2


def test_workbook_is_tidy_for_planners(tmp_path, table, caplog):
    messy = table.assign(note=["正常", "含\x0b控制符", None])
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        path = tz.io.write_workbook({"总表": messy}, tmp_path / "t.xlsx")
    assert "control characters" in caplog.text
    wb = openpyxl.load_workbook(path)
    ws = wb["总表"]
    assert ws.freeze_panes == "A2"  # the header row stays visible
    # "玉皇山南基金小镇" is 8 CJK characters, 16 Excel units wide: the column fits it.
    assert ws.column_dimensions["B"].width >= 16
    assert ws["E2"].value == "正常" and ws["E3"].value == "含控制符"
    wb.close()


def test_write_workbook_disambiguates_colliding_names(tmp_path, table):
    sheets = {"A" * 40: table, "A" * 35: table, "a/b": table, "a:b": table}
    path = tz.io.write_workbook(sheets, tmp_path / "wb.xlsx")
    wb = openpyxl.load_workbook(path, read_only=True)
    names = wb.sheetnames
    wb.close()
    assert names == ["A" * 31, "A" * 29 + "~2", "a_b", "a_b~2"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=50), min_size=1, max_size=6))
def test_sheet_names_always_valid_and_unique(names):
    used: set[str] = set()
    out = [tz.io.tables._sheet_name(n, used) for n in names]
    assert all(1 <= len(n) <= 31 for n in out)
    assert not any(ch in n for n in out for ch in "[]:*?/\\")
    assert len({n.lower() for n in out}) == len(out)


# --- text, bytes, safe_join --------------------------------------------------------------------


def test_write_text_and_bytes_create_parents(tmp_path):
    t = tz.io.write_text("<h1>云栖小镇</h1>", tmp_path / "a" / "b" / "r.html")
    assert t.read_text(encoding="utf-8") == "<h1>云栖小镇</h1>"
    b = tz.io.write_bytes(b"\x89PNG\r\n", tmp_path / "c" / "m.png")
    assert b.read_bytes() == b"\x89PNG\r\n"


def test_safe_join_accepts_chinese_names(tmp_path):
    assert tz.io.safe_join(tmp_path, "云栖小镇", "map.png") == tmp_path / "云栖小镇" / "map.png"


@pytest.mark.parametrize("bad", ["../x", "a/b", "a\\b", "\x00", "x\ny", "", "  ", "..", "."])
def test_safe_join_refuses_escapes(tmp_path, bad):
    with pytest.raises(InputFileError):
        tz.io.safe_join(tmp_path, bad)


def test_safe_join_refuses_symlink_escape(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    base = tmp_path / "base"
    base.mkdir()
    (base / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(InputFileError, match="outside"):
        tz.io.safe_join(base, "link", "x.png")


def test_safe_join_makes_windows_unsafe_names_plain(tmp_path):
    assert tz.io.safe_join(tmp_path, 'a:b*c?"<>|.') == tmp_path / "a_b_c_____"
    assert tz.io.safe_join(tmp_path, "CON") == tmp_path / "_CON"


def test_safe_join_shortens_very_long_names_keeping_the_extension(tmp_path):
    out = tz.io.safe_join(tmp_path, "特色小镇" * 60 + ".png")
    assert out.name.endswith(".png") and out.name.startswith("特色小镇")
    assert len(out.name.encode("utf-8")) <= 240
    out.write_bytes(b"x")  # the file system accepts it


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=120))
def test_safe_join_stays_inside_base(tmp_path_factory, name):
    base = tmp_path_factory.getbasetemp() / "safe"
    try:
        out = tz.io.safe_join(base, name)
    except InputFileError:
        return
    assert out.parent == base
    assert out.name not in ("", ".", "..")
    assert "/" not in out.name and "\\" not in out.name
    assert len(out.name.encode("utf-8")) <= 240


# --- real data (skipped without ../shared/data) -----------------------------------------------


@pytest.mark.shared_data
def test_real_town_parcels_keep_chinese_names(shared_data):
    path = shared_data("hangzhou/hangzhou_tezhen_osm_parcels.geojson")
    gdf = tz.io.read_layer(path)
    raw = json.loads(path.read_text(encoding="utf-8"))  # independent reading of the same file
    assert list(gdf["town_zh"]) == [f["properties"]["town_zh"] for f in raw["features"]]
    assert len(gdf) == 7 and gdf.crs.to_epsg() == 4326
    assert sum("玉皇山南基金小镇" in n for n in gdf["town_zh"]) == 2  # as the data README says
    assert any("云栖小镇" in n for n in gdf["town_zh"]) and "西溪谷" in set(gdf["town_zh"])


@pytest.mark.shared_data
def test_real_gcj02_districts_move_onto_the_wgs84_layer(shared_data):
    # DataV districts are GCJ-02 although the file claims WGS84 (data README: offset ≈ 450–550 m).
    # Districts whose borders did not change in 2021 must land on the Tianditu WGS84 layer.
    gcj_path = shared_data("hangzhou/hangzhou_districts_datav_gcj02.json")
    reference = tz.io.read_layer(shared_data("hangzhou/hangzhou_districts_tianditu_wgs84.geojson"))
    raw = tz.io.read_layer(gcj_path).set_index("name")
    fixed = tz.io.read_layer(gcj_path, coord_system="gcj02").set_index("name")
    reference = reference.set_index("district_name")
    for name in ["滨江区", "富阳区", "临安区", "桐庐县", "淳安县", "建德市"]:
        ref = reference.geometry.loc[[name]].to_crs(4549).centroid.iloc[0]
        before = raw.geometry.loc[[name]].to_crs(4549).centroid.iloc[0].distance(ref)
        after = fixed.geometry.loc[[name]].to_crs(4549).centroid.iloc[0].distance(ref)
        assert before > 400, name
        assert after < 0.4 * before and after < 200, name


@pytest.mark.shared_data
def test_real_multilayer_clip_requires_a_layer(shared_data):
    path = shared_data("hangzhou/clip_yunqi_r2500m.gpkg")
    expected = ["aoi", "roads", "buildings", "landuse", "water", "town_parcels"]
    assert sorted(tz.io.list_layers(path)) == sorted(expected)
    with pytest.raises(InputFileError) as info:
        tz.io.read_layer(path)
    for name in expected:
        assert repr(name) in str(info.value)
    assert len(tz.io.read_layer(path, layer="aoi")) >= 1


def test_read_text_round_trip_and_errors(tmp_path):
    path = tz.io.write_text("名称 = '云溪'\n", tmp_path / "p.toml")
    assert tz.io.read_text(path) == "名称 = '云溪'\n"
    with pytest.raises(InputFileError, match="no such file"):
        tz.io.read_text(tmp_path / "missing.toml")
    gbk = tmp_path / "gbk.toml"
    gbk.write_bytes("名称".encode("gbk"))
    with pytest.raises(InputFileError, match="save it as UTF-8"):
        tz.io.read_text(gbk)


def test_every_public_name_of_the_former_io_module_is_still_tz_io():
    former = [
        "COORD_SYSTEMS",
        "list_layers",
        "read_layer",
        "read_raster",
        "read_table",
        "read_text",
        "safe_join",
        "write_bytes",
        "write_layer",
        "write_raster",
        "write_table",
        "write_text",
        "write_workbook",
    ]
    browser = ["dump_dom", "find_chromium", "print_pdf", "screenshot"]  # added since (tongzhen_gis.io.browser)
    assert sorted(tz.io.__all__) == sorted([*former, *browser, "list_sheets"])  # list_sheets: for one sheet per year
    homes = {name: getattr(tz.io, name).__module__ for name in former if name != "COORD_SYSTEMS"}
    assert set(homes.values()) == {f"tongzhen_gis.io.{m}" for m in ("vector", "raster", "tables", "paths")}
    assert tz.io.COORD_SYSTEMS is tz.webmap.COORD_SYSTEMS
