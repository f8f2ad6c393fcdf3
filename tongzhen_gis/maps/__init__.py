"""Report maps with Chinese titles and legends (成果图), ready for a review report.

One function per map, each taking in-memory layers and returning ``(fig, ax)``; nothing is
written unless :func:`export` is called:

* :func:`control_lines_map`: towns (or parcels, or an extension) against the three control lines
  (三条控制线), conflicting patches highlighted and labelled with their area in m² and 亩;
* :func:`landuse_map`: parcels in the 用地用海 class colours of the rules, Chinese class names;
* :func:`intensity_map`: a FAR grid (:class:`~tongzhen_gis.raster.Raster`) or a per-parcel
  value classified with mapclassify;
* :func:`access_map`: homes coloured by walking distance to one category or by the number of
  "八个一" categories reached, with service areas and facilities;
* :func:`city_verdict_map`, :func:`city_targets_chart`, :func:`town_trends_chart`: the city view
  (:mod:`tongzhen_gis.city`): towns by verdict, the city targets against their thresholds, and
  each town's figures over the years.

Every map has a Chinese title and legend, a scale bar (matplotlib-scalebar), a north arrow, a note
with the CRS and the data source, and optional base layers (roads, water). Layers are drawn in
a metric CRS (:func:`tongzhen_gis.crs.to_metric` of the main layer; the others are reprojected to
it), so the scale bar is true. The north arrow points to grid north: in a 3-degree Gauss-Krüger
zone the angle to true north is below 1.5°.

Chinese text uses the font found by :func:`tongzhen_gis.maps.fonts.resolve_font` (``font=`` or
``$TONGZHEN_FONT``, then Noto Sans CJK SC from ``noto-cjk-sans-otc``, then SimHei / Microsoft
YaHei / PingFang). Global ``matplotlib.rcParams`` are never changed: the figure is built inside a
``matplotlib.rc_context`` and every text artist carries the font explicitly.

Modules of the package (the public names are re-exported here, so import them from ``tz.maps``):

* :mod:`~tongzhen_gis.maps.control_lines`, :mod:`~tongzhen_gis.maps.landuse`,
  :mod:`~tongzhen_gis.maps.intensity`, :mod:`~tongzhen_gis.maps.access`: one map each, with its
  own layers, styles and legend entries; :mod:`~tongzhen_gis.maps.city`: the city view's two
  charts and map;
* :mod:`~tongzhen_gis.maps.furniture`: the page every map shares (canvas, frame and automatic
  size, title, legend, scale bar, north arrow, CRS/source note, area labels, trimming);
* ``_layers`` (private): layer helpers the maps share (checks and reprojection to the map CRS,
  base layers, outlined towns, points with legend entries);
* :mod:`~tongzhen_gis.maps.classify`: value classes with mapclassify, their labels and colours;
* :mod:`~tongzhen_gis.maps.fonts`: finding and registering a Chinese font;
* ``_export`` (private module, public function ``tz.maps.export``): writing a map as PNG, PDF or SVG.

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

from tongzhen_gis.maps._export import EXPORT_FORMATS, export
from tongzhen_gis.maps.access import access_map
from tongzhen_gis.maps.city import city_targets_chart, city_verdict_map, town_trends_chart
from tongzhen_gis.maps.control_lines import control_lines_map
from tongzhen_gis.maps.fonts import FontNotFoundError, ResolvedFont, resolve_font
from tongzhen_gis.maps.furniture import UNKNOWN_SOURCE
from tongzhen_gis.maps.intensity import VALUE_LABELS_ZH, intensity_map
from tongzhen_gis.maps.landuse import landuse_map

__all__ = [
    "EXPORT_FORMATS",
    "UNKNOWN_SOURCE",
    "VALUE_LABELS_ZH",
    "FontNotFoundError",
    "ResolvedFont",
    "access_map",
    "city_targets_chart",
    "city_verdict_map",
    "control_lines_map",
    "export",
    "intensity_map",
    "landuse_map",
    "resolve_font",
    "town_trends_chart",
]
