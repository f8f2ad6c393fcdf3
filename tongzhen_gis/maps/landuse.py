"""用地用海分类图: parcels in the first-level class colours of the land-use rules.

:func:`landuse_map` colours each parcel by the first two digits of its 用地用海 code, with the
class names, colours and legend order from ``rules/landuse.toml``; the legend gives the area of
each class in 亩. A parcel whose code cannot be read or is not in the rules is drawn grey and
counted, never dropped.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from tongzhen_gis import rules as _rules
from tongzhen_gis import schema, units
from tongzhen_gis.maps._layers import (
    _bounds_union,
    _draw_base,
    _draw_towns,
    _metric,
    _plot,
    _require_columns,
)
from tongzhen_gis.maps.furniture import _canvas, _finish

__all__ = ["landuse_map"]

logger = logging.getLogger(__name__)

_UNKNOWN_COLOUR = "#bdbdbd"


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
    ruleset = _rules.load(rules)
    classes: Mapping[str, Mapping[str, Any]] = ruleset["class"]
    # the one land-use decision of the package (numbers that lost their leading zero are read as codes)
    level1 = schema.landuse_classes(parcels[landuse_col], landuse_rules=ruleset, repair_numbers=True)["level1"]
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
