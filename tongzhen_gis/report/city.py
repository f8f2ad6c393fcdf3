"""The chapter 城市总体目标 of :mod:`tongzhen_gis.report`: the city targets of ``[city]``.

``[city]`` in ``project.toml`` names a town table (one row per town and year, see
:func:`tongzhen_gis.city.town_table`) and optionally the years, a city rule set and the towns'
locations::

    [city]
    towns = "city_towns.csv"                                   # CSV or Excel
    years = "2021-2023"                                        # default: every year
    rules = "hangzhou-2021-city"                               # or a path to a .toml
    locations = { path = "city_locations.gpkg", layer = "towns" }  # for the verdict map

:func:`_run_city` runs :func:`tongzhen_gis.city.review` on it; :func:`_city_sheets` gives the
workbook's sheets 城市总体目标 and 小镇预警, :func:`_city_blocks` the chapter (page and Word) with the
target chart and the verdict map (also written to ``maps/``). Statuses, warning kinds and
statuses of towns are shown in Chinese. The chapter does not change the report's exit code,
which stays about the towns of ``[towns]``; ``tongzhen city`` exits on the city targets.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from tongzhen_gis import city, evaluate, labels
from tongzhen_gis import io as tzio
from tongzhen_gis.errors import SchemaError, TongzhenError
from tongzhen_gis.report import content as C
from tongzhen_gis.report.config import ProjectConfig, _config_error

#: Chinese words of the warning kinds, the town statuses and the target columns shown.
WARNING_KIND_ZH = {"fails_running": "连续未达标", "tax_per_mu_falls": "亩均税收连续下降", "grade": "建议等级"}
TOWN_STATUS_ZH = {**city.STATUS_ZH, "removed": "移出名单"}
TARGET_HEADERS_ZH = {
    "label_zh": "目标",
    "year": "年份",
    "value": "达成值",
    "comparator": "比较",
    "threshold": "目标值",
    "unit": "单位",
    "status_zh": "状态",
    "kind": "规则性质",
    "n_towns": "计入小镇数",
    "town_names": "计入小镇",
    "unknown_ids": "缺数据小镇",
    "reason": "说明",
    "clause": "条款",
    "note": "解读",
}
WARNING_HEADERS_ZH = {
    "town_id": "小镇编号",
    "name_zh": "小镇名称",
    "status": "当前状态",
    "kind": "预警类型",
    "years": "年份",
    "suggestion": "建议",
    "new_status": "建议后状态",
    "reason": "理由",
    "label": "性质",
}


@dataclass(frozen=True)
class CityChapter:
    """The ``[city]`` review and the towns' locations (None when not given)."""

    review: city.CityReview
    locations: gpd.GeoDataFrame | None = None


def _run_city(config: ProjectConfig, problems: list[str]) -> CityChapter | None:
    """Review the ``[city]`` town table; None when the config has no ``[city]``. Errors name the entry."""
    if not config.has("city"):
        return None
    src = config.get("city", "towns")
    if src is None:
        msg = '[city] needs towns = "towns.csv": the town table, one row per town and year (CSV or Excel)'
        raise _config_error(SchemaError(msg, [msg]), "[city].towns")
    rules = str(config.get("city", "rules", "hangzhou-2021-city"))
    rules_ref: str | Path = config.base_dir / rules if rules.endswith(".toml") else rules
    try:
        table = city.town_table(tzio.read_table(src.path), name=Path(src.path).name, rules=rules_ref)
    except TongzhenError as exc:
        raise _config_error(exc, "[city].towns") from exc
    try:
        review = city.review(table, years=city.parse_years(config.get("city", "years")), rules=rules_ref)
    except TongzhenError as exc:
        raise _config_error(exc, "[city]") from exc
    problems.extend(f"城市总体目标: {p}" for p in [*table.attrs["unit_conversions"], *table.attrs["problems"]])
    locations = None
    loc = config.get("city", "locations")
    if loc is not None:
        try:
            locations = tzio.read_layer(loc.path, **loc.read_options())
        except TongzhenError as exc:
            raise _config_error(exc, "[city].locations") from exc
    return CityChapter(review=review, locations=locations)


def _targets_table(chapter: CityChapter) -> pd.DataFrame:
    t = chapter.review.targets.copy()
    t["status_zh"] = t["status"].map(evaluate.STATUS_ZH)
    t["kind"] = [labels.rule_kind_zh(a, c) for a, c in zip(t["advisory"], t["confirmed"], strict=True)]
    t["comparator"] = t["comparator"].map(lambda c: labels.COMPARATOR_ZH.get(c, c))
    # shares as the report writes them (55.6%); counts and money stay numbers for the workbook
    t["value"] = [C.value_text(v, u) if u == "ratio" else v for v, u in zip(t["value"], t["unit"], strict=True)]
    t["threshold"] = [C.value_text(v, u) if u == "ratio" else v for v, u in zip(t["threshold"], t["unit"], strict=True)]
    t["unit"] = t["unit"].map(lambda u: labels.UNIT_ZH.get(u, u))
    t["year"] = t["year"].map(lambda y: "" if pd.isna(y) else str(int(y)))  # text: 2023, not 2,023
    t["note"] = [zh or en for zh, en in zip(t["note_zh"], t["note"], strict=True)]  # the reading in Chinese
    return t[list(TARGET_HEADERS_ZH)].rename(columns=TARGET_HEADERS_ZH)


def _warnings_table(chapter: CityChapter) -> pd.DataFrame:
    w = chapter.review.warnings.copy()
    w["kind"] = w["kind"].map(lambda k: WARNING_KIND_ZH.get(k, k))
    for col in ("status", "new_status"):
        w[col] = w[col].map(lambda s: TOWN_STATUS_ZH.get(s, s))
    return w[list(WARNING_HEADERS_ZH)].rename(columns=WARNING_HEADERS_ZH)


def _city_sheets(chapter: CityChapter | None) -> dict[str, pd.DataFrame]:
    """The workbook's sheets of the chapter: 城市总体目标 and 小镇预警 (none without ``[city]``)."""
    if chapter is None:
        return {}
    by_year = chapter.review.targets_by_year.map(lambda s: evaluate.STATUS_ZH.get(s, s))
    targets = _targets_table(chapter)
    for year in by_year.columns:  # -1: a table without years
        targets["状态 (全部)" if year == -1 else f"{year}年状态"] = by_year[year].to_numpy()
    return {"城市总体目标": targets, "小镇预警": _warnings_table(chapter)}


def _city_blocks(
    chapter: CityChapter | None,
    *,
    config: ProjectConfig,
    out: Path,
    files: dict[str, Path],
    problems: list[str],
) -> list[C.Block]:
    """The chapter 城市总体目标 as report blocks (none without ``[city]``); its images also go to ``maps/``."""
    if chapter is None:
        return []
    from tongzhen_gis import maps
    from tongzhen_gis.report.maps import _draw

    review = chapter.review
    year = review.targets["year"].iloc[0]
    failing = city.failing_targets(review.targets)
    blocks: list[C.Block] = [
        C.Heading("城市总体目标"),
        C.Para(
            "杭政办函〔2021〕25号 二 总体目标 (到2023年)、四(一)、六(二); 评估年份 "
            f"{'' if pd.isna(year) else str(int(year))}; 规则集 {review.targets.attrs.get('rules', '')}。"
            "缺数据的目标判为“缺数据”, 从不判为达标; “阈值未核实”表示条文有多种读法, 读法写在“解读”列。",
            kind="note",
        ),
        C.Para(f"未达标的目标: {'、'.join(review.targets.loc[failing, 'label_zh']) if failing else '无'}。"),
        C.table(_targets_table(chapter), row_class=review.targets["status"]),
    ]
    dpi = int(config.get("maps", "dpi", 110))
    source = config.get("project", "source")
    images = [("city_targets", "城市总体目标达成情况", lambda: maps.city_targets_chart(review.targets))]
    if chapter.locations is not None:
        verdicts = city.town_verdicts(review.trends, review.warnings)
        images.append(
            (
                "city_verdicts",
                "特色小镇评估结论分布图",
                lambda: maps.city_verdict_map(chapter.locations, verdicts, source=source),
            )
        )
    if config.get("maps", "enabled", True):
        for key, caption, draw in images:
            png = _draw(problems, caption, draw, dpi)
            if png is not None:
                files[f"map:{key}"] = tzio.write_bytes(png, tzio.safe_join(out, "maps", f"{key}.png"))
                blocks.append(C.Figure(caption, png))
    blocks.append(C.Heading("小镇预警 (建议, 供评审参考)", level=2))
    warnings = _warnings_table(chapter)
    blocks.append(C.table(warnings) if not warnings.empty else C.Para("无。"))
    return blocks
