from __future__ import annotations

import numpy as np
import pytest
from affine import Affine

from tongzhen_gis.raster import Raster


def test_bounds_and_cell_area():
    r = Raster(np.zeros((3, 4)), Affine(10, 0, 100, 0, -5, 50), "EPSG:4549")
    assert r.bounds == (100, 35, 140, 50)
    assert r.cell_area_m2 == 50
    assert r.crs.to_epsg() == 4549


def test_rotated_bounds_cover_every_corner():
    r = Raster(np.zeros((2, 2)), Affine(1, 1, 0, 1, -1, 0), "EPSG:4549")
    assert r.bounds == (0, -2, 4, 2)


def test_refuses_3d():
    with pytest.raises(ValueError, match="2-D"):
        Raster(np.zeros((2, 2, 2)), Affine.identity(), "EPSG:4549")
