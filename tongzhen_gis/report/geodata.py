"""``results.gpkg`` and ``far_grid.tif`` of :mod:`tongzhen_gis.report`: every result layer.

Layers are made storable in a GeoPackage (objects as text), and an empty layer is listed in
the run's problems, not written. Written through :mod:`tongzhen_gis.io` only.
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import pandas as pd

from tongzhen_gis import evaluate
from tongzhen_gis import io as tzio
from tongzhen_gis.report.run import ReportRun


def _gpkg_safe(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Columns a GeoPackage can store: objects as text, everything else unchanged."""
    gdf = gdf.copy()
    for col in gdf.columns:
        if col == gdf.geometry.name:
            continue
        if gdf[col].dtype == object or str(gdf[col].dtype) in ("string", "str"):
            gdf[col] = gdf[col].map(lambda v: None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v))
    gdf.columns = [str(c) for c in gdf.columns]
    return gdf


def _write_geodata(
    run: ReportRun, indicators: pd.DataFrame, ev: evaluate.Evaluation, out: Path, problems: list[str]
) -> dict[str, Path]:
    """Write ``results.gpkg`` (and ``far_grid.tif``); an empty layer is noted in ``problems``, not written."""
    gpkg = tzio.safe_join(out, "results.gpkg")
    files: dict[str, Path] = {}
    towns = run.towns.layer.set_index(run.towns.id_col)
    extra = indicators.drop(columns=[c for c in indicators.columns if c in towns.columns])
    result = towns.join(extra).join(ev.grades[["grade", "points", "reasons"]])
    layers: dict[str, gpd.GeoDataFrame] = {"towns": result.reset_index()}
    if run.lines is not None:
        layers["conflicts"] = run.lines.check.conflicts
    acc = run.access
    if acc is not None:
        near = acc.nearest.add_prefix("dist_m_").rename(columns={"dist_m_snap_m": "snap_m"})
        layers["homes"] = acc.homes.join(near)
        if acc.service_areas is not None:
            layers["service_areas"] = acc.service_areas
        layers["facilities"] = acc.facilities
    for name, gdf in layers.items():
        if gdf is None or len(gdf) == 0:
            problems.append(f"results.gpkg: layer {name} is empty and was not written")
            continue
        tzio.write_layer(_gpkg_safe(gpd.GeoDataFrame(gdf)), gpkg, layer=name)
    files["gpkg"] = gpkg
    if run.intensity is not None and run.intensity.far_grid is not None:
        files["far_grid"] = tzio.write_raster(run.intensity.far_grid, tzio.safe_join(out, "far_grid.tif"))
    return files
