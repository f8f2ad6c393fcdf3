"""Reading and writing files: vector layers, rasters, tables, text (the only package that touches disk).

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

Modules
-------
vector
    :func:`list_layers`, :func:`read_layer`, :func:`write_layer`: formats, CRS checks, web-map
    declarations and geometry repair.
encodings
    Shapefile attribute encodings: ``.cpg`` code pages, UTF-8 detection in the ``.dbf``, GBK
    fallback.
raster
    :func:`read_raster`, :func:`write_raster` (GeoTIFF).
tables
    :func:`read_table`, :func:`write_table`, :func:`write_workbook` (CSV and Excel),
    :func:`list_sheets` (the sheets of a workbook).
browser
    :func:`print_pdf`, :func:`screenshot`, :func:`dump_dom` of a local page in headless
    Chromium (a Debian package, not a Python one); :func:`find_chromium` says whether it is there.
paths
    :func:`safe_join` (file names from user data), :func:`read_text`, :func:`write_text`,
    :func:`write_bytes`.

Every public name is re-exported here: write ``tz.io.read_layer``.
"""

from __future__ import annotations

from tongzhen_gis.crs import COORD_SYSTEMS
from tongzhen_gis.io.browser import dump_dom, find_chromium, print_pdf, screenshot
from tongzhen_gis.io.paths import read_text, safe_join, write_bytes, write_text
from tongzhen_gis.io.raster import read_raster, write_raster
from tongzhen_gis.io.tables import list_sheets, read_table, write_table, write_workbook
from tongzhen_gis.io.vector import list_layers, read_layer, write_layer

__all__ = [
    "COORD_SYSTEMS",
    "dump_dom",
    "find_chromium",
    "list_layers",
    "list_sheets",
    "print_pdf",
    "read_layer",
    "read_raster",
    "read_table",
    "read_text",
    "safe_join",
    "screenshot",
    "write_bytes",
    "write_layer",
    "write_raster",
    "write_table",
    "write_text",
    "write_workbook",
]
