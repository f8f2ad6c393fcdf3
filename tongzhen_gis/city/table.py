"""The town table of the city view: checked, normalised, one row per town and year.

:func:`town_table` reads the columns through the ``town_table`` role of ``rules/schema.toml``
(Chinese headers, money stated in 亿元 or 元 converted to 万元), maps status, platform and
category words to the ids of the rule files, and refuses what cannot be read (one
:class:`~tongzhen_gis.errors.SchemaError` listing every problem). :func:`parse_years` reads
``2021-2023``. The helpers here (vocabularies, editions) are shared by the package's modules.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tongzhen_gis import rules as _rules
from tongzhen_gis import schema as _schema
from tongzhen_gis.errors import SchemaError

__all__ = ["FIGURES", "STATUS_ZH", "parse_years", "town_table"]

STATUS_ZH = {"named": "命名", "creating": "创建", "cultivating": "培育"}
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
            named = re.fullmatch(r"\s*(\d{4})\s*(年|年度)?\s*", str(sheet))
            if named is None:
                problems.append(f"sheet {sheet!r} has no year column (年份) and its name is not a year")
                continue
            df = df.assign(year=int(named.group(1)))
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
    rs = _rules.load(rules)
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
