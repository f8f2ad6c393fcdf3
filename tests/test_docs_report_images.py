"""The first pages of the report shown in docs/report.md, and the by-hand tool that makes them.

The images are committed (``python tools/render_report_pages.py`` needs Chromium and
LibreOffice, which CI does not have): these tests only check that they are there, are real
PNGs with a page's proportions, are shown on the page, and that the tool stops with a clear
message (exit 2) when a program is missing.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path

import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
IMAGES = REPO / "docs" / "images"
TOOL = REPO / "tools" / "render_report_pages.py"
A4 = 297 / 210  # height / width of an A4 page


def _tool():
    spec = importlib.util.spec_from_file_location("render_report_pages", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("name", "ratio"),
    [
        ("report-docx-page1.png", A4),  # page 1 of the Word file: A4 portrait
        ("report-xlsx-page1.png", 1 / A4),  # sheet 汇总 prints landscape A4
        ("report-html-page1.png", 900 / 1280),  # the first screen, tz.io.screenshot's 1280 × 900 window
    ],
)
def test_each_first_page_is_a_real_png_with_a_page_s_proportions(name, ratio):
    path = IMAGES / name
    assert path.is_file(), f"{path} missing: run python tools/render_report_pages.py"
    assert path.stat().st_size < 250_000  # kept small in the repository
    with Image.open(path) as image:
        assert image.format == "PNG"
        image.load()  # decodes every pixel
        width, height = image.size
        assert width >= 600
        assert height / width == pytest.approx(ratio, rel=0.05)
        # a rendered page, not a blank one: some dark text on a light background
        grey = image.convert("L")
        dark = sum(grey.histogram()[:100])
        assert 0 < dark < 0.2 * width * height


def test_docs_report_page_shows_the_three_images():
    text = (REPO / "docs" / "report.md").read_text(encoding="utf-8")
    shown = re.findall(r"!\[[^\]]+\]\(images/([^)]+)\)", text)
    assert sorted(shown) == sorted(_tool().NAMES.values())
    assert "python tools/render_report_pages.py" in text


def test_the_tool_names_the_missing_programs_and_exits_2(monkeypatch, tmp_path, capsys):
    tool = _tool()
    monkeypatch.delenv("TONGZHEN_CHROMIUM", raising=False)
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    assert tool.main(["--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    for program, fix in (
        ("chromium", "apt-get install chromium"),
        ("soffice", "libreoffice-writer-nogui"),
        ("pdftoppm", "poppler-utils"),
    ):
        line = next(ln for ln in err.splitlines() if ln.startswith(f"missing program: {program};"))
        assert fix in line
    assert not list(tmp_path.iterdir())  # nothing written


def test_the_tool_names_only_what_is_missing(monkeypatch, tmp_path, capsys):
    tool = _tool()
    monkeypatch.delenv("TONGZHEN_CHROMIUM", raising=False)
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None if name == "pdftoppm" else f"/usr/bin/{name}")
    assert tool.main(["--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "missing program: pdftoppm" in err and "chromium" not in err and "soffice" not in err
