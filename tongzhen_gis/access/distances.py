"""Walking distance from every home to the nearest facility of each category, and coverage per group."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from tongzhen_gis.access.catalogue import (
    ALL_CATEGORIES,
    CatalogueLike,
    catalogue_name,
    categories,
    category_distances,
)
from tongzhen_gis.access.engine import GraphLike, PreparedNetwork, Sources, prepare
from tongzhen_gis.access.sources import MAX_SNAP_M, TOUCH_M, _check_distances_m, _sources_by_category, _to_points
from tongzhen_gis.errors import OptionError, SchemaError

logger = logging.getLogger("tongzhen_gis.access")  # the public module, as before the split


def nearest(
    G: GraphLike,
    origins: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    category_col: str = "category",
    max_distance_m: float = 2000.0,
    max_snap_m: float = MAX_SNAP_M,
    categories: Sequence[str] | None = None,
    touch_m: float = TOUCH_M,
    entrances: gpd.GeoDataFrame | None = None,
    entrance_col: str = "facility",
    catalogue: CatalogueLike | None = None,
    engine: str = "local",
    parts: Sequence[Any] | pd.Series | None = None,
    scheduler: Any = None,
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
        Categories to compute, default the whole catalogue in its order. Categories absent from
        ``facilities`` still get a column, all NaN, and are listed in ``attrs["problems"]``.
        Given without ``catalogue``, any ids are accepted (classes ``c0``…``c7`` need no
        catalogue); facilities of other ids are then not used (noted in ``attrs["problems"]``).
    touch_m : float, default 15
        Polygon facilities are reached along streets within this distance of the polygon (half
        a typical street plus pavement). Not a policy number.
    entrances : GeoDataFrame, optional
        Entrance points; a facility that has entrances is reached only through them.
    entrance_col : str, default "facility"
        Column of ``entrances`` holding the facility's index label.
    catalogue : str, Path or RuleSet, optional
        The facility catalogue (see :func:`~tongzhen_gis.access.load_catalogue`): a shipped name
        (``"gb50180-2018"``), a path to a TOML file, or a RuleSet. Default: the "八个一"
        catalogue, unless ``categories`` is given.
    engine : {"local", "dask"}, default "local"
        ``"dask"`` cuts the origins into parts (``parts``), gives each part the network within
        the largest distance asked of its origins, and runs the parts on a dask distributed
        cluster (:mod:`~tongzhen_gis.access.parallel`); the numbers are those of ``"local"``.
    parts : sequence or Series, optional
        With ``engine="dask"``: a part label per origin (e.g. its town id). Default: square
        tiles of 10 km. Origins without a label are cut into tiles.
    scheduler : str or distributed.Client, optional
        With ``engine="dask"``: the scheduler's address (``"tcp://host:8786"``) or a client.
        Default: a ``LocalCluster`` on this machine, closed when done.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``origins`` (same order, every row): one float column per category
        (metres, NaN when none within ``max_distance_m`` or the origin is unreachable), then
        ``snap_m`` (straight distance to the nearest street, also for unreachable origins) and
        ``reachable`` (False when farther than ``max_snap_m`` or without geometry).
        ``attrs`` holds ``categories``, ``catalogue`` (its name, None when ``categories`` were
        given alone), ``distance_m`` and ``distance_from`` (each category's walking distance
        for :func:`coverage` and where it comes from), ``max_distance_m``, ``max_snap_m``,
        ``unreachable_origins``, ``unreachable_facilities`` and ``problems`` (sentences).

    Raises
    ------
    SchemaError
        Missing category column, unknown category ids in it (the message lists the valid ids).
    OptionError
        Unknown ids in ``categories``, or a negative ``max_distance_m``, ``max_snap_m`` or ``touch_m``.
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
    if engine not in ("local", "dask"):
        msg = f"engine={engine!r} is not known; use engine='local' (this process) or engine='dask' (a dask cluster)"
        raise OptionError(msg, param="engine")
    _check_distances_m(max_distance_m=max_distance_m)
    net = prepare(G)
    cats, sources, unreached_fac, notes = _sources_by_category(
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
    used = None if (categories is not None and catalogue is None) else catalogue_name(catalogue)
    distance_m, distance_from = category_distances(cats, catalogue=None if used is None else (catalogue or used))
    points = _to_points(origins, net.crs)
    if engine == "dask":
        from tongzhen_gis.access.parallel import distances_by_parts

        dist, leg, on = distances_by_parts(
            net, points, sources, max_distance_m=max_distance_m, max_snap_m=max_snap_m, parts=parts, scheduler=scheduler
        )
    else:
        dist, leg, on = point_distances(net, points, sources, max_distance_m=max_distance_m, max_snap_m=max_snap_m)
    result = pd.DataFrame(index=origins.index)
    for k, c in enumerate(cats):
        result[c] = dist[:, k]
    result["snap_m"] = leg
    result["reachable"] = on
    problems = list(notes)
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
            "catalogue": used,
            "distance_m": distance_m,
            "distance_from": distance_from,
            "max_distance_m": float(max_distance_m),
            "max_snap_m": float(max_snap_m),
            "unreachable_origins": unreachable_origins,
            "unreachable_facilities": unreached_fac,
            "problems": problems,
        }
    )
    return result


def point_distances(
    net: PreparedNetwork, points: np.ndarray, sources: list[Sources], *, max_distance_m: float, max_snap_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distances from points to each source set: ``(n_points, n_sets)`` (NaN beyond the limit), the legs, on-network.

    The core of :func:`nearest`, shared by its engines.
    """
    # a home exactly as near to two streets (mid-way between two dead ends) may use either: the best one counts
    snap = net.snap(points, max_snap_m=max_snap_m, ties=True)
    node_dist = net.node_distances(sources, limit_m=max_distance_m)
    n = len(points)
    on = np.zeros(n, dtype=bool)
    np.logical_or.at(on, snap.point, snap.ok)
    leg = np.full(n, np.nan)
    leg[snap.point] = snap.leg_m
    dist = np.full((n, len(sources)), np.inf)
    for k in range(len(sources)):
        d = dist[:, k]
        np.fmin.at(d, snap.point, net.distances_at(node_dist[k], snap, sources[k]))
        d[~(d <= max_distance_m)] = np.nan
    return dist, leg, on


def _short(labels: list[Any], limit: int = 10) -> str:
    text = ", ".join(str(v) for v in labels[:limit])
    return text + (f" … (+{len(labels) - limit})" if len(labels) > limit else "")


def _categories_of(nearest_df: pd.DataFrame) -> list[str]:
    cats = nearest_df.attrs.get("categories")
    if cats:
        return list(cats)
    return [c for c in categories() if c in nearest_df.columns]


# ---------------------------------------------------------------------------- coverage
Thresholds = float | Mapping[str, float] | None


def _distances(
    nearest: pd.DataFrame, threshold_m: Thresholds, catalogue: CatalogueLike | None
) -> tuple[list[str], dict[str, float], dict[str, str]]:
    """Each category's distance (and its source), refused beyond the distances computed.

    ``threshold_m`` None: the catalogue's ``distance_m`` per category (``catalogue``, else the
    distances :func:`nearest` recorded, else the default catalogue), falling back to the
    life-circle level; a number: that distance for all; a mapping: those categories, the rest
    as with None.
    """
    cats = _categories_of(nearest)
    recorded = nearest.attrs.get("distance_m")
    if catalogue is None and isinstance(recorded, Mapping) and all(c in recorded for c in cats):
        given = threshold_m if threshold_m is not None and not isinstance(threshold_m, Mapping) else None
        if given is not None:
            distance_m, source = category_distances(cats, threshold_m=given)
        else:
            distance_m = {c: float(recorded[c]) for c in cats}
            source = {c: str(nearest.attrs.get("distance_from", {}).get(c, "nearest")) for c in cats}
            if isinstance(threshold_m, Mapping) and threshold_m:
                override, how = category_distances(cats, threshold_m=threshold_m)
                for c in threshold_m:
                    distance_m[c], source[c] = override[c], how[c]
    else:
        if catalogue is None and "catalogue" in nearest.attrs:
            catalogue = nearest.attrs["catalogue"]
        elif catalogue is None:
            catalogue = catalogue_name(None)
        distance_m, source = category_distances(cats, catalogue=catalogue, threshold_m=threshold_m)
    computed = nearest.attrs.get("max_distance_m")
    beyond = {c: t for c, t in distance_m.items() if computed is not None and t > computed}
    if beyond:
        worst = max(beyond.values())
        msg = (
            f"distance(s) {beyond} m are beyond the max_distance_m={computed:g} the distances were computed with "
            f"(farther ones are NaN, so coverage would be understated); rerun nearest(..., max_distance_m={worst:g}) "
            "or more"
        )
        raise OptionError(msg, param="threshold_m")
    return cats, distance_m, source


def _within(nearest: pd.DataFrame, cats: list[str], distance_m: Mapping[str, float]) -> pd.DataFrame:
    """True where an origin has the category within that category's distance."""
    limits = pd.Series([distance_m[c] for c in cats], index=cats, dtype=float)
    return nearest[cats].le(limits, axis=1) if cats else pd.DataFrame(index=nearest.index)


def categories_reached(
    nearest: pd.DataFrame, *, threshold_m: Thresholds = None, catalogue: CatalogueLike | None = None
) -> pd.Series:
    """Number of categories within reach of each origin, each within its own distance (八个一 中可达的项数).

    Parameters
    ----------
    nearest : DataFrame
        From :func:`nearest`.
    threshold_m : float or mapping, optional
        As for :func:`coverage`. Default: each category's distance from the catalogue, falling
        back to the 15-minute life-circle distance.
    catalogue : str, Path or RuleSet, optional
        As for :func:`coverage`.

    Returns
    -------
    pandas.Series of int, indexed like ``nearest``; ``attrs["distance_m"]`` per category.
    """
    cats, distance_m, _ = _distances(nearest, threshold_m, catalogue)
    out = _within(nearest, cats, distance_m).sum(axis=1).astype(int).rename("categories_reached")
    out.attrs["distance_m"] = distance_m
    return out


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
    threshold_m: Thresholds = None,
    by: str | pd.Series | Sequence[Any] | None = None,
    weights: str | pd.Series | Sequence[float] | None = None,
    groups: Sequence[Any] | pd.Index | pd.Series | None = None,
    names: Mapping[Any, Any] | pd.Series | None = None,
    catalogue: CatalogueLike | None = None,
) -> pd.DataFrame:
    """Share of origins (and people) within each category's walking distance, per group (覆盖率).

    Parameters
    ----------
    nearest : DataFrame
        From :func:`nearest`.
    threshold_m : float or mapping, optional
        None (default): each category's own distance, ``distance_m`` in the catalogue, falling
        back to its life-circle level (the 15-minute distance, 1000 m, unless the entry or the
        catalogue names another level). A number: that distance for every category. A mapping
        ``{category: metres}``: those categories, the others as with None. No distance may
        exceed the ``max_distance_m`` the distances were computed with (beyond it they are NaN,
        and coverage would be understated): that raises ``SchemaError``.
    by : str, Series or sequence, optional
        Group of each origin (e.g. ``homes["town_id"]``): a column of ``nearest``, a Series
        aligned on its index, or one value per row. Default: one group ``"all"``. Origins
        without a group form their own group (NaN), never dropped.
    weights : str, Series or sequence, optional
        People per origin (``homes["population"]``); adds the population columns. An unknown
        (missing) value counts as an origin with 0 people and is listed in ``attrs["problems"]``;
        text, negative or infinite values raise :class:`~tongzhen_gis.errors.SchemaError`.
        The method that gave the people (``attrs["method"]`` of
        :func:`~tongzhen_gis.access.estimate_population`) is kept in ``attrs["population_method"]``.
    groups : sequence, optional
        Every group to list, in this order (e.g. ``towns["town_id"]``), also those without any
        origin: their rows have 0 origins, empty shares and a ``note``; groups of origins not
        in ``groups`` (no town, an unknown id) follow in order of first appearance.
    names : mapping or Series, optional
        Group id to name (``towns.set_index("town_id")["name_zh"]``): adds a ``name`` column.
    catalogue : str, Path or RuleSet, optional
        Where the per-category distances are read; default the one :func:`nearest` used.

    Returns
    -------
    pandas.DataFrame
        Indexed by (group, category), groups in order of first appearance (after ``groups``),
        categories in catalogue order followed by ``all_categories`` (every category within its
        own distance: the 八个一 complete). Columns: ``threshold_m`` (the distance used for the
        category; NaN on ``all_categories``), ``distance_from`` (where it comes from:
        ``catalogue <name>``, ``life circle <level>`` or ``threshold_m``), ``origins``,
        ``covered``, ``share``, ``unreachable`` (origins off the network, counted as not
        covered), ``mean_categories_reached`` (same value on every row of a group), and with
        weights ``population``, ``covered_population``, ``population_share``; with ``names`` a
        ``name`` column first, with ``groups`` a ``note`` column last. ``attrs`` holds
        ``distance_m`` (per category), ``threshold_m`` (the one distance when all categories
        share it, else None), ``catalogue`` (its name, None for ids given alone),
        ``population_method`` and ``problems`` (origins without a weight, groups without origins).
    """
    cats, distance_m, distance_from = _distances(nearest, threshold_m, catalogue)
    idx = nearest.index
    if by is None:
        group = pd.Series("all", index=idx, name="group")
    elif isinstance(by, str) and by in nearest.columns:
        group = nearest[by].rename(by)
    else:
        group = _aligned(by, idx, "by")
    group_name = group.name if isinstance(group.name, str) else "group"
    within = _within(nearest, cats, distance_m)
    within[ALL_CATEGORIES] = within.all(axis=1) if cats else False
    n_reached = within[cats].sum(axis=1)
    reachable = nearest["reachable"] if "reachable" in nearest.columns else pd.Series(True, index=idx)
    w = None
    notes: list[str] = []
    method = getattr(weights, "attrs", {}).get("method") if weights is not None else None
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
    codes, found = pd.factorize(keys, use_na_sentinel=False)
    listed = [] if groups is None else list(pd.unique(pd.Index(groups)))
    listed_codes = found.get_indexer(pd.Index(listed, dtype=found.dtype if len(found) else object))
    uniques = [*listed, *(g for i, g in enumerate(found) if i not in set(listed_codes))]
    code_of = [*listed_codes, *(i for i in range(len(found)) if i not in set(listed_codes))]
    empty_groups = []
    rows = []
    for g, g_code in zip(uniques, code_of, strict=True):
        sel = codes == g_code  # a listed group without origins has code -1: selects nothing
        if not sel.any():
            empty_groups.append(g)
        for c in [*cats, ALL_CATEGORIES]:
            hit = within[c].to_numpy()[sel]
            row = {
                group_name: g,
                "category": c,
                "threshold_m": distance_m.get(c, np.nan),
                "distance_from": distance_from.get(c, "each category's own distance"),
                "origins": int(sel.sum()),
                "covered": int(hit.sum()),
                "share": float(hit.mean()) if sel.any() else np.nan,
                "unreachable": int((~reachable.to_numpy()[sel]).sum()),
                "mean_categories_reached": float(n_reached.to_numpy()[sel].mean()) if sel.any() else np.nan,
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
    columns = [
        group_name,
        "category",
        "threshold_m",
        "distance_from",
        "origins",
        "covered",
        "share",
        "unreachable",
        "mean_categories_reached",
    ]
    if w is not None:
        columns += ["population", "covered_population", "population_share"]
    out = pd.DataFrame(rows, columns=columns).set_index([group_name, "category"])
    group_level = out.index.get_level_values(group_name)
    if names is not None:
        lookup = dict(names.items()) if isinstance(names, pd.Series | Mapping) else {}
        out.insert(0, "name", [lookup.get(g) for g in group_level])
    if groups is not None:
        note = "no homes in this town: shares empty"
        out["note"] = np.where(group_level.isin(empty_groups), note, "")
        if empty_groups:
            described = [f"{g} ({lookup[g]})" if names is not None and lookup.get(g) else str(g) for g in empty_groups]
            msg = f"{len(empty_groups)} group(s) have no origins, listed with empty shares: {_short(described)}"
            notes.append(msg)
            logger.warning(msg)
    common = set(distance_m.values())
    out.attrs["threshold_m"] = common.pop() if len(common) == 1 else None
    out.attrs["distance_m"] = distance_m
    out.attrs["distance_from"] = distance_from
    out.attrs["catalogue"] = (
        catalogue_name(catalogue) if catalogue is not None else nearest.attrs.get("catalogue", catalogue_name(None))
    )
    out.attrs["population_method"] = method if weights is not None else None
    out.attrs["problems"] = notes
    return out
