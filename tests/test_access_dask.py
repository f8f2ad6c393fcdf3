"""The dask engine of tz.access.nearest gives the numbers of the local engine (issue 15).

The cluster is a LocalCluster of two in-process workers (``processes=False``: threads and the
``inproc`` transport, no socket beyond loopback).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tongzhen_gis as tz
from tongzhen_gis.access.distances import point_distances
from tongzhen_gis.access.parallel import distances_by_parts
from tongzhen_gis.access.sources import _sources_by_category, _to_points
from tongzhen_gis.errors import OptionError

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None, host="127.0.0.1", protocol="tcp"
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def scene():
    return tz.samples.sample_town()


@pytest.fixture(scope="module")
def net(scene):
    return tz.access.prepare(tz.network.from_lines(scene.roads))


def test_per_town_parts_equal_the_local_engine(scene, net, client):
    homes = scene.homes.set_index("home_id")
    local = tz.access.nearest(net, homes, scene.facilities)
    dask = tz.access.nearest(net, homes, scene.facilities, engine="dask", parts=homes["town_id"], scheduler=client)
    pd.testing.assert_frame_equal(dask, local, check_exact=True)
    assert dask.attrs == local.attrs
    assert not dask.loc[
        "H_FARM", "reachable"
    ]  # the farmhouse: no town, off the network, its snap_m from the full network


@pytest.mark.parametrize("tile_m", [150.0, 400.0, 2000.0])
def test_small_tiles_equal_the_local_engine(scene, net, client, tile_m):
    """Many parts, most of them cut through streets and facilities' neighbourhoods."""
    _cats, sources, *_ = _sources_by_category(net, scene.facilities)
    points = _to_points(scene.homes, net.crs)
    for limit in (300.0, 1000.0, 2000.0):
        want = point_distances(net, points, sources, max_distance_m=limit, max_snap_m=200.0)
        got = distances_by_parts(
            net, points, sources, max_distance_m=limit, max_snap_m=200.0, scheduler=client, tile_m=tile_m
        )
        for a, b in zip(got, want, strict=True):
            np.testing.assert_array_equal(a, b)


def test_unknown_engine_and_bad_parts_are_refused(scene, net, client):
    with pytest.raises(OptionError, match="engine='local'"):
        tz.access.nearest(net, scene.homes, scene.facilities, engine="spark")
    with pytest.raises(OptionError, match="one per origin"):
        tz.access.nearest(net, scene.homes, scene.facilities, engine="dask", parts=[1, 2], scheduler=client)


@pytest.mark.shared_data
def test_yunqi_clip_tiles_equal_the_local_engine(shared_data, client):
    path = shared_data("hangzhou/clip_yunqi_r2500m.gpkg")
    net = tz.access.prepare(tz.network.from_lines(tz.io.read_layer(path, layer="roads")))
    buildings = tz.io.read_layer(path, layer="buildings").to_crs(net.crs)
    rng = np.random.default_rng(3)
    pick = rng.choice(len(buildings), 60, replace=False)
    facilities = buildings.iloc[pick][["geometry"]].assign(category=np.repeat(tz.access.categories()[:3], 20))
    local = tz.access.nearest(net, buildings, facilities, categories=tz.access.categories()[:3])
    cats, sources, *_ = _sources_by_category(net, facilities, categories=tz.access.categories()[:3])
    got = distances_by_parts(
        net,
        _to_points(buildings, net.crs),
        sources,
        max_distance_m=2000.0,
        max_snap_m=200.0,
        scheduler=client,
        tile_m=700.0,
    )
    np.testing.assert_array_equal(got[0], local[cats].to_numpy())
    np.testing.assert_array_equal(got[1], local["snap_m"].to_numpy())


def test_access_command_with_the_dask_engine_writes_the_local_numbers(scene, client, tmp_path, capsys):
    from tongzhen_gis import cli

    gpkg = tz.samples.write_scene(scene, tmp_path / "in")["gpkg"]
    layers = [
        x for n in ("roads", "facilities", "homes", "towns") for x in (f"--{n}", str(gpkg), "--layer", f"{n}={n}")
    ]
    outputs = {}
    for engine in ("local", "dask"):
        extra = ["--engine", "dask", "--scheduler", client.scheduler.address] if engine == "dask" else []
        with pytest.raises(SystemExit):
            cli.main(["access", *layers, *extra, "--out", str(tmp_path / engine)])
        capsys.readouterr()
        outputs[engine] = tz.io.read_layer(tmp_path / engine / "home_distances.gpkg", layer="home_distances")
    pd.testing.assert_frame_equal(outputs["dask"], outputs["local"], check_exact=True)
