"""An in-memory raster: array, affine transform, CRS and nodata, nothing else.

Analysis functions pass :class:`Raster` objects around; only :mod:`tongzhen_gis.io` reads and
writes them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from affine import Affine
from pyproj import CRS

__all__ = ["Raster"]


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
        if np.ndim(self.array) != 2:
            msg = f"Raster.array must be 2-D, got shape {np.shape(self.array)}"
            raise ValueError(msg)
        object.__setattr__(self, "crs", CRS.from_user_input(self.crs))

    @property
    def shape(self) -> tuple[int, int]:
        """Rows and columns."""
        return tuple(self.array.shape)  # type: ignore[return-value]

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
