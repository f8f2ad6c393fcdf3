"""Coordinates that lie about their CRS (issue 11): zone prefix, swapped axes, NaN, absurd values.

Every file is built in the test with pyogrio; the expected CRS codes follow from the EPSG
definitions (CGCS2000 3-degree Gauss-Krüger: EPSG:4513–4533 with the zone number in front of X,
4534–4554 without), the expected areas from the boxes drawn by hand.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

import tongzhen_gis as tz
from tongzhen_gis.cli import main
from tongzhen_gis.errors import CRSError, InputFileError

# Three towns near Hangzhou (CM 120E), 100 m × 50 / 100 / 150 m: areas 5 000, 10 000, 15 000 m².
X0, Y0 = 520_000.0, 3_350_000.0
AREAS_M2 = [5_000.0, 10_000.0, 15_000.0]


def towns_gk(*, prefix: bool = False) -> gpd.GeoDataFrame:
    dx = 40_000_000.0 if prefix else 0.0
    boxes = [shapely.box(X0 + dx + 300 * i, Y0, X0 + dx + 300 * i + 100, Y0 + 50 * (i + 1)) for i in range(3)]
    return gpd.GeoDataFrame({"town_id": ["T1", "T2", "T3"]}, geometry=boxes, crs=4528 if prefix else 4549)


def write(gdf: gpd.GeoDataFrame, path, *, crs=None) -> object:
    """Write with pyogrio; ``crs=False`` writes no CRS (a shapefile without .prj)."""
    if crs is False:
        out = gpd.GeoDataFrame(gdf.drop(columns="geometry"), geometry=list(gdf.geometry), crs=None)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "'crs' was not provided", UserWarning)
            pyogrio.write_dataframe(out, path)
        return path
    pyogrio.write_dataframe(gdf if crs is None else gdf.set_crs(crs, allow_override=True), path)
    return path


def nan_polygon() -> shapely.Polygon:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "invalid value encountered", RuntimeWarning)
        return shapely.Polygon([(X0, Y0), (np.nan, Y0), (X0 + 10, Y0 + 10)])


def run(args: list[str]) -> int:
    try:
        main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


# --- the pure functions in tz.crs -----------------------------------------------------------


def test_zone_prefix_is_named_from_the_first_two_digits_of_x():
    d = tz.crs.diagnose_coordinates((40_520_000, 3_350_000, 40_521_000, 3_351_000), "EPSG:4549")
    assert (d.crs, d.param) == ("EPSG:4528", "crs")  # zone 40 with prefix
    assert "zone number 40" in d.text
    d = tz.crs.diagnose_coordinates((39_400_000, 3_350_000, 39_401_000, 3_351_000), "EPSG:4549")
    assert d.crs == "EPSG:4527"  # zone 39 (CM 117E), 4513 + 39 - 25


def test_prefix_label_without_prefix_in_x_names_the_same_meridian_without_prefix():
    d = tz.crs.diagnose_coordinates((520_000, 3_350_000, 521_000, 3_351_000), "EPSG:4528")
    assert d.crs == "EPSG:4549"  # CM 120E, like zone 40
    d = tz.crs.diagnose_coordinates((520_000, 3_350_000, 521_000, 3_351_000), "EPSG:4527")
    assert d.crs == "EPSG:4548"  # CM 117E, like zone 39


def test_swapped_axes_are_recognised_in_degrees_and_in_metres():
    d = tz.crs.diagnose_coordinates((30.2, 120.1, 30.3, 120.2), "EPSG:4326")
    assert d.param == "swap_xy" and "latitude before longitude" in d.text
    d = tz.crs.diagnose_coordinates((3_350_000, 520_000, 3_351_000, 521_000), "EPSG:4549")
    assert d.param == "swap_xy" and "northing" in d.text


def test_nothing_fits_gives_no_fix():
    d = tz.crs.diagnose_coordinates((1e12, 1e12, 1e12 + 1, 1e12 + 1), "EPSG:4549")
    assert d.param is None and d.crs is None and "fit no CRS" in d.text


def test_outside_area_of_use_is_per_feature():
    pts = gpd.GeoSeries([*shapely.points([(X0, Y0), (X0 + 40e6, Y0), (1e12, 1e12), (Y0, X0)]).tolist(), None], crs=4549)
    assert tz.crs.outside_area_of_use(pts).tolist() == [False, True, True, True, False]


def test_nonfinite_coordinates():
    geoms = np.array(
        [shapely.Point(1, 2), shapely.Point(np.nan, 2), shapely.LineString([(0, 0), (np.inf, 1)]), None],
        dtype=object,
    )
    assert tz.crs.nonfinite_coordinates(geoms).tolist() == [False, True, True, False]


def test_suggest_crs_for_a_file_without_one():
    assert tz.crs.suggest_crs(towns_gk(prefix=True).geometry).crs == "EPSG:4528"
    assert tz.crs.suggest_crs(towns_gk().geometry).crs == "EPSG:4549"
    assert tz.crs.suggest_crs(towns_gk().to_crs(4326).geometry).crs == "EPSG:4490"


@settings(max_examples=40, deadline=None)
@given(
    lon=st.floats(118.6, 121.4),
    lat=st.floats(24.5, 53.0),
)
def test_a_point_inside_the_zone_is_inside_and_its_swap_is_not(lon, lat):
    point = gpd.GeoSeries.from_xy([lon], [lat], crs=4490).to_crs(4549)
    assert not tz.crs.outside_area_of_use(point).any()
    swapped = gpd.GeoSeries.from_xy(point.y, point.x, crs=4549)
    assert tz.crs.outside_area_of_use(swapped).all()
    # and swapping twice is the identity
    twice = tz.crs.swap_xy(tz.crs.swap_xy(gpd.GeoDataFrame(geometry=point)))
    assert twice.geometry.iloc[0].equals(point.iloc[0])


# --- read_layer ----------------------------------------------------------------------------


def test_zone_prefixed_x_labelled_without_prefix_is_refused_naming_the_code(tmp_path):
    path = write(towns_gk(prefix=True), tmp_path / "towns.gpkg", crs=4549)
    with pytest.raises(CRSError, match=r"EPSG:4528.*crs='EPSG:4528'") as info:
        tz.io.read_layer(path)
    assert info.value.param == "crs" and info.value.suggested == "EPSG:4528"
    read = tz.io.read_layer(path, crs="EPSG:4528")  # the declaration replaces the lying label
    assert read.crs.to_epsg() == 4528
    assert tz.crs.to_metric(read).area.tolist() == pytest.approx(AREAS_M2)


def test_no_prj_hint_suggests_the_code_that_fits(tmp_path):
    prefixed = write(towns_gk(prefix=True), tmp_path / "prefixed.shp", crs=False)
    with pytest.raises(CRSError, match=r"no coordinate reference system.*zone number 40.*crs='EPSG:4528'") as info:
        tz.io.read_layer(prefixed)
    assert info.value.suggested == "EPSG:4528"
    lonlat = write(towns_gk().to_crs(4326), tmp_path / "lonlat.shp", crs=False)
    with pytest.raises(CRSError, match=r"longitude/latitude.*crs='EPSG:4490'"):
        tz.io.read_layer(lonlat)
    assert tz.crs.to_metric(tz.io.read_layer(prefixed, crs="EPSG:4528")).area.tolist() == pytest.approx(AREAS_M2)


def test_lat_lon_file_is_refused_then_read_with_swap_xy(tmp_path):
    towns = towns_gk().to_crs(4326)
    path = write(tz.crs.swap_xy(towns), tmp_path / "latlon.gpkg")
    with pytest.raises(CRSError, match=r"swapped \(latitude before longitude\).*swap_xy=True") as info:
        tz.io.read_layer(path)
    assert info.value.param == "swap_xy"
    read = tz.io.read_layer(path, swap_xy=True)
    assert read.attrs["swap_xy"] is True
    assert tz.crs.to_metric(read, crs=4549).area.tolist() == pytest.approx(AREAS_M2, rel=1e-6)


def test_northing_first_file_is_refused_then_read_with_swap_xy(tmp_path):
    path = write(tz.crs.swap_xy(towns_gk()), tmp_path / "ne.gpkg")
    with pytest.raises(CRSError, match="northing") as info:
        tz.io.read_layer(path)
    assert info.value.param == "swap_xy"
    assert tz.io.read_layer(path, swap_xy=True).area.tolist() == pytest.approx(AREAS_M2)


def test_nan_and_absurd_features_are_set_aside_and_reported(tmp_path):
    towns = towns_gk()
    towns.loc[1, "geometry"] = nan_polygon()
    towns.loc[2, "geometry"] = shapely.box(1e12, 1e12, 1e12 + 100, 1e12 + 100)
    path = write(towns, tmp_path / "bad.gpkg")
    read = tz.io.read_layer(path)
    assert read.index.tolist() == [0]
    assert read.attrs["repairs"]["nonfinite_index"] == [1]
    assert read.attrs["repairs"]["outside_area_of_use_index"] == [2]
    kept = tz.io.read_layer(path, drop_empty=False)
    assert kept.geometry.isna().tolist() == [False, True, True]
    assert kept.attrs["repairs"]["empty_kept"] == 0  # set aside, not empty in the file


def test_a_layer_of_only_nan_coordinates_is_refused(tmp_path):
    towns = towns_gk()
    towns["geometry"] = [nan_polygon()] * 3  # (a NaN point is an empty point in WKB)
    with pytest.raises(InputFileError, match="NaN or infinite"):
        tz.io.read_layer(write(towns, tmp_path / "nan.gpkg"))


# --- command line and project.toml --------------------------------------------------------------


def lines(tmp_path):
    red = gpd.GeoDataFrame(geometry=[shapely.box(X0 + 50, Y0, X0 + 150, Y0 + 25)], crs=4549)
    return write(red, tmp_path / "red.gpkg")


def test_check_lines_names_the_prefix_code_in_its_fix(tmp_path, capsys):
    towns = write(towns_gk(prefix=True), tmp_path / "towns.gpkg", crs=4549)
    code = run(["check-lines", str(towns), "--red-line", str(lines(tmp_path)), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2
    assert "EPSG:4528" in err and err.strip().endswith("--crs features=EPSG:4528")


def test_check_lines_swap_xy_and_nan_rows(tmp_path, capsys):
    towns = towns_gk()
    towns.loc[2, "geometry"] = nan_polygon()
    path = write(tz.crs.swap_xy(towns), tmp_path / "ne.gpkg")
    args = ["check-lines", str(path), "--red-line", str(lines(tmp_path)), "--out", str(tmp_path / "o")]
    assert run(args) == 2
    assert "--swap-xy features" in capsys.readouterr().err
    assert run([*args, "--swap-xy", "features"]) == 1
    out = capsys.readouterr()
    summary = tz.io.read_table(tmp_path / "o" / "summary.csv").set_index("town_id")
    # T1 overlaps the red line by 50 m × 25 m (by hand); T3 had a NaN vertex: unchecked, not dropped
    assert summary.loc["T1", "red_line_m2"] == pytest.approx(1_250.0)
    assert summary.loc["T3", "verdict"] == "unchecked"
    assert "NaN or infinite coordinate" in out.err


def test_report_reads_swap_xy_from_project_toml(tmp_path):
    cfg = tz.report.parse_config(
        '[towns]\npath = "t.gpkg"\nswap_xy = true\n[control_lines]\nred_line = { path = "r.gpkg", swap_xy = true }\n',
        base_dir=tmp_path,
    )
    assert cfg.get("towns", "swap_xy") is True and cfg.get("control_lines", "red_line").swap_xy is True
    with pytest.raises(tz.errors.SchemaError, match="true or false"):
        tz.report.parse_config('[towns]\npath = "t.gpkg"\nswap_xy = "yes"\n', base_dir=tmp_path)


def test_report_reads_northing_first_towns_with_swap_xy(tmp_path):
    write(tz.crs.swap_xy(towns_gk()), tmp_path / "towns.gpkg")
    red = gpd.GeoDataFrame(geometry=[shapely.box(X0 + 50, Y0, X0 + 150, Y0 + 25)], crs=4549)
    write(red, tmp_path / "red.gpkg")
    text = '[towns]\npath = "towns.gpkg"\n{}[control_lines]\nred_line = "red.gpkg"\n[maps]\nenabled = false\n'
    with pytest.raises(CRSError, match=r"northing.*in project.toml exchange X and Y in \[towns\]: swap_xy = true"):
        tz.report.run_analyses(tz.report.parse_config(text.format(""), base_dir=tmp_path), [])
    config = tz.report.parse_config(text.format("swap_xy = true\n"), base_dir=tmp_path)
    run = tz.report.run_analyses(config, [])
    # T1 overlaps the red line by 50 m × 25 m (by hand)
    assert run.lines.check.summary.loc["T1", "red_line_m2"] == pytest.approx(1_250.0)
