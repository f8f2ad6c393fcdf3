"""Web-map coordinates in China: GCJ-02 and BD-09 offsets, and a test for undeclared GCJ-02.

Web maps in China shift their coordinates: Amap (高德) and Tencent publish GCJ-02, Baidu
BD-09 (GCJ-02 plus a second offset); in Hangzhou the shift is about 500 m. The functions
``wgs84_to_gcj02`` … ``bd09_to_wgs84`` convert NumPy arrays of longitude/latitude;
:func:`convert_coord_system` converts every vertex of a layer; :func:`suspect_gcj02` compares a
layer with a trusted reference to hint that it is GCJ-02, which no file can declare: polygons by
their footprints, points and lines by their distance to the nearest reference feature (e.g.
facilities copied from Amap against OpenStreetMap or official streets).

Every public name here is also importable from :mod:`tongzhen_gis.crs` (its former home).

Decisions
---------
* The offsets apply only inside the rectangle 72.004–137.8347°E, 0.8293–55.8271°N, the box
  web maps use; outside it (and for NaN) coordinates are returned unchanged, by every function.
* GCJ-02 has no closed inverse; the BD-09 inverse in circulation is approximate (up to about
  1 m off). Both inverses here are iterated until no point moves by more than 1e-7° (≈ 1 cm),
  so every round trip agrees within a centimetre.
* A converted layer keeps its CRS label (EPSG:4326 or 4490): WGS84 and CGCS2000 differ by
  centimetres, and GCJ-02 has no EPSG code.
* Only longitude/latitude can be GCJ-02: a projected CGCS2000 layer (official survey data) never
  is; :func:`suspect_gcj02` reports the distance check on a projected layer as not applicable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import ArrayLike
from pyproj import CRS, Geod

from tongzhen_gis.crs import metric_crs_for, require_crs
from tongzhen_gis.errors import CRSError, OptionError

__all__ = [
    "COORD_SYSTEMS",
    "GCJ02Check",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "convert_coord_system",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "normalise_coord_system",
    "suspect_gcj02",
    "undeclared_gcj02_note",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

logger = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------
# Web-map offsets: GCJ-02 (Amap, Tencent, Google China) and BD-09 (Baidu)
# ---------------------------------------------------------------------------------------------

#: Krasovsky 1940 ellipsoid used by the GCJ-02 formula: semi-major axis (m) and first
#: eccentricity squared.
_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323
#: The rectangle in which web maps apply the offset (longitude min/max, latitude min/max).
#: Outside it coordinates are returned unchanged.
_CHINA_BOX = (72.004, 137.8347, 0.8293, 55.8271)
#: Stop the GCJ-02 (and BD-09) inverse when no point moves by more than this many degrees.
_INVERSE_TOL_DEG = 1e-7
_INVERSE_MAX_ITER = 50
#: BD-09 constants: the angular factor and the false origin Baidu adds to GCJ-02.
_BD_X_PI = np.pi * 3000.0 / 180.0
_BD_DLON = 0.0065
_BD_DLAT = 0.006
#: suspect_gcj02: a footprint mismatch below this share of the reference's area is rounding.
_NEGLIGIBLE_MISMATCH = 1e-6

COORD_SYSTEMS = ("wgs84", "gcj02", "bd09")


def _as_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    lon_a, lat_a = np.broadcast_arrays(np.asarray(lon, dtype="float64"), np.asarray(lat, dtype="float64"))
    return lon_a.astype("float64", copy=True), lat_a.astype("float64", copy=True)


def _in_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    lon_min, lon_max, lat_min, lat_max = _CHINA_BOX
    return (lon >= lon_min) & (lon <= lon_max) & (lat >= lat_min) & (lat <= lat_max)


def _gcj_delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The GCJ-02 shift (degrees of longitude, latitude) at WGS84 ``lon``, ``lat``.

    The published obfuscation: two trigonometric series in the offsets from (105°E, 35°N),
    in metres, turned into degrees on the Krasovsky ellipsoid.
    """
    x = lon - 105.0
    y = lat - 35.0
    root = np.sqrt(np.abs(x))
    ripple = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    north_m = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * root + ripple
    north_m += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    north_m += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    east_m = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * root + ripple
    east_m += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    east_m += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    phi = np.radians(lat)
    w2 = 1.0 - _KRASOVSKY_EE * np.sin(phi) ** 2
    w = np.sqrt(w2)
    meridian_radius = _KRASOVSKY_A * (1.0 - _KRASOVSKY_EE) / (w2 * w)
    parallel_radius = _KRASOVSKY_A / w * np.cos(phi)
    dlat = north_m * 180.0 / (meridian_radius * np.pi)
    dlon = east_m * 180.0 / (parallel_radius * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Offset WGS84 longitude/latitude to GCJ-02 (the "Mars" coordinates of Amap and Tencent).

    Parameters
    ----------
    lon, lat : float or array_like
        Degrees, broadcast against each other.

    Returns
    -------
    (lon, lat) : tuple of numpy.ndarray
        float64 arrays of the broadcast shape (0-d for scalars). Points outside China's box
        (72.004–137.8347°E, 0.8293–55.8271°N) and NaNs are returned unchanged.

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02(120.15, 30.25)
    >>> round(float(lon), 4), round(float(lat), 4)
    (120.1547, 30.2477)
    """
    lon_a, lat_a = _as_arrays(lon, lat)
    inside = _in_china(lon_a, lat_a)
    dlon, dlat = _gcj_delta(lon_a[inside], lat_a[inside])
    lon_a[inside] += dlon
    lat_a[inside] += dlat
    return lon_a, lat_a


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Remove the GCJ-02 offset: GCJ-02 longitude/latitude back to WGS84.

    GCJ-02 has no closed inverse. Starting from ``gcj - delta(gcj)``, each step corrects the
    estimate by the residual ``wgs84_to_gcj02(estimate) - gcj`` until no point moves by more
    than 1e-7° (about 1 cm); the fixed point converges in a handful of steps because the
    offset varies slowly.

    Parameters
    ----------
    lon, lat : float or array_like
        GCJ-02 degrees, broadcast against each other.

    Returns
    -------
    (lon, lat) : tuple of numpy.ndarray
        WGS84 degrees. Points outside China's box and NaNs are returned unchanged.
    """
    lon_a, lat_a = _as_arrays(lon, lat)
    inside = _in_china(lon_a, lat_a)
    g_lon, g_lat = lon_a[inside], lat_a[inside]
    w_lon, w_lat = _inverse(g_lon, g_lat, _gcj_forward_inside, _gcj_first_guess)
    lon_a[inside] = w_lon
    lat_a[inside] = w_lat
    return lon_a, lat_a


def _gcj_forward_inside(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dlon, dlat = _gcj_delta(lon, lat)
    return lon + dlon, lat + dlat


def _gcj_first_guess(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dlon, dlat = _gcj_delta(lon, lat)
    return lon - dlon, lat - dlat


def _inverse(
    t_lon: np.ndarray,
    t_lat: np.ndarray,
    forward: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
    first_guess: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``forward(x) = target`` by fixed-point correction, per point, to ``_INVERSE_TOL_DEG``."""
    x_lon, x_lat = first_guess(t_lon, t_lat)
    active = np.isfinite(x_lon) & np.isfinite(x_lat)
    for _ in range(_INVERSE_MAX_ITER):
        if not active.any():
            break
        f_lon, f_lat = forward(x_lon[active], x_lat[active])
        step_lon = f_lon - t_lon[active]
        step_lat = f_lat - t_lat[active]
        x_lon[active] -= step_lon
        x_lat[active] -= step_lat
        moving = np.maximum(np.abs(step_lon), np.abs(step_lat)) >= _INVERSE_TOL_DEG
        idx = np.flatnonzero(active)
        active[idx[~moving]] = False
    else:
        if active.any():  # pragma: no cover - the iteration contracts by ~1e-4 per step
            logger.warning("offset inverse did not converge for %d point(s)", int(active.sum()))
    return x_lon, x_lat


def _bd_forward(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    radius = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _BD_X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _BD_X_PI)
    return radius * np.cos(theta) + _BD_DLON, radius * np.sin(theta) + _BD_DLAT


def _bd_first_guess(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = lon - _BD_DLON
    y = lat - _BD_DLAT
    radius = np.hypot(x, y) - 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_X_PI)
    return radius * np.cos(theta), radius * np.sin(theta)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Offset GCJ-02 longitude/latitude to Baidu's BD-09.

    BD-09 = GCJ-02 turned by a small position-dependent angle, stretched by a small
    position-dependent radius and shifted by (0.0065°, 0.006°). Points outside China's box and
    NaNs are returned unchanged.

    Parameters
    ----------
    lon, lat : float or array_like
        GCJ-02 degrees.

    Returns
    -------
    (lon, lat) : tuple of numpy.ndarray
        BD-09 degrees.
    """
    lon_a, lat_a = _as_arrays(lon, lat)
    inside = _in_china(lon_a, lat_a)
    lon_a[inside], lat_a[inside] = _bd_forward(lon_a[inside], lat_a[inside])
    return lon_a, lat_a


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Remove Baidu's BD-09 offset: BD-09 longitude/latitude back to GCJ-02.

    The closed formula circulating for this direction is only approximate (it evaluates the
    small corrections at the shifted point, up to about 1 m off); here it is the first guess,
    refined like :func:`gcj02_to_wgs84` until no point moves by more than 1e-7°, so
    ``bd09_to_gcj02(*gcj02_to_bd09(lon, lat))`` returns the input to about 1 cm.

    Parameters
    ----------
    lon, lat : float or array_like
        BD-09 degrees.

    Returns
    -------
    (lon, lat) : tuple of numpy.ndarray
        GCJ-02 degrees. Points outside China's box and NaNs are returned unchanged.
    """
    lon_a, lat_a = _as_arrays(lon, lat)
    inside = _in_china(lon_a, lat_a)
    lon_a[inside], lat_a[inside] = _inverse(lon_a[inside], lat_a[inside], _bd_forward, _bd_first_guess)
    return lon_a, lat_a


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 longitude/latitude to BD-09 (through GCJ-02); see :func:`gcj02_to_bd09`."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 longitude/latitude to WGS84 (through GCJ-02); see :func:`bd09_to_gcj02`."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


_CONVERTERS: dict[tuple[str, str], Callable[[ArrayLike, ArrayLike], tuple[np.ndarray, np.ndarray]]] = {
    ("gcj02", "wgs84"): gcj02_to_wgs84,
    ("wgs84", "gcj02"): wgs84_to_gcj02,
    ("bd09", "gcj02"): bd09_to_gcj02,
    ("gcj02", "bd09"): gcj02_to_bd09,
    ("bd09", "wgs84"): bd09_to_wgs84,
    ("wgs84", "bd09"): wgs84_to_bd09,
}


def normalise_coord_system(name: str, *, what: str = "") -> str:
    """The canonical name of a web-map coordinate system: ``"wgs84"``, ``"gcj02"`` or ``"bd09"``.

    Case, hyphens, underscores and spaces are ignored; ``"gcj"`` and ``"bd09ll"`` are accepted.

    Parameters
    ----------
    name : str
        E.g. ``"GCJ-02"``, ``"bd09"``, ``"WGS84"``.
    what : str, optional
        A word for the message (``"source"``, ``"target"``, ``"declared"``).

    Returns
    -------
    str
        One of :data:`COORD_SYSTEMS`.

    Raises
    ------
    OptionError
        An unknown name; the message lists the known ones and which web maps use them. Its
        ``param`` is ``what`` when that is ``"source"`` or ``"target"``, else ``"coord_system"``.

    Examples
    --------
    >>> normalise_coord_system("GCJ-02")
    'gcj02'
    """
    key = str(name).strip().lower().replace("-", "").replace("_", "").replace(" ", "")
    aliases = {"wgs84": "wgs84", "gcj02": "gcj02", "gcj": "gcj02", "bd09": "bd09", "bd09ll": "bd09"}
    if key not in aliases:
        msg = (
            f"unknown {what + ' ' if what else ''}coordinate system {name!r}; use one of {', '.join(COORD_SYSTEMS)} "
            "('gcj02' for Amap/Gaode, Tencent and Google China, 'bd09' for Baidu, 'wgs84' for GPS, "
            "OpenStreetMap and official CGCS2000 layers)"
        )
        raise OptionError(msg, param=what if what in ("source", "target") else "coord_system")
    return aliases[key]


def convert_coord_system(gdf: gpd.GeoDataFrame, source: str, target: str = "wgs84") -> gpd.GeoDataFrame:
    """Convert every vertex of every geometry between WGS84, GCJ-02 and BD-09.

    Web maps in China publish shifted coordinates: Amap (高德) and Tencent use GCJ-02
    (国测局坐标, "火星坐标"), Baidu uses BD-09. A file cannot reveal that it holds such
    coordinates (it usually claims EPSG:4326), so the caller declares ``source``. The offsets
    are defined on longitude/latitude, so the layer must be in a geographic CRS; its CRS label
    is kept (WGS84 and CGCS2000 differ by centimetres and are treated as equal).

    Parameters
    ----------
    gdf : GeoDataFrame
        Layer in longitude/latitude (EPSG:4326, EPSG:4490 …).
    source : {"wgs84", "gcj02", "bd09"}
        Coordinate system the vertices are really in.
    target : {"wgs84", "gcj02", "bd09"}, default "wgs84"
        Coordinate system wanted.

    Returns
    -------
    GeoDataFrame
        A copy with the same index, columns and CRS label. ``attrs["coord_system"]`` is
        ``target`` and ``attrs["coord_conversions"]`` lists every conversion applied so far as
        ``{"source", "target", "features"}`` dicts. Z values are kept; points outside China's
        box are left where they are.

    Raises
    ------
    OptionError
        Unknown ``source``/``target``.
    CRSError
        No CRS, or a projected CRS.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> pois = gpd.GeoDataFrame({"name": ["西湖"]}, geometry=[Point(120.1547, 30.2477)], crs=4326)
    >>> wgs = convert_coord_system(pois, "gcj02")
    >>> round(float(wgs.geometry.x.iloc[0]), 3), round(float(wgs.geometry.y.iloc[0]), 3)
    (120.15, 30.25)
    """
    src = normalise_coord_system(source, what="source")
    dst = normalise_coord_system(target, what="target")
    crs = require_crs(gdf, what=f"the layer to convert from {src}")
    if not crs.is_geographic:
        msg = (
            f"the {src}/{dst} offsets apply to longitude/latitude, but this layer is in "
            f"{crs.name} ({crs.to_string()}); reproject it first with gdf.to_crs('EPSG:4326') if its "
            "coordinates were projected from web-map longitude/latitude, or convert the original "
            "longitude/latitude file instead"
        )
        raise CRSError(msg)
    out = gdf.copy()
    history = list(gdf.attrs.get("coord_conversions", []))
    if src == dst:
        out.attrs["coord_system"] = dst
        out.attrs["coord_conversions"] = history
        return out
    convert = _CONVERTERS[(src, dst)]

    def func(x: np.ndarray, y: np.ndarray, *rest: np.ndarray) -> tuple[np.ndarray, ...]:
        lon, lat = convert(x, y)
        return (lon, lat, *rest)

    geoms = out.geometry.array
    out[out.geometry.name] = gpd.GeoSeries(
        shapely.transform(np.asarray(geoms), func, include_z=None, interleaved=False),
        index=out.index,
        crs=gdf.crs,
    )
    n = int(out.geometry.notna().sum())
    history.append({"source": src, "target": dst, "features": n})
    out.attrs["coord_system"] = dst
    out.attrs["coord_conversions"] = history
    logger.info("converted %d feature(s) from %s to %s", n, src, dst)
    return out


@dataclass(frozen=True)
class GCJ02Check:
    """Outcome of :func:`suspect_gcj02`: how well a layer fits a trusted reference, as is and as GCJ-02.

    Two methods fill different fields (the others are NaN): ``"footprint"`` (polygon layers)
    compares areas, ``"distance"`` (point and line layers) compares distances to the nearest
    reference feature.

    Attributes
    ----------
    iou, iou_as_gcj02 : float
        Footprint method: area of intersection / area of union of the two layers' footprints
        (1 = identical), with ``layer`` taken as is and after converting it from GCJ-02 to WGS84.
    mismatch_m2, mismatch_as_gcj02_m2 : float
        Footprint method: area of the symmetric difference of the footprints, in m².
    mismatch_removed : float
        Footprint method: share of ``mismatch_m2`` the GCJ-02 conversion removes (negative when
        it adds some).
    shift_m, shift_as_gcj02_m : float
        Footprint method: distance between the footprints' centroids, in metres: an estimate of
        the remaining offset, meaningful when both layers cover the same area.
    gcj02_offset_m : float
        How far GCJ-02 moves points at the layer's centre, in metres (≈ 500 m in Hangzhou).
    suspected : bool
        Footprint method: the conversion removes at least ``min_mismatch_removed`` of the
        mismatch. Distance method: see :func:`suspect_gcj02`.
    note : str
        One sentence explaining the verdict.
    method : {"footprint", "distance"}
        Which comparison was made.
    applicable : bool
        False when the layer cannot hold GCJ-02 (distance method on a projected layer); then
        ``suspected`` is False and nothing was measured.
    median_m, median_as_gcj02_m : float
        Distance method: median distance in metres from the checked features to the nearest
        reference feature, as given and read as GCJ-02.
    features_checked : int
        Distance method: how many features were measured (at most ``max_features``).
    """

    iou: float
    iou_as_gcj02: float
    mismatch_m2: float
    mismatch_as_gcj02_m2: float
    mismatch_removed: float
    shift_m: float
    shift_as_gcj02_m: float
    gcj02_offset_m: float
    suspected: bool
    note: str
    method: str = "footprint"
    applicable: bool = True
    median_m: float = float("nan")
    median_as_gcj02_m: float = float("nan")
    features_checked: int = 0

    def __str__(self) -> str:
        return self.note


def _footprint(gdf: gpd.GeoDataFrame, metric: CRS, buffer_m: float) -> shapely.Geometry:
    geoms = gdf.to_crs(metric).geometry
    geoms = geoms[geoms.notna() & ~geoms.is_empty]
    polygonal = geoms.geom_type.isin(["Polygon", "MultiPolygon"])
    parts = list(geoms[polygonal].make_valid()) + list(geoms[~polygonal].buffer(buffer_m))
    return shapely.union_all(parts)


def suspect_gcj02(
    layer: gpd.GeoDataFrame,
    reference: gpd.GeoDataFrame,
    *,
    method: str = "auto",
    min_mismatch_removed: float = 0.25,
    buffer_m: float = 50.0,
    min_ratio: float = 2.0,
    min_median_m: float = 20.0,
    max_features: int = 2000,
) -> GCJ02Check:
    """Test whether ``layer`` fits a trusted ``reference`` better when read as GCJ-02.

    A file cannot reveal that it holds GCJ-02 coordinates (such files usually claim WGS84).
    When a trusted layer of the same area exists (official CGCS2000 data, OpenStreetMap,
    Tianditu), compare ``layer`` with it as it is and after converting it from GCJ-02 to
    WGS84: if the conversion makes the fit clearly better, the layer is probably GCJ-02. This
    is a heuristic, not proof. Declare the result when reading:
    ``tz.io.read_layer(path, coord_system="gcj02")``.

    Two comparisons, chosen by ``method``:

    ``"footprint"`` (default for a layer of polygons only)
        For two boundary layers of the same area. Footprints are the union of every polygon
        (non-polygon features are buffered by ``buffer_m``), measured in the metric CRS of
        ``reference``; suspected when the conversion removes at least
        ``min_mismatch_removed`` of the area of their symmetric difference. A projected
        ``layer`` is reprojected to longitude/latitude and compared like any other.
    ``"distance"`` (default for a layer with points or lines)
        For points (facilities, POIs) or lines against a reference of streets (or any
        features). Each feature is reduced to one point (a point as is, the midpoint of a
        line, a representative point of a polygon); the distance from it to the nearest
        reference feature (:meth:`shapely.STRtree.query_nearest`, in the metric CRS of
        ``reference``; 0 inside a reference polygon) is measured as given and read as GCJ-02.
        Suspected when the median as given exceeds ``min_median_m`` *and* is at least
        ``min_ratio`` times the median read as GCJ-02. Only a layer in longitude/latitude can
        hold GCJ-02: a projected layer (official CGCS2000 Gauss-Krüger data) is reported as not
        applicable (``applicable=False``, not suspected). At most ``max_features`` features are
        measured, evenly spaced in input order, so the check stays cheap on large layers.

    Parameters
    ----------
    layer : GeoDataFrame
        The layer under suspicion.
    reference : GeoDataFrame
        A trusted layer of the same area (boundaries for the footprint method, streets for
        the distance method).
    method : {"auto", "footprint", "distance"}, default "auto"
        "auto": "footprint" when every feature of ``layer`` is a (multi)polygon, else "distance".
    min_mismatch_removed : float, default 0.25
        Footprint method: share of the mismatch the conversion must remove for ``suspected``.
        A heuristic setting, not a policy number: real GCJ-02 data of Hangzhou's districts
        compared with another edition remove about half; a correctly placed layer removes
        none (the conversion makes it worse).
    buffer_m : float, default 50.0
        Footprint method: buffer turning points and lines into areas.
    min_ratio : float, default 2.0
        Distance method: how many times nearer (median) the features must lie to the reference
        when read as GCJ-02. A heuristic setting: on the sample town's 250 m street grid
        GCJ-02 facilities give 2.5 (31 m → 12 m) while correctly placed homes 50 m from their
        street give 1.6 (50 m → 31 m, the grid repeats); OpenStreetMap POIs of the Bund shifted
        to GCJ-02 give about 5.7 (40 m → 7 m).
    min_median_m : float, default 20.0
        Distance method: a layer whose median distance to the reference is at most this many
        metres as given is not suspected (it already sits on the streets; a 500 m offset would
        leave it tens of metres off).
    max_features : int, default 2000
        Distance method: measure at most this many features.

    Returns
    -------
    GCJ02Check

    Raises
    ------
    CRSError
        Either layer has no CRS, or is empty.
    OptionError
        Unknown ``method``.

    Examples
    --------
    >>> import tongzhen_gis as tz
    >>> scene = tz.samples.sample_town()
    >>> amap = convert_coord_system(scene.facilities.to_crs(4326), "wgs84", target="gcj02")
    >>> check = suspect_gcj02(amap, scene.roads)
    >>> check.method, check.suspected, round(check.median_as_gcj02_m)
    ('distance', True, 12)
    """
    for what, gdf in (("layer", layer), ("reference", reference)):
        require_crs(gdf, what=what)
        if gdf.geometry.notna().sum() == 0:
            msg = f"{what} has no geometry to compare; pass a layer with features"
            raise CRSError(msg)
    if method not in ("auto", "footprint", "distance"):
        msg = f"unknown method {method!r}; use 'auto', 'footprint' (polygons) or 'distance' (points, lines)"
        raise OptionError(msg, param="method")
    if method == "auto":
        geoms = layer.geometry[layer.geometry.notna() & ~layer.geometry.is_empty]
        polygonal = bool(len(geoms)) and bool(geoms.geom_type.isin(["Polygon", "MultiPolygon"]).all())
        method = "footprint" if polygonal else "distance"
    metric = metric_crs_for(reference)
    if method == "distance":
        return _suspect_by_distance(
            layer,
            reference,
            metric,
            min_ratio=min_ratio,
            min_median_m=min_median_m,
            max_features=max_features,
        )
    return _suspect_by_footprint(layer, reference, metric, min_mismatch_removed=min_mismatch_removed, buffer_m=buffer_m)


def _gcj02_offset_m(lonlat: gpd.GeoDataFrame) -> float:
    """How far GCJ-02 moves a point at the centre of ``lonlat``'s bounds, in metres."""
    cx, cy = (float(v) for v in shapely.centroid(shapely.box(*lonlat.total_bounds)).coords[0])
    gx, gy = wgs84_to_gcj02(cx, cy)
    return float(abs(Geod(ellps="WGS84").inv(cx, cy, float(gx), float(gy))[2]))


def _anchor_points(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    """One point per feature: a point as is, the midpoint of a line, a representative point otherwise."""
    kind = geoms.geom_type
    out = geoms.copy()
    lines = kind.isin(["LineString", "MultiLineString", "LinearRing"]).to_numpy()
    other = ~lines & ~kind.isin(["Point", "MultiPoint"]).to_numpy()
    arr = np.asarray(geoms.array, dtype=object)
    out[lines] = shapely.line_interpolate_point(arr[lines], 0.5, normalized=True)
    out[other] = shapely.point_on_surface(arr[other])
    return out


def _suspect_by_distance(
    layer: gpd.GeoDataFrame,
    reference: gpd.GeoDataFrame,
    metric: CRS,
    *,
    min_ratio: float,
    min_median_m: float,
    max_features: int,
) -> GCJ02Check:
    nan = float("nan")
    crs = CRS.from_user_input(layer.crs)
    common: dict[str, Any] = {"iou": nan, "iou_as_gcj02": nan, "mismatch_m2": nan, "mismatch_as_gcj02_m2": nan}
    common |= {"mismatch_removed": nan, "shift_m": nan, "shift_as_gcj02_m": nan, "method": "distance"}
    if not crs.is_geographic:
        note = (
            f"not applicable: the layer is in {crs.name} ({crs.to_string()}), a projected CRS, and GCJ-02 is "
            "web-map longitude/latitude, so it cannot hold GCJ-02 (official CGCS2000 data never does); if it was "
            "projected from Amap/Tencent longitude/latitude, check layer.to_crs('EPSG:4326') instead"
        )
        logger.info("suspect_gcj02: %s", note)
        return GCJ02Check(**common, gcj02_offset_m=nan, suspected=False, note=note, applicable=False)
    geoms = layer.geometry[layer.geometry.notna() & ~layer.geometry.is_empty]
    if len(geoms) > max_features:
        take = np.unique(np.linspace(0, len(geoms) - 1, max(int(max_features), 1)).round().astype(int))
        geoms = geoms.iloc[take]
    anchors = gpd.GeoDataFrame(geometry=_anchor_points(geoms), crs=layer.crs)
    ref = reference.geometry.to_crs(metric)
    ref = ref[ref.notna() & ~ref.is_empty]
    tree = shapely.STRtree(np.asarray(ref.array, dtype=object))
    medians = []
    for candidate in (anchors, convert_coord_system(anchors, "gcj02", "wgs84")):
        points = np.asarray(candidate.geometry.to_crs(metric).array, dtype=object)
        _, dist = tree.query_nearest(points, return_distance=True, all_matches=False)
        medians.append(float(np.median(dist)))
    median, median_g = medians
    offset = _gcj02_offset_m(anchors)
    suspected = bool(median > min_median_m and median >= min_ratio * median_g)
    measured = f"median distance to the reference {median:.0f} m as given, {median_g:.0f} m read as GCJ-02"
    if suspected:
        note = (
            f"probably GCJ-02: read as GCJ-02 the features lie nearer the reference ({measured}, "
            f"{len(anchors)} features); declare it with read_layer(..., coord_system='gcj02') or "
            "convert_coord_system(gdf, 'gcj02')"
        )
    elif min(median, median_g) > offset:
        note = (
            f"the layer lies mostly away from the reference ({measured}); compare it with a reference of the same area"
        )
    else:
        note = f"no sign of GCJ-02: {measured} (GCJ-02 would move it about {offset:.0f} m here)"
    logger.info("suspect_gcj02: %s", note)
    return GCJ02Check(
        **common,
        gcj02_offset_m=offset,
        suspected=suspected,
        note=note,
        median_m=median,
        median_as_gcj02_m=median_g,
        features_checked=len(anchors),
    )


def _suspect_by_footprint(
    layer: gpd.GeoDataFrame,
    reference: gpd.GeoDataFrame,
    metric: CRS,
    *,
    min_mismatch_removed: float,
    buffer_m: float,
) -> GCJ02Check:
    lonlat = layer.to_crs("EPSG:4326") if not CRS.from_user_input(layer.crs).is_geographic else layer
    as_gcj = convert_coord_system(lonlat, "gcj02", "wgs84")
    ref = _footprint(reference, metric, buffer_m)
    fits = []
    for candidate in (lonlat, as_gcj):
        foot = _footprint(candidate, metric, buffer_m)
        union = shapely.union(foot, ref).area
        inter = shapely.intersection(foot, ref).area
        shift = shapely.distance(shapely.centroid(foot), shapely.centroid(ref))
        fits.append((inter / union if union > 0 else 0.0, union - inter, float(shift)))
    (iou, mismatch, shift), (iou_g, mismatch_g, shift_g) = fits
    # A mismatch below a millionth of the reference's area is rounding (e.g. a reprojected copy).
    negligible = mismatch <= _NEGLIGIBLE_MISMATCH * ref.area
    removed = 0.0 if negligible else (mismatch - mismatch_g) / mismatch
    offset = _gcj02_offset_m(lonlat)
    suspected = bool(iou_g > 0 and removed >= min_mismatch_removed)
    if suspected:
        note = (
            f"probably GCJ-02: read as GCJ-02 it fits the reference better (overlap {iou:.3f} → {iou_g:.3f}, "
            f"{removed:.0%} of the mismatch removed, centroid shift {shift:.0f} m → {shift_g:.0f} m); "
            "declare it with read_layer(..., coord_system='gcj02') or convert_coord_system(gdf, 'gcj02')"
        )
    elif iou == 0 and iou_g == 0:
        note = "the layer does not overlap the reference either way; compare it with a reference of the same area"
    elif negligible:
        note = f"no sign of GCJ-02: the layer already matches the reference (overlap {iou:.6f})"
    else:
        effect = f"removes {removed:.0%} of the mismatch" if removed >= 0 else "makes the fit worse"
        note = (
            f"no sign of GCJ-02: overlap {iou:.3f} as is, {iou_g:.3f} read as GCJ-02, which {effect} "
            f"(GCJ-02 would move it about {offset:.0f} m here)"
        )
    logger.info("suspect_gcj02: %s", note)
    return GCJ02Check(
        iou=float(iou),
        iou_as_gcj02=float(iou_g),
        mismatch_m2=float(mismatch),
        mismatch_as_gcj02_m2=float(mismatch_g),
        mismatch_removed=float(removed),
        shift_m=shift,
        shift_as_gcj02_m=shift_g,
        gcj02_offset_m=float(offset),
        suspected=suspected,
        note=note,
    )


def _present(layer: gpd.GeoDataFrame) -> np.ndarray:
    arr = np.asarray(layer.geometry.array, dtype=object)
    return ~shapely.is_missing(arr) & ~shapely.is_empty(arr)


def _vertices(layer: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The boundary vertices of a polygon layer as points (lines and points: the layer as is)."""
    geoms = layer.geometry[_present(layer)]
    polygonal = geoms.geom_type.isin(["Polygon", "MultiPolygon"])
    if not polygonal.any():
        return gpd.GeoDataFrame(geometry=geoms, crs=layer.crs)
    coords = shapely.get_coordinates(np.asarray(geoms[polygonal].boundary.array, dtype=object))
    return gpd.GeoDataFrame(geometry=shapely.points(coords), crs=layer.crs)


def undeclared_gcj02_note(
    layer: gpd.GeoDataFrame,
    *,
    what: str,
    checked_against: Mapping[str, gpd.GeoDataFrame | None],
    reference: gpd.GeoDataFrame | None = None,
    declare: str = "coord_system={!r}",
) -> str | None:
    """A note on a longitude/latitude layer without a web-map declaration checked against official layers.

    Lon/lat towns drawn on a web map are GCJ-02 (Amap, Tencent) about 500 m off the official
    layers, and no file says so: every overlap would be false. When ``layer`` is lon/lat, was
    read without a declaration (``attrs["coord_system_declared"]`` None) and is checked against
    a layer in a projected (survey) CRS, which is never GCJ-02:

    * with a trusted ``reference`` (roads, or boundaries of the same area), :func:`suspect_gcj02`
      runs (a polygon layer against lines is compared by its boundary vertices, since
      boundaries follow streets): suspected gives the note with its figures, "no sign" gives no
      note, an inconclusive test gives the plain note;
    * without one, the note names the risk and the declaration that silences it.

    Parameters
    ----------
    layer : GeoDataFrame
        The layer under suspicion (as read by :func:`tongzhen_gis.io.read_layer`).
    what : str
        Its name in the note.
    checked_against : mapping of str to GeoDataFrame or None
        The layers it is checked against, by name (None entries are ignored).
    reference : GeoDataFrame, optional
        A trusted layer of the same area for :func:`suspect_gcj02`.
    declare : str, default "coord_system={!r}"
        How to declare, with ``{}`` for the system (``"--coord-system towns={}"`` on the command line).

    Returns
    -------
    str or None
        None when there is nothing to say (projected or declared layer, nothing in a survey CRS
        and no reference, or no sign of GCJ-02 against the reference).
    """
    crs = getattr(layer, "crs", None)
    if crs is None or not CRS.from_user_input(crs).is_geographic or layer.attrs.get("coord_system_declared"):
        return None
    surveyed = [
        name for name, g in checked_against.items() if g is not None and g.crs is not None and g.crs.is_projected
    ]
    usable = _present(layer)
    if not usable.any() or (not surveyed and reference is None):
        return None
    gcj, wgs = declare.format("gcj02"), declare.format("wgs84")
    against = f"against {', '.join(surveyed)} in a survey CRS" if surveyed else "against the reference"
    if reference is not None and _present(reference).any():
        ref_lines = reference.geometry.geom_type.isin(["LineString", "MultiLineString"]).any()
        candidate = _vertices(layer[usable]) if ref_lines else layer[usable]
        check = suspect_gcj02(candidate, reference)
        if check.suspected:
            if check.method == "distance":
                measured = (
                    f"median distance to the reference {check.median_m:.0f} m as given, "
                    f"{check.median_as_gcj02_m:.0f} m read as GCJ-02"
                )
            else:
                measured = (
                    f"overlap with the reference {check.iou:.3f} as given, {check.iou_as_gcj02:.3f} read as GCJ-02"
                )
            return (
                f"{what} is longitude/latitude without a declaration and looks like GCJ-02 web-map coordinates "
                f"({measured}); checked {against} its overlaps would be false: declare {gcj} "
                f"(or {declare.format('bd09')} for Baidu), or {wgs} if it really is WGS84"
            )
        if check.note.startswith("no sign"):
            logger.info("%s: %s", what, check.note)
            return None
    offset = _gcj02_offset_m(layer[usable].to_crs("EPSG:4326"))
    return (
        f"{what} is longitude/latitude without a declaration, checked {against}: if it was copied from a "
        f"web map (Amap/Tencent GCJ-02, Baidu BD-09) it lies about {offset:.0f} m off and its overlaps are "
        f"false; declare {gcj} to convert it, or {wgs} to confirm WGS84 and silence this note"
    )
