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

import contextlib
import io as _bytes_io
import logging
import os
import warnings
from collections.abc import Iterator, Mapping, Sequence
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
from matplotlib.colors import ListedColormap, to_hex
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from pyproj import CRS
from shapely import box

from tongzhen_gis import crs as _crs
from tongzhen_gis import rules as _rules
from tongzhen_gis import units
from tongzhen_gis._fonts import FontNotFoundError, ResolvedFont, font_context, font_properties, resolve_font
from tongzhen_gis.errors import CRSError, InputFileError, SchemaError
from tongzhen_gis.raster import Raster

__all__ = [
    "FontNotFoundError",
    "access_map",
    "control_lines_map",
    "export",
    "intensity_map",
    "landuse_map",
    "resolve_font",
]

logger = logging.getLogger(__name__)

#: Note printed when the caller does not name the data source.
UNKNOWN_SOURCE = "未注明 (请用 source= 注明)"
#: Formats :func:`export` writes, by file suffix.
EXPORT_FORMATS = {".png": "png", ".pdf": "pdf", ".svg": "svg"}

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
_ROAD_COLOUR = "#9e9e9e"
_WATER_COLOUR = "#a6cee3"
_FEATURE_EDGE = "#252525"
# A light box behind labels instead of a path-effect halo: path effects turn text into outlines,
# and a PDF's labels must stay searchable text.
_HALO_BOX = {"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.7}

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
# Shared map furniture
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


@contextlib.contextmanager
def _seeded_numpy(seed: int) -> Iterator[None]:
    """Seed NumPy's global generator for the block and restore its state afterwards.

    mapclassify's NaturalBreaks runs k-means from random starts on the global generator; seeding
    makes the same data give the same classes on every run (a report map must be reproducible).
    """
    state = np.random.get_state()  # noqa: NPY002 (mapclassify uses the global generator)
    np.random.seed(seed)  # noqa: NPY002 (mapclassify uses the global generator)
    try:
        yield
    finally:
        np.random.set_state(state)  # noqa: NPY002 (mapclassify uses the global generator)


def _classify(
    values: np.ndarray, scheme: str, k: int, classify_kwds: Mapping[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    """Class index per value and upper bounds per class (mapclassify), k reduced to the unique count."""
    import mapclassify

    unique = np.unique(values)
    # values closer than 1e-12 × max(largest magnitude, 1) count as one (NaturalBreaks' k-means
    # cannot separate them and fails): k is reduced to the values a map can tell apart
    scale = max(float(np.abs(unique).max()), 1.0)
    distinct = len(np.unique(np.round(unique / scale, 12)))
    if distinct == 1:
        return np.zeros(len(values), dtype=int), unique[-1:].astype(float)
    kwds = dict(classify_kwds)
    if scheme.lower().replace("_", "") not in ("userdefined", "percentiles", "boxplot", "stdmean", "headtailbreaks"):
        kwds["k"] = min(k, distinct)
    with _seeded_numpy(0), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        classifier = mapclassify.classify(values, scheme, **kwds)
    for warning in caught:  # e.g. quantiles that coincide: fewer classes, which the legend shows
        logger.info("mapclassify %s: %s", scheme, warning.message)
    return np.asarray(classifier.yb, dtype=int), np.asarray(classifier.bins, dtype=float)


def _class_labels(bins: np.ndarray, lowest: float, fmt: str) -> list[str]:
    lows = [lowest, *bins[:-1]]
    return [f"{fmt.format(lo)} – {fmt.format(hi)}" for lo, hi in zip(lows, bins, strict=True)]


def _class_colours(cmap: str, n: int) -> list[str]:
    colormap = plt.get_cmap(cmap)
    if n == 1:
        return [to_hex(colormap(0.6))]
    return [to_hex(colormap(0.15 + 0.85 * i / (n - 1))) for i in range(n)]


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
    if CRS.from_user_input(_crs.to_metric(frame).crs) != raster.crs:
        msg = (
            f"the raster is in {raster.crs.to_string()}, not a metric CRS, so a scale bar would be wrong; "
            "build or warp it to a metric CRS first (e.g. tz.intensity.floor_area_grid makes one in the "
            "buildings' metric CRS; gdalwarp -t_srs EPSG:4549 for a file)"
        )
        raise CRSError(msg)
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
