"""Running the analyses a project config names (internal to :mod:`tongzhen_gis.report`).

Checks the input files and the rules before anything runs, reads the inputs through
:mod:`tongzhen_gis.io` (an error names the config entry it came from), and fills a
:class:`_Run` with the towns and the results of the control-line check, land-use intensity
and 15-minute access, and every problem met. Writes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from tongzhen_gis import evaluate
from tongzhen_gis import io as tzio
from tongzhen_gis._project import LayerSource, ProjectConfig, _config_error
from tongzhen_gis.errors import InputFileError, SchemaError, TongzhenError
from tongzhen_gis.raster import Raster

# Logged under the public module's name, so that filters and log lines users know stay the same.
logger = logging.getLogger("tongzhen_gis.report")


def _dropped_note(gdf: gpd.GeoDataFrame, where: str) -> str | None:
    """A problem line naming the features :func:`tongzhen_gis.io.read_layer` dropped for lack of geometry."""
    info = gdf.attrs.get("repairs", {}) or {}
    count = int(info.get("empty_removed", 0) or 0)
    if not count:
        return None
    rows = ", ".join(str(i) for i in info.get("empty_removed_index", [])[:20])
    return f"{where}: {count} feature(s) with an empty or missing geometry not read (file rows {rows})"


def _read(config: ProjectConfig, section: str, key: str, problems: list[str] | None = None) -> gpd.GeoDataFrame | None:
    """The layer a config entry names (None when absent); errors name the entry.

    Features without geometry are dropped by :func:`tongzhen_gis.io.read_layer` and, never
    silently, listed in ``problems``.
    """
    src = config.get(section, key)
    if src is None:
        return None
    where = f"[{section}].{key}"
    try:
        gdf = tzio.read_layer(src.path, layer=src.layer, crs=src.crs, coord_system=src.coord_system)
    except TongzhenError as exc:
        raise _config_error(exc, where) from exc
    note = _dropped_note(gdf, where)
    if note is not None and problems is not None:
        problems.append(note)
    return gdf


def _read_table(path: Path, where: str) -> pd.DataFrame:
    try:
        return tzio.read_table(path)
    except TongzhenError as exc:
        raise _config_error(exc, where) from exc


def _check_files(config: ProjectConfig) -> None:
    missing = []
    for name, section in config.sections.items():
        for key, value in section.items():
            path = value.path if isinstance(value, LayerSource) else (value if key == "path" else None)
            if path is not None and not Path(path).exists():
                missing.append(f"[{name}].{key}: {path}")
    for key, ref in (("rules", config.rules), ("grading", config.grading)):
        if isinstance(ref, Path) and not ref.exists():
            missing.append(f"[project].{key}: {ref}")
    if missing:
        msg = "input files not found: " + "; ".join(missing) + " (paths are relative to the config file's folder)"
        raise InputFileError(msg)


def _check_rules(config: ProjectConfig) -> None:
    """Load the rule set and the grading scheme before any analysis runs; errors name the config key."""
    from tongzhen_gis import rules

    try:
        rules.load(config.rules)
    except TongzhenError as exc:
        raise _config_error(exc, "[project].rules") from exc
    try:
        evaluate.grade(evaluate.scorecard(pd.DataFrame(index=pd.Index([], name="town_id"))), rules=config.grading)
    except TongzhenError as exc:
        raise _config_error(exc, "[project].grading") from exc


@dataclass
class _Run:
    """Everything computed in one build (internal)."""

    towns: gpd.GeoDataFrame
    id_col: str
    name_col: str | None
    lines: Any = None
    line_layers: dict[str, gpd.GeoDataFrame | None] = field(default_factory=dict)
    parcels: gpd.GeoDataFrame | None = None
    intensity: pd.DataFrame | None = None
    far_grid: Raster | None = None
    homes: gpd.GeoDataFrame | None = None
    facilities: gpd.GeoDataFrame | None = None
    roads: gpd.GeoDataFrame | None = None
    water: gpd.GeoDataFrame | None = None
    nearest: pd.DataFrame | None = None
    coverage: pd.DataFrame | None = None
    access_by_town: pd.DataFrame | None = None
    town_of_home: pd.Series | None = None
    service_areas: gpd.GeoDataFrame | None = None
    problems: list[str] = field(default_factory=list)


def _run_control_lines(config: ProjectConfig, run: _Run) -> None:
    from tongzhen_gis import controllines

    layers = {k: _read(config, "control_lines", k, run.problems) for k in ("red_line", "farmland", "urban_boundary")}
    if all(v is None for v in layers.values()):
        run.problems.append("[control_lines] names no line layer: the three-line check was not run")
        return
    run.line_layers = layers
    run.lines = controllines.check(
        run.towns, id_col=run.id_col, sliver_m2=config.get("control_lines", "sliver_m2"), **layers
    )
    run.problems.extend(f"三线核查: line layer {m} not given; its rules are 'missing'" for m in run.lines.missing_lines)
    for rec in run.lines.repairs.itertuples():
        run.problems.append(f"三线核查 {rec.layer}: {rec.issue} ({rec.count}) → {rec.action}")


def _run_intensity(config: ProjectConfig, run: _Run) -> None:
    from tongzhen_gis import intensity

    run.parcels = _read(config, "intensity", "parcels", run.problems)
    buildings = _read(config, "intensity", "buildings", run.problems)
    ent_src = config.get("intensity", "enterprises")
    enterprises = _read_table(ent_src.path, "[intensity].enterprises") if ent_src is not None else None
    if run.parcels is None:
        run.problems.append("[intensity] has no parcels: land-use intensity was not measured")
        return
    kwargs = {k: config.get("intensity", k) for k in ("landuse_col", "floors_col", "height_col")}
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    run.intensity = intensity.summarize(
        run.towns, parcels=run.parcels, buildings=buildings, enterprises=enterprises, id_col=run.id_col, **kwargs
    )
    run.problems.extend(f"用地集约: {p}" for p in run.intensity.attrs.get("problems", []))
    run.problems.extend(f"用地集约 (修复): {p}" for p in run.intensity.attrs.get("repairs", []))
    if enterprises is None:
        run.problems.append("用地集约: no enterprise table; 亩均 figures are 'missing'")
    if buildings is not None and len(buildings):
        cell = float(config.get("intensity", "far_cell_m", 100.0))
        grid_kwargs = {k: kwargs[k] for k in ("floors_col", "height_col") if k in kwargs}
        run.far_grid = intensity.floor_area_grid(buildings, cell_m=cell, **grid_kwargs)


def _run_access(config: ProjectConfig, run: _Run) -> None:
    from tongzhen_gis import access, network

    roads = _read(config, "access", "roads", run.problems)
    run.facilities = _read(config, "access", "facilities", run.problems)
    run.homes = _read(config, "access", "homes", run.problems)
    if roads is None or run.facilities is None or run.homes is None:
        run.problems.append("[access] needs roads, facilities and homes: 15-minute access was not measured")
        return
    run.roads = roads
    absent = [
        f"{key} = {config.get('access', key)!r}"
        for key in ("population_col", "home_town_col")
        if config.get("access", key) is not None and config.get("access", key) not in run.homes.columns
    ]
    if absent:
        msg = (
            f"[access]: the homes layer has no column {', '.join(absent)} "
            f"(columns: {list(run.homes.columns)}); fix the name in project.toml"
        )
        raise SchemaError(msg, absent)
    category_col = config.get("access", "category_col", "category")
    G = network.from_lines(roads)
    options: dict[str, Any] = {"category_col": category_col}
    if config.get("access", "max_distance_m") is not None:
        options["max_distance_m"] = float(config.get("access", "max_distance_m"))
    run.nearest = access.nearest(G, run.homes, run.facilities, **options)
    homes = run.homes
    town_col = config.get("access", "home_town_col")
    if town_col is None:
        town_col = run.id_col if run.id_col in homes.columns else None
    town_of_home = access.assign_towns(homes, run.towns, id_col=run.id_col) if town_col is None else homes[town_col]
    pop_col = config.get("access", "population_col")
    threshold = config.get("access", "threshold_m")
    cov_kwargs: dict[str, Any] = {"by": town_of_home}
    if pop_col is not None:
        cov_kwargs["weights"] = homes[pop_col]
    if threshold is not None:
        cov_kwargs["threshold_m"] = float(threshold)
    run.coverage = access.coverage(run.nearest, **cov_kwargs)
    run.access_by_town = _access_indicators(run.coverage, run.towns[run.id_col], weighted=pop_col is not None)
    if config.get("access", "service_areas", True):
        t = float(threshold) if threshold is not None else access.default_threshold_m()
        run.service_areas = access.service_areas(G, run.facilities, category_col=category_col, thresholds_m=(t,))
    unplaced = [str(t) for t in pd.unique(town_of_home.dropna()) if t not in set(run.towns[run.id_col])]
    if unplaced:
        run.problems.append(f"生活圈: homes assigned to unknown towns {unplaced[:5]}")
    run.town_of_home = town_of_home
    n_out = int(town_of_home.isna().sum())
    if n_out:
        run.problems.append(
            f"生活圈: {n_out} home(s) lie in no town; they are in the homes layer, not in any town's figures"
        )


def _access_indicators(coverage: pd.DataFrame, town_ids: pd.Series, *, weighted: bool) -> pd.DataFrame:
    """Per-town ``all_categories_share`` from :func:`tongzhen_gis.access.coverage`.

    The share of *people* (``population_share``) when homes carry a population, else the share
    of homes (``share``) that reach every category within the threshold.
    """
    col = "population_share" if weighted else "share"
    complete = coverage.xs("all_categories", level="category")[col]
    out = pd.DataFrame(index=pd.Index(town_ids, name=town_ids.name))
    out["all_categories_share"] = complete.reindex(out.index).astype(float)
    return out


def _towns_layer(config: ProjectConfig) -> tuple[gpd.GeoDataFrame, str, str | None, str]:
    try:
        towns = tzio.read_layer(
            config.get("towns", "path"),
            layer=config.get("towns", "layer"),
            crs=config.get("towns", "crs"),
            coord_system=config.get("towns", "coord_system"),
        )
    except TongzhenError as exc:
        raise _config_error(exc, "[towns]") from exc
    id_col = config.get("towns", "id_col", "town_id")
    name_col = config.get("towns", "name_col", "name_zh")
    category_col = config.get("towns", "category_col", "category")
    problems = []
    if id_col not in towns.columns:
        problems.append(f"towns layer has no id column {id_col!r} (columns: {list(towns.columns)}); set [towns].id_col")
    elif towns[id_col].duplicated().any():
        dups = sorted(map(str, towns.loc[towns[id_col].duplicated(), id_col]))
        problems.append(f"towns layer has duplicate ids {dups[:5]} in {id_col!r}; give each town a unique id")
    if category_col not in towns.columns:
        logger.warning("towns layer has no %r column: rules limited to town types are 'missing'", category_col)
    if problems:
        raise SchemaError("; ".join(problems), problems)
    if name_col not in towns.columns:
        name_col = None
    return towns, id_col, name_col, category_col
