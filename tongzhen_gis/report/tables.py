"""The workbook ``report.xlsx`` of :mod:`tongzhen_gis.report`: its sheets and their Chinese headers.

The summary and coverage tables are shared with the page (:mod:`tongzhen_gis.report.html`);
every Chinese label (columns, control lines, verdicts) comes from :mod:`tongzhen_gis.labels`,
so a verdict reads 通过 / 待核 / 冲突 / 未核查 on every sheet and on the page. Written through
:mod:`tongzhen_gis.io` only.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from tongzhen_gis import evaluate, labels
from tongzhen_gis import io as tzio
from tongzhen_gis.labels import header as _header
from tongzhen_gis.report import _format
from tongzhen_gis.report.run import ReportRun


def _zh(df: pd.DataFrame) -> pd.DataFrame:
    return df.rename(columns=_header)


def _category_zh(values: pd.Series) -> pd.Series:
    """Town categories as the reader sees them everywhere: ``数字经济 (digital)`` (Chinese, then the id)."""
    names = evaluate.category_names_zh()
    return values.map(lambda c: f"{names[c]} ({c})" if isinstance(c, str) and c in names else c)


def _scorecard_sheet(card: pd.DataFrame) -> pd.DataFrame:
    """The scorecard of sheet 评估: category, comparator and unit in the page's words, the status code kept."""
    df = card.reset_index()
    df.insert(df.columns.get_loc("status") + 1, "status_zh", df["status"].map(evaluate.STATUS_ZH))
    if "category" in df.columns:
        df["category"] = _category_zh(df["category"])
    df["comparator"] = df["comparator"].map(lambda c: labels.COMPARATOR_ZH.get(c, c))
    df["unit"] = df["unit"].map(lambda u: labels.UNIT_ZH.get(u, u))
    return df


def _summary_table(run: ReportRun, indicators: pd.DataFrame, ev: evaluate.Evaluation) -> pd.DataFrame:
    cols = [c for c in ("name_zh", "category", "district") if c in indicators.columns]
    out = indicators[cols].copy()
    if "category" in out.columns:
        out["category"] = _category_zh(out["category"])
    if run.lines is not None:
        verdict = run.lines.check.summary["verdict"].reindex(out.index)
        out["verdict"] = verdict.map(labels.verdict_zh)
    for col in ("grade", "points", "n_fail", "n_missing", "n_advisory_fail", "n_unconfirmed_fail", "reasons", "label"):
        out[col] = ev.grades[col].reindex(out.index)
    return out


def _coverage_table(coverage: pd.DataFrame) -> pd.DataFrame:
    """Coverage with Chinese category names and headers (group column first), each category's distance."""
    from tongzhen_gis import access

    catalogue = access.load_catalogue(coverage.attrs.get("catalogue"))["category"]
    df = coverage.reset_index()
    if "name" in df.columns:  # the town's name beside its id
        df.insert(1, "name", df.pop("name"))
    names = {k: v.get("name_zh", k) for k, v in catalogue.items()}
    names["all_categories"] = "全部类别可达 (各按其步行距离)"
    df.insert(df.columns.get_loc("category") + 1, "category_zh", df["category"].map(lambda c: names.get(c, c)))
    if "distance_from" in df.columns:
        df["distance_from"] = df["distance_from"].map(_distance_from_zh)
    group = df.columns[0]
    df[group] = df[group].map(lambda g: "不在任何小镇" if g is None or (isinstance(g, float) and math.isnan(g)) else g)
    return df.rename(columns={**labels.COVERAGE_HEADERS_ZH, group: _header(group)})


def _distance_from_zh(source: Any) -> Any:
    """Where a category's distance comes from, in Chinese: 设施目录 …, 15分钟生活圈, 统一设定."""
    from tongzhen_gis import rules

    text = str(source)
    if text.startswith("catalogue "):
        return f"设施目录 {text[len('catalogue ') :]}"
    if text.startswith("life circle "):
        level = rules.load("life_circle")["level"].get(text[len("life circle ") :], {})
        return level.get("label_zh", text)
    if text == "threshold_m":
        return "统一设定 (threshold_m)"
    if text == "each category's own distance":
        return "各类别按其步行距离"
    return source


def _coverage_sheet(run: ReportRun) -> pd.DataFrame:
    if run.access is None:
        return pd.DataFrame({"说明": ["未运行15分钟生活圈分析 (配置中无 [access] 或输入不全)"]})
    return _coverage_table(run.access.coverage)


def _intensity_sheet(table: pd.DataFrame) -> pd.DataFrame:
    """The intensity table with the Chinese labels and units of :data:`tongzhen_gis.labels.COLUMNS_ZH`."""
    from tongzhen_gis import rules

    classes = rules.load("landuse")["class"]

    def label(col: Any) -> str:
        text = str(col)
        if text in labels.COLUMNS_ZH:
            name, unit = labels.COLUMNS_ZH[text]
            unit = "%" if unit == "比例" else unit  # shares are shown as percentages (0.0%)
            return f"{name} ({unit})" if unit else name
        if text.startswith("share_") and text[6:] in classes:
            return f"{text[6:]} {classes[text[6:]]['name_zh']} 占小镇面积比重"
        return _header(text)

    return table.reset_index().rename(columns=label)


def _formats(original: pd.DataFrame, shown: pd.DataFrame) -> dict[str, str]:
    """Excel number format of each shown column, from the kind of its original column (:mod:`._format`).

    A numeric column of no known kind gets ``#,##0.00##`` (never Excel's scientific "General").
    """
    out: dict[str, str] = {}
    for orig, col in zip(original.columns, shown.columns, strict=True):
        fmt = _format.excel_format(orig)
        if (
            fmt is None
            and pd.api.types.is_numeric_dtype(original[orig])
            and not pd.api.types.is_bool_dtype(original[orig])
        ):
            fmt = "#,##0.00##"
        if fmt is not None:
            out[col] = fmt
    return out


def _coverage_formats(shown: pd.DataFrame) -> dict[str, str]:
    heads = labels.COVERAGE_HEADERS_ZH
    kinds = {heads["share"]: "0.0%", heads["population_share"]: "0.0%", heads["mean_categories_reached"]: "0.00"}
    for key in ("origins", "covered", "unreachable", "population", "covered_population"):
        kinds[heads[key]] = "#,##0"
    return {c: f for c, f in kinds.items() if c in shown.columns}


def _write_workbook(run: ReportRun, indicators: pd.DataFrame, ev: evaluate.Evaluation, out: Path) -> Path:
    none = pd.DataFrame({"说明": ["未运行 (配置中无相应输入)"]})
    pairs: dict[str, tuple[pd.DataFrame, pd.DataFrame]] = {}
    if run.lines is not None:
        check = run.lines.check
        conflicts = pd.DataFrame(check.conflicts.drop(columns=check.conflicts.geometry.name))
        conflicts["line"] = conflicts["line"].map(lambda v: labels.LINE_ZH.get(v, v))
        summary = check.summary.reset_index()
        summary["verdict"] = summary["verdict"].map(labels.verdict_zh)  # the same words as 汇总
        pairs["三线核查"] = (summary, _zh(summary))
        pairs["三线冲突清单"] = (conflicts, _zh(conflicts))
    else:
        pairs["三线核查"] = pairs["三线冲突清单"] = (none, none)
    summary = _summary_table(run, indicators, ev).reset_index()
    card = _scorecard_sheet(ev.scorecard)
    intensity = run.intensity.table.reset_index() if run.intensity is not None else none
    shown_intensity = _intensity_sheet(run.intensity.table) if run.intensity is not None else none
    order = ("汇总", "三线核查", "三线冲突清单", "用地集约", "生活圈", "评估")
    pairs.update(
        {
            "汇总": (summary, _zh(summary)),
            "用地集约": (intensity, shown_intensity),
            "评估": (card, _zh(card)),
        }
    )
    sheets = {name: pairs[name][1] for name in order if name != "生活圈"}
    formats = {name: _formats(*pairs[name]) for name in sheets}
    coverage = _coverage_sheet(run)
    sheets["生活圈"] = coverage
    formats["生活圈"] = _coverage_formats(coverage)
    sheets = {name: sheets[name] for name in order}
    from tongzhen_gis.report.city import _city_sheets  # 城市总体目标, 小镇预警 when [city] is given

    sheets.update(_city_sheets(run.city))
    return tzio.write_workbook(sheets, tzio.safe_join(out, "report.xlsx"), index=False, formats=formats)
