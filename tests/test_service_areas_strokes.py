"""Strokes: constant-width stretches joined through the junctions before they are buffered (issue 15).

Checked by hand on small networks: which stretches are joined, that a loop is cut open, that a
stretch of length 0 (a disk) is kept, and that the strokes' buffers cover what the stretches'
buffers cover.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

import tongzhen_gis as tz
from tongzhen_gis.access.areas import _along, _open_lines, _pair_ends, _strokes

CRS = "EPSG:4549"
X0, Y0 = 500_000.0, 3_300_000.0
WIDTH_M = 50.0


def _net(points, edges):
    xy = np.asarray(points, dtype=float) + np.array([X0, Y0])
    u, v = np.asarray(edges).T
    return tz.access.PreparedNetwork.from_arrays(crs=CRS, x=xy[:, 0], y=xy[:, 1], edge_u=u, edge_v=v)


def _whole(net, width=WIDTH_M):
    n = len(net.edge_u)
    return np.column_stack([np.arange(n), np.zeros(n), net.edge_length, np.full(n, width), np.full(n, width)])


def _stroke_lines(net, arr):
    which, _, xy = _along(net, arr[:, 0].astype(np.int64), arr[:, 1], arr[:, 2])
    return _strokes(net, arr, which, xy)


def _as_sets(lines):
    """Each line as the set of its vertices (relative to the origin, rounded), ignoring direction."""
    return {frozenset(map(tuple, np.round(shapely.get_coordinates(line) - np.array([X0, Y0]), 6))) for line in lines}


def test_a_crossing_is_two_straight_strokes():
    net = _net([(0, 0), (0, 100), (100, 0), (0, -100), (-100, 0)], [(0, 1), (0, 2), (0, 3), (0, 4)])
    lines, width = _stroke_lines(net, _whole(net))
    assert _as_sets(lines) == {
        frozenset({(0.0, 100.0), (0.0, 0.0), (0.0, -100.0)}),
        frozenset({(100.0, 0.0), (0.0, 0.0), (-100.0, 0.0)}),
    }
    assert (width == WIDTH_M).all()


def test_a_t_junction_joins_the_straight_street_and_leaves_the_stem():
    # the stem's end sorts between the two arms in angle: pairing by order alone would bend
    net = _net([(0, 0), (-100, 0), (100, 0), (0, -80)], [(0, 1), (0, 2), (0, 3)])
    lines, _ = _stroke_lines(net, _whole(net))
    assert _as_sets(lines) == {
        frozenset({(-100.0, 0.0), (0.0, 0.0), (100.0, 0.0)}),
        frozenset({(0.0, 0.0), (0.0, -80.0)}),
    }


def test_stretches_of_different_widths_are_not_joined():
    net = _net([(0, 0), (-100, 0), (100, 0)], [(0, 1), (0, 2)])
    arr = _whole(net)
    arr[1, 3:] = 20.0
    lines, width = _stroke_lines(net, arr)
    assert len(lines) == 2
    assert sorted(width) == [20.0, 50.0]


def test_a_loop_is_cut_open_and_draws_the_same_area():
    net = _net([(0, 0), (200, 0), (200, 200), (0, 200)], [(0, 1), (1, 2), (2, 3), (3, 0)])
    lines, width = _stroke_lines(net, _whole(net))
    assert not shapely.is_closed(lines).any()
    assert shapely.length(lines).sum() == pytest.approx(800.0)
    joined = shapely.union_all(shapely.buffer(lines, width, quad_segs=16))
    apart = shapely.union_all(shapely.buffer(net.edge_geom, WIDTH_M, quad_segs=16))
    # by hand: a 300 m square with rounded corners less the 100 m hole
    exact_m2 = 300.0**2 - (4 - math.pi) * WIDTH_M**2 - 100.0**2
    chord_m = WIDTH_M * (1 - math.cos(math.pi / 64))
    assert joined.area == pytest.approx(exact_m2, abs=chord_m * joined.length)
    assert shapely.symmetric_difference(joined, apart).area <= chord_m * apart.length


def test_a_stretch_of_length_zero_stays_a_disk():
    net = _net([(0, 0), (100, 0)], [(0, 1)])
    arr = np.array([[0, 40.0, 40.0, 20.0, 20.0]])
    lines, width = _stroke_lines(net, arr)
    assert len(lines) == 1 and width[0] == 20.0
    disk = shapely.buffer(lines[0], width[0], quad_segs=16)
    assert disk.area == pytest.approx(math.pi * 20.0**2, rel=2e-3)
    assert disk.centroid.distance(shapely.Point(X0 + 40, Y0)) < 1e-9


def test_open_lines_cut_a_ring_at_its_middle_vertex():
    ring = shapely.LineString([(0, 0), (1, 0), (1, 1), (0, 1), (0, 0)])
    lines, width = _open_lines(np.array([ring, shapely.LineString([(5, 5), (6, 6)])]), np.array([3.0, 4.0]))
    assert [shapely.get_coordinates(g).tolist() for g in lines] == [
        [[5.0, 5.0], [6.0, 6.0]],
        [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]],
        [[1.0, 1.0], [0.0, 1.0], [0.0, 0.0]],
    ]
    assert width.tolist() == [4.0, 3.0, 3.0]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-math.pi, math.pi, allow_nan=False), min_size=1, max_size=7))
def test_pair_ends_pairs_each_end_at_most_once_and_leaves_at_most_one(angles):
    angle = np.sort(np.asarray(angles))
    pairs = _pair_ends(np.array([0]), np.array([len(angle)]), angle)
    used = pairs.ravel()
    assert len(used) == len(set(used.tolist()))
    assert len(pairs) == len(angle) // 2
    assert ((used >= 0) & (used < len(angle))).all()
    if len(angle) == 3:
        # the pair kept is the straightest of the three
        def bend(i, j):
            turn = abs(angle[i] - angle[j]) % (2 * math.pi)
            return abs(math.pi - min(turn, 2 * math.pi - turn))

        best = min(bend(0, 1), bend(0, 2), bend(1, 2))
        assert bend(*pairs[0]) == pytest.approx(best)
