"""``tongzhen city``: the city targets of 杭政办函〔2021〕25号 and the town list over the years.

Exit codes: 0 when every non-advisory city target of the last year passes; 1 when one fails
or reads ``missing`` (a figure is absent: the city cannot be called clean); 2 on bad input
(a missing file, an unknown status word, a year not in the table …).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import click
import pandas as pd

from tongzhen_gis import city, evaluate, io, maps
from tongzhen_gis.cli._common import InputOptions, input_options, out_dir_option, parse_input_options
from tongzhen_gis.errors import SchemaError

logger = logging.getLogger(__name__)

_PATH = click.Path(exists=True, dir_okay=False, path_type=Path)
_LAYER_PATH = click.Path(exists=True, path_type=Path)


def parse_years(text: str | None) -> list[int] | None:
    """``--years``: see :func:`tongzhen_gis.city.parse_years`; bad text is a usage error (exit 2)."""
    try:
        return city.parse_years(text)
    except SchemaError as exc:
        raise click.BadParameter(str(exc), param_hint="--years") from None


#: Inputs that ``--layer`` / ``--crs`` / ``--coord-system`` / ``--encoding NAME=…`` can name.
INPUTS = ("locations",)


def _charts(review: city.CityReview, locations: Path | None, options: InputOptions, out_dir: Path) -> list[Path]:
    written = []
    fig, _ = maps.city_targets_chart(review.targets)
    written.append(maps.export(fig, out_dir / "charts" / "city_targets.png", dpi=150))
    if review.years:
        fig, _ = maps.town_trends_chart(review.trends, "tax_per_mu", label="亩均税收 (万元/亩)", title="各小镇亩均税收")
        written.append(maps.export(fig, out_dir / "charts" / "tax_per_mu_trends.png", dpi=150))
        fig, _ = maps.town_trends_chart(review.trends, "output_wan", label="产值 (万元)", title="各小镇产值")
        written.append(maps.export(fig, out_dir / "charts" / "output_trends.png", dpi=150))
    if locations is not None:
        gdf = options.read("locations", locations)
        verdicts = city.town_verdicts(review.trends, review.warnings)
        fig, _ = maps.city_verdict_map(gdf, verdicts, source=locations.name)
        written.append(maps.export(fig, out_dir / "charts" / "verdict_map.png", dpi=150))
    import matplotlib.pyplot as plt

    plt.close("all")
    return written


@click.command(name="city")
@click.option(
    "--towns", "towns_path", type=_PATH, required=True, help="Town table, one row per town and year (CSV or Excel)."
)
@click.option(
    "--sheet",
    default=None,
    help="Excel sheet of --towns [default: every sheet when all are named after years (2021, 2022 …), else the first].",
)
@click.option(
    "--years", default=None, metavar="YEARS", help="Years to review, e.g. 2021-2023 or 2021,2023 [default: all]."
)
@click.option("--rules", default="hangzhou-2021-city", show_default=True, help="City rule set name or .toml path.")
@click.option(
    "--locations", type=_LAYER_PATH, default=None, help="Town points or boundaries (with town_id) for the map."
)
@input_options(INPUTS)
@click.option("--no-charts", is_flag=True, help="Write the tables only.")
@out_dir_option()
def command(
    towns_path: Path,
    sheet: str | None,
    years: str | None,
    rules: str,
    locations: Path | None,
    no_charts: bool,
    out_dir: Path,
    **per_input: tuple[str, ...],
) -> int:
    """Judge the city's list of towns against the 2023 targets (城市总体目标) and follow it over the years.

    Writes OUT/city_targets.csv (the last year's targets), city_targets_by_year.csv,
    town_trends.csv, city_warnings.csv, city_changes.csv, city.xlsx (every table, one sheet
    each) and charts in OUT/charts (with --locations, a map of the towns by verdict). Exit 1
    when a non-advisory target fails or is missing, 0 when all pass.
    """
    wanted = parse_years(years)
    options = parse_input_options(
        **per_input,
        inputs=INPUTS,
        given=["locations"] if locations is not None else [],
        bare=None,  # every input is named (no positional one)
    )
    return run_city(
        towns_path,
        out_dir,
        sheet=int(sheet) if sheet and sheet.isdigit() else sheet,
        years=wanted,
        rules=rules,
        locations=locations,
        options=options,
        charts=not no_charts,
    )


def _read_towns(path: Path, sheet: str | int | None) -> pd.DataFrame | dict[str, pd.DataFrame]:
    """The town table; a workbook whose sheets are all named after years is read as one sheet per year."""
    if sheet is None and path.suffix.lower() in (".xlsx", ".xlsm"):
        names = io.list_sheets(path)
        if len(names) > 1 and all(re.fullmatch(r"\s*\d{4}\s*(年|年度)?\s*", n) for n in names):
            return {n: io.read_table(path, sheet=n) for n in names}
    return io.read_table(path, sheet=sheet)


def run_city(
    towns_path: Path,
    out_dir: Path,
    *,
    sheet: str | int | None = None,
    years: list[int] | None = None,
    rules: str = "hangzhou-2021-city",
    locations: Path | None = None,
    options: InputOptions | None = None,
    charts: bool = True,
) -> int:
    """Review a town table and write the city outputs into ``out_dir``; return the exit code.

    Used by ``tongzhen city`` and ``tongzhen demo``.
    """
    table = city.town_table(_read_towns(towns_path, sheet), name=towns_path.name, rules=rules)
    review = city.review(table, years=years, rules=rules)
    notes = list(table.attrs.get("unit_conversions", [])) + list(table.attrs.get("problems", []))
    targets = review.targets
    sheets = {
        "城市总体目标 targets": targets,
        "逐年目标 by year": review.targets_by_year,
        "小镇趋势 trends": review.trends,
        "预警 warnings": review.warnings,
        "变化 changes": review.changes,
    }
    if notes:
        sheets["说明 notes"] = pd.DataFrame({"note": notes})
    written = [
        io.write_table(targets, out_dir / "city_targets.csv"),
        io.write_table(review.targets_by_year, out_dir / "city_targets_by_year.csv"),
        io.write_table(review.trends, out_dir / "town_trends.csv"),
        io.write_table(review.warnings, out_dir / "city_warnings.csv", index=False),
        io.write_table(review.changes, out_dir / "city_changes.csv", index=False),
        io.write_workbook(sheets, out_dir / "city.xlsx"),
    ]
    if charts:
        written += _charts(review, locations, options or InputOptions(), out_dir)
    for note in notes:
        click.echo(f"note: {note}", err=True)
    for path in written:
        click.echo(str(path))
    status = targets["status"]
    judged = ~targets["advisory"].astype(bool)
    failed = list(targets.index[judged & (status == evaluate.FAIL)])
    missing = list(targets.index[judged & (status == evaluate.MISSING)])
    year = targets["year"].iloc[0]
    click.echo(
        f"{'' if pd.isna(year) else f'{int(year)}: '}{int((judged & (status == evaluate.PASS)).sum())} target(s) pass, "
        f"{len(failed)} fail {failed}, {len(missing)} missing {missing}; {len(review.warnings)} warning(s)",
        err=True,
    )
    return 1 if failed or missing else 0
