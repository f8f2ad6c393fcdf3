"""The page every map shares: canvas, frame, title, legend, scale bar, north arrow, note, labels.

:func:`_canvas` opens a figure with the resolved Chinese font and the map CRS; the map modules
draw their layers on it and collect legend entries, notes and area labels in the
:class:`_Canvas`. :func:`_finish` then sets the frame and the automatic page size, and adds the
title, the legend (right of the frame, never over the map), the scale bar and the north arrow
(in the two emptiest corners of the frame, found by :func:`_emptiest_corners` on a quick render
of what is drawn), the note with the CRS and the data source and the area labels
(de-overlapped once the layout is known), and trims blank margins.

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
    #: Geometries behind a legend entry (by ``id`` of the handle): the entry stays only when one is in the frame.
    drawn: dict[int, Any] = field(default_factory=dict)
    #: Layers given but with nothing in the frame, named in the note ("图内无: …") instead of the legend.
    absent: list[str] = field(default_factory=list)
    #: Names of roads and water bodies for orientation ``(priority, x, y, angle_deg, text, colour)``,
    #: placed by :func:`_place_context_labels` (most important first, none over another).
    context_labels: list[tuple[float, float, float, float, str, str]] = field(default_factory=list)

    def add_handle(self, handle: Artist, geoms: Any = None, *, base: bool = False) -> None:
        """A legend entry; with ``geoms`` (the drawn geometries) it is kept only if one of them is in the frame."""
        (self.base_handles if base else self.handles).append(handle)
        if geoms is not None:
            self.drawn[id(handle)] = np.asarray(geoms, dtype=object)

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
    dminx, dminy, dmaxx, dmaxy = (float(v) for v in data_bounds)
    if not (minx < maxx and miny < maxy) or maxx < dminx or minx > dmaxx or maxy < dminy or miny > dmaxy:
        # e.g. a frame in degrees for a map drawn in metres: it would render nothing, or crash FreeType
        msg = (
            f"extent=({minx:g}, {miny:g}, {maxx:g}, {maxy:g}) does not overlap the map's data "
            f"({dminx:.0f}, {dminy:.0f}, {dmaxx:.0f}, {dmaxy:.0f}); give it in the map's metric CRS "
            "(tz.crs.measuring_crs of the main layer), as (minx, miny, maxx, maxy)"
        )
        raise SchemaError(msg, [msg], param="extent")
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
    view = _view(extent, data_bounds)
    _frame(c, view, title)
    _only_in_frame(c, view)
    _legend(c, legend_title)
    arrow_corner, bar_corner = _emptiest_corners(c)
    _scale_bar(c, bar_corner)
    _north_arrow(c, arrow_corner)
    _note(c, source)
    if c.auto_size:
        _fit_legend(c)
    if c.labels:
        c.fig.draw_without_rendering()  # lay the figure out, so label sizes are known
        _place_labels(c, c.labels)
    if c.context_labels:  # last: road and water names give way to every other text
        c.fig.draw_without_rendering()
        _place_context_labels(c, view)
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


def _only_in_frame(c: _Canvas, view: Sequence[float]) -> None:
    """Drop the legend entries of layers with nothing in the frame; the note names them ("图内无")."""
    import shapely

    frame = shapely.box(*view)
    for handles in (c.handles, c.base_handles):
        for handle in list(handles):
            geoms = c.drawn.get(id(handle))
            if geoms is None:
                continue
            valid = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))] if len(geoms) else geoms
            if not len(valid) or not shapely.intersects(valid, frame).any():
                handles.remove(handle)
                c.absent.append(str(handle.get_label()))
    if c.absent:
        c.notes.append(f"图内无: {'、'.join(dict.fromkeys(c.absent))}")


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


#: The corners of the frame, in the order preferred when several are equally empty.
_CORNERS = ("upper right", "lower left", "lower right", "upper left")
#: Room the north arrow and the scale bar take in a corner, as fractions of the frame (width, height).
_ARROW_BOX = (0.10, 0.20)
_BAR_BOX = (0.30, 0.10)
#: Resolution of the quick render that finds the empty corners.
_PROBE_DPI = 40


def _ink(c: _Canvas) -> np.ndarray:
    """Which pixels of the frame carry something (a low-resolution render of the map so far, top row first)."""
    import io

    buffer = io.BytesIO()
    c.fig.savefig(buffer, format="rgba", dpi=_PROBE_DPI)
    width, height = (round(v * _PROBE_DPI) for v in c.fig.get_size_inches())
    rgba = np.frombuffer(buffer.getvalue(), dtype=np.uint8)
    if rgba.size != width * height * 4:  # pragma: no cover - matplotlib rounds sizes the same way
        return np.zeros((1, 1), dtype=bool)
    image = rgba.reshape(height, width, 4)
    box = c.ax.get_window_extent().transformed(c.fig.dpi_scale_trans.inverted())  # inches
    x0, x1 = (round(v * _PROBE_DPI) for v in (box.x0, box.x1))
    y0, y1 = (height - round(v * _PROBE_DPI) for v in (box.y1, box.y0))
    frame = image[max(y0 + 2, 0) : max(y1 - 2, 0), max(x0 + 2, 0) : max(x1 - 2, 0), :3]
    return np.asarray((frame < 245).any(axis=2))


def _corner_ink(ink: np.ndarray, corner: str, size: tuple[float, float]) -> float:
    """Share of the pixels of ``corner`` (a box of ``size`` frame fractions) that carry something."""
    rows, cols = ink.shape
    h, w = max(round(size[1] * rows), 1), max(round(size[0] * cols), 1)
    vertical, horizontal = corner.split()
    part = ink[:h] if vertical == "upper" else ink[rows - h :]
    part = part[:, cols - w :] if horizontal == "right" else part[:, :w]
    return float(part.mean()) if part.size else 0.0


def _emptiest_corners(c: _Canvas) -> tuple[str, str]:
    """The corners for the north arrow and the scale bar: two different corners covering the least drawn.

    The map as drawn so far (features, base layers, labels) is rendered at low resolution, and
    each pair of corners is scored by the share of non-blank pixels under the arrow's box and
    the bar's box; ties keep the usual places (arrow upper right, scale bar lower left).
    """
    ink = _ink(c)
    if ink.size <= 1:
        return _CORNERS[0], _CORNERS[1]
    arrow = {k: _corner_ink(ink, k, _ARROW_BOX) for k in _CORNERS}
    bar = {k: _corner_ink(ink, k, _BAR_BOX) for k in _CORNERS}
    pairs = [(a, b) for a in _CORNERS for b in _CORNERS if a != b]
    # among equally empty pairs: the arrow at the top, the bar at the bottom, then the usual corners
    return min(
        pairs,
        key=lambda p: (
            round(arrow[p[0]] + bar[p[1]], 3),
            (not p[0].startswith("upper")) + (not p[1].startswith("lower")),
            pairs.index(p),
        ),
    )


def _scale_bar(c: _Canvas, corner: str = "lower left") -> None:
    """A metric scale bar in ``corner`` (the map CRS is metric: one data unit is one metre)."""
    from matplotlib_scalebar.scalebar import ScaleBar

    bar = ScaleBar(
        1.0,
        units="m",
        dimension="si-length",
        location=corner,
        box_alpha=0.75,
        font_properties={"family": c.font.families, "size": 8},
    )
    bar.set_gid("scale_bar")
    c.ax.add_artist(bar)


def _north_arrow(c: _Canvas, corner: str = "upper right") -> None:
    """An arrow to grid north with an "N", in ``corner`` of the frame."""
    x = 0.95 if corner.endswith("right") else 0.05
    bottom = 0.80 if corner.startswith("upper") else 0.04
    c.ax.annotate(
        "",
        xy=(x, bottom + 0.11),
        xytext=(x, bottom),
        xycoords="axes fraction",
        arrowprops={"facecolor": "black", "edgecolor": "black", "width": 3, "headwidth": 10, "headlength": 10},
        gid="north_arrow",
        zorder=20,
    )
    c.ax.text(
        x,
        bottom + 0.115,
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


#: At most this many road and water names on one map.
MAX_CONTEXT_LABELS = 12


def _place_context_labels(c: _Canvas, view: Sequence[float]) -> None:
    """Names of roads and water bodies inside the frame, most important first, none overlapping another text.

    A name is skipped when its box would overlap a text already on the map (feature names, the
    north arrow's N, names placed before it) or leave the frame. Needs the figure laid out.
    """
    minx, miny, maxx, maxy = view
    frame = c.ax.get_window_extent()
    taken = [t.get_window_extent() for t in c.ax.texts if t.get_visible() and t.get_text()]
    placed = 0
    for _priority, x, y, angle, text, colour in sorted(c.context_labels, key=lambda item: -item[0]):
        if placed >= MAX_CONTEXT_LABELS:
            break
        if not (minx <= x <= maxx and miny <= y <= maxy):
            continue
        artist = c.ax.text(
            x,
            y,
            text,
            ha="center",
            va="center",
            rotation=angle,
            rotation_mode="anchor",
            fontproperties=c.fp(size=7),
            color=colour,
            zorder=14,
            gid="context_label",
            clip_on=True,
        )
        box = artist.get_window_extent()
        inside = box.x0 >= frame.x0 and box.x1 <= frame.x1 and box.y0 >= frame.y0 and box.y1 <= frame.y1
        if not inside or any(box.overlaps(other) for other in taken):
            artist.remove()
            continue
        taken.append(box)
        placed += 1


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
