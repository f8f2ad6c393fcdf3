from __future__ import annotations

import numpy as np
import pytest
from affine import Affine

from tongzhen_gis.errors import CRSError, RasterDataError, TongzhenError
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


def test_nested_lists_become_an_array_and_masked_arrays_keep_their_mask():
    assert isinstance(Raster([[1, 2], [3, 4]], Affine.identity(), "EPSG:4549").array, np.ndarray)
    masked = np.ma.masked_equal(np.array([[1, 0], [0, 1]]), 0)
    assert Raster(masked, Affine.identity(), "EPSG:4549").array.mask.sum() == 2


# Regression (issue 10): Raster validation raised bare ValueError / TypeError / pyproj errors,
# which the command line shows as a traceback instead of one line with the fix.
@pytest.mark.parametrize(
    ("kwargs", "error", "param", "fragment"),
    [
        ({"array": np.zeros((2, 2, 2))}, RasterDataError, "array", "array must be 2-D"),
        ({"array": np.float64(1.0)}, RasterDataError, "array", "got shape ()"),
        ({"transform": (10, 0, 0, 0, -10, 0)}, RasterDataError, "transform", "affine.Affine, got tuple"),
        ({"nodata": "none"}, RasterDataError, "nodata", "nodata must be a number or None"),
        ({"crs": None}, CRSError, "crs", "the raster has no coordinate reference system"),
        ({"crs": "EPSG:999999"}, CRSError, "crs", "not a coordinate reference system pyproj understands"),
    ],
)
def test_validation_raises_tongzhen_errors(kwargs, error, param, fragment):
    args = {"array": np.zeros((2, 3)), "transform": Affine(10, 0, 0, 0, -10, 0), "crs": "EPSG:4549"} | kwargs
    with pytest.raises(error) as info:
        Raster(**args)
    assert isinstance(info.value, TongzhenError) and isinstance(info.value, ValueError)
    assert info.value.param == param and fragment in str(info.value)


def test_validation_lists_every_problem_at_once():
    with pytest.raises(RasterDataError) as info:
        Raster(np.zeros(3), None, "EPSG:4549", nodata="x")
    text = str(info.value)
    assert "array must be 2-D" in text and "transform must be" in text and "nodata must be" in text
    assert info.value.param is None  # several keywords concerned
