"""Cartographic furniture shared by the maps of :mod:`tongzhen_gis.maps` (private).

Everything a map has besides its own layers: the canvas (figure, font, map CRS, legend entries
collected so far), the layers brought to the map CRS, base layers (roads, water), town outlines,
points with their legend entries, the page layout (extent, automatic size, trimming of blank
margins), title, legend, scale bar, north arrow, the note with the CRS and the data source, area
labels and their de-overlapping, and :func:`export` (re-exported as ``tz.maps.export``).

Chinese text uses the font found by :func:`tongzhen_gis.maps.fonts.resolve_font`; the figure is built
inside :func:`tongzhen_gis.maps.fonts.font_context` and every text artist carries the font explicitly,
so global ``matplotlib.rcParams`` are never changed.
"""

from __future__ import annotations

import contextlib
import io as _bytes_io
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import shapely
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from pyproj import CRS

from tongzhen_gis import crs as _crs
from tongzhen_gis import units
from tongzhen_gis.errors import InputFileError, SchemaError
from tongzhen_gis.maps.fonts import ResolvedFont, font_context, font_properties, resolve_font

#: Note printed when the caller does not name the data source.
UNKNOWN_SOURCE = "未注明 (请用 source= 注明)"
#: Formats :func:`export` writes, by file suffix.
EXPORT_FORMATS = {".png": "png", ".pdf": "pdf", ".svg": "svg"}

_ROAD_COLOUR = "#9e9e9e"
_WATER_COLOUR = "#a6cee3"
_FEATURE_EDGE = "#252525"
# A light box behind labels instead of a path-effect halo: path effects turn text into outlines,
# and a PDF's labels must stay searchable text.
_HALO_BOX = {"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.7}


# --------------------------------------------------------------------------------------------
# Canvas and layers
# --------------------------------------------------------------------------------------------


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


def _check_frame(layer: Any, name: str) -> gpd.GeoDataFrame:
    if not isinstance(layer, gpd.GeoDataFrame):
        msg = f"{name} must be a GeoDataFrame, got {type(layer).__name__}; read files with tz.io.read_layer"
        raise SchemaError(msg, [msg])
    return layer


def _metric(main: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    layer = _crs.to_metric(_check_frame(main, name))
    if not _has_geometry(layer.geometry).any():
        msg = f"nothing to map: {name} has no features with a geometry; pass a layer with features"
        raise SchemaError(msg, [msg])
    return layer


def _to(layer: gpd.GeoDataFrame | None, target: CRS, name: str) -> gpd.GeoDataFrame | None:
    if layer is None:
        return None
    return _crs.to_metric(_check_frame(layer, name), crs=target)


def _require_columns(layer: pd.DataFrame, columns: Sequence[str], name: str, hint: str) -> None:
    missing = [c for c in columns if c not in layer.columns]
    if missing:
        problems = [f"{name} has no column {c!r}" for c in missing]
        msg = f"{'; '.join(problems)} (columns: {list(layer.columns)}); {hint}"
        raise SchemaError(msg, problems)


def _has_geometry(geoms: gpd.GeoSeries) -> np.ndarray:
    values = geoms.to_numpy()
    return ~(shapely.is_missing(values) | shapely.is_empty(values))


def _plot(data: gpd.GeoDataFrame | gpd.GeoSeries, ax: Axes, **kwds: Any) -> bool:
    """Plot the non-empty geometries of ``data``; False (and nothing drawn) when there are none.

    geopandas warns when asked to plot nothing; an empty control-line layer or a service area
    that reaches nothing is a normal result here, shown in the legend instead.
    """
    keep = _has_geometry(data.geometry if isinstance(data, gpd.GeoDataFrame) else data)
    if not keep.any():
        return False
    for key, value in kwds.items():  # per-feature colours follow the features kept
        if isinstance(value, (list, np.ndarray)) and len(value) == len(keep):
            kwds[key] = [v for v, k in zip(value, keep, strict=True) if k]
    data[keep].plot(ax=ax, **kwds)
    return True


def _draw_base(
    c: _Canvas, roads: gpd.GeoDataFrame | None, water: gpd.GeoDataFrame | None, *, legend: bool = True
) -> None:
    """Water and roads beneath everything else."""
    if water is not None and len(water):
        water = _to(water, c.crs, "water")
        _plot(water, c.ax, color=_WATER_COLOUR, edgecolor="none", zorder=1)
        if legend:
            c.base_handles.append(Patch(facecolor=_WATER_COLOUR, edgecolor="none", label="水系"))
    if roads is not None and len(roads):
        roads = _to(roads, c.crs, "roads")
        _plot(roads, c.ax, color=_ROAD_COLOUR, linewidth=0.7, zorder=2)
        if legend:
            c.base_handles.append(Line2D([], [], color=_ROAD_COLOUR, linewidth=0.7, label="道路"))


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


def _draw_towns(c: _Canvas, towns: gpd.GeoDataFrame | None, label_col: str | None) -> gpd.GeoDataFrame | None:
    """Town outlines on top, named from ``label_col``; the towns in the map CRS (None when not given)."""
    if towns is None:
        return None
    towns = _to(towns, c.crs, "towns")
    _outline_features(c, towns, label_col=label_col, legend_label="小镇范围", gid="feature_label")
    return towns


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
    """
    from matplotlib_scalebar.scalebar import ScaleBar

    ax = c.ax
    minx, miny, maxx, maxy = _view(extent, data_bounds)
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

    handles = c.handles + c.base_handles
    if handles:
        ax.legend(
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

    bar = ScaleBar(
        1.0,
        units="m",
        dimension="si-length",
        location="lower left",
        box_alpha=0.75,
        font_properties={"family": c.font.families, "size": 8},
    )
    bar.set_gid("scale_bar")
    ax.add_artist(bar)

    ax.annotate(
        "",
        xy=(0.95, 0.91),
        xytext=(0.95, 0.80),
        xycoords="axes fraction",
        arrowprops={"facecolor": "black", "edgecolor": "black", "width": 3, "headwidth": 10, "headlength": 10},
        gid="north_arrow",
        zorder=20,
    )
    ax.text(
        0.95,
        0.915,
        "N",
        transform=ax.transAxes,
        ha="center",
        va="bottom",
        fontproperties=c.fp(size=12),
        gid="north_arrow_label",
        zorder=20,
        bbox=_HALO_BOX,
    )

    lines = [f"坐标系: {_crs_label(c.crs)}", f"数据来源: {source or UNKNOWN_SOURCE}", *c.notes]
    ax.text(
        0.0,
        -0.02,
        "\n".join(lines),
        transform=ax.transAxes,
        ha="left",
        va="top",
        fontproperties=c.fp(size=7),
        color="#404040",
        gid="source_note",
    )
    legend = ax.get_legend()
    if c.auto_size and legend is not None:
        # a long legend (hangs from the map's top edge) must fit: without room, the layout would
        # shrink the map instead
        c.fig.draw_without_rendering()
        width, height = c.fig.get_size_inches()
        needed = legend.get_window_extent().height / c.fig.dpi + 0.7
        if needed > height:
            c.fig.set_size_inches(width, needed)
    if c.labels:
        c.fig.draw_without_rendering()  # lay the figure out, so label sizes are known
        _place_labels(c, c.labels)
    if c.auto_size:
        _trim(c.fig)
    return c.fig, ax


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


def _points(
    c: _Canvas,
    xs: np.ndarray,
    ys: np.ndarray,
    colour: str,
    label: str,
    *,
    marker: str = "o",
    size_pt: float = 4.7,
    edge: str | None = "#404040",
    zorder: float = 8,
) -> None:
    """Scatter points in one colour and add their legend entry (same marker and size)."""
    edge_kw = {} if edge is None else {"edgecolor": edge, "linewidth": 0.5}
    c.ax.scatter(xs, ys, marker=marker, s=size_pt**2, color=colour, zorder=zorder, **edge_kw)
    c.handles.append(
        Line2D(
            [],
            [],
            marker=marker,
            linestyle="none",
            markersize=size_pt,
            color=colour,
            markerfacecolor=colour,
            markeredgecolor=edge or colour,
            label=label,
        )
    )


def _outline_features(
    c: _Canvas, features: gpd.GeoDataFrame, *, label_col: str | None, legend_label: str, gid: str
) -> None:
    _plot(features.boundary, c.ax, color=_FEATURE_EDGE, linewidth=1.6, zorder=10)
    c.handles.append(Line2D([], [], color=_FEATURE_EDGE, linewidth=1.6, label=legend_label))
    if label_col is not None and label_col in features.columns:
        for geom, name in zip(features.geometry, features[label_col], strict=True):
            if geom is None or geom.is_empty or pd.isna(name):
                continue
            minx, _miny, maxx, maxy = geom.bounds
            _label(c, (minx + maxx) / 2.0, maxy, str(name), size=9, gid=gid, va="bottom")


def _bounds_union(*layers: gpd.GeoDataFrame | None) -> tuple[float, float, float, float]:
    boxes = [layer.total_bounds for layer in layers if layer is not None and len(layer)]
    arr = np.array(boxes, dtype=float)
    if not len(arr) or not np.isfinite(arr).all():
        arr = arr[np.isfinite(arr).all(axis=1)] if len(arr) else arr
    if not len(arr):
        return (np.nan, np.nan, np.nan, np.nan)
    return (arr[:, 0].min(), arr[:, 1].min(), arr[:, 2].max(), arr[:, 3].max())


def _area_text(area_m2: float) -> str:
    """Area in m² and 亩 on two lines; one more decimal for patches under 100 m²."""
    small = area_m2 < 100
    return f"{area_m2:,.{1 if small else 0}f} m²\n({units.m2_to_mu(area_m2):,.{2 if small else 1}f} 亩)"


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


# --------------------------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------------------------


def export(fig: Figure, path: str | os.PathLike[str], *, dpi: int = 300) -> Path:
    """Write a map as PNG, PDF or SVG (chosen by the file suffix).

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

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    InputFileError
        The suffix is not one of ``.png``, ``.pdf``, ``.svg``.
    """
    from tongzhen_gis import io

    target = Path(path)
    fmt = EXPORT_FORMATS.get(target.suffix.lower())
    if fmt is None:
        msg = f"cannot export a map to {target.name!r}: use a file name ending in .png, .pdf or .svg"
        raise InputFileError(msg)
    rc = {"pdf.fonttype": 42, "ps.fonttype": 42, "svg.fonttype": "path", "svg.hashsalt": "tongzhen_gis"}
    metadata = {
        "png": {"Software": "tongzhen_gis"},
        "pdf": {"Creator": "tongzhen_gis", "CreationDate": None},
        "svg": {"Creator": "tongzhen_gis", "Date": None},
    }[fmt]
    buffer = _bytes_io.BytesIO()
    import matplotlib

    with matplotlib.rc_context(rc):
        fig.savefig(
            buffer, format=fmt, dpi=dpi, metadata=metadata, facecolor="white", bbox_inches="tight", pad_inches=0.1
        )
    return io.write_bytes(buffer.getvalue(), target)
