"""Distances to polygon facilities (a park, a school compound): a real walk, never a shortcut.

Oracles: hand-computed distances on one-street scenes, and networkx's Dijkstra on the street
graph augmented with the entry points: every end of a stretch of street within ``touch_m`` of
the polygon, and every home's snap point that lies on such a stretch, each joined to the
facility by its straight leg. Invariant (hypothesis): no distance is shorter than the straight
line from the home to the polygon.
"""

from __future__ import annotations

import itertools
import math

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import LineString, Point, Polygon
from shapely.ops import substring

import tongzhen_gis as tz

CRS = "EPSG:4549"
TOUCH_M = 15.0


def _street(*coords: tuple[float, float]) -> nx.MultiGraph:
    roads = gpd.GeoDataFrame({"fclass": ["residential"]}, geometry=[LineString(coords)], crs=CRS)
    return tz.network.from_lines(roads)


def _facility(geom, category: str = "park") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"category": [category]}, geometry=[geom], crs=CRS)


def _homes(*xy: tuple[float, float]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=[Point(x, y) for x, y in xy], crs=CRS)


# ---------------------------------------------------------------------------- by hand
def test_street_ending_at_the_park_edge_gives_the_street_length():
    # a 1000 m street whose far end touches the park: 1000 m, not 985 m (the last 15 m are walked)
    G = _street((0, 0), (1000, 0))
    park = _facility(shapely.box(1000, -50, 1100, 50))
    d = tz.access.nearest(G, _homes((0, 0), (400, 0), (990, 0)), park)
    assert d["park"].tolist() == pytest.approx([1000.0, 600.0, 10.0], abs=1e-9)


def test_street_passing_the_park_at_a_distance():
    # the street runs 10 m south of the park (x from 300 to 400): the frontage starts 15 m from the
    # corner (300, 10), at x = 300 - sqrt(15² - 10²), where the straight leg is 15 m
    G = _street((0, 0), (1000, 0))
    park = _facility(shapely.box(300, 10, 400, 100))
    d = tz.access.nearest(G, _homes((0, 0), (350, 0), (1000, 0), (350, -20)), park)
    first = 300 - math.sqrt(15**2 - 10**2)
    expected = [first + 15, 10.0, (1000 - 400 - math.sqrt(15**2 - 10**2)) + 15, 20 + 10]
    assert d["park"].tolist() == pytest.approx(expected, abs=0.01)  # buffer ends within a centimetre


def test_street_through_the_park():
    G = _street((0, 0), (1000, 0))
    park = _facility(shapely.box(500, -50, 600, 50))
    d = tz.access.nearest(G, _homes((0, 0), (550, 0), (1000, 0)), park)
    assert d["park"].tolist() == pytest.approx([500.0, 0.0, 400.0], abs=1e-9)


def test_service_area_reaches_the_walked_distance_only():
    # 300 m of walking from the park at the end of the street: the street is reached 300 m back from its end
    G = _street((0, 0), (1000, 0))
    park = _facility(shapely.box(1000, -50, 1100, 50))
    areas = tz.access.service_areas(G, park, thresholds_m=[300], categories=["park"], max_width_m=1)
    assert areas.iloc[0]["street_m"] == pytest.approx(300.0, abs=1e-6)


# ---------------------------------------------------------------------------- networkx oracle
def _frontages(G: nx.MultiGraph, polygon) -> dict[tuple, list[tuple[float, float]]]:
    """Stretches of each edge within TOUCH_M of the polygon, as (from, to) metres along the edge geometry."""
    zone = polygon.buffer(TOUCH_M, quad_segs=32)
    out: dict[tuple, list[tuple[float, float]]] = {}
    for u, v, k, d in G.edges(keys=True, data=True):
        geom = d["geometry"]
        for piece in shapely.get_parts(shapely.line_merge(shapely.intersection(geom, zone))):
            if piece.is_empty or piece.geom_type != "LineString":
                continue
            ends = sorted(geom.project(Point(c)) for c in (piece.coords[0], piece.coords[-1]))
            out.setdefault((u, v, k), []).append((ends[0], ends[1]))
    return out


def _oracle(G: nx.MultiGraph, polygon, homes: gpd.GeoDataFrame) -> list[float]:
    """Distances from each home to the polygon on the graph augmented with the entry points."""
    frontage = _frontages(G, polygon)
    edges = list(G.edges(keys=True, data=True))
    geoms = [d["geometry"] for *_, d in edges]
    cuts: dict[int, list[tuple[float, object]]] = {}  # edge -> [(metres along, label)]
    legs: dict[object, float] = {}
    for i, (u, v, k, d) in enumerate(edges):
        for a, b in frontage.get((u, v, k), []):
            for s in (a, b):
                label = ("entry", i, s)
                cuts.setdefault(i, []).append((s, label))
                legs[label] = d["geometry"].interpolate(s).distance(polygon)
    home_node = []
    for j, p in enumerate(homes.geometry):
        i = int(np.argmin([g.distance(p) for g in geoms]))
        s = geoms[i].project(p)
        label = ("home", j)
        cuts.setdefault(i, []).append((s, label))
        home_node.append((label, geoms[i].distance(p)))
        u, v, k, _ = edges[i]
        if any(a <= s <= b for a, b in frontage.get((u, v, k), [])):
            legs[label] = geoms[i].interpolate(s).distance(polygon)
    H = nx.Graph()
    for i, (u, v, _, d) in enumerate(edges):
        geom = d["geometry"]
        start = u if Point(geom.coords[0]).distance(Point(G.nodes[u]["x"], G.nodes[u]["y"])) < 1e-9 else v
        end = v if start == u else u
        stops = [(0.0, start), *sorted(cuts.get(i, []), key=lambda t: t[0]), (geom.length, end)]
        for (s0, n0), (s1, n1) in itertools.pairwise(stops):
            w = substring(geom, s0, s1).length
            if not H.has_edge(n0, n1) or H[n0][n1]["weight"] > w:
                H.add_edge(n0, n1, weight=w)
    for label, leg in legs.items():
        H.add_edge(label, "FACILITY", weight=leg)
    dist = nx.single_source_dijkstra_path_length(H, "FACILITY", weight="weight")
    return [dist.get(label, math.inf) + leg for label, leg in home_node]


PARKS = {
    "beside a street": shapely.box(310, 260, 420, 400),
    "at a dead end": shapely.box(1040, 480, 1120, 560),
    "round a corner": Polygon([(1510, 760), (1600, 760), (1600, 850)]),
    "across a street": shapely.box(2040, 100, 2160, 420),
}


@pytest.mark.parametrize("name", list(PARKS))
def test_polygon_distances_equal_networkx_with_entry_points(name):
    scene = tz.samples.sample_town()
    G = tz.network.from_lines(scene.roads)
    ox, oy = tz.samples.ORIGIN
    polygon = shapely.affinity.translate(PARKS[name], ox, oy)
    rng = np.random.default_rng(1)
    extra = _homes(*[(ox + x, oy + y) for x, y in rng.uniform(0, 2500, size=(40, 2))])
    homes = gpd.GeoDataFrame(geometry=[*scene.homes.geometry, *extra.geometry], crs=scene.homes.crs)
    d = tz.access.nearest(G, homes, _facility(polygon), max_distance_m=10_000, max_snap_m=10_000)
    expected = _oracle(G, polygon, homes)
    assert np.isfinite(expected).all()
    # (the entry points are found on the same polygonised buffer: equal to a micrometre)
    assert d["park"].to_numpy() == pytest.approx(expected, abs=1e-6)
    straight = homes.distance(polygon).to_numpy()
    assert (d["park"].to_numpy() >= straight - 1e-9).all()


# ---------------------------------------------------------------------------- invariant
_SAMPLE = tz.samples.sample_town()
_NET = tz.access.prepare(tz.network.from_lines(_SAMPLE.roads))


@settings(max_examples=40, deadline=None)
@given(
    st.floats(0, 4000),
    st.floats(0, 1000),
    st.floats(5, 300),
    st.floats(5, 300),
    st.lists(st.tuples(st.floats(0, 4300), st.floats(-100, 1100)), min_size=1, max_size=8),
)
def test_no_distance_shorter_than_the_straight_line(x, y, w, h, homes_xy):
    ox, oy = tz.samples.ORIGIN
    polygon = shapely.box(ox + x, oy + y, ox + x + w, oy + y + h)
    homes = _homes(*[(ox + hx, oy + hy) for hx, hy in homes_xy])
    d = tz.access.nearest(_NET, homes, _facility(polygon), max_distance_m=20_000, max_snap_m=10_000)
    reached = d["park"].notna().to_numpy()
    straight = homes.distance(polygon).to_numpy()
    assert (d["park"].to_numpy()[reached] >= straight[reached] - 1e-9).all()
