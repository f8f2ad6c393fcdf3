"""Land-use intensity (用地集约): land structure, FAR, building coverage, 亩均 figures, raster zones.

The national guideline (全国特色小镇规范健康发展导则) asks a town to use land intensively and
not to drift into real estate. This module measures, per town:

* land structure from land-use parcels (用地用海 codes): construction land (建设用地) and its
  share of the town (开发强度), residential share of construction land, industrial share,
  green share (用地 14 over town area) and every first-level class's share;
* building intensity from footprints: floor area, 综合容积率 (FAR, floor area over construction
  land), gross FAR (over town area) and 建筑密度 (footprint over construction land), following
  TD/T 1029;
* 亩均 figures from an enterprise table: tax, cumulative investment and output per 亩 of
  construction land, R&D intensity, labour productivity, jobs.

Raster zones (:func:`zonal`), a FAR heat-map raster (:func:`floor_area_grid`) and the Zhejiang
亩均论英雄 firm score (:func:`firm_scores`) live here too.

Decisions (also stated in each function's docstring)
----------------------------------------------------
* Every layer is reprojected to the metric CRS of the towns (:func:`tongzhen_gis.crs.to_metric`).
* Parcels and buildings straddling a town boundary are apportioned by intersected area
  (exact polygon intersections, never centroids).
* Which first-level classes are construction, residential, industrial and green land comes
  from ``tz.rules.load("landuse")["groups"]``. A town that no parcel reaches has unknown land
  use: its land figures are NaN (reported), not zero, so its rules are ``missing``, not failed.
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
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine

from tongzhen_gis import crs as tzcrs
from tongzhen_gis import rules as tzrules
from tongzhen_gis import schema
from tongzhen_gis._firm_scores import firm_scores
from tongzhen_gis.errors import SchemaError
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


def _numbers(firms: pd.DataFrame, problems: list[str], params: list[str | None], repairs: list[str]) -> pd.DataFrame:
    """Enterprise figures written as text (``１２０``, ``1.2亿``, ``—``) read as numbers; refused cells are problems."""
    try:
        out = schema.parse_numbers(firms, "enterprises", name="enterprises")
    except SchemaError as exc:
        problems += [f"enterprises: {p}" for p in exc.problems]
        params += [None] * len(exc.problems)
        return firms
    repairs += out.attrs["repairs"]
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


def _normalise_codes(values: pd.Series, repairs: list[str]) -> pd.Series:
    """Land-use codes as strings; numbers that lost their leading zero (701 → "0701") are repaired."""
    out = values.astype("string").str.strip()
    numeric = out.str.fullmatch(r"\d+(\.0+)?").fillna(False)
    out = out.where(~numeric, out.str.replace(r"\.0+$", "", regex=True))
    odd = numeric & (out.str.len() % 2 == 1)
    if odd.any():
        repairs.append(
            f"{int(odd.sum())} land-use code(s) of odd length read as '0' + code (e.g. 701 → 0701): "
            "keep codes as text in the source file"
        )
        out = out.where(~odd, "0" + out)
    return out


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


def _pairs(left: gpd.GeoSeries, right: gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index pairs (i into left, j into right) of intersecting geometries and their shared area."""
    lv, rv = np.asarray(left.values), np.asarray(right.values)
    tree = shapely.STRtree(rv)
    li, rj = tree.query(lv, predicate="intersects")
    if len(li) == 0:
        return li, rj, np.zeros(0)
    # A part wholly inside needs no intersection (most buildings in a district): test it on
    # prepared zone geometries, and cut only the ones crossing a boundary.
    shapely.prepare(rv)
    inside = shapely.contains_properly(rv[rj], lv[li])
    area = shapely.area(lv[li])
    cross = ~inside
    area[cross] = shapely.area(shapely.intersection(lv[li[cross]], rv[rj[cross]]))
    keep = area > 0
    return li[keep], rj[keep], area[keep]


def _groups(landuse_rules: str | Any) -> Mapping[str, Any]:
    ruleset = tzrules.load(landuse_rules) if not isinstance(landuse_rules, tzrules.RuleSet) else landuse_rules
    return ruleset["groups"]


def _rules(name: str | Any) -> tzrules.RuleSet:
    return name if isinstance(name, tzrules.RuleSet) else tzrules.load(name)


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
    ruleset = _rules(rules)
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


def _industrial_mask(
    buildings: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame, codes: pd.Series, industrial: tuple[str, ...]
) -> np.ndarray:
    """True for buildings with more footprint on industrial parcels than on all other parcels together."""
    bi, pj, area = _pairs(buildings.geometry, parcels.geometry)
    out = np.zeros(len(buildings), dtype=bool)
    if len(bi) == 0:
        return out
    level1 = codes.str[:2].to_numpy()
    frame = pd.DataFrame({"b": bi, "ind": np.isin(level1[pj], industrial), "area": area})
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
        Gives ``groups`` (construction, residential, industrial, green first-level codes).

    Returns
    -------
    DataFrame
        Indexed by town id. Land: ``area_m2``, ``construction_m2``, ``construction_mu``,
        ``construction_share`` (开发强度), ``residential_m2``, ``residential_share`` (of
        construction land), ``industrial_m2``, ``industrial_share`` (of construction land),
        ``green_m2``, ``green_share`` (of town area), ``unclassified_m2`` (town area covered by
        no parcel or by a code outside 01–24) and ``share_<code>`` for every first-level class
        present (of town area). With buildings: ``building_count``, ``footprint_m2``,
        ``floor_area_m2``, ``far`` (综合容积率, over construction land), ``gross_far`` (over
        town area), ``building_coverage`` (建筑密度, footprint over construction land),
        ``unknown_floors_count`` and ``unknown_floors_footprint_m2``. With enterprises: the sums
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
    problems: list[str] = []
    params: list[str | None] = []  # the keyword each problem concerns (None: none)
    repairs: list[str] = []
    towns, parcels, buildings = _aliased(towns, parcels, buildings, (id_col, landuse_col, floors_col, height_col))
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
        enterprises = _numbers(enterprises, problems, params, repairs)
    if problems:
        # ``param`` only when every problem concerns the same keyword (a front end adds its option for it).
        param = params[0] if len(set(params)) == 1 else None
        raise SchemaError("cannot summarize land-use intensity: " + "; ".join(problems), problems, param=param)
    if buildings is not None and floors_col not in buildings.columns:
        problems.append(
            f"buildings have no floors column {floors_col!r}: floors come from the heights in "
            f"{_height_col(buildings, height_col)!r} only; pass floors_col= if the floors are in another column"
        )

    groups = _groups(landuse_rules)
    ruleset = _rules(rules)
    towns_m = _repaired(tzcrs.to_metric(towns), "town", problems, repairs)
    target = towns_m.crs
    parcels_m = _repaired(tzcrs.to_metric(parcels, crs=target), "parcel", problems, repairs)
    index = pd.Index(towns_m[id_col].to_numpy(), name=id_col)
    out = pd.DataFrame(index=index)
    out["area_m2"] = shapely.area(towns_m.geometry.values)

    # ---- land structure
    codes = _normalise_codes(parcels_m[landuse_col], repairs)
    level1 = codes.str[:2]
    valid = level1.str.fullmatch(r"\d\d").fillna(False) & level1.between("01", "24").fillna(False)
    if (~valid).any():
        bad = parcels_m.index[~valid.to_numpy()].tolist()
        problems.append(
            f"{len(bad)} parcel(s) have no valid 用地用海 code in {landuse_col!r} (index {bad[:10]}); "
            "their area counts as unclassified"
        )
    pi, tj, area = _pairs(parcels_m.geometry, towns_m.geometry)
    lv = level1.to_numpy(dtype=object)[pi]
    lv = np.where(valid.to_numpy()[pi], lv, "unclassified")
    land = pd.DataFrame({"town": index.to_numpy()[tj], "class": lv, "area": area})
    by_class = land.groupby(["town", "class"], sort=True)["area"].sum().unstack(fill_value=0.0)
    by_class = by_class.reindex(index, fill_value=0.0)

    def group_sum(codes_: Any) -> pd.Series:
        cols = [c for c in by_class.columns if c in set(codes_)]
        return by_class[cols].sum(axis=1) if cols else pd.Series(0.0, index=index)

    construction = tuple(groups["construction"]) + tuple(groups.get("construction_extra", ()))
    out["construction_m2"] = group_sum(construction)
    out["construction_mu"] = out["construction_m2"] / M2_PER_MU
    out["construction_share"] = _ratio(out["construction_m2"], out["area_m2"])
    out["residential_m2"] = group_sum(groups["residential"])
    out["residential_share"] = _ratio(out["residential_m2"], out["construction_m2"])
    out["industrial_m2"] = group_sum(groups["industrial"])
    out["industrial_share"] = _ratio(out["industrial_m2"], out["construction_m2"])
    out["green_m2"] = group_sum(groups["green"])
    out["green_share"] = _ratio(out["green_m2"], out["area_m2"])
    classified = by_class.drop(columns=["unclassified"], errors="ignore").sum(axis=1)
    tol = ruleset.parameter("parcel_overlap_tolerance_m2")
    over = classified + by_class.get("unclassified", 0.0) - out["area_m2"]
    for town in over.index[over > tol]:
        problems.append(
            f"town {town}: parcels add up to {over[town]:.1f} m2 more than the town area (overlapping parcels, "
            "land counted twice); dissolve or fix the overlaps"
        )
    out["unclassified_m2"] = (out["area_m2"] - classified).clip(lower=0.0)
    for code in sorted(c for c in by_class.columns if c != "unclassified"):
        out[f"share_{code}"] = _ratio(by_class[code], out["area_m2"])
    # A town no parcel reaches has unknown land use, not zero construction land.
    uncovered = by_class.sum(axis=1) <= 0
    if uncovered.any():
        land = [c for c in out.columns if c not in ("area_m2", "unclassified_m2")]
        out.loc[uncovered, land] = np.nan
        problems.append(
            f"town(s) {uncovered.index[uncovered].tolist()[:10]}: no parcel lies in them, so their land figures "
            "are missing (NaN), not zero; give parcels that cover every town"
        )

    # ---- buildings
    if buildings is not None:
        _add_buildings(
            out,
            towns_m,
            _repaired(tzcrs.to_metric(buildings, crs=target), "building", problems, repairs),
            parcels_m=parcels_m,
            codes=codes,
            floors_col=floors_col,
            height_col=height_col,
            tall=industrial_tall_storey,
            industrial=tuple(groups["industrial"]),
            ruleset=ruleset,
            problems=problems,
        )

    # ---- enterprises
    if enterprises is not None:
        _add_enterprises(out, enterprises, problems)

    out.attrs["problems"] = problems
    out.attrs["repairs"] = repairs
    for p in problems:
        logger.warning(p)
    return out


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    return (num / den.where(den > 0)).astype(float)


def _add_buildings(
    out: pd.DataFrame,
    towns_m: gpd.GeoDataFrame,
    buildings_m: gpd.GeoDataFrame,
    *,
    parcels_m: gpd.GeoDataFrame,
    codes: pd.Series,
    floors_col: str,
    height_col: str | None,
    tall: bool,
    industrial: tuple[str, ...],
    ruleset: tzrules.RuleSet,
    problems: list[str],
) -> None:
    info = building_floor_area(buildings_m, floors_col=floors_col, height_col=height_col, rules=ruleset)
    _report_implausible(info, problems)
    factor = np.ones(len(buildings_m))
    if tall:
        limit = ruleset.parameter("industrial_tall_storey_m")
        on_industry = _industrial_mask(buildings_m, parcels_m, codes, industrial)
        doubled = on_industry & (info["storey_height_m"] > limit).to_numpy()
        factor[doubled] = 2.0
        logger.info("8 m rule: %d industrial building(s) with storeys above %.1f m count twice", doubled.sum(), limit)
    bi, tj, area = _pairs(buildings_m.geometry, towns_m.geometry)
    floors = info["floors"].to_numpy()[bi]
    known = info["known"].to_numpy()[bi]
    parts = pd.DataFrame(
        {
            "town": out.index.to_numpy()[tj],
            "building": bi,
            "footprint": area,
            "floor_area": np.where(known, area * np.nan_to_num(floors) * factor[bi], 0.0),
            "unknown": ~known,
            "unknown_fp": np.where(known, 0.0, area),
        }
    )
    g = parts.groupby("town", sort=False)
    out["building_count"] = g["building"].nunique().reindex(out.index, fill_value=0).astype(int)
    out["footprint_m2"] = g["footprint"].sum().reindex(out.index, fill_value=0.0)
    out["floor_area_m2"] = g["floor_area"].sum().reindex(out.index, fill_value=0.0)
    out["far"] = _ratio(out["floor_area_m2"], out["construction_m2"])
    _report_far(out["far"], problems)
    out["gross_far"] = _ratio(out["floor_area_m2"], out["area_m2"])
    out["building_coverage"] = _ratio(out["footprint_m2"], out["construction_m2"])
    unknown = parts[parts["unknown"]]
    gu = unknown.groupby("town", sort=False)
    out["unknown_floors_count"] = gu["building"].nunique().reindex(out.index, fill_value=0).astype(int)
    out["unknown_floors_footprint_m2"] = gu["unknown_fp"].sum().reindex(out.index, fill_value=0.0)
    for town in out.index[out["unknown_floors_count"] > 0]:
        rows = unknown.loc[unknown["town"] == town, "building"].unique()
        rows = rows[info["implausible"].to_numpy()[rows] == ""]  # implausible ones are reported apart
        n, ids = len(rows), buildings_m.index[rows].tolist()
        if n:
            problems.append(
                f"town {town}: {n} building(s) with neither floors nor height (index {ids[:10]}); "
                "footprint counted in coverage, floor area not guessed, so FAR is a lower bound"
            )
    outside = np.setdiff1d(np.arange(len(buildings_m)), bi)
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
    ValueError
        ``cell_m`` not positive or ``bounds`` empty.
    """
    if not cell_m > 0:
        msg = f"cell_m must be a positive number of metres, got {cell_m!r}"
        raise ValueError(msg)
    b = tzcrs.to_metric(buildings, crs=crs)
    info = building_floor_area(b, floors_col=floors_col, height_col=height_col, rules=rules)
    if (~info["known"]).any():
        logger.warning(
            "%d building(s) with neither floors nor height add no floor area to the grid", int((~info["known"]).sum())
        )
    if bounds is None:
        if b.empty:
            msg = "no buildings and no bounds: pass bounds=(minx, miny, maxx, maxy) in metres"
            raise ValueError(msg)
        minx, miny, maxx, maxy = b.total_bounds
        minx, miny = math.floor(minx / cell_m) * cell_m, math.floor(miny / cell_m) * cell_m
        maxx, maxy = math.ceil(maxx / cell_m) * cell_m, math.ceil(maxy / cell_m) * cell_m
        maxx, maxy = max(maxx, minx + cell_m), max(maxy, miny + cell_m)
    else:
        minx, miny, maxx, maxy = map(float, bounds)
    ncols, nrows = math.ceil((maxx - minx) / cell_m - 1e-9), math.ceil((maxy - miny) / cell_m - 1e-9)
    if ncols <= 0 or nrows <= 0:
        msg = f"bounds {bounds} hold no cell of {cell_m} m; give (minx, miny, maxx, maxy) with maxx > minx, maxy > miny"
        raise ValueError(msg)
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
