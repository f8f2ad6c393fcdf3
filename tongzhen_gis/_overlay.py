"""Private vectorised overlay helpers of :mod:`tongzhen_gis.controllines` and :mod:`~tongzhen_gis.intensity`.

Everything here works on numpy arrays of shapely geometries in one metric CRS. The pattern
is always the same and never touches a whole layer at once:

1. candidate pairs from an :class:`shapely.STRtree` (bounding boxes, then ``intersects``);
2. one vectorised :func:`shapely.intersection` over the pairs;
3. the union is paid for only where pieces overlap: one STRtree self-query over the pieces
   finds those sharing area with another piece of the same feature (:func:`overlap_clusters`);
   the areas of the others are summed directly, and only each overlapping cluster is unioned
   (:func:`union_area_per_key`), or resolved by a precedence (:func:`resolve_overlaps`).
   Pieces that merely touch (adjacent 图斑 sharing an edge) are not overlapping: their areas
   add exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely import GeometryType

__all__ = [
    "LineLayer",
    "PiecesResult",
    "measure_block",
    "overlap_clusters",
    "polygonal",
    "resolve_overlaps",
    "union_area_per_key",
]

_POLYGONAL = (GeometryType.POLYGON, GeometryType.MULTIPOLYGON)


def polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep the polygonal parts of each geometry.

    Polygons and MultiPolygons are returned unchanged; from a GeometryCollection only the
    polygon parts are kept; points, lines and empty geometries become ``None``.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely geometries (may hold ``None``)

    Returns
    -------
    numpy.ndarray
        Same length, object dtype.
    """
    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    types = shapely.get_type_id(geoms)
    empty = shapely.is_empty(geoms) | (types < 0)
    out[empty] = None
    collections = np.flatnonzero((types == GeometryType.GEOMETRYCOLLECTION) & ~empty)
    for i in collections:
        parts = shapely.get_parts(geoms[i])
        parts = parts[np.isin(shapely.get_type_id(parts), _POLYGONAL)]
        polys = shapely.get_parts(parts)  # MultiPolygon parts -> Polygons
        if len(polys) == 0:
            out[i] = None
        elif len(polys) == 1:
            out[i] = polys[0]
        else:
            out[i] = shapely.union_all(polys)
    other = ~np.isin(types, (*_POLYGONAL, GeometryType.GEOMETRYCOLLECTION)) & ~empty
    out[other] = None
    return out


@dataclass
class LineLayer:
    """One control-line layer prepared for overlay.

    Attributes
    ----------
    name : str
        ``"red_line"``, ``"farmland"`` or ``"urban_boundary"``.
    geoms : numpy.ndarray
        Valid polygonal geometries (no ``None``), in the features' metric CRS.
    source_ids : numpy.ndarray
        The id of each geometry (``BSM`` or the input index, as strings).
    """

    name: str
    geoms: np.ndarray
    source_ids: np.ndarray
    _tree: shapely.STRtree | None = field(default=None, repr=False)

    @property
    def tree(self) -> shapely.STRtree:
        """The spatial index of :attr:`geoms`, built on first use."""
        if self._tree is None:
            self._tree = shapely.STRtree(self.geoms)
        return self._tree


@dataclass
class PiecesResult:
    """Overlay of a block of features with one line layer (positions are block-local).

    Attributes
    ----------
    union_m2 : numpy.ndarray
        Per feature: area covered by the union of the layer (never double counted). For the
        urban boundary this is the area *inside* the boundary.
    feature_pos, source_pos : numpy.ndarray of int
        One entry per piece: the feature and the line geometry it comes from (``-1`` as
        ``source_pos`` for pieces outside the urban boundary, which have no source).
    pieces : numpy.ndarray
        The overlap geometries (polygonal, area > 0).
    areas_m2 : numpy.ndarray
        Area of each piece.
    outside_m2 : numpy.ndarray or None
        Per feature, only for the urban boundary: area outside it.
    """

    union_m2: np.ndarray
    feature_pos: np.ndarray
    source_pos: np.ndarray
    pieces: np.ndarray
    areas_m2: np.ndarray
    outside_m2: np.ndarray | None = None


def _pairs(features: np.ndarray, layer: LineLayer) -> tuple[np.ndarray, np.ndarray]:
    """Candidate (feature, source) pairs that intersect, sorted by feature then source."""
    valid = np.flatnonzero(~shapely.is_missing(features))
    if len(valid) == 0 or len(layer.geoms) == 0:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp)
    fi, li = layer.tree.query(features[valid], predicate="intersects")
    fi = valid[fi]
    order = np.lexsort((li, fi))
    return fi[order], li[order]


def _group_starts(sorted_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique keys of a sorted array and the start offset of each run."""
    if len(sorted_keys) == 0:
        return sorted_keys, np.empty(0, dtype=np.intp)
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    return sorted_keys[starts], starts


def overlap_clusters(
    geoms: np.ndarray,
    keys: np.ndarray,
    *,
    origin: np.ndarray | None = None,
    origin_geoms: np.ndarray | None = None,
    with_covered: bool = False,
) -> Any:
    """Clusters of geometries that share area with another geometry of the same key.

    One STRtree self-query over all geometries (bounding boxes), pairs of the same key kept,
    and the DE-9IM test "interiors intersect" (``T********``) on those pairs only; clusters
    are the connected components of that relation (:mod:`scipy.sparse.csgraph`).

    Parameters
    ----------
    geoms : numpy.ndarray
        Valid polygonal geometries (no ``None``).
    keys : numpy.ndarray of int
        The group of each geometry (a town, a feature); geometries of different keys are
        never in one cluster.
    origin, origin_geoms : numpy.ndarray, optional
        When each geometry is a piece of a larger one (``origin_geoms[origin[i]]``, e.g. a
        farmland polygon cut by a town), the pairs are first tested once per pair of
        *originals* with a prepared ``intersects`` (a pair met in several towns is tested
        once; pieces of originals that do not meet do not meet either), and only the
        survivors get the exact test as pieces.
    with_covered : bool, default False
        Also return which geometries are covered by another of their cluster (their union
        is the union of the others; of equal geometries the first is kept).

    Returns
    -------
    numpy.ndarray of int, or (labels, covered)
        Per geometry: ``-1`` when it shares area with no other geometry of its key (touching
        along an edge or at a point is not sharing area), else a cluster label ``>= 0``.
    """
    n = len(geoms)
    labels = np.full(n, -1, dtype=np.intp)
    if n < 2:
        return (labels, np.zeros(n, dtype=bool)) if with_covered else labels
    a, b = shapely.STRtree(geoms).query(geoms)
    keep = (a < b) & (keys[a] == keys[b])
    a, b = a[keep], b[keep]
    if len(a) and origin is not None and origin_geoms is not None:
        pairs, back = np.unique(np.c_[origin[a], origin[b]], axis=0, return_inverse=True)
        same = pairs[:, 0] == pairs[:, 1]  # two pieces of one original never share area
        inner = np.zeros(len(pairs), dtype=bool)
        # a cheap necessary test on the originals (prepared ``intersects``); the exact one follows on the pieces
        shapely.prepare(origin_geoms[np.unique(pairs[~same, 0])])
        inner[~same] = shapely.intersects(origin_geoms[pairs[~same, 0]], origin_geoms[pairs[~same, 1]])
        inner = inner[back.ravel()]
        a, b = a[inner], b[inner]
    covered = np.zeros(n, dtype=bool)
    if len(a):
        # one DE-9IM matrix per pair: interiors meet (T at 0), and which one covers the other
        matrix = np.asarray(shapely.relate(geoms[a], geoms[b]), dtype="U9").view("U1").reshape(-1, 9)
        inner = matrix[:, 0] != "F"
        a_covers_b = (matrix[:, 6] == "F") & (matrix[:, 7] == "F") & inner
        b_covers_a = (matrix[:, 2] == "F") & (matrix[:, 5] == "F") & inner
        covered[b[a_covers_b]] = True  # equal geometries: the later one is covered by the earlier
        covered[a[b_covers_a & ~a_covers_b]] = True
        a, b = a[inner], b[inner]
    if len(a) == 0:
        return (labels, covered) if with_covered else labels
    from scipy.sparse import coo_matrix  # local: scipy.sparse.csgraph takes 0.3 s to import
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    member = np.zeros(n, dtype=bool)
    member[a] = True
    member[b] = True
    labels[member] = component[member]
    return (labels, covered) if with_covered else labels


def _cluster_runs(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions of the clustered geometries grouped by cluster: (order, starts, ends)."""
    clustered = np.flatnonzero(labels >= 0)
    order = clustered[np.argsort(labels[clustered], kind="stable")]
    if len(order) == 0:
        return order, np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp)
    _, starts = _group_starts(labels[order])
    ends = np.r_[starts[1:], len(order)].astype(np.intp)
    return order, starts, ends


def union_area_per_key(
    geoms: np.ndarray,
    keys: np.ndarray,
    n: int,
    *,
    areas: np.ndarray | None = None,
    origin: np.ndarray | None = None,
    origin_geoms: np.ndarray | None = None,
) -> np.ndarray:
    """Area of the union of the geometries of each key, unioning only overlapping clusters.

    Parameters
    ----------
    geoms : numpy.ndarray
        Valid polygonal geometries (no ``None``).
    keys : numpy.ndarray of int
        Key of each geometry, in ``[0, n)``.
    n : int
        Number of keys.
    areas : numpy.ndarray, optional
        ``shapely.area(geoms)`` when already known.
    origin, origin_geoms : numpy.ndarray, optional
        As in :func:`overlap_clusters`.

    Returns
    -------
    numpy.ndarray
        Per key, the area of the union of its geometries (0 where it has none).
    """
    keys = np.asarray(keys, dtype=np.intp)
    areas = shapely.area(geoms) if areas is None else areas
    labels, covered = overlap_clusters(geoms, keys, origin=origin, origin_geoms=origin_geoms, with_covered=True)
    labels = np.where(covered, -2, labels)  # a covered geometry adds nothing to its cluster's union
    alone = labels == -1
    out = np.bincount(keys[alone], weights=areas[alone], minlength=n).astype(float)
    order, starts, ends = _cluster_runs(labels)
    single = (ends - starts) == 1  # every other member was covered by this one
    np.add.at(out, keys[order[starts[single]]], areas[order[starts[single]]])
    starts, ends = starts[~single], ends[~single]
    if len(order) == 0:
        return out
    pair = (ends - starts) == 2
    # clusters of two (a patch digitised twice): one vectorised union
    first, second = order[starts[pair]], order[starts[pair] + 1]
    np.add.at(out, keys[first], shapely.area(shapely.union(geoms[first], geoms[second])))
    for start, end in zip(starts[~pair], ends[~pair], strict=True):
        members = order[start:end]
        out[keys[members[0]]] += shapely.area(shapely.union_all(geoms[members]))
    return out


def resolve_overlaps(
    geoms: np.ndarray,
    keys: np.ndarray,
    rank: np.ndarray,
    *,
    origin: np.ndarray | None = None,
    origin_geoms: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Cut each geometry by the geometries of its overlap cluster that take precedence.

    Within a cluster (:func:`overlap_clusters`), a geometry keeps only what no geometry of
    lower ``rank`` (higher precedence; ties: the earlier position) already covers, so the
    returned geometries of one key share no area and their areas add up to the area of the
    union. Geometries outside any cluster are returned unchanged.

    Parameters
    ----------
    geoms : numpy.ndarray
        Valid polygonal geometries (no ``None``).
    keys : numpy.ndarray of int
        Group of each geometry (only geometries of the same key are resolved together).
    rank : numpy.ndarray of int
        Precedence of each geometry: lower wins.
    origin, origin_geoms : numpy.ndarray, optional
        As in :func:`overlap_clusters`.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        The resolved geometries (``None`` where nothing is left) and the clusters' labels
        (``-1`` for geometries that overlap nothing).
    """
    labels = overlap_clusters(geoms, np.asarray(keys, dtype=np.intp), origin=origin, origin_geoms=origin_geoms)
    out = np.asarray(geoms, dtype=object).copy()
    order, starts, ends = _cluster_runs(labels)
    for start, end in zip(starts, ends, strict=True):
        members = order[start:end]
        members = members[np.lexsort((members, rank[members]))]
        covered = geoms[members[0]]
        for pos in members[1:]:
            out[pos] = polygonal(np.array([shapely.difference(geoms[pos], covered)], dtype=object))[0]
            covered = shapely.union(covered, geoms[pos])
    return out, labels


def _union_per_feature(fi: np.ndarray, geoms: np.ndarray, n: int) -> np.ndarray:
    """Union of the geometries of each feature (``fi`` sorted); ``None`` where none."""
    out = np.full(n, None, dtype=object)
    keys, starts = _group_starts(fi)
    ends = np.r_[starts[1:], len(fi)].astype(np.intp)
    single = (ends - starts) == 1
    out[keys[single]] = geoms[starts[single]]
    for key, start, end in zip(keys[~single], starts[~single], ends[~single], strict=True):
        out[key] = shapely.union_all(geoms[start:end])
    return out


def _neighbourhood(features: np.ndarray) -> np.ndarray:
    """Each feature's bounding box, grown so clipped edges never touch the feature itself."""
    bounds = shapely.bounds(features)
    size = np.maximum(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1])
    margin = 0.01 * size + 1.0
    return bounds + np.c_[-margin, -margin, margin, margin]


def _intersections(features: np.ndarray, fi: np.ndarray, geoms: np.ndarray, li: np.ndarray) -> np.ndarray:
    """``features[fi] ∩ geoms[li]``, polygonal; a line polygon wholly inside its feature is taken as it is.

    Most 图斑 near a town lie wholly inside it: one vectorised ``contains_properly`` on the
    prepared features spares their intersections (the result is the polygon itself, exactly).
    """
    pieces = np.empty(len(fi), dtype=object)
    if len(fi) == 0:
        return pieces
    shapely.prepare(features[np.unique(fi)])
    inside = shapely.contains_properly(features[fi], geoms[li])
    pieces[inside] = geoms[li[inside]]
    cross = ~inside
    pieces[cross] = polygonal(shapely.intersection(features[fi[cross]], geoms[li[cross]]))
    return pieces


def measure_block(features: np.ndarray, layer: LineLayer) -> PiecesResult:
    """Overlay a block of features with one control-line layer.

    Parameters
    ----------
    features : numpy.ndarray
        Valid polygonal geometries of the block (``None`` for features without geometry,
        which get ``NaN`` figures).
    layer : LineLayer

    Returns
    -------
    PiecesResult
        For ``red_line`` / ``farmland``: one piece per intersecting (feature, source) pair and
        the per-feature area of the union of the pieces. For ``urban_boundary``: the area
        inside the union of the boundary and one piece per feature for the part outside it.
    """
    n = len(features)
    missing = shapely.is_missing(features)
    fi, li = _pairs(features, layer)
    if layer.name == "urban_boundary":
        return _measure_boundary(features, missing, fi, li, layer)
    pieces = _intersections(features, fi, layer.geoms, li)
    areas = shapely.area(pieces)
    areas = np.where(np.isnan(areas), 0.0, areas)
    keep = areas > 0
    fi, li, pieces, areas = fi[keep], li[keep], pieces[keep], areas[keep]
    # The union rule (never double count) is paid for only where pieces of one feature overlap.
    union_m2 = union_area_per_key(pieces, fi, n, areas=areas, origin=li, origin_geoms=layer.geoms)
    union_m2[missing] = np.nan
    return PiecesResult(union_m2=union_m2, feature_pos=fi, source_pos=li, pieces=pieces, areas_m2=areas)


def _measure_boundary(
    features: np.ndarray, missing: np.ndarray, fi: np.ndarray, li: np.ndarray, layer: LineLayer
) -> PiecesResult:
    n = len(features)
    # Clip each candidate boundary polygon to its feature's neighbourhood (exact inside it),
    # then union per feature: the whole boundary layer is never unioned.
    # (a true intersection with a box, not clip_by_rect, whose output may be invalid).
    near = shapely.box(*_neighbourhood(features[fi]).T) if len(fi) else np.empty(0, dtype=object)
    clipped = polygonal(shapely.intersection(layer.geoms[li], near))
    boundary = _union_per_feature(fi, clipped, n)
    has = ~shapely.is_missing(boundary) & ~missing
    inside = np.full(n, None, dtype=object)
    outside = features.copy()
    inside[has] = polygonal(shapely.intersection(features[has], boundary[has]))
    outside[has] = polygonal(shapely.difference(features[has], boundary[has]))
    inside_m2 = np.where(shapely.is_missing(inside), 0.0, shapely.area(inside))
    outside_m2 = np.where(shapely.is_missing(outside), 0.0, shapely.area(outside))
    inside_m2[missing] = np.nan
    outside_m2[missing] = np.nan
    pos = np.flatnonzero(outside_m2 > 0)
    return PiecesResult(
        union_m2=inside_m2,
        feature_pos=pos,
        source_pos=np.full(len(pos), -1, dtype=np.intp),
        pieces=outside[pos],
        areas_m2=outside_m2[pos],
        outside_m2=outside_m2,
    )
