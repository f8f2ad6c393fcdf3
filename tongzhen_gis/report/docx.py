"""The Word file ``report.docx`` of :mod:`tongzhen_gis.report`: the blocks of :mod:`~tongzhen_gis.report.content`.

Built with python-docx (no Word needed) from the same blocks as the page, so both say the
same thing: a cover (title, date, version, rule set) and a table of contents field, headings in
Word's own heading styles (``Heading 1``/``Heading 2``, so Word's 引用 → 目录 and the navigation
pane work), editable tables (style ``Table Grid``, header row repeated on each page, numbers
right-aligned) and the maps as pictures with captions. Chinese text is set in a CJK font
(宋体 for the body, 黑体 for headings) through the East-Asian font slot.

Returns the file's bytes; :func:`tongzhen_gis.report.build` writes them through
:mod:`tongzhen_gis.io`.
"""

from __future__ import annotations

import io as _bytes
from collections.abc import Sequence

from docx import Document
from docx.enum.section import WD_ORIENT
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


def _table(doc, block: C.Table) -> None:
    table = doc.add_table(rows=1 + len(block.rows), cols=len(block.header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
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
    for block in blocks:
        _block(doc, block)
    buffer = _bytes.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
