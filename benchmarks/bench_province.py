"""Benchmark of the dask engine of tz.access.nearest on a generated province.

A jittered street grid of ``--nodes`` nodes (10 % of its streets removed), ``--towns`` square
towns spread over it, "buildings" at random points inside the towns (``--homes-per-town``),
8 categories of facilities at random points. Both engines measure every building:

* ``engine="local"``: this process, the whole network (where it fits in memory);
* ``engine="dask"``: one part per town on a ``LocalCluster`` (``--workers`` processes, one
  thread each), each part the streets within 2 km of its town.

Printed: time of each, the ratio, peak resident memory of this process and of each worker,
and whether the numbers are identical (they must be). ``--quick``: 40,000 nodes, 20 towns.
The full province (3-5 million nodes, 300 towns) is ``--nodes 4000000 --towns 300``; the sizes
run on the reference machine are in ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

import tongzhen_gis as tz
from tongzhen_gis.access.engine import PreparedNetwork

CRS = "EPSG:4549"
CATEGORIES = tz.access.categories()


def peak_rss_mb() -> float:
    """Peak resident memory of the calling process, MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def province(n_nodes: int, n_towns: int, homes_per_town: int, seed: int = 0):
    """The network (arrays), towns (squares of 2 km), homes and facilities."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n_nodes)))
    ii, jj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    x = (ii * 100.0 + rng.uniform(-30, 30, ii.shape)).ravel() + 300_000
    y = (jj * 100.0 + rng.uniform(-30, 30, jj.shape)).ravel() + 3_000_000
    ids = np.arange(side * side).reshape(side, side)
    u = np.concatenate([ids[:-1, :].ravel(), ids[:, :-1].ravel()])
    v = np.concatenate([ids[1:, :].ravel(), ids[:, 1:].ravel()])
    keep = rng.random(len(u)) > 0.10
    lo, hi = np.array([x.min(), y.min()]) + 1000, np.array([x.max(), y.max()]) - 3000
    corner = rng.uniform(lo, hi, size=(n_towns, 2))
    towns = gpd.GeoDataFrame(
        {"town_id": [f"T{i:03d}" for i in range(n_towns)]},
        geometry=shapely.box(corner[:, 0], corner[:, 1], corner[:, 0] + 2000, corner[:, 1] + 2000),
        crs=CRS,
    )
    home_xy = np.repeat(corner, homes_per_town, axis=0) + rng.uniform(0, 2000, size=(n_towns * homes_per_town, 2))
    homes = gpd.GeoDataFrame(
        {"town_id": np.repeat(towns["town_id"].to_numpy(), homes_per_town)}, geometry=shapely.points(home_xy), crs=CRS
    )
    n_fac = max(n_towns * 3, 10)
    fac_xy = rng.uniform([x.min(), y.min()], [x.max(), y.max()], size=(len(CATEGORIES) * n_fac, 2))
    facilities = gpd.GeoDataFrame({"category": np.repeat(CATEGORIES, n_fac)}, geometry=shapely.points(fac_xy), crs=CRS)
    return (x, y, u[keep], v[keep]), towns, homes, facilities


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40,000 nodes, 20 towns")
    parser.add_argument("--nodes", type=int, default=1_000_000)
    parser.add_argument("--towns", type=int, default=300)
    parser.add_argument("--homes-per-town", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-local", action="store_true", help="skip the single-machine run (too big)")
    args = parser.parse_args(argv)
    if args.quick:
        args.nodes, args.towns, args.homes_per_town = 40_000, 20, 300
    from distributed import Client, LocalCluster

    # the cluster starts first: its worker processes must not inherit the driver's memory (a forked
    # process counts its parent's pages in its own peak)
    with (
        LocalCluster(n_workers=args.workers, threads_per_worker=1, host="127.0.0.1", dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        start = time.perf_counter()
        (x, y, u, v), towns, homes, facilities = province(args.nodes, args.towns, args.homes_per_town)
        net = PreparedNetwork.from_arrays(crs=CRS, x=x, y=y, edge_u=u, edge_v=v)
        print(
            f"province: {len(x):,} nodes, {len(u):,} edges, {len(towns)} towns, {len(homes):,} homes, "
            f"{len(facilities):,} facilities; generated and prepared in {time.perf_counter() - start:.1f} s, "
            f"driver peak memory {peak_rss_mb():.0f} MB"
        )
        t0 = time.perf_counter()
        dask = tz.access.nearest(net, homes, facilities, engine="dask", parts=homes["town_id"], scheduler=client)
        t_dask = time.perf_counter() - t0
        workers = client.run(peak_rss_mb)
    per_worker = ", ".join(f"{mb:.0f}" for mb in workers.values())
    print(f"dask engine, {args.workers} worker process(es), one part per town: {t_dask:.1f} s")
    print(f"  peak memory per worker (MB): {per_worker}")
    if args.no_local:
        print("local engine: skipped (--no-local); ratio not measured")
        return 0
    t0 = time.perf_counter()
    local = tz.access.nearest(net, homes, facilities)
    t_local = time.perf_counter() - t0
    same = local.equals(dask) and bool(pd.Series(local.columns == dask.columns).all())
    print(f"local engine, one process: {t_local:.1f} s; driver peak memory {peak_rss_mb():.0f} MB")
    print(f"ratio local / dask: {t_local / t_dask:.2f}×  (numbers identical: {same})")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
