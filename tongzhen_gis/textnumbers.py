"""Numbers written as text, as Chinese spreadsheets hold them: ``１２３``, ``1,234.5``, ``1.2亿``, ``—``.

Enterprise tables arrive from many hands. A cell may hold full-width digits, thousands
separators, a 万 / 亿 magnitude or a unit (``1.2亿元`` in a 万元 column), or a dash standing
for "no figure". :func:`parse_number` reads one cell, :func:`parse_column` a whole column;
:func:`tongzhen_gis.schema.parse_numbers` applies them to the number columns of a role.

Decisions
---------
* Only what has one reading is converted, and every conversion is reported: full-width
  characters (NFKC), thousands separators in groups of three (``1,234,567.5``), a magnitude
  (万 ×10⁴, 亿 ×10⁸, 千 ×10³, 百万, 千万) and a unit word that matches the column's unit
  (元, 万元, 亿元 in a 万元 column; 人 in a persons column; 亩; 吨 …), converted to the column's
  unit (``1.2亿`` in ``tax_wan`` is 12 000 万元).
* ``-``, ``—``, ``–``, ``/``, ``空``, ``N/A``, ``#N/A``, ``null``, ``nan`` mean *missing*: the cell
  becomes NaN (reported), never 0.
* Anything else is refused with the cell named: ranges (``120-150``), estimates (``约120``,
  ``>100``), percentages, decimal commas or misplaced separators (``1,23``), unit words that
  do not fit the column (``5亩`` in a 万元 column), ``无`` (zero or missing?), text.
  Magnitudes and units are definitions, not policy, so they live here rather than in a rule
  file.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["MISSING_MARKS", "Conversion", "parse_column", "parse_number"]

#: Cell texts that mean "no figure" (after NFKC and stripping).
MISSING_MARKS = frozenset(
    {"-", "--", "---", "—", "——", "–", "/", "空", "N/A", "n/a", "NA", "#N/A", "null", "NULL", "None", "nan", "NaN"}
)

#: Magnitude words, longest first (千万 before 万).
_MAGNITUDES = (("千万", 1e7), ("百万", 1e6), ("亿", 1e8), ("万", 1e4), ("千", 1e3))

#: Unit words accepted for a column unit, and what one of the column's units is in them.
#: ``万元``: a cell in 元 is divided by 10⁴. Keys are the ``unit`` of ``rules/schema.toml``.
_UNITS: dict[str, tuple[tuple[str, ...], float]] = {
    "万元": (("元",), 1e4),
    "persons": (("人", "名", "个"), 1.0),
    "亩": (("亩",), 1.0),
    "吨标准煤": (("吨标准煤", "tce"), 1.0),
    "t": (("吨", "t"), 1.0),
    "m2": (("平方米", "m2", "㎡"), 1.0),
    "m": (("米", "m"), 1.0),
    "storeys": (("层",), 1.0),
}

_PLAIN = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")


@dataclass(frozen=True)
class Conversion:
    """How one cell was read: its number (NaN for missing) and what was done, or why it was refused."""

    value: float
    how: str = ""  #: "" for a plain number; else e.g. "full-width digits, 亿 → 万元"
    refused: str = ""  #: why the cell cannot be read ("" when it was)
    stated: bool = False  #: the cell stated its own magnitude or unit (``1.2亿``, ``5000元``)


def _unit_factor(rest: str, unit: str) -> tuple[float, str] | None:
    """The factor from a trailing magnitude/unit text to the column's unit, and its description; None if unfit."""
    words, per_unit = _UNITS.get(unit, ((), 1.0))
    magnitude, mag_word = 1.0, ""
    for word, factor in _MAGNITUDES:
        if rest.startswith(word):
            magnitude, mag_word, rest = factor, word, rest[len(word) :]
            break
    if rest and rest not in words:
        return None
    if not rest and not mag_word:
        return 1.0, ""
    if not rest:  # a bare magnitude: 万 in a 万元 column is 万元, in a persons column 10⁴ persons
        if unit == "万元":
            factor = {"万": 1.0, "亿": 1e4, "千万": 1e3, "百万": 1e2, "千": 0.1}[mag_word]
        else:
            factor = magnitude
        return factor, f"{mag_word} → {unit or 'number'}"
    return magnitude / per_unit, f"{mag_word}{rest} → {unit}"


def parse_number(value: Any, *, unit: str = "") -> Conversion:
    """Read one cell as a number in ``unit`` (see the module docstring for what is converted).

    Parameters
    ----------
    value : Any
        A cell: a number, text, None or NaN.
    unit : str, default ""
        The column's unit as written in ``rules/schema.toml`` (``"万元"``, ``"persons"``,
        ``"亩"`` …); magnitudes and unit words are converted to it.

    Returns
    -------
    Conversion
        ``value`` (NaN when missing or refused), ``how`` (what was converted, "" for a plain
        number or an empty cell) and ``refused`` (why not, "" when read).

    Examples
    --------
    >>> parse_number("１２３").value, parse_number("1,234.5").value, parse_number("1.2亿", unit="万元").value
    (123.0, 1234.5, 12000.0)
    >>> parse_number("—").how, parse_number("约120").refused
    ('missing mark', 'not a number')
    """
    if value is None or isinstance(value, bool | np.bool_):
        return Conversion(math.nan) if value is None else Conversion(math.nan, refused="true/false, not a number")
    if isinstance(value, int | float | np.number):
        return Conversion(float(value))
    if not isinstance(value, str):
        return Conversion(math.nan, refused=f"a {type(value).__name__}, not a number")
    raw = value
    text = unicodedata.normalize("NFKC", value).strip()
    steps = ["full-width characters"] if text != raw.strip() else []
    if not text:
        return Conversion(math.nan)
    if text in MISSING_MARKS:
        return Conversion(math.nan, how="missing mark")
    match = re.match(r"[+-]?[\d.,]*\d", text)
    if match is None:
        return Conversion(math.nan, refused="not a number")
    number, rest = match.group(0), text[match.end() :].strip()
    if rest.endswith("%"):
        return Conversion(math.nan, refused="a percentage")
    if rest and not re.fullmatch(r"[^\W\d_]+", rest):
        return Conversion(math.nan, refused="not a number (a range, several numbers or signs?)")
    if "," in number:
        if not _GROUPED.fullmatch(number):
            return Conversion(math.nan, refused="commas not in groups of three (a decimal comma?)")
        number = number.replace(",", "")
        steps.append("thousands separators")
    if not _PLAIN.fullmatch(number):
        return Conversion(math.nan, refused="not a number")
    scaled = _unit_factor(rest, unit)
    if scaled is None:
        fits = f" (this column is in {unit})" if unit else ""
        return Conversion(math.nan, refused=f"unit {rest!r} does not fit{fits}")
    factor, described = scaled
    if described:
        steps.append(described)
    return Conversion(float(number) * factor, how=", ".join(steps), stated=bool(described))


_CELL_COLUMNS = ["index", "position", "value", "number", "how", "refused", "stated"]


def parse_column(series: pd.Series, *, unit: str = "") -> tuple[pd.Series, pd.DataFrame]:
    """Read every cell of a column with :func:`parse_number`.

    Parameters
    ----------
    series : Series
        The column (numbers, text or both).
    unit : str, default ""
        The column's unit (see :func:`parse_number`).

    Returns
    -------
    numbers : Series
        Float64, same index; NaN where the cell was empty, a missing mark, or refused.
    cells : DataFrame
        One row per cell that was not a plain number or empty: ``index`` (the row label),
        ``position`` (the row number), ``value`` (the cell as given), ``number``, ``how``,
        ``refused`` and ``stated`` (the cell gave its own magnitude or unit, e.g. ``1.2亿``).

    Examples
    --------
    >>> numbers, cells = parse_column(pd.Series(["12", "1.5万", "—", "约3"]), unit="万元")
    >>> numbers.tolist()[:3], cells["refused"].tolist()
    ([12.0, 1.5, nan], ['', '', 'not a number'])
    """
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        empty = pd.DataFrame(columns=_CELL_COLUMNS)
        return series.astype("float64"), empty
    seen: dict[Any, Conversion] = {}
    rows = []
    values = np.empty(len(series))
    for i, (label, cell) in enumerate(series.items()):
        key = (type(cell), cell) if isinstance(cell, str) else None
        conv = seen.get(key) if key is not None else None
        if conv is None:
            conv = parse_number(None if _is_na(cell) else cell, unit=unit)
            if key is not None:
                seen[key] = conv
        values[i] = conv.value
        if conv.how or conv.refused:
            rows.append(
                {
                    "index": label,
                    "position": i,
                    "value": cell,
                    "number": conv.value,
                    "how": conv.how,
                    "refused": conv.refused,
                    "stated": conv.stated,
                }
            )
    cells = pd.DataFrame(rows, columns=_CELL_COLUMNS)
    return pd.Series(values, index=series.index, name=series.name, dtype="float64"), cells


def _is_na(value: Any) -> bool:
    return value is None or (isinstance(value, float | np.floating) and math.isnan(value)) or value is pd.NA
