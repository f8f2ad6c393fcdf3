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
from tongzhen_gis.report.run import _Run


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


def _write_geodata(run: _Run, indicators: pd.DataFrame, ev: evaluate.Evaluation, out: Path) -> dict[str, Path]:
    gpkg = tzio.safe_join(out, "results.gpkg")
    files: dict[str, Path] = {}
    towns = run.towns.set_index(run.id_col)
    extra = indicators.drop(columns=[c for c in indicators.columns if c in towns.columns])
    result = towns.join(extra).join(ev.grades[["grade", "points", "reasons"]])
    layers: dict[str, gpd.GeoDataFrame] = {"towns": result.reset_index()}
    if run.lines is not None:
        layers["conflicts"] = run.lines.conflicts
    if run.homes is not None and run.nearest is not None:
        near = run.nearest.add_prefix("dist_m_").rename(columns={"dist_m_snap_m": "snap_m"})
        layers["homes"] = run.homes.join(near)
    if run.service_areas is not None:
        layers["service_areas"] = run.service_areas
    if run.facilities is not None:
        layers["facilities"] = run.facilities
    for name, gdf in layers.items():
        if gdf is None or len(gdf) == 0:
            run.problems.append(f"results.gpkg: layer {name} is empty and was not written")
            continue
        tzio.write_layer(_gpkg_safe(gpd.GeoDataFrame(gdf)), gpkg, layer=name)
    files["gpkg"] = gpkg
    if run.far_grid is not None:
        files["far_grid"] = tzio.write_raster(run.far_grid, tzio.safe_join(out, "far_grid.tif"))
    return files
