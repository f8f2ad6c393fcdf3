"""Tests of tz.network: walking graphs from lines and OSM extracts.

Oracles: hand counts on the sample town (worked out below), networkx shortest paths on the
built graph against distances read off the sample docstring, shapely's own noding
(``shapely.node``) as an independent splitter, and osmnx's XML parser for OSM extracts.
"""

from __future__ import annotations

import math
from collections import Counter

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from shapely import LineString, MultiLineString

import tongzhen_gis as tz
from tongzhen_gis.errors import CRSError, NetworkDataError, OptionError, RuleDataError

OX, OY = tz.samples.ORIGIN


def node_at(G: nx.MultiGraph, x: float, y: float, *, local: bool = True) -> int:
    """The node at (x, y) (sample-local coordinates by default); fails when there is none."""
    if local:
        x, y = x + OX, y + OY
    hits = [n for n, d in G.nodes(data=True) if abs(d["x"] - x) < 1e-6 and abs(d["y"] - y) < 1e-6]
    assert len(hits) == 1, f"expected exactly one node at {(x, y)}, found {hits}"
    return hits[0]


def dist(G: nx.MultiGraph, a: tuple[float, float], b: tuple[float, float], *, local: bool = True) -> float:
    return nx.shortest_path_length(G, node_at(G, *a, local=local), node_at(G, *b, local=local), weight="length")


def lines(rows: list[dict], crs: str = "EPSG:4549") -> gpd.GeoDataFrame:
    """A small hand-built road layer: each row has 'coords' and optional attributes."""
    geoms = [LineString(r.pop("coords")) for r in rows]
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=crs)


# ----------------------------------------------------------------------------- contract
def check_contract(G: nx.MultiGraph) -> None:
    assert isinstance(G, nx.MultiGraph)
    assert not G.is_directed()
    assert G.graph["crs"].is_projected
    assert isinstance(G.graph["report"], dict)
    for n, d in G.nodes(data=True):
        assert isinstance(n, int)
        assert isinstance(d["x"], float)
        assert isinstance(d["y"], float)
    for u, v, d in G.edges(data=True):
        geom = d["geometry"]
        assert geom.geom_type == "LineString"
        assert d["length"] == pytest.approx(geom.length, rel=1e-12, abs=1e-9)
        ends = {geom.coords[0], geom.coords[-1]}
        assert ends == {(G.nodes[u]["x"], G.nodes[u]["y"]), (G.nodes[v]["x"], G.nodes[v]["y"])}


# ----------------------------------------------------------------------------- sample town
# Hand count (sample docstring): a 5 x 5 grid of junctions in T1 (x = 0..1000, y = 0..1000)
# = 25 nodes; 12 columns x 5 rows east of the river (x = 1500..4250) = 60; the river ends
# x = 1200 and 1300 on y = 0, 250, 500, 750 = 8 (dead ends on 0 and 500, bridge joints on 250
# and 750). The diagonal runs through existing junctions (500,500), (750,750), (1000,1000).
# Total 93 nodes. Edges: T1 grid 2 x 5 x 4 = 40; east grid 5 x 11 + 12 x 4 = 103; between
# x = 1000 and 1500: y = 0 and 500 two pieces each (dead ends), y = 250 and 750 three each
# (street, bridge, street) = 10; the diagonal 2 pieces. Total 155. The motorway is dropped.
SAMPLE_NODES = 25 + 60 + 8
SAMPLE_EDGES = 40 + 103 + 10 + 2


def test_sample_town_counts_and_contract(scene):
    G = tz.network.from_lines(scene.roads)
    check_contract(G)
    assert G.number_of_nodes() == SAMPLE_NODES
    assert G.number_of_edges() == SAMPLE_EDGES
    assert G.graph["crs"].to_epsg() == 4549
    rep = G.graph["report"]
    assert rep["input_lines"] == len(scene.roads)
    assert rep["dropped_by_class"] == {"motorway": 1}
    assert rep["unknown_classes"] == {}
    assert rep["components_found"] == 1
    assert rep["length_share_dropped"] == 0.0
    # the bridges meet the streets only at their ends: nothing crosses without a junction
    assert rep["level_crossings_not_joined"] == 0
    # 4 bridge ends lie on the street ends they continue, and vice versa
    assert rep["endpoint_links"] == 8
    # nothing lost: total length = all walkable input lines
    walkable = scene.roads[scene.roads["fclass"] != "motorway"]
    assert rep["length_m"] == pytest.approx(walkable.length.sum(), rel=1e-12)
    assert sum(d for *_, d in G.edges(data="length")) == pytest.approx(walkable.length.sum(), rel=1e-12)


def test_sample_town_distances(scene):
    G = tz.network.from_lines(scene.roads)
    assert dist(G, (0, 250), (500, 250)) == pytest.approx(500.0, abs=1e-9)
    # y = 500 is cut by the river: down to a bridge and back, 250 + 500 + 250
    assert dist(G, (1000, 500), (1500, 500)) == pytest.approx(1000.0, abs=1e-9)
    # the motorway bridge is not walkable: round by the y = 750 bridge
    assert dist(G, (1000, 1000), (1500, 1000)) == pytest.approx(1000.0, abs=1e-9)
    # the diagonal footway joins the grid at (750, 750)
    assert dist(G, (750, 750), (500, 500)) == pytest.approx(250 * math.sqrt(2), abs=1e-9)
    # the docstring's T1 home (850, 450) -> T2 lounge path: 1670 m of network from (850, 500)
    # to (2020, 500) = 150 + 250 + 500 + 250 + 520 via the y = 250 bridge
    assert dist(G, (1000, 500), (2000, 500)) + 150 + 20 == pytest.approx(1670.0, abs=1e-9)


def test_sample_edges_carry_attributes(scene):
    G = tz.network.from_lines(scene.roads)
    bridge = [
        d for *_, d in G.edges(data=True) if d["road_id"] in set(scene.roads.loc[scene.roads.bridge == "T", "road_id"])
    ]
    assert len(bridge) == 2  # the motorway bridge is excluded
    assert {d["fclass"] for d in bridge} == {"secondary"}
    assert all(d["length"] == pytest.approx(100.0) for d in bridge)
    assert {d["name"] for d in bridge} == {"纬2路", "纬4路"}
    # every edge points back to its input row
    assert {d["source_index"] for *_, d in G.edges(data=True)} == set(
        scene.roads.index[scene.roads.fclass != "motorway"]
    )


def test_sample_in_wgs84_is_reprojected(scene):
    G = tz.network.from_lines(scene.roads.to_crs("EPSG:4326"))
    assert G.graph["crs"].to_epsg() == 4549
    assert G.number_of_nodes() == SAMPLE_NODES
    assert G.number_of_edges() == SAMPLE_EDGES


def test_motorway_walkable_when_not_excluded(scene):
    G = tz.network.from_lines(scene.roads, exclude=())
    # the motorway is a bridge (layer 1) joined at its ends: the gap on y = 1000 closes
    assert dist(G, (1000, 1000), (1500, 1000)) == pytest.approx(500.0)
    assert G.graph["report"]["dropped_by_class"] == {}


def test_vertices_mode_same_distances(scene):
    G = tz.network.from_lines(scene.roads)
    H = tz.network.from_lines(scene.roads, nodes="vertices")
    check_contract(H)
    # the sample lines have no interior vertices: both modes agree exactly
    assert (H.number_of_nodes(), H.number_of_edges()) == (SAMPLE_NODES, SAMPLE_EDGES)
    assert dist(H, (1000, 500), (1500, 500)) == dist(G, (1000, 500), (1500, 500))


def test_osmnx_graph_to_gdfs_works(scene):
    ox = pytest.importorskip("osmnx")
    G = tz.network.from_lines(scene.roads)
    nodes, edges = ox.convert.graph_to_gdfs(G)
    mine_nodes, mine_edges = tz.network.graph_to_gdfs(G)
    assert len(nodes) == len(mine_nodes) == SAMPLE_NODES
    assert len(edges) == len(mine_edges) == SAMPLE_EDGES
    assert edges["length"].sum() == pytest.approx(mine_edges["length"].sum())
    assert mine_nodes.crs == G.graph["crs"]
    assert (mine_edges.geometry.length - mine_edges["length"]).abs().max() < 1e-9
    # street_count (osmnx attribute) = networkx degree; osmnx stats work on the graph
    assert dict(G.degree()) == dict(G.nodes(data="street_count"))
    stats = ox.stats.basic_stats(G)
    assert stats["n"] == SAMPLE_NODES
    assert stats["m"] == SAMPLE_EDGES
    # dead ends: 4 river ends on y = 0 and 500 (1200 and 1300), nothing else
    assert stats["streets_per_node_counts"][1] == 4
    # osmnx's nearest edge to home (100, 200): street y = 250 is 50 m away (x = 0 is 100 m, y = 0 200 m)
    u, v, _ = ox.distance.nearest_edges(G, OX + 100, OY + 200)
    assert {G.nodes[u]["y"], G.nodes[v]["y"]} == {OY + 250}


# ----------------------------------------------------------------------------- levels
def test_bridge_over_street_does_not_connect():
    roads = lines(
        [
            {"coords": [(0, 0), (100, 0)], "fclass": "residential"},
            {"coords": [(50, -50), (50, 50)], "fclass": "residential", "bridge": "T", "layer": 1},
        ]
    )
    G = tz.network.from_lines(roads)
    assert (G.number_of_nodes(), G.number_of_edges()) == (4, 2)
    assert nx.number_connected_components(G) == 2
    assert G.graph["report"]["components_found"] == 2
    assert G.graph["report"]["level_crossings_not_joined"] == 1
    assert G.graph["report"]["level_shared_vertices_not_joined"] == []


def test_tunnel_under_street_does_not_connect():
    roads = lines(
        [
            {"coords": [(0, 0), (100, 0)], "fclass": "residential", "tunnel": "yes", "layer": -1},
            {"coords": [(50, -50), (50, 50)], "fclass": "residential"},
        ]
    )
    G = tz.network.from_lines(roads)
    assert (G.number_of_nodes(), G.number_of_edges()) == (4, 2)


def test_different_layers_do_not_connect_same_layer_does():
    crossing = [(0, 0), (100, 0)], [(50, -50), (50, 50)]
    apart = lines([{"coords": crossing[0], "layer": 0}, {"coords": crossing[1], "layer": 1}])
    G = tz.network.from_lines(apart)
    assert (G.number_of_nodes(), G.number_of_edges()) == (4, 2)
    together = lines([{"coords": crossing[0], "layer": 1}, {"coords": crossing[1], "layer": "1"}])
    H = tz.network.from_lines(together)
    assert (H.number_of_nodes(), H.number_of_edges()) == (5, 4)
    assert dist(H, (0, 0), (50, 50), local=False) == pytest.approx(100.0)


def test_interior_vertices_shared_across_levels_do_not_connect():
    # the bridge has a vertex exactly above the street's vertex: still no junction
    roads = lines(
        [
            {"coords": [(0, 0), (50, 0), (100, 0)]},
            {"coords": [(50, -50), (50, 0), (50, 50)], "bridge": "yes", "layer": 1},
        ]
    )
    G = tz.network.from_lines(roads)
    assert (G.number_of_nodes(), G.number_of_edges()) == (4, 2)
    # listed for review: in OSM-derived data a shared vertex may be a junction the mapper meant
    assert G.graph["report"]["level_shared_vertices_not_joined"] == [(50.0, 0.0)]


def test_endpoint_on_other_level_connects():
    # a ramp (ground level) ending on the middle of a bridge; and a bridge ending on a street
    roads = lines(
        [
            {"coords": [(0, 0), (100, 0)], "bridge": "T", "layer": 1},
            {"coords": [(50, 0), (50, 80)]},
            {"coords": [(100, 0), (200, 0)]},
        ]
    )
    G = tz.network.from_lines(roads)
    assert (G.number_of_nodes(), G.number_of_edges()) == (5, 4)
    assert dist(G, (50, 80), (200, 0), local=False) == pytest.approx(80 + 50 + 100)
    assert G.graph["report"]["endpoint_links"] >= 2


def test_near_coincident_ends_merge_within_tolerance():
    roads = lines(
        [
            {"coords": [(0, 0), (100, 0)]},
            {"coords": [(100.0004, 0.0003), (200, 0)]},  # 0.5 mm away: the same point
            {"coords": [(200.01, 0), (300, 0)]},  # 1 cm away: a real gap
        ]
    )
    G = tz.network.from_lines(roads)
    assert G.number_of_nodes() == 5
    assert nx.number_connected_components(G) == 2
    check_contract(G)
    H = tz.network.from_lines(roads, tolerance_m=0.05)
    assert nx.number_connected_components(H) == 1


def test_t_junction_and_overshoot_split():
    roads = lines(
        [
            {"coords": [(0, 0), (100, 0)]},
            {"coords": [(40, 0), (40, 60)]},  # T-junction on the interior
            {"coords": [(70, -10), (70, 10)]},  # crosses
        ]
    )
    G = tz.network.from_lines(roads)
    # nodes: (0,0) (100,0) (40,0) (40,60) (70,0) (70,-10) (70,10)
    assert (G.number_of_nodes(), G.number_of_edges()) == (7, 6)
    assert dist(G, (40, 60), (70, 10), local=False) == pytest.approx(60 + 30 + 10)


def test_multilines_exploded_and_invalid_reported():
    gdf = gpd.GeoDataFrame(
        {"fclass": ["residential", "footway", "residential", "footway"]},
        geometry=[
            MultiLineString([[(0, 0), (10, 0)], [(10, 0), (10, 10)]]),
            shapely.Point(5, 5),
            None,
            LineString(),
        ],
        index=["a", "b", "c", "d"],
        crs="EPSG:4549",
    )
    G = tz.network.from_lines(gdf)
    rep = G.graph["report"]
    assert rep["input_lines"] == 4
    assert rep["invalid_geometries"] == {"null geometry": ["c"], "empty geometry": ["d"], "not a line": ["b"]}
    assert rep["line_parts"] == 2
    assert (G.number_of_nodes(), G.number_of_edges()) == (3, 2)
    assert {d["source_index"] for *_, d in G.edges(data=True)} == {"a"}


def test_unknown_classes_kept_and_reported():
    roads = lines(
        [
            {"coords": [(0, 0), (100, 0)], "fclass": "residential"},
            {"coords": [(100, 0), (200, 0)], "fclass": "mystery_lane"},
            {"coords": [(200, 0), (300, 0)], "fclass": "MOTORWAY"},
            {"coords": [(300, 0), (400, 0)], "fclass": "trunk", "bridge": "T"},
            {"coords": [(400, 0), (500, 0)], "fclass": "trunk"},
        ]
    )
    G = tz.network.from_lines(roads)
    rep = G.graph["report"]
    assert rep["unknown_classes"] == {"mystery_lane": 1}
    assert rep["dropped_by_class"] == {"MOTORWAY": 1, "trunk (bridge/tunnel)": 1}
    assert G.number_of_edges() == 3


def test_keep_largest_reports_share_dropped():
    roads = lines(
        [
            {"coords": [(0, 0), (300, 0)]},
            {"coords": [(300, 0), (300, 300)]},
            {"coords": [(1000, 0), (1100, 0)]},  # an island, 100 m of 700 m
        ]
    )
    G = tz.network.from_lines(roads, keep="largest")
    rep = G.graph["report"]
    assert rep["components_found"] == 2
    assert rep["components_dropped"] == 1
    assert rep["length_m_dropped"] == pytest.approx(100.0)
    assert rep["length_share_dropped"] == pytest.approx(100 / 700)
    assert G.number_of_nodes() == 3
    A = tz.network.from_lines(roads)
    assert A.number_of_nodes() == 5
    assert A.graph["report"]["length_share_dropped"] == 0.0


def test_errors():
    roads = lines([{"coords": [(0, 0), (1, 0)], "fclass": "motorway"}])
    with pytest.raises(NetworkDataError, match="no walkable"):
        tz.network.from_lines(roads)
    with pytest.raises(CRSError, match="set_crs"):
        tz.network.from_lines(roads.set_crs(None, allow_override=True))
    with pytest.raises(OptionError, match="keep='biggest' is not understood") as info:
        tz.network.from_lines(roads, keep="biggest")
    assert info.value.param == "keep"
    with pytest.raises(NetworkDataError, match="class column"):
        tz.network.from_lines(roads, class_col="kind")
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy([0, 1], [0, 0]), crs=4549)
    with pytest.raises(NetworkDataError, match=r"\{'not a line': 2\}; give a layer of road centrelines"):
        tz.network.from_lines(points)


# ----------------------------------------------------------------------------- properties
def _oracle_graph(geoms: list[LineString]) -> nx.Graph:
    """Independent noding: shapely.node on the union of the lines, one edge per noded piece."""
    noded = shapely.node(shapely.multilinestrings(geoms))
    G = nx.Graph()
    for piece in shapely.get_parts(noded):
        a, b = np.round(piece.coords[0], 6), np.round(piece.coords[-1], 6)
        G.add_edge(tuple(a), tuple(b), length=piece.length)
    return G


coord = st.integers(0, 20).map(lambda v: v * 10.0)
segment = st.tuples(coord, coord, coord, coord).filter(lambda t: (t[0], t[1]) != (t[2], t[3]))


@settings(max_examples=40, deadline=None)
@given(st.lists(segment, min_size=1, max_size=12))
def test_same_level_matches_shapely_noding(segs):
    geoms = [LineString([(a, b), (c, d)]) for a, b, c, d in segs]
    gdf = gpd.GeoDataFrame(geometry=geoms, crs="EPSG:4549")
    G = tz.network.from_lines(gdf, junctions="crossings")
    check_contract(G)
    oracle = _oracle_graph(geoms)
    # shapely.node dissolves lines digitised twice; compare the distinct linework length
    assert oracle.size(weight="length") == pytest.approx(shapely.node(shapely.multilinestrings(geoms)).length)
    union_len = shapely.union_all(geoms).length
    assert sum(d for *_, d in G.edges(data="length")) >= union_len - 1e-6
    assert nx.number_connected_components(G) == nx.number_connected_components(oracle)
    # shortest paths between the first line's ends and every other line end agree
    source = tuple(np.round(geoms[0].coords[0], 6))
    mine = {
        (round(G.nodes[n]["x"], 6), round(G.nodes[n]["y"], 6)): d
        for n, d in nx.single_source_dijkstra_path_length(G, node_at(G, *source, local=False), weight="length").items()
    }
    theirs = nx.single_source_dijkstra_path_length(oracle, source, weight="length")
    for g in geoms:
        for p in (g.coords[0], g.coords[-1]):
            key = tuple(np.round(p, 6))
            assert (key in mine) == (key in theirs)
            if key in mine:
                assert mine[key] == pytest.approx(theirs[key], abs=1e-6)


@settings(max_examples=25, deadline=None)
@given(st.lists(segment, min_size=1, max_size=10), st.floats(-5e4, 5e4), st.floats(-5e4, 5e4))
def test_translation_invariant(segs, dx, dy):
    geoms = [LineString([(a, b), (c, d)]) for a, b, c, d in segs]
    base = gpd.GeoDataFrame(geometry=geoms, crs="EPSG:4549").translate(500_000, 3_300_000)
    G = tz.network.from_lines(gpd.GeoDataFrame(geometry=base))
    H = tz.network.from_lines(gpd.GeoDataFrame(geometry=base.translate(dx, dy)))
    assert (G.number_of_nodes(), G.number_of_edges()) == (H.number_of_nodes(), H.number_of_edges())
    assert G.size(weight="length") == pytest.approx(H.size(weight="length"), rel=1e-9)


def test_geoseries_and_index_labels_kept():
    s = gpd.GeoSeries([LineString([(0, 0), (10, 0)])], index=pd.Index([42], name="gid"), crs="EPSG:4549")
    G = tz.network.from_lines(s)
    assert [d["source_index"] for *_, d in G.edges(data=True)] == [42]
    assert [d["road_id"] for *_, d in G.edges(data=True)] == [42]


# ----------------------------------------------------------------------------- OSM
OSM_XML = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="tongzhen_gis tests">
  <node id="1" lat="30.2500" lon="120.1500" version="1"/>
  <node id="2" lat="30.2500" lon="120.1520" version="1"/>
  <node id="3" lat="30.2490" lon="120.1510" version="1"/>
  <node id="4" lat="30.2510" lon="120.1510" version="1"/>
  <node id="5" lat="30.2520" lon="120.1500" version="1"/>
  <node id="6" lat="30.2520" lon="120.1520" version="1"/>
  <node id="7" lat="30.2480" lon="120.1500" version="1"/>
  <way id="10" version="1"><nd ref="1"/><nd ref="2"/>
    <tag k="highway" v="residential"/><tag k="name" v="文一路"/></way>
  <way id="11" version="1"><nd ref="3"/><nd ref="4"/>
    <tag k="highway" v="footway"/><tag k="bridge" v="yes"/><tag k="layer" v="1"/></way>
  <way id="12" version="1"><nd ref="1"/><nd ref="5"/><nd ref="6"/>
    <tag k="highway" v="service"/><tag k="access" v="private"/></way>
  <way id="13" version="1"><nd ref="1"/><nd ref="7"/>
    <tag k="highway" v="footway"/><tag k="foot" v="no"/></way>
  <way id="14" version="1"><nd ref="2"/><nd ref="6"/>
    <tag k="highway" v="motorway"/></way>
  <way id="15" version="1"><nd ref="7"/><nd ref="3"/>
    <tag k="building" v="yes"/></way>
</osm>
"""


def _write_osm(tmp_path):
    xml = tmp_path / "tiny.osm"
    xml.write_text(OSM_XML, encoding="utf-8")
    return xml


def _signature(G: nx.MultiGraph) -> tuple[list, list]:
    """Geometry-only description of a graph: node coordinates and edges by their end coordinates."""
    xy = {n: (round(d["x"], 6), round(d["y"], 6)) for n, d in G.nodes(data=True)}
    edges = sorted((*sorted((xy[u], xy[v])), round(d["length"], 6), d["road_id"]) for u, v, d in G.edges(data=True))
    return sorted(xy.values()), edges


def test_osm_filters_equal_osmnx():
    ox = pytest.importorskip("osmnx")
    from tongzhen_gis import _osm

    for network in ("walk", "all"):
        assert _osm.OSM_FILTERS[network] == ox._overpass._get_network_filter(network)


def test_from_osm_tiny_file(tmp_path):
    G = tz.network.from_osm(_write_osm(tmp_path))
    check_contract(G)
    rep = G.graph["report"]
    # way 10 (street) and 11 (footbridge over it, no shared node) pass; 12 private, 13 foot=no,
    # 14 motorway fail; 15 is no highway at all
    assert rep["osm"]["highway_ways"] == 5
    assert rep["osm"]["ways_filtered_out"] == {"access=private": 1, "foot=no": 1, "highway=motorway": 1}
    assert {d["road_id"] for *_, d in G.edges(data=True)} == {10, 11}
    # the bridge crosses the street without a junction
    assert (G.number_of_nodes(), G.number_of_edges()) == (4, 2)
    assert G.graph["crs"].to_epsg() == 4549
    names = {d["road_id"]: d.get("name") for *_, d in G.edges(data=True)}
    assert names[10] == "文一路"
    assert {d["fclass"] for *_, d in G.edges(data=True)} == {"residential", "footway"}


def test_from_osm_custom_filters(tmp_path):
    path = _write_osm(tmp_path)
    G = tz.network.from_osm(path, network='["highway"~"foot"]')
    assert {d["road_id"] for *_, d in G.edges(data=True)} == {11, 13}
    H = tz.network.from_osm(path, network=lambda tags: tags.get("highway") == "motorway")
    assert {d["road_id"] for *_, d in H.edges(data=True)} == {14}
    A = tz.network.from_osm(path, network="all")
    assert {d["road_id"] for *_, d in A.edges(data=True)} == {10, 11, 12, 13, 14}


def test_from_osm_pbf_equals_xml(tmp_path):
    osmium = pytest.importorskip("osmium")
    xml = _write_osm(tmp_path)
    pbf = tmp_path / "tiny.osm.pbf"
    with osmium.SimpleWriter(str(pbf)) as writer:
        for obj in osmium.FileProcessor(str(xml)):
            writer.add(obj)
    assert _signature(tz.network.from_osm(pbf)) == _signature(tz.network.from_osm(xml))


def test_from_osm_errors(tmp_path):
    from tongzhen_gis.errors import InputFileError

    with pytest.raises(InputFileError, match="not found"):
        tz.network.from_osm(tmp_path / "missing.osm.pbf")
    other = tmp_path / "roads.csv"
    other.write_text("a,b\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="not an OSM extract"):
        tz.network.from_osm(other)
    path = _write_osm(tmp_path)
    with pytest.raises(OptionError, match="filter") as info:
        tz.network.from_osm(path, network="highway=footway")
    assert info.value.param == "network"
    with pytest.raises(NetworkDataError, match="no way"):
        tz.network.from_osm(path, network='["highway"="steps"]')


def test_from_place_wiring(monkeypatch):
    ox = pytest.importorskip("osmnx")
    calls = {}
    before = list(ox.settings.useful_tags_way)

    def fake_graph_from_place(query, **kwargs):
        calls["query"], calls["kwargs"] = query, kwargs
        calls["tags"] = list(ox.settings.useful_tags_way)
        G = nx.MultiDiGraph(crs="EPSG:4326")
        for n, x, y in ((1, 120.150, 30.250), (2, 120.152, 30.250), (3, 120.152, 30.252), (4, 120.151, 30.249)):
            G.add_node(n, x=x, y=y)
        G.add_node(5, x=120.151, y=30.251)
        # two-way streets come as two directed edges; 4-5 is a footbridge over 1-2
        for u, v, osmid, extra in ((1, 2, 10, {}), (2, 3, 11, {}), (4, 5, 12, {"bridge": "yes", "layer": "1"})):
            for a, b in ((u, v), (v, u)):
                G.add_edge(a, b, osmid=osmid, highway="footway", name="文二路", length=1.0, oneway=False, **extra)
        return G

    monkeypatch.setattr(ox, "graph_from_place", fake_graph_from_place)
    G = tz.network.from_place("西湖区, 杭州市")
    assert calls["query"] == "西湖区, 杭州市"
    assert calls["kwargs"] == {"network_type": "walk", "simplify": False, "retain_all": True}
    assert {"layer", "bridge", "tunnel"} <= set(calls["tags"])
    assert ox.settings.useful_tags_way == before  # restored
    check_contract(G)
    # one edge per way piece, and the footbridge does not join the street it crosses
    assert (G.number_of_nodes(), G.number_of_edges()) == (5, 3)
    assert {d["road_id"] for *_, d in G.edges(data=True)} == {10, 11, 12}
    assert G.graph["report"]["components_found"] == 2
    assert G.graph["crs"].to_epsg() == 4549


def _osmnx_walk_graph(ox, path):
    """osmnx's own unsimplified undirected graph of a file, filtered with osmnx's walk filter text.

    graph_from_xml applies no network filter, so the filter string osmnx sends to Overpass is
    evaluated here on each edge's way tags (kept by widening ``useful_tags_way``).
    """
    import re

    filt = ox._overpass._get_network_filter("walk")
    clauses = re.findall(r'\["([^"]+)"(?:(!~)"([^"]*)")?\]', filt)
    tags = sorted({k for k, *_ in clauses} | {"name"})
    old = ox.settings.useful_tags_way
    ox.settings.useful_tags_way = tags
    try:
        G = ox.graph_from_xml(path, simplify=False, retain_all=True, bidirectional=True)
    finally:
        ox.settings.useful_tags_way = old

    def passes(d):
        for key, op, value in clauses:
            have = d.get(key)
            if not op and have is None:
                return False
            if op and have is not None and re.search(value, have):
                return False
        return True

    G.remove_edges_from([(u, v, k) for u, v, k, d in G.edges(keys=True, data=True) if not passes(d)])
    G.remove_nodes_from([n for n in list(G) if G.degree(n) == 0])
    return ox.convert.to_undirected(G)


@pytest.mark.parametrize("name", ["West-Oakland.osm.bz2", "aguascalientes.osm.bz2"])
def test_from_osm_counts_equal_osmnx(shared_data, name):
    """Compared: nodes and edges of osmnx's unsimplified, undirected graph of the whole file
    (retain_all) after osmnx's walk filter, against ours with ``nodes="vertices"`` and no extra
    bridge rule (``exclude_on_structure=()``); also the number of connected pieces."""
    ox = pytest.importorskip("osmnx")
    path = shared_data(f"osm-extracts/{name}")
    theirs = _osmnx_walk_graph(ox, path)
    mine = tz.network.from_osm(path, nodes="vertices", exclude_on_structure=())
    assert mine.number_of_nodes() == theirs.number_of_nodes()
    assert mine.number_of_edges() == theirs.number_of_edges()
    assert mine.graph["report"]["components_found"] == nx.number_connected_components(theirs)
    # the way ids used are the same
    assert {d["road_id"] for *_, d in mine.edges(data=True)} == {d["osmid"] for *_, d in theirs.edges(data=True)}
    # junction mode has the same street length, and the same distances between junctions
    junctions = tz.network.from_osm(path, exclude_on_structure=())
    assert junctions.size(weight="length") == pytest.approx(mine.size(weight="length"), rel=1e-12)


def test_aguascalientes_pbf_equals_bz2(shared_data):
    pbf = tz.network.from_osm(shared_data("osm-extracts/aguascalientes.osm.pbf"))
    bz2 = tz.network.from_osm(shared_data("osm-extracts/aguascalientes.osm.bz2"))
    assert _signature(pbf) == _signature(bz2)


MOTOR_CLASSES = ("motorway", "trunk", "primary", "secondary", "tertiary")


@pytest.mark.parametrize("clip", ["yunqi", "yuhuangshan", "dream_town"])
def test_hangzhou_clips_lose_no_length(shared_data, clip):
    roads = gpd.read_file(shared_data(f"hangzhou/clip_{clip}_r2500m.gpkg"), layer="roads")
    G = tz.network.from_lines(roads)
    metric = tz.crs.to_metric(roads)
    cls = metric["fclass"].str.lower()
    on_structure = (metric["bridge"] == "T") | (metric["tunnel"] == "T")
    motor_tunnel = cls.str.replace("_link", "").isin(MOTOR_CLASSES) & (metric["tunnel"] == "T")
    walkable = ~cls.isin(tz.network.DEFAULT_EXCLUDE) & ~(cls.isin(["trunk", "trunk_link"]) & on_structure)
    dropped_tunnels = walkable & motor_tunnel
    walkable &= ~motor_tunnel
    assert G.size(weight="length") == pytest.approx(metric[walkable].length.sum(), rel=1e-9)
    rep = G.graph["report"]
    assert rep["length_m_dropped_by_reason"]["motor_road_tunnel"] == pytest.approx(
        metric[dropped_tunnels].length.sum(), rel=1e-9
    )
    assert G.graph["report"]["lines_used"] >= int(walkable.sum())
    check_contract(G)


def test_graph_internals_match_networkx_api(scene):
    """The graph is filled directly for speed: it must equal one built with add_edges_from."""
    roads = scene.roads.copy()
    roads.loc[len(roads)] = roads.iloc[-1]  # a footway digitised twice: parallel edges, keys 0 and 1
    G = tz.network.from_lines(roads)
    H = nx.MultiGraph()
    H.add_nodes_from(G.nodes(data=True))
    H.add_edges_from((u, v, d) for u, v, d in G.edges(data=True))
    H.graph.update(G.graph)
    assert nx.utils.graphs_equal(G, H)
    assert sorted(G.edges(keys=True)) == sorted(H.edges(keys=True))
    assert max(k for *_, k in G.edges(keys=True)) == 1
    assert G.number_of_edges() == SAMPLE_EDGES + 2


def test_unreadable_layer_taken_as_ground_and_reported():
    roads = lines([{"coords": [(0, 0), (100, 0)], "layer": "1;2"}, {"coords": [(50, -50), (50, 50)], "layer": None}])
    G = tz.network.from_lines(roads)
    assert G.graph["report"]["layer_unreadable"] == 1
    assert (G.number_of_nodes(), G.number_of_edges()) == (5, 4)  # both on level 0: they cross


def test_lines_shorter_than_tolerance_reported():
    roads = lines([{"coords": [(0, 0), (100, 0)]}, {"coords": [(500, 0), (500.0002, 0)]}])
    G = tz.network.from_lines(roads)
    assert G.graph["report"]["invalid_geometries"] == {"shorter than tolerance": [1]}
    assert G.number_of_edges() == 1
    with pytest.raises(NetworkDataError, match="shorter than tolerance"):
        tz.network.from_lines(roads.iloc[[1]])


polyline = st.lists(st.tuples(coord, coord), min_size=2, max_size=5, unique=True)


@settings(max_examples=30, deadline=None)
@given(st.lists(polyline, min_size=1, max_size=6), st.lists(segment, min_size=1, max_size=4))
def test_bridges_split_only_where_other_lines_end(ground, bridges):
    """Oracle: a bridge is cut only at its own ends and where another line's end lies on it (``"crossings"``)."""
    ground_geoms = [LineString(c) for c in ground]
    bridge_geoms = [LineString([(a, b), (c, d)]) for a, b, c, d in bridges]
    geoms = ground_geoms + bridge_geoms
    gdf = gpd.GeoDataFrame(
        {"bridge": ["F"] * len(ground_geoms) + ["T"] * len(bridge_geoms), "road_id": range(len(geoms))},
        geometry=geoms,
        crs="EPSG:4549",
    )
    gdf = gdf[gdf.length > 0]
    G = tz.network.from_lines(gdf, junctions="crossings")  # under "shared" ends join only on vertices
    check_contract(G)
    pieces = Counter(d["road_id"] for *_, d in G.edges(data=True))
    for i, bridge in enumerate(bridge_geoms, start=len(ground_geoms)):
        if i not in gdf.index:
            continue
        other_ends = {p for j, g in enumerate(geoms) if j != i and j in gdf.index for p in (g.coords[0], g.coords[-1])}
        inner = {p for p in other_ends if bridge.distance(shapely.Point(p)) < 1e-9} - {
            bridge.coords[0],
            bridge.coords[-1],
        }
        assert pieces[i] == 1 + len(inner)
    # no walk is shorter than the straight line between its ends
    nodes = list(G.nodes)
    lengths = nx.single_source_dijkstra_path_length(G, nodes[0], weight="length")
    x0, y0 = G.nodes[nodes[0]]["x"], G.nodes[nodes[0]]["y"]
    for n, d in lengths.items():
        assert d >= math.hypot(G.nodes[n]["x"] - x0, G.nodes[n]["y"] - y0) - 1e-9


@settings(max_examples=30, deadline=None)
@given(st.lists(polyline, min_size=1, max_size=6))
@example([[(10, 0), (130, 100)], [(0, 10), (140, 90), (70, 50), (0, 0)]])  # self-overlap: skipped
def test_vertices_mode_keeps_junction_distances(polys):
    geoms = [LineString(c) for c in polys]
    # a line that runs back over itself (collinear overlap, e.g. (0,10)→(140,90)→(70,50)) is a
    # digitising error whose pieces the two modes node differently; the property is about real streets
    assume(all(abs(g.length - shapely.union_all([g]).length) < 1e-6 for g in geoms))
    gdf = gpd.GeoDataFrame(geometry=geoms, crs="EPSG:4549")
    gdf = gdf[gdf.length > 0]
    J = tz.network.from_lines(gdf)
    V = tz.network.from_lines(gdf, nodes="vertices")
    check_contract(V)
    assert V.size(weight="length") == pytest.approx(J.size(weight="length"), rel=1e-9)
    assert V.number_of_nodes() >= J.number_of_nodes()
    # every junction node is also a vertex node, and walking distances between them agree
    at = {(round(d["x"], 6), round(d["y"], 6)): n for n, d in V.nodes(data=True)}
    source = next(iter(J.nodes))
    dj = nx.single_source_dijkstra_path_length(J, source, weight="length")
    key = (round(J.nodes[source]["x"], 6), round(J.nodes[source]["y"], 6))
    dv = nx.single_source_dijkstra_path_length(V, at[key], weight="length")
    for n, d in dj.items():
        other = at[(round(J.nodes[n]["x"], 6), round(J.nodes[n]["y"], 6))]
        assert dv[other] == pytest.approx(d, abs=1e-6)


# ----------------------------------------------------------------------------- junctions
def _noded_grid(n: int = 4, step: float = 100.0) -> list[dict]:
    """An n x n grid of junctions, every street split at every junction (as OSM ways often are)."""
    rows = []
    for i in range(n):
        for k in range(n - 1):
            rows.append({"coords": [(k * step, i * step), ((k + 1) * step, i * step)], "fclass": "residential"})
            rows.append({"coords": [(i * step, k * step), (i * step, (k + 1) * step)], "fclass": "residential"})
    return rows


def _unnoded_grid(n: int = 4, step: float = 100.0) -> list[dict]:
    """The same grid drawn as unbroken streets crossing each other without vertices."""
    end = (n - 1) * step
    rows = [{"coords": [(0, i * step), (end, i * step)], "fclass": "residential"} for i in range(n)]
    rows += [{"coords": [(i * step, 0), (i * step, end)], "fclass": "residential"} for i in range(n)]
    return rows


# the extra line: y = 150 from x = -50 to 350, crossing the four columns mid-block without vertices
EXTRA = {"coords": [(-50, 150), (350, 150)], "fclass": "residential"}


def test_noded_grid_extra_line_not_joined_under_auto():
    roads = lines([*_noded_grid(), dict(EXTRA)])
    G = tz.network.from_lines(roads)
    rep = G.graph["report"]
    # hand count: 16 grid junctions are shared vertices; the extra line crosses 4 streets without one
    assert rep["junctions"] == "shared"
    assert rep["junctions_requested"] == "auto"
    assert rep["meeting_points"] == {"shared_vertex": 16, "line_end": 0, "crossing_without_vertex": 4}
    assert rep["unjoined_crossings"] == 4
    assert sorted(rep["unjoined_crossing_points"]) == [(x, 150.0) for x in (0.0, 100.0, 200.0, 300.0)]
    # 16 grid nodes + the extra line's 2 ends; 24 grid edges + the extra line
    assert (G.number_of_nodes(), G.number_of_edges()) == (18, 25)
    assert nx.number_connected_components(G) == 2
    check_contract(G)
    # the same data under "shared" gives the same graph
    S = tz.network.from_lines(roads, junctions="shared")
    assert _signature(S) == _signature(G)


def test_noded_grid_extra_line_joined_under_crossings():
    roads = lines([*_noded_grid(), dict(EXTRA)])
    G = tz.network.from_lines(roads, junctions="crossings")
    rep = G.graph["report"]
    assert rep["junctions"] == "crossings"
    assert rep["unjoined_crossings"] == 0
    # 4 new junctions split the extra line into 5 pieces and 4 grid streets into 2 each
    assert (G.number_of_nodes(), G.number_of_edges()) == (22, 24 + 5 + 4)
    assert nx.number_connected_components(G) == 1
    # hand: from the extra line's west end 50 m east to x = 0, then 150 m south to the corner
    assert dist(G, (-50, 150), (0, 0), local=False) == pytest.approx(200.0)
    assert dist(G, (-50, 150), (300, 300), local=False) == pytest.approx(50 + 300 + 150)


def test_unnoded_grid_joined_under_auto():
    roads = lines(_unnoded_grid())
    G = tz.network.from_lines(roads)
    rep = G.graph["report"]
    # 4 corners where two lines end (shared vertices), 8 line ends on another line, 4 inner crossings
    assert rep["meeting_points"] == {"shared_vertex": 4, "line_end": 8, "crossing_without_vertex": 4}
    assert rep["junctions"] == "crossings"
    assert rep["unjoined_crossings"] == 0
    assert (G.number_of_nodes(), G.number_of_edges()) == (16, 24)
    assert dist(G, (0, 0), (300, 300), local=False) == pytest.approx(600.0)
    assert dist(G, (100, 100), (200, 200), local=False) == pytest.approx(200.0)
    # under "shared" only the corners join: each street stays one edge, the grid a ring of four
    S = tz.network.from_lines(roads, junctions="shared")
    assert S.graph["report"]["unjoined_crossings"] == 4
    assert S.graph["report"]["unjoined_line_ends"] == 8
    assert (S.number_of_nodes(), S.number_of_edges()) == (12, 8)


def test_junctions_option_checked():
    with pytest.raises(OptionError, match="junctions='nodes' is not understood; use one of 'auto', 'shared'"):
        tz.network.from_lines(lines(_unnoded_grid()), junctions="nodes")


def test_shared_vertex_between_two_tunnels_of_one_layer_joins():
    # two passages of one underground network share an interior vertex (a node in OSM)
    passage = [(0, 0), (50, 0), (100, 0)]
    other = [(50, -50), (50, 0), (50, 50)]
    same = lines(
        [
            {"coords": passage, "fclass": "footway", "tunnel": "yes", "layer": -1},
            {"coords": other, "fclass": "footway", "tunnel": "yes", "layer": -1},
        ]
    )
    G = tz.network.from_lines(same)
    assert (G.number_of_nodes(), G.number_of_edges()) == (5, 4)
    assert G.graph["report"]["structure_junctions"] == 1
    assert G.graph["report"]["level_shared_vertices_not_joined"] == []
    # different layers, or a tunnel and a bridge: apart, and listed for review
    for extra in ({"tunnel": "yes", "layer": -2}, {"bridge": "yes", "layer": -1}):
        apart = lines(
            [
                {"coords": passage, "fclass": "footway", "tunnel": "yes", "layer": -1},
                {"coords": other, "fclass": "footway", **extra},
            ]
        )
        H = tz.network.from_lines(apart)
        assert (H.number_of_nodes(), H.number_of_edges()) == (4, 2)
        assert H.graph["report"]["level_shared_vertices_not_joined"] == [(50.0, 0.0)]


def test_line_through_its_own_vertex_is_split_there():
    # a lollipop: the line ends on one of its own vertices (as an OSM way revisiting a node)
    roads = lines([{"coords": [(0, 0), (10, 0), (20, 0), (20, 10), (10, 10), (10, 0)]}])
    G = tz.network.from_lines(roads)
    assert (G.number_of_nodes(), G.number_of_edges()) == (2, 2)
    assert sorted(round(d["length"], 9) for *_, d in G.edges(data=True)) == [10.0, 40.0]
    assert dist(G, (0, 0), (10, 0), local=False) == pytest.approx(10.0)


OSM_CROSSING_XML = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="tongzhen_gis tests">
  <node id="1" lat="30.2500" lon="120.1500" version="1"/>
  <node id="2" lat="30.2500" lon="120.1520" version="1"/>
  <node id="3" lat="30.2490" lon="120.1510" version="1"/>
  <node id="4" lat="30.2510" lon="120.1510" version="1"/>
  <node id="5" lat="30.2500" lon="120.1540" version="1"/>
  <node id="6" lat="30.2520" lon="120.1540" version="1"/>
  <way id="20" version="1"><nd ref="1"/><nd ref="2"/><nd ref="5"/>
    <tag k="highway" v="residential"/></way>
  <way id="21" version="1"><nd ref="3"/><nd ref="4"/>
    <tag k="highway" v="residential"/></way>
  <way id="22" version="1"><nd ref="5"/><nd ref="6"/>
    <tag k="highway" v="residential"/></way>
</osm>
"""


def test_from_osm_joins_at_shared_nodes_only(tmp_path):
    # way 21 crosses way 20 between nodes 1 and 2 without a shared node; way 22 starts at node 5
    path = tmp_path / "crossing.osm"
    path.write_text(OSM_CROSSING_XML, encoding="utf-8")
    G = tz.network.from_osm(path)
    rep = G.graph["report"]
    assert rep["junctions"] == "shared"
    assert rep["unjoined_crossings"] == 1
    assert rep["osm"]["duplicate_node_positions"] == 0
    assert nx.number_connected_components(G) == 2  # {20, 22} and {21}
    assert (G.number_of_nodes(), G.number_of_edges()) == (5, 3)
    C = tz.network.from_osm(path, junctions="crossings")
    assert nx.number_connected_components(C) == 1
    assert C.graph["report"]["unjoined_crossings"] == 0


# ----------------------------------------------------------------------------- walkability
def _tunnel_scene(**tunnel_tags) -> gpd.GeoDataFrame:
    """Homes at P = (0, 0) and Q = (0, 300): by the streets 1000 + 300 + 1000 m apart, by a 300 m tunnel."""
    return lines(
        [
            {"coords": [(0, 0), (1000, 0)], "fclass": "residential", "tunnel": "F"},
            {"coords": [(1000, 0), (1000, 300)], "fclass": "residential", "tunnel": "F"},
            {"coords": [(1000, 300), (0, 300)], "fclass": "residential", "tunnel": "F"},
            {"coords": [(0, 0), (0, 300)], "fclass": "primary", "tunnel": "T", "name": "隧道", **tunnel_tags},
        ]
    )


def test_motor_road_tunnel_carries_no_pedestrians():
    G = tz.network.from_lines(_tunnel_scene())
    assert dist(G, (0, 0), (0, 300), local=False) == pytest.approx(2300.0)
    rep = G.graph["report"]
    assert rep["dropped_by_rule"] == {"motor_road_tunnel": {"primary": 1}}
    assert rep["length_m_dropped_by_reason"]["motor_road_tunnel"] == pytest.approx(300.0)
    assert rep["length_m_dropped_by_reason"]["class"] == 0.0
    assert "隧道" not in {d.get("name") for *_, d in G.edges(data=True)}
    # no rule: the tunnel is the 300 m shortcut
    K = tz.network.from_lines(_tunnel_scene(), walkability=None)
    assert dist(K, (0, 0), (0, 300), local=False) == pytest.approx(300.0)
    assert "motor_road_tunnel" not in K.graph["report"]["length_m_dropped_by_reason"]


@pytest.mark.parametrize(
    ("tags", "walkable"),
    [
        ({"foot": "yes"}, True),
        ({"foot": "designated"}, True),
        ({"sidewalk": "both"}, True),
        ({"sidewalk:left": "yes"}, True),
        ({"sidewalk": "no"}, False),
        ({"sidewalk": "separate"}, False),  # the footway is its own line: the road still is not walked
        ({"foot": "no"}, False),
        ({"fclass": "residential"}, True),  # a street underpass, not a motor road
        ({"fclass": "tertiary_link"}, False),
        ({"fclass": "Secondary"}, False),  # classes compare case-insensitively
        ({"tunnel": "building_passage"}, True),
        ({"tunnel": "F"}, True),
    ],
)
def test_tunnel_rule_reads_foot_and_sidewalk_tags(tags, walkable):
    G = tz.network.from_lines(_tunnel_scene(**tags))
    assert dist(G, (0, 0), (0, 300), local=False) == pytest.approx(300.0 if walkable else 2300.0)


def test_walkability_rules_configurable(tmp_path):
    # a reviewer's rule: footbridges closed; the tunnel rule then no longer applies
    rules = {"closed_footbridge": {"classes": ["residential"], "structure": "bridge"}}
    roads = _tunnel_scene().assign(bridge=["F", "F", "T", "F"])
    G = tz.network.from_lines(roads, walkability=rules)
    rep = G.graph["report"]
    assert rep["dropped_by_rule"] == {"closed_footbridge": {"residential": 1}}
    assert rep["length_m_dropped_by_reason"]["closed_footbridge"] == pytest.approx(1000.0)
    assert dist(G, (0, 0), (0, 300), local=False) == pytest.approx(300.0)  # through the tunnel
    toml = tmp_path / "walk.toml"
    toml.write_text('[no_pedestrians.all_tunnels]\nclasses = ["primary"]\nstructure = "tunnel"\n', encoding="utf-8")
    H = tz.network.from_lines(_tunnel_scene(foot="yes"), walkability=toml)
    assert H.graph["report"]["dropped_by_rule"] == {"all_tunnels": {"primary": 1}}
    with pytest.raises(RuleDataError, match="'structure' must be 'tunnel' or 'bridge'"):
        tz.network.from_lines(_tunnel_scene(), walkability={"x": {"classes": ["primary"], "structure": "roof"}})
    with pytest.raises(RuleDataError, match="needs 'classes'"):
        tz.network.from_lines(_tunnel_scene(), walkability={"x": {"structure": "tunnel"}})


def test_walkability_rule_file_has_its_source():
    rule = tz.rules.load("walkability")["no_pedestrians"]["motor_road_tunnel"]
    assert rule["structure"] == "tunnel"
    assert {"primary", "tertiary_link", "motorway"} <= set(rule["classes"])
    assert rule["source"]["document"] and rule["source"]["clause"] and rule["source"]["reasoning"]
    assert rule["source"]["confirmed"] is False


def test_from_osm_tunnel_tags(tmp_path):
    xml = OSM_CROSSING_XML.replace(
        '<way id="22" version="1"><nd ref="5"/><nd ref="6"/>\n    <tag k="highway" v="residential"/></way>',
        '<way id="22" version="1"><nd ref="5"/><nd ref="6"/>\n    <tag k="highway" v="primary"/>'
        '<tag k="tunnel" v="yes"/><tag k="layer" v="-1"/></way>\n'
        '  <way id="23" version="1"><nd ref="6"/><nd ref="4"/>\n    <tag k="highway" v="secondary"/>'
        '<tag k="tunnel" v="yes"/><tag k="sidewalk" v="right"/></way>',
    )
    path = tmp_path / "tunnel.osm"
    path.write_text(xml, encoding="utf-8")
    G = tz.network.from_osm(path)
    assert {d["road_id"] for *_, d in G.edges(data=True)} == {20, 21, 23}
    assert G.graph["report"]["dropped_by_rule"] == {"motor_road_tunnel": {"primary": 1}}


# ----------------------------------------------------------------------------- real data
def _osm_node_graph(path, crs) -> nx.Graph:
    """Independent oracle: OSM node ids joined by the ways' consecutive nodes (pyosmium + networkx).

    The ways are filtered with osmnx's walk filter text. Distinct nodes at exactly one position
    (a "duplicated nodes" error, which JOSM's validator fixes by merging them) are merged.
    """
    import re

    osmium = pytest.importorskip("osmium")
    ox = pytest.importorskip("osmnx")
    from pyproj import Transformer

    clauses = re.findall(r'\["([^"]+)"(?:(!~)"([^"]*)")?\]', ox._overpass._get_network_filter("walk"))

    def passes(tags):
        for key, op, value in clauses:
            have = tags.get(key)
            if (not op and have is None) or (op and have is not None and re.search(value, have)):
                return False
        return True

    to_metric = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    first_at: dict = {}
    H = nx.Graph()
    for way in osmium.FileProcessor(str(path)).with_locations().with_filter(osmium.filter.KeyFilter("highway")):
        if not way.is_way() or not passes({t.k: t.v for t in way.tags}):
            continue
        refs = [n for n in way.nodes if n.location.valid()]
        ids = [first_at.setdefault((n.location.x, n.location.y), n.ref) for n in refs]
        x, y = to_metric.transform([n.lon for n in refs], [n.lat for n in refs])
        for i in range(len(ids) - 1):
            if ids[i] == ids[i + 1]:
                continue
            length = math.hypot(x[i + 1] - x[i], y[i + 1] - y[i])
            if not H.has_edge(ids[i], ids[i + 1]) or H[ids[i]][ids[i + 1]]["length"] > length:
                H.add_edge(ids[i], ids[i + 1], length=length)
            H.nodes[ids[i]]["xy"] = (x[i], y[i])
            H.nodes[ids[i + 1]]["xy"] = (x[i + 1], y[i + 1])
    return H


@pytest.mark.shared_data
@pytest.mark.parametrize("name", ["West-Oakland.osm.bz2", "aguascalientes.osm.pbf", "test.osm.pbf", "Helsinki.osm.pbf"])
def test_from_osm_distances_equal_osm_node_topology(shared_data, name):
    """Walking distances from 25 junctions to everything within 3 km, against the OSM-node graph.

    Both graphs use osmnx's walk filter and no extra structure or walkability rule, so only the
    topology differs: ours from node positions and levels, the oracle's from node ids.
    """
    path = shared_data(f"osm-extracts/{name}")
    G = tz.network.from_osm(path, exclude_on_structure=(), walkability=None)
    H = _osm_node_graph(path, G.graph["crs"])
    at = {(round(d["xy"][0], 3), round(d["xy"][1], 3)): n for n, d in H.nodes(data=True)}
    osm_id = {n: at[(round(d["x"], 3), round(d["y"], 3))] for n, d in G.nodes(data=True)}
    node_of = {o: n for n, o in osm_id.items()}
    assert len(node_of) == G.number_of_nodes()  # every graph node is one OSM node
    assert nx.number_connected_components(G) == nx.number_connected_components(H)
    rng = np.random.default_rng(0)
    compared = 0
    for source in rng.choice(list(G.nodes), size=min(25, G.number_of_nodes()), replace=False).tolist():
        mine = nx.single_source_dijkstra_path_length(G, source, weight="length", cutoff=3000)
        theirs = nx.single_source_dijkstra_path_length(H, osm_id[source], weight="length", cutoff=3020)
        for node, d in mine.items():
            assert d == pytest.approx(theirs[osm_id[node]], abs=1 + 0.003 * d)
            compared += 1
        # and every junction the oracle reaches within 3 km is reached in ours, as far
        for osm_node, d in theirs.items():
            if osm_node in node_of and d <= 2990:
                assert mine[node_of[osm_node]] == pytest.approx(d, abs=1 + 0.003 * d)
    assert compared > 50


@pytest.mark.shared_data
def test_hangzhou_roads_tunnels_dropped_and_crossings_counted(shared_data):
    """The Hangzhou OSM layer is noded: auto keeps crossings without a shared node apart.

    Oracles: the primary-to-tertiary tunnel length summed with pandas, 庆春隧道 by name, and the
    unjoined crossings counted pair by pair with plain shapely on the 玉皇山南 clip.
    """
    roads = gpd.read_file(shared_data("hangzhou/hangzhou_osm_roads.gpkg"), layer="roads")
    G = tz.network.from_lines(roads)
    rep = G.graph["report"]
    assert rep["junctions"] == "shared"
    assert rep["unjoined_crossings"] == len(rep["unjoined_crossing_points"]) > 0
    metric = tz.crs.to_metric(roads)
    cls = metric["fclass"].str.lower().str.replace("_link", "")
    tunnels = metric[(metric["tunnel"] == "T") & cls.isin(["primary", "secondary", "tertiary"])]
    assert rep["length_m_dropped_by_reason"]["motor_road_tunnel"] == pytest.approx(tunnels.length.sum(), rel=1e-9)
    # 庆春隧道 under the Qiantang: its two tunnel bores are dropped, its open approaches kept
    qingchun = metric[metric["name"] == "庆春隧道"]
    bores, approaches = set(qingchun.loc[qingchun["tunnel"] == "T", "osm_id"]), set(qingchun["osm_id"])
    approaches -= bores
    assert len(bores) == 2 and len(approaches) == 2
    used = {d["road_id"] for *_, d in G.edges(data=True)}
    assert not bores & used
    assert approaches <= used


@pytest.mark.shared_data
def test_yuhuangshan_unjoined_crossings_pair_by_pair(shared_data):
    roads = gpd.read_file(shared_data("hangzhou/clip_yuhuangshan_r2500m.gpkg"), layer="roads")
    G = tz.network.from_lines(roads, walkability=None)
    rep = G.graph["report"]
    metric = tz.crs.to_metric(roads)
    cls = metric["fclass"].str.lower()
    structure = (metric["bridge"] == "T") | (metric["tunnel"] == "T")
    used = metric[~cls.isin(tz.network.DEFAULT_EXCLUDE) & ~(cls.isin(["trunk", "trunk_link"]) & structure)]
    ground = used[~((used["bridge"] == "T") | (used["tunnel"] == "T"))].explode(ignore_index=True)
    expected = set()
    geoms, layers = list(ground.geometry), pd.to_numeric(ground["layer"], errors="coerce").fillna(0).tolist()
    for i, a in enumerate(geoms):
        for j in range(i + 1, len(geoms)):
            b = geoms[j]
            if layers[i] != layers[j] or not a.intersects(b):
                continue
            for p in shapely.get_parts(shapely.extract_unique_points(a.intersection(b))):
                if shapely.Point(p).distance(shapely.MultiPoint(a.coords)) > 1e-3 or (
                    shapely.Point(p).distance(shapely.MultiPoint(b.coords)) > 1e-3
                ):
                    expected.add((round(p.x, 4), round(p.y, 4)))
    assert rep["junctions"] == "shared"
    reported = np.array(rep["unjoined_crossing_points"])
    assert len(reported) == len(expected) > 0
    for x, y in expected:
        assert np.hypot(reported[:, 0] - x, reported[:, 1] - y).min() < 2e-3


@settings(max_examples=30, deadline=None)
@given(st.lists(segment, min_size=2, max_size=10))
def test_crossings_only_add_junctions(segs):
    """Invariant: "crossings" joins everything "shared" joins, so no walk gets longer."""
    gdf = gpd.GeoDataFrame(geometry=[LineString([(a, b), (c, d)]) for a, b, c, d in segs], crs="EPSG:4549")
    S = tz.network.from_lines(gdf, junctions="shared")
    C = tz.network.from_lines(gdf, junctions="crossings")
    rep = S.graph["report"]
    assert rep["unjoined_crossings"] == rep["meeting_points"]["crossing_without_vertex"]
    assert C.graph["report"]["unjoined_crossings"] == 0
    assert C.size(weight="length") == pytest.approx(S.size(weight="length"), rel=1e-9)
    at = {(round(d["x"], 6), round(d["y"], 6)): n for n, d in C.nodes(data=True)}
    source = next(iter(S.nodes))
    key = (round(S.nodes[source]["x"], 6), round(S.nodes[source]["y"], 6))
    ds = nx.single_source_dijkstra_path_length(S, source, weight="length")
    dc = nx.single_source_dijkstra_path_length(C, at[key], weight="length")
    for n, d in ds.items():
        other = at[(round(S.nodes[n]["x"], 6), round(S.nodes[n]["y"], 6))]
        assert dc[other] <= d + 1e-6
