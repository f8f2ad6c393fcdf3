"""Coordinate reference systems: metric zones for measuring, and the two CRS preconditions.

Areas and distances are only ever measured in a metric CRS. :func:`to_metric` reprojects a
layer to the CGCS2000 3-degree Gauss-Krüger zone of its data (EPSG:4534–4554, no zone prefix;
EPSG:4549 for Hangzhou) and refuses a layer without a CRS. Every module checks its inputs with
the same two preconditions, so there is one message for each mistake:
:func:`require_crs` (a layer without a CRS, with the fix) and :func:`require_metric` (a CRS
unfit for measuring: geographic, Web Mercator or not in metres).

The web-map offsets (GCJ-02, BD-09) and :func:`~tongzhen_gis.webmap.suspect_gcj02` live in
:mod:`tongzhen_gis.webmap`; their names stay importable from here (``tz.crs.wgs84_to_gcj02``).
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
from pyproj import CRS, Transformer

from tongzhen_gis import settings
from tongzhen_gis.errors import CRSError

if TYPE_CHECKING:  # pragma: no cover - at run time these come from __getattr__, lazily
    from tongzhen_gis.webmap import (
        COORD_SYSTEMS,
        GCJ02Check,
        bd09_to_gcj02,
        bd09_to_wgs84,
        convert_coord_system,
        gcj02_to_bd09,
        gcj02_to_wgs84,
        suspect_gcj02,
        wgs84_to_bd09,
        wgs84_to_gcj02,
    )

__all__ = [
    "COORD_SYSTEMS",
    "GCJ02Check",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "convert_coord_system",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "metric_crs_for",
    "missing_crs_message",
    "require_crs",
    "require_metric",
    "suspect_gcj02",
    "to_metric",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

#: Names that moved to :mod:`tongzhen_gis.webmap`, still importable from here.
_WEBMAP_NAMES = frozenset(
    {
        "COORD_SYSTEMS",
        "GCJ02Check",
        "bd09_to_gcj02",
        "bd09_to_wgs84",
        "convert_coord_system",
        "gcj02_to_bd09",
        "gcj02_to_wgs84",
        "suspect_gcj02",
        "wgs84_to_bd09",
        "wgs84_to_gcj02",
    }
)

logger = logging.getLogger(__name__)


# CGCS2000 / 3-degree Gauss-Kruger CM 75E .. CM 135E (zones 25..45), no zone prefix.
_GK3_FIRST_EPSG = 4534
_GK3_FIRST_ZONE = 25
_GK3_LAST_ZONE = 45
_WEB_MERCATOR = (3857, 900913, 3785, 102100)


def _lonlat_centre(gdf: gpd.GeoDataFrame) -> tuple[float, float]:
    require_crs(gdf, what="the layer")
    minx, miny, maxx, maxy = gdf.total_bounds
    if not np.all(np.isfinite([minx, miny, maxx, maxy])):
        msg = "cannot choose a metric CRS for an empty layer; pass crs= explicitly (e.g. crs='EPSG:4549')"
        raise CRSError(msg)
    to_ll = Transformer.from_crs(gdf.crs, "EPSG:4326", always_xy=True)
    lon, lat = to_ll.transform((minx + maxx) / 2.0, (miny + maxy) / 2.0)
    return float(lon), float(lat)


def missing_crs_message(what: str) -> str:
    """The one message for a layer without a CRS: what is wrong and how to fix it.

    :func:`require_crs` raises it; validators that collect every problem before raising
    (:func:`tongzhen_gis.schema.validate`) list it.

    Parameters
    ----------
    what : str
        The subject of the sentence, e.g. ``"towns"``, ``"the road layer"`` or a file path.

    Returns
    -------
    str

    Examples
    --------
    >>> missing_crs_message("zones").split(";")[0]
    'zones has no coordinate reference system (CRS)'
    """
    return (
        f"{what} has no coordinate reference system (CRS); declare the one it was made in: EPSG:4490 for "
        "CGCS2000 longitude/latitude, EPSG:4326 for WGS84 (GPS, OpenStreetMap, web maps) or EPSG:4549 for "
        "CGCS2000 Gauss-Krüger CM 120E (Hangzhou), e.g. gdf.set_crs('EPSG:4549') on a layer or "
        "read_layer(path, crs='EPSG:4549') when reading a file"
    )


def require_crs(gdf: gpd.GeoDataFrame | gpd.GeoSeries, *, what: str) -> CRS:
    """Refuse a layer without a coordinate reference system, with the fix.

    Parameters
    ----------
    gdf : GeoDataFrame or GeoSeries
        The layer (anything with a ``crs`` attribute).
    what : str
        How to call the layer in the message, e.g. ``"zones"`` or ``"the road layer"``.

    Returns
    -------
    pyproj.CRS
        The layer's CRS.

    Raises
    ------
    CRSError
        ``gdf.crs`` is None; the message is :func:`missing_crs_message` and ``param`` is
        ``"crs"``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> require_crs(gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=4549), what="homes").to_epsg()
    4549
    """
    crs = getattr(gdf, "crs", None)
    if crs is None:
        raise CRSError(missing_crs_message(what), param="crs")
    return CRS.from_user_input(crs)


def metric_crs_for(obj: gpd.GeoDataFrame | gpd.GeoSeries | tuple[float, float]) -> CRS:
    """The metric CRS to measure ``obj`` in.

    Inside China's longitudes (73.5–135.5°E) this is the CGCS2000 3-degree Gauss-Krüger zone
    (EPSG:4534–4554, no zone prefix) whose central meridian is nearest the data's centre:
    zone = round(lon / 3). Elsewhere it is the WGS84 UTM zone of the centre.

    Parameters
    ----------
    obj : GeoDataFrame, GeoSeries or (lon, lat)
        Data with a CRS, or a longitude/latitude pair in degrees.

    Returns
    -------
    pyproj.CRS

    Raises
    ------
    CRSError
        When ``obj`` has no CRS or is empty.

    Examples
    --------
    >>> metric_crs_for((120.15, 30.25)).to_epsg()
    4549
    """
    if isinstance(obj, tuple):
        lon, lat = float(obj[0]), float(obj[1])
    else:
        lon, lat = _lonlat_centre(obj)
    zone = round(lon / 3.0)
    if _GK3_FIRST_ZONE <= zone <= _GK3_LAST_ZONE and 15.0 <= lat <= 56.0:
        return CRS.from_epsg(_GK3_FIRST_EPSG + zone - _GK3_FIRST_ZONE)
    utm = int((lon + 180.0) // 6.0) + 1
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + utm)


def to_metric(gdf: gpd.GeoDataFrame, *, crs: str | int | CRS | None = None) -> gpd.GeoDataFrame:
    """Return a copy of ``gdf`` in a metric CRS, fit for areas and distances.

    A layer already in a projected metric CRS other than Web Mercator is returned unchanged
    (as a copy) unless ``crs`` asks for another. Geographic input (EPSG:4326, 4490 …) and Web
    Mercator (EPSG:3857, whose areas are about 1.3× too large at Hangzhou's latitude) are
    reprojected to ``crs`` or to :func:`metric_crs_for` the data. Every feature and the index
    are kept.

    Parameters
    ----------
    gdf : GeoDataFrame
        Must have a CRS.
    crs : CRS-like, optional
        Target metric CRS. Must be projected, in metres, and not Web Mercator.

    Returns
    -------
    GeoDataFrame

    Raises
    ------
    CRSError
        ``gdf`` has no CRS, or ``crs`` is geographic, Web Mercator or not in metres.
    """
    require_crs(gdf, what="the layer")
    if crs is not None:
        target = require_metric(crs, what="crs=")
    elif _is_measurable(gdf.crs):
        return gdf.copy()
    else:
        target = metric_crs_for(gdf)
    if CRS.from_user_input(gdf.crs) == target:
        return gdf.copy()
    logger.debug("reprojecting %d features from %s to %s", len(gdf), gdf.crs.to_string(), target.to_string())
    return gdf.to_crs(target)


def _is_web_mercator(crs: CRS) -> bool:
    epsg = crs.to_epsg()
    return epsg in _WEB_MERCATOR or "Pseudo-Mercator" in crs.name or "Popular Visualisation" in crs.name


def _is_measurable(crs: CRS) -> bool:
    crs = CRS.from_user_input(crs)
    if not crs.is_projected or _is_web_mercator(crs):
        return False
    units = {ax.unit_name for ax in crs.axis_info}
    return units <= {"metre", "meter"}


def require_metric(crs: Any, *, what: str) -> CRS:
    """Refuse a CRS unfit for measuring areas and distances: geographic, Web Mercator or not in metres.

    Parameters
    ----------
    crs : CRS-like
        The CRS to check (a :class:`pyproj.CRS`, ``"EPSG:4549"``, 4549 …).
    what : str
        What holds this CRS, for the message, e.g. ``"the raster"`` or ``"crs="``.

    Returns
    -------
    pyproj.CRS
        ``crs`` as a :class:`pyproj.CRS`.

    Raises
    ------
    CRSError
        ``crs`` is geographic, Web Mercator (EPSG:3857, areas about 1.3× too large at
        Hangzhou's latitude) or not in metres; the message names a CRS to use instead.

    Examples
    --------
    >>> require_metric("EPSG:4549", what="the grid").to_epsg()
    4549
    """
    crs = CRS.from_user_input(crs)
    if not _is_measurable(crs):
        msg = (
            f"{what} is in {crs.to_string()}, which is not fit for measuring areas and distances "
            "(geographic, Web Mercator or not in metres); use a projected metric CRS such as "
            f"{settings.default_metric_crs} (CGCS2000 Gauss-Krüger CM 120E) for Hangzhou"
        )
        raise CRSError(msg)
    return crs


def __getattr__(name: str) -> Any:
    # Imported lazily so that neither module needs the other at import time.
    if name in _WEBMAP_NAMES:
        value = getattr(importlib.import_module("tongzhen_gis.webmap"), name)
        globals()[name] = value
        return value
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted({*globals(), *_WEBMAP_NAMES})
