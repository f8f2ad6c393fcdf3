"""``tongzhen access``: 15-minute walking access to the "八个一" facilities (15分钟生活圈 可达性).

Reads the roads, the facilities and the homes with :func:`tongzhen_gis.io.read_layer`, builds
the walking network (:func:`tongzhen_gis.network.from_lines`), and writes to ``OUT``:

* ``home_distances.gpkg`` (layer ``home_distances``): every home with its walking distance to
  the nearest facility of each category (``<category>_m``, empty when none within
  ``--max-distance-m``), ``snap_m``, ``reachable`` (False: farther than ``--max-snap-m`` from any
  street), ``town`` and ``categories_reached``;
* ``coverage.csv`` (UTF-8 with BOM): per town and category, the distance used
  (``threshold_m``, ``distance_from``), the share of homes and of people within it, plus
  ``all_categories`` (every category within its own distance). With ``--towns`` every town of
  the layer is listed, in its order, with its name beside its id (``--town-name-col``), also a
  town without homes (empty shares and a ``note``, also printed as a note);
* ``service_areas.gpkg`` (layer ``service_areas``): per category and distance, the area within
  walking reach, following the streets.

The catalogue
-------------
``--catalogue NAME|FILE`` names the facility catalogue: a shipped one (``facilities``, the
default "八个一"; ``gb50180-2018``; ``tdt1062-2021``) or a TOML file in the same format. Each
category is checked at its own walking distance (``distance_m`` in the catalogue, else its
life-circle level, 1000 m) unless ``--threshold-m`` gives one for all. ``--categories
park,clinic`` limits the check to those ids (any ids, without ``--catalogue``), so a town with
only parks data is not reported as lacking the rest.

People
------
``--population COLUMN`` (default ``--population-col``, itself ``population`` by default) reads
people per home from a column; the default is also found under the column's accepted names
(人口, 人数, 常住人口, renkou, pop …: ``rules/schema.toml``, role ``homes``), a name given is
taken literally;
``--population estimate`` estimates them (:func:`tongzhen_gis.access.estimate_population`):
from residential floor area (``--parcels`` land use or ``--use-col``, floors, ``--per-capita-m2``),
by sharing known totals (``--totals``, ``--totals-col``), or from a population raster
(``--population-raster``). The method is printed and written beside each home
(``population_estimate``).

Exit codes: 0 every town has every category within the threshold for at least one home; 1 a
town lacks a category (no home of it reaches one), or homes are off the network; 2 bad input,
in one line naming the input and the option that fixes it (``--crs roads=EPSG:4549`` for a
file without CRS, ``--layer homes=LAYER`` for a missing layer …).

Naming the inputs
-----------------
The inputs are called ``roads``, ``facilities``, ``homes`` and ``towns``. Options that concern
one input name it, as in every ``tongzhen`` command:

* ``--layer NAME=LAYER`` picks a layer inside a multi-layer file, e.g. ``--layer homes=buildings``;
* ``--crs NAME=CRS`` declares the CRS of a file that has none, e.g. ``--crs roads=EPSG:4549``;
* ``--coord-system NAME=wgs84|gcj02|bd09`` declares web-map coordinates (gcj02: Amap/Tencent,
  bd09: Baidu), converted to WGS84 first; ``wgs84`` confirms true WGS84;
* ``--encoding NAME=ENCODING`` names the text encoding of a shapefile, e.g. ``--encoding homes=gbk``.

Web-map coordinates: facilities (and homes) in longitude/latitude without
``--coord-system facilities=…`` (``homes=…``) are checked against the roads with
:func:`tongzhen_gis.crs.suspect_gcj02` (distance method, at most 2 000 features, evenly spaced,
so it stays cheap): when read as GCJ-02 they lie clearly nearer the streets (median distance
at least halved, and more than 20 m as given), the command stops with exit code 2 and one line
giving both medians and the fix (``--coord-system facilities=gcj02``, ``bd09`` for Baidu, or
``wgs84`` to confirm true WGS84, which skips the check). A layer that passes gets a note that
web-map points would be several hundred metres off. Projected layers (official CGCS2000) are
never checked: they cannot be GCJ-02.

Homes are grouped by town with :func:`tongzhen_gis.access.assign_towns` (the town containing a
point inside each home, as in ``tongzhen report``); without ``--towns``, by the homes'
``--town-id-col`` column when they have one.

Notes on stderr, never silent: homes without the ``--population-col`` column are counted as
homes (not people); homes off the network, facilities not reached and homes with an unknown
population are logged as warnings.
"""

from __future__ import annotations

import logging
from pathlib import Path

import click
import geopandas as gpd
import pandas as pd

from tongzhen_gis import access, io, network, schema
from tongzhen_gis import crs as tzcrs
from tongzhen_gis.access.population import describe as population_note
from tongzhen_gis.access.sources import MAX_SNAP_M
from tongzhen_gis.cli._common import (
    dropped_empty_note,
    hinted,
    input_options,
    out_dir_option,
    parse_input_options,
)
from tongzhen_gis.cli._progress import Stages
from tongzhen_gis.errors import CRSError, SchemaError

logger = logging.getLogger(__name__)

_PATH = click.Path(dir_okay=True, path_type=Path)
_TABLE_ROWS = 40
_METRES = click.FloatRange(min=0)


#: The inputs, as named in ``--layer``, ``--crs``, ``--coord-system``, ``--encoding`` and in error messages.
INPUTS = ("roads", "facilities", "homes", "towns", "parcels", "totals")


def _check_web_map_offset(name: str, path: Path, gdf: gpd.GeoDataFrame, roads: gpd.GeoDataFrame) -> bool:
    """Stop when the undeclared longitude/latitude layer ``name`` looks like GCJ-02 next to the roads.

    Returns True when the check ran and found no sign of GCJ-02, False when it could not run (a
    projected layer, or no geometry in either layer).

    Raises
    ------
    CRSError
        One line: the two median distances to the roads and the options that fix it.
    """
    if gdf.crs is None or not gdf.crs.is_geographic or roads.crs is None:
        return False
    usable = gdf.geometry.notna() & ~gdf.geometry.is_empty
    if not usable.any() or not (roads.geometry.notna() & ~roads.geometry.is_empty).any():
        return False
    check = tzcrs.suspect_gcj02(gdf[usable], roads, method="distance")
    if check.suspected:
        option = f"--coord-system {name}="
        msg = (
            f"{name} ({path}) look like GCJ-02 web-map coordinates (Amap/Tencent), not WGS84: "
            f"their median distance to the nearest road is {check.median_m:.0f} m as given but "
            f"{check.median_as_gcj02_m:.0f} m read as GCJ-02 ({check.features_checked} checked); declare "
            f"{option}gcj02 (or {option}bd09 for Baidu points), or {option}wgs84 if they really are "
            "WGS84 (GPS, OpenStreetMap), which skips this check"
        )
        raise CRSError(msg, param="coord_system")
    logger.info("%s: %s", name, check.note)
    return True


#: The fix of this command for each keyword of the analysis functions.
ANALYSIS_HINTS = {
    "category_col": "--category-col COLUMN",
    "class_col": "--road-class-col COLUMN",
    "id_col": "--town-id-col COLUMN",
    "catalogue": "--catalogue NAME|FILE",
    "categories": "--categories ID,ID",
    "threshold_m": "--threshold-m METRES",
    "parcels": "--parcels FILE or --use-col COLUMN",
    "use_col": "--use-col COLUMN",
    "landuse_col": "--landuse-col COLUMN",
    "totals_col": "--totals-col COLUMN",
    "per_capita_m2": "--per-capita-m2 M2",
    "totals": "--totals FILE or --population-raster FILE",
}


def _town_of_homes(
    homes: gpd.GeoDataFrame, towns: gpd.GeoDataFrame | None, town_id_col: str, path: Path | None
) -> pd.Series:
    """The town of each home: :func:`tongzhen_gis.access.assign_towns` with a towns layer, else a column of homes."""
    if towns is None:
        homes = schema.use_columns(homes, "homes", town_id_col)  # 小镇编号 … too
        if town_id_col in homes.columns:
            return homes[town_id_col].rename("town")
        return pd.Series("all", index=homes.index, name="town")
    with hinted(ANALYSIS_HINTS, where=f"towns ({path})"):
        return access.assign_towns(homes, towns, id_col=town_id_col).rename("town")


def _web_map_notes(
    system_of: dict[str, str], layers: dict[str, tuple[Path, gpd.GeoDataFrame]], roads: gpd.GeoDataFrame
) -> list[str]:
    """Check undeclared longitude/latitude facilities and homes against the roads (stop on GCJ-02); the notes."""
    # Undeclared longitude/latitude may be web-map coordinates ~500 m off: stop when the roads say so.
    checked = {name: name not in system_of and _check_web_map_offset(name, *layers[name], roads) for name in layers}
    fac_gdf = layers["facilities"][1]
    if "facilities" in system_of or fac_gdf.crs is None or not fac_gdf.crs.is_geographic:
        return []
    passed = " (next to the roads they show no sign of GCJ-02)" if checked["facilities"] else ""
    note = (
        f"facilities are in longitude/latitude and no --coord-system facilities=… was given{passed}: points taken "
        "from Amap/Tencent (GCJ-02) or Baidu (BD-09) are several hundred metres off; declare "
        "--coord-system facilities=gcj02 (or bd09) if they come from there, wgs84 if not"
    )
    return [note]


def _people_column(home_gdf: gpd.GeoDataFrame, population_col: str) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Homes with their people column under ``population_col`` (人口, renkou, pop … too); notes, or a SchemaError.

    The default name ``population`` is looked for under every accepted name of
    ``rules/schema.toml`` (role ``homes``) and renamed, with a note; a name given on the command
    line is taken literally, and its absence stops the command naming what was looked for and
    a column that means the same, if any.
    """
    ctx = click.get_current_context()
    given = [
        f"--{p.replace('_', '-')}"
        for p in ("population_col", "population")
        if ctx.get_parameter_source(p) == click.core.ParameterSource.COMMANDLINE
    ]
    home_gdf = schema.use_columns(home_gdf, "homes", population_col)
    renamed = {k: v for k, v in home_gdf.attrs.get("renamed_columns", {}).items() if v == population_col}
    if population_col in home_gdf.columns:
        notes = [f"homes: people per home read from column {k!r} (a name of {v!r})" for k, v in renamed.items()]
        return home_gdf, notes
    hint = schema.absent_column_hint(home_gdf.columns, "homes", population_col)
    columns = ", ".join(map(str, home_gdf.columns.drop(home_gdf.geometry.name)))
    if given:
        alike = schema.same_meaning(home_gdf.columns, population_col)
        fix = f": {given[-1]} {alike[0]}" if alike else ""
        msg = f"homes have no column {population_col!r} (given with {given[-1]}; {hint}){fix}; their columns: {columns}"
        raise SchemaError(msg, [msg])
    note = (
        f"homes have no population column ({hint}): coverage counts homes, not people; name the "
        "people column with --population-col (or --population COLUMN), or estimate them with --population estimate"
    )
    return home_gdf, [note]


def _prepare_homes(
    home_gdf: gpd.GeoDataFrame, *, population_col: str, home_id_col: str
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Homes indexed by their id when it is unique; notes on the people column and homes without geometry."""
    notes: list[str] = []
    if population_col != ESTIMATE:
        home_gdf, notes = _people_column(home_gdf, population_col)
    if home_id_col in home_gdf.columns and home_gdf[home_id_col].is_unique:
        home_gdf = home_gdf.set_index(home_id_col, drop=False)
        home_gdf.index.name = None
    no_geometry = home_gdf.index[home_gdf.geometry.isna().to_numpy()]
    if len(no_geometry):  # named by home id when there is one, else by file row
        notes.append(
            f"homes: {len(no_geometry)} home(s) without geometry, written as unreachable: "
            f"{', '.join(map(str, no_geometry[:20]))}{' …' if len(no_geometry) > 20 else ''}"
        )
    return home_gdf, notes


def _coverage_rows(cov: pd.DataFrame) -> pd.DataFrame:
    """The coverage table as written: town id, its name beside it (when known), then the figures."""
    rows = cov.reset_index()
    if "name" in rows.columns:
        rows.insert(1, "name", rows.pop("name"))
    return rows


def _echo_coverage(cov: pd.DataFrame) -> pd.DataFrame:
    """Print the coverage table and one ``missing:`` line per gap (:func:`tongzhen_gis.access.gaps`); the gaps."""
    table = access.share_table(cov)
    distance_m = cov.attrs["distance_m"]
    if cov.attrs.get("threshold_m") is not None:
        click.echo(f"coverage within {cov.attrs['threshold_m']:g} m ({table.attrs['column']}):")
    else:
        each = ", ".join(f"{c} {d:g} m" for c, d in distance_m.items())
        click.echo(f"coverage within each category's distance ({table.attrs['column']}): {each}")
    shown = table.head(_TABLE_ROWS).map(lambda v: "—" if pd.isna(v) else f"{v:.0%}")
    click.echo(shown.to_string())
    if len(table) > _TABLE_ROWS:
        click.echo(f"… {len(table) - _TABLE_ROWS} more towns in coverage.csv")
    # dist.attrs["problems"] (homes off the network, unusable facilities) are logged as warnings
    lacking = access.gaps(cov)
    for town_id, category in lacking.index:
        click.echo(f"missing: town {town_id} has no {category} within {distance_m[category]:g} m of any home", err=True)
    return lacking


#: ``--population`` value that asks for an estimate instead of a column.
ESTIMATE = "estimate"


def _split_ids(text: str | None) -> list[str] | None:
    """``--categories park,clinic`` as a list of ids (None when not given)."""
    if text is None:
        return None
    ids = [t.strip() for t in text.split(",") if t.strip()]
    if not ids:
        msg = f"--categories {text!r} names no category; write --categories park,clinic"
        raise click.BadParameter(msg, param_hint="--categories")
    return ids


def _estimated_people(
    home_gdf: gpd.GeoDataFrame,
    *,
    read,
    parcels: Path | None,
    totals: Path | None,
    population_raster: Path | None,
    use_col: str | None,
    landuse_col: str,
    totals_col: str,
    per_capita_m2: float | None,
) -> pd.Series:
    """``--population estimate``: :func:`tongzhen_gis.access.estimate_population` on the homes."""
    parcel_gdf = read("parcels", parcels) if parcels is not None else None
    total_gdf = read("totals", totals) if totals is not None else None
    raster = None
    if population_raster is not None:
        with hinted(ANALYSIS_HINTS, where=f"population raster ({population_raster})"):
            raster = io.read_raster(population_raster)
    with hinted(ANALYSIS_HINTS, where="--population estimate"):
        return access.estimate_population(
            home_gdf,
            parcels=parcel_gdf,
            totals=total_gdf,
            raster=raster,
            use_col=use_col,
            landuse_col=landuse_col,
            totals_col=totals_col,
            per_capita_m2=per_capita_m2,
        )


@click.command(name="access")
@click.option("--roads", type=_PATH, required=True, help="Road centre lines (道路中心线 / OSM ways).")
@click.option("--facilities", type=_PATH, required=True, help="Facilities (points or polygons) with a category id.")
@click.option("--homes", type=_PATH, required=True, help="Homes, buildings or parcels (origins).")
@click.option("--towns", type=_PATH, default=None, help="Town boundaries; homes are grouped by the town they lie in.")
@input_options(INPUTS)
@click.option(
    "--catalogue",
    default=None,
    metavar="NAME|FILE",
    help="Facility catalogue: facilities (八个一, default), gb50180-2018, tdt1062-2021, or a TOML file.",
)
@click.option(
    "--categories",
    "categories_text",
    default=None,
    metavar="ID,ID",
    help="Only these category ids (any ids without --catalogue), e.g. park,clinic.",
)
@click.option("--category-col", default="category", show_default=True, help="Category id column of --facilities.")
@click.option("--road-class-col", default=None, help="Road class column (default: fclass or highway when present).")
@click.option(
    "--home-id-col", default="home_id", show_default=True, help="Home id column, used in messages when present."
)
@click.option("--town-id-col", default="town_id", show_default=True, help="Town id column (of --towns, or --homes).")
@click.option(
    "--town-name-col",
    default=None,
    help="Town name column of --towns [default: name_zh, 名称, 小镇名称, name … when present].",
)
@click.option(
    "--population-col",
    default="population",
    show_default=True,
    help="People per home (no such column: homes counted, noted).",
)
@click.option(
    "--population",
    default=None,
    metavar="estimate|COLUMN",
    help="People per home: a column of --homes, or 'estimate' (floor area, --totals or --population-raster).",
)
@click.option("--parcels", type=_PATH, default=None, help="Land-use parcels: homes on 用地用海 07 are residential.")
@click.option("--use-col", default=None, help="Building use column of --homes (住宅, residential, 0701 …).")
@click.option("--landuse-col", default="landuse_code", show_default=True, help="Land-use code column of --parcels.")
@click.option("--totals", type=_PATH, default=None, help="街道/社区 polygons with known population (shared out).")
@click.option("--totals-col", default="population", show_default=True, help="Population column of --totals.")
@click.option("--population-raster", type=_PATH, default=None, help="Population raster (e.g. WorldPop) GeoTIFF.")
@click.option(
    "--per-capita-m2",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Floor area per person [default: rules population, 2020 census urban figure, unconfirmed].",
)
@click.option(
    "--threshold-m",
    type=_METRES,
    default=None,
    help="One coverage distance for every category [default: each category's distance in the catalogue, "
    "else the 15-minute 1000 m].",
)
@click.option(
    "--service-area-m",
    "service_area_m",
    type=_METRES,
    multiple=True,
    help="Service-area distances [default: the life-circle levels, 300/500/1000 m, and each category's own]. "
    "Repeatable.",
)
@click.option("--max-distance-m", type=_METRES, default=2000.0, show_default=True, help="Distances beyond are empty.")
@click.option(
    "--max-snap-m", type=_METRES, default=MAX_SNAP_M, show_default=True, help="Farther from any street: unreachable."
)
@click.option(
    "--engine",
    type=click.Choice(["local", "dask"]),
    default="local",
    show_default=True,
    help="dask: one part per town on a dask cluster (same numbers).",
)
@click.option("--scheduler", default=None, help="With --engine dask: scheduler address [default: a LocalCluster].")
@out_dir_option()
def command(
    roads: Path,
    facilities: Path,
    homes: Path,
    towns: Path | None,
    catalogue: str | None,
    categories_text: str | None,
    category_col: str,
    road_class_col: str | None,
    home_id_col: str,
    town_id_col: str,
    town_name_col: str | None,
    population_col: str,
    population: str | None,
    parcels: Path | None,
    use_col: str | None,
    landuse_col: str,
    totals: Path | None,
    totals_col: str,
    population_raster: Path | None,
    per_capita_m2: float | None,
    threshold_m: float | None,
    service_area_m: tuple[float, ...],
    max_distance_m: float,
    max_snap_m: float,
    engine: str,
    scheduler: str | None,
    out_dir: Path,
    **per_input: tuple[str, ...],
) -> int:
    """Walking distance from every home to each facility category, coverage per town, service areas.

    Writes OUT/home_distances.gpkg, OUT/coverage.csv and OUT/service_areas.gpkg. Exit code 0
    when every town reaches every category, 1 when a town lacks one (or homes are off the
    street network), 2 on bad input.
    """
    cats = _split_ids(categories_text)
    population_col = population or population_col
    given = {"roads", "facilities", "homes"} | {
        name for name, path in (("towns", towns), ("parcels", parcels), ("totals", totals)) if path is not None
    }
    options = parse_input_options(
        **per_input,
        inputs=INPUTS,
        given=given,
        bare=None,  # every input is named (no positional one)
    )
    system_of = options.coord_system

    read = options.read
    stages = Stages("access", ["read", "network", "distances", "coverage", "service areas", "write"])
    stages.start("read")
    road_gdf = read("roads", roads)
    fac_gdf = read("facilities", facilities)
    # Homes keep their rows without geometry: each is written, unreachable (access.nearest lists it).
    home_gdf = read("homes", homes, drop_empty=False)
    notes = [
        note for name, gdf in (("roads", road_gdf), ("facilities", fac_gdf)) if (note := dropped_empty_note(name, gdf))
    ]
    notes += _web_map_notes(system_of, {"facilities": (facilities, fac_gdf), "homes": (homes, home_gdf)}, road_gdf)
    home_gdf, home_notes = _prepare_homes(home_gdf, population_col=population_col, home_id_col=home_id_col)
    notes += home_notes
    town_gdf = None
    if towns is not None:
        town_gdf = read("towns", towns)
        if note := dropped_empty_note("towns", town_gdf):
            notes.append(note)
    town = _town_of_homes(home_gdf, town_gdf, town_id_col, towns)
    if town.isna().any():
        notes.append(
            f"{int(town.isna().sum())} home(s) lie in no town (or have no {town_id_col}): kept, grouped under an "
            f"empty town: {', '.join(map(str, town.index[town.isna()][:10]))}"
        )
    weights = None
    if population_col == ESTIMATE:
        weights = _estimated_people(
            home_gdf,
            read=read,
            parcels=parcels,
            totals=totals,
            population_raster=population_raster,
            use_col=use_col,
            landuse_col=landuse_col,
            totals_col=totals_col,
            per_capita_m2=per_capita_m2,
        )
        notes.append(population_note(weights))
        notes += [f"population: {p}" for p in weights.attrs["problems"]]
    elif population_col in home_gdf.columns:
        weights = home_gdf[population_col]
    with hinted(ANALYSIS_HINTS):
        stages.start("network")
        G = network.from_lines(road_gdf, class_col=road_class_col)
        net = access.prepare(G)
        logger.info("walking network: %d nodes, %d edges", G.number_of_nodes(), G.number_of_edges())
        stages.start("distances")
        dist = access.nearest(
            net,
            home_gdf,
            fac_gdf,
            category_col=category_col,
            max_distance_m=max(max_distance_m, threshold_m or 0.0),
            max_snap_m=max_snap_m,
            categories=cats,
            catalogue=catalogue,
            engine=engine,
            parts=town if engine == "dask" and (town_gdf is not None or town_id_col in home_gdf.columns) else None,
            scheduler=scheduler,
        )
    stages.start("coverage")
    groups = names = None
    if town_gdf is not None:  # every town of the layer, also one without homes, with its name
        groups = town_gdf[town_id_col]
        with hinted({"name_col": "--town-name-col COLUMN", "id_col": "--town-id-col COLUMN"}, where=f"towns ({towns})"):
            names = access.town_names(town_gdf, id_col=town_id_col, name_col=town_name_col)
    with hinted(ANALYSIS_HINTS):
        cov = access.coverage(dist, threshold_m=threshold_m, by=town, weights=weights, groups=groups, names=names)
        notes += [p for p in cov.attrs["problems"] if "have no origins" in p]
        own = cov.attrs["distance_m"]
        areas_m = tuple(service_area_m) or access.life_circle_distances_m()
        area_thresholds = {c: sorted({*areas_m, *(() if service_area_m else (own[c],))}) for c in own}
        stages.start("service areas")
        areas = access.service_areas(
            net,
            fac_gdf,
            thresholds_m=area_thresholds,
            category_col=category_col,
            max_snap_m=max_snap_m,
            categories=cats,
            catalogue=catalogue,
        )

    per_home = access.home_table(home_gdf, dist, town=town, threshold_m=own)
    if population_col == ESTIMATE and weights is not None:
        per_home["population_estimate"] = weights.to_numpy()

    stages.start("write")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [
        io.write_layer(per_home.reset_index(drop=True), out_dir / "home_distances.gpkg", layer="home_distances"),
        io.write_table(_coverage_rows(cov), out_dir / "coverage.csv", index=False),
        io.write_layer(areas, out_dir / "service_areas.gpkg", layer="service_areas"),
    ]

    stages.done()
    for note in notes:
        click.echo(f"note: {note}", err=True)
    lacking = _echo_coverage(cov)
    for path in written:
        click.echo(str(path))
    off_network = int((~dist["reachable"]).sum())
    return 1 if len(lacking) or off_network else 0


__all__ = ["command"]
