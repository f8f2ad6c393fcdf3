"""tz.access.prepare reads any networkx graph with array operations (issue 15).

The reader (:func:`tongzhen_gis.access.build.graph_arrays`) walks ``G.adjacency()`` with
C-level maps instead of a Python loop over ``G.edges``. Checked here against the plain loop
over ``G.edges(keys=True, data=True)`` (what it replaced, written out below) on random graphs
of every networkx class, with parallel edges, self-loops, edges with and without geometry
(either direction), and node labels that are ints, strings, tuples or a mix; and the
prepared network's distances against networkx's own Dijkstra on the same graph.
"""

from __future__ import annotations

import gc

import networkx as nx
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import LineString

import tongzhen_gis as tz
from tongzhen_gis.access.build import ARRAYS_KEY, duplicate_edges, graph_arrays, symmetric_csr
from tongzhen_gis.access.engine import PreparedNetwork
from tongzhen_gis.errors import NetworkDataError

CRS = "EPSG:4549"
CLASSES = [nx.Graph, nx.DiGraph, nx.MultiGraph, nx.MultiDiGraph]
LABELS = {
    "range": lambda i: i,  # 0 … n-1: positions without any lookup when added in that order
    "int": lambda i: i * 7,
    "huge int": lambda i: 2**70 + i,  # beyond int64
    "str": lambda i: f"n{i}",
    "tuple": lambda i: (i, i % 2),
    "mixed": lambda i: [i, f"n{i}", (i, "a")][i % 3],
}
GEOMETRY = ["none", "straight", "bent", "bent reversed", "empty"]


def _reference_arrays(G: nx.Graph) -> dict:
    """The graph read with a Python loop over ``G.nodes`` and ``G.edges`` (the former reader)."""
    node_ids = list(G.nodes)
    position = {n: i for i, n in enumerate(node_ids)}
    edges = list(G.edges(keys=True, data=True)) if G.is_multigraph() else list(G.edges(data=True))
    return {
        "node_ids": node_ids,
        "x": [float(d["x"]) for _, d in G.nodes(data=True)],
        "y": [float(d["y"]) for _, d in G.nodes(data=True)],
        "edge_u": [position[e[0]] for e in edges],
        "edge_v": [position[e[1]] for e in edges],
        "edge_length_m": [e[-1]["length"] for e in edges],
        "edge_geom": [e[-1].get("geometry") for e in edges],
        "edge_keys": [e[:-1] for e in edges],
    }


@st.composite
def graphs(draw) -> nx.Graph:
    cls = draw(st.sampled_from(CLASSES))
    label = LABELS[draw(st.sampled_from(sorted(LABELS)))]
    n = draw(st.integers(1, 8))
    G = cls(crs=CRS)
    order = draw(st.permutations(range(n)))  # nodes added in any order
    for i in order:
        G.add_node(label(i), x=float(100 * (i % 3)), y=float(100 * (i // 3)))
    edges = draw(
        st.lists(
            st.tuples(
                st.integers(0, n - 1),
                st.integers(0, n - 1),
                st.sampled_from([0.0, 50.0, 100.0, 141.5, 300.0]),
                st.sampled_from(GEOMETRY),
            ),
            max_size=20,
        )
    )
    for a, b, length, kind in edges:
        u, v = label(a), label(b)
        data: dict = {"length": length, "name": "street"}
        ends = [(G.nodes[u]["x"], G.nodes[u]["y"]), (G.nodes[v]["x"], G.nodes[v]["y"])]
        if kind == "straight":
            data["geometry"] = LineString(ends)
        elif kind.startswith("bent"):
            line = [ends[0], (ends[0][0] + 30.0, ends[0][1] + 40.0), ends[1]]
            data["geometry"] = LineString(line[::-1] if kind == "bent reversed" else line)
        elif kind == "empty":
            data["geometry"] = LineString()
        G.add_edge(u, v, **data)
        if draw(st.booleans()):  # the same street again, from the other end
            G.add_edge(v, u, **data)
    if G.number_of_nodes() > 2 and draw(st.booleans()):
        G = G.subgraph(list(G.nodes)[1:])  # a view: read through its filtered adjacency
    return G


@settings(max_examples=150, deadline=None)
@given(graphs())
def test_reader_gives_what_a_loop_over_the_edges_gives(G):
    got = graph_arrays(G)
    want = _reference_arrays(G)
    assert got["node_ids"].ndim == 1
    assert got["node_ids"].tolist() == want["node_ids"]
    for name in ("x", "y", "edge_u", "edge_v", "edge_length_m"):
        np.testing.assert_array_equal(got[name], np.asarray(want[name], dtype=got[name].dtype), err_msg=name)
    geoms = [None] * len(want["edge_geom"]) if got["edge_geom"] is None else list(got["edge_geom"])
    assert all(a is b for a, b in zip(geoms, want["edge_geom"], strict=True))
    assert got["edge_keys"].tolist() == want["edge_keys"]


def _networkx_distances(G: nx.Graph, source) -> dict:
    """Walking distances from ``source`` by networkx: every edge both ways, the shortest parallel edge."""
    walk = nx.MultiGraph()
    walk.add_nodes_from(G.nodes)
    walk.add_edges_from((u, v, {"length": d["length"]}) for u, v, d in G.edges(data=True))
    return nx.single_source_dijkstra_path_length(walk, source, weight="length")


@settings(max_examples=150, deadline=None)
@given(graphs())
def test_prepared_network_is_the_one_the_loop_gives_and_measures_like_networkx(G):
    if G.number_of_edges() == 0:
        with pytest.raises(NetworkDataError, match="no edges"):
            tz.access.prepare(G)
        return
    net = tz.access.prepare(G)
    ref = _reference_arrays(G)
    labels = np.fromiter(ref["node_ids"], dtype=object, count=len(ref["node_ids"]))
    looped = PreparedNetwork(crs=CRS, **{**ref, "node_ids": labels})
    for name in ("edge_u", "edge_v", "edge_length", "x", "y"):
        np.testing.assert_array_equal(getattr(net, name), getattr(looped, name), err_msg=name)
    for name in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(net.matrix, name), getattr(looped.matrix, name), err_msg=name)
    assert net.edge_keys == looped.edge_keys
    assert net.duplicate_edges == looped.duplicate_edges
    assert shapely.equals_exact(net.edge_geom, looped.edge_geom, tolerance=0).all()
    # every edge runs from its u node to its v node
    starts = shapely.get_point(net.edge_geom, 0)
    ends = shapely.get_point(net.edge_geom, -1)
    np.testing.assert_array_equal(shapely.get_x(starts), net.x[net.edge_u])
    np.testing.assert_array_equal(shapely.get_y(ends), net.y[net.edge_v])
    # node distances as networkx measures them on the same graph
    for i, source in enumerate(net.node_ids.tolist()):
        expected = _networkx_distances(G, source)
        got = dijkstra(net.matrix, directed=True, indices=i)
        want = np.array([expected.get(n, np.inf) for n in net.node_ids.tolist()])
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 6).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(
                st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.sampled_from([0.0, 1.0, 2.5, 4.0])),
                min_size=1,
                max_size=25,
            ),
        )
    )
)
def test_csr_keeps_the_shortest_of_parallel_edges_both_ways(case):
    n, edges = case
    u, v, w = (np.array(c) for c in zip(*edges, strict=True))
    matrix = symmetric_csr(n, u, v, w.astype(float))
    best: dict = {}
    for a, b, length in edges:
        if a != b:
            for key in ((a, b), (b, a)):
                best[key] = min(best.get(key, np.inf), length)
    coo = matrix.tocoo()
    got = {(int(r), int(c)): float(d) for r, c, d in zip(coo.row, coo.col, coo.data, strict=True)}
    assert got == best  # explicit zero lengths stay edges
    assert matrix.has_sorted_indices


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 3), st.sampled_from([1.0, 2.0]), st.sampled_from(GEOMETRY[1:4])),
        min_size=1,
        max_size=16,
    )
)
def test_duplicate_edges_keep_one_copy_of_each_street(edges):
    xy = {0: (0.0, 0.0), 1: (100.0, 0.0), 2: (100.0, 100.0), 3: (0.0, 100.0)}
    u, v, length, geom = [], [], [], []
    for a, b, w, kind in edges:
        line = [xy[a], (xy[a][0] + 10.0, xy[a][1] + 20.0), xy[b]] if kind != "straight" else [xy[a], xy[b]]
        u.append(a)
        v.append(b)
        length.append(w)
        geom.append(LineString(line[::-1] if kind == "bent reversed" else line))
    u, v, length, geom = np.array(u), np.array(v), np.array(length), np.array(geom, dtype=object)
    drop = duplicate_edges(u, v, length, geom)

    def copies(i: int, j: int) -> bool:
        same_ends = {u[i], v[i]} == {u[j], v[j]}
        same_line = geom[i].equals_exact(geom[j], 1e-9) or geom[i].equals_exact(geom[j].reverse(), 1e-9)
        return bool(same_ends and same_line)

    kept = np.flatnonzero(~drop)
    # no two kept edges are the same street; every dropped one has a kept copy, no longer than it
    assert not any(copies(i, j) and length[i] == length[j] for i in kept for j in kept if i < j)
    for j in np.flatnonzero(drop):
        assert any(copies(i, j) and length[i] <= length[j] for i in kept)


def test_edge_keys_follow_the_dropped_copies():
    G = nx.MultiDiGraph(crs=CRS)
    G.add_node("a", x=0.0, y=0.0)
    G.add_node("b", x=100.0, y=0.0)
    G.add_edge("a", "b", length=100.0)
    G.add_edge("b", "a", length=100.0)  # a two-way street, as osmnx lists it
    G.add_edge("a", "b", length=120.0, geometry=LineString([(0, 0), (50, 10), (100, 0)]))
    net = tz.access.prepare(G)
    assert net.duplicate_edges == 1
    assert net.edge_keys == [("a", "b", 0), ("a", "b", 1)]


def test_missing_values_are_refused_with_the_fix():
    G = nx.Graph(crs=CRS)
    with pytest.raises(NetworkDataError, match="no nodes"):
        tz.access.prepare(G)
    G.add_node(1, x=0.0, y=0.0)
    G.add_node(2, x=100.0)
    G.add_edge(1, 2, length=100.0)
    with pytest.raises(NetworkDataError, match="float 'x' and 'y'"):
        tz.access.prepare(G)
    G.nodes[2]["y"] = None
    with pytest.raises(NetworkDataError, match="float 'x' and 'y'"):
        tz.access.prepare(G)
    G.nodes[2]["y"] = "0"  # what float() accepts is accepted
    assert tz.access.prepare(G).y[1] == 0.0
    G.add_edge(2, 3)
    G.nodes[3].update(x=0.0, y=50.0)
    G.add_edge(3, 1, length=None)
    with pytest.raises(NetworkDataError, match=r"2 edge\(s\) of the street graph have no 'length'"):
        tz.access.prepare(G)


@pytest.mark.parametrize("was_on", [True, False])
def test_the_garbage_collector_is_left_as_it_was(was_on):
    G = nx.Graph(crs=CRS)
    G.add_node(1, x=0.0, y=0.0)
    G.add_node(2, x=100.0, y=0.0)
    G.add_edge(1, 2, length=100.0)
    bad = G.copy()
    del bad.nodes[2]["x"]
    before = gc.isenabled()
    try:
        (gc.enable if was_on else gc.disable)()
        tz.access.prepare(G)
        assert gc.isenabled() == was_on
        with pytest.raises(NetworkDataError):
            tz.access.prepare(bad)
        assert gc.isenabled() == was_on
    finally:
        (gc.enable if before else gc.disable)()


@pytest.mark.shared_data
def test_real_streets_read_like_the_loop_and_like_the_kept_arrays(shared_data):
    roads = tz.io.read_layer(shared_data("hangzhou/clip_yunqi_r2500m.gpkg"), layer="roads")
    G = tz.network.from_lines(roads)
    kept = tz.access.prepare(G)  # from the arrays the graph carries
    bare = G.copy()
    del bare.graph[ARRAYS_KEY]
    # osmnx's shape: a MultiDiGraph listing each street both ways
    directed = nx.MultiDiGraph(bare)
    for H in (bare, directed):
        got, want = graph_arrays(H), _reference_arrays(H)
        assert got["edge_keys"].tolist() == want["edge_keys"]
        for name in ("edge_u", "edge_v", "edge_length_m"):
            np.testing.assert_array_equal(got[name], want[name], err_msg=name)
        assert all(a is b for a, b in zip(got["edge_geom"], want["edge_geom"], strict=True))
        net = tz.access.prepare(H)
        # the same streets once each (a street listed both ways is one street), the same matrix
        assert len(net.edge_u) == len(kept.edge_u)
        for name in ("indptr", "indices", "data"):
            np.testing.assert_array_equal(getattr(net.matrix, name), getattr(kept.matrix, name), err_msg=name)
