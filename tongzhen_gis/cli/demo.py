"""``tongzhen demo``: write the sample town and its project config, then run the report on it."""

from __future__ import annotations

from pathlib import Path

import click

from tongzhen_gis import io, report, samples
from tongzhen_gis.cli.report import read_config, run_report


@click.command(name="demo")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("data"),
    show_default=True,
    help="Base folder: inputs go to OUT/raw/sample, the report to OUT/processed/sample.",
)
def command(out_dir: Path) -> int:
    """Write the sample town (三个示例小镇) and its project.toml, then run `tongzhen report` on it.

    When Chromium is on the machine the report is also printed to ``report.pdf`` and its first
    screen kept as ``report_first_screen.png`` beside it (for the README and docs).
    Exits with the report's code: 1, because two sample towns fail rules on purpose.
    """
    raw = out_dir / "raw" / "sample"
    written = samples.write_scene(samples.sample_town(), raw)
    config_path = io.write_text(report.sample_config_text(written, base_dir=raw), raw / "project.toml")
    click.echo(f"{'config':8s} {config_path}")
    processed = out_dir / "processed" / "sample"
    browser = io.find_chromium() is not None
    code = run_report(read_config(config_path), processed, pdf=browser)
    if browser:
        shot = io.screenshot(processed / "report.html", processed / "report_first_screen.png")
        click.echo(f"{'screen':8s} {shot}")
    return code
