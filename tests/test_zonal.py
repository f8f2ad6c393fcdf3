"""tz.intensity.zonal and floor_area_grid: hand-built rasters, exactextract direct, the sample land cover, Wuxi."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from affine import Affine
from exactextract import exact_extract
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import box

import tongzhen_gis as tz
from tongzhen_gis.raster import Raster
from tongzhen_gis.samples import ORIGIN

CRS = "EPSG:4549"
X0, Y0 = 500_000.0, 3_300_000.0


def _hand_raster(nodata=None) -> Raster:
    """4 × 4 cells of 10 m, values 0…15 row by row from the north-west corner."""
    array = np.arange(16, dtype="float64").reshape(4, 4)
    return Raster(array=array, transform=Affine(10, 0, X0, 0, -10, Y0 + 40), crs=CRS, nodata=nodata)


def _zones(*boxes) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"zone": [f"Z{i}" for i in range(len(boxes))]},
        geometry=[box(X0 + a, Y0 + b, X0 + c, Y0 + d) for a, b, c, d in boxes],
        crs=CRS,
    )


def test_partial_pixels_count_by_covered_fraction():
    # Z0 covers x 5–25, y 25–40: the top row (values 0, 1, 2) at 1/2, 1, 1/2 of its width,
    # and row 2 (values 4, 5, 6) over its top half only (y 25–30 of 20–30): 1/4, 1/2, 1/4.
    z = _zones((5, 25, 25, 40))
    out = tz.intensity.zonal(z, _hand_raster(), id_col="zone")
    weights = np.array([0.5, 1, 0.5, 0.25, 0.5, 0.25])
    values = np.array([0, 1, 2, 4, 5, 6])
    assert out.loc["Z0", "count"] == pytest.approx(weights.sum())  # 3.0 cells = 300 m² / 100 m²
    assert out.loc["Z0", "sum"] == pytest.approx((weights * values).sum())  # 7.0
    assert out.loc["Z0", "mean"] == pytest.approx((weights * values).sum() / weights.sum())


def test_matches_exactextract_called_directly():
    raster = _hand_raster()
    zones = _zones((5, 25, 25, 40), (0, 0, 40, 40), (12.5, 3, 37, 21), (-20, -20, -5, -5))
    ours = tz.intensity.zonal(zones, raster, stats=("mean", "sum", "count", "min", "max"), id_col="zone")
    direct = exact_extract(
        _as_rasterio_like(raster), zones, ["mean", "sum", "count", "min", "max"], output="pandas", include_cols=["zone"]
    ).set_index("zone")
    for col in ("sum", "count"):
        np.testing.assert_allclose(ours[col].to_numpy(), direct[col].fillna(0).to_numpy(), rtol=1e-12)
    inside = ours["count"] > 0
    np.testing.assert_allclose(ours.loc[inside, "mean"], direct.loc[inside, "mean"], rtol=1e-12)
    # the fourth zone lies outside the raster: count 0, mean NaN, reported
    assert ours.loc["Z3", "count"] == 0 and np.isnan(ours.loc["Z3", "mean"])
    assert ours.attrs["problems"]
    # whole raster: sum 0 + … + 15 = 120
    assert ours.loc["Z1", "sum"] == pytest.approx(120)


def _as_rasterio_like(raster: Raster):
    """The same raster through a rasterio in-memory file: exactextract's own reading path."""
    from rasterio.io import MemoryFile

    memfile = MemoryFile()
    ds = memfile.open(
        driver="GTiff",
        width=raster.shape[1],
        height=raster.shape[0],
        count=1,
        dtype=raster.array.dtype,
        crs=raster.crs.to_wkt(),
        transform=raster.transform,
        nodata=raster.nodata,
    )
    ds.write(raster.array, 1)
    ds.close()
    return memfile.open()


def test_nodata_cells_are_left_out():
    array = np.arange(16, dtype="float64").reshape(4, 4)
    array[0, 0] = -1
    raster = Raster(array=array, transform=_hand_raster().transform, crs=CRS, nodata=-1)
    out = tz.intensity.zonal(_zones((0, 30, 20, 40)), raster)  # cells 0 (nodata) and 1
    assert out["count"].iloc[0] == pytest.approx(1.0)
    assert out["sum"].iloc[0] == pytest.approx(1.0)


def test_nan_cells_of_a_float_raster_are_left_out():
    array = np.arange(16, dtype="float64").reshape(4, 4)
    array[0, 0] = np.nan
    raster = Raster(array=array, transform=_hand_raster().transform, crs=CRS, nodata=None)
    out = tz.intensity.zonal(_zones((0, 30, 20, 40)), raster)
    assert out["count"].iloc[0] == pytest.approx(1.0)
    assert out["mean"].iloc[0] == pytest.approx(1.0)


def test_categorical_shares_on_a_hand_raster():
    array = np.array([[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 3, 3], [3, 3, 3, 3]], dtype="uint8")
    raster = Raster(array=array, transform=_hand_raster().transform, crs=CRS, nodata=0)
    # 15–35 × 15–35: class 1 covers 5×15, class 2 15×15, class 3 20×5 … of 20×20 = 400 m²
    out = tz.intensity.zonal(_zones((15, 15, 35, 35)), raster, categorical=True)
    assert out.iloc[0].to_dict() == pytest.approx(
        {"class_1": 75 / 400, "class_2": 225 / 400, "class_3": 100 / 400}, rel=1e-12
    )


def test_sample_landcover_shares_match_docstring(scene):
    out = tz.intensity.zonal(scene.towns, scene.landcover, categorical=True, id_col="town_id")
    out = out.reindex(columns=[f"class_{c}" for c in range(1, 6)], fill_value=0.0)
    expected = {"T1": [0.65, 0.35, 0, 0, 0], "T2": [0.90, 0.10, 0, 0, 0], "T3": [0.85, 0, 0, 0.15, 0]}
    for town, shares in expected.items():
        assert out.loc[town].tolist() == pytest.approx(shares, abs=1e-12)
    assert out.sum(axis=1).tolist() == pytest.approx([1, 1, 1], rel=1e-12)


def test_zones_in_another_crs_are_reprojected_not_the_raster(scene):
    geographic = tz.intensity.zonal(
        scene.towns.to_crs("EPSG:4326"), scene.landcover, categorical=True, id_col="town_id"
    )
    assert geographic.loc["T1", "class_1"] == pytest.approx(0.65, abs=1e-4)
    assert geographic.loc["T3", "class_4"] == pytest.approx(0.15, abs=1e-4)
    assert geographic.sum(axis=1).tolist() == pytest.approx([1, 1, 1], rel=1e-12)


@settings(max_examples=30, deadline=None)
@given(
    x=st.floats(min_value=-500, max_value=4500),
    y=st.floats(min_value=-500, max_value=1500),
    w=st.floats(min_value=1, max_value=1500),
    h=st.floats(min_value=1, max_value=1500),
)
def test_class_shares_lie_in_unit_interval_and_sum_to_one(x, y, w, h):
    scene = _SCENE
    zone = gpd.GeoDataFrame(geometry=[box(ORIGIN[0] + x, ORIGIN[1] + y, ORIGIN[0] + x + w, ORIGIN[1] + y + h)], crs=CRS)
    out = tz.intensity.zonal(zone, scene.landcover, categorical=True)
    row = out.iloc[0].to_numpy()
    if np.isnan(row).all():  # outside the raster: reported, not zero
        assert out.attrs["problems"]
        return
    assert ((row >= 0) & (row <= 1)).all()
    assert row.sum() == pytest.approx(1.0, rel=1e-9)


_SCENE = tz.samples.sample_town()


def test_bad_statistic_and_id_are_refused(scene):
    # an unknown statistic is a bad option; a missing id column is a problem of the layer
    with pytest.raises(tz.errors.OptionError, match="'average'") as err:
        tz.intensity.zonal(scene.towns, scene.landcover, stats=("mean", "average"), id_col="nope")
    assert err.value.param == "stats"
    with pytest.raises(tz.errors.SchemaError, match="'nope'") as err:
        tz.intensity.zonal(scene.towns, scene.landcover, stats=("mean",), id_col="nope")
    assert err.value.param == "id_col" and not isinstance(err.value, tz.errors.OptionError)


# ------------------------------------------------------------------ floor_area_grid
def test_floor_area_grid_of_the_sample_town(scene):
    grid = tz.intensity.floor_area_grid(scene.buildings, cell_m=100)
    assert grid.cell_area_m2 == 100 * 100
    # every known floor area ends up in the grid: 310 000 + 10 000 (B05 outside T1) + 700 000 + 400 000
    assert grid.array.sum() * grid.cell_area_m2 == pytest.approx(1_420_000, rel=1e-12)
    # B01 (50–150 × 50–150, 10 floors) covers a quarter of four cells: FAR 2.5 in each
    col = lambda x: int((ORIGIN[0] + x - grid.transform.c) // 100)  # noqa: E731
    row = lambda y: int((grid.transform.f - (ORIGIN[1] + y)) // 100)  # noqa: E731
    for x, y in [(50, 50), (150, 50), (50, 150), (150, 150)]:
        assert grid.array[row(y + 1), col(x + 1)] == pytest.approx(10 * 2500 / 10_000)
    assert grid.crs.to_epsg() == 4549


def test_floor_area_grid_matches_a_plain_overlay(scene):
    b = scene.buildings.dropna(subset=["floors"])
    grid = tz.intensity.floor_area_grid(b, cell_m=50)
    x0, y1 = grid.transform.c, grid.transform.f
    rows, cols = grid.shape
    cells = gpd.GeoDataFrame(
        {"r": np.repeat(np.arange(rows), cols), "c": np.tile(np.arange(cols), rows)},
        geometry=[
            box(x0 + c * 50, y1 - (r + 1) * 50, x0 + (c + 1) * 50, y1 - r * 50)
            for r in range(rows)
            for c in range(cols)
        ],
        crs=CRS,
    )
    parts = gpd.overlay(b, cells, how="intersection", keep_geom_type=True)
    expected = np.zeros(grid.shape)
    np.add.at(expected, (parts["r"], parts["c"]), parts.area * parts["floors"] / 2500)
    np.testing.assert_allclose(grid.array, expected, rtol=1e-12, atol=1e-12)


def test_floor_area_grid_bounds_and_errors(scene):
    bounds = (ORIGIN[0], ORIGIN[1], ORIGIN[0] + 1000, ORIGIN[1] + 1000)
    grid = tz.intensity.floor_area_grid(scene.buildings, cell_m=250, bounds=bounds)
    assert grid.shape == (4, 4)
    t = grid.transform
    assert (t.c, t.f - 4 * 250, t.c + 4 * 250, t.f) == pytest.approx(bounds)
    # inside T1 only: 310 000 m² of floor area (B05 only by its 2 000 m² inside, × 5 floors)
    assert grid.array.sum() * grid.cell_area_m2 == pytest.approx(310_000, rel=1e-12)
    with pytest.raises(tz.errors.OptionError, match="cell_m"):
        tz.intensity.floor_area_grid(scene.buildings, cell_m=0)


@settings(max_examples=20, deadline=None)
@given(factor=st.integers(min_value=2, max_value=5), cell=st.sampled_from([37.0, 100.0, 333.0]))
def test_grid_total_follows_floors(factor, cell):
    b = _SCENE.buildings.dropna(subset=["floors"]).copy()
    one = tz.intensity.floor_area_grid(b, cell_m=cell)
    b["floors"] *= factor
    many = tz.intensity.floor_area_grid(b, cell_m=cell)
    np.testing.assert_allclose(many.array, factor * one.array, rtol=1e-12)


# ------------------------------------------------------------------ real data: Wuxi grids
def test_wuxi_zonal_sum_reproduces_the_500m_floor_area(shared_data):
    """Floor area of the 250 m cells as a FAR raster, summed exactly over the clipped 500 m cells."""
    path = shared_data("wuxi-xinwu/xinwu_built_env_250m.gpkg")
    fine = gpd.read_file(path, layer="built_env_250m")
    coarse = gpd.read_file(path, layer="built_env_500m")
    cell = 250.0
    x0 = np.floor(fine.total_bounds[0] / 500) * 500
    y1 = np.ceil(fine.total_bounds[3] / 500) * 500
    pts = fine.geometry.representative_point()
    cols = ((pts.x - x0) // cell).astype(int).to_numpy()
    rows = ((y1 - pts.y) // cell).astype(int).to_numpy()
    array = np.zeros((rows.max() + 1, cols.max() + 1))
    # value per m² of the clipped cell, so that coverage fraction × pixel area gives the cell's floor area
    array[rows, cols] = fine["floor_area_total_m2"] / fine["cell_area_m2"]
    raster = Raster(array=array, transform=Affine(cell, 0, x0, 0, -cell, y1), crs=fine.crs)
    out = tz.intensity.zonal(coarse, raster, stats=("sum",), id_col="grid_id_main")
    ours = out["sum"].to_numpy() * cell * cell
    np.testing.assert_allclose(ours, coarse["floor_area_total_m2"].to_numpy(), rtol=1e-6, atol=1e-3)

    # building coverage (footprint / cell area) of each 500 m cell, against grouping the 250 m cells
    array[rows, cols] = fine["total_footprint_m2"] / fine["cell_area_m2"]
    raster = Raster(array=array, transform=raster.transform, crs=fine.crs)
    zonal_cov = tz.intensity.zonal(coarse, raster, stats=("sum",))["sum"] * cell * cell / coarse.area
    parent = gpd.sjoin(
        gpd.GeoDataFrame(fine.drop(columns="geometry"), geometry=pts, crs=fine.crs), coarse[["geometry"]]
    )
    grouped = (
        parent.groupby("index_right")["total_footprint_m2"].sum().reindex(coarse.index, fill_value=0) / coarse.area
    )
    np.testing.assert_allclose(zonal_cov.to_numpy(), grouped.to_numpy(), rtol=1e-6, atol=1e-9)
    assert 0 < np.nanmedian(grouped[grouped > 0]) < 1


def test_zonal_lives_beside_the_raster_and_keeps_its_public_name():
    assert tz.intensity.zonal is tz.raster.zonal


def test_a_rotated_raster_is_refused_with_a_tongzhen_error():
    rotated = Raster(np.zeros((2, 2)), Affine(10, 1, X0, 1, -10, Y0), CRS)
    with pytest.raises(tz.errors.RasterDataError, match="north-up"):
        tz.intensity.zonal(_zones((0, 0, 5, 5)), rotated)
