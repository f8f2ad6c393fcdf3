"""tz.intensity.firm_scores: the 亩均论英雄 score worked out by hand on the sample firms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tongzhen_gis as tz

# Indicator values of the sample firms (module docstring of tz.samples, E1–E6), by hand:
# 亩均税收 tax / land_mu: E1 15000/300 = 50, E2 9000/400 = 22.5, E3 40, E4 10, E5 10.2, E6 7.5
# → median (10.2 + 22.5) / 2 = 16.35.  亩均增加值: 500, 225, 400, 75, 60, 30 → median 150.
# 单位能耗增加值: 7.5, 1.5, 8, (E4 none), 10, 12 → median 8.  单位排放增加值: 300, 75, 400,
# 50, 600, 400 → median 350.  全员劳动生产率 value added / jobs: 50, 45, 400/7, 50, 30, 24 →
# median 47.5.  R&D / revenue: 0.05, 12/330, 2.5/110, 1/120, 0.01, 0.01 → median
# (0.01 + 2.5/110) / 2.
MEDIANS = {
    "tax_per_mu": 16.35,
    "value_added_per_mu": 150.0,
    "value_added_per_tce": 8.0,
    "value_added_per_t_emission": 350.0,
    "labour_productivity": 47.5,
    "rd_intensity": (0.01 + 2.5 / 110) / 2,
}


def test_benchmarks_default_to_the_median_of_the_firms(scene):
    out = tz.intensity.firm_scores(scene.enterprises)
    assert out.attrs["benchmarks"] == pytest.approx(MEDIANS, rel=1e-12)
    assert out.attrs["weights"] == {
        "tax_per_mu": 30,
        "value_added_per_mu": 20,
        "value_added_per_tce": 20,
        "value_added_per_t_emission": 10,
        "labour_productivity": 10,
        "rd_intensity": 10,
    }


def test_scores_by_hand(scene):
    out = tz.intensity.firm_scores(scene.enterprises).set_index("firm_id")
    # E1: ratios 50/16.35 and 500/150 and 0.05/median exceed the cap of 2
    e1 = 2 * 30 + 2 * 20 + 7.5 / 8 * 20 + 300 / 350 * 10 + 50 / 47.5 * 10 + 2 * 10
    # E6: every ratio below the cap
    e6 = (
        7.5 / 16.35 * 30
        + 30 / 150 * 20
        + 12 / 8 * 20
        + 400 / 350 * 10
        + 24 / 47.5 * 10
        + 0.01 / MEDIANS["rd_intensity"] * 10
    )
    assert out.loc["E1", "score"] == pytest.approx(e1, rel=1e-12)  # ≈ 157.85 → A (≥ 120)
    assert out.loc["E6", "score"] == pytest.approx(e6, rel=1e-12)  # ≈ 70.35 → C (60–90)
    assert out.loc["E1", "grade"] == "A"
    assert out.loc["E6", "grade"] == "C"
    assert out.loc["E1", "tax_per_mu"] == pytest.approx(50)
    assert out.loc["E1", "score_value_added_per_tce"] == pytest.approx(18.75)


def test_firm_without_energy_is_listed_not_graded(scene):
    out = tz.intensity.firm_scores(scene.enterprises)
    assert len(out) == len(scene.enterprises)
    assert list(out.index) == list(scene.enterprises.index)
    e4 = out[out["firm_id"] == "E4"].iloc[0]
    assert not e4["graded"]
    assert pd.isna(e4["grade"])
    assert np.isnan(e4["score"])
    assert "energy_tce" in e4["missing"]
    assert out.loc[out["firm_id"] != "E4", "graded"].all()
    assert any("E4" in p for p in out.attrs["problems"])


def test_rule_file_benchmarks(scene):
    rules = tz.rules.load("firm_scores")
    out = tz.intensity.firm_scores(scene.enterprises, benchmarks="rules").set_index("firm_id")
    cap = rules.parameter("ratio_cap")
    spec = rules["indicator"]
    firm = scene.enterprises.set_index("firm_id").loc["E2"]
    expected = sum(
        min(firm[s["numerator"]] / firm[s["denominator"]] / s["benchmark"], cap) * s["weight"] for s in spec.values()
    )
    assert out.loc["E2", "score"] == pytest.approx(expected, rel=1e-12)
    assert out.attrs["benchmark_source"] == "rules"


def test_given_benchmarks_override_the_median(scene):
    out = tz.intensity.firm_scores(scene.enterprises, benchmarks={"tax_per_mu": 25.0})
    assert out.attrs["benchmarks"]["tax_per_mu"] == 25.0
    assert out.attrs["benchmarks"]["value_added_per_mu"] == pytest.approx(150.0)
    e2 = out.set_index("firm_id").loc["E2"]
    assert e2["score_tax_per_mu"] == pytest.approx(22.5 / 25 * 30)


def test_chinese_headers_are_understood(scene):
    renamed = scene.enterprises.rename(
        columns={
            "tax_wan": "税收(万元)",
            "value_added_wan": "增加值(万元)",
            "land_mu": "用地面积(亩)",
            "jobs": "从业人员",
        }
    )
    out = tz.intensity.firm_scores(renamed)
    base = tz.intensity.firm_scores(scene.enterprises)
    np.testing.assert_allclose(out["score"].to_numpy(), base["score"].to_numpy(), rtol=1e-12)


def test_zero_land_is_a_missing_input(scene):
    firms = scene.enterprises.copy()
    firms.loc[0, "land_mu"] = 0.0
    out = tz.intensity.firm_scores(firms)
    assert not out.loc[0, "graded"]
    assert "land_mu" in out.loc[0, "missing"]


def test_missing_column_is_a_schema_error(scene):
    with pytest.raises(tz.errors.SchemaError, match="emission_t"):
        tz.intensity.firm_scores(scene.enterprises.drop(columns="emission_t"))


@settings(max_examples=30, deadline=None)
@given(factor=st.floats(min_value=0.1, max_value=10), key=st.sampled_from(list(MEDIANS)))
def test_scores_are_bounded_and_scale_free(factor, key):
    """Scores stay within [0, cap × 100]; scaling a numerator for every firm leaves median scores unchanged."""
    firms = tz.samples.sample_town().enterprises
    base = tz.intensity.firm_scores(firms)
    spec = tz.rules.load("firm_scores")["indicator"][key]
    scaled = firms.copy()
    scaled[spec["denominator"]] = scaled[spec["denominator"]] * factor
    out = tz.intensity.firm_scores(scaled)
    graded = out["graded"]
    cap = tz.rules.load("firm_scores").parameter("ratio_cap")
    assert ((out.loc[graded, "score"] >= 0) & (out.loc[graded, "score"] <= cap * 100 + 1e-9)).all()
    np.testing.assert_allclose(out.loc[graded, f"score_{key}"], base.loc[graded, f"score_{key}"], rtol=1e-9)
