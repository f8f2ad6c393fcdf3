"""``--encoding NAME=ENCODING`` on every command and ``encoding = "GBK"`` in ``project.toml``.

Old desktop GIS exports shapefiles in GBK without a ``.cpg``. Read without a declaration they
fall back to GBK with a warning, which names the command's own option; declared with
``--encoding NAME=gbk`` they are read as GBK without one. A Big5 file shows the option is
obeyed (the GBK fallback would not give its names back; without the option it is recognised
as Big5, see tests/test_io.py). A bad encoding or input name
is a usage error: exit 2 and one ``error:`` line.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest

import tongzhen_gis as tz
from tongzhen_gis import cli

FALLBACK = "no usable .cpg file"


def run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    return info.value.code


def _shapefile(gdf, path: Path, encoding: str) -> Path:
    """``gdf`` as a shapefile in ``encoding`` without its .cpg, as old exports are."""
    tz.io.write_layer(gdf, path, encoding=encoding)
    path.with_suffix(".cpg").unlink()
    return path


@pytest.fixture(scope="module")
def gbk_towns(tmp_path_factory):
    return _shapefile(tz.samples.sample_town().towns, tmp_path_factory.mktemp("gbk") / "towns.shp", "GBK")


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def _check_lines(features: Path, gpkg: Path, out: Path, *extra: str) -> list[str]:
    g = str(gpkg)
    return ["check-lines", str(features), "--red-line", g, "--layer", "red-line=red_line", "--out", str(out), *extra]


def _intensity(towns: Path, gpkg: Path, out: Path, *extra: str) -> list[str]:
    g = str(gpkg)
    return ["intensity", str(towns), "--parcels", g, "--layer", "parcels=parcels", "--out", str(out), *extra]


def _access(homes: Path, gpkg: Path, out: Path, *extra: str) -> list[str]:
    g = str(gpkg)
    return [
        "access",
        *("--roads", g, "--layer", "roads=roads", "--facilities", g, "--layer", "facilities=facilities"),
        *("--homes", str(homes), "--out", str(out), *extra),
    ]


def test_without_the_option_the_fallback_warning_names_it(gbk_towns, sample_gpkg, tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="tongzhen_gis"):
        assert run(_intensity(gbk_towns, sample_gpkg, tmp_path / "out")) == 0
    warned = [r.getMessage() for r in caplog.records if FALLBACK in r.getMessage()]
    assert len(warned) == 1
    assert warned[0].endswith("; on the command line: --encoding towns=GBK (or UTF-8)")


def test_check_lines_reads_gbk_features_as_told(gbk_towns, sample_gpkg, scene, tmp_path, caplog):
    out = tmp_path / "out"
    with caplog.at_level(logging.WARNING, logger="tongzhen_gis"):
        assert run(_check_lines(gbk_towns, sample_gpkg, out, "--encoding", "features=gbk")) == 1  # T2 on the red line
    assert not [r for r in caplog.records if FALLBACK in r.getMessage()]
    summary = pd.read_csv(out / "summary.csv", encoding="utf-8-sig", index_col="town_id")
    assert summary["verdict"].to_dict() == {"T1": "pass", "T2": "conflict", "T3": "pass"}


def test_intensity_reads_gbk_towns_as_told(gbk_towns, sample_gpkg, scene, tmp_path, caplog):
    out = tmp_path / "out"
    with caplog.at_level(logging.WARNING, logger="tongzhen_gis"):
        # the bare value belongs to TOWNS, as for --layer and --crs
        assert run(_intensity(gbk_towns, sample_gpkg, out, "--encoding", "gbk")) == 0
    assert not [r for r in caplog.records if FALLBACK in r.getMessage()]
    table = pd.read_csv(out / "intensity.csv", encoding="utf-8-sig", index_col="town_id")
    assert table["name_zh"].to_dict() == scene.towns.set_index("town_id")["name_zh"].to_dict()


def test_a_big5_file_is_read_only_with_the_option(scene, sample_gpkg, tmp_path):
    # Big5 has traditional characters only (镇 → 鎮, 区 → 區)
    traditional = scene.towns.assign(
        name_zh=["雲溪數智小鎮", "青山文旅小鎮", "桑田智造小鎮"], district=["西湖區", "西湖區", "餘杭區"]
    )
    towns = _shapefile(traditional, tmp_path / "big5" / "towns.shp", "big5")
    expected = traditional.set_index("town_id")["name_zh"].to_dict()
    # the fallback (GBK) would not give these names back
    assert all(n.encode("big5").decode("gbk", errors="replace") != n for n in expected.values())
    assert run(_intensity(towns, sample_gpkg, tmp_path / "told", "--encoding", "towns=big5")) == 0
    told = pd.read_csv(tmp_path / "told" / "intensity.csv", encoding="utf-8-sig", index_col="town_id")
    assert told["name_zh"].to_dict() == expected


def test_access_reads_gbk_homes_as_told(scene, sample_gpkg, tmp_path, caplog):
    homes = scene.homes.assign(名称=[f"住宅{i}" for i in range(len(scene.homes))])
    path = _shapefile(homes, tmp_path / "gbk" / "homes.shp", "GBK")
    out = tmp_path / "out"
    with caplog.at_level(logging.WARNING, logger="tongzhen_gis"):
        assert run(_access(path, sample_gpkg, out, "--encoding", "homes=gbk")) == 1  # T3 lacks a kindergarten
    assert not [r for r in caplog.records if FALLBACK in r.getMessage()]
    got = tz.io.read_layer(out / "home_distances.gpkg", layer="home_distances").set_index("home_id")
    assert got["名称"].to_dict() == homes.set_index("home_id")["名称"].to_dict()


def test_city_reads_gbk_locations_as_told(scene, tmp_path, caplog):
    written = tz.samples.write_city(tz.samples.sample_city(), tmp_path / "raw")
    locations = tz.io.read_layer(written["locations"], layer="towns")
    locations = locations.set_geometry(locations.representative_point())  # a shapefile holds one kind
    path = _shapefile(locations, tmp_path / "gbk" / "locations.shp", "GBK")
    argv = ["city", "--towns", str(written["towns"]), "--locations", str(path), "--out", str(tmp_path / "out")]
    with caplog.at_level(logging.WARNING, logger="tongzhen_gis"):
        assert run([*argv, "--encoding", "locations=gbk"]) == 1  # the sample city fails some targets
    assert not [r for r in caplog.records if FALLBACK in r.getMessage()]
    assert (tmp_path / "out" / "charts" / "verdict_map.png").stat().st_size > 0


def _report_config(folder: Path, scene, encoding: str) -> Path:
    written = tz.samples.write_scene(scene, folder)
    _shapefile(scene.towns, folder / "towns.shp", "GBK")
    text = tz.report.sample_config_text(written, base_dir=folder)
    towns_table = text.split("[towns]")[1].split("\n[")[0]
    text = text.replace(towns_table, f'\npath = "towns.shp"\nencoding = "{encoding}"\n')
    text = text.split("[intensity]")[0] + "[maps]\nenabled = false\n"
    return tz.io.write_text(text, folder / "project.toml")


def test_report_reads_gbk_towns_as_the_config_says(scene, tmp_path, caplog):
    config = _report_config(tmp_path / "raw", scene, "GBK")
    with caplog.at_level(logging.WARNING, logger="tongzhen_gis"):
        assert run(["report", "--config", str(config), "--out", str(tmp_path / "out")]) == 1  # T2, T3 fail
    assert not [r for r in caplog.records if FALLBACK in r.getMessage()]
    sheet = pd.read_excel(tmp_path / "out" / "report.xlsx", sheet_name="汇总", index_col=0)
    assert sheet["小镇名称"].to_dict() == scene.towns.set_index("town_id")["name_zh"].to_dict()


def test_report_refuses_an_unknown_encoding(scene, tmp_path, capsys):
    config = _report_config(tmp_path / "raw", scene, "klingon")
    assert run(["report", "--config", str(config), "--out", str(tmp_path / "out")]) == 2
    line = _one_error_line(capsys)
    assert "[towns].encoding = 'klingon' is not a text encoding" in line


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--encoding", "towns=klingon"], "towns=klingon: unknown text encoding"),
        (["--encoding", "water=gbk"], "unknown input 'water'"),
        (["--encoding", "towns="], "gives no value after '='"),
        (["--encoding", "buildings=gbk"], "--encoding buildings=... needs --buildings"),
    ],
)
def test_bad_encoding_options_exit_2_with_one_error_line(gbk_towns, sample_gpkg, tmp_path, capsys, extra, message):
    assert run(_intensity(gbk_towns, sample_gpkg, tmp_path / "out", *extra)) == cli.EXIT_BAD_INPUT
    assert message in _one_error_line(capsys)
