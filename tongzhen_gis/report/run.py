"""Running the analyses a project config names (internal to :mod:`tongzhen_gis.report`).

Checks the input files and the rules before anything runs, reads the inputs through
:mod:`tongzhen_gis.io` (an error names the config entry it came from in its ``config_key``),
and runs each step the config asks for. Each step returns a typed, frozen result
(:class:`ControlLinesResult`, :class:`IntensityResult`, :class:`AccessResult`), or None when it
was not run; :func:`run_analyses` gathers them in one immutable :class:`ReportRun`, and
:func:`evaluate_towns` joins them into the indicators and the evaluation. Every problem met is
appended to the build's ``problems`` list, passed explicitly. Writes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from tongzhen_gis import evaluate, schema, webmap
from tongzhen_gis import io as tzio
from tongzhen_gis.errors import InputFileError, OptionError, SchemaError, TongzhenError
from tongzhen_gis.raster import Raster
from tongzhen_gis.report.config import LayerSource, ProjectConfig, _config_error

if TYPE_CHECKING:  # pragma: no cover
    from tongzhen_gis.controllines import ControlLineResult
    from tongzhen_gis.report.city import CityChapter

# Logged under the public module's name, so that filters and log lines users know stay the same.
logger = logging.getLogger("tongzhen_gis.report")


@dataclass(frozen=True)
class Towns:
    """The towns layer of ``[towns]`` and the names of its columns."""

    layer: gpd.GeoDataFrame
    id_col: str
    name_col: str | None
    category_col: str


@dataclass(frozen=True)
class ControlLinesResult:
    """The three-line check of ``[control_lines]``: its outcome and the line layers it used."""

    check: ControlLineResult
    layers: Mapping[str, gpd.GeoDataFrame | None]


@dataclass(frozen=True)
class IntensityResult:
    """Land-use intensity of ``[intensity]``: the parcels, the per-town table, the FAR grid."""

    parcels: gpd.GeoDataFrame
    table: pd.DataFrame
    far_grid: Raster | None = None
    buildings: gpd.GeoDataFrame | None = None


@dataclass(frozen=True)
class AccessResult:
    """15-minute access of ``[access]``: inputs, per-home distances and per-town coverage."""

    roads: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    homes: gpd.GeoDataFrame
    nearest: pd.DataFrame
    town_of_home: pd.Series
    coverage: pd.DataFrame
    by_town: pd.DataFrame
    service_areas: gpd.GeoDataFrame | None = None
    population: pd.Series | None = None


@dataclass(frozen=True)
class ReportRun:
    """Everything computed in one build: the towns and the result of each step (None: not run)."""

    towns: Towns
    water: gpd.GeoDataFrame | None = None
    roads: gpd.GeoDataFrame | None = None
    lines: ControlLinesResult | None = None
    intensity: IntensityResult | None = None
    access: AccessResult | None = None
    town_stats: pd.DataFrame | None = None
    city: CityChapter | None = None


def _dropped_note(gdf: gpd.GeoDataFrame, where: str) -> str | None:
    """A problem line naming the features :func:`tongzhen_gis.io.read_layer` dropped or set aside.

    Features without geometry, with a NaN or infinite coordinate, or outside the area of use of
    the layer's CRS.
    """
    info = gdf.attrs.get("repairs", {}) or {}
    notes = []
    for key, what in (
        ("empty_removed", "with an empty or missing geometry"),
        ("nonfinite", "with a NaN or infinite coordinate"),
        ("outside_area_of_use", "outside the area of use of the layer's CRS (impossible coordinates)"),
    ):
        count = int(info.get(key, 0) or 0)
        if count:
            rows = ", ".join(str(i) for i in (info.get(f"{key}_index") or [])[:20])
            notes.append(f"{count} feature(s) {what} not read (file rows {rows})")
    return f"{where}: {'; '.join(notes)}" if notes else None


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
        gdf = tzio.read_layer(src.path, **src.read_options())
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


def _run_control_lines(config: ProjectConfig, towns: Towns, problems: list[str]) -> ControlLinesResult | None:
    from tongzhen_gis import controllines

    layers = {k: _read(config, "control_lines", k, problems) for k in ("red_line", "farmland", "urban_boundary")}
    if all(v is None for v in layers.values()):
        problems.append("[control_lines] names no line layer: the three-line check was not run")
        return None
    check = controllines.check(
        towns.layer,
        id_col=towns.id_col,
        sliver_m2=config.get("control_lines", "sliver_m2"),
        red_line=layers["red_line"],
        farmland=layers["farmland"],
        urban_boundary=layers["urban_boundary"],
    )
    problems.extend(f"三线核查: line layer {m} not given; its rules are 'missing'" for m in check.missing_lines)
    for rec in check.repairs.itertuples():
        problems.append(f"三线核查 {rec.layer}: {rec.issue} ({rec.count}) → {rec.action}")
    return ControlLinesResult(check=check, layers=layers)


def _run_intensity(config: ProjectConfig, towns: Towns, problems: list[str]) -> IntensityResult | None:
    from tongzhen_gis import intensity

    parcels = _read(config, "intensity", "parcels", problems)
    buildings = _read(config, "intensity", "buildings", problems)
    ent_src = config.get("intensity", "enterprises")
    enterprises = _read_table(ent_src.path, "[intensity].enterprises") if ent_src is not None else None
    if parcels is None:
        problems.append("[intensity] has no parcels: land-use intensity was not measured")
        return None
    kwargs = {k: config.get("intensity", k) for k in ("landuse_col", "floors_col", "height_col")}
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    table = intensity.summarize(
        towns.layer, parcels=parcels, buildings=buildings, enterprises=enterprises, id_col=towns.id_col, **kwargs
    )
    problems.extend(f"用地集约: {p}" for p in table.attrs.get("problems", []))
    problems.extend(f"用地集约 (修复): {p}" for p in table.attrs.get("repairs", []))
    if enterprises is None:
        problems.append("用地集约: no enterprise table; 亩均 figures are 'missing'")
    far_grid = None
    if buildings is not None and len(buildings):
        cell = float(config.get("intensity", "far_cell_m", 100.0))
        grid_kwargs = {k: kwargs[k] for k in ("floors_col", "height_col") if k in kwargs}
        try:
            far_grid = intensity.floor_area_grid(buildings, cell_m=cell, **grid_kwargs)
        except OptionError as exc:  # buildings far apart (wrong coordinates): no heat map, said so
            problems.append(f"用地集约: the FAR grid was not drawn: {exc}")
    return IntensityResult(parcels=parcels, table=table, far_grid=far_grid, buildings=buildings)


def _check_home_columns(config: ProjectConfig, homes: gpd.GeoDataFrame) -> None:
    """The homes layer has the columns ``[access]`` names, or a SchemaError naming the entry."""
    keys = [
        key
        for key in ("population_col", "home_town_col", "population", "use_col")
        if config.get("access", key) not in (None, "estimate") and config.get("access", key) not in homes.columns
    ]
    if keys:
        named = {key: config.get("access", key) for key in keys}
        absent = [f"{k} = {v!r} ({schema.absent_column_hint(homes.columns, 'homes', v)})" for k, v in named.items()]
        msg = (
            f"[access]: the homes layer has no column {', '.join(absent)} "
            f"(columns: {list(homes.columns)}); fix the name in project.toml"
        )
        exc = SchemaError(msg, absent)
        exc.config_key = f"[access].{keys[0]}" if len(keys) == 1 else "[access]"
        raise exc


def _town_of_home(config: ProjectConfig, towns: Towns, homes: gpd.GeoDataFrame) -> pd.Series:
    """The town id of each home: ``home_town_col``, the towns' id column on the homes, or location."""
    town_col = config.get("access", "home_town_col")
    if town_col is None:
        town_col = towns.id_col if towns.id_col in homes.columns else None
    if town_col is None:
        from tongzhen_gis import access

        return access.assign_towns(homes, towns.layer, id_col=towns.id_col)
    return homes[town_col]


def _run_access(config: ProjectConfig, towns: Towns, problems: list[str]) -> AccessResult | None:
    from tongzhen_gis import access, network

    roads = _read(config, "access", "roads", problems)
    facilities = _read(config, "access", "facilities", problems)
    homes = _read(config, "access", "homes", problems)
    if roads is None or facilities is None or homes is None:
        problems.append("[access] needs roads, facilities and homes: 15-minute access was not measured")
        return None
    people_col = config.get("access", "population") or config.get("access", "population_col")
    if people_col != "estimate":  # population is also found as 人口, renkou, pop … (rules/schema.toml)
        homes = schema.use_columns(homes, "homes", people_col)
    _check_home_columns(config, homes)
    category_col = config.get("access", "category_col", "category")
    catalogue = config.get("access", "catalogue")
    G = network.from_lines(roads)
    options: dict[str, Any] = {"category_col": category_col, "catalogue": catalogue}
    threshold = config.get("access", "threshold_m")
    if config.get("access", "max_distance_m") is not None:
        options["max_distance_m"] = float(config.get("access", "max_distance_m"))
    if catalogue is not None:
        try:
            access.load_catalogue(catalogue)
        except TongzhenError as exc:
            raise _config_error(exc, "[access].catalogue") from exc
    nearest = access.nearest(G, homes, facilities, **options)
    town_of_home = _town_of_home(config, towns, homes)
    people = _people_of_homes(config, homes, problems)
    town_ids = towns.layer[towns.id_col]
    # every town, also one without homes
    cov_kwargs: dict[str, Any] = {"by": town_of_home, "weights": people, "groups": town_ids}
    if towns.name_col is not None:
        cov_kwargs["names"] = access.town_names(towns.layer, id_col=towns.id_col, name_col=towns.name_col)
    if threshold is not None:
        cov_kwargs["threshold_m"] = float(threshold)
    coverage = access.coverage(nearest, **cov_kwargs)
    by_town = _access_indicators(coverage, towns.layer[towns.id_col], weighted=people is not None)
    service_areas = None
    if config.get("access", "service_areas", True):
        service_areas = access.service_areas(
            G,
            facilities,
            category_col=category_col,
            thresholds_m=(float(threshold),) if threshold is not None else "catalogue",
            catalogue=catalogue,
        )
    unplaced = [str(t) for t in pd.unique(town_of_home.dropna()) if t not in set(towns.layer[towns.id_col])]
    if unplaced:
        problems.append(f"生活圈: homes assigned to unknown towns {unplaced[:5]}")
    n_out = int(town_of_home.isna().sum())
    if n_out:
        problems.append(
            f"生活圈: {n_out} home(s) lie in no town; they are in the homes layer, not in any town's figures"
        )
    return AccessResult(
        roads=roads,
        facilities=facilities,
        homes=homes,
        nearest=nearest,
        town_of_home=town_of_home,
        coverage=coverage,
        by_town=by_town,
        service_areas=service_areas,
        population=people,
    )


def _people_of_homes(config: ProjectConfig, homes: gpd.GeoDataFrame, problems: list[str]) -> pd.Series | None:
    """People per home: ``[access] population`` (``"estimate"`` or a column), else ``population_col``."""
    from tongzhen_gis import access
    from tongzhen_gis.access.population import describe

    asked = config.get("access", "population")
    if asked is None or asked != "estimate":
        column = asked or config.get("access", "population_col")
        return homes[column] if column is not None else None
    raster = None
    if (src := config.get("access", "population_raster")) is not None:
        try:
            raster = tzio.read_raster(src.path)
        except TongzhenError as exc:
            raise _config_error(exc, "[access].population_raster") from exc
    kwargs = {
        "parcels": _read(config, "intensity", "parcels", problems),
        "totals": _read(config, "access", "population_totals", problems),
        "raster": raster,
        "per_capita_m2": config.get("access", "per_capita_m2"),
        "use_col": config.get("access", "use_col"),
        "totals_col": config.get("access", "totals_col", "population"),
    }
    for key in ("landuse_col", "floors_col", "height_col"):
        if config.get("intensity", key) is not None:
            kwargs[key] = config.get("intensity", key)
    try:
        people = access.estimate_population(homes, **kwargs)
    except TongzhenError as exc:
        raise _config_error(exc, "[access].population") from exc
    problems.append(f"生活圈人口: {describe(people)}")
    problems.extend(f"生活圈人口: {p}" for p in people.attrs["problems"])
    return people


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


def _towns_layer(config: ProjectConfig) -> Towns:
    try:
        layer = tzio.read_layer(
            config.get("towns", "path"),
            layer=config.get("towns", "layer"),
            crs=config.get("towns", "crs"),
            coord_system=config.get("towns", "coord_system"),
            encoding=config.get("towns", "encoding"),
            swap_xy=bool(config.get("towns", "swap_xy", False)),
        )
    except TongzhenError as exc:
        raise _config_error(exc, "[towns]") from exc
    id_col = config.get("towns", "id_col", "town_id")
    name_col = config.get("towns", "name_col", "name_zh")
    category_col = config.get("towns", "category_col", "category")
    try:  # columns under an alias of rules/schema.toml (小镇编号, 小镇名称 …) are used
        layer = schema.use_columns(layer, "towns", id_col, name_col, category_col)
    except TongzhenError as exc:
        raise _config_error(exc, "[towns]") from exc
    problems = []
    if id_col not in layer.columns:
        problems.append(f"towns layer has no id column {id_col!r} (columns: {list(layer.columns)}); set [towns].id_col")
    elif layer[id_col].duplicated().any():
        dups = sorted(map(str, layer.loc[layer[id_col].duplicated(), id_col]))
        problems.append(f"towns layer has duplicate ids {dups[:5]} in {id_col!r}; give each town a unique id")
    if category_col not in layer.columns:
        logger.warning("towns layer has no %r column: rules limited to town types are 'missing'", category_col)
    if problems:
        raise SchemaError("; ".join(problems), problems)
    return Towns(
        layer=layer, id_col=id_col, name_col=name_col if name_col in layer.columns else None, category_col=category_col
    )


def _read_town_stats(config: ProjectConfig, towns: Towns) -> pd.DataFrame | None:
    """The ``[town_stats]`` table indexed by town id, or None when the config has none."""
    stats_src = config.get("town_stats", "path")
    if stats_src is None:
        return None
    stats = _read_table(stats_src, "[town_stats].path")
    stats_id = config.get("town_stats", "id_col", towns.id_col)
    if stats_id not in stats.columns:
        msg = f"town statistics table {stats_src} has no column {stats_id!r}; set [town_stats].id_col"
        raise SchemaError(msg)
    return stats.set_index(stats_id)


#: The analysis steps in the order they run: config table, step, what is 'missing' without it.
_STEPS: tuple[tuple[str, Callable[[ProjectConfig, Towns, list[str]], Any], str], ...] = (
    ("control_lines", _run_control_lines, "the three-line rules are 'missing'"),
    ("intensity", _run_intensity, "land-use and 亩均 rules are 'missing'"),
    ("access", _run_access, "the 15-minute rule is 'missing'"),
)


def _note_undeclared_gcj02(towns: Towns, results: Mapping[str, Any], problems: list[str]) -> None:
    """Note lon/lat towns without ``coord_system`` checked against survey layers (checked against the roads)."""
    lines, intensity, access = (results.get(k) for k in ("control_lines", "intensity", "access"))
    against = dict(lines.layers) if lines is not None else {}
    if intensity is not None:
        against["parcels"] = intensity.parcels
    note = webmap.undeclared_gcj02_note(
        towns.layer,
        what="[towns]",
        checked_against=against,
        reference=access.roads if access is not None else None,
        declare='coord_system = "{}" in [towns]',
    )
    if note is not None:
        problems.append(note)


def run_analyses(config: ProjectConfig, problems: list[str]) -> ReportRun:
    """Check the inputs and rules, read the towns, run every step the config names.

    A step whose table is absent is not run and noted in ``problems``; an error of a step that
    does not yet name its config entry (``config_key``) is given the step's table.
    """
    _check_files(config)
    _check_rules(config)
    towns = _towns_layer(config)
    if (note := _dropped_note(towns.layer, "[towns]")) is not None:
        problems.append(note)
    water = _read(config, "base_layers", "water", problems)
    base_roads = _read(config, "base_layers", "roads", problems)
    results: dict[str, Any] = {}
    for section, step, absent in _STEPS:
        if not config.has(section):
            problems.append(f"no [{section}] in the config: {absent}")
            continue
        try:
            results[section] = step(config, towns, problems)
        except TongzhenError as exc:
            if exc.config_key is not None:  # already names its config entry
                raise
            raise _config_error(exc, f"[{section}]") from exc
    _note_undeclared_gcj02(towns, results, problems)
    from tongzhen_gis.report.city import _run_city  # the chapter 城市总体目标 of [city]

    return ReportRun(
        towns=towns,
        water=water,
        roads=base_roads,
        lines=results.get("control_lines"),
        intensity=results.get("intensity"),
        access=results.get("access"),
        town_stats=_read_town_stats(config, towns),
        city=_run_city(config, problems),
    )


def evaluate_towns(
    config: ProjectConfig, run: ReportRun, problems: list[str]
) -> tuple[pd.DataFrame, evaluate.Evaluation]:
    """The joined indicator table and the evaluation (scorecard, grades, conflicts) of a run."""
    towns = run.towns
    indicators = evaluate.collect_indicators(
        towns.layer,
        control_lines=run.lines.check.summary if run.lines is not None else None,
        intensity=run.intensity.table if run.intensity is not None else None,
        access=run.access.by_town if run.access is not None else None,
        town_stats=run.town_stats,
        id_col=towns.id_col,
        category_col=towns.category_col,
    )
    name_col = towns.name_col
    if name_col is not None and name_col not in indicators.columns:
        indicators.insert(1, name_col, towns.layer.set_index(towns.id_col)[name_col].reindex(indicators.index))
    problems.extend(f"指标汇总: {p}" for p in indicators.attrs.get("problems", []))
    card = evaluate.scorecard(indicators, rules=config.rules, category_col=towns.category_col)
    problems.extend(f"评估: {p}" for p in card.attrs.get("problems", []))
    evaluation = evaluate.Evaluation(
        scorecard=card,
        grades=evaluate.grade(card, rules=config.grading),
        conflicts=run.lines.check.conflicts if run.lines is not None else None,
    )
    return indicators, evaluation
