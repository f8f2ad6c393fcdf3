"""Residents per building (居住人口估算): floor area, known totals shared out, or a population raster.

Three methods, chosen by what is given (:func:`estimate_population`):

* ``floor_area`` (default): residential floor area (footprint × floors, on residential land)
  divided by the floor area per person, ``tz.rules.load("population")`` parameter
  ``floor_area_per_person_m2`` (the 2020 census figure for urban housing per person, marked
  unconfirmed) or ``per_capita_m2=``.
* ``dasymetric`` (``totals=``): the known population of each 街道/社区 polygon shared over the
  residential floor area of the buildings inside it, so each total is kept exactly (to the
  person, by largest remainders, when the totals are whole numbers).
* ``raster`` (``raster=``): a population raster (e.g. WorldPop) summed per building footprint
  with exact cell coverage (:func:`tongzhen_gis.raster.zonal`, exactextract).

Decisions
---------
* A building is residential when its use column (``use_col``) says so — a dwelling word of
  ``tz.rules.load("population")["residential_uses"]`` or a 用地用海 code of the residential
  group (decided by :func:`tongzhen_gis.schema.landuse_classes`, as in every module) — or, failing
  that, when a point inside it lies on a residential parcel (``parcels``). Anything else gets
  0 people and is counted (``attrs["non_residential"]``), never guessed.
* A building whose use, parcel or floors cannot be known gets NaN (unknown, listed), never a
  guess: :func:`~tongzhen_gis.access.coverage` counts it as a home with 0 people and says so.
* Floors come from :func:`tongzhen_gis.intensity.building_floor_area` (floors, else height ÷
  the storey height of the intensity rules). Footprints are measured in a metric CRS.
* The raster method needs no residential information (the raster already says where people
  are); when it is given, non-residential footprints get 0.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from tongzhen_gis import rules, schema
from tongzhen_gis.access.distances import _short
from tongzhen_gis.access.sources import _geometries
from tongzhen_gis.crs import to_metric
from tongzhen_gis.errors import OptionError, SchemaError
from tongzhen_gis.raster import Raster, zonal

logger = logging.getLogger("tongzhen_gis.access")

#: The methods, as written in ``attrs["method"]``, with their Chinese labels.
METHODS_ZH = {
    "floor_area": "住宅建筑面积 ÷ 人均住房建筑面积",
    "dasymetric": "已知人口按住宅建筑面积分配",
    "raster": "人口栅格",
}


def estimate_population(
    buildings: gpd.GeoDataFrame,
    *,
    parcels: gpd.GeoDataFrame | None = None,
    per_capita_m2: float | None = None,
    totals: gpd.GeoDataFrame | None = None,
    raster: Raster | None = None,
    use_col: str | None = None,
    landuse_col: str = "landuse_code",
    floors_col: str = "floors",
    height_col: str | None = None,
    totals_col: str = "population",
    rules_name: str = "population",
) -> pd.Series:
    """Residents of each building, and the method that gave them (居住人口估算).

    Parameters
    ----------
    buildings : GeoDataFrame
        Footprints (polygons) with a CRS; ``floors_col`` / ``height_col`` for the floor-area
        methods; ``use_col`` when they carry their use.
    parcels : GeoDataFrame, optional
        Land-use parcels with ``landuse_col`` (用地用海 codes): a building is residential when a
        point inside it lies on a residential parcel.
    per_capita_m2 : float, optional
        Floor area per person; default the ``floor_area_per_person_m2`` parameter of the
        ``population`` rules (2020 census, urban households: 36.52 m², unconfirmed).
    totals : GeoDataFrame, optional
        街道/社区 polygons with a population column ``totals_col``: method ``dasymetric``.
    raster : tz.raster.Raster, optional
        People per cell: method ``raster``.
    use_col : str, optional
        Building use column (``"residential"``, ``"住宅"``, ``"0701"`` …).
    landuse_col : str, default "landuse_code"
        Land-use code column of ``parcels``.
    floors_col, height_col : str
        As for :func:`tongzhen_gis.intensity.building_floor_area`.
    totals_col : str, default "population"
        Population column of ``totals``.
    rules_name : str, default "population"
        Rule file with ``floor_area_per_person_m2`` and ``residential_uses``.

    Returns
    -------
    pandas.Series
        Residents per building, indexed like ``buildings``, named ``population``: 0 for a
        non-residential building, NaN when it cannot be known (listed). ``attrs``: ``method``
        (``floor_area``, ``dasymetric`` or ``raster``), ``method_zh``, ``per_capita_m2`` and
        ``per_capita_source`` (floor-area methods), ``residential``, ``non_residential`` and
        ``unknown`` (counts), ``unknown_index``, ``unplaced`` (dasymetric: zones whose people
        found no residential building, ``{zone row: people}``) and ``problems`` (sentences).

    Raises
    ------
    OptionError
        Both ``totals`` and ``raster``; a floor area per person that is not positive.
    SchemaError
        No way to tell residential buildings (floor-area methods without ``parcels`` or
        ``use_col``), or missing columns.

    Examples
    --------
    >>> import geopandas as gpd
    >>> import tongzhen_gis as tz
    >>> from shapely import box
    >>> b = gpd.GeoDataFrame({"use": ["住宅", "office"], "floors": [6, 10]},
    ...                      geometry=[box(0, 0, 20, 10), box(50, 0, 70, 10)], crs="EPSG:4549")
    >>> p = tz.access.estimate_population(b, use_col="use", per_capita_m2=40)
    >>> p.tolist(), p.attrs["method"]
    ([30.0, 0.0], 'floor_area')
    """
    if totals is not None and raster is not None:
        msg = "give totals= (known population per zone) or raster= (a population raster), not both"
        raise OptionError(msg, param="totals")
    method = "raster" if raster is not None else "dasymetric" if totals is not None else "floor_area"
    ruleset = rules.load(rules_name)
    problems: list[str] = []
    footprints = to_metric(buildings)
    residential = _residential(footprints, parcels, use_col, landuse_col, ruleset, method, problems)
    attrs: dict[str, Any] = {"method": method, "method_zh": METHODS_ZH[method]}
    if raster is not None:  # method "raster"
        people = _from_raster(footprints, raster, problems)
    else:
        floor_m2 = _residential_floor_area(footprints, residential, floors_col, height_col, problems)
        if method == "floor_area":
            per, source = _per_capita(ruleset, per_capita_m2)
            attrs.update(per_capita_m2=per, per_capita_source=source)
            people = floor_m2 / per
        else:
            people, unplaced = _dasymetric(footprints, floor_m2, totals, totals_col, problems)
            attrs["unplaced"] = unplaced
    is_home = residential.fillna(value=False).astype(bool)
    not_home = (~residential).fillna(value=False).astype(bool)
    if method != "raster":
        people = people.where(residential.notna().to_numpy())
    people = people.mask(not_home.to_numpy(), 0.0)
    unknown = people.isna()
    if unknown.any():
        problems.append(
            f"{int(unknown.sum())} building(s) have an unknown population (use, parcel or floors unknown): "
            f"{_short(list(buildings.index[unknown.to_numpy()]))}"
        )
    for p in problems:
        logger.warning(p)
    out = pd.Series(people.to_numpy(dtype=float), index=buildings.index, name="population")
    out.attrs.update(
        attrs,
        residential=int(is_home.sum()),
        non_residential=int(not_home.sum()),
        unknown=int(unknown.sum()),
        unknown_index=list(buildings.index[unknown.to_numpy()]),
        problems=problems,
    )
    return out


def _per_capita(ruleset: rules.RuleSet, per_capita_m2: float | None) -> tuple[float, str]:
    if per_capita_m2 is None:
        param = ruleset.parameters["floor_area_per_person_m2"]
        flag = "" if param.confirmed else ", unconfirmed"
        return param.value, f"{param.document}: {param.clause}{flag}"
    per = float(per_capita_m2)
    if not per > 0:
        msg = f"per_capita_m2 must be a positive floor area per person in m², got {per_capita_m2!r}"
        raise OptionError(msg, param="per_capita_m2")
    return per, "per_capita_m2 (given)"


def _residential(
    footprints: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame | None,
    use_col: str | None,
    landuse_col: str,
    ruleset: rules.RuleSet,
    method: str,
    problems: list[str],
) -> pd.Series:
    """True / False per building, missing when it cannot be known (nullable boolean)."""
    out = pd.Series(pd.NA, index=footprints.index, dtype="boolean")
    if use_col is None and parcels is None:
        if method != "raster":
            msg = (
                "cannot tell which buildings are homes: pass parcels= (land-use parcels, residential = 用地用海 07) "
                "or use_col= (a building use column); nothing is guessed"
            )
            raise SchemaError(msg, [msg], param="parcels")
        problems.append("no parcels or use column: every footprint may hold people (the raster decides)")
        return out
    if use_col is not None:
        if use_col not in footprints.columns:
            msg = f"buildings have no use column {use_col!r}; columns: {', '.join(map(str, footprints.columns))}"
            raise SchemaError(msg, [msg], param="use_col")
        out = _use_is_residential(footprints[use_col], ruleset)
    if parcels is not None and out.isna().any():
        if landuse_col not in parcels.columns:
            msg = f"parcels have no land-use column {landuse_col!r}; name it with landuse_col="
            raise SchemaError(msg, [msg], param="landuse_col")
        classes = schema.landuse_classes(parcels[landuse_col].reset_index(drop=True))
        invalid = classes["code"].notna() & ~classes["valid"]
        if invalid.any():
            problems.append(
                f"parcels: {int(invalid.sum())} land-use code(s) are not 用地用海 codes "
                f"(e.g. {_short(list(classes.loc[invalid, 'code']), 3)}): buildings on them have an unknown use"
            )
        flag = classes["residential"].astype("boolean").mask(~classes["valid"].to_numpy())
        on_parcel = _parcel_of(footprints, parcels)
        known = on_parcel >= 0
        from_parcels = pd.Series(pd.NA, index=footprints.index, dtype="boolean")
        from_parcels[known] = flag.to_numpy()[on_parcel[known]]
        out = out.fillna(from_parcels)
        outside = int((~known).sum())
        if outside:
            problems.append(f"{outside} building(s) lie on no parcel: their use is unknown")
    return out


def _use_is_residential(values: pd.Series, ruleset: rules.RuleSet) -> pd.Series:
    """A use column: 用地用海 codes by :func:`tongzhen_gis.schema.landuse_classes`, else the dwelling words."""
    words = {str(w).casefold() for w in ruleset["residential_uses"]["values"]}
    text = values.astype("string").str.strip()
    classes = schema.landuse_classes(text.reset_index(drop=True))
    is_code = classes["valid"].to_numpy(dtype=bool)
    flag = text.str.casefold().isin(words).to_numpy(dtype=bool).copy()
    flag[is_code] = classes["residential"].to_numpy(dtype=bool)[is_code]
    return pd.Series(flag, index=values.index, dtype="boolean").mask((text.fillna("") == "").to_numpy())


def _parcel_of(footprints: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame) -> np.ndarray:
    """Row of the parcel holding a point inside each building (first in parcel order), -1 for none."""
    geoms = _geometries(footprints, footprints.crs)
    usable = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    points = np.full(len(geoms), None, dtype=object)
    points[usable] = shapely.point_on_surface(geoms[usable])
    parcel_geoms = _geometries(parcels, footprints.crs)
    b, p = shapely.STRtree(parcel_geoms).query(points, predicate="intersects")
    out = np.full(len(geoms), -1, dtype=np.int64)
    order = np.lexsort((p, b))
    b, p = b[order], p[order]
    first = np.r_[True, b[1:] != b[:-1]] if len(b) else np.zeros(0, dtype=bool)
    out[b[first]] = p[first]
    return out


def _residential_floor_area(
    footprints: gpd.GeoDataFrame, residential: pd.Series, floors_col: str, height_col: str | None, problems: list[str]
) -> pd.Series:
    """Footprint × floors for residential buildings (0 for others, NaN when floors are unknown)."""
    from tongzhen_gis.intensity import building_floor_area

    floors = building_floor_area(footprints, floors_col=floors_col, height_col=height_col)["floors"]
    area = footprints.geometry.area
    floor_m2 = (area * floors).where(residential.fillna(value=False).to_numpy(), 0.0)
    no_floors = residential.fillna(value=False).astype(bool) & floors.isna()
    if no_floors.any():
        problems.append(
            f"{int(no_floors.sum())} residential building(s) have neither floors nor height: population unknown "
            f"({_short(list(footprints.index[no_floors.to_numpy()]))})"
        )
    return floor_m2.where(~no_floors.to_numpy())


def _dasymetric(
    footprints: gpd.GeoDataFrame, floor_m2: pd.Series, totals: gpd.GeoDataFrame, totals_col: str, problems: list[str]
) -> tuple[pd.Series, dict[Any, float]]:
    """Each zone's total shared over the residential floor area inside it; largest remainders for whole totals."""
    if totals_col not in totals.columns:
        msg = f"totals have no population column {totals_col!r}; name it with totals_col="
        raise SchemaError(msg, [msg], param="totals_col")
    values = pd.to_numeric(totals[totals_col], errors="coerce")
    bad = values.isna() | (values < 0)
    if bad.any():
        rows = _short(list(totals.index[bad]))
        msg = f"totals: {int(bad.sum())} zone(s) have no population or a negative one (rows {rows}); fix {totals_col!r}"
        raise SchemaError(msg, [msg], param="totals_col")
    zone = _parcel_of(footprints, totals)
    outside = zone < 0
    if outside.any():
        problems.append(
            f"{int(outside.sum())} building(s) lie in no zone of totals: population unknown "
            f"({_short(list(footprints.index[outside]))})"
        )
    weight = floor_m2.to_numpy(dtype=float)
    unknown_weight = np.isnan(weight) & ~outside
    if unknown_weight.any():
        problems.append(
            f"{int(unknown_weight.sum())} residential building(s) without floors take no share of their zone's total; "
            "the total goes to the other homes of the zone"
        )
    people = np.full(len(weight), np.nan)
    people[~outside & ~np.isnan(weight)] = 0.0
    whole = bool(np.all(np.mod(values.to_numpy(dtype=float), 1.0) == 0.0))
    unplaced: dict[Any, float] = {}
    for z, total in enumerate(values.to_numpy(dtype=float)):
        members = np.flatnonzero((zone == z) & ~np.isnan(weight))
        w = weight[members]
        if total > 0 and (len(members) == 0 or w.sum() <= 0):
            unplaced[totals.index[z]] = float(total)
            continue
        if total == 0 or len(members) == 0:
            continue
        people[members] = _largest_remainder(total, w) if whole else total * w / w.sum()
    if unplaced:
        problems.append(
            f"{len(unplaced)} zone(s) of totals hold people but no residential floor area: {_short(list(unplaced))} "
            f"({sum(unplaced.values()):g} people not placed)"
        )
    return pd.Series(people, index=footprints.index), unplaced


def _largest_remainder(total: float, weights: np.ndarray) -> np.ndarray:
    """Whole numbers proportional to ``weights`` summing exactly to ``total`` (Hamilton's method).

    Ties in the fractional parts go to the earlier building.

    Examples
    --------
    >>> _largest_remainder(10, np.array([1.0, 1.0, 1.0])).tolist()
    [4.0, 3.0, 3.0]
    """
    quota = total * weights / weights.sum()
    base = np.floor(quota)
    left = round(float(total - base.sum()))
    order = np.argsort(-(quota - base), kind="stable")
    base[order[:left]] += 1.0
    return base


def _from_raster(footprints: gpd.GeoDataFrame, raster: Raster, problems: list[str]) -> pd.Series:
    """People per footprint: the raster summed with exact cell coverage (exactextract)."""
    stats = zonal(footprints, raster, stats=("sum",))
    problems.extend(f"raster: {p}" for p in stats.attrs.get("problems", []))
    return pd.Series(stats["sum"].to_numpy(dtype=float), index=footprints.index)


def describe(population: pd.Series | Mapping[str, Any]) -> str:
    """One sentence saying which method gave the people and what was left at 0 or unknown.

    Parameters
    ----------
    population : Series or its ``attrs``
        From :func:`estimate_population`.
    """
    a = population.attrs if isinstance(population, pd.Series) else population
    method = a.get("method", "column")
    text = f"people from {method} ({METHODS_ZH.get(method, 'given column')})"
    if "per_capita_m2" in a:
        text += f", {a['per_capita_m2']:g} m² per person ({a.get('per_capita_source', '')})"
    if "non_residential" in a:
        text += f"; {a['non_residential']} non-residential building(s) at 0, {a.get('unknown', 0)} unknown"
    return text
