"""Facility catalogues (catalogue=, categories= with any ids) and per-category walking distances.

The scenes are drawn by hand: one straight street along y = 0 (EPSG:4549, metres), homes and
facilities on it, so every walking distance is a difference of x coordinates.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import LineString, Point

import tongzhen_gis as tz
from tongzhen_gis.errors import OptionError, RuleDataError, SchemaError

CRS = "EPSG:4549"
X0, Y0 = 500_000.0, 3_300_000.0


def street(x_from: float = -2000.0, x_to: float = 2000.0):
    roads = gpd.GeoDataFrame(geometry=[LineString([(X0 + x_from, Y0), (X0 + x_to, Y0)])], crs=CRS)
    return tz.network.from_lines(roads)


def on_street(xs, **columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=[Point(X0 + x, Y0) for x in xs], crs=CRS)


def write_catalogue(path, entries: dict[str, dict]) -> str:
    lines = ['[meta]\ntitle = "test"\n']
    for cid, entry in entries.items():
        lines.append(f"[category.{cid}]")
        for key, value in entry.items():
            lines.append(f"{key} = {value!r}" if not isinstance(value, str) else f'{key} = "{value}"')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


@pytest.fixture
def own_catalogue(tmp_path):
    return write_catalogue(
        tmp_path / "mine.toml",
        {
            "kindergarten": {"name_zh": "幼儿园", "distance_m": 300.0},
            "clinic": {"name_zh": "卫生站", "distance_m": 1000.0},
        },
    )


# ---------------------------------------------------------------------------- per-category distances
def test_home_400_m_from_both_is_covered_for_the_clinic_only(own_catalogue):
    # the scene of the issue: kindergarten 400 m east, clinic 400 m west, kindergarten distance 300 m
    G = street()
    home = on_street([0.0])
    fac = on_street([400.0, -400.0], category=["kindergarten", "clinic"])
    d = tz.access.nearest(G, home, fac, catalogue=own_catalogue)
    assert d.loc[0, "kindergarten"] == pytest.approx(400.0)
    assert d.loc[0, "clinic"] == pytest.approx(400.0)
    cov = tz.access.coverage(d)
    assert cov.loc[("all", "kindergarten"), "covered"] == 0
    assert cov.loc[("all", "clinic"), "covered"] == 1
    assert cov.loc[("all", "all_categories"), "covered"] == 0
    # the table says which distance was used, per category
    assert cov.loc[("all", "kindergarten"), "threshold_m"] == 300.0
    assert cov.loc[("all", "clinic"), "threshold_m"] == 1000.0
    assert cov.loc[("all", "kindergarten"), "distance_from"] == f"catalogue {own_catalogue}"
    assert cov.attrs["distance_m"] == {"kindergarten": 300.0, "clinic": 1000.0}
    assert cov.attrs["threshold_m"] is None
    assert tz.access.categories_reached(d).tolist() == [1]


def test_threshold_mapping_and_number(own_catalogue):
    G = street()
    home = on_street([0.0])
    fac = on_street([400.0, -700.0], category=["kindergarten", "clinic"])
    d = tz.access.nearest(G, home, fac, catalogue=own_catalogue)
    # a mapping overrides the categories it names; the others keep the catalogue's
    cov = tz.access.coverage(d, threshold_m={"kindergarten": 450.0})
    assert cov.loc[("all", "kindergarten"), ["covered", "threshold_m"]].tolist() == [1, 450.0]
    assert cov.loc[("all", "kindergarten"), "distance_from"] == "threshold_m"
    assert cov.loc[("all", "clinic"), ["covered", "threshold_m"]].tolist() == [1, 1000.0]
    # one number applies to every category
    cov = tz.access.coverage(d, threshold_m=500.0)
    assert cov["threshold_m"].dropna().tolist() == [500.0, 500.0]
    assert cov.loc[("all", "clinic"), "covered"] == 0
    assert cov.attrs["threshold_m"] == 500.0
    with pytest.raises(OptionError, match="park"):
        tz.access.coverage(d, threshold_m={"park": 100.0})


def test_a_distance_beyond_what_was_computed_is_refused(tmp_path):
    cat = write_catalogue(tmp_path / "far.toml", {"park": {"distance_m": 3000.0}})
    G = street()
    d = tz.access.nearest(G, on_street([0.0]), on_street([100.0], category=["park"]), catalogue=cat)
    with pytest.raises(OptionError, match="max_distance_m"):
        tz.access.coverage(d)
    d = tz.access.nearest(
        G, on_street([0.0]), on_street([100.0], category=["park"]), catalogue=cat, max_distance_m=3000
    )
    assert tz.access.coverage(d).loc[("all", "park"), "threshold_m"] == 3000.0


def test_level_fallback(tmp_path):
    # no distance_m: the entry's level, else the catalogue's level, else the 15-minute distance
    levels = tz.rules.load("life_circle")["level"]
    cat = write_catalogue(tmp_path / "levels.toml", {"a": {"level": "five_minute"}, "b": {"name_zh": "乙"}})
    dist, source = tz.access.category_distances(["a", "b"], catalogue=cat)
    assert dist == {"a": levels["five_minute"]["distance_m"], "b": levels["fifteen_minute"]["distance_m"]}
    assert source == {"a": "life circle five_minute", "b": "life circle fifteen_minute"}


def test_default_catalogue_keeps_the_fifteen_minute_distance():
    fifteen = tz.rules.load("life_circle")["level"]["fifteen_minute"]["distance_m"]
    dist, _ = tz.access.category_distances(tz.access.categories(), catalogue="facilities")
    assert set(dist.values()) == {fifteen}


def test_service_areas_per_category(own_catalogue):
    G = street()
    fac = on_street([400.0, -400.0], category=["kindergarten", "clinic"])
    sa = tz.access.service_areas(G, fac, thresholds_m="catalogue", catalogue=own_catalogue, max_width_m=0.0)
    by_cat = sa.set_index("category")
    assert by_cat.loc["kindergarten", "threshold_m"] == 300.0
    assert by_cat.loc["clinic", "threshold_m"] == 1000.0
    # street reached: 300 m either side of the kindergarten, 1000 m either side of the clinic
    assert by_cat.loc["kindergarten", "street_m"] == pytest.approx(600.0)
    assert by_cat.loc["clinic", "street_m"] == pytest.approx(2000.0)
    sa = tz.access.service_areas(G, fac, thresholds_m={"clinic": [100.0, 200.0]}, catalogue=own_catalogue)
    assert sa[["category", "threshold_m"]].values.tolist() == [
        ["kindergarten", 300.0],
        ["clinic", 100.0],
        ["clinic", 200.0],
    ]


def test_suggest_sites_uses_the_category_distance(own_catalogue):
    G = street()
    homes = on_street([0.0, 700.0], population=[10, 5])
    fac = on_street([-400.0], category=["clinic"])
    sites = on_street([0.0, 350.0, 700.0])
    out = tz.access.suggest_sites(G, homes, fac, category="kindergarten", candidates=sites, catalogue=own_catalogue)
    assert out.attrs["threshold_m"] == 300.0
    # no site is within 300 m of both homes (700 m apart): the best covers the 10 people at x = 0
    assert out[["site", "added_population"]].values.tolist() == [[0, 10.0]]
    # at the 15-minute distance of the default catalogue one site covers both
    wide = tz.access.suggest_sites(G, homes, fac, category="kindergarten", candidates=sites)
    assert wide.attrs["threshold_m"] == tz.access.default_threshold_m()
    assert wide["added_population"].tolist() == [15.0]


# ---------------------------------------------------------------------------- ids
def test_categories_alone_accept_any_ids():
    G = street()
    fac = on_street([100.0 * (i + 1) for i in range(8)], category=[f"c{i}" for i in range(8)])
    d = tz.access.nearest(G, on_street([0.0]), fac, categories=[f"c{i}" for i in range(8)])
    np.testing.assert_allclose(d.loc[0, [f"c{i}" for i in range(8)]].to_numpy(float), 100.0 * np.arange(1, 9))
    assert d.attrs["catalogue"] is None
    cov = tz.access.coverage(d)
    assert cov.loc[("all", "all_categories"), "covered"] == 1  # 800 m ≤ the 15-minute 1000 m


def test_categories_alone_leave_other_facilities_out_with_a_note():
    G = street()
    fac = on_street([100.0, 200.0], category=["park", "zoo"])
    d = tz.access.nearest(G, on_street([0.0]), fac, categories=["park"])
    assert list(d.columns[:1]) == ["park"]
    assert any("zoo" in p for p in d.attrs["problems"])


def test_ids_outside_the_catalogue_are_refused_with_the_way_out(own_catalogue):
    G = street()
    fac = on_street([100.0], category=["park"])
    with pytest.raises(SchemaError) as info:
        tz.access.nearest(G, on_street([0.0]), fac, catalogue=own_catalogue)
    text = str(info.value)
    assert "park" in text and "kindergarten, clinic" in text and "categories=" in text
    with pytest.raises(SchemaError, match="park"):
        tz.access.nearest(G, on_street([0.0]), fac, catalogue=own_catalogue, categories=["park"])


def test_a_bad_catalogue_lists_every_problem(tmp_path):
    path = write_catalogue(
        tmp_path / "bad.toml",
        {"a": {"distance_m": -5.0}, "b": {"level": "hour"}, "c": {"distanse_m": 300.0}},
    )
    with pytest.raises(RuleDataError) as info:
        tz.access.load_catalogue(path)
    text = str(info.value)
    assert "category.a.distance_m" in text and "'hour'" in text and "distanse_m" in text
    with pytest.raises(RuleDataError, match="not a facility catalogue"):
        tz.access.load_catalogue("intensity")


def test_a_ruleset_is_accepted_as_catalogue(own_catalogue):
    rs = tz.rules.load(own_catalogue)
    assert tz.access.categories(rs) == ["kindergarten", "clinic"]
    fac = on_street([400.0], category=["kindergarten"])
    d = tz.access.nearest(street(), on_street([0.0]), fac, catalogue=rs)
    assert d.attrs["distance_m"]["kindergarten"] == 300.0


# ---------------------------------------------------------------------------- shipped standards
@pytest.mark.parametrize("name", ["gb50180-2018", "tdt1062-2021"])
def test_shipped_standards_load_cite_and_stay_unconfirmed(name):
    rs = tz.access.load_catalogue(name)
    assert name in tz.access.catalogues()
    assert rs.meta["confirmed"] is False
    levels = tz.rules.load("life_circle")["level"]
    for cid, entry in rs["category"].items():
        assert entry["document"] and entry["clause"], cid
        assert entry["confirmed"] is False, cid
        assert entry["osm_tags"], cid
        # each distance is that of the level the facility is listed under (table 4.0.1, standards.md §4)
        assert entry["distance_m"] == levels[entry["level"]]["distance_m"], cid


def test_gb50180_levels_follow_table_4_0_1():
    rs = tz.access.load_catalogue("gb50180-2018")["category"]
    # standards.md §4: 5-minute 300 m, 10-minute 500 m, 15-minute 800–1000 m
    assert rs["kindergarten"]["distance_m"] == 300.0
    assert rs["primary_school"]["distance_m"] == 500.0
    assert 800.0 <= rs["middle_school"]["distance_m"] <= 1000.0


@pytest.mark.shared_data
@pytest.mark.parametrize("name", ["gb50180-2018", "tdt1062-2021"])
def test_shipped_standards_categorise_the_tilezen_pois(shared_data, name):
    path = shared_data("shanghai-wuhan/shanghai_bund_lujiazui_tilezen.gpkg")
    pois = tz.io.read_layer(path, layer="pois_point")
    fac = tz.access.categorize(pois, catalogue=name)
    table = tz.access.load_catalogue(name)["category"]
    kinds = pois["kind"].replace(tz.access.TILEZEN_KIND_TO_OSM)
    # independent count: a kind matches a category when it equals one of its tag values
    for cid, entry in table.items():
        values = {v for _, v in entry["osm_tags"] if v != "*"}
        assert (fac["category"] == cid).sum() == kinds.isin(values).sum(), cid
    counts = fac["category"].value_counts()
    assert counts.get("kindergarten", 0) == (pois["kind"] == "kindergarten").sum() >= 1
    assert counts.get("park", 0) >= 1 and counts.get("toilet", 0) >= 1
    assert fac.attrs["unmatched"] == len(pois) - fac["source_index"].nunique()
    # and the categories route: every category found gets distances from the buildings
    d = tz.access.nearest(_tilezen_graph(path), tz.io.read_layer(path, layer="buildings_polygon"), fac, catalogue=name)
    assert set(pd.unique(fac["category"])) <= set(d.attrs["categories"])
    assert d.attrs["distance_m"]["toilet"] == table["toilet"]["distance_m"]


def _tilezen_graph(path):
    roads = tz.io.read_layer(path, layer="roads_linestring")
    roads = roads.loc[roads["kind"] != "rail"].dissolve(by="id", as_index=False)
    roads["geometry"] = roads.geometry.line_merge()
    return tz.network.from_lines(roads, class_col="kind_detail")


# ---------------------------------------------------------------------------- the map follows
def test_access_map_counts_each_category_within_its_own_distance(own_catalogue):
    import matplotlib.pyplot as plt

    G = street()
    homes = on_street([0.0, 50.0])
    fac = on_street([400.0, -400.0], category=["kindergarten", "clinic"])
    d = tz.access.nearest(G, homes, fac, catalogue=own_catalogue)
    # home 0: kindergarten 400 m (> 300), clinic 400 m → 1 category; home 1: 350 m and 450 m → 1 category
    fig, ax = tz.maps.access_map(homes, nearest=d, facilities=fac, extent=(X0 - 500, Y0 - 200, X0 + 500, Y0 + 200))
    try:
        texts = [t.get_text() for t in ax.get_legend().get_texts()]
        assert "1 类 (2 处)" in texts
        assert "幼儿园 (1)" in texts and "卫生站 (1)" in texts  # names from the catalogue used
        note = " ".join(t.get_text() for t in ax.texts if t.get_gid() == "source_note")
        assert "幼儿园 300 m" in note and "卫生站 1000 m" in note
    finally:
        plt.close(fig)


def test_share_table_carries_the_distances(own_catalogue):
    fac = on_street([400.0, -400.0], category=["kindergarten", "clinic"])
    d = tz.access.nearest(street(), on_street([0.0]), fac, catalogue=own_catalogue)
    table = tz.access.share_table(tz.access.coverage(d))
    assert table.loc["all"].tolist() == [0.0, 1.0, 0.0]
    assert table.attrs["distance_m"] == {"kindergarten": 300.0, "clinic": 1000.0}
