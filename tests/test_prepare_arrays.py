"""Graphs built by tz.network carry the arrays tz.access.prepare needs (issue 15).

The arrays are used only while the graph is unchanged (same nodes, edges, coordinates and
lengths, by :func:`tongzhen_gis.access.build.fingerprint`); a modified graph is read again.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tongzhen_gis as tz
from tongzhen_gis.access.build import ARRAYS_KEY, graph_arrays


@pytest.fixture
def scene():
    return tz.samples.sample_town()


@pytest.fixture
def G(scene):
    return tz.network.from_lines(scene.roads)


def _read_from_graph(G):
    bare = G.copy()
    del bare.graph[ARRAYS_KEY]
    return graph_arrays(bare)


def _edge_set(arrays):
    u, v = arrays["edge_u"], arrays["edge_v"]
    ids = arrays["node_ids"]
    return sorted(
        (min(ids[a], ids[b]), max(ids[a], ids[b]), w) for a, b, w in zip(u, v, arrays["edge_length_m"], strict=True)
    )


def test_built_graph_carries_the_arrays_it_would_be_read_as(G):
    kept = graph_arrays(G)
    read = _read_from_graph(G)
    assert kept["edge_keys"] is None  # the kept arrays, not a pass over the edges
    assert read["edge_keys"] is not None
    assert list(kept["node_ids"]) == list(read["node_ids"]) == list(G.nodes)
    assert np.array_equal(kept["x"], read["x"]) and np.array_equal(kept["y"], read["y"])
    assert _edge_set(kept) == _edge_set(read)


def test_nearest_is_the_same_with_the_kept_arrays(G, scene):
    homes = scene.homes.set_index("home_id")
    bare = G.copy()
    del bare.graph[ARRAYS_KEY]
    pd.testing.assert_frame_equal(
        tz.access.nearest(G, homes, scene.facilities), tz.access.nearest(bare, homes, scene.facilities), rtol=1e-12
    )


def test_a_changed_length_is_read_again(G):
    u, v, k = next(iter(G.edges(keys=True)))
    G.edges[u, v, k]["length"] += 100.0
    arrays = graph_arrays(G)
    assert arrays["edge_keys"] is not None
    assert _edge_set(arrays) == _edge_set(_read_from_graph(G))
    assert max(w for *_, w in _edge_set(arrays)) >= 100.0


def test_a_removed_edge_or_moved_node_is_read_again(G):
    n_edges = G.number_of_edges()
    u, v, k = next(iter(G.edges(keys=True)))
    G.remove_edge(u, v, k)
    arrays = graph_arrays(G)
    assert len(arrays["edge_u"]) == n_edges - 1
    H = G.copy()
    node = next(iter(H.nodes))
    H.nodes[node]["x"] += 5.0
    moved = graph_arrays(H)
    assert moved["edge_keys"] is not None
    assert moved["x"][list(H.nodes).index(node)] == H.nodes[node]["x"]


def test_a_subgraph_is_read_again(G):
    keep = list(G.nodes)[: G.number_of_nodes() // 2]
    sub = G.subgraph(keep)
    arrays = graph_arrays(sub)
    assert len(arrays["x"]) == len(keep)
    assert len(arrays["edge_u"]) == sub.number_of_edges()
