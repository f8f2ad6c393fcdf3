"""``tongzhen demo``: write the sample town and run the analyses on it."""

from __future__ import annotations

from pathlib import Path

import click

from tongzhen_gis import samples


@click.command(name="demo")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("data"),
              show_default=True, help="Base folder: inputs go to OUT/raw/sample, results to OUT/processed/sample.")
def command(out_dir: Path) -> int:
    """Write the sample town (三个示例小镇) and its outputs."""
    raw = out_dir / "raw" / "sample"
    written = samples.write_scene(samples.sample_town(), raw)
    for name, path in written.items():
        click.echo(f"{name:12s} {path}")
    return 0
