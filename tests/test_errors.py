"""One error class for a bad keyword option, in every public module (issue 10).

Each case passes one option value the function cannot use and expects
:class:`~tongzhen_gis.errors.OptionError` (a ``TongzhenError`` and a ``ValueError``) whose
``param`` names the keyword, so the CLI and the report can point at the right setting.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pytest

import tongzhen_gis as tz
from tongzhen_gis.errors import OptionError, TongzhenError


@pytest.fixture(scope="module")
def town() -> tz.samples.Scene:
    return tz.samples.sample_town()


@pytest.fixture(scope="module")
def net(town):
    return tz.access.prepare(tz.network.from_lines(town.roads))


def _export_on_unknown_page(s: tz.samples.Scene, net: Any, tmp: Path) -> Any:
    fig = plt.figure()
    try:
        return tz.maps.export(fig, tmp / "map.png", page="B9")
    finally:
        plt.close(fig)


def _read_as_mars(s: tz.samples.Scene, net: Any, tmp: Path) -> Any:
    path = tmp / "towns.gpkg"
    s.towns.to_file(path, layer="towns")
    return tz.io.read_layer(path, coord_system="mars")


# (id, call(scene, prepared network, tmp dir), the keyword the error names)
CASES: list[tuple[str, Callable[[tz.samples.Scene, Any, Path], Any], str]] = [
    (
        "controllines.sliver",
        lambda s, n, t: tz.controllines.check(s.towns, red_line=s.red_line, sliver_m2=-1),
        "sliver_m2",
    ),
    (
        "controllines.engine",
        lambda s, n, t: tz.controllines.check(s.towns, red_line=s.red_line, engine="spark"),
        "engine",
    ),
    (
        "access.suggest_sites",
        lambda s, n, t: tz.access.suggest_sites(n, s.homes, s.facilities, category="kindergarten", k=0),
        "k",
    ),
    (
        "access.service_areas",
        lambda s, n, t: tz.access.service_areas(n, s.facilities, thresholds_m=[-100]),
        "thresholds_m",
    ),
    (
        "access.nearest.max_distance",
        lambda s, n, t: tz.access.nearest(n, s.homes, s.facilities, max_distance_m=-5),
        "max_distance_m",
    ),
    (
        "access.nearest.max_snap",
        lambda s, n, t: tz.access.nearest(n, s.homes, s.facilities, max_snap_m=float("nan")),
        "max_snap_m",
    ),
    (
        "access.nearest.categories",
        lambda s, n, t: tz.access.nearest(n, s.homes, s.facilities, categories="clinic"),
        "categories",
    ),
    ("access.categorize", lambda s, n, t: tz.access.categorize(s.facilities, scheme="amap"), "scheme"),
    ("access.default_threshold_m", lambda s, n, t: tz.access.default_threshold_m("hourly"), "level"),
    ("intensity.floor_area_grid", lambda s, n, t: tz.intensity.floor_area_grid(s.buildings, cell_m=0), "cell_m"),
    ("intensity.zonal", lambda s, n, t: tz.intensity.zonal(s.towns, s.landcover, stats=("average",)), "stats"),
    ("network.from_lines", lambda s, n, t: tz.network.from_lines(s.roads, tolerance_m=-1), "tolerance_m"),
    (
        "crs.convert_coord_system",
        lambda s, n, t: tz.crs.convert_coord_system(s.facilities.to_crs(4326), "mars"),
        "source",
    ),
    ("crs.suspect_gcj02", lambda s, n, t: tz.crs.suspect_gcj02(s.facilities, s.roads, method="iou"), "method"),
    ("schema.standardize", lambda s, n, t: tz.schema.standardize(s.towns, "lakes"), "role"),
    ("evaluate.match_names", lambda s, n, t: tz.evaluate.match_names(["云栖小镇"], ["梦想小镇"], n=-1), "n"),
    ("maps.export", _export_on_unknown_page, "page"),
    ("maps.intensity_map.scheme", lambda s, n, t: tz.maps.intensity_map(s.landcover, scheme="Jenkz"), "scheme"),
    ("maps.intensity_map.k", lambda s, n, t: tz.maps.intensity_map(s.landcover, k=0), "k"),
    ("io.read_layer", _read_as_mars, "coord_system"),
    ("report.build", lambda s, n, t: tz.report.build(42, t / "out"), "config"),
]


@pytest.mark.parametrize(("call", "param"), [pytest.param(c, p, id=i) for i, c, p in CASES])
def test_a_bad_option_raises_option_error_naming_it(town, net, tmp_path, call, param):
    with pytest.raises(OptionError) as info:
        call(town, net, tmp_path)
    assert info.value.param == param
    assert isinstance(info.value, TongzhenError) and isinstance(info.value, ValueError)
    assert str(info.value).strip()


def test_every_public_analysis_module_has_a_case():
    covered = {case_id.split(".")[0] for case_id, _, _ in CASES}
    assert covered >= {"access", "controllines", "crs", "evaluate", "intensity", "io", "maps", "network", "report"}
