"""Maps for a report page: ``tz.maps.export(fig, path, page=..., orientation=...)``.

The file is exactly the sheet (ISO 216 sizes, rounded to whole pixels for PNG), never cropped
to its content, and the "比例尺 1:N" printed beside the scale bar is the scale the map really
has on paper: the scale bar measured in the PNG's pixels, at that N, is a round ground length.
"""

from __future__ import annotations

import re
from collections import Counter

import matplotlib.image
import matplotlib.pyplot as plt
import numpy as np
import pytest

import tongzhen_gis as tz
from tongzhen_gis.errors import OptionError

MM_PER_INCH = 25.4
# ISO 216, written out here rather than read from the code under test
SHEETS_MM = {("A4", "landscape"): (297, 210), ("A4", "portrait"): (210, 297), ("A3", "landscape"): (420, 297)}
SHEETS_MM[("A3", "portrait")] = (297, 420)


@pytest.fixture
def lines_map(scene):
    result = tz.controllines.check(
        scene.towns, red_line=scene.red_line, farmland=scene.farmland, urban_boundary=scene.urban_boundary
    )
    fig, ax = tz.maps.control_lines_map(
        scene.towns,
        red_line=scene.red_line,
        farmland=scene.farmland,
        urban_boundary=scene.urban_boundary,
        conflicts=result.conflicts,
        source="示例小镇",
    )
    yield fig, ax
    plt.close(fig)


def test_a3_landscape_at_300_dpi_is_4961_by_3508_pixels(lines_map, tmp_path):
    fig, _ = lines_map
    png = tz.maps.export(fig, tmp_path / "a3.png", page="A3", orientation="landscape", dpi=300)
    assert matplotlib.image.imread(png).shape[:2] == (3508, 4961)


@pytest.mark.parametrize(("page", "orientation"), list(SHEETS_MM), ids=lambda v: str(v))
def test_png_is_the_whole_sheet(lines_map, tmp_path, page, orientation):
    fig, _ = lines_map
    dpi = 72
    png = tz.maps.export(fig, tmp_path / "map.png", page=page, orientation=orientation, dpi=dpi)
    width_mm, height_mm = SHEETS_MM[(page, orientation)]
    expected = (round(height_mm / MM_PER_INCH * dpi), round(width_mm / MM_PER_INCH * dpi))
    assert matplotlib.image.imread(png).shape[:2] == expected


@pytest.mark.parametrize(("page", "orientation"), list(SHEETS_MM), ids=lambda v: str(v))
def test_pdf_page_is_the_sheet(lines_map, tmp_path, page, orientation):
    fig, _ = lines_map
    pdf = tz.maps.export(fig, tmp_path / "map.pdf", page=page, orientation=orientation)
    box = re.search(rb"/MediaBox \[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf.read_bytes())
    width_mm, height_mm = SHEETS_MM[(page, orientation)]
    assert float(box.group(1)) == pytest.approx(width_mm / MM_PER_INCH * 72, abs=0.01)
    assert float(box.group(2)) == pytest.approx(height_mm / MM_PER_INCH * 72, abs=0.01)


def _scale_bar_px(image: np.ndarray) -> int:
    """Length in pixels of the thick black bar: the same long black run repeated on many rows."""
    black = (image[..., :3] < 0.15).all(axis=-1)
    runs: Counter[tuple[int, int]] = Counter()
    for row in black:
        padded = np.concatenate([[False], row, [False]])
        edges = np.flatnonzero(padded[1:] != padded[:-1])
        for start, end in zip(edges[::2], edges[1::2], strict=True):
            if end - start > 50:
                runs[(int(start), int(end))] += 1
    (start, end), rows = max(runs.items(), key=lambda item: (item[1], item[0][1] - item[0][0]))
    assert rows >= 5, "no scale bar found"
    return end - start


def test_scale_note_is_the_true_scale_on_paper(lines_map, tmp_path):
    fig, _ = lines_map
    dpi = 150
    pdf = tz.maps.export(fig, tmp_path / "a3.pdf", page="A3")
    from test_maps import pdf_text

    note = re.search(r"比例尺 1:([\d,]+)", pdf_text(pdf.read_bytes()))
    assert note, "the page carries a 1:N note"
    denominator = int(note.group(1).replace(",", ""))
    mantissa = denominator / 10 ** np.floor(np.log10(denominator))
    assert mantissa in (1.0, 2.0, 2.5, 5.0)
    png = tz.maps.export(fig, tmp_path / "a3.png", page="A3", dpi=dpi)
    bar_mm = _scale_bar_px(matplotlib.image.imread(png)) / dpi * MM_PER_INCH
    ground_m = bar_mm / 1000 * denominator
    # matplotlib-scalebar draws a round length (1, 2, 5 × 10^k m); at the noted scale the bar
    # measured on the page must be that length, within a pixel at each end
    nice = 10 ** np.floor(np.log10(ground_m)) * np.array([1, 2, 2.5, 5, 10])
    closest = nice[np.argmin(abs(nice - ground_m))]
    assert ground_m == pytest.approx(closest, abs=2 / dpi * MM_PER_INCH / 1000 * denominator)


def test_the_figure_is_given_back_unchanged(lines_map, tmp_path):
    fig, ax = lines_map
    size, xlim, ylim = fig.get_size_inches().copy(), ax.get_xlim(), ax.get_ylim()
    texts = [t.get_text() for t in ax.texts]
    tz.maps.export(fig, tmp_path / "a4.png", page="A4", orientation="portrait", dpi=50)
    assert np.allclose(fig.get_size_inches(), size)
    assert ax.get_xlim() == xlim
    assert ax.get_ylim() == ylim
    assert [t.get_text() for t in ax.texts] == texts


def test_nothing_is_cropped(lines_map, tmp_path):
    # the page's bottom-right corner is paper (white), not map content cut at the edge
    fig, _ = lines_map
    png = tz.maps.export(fig, tmp_path / "a4.png", page="A4", dpi=60)
    image = matplotlib.image.imread(png)
    assert (image[-3:, :, :3] > 0.99).all()
    assert (image[:, -3:, :3] > 0.99).all()


def test_without_a_page_the_map_is_trimmed_as_before(lines_map, tmp_path):
    fig, _ = lines_map
    png = tz.maps.export(fig, tmp_path / "map.png", dpi=50)
    height, width = matplotlib.image.imread(png).shape[:2]
    assert (height, width) != (round(210 / MM_PER_INCH * 50), round(297 / MM_PER_INCH * 50))


@pytest.mark.parametrize(
    ("kwargs", "param"), [({"page": "B5"}, "page"), ({"page": "A4", "orientation": "up"}, "orientation")]
)
def test_unknown_page_or_orientation_is_refused(lines_map, tmp_path, kwargs, param):
    fig, _ = lines_map
    with pytest.raises(OptionError) as info:
        tz.maps.export(fig, tmp_path / "map.png", **kwargs)
    assert info.value.param == param
