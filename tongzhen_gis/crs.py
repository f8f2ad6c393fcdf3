"""Coordinate reference systems: metric zones for measuring, and web-map offsets (GCJ-02, BD-09).

Areas and distances are only ever measured in a metric CRS. :func:`to_metric` reprojects a
layer to the CGCS2000 3-degree Gauss-Krüger zone of its data (EPSG:4534–4554, no zone prefix;
EPSG:4549 for Hangzhou) and refuses a layer without a CRS.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
from pyproj import CRS, Transformer

from tongzhen_gis import settings
from tongzhen_gis.errors import CRSError

__all__ = ["metric_crs_for", "to_metric"]

logger = logging.getLogger(__name__)

# CGCS2000 / 3-degree Gauss-Kruger CM 75E .. CM 135E (zones 25..45), no zone prefix.
_GK3_FIRST_EPSG = 4534
_GK3_FIRST_ZONE = 25
_GK3_LAST_ZONE = 45
_WEB_MERCATOR = (3857, 900913, 3785, 102100)


def _lonlat_centre(gdf: gpd.GeoDataFrame) -> tuple[float, float]:
    if gdf.crs is None:
        raise CRSError(_missing_crs_message(gdf))
    minx, miny, maxx, maxy = gdf.total_bounds
    if not np.all(np.isfinite([minx, miny, maxx, maxy])):
        msg = "cannot choose a metric CRS for an empty layer; pass crs= explicitly (e.g. crs='EPSG:4549')"
        raise CRSError(msg)
    to_ll = Transformer.from_crs(gdf.crs, "EPSG:4326", always_xy=True)
    lon, lat = to_ll.transform((minx + maxx) / 2.0, (miny + maxy) / 2.0)
    return float(lon), float(lat)


def _missing_crs_message(gdf: gpd.GeoDataFrame) -> str:
    return (
        "layer has no coordinate reference system (CRS); set the one it was made in, e.g. "
        "gdf.set_crs('EPSG:4490') for CGCS2000 longitude/latitude, 'EPSG:4326' for WGS84, or "
        "'EPSG:4549' for CGCS2000 Gauss-Krüger CM 120E (on the CLI: --crs EPSG:4549)"
    )


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


def to_metric(gdf: gpd.GeoDataFrame, crs: str | int | CRS | None = None) -> gpd.GeoDataFrame:
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
    if gdf.crs is None:
        raise CRSError(_missing_crs_message(gdf))
    if crs is not None:
        target = CRS.from_user_input(crs)
        _check_metric(target)
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


def _check_metric(crs: CRS) -> None:
    if not _is_measurable(crs):
        msg = (
            f"{crs.to_string()} is not fit for measuring areas and distances "
            "(geographic, Web Mercator or not in metres); use a projected metric CRS such as "
            f"{settings.default_metric_crs} (CGCS2000 Gauss-Krüger CM 120E) for Hangzhou"
        )
        raise CRSError(msg)
