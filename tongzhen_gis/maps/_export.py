"""Writing a map as PNG, PDF or SVG (:func:`export`, re-exported as ``tz.maps.export``).

With ``page="A4"`` or ``"A3"`` the map is laid out on exactly that sheet (ISO 216), in either
orientation: the file is the whole page, never cropped to its content, and the map frame is
widened to the next round scale (1:N with N in 1, 2, 2.5, 5 × 10^k), printed beside the scale
bar, so the map prints true at 100 %. The figure is given back unchanged afterwards.
"""

from __future__ import annotations

import contextlib
import io as _bytes_io
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from tongzhen_gis.errors import InputFileError, OptionError

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

__all__ = ["EXPORT_FORMATS", "PAGE_SIZES_MM", "export", "page_size_mm"]

#: Formats :func:`export` writes, by file suffix.
EXPORT_FORMATS = {".png": "png", ".pdf": "pdf", ".svg": "svg"}
#: Paper sizes :func:`export` lays a map out on, (long side, short side) in mm (ISO 216).
PAGE_SIZES_MM = {"A4": (297.0, 210.0), "A3": (420.0, 297.0)}
_ORIENTATIONS = ("landscape", "portrait")
_NICE_STEPS = (1.0, 2.0, 2.5, 5.0)
_MM_PER_INCH = 25.4


def page_size_mm(page: str, orientation: str = "landscape") -> tuple[float, float]:
    """Width and height of a sheet in mm, e.g. ``page_size_mm("A3")`` → ``(420.0, 297.0)``.

    Parameters
    ----------
    page : {"A4", "A3"}
        Paper size (case-insensitive).
    orientation : {"landscape", "portrait"}, default "landscape"
        Landscape puts the long side across.

    Returns
    -------
    (float, float)
        Width and height in millimetres.

    Raises
    ------
    OptionError
        An unknown page or orientation.
    """
    size = PAGE_SIZES_MM.get(str(page).upper())
    if size is None:
        msg = f"unknown page {page!r}: use one of {sorted(PAGE_SIZES_MM)}"
        raise OptionError(msg, param="page")
    if orientation not in _ORIENTATIONS:
        msg = f"unknown orientation {orientation!r}: use 'landscape' or 'portrait'"
        raise OptionError(msg, param="orientation")
    long_mm, short_mm = size
    return (long_mm, short_mm) if orientation == "landscape" else (short_mm, long_mm)


def _nice_scale(denominator: float) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10^k not below ``denominator`` (so the frame only grows)."""
    power = 10.0 ** math.floor(math.log10(denominator))
    for step in (*_NICE_STEPS, 10.0):
        if step * power >= denominator * (1 - 1e-9):
            return step * power
    return 10.0 * power  # pragma: no cover - the loop always returns


def _map_axes(fig: Figure) -> Axes | None:
    """The axes holding a tongzhen_gis scale bar (a metric map), if any."""
    for ax in fig.axes:
        if any(a.get_gid() == "scale_bar" for a in ax.artists):
            return ax
    return None


def _scale_denominator(ax: Axes) -> float:
    """Ground metres per paper metre of ``ax`` as laid out now (its data unit is the metre)."""
    width_in = ax.get_window_extent().width / ax.figure.dpi
    x0, x1 = ax.get_xlim()
    return abs(x1 - x0) / (width_in * _MM_PER_INCH / 1000.0)


def _round_scale(ax: Axes) -> float:
    """Widen the frame about its centre to the next round scale; return that scale's N."""
    fig = ax.figure
    assert isinstance(fig, Figure)  # a SubFigure cannot be drawn on its own (and maps never make one)
    fig.draw_without_rendering()
    exact = _scale_denominator(ax)
    nice = _nice_scale(exact)
    factor = nice / exact
    for get, set_ in ((ax.get_xlim, ax.set_xlim), (ax.get_ylim, ax.set_ylim)):
        lo, hi = get()
        mid, half = (lo + hi) / 2.0, (hi - lo) / 2.0 * factor
        set_(mid - half, mid + half)
    return nice


def _scale_bar(ax: Axes):
    return next(a for a in ax.artists if a.get_gid() == "scale_bar")


@contextlib.contextmanager
def _on_page(fig: Figure, width_mm: float, height_mm: float, *, dpi: int, raster: bool, label: str) -> Iterator[None]:
    """Lay ``fig`` out on the sheet for one save; give it back as it was."""
    size = fig.get_size_inches().copy()
    ax = _map_axes(fig)
    limits = (ax.get_xlim(), ax.get_ylim()) if ax is not None else None
    bar = _scale_bar(ax) if ax is not None else None
    bar_label = (bar.label, bar.label_loc) if bar is not None else None
    if raster:  # whole pixels: the canvas is int(inches × dpi) wide, so land just above the rounded count
        width_in = (round(width_mm / _MM_PER_INCH * dpi) + 1e-3) / dpi
        height_in = (round(height_mm / _MM_PER_INCH * dpi) + 1e-3) / dpi
    else:
        width_in, height_in = width_mm / _MM_PER_INCH, height_mm / _MM_PER_INCH
    try:
        fig.set_size_inches(width_in, height_in)
        if ax is not None and bar is not None:
            # the note rides on the scale bar itself, on its right: "比例尺 1:N"
            bar.label = f"比例尺 1:{_round_scale(ax):,.0f} ({label}, 按原尺寸打印)"
            bar.label_loc = "right"
        fig.draw_without_rendering()
        drawn, sheet = fig.get_tightbbox(), fig.bbox_inches
        if drawn.x0 < -0.01 or drawn.y0 < -0.01 or drawn.x1 > sheet.x1 + 0.01 or drawn.y1 > sheet.y1 + 0.01:
            msg = f"the map does not fit on {label}: use a larger page or the other orientation"
            raise OptionError(msg, param="page")
        yield
    finally:
        if bar is not None and bar_label is not None:
            bar.label, bar.label_loc = bar_label
        if ax is not None and limits is not None:
            ax.set_xlim(*limits[0])
            ax.set_ylim(*limits[1])
        fig.set_size_inches(*size)


def export(
    fig: Figure,
    path: str | os.PathLike[str],
    *,
    dpi: int = 300,
    page: str | None = None,
    orientation: str = "landscape",
) -> Path:
    """Write a map as PNG, PDF or SVG (chosen by the file suffix), optionally on a whole sheet.

    PDF text stays text: fonts are embedded as TrueType/CID fonts (``pdf.fonttype`` 42) with a
    Unicode map, so the Chinese title and legend can be searched and copied. SVG text is written
    as outlines (``svg.fonttype`` "path"), so it looks the same on machines without the font.
    The figure is rendered to memory and written by :func:`tongzhen_gis.io.write_bytes`.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A map from this module (or any figure).
    path : str or path-like
        Ends in ``.png``, ``.pdf`` or ``.svg``; parent folders are created.
    dpi : int, default 300
        Resolution of PNG output (and of raster parts of PDF/SVG).
    page : {"A4", "A3"}, optional
        Lay the map out on exactly this sheet: a PNG is the whole page in pixels (A3 landscape
        at 300 dpi: 4961 × 3508), a PDF or SVG page has the paper's size. Nothing is cropped;
        the map frame widens to the next round scale, noted as "比例尺 1:N" beside the scale
        bar. None (default): the figure as it is, trimmed to what is drawn.
    orientation : {"landscape", "portrait"}, default "landscape"
        Orientation of ``page``.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    InputFileError
        The suffix is not one of ``.png``, ``.pdf``, ``.svg``.
    OptionError
        An unknown page or orientation, or a map (with its legend) that does not fit the page.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import matplotlib.image, matplotlib.pyplot as plt
    >>> import tongzhen_gis as tz
    >>> scene = tz.samples.sample_town()
    >>> fig, ax = tz.maps.landuse_map(scene.parcels, towns=scene.towns, source="示例数据")
    >>> png = tz.maps.export(fig, pathlib.Path(tempfile.mkdtemp()) / "a4.png", page="A4", dpi=100)
    >>> matplotlib.image.imread(png).shape[:2]  # 297 × 210 mm at 100 dpi
    (827, 1169)
    >>> plt.close(fig)
    """
    from tongzhen_gis import io

    target = Path(path)
    fmt = EXPORT_FORMATS.get(target.suffix.lower())
    if fmt is None:
        msg = f"cannot export a map to {target.name!r}: use a file name ending in .png, .pdf or .svg"
        raise InputFileError(msg)
    rc: dict[RcKeyType, Any] = {
        "pdf.fonttype": 42,
        "ps.fonttype": 42,
        "svg.fonttype": "path",
        "svg.hashsalt": "tongzhen_gis",
    }
    metadata = {
        "png": {"Software": "tongzhen_gis"},
        "pdf": {"Creator": "tongzhen_gis", "CreationDate": None},
        "svg": {"Creator": "tongzhen_gis", "Date": None},
    }[fmt]
    buffer = _bytes_io.BytesIO()
    import matplotlib

    if page is None:
        with matplotlib.rc_context(rc):
            fig.savefig(
                buffer, format=fmt, dpi=dpi, metadata=metadata, facecolor="white", bbox_inches="tight", pad_inches=0.1
            )
        return io.write_bytes(buffer.getvalue(), target)
    width_mm, height_mm = page_size_mm(page, orientation)
    label = f"{str(page).upper()} {'横向' if orientation == 'landscape' else '纵向'}"
    with (
        _on_page(fig, width_mm, height_mm, dpi=dpi, raster=fmt == "png", label=label),
        matplotlib.rc_context(rc),
    ):
        fig.savefig(buffer, format=fmt, dpi=dpi, metadata=metadata, facecolor="white")
    return io.write_bytes(buffer.getvalue(), target)
