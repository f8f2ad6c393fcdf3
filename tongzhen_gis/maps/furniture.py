"""The page every map shares: canvas, frame, title, legend, scale bar, north arrow, note, labels.

:func:`_canvas` opens a figure with the resolved Chinese font and the map CRS; the map modules
draw their layers on it and collect legend entries, notes and area labels in the
:class:`_Canvas`. :func:`_finish` then sets the frame and the automatic page size, and adds the
title, the legend, the scale bar, the north arrow, the note with the CRS and the data source and
the area labels (de-overlapped once the layout is known), and trims blank margins.

Chinese text uses the font found by :func:`tongzhen_gis.maps.fonts.resolve_font`; the figure is
built inside :func:`tongzhen_gis.maps.fonts.font_context` and every text artist carries the font
explicitly, so global ``matplotlib.rcParams`` are never changed.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from pyproj import CRS

from tongzhen_gis.errors import SchemaError
from tongzhen_gis.maps.fonts import ResolvedFont, font_context, font_properties, resolve_font

__all__ = ["UNKNOWN_SOURCE"]

#: Note printed when the caller does not name the data source.
UNKNOWN_SOURCE = "未注明 (请用 source= 注明)"

# A light box behind labels instead of a path-effect halo: path effects turn text into outlines,
# and a PDF's labels must stay searchable text.
_HALO_BOX = {"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.7}


@dataclass
class _Canvas:
    """A figure under construction: the font, the map CRS and the legend so far."""

    fig: Figure
    ax: Axes
    font: ResolvedFont
    crs: CRS
    handles: list[Artist] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    base_handles: list[Artist] = field(default_factory=list)
    #: Area labels ``(x, y, area_m2, text, colour)`` placed by :func:`_finish` once the layout is known.
    labels: list[tuple[float, float, float, str, str]] = field(default_factory=list)
    auto_size: bool = True

    def fp(self, size: float | str | None = None, weight: str | None = None):
        return font_properties(self.font, size=size, weight=weight)


@contextlib.contextmanager
def _canvas(
    main: gpd.GeoDataFrame, *, font: str | os.PathLike[str] | None, figsize: tuple[float, float] | None
) -> Iterator[_Canvas]:
    resolved = resolve_font(font)
    # The figure is created *before* entering the rc context: creating the first pyplot figure
    # loads the backend, and Jupyter's inline backend then switches interactive mode on in
    # rcParams; made inside the context, that switch would be undone on exit and later figures
    # would no longer show in the notebook. The empty title and axis labels made with the axes
    # get their font explicitly below.
    fig, ax = plt.subplots(figsize=figsize or (10.0, 6.0), layout="constrained")
    try:
        with font_context(resolved):
            yield _Canvas(fig=fig, ax=ax, font=resolved, crs=CRS.from_user_input(main.crs), auto_size=figsize is None)
    except BaseException:
        plt.close(fig)  # a map that failed half-way is not left open
        raise


def _extent(bounds: Sequence[float], pad: float = 0.06) -> tuple[float, float, float, float]:
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    if not np.all(np.isfinite([minx, miny, maxx, maxy])):
        msg = "nothing to map: the main layer is empty or has only empty geometries; pass a layer with features"
        raise SchemaError(msg, [msg])
    span = max(maxx - minx, maxy - miny, 1.0)
    return minx - pad * span, miny - pad * span, maxx + pad * span, maxy + pad * span


def _crs_label(crs: CRS) -> str:
    epsg = crs.to_epsg()
    return f"{crs.name} (EPSG:{epsg})" if epsg else crs.name


def _view(extent: Sequence[float] | None, data_bounds: Sequence[float]) -> tuple[float, float, float, float]:
    """The map frame: ``extent`` as given, else the data bounds with a margin."""
    if extent is None:
        return _extent(data_bounds)
    minx, miny, maxx, maxy = (float(v) for v in extent)
    return minx, miny, maxx, maxy


def _finish(
    c: _Canvas,
    *,
    title: str,
    legend_title: str | None,
    source: str | None,
    extent: Sequence[float] | None,
    data_bounds: Sequence[float],
) -> tuple[Figure, Axes]:
    """Title, legend, scale bar, north arrow, note and area labels; set the extent; return ``(fig, ax)``.

    With the automatic size the figure is 10 inches wide and its height follows the map's shape;
    once laid out, blank margins around the map, legend and note are trimmed off, so a wide map
    is not framed by empty paper (in a notebook, a report or a file written without cropping).
    The steps run in this order (it is also the drawing order of artists at equal z-order).
    """
    _frame(c, _view(extent, data_bounds), title)
    _legend(c, legend_title)
    _scale_bar(c)
    _north_arrow(c)
    _note(c, source)
    if c.auto_size:
        _fit_legend(c)
    if c.labels:
        c.fig.draw_without_rendering()  # lay the figure out, so label sizes are known
        _place_labels(c, c.labels)
    if c.auto_size:
        _trim(c.fig)
    return c.fig, c.ax


def _frame(c: _Canvas, view: tuple[float, float, float, float], title: str) -> None:
    """Set the map frame (and, with the automatic size, the page height), hide the axes, add the title."""
    ax = c.ax
    minx, miny, maxx, maxy = view
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    if c.auto_size:
        aspect = (maxy - miny) / max(maxx - minx, 1e-9)
        c.fig.set_size_inches(10.0, float(np.clip(6.8 * aspect + 1.6, 3.0, 11.0)))
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_title(title, fontproperties=c.fp(size=14))


def _legend(c: _Canvas, legend_title: str | None) -> None:
    """The map's own legend entries, then the base layers', to the right of the map (none when empty)."""
    handles = c.handles + c.base_handles
    if handles:
        c.ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1.02, 1.0),
            borderaxespad=0.0,
            frameon=False,
            title=legend_title,
            prop=c.fp(size=9),
            title_fontproperties=c.fp(size=10),
            alignment="left",
        )


def _scale_bar(c: _Canvas) -> None:
    """A metric scale bar, lower left (the map CRS is metric: one data unit is one metre)."""
    from matplotlib_scalebar.scalebar import ScaleBar

    bar = ScaleBar(
        1.0,
        units="m",
        dimension="si-length",
        location="lower left",
        box_alpha=0.75,
        font_properties={"family": c.font.families, "size": 8},
    )
    bar.set_gid("scale_bar")
    c.ax.add_artist(bar)


def _north_arrow(c: _Canvas) -> None:
    """An arrow to grid north with an "N", upper right."""
    c.ax.annotate(
        "",
        xy=(0.95, 0.91),
        xytext=(0.95, 0.80),
        xycoords="axes fraction",
        arrowprops={"facecolor": "black", "edgecolor": "black", "width": 3, "headwidth": 10, "headlength": 10},
        gid="north_arrow",
        zorder=20,
    )
    c.ax.text(
        0.95,
        0.915,
        "N",
        transform=c.ax.transAxes,
        ha="center",
        va="bottom",
        fontproperties=c.fp(size=12),
        gid="north_arrow_label",
        zorder=20,
        bbox=_HALO_BOX,
    )


def _note(c: _Canvas, source: str | None) -> None:
    """The note under the map: coordinate system, data source, then the map's own notes."""
    lines = [f"坐标系: {_crs_label(c.crs)}", f"数据来源: {source or UNKNOWN_SOURCE}", *c.notes]
    c.ax.text(
        0.0,
        -0.02,
        "\n".join(lines),
        transform=c.ax.transAxes,
        ha="left",
        va="top",
        fontproperties=c.fp(size=7),
        color="#404040",
        gid="source_note",
    )


def _fit_legend(c: _Canvas) -> None:
    """Make the page tall enough for the legend, which hangs from the map's top edge.

    Without room, the constrained layout would shrink the map instead.
    """
    legend = c.ax.get_legend()
    if legend is None:
        return
    c.fig.draw_without_rendering()
    width, height = c.fig.get_size_inches()
    needed = legend.get_window_extent().height / c.fig.dpi + 0.7
    if needed > height:
        c.fig.set_size_inches(width, needed)


def _trim(fig: Figure, *, pad_in: float = 0.12) -> None:
    """Shrink the figure to what is drawn (plus ``pad_in``); it never grows."""
    for _ in range(2):  # the constrained layout settles after one resize; the second pass checks
        fig.draw_without_rendering()
        tight = fig.get_tightbbox()
        width, height = fig.get_size_inches()
        new_width = min(width, tight.width + 2 * pad_in)
        new_height = min(height, tight.height + 2 * pad_in)
        if width - new_width < 0.05 and height - new_height < 0.05:
            return
        fig.set_size_inches(new_width, new_height)


def _label(
    c: _Canvas, x: float, y: float, text: str, *, size: float = 8, colour: str = "black", gid: str, va: str = "center"
) -> Artist:
    return c.ax.text(
        x,
        y,
        text,
        ha="center",
        va=va,
        fontproperties=c.fp(size=size),
        color=colour,
        bbox=_HALO_BOX,
        zorder=15,
        gid=gid,
        clip_on=True,
    )


def _place_labels(c: _Canvas, labels: list[tuple[float, float, float, str, str]]) -> None:
    """Write the labels, largest patch first, stacking those that would overlap.

    A label that would overlap one already written is added to that one (black text, one line
    pair per patch) instead of being printed over it. Needs the figure laid out
    (``draw_without_rendering``), so sizes on the page are known.
    """
    placed: list[tuple[Any, Any]] = []  # (text artist, its box on the page)
    for x, y, _area, text, colour in labels:
        artist = _label(c, x, y, text, size=7.5, colour=colour, gid="conflict_label")
        extent = artist.get_window_extent()
        for i, (other, other_extent) in enumerate(placed):
            if extent.overlaps(other_extent):
                artist.remove()
                other.set_text(f"{other.get_text()}\n{text}")
                other.set_color("black")
                placed[i] = (other, other.get_window_extent())
                break
        else:
            placed.append((artist, extent))
