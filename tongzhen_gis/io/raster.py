"""Rasters: read one band of a GeoTIFF into a :class:`~tongzhen_gis.raster.Raster`, write one back."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import numpy as np
from pyproj import CRS

from tongzhen_gis.errors import CRSError, InputFileError
from tongzhen_gis.io.paths import _mkparent, _require_exists
from tongzhen_gis.raster import Raster

__all__ = ["read_raster", "write_raster"]


def read_raster(path: str | Path | Any, *, band: int = 1) -> Raster:
    """Read one band of a raster file (GeoTIFF or anything GDAL reads) into a :class:`Raster`.

    Parameters
    ----------
    path : str, pathlib.Path or rasterio dataset
        A file, or a dataset already opened with ``rasterio.open`` (read, left open).
    band : int, default 1
        1-based band number.

    Returns
    -------
    tongzhen_gis.raster.Raster

    Raises
    ------
    InputFileError
        Missing or unreadable file, or no such band.
    CRSError
        The raster has no CRS.
    """
    import rasterio
    from rasterio.errors import RasterioIOError

    if isinstance(path, rasterio.io.DatasetReaderBase):
        source = contextlib.nullcontext(path)
        path = Path(path.name)
    else:
        path = Path(path)
        _require_exists(path)
        source = None
    try:
        with source or rasterio.open(path) as src:
            if not 1 <= band <= src.count:
                msg = f"{path} has {src.count} band(s); band={band} does not exist (bands are numbered from 1)"
                raise InputFileError(msg)
            array = src.read(band)
            transform, crs, nodata = src.transform, src.crs, src.nodata
    except RasterioIOError as exc:
        msg = f"cannot read {path} as a raster ({exc}); check the file is a complete GeoTIFF"
        raise InputFileError(msg) from exc
    if crs is None:
        msg = f"{path} has no CRS; assign one in your GIS (or with gdal_edit.py -a_srs EPSG:4549) and read it again"
        raise CRSError(msg)
    return Raster(array=array, transform=transform, crs=CRS.from_user_input(crs.to_wkt()), nodata=nodata)


def write_raster(raster: Raster, path: str | Path) -> Path:
    """Write a :class:`Raster` as a compressed single-band GeoTIFF (CRS and nodata kept).

    Parameters
    ----------
    raster : tongzhen_gis.raster.Raster
    path : str or pathlib.Path
        Parent folders are created.

    Returns
    -------
    pathlib.Path

    Notes
    -----
    DEFLATE compression; boolean arrays are stored as ``uint8``.
    """
    import rasterio

    path = _mkparent(path)
    array = np.asarray(raster.array)
    if array.dtype == bool:
        array = array.astype("uint8")
    profile = {
        "driver": "GTiff",
        "height": array.shape[0],
        "width": array.shape[1],
        "count": 1,
        "dtype": array.dtype.name,
        "crs": raster.crs.to_wkt(),
        "transform": raster.transform,
        "nodata": raster.nodata,
        "compress": "deflate",
    }
    if array.shape[0] >= 256 and array.shape[1] >= 256:
        profile.update(tiled=True, blockxsize=256, blockysize=256)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(array, 1)
    return path
