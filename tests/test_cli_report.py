"""Exit codes and messages of ``tongzhen report`` (0 clean, 1 a town fails a rule, 2 bad config)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import ENTERPRISE_HEADERS_ZH

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
    assert err.startswith("error: [control_lines].red_line: ") and err.count("\n") == 1
    assert err.strip().endswith(
        'in project.toml name the layer in [control_lines]: red_line = { path = "...", layer = "LAYER" }'
    )


def test_exit_2_on_a_towns_layer_without_crs_naming_the_config_fix(tmp_path, capsys):
    config = write_config(tmp_path / "raw")
    towns = tz.samples.sample_town().towns
    towns.to_file(tmp_path / "raw" / "towns.shp", engine="pyogrio", encoding="UTF-8")
    (tmp_path / "raw" / "towns.prj").unlink()
    text = config.read_text(encoding="utf-8").replace('path = "sample.gpkg"\nlayer = "towns"', 'path = "towns.shp"', 1)
    config.write_text(text, encoding="utf-8")
    assert run(["report", "--config", str(config), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: [towns]: ") and err.count("\n") == 1
    assert 'in [towns]: crs = "EPSG:4549"' in err and "Traceback" not in err


def test_exit_2_on_an_empty_layer_naming_the_config_entry(tmp_path, capsys):
    config = write_config(tmp_path / "raw")
    tz.samples.sample_town().red_line.iloc[:0].to_file(tmp_path / "raw" / "empty.gpkg", layer="red_line")
    text = config.read_text(encoding="utf-8").replace(
        'red_line = { path = "sample.gpkg"', 'red_line = { path = "empty.gpkg"', 1
    )
    config.write_text(text, encoding="utf-8")
    assert run(["report", "--config", str(config), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: [control_lines].red_line: ") and "empty" in err and err.count("\n") == 1


def test_gbk_enterprise_table_with_chinese_headers_and_a_stray_town(tmp_path):
    """A GBK CSV with 税收/投资/… headers is read and mapped; a firm of an unknown town is reported."""
    scene = tz.samples.sample_town()
    written = tz.samples.write_scene(scene, tmp_path / "raw")
    firms = scene.enterprises.rename(columns=ENTERPRISE_HEADERS_ZH)
    firms = pd.concat([firms, firms.iloc[[0]].assign(小镇编号="T9")], ignore_index=True)
    firms.to_csv(written["enterprises"], index=False, encoding="gbk")
    text = tz.report.sample_config_text(written, base_dir=tmp_path / "raw")
    text = text.split("[access]")[0] + "[maps]\nenabled = false\n"
    config = tz.io.write_text(text, tmp_path / "raw" / "project.toml")
    result = tz.report.build(config, tmp_path / "out")  # a path is accepted as well as a ProjectConfig
    # the sample docstring: T1 30 000 万元 tax over 1 500 亩, T2 270 000 万元 investment over 1 350 亩
    assert result.indicators.loc["T1", "tax_per_mu"] == pytest.approx(20.0, rel=1e-12)
    assert result.indicators.loc["T2", "investment_per_mu"] == pytest.approx(200.0, rel=1e-12)
    assert any("T9" in p and "not among the towns" in p for p in result.problems)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('rules = "hangzhou-2021"', 'rules = "hangzhou-2022"', "[project].rules: unknown rule set 'hangzhou-2022'"),
        ('rules = "hangzhou-2021"', 'rules = "mine.toml"', "[project].rules: "),
        ('grading = "grading"', 'grading = "hangzhou-2021"', "[project].grading: grading rules 'hangzhou-2021' lack"),
    ],
)
def test_exit_2_on_a_wrong_rule_set_before_any_analysis(tmp_path, capsys, old, new, expected):
    config = write_config(tmp_path / "raw")
    config.write_text(config.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    assert run(["report", "--config", str(config), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()  # refused before anything was computed or written


def test_exit_2_on_a_wrong_column_name_naming_the_config_entry(tmp_path, capsys):
    scene = tz.samples.sample_town()
    written = tz.samples.write_scene(scene, tmp_path / "raw")
    text = tz.report.sample_config_text(written, base_dir=tmp_path / "raw").replace("enabled = true", "enabled = false")
    cases = [
        ("far_cell_m = 50.0", 'far_cell_m = 50.0\nlanduse_col = "YDYHFLDM"', "in [intensity]: landuse_col"),
        ('population_col = "population"', 'population_col = "RK"', "[access]: the homes layer has no column"),
    ]
    for old, new, expected in cases:
        config = tz.io.write_text(text.replace(old, new, 1), tmp_path / "raw" / "project.toml")
        assert run(["report", "--config", str(config), "--out", str(tmp_path / "out")]) == 2
        err = capsys.readouterr().err
        errors = [line for line in err.splitlines() if not line.startswith("WARNING")]
        assert len(errors) == 1 and errors[0].startswith("error: [") and expected in errors[0]


@pytest.mark.parametrize(
    ("param", "where", "fix"),
    [
        ("id_col", "[control_lines]", 'in project.toml set it in [towns]: id_col = "..."'),
        ("sliver_m2", "[control_lines]", 'in project.toml set it in [control_lines]: sliver_m2 = "..."'),
        ("category_col", "[access]", 'in project.toml set it in [access]: category_col = "..."'),
        ("crs", "[towns]", 'in project.toml declare it in [towns]: crs = "EPSG:4549"'),
        ("crs", "[intensity].parcels", 'parcels = { path = "...", crs = "EPSG:4549" }'),
        ("coord_system", "[access].roads", "in project.toml drop coord_system from [access].roads"),
    ],
)
def test_report_maps_the_error_param_to_its_config_entry(param, where, fix):
    exc = tz.errors.SchemaError("something is wrong", ["something is wrong"], param=param)
    new = tz.report.config._config_error(exc, where)
    assert str(new).startswith(f"{where}: something is wrong; ") and fix in str(new)
    assert type(new) is tz.errors.SchemaError and new.problems == ["something is wrong"] and new.param == param


def test_pdf_without_chromium_is_a_clear_note_not_a_failure(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TONGZHEN_CHROMIUM", str(tmp_path / "no-such-browser"))
    config = write_config(tmp_path / "raw", towns=["T1"])
    assert run(["report", "--config", str(config), "--out", str(tmp_path / "out"), "--pdf"]) == 0
    err = capsys.readouterr().err
    assert "report.pdf not written: no Chromium" in err and "apt-get install chromium" in err
    assert not (tmp_path / "out" / "report.pdf").exists()
    assert (tmp_path / "out" / "report.docx").is_file()


@pytest.mark.skipif(tz.io.find_chromium() is None, reason="no Chromium on this machine (apt-get install chromium)")
def test_pdf_printed_by_chromium(tmp_path, capsys):
    config = write_config(tmp_path / "raw", towns=["T1"])
    assert run(["report", "--config", str(config), "--out", str(tmp_path / "out"), "--pdf"]) == 0
    pdf = tmp_path / "out" / "report.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert f"pdf      {pdf}" in capsys.readouterr().out
