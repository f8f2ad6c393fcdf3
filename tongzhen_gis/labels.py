"""Chinese labels of tongzhen_gis: column headers, units, verdicts and line names, in one place.

Every table and page the package writes for a reader (the report's workbook and page, the
intensity table, map legends) takes its Chinese wording from here, so a column or a verdict
reads the same on every sheet, page and map. Pure data and two lookups; no analysis.

* :data:`VERDICT_ZH`: the control-line verdicts of :func:`tongzhen_gis.controllines.check`
  (``pass`` / ``review`` / ``conflict``, and ``unchecked`` for a feature no line was given
  for): 通过 / 待核 / 冲突 / 未核查. :func:`verdict_zh` applies it.
* :data:`LINE_ZH`: the ``line`` values of the conflicts table.
* :data:`COLUMNS_ZH`: name and unit of each column of :func:`tongzhen_gis.intensity.summarize`
  (the long form, with its definition, for the intensity table).
* :data:`HEADERS_ZH`: short headers of the report's sheets and tables; :func:`header` applies
  it (``share_<code>`` columns become 用地<code>占比).
* :data:`COVERAGE_HEADERS_ZH`: headers of the 15-minute coverage table.
* :data:`SCORECARD_HEADERS_ZH`: headers of a town's scorecard on the report page, and
  :data:`RULE_KIND_ZH` the kind of rule it shows (binding, advisory, unconfirmed threshold),
  :data:`UNIT_ZH` how a unit of the rule files is shown.
* :data:`VALUE_LABELS_ZH`: legend titles of the mapped indicators (:mod:`tongzhen_gis.maps`).

Decisions
---------
* A verdict has one Chinese word everywhere; the English code stays only in columns that are
  codes by name (the scorecard's ``status`` column, 状态代码), so that tables remain
  machine-readable.
* A value with no label is shown as it is (never dropped, never blank).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "COLUMNS_ZH",
    "COMPARATOR_ZH",
    "COVERAGE_HEADERS_ZH",
    "HEADERS_ZH",
    "LINE_ZH",
    "RULE_KIND_ZH",
    "SCORECARD_HEADERS_ZH",
    "UNIT_ZH",
    "VALUE_LABELS_ZH",
    "VERDICT_ZH",
    "header",
    "rule_kind_zh",
    "verdict_zh",
]

#: How a rule's comparator is printed for a reader.
COMPARATOR_ZH: dict[str, str] = {"<=": "≤", ">=": "≥", "<": "<", ">": ">", "==": "="}

#: Chinese word of each control-line verdict (``verdict`` of :func:`tongzhen_gis.controllines.check`).
VERDICT_ZH: dict[str, str] = {"pass": "通过", "review": "待核", "conflict": "冲突", "unchecked": "未核查"}

#: Chinese names of the ``line`` values of the conflicts table.
LINE_ZH: dict[str, str] = {
    "red_line": "生态保护红线",
    "farmland": "永久基本农田",
    "outside_boundary": "城镇开发边界外",
}

#: Chinese label and unit of each column of :func:`tongzhen_gis.intensity.summarize` (``share_<code>``
#: columns are named after the class: see ``tz.rules.load("landuse")["class"]``).
COLUMNS_ZH: dict[str, tuple[str, str]] = {
    "area_m2": ("小镇面积", "m²"),
    "construction_m2": ("建设用地面积", "m²"),
    "construction_mu": ("建设用地面积", "亩"),
    "construction_share": ("开发强度 (建设用地/小镇面积)", "比例"),
    "residential_m2": ("住宅用地面积", "m²"),
    "residential_share": ("住宅用地占建设用地比重", "比例"),
    "industrial_m2": ("工矿用地面积", "m²"),
    "industrial_share": ("工矿用地占建设用地比重", "比例"),
    "green_m2": ("绿地与开敞空间用地面积", "m²"),
    "green_share": ("绿地与开敞空间用地占小镇面积比重", "比例"),
    "unclassified_m2": ("无用地分类面积", "m²"),
    "parcel_overlap_m2": ("地块重叠面积 (只计一次)", "m²"),
    "building_count": ("建筑数量", "栋"),
    "footprint_m2": ("建筑基底面积", "m²"),
    "floor_area_m2": ("建筑面积", "m²"),
    "footprint_on_construction_m2": ("建设用地上的建筑基底面积", "m²"),
    "floor_area_on_construction_m2": ("建设用地上的建筑面积", "m²"),
    "far": ("综合容积率 (建设用地上的建筑面积/建设用地)", ""),
    "gross_far": ("毛容积率 (全部建筑面积/小镇面积)", ""),
    "building_coverage": ("建筑密度 (建设用地上的基底面积/建设用地)", "比例"),
    "footprint_off_construction_share": ("建设用地以外的建筑基底占比", "比例"),
    "unknown_floors_count": ("层数与高度均缺失的建筑", "栋"),
    "unknown_floors_footprint_m2": ("层数与高度均缺失的建筑基底面积", "m²"),
    "firm_count": ("企业数量", "家"),
    "tax_wan": ("税收", "万元"),
    "investment_wan": ("累计投资", "万元"),
    "output_wan": ("产值", "万元"),
    "revenue_wan": ("营业收入", "万元"),
    "rd_wan": ("研发经费", "万元"),
    "jobs": ("从业人员", "人"),
    "tax_per_mu": ("建设用地亩均税收", "万元/亩"),
    "investment_per_mu": ("建设用地亩均累计投资", "万元/亩"),
    "output_per_mu": ("建设用地亩均产值", "万元/亩"),
    "rd_intensity": ("研发投入强度 (研发经费/营业收入)", "比例"),
    "labour_productivity": ("全员劳动生产率 (产值/从业人员)", "万元/人"),
}

#: Short Chinese headers of the report's sheets and tables, by column name.
HEADERS_ZH: dict[str, str] = {
    "town_id": "小镇编号",
    "name_zh": "小镇名称",
    "category": "类型",
    "district": "所在区",
    "grade": "建议等级",
    "points": "得分",
    "grade_by_points": "按得分等级",
    "ceiling": "封顶等级",
    "n_pass": "达标项数",
    "n_fail": "未达标项数 (约束性)",
    "n_advisory_fail": "鼓励值未达到项数",
    "n_unconfirmed_fail": "未核实阈值未达标项数",
    "n_missing": "缺数据项数",
    "n_not_applicable": "不适用项数",
    "reasons": "评定理由",
    "label": "说明",
    "verdict": "三线核查结论",
    "area_m2": "面积 (m²)",
    "area_mu": "面积 (亩)",
    "red_line_m2": "占用生态保护红线 (m²)",
    "red_line_mu": "占用生态保护红线 (亩)",
    "red_line_share": "红线占比",
    "farmland_m2": "占用永久基本农田 (m²)",
    "farmland_mu": "占用永久基本农田 (亩)",
    "farmland_share": "农田占比",
    "inside_boundary_m2": "城镇开发边界内 (m²)",
    "inside_boundary_mu": "城镇开发边界内 (亩)",
    "outside_boundary_m2": "城镇开发边界外 (m²)",
    "outside_boundary_mu": "城镇开发边界外 (亩)",
    "outside_boundary_share": "边界外占比",
    "n_conflicts": "冲突图斑数",
    "n_slivers": "碎片数 (≤容差, 待核)",
    "line": "控制线",
    "source_id": "控制线图斑编号",
    "share": "占比",
    "sliver": "碎片 (≤容差)",
    "construction": "计入 (建设用地)",
    "construction_m2": "建设用地 (m²)",
    "construction_mu": "建设用地 (亩)",
    "construction_share": "开发强度",
    "residential_m2": "居住用地 (m²)",
    "residential_share": "居住用地占建设用地比重",
    "industrial_m2": "工矿用地 (m²)",
    "industrial_share": "工矿用地占比",
    "green_m2": "绿地与开敞空间 (m²)",
    "green_share": "绿地占比",
    "unclassified_m2": "未分类 (m²)",
    "parcel_overlap_m2": "地块重叠 (只计一次, m²)",
    "footprint_on_construction_m2": "建设用地上的建筑基底面积 (m²)",
    "floor_area_on_construction_m2": "建设用地上的建筑面积 (m²)",
    "footprint_off_construction_share": "建设用地以外的建筑基底占比",
    "building_count": "建筑数",
    "footprint_m2": "建筑基底面积 (m²)",
    "floor_area_m2": "建筑面积 (m²)",
    "far": "综合容积率",
    "gross_far": "毛容积率",
    "building_coverage": "建筑密度",
    "unknown_floors_count": "层数未知建筑数",
    "unknown_floors_footprint_m2": "层数未知建筑基底 (m²)",
    "firm_count": "企业数",
    "tax_wan": "税收 (万元)",
    "investment_wan": "累计投资 (万元)",
    "output_wan": "产值 (万元)",
    "revenue_wan": "营业收入 (万元)",
    "rd_wan": "研发经费 (万元)",
    "jobs": "从业人员",
    "tax_per_mu": "亩均税收 (万元/亩)",
    "investment_per_mu": "亩均投资 (万元/亩)",
    "output_per_mu": "亩均产值 (万元/亩)",
    "rd_intensity": "研发投入强度",
    "labour_productivity": "全员劳动生产率 (万元/人)",
    "visitors": "年接待游客 (人次)",
    "investment_3yr_wan": "三年固定资产投资 (万元)",
    "lead_industry_investment_share": "主导产业投资占比",
    "all_categories_share": '"八个一"全覆盖人口比例',
    "rule": "规则",
    "label_zh": "指标",
    "indicator": "指标字段",
    "value": "数值",
    "comparator": "比较",
    "threshold": "阈值",
    "unit": "单位",
    "status": "状态代码",
    "status_zh": "结论",
    "binding": "约束性",
    "advisory": "鼓励值",
    "confirmed": "阈值已核实",
    "reason": "说明",
    "document": "文件",
    "clause": "条款",
    "note": "备注",
    "population": "人口",
    "homes": "住宅点数",
    "facility_category": "设施类别",
    "covered_share": "覆盖比例 (按点数)",
    "covered_population_share": "覆盖比例 (按人口)",
}

#: Headers of the 15-minute coverage table (:func:`tongzhen_gis.access.coverage`).
COVERAGE_HEADERS_ZH: dict[str, str] = {
    "name": "小镇名称",
    "note": "备注",
    "category": "设施类别",
    "category_zh": "设施类别名称",
    "threshold_m": "步行距离 (m)",
    "distance_from": "距离来源",
    "origins": "住宅点数",
    "covered": "覆盖点数",
    "share": "覆盖比例 (按点数)",
    "unreachable": "无法接入路网点数",
    "mean_categories_reached": "平均可达类别数",
    "population": "人口",
    "covered_population": "覆盖人口",
    "population_share": "覆盖比例 (按人口)",
}

#: Headers of a town's scorecard on the report page, in the order shown.
SCORECARD_HEADERS_ZH: dict[str, str] = {
    "label_zh": "指标",
    "value": "数值",
    "comparator": "比较",
    "threshold": "阈值",
    "unit": "单位",
    "status_zh": "结论",
    "mark": "性质",
    "reason": "说明",
    "document": "文件",
    "clause": "条款",
}

#: How a unit of the rule files is shown to a reader.
UNIT_ZH: dict[str, str] = {"m2": "m²", "ratio": "比例"}

#: The kind of a rule as the scorecard shows it.
RULE_KIND_ZH: dict[str, str] = {"binding": "约束性", "advisory": "鼓励值", "unconfirmed": "阈值未核实"}

#: Legend titles of the indicators :mod:`tongzhen_gis.maps` draws.
VALUE_LABELS_ZH: dict[str, str] = {
    "far": "容积率 (FAR)",
    "gross_far": "毛容积率",
    "building_coverage": "建筑密度",
    "construction_share": "开发强度",
    "residential_share": "居住用地占比",
    "green_share": "绿地占比",
    "tax_per_mu": "亩均税收 (万元/亩)",
    "investment_per_mu": "亩均投资 (万元/亩)",
    "output_per_mu": "亩均产值 (万元/亩)",
}


def header(col: Any) -> str:
    """The short Chinese header of a column: :data:`HEADERS_ZH`, ``share_<code>`` → 用地<code>占比, else the name.

    Examples
    --------
    >>> header("far"), header("share_07"), header("other")
    ('综合容积率', '用地07占比', 'other')
    """
    text = str(col)
    if text in HEADERS_ZH:
        return HEADERS_ZH[text]
    if text.startswith("share_") and text[6:].isdigit():
        return f"用地{text[6:]}占比"
    return text


def verdict_zh(verdict: Any) -> Any:
    """The Chinese word of a control-line verdict (:data:`VERDICT_ZH`); any other value as it is.

    Examples
    --------
    >>> verdict_zh("conflict"), verdict_zh("review"), verdict_zh(None)
    ('冲突', '待核', None)
    """
    return VERDICT_ZH.get(verdict, verdict) if isinstance(verdict, str) else verdict


def rule_kind_zh(advisory: bool, confirmed: bool) -> str:
    """The kind of a rule as the report shows it: 鼓励值 (advisory), 阈值未核实 or 约束性 (see :data:`RULE_KIND_ZH`)."""
    if advisory:
        return RULE_KIND_ZH["advisory"]
    return RULE_KIND_ZH["binding"] if confirmed else RULE_KIND_ZH["unconfirmed"]
