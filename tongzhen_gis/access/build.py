"""The builder steps of the prepared network (:class:`~tongzhen_gis.access.engine.PreparedNetwork`).

Each step is a function over plain arrays, run once when a network is prepared:

1. :func:`check_metric_crs`: refuse a CRS that cannot measure metres;
2. :func:`validated_edges`: refuse a network without edges or with missing/negative lengths;
3. :func:`edge_geometry`: fill missing edge geometry with the straight line and orient every
   geometry from ``u`` to ``v`` (the graph contract allows either order);
4. :func:`duplicate_edges`: find copies of one street (a directed graph's two directions, a
   line digitised twice), of which one is kept;
5. :func:`length_scale` and :func:`symmetric_csr`: the geometry-to-length scale of each edge
   and the CSR matrix.
"""

from __future__ import annotations

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


def graph_arrays(G: nx.Graph) -> dict[str, Any]:
    """The keywords of :class:`~tongzhen_gis.access.engine.PreparedNetwork`, read from a networkx graph.

    A graph built by :func:`tongzhen_gis.network.from_lines` or ``from_osm`` carries the arrays
    it was built from (:func:`remember_arrays`); they are used as long as the graph's
    :func:`fingerprint` is unchanged. Otherwise the graph is read with one pass over its nodes
    and one over its edges, the rest with array operations.

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
    node_ids = list(G.nodes)
    if not node_ids:
        msg = "the street graph has no nodes; check the road layer and the walkable-class filter"
        raise NetworkDataError(msg)
    try:
        xy = np.array([(float(d["x"]), float(d["y"])) for _, d in G.nodes(data=True)], dtype=float)
    except (KeyError, TypeError, ValueError):
        msg = "every node of the street graph needs float 'x' and 'y' (its coordinates in the graph's CRS)"
        raise NetworkDataError(msg) from None
    edges = list(G.edges(keys=True, data=True)) if G.is_multigraph() else list(G.edges(data=True))
    datas = [e[-1] for e in edges]
    length = [d.get("length") for d in datas]
    lacking = sum(w is None for w in length)
    if lacking:
        msg = (
            f"{lacking} edge(s) of the street graph have no 'length'; add lengths in metres, e.g. "
            "osmnx.distance.add_edge_lengths(G), or build the graph with tz.network.from_lines"
        )
        raise NetworkDataError(msg)
    keys = [e[:-1] for e in edges]
    position = pd.Index(node_ids) if len(set(map(type, node_ids))) == 1 else pd.Index(node_ids, dtype=object)
    return {
        "crs": crs,
        "node_ids": np.array(node_ids, dtype=object),
        "x": xy[:, 0],
        "y": xy[:, 1],
        "edge_u": position.get_indexer([k[0] for k in keys]).astype(np.int64),
        "edge_v": position.get_indexer([k[1] for k in keys]).astype(np.int64),
        "edge_length_m": np.array(length, dtype=float),
        "edge_geom": np.array([d.get("geometry") for d in datas], dtype=object),
        "edge_keys": keys,
    }


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
    if missing.any():
        geom = geom.copy()
        geom[missing] = straight_edges(x, y, u[missing], v[missing])
    # the first vertex of each geometry, read as coordinates (no Point objects)
    coords, owner = shapely.get_coordinates(geom, return_index=True)
    first = np.full((len(geom), 2), np.nan)
    at = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]]) if len(owner) else np.zeros(0, dtype=np.int64)
    first[owner[at]] = coords[at]
    to_u = np.hypot(first[:, 0] - x[u], first[:, 1] - y[u])
    to_v = np.hypot(first[:, 0] - x[v], first[:, 1] - y[v])
    flip = to_u > to_v
    if flip.any():
        geom = geom.copy()
        geom[flip] = shapely.reverse(geom[flip])
    return geom


def duplicate_edges(u: np.ndarray, v: np.ndarray, length: np.ndarray, geom: np.ndarray) -> np.ndarray:
    """True for the edges to drop as copies of another: the same street twice, one copy kept.

    Two copies of one street would hide the direct path between a home and a facility that
    snap to different copies. Copies are edges joining the same nodes with the same length
    and the same geometry (either direction); the first in (nodes, length) order is kept.
    """
    lo = np.minimum(u, v)
    hi = np.maximum(u, v)
    order = np.lexsort((length, hi, lo))
    same = (
        (lo[order][1:] == lo[order][:-1])
        & (hi[order][1:] == hi[order][:-1])
        & (length[order][1:] == length[order][:-1])
    )
    drop = np.zeros(len(lo), dtype=bool)
    for j in np.flatnonzero(same):
        a, b = order[j], order[j + 1]
        if drop[a]:
            a = next((k for k in order[: j + 1][::-1] if not drop[k] and lo[k] == lo[b] and hi[k] == hi[b]), a)
        ga, gb = geom[a], geom[b]
        if shapely.equals_exact(ga, gb, tolerance=1e-9) or shapely.equals_exact(
            ga, shapely.reverse(gb), tolerance=1e-9
        ):
            drop[b] = True
    return drop


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
    """
    keep = u != v
    rows = np.concatenate([u[keep], v[keep]])
    cols = np.concatenate([v[keep], u[keep]])
    vals = np.concatenate([w[keep], w[keep]])
    order = np.lexsort((vals, cols, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    rows, cols, vals = rows[first], cols[first], vals[first]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    index_dtype = np.int32 if n < 2**31 - 1 else np.int64
    return sp.csr_matrix((vals, cols.astype(index_dtype), indptr.astype(index_dtype)), shape=(n, n))
