"""Results per home and per town: the town of each home, the per-home table, the gaps.

Decisions
---------
* A home belongs to the town containing a point inside it (shapely ``point_on_surface``, the
  point GeoPandas calls ``representative_point``), never to the town containing its whole
  polygon: a building drawn across a town boundary still gets exactly one town, the one
  holding that point, instead of none. The same point is what :func:`~tongzhen_gis.access.nearest`
  measures from, so a home's distances and its town refer to one place.
* A point on a boundary shared by two towns (or inside two overlapping towns) goes to the
  first of them in the towns layer's order, and is reported.
* A home in no town (or without geometry) is kept with a missing town and counted in
  ``attrs``, never dropped: :func:`~tongzhen_gis.access.coverage` gives it a group of its own.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from tongzhen_gis import schema
from tongzhen_gis.access.catalogue import ALL_CATEGORIES
from tongzhen_gis.access.distances import _categories_of, _short, categories_reached
from tongzhen_gis.access.sources import _geometries
from tongzhen_gis.errors import SchemaError


def assign_towns(homes: gpd.GeoDataFrame, towns: gpd.GeoDataFrame, *, id_col: str) -> pd.Series:
    """The town of each home: the town containing a point inside the home (所属镇).

    The point is shapely's ``point_on_surface`` of the home (the point itself for a point
    home), so a building across a town boundary gets the town that contains that point.

    Parameters
    ----------
    homes : GeoDataFrame
        Homes, buildings or parcels. Any CRS; the points are reprojected to the towns'.
    towns : GeoDataFrame
        Town boundaries.
    id_col : str
        Column of ``towns`` holding the town id.

    Returns
    -------
    pandas.Series
        Indexed like ``homes`` (same order, every row), named ``id_col``: the town id, missing
        for a home in no town or without geometry. ``attrs`` holds ``no_town`` (labels of the
        homes in no town), ``several_towns`` (homes whose point lies in more than one town,
        given the first in the towns' order) and ``problems`` (sentences).

    Raises
    ------
    SchemaError
        ``towns`` has no column ``id_col`` (``param="id_col"``).
    CRSError
        ``homes`` or ``towns`` without a CRS.

    Examples
    --------
    >>> import tongzhen_gis as tz
    >>> scene = tz.samples.sample_town()
    >>> town = tz.access.assign_towns(scene.homes, scene.towns, id_col="town_id")
    >>> scene.homes.loc[town.isna(), "home_id"].tolist()  # the farmhouse east of T3
    ['H_FARM']
    """
    if id_col not in towns.columns:
        columns = ", ".join(map(str, towns.columns.drop(towns.geometry.name)))
        msg = f"the towns layer has no column {id_col!r}; name its id column with id_col= (columns: {columns})"
        raise SchemaError(msg, [msg], param="id_col")
    town_geoms = _geometries(towns, towns.crs)
    home_geoms = _geometries(homes, homes.crs)
    usable = ~(shapely.is_missing(home_geoms) | shapely.is_empty(home_geoms))
    points = np.full(len(homes), None, dtype=object)
    points[usable] = shapely.point_on_surface(home_geoms[usable])
    if homes.crs != towns.crs:
        points = np.asarray(gpd.GeoSeries(points, crs=homes.crs).to_crs(towns.crs).values, dtype=object)
    home_pos, town_pos = shapely.STRtree(town_geoms).query(points, predicate="intersects")
    order = np.lexsort((town_pos, home_pos))
    home_pos, town_pos = home_pos[order], town_pos[order]
    first = np.r_[True, home_pos[1:] != home_pos[:-1]] if len(home_pos) else np.zeros(0, dtype=bool)
    found = pd.Series(towns[id_col].to_numpy()[town_pos[first]], index=home_pos[first])
    out = found.reindex(pd.RangeIndex(len(homes)))
    out.index = homes.index
    out.name = id_col
    several = list(homes.index[np.unique(home_pos[~first])])
    no_town = list(homes.index[out.isna().to_numpy()])
    problems = []
    if no_town:
        problems.append(f"{len(no_town)} home(s) lie in no town or have no geometry: {_short(no_town)}")
    if several:
        problems.append(
            f"{len(several)} home(s) lie on a boundary shared by towns or in overlapping towns, given the first "
            f"town of the towns layer: {_short(several)}"
        )
    out.attrs.update({"no_town": no_town, "several_towns": several, "problems": problems})
    return out


def home_table(
    homes: gpd.GeoDataFrame,
    nearest: pd.DataFrame,
    *,
    town: pd.Series | None = None,
    threshold_m: float | Mapping[str, float] | None = None,
) -> gpd.GeoDataFrame:
    """Every home with its walking distance to each category, its town and the categories it reaches.

    Parameters
    ----------
    homes : GeoDataFrame
        The origins :func:`~tongzhen_gis.access.nearest` was run on.
    nearest : DataFrame
        From :func:`~tongzhen_gis.access.nearest`, indexed like ``homes``.
    town : Series, optional
        The town of each home (e.g. from :func:`assign_towns`), aligned with ``homes``.
    threshold_m : float or mapping, optional
        For ``categories_reached`` (see :func:`~tongzhen_gis.access.coverage`); default each
        category's own distance from the catalogue, else the 15-minute life-circle distance.

    Returns
    -------
    GeoDataFrame
        ``homes``' columns, then ``<category>_m`` per category (metres, NaN when none within
        reach), ``snap_m``, ``reachable``, ``town`` (when given) and ``categories_reached``.

    Raises
    ------
    SchemaError
        ``nearest`` (or ``town``) is not indexed like ``homes``.
    """
    for name, values in (("nearest", nearest), ("town", town)):
        if values is not None and not values.index.equals(homes.index):
            msg = f"{name} is not indexed like homes; compute it on the same homes (same rows, same order)"
            raise SchemaError(msg, [msg], param=name)
    out = homes.copy()
    for c in _categories_of(nearest):
        out[f"{c}_m"] = nearest[c].to_numpy()
    out["snap_m"] = nearest["snap_m"].to_numpy()
    out["reachable"] = nearest["reachable"].to_numpy()
    if town is not None:
        out["town"] = town.to_numpy()
    out["categories_reached"] = categories_reached(nearest, threshold_m=threshold_m).to_numpy()
    return out


def gaps(coverage: pd.DataFrame) -> pd.DataFrame:
    """The (group, category) pairs where no origin reaches the category: the town lacks it (缺项).

    Parameters
    ----------
    coverage : DataFrame
        From :func:`~tongzhen_gis.access.coverage` (grouped by town).

    Returns
    -------
    pandas.DataFrame
        The rows of ``coverage`` with ``covered == 0``, leaving out ``all_categories``, the
        group of origins without a group (homes in no town, which no town lacks) and towns
        without any home (listed by ``groups=``: nothing to measure there, they carry a note).
    """
    group = coverage.index.get_level_values(0)
    category = coverage.index.get_level_values("category")
    measured = (coverage["origins"] > 0).to_numpy()
    return coverage.loc[group.notna() & (category != ALL_CATEGORIES) & (coverage["covered"] == 0).to_numpy() & measured]


def town_names(towns: gpd.GeoDataFrame, *, id_col: str, name_col: str | None = None) -> pd.Series | None:
    """Each town's name by its id, for :func:`~tongzhen_gis.access.coverage` (``names=``).

    Parameters
    ----------
    towns : GeoDataFrame
        The towns layer.
    id_col : str
        Its id column.
    name_col : str, optional
        Its name column. Default: the first present of ``name_zh`` and the aliases the schema
        accepts for it (``名称``, ``小镇名称``, ``name`` …); None when there is none.

    Returns
    -------
    pandas.Series or None
        Names indexed by town id, in the layer's order.

    Raises
    ------
    SchemaError
        ``name_col`` (or ``id_col``) is not a column of the towns layer.
    """
    for param, col in (("id_col", id_col), ("name_col", name_col)):
        if col is not None and col not in towns.columns:
            msg = f"the towns layer has no column {col!r}; its columns: {', '.join(map(str, towns.columns))}"
            raise SchemaError(msg, [msg], param=param)
    if name_col is None:
        table = schema.roles_table()
        row = table[(table["role"] == "towns") & (table["column"] == "name_zh")]
        aliases = [a.strip() for a in row["aliases"].iloc[0].split(",")] if len(row) else []
        name_col = next((c for c in ["name_zh", *aliases] if c in towns.columns), None)
        if name_col is None:
            return None
    return pd.Series(towns[name_col].to_numpy(), index=towns[id_col].to_numpy(), name=name_col)


def share_table(coverage: pd.DataFrame) -> pd.DataFrame:
    """Coverage as a table: one row per group, one column per category then ``all_categories``.

    The share of people (``population_share``) when :func:`~tongzhen_gis.access.coverage` had
    weights, else the share of homes (``share``); ``attrs["column"]`` says which, and
    ``attrs["distance_m"]`` the walking distance each category was checked at.
    """
    col = "population_share" if "population_share" in coverage.columns else "share"
    categories = [c for c in pd.unique(coverage.index.get_level_values("category")) if c != ALL_CATEGORIES]
    table = coverage[col].unstack("category").reindex(columns=[*categories, ALL_CATEGORIES])
    table.attrs["column"] = col
    table.attrs["distance_m"] = dict(coverage.attrs.get("distance_m", {}))
    return table
