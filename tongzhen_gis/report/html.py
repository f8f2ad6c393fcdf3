"""The page ``report.html`` of :mod:`tongzhen_gis.report`: what it says, section by section.

Assembled from the run, the evaluation and the rendered maps; the escaped low-level builders
(tables, images, the page shell) are in :mod:`tongzhen_gis.report._html`. Returns text; the caller
writes it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from tongzhen_gis import __version__, evaluate, labels
from tongzhen_gis.labels import header as _header
from tongzhen_gis.report import _html as H
from tongzhen_gis.report.config import ProjectConfig
from tongzhen_gis.report.maps import _OVERVIEW
from tongzhen_gis.report.run import ReportRun
from tongzhen_gis.report.tables import _coverage_table, _summary_table

#: How a comparator of the rule files is shown to a reader (units: :data:`tongzhen_gis.labels.UNIT_ZH`).
_COMPARATOR_TEXT = {"<=": "≤", ">=": "≥", "<": "<", ">": ">", "==": "="}


def _shown(value: Any, unit: str) -> Any:
    """A scorecard value or threshold as a reader expects it: ratios as percentages."""
    if unit == "ratio" and isinstance(value, int | float) and math.isfinite(value):
        return f"{value * 100:.4g}%"
    return value


def _card_html(card: pd.DataFrame) -> str:
    df = card.copy()
    df["value"] = [_shown(v, u) for v, u in zip(df["value"], df["unit"], strict=True)]
    df["threshold"] = [_shown(v, u) for v, u in zip(df["threshold"], df["unit"], strict=True)]
    df["comparator"] = df["comparator"].map(lambda c: _COMPARATOR_TEXT.get(c, c))
    df["unit"] = df["unit"].map(lambda u: labels.UNIT_ZH.get(u, u))
    df["status_zh"] = df["status"].map(evaluate.STATUS_ZH)
    kinds = labels.RULE_KIND_ZH
    df["mark"] = [
        kinds["advisory"] if a else (kinds["unconfirmed"] if not c else kinds["binding"])
        for a, c in zip(df["advisory"], df["confirmed"], strict=True)
    ]
    cols = list(labels.SCORECARD_HEADERS_ZH)
    return H.table(df[cols], headers=labels.SCORECARD_HEADERS_ZH, row_class=df["status"])


def _html_report(
    config: ProjectConfig,
    run: ReportRun,
    indicators: pd.DataFrame,
    ev: evaluate.Evaluation,
    maps: Mapping[Any, list[tuple[str, bytes]]],
    problems: list[str],
) -> str:
    e = H.esc
    parts = [f"<h1>{e(config.title)}</h1>"]
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    rules_label = config.rules if isinstance(config.rules, str) else Path(config.rules).name
    parts.append(
        f'<p class="note">生成时间 {e(stamp)} · tongzhen_gis {e(__version__)} · 规则集 {e(rules_label)} · '
        "建议等级由 rules/grading.toml 计分规则给出, 仅供评审参考, 非官方考核结论。</p>"
    )
    summary = _summary_table(run, indicators, ev).reset_index()
    if "category" in summary.columns:
        names_zh = evaluate.category_names_zh()
        summary["category"] = summary["category"].map(
            lambda c: f"{names_zh[c]} ({c})" if isinstance(c, str) and c in names_zh else c
        )
    heads = {c: _header(c) for c in summary.columns}
    parts.append("<h2>汇总</h2>")
    parts.append(H.table(summary.drop(columns=["reasons", "label"]), headers=heads))
    overview = maps.get(_OVERVIEW, [])
    if overview:
        parts.append("<h3>全域地图</h3>")
        parts.extend(H.image(png, caption=cap) for cap, png in overview)
    failing = ev.failing
    parts.append(
        f"<p>未达到约束性指标的小镇: {e('、'.join(map(str, failing)) if failing else '无')}。"
        "“鼓励值”与“阈值未核实”的规则单独标注, 不单独导致不达标。</p>"
    )
    for tid in indicators.index:
        name = indicators.loc[tid, run.towns.name_col] if run.towns.name_col in indicators.columns else tid
        g = ev.grades.loc[tid]
        parts.append(f"<h2>{e(name)} ({e(tid)})</h2>")
        parts.append(
            f'<p class="grade">建议等级: {e(g["grade"])} · 得分 {e(g["points"])}</p>'
            f'<p class="note">{e(g["reasons"])}</p>'
        )
        parts.append("<h3>评估表</h3>")
        parts.append(_card_html(ev.scorecard.xs(tid, level=0)))
        if run.lines is not None:
            parts.append("<h3>三线冲突清单</h3>")
            conf = run.lines.check.conflicts
            conf = pd.DataFrame(conf[conf[run.towns.id_col] == tid].drop(columns=conf.geometry.name))
            if conf.empty:
                parts.append("<p>无冲突。</p>")
            else:
                cols = [
                    c
                    for c in ("line", "source_id", "area_m2", "area_mu", "share", "sliver", "construction")
                    if c in conf.columns
                ]
                conf["line"] = conf["line"].map(lambda v: labels.LINE_ZH.get(v, v))
                if "share" in conf.columns:
                    conf["share"] = [_shown(v, "ratio") for v in conf["share"]]
                parts.append(H.table(conf[cols], headers={c: _header(c) for c in cols}))
        if run.access is not None:
            parts.append("<h3>15分钟生活圈覆盖</h3>")
            cov = run.access.coverage
            if tid in set(cov.index.get_level_values(0)):
                shown = _coverage_table(cov.loc[[tid]]).iloc[:, 1:]
                shown = shown.drop(columns=[labels.COVERAGE_HEADERS_ZH["name"]], errors="ignore")  # in the heading
                for col in (labels.COVERAGE_HEADERS_ZH["share"], labels.COVERAGE_HEADERS_ZH["population_share"]):
                    if col in shown.columns:
                        shown[col] = [_shown(v, "ratio") for v in shown[col]]
                parts.append(H.table(shown))
            else:
                parts.append("<p>无该小镇的住宅点。</p>")
        town_maps = maps.get(tid, [])
        if town_maps:
            parts.append("<h3>地图</h3>")
            parts.extend(H.image(png, caption=cap) for cap, png in town_maps)
    if problems:
        parts.append("<h2>数据问题与未运行的分析</h2><ul>")
        parts.extend(f"<li>{e(p)}</li>" for p in problems)
        parts.append("</ul>")
    return H.page(config.title, "\n".join(parts))
