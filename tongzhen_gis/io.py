"""Reading and writing files: vector layers, rasters, tables, text (the only module that touches disk).

Every reader checks what planners' files usually get wrong and says so instead of guessing
silently:

* a missing file, a missing or unnamed layer, a corrupt file or an empty layer raise
  :class:`~tongzhen_gis.errors.InputFileError` with the fix;
* a layer without a coordinate reference system raises :class:`~tongzhen_gis.errors.CRSError`
  unless the caller declares one (``crs=``);
* a shapefile without a ``.cpg`` whose attribute bytes are not UTF-8 is read as GBK
  (:data:`tongzhen_gis.settings.shapefile_fallback_encoding`), and the choice is logged;
* web-map coordinates (GCJ-02 from Amap/Tencent, BD-09 from Baidu) are converted to WGS84 only
  when the caller declares them (``coord_system=``): a file cannot reveal that it is GCJ-02;
* invalid geometries are repaired with :func:`shapely.make_valid` and empty ones removed, each
  counted in ``gdf.attrs["repairs"]`` and logged.

Writers create parent folders and return the :class:`pathlib.Path` written. CSV tables are
written as UTF-8 *with* a byte-order mark so that Excel opens Chinese text correctly.
"""

from __future__ import annotations

import codecs
import json
import logging
import re
import unicodedata
import warnings
from collections.abc import Mapping
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
from tongzhen_gis import settings
from tongzhen_gis.crs import COORD_SYSTEMS
from tongzhen_gis.errors import CRSError, InputFileError, TongzhenError
from tongzhen_gis.raster import Raster

__all__ = [
    "COORD_SYSTEMS",
    "list_layers",
    "list_sheets",
    "read_layer",
    "read_raster",
    "read_table",
    "read_text",
    "safe_join",
    "write_bytes",
    "write_layer",
    "write_raster",
    "write_table",
    "write_text",
    "write_workbook",
]

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
_EXCEL_SHEET_CHARS = 31
_NAME_BYTES = 240  # below the 255-byte file-name limit of common file systems
_EXCEL_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_WINDOWS_FORBIDDEN = re.compile(r'[<>:"|?*]')
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
_OGR_ERRORS = (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, RuntimeError)


# --------------------------------------------------------------------------------------------
# Vector layers
# --------------------------------------------------------------------------------------------


def _require_exists(path: Path) -> None:
    if not path.exists():
        msg = f"file not found: {path}; check the path and the file name (absolute path: {path.absolute()})"
        raise InputFileError(msg)


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


def _dbf_text_fields(header: bytes) -> tuple[list[bytes], list[tuple[int, int]]]:
    """Field names and ``(offset, length)`` of the character fields of a dBASE header."""
    names, fields = [], []
    offset = 1  # each record starts with a one-byte deletion flag
    for start in range(32, len(header) - 31, 32):
        desc = header[start : start + 32]
        if desc[0] == 0x0D:
            break
        names.append(desc[:11].split(b"\x00", 1)[0])
        length = desc[16]
        if desc[11:12] in (b"C", b"V"):
            fields.append((offset, length))
        offset += length
    return names, fields


def _dbf_is_utf8(dbf: Path, *, chunk_records: int = 65536) -> bool:
    """Whether the field names and every text value of a ``.dbf`` decode as UTF-8.

    Only the text (``C``) fields are checked, not the binary header or numbers; the records
    are read in chunks so a large table costs little memory. A multi-byte character cut at
    the end of a full-width field (some writers truncate bytes, not characters) is tolerated.
    """
    with dbf.open("rb") as fh:
        head = fh.read(32)
        if len(head) < 32:
            return True
        n_records = int.from_bytes(head[4:8], "little")
        header_len = int.from_bytes(head[8:10], "little")
        record_len = int.from_bytes(head[10:12], "little")
        names, fields = _dbf_text_fields(head + fh.read(max(header_len - 32, 0)))
        try:
            for name in names:
                name.decode("utf-8")
            if not fields or record_len == 0:
                return True
            fh.seek(header_len)
            columns = [slice(o, o + n) for o, n in fields]
            remaining = n_records
            while remaining > 0:
                k = min(chunk_records, remaining)
                raw = fh.read(k * record_len)
                k = len(raw) // record_len
                if k == 0:
                    break
                records = np.frombuffer(raw[: k * record_len], dtype=np.uint8).reshape(k, record_len)
                for cols in columns:
                    block = records[:, cols]
                    try:
                        block.tobytes().decode("utf-8")  # fast path: the whole column at once
                    except UnicodeDecodeError:
                        # Row by row, tolerating a multi-byte character cut at the field's width.
                        for row in block[(block >= 0x80).any(axis=1)]:
                            codecs.utf_8_decode(row.tobytes(), "strict", False)
                remaining -= k
        except UnicodeDecodeError:
            return False
    return True


# Code pages written in .cpg files by ArcGIS and others, as Python codec names.
_CODE_PAGES = {"65001": "UTF-8", "936": "GBK", "54936": "GB18030", "20936": "GB2312", "950": "BIG5"}


def _codec_from_cpg(text: str) -> str | None:
    """The Python codec a ``.cpg`` declares ("UTF-8", "936", "ANSI 936", "GBK" …), or None."""
    token = text.strip().upper()
    for prefix in ("ANSI ", "OEM ", "CP", "CODEPAGE "):
        if token.startswith(prefix) and token[len(prefix) :].strip().isdigit():
            token = token[len(prefix) :].strip()
    if token.isdigit():
        token = _CODE_PAGES.get(token, f"cp{token}")
    try:
        return codecs.lookup(token).name
    except LookupError:
        return None


def _check_codec(encoding: str) -> str:
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        msg = f"unknown text encoding {encoding!r}; use e.g. 'GBK', 'GB18030' or 'UTF-8'"
        raise InputFileError(msg, param="encoding") from exc
    return encoding


def _shapefile_encoding(path: Path, encoding: str | None) -> tuple[str, str]:
    """Encoding to open a shapefile with, and how it was chosen (for logs and ``attrs``).

    Order: an explicit ``encoding``; the ``.cpg`` (code-page numbers such as ``936`` or
    ``ANSI 936`` understood, which GDAL alone does not); the ``.dbf`` bytes (UTF-8 if valid,
    else the fallback). A ``.cpg`` that says UTF-8 over bytes that are not UTF-8 is treated as
    missing, with a warning, rather than producing garbled text.
    """
    if encoding is not None:
        return _check_codec(encoding), "explicit"
    dbf = next((p for p in (path.with_suffix(".dbf"), path.with_suffix(".DBF")) if p.exists()), None)
    cpg = next((p for p in (path.with_suffix(".cpg"), path.with_suffix(".CPG")) if p.exists()), None)
    fallback = settings.shapefile_fallback_encoding
    if cpg is not None:
        declared = cpg.read_text(encoding="ascii", errors="replace").strip()
        codec = _codec_from_cpg(declared)
        if codec is None:
            logger.warning("%s: the .cpg names an unknown encoding %r; guessing from the bytes", path, declared)
        elif codec != "utf-8" or dbf is None or _dbf_is_utf8(dbf):
            logger.debug("%s: encoding %r from %s", path, declared, cpg.name)
            return codec, f"cpg:{declared}"
        else:
            logger.warning(
                "%s: the .cpg says %r but the attributes are not valid UTF-8: reading them as %s; "
                "pass encoding=... if the text looks wrong",
                path,
                declared,
                fallback,
            )
            return fallback, f"fallback:{fallback}"
    if dbf is None or _dbf_is_utf8(dbf):
        return "UTF-8", "detected:UTF-8"
    logger.warning(
        "%s has no usable .cpg file and its attributes are not valid UTF-8: reading them as %s "
        "(tz.settings.shapefile_fallback_encoding); pass encoding=... if the text looks wrong",
        path,
        fallback,
    )
    return fallback, f"fallback:{fallback}"


def _crs_equal(a: Any, b: CRS) -> bool:
    a = CRS.from_user_input(a)
    if a.equals(b, ignore_axis_order=True):
        return True
    epsg_a, epsg_b = a.to_epsg(min_confidence=70), b.to_epsg(min_confidence=70)
    return epsg_a is not None and epsg_a == epsg_b


def _not_lonlat(gdf: gpd.GeoDataFrame) -> bool:
    """Whether a layer labelled geographic holds coordinates that cannot be degrees."""
    if gdf.crs is None or not CRS.from_user_input(gdf.crs).is_geographic:
        return False
    minx, miny, maxx, maxy = gdf.total_bounds
    return bool(min(minx, miny) < -180.0 or maxx > 360.0 or max(abs(miny), abs(maxy)) > 90.0)


def _parse_crs(crs: Any) -> CRS | None:
    if crs is None:
        return None
    try:
        return CRS.from_user_input(crs)
    except PyprojCRSError as exc:
        msg = f"crs={crs!r} is not a coordinate reference system pyproj understands ({exc}); use e.g. 'EPSG:4549'"
        raise CRSError(msg, param="crs") from exc


def _apply_crs(gdf: gpd.GeoDataFrame, path: Path, crs: Any) -> gpd.GeoDataFrame:
    declared = _parse_crs(crs)
    if _not_lonlat(gdf):
        # GeoJSON without a "crs" member is WGS84 by definition, yet many exports from desktop
        # GIS hold projected metres (e.g. CGCS2000 Gauss-Krüger) that way.
        minx, miny, maxx, maxy = gdf.total_bounds
        claim = gdf.crs.to_string()
        if declared is None or declared.is_geographic:
            msg = (
                f"{path} says {claim} (longitude/latitude) but its coordinates ({minx:.0f}…{maxx:.0f}, "
                f"{miny:.0f}…{maxy:.0f}) are not degrees; declare the CRS they were made in with "
                "crs='EPSG:4549' (CGCS2000 Gauss-Krüger CM 120E for Hangzhou)"
            )
            raise CRSError(msg, param="crs")
        logger.warning(
            "%s says %s but its coordinates are not degrees: using the declared %s", path, claim, declared.to_string()
        )
        return gdf.set_crs(declared, allow_override=True)
    if declared is None:
        if gdf.crs is None:
            msg = (
                f"{path} has no coordinate reference system (CRS, no .prj or no CRS in the file); "
                "declare the one it was made in with read_layer(..., crs='EPSG:4549'), "
                "e.g. EPSG:4490 for CGCS2000 longitude/latitude, EPSG:4326 for WGS84, EPSG:4549 for "
                "CGCS2000 Gauss-Krüger CM 120E (Hangzhou)"
            )
            raise CRSError(msg, param="crs")
        return gdf
    if gdf.crs is None:
        logger.info("%s has no CRS: using the declared %s", path, declared.to_string())
        return gdf.set_crs(declared)
    if not _crs_equal(gdf.crs, declared):
        msg = (
            f"{path} is in {gdf.crs.to_string()}, not the declared {declared.to_string()}; crs= only declares "
            "the CRS of a file that has none: drop crs= and reproject after reading "
            f"(gdf.to_crs({declared.to_string()!r}) or tz.crs.to_metric)"
        )
        raise CRSError(msg, param="crs")
    return gdf


def _convert_coord_system(gdf: gpd.GeoDataFrame, path: Path, coord_system: str | None) -> gpd.GeoDataFrame:
    """Apply the caller's web-map declaration; record it as :mod:`tongzhen_gis.crs` does."""
    if coord_system is None:
        gdf.attrs["coord_system_declared"] = None
        return gdf
    try:
        key = tzcrs._normalise_system(coord_system, "declared")
    except CRSError as exc:
        raise CRSError(f"coord_system={coord_system!r}: {exc}", param="coord_system") from exc
    if key == "wgs84":
        gdf.attrs["coord_system"] = "wgs84"
        gdf.attrs["coord_system_declared"] = "wgs84"
        return gdf
    layer_crs = CRS.from_user_input(gdf.crs)
    if (
        layer_crs.is_projected
        and layer_crs.geodetic_crs is not None
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
    out = tzcrs.convert_coord_system(gdf, key, target="wgs84")
    out.attrs = {**attrs, **out.attrs, "coord_system_declared": key}
    logger.info("%s: converted %d features from the declared %s to WGS84", path, len(out), key.upper())
    return out


def _keep_dimension(geom: Any, dim: int) -> Any:
    """The parts of ``geom`` whose dimension is ``dim``, as one geometry (empty if none)."""
    if geom is None or (shapely.get_dimensions(geom) == dim and shapely.get_type_id(geom) != 7):
        return geom
    parts = [p for p in shapely.get_parts(geom) if not p.is_empty and shapely.get_dimensions(p) == dim]
    # Multi-part inputs may come back as nested collections: flatten once more.
    flat = []
    for part in parts:
        flat.extend(shapely.get_parts(part) if shapely.get_type_id(part) in (4, 5, 6, 7) else [part])
    if not flat:
        return shapely.from_wkt("GEOMETRYCOLLECTION EMPTY")
    if len(flat) == 1:
        return flat[0]
    # make_valid returns non-overlapping parts, so the multi-geometry is valid as is.
    return {0: shapely.multipoints, 1: shapely.multilinestrings, 2: shapely.multipolygons}[dim](flat)


def _repair(gdf: gpd.GeoDataFrame, path: Path, *, drop_empty: bool = True) -> gpd.GeoDataFrame:
    """Repair invalid geometries and drop (or keep as missing) empty ones, recording both in ``attrs["repairs"]``."""
    geoms = gdf.geometry.array
    valid = shapely.is_valid(np.asarray(geoms, dtype=object))
    missing = gdf.geometry.isna().to_numpy()
    invalid = ~valid & ~missing
    repaired_labels: list[Any] = []
    if invalid.any():
        originals = np.asarray(geoms, dtype=object)[invalid]
        dims = shapely.get_dimensions(originals)
        fixed = [_keep_dimension(g, int(d)) for g, d in zip(shapely.make_valid(originals), dims, strict=True)]
        new = np.asarray(geoms, dtype=object).copy()
        new[invalid] = np.array([*fixed, None], dtype=object)[:-1]
        gdf = gdf.copy()
        gdf[gdf.geometry.name] = gpd.GeoSeries(new, index=gdf.index, crs=gdf.crs)
        repaired_labels = gdf.index[invalid].tolist()
        logger.warning(
            "%s: repaired %d invalid geometries with shapely.make_valid (index %s)",
            path,
            len(repaired_labels),
            _short(repaired_labels),
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
        "invalid_repaired": len(repaired_labels),
        "invalid_repaired_index": repaired_labels,
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
        reproject after reading instead. One exception: a file labelled longitude/latitude
        whose coordinates cannot be degrees (a GeoJSON without a ``crs`` member is WGS84 by
        definition, yet desktop GIS often write Gauss-Krüger metres that way) raises unless
        ``crs=`` declares a projected CRS, which then replaces the label (logged).
    drop_empty : bool, default True
        Remove features whose geometry is missing or empty (counted in ``empty_removed``).
        ``False`` keeps them, with geometry ``None``, counted in ``empty_kept``: use it when
        every input row must reach the result (``tongzhen check-lines`` lists them as
        ``unchecked``).

    Returns
    -------
    GeoDataFrame
        Indexed by feature order in the file (0, 1, …); removed features leave gaps so every
        label still names the same feature. ``attrs`` holds ``source``, ``layer``, ``encoding``
        (shapefiles: how it was chosen), ``coord_system_declared`` and ``repairs`` (``invalid_repaired``,
        ``invalid_repaired_index``, ``empty_removed``, ``empty_removed_index``, ``empty_kept``,
        ``empty_kept_index``).

    Raises
    ------
    InputFileError
        Missing file; missing layer (the message lists the layers); several layers and none
        named; unreadable or corrupt file; empty layer (also when every geometry is empty).
    CRSError
        No CRS and no ``crs=``; a ``crs=`` that contradicts the file's CRS; unknown ``coord_system``;
        ``coord_system="gcj02"``/``"bd09"`` on a projected CGCS2000 layer (official survey data
        is never in web-map coordinates).

    Notes
    -----
    Invalid geometries (self-intersecting "bow-tie" polygons, …) are repaired with
    :func:`shapely.make_valid`, keeping only the parts of the original geometry's dimension
    (the polygons of a polygon, not the stray lines of the collection ``make_valid`` may
    return). Features whose geometry is missing or empty are removed. Both are counted and
    logged, never silent. A repair that leaves nothing of the original dimension (a zero-area
    sliver polygon) is counted as repaired and then removed as empty.

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
    gdf = _repair(gdf, path, drop_empty=drop_empty)
    if len(gdf) == 0 or gdf.geometry.isna().all():
        msg = (
            f"every feature of layer {attrs['layer']!r} in {path} has an empty or missing geometry; "
            "check the export from your GIS"
        )
        raise InputFileError(msg)
    gdf = _apply_crs(gdf, path, crs)
    gdf.attrs.update(attrs)
    return _convert_coord_system(gdf, path, coord_system)


def _mkparent(path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


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
        Unknown suffix, a non-UTF-8 encoding for a format other than shapefile, or a write
        that GDAL refuses (message says why).

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
        raise InputFileError(msg)
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


# --------------------------------------------------------------------------------------------
# Rasters
# --------------------------------------------------------------------------------------------


def read_raster(path: str | Path, *, band: int = 1) -> Raster:
    """Read one band of a raster file (GeoTIFF or anything GDAL reads) into a :class:`Raster`.

    Parameters
    ----------
    path : str or pathlib.Path
    band : int, default 1
        1-based band number.

    Returns
    -------
    tongzhen_gis.raster.Raster

    Raises
    ------
    InputFileError
        Missing or unreadable file, or no such band.
    CRSError
        The raster has no CRS.
    """
    import rasterio
    from rasterio.errors import RasterioIOError

    path = Path(path)
    _require_exists(path)
    try:
        with rasterio.open(path) as src:
            if not 1 <= band <= src.count:
                msg = f"{path} has {src.count} band(s); band={band} does not exist (bands are numbered from 1)"
                raise InputFileError(msg)
            array = src.read(band)
            transform, crs, nodata = src.transform, src.crs, src.nodata
    except RasterioIOError as exc:
        msg = f"cannot read {path} as a raster ({exc}); check the file is a complete GeoTIFF"
        raise InputFileError(msg) from exc
    if crs is None:
        msg = f"{path} has no CRS; assign one in your GIS (or with gdal_edit.py -a_srs EPSG:4549) and read it again"
        raise CRSError(msg)
    return Raster(array=array, transform=transform, crs=CRS.from_user_input(crs.to_wkt()), nodata=nodata)


def write_raster(raster: Raster, path: str | Path) -> Path:
    """Write a :class:`Raster` as a compressed single-band GeoTIFF (CRS and nodata kept).

    Parameters
    ----------
    raster : tongzhen_gis.raster.Raster
    path : str or pathlib.Path
        Parent folders are created.

    Returns
    -------
    pathlib.Path

    Notes
    -----
    DEFLATE compression; boolean arrays are stored as ``uint8``.
    """
    import rasterio

    path = _mkparent(path)
    array = np.asarray(raster.array)
    if array.dtype == bool:
        array = array.astype("uint8")
    profile = {
        "driver": "GTiff",
        "height": array.shape[0],
        "width": array.shape[1],
        "count": 1,
        "dtype": array.dtype.name,
        "crs": raster.crs.to_wkt(),
        "transform": raster.transform,
        "nodata": raster.nodata,
        "compress": "deflate",
    }
    if array.shape[0] >= 256 and array.shape[1] >= 256:
        profile.update(tiled=True, blockxsize=256, blockysize=256)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(array, 1)
    return path


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------


def read_table(
    path: str | Path,
    *,
    sheet: str | int | None = None,
    encoding: str | None = None,
    dtype: Any = None,
) -> pd.DataFrame:
    """Read a CSV or Excel (``.xlsx``) table.

    Parameters
    ----------
    path : str or pathlib.Path
    sheet : str or int, optional
        Excel sheet name or 0-based position; the first sheet by default.
    encoding : str, optional
        CSV encoding. By default UTF-8 (with or without BOM) is tried, then
        :data:`tongzhen_gis.settings.shapefile_fallback_encoding` (GBK, what Excel in Chinese
        Windows saves as "CSV"), with a logged warning.
    dtype : type, dict, optional
        Passed to pandas. **Keep code columns as text** so leading zeros survive, e.g.
        ``dtype={"DLBM": str, "YDYHFLDM": str}`` for land-use codes ("0101" would otherwise
        become 101), or ``dtype=str`` for every column.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    InputFileError
        Missing or unreadable file, unknown sheet (the message lists the sheets), or an
        unsupported suffix.
    """
    path = Path(path)
    _require_exists(path)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        return _read_csv(path, encoding=encoding, dtype=dtype)
    if suffix in (".xlsx", ".xlsm"):
        return _read_excel(path, sheet=sheet, dtype=dtype)
    if suffix == ".xls":
        msg = f"{path} is an old .xls workbook; open it in Excel or WPS and save it as .xlsx"
        raise InputFileError(msg)
    msg = f"cannot tell the table format of {path}; use .csv or .xlsx"
    raise InputFileError(msg)


def list_sheets(path: str | Path) -> list[str]:
    """Names of the sheets of an Excel workbook (``.xlsx``), in order.

    Parameters
    ----------
    path : str or pathlib.Path

    Returns
    -------
    list of str

    Raises
    ------
    InputFileError
        Missing file, or not a readable ``.xlsx`` workbook.
    """
    import openpyxl

    path = Path(path)
    _require_exists(path)
    try:
        workbook = openpyxl.load_workbook(path, read_only=True)
        names = list(workbook.sheetnames)
        workbook.close()
    except Exception as exc:  # openpyxl raises many kinds (zipfile, KeyError, …)
        msg = f"cannot read {path} as an Excel workbook ({exc}); open it in Excel or WPS and save it as .xlsx"
        raise InputFileError(msg) from exc
    return names


def _read_csv(path: Path, *, encoding: str | None, dtype: Any) -> pd.DataFrame:
    if encoding is not None and codecs.lookup(_check_codec(encoding)).name == "utf-8":
        encoding = "utf-8-sig"  # also reads files without BOM, and keeps a BOM out of the header
    candidates = [encoding] if encoding else ["utf-8-sig", settings.shapefile_fallback_encoding]
    for i, enc in enumerate(candidates):
        try:
            df = pd.read_csv(path, encoding=enc, dtype=dtype)
        except UnicodeDecodeError as exc:
            if i + 1 < len(candidates):
                continue
            msg = f"cannot decode {path} as {enc} ({exc}); pass the right encoding=, e.g. 'GBK' or 'UTF-8'"
            raise InputFileError(msg, param="encoding") from exc
        except (pd.errors.ParserError, pd.errors.EmptyDataError, LookupError) as exc:
            msg = f"cannot read {path} as CSV ({exc}); check it is a comma-separated table with a header row"
            raise InputFileError(msg) from exc
        if i > 0:
            logger.warning("%s is not UTF-8: read it as %s; pass encoding=... if the text looks wrong", path, enc)
        df.attrs["source"] = str(path)
        df.attrs["encoding"] = enc
        return df
    raise AssertionError  # pragma: no cover


def _read_excel(path: Path, *, sheet: str | int | None, dtype: Any) -> pd.DataFrame:
    names = list_sheets(path)
    if sheet is None:
        sheet = 0
    if (isinstance(sheet, str) and sheet not in names) or (isinstance(sheet, int) and not 0 <= sheet < len(names)):
        msg = f"sheet {sheet!r} not found in {path}; its sheets are: {', '.join(map(repr, names))}"
        raise InputFileError(msg)
    df = pd.read_excel(path, sheet_name=sheet, dtype=dtype, engine="openpyxl")
    df.attrs["source"] = str(path)
    df.attrs["sheet"] = names[sheet] if isinstance(sheet, int) else sheet
    return df


def write_table(df: pd.DataFrame, path: str | Path, *, index: bool = True) -> Path:
    """Write a table as CSV (UTF-8 with BOM, so Excel shows Chinese) or ``.xlsx``.

    An ``.xlsx`` is written by :func:`write_workbook` with one sheet, ``Sheet1``.

    Parameters
    ----------
    df : pandas.DataFrame
    path : str or pathlib.Path
        ``.csv`` or ``.xlsx``. Parent folders are created.
    index : bool, default True
        Write the index (e.g. the town id of a per-town table) as the first column.

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        msg = f"cannot tell the table format of {path}; use .csv or .xlsx"
        raise InputFileError(msg)
    if suffix == ".xlsx":
        return write_workbook({"Sheet1": df}, path, index=index)
    _mkparent(path)
    df.to_csv(path, index=index, encoding="utf-8-sig")
    return path


def _display_width(value: Any) -> int:
    """Width of a cell's text in Excel character units (CJK characters count two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in str(value))


def _excel_ready(df: pd.DataFrame, sheet: str) -> pd.DataFrame:
    """Remove control characters Excel cannot store from text cells (logged)."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    out = df
    for col in df.columns:
        if not (pd.api.types.is_object_dtype(df[col].dtype) or pd.api.types.is_string_dtype(df[col].dtype)):
            continue
        bad = df[col].map(lambda v: isinstance(v, str) and ILLEGAL_CHARACTERS_RE.search(v) is not None)
        if bad.any():
            out = out.copy() if out is df else out
            out[col] = df[col].map(lambda v: ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v)
            logger.warning(
                "sheet %r, column %r: removed control characters Excel cannot store from %d cells",
                sheet,
                col,
                int(bad.sum()),
            )
    return out


def _tidy_sheet(worksheet: Any, df: pd.DataFrame, *, index: bool, sample_rows: int = 1000) -> None:
    """Freeze the header row and size columns to their content (capped), as planners expect."""
    from openpyxl.utils import get_column_letter

    if df.columns.nlevels == 1:  # pandas writes one header row (index names included)
        worksheet.freeze_panes = "A2"
    head = df.head(sample_rows)
    columns: list[list[Any]] = []
    if index:
        for level in range(head.index.nlevels):
            columns.append([head.index.names[level] or "", *head.index.get_level_values(level)])
    for col in head.columns:
        columns.append([col if not isinstance(col, tuple) else max(col, key=_display_width), *head[col]])
    for i, values in enumerate(columns, start=1):
        width = max((_display_width(v) for v in values if not (isinstance(v, float) and np.isnan(v))), default=8)
        worksheet.column_dimensions[get_column_letter(i)].width = min(max(width + 2, 8), 60)


def _sheet_name(name: Any, used: set[str]) -> str:
    text = _EXCEL_FORBIDDEN.sub("_", str(name)).strip("'").strip() or "Sheet"
    text = text[:_EXCEL_SHEET_CHARS]
    candidate, n = text, 2
    while candidate.lower() in used:
        tail = f"~{n}"
        candidate = text[: _EXCEL_SHEET_CHARS - len(tail)] + tail
        n += 1
    used.add(candidate.lower())
    return candidate


def write_workbook(sheets: Mapping[str, pd.DataFrame], path: str | Path, *, index: bool = True) -> Path:
    r"""Write several tables to one Excel workbook, one sheet each.

    Parameters
    ----------
    sheets : mapping of str to DataFrame
        Sheet name → table, in the order the sheets should appear. Names may be Chinese; they
        are made valid for Excel: the characters ``[]:*?/\`` become ``_``, names are cut to
        31 characters, and names that then collide get ``~2``, ``~3`` … (Excel compares names
        case-insensitively).
    path : str or pathlib.Path
        Must end in ``.xlsx``. Parent folders are created.
    index : bool, default True
        Write each table's index as its first column.

    Returns
    -------
    pathlib.Path

    Notes
    -----
    Each sheet has its header row frozen and its columns sized to their content (Chinese
    characters count double, at most 60 characters wide). Control characters Excel cannot
    store are removed from text cells, with a logged warning.
    """
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        msg = f"a workbook must be written to an .xlsx file, not {path.name}"
        raise InputFileError(msg)
    if not sheets:
        msg = f"no tables given for {path}; pass at least one sheet"
        raise InputFileError(msg)
    _mkparent(path)
    used: set[str] = set()
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, df in sheets.items():
            clean = _sheet_name(name, used)
            if clean != name:
                logger.info("sheet %r written as %r (Excel sheet name rules)", name, clean)
            _excel_ready(df, clean).to_excel(writer, sheet_name=clean, index=index)
            _tidy_sheet(writer.sheets[clean], df, index=index)
    return path


# --------------------------------------------------------------------------------------------
# Text, bytes and safe file names
# --------------------------------------------------------------------------------------------


def read_text(path: str | Path, *, encoding: str = "utf-8") -> str:
    """Read a text file (a ``project.toml``, a rule file …).

    Parameters
    ----------
    path : str or pathlib.Path
    encoding : str, default "utf-8"

    Returns
    -------
    str

    Raises
    ------
    InputFileError
        The file is missing or is not text in ``encoding``.
    """
    path = Path(path)
    if not path.is_file():
        msg = f"{path}: no such file; check the path (relative paths start from {Path.cwd()})"
        raise InputFileError(msg)
    try:
        return path.read_text(encoding=encoding)
    except UnicodeDecodeError as exc:
        msg = f"{path}: not {encoding} text ({exc.reason} at byte {exc.start}); save it as UTF-8 or pass encoding="
        raise InputFileError(msg) from exc


def write_text(text: str, path: str | Path, *, encoding: str = "utf-8") -> Path:
    """Write text (HTML, Markdown, SVG …) to ``path``, creating parent folders.

    Parameters
    ----------
    text : str
    path : str or pathlib.Path
    encoding : str, default "utf-8"

    Returns
    -------
    pathlib.Path
    """
    path = _mkparent(path)
    path.write_text(text, encoding=encoding)
    return path


def write_bytes(data: bytes, path: str | Path) -> Path:
    """Write bytes (a PNG, a PDF …) to ``path``, creating parent folders.

    Parameters
    ----------
    data : bytes
    path : str or pathlib.Path

    Returns
    -------
    pathlib.Path
    """
    path = _mkparent(path)
    path.write_bytes(data)
    return path


def _clean_part(part: Any) -> str:
    text = unicodedata.normalize("NFC", str(part))
    problem = None
    if not text.strip():
        problem = "is empty"
    elif "/" in text or "\\" in text:
        problem = "contains a path separator (/ or \\)"
    elif any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in text):
        problem = "contains control characters"
    elif text.strip() in (".", ".."):
        problem = "is '.' or '..'"
    if problem is not None:
        msg = f"file name part {part!r} {problem}; use a plain name such as the town's name or id"
        raise InputFileError(msg)
    # Characters Windows refuses in file names; trailing dots/spaces vanish on Windows.
    text = _WINDOWS_FORBIDDEN.sub("_", text.strip()).rstrip(". ")
    if not text or text.split(".")[0].upper() in _WINDOWS_RESERVED:
        text = f"_{text}"
    if len(text.encode("utf-8")) > _NAME_BYTES:
        stem, dot, suffix = text.rpartition(".")
        if not dot or not stem or len(suffix) > 10:
            stem, suffix = text, ""
        keep = _NAME_BYTES - len(suffix.encode("utf-8")) - (1 if suffix else 0)
        short = stem.encode("utf-8")[:keep].decode("utf-8", errors="ignore").rstrip(". ")
        logger.info("file name %r shortened to %d bytes", text, _NAME_BYTES)
        text = f"{short}.{suffix}" if suffix else short
    return text


def safe_join(base: str | Path, *parts: Any) -> Path:
    """Join file-name parts made from user data (town names) under ``base``, safely.

    Each part must be one plain name: not empty, without path separators, control
    characters or ``..``. Characters Windows refuses (``<>:"|?*``) become ``_``, trailing dots
    and spaces are removed, reserved names (``CON``, ``NUL`` …) get a ``_`` prefix, and names
    longer than 240 bytes (80 Chinese characters) are shortened, keeping their extension. The
    result is checked to lie inside ``base`` (symbolic links resolved).

    Parameters
    ----------
    base : str or pathlib.Path
        Folder the result must stay in.
    *parts : str
        Names, e.g. ``safe_join(out, "云栖小镇", "map.png")``.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    InputFileError
        A part is empty or would leave ``base``.

    Examples
    --------
    >>> safe_join("out", "云栖小镇", "map.png").as_posix()
    'out/云栖小镇/map.png'
    """
    base = Path(base)
    if not parts:
        msg = "safe_join needs at least one name to join to the base folder"
        raise InputFileError(msg)
    result = base.joinpath(*(_clean_part(p) for p in parts))
    if not result.resolve().is_relative_to(base.resolve()):
        msg = f"{result} would lie outside {base}; use plain names without '..' or links"
        raise InputFileError(msg)
    return result
