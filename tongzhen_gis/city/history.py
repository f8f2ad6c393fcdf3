"""The list over the years (动态管理): per-town indicators, trends, verdicts and warnings.

:func:`review` judges every year: the city targets (:mod:`tongzhen_gis.city.targets`), each
town against the town rules (:func:`tongzhen_gis.evaluate.evaluate` on
:func:`town_indicators`), the changes between consecutive years
(:func:`tongzhen_gis.evaluate.compare`) and the warning list (:func:`warnings`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from tongzhen_gis import evaluate as _ev
from tongzhen_gis import rules as _rules
from tongzhen_gis.city.table import FIGURES, _as_table, _edition, _years
from tongzhen_gis.city.targets import city_targets, failing_targets
from tongzhen_gis.errors import SchemaError

__all__ = [
    "DEMOTED",
    "VERDICTS",
    "WARNING_COLUMNS",
    "CityReview",
    "review",
    "town_indicators",
    "town_verdicts",
    "warnings",
]

#: A status one step down (降格); cultivating towns leave the list.
DEMOTED = {"named": "creating", "creating": "cultivating", "cultivating": "removed"}


def town_indicators(towns: pd.DataFrame, *, year: float | None = None) -> pd.DataFrame:
    """One year's per-town indicators, ready for :func:`tongzhen_gis.evaluate.scorecard`.

    Parameters
    ----------
    towns : pandas.DataFrame
        A town table (see :func:`town_table`).
    year : int, optional
        The year (default: the latest; a table without years is one edition).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``town_id`` in table order: ``name_zh``, ``district``, ``category``,
        ``status``, ``innovation_platform``, ``scenic_grade`` (the 4A / 5A ask of 六(二) per town),
        the figures, and ``tax_per_mu`` (tax_wan / land_mu, 万元/亩), ``output_per_mu``,
        ``rd_intensity`` (rd_wan / revenue_wan), ``labour_productivity`` (output_wan / jobs,
        万元/人). A ratio over an absent or zero denominator is NaN (``missing``), never 0.
    """
    table = _as_table(towns, "hangzhou-2021-city")
    years = _years(table)
    ed = _edition(table, (years[-1] if years else None) if year is None else float(year))
    out = ed.set_index("town_id")[
        ["name_zh", "district", "category", "status", "innovation_platform", "scenic_grade", *FIGURES]
    ].copy()

    def ratio(num: str, den: str) -> pd.Series:
        d = out[den].where(out[den] > 0)
        return out[num] / d

    out["tax_per_mu"] = ratio("tax_wan", "land_mu")
    out["output_per_mu"] = ratio("output_wan", "land_mu")
    out["rd_intensity"] = ratio("rd_wan", "revenue_wan")
    out["labour_productivity"] = ratio("output_wan", "jobs")
    return out


@dataclass(frozen=True)
class CityReview:
    """The city view over every year of a town table (see :func:`review`).

    Attributes
    ----------
    table : pandas.DataFrame
        The checked town table (:func:`town_table`).
    years : list of int
        The years reviewed, oldest first (empty for a table without years).
    targets : pandas.DataFrame
        :func:`city_targets` of the last year.
    targets_by_year : pandas.DataFrame
        Status of every target (rows) in every year (columns).
    trends : pandas.DataFrame
        One row per (town, year): figures, indicators, their year-on-year change
        (``*_change``), binding failures (``n_fail``, ``failed_rules``), binding figures
        missing (``n_missing``), suggested grade (``grade``).
    evaluations : dict
        ``{year: tz.evaluate.Evaluation}`` of the towns (key -1 for a table without years,
        as are the ``year`` of ``trends`` and the column of ``targets_by_year``).
    changes : pandas.DataFrame
        :func:`tongzhen_gis.evaluate.compare` over the consecutive years.
    warnings : pandas.DataFrame
        :func:`warnings`.
    """

    table: pd.DataFrame
    years: list[int]
    targets: pd.DataFrame
    targets_by_year: pd.DataFrame
    trends: pd.DataFrame
    evaluations: dict[int, _ev.Evaluation]
    changes: pd.DataFrame
    warnings: pd.DataFrame

    @property
    def failing_targets(self) -> list[str]:
        """Non-advisory targets failing in the last year."""
        return failing_targets(self.targets)


_TREND_FIGURES = ("output_wan", "revenue_wan", "tax_wan", "tax_per_mu", "rd_intensity", "hightech_firms")


def _trends(table: pd.DataFrame, years: list[float], evaluations: Mapping[int, _ev.Evaluation]) -> pd.DataFrame:
    parts = []
    for y in years:
        ind = town_indicators(table, year=y)
        ev = evaluations[int(y)] if not math.isnan(y) else next(iter(evaluations.values()))
        card = ev.scorecard
        failed = card[(card["status"] == _ev.FAIL) & card["binding"].astype(bool)]
        by_town = failed.reset_index().groupby(card.index.names[0])["rule"].agg(lambda r: "、".join(r))
        ind["n_fail"] = failed.index.get_level_values(0).value_counts().reindex(ind.index, fill_value=0)
        ind["failed_rules"] = by_town.reindex(ind.index).fillna("")
        ind["n_missing"] = ev.grades["n_missing"].reindex(ind.index)
        ind["grade"] = ev.grades["grade"].reindex(ind.index)
        ind.insert(0, "year", -1 if math.isnan(y) else int(y))
        parts.append(ind.reset_index())
    out = pd.concat(parts, ignore_index=True)
    out = out.set_index(["town_id", "year"]).sort_index(level=0, sort_remaining=True, kind="stable")
    order = list(dict.fromkeys(table["town_id"]))
    out = out.reindex(pd.MultiIndex.from_tuples(sorted(out.index, key=lambda k: (order.index(k[0]), k[1]))))
    out.index.names = ["town_id", "year"]
    for col in _TREND_FIGURES:
        prev = out[col].groupby(level=0).shift(1)
        out[f"{col}_change"] = out[col] - prev
    return out


def review(
    towns: pd.DataFrame,
    *,
    years: Sequence[int] | None = None,
    rules: str | Path | _rules.RuleSet = "hangzhou-2021-city",
    town_rules: str | Path | _rules.RuleSet = "hangzhou-2021",
    grading: str | Path | _rules.RuleSet = "grading",
) -> CityReview:
    """The city view of every year: targets, per-town trends, changes and warnings.

    Parameters
    ----------
    towns : pandas.DataFrame
        A town table (see :func:`town_table`).
    years : sequence of int, optional
        Years to review (default: every year of the table). The three-year growth targets
        still read their base year from the whole table.
    rules : default "hangzhou-2021-city"
        City targets.
    town_rules : default "hangzhou-2021"
        Rules each town is held to every year (:func:`tongzhen_gis.evaluate.scorecard`);
        figures the town table does not carry (control lines, land use) read ``missing``.
    grading : default "grading"
        Grading scheme of the suggested grades.

    Returns
    -------
    CityReview
    """
    rs = _rules.load(rules)
    table = _as_table(towns, rs)
    all_years = _years(table)
    if years is not None:
        wanted = [float(y) for y in years]
        absent = [int(y) for y in wanted if y not in all_years]
        if absent:
            msg = f"years {absent} are not in the town table (years: {[int(y) for y in all_years]})"
            raise SchemaError(msg, [msg], param="years")
        all_years = sorted(wanted)
    run_years = all_years or [math.nan]
    evaluations: dict[int, _ev.Evaluation] = {}
    by_year = {}
    for y in run_years:
        year = None if math.isnan(y) else y
        ind = town_indicators(table, year=year)
        evaluations[-1 if year is None else int(y)] = _ev.evaluate(ind, rules=town_rules, grading=grading)
        by_year[-1 if year is None else int(y)] = city_targets(table, year=year, rules=rs)["status"]
    last = city_targets(table, year=None if math.isnan(run_years[-1]) else run_years[-1], rules=rs)
    trends = _trends(table, run_years, evaluations)
    changes = _ev.compare(*evaluations.values(), labels=[str(y) for y in evaluations]) if len(evaluations) > 1 else None
    return CityReview(
        table=table,
        years=[int(y) for y in all_years],
        targets=last,
        targets_by_year=pd.DataFrame(by_year),
        trends=trends,
        evaluations=evaluations,
        changes=changes if changes is not None else pd.DataFrame(),
        warnings=warnings(trends, evaluations, rules=rs),
    )


# ----------------------------------------------------------------------------- verdicts

#: A town's verdict in the last year (:func:`town_verdicts`), worst first.
VERDICTS = ("未达标", "预警", "无未达标项 (缺数据)", "达标")


def town_verdicts(trends: pd.DataFrame, warnings: pd.DataFrame) -> pd.Series:
    """The last year's verdict of each town, by town id (one of :data:`VERDICTS`).

    未达标: a binding rule fails; 预警: on the warning list; 无未达标项 (缺数据): nothing fails
    but a binding figure is missing (never called 达标); 达标: every binding rule passes.

    Parameters
    ----------
    trends : pandas.DataFrame
        ``CityReview.trends``.
    warnings : pandas.DataFrame
        ``CityReview.warnings``.

    Returns
    -------
    pandas.Series
        Named ``verdict``, towns in trends order.
    """
    last = trends.groupby(level=0, sort=False).tail(1).droplevel(1)
    warned = set(warnings["town_id"]) if not warnings.empty else set()

    def verdict(town: Any, row: pd.Series) -> str:
        if row["n_fail"] > 0:
            return VERDICTS[0]
        if town in warned:
            return VERDICTS[1]
        return VERDICTS[2] if row["n_missing"] > 0 else VERDICTS[3]

    return pd.Series({t: verdict(t, r) for t, r in last.iterrows()}, name="verdict")


# ----------------------------------------------------------------------------- warnings

WARNING_COLUMNS = ["town_id", "name_zh", "status", "kind", "years", "suggestion", "new_status", "reason", "label"]


def _runs(years_failing: Sequence[int]) -> int:
    """Length of the run of consecutive years ending at the last one."""
    run = 0
    ys = sorted(years_failing)
    for i in range(len(ys) - 1, -1, -1):
        if i == len(ys) - 1 or ys[i] == ys[i + 1] - 1:
            run += 1
        else:
            break
    return run


def warnings(
    trends: pd.DataFrame,
    evaluations: Mapping[int, _ev.Evaluation],
    *,
    rules: str | Path | _rules.RuleSet = "hangzhou-2021-city",
) -> pd.DataFrame:
    """The warning list over the years (动态管理): suggestions with reasons, not verdicts.

    Three kinds, with the year counts of ``rules`` (``[parameter]``):

    * ``fails_running``: the same binding rule failing in ``warning_fail_years`` consecutive
      years up to the last one (suggestion 警告), or ``demote_fail_years`` (降格: 命名 → 创建,
      创建 → 培育, 培育 → 移出名单);
    * ``tax_per_mu_falls``: 亩均税收 lower than the year before ``tax_per_mu_fall_years``
      times running up to the last year (suggestion 关注);
    * ``grade``: the last year's suggested grade is 警告, 降格 or 淘汰.

    Parameters
    ----------
    trends : pandas.DataFrame
        ``CityReview.trends``.
    evaluations : mapping
        ``{year: Evaluation}`` (``CityReview.evaluations``).
    rules : default "hangzhou-2021-city"

    Returns
    -------
    pandas.DataFrame
        Columns ``town_id``, ``name_zh``, ``status`` (the last year's), ``kind``, ``years``
        (the years concerned, ``、``-joined), ``suggestion`` (建议: 警告 / 降格 / 关注 …),
        ``new_status`` (the status the suggestion would give, or empty), ``reason``,
        ``label`` ("建议, 供评审参考"); towns in table order.
    """
    rs = _rules.load(rules)
    warn_years = int(rs.parameter("warning_fail_years"))
    demote_years = int(rs.parameter("demote_fail_years"))
    fall_years = int(rs.parameter("tax_per_mu_fall_years"))
    years = sorted(y for y in evaluations if y >= 0)
    rows: list[dict[str, Any]] = []
    if not years:
        return pd.DataFrame(columns=WARNING_COLUMNS)
    last = years[-1]
    towns = list(dict.fromkeys(trends.index.get_level_values(0)))
    for town in towns:
        hist = trends.loc[town]
        name = hist["name_zh"].iloc[-1] if hist["name_zh"].notna().any() else town
        status = hist["status"].iloc[-1]
        base = {"town_id": town, "name_zh": name, "status": status, "label": "建议, 供评审参考"}
        failing: dict[str, list[int]] = {}
        for y in years:
            card = evaluations[y].scorecard
            if town not in card.index.get_level_values(0):
                continue
            rows_t = card.loc[town]
            for rule in rows_t.index[(rows_t["status"] == _ev.FAIL) & rows_t["binding"].astype(bool)]:
                failing.setdefault(rule, []).append(y)
        for rule, ys in failing.items():
            run = _runs(ys) if ys[-1] == last else 0
            if run >= warn_years:
                label = evaluations[last].scorecard.loc[(town, rule), "label_zh"]
                demote = run >= demote_years
                new = DEMOTED.get(status, "") if demote else ""
                rows.append(
                    base
                    | {
                        "kind": "fails_running",
                        "years": "、".join(str(y) for y in ys[-run:]),
                        "suggestion": "降格" if demote else "警告",
                        "new_status": new,
                        "reason": f"{label} 连续 {run} 年未达标 ({rule})",
                    }
                )
        tax = hist["tax_per_mu"].reindex(years)
        falls = [y for y, prev, now in zip(years[1:], tax.iloc[:-1], tax.iloc[1:], strict=True) if now < prev]
        run = _runs(falls) if falls and falls[-1] == last else 0
        if run >= fall_years:
            span = years[years.index(last) - run :]
            values = " → ".join(f"{tax[y]:g}" for y in span)
            rows.append(
                base
                | {
                    "kind": "tax_per_mu_falls",
                    "years": "、".join(str(y) for y in span),
                    "suggestion": "关注",
                    "new_status": "",
                    "reason": f"亩均税收连续 {run} 年下降: {values} 万元/亩",
                }
            )
        grade = evaluations[last].grades["grade"].get(town)
        if grade in ("警告", "降格", "淘汰"):
            reasons = evaluations[last].grades.loc[town, "reasons"]
            new = DEMOTED.get(status, "") if grade == "降格" else ("removed" if grade == "淘汰" else "")
            rows.append(
                base | {"kind": "grade", "years": str(last), "suggestion": grade, "new_status": new, "reason": reasons}
            )
    return pd.DataFrame(rows, columns=WARNING_COLUMNS)
