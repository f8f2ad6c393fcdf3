"""The city targets (二 总体目标, 四(一), 六(二)) of one year's list of towns.

Each target of the city rule set names a city figure (:data:`CITY_INDICATORS`): a count or a
share of towns, a ratio of sums, a three-year growth. A figure is kept as two bounds (towns of
known value only; every unknown town counted too), so that a target passes or fails only when
both bounds agree and reads ``missing`` otherwise (:func:`city_targets`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from tongzhen_gis import evaluate as _ev
from tongzhen_gis import rules as _rules
from tongzhen_gis.city.table import _as_table, _blank, _edition, _table, _years
from tongzhen_gis.errors import RuleDataError, SchemaError

__all__ = ["CITY_INDICATORS", "TARGET_COLUMNS", "city_targets", "failing_targets"]

TARGET_COLUMNS = [
    "label_zh",
    "indicator",
    "year",
    "value",
    "comparator",
    "threshold",
    "unit",
    "status",
    "binding",
    "advisory",
    "confirmed",
    "n_towns",
    "town_ids",
    "town_names",
    "unknown_ids",
    "reason",
    "document",
    "clause",
    "note",
    "note_zh",
]


@dataclass
class _Figure:
    """A city figure: value bounds (known only, and with every unknown counted) and the towns."""

    low: float
    high: float
    towns: list[Any] = field(default_factory=list)
    unknown: list[Any] = field(default_factory=list)
    reason: str = ""
    applicable: bool = True


def _count(edition: pd.DataFrame, qualifies: pd.Series, *, share: bool = False, reason: str = "") -> _Figure:
    """Count (or share of) towns where ``qualifies`` is True; None marks an unknown town."""
    yes = edition.loc[qualifies.eq(True).to_numpy(), "town_id"].tolist()
    unknown = edition.loc[qualifies.isna().to_numpy(), "town_id"].tolist()
    n = len(edition)
    if share and n == 0:
        return _Figure(math.nan, math.nan, reason="名单为空 (no towns)")
    if unknown and len(unknown) == n:
        return _Figure(math.nan, math.nan, unknown=unknown, reason=f"全部 {n} 个小镇缺数据 (no town has the figure)")
    low, high = float(len(yes)), float(len(yes) + len(unknown))
    if share:
        low, high = low / n, high / n
    if unknown and not reason:
        reason = f"{len(unknown)} 个小镇缺数据 (unknown): {unknown[:10]}"
    return _Figure(low, high, yes, unknown, reason)


def _tri(values: pd.Series, test: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """True / False where ``values`` is known, None where it is missing."""
    result = test(values).astype(object)
    return result.where(values.notna(), None)


def _named(ed: pd.DataFrame, rs: _rules.RuleSet, year: float | None) -> _Figure:
    named = ed["status"].map(lambda s: None if _blank(s) else s == "named").astype(object)
    if year is not None:
        later = ed["status_year"] > year
        named = named.where(~(later & named.eq(True)), False)
    return _count(ed, named)


def _scale(param: str) -> Callable[[pd.DataFrame, _rules.RuleSet, float | None], _Figure]:
    def figure(ed: pd.DataFrame, rs: _rules.RuleSet, year: float | None) -> _Figure:
        col = _table(rs, "reading")["scale_indicator"]
        if col not in ed.columns:
            msg = f"[reading] scale_indicator {col!r} is not a town-table column"
            raise RuleDataError(msg)
        cut = rs.parameter(param)
        return _count(ed, _tri(ed[col], lambda v: v >= cut))

    return figure


def _tax(ed: pd.DataFrame, rs: _rules.RuleSet, year: float | None) -> _Figure:
    cut = rs.parameter("tax_town_wan")
    return _count(ed, _tri(ed["tax_wan"], lambda v: v > cut))


def _in_categories(ed: pd.DataFrame, cats: Sequence[str]) -> pd.Series:
    return ed["category"].map(lambda c: None if _blank(c) else c in cats).astype(object)


def _digital_share(ed: pd.DataFrame, rs: _rules.RuleSet, year: float | None) -> _Figure:
    return _count(ed, _in_categories(ed, _table(rs, "reading")["digital_manufacturing_categories"]), share=True)


def _platform_share(ed: pd.DataFrame, rs: _rules.RuleSet, year: float | None) -> _Figure:
    levels = _table(rs, "reading")["platform_levels"]
    has = ed["innovation_platform"].map(lambda p: None if _blank(p) else p in levels).astype(object)
    return _count(ed, has, share=True)


def _tourism_5a(ed: pd.DataFrame, rs: _rules.RuleSet, year: float | None) -> _Figure:
    tourism = _in_categories(ed, ["tourism"])
    if tourism.isna().any():
        unknown = ed.loc[tourism.isna().to_numpy(), "town_id"].tolist()
        return _Figure(math.nan, math.nan, unknown=unknown, reason=f"小镇类型未知 (category unknown): {unknown[:10]}")
    sub = ed[tourism.eq(True).to_numpy()]
    if sub.empty:
        return _Figure(math.nan, math.nan, reason="无旅游类小镇 (no tourism towns)", applicable=False)
    return _count(sub, _tri(sub["scenic_a"], lambda v: v >= 5), share=True)


def _rd_city(ed: pd.DataFrame, rs: _rules.RuleSet, year: float | None) -> _Figure:
    lacking = ed.loc[(ed["rd_wan"].isna() | ed["revenue_wan"].isna()).to_numpy(), "town_id"].tolist()
    ok = ed[ed["rd_wan"].notna() & ed["revenue_wan"].notna()]
    revenue = float(ok["revenue_wan"].sum())
    value = float(ok["rd_wan"].sum()) / revenue if revenue > 0 else math.nan
    if lacking:
        reason = f"{len(lacking)} 个小镇缺研发经费或营业收入 (value over the others): {lacking[:10]}"
        return _Figure(value, math.nan, ok["town_id"].tolist(), lacking, reason)
    return _Figure(value, value, ok["town_id"].tolist())


def _growth(col: str) -> Callable[[pd.DataFrame, _rules.RuleSet, float | None, pd.DataFrame], _Figure]:
    def figure(ed: pd.DataFrame, rs: _rules.RuleSet, year: float | None, table: pd.DataFrame) -> _Figure:
        if year is None:
            return _Figure(math.nan, math.nan, reason="无年份列, 无法计算3年变化 (no year column)")
        base_year = year - rs.parameter("doubling_span_years")
        base = table[table["year"] == base_year].set_index("town_id")
        if base.empty:
            return _Figure(math.nan, math.nan, reason=f"无 {base_year:g} 年数据 (no base-year rows)")
        hightech = _in_categories(ed, _table(rs, "reading")["hightech_categories"])
        unknown_cat = ed.loc[hightech.isna().to_numpy(), "town_id"].tolist()
        sub = ed[hightech.eq(True).to_numpy()].set_index("town_id")
        both = [t for t in sub.index if t in base.index]
        now, then = sub.loc[both, col], base.loc[both, col]
        lacking = [t for t in both if pd.isna(now[t]) or pd.isna(then[t])]
        complete = [t for t in both if t not in lacking]
        total = float(then[complete].sum())
        value = float(now[complete].sum()) / total if total > 0 else math.nan
        if unknown_cat or lacking or not both:
            unknown = unknown_cat + lacking
            reason = (
                f"{len(unknown)} 个小镇类型或 {base_year:g}/{year:g} 年数据缺失: {unknown[:10]}"
                if both
                else "无可比小镇"
            )
            return _Figure(value, math.nan, both, unknown, reason)
        return _Figure(value, value, both)

    return figure


_PLAIN: dict[str, Callable[[pd.DataFrame, _rules.RuleSet, float | None], _Figure]] = {
    "named_towns": _named,
    "towns_scale_1000yi": _scale("town_scale_1000yi_wan"),
    "towns_scale_500yi": _scale("town_scale_500yi_wan"),
    "towns_scale_100yi": _scale("town_scale_100yi_wan"),
    "towns_tax_over_10yi": _tax,
    "digital_manufacturing_share": _digital_share,
    "rd_intensity_city": _rd_city,
    "innovation_platform_share": _platform_share,
    "tourism_5a_share": _tourism_5a,
}
_OVER_YEARS = {
    "soft_investment_growth": _growth("soft_investment_wan"),
    "hightech_firms_growth": _growth("hightech_firms"),
    "tech_sme_firms_growth": _growth("tech_sme_firms"),
}
#: The city figures :func:`city_targets` knows how to compute (a rule's ``indicator``).
CITY_INDICATORS = (*_PLAIN, *_OVER_YEARS)


def _judge(fig: _Figure, t: _rules.Threshold) -> tuple[str, str]:
    if not fig.applicable:
        return _ev.NOT_APPLICABLE, fig.reason
    if not math.isfinite(fig.low):
        return _ev.MISSING, fig.reason or "无数据 (no value)"
    if not math.isfinite(fig.high):  # a ratio of sums with a town lacking a figure
        return _ev.MISSING, fig.reason
    low_ok = t.passes(fig.low)
    high_ok = t.passes(fig.high)
    if low_ok == high_ok:
        return (_ev.PASS if low_ok else _ev.FAIL), fig.reason
    return _ev.MISSING, fig.reason


def city_targets(
    towns: pd.DataFrame,
    *,
    year: float | None = None,
    rules: str | Path | _rules.RuleSet = "hangzhou-2021-city",
) -> pd.DataFrame:
    """Judge a year's list of towns against the city targets (二 总体目标, 四(一), 六(二)).

    Parameters
    ----------
    towns : pandas.DataFrame
        A town table (see :func:`town_table`; a raw table is checked first).
    year : int, optional
        The year judged (default: the latest year of the table; a table without ``year`` is
        judged as one edition, and the three-year growth targets then read ``missing``).
    rules : str, pathlib.Path or RuleSet, default "hangzhou-2021-city"
        The city rule set.

    Returns
    -------
    pandas.DataFrame
        One row per target (indexed by rule key, rule-file order): ``label_zh``,
        ``indicator``, ``year``, ``value`` (from the towns whose figure is known), ``comparator``,
        ``threshold``, ``unit``, ``status`` (``pass`` / ``fail`` / ``missing`` /
        ``not_applicable``), ``binding`` (confirmed and not advisory), ``advisory``,
        ``confirmed``, ``n_towns`` and ``town_ids`` / ``town_names`` (the towns that count,
        ``、``-joined), ``unknown_ids`` (towns whose absent figure could change the verdict),
        ``reason``, ``document``, ``clause``, ``note`` and ``note_zh`` (the reading, in English and in Chinese).

    Raises
    ------
    RuleDataError
        A rule names an indicator this module cannot compute.

    Examples
    --------
    >>> import pandas as pd
    >>> import tongzhen_gis as tz
    >>> towns = pd.DataFrame({"小镇名称": ["甲小镇", "乙小镇"], "状态": ["命名", "创建"]})
    >>> t = tz.city.city_targets(towns)
    >>> float(t.loc["named_towns_min", "value"]), t.loc["named_towns_min", "status"]
    (1.0, 'fail')
    >>> t.loc["towns_tax_over_10yi_min", "status"]
    'missing'
    """
    rs = _rules.load(rules)
    table = _as_table(towns, rs)
    years = _years(table)
    if year is None:
        year = years[-1] if years else None
    elif years and float(year) not in years:
        msg = f"year {year} is not in the town table (years: {[int(y) for y in years]})"
        raise SchemaError(msg, [msg], param="year")
    ed = _edition(table, None if year is None else float(year))
    names = dict(
        zip(table["town_id"], table["name_zh"].where(table["name_zh"].notna(), table["town_id"]), strict=False)
    )
    rows = {}
    for key, t in rs.thresholds.items():
        if t.indicator in _PLAIN:
            fig = _PLAIN[t.indicator](ed, rs, year)
        elif t.indicator in _OVER_YEARS:
            fig = _OVER_YEARS[t.indicator](ed, rs, year, table)
        else:
            msg = f"rule {key!r}: unknown city indicator {t.indicator!r}; known: {list(CITY_INDICATORS)}"
            raise RuleDataError(msg)
        status, reason = _judge(fig, t)
        rows[key] = {
            "label_zh": t.label_zh or key,
            "indicator": t.indicator,
            "year": year,
            "value": fig.low,
            "comparator": t.comparator,
            "threshold": t.value,
            "unit": t.unit,
            "status": status,
            "binding": bool(t.confirmed and not t.advisory),
            "advisory": bool(t.advisory),
            "confirmed": bool(t.confirmed),
            "n_towns": len(fig.towns),
            "town_ids": "、".join(map(str, fig.towns)),
            "town_names": "、".join(str(names.get(i, i)) for i in fig.towns),
            "unknown_ids": "、".join(map(str, fig.unknown)),
            "reason": reason,
            "document": t.document,
            "clause": t.clause,
            "note": t.note,
            "note_zh": t.note_zh,
        }
    out = pd.DataFrame.from_dict(rows, orient="index", columns=TARGET_COLUMNS)
    out.index.name = "rule"
    out.attrs["rules"] = rs.name
    out.attrs["problems"] = list(table.attrs.get("problems", []))
    return out


def failing_targets(targets: pd.DataFrame, *, include_unconfirmed: bool = True) -> list[str]:
    """Rule keys of the targets that fail (advisory targets never; unconfirmed ones by default)."""
    fail = (targets["status"] == _ev.FAIL) & ~targets["advisory"].astype(bool)
    if not include_unconfirmed:
        fail &= targets["confirmed"].astype(bool)
    return list(targets.index[fail])
