"""A street network prepared for fast access queries: CSR matrix, edge geometry, snapping.

The engine of :mod:`tongzhen_gis.access`. :class:`PreparedNetwork` is built once from a
networkx graph (or from plain arrays) and reused by every query: it holds

* the nodes as positions ``0 … n-1`` (``node_ids`` maps back to the graph's labels);
* the edges (``edge_u``, ``edge_v``, ``edge_length`` in metres, ``edge_geom`` oriented from
  ``u`` to ``v``) and an STRtree over them for snapping;
* one symmetric CSR matrix of the shortest parallel edge between each node pair.

A *source* is a stretch ``[a, b]`` of one edge (``a == b`` for a point) from which a straight
leg reaches the facility; facilities, polygon frontages and entrances are all sources. A point
source has one leg. A frontage (the stretch of street within ``touch_m`` of a polygon) has the
legs of its two ends, ``leg_m`` at ``a`` and ``leg_b_m`` at ``b``, and the polygon itself: a
walker arriving along the street enters the frontage at its first end and walks straight to
the polygon from there (the distance to a polygon changes by at most the distance walked, so
no point further in is nearer by street + leg), and a walker starting inside the frontage
walks straight from where they stand. Every distance is therefore a real walk: street path
plus a straight leg, never shorter than the straight line to the facility. Distances along
an edge are in the edge's ``length`` units: a position measured along the geometry is scaled
by ``length / geometry.length`` so that the two always agree at the ends.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TypeAlias

import networkx as nx
import numpy as np
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra

from tongzhen_gis.access.build import (
    EdgeKeys,
    check_metric_crs,
    collector_paused,
    duplicate_edges,
    edge_geometry,
    graph_arrays,
    length_scale,
    symmetric_csr,
    validated_edges,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snap:
    """Where points meet the street network.

    Attributes
    ----------
    edge : numpy.ndarray of int
        Edge position of the nearest edge, ``-1`` when the point is farther than the snapping
        limit or has no geometry.
    pos_m : numpy.ndarray of float
        Position of the snap point along the edge from its ``u`` end, in metres.
    leg_m : numpy.ndarray of float
        Straight distance from the point to the snap point (NaN without geometry). Kept also
        for points beyond the limit, so the report can say how far they are.
    """

    edge: np.ndarray
    pos_m: np.ndarray
    leg_m: np.ndarray
    owner: np.ndarray | None = None

    @property
    def point(self) -> np.ndarray:
        """The input point of each row (rows repeat a point that is equally near several edges)."""
        return np.arange(len(self.edge)) if self.owner is None else self.owner

    def subset(self, rows: np.ndarray) -> Snap:
        """The given rows only (``owner`` kept)."""
        return Snap(self.edge[rows], self.pos_m[rows], self.leg_m[rows], self.point[rows])

    @property
    def ok(self) -> np.ndarray:
        """True where the point is on the network (within the snapping limit)."""
        return self.edge >= 0


@dataclass(frozen=True)
class Sources:
    """Stretches of edges from which distances are measured (facilities of one kind).

    Attributes
    ----------
    edge : numpy.ndarray of int
    a_m, b_m : numpy.ndarray of float
        The stretch ``[a, b]`` along the edge from ``u`` (``a == b`` for a point).
    leg_m : numpy.ndarray of float
        Straight leg from the stretch's ``a`` end to the facility.
    leg_b_m : numpy.ndarray of float
        Straight leg from the ``b`` end (default: ``leg_m``).
    shape : numpy.ndarray of object
        The facility polygon of a frontage (``None`` for a point): the leg from a point inside
        the stretch is its distance to the polygon.
    leg_max_m : numpy.ndarray of float
        No point of the stretch is farther from the facility (``touch_m`` for a frontage).
    """

    edge: np.ndarray
    a_m: np.ndarray
    b_m: np.ndarray
    leg_m: np.ndarray
    leg_b_m: np.ndarray | None = None
    shape: np.ndarray | None = None
    leg_max_m: np.ndarray | None = None

    def __post_init__(self) -> None:
        # a point source (or one built from four arrays) has the same leg at both ends and no shape
        leg_b_m = np.asarray(self.leg_m, dtype=float) if self.leg_b_m is None else self.leg_b_m
        object.__setattr__(self, "leg_b_m", leg_b_m)
        if self.shape is None:
            object.__setattr__(self, "shape", np.full(len(self.edge), None, dtype=object))
        if self.leg_max_m is None:
            object.__setattr__(self, "leg_max_m", np.maximum(self.leg_m, leg_b_m))

    @classmethod
    def empty(cls) -> Sources:
        """No source at all."""
        z = np.zeros(0)
        return cls(np.zeros(0, dtype=np.int64), z, z, z)

    @classmethod
    def concat(cls, parts: list[Sources]) -> Sources:
        """Join several source sets into one."""
        if not parts:
            return cls.empty()
        return cls(
            np.concatenate([p.edge for p in parts]).astype(np.int64),
            np.concatenate([p.a_m for p in parts]),
            np.concatenate([p.b_m for p in parts]),
            np.concatenate([p.leg_m for p in parts]),
            np.concatenate([p.leg_b_m for p in parts]),
            np.concatenate([p.shape for p in parts]),
            np.concatenate([p.leg_max_m for p in parts]),
        )

    def __len__(self) -> int:
        return len(self.edge)


class PreparedNetwork:
    """A street graph turned into arrays once, for many access queries.

    Build it with :meth:`from_graph` (any networkx graph following the osmnx conventions) or
    :meth:`from_arrays`. Edges are walked in both directions whatever the graph's direction.
    """

    @collector_paused()  # hundreds of thousands of new geometries: see collector_paused
    def __init__(
        self,
        *,
        crs,
        node_ids: np.ndarray,
        x: np.ndarray,
        y: np.ndarray,
        edge_u: np.ndarray,
        edge_v: np.ndarray,
        edge_length_m: np.ndarray,
        edge_geom: np.ndarray | None = None,
        edge_keys: list | EdgeKeys | None = None,
    ) -> None:
        self.crs = check_metric_crs(crs)
        self.node_ids = np.asarray(node_ids)
        self.x = np.asarray(x, dtype=float)
        self.y = np.asarray(y, dtype=float)
        u, v, length = validated_edges(edge_u, edge_v, edge_length_m)
        geom = edge_geometry(self.x, self.y, u, v, edge_geom)
        drop = duplicate_edges(u, v, length, geom)
        keep = ~drop
        self.edge_u, self.edge_v, self.edge_length, self.edge_geom = u[keep], v[keep], length[keep], geom[keep]
        self._edge_keys = edge_keys
        if drop.any():
            if isinstance(edge_keys, EdgeKeys):
                self._edge_keys = edge_keys.subset(keep)
            elif edge_keys is not None:
                self._edge_keys = [k for k, ok in zip(edge_keys, keep, strict=True) if ok]
            logger.debug("dropped %d duplicate edge(s)", int(drop.sum()))
        #: How many edges were dropped as copies of another (see :func:`~tongzhen_gis.access.build.duplicate_edges`).
        self.duplicate_edges = int(drop.sum())
        self._scale = length_scale(self.edge_length, self.edge_geom)
        self.tree = shapely.STRtree(self.edge_geom)
        self.matrix = symmetric_csr(self.n_nodes, self.edge_u, self.edge_v, self.edge_length)
        logger.debug("prepared network: %d nodes, %d edges", self.n_nodes, len(self.edge_u))

    @property
    def edge_keys(self) -> list | None:
        """The graph's name of each edge, ``(u, v)`` or ``(u, v, key)`` (None when built from arrays)."""
        if isinstance(self._edge_keys, EdgeKeys):
            self._edge_keys = self._edge_keys.tolist()
        return self._edge_keys

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.x)

    @classmethod
    def from_graph(cls, G: nx.Graph) -> PreparedNetwork:
        """Prepare a networkx graph (osmnx conventions: ``graph["crs"]``, node ``x``/``y``, edge ``length``).

        Raises
        ------
        NetworkDataError
            No CRS, a geographic CRS, nodes without coordinates, edges without length.
        """
        return cls(**graph_arrays(G))

    @classmethod
    def from_arrays(
        cls,
        *,
        crs,
        x: np.ndarray,
        y: np.ndarray,
        edge_u: np.ndarray,
        edge_v: np.ndarray,
        edge_length_m: np.ndarray | None = None,
        edge_geom: np.ndarray | None = None,
    ) -> PreparedNetwork:
        """Prepare a network from arrays (node positions ``0 … n-1``); straight edges when no geometry."""
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        if edge_length_m is None:
            edge_length_m = np.hypot(x[edge_u] - x[edge_v], y[edge_u] - y[edge_v])
        return cls(
            crs=crs,
            node_ids=np.arange(len(x)),
            x=x,
            y=y,
            edge_u=edge_u,
            edge_v=edge_v,
            edge_length_m=edge_length_m,
            edge_geom=edge_geom,
        )

    # ------------------------------------------------------------------ snapping
    def snap(self, points: np.ndarray, *, max_snap_m: float, ties: bool = False) -> Snap:
        """Snap point geometries to the nearest point of the nearest edge.

        Points without geometry get ``edge = -1`` and NaN leg; points farther than
        ``max_snap_m`` get ``edge = -1`` and their true distance as leg. With ``ties=True`` a
        point exactly as near to several edges gets one row per edge (``owner`` says whose
        row it is), so that callers can take the best of them; otherwise one row per point.
        """
        points = np.asarray(points, dtype=object)
        valid = ~(shapely.is_missing(points) | shapely.is_empty(points))
        idx = np.flatnonzero(valid)
        if len(idx):
            (which, found), dist = self.tree.query_nearest(points[idx], return_distance=True, all_matches=ties)
            rows = idx[which]
        else:
            rows, found, dist = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
        missing = np.flatnonzero(~valid)
        owner = np.concatenate([rows, missing]).astype(np.int64)
        edge = np.concatenate([np.asarray(found, dtype=np.int64), np.full(len(missing), -1, dtype=np.int64)])
        leg = np.concatenate([dist, np.full(len(missing), np.nan)])
        order = np.argsort(owner, kind="stable")
        owner, edge, leg = owner[order], edge[order], leg[order]
        near = edge >= 0
        near[near] = leg[near] <= max_snap_m
        if ties:
            # a point beyond the limit keeps a single row
            first = np.ones(len(owner), dtype=bool)
            first[1:] = owner[1:] != owner[:-1]
            keep = near | first
            owner, edge, leg, near = owner[keep], edge[keep], leg[keep], near[keep]
        edge = np.where(near, edge, -1)
        pos = np.full(len(edge), np.nan)
        if near.any():
            e = edge[near]
            along = shapely.line_locate_point(self.edge_geom[e], points[owner[near]])
            pos[near] = np.clip(along * self._scale[e], 0.0, self.edge_length[e])
        return Snap(edge=edge, pos_m=pos, leg_m=leg, owner=owner if ties else None)

    def point_at(self, edge: np.ndarray, pos_m: np.ndarray) -> np.ndarray:
        """Points at metre positions along edges (from ``u``)."""
        scale = self._scale[edge]
        with np.errstate(divide="ignore", invalid="ignore"):
            along = np.where(scale > 0, pos_m / np.where(scale > 0, scale, 1.0), 0.0)
        return shapely.line_interpolate_point(self.edge_geom[edge], along)

    def stretches(self, polygon, *, touch_m: float) -> Sources:
        """The stretches of street within ``touch_m`` of a polygon, with the legs from their two ends."""
        return self.stretches_of(np.array([polygon], dtype=object), touch_m=touch_m)[0]

    def stretches_of(self, polygons: np.ndarray, *, touch_m: float) -> list[Sources]:
        """:meth:`stretches` of many polygons at once (one :class:`Sources` each), with array operations."""
        polygons = np.asarray(polygons, dtype=object)
        if not len(polygons):
            return []
        # the rounded corners of the buffer are drawn with 32 segments per quarter circle: the ends of a
        # frontage found through a corner are within a few millimetres of the exact ones (inside the
        # true buffer: every point of a stretch is within touch_m of the polygon)
        zones = shapely.buffer(polygons, touch_m, quad_segs=32) if touch_m > 0 else polygons
        owner, hits = self.tree.query(zones, predicate="intersects")
        inside = shapely.intersection(self.edge_geom[hits], zones[owner])
        multi = shapely.get_type_id(inside) == shapely.GeometryType.MULTILINESTRING
        inside[multi] = shapely.line_merge(inside[multi])
        pieces, which = shapely.get_parts(inside, return_index=True)
        keep = ~shapely.is_empty(pieces)
        pieces, which = pieces[keep], which[keep]
        if not len(pieces):
            return [Sources.empty() for _ in polygons]
        edge = hits[which].astype(np.int64)
        coords, of = shapely.get_coordinates(pieces, return_index=True)
        first = np.flatnonzero(np.r_[True, of[1:] != of[:-1]])
        last = np.r_[first[1:] - 1, len(of) - 1]
        ends = shapely.points(np.concatenate([coords[first], coords[last]]))
        along = shapely.line_locate_point(self.edge_geom[np.r_[edge, edge]], ends) * self._scale[np.r_[edge, edge]]
        n = len(edge)
        a, b = np.minimum(along[:n], along[n:]), np.maximum(along[:n], along[n:])
        poly = polygons[owner[which]]
        legs = shapely.distance(self.point_at(np.r_[edge, edge], np.r_[a, b]), np.r_[poly, poly])
        of_polygon = owner[which]
        order = np.argsort(of_polygon, kind="stable")
        bounds = np.searchsorted(of_polygon[order], np.arange(len(polygons) + 1))
        out = []
        for i in range(len(polygons)):  # one Sources per polygon, sliced from the arrays
            r = order[bounds[i] : bounds[i + 1]]
            out.append(
                Sources(edge[r], a[r], b[r], legs[:n][r], legs[n:][r], poly[r], np.full(len(r), float(touch_m)))
                if len(r)
                else Sources.empty()
            )
        return out

    # ------------------------------------------------------------------ distances
    def node_distances(self, source_sets: list[Sources], *, limit_m: float) -> np.ndarray:
        """Network distance from each source set to every node: one Dijkstra per set.

        Each set becomes one virtual node linked to the two ends of every stretch (with the
        partial edge length plus the leg), appended to the CSR matrix; all sets are run by one
        ``scipy.sparse.csgraph.dijkstra`` call with ``limit``. Returns ``(len(source_sets),
        n_nodes)``, ``inf`` beyond the limit or unreachable.
        """
        n = self.n_nodes
        r = len(source_sets)
        if r == 0:
            return np.zeros((0, n))
        cols, vals, counts = [], [], []
        for s in source_sets:
            c = np.concatenate([self.edge_u[s.edge], self.edge_v[s.edge]])
            # rounding can put a snap position a hair past the edge end: clamp, never a negative link
            # (explicit zeros stay edges in scipy's csgraph)
            w = np.concatenate([s.leg_m + s.a_m, s.leg_b_m + np.maximum(self.edge_length[s.edge] - s.b_m, 0.0)])
            # one entry per target node, keeping the shortest link (CSR duplicates must not add up)
            order = np.lexsort((w, c))
            c, w = c[order], w[order]
            first = np.ones(len(c), dtype=bool)
            first[1:] = c[1:] != c[:-1]
            cols.append(c[first])
            vals.append(w[first])
            counts.append(int(first.sum()))
        base = self.matrix
        indptr = np.concatenate([base.indptr, base.indptr[-1] + np.cumsum(counts)])
        indices = np.concatenate([base.indices, *[c.astype(base.indices.dtype) for c in cols]])
        data = np.concatenate([base.data, *vals])
        graph = sp.csr_matrix((data, indices, indptr), shape=(n + r, n + r))
        dist = dijkstra(graph, directed=True, indices=np.arange(n, n + r), limit=limit_m)
        return np.atleast_2d(dist)[:, :n]

    def distances_at(self, node_dist: np.ndarray, snap: Snap, sources: Sources) -> np.ndarray:
        """Distance from the sources to snapped points: through either edge end, or along a shared edge.

        ``node_dist`` is one row of :meth:`node_distances` for ``sources``. The origin leg is
        included; NaN for points off the network.
        """
        out = np.full(len(snap.edge), np.inf)
        ok = snap.ok
        e, pos = snap.edge[ok], snap.pos_m[ok]
        via_u = node_dist[self.edge_u[e]] + pos
        via_v = node_dist[self.edge_v[e]] + np.maximum(self.edge_length[e] - pos, 0.0)
        best = np.minimum(via_u, via_v)
        if len(sources):
            # origin and source on the same edge: the direct stretch may be shorter
            order = np.argsort(e, kind="stable")
            e_sorted = e[order]
            lo = np.searchsorted(e_sorted, sources.edge, side="left")
            hi = np.searchsorted(e_sorted, sources.edge, side="right")
            n_pairs = hi - lo
            if n_pairs.sum():
                src = np.repeat(np.arange(len(sources)), n_pairs)
                offs = np.arange(n_pairs.sum()) - np.repeat(np.cumsum(n_pairs) - n_pairs, n_pairs)
                k = order[np.repeat(lo, n_pairs) + offs]
                np.minimum.at(best, k, self._direct(sources, src, e[k], pos[k]))
        out[ok] = best + snap.leg_m[ok]
        out[~ok] = np.nan
        return out

    def _direct(self, sources: Sources, src: np.ndarray, edge: np.ndarray, pos: np.ndarray) -> np.ndarray:
        """From points at ``pos`` on ``edge`` to the sources ``src`` on the same edge, along it.

        Before the stretch: walk to its ``a`` end and take that leg; after it: to its ``b`` end;
        inside a frontage: the straight leg from the point itself to the polygon.
        """
        assert sources.leg_b_m is not None and sources.shape is not None  # filled by Sources.__post_init__
        a, b = sources.a_m[src], sources.b_m[src]
        out = np.where(pos <= a, sources.leg_m[src] + (a - pos), sources.leg_b_m[src] + np.maximum(pos - b, 0.0))
        shape = sources.shape[src]
        inside = (pos > a) & (pos < b) & (shape != None)  # noqa: E711 (element-wise test on an object array)
        if inside.any():
            out[inside] = shapely.distance(self.point_at(edge[inside], pos[inside]), shape[inside].astype(object))
        return out


GraphLike: TypeAlias = nx.Graph | PreparedNetwork


def prepare(G: GraphLike) -> PreparedNetwork:
    """Turn a street graph into arrays once (CSR matrix, oriented edge geometry, spatial index).

    Every function of this module accepts either the graph or the prepared network; prepare it
    yourself when you run several queries on one network.

    Parameters
    ----------
    G : networkx graph or PreparedNetwork
        osmnx conventions: ``G.graph["crs"]`` metric, node ``x``/``y``, edge ``length`` in metres
        and optional ``geometry`` (a LineString joining the two ends, in either order). Edges
        are walked both ways (walking ignores one-way rules).

    Returns
    -------
    PreparedNetwork

    Raises
    ------
    NetworkDataError
        No CRS, a CRS not in metres, nodes without coordinates, edges without length.
    """
    if isinstance(G, PreparedNetwork):
        return G
    return PreparedNetwork.from_graph(G)
