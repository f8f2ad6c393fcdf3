"""The city view (城市总体目标): the list of towns as a whole, and the list over the years.

杭政办函〔2021〕25号 is a city plan. Its headline asks (二 总体目标, "到2023年") are about the
city's portfolio of towns: how many are named, how many reach 百亿 / 500亿 / 千亿 of output,
how many pay more than 10亿元 of tax, the share of manufacturing and digital towns, R&D over
sales, the doubling of soft investment and tech firms in high-tech towns, the share with a
provincial innovation platform (四(一)), 5A scenic areas for tourism towns (六(二)). Its
management is a list kept year by year (清单管理, 动态管理, 定期评估, 七(一), 七(三)).

* :func:`town_table` checks and normalises a town table (one row per town and year);
* :func:`city_targets` judges one year's list against ``rules/hangzhou-2021-city.toml``;
* :func:`town_indicators` derives a year's per-town indicators (亩均税收, R&D intensity …) for
  :func:`tongzhen_gis.evaluate.scorecard`;
* :func:`town_verdicts` gives each town's verdict in the last year (for the map);
* :func:`review` does all of it for every year: targets by year, per-town trends with the
  year-on-year change and the suggested grade, the changes between editions and the
  warning list (:func:`warnings`).

Decisions
---------
* A count or share target is ``pass`` only when the towns whose figure is *known* already
  reach it, ``fail`` only when even counting every town of unknown figure would not, and
  ``missing`` otherwise. A ratio of sums (R&D over sales, three-year growth) is ``missing``
  when any town it sums lacks a figure. A target is never ``pass`` on absent inputs.
* Where the text is open to reading, the rule file states the reading and marks the target
  unconfirmed (``confirmed = false``); :attr:`binding` is then False, as in the scorecard.
* A town table without a ``year`` column is one edition (``year`` is empty); without
  ``town_id`` the name is the id (reported in ``attrs["problems"]``).
* Warnings are suggestions (建议) with their reasons, never an assessment result.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tongzhen_gis import evaluate as _ev
from tongzhen_gis import rules as _rules
from tongzhen_gis import schema as _schema
from tongzhen_gis.errors import RuleDataError, SchemaError

__all__ = [
    "TARGET_COLUMNS",
    "VERDICTS",
    "CityReview",
    "city_targets",
    "failing_targets",
    "parse_years",
    "review",
    "town_indicators",
    "town_table",
    "town_verdicts",
    "warnings",
]

logger = logging.getLogger(__name__)

STATUS_ZH = {"named": "命名", "creating": "创建", "cultivating": "培育"}
#: A status one step down (降格); cultivating towns leave the list.
DEMOTED = {"named": "creating", "creating": "cultivating", "cultivating": "removed"}
FIGURES = (
    "output_wan",
    "revenue_wan",
    "tax_wan",
    "investment_wan",
    "rd_wan",
    "soft_investment_wan",
    "hightech_firms",
    "tech_sme_firms",
    "land_mu",
    "jobs",
)
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
]


def _ruleset(rules: str | Path | _rules.RuleSet) -> _rules.RuleSet:
    return rules if isinstance(rules, _rules.RuleSet) else _rules.load(rules)


def _table(rs: _rules.RuleSet, name: str) -> Any:
    """A data table of the city rules; a reviewer's file without it falls back to the shipped one.

    (``include`` merges thresholds and parameters only, so an override file that includes
    ``hangzhou-2021-city`` and changes one number still has the readings and vocabularies.)
    """
    if name in rs.tables:
        return rs.tables[name]
    return _rules.load("hangzhou-2021-city")[name]


def _key(value: Any) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value))).casefold()


def _blank(value: Any) -> bool:
    return (
        value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == ""
    )


def _vocabulary(table: Mapping[str, Sequence[str]]) -> dict[str, str]:
    return {_key(word): canonical for canonical, words in table.items() for word in (canonical, *words)}


def _normalise(series: pd.Series, vocab: Mapping[str, str], label: str, problems: list[str]) -> pd.Series:
    """Map words to canonical ids (blank stays empty); list unknown words as one problem."""
    out = series.astype(object).map(lambda v: None if _blank(v) else vocab.get(_key(v), "?")).astype(object)
    bad = out == "?"
    if bad.any():
        words = sorted({str(v) for v in series[bad]})
        problems.append(f"{label} has unknown value(s) {words}: use one of {sorted(set(vocab.values()))}")
    return out.astype(object)


def _scenic(value: Any) -> float | None:
    """Scenic grade as a number of A (``"5A"``, ``"AAAAA"``, ``"4A级"``); 0 for none, None when blank."""
    if _blank(value):
        return None
    text = _key(value).upper()
    if text in ("无", "NONE", "-", "0"):
        return 0.0
    if m := re.fullmatch(r"([1-5])A级?(景区)?", text):
        return float(m.group(1))
    if m := re.fullmatch(r"(A{1,5})级?(景区)?", text):
        return float(len(m.group(1)))
    return math.nan


def _categories(series: pd.Series, problems: list[str]) -> pd.Series:
    cats = _rules.load("town_categories")["category"]
    vocab = {_key(k): k for k in cats} | {_key(v["name_zh"]): k for k, v in cats.items()}
    out = series.astype(object).map(lambda v: None if _blank(v) else vocab.get(_key(v), str(v).strip())).astype(object)
    unknown = sorted({v for v in out.dropna() if v not in cats})
    if unknown:
        problems.append(f"category values {unknown} are not in rules/town_categories.toml: counted as other types")
    return out.astype(object)


def _from_sheets(sheets: Mapping[Any, pd.DataFrame]) -> pd.DataFrame:
    """One table from one sheet per year: a sheet without a ``year`` column takes its name as the year."""
    parts, problems = [], []
    for sheet, df in sheets.items():
        std = _schema.standardize(df, "town_table")
        if "year" not in std.columns:
            if not re.fullmatch(r"\s*\d{4}\s*(年|年度)?\s*", str(sheet)):
                problems.append(f"sheet {sheet!r} has no year column (年份) and its name is not a year")
                continue
            df = df.assign(year=int(re.search(r"\d{4}", str(sheet)).group()))
        parts.append(df)
    if problems:
        msg = "; ".join(problems) + ": add a 年份 column or name each sheet after its year (2021, 2022 …)"
        raise SchemaError(msg, problems)
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    out.attrs["source"] = next((df.attrs.get("source") for df in sheets.values()), None)
    return out


def town_table(
    towns: pd.DataFrame | Mapping[Any, pd.DataFrame],
    *,
    name: str | None = None,
    rules: str | Path | _rules.RuleSet = "hangzhou-2021-city",
) -> pd.DataFrame:
    """Check and normalise a town table (one row per town and year).

    Parameters
    ----------
    towns : pandas.DataFrame or mapping of DataFrames
        As read by :func:`tongzhen_gis.io.read_table` (CSV or Excel, Chinese headers through
        the aliases of the ``town_table`` role of ``rules/schema.toml``; money stated in 亿元
        or 元 in a header is converted to 万元). Columns: ``town_id``, ``name_zh``,
        ``district``, ``status`` (named / creating / cultivating or 命名 / 创建 / 培育),
        ``status_year``, ``category``, ``year`` and the figures ``output_wan``,
        ``revenue_wan``, ``tax_wan``, ``investment_wan``, ``rd_wan``, ``soft_investment_wan``,
        ``hightech_firms``, ``tech_sme_firms``, ``land_mu``, ``jobs``, ``innovation_platform``
        (none / municipal / provincial / national), ``scenic_grade`` (3A, 4A, 5A …). Every
        column may be absent except a town id or name. A mapping ``{sheet name: table}`` is one
        sheet per year: a sheet without a ``year`` column takes its name (``2021``, ``2021年``)
        as the year.
    name : str, optional
        How to call the table in messages (e.g. its file name).
    rules : str, pathlib.Path or RuleSet, default "hangzhou-2021-city"
        Where the status and platform vocabularies are read.

    Returns
    -------
    pandas.DataFrame
        Every canonical column present (absent figures as NaN, absent text as None), the input
        rows in order, with ``status`` and ``innovation_platform`` as canonical ids,
        ``category`` as a category id, ``scenic_a`` (number of A, 0 for none). Extra columns
        are kept. ``attrs``: ``problems`` (notes), ``unit_conversions``, ``absent`` (canonical
        columns the input lacked), ``town_table`` (True).

    Raises
    ------
    SchemaError
        Listing every problem: no id nor name, duplicate (town, year), unknown status words,
        non-numeric figures.
    """
    rs = _ruleset(rules)
    if isinstance(towns, Mapping):
        towns = _from_sheets(towns)
    out = _schema.validate(towns, "town_table", name=name)
    problems: list[str] = []
    fatal: list[str] = []
    spec = _schema.ROLES["town_table"]
    absent = [c for c in spec.columns if c not in out.columns]
    if "town_id" not in out.columns:
        if "name_zh" not in out.columns:
            fatal.append("no town_id (小镇编号) nor name_zh (小镇名称) column: add one of them")
        else:
            out["town_id"] = out["name_zh"]
            problems.append("no town_id column: the town names are used as ids")
    for col in spec.columns.values():
        if col.name not in out.columns:
            out[col.name] = np.nan if col.kind == "number" else None
    if "town_id" in out.columns:
        empty = out["town_id"].map(_blank)
        if empty.any():
            fatal.append(f"town_id is empty in {int(empty.sum())} row(s): fill it")
        years = out["year"].astype(float).fillna(-1)
        dup = (
            out["town_id"].notna()
            & pd.Series(list(zip(out["town_id"], years, strict=True))).duplicated(keep=False).to_numpy()
        )
        if dup.any():
            dups = sorted({str(t) for t in out.loc[dup, "town_id"]})
            fatal.append(f"towns {dups[:5]} appear twice in one year: give one row per town and year")
    out["status"] = _normalise(out["status"], _vocabulary(_table(rs, "status_alias")), "status", fatal)
    out["innovation_platform"] = _normalise(
        out["innovation_platform"], _vocabulary(_table(rs, "platform_alias")), "innovation_platform", fatal
    )
    out["category"] = _categories(out["category"], problems)
    out["scenic_a"] = out["scenic_grade"].map(_scenic).astype(float)
    bad = out["scenic_a"].isna() & ~out["scenic_grade"].map(_blank)
    if bad.any():
        fatal.append(
            f"scenic_grade has values {sorted({str(v) for v in out.loc[bad, 'scenic_grade']})}: write 3A, 4A, 5A or 无"
        )
    if fatal:
        label = name or "town table"
        msg = f"{label} (特色小镇清单) has {len(fatal)} problem(s): " + "; ".join(
            f"({i}) {p}" for i, p in enumerate(fatal, 1)
        )
        raise SchemaError(msg, fatal)
    out["year"] = out["year"].astype(float)
    out["status_year"] = out["status_year"].astype(float)
    out.attrs = {
        "problems": problems,
        "unit_conversions": list(out.attrs.get("unit_conversions", [])),
        "absent": absent,
        "town_table": True,
        "source": towns.attrs.get("source", name),
    }
    return out


def parse_years(text: str | None) -> list[int] | None:
    """Years written as a range or a list: ``"2021-2023"`` → [2021, 2022, 2023], ``"2023,2021"`` → [2021, 2023].

    Parameters
    ----------
    text : str or None
        None (or blank) gives None: every year of the table.

    Returns
    -------
    list of int or None

    Raises
    ------
    SchemaError
        Text that is neither a range of two years (first ≤ last) nor a comma-separated list.

    Examples
    --------
    >>> parse_years("2021-2023")
    [2021, 2022, 2023]
    """
    if text is None or not str(text).strip():
        return None
    text = str(text).strip()
    if m := re.fullmatch(r"(\d{4})\s*[-–~]\s*(\d{4})", text):
        first, last = int(m.group(1)), int(m.group(2))
        if first <= last:
            return list(range(first, last + 1))
    else:
        parts = [p.strip() for p in text.split(",")]
        if all(re.fullmatch(r"\d{4}", p) for p in parts):
            return sorted({int(p) for p in parts})
    msg = f"years {text!r}: write a range such as 2021-2023 (first year first) or a list such as 2021,2023"
    raise SchemaError(msg, [msg], param="years")


def _as_table(towns: pd.DataFrame, rules: str | Path | _rules.RuleSet) -> pd.DataFrame:
    return towns if towns.attrs.get("town_table") else town_table(towns, rules=rules)


def _years(table: pd.DataFrame) -> list[float]:
    return sorted(set(table["year"].dropna()))


def _edition(table: pd.DataFrame, year: float | None) -> pd.DataFrame:
    if year is None or table["year"].isna().all():
        return table
    return table[table["year"] == year]


# ----------------------------------------------------------------------------- targets


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
    low_ok = _ev._passes(fig.low, t.comparator, t.value, 1e-9)
    high_ok = _ev._passes(fig.high, t.comparator, t.value, 1e-9)
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
        ``reason``, ``document``, ``clause``, ``note``.

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
    >>> t.loc["named_towns_min", ["value", "status"]].tolist()
    [1.0, 'fail']
    >>> t.loc["towns_tax_over_10yi_min", "status"]
    'missing'
    """
    rs = _ruleset(rules)
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


# ----------------------------------------------------------------------------- towns


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
        Indexed by ``town_id`` in table order: ``name_zh``, ``category``, ``status``, the
        figures, and ``tax_per_mu`` (tax_wan / land_mu, 万元/亩), ``output_per_mu``,
        ``rd_intensity`` (rd_wan / revenue_wan), ``labour_productivity`` (output_wan / jobs,
        万元/人). A ratio over an absent or zero denominator is NaN (``missing``), never 0.
    """
    table = _as_table(towns, "hangzhou-2021-city")
    years = _years(table)
    ed = _edition(table, (years[-1] if years else None) if year is None else float(year))
    out = ed.set_index("town_id")[["name_zh", "district", "category", "status", *FIGURES]].copy()

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
    rs = _ruleset(rules)
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
    rs = _ruleset(rules)
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
