"""Facilities and homes onto the street network: validation, snapping, sources per category.

A facility becomes a :class:`~tongzhen_gis.access.engine.Sources` (stretches of street with a
leg): a point snaps to the nearest point of the nearest street; a polygon is reached along
every stretch of street within ``touch_m`` of it, or at its nearest point when no street
passes that close; a facility with entrance points is reached only through them.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Sequence

import geopandas as gpd
import numpy as np
import shapely

from tongzhen_gis import schema
from tongzhen_gis.access.catalogue import CatalogueLike, catalogue_name, categories
from tongzhen_gis.access.engine import PreparedNetwork, Snap, Sources
from tongzhen_gis.errors import OptionError, SchemaError

#: Default farthest a home or facility may lie from a street and still be snapped to it, metres.
MAX_SNAP_M = 200.0
#: Default distance within which a facility's polygon touches a street (its frontage), metres.
TOUCH_M = 15.0


def _geometries(gdf: gpd.GeoDataFrame | gpd.GeoSeries, crs) -> np.ndarray:
    """The geometries of a layer in the network CRS (a layer without CRS raises CRSError)."""
    if gdf.crs is None:
        from tongzhen_gis.crs import to_metric  # raises the standard missing-CRS error, with the fix

        to_metric(gpd.GeoDataFrame(geometry=gdf.geometry))
    geoms = gdf.geometry.to_crs(crs).values if gdf.crs != crs else gdf.geometry.values
    return np.asarray(geoms, dtype=object)


def _to_points(gdf: gpd.GeoDataFrame, crs) -> np.ndarray:
    """Geometries in the network CRS, as points (a polygon's or line's representative point)."""
    geoms = _geometries(gdf, crs)
    out = geoms.copy()
    valid = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    not_point = valid & (shapely.get_type_id(geoms) != shapely.GeometryType.POINT)
    if not_point.any():
        out[not_point] = shapely.point_on_surface(geoms[not_point])
    return out


def _check_distances_m(**distances_m: float) -> None:
    """Refuse a distance option that is not a number of metres, 0 or more (``OptionError`` naming it; inf is fine)."""
    for name, value in distances_m.items():
        try:
            ok = float(value) >= 0  # False for NaN too
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise OptionError(f"{name} must be a distance in metres, 0 or more, got {value!r}", param=name)


def _validate_facilities(
    facilities: gpd.GeoDataFrame,
    category_col: str,
    cats: Sequence[str] | None,
    catalogue: CatalogueLike | None = None,
) -> tuple[gpd.GeoDataFrame, list[str], list[str]]:
    """Check the facilities against the catalogue (or the ids asked); the categories and notes.

    ``cats`` given without ``catalogue`` accepts any ids: facilities of other ids are not used
    (noted). Otherwise the ids must be in the catalogue (default "八个一").
    """
    if isinstance(cats, str):
        msg = f"categories takes a list of category ids, got the text {cats!r}; write categories=[{cats!r}]"
        raise OptionError(msg, param="categories")
    free = cats is not None and catalogue is None
    valid_ids = list(cats) if cats is not None and free else categories(catalogue)
    where = "the ids asked for (categories=)" if free else f"catalogue {catalogue_name(catalogue)!r}"
    problems, notes = [], []
    if not isinstance(facilities, gpd.GeoDataFrame):
        msg = "facilities must be a GeoDataFrame with a geometry and a category column"
        raise SchemaError(msg)
    facilities = schema.use_columns(facilities, "facilities", category_col)  # 类别, 设施类型 … too
    if category_col not in facilities.columns:
        msg = (
            f"facilities have no column {category_col!r}; add one holding a category id per facility "
            f"(valid ids: {', '.join(valid_ids)}) or name the column with category_col="
        )
        raise SchemaError(msg, [msg], param="category_col")
    values = facilities[category_col]
    if values.isna().any():
        labels = list(facilities.index[values.isna()][:10])
        problems.append(f"{int(values.isna().sum())} facility(ies) have no {category_col} (e.g. index {labels})")
    unknown = sorted({str(v) for v in values.dropna().unique()} - set(valid_ids))
    if unknown and free:
        notes.append(f"facilities of categor(ies) {unknown} are not among the categories asked for: not used")
    elif unknown:
        problems.append(
            f"unknown facility categor(ies) {unknown} in column {category_col!r}; valid ids ({where}): "
            f"{', '.join(valid_ids)}; map your classes onto these ids, name your own catalogue with catalogue= "
            "(a TOML file), or list the ids to use with categories="
        )
    if problems:
        raise SchemaError("bad facilities layer: " + "; ".join(problems), problems)
    if cats is None:
        cats = valid_ids
    else:
        cats = list(cats)
        bad = [c for c in cats if c not in valid_ids]
        if bad:
            msg = f"unknown categor(ies) {bad} asked for; valid ids ({where}): {', '.join(valid_ids)}"
            raise OptionError(msg, param="categories")
    return facilities, list(cats), notes


def _facility_sources(
    net: PreparedNetwork,
    facilities: gpd.GeoDataFrame,
    *,
    max_snap_m: float,
    touch_m: float,
    entrances: gpd.GeoDataFrame | None,
    entrance_col: str,
) -> tuple[list[Sources], list[Hashable]]:
    """One :class:`Sources` per facility row (possibly empty) and the labels that could not be reached."""
    geoms = _geometries(facilities, net.crs)
    n = len(facilities)
    per: list[Sources] = [Sources.empty()] * n
    done = np.zeros(n, dtype=bool)
    if entrances is not None and len(entrances):
        if entrance_col not in entrances.columns:
            msg = (
                f"entrances have no column {entrance_col!r} naming the facility (its index label) each entrance "
                "belongs to; add it or pass entrance_col="
            )
            raise SchemaError(msg, [msg])
        if facilities.index.has_duplicates:
            msg = "entrances name facilities by index label, but the facilities index has duplicates; make it unique"
            raise SchemaError(msg, [msg])
        position = {label: i for i, label in enumerate(facilities.index)}
        orphans = sorted({str(v) for v in entrances[entrance_col] if v not in position})
        if orphans:
            msg = f"entrances name facilities not in the facilities index: {orphans[:10]}; fix {entrance_col!r}"
            raise SchemaError(msg, [msg])
        snap = net.snap(_to_points(entrances, net.crs), max_snap_m=max_snap_m, ties=True)
        facility_of = np.array([position[v] for v in entrances[entrance_col]], dtype=np.int64)
        done[facility_of] = True
        for i, src in _sources_per_owner(snap, facility_of).items():
            per[i] = src
    valid = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    is_poly = valid & np.isin(
        shapely.get_type_id(geoms), [shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON]
    )
    polys = np.flatnonzero(is_poly & ~done)
    for i, src in zip(polys.tolist(), net.stretches_of(geoms[polys], touch_m=touch_m), strict=True):
        if len(src):
            per[i] = src
            done[i] = True
    rest = np.flatnonzero(valid & ~done)
    if len(rest):
        # points (and polygons far from any street: their nearest point) snap to the nearest edge
        snap = _snap_geometries(net, geoms[rest], max_snap_m=max_snap_m)
        for i, src in _sources_per_owner(snap, rest).items():
            per[i] = src
    unreached = [facilities.index[i] for i in range(n) if len(per[i]) == 0]
    return per, unreached


def _sources_per_owner(snap: Snap, owner_of_point: np.ndarray) -> dict[int, Sources]:
    """Group the snapped rows (ties included) into one :class:`Sources` per owner."""
    rows = np.flatnonzero(snap.ok)
    if not len(rows):  # nothing within reach of a street: no sources (the caller reports it)
        return {}
    owners = owner_of_point[snap.point[rows]]
    order = np.argsort(owners, kind="stable")
    rows, owners = rows[order], owners[order]
    bounds = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1], True])
    out = {}
    for lo, hi in itertools.pairwise(bounds):
        r = rows[lo:hi]
        out[int(owners[lo])] = Sources(snap.edge[r], snap.pos_m[r], snap.pos_m[r], snap.leg_m[r])
    return out


def _snap_geometries(net: PreparedNetwork, geoms: np.ndarray, *, max_snap_m: float) -> Snap:
    """Snap any geometries: the point of each geometry nearest a street is what is snapped."""
    geoms = np.asarray(geoms, dtype=object)
    pts = geoms.copy()
    not_point = shapely.get_type_id(geoms) != shapely.GeometryType.POINT
    if not_point.any():
        idx = np.flatnonzero(not_point)
        (which, found), _ = net.tree.query_nearest(geoms[idx], return_distance=True, all_matches=False)
        line = shapely.shortest_line(geoms[idx[which]], net.edge_geom[found])
        pts[idx[which]] = shapely.get_point(line, 0)
    return net.snap(pts, max_snap_m=max_snap_m, ties=True)


def _sources_by_category(
    net: PreparedNetwork,
    facilities: gpd.GeoDataFrame,
    *,
    category_col: str = "category",
    categories: Sequence[str] | None = None,
    max_snap_m: float = MAX_SNAP_M,
    touch_m: float = TOUCH_M,
    entrances: gpd.GeoDataFrame | None = None,
    entrance_col: str = "facility",
    catalogue: CatalogueLike | None = None,
) -> tuple[list[str], list[Sources], list[Hashable], list[str]]:
    """Validate the facilities, then one :class:`Sources` per category asked, the unreached facilities, notes."""
    _check_distances_m(max_snap_m=max_snap_m, touch_m=touch_m)
    facilities, cats, notes = _validate_facilities(facilities, category_col, categories, catalogue)
    per, unreached = _facility_sources(
        net, facilities, max_snap_m=max_snap_m, touch_m=touch_m, entrances=entrances, entrance_col=entrance_col
    )
    values = facilities[category_col].astype(str).to_numpy()
    out = [Sources.concat([per[i] for i in np.flatnonzero(values == c)]) for c in cats]
    return cats, out, unreached, notes


def _node_sources(net: PreparedNetwork) -> list[Sources]:
    """Each node as a source: a point at the end of one of its edges (empty for an isolated node)."""
    m = len(net.edge_u)
    edge = np.full(net.n_nodes, -1, dtype=np.int64)
    edge[net.edge_v[::-1]] = np.arange(m)[::-1]
    pos = net.edge_length[np.maximum(edge, 0)].copy()
    from_u = np.full(net.n_nodes, -1, dtype=np.int64)
    from_u[net.edge_u[::-1]] = np.arange(m)[::-1]
    has_u = from_u >= 0
    edge[has_u] = from_u[has_u]
    pos[has_u] = 0.0
    zero = np.zeros(1)
    return [
        Sources(edge[[i]], pos[[i]], pos[[i]], zero) if edge[i] >= 0 else Sources.empty() for i in range(net.n_nodes)
    ]
