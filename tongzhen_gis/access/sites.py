"""Where a new facility would bring the most people within reach (补齐选址)."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely

from tongzhen_gis import schema
from tongzhen_gis.access.catalogue import CatalogueLike, catalogue_name, category_distances
from tongzhen_gis.access.distances import _aligned, _people, nearest
from tongzhen_gis.access.engine import GraphLike, PreparedNetwork, Sources, prepare
from tongzhen_gis.access.sources import (
    MAX_SNAP_M,
    TOUCH_M,
    _facility_sources,
    _node_sources,
    _to_points,
    _validate_facilities,
)
from tongzhen_gis.errors import OptionError

logger = logging.getLogger("tongzhen_gis.access")  # the public module, as before the split


def suggest_sites(
    G: GraphLike,
    homes: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    category: str,
    k: int = 1,
    candidates: gpd.GeoDataFrame | None = None,
    threshold_m: float | None = None,
    weights: str | pd.Series | None = "population",
    category_col: str = "category",
    max_snap_m: float = MAX_SNAP_M,
    touch_m: float = TOUCH_M,
    batch_size: int = 512,
    catalogue: CatalogueLike | None = None,
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
        Default: the category's own distance (``distance_m`` in the catalogue), falling back to
        its life-circle level (the 15-minute distance).
    weights : str, Series or None, default "population"
        Column of ``homes`` with people (``"population"`` is also found under its accepted
        names 人口, 常住人口, renkou, pop …: ``rules/schema.toml``), or the people themselves (a Series aligned on
        ``homes``, e.g. from :func:`~tongzhen_gis.access.estimate_population`, whose method is
        kept in ``attrs["population_method"]``); ignored (count homes) when absent or None. A
        missing value counts as 0 people.
    batch_size : int, default 512
        Candidates per Dijkstra batch (memory: ``batch_size × nodes`` floats).
    catalogue : str, Path or RuleSet, optional
        The facility catalogue ``category`` belongs to (default the "八个一" catalogue).

    Returns
    -------
    GeoDataFrame
        Up to ``k`` rows in the order chosen: ``rank``, ``site`` (candidate index label, or
        network node id), ``added_population``, ``added_homes``, ``covered_population`` (people
        covered after this site), and the site's point. Stops early when no site adds anyone;
        ``attrs`` lists ``category``, ``threshold_m`` and ``distance_from`` (the distance used and
        where it comes from), ``population_method`` (when the people came from
        :func:`~tongzhen_gis.access.estimate_population`), ``uncovered_before``, homes that cannot
        be covered (``not_coverable``: off the network) and ``problems`` (homes without a
        population, or no population column).
    """
    net = prepare(G)
    if k < 1:
        msg = f"k must be at least 1, got {k}"
        raise OptionError(msg, param="k")
    facilities, valid, _ = _validate_facilities(facilities, category_col, None, catalogue)
    if category not in valid:
        msg = f"unknown category {category!r}; valid ids: {', '.join(valid)}"
        raise OptionError(msg, param="category")
    distance_m, distance_from = category_distances([category], catalogue=catalogue, threshold_m=threshold_m)
    t, t_from = distance_m[category], distance_from[category]
    current = nearest(
        net,
        homes,
        facilities,
        category_col=category_col,
        max_distance_m=t,
        max_snap_m=max_snap_m,
        categories=[category],
        touch_m=touch_m,
        catalogue=catalogue if catalogue is not None else catalogue_name(None),
    )
    method = None
    if isinstance(weights, pd.Series):
        w, notes = _people(_aligned(weights, homes.index, "weights"), "weights")
        method = weights.attrs.get("method")
    elif weights and (column := schema.find_column(homes, "homes", weights)) is not None:  # 人口, pop … too
        w, notes = _people(homes[column], repr(column))  # a home with unknown population adds no one
    else:
        looked = schema.absent_column_hint(homes.columns, "homes", weights) if weights else "no column named"
        note = f"homes have no column {weights!r} ({looked}): every home counts as 1 person"
        w, notes = np.ones(len(homes)), [note]
    for note in notes:
        logger.warning(note)
    reachable = current["reachable"].to_numpy()
    uncovered = reachable & ~(current[category].to_numpy() <= t)
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
    home_rows = np.flatnonzero(uncovered)
    matrix = _coverage_matrix(
        net, homes, home_rows, site_sources, site_points, threshold_m=t, max_snap_m=max_snap_m, batch_size=batch_size
    )
    covered_pop = float(np.nansum(w[reachable & ~uncovered]))
    picks = []
    for rank, (best, gain, added_homes) in enumerate(greedy_max_coverage(matrix, w[home_rows], k=k), start=1):
        covered_pop += gain
        picks.append(
            {
                "rank": rank,
                "site": site_labels[best],
                "added_population": gain,
                "added_homes": added_homes,
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
            "distance_from": t_from,
            "population_method": method,
            "uncovered_before": list(homes.index[uncovered]),
            "not_coverable": list(homes.index[~reachable]),
            "problems": notes,
        }
    )
    return out


def _coverage_matrix(
    net: PreparedNetwork,
    homes: gpd.GeoDataFrame,
    home_rows: np.ndarray,
    site_sources: list[Sources],
    site_points: np.ndarray,
    *,
    threshold_m: float,
    max_snap_m: float,
    batch_size: int,
) -> sp.csr_matrix:
    """Which of the homes ``home_rows`` each site would bring within ``threshold_m``: sites × homes, 1 = covered.

    Sites without a source (off the network) and sites farther than ``threshold_m`` in a
    straight line from every home (a walk is never shorter) cover no one and are not walked.
    """
    t = threshold_m
    snap = net.snap(_to_points(homes, net.crs), max_snap_m=max_snap_m, ties=True)
    # snap rows of the homes asked, and each row's position among them
    column_of = np.full(len(homes), -1, dtype=np.int64)
    column_of[home_rows] = np.arange(len(home_rows))
    sub_rows = np.flatnonzero(column_of[snap.point] >= 0)
    sub = snap.subset(sub_rows)
    sub_column = column_of[sub.point]
    usable = np.array([i for i, s in enumerate(site_sources) if len(s)], dtype=np.int64)
    if len(home_rows) and len(usable):
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
    return sp.csr_matrix((np.ones(len(rows_a)), (rows_a, cols_a)), shape=(len(site_sources), len(home_rows)))


def greedy_max_coverage(
    cover: sp.spmatrix | np.ndarray, weights: np.ndarray, *, k: int
) -> list[tuple[int, float, int]]:
    """Pick up to ``k`` sites by greedy maximum coverage (the pure step of :func:`suggest_sites`).

    At each step the site whose not-yet-covered homes weigh the most is picked (the first
    such site on a tie), and its homes are marked covered. Stops early when no site adds any
    weight. The total weight covered is within ``1 - 1/e`` of the best choice of ``k`` sites.

    Parameters
    ----------
    cover : sparse matrix or array, shape (sites, homes)
        Non-zero where the site covers the home.
    weights : array, shape (homes,)
        People per home (0 or more).
    k : int
        At most this many sites.

    Returns
    -------
    list of (int, float, int)
        Per pick, in order: the site's row, the weight it adds and the number of homes it adds.

    Examples
    --------
    >>> import numpy as np
    >>> cover = np.array([[1, 1, 0], [0, 1, 1], [0, 0, 1]])
    >>> greedy_max_coverage(cover, np.array([1.0, 2.0, 4.0]), k=3)
    [(1, 6.0, 2), (0, 1.0, 1)]
    """
    matrix = sp.csr_matrix(cover, dtype=float)
    matrix.data[:] = 1.0
    weight = np.asarray(weights, dtype=float)
    alive = np.ones(matrix.shape[1], dtype=bool)
    picks = []
    for _ in range(k):
        gain = matrix @ np.where(alive, weight, 0.0)
        best = int(np.argmax(gain)) if len(gain) else -1
        if best < 0 or gain[best] <= 0:
            break
        newly = matrix.getrow(best).indices
        newly = newly[alive[newly]]
        alive[newly] = False
        picks.append((best, float(gain[best]), len(newly)))
    return picks
