from __future__ import annotations

import pytest

import tongzhen_gis as tz
from tongzhen_gis.errors import RuleDataError


def test_every_shipped_rule_file_loads():
    for name in tz.rules.available():
        ruleset = tz.rules.load(name)
        assert ruleset.name == name
        for t in ruleset.thresholds.values():
            assert t.document and t.clause and t.unit


def test_hangzhou_includes_national_and_zhejiang():
    hz = tz.rules.load("hangzhou-2021")
    assert {"residential_share_max", "lead_industry_investment_share_min_zj", "red_line_overlap_max"} <= set(
        hz.thresholds
    )
    assert hz.thresholds["tax_per_mu_min"].value == 10.0
    assert hz.thresholds["investment_per_mu_min"].value == 200.0


def test_threshold_semantics():
    t = tz.rules.load("national-2021").thresholds
    assert t["residential_share_max"].passes(0.30)
    assert not t["residential_share_max"].passes(0.31)
    # on the threshold within rel_tol: passes <=, >= and ==; fails < and >
    on = 0.1 + 0.2  # 0.30000000000000004
    assert t["residential_share_max"].passes(on) and not t["residential_share_max"].passes(on, rel_tol=0.0)
    assert t["rd_intensity_min"].applies("manufacturing")
    assert not t["rd_intensity_min"].applies("tourism")
    assert not t["rd_intensity_min"].applies(None)
    assert not t["planned_area_max"].applies("tourism")
    assert t["planned_area_max"].applies("digital")


def test_rulesets_are_frozen():
    rs = tz.rules.load("facilities")
    with pytest.raises(TypeError):
        rs["category"]["park"]["name_zh"] = "x"
    with pytest.raises(TypeError):
        tz.rules.load("national-2021").thresholds["x"] = 1  # type: ignore[index]


def test_facility_catalogue_has_eight_labelled_unconfirmed():
    rs = tz.rules.load("facilities")
    assert len(rs["category"]) == 8
    assert rs.meta["confirmed"] is False
    assert "replace with the official list" in rs.meta["note"]


def test_life_circle_default():
    rs = tz.rules.load("life_circle")
    assert rs["level"]["fifteen_minute"]["distance_m"] == 1000.0
    assert rs["walking"]["speed_kmh"] == 4.0


def test_unknown_rule_set_lists_available():
    with pytest.raises(RuleDataError, match=r"available: .*hangzhou-2021"):
        tz.rules.load("shanghai-2099")


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ('[threshold.x]\nindicator="a"\ncomparator="<="\nvalue=1\nunit="m2"\ndocument="d"\n', r"threshold\.x.*clause"),
        ('[threshold.x]\nindicator="a"\ncomparator="~"\nvalue=1\nunit="m2"\ndocument="d"\nclause="c"\n', "comparator"),
        ('[threshold.x]\nindicator="a"\ncomparator="<="\nvalue="1"\nunit="m2"\ndocument="d"\nclause="c"\n', "number"),
        (
            '[threshold.x]\nindicator="a"\ncomparator="<="\nvalue=1\nunit="m2"\ndocument="d"\nclause="c"\nfoo=1\n',
            "unknown key",
        ),
        ("[parameter.y]\nvalue=1\n", r"parameter\.y"),
        ("not = [valid", "not valid TOML"),
    ],
)
def test_broken_rule_file_names_file_and_key(tmp_path, body, match):
    path = tmp_path / "broken.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(RuleDataError, match=match) as info:
        tz.rules.load(path)
    assert "broken.toml" in str(info.value)


def test_missing_parameter_is_clear():
    with pytest.raises(RuleDataError, match=r"no parameter 'nope'; parameters: \['sliver_m2'\]"):
        tz.rules.load("controllines").parameter("nope")
