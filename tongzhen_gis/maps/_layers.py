"""Layer helpers the four maps share (private).

Checking a layer and bringing it to the map CRS (:func:`_metric` for the main layer, :func:`_to`
for the others), required columns, plotting only non-empty geometries, base layers (roads,
water), outlined and named features (towns), points with their legend entries, and the bounds of
several layers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, overload

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from pyproj import CRS

from tongzhen_gis import crs as _crs
from tongzhen_gis.errors import SchemaError
from tongzhen_gis.maps.furniture import _Canvas, _label

_ROAD_COLOUR = "#9e9e9e"
_WATER_COLOUR = "#a6cee3"
_FEATURE_EDGE = "#252525"


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


@overload
def _to(layer: None, target: CRS, name: str) -> None: ...
@overload
def _to(layer: gpd.GeoDataFrame, target: CRS, name: str) -> gpd.GeoDataFrame: ...
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
    """Water and roads beneath everything else; names of major roads and water bodies for orientation."""
    if water is not None and len(water):
        water = _to(water, c.crs, "water")
        _plot(water, c.ax, color=_WATER_COLOUR, edgecolor="none", zorder=1)
        _water_names(c, water)
        if legend:
            c.add_handle(Patch(facecolor=_WATER_COLOUR, edgecolor="none", label="水系"), water.geometry, base=True)
    if roads is not None and len(roads):
        roads = _to(roads, c.crs, "roads")
        _plot(roads, c.ax, color=_ROAD_COLOUR, linewidth=0.7, zorder=2)
        _road_names(c, roads)
        if legend:
            c.add_handle(Line2D([], [], color=_ROAD_COLOUR, linewidth=0.7, label="道路"), roads.geometry, base=True)


#: Road classes (OSM ``fclass``/``highway``) whose names are written on the map, most important first.
_MAJOR_ROADS = ("motorway", "trunk", "primary", "secondary", "tertiary")
_NAME_COLUMNS = ("name", "name_zh", "NAME")


def _name_column(layer: gpd.GeoDataFrame) -> str | None:
    return next((col for col in _NAME_COLUMNS if col in layer.columns), None)


def _road_names(c: _Canvas, roads: gpd.GeoDataFrame) -> None:
    """One label per named major road (its pieces merged), at the middle of its longest stretch, along it."""
    col = _name_column(roads)
    if col is None:
        return
    kind_col = next((k for k in ("fclass", "highway") if k in roads.columns), None)
    named = roads[roads[col].notna() & (roads[col].astype(str).str.strip() != "")]
    if kind_col is not None:
        named = named[named[kind_col].isin(_MAJOR_ROADS)]
    rank = {k: len(_MAJOR_ROADS) - i for i, k in enumerate(_MAJOR_ROADS)}
    for name, group in named.groupby(col, sort=False):
        merged = shapely.line_merge(shapely.union_all(shapely.make_valid(group.geometry.to_numpy())))
        line = _largest_part(merged)
        if line.is_empty or line.length == 0:
            continue
        mid = line.interpolate(0.5, normalized=True)
        ahead = line.interpolate(min(line.length, line.project(mid) + 1.0))
        behind = line.interpolate(max(0.0, line.project(mid) - 1.0))
        angle = float(np.degrees(np.arctan2(ahead.y - behind.y, ahead.x - behind.x)))
        angle = angle - 180 if angle > 90 else angle + 180 if angle < -90 else angle
        kind = rank.get(group[kind_col].iloc[0], 0) if kind_col is not None else 0
        c.context_labels.append((kind * 1e9 + line.length, mid.x, mid.y, angle, str(name), "#505050"))


def _water_names(c: _Canvas, water: gpd.GeoDataFrame) -> None:
    """One label per named water body, on its largest part."""
    col = _name_column(water)
    if col is None:
        return
    named = water[water[col].notna() & (water[col].astype(str).str.strip() != "")]
    for name, group in named.groupby(col, sort=False):
        part = _largest_part(shapely.union_all(shapely.make_valid(group.geometry.to_numpy())))
        if part.is_empty:
            continue
        point = part.representative_point()
        # water bodies rank with the secondary roads, larger ones first
        c.context_labels.append((3 * 1e9 + part.area**0.5, point.x, point.y, 0.0, str(name), "#1f78b4"))


def _draw_towns(c: _Canvas, towns: gpd.GeoDataFrame | None, label_col: str | None) -> gpd.GeoDataFrame | None:
    """Town outlines on top, named from ``label_col``; the towns in the map CRS (None when not given)."""
    if towns is None:
        return None
    towns = _to(towns, c.crs, "towns")
    _outline_features(c, towns, label_col=label_col, legend_label="小镇范围", gid="feature_label")
    return towns


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
    edge_kw: dict[str, Any] = {} if edge is None else {"edgecolor": edge, "linewidth": 0.5}
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
    c.add_handle(Line2D([], [], color=_FEATURE_EDGE, linewidth=1.6, label=legend_label), features.geometry)
    if label_col is not None and label_col in features.columns:
        for geom, name in zip(features.geometry, features[label_col], strict=True):
            if geom is None or geom.is_empty or pd.isna(name):
                continue
            minx, _miny, maxx, maxy = _largest_part(geom).bounds
            _label(c, (minx + maxx) / 2.0, maxy, str(name), size=9, gid=gid, va="bottom")


def _largest_part(geom: Any) -> Any:
    """The part of a multi-part geometry with the largest area (then length): where its name goes."""
    parts = getattr(geom, "geoms", None)
    if parts is None:
        return geom
    return max(parts, key=lambda g: (g.area, g.length))


def _bounds_union(*layers: gpd.GeoDataFrame | None) -> tuple[float, float, float, float]:
    boxes = [layer.total_bounds for layer in layers if layer is not None and len(layer)]
    arr = np.array(boxes, dtype=float)
    if not len(arr) or not np.isfinite(arr).all():
        arr = arr[np.isfinite(arr).all(axis=1)] if len(arr) else arr
    if not len(arr):
        return (np.nan, np.nan, np.nan, np.nan)
    return (arr[:, 0].min(), arr[:, 1].min(), arr[:, 2].max(), arr[:, 3].max())
