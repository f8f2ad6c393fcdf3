"""Three control lines check (三线核查): features against the red line, farmland and boundary.

Planners must show that a town, each planned construction parcel in it and any proposed
extension (扩容) stay out of the 生态保护红线 (ecological red line, ``STBHHX``) and the
永久基本农田 (permanent basic farmland, ``YJJBNTBHTB``) and inside the 城镇开发边界 (urban
development boundary, ``CZKFBJ``). :func:`check` does it in one call; :func:`check_extension`
checks only the area a proposed boundary adds.

Decisions (see ``../shared/reference/standards.md`` §5)
------------------------------------------------------
* Areas are measured in the features' metric CRS (:func:`tongzhen_gis.crs.to_metric`); every
  line layer is reprojected to it. A layer without a CRS is an error.
* No overlap is ever passed automatically. ``verdict`` is ``"pass"`` when nothing counted
  overlaps, ``"review"`` when every counted line figure is at or below ``sliver_m2`` (typically
  a digitising mismatch), ``"conflict"`` when any counted line figure exceeds it. The figure
  judged is the per-line *union* area of the feature (so many slivers that together exceed
  the tolerance make a conflict). A feature without a usable geometry gets ``"unchecked"``.
* Overlapping polygons inside one line layer are never double counted: ``summary`` measures
  the overlap with the union of the layer; ``conflicts`` keeps the pieces of each source
  polygon. The union is computed only where pieces of one feature overlap each other (one
  STRtree self-query, see ``tongzhen_gis/_overlay.py``); the areas of the others add exactly.
* A conflict *patch* is one connected piece. A patch at or below ``sliver_m2`` is a sliver
  (``sliver=True``, counted in ``n_slivers``), never a conflict item (``n_conflicts``).
* ``conflicts["source_id"]`` is the line polygon's own id (``BSM``, ``标识码``, ``osm_id`` or
  the column named by ``source_id_col``), never a row number unless the layer has no id.
* With ``landuse_col`` (用地用海 codes as strings), only construction classes (the
  ``construction`` group of ``tz.rules.load("landuse")``, 07–16 by default) count towards the
  verdict, for all three lines: non-construction land (a forest parcel in the red line, a
  cropland parcel outside the boundary) is a legitimate use. Its overlaps are still measured
  and listed, with ``construction=False``. A missing code, or one that is not a 用地用海 code
  (``tz.schema.landuse_level1``), counts as construction (never passed silently) and is
  reported in ``repairs``; a column with no valid code at all (the wrong column) is an error.
* A line layer that is not given leaves its columns ``NaN``; the verdict is based on the
  others; the result's ``missing_lines`` names it and a warning is logged.

Examples
--------
>>> import tongzhen_gis as tz
>>> scene = tz.samples.sample_town()
>>> result = tz.controllines.check(
...     scene.towns, red_line=scene.red_line, farmland=scene.farmland, urban_boundary=scene.urban_boundary
... )
>>> result.summary["verdict"].to_dict()
{'T1': 'pass', 'T2': 'conflict', 'T3': 'conflict'}
"""

from __future__ import annotations

import itertools
import logging
import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from tongzhen_gis import crs as tzcrs
from tongzhen_gis import rules
from tongzhen_gis._overlay import LineLayer, PiecesResult, measure_block, polygonal
from tongzhen_gis.errors import CRSError, OptionError, SchemaError
from tongzhen_gis.units import M2_PER_MU

__all__ = ["LINES", "SOURCE_ID_COLUMNS", "ControlLineResult", "check", "check_extension"]

logger = logging.getLogger(__name__)

#: The three control lines, in report order: (keyword / ``line`` value, label).
LINES: dict[str, str] = {
    "red_line": "生态保护红线 ecological red line",
    "farmland": "永久基本农田 permanent basic farmland",
    "urban_boundary": "城镇开发边界 urban development boundary",
}
#: Value of ``conflicts["line"]`` for each line layer.
_CONFLICT_LINE = {"red_line": "red_line", "farmland": "farmland", "urban_boundary": "outside_boundary"}
_VERDICT_ORDER = ("pass", "review", "conflict")


@dataclass(frozen=True)
class ControlLineResult:
    """Outcome of a control-line check.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per input feature, indexed by ``id_col`` in input order. Columns:
        ``area_m2``; ``red_line_m2``/``_share``; ``farmland_m2``/``_share``;
        ``inside_boundary_m2``; ``outside_boundary_m2``/``_share``; ``n_conflicts`` (counted
        conflict patches above ``sliver_m2``); ``n_slivers`` (counted patches at or below it);
        ``verdict``; ``_mu`` twins of every ``_m2`` column (1 亩 = 10000/15
        m²); and ``construction`` when ``landuse_col`` was given. Shares are overlap / area
        (0 for a zero-area feature).
    conflicts : geopandas.GeoDataFrame
        One row per overlap patch: each (feature, line, source polygon) overlap split into its
        connected parts. ``id_col``, ``line`` (``red_line`` / ``farmland`` /
        ``outside_boundary``), ``source_id`` (the source polygon's own id, see
        ``source_id_col`` of :func:`check`; empty for ``outside_boundary``), ``area_m2``,
        ``area_mu``, ``share`` (of the feature), ``sliver`` (``area_m2 <= sliver_m2``: a
        sliver, not a conflict item, in every table),
        ``construction`` (whether it counts towards the verdict), geometry, in :attr:`crs`.
    repairs : pandas.DataFrame
        What was repaired, reprojected, not given or could not be used, per layer:
        ``layer``, ``issue``, ``count``, ``ids`` (up to 20), ``action``.
    missing_lines : tuple of str
        Line layers that were not given (their columns are ``NaN``).
    crs : pyproj.CRS
        The metric CRS every area was measured in.
    sliver_m2 : float
        The tolerance used.
    """

    summary: pd.DataFrame
    conflicts: gpd.GeoDataFrame
    repairs: pd.DataFrame
    missing_lines: tuple[str, ...]
    crs: CRS
    sliver_m2: float

    @property
    def passed(self) -> bool:
        """True when every feature passes."""
        return bool((self.summary["verdict"] == "pass").all())

    def counts(self) -> dict[str, int]:
        """Number of features per verdict."""
        return {k: int(v) for k, v in self.summary["verdict"].value_counts().items()}


class _Repairs:
    """Collects what was repaired or could not be used."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(self, layer: str, issue: str, ids: Any, action: str) -> None:
        ids = [str(i) for i in ids]
        if not ids:
            return
        shown = ", ".join(ids[:20]) + (f" … (+{len(ids) - 20})" if len(ids) > 20 else "")
        self.rows.append({"layer": layer, "issue": issue, "count": len(ids), "ids": shown, "action": action})
        logger.warning("%s: %d feature(s) %s (%s); %s", layer, len(ids), issue, shown, action)

    def note(self, layer: str, issue: str, action: str, count: int = 0) -> None:
        self.rows.append({"layer": layer, "issue": issue, "count": count, "ids": "", "action": action})

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=["layer", "issue", "count", "ids", "action"])


def _default_sliver_m2(sliver_m2: float | None) -> float:
    if sliver_m2 is None:
        return rules.load("controllines").parameter("sliver_m2")
    value = float(sliver_m2)
    if not math.isfinite(value) or value < 0:
        msg = f"sliver_m2 must be a finite number ≥ 0 (m²), got {sliver_m2!r}; pass e.g. sliver_m2=1"
        raise OptionError(msg, param="sliver_m2")
    return value


def _id_alias_hint(columns: pd.Index, id_col: str) -> str:
    """``", e.g. id_col='XZBH' (means the same as 'town_code')"`` when a column means what ``id_col`` names.

    Reached when the id column asked for is missing: a name the caller chose (``town_code``,
    ``标识码``) is taken literally, so a column under another accepted name of the same column
    (``XZBH``, ``BSM``) is suggested, never used silently.
    """
    from tongzhen_gis import schema  # local: schema loads its rules on import

    found = schema.same_meaning(columns, id_col)
    if not found:
        return ""
    return f", e.g. id_col={str(found[0])!r} (it means the same as {id_col!r})"


def _validate(
    features: Any, lines: Mapping[str, Any], id_col: str, landuse_col: str | None
) -> tuple[gpd.GeoDataFrame, pd.Index]:
    """Check every input at once; raise one error listing every problem."""
    problems: list[str] = []
    crs_problems: list[str] = []
    params: list[str] = []  # the keyword each problem concerns, when one does
    if not isinstance(features, gpd.GeoDataFrame):
        msg = f"features must be a GeoDataFrame, got {type(features).__name__}; read it with tz.io.read_layer"
        raise SchemaError(msg)
    for name, layer in lines.items():
        if layer is not None and not isinstance(layer, gpd.GeoDataFrame):
            problems.append(f"{name} must be a GeoDataFrame, got {type(layer).__name__}")
    if features.index.name != id_col:  # columns under an alias (小镇编号, 地块编号, 用地代码 …) are used
        from tongzhen_gis import schema  # local: schema loads its rules on import

        features = schema.use_columns(schema.use_columns(features, "towns", id_col), "parcels", id_col, landuse_col)
    if id_col in features.columns:
        ids = pd.Index(features[id_col], name=id_col)
    elif features.index.name == id_col:
        ids = pd.Index(features.index, name=id_col)
    else:
        hint = _id_alias_hint(features.columns, id_col)
        problems.append(
            f"features have no column {id_col!r} (columns: {list(features.columns)}); "
            f"pass id_col= naming the id column{hint}"
        )
        params.append("id_col")
        ids = pd.Index([], name=id_col)
    if len(ids):
        if ids.hasnans:
            problems.append(f"{int(ids.isna().sum())} feature(s) have no {id_col!r}; give every feature an id")
        dupes = ids[ids.duplicated()].unique()
        if len(dupes):
            problems.append(f"{id_col!r} is not unique (repeated: {list(dupes[:10])}); make the ids unique")
    if landuse_col is not None:
        if landuse_col not in features.columns:
            problems.append(
                f"features have no column {landuse_col!r} for landuse_col (columns: {list(features.columns)}); "
                "pass landuse_col= naming the 用地用海 code column"
            )
            params.append("landuse_col")
        elif pd.api.types.is_numeric_dtype(features[landuse_col]):
            problems.append(
                f"{landuse_col!r} holds numbers; 用地用海 codes are strings with leading zeros ('0701'): "
                "read the column as text or zero-pad it"
            )
            params.append("landuse_col")
    if features.crs is None:
        crs_problems.append("features")
    crs_problems += [name for name, layer in lines.items() if isinstance(layer, gpd.GeoDataFrame) and layer.crs is None]
    if crs_problems:
        each = "each of " if len(crs_problems) > 1 else ""
        msg = tzcrs.missing_crs_message(f"{each}{', '.join(crs_problems)}")
        if problems:
            msg += "; also: " + "; ".join(problems)
        raise CRSError(msg, param="crs")
    if problems:
        # ``param`` only when every problem concerns the same keyword (a front end adds its option for it).
        param = params[0] if len(params) == len(problems) and len(set(params)) == 1 else None
        raise SchemaError("invalid input: " + "; ".join(problems), problems, param=param)
    if all(layer is None for layer in lines.values()):
        msg = "no control line given; pass at least one of red_line=, farmland=, urban_boundary="
        raise SchemaError(msg)
    from tongzhen_gis import schema  # local: schema loads its rules on import

    for name, layer in {"features": features, **lines}.items():
        if layer is not None:
            schema.require_polygons(layer, what=name, param=name)
    return features, ids


def _clean(
    geoms: np.ndarray,
    name: str,
    labels: np.ndarray,
    repairs: _Repairs,
    *,
    keep_missing: bool,
    empty_is_nothing: bool = False,
) -> np.ndarray:
    """Make geometries valid and polygonal; report what changed or was unusable."""
    geoms = np.asarray(geoms, dtype=object)
    empty = ~shapely.is_missing(geoms) & shapely.is_empty(geoms)
    if empty_is_nothing:
        out = _clean(
            np.where(empty, np.array(None, dtype=object), geoms), name, labels, repairs, keep_missing=keep_missing
        )
        out[empty] = shapely.Polygon()
        return out
    missing = shapely.is_missing(geoms) | empty
    invalid = ~missing & ~shapely.is_valid(geoms)
    if invalid.any():
        geoms = geoms.copy()
        geoms[invalid] = shapely.make_valid(geoms[invalid])
        repairs.add(name, "invalid geometry", labels[invalid], "repaired with shapely.make_valid")
    out = polygonal(geoms)
    unusable = shapely.is_missing(out) & ~missing
    repairs.add(
        name,
        "line or point parts of a geometry collection",
        labels[_collection_extras(geoms) & ~unusable],
        "dropped: only the polygon parts are measured",
    )
    repairs.add(
        name,
        "empty or missing geometry",
        labels[missing],
        "kept with NaN figures and verdict 'unchecked'" if keep_missing else "ignored",
    )
    repairs.add(
        name,
        "no polygonal part (point or line)",
        labels[unusable],
        "kept with NaN figures and verdict 'unchecked'" if keep_missing else "ignored",
    )
    return out


def _collection_extras(geoms: np.ndarray) -> np.ndarray:
    """Which geometries are collections holding a non-empty point or line beside (or instead of) polygons."""
    out = np.zeros(len(geoms), dtype=bool)
    collections = np.flatnonzero(shapely.get_type_id(geoms) == shapely.GeometryType.GEOMETRYCOLLECTION)
    if len(collections):
        parts, index = shapely.get_parts(geoms[collections], return_index=True)
        extra = ~np.isin(shapely.get_type_id(parts), (3, 6)) & ~shapely.is_empty(parts)
        out[collections[np.unique(index[extra])]] = True
    return out


#: Columns taken as a line polygon's own id, in this order, when ``source_id_col`` names none.
SOURCE_ID_COLUMNS = ("BSM", "标识码", "osm_id")


def _source_id_column(layer: gpd.GeoDataFrame, name: str, source_id_col: Mapping[str, str]) -> str | None:
    if name in source_id_col:
        return source_id_col[name]
    return next((c for c in SOURCE_ID_COLUMNS if c in layer.columns), None)


def _source_ids(layer: gpd.GeoDataFrame, column: str | None) -> np.ndarray:
    """Each polygon's own id as text (``column``); the row index only where it has none."""
    fallback = layer.index.astype(str).to_numpy(dtype=object)
    if column is None:
        return fallback
    values = layer[column]
    missing = values.isna().to_numpy()
    out = values.astype(str).to_numpy(dtype=object)
    out[missing] = fallback[missing]
    return out


def _prepare_lines(
    lines: Mapping[str, gpd.GeoDataFrame | None],
    target: CRS,
    repairs: _Repairs,
    features: np.ndarray,
    source_id_col: Mapping[str, str],
) -> dict[str, LineLayer]:
    """Reproject each line layer and keep only the polygons that can meet a feature.

    A polygon whose bounding box meets no feature's bounding box cannot overlap any feature,
    so it is never validated, repaired or intersected (a province-wide farmland layer shrinks
    to the few thousand patches near the towns). Missing, empty and non-polygonal geometries
    are reported for the whole layer.
    """
    present = features[~shapely.is_missing(features)]
    feature_tree = shapely.STRtree(present)
    prepared: dict[str, LineLayer] = {}
    for name, layer in lines.items():
        if layer is None:
            continue
        metric = tzcrs.to_metric(layer, crs=target)
        id_column = _source_id_column(layer, name, source_id_col)
        if id_column is None and len(layer):
            repairs.note(
                name,
                f"no id column ({', '.join(SOURCE_ID_COLUMNS)})",
                "conflicts name the polygons by row index; pass source_id_col= naming the id column",
            )
        elif id_column is not None and layer[id_column].isna().any():
            repairs.add(
                name,
                f"no id in {id_column!r}",
                layer.index[layer[id_column].isna().to_numpy()],
                "conflicts name these polygons by row index",
            )
        if CRS.from_user_input(layer.crs) != target:
            repairs.note(name, f"reprojected from {CRS.from_user_input(layer.crs).to_string()}", f"to {target}")
        raw = np.asarray(metric.geometry.to_numpy(), dtype=object)
        missing = shapely.is_missing(raw) | shapely.is_empty(raw)
        kinds = shapely.get_type_id(raw)
        not_polygon = ~missing & ~np.isin(kinds, (3, 6, 7))  # Polygon, MultiPolygon, GeometryCollection
        repairs.add(
            name, "empty or missing geometry", _source_ids(layer.iloc[np.flatnonzero(missing)], id_column), "ignored"
        )
        repairs.add(
            name,
            "no polygonal part (point or line)",
            _source_ids(layer.iloc[np.flatnonzero(not_polygon)], id_column),
            "ignored",
        )
        candidates = np.flatnonzero(~missing & ~not_polygon)
        near = np.unique(feature_tree.query(raw[candidates])[0]) if len(present) else np.empty(0, dtype=np.intp)
        positions = candidates[near]
        ids = _source_ids(layer.iloc[positions], id_column)
        geoms = _clean(raw[positions], name, ids, repairs, keep_missing=False)
        usable = ~shapely.is_missing(geoms)
        prepared[name] = LineLayer(name=name, geoms=geoms[usable], source_ids=ids[usable])
        logger.debug("%s: %d of %d polygons lie near a feature", name, len(positions), len(layer))
    return prepared


def _construction_mask(
    codes: pd.Series, repairs: _Repairs, labels: np.ndarray, landuse_rules: str | rules.RuleSet
) -> np.ndarray:
    """Which features count towards the verdict: construction land, or an unknown code."""
    from tongzhen_gis import schema  # local: schema loads its rules on import

    classes = schema.landuse_classes(codes.reset_index(drop=True), landuse_rules=landuse_rules)
    missing = classes["code"].isna().to_numpy()
    invalid = ~missing & ~classes["valid"].to_numpy()
    if invalid.all() and len(invalid):
        msg = (
            f"landuse_col {codes.name!r} holds no 用地用海 code (e.g. {classes['code'][invalid].iloc[0]!r}); name the "
            "column of 用地用海 codes such as '0701' with landuse_col="
        )
        raise SchemaError(msg, param="landuse_col")
    repairs.add(
        "features",
        "no land-use code",
        labels[missing],
        "counted as construction land (never passed silently); fill in the code",
    )
    repairs.add(
        "features",
        "land-use code that is not a 用地用海 code",
        labels[invalid],
        "counted as construction land (never passed silently); correct the code, e.g. '0701'",
    )
    return classes["construction"].to_numpy() | missing | invalid


def _measure(
    features: np.ndarray,
    prepared: Mapping[str, LineLayer],
    *,
    engine: str,
    client: Any,
    npartitions: int | None,
    progress: bool,
) -> dict[str, PiecesResult]:
    if engine == "local":
        return _measure_local(features, prepared, progress=progress)
    if engine == "dask":
        return _measure_dask(features, prepared, client=client, npartitions=npartitions)
    msg = f"unknown engine {engine!r}; use 'local' or 'dask'"
    raise OptionError(msg, param="engine")


def _concat(parts: list[tuple[int, PiecesResult]], n: int) -> PiecesResult:
    """Join block results (block offset, result) into one with global feature positions."""
    parts = sorted(parts, key=lambda p: p[0])
    union = np.concatenate([p.union_m2 for _, p in parts]) if parts else np.empty(0)
    has_outside = bool(parts) and parts[0][1].outside_m2 is not None
    outside = np.concatenate([p.outside_m2 for _, p in parts]) if has_outside else None
    return PiecesResult(
        union_m2=union,
        feature_pos=np.concatenate([p.feature_pos + off for off, p in parts]) if parts else np.empty(0, np.intp),
        source_pos=np.concatenate([p.source_pos for _, p in parts]) if parts else np.empty(0, np.intp),
        pieces=np.concatenate([p.pieces for _, p in parts]) if parts else np.empty(0, object),
        areas_m2=np.concatenate([p.areas_m2 for _, p in parts]) if parts else np.empty(0),
        outside_m2=outside,
    )


def _measure_local(
    features: np.ndarray, prepared: Mapping[str, LineLayer], *, progress: bool
) -> dict[str, PiecesResult]:
    n = len(features)
    n_blocks = 20 if progress and n >= 20 else 1
    edges = np.linspace(0, n, n_blocks + 1).astype(int)
    out: dict[str, PiecesResult] = {}
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n_blocks * len(prepared), desc="三线核查 control lines", unit="block", file=sys.stderr)
    try:
        for name, layer in prepared.items():
            _ = layer.tree  # build the index once, outside the block loop
            parts = []
            for start, stop in itertools.pairwise(edges):
                parts.append((int(start), measure_block(features[start:stop], layer)))
                if bar is not None:
                    bar.update(1)
            out[name] = _concat(parts, n)
    finally:
        if bar is not None:
            bar.close()
    return out


def _dask_block(block: gpd.GeoDataFrame, layers: Mapping[str, LineLayer]) -> tuple[int, dict[str, PiecesResult]]:
    offset = int(block.index[0]) if len(block) else 0
    geoms = block.geometry.to_numpy()
    return offset, {name: measure_block(geoms, layer) for name, layer in layers.items()}


def _measure_dask(
    features: np.ndarray, prepared: Mapping[str, LineLayer], *, client: Any, npartitions: int | None
) -> dict[str, PiecesResult]:
    import dask
    import dask_geopandas
    from distributed import Client, LocalCluster

    n = len(features)
    own_cluster = None
    if client is None:
        own_cluster = LocalCluster(
            n_workers=1,
            threads_per_worker=2,
            processes=False,
            protocol="tcp://",
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",  # loopback, a free port: never fails on a busy 8787
        )
        client = Client(own_cluster)
    try:
        for layer in prepared.values():
            _ = layer.tree  # built once here, shipped to the workers with the layer
        nparts = max(1, min(n, npartitions or 2 * max(1, sum(client.nthreads().values()))))
        frame = gpd.GeoDataFrame(geometry=gpd.GeoSeries(features), index=pd.RangeIndex(n))
        ddf = dask_geopandas.from_geopandas(frame, npartitions=nparts, sort=False)
        layers_future = client.scatter(dict(prepared), broadcast=True)
        tasks = [dask.delayed(_dask_block)(part, layers_future) for part in ddf.to_delayed()]
        results = client.gather(client.compute(tasks))
    finally:
        if own_cluster is not None:
            client.close()
            own_cluster.close()
    parts = [(off, res) for off, res in results]
    return {name: _concat([(off, res[name]) for off, res in parts], n) for name in prepared}


def check(
    features: gpd.GeoDataFrame,
    *,
    red_line: gpd.GeoDataFrame | None = None,
    farmland: gpd.GeoDataFrame | None = None,
    urban_boundary: gpd.GeoDataFrame | None = None,
    id_col: str = "town_id",
    sliver_m2: float | None = None,
    landuse_col: str | None = None,
    engine: Literal["local", "dask"] = "local",
    client: Any = None,
    npartitions: int | None = None,
    progress: bool = False,
    source_id_col: str | Mapping[str, str] | None = None,
    landuse_rules: str | rules.RuleSet = "landuse",
) -> ControlLineResult:
    """Check features (towns, parcels, extensions) against the three control lines.

    Parameters
    ----------
    features : GeoDataFrame
        Polygons to check, with a CRS and a unique ``id_col``.
    red_line, farmland, urban_boundary : GeoDataFrame, optional
        生态保护红线 (``STBHHX``), 永久基本农田 (``YJJBNTBHTB``), 城镇开发边界 (``CZKFBJ``).
        Any CRS (reprojected to the features' metric CRS). A layer not given leaves its
        columns ``NaN`` (see ``missing_lines``).
    id_col : str, default "town_id"
        Column (or index name) identifying the features; the summary is indexed by it.
    sliver_m2 : float, optional
        Overlaps at or below it are ``review``, above it ``conflict``. Default: the
        ``sliver_m2`` parameter of ``tz.rules.load("controllines")`` (1 m², no official value).
    landuse_col : str, optional
        Column of 用地用海 codes (strings such as ``"0701"``). When given, only construction
        classes count towards the verdict (see the module docstring).
    engine : {"local", "dask"}, default "local"
        ``"dask"`` splits the features into dask-geopandas partitions and runs them on
        ``client`` (default: a threaded ``LocalCluster`` bound to 127.0.0.1, loopback only, its
        dashboard on a free loopback port, closed afterwards).
        Both engines give identical numbers.
    client : distributed.Client, optional
        Used with ``engine="dask"``.
    npartitions : int, optional
        Partitions for ``engine="dask"`` (default: twice the client's threads).
    progress : bool, default False
        Show a tqdm progress bar on stderr (the CLI turns it on for long runs).
    source_id_col : str or mapping, optional
        The column holding each line polygon's own id, written to ``conflicts["source_id"]``:
        one name for every line layer, or ``{"farmland": "TBBH", ...}`` per layer. Default:
        the first of :data:`SOURCE_ID_COLUMNS` (``BSM``, ``标识码``, ``osm_id``) the layer has;
        a layer with none is named by its row index and says so in ``repairs``.
    landuse_rules : str or RuleSet, default "landuse"
        Decides which codes are construction land (``tz.schema.landuse_classes``).

    Returns
    -------
    ControlLineResult

    Raises
    ------
    CRSError
        A layer has no CRS.
    SchemaError
        ``id_col`` missing or not unique, numeric land-use codes, no line given.
    OptionError
        A bad option value (``sliver_m2`` < 0, an unknown ``engine`` …).

    Examples
    --------
    >>> import tongzhen_gis as tz
    >>> scene = tz.samples.sample_town()
    >>> r = tz.controllines.check(scene.towns, red_line=scene.red_line, farmland=scene.farmland)
    >>> r.missing_lines
    ('urban_boundary',)
    >>> r.summary.loc["T2", ["red_line_m2", "red_line_share"]].tolist()
    [100000.0, 0.1]
    """
    given = {"red_line": red_line, "farmland": farmland, "urban_boundary": urban_boundary}
    return _check(
        features,
        given,
        id_col=id_col,
        sliver_m2=sliver_m2,
        landuse_col=landuse_col,
        engine=engine,
        client=client,
        npartitions=npartitions,
        progress=progress,
        empty_is_nothing=False,
        source_id_col=source_id_col,
        landuse_rules=landuse_rules,
    )


def _source_id_cols(source_id_col: str | Mapping[str, str] | None, given: Mapping[str, Any]) -> dict[str, str]:
    """``source_id_col`` per given line layer; one error naming every unknown layer or column."""
    if source_id_col is None:
        return {}
    if isinstance(source_id_col, str):
        wanted = {name: source_id_col for name, layer in given.items() if layer is not None}
    else:
        wanted = dict(source_id_col)
    problems = [f"{name!r} is not a line layer (use {', '.join(LINES)})" for name in wanted if name not in LINES]
    for name, column in wanted.items():
        layer = given.get(name)
        if name in LINES and layer is not None and column not in layer.columns:
            problems.append(f"{name} has no column {column!r} (columns: {list(layer.columns)[:20]})")
    if problems:
        msg = "source_id_col: " + "; ".join(problems) + "; name the column holding each polygon's own id"
        raise SchemaError(msg, problems, param="source_id_col")
    return {name: column for name, column in wanted.items() if given.get(name) is not None}


def _check(
    features: gpd.GeoDataFrame,
    given: dict[str, gpd.GeoDataFrame | None],
    *,
    id_col: str,
    sliver_m2: float | None,
    landuse_col: str | None,
    engine: str,
    client: Any,
    npartitions: int | None,
    progress: bool,
    empty_is_nothing: bool,
    source_id_col: str | Mapping[str, str] | None = None,
    landuse_rules: str | rules.RuleSet = "landuse",
) -> ControlLineResult:
    """:func:`check`; ``empty_is_nothing`` makes empty polygons area-0 features (extensions)."""
    sliver = _default_sliver_m2(sliver_m2)
    features, ids = _validate(features, given, id_col, landuse_col)
    id_columns = _source_id_cols(source_id_col, given)
    repairs = _Repairs()
    metric = tzcrs.to_metric(features)
    target = CRS.from_user_input(metric.crs)
    if CRS.from_user_input(features.crs) != target:
        repairs.note("features", f"reprojected from {CRS.from_user_input(features.crs).to_string()}", f"to {target}")
    labels = ids.astype(str).to_numpy()
    raw = metric.geometry.to_numpy()
    geoms = _clean(raw, "features", labels, repairs, keep_missing=True, empty_is_nothing=empty_is_nothing)
    prepared = _prepare_lines(given, target, repairs, geoms, id_columns)
    missing_lines = tuple(name for name, layer in given.items() if layer is None)
    for name in missing_lines:
        repairs.note(name, "not given", "columns left empty (NaN); verdict from the other lines")
        logger.warning("%s not given: its columns are left empty and the verdict rests on the other lines", name)
    if landuse_col is not None:
        construction = _construction_mask(features[landuse_col], repairs, labels, landuse_rules)
    else:
        construction = np.ones(len(features), dtype=bool)
    logger.info(
        "checking %d features against %s in %s",
        len(features),
        ", ".join(f"{k} ({len(v.geoms)} polygons nearby)" for k, v in prepared.items()),
        target.to_string(),
    )
    measured = _measure(geoms, prepared, engine=engine, client=client, npartitions=npartitions, progress=progress)
    return _assemble(
        ids=ids,
        geoms=geoms,
        measured=measured,
        prepared=prepared,
        missing_lines=missing_lines,
        construction=construction,
        landuse_given=landuse_col is not None,
        sliver_m2=sliver,
        target=target,
        repairs=repairs,
    )


def _assemble(
    *,
    ids: pd.Index,
    geoms: np.ndarray,
    measured: Mapping[str, PiecesResult],
    prepared: Mapping[str, LineLayer],
    missing_lines: tuple[str, ...],
    construction: np.ndarray,
    landuse_given: bool,
    sliver_m2: float,
    target: CRS,
    repairs: _Repairs,
) -> ControlLineResult:
    id_col = ids.name
    n = len(ids)
    unusable = shapely.is_missing(geoms)
    area = np.where(unusable, np.nan, shapely.area(geoms))
    summary = pd.DataFrame({"area_m2": area}, index=ids)

    def share(values: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(area > 0, values / np.where(area > 0, area, 1.0), np.where(np.isnan(values), np.nan, 0.0))

    nan = np.full(n, np.nan)
    judged: dict[str, np.ndarray] = {}
    for name in ("red_line", "farmland"):
        values = measured[name].union_m2 if name in measured else nan
        summary[f"{name}_m2"] = values
        summary[f"{name}_share"] = share(values)
        if name in measured:
            judged[name] = values
    if "urban_boundary" in measured:
        inside, outside = measured["urban_boundary"].union_m2, measured["urban_boundary"].outside_m2
        assert outside is not None  # the boundary is always measured with its outside part
        judged["urban_boundary"] = outside
    else:
        inside = outside = nan
    summary["inside_boundary_m2"] = inside
    summary["outside_boundary_m2"] = outside
    summary["outside_boundary_share"] = share(outside)

    conflicts = _conflict_table(ids, measured, prepared, area, construction, sliver_m2, target)
    counted = conflicts[conflicts["construction"]]
    for column, rows in (("n_conflicts", counted[~counted["sliver"]]), ("n_slivers", counted[counted["sliver"]])):
        summary[column] = rows.groupby(id_col, sort=False).size().reindex(ids, fill_value=0).to_numpy().astype(int)

    verdict = np.zeros(n, dtype=int)  # index into _VERDICT_ORDER
    for values in judged.values():
        v = np.nan_to_num(values, nan=0.0)
        level = np.where(v > sliver_m2, 2, np.where(v > 0, 1, 0))
        verdict = np.maximum(verdict, np.where(construction, level, 0))
    labels = np.array(_VERDICT_ORDER, dtype=object)[verdict]
    labels[unusable] = "unchecked"
    summary["verdict"] = pd.array(labels, dtype="str")
    if landuse_given:
        summary["construction"] = construction
    for col in [c for c in summary.columns if c.endswith("_m2")]:
        summary[col[:-3] + "_mu"] = summary[col] / M2_PER_MU
    return ControlLineResult(
        summary=summary,
        conflicts=conflicts,
        repairs=repairs.frame(),
        missing_lines=missing_lines,
        crs=target,
        sliver_m2=sliver_m2,
    )


def _patches(pieces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The connected parts of each piece and the piece each comes from (only multi-part pieces are split)."""
    multi = np.flatnonzero(shapely.get_num_geometries(pieces) > 1)
    if len(multi) == 0:
        return pieces, np.arange(len(pieces))
    parts, owner = shapely.get_parts(pieces[multi], return_index=True)
    single = np.ones(len(pieces), dtype=bool)
    single[multi] = False
    geoms = np.concatenate([pieces[single], parts])
    owners = np.concatenate([np.flatnonzero(single), multi[owner]])
    order = np.argsort(owners, kind="stable")
    return geoms[order], owners[order]


def _conflict_table(
    ids: pd.Index,
    measured: Mapping[str, PiecesResult],
    prepared: Mapping[str, LineLayer],
    area: np.ndarray,
    construction: np.ndarray,
    sliver_m2: float,
    target: CRS,
) -> gpd.GeoDataFrame:
    """One row per overlap patch: each (feature, line, source) piece split into its connected parts."""
    columns: dict[str, list[np.ndarray]] = {k: [] for k in ("pos", "order", "source", "geometry")}
    for line_no, name in enumerate(LINES):
        if name not in measured:
            continue
        res = measured[name]
        source = (
            prepared[name].source_ids[res.source_pos]
            if name != "urban_boundary"
            else np.full(len(res.feature_pos), None, dtype=object)
        )
        # a patch is connected: a piece in two parts is two patches, each judged against the tolerance
        parts, owner = _patches(np.asarray(res.pieces, dtype=object))
        columns["pos"].append(res.feature_pos[owner])
        columns["order"].append(np.full(len(owner), line_no))
        columns["source"].append(source[owner])
        columns["geometry"].append(parts)
    pos, order, source, geoms = (
        np.concatenate(columns[k]) if columns[k] else np.empty(0, dtype=dtype)
        for k, dtype in (("pos", np.intp), ("order", np.intp), ("source", object), ("geometry", object))
    )
    keep = np.flatnonzero(shapely.area(geoms) > 0) if len(geoms) else np.empty(0, dtype=np.intp)
    keep = keep[np.lexsort((order[keep], pos[keep]))]  # stable: by feature, then line, then piece
    pos, order, source, geoms = pos[keep], order[keep].astype(int), source[keep], geoms[keep]
    areas = shapely.area(geoms) if len(geoms) else np.empty(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        piece_share = areas / area[pos]
    lines = np.array([_CONFLICT_LINE[name] for name in LINES], dtype=object)
    table = pd.DataFrame(
        {
            ids.name: pd.Series(ids.to_numpy()[pos], dtype=ids.dtype),
            "line": pd.array(lines[order], dtype="str"),
            "source_id": pd.Series(source, dtype=object),
            "area_m2": areas,
            "area_mu": areas / M2_PER_MU,
            "share": piece_share,
            "sliver": areas <= sliver_m2,
            "construction": construction[pos].astype(bool),
        }
    )
    return gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(geoms, crs=target), crs=target)


def check_extension(
    current: gpd.GeoDataFrame,
    proposed: gpd.GeoDataFrame,
    *,
    id_col: str = "town_id",
    **same: Any,
) -> ControlLineResult:
    """Check only the area a proposed boundary (扩容) adds to the current one.

    Features are matched on ``id_col``; a proposed feature without a current one is new
    altogether. The added area (proposed minus current, in the proposed layer's metric CRS)
    is checked with :func:`check`.

    Parameters
    ----------
    current, proposed : GeoDataFrame
        Current and proposed boundaries, each with a CRS and a unique ``id_col``.
    id_col : str, default "town_id"
    **same
        Passed on to :func:`check` (``red_line=``, ``farmland=``, ``urban_boundary=``,
        ``sliver_m2=``, ``engine=`` …).

    Returns
    -------
    ControlLineResult
        As from :func:`check`, indexed by the proposed features' ids; ``area_m2`` is the
        *added* area; extra columns ``current_area_m2`` and ``proposed_area_m2`` (``NaN``
        current area for a new feature) with their ``_mu`` twins. Current features with no proposed counterpart are
        listed in ``repairs``.
    """
    if "landuse_col" in same and same["landuse_col"] is not None:
        msg = "check_extension does not take landuse_col: the added area has no land-use class; check parcels instead"
        raise OptionError(msg, param="landuse_col")
    lines = {k: same.get(k) for k in LINES}
    _validate(current, lines, id_col, None)
    _, proposed_ids = _validate(proposed, lines, id_col, None)
    metric = tzcrs.to_metric(proposed)
    current_metric = tzcrs.to_metric(current, crs=metric.crs)
    current_ids = current_metric[id_col] if id_col in current_metric.columns else current_metric.index.to_series()
    current_geoms = pd.Series(current_metric.geometry.to_numpy(), index=pd.Index(current_ids, name=id_col))
    proposed_geoms = metric.geometry.to_numpy()
    before = np.array(current_geoms.reindex(proposed_ids).to_numpy(), dtype=object)
    before[pd.isna(before)] = None  # no current feature: the proposed one is new altogether
    has_before = ~shapely.is_missing(before)
    added = proposed_geoms.copy()
    added[has_before] = polygonal(shapely.difference(proposed_geoms[has_before], before[has_before]))
    # An extension that adds nothing keeps an empty polygon (area 0, verdict pass), not "unchecked".
    nothing = shapely.is_missing(added) & ~shapely.is_missing(proposed_geoms)
    added[nothing] = shapely.Polygon()
    frame = gpd.GeoDataFrame({id_col: proposed_ids.to_numpy()}, geometry=added, crs=metric.crs)
    options = {k: v for k, v in same.items() if k not in LINES}
    unknown = set(options) - {
        "sliver_m2",
        "engine",
        "client",
        "npartitions",
        "progress",
        "landuse_col",
        "source_id_col",
    }
    if unknown:
        msg = f"check_extension got unknown option(s) {sorted(unknown)}; it takes the options of check()"
        raise OptionError(msg, param=min(unknown))
    result = _check(
        frame,
        lines,
        id_col=id_col,
        sliver_m2=options.get("sliver_m2"),
        landuse_col=None,
        engine=options.get("engine", "local"),
        client=options.get("client"),
        npartitions=options.get("npartitions"),
        progress=options.get("progress", False),
        empty_is_nothing=True,
        source_id_col=options.get("source_id_col"),
    )
    summary = result.summary
    current_area = np.where(has_before, shapely.area(before), np.nan)
    summary.insert(0, "proposed_area_m2", shapely.area(proposed_geoms))
    summary.insert(0, "current_area_m2", current_area)
    summary["current_area_mu"] = summary["current_area_m2"] / M2_PER_MU
    summary["proposed_area_mu"] = summary["proposed_area_m2"] / M2_PER_MU
    dropped = current_geoms.index.difference(proposed_ids)
    repairs = _Repairs()
    repairs.rows = result.repairs.to_dict("records")
    repairs.add(
        "current", "has no proposed counterpart", list(dropped), f"not checked; give both layers the same {id_col!r}"
    )
    return ControlLineResult(
        summary=summary,
        conflicts=result.conflicts,
        repairs=repairs.frame(),
        missing_lines=result.missing_lines,
        crs=result.crs,
        sliver_m2=result.sliver_m2,
    )
