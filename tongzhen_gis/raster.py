"""In-memory rasters and zonal statistics over polygons.

:class:`Raster` holds an array, its affine transform, CRS and nodata, nothing else; analysis
functions pass :class:`Raster` objects around and only :mod:`tongzhen_gis.io` reads and writes
them. :func:`zonal` computes statistics of a raster over polygons with exact pixel coverage
fractions (exactextract); its public name is :func:`tongzhen_gis.intensity.zonal`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Real
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
from affine import Affine
from pyproj import CRS
from pyproj.exceptions import CRSError as PyprojCRSError

from tongzhen_gis.crs import require_crs
from tongzhen_gis.errors import CRSError, OptionError, RasterDataError, SchemaError

if TYPE_CHECKING:  # pragma: no cover
    from exactextract.raster import NumPyRasterSource

__all__ = ["SCALAR_STATS", "Raster", "raster_source", "zonal"]

logger = logging.getLogger(__name__)

#: exactextract operations that return one number per zone and make sense here.
SCALAR_STATS = ("count", "sum", "mean", "min", "max", "median", "stdev", "variance", "majority", "minority", "variety")


@dataclass(frozen=True)
class Raster:
    """A single-band raster held in memory.

    Parameters
    ----------
    array : numpy.ndarray
        2-D array of values, row 0 at the top (north).
    transform : affine.Affine
        Pixel-to-map transform (rasterio convention).
    crs : pyproj.CRS
        Coordinate reference system of the map coordinates.
    nodata : float or None
        Value marking cells without data.
    """

    array: np.ndarray
    transform: Affine
    crs: CRS
    nodata: float | None = None

    def __post_init__(self) -> None:
        problems, params = [], []
        if np.ndim(self.array) != 2:
            problems.append(
                f"array must be 2-D (rows, columns), got shape {np.shape(self.array)}; pass one band, "
                "e.g. src.read(1) for rasterio"
            )
            params.append("array")
        else:
            object.__setattr__(self, "array", np.asanyarray(self.array))  # a masked array stays masked
        if not isinstance(self.transform, Affine):
            problems.append(
                f"transform must be an affine.Affine, got {type(self.transform).__name__}; e.g. "
                "Affine(cell, 0, minx, 0, -cell, maxy) or src.transform for rasterio"
            )
            params.append("transform")
        if self.nodata is not None and (not isinstance(self.nodata, Real) or isinstance(self.nodata, bool)):
            problems.append(f"nodata must be a number or None, got {self.nodata!r}")
            params.append("nodata")
        if problems:
            raise RasterDataError(
                "invalid Raster: " + "; ".join(problems), param=params[0] if len(params) == 1 else None
            )
        object.__setattr__(self, "crs", _raster_crs(self))

    @property
    def shape(self) -> tuple[int, int]:
        """Rows and columns."""
        return tuple(self.array.shape)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(minx, miny, maxx, maxy)`` of the raster's outer edge."""
        rows, cols = self.shape
        t = self.transform
        xs = [t.c, t.c + t.a * cols, t.c + t.b * rows, t.c + t.a * cols + t.b * rows]
        ys = [t.f, t.f + t.d * cols, t.f + t.e * rows, t.f + t.d * cols + t.e * rows]
        return (min(xs), min(ys), max(xs), max(ys))

    @property
    def cell_area_m2(self) -> float:
        """Area of one cell in CRS units squared (m² in a metric CRS)."""
        return abs(self.transform.a * self.transform.e - self.transform.b * self.transform.d)


def _raster_crs(raster: Raster) -> CRS:
    """The raster's CRS as a :class:`pyproj.CRS`; refuses a missing or unknown one."""
    try:
        return require_crs(raster, what="the raster")
    except PyprojCRSError as exc:
        msg = (
            f"Raster crs={raster.crs!r} is not a coordinate reference system pyproj understands ({exc}); "
            "use e.g. 'EPSG:4549'"
        )
        raise CRSError(msg, param="crs") from exc


# ---------------------------------------------------------------------------------------------
# Zonal statistics (exactextract)
# ---------------------------------------------------------------------------------------------


def raster_source(raster: Raster, *, name: str = "value") -> NumPyRasterSource:
    """Wrap an in-memory :class:`Raster` for exactextract, without copying it to disk.

    Parameters
    ----------
    raster : Raster
        North-up or south-up, not rotated.
    name : str, default "value"
        Source name exactextract uses in its field names.

    Returns
    -------
    exactextract.raster.NumPyRasterSource

    Raises
    ------
    RasterDataError
        A rotated raster (exactextract needs an axis-aligned grid).
    """
    from exactextract.raster import NumPyRasterSource

    t = raster.transform
    if t.b != 0 or t.d != 0:
        msg = "rotated rasters are not supported: warp the raster to a north-up grid first (e.g. gdalwarp)"
        raise RasterDataError(msg)
    array = raster.array
    if t.e > 0:  # south-up: flip rows so row 0 is the northern edge
        array = array[::-1]
    minx, miny, maxx, maxy = _bounds(raster)
    nodata = raster.nodata
    if nodata is not None and np.issubdtype(array.dtype, np.integer):
        nodata = int(nodata)
    return NumPyRasterSource(array, minx, miny, maxx, maxy, nodata=nodata, name=name, srs_wkt=raster.crs.to_wkt())


def _bounds(raster: Raster) -> tuple[float, float, float, float]:
    """Outer edge of a north/south-up raster (Raster.bounds uses Affine * which affine 3.1 deprecates)."""
    t = raster.transform
    rows, cols = raster.shape
    xs, ys = (t.c, t.c + t.a * cols), (t.f, t.f + t.e * rows)
    return min(xs), min(ys), max(xs), max(ys)


def _as_raster(raster: Any) -> Raster:
    """A :class:`Raster` from a Raster, a file path or an open rasterio dataset (read by :mod:`tongzhen_gis.io`)."""
    if isinstance(raster, Raster):
        return raster
    import rasterio.io

    if isinstance(raster, str | os.PathLike | rasterio.io.DatasetReaderBase):
        from tongzhen_gis import io  # only io touches files; imported here, io imports this module

        return io.read_raster(raster)
    msg = (
        f"raster must be a tz.raster.Raster, a raster file path or an open rasterio dataset, got "
        f"{type(raster).__name__}; read it with tz.io.read_raster(path) or pass the path"
    )
    raise OptionError(msg, param="raster")


def zonal(
    zones: gpd.GeoDataFrame,
    raster: Raster | str | os.PathLike[str] | Any,
    *,
    stats: Sequence[str] = ("mean", "sum", "count"),
    categorical: bool = False,
    id_col: str | None = None,
) -> pd.DataFrame:
    """Zonal statistics with exact pixel coverage fractions (exactextract).

    Each pixel counts by the fraction of it a zone covers, not by whether its centre falls
    inside: a zone covering half a pixel adds half that pixel's value to ``sum`` and 0.5 to
    ``count``. Nodata pixels (``raster.nodata``, and NaN in float rasters) are left out.

    Parameters
    ----------
    zones : GeoDataFrame
        Polygons with a CRS.
    raster : Raster, str, path-like or rasterio dataset
        Values or classes. A file path (as rasterstats and exactextract accept) or a dataset
        opened with ``rasterio.open`` is read first, band 1, with
        :func:`tongzhen_gis.io.read_raster` (the thin adapter is the only file access here).
    stats : sequence of str, default ("mean", "sum", "count")
        exactextract operations returning one number per zone (see ``SCALAR_STATS``).
        Ignored when ``categorical`` is True.
    categorical : bool, default False
        Return the share of each class instead: one column per class value (``class_<value>``),
        summing to 1 over the zone's valid pixels (coverage-weighted, exactextract ``frac``).
    id_col : str, optional
        Column of ``zones`` to index the result by; default: the zones' own index.

    Returns
    -------
    DataFrame
        One row per zone, in input order. A zone that touches no valid pixel (outside the
        raster, or every cell nodata) has ``count`` and ``sum`` 0 (a sum over no cell) and NaN
        for the other figures (all class shares NaN), and is listed in ``attrs["problems"]``.

    Raises
    ------
    CRSError
        ``zones`` or ``raster`` has no CRS.
    OptionError
        An unknown statistic, or none.
    SchemaError
        ``zones`` lack ``id_col``.
    OptionError
        ``raster`` is none of the accepted types.
    InputFileError
        ``raster`` is a path that cannot be read.

    Notes
    -----
    When the zones are in another CRS than the raster, the *zones* are reprojected to the
    raster's CRS; the raster is never resampled, so its values are used as they are. ``sum`` and
    ``count`` are then in raster cells of the raster's CRS.
    """
    raster = _as_raster(raster)
    problems: list[str] = []
    if not categorical:
        unknown = [s for s in stats if s not in SCALAR_STATS]
        if unknown:
            problems.append(f"unknown statistic(s) {unknown}; choose from {list(SCALAR_STATS)}")
        if not stats:
            problems.append("stats is empty; ask for at least one statistic, e.g. stats=('mean',)")
    if problems:
        raise OptionError("cannot compute zonal statistics: " + "; ".join(problems), param="stats")
    if id_col is not None and id_col not in zones.columns:
        msg = f"zones lack the id column {id_col!r} (has {list(zones.columns)})"
        raise SchemaError("cannot compute zonal statistics: " + msg, [msg], param="id_col")
    require_crs(zones, what="zones")
    index = pd.Index(zones[id_col].to_numpy(), name=id_col) if id_col is not None else zones.index
    z = zones[[zones.geometry.name]].copy()
    if CRS.from_user_input(z.crs) != raster.crs:
        logger.debug("reprojecting %d zones to the raster CRS %s", len(z), raster.crs.to_string())
        z = z.to_crs(raster.crs)
    z = z.reset_index(drop=True)
    empty = z.geometry.isna() | z.geometry.is_empty
    z.loc[empty, z.geometry.name] = None
    work = z[~empty]
    from exactextract import exact_extract

    source = raster_source(raster)
    ops = ["frac", "unique"] if categorical else list(stats)
    if len(work):
        res = exact_extract(source, work, ops, output="pandas")
        res.index = work.index
    else:
        res = pd.DataFrame(index=work.index, columns=ops)
    res = res.reindex(z.index)
    if categorical:
        out = _class_shares(res)
    else:
        out = res[list(stats)].astype(float)
        if "count" in out:
            out["count"] = out["count"].fillna(0.0)
    out.index = index
    no_data = _no_data_mask(out, categorical)
    if not categorical and "sum" in out:
        out.loc[no_data, "sum"] = 0.0  # a sum over no cell is 0; mean, min … stay undefined (NaN)
    if no_data.any():
        figures = "class shares are NaN" if categorical else "count and sum are 0, the other figures NaN"
        every = " (every cell of the raster is nodata)" if _all_nodata(raster) else ""
        problems.append(
            f"{int(no_data.sum())} zone(s) cover no valid raster cell{every} ({list(index[no_data])[:10]}): {figures}"
        )
        for p in problems:
            logger.warning(p)
    out.attrs["problems"] = problems
    return out


def _class_shares(res: pd.DataFrame) -> pd.DataFrame:
    values: set = set()
    for u in res["unique"].dropna():
        values.update(np.asarray(u).tolist())
    classes = sorted(values)
    table = np.full((len(res), len(classes)), np.nan)
    pos = {c: k for k, c in enumerate(classes)}
    for row, (u, f) in enumerate(zip(res["unique"], res["frac"], strict=True)):
        if u is None or (np.ndim(u) == 0 and pd.isna(u)) or len(u) == 0:
            continue
        table[row, :] = 0.0
        for c, share in zip(np.asarray(u).tolist(), np.asarray(f).tolist(), strict=True):
            table[row, pos[c]] = share
    names = [f"class_{_label(c)}" for c in classes]
    return pd.DataFrame(table, index=res.index, columns=names)


def _label(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _all_nodata(raster: Raster) -> bool:
    array = np.asarray(raster.array)
    invalid = np.isnan(array) if np.issubdtype(array.dtype, np.floating) else np.zeros(array.shape, dtype=bool)
    if raster.nodata is not None:
        invalid |= array == raster.nodata
    return bool(invalid.all())


def _no_data_mask(out: pd.DataFrame, categorical: bool) -> np.ndarray:
    if categorical:
        return out.isna().all(axis=1).to_numpy() if out.shape[1] else np.ones(len(out), dtype=bool)
    if "count" in out:
        return (out["count"] <= 0).to_numpy()
    return out.isna().all(axis=1).to_numpy()
