"""The builder steps of the prepared network (:class:`~tongzhen_gis.access.engine.PreparedNetwork`).

A networkx graph is first read into arrays by :func:`graph_arrays`: the arrays a graph from
:mod:`tongzhen_gis.network` carries (:func:`remember_arrays`), or else its nodes and its
adjacency read with C-level maps (:func:`read_nodes`, :func:`read_edges`), no Python loop
over edges. Each further step is a function over plain arrays, run once when a network is
prepared:

1. :func:`check_metric_crs`: refuse a CRS that cannot measure metres;
2. :func:`validated_edges`: refuse a network without edges or with missing/negative lengths;
3. :func:`edge_geometry`: fill missing edge geometry with the straight line and orient every
   geometry from ``u`` to ``v`` (the graph contract allows either order);
4. :func:`duplicate_edges`: find copies of one street (a directed graph's two directions, a
   line digitised twice), of which one is kept;
5. :func:`length_scale` and :func:`symmetric_csr`: the geometry-to-length scale of each edge
   and the CSR matrix.

Reading and building run with Python's cyclic garbage collector paused
(:func:`collector_paused`).
"""

from __future__ import annotations

import gc
import operator
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain, repeat
from operator import itemgetter, methodcaller
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from pyproj import CRS

from tongzhen_gis.errors import NetworkDataError

_WEB_MERCATOR = (3857, 900913, 3785, 102100)


def check_metric_crs(crs) -> CRS:
    """Return the graph's CRS as a pyproj CRS, or raise when it cannot measure metres."""
    if crs is None:
        msg = (
            "the street graph has no CRS (G.graph['crs']); build it with tz.network.from_lines or "
            "tz.network.from_osm, or project it first, e.g. osmnx.project_graph(G, to_crs='EPSG:4549')"
        )
        raise NetworkDataError(msg)
    crs = CRS.from_user_input(crs)
    units = {ax.unit_name for ax in crs.axis_info}
    if not crs.is_projected or crs.to_epsg() in _WEB_MERCATOR or not units <= {"metre", "meter"}:
        msg = (
            f"the street graph's CRS {crs.to_string()} is not a metric projected CRS (edge lengths and snapping "
            "would be wrong); project it, e.g. osmnx.project_graph(G, to_crs='EPSG:4549') for Hangzhou"
        )
        raise NetworkDataError(msg)
    return crs


#: Key of ``G.graph`` under which :func:`remember_arrays` keeps the arrays a graph was built from.
ARRAYS_KEY = "_tongzhen_arrays"


def fingerprint(G: nx.Graph) -> tuple | None:
    """A cheap summary of a graph: node and edge counts and the sums of node x, y and edge lengths.

    Two passes over the graph without building any per-edge object. ``None`` when a value is
    missing or not a number (the graph is then always read again).
    """
    try:
        x = np.fromiter((v for _, v in G.nodes(data="x")), dtype=float, count=G.number_of_nodes())
        y = np.fromiter((v for _, v in G.nodes(data="y")), dtype=float, count=G.number_of_nodes())
        length = np.fromiter((w for *_, w in G.edges(data="length")), dtype=float)
    except (TypeError, ValueError):
        return None
    return (G.number_of_nodes(), len(length), float(x.sum()), float(y.sum()), float(length.sum()))


def remember_arrays(G: nx.Graph, **arrays: Any) -> None:
    """Keep the arrays a graph was built from on the graph, with its :func:`fingerprint`.

    :func:`graph_arrays` returns them instead of reading the graph edge by edge while the
    fingerprint still matches (nodes, edges, coordinates and lengths unchanged). ``arrays``
    are the keywords of :class:`~tongzhen_gis.access.engine.PreparedNetwork` but ``crs``
    (read from ``G.graph["crs"]`` when used).
    """
    G.graph[ARRAYS_KEY] = (fingerprint(G), arrays)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a network is read and built.

    Preparing a network keeps hundreds of thousands of new objects alive (lists of edge
    attribute dicts, one shapely LineString per edge: both tracked by the collector). Each
    time enough of them pile up the collector walks every object of the process again, the
    whole networkx graph included: on a 100,000-node graph that tripled the time to build the
    edge geometry. Nothing built here forms a reference cycle, so nothing is left for the
    collector to free. It is switched back on only if it was on.
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


@collector_paused()
def graph_arrays(G: nx.Graph) -> dict[str, Any]:
    """The keywords of :class:`~tongzhen_gis.access.engine.PreparedNetwork`, read from a networkx graph.

    A graph built by :func:`tongzhen_gis.network.from_lines` or ``from_osm`` carries the arrays
    it was built from (:func:`remember_arrays`); they are used as long as the graph's
    :func:`fingerprint` is unchanged. Otherwise the graph is read with one pass over its nodes
    and one over its adjacency (:func:`read_edges`), the rest with array operations.

    Raises
    ------
    NetworkDataError
        No CRS, a geographic CRS, no nodes, nodes without coordinates, edges without length.
    """
    crs = G.graph.get("crs")
    check_metric_crs(crs)
    kept = G.graph.get(ARRAYS_KEY)
    if kept is not None:
        mark, arrays = kept
        if mark is not None and mark == fingerprint(G):
            return {"crs": crs, **arrays}
    node_ids, x, y = read_nodes(G)
    edge_u, edge_v, keys, datas = read_edges(G, node_ids)
    try:
        # a length of None reads as NaN here, which sends the graph to the counting below
        length = np.fromiter(map(itemgetter("length"), datas), dtype=float, count=len(datas))
    except KeyError:
        length = np.full(len(datas), np.nan)
    if np.isnan(length).any():
        lacking = sum(map(operator.is_, map(methodcaller("get", "length"), datas), repeat(None)))
        if lacking:
            msg = (
                f"{lacking} edge(s) of the street graph have no 'length'; add lengths in metres, e.g. "
                "osmnx.distance.add_edge_lengths(G), or build the graph with tz.network.from_lines"
            )
            raise NetworkDataError(msg)
    # no edge with a geometry: every edge is the straight line (built in one call by the network)
    with_geometry = any(map(operator.contains, datas, repeat("geometry")))
    geometry = methodcaller("get", "geometry")
    return {
        "crs": crs,
        "node_ids": node_ids,
        "x": x,
        "y": y,
        "edge_u": edge_u,
        "edge_v": edge_v,
        "edge_length_m": length,
        "edge_geom": np.fromiter(map(geometry, datas), dtype=object, count=len(datas)) if with_geometry else None,
        "edge_keys": EdgeKeys(node_ids, edge_u, edge_v, keys),
    }


def _object_array(items: list) -> np.ndarray:
    """A 1-D object array of these items (tuples stay single items, as node labels)."""
    return np.fromiter(items, dtype=object, count=len(items))


def read_nodes(G: nx.Graph) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The node labels (a 1-D object array, in ``G.nodes`` order) and their ``x``, ``y`` as floats.

    Raises
    ------
    NetworkDataError
        No nodes, or a node without ``x``/``y`` that ``float`` accepts.
    """
    node_ids = list(G.nodes)
    if not node_ids:
        msg = "the street graph has no nodes; check the road layer and the walkable-class filter"
        raise NetworkDataError(msg)
    datas = list(map(itemgetter(1), G.nodes(data=True)))
    n = len(datas)
    try:
        x = np.fromiter(map(float, map(itemgetter("x"), datas)), dtype=float, count=n)
        y = np.fromiter(map(float, map(itemgetter("y"), datas)), dtype=float, count=n)
    except (KeyError, TypeError, ValueError):
        msg = "every node of the street graph needs float 'x' and 'y' (its coordinates in the graph's CRS)"
        raise NetworkDataError(msg) from None
    return _object_array(node_ids), x, y


@dataclass(frozen=True)
class EdgeKeys:
    """The graph's name of each edge, ``(u, v)`` or ``(u, v, key)``, made into tuples only when asked.

    Reading a large graph would otherwise build a tuple per edge that no query uses.
    """

    node_ids: np.ndarray
    u: np.ndarray
    v: np.ndarray
    key: np.ndarray | None = None

    def subset(self, keep: np.ndarray) -> EdgeKeys:
        """The edges where ``keep`` is true."""
        return EdgeKeys(self.node_ids, self.u[keep], self.v[keep], None if self.key is None else self.key[keep])

    def tolist(self) -> list[tuple]:
        """The keys as ``G.edges(keys=True)`` names the edges."""
        ends = (self.node_ids[self.u].tolist(), self.node_ids[self.v].tolist())
        if self.key is None:
            return list(zip(*ends, strict=True))
        return list(zip(*ends, self.key.tolist(), strict=True))


def read_edges(G: nx.Graph, node_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
    """Every edge of ``G`` in ``G.edges`` order, read from ``G.adjacency()`` without a Python loop.

    An undirected graph lists each edge under both ends: it is kept under the end that comes
    first in the adjacency, which is how ``G.edges`` reports it (``u`` the first end, then the
    neighbours in their order). A multigraph adds one level, the edge keys.

    Returns
    -------
    edge_u, edge_v : numpy.ndarray of int64
        Positions of the two ends in ``node_ids``.
    keys : numpy.ndarray of object or None
        The multigraph key of each edge (None for a graph without keys).
    datas : numpy.ndarray of object
        The attribute dict of each edge.
    """
    heads = list(map(itemgetter(0), G.adjacency()))
    nbrs = list(map(itemgetter(1), G.adjacency()))
    labels = node_ids.tolist()
    position = _positions_of(labels)
    counts = np.fromiter(map(len, nbrs), dtype=np.int64, count=len(nbrs))
    total = int(counts.sum())
    inner = np.fromiter(chain.from_iterable(map(methodcaller("values"), nbrs)), dtype=object, count=total)
    # position of each entry's own node in the adjacency, and of its neighbour in node_ids
    at = np.repeat(np.arange(len(heads), dtype=np.int64), counts)
    v = position(chain.from_iterable(nbrs), total)
    same_order = heads == labels
    u = at if same_order else position(heads, len(heads))[at]
    if not G.is_directed():
        # G.edges skips a neighbour already passed in the adjacency (its own self-loops are kept)
        if same_order:
            keep = v >= at
        else:
            order = dict(zip(heads, range(len(heads)), strict=True))
            keep = np.fromiter(map(order.__getitem__, chain.from_iterable(nbrs)), dtype=np.int64, count=total) >= at
        u, v, inner = u[keep], v[keep], inner[keep]
    if not G.is_multigraph():
        return u, v, None, inner
    per_pair = np.fromiter(map(len, inner), dtype=np.int64, count=len(inner))
    keys = _object_array(list(chain.from_iterable(inner)))
    datas = _object_array(list(chain.from_iterable(map(methodcaller("values"), inner))))
    return np.repeat(u, per_pair), np.repeat(v, per_pair), keys, datas


def _positions_of(labels: list) -> Callable[[Iterable, int], np.ndarray]:
    """A function giving the positions in ``labels`` of ``count`` node labels (all present).

    Plain ``int`` labels (a graph built by hand, osmnx's OSM ids) are matched as int64 arrays
    (none at all when they are ``0 … n-1`` in order); any other hashable label through a dict.
    """
    ints = None
    if set(map(type, labels)) == {int}:
        try:
            ints = np.fromiter(labels, dtype=np.int64, count=len(labels))
        except OverflowError:  # an int beyond int64
            ints = None
    if ints is None:
        lookup = dict(zip(labels, range(len(labels)), strict=True))
        return lambda items, count: np.fromiter(map(lookup.__getitem__, items), dtype=np.int64, count=count)
    if np.array_equal(ints, np.arange(len(ints))):
        return lambda items, count: np.fromiter(items, dtype=np.int64, count=count)
    index = pd.Index(ints)
    return lambda items, count: index.get_indexer(np.fromiter(items, dtype=np.int64, count=count)).astype(np.int64)


def validated_edges(
    edge_u: np.ndarray, edge_v: np.ndarray, edge_length_m: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The edge ends as int arrays and the lengths as floats; refuse no edges or bad lengths.

    Raises
    ------
    NetworkDataError
        No edge, or a length that is missing or negative.
    """
    u = np.asarray(edge_u, dtype=np.int64)
    v = np.asarray(edge_v, dtype=np.int64)
    length = np.asarray(edge_length_m, dtype=float)
    if len(u) == 0:
        msg = "the street graph has no edges; check the road layer and the walkable-class filter"
        raise NetworkDataError(msg)
    bad = ~np.isfinite(length) | (length < 0)
    if bad.any():
        msg = f"{int(bad.sum())} edge(s) have a missing or negative 'length'; recompute lengths in metres"
        raise NetworkDataError(msg)
    return u, v, length


def straight_edges(x: np.ndarray, y: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Straight LineStrings from node ``u`` to node ``v`` of each edge."""
    return shapely.linestrings(np.stack([np.column_stack([x[u], y[u]]), np.column_stack([x[v], y[v]])], axis=1))


def edge_geometry(
    x: np.ndarray, y: np.ndarray, u: np.ndarray, v: np.ndarray, edge_geom: np.ndarray | None
) -> np.ndarray:
    """Every edge's geometry oriented from ``u`` to ``v``; a missing or empty one is the straight line.

    A given geometry may run in either direction: it is reversed when its first point is
    nearer the ``v`` node than the ``u`` node.
    """
    if edge_geom is None:
        return straight_edges(x, y, u, v)
    geom = np.asarray(edge_geom, dtype=object)
    missing = shapely.is_missing(geom) | shapely.is_empty(geom)
    given = np.flatnonzero(~missing)
    # the first vertex of each given geometry, read as coordinates (no Point objects)
    coords, owner = shapely.get_coordinates(geom[given], return_index=True)
    first = np.full((len(given), 2), np.nan)
    at = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]]) if len(owner) else np.zeros(0, dtype=np.int64)
    first[owner[at]] = coords[at]
    gu, gv = u[given], v[given]
    to_u = np.hypot(first[:, 0] - x[gu], first[:, 1] - y[gu])
    to_v = np.hypot(first[:, 0] - x[gv], first[:, 1] - y[gv])
    flip = given[to_u > to_v]
    if missing.any() or len(flip):
        geom = geom.copy()
        geom[missing] = straight_edges(x, y, u[missing], v[missing])
        geom[flip] = shapely.reverse(geom[flip])
    return geom


def _pair_key(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """One int64 per unordered node pair (``lo <= hi``), equal for edges joining the same nodes."""
    return lo * (int(hi.max()) + 1 if len(hi) else 1) + hi


def _repeated(key: np.ndarray) -> np.ndarray:
    """True where the key occurs more than once."""
    order = np.argsort(key, kind="stable")
    same = key[order][1:] == key[order][:-1]
    out = np.zeros(len(key), dtype=bool)
    out[order[1:][same]] = True
    out[order[:-1][same]] = True
    return out


def duplicate_edges(u: np.ndarray, v: np.ndarray, length: np.ndarray, geom: np.ndarray) -> np.ndarray:
    """True for the edges to drop as copies of another: the same street twice, one copy kept.

    Two copies of one street would hide the direct path between a home and a facility that
    snap to different copies. Copies are edges joining the same nodes with the same length
    and the same geometry (either direction); the first in (nodes, length) order is kept.
    Only edges sharing their nodes and length are compared: two of them (a two-way street of
    a directed graph) in one vectorised call for all such pairs, three or more each with the
    copies kept before it.
    """
    lo = np.minimum(u, v)
    hi = np.maximum(u, v)
    drop = np.zeros(len(lo), dtype=bool)
    if not len(lo):
        return drop
    cand = np.flatnonzero(_repeated(_pair_key(lo, hi)))
    if not len(cand):
        return drop
    order = cand[np.lexsort((length[cand], hi[cand], lo[cand]))]
    starts = np.flatnonzero(
        np.r_[
            True,
            (lo[order][1:] != lo[order][:-1])
            | (hi[order][1:] != hi[order][:-1])
            | (length[order][1:] != length[order][:-1]),
        ]
    )
    sizes = np.diff(np.r_[starts, len(order)])
    pair = starts[sizes == 2]
    drop[order[pair + 1]] = _same_line(geom[order[pair]], geom[order[pair + 1]])
    for start, size in zip(starts[sizes > 2].tolist(), sizes[sizes > 2].tolist(), strict=True):
        kept = [order[start]]
        for b in order[start + 1 : start + size]:
            if _same_line(geom[kept], np.full(len(kept), geom[b], dtype=object)).any():
                drop[b] = True
            else:
                kept.append(b)
    return drop


def _same_line(ga: np.ndarray, gb: np.ndarray) -> np.ndarray:
    """Element-wise: the two lines are the same within 1e-9, in either direction."""
    return shapely.equals_exact(ga, gb, tolerance=1e-9) | shapely.equals_exact(ga, shapely.reverse(gb), tolerance=1e-9)


def length_scale(length: np.ndarray, geom: np.ndarray) -> np.ndarray:
    """``length / geometry.length`` of each edge (0 for a zero-length geometry).

    Multiplies a position measured along the geometry into the edge's ``length`` units.
    """
    geom_len = shapely.length(geom)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(geom_len > 0, length / geom_len, 0.0)


def symmetric_csr(n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> sp.csr_matrix:
    """CSR matrix with both directions of every edge, keeping the shortest of parallel edges.

    Self-loops are left out (they never shorten a path). Explicit zero lengths stay edges.
    scipy's conversion adds up the entries of one node pair: when it finds such pairs (fewer
    entries than edges), parallel edges are first reduced to their shortest and the matrix is
    built again. Its indices come out sorted.
    """
    keep = u != v
    lo, hi, w = np.minimum(u[keep], v[keep]), np.maximum(u[keep], v[keep]), w[keep]
    matrix = _both_ways(n, lo, hi, w)
    if matrix.nnz == 2 * len(lo):
        return matrix
    key = _pair_key(lo, hi)
    order = np.argsort(key, kind="stable")
    starts = np.flatnonzero(np.r_[True, key[order][1:] != key[order][:-1]])
    return _both_ways(n, lo[order][starts], hi[order][starts], np.minimum.reduceat(w[order], starts))


def _both_ways(n: int, lo: np.ndarray, hi: np.ndarray, w: np.ndarray) -> sp.csr_matrix:
    """The CSR matrix of these edges in both directions (entries of one pair added up), indices sorted."""
    index_dtype = np.int32 if n < 2**31 - 1 and 2 * len(lo) < 2**31 - 1 else np.int64
    rows, cols = np.r_[lo, hi].astype(index_dtype), np.r_[hi, lo].astype(index_dtype)
    matrix = sp.coo_matrix((np.r_[w, w], (rows, cols)), shape=(n, n)).tocsr()
    matrix.sort_indices()
    return matrix
