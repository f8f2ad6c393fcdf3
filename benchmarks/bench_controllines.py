"""Benchmark: tz.controllines.check on a province-sized case, beside geopandas.overlay.

Generated input (EPSG:4549 metres, a 400 km × 300 km "province", seed 0):

* 200 towns: rotated rectangles of 1–5 km²;
* 1,000,000 farmland patches (永久基本农田): one jittered box per cell of a 1000 × 1000 grid
  (400 m × 300 m cells), so patches never overlap each other;
* 50,000 red-line polygons (生态保护红线): random boxes of 100 m – 2 km, which overlap each
  other (the no-double-count rule matters);
* 40 urban development boundaries (城镇开发边界), large boxes, for the full three-line run.

Measured in one run: ``tz.controllines.check`` (red line + farmland, then all three lines,
optionally ``engine="dask"``) and ``geopandas.overlay(how="intersection")`` of the towns with
each line layer (the usual desktop recipe). Printed: wall time, peak resident memory of the
process during each call, and the areas compared: the per-source conflict pieces must equal
the overlay pieces, and the per-town union figure must equal a dissolve of the overlay pieces.

Usage::

    .venv/bin/python benchmarks/bench_controllines.py            # full size
    .venv/bin/python benchmarks/bench_controllines.py --quick    # 20 towns, 10,000 patches
    .venv/bin/python benchmarks/bench_controllines.py --dask     # also time engine="dask"
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import psutil
import shapely

import tongzhen_gis as tz

CRS = "EPSG:4549"
X0, Y0 = 300_000.0, 3_000_000.0
WIDTH, HEIGHT = 400_000.0, 300_000.0


def towns(n: int, rng: np.random.Generator, width: float, height: float) -> gpd.GeoDataFrame:
    area = rng.uniform(1e6, 5e6, n)
    aspect = rng.uniform(0.5, 2.0, n)
    w, h = np.sqrt(area * aspect), np.sqrt(area / aspect)
    cx = X0 + rng.uniform(3_000, width - 3_000, n)
    cy = Y0 + rng.uniform(3_000, height - 3_000, n)
    angle = rng.uniform(0, np.pi, n)
    corners = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5], [-0.5, -0.5]])
    local = corners[None, :, :] * np.stack([w, h], axis=1)[:, None, :]
    cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
    x = cx[:, None] + local[..., 0] * cos - local[..., 1] * sin
    y = cy[:, None] + local[..., 0] * sin + local[..., 1] * cos
    geoms = shapely.polygons(np.stack([x, y], axis=-1))
    return gpd.GeoDataFrame({"town_id": [f"T{i:03d}" for i in range(n)]}, geometry=geoms, crs=CRS)


def farmland(side: int, rng: np.random.Generator, width: float, height: float) -> gpd.GeoDataFrame:
    """side × side non-overlapping patches, one per grid cell (vectorised shapely.box)."""
    cw, ch = width / side, height / side
    ix, iy = np.meshgrid(np.arange(side), np.arange(side))
    ix, iy = ix.ravel(), iy.ravel()
    fw, fh = rng.uniform(0.5, 0.95, ix.size), rng.uniform(0.5, 0.95, ix.size)
    ox, oy = rng.uniform(0, 1 - fw), rng.uniform(0, 1 - fh)
    minx, miny = X0 + (ix + ox) * cw, Y0 + (iy + oy) * ch
    geoms = shapely.box(minx, miny, minx + fw * cw, miny + fh * ch)
    bsm = np.char.add("YJJBNT", np.arange(ix.size).astype(str))
    return gpd.GeoDataFrame({"BSM": bsm}, geometry=geoms, crs=CRS)


def boxes(n: int, rng: np.random.Generator, lo: float, hi: float, prefix: str, width: float, height: float):
    w, h = rng.uniform(lo, hi, n), rng.uniform(lo, hi, n)
    minx, miny = X0 + rng.uniform(0, width - w), Y0 + rng.uniform(0, height - h)
    bsm = np.char.add(prefix, np.arange(n).astype(str))
    return gpd.GeoDataFrame({"BSM": bsm}, geometry=shapely.box(minx, miny, minx + w, miny + h), crs=CRS)


def measure(label: str, func: Callable[[], Any]) -> tuple[Any, float, float]:
    """Run func; return its result, wall seconds and the process's peak RSS (GB) meanwhile."""
    proc = psutil.Process()
    peak = [proc.memory_info().rss]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss)
            time.sleep(0.02)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    start = time.perf_counter()
    try:
        result = func()
    finally:
        elapsed = time.perf_counter() - start
        done.set()
        thread.join()
    peak_gb = max(peak[0], proc.memory_info().rss) / 1e9
    print(f"  {label:<46s} {elapsed:8.2f} s   peak RSS {peak_gb:5.2f} GB", flush=True)
    return result, elapsed, peak_gb


def overlay_recipe(t: gpd.GeoDataFrame, lines: dict[str, gpd.GeoDataFrame]) -> dict[str, gpd.GeoDataFrame]:
    """The desktop recipe: one overlay per line layer."""
    out = {}
    for name, layer in lines.items():
        pieces = gpd.overlay(t[["town_id", "geometry"]], layer[["BSM", "geometry"]], how="intersection")
        pieces = pieces[pieces.area > 0]
        out[name] = pieces
    return out


def compare(result: tz.controllines.ControlLineResult, pieces: dict[str, gpd.GeoDataFrame]) -> None:
    conflicts = result.conflicts
    for name, ov in pieces.items():
        mine = conflicts[conflicts["line"] == name].set_index(["town_id", "source_id"])["area_m2"].sort_index()
        theirs = ov.set_index(["town_id", "BSM"]).area.sort_index()
        same_pairs = mine.index.equals(theirs.index)
        max_diff = float(np.max(np.abs(mine.to_numpy() - theirs.to_numpy()))) if same_pairs else float("nan")
        # union per town: dissolve of the overlay pieces (independent of the module)
        dissolved = ov.dissolve(by="town_id").area.reindex(result.summary.index, fill_value=0.0)
        union_diff = float(np.max(np.abs(dissolved.to_numpy() - result.summary[f"{name}_m2"].to_numpy())))
        print(
            f"  {name:<10s} pieces {len(mine):>8,d} vs overlay {len(theirs):>8,d}  same pairs: {same_pairs}  "
            f"max |Δ piece| {max_diff:.2e} m²  max |Δ union| {union_diff:.2e} m²  "
            f"total {mine.sum():,.0f} vs {theirs.sum():,.0f} m² (union {result.summary[f'{name}_m2'].sum():,.0f})"
        )
        assert same_pairs and max_diff < 1e-3 and union_diff < 1e-3, f"{name}: areas differ from geopandas.overlay"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 towns, 100 × 100 patches, 5,000 red-line polygons")
    parser.add_argument("--dask", action="store_true", help='also time engine="dask"')
    parser.add_argument("--overlay-towns", type=int, default=None, help="run geopandas.overlay on the first N towns")
    args = parser.parse_args()
    n_towns, side, n_red = (20, 100, 5_000) if args.quick else (200, 1_000, 50_000)
    width, height = (WIDTH / 10, HEIGHT / 10) if args.quick else (WIDTH, HEIGHT)
    rng = np.random.default_rng(0)
    print(f"generating {n_towns} towns, {side * side:,d} farmland patches, {n_red:,d} red-line polygons …", flush=True)
    (t, farm, red, boundary), gen_s, _ = measure(
        "generate (vectorised shapely.box)",
        lambda: (
            towns(n_towns, rng, width, height),
            farmland(side, rng, width, height),
            boxes(n_red, rng, 100.0, 2_000.0, "STBHHX", width, height),
            boxes(40, rng, 0.025 * width, 0.15 * width, "CZKFBJ", width, height),
        ),
    )
    print(f"cores: {psutil.cpu_count()}  ·  towns area {t.area.sum() / 1e6:,.0f} km²")
    lines = {"red_line": red, "farmland": farm}
    result, ours_s, ours_gb = measure(
        "tz.controllines.check (red line + farmland)", lambda: tz.controllines.check(t, **lines)
    )
    full, full_s, full_gb = measure(
        "tz.controllines.check (all three lines)",
        lambda: tz.controllines.check(t, **lines, urban_boundary=boundary),
    )
    if args.dask:
        dask_result, _, _ = measure(
            'tz.controllines.check engine="dask" (all three)',
            lambda: tz.controllines.check(t, **lines, urban_boundary=boundary, engine="dask"),
        )
        same = dask_result.summary.equals(full.summary)
        print(f"  dask summary identical to local: {same}")
        assert same
    subset = t if args.overlay_towns is None else t.iloc[: args.overlay_towns]
    if len(subset) < len(t):
        print(f"  NOTE: geopandas.overlay runs on the first {len(subset)} of {len(t)} towns only")
    pieces, overlay_s, _ = measure(f"geopandas.overlay ×2 ({len(subset)} towns)", lambda: overlay_recipe(subset, lines))
    if len(subset) < len(t):
        result, _, _ = measure(
            "tz.controllines.check on the same subset", lambda: tz.controllines.check(subset, **lines)
        )
    compare(result, pieces)
    print(
        f"verdicts (all three lines): {full.counts()}  ·  conflict rows {len(full.conflicts):,d}\n"
        f"tz.controllines.check {ours_s:.2f} s vs geopandas.overlay {overlay_s:.2f} s: "
        f"{overlay_s / ours_s:.1f}× faster; three lines {full_s:.2f} s; peak RSS {max(ours_gb, full_gb):.2f} GB "
        f"(generation {gen_s:.1f} s)"
    )


if __name__ == "__main__":
    main()
