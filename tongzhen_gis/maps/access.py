"""15分钟生活圈可达性图: walking access of homes to the "八个一" facilities.

:func:`access_map` colours homes by the walking distance to one facility category (in the 5/10/15
minute bands of the life-circle rules) or by the number of categories reached within the
15-minute distance, with nested service areas and the facilities in their category colours.
Homes that could not be put on the street network are drawn as grey crosses, never left out.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from tongzhen_gis import rules as _rules
from tongzhen_gis.errors import SchemaError
from tongzhen_gis.maps._layers import (
    _bounds_union,
    _draw_base,
    _draw_towns,
    _metric,
    _plot,
    _points,
    _require_columns,
    _to,
)
from tongzhen_gis.maps.furniture import _Canvas, _canvas, _finish, _view

__all__ = ["access_map"]


def _levels() -> list[tuple[float, str]]:
    """Walking-distance levels of the life-circle rules, shortest first: ``(distance_m, label_zh)``."""
    table = _rules.load("life_circle")["level"]
    return sorted((float(v["distance_m"]), str(v.get("label_zh", ""))) for v in table.values())


def access_map(
    homes: gpd.GeoDataFrame,
    *,
    nearest: pd.DataFrame | None = None,
    category: str | None = None,
    threshold_m: float | None = None,
    categories: Sequence[str] | None = None,
    service_areas: gpd.GeoDataFrame | None = None,
    facilities: gpd.GeoDataFrame | None = None,
    category_col: str = "category",
    towns: gpd.GeoDataFrame | None = None,
    label_col: str | None = "name_zh",
    roads: gpd.GeoDataFrame | None = None,
    water: gpd.GeoDataFrame | None = None,
    title: str | None = None,
    source: str | None = None,
    extent: Sequence[float] | None = None,
    font: str | os.PathLike[str] | None = None,
    figsize: tuple[float, float] | None = None,
    catalogue: Any = None,
) -> tuple[Figure, Axes]:
    """Map walking access of homes to the "八个一" facilities (15分钟生活圈 可达性图).

    Parameters
    ----------
    homes : GeoDataFrame
        Homes (points or polygons) with a CRS.
    nearest : DataFrame, optional
        ``tz.access.nearest(...)`` for these homes: indexed like ``homes``, one column of walking
        distances in metres per category id (NaN: none within reach), plus ``snap_m``. When None,
        the category columns are read from ``homes`` itself.
    category : str, optional
        A category id (``"kindergarten"`` …): homes are coloured by the walking distance to it, in
        the bands of the life-circle rules (5/10/15-minute distances). When None, homes are
        coloured by the number of categories within ``threshold_m``.
    threshold_m : float or mapping, optional
        Distance for counting categories (one for all, or ``{category: metres}``); default each
        category's own distance as ``tz.access.nearest`` recorded it (``attrs["distance_m"]``,
        from the catalogue), else the 15-minute distance of the ``life_circle`` rules (1000 m).
    categories : sequence of str, optional
        Category columns to count; default ``nearest.attrs["categories"]`` (set by
        ``tz.access.nearest``), else every column that is a category of the ``facilities`` rules.
    service_areas : GeoDataFrame, optional
        ``tz.access.service_areas(...)``: polygons with ``category`` and ``threshold_m``; those of
        ``category`` (or all, when no category is chosen and only one is present) are drawn as
        nested bands, largest first.
    facilities : GeoDataFrame, optional
        Facilities with ``category_col``; drawn in the category colours of the rules, with the
        Chinese category names in the legend (only ``category`` when one is chosen).
    category_col : str, default "category"
        Category column of ``facilities`` and ``service_areas``.
    towns, label_col, roads, water, title, source, extent, font, figsize
        As in :func:`control_lines_map`.
    catalogue : str, Path or RuleSet, optional
        The facility catalogue for names and colours (see ``tz.access.load_catalogue``); default
        the one ``tz.access.nearest`` used, else the "八个一" catalogue.

    Returns
    -------
    (matplotlib.figure.Figure, matplotlib.axes.Axes)

    Notes
    -----
    Homes that could not be put on the street network (``reachable`` False in ``tz.access.nearest``'s
    result; without that column, a missing ``snap_m``) are drawn as grey crosses "无法接入路网",
    never left out.
    """
    homes = _metric(homes, "homes")
    table = homes if nearest is None else nearest
    if nearest is not None and not nearest.index.equals(homes.index):
        msg = "nearest is not indexed like homes; pass tz.access.nearest(G, homes, ...) computed for these homes"
        raise SchemaError(msg, [msg])
    from tongzhen_gis import access as _access

    if catalogue is None:
        catalogue = table.attrs.get("catalogue")
    catalogue = _access.load_catalogue(catalogue)["category"]  # {category: its catalogue entry}
    if category is not None:
        _require_columns(
            table,
            [category],
            "nearest" if nearest is not None else "homes",
            "pass a category id present in tz.access.nearest's result",
        )
    if categories is None:
        listed = table.attrs.get("categories") or list(catalogue)
        categories = [col for col in listed if col in table.columns]
    else:
        _require_columns(
            table,
            list(categories),
            "nearest" if nearest is not None else "homes",
            "list category columns of tz.access.nearest's result",
        )
    levels = _levels()
    limits = _limits(table, list(categories), threshold_m, _fifteen_minute_m(levels))
    unreachable = _unreachable(table, list(categories) if category is None else [category])

    with _canvas(homes, font=font, figsize=figsize) as c:
        _draw_base(c, roads, water)
        if service_areas is not None:
            _draw_service_areas(c, service_areas, category=category, category_col=category_col, catalogue=catalogue)
        points = homes.geometry.representative_point()
        xs, ys = points.x.to_numpy(), points.y.to_numpy()
        if category is not None:
            name = catalogue.get(category, {}).get("name_zh", category)
            _homes_by_distance(c, xs, ys, table[category].to_numpy(dtype=float), unreachable, levels)
            legend_title = f"到{name}的步行距离"
            default_title = f"15分钟生活圈可达性: {name}"
            if category in limits:
                c.notes.append(f"{name} 步行距离标准: {limits[category]:g} m")
        else:
            if not categories:
                msg = "no category columns to count; pass nearest=tz.access.nearest(...) or categories=[...]"
                raise SchemaError(msg, [msg])
            bound = np.array([limits[k] for k in categories], dtype=float)
            reached = (table[list(categories)].to_numpy(dtype=float) <= bound).sum(axis=1)
            _homes_by_count(c, xs, ys, reached, unreachable, len(categories))
            default_title = '15分钟生活圈可达性: "八个一"设施覆盖'
            if len(set(bound.tolist())) == 1:
                legend_title = f"{bound[0]:g} m 内可达的设施类别数"
                names = "、".join(catalogue.get(k, {}).get("name_zh", k) for k in categories)
                c.notes.append(f"计入的设施类别 ({len(categories)} 类, 步行距离 ≤ {bound[0]:g} m): {names}")
            else:
                legend_title = "各自步行距离内可达的设施类别数"
                each = ", ".join(f"{catalogue.get(k, {}).get('name_zh', k)} {limits[k]:g} m" for k in categories)
                c.notes.append(f"计入的设施类别: {len(categories)} 类, 步行距离: {each}")
        if unreachable.any():
            label = f"无法接入路网 {int(unreachable.sum())} 处"
            _points(c, xs[unreachable], ys[unreachable], "#616161", label, marker="x", size_pt=5.5, edge=None, zorder=9)
        towns_m = _to(towns, c.crs, "towns")
        view = _view(extent, _bounds_union(homes, towns_m))
        if facilities is not None:
            _draw_facilities(
                c, facilities, category=category, category_col=category_col, catalogue=catalogue, view=view
            )
        _draw_towns(c, towns_m, label_col)
        return _finish(
            c,
            title=title or default_title,
            legend_title=legend_title,
            source=source,
            extent=view,
            data_bounds=view,
        )


def _limits(table: pd.DataFrame, columns: list[str], threshold_m: Any, default_m: float) -> dict[str, float]:
    """Each counted category's walking distance: ``threshold_m``, else the distances ``nearest`` recorded."""
    recorded = table.attrs.get("distance_m") or {}
    out = {k: float(recorded.get(k, default_m)) for k in columns}
    if isinstance(threshold_m, Mapping):
        out.update({k: float(v) for k, v in threshold_m.items()})
    elif threshold_m is not None:
        out = dict.fromkeys(out, float(threshold_m))
    return out


def _fifteen_minute_m(levels: list[tuple[float, str]]) -> float:
    table = _rules.load("life_circle")["level"]
    if "fifteen_minute" in table:
        return float(table["fifteen_minute"]["distance_m"])
    return levels[-1][0]


def _unreachable(table: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Homes that could not be put on the street network (``reachable`` False, or no ``snap_m``)."""
    if "reachable" in table.columns:
        return ~table["reachable"].fillna(False).astype(bool).to_numpy()
    if "snap_m" in table.columns:
        return ~np.isfinite(pd.to_numeric(table["snap_m"], errors="coerce").to_numpy(dtype=float))
    if not columns:
        return np.zeros(len(table), dtype=bool)
    return ~np.isfinite(table[columns].to_numpy(dtype=float)).any(axis=1)


_BAND_COLOURS = ("#1a9641", "#a6d96a", "#fdae61")
_BEYOND_COLOUR = "#d7191c"


def _homes_by_distance(
    c: _Canvas,
    xs: np.ndarray,
    ys: np.ndarray,
    distance: np.ndarray,
    unreachable: np.ndarray,
    levels: list[tuple[float, str]],
) -> None:
    bounds = [d for d, _ in levels]
    colours = list(_BAND_COLOURS[: len(bounds)])
    band = np.full(len(distance), -1)
    finite = np.isfinite(distance)
    band[finite] = np.searchsorted(bounds, distance[finite], side="left")
    lower = 0.0
    for i, (limit, name) in enumerate(levels):
        sel = band == i
        _points(c, xs[sel], ys[sel], colours[i], f"{lower:g}–{limit:g} m {name} ({int(sel.sum())} 处)")
        lower = limit
    beyond = (band == len(levels)) | (~finite & ~unreachable)
    label = f"> {bounds[-1]:g} m 或检索范围内无 ({int(beyond.sum())} 处)"
    _points(c, xs[beyond], ys[beyond], _BEYOND_COLOUR, label)


#: Colours of the classes of "categories reached", fewest (red) to all (blue): ColorBrewer RdYlBu, 5 classes,
#: whose neighbouring colours are far apart in lightness and hue.
_COUNT_COLOURS = ("#d7191c", "#fdae61", "#ffffbf", "#abd9e9", "#2c7bb6")


def _count_classes(n: int) -> list[tuple[int, int]]:
    """Classes of the number of categories reached, most first: all, one missing, two or three missing, fewer, none.

    Examples
    --------
    >>> _count_classes(8)
    [(8, 8), (7, 7), (5, 6), (1, 4), (0, 0)]
    >>> _count_classes(2)
    [(2, 2), (1, 1), (0, 0)]
    """
    classes: list[tuple[int, int]] = []
    covered = n + 1  # counts below this are not yet in a class
    for lo, hi in ((n, n), (n - 1, n - 1), (n - 3, n - 2), (1, n - 4), (0, 0)):
        lo, hi = max(lo, 0), min(hi, covered - 1)
        if lo <= hi:
            classes.append((lo, hi))
            covered = lo
    return classes


def _homes_by_count(
    c: _Canvas, xs: np.ndarray, ys: np.ndarray, reached: np.ndarray, unreachable: np.ndarray, n: int
) -> None:
    classes = _count_classes(n)
    # the full class is always blue, none always red; classes between take the palette's middle
    picks = np.linspace(len(_COUNT_COLOURS) - 1, 0, len(classes)).round().astype(int) if len(classes) > 1 else [4]
    for (lo, hi), pick in zip(classes, picks, strict=True):
        sel = (reached >= lo) & (reached <= hi) & ~unreachable
        if not sel.any():
            continue
        label = f"{lo} 类" if lo == hi else f"{lo}–{hi} 类"
        label += " (全部覆盖)" if lo == n else ""
        _points(c, xs[sel], ys[sel], _COUNT_COLOURS[pick], f"{label} ({int(sel.sum())} 处)")


def _draw_service_areas(
    c: _Canvas,
    areas: gpd.GeoDataFrame,
    *,
    category: str | None,
    category_col: str,
    catalogue: Mapping[str, Mapping[str, Any]],
) -> None:
    areas = _to(areas, c.crs, "service_areas")
    _require_columns(areas, [category_col, "threshold_m"], "service_areas", "pass tz.access.service_areas(...)")
    if category is not None:
        areas = areas[areas[category_col] == category]
    elif areas[category_col].nunique() > 1:
        c.notes.append("服务范围: 多个类别, 请用 category= 选择一类")
        return
    if not len(areas):
        return
    cat = str(areas[category_col].iloc[0])
    colour = catalogue.get(cat, {}).get("colour", "#3182bd")
    thresholds = sorted(areas["threshold_m"].astype(float).unique(), reverse=True)
    for rank, threshold in enumerate(thresholds):
        alpha = 0.12 + 0.12 * rank
        drawn = _plot(
            areas[areas["threshold_m"].astype(float) == threshold],
            c.ax,
            facecolor=colour,
            edgecolor=colour,
            linewidth=0.5,
            alpha=alpha,
            zorder=4,
        )
        label = f"服务范围 {threshold:g} m" + ("" if drawn else " (无可达街道)")
        c.handles.append(Patch(facecolor=colour, edgecolor=colour, alpha=alpha, label=label))


def _draw_facilities(
    c: _Canvas,
    facilities: gpd.GeoDataFrame,
    *,
    category: str | None,
    category_col: str,
    catalogue: Mapping[str, Mapping[str, Any]],
    view: Sequence[float],
) -> None:
    """Facilities in their category colours: points as triangles, polygons (parks, schools) as outlines.

    The count beside each category name is of the facilities inside the map frame ``view``; the
    legend lists only the categories drawn in the frame, and the note names those present in
    the data but not in the frame ("图内无"), so a town map shows which category the town lacks.
    """
    facilities = _to(facilities, c.crs, "facilities")
    _require_columns(facilities, [category_col], "facilities", "name the category column with category_col=")
    if category is not None:
        facilities = facilities[facilities[category_col] == category]
    points = facilities.geometry.representative_point()
    xs, ys = points.x.to_numpy(), points.y.to_numpy()
    minx, miny, maxx, maxy = view
    frame = shapely.box(minx, miny, maxx, maxy)
    geoms = facilities.geometry.to_numpy()
    areal = shapely.get_dimensions(geoms) == 2
    inside = shapely.intersects(geoms, frame) & ~shapely.is_empty(geoms)
    present = [cat for cat in catalogue if (facilities[category_col] == cat).any()]
    present += sorted(set(facilities[category_col].dropna().astype(str)) - set(catalogue))
    absent = []
    for cat in present:
        sel = (facilities[category_col].astype(str) == cat).to_numpy() & inside
        spec = catalogue.get(cat, {})
        name = spec.get("name_zh", f"{cat} (目录外)")
        if not sel.any():
            absent.append(name)
            continue
        colour = spec.get("colour", "#000000")
        label = f"{name} ({int(sel.sum())})"
        if (sel & areal).any():
            _plot(facilities[sel & areal].boundary, c.ax, color=colour, linewidth=1.6, zorder=11)
        if (sel & ~areal).any():
            pts = sel & ~areal
            _points(c, xs[pts], ys[pts], colour, label, marker="^", size_pt=8, edge="black", zorder=11)
        else:
            c.handles.append(Patch(facecolor="none", edgecolor=colour, linewidth=1.6, label=label))
    c.absent.extend(absent)
