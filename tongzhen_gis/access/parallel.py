"""The dask engine of :func:`~tongzhen_gis.access.nearest`: one part of the origins per task.

The 15-minute question is local: every walk that :func:`nearest` keeps is at most
``max_distance_m`` long, so it never leaves the disk of that radius around its origin, and an
origin's nearest street is within ``max_snap_m``. A part (a town, or a square tile) therefore
needs only the edges that meet its origins' convex hull buffered by the larger of the two
(plus a margin for the buffer's polygon). Each part is prepared and measured on a dask
worker with the very code of the local engine (:func:`~tongzhen_gis.access.distances.point_distances`),
so the numbers are the same as on one machine:

* facilities are snapped and their street stretches found once, on the full network, and a
  part receives those on its edges (a facility on an edge outside the part is farther than
  ``max_distance_m`` from every origin of the part);
* the distance to any node found in a part is a real path, and every path of at most
  ``max_distance_m`` from an origin of the part lies in the part;
* an origin farther than ``max_snap_m`` from every street is unreachable in both; its
  ``snap_m`` is measured again on the full network.

The cluster is a ``distributed.LocalCluster`` on this machine by default, or the scheduler at
the address given (see ``docs/access.md``, "Past one machine").
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import shapely

from tongzhen_gis.access.distances import point_distances
from tongzhen_gis.access.engine import PreparedNetwork, Sources
from tongzhen_gis.errors import OptionError

logger = logging.getLogger(__name__)

#: Side of the square tiles that cut origins without a part label, metres.
TILE_M = 10_000.0
#: Added to the reach of a part: its buffer is a polygon inside the true disk.
_MARGIN_M = 1.0


def part_codes(points: np.ndarray, parts: Sequence[Any] | pd.Series | None, *, tile_m: float = TILE_M) -> np.ndarray:
    """The part of each point as a code ``0 … k-1``: one per label, one per ``tile_m`` tile of the unlabelled."""
    n = len(points)
    kind = np.zeros(n, dtype=np.int64)  # 0 labelled, 1 tile, 2 no geometry
    value = pd.Series(np.full(n, "", dtype=object), dtype=object)
    if parts is not None:
        given = pd.Series(np.asarray(parts.to_numpy() if isinstance(parts, pd.Series) else parts, dtype=object))
        if len(given) != n:
            msg = f"parts has {len(given)} labels for {n} origins; pass one per origin (e.g. homes['town_id'])"
            raise OptionError(msg, param="parts")
        value = given.astype(object)
    unlabelled = value.isna().to_numpy() if parts is not None else np.ones(n, dtype=bool)
    empty = shapely.is_missing(points) | shapely.is_empty(points)
    tiled = unlabelled & ~empty
    cells = np.floor(shapely.get_coordinates(points[tiled]) / tile_m).astype(np.int64)
    kind[tiled] = 1
    value[tiled] = [f"{i} {j}" for i, j in cells]
    kind[unlabelled & empty] = 2
    value[unlabelled & empty] = ""
    codes, _ = pd.MultiIndex.from_arrays([kind, value.to_numpy()]).factorize()
    return np.asarray(codes)


def _part_network(net: PreparedNetwork, points: np.ndarray, reach_m: float) -> np.ndarray:
    """Edges of ``net`` meeting the convex hull of ``points`` buffered by ``reach_m`` (sorted)."""
    valid = points[~(shapely.is_missing(points) | shapely.is_empty(points))]
    if not len(valid):
        return np.zeros(0, dtype=np.int64)
    zone = shapely.buffer(shapely.convex_hull(shapely.multipoints(valid)), reach_m + _MARGIN_M)
    return np.sort(net.tree.query(zone, predicate="intersects"))


def _part_task(arrays: dict[str, Any], points: np.ndarray, sources: list[Sources], limits: dict[str, float]) -> tuple:
    """One part, on a worker: prepare its network and measure (:func:`point_distances`)."""
    points = shapely.from_wkb(points)
    if len(arrays["edge_u"]) == 0:
        n = len(points)
        return np.full((n, len(sources)), np.nan), np.full(n, np.nan), np.zeros(n, dtype=bool)
    net = PreparedNetwork.from_arrays(**{**arrays, "edge_geom": shapely.from_wkb(arrays["edge_geom"])})
    return point_distances(net, points, sources, **limits)


def _subset(net: PreparedNetwork, edges: np.ndarray, sources: list[Sources]) -> tuple[dict[str, Any], list[Sources]]:
    """The arrays of the part network on ``edges`` (nodes renumbered) and the sources on them."""
    nodes = np.unique(np.r_[net.edge_u[edges], net.edge_v[edges]])
    arrays = {
        "crs": net.crs,
        "x": net.x[nodes],
        "y": net.y[nodes],
        "edge_u": np.searchsorted(nodes, net.edge_u[edges]),
        "edge_v": np.searchsorted(nodes, net.edge_v[edges]),
        "edge_length_m": net.edge_length[edges],
        # geometries travel as WKB made in one vectorised call (exact coordinates; pickling shapely
        # objects one by one cost most of the driver's time)
        "edge_geom": shapely.to_wkb(net.edge_geom[edges]),
    }
    parts = []
    for s in sources:
        assert s.leg_b_m is not None and s.shape is not None and s.leg_max_m is not None  # set by __post_init__
        at = np.searchsorted(edges, s.edge)
        inside = (at < len(edges)) & (edges[np.minimum(at, len(edges) - 1)] == s.edge) if len(edges) else at < 0
        parts.append(
            Sources(
                at[inside],
                s.a_m[inside],
                s.b_m[inside],
                s.leg_m[inside],
                s.leg_b_m[inside],
                s.shape[inside],
                s.leg_max_m[inside],
            )
        )
    return arrays, parts


def _client(scheduler: Any):
    """A dask client and what to close after: the given client, one to an address, or a LocalCluster."""
    from distributed import Client, LocalCluster

    if isinstance(scheduler, Client):
        return scheduler, []
    if isinstance(scheduler, str):
        client = Client(scheduler)
        return client, [client]
    if scheduler is not None:
        msg = f"scheduler must be an address such as 'tcp://10.0.0.5:8786' or a distributed.Client, not {scheduler!r}"
        raise OptionError(msg, param="scheduler")
    # loopback only; the dashboard on a free port, so a busy 8787 never fails the run
    cluster = LocalCluster(threads_per_worker=1, dashboard_address="127.0.0.1:0", host="127.0.0.1")
    client = Client(cluster)
    return client, [client, cluster]


def distances_by_parts(
    net: PreparedNetwork,
    points: np.ndarray,
    sources: list[Sources],
    *,
    max_distance_m: float,
    max_snap_m: float,
    parts: Sequence[Any] | pd.Series | None = None,
    scheduler: Any = None,
    tile_m: float = TILE_M,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`~tongzhen_gis.access.distances.point_distances`, part by part on a dask cluster.

    Parameters
    ----------
    net, points, sources, max_distance_m, max_snap_m
        As for :func:`point_distances`.
    parts : sequence or Series, optional
        A part label per point (a town id); points without one are cut into ``tile_m`` tiles.
    scheduler : str or distributed.Client, optional
        Address of a running scheduler, or a client; default a ``LocalCluster`` (closed after).
    tile_m : float, default 10 000

    Returns
    -------
    tuple
        Distances ``(n_points, n_sets)``, legs and on-network flags, as :func:`point_distances`.
    """
    codes = part_codes(points, parts, tile_m=tile_m)
    reach_m = max(float(max_distance_m), float(max_snap_m))
    limits = {"max_distance_m": float(max_distance_m), "max_snap_m": float(max_snap_m)}
    client, to_close = _client(scheduler)
    try:
        futures = []
        rows_of = []
        for code in range(int(codes.max()) + 1 if len(codes) else 0):
            rows = np.flatnonzero(codes == code)
            edges = _part_network(net, points[rows], reach_m)
            arrays, part_sources = _subset(net, edges, sources)
            rows_of.append(rows)
            part_points = shapely.to_wkb(points[rows])
            futures.append(client.submit(_part_task, arrays, part_points, part_sources, limits, pure=False))
        logger.info("dask engine: %d part(s) sent to %s", len(futures), client)
        results = client.gather(futures)
    finally:
        for thing in to_close:
            thing.close()
    n = len(points)
    dist = np.full((n, len(sources)), np.nan)
    leg = np.full(n, np.nan)
    on = np.zeros(n, dtype=bool)
    for rows, (d, part_leg, part_on) in zip(rows_of, results, strict=True):
        dist[rows], leg[rows], on[rows] = d, part_leg, part_on
    off = ~on & ~(shapely.is_missing(points) | shapely.is_empty(points))
    if off.any():  # the true distance to the nearest street may lie beyond the part
        snap = net.snap(points[off], max_snap_m=max_snap_m)
        leg[off] = snap.leg_m
    return dist, leg, on


__all__ = ["TILE_M", "distances_by_parts", "part_codes"]
