"""Coverage lists every town, also towns without homes, with the town's name beside its id."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

import tongzhen_gis as tz
from tongzhen_gis import cli


@pytest.fixture(scope="module")
def scene() -> tz.samples.Scene:
    return tz.samples.sample_town()


@pytest.fixture(scope="module")
def dist(scene) -> pd.DataFrame:
    return tz.access.nearest(tz.network.from_lines(scene.roads), scene.homes, scene.facilities)


def test_coverage_lists_every_town_with_its_name(scene, dist):
    names = scene.towns.set_index("town_id")["name_zh"]
    groups = [*scene.towns["town_id"], "T4"]
    cov = tz.access.coverage(
        dist, by=scene.homes["town_id"], weights=scene.homes["population"], groups=groups, names=names
    )
    towns = list(dict.fromkeys(cov.index.get_level_values("town_id")))
    # listed towns first, in the order given; homes in no town (the farmhouse) after them
    assert towns[:4] == ["T1", "T2", "T3", "T4"]
    assert len(towns) == 5 and pd.isna(towns[4])
    t4 = cov.loc["T4"]
    assert list(t4.index) == [*tz.access.categories(), "all_categories"]
    assert (t4["origins"] == 0).all() and (t4["covered"] == 0).all() and (t4["population"] == 0).all()
    assert t4["share"].isna().all() and t4["population_share"].isna().all()
    assert t4["mean_categories_reached"].isna().all()
    assert (t4["note"] == "no homes in this town: shares empty").all()
    assert (cov.drop(index="T4", level="town_id")["note"] == "").all()
    assert cov.columns[0] == "name"
    assert cov.loc[("T1", "park"), "name"] == names["T1"]
    assert cov.loc["T4", "name"].isna().all()  # a town the names do not know
    assert any("T4" in p and "no origins" in p for p in cov.attrs["problems"])
    # the towns with homes keep their figures: equal to the table without groups or names
    plain = tz.access.coverage(dist, by=scene.homes["town_id"], weights=scene.homes["population"])
    pd.testing.assert_frame_equal(cov.drop(index="T4", level="town_id").drop(columns=["name", "note"]), plain)


def test_coverage_without_groups_is_unchanged(dist, scene):
    cov = tz.access.coverage(dist, by=scene.homes["town_id"])
    assert "note" not in cov.columns and "name" not in cov.columns


def test_access_command_lists_a_town_without_homes(tmp_path, capsys):
    scene = tz.samples.sample_town()
    gpkg = tz.samples.write_scene(scene, tmp_path / "in")["gpkg"]
    # a fourth town far from every home
    x0, y0 = tz.samples.ORIGIN
    towns = pd.concat(
        [
            scene.towns,
            scene.towns.iloc[[0]].assign(
                town_id="T4", name_zh="空白小镇", geometry=[shapely.box(x0 + 9000, y0 + 9000, x0 + 9500, y0 + 9500)]
            ),
        ],
        ignore_index=True,
    )
    extra = tmp_path / "towns.gpkg"
    tz.io.write_layer(towns, extra, layer="towns")
    argv = ["access", "--roads", str(gpkg), "--layer", "roads=roads", "--facilities", str(gpkg)]
    argv += ["--layer", "facilities=facilities", "--homes", str(gpkg), "--layer", "homes=homes"]
    argv += ["--towns", str(extra), "--layer", "towns=towns", "--out", str(tmp_path / "out")]
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 1  # T3 still lacks a kindergarten
    err = capsys.readouterr().err
    assert "T4 (空白小镇)" in err
    assert "town T4 has no" not in err  # no homes: a note, not a missing facility
    cov = pd.read_csv(tmp_path / "out" / "coverage.csv", encoding="utf-8-sig")
    assert list(cov.columns[:3]) == ["town", "name", "category"]
    assert list(dict.fromkeys(cov["town"].dropna())) == ["T1", "T2", "T3", "T4"]
    assert (
        dict(zip(cov["town"], cov["name"], strict=True))["T2"] == scene.towns.set_index("town_id").loc["T2", "name_zh"]
    )
    t4 = cov[cov["town"] == "T4"]
    assert len(t4) == len(tz.access.categories()) + 1
    assert t4["share"].isna().all() and (t4["origins"] == 0).all()
    assert t4["note"].str.contains("no homes").all()
    assert np.isfinite(cov.loc[cov["town"] == "T1", "share"]).all()


def test_town_names_found_by_the_schema_aliases(scene):
    towns = scene.towns.rename(columns={"name_zh": "小镇名称"})
    names = tz.access.town_names(towns, id_col="town_id")
    assert names.to_dict() == scene.towns.set_index("town_id")["name_zh"].to_dict()
    assert tz.access.town_names(towns.drop(columns="小镇名称"), id_col="town_id") is None
    with pytest.raises(tz.errors.SchemaError, match="no column 'mc'") as info:
        tz.access.town_names(towns, id_col="town_id", name_col="mc")
    assert info.value.param == "name_col"
