"""Private vectorised overlay helpers used by :mod:`tongzhen_gis.controllines`.

Everything here works on numpy arrays of shapely geometries in one metric CRS. The pattern
is always the same and never touches a whole layer at once:

1. candidate pairs from an :class:`shapely.STRtree` (bounding boxes, then ``intersects``);
2. one vectorised :func:`shapely.intersection` over the pairs;
3. a per-feature union of *only that feature's* pieces (or of its candidates clipped to the
   feature's neighbourhood), so no union of a million-polygon layer is ever built.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely import GeometryType

__all__ = ["LineLayer", "PiecesResult", "measure_block", "polygonal"]

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
    pieces = polygonal(shapely.intersection(features[fi], layer.geoms[li]))
    areas = shapely.area(pieces)
    areas = np.where(np.isnan(areas), 0.0, areas)
    keep = areas > 0
    fi, li, pieces, areas = fi[keep], li[keep], pieces[keep], areas[keep]
    unions = _union_per_feature(fi, pieces, n)
    union_m2 = np.where(shapely.is_missing(unions), 0.0, shapely.area(unions))
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
