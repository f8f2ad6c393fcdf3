"""Tests of tz.evaluate: scorecard, suggested grades, comparison, name matching.

The indicator table is built by hand from the figures stated in the sample town's docstring
(tongzhen_gis/samples.py), not from the analysis modules' output, so the expected statuses
below are worked out on paper.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import box

import tongzhen_gis as tz
from tongzhen_gis.errors import RuleDataError, SchemaError
from tongzhen_gis.units import M2_PER_MU

P, F, M, NA = "pass", "fail", "missing", "not_applicable"


def sample_indicators() -> pd.DataFrame:
    """Indicators of T1–T3 from the sample docstring (money in 万元, areas in m²)."""
    mu = {"T1": 1_000_000 / M2_PER_MU, "T2": 900_000 / M2_PER_MU}
    rows = {
        "T1": {
            "category": "digital",
            "area_m2": 1_000_000.0,
            "construction_m2": 1_000_000.0,
            "residential_share": 0.20,
            "green_share": 0.35,
            "green_coverage": 0.35,
            "red_line_m2": 0.0,
            "farmland_m2": 0.0,
            "outside_boundary_m2": 0.0,
            "tax_per_mu": 30_000 / mu["T1"],
            "investment_per_mu": 450_000 / mu["T1"],
            "labour_productivity": 900_000 / 6_000,
            "jobs": 6_000.0,
            "rd_intensity": 40_000 / 1_000_000,
            "visitors": np.nan,
            "investment_3yr_wan": 520_000.0,
            "lead_industry_investment_share": 0.80,
        },
        "T2": {
            "category": "tourism",
            "area_m2": 1_000_000.0,
            "construction_m2": 900_000.0,
            "residential_share": 500_000 / 900_000,
            "green_share": 0.0,
            "green_coverage": 0.10,
            "red_line_m2": 100_000.0,
            "farmland_m2": 0.0,
            "outside_boundary_m2": 100_000.0,
            "tax_per_mu": 8_100 / mu["T2"],
            "investment_per_mu": 270_000 / mu["T2"],
            "labour_productivity": 135_000 / 1_500,
            "jobs": 1_500.0,
            "rd_intensity": 1_500 / 150_000,
            "visitors": 350_000.0,
            "investment_3yr_wan": 310_000.0,
            "lead_industry_investment_share": 0.65,
        },
        "T3": {
            "category": "manufacturing",
            "area_m2": 1_200_000.0,
            "construction_m2": 1_020_000.0,
            "residential_share": 0.0,
            "green_share": 0.0,
            "green_coverage": 0.0,
            "red_line_m2": 0.0,
            "farmland_m2": 120_000.0,
            "outside_boundary_m2": 300_000.0,
            # no enterprise rows, no town statistics: every economic figure missing
            "tax_per_mu": np.nan,
            "investment_per_mu": np.nan,
            "labour_productivity": np.nan,
            "jobs": np.nan,
            "rd_intensity": np.nan,
            "visitors": np.nan,
            "investment_3yr_wan": np.nan,
            "lead_industry_investment_share": np.nan,
        },
    }
    df = pd.DataFrame.from_dict(rows, orient="index")
    df.index.name = "town_id"
    return df


# rule -> expected status of (T1, T2, T3), worked out from the docstring figures
EXPECTED = {
    "planned_area_min": (P, P, P),
    "planned_area_max": (P, NA, P),  # tourism towns exempt
    "construction_land_min": (P, P, P),
    "residential_share_max": (P, F, P),  # T2 5/9 > 0.30
    "residential_share_encouraged": (P, F, P),  # advisory
    "green_share_min": (P, F, F),  # judged on green_coverage (0.35, 0.10, 0), never on green_share
    "investment_per_mu_min": (P, P, M),  # T2 exactly 200 passes
    "tax_per_mu_min": (P, F, M),  # T2 6 < 10
    "lead_industry_investment_share_min": (P, P, M),
    "labour_productivity_min": (P, P, M),
    "jobs_min": (P, F, M),  # T2 1500 < 2000
    "rd_intensity_min": (P, NA, M),  # tourism exempt; T1 4 %
    "visitors_min": (NA, F, NA),  # only tourism towns; 350 000 < 500 000
    "lead_industry_investment_share_min_zj": (P, F, M),  # T2 0.65 < 0.70
    "investment_3yr_min": (P, NA, M),
    "investment_3yr_min_reduced": (NA, P, NA),
    "red_line_overlap_max": (P, F, P),
    "farmland_overlap_max": (P, P, F),
    "outside_boundary_max": (P, F, F),
    "fifteen_minute_complete_min": (M, M, M),  # no access column in this table
}


def test_sample_scorecard_rule_by_rule():
    card = tz.evaluate.scorecard(sample_indicators())
    assert set(EXPECTED) == set(tz.rules.load("hangzhou-2021").thresholds)
    assert list(card.index.get_level_values(0).unique()) == ["T1", "T2", "T3"]
    assert len(card) == 3 * len(EXPECTED)
    for rule, statuses in EXPECTED.items():
        got = tuple(card.loc[(t, rule), "status"] for t in ("T1", "T2", "T3"))
        assert got == statuses, rule


def test_scorecard_rows_carry_threshold_and_source():
    card = tz.evaluate.scorecard(sample_indicators())
    row = card.loc[("T2", "tax_per_mu_min")]
    assert row["value"] == pytest.approx(6.0, rel=1e-12)
    assert row["threshold"] == 10.0
    assert row["comparator"] == ">="
    assert row["unit"] == "万元/亩·年"
    assert "导则" in row["document"] and row["clause"]
    assert row["label_zh"] == "建设用地亩均税收"
    inv = card.loc[("T2", "investment_per_mu_min")]
    assert inv["value"] == pytest.approx(200.0, rel=1e-12)
    assert inv["status"] == P


def test_missing_never_passes_and_says_why():
    card = tz.evaluate.scorecard(sample_indicators())
    t3 = card.xs("T3", level=0)
    for rule in ("tax_per_mu_min", "investment_per_mu_min", "jobs_min", "rd_intensity_min"):
        assert t3.loc[rule, "status"] == M
        assert t3.loc[rule, "reason"] == "无数据 (no value)"
    absent = card.loc[("T1", "fifteen_minute_complete_min")]
    assert "all_categories_share" in absent["reason"]
    assert any("all_categories_share" in p for p in card.attrs["problems"])


def test_advisory_and_unconfirmed_do_not_bind():
    ind = sample_indicators()
    ind["all_categories_share"] = [0.9, 1.0, 0.0]
    card = tz.evaluate.scorecard(ind)
    t1 = card.xs("T1", level=0)
    assert t1.loc["fifteen_minute_complete_min", "status"] == F
    assert not t1.loc["fifteen_minute_complete_min", "binding"]
    assert not t1.loc["fifteen_minute_complete_min", "confirmed"]
    assert not card.loc[("T2", "residential_share_encouraged"), "binding"]
    assert card.loc[("T2", "residential_share_encouraged"), "advisory"]
    # T1 fails only an unconfirmed rule: it is not a failing town
    assert tz.evaluate.failing_towns(card) == ["T2", "T3"]


def test_unknown_category_makes_restricted_rules_missing():
    ind = sample_indicators()
    ind.loc["T2", "category"] = None
    card = tz.evaluate.scorecard(ind)
    assert card.loc[("T2", "visitors_min"), "status"] == M
    assert "category" in card.loc[("T2", "visitors_min"), "reason"]
    assert card.loc[("T2", "tax_per_mu_min"), "status"] == F  # unrestricted rules still judged
    no_col = tz.evaluate.scorecard(sample_indicators().drop(columns="category"))
    assert (no_col.xs("rd_intensity_min", level=1)["status"] == M).all()


def test_non_finite_is_missing():
    ind = sample_indicators()
    ind.loc["T1", "tax_per_mu"] = np.inf  # tax over zero land
    card = tz.evaluate.scorecard(ind)
    assert card.loc[("T1", "tax_per_mu_min"), "status"] == M
    assert "not finite" in card.loc[("T1", "tax_per_mu_min"), "reason"]


def test_bad_tables_raise_listing_every_problem():
    ind = sample_indicators()
    ind["jobs"] = ind["jobs"].astype(object)
    ind.loc["T1", "jobs"] = "六千"
    ind["tax_per_mu"] = ind["tax_per_mu"].astype(object)
    ind.loc["T2", "tax_per_mu"] = "n/a"
    with pytest.raises(SchemaError) as err:
        tz.evaluate.scorecard(ind)
    assert len(err.value.problems) == 2
    assert "六千" in str(err.value)
    dup = pd.concat([sample_indicators(), sample_indicators().iloc[[0]]])
    with pytest.raises(SchemaError, match="duplicate town ids"):
        tz.evaluate.scorecard(dup)


@settings(max_examples=50, deadline=None)
@given(
    value=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.none()),
    category=st.sampled_from(["digital", "tourism", "manufacturing", None]),
)
def test_status_matches_threshold_semantics(value, category):
    """Every status agrees with Threshold.applies / Threshold.passes (the rule module's oracle)."""
    rs = tz.rules.load("hangzhou-2021")
    cols = {t.indicator for t in rs.thresholds.values()}
    ind = pd.DataFrame({c: [value] for c in cols}, index=pd.Index(["X"], name="town_id"), dtype=float)
    ind["category"] = [category]
    finite = value is not None and math.isfinite(value)
    ranges = [t.valid_range for t in rs.thresholds.values() if t.valid_range]
    if finite and any(not low <= value <= high for low, high in ranges):
        with pytest.raises(SchemaError, match="must lie in"):  # e.g. a green coverage of 35 (for 0.35)
            tz.evaluate.scorecard(ind, rel_tol=0.0)
        return
    card = tz.evaluate.scorecard(ind, rel_tol=0.0)
    for key, t in rs.thresholds.items():
        status = card.loc[("X", key), "status"]
        restricted = bool(t.applies_to or t.exempt)
        if restricted and category is None:
            assert status == M
        elif not t.applies(category):
            assert status == NA
        elif value is None or not math.isfinite(value):
            assert status == M
        else:
            assert status == (P if t.passes(value) else F)


# ----------------------------------------------------------------------------- grade


def test_sample_grades():
    card = tz.evaluate.scorecard(sample_indicators())
    g = tz.evaluate.grade(card)
    assert list(g.index) == ["T1", "T2", "T3"]
    # T1 passes every binding rule: 100 points
    assert g.loc["T1", "points"] == 100.0
    assert g.loc["T1", "grade"] == "优秀"
    # T2: red line 30 + outside 20 + residential 20 + green, tax, jobs, visitors, lead share 5×10
    # + encouraged residential 2 = 122 > 100 -> 0 points
    assert g.loc["T2", "points"] == 0.0
    assert g.loc["T2", "grade"] == "淘汰"
    assert g.loc["T2", "n_fail"] == 8
    assert g.loc["T2", "n_advisory_fail"] == 1
    # T3: farmland 30 + outside 20 + green 10 = 60 -> 40 points, 降格 (30 <= 40 < 45)
    assert g.loc["T3", "points"] == 40.0
    assert g.loc["T3", "grade"] == "降格"
    assert g.loc["T3", "n_missing"] == 8
    assert "缺数据 8 项" in g.loc["T3", "reasons"]
    assert "与永久基本农田重叠面积未达标 −30分" in g.loc["T3", "reasons"]
    assert (g["label"] == "建议等级, 供评审参考").all()


_GRADES = tz.rules.load("grading")["scale"]["grades"]


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_another_failure_never_improves_a_grade(data):
    card = tz.evaluate.scorecard(sample_indicators())
    passing = [i for i, s in enumerate(card["status"]) if s == P]
    flip = data.draw(st.lists(st.sampled_from(passing), unique=True, max_size=8))
    worse = card.copy()
    worse.iloc[flip, worse.columns.get_loc("status")] = F
    before, after = tz.evaluate.grade(card), tz.evaluate.grade(worse)
    assert (after["points"] <= before["points"]).all()
    rank = {g: i for i, g in enumerate(_GRADES)}
    assert (after["grade"].map(rank) >= before["grade"].map(rank)).all()
    assert (after["points"] >= 0).all()


def test_ceilings_cap_a_good_score():
    ind = sample_indicators()
    ind.loc["T1", "farmland_m2"] = 10.0  # one farmland overlap: 70 points would be 合格, capped at 警告
    ind.loc["T1", "jobs"] = np.nan  # missing: caps at 合格
    g = tz.evaluate.grade(tz.evaluate.scorecard(ind))
    assert g.loc["T1", "points"] == 70.0
    assert g.loc["T1", "grade_by_points"] == "合格"
    assert g.loc["T1", "grade"] == "警告"
    assert g.loc["T1", "ceiling"] == "警告"
    ind2 = sample_indicators()
    ind2.loc["T1", "jobs"] = np.nan
    g2 = tz.evaluate.grade(tz.evaluate.scorecard(ind2))
    assert g2.loc["T1", "grade_by_points"] == "优秀"
    assert g2.loc["T1", "grade"] == "合格"


def test_grading_is_configurable(tmp_path):
    text = tz.rules.load("grading")  # the shipped scheme loads through the rule loader
    assert text["scale"]["grades"] == tz.rules.load("zhejiang").meta["grades"]
    lenient = tmp_path / "lenient.toml"
    lenient.write_text(
        """
[scale]
grades = ["优秀", "良好", "合格", "警告", "降格", "淘汰"]
min_points = [90.0, 80.0, 60.0, 45.0, 30.0, 0.0]
start_points = 100.0
[penalty]
fail = 1.0
advisory_fail = 0.0
unconfirmed_fail = 0.0
missing = 0.0
[ceiling]
""",
        encoding="utf-8",
    )
    g = tz.evaluate.grade(tz.evaluate.scorecard(sample_indicators()), rules=lenient)
    assert g.loc["T2", "points"] == 92.0  # 8 binding failures × 1
    assert g.loc["T2", "grade"] == "优秀"
    broken = tmp_path / "broken.toml"
    broken.write_text('[scale]\ngrades = ["A"]\nmin_points = [0.0, 1.0]\nstart_points = 1.0\n', encoding="utf-8")
    with pytest.raises(RuleDataError, match="penalty"):
        tz.evaluate.grade(tz.evaluate.scorecard(sample_indicators()), rules=broken)


# ----------------------------------------------------------------------------- compare


def _conflicts(with_t2_red: bool) -> gpd.GeoDataFrame:
    rows = [("T3", "farmland", "YJJBNT001", 120_000.0), ("T3", "farmland", "YJJBNT004", 30_000.0)]
    rows += [("T2", "outside_boundary", "CZKFBJ001", 100_000.0), ("T3", "outside_boundary", "CZKFBJ001", 300_000.0)]
    if with_t2_red:
        rows += [("T2", "red_line", "STBHHX001", 100_000.0), ("T2", "red_line", "STBHHX002", 25_000.0)]
    return gpd.GeoDataFrame(
        rows, columns=["town_id", "line", "source_id", "area_m2"], geometry=[box(0, 0, 1, 1)] * len(rows)
    )


def test_compare_two_editions():
    first = tz.evaluate.evaluate(sample_indicators(), conflicts=_conflicts(True))
    ind = sample_indicators()
    ind.loc["T2", "red_line_m2"] = 0.0  # second edition: T2 moved out of the red line
    ind.loc["T1", "tax_per_mu"] = 8.0  # ... and T1's tax fell below 10 万元/亩
    ind.loc["T1", "jobs"] = 1_800.0  # ... and its jobs below 2 000
    ind.loc["T3", "tax_per_mu"] = 12.0  # T3 supplied a tax figure
    second = tz.evaluate.evaluate(ind, conflicts=_conflicts(False))
    diff = tz.evaluate.compare(first, second)
    got = {(r.town_id, r.change, r.rule) for r in diff.itertuples()}
    assert got == {
        ("T1", "now_fails", "tax_per_mu_min"),
        ("T1", "now_fails", "jobs_min"),
        ("T1", "grade_down", ""),
        ("T2", "resolved_conflict", "red_line"),
        ("T2", "now_passes", "red_line_overlap_max"),
        ("T3", "status_changed", "tax_per_mu_min"),
    }
    resolved = diff[diff["change"] == "resolved_conflict"]
    assert sorted(resolved["label_zh"]) == ["STBHHX001", "STBHHX002"]
    assert sorted(resolved["before"]) == [25_000.0, 100_000.0]
    down = diff[diff["change"] == "grade_down"].iloc[0]
    assert (down["before"], down["after"]) == ("优秀", "良好")  # 100 -> 80 points
    assert list(diff["town_id"].unique()) == ["T1", "T2", "T3"]
    # nothing changes between an evaluation and itself
    assert tz.evaluate.compare(second, second).empty


def test_compare_towns_added_and_removed():
    ind = sample_indicators()
    first = tz.evaluate.scorecard(ind.loc[["T1", "T2"]])
    second = tz.evaluate.scorecard(ind.loc[["T2", "T3"]])
    diff = tz.evaluate.compare(first, second)
    assert set(zip(diff["town_id"], diff["change"], strict=True)) == {("T3", "town_added"), ("T1", "town_removed")}


# ----------------------------------------------------------------------------- indicators


def test_collect_indicators_keeps_town_order_and_reports_strays(scene):
    towns = scene.towns.iloc[[2, 0, 1]]
    lines = pd.DataFrame({"red_line_m2": [0.0, 1.0, 0.0, 5.0]}, index=pd.Index(["T1", "T2", "T3", "T9"]))
    ind = tz.evaluate.collect_indicators(towns, control_lines=lines, town_stats=scene.town_stats)
    assert list(ind.index) == ["T3", "T1", "T2"]
    assert ind.loc["T2", "red_line_m2"] == 1.0
    assert ind.loc["T2", "visitors"] == 350_000.0
    assert ind.loc["T3", "category"] == "manufacturing"
    assert any("T9" in p for p in ind.attrs["problems"])
    # the same column from two tables: silent when the values agree, reported when they differ
    areas = pd.DataFrame({"area_m2": [1e6, 1e6, 1.2e6]}, index=pd.Index(["T1", "T2", "T3"]))
    same = tz.evaluate.collect_indicators(towns, control_lines=areas, intensity=areas.copy())
    assert same.attrs["problems"] == []
    other = areas.assign(area_m2=[1e6, 9e5, 1.2e6])
    clash = tz.evaluate.collect_indicators(towns, control_lines=areas, intensity=other)
    assert clash.loc["T2", "area_m2"] == 1e6
    assert any("area_m2" in p and "differs" in p for p in clash.attrs["problems"])
    with pytest.raises(SchemaError, match="id_col"):
        tz.evaluate.collect_indicators(towns, id_col="TOWN_CODE")


# ----------------------------------------------------------------------------- names


def test_match_names_exact_only():
    res = tz.evaluate.match_names(
        ["云溪数智小镇", "青山 文旅小镇", "桑田小镇", "无名"], ["云溪数智小镇", "青山文旅小镇", "桑田智造小镇"]
    )
    assert list(res["status"]) == ["exact", "exact", "unmatched", "unmatched"]
    assert res.loc[1, "match"] == "青山文旅小镇"
    assert pd.isna(res.loc[2, "match"])
    assert res.loc[2, "candidates"].split("；")[0] == "桑田智造小镇"
    assert res.loc[3, "candidates"] == ""


def test_join_by_name_never_joins_silently(scene):
    towns = scene.towns.copy()
    towns = pd.concat([towns, towns.iloc[[0]].assign(town_id="T1b")])  # T1 drawn as two polygons
    table = pd.DataFrame({"name_zh": ["云溪数智小镇", "青山文旅", "桑田智造小镇"], "rank": [1, 2, 3]})
    joined, unmatched = tz.evaluate.join_by_name(table, towns)
    assert list(joined.index) == [0, 2]
    assert joined.crs == towns.crs
    assert joined.geometry.iloc[0].area == pytest.approx(1_000_000.0)
    assert joined.geometry.iloc[1].area == pytest.approx(1_200_000.0)
    assert list(unmatched.index) == [1]
    assert unmatched.loc[1, "candidates"].startswith("青山文旅小镇")
    with pytest.raises(SchemaError, match="boundary_name_col"):
        tz.evaluate.join_by_name(table, towns, boundary_name_col="name")


@pytest.mark.shared_data
def test_real_town_names_against_osm_parcels(shared_data):
    names = pd.read_csv(shared_data("towns/hangzhou_tezhen_towns_names.csv"))
    parcels = gpd.read_file(shared_data("hangzhou/hangzhou_tezhen_osm_parcels.geojson"))
    joined, unmatched = tz.evaluate.join_by_name(names, parcels, boundary_name_col="town_zh")
    assert len(joined) + len(unmatched) == len(names)
    # every joined row has exactly its own name among the parcels (independent check)
    parcel_names = set(parcels["town_zh"])
    assert all(n in parcel_names for n in joined["name_zh"])
    assert not any(n in parcel_names for n in unmatched["name_zh"])
    # 西湖云栖小镇 exists in both: joined, its parcels dissolved into one geometry
    if "西湖云栖小镇" in set(names["name_zh"]):
        assert "西湖云栖小镇" in set(joined["name_zh"])


def test_not_applicable_reasons_name_the_categories_in_chinese():
    indicators = pd.DataFrame({"category": ["digital"], "visitors": [10.0]}, index=pd.Index(["X"], name="town_id"))
    card = tz.evaluate.scorecard(indicators)
    reason = card.loc[("X", "visitors_min"), "reason"]
    assert reason.startswith("仅适用于文旅类小镇")
    assert tz.evaluate.category_names_zh()["tourism"] == "文旅"


def test_rules_given_by_name_or_as_a_loaded_set_give_the_same_scorecard():
    """``rules=`` goes through ``tz.rules.load``, which returns a loaded rule set as it is."""
    loaded = tz.rules.load("hangzhou-2021")
    assert tz.rules.load(loaded) is loaded
    pd.testing.assert_frame_equal(
        tz.evaluate.scorecard(sample_indicators(), rules=loaded), tz.evaluate.scorecard(sample_indicators())
    )
