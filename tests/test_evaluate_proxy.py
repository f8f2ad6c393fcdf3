"""A stand-in measure is never judged: 绿化覆盖率 (green coverage) and the 用地14 share.

The 导则 rule ``green_share_min`` asks for 绿化覆盖率 ≥ 30 %. The share of 用地14 (绿地与开敞空间
用地) over the town area is a different quantity (street trees and the green of other plots
are not in it); with it alone the rule reads ``review`` (待核), whichever side of 30 % it
falls. A real ``green_coverage`` figure is judged; a value outside 0–1 is refused.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tongzhen_gis as tz
from tongzhen_gis.errors import RuleDataError, SchemaError
from tongzhen_gis.labels import VERDICT_ZH

RULE = "green_share_min"


def _card(**columns) -> pd.DataFrame:
    ind = pd.DataFrame(columns, index=pd.Index(["A", "B"], name="town_id"))
    return tz.evaluate.scorecard(ind, rules="national-2021")


def test_stand_in_alone_reads_review_on_either_side_of_the_threshold():
    card = _card(green_share=[0.35, 0.05])  # A above 30 %, B below: neither is judged
    rows = card.xs(RULE, level="rule")
    assert rows["status"].tolist() == ["review", "review"]
    assert rows["indicator"].tolist() == ["green_share", "green_share"]  # what was measured
    assert rows["value"].tolist() == [0.35, 0.05]
    note = tz.rules.load("national-2021").thresholds[RULE].proxy_note
    assert all(note in r and "green_share" in r for r in rows["reason"])
    assert "green_coverage" in note and "用地14" in note  # names what would measure it
    assert tz.evaluate.STATUS_ZH["review"] == VERDICT_ZH["review"] == "待核"
    assert tz.evaluate.failing_towns(card) == []
    assert any("'review'" in p and "green_coverage" in p for p in card.attrs["problems"])


def test_the_real_measure_is_judged_and_the_stand_in_ignored():
    # A: coverage 0.25 fails although 用地14 is 90 %; B: coverage exactly 0.30 passes with no 用地14
    card = _card(green_coverage=[0.25, 0.30], green_share=[0.90, 0.0])
    rows = card.xs(RULE, level="rule")
    assert rows["status"].tolist() == ["fail", "pass"]
    assert rows["indicator"].tolist() == ["green_coverage", "green_coverage"]
    assert rows["value"].tolist() == [0.25, 0.30]
    assert tz.evaluate.failing_towns(card) == ["A"]


def test_a_town_without_the_measure_falls_back_to_the_stand_in_then_to_missing():
    card = _card(green_coverage=[np.nan, np.nan], green_share=[0.40, np.nan])
    assert card.xs(RULE, level="rule")["status"].tolist() == ["review", "missing"]
    assert _card(area_m2=[1e6, 1e6]).xs(RULE, level="rule")["status"].tolist() == ["missing", "missing"]


def test_a_percentage_written_for_the_ratio_is_refused():
    with pytest.raises(SchemaError, match=r"green_coverage.*0–1.*A=35") as err:
        _card(green_coverage=[35.0, 0.3])
    assert "0.35 for 35 %" in str(err.value)


def test_review_counts_as_a_missing_figure_in_the_grade():
    # every binding national rule passes, green coverage known only by its stand-in
    ind = pd.DataFrame(
        {
            "area_m2": [2e6],
            "construction_m2": [1e6],
            "residential_share": [0.2],
            "green_share": [0.5],
            "investment_per_mu": [300.0],
            "tax_per_mu": [20.0],
            "lead_industry_investment_share": [0.8],
            "labour_productivity": [30.0],
            "jobs": [3000.0],
            "rd_intensity": [0.05],
            "category": ["digital"],
        },
        index=pd.Index(["A"], name="town_id"),
    )
    card = tz.evaluate.scorecard(ind, rules="national-2021")
    assert card.loc[("A", RULE), "status"] == "review"
    assert set(card["status"]) - {"review"} <= {"pass", "not_applicable"}
    g = tz.evaluate.grade(card).loc["A"]
    assert g["points"] == 100.0
    assert g["grade"] == "合格"  # the missing-data ceiling of rules/grading.toml, not 优秀
    assert g["n_missing"] == 1
    assert "待核" in g["reasons"]
    # with the real figure the same town is 优秀
    card2 = tz.evaluate.scorecard(ind.assign(green_coverage=0.32), rules="national-2021")
    assert tz.evaluate.grade(card2).loc["A", "grade"] == "优秀"


def test_collect_indicators_finds_green_coverage_on_towns_and_in_town_stats(scene):
    towns = scene.towns.assign(绿化覆盖率=[0.31, np.nan, 0.2])
    stats = pd.DataFrame({"lhfgl": [0.9, 0.12, 0.9]}, index=pd.Index(["T1", "T2", "T3"], name="town_id"))
    ind = tz.evaluate.collect_indicators(towns, town_stats=stats)
    # the towns table comes first (as every column of collect_indicators); the clash is reported
    assert ind["green_coverage"].tolist() == pytest.approx([0.31, np.nan, 0.2], nan_ok=True)
    assert any("town_stats" in p and "green_coverage" in p for p in ind.attrs["problems"])
    only_stats = tz.evaluate.collect_indicators(scene.towns, town_stats=stats)
    assert only_stats["green_coverage"].tolist() == pytest.approx([0.9, 0.12, 0.9])


def test_sample_green_coverage_is_the_land_cover_green_share(scene):
    """The sample's figure is measured: the green class of its land-cover raster (exactextract)."""
    shares = tz.intensity.zonal(scene.towns, scene.landcover, categorical=True, id_col="town_id")
    green = tz.samples.LANDCOVER_CLASSES
    assert green[2].startswith("绿地")
    got = scene.town_stats["green_coverage"]
    assert got.tolist() == pytest.approx(shares["class_2"].reindex(got.index).fillna(0.0).tolist(), abs=1e-9)


def test_sample_report_sheet_reads_review_in_chinese(scene):
    land = tz.intensity.summarize(scene.towns, parcels=scene.parcels)
    ind = tz.evaluate.collect_indicators(scene.towns, intensity=land)  # no town_stats: no green_coverage
    card = tz.evaluate.scorecard(ind)
    from tongzhen_gis.report.tables import _scorecard_sheet

    sheet = _scorecard_sheet(card).set_index(["town_id", "rule"])
    assert sheet.loc[("T1", RULE), "status_zh"] == "待核"  # the 用地14 share is 35 %: still not 达标
    assert sheet.loc[("T1", RULE), "status_zh"] != "达标"


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        ('proxy_indicator = "green_share"\n', "proxy_indicator and proxy_note go together"),
        ("valid_range = [1.0, 0.0]\n", "valid_range must be"),
        ('valid_range = ["0", 1]\n', "valid_range must be"),
    ],
)
def test_bad_proxy_or_range_keys_are_rule_data_errors(tmp_path, extra, match):
    path = tmp_path / "r.toml"
    path.write_text(
        "[threshold.x]\n"
        'indicator = "a"\ncomparator = ">="\nvalue = 0.3\nunit = "ratio"\ndocument = "d"\nclause = "c"\n' + extra,
        encoding="utf-8",
    )
    with pytest.raises(RuleDataError, match=match):
        tz.rules.load(path)


def test_report_page_marks_a_stand_in_value(scene):
    from tongzhen_gis.report.content import _card_table

    card = _card(green_share=[0.35, 0.05]).loc[["A"]]
    page = _card_table(card)
    row = next(r for r in page.rows if r[0] == "绿化覆盖率下限")
    assert row[1] == "35.0% (代用指标 green_share, 见说明)"  # never read as a green coverage of 35 %
    assert "待核" in row
