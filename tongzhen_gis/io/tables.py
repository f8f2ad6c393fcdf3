"""Tables: CSV (UTF-8 with BOM for Excel, GBK fallback on reading) and Excel workbooks.

CSV tables are written as UTF-8 *with* a byte-order mark so that Excel opens Chinese text
correctly; workbooks get valid sheet names, a frozen header row and columns sized to their
content.
"""

from __future__ import annotations

import codecs
import logging
import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tongzhen_gis import settings
from tongzhen_gis.errors import InputFileError
from tongzhen_gis.io.encodings import _check_codec
from tongzhen_gis.io.paths import _mkparent, _require_exists

__all__ = ["list_sheets", "read_table", "write_table", "write_workbook"]

logger = logging.getLogger(__name__)

_EXCEL_SHEET_CHARS = 31
_EXCEL_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
#: Printable width of a landscape A4 page at 100 %, in column-width units: about 105 in LibreOffice
#: (its stand-in for Calibri is wider), about 140 in Excel; the smaller one decides.
_PAGE_WIDTH_CHARS = 105
#: A sheet at most this many pages wide is printed shrunk to one page's width (to 80 % at the least).
_FIT_PAGES = 1.25


def read_table(
    path: str | Path,
    *,
    sheet: str | int | None = None,
    encoding: str | None = None,
    dtype: Any = None,
    role: str | None = None,
) -> pd.DataFrame:
    """Read a CSV or Excel (``.xlsx``) table.

    Parameters
    ----------
    path : str or pathlib.Path
    sheet : str or int, optional
        Excel sheet name or 0-based position; the first sheet by default.
    encoding : str, optional
        CSV encoding. By default UTF-8 (with or without BOM) is tried, then
        :data:`tongzhen_gis.settings.shapefile_fallback_encoding` (GBK, what Excel in Chinese
        Windows saves as "CSV"), with a logged warning.
    dtype : type, dict, optional
        Passed to pandas. **Keep code columns as text** so leading zeros survive, e.g.
        ``dtype={"DLBM": str, "YDYHFLDM": str}`` for land-use codes ("0101" would otherwise
        become 101), or ``dtype=str`` for every column.
    role : str, optional
        A table role of :data:`tongzhen_gis.schema.ROLES` (``"enterprises"``): its Chinese
        headers are renamed (:func:`~tongzhen_gis.schema.standardize`) and its number columns
        written as text (``１２０``, ``1,234.5``, ``1.2亿``, ``—``) are read as numbers
        (:func:`~tongzhen_gis.schema.parse_numbers`): each conversion is listed in
        ``attrs["repairs"]`` with its file row, and cells with no single reading raise a
        :class:`~tongzhen_gis.errors.SchemaError` naming them.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    InputFileError
        Missing or unreadable file, unknown sheet (the message lists the sheets), or an
        unsupported suffix.
    """
    path = Path(path)
    _require_exists(path)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".xlsx", ".xlsm"):
        if suffix in (".csv", ".txt"):
            df = _read_csv(path, encoding=encoding, dtype=dtype)
        else:
            df = _read_excel(path, sheet=sheet, dtype=dtype)
        if role is None:
            return df
        from tongzhen_gis import schema  # local: schema reads its rules on import

        return schema.parse_numbers(schema.standardize(df, role), role, name=path.name)
    if suffix == ".xls":
        msg = f"{path} is an old .xls workbook; open it in Excel or WPS and save it as .xlsx"
        raise InputFileError(msg)
    msg = f"cannot tell the table format of {path}; use .csv or .xlsx"
    raise InputFileError(msg)


def _read_csv(path: Path, *, encoding: str | None, dtype: Any) -> pd.DataFrame:
    if encoding is not None and codecs.lookup(_check_codec(encoding)).name == "utf-8":
        encoding = "utf-8-sig"  # also reads files without BOM, and keeps a BOM out of the header
    candidates = [encoding] if encoding else ["utf-8-sig", settings.shapefile_fallback_encoding]
    for i, enc in enumerate(candidates):
        try:
            df = pd.read_csv(path, encoding=enc, dtype=dtype)
        except UnicodeDecodeError as exc:
            if i + 1 < len(candidates):
                continue
            msg = f"cannot decode {path} as {enc} ({exc}); pass the right encoding=, e.g. 'GBK' or 'UTF-8'"
            raise InputFileError(msg, param="encoding") from exc
        except (pd.errors.ParserError, pd.errors.EmptyDataError, LookupError) as exc:
            msg = f"cannot read {path} as CSV ({exc}); check it is a comma-separated table with a header row"
            raise InputFileError(msg) from exc
        if i > 0:
            logger.warning("%s is not UTF-8: read it as %s; pass encoding=... if the text looks wrong", path, enc)
        df.attrs["source"] = str(path)
        df.attrs["encoding"] = enc
        return df
    raise AssertionError  # pragma: no cover


def list_sheets(path: str | Path) -> list[str]:
    """Names of the sheets of an Excel workbook (``.xlsx``), in order.

    Parameters
    ----------
    path : str or pathlib.Path

    Returns
    -------
    list of str

    Raises
    ------
    InputFileError
        Missing file, or not a readable ``.xlsx`` workbook.
    """
    import openpyxl

    path = Path(path)
    _require_exists(path)
    try:
        workbook = openpyxl.load_workbook(path, read_only=True)
        names = list(workbook.sheetnames)
        workbook.close()
    except Exception as exc:  # openpyxl raises many kinds (zipfile, KeyError, …)
        msg = f"cannot read {path} as an Excel workbook ({exc}); open it in Excel or WPS and save it as .xlsx"
        raise InputFileError(msg) from exc
    return names


def _read_excel(path: Path, *, sheet: str | int | None, dtype: Any) -> pd.DataFrame:
    names = list_sheets(path)
    if sheet is None:
        sheet = 0
    if (isinstance(sheet, str) and sheet not in names) or (isinstance(sheet, int) and not 0 <= sheet < len(names)):
        msg = f"sheet {sheet!r} not found in {path}; its sheets are: {', '.join(map(repr, names))}"
        raise InputFileError(msg)
    df = pd.read_excel(path, sheet_name=sheet, dtype=dtype, engine="openpyxl")
    df.attrs["source"] = str(path)
    df.attrs["sheet"] = names[sheet] if isinstance(sheet, int) else sheet
    return df


def write_table(df: pd.DataFrame, path: str | Path, *, index: bool = True) -> Path:
    """Write a table as CSV (UTF-8 with BOM, so Excel shows Chinese) or ``.xlsx``.

    An ``.xlsx`` is written by :func:`write_workbook` with one sheet, ``Sheet1``.

    Parameters
    ----------
    df : pandas.DataFrame
    path : str or pathlib.Path
        ``.csv`` or ``.xlsx``. Parent folders are created.
    index : bool, default True
        Write the index (e.g. the town id of a per-town table) as the first column.

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        msg = f"cannot tell the table format of {path}; use .csv or .xlsx"
        raise InputFileError(msg)
    if suffix == ".xlsx":
        return write_workbook({"Sheet1": df}, path, index=index)
    _mkparent(path)
    df.to_csv(path, index=index, encoding="utf-8-sig")
    return path


def _display_width(value: Any) -> int:
    """Width of a cell's text in Excel character units (CJK characters count two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in str(value))


def _excel_ready(df: pd.DataFrame, sheet: str) -> pd.DataFrame:
    """Remove control characters Excel cannot store from text cells (logged)."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    out = df
    for col in df.columns:
        if not (pd.api.types.is_object_dtype(df[col].dtype) or pd.api.types.is_string_dtype(df[col].dtype)):
            continue
        bad = df[col].map(lambda v: isinstance(v, str) and ILLEGAL_CHARACTERS_RE.search(v) is not None)
        if bad.any():
            out = out.copy() if out is df else out
            out[col] = df[col].map(lambda v: ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v)
            logger.warning(
                "sheet %r, column %r: removed control characters Excel cannot store from %d cells",
                sheet,
                col,
                int(bad.sum()),
            )
    return out


def _shown_text(value: Any, number_format: str | None) -> Any:
    """About the text Excel shows for a value in a number format (to size the column)."""
    if number_format is None or isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.number):
        return value
    decimals = len(number_format.split(".")[1].rstrip("%#")) if "." in number_format else 0
    if number_format.endswith("%"):
        return f"{float(value) * 100:,.{decimals}f}%"
    return f"{float(value):,.{decimals}f}" if "," in number_format else f"{float(value):.{decimals}f}"


def _tidy_sheet(
    worksheet: Any,
    df: pd.DataFrame,
    *,
    index: bool,
    formats: Mapping[Any, str] | None = None,
    sample_rows: int = 1000,
) -> None:
    """Freeze the header row, apply number formats and size columns to their shown content (capped)."""
    from openpyxl.utils import get_column_letter

    if df.columns.nlevels == 1:  # pandas writes one header row (index names included)
        worksheet.freeze_panes = "A2"
    formats = formats or {}
    head = df.head(sample_rows)
    columns: list[tuple[Any, list[Any]]] = []
    if index:
        for level in range(head.index.nlevels):
            columns.append((None, [head.index.names[level] or "", *head.index.get_level_values(level)]))
    for col in head.columns:
        title = col if not isinstance(col, tuple) else max(col, key=_display_width)
        fmt = formats.get(col)
        columns.append((fmt, [title, *(_shown_text(v, fmt) for v in head[col])]))
    for i, (fmt, values) in enumerate(columns, start=1):
        letter = get_column_letter(i)
        width = max((_display_width(v) for v in values if not (isinstance(v, float) and np.isnan(v))), default=8)
        worksheet.column_dimensions[letter].width = min(max(width + 2, 8), 60)
        if fmt is not None:
            for (cell,) in worksheet.iter_rows(min_row=2, min_col=i, max_col=i):
                cell.number_format = fmt
    _print_setup(worksheet, width=sum(worksheet.column_dimensions[c].width for c in worksheet.column_dimensions))
    if df.columns.nlevels == 1:
        worksheet.print_title_rows = "1:1"  # the header row on every printed page


def _print_setup(worksheet: Any, *, width: float) -> None:
    """Print on landscape A4; a sheet up to :data:`_FIT_PAGES` page widths is shrunk to one page's width.

    A wider sheet keeps its size (readable) and its first column (the ids) repeats on every page.
    """
    worksheet.page_setup.orientation = worksheet.ORIENTATION_LANDSCAPE
    worksheet.page_setup.paperSize = worksheet.PAPERSIZE_A4
    if width <= _FIT_PAGES * _PAGE_WIDTH_CHARS:
        worksheet.sheet_properties.pageSetUpPr.fitToPage = True
        worksheet.page_setup.fitToWidth = 1
        worksheet.page_setup.fitToHeight = 0  # as many pages down as it takes
    else:
        worksheet.print_title_cols = "A:A"


def _sheet_name(name: Any, used: set[str]) -> str:
    text = _EXCEL_FORBIDDEN.sub("_", str(name)).strip("'").strip() or "Sheet"
    text = text[:_EXCEL_SHEET_CHARS]
    candidate, n = text, 2
    while candidate.lower() in used:
        tail = f"~{n}"
        candidate = text[: _EXCEL_SHEET_CHARS - len(tail)] + tail
        n += 1
    used.add(candidate.lower())
    return candidate


def write_workbook(
    sheets: Mapping[str, pd.DataFrame],
    path: str | Path,
    *,
    index: bool = True,
    formats: Mapping[str, Mapping[Any, str]] | None = None,
) -> Path:
    r"""Write several tables to one Excel workbook, one sheet each.

    Parameters
    ----------
    sheets : mapping of str to DataFrame
        Sheet name → table, in the order the sheets should appear. Names may be Chinese; they
        are made valid for Excel: the characters ``[]:*?/\`` become ``_``, names are cut to
        31 characters, and names that then collide get ``~2``, ``~3`` … (Excel compares names
        case-insensitively).
    path : str or pathlib.Path
        Must end in ``.xlsx``. Parent folders are created.
    index : bool, default True
        Write each table's index as its first column.
    formats : mapping, optional
        Sheet name (as given in ``sheets``) → column → Excel number format, e.g.
        ``{"towns": {"area_m2": "#,##0.00", "share": "0.0%"}}``. The values stay numbers; only
        their display changes.

    Returns
    -------
    pathlib.Path

    Notes
    -----
    Each sheet has its header row frozen and its columns sized to their content as shown (in
    its number format; Chinese characters count double, at most 60 characters wide). Control characters Excel cannot
    store are removed from text cells, with a logged warning. Printed, a sheet is landscape
    A4 with its header row on every page; one up to 1.25 pages wide is shrunk to the page's
    width, a wider one repeats its first column on every page instead.
    """
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        msg = f"a workbook must be written to an .xlsx file, not {path.name}"
        raise InputFileError(msg)
    if not sheets:
        msg = f"no tables given for {path}; pass at least one sheet"
        raise InputFileError(msg)
    _mkparent(path)
    used: set[str] = set()
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, df in sheets.items():
            clean = _sheet_name(name, used)
            if clean != name:
                logger.info("sheet %r written as %r (Excel sheet name rules)", name, clean)
            _excel_ready(df, clean).to_excel(writer, sheet_name=clean, index=index)
            _tidy_sheet(writer.sheets[clean], df, index=index, formats=(formats or {}).get(name))
    return path
