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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import shapely
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
    "AREA_OF_USE_MARGIN_DEG",
    "COORD_SYSTEMS",
    "CoordinateDiagnosis",
    "GCJ02Check",
    "area_of_use_box",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "convert_coord_system",
    "diagnose_coordinates",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "measuring_crs",
    "metric_crs_for",
    "missing_crs_message",
    "nonfinite_coordinates",
    "outside_area_of_use",
    "require_crs",
    "require_metric",
    "suggest_crs",
    "suspect_gcj02",
    "swap_xy",
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


def missing_crs_message(what: str, *, suggestion: CoordinateDiagnosis | None = None) -> str:
    """The one message for a layer without a CRS: what is wrong and how to fix it.

    :func:`require_crs` raises it; validators that collect every problem before raising
    (:func:`tongzhen_gis.schema.validate`) list it.

    Parameters
    ----------
    what : str
        The subject of the sentence, e.g. ``"towns"``, ``"the road layer"`` or a file path.
    suggestion : CoordinateDiagnosis, optional
        What the coordinates look like (:func:`suggest_crs`): its sentence and code lead the
        message instead of the generic list.

    Returns
    -------
    str

    Examples
    --------
    >>> missing_crs_message("zones").split(";")[0]
    'zones has no coordinate reference system (CRS)'
    """
    if suggestion is not None and suggestion.crs is not None:
        return (
            f"{what} has no coordinate reference system (CRS); {suggestion.text}: declare it with "
            f"read_layer(path, crs={suggestion.crs!r}) when reading a file or gdf.set_crs({suggestion.crs!r}) "
            "on a layer"
        )
    if suggestion is not None and suggestion.param == "swap_xy":
        return (
            f"{what} has no coordinate reference system (CRS); {suggestion.text}: read it with swap_xy=True "
            "and declare its CRS (e.g. crs='EPSG:4490' for CGCS2000 longitude/latitude)"
        )
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
    target = require_metric(crs, what="crs=") if crs is not None else measuring_crs(gdf)
    if CRS.from_user_input(gdf.crs) == target:
        return gdf.copy()
    logger.debug("reprojecting %d features from %s to %s", len(gdf), gdf.crs.to_string(), target.to_string())
    return gdf.to_crs(target)


def measuring_crs(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> CRS:
    """The CRS :func:`to_metric` measures ``gdf`` in (without reprojecting anything).

    The layer's own CRS when it is projected, in metres and not Web Mercator; otherwise
    :func:`metric_crs_for` the data. Use it to put a frame or a distance in the same CRS as a
    layer another function will reproject (a map's extent, a buffer).

    Parameters
    ----------
    gdf : GeoDataFrame or GeoSeries
        Must have a CRS.

    Returns
    -------
    pyproj.CRS

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> measuring_crs(gpd.GeoSeries([Point(120.15, 30.25)], crs=4326)).to_epsg()
    4549
    """
    crs = require_crs(gdf, what="the layer")
    return crs if _is_measurable(crs) else metric_crs_for(gdf)


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


# ---------------------------------------------------------------------------------------------
# Coordinates against the CRS they claim: area of use, zone prefix, swapped axes, NaN
# ---------------------------------------------------------------------------------------------

#: How far (degrees) a layer may reach past its CRS's area of use before its coordinates are
#: doubted. A city keeps one Gauss-Krüger zone for districts just beyond the zone's edge
#: (Chun'an, Hangzhou, lies at 118.3°E, west of EPSG:4549's 118.5°E); a zone prefix, swapped
#: axes or a wrong CRS put coordinates hundreds of kilometres away or farther.
AREA_OF_USE_MARGIN_DEG = 1.5
# CGCS2000 3-degree Gauss-Krüger with the zone number in front of X: EPSG:4513 (zone 25) ... 4533.
_GK3_PREFIX_FIRST_EPSG = 4513
_ZONE_PREFIX_M = 1_000_000.0
_LONLAT_CANDIDATES = ("EPSG:4490", "EPSG:4326")


@dataclass(frozen=True)
class CoordinateDiagnosis:
    """What a layer's coordinates look like, from :func:`diagnose_coordinates` or :func:`suggest_crs`.

    Attributes
    ----------
    text : str
        One clause for a message, e.g. ``"its X values (40 500 000 …) carry the Gauss-Krüger zone
        number 40 in front: they are EPSG:4528 (…)"``.
    crs : str or None
        The CRS the coordinates fit (``"EPSG:4528"``), when one was found.
    param : {"crs", "swap_xy"} or None
        The keyword of :func:`tongzhen_gis.io.read_layer` that fixes it.
    """

    text: str
    crs: str | None = None
    param: str | None = None


def area_of_use_box(
    crs: Any, *, margin_deg: float = AREA_OF_USE_MARGIN_DEG
) -> tuple[float, float, float, float] | None:
    """The area of use of ``crs`` widened by ``margin_deg``, in the CRS's own coordinates.

    The area of use (pyproj, in degrees) is widened by ``margin_deg`` on every side, then
    transformed to the CRS (edges densified, so a Gauss-Krüger zone's curved edges are covered).
    Comparing features with it needs no transformation of the features, so coordinates such as
    1e12 or a zone-prefixed X are never fed to an inverse projection.

    Parameters
    ----------
    crs : CRS-like
        A CRS with an area of use (its own, or that of the EPSG code it matches).
    margin_deg : float, default :data:`AREA_OF_USE_MARGIN_DEG`

    Returns
    -------
    (minx, miny, maxx, maxy) or None
        None when pyproj knows no area of use for ``crs`` (a custom CRS).

    Examples
    --------
    >>> [round(v / 1000) for v in area_of_use_box("EPSG:4549", margin_deg=0)]
    [348, 2703, 652, 5912]
    """
    crs = CRS.from_user_input(crs)
    area = crs.area_of_use
    if area is None:
        epsg = crs.to_epsg(min_confidence=70)
        area = CRS.from_epsg(epsg).area_of_use if epsg is not None else None
    if area is None:
        return None
    west, south, east, north = area.bounds
    if east < west:  # an area crossing the antimeridian
        west, east = -180.0, 180.0
    west, east = max(west - margin_deg, -180.0), min(east + margin_deg, 180.0)
    south, north = max(south - margin_deg, -90.0), min(north + margin_deg, 90.0)
    if crs.is_geographic:
        return west, south, east, north
    to_crs = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    box = to_crs.transform_bounds(west, south, east, north, densify_pts=21)
    return tuple(float(v) for v in box) if np.all(np.isfinite(box)) else None  # type: ignore[return-value]


def nonfinite_coordinates(geoms: gpd.GeoSeries | np.ndarray) -> np.ndarray:
    """Which geometries hold a NaN or infinite X or Y (Z is not looked at).

    Parameters
    ----------
    geoms : GeoSeries or array of shapely geometries (None allowed)

    Returns
    -------
    numpy.ndarray of bool
        One flag per geometry; False for missing or empty ones.

    Examples
    --------
    >>> from shapely import Point
    >>> nonfinite_coordinates(np.array([Point(1, 2), Point(float("nan"), 2), None], dtype=object)).tolist()
    [False, True, False]
    """
    arr = np.asarray(getattr(geoms, "array", geoms), dtype=object)
    coords, index = shapely.get_coordinates(arr, return_index=True)
    bad = ~np.isfinite(coords).all(axis=1)
    return np.bincount(index[bad], minlength=len(arr)).astype(bool)


def outside_area_of_use(
    gdf: gpd.GeoDataFrame | gpd.GeoSeries, *, margin_deg: float = AREA_OF_USE_MARGIN_DEG
) -> np.ndarray:
    """Which features lie outside the area of use of the layer's CRS (widened by ``margin_deg``).

    Each feature's bounding box is compared with :func:`area_of_use_box` in the layer's own
    coordinates (vectorised). A feature with a NaN or infinite coordinate counts as outside;
    missing and empty geometries do not.

    Parameters
    ----------
    gdf : GeoDataFrame or GeoSeries
        Must have a CRS.
    margin_deg : float, default :data:`AREA_OF_USE_MARGIN_DEG`

    Returns
    -------
    numpy.ndarray of bool
        One flag per feature, in order. All False when pyproj knows no area of use for the CRS.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> pts = gpd.GeoSeries([Point(500_000, 3_340_000), Point(40_500_000, 3_340_000)], crs=4549)
    >>> outside_area_of_use(pts).tolist()
    [False, True]
    """
    crs = require_crs(gdf, what="the layer")
    arr = np.asarray(gdf.geometry.array if isinstance(gdf, gpd.GeoDataFrame) else gdf.array, dtype=object)
    present = ~shapely.is_missing(arr) & ~shapely.is_empty(arr)
    box = area_of_use_box(crs, margin_deg=margin_deg)
    out = np.zeros(len(arr), dtype=bool)
    if box is None or not present.any():
        return out
    bounds = shapely.bounds(arr[present])
    with np.errstate(invalid="ignore"):
        inside = (
            (bounds[:, 0] >= box[0]) & (bounds[:, 1] >= box[1]) & (bounds[:, 2] <= box[2]) & (bounds[:, 3] <= box[3])
        )
    out[present] = ~inside | nonfinite_coordinates(arr[present])
    return out


def _fits(bounds: tuple[float, float, float, float], crs: Any) -> bool:
    box = area_of_use_box(crs)
    return (
        box is not None and bounds[0] >= box[0] and bounds[1] >= box[1] and bounds[2] <= box[2] and bounds[3] <= box[3]
    )


def _crs_text(code: str) -> str:
    return f"{code} ({CRS.from_user_input(code).name})"


def _ranges(bounds: tuple[float, float, float, float]) -> str:
    minx, miny, maxx, maxy = bounds
    digits = 0 if max(abs(minx), abs(maxx), abs(miny), abs(maxy)) > 1000 else 4
    return f"X {minx:,.{digits}f}…{maxx:,.{digits}f}, Y {miny:,.{digits}f}…{maxy:,.{digits}f}"


def _gk3_zone(crs: CRS | None) -> int | None:
    """The zone (25–45) of a CGCS2000 3-degree Gauss-Krüger CRS, with or without prefix; else None."""
    epsg = crs.to_epsg(min_confidence=70) if crs is not None else None
    if epsg is None:
        return None
    if _GK3_PREFIX_FIRST_EPSG <= epsg < _GK3_FIRST_EPSG:
        return _GK3_FIRST_ZONE + epsg - _GK3_PREFIX_FIRST_EPSG
    if _GK3_FIRST_EPSG <= epsg <= _GK3_FIRST_EPSG + _GK3_LAST_ZONE - _GK3_FIRST_ZONE:
        return _GK3_FIRST_ZONE + epsg - _GK3_FIRST_EPSG
    return None


def _fitting_crs(bounds: tuple[float, float, float, float], label: CRS | None) -> tuple[str, str] | None:
    """A CRS whose area of use holds ``bounds`` and the reason, trying the usual Chinese ones; None if none."""
    minx, _, maxx, _ = bounds
    if all(_fits(bounds, code) for code in _LONLAT_CANDIDATES):
        return "EPSG:4490", (
            "they look like longitude/latitude degrees: EPSG:4490 (CGCS2000) for official data, "
            "EPSG:4326 (WGS84) for GPS and OpenStreetMap"
        )
    zone = int(minx // _ZONE_PREFIX_M)
    if _GK3_FIRST_ZONE <= zone <= _GK3_LAST_ZONE and int(maxx // _ZONE_PREFIX_M) == zone:
        code = f"EPSG:{_GK3_PREFIX_FIRST_EPSG + zone - _GK3_FIRST_ZONE}"
        if _fits(bounds, code):
            return code, (
                f"their X values ({minx:,.0f}…) carry the Gauss-Krüger zone number {zone} in front: "
                f"they are {_crs_text(code)}"
            )
    labelled_zone = _gk3_zone(label)
    zones = [labelled_zone] if labelled_zone is not None else []
    zones += [z for z in range(_GK3_FIRST_ZONE, _GK3_LAST_ZONE + 1) if z not in zones]
    default = CRS.from_user_input(settings.default_metric_crs).to_epsg()
    if default is not None and labelled_zone is None:
        default_zone = _GK3_FIRST_ZONE + default - _GK3_FIRST_EPSG
        if _GK3_FIRST_ZONE <= default_zone <= _GK3_LAST_ZONE:
            zones.remove(default_zone)
            zones.insert(0, default_zone)
    for z in zones:
        code = f"EPSG:{_GK3_FIRST_EPSG + z - _GK3_FIRST_ZONE}"
        if _fits(bounds, code):
            return code, (
                f"they look like CGCS2000 Gauss-Krüger metres without a zone number in X, e.g. {_crs_text(code)} "
                "(the X values fit every zone: choose the one of your data's central meridian)"
            )
    return None


def diagnose_coordinates(
    bounds: tuple[float, float, float, float] | np.ndarray, crs: Any | None = None
) -> CoordinateDiagnosis:
    """Say what coordinates within ``bounds`` look like, when they do not fit ``crs``.

    Tried in this order: X and Y swapped (latitude or northing first) in ``crs`` itself;
    longitude/latitude degrees (EPSG:4490/4326); CGCS2000 3-degree Gauss-Krüger with the zone
    number in front of X (an 8-digit X whose first two digits are the zone: EPSG:4513–4533);
    Gauss-Krüger without it (EPSG:4534–4554; the zone of ``crs`` if it is one, else
    :data:`tongzhen_gis.settings.default_metric_crs`); each of these with X and Y swapped.

    Parameters
    ----------
    bounds : (minx, miny, maxx, maxy)
        The coordinates' extent (``gdf.total_bounds``).
    crs : CRS-like, optional
        The CRS they claim; None for a file without one.

    Returns
    -------
    CoordinateDiagnosis
        ``crs`` names the fitting CRS, ``param`` the read_layer keyword that fixes it
        (``"crs"`` or ``"swap_xy"``); both None when nothing fits.

    Examples
    --------
    >>> d = diagnose_coordinates((40_480_000, 3_330_000, 40_520_000, 3_350_000), "EPSG:4549")
    >>> d.crs, d.param
    ('EPSG:4528', 'crs')
    >>> diagnose_coordinates((30.2, 120.1, 30.3, 120.2), "EPSG:4326").param
    'swap_xy'
    """
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    label = CRS.from_user_input(crs) if crs is not None else None
    here = f"the coordinates ({_ranges((minx, miny, maxx, maxy))})"
    if not np.all(np.isfinite([minx, miny, maxx, maxy])):
        return CoordinateDiagnosis(f"{here} are not finite numbers")
    swapped = (miny, minx, maxy, maxx)
    if label is not None and _fits(swapped, label):
        axes = "latitude before longitude" if label.is_geographic else "northing (Y) before easting (X)"
        return CoordinateDiagnosis(f"{here} fit {label.to_string()} with X and Y swapped ({axes})", param="swap_xy")
    found = _fitting_crs((minx, miny, maxx, maxy), label)
    if found is not None and (label is None or not CRS.from_user_input(found[0]).equals(label)):
        return CoordinateDiagnosis(f"{here}: {found[1]}", crs=found[0], param="crs")
    found = _fitting_crs(swapped, label)
    if found is not None:
        return CoordinateDiagnosis(
            f"{here} fit {found[0]} with X and Y swapped (latitude or northing first); {found[1]}",
            crs=found[0],
            param="swap_xy",
        )
    return CoordinateDiagnosis(f"{here} fit no CRS used in China (longitude/latitude, Gauss-Krüger)")


def suggest_crs(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> CoordinateDiagnosis | None:
    """The CRS a layer without one most likely is in, from its coordinates (for the no-``.prj`` message).

    Parameters
    ----------
    gdf : GeoDataFrame or GeoSeries
        Any layer; its CRS is ignored.

    Returns
    -------
    CoordinateDiagnosis or None
        None when the layer has no finite coordinates.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> suggest_crs(gpd.GeoSeries([Point(40_500_000, 3_340_000)])).crs
    'EPSG:4528'
    >>> suggest_crs(gpd.GeoSeries([Point(500_000, 3_340_000)])).crs
    'EPSG:4549'
    """
    geoms = gdf.geometry if isinstance(gdf, gpd.GeoDataFrame) else gdf
    arr = np.asarray(geoms.array, dtype=object)
    usable = ~shapely.is_missing(arr) & ~shapely.is_empty(arr) & ~nonfinite_coordinates(arr)
    if not usable.any():
        return None
    bounds = shapely.total_bounds(arr[usable])
    diagnosis = diagnose_coordinates(bounds, None)
    return diagnosis if diagnosis.param is not None else None


def swap_xy(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A copy of ``gdf`` with X and Y exchanged in every vertex (latitude-first or northing-first data).

    Parameters
    ----------
    gdf : GeoDataFrame

    Returns
    -------
    GeoDataFrame
        Same rows, columns, CRS and ``attrs``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> swap_xy(gpd.GeoDataFrame(geometry=[Point(30.25, 120.15)], crs=4326)).geometry[0].wkt
    'POINT (120.15 30.25)'
    """
    out = gdf.copy()
    out[gdf.geometry.name] = gpd.GeoSeries(
        shapely.transform(np.asarray(gdf.geometry.array, dtype=object), lambda xy: xy[:, ::-1]),
        index=gdf.index,
        crs=gdf.crs,
    )
    return out


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
