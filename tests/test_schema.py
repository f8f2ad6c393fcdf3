"""tz.schema: roles, aliases, validation, land-use codes.

Oracles: hand-made frames whose problems are known by construction, the sample town (which
must validate as it is), the mapping examples of standards.md §7 and the land-use classes
listed there.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import LineString, Point, box

import tongzhen_gis as tz
from tongzhen_gis.errors import OptionError, RuleDataError, SchemaError
from tongzhen_gis.schema import (
    ROLES,
    dlbm_to_yongdi,
    landuse_level1,
    role_for_layer_name,
    roles_table,
    standardize,
    validate,
)

ENTERPRISE_COLUMNS = {
    "town_id",
    "firm_id",
    "name_zh",
    "tax_wan",
    "investment_wan",
    "output_wan",
    "revenue_wan",
    "rd_wan",
    "jobs",
    "land_mu",
    "value_added_wan",
    "energy_tce",
    "emission_t",
}


# --------------------------------------------------------------------------- roles


def test_roles_cover_every_input_layer():
    expected = {
        "towns",
        "red_line",
        "farmland",
        "urban_boundary",
        "parcels",
        "dltb",
        "buildings",
        "facilities",
        "homes",
        "enterprises",
        "roads",
    }
    assert expected <= set(ROLES)
    assert ROLES["towns"].required == ("town_id",)
    assert ROLES["parcels"].required == ("landuse_code",)
    assert ROLES["enterprises"].required == ("town_id",)
    assert ROLES["homes"].required == ("population",)
    assert ROLES["facilities"].required == ("category",)
    assert ROLES["dltb"].required == ("DLBM",)
    assert set(ROLES["enterprises"].columns) == ENTERPRISE_COLUMNS
    assert {"BSM", "TBBH", "DLBM", "DLMC", "QSDWMC", "ZLDWMC", "TBMJ", "CZCSXM"} == set(ROLES["dltb"].columns)
    assert not ROLES["enterprises"].is_geo and ROLES["towns"].is_geo
    for role in ROLES.values():
        assert role.label_zh and role.description, role.name


def test_roles_table_lists_every_column():
    table = roles_table()
    assert len(table) == sum(len(r.columns) for r in ROLES.values())
    row = table[(table.role == "parcels") & (table.column == "landuse_code")].iloc[0]
    assert bool(row.required) and row.kind == "landuse_code" and "用地代码" in row.aliases
    assert table.loc[table.column == "land_mu", "unit"].iloc[0] == "亩"


@pytest.mark.parametrize(
    ("name", "role"),
    [
        ("STBHHX", "red_line"),
        ("YJJBNTBHTB", "farmland"),
        ("YJJBNT", "farmland"),
        ("CZKFBJ", "urban_boundary"),
        ("DLTB", "dltb"),
        ("330100STBHHX2022.shp", "red_line"),
        ("/data/三区三线/330100_YJJBNT.gpkg", "farmland"),
        ("杭州市城镇开发边界", "urban_boundary"),
        ("czkfbj", "urban_boundary"),
        ("red_line", "red_line"),
        ("XZQ", None),
        ("DLTBX", None),
        ("boundary_of_nothing", None),
    ],
)
def test_role_for_layer_name(name, role):
    assert role_for_layer_name(name) == role


# --------------------------------------------------------------------------- standardize


def test_standardize_enterprise_aliases():
    firms = pd.DataFrame(
        {
            "企业编号": ["E1", "E2"],
            "小镇编号": ["T1", "T2"],
            "企业名称": ["甲", "乙"],
            "税收(万元)": [10.0, 20.0],
            "累计投资": [1.0, 2.0],
            "产值": [3.0, 4.0],
            "营业收入": [5.0, 6.0],
            "研发经费": [0.1, 0.2],
            "从业人员": [10, 20],
            "用地面积（亩）": [1.5, 2.5],  # full-width brackets
            "增加值": [1.0, 1.0],
            "能耗": [2.0, 2.0],
            "排放": [0.5, 0.5],
            "备注": ["x", "y"],
        },
        index=pd.Index([7, 3]),
    )
    out = standardize(firms, "enterprises")
    assert set(out.columns) == ENTERPRISE_COLUMNS | {"备注"}
    assert out.index.equals(firms.index)
    assert out["land_mu"].tolist() == [1.5, 2.5]
    assert out.attrs["renamed_columns"]["小镇编号"] == "town_id"
    assert "小镇编号" in firms.columns  # input untouched


def test_standardize_is_case_and_space_insensitive_and_keeps_geometry():
    gdf = gpd.GeoDataFrame(
        {"Town_ID": ["T1"], " 小镇名称 ": ["云溪"], "LEVELS": [3]}, geometry=[box(0, 0, 1, 1)], crs=4549
    )
    out = standardize(gdf, "towns")
    assert list(out.columns) == ["town_id", "name_zh", "LEVELS", "geometry"]
    assert isinstance(out, gpd.GeoDataFrame) and out.crs.to_epsg() == 4549
    assert list(standardize(gdf.rename(columns={"LEVELS": "building:levels"}), "buildings").columns)[2] == "floors"


def test_every_alias_of_every_role_is_recognised():
    for role in ROLES.values():
        for column in role.columns.values():
            for alias in column.accepted:
                frame = pd.DataFrame({alias.upper(): [1]})
                assert list(standardize(frame, role.name).columns) == [column.name], (role.name, alias)


def test_standardize_refuses_two_columns_for_one_name():
    firms = pd.DataFrame({"town_id": ["T1"], "税收": [1.0], "TAX_WAN": [2.0]})
    with pytest.raises(SchemaError, match=r"'税收', 'TAX_WAN' all mean 'tax_wan'") as info:
        standardize(firms, "enterprises")
    assert len(info.value.problems) == 1


def test_unknown_role():
    with pytest.raises(OptionError, match="unknown layer role 'lakes'; roles: towns"):
        standardize(pd.DataFrame(), "lakes")


def test_standardize_keeps_sample_enterprises(scene):
    out = standardize(scene.enterprises, "enterprises")
    pd.testing.assert_frame_equal(out, scene.enterprises)


# --------------------------------------------------------------------------- validate


def test_every_sample_layer_validates(scene):
    for role, layer in scene.layers().items():
        out = validate(layer, role)
        pd.testing.assert_frame_equal(out, layer, obj=role)
    out = validate(scene.enterprises, "enterprises")
    pd.testing.assert_frame_equal(out, scene.enterprises)


def test_validate_lists_every_problem_at_once():
    parcels = gpd.GeoDataFrame(
        {
            "地块编号": ["P1", "P1", None, "P4", "P5"],
            "用地代码": [701, 1001, 901, 1401, 101],  # codes read as numbers
        },
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), Point(5, 5), None, box(3, 0, 4, 1)],
    )  # no CRS
    with pytest.raises(SchemaError) as info:
        validate(parcels, "parcels", name="规划用地.shp")
    problems = info.value.problems
    message = str(info.value)
    assert message.startswith("规划用地.shp (parcels, 用地用海地块) has 6 problem(s)")
    assert len(problems) == 6
    expected = [
        "'parcel_id' (input column '地块编号') is empty in 1 row(s) (index 2)",
        "'parcel_id' (input column '地块编号') must be unique but repeats 'P1'×2",
        (
            "leading zeros are lost (701 for '0701'): read the column as text, e.g. "
            "pd.read_csv(path, dtype={'用地代码': str})"
        ),
        "1 feature(s) have no geometry (index 3)",
        "parcels must be polygon features but 1 are Point (index 2)",
        "has no coordinate reference system",
    ]
    for fragment, problem in zip(expected, problems, strict=True):
        assert fragment in problem
    assert "\n" not in message  # one line for the CLI


def test_validate_missing_columns_text_numbers_and_geometry():
    buildings = pd.DataFrame(
        {"建筑编号": ["B1", "B2", "B3"], "层数": ["3", "约5层", "-2"], "高度": [9.0, np.nan, -1.0]}
    )
    with pytest.raises(SchemaError) as info:
        validate(buildings, "buildings")
    problems = info.value.problems
    assert len(problems) == 3
    assert (
        "'floors' (input column '层数') should hold numbers in storeys but holds text '约5层' (index 1)" in problems[0]
    )
    assert "'height_m' (input column '高度') must not be negative: -1.0 (index 2)" in problems[1]
    assert problems[2].startswith("has no geometry")

    towns = gpd.GeoDataFrame({"名称": ["云溪"]}, geometry=[box(0, 0, 1, 1)], crs=4549)
    with pytest.raises(SchemaError, match=r"missing required column 'town_id' \(accepted names: town_id, 小镇编号"):
        validate(towns, "towns")


def test_validate_converts_numeric_text():
    homes = gpd.GeoDataFrame(
        {"人口": ["120", " 80 ", "", None]}, geometry=[Point(0, 0), Point(1, 1), Point(2, 2), Point(3, 3)], crs=4549
    )
    out = validate(homes, "homes")
    assert out["population"].dtype == np.float64
    np.testing.assert_array_equal(out["population"], [120.0, 80.0, np.nan, np.nan])


def test_validate_parcels_with_dlbm_says_to_map_them():
    dltb = gpd.GeoDataFrame({"DLBM": ["0101", "0702"]}, geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=4549)
    with pytest.raises(SchemaError, match=r"DLBM holds 三调 地类编码.*dlbm_to_yongdi.*role 'dltb'"):
        validate(dltb, "parcels")
    assert validate(dltb, "dltb")["DLBM"].tolist() == ["0101", "0702"]


def test_validate_dltb_fields():
    dltb = gpd.GeoDataFrame(
        {
            "标识码": [1, 2],
            "图斑编号": ["1", "2"],
            "地类编码": [101, 702],
            "地类名称": ["水田", "农村宅基地"],
            "图斑面积": ["1200.5", "约900"],
        },
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)],
        crs=4490,
    )
    with pytest.raises(SchemaError) as info:
        validate(dltb, "dltb")
    problems = info.value.problems
    assert len(problems) == 2
    assert "'DLBM' (input column '地类编码') holds 三调 DLBM codes as numbers" in problems[0]
    assert "dtype={'地类编码': str}" in problems[0]
    assert "'TBMJ' (input column '图斑面积') should hold numbers in m2 but holds text '约900'" in problems[1]


def test_validate_invalid_and_empty_landuse_codes():
    parcels = gpd.GeoDataFrame(
        {"landuse_code": ["0701", "701", "99", None, "080404 "]},
        geometry=[box(i, 0, i + 1, 1) for i in range(5)],
        crs=4549,
    )
    with pytest.raises(SchemaError) as info:
        validate(parcels, "parcels")
    problems = info.value.problems
    assert len(problems) == 2
    assert "'landuse_code' is empty in 1 row(s) (index 3)" in problems[0]
    assert "not 用地用海 codes '701', '99' (index 1, 2)" in problems[1]
    good = validate(parcels.iloc[[0, 4]], "parcels")
    assert good["landuse_code"].tolist() == ["0701", "080404"]


def test_validate_roads_geometry_type(scene):
    roads = scene.roads.copy()
    roads.loc[roads.index[0], "geometry"] = box(0, 0, 1, 1)
    with pytest.raises(SchemaError, match=r"roads must be line features but 1 are Polygon"):
        validate(roads, "roads")
    line = gpd.GeoDataFrame(geometry=[LineString([(0, 0), (1, 1)])], crs=4549)
    assert len(validate(line, "roads")) == 1


def test_enterprises_key_must_be_filled(scene):
    firms = scene.enterprises.copy()
    firms.loc[firms.index[0], "town_id"] = None
    with pytest.raises(SchemaError, match=r"'town_id' is empty in 1 row\(s\) \(index 0\)"):
        validate(firms, "enterprises")


# --------------------------------------------------------------------------- land-use codes


@pytest.mark.parametrize(
    ("code", "level1"),
    [
        ("0701", "07"),
        ("080404", "08"),
        ("14", "14"),
        ("1001", "10"),
        (" 0901 ", "09"),
        ("2401", "24"),
        (None, None),
        ("  ", None),
    ],
)
def test_landuse_level1_scalar(code, level1):
    assert landuse_level1(code) == level1


@pytest.mark.parametrize("code", ["701", "99", "25", "07A1", 701, 701.0, "0701001"])
def test_landuse_level1_invalid_scalar(code):
    with pytest.raises(SchemaError, match="not 用地用海 codes"):
        landuse_level1(code)
    assert landuse_level1(code, errors="coerce") is None


def test_landuse_level1_series():
    codes = pd.Series(["0701", "080404", None, "1401"], index=["a", "b", "c", "a"], name="code")
    out = landuse_level1(codes)
    assert out.index.equals(codes.index)
    assert out.tolist()[:2] == ["07", "08"] and pd.isna(out.iloc[2]) and out.iloc[3] == "14"
    mixed = pd.Series(["0701", 901, "99"], dtype=object)
    with pytest.raises(SchemaError, match=r"901, '99' \(index 1, 2\) \(numbers: read the codes as text"):
        landuse_level1(mixed)
    coerced = landuse_level1(mixed, errors="coerce")
    assert coerced.iloc[0] == "07" and coerced.iloc[1:].isna().all()
    assert len(coerced.attrs["problems"]) == 1
    numbers = pd.Series([701, 1001])
    assert landuse_level1(numbers, errors="coerce").isna().all()


def test_landuse_level1_classes_from_rules():
    classes = set(tz.rules.load("landuse")["class"])
    assert classes == {f"{i:02d}" for i in range(1, 25)}  # standards.md §7: 01–24
    for cls in classes:
        assert landuse_level1(cls + "01") == cls


@pytest.mark.parametrize(
    ("dlbm", "yongdi"),
    [
        ("0601", "1001"),  # standards.md §7 examples
        ("0701", "0701"),
        ("0702", "0703"),
        ("1202", "0602"),
        ("0101", "01"),  # longest prefix "01"
        ("1203", "23"),  # "12" is the longest key it starts with
        ("0810A", "14"),  # 三调 广场 → 14 绿地与开敞空间用地
        ("0810", "14"),  # 公园与绿地
        ("0809", "13"),  # 公用设施用地
        ("0508", "11"),  # 物流仓储用地 → 仓储用地, not 09
        ("0501", "09"),  # the rest of 05 stays 商业服务业
    ],
)
def test_dlbm_to_yongdi_examples(dlbm, yongdi):
    assert dlbm_to_yongdi(dlbm) == yongdi


def test_dlbm_to_yongdi_reports_unmapped_and_numbers():
    codes = pd.Series(["0601", "13", None, "9999", 702], index=[10, 11, 12, 13, 14], dtype=object)
    with pytest.raises(
        SchemaError, match=r"no 用地用海 mapping '13', '9999', 702 \(index 11, 13, 14\).*read DLBM as text"
    ):
        dlbm_to_yongdi(codes)
    out = dlbm_to_yongdi(codes, errors="coerce")
    assert out.index.equals(codes.index) and out.name == "landuse_code"
    assert out.iloc[0] == "1001" and out.iloc[1:].isna().all()
    assert out.attrs["unmapped"] == ["13", "702", "9999"]
    assert dlbm_to_yongdi("13", errors="coerce") is None
    assert dlbm_to_yongdi(None) is None


@settings(max_examples=50, deadline=None)
@given(key=st.sampled_from(sorted(tz.rules.load("landuse")["dlbm_to_yongdi"])), tail=st.text("0123456789", max_size=3))
def test_dlbm_longest_prefix_property(key, tail):
    table = tz.rules.load("landuse")["dlbm_to_yongdi"]
    code = key + tail
    longest = max((k for k in table if code.startswith(k)), key=len)
    assert dlbm_to_yongdi(code) == table[longest]
    assert len(longest) >= len(key)


def test_dlbm_mapped_codes_are_valid_landuse_codes():
    for target in tz.rules.load("landuse")["dlbm_to_yongdi"].values():
        assert landuse_level1(target) == target[:2]


def test_schema_rule_file_is_valid():
    data = tz.rules.load("schema")["role"]
    assert set(data) == set(ROLES)
    with pytest.raises(RuleDataError):
        tz.rules.load("schema")["no_such_table"]
