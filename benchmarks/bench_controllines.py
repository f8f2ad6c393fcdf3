"""Benchmark: tz.controllines.check on the overlap patterns a planner meets, beside its peers.

Every pattern prints, measured in the same run on the same input (EPSG:4549 metres, seed 0):

* ``tz.controllines.check`` (the union-not-sum rule, conflict table, repairs);
* ``geopandas.overlay(how="intersection")`` of the towns with the layer (the desktop recipe);
* the bare floor: one ``shapely.STRtree.query`` of the towns plus one vectorised
  ``shapely.intersection`` and ``shapely.area`` over the pairs (no union, no table), which no
  correct check can beat;

and the ratios check / overlay and check / floor. Each check is verified: the per-town figure
equals ``shapely.union_all`` of the town's overlay pieces (never their sum), and the per-source
pieces add up to the overlay pieces.

Patterns (``--pattern``, default all):

``disjoint``
    200 town circles of 1 km radius against 1,000,000 farmland 图斑 (one jittered box per cell
    of a 1000 × 1000 grid of 115 m cells, so patches never overlap): ≈ 48,000 pieces in towns.
``twice``
    The same, with 10 % of the patches digitised twice (a copy shifted by up to 2 m).
``osm``
    Real overlapping OSM land use (``../shared/data/hangzhou/hangzhou_osm_landuse.gpkg``, all
    8,707 polygons: residential over park over grass …) as one line layer, against 200 circles
    of 1 km around land-use polygons; skipped when the file is absent.
``cli``
    ``tongzhen check-lines`` from file to verdicts (run in this process, output written) on the
    disjoint pattern saved as GeoPackages, beside reading both files with pyogrio's arrow
    path plus the bare floor.
``province``
    The earlier province-sized layout: 200 rotated rectangles over a 400 × 300 km grid of
    1,000,000 patches plus 50,000 overlapping red-line boxes and 40 urban boundaries.

Usage::

    .venv/bin/python benchmarks/bench_controllines.py            # full size
    .venv/bin/python benchmarks/bench_controllines.py --quick    # 20 towns, 10,000 patches
    .venv/bin/python benchmarks/bench_controllines.py --pattern disjoint,twice
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import psutil
import shapely

import tongzhen_gis as tz

CRS = "EPSG:4549"
X0, Y0 = 300_000.0, 3_000_000.0
DATA = Path(os.environ.get(tz.settings.shared_data_env, Path(__file__).resolve().parents[2] / "shared" / "data"))
PATTERNS = ("disjoint", "twice", "osm", "cli", "province")


def measure(label: str, func: Callable[[], Any], repeat: int = 1) -> tuple[Any, float]:
    """Run func ``repeat`` times; return its result and the best wall time (the machine is shared)."""
    proc = psutil.Process()
    peak = [proc.memory_info().rss]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss)
            time.sleep(0.02)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    best = float("inf")
    try:
        for _ in range(repeat):
            start = time.perf_counter()
            result = func()
            best = min(best, time.perf_counter() - start)
    finally:
        done.set()
        thread.join()
    print(f"  {label:<52s} {best:8.2f} s   peak RSS {peak[0] / 1e9:5.2f} GB", flush=True)
    return result, best


# ----------------------------------------------------------------------------- inputs
def circles(n: int, rng: np.random.Generator, bounds: tuple[float, float, float, float], radius_m: float):
    minx, miny, maxx, maxy = bounds
    cx = rng.uniform(minx + radius_m, maxx - radius_m, n)
    cy = rng.uniform(miny + radius_m, maxy - radius_m, n)
    geoms = shapely.buffer(shapely.points(cx, cy), radius_m, quad_segs=16)
    return gpd.GeoDataFrame({"town_id": [f"T{i:03d}" for i in range(n)]}, geometry=geoms, crs=CRS)


def grid_patches(side: int, cell_m: float, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """side × side non-overlapping patches, one jittered box per grid cell."""
    ix, iy = np.meshgrid(np.arange(side), np.arange(side))
    ix, iy = ix.ravel(), iy.ravel()
    fw, fh = rng.uniform(0.5, 0.95, ix.size), rng.uniform(0.5, 0.95, ix.size)
    ox, oy = rng.uniform(0, 1 - fw), rng.uniform(0, 1 - fh)
    minx, miny = X0 + (ix + ox) * cell_m, Y0 + (iy + oy) * cell_m
    geoms = shapely.box(minx, miny, minx + fw * cell_m, miny + fh * cell_m)
    return gpd.GeoDataFrame({"BSM": np.char.add("YJJBNT", np.arange(ix.size).astype(str))}, geometry=geoms, crs=CRS)


def digitised_twice(patches: gpd.GeoDataFrame, share: float, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Add a second drawing of ``share`` of the patches, shifted by up to 2 m."""
    pick = rng.choice(len(patches), int(share * len(patches)), replace=False)
    dx, dy = rng.uniform(-2, 2, len(pick)), rng.uniform(-2, 2, len(pick))
    copies = shapely.transform(patches.geometry.to_numpy()[pick], lambda xy: xy + np.repeat(np.c_[dx, dy], 5, axis=0))
    extra = gpd.GeoDataFrame({"BSM": np.char.add("DUP", pick.astype(str))}, geometry=copies, crs=CRS)
    return pd.concat([patches, extra], ignore_index=True)


def rectangles(n: int, rng: np.random.Generator, width: float, height: float) -> gpd.GeoDataFrame:
    area, aspect = rng.uniform(1e6, 5e6, n), rng.uniform(0.5, 2.0, n)
    w, h = np.sqrt(area * aspect), np.sqrt(area / aspect)
    cx, cy = X0 + rng.uniform(3_000, width - 3_000, n), Y0 + rng.uniform(3_000, height - 3_000, n)
    angle = rng.uniform(0, np.pi, n)
    corners = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5], [-0.5, -0.5]])
    local = corners[None, :, :] * np.stack([w, h], axis=1)[:, None, :]
    cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
    x = cx[:, None] + local[..., 0] * cos - local[..., 1] * sin
    y = cy[:, None] + local[..., 0] * sin + local[..., 1] * cos
    geoms = shapely.polygons(np.stack([x, y], axis=-1))
    return gpd.GeoDataFrame({"town_id": [f"T{i:03d}" for i in range(n)]}, geometry=geoms, crs=CRS)


def boxes(n: int, rng: np.random.Generator, lo: float, hi: float, prefix: str, width: float, height: float):
    w, h = rng.uniform(lo, hi, n), rng.uniform(lo, hi, n)
    minx, miny = X0 + rng.uniform(0, width - w), Y0 + rng.uniform(0, height - h)
    bsm = np.char.add(prefix, np.arange(n).astype(str))
    return gpd.GeoDataFrame({"BSM": bsm}, geometry=shapely.box(minx, miny, minx + w, miny + h), crs=CRS)


# ----------------------------------------------------------------------------- peers
def floor(towns: gpd.GeoDataFrame, layer: gpd.GeoDataFrame) -> np.ndarray:
    """The bare floor: STRtree query + one vectorised intersection and area over the pairs.

    The tree is built on the smaller side (the towns), the cheaper way round for a large layer.
    """
    t, g = towns.geometry.to_numpy(), layer.geometry.to_numpy()
    li, fi = shapely.STRtree(t).query(g, predicate="intersects")
    return shapely.area(shapely.intersection(t[fi], g[li]))


def overlay(towns: gpd.GeoDataFrame, layer: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    pieces = gpd.overlay(towns[["town_id", "geometry"]], layer[["BSM", "geometry"]], how="intersection")
    return pieces[pieces.area > 0]


def verify(result: tz.controllines.ControlLineResult, pieces: gpd.GeoDataFrame, line: str) -> str:
    """The check's union figure against shapely.union_all of the overlay pieces; pieces against pieces."""
    union = pieces.groupby("town_id").geometry.agg(lambda g: shapely.union_all(g.to_numpy()).area)
    union = union.reindex(result.summary.index, fill_value=0.0)
    summed = pieces.area.groupby(pieces["town_id"]).sum().reindex(result.summary.index, fill_value=0.0)
    mine = result.summary[f"{line}_m2"]
    union_gap = float(np.max(np.abs(mine.to_numpy() - union.to_numpy()))) if len(mine) else 0.0
    conflicts = result.conflicts[result.conflicts["line"] == line]
    per_source = conflicts.groupby("town_id")["area_m2"].sum().reindex(result.summary.index, fill_value=0.0)
    piece_gap = float(np.max(np.abs(per_source.to_numpy() - summed.to_numpy()))) if len(mine) else 0.0
    assert union_gap < 0.01 and piece_gap < 0.01, f"{line}: union off by {union_gap} m², pieces by {piece_gap} m²"
    return (
        f"union {mine.sum():,.0f} m² = shapely union of the overlay pieces (max |Δ| {union_gap:.1e} m²; "
        f"their sum {summed.sum():,.0f} m²)"
    )


def run_pattern(name: str, towns: gpd.GeoDataFrame, layer: gpd.GeoDataFrame, *, repeat: int) -> dict[str, float]:
    print(f"\n[{name}] {len(towns):,} towns, {len(layer):,} polygons", flush=True)
    bare, t_floor = measure("floor: STRtree query + vectorised intersection", lambda: floor(towns, layer), repeat)
    result, t_check = measure("tz.controllines.check", lambda: tz.controllines.check(towns, farmland=layer), repeat)
    pieces, t_overlay = measure("geopandas.overlay", lambda: overlay(towns, layer), repeat)
    print(f"  {len(bare):,} pairs, {int((bare > 0).sum()):,} pieces; " + verify(result, pieces, "farmland"))
    print(
        f"  ratio check/overlay {t_check / t_overlay:.2f}  ·  ratio check/floor {t_check / t_floor:.2f}  "
        f"(check {t_check:.2f} s, overlay {t_overlay:.2f} s, floor {t_floor:.2f} s)",
        flush=True,
    )
    return {"check": t_check, "overlay": t_overlay, "floor": t_floor}


def cli_pattern(towns: gpd.GeoDataFrame, layer: gpd.GeoDataFrame, repeat: int) -> None:
    import tempfile

    import pyogrio

    from tongzhen_gis.cli import cli

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pyogrio.write_dataframe(towns, folder / "towns.gpkg", layer="towns")
        pyogrio.write_dataframe(layer, folder / "farmland.gpkg", layer="farmland")
        print(f"\n[cli] tongzhen check-lines: {len(towns):,} towns, {len(layer):,} 图斑 from GeoPackage", flush=True)

        def read_and_floor() -> np.ndarray:
            t = pyogrio.read_dataframe(folder / "towns.gpkg", use_arrow=True)
            f = pyogrio.read_dataframe(folder / "farmland.gpkg", use_arrow=True)
            return floor(t, f)

        def command() -> int:
            args = ["check-lines", str(folder / "towns.gpkg"), "--farmland", str(folder / "farmland.gpkg")]
            return cli.main([*args, "--out", str(folder / "out")], standalone_mode=False)

        _, t_floor = measure("read (pyogrio arrow) + floor", read_and_floor, repeat)
        code, t_cli = measure("tongzhen check-lines (file to verdicts)", command, repeat)
        print(f"  exit {code}  ·  ratio check-lines/(read + floor) {t_cli / t_floor:.2f}", flush=True)


def province(quick: bool, rng: np.random.Generator, repeat: int) -> None:
    n_towns, side, n_red = (20, 100, 5_000) if quick else (200, 1_000, 50_000)
    width, height = (40_000.0, 30_000.0) if quick else (400_000.0, 300_000.0)
    towns = rectangles(n_towns, rng, width, height)
    farm = grid_patches(side, width / side, rng)
    red = boxes(n_red, rng, 100.0, 2_000.0, "STBHHX", width, height)
    boundary = boxes(40, rng, 0.025 * width, 0.15 * width, "CZKFBJ", width, height)
    print(f"\n[province] {n_towns} towns, {len(farm):,} farmland, {n_red:,} red line, 40 boundaries", flush=True)
    lines = {"red_line": red, "farmland": farm}
    result, t_check = measure(
        "tz.controllines.check (red line + farmland)", lambda: tz.controllines.check(towns, **lines)
    )
    _, t_three = measure(
        "tz.controllines.check (all three lines)",
        lambda: tz.controllines.check(towns, **lines, urban_boundary=boundary),
    )
    pieces, t_overlay = measure("geopandas.overlay ×2", lambda: {k: overlay(towns, v) for k, v in lines.items()})
    _, t_floor = measure("floor ×2", lambda: [floor(towns, v) for v in lines.values()], repeat)
    for line in lines:
        print(f"  {line}: " + verify(result, pieces[line], line))
    print(
        f"  ratio check/overlay {t_check / t_overlay:.2f}  ·  ratio check/floor {t_check / t_floor:.2f}  "
        f"(three lines {t_three:.2f} s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 towns, 100 × 100 patches")
    parser.add_argument("--pattern", default=",".join(PATTERNS), help=f"comma-separated, of {', '.join(PATTERNS)}")
    parser.add_argument("--repeat", type=int, default=None, help="best of N runs (default 1, 3 with --quick)")
    args = parser.parse_args()
    patterns = [p.strip() for p in args.pattern.split(",") if p.strip()]
    unknown = set(patterns) - set(PATTERNS)
    if unknown:
        parser.error(f"unknown pattern(s) {sorted(unknown)}")
    repeat = args.repeat or (3 if args.quick else 1)
    n_towns, side = (20, 100) if args.quick else (200, 1_000)
    cell_m = 115.0  # 1,000 × 1,000 cells of 115 m: ≈ 48,000 patches inside 200 circles of 1 km
    print(f"cores: {psutil.cpu_count()}  ·  memory {psutil.virtual_memory().total / 1e9:.0f} GB")
    rng = np.random.default_rng(0)
    extent = (X0, Y0, X0 + side * cell_m, Y0 + side * cell_m)
    patches = grid_patches(side, cell_m, rng) if {"disjoint", "twice", "cli"} & set(patterns) else None
    towns = circles(n_towns, rng, extent, 1_000.0 if not args.quick else 600.0)
    if "disjoint" in patterns:
        run_pattern("disjoint 图斑", towns, patches, repeat=repeat)
    if "twice" in patterns:
        run_pattern("10 % of 图斑 digitised twice", towns, digitised_twice(patches, 0.10, rng), repeat=repeat)
    if "osm" in patterns:
        path = DATA / "hangzhou" / "hangzhou_osm_landuse.gpkg"
        if not path.exists():
            print(f"\n[osm] skipped: {path} not found")
        else:
            landuse = gpd.read_file(path).to_crs(CRS)
            landuse["BSM"] = landuse["osm_id"].astype(str)
            centres = landuse.geometry.representative_point().sample(n_towns, random_state=0).to_numpy()
            osm_towns = gpd.GeoDataFrame(
                {"town_id": [f"T{i:03d}" for i in range(len(centres))]},
                geometry=shapely.buffer(centres, 1_000.0, quad_segs=16),
                crs=CRS,
            )
            run_pattern("real OSM land use (overlapping)", osm_towns, landuse[["BSM", "geometry"]], repeat=repeat)
    if "cli" in patterns:
        cli_pattern(towns, patches if patches is not None else grid_patches(side, cell_m, rng), repeat)
    if "province" in patterns:
        province(args.quick, rng, repeat)


if __name__ == "__main__":
    main()
