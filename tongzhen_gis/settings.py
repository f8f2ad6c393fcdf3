"""Typed, module-level settings (the osmnx pattern).

Change them by assignment, e.g. ``tz.settings.default_metric_crs = "EPSG:4550"``.
No policy numbers live here: thresholds belong to the rule files (:mod:`tongzhen_gis.rules`).

Attributes
----------
default_metric_crs : str
    CRS used when data must be measured and no better zone can be derived from the data
    itself. CGCS2000 3-degree Gauss-Krüger zone 40 (central meridian 120°E, no zone prefix),
    the zone that covers Hangzhou.
cache_folder : pathlib.Path
    Where downloads (``tz.network.from_place``) are cached. ``$TONGZHEN_CACHE`` overrides it.
shapefile_fallback_encoding : str
    Encoding assumed for a shapefile without a ``.cpg`` whose attribute bytes are not valid
    UTF-8. Chinese shapefiles exported without a ``.cpg`` are nearly always GBK.
log_level : int
    Level of the package logger when the CLI configures output. The library itself only adds
    a ``NullHandler``; it never configures logging at import.
max_grid_cells : int
    Most cells a raster the toolkit computes may have (``tz.intensity.floor_area_grid``): a
    larger one means coordinates far from the rest (a wrong CRS, a typo) and is refused rather
    than filling the memory. 50 million float64 cells take 400 MB.
shared_data_env : str
    Name of the environment variable that points to the real-data folder used by tests,
    notebooks and benchmarks (defaults to ``../shared/data`` beside the repository).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

default_metric_crs: str = "EPSG:4549"
cache_folder: Path = Path(os.environ.get("TONGZHEN_CACHE", Path.home() / ".cache" / "tongzhen_gis"))
shapefile_fallback_encoding: str = "GBK"
log_level: int = logging.INFO
max_grid_cells: int = 50_000_000
shared_data_env: str = "TONGZHEN_SHARED_DATA"
