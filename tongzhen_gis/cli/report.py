"""``tongzhen report``: run every analysis a project config names and write the report bundle.

Exit codes: 0 when every town meets every binding rule, 1 when any town fails one (the towns
are listed), 2 on a bad config or input (one line saying what is wrong and how to fix it).
"""

from __future__ import annotations

from pathlib import Path

import click

from tongzhen_gis import report
from tongzhen_gis.cli._common import out_dir_option
from tongzhen_gis.cli._progress import Stages
from tongzhen_gis.errors import InputFileError


def read_config(path: Path) -> report.ProjectConfig:
    """Read and parse a ``project.toml`` (relative paths in it start from its folder)."""
    if not path.is_file():
        msg = f"config file not found: {path}; pass --config path/to/project.toml"
        raise InputFileError(msg)
    return report.load_config(path)


def run_report(config: report.ProjectConfig, out_dir: Path, *, pdf: bool = False) -> int:
    """Build the bundle, print a short summary, return the exit code."""
    stages = Stages("report", ["build"])
    stages.start("build")
    result = report.build(config, out_dir, pdf=pdf)
    stages.done()
    grades = result.evaluation.grades
    for town, row in grades.iterrows():
        status = "未达标" if town in result.failing else "达标"
        click.echo(f"{town!s:10s} {status:4s} 建议等级 {row['grade']} ({row['points']:g} 分)")
    for name in ("html", "docx", "xlsx", "pdf", "gpkg", "far_grid"):
        if name in result.files:
            click.echo(f"{name:8s} {result.files[name]}")
    if pdf and "pdf" not in result.files:
        click.echo(next(p for p in result.problems if p.startswith("report.pdf not written")), err=True)
    if result.problems:
        click.echo(f"{len(result.problems)} note(s) on the data: see the end of report.html", err=True)
    if result.failing:
        click.echo(f"towns failing a binding rule: {', '.join(map(str, result.failing))}", err=True)
    return result.exit_code


@click.command(name="report")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="project.toml naming the inputs, layers, id columns and rule set.",
)
@out_dir_option("Output folder: report.html, report.docx, report.xlsx, results.gpkg, far_grid.tif, maps/.")
@click.option(
    "--pdf",
    is_flag=True,
    default=False,
    help="Also print report.html to report.pdf with headless Chromium (apt-get install chromium).",
)
def command(config_path: Path, out_dir: Path, pdf: bool) -> int:
    """Evaluate every town against its rules and write the report (评估报告).

    Exit code 1 when any town fails a binding rule, 0 when none does, 2 on a bad config.
    """
    return run_report(read_config(config_path), out_dir, pdf=pdf)
