"""The service-area method before issue 15, kept as the peer of the vectorised one.

Each reached street piece is found by a Python loop over edges and buffered on its own, and
the buffers are joined with one ``shapely.union_all``. ``tz.access.service_areas`` now builds
the same polygons (within the buffer's arc tolerance) with array operations and one buffer
of the merged pieces; the benchmark times both in the same run and the tests compare them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from shapely.ops import substring

from tongzhen_gis.access.engine import PreparedNetwork, Sources


def _edge_pieces(
    d_u: float, d_v: float, length: float, src: list[tuple[float, float, float, float, float]], t: float, cap: float
) -> list[tuple[float, float, float, float]]:
    """Reached pieces ``(s0, s1, r0, r1)`` of one edge: positions and widening radii, linear in between.

    The distance along the edge is the minimum of a few lines of slope +1, -1 or 0 (from the
    ``u`` end, the ``v`` end, and each source stretch ``(a, b, leg_a, leg_b, leg_max)`` on the
    edge: its legs at ``a`` and ``b`` walked to, and inside it at most ``leg_max``, an upper
    bound, so the area never claims more than is reached). Cutting at every crossing of those
    lines, at every point where one of them equals ``t`` or ``t - cap``, and at the ends makes
    both the distance and the radius ``min(cap, t - distance)`` linear on each piece.
    """
    lines = [(1.0, d_u), (-1.0, d_v + length)]
    for a, b, leg_a, leg_b, leg_max in src:
        lines += [(-1.0, leg_a + a), (1.0, leg_a - a), (0.0, leg_max), (-1.0, leg_b + b), (1.0, leg_b - b)]
    lines = [(m, q) for m, q in lines if np.isfinite(q)]
    if not lines:
        return []
    cuts = {0.0, length}
    for a, b, *_ in src:
        cuts.update((a, b))
    for i, (m1, q1) in enumerate(lines):
        for level in (t, t - cap):
            if m1 != 0:
                cuts.add((level - q1) / m1)
        for m2, q2 in lines[i + 1 :]:
            if m1 != m2:
                cuts.add((q2 - q1) / (m1 - m2))
    s = np.array(sorted(x for x in cuts if 0.0 <= x <= length))

    def dist(p: np.ndarray) -> np.ndarray:
        d = np.full(p.shape, np.inf)
        d = np.minimum(d, d_u + p)
        d = np.minimum(d, d_v + length - p)
        for a, b, leg_a, leg_b, leg_max in src:
            inside = np.minimum(np.minimum(leg_a + np.abs(p - a), leg_b + np.abs(p - b)), leg_max)
            d = np.minimum(d, np.where(p < a, leg_a + a - p, np.where(p > b, leg_b + p - b, inside)))
        return d

    r = np.minimum(cap, t - dist(s))
    tol = 1e-9 * max(1.0, t)
    pieces = []
    for j in range(len(s) - 1):
        if r[j] >= -tol and r[j + 1] >= -tol and s[j + 1] > s[j]:
            pieces.append((float(s[j]), float(s[j + 1]), max(float(r[j]), 0.0), max(float(r[j + 1]), 0.0)))
    if len(s) == 1 and r[0] >= -tol:
        pieces.append((float(s[0]), float(s[0]), max(float(r[0]), 0.0), max(float(r[0]), 0.0)))
    return pieces


def _reached_pieces(
    net: PreparedNetwork, node_dist: np.ndarray, src: Sources, t: float, cap: float, *, whole_edges: bool = True
) -> np.ndarray:
    """Reached pieces ``(edge, s0, s1, r0, r1)`` of every edge, in edge order (see :func:`_edge_pieces`).

    Edges without a source whose farthest point is still within ``t - cap`` are reached whole at
    the cap: they are found with array operations (``whole_edges=True``) and give exactly the
    piece :func:`_edge_pieces` would, which is kept for the edges that are cut or tapered.
    """
    on_edge: dict[int, list[tuple[float, float, float, float, float]]] = {}
    stretch = zip(src.edge, src.a_m, src.b_m, src.leg_m, src.leg_b_m, src.leg_max_m, strict=True)
    for e, a, b, leg_a, leg_b, leg_max in stretch:
        if min(leg_a, leg_b) <= t:
            on_edge.setdefault(int(e), []).append((float(a), float(b), float(leg_a), float(leg_b), float(leg_max)))
    d_u_all = node_dist[net.edge_u]
    d_v_all = node_dist[net.edge_v]
    length = net.edge_length
    has_src = np.zeros(len(length), dtype=bool)
    has_src[list(on_edge)] = True
    touched = (np.minimum(d_u_all, d_v_all) <= t) | has_src
    whole = np.zeros(len(length), dtype=bool)
    if whole_edges:
        # farthest point of the edge from the sources: where the walks from its two ends meet
        peak = np.minimum(np.minimum(d_u_all, d_v_all) + length, (d_u_all + d_v_all + length) / 2)
        whole = touched & ~has_src & (peak <= t - cap)
    pieces: list[tuple[int, float, float, float, float]] = []
    for e in np.flatnonzero(touched & ~whole):
        found = _edge_pieces(float(d_u_all[e]), float(d_v_all[e]), float(length[e]), on_edge.get(int(e), []), t, cap)
        for s0, s1, r0, r1 in found:
            last = pieces[-1] if pieces else None
            if last and last[0] == e and last[2] == s0 and last[3] == last[4] == r0 == r1:
                pieces[-1] = (int(e), last[1], s1, r0, r1)  # one constant-width stretch
            else:
                pieces.append((int(e), s0, s1, r0, r1))
    cut = np.array(pieces, dtype=float).reshape(-1, 5)
    e = np.flatnonzero(whole)
    full = np.column_stack([e, np.zeros(len(e)), length[e], np.full(len(e), cap), np.full(len(e), cap)])
    arr = np.concatenate([cut, full])
    return arr[np.argsort(arr[:, 0], kind="stable")]


def area_by_union(
    net: PreparedNetwork, node_dist: np.ndarray, src: Sources, t: float, *, max_width_m: float, quad_segs: int
) -> tuple[Any, float]:
    """The service area of one distance field at one threshold, and the street length reached."""
    arr = _reached_pieces(net, node_dist, src, t, max_width_m)
    if not len(arr):
        return shapely.Polygon(), 0.0
    edge = arr[:, 0].astype(np.int64)
    s0, s1, r0, r1 = arr[:, 1], arr[:, 2], arr[:, 3], arr[:, 4]
    street_m = float((s1 - s0).sum())
    polygons = []
    # constant width (most of the reached streets, at the cap): the stretch of street buffered
    const = (np.abs(r0 - r1) <= 1e-9 * max(1.0, t)) & (r0 > 0)
    if const.any():
        ce = edge[const]
        scale = np.where(net._scale[ce] > 0, net._scale[ce], 1.0)
        # a whole edge is its own geometry; a part of one is cut out of it
        stretches = net.edge_geom[ce].copy()
        part = (s0[const] > 0) | (s1[const] < net.edge_length[ce]) | (net._scale[ce] <= 0)
        stretches[part] = [
            substring(net.edge_geom[e], a, b)
            for e, a, b in zip(ce[part], s0[const][part] / scale[part], s1[const][part] / scale[part], strict=True)
        ]
        polygons.append(shapely.buffer(stretches, r0[const], quad_segs=quad_segs))
    # tapering pieces: split at the geometry's vertices so each part is straight
    taper = np.flatnonzero(~const & (np.maximum(r0, r1) > 0))
    if len(taper):
        parts_e, parts_a, parts_b, parts_ra, parts_rb = [], [], [], [], []
        for k in taper:
            e = edge[k]
            coords = shapely.get_coordinates(net.edge_geom[e])
            vertex_m = np.cumsum(np.r_[0.0, np.hypot(*np.diff(coords, axis=0).T)]) * net._scale[e]
            cut = np.r_[s0[k], vertex_m[(vertex_m > s0[k]) & (vertex_m < s1[k])], s1[k]]
            rad = np.interp(cut, [s0[k], s1[k]], [r0[k], r1[k]]) if s1[k] > s0[k] else np.full(len(cut), r0[k])
            parts_e += [e] * (len(cut) - 1)
            parts_a += list(cut[:-1])
            parts_b += list(cut[1:])
            parts_ra += list(rad[:-1])
            parts_rb += list(rad[1:])
        pe = np.array(parts_e, dtype=np.int64)
        p0 = net.point_at(pe, np.array(parts_a))
        p1 = net.point_at(pe, np.array(parts_b))
        b0 = shapely.buffer(p0, np.array(parts_ra), quad_segs=quad_segs)
        b1 = shapely.buffer(p1, np.array(parts_rb), quad_segs=quad_segs)
        # the union of disks whose radius changes linearly (slope <= 1) along a straight piece is the
        # convex hull of the two end disks; a zero radius leaves just the end point in the hull
        coords, index = shapely.get_coordinates(np.concatenate([b0, b1, p0, p1]), return_index=True)
        piece = index % len(pe)
        order = np.argsort(piece, kind="stable")
        # (a line through the points has the same hull as the points, and is built without a Point per vertex)
        hulls = shapely.convex_hull(shapely.linestrings(coords[order], indices=piece[order]))
        polygons.append(hulls[shapely.get_type_id(hulls) == shapely.GeometryType.POLYGON])
    polygons = np.concatenate(polygons) if polygons else np.array([], dtype=object)
    if len(polygons) == 0:
        return shapely.Polygon(), street_m
    return shapely.union_all(polygons), street_m
