"""Inputs that lie (issue 11): undeclared GCJ-02, points or lines given as polygons, collection parts,
all-nodata rasters, and the crashes found (report with lon/lat towns, zonal given a path).

Files are built in the test; expected figures are worked out by hand in the comments.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import rasterio
import shapely
from affine import Affine
from pyproj import CRS

import tongzhen_gis as tz
from tongzhen_gis.cli import main
from tongzhen_gis.errors import OptionError, SchemaError

X0, Y0 = 520_000.0, 3_350_000.0


def run(args: list[str]) -> int:
    try:
        main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def towns() -> gpd.GeoDataFrame:
    boxes = [shapely.box(X0 + 300 * i, Y0, X0 + 300 * i + 100, Y0 + 100) for i in range(2)]
    return gpd.GeoDataFrame({"town_id": ["T1", "T2"]}, geometry=boxes, crs=4549)


def red_line() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=[shapely.box(X0 + 50, Y0, X0 + 150, Y0 + 20)], crs=4549)


# --- undeclared GCJ-02 --------------------------------------------------------------------------


def test_check_lines_notes_lonlat_features_without_a_declaration(tmp_path, capsys):
    feats = tmp_path / "t.gpkg"
    pyogrio.write_dataframe(towns().to_crs(4326), feats)
    red = tmp_path / "r.gpkg"
    pyogrio.write_dataframe(red_line(), red)
    args = ["check-lines", str(feats), "--red-line", str(red), "--out", str(tmp_path / "o")]
    assert run(args) == 1  # T1 overlaps the red line by 50 m × 20 m
    err = capsys.readouterr().err
    assert "features is longitude/latitude without a declaration, checked against red_line in a survey CRS" in err
    assert "--coord-system features=gcj02" in err and "--coord-system features=wgs84" in err
    assert run([*args, "--coord-system", "features=wgs84"]) == 1
    assert "without a declaration" not in capsys.readouterr().err  # the declaration silences it


def test_gcj02_towns_are_suspected_against_the_roads_and_true_wgs84_are_not(scene):
    wgs = scene.towns.to_crs(4326)
    gcj = tz.webmap.convert_coord_system(wgs, "wgs84", target="gcj02")
    gcj.attrs["coord_system_declared"] = wgs.attrs["coord_system_declared"] = None
    against = {"red_line": scene.red_line}
    note = tz.webmap.undeclared_gcj02_note(gcj, what="towns", checked_against=against, reference=scene.roads)
    assert note is not None and "looks like GCJ-02" in note and "coord_system='gcj02'" in note
    # the sample towns' edges follow its streets: as given (true WGS84) they lie on them, no note
    assert tz.webmap.undeclared_gcj02_note(wgs, what="towns", checked_against=against, reference=scene.roads) is None
    # declared or projected layers are never noted
    wgs.attrs["coord_system_declared"] = "wgs84"
    assert tz.webmap.undeclared_gcj02_note(wgs, what="towns", checked_against=against) is None
    assert tz.webmap.undeclared_gcj02_note(scene.towns, what="towns", checked_against=against) is None


@pytest.mark.shared_data
def test_real_datav_districts_claiming_wgs84_are_flagged_against_tianditu(shared_data):
    datav = tz.io.read_layer(shared_data("hangzhou/hangzhou_districts_datav_gcj02.json"))
    tianditu = tz.io.read_layer(shared_data("hangzhou/hangzhou_districts_tianditu_wgs84.geojson"))
    assert datav.crs.to_epsg() == 4326  # the file claims WGS84
    note = tz.webmap.undeclared_gcj02_note(datav, what="districts", checked_against={}, reference=tianditu)
    assert note is not None and "looks like GCJ-02" in note
    # the official layer against itself: no sign
    assert tz.webmap.undeclared_gcj02_note(tianditu, what="d", checked_against={}, reference=tianditu) is None


# --- points or lines where polygons are required ------------------------------------------------


def test_lines_as_red_line_and_points_as_towns_exit_2_naming_layer_and_type(tmp_path, capsys):
    feats, red = tmp_path / "t.gpkg", tmp_path / "r.gpkg"
    pyogrio.write_dataframe(towns(), feats)
    pyogrio.write_dataframe(red_line().set_geometry(red_line().boundary), red)
    assert run(["check-lines", str(feats), "--red-line", str(red), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "red_line holds LineString geometries, not polygons: 1 LineString" in err
    assert err.strip().endswith("give --red-line a polygon layer")
    pts = tmp_path / "p.gpkg"
    pyogrio.write_dataframe(towns().set_geometry(towns().centroid), pts)
    pyogrio.write_dataframe(red_line(), red)
    assert run(["check-lines", str(pts), "--red-line", str(red), "--out", str(tmp_path / "o")]) == 2
    assert "features holds Point geometries, not polygons: 2 Point" in capsys.readouterr().err


def test_intensity_refuses_point_towns_with_the_keyword(scene):
    with pytest.raises(SchemaError, match="towns holds Point geometries") as info:
        tz.intensity.summarize(scene.towns.set_geometry(scene.towns.centroid), parcels=scene.parcels)
    assert info.value.param == "towns"


def test_a_mixed_layer_is_accepted_and_its_stray_line_reported(scene):
    lines = red_line()
    lines.loc[1, "geometry"] = shapely.LineString([(X0, Y0), (X0 + 10, Y0)])
    result = tz.controllines.check(towns(), red_line=lines)
    assert result.summary.loc["T1", "red_line_m2"] == pytest.approx(50 * 20)
    assert "no polygonal part (point or line)" in result.repairs["issue"].tolist()


def test_line_parts_of_a_collection_are_reported():
    feats = towns()
    square = feats.geometry[0]
    feats.loc[0, "geometry"] = shapely.GeometryCollection([square, shapely.LineString([(X0, Y0), (X0 - 50, Y0)])])
    result = tz.controllines.check(feats, red_line=red_line())
    row = result.repairs[result.repairs["issue"] == "line or point parts of a geometry collection"]
    assert row["ids"].tolist() == ["T1"] and "dropped" in row["action"].iloc[0]
    assert result.summary.loc["T1", "red_line_m2"] == pytest.approx(50 * 20)  # the polygon part still counts


def test_read_layer_reports_the_lines_make_valid_split_off(tmp_path):
    spiky = shapely.from_wkt("POLYGON ((0 0, 1 0, 1 1, 0 1, 0 0.5, -1 0.5, 0 0.5, 0 0))")
    feats = towns()
    feats.loc[1, "geometry"] = shapely.affinity.translate(spiky, X0, Y0)
    pyogrio.write_dataframe(feats, tmp_path / "s.gpkg")
    read = tz.io.read_layer(tmp_path / "s.gpkg")
    assert read.attrs["repairs"]["parts_dropped_index"] == [1]
    assert read.geometry[1].area == pytest.approx(1.0)


# --- rasters -----------------------------------------------------------------------------------


def grid(nodata_everywhere: bool = False) -> tz.raster.Raster:
    # 4 × 4 cells of 50 m over the two towns' row; value 2 everywhere (or all nodata = -1)
    array = np.full((4, 4), -1.0 if nodata_everywhere else 2.0)
    return tz.raster.Raster(array, Affine(50, 0, X0, 0, -50, Y0 + 200), CRS.from_epsg(4549), nodata=-1.0)


def test_zonal_accepts_a_path_and_an_open_dataset(tmp_path):
    path = tz.io.write_raster(grid(), tmp_path / "ndvi.tif")
    zones = towns().iloc[:1]  # T1 covers 100 m × 100 m = 4 whole cells of value 2: sum 8, count 4
    expected = tz.intensity.zonal(zones, grid())
    assert expected.loc[0, "sum"] == pytest.approx(8.0) and expected.loc[0, "count"] == pytest.approx(4.0)
    for raster in (path, str(path)):
        assert tz.intensity.zonal(zones, raster).equals(expected)
    with rasterio.open(path) as src:
        assert tz.intensity.zonal(zones, src).equals(expected)
    with pytest.raises(OptionError, match=r"raster must be a tz\.raster\.Raster") as info:
        tz.intensity.zonal(zones, np.ones((4, 4)))
    assert info.value.param == "raster"


def test_all_nodata_raster_gives_sum_0_and_a_note():
    out = tz.intensity.zonal(towns(), grid(nodata_everywhere=True))
    assert out["sum"].tolist() == [0.0, 0.0] and out["count"].tolist() == [0.0, 0.0]
    assert out["mean"].isna().all()
    assert "every cell of the raster is nodata" in out.attrs["problems"][0]


# --- report with lon/lat towns (FreeType "raster overflow" before) ------------------------------


def test_report_with_towns_in_epsg_4326_draws_every_map(tmp_path, scene):
    written = tz.samples.write_scene(scene, tmp_path)
    pyogrio.write_dataframe(scene.towns.to_crs(4326), tmp_path / "towns4326.gpkg", layer="towns")
    text = tz.report.sample_config_text(written, base_dir=tmp_path).replace(
        'path = "sample.gpkg"\nlayer = "towns"', 'path = "towns4326.gpkg"\nlayer = "towns"', 1
    )
    assert "towns4326" in text
    (tmp_path / "project.toml").write_text(text, encoding="utf-8")
    result = tz.report.build(tz.report.load_config(tmp_path / "project.toml"), tmp_path / "out")
    assert not [p for p in result.problems if "not drawn" in p]
    town_maps = [k for k in result.files if k.startswith("map:") and k.endswith(":control_lines")]
    assert len(town_maps) == len(scene.towns)


def test_a_map_extent_in_degrees_for_a_metric_map_is_refused(scene):
    with pytest.raises(SchemaError, match="does not overlap the map's data") as info:
        tz.maps.control_lines_map(scene.towns, red_line=scene.red_line, extent=(120.1, 30.2, 120.2, 30.3))
    assert info.value.param == "extent"


# --- access: a category with no facility within reach of the streets (IndexError before) ------


@pytest.mark.parametrize("polygons", [False, True])
def test_nearest_with_a_category_out_of_reach_gives_nan_and_a_note(scene, polygons):
    G = tz.network.from_lines(scene.roads)
    fac = scene.facilities.copy()
    if polygons:
        fac["geometry"] = fac.geometry.buffer(20)
    cat = fac["category"].iloc[0]
    mine = fac["category"] == cat
    away = fac.copy()
    away.loc[mine, "geometry"] = fac.loc[mine].geometry.translate(5000, 5000)  # 7 km from every street
    d = tz.access.nearest(G, scene.homes, away)
    assert d[cat].isna().all()
    assert any(cat in p and "all NaN" in p for p in d.attrs["problems"])
    # the other categories are what they are without that category at all
    without = tz.access.nearest(G, scene.homes, fac[~mine])
    others = [c for c in without.attrs["categories"] if c != cat]
    assert without[cat].isna().all()
    np.testing.assert_array_equal(d[others].to_numpy(), without[others].to_numpy())
    # a layer of only out-of-reach facilities: every column NaN, no crash
    only = tz.access.nearest(G, scene.homes, away[mine])
    assert only[cat].isna().all()


def test_access_command_with_a_category_out_of_reach_exits_1(tmp_path, scene, capsys):
    written = tz.samples.write_scene(scene, tmp_path)
    fac = scene.facilities.copy()
    cat = fac["category"].iloc[0]
    far = fac[fac["category"] == cat].copy()
    far["geometry"] = far.geometry.translate(5000, 5000)  # the only facilities given, none near a street
    pyogrio.write_dataframe(far, tmp_path / "far.gpkg")
    gpkg = str(written["gpkg"])
    code = run(
        [
            "access",
            "--roads",
            gpkg,
            "--layer",
            "roads=roads",
            "--facilities",
            str(tmp_path / "far.gpkg"),
            "--homes",
            gpkg,
            "--layer",
            "homes=homes",
            "--out",
            str(tmp_path / "o"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 1, err
    assert "internal error" not in err
