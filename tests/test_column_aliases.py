"""Every column alias of ``rules/schema.toml`` works where the docs say it does.

The figures under an alias must equal the figures under the canonical name (a renaming
cannot change a measurement); the sample town's docstring gives the canonical figures.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

import tongzhen_gis as tz
from tongzhen_gis import cli
from tongzhen_gis.errors import SchemaError


def _aliases(role: str, column: str) -> list[str]:
    return list(tz.schema.ROLES[role].columns[column].aliases)


def run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    return info.value.code


# The sample town's FAR (its docstring): T1 0.31, T2 700 000 / 900 000, T3 400 000 / 1 020 000.
FAR = [0.31, 700_000 / 900_000, 400_000 / 1_020_000]


@pytest.mark.parametrize("alias", _aliases("towns", "town_id"))
def test_town_id_aliases_in_summarize(scene, alias):
    towns = scene.towns.rename(columns={"town_id": alias})
    table = tz.intensity.summarize(towns, parcels=scene.parcels, buildings=scene.buildings)
    assert table.index.name == "town_id" and list(table.index) == ["T1", "T2", "T3"]
    assert table["far"].tolist() == pytest.approx(FAR, rel=1e-12)


@pytest.mark.parametrize("alias", _aliases("parcels", "landuse_code"))
def test_landuse_code_aliases_in_summarize(scene, alias):
    parcels = scene.parcels.rename(columns={"landuse_code": alias})
    table = tz.intensity.summarize(scene.towns, parcels=parcels, buildings=scene.buildings)
    assert table["far"].tolist() == pytest.approx(FAR, rel=1e-12)


@pytest.mark.parametrize("alias", _aliases("buildings", "floors"))
def test_floors_aliases_in_summarize_and_floor_area(scene, alias):
    buildings = scene.buildings.rename(columns={"floors": alias})
    table = tz.intensity.summarize(scene.towns, parcels=scene.parcels, buildings=buildings)
    assert table["far"].tolist() == pytest.approx(FAR, rel=1e-12)
    info = tz.intensity.building_floor_area(buildings)
    pd.testing.assert_frame_equal(info, tz.intensity.building_floor_area(scene.buildings))


@pytest.mark.parametrize("alias", _aliases("buildings", "height_m"))
def test_height_aliases_in_floor_area(scene, alias):
    heights = scene.buildings.drop(columns="floors")
    expected = tz.intensity.building_floor_area(heights)
    info = tz.intensity.building_floor_area(heights.rename(columns={"height_m": alias}))
    assert info["floors_from"].eq("height").sum() == 12  # all but building 5, which has no height
    pd.testing.assert_frame_equal(info, expected)


def test_town_id_alias_in_zonal_and_check(scene):
    towns = scene.towns.rename(columns={"town_id": "小镇编号"})
    zones = tz.intensity.zonal(towns, scene.landcover, categorical=True, id_col="town_id")
    assert list(zones.index) == ["T1", "T2", "T3"]
    result = tz.controllines.check(towns, red_line=scene.red_line)
    assert result.summary.loc["T2", "red_line_m2"] == pytest.approx(100_000)


def test_facility_category_alias_in_access(scene):
    facilities = scene.facilities.rename(columns={"category": "设施类型"})
    net = tz.access.prepare(tz.network.from_lines(scene.roads))
    homes = scene.homes.set_index("home_id")
    near = tz.access.nearest(net, homes, facilities.set_index("facility_id"))
    expected = tz.access.nearest(net, homes, scene.facilities.set_index("facility_id"))
    pd.testing.assert_frame_equal(near, expected)


def test_two_columns_meaning_one_are_refused_by_name(scene):
    towns = scene.towns.assign(小镇编号=scene.towns["town_id"]).drop(columns="town_id").assign(XZBH="x")
    with pytest.raises(SchemaError, match="'小镇编号', 'XZBH' all mean 'town_id'"):
        tz.intensity.summarize(towns, parcels=scene.parcels)


def test_find_column_and_use_columns():
    df = pd.DataFrame({"楼层数": [3], "高度（米）": [9.0]})
    assert tz.schema.find_column(df, "buildings", "floors") == "楼层数"
    assert tz.schema.find_column(df, "buildings", "层数") is None  # a name the caller chose is taken literally
    assert tz.schema.find_column(df, "buildings", "height_m") == "高度（米）"  # NFKC: full-width brackets
    assert tz.schema.find_column(df, "buildings", "nope") is None
    out = tz.schema.use_columns(df, "buildings", "floors", None)
    assert list(out.columns) == ["floors", "高度（米）"] and out.attrs["renamed_columns"] == {"楼层数": "floors"}
    assert list(df.columns) == ["楼层数", "高度（米）"]  # the input is untouched


@pytest.fixture
def renamed(scene, tmp_path):
    """The sample town written with the Chinese column names of each role."""
    path = tmp_path / "raw" / "镇.gpkg"
    tz.io.write_layer(scene.towns.rename(columns={"town_id": "小镇编号", "name_zh": "小镇名称"}), path, layer="towns")
    tz.io.write_layer(scene.parcels.rename(columns={"landuse_code": "用地代码"}), path, layer="parcels")
    buildings = scene.buildings.rename(columns={"floors": "层数", "height_m": "建筑高度"})
    tz.io.write_layer(buildings, path, layer="buildings")
    firms = scene.enterprises.rename(columns={"town_id": "小镇编号", "tax_wan": "税收(万元)"})
    return path, tz.io.write_table(firms, tmp_path / "raw" / "企业.csv", index=False)


def test_intensity_command_takes_the_chinese_names(renamed, tmp_path):
    path, firms = renamed
    out = tmp_path / "out"
    argv = ["intensity", str(path), "--layer", "towns", "--parcels", str(path), "--layer", "parcels=parcels"]
    argv += ["--buildings", str(path), "--layer", "buildings=buildings", "--enterprises", str(firms)]
    assert run([*argv, "--out", str(out)]) == 0
    table = pd.read_csv(out / "intensity.csv", encoding="utf-8-sig", index_col="town_id")
    assert table.loc["T1", "name_zh"] == "云溪数智小镇"
    assert table["far"].tolist() == pytest.approx(FAR, rel=1e-9)
    assert table.loc["T1", "tax_per_mu"] == pytest.approx(20)


def test_intensity_command_names_its_option_not_the_keyword(renamed, tmp_path, capsys):
    path, _ = renamed
    argv = ["intensity", str(path), "--layer", "towns", "--parcels", str(path), "--layer", "parcels=parcels"]
    assert run([*argv, "--id-col", "编号", "--landuse-col", "代码", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "--id-col" in err and "--landuse-col" in err
    assert "id_col=" not in err and "landuse_col=" not in err
    assert "小镇编号" in err  # the accepted names are listed


def test_report_reads_towns_under_their_chinese_names(tmp_path):
    scene = tz.samples.sample_town()
    renamed = scene.towns.rename(columns={"town_id": "小镇编号", "name_zh": "小镇名称", "category": "小镇类型"})
    scene = dataclasses.replace(scene, towns=renamed)
    written = tz.samples.write_scene(scene, tmp_path / "raw")
    text = tz.report.sample_config_text(written, base_dir=tmp_path / "raw")  # says id_col = "town_id"
    text = text.split("[intensity]")[0] + "[maps]\nenabled = false\n"  # control lines only: light
    result = tz.report.build(tz.report.parse_config(text, base_dir=tmp_path / "raw"), tmp_path / "out")
    assert list(result.evaluation.grades.index) == ["T1", "T2", "T3"]
