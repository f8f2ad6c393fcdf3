"""The city view (tz.city): targets, the town table, the list over the years.

Expected figures are worked out by hand from the sample city's docstring
(``tz.samples.sample_city``), not copied from the code's output.
"""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tongzhen_gis as tz
from tongzhen_gis.errors import SchemaError

ECONOMIC_TARGETS = [
    "towns_scale_1000yi_min",
    "towns_scale_500yi_min",
    "towns_scale_100yi_min",
    "towns_tax_over_10yi_min",
    "rd_intensity_city_min",
    "soft_investment_growth_min",
    "hightech_firms_growth_min",
    "tech_sme_firms_growth_min",
]


def ids(first: int, last: int) -> list[str]:
    return [f"C{i:02d}" for i in range(first, last + 1)]


@pytest.fixture(scope="module")
def city() -> tz.samples.SampleCity:
    return tz.samples.sample_city()


@pytest.fixture(scope="module")
def review(city) -> tz.city.CityReview:
    return tz.city.review(city.table)


def test_sample_city_shape(city):
    assert len(city.table) == 30 * 4
    assert sorted(city.table["year"].unique()) == [2020, 2021, 2022, 2023]
    assert list(city.locations["town_id"]) == ids(1, 30)


def test_targets_2023_match_the_docstring(city):
    t = tz.city.city_targets(city.table)
    expected = {
        # rule: (value, status) worked out in the sample docstring
        "named_towns_min": (21, "pass"),
        "towns_scale_1000yi_min": (2, "pass"),
        "towns_scale_500yi_min": (3, "pass"),
        "towns_scale_100yi_min": (11, "missing"),
        "towns_tax_over_10yi_min": (14, "fail"),
        "digital_manufacturing_share_min": (20 / 30, "fail"),
        "rd_intensity_city_min": ((19 * 60_000 + 10 * 35_000 + 10_000) / (30 * 1_000_000), "pass"),
        "soft_investment_growth_min": ((22 * 2_000) / (22 * 1_000), "pass"),
        "hightech_firms_growth_min": ((22 * 19) / (22 * 10), "fail"),
        "tech_sme_firms_growth_min": ((21 * 45) / (21 * 20), "missing"),
        "innovation_platform_share_min": (27 / 30, "pass"),
        "tourism_5a_share_min": (1 / 4, "fail"),
    }
    assert list(t.index) == list(expected)
    for rule, (value, status) in expected.items():
        assert t.loc[rule, "value"] == pytest.approx(value, rel=1e-12), rule
        assert t.loc[rule, "status"] == status, rule
    assert (t["year"] == 2023).all()
    assert t.loc["named_towns_min", "town_ids"].split("、") == ids(1, 21)
    assert t.loc["towns_scale_1000yi_min", "town_ids"].split("、") == ["C01", "C02"]
    assert t.loc["towns_scale_100yi_min", "unknown_ids"] == "C12"
    assert t.loc["towns_tax_over_10yi_min", "town_ids"].split("、") == ids(1, 14)  # C15 pays exactly 10亿
    assert t.loc["tech_sme_firms_growth_min", "unknown_ids"] == "C22"
    assert t.loc["named_towns_min", "town_names"].split("、")[0] == "云栖数智小镇"
    # the advisory target never binds; the unconfirmed readings do not either
    assert not t.loc["tourism_5a_share_min", "binding"]
    assert t.loc["tourism_5a_share_min", "advisory"]
    assert not t.loc["digital_manufacturing_share_min", "confirmed"]
    assert t.loc["named_towns_min", "binding"]
    assert t.loc["named_towns_min", "clause"].startswith("二")
    assert t.loc["innovation_platform_share_min", "clause"].startswith("四(一)")
    assert tz.city.failing_targets(t) == [
        "towns_tax_over_10yi_min",
        "digital_manufacturing_share_min",
        "hightech_firms_growth_min",
    ]


def test_named_towns_by_year(review):
    named = {y: tz.city.city_targets(review.table, year=y).loc["named_towns_min", "value"] for y in review.years}
    assert named == {2020: 15, 2021: 19, 2022: 19, 2023: 21}
    assert review.targets_by_year.loc["named_towns_min"].tolist() == ["fail", "fail", "fail", "pass"]
    # growth needs the year three years earlier: only 2023 has it
    assert review.targets_by_year.loc["soft_investment_growth_min"].tolist() == ["missing"] * 3 + ["pass"]


def test_evaluate_city_targets_is_the_same_function(city):
    a = tz.evaluate.city_targets(city.table, year=2022)
    b = tz.city.city_targets(city.table, year=2022)
    pd.testing.assert_frame_equal(a, b)


def test_warnings_match_the_docstring(review):
    w = review.warnings
    assert list(zip(w["town_id"], w["kind"], w["years"], w["suggestion"], strict=True)) == [
        ("C16", "fails_running", "2022、2023", "警告"),
        ("C24", "tax_per_mu_falls", "2021、2022、2023", "关注"),
        ("C29", "fails_running", "2021、2022、2023", "降格"),
    ]
    assert "tax_per_mu_min" in w.loc[0, "reason"]
    assert "30 → 25 → 20" in w.loc[1, "reason"]
    assert w.loc[2, "new_status"] == "cultivating"  # C29 is 创建: one step down is 培育
    assert (w["label"] == "建议, 供评审参考").all()


def test_trends_per_town_and_year(review):
    tr = review.trends
    assert len(tr) == 120
    assert tr.index.names == ["town_id", "year"]
    assert list(dict.fromkeys(tr.index.get_level_values(0))) == ids(1, 30)
    assert tr.loc[("C16", 2022), "tax_per_mu"] == pytest.approx(12_000 / 1_500)
    assert tr.loc[("C16", 2022), "tax_per_mu_change"] == pytest.approx(8 - 20)
    assert np.isnan(tr.loc[("C16", 2020), "tax_per_mu_change"])
    assert tr.loc[("C16", 2022), "failed_rules"] == "tax_per_mu_min"
    assert tr.loc[("C29", 2021), "rd_intensity"] == pytest.approx(0.01)
    assert np.isnan(tr.loc[("C12", 2023), "labour_productivity"])  # no output: missing, not 0
    assert tr.loc[("C01", 2023), "labour_productivity"] == pytest.approx(12_000_000 / 5_000)
    # no control-line or land-use figures in a town table: every grade capped at 合格
    assert set(tr["grade"]) == {"合格"}


def test_changes_over_several_editions(review):
    ch = review.changes
    assert list(dict.fromkeys(ch["period"])) == ["2020→2021", "2021→2022", "2022→2023"]
    fails = ch[ch["change"] == "now_fails"]
    assert list(zip(fails["period"], fails["town_id"], fails["rule"], strict=True)) == [
        ("2020→2021", "C29", "rd_intensity_min"),
        ("2021→2022", "C16", "tax_per_mu_min"),
    ]


def test_compare_two_editions_keeps_its_columns(review):
    e = review.evaluations
    two = tz.evaluate.compare(e[2021], e[2022])
    assert "period" not in two.columns
    three = tz.evaluate.compare(e[2021], e[2022], e[2023])
    assert list(dict.fromkeys(three["period"])) == ["1→2", "2→3"]
    with pytest.raises(SchemaError, match="labels"):
        tz.evaluate.compare(e[2021], e[2022], labels=["a"])


def test_years_subset(city):
    r = tz.city.review(city.table, years=[2021, 2022, 2023])
    assert r.years == [2021, 2022, 2023]
    assert list(r.targets_by_year.columns) == [2021, 2022, 2023]
    # the 2020 base year is still read for the growth targets
    assert r.targets.loc["soft_investment_growth_min", "status"] == "pass"
    with pytest.raises(SchemaError, match="2019"):
        tz.city.review(city.table, years=[2019])


def test_missing_inputs_never_pass():
    # one town, no figures at all: every target other than the count of named towns is missing
    table = pd.DataFrame({"town_id": ["A"], "status": ["命名"], "year": [2023]})
    t = tz.city.city_targets(table)
    assert t.loc["named_towns_min", "status"] == "fail"
    assert set(t.drop(index="named_towns_min")["status"]) == {"missing"}


@settings(max_examples=60, deadline=None)
@given(taxes=st.lists(st.one_of(st.none(), st.sampled_from([50_000.0, 100_000.0, 150_000.0])), min_size=1, max_size=25))
def test_count_status_is_bounded_by_the_unknowns(taxes):
    table = pd.DataFrame(
        {"town_id": [f"T{i}" for i in range(len(taxes))], "tax_wan": [np.nan if v is None else v for v in taxes]}
    )
    row = tz.city.city_targets(table).loc["towns_tax_over_10yi_min"]
    known = sum(1 for v in taxes if v is not None and v > 100_000)
    unknown = sum(1 for v in taxes if v is None)
    if unknown == len(taxes):
        assert row["status"] == "missing"
    elif known >= 15:
        assert row["status"] == "pass"
    elif known + unknown < 15:
        assert row["status"] == "fail"
    else:
        assert row["status"] == "missing"


def test_unit_in_header_is_converted_and_reported(tmp_path):
    path = tmp_path / "towns.csv"
    text = "小镇编号,年份,产值(亿元),税收收入（万元）,状态\nA,2023,1000,120000,命名\nB,2023,99.5,,创建\n"
    path.write_bytes(text.encode("gbk"))
    table = tz.city.town_table(tz.io.read_table(path))
    assert table["output_wan"].tolist() == pytest.approx([10_000_000.0, 995_000.0])
    assert table["tax_wan"].iloc[0] == 120_000.0
    assert np.isnan(table["tax_wan"].iloc[1])
    assert table["status"].tolist() == ["named", "creating"]
    assert table.attrs["unit_conversions"] == [
        "column '产值(亿元)' is in 亿元: multiplied by 10000 into 'output_wan' (万元)"
    ]
    t = tz.city.city_targets(table)
    assert t.loc["towns_scale_1000yi_min", "town_ids"] == "A"
    assert t.loc["towns_tax_over_10yi_min", "status"] == "fail"  # 1 known + 1 unknown < 15


def test_bad_table_lists_every_problem():
    table = pd.DataFrame(
        {
            "town_id": ["A", "A", "B"],
            "year": [2023, 2023, 2023],
            "status": ["命名", "命名", "省级特色"],
            "scenic_grade": ["5A", "5A", "很好"],
        }
    )
    with pytest.raises(SchemaError) as info:
        tz.city.town_table(table)
    problems = info.value.problems
    assert len(problems) == 3
    assert "appear twice" in problems[0]
    assert "省级特色" in problems[1]
    assert "很好" in problems[2]


def test_no_id_nor_name_is_refused():
    with pytest.raises(SchemaError, match="town_id"):
        tz.city.town_table(pd.DataFrame({"year": [2023]}))


def test_write_city_reads_back_to_the_same_table(city, tmp_path):
    written = tz.samples.write_city(city, tmp_path)
    table = tz.city.town_table(tz.io.read_table(written["towns"]))
    for col in ("status", "category", "innovation_platform", "year"):
        assert table[col].tolist() == city.table[col].tolist(), col
    assert table["output_wan"].to_numpy() == pytest.approx(city.table["output_wan"].to_numpy(), rel=1e-12, nan_ok=True)
    expected = tz.city.city_targets(city.table)
    pd.testing.assert_series_equal(tz.city.city_targets(table)["status"], expected["status"])


@pytest.mark.shared_data
def test_real_hangzhou_list_loads_and_economic_targets_are_missing(shared_data):
    path = shared_data("towns/hangzhou_tezhen_towns_names.csv")
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    table = tz.city.town_table(tz.io.read_table(path), name=path.name)
    assert len(table) == len(rows)
    assert table["town_id"].tolist() == [r["name_zh"] for r in rows]  # names used as ids, reported
    assert any("names are used as ids" in p for p in table.attrs["problems"])
    assert table["district"].tolist()[:2] == [rows[0]["district_label"], rows[1]["district_label"]]
    for col in ("output_wan", "revenue_wan", "tax_wan", "rd_wan", "soft_investment_wan", "hightech_firms"):
        assert table[col].isna().all(), col
    t = tz.city.city_targets(table)
    for rule in ECONOMIC_TARGETS:
        assert t.loc[rule, "status"] == "missing", rule
    assert set(t["status"]) <= {"missing", "fail"}
    assert "pass" not in set(t["status"])
    named = sum(1 for r in rows if r["status"].startswith("named"))
    assert t.loc["named_towns_min", "value"] == named
    assert t.loc["named_towns_min", "status"] == ("pass" if named >= 20 else "fail")


def test_charts_draw_every_target_and_town(review, city):
    import matplotlib.pyplot as plt

    _, ax = tz.maps.city_targets_chart(review.targets)
    assert [t.get_text() for t in ax.get_yticklabels()] == list(review.targets["label_zh"])
    _, ax = tz.maps.town_trends_chart(review.trends, "tax_per_mu", towns=["C16", "C24"], threshold=10)
    assert len(ax.get_lines()) == 3  # two towns and the threshold
    verdicts = tz.city.town_verdicts(review.trends, review.warnings)
    assert verdicts[["C16", "C24", "C29", "C01"]].tolist() == ["未达标", "预警", "未达标", "无未达标项 (缺数据)"]
    assert verdicts.value_counts().to_dict() == {"无未达标项 (缺数据)": 27, "未达标": 2, "预警": 1}
    _, ax = tz.maps.city_verdict_map(city.locations, verdicts, source="test")
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["未达标 (2)", "预警 (1)", "无未达标项 (缺数据) (27)"]
    # towns with a boundary (C01–C03) as polygons, the 27 others as points
    from matplotlib.collections import PathCollection

    points = sum(len(c.get_offsets()) for c in ax.collections if type(c) is PathCollection)
    polygons = sum(len(c.get_paths()) for c in ax.collections if type(c) is not PathCollection)
    assert (points, polygons) == (27, 3)
    plt.close("all")


def test_unit_conversion_holds_for_the_enterprise_table_too():
    firms = pd.DataFrame({"小镇编号": ["T1", "T2"], "税收(亿元)": [0.012, 0.5], "产值（元）": [1_000_000.0, 0.0]})
    out = tz.schema.validate(firms, "enterprises")
    assert out["tax_wan"].tolist() == pytest.approx([120.0, 5_000.0])
    assert out["output_wan"].tolist() == pytest.approx([100.0, 0.0])
    assert len(out.attrs["unit_conversions"]) == 2
    # standardize only renames plain aliases: it never touches values, so a stated unit is left alone
    assert "税收(亿元)" in tz.schema.standardize(firms, "enterprises").columns
    # a unit that cannot be converted is not an alias: the column is left alone, not guessed
    other = tz.schema.validate(pd.DataFrame({"小镇编号": ["T1"], "税收(美元)": [1.0]}), "enterprises")
    assert "tax_wan" not in other.columns


@settings(max_examples=25, deadline=None)
@given(
    blanks=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=119),
            st.sampled_from(["output_wan", "tax_wan", "rd_wan", "category", "innovation_platform", "status"]),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_blanking_inputs_only_ever_turns_a_verdict_into_missing(city, blanks):
    before = tz.city.city_targets(city.table)["status"]
    table = city.table.copy()
    for row, col in blanks:
        table.loc[row, col] = None if table[col].dtype == object else np.nan
    after = tz.city.city_targets(table)["status"]
    changed = after[after != before]
    assert set(changed) <= {"missing"}, changed.to_dict()


def test_town_view_lists_each_towns_scenic_grade_and_platform(review):
    last = review.trends.xs(2023, level="year")
    assert last.loc[["C23", "C24", "C26", "C01"], "scenic_grade"].tolist() == ["5A", "4A", "3A", "无"]
    assert last.loc[["C01", "C11", "C28", "C29"], "innovation_platform"].tolist() == [
        "national",
        "provincial",
        "municipal",
        "none",
    ]


def test_a_cell_that_states_its_unit_is_not_scaled_again_by_the_header():
    """税收(亿元) scales plain numbers by 10⁴; '1.2亿', '5000元' and '3万' already say what they are."""
    firms = pd.DataFrame(
        {"小镇编号": ["T1", "T2", "T3", "T4", "T5"], "税收(亿元)": ["0.5", "1.2亿", "5000元", "3万", "１.５"]}
    )
    out = tz.schema.validate(firms, "enterprises")
    # by hand, in 万元: 0.5 亿元 = 5,000; 1.2亿元 = 12,000; 5,000 元 = 0.5; 3万元 = 3; 1.5 亿元 = 15,000
    assert out["tax_wan"].tolist() == pytest.approx([5_000.0, 12_000.0, 0.5, 3.0, 15_000.0])
    assert any("1.2亿" in r for r in out.attrs["repairs"])
