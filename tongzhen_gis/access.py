"""15-minute walking access to the "八个一" facilities along the streets (15分钟生活圈 可达性).

For every home: how far the nearest facility of each category is *along the streets*; for
every town: what share of homes and people are covered; where the covered streets are; and
where a new facility would cover the most people (补齐).

How distances are measured
--------------------------
* Origins (homes, buildings, parcels; a polygon uses a point inside it,
  ``representative_point``) and facilities are snapped to the nearest point of the nearest
  street edge (not the nearest node). A distance is origin leg + network path + facility leg,
  the legs being straight lines to the snap points.
* A point farther than ``max_snap_m`` (default 200 m) from every street is *unreachable*: it
  stays in the result with ``reachable = False`` and its distance to the street in ``snap_m``,
  its distances NaN, and is listed in ``attrs["problems"]``.
* Facilities given as polygons (a park, a school compound) are reached along every stretch of
  street within ``touch_m`` of the polygon (leg = that stretch's distance to the polygon), or,
  when no street passes that close, at the polygon's nearest point to a street. When entrance
  points are given for a facility, it is reached only through them.
* Engine: the graph becomes one symmetric CSR matrix (built once, see :func:`prepare`); per
  category one ``scipy.sparse.csgraph.dijkstra`` runs from a virtual source linked to both ends
  of every facility snap edge (partial edge length + facility leg), with ``limit`` at the
  largest distance asked. An origin's distance is the smaller of (node distance + part of its
  edge) over its edge's two ends, plus its leg; when an origin and a facility share an edge the
  direct stretch along it is also considered. This equals networkx's ``multi_source_dijkstra``
  on the graph augmented with the snap points as real nodes (tested to 1e-6 m).

Categories and thresholds come from the rule files: the catalogue and its order from
``tz.rules.load("facilities")["category"]`` (default list, to be replaced with the official
one), the 15-minute distance from ``tz.rules.load("life_circle")`` (level ``fifteen_minute``).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Hashable, Sequence
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from shapely.ops import substring

from tongzhen_gis import rules
from tongzhen_gis._snap import PreparedNetwork, Snap, Sources
from tongzhen_gis.errors import SchemaError

__all__ = [
    "PreparedNetwork",
    "categories",
    "categories_reached",
    "categorize",
    "coverage",
    "default_threshold_m",
    "life_circle_distances_m",
    "nearest",
    "prepare",
    "service_areas",
    "suggest_sites",
]

logger = logging.getLogger(__name__)

#: Name of the extra coverage row: every category within reach (the 八个一 complete).
ALL_CATEGORIES = "all_categories"

GraphLike = nx.Graph | PreparedNetwork


# ---------------------------------------------------------------------------- rules
def categories() -> list[str]:
    """The facility category ids, in catalogue order (``tz.rules.load("facilities")``)."""
    return list(rules.load("facilities")["category"])


def _names_zh() -> dict[str, str]:
    cat = rules.load("facilities")["category"]
    return {k: cat[k].get("name_zh", k) for k in cat}


def default_threshold_m(level: str = "fifteen_minute") -> float:
    """Walking distance of a life-circle level, in metres (``tz.rules.load("life_circle")``).

    Parameters
    ----------
    level : str, default "fifteen_minute"
        ``fifteen_minute``, ``ten_minute`` or ``five_minute``.
    """
    levels = rules.load("life_circle")["level"]
    if level not in levels:
        msg = f"unknown life-circle level {level!r}; valid: {list(levels)}"
        raise SchemaError(msg)
    return float(levels[level]["distance_m"])


def life_circle_distances_m() -> tuple[float, ...]:
    """The walking distances of every life-circle level, ascending (300, 500, 1000 m by default rules)."""
    levels = rules.load("life_circle")["level"]
    return tuple(sorted(float(levels[k]["distance_m"]) for k in levels))


# ---------------------------------------------------------------------------- OSM / Tilezen POIs
#: Tilezen ``kind`` values that differ from the OSM tag value they come from (Tilezen → OSM).
TILEZEN_KIND_TO_OSM = {"fitness": "fitness_centre"}
#: OSM keys whose value Tilezen puts in ``kind_detail`` rather than ``kind`` (``kind`` is the key).
TILEZEN_DETAIL_KEYS = ("building",)


def categorize(
    pois: gpd.GeoDataFrame,
    *,
    scheme: str = "auto",
    kind_col: str = "kind",
    kind_detail_col: str = "kind_detail",
    name_col: str = "name",
) -> gpd.GeoDataFrame:
    """Map OpenStreetMap features or Tilezen POIs to facility categories through the catalogue's tags.

    Each catalogue category lists alternative OSM tags (``osm_tags``: any one matches; ``"*"``
    matches any value) and optionally ``name_contains`` (the name must also contain one of
    them, e.g. 人才 for 人才公寓).

    * ``scheme="osm"``: columns named after OSM keys (``amenity``, ``leisure`` … as osmnx
      ``features_from_*`` or pyosmium give them) are matched directly.
    * ``scheme="tilezen"``: vector tiles in the Tilezen schema carry one ``kind`` per feature,
      which is the value of the OSM tag Tilezen chose (``amenity=library`` → ``library``), with
      the key dropped. A kind matches a catalogue tag when it equals the tag's *value*, whatever
      the key, after renaming the few kinds Tilezen changes (:data:`TILEZEN_KIND_TO_OSM`:
      ``fitness`` → ``fitness_centre``). For ``building=*`` Tilezen's ``kind`` is ``building`` and
      the value is in ``kind_detail``. ``"*"`` wildcards (``healthcare=*``) cannot be matched
      without the key and are skipped. ``tourism=information`` matches every information POI
      (offices, boards, maps) because the catalogue lists it as an alternative on its own.
    * ``scheme="auto"``: ``tilezen`` when ``kind_col`` is a column, else ``osm``.

    Parameters
    ----------
    pois : GeoDataFrame
    scheme : {"auto", "osm", "tilezen"}
    kind_col, kind_detail_col : str
        Tilezen columns.
    name_col : str
        Name column for ``name_contains`` rules (``name`` in both schemes).

    Returns
    -------
    GeoDataFrame
        One row per (feature, category) matched, in input order then catalogue order (a
        ``community_centre`` is both a neighbourhood centre and a reading room), with
        ``category``, ``source_index`` (the input label) and the input's columns, on a fresh
        index. ``attrs["unmatched"]`` counts the features matching no category.
    """
    if scheme == "auto":
        scheme = "tilezen" if kind_col in pois.columns else "osm"
    if scheme not in ("osm", "tilezen"):
        msg = f"scheme={scheme!r} is not understood; use 'osm', 'tilezen' or 'auto'"
        raise SchemaError(msg, [msg])
    cat_table = rules.load("facilities")["category"]
    names = pois[name_col].astype("string").fillna("") if name_col in pois.columns else None
    matched = []
    for cid in cat_table:
        entry = cat_table[cid]
        hit = np.zeros(len(pois), dtype=bool)
        for key, value in entry.get("osm_tags", ()):
            if scheme == "osm":
                if key not in pois.columns:
                    continue
                col = pois[key]
                hit |= (col.notna() & (col.astype(str) != "")).to_numpy() if value == "*" else (col == value).to_numpy()
            else:
                if value == "*" or kind_col not in pois.columns:
                    continue
                kind = pois[kind_col].replace(TILEZEN_KIND_TO_OSM)
                if key in TILEZEN_DETAIL_KEYS:
                    if kind_detail_col in pois.columns:
                        hit |= ((pois[kind_col] == key) & (pois[kind_detail_col] == value)).to_numpy()
                else:
                    hit |= (kind == value).to_numpy()
        needles = entry.get("name_contains", ())
        if needles:
            has = np.zeros(len(pois), dtype=bool)
            if names is not None:
                for needle in needles:
                    has |= names.str.contains(needle, regex=False).to_numpy(dtype=bool)
            hit &= has
        matched.append(hit)
    hits = np.column_stack(matched) if matched else np.zeros((len(pois), 0), dtype=bool)
    rows, cols = np.nonzero(hits)
    cat_ids = list(cat_table)
    out = pois.iloc[rows].copy()
    out.insert(0, "source_index", pois.index[rows])
    out.insert(0, "category", [cat_ids[c] for c in cols])
    out = out.reset_index(drop=True)
    out.attrs["unmatched"] = int((~hits.any(axis=1)).sum())
    return out


# ---------------------------------------------------------------------------- inputs
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


def _validate_facilities(
    facilities: gpd.GeoDataFrame, category_col: str, cats: Sequence[str] | None
) -> tuple[gpd.GeoDataFrame, list[str]]:
    valid_ids = categories()
    problems = []
    if not isinstance(facilities, gpd.GeoDataFrame):
        msg = "facilities must be a GeoDataFrame with a geometry and a category column"
        raise SchemaError(msg)
    from tongzhen_gis import schema  # local: schema loads its rules on import

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
    if unknown:
        problems.append(
            f"unknown facility categor(ies) {unknown} in column {category_col!r}; valid ids (tz.rules "
            f"'facilities' catalogue): {', '.join(valid_ids)}; map your classes onto these ids first"
        )
    if problems:
        raise SchemaError("bad facilities layer: " + "; ".join(problems), problems)
    if cats is None:
        cats = valid_ids
    else:
        cats = list(cats)
        bad = [c for c in cats if c not in valid_ids]
        if bad:
            msg = f"unknown categor(ies) {bad} asked for; valid ids: {', '.join(valid_ids)}"
            raise SchemaError(msg, [msg])
    return facilities, list(cats)


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
    for i in np.flatnonzero(is_poly & ~done):
        src = net.stretches(geoms[i], touch_m=touch_m)
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
    category_col: str,
    categories: Sequence[str] | None,
    max_snap_m: float,
    touch_m: float,
    entrances: gpd.GeoDataFrame | None,
    entrance_col: str,
) -> tuple[list[str], list[Sources], list[Hashable]]:
    """Validate the facilities, then one :class:`Sources` per category asked (and the unreached facilities)."""
    facilities, cats = _validate_facilities(facilities, category_col, categories)
    per, unreached = _facility_sources(
        net, facilities, max_snap_m=max_snap_m, touch_m=touch_m, entrances=entrances, entrance_col=entrance_col
    )
    values = facilities[category_col].astype(str).to_numpy()
    out = [Sources.concat([per[i] for i in np.flatnonzero(values == c)]) for c in cats]
    return cats, out, unreached


# ---------------------------------------------------------------------------- nearest
def nearest(
    G: GraphLike,
    origins: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    category_col: str = "category",
    max_distance_m: float = 2000.0,
    max_snap_m: float = 200.0,
    categories: Sequence[str] | None = None,
    touch_m: float = 15.0,
    entrances: gpd.GeoDataFrame | None = None,
    entrance_col: str = "facility",
) -> pd.DataFrame:
    """Walking distance from every origin to the nearest facility of each category (最近设施步行距离).

    Parameters
    ----------
    G : networkx graph or PreparedNetwork
        The walking network (see :func:`prepare`).
    origins : GeoDataFrame
        Homes, buildings or parcels (a polygon uses a point inside it). Any CRS; reprojected
        to the network's.
    facilities : GeoDataFrame
        Points or polygons with a category id per row (the ``facilities`` catalogue).
    category_col : str, default "category"
    max_distance_m : float, default 2000
        Distances beyond this are NaN ("none within reach"). Also the Dijkstra ``limit``.
    max_snap_m : float, default 200
        Origins and facilities farther than this from every street are unreachable (reported).
    categories : sequence of str, optional
        Categories to compute, default the whole catalogue in its order. Catalogue categories
        absent from ``facilities`` still get a column, all NaN, and are listed in
        ``attrs["problems"]``.
    touch_m : float, default 15
        Polygon facilities are reached along streets within this distance of the polygon (half
        a typical street plus pavement). Not a policy number.
    entrances : GeoDataFrame, optional
        Entrance points; a facility that has entrances is reached only through them.
    entrance_col : str, default "facility"
        Column of ``entrances`` holding the facility's index label.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``origins`` (same order, every row): one float column per category
        (metres, NaN when none within ``max_distance_m`` or the origin is unreachable), then
        ``snap_m`` (straight distance to the nearest street, also for unreachable origins) and
        ``reachable`` (False when farther than ``max_snap_m`` or without geometry).
        ``attrs`` holds ``categories``, ``max_distance_m``, ``max_snap_m``,
        ``unreachable_origins``, ``unreachable_facilities`` and ``problems`` (sentences).

    Raises
    ------
    SchemaError
        Missing category column, unknown category ids (the message lists the valid ids).
    NetworkDataError, CRSError
        A network or layer that cannot be measured.

    Examples
    --------
    >>> import tongzhen_gis as tz
    >>> scene = tz.samples.sample_town()
    >>> G = tz.network.from_lines(scene.roads)
    >>> d = tz.access.nearest(G, scene.homes.set_index("home_id"), scene.facilities)
    >>> float(d.loc["HT1_00_0", "kindergarten"])
    192.0
    """
    net = prepare(G)
    cats, sources, unreached_fac = _sources_by_category(
        net,
        facilities,
        category_col=category_col,
        categories=categories,
        max_snap_m=max_snap_m,
        touch_m=touch_m,
        entrances=entrances,
        entrance_col=entrance_col,
    )
    # a home exactly as near to two streets (mid-way between two dead ends) may use either: the best one counts
    snap = net.snap(_to_points(origins, net.crs), max_snap_m=max_snap_m, ties=True)
    node_dist = net.node_distances(sources, limit_m=max_distance_m)
    n = len(origins)
    on = np.zeros(n, dtype=bool)
    np.logical_or.at(on, snap.point, snap.ok)
    leg = np.full(n, np.nan)
    leg[snap.point] = snap.leg_m
    result = pd.DataFrame(index=origins.index)
    for k, c in enumerate(cats):
        d = np.full(n, np.inf)
        np.fmin.at(d, snap.point, net.distances_at(node_dist[k], snap, sources[k]))
        d[~(d <= max_distance_m)] = np.nan
        result[c] = d
    result["snap_m"] = leg
    result["reachable"] = on
    problems = []
    off = ~on
    unreachable_origins = list(origins.index[off])
    if unreachable_origins:
        problems.append(
            f"{len(unreachable_origins)} origin(s) are farther than {max_snap_m:g} m from any street or have no "
            f"geometry (reachable=False): {_short(unreachable_origins)}"
        )
    if unreached_fac:
        problems.append(
            f"{len(unreached_fac)} facility(ies) are farther than {max_snap_m:g} m from any street or have no "
            f"geometry and were not used: {_short(unreached_fac)}"
        )
    absent = [c for c, s in zip(cats, sources, strict=True) if len(s) == 0]
    if absent:
        problems.append(f"no usable facility of categor(ies) {absent}: their distances are all NaN")
    for p in problems:
        logger.warning(p)
    result.attrs.update(
        {
            "categories": cats,
            "max_distance_m": float(max_distance_m),
            "max_snap_m": float(max_snap_m),
            "unreachable_origins": unreachable_origins,
            "unreachable_facilities": unreached_fac,
            "problems": problems,
        }
    )
    return result


def _short(labels: list[Any], limit: int = 10) -> str:
    text = ", ".join(str(v) for v in labels[:limit])
    return text + (f" … (+{len(labels) - limit})" if len(labels) > limit else "")


def _categories_of(nearest_df: pd.DataFrame) -> list[str]:
    cats = nearest_df.attrs.get("categories")
    if cats:
        return list(cats)
    return [c for c in categories() if c in nearest_df.columns]


# ---------------------------------------------------------------------------- coverage
def _threshold(nearest: pd.DataFrame, threshold_m: float | None) -> float:
    """The threshold asked (default: the 15-minute distance), refused beyond the distances computed."""
    t = default_threshold_m() if threshold_m is None else float(threshold_m)
    computed = nearest.attrs.get("max_distance_m")
    if computed is not None and t > computed:
        msg = (
            f"threshold {t:g} m is beyond the max_distance_m={computed:g} the distances were computed with (farther "
            f"ones are NaN, so coverage would be understated); rerun nearest(..., max_distance_m={t:g}) or more"
        )
        raise SchemaError(msg, [msg])
    return t


def categories_reached(nearest: pd.DataFrame, *, threshold_m: float | None = None) -> pd.Series:
    """Number of categories within ``threshold_m`` of each origin (八个一 中可达的项数).

    Parameters
    ----------
    nearest : DataFrame
        From :func:`nearest`.
    threshold_m : float, optional
        Default: the 15-minute life-circle distance (``tz.rules.load("life_circle")``).

    Returns
    -------
    pandas.Series of int, indexed like ``nearest``.
    """
    t = _threshold(nearest, threshold_m)
    cats = _categories_of(nearest)
    return (nearest[cats] <= t).sum(axis=1).astype(int).rename("categories_reached")


def _aligned(values: Any, index: pd.Index, name: str) -> pd.Series:
    if isinstance(values, str):
        msg = (
            f"{name}={values!r} is not a column of the distance table; pass the values themselves, aligned on "
            f"its index, e.g. {name}=homes[{values!r}]"
        )
        raise SchemaError(msg, [msg])
    if isinstance(values, pd.Series):
        missing = ~index.isin(values.index)
        if missing.any():
            msg = f"{name} is not indexed like the distances: {int(missing.sum())} row(s) have no {name} value"
            raise SchemaError(msg, [msg])
        return values.reindex(index)
    arr = np.asarray(values)
    if len(arr) != len(index):
        msg = f"{name} has {len(arr)} values for {len(index)} origins; pass one per origin (or a Series)"
        raise SchemaError(msg, [msg])
    return pd.Series(arr, index=index)


def _people(values: pd.Series, name: str) -> tuple[np.ndarray, list[str]]:
    """People per origin as floats; refuse text and negative counts, report unknown ones (counted as 0)."""
    numbers = pd.to_numeric(values, errors="coerce")
    text = values.notna() & numbers.isna()
    problems = []
    if text.any():
        problems.append(
            f"{int(text.sum())} value(s) of {name} are not numbers (e.g. {_short(list(values[text].astype(str)), 3)}); "
            "people per origin must be numeric: clean the column"
        )
    bad = numbers.notna() & ~(np.isfinite(numbers.astype(float)) & (numbers >= 0))
    if bad.any():
        problems.append(
            f"{int(bad.sum())} value(s) of {name} are negative or infinite "
            f"(index {_short(list(values.index[bad]), 5)}); people per origin must be 0 or more: fix them or "
            "leave them empty (unknown)"
        )
    if problems:
        raise SchemaError("bad population weights: " + "; ".join(problems), problems)
    unknown = numbers.isna()
    notes = []
    if unknown.any():
        notes.append(
            f"{int(unknown.sum())} origin(s) have no {name} (unknown population), counted as homes but as 0 people: "
            f"{_short(list(values.index[unknown]))}"
        )
    return numbers.astype(float).fillna(0.0).to_numpy(), notes


def coverage(
    nearest: pd.DataFrame,
    *,
    threshold_m: float | None = None,
    by: str | pd.Series | Sequence[Any] | None = None,
    weights: str | pd.Series | Sequence[float] | None = None,
) -> pd.DataFrame:
    """Share of origins (and people) within ``threshold_m`` of each category, per group (覆盖率).

    Parameters
    ----------
    nearest : DataFrame
        From :func:`nearest`.
    threshold_m : float, optional
        Default: the 15-minute life-circle distance (``tz.rules.load("life_circle")``, 1000 m).
        Must not exceed the ``max_distance_m`` the distances were computed with (beyond it they
        are NaN, and coverage would be understated): that raises ``SchemaError``.
    by : str, Series or sequence, optional
        Group of each origin (e.g. ``homes["town_id"]``): a column of ``nearest``, a Series
        aligned on its index, or one value per row. Default: one group ``"all"``. Origins
        without a group form their own group (NaN), never dropped.
    weights : str, Series or sequence, optional
        People per origin (``homes["population"]``); adds the population columns. An unknown
        (missing) value counts as an origin with 0 people and is listed in ``attrs["problems"]``;
        text, negative or infinite values raise :class:`~tongzhen_gis.errors.SchemaError`.

    Returns
    -------
    pandas.DataFrame
        Indexed by (group, category), groups in order of first appearance, categories in
        catalogue order followed by ``all_categories`` (every category within reach: the
        八个一 complete). Columns: ``origins``, ``covered``, ``share``, ``unreachable``
        (origins off the network, counted as not covered), ``mean_categories_reached`` (same
        value on every row of a group), and with weights ``population``,
        ``covered_population``, ``population_share``. ``attrs["threshold_m"]`` holds the
        threshold; ``attrs["problems"]`` names origins without a weight.
    """
    t = _threshold(nearest, threshold_m)
    cats = _categories_of(nearest)
    idx = nearest.index
    if by is None:
        group = pd.Series("all", index=idx, name="group")
    elif isinstance(by, str) and by in nearest.columns:
        group = nearest[by].rename(by)
    else:
        group = _aligned(by, idx, "by")
    group_name = group.name if isinstance(group.name, str) else "group"
    within = nearest[cats].le(t)
    within[ALL_CATEGORIES] = within.all(axis=1) if cats else False
    n_reached = within[cats].sum(axis=1)
    reachable = nearest["reachable"] if "reachable" in nearest.columns else pd.Series(True, index=idx)
    w = None
    notes: list[str] = []
    if weights is not None:
        w = (
            nearest[weights]
            if isinstance(weights, str) and weights in nearest.columns
            else _aligned(weights, idx, "weights")
        )
        w, notes = _people(w, "weights" if w.name is None else repr(w.name))
        for note in notes:
            logger.warning(note)
    keys = pd.Index(group.to_numpy())
    codes, uniques = pd.factorize(keys, use_na_sentinel=False)
    rows = []
    for g_code, g in enumerate(uniques):
        sel = codes == g_code
        for c in [*cats, ALL_CATEGORIES]:
            hit = within[c].to_numpy()[sel]
            row = {
                group_name: g,
                "category": c,
                "origins": int(sel.sum()),
                "covered": int(hit.sum()),
                "share": float(hit.mean()) if sel.any() else np.nan,
                "unreachable": int((~reachable.to_numpy()[sel]).sum()),
                "mean_categories_reached": float(n_reached.to_numpy()[sel].mean()),
            }
            if w is not None:
                ww = w[sel]
                total = float(ww.sum())
                got = float(ww[hit].sum())
                row.update(
                    {
                        "population": total,
                        "covered_population": got,
                        "population_share": got / total if total > 0 else np.nan,
                    }
                )
            rows.append(row)
    columns = [group_name, "category", "origins", "covered", "share", "unreachable", "mean_categories_reached"]
    if w is not None:
        columns += ["population", "covered_population", "population_share"]
    out = pd.DataFrame(rows, columns=columns).set_index([group_name, "category"])
    out.attrs["threshold_m"] = t
    out.attrs["problems"] = notes
    return out


# ---------------------------------------------------------------------------- service areas
def service_areas(
    G: GraphLike,
    facilities: gpd.GeoDataFrame,
    *,
    thresholds_m: Sequence[float] | None = None,
    category_col: str = "category",
    categories: Sequence[str] | None = None,
    max_width_m: float = 50.0,
    max_snap_m: float = 200.0,
    touch_m: float = 15.0,
    entrances: gpd.GeoDataFrame | None = None,
    entrance_col: str = "facility",
    quad_segs: int = 16,
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
    thresholds_m : sequence of float, optional
        Walking distances. Default: every level of ``tz.rules.load("life_circle")`` (the 5-, 10-
        and 15-minute circles of GB 50180-2018: 300, 500 and 1000 m), see
        :func:`life_circle_distances_m`.
    category_col, categories, max_snap_m, touch_m, entrances, entrance_col
        As for :func:`nearest`.
    max_width_m : float, default 50
        Cap on the widening either side of a street (a plot's depth), metres.
    quad_segs : int, default 16
        Segments per quarter circle of the widening.

    Returns
    -------
    GeoDataFrame
        One row per (category, threshold), categories in catalogue order, thresholds ascending:
        ``category``, ``category_zh``, ``threshold_m``, ``area_m2``, ``street_m`` (length of
        street reached) and the geometry (empty when nothing is reached), in the network CRS.
    """
    net = prepare(G)
    if thresholds_m is None:
        thresholds_m = life_circle_distances_m()
    thresholds = sorted(float(t) for t in thresholds_m)
    if not thresholds or thresholds[0] < 0:
        msg = f"thresholds_m must be non-negative distances in metres, got {list(thresholds_m)}"
        raise SchemaError(msg, [msg])
    cats, sources, unreached = _sources_by_category(
        net,
        facilities,
        category_col=category_col,
        categories=categories,
        max_snap_m=max_snap_m,
        touch_m=touch_m,
        entrances=entrances,
        entrance_col=entrance_col,
    )
    node_dist = net.node_distances(sources, limit_m=thresholds[-1])
    names = _names_zh()
    rows, geoms = [], []
    for k, c in enumerate(cats):
        for t in thresholds:
            geom, street_m = _area(net, node_dist[k], sources[k], t, max_width_m=max_width_m, quad_segs=quad_segs)
            rows.append({"category": c, "category_zh": names.get(c, c), "threshold_m": t, "street_m": street_m})
            geoms.append(geom)
    out = gpd.GeoDataFrame(rows, geometry=geoms, crs=net.crs)
    out.insert(3, "area_m2", out.geometry.area)
    out.attrs["unreachable_facilities"] = unreached
    return out


def _edge_pieces(
    d_u: float, d_v: float, length: float, src: list[tuple[float, float, float]], t: float, cap: float
) -> list[tuple[float, float, float, float]]:
    """Reached pieces ``(s0, s1, r0, r1)`` of one edge: positions and widening radii, linear in between.

    The distance along the edge is the minimum of a few lines of slope +1, -1 or 0 (from the
    ``u`` end, the ``v`` end, and each source stretch on the edge). Cutting at every crossing of
    those lines, at every point where one of them equals ``t`` or ``t - cap``, and at the ends
    makes both the distance and the radius ``min(cap, t - distance)`` linear on each piece.
    """
    lines = [(1.0, d_u), (-1.0, d_v + length)]
    for a, b, leg in src:
        lines += [(-1.0, leg + a), (0.0, leg), (1.0, leg - b)]
    lines = [(m, q) for m, q in lines if np.isfinite(q)]
    if not lines:
        return []
    cuts = {0.0, length}
    for a, b, _ in src:
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
        for a, b, leg in src:
            d = np.minimum(d, leg + np.maximum(0.0, np.maximum(a - p, p - b)))
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
    on_edge: dict[int, list[tuple[float, float, float]]] = {}
    for e, a, b, leg in zip(src.edge, src.a_m, src.b_m, src.leg_m, strict=True):
        if leg <= t:
            on_edge.setdefault(int(e), []).append((float(a), float(b), float(leg)))
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


def _area(
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


# ---------------------------------------------------------------------------- suggest sites
def suggest_sites(
    G: GraphLike,
    homes: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    category: str,
    k: int = 1,
    candidates: gpd.GeoDataFrame | None = None,
    threshold_m: float | None = None,
    weights: str | None = "population",
    category_col: str = "category",
    max_snap_m: float = 200.0,
    touch_m: float = 15.0,
    batch_size: int = 512,
) -> gpd.GeoDataFrame:
    """The ``k`` sites that bring the most uncovered people within reach of ``category`` (补齐选址).

    Greedy maximum coverage: the site covering the most people not yet within ``threshold_m``
    of any facility of ``category`` is chosen first, the people it covers are marked covered,
    and so on. Greedy is within ``1 - 1/e`` of the best choice of ``k`` sites.

    Parameters
    ----------
    G : networkx graph or PreparedNetwork
    homes : GeoDataFrame
        Origins, with ``weights`` (people) per row; without it every home counts 1.
    facilities : GeoDataFrame
        Existing facilities (as for :func:`nearest`); may have none of ``category``.
    category : str
        A catalogue id.
    k : int, default 1
    candidates : GeoDataFrame, optional
        Candidate sites (points or polygons, snapped like facilities). Default: every network
        node (a site on a street crossing).
    threshold_m : float, optional
        Default: the 15-minute life-circle distance.
    weights : str or None, default "population"
        Column of ``homes`` with people; ignored (count homes) when absent or None. A missing
        value counts as 0 people.
    batch_size : int, default 512
        Candidates per Dijkstra batch (memory: ``batch_size × nodes`` floats).

    Returns
    -------
    GeoDataFrame
        Up to ``k`` rows in the order chosen: ``rank``, ``site`` (candidate index label, or
        network node id), ``added_population``, ``added_homes``, ``covered_population`` (people
        covered after this site), and the site's point. Stops early when no site adds anyone;
        ``attrs`` lists ``uncovered_before``, homes that cannot be covered (``not_coverable``: off
        the network) and ``problems`` (homes without a population, or no population column).
    """
    net = prepare(G)
    t = default_threshold_m() if threshold_m is None else float(threshold_m)
    if k < 1:
        msg = f"k must be at least 1, got {k}"
        raise SchemaError(msg, [msg])
    facilities, _ = _validate_facilities(facilities, category_col, None)
    if category not in categories():
        msg = f"unknown category {category!r}; valid ids: {', '.join(categories())}"
        raise SchemaError(msg, [msg])
    current = nearest(
        net,
        homes,
        facilities,
        category_col=category_col,
        max_distance_m=t,
        max_snap_m=max_snap_m,
        categories=[category],
        touch_m=touch_m,
    )
    if weights and weights in homes.columns:
        w, notes = _people(homes[weights], repr(weights))  # a home with unknown population adds no one
    else:
        w, notes = np.ones(len(homes)), [f"homes have no column {weights!r}: every home counts as 1 person"]
    for note in notes:
        logger.warning(note)
    reachable = current["reachable"].to_numpy()
    uncovered = reachable & ~(current[category].to_numpy() <= t)
    snap = net.snap(_to_points(homes, net.crs), max_snap_m=max_snap_m, ties=True)
    if candidates is None:
        site_labels = np.asarray(net.node_ids, dtype=object)
        site_points = shapely.points(net.x, net.y)
        site_sources = _node_sources(net)
    else:
        site_sources, _ = _facility_sources(
            net, candidates, max_snap_m=max_snap_m, touch_m=touch_m, entrances=None, entrance_col="facility"
        )
        site_labels = np.asarray(candidates.index, dtype=object)
        site_points = np.asarray(_to_points(candidates, net.crs), dtype=object)
    # which uncovered homes each site would bring within reach
    home_rows = np.flatnonzero(uncovered)
    # snap rows of the uncovered homes, and each row's position among them
    column_of = np.full(len(homes), -1, dtype=np.int64)
    column_of[home_rows] = np.arange(len(home_rows))
    sub_rows = np.flatnonzero(column_of[snap.point] >= 0)
    sub = snap.subset(sub_rows)
    sub_column = column_of[sub.point]
    usable = np.array([i for i, s in enumerate(site_sources) if len(s)], dtype=np.int64)
    if len(home_rows) and len(usable):
        # a walk is never shorter than the straight line: skip sites farther than t from every uncovered home
        home_pts = _to_points(homes.iloc[home_rows], net.crs)
        near = shapely.STRtree(home_pts).query(site_points[usable], predicate="dwithin", distance=t)
        usable = usable[np.unique(near[0])]
    cover_rows, cover_cols = [], []
    step = max(1, min(batch_size, int(2e7 // max(net.n_nodes, 1))))
    if len(home_rows):
        for start in range(0, len(usable), step):
            batch = usable[start : start + step]
            field = net.node_distances([site_sources[i] for i in batch], limit_m=t)
            for j, i in enumerate(batch):
                d = net.distances_at(field[j], sub, site_sources[i])
                hit = np.unique(sub_column[d <= t])
                cover_rows.append(np.full(len(hit), i))
                cover_cols.append(hit)
    rows_a = np.concatenate(cover_rows) if cover_rows else np.zeros(0, dtype=np.int64)
    cols_a = np.concatenate(cover_cols) if cover_cols else np.zeros(0, dtype=np.int64)
    matrix = sp.csr_matrix((np.ones(len(rows_a)), (rows_a, cols_a)), shape=(len(site_sources), len(home_rows)))
    weight = w[home_rows].copy()
    alive = np.ones(len(home_rows), dtype=bool)
    covered_pop = float(np.nansum(w[reachable & ~uncovered]))
    picks = []
    for rank in range(1, k + 1):
        gain = matrix @ np.where(alive, weight, 0.0)
        best = int(np.argmax(gain)) if len(gain) else -1
        if best < 0 or gain[best] <= 0:
            break
        newly = matrix.getrow(best).indices
        newly = newly[alive[newly]]
        alive[newly] = False
        covered_pop += float(gain[best])
        picks.append(
            {
                "rank": rank,
                "site": site_labels[best],
                "added_population": float(gain[best]),
                "added_homes": len(newly),
                "covered_population": covered_pop,
                "geometry": site_points[best],
            }
        )
    out = gpd.GeoDataFrame(
        picks or None,
        columns=["rank", "site", "added_population", "added_homes", "covered_population", "geometry"],
        geometry="geometry",
        crs=net.crs,
    )
    out.attrs.update(
        {
            "category": category,
            "threshold_m": t,
            "uncovered_before": list(homes.index[uncovered]),
            "not_coverable": list(homes.index[~reachable]),
            "problems": notes,
        }
    )
    return out


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
