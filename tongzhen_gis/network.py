"""Walking networks (步行网络) from road centre lines and OpenStreetMap extracts.

Every builder returns the same kind of graph, the contract :mod:`tongzhen_gis.access` relies on:

* a :class:`networkx.MultiGraph` (undirected: walking ignores one-way rules, 单行道);
* ``G.graph["crs"]``: the metric :class:`pyproj.CRS` the graph is measured in;
* ``G.graph["report"]``: what was read, dropped and why (see :func:`from_lines`);
* nodes are ``int`` ids with float ``x``, ``y`` in that CRS (and osmnx's ``street_count``);
* every edge has ``length`` (metres, equal to the length of its ``geometry``), ``geometry``
  (a LineString whose first and last coordinates are those of its two nodes, in either order),
  and ``fclass``, ``name``, ``road_id`` and ``source_index`` (the input row) where known.

The graph is osmnx-compatible: ``osmnx.convert.graph_to_gdfs(G)`` works on it, and
:func:`graph_to_gdfs` does the same without importing osmnx.

Builders
--------
:func:`from_lines`
    A road-centreline layer (a planning bureau's 道路中心线, OSM ways from Geofabrik …).
:func:`from_osm`
    ``.osm``, ``.osm.bz2`` or ``.osm.pbf`` extracts, filtered like osmnx's ``"walk"`` network.
:func:`from_place`
    Downloads with osmnx (needs internet), then the same conversion.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from tongzhen_gis import crs as tzcrs
from tongzhen_gis import rules as tzrules
from tongzhen_gis.access.build import remember_arrays
from tongzhen_gis.errors import NetworkDataError, OptionError, RuleDataError

__all__ = [
    "DEFAULT_EXCLUDE",
    "DEFAULT_EXCLUDE_ON_STRUCTURE",
    "DEFAULT_TOLERANCE_M",
    "KNOWN_WALKABLE",
    "from_lines",
    "from_osm",
    "from_place",
    "graph_to_gdfs",
]

logger = logging.getLogger(__name__)

#: Road classes dropped by default: pedestrians are not allowed on them, or they are not roads
#: (yet / any more). Motorways (高速公路) and their ramps forbid walking by law (道路交通安全法
#: 第六十七条); 城市快速路 main carriageways likewise (their 辅路 are separate lines and stay).
#: The OSM values follow osmnx's ``"walk"`` filter (abandoned, bus_guideway, construction,
#: planned, platform, proposed, raceway, razed, rest_area, services, busway). Unlike osmnx,
#: ``cycleway`` is kept: in Chinese cities cycle tracks and 绿道 (greenways) are shared with
#: pedestrians. Compared case-insensitively with the class column.
DEFAULT_EXCLUDE: tuple[str, ...] = (
    "motorway",
    "motorway_link",
    "abandoned",
    "bus_guideway",
    "busway",
    "construction",
    "planned",
    "platform",
    "proposed",
    "raceway",
    "razed",
    "rest_area",
    "services",
    "高速公路",
    "高速",
    "快速路",
)

#: Classes dropped only where they run on a bridge or in a tunnel: Chinese OSM tags urban
#: expressways (高架快速路, 隧道) as ``trunk``; on a structure they cannot be walked, while a
#: ground-level trunk road (国道 through a town) usually has a pavement and is kept.
DEFAULT_EXCLUDE_ON_STRUCTURE: tuple[str, ...] = ("trunk", "trunk_link")

#: Classes known to be walkable; any other class is kept and listed in
#: ``report["unknown_classes"]`` so a reviewer can decide.
KNOWN_WALKABLE: frozenset[str] = frozenset(
    {
        "trunk",
        "trunk_link",
        "primary",
        "primary_link",
        "secondary",
        "secondary_link",
        "tertiary",
        "tertiary_link",
        "unclassified",
        "residential",
        "living_street",
        "service",
        "pedestrian",
        "footway",
        "path",
        "steps",
        "track",
        "track_grade1",
        "track_grade2",
        "track_grade3",
        "track_grade4",
        "track_grade5",
        "bridleway",
        "cycleway",
        "corridor",
        "elevator",
        "road",
        "crossing",
        "sidewalk",
        "主干路",
        "次干路",
        "支路",
        "街巷",
        "步行街",
        "人行道",
        "绿道",
        "村道",
        "乡道",
        "县道",
        "省道",
        "国道",
    }
)

#: ``junctions="auto"`` chooses ``"shared"`` when more than this share of the data's same-level
#: meeting points are shared vertices: "most crossings already share a vertex" (a definition,
#: not a policy number).
AUTO_SHARED_VERTEX_SHARE: float = 0.5

#: Coincident line ends closer than this are merged into one node (1 mm).
DEFAULT_TOLERANCE_M: float = 0.001

_CLASS_COLUMNS = ("fclass", "highway", "class", "road_class", "道路等级")
_ID_COLUMNS = ("road_id", "osm_id", "osmid", "id")
_FALSE_STRINGS = frozenset({"", "f", "false", "no", "n", "0", "none", "nan", "null"})


# ----------------------------------------------------------------------------- from_lines
def from_lines(
    roads: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    class_col: str | None = None,
    exclude: Iterable[str] = DEFAULT_EXCLUDE,
    exclude_on_structure: Iterable[str] = DEFAULT_EXCLUDE_ON_STRUCTURE,
    keep: Literal["all", "largest"] = "all",
    nodes: Literal["junctions", "vertices"] = "junctions",
    junctions: Literal["auto", "shared", "crossings"] = "auto",
    walkability: str | Path | Mapping[str, Any] | None = "walkability",
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    crs: str | int | CRS | None = None,
    id_col: str | None = None,
    name_col: str = "name",
    layer_col: str = "layer",
    bridge_col: str = "bridge",
    tunnel_col: str = "tunnel",
) -> nx.MultiGraph:
    """Build an undirected walking graph from a layer of road centre lines.

    Steps: reproject with :func:`tongzhen_gis.crs.to_metric`; drop null, empty and non-line
    geometries (reported); explode multi-part lines; drop non-walkable classes; split lines
    where they meet; merge coincident line ends; optionally keep only the largest connected
    piece.

    **Where lines connect** (the rule, decided for planning and OSM data alike). A feature's
    *level* is its ``layer`` value (missing or unparsable = 0) when it is neither a bridge nor
    a tunnel; every bridge or tunnel feature is a level of its own. Where two lines on one
    level meet, the meeting point is a *shared vertex* (both lines have a vertex there), a
    *line end* (one line ends on the other), or a *crossing without a shared vertex*.

    1. Lines on the same level are split at every shared vertex. Elsewhere it depends on
       ``junctions``. ``"crossings"``: also at every crossing and wherever a line ends on
       another (a crossroads digitised as two unbroken streets becomes a junction).
       ``"shared"``: nowhere else, as OSM, osmnx, OSRM and r5 do (in noded data such as any OSM
       export a crossing without a shared node is a grade separation not tagged as a bridge,
       or a mapping error). ``"auto"`` chooses ``"shared"`` when most same-level meeting points
       are shared vertices (noded data) and ``"crossings"`` otherwise (survey centre lines
       drawn across each other, or no same-level meeting point to judge by). The choice and
       the number of crossings left unjoined are in the report and logged.
    2. Across levels, a connection exists only where an *endpoint* of one feature lies on the
       other (within ``tolerance_m``; under ``"shared"`` only on a vertex of the other): a
       bridge joined end to end to the street it carries, a ramp ending on a road; and where
       two bridges (or two tunnels) with the same ``layer`` share a vertex (the passages of
       one underground network). Other crossings, and interior vertices that merely coincide,
       never connect: a bridge over a street, a tunnel under it, or two streets with
       different ``layer`` values cross without a junction.
    3. Line ends (and inserted junction points) closer than ``tolerance_m`` become one node.

    **Which lines carry pedestrians.** Classes in ``exclude`` are dropped everywhere, classes
    in ``exclude_on_structure`` on bridges and in tunnels, and the rules of ``walkability``
    (by default ``tongzhen_gis/rules/walkability.toml``: tunnels of motorway to tertiary roads
    and their links, unless a ``foot`` or ``sidewalk`` column says pedestrians may use them)
    where they apply. The length dropped per reason is reported.

    One-way tags are ignored. Lines digitised twice stay as parallel edges. A layer without
    ``layer``, ``bridge`` and ``tunnel`` columns is all one level: every crossing becomes a
    junction, including an elevated road over a street (dropping motorways by class removes
    most such cases; ``report["level_crossings_not_joined"]`` is then 0). A line that
    passes twice through one of its vertices (a loop ending on itself) is split there. Known
    limits: a single line crossing *itself* between vertices is not split at that point, and Z
    coordinates are dropped (lengths are planimetric).

    Parameters
    ----------
    roads : GeoDataFrame or GeoSeries
        Lines with a CRS. Columns used when present: the class column, ``name_col``,
        ``id_col``, ``layer_col``, ``bridge_col``, ``tunnel_col``. Bridge and tunnel values
        count as true unless empty or one of ``F``, ``false``, ``no``, ``0`` (any case), so
        both Geofabrik ``T``/``F`` and OSM ``yes``/``viaduct`` work.
    class_col : str, optional
        Road class column. By default the first of ``fclass``, ``highway``, ``class``,
        ``road_class``, ``道路等级`` present; without one no class filter is applied (reported).
    exclude : iterable of str, default :data:`DEFAULT_EXCLUDE`
        Classes dropped (case-insensitive). Pass ``()`` to keep every class.
    exclude_on_structure : iterable of str, default :data:`DEFAULT_EXCLUDE_ON_STRUCTURE`
        Classes dropped only where the feature is a bridge or tunnel (elevated expressways).
    keep : {"all", "largest"}, default "all"
        ``"largest"`` keeps only the connected piece with the most street length; what is
        dropped is reported either way.
    nodes : {"junctions", "vertices"}, default "junctions"
        ``"junctions"``: nodes at line ends and junctions only, each edge keeps the full
        geometry between them. ``"vertices"``: every vertex is a node (like an unsimplified
        osmnx graph); same distances, many more edges.
    junctions : {"auto", "shared", "crossings"}, default "auto"
        Whether same-level crossings without a shared vertex are junctions (rule 1 above).
    walkability : str, pathlib.Path, mapping or None, default "walkability"
        Rules for lines that carry no pedestrians: the name of a shipped rule file, the path
        of a TOML file in the same format, or its ``no_pedestrians`` table as a mapping
        (``{rule_id: {"classes": [...], "structure": "tunnel", "unless": {...}}}``); None
        applies no such rule. A rule's ``unless`` columns are used where the layer has them.
    tolerance_m : float, default 0.001
        Distance under which points are one node, and an endpoint counts as lying on a line.
    crs : CRS-like, optional
        Metric CRS to build in; default: chosen by :func:`tongzhen_gis.crs.to_metric`.
    id_col : str, optional
        Feature id copied to edges as ``road_id``; default the first of ``road_id``,
        ``osm_id``, ``osmid``, ``id`` present, else the index label.
    name_col, layer_col, bridge_col, tunnel_col : str
        Column names; missing columns mean "no name", layer 0, not a bridge, not a tunnel.

    Returns
    -------
    networkx.MultiGraph
        See the module docstring for the contract. ``G.graph["report"]`` holds:
        ``input_lines``, ``invalid_geometries`` (``{reason: [index labels]}``),
        ``line_parts``, ``class_col``, ``layer_unreadable``, ``dropped_by_class`` (``{class: count}``),
        ``dropped_by_rule`` (``{rule: {class: count}}``, the ``walkability`` rules),
        ``length_m_dropped_by_reason`` (metres of line dropped: ``"class"``,
        ``"class on bridge/tunnel"``, each walkability rule, ``"not in the largest piece"``),
        ``unknown_classes`` (kept, ``{class: count}``), ``lines_used``,
        ``junctions`` (the rule applied, ``"shared"`` or ``"crossings"``), ``junctions_requested``,
        ``meeting_points`` (same-level points by kind: ``shared_vertex``, ``line_end``,
        ``crossing_without_vertex``), ``unjoined_crossings`` (same-level crossings left
        without a junction) and ``unjoined_crossing_points`` (their ``(x, y)``),
        ``unjoined_line_ends`` (under ``"shared"``: line ends lying on another line where it
        has no vertex), ``structure_junctions`` (bridge-bridge / tunnel-tunnel shared vertices),
        ``crossings_split`` (points where same-level lines were split), ``endpoint_links``
        (line ends found on a line of another level: joined), ``level_crossings_not_joined``
        (points where lines of different levels cross: not joined),
        ``level_shared_vertices_not_joined`` (those of them where both lines have a vertex,
        as ``(x, y)``: review them, in OSM data they may be meant as junctions), ``nodes``, ``edges``, ``length_m``,
        ``components_found``, ``components_dropped``, ``nodes_dropped``, ``edges_dropped``,
        ``length_m_dropped``, ``length_share_dropped``, ``keep``.

    Raises
    ------
    CRSError
        ``roads`` has no CRS (or ``crs`` is not metric).
    NetworkDataError
        No walkable line is left.
    OptionError
        ``keep``, ``nodes``, ``junctions`` or ``tolerance_m`` has a value that cannot be used.

    Examples
    --------
    >>> import tongzhen_gis as tz
    >>> G = tz.network.from_lines(tz.samples.sample_town().roads)
    >>> G.number_of_nodes(), G.number_of_edges()
    (93, 155)
    """
    _check_options(keep=keep, nodes=nodes, junctions=junctions, tolerance_m=tolerance_m)
    walk_rules = _walk_rules(walkability)
    if isinstance(roads, gpd.GeoSeries):
        roads = gpd.GeoDataFrame(geometry=roads)
    if not isinstance(roads, gpd.GeoDataFrame):
        msg = f"roads must be a GeoDataFrame of lines, got {type(roads).__name__}; read it with tz.io.read_layer"
        raise NetworkDataError(msg)
    tzcrs.require_crs(roads, what="the road layer")
    gdf = tzcrs.to_metric(roads, crs=crs)
    report: dict[str, Any] = {
        "input_lines": len(gdf),
        "keep": keep,
        "nodes_mode": nodes,
        "junctions_requested": junctions,
        "tolerance_m": tolerance_m,
    }
    gdf = gdf.reset_index(names="_source_index") if _index_is_safe(gdf) else gdf.assign(_source_index=gdf.index)
    gdf = _drop_invalid(gdf, report)
    gdf = gdf.explode(index_parts=False, ignore_index=True)
    gdf = gdf[~gdf.geometry.is_empty].reset_index(drop=True)
    report["line_parts"] = len(gdf)

    class_col = _class_column(gdf, class_col)
    report["class_col"] = class_col
    is_bridge = _truthy(gdf, bridge_col)
    structure = is_bridge | _truthy(gdf, tunnel_col)
    gdf = _filter_classes(gdf, class_col, structure, exclude, exclude_on_structure, report)
    gdf = _apply_walk_rules(gdf, class_col, walk_rules, {"bridge": bridge_col, "tunnel": tunnel_col}, report)
    structure = structure.loc[gdf.index].to_numpy()
    structure_kind = np.where(is_bridge.loc[gdf.index].to_numpy(), 1, np.where(structure, 2, 0))
    gdf = gdf.reset_index(drop=True)
    report["lines_used"] = len(gdf)
    if gdf.empty:
        msg = (
            f"no walkable road lines: {report['input_lines']} input lines, dropped by class "
            f"{report['dropped_by_class']}, by walkability rule {report['dropped_by_rule']}, unusable geometries "
            f"{ {k: len(v) for k, v in report.get('invalid_geometries', {}).items()} }; give a layer of road "
            f"centrelines (LineString), and check the class column ({class_col!r}) and the exclude= list"
        )
        raise NetworkDataError(msg)

    layer = _layers(gdf, layer_col, report)
    level = _levels(layer, structure)

    geoms = shapely.remove_repeated_points(gdf.geometry.to_numpy(), tolerance=tolerance_m)
    degenerate = (shapely.get_num_coordinates(geoms) < 2) | (shapely.length(geoms) <= tolerance_m)
    if degenerate.any():
        labels = gdf.loc[degenerate, "_source_index"].tolist()
        report["invalid_geometries"].setdefault("shorter than tolerance", []).extend(labels)
        logger.warning("%d road lines shorter than %s m were dropped", len(labels), tolerance_m)
        keep_rows = ~degenerate
        gdf, geoms = gdf[keep_rows].reset_index(drop=True), geoms[keep_rows]
        level, layer, structure_kind = level[keep_rows], layer[keep_rows], structure_kind[keep_rows]
        report["lines_used"] = len(gdf)
        if gdf.empty:
            msg = (
                f"every walkable road line is shorter than tolerance_m={tolerance_m} m; check the layer's units and CRS"
            )
            raise NetworkDataError(msg)

    split_line, split_xy = _junction_points(geoms, level, layer, structure_kind, tolerance_m, junctions, report)
    piece_xy, piece_of_row, piece_line = _cut(geoms, split_line, split_xy, tolerance_m, vertices=nodes == "vertices")
    lost = np.setdiff1d(np.arange(len(geoms)), piece_line)
    if len(lost):  # lines whose points all lie within the tolerance of one another
        report["invalid_geometries"].setdefault("shorter than tolerance", []).extend(
            gdf.loc[lost, "_source_index"].tolist()
        )
    G = _assemble(gdf, piece_xy, piece_of_row, piece_line, tolerance_m, class_col, id_col, name_col, keep, report)
    G.graph["crs"] = CRS.from_user_input(gdf.crs)
    if report["edges"] == 0:
        msg = "no walkable edges are left after splitting; check the geometries and tolerance_m"
        raise NetworkDataError(msg)
    report["length_m_dropped_by_reason"]["not in the largest piece"] = report["length_m_dropped"]
    G.graph["report"] = report
    G.graph["created_with"] = "tongzhen_gis.network.from_lines"
    G.graph["simplified"] = False
    logger.info(
        "walking network: %d nodes, %d edges, %.0f m (%d of %d lines used)",
        report["nodes"],
        report["edges"],
        report["length_m"],
        report["lines_used"],
        report["input_lines"],
    )
    return G


def _check_options(*, keep: str, nodes: str, junctions: str, tolerance_m: float) -> None:
    """Raise :class:`OptionError` (naming the keyword) for a value the builders cannot use."""
    choices = {
        "keep": ("all", "largest"),
        "nodes": ("junctions", "vertices"),
        "junctions": ("auto", "shared", "crossings"),
    }
    for param, value in (("keep", keep), ("nodes", nodes), ("junctions", junctions)):
        if value not in choices[param]:
            msg = f"{param}={value!r} is not understood; use one of {', '.join(map(repr, choices[param]))}"
            raise OptionError(msg, param=param)
    if not tolerance_m > 0:
        msg = f"tolerance_m must be a positive distance in metres, got {tolerance_m!r}; the default is 0.001"
        raise OptionError(msg, param="tolerance_m")


def _index_is_safe(gdf: gpd.GeoDataFrame) -> bool:
    return gdf.index.nlevels == 1 and gdf.index.name not in gdf.columns


def _drop_invalid(gdf: gpd.GeoDataFrame, report: dict[str, Any]) -> gpd.GeoDataFrame:
    geom = gdf.geometry
    problems: dict[str, list] = {}
    null = geom.isna().to_numpy()
    empty = np.zeros(len(gdf), dtype=bool)
    empty[~null] = geom[~null].is_empty.to_numpy()
    types = geom.geom_type.to_numpy()
    not_line = ~null & ~empty & ~np.isin(types, ["LineString", "MultiLineString", "LinearRing"])
    for reason, mask in (("null geometry", null), ("empty geometry", empty), ("not a line", not_line)):
        if mask.any():
            problems[reason] = gdf.loc[mask, "_source_index"].tolist()
    report["invalid_geometries"] = problems
    if problems:
        logger.warning("road lines not used: %s", {k: len(v) for k, v in problems.items()})
    return gdf[~(null | empty | not_line)]


def _class_column(gdf: gpd.GeoDataFrame, class_col: str | None) -> str | None:
    if class_col is not None:
        if class_col not in gdf.columns:
            msg = f"class column {class_col!r} is not in the road layer (columns: {list(gdf.columns)}); pass class_col="
            raise NetworkDataError(msg)
        return class_col
    for col in _CLASS_COLUMNS:
        if col in gdf.columns:
            return col
    logger.warning("road layer has no class column (%s): no line is excluded by class", ", ".join(_CLASS_COLUMNS))
    return None


def _truthy(gdf: gpd.GeoDataFrame, col: str) -> pd.Series:
    if col not in gdf.columns:
        return pd.Series(False, index=gdf.index)
    values = gdf[col]
    text = values.astype("string").str.strip().str.lower()
    return (values.notna() & ~text.isin(_FALSE_STRINGS)).fillna(False).astype(bool)


def _filter_classes(
    gdf: gpd.GeoDataFrame,
    class_col: str | None,
    structure: pd.Series,
    exclude: Iterable[str],
    exclude_on_structure: Iterable[str],
    report: dict[str, Any],
) -> gpd.GeoDataFrame:
    report["dropped_by_class"] = {}
    report["unknown_classes"] = {}
    report["length_m_dropped_by_reason"] = {"class": 0.0, "class on bridge/tunnel": 0.0}
    if class_col is None:
        return gdf
    classes = gdf[class_col].astype("string").str.strip()
    lower = classes.str.lower()
    excluded = {str(c).strip().lower() for c in exclude}
    on_structure = {str(c).strip().lower() for c in exclude_on_structure}
    by_class = lower.isin(excluded).fillna(False)
    drop = by_class | (lower.isin(on_structure).fillna(False) & structure)
    length = gdf.geometry.length
    report["length_m_dropped_by_reason"] = {
        "class": float(length[by_class].sum()),
        "class on bridge/tunnel": float(length[drop & ~by_class].sum()),
    }
    dropped = Counter(classes[drop].fillna("<missing>"))
    report["dropped_by_class"] = {
        (k if k.lower() not in on_structure else f"{k} (bridge/tunnel)"): int(v) for k, v in sorted(dropped.items())
    }
    known = {c.lower() for c in KNOWN_WALKABLE}
    unknown = ~drop & ~lower.isin(known).fillna(False)
    report["unknown_classes"] = {
        str(k): int(v) for k, v in sorted(Counter(classes[unknown].fillna("<missing>")).items())
    }
    if report["unknown_classes"]:
        logger.info("road classes kept but not known to be walkable: %s", report["unknown_classes"])
    return gdf[~drop.to_numpy()]


def _walk_rules(walkability: str | Path | Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]]:
    """The ``no_pedestrians`` rules: from a rule file (name or path), a mapping, or none."""
    if walkability is None:
        return {}
    if isinstance(walkability, Mapping):
        table, where = walkability, "walkability="
    else:
        table, where = tzrules.load(walkability)["no_pedestrians"], f"rule file {walkability!s}"
    for rule_id, rule in table.items():
        problems = []
        if not isinstance(rule, Mapping):
            problems.append("is not a table")
        else:
            if not rule.get("classes") or isinstance(rule.get("classes"), str):
                problems.append("needs 'classes', a list of road classes")
            if rule.get("structure") not in ("tunnel", "bridge"):
                problems.append(f"'structure' must be 'tunnel' or 'bridge', got {rule.get('structure')!r}")
            if not isinstance(rule.get("unless", {}), Mapping):
                problems.append("'unless' must be a table {column: [values]}")
        if problems:
            msg = f"walkability rule {rule_id!r} in {where}: {'; '.join(problems)}"
            raise RuleDataError(msg)
    return dict(table)


def _apply_walk_rules(
    gdf: gpd.GeoDataFrame,
    class_col: str | None,
    walk_rules: dict[str, Mapping[str, Any]],
    structure_cols: dict[str, str],
    report: dict[str, Any],
) -> gpd.GeoDataFrame:
    """Drop the lines a walkability rule says carry no pedestrians (counted and measured per rule)."""
    report["dropped_by_rule"] = {}
    if class_col is None or not walk_rules or gdf.empty:
        for rule_id in walk_rules:
            report["length_m_dropped_by_reason"][rule_id] = 0.0
        return gdf
    classes = gdf[class_col].astype("string").str.strip()
    lower = classes.str.lower()
    length = gdf.geometry.length
    drop = pd.Series(False, index=gdf.index)
    for rule_id, rule in walk_rules.items():
        col = structure_cols[rule["structure"]]
        on = _truthy(gdf, col)
        if col in gdf.columns:
            exempt = {str(v).strip().lower() for v in rule.get("structure_exempt", ())}
            on &= ~gdf[col].astype("string").str.strip().str.lower().isin(exempt).fillna(False)
        hit = lower.isin({str(c).strip().lower() for c in rule["classes"]}).fillna(False) & on & ~drop
        for tag, values in rule.get("unless", {}).items():
            if tag in gdf.columns:
                allowed = {str(v).strip().lower() for v in values}
                hit &= ~gdf[tag].astype("string").str.strip().str.lower().isin(allowed).fillna(False)
        drop |= hit
        report["dropped_by_rule"][rule_id] = {str(k): int(v) for k, v in sorted(Counter(classes[hit]).items())}
        report["length_m_dropped_by_reason"][rule_id] = float(length[hit].sum())
        if hit.any():
            logger.info(
                "walkability rule %s: %d lines (%.0f m) carry no pedestrians and were dropped",
                rule_id,
                int(hit.sum()),
                report["length_m_dropped_by_reason"][rule_id],
            )
    return gdf[~drop.to_numpy()]


def _layers(gdf: gpd.GeoDataFrame, layer_col: str, report: dict[str, Any]) -> np.ndarray:
    """Numeric ``layer`` per line; missing and unreadable values (e.g. ``"1;2"``) count as 0 (reported)."""
    if layer_col not in gdf.columns:
        report["layer_unreadable"] = 0
        return np.zeros(len(gdf))
    raw = gdf[layer_col]
    layer = pd.to_numeric(raw, errors="coerce")
    unreadable = layer.isna() & raw.notna()
    report["layer_unreadable"] = int(unreadable.sum())
    if unreadable.any():
        logger.warning("%d road lines have an unreadable layer value, taken as 0", report["layer_unreadable"])
    return layer.fillna(0.0).to_numpy(dtype=float)


def _levels(layer: np.ndarray, structure: np.ndarray) -> np.ndarray:
    """Level id per line: ground lines share one id per layer; each bridge/tunnel is its own."""
    _, ground = np.unique(layer, return_inverse=True)
    level = ground.astype(np.int64)
    n_struct = int(structure.sum())
    level[structure] = -1 - np.arange(n_struct)
    return level


def _junction_points(
    geoms: np.ndarray,
    level: np.ndarray,
    layer: np.ndarray,
    structure_kind: np.ndarray,
    tolerance_m: float,
    junctions: str,
    report: dict[str, Any],
) -> tuple[np.ndarray, np.ndarray]:
    """Points where each line must be split (line index, xy), beyond its own ends."""
    tree = shapely.STRtree(geoms)
    vertices = _Vertices(geoms, tolerance_m)
    # 1. same level: every point two lines share or cross (intersection of each candidate pair once),
    #    joined or not by the junctions rule
    pairs = tree.query(geoms, predicate="intersects")
    pairs = pairs[:, pairs[0] < pairs[1]]
    left, right = pairs[:, (level[pairs[0]] == level[pairs[1]]) & (level[pairs[0]] >= 0)]
    inter = shapely.intersection(geoms[left], geoms[right])
    xy, pair = shapely.get_coordinates(inter, return_index=True)
    kind = _meeting_kind(vertices, left[pair], right[pair], xy)
    mode = _choose_junctions(junctions, xy, kind, tolerance_m, report)
    joined = np.ones(len(xy), dtype=bool) if mode == "crossings" else kind == _SHARED_VERTEX
    xy_j, pair_j = xy[joined], pair[joined]
    lines_a = np.concatenate([left[pair_j], right[pair_j]])
    xy_a = np.concatenate([xy_j, xy_j])
    report["crossings_split"] = _n_points(xy_j, tolerance_m)
    # 2. any level: an endpoint of one line lying on another line
    ends_xy = np.concatenate([vertices.start, vertices.end])
    owner = np.concatenate([np.arange(len(geoms)), np.arange(len(geoms))])
    end_i, line_j = tree.query(shapely.points(ends_xy), predicate="dwithin", distance=tolerance_m)
    other = owner[end_i] != line_j
    end_i, line_j = end_i[other], line_j[other]
    if mode == "shared":  # only where the other line has a vertex (a shared node in OSM)
        on_vertex = vertices.has_vertex(ends_xy[end_i], line_j)
        report["unjoined_line_ends"] = _n_points(ends_xy[end_i[~on_vertex]], tolerance_m)
        end_i, line_j = end_i[on_vertex], line_j[on_vertex]
    else:
        report["unjoined_line_ends"] = 0
    if report["unjoined_line_ends"]:
        logger.info(
            "%d line ends lie on another line where it has no vertex: not joined (junctions='shared')",
            report["unjoined_line_ends"],
        )
    xy_b = ends_xy[end_i]
    report["endpoint_links"] = int(np.sum(level[owner[end_i]] != level[line_j]))
    lines_c, xy_c = _level_meetings(
        geoms, vertices, pairs[:, level[pairs[0]] != level[pairs[1]]], layer, structure_kind, report
    )
    return (
        np.concatenate([lines_a, line_j, lines_c]).astype(np.int64),
        np.concatenate([xy_a, xy_b, xy_c]).reshape(-1, 2),
    )


_SHARED_VERTEX, _LINE_END, _CROSSING = 0, 1, 2


class _Vertices:
    """Every vertex of every line, indexed once to ask "does line i have a vertex / an end at (x, y)"."""

    def __init__(self, geoms: np.ndarray, tolerance_m: float) -> None:
        self.xy, self.line = shapely.get_coordinates(geoms, return_index=True)
        self.kdtree = cKDTree(self.xy)
        first = np.r_[True, self.line[1:] != self.line[:-1]]
        last = np.r_[self.line[1:] != self.line[:-1], True]
        self.start, self.end = self.xy[first], self.xy[last]
        self.n_lines = len(geoms)
        self.tolerance_m = tolerance_m

    def has_vertex(self, xy: np.ndarray, line: np.ndarray) -> np.ndarray:
        """True where ``line[i]`` has a vertex within the tolerance of ``xy[i]``."""
        if not len(xy):
            return np.zeros(0, dtype=bool)
        k = 8  # vertices near one point: one per line through it, rarely more than a few
        dist, vertex = self.kdtree.query(xy, k=k, distance_upper_bound=self.tolerance_m)
        near = np.isfinite(dist)
        owner = self.line[np.where(near, vertex, 0)]
        out = (near & (owner == line[:, None])).any(axis=1)
        for i in np.flatnonzero(near[:, -1]):  # as many as asked: there may be more
            out[i] = bool(np.any(self.line[self.kdtree.query_ball_point(xy[i], self.tolerance_m)] == line[i]))
        return out

    def at_end(self, xy: np.ndarray, line: np.ndarray) -> np.ndarray:
        """True where ``xy[i]`` is within the tolerance of an end of ``line[i]``."""
        d_start = np.hypot(*(xy - self.start[line]).T)
        d_end = np.hypot(*(xy - self.end[line]).T)
        return np.minimum(d_start, d_end) <= self.tolerance_m


def _vertex_and_end(vertices: _Vertices, a: np.ndarray, b: np.ndarray, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each point where line ``a[i]`` meets line ``b[i]``: do both have a vertex there, does either end there."""
    both_vertex = vertices.has_vertex(xy, a) & vertices.has_vertex(xy, b)
    at_end = vertices.at_end(xy, a) | vertices.at_end(xy, b)
    return both_vertex, at_end


def _meeting_kind(vertices: _Vertices, a: np.ndarray, b: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Kind of each point where line ``a[i]`` meets line ``b[i]`` (line indices).

    :data:`_SHARED_VERTEX` when both lines have a vertex there (ends included), else
    :data:`_LINE_END` when one of them ends there, else :data:`_CROSSING`.
    """
    both_vertex, at_end = _vertex_and_end(vertices, a, b, xy)
    kind = np.full(len(xy), _CROSSING, dtype=np.int8)
    kind[at_end] = _LINE_END
    kind[both_vertex] = _SHARED_VERTEX
    return kind


def _n_points(xy: np.ndarray, tolerance_m: float) -> int:
    """Number of distinct points (on a grid of the tolerance)."""
    return len(np.unique(np.round(xy / tolerance_m), axis=0)) if len(xy) else 0


def _choose_junctions(
    junctions: str, xy: np.ndarray, kind: np.ndarray, tolerance_m: float, report: dict[str, Any]
) -> str:
    """Apply ``junctions`` ("auto" decided by the data); report and log the choice."""
    shared = _n_points(xy[kind == _SHARED_VERTEX], tolerance_m)
    crossing = _n_points(xy[kind == _CROSSING], tolerance_m)
    report["meeting_points"] = {
        "shared_vertex": shared,
        "line_end": _n_points(xy[kind == _LINE_END], tolerance_m),
        "crossing_without_vertex": crossing,
    }
    mode = junctions
    if junctions == "auto":
        not_shared = crossing + report["meeting_points"]["line_end"]
        noded = shared > 0 and shared / (shared + not_shared) > AUTO_SHARED_VERTEX_SHARE
        mode = "shared" if noded else "crossings"
    unjoined = xy[kind == _CROSSING] if mode == "shared" else np.empty((0, 2))
    unjoined = np.unique(np.round(unjoined / tolerance_m), axis=0) * tolerance_m if len(unjoined) else unjoined
    report["junctions"] = mode
    report["unjoined_crossings"] = len(unjoined)
    report["unjoined_crossing_points"] = [(round(x, 3), round(y, 3)) for x, y in unjoined.tolist()]
    logger.info(
        "junctions=%r (asked %r): %d same-level meeting points share a vertex, %d cross without one; "
        "%d crossings left unjoined",
        mode,
        junctions,
        shared,
        crossing,
        len(unjoined),
    )
    return mode


def _level_meetings(
    geoms: np.ndarray,
    vertices: _Vertices,
    pairs: np.ndarray,
    layer: np.ndarray,
    structure_kind: np.ndarray,
    report: dict[str, Any],
) -> tuple[np.ndarray, np.ndarray]:
    """Where lines on different levels meet: the points joined beyond line ends, and a count of the rest.

    Two structures of the same kind and ``layer`` (two passages of one underground network, two
    ways of one viaduct) that share a vertex are joined there: OSM records such junctions as a
    shared node. Any other meeting of different levels away from a line end is not joined and
    counted; those where both lines have a vertex are listed (in OSM data a node shared by a
    bridge and the street under it: a junction the mapper meant, or a tagging error).
    """
    left, right = pairs
    xy, pair = shapely.get_coordinates(shapely.intersection(geoms[left], geoms[right]), return_index=True)
    left, right = left[pair], right[pair]
    both_vertex, at_end = _vertex_and_end(vertices, left, right, xy)
    tolerance_m = vertices.tolerance_m
    same_structure = (structure_kind[left] == structure_kind[right]) & (structure_kind[left] > 0)
    joined = both_vertex & ~at_end & same_structure & (layer[left] == layer[right])
    rest = ~at_end & ~joined
    shared = both_vertex[rest]
    report["structure_junctions"] = _n_points(xy[joined], tolerance_m)
    report["level_crossings_not_joined"] = int(rest.sum())
    report["level_shared_vertices_not_joined"] = [(round(x, 3), round(y, 3)) for x, y in xy[rest][shared].tolist()]
    if shared.any():
        logger.info(
            "%d points where lines on different levels (bridge/tunnel/layer) share a vertex were not joined; "
            "see report['level_shared_vertices_not_joined']",
            int(shared.sum()),
        )
    return np.concatenate([left[joined], right[joined]]), np.concatenate([xy[joined], xy[joined]])


def _self_touching_vertices(vxy: np.ndarray, vline: np.ndarray, tolerance_m: float) -> np.ndarray:
    """Vertices a line passes through more than once (a loop ending on the line, a figure 8).

    A line is split there, as OSM splits a way at a node it visits twice.
    """
    kx, ky = np.round(vxy / tolerance_m).T
    order = np.lexsort((ky, kx, vline))
    same = (np.diff(vline[order]) == 0) & (np.diff(kx[order]) == 0) & (np.diff(ky[order]) == 0)
    out = np.zeros(len(vline), dtype=bool)
    out[order[1:][same]] = out[order[:-1][same]] = True
    return out


def _cut(
    geoms: np.ndarray, split_line: np.ndarray, split_xy: np.ndarray, tolerance_m: float, *, vertices: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut lines at their split points.

    Returns the coordinates of all pieces (rows ordered piece by piece), the piece id of each
    row and the source line of each piece.
    """
    vxy, vline = shapely.get_coordinates(geoms, return_index=True)
    seg = np.hypot(*np.diff(vxy, axis=0).T)
    first = np.r_[True, vline[1:] != vline[:-1]]
    seg = np.where(first[1:], 0.0, seg)
    cum = np.r_[0.0, np.cumsum(seg)]
    start_cum = cum[first][vline]
    vdist = cum - start_cum
    last = np.r_[vline[1:] != vline[:-1], True]
    vflag = first | last | vertices | _self_touching_vertices(vxy, vline, tolerance_m)

    sdist = shapely.line_locate_point(geoms[split_line], shapely.points(split_xy)) if len(split_line) else np.empty(0)
    line = np.concatenate([vline, split_line])
    dist = np.concatenate([vdist, sdist])
    xy = np.concatenate([vxy, split_xy]).reshape(-1, 2)
    flag = np.concatenate([vflag, np.ones(len(split_line), dtype=bool)])
    kind = np.concatenate([np.zeros(len(vline)), np.ones(len(split_line))])
    # keep line ends first/last: their positions are exact, inserted points are not
    end_rank = np.concatenate([np.where(first[: len(vline)], -1, np.where(last, 1, 0)), np.zeros(len(split_line))])
    order = np.lexsort((kind, end_rank, dist, line))
    line, dist, xy, flag, end_rank = line[order], dist[order], xy[order], flag[order], end_rank[order]

    # merge runs of entries closer than the tolerance along the same line (keep the first,
    # unless the run holds the line's last vertex, which is kept instead)
    new_line = np.r_[True, line[1:] != line[:-1]]
    close = ~new_line & (np.r_[np.inf, np.diff(dist)] <= tolerance_m)
    run = np.cumsum(~close) - 1
    run_flag = np.zeros(run[-1] + 1, dtype=bool)
    np.logical_or.at(run_flag, run, flag)
    is_last_vertex = end_rank == 1
    keep_idx = np.flatnonzero(~close)
    last_in_run = np.flatnonzero(is_last_vertex)
    rep = keep_idx.copy()
    rep[run[last_in_run]] = last_in_run
    line, xy, flag = line[rep], xy[rep], run_flag
    # a line whose points all merged into one has no piece
    single = np.r_[True, line[1:] != line[:-1]] & np.r_[line[1:] != line[:-1], True]
    line, xy, flag = line[~single], xy[~single], flag[~single]

    first_e = np.r_[True, line[1:] != line[:-1]]
    last_e = np.r_[line[1:] != line[:-1], True]
    flag = flag | first_e | last_e
    starts = flag & ~last_e
    pid = np.cumsum(starts) - 1
    dup = flag & ~first_e & ~last_e
    rows = np.r_[np.arange(len(line)), np.flatnonzero(dup)]
    rows_pid = np.r_[pid, pid[dup] - 1]
    o = np.lexsort((rows, rows_pid))
    rows, rows_pid = rows[o], rows_pid[o]
    piece_line = line[starts]
    return xy[rows], rows_pid, piece_line


def _assemble(
    gdf: gpd.GeoDataFrame,
    piece_xy: np.ndarray,
    piece_of_row: np.ndarray,
    piece_line: np.ndarray,
    tolerance_m: float,
    class_col: str | None,
    id_col: str | None,
    name_col: str,
    keep: str,
    report: dict[str, Any],
) -> nx.MultiGraph:
    n_pieces = len(piece_line)
    first_row = np.r_[0, np.flatnonzero(np.diff(piece_of_row)) + 1]
    last_row = np.r_[first_row[1:] - 1, len(piece_of_row) - 1]
    end_rows = np.concatenate([first_row, last_row])
    node_of_end, node_xy = _merge_points(piece_xy[end_rows], tolerance_m)
    piece_xy = piece_xy.copy()
    piece_xy[end_rows] = node_xy[node_of_end]
    u, v = node_of_end[:n_pieces], node_of_end[n_pieces:]
    lines = shapely.linestrings(piece_xy, indices=piece_of_row)
    length = shapely.length(lines)
    ok = ~((u == v) & (length <= tolerance_m))
    report["zero_length_pieces_dropped"] = int((~ok).sum())
    ok &= _components(u, v, length, ok, len(node_xy), keep, report)

    idx = np.flatnonzero(ok)
    src = gdf.iloc[piece_line[idx]]
    cols: dict[str, list] = {"source_index": _values(src["_source_index"])}
    if class_col is not None:
        cols["fclass"] = _values(src[class_col])
    if name_col in gdf.columns:
        cols["name"] = _values(src[name_col])
    id_col = id_col or next((c for c in _ID_COLUMNS if c in gdf.columns), None)
    cols["road_id"] = _values(src[id_col]) if id_col is not None else cols["source_index"]
    attrs = [{"length": ln, "geometry": g} for ln, g in zip(length[idx].tolist(), lines[idx].tolist(), strict=True)]
    for key, vals in cols.items():
        for a, val in zip(attrs, vals, strict=True):
            if val is not None:
                a[key] = val

    used = np.unique(np.r_[u[idx], v[idx]])
    G = _multigraph(used, node_xy[used], u[idx], v[idx], attrs)
    # the arrays tz.access.prepare needs, so that it need not read them back edge by edge
    remember_arrays(
        G,
        node_ids=np.array(used.tolist(), dtype=object),
        x=node_xy[used, 0],
        y=node_xy[used, 1],
        edge_u=np.searchsorted(used, u[idx]),
        edge_v=np.searchsorted(used, v[idx]),
        edge_length_m=length[idx],
        edge_geom=lines[idx],
        edge_keys=None,
    )
    report["nodes"] = G.number_of_nodes()
    report["edges"] = len(idx)
    report["length_m"] = float(length[idx].sum())
    return G


def _multigraph(
    node_ids: np.ndarray, node_xy: np.ndarray, u: np.ndarray, v: np.ndarray, attrs: list[dict]
) -> nx.MultiGraph:
    """A MultiGraph with these nodes and edges, keys 0, 1, … per node pair.

    Node attributes: ``x``, ``y`` and ``street_count`` (street ends at the node, a self-loop
    counting twice: osmnx's attribute of that name, used by ``osmnx.stats``).

    Fills networkx's adjacency dicts directly, exactly as ``add_edges_from`` would (the same
    keys and shared key dicts), about five times faster on a million edges.
    """
    G = nx.MultiGraph()
    ends = np.searchsorted(node_ids, np.r_[u, v])
    street_count = np.bincount(ends, minlength=len(node_ids)).tolist()
    nodes_xy = zip(node_ids.tolist(), node_xy[:, 0].tolist(), node_xy[:, 1].tolist(), street_count, strict=True)
    G._node.update((n, {"x": x, "y": y, "street_count": c}) for n, x, y, c in nodes_xy)
    adj: dict[int, dict[int, dict[int, dict]]] = {n: {} for n in G._node}
    for a, b, data in zip(u.tolist(), v.tolist(), attrs, strict=True):
        keydict = adj[a].get(b)
        if keydict is None:
            keydict = adj[a][b] = adj[b][a] = {}
        keydict[len(keydict)] = data
    G._adj.update(adj)
    return G


def _values(series: pd.Series) -> list:
    """Python values of a column, with None for missing values."""
    missing = series.isna().to_numpy()
    values = series.to_numpy(dtype=object).tolist()
    return [None if m else (x.item() if isinstance(x, np.generic) else x) for x, m in zip(values, missing, strict=True)]


def _merge_points(xy: np.ndarray, tolerance_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Cluster points closer than the tolerance (transitively).

    Returns the node id of each point and the node coordinates. Node ids follow the order of
    the nodes' coordinates (x, then y), so the same geometry always gets the same ids.
    """
    uniq, inverse = np.unique(xy, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    pairs = cKDTree(uniq).query_pairs(tolerance_m, output_type="ndarray")
    n = len(uniq)
    if len(pairs):
        adj = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
        _, label = connected_components(adj, directed=False)
        # representative: the first (smallest x, y) member of each cluster; uniq is sorted
        rep_of_label = np.full(label.max() + 1, n, dtype=np.int64)
        np.minimum.at(rep_of_label, label, np.arange(n))
        rep = rep_of_label[label]
        reps, node_of_uniq = np.unique(rep, return_inverse=True)
        return node_of_uniq.ravel()[inverse], uniq[reps]
    return inverse, uniq


def _components(
    u: np.ndarray, v: np.ndarray, length: np.ndarray, ok: np.ndarray, n_nodes: int, keep: str, report: dict[str, Any]
) -> np.ndarray:
    """Find connected pieces; return the mask of edges kept (all, or the largest piece's)."""
    adj = coo_matrix((np.ones(int(ok.sum())), (u[ok], v[ok])), shape=(n_nodes, n_nodes))
    _, label = connected_components(adj, directed=False)
    used = np.zeros(n_nodes, dtype=bool)
    used[u[ok]] = used[v[ok]] = True
    comp_ids, comp_of_node = np.unique(label[used], return_inverse=True)
    comp = np.full(n_nodes, -1)
    comp[used] = comp_of_node.ravel()
    edge_comp = comp[u]
    comp_len = np.bincount(edge_comp[ok], weights=length[ok], minlength=len(comp_ids))
    comp_nodes = np.bincount(comp[used], minlength=len(comp_ids))
    total = float(comp_len.sum())
    report["components_found"] = len(comp_ids)
    keep_mask = np.ones(len(u), dtype=bool)
    if keep == "largest" and len(comp_ids) > 1:
        best = np.lexsort((comp_nodes, comp_len))[-1]
        keep_mask = edge_comp == best
    dropped = ok & ~keep_mask
    dropped_len = float(length[dropped].sum())
    report["components_dropped"] = len(comp_ids) - 1 if dropped.any() else 0
    report["nodes_dropped"] = int(comp_nodes.sum() - comp_nodes[best]) if dropped.any() else 0
    report["edges_dropped"] = int(dropped.sum())
    report["length_m_dropped"] = dropped_len
    report["length_share_dropped"] = dropped_len / total if total > 0 else 0.0
    if dropped.any():
        logger.info(
            "kept the largest connected piece; dropped %d pieces, %.1f %% of the street length",
            report["components_dropped"],
            100 * report["length_share_dropped"],
        )
    return keep_mask


# ----------------------------------------------------------------------------- conversions
def graph_to_gdfs(G: nx.MultiGraph) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Nodes and edges of a network as GeoDataFrames (like ``osmnx.convert.graph_to_gdfs``).

    Parameters
    ----------
    G : networkx.MultiGraph
        A graph from this module.

    Returns
    -------
    nodes : GeoDataFrame
        Indexed by node id, columns ``x``, ``y``, ``geometry`` (points).
    edges : GeoDataFrame
        Indexed by ``(u, v, key)``, every edge attribute as a column.
    """
    crs = G.graph.get("crs")
    ids = list(G.nodes)
    x = np.array([G.nodes[n]["x"] for n in ids], dtype=float)
    y = np.array([G.nodes[n]["y"] for n in ids], dtype=float)
    nodes = gpd.GeoDataFrame(
        {"x": x, "y": y}, geometry=shapely.points(x, y), index=pd.Index(ids, name="osmid"), crs=crs
    )
    rows = list(G.edges(keys=True, data=True))
    index = pd.MultiIndex.from_tuples([(u, v, k) for u, v, k, _ in rows], names=["u", "v", "key"])
    data = pd.DataFrame([d for *_, d in rows], index=index)
    edges = gpd.GeoDataFrame(data, geometry="geometry", crs=crs)
    return nodes, edges


def from_osm(
    path: str | Path,
    *,
    network: str | Callable[[dict[str, str]], bool] = "walk",
    keep: Literal["all", "largest"] = "all",
    nodes: Literal["junctions", "vertices"] = "junctions",
    junctions: Literal["auto", "shared", "crossings"] = "shared",
    walkability: str | Path | Mapping[str, Any] | None = "walkability",
    exclude_on_structure: Iterable[str] = DEFAULT_EXCLUDE_ON_STRUCTURE,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    crs: str | int | CRS | None = None,
) -> nx.MultiGraph:
    """Build a walking graph from an OpenStreetMap extract (``.osm``, ``.osm.bz2``, ``.osm.pbf``).

    Ways with a ``highway`` tag are read with pyosmium (one reader for XML, compressed XML
    and PBF, so the same data in either format gives the same graph), filtered by their tags,
    turned into lines and built with :func:`from_lines` (same splitting and level rules;
    ``fclass`` = the ``highway`` value, ``road_id`` = the OSM way id).

    Decisions: osmnx's ``graph_from_xml`` is not used because it applies no network filter,
    keeps only ``osmnx.settings.useful_tags_way`` (no ``foot``, no ``layer``) and cannot read
    PBF. The ``"walk"`` filter is osmnx 2.1's own ``network_type="walk"`` filter, so node and
    edge counts can be compared with osmnx on the same file (the test suite does).

    Ways are joined at shared OSM nodes: with the default ``junctions="shared"`` a junction is
    made where two ways have a vertex at the same position, which in an extract is a node they
    share; ways that cross without a shared node (an untagged grade separation or a mapping
    error) stay apart, as in osmnx, OSRM and r5. The level rule of :func:`from_lines` still
    applies: where OSM shares an *interior* node between a bridge and the street under it (a
    tagging error), no junction is made (listed in ``report["level_shared_vertices_not_joined"]``).
    Two distinct nodes at exactly one position are joined (counted in
    ``report["osm"]["duplicate_node_positions"]``). The test suite checks walking distances
    against a graph built from OSM node ids on real extracts.

    Parameters
    ----------
    path : str or pathlib.Path
        The extract.
    network : {"walk", "all"}, Overpass-style filter string, or callable, default "walk"
        ``"walk"`` and ``"all"`` are osmnx's filters; a string such as
        ``'["highway"~"footway|path|pedestrian"]'`` is read like osmnx's ``custom_filter``;
        a callable gets the way's tag dict and returns True to keep it.
    keep, nodes, walkability, tolerance_m, crs
        As in :func:`from_lines`. ``nodes="vertices"`` makes every OSM node of a kept way a
        graph node (like an unsimplified osmnx graph).
    junctions : {"shared", "auto", "crossings"}, default "shared"
        ``"shared"``: ways meet at shared nodes only (above); ``"crossings"`` also joins every
        same-level crossing (not recommended for OSM data).
    exclude_on_structure : iterable of str, default :data:`DEFAULT_EXCLUDE_ON_STRUCTURE`
        ``highway`` values dropped on bridges and in tunnels (elevated expressways). Pass
        ``()`` to follow osmnx's filter exactly.

    Returns
    -------
    networkx.MultiGraph
        The graph contract of this module. ``G.graph["report"]`` adds ``osm`` (ways read,
        ``ways_filtered_out`` by the first failed tag clause, missing node locations) to the
        report of :func:`from_lines`.

    Raises
    ------
    InputFileError
        The file is missing, not an OSM extract, or unreadable.
    OptionError
        The ``network`` filter cannot be read.
    NetworkDataError
        No way passes the filter.
    """
    from tongzhen_gis import _osm

    if callable(network):
        way_filter: _osm.TagFilter | Callable[[dict[str, str]], bool] = network
    else:
        way_filter = _osm.TagFilter.parse(_osm.OSM_FILTERS.get(network, network))
    lines, osm_report = _osm.read_highways(path, way_filter)
    if lines.empty:
        msg = (
            f"no way in {path} passes the {network if isinstance(network, str) else 'custom'} filter "
            f"({osm_report['highway_ways']} highway ways read, filtered out: {osm_report['ways_filtered_out']}); "
            "check the file covers streets, or choose another network="
        )
        raise NetworkDataError(msg)
    G = from_lines(
        lines,
        class_col="highway",
        exclude=(),
        exclude_on_structure=exclude_on_structure,
        keep=keep,
        nodes=nodes,
        junctions=junctions,
        walkability=walkability,
        tolerance_m=tolerance_m,
        crs=crs,
        id_col="osm_id",
    )
    G.graph["report"]["osm"] = osm_report
    G.graph["created_with"] = "tongzhen_gis.network.from_osm"
    return G


def from_place(
    query: str | dict[str, str],
    *,
    network: str = "walk",
    keep: Literal["all", "largest"] = "all",
    nodes: Literal["junctions", "vertices"] = "junctions",
    junctions: Literal["auto", "shared", "crossings"] = "shared",
    walkability: str | Path | Mapping[str, Any] | None = "walkability",
    exclude_on_structure: Iterable[str] = DEFAULT_EXCLUDE_ON_STRUCTURE,
    crs: str | int | CRS | None = None,
) -> nx.MultiGraph:
    """Download a place's streets with osmnx (needs internet) and build a walking graph.

    osmnx geocodes ``query`` (e.g. ``"西湖区, 杭州市, 浙江省, 中国"``) and downloads the
    ways with its ``network_type`` filter, unsimplified and with every piece kept (the way tags
    ``layer``, ``bridge`` and ``tunnel`` are kept for the level rule); the edges are turned into
    lines and built with :func:`from_lines`, so the result follows this module's contract and
    level rules. osmnx caches downloads in ``osmnx.settings.cache_folder``.

    Parameters
    ----------
    query : str or dict
        A place name or structured query, as for ``osmnx.graph_from_place``.
    network : str, default "walk"
        osmnx ``network_type``.
    keep, nodes, junctions, walkability, exclude_on_structure, crs
        As in :func:`from_osm`.

    Returns
    -------
    networkx.MultiGraph

    Raises
    ------
    NetworkDataError
        osmnx found no place or no street for ``query``.
    """
    import osmnx as ox

    useful = list(ox.settings.useful_tags_way)
    extra = ["layer", "bridge", "tunnel", "name", "foot", "sidewalk"]
    extra += ["sidewalk:both", "sidewalk:left", "sidewalk:right"]
    ox.settings.useful_tags_way = list(dict.fromkeys([*useful, *extra]))
    try:
        raw = ox.graph_from_place(query, network_type=network, simplify=False, retain_all=True)
    except ValueError as exc:  # osmnx's InsufficientResponseError is a ValueError
        msg = f"osmnx could not get streets for {query!r}: {exc}; check the place name (try the English name too)"
        raise NetworkDataError(msg) from exc
    finally:
        ox.settings.useful_tags_way = useful
    # one line per OSM way piece: to_undirected drops the reverse copies of two-way streets
    edges = ox.convert.graph_to_gdfs(ox.convert.to_undirected(raw), nodes=False, fill_edge_geometry=True)
    edges = edges.reset_index(drop=True)
    for col in ("osmid", "highway", *extra):
        if col in edges:
            edges[col] = edges[col].map(lambda v: v[0] if isinstance(v, list) else v)
    G = from_lines(
        edges,
        class_col="highway",
        exclude=(),
        exclude_on_structure=exclude_on_structure,
        keep=keep,
        nodes=nodes,
        junctions=junctions,
        walkability=walkability,
        crs=crs,
        id_col="osmid",
    )
    G.graph["report"]["query"] = query
    G.graph["created_with"] = "tongzhen_gis.network.from_place"
    return G
