"""``tongzhen intensity``: land-use intensity per town (用地集约), written as CSV and Excel.

Exit codes: 0 when the table was written (even if a town falls short of a threshold: judging
towns against the rules is ``tongzhen report``'s job, and this command only measures); 2 on
bad input (a missing file or column, a layer without CRS …).
"""

from __future__ import annotations

import logging
from pathlib import Path

import click
import pandas as pd

from tongzhen_gis import intensity, io, schema
from tongzhen_gis.cli._common import (
    dropped_empty_note,
    hinted,
    input_options,
    out_dir_option,
    parse_input_options,
    set_aside_notes,
)
from tongzhen_gis.cli._progress import Stages

logger = logging.getLogger(__name__)

_PATH = click.Path(exists=True, dir_okay=False, path_type=Path)
#: A vector layer may be a folder (a FileGDB ``.gdb``).
_LAYER_PATH = click.Path(exists=True, path_type=Path)
#: Inputs that ``--layer`` / ``--crs`` / ``--coord-system`` / ``--encoding NAME=…`` can name (a bare value: TOWNS).
INPUTS = ("towns", "parcels", "buildings")


#: The fix of this command for each keyword of :func:`tongzhen_gis.intensity.summarize`.
SUMMARY_HINTS = {
    "id_col": "--id-col COLUMN",
    "landuse_col": "--landuse-col COLUMN",
    "floors_col": "--floors-col COLUMN",
    "height_col": "--height-col COLUMN",
    "towns": "give TOWNS a polygon layer",
    "parcels": "give --parcels a polygon layer",
    "buildings": "give --buildings a polygon layer",
}


@click.command(name="intensity")
@click.argument("towns", type=_LAYER_PATH)
@click.option("--parcels", "parcels_path", type=_LAYER_PATH, required=True, help="Land-use parcels (用地用海 codes).")
@click.option("--buildings", "buildings_path", type=_LAYER_PATH, default=None, help="Building footprints with floors.")
@click.option("--enterprises", "enterprises_path", type=_PATH, default=None, help="Enterprise table (CSV or Excel).")
@click.option("--raster", "raster_path", type=_PATH, default=None, help="A raster summarised per town (zonal).")
@click.option("--categorical", is_flag=True, help="Treat --raster as classes: write each class's share.")
@input_options(INPUTS, bare="towns")
@click.option("--id-col", default="town_id", show_default=True, help="Town id column.")
@click.option("--landuse-col", default="landuse_code", show_default=True, help="Land-use code column of the parcels.")
@click.option("--floors-col", default="floors", show_default=True, help="Floors column of the buildings.")
@click.option("--height-col", default=None, help="Height column (m) used where floors are missing [default: height_m].")
@click.option("--industrial-tall-storey", is_flag=True, help="Count industrial storeys above 8 m twice.")
@click.option("--firm-scores", is_flag=True, help="Also score the firms (亩均论英雄) into firm_scores.csv/.xlsx.")
@out_dir_option()
def command(
    towns: Path,
    parcels_path: Path,
    buildings_path: Path | None,
    enterprises_path: Path | None,
    raster_path: Path | None,
    categorical: bool,
    id_col: str,
    landuse_col: str,
    floors_col: str,
    height_col: str | None,
    industrial_tall_storey: bool,
    firm_scores: bool,
    out_dir: Path,
    **per_input: tuple[str, ...],
) -> int:
    """Measure land-use intensity per town: structure, FAR, coverage, 亩均 figures (用地集约).

    Writes OUT/intensity.csv (UTF-8 with BOM, opens in Excel) and OUT/intensity.xlsx (one sheet
    per table), plus OUT/firm_scores.csv with --firm-scores and OUT/intensity_problems.csv when
    some input could not be used as given. Exit code 0 when written; shortfalls against
    thresholds are judged by `tongzhen report`.
    """
    if firm_scores and enterprises_path is None:
        raise click.UsageError("--firm-scores needs --enterprises")
    given = {"towns", "parcels"} | ({"buildings"} if buildings_path else set())
    options = parse_input_options(
        **per_input,
        inputs=INPUTS,
        given=given,
        bare="towns",
    )

    stages = Stages("intensity", ["read", "summarize", "zonal", "write"])
    stages.start("read")
    # Towns keep their rows without geometry: each gets a row with empty figures (noted by summarize).
    town_gdf = options.read("towns", towns, drop_empty=False)
    with hinted(SUMMARY_HINTS, where=f"towns ({towns})"):  # 小镇编号, 小镇名称 … name these columns too
        town_gdf = schema.use_columns(town_gdf, "towns", id_col, "name_zh", "category", "district")
    parcels = options.read("parcels", parcels_path)
    buildings = options.read("buildings", buildings_path) if buildings_path else None
    enterprises = io.read_table(enterprises_path) if enterprises_path else None
    stages.start("summarize")
    with hinted(SUMMARY_HINTS):
        table = intensity.summarize(
            town_gdf,
            parcels=parcels,
            buildings=buildings,
            enterprises=enterprises,
            id_col=id_col,
            landuse_col=landuse_col,
            floors_col=floors_col,
            height_col=height_col,
            industrial_tall_storey=industrial_tall_storey,
        )
    problems = [
        note
        for name, gdf in (("parcels", parcels), ("buildings", buildings))
        if gdf is not None and (note := dropped_empty_note(name, gdf))
    ]
    problems += set_aside_notes("towns", town_gdf)
    problems += list(table.attrs.get("problems", [])) + list(table.attrs.get("repairs", []))
    if raster_path is not None:
        stages.start("zonal")
        with hinted(SUMMARY_HINTS, where=f"raster ({raster_path})"):
            zones = intensity.zonal(town_gdf, io.read_raster(raster_path), categorical=categorical, id_col=id_col)
        problems += zones.attrs.get("problems", [])
        table = table.join(zones.add_prefix("raster_"))
    names = [c for c in ("name_zh", "category", "district") if c in town_gdf.columns]
    if names:
        table = town_gdf.set_index(id_col)[names].join(table, how="right")
    scores = None
    if firm_scores:
        scores = intensity.firm_scores(enterprises)
        problems += scores.attrs.get("problems", [])
    stages.start("write")
    problem_table = pd.DataFrame({"problem": problems})
    sheets = {"用地集约 intensity": table}
    if scores is not None:
        sheets["亩均评价 firm scores"] = scores
    if problems:
        sheets["问题 problems"] = problem_table
    sheets["说明 columns"] = _column_notes(table)
    written = [io.write_table(table, out_dir / "intensity.csv", index=True)]
    if scores is not None:
        written.append(io.write_table(scores, out_dir / "firm_scores.csv", index=True))
    if problems:
        written.append(io.write_table(problem_table, out_dir / "intensity_problems.csv", index=False))
    written.append(io.write_workbook(sheets, out_dir / "intensity.xlsx", index=True))
    stages.done()
    if problems:  # each one was logged as a warning by the library
        click.echo(f"{len(problems)} note(s) on the data: see {out_dir / 'intensity_problems.csv'}", err=True)
    for path in written:
        click.echo(str(path))
    return 0


def _column_notes(table: pd.DataFrame) -> pd.DataFrame:
    """Chinese label and unit of every column of the intensity table."""
    from tongzhen_gis import rules

    classes = rules.load("landuse")["class"]
    rows = []
    for col in table.columns:
        label, unit = intensity.COLUMNS_ZH.get(col, ("", ""))
        if col.startswith("share_") and col[6:] in classes:
            label, unit = f"{classes[col[6:]]['name_zh']} 占小镇面积比重", "比例"
        elif col.startswith("raster_"):
            label = f"栅格分区统计 {col[7:]}"
        rows.append({"column": col, "名称": label, "单位": unit})
    return pd.DataFrame(rows).set_index("column")
