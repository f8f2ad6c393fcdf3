"""No input makes a command crash: hypothesis drives every command with broken layers.

Each example takes the sample town, breaks one or two of a command's inputs in the ways
planning data arrives broken (other geometry types, no CRS or a wrong one, longitude/latitude,
lying ``.cpg`` files, NaN / infinite / far-away coordinates, empty geometries, no rows,
duplicate ids, missing or emptied columns, numbers as text, swapped axes, self-crossing
polygons), writes them to files, runs the command in-process, and asserts:

* the exit code is 0, 1 or 2 (3 is an internal error: a bug);
* no traceback reaches stderr;
* on exit 2, exactly one ``error: ...`` line says what is wrong.

Python warnings raised inside a run are ignored here (a warning is not a crash; the rest of
the suite runs with warnings as errors). A file the writer itself refuses (a shapefile of
mixed geometry types) is not a case (``assume``).
"""

from __future__ import annotations

import contextlib
import io
import math
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

import tongzhen_gis as tz
from tongzhen_gis import cli

pytestmark = pytest.mark.slow

SCENE = tz.samples.sample_town()
FUZZ = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
    derandomize=True,  # the same cases on every run: a failure is reproducible
)

#: The key column each layer's command needs (missing, emptied, duplicated or written as text).
KEY = {
    "towns": "town_id",
    "red_line": "BSM",
    "farmland": "BSM",
    "urban_boundary": "BSM",
    "parcels": "landuse_code",
    "buildings": "floors",
    "roads": "fclass",
    "facilities": "category",
    "homes": "population",
}


def _first(gdf: gpd.GeoDataFrame, geom) -> gpd.GeoDataFrame:
    """``gdf`` with its first geometry replaced (``geom`` may be a function of the old one)."""
    if len(gdf) == 0:
        return gdf
    if callable(geom):
        geom = geom(gdf.geometry.iloc[0])
    out = gdf.copy()
    values = out.geometry.to_numpy().copy()
    values[0] = geom
    out[out.geometry.name] = gpd.GeoSeries(values, index=out.index, crs=out.crs)
    return out


def _swap(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = gdf.copy()
    out[out.geometry.name] = shapely.transform(out.geometry.to_numpy(), lambda xy: xy[:, ::-1])
    return out


NAN = float("nan")
X0, Y0 = 520_000.0, 3_350_000.0  # inside the sample town (EPSG:4549)
MUTATIONS: dict[str, Callable[[gpd.GeoDataFrame, str], gpd.GeoDataFrame]] = {
    "points": lambda g, k: g.set_geometry(g.geometry.representative_point()),
    "lines": lambda g, k: g.set_geometry(g.geometry.boundary),
    "polygons": lambda g, k: g.set_geometry(g.geometry.buffer(30)),
    "mixed": lambda g, k: _first(g, lambda geom: geom.centroid),
    "collection": lambda g, k: _first(
        g, lambda geom: shapely.GeometryCollection([geom, shapely.LineString([(X0, Y0), (X0 + 50, Y0 + 50)])])
    ),
    "nan_coords": lambda g, k: _first(g, shapely.Point(NAN, NAN)),
    "nan_polygon": lambda g, k: _first(g, shapely.Polygon([(X0, Y0), (X0 + 100, NAN), (X0 + 200, Y0), (X0, Y0)])),
    "inf_coords": lambda g, k: _first(g, shapely.Point(math.inf, -math.inf)),
    "huge_coords": lambda g, k: _first(g, lambda geom: shapely.affinity.translate(geom, 1e12, 1e12)),
    "empty_geoms": lambda g, k: _first(g, None),
    "empty_polygon": lambda g, k: _first(g, shapely.Polygon()),
    "bowtie": lambda g, k: _first(g, shapely.Polygon([(X0, Y0), (X0 + 100, Y0 + 100), (X0 + 100, Y0), (X0, Y0 + 100)])),
    "no_rows": lambda g, k: g.iloc[:0],
    "one_row": lambda g, k: g.iloc[:1],
    "dup_ids": lambda g, k: g.assign(**{k: g[k].iloc[0]}) if k in g and len(g) else g,
    "drop_key": lambda g, k: g.drop(columns=[k], errors="ignore"),
    "drop_all_columns": lambda g, k: g[[g.geometry.name]],
    "nan_key": lambda g, k: g.assign(**{k: np.nan}),
    "text_key": lambda g, k: g.assign(**{k: [f"约{v}" for v in g[k]] if k in g else "x"}),
    "negative_key": lambda g, k: g.assign(**{k: -3}),
    "huge_key": lambda g, k: g.assign(**{k: 1e300}),
    "chinese_text": lambda g, k: g.assign(名称="玉皇山南基金小镇", note="云栖"),
    "swap_xy": lambda g, k: _swap(g),
}
CRS_MODES = ("keep", "keep", "none", "lonlat", "lie_4326", "lie_4528", "web_mercator")
FORMATS = ("gpkg", "shp", "geojson")
ENCODINGS = ("UTF-8", "GBK", "GBK under a UTF-8 .cpg", "UTF-8 under a GBK .cpg", "no .cpg")


@st.composite
def lies(draw) -> dict:
    """How to break one layer."""
    return {
        "mutations": draw(st.lists(st.sampled_from(sorted(MUTATIONS)), min_size=1, max_size=3, unique=True)),
        "crs": draw(st.sampled_from(CRS_MODES)),
        "format": draw(st.sampled_from(FORMATS)),
        "encoding": draw(st.sampled_from(ENCODINGS)),
    }


def broken(names: tuple[str, ...]) -> st.SearchStrategy[dict]:
    """One or two of ``names`` broken, each its own way."""
    return st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True).flatmap(
        lambda chosen: st.fixed_dictionaries({name: lies() for name in chosen})
    )


def _crs(gdf: gpd.GeoDataFrame, mode: str) -> gpd.GeoDataFrame:
    if gdf.crs is None or mode in ("keep", "none"):
        return gdf
    if mode == "lonlat":
        return gdf.to_crs(4326)
    if mode == "web_mercator":
        return gdf.to_crs(3857)
    return gdf.set_crs({"lie_4326": 4326, "lie_4528": 4528}[mode], allow_override=True)  # the label lies


def write(name: str, folder: Path, lie: dict | None) -> Path:
    """Write layer ``name`` of the sample town, broken as ``lie`` says (None: a clean GeoPackage)."""
    gdf = SCENE.layers()[name]
    if lie is None:
        return tz.io.write_layer(gdf, folder / f"{name}.gpkg", layer=name)
    with warnings.catch_warnings():  # building NaN geometries warns; the file is the point
        warnings.simplefilter("ignore")
        for mutation in lie["mutations"]:
            gdf = MUTATIONS[mutation](gdf, KEY[name])
        gdf = _crs(gdf, lie["crs"])
    fmt, enc = lie["format"], lie["encoding"]
    path = folder / f"{name}.{fmt}"
    kwargs = {"encoding": "GBK" if enc.startswith("GBK") else "UTF-8"} if fmt == "shp" else {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gdf.to_file(path, engine="pyogrio", **kwargs)
    except Exception:  # the writer refuses (mixed types in a shapefile …): not a file a user can have
        assume(False)
    if fmt == "shp":
        cpg = path.with_suffix(".cpg")
        if enc == "GBK under a UTF-8 .cpg":
            cpg.write_text("UTF-8")
        elif enc == "UTF-8 under a GBK .cpg":
            cpg.write_text("GBK")
        elif enc == "no .cpg":
            cpg.unlink(missing_ok=True)
    if lie["crs"] == "none":
        if fmt == "shp":
            path.with_suffix(".prj").unlink(missing_ok=True)
        elif fmt == "gpkg":  # rewrite without a CRS
            path.unlink()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                gdf.set_crs(None, allow_override=True).to_file(path, engine="pyogrio")
    return path


def run_cli(argv: list[str]) -> tuple[int, str]:
    """Exit code and stderr of ``tongzhen ARGV`` run in-process."""
    err = io.StringIO()
    code = None
    with (
        contextlib.redirect_stderr(err),
        contextlib.redirect_stdout(io.StringIO()),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")
        try:
            cli.main(argv)
        except SystemExit as exc:
            code = exc.code
    return code, err.getvalue()


def check_outcome(argv: list[str], case: dict) -> None:
    code, err = run_cli(argv)
    event(f"exit {code}")  # --hypothesis-show-statistics shows how the cases ended
    where = f"tongzhen {' '.join(argv)}\ncase: {case}\nstderr:\n{err}"
    assert code in (0, 1, 2), where
    assert "Traceback" not in err, where
    if code == 2:
        errors = [line for line in err.splitlines() if line.startswith("error:")]
        assert len(errors) == 1, where


def _folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="tz-fuzz-"))


@FUZZ
@given(case=broken(("towns", "red_line", "farmland", "urban_boundary")))
def test_check_lines_never_crashes(case):
    folder = _folder()
    paths = {name: write(name, folder, case.get(name)) for name in ("towns", "red_line", "farmland", "urban_boundary")}
    argv = ["check-lines", str(paths["towns"]), "--red-line", str(paths["red_line"])]
    argv += ["--farmland", str(paths["farmland"]), "--urban-boundary", str(paths["urban_boundary"])]
    check_outcome([*argv, "--out", str(folder / "out")], case)


@FUZZ
@given(case=broken(("towns", "parcels", "buildings", "enterprises")))
def test_intensity_never_crashes(case):
    folder = _folder()
    paths = {name: write(name, folder, case.get(name)) for name in ("towns", "parcels", "buildings")}
    firms = SCENE.enterprises
    if "enterprises" in case:
        for mutation in case["enterprises"]["mutations"]:
            if mutation in ("drop_key", "nan_key", "dup_ids", "text_key", "negative_key", "no_rows", "huge_key"):
                key = "tax_wan" if mutation != "drop_key" else "town_id"
                firms = MUTATIONS[mutation](firms, key)
    enterprises = tz.io.write_table(firms, folder / "企业.csv", index=False)
    argv = ["intensity", str(paths["towns"]), "--parcels", str(paths["parcels"])]
    argv += ["--buildings", str(paths["buildings"]), "--enterprises", str(enterprises)]
    check_outcome([*argv, "--out", str(folder / "out")], case)


@FUZZ
@given(case=broken(("roads", "facilities", "homes", "towns")))
def test_access_never_crashes(case):
    folder = _folder()
    paths = {name: write(name, folder, case.get(name)) for name in ("roads", "facilities", "homes", "towns")}
    argv = ["access", "--roads", str(paths["roads"]), "--facilities", str(paths["facilities"])]
    argv += ["--homes", str(paths["homes"]), "--towns", str(paths["towns"])]
    check_outcome([*argv, "--out", str(folder / "out")], case)


REPORT_LAYERS = ("towns", "red_line", "parcels", "buildings", "roads", "facilities", "homes")


@settings(FUZZ, max_examples=8)
@given(case=broken(REPORT_LAYERS))
def test_report_never_crashes(case):
    folder = _folder()
    paths = {name: write(name, folder, case.get(name)).as_posix() for name in REPORT_LAYERS}
    enterprises = tz.io.write_table(SCENE.enterprises, folder / "enterprises.csv", index=False).as_posix()
    config = f"""
[project]
title = "fuzz"
rules = "hangzhou-2021"

[towns]
path = "{paths["towns"]}"

[control_lines]
red_line = "{paths["red_line"]}"

[intensity]
parcels = "{paths["parcels"]}"
buildings = "{paths["buildings"]}"
enterprises = "{enterprises}"

[access]
roads = "{paths["roads"]}"
facilities = "{paths["facilities"]}"
homes = "{paths["homes"]}"

[maps]
enabled = false
"""
    project = folder / "project.toml"
    project.write_text(config, encoding="utf-8")
    check_outcome(["report", "--config", str(project), "--out", str(folder / "out")], case)


def test_the_fuzz_mutations_really_break_the_layers():
    """Each mutation changes the layer it is given (a no-op would test nothing)."""
    towns = SCENE.towns
    for name, mutate in MUTATIONS.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # building NaN geometries warns
            out = mutate(towns, "town_id")
        same = (
            list(out.columns) == list(towns.columns)
            and len(out) == len(towns)
            and out.drop(columns=out.geometry.name).equals(towns.drop(columns=towns.geometry.name))
            and bool(out.geometry.geom_equals_exact(towns.geometry, 0).all())
        )
        assert not same, name
    assert pd.api.types.is_string_dtype(MUTATIONS["text_key"](towns, "town_id")["town_id"])
