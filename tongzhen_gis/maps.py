"""Report maps with Chinese titles and legends (成果图), ready for a review report.

One function per map, each taking in-memory layers and returning ``(fig, ax)``; nothing is
written unless :func:`export` is called:

* :func:`control_lines_map`: towns (or parcels, or an extension) against the three control lines
  (三条控制线), conflicting patches highlighted and labelled with their area in m² and 亩;
* :func:`landuse_map`: parcels in the 用地用海 class colours of the rules, Chinese class names;
* :func:`intensity_map`: a FAR grid (:class:`~tongzhen_gis.raster.Raster`) or a per-parcel
  value classified with mapclassify;
* :func:`access_map`: homes coloured by walking distance to one category or by the number of
  "八个一" categories reached, with service areas and facilities.

Every map has a Chinese title and legend, a scale bar (matplotlib-scalebar), a north arrow, a note
with the CRS and the data source, and optional base layers (roads, water). Layers are drawn in
a metric CRS (:func:`tongzhen_gis.crs.to_metric` of the main layer; the others are reprojected to
it), so the scale bar is true. The north arrow points to grid north: in a 3-degree Gauss-Krüger
zone the angle to true north is below 1.5°.

Chinese text uses the font found by :func:`tongzhen_gis._fonts.resolve_font` (``font=`` or
``$TONGZHEN_FONT``, then Noto Sans CJK SC from ``noto-cjk-sans-otc``, then SimHei / Microsoft
YaHei / PingFang). Global ``matplotlib.rcParams`` are never changed: the figure is built inside a
``matplotlib.rc_context`` and every text artist carries the font explicitly.

This module holds the four maps and their own layers. The furniture they share (canvas, layout
and trimming, legend, scale bar, north arrow, CRS/source note, area labels, :func:`export`) lives
in the private module :mod:`tongzhen_gis._cartography`, the value classification in
:mod:`tongzhen_gis._classification`; the public names are re-exported here, so import them from
``tz.maps``.

Examples
--------
>>> import tongzhen_gis as tz
>>> scene = tz.samples.sample_town()
>>> fig, ax = tz.maps.landuse_map(scene.parcels, towns=scene.towns, source="示例数据")
>>> ax.get_title()
'用地用海分类图'
>>> import matplotlib.pyplot as plt; plt.close(fig)
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap, to_hex
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from shapely import box

from tongzhen_gis import crs as _crs
from tongzhen_gis import rules as _rules
from tongzhen_gis import units
from tongzhen_gis._cartography import (
    EXPORT_FORMATS,
    UNKNOWN_SOURCE,
    _area_text,
    _bounds_union,
    _Canvas,
    _canvas,
    _draw_base,
    _draw_towns,
    _finish,
    _metric,
    _outline_features,
    _plot,
    _points,
    _require_columns,
    _to,
    _view,
    export,
)
from tongzhen_gis._classification import _class_colours, _class_labels, _classify
from tongzhen_gis._fonts import FontNotFoundError, ResolvedFont, resolve_font
from tongzhen_gis.errors import SchemaError
from tongzhen_gis.raster import Raster

__all__ = [
    "EXPORT_FORMATS",
    "UNKNOWN_SOURCE",
    "FontNotFoundError",
    "ResolvedFont",
    "access_map",
    "control_lines_map",
    "export",
    "intensity_map",
    "landuse_map",
    "resolve_font",
]

logger = logging.getLogger(__name__)

_LINE_STYLE = {
    # line: (legend name, face colour, edge colour, alpha, hatch)
    "red_line": ("生态保护红线", "#f4a6a6", "#d7191c", 0.55, None),
    "farmland": ("永久基本农田", "#f7e68f", "#b59a00", 0.7, None),
}
_BOUNDARY_COLOUR = "#7b3294"
_CONFLICT_STYLE = {
    # line in the conflicts table: (legend name, short label, colour, hatch)
    "red_line": ("冲突: 占用生态保护红线", "红线", "#a50026", None),
    "farmland": ("冲突: 占用永久基本农田", "农田", "#e66101", None),
    "outside_boundary": ("冲突: 超出城镇开发边界", "界外", "#5e3c99", "////"),
}
_UNKNOWN_COLOUR = "#bdbdbd"
_NODATA_COLOUR = "#e0e0e0"

#: Chinese legend titles for columns that :mod:`tongzhen_gis.intensity` produces.
VALUE_LABELS_ZH = {
    "far": "容积率 (FAR)",
    "gross_far": "毛容积率",
    "building_coverage": "建筑密度",
    "construction_share": "开发强度",
    "residential_share": "居住用地占比",
    "green_share": "绿地占比",
    "tax_per_mu": "亩均税收 (万元/亩)",
    "investment_per_mu": "亩均投资 (万元/亩)",
    "output_per_mu": "亩均产值 (万元/亩)",
}


# --------------------------------------------------------------------------------------------
# Control lines
# --------------------------------------------------------------------------------------------


def control_lines_map(
    features: gpd.GeoDataFrame,
    *,
    red_line: gpd.GeoDataFrame | None = None,
    farmland: gpd.GeoDataFrame | None = None,
    urban_boundary: gpd.GeoDataFrame | None = None,
    conflicts: gpd.GeoDataFrame | Any | None = None,
    id_col: str = "town_id",
    label_col: str | None = "name_zh",
    roads: gpd.GeoDataFrame | None = None,
    water: gpd.GeoDataFrame | None = None,
    title: str | None = None,
    source: str | None = None,
    extent: Sequence[float] | None = None,
    max_labels: int = 40,
    sliver_m2: float | None = None,
    font: str | os.PathLike[str] | None = None,
    figsize: tuple[float, float] | None = None,
) -> tuple[Figure, Axes]:
    """Map towns (or parcels, or an extension) against the three control lines (三线核查图).

    Parameters
    ----------
    features : GeoDataFrame
        The towns, parcels or proposed extension that were checked. Must have a CRS.
    red_line, farmland, urban_boundary : GeoDataFrame, optional
        生态保护红线, 永久基本农田 and 城镇开发边界; any may be omitted (the legend then leaves it out).
    conflicts : GeoDataFrame or check result, optional
        ``tz.controllines.check(...).conflicts`` (columns ``line``, ``area_m2``, ``sliver``,
        ``source_id``, the id column and geometry), or the result object itself. Overlapping
        per-source pieces are merged per feature and line before labelling, so a label gives the
        area without double counting (as the summary table does). Conflicts at or below the
        sliver tolerance are outlined, counted in the legend and not labelled.
    id_col : str, default "town_id"
        Feature id column (used to merge conflict pieces per feature).
    label_col : str or None, default "name_zh"
        Column with the feature names written on the map; None for no names.
    roads, water : GeoDataFrame, optional
        Base layers drawn beneath.
    title : str, optional
        Map title; default ``"三条控制线核查图"``.
    source : str, optional
        Data source written in the note (e.g. ``"杭州市规划和自然资源局 2023"``).
    extent : (minx, miny, maxx, maxy), optional
        In the map CRS; default the features and their conflicts with a 6 % margin (control-line
        features far away are cut off by the frame, not dropped from the data).
    max_labels : int, default 40
        At most this many conflict patches (the largest) get an area label; the note says how
        many were left unlabelled.
    sliver_m2 : float, optional
        Pieces of a merged conflict patch this small or smaller are filled but not labelled
        (the note counts them); default the ``sliver_m2`` parameter of the ``controllines``
        rules, the same tolerance the check uses.
    font : path-like, optional
        A Chinese font file; see :func:`tongzhen_gis._fonts.resolve_font`.
    figsize : (float, float), optional
        Figure size in inches; default 10 wide, the height following the map's shape.

    Returns
    -------
    (matplotlib.figure.Figure, matplotlib.axes.Axes)

    Raises
    ------
    CRSError
        A layer has no CRS.
    SchemaError
        ``conflicts`` lacks the columns of the check result, or the features are empty.
    FontNotFoundError
        No Chinese font (see :func:`resolve_font`).
    """
    features = _metric(features, "features")
    if conflicts is not None and not isinstance(conflicts, gpd.GeoDataFrame) and hasattr(conflicts, "conflicts"):
        conflicts = conflicts.conflicts
    with _canvas(features, font=font, figsize=figsize) as c:
        _draw_base(c, roads, water)
        for name, layer in (("red_line", red_line), ("farmland", farmland)):
            if layer is None:
                continue
            legend_name, face, edge, alpha, hatch = _LINE_STYLE[name]
            layer = _to(layer, c.crs, name)
            drawn = _plot(
                layer, c.ax, facecolor=face, edgecolor=edge, linewidth=0.8, alpha=alpha, hatch=hatch, zorder=3
            )
            label = legend_name if drawn else f"{legend_name} (图层无图斑)"
            c.handles.append(Patch(facecolor=face, edgecolor=edge, alpha=alpha, label=label))
        if urban_boundary is not None:
            boundary = _to(urban_boundary, c.crs, "urban_boundary")
            _plot(boundary.boundary, c.ax, color=_BOUNDARY_COLOUR, linewidth=1.4, linestyle="--", zorder=4)
            c.handles.append(
                Line2D([], [], color=_BOUNDARY_COLOUR, linewidth=1.4, linestyle="--", label="城镇开发边界")
            )
        _outline_features(c, features, label_col=label_col, legend_label="核查对象 (小镇/地块)", gid="feature_label")

        bounds = features.total_bounds
        if conflicts is not None:
            conflicts = _to(conflicts, c.crs, "conflicts")
            _require_columns(
                conflicts,
                ["line", "area_m2", "sliver"],
                "conflicts",
                "pass tz.controllines.check(...).conflicts",
            )
            if sliver_m2 is None:
                sliver_m2 = _rules.load("controllines").parameter("sliver_m2")
            _draw_conflicts(c, conflicts, id_col=id_col, max_labels=max_labels, fragment_m2=float(sliver_m2))
            bounds = _bounds_union(features, conflicts)
        return _finish(
            c,
            title=title or "三条控制线核查图",
            legend_title="图例",
            source=source,
            extent=extent,
            data_bounds=bounds,
        )


def _draw_conflicts(
    c: _Canvas, conflicts: gpd.GeoDataFrame, *, id_col: str, max_labels: int, fragment_m2: float
) -> None:
    unknown = sorted(set(conflicts["line"].astype(str)) - set(_CONFLICT_STYLE))
    if unknown:
        msg = f"conflicts has unknown line values {unknown}; expected {sorted(_CONFLICT_STYLE)}"
        raise SchemaError(msg, [msg])
    sliver = conflicts["sliver"].fillna(False).astype(bool)
    real = conflicts[~sliver]
    labels: list[tuple[float, float, float, str, str]] = []  # x, y, area, text, colour
    fragments = 0
    for line, (legend_name, short, colour, hatch) in _CONFLICT_STYLE.items():
        part = real[real["line"] == line]
        if not len(part):
            continue
        _plot(
            part,
            c.ax,
            facecolor=colour if hatch is None else "none",
            edgecolor=colour,
            hatch=hatch,
            linewidth=1.0,
            alpha=0.85,
            zorder=6,
        )
        c.handles.append(
            Patch(
                facecolor=colour if hatch is None else "none",
                edgecolor=colour,
                hatch=hatch,
                alpha=0.85,
                label=legend_name,
            )
        )
        # merge per-source pieces per feature and line: the label area is never double counted
        keys = [id_col] if id_col in part.columns else None
        merged = part.dissolve(by=keys) if keys else part.dissolve()
        for geom in merged.geometry.explode(index_parts=False):
            if geom is None or geom.is_empty:
                continue
            if geom.area <= fragment_m2:  # a crumb of a larger overlap: filled, counted, not labelled
                fragments += 1
                continue
            point = geom.representative_point()
            labels.append((point.x, point.y, geom.area, f"{short} {_area_text(geom.area)}", colour))
    slivers = conflicts[sliver]
    if len(slivers):
        _plot(slivers.boundary, c.ax, color="#000000", linewidth=0.8, linestyle=":", zorder=7)
        c.handles.append(
            Patch(facecolor="none", edgecolor="#000000", linestyle=":", label=f"微小重叠 {len(slivers)} 处 (待复核)")
        )
    if fragments:
        c.notes.append(f"另有 {fragments} 处 ≤ {fragment_m2:g} m² 的冲突碎片未标注面积")
    labels.sort(key=lambda item: -item[2])
    if len(labels) > max_labels:
        c.notes.append(f"仅标注面积最大的 {max_labels} 处冲突图斑, 另有 {len(labels) - max_labels} 处见冲突明细表")
        logger.info("labelled %d of %d conflict patches", max_labels, len(labels))
    c.labels.extend(labels[:max_labels])


# --------------------------------------------------------------------------------------------
# Land use
# --------------------------------------------------------------------------------------------


def _ruleset(rules: str | _rules.RuleSet) -> _rules.RuleSet:
    return rules if isinstance(rules, _rules.RuleSet) else _rules.load(rules)


def _level1(code: Any) -> str | None:
    """First-level 用地用海 class of a code (``"0701"`` → ``"07"``); None when unreadable."""
    if code is None or (not isinstance(code, str) and pd.isna(code)):
        return None
    text = str(code).strip()
    if isinstance(code, (int, np.integer)):
        text = text.zfill(len(text) + len(text) % 2)
    if len(text) < 2 or not text[:2].isdigit():
        return None
    return text[:2]


def landuse_map(
    parcels: gpd.GeoDataFrame,
    *,
    landuse_col: str = "landuse_code",
    rules: str | _rules.RuleSet = "landuse",
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
    """Map parcels in the 用地用海 first-level class colours, with Chinese class names (用地用海分类图).

    Parameters
    ----------
    parcels : GeoDataFrame
        Land-use parcels with a CRS.
    landuse_col : str, default "landuse_code"
        用地用海 codes as strings (``"0701"``, ``"1001"`` …); the first two digits give the class.
        Integer codes are zero-padded to an even length. Parcels whose code cannot be read or is
        not in the rules are drawn grey and counted in the legend, never dropped. The 亩 beside
        each class in the legend is the area of the parcels drawn (whole parcels, not clipped to
        the towns; ``tz.intensity.summarize`` gives the per-town figures).
    rules : str or RuleSet, default "landuse"
        Rule set whose ``class`` table gives ``name_zh`` and ``colour`` per first-level code
        (colours are the usual planning palette, not checked against an official table).
    towns : GeoDataFrame, optional
        Town boundaries drawn on top, named from ``label_col``.
    label_col : str or None, default "name_zh"
        Column of ``towns`` with the names.
    roads, water : GeoDataFrame, optional
        Base layers.
    title, source, extent, font, figsize
        As in :func:`control_lines_map`; default title ``"用地用海分类图"``.

    Returns
    -------
    (matplotlib.figure.Figure, matplotlib.axes.Axes)
    """
    parcels = _metric(parcels, "parcels")
    _require_columns(parcels, [landuse_col], "parcels", "name the land-use code column with landuse_col=")
    classes: Mapping[str, Mapping[str, Any]] = _ruleset(rules)["class"]
    level1 = parcels[landuse_col].map(_level1)
    known = level1.isin(list(classes))
    with _canvas(parcels, font=font, figsize=figsize) as c:
        _draw_base(c, roads, water)
        colours = level1.map(lambda k: classes[k]["colour"] if k in classes else _UNKNOWN_COLOUR)
        _plot(parcels, c.ax, color=list(colours), edgecolor="white", linewidth=0.5, zorder=3)
        for key in sorted(set(level1[known])):
            area_m2 = float(parcels.geometry[level1 == key].area.sum())
            c.handles.append(
                Patch(
                    facecolor=classes[key]["colour"],
                    edgecolor="#808080",
                    linewidth=0.5,
                    label=f"{key} {classes[key]['name_zh']} ({units.m2_to_mu(area_m2):,.0f} 亩)",
                )
            )
        n_unknown = int((~known).sum())
        if n_unknown:
            bad = sorted({str(v) for v in parcels.loc[~known, landuse_col]})[:5]
            logger.warning("%d parcels have unreadable or unknown land-use codes, e.g. %s", n_unknown, bad)
            c.handles.append(
                Patch(facecolor=_UNKNOWN_COLOUR, edgecolor="#808080", label=f"代码无法识别 {n_unknown} 块")
            )
        towns = _draw_towns(c, towns, label_col)
        return _finish(
            c,
            title=title or "用地用海分类图",
            legend_title="用地用海分类 (一级类)",
            source=source,
            extent=extent,
            data_bounds=_bounds_union(parcels, towns),
        )


# --------------------------------------------------------------------------------------------
# Intensity (FAR)
# --------------------------------------------------------------------------------------------


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
        As in :func:`control_lines_map`; default title ``"开发强度: 容积率分布图"``.

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
            title=title or "开发强度: 容积率分布图",
            legend_title=label,
            source=source,
            extent=extent,
            data_bounds=bounds if raster is not None else _bounds_union(layer, towns),
        )


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


# --------------------------------------------------------------------------------------------
# Access (15-minute life circle)
# --------------------------------------------------------------------------------------------


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
    threshold_m : float, optional
        Distance for counting categories; default the 15-minute distance of the
        ``life_circle`` rules (1000 m).
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
    catalogue: Mapping[str, Mapping[str, Any]] = _rules.load("facilities")["category"]
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
    threshold = float(threshold_m) if threshold_m is not None else _fifteen_minute_m(levels)
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
        else:
            if not categories:
                msg = "no category columns to count; pass nearest=tz.access.nearest(...) or categories=[...]"
                raise SchemaError(msg, [msg])
            reached = (table[list(categories)].to_numpy(dtype=float) <= threshold).sum(axis=1)
            _homes_by_count(c, xs, ys, reached, unreachable, len(categories))
            legend_title = f"{threshold:g} m 内可达的设施类别数"
            default_title = '15分钟生活圈可达性: "八个一"设施覆盖'
            c.notes.append(f"计入的设施类别: {len(categories)} 类, 步行距离 ≤ {threshold:g} m")
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


def _homes_by_count(
    c: _Canvas, xs: np.ndarray, ys: np.ndarray, reached: np.ndarray, unreachable: np.ndarray, n: int
) -> None:
    colormap = plt.get_cmap("RdYlGn")
    for count in range(n + 1):
        sel = (reached == count) & ~unreachable
        if not sel.any():
            continue
        colour = to_hex(colormap(count / max(n, 1)))
        label = f"{count} 类" + (" (全部覆盖)" if count == n else "")
        _points(c, xs[sel], ys[sel], colour, f"{label} ({int(sel.sum())} 处)")


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
    """Facilities as triangles in their category colours.

    The count beside each category name is of the facilities inside the map frame ``view``; a
    category present in the data but not in the frame is listed as "图内无", so a town map shows
    which category the town lacks instead of a count from elsewhere.
    """
    facilities = _to(facilities, c.crs, "facilities")
    _require_columns(facilities, [category_col], "facilities", "name the category column with category_col=")
    if category is not None:
        facilities = facilities[facilities[category_col] == category]
    points = facilities.geometry.representative_point()
    xs, ys = points.x.to_numpy(), points.y.to_numpy()
    minx, miny, maxx, maxy = view
    inside = (xs >= minx) & (xs <= maxx) & (ys >= miny) & (ys <= maxy)
    present = [cat for cat in catalogue if (facilities[category_col] == cat).any()]
    present += sorted(set(facilities[category_col].dropna().astype(str)) - set(catalogue))
    for cat in present:
        sel = (facilities[category_col].astype(str) == cat).to_numpy() & inside
        spec = catalogue.get(cat, {})
        name = spec.get("name_zh", f"{cat} (目录外)")
        label = f"{name} ({int(sel.sum())})" if sel.any() else f"{name} (图内无)"
        _points(
            c, xs[sel], ys[sel], spec.get("colour", "#000000"), label, marker="^", size_pt=8, edge="black", zorder=11
        )
