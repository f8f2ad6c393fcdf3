"""Small HTML builders for the report: every value from the data goes through :func:`esc`.

Private helpers of :mod:`tongzhen_gis.report.html` (the page of :mod:`tongzhen_gis.report`).
Nothing here touches files; pages are strings.
"""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

#: A percentage written by the report (e.g. "55.56%"): right-aligned like the numbers.
_PERCENT = re.compile(r"-?[\d,.]+%")

_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;margin:2em auto;max-width:70em;
color:#222;line-height:1.45}
h1{font-size:1.6em;border-bottom:3px solid #8b1a1a;padding-bottom:.2em}
h2{font-size:1.3em;margin-top:2em;border-bottom:1px solid #bbb}
h3{font-size:1.05em;margin-top:1.4em}
table{border-collapse:collapse;margin:.6em 0;font-size:.86em}
th,td{border:1px solid #ccc;padding:.25em .5em;vertical-align:top;text-align:left}
th{background:#f3f0ea}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.pass{background:#e6f4e6}.fail{background:#fbe3e0}.missing{background:#fff5d6}.not_applicable{color:#888}
.grade{font-size:1.1em;font-weight:bold}.note{color:#555;font-size:.9em}
figure{display:inline-block;margin:.5em 1em .5em 0}figure img{max-width:100%;border:1px solid #ddd}
figcaption{font-size:.85em;color:#555}
"""


def esc(value: Any) -> str:
    """Text of a value, HTML-escaped (quotes included); NaN and None become an em dash."""
    return html.escape(fmt(value), quote=True)


def fmt(value: Any) -> str:
    """Readable text of a value: numbers with sensible precision, NaN/None as an em dash."""
    if value is None or value is pd.NA:
        return "—"
    if isinstance(value, bool | np.bool_):
        return "是" if value else "否"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        v = float(value)
        if math.isnan(v):
            return "—"
        if math.isinf(v):
            return "∞" if v > 0 else "−∞"
        if v == round(v) and abs(v) < 1e15:
            return f"{v:,.0f}"
        if abs(v) >= 1000:
            return f"{v:,.1f}"
        return f"{v:.4g}"
    return str(value)


def table(
    df: pd.DataFrame,
    *,
    headers: Mapping[str, str] | None = None,
    row_class: Iterable[str] | None = None,
    index: bool = False,
) -> str:
    """An HTML table of ``df``; column names are mapped through ``headers`` and escaped.

    Parameters
    ----------
    df : pandas.DataFrame
    headers : mapping, optional
        Column name → header text.
    row_class : iterable of str, optional
        A CSS class per row (e.g. the status), escaped.
    index : bool, default False
        Include the index as the first column.
    """
    if index:
        df = df.reset_index()
    headers = headers or {}
    head = "".join(f"<th>{esc(headers.get(c, c))}</th>" for c in df.columns)
    classes = list(row_class) if row_class is not None else [""] * len(df)
    body = []
    for cls, row in zip(classes, df.itertuples(index=False), strict=True):
        cells = []
        for v in row:
            num = (isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool | np.bool_)) or (
                isinstance(v, str) and _PERCENT.fullmatch(v) is not None
            )
            cells.append(f'<td class="num">{esc(v)}</td>' if num else f"<td>{esc(v)}</td>")
        attr = f' class="{esc(cls)}"' if cls else ""
        body.append(f"<tr{attr}>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def image(png: bytes, *, caption: str) -> str:
    """A figure with the PNG embedded as base64 (the page stays self-contained)."""
    data = base64.b64encode(png).decode("ascii")
    cap = esc(caption)
    return f'<figure><img alt="{cap}" src="data:image/png;base64,{data}"><figcaption>{cap}</figcaption></figure>'


def page(title: str, body: str) -> str:
    """A complete, self-contained HTML page (no external links, scripts or styles)."""
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>\n{body}\n</body></html>\n"
    )
