"""The page ``report.html`` of :mod:`tongzhen_gis.report`: the blocks of :mod:`~tongzhen_gis.report.content` as HTML.

What the report says is decided in :mod:`tongzhen_gis.report.content` (shared with the Word
file); this module only writes it as one self-contained page with the escaped builders of
:mod:`tongzhen_gis.report._html`. Returns text; the caller writes it.
"""

from __future__ import annotations

from collections.abc import Sequence

from tongzhen_gis.report import _html as H
from tongzhen_gis.report import content as C


def _block_html(block: C.Block) -> str:
    e = H.esc
    if isinstance(block, C.Cover):
        lines = "".join(f'<p class="note">{e(line)}</p>' for line in block.lines)
        return f'<header class="cover"><h1>{e(block.title)}</h1>{lines}</header>'
    if isinstance(block, C.Heading):
        level = min(block.level + 1, 4)
        return f"<h{level}>{e(block.text)}</h{level}>"
    if isinstance(block, C.Para):
        cls = f' class="{e(block.kind)}"' if block.kind else ""
        return f"<p{cls}>{e(block.text)}</p>"
    if isinstance(block, C.Table):
        return H.text_table(block.header, block.rows, numeric=block.numeric, row_class=block.row_class)
    if isinstance(block, C.Figure):
        return H.image(block.png, caption=block.caption)
    if isinstance(block, C.Bullets):
        return "<ul>" + "".join(f"<li>{e(item)}</li>" for item in block.items) + "</ul>"
    raise TypeError(type(block).__name__)  # pragma: no cover


def render(title: str, blocks: Sequence[C.Block]) -> str:
    """The page of ``blocks``: one self-contained HTML document."""
    return H.page(title, "\n".join(_block_html(b) for b in blocks))
