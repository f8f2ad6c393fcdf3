"""Exit codes and messages of ``tongzhen report`` (0 clean, 1 a town fails a rule, 2 bad config)."""

from __future__ import annotations

from pathlib import Path

import pytest

import tongzhen_gis as tz
from tongzhen_gis.cli import main


def run(args: list[str]) -> int:
    with pytest.raises(SystemExit) as exc:
        main(args)
    return exc.value.code


def write_config(folder: Path, *, towns: list[str] | None = None, extra: str = "") -> Path:
    """The sample scene with a light config: control lines and town statistics, no maps."""
    scene = tz.samples.sample_town()
    if towns is not None:
        scene = tz.samples.Scene(
            **{**scene.__dict__, "towns": scene.towns[scene.towns["town_id"].isin(towns)].reset_index(drop=True)}
        )
    written = tz.samples.write_scene(scene, folder)
    text = tz.report.sample_config_text(written, base_dir=folder)
    text = text.split("[intensity]")[0] + "[maps]\nenabled = false\n" + extra
    return tz.io.write_text(text, folder / "project.toml")


def test_exit_1_when_a_town_fails_a_rule(tmp_path, capsys):
    config = write_config(tmp_path / "raw")
    assert run(["report", "--config", str(config), "--out", str(tmp_path / "out")]) == 1
    captured = capsys.readouterr()
    assert "T2" in captured.err and "T3" in captured.err
    assert "T1" in captured.out
    assert (tmp_path / "out" / "report.html").is_file()
    assert (tmp_path / "out" / "report.xlsx").is_file()


def test_exit_0_when_every_town_meets_every_binding_rule(tmp_path):
    # T1 alone passes the three lines; its figures from the sections left out are 'missing',
    # which is reported but is not a failure.
    config = write_config(tmp_path / "raw", towns=["T1"])
    assert run(["report", "--config", str(config), "--out", str(tmp_path / "out")]) == 0


def test_exit_2_on_a_wrong_key_naming_the_valid_ones(tmp_path, capsys):
    config = write_config(tmp_path / "raw", extra="[towns_extra]\n")
    text = config.read_text(encoding="utf-8").replace('id_col = "town_id"\nname_col', 'idcol = "town_id"\nname_col', 1)
    config.write_text(text, encoding="utf-8")
    assert run(["report", "--config", str(config), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: project config:")
    assert "unknown key [towns].idcol" in err and "id_col" in err
    assert "unknown table [towns_extra]" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_exit_2_on_missing_config_and_missing_inputs(tmp_path, capsys):
    assert run(["report", "--config", str(tmp_path / "nope.toml"), "--out", str(tmp_path / "out")]) == 2
    assert "config file not found" in capsys.readouterr().err
    config = tz.io.write_text('[towns]\npath = "towns.gpkg"\nlayer = "towns"\n', tmp_path / "project.toml")
    assert run(["report", "--config", str(config), "--out", str(tmp_path / "out")]) == 2
    assert "towns.gpkg" in capsys.readouterr().err


def test_exit_2_on_an_unknown_layer(tmp_path, capsys):
    config = write_config(tmp_path / "raw")
    text = config.read_text(encoding="utf-8").replace('layer = "red_line"', 'layer = "red_lines"')
    config.write_text(text, encoding="utf-8")
    assert run(["report", "--config", str(config), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "red_lines" in err and "'red_line'" in err  # the layers present are listed
