"""Vector layers: list, read (checked and repaired) and write GeoPackage, Shapefile, GeoJSON, FileGDB and more.

:func:`read_layer` checks what planners' files usually get wrong and says so instead of guessing
silently: a missing file or layer, a corrupt or empty layer (:class:`~tongzhen_gis.errors.InputFileError`);
a missing CRS (:class:`~tongzhen_gis.errors.CRSError` unless ``crs=`` declares one); declared
web-map coordinates (``coord_system=``, converted to WGS84); invalid geometries (repaired with
:func:`shapely.make_valid`) and empty ones (removed), counted in ``gdf.attrs["repairs"]``. The
shapefile encoding is chosen by :mod:`tongzhen_gis.io.encodings`.
"""

from __future__ import annotations

import codecs
import json
import logging
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError as PyprojCRSError

from tongzhen_gis import crs as tzcrs
from tongzhen_gis import webmap
from tongzhen_gis.errors import CRSError, InputFileError, OptionError, TongzhenError
from tongzhen_gis.io.encodings import _shapefile_encoding
from tongzhen_gis.io.paths import _mkparent, _require_exists

__all__ = ["list_layers", "read_layer", "write_layer"]

logger = logging.getLogger(__name__)

# Suffix -> OGR driver for writing. GeoParquet goes through geopandas/pyarrow instead.
_VECTOR_DRIVERS = {
    ".gpkg": "GPKG",
    ".shp": "ESRI Shapefile",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".fgb": "FlatGeobuf",
    ".gdb": "OpenFileGDB",
}
_LAYERED_DRIVERS = ("GPKG", "OpenFileGDB")
_PARQUET_SUFFIXES = (".parquet", ".geoparquet")
_SHAPEFILE_FIELD_BYTES = 10
_OGR_ERRORS = (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, RuntimeError)


def _is_parquet(path: Path) -> bool:
    return path.suffix.lower() in _PARQUET_SUFFIXES


def list_layers(path: str | Path) -> list[str]:
    """Names of the layers in a vector file, in the file's order.

    Parameters
    ----------
    path : str or pathlib.Path
        GeoPackage, Shapefile, GeoJSON, FileGDB (``.gdb`` folder), FlatGeobuf or GeoParquet.
        Single-layer formats give one name (the file stem for Shapefile and GeoParquet).

    Returns
    -------
    list of str

    Raises
    ------
    InputFileError
        The file does not exist or cannot be opened as vector data.
    """
    path = Path(path)
    _require_exists(path)
    if _is_parquet(path):
        return [path.stem]
    try:
        layers = pyogrio.list_layers(path)
    except _OGR_ERRORS as exc:
        raise InputFileError(_unreadable_message(path, exc)) from exc
    return [str(name) for name in layers[:, 0]]


def _unreadable_message(path: Path, exc: BaseException) -> str:
    if path.suffix.lower() in (".zip", ".rar", ".7z"):
        return f"cannot read {path} ({exc}); unzip it first and read the .shp, .gpkg or .gdb inside"
    return (
        f"cannot read {path} as vector data ({exc}); check that the file is complete (a shapefile "
        "needs its .shp, .shx and .dbf side by side) and in a supported format (GeoPackage, "
        "Shapefile, GeoJSON, FileGDB, FlatGeobuf, GeoParquet), or re-export it from your GIS"
    )


def _choose_layer(path: Path, layer: str | None) -> str | None:
    """Check the requested layer against the file's layers; return the layer name to read."""
    if _is_parquet(path):
        if layer is not None and layer != path.stem:
            msg = f"{path} is GeoParquet and holds a single layer; drop layer={layer!r}"
            raise InputFileError(msg, param="layer")
        return None
    layers = list_layers(path)
    if not layers:
        msg = f"{path} holds no vector layer; check that it is the right file, or re-export it from your GIS"
        raise InputFileError(msg)
    listing = ", ".join(repr(name) for name in layers)
    if layer is None:
        if len(layers) > 1:
            msg = f"{path} holds {len(layers)} layers ({listing}); choose one with layer=..., e.g. layer={layers[0]!r}"
            raise InputFileError(msg, param="layer")
        return layers[0]
    if layer not in layers:
        msg = f"layer {layer!r} not found in {path}; the layers there are: {listing}; pass one of these as layer="
        raise InputFileError(msg, param="layer")
    return layer


def _crs_equal(a: Any, b: CRS) -> bool:
    a = CRS.from_user_input(a)
    if a.equals(b, ignore_axis_order=True):
        return True
    epsg_a, epsg_b = a.to_epsg(min_confidence=70), b.to_epsg(min_confidence=70)
    return epsg_a is not None and epsg_a == epsg_b


def _parse_crs(crs: Any) -> CRS | None:
    if crs is None:
        return None
    try:
        return CRS.from_user_input(crs)
    except PyprojCRSError as exc:
        msg = f"crs={crs!r} is not a coordinate reference system pyproj understands ({exc}); use e.g. 'EPSG:4549'"
        raise CRSError(msg, param="crs") from exc


def _apply_crs(gdf: gpd.GeoDataFrame, path: Path, crs: Any) -> gpd.GeoDataFrame:
    """Set the declared CRS of a file without one; refuse a declaration its own label contradicts.

    A file whose coordinates fit none of its own CRS's area of use but fit the declared CRS gets
    the declaration (a GeoJSON "WGS84" that holds Gauss-Krüger metres, a zone-prefixed X
    labelled without prefix): the label is what lies.
    """
    declared = _parse_crs(crs)
    if gdf.crs is None:
        if declared is None:
            suggestion = tzcrs.suggest_crs(gdf)
            exc = CRSError(tzcrs.missing_crs_message(str(path), suggestion=suggestion), param="crs")
            if suggestion is not None and suggestion.param is not None:
                exc.param = suggestion.param
                exc.suggested = suggestion.crs
            raise exc
        logger.info("%s has no CRS: using the declared %s", path, declared.to_string())
        return gdf.set_crs(declared)
    if declared is None or _crs_equal(gdf.crs, declared):
        return gdf
    if (
        tzcrs.outside_area_of_use(gdf).all()
        and not tzcrs.outside_area_of_use(gdf.set_crs(declared, allow_override=True)).any()
    ):
        logger.warning(
            "%s says %s but its coordinates lie outside that CRS's area of use and inside the declared %s: using %s",
            path,
            gdf.crs.to_string(),
            declared.to_string(),
            declared.to_string(),
        )
        return gdf.set_crs(declared, allow_override=True)
    msg = (
        f"{path} is in {gdf.crs.to_string()}, not the declared {declared.to_string()}; crs= only declares "
        "the CRS of a file that has none (or whose coordinates contradict its own): drop crs= and reproject "
        f"after reading (gdf.to_crs({declared.to_string()!r}) or tz.crs.to_metric)"
    )
    raise CRSError(msg, param="crs")


def _check_coordinates(gdf: gpd.GeoDataFrame, path: Path, *, drop_empty: bool) -> gpd.GeoDataFrame:
    """Hold every feature against the area of use of the layer's CRS; refuse the layer when none fits.

    Features outside it (a stray 1e12, a NaN, one swapped point) are set aside like empty ones
    (removed, or kept with geometry None when ``drop_empty`` is False) and listed in
    ``attrs["repairs"]["outside_area_of_use_index"]``.
    """
    outside = tzcrs.outside_area_of_use(gdf)
    arr = np.asarray(gdf.geometry.array, dtype=object)
    present = ~shapely.is_missing(arr) & ~shapely.is_empty(arr)
    if present.any() and outside[present].all():
        label = CRS.from_user_input(gdf.crs)
        diagnosis = tzcrs.diagnose_coordinates(gdf.total_bounds, label)
        if diagnosis.param == "crs":
            fix = f"declare crs={diagnosis.crs!r} to replace the label"
        elif diagnosis.param == "swap_xy":
            fix = "read it with swap_xy=True"
        else:
            fix = "check the coordinates and the CRS (.prj) of the export; declare the right CRS with crs="
        area = label.area_of_use.name.rstrip(".") if label.area_of_use is not None else "its area of use"
        degrees = " are not degrees:" if label.is_geographic and diagnosis.param != "swap_xy" else ""
        msg = (
            f"{path} says {label.to_string()} ({label.name}, used in {area}) but its coordinates{degrees} "
            f"lie outside it; {diagnosis.text}; {fix}"
        )
        exc = CRSError(msg, param=diagnosis.param or "crs")
        exc.suggested = diagnosis.crs
        raise exc
    labels = gdf.index[outside].tolist()
    gdf.attrs.setdefault("repairs", {})
    gdf.attrs["repairs"] |= {"outside_area_of_use": len(labels), "outside_area_of_use_index": labels}
    if not labels:
        return gdf
    logger.warning(
        "%s: %d feature(s) lie outside the area of use of %s (index %s): %s",
        path,
        len(labels),
        gdf.crs.to_string(),
        _short(labels),
        "removed" if drop_empty else "kept with geometry None",
    )
    return _set_aside(gdf, outside, drop_empty=drop_empty)


def _set_aside(gdf: gpd.GeoDataFrame, mask: np.ndarray, *, drop_empty: bool) -> gpd.GeoDataFrame:
    attrs = dict(gdf.attrs)
    if drop_empty:
        out = gdf.loc[~mask].copy()
    else:
        out = gdf.copy()
        out.loc[mask, out.geometry.name] = None
    out.attrs = attrs
    return out


def _drop_nonfinite(gdf: gpd.GeoDataFrame, path: Path, *, drop_empty: bool) -> gpd.GeoDataFrame:
    """Set aside features with a NaN or infinite coordinate before GEOS sees them (it raises on them)."""
    bad = tzcrs.nonfinite_coordinates(gdf.geometry)
    labels = gdf.index[bad].tolist()
    if labels and bad.all():
        msg = (
            f"every feature of {path} has a NaN or infinite coordinate; the export is broken: re-export it "
            "from your GIS"
        )
        raise InputFileError(msg)
    out = _set_aside(gdf, bad, drop_empty=drop_empty) if labels else gdf
    out.attrs["nonfinite"] = labels
    if labels:
        logger.warning(
            "%s: %d feature(s) with a NaN or infinite coordinate (index %s): %s",
            path,
            len(labels),
            _short(labels),
            "removed" if drop_empty else "kept with geometry None",
        )
    return out


def _convert_coord_system(gdf: gpd.GeoDataFrame, path: Path, coord_system: str | None) -> gpd.GeoDataFrame:
    """Apply the caller's web-map declaration; record it as :mod:`tongzhen_gis.crs` does."""
    if coord_system is None:
        gdf.attrs["coord_system_declared"] = None
        return gdf
    try:
        key = webmap.normalise_coord_system(coord_system, what="declared")
    except OptionError as exc:
        raise OptionError(f"coord_system={coord_system!r}: {exc}", param="coord_system") from exc
    if key == "wgs84":
        gdf.attrs["coord_system"] = "wgs84"
        gdf.attrs["coord_system_declared"] = "wgs84"
        return gdf
    layer_crs = CRS.from_user_input(gdf.crs)
    if (
        layer_crs.is_projected
        and layer_crs.geodetic_crs is not None
        and layer_crs.geodetic_crs.datum is not None
        and "China 2000" in layer_crs.geodetic_crs.datum.name
    ):
        # Survey-grade CGCS2000 Gauss-Krüger layers (红线, 基本农田, 开发边界 …) are never web-map
        # coordinates; "converting" them would shift every feature by ~500 m.
        msg = (
            f"{path} is in {layer_crs.to_string()} (CGCS2000 Gauss-Krüger), an official survey CRS that is never "
            f"{'GCJ-02' if key == 'gcj02' else 'BD-09'}; drop coord_system={coord_system!r} for this layer"
        )
        raise CRSError(msg, param="coord_system")
    if not layer_crs.is_geographic:
        logger.info("%s: reprojecting %s to EPSG:4326 before removing the %s offset", path, gdf.crs.to_string(), key)
        gdf = gdf.to_crs("EPSG:4326")
    attrs = dict(gdf.attrs)
    out = webmap.convert_coord_system(gdf, key, target="wgs84")
    out.attrs = {**attrs, **out.attrs, "coord_system_declared": key}
    logger.info("%s: converted %d features from the declared %s to WGS84", path, len(out), key.upper())
    return out


def _keep_dimension(geom: Any, dim: int) -> Any:
    """The parts of ``geom`` whose dimension is ``dim``, as one geometry (empty if none)."""
    if geom is None or (shapely.get_dimensions(geom) == dim and shapely.get_type_id(geom) != 7):
        return geom
    parts = [p for p in shapely.get_parts(geom) if not p.is_empty and shapely.get_dimensions(p) == dim]
    # Multi-part inputs may come back as nested collections: flatten once more.
    flat: list[Any] = []
    for part in parts:
        flat.extend(shapely.get_parts(part) if shapely.get_type_id(part) in (4, 5, 6, 7) else [part])
    if not flat:
        return shapely.from_wkt("GEOMETRYCOLLECTION EMPTY")
    if len(flat) == 1:
        return flat[0]
    # make_valid returns non-overlapping parts, so the multi-geometry is valid as is.
    return {0: shapely.multipoints, 1: shapely.multilinestrings, 2: shapely.multipolygons}[dim](flat)


def _repair(gdf: gpd.GeoDataFrame, path: Path, *, drop_empty: bool = True, repair: bool = True) -> gpd.GeoDataFrame:
    """Repair invalid geometries and drop (or keep as missing) empty ones, recording both in ``attrs["repairs"]``.

    One vectorised ``is_valid`` pass; only the geometries it flags go through ``make_valid``.
    ``repair=False`` skips validity altogether (the caller checks what it uses).
    """
    geoms = gdf.geometry.array
    missing = gdf.geometry.isna().to_numpy()
    valid = shapely.is_valid(np.asarray(geoms, dtype=object)) if repair else np.ones(len(gdf), dtype=bool)
    invalid = ~valid & ~missing
    repaired_labels: list[Any] = []
    parts_dropped: list[Any] = []
    if invalid.any():
        originals = np.asarray(geoms, dtype=object)[invalid]
        dims = shapely.get_dimensions(originals)
        made_valid = shapely.make_valid(originals)
        fixed = [_keep_dimension(g, int(d)) for g, d in zip(made_valid, dims, strict=True)]
        lost = shapely.get_num_geometries(made_valid) > shapely.get_num_geometries(np.array(fixed, dtype=object))
        new = np.asarray(geoms, dtype=object).copy()
        new[invalid] = np.array([*fixed, None], dtype=object)[:-1]
        gdf = gdf.copy()
        gdf[gdf.geometry.name] = gpd.GeoSeries(new, index=gdf.index, crs=gdf.crs)
        repaired_labels = gdf.index[invalid].tolist()
        parts_dropped = [label for label, gone in zip(repaired_labels, lost, strict=True) if gone]
        logger.warning(
            "%s: repaired %d invalid geometries with shapely.make_valid (index %s)%s",
            path,
            len(repaired_labels),
            _short(repaired_labels),
            f"; the lines or points make_valid split off were dropped (index {_short(parts_dropped)})"
            if parts_dropped
            else "",
        )
    empty = gdf.geometry.isna().to_numpy() | gdf.geometry.is_empty.to_numpy()
    empty_labels = gdf.index[empty].tolist()
    removed_labels: list[Any] = []
    kept_labels: list[Any] = []
    if empty_labels and drop_empty:
        removed_labels = empty_labels
        gdf = gdf.loc[~empty].copy()
        logger.warning(
            "%s: removed %d features with empty or missing geometry (index %s)",
            path,
            len(removed_labels),
            _short(removed_labels),
        )
    elif empty_labels:
        kept_labels = empty_labels
        if gdf.geometry.is_empty.any():
            gdf = gdf.copy()
            gdf.loc[empty, gdf.geometry.name] = None
        logger.warning(
            "%s: %d features have an empty or missing geometry, kept with geometry None (index %s)",
            path,
            len(kept_labels),
            _short(kept_labels),
        )
    gdf.attrs["repairs"] = {
        "validity_checked": repair,
        "invalid_repaired": len(repaired_labels),
        "invalid_repaired_index": repaired_labels,
        "parts_dropped": len(parts_dropped),
        "parts_dropped_index": parts_dropped,
        "empty_removed": len(removed_labels),
        "empty_removed_index": removed_labels,
        "empty_kept": len(kept_labels),
        "empty_kept_index": kept_labels,
    }
    return gdf


def _short(labels: list[Any], limit: int = 20) -> str:
    text = ", ".join(str(x) for x in labels[:limit])
    return text + (f", … ({len(labels) - limit} more)" if len(labels) > limit else "")


def read_layer(
    path: str | Path,
    *,
    layer: str | None = None,
    encoding: str | None = None,
    coord_system: str | None = None,
    crs: str | int | CRS | None = None,
    drop_empty: bool = True,
    swap_xy: bool = False,
    repair: bool = True,
) -> gpd.GeoDataFrame:
    """Read one vector layer, checked and repaired, into a GeoDataFrame.

    Parameters
    ----------
    path : str or pathlib.Path
        GeoPackage (``.gpkg``), Shapefile (``.shp``), GeoJSON, FileGDB (``.gdb`` folder),
        FlatGeobuf (``.fgb``) or GeoParquet (``.parquet``).
    layer : str, optional
        Layer to read. Required when the file holds more than one layer.
    encoding : str, optional
        Text encoding of a shapefile's attributes (e.g. ``"GBK"``). Wins over everything
        else. Otherwise a ``.cpg`` beside the shapefile is honoured (names such as ``GBK`` and
        code pages such as ``936`` or ``ANSI 936``); without one, the attributes are read as
        UTF-8 if their bytes are valid UTF-8, else as
        :data:`tongzhen_gis.settings.shapefile_fallback_encoding` (GBK), with a logged warning.
        A ``.cpg`` claiming UTF-8 over bytes that are not UTF-8 gets the same fallback and
        warning. Other formats are UTF-8 by definition and ignore it.
    coord_system : {None, "wgs84", "gcj02", "bd09"}, optional
        Your declaration of the web-map coordinate system of the data. ``"gcj02"`` (Amap,
        Tencent) and ``"bd09"`` (Baidu) are converted to WGS84 with
        :func:`tongzhen_gis.crs.convert_coord_system`; a projected layer is first reprojected to
        EPSG:4326. No file reveals GCJ-02 by itself (such files usually claim WGS84), so this is
        never guessed. Official planning layers (CGCS2000) need ``None``. The declaration is
        recorded in ``gdf.attrs["coord_system_declared"]``; after a conversion
        ``attrs["coord_system"]`` is ``"wgs84"`` and ``attrs["coord_conversions"]`` lists it (the
        convention of :func:`tongzhen_gis.crs.convert_coord_system`).
    crs : CRS-like, optional
        The CRS of a file that has none (no ``.prj``). A file that has a different CRS raises:
        reproject after reading instead. One exception: a file whose coordinates lie wholly
        outside its own CRS's area of use but inside the declared one's (a GeoJSON without a
        ``crs`` member is WGS84 by definition, yet desktop GIS often write Gauss-Krüger metres
        that way; an X with the zone number in front labelled as a CRS without it) gets the
        declared CRS instead of its label (logged).
    drop_empty : bool, default True
        Remove features whose geometry is missing or empty (counted in ``empty_removed``).
        ``False`` keeps them, with geometry ``None``, counted in ``empty_kept``: use it when
        every input row must reach the result (``tongzhen check-lines`` lists them as
        ``unchecked``). Features set aside for their coordinates (below) follow the same rule.
    swap_xy : bool, default False
        Exchange X and Y in every vertex before anything else: for files written latitude
        first (``30.25, 120.15``) or northing first. The check below names this option when
        the swapped coordinates would fit the CRS. Recorded in ``attrs["swap_xy"]``.
    repair : bool, default True
        Check validity (one vectorised ``shapely.is_valid`` pass) and repair the invalid
        geometries. ``False`` leaves validity to the caller, for an analysis that validates
        and reports the geometries it uses itself (``tz.controllines.check`` repairs the
        features and only the line polygons near them, so a province-wide layer is not
        checked twice); ``attrs["repairs"]["validity_checked"]`` says which.

    Returns
    -------
    GeoDataFrame
        Indexed by feature order in the file (0, 1, …); removed features leave gaps so every
        label still names the same feature. ``attrs`` holds ``source``, ``layer``, ``encoding``
        (shapefiles: how it was chosen), ``coord_system_declared``, ``swap_xy`` and ``repairs``
        (``validity_checked``, ``invalid_repaired``, ``invalid_repaired_index``, ``parts_dropped``,
        ``parts_dropped_index`` (repairs whose stray lines or points were dropped), ``empty_removed``,
        ``empty_removed_index``,
        ``empty_kept``, ``empty_kept_index``, ``nonfinite``, ``nonfinite_index``,
        ``outside_area_of_use``, ``outside_area_of_use_index``).

    Raises
    ------
    InputFileError
        Missing file; missing layer (the message lists the layers); several layers and none
        named; unreadable or corrupt file; empty layer (also when every geometry is empty).
    CRSError
        No CRS and no ``crs=`` (the message names the CRS the coordinates fit, e.g. EPSG:4528 for
        an X starting with zone number 40); every feature outside the area of use of the layer's
        CRS (the message says why: swapped axes, a zone prefix, degrees labelled as metres …,
        and the fix, ``crs=`` or ``swap_xy=True``; ``param`` names it); a ``crs=`` that
        contradicts the file's CRS;
        ``coord_system="gcj02"``/``"bd09"`` on a projected CGCS2000 layer (official survey data
        is never in web-map coordinates).
    OptionError
        An unknown ``coord_system``.

    Notes
    -----
    Invalid geometries (self-intersecting "bow-tie" polygons, …) are repaired with
    :func:`shapely.make_valid`, keeping only the parts of the original geometry's dimension
    (the polygons of a polygon, not the stray lines of the collection ``make_valid`` may
    return). Features whose geometry is missing or empty are removed. Both are counted and
    logged, never silent. A repair that leaves nothing of the original dimension (a zero-area
    sliver polygon) is counted as repaired and then removed as empty.

    Coordinates are held against the CRS (:mod:`tongzhen_gis.crs`): a feature with a NaN or
    infinite coordinate (``nonfinite``), or lying outside the CRS's area of use widened by
    :data:`tongzhen_gis.crs.AREA_OF_USE_MARGIN_DEG` (``outside_area_of_use``: a stray 1e12, one
    swapped point) is set aside like an empty one, counted and logged; when every feature is
    outside, the layer is refused with the reason.

    Examples
    --------
    >>> towns = read_layer("data/raw/sample/sample.gpkg", layer="towns")  # doctest: +SKIP
    >>> pois = read_layer("amap_pois.geojson", coord_system="gcj02")  # doctest: +SKIP
    """
    path = Path(path)
    _require_exists(path)
    chosen = _choose_layer(path, layer)
    attrs: dict[str, Any] = {"source": str(path), "layer": chosen if chosen is not None else path.stem}
    try:
        if _is_parquet(path):
            gdf = gpd.read_parquet(path)
        else:
            read_encoding = None
            if path.suffix.lower() == ".shp":
                read_encoding, how = _shapefile_encoding(path, encoding)
                attrs["encoding"] = how
            elif encoding is not None:
                logger.debug("%s: encoding=%r ignored (only shapefiles carry an encoding)", path, encoding)
            # Arrow: about twice as fast as the feature-by-feature path, same dtypes.
            with warnings.catch_warnings():
                # NaN coordinates: set aside and reported below (_drop_nonfinite), not warned twice.
                warnings.filterwarnings("ignore", "invalid value encountered in from_wkb", RuntimeWarning)
                gdf = pyogrio.read_dataframe(path, layer=chosen, encoding=read_encoding, use_arrow=True)
    except (*_OGR_ERRORS, OSError, ValueError) as exc:
        if isinstance(exc, TongzhenError):  # already says what is wrong (e.g. an unknown encoding=)
            raise
        if isinstance(exc, UnicodeDecodeError | LookupError):
            msg = f"cannot decode the attributes of {path} ({exc}); pass the right encoding=, e.g. 'GBK' or 'UTF-8'"
            raise InputFileError(msg, param="encoding") from exc
        raise InputFileError(_unreadable_message(path, exc)) from exc
    if not isinstance(gdf, gpd.GeoDataFrame):
        msg = (
            f"{path} (layer {attrs['layer']!r}) has no geometry: it is a table, not a vector layer; give a "
            "GeoPackage, Shapefile, GeoJSON, FileGDB, FlatGeobuf or GeoParquet layer (tables: tz.io.read_table)"
        )
        raise InputFileError(msg)
    if len(gdf) == 0:
        msg = f"layer {attrs['layer']!r} of {path} is empty (no features); check that you exported the right layer"
        raise InputFileError(msg)
    if swap_xy:
        gdf = tzcrs.swap_xy(gdf)
    gdf = _drop_nonfinite(gdf, path, drop_empty=drop_empty)
    nonfinite = gdf.attrs.pop("nonfinite")
    gdf = _repair(gdf, path, drop_empty=drop_empty, repair=repair)
    repairs = gdf.attrs["repairs"]
    if nonfinite and not drop_empty:  # set aside, not empty in the file
        repairs["empty_kept_index"] = [i for i in repairs["empty_kept_index"] if i not in set(nonfinite)]
        repairs["empty_kept"] = len(repairs["empty_kept_index"])
    repairs |= {"nonfinite": len(nonfinite), "nonfinite_index": nonfinite}
    if len(gdf) == 0 or gdf.geometry.isna().all():
        msg = (
            f"every feature of layer {attrs['layer']!r} in {path} has an empty or missing geometry; "
            "check the export from your GIS"
        )
        raise InputFileError(msg)
    gdf = _apply_crs(gdf, path, crs)
    gdf = _check_coordinates(gdf, path, drop_empty=drop_empty)
    gdf.attrs.update(attrs)
    gdf.attrs["swap_xy"] = bool(swap_xy)
    return _convert_coord_system(gdf, path, coord_system)


def write_layer(
    gdf: gpd.GeoDataFrame,
    path: str | Path,
    *,
    layer: str | None = None,
    encoding: str = "UTF-8",
) -> Path:
    """Write a GeoDataFrame to a vector file; the format follows the suffix.

    Parameters
    ----------
    gdf : GeoDataFrame
        Layer to write. The index is written as a column when it is named, a MultiIndex or
        not integers (the geopandas rule); GeoParquet stores it and restores it on reading.
        Column names are written as text; in the OGR formats (all but GeoParquet) cells holding
        lists, tuples, sets or dicts are written as JSON text (Chinese kept readable).
    path : str or pathlib.Path
        ``.gpkg``, ``.shp``, ``.geojson``/``.json``, ``.fgb``, ``.parquet`` or ``.gdb`` (FileGDB
        folder, written by GDAL's OpenFileGDB driver). Parent folders are created.
    layer : str, optional
        Layer name (GeoPackage, FileGDB); defaults to the file stem. Writing a layer into an
        existing GeoPackage or FileGDB replaces that layer and keeps the others. Other formats
        hold one layer and are replaced whole.
    encoding : str, default "UTF-8"
        Attribute encoding. Only shapefiles may use another (e.g. ``"GBK"`` for old desktop
        GIS); a matching ``.cpg`` is written beside them.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    InputFileError
        Unknown suffix, or a write that GDAL refuses (message says why).
    OptionError
        A non-UTF-8 ``encoding`` for a format other than shapefile.

    Notes
    -----
    FlatGeobuf is written without its spatial index, because GDAL's index reorders the
    features and the order is part of the data (feature *i* keeps label *i* on reading).
    Shapefile field names longer than 10 bytes are shortened by GDAL; the affected names are
    logged as a warning. Prefer GeoPackage.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in _VECTOR_DRIVERS and suffix not in _PARQUET_SUFFIXES:
        known = ", ".join([*_VECTOR_DRIVERS, *_PARQUET_SUFFIXES])
        msg = f"cannot tell the format of {path} from its suffix; use one of {known} (GeoPackage is preferred)"
        raise InputFileError(msg)
    driver = _VECTOR_DRIVERS.get(suffix)
    is_utf8 = codecs.lookup(encoding).name == "utf-8"
    if driver != "ESRI Shapefile" and not is_utf8:
        msg = f"encoding={encoding!r} is only possible for shapefiles; {path.suffix} files are always UTF-8"
        raise OptionError(msg, param="encoding")
    if gdf.crs is None:
        logger.warning("%s: writing a layer without a CRS; set one first (gdf.set_crs) so others can use it", path)
    _mkparent(path)
    gdf = _storable(gdf, json_values=driver is not None)
    try:
        if driver is None:
            gdf.to_parquet(path)
            return path
        kwargs: dict[str, Any] = {"driver": driver, "engine": "pyogrio"}
        if driver in _LAYERED_DRIVERS:
            kwargs["layer"] = layer or path.stem
        elif layer is not None and layer != path.stem:
            logger.debug("%s: layer=%r ignored, the format holds one layer", path, layer)
        if driver == "ESRI Shapefile":
            kwargs["encoding"] = encoding
            long_names = [
                c
                for c in gdf.columns
                if c != gdf.geometry.name and len(str(c).encode(encoding)) > _SHAPEFILE_FIELD_BYTES
            ]
            if long_names:
                logger.warning(
                    "%s: shapefile field names are limited to %d bytes; GDAL shortens %s (prefer GeoPackage)",
                    path,
                    _SHAPEFILE_FIELD_BYTES,
                    long_names,
                )
        elif driver == "OpenFileGDB":
            gdf = _gdb_integers(gdf, kwargs)
        elif driver == "FlatGeobuf":
            # GDAL's packed R-tree reorders the features; keep the input order instead.
            kwargs["SPATIAL_INDEX"] = "NO"
        if path.exists() and driver not in _LAYERED_DRIVERS and driver != "ESRI Shapefile":
            path.unlink()  # GeoJSON/FlatGeobuf drivers refuse to overwrite
        with warnings.catch_warnings():
            # Logged above (long names with the names concerned, a missing CRS): no duplicates.
            warnings.filterwarnings("ignore", "Column names longer than 10 characters", UserWarning)
            warnings.filterwarnings("ignore", "Normalized/laundered field name", RuntimeWarning)
            warnings.filterwarnings("ignore", "'crs' was not provided", UserWarning)
            gdf.to_file(path, **kwargs)
    except (*_OGR_ERRORS, OSError, ValueError, TypeError) as exc:
        msg = f"cannot write {path} ({exc}); check the folder is writable and the layer's columns suit the format"
        raise InputFileError(msg) from exc
    logger.debug("wrote %d features to %s", len(gdf), path)
    return path


def _storable(gdf: gpd.GeoDataFrame, *, json_values: bool) -> gpd.GeoDataFrame:
    """Column names as text and, for OGR formats, list/dict values as JSON text."""
    out = gdf
    if any(not isinstance(c, str) for c in gdf.columns):
        out = gdf.rename(columns={c: str(c) for c in gdf.columns if not isinstance(c, str)})
        out = out.set_geometry(str(gdf.geometry.name))
    if not json_values:
        return out
    nested = [
        c
        for c in out.columns
        if c != out.geometry.name
        and out[c].dtype == object
        and out[c].map(lambda v: isinstance(v, list | tuple | dict | set)).any()
    ]
    if nested:
        out = out.copy() if out is gdf else out
        for c in nested:
            out[c] = out[c].map(_json_cell)
        logger.info("columns %s hold lists or dicts: written as JSON text", nested)
    return out


def _json_cell(value: Any) -> Any:
    if isinstance(value, set):
        value = sorted(value, key=str)
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value


def _gdb_integers(gdf: gpd.GeoDataFrame, kwargs: dict[str, Any]) -> gpd.GeoDataFrame:
    """Store 64-bit integer columns as 32-bit in a FileGDB when their values fit.

    ArcMap and ArcGIS Pro before 3.2 cannot read 64-bit integer fields; columns whose values
    do not fit in 32 bits are kept and the layer is written for ArcGIS Pro 3.2 or later.
    """
    info = np.iinfo(np.int32)
    wide = [c for c in gdf.columns if c != gdf.geometry.name and pd.api.types.is_integer_dtype(gdf[c].dtype)]
    wide = [c for c in wide if np.dtype(gdf[c].dtype).itemsize > 4 or np.dtype(gdf[c].dtype) == np.uint32]
    too_big = [c for c in wide if len(gdf) and (gdf[c].min() < info.min or gdf[c].max() > info.max)]
    fits = [c for c in wide if c not in too_big]
    if fits:
        gdf = gdf.astype(dict.fromkeys(fits, "int32"))
    if too_big:
        logger.warning("%s exceed 32-bit integers: FileGDB written for ArcGIS Pro 3.2 or later", too_big)
        kwargs["TARGET_ARCGIS_VERSION"] = "ARCGIS_PRO_3_2_OR_LATER"
    return gdf
