"""``tongzhen intensity`` on the written sample town: files, encodings, exit codes."""

from __future__ import annotations

import pandas as pd
import pytest

import tongzhen_gis as tz
from tongzhen_gis import cli


def run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    return info.value.code


@pytest.fixture
def written(scene, tmp_path):
    return tz.samples.write_scene(scene, tmp_path / "raw")


def test_writes_csv_with_bom_and_excel(written, tmp_path, capsys):
    out = tmp_path / "out"
    code = run(
        [
            "intensity",
            str(written["gpkg"]),
            "--layer",
            "towns",
            "--parcels",
            str(written["gpkg"]),
            "--layer",
            "parcels=parcels",
            "--buildings",
            str(written["gpkg"]),
            "--layer",
            "buildings=buildings",
            "--enterprises",
            str(written["enterprises"]),
            "--raster",
            str(written["landcover"]),
            "--categorical",
            "--firm-scores",
            "--out",
            str(out),
        ]
    )
    assert code == 0  # T2 and T3 fall short of thresholds: judging is `tongzhen report`'s job
    assert (out / "intensity.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    table = pd.read_csv(out / "intensity.csv", encoding="utf-8-sig", index_col="town_id")
    assert list(table.index) == ["T1", "T2", "T3"]
    assert table.loc["T1", "name_zh"] == "云溪数智小镇"
    assert table["far"].tolist() == pytest.approx([0.31, 700_000 / 900_000, 400_000 / 1_020_000], rel=1e-9)
    assert table.loc["T1", "tax_per_mu"] == pytest.approx(20)
    assert pd.isna(table.loc["T3", "tax_per_mu"])
    assert table.loc["T1", "raster_class_1"] == pytest.approx(0.65)
    assert table.loc["T3", "raster_class_4"] == pytest.approx(0.15)
    sheets = pd.read_excel(out / "intensity.xlsx", sheet_name=None)
    assert list(sheets) == ["用地集约 intensity", "亩均评价 firm scores", "问题 problems", "说明 columns"]
    notes = sheets["说明 columns"].set_index("column")
    assert notes.loc["far", "名称"].startswith("综合容积率")
    assert notes.loc["share_07", "名称"].startswith("居住用地")
    assert sheets["用地集约 intensity"]["building_coverage"].iloc[0] == pytest.approx(0.0824)
    firms = pd.read_csv(out / "firm_scores.csv", encoding="utf-8-sig")
    firms = firms.set_index("firm_id")
    assert not firms.loc["E4", "graded"]
    assert firms.loc["E1", "grade"] == "A"
    problems = pd.read_csv(out / "intensity_problems.csv", encoding="utf-8-sig")["problem"]
    assert problems.str.contains("E4").any()
    assert problems.str.contains("neither floors nor height").any()
    captured = capsys.readouterr()
    assert "intensity.xlsx" in captured.out


def test_tall_storey_flag(written, tmp_path):
    out = tmp_path / "out"
    gpkg = str(written["gpkg"])
    argv = ["intensity", gpkg, "--layer", "towns", "--parcels", gpkg, "--layer", "parcels=parcels"]
    argv += ["--buildings", gpkg, "--layer", "buildings=buildings", "--industrial-tall-storey", "--out", str(out)]
    assert run(argv) == 0
    table = pd.read_csv(out / "intensity.csv", encoding="utf-8-sig", index_col="town_id")
    assert table.loc["T3", "floor_area_m2"] == pytest.approx(440_000)


def test_bad_column_is_exit_2_with_one_line(written, tmp_path, capsys):
    gpkg = str(written["gpkg"])
    argv = ["intensity", gpkg, "--layer", "towns", "--parcels", gpkg, "--layer", "parcels=parcels"]
    argv += ["--landuse-col", "YDYHFLDM", "--out", str(tmp_path / "out")]
    assert run(argv) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.startswith("error:") and "YDYHFLDM" in err
    assert len(err.strip().splitlines()) == 1


def test_missing_layer_is_exit_2(written, tmp_path, capsys):
    gpkg = str(written["gpkg"])
    argv = ["intensity", gpkg, "--layer", "no_such_layer", "--parcels", gpkg, "--out", str(tmp_path / "o")]
    assert run(argv) == cli.EXIT_BAD_INPUT
    assert "no_such_layer" in capsys.readouterr().err


def test_firm_scores_need_enterprises(written, tmp_path):
    gpkg = str(written["gpkg"])
    argv = ["intensity", gpkg, "--layer", "towns", "--parcels", gpkg, "--layer", "parcels=parcels"]
    assert run([*argv, "--firm-scores", "--out", str(tmp_path / "o")]) == cli.EXIT_BAD_INPUT


def test_towns_without_crs_name_the_option_and_crs_fixes_it(scene, written, tmp_path, capsys):
    scene.towns.to_file(tmp_path / "towns.shp", engine="pyogrio", encoding="UTF-8")
    (tmp_path / "towns.prj").unlink()
    gpkg = str(written["gpkg"])
    argv = ["intensity", str(tmp_path / "towns.shp"), "--parcels", gpkg, "--layer", "parcels=parcels"]
    assert run([*argv, "--out", str(tmp_path / "o")]) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: towns (")
    assert err.strip().endswith("; on the command line: --crs towns=EPSG:4549")
    assert run([*argv, "--crs", "EPSG:4549", "--out", str(tmp_path / "o")]) == 0
    table = pd.read_csv(tmp_path / "o" / "intensity.csv", encoding="utf-8-sig", index_col="town_id")
    assert table["construction_share"].tolist() == pytest.approx([1.0, 0.9, 0.85], rel=1e-9)  # docstring


def test_unknown_parcels_layer_names_the_option(written, tmp_path, capsys):
    gpkg = str(written["gpkg"])
    argv = ["intensity", gpkg, "--layer", "towns", "--parcels", gpkg, "--layer", "parcels=parcelz"]
    assert run([*argv, "--out", str(tmp_path / "o")]) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "'parcels'" in err
    assert err.strip().endswith("; on the command line: --layer parcels=LAYER")


def test_gbk_enterprises_with_chinese_headers_and_a_stray_town(scene, written, tmp_path, capsys):
    headers = {"town_id": "小镇编号", "tax_wan": "税收", "investment_wan": "投资", "jobs": "从业人员"}
    firms = scene.enterprises.rename(columns=headers)
    firms = pd.concat([firms, firms.iloc[[0]].assign(小镇编号="T9")], ignore_index=True)
    firms.to_csv(tmp_path / "firms.csv", index=False, encoding="gbk")
    gpkg = str(written["gpkg"])
    argv = ["intensity", gpkg, "--layer", "towns", "--parcels", gpkg, "--layer", "parcels=parcels"]
    assert run([*argv, "--enterprises", str(tmp_path / "firms.csv"), "--out", str(tmp_path / "o")]) == 0
    table = pd.read_csv(tmp_path / "o" / "intensity.csv", encoding="utf-8-sig", index_col="town_id")
    # docstring: T1 30 000 万元 tax and 450 000 万元 investment over 1 500 亩; jobs 6 000
    assert table.loc["T1", "tax_per_mu"] == pytest.approx(20.0, rel=1e-12)
    assert table.loc["T1", "investment_per_mu"] == pytest.approx(300.0, rel=1e-12)
    assert table.loc["T1", "jobs"] == 6_000
    problems = pd.read_csv(tmp_path / "o" / "intensity_problems.csv", encoding="utf-8-sig")["problem"]
    assert problems.str.contains("T9").any()  # reported, not silently dropped


def test_a_filegdb_folder_is_accepted_as_towns(scene, written, tmp_path):
    scene.towns.to_file(tmp_path / "towns.gdb", driver="OpenFileGDB", layer="towns")
    gpkg = str(written["gpkg"])
    argv = ["intensity", str(tmp_path / "towns.gdb"), "--parcels", gpkg, "--layer", "parcels=parcels"]
    assert run([*argv, "--out", str(tmp_path / "o")]) == 0
    table = pd.read_csv(tmp_path / "o" / "intensity.csv", encoding="utf-8-sig", index_col="town_id")
    assert table["residential_share"].tolist() == pytest.approx([0.2, 5 / 9, 0.0], rel=1e-9)  # docstring


def test_town_without_geometry_gets_a_row_with_empty_figures_and_a_note(scene, tmp_path, capsys):
    towns = scene.towns.copy()
    towns["geometry"] = towns.geometry.where(towns["town_id"] != "T2", None)
    path = tz.io.write_layer(towns, tmp_path / "towns.gpkg", layer="towns")
    written = tz.samples.write_scene(scene, tmp_path / "raw")
    gpkg = str(written["gpkg"])
    argv = ["intensity", str(path), "--parcels", gpkg, "--layer", "parcels=parcels", "--out", str(tmp_path / "o")]
    assert run(argv) == 0
    assert "note(s) on the data" in capsys.readouterr().err
    table = pd.read_csv(tmp_path / "o" / "intensity.csv", encoding="utf-8-sig", index_col="town_id")
    assert list(table.index) == ["T1", "T2", "T3"]  # every town of the file
    assert pd.isna(table.loc["T2", "area_m2"]) and pd.isna(table.loc["T2", "construction_share"])
    assert table["construction_share"].drop("T2").tolist() == pytest.approx([1.0, 0.85], rel=1e-9)  # docstring
    problems = pd.read_csv(tmp_path / "o" / "intensity_problems.csv", encoding="utf-8-sig")["problem"]
    assert problems.str.contains("no geometry").any()
