"""三条控制线核查图: towns (or parcels, or an extension) against the three control lines.

:func:`control_lines_map` draws the ecological red line (生态保护红线) and permanent farmland
(永久基本农田) as filled layers, the urban development boundary (城镇开发边界) as a dashed line,
the checked features outlined and named, and every conflict of ``tz.controllines.check``
highlighted and labelled with its area in m² and 亩. Per-source pieces are merged per feature and
line before labelling, so a label never counts an area twice; slivers at or below the check's
tolerance are outlined and counted, not labelled.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from tongzhen_gis import rules as _rules
from tongzhen_gis import units
from tongzhen_gis.errors import SchemaError
from tongzhen_gis.labels import VERDICT_ZH
from tongzhen_gis.maps._layers import (
    _bounds_union,
    _draw_base,
    _metric,
    _outline_features,
    _plot,
    _require_columns,
    _to,
)
from tongzhen_gis.maps.furniture import _Canvas, _canvas, _finish

__all__ = ["control_lines_map"]

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
        The legend lists only what is drawn in the frame: a layer with no feature there is named
        in the note ("图内无: …"), an empty layer too ("…: 图层无图斑").
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
        A Chinese font file; see :func:`tongzhen_gis.maps.fonts.resolve_font`.
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
            if not drawn:
                c.notes.append(f"{legend_name}: 图层无图斑")
                continue
            c.add_handle(Patch(facecolor=face, edgecolor=edge, alpha=alpha, label=legend_name), layer.geometry)
        if urban_boundary is not None:
            boundary = _to(urban_boundary, c.crs, "urban_boundary")
            _plot(boundary.boundary, c.ax, color=_BOUNDARY_COLOUR, linewidth=1.4, linestyle="--", zorder=4)
            c.add_handle(
                Line2D([], [], color=_BOUNDARY_COLOUR, linewidth=1.4, linestyle="--", label="城镇开发边界"),
                boundary.geometry,
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
            Patch(
                facecolor="none",
                edgecolor="#000000",
                linestyle=":",
                label=f"微小重叠 {len(slivers)} 处 ({VERDICT_ZH['review']})",
            )
        )
    if fragments:
        c.notes.append(f"另有 {fragments} 处 ≤ {fragment_m2:g} m² 的冲突碎片未标注面积")
    labels.sort(key=lambda item: -item[2])
    if len(labels) > max_labels:
        c.notes.append(f"仅标注面积最大的 {max_labels} 处冲突图斑, 另有 {len(labels) - max_labels} 处见冲突明细表")
        logger.info("labelled %d of %d conflict patches", max_labels, len(labels))
    c.labels.extend(labels[:max_labels])


def _area_text(area_m2: float) -> str:
    """Area in m² and 亩 on two lines; one more decimal for patches under 100 m²."""
    small = area_m2 < 100
    return f"{area_m2:,.{1 if small else 0}f} m²\n({units.m2_to_mu(area_m2):,.{2 if small else 1}f} 亩)"
