"""Tests of tz.access: the sample town's stated distances, a networkx oracle, properties.

Oracle: networkx ``multi_source_dijkstra`` on the graph *augmented* with the snap points as
real nodes (each edge split at every snap point, each point joined to its snap point by its
straight leg). The snap points are found here by brute force (distance to every edge), not by
the module's STRtree.
"""

from __future__ import annotations

import itertools
import math

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import LineString, Point, Polygon

import tongzhen_gis as tz
from tongzhen_gis.access.areas import _reached_pieces
from tongzhen_gis.access.sites import greedy_max_coverage
from tongzhen_gis.access.sources import _sources_by_category
from tongzhen_gis.errors import NetworkDataError, OptionError, SchemaError

CRS = tz.samples.CRS
OX, OY = tz.samples.ORIGIN


def P(x: float, y: float) -> Point:
    """A point given in the sample town's local coordinates."""
    return Point(x + OX, y + OY)


# ---------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def town() -> tz.samples.Scene:
    return tz.samples.sample_town()


@pytest.fixture(scope="module")
def graph(town) -> nx.MultiGraph:
    return tz.network.from_lines(town.roads)


@pytest.fixture(scope="module")
def net(graph):
    return tz.access.prepare(graph)


@pytest.fixture(scope="module")
def homes(town) -> gpd.GeoDataFrame:
    return town.homes.set_index("home_id")


@pytest.fixture(scope="module")
def facilities(town) -> gpd.GeoDataFrame:
    return town.facilities.set_index("facility_id")


@pytest.fixture(scope="module")
def dist(net, homes, facilities) -> pd.DataFrame:
    return tz.access.nearest(net, homes, facilities)


def _home_at(homes: gpd.GeoDataFrame, x: float, y: float) -> str:
    hit = homes.index[homes.geometry.distance(P(x, y)) < 1e-6]
    assert len(hit) == 1
    return hit[0]


def line_graph(coords_list: list[list[tuple[float, float]]], crs: str = CRS) -> nx.MultiGraph:
    """A graph drawn by hand: one edge per coordinate list, nodes at the ends (shared when equal)."""
    G = nx.MultiGraph(crs=crs)
    ids: dict[tuple[float, float], int] = {}

    def node(xy):
        if xy not in ids:
            ids[xy] = len(ids)
            G.add_node(ids[xy], x=float(xy[0]), y=float(xy[1]))
        return ids[xy]

    for coords in coords_list:
        line = LineString(coords)
        G.add_edge(node(coords[0]), node(coords[-1]), length=line.length, geometry=line)
    return G


def points(xys, crs: str = CRS, **cols) -> gpd.GeoDataFrame:
    xys = list(xys)
    data = {k: v if isinstance(v, list) else [v] * len(xys) for k, v in cols.items()}
    return gpd.GeoDataFrame(data, geometry=[Point(x, y) for x, y in xys], crs=crs)


# ---------------------------------------------------------------------------- the oracle
def oracle_distances(G: nx.MultiGraph, origins: list[Point], sources: dict[str, list[Point]]) -> dict[str, np.ndarray]:
    """networkx distances on the graph augmented with the snap points as real nodes."""
    edges = list(G.edges(keys=True, data=True))
    geoms = [d["geometry"] for *_, d in edges]
    all_points = list(origins) + [p for ps in sources.values() for p in ps]
    # brute-force nearest edge and position along it (from the geometry's start)
    cuts: dict[int, list[tuple[float, object]]] = {}
    H = nx.Graph()
    geom_arr = np.array(geoms, dtype=object)
    for i, p in enumerate(all_points):
        d = shapely.distance(geom_arr, p)
        # a point exactly as near to several streets may walk to any of them
        for e in np.flatnonzero(d == d.min()):
            g = geoms[e]
            along = g.project(p) * edges[e][3]["length"] / g.length
            cuts.setdefault(e, []).append((along, ("snap", i, int(e))))
            H.add_edge(("pt", i), ("snap", i, int(e)), weight=float(d[e]))
    for e, (u, v, _k, data) in enumerate(edges):
        g, length = data["geometry"], data["length"]
        start_is_u = Point(g.coords[0]).distance(Point(G.nodes[u]["x"], G.nodes[u]["y"])) < 1e-6
        chain = [(0.0, ("node", u if start_is_u else v))]
        chain += sorted(cuts.get(e, []))
        chain += [(length, ("node", v if start_is_u else u))]
        for (a0, n0), (a1, n1) in itertools.pairwise(chain):
            w = a1 - a0
            if H.has_edge(n0, n1):
                w = min(w, H[n0][n1]["weight"])
            if n0 != n1:
                H.add_edge(n0, n1, weight=w)
    out = {}
    start = len(origins)
    for name, ps in sources.items():
        nodes = [("pt", start + j) for j in range(len(ps))]
        start += len(ps)
        lengths = nx.multi_source_dijkstra_path_length(H, nodes, weight="weight")
        out[name] = np.array([lengths.get(("pt", i), np.inf) for i in range(len(origins))])
    return out


# ---------------------------------------------------------------------------- the sample town
@pytest.mark.parametrize(
    ("home_xy", "facility", "expected_m"),
    [
        ((100, 200), "F04", 50 + 130 + 12),  # kindergarten
        ((100, 200), "F05", 50 + 500 + 12),  # clinic
        ((100, 200), "F01", 50 + 420 + 12),  # town lounge
        ((850, 450), "F01", 50 + 580 + 12),
        ((850, 950), "F01", 50 + (100 + 250 + 250 * math.sqrt(2) + 250 + 20) + 12),  # the diagonal
        ((850, 450), "F09", 50 + 1670 + 12),  # the river is crossed only at y = 250 or 750
        ((850, 950), "F14", 50 + 1420 + 12),  # the motorway is not walkable
        ((1600, 200), "F12", 50 + 880 + 12),
        ((3100, 200), "F12", 50 + 1620 + 12),
    ],
)
def test_sample_distances_stated_in_the_docstring(net, homes, facilities, home_xy, facility, expected_m):
    one = facilities.loc[[facility]]
    d = tz.access.nearest(net, homes, one, max_distance_m=3000)
    assert d.loc[_home_at(homes, *home_xy), one["category"].iloc[0]] == pytest.approx(expected_m, abs=1e-6)


def test_sample_nearest_of_each_category(dist, homes):
    # with every facility present the nearest ones are the stated ones
    assert dist.loc[_home_at(homes, 100, 200), "kindergarten"] == pytest.approx(192, abs=1e-6)
    assert dist.loc[_home_at(homes, 100, 200), "clinic"] == pytest.approx(562, abs=1e-6)
    assert dist.loc[_home_at(homes, 850, 950), "town_lounge"] == pytest.approx(1035.5534, abs=1e-4)
    assert dist.loc[_home_at(homes, 1600, 200), "kindergarten"] == pytest.approx(942, abs=1e-6)
    assert dist.loc[_home_at(homes, 3100, 200), "kindergarten"] == pytest.approx(1682, abs=1e-6)


def test_result_is_indexed_like_the_origins(dist, homes):
    assert dist.index.equals(homes.index)
    assert list(dist.columns) == [*tz.access.categories(), "snap_m", "reachable"]
    assert list(dist.attrs["categories"]) == list(tz.rules.load("facilities")["category"])


def test_every_home_is_50_m_from_its_street(dist, homes):
    on = dist.index != "H_FARM"
    assert np.allclose(dist.loc[on, "snap_m"], 50.0)


def test_farmhouse_is_unreachable_reported_not_dropped(net, dist, town, homes):
    row = dist.loc["H_FARM"]
    assert not row["reachable"]
    assert row[tz.access.categories()].isna().all()
    walkable = town.roads.loc[town.roads["fclass"] != "motorway"].geometry.union_all()
    assert row["snap_m"] == pytest.approx(homes.loc["H_FARM"].geometry.distance(walkable))
    assert row["snap_m"] > 200
    assert dist.attrs["unreachable_origins"] == ["H_FARM"]
    assert any("H_FARM" in p for p in dist.attrs["problems"])
    # a larger snapping limit reaches it
    wide = tz.access.nearest(net, homes.loc[["H_FARM"]], town.facilities, max_snap_m=300)
    assert wide.loc["H_FARM", "reachable"]


def test_t3_has_no_kindergarten_within_1000_m(dist, homes):
    cov = tz.access.coverage(dist, by=homes["town_id"], weights=homes["population"])
    assert cov.attrs["threshold_m"] == tz.rules.load("life_circle")["level"]["fifteen_minute"]["distance_m"]
    assert cov.loc[("T3", "kindergarten"), "share"] == 0.0
    assert cov.loc[("T3", "kindergarten"), "population_share"] == 0.0
    assert cov.loc[("T3", "all_categories"), "share"] == 0.0


def test_coverage_counts_match_a_plain_recount(dist, homes):
    cov = tz.access.coverage(dist, threshold_m=500, by=homes["town_id"], weights=homes["population"])
    for (town_id, cat), row in cov.iterrows():
        sel = homes["town_id"].eq(town_id) if isinstance(town_id, str) else homes["town_id"].isna()
        if cat == "all_categories":
            hit = (dist.loc[sel, tz.access.categories()] <= 500).all(axis=1)
        else:
            hit = dist.loc[sel, cat] <= 500
        assert row["origins"] == sel.sum()
        assert row["covered"] == hit.sum()
        assert (
            row["covered_population"] == homes.loc[sel & hit.reindex(homes.index, fill_value=False), "population"].sum()
        )
        assert row["unreachable"] == (~dist.loc[sel, "reachable"]).sum()
    # the farmhouse has no town: its own group, kept, counted as not covered
    groups = cov.index.get_level_values(0)
    farm = cov.loc[groups.isna()]
    assert (farm["origins"] == 1).all()
    assert (farm["covered"] == 0).all()
    assert list(groups.unique()[:3]) == ["T1", "T2", "T3"]


def test_coverage_names_a_missing_column(dist):
    with pytest.raises(SchemaError, match=r"homes\['town_id'\]"):
        tz.access.coverage(dist, by="town_id")


def test_unknown_population_counts_as_a_home_with_no_people(dist, homes):
    pop = homes["population"].copy()
    pop.loc["HT1_00_0"] = np.nan
    cov = tz.access.coverage(dist, by=homes["town_id"], weights=pop)
    row = cov.loc[("T1", "kindergarten")]
    in_t1 = homes["town_id"] == "T1"
    assert row["origins"] == in_t1.sum()
    assert row["population"] == homes.loc[in_t1, "population"].sum() - homes.loc["HT1_00_0", "population"]
    assert any("HT1_00_0" in p for p in cov.attrs["problems"])
    assert tz.access.coverage(dist, by=homes["town_id"], weights=homes["population"]).attrs["problems"] == []


@pytest.mark.parametrize("value", [-5, np.inf, "many"])
def test_bad_population_is_refused(dist, homes, value):
    pop = homes["population"].astype(object)
    pop.loc["HT1_00_1"] = value
    with pytest.raises(SchemaError, match="population"):
        tz.access.coverage(dist, weights=pop)


def test_suggest_sites_without_population_counts_homes(net, homes, facilities):
    t3 = homes.loc[homes["town_id"] == "T3"].drop(columns="population")
    picks = tz.access.suggest_sites(net, t3, facilities, category="kindergarten", k=1)
    assert picks.iloc[0]["added_population"] == picks.iloc[0]["added_homes"]
    assert any("population" in p for p in picks.attrs["problems"])
    # under another accepted name (人口) the people are found; under a name that is no alias, the note says so
    renamed = homes.loc[homes["town_id"] == "T3"].rename(columns={"population": "人口"})
    found = tz.access.suggest_sites(net, renamed, facilities, category="kindergarten", k=1)
    assert found.iloc[0]["added_population"] > found.iloc[0]["added_homes"]
    odd = renamed.rename(columns={"人口": "人口数量x"})
    counted = tz.access.suggest_sites(net, odd, facilities, category="kindergarten", k=1)
    assert any("looked for 'population', '人口'" in p for p in counted.attrs["problems"])


def test_threshold_beyond_the_distances_computed_is_refused(net, homes, facilities):
    short = tz.access.nearest(net, homes, facilities, max_distance_m=500)
    # T1's home (100, 200) is 562 m from the clinic: NaN at 500 m, so a 1000 m coverage would miss it
    assert np.isnan(short.loc["HT1_00_0", "clinic"])
    with pytest.raises(OptionError, match="max_distance_m=1000") as info:
        tz.access.coverage(short)
    assert info.value.param == "threshold_m"
    with pytest.raises(OptionError, match="max_distance_m"):
        tz.access.categories_reached(short, threshold_m=600)
    assert tz.access.coverage(short, threshold_m=500).attrs["threshold_m"] == 500


def test_coverage_of_no_origins_is_an_empty_table(net, homes, facilities):
    none = tz.access.nearest(net, homes.iloc[:0], facilities)
    cov = tz.access.coverage(none, weights=homes["population"].iloc[:0])
    assert len(cov) == 0
    assert {"share", "population_share"} <= set(cov.columns)


def test_categories_reached(dist, homes):
    n = tz.access.categories_reached(dist, threshold_m=1000)
    assert n.index.equals(dist.index)
    assert n.loc["H_FARM"] == 0
    expected = (dist[tz.access.categories()] <= 1000).sum(axis=1)
    assert (n == expected).all()


def test_unknown_category_lists_the_valid_ids(net, homes, facilities):
    bad = facilities.copy()
    bad.loc["F01", "category"] = "toilet"
    with pytest.raises(SchemaError) as info:
        tz.access.nearest(net, homes, bad)
    for cat in tz.access.categories():
        assert cat in str(info.value)
    assert "toilet" in str(info.value)


def test_missing_category_column(net, homes, facilities):
    with pytest.raises(SchemaError, match="category_col=") as info:
        tz.access.nearest(net, homes, facilities.drop(columns="category"))
    assert info.value.param == "category_col" and "CLI" not in str(info.value)


def test_graph_without_crs_is_refused(graph, homes, facilities):
    G = graph.copy()
    G.graph.pop("crs")
    with pytest.raises(NetworkDataError, match="CRS"):
        tz.access.nearest(G, homes, facilities)


def test_layers_without_crs_are_refused(net, homes, facilities):
    with pytest.raises(tz.errors.CRSError, match="set_crs"):
        tz.access.nearest(net, homes.set_crs(None, allow_override=True), facilities)
    with pytest.raises(tz.errors.CRSError, match="set_crs"):
        tz.access.nearest(net, homes, facilities.set_crs(None, allow_override=True))


def test_origins_in_another_crs_are_reprojected(net, homes, facilities, dist):
    d = tz.access.nearest(net, homes.to_crs("EPSG:4326"), facilities)
    on = dist["reachable"]
    assert np.allclose(
        d.loc[on, tz.access.categories()], dist.loc[on, tz.access.categories()], atol=1e-3, equal_nan=True
    )


def test_polygon_origins_use_a_point_inside(net, facilities):
    square = gpd.GeoDataFrame(geometry=[shapely.box(90 + OX, 190 + OY, 110 + OX, 210 + OY)], crs=CRS)
    d = tz.access.nearest(net, square, facilities)
    assert d.iloc[0]["kindergarten"] == pytest.approx(192, abs=1e-6)


# ---------------------------------------------------------------------------- oracle tests
def test_sample_town_equals_networkx_on_the_augmented_graph(graph, net, homes, facilities, dist):
    on = homes.loc[dist["reachable"]]
    sources = {c: list(facilities.loc[facilities["category"] == c].geometry) for c in tz.access.categories()}
    expected = oracle_distances(graph, list(on.geometry), sources)
    for c in tz.access.categories():
        got = dist.loc[on.index, c].to_numpy()
        want = np.where(expected[c] <= 2000, expected[c], np.nan)
        np.testing.assert_allclose(got, want, atol=1e-6, rtol=0)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.tuples(st.floats(-100, 4300), st.floats(-100, 1100)), min_size=1, max_size=8),
    st.lists(st.tuples(st.floats(-100, 4300), st.floats(-100, 1100)), min_size=1, max_size=4),
)
def test_random_points_equal_networkx(graph, net, origins_xy, facilities_xy):
    origins = [P(x, y) for x, y in origins_xy]
    fac = points([(p.x, p.y) for p in (P(x, y) for x, y in facilities_xy)], category="clinic")
    got = tz.access.nearest(
        net, gpd.GeoDataFrame(geometry=origins, crs=CRS), fac, max_distance_m=1e9, max_snap_m=1e9, categories=["clinic"]
    )
    expected = oracle_distances(graph, origins, {"clinic": list(fac.geometry)})["clinic"]
    np.testing.assert_allclose(got["clinic"].to_numpy(), expected, atol=1e-6, rtol=0)


def test_origin_and_facility_on_the_same_edge():
    # one street 1000 m long, bent once; facility at 400 m, home at 600 m: 20 + 200 + 10 = 230
    G = line_graph([[(0, 0), (500, 0), (1000, 0)], [(1000, 0), (1000, 500)]])
    fac = points([(400, 10)], category="park")
    home = points([(600, -20)])
    d = tz.access.nearest(G, home, fac)
    assert d.iloc[0]["park"] == pytest.approx(230, abs=1e-9)
    # and the home beyond the bend, on the other edge: 10 + 600 + 300 + 5
    d2 = tz.access.nearest(G, points([(995, 300)]), fac)
    assert d2.iloc[0]["park"] == pytest.approx(10 + 600 + 300 + 5, abs=1e-9)
    # the same street digitised twice (once backwards) still gives the direct path
    twice = G.copy()
    twice.add_edge(1, 0, length=1000.0, geometry=LineString([(1000, 0), (500, 0), (0, 0)]))
    net = tz.access.prepare(twice)
    assert net.duplicate_edges == 1
    assert tz.access.nearest(net, home, fac).iloc[0]["park"] == pytest.approx(230, abs=1e-9)


def test_a_home_mid_way_between_two_streets_uses_the_better_one():
    # two dead ends 100 m apart, joined only by a long loop; the home is 53.85 m from both ends
    G = line_graph([[(0, 0), (1000, 0)], [(1100, 0), (2000, 0)], [(0, 0), (0, 300), (2000, 300), (2000, 0)]])
    fac = points([(1100, 10)], category="clinic")
    d = tz.access.nearest(G, points([(1050, -20)]), fac)
    assert d.iloc[0]["clinic"] == pytest.approx(math.hypot(50, 20) + 10, abs=1e-9)
    assert d.iloc[0]["snap_m"] == pytest.approx(math.hypot(50, 20), abs=1e-9)


def test_parallel_edges_and_reversed_geometry():
    # two streets join the same nodes: a straight one (1000 m) and a detour (1400 m) drawn backwards
    G = line_graph([[(0, 0), (1000, 0)]])
    G.add_edge(1, 0, length=1400.0, geometry=LineString([(1000, 0), (1000, 200), (0, 200), (0, 0)]))
    fac = points([(-10, 0)], category="park")
    d = tz.access.nearest(G, points([(1000, 150), (500, 190)]), fac)
    # home on the detour 50 m before its far end: min(1000 + 150, 200 + 1000 + 50) along + leg 0 / 10
    assert d.iloc[0]["park"] == pytest.approx(10 + 1000 + 150, abs=1e-9)
    assert d.iloc[1]["park"] == pytest.approx(10 + 200 + 500 + 10, abs=1e-9)


def test_a_facility_off_every_street_is_reported(net, homes, facilities):
    far = pd.concat(
        [facilities, points([(4500 + OX, 800 + OY)], category="kindergarten").set_index(pd.Index(["F_FAR"]))]
    )
    d = tz.access.nearest(net, homes, far)
    assert d.attrs["unreachable_facilities"] == ["F_FAR"]
    assert any("F_FAR" in p for p in d.attrs["problems"])


# ---------------------------------------------------------------------------- polygons and entrances
def test_polygon_facility_reached_along_its_frontage(net, homes):
    # a park 10 m north of street y = 250, from x = 300 to 400: reached along y = 250 within 15 m of it
    park = gpd.GeoDataFrame(
        {"category": ["park"]}, geometry=[shapely.box(300 + OX, 260 + OY, 400 + OX, 400 + OY)], crs=CRS
    )
    d = tz.access.nearest(net, homes, park)
    home = _home_at(homes, 100, 200)
    # the frontage starts where the street comes within 15 m of the park's corner (300, 260), at
    # x = 300 - sqrt(15² - 10²); from there the straight leg to the park is 15 m, not the 10 m of
    # the frontage's nearest point (the frontage's end is found on a polygonized buffer: within a centimetre)
    assert d.loc[home, "park"] == pytest.approx(50 + (300 - math.sqrt(15**2 - 10**2) - 100) + 15, abs=0.01)
    # a home whose snap point lies inside the frontage walks only its leg + the frontage's leg
    inside = tz.access.nearest(net, points([(350 + OX, 230 + OY)]), park)
    assert inside.iloc[0]["park"] == pytest.approx(20 + 10, abs=1e-6)


def test_polygon_facility_far_from_streets_uses_its_nearest_point(net, homes):
    # a triangle whose apex is 30 m north of street y = 250: beyond touch_m, so snapped at the apex
    tri = Polygon([(350 + OX, 280 + OY), (300 + OX, 380 + OY), (400 + OX, 380 + OY)])
    d = tz.access.nearest(net, homes, gpd.GeoDataFrame({"category": ["sports"]}, geometry=[tri], crs=CRS))
    assert d.loc[_home_at(homes, 100, 200), "sports"] == pytest.approx(50 + 250 + 30, abs=1e-6)


def test_entrances_replace_the_frontage(net, homes):
    park = gpd.GeoDataFrame(
        {"category": ["park"]}, geometry=[shapely.box(300 + OX, 260 + OY, 400 + OX, 400 + OY)], crs=CRS, index=["PK"]
    )
    gate = points([(350 + OX, 410 + OY)], facility=["PK"])
    d = tz.access.nearest(net, homes, park, entrances=gate)
    # gate snaps to y = 500 (90 m); path (100,250) → (250,250) → (250,500) → (350,500)
    assert d.loc[_home_at(homes, 100, 200), "park"] == pytest.approx(50 + 150 + 250 + 100 + 90, abs=1e-6)


# ---------------------------------------------------------------------------- properties
coords = st.tuples(st.floats(-50, 4300), st.floats(-50, 1050))


@settings(max_examples=30, deadline=None)
@given(st.lists(coords, min_size=1, max_size=6), st.lists(coords, min_size=1, max_size=4), coords)
def test_properties_straight_line_and_more_facilities(net, origins_xy, fac_xy, extra_xy):
    origins = points([(x + OX, y + OY) for x, y in origins_xy])
    fac = points([(x + OX, y + OY) for x, y in fac_xy], category="clinic")
    d = tz.access.nearest(net, origins, fac, categories=["clinic"], max_distance_m=1e9)["clinic"].to_numpy()
    straight = np.array([min(o.distance(f) for f in fac.geometry) for o in origins.geometry])
    assert np.all(d >= straight - 1e-6)
    more = pd.concat([fac, points([(extra_xy[0] + OX, extra_xy[1] + OY)], category="clinic")], ignore_index=True)
    d2 = tz.access.nearest(net, origins, more, categories=["clinic"], max_distance_m=1e9)["clinic"].to_numpy()
    assert np.all(d2 <= d + 1e-9)


@settings(max_examples=30, deadline=None)
@given(st.floats(0, 2000), st.floats(0, 2000), st.integers(1, 100))
def test_coverage_grows_with_the_threshold(dist, homes, t1, t2, seed):
    lo, hi = sorted((t1, t2))
    pop = tz.samples.sample_town(seed=seed).homes.set_index("home_id")["population"]
    a = tz.access.coverage(dist, threshold_m=lo, by=homes["town_id"], weights=pop)
    b = tz.access.coverage(dist, threshold_m=hi, by=homes["town_id"], weights=pop)
    assert (b["share"] >= a["share"]).all()
    assert (b["population_share"].fillna(0) >= a["population_share"].fillna(0)).all()
    assert ((a["share"] >= 0) & (a["share"] <= 1)).all()


# ---------------------------------------------------------------------------- service areas
def test_service_area_of_one_street_is_cut_at_the_exact_distance():
    G = line_graph([[(0, 0), (1000, 0)]])
    fac = points([(0, 10)], category="park")
    sa = tz.access.service_areas(G, fac, thresholds_m=[300], categories=["park"])
    geom = sa.iloc[0].geometry
    # reached up to 290 m (leg 10); widened by min(50, distance left): the reached street buffered to
    # 240 m then tapering to a point at 290 m lies inside the 50 m disk at 240 m.
    assert geom.bounds == pytest.approx((-50, -50, 290, 50), abs=1e-6)
    assert geom.area == pytest.approx(LineString([(0, 0), (240, 0)]).buffer(50).area, rel=1e-3)
    assert sa.iloc[0]["street_m"] == pytest.approx(290, abs=1e-9)


def test_service_areas_contain_reached_nodes_and_no_far_ones(graph, net, facilities):
    sa = tz.access.service_areas(net, facilities)  # default: the life-circle levels
    levels = tz.rules.load("life_circle")["level"]
    assert sorted(sa["threshold_m"].unique()) == sorted(levels[k]["distance_m"] for k in levels)
    assert list(sa["category"].unique()) == tz.access.categories()
    assert len(sa) == 8 * 3
    xy = {n: Point(d["x"], d["y"]) for n, d in graph.nodes(data=True)}
    for cat in ("kindergarten", "park"):
        src = facilities.loc[facilities["category"] == cat]
        oracle = oracle_node_distances(graph, list(src.geometry))
        for t in (300, 500, 1000):
            area = sa.loc[(sa["category"] == cat) & (sa["threshold_m"] == t)].geometry.iloc[0]
            for n, p in xy.items():
                if oracle[n] < t - 1e-3:
                    assert area.buffer(1e-6).contains(p), (cat, t, n)
                if oracle[n] > t + 50 + 1e-3:
                    assert area.distance(p) > 0, (cat, t, n)
            # nested thresholds
    for cat in tz.access.categories():
        rows = sa.loc[sa["category"] == cat].sort_values("threshold_m")
        areas = rows["area_m2"].to_numpy()
        assert np.all(np.diff(areas) >= -1e-6)


@pytest.mark.parametrize("cap", [0.0, 50.0, 400.0])
def test_whole_edges_found_by_arrays_equal_the_edge_by_edge_pieces(net, facilities, cap):
    # the array shortcut for edges reached whole must give exactly the pieces of the general path
    fac = pd.concat([facilities, points([(2100 + OX, 620 + OY)], category="park").set_index(pd.Index(["X"]))])
    for cat in ("kindergarten", "park", "clinic"):
        (src,) = _sources_by_category(net, fac, categories=[cat])[1]
        field = net.node_distances([src], limit_m=1000)[0]
        for t in (0.0, 12.0, 300.0, 1000.0):
            fast = _reached_pieces(net, field, src, t, cap)
            slow = _reached_pieces(net, field, src, t, cap, whole_edges=False)
            assert np.array_equal(fast, slow), (cat, t)


def oracle_node_distances(G, pts):
    """networkx distances from points to every original node, via the augmented graph."""
    nodes = list(G.nodes)
    fake = [Point(G.nodes[n]["x"], G.nodes[n]["y"]) for n in nodes]
    d = oracle_distances(G, fake, {"s": pts})["s"]
    return dict(zip(nodes, d, strict=True))


def test_service_areas_do_not_claim_homes_across_the_river(graph, net, facilities):
    """Convex hull of reached nodes and fixed-width buffers vs the street-following area, on the east bank.

    Facilities of T1 (west of the river); "homes" on a 25 m grid across the river (x 1285–1485,
    y 15–990) within 40 m of a street. A home is reached when some street point q lies within
    the widening cap (50 m) and |home − q| + network distance(q) ≤ 1000 m; the network distance
    of street points every 2 m comes from networkx on the augmented graph (the oracle), so a
    home counts as reached with a 2 m sampling margin.
    """
    t, cap, step = 1000.0, 50.0, 2.0
    west = facilities.loc[facilities["town_id"] == "T1"]
    xs, ys = np.meshgrid(np.arange(1285, 1500, 25.0), np.arange(15, 1000, 25.0))
    bank = shapely.points(xs.ravel() + OX, ys.ravel() + OY)
    streets = shapely.union_all([d["geometry"] for *_, d in graph.edges(data=True)])
    bank = bank[shapely.distance(bank, streets) <= 40]
    window = shapely.box(1200 + OX, -60 + OY, 1560 + OX, 1060 + OY)
    samples = []
    for *_, d in graph.edges(data=True):
        piece = d["geometry"].intersection(window)
        for part in shapely.get_parts(piece):
            if part.length > 0:
                samples += [part.interpolate(a) for a in np.arange(0, part.length + 1e-9, step)]
    sa = tz.access.service_areas(net, west, thresholds_m=[t], max_width_m=cap)
    hull_share, fixed_share, ours_share = {}, {}, {}
    for cat in tz.access.categories():
        src = list(west.loc[west["category"] == cat].geometry)
        d_sample = oracle_distances(graph, samples, {cat: src})[cat]
        gap = shapely.distance(bank[:, None], np.array(samples, dtype=object)[None, :])
        best = np.where(gap <= cap, gap + d_sample[None, :], np.inf).min(axis=1)
        not_reached = best > t + step
        node_d = oracle_node_distances(graph, src)
        reached_nodes = [Point(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n, v in node_d.items() if v <= t]
        hull = shapely.MultiPoint(reached_nodes).convex_hull
        area = sa.loc[sa["category"] == cat].geometry.iloc[0]
        hull_share[cat] = (shapely.contains(hull, bank) & not_reached).sum() / len(bank)
        # the other common recipe: the reached streets buffered by a fixed width (the cap)
        fixed = shapely.union_all(shapely.buffer(np.array(samples, dtype=object)[d_sample <= t], cap))
        fixed_share[cat] = (shapely.intersects(fixed, bank) & not_reached).sum() / len(bank)
        ours_share[cat] = (shapely.intersects(area, bank) & not_reached).sum() / len(bank)
        # and ours misses none that are reached with a margin
        assert not (~shapely.intersects(area, bank) & (best < t - step)).any(), cat
    assert max(ours_share.values()) == 0.0
    assert max(hull_share.values()) > 0.1, hull_share  # the hull claims homes the network does not reach
    assert max(fixed_share.values()) > 0.0, fixed_share  # so does a fixed-width buffer


# ---------------------------------------------------------------------------- suggest sites
def test_suggest_sites_matches_brute_force(net, graph, homes, facilities):
    t3 = homes.loc[homes["town_id"] == "T3"]
    picks = tz.access.suggest_sites(net, t3, facilities, category="kindergarten", k=2)
    assert list(picks["rank"]) == [1, 2]
    # brute force: add each node as a kindergarten, count people newly within 1000 m
    nodes = points([(d["x"], d["y"]) for _, d in graph.nodes(data=True)]).set_index(pd.Index(list(graph.nodes)))
    base = tz.access.nearest(net, t3, facilities, categories=["kindergarten"])["kindergarten"] <= 1000
    assert not base.any()
    gains = {}
    for n in nodes.index:
        extra = pd.concat([facilities, nodes.loc[[n]].assign(category="kindergarten")])
        d = tz.access.nearest(net, t3, extra, categories=["kindergarten"])["kindergarten"] <= 1000
        gains[n] = t3.loc[d, "population"].sum()
    assert picks.iloc[0]["added_population"] == max(gains.values())
    assert gains[picks.iloc[0]["site"]] == max(gains.values())
    assert picks.iloc[1]["added_population"] <= picks.iloc[0]["added_population"]
    assert picks.iloc[1]["covered_population"] == picks.iloc[0]["added_population"] + picks.iloc[1]["added_population"]


def test_suggest_sites_among_candidates(net, homes, facilities):
    t3 = homes.loc[homes["town_id"] == "T3"]
    cands = points([(3600 + OX, 510 + OY), (4500 + OX, 900 + OY)], name=["中心", "远郊"]).set_index("name")
    picks = tz.access.suggest_sites(net, t3, facilities, category="kindergarten", candidates=cands, k=2)
    assert list(picks["site"]) == ["中心"]  # the far one adds nobody: greedy stops
    d = tz.access.nearest(
        net, t3, pd.concat([facilities, cands.assign(category="kindergarten")]), categories=["kindergarten"]
    )
    assert picks.iloc[0]["added_population"] == t3.loc[d["kindergarten"] <= 1000, "population"].sum()


@st.composite
def coverage_problems(draw):
    """A small sites × homes coverage matrix, integer weights (exact sums) and k."""
    n_sites = draw(st.integers(1, 6))
    n_homes = draw(st.integers(1, 7))
    cells = draw(st.lists(st.booleans(), min_size=n_sites * n_homes, max_size=n_sites * n_homes))
    cover = np.array(cells, dtype=bool).reshape(n_sites, n_homes)
    weights = np.array(draw(st.lists(st.integers(0, 9), min_size=n_homes, max_size=n_homes)), dtype=float)
    return cover, weights, draw(st.integers(1, 4))


@settings(max_examples=200, deadline=None)
@given(coverage_problems())
def test_greedy_step_against_brute_force(problem):
    cover, weights, k = problem
    picks = greedy_max_coverage(cover, weights, k=k)
    assert len(picks) <= k
    covered = np.zeros(cover.shape[1], dtype=bool)
    for site, gain, added in picks:
        # each pick is a best marginal gain over every site (first on a tie), counted by set operations
        marginal = [weights[cover[s] & ~covered].sum() for s in range(cover.shape[0])]
        assert gain == max(marginal) > 0
        assert site == int(np.argmax(marginal))
        assert added == int((cover[site] & ~covered).sum())
        covered |= cover[site]
    # stops early only when no site adds anyone
    if len(picks) < k:
        assert all(weights[cover[s] & ~covered].sum() == 0 for s in range(cover.shape[0]))
    # within 1 - 1/e of the best k sites, found by trying every choice
    best = max(
        weights[cover[list(choice)].any(axis=0)].sum()
        for choice in itertools.combinations(range(cover.shape[0]), min(k, cover.shape[0]))
    )
    got = weights[covered].sum()
    assert got >= (1 - 1 / math.e) * best - 1e-9
    assert got <= best


def test_greedy_step_is_not_always_optimal():
    # site 0 covers the two heavy middle homes (3.0) and is taken first; sites 1 and 2 together cover all five
    cover = np.array([[0, 1, 1, 0], [1, 1, 0, 0], [0, 0, 1, 1]], dtype=bool)
    picks = greedy_max_coverage(cover, np.array([1.0, 1.5, 1.5, 1.0]), k=2)
    assert [p[0] for p in picks] == [0, 1]  # 3.0 first, then 1.0: 4.0
    assert sum(p[1] for p in picks) == 4.0  # < 5.0, the best pair


# ---------------------------------------------------------------------------- categorize
def test_categorize_osm_columns():
    pois = points(
        [(0, 0)] * 6,
        amenity=["kindergarten", "community_centre", None, "clinic", None, None],
        leisure=[None, None, "park", None, None, "fitness_centre"],
        building=[None, None, None, None, "apartments", None],
        healthcare=[None, None, None, None, None, None],
        name=["阳光幼儿园", "社区中心", "口袋公园", "卫生站", "云溪人才公寓", "健身房"],
    )
    out = tz.access.categorize(pois)
    got = list(zip(out["source_index"], out["category"], strict=True))
    assert got == [
        (0, "kindergarten"),
        (1, "neighbourhood_centre"),
        (1, "reading_room"),
        (2, "park"),
        (3, "clinic"),
        (4, "talent_housing"),
        (5, "sports"),
    ]
    # an apartment block not named 人才 is not talent housing
    pois.loc[4, "name"] = "普通公寓"
    assert "talent_housing" not in set(tz.access.categorize(pois)["category"])


def test_categorize_tilezen_kinds():
    pois = points(
        [(0, 0)] * 5,
        kind=["library", "fitness", "information", "restaurant", "building"],
        kind_detail=[None, None, None, None, "apartments"],
        name=["图书馆", "Tera", "游客中心", "饭店", "人才公寓"],
    )
    out = tz.access.categorize(pois)
    assert list(zip(out["source_index"], out["category"], strict=True)) == [
        (0, "reading_room"),
        (1, "sports"),
        (2, "town_lounge"),
        (4, "talent_housing"),
    ]
    assert out.attrs["unmatched"] == 1


# ---------------------------------------------------------------------------- real data
@pytest.mark.shared_data
@pytest.mark.parametrize("clip", ["yunqi", "yuhuangshan", "dream_town"])
def test_hangzhou_clips_equal_networkx(shared_data, clip):
    path = shared_data(f"hangzhou/clip_{clip}_r2500m.gpkg")
    roads = tz.io.read_layer(path, layer="roads")
    G = tz.network.from_lines(roads)
    crs = G.graph["crs"]
    buildings = tz.io.read_layer(path, layer="buildings").to_crs(crs)
    rng = np.random.default_rng(0)
    if len(buildings) >= 60:
        origins = buildings.iloc[rng.choice(len(buildings), 40, replace=False)]
    else:  # the dream-town clip has almost no buildings: random points in the circle instead
        aoi = tz.io.read_layer(path, layer="aoi").to_crs(crs).geometry.iloc[0]
        minx, miny, maxx, maxy = aoi.bounds
        xy = rng.uniform([minx, miny], [maxx, maxy], size=(200, 2))
        inside = shapely.contains_xy(aoi, xy[:, 0], xy[:, 1])
        origins = points(xy[inside][:40], crs=crs)
    minx, miny, maxx, maxy = roads.to_crs(crs).total_bounds
    fac = points(rng.uniform([minx, miny], [maxx, maxy], size=(12, 2)), crs=crs, category="clinic")
    got = tz.access.nearest(G, origins, fac, categories=["clinic"], max_distance_m=1e9, max_snap_m=1e9)
    assert got["reachable"].all()
    pts = list(origins.geometry.representative_point())
    expected = oracle_distances(G, pts, {"clinic": list(fac.geometry)})["clinic"]
    np.testing.assert_allclose(got["clinic"].to_numpy(), np.where(np.isfinite(expected), expected, np.nan), atol=1e-6)


@pytest.mark.shared_data
def test_shanghai_tilezen_pois(shared_data):
    path = shared_data("shanghai-wuhan/shanghai_bund_lujiazui_tilezen.gpkg")
    pois = tz.io.read_layer(path, layer="pois_point")
    fac = tz.access.categorize(pois)
    counts = fac["category"].value_counts()
    kinds = pois["kind"]
    # independent count from the documented kind table
    assert counts.get("park", 0) == kinds.isin(["park", "garden"]).sum()
    assert counts.get("kindergarten", 0) == kinds.isin(["kindergarten", "childcare"]).sum()
    assert counts.get("clinic", 0) == kinds.isin(["clinic", "doctors", "hospital"]).sum()
    assert counts.get("reading_room", 0) == kinds.isin(["library", "arts_centre", "community_centre"]).sum()
    assert counts.get("sports", 0) == kinds.isin(["sports_centre", "fitness", "pitch", "fitness_station"]).sum()
    assert counts.get("town_lounge", 0) == kinds.isin(["information", "exhibition_centre"]).sum()
    assert fac.attrs["unmatched"] == len(pois) - fac["source_index"].nunique()
    # roads are cut at tile edges and repeated: merge on id, keep the walkable ones, route
    roads = tz.io.read_layer(path, layer="roads_linestring")
    roads = roads.loc[roads["kind"] != "rail"].dissolve(by="id", as_index=False)
    roads["geometry"] = roads.geometry.line_merge()
    G = tz.network.from_lines(roads, class_col="kind_detail")
    buildings = tz.io.read_layer(path, layer="buildings_polygon")
    d = tz.access.nearest(G, buildings, fac)
    assert d.index.equals(buildings.index)
    ok = d["reachable"]
    assert ok.mean() > 0.9
    # never shorter than the straight line to the nearest facility of the category
    metric = buildings.to_crs(G.graph["crs"]).representative_point()
    parks = fac.loc[fac["category"] == "park"].to_crs(G.graph["crs"]).geometry.union_all()
    straight = metric.distance(parks)
    walked = d["park"]
    assert (walked[walked.notna()] >= straight[walked.notna()] - 1e-6).all()


def test_directed_osmnx_style_graph_is_walked_both_ways(graph, homes, facilities, dist):
    # osmnx returns a MultiDiGraph; one-way rules do not apply to walking
    D = nx.MultiDiGraph(graph)
    d = tz.access.nearest(D, homes, facilities)
    np.testing.assert_allclose(d[tz.access.categories()], dist[tz.access.categories()], atol=1e-9)
    # a one-way-only copy (every street digitised in one direction) gives the same distances
    one_way = nx.MultiDiGraph(crs=graph.graph["crs"])
    one_way.add_nodes_from(graph.nodes(data=True))
    one_way.add_edges_from((u, v, data) for u, v, data in graph.edges(data=True))
    d1 = tz.access.nearest(one_way, homes, facilities)
    np.testing.assert_allclose(d1[tz.access.categories()], dist[tz.access.categories()], atol=1e-9)


def test_edges_without_geometry_are_straight(homes, facilities):
    G = line_graph([[(0, 0), (1000, 0)], [(1000, 0), (1000, 800)]])
    for *_, data in G.edges(data=True):
        del data["geometry"]
    d = tz.access.nearest(G, points([(500, 30)]), points([(1000 + 20, 400)], category="clinic"))
    assert d.iloc[0]["clinic"] == pytest.approx(30 + 500 + 400 + 20, abs=1e-9)


def test_edge_length_a_hair_short_of_its_geometry_gives_no_negative_link():
    # Lengths stored by other tools are often rounded: a facility snapped at the far end of an
    # edge must not produce a negative link weight (scipy would warn, and distances shrink).
    G = line_graph([[(0, 0), (100, 0)]])
    for _, _, data in G.edges(data=True):
        data["length"] = 100.0 - 1e-9
    d = tz.access.nearest(
        G, points([(0, 5)]), points([(100, 3)], category=["clinic"]), categories=["clinic"], max_distance_m=500
    )
    assert d.loc[0, "clinic"] == pytest.approx(5 + 100 + 3, abs=1e-6)


# ---------------------------------------------------------------------------- towns of homes, per-home table, gaps
def _two_towns() -> gpd.GeoDataFrame:
    """Town A is the square (0, 0)-(100, 100), town B the square next to it, (100, 0)-(200, 100)."""
    squares = [shapely.box(OX, OY, 100 + OX, 100 + OY), shapely.box(100 + OX, OY, 200 + OX, 100 + OY)]
    return gpd.GeoDataFrame({"town_id": ["A", "B"]}, geometry=squares, crs=CRS)


def test_assign_towns_uses_a_point_inside_the_home():
    towns = _two_towns()
    homes = gpd.GeoDataFrame(
        {"home_id": ["across", "in_b", "outside", "no_geometry", "on_edge"]},
        geometry=[
            shapely.box(50 + OX, 10 + OY, 120 + OX, 20 + OY),  # 50 m in A, 20 m in B: its inner point (85, 15) is in A
            P(150, 50),
            P(300, 50),
            None,
            P(100, 50),  # on the shared edge: the first town of the layer, and reported
        ],
        crs=CRS,
    ).set_index("home_id")
    town = tz.access.assign_towns(homes, towns, id_col="town_id")
    assert town.name == "town_id"
    assert town.index.equals(homes.index)
    assert town.loc["across"] == "A" and town.loc["in_b"] == "B" and town.loc["on_edge"] == "A"
    assert town[["outside", "no_geometry"]].isna().all()
    assert town.attrs["no_town"] == ["outside", "no_geometry"]
    assert town.attrs["several_towns"] == ["on_edge"]
    assert len(town.attrs["problems"]) == 2
    # the whole building is in no town: a 'within' test would have dropped it
    assert not towns.geometry.contains(homes.geometry.loc["across"]).any()
    # the same answer from longitude/latitude homes
    lonlat = tz.access.assign_towns(homes.to_crs(4326), towns, id_col="town_id")
    pd.testing.assert_series_equal(lonlat.iloc[:3], town.iloc[:3])


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.floats(-50, 250), st.floats(-50, 150)), min_size=1, max_size=20))
def test_assign_towns_equals_a_shapely_loop(xys):
    towns = _two_towns()
    homes = points([(x + OX, y + OY) for x, y in xys])
    got = tz.access.assign_towns(homes, towns, id_col="town_id")
    for i, p in enumerate(homes.geometry):
        inside = [t for t, g in zip(towns["town_id"], towns.geometry, strict=True) if g.intersects(p)]
        assert (got.iloc[i] if pd.notna(got.iloc[i]) else None) == (inside[0] if inside else None)


def test_assign_towns_without_the_id_column_names_the_keyword():
    with pytest.raises(SchemaError, match="no column 'id'") as info:
        tz.access.assign_towns(points([(0, 0)]), _two_towns(), id_col="id")
    assert info.value.param == "id_col"


def test_home_table_and_gaps(homes, dist):
    town = homes["town_id"]
    table = tz.access.home_table(homes, dist, town=town, threshold_m=1000)
    assert table.index.equals(homes.index)
    assert list(table.columns) == [
        *homes.columns,
        *[f"{c}_m" for c in tz.access.categories()],
        "snap_m",
        "reachable",
        "town",
        "categories_reached",
    ]
    for c in tz.access.categories():
        np.testing.assert_array_equal(table[f"{c}_m"], dist[c])
    np.testing.assert_array_equal(table["categories_reached"], (dist[tz.access.categories()] <= 1000).sum(axis=1))
    with pytest.raises(SchemaError, match="not indexed like homes"):
        tz.access.home_table(homes.iloc[::-1], dist)
    cov = tz.access.coverage(dist, by=town, weights=homes["population"])
    # independent: a town lacks a category when none of its homes is within 1000 m
    reached = (dist[tz.access.categories()] <= 1000).groupby(town).any()
    expected = [(t, c) for t in reached.index for c in reached.columns if not reached.loc[t, c]]
    assert list(tz.access.gaps(cov).index) == expected == [("T3", "kindergarten")]
    shares = tz.access.share_table(cov)
    assert shares.attrs["column"] == "population_share"
    assert list(shares.columns) == [*tz.access.categories(), "all_categories"]
    assert shares.loc["T3", "kindergarten"] == 0.0
    assert shares.loc["T1", "all_categories"] == cov.loc[("T1", "all_categories"), "population_share"]
