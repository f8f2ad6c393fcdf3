"""tz.crs: metric zones, to_metric, GCJ-02/BD-09 offsets and the GCJ-02 suspicion test.

Oracles: the West Lake figures of standards.md §8 (hand-checked), pyproj transformers and the
EPSG parameters of the chosen zones, pyproj.Geod for distances in metres, a plain-Python
scalar transcription of the published GCJ-02 formula, and real DataV/Tianditu district layers.
"""

from __future__ import annotations

import math
import subprocess
import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import CRS, Geod, Transformer
from shapely import LineString, MultiPolygon, Point, Polygon, box

import tongzhen_gis as tz
from tongzhen_gis.crs import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    convert_coord_system,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    metric_crs_for,
    suspect_gcj02,
    to_metric,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from tongzhen_gis.errors import CRSError, OptionError

GEOD = Geod(ellps="WGS84")
WEST_LAKE = (120.15, 30.25)
WEST_LAKE_4549 = (514_436.5, 3_347_836.6)  # standards.md §8

# Inside China's box, away from its edges (the whole mainland lies in it).
china_lon = st.floats(73.7, 135.0, allow_nan=False)
china_lat = st.floats(18.0, 53.5, allow_nan=False)


def metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    return np.abs(GEOD.inv(np.asarray(lon1), np.asarray(lat1), np.asarray(lon2), np.asarray(lat2))[2])


def central_meridian(crs: CRS) -> float:
    params = {p.name: p.value for p in crs.coordinate_operation.params}
    return params["Longitude of natural origin"]


# --------------------------------------------------------------------------- metric_crs_for


def test_west_lake_in_4549():
    gdf = gpd.GeoDataFrame(geometry=[Point(WEST_LAKE)], crs="EPSG:4326")
    out = to_metric(gdf)
    assert out.crs.to_epsg() == 4549
    assert out.geometry.x.iloc[0] == pytest.approx(WEST_LAKE_4549[0], abs=0.1)
    assert out.geometry.y.iloc[0] == pytest.approx(WEST_LAKE_4549[1], abs=0.1)


@pytest.mark.parametrize(
    ("place", "lon", "lat", "epsg"),
    [
        ("Kashgar", 75.99, 39.47, 4534),  # zone 25, CM 75E
        ("Urumqi", 87.6, 43.8, 4538),  # zone 29, CM 87E
        ("Lhasa", 91.1, 29.65, 4539),  # zone 30, CM 90E
        ("Guangzhou", 113.26, 23.13, 4547),  # zone 38, CM 114E
        ("Hangzhou", 120.15, 30.25, 4549),  # zone 40, CM 120E
        ("Harbin", 126.6, 45.75, 4551),  # zone 42, CM 126E
        ("Fuyuan", 134.3, 48.36, 4554),  # zone 45, CM 135E
    ],
)
def test_gauss_kruger_zone_across_china(place, lon, lat, epsg):
    crs = metric_crs_for((lon, lat))
    assert crs.to_epsg() == epsg, place
    assert "CGCS2000" in crs.name and "Gauss-Kruger" in crs.name
    assert abs(central_meridian(crs) - lon) <= 1.5


@pytest.mark.parametrize(
    ("place", "lon", "lat", "epsg"),
    [("London", -0.13, 51.5, 32630), ("Sydney", 151.2, -33.87, 32756), ("Munich", 11.57, 48.14, 32632)],
)
def test_utm_outside_china(place, lon, lat, epsg):
    crs = metric_crs_for((lon, lat))
    assert crs.to_epsg() == epsg, place
    assert abs(central_meridian(crs) - lon) <= 3.0


@settings(max_examples=40, deadline=None)
@given(lon=st.floats(73.6, 135.4), lat=st.floats(18.0, 53.5))
def test_zone_central_meridian_is_nearest(lon, lat):
    crs = metric_crs_for((lon, lat))
    assert 4534 <= crs.to_epsg() <= 4554
    assert abs(central_meridian(crs) - lon) <= 1.5 + 1e-9


def test_metric_crs_for_layer_uses_its_centre():
    gdf = gpd.GeoDataFrame(geometry=[Point(87.0, 43.0), Point(88.2, 44.6)], crs="EPSG:4490")
    assert metric_crs_for(gdf).to_epsg() == 4538
    assert metric_crs_for(gdf.to_crs(3857)).to_epsg() == 4538


# --------------------------------------------------------------------------- to_metric


def test_to_metric_refuses_missing_crs():
    gdf = gpd.GeoDataFrame(geometry=[Point(WEST_LAKE)])
    with pytest.raises(CRSError, match=r"no coordinate reference system.*EPSG:4490.*set_crs\(.EPSG:4549.\)"):
        to_metric(gdf)
    with pytest.raises(ValueError, match=r"'EPSG:4549'") as info:  # CRSError is also a ValueError
        metric_crs_for(gdf)
    assert info.value.param == "crs" and "CLI" not in str(info.value)


@pytest.mark.parametrize("source", ["EPSG:4326", "EPSG:4490", "EPSG:3857"])
def test_to_metric_reprojects_geographic_and_web_mercator(source):
    to_src = Transformer.from_crs("EPSG:4326", source, always_xy=True)
    to_4549 = Transformer.from_crs(source, "EPSG:4549", always_xy=True)
    x, y = to_src.transform(*WEST_LAKE)
    gdf = gpd.GeoDataFrame({"name": ["西湖"]}, geometry=[Point(x, y)], crs=source)
    out = to_metric(gdf)
    assert out.crs.to_epsg() == 4549
    ex, ey = to_4549.transform(x, y)
    assert (out.geometry.x.iloc[0], out.geometry.y.iloc[0]) == pytest.approx((ex, ey), abs=1e-6)
    assert out.geometry.x.iloc[0] == pytest.approx(WEST_LAKE_4549[0], abs=0.1)
    assert gdf.crs == CRS.from_user_input(source)  # input untouched


def test_web_mercator_area_is_about_1_3_times_too_large(scene):
    town = scene.towns.iloc[[0]]  # T1: 1 000 000 m² in EPSG:4549 (sample docstring)
    true_area = 1_000_000.0
    assert town.area.iloc[0] == pytest.approx(true_area)
    mercator = town.to_crs(3857)
    lat = math.radians(town.geometry.centroid.to_crs(4326).y.iloc[0])
    ratio = mercator.area.iloc[0] / true_area
    assert ratio == pytest.approx(1.0 / math.cos(lat) ** 2, rel=0.01)
    assert 1.3 < ratio < 1.36
    back = to_metric(mercator)
    assert back.crs.to_epsg() == 4549
    assert back.area.iloc[0] == pytest.approx(true_area, rel=1e-6)


def test_to_metric_keeps_projected_metric_input(scene):
    out = to_metric(scene.towns)
    assert out is not scene.towns
    assert out.crs.to_epsg() == 4549
    assert out.geometry.equals(scene.towns.geometry)


def test_to_metric_to_explicit_zone(scene):
    out = to_metric(scene.towns, crs="EPSG:4550")
    assert out.crs.to_epsg() == 4550
    expected = scene.towns.to_crs(4550)
    assert out.geometry.geom_equals_exact(expected.geometry, tolerance=1e-6).all()


@pytest.mark.parametrize("target", ["EPSG:4326", "EPSG:4490", "EPSG:3857", "EPSG:2236"])
def test_to_metric_refuses_unfit_target(scene, target):
    with pytest.raises(CRSError, match=r"not fit for measuring.*EPSG:4549"):
        to_metric(scene.towns, crs=target)


index_labels = st.one_of(
    st.lists(st.integers(-5, 5), min_size=1, max_size=12),
    st.lists(st.sampled_from(["T1", "T2", "小镇", "x"]), min_size=1, max_size=12),
)


@settings(max_examples=30, deadline=None)
@given(
    labels=index_labels,
    data=st.data(),
    source=st.sampled_from(["EPSG:4326", "EPSG:4490", "EPSG:3857"]),
)
def test_to_metric_keeps_every_feature_index_and_attributes(labels, data, source):
    n = len(labels)
    lons = data.draw(st.lists(st.floats(119.5, 120.9), min_size=n, max_size=n))
    lats = data.draw(st.lists(st.floats(29.2, 30.6), min_size=n, max_size=n))
    x, y = Transformer.from_crs("EPSG:4326", source, always_xy=True).transform(lons, lats)
    gdf = gpd.GeoDataFrame(
        {"value": np.arange(n, dtype="float64"), "name": [f"n{i}" for i in range(n)]},
        geometry=gpd.points_from_xy(x, y),
        index=pd.Index(labels),
        crs=source,
    )
    out = to_metric(gdf)
    assert len(out) == n
    assert out.index.equals(gdf.index)
    pd.testing.assert_frame_equal(out.drop(columns="geometry"), gdf.drop(columns="geometry"))
    ex, ey = Transformer.from_crs(source, out.crs, always_xy=True).transform(x, y)
    np.testing.assert_allclose(out.geometry.x, ex, atol=1e-6)
    np.testing.assert_allclose(out.geometry.y, ey, atol=1e-6)


# --------------------------------------------------------------------------- GCJ-02 / BD-09


def gcj_reference(lon: float, lat: float) -> tuple[float, float]:
    """The published GCJ-02 formula for one point, transcribed with the math module."""
    a, ee = 6378245.0, 0.00669342162296594323
    x, y = lon - 105.0, lat - 35.0
    common = (20 * math.sin(6 * math.pi * x) + 20 * math.sin(2 * math.pi * x)) * 2 / 3
    dlat = -100 + 2 * x + 3 * y + 0.2 * y**2 + 0.1 * x * y + 0.2 * math.sqrt(abs(x)) + common
    dlat += (20 * math.sin(math.pi * y) + 40 * math.sin(math.pi * y / 3)) * 2 / 3
    dlat += (160 * math.sin(math.pi * y / 12) + 320 * math.sin(math.pi * y / 30)) * 2 / 3
    dlon = 300 + x + 2 * y + 0.1 * x**2 + 0.1 * x * y + 0.1 * math.sqrt(abs(x)) + common
    dlon += (20 * math.sin(math.pi * x) + 40 * math.sin(math.pi * x / 3)) * 2 / 3
    dlon += (150 * math.sin(math.pi * x / 12) + 300 * math.sin(math.pi * x / 30)) * 2 / 3
    s = math.sin(math.radians(lat))
    m = 1 - ee * s * s
    dlat = dlat * 180 / ((a * (1 - ee)) / (m * math.sqrt(m)) * math.pi)
    dlon = dlon * 180 / (a / math.sqrt(m) * math.cos(math.radians(lat)) * math.pi)
    return lon + dlon, lat + dlat


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(china_lon, china_lat), min_size=1, max_size=20))
def test_gcj02_vectorised_matches_scalar_formula(points):
    lon, lat = np.array(points).T
    glon, glat = wgs84_to_gcj02(lon, lat)
    expected = np.array([gcj_reference(*p) for p in points])
    np.testing.assert_allclose(glon, expected[:, 0], rtol=0, atol=1e-10)
    np.testing.assert_allclose(glat, expected[:, 1], rtol=0, atol=1e-10)


def test_gcj02_offset_in_hangzhou_is_about_500_m():
    glon, glat = wgs84_to_gcj02(*WEST_LAKE)
    offset = metres(*WEST_LAKE, glon, glat)
    assert 450.0 <= offset <= 550.0  # standards.md §8
    assert float(glon) > WEST_LAKE[0] and float(glat) < WEST_LAKE[1]  # moved east and south here


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(china_lon, china_lat), min_size=1, max_size=30))
def test_gcj02_round_trip_within_1_cm(points):
    lon, lat = np.array(points).T
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert metres(lon, lat, *back).max() < 0.01
    # and the inverse really solves the forward formula to the stated 1e-7 degrees
    g = wgs84_to_gcj02(lon, lat)
    again = wgs84_to_gcj02(*gcj02_to_wgs84(*g))
    assert np.abs(np.subtract(again, g)).max() < 1e-7


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(china_lon, china_lat), min_size=1, max_size=30))
def test_bd09_round_trips_within_1_cm(points):
    lon, lat = np.array(points).T
    assert metres(lon, lat, *bd09_to_wgs84(*wgs84_to_bd09(lon, lat))).max() < 0.01
    assert metres(lon, lat, *bd09_to_gcj02(*gcj02_to_bd09(lon, lat))).max() < 0.01


def test_bd09_is_gcj02_plus_a_second_offset():
    g = wgs84_to_gcj02(*WEST_LAKE)
    b = wgs84_to_bd09(*WEST_LAKE)
    np.testing.assert_allclose(b, gcj02_to_bd09(*g), atol=0)
    # Baidu adds about 0.0065 deg of longitude and 0.006 deg of latitude on top of GCJ-02
    assert float(b[0] - g[0]) == pytest.approx(0.0065, abs=0.0005)
    assert float(b[1] - g[1]) == pytest.approx(0.006, abs=0.0005)
    assert 1000 < metres(*WEST_LAKE, *b) < 1500


@pytest.mark.parametrize(
    "func", [wgs84_to_gcj02, gcj02_to_wgs84, gcj02_to_bd09, bd09_to_gcj02, wgs84_to_bd09, bd09_to_wgs84]
)
def test_points_outside_china_unchanged(func):
    lon = np.array([-0.13, 151.2, 0.0, 139.7, 100.5, 120.15])
    lat = np.array([51.5, -33.87, 0.0, 35.7, 0.5, 70.0])  # London, Sydney, null island, Tokyo, S of box, N of box
    out_lon, out_lat = func(lon, lat)
    np.testing.assert_array_equal(out_lon, lon)
    np.testing.assert_array_equal(out_lat, lat)


def test_conversions_accept_scalars_arrays_and_nan():
    lon, lat = wgs84_to_gcj02(120.15, 30.25)
    assert lat.shape == ()
    assert lon.shape == () and lon.dtype == np.float64
    grid_lon = np.array([[120.1, 120.2], [120.3, np.nan]])
    out_lon, out_lat = gcj02_to_wgs84(grid_lon, 30.2)  # broadcasting
    assert out_lon.shape == (2, 2) and out_lat.shape == (2, 2)
    assert np.isnan(out_lon[1, 1]) and out_lat[1, 1] == 30.2
    assert grid_lon[0, 0] == 120.1  # input not modified in place
    single = gcj02_to_wgs84(120.2, 30.2)
    assert (float(single[0]), float(single[1])) == (out_lon[0, 1], out_lat[0, 1])


# --------------------------------------------------------------------------- convert_coord_system


def lonlat_layer() -> gpd.GeoDataFrame:
    hole = Polygon(
        [(120.1, 30.2), (120.2, 30.2), (120.2, 30.3), (120.1, 30.3)],
        [box(120.12, 30.22, 120.14, 30.24).exterior.coords],
    )
    multi = MultiPolygon([box(120.3, 30.3, 120.31, 30.31), box(120.32, 30.3, 120.33, 30.31)])
    line_z = LineString([(120.0, 30.0, 5.0), (120.05, 30.05, 7.5)])
    return gpd.GeoDataFrame(
        {"name": ["有洞", "多部件", "高程线", "空"], "value": [1, 2, 3, 4]},
        geometry=[hole, multi, line_z, None],
        index=pd.Index(["b", "a", "b", "z"]),
        crs="EPSG:4490",
    )


def test_convert_coord_system_moves_every_vertex():
    gdf = lonlat_layer()
    out = convert_coord_system(gdf, "gcj02", "wgs84")
    assert out.index.equals(gdf.index)
    pd.testing.assert_frame_equal(out.drop(columns="geometry"), gdf.drop(columns="geometry"))
    assert out.crs == gdf.crs
    assert out.geometry.iloc[3] is None
    for before, after in zip(gdf.geometry.iloc[:3], out.geometry.iloc[:3], strict=True):
        assert before.geom_type == after.geom_type
        xy = shapely.get_coordinates(before)
        expected = np.column_stack(gcj02_to_wgs84(xy[:, 0], xy[:, 1]))
        np.testing.assert_allclose(shapely.get_coordinates(after), expected, atol=0)
    assert len(out.geometry.iloc[0].interiors) == 1
    np.testing.assert_array_equal(shapely.get_coordinates(out.geometry.iloc[2], include_z=True)[:, 2], [5.0, 7.5])
    assert out.attrs["coord_system"] == "wgs84"
    assert out.attrs["coord_conversions"] == [{"source": "gcj02", "target": "wgs84", "features": 3}]
    assert "coord_conversions" not in gdf.attrs


@pytest.mark.parametrize(("source", "target"), [("wgs84", "gcj02"), ("wgs84", "bd09"), ("gcj02", "bd09")])
def test_convert_coord_system_round_trips(source, target):
    gdf = lonlat_layer()
    there = convert_coord_system(gdf, source, target)
    back = convert_coord_system(there, target, source)
    a = shapely.get_coordinates(gdf.geometry.values)
    b = shapely.get_coordinates(back.geometry.values)
    assert metres(a[:, 0], a[:, 1], b[:, 0], b[:, 1]).max() < 0.01
    assert [c["target"] for c in back.attrs["coord_conversions"]] == [target, source]


def test_convert_coord_system_names_and_identity():
    gdf = lonlat_layer()
    same = convert_coord_system(gdf, "WGS-84")
    assert same is not gdf and same.geometry.equals(gdf.geometry)
    assert same.attrs["coord_conversions"] == []
    baidu = convert_coord_system(gdf, "BD-09", target="GCJ_02")
    assert baidu.attrs["coord_system"] == "gcj02"
    with pytest.raises(OptionError, match=r"unknown source coordinate system 'mars'.*gcj02"):
        convert_coord_system(gdf, "mars")


def test_convert_coord_system_refuses_projected_or_missing_crs(scene):
    with pytest.raises(CRSError, match=r"apply to longitude/latitude.*to_crs\('EPSG:4326'\)"):
        convert_coord_system(scene.facilities, "gcj02")
    no_crs = gpd.GeoDataFrame(geometry=[Point(WEST_LAKE)])
    with pytest.raises(CRSError, match=r"has no coordinate reference system.*EPSG:4326 for WGS84") as info:
        convert_coord_system(no_crs, "gcj02")
    assert info.value.param == "crs"


# --------------------------------------------------------------------------- suspect_gcj02


def test_suspect_gcj02_on_sample_town(scene):
    towns = scene.towns.to_crs(4326)
    shifted = convert_coord_system(towns, "wgs84", "gcj02")  # what a web map would show
    found = suspect_gcj02(shifted, scene.towns)
    assert found.suspected
    assert found.mismatch_removed > 0.99
    assert found.iou < found.iou_as_gcj02 == pytest.approx(1.0, abs=1e-6)
    assert found.shift_m == pytest.approx(found.gcj02_offset_m, rel=0.02)
    assert found.shift_as_gcj02_m < 0.05
    assert "gcj02" in str(found)
    clean = suspect_gcj02(towns, scene.towns)
    assert not clean.suspected
    assert clean.iou == pytest.approx(1.0, abs=1e-9)


def test_suspect_gcj02_needs_crs(scene):
    with pytest.raises(CRSError, match=r"^reference has no coordinate reference system"):
        suspect_gcj02(scene.towns, scene.towns.set_crs(None, allow_override=True))


def test_suspect_gcj02_non_overlapping_layers(scene):
    far = scene.towns.translate(xoff=100_000)
    result = suspect_gcj02(gpd.GeoDataFrame(geometry=far, crs=scene.towns.crs), scene.towns)
    assert not result.suspected
    assert "does not overlap" in result.note


@pytest.mark.shared_data
def test_suspect_gcj02_on_real_districts(shared_data):
    datav = gpd.read_file(shared_data("hangzhou/hangzhou_districts_datav_gcj02.json"))
    tianditu = gpd.read_file(shared_data("hangzhou/hangzhou_districts_tianditu_wgs84.geojson"))
    assert datav.crs.to_epsg() == 4326  # it claims WGS84 ...
    found = suspect_gcj02(datav, tianditu)
    assert found.suspected  # ... but fits the current layout better read as GCJ-02
    assert found.iou_as_gcj02 > found.iou
    assert 450.0 <= found.shift_m <= 700.0
    assert found.shift_as_gcj02_m < found.shift_m / 3
    assert not suspect_gcj02(tianditu, tianditu).suspected
    assert not suspect_gcj02(tianditu.to_crs(4549), tianditu).suspected
    assert not suspect_gcj02(convert_coord_system(datav, "gcj02"), tianditu).suspected
    assert tz.crs.suspect_gcj02 is suspect_gcj02


# --------------------------------------------------------------------------- suspect_gcj02: points vs streets


def nearest_median_m(points: gpd.GeoDataFrame, streets: gpd.GeoDataFrame) -> float:
    """Independent oracle: median distance from each point to the union of the streets (plain GeoPandas)."""
    zone = metric_crs_for(streets)  # EPSG:4549 for the sample town, 4550 for Shanghai
    return float(points.to_crs(zone).distance(shapely.union_all(streets.to_crs(zone).geometry.array)).median())


def test_gcj02_facilities_against_streets_are_suspected(scene):
    amap = convert_coord_system(scene.facilities.to_crs(4326), "wgs84", target="gcj02")
    found = suspect_gcj02(amap, scene.roads)
    assert found.method == "distance"
    assert found.applicable
    assert found.suspected
    assert found.features_checked == len(scene.facilities)
    assert found.median_m == pytest.approx(nearest_median_m(amap, scene.roads), abs=1e-6)
    # read as GCJ-02 they are back where the sample puts them: every facility 12 m from its street
    assert found.median_as_gcj02_m == pytest.approx(12.0, abs=0.01)
    assert found.median_m >= 2 * found.median_as_gcj02_m
    assert "coord_system='gcj02'" in str(found)
    assert math.isnan(found.iou)  # the footprint fields are not measured


def test_true_facilities_against_streets_are_not_suspected(scene):
    wgs = scene.facilities.to_crs(4326)
    found = suspect_gcj02(wgs, scene.roads)
    assert found.applicable
    assert not found.suspected
    assert found.median_m == pytest.approx(12.0, abs=1e-6)
    as_gcj = convert_coord_system(wgs, "gcj02")
    assert found.median_as_gcj02_m == pytest.approx(nearest_median_m(as_gcj, scene.roads), abs=1e-6)
    assert "no sign of GCJ-02" in found.note
    # the sample homes are 50 m from their street: the repeating grid must not fool the check either
    assert not suspect_gcj02(scene.homes.to_crs(4326), scene.roads).suspected


def test_projected_points_are_not_applicable(scene):
    found = suspect_gcj02(scene.facilities, scene.roads)  # EPSG:4549, official survey CRS
    assert not found.applicable
    assert not found.suspected
    assert found.features_checked == 0
    assert "not applicable" in found.note
    assert "EPSG:4326" in found.note


def test_distance_rule_settings(scene):
    amap = convert_coord_system(scene.facilities.to_crs(4326), "wgs84", target="gcj02")
    ratio = suspect_gcj02(amap, scene.roads).median_m / 12.0
    assert not suspect_gcj02(amap, scene.roads, min_ratio=ratio + 0.1).suspected
    assert not suspect_gcj02(amap, scene.roads, min_median_m=1000.0).suspected
    # polygons can be checked by distance on request (representative points), points by footprint
    towns = convert_coord_system(scene.towns.to_crs(4326), "wgs84", target="gcj02")
    assert suspect_gcj02(towns, scene.towns, method="distance").median_as_gcj02_m == pytest.approx(0.0, abs=0.01)
    assert suspect_gcj02(amap, scene.facilities, method="footprint").method == "footprint"
    with pytest.raises(OptionError, match="unknown method"):
        suspect_gcj02(amap, scene.roads, method="iou")


def test_distance_check_samples_at_most_max_features(scene):
    amap = convert_coord_system(scene.homes.to_crs(4326), "wgs84", target="gcj02")
    found = suspect_gcj02(amap, scene.roads, max_features=10)
    assert found.features_checked == 10


def test_gcj02_lines_are_checked_at_their_midpoints(scene):
    streets = convert_coord_system(scene.roads.to_crs(4326), "wgs84", target="gcj02")
    found = suspect_gcj02(streets, scene.roads)
    assert found.method == "distance"
    assert found.median_as_gcj02_m == pytest.approx(0.0, abs=0.01)
    assert found.median_m > 0


@pytest.mark.shared_data
def test_suspect_gcj02_on_real_pois_and_streets(shared_data):
    path = shared_data("shanghai-wuhan/shanghai_bund_lujiazui_tilezen.gpkg")
    pois = gpd.read_file(path, layer="pois_point")
    roads = gpd.read_file(path, layer="roads_linestring")
    assert pois.crs.to_epsg() == 4326  # OpenStreetMap: true WGS84
    clean = suspect_gcj02(pois, roads)
    assert not clean.suspected
    assert clean.median_m == pytest.approx(nearest_median_m(pois, roads), abs=1e-6)
    amap = convert_coord_system(pois, "wgs84", target="gcj02")
    found = suspect_gcj02(amap, roads)
    assert found.suspected
    assert found.median_m == pytest.approx(nearest_median_m(amap, roads), abs=1e-6)
    assert found.median_as_gcj02_m == pytest.approx(clean.median_m, abs=0.05)


# --------------------------------------------------------------------------- the crs / webmap split

MOVED_TO_WEBMAP = (
    "COORD_SYSTEMS",
    "GCJ02Check",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "convert_coord_system",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "suspect_gcj02",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
)


@pytest.mark.parametrize("first", ["tongzhen_gis.crs", "tongzhen_gis.webmap"])
def test_webmap_names_stay_importable_from_crs_whichever_module_loads_first(first):
    # A fresh interpreter, so the import order is really the one tested (no circular import).
    code = (
        f"import importlib; importlib.import_module({first!r}); "
        "import tongzhen_gis.crs as c, tongzhen_gis.webmap as w; "
        f"names = {MOVED_TO_WEBMAP!r}; "
        "assert all(getattr(c, n) is getattr(w, n) for n in names); "
        "from tongzhen_gis.crs import *; "
        "assert wgs84_to_gcj02 is w.wgs84_to_gcj02 and to_metric is c.to_metric"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert set(MOVED_TO_WEBMAP) <= set(tz.crs.__all__) and set(MOVED_TO_WEBMAP) <= set(tz.webmap.__all__)
    assert set(MOVED_TO_WEBMAP) <= set(dir(tz.crs))
    with pytest.raises(AttributeError, match="no_such_name"):
        tz.crs.no_such_name  # noqa: B018


def test_require_crs_one_message_with_the_fix():
    gdf = gpd.GeoDataFrame(geometry=[Point(WEST_LAKE)])
    with pytest.raises(CRSError) as info:
        tz.crs.require_crs(gdf, what="the homes")
    text = str(info.value)
    assert text.startswith("the homes has no coordinate reference system (CRS)")
    assert "gdf.set_crs('EPSG:4549')" in text and "read_layer(path, crs='EPSG:4549')" in text
    assert info.value.param == "crs" and text == tz.crs.missing_crs_message("the homes")
    assert tz.crs.require_crs(gdf.set_crs(4490), what="x") == CRS.from_epsg(4490)
    # the same message from every function that refuses a layer without CRS
    for call in (lambda: to_metric(gdf), lambda: metric_crs_for(gdf), lambda: tz.network.from_lines(gdf)):
        with pytest.raises(CRSError, match=r"has no coordinate reference system \(CRS\); declare the one") as info:
            call()
        assert info.value.param == "crs"


@pytest.mark.parametrize(
    ("crs", "fit"),
    [("EPSG:4549", True), ("EPSG:32651", True), ("EPSG:4326", False), ("EPSG:4490", False), ("EPSG:3857", False)],
)
def test_require_metric(crs, fit):
    if fit:
        assert tz.crs.require_metric(crs, what="the grid") == CRS.from_user_input(crs)
        return
    with pytest.raises(CRSError, match=rf"^the grid is in {crs}, which is not fit for measuring.*EPSG:4549"):
        tz.crs.require_metric(crs, what="the grid")
