"""Tests of tz.controllines against the sample town's stated figures and independent shapely code.

Oracles: the figures written in ``tongzhen_gis/samples.py``'s docstring (hand-computed from the
rectangles), hand-computed rectangles below, and plain shapely / geopandas computations
(``union_all`` of a whole layer, ``geopandas.overlay``) that share no code with the module.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely import Polygon, box
from shapely.affinity import translate

import tongzhen_gis as tz
from tongzhen_gis.errors import CRSError, OptionError, SchemaError

X0, Y0 = tz.samples.ORIGIN
M2_PER_MU = 10000.0 / 15.0


def _lines(scene):
    return {"red_line": scene.red_line, "farmland": scene.farmland, "urban_boundary": scene.urban_boundary}


def _local_box(x1, y1, x2, y2):
    return box(x1 + X0, y1 + Y0, x2 + X0, y2 + Y0)


def _layer(geoms, ids=None, crs=tz.samples.CRS, id_name="BSM"):
    data = {} if ids is None else {id_name: ids}
    return gpd.GeoDataFrame(data, geometry=list(geoms), crs=crs)


# --------------------------------------------------------------------------------------------
# The sample town (figures from the samples.py docstring)
# --------------------------------------------------------------------------------------------

EXPECTED = {
    #     area_m2,    red_line_m2, farmland_m2, outside_m2, verdict
    "T1": (1_000_000.0, 0.0, 0.0, 0.0, "pass"),
    "T2": (1_000_000.0, 100_000.0, 0.0, 100_000.0, "conflict"),
    "T3": (1_200_000.0, 0.0, 120_000.0, 300_000.0, "conflict"),
}


def test_sample_town_figures(scene):
    result = tz.controllines.check(scene.towns, **_lines(scene))
    s = result.summary
    assert s.index.name == "town_id"
    assert list(s.index) == ["T1", "T2", "T3"]
    for town, (area, red, farm, outside, verdict) in EXPECTED.items():
        row = s.loc[town]
        assert row["area_m2"] == pytest.approx(area, rel=1e-12)
        assert row["red_line_m2"] == pytest.approx(red, abs=1e-6)
        assert row["farmland_m2"] == pytest.approx(farm, abs=1e-6)
        assert row["outside_boundary_m2"] == pytest.approx(outside, abs=1e-6)
        assert row["verdict"] == verdict
    # shares stated in the docstring
    assert s.loc["T2", "red_line_share"] == pytest.approx(0.10, abs=1e-12)
    assert s.loc["T2", "outside_boundary_share"] == pytest.approx(0.10, abs=1e-12)
    assert s.loc["T3", "farmland_share"] == pytest.approx(0.10, abs=1e-12)
    assert s.loc["T3", "outside_boundary_share"] == pytest.approx(0.25, abs=1e-12)
    # 亩: 100 000 m² = 150 亩, 120 000 m² = 180 亩, 300 000 m² = 450 亩
    assert s.loc["T2", "red_line_mu"] == pytest.approx(150.0, abs=1e-9)
    assert s.loc["T3", "farmland_mu"] == pytest.approx(180.0, abs=1e-9)
    assert s.loc["T3", "outside_boundary_mu"] == pytest.approx(450.0, abs=1e-9)
    assert result.missing_lines == ()
    assert result.crs.to_epsg() == 4549
    assert not result.passed
    assert result.counts() == {"conflict": 2, "pass": 1}


def test_sample_town_conflicts_per_source(scene):
    result = tz.controllines.check(scene.towns, **_lines(scene))
    c = result.conflicts
    assert isinstance(c, gpd.GeoDataFrame)
    assert c.crs.to_epsg() == 4549
    got = {(r.town_id, r.line, r.source_id): r.area_m2 for r in c.itertuples()}
    expected = {
        ("T2", "red_line", "STBHHX001"): 100_000.0,
        ("T2", "red_line", "STBHHX002"): 25_000.0,
        ("T2", "outside_boundary", None): 100_000.0,
        ("T3", "farmland", "YJJBNT001"): 120_000.0,
        ("T3", "farmland", "YJJBNT004"): 30_000.0,
        ("T3", "outside_boundary", None): 300_000.0,
    }
    assert got.keys() == expected.keys()
    for key, area in expected.items():
        assert got[key] == pytest.approx(area, abs=1e-6)
    assert (c["sliver"] == False).all()  # noqa: E712
    assert c["area_mu"].to_numpy() == pytest.approx(c["area_m2"].to_numpy() / M2_PER_MU)
    # each piece's geometry has the area it reports
    assert c.geometry.area.to_numpy() == pytest.approx(c["area_m2"].to_numpy())
    assert result.summary["n_conflicts"].to_dict() == {"T1": 0, "T2": 3, "T3": 3}
    # share of the town, by hand: T2 is 1 000 000 m², T3 1 200 000 m²
    shares = {(r.town_id, r.line, r.source_id): r.share for r in c.itertuples()}
    assert shares[("T2", "red_line", "STBHHX002")] == pytest.approx(0.025)
    assert shares[("T3", "farmland", "YJJBNT004")] == pytest.approx(30_000 / 1_200_000)
    assert shares[("T3", "outside_boundary", None)] == pytest.approx(0.25)
    # inside the boundary, by hand: T1 whole, T2 1500–2400 × 0–1000, T3 3000–3900 × 0–1000
    inside = result.summary["inside_boundary_m2"].to_dict()
    assert inside == pytest.approx({"T1": 1_000_000.0, "T2": 900_000.0, "T3": 900_000.0})
    assert result.summary.loc["T3", "inside_boundary_mu"] == pytest.approx(1350.0)  # 900 000 × 15 / 10 000
    assert result.summary.loc["T3", "area_mu"] == pytest.approx(1800.0)


def test_no_double_count(scene):
    """STBHHX001 and STBHHX002 overlap inside T2: 100 000 + 25 000 per source, 100 000 in all."""
    result = tz.controllines.check(scene.towns, **_lines(scene))
    per_source = result.conflicts.groupby(["town_id", "line"])["area_m2"].sum()
    assert per_source[("T2", "red_line")] == pytest.approx(125_000.0)
    assert result.summary.loc["T2", "red_line_m2"] == pytest.approx(100_000.0)
    assert per_source[("T3", "farmland")] == pytest.approx(150_000.0)
    assert result.summary.loc["T3", "farmland_m2"] == pytest.approx(120_000.0)


def test_inside_plus_outside_and_independent_oracle(scene):
    result = tz.controllines.check(scene.towns, **_lines(scene))
    s = result.summary
    assert (s["inside_boundary_m2"] + s["outside_boundary_m2"]).to_numpy() == pytest.approx(s["area_m2"].to_numpy())
    # independent computation: each town against the union of each whole layer (plain shapely)
    towns = scene.towns.set_index("town_id").geometry
    for name, col in (("red_line", "red_line_m2"), ("farmland", "farmland_m2")):
        whole = shapely.union_all(getattr(scene, name).geometry.to_numpy())
        oracle = shapely.area(shapely.intersection(towns.to_numpy(), whole))
        assert s[col].to_numpy() == pytest.approx(oracle, abs=1e-6)
    boundary = shapely.union_all(scene.urban_boundary.geometry.to_numpy())
    oracle = shapely.area(shapely.difference(towns.to_numpy(), boundary))
    assert s["outside_boundary_m2"].to_numpy() == pytest.approx(oracle, abs=1e-6)


def test_per_source_pieces_match_geopandas_overlay(scene):
    """The per-source conflict pieces equal geopandas.overlay(how='intersection')."""
    result = tz.controllines.check(scene.towns, **_lines(scene))
    for line in ("red_line", "farmland"):
        ov = gpd.overlay(scene.towns[["town_id", "geometry"]], getattr(scene, line)[["BSM", "geometry"]])
        ov = ov[ov.area > 0]
        expected = ov.set_index(["town_id", "BSM"]).area.sort_index()
        mine = result.conflicts[result.conflicts["line"] == line].set_index(["town_id", "source_id"])["area_m2"]
        mine = mine.sort_index()
        assert list(mine.index) == list(expected.index)
        assert mine.to_numpy() == pytest.approx(expected.to_numpy())


def test_parcels_with_landuse(scene):
    """Q3 (0301 forest) lies in the red line and R3 (0101 cropland) on farmland: listed, not counted."""
    result = tz.controllines.check(scene.parcels, id_col="parcel_id", landuse_col="landuse_code", **_lines(scene))
    s = result.summary
    assert list(s.index) == scene.parcels["parcel_id"].tolist()
    assert s.loc["P4", "area_m2"] == pytest.approx(375_000.0)  # the whole parcel, 25 000 of it beyond T1
    assert s.loc["R2", "farmland_m2"] == pytest.approx(80_000.0)
    assert s.loc["R3", "farmland_m2"] == pytest.approx(40_000.0)
    assert s.loc["Q3", "red_line_m2"] == pytest.approx(100_000.0)
    assert s["verdict"].to_dict() == {
        **dict.fromkeys(["P1", "P2", "P3", "P4", "Q1", "Q2", "R1"], "pass"),
        "Q3": "pass",
        "R2": "conflict",
        "R3": "pass",
    }
    assert not s.loc["Q3", "construction"]
    assert not s.loc["R3", "construction"]
    assert s.loc["R2", "construction"]
    c = result.conflicts
    q3 = c[c["parcel_id"] == "Q3"]
    assert len(q3) == 3 and not q3["construction"].any()  # STBHHX001, STBHHX002, outside boundary
    r3 = c[c["parcel_id"] == "R3"]
    assert set(r3["line"]) == {"farmland", "outside_boundary"} and not r3["construction"].any()
    assert s.loc["Q3", "n_conflicts"] == 0
    assert s.loc["R2", "n_conflicts"] == 3


def test_missing_landuse_code_counts_and_is_reported(scene):
    parcels = scene.parcels.copy()
    parcels.loc[parcels["parcel_id"] == "R3", "landuse_code"] = None
    result = tz.controllines.check(parcels, id_col="parcel_id", landuse_col="landuse_code", **_lines(scene))
    assert result.summary.loc["R3", "verdict"] == "conflict"
    assert "no land-use code" in set(result.repairs["issue"])


def test_invalid_landuse_code_counts_and_is_reported(scene):
    # Q3 is forest (0301) in the red line: with a garbled code it must not pass silently.
    parcels = scene.parcels.copy()
    parcels.loc[parcels["parcel_id"] == "Q3", "landuse_code"] = "林地"
    result = tz.controllines.check(parcels, id_col="parcel_id", landuse_col="landuse_code", **_lines(scene))
    assert result.summary.loc["Q3", "verdict"] == "conflict"
    assert bool(result.summary.loc["Q3", "construction"])
    row = result.repairs[result.repairs["issue"] == "land-use code that is not a 用地用海 code"]
    assert row["ids"].tolist() == ["Q3"]
    # R3 (0101 cropland) is unaffected
    assert result.summary.loc["R3", "verdict"] == "pass"


def test_a_column_without_any_landuse_code_is_refused(scene):
    with pytest.raises(SchemaError, match=r"holds no 用地用海 code.*landuse_col=") as info:
        tz.controllines.check(scene.towns, landuse_col="name_zh", red_line=scene.red_line)
    assert info.value.param == "landuse_col" and "CLI" not in str(info.value)


def test_numeric_landuse_codes_are_refused(scene):
    parcels = scene.parcels.copy()
    parcels["code_int"] = parcels["landuse_code"].astype(int)
    with pytest.raises(SchemaError, match="leading zeros"):
        tz.controllines.check(parcels, id_col="parcel_id", landuse_col="code_int", red_line=scene.red_line)


# --------------------------------------------------------------------------------------------
# Slivers and verdicts (hand-made rectangles)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overlap_m2", "verdict"),
    [(0.5, "review"), (1.0, "review"), (1.5, "conflict")],
)
def test_sliver_red_line(scene, overlap_m2, verdict):
    # T1 is 0–1000 × 0–1000: a strip 1 m tall from y = 1000 − overlap, 1 m wide inside T1
    red = _layer([_local_box(-5, 1000 - overlap_m2, 1, 1010)], ["S1"])
    result = tz.controllines.check(scene.towns.iloc[[0]], red_line=red)
    assert result.sliver_m2 == tz.rules.load("controllines").parameter("sliver_m2")
    assert result.summary.loc["T1", "red_line_m2"] == pytest.approx(overlap_m2, rel=1e-9)
    assert result.summary.loc["T1", "verdict"] == verdict
    row = result.conflicts.iloc[0]
    assert row["source_id"] == "S1"
    assert bool(row["sliver"]) is (overlap_m2 <= 1.0)


def test_sliver_tolerance_can_be_set(scene):
    red = _layer([_local_box(-5, 999.5, 1, 1010)], ["S1"])  # 0.5 m²
    result = tz.controllines.check(scene.towns.iloc[[0]], red_line=red, sliver_m2=0.1)
    assert result.summary.loc["T1", "verdict"] == "conflict"
    with pytest.raises(OptionError, match="sliver_m2") as info:
        tz.controllines.check(scene.towns, red_line=red, sliver_m2=-1)
    assert info.value.param == "sliver_m2"


def test_many_slivers_that_add_up_make_a_conflict(scene):
    # two disjoint 0.6 m² slivers from two sources: each a sliver, together 1.2 m² > 1 m²
    red = _layer([_local_box(-5, 999.4, 1, 1010), _local_box(500, 999.4, 501, 1010)], ["S1", "S2"])
    result = tz.controllines.check(scene.towns.iloc[[0]], red_line=red)
    assert result.conflicts["sliver"].all()
    assert result.summary.loc["T1", "red_line_m2"] == pytest.approx(1.2, rel=1e-9)
    assert result.summary.loc["T1", "verdict"] == "conflict"


def test_sliver_outside_boundary_is_review(scene):
    # T1 pokes 0.5 m² out of a boundary that covers it except a 1 × 0.5 m notch
    boundary = _layer([_local_box(-10, -10, 1010, 1010).difference(_local_box(0, 999.5, 1, 1000))], ["B"])
    result = tz.controllines.check(scene.towns.iloc[[0]], urban_boundary=boundary)
    assert result.summary.loc["T1", "outside_boundary_m2"] == pytest.approx(0.5, rel=1e-9)
    assert result.summary.loc["T1", "verdict"] == "review"


def test_touching_is_not_overlap(scene):
    red = _layer([_local_box(1000, 0, 1400, 1000)], ["EDGE"])  # shares T1's east edge
    result = tz.controllines.check(scene.towns.iloc[[0]], red_line=red)
    assert result.summary.loc["T1", "verdict"] == "pass"
    assert len(result.conflicts) == 0


# --------------------------------------------------------------------------------------------
# Missing layers, CRS, schema, repairs
# --------------------------------------------------------------------------------------------


def test_missing_line_layer(scene, caplog):
    with caplog.at_level(logging.WARNING, logger="tongzhen_gis.controllines"):
        result = tz.controllines.check(scene.towns, red_line=scene.red_line)
    assert result.missing_lines == ("farmland", "urban_boundary")
    s = result.summary
    assert s[["farmland_m2", "farmland_share", "outside_boundary_m2", "inside_boundary_m2"]].isna().all().all()
    assert s["red_line_m2"].notna().all()
    # T3's conflicts are on farmland and outside the boundary: neither was given
    assert s["verdict"].to_dict() == {"T1": "pass", "T2": "conflict", "T3": "pass"}
    assert "farmland not given" in caplog.text
    assert set(result.repairs.loc[result.repairs["issue"] == "not given", "layer"]) == {"farmland", "urban_boundary"}


def test_no_line_at_all_is_an_error(scene):
    with pytest.raises(SchemaError, match="no control line"):
        tz.controllines.check(scene.towns)


def test_layers_in_other_crs_are_reprojected(scene):
    red_ll = scene.red_line.to_crs("EPSG:4490")
    result = tz.controllines.check(scene.towns.to_crs("EPSG:4326"), red_line=red_ll, farmland=scene.farmland)
    assert result.crs.to_epsg() == 4549
    assert result.summary.loc["T2", "red_line_m2"] == pytest.approx(100_000.0, rel=1e-6)
    assert result.summary.loc["T3", "farmland_m2"] == pytest.approx(120_000.0, rel=1e-6)
    assert result.repairs["issue"].str.startswith("reprojected").sum() == 2


def test_missing_crs_names_every_layer(scene):
    towns = scene.towns.set_crs(None, allow_override=True)
    farm = scene.farmland.set_crs(None, allow_override=True)
    with pytest.raises(CRSError, match=r"features, farmland.*set_crs"):
        tz.controllines.check(towns, red_line=scene.red_line, farmland=farm)


def test_schema_problems_listed_together(scene):
    towns = pd.concat([scene.towns, scene.towns.iloc[[0]]])
    with pytest.raises(SchemaError) as info:
        tz.controllines.check(towns, id_col="town_id", red_line=scene.red_line, landuse_col="nope")
    assert "not unique" in str(info.value) and "'nope'" in str(info.value)
    assert len(info.value.problems) == 2
    assert info.value.param is None  # two problems about different keywords: no single fix to point at
    with pytest.raises(SchemaError, match="id_col") as info:
        tz.controllines.check(scene.towns, id_col="town_code", red_line=scene.red_line)
    assert info.value.param == "id_col" and "CLI" not in str(info.value)


def test_a_known_alias_of_the_id_column_is_used(scene):
    towns = scene.towns.rename(columns={"town_id": "小镇编号"})
    result = tz.controllines.check(towns, red_line=scene.red_line)  # id_col="town_id" finds 小镇编号
    assert result.summary.loc["T2", "red_line_m2"] == pytest.approx(100_000.0)
    result = tz.controllines.check(towns, red_line=scene.red_line, id_col="小镇编号")
    assert result.summary.loc["T2", "red_line_m2"] == pytest.approx(100_000.0)
    with pytest.raises(SchemaError, match=r"no column '编号'") as info:  # a name given is taken literally
        tz.controllines.check(towns, red_line=scene.red_line, id_col="编号")
    assert "e.g." not in str(info.value)  # 编号 is no known name of an id: nothing to suggest


@pytest.mark.parametrize(
    ("rename", "id_col", "suggested"),
    [
        ({}, "town_code", "town_id"),  # another name of town_id, taken literally: town_id is suggested
        ({"town_id": "XZBH"}, "小镇代码", "XZBH"),
        ({"town_id": "标识码"}, "BSM", "标识码"),  # the id of a control-line layer, checked as features
    ],
)
def test_a_missing_id_column_suggests_one_that_means_the_same(scene, rename, id_col, suggested):
    towns = scene.towns.rename(columns=rename)
    with pytest.raises(SchemaError) as info:
        tz.controllines.check(towns, red_line=scene.red_line, id_col=id_col)
    assert f"no column {id_col!r}" in str(info.value)
    assert f"e.g. id_col={suggested!r} (it means the same as {id_col!r})" in str(info.value)
    result = tz.controllines.check(towns, red_line=scene.red_line, id_col=suggested)  # the suggestion works
    assert result.summary.loc["T2", "red_line_m2"] == pytest.approx(100_000.0)


def test_id_may_be_the_index(scene):
    towns = scene.towns.set_index("town_id")
    result = tz.controllines.check(towns, red_line=scene.red_line)
    assert list(result.summary.index) == ["T1", "T2", "T3"]


def test_order_kept_and_unusable_features_reported(scene):
    towns = scene.towns.iloc[[2, 0, 1]].copy()
    extra = gpd.GeoDataFrame(
        {"town_id": ["T9", "T8"]}, geometry=[None, shapely.LineString([(X0, Y0), (X0 + 5, Y0)])], crs=towns.crs
    )
    towns = pd.concat([towns, extra])
    # a bow-tie (invalid) red-line polygon overlapping T1 by 2 triangles of 100 m² each
    bowtie = Polygon([(X0 - 10, Y0), (X0 + 10, Y0 + 20), (X0 + 10, Y0), (X0 - 10, Y0 + 20)])
    red = pd.concat([scene.red_line, _layer([bowtie], ["BOWTIE"])], ignore_index=True)
    result = tz.controllines.check(towns, red_line=red)
    s = result.summary
    assert list(s.index) == ["T3", "T1", "T2", "T9", "T8"]
    assert s.loc["T9", "verdict"] == "unchecked" and np.isnan(s.loc["T9", "area_m2"])
    assert s.loc["T8", "verdict"] == "unchecked"
    assert s.loc["T1", "red_line_m2"] == pytest.approx(100.0)  # the half of the bow-tie east of x = 0
    issues = dict(zip(result.repairs["issue"], result.repairs["ids"], strict=True))
    assert issues["invalid geometry"] == "BOWTIE"
    assert issues["empty or missing geometry"] == "T9"
    assert issues["no polygonal part (point or line)"] == "T8"


def test_source_id_falls_back_to_index(scene):
    red = scene.red_line.drop(columns="BSM").set_index(pd.Index([10, 20, 30]))
    result = tz.controllines.check(scene.towns, red_line=red)
    assert set(result.conflicts["source_id"]) == {"10", "20"}


# --------------------------------------------------------------------------------------------
# Extensions (扩容)
# --------------------------------------------------------------------------------------------


def test_check_extension(scene):
    current = scene.towns
    proposed = scene.towns.copy()
    # T1 grows north to y = 1200: adds 0–1000 × 1000–1200 = 200 000 m², which holds farmland
    # YJJBNT002 (300–700 × 1050–1150 = 40 000 m²) sitting in the boundary's hole (outside it)
    proposed.loc[proposed["town_id"] == "T1", "geometry"] = _local_box(0, 0, 1000, 1200)
    new = gpd.GeoDataFrame({"town_id": ["T4"]}, geometry=[_local_box(5000, 0, 5100, 100)], crs=proposed.crs)
    proposed = pd.concat([proposed, new], ignore_index=True)
    result = tz.controllines.check_extension(current, proposed, **_lines(scene))
    s = result.summary
    assert list(s.index) == ["T1", "T2", "T3", "T4"]
    assert s.loc["T1", "area_m2"] == pytest.approx(200_000.0)
    assert s.loc["T1", "farmland_m2"] == pytest.approx(40_000.0)
    assert s.loc["T1", "outside_boundary_m2"] == pytest.approx(40_000.0)
    assert s.loc["T1", "current_area_m2"] == pytest.approx(1_000_000.0)
    assert s.loc["T1", "proposed_area_m2"] == pytest.approx(1_200_000.0)
    assert s.loc["T1", "proposed_area_mu"] == pytest.approx(1800.0)  # 1 200 000 m² × 15 / 10 000
    assert s.loc["T1", "current_area_mu"] == pytest.approx(1500.0)
    assert s.loc["T1", "area_mu"] == pytest.approx(300.0) and s.loc["T1", "farmland_mu"] == pytest.approx(60.0)
    assert s.loc["T1", "verdict"] == "conflict"
    # T2 and T3 add nothing: area 0 and pass, although the towns themselves conflict
    assert s.loc["T2", "area_m2"] == 0.0 and s.loc["T2", "verdict"] == "pass"
    assert s.loc["T3", "verdict"] == "pass"
    # T4 is new, wholly inside STBHHX003's first part (5000–5500 × 0–500), outside the boundary
    assert np.isnan(s.loc["T4", "current_area_m2"])
    assert s.loc["T4", "red_line_m2"] == pytest.approx(10_000.0)
    assert set(result.conflicts["town_id"]) == {"T1", "T4"}


# --------------------------------------------------------------------------------------------
# The dask engine
# --------------------------------------------------------------------------------------------


def test_dask_engine_gives_identical_numbers(scene):
    local = tz.controllines.check(scene.parcels, id_col="parcel_id", landuse_col="landuse_code", **_lines(scene))
    dask = tz.controllines.check(
        scene.parcels, id_col="parcel_id", landuse_col="landuse_code", engine="dask", npartitions=3, **_lines(scene)
    )
    pd.testing.assert_frame_equal(local.summary, dask.summary)
    pd.testing.assert_frame_equal(local.conflicts, dask.conflicts)


def test_dask_engine_with_a_given_client(scene):
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            processes=False,
            protocol="tcp://",
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        result = tz.controllines.check(scene.towns, engine="dask", client=client, **_lines(scene))
        assert client.status == "running"  # a given client is left open
    assert result.summary["verdict"].to_dict() == {"T1": "pass", "T2": "conflict", "T3": "conflict"}


def test_unknown_engine(scene):
    with pytest.raises(OptionError, match="engine"):
        tz.controllines.check(scene.towns, red_line=scene.red_line, engine="spark")


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------

_coord = st.integers(min_value=0, max_value=60)
_size = st.integers(min_value=1, max_value=40)
_rect = st.tuples(_coord, _coord, _size, _size).map(lambda t: (t[0], t[1], t[0] + t[2], t[1] + t[3]))


def _rects_layer(rects, prefix):
    geoms = [box(X0 + 10 * a, Y0 + 10 * b, X0 + 10 * c, Y0 + 10 * d) for a, b, c, d in rects]
    return _layer(geoms, [f"{prefix}{i}" for i in range(len(geoms))])


@st.composite
def _scenes(draw):
    towns = _rects_layer(draw(st.lists(_rect, min_size=1, max_size=4)), "T").rename(columns={"BSM": "town_id"})
    red = _rects_layer(draw(st.lists(_rect, min_size=0, max_size=6)), "R")
    boundary = _rects_layer(draw(st.lists(_rect, min_size=1, max_size=3)), "B")
    return towns, red, boundary


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_scenes(), st.lists(_rect, min_size=0, max_size=5), st.sampled_from([0.0, 50.0, 2_000.0]))
def test_farmland_shares_mu_and_verdicts_follow_an_independent_computation(data, farm_rects, sliver_m2):
    towns, red, boundary = data
    farm = _rects_layer(farm_rects, "F")
    result = tz.controllines.check(towns, red_line=red, farmland=farm, urban_boundary=boundary, sliver_m2=sliver_m2)
    s = result.summary
    geoms = towns.geometry.to_numpy()
    area = shapely.area(geoms)
    figures = {
        "red_line": shapely.area(shapely.intersection(geoms, shapely.union_all(red.geometry.to_numpy()))),
        "farmland": shapely.area(shapely.intersection(geoms, shapely.union_all(farm.geometry.to_numpy()))),
        "outside_boundary": shapely.area(shapely.difference(geoms, shapely.union_all(boundary.geometry.to_numpy()))),
    }
    for line, m2 in figures.items():
        assert s[f"{line}_m2"].to_numpy() == pytest.approx(m2, abs=1e-6)
        assert s[f"{line}_share"].to_numpy() == pytest.approx(m2 / area, abs=1e-9)
        assert ((s[f"{line}_share"] >= 0) & (s[f"{line}_share"] <= 1 + 1e-12)).all()
        assert s[f"{line}_mu"].to_numpy() == pytest.approx(m2 * 15 / 10_000, abs=1e-6)  # 1 亩 = 10000/15 m²
    worst = np.max(np.stack(list(figures.values())), axis=0)
    expected = np.where(worst <= 1e-6, "pass", np.where(worst <= sliver_m2, "review", "conflict"))
    assert s["verdict"].tolist() == expected.tolist()
    # a patch at or below the tolerance is a sliver, never a conflict item
    for column, rows in (("n_conflicts", ~result.conflicts["sliver"]), ("n_slivers", result.conflicts["sliver"])):
        counted = result.conflicts[rows].groupby("town_id").size().reindex(s.index, fill_value=0)
        assert s[column].tolist() == counted.tolist()
    assert (result.conflicts["sliver"] == (result.conflicts["area_m2"] <= sliver_m2)).all()
    assert (shapely.get_num_geometries(result.conflicts.geometry.to_numpy()) == 1).all()  # one patch a row


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_scenes())
def test_properties(data):
    towns, red, boundary = data
    result = tz.controllines.check(towns, red_line=red, urban_boundary=boundary)
    s = result.summary
    for col in ("red_line_share", "outside_boundary_share"):
        assert ((s[col] >= 0) & (s[col] <= 1 + 1e-12)).all()
    # inside + outside = whole
    assert (s["inside_boundary_m2"] + s["outside_boundary_m2"]).to_numpy() == pytest.approx(
        s["area_m2"].to_numpy(), rel=1e-6, abs=1e-6
    )
    # per-source sum >= union figure; union figure = independent shapely computation
    per_source = (
        result.conflicts[result.conflicts["line"] == "red_line"].groupby("town_id")["area_m2"].sum().reindex(s.index)
    )
    assert (per_source.fillna(0.0) >= s["red_line_m2"] - 1e-6).all()
    whole = shapely.union_all(red.geometry.to_numpy())
    oracle = shapely.area(shapely.intersection(towns.geometry.to_numpy(), whole)) if len(red) else 0.0
    assert s["red_line_m2"].to_numpy() == pytest.approx(oracle, abs=1e-6)
    outside = shapely.area(shapely.difference(towns.geometry.to_numpy(), shapely.union_all(boundary.geometry.values)))
    assert s["outside_boundary_m2"].to_numpy() == pytest.approx(outside, abs=1e-6)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_scenes(), st.integers(-200_000, 200_000), st.integers(-200_000, 200_000))
def test_translation_changes_nothing(data, dx, dy):
    towns, red, boundary = data

    def moved(gdf):
        out = gdf.copy()
        out["geometry"] = [translate(g, dx, dy) for g in gdf.geometry]
        return out

    a = tz.controllines.check(towns, red_line=red, urban_boundary=boundary)
    b = tz.controllines.check(moved(towns), red_line=moved(red), urban_boundary=moved(boundary))
    pd.testing.assert_frame_equal(a.summary, b.summary, rtol=1e-9, atol=1e-6)
    cols = ["town_id", "line", "source_id", "area_m2", "sliver"]
    pd.testing.assert_frame_equal(a.conflicts[cols], b.conflicts[cols], rtol=1e-9, atol=1e-6)


# --------------------------------------------------------------------------------------------
# Real data (skipped when ../shared/data is absent)
# --------------------------------------------------------------------------------------------


@pytest.mark.shared_data
def test_real_osm_town_parcels(shared_data):
    parcels = gpd.read_file(shared_data("hangzhou/hangzhou_tezhen_osm_parcels.geojson"))
    landuse = gpd.read_file(shared_data("hangzhou/hangzhou_osm_landuse.gpkg"))
    red = landuse[landuse["fclass"].isin(["nature_reserve", "forest"])]
    farm = landuse[landuse["fclass"].isin(["farm", "farmland"])]
    built = landuse[landuse["fclass"].isin(["residential", "industrial", "commercial", "retail"])]
    assert len(red) and len(farm)
    parcels["osm_id"] = parcels["osm_id"].astype(str)
    result = tz.controllines.check(parcels, red_line=red, farmland=farm, urban_boundary=built, id_col="osm_id")
    assert (result.summary["red_line_m2"] > 0).any()  # the proxies do meet the parcels
    s = result.summary
    assert list(s.index) == parcels["osm_id"].tolist()
    assert result.crs.to_epsg() == 4549
    # independent computation: reproject with geopandas, union each layer (rows in the parcels'
    # bounding box, picked with .cx), intersect
    metric = parcels.to_crs(4549).geometry.make_valid().to_numpy()
    minx, miny, maxx, maxy = parcels.total_bounds
    red, farm, built = (layer.cx[minx:maxx, miny:maxy] for layer in (red, farm, built))
    for layer, col in ((red, "red_line_m2"), (farm, "farmland_m2")):
        whole = shapely.union_all(layer.to_crs(4549).geometry.make_valid().to_numpy())
        assert s[col].to_numpy() == pytest.approx(shapely.area(shapely.intersection(metric, whole)), rel=1e-6, abs=1e-3)
    whole = shapely.union_all(built.to_crs(4549).geometry.make_valid().to_numpy())
    outside = shapely.area(shapely.difference(metric, whole))
    assert s["outside_boundary_m2"].to_numpy() == pytest.approx(outside, rel=1e-6, abs=1e-3)
    assert s["area_m2"].to_numpy() == pytest.approx(shapely.area(metric), rel=1e-9)
    assert (s["inside_boundary_m2"] + s["outside_boundary_m2"]).to_numpy() == pytest.approx(
        s["area_m2"].to_numpy(), rel=1e-6
    )
    assert set(s["verdict"]) <= {"pass", "review", "conflict"}


def test_progress_bar_goes_to_stderr_and_changes_nothing(scene, capsys):
    parcels = pd.concat([scene.parcels] * 3, ignore_index=True)
    parcels["parcel_id"] = [f"{p}_{i}" for i, p in enumerate(parcels["parcel_id"])]
    quiet = tz.controllines.check(parcels, id_col="parcel_id", **_lines(scene))
    shown = tz.controllines.check(parcels, id_col="parcel_id", progress=True, **_lines(scene))
    captured = capsys.readouterr()
    assert "control lines" in captured.err and captured.out == ""
    pd.testing.assert_frame_equal(quiet.summary, shown.summary)
    pd.testing.assert_frame_equal(quiet.conflicts, shown.conflicts)


# --------------------------------------------------------------------------------------------
# Union only what overlaps (issue 18): same figures as a plain shapely union
# --------------------------------------------------------------------------------------------


@st.composite
def _patch_layers(draw):
    """Patches a planner meets: a tiling of touching 图斑, some digitised twice, some shifted copies."""
    cols, rows = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    size = draw(st.sampled_from([37.0, 100.0, 250.0]))
    tiles = [_local_box(i * size, j * size, (i + 1) * size, (j + 1) * size) for i in range(cols) for j in range(rows)]
    twice = draw(st.lists(st.integers(0, len(tiles) - 1), max_size=4))
    shifted = draw(
        st.lists(st.tuples(st.integers(0, len(tiles) - 1), st.floats(-0.9, 0.9), st.floats(-0.9, 0.9)), max_size=4)
    )
    rotated = draw(st.lists(st.tuples(st.floats(0, 5 * size), st.floats(0, 5 * size), st.floats(0, 90)), max_size=3))
    geoms = list(tiles) + [tiles[i] for i in twice]
    geoms += [translate(tiles[i], dx * size, dy * size) for i, dx, dy in shifted]
    geoms += [shapely.affinity.rotate(_local_box(x, y, x + size, y + 0.6 * size), angle) for x, y, angle in rotated]
    towns = draw(st.lists(st.tuples(st.floats(0, 4 * size), st.floats(0, 4 * size), st.floats(size / 3, 3 * size))))
    towns = towns or [(0.0, 0.0, size)]
    town_geoms = [_local_box(x, y, x + w, y + 0.8 * w) for x, y, w in towns]
    return _layer(town_geoms, [f"T{i}" for i in range(len(town_geoms))], id_name="town_id"), _layer(geoms)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_patch_layers())
def test_union_of_overlapping_patches_only_equals_a_plain_shapely_union(data):
    towns, patches = data
    result = tz.controllines.check(towns, farmland=patches, red_line=patches.iloc[::-1])
    whole = shapely.union_all(patches.geometry.to_numpy())
    oracle = shapely.area(shapely.intersection(towns.geometry.to_numpy(), whole))
    for column in ("farmland_m2", "red_line_m2"):
        assert result.summary[column].to_numpy() == pytest.approx(oracle, abs=0.01)
    # every source's pieces are kept: their sum is at least the union
    per_source = result.conflicts[result.conflicts["line"] == "farmland"].groupby("town_id")["area_m2"].sum()
    assert (per_source.reindex(result.summary.index, fill_value=0.0) >= oracle - 0.01).all()


def test_overlap_clusters_touching_is_not_overlapping():
    from tongzhen_gis._overlay import overlap_clusters, union_area_per_key

    a, b, c = box(0, 0, 10, 10), box(10, 0, 20, 10), box(5, 5, 15, 15)  # a, b touch; c overlaps both
    geoms = np.array([a, b, box(30, 0, 40, 10), c, box(30, 0, 40, 10)], dtype=object)
    keys = np.array([0, 0, 0, 1, 1])
    labels = overlap_clusters(geoms, keys)
    assert (labels == -1).all()  # a and b only touch; c and the duplicate belong to another key
    keys = np.zeros(5, dtype=int)
    labels = overlap_clusters(geoms, keys)
    assert labels[0] == labels[1] == labels[3] >= 0  # a-c-b chained through c
    assert labels[2] == labels[4] >= 0 and labels[2] != labels[0]  # the duplicate pair
    # union: a ∪ b = 200, c adds 50 (its part above y=10); the duplicate counts once
    assert union_area_per_key(geoms, keys, 1).tolist() == pytest.approx([250.0 + 100.0])


def test_a_patch_below_the_tolerance_is_a_sliver_in_every_table():
    town = _layer([_local_box(0, 0, 100, 100)], ["T1"], id_name="town_id")
    # one farmland polygon meets the town in two patches: 50 m² and 0.5 m²
    farm = _layer([shapely.union(_local_box(-10, 0, 5, 10), _local_box(99.5, 0, 110, 1))], ["F1"])
    result = tz.controllines.check(town, farmland=farm, sliver_m2=1.0)
    c = result.conflicts.sort_values("area_m2", ascending=False)
    assert c["area_m2"].tolist() == pytest.approx([50.0, 0.5])
    assert c["sliver"].tolist() == [False, True]
    assert c["source_id"].tolist() == ["F1", "F1"]
    s = result.summary.loc["T1"]
    assert (s["n_conflicts"], s["n_slivers"], s["farmland_m2"], s["verdict"]) == (1, 1, pytest.approx(50.5), "conflict")
    # alone, the small patch gives review, counted as a sliver, never as a conflict item
    alone = tz.controllines.check(town, farmland=_layer([_local_box(99.5, 0, 110, 1)], ["F2"]), sliver_m2=1.0)
    assert alone.summary.loc["T1", ["n_conflicts", "n_slivers", "verdict"]].tolist() == [0, 1, "review"]


def test_source_id_is_the_polygons_own_id():
    town = _layer([_local_box(0, 0, 100, 100)], ["T1"], id_name="town_id")
    geoms = [_local_box(-10, 0, 5, 10), _local_box(50, 50, 60, 60)]
    osm = gpd.GeoDataFrame({"osm_id": ["w123", "w456"], "TBBH": ["A-1", "A-2"]}, geometry=geoms, crs=tz.samples.CRS)
    osm.index = [7, 9]  # rows left after reading: the row index is not an id
    assert tz.controllines.check(town, farmland=osm).conflicts["source_id"].tolist() == ["w123", "w456"]
    named = tz.controllines.check(town, farmland=osm, source_id_col={"farmland": "TBBH"})
    assert named.conflicts["source_id"].tolist() == ["A-1", "A-2"]
    bare = tz.controllines.check(town, farmland=osm[["geometry"]])
    assert bare.conflicts["source_id"].tolist() == ["7", "9"]
    assert bare.repairs["issue"].str.contains("no id column").any()
    with pytest.raises(SchemaError, match=r"farmland has no column 'BSM'") as info:
        tz.controllines.check(town, farmland=osm, source_id_col="BSM")
    assert info.value.param == "source_id_col"


def test_the_map_legend_counts_the_same_slivers_as_the_tables():
    import matplotlib.pyplot as plt

    town = _layer([_local_box(0, 0, 100, 100)], ["T1"], id_name="town_id")
    farm = _layer([shapely.union(_local_box(-10, 0, 5, 10), _local_box(99.5, 0, 110, 1))], ["F1"])
    result = tz.controllines.check(town, farmland=farm, sliver_m2=1.0)
    fig, ax = tz.maps.control_lines_map(town, farmland=farm, conflicts=result.conflicts, label_col=None)
    try:
        legend = [t.get_text() for t in ax.get_legend().get_texts()] if ax.get_legend() else []
        legend += [t.get_text() for lg in fig.legends for t in lg.get_texts()]
        notes = [t.get_text() for t in (*fig.texts, *ax.texts)]
    finally:
        plt.close(fig)
    assert any(f"{result.summary.loc['T1', 'n_slivers']} 处" in t and "微小重叠" in t for t in legend)
    assert not any("碎片" in t for t in notes)  # no second count of the same crumbs in the map note
