"""The workbook ``report.xlsx`` of :mod:`tongzhen_gis.report`: its sheets and their Chinese headers.

The summary and coverage tables and the Chinese labels (columns, control lines, verdicts)
are shared with the page (:mod:`tongzhen_gis._report_html`). Written through
:mod:`tongzhen_gis.io` only.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from tongzhen_gis import evaluate
from tongzhen_gis import io as tzio
from tongzhen_gis._report_run import _Run

_SHEET_HEADERS: dict[str, str] = {
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
    "n_slivers": "碎片数 (≤容差, 待复核)",
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


def _header(col: Any) -> str:
    text = str(col)
    if text in _SHEET_HEADERS:
        return _SHEET_HEADERS[text]
    if text.startswith("share_") and text[6:].isdigit():
        return f"用地{text[6:]}占比"
    return text


def _zh(df: pd.DataFrame) -> pd.DataFrame:
    return df.rename(columns=_header)


def _scorecard_sheet(card: pd.DataFrame) -> pd.DataFrame:
    df = card.reset_index()
    df.insert(df.columns.get_loc("status") + 1, "status_zh", df["status"].map(evaluate.STATUS_ZH))
    return df


#: Chinese names of the ``line`` values of the conflicts table.
_LINE_ZH = {"red_line": "生态保护红线", "farmland": "永久基本农田", "outside_boundary": "城镇开发边界外"}


#: Chinese labels of the control-line verdicts.
_VERDICT_ZH = {"pass": "通过", "review": "待复核 (碎片)", "conflict": "冲突", "unchecked": "未核查"}


def _summary_table(run: _Run, indicators: pd.DataFrame, ev: evaluate.Evaluation) -> pd.DataFrame:
    cols = [c for c in ("name_zh", "category", "district") if c in indicators.columns]
    out = indicators[cols].copy()
    if run.lines is not None:
        verdict = run.lines.summary["verdict"].reindex(out.index)
        out["verdict"] = verdict.map(lambda v: _VERDICT_ZH.get(v, v))
    for col in ("grade", "points", "n_fail", "n_missing", "n_advisory_fail", "n_unconfirmed_fail", "reasons", "label"):
        out[col] = ev.grades[col].reindex(out.index)
    return out


_COVERAGE_HEADERS = {
    "category": "设施类别",
    "category_zh": "设施类别名称",
    "origins": "住宅点数",
    "covered": "覆盖点数",
    "share": "覆盖比例 (按点数)",
    "unreachable": "无法接入路网点数",
    "mean_categories_reached": "平均可达类别数",
    "population": "人口",
    "covered_population": "覆盖人口",
    "population_share": "覆盖比例 (按人口)",
}


def _coverage_table(coverage: pd.DataFrame) -> pd.DataFrame:
    """Coverage with Chinese category names and headers (group column first)."""
    from tongzhen_gis import rules

    catalogue = rules.load("facilities")["category"]
    df = coverage.reset_index()
    names = {k: v.get("name_zh", k) for k, v in catalogue.items()}
    names["all_categories"] = '"八个一"全部可达'
    df.insert(df.columns.get_loc("category") + 1, "category_zh", df["category"].map(lambda c: names.get(c, c)))
    group = df.columns[0]
    df[group] = df[group].map(lambda g: "不在任何小镇" if g is None or (isinstance(g, float) and math.isnan(g)) else g)
    return df.rename(columns={**_COVERAGE_HEADERS, group: _header(group)})


def _coverage_sheet(run: _Run) -> pd.DataFrame:
    if run.coverage is None:
        return pd.DataFrame({"说明": ["未运行15分钟生活圈分析 (配置中无 [access] 或输入不全)"]})
    return _coverage_table(run.coverage)


def _intensity_sheet(table: pd.DataFrame) -> pd.DataFrame:
    """The intensity table with the Chinese labels and units of :data:`tongzhen_gis.intensity.COLUMNS_ZH`."""
    from tongzhen_gis import intensity, rules

    classes = rules.load("landuse")["class"]

    def label(col: Any) -> str:
        text = str(col)
        if text in intensity.COLUMNS_ZH:
            name, unit = intensity.COLUMNS_ZH[text]
            return f"{name} ({unit})" if unit else name
        if text.startswith("share_") and text[6:] in classes:
            return f"{text[6:]} {classes[text[6:]]['name_zh']} 占小镇面积比重"
        return _header(text)

    return table.reset_index().rename(columns=label)


def _write_workbook(run: _Run, indicators: pd.DataFrame, ev: evaluate.Evaluation, out: Path) -> Path:
    none = pd.DataFrame({"说明": ["未运行 (配置中无相应输入)"]})
    if run.lines is not None:
        conflicts = pd.DataFrame(run.lines.conflicts.drop(columns=run.lines.conflicts.geometry.name))
        conflicts["line"] = conflicts["line"].map(lambda v: _LINE_ZH.get(v, v))
        lines_sheet, conflicts_sheet = _zh(run.lines.summary.reset_index()), _zh(conflicts)
    else:
        lines_sheet = conflicts_sheet = none
    sheets = {
        "汇总": _zh(_summary_table(run, indicators, ev).reset_index()),
        "三线核查": lines_sheet,
        "三线冲突清单": conflicts_sheet,
        "用地集约": _intensity_sheet(run.intensity) if run.intensity is not None else none,
        "生活圈": _coverage_sheet(run),
        "评估": _zh(_scorecard_sheet(ev.scorecard)),
    }
    return tzio.write_workbook(sheets, tzio.safe_join(out, "report.xlsx"), index=False)
