"""Benchmark of tz.access: distances to 8 facility categories on a large street network.

1. A generated street network (a jittered grid with 10 % of its streets removed) of 500,000
   nodes (``--quick``: 50,000) with 8 categories × 1,500 facilities at random points:
   tz.access (snap the facilities to the nearest point of the nearest edge, one virtual source
   per category, one Dijkstra per category) against

   * a bare ``scipy.sparse.csgraph.dijkstra`` on the same CSR matrix, from the facilities'
     nearest *nodes* (no snapping at all, ``min_only=True``), one call per category: the
     floor any engine on this matrix can reach (target: ours < 1.5× of it);
   * networkx ``multi_source_dijkstra_path_length`` on the same graph from the same nodes
     (target: ours ≥ 10× faster). networkx runs two categories; the ratio is per category.

   Every run uses ``limit`` = 2,000 m (the default ``max_distance_m``).
2. The Hangzhou OSM roads (38,800 ways) with its 116,800 buildings as origins, end to end:
   network build (tz.network.from_lines) + snapping + 8 categories (target < 30 s). The
   "facilities" are 8 × 1,500 buildings drawn at random (no real facility layer exists for the
   whole city). Skipped when ``../shared/data`` is absent.
3. Service areas (8 categories × 300/500/1000 m) on the Yunqi clip, against the convex hulls of
   reached nodes (the common osmnx recipe, which claims homes across rivers).
4. ``nearest`` on a networkx graph built by hand (the grid at 100,000 nodes, ``--quick``
   20,000; node x/y, edge length, no geometry), end to end with ``prepare``, against networkx
   ``multi_source_dijkstra_path_length`` over the same 8 categories (target: ours ≥ 4× faster).
5. ``prepare`` of such a graph at 500,000 nodes (``--quick`` 20,000; target < 1 s) beside
   networkx's own ``to_scipy_sparse_array`` (the CSR matrix only).

``--only PART`` runs one part (repeatable: synthetic, networkx-graph, prepare, service-areas,
hangzhou); ``--repeat N`` gives the best of N runs of parts 4 and 5.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely
from scipy.sparse.csgraph import dijkstra

import tongzhen_gis as tz
from tongzhen_gis.access.engine import PreparedNetwork
from tongzhen_gis.access.sources import _sources_by_category

sys.path.insert(0, str(Path(__file__).resolve().parent))
import union_areas  # the former service-area method, kept as the peer

CATEGORIES = tz.access.categories()
LIMIT_M = 2000.0
CRS = "EPSG:4549"


def grid_network(n_target: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Nodes on a jittered 100 m grid; horizontal and vertical streets, 10 % removed."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n_target)))
    ii, jj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    x = (ii * 100.0 + rng.uniform(-30, 30, ii.shape)).ravel() + 500_000
    y = (jj * 100.0 + rng.uniform(-30, 30, jj.shape)).ravel() + 3_300_000
    ids = np.arange(side * side).reshape(side, side)
    u = np.concatenate([ids[:-1, :].ravel(), ids[:, :-1].ravel()])
    v = np.concatenate([ids[1:, :].ravel(), ids[:, 1:].ravel()])
    keep = rng.random(len(u)) > 0.10
    return x, y, u[keep], v[keep]


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def synthetic(n_nodes: int, n_per_category: int) -> None:
    x, y, u, v = grid_network(n_nodes)
    print(f"network: {len(x):,} nodes, {len(u):,} edges; {len(CATEGORIES)} categories × {n_per_category:,} facilities")
    net, t_build = timed(PreparedNetwork.from_arrays, crs=CRS, x=x, y=y, edge_u=u, edge_v=v)
    print(f"prepare (CSR + STRtree, once): {t_build:.2f} s")
    rng = np.random.default_rng(1)
    fac_xy = rng.uniform([x.min(), y.min()], [x.max(), y.max()], size=(len(CATEGORIES) * n_per_category, 2))
    facilities = gpd.GeoDataFrame(
        {"category": np.repeat(CATEGORIES, n_per_category)}, geometry=shapely.points(fac_xy), crs=CRS
    )

    def ours():
        _, sources, *_ = _sources_by_category(net, facilities, categories=CATEGORIES)
        return net.node_distances(sources, limit_m=LIMIT_M)

    ours_dist, t_ours = timed(ours)
    # peer: the facilities' nearest nodes, then a bare multi-source dijkstra per category
    tree = shapely.STRtree(shapely.points(x, y))
    near_node = tree.query_nearest(facilities.geometry.values, all_matches=False)[1]
    groups = [near_node[facilities["category"].to_numpy() == c] for c in CATEGORIES]
    start = time.perf_counter()
    bare = [dijkstra(net.matrix, directed=True, indices=g, min_only=True, limit=LIMIT_M) for g in groups]
    t_bare = time.perf_counter() - start
    reached = np.isfinite(ours_dist).mean()
    reached_bare = np.mean([np.isfinite(b).mean() for b in bare])
    print(f"tz.access, all nodes, 8 categories (snap + virtual sources + dijkstra): {t_ours:.2f} s  ({reached:.0%} of")
    print(f"    node distances within {LIMIT_M:g} m)")
    print(
        f"bare scipy dijkstra from nearest nodes, 8 calls:                         {t_bare:.2f} s  ({reached_bare:.0%})"
    )
    print(f"ratio ours / bare scipy: {t_ours / t_bare:.2f}×  (target < 1.5×)")
    G = nx.Graph()
    G.add_nodes_from(range(len(x)))
    G.add_weighted_edges_from(zip(u.tolist(), v.tolist(), net.edge_length.tolist(), strict=True), weight="length")
    n_nx = 2
    start = time.perf_counter()
    for g in groups[:n_nx]:
        nx.multi_source_dijkstra_path_length(G, set(g.tolist()), cutoff=LIMIT_M, weight="length")
    t_nx = (time.perf_counter() - start) / n_nx
    print(f"networkx multi_source_dijkstra, per category ({n_nx} run):            {t_nx:.2f} s")
    print(f"ratio networkx / ours, per category: {t_nx / (t_ours / len(CATEGORIES)):.1f}×  (target ≥ 10×)")


def networkx_grid(n_nodes: int) -> tuple[nx.Graph, np.ndarray, np.ndarray, int]:
    """The street grid as a networkx graph built by hand (node x/y, edge length, no geometry)."""
    x, y, u, v = grid_network(n_nodes)
    length = np.hypot(x[u] - x[v], y[u] - y[v])
    G = nx.Graph(crs=CRS)
    G.add_nodes_from((i, {"x": a, "y": b}) for i, (a, b) in enumerate(zip(x.tolist(), y.tolist(), strict=True)))
    G.add_edges_from((a, b, {"length": w}) for a, b, w in zip(u.tolist(), v.tolist(), length.tolist(), strict=True))
    return G, x, y, len(u)


def best_of(repeat: int, fn, *args, **kwargs):
    """The result and the shortest time of ``repeat`` runs."""
    runs = [timed(fn, *args, **kwargs) for _ in range(repeat)]
    return runs[-1][0], min(t for _, t in runs)


def networkx_graph(n_nodes: int, n_origins: int = 10_000, repeat: int = 1) -> None:
    """``nearest`` on a networkx graph, end to end (prepare included), against networkx itself, 8 categories."""
    G, x, y, n_edges = networkx_grid(n_nodes)
    rng = np.random.default_rng(4)
    lo, hi = [x.min(), y.min()], [x.max(), y.max()]
    facilities = gpd.GeoDataFrame(
        {"category": np.repeat(CATEGORIES, 150)},
        geometry=shapely.points(rng.uniform(lo, hi, size=(len(CATEGORIES) * 150, 2))),
        crs=CRS,
    )
    origins = gpd.GeoDataFrame(geometry=shapely.points(rng.uniform(lo, hi, size=(n_origins, 2))), crs=CRS)
    _, t_prep = best_of(repeat, tz.access.prepare, G)
    _, t_ours = best_of(repeat, tz.access.nearest, G, origins, facilities)
    tree = shapely.STRtree(shapely.points(x, y))
    near = tree.query_nearest(facilities.geometry.values, all_matches=False)[1]
    groups = [set(near[facilities["category"].to_numpy() == c].tolist()) for c in CATEGORIES]

    def peer() -> None:
        for nodes in groups:
            nx.multi_source_dijkstra_path_length(G, nodes, cutoff=LIMIT_M, weight="length")

    _, t_nx = best_of(repeat, peer)
    best = f", best of {repeat}" if repeat > 1 else ""
    print(f"networkx graph of {len(x):,} nodes, {n_edges:,} edges; {n_origins:,} origins, 8 categories{best}:")
    print(f"  tz.access.prepare(G): {t_prep:.2f} s; tz.access.nearest(G, ...) end to end: {t_ours:.2f} s")
    print(f"  networkx multi_source_dijkstra, 8 categories (nodes only, no snapping): {t_nx:.2f} s")
    print(f"  ratio networkx / ours end to end: {t_nx / t_ours:.1f}×  (target ≥ 4×)")


def prepare_graph(n_nodes: int, repeat: int = 1) -> None:
    """``prepare`` of a networkx graph built by hand, against networkx's own conversion to a CSR matrix.

    ``prepare`` reads the graph and builds the CSR matrix, every edge's LineString (from the
    node coordinates: the edges have no geometry) and the spatial index; the peer,
    ``nx.to_scipy_sparse_array(G, weight="length")``, builds the matrix only.
    """
    G, x, _, n_edges = networkx_grid(n_nodes)
    _, t_ours = best_of(repeat, tz.access.prepare, G)
    _, t_nx = best_of(repeat, nx.to_scipy_sparse_array, G, weight="length", format="csr")
    best = f", best of {repeat}" if repeat > 1 else ""
    print(f"prepare a networkx graph of {len(x):,} nodes, {n_edges:,} edges{best}:")
    print(f"  tz.access.prepare(G) (CSR, edge geometry, STRtree): {t_ours:.2f} s  (target < 1 s at 500,000 nodes)")
    print(f"  networkx to_scipy_sparse_array(G) (CSR only): {t_nx:.2f} s")
    print(f"  ratio networkx / ours: {t_nx / t_ours:.1f}×")


def park_service_areas(root: Path) -> None:
    """Service areas of the Hangzhou OSM parks (every life-circle level), ours and the former union method."""
    roads_path = root / "hangzhou" / "hangzhou_osm_roads.gpkg"
    landuse_path = root / "hangzhou" / "hangzhou_osm_landuse.gpkg"
    if not roads_path.exists() or not landuse_path.exists():
        print("Hangzhou roads or land use not found: park service areas skipped")
        return
    net = tz.access.prepare(tz.network.from_lines(tz.io.read_layer(roads_path)))
    land = tz.io.read_layer(landuse_path)
    parks = land[land["fclass"] == "park"].assign(category="park").to_crs(net.crs)
    areas, t_ours = timed(tz.access.service_areas, net, parks)
    _, t_one = timed(tz.access.service_areas, net, parks, workers=1)
    thresholds = sorted(areas["threshold_m"].unique())
    _, sources, *_ = _sources_by_category(net, parks, categories=["park"])
    start = time.perf_counter()
    field = net.node_distances(sources, limit_m=thresholds[-1])[0]
    old = [union_areas.area_by_union(net, field, sources[0], t, max_width_m=50.0, quad_segs=16) for t in thresholds]
    t_old = time.perf_counter() - start
    mine = areas[areas["category"] == "park"].geometry.to_numpy()
    diffs = [shapely.get_parts(shapely.symmetric_difference(a, b)) for a, (b, _) in zip(mine, old, strict=True)]
    worst = max(shapely.area(d).sum() for d in diffs)
    # how wide the differences are: the widest circle inside any of the 20 largest slivers of each area
    largest = [d[np.argsort(shapely.area(d))[-20:]] for d in diffs]
    widest_m = 2 * max(
        (shapely.length(shapely.maximum_inscribed_circle(g, 0.001)) for d in largest for g in d), default=0.0
    )
    print(
        f"service areas, Hangzhou: {len(parks)} OSM parks, {len(areas)} areas "
        f"(8 categories × {len(thresholds)} levels): "
        f"{t_ours:.2f} s with {tz.access.areas._threads(None)} threads, {t_one:.2f} s with one (target < 2 s); "
        f"the former union method, parks only: {t_old:.2f} s; "
        f"ratio union / ours: {t_old / t_ours:.2f}×; largest difference {worst:.3f} m² in slivers at most "
        f"{widest_m:.3f} m wide (two chord errors of the 50 m arcs: {100 * (1 - np.cos(np.pi / 64)):.3f} m)"
    )


def hangzhou(root: Path) -> None:
    roads_path = root / "hangzhou" / "hangzhou_osm_roads.gpkg"
    buildings_path = root / "hangzhou" / "hangzhou_buildings_floors.gpkg"
    if not roads_path.exists() or not buildings_path.exists():
        print(f"Hangzhou data not found under {root}: skipped")
        return
    roads = tz.io.read_layer(roads_path, layer="roads")
    buildings = tz.io.read_layer(buildings_path, layer="buildings")
    rng = np.random.default_rng(2)
    pick = rng.choice(len(buildings), size=len(CATEGORIES) * 1500, replace=False)
    facilities = gpd.GeoDataFrame(
        {"category": np.repeat(CATEGORIES, 1500)},
        geometry=buildings.geometry.iloc[pick].representative_point().to_numpy(),
        crs=buildings.crs,
    )
    start = time.perf_counter()
    G = tz.network.from_lines(roads)
    t_net = time.perf_counter() - start
    net = tz.access.prepare(G)
    t_prep = time.perf_counter() - start - t_net
    dist = tz.access.nearest(net, buildings, facilities)
    total = time.perf_counter() - start
    print(
        f"Hangzhou: {len(roads):,} roads → {G.number_of_nodes():,} nodes, {G.number_of_edges():,} edges; "
        f"{len(buildings):,} buildings"
    )
    print(
        f"  network {t_net:.1f} s + prepare {t_prep:.1f} s + nearest (snap + 8 categories) "
        f"{total - t_net - t_prep:.1f} s = {total:.1f} s  (target < 30 s)"
    )
    print(
        f"  buildings on the network: {dist['reachable'].mean():.1%}; within 1000 m of a clinic: "
        f"{(dist['clinic'] <= 1000).mean():.1%}"
    )
    # the common shortcut: snap homes and facilities to their nearest node, no legs
    threshold = tz.access.default_threshold_m()
    nodes = shapely.STRtree(shapely.points(net.x, net.y))
    metric = buildings.to_crs(net.crs).representative_point().to_numpy()
    home_node = nodes.query_nearest(metric, all_matches=False)[1]
    fac_metric = facilities.to_crs(net.crs)
    wrong, optimistic, total = 0, 0, 0
    ok = dist["reachable"].to_numpy()
    for c in CATEGORIES:
        mine = fac_metric.geometry.values[fac_metric["category"].to_numpy() == c]
        src = nodes.query_nearest(mine, all_matches=False)[1]
        d_node = dijkstra(net.matrix, directed=True, indices=src, min_only=True, limit=threshold)[home_node]
        flag_node = d_node[ok] <= threshold
        flag_edge = dist[c].to_numpy()[ok] <= threshold
        wrong += int((flag_node != flag_edge).sum())
        optimistic += int((flag_node & ~flag_edge).sum())
        total += int(ok.sum())
    print(
        f"  nearest-node shortcut: {wrong / total:.1%} of 15-minute flags differ from edge snapping, "
        f"{optimistic / max(wrong, 1):.0%} of them optimistic"
    )


def service_areas_clip(root: Path) -> None:
    """Service areas (8 categories × the life-circle distances) on the Yunqi clip, against convex hulls."""
    path = root / "hangzhou" / "clip_yunqi_r2500m.gpkg"
    if not path.exists():
        print(f"{path} not found: service areas skipped")
        return
    net = tz.access.prepare(tz.network.from_lines(tz.io.read_layer(path, layer="roads")))
    buildings = tz.io.read_layer(path, layer="buildings").to_crs(net.crs)
    rng = np.random.default_rng(0)
    pick = rng.choice(len(buildings), len(CATEGORIES) * 20)
    facilities = gpd.GeoDataFrame(
        {"category": np.repeat(CATEGORIES, 20)},
        geometry=buildings.geometry.iloc[pick].representative_point().to_numpy(),
        crs=net.crs,
    )
    areas, t_ours = timed(tz.access.service_areas, net, facilities)
    # the former method (a loop over edges, one buffer per piece, one union): same polygons
    _, sources, *_ = _sources_by_category(net, facilities, categories=CATEGORIES)
    start = time.perf_counter()
    fields = net.node_distances(sources, limit_m=1000.0)
    for k in range(len(CATEGORIES)):
        for t in sorted(areas["threshold_m"].unique()):
            union_areas.area_by_union(net, fields[k], sources[k], t, max_width_m=50.0, quad_segs=16)
    t_union = time.perf_counter() - start
    print(
        f"service areas, Yunqi clip: ours {t_ours:.2f} s, former union method {t_union:.2f} s, "
        f"ratio union / ours {t_union / t_ours:.2f}×"
    )
    # the osmnx recipe as a peer: node distances from the facilities' nearest nodes, convex hull of reached nodes
    thresholds = sorted(areas["threshold_m"].unique())
    start = time.perf_counter()
    nodes = shapely.STRtree(shapely.points(net.x, net.y))
    hulls = []
    for c in CATEGORIES:
        mine = facilities.geometry.values[facilities["category"].to_numpy() == c]
        src = nodes.query_nearest(mine, all_matches=False)[1]
        d = dijkstra(net.matrix, indices=src, min_only=True, limit=thresholds[-1])
        hulls += [shapely.MultiPoint(np.column_stack([net.x, net.y])[d <= t]).convex_hull for t in thresholds]
    t_hull = time.perf_counter() - start
    print(
        f"service areas, Yunqi clip ({net.n_nodes:,} nodes, {len(areas)} areas): {t_ours:.2f} s; convex hulls of "
        f"reached nodes {t_hull:.3f} s (ours {t_ours / t_hull:.0f}× slower, but follows the streets)"
    )


PARTS = ("synthetic", "networkx-graph", "prepare", "service-areas", "hangzhou")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50,000 nodes and 150 facilities per category")
    parser.add_argument("--no-hangzhou", action="store_true")
    parser.add_argument("--no-synthetic", action="store_true")
    parser.add_argument("--graph-nodes", type=int, default=None, help="size of the networkx-graph run")
    parser.add_argument(
        "--prepare-nodes", type=int, default=None, help="size of the prepare run (default 500,000; quick 20,000)"
    )
    parser.add_argument(
        "--only", action="append", choices=PARTS, help="run only this part (repeatable); default: every part"
    )
    parser.add_argument("--repeat", type=int, default=1, help="networkx-graph and prepare parts: best of N runs")
    args = parser.parse_args(argv)
    parts = set(args.only or PARTS)
    if args.no_synthetic:
        parts -= {"synthetic", "networkx-graph", "prepare"}
    if args.no_hangzhou:
        parts -= {"service-areas", "hangzhou"}
    if "synthetic" in parts:
        synthetic(*((50_000, 150) if args.quick else (500_000, 1500)))
    if "networkx-graph" in parts:
        networkx_graph(args.graph_nodes or (20_000 if args.quick else 100_000), repeat=args.repeat)
    if "prepare" in parts:
        prepare_graph(args.prepare_nodes or (20_000 if args.quick else 500_000), repeat=args.repeat)
    if parts & {"service-areas", "hangzhou"}:
        root = Path(
            os.environ.get(tz.settings.shared_data_env, Path(__file__).resolve().parents[2] / "shared" / "data")
        )
        if "service-areas" in parts:
            service_areas_clip(root)
        if "hangzhou" in parts and not args.quick:
            park_service_areas(root)
            hangzhou(root)
    print(f"peak resident memory of this benchmark: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
