"""Charts and a map of the city view (城市总体目标): targets, trends, towns by verdict.

* :func:`city_targets_chart`: each city target as a bar of value / threshold;
* :func:`town_trends_chart`: one line per town of a figure over the years;
* :func:`city_verdict_map`: every town coloured by its verdict (:func:`tongzhen_gis.city.town_verdicts`).

Every chart is drawn with the Chinese font of the maps (:func:`tongzhen_gis.maps.fonts.resolve_font`),
inside a font context, so nothing changes matplotlib's global settings; the map has the page of
every map (:mod:`tongzhen_gis.maps.furniture`). The functions return ``(fig, ax)`` and never
save; write with :func:`tongzhen_gis.maps.export`.

Decisions
---------
* A target whose value is missing is drawn as an empty, hatched bar labelled 缺数据, never as
  a zero bar.
* Bars show value / threshold (1 = the threshold), so counts, shares and growth factors sit
  on one axis; the achieved value and the threshold are written beside each bar.
* The map colours each town by its verdict in the last year (:func:`tongzhen_gis.city.town_verdicts`:
  未达标, 预警, 无未达标项 (缺数据), 达标; 无数据 for a town the review does not know). Towns
  known only by a point are drawn as points, towns with a boundary as polygons.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from tongzhen_gis.errors import SchemaError
from tongzhen_gis.maps._layers import _metric, _require_columns
from tongzhen_gis.maps.fonts import font_context, font_properties, resolve_font
from tongzhen_gis.maps.furniture import _canvas, _finish

__all__ = ["VERDICT_COLOURS", "city_targets_chart", "city_verdict_map", "town_trends_chart"]

_STATUS_COLOURS = {"pass": "#1a9641", "fail": "#d7191c", "missing": "#bdbdbd", "not_applicable": "#e0e0e0"}
_STATUS_ZH = {"pass": "达标", "fail": "未达标", "missing": "缺数据", "not_applicable": "不适用"}
#: Colour of each verdict of :func:`tongzhen_gis.city.town_verdicts` (and of a town without one).
VERDICT_COLOURS = {
    "未达标": "#d7191c",
    "预警": "#fdae61",
    "无未达标项 (缺数据)": "#a6d96a",
    "达标": "#1a9641",
    "无数据": "#bdbdbd",
}


def _fmt(value: float, unit: str) -> str:
    if not math.isfinite(value):
        return "缺数据"
    if unit == "ratio":
        return f"{value:.1%}"
    return f"{value:g} {unit}"


def city_targets_chart(
    targets: pd.DataFrame,
    *,
    title: str | None = None,
    font: str | os.PathLike[str] | None = None,
) -> tuple[Figure, Axes]:
    """Each city target as a bar of value / threshold, coloured by status.

    Parameters
    ----------
    targets : pandas.DataFrame
        From :func:`tongzhen_gis.city.city_targets`.
    title : str, optional
        Default "城市总体目标 {year}年".
    font : str or path-like, optional
        A font file (see :func:`tongzhen_gis.maps.resolve_font`).

    Returns
    -------
    (Figure, Axes)
    """
    resolved = resolve_font(font)
    fp = font_properties(resolved, size=9)
    year = targets["year"].dropna().iloc[0] if targets["year"].notna().any() else None
    fig, ax = plt.subplots(figsize=(10.0, 0.45 * len(targets) + 1.6), layout="constrained")
    with font_context(resolved):
        y = np.arange(len(targets))[::-1]
        for yi, (_, row) in zip(y, targets.iterrows(), strict=True):
            value, threshold = float(row["value"]), float(row["threshold"])
            status = str(row["status"])
            ratio = value / threshold if math.isfinite(value) and threshold else math.nan
            if math.isfinite(ratio):
                ax.barh(yi, ratio, color=_STATUS_COLOURS.get(status, "#999999"), height=0.6)
            else:
                ax.barh(yi, 1.0, color="none", edgecolor="#999999", hatch="///", height=0.6)
            mark = " (鼓励)" if row["advisory"] else (" (未核实)" if not row["confirmed"] else "")
            judged = f"{row['comparator']} {_fmt(threshold, row['unit'])}  {_STATUS_ZH.get(status, status)}{mark}"
            text = f"{_fmt(value, row['unit'])} / {judged}"
            ax.text(max(ratio, 1.0) if math.isfinite(ratio) else 1.0, yi, "  " + text, va="center", fontproperties=fp)
        ax.axvline(1.0, color="black", lw=1, ls="--")
        ax.set_yticks(y, [str(s) for s in targets["label_zh"]], fontproperties=fp)
        ax.set_xlabel("达成值 / 目标值 (1 = 目标)", fontproperties=fp)
        finite = [v / t for v, t in zip(targets["value"], targets["threshold"], strict=True) if math.isfinite(v) and t]
        ax.set_xlim(0, max([1.0, *finite]) * 1.9)
        handles = [Patch(color=c, label=_STATUS_ZH[s]) for s, c in _STATUS_COLOURS.items() if s != "not_applicable"]
        ax.legend(handles=handles, loc="lower right", prop=fp, frameon=False)
        ax.set_title(
            title or f"城市总体目标 {'' if year is None else f'{int(year)}年'}",
            fontproperties=font_properties(resolved, size=13),
        )
    return fig, ax


def town_trends_chart(
    trends: pd.DataFrame,
    column: str,
    *,
    towns: Sequence[Any] | None = None,
    threshold: float | None = None,
    label: str | None = None,
    title: str | None = None,
    font: str | os.PathLike[str] | None = None,
) -> tuple[Figure, Axes]:
    """One line per town of a figure over the years (``CityReview.trends``).

    Parameters
    ----------
    trends : pandas.DataFrame
        Indexed by (town_id, year), from :func:`tongzhen_gis.city.review`.
    column : str
        The figure, e.g. ``"tax_per_mu"``.
    towns : sequence, optional
        Town ids to draw (default all).
    threshold : float, optional
        Drawn as a dashed line.
    label, title : str, optional
        Axis label and title (default: the column name).
    font : str or path-like, optional

    Returns
    -------
    (Figure, Axes)
    """
    if column not in trends.columns:
        msg = f"trends have no column {column!r}; columns: {list(trends.columns)}"
        raise SchemaError(msg, [msg])
    resolved = resolve_font(font)
    fp = font_properties(resolved, size=9)
    ids = list(dict.fromkeys(trends.index.get_level_values(0))) if towns is None else list(towns)
    fig, ax = plt.subplots(figsize=(9.0, 5.0), layout="constrained")
    with font_context(resolved):
        for town in ids:
            hist = trends.loc[town]
            name = hist["name_zh"].dropna().iloc[-1] if hist["name_zh"].notna().any() else str(town)
            ax.plot(hist.index, hist[column], marker="o", label=f"{town} {name}")
        if threshold is not None:
            ax.axhline(threshold, color="black", ls="--", lw=1, label=f"阈值 {threshold:g}")
        years = sorted(set(trends.index.get_level_values(1)))
        ax.set_xticks(years, [str(y) for y in years], fontproperties=fp)
        ax.set_xlabel("年份", fontproperties=fp)
        ax.set_ylabel(label or column, fontproperties=fp)
        ax.legend(prop=fp, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0), ncols=1 + len(ids) // 16)
        ax.set_title(title or label or column, fontproperties=font_properties(resolved, size=13))
    return fig, ax


def city_verdict_map(
    locations: gpd.GeoDataFrame,
    verdicts: pd.Series,
    *,
    id_col: str = "town_id",
    label_col: str | None = "name_zh",
    title: str = "特色小镇 评估结论",
    source: str | None = None,
    font: str | os.PathLike[str] | None = None,
    figsize: tuple[float, float] | None = None,
) -> tuple[Figure, Axes]:
    """All towns coloured by verdict: points where only a location is known, polygons otherwise.

    Parameters
    ----------
    locations : geopandas.GeoDataFrame
        Town points or boundaries with ``id_col`` (reprojected to a metric CRS if needed).
    verdicts : pandas.Series
        By town id, from :func:`tongzhen_gis.city.town_verdicts`; a town without one is 无数据.
    id_col, label_col : str
        Town id and label columns of ``locations``.
    title, source : str
        Title and data-source note.
    font : str or path-like, optional
        A font file (see :func:`tongzhen_gis.maps.fonts.resolve_font`).
    figsize : (float, float), optional
        Figure size in inches (default: 10 inches wide, height from the map's shape).

    Returns
    -------
    (Figure, Axes)
    """
    gdf = _metric(locations, "locations")
    _require_columns(gdf, [id_col], "locations", "pass id_col= with the town id column")
    verdict = gdf[id_col].map(verdicts).fillna("无数据")
    polygons = gdf.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    with _canvas(gdf, font=font, figsize=figsize) as c:
        for name, colour in VERDICT_COLOURS.items():
            sel = (verdict == name).to_numpy()
            if not sel.any():
                continue
            if (sel & polygons).any():
                gdf[sel & polygons].plot(ax=c.ax, color=colour, edgecolor="#404040", linewidth=0.6, zorder=5)
            if (sel & ~polygons).any():
                pts = gdf[sel & ~polygons].representative_point()
                c.ax.scatter(pts.x, pts.y, s=60, color=colour, edgecolor="#404040", linewidth=0.6, zorder=8)
            c.handles.append(Patch(facecolor=colour, edgecolor="#404040", label=f"{name} ({int(sel.sum())})"))
        if label_col and label_col in gdf.columns:
            fp = c.fp(size=7)
            for geom, text in zip(gdf.geometry.representative_point(), gdf[label_col], strict=True):
                c.ax.annotate(str(text), (geom.x, geom.y), xytext=(4, 4), textcoords="offset points", fontproperties=fp)
        minx, miny, maxx, maxy = gdf.total_bounds
        pad = max(maxx - minx, maxy - miny, 1_000.0) * 0.05
        return _finish(
            c,
            title=title,
            legend_title="评估结论 (最近一年)",
            source=source,
            extent=None,
            # room on the right for the labels and the north arrow
            data_bounds=(minx - pad, miny - pad, maxx + 4 * pad, maxy + pad),
        )
