"""The ``tongzhen access`` command on the sample town written to disk."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pyogrio
import pytest
import shapely

import tongzhen_gis as tz
from tongzhen_gis import cli


def run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    return info.value.code


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sample")
    return tz.samples.write_scene(tz.samples.sample_town(), folder)["gpkg"]


def args(gpkg, out, *extra):
    return [
        "access",
        "--roads",
        str(gpkg),
        "--layer",
        "roads=roads",
        "--facilities",
        str(gpkg),
        "--layer",
        "facilities=facilities",
        "--homes",
        str(gpkg),
        "--layer",
        "homes=homes",
        "--out",
        str(out),
        *extra,
    ]


def test_sample_town_writes_outputs_and_flags_t3(written, tmp_path, capsys):
    code = run(args(written, tmp_path, "--towns", str(written), "--layer", "towns=towns"))
    err = capsys.readouterr().err
    assert code == 1  # T3 lacks a kindergarten within 1000 m (and the farmhouse is off the network)
    assert "T3 has no kindergarten" in err
    assert "H_FARM" in err  # reported as off the network, never dropped
    assert "note: 1 home(s) lie in no town" in err  # the farmhouse is east of T3
    homes = tz.io.read_layer(tmp_path / "home_distances.gpkg", layer="home_distances").set_index("home_id")
    assert homes.loc["HT1_00_0", "kindergarten_m"] == pytest.approx(192, abs=1e-6)
    assert homes.loc["HT1_03_3", "town_lounge_m"] == pytest.approx(1035.5534, abs=1e-4)
    assert homes.loc["HT3_12_0", "kindergarten_m"] == pytest.approx(1682, abs=1e-6)
    assert not homes.loc["H_FARM", "reachable"]
    assert len(homes) == len(tz.samples.sample_town().homes)
    raw = (tmp_path / "coverage.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Excel
    cov = pd.read_csv(tmp_path / "coverage.csv", encoding="utf-8-sig")
    t3 = cov.loc[(cov["town"] == "T3") & (cov["category"] == "kindergarten")].iloc[0]
    assert t3["share"] == 0.0
    assert t3["population_share"] == 0.0
    areas = tz.io.read_layer(tmp_path / "service_areas.gpkg", layer="service_areas")
    assert sorted(areas["threshold_m"].unique()) == [300.0, 500.0, 1000.0]
    assert list(areas["category"].unique()) == tz.access.categories()


def test_town_column_of_homes_is_used_without_towns(written, tmp_path):
    assert run(args(written, tmp_path)) == 1
    cov = pd.read_csv(tmp_path / "coverage.csv", encoding="utf-8-sig")
    assert {"T1", "T2", "T3"} <= set(cov["town"].dropna())


def test_all_categories_present_gives_exit_0(written, tmp_path):
    # at 2000 m every town reaches every category; no off-network home when the farmhouse may snap 300 m
    code = run(args(written, tmp_path, "--threshold-m", "2000", "--max-snap-m", "300", "--service-area-m", "300"))
    assert code == 0


def test_unknown_category_is_one_line_exit_2(written, tmp_path, capsys):
    facilities = tz.samples.sample_town().facilities
    facilities.loc[0, "category"] = "toilet"
    bad = tmp_path / "bad.gpkg"
    tz.io.write_layer(facilities, bad, layer="facilities")
    argv = args(written, tmp_path / "out")
    argv[argv.index("--facilities") + 1] = str(bad)
    assert run(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "toilet" in err
    assert "kindergarten" in err


def test_missing_file_is_exit_2(tmp_path, capsys):
    argv = args(tmp_path / "nope.gpkg", tmp_path / "out")
    assert run(argv) == 2
    assert capsys.readouterr().err.startswith("error:")


def test_gcj02_facilities_are_converted(written, tmp_path):
    # facilities shifted into GCJ-02 and declared as such give the same distances as the originals
    scene = tz.samples.sample_town()
    wgs = scene.facilities.to_crs("EPSG:4326")
    gcj = tz.crs.convert_coord_system(wgs, "wgs84", "gcj02")
    path = tmp_path / "gcj.gpkg"
    tz.io.write_layer(gcj, path, layer="facilities")
    argv = args(written, tmp_path / "out", "--coord-system", "facilities=gcj02")
    argv[argv.index("--facilities") + 1] = str(path)
    assert run(argv) == 1
    homes = pyogrio.read_dataframe(tmp_path / "out" / "home_distances.gpkg", layer="home_distances")
    homes = homes.set_index("home_id")
    # the sample docstring's walking distances, to the centimetre of the GCJ-02 round trip
    assert homes.loc["HT1_00_0", "kindergarten_m"] == pytest.approx(192, abs=0.05)
    assert homes.loc["HT1_00_0", "clinic_m"] == pytest.approx(562, abs=0.05)
    assert homes.loc["HT1_00_0", "town_lounge_m"] == pytest.approx(482, abs=0.05)


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    assert err.startswith("error:")
    assert "Traceback" not in err
    return err


def _swap(argv: list[str], option: str, value: str) -> list[str]:
    argv = list(argv)
    argv[argv.index(option) + 1] = value
    return argv


def test_roads_without_crs_name_the_crs_option(tmp_path, written, capsys):
    roads = tz.samples.sample_town().roads.set_crs(None, allow_override=True)
    path = tmp_path / "roads.gpkg"
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        pyogrio.write_dataframe(roads, path, layer="roads")
    argv = _swap(args(written, tmp_path / "out"), "--roads", str(path))
    assert run(argv) == 2
    err = _one_error_line(capsys)
    assert err.startswith("error: roads (")
    assert err.endswith("; on the command line: --crs roads=EPSG:4549") and "crs='EPSG:4549'" in err
    # and the fix it names works
    assert run([*argv, "--crs", "roads=EPSG:4549"]) == 1


def test_bad_crs_option_is_exit_2(tmp_path, written, capsys):
    assert run([*args(written, tmp_path), "--crs", "EPSG:4549"]) == 2
    assert "--crs NAME=CRS" in _one_error_line(capsys)


def test_unknown_layer_names_the_layer_option(tmp_path, written, capsys):
    argv = args(written, tmp_path)
    argv[argv.index("homes=homes")] = "homes=nope"
    assert run(argv) == 2
    err = _one_error_line(capsys)
    assert "'nope'" in err
    assert err.endswith("; on the command line: --layer homes=LAYER")


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--layer", "streets=roads", "unknown input 'streets' in --layer"),
        ("--coord-system", "facilities=amap", "one of wgs84, gcj02, bd09"),
        ("--coord-system", "gcj02", "--coord-system NAME=wgs84|gcj02|bd09"),
        ("--layer", "towns=towns", "--layer towns=... needs --towns"),
    ],
)
def test_bad_named_option_is_exit_2(tmp_path, written, capsys, option, value, expected):
    assert run([*args(written, tmp_path), option, value]) == 2
    assert expected in _one_error_line(capsys)


def test_towns_without_the_id_column_name_the_option(tmp_path, written, capsys):
    argv = [*args(written, tmp_path), "--towns", str(written), "--layer", "towns=towns", "--town-id-col", "镇"]
    assert run(argv) == 2
    err = _one_error_line(capsys)
    assert "'镇'" in err and "town_id" in err  # the columns there are listed
    assert err.endswith("; on the command line: --town-id-col COLUMN")
    assert "id_col=" not in err  # the option, not the Python keyword


def test_empty_facilities_layer_is_exit_2(tmp_path, written, capsys):
    path = tmp_path / "empty.gpkg"
    tz.io.write_layer(tz.samples.sample_town().facilities.iloc[:0], path, layer="facilities")
    assert run(_swap(args(written, tmp_path / "out"), "--facilities", str(path))) == 2
    assert "empty" in _one_error_line(capsys)
    assert not (tmp_path / "out").exists()


def test_missing_category_column_names_the_option(tmp_path, written, capsys):
    assert run([*args(written, tmp_path), "--category-col", "kind"]) == 2
    assert _one_error_line(capsys).endswith("; on the command line: --category-col COLUMN")


def test_homes_without_population_are_counted_with_a_note(tmp_path, written, capsys):
    path = tmp_path / "homes.gpkg"
    homes = tz.samples.sample_town().homes
    tz.io.write_layer(homes.drop(columns="population"), path, layer="homes")
    assert run(_swap(args(written, tmp_path / "out"), "--homes", str(path))) == 1
    err = capsys.readouterr().err
    assert "note: homes have no population column (looked for 'population'" in err
    assert "--population-col" in err
    cov = pd.read_csv(tmp_path / "out" / "coverage.csv", encoding="utf-8-sig")
    assert "population_share" not in cov.columns
    t1 = cov.loc[(cov["town"] == "T1") & (cov["category"] == "kindergarten")].iloc[0]
    assert t1["origins"] == (homes["town_id"] == "T1").sum()


def test_negative_population_is_exit_2_and_unknown_is_noted(tmp_path, written, capsys):
    homes = tz.samples.sample_town().homes
    bad = homes.copy()
    bad.loc[bad["home_id"] == "HT1_00_1", "population"] = -5
    path = tmp_path / "bad.gpkg"
    tz.io.write_layer(bad, path, layer="homes")
    assert run(_swap(args(written, tmp_path / "out"), "--homes", str(path))) == 2
    assert "HT1_00_1" in capsys.readouterr().err
    unknown = homes.copy()
    unknown.loc[unknown["home_id"] == "HT1_00_0", "population"] = None
    path = tmp_path / "unknown.gpkg"
    tz.io.write_layer(unknown, path, layer="homes")
    assert run(_swap(args(written, tmp_path / "out2"), "--homes", str(path))) == 1
    err = capsys.readouterr().err
    assert "HT1_00_0" in err
    assert "0 people" in err
    cov = pd.read_csv(tmp_path / "out2" / "coverage.csv", encoding="utf-8-sig")
    t1 = cov.loc[(cov["town"] == "T1") & (cov["category"] == "kindergarten")].iloc[0]
    in_t1 = homes["town_id"] == "T1"
    assert t1["origins"] == in_t1.sum()  # the home is kept ...
    assert t1["population"] == homes.loc[in_t1 & (homes["home_id"] != "HT1_00_0"), "population"].sum()  # ... with 0


def test_undeclared_lonlat_facilities_get_a_gcj02_note(tmp_path, written, capsys):
    path = tmp_path / "wgs.gpkg"
    tz.io.write_layer(tz.samples.sample_town().facilities.to_crs("EPSG:4326"), path, layer="facilities")
    assert run(_swap(args(written, tmp_path / "out"), "--facilities", str(path))) == 1
    err = capsys.readouterr().err
    assert "--coord-system facilities=gcj02" in err
    assert "no sign of GCJ-02" in err  # checked against the roads, and passed


def _median_to_roads_m(points) -> float:
    """Independent oracle: median distance from the points to the union of the sample streets (EPSG:4549)."""
    roads = tz.samples.sample_town().roads
    return float(points.to_crs(4549).distance(shapely.union_all(roads.geometry.array)).median())


def test_undeclared_gcj02_facilities_are_exit_2_naming_the_option(tmp_path, written, capsys):
    amap = tz.crs.convert_coord_system(tz.samples.sample_town().facilities.to_crs(4326), "wgs84", target="gcj02")
    path = tmp_path / "amap.gpkg"
    tz.io.write_layer(amap, path, layer="facilities")
    assert run(_swap(args(written, tmp_path / "out"), "--facilities", str(path))) == 2
    err = _one_error_line(capsys)
    assert "facilities" in err
    assert "GCJ-02" in err
    assert "--coord-system facilities=gcj02" in err
    assert "--coord-system facilities=wgs84" in err
    assert f"{_median_to_roads_m(amap):.0f} m as given" in err
    assert "12 m read as GCJ-02" in err  # every sample facility is 12 m from its street
    assert not (tmp_path / "out").exists()  # stopped before writing anything


def test_wgs84_declared_facilities_skip_the_check(tmp_path, written, capsys, monkeypatch):
    def must_not_run(*args, **kwargs):
        raise AssertionError("suspect_gcj02 ran although --coord-system facilities=wgs84 was given")

    monkeypatch.setattr(tz.crs, "suspect_gcj02", must_not_run)
    path = tmp_path / "wgs.gpkg"
    tz.io.write_layer(tz.samples.sample_town().facilities.to_crs("EPSG:4326"), path, layer="facilities")
    argv = [*_swap(args(written, tmp_path / "out"), "--facilities", str(path)), "--coord-system", "facilities=wgs84"]
    assert run(argv) == 1
    assert "GCJ-02" not in capsys.readouterr().err
    homes = pyogrio.read_dataframe(tmp_path / "out" / "home_distances.gpkg", layer="home_distances")
    assert homes.set_index("home_id").loc["HT1_00_0", "kindergarten_m"] == pytest.approx(192, abs=1e-6)


def test_undeclared_gcj02_homes_are_exit_2_naming_the_home_option(tmp_path, written, capsys):
    # homes placed like the facilities (12 m from a street), copied from a web map
    scene = tz.samples.sample_town()
    homes = scene.facilities[["facility_id", "geometry"]].rename(columns={"facility_id": "home_id"})
    homes["population"] = 10
    amap = tz.crs.convert_coord_system(homes.to_crs(4326), "wgs84", target="gcj02")
    path = tmp_path / "amap_homes.gpkg"
    tz.io.write_layer(amap, path, layer="homes")
    argv = _swap(args(written, tmp_path / "out"), "--homes", str(path))
    assert run(argv) == 2
    err = _one_error_line(capsys)
    assert err.startswith(f"error: homes ({path}) look like GCJ-02")
    assert "--coord-system homes=gcj02" in err
    assert run([*argv, "--coord-system", "homes=gcj02"]) in (0, 1)
    out = pyogrio.read_dataframe(tmp_path / "out" / "home_distances.gpkg", layer="home_distances")
    assert out["snap_m"].to_numpy() == pytest.approx(12.0, abs=0.05)  # back on their streets


def test_negative_distance_is_exit_2(tmp_path, written, capsys):
    assert run([*args(written, tmp_path), "--threshold-m", "-5"]) == 2
    assert "--threshold-m" in _one_error_line(capsys)


def test_population_column_named_but_absent_is_exit_2(tmp_path, written, capsys):
    assert run([*args(written, tmp_path), "--population-col", "人口"]) == 2
    err = _one_error_line(capsys)
    assert "'人口'" in err
    assert "population" in err  # the columns there are listed


def test_home_without_geometry_is_written_unreachable_and_named(tmp_path, written, capsys):
    homes = tz.samples.sample_town().homes
    homes["geometry"] = homes.geometry.where(homes["home_id"] != "HT1_00_0", None)
    path = tz.io.write_layer(homes, tmp_path / "homes.gpkg", layer="homes")
    assert run(_swap(args(written, tmp_path / "out"), "--homes", str(path))) == 1
    err = capsys.readouterr().err
    assert "note: homes: 1 home(s) without geometry, written as unreachable: HT1_00_0" in err
    out = pyogrio.read_dataframe(tmp_path / "out" / "home_distances.gpkg", layer="home_distances")
    assert len(out) == len(homes)  # every home of the file is in the result
    row = out.set_index("home_id").loc["HT1_00_0"]
    assert not row["reachable"] and pd.isna(row["kindergarten_m"]) and row["categories_reached"] == 0


def test_road_without_geometry_is_dropped_with_a_note(tmp_path, written, capsys):
    roads = tz.samples.sample_town().roads
    roads.loc[roads.index[0], "geometry"] = None
    path = tz.io.write_layer(roads, tmp_path / "roads.gpkg", layer="roads")
    run(_swap(args(written, tmp_path / "out"), "--roads", str(path)))
    err = capsys.readouterr().err
    assert "note: roads: 1 feature(s) with an empty or missing geometry not read (file rows 0)" in err


@pytest.mark.filterwarnings("ignore")
def test_building_across_a_town_boundary_gets_the_same_town_in_command_and_report(tmp_path):
    # homes as 10 m squares without a town column; HT1_00_1 becomes a building across T1's east edge
    scene = tz.samples.sample_town()
    homes = scene.homes.drop(columns="town_id")
    homes["geometry"] = homes.geometry.buffer(5, cap_style="square")
    building = shapely.box(520_850, 3_350_400, 521_050, 3_350_500)  # 150 m inside T1, 50 m outside
    homes.loc[homes["home_id"] == "HT1_00_1", "geometry"] = building
    scene = dataclasses.replace(scene, homes=homes)
    t1 = scene.towns.loc[scene.towns["town_id"] == "T1"].geometry.iloc[0]
    # independent answer: plain shapely on the building's point inside it; the whole building is in no town
    assert t1.contains(shapely.point_on_surface(building))
    assert not scene.towns.geometry.contains(building).any()
    written = tz.samples.write_scene(scene, tmp_path / "raw")
    gpkg = written["gpkg"]

    assert run([*args(gpkg, tmp_path / "cli"), "--towns", str(gpkg), "--layer", "towns=towns"]) == 1
    by_cli = tz.io.read_layer(tmp_path / "cli" / "home_distances.gpkg", layer="home_distances").set_index("home_id")
    assert by_cli.loc["HT1_00_1", "town"] == "T1"
    cli_cov = pd.read_csv(tmp_path / "cli" / "coverage.csv", encoding="utf-8-sig").set_index(["town", "category"])

    text = tz.report.sample_config_text(written, base_dir=tmp_path / "raw")
    text = text.split("[intensity]")[0] + text[text.index("[access]") :].split("[town_stats]")[0]
    text += "[maps]\nenabled = false\n"
    result = tz.report.build(tz.report.parse_config(text, base_dir=tmp_path / "raw"), tmp_path / "report")
    sheet = pd.read_excel(result.files["xlsx"], sheet_name="生活圈").set_index(["小镇编号", "设施类别"])
    for town in ("T1", "T2", "T3"):  # the same homes in every town, the building in T1
        assert sheet.loc[(town, "kindergarten"), "住宅点数"] == cli_cov.loc[(town, "kindergarten"), "origins"]
    assert sheet.loc[("T1", "kindergarten"), "住宅点数"] == 16
    assert [p for p in result.problems if "lie in no town" in p] == [
        "生活圈: 1 home(s) lie in no town; they are in the homes layer, not in any town's figures"
    ]  # the farmhouse only


# ---------------------------------------------------------------------------- catalogues and people
def test_own_catalogue_gives_each_category_its_distance(tmp_path, written, capsys):
    cat = tmp_path / "mine.toml"
    entries = "\n".join(
        f'[category.{c}]\nname_zh = "{c}"' + ("\ndistance_m = 300.0" if c == "kindergarten" else "")
        for c in tz.access.categories()
    )
    cat.write_text("[meta]\ntitle = 'mine'\n" + entries + "\n", encoding="utf-8")
    out = tmp_path / "out"
    run(args(written, out, "--catalogue", str(cat)))
    stdout = capsys.readouterr().out
    assert "kindergarten 300 m" in stdout and "clinic 1000 m" in stdout
    cov = pd.read_csv(out / "coverage.csv", encoding="utf-8-sig")
    used = cov.drop_duplicates("category").set_index("category")
    assert used.loc["kindergarten", "threshold_m"] == 300.0
    assert used.loc["kindergarten", "distance_from"] == f"catalogue {cat}"
    assert used.loc["park", "threshold_m"] == 1000.0
    # the kindergarten service areas include its own 300 m
    areas = tz.io.read_layer(out / "service_areas.gpkg", layer="service_areas")
    assert 300.0 in set(areas.loc[areas["category"] == "kindergarten", "threshold_m"])


def test_categories_limit_the_check_to_what_the_data_holds(tmp_path, written, capsys):
    fac = tz.io.read_layer(written, layer="facilities")
    only = tmp_path / "parks.gpkg"
    tz.io.write_layer(fac.loc[fac["category"].isin(["park", "clinic"])], only, layer="facilities")
    out = tmp_path / "out"
    argv = args(written, out, "--categories", "park,clinic")
    argv[argv.index("--facilities") + 1] = str(only)
    run(argv)
    err = capsys.readouterr().err
    assert "kindergarten" not in err  # not computed, so never reported missing
    cov = pd.read_csv(out / "coverage.csv", encoding="utf-8-sig")
    assert set(cov["category"]) == {"park", "clinic", "all_categories"}


def test_unknown_catalogue_is_exit_2(tmp_path, written, capsys):
    assert run(args(written, tmp_path, "--catalogue", "gb99999")) == 2
    assert "gb50180-2018" in _one_error_line(capsys)


def test_population_estimate_from_floor_area_on_residential_parcels(tmp_path, written, capsys):
    out = tmp_path / "out"
    argv = args(written, out, "--population", "estimate", "--parcels", str(written), "--layer", "parcels=parcels")
    argv += ["--per-capita-m2", "50", "--home-id-col", "building_id"]
    argv[argv.index("homes=homes")] = "homes=buildings"
    run(argv)
    err = capsys.readouterr().err
    assert "floor_area" in err and "50 m² per person" in err
    homes = tz.io.read_layer(out / "home_distances.gpkg", layer="home_distances").set_index("building_id")
    # sample docstring: on residential parcels (0701) only B01 (100×100×10), B02 (×6) in P1 and C01–C03
    # (×18) in Q1; every other building is on industrial, commercial or green land: 0 people
    expected = {"B01": 100_000 / 50, "B02": 60_000 / 50, "C01": 180_000 / 50, "C02": 3600.0, "C03": 3600.0}
    for bid, people in homes["population_estimate"].items():
        assert people == pytest.approx(expected.get(bid, 0.0)), bid
    cov = pd.read_csv(out / "coverage.csv", encoding="utf-8-sig")
    assert cov.groupby("town")["population"].first().sum() == pytest.approx(sum(expected.values()))


def test_population_estimate_sharing_known_totals(tmp_path, written, capsys):
    towns = tz.io.read_layer(written, layer="towns")
    totals = tmp_path / "totals.gpkg"
    people = {"T1": 1000, "T2": 500, "T3": 0}
    tz.io.write_layer(towns.assign(人口=towns["town_id"].map(people)), totals, layer="totals")
    out = tmp_path / "out"
    argv = args(written, out, "--population", "estimate", "--parcels", str(written), "--layer", "parcels=parcels")
    argv += ["--totals", str(totals), "--totals-col", "人口", "--home-id-col", "building_id"]
    argv[argv.index("homes=homes")] = "homes=buildings"
    run(argv)
    assert "dasymetric" in capsys.readouterr().err
    homes = tz.io.read_layer(out / "home_distances.gpkg", layer="home_distances").set_index("building_id")
    est = homes["population_estimate"]
    # T1: 1000 over B01 100 000 m² and B02 60 000 m² → 625 / 375; T2: 500 over three equal 180 000 m²
    # → 166.67 each, whole people by largest remainders: 167, 167, 166 (ties to the first)
    assert est[["B01", "B02"]].tolist() == [625.0, 375.0]
    assert est[["C01", "C02", "C03"]].tolist() == [167.0, 167.0, 166.0]
    assert est.sum() == 1500.0
