"""The sample town holds what its docstring says, checked with plain shapely on hand numbers."""

from __future__ import annotations

import numpy as np
import pyogrio
import pytest
import shapely
from shapely import box

import tongzhen_gis as tz
from tongzhen_gis.samples import ORIGIN


def local(geom):
    return shapely.affinity.translate(geom, -ORIGIN[0], -ORIGIN[1])


def by_id(gdf, col):
    return {k: local(g) for k, g in zip(gdf[col], gdf.geometry, strict=True)}


def test_crs_and_location(scene):
    for name, gdf in scene.layers().items():
        assert gdf.crs.to_epsg() == 4549, name
    lonlat = scene.towns.geometry.centroid.to_crs(4326).iloc[0]
    assert 120.0 < lonlat.x < 120.4
    assert 30.1 < lonlat.y < 30.4


def test_town_areas(scene):
    towns = by_id(scene.towns, "town_id")
    assert {k: g.area for k, g in towns.items()} == {"T1": 1_000_000.0, "T2": 1_000_000.0, "T3": 1_200_000.0}
    assert towns["T1"].equals(box(0, 0, 1000, 1000))


@pytest.mark.parametrize(
    ("town", "red_m2", "farm_m2", "outside_m2"),
    [("T1", 0.0, 0.0, 0.0), ("T2", 100_000.0, 0.0, 100_000.0), ("T3", 0.0, 120_000.0, 300_000.0)],
)
def test_control_line_figures_by_hand(scene, town, red_m2, farm_m2, outside_m2):
    geom = scene.towns.set_index("town_id").geometry[town]
    assert geom.intersection(scene.red_line.union_all()).area == pytest.approx(red_m2)
    assert geom.intersection(scene.farmland.union_all()).area == pytest.approx(farm_m2)
    assert geom.difference(scene.urban_boundary.union_all()).area == pytest.approx(outside_m2)


def test_overlapping_sources_are_there(scene):
    red = by_id(scene.red_line, "BSM")
    t2 = box(1500, 0, 2500, 1000)
    assert red["STBHHX001"].intersection(t2).area == 100_000
    assert red["STBHHX002"].intersection(t2).area == 25_000
    farm = by_id(scene.farmland, "BSM")
    t3 = box(3000, 0, 4200, 1000)
    assert farm["YJJBNT001"].intersection(t3).area == 120_000
    assert farm["YJJBNT004"].intersection(t3).area == 30_000
    assert scene.red_line.geom_type.tolist().count("MultiPolygon") == 1


def test_urban_boundary_is_multipart_with_a_hole(scene):
    (boundary,) = scene.urban_boundary.geometry
    assert boundary.geom_type == "MultiPolygon"
    assert sum(len(p.interiors) for p in boundary.geoms) == 1
    # control lines must not overlap each other (厅字〔2019〕48号)
    assert boundary.intersection(scene.red_line.union_all()).area == 0
    assert boundary.intersection(scene.farmland.union_all()).area == 0


@pytest.mark.parametrize(
    ("town", "expected"),
    [
        ("T1", {"0701": 200_000, "1001": 300_000, "0901": 150_000, "1401": 350_000}),
        ("T2", {"0701": 500_000, "0901": 400_000, "0301": 100_000}),
        ("T3", {"1001": 900_000, "1101": 120_000, "0101": 180_000}),
    ],
)
def test_parcel_areas_in_town(scene, town, expected):
    geom = scene.towns.set_index("town_id").geometry[town]
    inside = scene.parcels.assign(area=scene.parcels.intersection(geom).area)
    got = inside[inside["area"] > 0].groupby("landuse_code")["area"].sum().to_dict()
    assert got == pytest.approx(expected)


def test_building_figures_by_hand(scene):
    towns = scene.towns.set_index("town_id").geometry
    b = scene.buildings
    for town, footprint, floor_area in [("T1", 82_400, 310_000), ("T2", 70_000, 700_000), ("T3", 100_000, None)]:
        part = b.intersection(towns[town]).area
        assert part.sum() == pytest.approx(footprint)
        if floor_area is not None:
            assert (part * b["floors"]).sum() == pytest.approx(floor_area)  # NaN floors are skipped by sum
    assert b["floors"].isna().sum() == 2
    assert (b["floors"].isna() & b["height_m"].isna()).sum() == 1


def test_enterprise_totals(scene):
    totals = scene.enterprises.groupby("town_id")[["tax_wan", "investment_wan", "jobs"]].sum()
    assert totals.loc["T1"].tolist() == [30_000, 450_000, 6_000]
    assert totals.loc["T2"].tolist() == [8_100, 270_000, 1_500]
    assert "T3" not in totals.index
    mu_t1 = 1_000_000 / tz.units.M2_PER_MU
    assert totals.loc["T1", "tax_wan"] / mu_t1 == pytest.approx(20.0)


def test_roads_river_and_bridges(scene):
    roads = scene.roads
    river = scene.water.geometry.iloc[0]
    crossing = roads[roads.intersects(river)]
    assert set(crossing["fclass"]) == {"secondary", "motorway"}
    assert (crossing["bridge"] == "T").all()
    assert len(crossing[crossing["fclass"] != "motorway"]) == 2


def test_homes_and_walking_legs(scene):
    homes = scene.homes
    assert len(homes) == 53
    assert homes.loc[homes["town_id"] == "T1", "population"].sum() == 4 * (100 + 150 + 200 + 250)
    walkable = scene.roads[scene.roads["fclass"] != "motorway"].union_all()
    legs = homes.distance(walkable)
    farm = homes["home_id"] == "H_FARM"
    assert legs[~farm].max() == pytest.approx(50.0)
    assert legs[farm].iloc[0] == pytest.approx(250.0)
    fac_legs = scene.facilities.distance(walkable)
    assert np.allclose(fac_legs, 12.0)


def test_t3_has_no_kindergarten(scene):
    f = scene.facilities
    assert set(f.loc[f.town_id == "T1", "category"]) == set(tz.rules.load("facilities")["category"])
    assert "kindergarten" not in set(f.loc[f.town_id == "T3", "category"])


def test_landcover_shares_by_hand(scene):
    lc = scene.landcover
    assert lc.cell_area_m2 == 100.0
    assert lc.shape == (180, 500)
    # T1 = local 0-1000 x 0-1000; raster starts at local (-200, 1600) top-left
    col0, row0 = 20, 60  # (0 - -200)/10, (1600 - 1000)/10
    t1 = lc.array[row0 : row0 + 100, col0 : col0 + 100]
    values, counts = np.unique(t1, return_counts=True)
    assert dict(zip(values.tolist(), (counts / counts.sum()).tolist(), strict=True)) == {1: 0.65, 2: 0.35}


def test_seed_changes_population_only():
    a, b = tz.samples.sample_town(0), tz.samples.sample_town(7)
    assert a.homes.geometry.equals(b.homes.geometry)
    assert not a.homes["population"].equals(b.homes["population"])
    assert a.parcels.equals(b.parcels)


def test_write_scene_round_trip(scene, tmp_path):
    written = tz.samples.write_scene(scene, tmp_path)
    layers = {name for name, _ in pyogrio.list_layers(written["gpkg"])}
    assert layers == set(scene.layers())
    towns = tz.io.read_layer(written["gpkg"], layer="towns")
    assert towns["name_zh"].tolist() == scene.towns["name_zh"].tolist()
    lc = tz.io.read_raster(written["landcover"])
    assert np.array_equal(lc.array, scene.landcover.array)
    assert written["enterprises"].read_bytes().startswith(b"\xef\xbb\xbf")
