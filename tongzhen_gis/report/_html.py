"""Small HTML builders for the report: every value from the data goes through :func:`esc`.

Private helpers of :mod:`tongzhen_gis.report.html` (the page of :mod:`tongzhen_gis.report`).
Nothing here touches files; pages are strings.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Sequence
from typing import Any

from tongzhen_gis.report import _format

_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;margin:2em auto;max-width:70em;
color:#222;line-height:1.45}
h1{font-size:1.6em;border-bottom:3px solid #8b1a1a;padding-bottom:.2em}
h2{font-size:1.3em;margin-top:2em;border-bottom:1px solid #bbb}
h3{font-size:1.05em;margin-top:1.4em}
table{border-collapse:collapse;margin:.6em 0;font-size:.86em}
th,td{border:1px solid #ccc;padding:.25em .5em;vertical-align:top;text-align:left;overflow-wrap:anywhere}
th{background:#f3f0ea}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}td.word{white-space:nowrap}
.pass{background:#e6f4e6}.fail{background:#fbe3e0}.missing{background:#fff5d6}.review{background:#e4ecfa}.not_applicable{color:#888}
.grade{font-size:1.1em;font-weight:bold}.note{color:#555;font-size:.9em}
figure{display:inline-block;margin:.5em 1em .5em 0}figure img{max-width:100%;border:1px solid #ddd}
figcaption{font-size:.85em;color:#555}
.wide{overflow-x:auto;max-width:100%}
@media print{body{margin:0;max-width:none}.wide{overflow:visible}table{font-size:.72em}figure{break-inside:avoid}}
"""


# a short token of Latin letters and digits (a year, an id such as C1 or T12) is never broken in two
_SHORT_WORD = re.compile(r"[0-9A-Za-z_.:/-]{1,8}")


def esc(value: Any) -> str:
    """Text of a value, HTML-escaped (quotes included); NaN and None become an em dash."""
    return html.escape(fmt(value), quote=True)


def fmt(value: Any) -> str:
    """Readable text of a value (:func:`tongzhen_gis.report._format.cell`): never scientific notation, NaN as —."""
    return _format.cell(value)


def text_table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    numeric: Sequence[bool] = (),
    row_class: Sequence[str] = (),
) -> str:
    """An HTML table of cells already written as text; ``numeric`` columns are right-aligned."""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        cells = "".join(
            f'<td class="num">{esc(v)}</td>'
            if j < len(numeric) and numeric[j]
            else f'<td class="word">{esc(v)}</td>'
            if _SHORT_WORD.fullmatch(fmt(v))
            else f"<td>{esc(v)}</td>"
            for j, v in enumerate(row)
        )
        cls = row_class[i] if i < len(row_class) else ""
        attr = f' class="{esc(cls)}"' if cls else ""
        body.append(f"<tr{attr}>{cells}</tr>")
    return f'<div class="wide"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


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
