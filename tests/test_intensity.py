"""tz.intensity.summarize: the sample town's stated figures, properties, and real Hangzhou clips."""

from __future__ import annotations

import itertools
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import ENTERPRISE_HEADERS_ZH
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely import box
from shapely.affinity import translate

import tongzhen_gis as tz
from tongzhen_gis.samples import ORIGIN

REL = 1e-9


def _summary(scene, **kw):
    return tz.intensity.summarize(
        scene.towns, parcels=scene.parcels, buildings=scene.buildings, enterprises=scene.enterprises, **kw
    )


# ------------------------------------------------------------------ sample town docstring
def test_land_structure_matches_docstring(scene):
    t = _summary(scene)
    assert list(t.index) == ["T1", "T2", "T3"]
    assert t.index.name == "town_id"
    assert t["area_m2"].tolist() == pytest.approx([1_000_000, 1_000_000, 1_200_000], rel=REL)
    assert t["construction_m2"].tolist() == pytest.approx([1_000_000, 900_000, 1_020_000], rel=REL)
    assert t["construction_share"].tolist() == pytest.approx([1.0, 0.9, 0.85], rel=REL)
    assert t["residential_share"].tolist() == pytest.approx([0.20, 5 / 9, 0.0], rel=REL)
    assert t["industrial_share"].tolist() == pytest.approx([0.30, 0.0, 900 / 1020], rel=REL)
    assert t["green_share"].tolist() == pytest.approx([0.35, 0.0, 0.0], rel=REL)
    t1 = t.loc["T1"]
    assert [t1["share_07"], t1["share_10"], t1["share_09"], t1["share_14"]] == pytest.approx([0.2, 0.3, 0.15, 0.35])
    # 1 亩 = 10000/15 m²: T1's 1 000 000 m² is 1 500 亩, T2's 900 000 m² is 1 350 亩
    assert t["construction_mu"].tolist()[:2] == pytest.approx([1500, 1350], rel=REL)


def test_straddling_parcel_p4_counts_only_inside(scene):
    t = _summary(scene)
    # P4 is 375 000 m², 25 000 outside T1: only 350 000 counts as green land of T1
    assert t.loc["T1", "green_m2"] == pytest.approx(350_000, rel=REL)
    assert t.loc["T1", "unclassified_m2"] == pytest.approx(0.0, abs=1e-6)


def test_buildings_match_docstring(scene):
    t = _summary(scene)
    assert t["footprint_m2"].tolist() == pytest.approx([82_400, 70_000, 100_000], rel=REL)
    assert t["floor_area_m2"].tolist() == pytest.approx([310_000, 700_000, 400_000], rel=REL)
    assert t["far"].tolist() == pytest.approx([0.31, 700_000 / 900_000, 400_000 / 1_020_000], rel=REL)
    assert t.loc["T2", "gross_far"] == pytest.approx(0.70, rel=REL)
    assert t["building_coverage"].tolist()[:2] == pytest.approx([0.0824, 70_000 / 900_000], rel=REL)
    # B06: no floors, no height: counted and reported, its 400 m² footprint in coverage
    assert t["unknown_floors_count"].tolist() == [1, 0, 0]
    assert t.loc["T1", "unknown_floors_footprint_m2"] == pytest.approx(400, rel=REL)
    assert any("T1" in p and "neither floors nor height" in p for p in t.attrs["problems"])


def test_straddling_building_b05_is_apportioned(scene):
    only_b05 = scene.buildings[scene.buildings["building_id"] == "B05"]
    t = tz.intensity.summarize(scene.towns, parcels=scene.parcels, buildings=only_b05)
    # 40 × 100 m, 2 000 m² inside T1, 5 floors
    assert t.loc["T1", "footprint_m2"] == pytest.approx(2_000, rel=REL)
    assert t.loc["T1", "floor_area_m2"] == pytest.approx(10_000, rel=REL)
    assert t.loc["T2", "floor_area_m2"] == 0


def test_height_only_building_d02_gets_floors_from_storey_height(scene):
    info = tz.intensity.building_floor_area(scene.buildings.set_index("building_id"))
    assert info.loc["D02", "floors"] == 8  # 24 m / 3 m
    assert info.loc["D02", "floors_from"] == "height"
    assert info.loc["B06", "floors_from"] == "unknown"
    assert np.isnan(info.loc["B06", "floors"])


def test_industrial_tall_storey_rule_is_an_option(scene):
    off = _summary(scene)
    on = _summary(scene, industrial_tall_storey=True)
    # D01 (12 m, 1 floor, on industrial R1) counts twice: 400 000 → 440 000
    assert on.loc["T3", "floor_area_m2"] == pytest.approx(440_000, rel=REL)
    assert on.loc["T3", "far"] == pytest.approx(440_000 / 1_020_000, rel=REL)
    assert off.loc["T3", "far"] == pytest.approx(400_000 / 1_020_000, rel=REL)
    # nothing else changes (no other storey above 8 m on industrial land)
    assert on.loc[["T1", "T2"], "floor_area_m2"].tolist() == pytest.approx([310_000, 700_000], rel=REL)


def test_tall_storey_rule_ignores_non_industrial_land(scene):
    b = scene.buildings.copy()
    # B03 stands on industrial P2: 2 floors, 20 m → storeys of 10 m: counts twice
    b.loc[b["building_id"] == "B03", "height_m"] = 20.0
    # B01 stands on residential P1: 30 m over 2 floors is not industrial, never doubled
    b.loc[b["building_id"] == "B01", ["floors", "height_m"]] = [2.0, 30.0]
    t = tz.intensity.summarize(scene.towns, parcels=scene.parcels, buildings=b, industrial_tall_storey=True)
    # 310 000 − B01 (100 000 − 20 000) + B03 again (80 000)
    assert t.loc["T1", "floor_area_m2"] == pytest.approx(310_000 - 80_000 + 80_000, rel=REL)


def test_enterprise_figures_match_docstring(scene):
    t = _summary(scene)
    assert t.loc["T1", "tax_per_mu"] == pytest.approx(20, rel=REL)
    assert t.loc["T1", "investment_per_mu"] == pytest.approx(300, rel=REL)
    assert t.loc["T1", "output_per_mu"] == pytest.approx(600, rel=REL)
    assert t.loc["T1", "rd_intensity"] == pytest.approx(0.04, rel=REL)
    assert t.loc["T1", "labour_productivity"] == pytest.approx(150, rel=REL)
    assert t.loc["T1", "jobs"] == 6_000
    assert t.loc["T2", "tax_per_mu"] == pytest.approx(6, rel=REL)
    assert t.loc["T2", "investment_per_mu"] == pytest.approx(200, rel=REL)
    assert t.loc["T2", "jobs"] == 1_500
    # T3 has no enterprise rows: missing, never 0
    for col in ("tax_per_mu", "investment_per_mu", "output_per_mu", "rd_intensity", "labour_productivity", "jobs"):
        assert np.isnan(t.loc["T3", col]), col
    assert t.loc["T3", "firm_count"] == 0
    assert any("T3" in p and "no enterprise rows" in p for p in t.attrs["problems"])


def test_a_firm_missing_a_summed_value_makes_the_town_value_missing(scene):
    firms = scene.enterprises.copy()
    firms.loc[firms["firm_id"] == "E5", "tax_wan"] = np.nan
    t = tz.intensity.summarize(scene.towns, parcels=scene.parcels, enterprises=firms)
    assert np.isnan(t.loc["T2", "tax_per_mu"])
    assert t.loc["T2", "investment_per_mu"] == pytest.approx(200, rel=REL)
    assert any("T2" in p and "tax_wan" in p for p in t.attrs["problems"])


def test_enterprises_of_unknown_towns_are_reported(scene):
    firms = pd.concat([scene.enterprises, scene.enterprises.iloc[[0]].assign(town_id="T9")], ignore_index=True)
    t = tz.intensity.summarize(scene.towns, parcels=scene.parcels, enterprises=firms)
    assert t.loc["T1", "tax_per_mu"] == pytest.approx(20, rel=REL)
    assert any("T9" in p for p in t.attrs["problems"])


def test_an_absent_floors_column_falls_back_to_heights_and_says_so(scene):
    t = tz.intensity.summarize(scene.towns, parcels=scene.parcels, buildings=scene.buildings, floors_col="CS")
    # floors = floor(height / 3 m): T1 B01 10, B02 6, B03 3 (10 m), B04 3 (10.5 m), B05 5 (16 m, 2 000 m² inside)
    assert t.loc["T1", "floor_area_m2"] == pytest.approx(100_000 + 60_000 + 120_000 + 60_000 + 10_000, rel=REL)
    # T3: D01 12 m → 4, D02 24 m → 8, D03 9 m → 3
    assert t.loc["T3", "floor_area_m2"] == pytest.approx(160_000 + 320_000 + 60_000, rel=REL)
    assert any("no floors column 'CS'" in p for p in t.attrs["problems"])


def test_numeric_town_ids_of_a_csv_match_text_ids_and_are_reported(scene):
    towns = scene.towns.assign(town_id=scene.towns["town_id"].str[1:])  # "1", "2", "3" as text
    firms = scene.enterprises.assign(town_id=scene.enterprises["town_id"].str[1:].astype(int))  # 1, 2
    t = tz.intensity.summarize(towns, parcels=scene.parcels, enterprises=firms)
    # docstring: T1 20 万元/亩 tax, T2 200 万元/亩 investment
    assert t.loc["1", "tax_per_mu"] == pytest.approx(20, rel=REL)
    assert t.loc["2", "investment_per_mu"] == pytest.approx(200, rel=REL)
    assert any("matched by their text" in p for p in t.attrs["problems"])


def test_geographic_input_is_reprojected_and_gives_the_same_figures(scene):
    t = tz.intensity.summarize(
        scene.towns.to_crs("EPSG:4326"), parcels=scene.parcels.to_crs("EPSG:4490"), buildings=scene.buildings
    )
    assert t["construction_share"].tolist() == pytest.approx([1.0, 0.9, 0.85], rel=1e-6)
    assert t["far"].tolist() == pytest.approx([0.31, 700_000 / 900_000, 400_000 / 1_020_000], rel=1e-6)


def test_numeric_codes_that_lost_their_zero_are_repaired(scene):
    parcels = scene.parcels.copy()
    parcels["landuse_code"] = parcels["landuse_code"].astype(int)
    t = tz.intensity.summarize(scene.towns, parcels=parcels)
    assert t.loc["T1", "residential_share"] == pytest.approx(0.2, rel=REL)
    assert t.attrs["repairs"]


def test_invalid_codes_count_as_unclassified(scene):
    parcels = scene.parcels.copy()
    parcels.loc[parcels["parcel_id"] == "P1", "landuse_code"] = "xx"
    t = tz.intensity.summarize(scene.towns, parcels=parcels)
    assert t.loc["T1", "unclassified_m2"] == pytest.approx(200_000, rel=REL)
    assert t.loc["T1", "construction_m2"] == pytest.approx(800_000, rel=REL)
    assert any("no valid 用地用海 code" in p for p in t.attrs["problems"])


def test_overlapping_parcels_are_reported(scene):
    parcels = pd.concat([scene.parcels, scene.parcels.iloc[[0]]], ignore_index=True)
    t = tz.intensity.summarize(scene.towns, parcels=parcels)
    assert any("T1" in p and "overlapping" in p for p in t.attrs["problems"])


def test_bad_input_lists_every_problem(scene):
    towns = pd.concat([scene.towns, scene.towns.iloc[[0]]], ignore_index=True)
    with pytest.raises(tz.errors.SchemaError) as err:
        tz.intensity.summarize(towns, parcels=scene.parcels.drop(columns="landuse_code"))
    assert "landuse_code" in str(err.value)
    assert "duplicate town id" in str(err.value)
    assert len(err.value.problems) == 2


def test_missing_crs_is_refused(scene):
    with pytest.raises(tz.errors.CRSError):
        tz.intensity.summarize(scene.towns.set_crs(None, allow_override=True), parcels=scene.parcels)


# ------------------------------------------------------------------ properties
_settings = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@_settings
@given(
    floors=st.lists(st.integers(min_value=1, max_value=40), min_size=13, max_size=13),
    tall=st.booleans(),
)
def test_doubling_every_floor_count_doubles_far(floors, tall):
    scene = tz.samples.sample_town()
    b = scene.buildings.copy()
    b["floors"] = np.asarray(floors, dtype=float)
    b["height_m"] = np.nan
    one = tz.intensity.summarize(scene.towns, parcels=scene.parcels, buildings=b, industrial_tall_storey=tall)
    b["floors"] = b["floors"] * 2
    two = tz.intensity.summarize(scene.towns, parcels=scene.parcels, buildings=b, industrial_tall_storey=tall)
    assert two["far"].to_numpy() == pytest.approx(2 * one["far"].to_numpy(), rel=1e-12)
    assert two["building_coverage"].to_numpy() == pytest.approx(one["building_coverage"].to_numpy(), rel=1e-12)


_codes = st.sampled_from(["0101", "0301", "0701", "0703", "0804", "0901", "1001", "1101", "1401", "1701", "23"])


@_settings
@given(
    xs=st.lists(st.floats(min_value=0, max_value=1000), min_size=1, max_size=6, unique=True),
    ys=st.lists(st.floats(min_value=0, max_value=1000), min_size=1, max_size=4, unique=True),
    data=st.data(),
)
def test_shares_lie_in_unit_interval(xs, ys, data):
    """A random partition of T1's square (plus a stripe outside it) into coded parcels."""
    scene = tz.samples.sample_town()
    xcuts = sorted({0.0, 1100.0, *xs})
    ycuts = sorted({0.0, 1000.0, *ys})
    cells = [box(x0, y0, x1, y1) for x0, x1 in itertools.pairwise(xcuts) for y0, y1 in itertools.pairwise(ycuts)]
    cells = [translate(c, *ORIGIN) for c in cells if c.area > 0]
    codes = data.draw(st.lists(_codes, min_size=len(cells), max_size=len(cells)))
    parcels = gpd.GeoDataFrame({"landuse_code": codes}, geometry=cells, crs=scene.towns.crs)
    t = tz.intensity.summarize(scene.towns.iloc[[0]], parcels=parcels, buildings=scene.buildings)
    shares = t[[c for c in t.columns if c.endswith("_share") or c.startswith("share_")]].to_numpy()
    finite = shares[np.isfinite(shares)]
    assert ((finite >= 0) & (finite <= 1 + 1e-12)).all()
    level1 = t[[c for c in t.columns if c.startswith("share_")]].sum(axis=1)
    assert level1.iloc[0] == pytest.approx(1.0, rel=1e-9)


@_settings
@given(parcel=st.integers(min_value=0, max_value=9), cut=st.floats(min_value=0.01, max_value=0.99))
def test_splitting_a_parcel_changes_nothing(parcel, cut):
    scene = tz.samples.sample_town()
    whole = _summary(scene, industrial_tall_storey=True)
    row = scene.parcels.iloc[parcel]
    x0, y0, x1, y1 = row.geometry.bounds
    xm = x0 + cut * (x1 - x0)
    halves = gpd.GeoDataFrame(
        [row.drop("geometry").to_dict()] * 2, geometry=[box(x0, y0, xm, y1), box(xm, y0, x1, y1)], crs=scene.parcels.crs
    )
    split = pd.concat([scene.parcels.drop(index=scene.parcels.index[parcel]), halves], ignore_index=True)
    parts = tz.intensity.summarize(
        scene.towns,
        parcels=split,
        buildings=scene.buildings,
        enterprises=scene.enterprises,
        industrial_tall_storey=True,
    )
    pd.testing.assert_frame_equal(parts, whole, rtol=1e-9)


# ------------------------------------------------------------------ real data
def _clip(shared_data, clip):
    path = shared_data(f"hangzhou/{clip}.gpkg")
    aoi = gpd.read_file(path, layer="aoi").assign(town_id=clip)
    landuse = gpd.read_file(path, layer="landuse")
    buildings = gpd.read_file(path, layer="buildings")
    mapping = dict(tz.rules.load("intensity")["osm_fclass_to_yongdi"])
    parcels = landuse.assign(landuse_code=landuse["fclass"].map(mapping).fillna("none"))
    return aoi, parcels, buildings


def _union_in(aoi_m, parcels_m, codes):
    """Independent: shapely union of the parcels of these first-level classes, cut by the town."""
    chosen = parcels_m[parcels_m["landuse_code"].str[:2].isin(set(codes))]
    whole = shapely.union_all(chosen.geometry.make_valid().to_numpy())
    return shapely.intersection(shapely.union_all(aoi_m.geometry.to_numpy()), whole)


@pytest.mark.shared_data
@pytest.mark.parametrize("clip", ["clip_yunqi_r2500m", "clip_yuhuangshan_r2500m", "clip_dream_town_r2500m"])
def test_hangzhou_clips_against_an_independent_shapely_union(shared_data, clip):
    aoi, parcels, buildings = _clip(shared_data, clip)
    t = tz.intensity.summarize(aoi, parcels=parcels, buildings=buildings)

    # independent computation in the same metric CRS: overlapping parcels unioned with shapely
    crs = "EPSG:4549"
    aoi_m, parcels_m, b_m = aoi.to_crs(crs), parcels.to_crs(crs), buildings.to_crs(crs)
    groups = tz.rules.load("landuse")["groups"]
    construction_land = _union_in(aoi_m, parcels_m, groups["construction"])
    construction_m2 = construction_land.area
    everything = _union_in(aoi_m, parcels_m, parcels_m["landuse_code"].str[:2].unique())
    pieces = gpd.overlay(parcels_m, aoi_m[["geometry"]], how="intersection", keep_geom_type=True)
    parts = gpd.overlay(b_m, aoi_m[["geometry"]], how="intersection", keep_geom_type=True)
    footprint_m2 = parts.area.sum()
    floor_area_m2 = (parts.area * parts["floors"]).sum()
    on = b_m.geometry.make_valid().intersection(construction_land)
    on_footprint_m2 = on.area.sum()
    on_floor_area_m2 = (on.area * b_m["floors"]).sum()

    row = t.loc[clip]
    assert row["construction_m2"] == pytest.approx(construction_m2, rel=1e-6)
    # residential takes precedence over every class; green yields to every other construction class
    assert row["residential_m2"] == pytest.approx(_union_in(aoi_m, parcels_m, ["07"]).area, rel=1e-6, abs=0.01)
    not_green = [c for c in groups["construction"] if c not in groups["green"]]
    green = shapely.difference(_union_in(aoi_m, parcels_m, groups["green"]), _union_in(aoi_m, parcels_m, not_green))
    assert row["green_m2"] == pytest.approx(green.area, rel=1e-6, abs=0.01)
    assert row["parcel_overlap_m2"] == pytest.approx(pieces.area.sum() - everything.area, rel=1e-6, abs=0.01)
    assert row["footprint_m2"] == pytest.approx(footprint_m2, rel=1e-6)
    assert row["floor_area_m2"] == pytest.approx(floor_area_m2, rel=1e-6)
    assert row["gross_far"] == pytest.approx(floor_area_m2 / aoi_m.area.sum(), rel=1e-6)
    assert row["footprint_on_construction_m2"] == pytest.approx(on_footprint_m2, rel=1e-6, abs=0.01)
    if construction_m2 > 0:
        assert row["far"] == pytest.approx(on_floor_area_m2 / construction_m2, rel=1e-6)
        assert row["building_coverage"] == pytest.approx(on_footprint_m2 / construction_m2, rel=1e-6)
    if footprint_m2 > 0:
        off = 1 - on_footprint_m2 / footprint_m2
        assert row["footprint_off_construction_share"] == pytest.approx(off, rel=1e-6, abs=1e-9)
        assert any(f"town {clip}" in p and "looks incomplete" in p for p in t.attrs["problems"]) == (off > 0.2)


@pytest.mark.shared_data
def test_yuhuangshan_overlapping_parcels_are_counted_once(shared_data):
    aoi, parcels, _ = _clip(shared_data, "clip_yuhuangshan_r2500m")
    t = tz.intensity.summarize(aoi, parcels=parcels)
    crs = "EPSG:4549"
    aoi_m, parcels_m = aoi.to_crs(crs), parcels.to_crs(crs)
    construction = tz.rules.load("landuse")["groups"]["construction"]
    pieces = gpd.overlay(parcels_m, aoi_m[["geometry"]], how="intersection", keep_geom_type=True)
    summed = pieces.area[pieces["landuse_code"].str[:2].isin(set(construction))].sum()
    union = _union_in(aoi_m, parcels_m, construction).area
    assert summed > union + 1_000  # the clip does hold overlapping construction parcels
    row = t.loc["clip_yuhuangshan_r2500m"]
    assert row["construction_m2"] == pytest.approx(union, rel=1e-6)
    assert row["parcel_overlap_m2"] > 0
    assert any("parcels overlap" in p for p in t.attrs["problems"])


# EULUC-China level-2 classes as stored in the Xinwu file (integer Class 0–10, in EULUC order:
# 101 residential, 201 office, 202 commercial, 301 industrial, 402 transport station, 403 airport,
# 501 administrative, 502 education, 503 medical, 504 sport and culture, 505 park and green),
# mapped to 用地用海 first-level codes.
EULUC_TO_YONGDI = {0: "07", 1: "09", 2: "09", 3: "10", 4: "12", 5: "12", 6: "08", 7: "08", 8: "08", 9: "08", 10: "14"}


def test_wuxi_euluc_land_areas_match_the_250m_grid(shared_data):
    grid = gpd.read_file(shared_data("wuxi-xinwu/xinwu_built_env_250m.gpkg"), layer="built_env_250m")
    parcels = gpd.read_file(shared_data("wuxi-xinwu/xinwu_land_use.gpkg"))
    parcels["landuse_code"] = parcels["Class"].map(EULUC_TO_YONGDI)
    grid["town_id"] = grid["grid_id_main"]
    # the research grid is in UTM 50N: measure there (areas agree with its own columns)
    t = tz.intensity.summarize(grid, parcels=parcels.to_crs(grid.crs))
    ref = grid.set_index("grid_id_main")
    assert t["area_m2"].to_numpy() == pytest.approx(ref["cell_area_m2"].to_numpy(), rel=1e-9, abs=1e-6)
    # cells no parcel reaches: land use unknown (NaN) here, 0 in the research grid
    bare = t["residential_m2"].isna().to_numpy()
    assert (t.loc[bare, "unclassified_m2"] == t.loc[bare, "area_m2"]).all()
    assert (ref.loc[bare, ["area_residential_m2", "area_industrial_m2", "parks_green_m2"]] == 0).all().all()
    for ours, theirs in (
        ("residential_m2", "area_residential_m2"),
        ("industrial_m2", "area_industrial_m2"),
        ("green_m2", "parks_green_m2"),
    ):
        got, expected = t[ours].to_numpy()[~bare], ref[theirs].to_numpy()[~bare]
        assert got == pytest.approx(expected, rel=1e-6, abs=1e-3)


def test_invalid_and_missing_geometries_are_repaired_or_reported(scene):
    from shapely import Polygon

    parcels = scene.parcels.copy()
    x0, y0 = ORIGIN
    # P1 drawn as a bow-tie (self-intersecting): make_valid keeps its two triangles
    bowtie = Polygon([(x0, y0), (x0 + 400, y0 + 500), (x0 + 400, y0), (x0, y0 + 500)])
    parcels.loc[parcels["parcel_id"] == "P1", "geometry"] = bowtie
    parcels.loc[parcels["parcel_id"] == "P3", "geometry"] = None
    t = tz.intensity.summarize(scene.towns, parcels=parcels)
    assert t.loc["T1", "residential_m2"] == pytest.approx(2 * 0.5 * 400 * 250, rel=1e-9)
    assert any("make_valid" in r for r in t.attrs["repairs"])
    assert any("no geometry" in p for p in t.attrs["problems"])


def test_chinese_enterprise_headers(scene):
    firms = scene.enterprises.rename(columns=ENTERPRISE_HEADERS_ZH)
    t = tz.intensity.summarize(scene.towns, parcels=scene.parcels, enterprises=firms)
    assert t.loc["T1", ["tax_per_mu", "investment_per_mu", "rd_intensity", "labour_productivity"]].tolist() == (
        pytest.approx([20, 300, 0.04, 150], rel=REL)
    )
    assert t.loc["T2", "jobs"] == 1_500


def test_a_town_without_parcels_has_missing_land_figures_not_zero(scene):
    parcels = scene.parcels[~scene.parcels["parcel_id"].isin(["R1", "R2", "R3"])]  # T3's parcels
    t = tz.intensity.summarize(scene.towns, parcels=parcels, buildings=scene.buildings)
    assert (
        t.loc["T3", ["construction_m2", "construction_share", "residential_share", "green_share", "far"]].isna().all()
    )
    assert t.loc["T3", "unclassified_m2"] == pytest.approx(1_200_000, rel=REL)
    assert t.loc["T1", "construction_share"] == pytest.approx(1.0, rel=REL)  # others untouched
    assert any("T3" in p and "no parcel" in p for p in t.attrs["problems"])
    card = tz.evaluate.scorecard(t.assign(category=["digital", "tourism", "manufacturing"]))
    assert card.loc[("T3", "construction_land_min"), "status"] == "missing"  # never a fail on absent data


def test_a_missing_column_names_its_keyword(scene):
    with pytest.raises(tz.errors.SchemaError, match=r"parcels lacks column 'YDYHFLDM'.*pass landuse_col=") as info:
        tz.intensity.summarize(scene.towns, parcels=scene.parcels, landuse_col="YDYHFLDM")
    assert info.value.param == "landuse_col" and "CLI" not in str(info.value)
    with pytest.raises(tz.errors.SchemaError) as info:  # two keywords at fault: no single one to point at
        tz.intensity.summarize(scene.towns, parcels=scene.parcels, landuse_col="YDYHFLDM", id_col="code")
    assert info.value.param is None and len(info.value.problems) == 2


# ------------------------------------------------------------------ overlapping parcels, net FAR (issue 12)
def _square_town(size=1000.0):
    return gpd.GeoDataFrame({"town_id": ["T"]}, geometry=[_box(0, 0, size, size)], crs=tz.samples.CRS)


def _box(x0, y0, x1, y1):
    return translate(box(x0, y0, x1, y1), *ORIGIN)


def _parcels(rows):
    codes, geoms = zip(*[(code, _box(*b)) for code, b in rows], strict=True)
    return gpd.GeoDataFrame({"landuse_code": list(codes)}, geometry=list(geoms), crs=tz.samples.CRS)


def test_overlapping_parcels_of_two_classes_count_once_by_precedence():
    # residential 0–600 and green 400–1000 overlap on 400–600 (200 000 m²): residential wins
    parcels = _parcels([("0701", (0, 0, 600, 1000)), ("1401", (400, 0, 1000, 1000))])
    t = tz.intensity.summarize(_square_town(), parcels=parcels).loc["T"]
    assert t["construction_m2"] == pytest.approx(1_000_000, rel=REL)  # not 1 200 000
    assert t["residential_m2"] == pytest.approx(600_000, rel=REL)
    assert t["green_m2"] == pytest.approx(400_000, rel=REL)
    assert t["parcel_overlap_m2"] == pytest.approx(200_000, rel=REL)
    assert [t["share_07"], t["share_14"]] == pytest.approx([0.6, 0.4], rel=REL)
    assert t["unclassified_m2"] == pytest.approx(0.0, abs=1e-6)


def test_construction_land_takes_precedence_over_farmland_and_the_order_of_rows_does_not_matter():
    rows = [("0101", (0, 0, 1000, 500)), ("0901", (0, 250, 1000, 750)), ("0901", (0, 250, 1000, 750))]
    for order in (rows, rows[::-1]):
        t = tz.intensity.summarize(_square_town(), parcels=_parcels(order))
        row = t.loc["T"]
        assert row["construction_m2"] == pytest.approx(500_000, rel=REL)  # the duplicate counts once
        assert row["share_01"] == pytest.approx(0.25, rel=REL)  # farmland keeps only 0–250
        assert row["unclassified_m2"] == pytest.approx(250_000, rel=REL)
        assert row["parcel_overlap_m2"] == pytest.approx(250_000 + 500_000, rel=REL)
        assert any("parcels overlap on 750000.0 m2" in p for p in t.attrs["problems"])


def test_an_overlap_within_the_tolerance_gives_no_note():
    parcels = _parcels([("0701", (0, 0, 500.5, 1000)), ("0901", (500, 0, 1000, 1000))])  # 500 m² overlap
    t = tz.intensity.summarize(_square_town(), parcels=parcels)
    assert t.loc["T", "parcel_overlap_m2"] == pytest.approx(500, rel=1e-9)
    tiny = _parcels([("0701", (0, 0, 500.0005, 1000)), ("0901", (500, 0, 1000, 1000))])  # 0.5 m² overlap
    t = tz.intensity.summarize(_square_town(), parcels=tiny)
    assert t.loc["T", "parcel_overlap_m2"] == pytest.approx(0.5, rel=1e-6)
    assert t.loc["T", "construction_m2"] == pytest.approx(1_000_000, rel=REL)
    assert not any("overlap" in p for p in t.attrs["problems"])


def _net_far_scene():
    """Residential 0–500, forest 500–900, nothing 900–1000 (unclassified); four buildings.

    X 100×100 ×4 on residential; Y 100×100 ×10 on forest; Z 100×100 ×2 across 450–550 (half on
    each); W 60×60 ×1 on unclassified land. Footprint 33 600, on construction 15 000; floor area on
    construction 40 000 + 10 000 = 50 000; whole floor area 40 000 + 100 000 + 20 000 + 3 600.
    """
    parcels = _parcels([("0701", (0, 0, 500, 1000)), ("0301", (500, 0, 900, 1000))])
    rows = [((100, 100, 200, 200), 4), ((700, 100, 800, 200), 10), ((450, 400, 550, 500), 2), ((920, 0, 980, 60), 1)]
    buildings = gpd.GeoDataFrame(
        {"building_id": list("XYZW"), "floors": [float(f) for _, f in rows]},
        geometry=[_box(*b) for b, _ in rows],
        crs=tz.samples.CRS,
    )
    return parcels, buildings


def test_far_and_coverage_count_only_buildings_on_construction_land():
    parcels, buildings = _net_far_scene()
    t = tz.intensity.summarize(_square_town(), parcels=parcels, buildings=buildings)
    row = t.loc["T"]
    assert row["construction_m2"] == pytest.approx(500_000, rel=REL)
    assert row["footprint_m2"] == pytest.approx(33_600, rel=REL)
    assert row["footprint_on_construction_m2"] == pytest.approx(15_000, rel=REL)
    assert row["floor_area_on_construction_m2"] == pytest.approx(50_000, rel=REL)
    assert row["far"] == pytest.approx(50_000 / 500_000, rel=REL)
    assert row["building_coverage"] == pytest.approx(15_000 / 500_000, rel=REL)
    assert row["gross_far"] == pytest.approx(163_600 / 1_000_000, rel=REL)  # the whole town
    assert row["footprint_off_construction_share"] == pytest.approx(18_600 / 33_600, rel=REL)
    assert any("town T" in p and "looks incomplete" in p for p in t.attrs["problems"])


def test_a_town_with_little_footprint_off_construction_land_gets_no_note():
    parcels, buildings = _net_far_scene()
    # X and Z only: 5 000 of 20 000 m² off construction land (25 %) gives the note; X alone (0 %) does not
    t = tz.intensity.summarize(_square_town(), parcels=parcels, buildings=buildings.iloc[[0, 2]])
    assert t.loc["T", "footprint_off_construction_share"] == pytest.approx(0.25, rel=REL)
    assert any("looks incomplete" in p for p in t.attrs["problems"])
    t = tz.intensity.summarize(_square_town(), parcels=parcels, buildings=buildings.iloc[[0]])
    assert t.loc["T", "footprint_off_construction_share"] == pytest.approx(0.0, abs=1e-12)
    assert not any("looks incomplete" in p for p in t.attrs["problems"])


def test_overlapping_construction_parcels_do_not_shrink_far():
    """A building on two overlapping construction parcels counts once on the union."""
    parcels = _parcels([("0701", (0, 0, 600, 1000)), ("0901", (400, 0, 1000, 1000))])
    buildings = gpd.GeoDataFrame({"floors": [5.0]}, geometry=[_box(450, 450, 550, 550)], crs=tz.samples.CRS)
    row = tz.intensity.summarize(_square_town(), parcels=parcels, buildings=buildings).loc["T"]
    assert row["footprint_on_construction_m2"] == pytest.approx(10_000, rel=REL)
    assert row["far"] == pytest.approx(50_000 / 1_000_000, rel=REL)


def test_construction_extra_0601_counts_in_intensity_and_control_lines_alike(tmp_path):
    """Regression (issue 10): a 0601 parcel listed in construction_extra is construction land everywhere."""
    text = (Path(tz.rules.__file__).parent / "landuse.toml").read_text(encoding="utf-8")
    assert "construction_extra = []" in text
    path = tmp_path / "landuse-0601.toml"
    path.write_text(text.replace("construction_extra = []", 'construction_extra = ["0601"]'), encoding="utf-8")
    rules = tz.rules.load(path)
    parcels = _parcels([("0601", (0, 0, 500, 1000)), ("0602", (500, 0, 1000, 1000))])
    parcels["parcel_id"] = ["A", "B"]
    for landuse_rules, expected in ((rules, 500_000), ("landuse", 0.0)):
        t = tz.intensity.summarize(_square_town(), parcels=parcels, landuse_rules=landuse_rules)
        assert t.loc["T", "construction_m2"] == pytest.approx(expected, abs=1e-6)
        farm = gpd.GeoDataFrame({"BSM": ["F"]}, geometry=[_box(0, 0, 1000, 10)], crs=tz.samples.CRS)
        lines = tz.controllines.check(
            parcels, farmland=farm, id_col="parcel_id", landuse_col="landuse_code", landuse_rules=landuse_rules
        )
        assert lines.summary["construction"].tolist() == [expected > 0, False]
        assert lines.summary.loc["A", "verdict"] == ("conflict" if expected else "pass")


_parcel_codes = st.sampled_from(["0101", "0301", "0701", "0901", "1001", "1401", "xx"])


@_settings
@given(
    rects=st.lists(
        st.tuples(st.integers(0, 9), st.integers(0, 9), st.integers(1, 6), st.integers(1, 6), _parcel_codes),
        min_size=1,
        max_size=8,
    )
)
def test_land_structure_equals_a_plain_shapely_union(rects):
    parcels = _parcels([(code, (100 * x, 100 * y, 100 * (x + w), 100 * (y + h))) for x, y, w, h, code in rects])
    towns = _square_town(800.0)
    t = tz.intensity.summarize(towns, parcels=parcels).loc["T"]
    town = towns.geometry.iloc[0]
    construction = tz.rules.load("landuse")["groups"]["construction"]
    chosen = parcels[parcels["landuse_code"].str[:2].isin(set(construction))]
    union = shapely.intersection(town, shapely.union_all(chosen.geometry.to_numpy())).area
    everything = shapely.intersection(town, shapely.union_all(parcels.geometry.to_numpy())).area
    pieces = shapely.area(shapely.intersection(parcels.geometry.to_numpy(), town)).sum()
    if everything == 0:
        return
    assert t["construction_m2"] == pytest.approx(union, abs=0.01)
    assert t["parcel_overlap_m2"] == pytest.approx(pieces - everything, abs=0.01)
    classified = sum(t[c] for c in t.index if c.startswith("share_")) * town.area
    assert classified + t["unclassified_m2"] == pytest.approx(town.area, abs=0.01)
