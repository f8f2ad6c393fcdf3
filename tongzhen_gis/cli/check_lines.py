"""``tongzhen check-lines``: features against the three control lines (三线核查).

Reads the features (towns, parcels or an extension) and the line layers with
:func:`tongzhen_gis.io.read_layer`, runs :func:`tongzhen_gis.controllines.check`, writes
``OUT/summary.csv`` (UTF-8 with BOM, opens in Excel), ``OUT/conflicts.gpkg`` (layer
``conflicts``, one row per overlap piece) and ``OUT/repairs.csv``, and prints a short table.

Exit codes: 0 every feature passes; 1 any feature is ``review``, ``conflict`` or ``unchecked``;
2 bad input (missing file, layer or CRS, unknown column), printed as one line naming the input
by the ``tongzhen`` group.

Every FEATURES row reaches ``summary.csv``: one without geometry (empty or missing in the file)
is kept with empty figures and verdict ``unchecked``. Repairs (invalid geometries made valid,
unusable features, reprojections) are written to ``repairs.csv`` and printed as ``note:`` lines.

Naming the inputs
-----------------
The four inputs are called ``features``, ``red-line``, ``farmland`` and ``urban-boundary``
(underscores work too). Options that concern one input name it:

* ``--layer NAME=LAYER`` picks a layer inside a multi-layer file (GeoPackage, FileGDB), e.g.
  ``--layer red-line=STBHHX``; a bare ``--layer towns`` names the FEATURES layer.
* ``--crs NAME=CRS`` declares the CRS of a file that has none (no ``.prj``), e.g.
  ``--crs farmland=EPSG:4549``; a bare ``--crs EPSG:4549`` names the FEATURES' CRS. A file
  that has a different CRS is an error, never overridden.
* ``--coord-system NAME=gcj02`` (or ``bd09``) declares that a lon/lat input is in web-map
  coordinates (Amap/Tencent, Baidu) and must be converted to WGS84 first; ``wgs84`` confirms
  plain WGS84. Official planning layers (CGCS2000) never need it; a file cannot reveal GCJ-02
  by itself, so it is never guessed. A lon/lat input without it, checked against a line layer
  in a survey CRS, gets a ``note:`` naming the risk (about 500 m off in Hangzhou, false
  overlaps) and the declaration that silences it.
* ``--swap-xy NAME`` exchanges X and Y of a latitude-first or northing-first file; the error
  for such a file names it.

These options are the same in every ``tongzhen`` command.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal

import click
import pandas as pd

from tongzhen_gis import controllines, io, webmap
from tongzhen_gis.cli._common import (
    InputOptions,
    hinted,
    input_options,
    out_dir_option,
    parse_input_options,
)
from tongzhen_gis.cli._progress import Stages

logger = logging.getLogger(__name__)

INPUTS = ("features", "red-line", "farmland", "urban-boundary")
#: Above this many input rows (features + line polygons) a progress bar is shown.
PROGRESS_ROWS = 100_000
_TABLE_ROWS = 30
_PATH = click.Path(dir_okay=True, path_type=Path)


#: This command's fix for each keyword of :func:`tongzhen_gis.controllines.check`.
CHECK_HINTS = {
    "id_col": "--id-col COLUMN",
    "landuse_col": "--landuse-col COLUMN",
    "sliver_m2": "--sliver-m2 1",
    "crs": "--crs NAME=EPSG:4549",
    "features": "give FEATURES a polygon layer",
    "red_line": "give --red-line a polygon layer",
    "farmland": "give --farmland a polygon layer",
    "urban_boundary": "give --urban-boundary a polygon layer",
    "source_id_col": "--source-id NAME=COLUMN",
}


def _source_ids(values: tuple[str, ...]) -> dict[str, str]:
    """``--source-id farmland=TBBH`` → ``{"farmland": "TBBH"}`` (keywords of controllines.check)."""
    out = {}
    for value in values:
        name, sep, column = value.partition("=")
        key = name.strip().replace("_", "-")
        if not sep or key not in INPUTS[1:] or not column.strip():
            msg = f"--source-id takes NAME=COLUMN with NAME one of {', '.join(INPUTS[1:])}, got {value!r}"
            raise click.BadParameter(msg, param_hint="--source-id")
        out[key.replace("-", "_")] = column.strip()
    return out


def _read(name: str, path: Path, options: InputOptions) -> Any:
    """Read one input; an error names the input and the option that fixes it.

    FEATURES keep their rows without geometry (``drop_empty=False``) so that every input
    feature reaches ``summary.csv`` (verdict ``unchecked``); line layers drop them (listed in
    ``repairs.csv``). Validity is left to :func:`tongzhen_gis.controllines.check`, which
    repairs every feature and the line polygons near them and lists them in ``repairs.csv``
    (one pass, not a second one over a province-wide layer).
    """
    return options.read(name, path, drop_empty=name != "features", repair=False)


def _io_repairs(name: str, gdf: Any) -> list[dict[str, Any]]:
    info = gdf.attrs.get("repairs", {}) or {}
    rows = []
    if info.get("invalid_repaired"):
        rows.append(
            {
                "layer": name,
                "issue": "invalid geometry (on reading)",
                "count": info["invalid_repaired"],
                "ids": ", ".join(str(i) for i in info.get("invalid_repaired_index", [])[:20]),
                "action": "repaired with shapely.make_valid",
            }
        )
    if info.get("empty_removed"):  # line layers; FEATURES keep theirs (check() lists them as unchecked)
        rows.append(
            {
                "layer": name,
                "issue": "empty or missing geometry (on reading)",
                "count": info["empty_removed"],
                "ids": ", ".join(str(i) for i in info.get("empty_removed_index", [])[:20]),
                "action": "not read, not checked (file row index given)",
            }
        )
    if info.get("parts_dropped"):
        rows.append(
            {
                "layer": name,
                "issue": "lines or points split off by the repair (on reading)",
                "count": info["parts_dropped"],
                "ids": ", ".join(str(i) for i in info.get("parts_dropped_index", [])[:20]),
                "action": "dropped: only the polygon parts are measured",
            }
        )
    for key, issue in (
        ("nonfinite", "NaN or infinite coordinate (on reading)"),
        ("outside_area_of_use", f"outside the area of use of {gdf.crs.to_string()} (on reading)"),
    ):
        if info.get(key):
            rows.append(
                {
                    "layer": name,
                    "issue": issue,
                    "count": info[key],
                    "ids": ", ".join(str(i) for i in info.get(f"{key}_index", [])[:20]),
                    "action": "kept with verdict 'unchecked'" if name == "features" else "not read, not checked",
                }
            )
    return rows


def _print_notes(repairs: pd.DataFrame) -> None:
    """One stderr line per repair (invalid geometry, unchecked feature, reprojection …)."""
    for row in repairs.head(_TABLE_ROWS).itertuples(index=False):
        ids = f" ({row.ids})" if row.ids else ""
        count = f"{row.count} " if row.count else ""
        sep = "; " if row.count else " "  # a layer-wide note reads as one phrase: "reprojected from A to B"
        click.echo(f"note: {row.layer}: {count}{row.issue}{ids}{sep}{row.action}", err=True)
    if len(repairs) > _TABLE_ROWS:
        click.echo(f"note: … {len(repairs) - _TABLE_ROWS} more in repairs.csv", err=True)


def _print_table(summary: pd.DataFrame) -> None:
    cols = ["area_m2", "red_line_m2", "farmland_m2", "outside_boundary_m2", "verdict"]
    table = summary[cols].copy()
    for col in cols[:-1]:
        table[col] = table[col].map(lambda v: "—" if pd.isna(v) else f"{v:,.1f}")
    shown = table.head(_TABLE_ROWS)
    click.echo(shown.to_string())
    if len(table) > _TABLE_ROWS:
        click.echo(f"… {len(table) - _TABLE_ROWS} more rows in summary.csv")


@click.command(name="check-lines")
@click.argument("features", type=_PATH)
@click.option("--red-line", "red_line", type=_PATH, default=None, help="生态保护红线 layer (STBHHX).")
@click.option("--farmland", type=_PATH, default=None, help="永久基本农田 layer (YJJBNTBHTB).")
@click.option("--urban-boundary", "urban_boundary", type=_PATH, default=None, help="城镇开发边界 layer (CZKFBJ).")
@click.option("--id-col", default="town_id", show_default=True, help="Id column of FEATURES.")
@click.option(
    "--landuse-col", default=None, help="用地用海 code column of FEATURES: only construction land (07–16) counts."
)
@input_options(INPUTS, bare="features")
@click.option(
    "--source-id",
    "source_ids",
    multiple=True,
    metavar="NAME=COLUMN",
    help="Id column of a line layer, written as conflicts' source_id, e.g. farmland=TBBH "
    "[default: BSM, 标识码 or osm_id, whichever the layer has].",
)
@click.option(
    "--sliver-m2",
    type=float,
    default=None,
    help="Overlaps at or below it are 'review' [default: rules controllines.sliver_m2, 1 m²].",
)
@click.option("--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True)
@out_dir_option()
def command(
    features: Path,
    red_line: Path | None,
    farmland: Path | None,
    urban_boundary: Path | None,
    id_col: str,
    landuse_col: str | None,
    source_ids: tuple[str, ...],
    sliver_m2: float | None,
    engine: Literal["local", "dask"],  # click.Choice admits only these
    out_dir: Path,
    **per_input: tuple[str, ...],
) -> int:
    """Check FEATURES against the three control lines (三线核查).

    Writes OUT/summary.csv, OUT/conflicts.gpkg and OUT/repairs.csv. Exit code 0 when every
    feature passes, 1 when any is review/conflict/unchecked, 2 on bad input.
    """
    paths = {"features": features, "red-line": red_line, "farmland": farmland, "urban-boundary": urban_boundary}
    given = {name for name, path in paths.items() if path is not None}
    options = parse_input_options(
        **per_input,
        inputs=INPUTS,
        given=given,
        bare="features",
    )
    if len(given) == 1:
        msg = "no control line given; pass at least one of --red-line, --farmland, --urban-boundary"
        raise click.UsageError(msg)
    source_id_col = _source_ids(source_ids)
    stages = Stages("check-lines", ["read", "check", "write"])
    stages.start("read")
    read = {name: _read(name, path, options) for name, path in paths.items() if path is not None}
    n_rows = sum(len(gdf) for gdf in read.values())
    stages.start("check")
    with hinted(CHECK_HINTS):
        result = controllines.check(
            read["features"],
            red_line=read.get("red-line"),
            farmland=read.get("farmland"),
            urban_boundary=read.get("urban-boundary"),
            id_col=id_col,
            sliver_m2=sliver_m2,
            landuse_col=landuse_col,
            engine=engine,
            progress=n_rows >= PROGRESS_ROWS,
            source_id_col=source_id_col or None,
        )
    stages.start("write")
    repairs = pd.concat(
        [pd.DataFrame([r for name, gdf in read.items() for r in _io_repairs(name, gdf)]), result.repairs],
        ignore_index=True,
    ).reindex(columns=result.repairs.columns)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [
        io.write_table(result.summary, out_dir / "summary.csv", index=True),
        io.write_layer(result.conflicts, out_dir / "conflicts.gpkg", layer="conflicts"),
        io.write_table(repairs, out_dir / "repairs.csv", index=False),
    ]
    stages.done()
    _print_table(result.summary)
    counts = result.counts()
    click.echo(" · ".join(f"{v} {counts.get(v, 0)}" for v in ("pass", "review", "conflict", "unchecked")))
    for line in result.missing_lines:
        click.echo(f"note: {line.replace('_', '-')} not given: its columns are empty", err=True)
    _print_notes(repairs[~repairs["issue"].isin(["not given"])])
    for name, gdf in read.items():
        others = {other.replace("-", "_"): g for other, g in read.items() if other != name}
        note = webmap.undeclared_gcj02_note(
            gdf, what=name, checked_against=others, declare=f"--coord-system {name}={{}}"
        )
        if note is not None:
            click.echo(f"note: {note}", err=True)
    for path in written:
        click.echo(str(path))
    return 0 if result.passed else 1
