"""容积率分布图: a FAR grid or a per-parcel value in mapclassify classes.

:func:`intensity_map` draws a :class:`~tongzhen_gis.raster.Raster` in a metric CRS (cells in class
colours) or polygons with a value column, classified by :mod:`tongzhen_gis.maps.classify`. Cells
or features without a value, and zeros when hidden, are counted in the legend or the note, never
dropped. :data:`VALUE_LABELS_ZH` gives the Chinese legend titles of the intensity columns.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from shapely import box

from tongzhen_gis import crs as _crs
from tongzhen_gis.errors import SchemaError
from tongzhen_gis.labels import VALUE_LABELS_ZH  # re-exported as tz.maps.VALUE_LABELS_ZH
from tongzhen_gis.maps._layers import (
    _bounds_union,
    _draw_base,
    _draw_towns,
    _metric,
    _plot,
    _require_columns,
)
from tongzhen_gis.maps.classify import _class_colours, _class_labels, _classify
from tongzhen_gis.maps.furniture import _Canvas, _canvas, _finish
from tongzhen_gis.raster import Raster

__all__ = ["VALUE_LABELS_ZH", "intensity_map"]

_NODATA_COLOUR = "#e0e0e0"


def intensity_map(
    data: Raster | gpd.GeoDataFrame,
    *,
    column: str = "far",
    scheme: str = "NaturalBreaks",
    k: int = 5,
    classify_kwds: Mapping[str, Any] | None = None,
    cmap: str = "YlOrRd",
    value_label: str | None = None,
    fmt: str = "{:.2f}",
    hide_zero: bool = False,
    towns: gpd.GeoDataFrame | None = None,
    label_col: str | None = "name_zh",
    roads: gpd.GeoDataFrame | None = None,
    water: gpd.GeoDataFrame | None = None,
    title: str | None = None,
    source: str | None = None,
    extent: Sequence[float] | None = None,
    font: str | os.PathLike[str] | None = None,
    figsize: tuple[float, float] | None = None,
) -> tuple[Figure, Axes]:
    """Map a FAR grid or a per-parcel value in classes (容积率分布图).

    Parameters
    ----------
    data : Raster or GeoDataFrame
        A :class:`~tongzhen_gis.raster.Raster` in a metric CRS (``tz.intensity.floor_area_grid``),
        or polygons with a value ``column`` (e.g. parcels with ``far``).
    column : str, default "far"
        Value column of a GeoDataFrame (ignored for a raster).
    scheme : str, default "NaturalBreaks"
        A mapclassify scheme (``"NaturalBreaks"``, ``"Quantiles"``, ``"EqualInterval"``,
        ``"FisherJenks"``, ``"UserDefined"`` with ``classify_kwds={"bins": [...]}`` …).
        NaturalBreaks is run with NumPy's global generator seeded (and restored), so the same data
        always gives the same classes.
    k : int, default 5
        Number of classes; reduced to the number of distinct values when there are fewer.
    classify_kwds : mapping, optional
        Extra keywords for ``mapclassify.classify``.
    cmap : str, default "YlOrRd"
        Matplotlib colour map sampled for the classes.
    value_label : str, optional
        Legend title; default from :data:`VALUE_LABELS_ZH` (``"容积率 (FAR)"`` for ``far``).
    fmt : str, default "{:.2f}"
        Format of the class bounds in the legend.
    hide_zero : bool, default False
        Leave cells or features whose value is 0 blank (cells without buildings in a FAR grid),
        and classify only the others. Their count is given in the legend.
    towns : GeoDataFrame, optional
        Town boundaries on top.
    label_col, roads, water, title, source, extent, font, figsize
        As in :func:`control_lines_map`; default title ``"容积率分布图"`` for a FAR grid or the
        ``far`` column (开发强度 is the construction share, ``construction_share``), else the
        column's Chinese name and ``分布图``.

    Returns
    -------
    (matplotlib.figure.Figure, matplotlib.axes.Axes)

    Raises
    ------
    CRSError
        The raster is not in a metric CRS (it is never resampled behind the user's back;
        build the grid in a metric CRS, as ``floor_area_grid`` does).
    SchemaError
        ``column`` is missing or not numeric, or there is no value to classify.
    OptionError
        An unknown ``scheme`` or ``k`` below 1.

    Notes
    -----
    Cells / features with no value (NaN, raster nodata) are drawn as "无数据" and counted in the
    legend, never dropped. Every value is in exactly one class: class *i* holds values in
    ``(bins[i-1], bins[i]]`` (the first class includes the minimum).
    """
    label = value_label or VALUE_LABELS_ZH.get(column if isinstance(data, gpd.GeoDataFrame) else "far", column)
    raster = data if isinstance(data, Raster) else None
    if raster is not None:
        layer, bounds = _raster_frame(raster)
        values = np.asarray(raster.array, dtype=float)
        no_value = ~np.isfinite(values)
        if raster.nodata is not None and np.isfinite(raster.nodata):
            no_value |= values == raster.nodata
        what = "the raster has no value to classify (all nodata"
    else:
        layer = _metric(data, "data")
        _require_columns(layer, [column], "data", "name the value column with column=")
        values = pd.to_numeric(layer[column], errors="coerce").to_numpy(dtype=float)
        no_value = ~np.isfinite(values)
        what = f"column {column!r} has no value to classify (all missing"
    zero = (values == 0) & ~no_value if hide_zero else np.zeros(values.shape, dtype=bool)
    valid = ~no_value & ~zero
    if not valid.any():
        msg = what + (" or zero)" if hide_zero else ")")
        raise SchemaError(msg, [msg])
    classes, bins = _classify(values[valid], scheme, k, dict(classify_kwds or {}))
    colours = _class_colours(cmap, len(bins))
    with _canvas(layer, font=font, figsize=figsize) as c:
        _draw_base(c, roads, water)
        if raster is not None:
            _draw_class_grid(c, raster, valid, classes, colours, bounds)
        else:
            face = np.full(len(layer), _NODATA_COLOUR, dtype=object)
            face[zero] = "#ffffff"
            face[valid] = [colours[i] for i in classes]
            _plot(layer, c.ax, color=list(face), edgecolor="white", linewidth=0.4, zorder=3)
        _value_legend(c, classes, bins, colours, lowest=float(values[valid].min()), fmt=fmt)
        if raster is not None:  # cells are many and small: counted in the note, not the legend
            c.notes.append(f"栅格 {abs(raster.transform.a):g} m × {abs(raster.transform.e):g} m")
            if no_value.any():
                c.notes.append(f"无数据栅格 {int(no_value.sum())} 个, 未着色")
            if zero.any():
                c.notes.append(f"数值为 0 的栅格 {int(zero.sum())} 个, 未着色")
        else:
            if no_value.any():
                label_nv = f"无数据 {int(no_value.sum())} 个"
                c.handles.append(Patch(facecolor=_NODATA_COLOUR, edgecolor="#808080", label=label_nv))
            if zero.any():
                label_z = f"数值为 0 {int(zero.sum())} 个"
                c.handles.append(Patch(facecolor="#ffffff", edgecolor="#808080", label=label_z))
        towns = _draw_towns(c, towns, label_col)
        return _finish(
            c,
            title=title or _default_title(column if raster is None else "far"),
            legend_title=label,
            source=source,
            extent=extent,
            data_bounds=bounds if raster is not None else _bounds_union(layer, towns),
        )


def _default_title(column: str) -> str:
    """容积率分布图 for FAR; another indicator is named by its Chinese label (without the unit)."""
    if column == "far":
        return "容积率分布图"
    return f"{VALUE_LABELS_ZH.get(column, column).split(' (')[0]}分布图"


def _value_legend(
    c: _Canvas, classes: np.ndarray, bins: np.ndarray, colours: list[str], *, lowest: float, fmt: str
) -> None:
    counts = np.bincount(classes, minlength=len(bins))
    for text, colour, count in zip(_class_labels(bins, lowest, fmt), colours, counts, strict=True):
        c.handles.append(Patch(facecolor=colour, edgecolor="#808080", linewidth=0.5, label=f"{text} ({count})"))


def _raster_frame(raster: Raster) -> tuple[gpd.GeoDataFrame, tuple[float, float, float, float]]:
    """The raster's footprint as a one-row layer, and its bounds; refuses rotated or unprojected grids."""
    t = raster.transform
    if t.b != 0 or t.d != 0:
        msg = "the raster is rotated (its transform has shear terms); warp it to a north-up grid first"
        raise SchemaError(msg, [msg])
    rows, cols = raster.shape
    xs, ys = (t.c, t.c + t.a * cols), (t.f, t.f + t.e * rows)
    bounds = (min(xs), min(ys), max(xs), max(ys))
    frame = gpd.GeoDataFrame(geometry=[box(*bounds)], crs=raster.crs)
    _crs.require_metric(raster.crs, what="the raster (a map's scale bar needs a metric grid)")
    return frame, bounds


def _draw_class_grid(
    c: _Canvas,
    raster: Raster,
    valid: np.ndarray,
    classes: np.ndarray,
    colours: list[str],
    bounds: tuple[float, float, float, float],
) -> None:
    """Cells in their class colours; cells without a class (no value, hidden zero) left blank."""
    grid = np.full(valid.shape, -1, dtype=int)
    grid[valid] = classes
    minx, miny, maxx, maxy = bounds
    c.ax.imshow(
        np.ma.masked_less(grid, 0),
        cmap=ListedColormap(colours),
        vmin=-0.5,
        vmax=len(colours) - 0.5,
        extent=(minx, maxx, miny, maxy),
        origin="upper" if raster.transform.e < 0 else "lower",
        interpolation="nearest",
        alpha=0.9,
        zorder=3,
    )
