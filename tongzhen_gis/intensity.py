"""Land-use intensity (用地集约): land structure, FAR, building coverage, 亩均 figures, raster zones.

The national guideline (全国特色小镇规范健康发展导则) asks a town to use land intensively and
not to drift into real estate. This module measures, per town:

* land structure from land-use parcels (用地用海 codes): construction land (建设用地) and its
  share of the town (开发强度), residential share of construction land, industrial share,
  green share (用地 14 over town area) and every first-level class's share;
* building intensity from footprints: floor area, 综合容积率 (FAR, floor area on construction
  land over construction land), gross FAR (all floor area over town area) and 建筑密度
  (footprint on construction land over construction land), following TD/T 1029;
* 亩均 figures from an enterprise table: tax, cumulative investment and output per 亩 of
  construction land, R&D intensity, labour productivity, jobs.

Raster zones (:func:`zonal`), a FAR heat-map raster (:func:`floor_area_grid`) and the Zhejiang
亩均论英雄 firm score (:func:`firm_scores`) live here too.

Decisions (also stated in each function's docstring)
----------------------------------------------------
* Every layer is reprojected to the metric CRS of the towns (:func:`tongzhen_gis.crs.to_metric`).
* Parcels and buildings straddling a town boundary are apportioned by intersected area
  (exact polygon intersections, never centroids).
* Which codes are construction, residential, industrial and green land is decided by
  :func:`tongzhen_gis.schema.landuse_classes` from ``tz.rules.load("landuse")["groups"]`` (a
  code belongs to a group when it starts with one of its entries, so ``construction_extra``
  codes such as ``"0601"`` count). A town that no parcel reaches has unknown land use: its
  land figures are NaN (reported), not zero, so its rules are ``missing``, not failed.
* Overlapping parcels are counted once. Where parcels of a town overlap, the land goes to the
  class that takes precedence: construction land before any other land (so construction land
  is the union of the construction parcels), then the order ``[groups] precedence`` of the
  land-use rules (residential first, green last among construction classes; ties: the
  earlier row). The overlap area is ``parcel_overlap_m2``; above the
  ``parcel_overlap_tolerance_m2`` parameter it is reported. Only overlapping parcels are cut
  (one STRtree self-query per run, ``tongzhen_gis/_overlay.py``); the rest are summed as they are.
* ``far`` (综合容积率) and ``building_coverage`` (建筑密度) divide only the building parts
  standing on construction land by the construction land (TD/T 1029); ``gross_far`` divides
  every building in the town by the town area. ``footprint_off_construction_share`` says how
  much footprint was left out; above the ``footprint_off_construction_note_share`` parameter
  (20 %) the town gets a note that its land-use layer looks incomplete.
* Floors: the ``floors`` column when it holds a positive number; otherwise, when a height is
  known, ``floor(height / storey_height_m)`` (rule ``intensity``, 3 m by default, at least
  ``min_floors``). Buildings with neither are counted per town (``unknown_floors_count``) and
  reported; their floor area is never guessed, so FAR is then a lower bound. Their footprint
  *is* known, so it counts in building coverage.
* The 8 m rule of 工业项目建设用地控制指标 (a storey above 8 m counts twice) is an option
  (``industrial_tall_storey=True``). It applies to a building with more of its footprint on
  industrial parcels than on all other parcels together, and whose mean storey height
  (height / floors, both known) exceeds the rule's 8 m; its whole floor area then counts twice.
  Only the mean storey height is known from footprint data, so one tall storey among low ones
  is not detected.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine

from tongzhen_gis import crs as tzcrs
from tongzhen_gis import rules as tzrules
from tongzhen_gis import schema, settings
from tongzhen_gis._firm_scores import firm_scores
from tongzhen_gis._overlay import polygonal, resolve_overlaps
from tongzhen_gis.errors import OptionError, SchemaError
from tongzhen_gis.labels import COLUMNS_ZH  # Chinese label and unit of each column of summarize()
from tongzhen_gis.raster import Raster, zonal
from tongzhen_gis.units import M2_PER_MU

__all__ = ["COLUMNS_ZH", "building_floor_area", "firm_scores", "floor_area_grid", "summarize", "zonal"]

logger = logging.getLogger(__name__)

#: Enterprise columns summed per town (canonical names of ``tz.schema`` "enterprises").
ENTERPRISE_SUMS = ("tax_wan", "investment_wan", "output_wan", "revenue_wan", "rd_wan", "jobs")


# --------------------------------------------------------------------------- helpers
def _check_columns(
    name: str, df: pd.DataFrame, column: str, problems: list[str], params: list[str | None], keyword: str | None
) -> None:
    """Note a missing column, with the keyword that names it (``keyword=None``: the column must be renamed)."""
    if column not in df.columns:
        fix = f"pass {keyword}= naming the column" if keyword else f"rename the column to {column!r}"
        accepted = schema.accepted_names(_ROLE_OF[name], column)
        known = f", or one of {', '.join(accepted[1:])}" if len(accepted) > 1 else ""
        problems.append(f"{name} lacks column {column!r}{known} (has {list(df.columns)}); {fix}")
        params.append(keyword)


#: The schema role (``rules/schema.toml``) of each input, whose aliases name its columns.
_ROLE_OF = {"towns": "towns", "parcels": "parcels", "buildings": "buildings", "enterprises": "enterprises"}


def _numbers(firms: pd.DataFrame, problems: list[str], params: list[str | None]) -> pd.DataFrame:
    """Enterprise figures written as text (``１２０``, ``1.2亿``, ``—``) read as numbers; refused cells are problems."""
    try:
        out = schema.parse_numbers(firms, "enterprises", name="enterprises")
    except SchemaError as exc:
        problems += [f"enterprises: {p}" for p in exc.problems]
        params += [None] * len(exc.problems)
        return firms
    return out


def _aliased(
    towns: pd.DataFrame,
    parcels: pd.DataFrame,
    buildings: pd.DataFrame | None,
    columns: tuple[str, str, str, str | None],
) -> tuple[Any, Any, Any]:
    """The inputs with columns under an alias of ``rules/schema.toml`` renamed to the names asked for."""
    id_col, landuse_col, floors_col, height_col = columns
    towns = schema.use_columns(towns, "towns", id_col)
    parcels = schema.use_columns(parcels, "parcels", landuse_col)
    if buildings is not None:
        buildings = schema.use_columns(buildings, "buildings", floors_col, height_col or "height_m")
    return towns, parcels, buildings


def _repaired(gdf: gpd.GeoDataFrame, name: str, problems: list[str], repairs: list[str]) -> gpd.GeoDataFrame:
    """Make invalid geometries valid (reported in repairs); report features without geometry."""
    geoms = np.asarray(gdf.geometry.values)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        problems.append(
            f"{int(missing.sum())} {name} feature(s) have no geometry (index {gdf.index[missing].tolist()[:10]}): "
            "not counted"
        )
    invalid = ~missing & ~shapely.is_valid(geoms)
    if not invalid.any():
        return gdf
    repairs.append(
        f"{int(invalid.sum())} invalid {name} geometr(y/ies) repaired with shapely.make_valid "
        f"(index {gdf.index[invalid].tolist()[:10]}); fix them in the source data"
    )
    out = gdf.copy()
    fixed = geoms.copy()
    fixed[invalid] = shapely.make_valid(geoms[invalid])
    out[out.geometry.name] = gpd.GeoSeries(fixed, index=out.index, crs=out.crs)
    return out


def _pieces(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(i into left, j into right, left ∩ right) for every pair sharing area; a part wholly inside is itself."""
    tree = shapely.STRtree(right)
    li, rj = tree.query(left, predicate="intersects")
    if len(li) == 0:
        return li, rj, np.empty(0, dtype=object)
    shapely.prepare(right)
    inside = shapely.contains_properly(right[rj], left[li])
    geoms = left[li].copy()
    cross = ~inside
    geoms[cross] = polygonal(shapely.intersection(left[li[cross]], right[rj[cross]]))
    area = np.where(shapely.is_missing(geoms), 0.0, shapely.area(geoms))
    keep = area > 0
    return li[keep], rj[keep], geoms[keep]


def building_floor_area(
    buildings: gpd.GeoDataFrame,
    *,
    floors_col: str = "floors",
    height_col: str | None = None,
    rules: str | Any = "intensity",
) -> pd.DataFrame:
    """Floors of each building, from its floors or, failing that, its height (no geometry work).

    Parameters
    ----------
    buildings : GeoDataFrame
        Footprints with a floors column and/or a height column.
    floors_col : str, default "floors"
        Number of floors above ground; positive numbers are used as they are.
    height_col : str, optional
        Height in metres, used where floors are missing. None: ``"height_m"`` when that
        column exists, else no height.
    rules : str or RuleSet, default "intensity"
        Gives ``storey_height_m``, ``min_floors`` and ``industrial_tall_storey_m``.

    Returns
    -------
    DataFrame
        Indexed like ``buildings``: ``floors`` (used floors, NaN when unknown), ``floors_from``
        (``"floors"``, ``"height"`` or ``"unknown"``), ``storey_height_m`` (height / floors when
        both are known, else NaN), ``known`` (bool) and ``implausible`` (what was not used, e.g.
        ``"floors -3"``, ``"height 9000 m"``, ``"floors '约5层' (not a number)"``; "" when
        nothing). Floors ≤ 0 or above ``max_floors`` and heights ≤ 0 or above ``max_height_m``
        (``rules/plausibility.toml``) are not used; text such as ``"5层"`` or ``"１２"`` is read
        (:mod:`tongzhen_gis.textnumbers`).
    """
    ruleset = tzrules.load(rules)
    storey_m = ruleset.parameter("storey_height_m")
    min_floors = ruleset.parameter("min_floors")
    buildings = schema.use_columns(buildings, "buildings", floors_col, height_col or "height_m")
    height_col = _height_col(buildings, height_col)
    floors, height, implausible = _plausible(buildings, floors_col, height_col)
    # 1e-9 guards 24 / 3 = 7.999… style rounding; a fraction of a storey is not a storey.
    from_height = np.maximum(np.floor(height / storey_m + 1e-9), min_floors).where(height.notna())
    used = floors.fillna(from_height)
    source = pd.Series(
        np.where(floors.notna(), "floors", np.where(from_height.notna(), "height", "unknown")), index=buildings.index
    )
    return pd.DataFrame(
        {
            "floors": used,
            "floors_from": source,
            "storey_height_m": (height / floors).where(floors.notna() & height.notna()),
            "known": used.notna(),
            "implausible": implausible,
        },
        index=buildings.index,
    )


def _plausible(buildings: pd.DataFrame, floors_col: str, height_col: str | None) -> tuple[Any, Any, pd.Series]:
    """Floors and heights inside the plausible ranges of ``rules/plausibility.toml``, and what was left out."""
    from tongzhen_gis.textnumbers import parse_column

    limits = tzrules.load("plausibility")
    reasons = pd.Series("", index=buildings.index, dtype=object)
    out = []
    for col, unit, what, top in (
        (floors_col, "storeys", "floors", limits.parameter("max_floors")),
        (height_col, "m", "height", limits.parameter("max_height_m")),
    ):
        if col is None or col not in buildings.columns:
            out.append(pd.Series(np.nan, index=buildings.index))
            continue
        values, cells = parse_column(buildings[col], unit=unit)
        bad = values.notna() & ~((values > 0) & (values <= top))
        suffix = " m" if unit == "m" else ""
        for label, value in values[bad].items():
            reasons[label] += f"{'; ' if reasons[label] else ''}{what} {value:g}{suffix}"
        for row in cells[cells["refused"] != ""].itertuples():
            reasons[row.index] += f"{'; ' if reasons[row.index] else ''}{what} {row.value!r} ({row.refused})"
        out.append(values.where(~bad).astype(float))
    return out[0], out[1], reasons


def _height_col(buildings: pd.DataFrame, height_col: str | None) -> str | None:
    if height_col is None:
        return "height_m" if "height_m" in buildings.columns else None
    return height_col


@dataclass(frozen=True)
class _Land:
    """The parcels inside each town, cut so that no two share area (overlaps resolved by precedence).

    ``geoms[k]`` lies in town ``town[k]`` and carries the groups of parcel ``parcel[k]``.
    """

    geoms: np.ndarray
    town: np.ndarray
    parcel: np.ndarray
    classes: pd.DataFrame  # one row per parcel: tz.schema.landuse_classes

    def flag(self, group: str) -> np.ndarray:
        """Per piece: whether its parcel belongs to ``group`` (construction, industrial …)."""
        return self.classes[group].to_numpy()[self.parcel]


def _precedence(classes: pd.DataFrame, landuse_rules: str | Any) -> np.ndarray:
    """Rank of each parcel where parcels overlap: lower wins (see ``[groups] precedence``)."""
    ruleset = tzrules.load(landuse_rules)
    order = {str(code): i for i, code in enumerate(ruleset["groups"]["precedence"])}
    within = classes["level1"].map(lambda c: order.get(c, len(order)) if isinstance(c, str) else len(order) + 1)
    # construction land always before other land, so construction land is the union of its parcels
    return (~classes["construction"].to_numpy()).astype(int) * (len(order) + 2) + within.to_numpy(dtype=int)


def _industrial_mask(buildings: np.ndarray, land: _Land) -> np.ndarray:
    """True for buildings with more footprint on industrial land than on all other land together."""
    bi, pj, parts = _pieces(buildings, land.geoms)
    out = np.zeros(len(buildings), dtype=bool)
    if len(bi) == 0:
        return out
    frame = pd.DataFrame({"b": bi, "ind": land.flag("industrial")[pj], "area": shapely.area(parts)})
    by_class = frame.groupby(["b", "ind"])["area"].sum().unstack(fill_value=0.0)
    ind_area = by_class.get(True, pd.Series(0.0, index=by_class.index))
    other_area = by_class.get(False, pd.Series(0.0, index=by_class.index))
    winners = by_class.index[ind_area > other_area]
    out[winners.to_numpy()] = True
    return out


# --------------------------------------------------------------------------- summarize
def summarize(
    towns: gpd.GeoDataFrame,
    *,
    parcels: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame | None = None,
    enterprises: pd.DataFrame | None = None,
    id_col: str = "town_id",
    landuse_col: str = "landuse_code",
    floors_col: str = "floors",
    height_col: str | None = None,
    industrial_tall_storey: bool = False,
    rules: str | Any = "intensity",
    landuse_rules: str | Any = "landuse",
) -> pd.DataFrame:
    """Land-use intensity of each town (用地集约 指标).

    Parameters
    ----------
    towns : GeoDataFrame
        Town boundaries with a unique ``id_col``.
    parcels : GeoDataFrame
        Land-use parcels with 用地用海 codes (strings such as ``"0701"``; the first two digits
        give the first-level class). Numeric codes that lost a leading zero are repaired and
        reported in ``attrs["repairs"]``.
    buildings : GeoDataFrame, optional
        Footprints with ``floors_col`` and/or ``height_col``.
    enterprises : DataFrame, optional
        One row per firm with ``town_id`` (the same ids as ``towns[id_col]``) and money in 万元:
        ``tax_wan`` (annual tax), ``investment_wan`` (cumulative fixed investment),
        ``output_wan``, ``revenue_wan``, ``rd_wan``, and ``jobs``. Chinese headers (税收, 投资,
        产值, 营业收入, 研发经费, 从业人员 …) are mapped by ``tz.schema.standardize``.
    id_col : str, default "town_id"
        Town id column; the result is indexed by it, in input order.
    landuse_col : str, default "landuse_code"
        Land-use code column of ``parcels``.
    floors_col : str, default "floors"
        Floors column of ``buildings``.
    height_col : str, optional
        Height column (m) of ``buildings``, used where floors are missing. None: ``"height_m"``
        when that column exists.
    industrial_tall_storey : bool, default False
        Apply the 8 m rule of 工业项目建设用地控制指标 (see the module docstring).
    rules : str or RuleSet, default "intensity"
        Storey height, minimum floors, the 8 m value and the parcel-overlap tolerance.
    landuse_rules : str or RuleSet, default "landuse"
        Gives ``groups``: which codes are construction, residential, industrial and green land
        (see :func:`tongzhen_gis.schema.landuse_classes`) and the ``precedence`` of classes
        where parcels overlap.

    Returns
    -------
    DataFrame
        Indexed by town id. Land: ``area_m2``, ``construction_m2``, ``construction_mu``,
        ``construction_share`` (开发强度), ``residential_m2``, ``residential_share`` (of
        construction land), ``industrial_m2``, ``industrial_share`` (of construction land),
        ``green_m2``, ``green_share`` (of town area), ``unclassified_m2`` (town area covered by
        no parcel or by a code outside 01–24), ``parcel_overlap_m2`` (land under more than one
        parcel, counted once) and ``share_<code>`` for every first-level class present (of
        town area). With buildings: ``building_count``, ``footprint_m2``, ``floor_area_m2``
        (whole town), ``footprint_on_construction_m2``, ``floor_area_on_construction_m2``,
        ``far`` (综合容积率: floor area on construction land over construction land),
        ``gross_far`` (all floor area over town area), ``building_coverage`` (建筑密度:
        footprint on construction land over construction land),
        ``footprint_off_construction_share``, ``unknown_floors_count`` and
        ``unknown_floors_footprint_m2``. With enterprises: the sums
        of ``ENTERPRISE_SUMS``, ``firm_count``, ``tax_per_mu``, ``investment_per_mu``,
        ``output_per_mu`` (万元/亩 of construction land), ``rd_intensity`` (R&D / revenue) and
        ``labour_productivity`` (output / jobs, 万元/人). A town without enterprise rows, or
        with a firm missing a value, gets NaN, never 0. Ratios over zero land are NaN.
        ``attrs["problems"]`` and ``attrs["repairs"]`` list what could not be used as given.

    Raises
    ------
    SchemaError
        Missing columns, duplicate or missing town ids (every problem in one message).
    CRSError
        A layer without a CRS.

    Examples
    --------
    >>> import tongzhen_gis as tz
    >>> scene = tz.samples.sample_town()
    >>> t = tz.intensity.summarize(scene.towns, parcels=scene.parcels, buildings=scene.buildings)
    >>> t.loc["T1", ["construction_share", "residential_share", "far", "building_coverage"]].round(4).tolist()
    [1.0, 0.2, 0.31, 0.0824]
    """
    towns, parcels, buildings = _aliased(towns, parcels, buildings, (id_col, landuse_col, floors_col, height_col))
    enterprises = _validate(
        towns,
        parcels,
        buildings,
        enterprises,
        id_col=id_col,
        landuse_col=landuse_col,
        floors_col=floors_col,
        height_col=height_col,
    )
    problems: list[str] = []
    repairs: list[str] = list(enterprises.attrs.get("repairs", [])) if enterprises is not None else []
    if buildings is not None and floors_col not in buildings.columns:
        problems.append(
            f"buildings have no floors column {floors_col!r}: floors come from the heights in "
            f"{_height_col(buildings, height_col)!r} only; pass floors_col= if the floors are in another column"
        )
    ruleset = tzrules.load(rules)
    towns_m = _repaired(tzcrs.to_metric(towns), "town", problems, repairs)
    target = towns_m.crs
    parcels_m = _repaired(tzcrs.to_metric(parcels, crs=target), "parcel", problems, repairs)
    out = pd.DataFrame(index=pd.Index(towns_m[id_col].to_numpy(), name=id_col))
    out["area_m2"] = shapely.area(towns_m.geometry.values)
    land = _add_land(
        out,
        towns_m,
        parcels_m,
        landuse_col=landuse_col,
        landuse_rules=landuse_rules,
        ruleset=ruleset,
        problems=problems,
        repairs=repairs,
    )
    if buildings is not None:
        _add_buildings(
            out,
            towns_m,
            _repaired(tzcrs.to_metric(buildings, crs=target), "building", problems, repairs),
            land=land,
            floors_col=floors_col,
            height_col=height_col,
            tall=industrial_tall_storey,
            ruleset=ruleset,
            problems=problems,
        )
    if enterprises is not None:
        _add_enterprises(out, enterprises, problems)
    out.attrs["problems"] = problems
    out.attrs["repairs"] = repairs
    for p in problems:
        logger.warning(p)
    return out


def _validate(
    towns: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame | None,
    enterprises: pd.DataFrame | None,
    *,
    id_col: str,
    landuse_col: str,
    floors_col: str,
    height_col: str | None,
) -> pd.DataFrame | None:
    """Check the inputs of :func:`summarize`; raise one error listing every problem.

    Returns the enterprises with canonical column names (``tz.schema.standardize``).
    """
    problems: list[str] = []
    params: list[str | None] = []  # the keyword each problem concerns (None: none)
    _check_columns("towns", towns, id_col, problems, params, "id_col")
    _check_columns("parcels", parcels, landuse_col, problems, params, "landuse_col")
    if buildings is not None:
        hcol = _height_col(buildings, height_col)
        if floors_col not in buildings.columns and (hcol is None or hcol not in buildings.columns):
            problems.append(
                f"buildings lack both a floors column {floors_col!r} and a height column "
                f"({height_col or 'height_m'!r}); pass floors_col= or height_col="
            )
            params.append("floors_col")
        elif hcol is not None and hcol not in buildings.columns:
            problems.append(f"buildings lack the height column {hcol!r}; pass height_col= with an existing column")
            params.append("height_col")
    if id_col in towns.columns:
        ids = towns[id_col]
        if ids.isna().any():
            problems.append(f"{int(ids.isna().sum())} town(s) have no {id_col}; give every town an id")
            params.append(None)
        dup = ids[ids.duplicated()].dropna().unique().tolist()
        if dup:
            problems.append(f"duplicate town id(s) {dup[:10]} in {id_col}; ids must be unique")
            params.append(None)
    if enterprises is not None:
        enterprises = schema.standardize(enterprises, "enterprises")
        _check_columns("enterprises", enterprises, "town_id", problems, params, None)
        enterprises = _numbers(enterprises, problems, params)  # conversions in its attrs["repairs"]
    if problems:
        # ``param`` only when every problem concerns the same keyword (a front end adds its option for it).
        param = params[0] if len(set(params)) == 1 else None
        raise SchemaError("cannot summarize land-use intensity: " + "; ".join(problems), problems, param=param)
    for name, layer in (("towns", towns), ("parcels", parcels), ("buildings", buildings)):
        if layer is not None:
            schema.require_polygons(layer, what=name, param=name)
    return enterprises


def _land_pieces(
    towns_m: gpd.GeoDataFrame,
    parcels_m: gpd.GeoDataFrame,
    classes: pd.DataFrame,
    landuse_rules: str | Any,
) -> tuple[_Land, np.ndarray]:
    """The parcels cut by the towns, overlaps resolved; and each town's overlap area (m²)."""
    parcel_geoms = np.asarray(parcels_m.geometry.values, dtype=object)
    usable = np.flatnonzero(~shapely.is_missing(parcel_geoms) & ~shapely.is_empty(parcel_geoms))
    pi, tj, pieces = _pieces(parcel_geoms[usable], np.asarray(towns_m.geometry.values, dtype=object))
    pi = usable[pi]
    rank = _precedence(classes, landuse_rules)[pi]
    # Only pieces that overlap another piece of the same town are cut (one STRtree self-query).
    resolved, _ = resolve_overlaps(pieces, tj, rank, origin=pi, origin_geoms=parcel_geoms)
    before = np.bincount(tj, weights=shapely.area(pieces), minlength=len(towns_m))
    kept = ~shapely.is_missing(resolved)
    resolved, tj, pi = resolved[kept], tj[kept], pi[kept]
    after = np.bincount(tj, weights=shapely.area(resolved), minlength=len(towns_m))
    return _Land(geoms=resolved, town=tj, parcel=pi, classes=classes), before - after


def _add_land(
    out: pd.DataFrame,
    towns_m: gpd.GeoDataFrame,
    parcels_m: gpd.GeoDataFrame,
    *,
    landuse_col: str,
    landuse_rules: str | Any,
    ruleset: tzrules.RuleSet,
    problems: list[str],
    repairs: list[str],
) -> _Land:
    """Land structure per town from the parcels, each piece of land counted once."""
    index = out.index
    classes = schema.landuse_classes(
        parcels_m[landuse_col].reset_index(drop=True), landuse_rules=landuse_rules, repair_numbers=True
    )
    if classes["repaired"].any():
        repairs.append(
            f"{int(classes['repaired'].sum())} land-use code(s) read as numbers that lost their leading zero "
            "(e.g. 701 → 0701): keep codes as text in the source file"
        )
    valid = classes["valid"].to_numpy()
    if (~valid).any():
        bad = parcels_m.index[~valid].tolist()
        problems.append(
            f"{len(bad)} parcel(s) have no valid 用地用海 code in {landuse_col!r} (index {bad[:10]}); "
            "their area counts as unclassified"
        )
    land, overlap_m2 = _land_pieces(towns_m, parcels_m, classes, landuse_rules)
    area = shapely.area(land.geoms)
    level1 = classes["level1"].to_numpy(dtype=object, na_value="unclassified")[land.parcel]
    frame = pd.DataFrame({"town": index.to_numpy()[land.town], "class": level1, "area": area})
    by_class = frame.groupby(["town", "class"], sort=True)["area"].sum().unstack(fill_value=0.0)
    by_class = by_class.reindex(index, fill_value=0.0)

    def group_m2(group: str) -> np.ndarray:
        return np.bincount(land.town, weights=area * land.flag(group), minlength=len(index))

    out["construction_m2"] = group_m2("construction")
    out["construction_mu"] = out["construction_m2"] / M2_PER_MU
    out["construction_share"] = _ratio(out["construction_m2"], out["area_m2"])
    out["residential_m2"] = group_m2("residential")
    out["residential_share"] = _ratio(out["residential_m2"], out["construction_m2"])
    out["industrial_m2"] = group_m2("industrial")
    out["industrial_share"] = _ratio(out["industrial_m2"], out["construction_m2"])
    out["green_m2"] = group_m2("green")
    out["green_share"] = _ratio(out["green_m2"], out["area_m2"])
    classified = by_class.drop(columns=["unclassified"], errors="ignore").sum(axis=1)
    out["unclassified_m2"] = (out["area_m2"] - classified).clip(lower=0.0)
    out["parcel_overlap_m2"] = overlap_m2
    tol = ruleset.parameter("parcel_overlap_tolerance_m2")
    for town in out.index[out["parcel_overlap_m2"] > tol]:
        problems.append(
            f"town {town}: parcels overlap on {out.loc[town, 'parcel_overlap_m2']:.1f} m2 (overlapping parcels); "
            "that land is counted once, in the class that takes precedence ([groups] precedence of the land-use "
            "rules: construction land first); dissolve or fix the overlaps"
        )
    for code in sorted(c for c in by_class.columns if c != "unclassified"):
        out[f"share_{code}"] = _ratio(by_class[code], out["area_m2"])
    # A town no parcel reaches has unknown land use, not zero construction land.
    uncovered = by_class.sum(axis=1) <= 0
    if uncovered.any():
        columns = [c for c in out.columns if c not in ("area_m2", "unclassified_m2", "parcel_overlap_m2")]
        out.loc[uncovered, columns] = np.nan
        problems.append(
            f"town(s) {uncovered.index[uncovered].tolist()[:10]}: no parcel lies in them, so their land figures "
            "are missing (NaN), not zero; give parcels that cover every town"
        )
    return land


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    return (num / den.where(den > 0)).astype(float)


def _floor_factor(
    buildings_m: gpd.GeoDataFrame, info: pd.DataFrame, land: _Land, *, tall: bool, ruleset: tzrules.RuleSet
) -> np.ndarray:
    """Per building: 2 where the 8 m rule doubles its floor area, else 1."""
    factor = np.ones(len(buildings_m))
    if tall:
        limit = ruleset.parameter("industrial_tall_storey_m")
        on_industry = _industrial_mask(np.asarray(buildings_m.geometry.values, dtype=object), land)
        doubled = on_industry & (info["storey_height_m"] > limit).to_numpy()
        factor[doubled] = 2.0
        logger.info("8 m rule: %d industrial building(s) with storeys above %.1f m count twice", doubled.sum(), limit)
    return factor


def _on_construction(
    buildings: np.ndarray, land: _Land, weight: np.ndarray, n_towns: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per town: footprint (m²) and floor area (m²) of the building parts standing on construction land."""
    construction = land.flag("construction")
    bi, pj, parts = _pieces(buildings, land.geoms[construction])
    town = land.town[construction][pj]
    area = shapely.area(parts)
    footprint = np.bincount(town, weights=area, minlength=n_towns)
    floor_area = np.bincount(town, weights=area * weight[bi], minlength=n_towns)
    return footprint, floor_area


def _add_buildings(
    out: pd.DataFrame,
    towns_m: gpd.GeoDataFrame,
    buildings_m: gpd.GeoDataFrame,
    *,
    land: _Land,
    floors_col: str,
    height_col: str | None,
    tall: bool,
    ruleset: tzrules.RuleSet,
    problems: list[str],
) -> None:
    info = building_floor_area(buildings_m, floors_col=floors_col, height_col=height_col, rules=ruleset)
    _report_implausible(info, problems)
    factor = _floor_factor(buildings_m, info, land, tall=tall, ruleset=ruleset)
    geoms = np.asarray(buildings_m.geometry.values, dtype=object)
    known_all = info["known"].to_numpy()
    # floor area per m² of footprint: 0 where floors are unknown (never guessed)
    weight = np.where(known_all, np.nan_to_num(info["floors"].to_numpy()) * factor, 0.0)
    usable = np.flatnonzero(~shapely.is_missing(geoms) & ~shapely.is_empty(geoms))
    bi, tj, parts = _pieces(geoms[usable], np.asarray(towns_m.geometry.values, dtype=object))
    bi = usable[bi]
    area = shapely.area(parts)
    known = known_all[bi]
    parts = pd.DataFrame(
        {
            "town": out.index.to_numpy()[tj],
            "building": bi,
            "footprint": area,
            "floor_area": area * weight[bi],
            "unknown": ~known,
            "unknown_fp": np.where(known, 0.0, area),
        }
    )
    g = parts.groupby("town", sort=False)
    out["building_count"] = g["building"].nunique().reindex(out.index, fill_value=0).astype(int)
    out["footprint_m2"] = g["footprint"].sum().reindex(out.index, fill_value=0.0)
    out["floor_area_m2"] = g["floor_area"].sum().reindex(out.index, fill_value=0.0)
    on_fp, on_fa = _on_construction(geoms[usable], land, weight[usable], len(out))
    unknown_land = out["construction_m2"].isna()
    out["footprint_on_construction_m2"] = np.where(unknown_land, np.nan, on_fp)
    out["floor_area_on_construction_m2"] = np.where(unknown_land, np.nan, on_fa)
    out["far"] = _ratio(out["floor_area_on_construction_m2"], out["construction_m2"])
    _report_far(out["far"], problems)
    out["gross_far"] = _ratio(out["floor_area_m2"], out["area_m2"])
    out["building_coverage"] = _ratio(out["footprint_on_construction_m2"], out["construction_m2"])
    off = 1.0 - _ratio(out["footprint_on_construction_m2"], out["footprint_m2"])
    out["footprint_off_construction_share"] = off.clip(lower=0.0)
    limit = ruleset.parameter("footprint_off_construction_note_share")
    for town, share in out["footprint_off_construction_share"].items():
        if share > limit:
            problems.append(
                f"town {town}: {share:.0%} of the building footprint stands off construction land (unclassified or "
                f"non-construction parcels), above {limit:.0%}: its land-use layer looks incomplete; far and "
                "building_coverage count only the buildings on construction land, gross_far the whole town"
            )
    _note_unknown_floors(out, buildings_m, parts, problems, implausible=info["implausible"].to_numpy())


def _note_unknown_floors(
    out: pd.DataFrame,
    buildings_m: gpd.GeoDataFrame,
    parts: pd.DataFrame,
    problems: list[str],
    *,
    implausible: np.ndarray,
) -> None:
    unknown = parts[parts["unknown"]]
    gu = unknown.groupby("town", sort=False)
    out["unknown_floors_count"] = gu["building"].nunique().reindex(out.index, fill_value=0).astype(int)
    out["unknown_floors_footprint_m2"] = gu["unknown_fp"].sum().reindex(out.index, fill_value=0.0)
    for town in out.index[out["unknown_floors_count"] > 0]:
        rows = unknown.loc[unknown["town"] == town, "building"].unique()
        rows = rows[implausible[rows] == ""]  # implausible ones are reported apart
        n, ids = len(rows), buildings_m.index[rows].tolist()
        if n:
            problems.append(
                f"town {town}: {n} building(s) with neither floors nor height (index {ids[:10]}); "
                "footprint counted in coverage, floor area not guessed, so FAR is a lower bound"
            )
    outside = np.setdiff1d(np.arange(len(buildings_m)), parts["building"].unique())
    if len(outside):
        logger.info("%d building(s) lie outside every town and are not counted", len(outside))


def _report_far(far: pd.Series, problems: list[str]) -> None:
    """A problem for each town whose FAR is above the plausible ``max_far`` (the figure is kept)."""
    top = tzrules.load("plausibility").parameter("max_far")
    for town, value in far[far > top].items():
        problems.append(
            f"town {town}: FAR {value:.2f} is above the plausible {top:g} (rules/plausibility.toml): check the "
            "buildings' floors and heights and the land-use parcels"
        )


def _report_implausible(info: pd.DataFrame, problems: list[str]) -> None:
    """One problem naming every building whose floors or height were implausible (not used)."""
    bad = info["implausible"] != ""
    if not bad.any():
        return
    limits = tzrules.load("plausibility")
    listed = "; ".join(f"index {i}: {why}" for i, why in info.loc[bad, "implausible"].iloc[:20].items())
    more = f" … and {int(bad.sum()) - 20} more" if bad.sum() > 20 else ""
    problems.append(
        f"{int(bad.sum())} building(s) with implausible floors or height, not used ({listed}{more}): floors must "
        f"be 1–{limits.parameter('max_floors'):g} and heights above 0 and at most "
        f"{limits.parameter('max_height_m'):g} m (rules/plausibility.toml; China's tallest tower has 128 floors); "
        "floors then come from a plausible height, else the floor area is not counted; fix them in the source data"
    )


def _same_ids(ids: pd.Series, towns: pd.Index, problems: list[str]) -> pd.Series:
    """Town ids of a table matched to the towns' ids by their text when only the type differs.

    A CSV read with inferred types gives ``330106`` where the town layer holds ``"330106"`` (or
    the reverse); such ids are matched through their text and the repair is reported.
    """
    known = set(towns)
    by_text = {str(t): t for t in towns}
    stray = (ids.notna() & ~ids.isin(known)).to_numpy(dtype=bool)
    fixable = stray & np.array([str(v) in by_text for v in ids], dtype=bool)
    if not fixable.any():
        return ids
    problems.append(
        f"{int(fixable.sum())} enterprise row(s) give the town id as {type(ids[fixable].iloc[0]).__name__} "
        "where the towns hold text or another type; matched by their text (keep ids as text in both files)"
    )
    out = ids.astype(object)
    out[fixable] = [by_text[str(v)] for v in ids[fixable]]
    return out


def _add_enterprises(out: pd.DataFrame, enterprises: pd.DataFrame, problems: list[str]) -> None:
    present = [c for c in ENTERPRISE_SUMS if c in enterprises.columns]
    absent = [c for c in ENTERPRISE_SUMS if c not in enterprises.columns]
    if absent:
        problems.append(f"enterprises lack column(s) {absent}: the figures built on them are NaN")
    firms = enterprises.copy()
    firms[present] = firms[present].apply(pd.to_numeric, errors="coerce")
    firms["town_id"] = _same_ids(firms["town_id"], out.index, problems)
    unknown_towns = sorted(set(firms["town_id"].dropna()) - set(out.index))
    if unknown_towns:
        n = int(firms["town_id"].isin(unknown_towns).sum())
        problems.append(f"{n} enterprise row(s) name town id(s) {unknown_towns[:10]} not among the towns: not counted")
    if firms["town_id"].isna().any():
        problems.append(f"{int(firms['town_id'].isna().sum())} enterprise row(s) have no town_id: not counted")
    firms = firms[firms["town_id"].isin(out.index)]
    g = firms.groupby("town_id", sort=False)
    out["firm_count"] = g.size().reindex(out.index, fill_value=0).astype(int)
    for col in ENTERPRISE_SUMS:
        if col not in present:
            out[col] = np.nan
            continue
        # min_count = group size: one missing value makes the town's total missing, not smaller.
        total = g[col].sum(min_count=1)
        gaps = g[col].apply(lambda s: int(s.isna().sum()))
        total = total.where(gaps == 0)
        for town, n in gaps[gaps > 0].items():
            problems.append(f"town {town}: {n} firm(s) lack {col}; the town's {col} and figures built on it are NaN")
        out[col] = total.reindex(out.index)
    mu = out["construction_mu"].where(out["construction_mu"] > 0)
    out["tax_per_mu"] = out["tax_wan"] / mu
    out["investment_per_mu"] = out["investment_wan"] / mu
    out["output_per_mu"] = out["output_wan"] / mu
    out["rd_intensity"] = _ratio(out["rd_wan"], out["revenue_wan"])
    out["labour_productivity"] = _ratio(out["output_wan"], out["jobs"])
    for town in out.index[out["firm_count"] == 0]:
        problems.append(f"town {town}: no enterprise rows; its economic figures are missing (NaN), not zero")


# --------------------------------------------------------------------------- FAR grid
def _check_extent(bounds: tuple[float, float, float, float], cell_m: float) -> None:
    """Refuse an extent that is not finite or would need more cells than ``settings.max_grid_cells``."""
    minx, miny, maxx, maxy = bounds
    if not all(map(math.isfinite, bounds)):
        msg = f"the grid extent {bounds} is not finite: a building has NaN or infinite coordinates; fix or drop it"
        raise OptionError(msg, param="bounds")
    cells = math.ceil((maxx - minx) / cell_m + 1) * math.ceil((maxy - miny) / cell_m + 1)
    if cells > settings.max_grid_cells:
        msg = (
            f"a FAR grid over {(maxx - minx) / 1000:.0f} km × {(maxy - miny) / 1000:.0f} km at {cell_m:g} m needs "
            f"{cells:.3g} cells (more than tz.settings.max_grid_cells = {settings.max_grid_cells:.3g}): look for "
            "buildings far from the others (wrong coordinates), or pass bounds= or a larger cell_m"
        )
        raise OptionError(msg, param="cell_m")


def floor_area_grid(
    buildings: gpd.GeoDataFrame,
    *,
    cell_m: float = 100.0,
    bounds: tuple[float, float, float, float] | None = None,
    floors_col: str = "floors",
    height_col: str | None = None,
    crs: Any = None,
    rules: str | Any = "intensity",
) -> Raster:
    """A raster of FAR (floor area over cell area) for heat maps.

    Each building is cut exactly by the cells it covers (polygon intersections, not centroids),
    and each part adds ``part area × floors`` to its cell.

    Parameters
    ----------
    buildings : GeoDataFrame
        Footprints with floors and/or a height (see :func:`building_floor_area`).
    cell_m : float, default 100
        Cell size in metres.
    bounds : (minx, miny, maxx, maxy), optional
        Extent in the metric CRS. Default: the buildings' extent, widened outward to multiples
        of ``cell_m`` so that grids of different layers align.
    floors_col, height_col, rules
        As in :func:`building_floor_area`. Buildings with neither floors nor height add nothing
        (their count is logged as a warning).
    crs : CRS-like, optional
        Metric CRS of the grid; default: :func:`tongzhen_gis.crs.to_metric` of the buildings.

    Returns
    -------
    Raster
        Float64 FAR per cell, ``nodata=None`` (0 means no building), in the metric CRS. Write it
        with ``tz.io.write_raster``.

    Raises
    ------
    OptionError
        ``cell_m`` not positive or ``bounds`` empty.
    """
    if not cell_m > 0:
        msg = f"cell_m must be a positive number of metres, got {cell_m!r}"
        raise OptionError(msg, param="cell_m")
    b = tzcrs.to_metric(buildings, crs=crs)
    info = building_floor_area(b, floors_col=floors_col, height_col=height_col, rules=rules)
    if (~info["known"]).any():
        logger.warning(
            "%d building(s) with neither floors nor height add no floor area to the grid", int((~info["known"]).sum())
        )
    if bounds is None:
        if b.empty:
            msg = "no buildings and no bounds: pass bounds=(minx, miny, maxx, maxy) in metres"
            raise OptionError(msg, param="bounds")
        minx, miny, maxx, maxy = b.total_bounds
        _check_extent((minx, miny, maxx, maxy), cell_m)
        minx, miny = math.floor(minx / cell_m) * cell_m, math.floor(miny / cell_m) * cell_m
        maxx, maxy = math.ceil(maxx / cell_m) * cell_m, math.ceil(maxy / cell_m) * cell_m
        maxx, maxy = max(maxx, minx + cell_m), max(maxy, miny + cell_m)
    else:
        minx, miny, maxx, maxy = map(float, bounds)
        _check_extent((minx, miny, maxx, maxy), cell_m)
    ncols, nrows = math.ceil((maxx - minx) / cell_m - 1e-9), math.ceil((maxy - miny) / cell_m - 1e-9)
    if ncols <= 0 or nrows <= 0:
        msg = f"bounds {bounds} hold no cell of {cell_m} m; give (minx, miny, maxx, maxy) with maxx > minx, maxy > miny"
        raise OptionError(msg, param="bounds")
    transform = Affine(cell_m, 0.0, minx, 0.0, -cell_m, maxy)
    grid = np.zeros((nrows, ncols), dtype=float)
    keep = info["known"].to_numpy() & ~b.geometry.is_empty.to_numpy() & b.geometry.notna().to_numpy()
    geoms = b.geometry.to_numpy()[keep]
    floors = info["floors"].to_numpy()[keep]
    if len(geoms):
        gb = shapely.bounds(geoms)
        c0 = np.floor((gb[:, 0] - minx) / cell_m).astype(int)
        c1 = np.ceil((gb[:, 2] - minx) / cell_m).astype(int) - 1
        r0 = np.floor((maxy - gb[:, 3]) / cell_m).astype(int)
        r1 = np.ceil((maxy - gb[:, 1]) / cell_m).astype(int) - 1
        # one cell, wholly inside the grid: no intersection needed (most buildings)
        single = (c0 == c1) & (r0 == r1) & (c0 >= 0) & (r0 >= 0) & (c1 < ncols) & (r1 < nrows)
        c0, r0 = np.maximum(c0, 0), np.maximum(r0, 0)
        c1, r1 = np.minimum(c1, ncols - 1), np.minimum(r1, nrows - 1)
        ok = (c0 <= c1) & (r0 <= r1)
        np.add.at(grid, (r0[single], c0[single]), shapely.area(geoms[single]) * floors[single])
        multi = np.flatnonzero(ok & ~single)
        if len(multi):
            ncell = (c1[multi] - c0[multi] + 1) * (r1[multi] - r0[multi] + 1)
            owner = np.repeat(multi, ncell)
            offset = np.arange(ncell.sum()) - np.repeat(np.cumsum(ncell) - ncell, ncell)
            width = np.repeat(c1[multi] - c0[multi] + 1, ncell)
            cols = np.repeat(c0[multi], ncell) + offset % width
            rows = np.repeat(r0[multi], ncell) + offset // width
            cells = shapely.box(
                minx + cols * cell_m, maxy - (rows + 1) * cell_m, minx + (cols + 1) * cell_m, maxy - rows * cell_m
            )
            part = shapely.area(shapely.intersection(geoms[owner], cells))
            np.add.at(grid, (rows, cols), part * floors[owner])
    return Raster(array=grid / (cell_m * cell_m), transform=transform, crs=b.crs, nodata=None)
