"""``tongzhen city`` on the written sample city and on the real list: files and exit codes."""

from __future__ import annotations

import pandas as pd
import pytest

import tongzhen_gis as tz
from tongzhen_gis import cli
from tongzhen_gis.cli.city import parse_years


def run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    return info.value.code


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    return tz.samples.write_city(tz.samples.sample_city(), tmp_path_factory.mktemp("raw"))


def test_sample_city_exits_1_and_writes_every_table(written, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["city", "--towns", str(written["towns"]), "--years", "2021-2023", "--out", str(out)]
    code = run([*argv, "--locations", str(written["locations"]), "--layer", "locations=towns"])
    assert code == 1  # tax, digital share and high-tech firms fail in 2023 (sample docstring)
    err = capsys.readouterr().err
    assert "产值(亿元)" in err  # the unit conversion is reported
    assert "3 fail" in err
    targets = pd.read_csv(out / "city_targets.csv", encoding="utf-8-sig", index_col="rule")
    assert targets.loc["towns_tax_over_10yi_min", "value"] == 14
    assert targets.loc["towns_scale_1000yi_min", "status"] == "pass"  # 1000 亿元 read as 10 000 000 万元
    by_year = pd.read_csv(out / "city_targets_by_year.csv", encoding="utf-8-sig", index_col="rule")
    assert list(by_year.columns) == ["2021", "2022", "2023"]
    warnings = pd.read_csv(out / "city_warnings.csv", encoding="utf-8-sig")
    assert warnings["town_id"].tolist() == ["C16", "C24", "C29"]
    sheets = pd.read_excel(out / "city.xlsx", sheet_name=None)
    assert "城市总体目标 targets" in sheets and "预警 warnings" in sheets
    for name in ("city_targets.png", "tax_per_mu_trends.png", "output_trends.png", "verdict_map.png"):
        assert (out / "charts" / name).stat().st_size > 0


def _override(key: str, indicator: str, value: float) -> str:
    return (
        f'[threshold.{key}]\nindicator = {indicator!r}\ncomparator = ">="\nvalue = {value}\n'
        'unit = "个"\ndocument = "test"\nclause = "test"\n'
    )


def test_all_targets_pass_exits_0(tmp_path):
    # one digital town with every figure, and a reviewer's file asking one town per count
    rules = tmp_path / "one_town.toml"
    counts = {
        "named_towns_min": "named_towns",
        "towns_scale_1000yi_min": "towns_scale_1000yi",
        "towns_scale_500yi_min": "towns_scale_500yi",
        "towns_scale_100yi_min": "towns_scale_100yi",
        "towns_tax_over_10yi_min": "towns_tax_over_10yi",
    }
    text = 'include = ["hangzhou-2021-city"]\n' + "".join(_override(k, i, 1.0) for k, i in counts.items())
    rules.write_text(text, encoding="utf-8")
    table = tmp_path / "towns.csv"
    header = (
        "小镇编号,年份,状态,小镇类型,产值(亿元),税收收入(亿元),营业收入,研发经费,软投入,"
        "高新技术企业数,科技型中小企业数,创新平台\n"
    )
    table.write_text(
        header + "A,2020,命名,数字经济,900,8,100,6,10,5,5,国家级\nA,2023,命名,数字经济,1100,11,100,6,20,10,10,国家级\n",
        encoding="utf-8",
    )
    argv = ["city", "--towns", str(table), "--rules", str(rules), "--no-charts", "--out", str(tmp_path / "o")]
    assert run(argv) == 0
    targets = pd.read_csv(tmp_path / "o" / "city_targets.csv", encoding="utf-8-sig", index_col="rule")
    assert targets.loc["tourism_5a_share_min", "status"] == "not_applicable"  # no tourism town
    assert set(targets["status"].drop("tourism_5a_share_min")) == {"pass"}
    # with the shipped rules the same town falls short of the counts: exit 1
    assert run(["city", "--towns", str(table), "--no-charts", "--out", str(tmp_path / "p")]) == 1


def test_bad_input_exits_2_with_one_line(tmp_path, capsys):
    table = tmp_path / "towns.csv"
    table.write_text("小镇编号,年份,状态\nA,2023,优秀\n", encoding="utf-8")
    assert run(["city", "--towns", str(table), "--no-charts", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "优秀" in err and "Traceback" not in err
    assert run(["city", "--towns", str(table), "--years", "2023-2021", "--out", str(tmp_path / "o")]) == 2


def test_years_not_in_the_table_exit_2(written, tmp_path, capsys):
    assert run(["city", "--towns", str(written["towns"]), "--years", "2018", "--out", str(tmp_path / "o")]) == 2
    assert "2018" in capsys.readouterr().err


def test_parse_years():
    assert parse_years("2021-2023") == [2021, 2022, 2023]
    assert parse_years("2023,2021") == [2021, 2023]
    assert parse_years(None) is None


@pytest.mark.shared_data
def test_real_list_exits_1_with_economic_targets_missing(shared_data, tmp_path):
    path = shared_data("towns/hangzhou_tezhen_towns_names.csv")
    out = tmp_path / "real"
    assert run(["city", "--towns", str(path), "--out", str(out)]) == 1
    targets = pd.read_csv(out / "city_targets.csv", encoding="utf-8-sig", index_col="rule")
    assert "pass" not in set(targets["status"])
    assert targets.loc["towns_tax_over_10yi_min", "status"] == "missing"


def test_demo_writes_the_sample_city_and_keeps_its_exit_code(tmp_path, capsys):
    assert run(["demo", "--out", str(tmp_path)]) == 1  # the report's code, as before
    raw = tmp_path / "raw" / "sample"
    assert (raw / "city_towns.csv").exists() and (raw / "city_locations.gpkg").exists()
    out = tmp_path / "processed" / "sample" / "city"
    targets = pd.read_csv(out / "city_targets.csv", encoding="utf-8-sig", index_col="rule")
    assert targets.loc["named_towns_min", "value"] == 21
    assert (out / "charts" / "verdict_map.png").exists()
    assert "city     exit 1" in capsys.readouterr().out
    # the report's chapter 城市总体目标 ([city] in the demo's project.toml)
    report = tmp_path / "processed" / "sample"
    sheets = pd.read_excel(report / "report.xlsx", sheet_name=["城市总体目标", "小镇预警"])
    targets = sheets["城市总体目标"].set_index("目标")
    assert targets.loc["税收收入超10亿元特色小镇数", "状态"] == "未达标"
    assert targets.loc["税收收入超10亿元特色小镇数", "达成值"] == 14
    assert targets.loc["百亿级特色小镇数", "状态"] == "缺数据"
    assert targets.loc["建有省级以上创新平台的特色小镇占比", "达成值"] == "90.0%"  # one decimal, as every share
    assert targets.loc["累计省政府命名特色小镇数", ["2020年状态", "2023年状态"]].tolist() == ["未达标", "达标"]
    warnings = sheets["小镇预警"]
    assert warnings["小镇编号"].tolist() == ["C16", "C24", "C29"]
    assert warnings["建议后状态"].tolist()[2] == "培育"
    page = (report / "report.html").read_text(encoding="utf-8")
    assert "<h2>城市总体目标</h2>" in page and "小镇预警" in page
    assert (report / "maps" / "city_targets.png").exists() and (report / "maps" / "city_verdicts.png").exists()


def test_report_city_entry_errors_name_the_config_key(tmp_path):
    written = tz.samples.write_scene(tz.samples.sample_town(), tmp_path)
    config = tz.report.sample_config_text(written, base_dir=tmp_path)
    (tmp_path / "towns.csv").write_text("小镇编号,年份,状态\nA,2023,优秀\n", encoding="utf-8")
    bad = tmp_path / "project.toml"
    bad.write_text(config + '[city]\ntowns = "towns.csv"\n', encoding="utf-8")
    with pytest.raises(tz.errors.SchemaError) as info:
        tz.report.build(bad, tmp_path / "out")
    assert info.value.config_key == "[city].towns" and "优秀" in str(info.value)
    bad.write_text(config + '[city]\ntowns = "towns.csv"\nyears = "2023-2020"\n', encoding="utf-8")
    (tmp_path / "towns.csv").write_text("小镇编号,年份,状态\nA,2023,命名\n", encoding="utf-8")
    with pytest.raises(tz.errors.SchemaError) as info:
        tz.report.build(bad, tmp_path / "out")
    assert info.value.config_key == "[city]"


def test_one_sheet_per_year_reads_as_one_table(tmp_path):
    city = tz.samples.sample_city()
    headers = tz.samples.CITY_HEADERS_ZH | {"output_wan": "产值(万元)"}
    sheets = {
        f"{year}年": part.drop(columns="year").rename(columns=headers) for year, part in city.table.groupby("year")
    }
    workbook = tz.io.write_workbook(sheets, tmp_path / "towns.xlsx", index=False)
    assert tz.io.list_sheets(workbook) == ["2020年", "2021年", "2022年", "2023年"]
    out = tmp_path / "out"
    assert run(["city", "--towns", str(workbook), "--no-charts", "--out", str(out)]) == 1
    targets = pd.read_csv(out / "city_targets.csv", encoding="utf-8-sig", index_col="rule")
    expected = tz.city.city_targets(city.table)
    assert targets["status"].tolist() == expected["status"].tolist()
    assert targets.loc["hightech_firms_growth_min", "value"] == pytest.approx(418 / 220)
