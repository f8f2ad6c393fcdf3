"""What the report says, section by section, as plain blocks: one content for the page and the Word file.

:func:`report_blocks` turns a run, its evaluation and the rendered maps into a list of blocks
(:class:`Cover`, :class:`Heading`, :class:`Para`, :class:`Table`, :class:`Figure`,
:class:`Bullets`); :mod:`tongzhen_gis.report.html` writes them as ``report.html`` and
:mod:`tongzhen_gis.report.docx` as ``report.docx``, so both say the same thing in the same
order. Every number in a table is already text, written by :mod:`tongzhen_gis.report._format`;
every Chinese label comes from :mod:`tongzhen_gis.labels`. Nothing here touches files.

Sections: 汇总 (summary and the towns failing a binding rule), 数据来源与坐标系 (each input: file,
layer, CRS, features), 三线核查 (each town's verdict with the clauses it is judged by, and the
conflicts), 用地集约 (开发强度, 容积率 net and gross, 建筑密度, 居住用地占比 and the 亩均 figures per
town, with the land-use and FAR maps), 15分钟生活圈 (coverage), one section per town (suggested
grade, scorecard with each rule's clause, the town's maps) and 数据问题与未运行的分析.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from tongzhen_gis import __version__, evaluate, labels
from tongzhen_gis.labels import header as _header
from tongzhen_gis.report import _format as F
from tongzhen_gis.report.config import ProjectConfig
from tongzhen_gis.report.maps import _ACCESS, _OVERVIEW
from tongzhen_gis.report.run import ReportRun
from tongzhen_gis.report.tables import _coverage_table, _summary_table

#: How a comparator of the rule files is shown to a reader (units: :data:`tongzhen_gis.labels.UNIT_ZH`).

#: Columns of the 用地集约 section, in the order shown (absent ones are skipped).
INTENSITY_COLUMNS = (
    "area_m2",
    "construction_m2",
    "construction_share",
    "far",
    "net_far",
    "gross_far",
    "building_coverage",
    "residential_share",
    "tax_per_mu",
    "investment_per_mu",
    "output_per_mu",
)

#: Columns of the three-line table per town, in the order shown.
LINES_COLUMNS = ("area_m2", "red_line_m2", "farmland_m2", "outside_boundary_m2", "n_conflicts")


@dataclass(frozen=True)
class Cover:
    """Title page: the project title and the lines under it (date, version, rule set)."""

    title: str
    lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class Heading:
    """A heading, level 1 (section) to 3."""

    text: str
    level: int = 1


@dataclass(frozen=True)
class Para:
    """A paragraph; ``kind`` is ``""``, ``"note"`` (small print) or ``"grade"`` (emphasised)."""

    text: str
    kind: str = ""


@dataclass(frozen=True)
class Table:
    """A table of text cells: ``header``, ``rows``; ``numeric`` marks right-aligned columns; ``row_class`` per row."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...] = ()
    row_class: tuple[str, ...] = ()


@dataclass(frozen=True)
class Figure:
    """A map as PNG bytes with its caption."""

    caption: str
    png: bytes


@dataclass(frozen=True)
class Bullets:
    """A bulleted list."""

    items: tuple[str, ...] = field(default_factory=tuple)


Block = Cover | Heading | Para | Table | Figure | Bullets


def table(
    df: pd.DataFrame,
    *,
    headers: Mapping[str, str] | None = None,
    row_class: Sequence[str] | None = None,
    sliver_m2: float | None = None,
) -> Table:
    """A :class:`Table` of ``df``: every value formatted by its column's kind (:mod:`~tongzhen_gis.report._format`).

    An area column (its header names the unit, m²) shows its 亩 twin unless the frame has the
    ``*_mu`` column beside it.
    """
    headers = headers or {}
    cols = list(df.columns)
    numeric = []
    for c in cols:
        values = [v for v in df[c] if not (isinstance(v, float) and math.isnan(v))]
        numeric.append(
            bool(values) and all(F.is_numeric(v) or (isinstance(v, str) and v.endswith("%")) for v in values)
        )
    rows = []
    for row in df.itertuples(index=False):
        cells = []
        for c, v in zip(cols, row, strict=True):
            twin = str(c)[:-3] + "_mu" if str(c).endswith("_m2") else None
            cells.append(F.cell(v, c, sliver_m2=sliver_m2, mu=twin not in cols, unit=False))
        rows.append(tuple(cells))
    return Table(
        header=tuple(str(headers.get(c, _header(c))) for c in cols),
        rows=tuple(rows),
        numeric=tuple(numeric),
        row_class=tuple(str(c) for c in row_class) if row_class is not None else (),
    )


def _town_name(run: ReportRun, indicators: pd.DataFrame, tid: Any) -> str:
    col = run.towns.name_col
    if col is not None and col in indicators.columns:
        name = indicators.loc[tid, col]
        if isinstance(name, str) and name:
            return f"{name} ({tid})"
    return str(tid)


def value_text(value: Any, unit: str) -> str:
    """A scorecard value or threshold as a reader expects it: ratios as percentages, areas in m² and 亩."""
    if unit == "ratio":
        return F.share(value) if F.is_numeric(value) else F.cell(value)
    if unit == "m2":
        return F.area(value) if F.is_numeric(value) else F.cell(value)
    return F.cell(value)


def _card_table(card: pd.DataFrame) -> Table:
    df = card.copy()
    df["value"] = [value_text(v, u) for v, u in zip(df["value"], df["unit"], strict=True)]
    stand_in = df["status"] == evaluate.REVIEW  # the value is a stand-in measure's, not the rule's
    df.loc[stand_in, "value"] = [
        f"{v} (代用指标 {i}, 见说明)"
        for v, i in zip(df.loc[stand_in, "value"], df.loc[stand_in, "indicator"], strict=True)
    ]
    df["threshold"] = [value_text(v, u) for v, u in zip(df["threshold"], df["unit"], strict=True)]
    df["comparator"] = df["comparator"].map(lambda c: labels.COMPARATOR_ZH.get(c, c))
    df["unit"] = df["unit"].map(lambda u: labels.UNIT_ZH.get(u, u))
    df["status_zh"] = df["status"].map(evaluate.STATUS_ZH)
    df["mark"] = [labels.rule_kind_zh(a, c) for a, c in zip(df["advisory"], df["confirmed"], strict=True)]
    cols = list(labels.SCORECARD_HEADERS_ZH)
    out = table(df[cols], headers=labels.SCORECARD_HEADERS_ZH, row_class=list(df["status"]))
    numeric = tuple(c in ("value", "threshold") for c in cols)
    return Table(header=out.header, rows=out.rows, numeric=numeric, row_class=out.row_class)


def _cover(config: ProjectConfig) -> Cover:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    rules_label = config.rules if isinstance(config.rules, str) else Path(config.rules).name
    return Cover(
        title=config.title,
        lines=(
            f"报告日期 {stamp}",
            f"tongzhen_gis {__version__} · 规则集 {rules_label}",
            "建议等级由 rules/grading.toml 计分规则给出, 仅供评审参考, 非官方考核结论。",
        ),
    )


def _summary(run: ReportRun, indicators: pd.DataFrame, ev: evaluate.Evaluation) -> list[Block]:
    summary = _summary_table(run, indicators, ev).reset_index()  # category as 数字经济 (digital)
    failing = [_town_name(run, indicators, t) for t in ev.failing]
    return [
        Heading("汇总"),
        table(summary.drop(columns=["reasons", "label"])),
        Para(
            f"未达到约束性指标的小镇: {'、'.join(failing) if failing else '无'}。"
            "“鼓励值”与“阈值未核实”的规则单独标注, 不单独导致不达标。"
        ),
    ]


def _layers(config: ProjectConfig, run: ReportRun) -> list[tuple[str, gpd.GeoDataFrame | None]]:
    out: list[tuple[str, gpd.GeoDataFrame | None]] = [("[towns]", run.towns.layer)]
    if run.lines is not None:
        out.extend((f"[control_lines].{k}", v) for k, v in run.lines.layers.items() if v is not None)
    if run.intensity is not None:
        out.append(("[intensity].parcels", run.intensity.parcels))
        if run.intensity.buildings is not None:
            out.append(("[intensity].buildings", run.intensity.buildings))
    if run.access is not None:
        out.extend((f"[access].{k}", getattr(run.access, k)) for k in ("roads", "facilities", "homes"))
    if run.water is not None:
        out.append(("[base_layers].water", run.water))
    if run.roads is not None:
        out.append(("[base_layers].roads", run.roads))
    return out


def _sources(config: ProjectConfig, run: ReportRun) -> list[Block]:
    rows = []
    for key, gdf in _layers(config, run):
        section, _, entry = key.strip("[").partition("]")
        src = config.get(section, entry.lstrip(".")) if entry else None
        if src is None and section == "towns":
            path, layer = config.get("towns", "path"), config.get("towns", "layer")
        else:
            path, layer = getattr(src, "path", None), getattr(src, "layer", None)
        crs = gdf.crs if gdf is not None else None
        crs_text = "—" if crs is None else (f"{crs.name} (EPSG:{crs.to_epsg()})" if crs.to_epsg() else crs.name)
        name = Path(path).name if path is not None else "—"
        rows.append((key, name, layer or "—", crs_text, len(gdf) if gdf is not None else "—"))
    df = pd.DataFrame(rows, columns=["配置项", "文件", "图层", "坐标系 (CRS)", "要素数"])
    blocks: list[Block] = [Heading("数据来源与坐标系"), table(df)]
    source = config.get("project", "source")
    if source:
        blocks.append(Para(f"数据来源: {source}"))
    if run.lines is not None:
        crs = run.lines.check.crs
        blocks.append(Para(f"面积均在米制投影坐标系 {crs.name} 中量算 (1 亩 = 10000/15 m²)。", kind="note"))
    return blocks


def _basis_table(card: pd.DataFrame, indicators: Sequence[str]) -> Table:
    """The rules a section's verdicts are judged by: rule, threshold, document and clause (once per rule)."""
    rows = card[card["indicator"].isin(indicators)].drop_duplicates("rule")
    df = pd.DataFrame(
        {
            "label_zh": rows["label_zh"],
            "comparator": rows["comparator"].map(lambda c: labels.COMPARATOR_ZH.get(c, c)),
            "threshold": [value_text(v, u) for v, u in zip(rows["threshold"], rows["unit"], strict=True)],
            "document": rows["document"],
            "clause": rows["clause"],
        }
    )
    return table(df, headers=labels.SCORECARD_HEADERS_ZH)


def _lines_section(run: ReportRun, indicators: pd.DataFrame, ev: evaluate.Evaluation) -> list[Block]:
    if run.lines is None:
        return []
    check = run.lines.check
    sliver = check.sliver_m2
    summary = check.summary
    cols = [c for c in LINES_COLUMNS if c in summary.columns]
    df = summary[cols].copy()
    df.insert(0, "town", [_town_name(run, indicators, t) for t in df.index])
    df["verdict"] = summary["verdict"].map(labels.verdict_zh)
    card = ev.scorecard.reset_index()
    heads = {"town": "小镇"}
    blocks: list[Block] = [
        Heading("三线核查"),
        Para(
            "每个小镇与生态保护红线、永久基本农田、城镇开发边界叠加: 结论为 通过 (无重叠)、"
            "待核 (重叠均不超过碎片容差) 或 冲突; 重叠从不自动判为通过。"
        ),
        table(df, headers=heads, sliver_m2=sliver),
        Para("判定依据:"),
        _basis_table(card, ("red_line_m2", "farmland_m2", "outside_boundary_m2")),
    ]
    conf = pd.DataFrame(check.conflicts.drop(columns=check.conflicts.geometry.name))
    if len(conf):
        id_col = run.towns.id_col
        conf[id_col] = [_town_name(run, indicators, t) for t in conf[id_col]]
        conf["line"] = conf["line"].map(lambda v: labels.LINE_ZH.get(v, v))
        shown = [c for c in (id_col, "line", "source_id", "area_m2", "share", "sliver", "construction") if c in conf]
        blocks.append(Heading("三线冲突清单", 2))
        df = conf[shown].copy()
        if "share" in df.columns:
            df["share"] = [
                F.share(s, sliver=F.is_sliver(a, sliver)) for s, a in zip(df["share"], conf["area_m2"], strict=True)
            ]
        blocks.append(table(df, headers={id_col: "小镇"}, sliver_m2=sliver))
    blocks.append(Para(F.sliver_note(sliver), kind="note"))
    return blocks


def _intensity_section(
    run: ReportRun, indicators: pd.DataFrame, ev: evaluate.Evaluation, maps: Mapping[Any, list[tuple[str, bytes]]]
) -> list[Block]:
    if run.intensity is None:
        return []
    tab = run.intensity.table
    cols = [c for c in INTENSITY_COLUMNS if c in tab.columns]
    df = tab[cols].copy()
    df.insert(0, "town", [_town_name(run, indicators, t) for t in df.index])
    heads = {"town": "小镇"}
    for c in cols:
        if c in labels.COLUMNS_ZH:
            name, unit = labels.COLUMNS_ZH[c]
            heads[c] = f"{name} ({unit})" if unit and unit != "比例" else name
    blocks: list[Block] = [
        Heading("用地集约"),
        Para(
            "开发强度 = 建设用地面积 / 小镇面积; 综合容积率 = 建筑面积 / 建设用地面积; 毛容积率 = 建筑面积 / 小镇面积; "
            "建筑密度 = 建筑基底面积 / 建设用地面积; 亩均 = 企业合计 / 建设用地亩数。"
        ),
        table(df, headers=heads),
    ]
    card = ev.scorecard.reset_index()
    if card["indicator"].isin(tab.columns).any():
        blocks += [Para("判定依据:"), _basis_table(card, list(tab.columns))]
    blocks.extend(Figure(caption, png) for caption, png in maps.get(_OVERVIEW, []))
    return blocks


def _access_section(
    run: ReportRun, ev: evaluate.Evaluation, maps: Mapping[Any, list[tuple[str, bytes]]]
) -> list[Block]:
    if run.access is None:
        return []
    shown = _coverage_table(run.access.coverage)
    for key in ("share", "population_share"):
        col = labels.COVERAGE_HEADERS_ZH[key]
        if col in shown.columns:
            shown[col] = [F.share(v) for v in shown[col]]
    blocks: list[Block] = [Heading("15分钟生活圈"), table(shown)]
    card = ev.scorecard.reset_index()
    if (card["indicator"] == "all_categories_share").any():
        blocks += [Para("判定依据:"), _basis_table(card, ["all_categories_share"])]
    blocks.extend(Figure(caption, png) for caption, png in maps.get(_ACCESS, []))
    return blocks


def _town_section(
    run: ReportRun,
    indicators: pd.DataFrame,
    ev: evaluate.Evaluation,
    maps: Mapping[Any, list[tuple[str, bytes]]],
    tid: Any,
) -> list[Block]:
    g = ev.grades.loc[tid]
    blocks: list[Block] = [
        Heading(_town_name(run, indicators, tid)),
        Para(f"建议等级: {F.cell(g['grade'])} · 得分 {F.number(g['points'])}", kind="grade"),
        Para(str(g["reasons"]), kind="note"),
        Heading("评估表", 2),
        _card_table(ev.scorecard.xs(tid, level=0)),
    ]
    if run.access is not None:
        blocks.append(Heading("15分钟生活圈覆盖", 2))
        cov = run.access.coverage
        if tid in set(cov.index.get_level_values(0)):
            shown = _coverage_table(cov.loc[[tid]]).iloc[:, 1:]
            shown = shown.drop(columns=[labels.COVERAGE_HEADERS_ZH["name"]], errors="ignore")  # in the heading
            for key in ("share", "population_share"):
                col = labels.COVERAGE_HEADERS_ZH[key]
                if col in shown.columns:
                    shown[col] = [F.share(v) for v in shown[col]]
            blocks.append(table(shown))
        else:
            blocks.append(Para("无该小镇的住宅点。"))
    town_maps = maps.get(tid, [])
    if town_maps:
        blocks.append(Heading("地图", 2))
        blocks.extend(Figure(caption, png) for caption, png in town_maps)
    return blocks


def report_blocks(
    config: ProjectConfig,
    run: ReportRun,
    indicators: pd.DataFrame,
    ev: evaluate.Evaluation,
    maps: Mapping[Any, list[tuple[str, bytes]]],
    problems: Sequence[str],
    *,
    city: Sequence[Block] = (),
) -> list[Block]:
    """Every block of the report, in reading order (see the module docstring for the sections).

    ``city`` is the chapter 城市总体目标 of ``[city]`` (:func:`tongzhen_gis.report.city._city_blocks`),
    placed after the summary.
    """
    blocks: list[Block] = [_cover(config)]
    blocks += _summary(run, indicators, ev)
    blocks += list(city)
    blocks += _sources(config, run)
    blocks += _lines_section(run, indicators, ev)
    blocks += _intensity_section(run, indicators, ev, maps)
    blocks += _access_section(run, ev, maps)
    for tid in indicators.index:
        blocks += _town_section(run, indicators, ev, maps, tid)
    blocks.append(Heading("数据问题与未运行的分析"))
    blocks.append(Bullets(tuple(problems)) if problems else Para("无。"))
    return blocks
