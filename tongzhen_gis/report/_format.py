"""How the report writes a number, one formatter for the page, the Word file and the workbook.

Private to :mod:`tongzhen_gis.report`. Every figure a reader sees goes through here, so a value
reads the same in ``report.html``, ``report.docx`` and (as an Excel number format) in
``report.xlsx``:

* areas in m² with thousands separators and two decimals, with the 亩 twin
  (``12,345.67 m² (18.52 亩)``, 1 亩 = 10000/15 m², :data:`tongzhen_gis.units.M2_PER_MU`);
* shares as percentages with one decimal (``12.3%``);
* ratios such as 容积率 with two decimals;
* counts as integers with thousands separators;
* never scientific notation: every float is written in fixed point (Python's ``f`` format,
  which has no exponent);
* an area or share that is not zero but whose area is at or below the sliver tolerance
  (``sliver_m2`` of :func:`tongzhen_gis.controllines.check`) reads ``0`` followed by
  :data:`SLIVER_MARK`, and the page says once what the mark means (:func:`sliver_note`).

:func:`column_kind` tells the kind of a column from its name (``*_m2`` an area, ``*_share``
a share …); :func:`cell` formats one value of a column; :func:`excel_format` is the Excel
number format of the same kind. Pure functions; nothing here touches files.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from tongzhen_gis.units import M2_PER_MU

#: Mark placed after a figure shown as 0 because it is at or below the sliver tolerance.
SLIVER_MARK = "*"

#: Kinds of column and their Excel number formats.
EXCEL_FORMATS: dict[str, str] = {
    "area_m2": "#,##0.00",
    "area_mu": "#,##0.00",
    "share": "0.0%",
    "ratio": "0.00",
    "count": "#,##0",
    "number": "#,##0.00",
    "money": "#,##0.00",
}

#: Columns whose values are shares (0–1) although their names do not end in ``_share``.
_SHARE_COLUMNS = {
    "share",
    "building_coverage",
    "rd_intensity",
    "population_share",
    "covered_share",
    "covered_population_share",
    "lead_industry_investment_share",
}
_RATIO_COLUMNS = {"far", "gross_far", "net_far", "mean_categories_reached"}
_COUNT_COLUMNS = {
    "points",
    "homes",
    "origins",
    "covered",
    "unreachable",
    "population",
    "covered_population",
    "jobs",
    "visitors",
    "n_conflicts",
    "firm_count",
    "building_count",
}


def column_kind(col: Any) -> str | None:
    """The kind of a column from its name: ``area_m2``, ``area_mu``, ``share``, ``ratio``, ``count``, ``money`` or None.

    Examples
    --------
    >>> column_kind("red_line_m2"), column_kind("farmland_share"), column_kind("far"), column_kind("name_zh")
    ('area_m2', 'share', 'ratio', None)
    """
    name = str(col)
    if name.endswith("_m2"):
        return "area_m2"
    if name.endswith("_mu"):
        return "area_mu" if not name.endswith("per_mu") else "money"
    if name.endswith("_share") or name in _SHARE_COLUMNS or name.startswith("share_"):
        return "share"
    if name in _RATIO_COLUMNS:
        return "ratio"
    if name in _COUNT_COLUMNS or name.startswith("n_") or name.endswith("_count"):
        return "count"
    if name.endswith("_wan") or name == "labour_productivity":
        return "money"
    return None


def excel_format(col: Any) -> str | None:
    """The Excel number format of a column (``#,##0.00``, ``0.0%`` …), or None for text columns."""
    kind = column_kind(col)
    return EXCEL_FORMATS.get(kind) if kind is not None else None


def _finite(value: Any) -> float | None:
    if value is None or value is pd.NA or isinstance(value, bool | np.bool_ | str):
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _missing(value: Any) -> str | None:
    """The text of a value that is not a finite number (em dash for NaN/None, ∞), else None."""
    if value is None or value is pd.NA:
        return "—"
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return "—"
        if math.isinf(value):
            return "∞" if value > 0 else "−∞"
    return None


def number(value: Any, *, decimals: int | None = None) -> str:
    """A number in fixed point with thousands separators, never in scientific notation.

    Integers (and integral floats) have no decimals; other floats ``decimals`` places, or by
    default enough places to show three significant digits of a small value (at most six:
    a smaller value reads ``0``).

    Examples
    --------
    >>> number(1234567.891), number(0.000123), number(1e-12), number(3.0), number(2.5e20)
    ('1,234,567.89', '0.000123', '0', '3', '250,000,000,000,000,000,000')
    """
    text = _missing(value)
    if text is not None:
        return text
    v = _finite(value)
    if v is None:
        return str(value)
    if decimals is None:
        if v == round(v):
            return f"{v:,.0f}"
        places = 2 if abs(v) >= 1 else min(6, 2 - math.floor(math.log10(abs(v))))
        text = f"{v:,.{places}f}".rstrip("0").rstrip(".")
        return "0" if text in ("", "-0") else text
    text = f"{v:,.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text[1:].replace(",", "")) == 0 else text


def is_sliver(area_m2: Any, sliver_m2: float | None) -> bool:
    """Whether a non-zero area is at or below the sliver tolerance (shown as 0 with a note)."""
    v = _finite(area_m2)
    return v is not None and v != 0 and sliver_m2 is not None and abs(v) <= sliver_m2


def area(area_m2: Any, *, sliver_m2: float | None = None, mu: bool = True, unit: bool = True) -> str:
    """An area in m² with thousands separators and (``mu=True``) its 亩 twin.

    ``unit=False`` leaves out "m²" (for a table whose header names the unit).

    Examples
    --------
    >>> area(12345.678)
    '12,345.68 m² (18.52 亩)'
    >>> area(12345.678, unit=False)
    '12,345.68 (18.52 亩)'
    >>> area(4.7e-08, sliver_m2=1.0)
    '0 m² (0 亩)*'
    """
    text = _missing(area_m2)
    if text is not None:
        return text
    m2 = " m²" if unit else ""
    if is_sliver(area_m2, sliver_m2):
        return f"0{m2} (0 亩){SLIVER_MARK}" if mu else f"0{m2}{SLIVER_MARK}"
    v = _finite(area_m2)
    if v is None:
        return str(area_m2)
    if v == 0:
        return f"0{m2}"
    text = f"{number(v, decimals=2)}{m2}"
    return f"{text} ({number(v / M2_PER_MU, decimals=2)} 亩)" if mu else text


def share(value: Any, *, sliver: bool = False) -> str:
    """A share (0–1) as a percentage with one decimal; ``sliver=True`` reads ``0.0%`` with the mark.

    Examples
    --------
    >>> share(0.12345), share(1.528e-08), share(1.528e-08, sliver=True)
    ('12.3%', '0.0%', '0.0%*')
    """
    text = _missing(value)
    if text is not None:
        return text
    v = _finite(value)
    if v is None:
        return str(value)
    if sliver:
        return f"0.0%{SLIVER_MARK}"
    text = f"{v * 100:,.1f}%"
    return text[1:] if text == "-0.0%" else text


def cell(value: Any, col: Any = None, *, sliver_m2: float | None = None, mu: bool = True, unit: bool = True) -> str:
    """One value as the report shows it, by the kind of its column (:func:`column_kind`).

    Areas show their 亩 twin unless ``mu=False`` (a table that has the ``*_mu`` column beside),
    and "m²" unless ``unit=False`` (a table whose header names it);
    text, booleans and unknown kinds are shown as they are (booleans as 是/否).
    """
    if isinstance(value, bool | np.bool_):
        return "是" if value else "否"
    kind = column_kind(col)
    if _finite(value) is None:
        return _missing(value) or str(value)
    if kind == "area_m2":
        return area(value, sliver_m2=sliver_m2, mu=mu, unit=unit)
    if kind == "area_mu":
        return number(value, decimals=2)
    if kind == "share":
        return share(value)
    if kind == "ratio":
        return number(value, decimals=2)
    if kind == "count":
        return number(round(float(value)), decimals=0)
    if kind == "money":
        return number(value, decimals=2)
    return number(value)


def is_numeric(value: Any) -> bool:
    """Whether a value is a number (right-aligned in a table)."""
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool | np.bool_)


def sliver_note(sliver_m2: float) -> str:
    """The note that explains :data:`SLIVER_MARK`."""
    return f"{SLIVER_MARK} 不为零但不超过碎片容差 ({number(sliver_m2)} m²) 的面积记为 0, 视为制图误差, 结论为“待核”。"
