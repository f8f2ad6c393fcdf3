"""Areas within walking reach of each category, following the streets (服务范围)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from tongzhen_gis.access.catalogue import (
    CatalogueLike,
    _names_zh,
    catalogue_name,
    category_distances,
    life_circle_distances_m,
)
from tongzhen_gis.access.engine import GraphLike, PreparedNetwork, Sources, prepare
from tongzhen_gis.access.sources import MAX_SNAP_M, TOUCH_M, _sources_by_category
from tongzhen_gis.errors import OptionError

# below this many reached pieces one thread draws and unions an area: the threads would cost more
_CHUNK_MIN_PIECES = 4000


def service_areas(
    G: GraphLike,
    facilities: gpd.GeoDataFrame,
    *,
    thresholds_m: Sequence[float] | Mapping[str, float | Sequence[float]] | str | None = None,
    category_col: str = "category",
    categories: Sequence[str] | None = None,
    max_width_m: float = 50.0,
    max_snap_m: float = MAX_SNAP_M,
    touch_m: float = TOUCH_M,
    entrances: gpd.GeoDataFrame | None = None,
    entrance_col: str = "facility",
    quad_segs: int = 16,
    catalogue: CatalogueLike | None = None,
    workers: int | None = None,
) -> gpd.GeoDataFrame:
    """Areas within walking reach of each category, following the streets (服务范围).

    Built from the per-category distance field, not one polygon per facility: every stretch of
    street reached within the threshold (partial edges cut at the exact distance), each point
    widened only by the walking distance it has left, capped at ``max_width_m``. A home across
    a river from a reached street is therefore not claimed unless it is within the distance
    left, unlike the convex hull of reached nodes or fixed-width buffers.

    A point is inside when a straight walk of at most ``min(max_width_m, distance left)``
    reaches some reached street point. :func:`nearest` snaps a home to its *nearest* street
    only, so near a junction a home may lie in the area (it could walk to the other street)
    while its :func:`nearest` distance is slightly above the threshold. The area never claims
    a point that cannot be reached that way (tested against networkx on the sample town).

    Parameters
    ----------
    G : networkx graph or PreparedNetwork
    facilities : GeoDataFrame
        As for :func:`nearest`.
    thresholds_m : sequence of float, mapping or "catalogue", optional
        Walking distances. Default: every level of ``tz.rules.load("life_circle")`` (the 5-, 10-
        and 15-minute circles of GB 50180-2018: 300, 500 and 1000 m), see
        :func:`life_circle_distances_m`. ``"catalogue"``: each category at its own distance
        (``distance_m`` in the catalogue, else its life-circle level). A mapping
        ``{category: metres or [metres, …]}``: those distances for those categories, the
        others at their own distance.
    category_col, categories, max_snap_m, touch_m, entrances, entrance_col, catalogue
        As for :func:`nearest`.
    max_width_m : float, default 50
        Cap on the widening either side of a street (a plot's depth), metres.
    quad_segs : int, default 16
        Segments per quarter circle of the widening.
    workers : int, optional
        Threads that draw and union the pieces of one area (GEOS releases the GIL). Default:
        the cores this process may use. ``1``: one thread. The polygons do not depend on it
        beyond the rounding of GEOS's noding (well below a square metre).

    Returns
    -------
    GeoDataFrame
        One row per (category, threshold), categories in catalogue order, thresholds ascending:
        ``category``, ``category_zh``, ``threshold_m``, ``area_m2``, ``street_m`` (length of
        street reached) and the geometry (empty when nothing is reached), in the network CRS.
    """
    net = prepare(G)
    cats, sources, unreached, notes = _sources_by_category(
        net,
        facilities,
        category_col=category_col,
        categories=categories,
        max_snap_m=max_snap_m,
        touch_m=touch_m,
        entrances=entrances,
        entrance_col=entrance_col,
        catalogue=catalogue,
    )
    used = None if (categories is not None and catalogue is None) else (catalogue or catalogue_name(None))
    per_category = _thresholds(cats, thresholds_m, catalogue=used)
    node_dist = net.node_distances(sources, limit_m=max(max(t) for t in per_category.values()) if cats else 0.0)
    names = _names_zh(catalogue)
    n_threads = _threads(workers)
    rows, geoms = [], []
    for k, c in enumerate(cats):
        for t in per_category[c]:
            geom, street_m = _area(
                net, node_dist[k], sources[k], t, max_width_m=max_width_m, quad_segs=quad_segs, workers=n_threads
            )
            rows.append({"category": c, "category_zh": names.get(c, c), "threshold_m": t, "street_m": street_m})
            geoms.append(geom)
    out = gpd.GeoDataFrame(rows, geometry=geoms, crs=net.crs)
    out.insert(3, "area_m2", out.geometry.area)
    out.attrs["unreachable_facilities"] = unreached
    out.attrs["problems"] = notes
    return out


def _threads(workers: int | None) -> int:
    """The number of threads to use: ``workers``, or the cores this process may use."""
    if workers is None:
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        msg = f"workers must be a whole number of threads of at least 1, got {workers!r}"
        raise OptionError(msg, param="workers")
    return workers


def _thresholds(cats: list[str], thresholds_m: Any, *, catalogue: CatalogueLike | None) -> dict[str, list[float]]:
    """The distances of each category's service areas, ascending (see :func:`service_areas`)."""
    if thresholds_m is None:
        thresholds_m = life_circle_distances_m()
    if isinstance(thresholds_m, str):
        if thresholds_m != "catalogue":
            msg = f"thresholds_m={thresholds_m!r} is not understood; pass distances in metres or 'catalogue'"
            raise OptionError(msg, param="thresholds_m")
        thresholds_m = {}
    if isinstance(thresholds_m, Mapping):
        own, _ = category_distances(cats, catalogue=catalogue)
        extra = [c for c in thresholds_m if c not in cats]
        if extra:
            msg = f"thresholds_m names categor(ies) {extra} that are not computed; computed: {', '.join(cats)}"
            raise OptionError(msg, param="thresholds_m")
        raw = {c: thresholds_m.get(c, own[c]) for c in cats}
    else:
        raw = dict.fromkeys(cats, thresholds_m)
    out = {}
    for c, value in raw.items():
        values = [value] if isinstance(value, int | float) else list(value)
        ts = sorted(float(t) for t in values)
        if not ts or not ts[0] >= 0:
            msg = f"thresholds_m must be non-negative distances in metres, got {values}"
            raise OptionError(msg, param="thresholds_m")
        out[c] = ts
    return out


def _source_table(src: Sources, t: float) -> tuple[np.ndarray, np.ndarray]:
    """The sources that can matter at ``t``, sorted by edge: their edges and ``(a, b, leg_a, leg_b, leg_max)``."""
    assert src.leg_b_m is not None and src.leg_max_m is not None  # filled by Sources.__post_init__
    near = np.minimum(src.leg_m, src.leg_b_m) <= t
    table = np.column_stack([src.a_m, src.b_m, src.leg_m, src.leg_b_m, src.leg_max_m])[near].astype(float)
    edge = np.asarray(src.edge, dtype=np.int64)[near]
    order = np.argsort(edge, kind="stable")
    return edge[order], table[order]


def _group_pieces(
    d_u: np.ndarray, d_v: np.ndarray, length: np.ndarray, src: np.ndarray, t: float, cap: float
) -> tuple[np.ndarray, np.ndarray]:
    """Reached pieces of ``m`` edges that carry ``k`` sources each (``src`` of shape ``(m, k, 5)``).

    The distance along an edge is the minimum of a few lines of slope +1, -1 or 0 (from the
    ``u`` end, the ``v`` end, and each source stretch ``(a, b, leg_a, leg_b, leg_max)`` on the
    edge: its legs at ``a`` and ``b`` walked to, and inside it at most ``leg_max``, an upper
    bound, so the area never claims more than is reached). Cutting at every crossing of those
    lines, at every point where one of them equals ``t`` or ``t - cap``, and at the ends makes
    both the distance and the radius ``min(cap, t - distance)`` linear on each piece. All the
    edges of the group are cut at once (one row each).

    Returns the row of each piece and its ``(s0, s1, r0, r1)``, rows ascending, along the edge.
    """
    m, k = src.shape[:2]
    a, b, leg_a, leg_b, leg_max = (src[:, :, j] for j in range(5))
    slope = np.concatenate([np.tile([1.0, -1.0], (m, 1)), np.tile([-1.0, 1.0, 0.0, -1.0, 1.0], (m, k))], axis=1)
    per_source = np.stack([leg_a + a, leg_a - a, leg_max, leg_b + b, leg_b - b], axis=2).reshape(m, 5 * k)
    icpt = np.concatenate([np.column_stack([d_u, d_v + length]), per_source], axis=1)
    usable = np.isfinite(icpt)
    sloped = usable & (slope != 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        levels = [np.where(sloped, (level - icpt) / np.where(slope != 0, slope, 1.0), np.nan) for level in (t, t - cap)]
        pair = usable[:, :, None] & usable[:, None, :] & (slope[:, :, None] != slope[:, None, :])
        cross = np.where(pair, (icpt[:, None, :] - icpt[:, :, None]) / (slope[:, :, None] - slope[:, None, :]), np.nan)
    cuts = np.concatenate([np.zeros((m, 1)), length[:, None], a, b, *levels, cross.reshape(m, -1)], axis=1)
    cuts[~((cuts >= 0.0) & (cuts <= length[:, None]))] = np.nan
    s = np.sort(cuts, axis=1)  # NaN last

    dist = np.minimum(d_u[:, None] + s, d_v[:, None] + length[:, None] - s)
    for j in range(k):
        aj, bj = a[:, j : j + 1], b[:, j : j + 1]
        la, lb, lm = leg_a[:, j : j + 1], leg_b[:, j : j + 1], leg_max[:, j : j + 1]
        inside = np.minimum(np.minimum(la + np.abs(s - aj), lb + np.abs(s - bj)), lm)
        dist = np.minimum(dist, np.where(s < aj, la + aj - s, np.where(s > bj, lb + s - bj, inside)))
    r = np.minimum(cap, t - dist)
    tol = 1e-9 * max(1.0, t)
    ok = r >= -tol  # False at NaN cuts
    keep = ok[:, :-1] & ok[:, 1:] & (s[:, 1:] > s[:, :-1])
    row, col = np.nonzero(keep)
    pieces = np.column_stack(
        [s[row, col], s[row, col + 1], np.maximum(r[row, col], 0.0), np.maximum(r[row, col + 1], 0.0)]
    )
    # an edge of length 0 is one point
    point = (length == 0) & ok[:, 0]
    p_row = np.flatnonzero(point)
    p_r = np.maximum(r[p_row, 0], 0.0)
    pieces = np.concatenate([pieces, np.column_stack([np.zeros(len(p_row)), np.zeros(len(p_row)), p_r, p_r])])
    rows = np.concatenate([row, p_row])
    order = np.argsort(rows, kind="stable")
    return rows[order], pieces[order]


def _reached_pieces(
    net: PreparedNetwork, node_dist: np.ndarray, src: Sources, t: float, cap: float, *, whole_edges: bool = True
) -> np.ndarray:
    """Reached pieces ``(edge, s0, s1, r0, r1)`` of every edge, in edge order (see :func:`_group_pieces`).

    Edges without a source whose farthest point is still within ``t - cap`` are reached whole at
    the cap (``whole_edges=True``); the others are cut in groups of edges carrying the same number
    of sources, with array operations: no Python loop over edges.
    """
    src_edge, table = _source_table(src, t)
    d_u_all = node_dist[net.edge_u]
    d_v_all = node_dist[net.edge_v]
    length = net.edge_length
    n_src = np.bincount(src_edge, minlength=len(length))
    touched = (np.minimum(d_u_all, d_v_all) <= t) | (n_src > 0)
    whole = np.zeros(len(length), dtype=bool)
    if whole_edges:
        # farthest point of the edge from the sources: where the walks from its two ends meet
        peak = np.minimum(np.minimum(d_u_all, d_v_all) + length, (d_u_all + d_v_all + length) / 2)
        whole = touched & (n_src == 0) & (peak <= t - cap)
    cut_edges = np.flatnonzero(touched & ~whole)
    first_src = np.searchsorted(src_edge, cut_edges)
    parts = []
    for k in np.unique(n_src[cut_edges]):  # a loop over source counts (a handful), not over edges
        e = cut_edges[n_src[cut_edges] == k]
        at = first_src[n_src[cut_edges] == k][:, None] + np.arange(k)
        rows, found = _group_pieces(d_u_all[e], d_v_all[e], length[e], table[at].reshape(len(e), k, 5), t, cap)
        parts.append(np.column_stack([e[rows].astype(float), found]))
    cut = np.concatenate(parts) if parts else np.zeros((0, 5))
    cut = cut[np.argsort(cut[:, 0], kind="stable")]
    cut = _merge_constant(cut)
    w = np.flatnonzero(whole)
    full = np.column_stack([w, np.zeros(len(w)), length[w], np.full(len(w), cap), np.full(len(w), cap)])
    arr = np.concatenate([cut, full])
    return arr[np.argsort(arr[:, 0], kind="stable")]


def _merge_constant(cut: np.ndarray) -> np.ndarray:
    """Join consecutive pieces of one edge that have one constant width into one stretch."""
    if len(cut) < 2:
        return cut
    e, s0, s1, r0, r1 = cut.T
    flat = r0 == r1
    joins = np.r_[False, (e[1:] == e[:-1]) & (s0[1:] == s1[:-1]) & flat[1:] & flat[:-1] & (r0[1:] == r0[:-1])]
    start = np.flatnonzero(~joins)
    end = np.r_[start[1:], len(cut)] - 1
    out = cut[start].copy()
    out[:, 2] = s1[end]
    out[:, 4] = r1[end]
    return out


def _along(net: PreparedNetwork, edge: np.ndarray, s0: np.ndarray, s1: np.ndarray) -> tuple[np.ndarray, ...]:
    """The points cutting each stretch ``[s0, s1]`` of ``edge`` at its ends and the geometry's vertices.

    Returns the stretch of each point, its position (metres along the edge) and its coordinates,
    in order along each stretch: what is needed to draw a stretch or split it into straight parts.
    """
    coords, owner = shapely.get_coordinates(net.edge_geom[edge], return_index=True)
    step = np.r_[0.0, np.hypot(*np.diff(coords, axis=0).T)]
    first = np.r_[True, owner[1:] != owner[:-1]]
    step[first] = 0.0
    total = np.cumsum(step)
    vertex_m = (total - total[first][np.cumsum(first) - 1]) * net._scale[edge][owner]
    inner = (vertex_m > s0[owner]) & (vertex_m < s1[owner])
    n = len(edge)
    ends = np.r_[s0, s1]
    end_xy = shapely.get_coordinates(net.point_at(np.r_[edge, edge], ends))
    which = np.r_[owner[inner], np.arange(n), np.arange(n)]
    pos = np.r_[vertex_m[inner], ends]
    rank = np.r_[np.ones(inner.sum()), np.zeros(n), np.full(n, 2.0)]  # start, vertices, end
    xy = np.concatenate([coords[inner], end_xy])
    order = np.lexsort((np.where(rank == 0, -np.inf, np.where(rank == 2, np.inf, pos)), which))
    return which[order], pos[order], xy[order]


def _area(
    net: PreparedNetwork,
    node_dist: np.ndarray,
    src: Sources,
    t: float,
    *,
    max_width_m: float,
    quad_segs: int,
    workers: int = 1,
) -> tuple[Any, float]:
    """The service area of one distance field at one threshold, and the street length reached.

    The reached pieces are sorted west to east and cut into ``workers * 2`` runs of equal count
    (one run when there are fewer than ``_CHUNK_MIN_PIECES`` pieces or one worker); each run is
    drawn (:func:`_piece_polygons`) and unioned in a thread (GEOS releases the GIL), then the runs'
    unions are unioned. Union is associative, so the polygon is the one a single ``union_all``
    gives, up to the rounding of the noding (tested: symmetric difference below 1e-6 of the area).
    """
    arr = _reached_pieces(net, node_dist, src, t, max_width_m)
    if not len(arr):
        return shapely.Polygon(), 0.0
    street_m = float((arr[:, 2] - arr[:, 1]).sum())
    n_runs = 1 if workers <= 1 or len(arr) < _CHUNK_MIN_PIECES else 2 * workers
    if n_runs == 1:
        return _union_of(_piece_polygons(net, arr, t, quad_segs=quad_segs)), street_m
    x = shapely.get_coordinates(shapely.centroid(net.edge_geom[arr[:, 0].astype(np.int64)]))[:, 0]
    runs = np.array_split(arr[np.argsort(x, kind="stable")], n_runs)

    def one(run: np.ndarray) -> Any:
        return _union_of(_piece_polygons(net, run[np.argsort(run[:, 0], kind="stable")], t, quad_segs=quad_segs))

    with ThreadPoolExecutor(max_workers=workers) as pool:
        parts = list(pool.map(one, runs))
    return _union_of(np.array(parts, dtype=object)), street_m


def _union_of(polygons: np.ndarray) -> Any:
    """``shapely.union_all`` of ``polygons``; an empty polygon when there are none."""
    return shapely.union_all(polygons) if len(polygons) else shapely.Polygon()


def _piece_polygons(net: PreparedNetwork, arr: np.ndarray, t: float, *, quad_segs: int) -> np.ndarray:
    """The polygons of reached pieces ``(edge, s0, s1, r0, r1)`` (edge order), to be unioned.

    Every reached stretch is drawn with array operations: constant-width stretches (most of the
    reached streets, at the cap) are joined into strokes through the junctions where they meet
    (:func:`_strokes`) and each stroke is buffered; a tapering piece is the convex hull of the
    disks at the ends of each straight part. The polygons are joined by ``shapely.union_all``
    (GEOS's cascaded union). A stroke's buffer is the union of its stretches' buffers (a round
    join is the disk at the junction) drawn with fewer vertices and no overlapping end caps, so
    the union has a third to a half of the work. Tried and not kept: flat caps where a stroke
    ends under another stroke's disk (GEOS's flat-capped buffer of a line that folds back near
    its end leaves holes in it); buffering all the stretches as one MultiLineString, or one per
    0.5-2 km tile (3-100x slower on the Hangzhou network); see ``benchmarks/README.md``.
    """
    edge = arr[:, 0].astype(np.int64)
    s0, s1, r0, r1 = arr[:, 1], arr[:, 2], arr[:, 3], arr[:, 4]
    polygons = []
    const = (np.abs(r0 - r1) <= 1e-9 * max(1.0, t)) & (r0 > 0)
    taper = np.flatnonzero(~const & (np.maximum(r0, r1) > 0))
    if len(taper):
        which, pos, disk_xy = _along(net, edge[taper], s0[taper], s1[taper])
        a, b = s0[taper][which], s1[taper][which]
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.where(b > a, (pos - a) / (b - a), 0.0)
        disk_r = r0[taper][which] + frac * (r1[taper][which] - r0[taper][which])
        polygons.append(_tapers(which, disk_xy, disk_r, quad_segs=quad_segs))
    if const.any():
        which, _, xy = _along(net, edge[const], s0[const], s1[const])
        lines, width = _strokes(net, arr[const], which, xy)
        polygons.append(shapely.buffer(lines, width, quad_segs=quad_segs))
    return np.concatenate(polygons) if polygons else np.array([], dtype=object)


def _strokes(net: PreparedNetwork, arr: np.ndarray, which: np.ndarray, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Constant-width stretches ``(edge, s0, s1, r, r)`` joined into strokes, and each stroke's width.

    ``which`` and ``xy`` are the stretches' points from :func:`_along`. At every node, the
    stretches of one width that end there are paired (:func:`_pair_ends`); the paired
    stretches form chains (``connected_components``) that ``shapely.line_merge`` joins into lines
    where exactly two of a chain's stretches meet. A closed line is cut in two: GEOS buffers a
    closed LineString as a ring, which is wrong when the ring crosses itself. Everything is done
    with array operations, looping over node degrees only.
    """
    n = len(arr)
    edge = arr[:, 0].astype(np.int64)
    s0, s1, width = arr[:, 1], arr[:, 2], arr[:, 3]
    first = np.flatnonzero(np.r_[True, which[1:] != which[:-1]])
    last = np.r_[first[1:] - 1, len(which) - 1]
    lines = shapely.linestrings(xy, indices=which)
    long_enough = s1 > s0
    at_u = np.flatnonzero(long_enough & (s0 == 0.0))
    at_v = np.flatnonzero(long_enough & (s1 >= net.edge_length[edge]))
    # each end at a node: its node, its stretch, and the direction the stretch leaves in
    end_pt, next_pt = np.r_[first[at_u], last[at_v]], np.r_[first[at_u] + 1, last[at_v] - 1]
    node = np.r_[net.edge_u[edge[at_u]], net.edge_v[edge[at_v]]]
    piece = np.r_[at_u, at_v]
    step = xy[next_pt] - xy[end_pt]
    angle = np.arctan2(step[:, 1], step[:, 0])
    _, width_code = np.unique(width[piece], return_inverse=True)
    order = np.lexsort((angle, node, width_code))
    node, piece, width_code, angle = node[order], piece[order], width_code[order], angle[order]
    new_group = np.r_[True, (node[1:] != node[:-1]) | (width_code[1:] != width_code[:-1])]
    start = np.flatnonzero(new_group)
    degree = np.diff(np.r_[start, len(node)])
    pairs = _pair_ends(start, degree, angle)
    pairs = piece[pairs.reshape(-1)].reshape(-1, 2)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, chain = connected_components(graph, directed=False)
    # a stretch of length 0 (a disk) stays as it is: line_merge would drop it
    chain[~long_enough] = -1
    order = np.argsort(chain, kind="stable")
    order = order[chain[order] >= 0]
    merged = shapely.line_merge(shapely.multilinestrings(lines[order], indices=chain[order]))
    chain_width = np.zeros(len(merged))
    chain_width[chain[long_enough]] = width[long_enough]  # one width per chain: only one width is paired
    parts, of_chain = shapely.get_parts(merged, return_index=True)
    lines_out, width_out = _open_lines(parts, chain_width[of_chain])
    return np.r_[lines_out, lines[~long_enough]], np.r_[width_out, width[~long_enough]]


def _pair_ends(start: np.ndarray, degree: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Pairs of ends (positions) meeting at a node, to be joined into one line.

    The ends of each group (``degree`` ends from ``start``, sorted by the ``angle`` they leave
    in) are paired opposite in angular order, the ``i``-th with the ``i + d/2``-th: straight on
    at a crossing. Of an odd number, the end left over is the one whose absence makes the pairs
    straightest (at a T-junction, the stem), chosen with array operations per degree.
    """
    left_out = np.full(len(start), -1)
    for d in np.unique(degree[(degree % 2 == 1) & (degree > 1)]):
        groups = np.flatnonzero(degree == d)
        angles = angle[start[groups, None] + np.arange(d)]
        m = (d - 1) // 2
        bend = np.empty((len(groups), d))
        for j in range(d):
            rest = np.delete(np.arange(d), j)
            turn = np.abs(angles[:, rest[:m]] - angles[:, rest[m:]]) % (2 * np.pi)
            bend[:, j] = np.abs(np.pi - np.minimum(turn, 2 * np.pi - turn)).sum(axis=1)
        left_out[groups] = np.argmin(bend, axis=1)
    paired = degree - (degree % 2)
    rank = np.arange(len(angle)) - np.repeat(start, degree)
    skip = np.repeat(left_out, degree)
    kept = rank != skip
    # rank among the kept ends of the group
    kept_rank = rank - ((skip >= 0) & (rank > skip))
    half = np.repeat(paired // 2, degree)
    first = np.flatnonzero(kept & (kept_rank < half))
    # the partner: kept_rank + half, back to a position (skipping the end left out)
    partner_rank = kept_rank[first] + half[first]
    partner = start[np.repeat(np.arange(len(start)), degree)[first]] + partner_rank
    partner = partner + ((skip[first] >= 0) & (partner_rank >= skip[first]))
    return np.column_stack([first, partner])


def _open_lines(lines: np.ndarray, width: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``lines`` with every closed one cut at its middle vertex into two open lines (widths follow)."""
    closed = np.flatnonzero(shapely.is_closed(lines) & (shapely.get_num_coordinates(lines) > 2))
    if not len(closed):
        return lines, width
    coords, owner = shapely.get_coordinates(lines[closed], return_index=True)
    count = np.bincount(owner, minlength=len(closed))
    begin = np.r_[0, np.cumsum(count)[:-1]]
    mid = begin + count // 2
    position = np.arange(len(coords))
    # the first half runs to the middle vertex, the second from it: the middle vertex is in both
    head = position <= mid[owner]
    tail = position >= mid[owner]
    half_of = np.r_[2 * owner[head], 2 * owner[tail] + 1]
    by_half = np.argsort(half_of, kind="stable")
    halves = shapely.linestrings(np.concatenate([coords[head], coords[tail]])[by_half], indices=half_of[by_half])
    keep = np.ones(len(lines), dtype=bool)
    keep[closed] = False
    return np.r_[lines[keep], halves], np.r_[width[keep], np.repeat(width[closed], 2)]


def _tapers(which: np.ndarray, xy: np.ndarray, radius: np.ndarray, *, quad_segs: int) -> np.ndarray:
    """The polygons of tapering stretches: points ``xy`` of each stretch ``which`` with their radius.

    The union of disks whose radius changes linearly (slope <= 1) along a straight part is the
    convex hull of the two end disks; a zero radius leaves just the end point in the hull. The
    disks are drawn as regular polygons of ``4 * quad_segs`` vertices, as GEOS draws a buffer.
    """
    nxt = np.flatnonzero(which[1:] == which[:-1])  # straight parts: consecutive points of one stretch
    n = len(nxt)
    angle = np.linspace(0.0, 2 * np.pi, 4 * quad_segs, endpoint=False)
    unit = np.column_stack([np.cos(angle), np.sin(angle)])
    ends = np.r_[nxt, nxt + 1]  # part k: disks at point nxt[k] and nxt[k] + 1
    ring = xy[ends][:, None, :] + radius[ends][:, None, None] * unit[None, :, :]
    part = np.repeat(np.r_[np.arange(n), np.arange(n)], len(unit))
    order = np.argsort(part, kind="stable")
    hulls = shapely.convex_hull(shapely.linestrings(ring.reshape(-1, 2)[order], indices=part[order]))
    return hulls[shapely.get_type_id(hulls) == shapely.GeometryType.POLYGON]
