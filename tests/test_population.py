"""Residents per building: floor area, known totals shared out (dasymetric), a population raster.

Scenes drawn by hand in EPSG:4549 (metres): every footprint a box whose area is written beside it.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import CRS as ProjCRS
from shapely import LineString, Point, box

import tongzhen_gis as tz
from tongzhen_gis.errors import OptionError, SchemaError

CRS = "EPSG:4549"
X0, Y0 = 500_000.0, 3_300_000.0


def B(x0, y0, x1, y1):
    return box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


@pytest.fixture
def scene():
    # A 20×10 = 200 m², 6 floors, 住宅 → 1200 m²; B office; C–F use unknown: read from the parcels
    # C 10×10 = 100 m², 3 floors on residential 0701 → 300 m²; D on commercial 0901 → 0;
    # E on no parcel → unknown; F 10×10 on residential but neither floors nor height → unknown;
    # G 10×10 on residential with height 9 m only → 3 floors at the 3 m storey height → 300 m²
    buildings = gpd.GeoDataFrame(
        {
            "use": ["住宅", "office", None, None, None, None, None],
            "floors": [6, 10, 3, 5, 2, np.nan, np.nan],
            "height_m": [np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, 9.0],
        },
        geometry=[
            B(0, 0, 20, 10),
            B(50, 0, 70, 10),
            B(100, 0, 110, 10),
            B(300, 0, 310, 10),
            B(900, 0, 910, 10),
            B(120, 0, 130, 10),
            B(140, 0, 150, 10),
        ],
        index=list("ABCDEFG"),
        crs=CRS,
    )
    parcels = gpd.GeoDataFrame(
        {"landuse_code": ["0701", "0901"]}, geometry=[B(90, -50, 200, 50), B(250, -50, 400, 50)], crs=CRS
    )
    return buildings, parcels


def test_floor_area_method_on_a_hand_scene(scene):
    buildings, parcels = scene
    p = tz.access.estimate_population(buildings, parcels=parcels, use_col="use", per_capita_m2=30.0)
    assert p.attrs["method"] == "floor_area"
    expected = {"A": 1200 / 30, "B": 0.0, "C": 300 / 30, "D": 0.0, "G": 300 / 30}
    for label, people in expected.items():
        assert p[label] == pytest.approx(people), label
    assert p[["E", "F"]].isna().all()
    assert p.attrs["non_residential"] == 2  # B (office) and D (commercial parcel)
    assert p.attrs["residential"] == 4  # A, C, F, G
    assert p.attrs["unknown"] == 2 and p.attrs["unknown_index"] == ["E", "F"]
    assert p.attrs["per_capita_source"] == "per_capita_m2 (given)"
    assert p.index.equals(buildings.index)


def test_default_floor_area_per_person_is_the_rule_parameter(scene):
    buildings, parcels = scene
    param = tz.rules.load("population").parameters["floor_area_per_person_m2"]
    assert param.confirmed is False and "普查" in param.document
    p = tz.access.estimate_population(buildings, parcels=parcels, use_col="use")
    assert p.attrs["per_capita_m2"] == param.value
    assert "unconfirmed" in p.attrs["per_capita_source"]
    assert p["A"] == pytest.approx(1200 / param.value)


def test_a_metric_crs_is_used_for_footprints(scene):
    buildings, parcels = scene
    p = tz.access.estimate_population(buildings, parcels=parcels, use_col="use", per_capita_m2=30.0)
    q = tz.access.estimate_population(
        buildings.to_crs(4326), parcels=parcels.to_crs(4326), use_col="use", per_capita_m2=30.0
    )
    np.testing.assert_allclose(q.to_numpy(), p.to_numpy(), rtol=1e-6, equal_nan=True)


def test_nothing_is_guessed_without_a_use(scene):
    buildings, _ = scene
    with pytest.raises(SchemaError, match="parcels=") as info:
        tz.access.estimate_population(buildings)
    assert info.value.param == "parcels"
    with pytest.raises(OptionError):
        tz.access.estimate_population(buildings, use_col="use", per_capita_m2=0)
    with pytest.raises(OptionError, match="not both"):
        tz.access.estimate_population(buildings, use_col="use", totals=buildings, raster=object())


def test_codes_in_the_use_column_are_classed_by_the_land_use_rules():
    b = gpd.GeoDataFrame(
        {"use": ["0701", "0703", "0901", "residential", "Apartments", "factory"], "floors": [1] * 6},
        geometry=[B(20 * i, 0, 20 * i + 10, 10) for i in range(6)],
        crs=CRS,
    )
    p = tz.access.estimate_population(b, use_col="use", per_capita_m2=100.0)
    assert p.tolist() == [1.0, 1.0, 0.0, 1.0, 1.0, 0.0]


# ---------------------------------------------------------------------------- dasymetric
def test_dasymetric_keeps_each_total_to_the_person(scene):
    buildings, parcels = scene
    zones = gpd.GeoDataFrame({"population": [101, 7]}, geometry=[B(-10, -20, 200, 20), B(250, -20, 500, 20)], crs=CRS)
    p = tz.access.estimate_population(buildings, parcels=parcels, use_col="use", totals=zones)
    assert p.attrs["method"] == "dasymetric"
    # zone 0 holds A (1200 m²), C (300), G (300) and B (office, 0), F (unknown floors): 101 over 1800 m²
    # quotas 67.33, 16.83, 16.83 → floors 67, 16, 16 (99); the 2 left go to the largest remainders C, G
    assert p[["A", "C", "G"]].tolist() == [67.0, 17.0, 17.0]
    assert p["B"] == 0.0 and np.isnan(p["F"])
    # zone 1 holds only D (commercial): its 7 people find no home, reported; E is in no zone
    assert np.isnan(p["E"]) and p["D"] == 0.0
    assert p.attrs["unplaced"] == {1: 7.0}
    assert any("no residential floor area" in s for s in p.attrs["problems"])


@settings(max_examples=25, deadline=None)
@given(
    floors=st.lists(st.integers(min_value=1, max_value=30), min_size=1, max_size=25),
    totals=st.lists(st.integers(min_value=0, max_value=50_000), min_size=2, max_size=2),
    widths=st.data(),
)
def test_dasymetric_sum_per_zone_is_the_total(floors, totals, widths):
    n = len(floors)
    w = widths.draw(st.lists(st.integers(min_value=1, max_value=40), min_size=n, max_size=n))
    geoms = [B(100 * i, 0, 100 * i + w[i], 10) for i in range(n)]
    b = gpd.GeoDataFrame({"use": ["住宅"] * n, "floors": floors}, geometry=geoms, crs=CRS)
    half = 100 * ((n + 1) // 2) - 5
    zones = gpd.GeoDataFrame(
        {"population": totals}, geometry=[B(-10, -10, half, 20), B(half, -10, 100 * n + 10, 20)], crs=CRS
    )
    p = tz.access.estimate_population(b, use_col="use", totals=zones)
    in_zone = np.array([0 if 100 * i < half else 1 for i in range(n)])
    for z, total in enumerate(totals):
        got = p.to_numpy()[in_zone == z]
        if len(got):
            assert got.sum() == total  # exactly, to the person
            assert np.all(got == np.round(got))
            area = np.array([w[i] * 10 * floors[i] for i in np.flatnonzero(in_zone == z)], dtype=float)
            quota = total * area / area.sum()
            assert np.all(np.abs(got - quota) < 1.0)  # never a whole person away from its share
        else:
            assert p.attrs["unplaced"].get(z, 0) == total or total == 0


def test_dasymetric_with_fractional_totals_keeps_them_as_floats():
    b = gpd.GeoDataFrame(
        {"use": ["住宅"] * 3, "floors": [1, 2, 3]}, geometry=[B(i * 20, 0, i * 20 + 10, 10) for i in range(3)], crs=CRS
    )
    zones = gpd.GeoDataFrame({"population": [10.5]}, geometry=[B(-5, -5, 100, 20)], crs=CRS)
    p = tz.access.estimate_population(b, use_col="use", totals=zones)
    np.testing.assert_allclose(p.to_numpy(), 10.5 * np.array([1, 2, 3]) / 6)


# ---------------------------------------------------------------------------- raster
def _raster(values: np.ndarray, cell_m: float = 10.0) -> tz.raster.Raster:
    transform = Affine(cell_m, 0, X0, 0, -cell_m, Y0 + cell_m * values.shape[0])
    return tz.raster.Raster(values.astype(float), transform, ProjCRS.from_user_input(CRS))


def test_raster_by_hand():
    # one person per 10 m cell; a 25×10 box over full cells holds 2.5 cells' people
    r = _raster(np.ones((4, 6)))
    b = gpd.GeoDataFrame({"use": ["住宅", "office"]}, geometry=[B(0, 0, 25, 10), B(30, 10, 50, 30)], crs=CRS)
    p = tz.access.estimate_population(b, raster=r, use_col="use")
    assert p.attrs["method"] == "raster"
    assert p.tolist() == pytest.approx([2.5, 0.0])
    q = tz.access.estimate_population(b, raster=r)  # no use known: the raster alone decides
    assert q.tolist() == pytest.approx([2.5, 4.0])


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    boxes=st.lists(
        st.tuples(st.floats(0, 50), st.floats(0, 50), st.floats(0.5, 20), st.floats(0.5, 20)), min_size=1, max_size=8
    ),
)
def test_raster_sums_match_exactextract(seed, boxes):
    from exactextract import exact_extract
    from exactextract.raster import NumPyRasterSource

    values = np.random.default_rng(seed).uniform(0, 30, size=(8, 8))
    r = _raster(values)
    geoms = [B(x, y, x + w, y + h) for x, y, w, h in boxes]
    b = gpd.GeoDataFrame(geometry=geoms, crs=CRS)
    p = tz.access.estimate_population(b, raster=r)
    src = NumPyRasterSource(values, X0, Y0, X0 + 80, Y0 + 80, srs_wkt=ProjCRS.from_user_input(CRS).to_wkt())
    direct = exact_extract(src, gpd.GeoDataFrame(geometry=geoms, crs=CRS), "sum", output="pandas")["sum"]
    np.testing.assert_allclose(p.to_numpy(), direct.to_numpy(), rtol=1e-9, atol=1e-9)


# ---------------------------------------------------------------------------- used by coverage
def test_coverage_says_which_method_gave_the_people(scene):
    buildings, parcels = scene
    roads = gpd.GeoDataFrame(geometry=[LineString([(X0 - 100, Y0 - 20), (X0 + 1000, Y0 - 20)])], crs=CRS)
    G = tz.network.from_lines(roads)
    fac = gpd.GeoDataFrame({"category": ["park"]}, geometry=[Point(X0, Y0 - 20)], crs=CRS)
    p = tz.access.estimate_population(buildings, parcels=parcels, use_col="use", per_capita_m2=30.0)
    d = tz.access.nearest(G, buildings, fac, categories=["park"])
    cov = tz.access.coverage(d, weights=p, threshold_m=1000)
    assert cov.attrs["population_method"] == "floor_area"
    # A 40 + C 10 + G 10 people; B, D are 0; E, F unknown are homes with 0 people (noted)
    assert cov.loc[("all", "park"), "population"] == pytest.approx(60.0)
    assert any("unknown" in s for s in cov.attrs["problems"])
    assert pd.notna(tz.access.population.describe(p))


# ---------------------------------------------------------------------------- real data
@pytest.mark.shared_data
def test_floor_area_method_on_the_bund_matches_a_geopandas_computation(shared_data):
    path = shared_data("shanghai-wuhan/shanghai_bund_lujiazui_tilezen.gpkg")
    buildings = tz.io.read_layer(path, layer="buildings_polygon")
    landuse = tz.io.read_layer(path, layer="landuse_polygon")
    # OSM land use as parcels: residential → 0701, everything else → 0901 (commercial, not residential)
    parcels = landuse.assign(landuse_code=np.where(landuse["kind"] == "residential", "0701", "0901"))
    p = tz.access.estimate_population(buildings, parcels=parcels, height_col="height", per_capita_m2=36.52)
    # independent: geopandas sjoin of each footprint's representative point, floors from height at 3 m
    metric = tz.crs.to_metric(buildings)
    pts = gpd.GeoDataFrame(geometry=metric.representative_point(), crs=metric.crs).reset_index(names="b")
    hits = gpd.sjoin(pts, parcels.to_crs(metric.crs).reset_index(names="p"), predicate="intersects")
    first = hits.sort_values(["b", "p"]).drop_duplicates("b").set_index("b")["landuse_code"]
    code = pd.Series(first.reindex(range(len(metric))).to_numpy(), index=metric.index)
    rules = tz.rules.load("intensity")
    storey, min_floors = rules.parameter("storey_height_m"), rules.parameter("min_floors")
    h = pd.to_numeric(metric["height"], errors="coerce").where(lambda v: v > 0)
    floors = np.maximum(np.floor(h / storey + 1e-9), min_floors).where(h.notna())
    expected = (metric.area * floors / 36.52).where(code == "0701", 0.0).where(code.notna())
    expected[(code == "0701") & floors.isna()] = np.nan
    np.testing.assert_allclose(p.to_numpy(), expected.to_numpy(), rtol=1e-9, equal_nan=True)
    assert p.attrs["non_residential"] == int((code == "0901").sum())
    assert p.attrs["unknown"] == int(expected.isna().sum())
    assert (p > 0).sum() > 0
