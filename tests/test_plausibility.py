"""Implausible floors, heights and FAR are flagged and not used silently.

A hand-built town: a 100 m × 100 m square, one residential parcel covering it (10 000 m² of
construction land), and 10 m × 10 m buildings (100 m² each).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

import tongzhen_gis as tz

X0, Y0 = 520_000.0, 3_350_000.0


def _town(buildings: dict) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    square = shapely.box(X0, Y0, X0 + 100, Y0 + 100)
    towns = gpd.GeoDataFrame({"town_id": ["T"]}, geometry=[square], crs=4549)
    parcels = gpd.GeoDataFrame({"landuse_code": ["0701"]}, geometry=[square], crs=4549)
    n = len(next(iter(buildings.values())))
    boxes = [shapely.box(X0 + 20 * i, Y0, X0 + 20 * i + 10, Y0 + 10) for i in range(n)]
    return towns, parcels, gpd.GeoDataFrame(buildings, geometry=boxes, crs=4549)


def test_implausible_floors_and_heights_are_named_and_not_used():
    towns, parcels, buildings = _town(
        {"floors": [5, -3, 999, 2, np.nan], "height_m": [np.nan, np.nan, 30.0, 9000.0, np.nan]}
    )
    t = tz.intensity.summarize(towns, parcels=parcels, buildings=buildings)
    # used: 5 floors; −3 not used, no height: not counted; 999 not used, 30 m → 10 floors;
    # 2 floors used (the 9 000 m height is not); the last has neither.
    assert t.loc["T", "floor_area_m2"] == pytest.approx(100 * (5 + 10 + 2))
    assert t.loc["T", "far"] == pytest.approx(1700 / 10_000)
    (implausible,) = [p for p in t.attrs["problems"] if "implausible" in p]
    assert "3 building(s)" in implausible
    assert "index 1: floors -3" in implausible and "index 2: floors 999" in implausible
    assert "index 3: height 9000 m" in implausible and "128 floors" in implausible
    (neither,) = [p for p in t.attrs["problems"] if "neither floors nor height" in p]
    assert "1 building(s)" in neither and "index [4]" in neither  # −3 floors is not "neither"


def test_floor_area_table_says_what_was_left_out():
    _, _, buildings = _town({"floors": [-3, 12, "5层", "约5层"], "height_m": [12.0, 800.0, np.nan, np.nan]})
    info = tz.intensity.building_floor_area(buildings)
    assert info["floors"].tolist()[:3] == [4.0, 12.0, 5.0]  # −3 → from 12 m; "5层" read as 5
    assert np.isnan(info["floors"].iloc[3])
    assert info["floors_from"].tolist() == ["height", "floors", "floors", "unknown"]
    assert info["implausible"].tolist() == ["floors -3", "height 800 m", "", "floors '约5层' (not a number)"]


def test_limits_come_from_the_rule_file_with_their_source():
    limits = tz.rules.load("plausibility")
    assert limits.parameter("max_floors") == 200 and limits.parameter("max_height_m") == 700
    assert "Shanghai Tower" in limits.parameters["max_floors"].document
    _, _, buildings = _town({"floors": [200, 201], "height_m": [700.0, 700.1]})
    info = tz.intensity.building_floor_area(buildings)
    assert info["implausible"].tolist() == ["", "floors 201; height 700.1 m"]


def test_a_far_above_twenty_is_kept_and_flagged():
    towns, parcels, _ = _town({"floors": [1]})
    tower = gpd.GeoDataFrame({"floors": [30]}, geometry=[towns.geometry.iloc[0]], crs=4549)
    t = tz.intensity.summarize(towns, parcels=parcels, buildings=tower)
    assert t.loc["T", "far"] == pytest.approx(30.0)
    assert any("FAR 30.00 is above the plausible 20" in p for p in t.attrs["problems"])


def test_a_far_grid_over_a_building_far_away_is_refused_not_allocated():
    _, _, buildings = _town({"floors": [3, 3]})
    far = shapely.affinity.translate(buildings.geometry.iloc[1], 1e7, 1e7)  # 10 000 km away: a wrong CRS
    buildings = buildings.set_geometry([buildings.geometry.iloc[0], far], crs=4549)
    with pytest.raises(tz.errors.OptionError, match="max_grid_cells") as info:
        tz.intensity.floor_area_grid(buildings, cell_m=10)
    assert info.value.param == "cell_m"
    grid = tz.intensity.floor_area_grid(buildings.iloc[:1], cell_m=10)  # the near one alone: one cell, FAR 3
    assert grid.array.sum() == pytest.approx(3.0)
