"""The Word file ``report.docx`` of :mod:`tongzhen_gis.report`: the blocks of :mod:`~tongzhen_gis.report.content`.

Built with python-docx (no Word needed) from the same blocks as the page, so both say the
same thing: a cover (title, date, version, rule set) and a table of contents field, headings in
Word's own heading styles (``Heading 1``/``Heading 2``, so Word's 引用 → 目录 and the navigation
pane work), editable tables (style ``Table Grid``, header row repeated on each page, numbers
right-aligned, each column as wide as its content asks; a table of more than eleven columns
on landscape pages, with its heading) and the maps as pictures with captions. Chinese text is set in a CJK font
(宋体 for the body, 黑体 for headings) through the East-Asian font slot.

Returns the file's bytes; :func:`tongzhen_gis.report.build` writes them through
:mod:`tongzhen_gis.io`.
"""

from __future__ import annotations

import io as _bytes
import unicodedata
from collections.abc import Sequence

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from tongzhen_gis.report import content as C

#: East-Asian fonts of the body and of the headings (present on every Chinese Windows/WPS).
BODY_FONT_ZH = "宋体"
HEADING_FONT_ZH = "黑体"

#: Width of a map picture on the page.
_PICTURE_WIDTH = Cm(15.5)
#: A part (a heading and what follows it) holding a table of more columns is set on landscape pages.
_PORTRAIT_MAX_COLUMNS = 11
#: Width of a text character in a table (8 pt, digits of the widest usual font; a CJK character counts two) and a cell's
#: left plus right padding, in cm: what a column needs to show its widest cell on one line.
_CHAR_CM = 0.19
_CELL_PAD_CM = 0.5
#: A column never asks for more than this many characters per line: longer text wraps.
_COLUMN_MAX_CHARS = 40


def _east_asian(style_or_run, font: str) -> None:
    """Set the East-Asian font of a style or run (python-docx sets only the Latin one)."""
    rpr = style_or_run.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), font)


def _setup(doc) -> None:
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)  # A4
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Cm(2.0))
    normal = doc.styles["Normal"]
    normal.font.size = Pt(10.5)
    _east_asian(normal, BODY_FONT_ZH)
    for name in ("Title", "Heading 1", "Heading 2", "Heading 3"):
        _east_asian(doc.styles[name], HEADING_FONT_ZH)


def _toc(doc) -> None:
    """A table-of-contents field over the heading styles; Word fills it on 更新域 (F9)."""
    doc.add_heading("目录", level=1)
    run = doc.add_paragraph().add_run()
    for tag, text in (("begin", None), (None, 'TOC \\o "1-2" \\h \\z \\u'), ("separate", None)):
        if tag is not None:
            fld = OxmlElement("w:fldChar")
            fld.set(qn("w:fldCharType"), tag)
            run._r.append(fld)
        else:
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run._r.append(instr)
    run.add_text("右键点击此处选择“更新域”以生成目录。")
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    run._r.append(end)


def _cover(doc, block: C.Cover) -> None:
    for _ in range(6):
        doc.add_paragraph()
    title = doc.add_paragraph(block.title, style="Title")
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for line in block.lines:
        p = doc.add_paragraph(line)
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    _toc(doc)
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def _repeat_header(row) -> None:
    props = row._tr.get_or_add_trPr()
    flag = OxmlElement("w:tblHeader")
    flag.set(qn("w:val"), "true")
    props.append(flag)


def _chars(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _column_widths_cm(block: C.Table, total_cm: float) -> list[float]:
    """Widths of a table's columns that add up to ``total_cm``.

    Each column asks for its widest cell on one line (at most :data:`_COLUMN_MAX_CHARS`; a
    header may wrap onto two lines). When all fit, the spare width is shared in proportion;
    when not, the narrow columns get what they ask and the wide ones share the rest equally
    (max-min fair), so a year never wraps ("20 / 23") beside a column of long town lists.
    Without widths, Word and LibreOffice give every column the same width.
    """
    asks = []
    for j, head in enumerate(block.header):
        widest = max([(_chars(head) + 1) // 2, *(_chars(row[j]) for row in block.rows if j < len(row))])
        asks.append(_CELL_PAD_CM + _CHAR_CM * min(widest, _COLUMN_MAX_CHARS))
    if sum(asks) <= total_cm:
        return [total_cm * a / sum(asks) for a in asks]
    widths = [0.0] * len(asks)
    left = total_cm
    order = sorted(range(len(asks)), key=asks.__getitem__)
    for k, j in enumerate(order):
        widths[j] = min(asks[j], left / (len(asks) - k))
        left -= widths[j]
    return widths


def _text_width_cm(doc) -> float:
    section = doc.sections[-1]
    return (section.page_width - section.left_margin - section.right_margin) / Cm(1)


def _section(doc, orientation: str) -> None:
    """Start a new page in ``orientation`` (``portrait`` or ``landscape``), A4, the same margins."""
    section = doc.add_section(WD_SECTION.NEW_PAGE)
    portrait = orientation == "portrait"
    section.orientation = WD_ORIENT.PORTRAIT if portrait else WD_ORIENT.LANDSCAPE
    short, long = Cm(21.0), Cm(29.7)
    section.page_width, section.page_height = (short, long) if portrait else (long, short)


def _table(doc, block: C.Table) -> None:
    table = doc.add_table(rows=1 + len(block.rows), cols=len(block.header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for column, width_cm in zip(table.columns, _column_widths_cm(block, _text_width_cm(doc)), strict=True):
        column.width = Cm(width_cm)
        for cell in column.cells:  # Word reads the cells' widths, LibreOffice the grid's
            cell.width = Cm(width_cm)
    _repeat_header(table.rows[0])
    for j, text in enumerate(block.header):
        cell = table.rows[0].cells[j]
        cell.text = text
        for run in cell.paragraphs[0].runs:
            run.bold = True
            run.font.size = Pt(8)
    for i, row in enumerate(block.rows, start=1):
        for j, text in enumerate(row):
            cell = table.rows[i].cells[j]
            cell.text = text
            par = cell.paragraphs[0]
            if j < len(block.numeric) and block.numeric[j]:
                par.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            for run in par.runs:
                run.font.size = Pt(8)
                if block.row_class and block.row_class[i - 1] == "fail":
                    run.font.color.rgb = RGBColor(0xA0, 0x10, 0x10)
    doc.add_paragraph()


def _block(doc, block: C.Block) -> None:
    if isinstance(block, C.Cover):
        _cover(doc, block)
    elif isinstance(block, C.Heading):
        doc.add_heading(block.text, level=min(block.level, 3))
    elif isinstance(block, C.Para):
        p = doc.add_paragraph(block.text)
        if block.kind == "note":
            for run in p.runs:
                run.font.size = Pt(9)
                run.font.color.rgb = RGBColor(0x55, 0x55, 0x55)
        elif block.kind == "grade":
            for run in p.runs:
                run.bold = True
    elif isinstance(block, C.Table):
        _table(doc, block)
    elif isinstance(block, C.Figure):
        doc.add_picture(_bytes.BytesIO(block.png), width=_PICTURE_WIDTH)
        doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
        doc.add_paragraph(block.caption, style="Caption").alignment = WD_ALIGN_PARAGRAPH.CENTER
    elif isinstance(block, C.Bullets):
        for item in block.items:
            doc.add_paragraph(item, style="List Bullet")
    else:  # pragma: no cover
        raise TypeError(type(block).__name__)


def _parts(blocks: Sequence[C.Block]) -> list[list[C.Block]]:
    """The blocks cut before each heading: a part turns landscape as a whole, so a heading stays with its table."""
    parts: list[list[C.Block]] = [[]]
    for block in blocks:
        if isinstance(block, C.Heading) and parts[-1]:
            parts.append([])
        parts[-1].append(block)
    return parts


def render(title: str, blocks: Sequence[C.Block]) -> bytes:
    """The Word file of ``blocks`` as bytes (``.docx``).

    Parameters
    ----------
    title : str
        Document title (also the file's core property ``title``).
    blocks : sequence of Block
        From :func:`tongzhen_gis.report.content.report_blocks`.

    Returns
    -------
    bytes
    """
    doc = Document()
    _setup(doc)
    doc.core_properties.title = title
    doc.core_properties.author = "tongzhen_gis"
    orientation = "portrait"
    for part in _parts(blocks):
        wide = any(isinstance(b, C.Table) and len(b.header) > _PORTRAIT_MAX_COLUMNS for b in part)
        if orientation != ("landscape" if wide else "portrait"):
            orientation = "landscape" if wide else "portrait"
            _section(doc, orientation)
        for block in part:
            _block(doc, block)
    buffer = _bytes.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
