"""Benchmark: building walking graphs with tz.network, beside the usual recipes.

Measured in one run, on the same input:

1. A generated street grid (EPSG:4549), n × n streets each digitised as one unbroken line, every
   tenth east-west street a bridge (``layer=1``) that must not connect to the streets it
   crosses. ``tz.network.from_lines`` against the common recipe "``shapely.node`` on all the
   linework, one networkx edge per noded piece" (which ignores levels and attributes, so it
   makes false junctions under every bridge: the count is printed).
2. The real Hangzhou OSM road layer (``hangzhou/hangzhou_osm_roads.gpkg``, 38,800 lines), same
   two builders; skipped when the shared data is absent.
3. An OSM extract (``osm-extracts/aguascalientes.osm.bz2``): ``tz.network.from_osm`` against
   ``osmnx.graph_from_xml`` (unsimplified, all pieces) + ``osmnx.convert.to_undirected``.

Usage::

    .venv/bin/python benchmarks/bench_network.py            # 708 x 708 grid (≈ 500,000 junctions)
    .venv/bin/python benchmarks/bench_network.py --quick    # 150 x 150 grid

Times printed are CPU seconds of this process (wall time is printed too); ratios use CPU time,
so they stay comparable when other jobs share the machine.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely

import tongzhen_gis as tz

X0, Y0, STEP = 500_000.0, 3_300_000.0, 100.0


def timed(label: str, fn: Callable[[], Any]) -> tuple[Any, float]:
    """Run ``fn``; return its result and the CPU time it took (robust on a shared machine)."""
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    out = fn()
    wall, cpu = time.perf_counter() - start_wall, time.process_time() - start_cpu
    print(f"  {label}: wall {wall:.2f} s, cpu {cpu:.2f} s", flush=True)
    return out, cpu


def grid(n: int) -> gpd.GeoDataFrame:
    length = (n - 1) * STEP
    xs = X0 + STEP * np.arange(n)
    ys = Y0 + STEP * np.arange(n)
    vertical = shapely.linestrings(np.stack([np.c_[xs, np.full(n, Y0)], np.c_[xs, np.full(n, Y0 + length)]], axis=1))
    horizontal = shapely.linestrings(np.stack([np.c_[np.full(n, X0), ys], np.c_[np.full(n, X0 + length), ys]], axis=1))
    bridge = np.r_[np.zeros(n, bool), np.arange(n) % 10 == 5]
    return gpd.GeoDataFrame(
        {
            "fclass": "residential",
            "layer": np.where(bridge, 1, 0),
            "bridge": np.where(bridge, "T", "F"),
        },
        geometry=np.r_[vertical, horizontal],
        crs="EPSG:4549",
    )


def noding_recipe(lines: gpd.GeoDataFrame) -> nx.MultiGraph:
    """The usual recipe: node all linework with shapely, one edge per piece, nodes by coordinates."""
    pieces = shapely.get_parts(shapely.node(shapely.multilinestrings(lines.geometry.to_numpy())))
    start = shapely.get_coordinates(shapely.get_point(pieces, 0))
    end = shapely.get_coordinates(shapely.get_point(pieces, -1))
    G = nx.MultiGraph()
    G.add_edges_from(
        (tuple(a), tuple(b), {"length": length, "geometry": p})
        for a, b, length, p in zip(start.round(3), end.round(3), shapely.length(pieces), pieces, strict=True)
    )
    return G


def compare_lines(label: str, lines: gpd.GeoDataFrame) -> None:
    ours, t_ours = timed("tz.network.from_lines", lambda: tz.network.from_lines(lines, exclude=()))
    peer, t_peer = timed("shapely.node recipe", lambda: noding_recipe(lines))
    print(
        f"{label}: {len(lines):,} lines -> tz.network.from_lines {t_ours:.2f} s cpu "
        f"({ours.number_of_nodes():,} nodes, {ours.number_of_edges():,} edges); "
        f"shapely.node recipe {t_peer:.2f} s cpu ({peer.number_of_nodes():,} nodes, {peer.number_of_edges():,} edges); "
        f"ratio ours/recipe {t_ours / t_peer:.2f}; "
        f"extra nodes in the recipe (false junctions under bridges, over tunnels, across layers): "
        f"{peer.number_of_nodes() - ours.number_of_nodes():,}"
    )


def shared(relative: str) -> Path | None:
    root = Path(os.environ.get(tz.settings.shared_data_env, Path(__file__).resolve().parents[2] / "shared" / "data"))
    path = root / relative
    return path if path.exists() else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 150 x 150 grid instead of 708 x 708")
    args = parser.parse_args()
    n = 150 if args.quick else 708
    compare_lines(f"grid {n} x {n}", grid(n))

    roads = shared("hangzhou/hangzhou_osm_roads.gpkg")
    if roads is None:
        print("Hangzhou roads: shared data absent, skipped")
    else:
        layer = gpd.read_file(roads)
        compare_lines("Hangzhou OSM roads", tz.crs.to_metric(layer))

    extract = shared("osm-extracts/aguascalientes.osm.bz2")
    if extract is None:
        print("OSM extract: shared data absent, skipped")
        return
    import osmnx as ox

    ours, t_ours = timed(
        "tz.network.from_osm", lambda: tz.network.from_osm(extract, nodes="vertices", exclude_on_structure=())
    )
    peer, t_peer = timed(
        "osmnx.graph_from_xml",
        lambda: ox.convert.to_undirected(ox.graph_from_xml(extract, simplify=False, retain_all=True)),
    )
    print(
        f"aguascalientes.osm.bz2: tz.network.from_osm {t_ours:.2f} s cpu ({ours.number_of_nodes():,} nodes, "
        f"{ours.number_of_edges():,} edges, walk filter); osmnx.graph_from_xml + to_undirected {t_peer:.2f} s cpu "
        f"({peer.number_of_nodes():,} nodes, {peer.number_of_edges():,} edges, no filter); "
        f"ratio ours/osmnx {t_ours / t_peer:.2f}"
    )


if __name__ == "__main__":
    main()
