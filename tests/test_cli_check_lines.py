"""``tongzhen check-lines`` on the sample town written to disk: exit codes, outputs, messages.

Expected figures come from the sample town's docstring (``tongzhen_gis/samples.py``).
"""

from __future__ import annotations

import logging
import warnings

import geopandas as gpd
import pandas as pd
import pytest
import shapely

import tongzhen_gis as tz
from tongzhen_gis import cli

X0, Y0 = tz.samples.ORIGIN


def run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    return info.value.code


@pytest.fixture(scope="module")
def gpkg(tmp_path_factory):
    """The sample town written once for the module (tests only read it)."""
    return tz.samples.write_scene(tz.samples.sample_town(), tmp_path_factory.mktemp("raw"))["gpkg"]


def _args(gpkg, out, *extra, features_layer="towns"):
    g = str(gpkg)
    return [
        "check-lines",
        g,
        "--layer",
        features_layer,
        "--red-line",
        g,
        "--layer",
        "red-line=red_line",
        "--farmland",
        g,
        "--layer",
        "farmland=farmland",
        "--urban-boundary",
        g,
        "--layer",
        "urban_boundary=urban_boundary",
        "--out",
        str(out),
        *extra,
    ]


def test_sample_town_outputs(gpkg, tmp_path, capsys):
    out = tmp_path / "out"
    assert run(_args(gpkg, out)) == cli.EXIT_FINDINGS
    printed = capsys.readouterr().out
    assert "conflict" in printed and "pass 1 · review 0 · conflict 2" in printed
    raw = (out / "summary.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Excel
    summary = pd.read_csv(out / "summary.csv", encoding="utf-8-sig", index_col="town_id")
    assert summary["verdict"].to_dict() == {"T1": "pass", "T2": "conflict", "T3": "conflict"}
    assert summary.loc["T2", "red_line_m2"] == pytest.approx(100_000.0)
    assert summary.loc["T2", "outside_boundary_m2"] == pytest.approx(100_000.0)
    assert summary.loc["T3", "farmland_m2"] == pytest.approx(120_000.0)
    assert summary.loc["T3", "outside_boundary_m2"] == pytest.approx(300_000.0)
    assert summary.loc["T3", "farmland_mu"] == pytest.approx(180.0)
    assert summary.loc["T2", "red_line_mu"] == pytest.approx(150.0)
    assert summary.loc["T3", "outside_boundary_mu"] == pytest.approx(450.0)
    assert summary.loc["T2", "red_line_share"] == pytest.approx(0.10)
    assert summary.loc["T3", "outside_boundary_share"] == pytest.approx(0.25)
    assert summary["n_conflicts"].to_dict() == {"T1": 0, "T2": 3, "T3": 3}
    conflicts = gpd.read_file(out / "conflicts.gpkg", layer="conflicts")
    assert len(conflicts) == 6
    assert conflicts.crs.to_epsg() == 4549
    per_source = conflicts[conflicts["line"] == "red_line"].set_index("source_id")["area_m2"].to_dict()
    assert per_source == pytest.approx({"STBHHX001": 100_000.0, "STBHHX002": 25_000.0})
    assert (out / "repairs.csv").exists()


def test_all_pass_exits_zero(gpkg, tmp_path, capsys):
    # T1 alone passes every line
    towns = gpd.read_file(gpkg, layer="towns")
    tz.io.write_layer(towns[towns["town_id"] == "T1"], tmp_path / "t1.gpkg", layer="towns")
    args = _args(gpkg, tmp_path / "out")
    args[1] = str(tmp_path / "t1.gpkg")
    assert run(args) == cli.EXIT_CLEAN
    assert "pass 1 · review 0 · conflict 0" in capsys.readouterr().out
    assert len(gpd.read_file(tmp_path / "out" / "conflicts.gpkg", layer="conflicts")) == 0


def test_parcels_with_landuse_and_sliver_option(gpkg, tmp_path):
    out = tmp_path / "out"
    code = run(
        _args(
            gpkg,
            out,
            "--id-col",
            "parcel_id",
            "--landuse-col",
            "landuse_code",
            "--sliver-m2",
            "2",
            features_layer="parcels",
        )
    )
    assert code == cli.EXIT_FINDINGS
    summary = pd.read_csv(out / "summary.csv", encoding="utf-8-sig", index_col="parcel_id")
    assert summary.loc["R2", "verdict"] == "conflict"
    assert summary.loc["Q3", "verdict"] == "pass"  # forest in the red line is not construction
    assert summary.loc["R3", "verdict"] == "pass"  # cropland on farmland is not construction


def test_review_exits_one(scene, tmp_path, capsys):
    red = gpd.GeoDataFrame({"BSM": ["S1"]}, geometry=[shapely.box(X0 - 5, Y0 + 999.5, X0 + 1, Y0 + 1010)], crs=4549)
    tz.io.write_layer(scene.towns, tmp_path / "in.gpkg", layer="towns")
    tz.io.write_layer(red, tmp_path / "red.gpkg", layer="STBHHX")
    out = tmp_path / "out"
    args = ["check-lines", str(tmp_path / "in.gpkg"), "--red-line", str(tmp_path / "red.gpkg"), "--out", str(out)]
    assert run(args) == cli.EXIT_FINDINGS
    summary = pd.read_csv(out / "summary.csv", encoding="utf-8-sig", index_col="town_id")
    assert summary.loc["T1", "verdict"] == "review"
    assert summary.loc["T1", "red_line_m2"] == pytest.approx(0.5)
    err = capsys.readouterr().err
    assert "farmland not given" in err and "urban-boundary not given" in err


def test_gcj02_features_are_converted(scene, gpkg, tmp_path):
    """Towns digitised on an Amap base map (GCJ-02) give the sample figures once declared."""
    wgs = scene.towns.to_crs(4326)
    gcj = tz.crs.convert_coord_system(wgs, "wgs84", target="gcj02")
    tz.io.write_layer(gcj, tmp_path / "towns_gcj.geojson")
    out = tmp_path / "out"
    args = _args(gpkg, out)
    args[1], args[3] = str(tmp_path / "towns_gcj.geojson"), "features=towns_gcj"
    assert run([*args, "--coord-system", "features=gcj02"]) == cli.EXIT_FINDINGS
    summary = pd.read_csv(out / "summary.csv", encoding="utf-8-sig", index_col="town_id")
    assert summary.loc["T2", "red_line_m2"] == pytest.approx(100_000.0, rel=1e-4)
    assert summary.loc["T3", "outside_boundary_m2"] == pytest.approx(300_000.0, rel=1e-4)
    # undeclared, the ≈ 500 m offset moves every town: the figures are wrong
    assert run([*args[:-2], "--out", str(tmp_path / "wrong")]) == cli.EXIT_FINDINGS
    wrong = pd.read_csv(tmp_path / "wrong" / "summary.csv", encoding="utf-8-sig", index_col="town_id")
    assert wrong.loc["T2", "red_line_m2"] != pytest.approx(100_000.0, rel=1e-2)


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1
    return lines[0]


def test_missing_file(gpkg, tmp_path, capsys):
    args = _args(gpkg, tmp_path / "out")
    args[5] = str(tmp_path / "no_such_red_line.gpkg")
    assert run(args) == cli.EXIT_BAD_INPUT
    line = _one_line_error(capsys)
    assert "file not found" in line and "no_such_red_line.gpkg" in line


def test_missing_crs(scene, gpkg, tmp_path, capsys, monkeypatch):
    # An earlier CLI run left its stderr handler on the package logger, bound to a stream pytest
    # has closed since; io's warning below would hit it, so start from no handler.
    monkeypatch.setattr(logging.getLogger("tongzhen_gis"), "handlers", [])
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="'crs' was not provided", category=UserWarning)
        tz.io.write_layer(scene.towns.set_crs(None, allow_override=True), tmp_path / "nocrs.gpkg", layer="towns")
    args = _args(gpkg, tmp_path / "out")
    args[1] = str(tmp_path / "nocrs.gpkg")
    assert run(args) == cli.EXIT_BAD_INPUT
    line = _one_line_error(capsys)
    assert "no coordinate reference system" in line and line.endswith("; on the command line: --crs features=EPSG:4549")
    # declaring it fixes the run
    assert run([*args, "--crs", "features=EPSG:4549"]) == cli.EXIT_FINDINGS


def test_unknown_layer(gpkg, tmp_path, capsys):
    args = _args(gpkg, tmp_path / "out")
    args[7] = "red-line=STBHHX"
    assert run(args) == cli.EXIT_BAD_INPUT
    line = _one_line_error(capsys)
    assert "'STBHHX' not found" in line and "'red_line'" in line
    assert line.startswith("error: red-line (") and line.endswith("; on the command line: --layer red-line=LAYER")


def test_layer_needed_for_multi_layer_file(gpkg, tmp_path, capsys):
    args = ["check-lines", str(gpkg), "--layer", "towns", "--red-line", str(gpkg), "--out", str(tmp_path / "o")]
    assert run(args) == cli.EXIT_BAD_INPUT
    line = _one_line_error(capsys)
    assert line.startswith("error: red-line (") and "layer='" in line  # the Python fix, then the CLI one
    assert line.endswith("; on the command line: --layer red-line=LAYER")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--layer", "roads=x"], "unknown input 'roads'"),
        (["--coord-system", "water=gcj02"], "unknown input 'water'"),
        (["--coord-system", "farmland=amap"], "unknown coordinate system"),
        (["--id-col", "code"], "'code'"),
        (["--id-col", "code"], "; on the command line: --id-col COLUMN"),
        (["--id-col", "town_code"], "e.g. --id-col 'town_id' (it means the same as 'town_code')"),
        (["--sliver-m2", "-1"], "sliver_m2=1; on the command line: --sliver-m2 1"),
        (["--landuse-col", "name_zh"], "; on the command line: --landuse-col COLUMN"),
    ],
)
def test_bad_options(gpkg, tmp_path, capsys, extra, message):
    assert run(_args(gpkg, tmp_path / "out", *extra)) == cli.EXIT_BAD_INPUT
    assert message in _one_line_error(capsys)


def test_no_line_given(gpkg, tmp_path, capsys):
    args = ["check-lines", str(gpkg), "--layer", "towns", "--out", str(tmp_path / "o")]
    assert run(args) == cli.EXIT_BAD_INPUT
    assert "no control line" in _one_line_error(capsys)


def test_dask_engine_on_the_command_line(gpkg, tmp_path):
    out = tmp_path / "out"
    assert run(_args(gpkg, out, "--engine", "dask")) == cli.EXIT_FINDINGS
    summary = pd.read_csv(out / "summary.csv", encoding="utf-8-sig", index_col="town_id")
    assert summary["verdict"].to_dict() == {"T1": "pass", "T2": "conflict", "T3": "conflict"}
    assert summary.loc["T3", "farmland_m2"] == pytest.approx(120_000.0)


def test_feature_without_geometry_stays_in_the_summary_as_unchecked(scene, gpkg, tmp_path, capsys):
    towns = scene.towns.copy()
    towns.loc[towns["town_id"] == "T2", "geometry"] = None
    tz.io.write_layer(towns, tmp_path / "holes.gpkg", layer="towns")
    args = _args(gpkg, tmp_path / "out")
    args[1] = str(tmp_path / "holes.gpkg")
    assert run(args) == cli.EXIT_FINDINGS
    summary = pd.read_csv(tmp_path / "out" / "summary.csv", encoding="utf-8-sig", index_col="town_id")
    assert summary.index.tolist() == ["T1", "T2", "T3"]  # every input feature, in input order
    assert summary["verdict"].to_dict() == {"T1": "pass", "T2": "unchecked", "T3": "conflict"}
    assert summary.loc["T2", ["area_m2", "red_line_m2", "outside_boundary_m2"]].isna().all()
    assert summary.loc["T3", "outside_boundary_m2"] == pytest.approx(300_000.0)
    repairs = pd.read_csv(tmp_path / "out" / "repairs.csv", encoding="utf-8-sig")
    row = repairs[(repairs["layer"] == "features") & (repairs["issue"] == "empty or missing geometry")]
    assert row["count"].tolist() == [1] and row["ids"].tolist() == ["T2"]
    err = capsys.readouterr().err
    assert "note: features: 1 empty or missing geometry (T2)" in err


def test_invalid_polygon_is_repaired_and_said(scene, gpkg, tmp_path, capsys):
    towns = scene.towns.copy()
    # T1 as a bow-tie over its own square: make_valid keeps two triangles of 250 000 m² each.
    towns.loc[0, "geometry"] = shapely.Polygon([(X0, Y0), (X0 + 1000, Y0 + 1000), (X0 + 1000, Y0), (X0, Y0 + 1000)])
    tz.io.write_layer(towns, tmp_path / "bowtie.gpkg", layer="towns")
    args = _args(gpkg, tmp_path / "out")
    args[1] = str(tmp_path / "bowtie.gpkg")
    assert run(args) == cli.EXIT_FINDINGS
    summary = pd.read_csv(tmp_path / "out" / "summary.csv", encoding="utf-8-sig", index_col="town_id")
    assert summary.loc["T1", "area_m2"] == pytest.approx(500_000.0)
    assert summary.loc["T1", "area_mu"] == pytest.approx(750.0)
    assert "invalid geometry" in capsys.readouterr().err


def test_gbk_shapefile_without_cpg_is_read(scene, gpkg, tmp_path, capsys):
    towns = scene.towns[["town_id", "name_zh", "geometry"]]
    towns.to_file(tmp_path / "gbk.shp", encoding="GBK")
    (tmp_path / "gbk.cpg").unlink(missing_ok=True)
    args = ["check-lines", str(tmp_path / "gbk.shp"), *_args(gpkg, tmp_path / "out")[4:]]  # one layer: no --layer
    assert run(args) == cli.EXIT_FINDINGS
    assert "reading them as GBK" in capsys.readouterr().err
    summary = pd.read_csv(tmp_path / "out" / "summary.csv", encoding="utf-8-sig", index_col="town_id")
    assert summary.loc["T3", "farmland_m2"] == pytest.approx(120_000.0)


def test_line_layer_without_crs_names_the_option(scene, gpkg, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(logging.getLogger("tongzhen_gis"), "handlers", [])
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="'crs' was not provided", category=UserWarning)
        tz.io.write_layer(scene.red_line.set_crs(None, allow_override=True), tmp_path / "red.gpkg", layer="STBHHX")
    args = ["check-lines", str(gpkg), "--layer", "towns", "--red-line", str(tmp_path / "red.gpkg")]
    assert run([*args, "--out", str(tmp_path / "o")]) == cli.EXIT_BAD_INPUT
    line = _one_line_error(capsys)
    assert line.startswith("error: red-line (") and line.endswith("; on the command line: --crs red-line=EPSG:4549")
    assert run([*args, "--crs", "red-line=EPSG:4549", "--out", str(tmp_path / "o")]) == cli.EXIT_FINDINGS


@pytest.mark.parametrize("case", ["csv", "empty_layer", "gcj02_on_official_layer"])
def test_bad_inputs_give_one_line(scene, gpkg, tmp_path, capsys, case):
    args = _args(gpkg, tmp_path / "out")
    if case == "csv":
        scene.towns.drop(columns="geometry").to_csv(tmp_path / "towns.csv", index=False)
        args = ["check-lines", str(tmp_path / "towns.csv"), *args[4:]]
        expected = "not a vector layer"
    elif case == "empty_layer":
        tz.io.write_layer(scene.towns.iloc[:0], tmp_path / "empty.gpkg", layer="towns")
        args[1] = str(tmp_path / "empty.gpkg")
        expected = "is empty (no features)"
    else:
        args = [*args, "--coord-system", "farmland=gcj02"]
        expected = "never GCJ-02"
    assert run(args) == cli.EXIT_BAD_INPUT
    line = _one_line_error(capsys)
    assert expected in line
    assert not (tmp_path / "out").exists()  # nothing half-written


def test_source_id_names_the_line_polygons_own_column(gpkg, tmp_path, capsys):
    red = gpd.read_file(gpkg, layer="red_line")
    red["TBBH"] = [f"R-{i}" for i in range(len(red))]
    tz.io.write_layer(red, tmp_path / "red.gpkg", layer="red_line")
    args = _args(gpkg, tmp_path / "out")
    args[args.index("red-line=red_line") - 2] = str(tmp_path / "red.gpkg")
    assert run([*args, "--source-id", "red-line=TBBH"]) == cli.EXIT_FINDINGS
    conflicts = gpd.read_file(tmp_path / "out" / "conflicts.gpkg", layer="conflicts")
    expected = dict(zip(red["BSM"], red["TBBH"], strict=True))
    assert set(conflicts.loc[conflicts["line"] == "red_line", "source_id"]) == {
        expected["STBHHX001"],
        expected["STBHHX002"],
    }
    capsys.readouterr()
    assert run([*args, "--source-id", "red-line=NOPE"]) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "NOPE" in err and "--source-id NAME=COLUMN" in err
