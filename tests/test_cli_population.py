"""The homes' people column under its Chinese, pinyin and English names (``tongzhen access``, the report).

The default ``--population-col population`` finds the column under every accepted name of
``rules/schema.toml`` (role ``homes``), as ``town_id`` finds 小镇编号; a name given on the
command line is literal, and its absence stops the command naming what was looked for and
the column that means the same. Expected people per town are summed from the sample's own
homes (the input), not from the command's output.
"""

from __future__ import annotations

import pandas as pd
import pytest

import tongzhen_gis as tz
from tongzhen_gis import cli

#: One or more names per family of the accepted names of ``population``.
FAMILIES = {
    "chinese": ["人口", "人数", "常住人口", "居住人口", "人口数", "人口（人）"],
    "pinyin": ["renkou", "RENKOU", "RK", "CZRK", "changzhurenkou"],
    "english": ["pop", "POP", "population"],
}


def run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    return info.value.code


def _access(gpkg, homes, out, *extra: str) -> list[str]:
    g = str(gpkg)
    return [
        "access",
        *("--roads", g, "--layer", "roads=roads", "--facilities", g, "--layer", "facilities=facilities"),
        *("--homes", str(homes), "--out", str(out), *extra),
    ]


def _homes_as(scene, name: str, folder) -> object:
    path = folder / "homes.gpkg"
    tz.io.write_layer(scene.homes.rename(columns={"population": name}), path, layer="homes")
    return path


@pytest.mark.parametrize(("family", "names"), FAMILIES.items())
def test_every_accepted_name_is_found_by_the_schema(family, names):
    for name in names:
        homes = pd.DataFrame({name: [1.0], "x": [0]})
        assert tz.schema.find_column(homes, "homes", "population") == name, (family, name)


@pytest.mark.parametrize("name", ["人口", "常住人口", "renkou", "pop"])
def test_access_counts_people_from_an_alias_column(scene, sample_gpkg, tmp_path, capsys, name):
    out = tmp_path / "out"
    assert run(_access(sample_gpkg, _homes_as(scene, name, tmp_path), out)) == 1  # T3 lacks a kindergarten
    err = capsys.readouterr().err
    assert f"note: homes: people per home read from column {name!r} (a name of 'population')" in err
    cov = pd.read_csv(out / "coverage.csv", encoding="utf-8-sig")
    people = cov[cov["category"] == "kindergarten"].set_index("town")["population"]
    expected = scene.homes.groupby("town_id")["population"].sum()
    for town in ("T1", "T2", "T3"):
        assert people[town] == pytest.approx(expected[town])


def test_without_any_people_column_the_note_lists_what_was_looked_for(scene, sample_gpkg, tmp_path, capsys):
    path = tmp_path / "homes.gpkg"
    tz.io.write_layer(scene.homes.drop(columns="population"), path, layer="homes")
    assert run(_access(sample_gpkg, path, tmp_path / "out")) == 1
    err = capsys.readouterr().err
    assert "note: homes have no population column (looked for 'population', '人口', '人数'" in err
    assert "'renkou'" in err and "'pop'" in err


def test_a_named_column_is_literal_and_its_absence_names_the_alias(scene, sample_gpkg, tmp_path, capsys):
    homes = _homes_as(scene, "人口", tmp_path)
    assert run(_access(sample_gpkg, homes, tmp_path / "out", "--population", "pop")) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in err
    assert "homes have no column 'pop' (given with --population; looked for 'pop'; '人口' means the same)" in lines[0]
    assert "means the same): --population 人口;" in lines[0]
    # and named as it is, it is used
    assert run(_access(sample_gpkg, homes, tmp_path / "named", "--population", "人口")) == 1


def test_report_finds_the_people_column_under_an_alias(scene, tmp_path):
    folder = tmp_path / "raw"
    scene = tz.samples.Scene(**{**scene.__dict__, "homes": scene.homes.rename(columns={"population": "常住人口"})})
    written = tz.samples.write_scene(scene, folder)
    text = tz.report.sample_config_text(written, base_dir=folder)
    assert 'population_col = "population"' in text
    text = text.split("[intensity]")[0] + "[access]" + text.split("[access]")[1]  # no land-use run
    text = text.replace("enabled = true", "enabled = false") + '\n[report]\nformats = ["xlsx"]\n'
    config = tz.io.write_text(text, folder / "project.toml")
    tz.report.build(config, tmp_path / "out")
    sheet = pd.read_excel(tmp_path / "out" / "report.xlsx", sheet_name="生活圈")
    people = sheet[sheet["设施类别"] == "kindergarten"].set_index("小镇编号")["人口"]
    expected = scene.homes.groupby("town_id")["常住人口"].sum()
    for town in ("T1", "T2", "T3"):
        assert people[town] == pytest.approx(expected[town])
