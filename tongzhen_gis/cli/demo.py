"""``tongzhen demo``: write the sample town and its project config, then run the report on it."""

from __future__ import annotations

from pathlib import Path

import click

from tongzhen_gis import io, report, samples
from tongzhen_gis.cli.city import run_city
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
    Also writes the sample city (30 towns, 2020–2023) beside it (OUT/raw/sample/city_towns.csv,
    city_locations.gpkg), names it in the config's [city] (the report's chapter 城市总体目标) and
    runs `tongzhen city` on it into OUT/processed/sample/city. Exits with the report's code: 1,
    because two sample towns fail rules on purpose (the city's own result, also 1, is printed but
    does not change the exit code).
    """
    raw = out_dir / "raw" / "sample"
    written = samples.write_scene(samples.sample_town(), raw)
    city_files = samples.write_city(samples.sample_city(), raw)
    written = {**written, "city_towns": city_files["towns"], "city_locations": city_files["locations"]}
    config_path = io.write_text(report.sample_config_text(written, base_dir=raw), raw / "project.toml")
    click.echo(f"{'config':8s} {config_path}")
    processed = out_dir / "processed" / "sample"
    browser = io.find_chromium() is not None
    code = run_report(read_config(config_path), processed, pdf=browser)
    if browser:
        shot = io.screenshot(processed / "report.html", processed / "report_first_screen.png")
        click.echo(f"{'screen':8s} {shot}")
    city_code = run_city(city_files["towns"], processed / "city", locations=city_files["locations"])
    click.echo(f"{'city':8s} exit {city_code} (targets failing or missing in the sample city, on purpose)")
    return code
