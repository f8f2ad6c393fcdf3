"""The vectorised service areas against the method they replace (issue 15).

``benchmarks/union_areas.py`` keeps the former method (a Python loop over edges, one buffer per
reached piece, one ``union_all``) as the peer. Both must draw the same polygons within the
buffer's tolerance: the symmetric difference and the difference of areas may not exceed a sliver
one chord error ``r (1 - cos(pi / (4 quad_segs)))`` wide along the boundary, no vertex of one
boundary may be farther from the other than two chord errors plus GEOS's input simplification
(1% of the width; strokes through junctions are buffered as one line, where the former method
buffered each stretch), and the street length reached must agree.
The threaded build (``workers > 1``: runs of pieces unioned apart, then together) is held to the
same peer, with the run size forced down so that even the sample town is cut into runs.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path
from unittest import mock

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

import tongzhen_gis as tz
from tongzhen_gis.access.areas import _area
from tongzhen_gis.access.sources import _sources_by_category

_PEER = Path(__file__).resolve().parents[1] / "benchmarks" / "union_areas.py"
_spec = importlib.util.spec_from_file_location("union_areas", _PEER)
union_areas = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(union_areas)

CAP_M, QUAD = 50.0, 16
GEOS_SIMPLIFY = 0.01  # GEOS BufferParameters: input lines simplified within 1% of the buffer distance


def _same_areas(net, facilities, thresholds, workers=1):
    cats, sources, *_ = _sources_by_category(net, facilities)
    fields = net.node_distances(sources, limit_m=max(thresholds))
    chord = CAP_M * (1 - math.cos(math.pi / (4 * QUAD)))
    compared = 0
    for k in range(len(cats)):
        for t in thresholds:
            with mock.patch("tongzhen_gis.access.areas._CHUNK_MIN_PIECES", 0 if workers > 1 else 4000):
                new, street_new = _area(
                    net, fields[k], sources[k], t, max_width_m=CAP_M, quad_segs=QUAD, workers=workers
                )
            old, street_old = union_areas.area_by_union(
                net, fields[k], sources[k], t, max_width_m=CAP_M, quad_segs=QUAD
            )
            assert street_new == pytest.approx(street_old, rel=1e-9, abs=1e-6), (cats[k], t)
            sliver_m2 = chord * max(old.length, 1.0)
            assert shapely.symmetric_difference(new, old).area <= sliver_m2, (cats[k], t)
            assert abs(new.area - old.area) <= sliver_m2, (cats[k], t)
            if not old.is_empty:
                # each boundary is within one chord error of the exact area's; GEOS also drops a vertex of
                # a buffered line within 1% of the distance on its concave side (BufferParameters'
                # simplify factor), which a stroke's inner vertices allow and a two-point stretch does not
                gap_m = shapely.hausdorff_distance(new.boundary, old.boundary)
                assert gap_m <= 2 * chord + GEOS_SIMPLIFY * CAP_M + 1e-6, (cats[k], t, gap_m)
            compared += not old.is_empty
    return compared


@pytest.mark.parametrize("workers", [1, 3])
def test_sample_town_areas_equal_the_union_method(workers):
    scene = tz.samples.sample_town()
    net = tz.access.prepare(tz.network.from_lines(scene.roads))
    assert _same_areas(net, scene.facilities, [0.0, 12.0, 300.0, 500.0, 1000.0], workers=workers) > 10


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    thresholds=st.lists(st.floats(0, 900), min_size=1, max_size=3),
    workers=st.sampled_from([1, 2]),
)
def test_random_grids_and_facilities_equal_the_union_method(seed, thresholds, workers):
    """Jittered grids with missing streets, facilities at random points (several on one edge, some at nodes)."""
    rng = np.random.default_rng(seed)
    side = 6
    ii, jj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    x = (ii * 120.0 + rng.uniform(-25, 25, ii.shape)).ravel() + 500_000
    y = (jj * 120.0 + rng.uniform(-25, 25, jj.shape)).ravel() + 3_300_000
    ids = np.arange(side * side).reshape(side, side)
    u = np.concatenate([ids[:-1, :].ravel(), ids[:, :-1].ravel()])
    v = np.concatenate([ids[1:, :].ravel(), ids[:, 1:].ravel()])
    keep = rng.random(len(u)) > 0.2
    net = tz.access.PreparedNetwork.from_arrays(crs="EPSG:4549", x=x, y=y, edge_u=u[keep], edge_v=v[keep])
    pts = rng.uniform([x.min(), y.min()], [x.max(), y.max()], size=(12, 2))
    pts[:3] = np.column_stack([x[:3], y[:3]])  # on nodes
    cats = tz.access.categories()[:3]
    facilities = gpd.GeoDataFrame(
        {"category": [cats[i % 3] for i in range(len(pts))]}, geometry=shapely.points(pts), crs="EPSG:4549"
    )
    _same_areas(net, facilities, sorted(thresholds), workers=workers)


@pytest.mark.shared_data
@pytest.mark.parametrize("workers", [1, 2])
def test_yunqi_clip_areas_equal_the_union_method(shared_data, workers):
    path = shared_data("hangzhou/clip_yunqi_r2500m.gpkg")
    net = tz.access.prepare(tz.network.from_lines(tz.io.read_layer(path, layer="roads")))
    land = tz.io.read_layer(path, layer="landuse").to_crs(net.crs)
    parks = land[land["fclass"] == "park"].assign(category="park")
    buildings = tz.io.read_layer(path, layer="buildings").to_crs(net.crs)
    rng = np.random.default_rng(0)
    pick = rng.choice(len(buildings), 30, replace=False)
    points = gpd.GeoDataFrame(
        {"category": np.repeat(tz.access.categories()[:3], 10)},
        geometry=buildings.geometry.iloc[pick].representative_point().to_numpy(),
        crs=net.crs,
    )
    facilities = gpd.GeoDataFrame(
        {"category": [*parks["category"], *points["category"]]},
        geometry=[*parks.geometry, *points.geometry],
        crs=net.crs,
    )
    assert _same_areas(net, facilities, [300.0, 1000.0], workers=workers) >= 2


def test_workers_must_be_a_whole_number_of_threads():
    scene = tz.samples.sample_town()
    net = tz.access.prepare(tz.network.from_lines(scene.roads))
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(tz.errors.OptionError, match="workers"):
            tz.access.service_areas(net, scene.facilities, workers=bad)


def test_threads_do_not_change_the_published_areas():
    """``service_areas`` end to end: one thread and three (runs forced) give the same table."""
    scene = tz.samples.sample_town()
    net = tz.access.prepare(tz.network.from_lines(scene.roads))
    one = tz.access.service_areas(net, scene.facilities, workers=1)
    with mock.patch("tongzhen_gis.access.areas._CHUNK_MIN_PIECES", 0):
        three = tz.access.service_areas(net, scene.facilities, workers=3)
    assert one.drop(columns=["geometry", "area_m2"]).equals(three.drop(columns=["geometry", "area_m2"]))
    assert np.allclose(one["area_m2"], three["area_m2"], rtol=1e-9, atol=1e-6)
    diff = shapely.symmetric_difference(one.geometry.to_numpy(), three.geometry.to_numpy())
    assert (shapely.area(diff) <= 1e-6 * np.maximum(one["area_m2"].to_numpy(), 1.0)).all()
