"""A generated sample town whose every figure can be checked by hand.

:func:`sample_town` builds three characteristic towns near Hangzhou in CGCS2000 / 3-degree
Gauss-Krüger CM 120°E (EPSG:4549). All geometry is axis-aligned rectangles and straight
roads, so overlaps, floor-area ratios and walking distances can be worked out on paper.
Coordinates below are *local*: the scene adds ``ORIGIN`` = (520 000, 3 350 000) to every x
and y (about 120.21°E, 30.27°N).

Layers and the figures they are built to produce
------------------------------------------------
Towns (``town_id``, ``name_zh``, ``category``, ``district``)

====  ==============  =============  ==========================  ============
id    name            category       local extent (x, y in m)     area_m2
====  ==============  =============  ==========================  ============
T1    云溪数智小镇     digital        0–1000 × 0–1000              1 000 000
T2    青山文旅小镇     tourism        1500–2500 × 0–1000           1 000 000
T3    桑田智造小镇     manufacturing  3000–4200 × 0–1000           1 200 000
====  ==============  =============  ==========================  ============

Control lines (``BSM`` is the feature id)

* ``red_line`` (生态保护红线): STBHHX001 = 2400–2600 × 0–1000; STBHHX002 = 2450–2700 ×
  500–1500 (overlaps STBHHX001 on purpose); STBHHX003 = a two-part MultiPolygon far east.
* ``farmland`` (永久基本农田): YJJBNT001 = 4000–4500 × 0–600; YJJBNT002 = 300–700 ×
  1050–1150 (inside a hole of the urban boundary); YJJBNT003 = a two-part MultiPolygon far
  east; YJJBNT004 = 4100–4300 × 0–300 (overlaps YJJBNT001 on purpose).
* ``urban_boundary`` (城镇开发边界): CZKFBJ001, one MultiPolygon: part A = −200–2400 ×
  −200–1200 with a hole 300–700 × 1050–1150; part B = 2700–3900 × −200–1200.

Expected control-line figures (union of each layer, never double counted):

====  ===========  ==============  ==================  ===================  ========
id    red_line_m2  farmland_m2     outside_boundary_m2  conflicts (per src)  verdict
====  ===========  ==============  ==================  ===================  ========
T1    0            0               0                   none                 pass
T2    100 000      0               100 000             STBHHX001 100 000;   conflict
                                                       STBHHX002 25 000;
                                                       outside 100 000
T3    0            120 000         300 000             YJJBNT001 120 000;   conflict
                                                       YJJBNT004 30 000;
                                                       outside 300 000
====  ===========  ==============  ==================  ===================  ========

Shares: T2 red line 0.10, outside 0.10; T3 farmland 0.10, outside 0.25. In 亩
(1 亩 = 10000/15 m²): 100 000 m² = 150 亩, 120 000 m² = 180 亩, 300 000 m² = 450 亩.

Land-use parcels (``parcel_id``, ``landuse_code`` as 用地用海 strings)

======  =========  ================================  ============================
id      code       local extent                      area in its town (m²)
======  =========  ================================  ============================
P1      0701       0–400 × 0–500                     200 000
P2      1001       400–1000 × 0–500                  300 000
P3      0901       0–300 × 500–1000                  150 000
P4      1401       300–1050 × 500–1000               350 000 (25 000 lies outside
                                                     T1 and must not be counted)
Q1      0701       1500–2000 × 0–1000                500 000
Q2      0901       2000–2400 × 0–1000                400 000
Q3      0301       2400–2500 × 0–1000                100 000 (forest, in red line)
R1      1001       3000–3900 × 0–1000                900 000
R2      1101       3900–4200 × 0–400                 120 000 (80 000 on farmland)
R3      0101       3900–4200 × 400–1000              180 000 (40 000 on farmland)
======  =========  ================================  ============================

Construction land (用地用海 07–16): T1 1 000 000 m² (开发强度 1.0), T2 900 000 (0.9),
T3 1 020 000 (0.85). Residential share of construction land: T1 0.20, T2 5/9 ≈ 0.5556
(drifting into real estate), T3 0. Industrial (10) share: T1 0.30, T2 0, T3 900/1020.
Green (14) share of town area: T1 0.35, T2 0, T3 0. First-level shares of T1: 07 0.20,
10 0.30, 09 0.15, 14 0.35.

Buildings (``building_id``, ``floors``, ``height_m``; NaN where unknown)

* T1: B01 100×100 ×10 floors; B02 100×100 ×6; B03 200×200 ×2; B04 200×100 ×3;
  B05 40×100 ×5 straddling T1's east edge (2 000 m² inside); B06 20×20 with neither floors
  nor height (counted, reported, not guessed). Footprint in T1 = 82 400 m²; floor area of the
  buildings with floors = 310 000 m²; FAR = 0.31; building coverage = 0.0824.
* T2: C01–C03 100×100 ×18 floors; C04 200×200 ×4. Footprint 70 000; floor area 700 000;
  FAR = 700 000 / 900 000 ≈ 0.7778; gross FAR 0.70; coverage ≈ 0.07778.
* T3: D01 200×200, 1 floor, 12 m high (an industrial storey above 8 m);
  D02 200×200 with only ``height_m`` = 24 (8 floors at the 3 m storey height);
  D03 100×200 ×2. Footprint 100 000; floor area 400 000 (440 000 when a storey above 8 m
  counts twice); FAR ≈ 0.39216 (0.43137).

Enterprises (a table keyed by ``town_id``; money in 万元): T1 totals tax 30 000, investment
450 000, output 900 000, revenue 1 000 000, R&D 40 000, jobs 6 000 → over 1 500 亩 of
construction land: 20 万元/亩 tax, 300 万元/亩 investment, 600 万元/亩 output, R&D 4 %,
150 万元/人. T2 totals tax 8 100, investment 270 000, output 135 000, revenue 150 000,
R&D 1 500, jobs 1 500 → over 1 350 亩: 6 万元/亩 tax (fails ≥ 10), 200 万元/亩 investment
(exactly the threshold, passes), jobs 1 500 (fails ≥ 2 000). T3 has no enterprise rows: its
economic figures are *missing*, never passed. Firm E4 lacks ``energy_tce`` and must be
listed, not graded.

Town statistics (``town_stats``): visitors T2 350 000 (fails ≥ 500 000 for tourism towns);
three-year investment and lead-industry investment share for T1 and T2, missing for T3;
绿化覆盖率 ``green_coverage`` T1 0.35, T2 0.10, T3 0: the green class of the land-cover raster
below (the vegetation a land-cover survey sees, not the 用地14 share, which is only its
stand-in: T2 has no 用地14 but 10 % forest and grass).

Roads (``road_id``, ``fclass``, ``name``, ``oneway``, ``layer``, ``bridge``, ``tunnel``):
a 250 m grid. Vertical streets at x = 0, 250, …, 1000 and 1500, 1750, …, 4250, each one
LineString from y = 0 to 1000 (crossings are *not* split in the data). Horizontal streets at
y = 0, 250, 500, 750, 1000. A river (``water``) runs north–south at x = 1230–1270: only
y = 250 and y = 750 cross it, each on a bridge piece (x 1200–1300, ``bridge="T"``). The
streets y = 0 and y = 500 end in dead ends at x = 1200 and x = 1300; y = 1000 stops at
x = 1000 and resumes at 1500, the gap being bridged only by an elevated motorway
(``fclass="motorway"``, ``layer=1``) that walkers cannot use. One diagonal street runs from
(500, 500) to (1000, 1000) through (750, 750).

Facilities (``facility_id``, ``category``, ``name_zh``): one of each of the eight "八个一"
categories in T1 and T2; T3 has every category except ``kindergarten``, so its kindergarten
coverage at 1 000 m is 0 %. Every facility is 12 m from its street.

Homes (``home_id``, ``town_id``, ``population``): points at (100 + 250 i, 200 + 250 j),
j = 0…3, in every town's columns (4 in T1 and T2, 5 in T3); each is 50 m south of the
street it snaps to. Population 100, 150, 200, 250 by row (seed 0). One farmhouse H_FARM at
(4500, 800) with 4 people is 250 m from the nearest street (x = 4250): unreachable with the default
200 m snapping limit, reported, never dropped.

Walking distances (origin leg + network path + facility leg, metres):

* T1 home (100, 200) → kindergarten F04: 50 + 130 + 12 = 192.
* T1 home (100, 200) → clinic F05: 50 + 500 + 12 = 562.
* T1 home (100, 200) → town lounge F01: 50 + 420 + 12 = 482.
* T1 home (850, 450) → town lounge F01: 50 + 580 + 12 = 642.
* T1 home (850, 950) → town lounge F01: 50 + (100 + 250 + 250√2 + 250 + 20) + 12
  = 1035.5534 (the diagonal saves 106.4 m over the grid).
* T1 home (850, 450) → T2's town lounge F09 (2020, 500): 50 + 1670 + 12 = 1732, because the
  river is crossed only at y = 250 or 750 (1232 if y = 500 crossed it).
* T1 home (850, 950) → reading room F14 in T2: 50 + 1420 + 12 = 1482; 982 if the motorway
  were (wrongly) walkable.
* T2 home (1600, 200) → kindergarten F12: 50 + 880 + 12 = 942.
* T3 home (3100, 200) → nearest kindergarten (F12): 50 + 1620 + 12 = 1682.

Evaluation against the ``hangzhou-2021`` rules (:mod:`tongzhen_gis.evaluate`): T1 passes every
binding rule (it fails only the unconfirmed 15-minute completeness rule, because home
(850, 950) is 1035.55 m from the town lounge F01); T2 fails the red line, the urban boundary,
residential share 5/9, green coverage 0.10, tax 6 万元/亩, jobs 1 500, visitors 350 000 and the Zhejiang
lead-industry share 0.65 < 0.70, and passes investment at exactly 200 万元/亩; T3 fails
farmland, the urban boundary and green coverage (0), and its economic rules are ``missing``. Default
grading (``grading`` rules): T1 优秀, T2 淘汰, T3 降格.

Land cover (``landcover``): a 10 m raster over −200–4800 × −200–1600 with classes
1 built (用地 07–13, 15, 16), 2 green (14, 03, 04), 3 water (the river), 4 cropland (01),
5 other; cells align with every parcel edge, so zone shares are exact: T1 built 0.65 /
green 0.35; T2 built 0.90 / green 0.10; T3 built 0.85 / cropland 0.15.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
from affine import Affine
from rasterio import features
from shapely import LineString, MultiPolygon, Point, Polygon, box
from shapely.affinity import translate

from tongzhen_gis import rules
from tongzhen_gis.raster import Raster

__all__ = ["CRS", "LANDCOVER_CLASSES", "ORIGIN", "Scene", "sample_town", "write_scene"]

#: CRS of every sample layer: CGCS2000 / 3-degree Gauss-Krüger CM 120E.
CRS = "EPSG:4549"
#: Offset added to the local coordinates given in the module docstring.
ORIGIN = (520_000.0, 3_350_000.0)
#: Classes of the land-cover raster.
LANDCOVER_CLASSES = {1: "建设用地 built", 2: "绿地林草 green", 3: "水域 water", 4: "耕地 cropland", 5: "其他 other"}
_LANDCOVER_OF_LEVEL1 = {
    **dict.fromkeys(["07", "08", "09", "10", "11", "12", "13", "15", "16"], 1),
    **dict.fromkeys(["14", "03", "04"], 2),
    "17": 3,
    "01": 4,
}


@dataclass(frozen=True)
class Scene:
    """Every layer of the sample town (see the module docstring for the expected figures).

    Attributes
    ----------
    towns, red_line, farmland, urban_boundary, parcels, buildings, roads, facilities, homes, water
        GeoDataFrames in EPSG:4549.
    enterprises : pandas.DataFrame
        One row per firm, keyed by ``town_id``.
    town_stats : pandas.DataFrame
        Town-level economic figures supplied by the user, indexed by ``town_id``.
    landcover : Raster
        10 m land-cover classes.
    """

    towns: gpd.GeoDataFrame
    red_line: gpd.GeoDataFrame
    farmland: gpd.GeoDataFrame
    urban_boundary: gpd.GeoDataFrame
    parcels: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    homes: gpd.GeoDataFrame
    water: gpd.GeoDataFrame
    enterprises: pd.DataFrame
    town_stats: pd.DataFrame
    landcover: Raster

    def layers(self) -> dict[str, gpd.GeoDataFrame]:
        """The vector layers by name, in a stable order."""
        return {
            f.name: getattr(self, f.name) for f in fields(self) if isinstance(getattr(self, f.name), gpd.GeoDataFrame)
        }


def _shift(geom):
    return translate(geom, *ORIGIN)


def _gdf(rows: list[dict], geoms: list) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry=[_shift(g) for g in geoms], crs=CRS)


def _towns() -> gpd.GeoDataFrame:
    rows = [
        {"town_id": "T1", "name_zh": "云溪数智小镇", "category": "digital", "district": "西湖区"},
        {"town_id": "T2", "name_zh": "青山文旅小镇", "category": "tourism", "district": "西湖区"},
        {"town_id": "T3", "name_zh": "桑田智造小镇", "category": "manufacturing", "district": "余杭区"},
    ]
    return _gdf(rows, [box(0, 0, 1000, 1000), box(1500, 0, 2500, 1000), box(3000, 0, 4200, 1000)])


def _control_lines() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    red = _gdf(
        [
            {"BSM": "STBHHX001", "name": "青山生态保护红线"},
            {"BSM": "STBHHX002", "name": "溪谷生态保护红线"},
            {"BSM": "STBHHX003", "name": "东部湿地红线"},
        ],
        [
            box(2400, 0, 2600, 1000),
            box(2450, 500, 2700, 1500),
            MultiPolygon([box(5000, 0, 5500, 500), box(5000, 800, 5200, 1000)]),
        ],
    )
    farm = _gdf(
        [
            {"BSM": f"YJJBNT00{i}", "name": n}
            for i, n in enumerate(["东畈农田", "北湾农田", "东郊农田", "东畈农田(重叠)"], 1)
        ],
        [
            box(4000, 0, 4500, 600),
            box(300, 1050, 700, 1150),
            MultiPolygon([box(4600, 0, 4800, 200), box(4600, 400, 4800, 600)]),
            box(4100, 0, 4300, 300),
        ],
    )
    part_a = Polygon(
        [(-200, -200), (2400, -200), (2400, 1200), (-200, 1200)],
        holes=[[(300, 1050), (300, 1150), (700, 1150), (700, 1050)]],
    )
    boundary = _gdf(
        [{"BSM": "CZKFBJ001", "name": "城镇开发边界"}], [MultiPolygon([part_a, box(2700, -200, 3900, 1200)])]
    )
    return red, farm, boundary


_PARCELS = [
    ("P1", "0701", (0, 0, 400, 500)),
    ("P2", "1001", (400, 0, 1000, 500)),
    ("P3", "0901", (0, 500, 300, 1000)),
    ("P4", "1401", (300, 500, 1050, 1000)),
    ("Q1", "0701", (1500, 0, 2000, 1000)),
    ("Q2", "0901", (2000, 0, 2400, 1000)),
    ("Q3", "0301", (2400, 0, 2500, 1000)),
    ("R1", "1001", (3000, 0, 3900, 1000)),
    ("R2", "1101", (3900, 0, 4200, 400)),
    ("R3", "0101", (3900, 400, 4200, 1000)),
]


def _parcels() -> gpd.GeoDataFrame:
    return _gdf([{"parcel_id": p, "landuse_code": c} for p, c, _ in _PARCELS], [box(*b) for *_, b in _PARCELS])


_BUILDINGS = [
    # id, (minx, miny, maxx, maxy), floors, height_m
    ("B01", (50, 50, 150, 150), 10, 30.0),
    ("B02", (100, 300, 200, 400), 6, 18.0),
    ("B03", (510, 10, 710, 210), 2, 10.0),
    ("B04", (10, 510, 210, 610), 3, 10.5),
    ("B05", (980, 300, 1020, 400), 5, 16.0),
    ("B06", (600, 900, 620, 920), None, None),
    ("C01", (1510, 10, 1610, 110), 18, 54.0),
    ("C02", (1760, 10, 1860, 110), 18, 54.0),
    ("C03", (1510, 510, 1610, 610), 18, 54.0),
    ("C04", (2010, 260, 2210, 460), 4, 18.0),
    ("D01", (3260, 10, 3460, 210), 1, 12.0),
    ("D02", (3510, 510, 3710, 710), None, 24.0),
    ("D03", (3910, 10, 4010, 210), 2, 9.0),
]


def _buildings() -> gpd.GeoDataFrame:
    rows = [
        {"building_id": b, "floors": np.nan if f is None else float(f), "height_m": np.nan if h is None else h}
        for b, _, f, h in _BUILDINGS
    ]
    return _gdf(rows, [box(*bb) for _, bb, *_ in _BUILDINGS])


def _roads() -> gpd.GeoDataFrame:
    rows: list[dict] = []
    geoms: list[LineString] = []

    def add(fclass: str, name: str, coords: list[tuple[float, float]], *, bridge: str = "F", layer: int = 0) -> None:
        rows.append(
            {
                "road_id": f"R{len(rows) + 1:03d}",
                "fclass": fclass,
                "name": name,
                "oneway": "B",
                "layer": layer,
                "bridge": bridge,
                "tunnel": "F",
            }
        )
        geoms.append(LineString(coords))

    for x in (0, 250, 500, 750, 1000, *range(1500, 4251, 250)):
        add("residential", f"经{x // 250 + 1}路", [(x, 0), (x, 1000)])
    for y in (0, 500):
        add("residential", f"纬{y // 250 + 1}路", [(0, y), (1200, y)])
        add("residential", f"纬{y // 250 + 1}路", [(1300, y), (4250, y)])
    for y in (250, 750):
        add("secondary", f"纬{y // 250 + 1}路", [(0, y), (1200, y)])
        add("secondary", f"纬{y // 250 + 1}路", [(1200, y), (1300, y)], bridge="T", layer=1)
        add("secondary", f"纬{y // 250 + 1}路", [(1300, y), (4250, y)])
    add("residential", "纬5路", [(0, 1000), (1000, 1000)])
    add("residential", "纬5路", [(1500, 1000), (4250, 1000)])
    add("motorway", "绕城高速", [(1000, 1000), (1500, 1000)], bridge="T", layer=1)
    add("footway", "云溪绿道", [(500, 500), (1000, 1000)])
    return _gdf(rows, geoms)


_FACILITIES = [
    ("F01", "T1", "town_lounge", (520, 262)),
    ("F02", "T1", "neighbourhood_centre", (262, 730)),
    ("F03", "T1", "talent_housing", (770, 488)),
    ("F04", "T1", "kindergarten", (230, 262)),
    ("F05", "T1", "clinic", (600, 238)),
    ("F06", "T1", "reading_room", (488, 770)),
    ("F07", "T1", "sports", (730, 12)),
    ("F08", "T1", "park", (712, 762)),
    ("F09", "T2", "town_lounge", (2020, 512)),
    ("F10", "T2", "neighbourhood_centre", (1770, 262)),
    ("F11", "T2", "talent_housing", (1730, 738)),
    ("F12", "T2", "kindergarten", (1980, 762)),
    ("F13", "T2", "clinic", (2230, 262)),
    ("F14", "T2", "reading_room", (1770, 988)),
    ("F15", "T2", "sports", (2270, 738)),
    ("F16", "T2", "park", (2020, 12)),
    ("F17", "T3", "town_lounge", (3520, 512)),
    ("F18", "T3", "neighbourhood_centre", (3270, 738)),
    ("F19", "T3", "talent_housing", (3730, 262)),
    ("F20", "T3", "clinic", (3480, 762)),
    ("F21", "T3", "reading_room", (3770, 488)),
    ("F22", "T3", "sports", (4020, 238)),
    ("F23", "T3", "park", (3230, 12)),
]
_FACILITY_NAMES = {
    "town_lounge": "小镇客厅",
    "neighbourhood_centre": "邻里中心",
    "talent_housing": "人才公寓",
    "kindergarten": "幼儿园",
    "clinic": "卫生服务站",
    "reading_room": "杭州书房",
    "sports": "运动场",
    "park": "口袋公园",
}


def _facilities() -> gpd.GeoDataFrame:
    rows = [
        {"facility_id": f, "town_id": t, "category": c, "name_zh": f"{t}{_FACILITY_NAMES[c]}"}
        for f, t, c, _ in _FACILITIES
    ]
    return _gdf(rows, [Point(xy) for *_, xy in _FACILITIES])


_HOME_COLUMNS = {"T1": range(4), "T2": range(6, 10), "T3": range(12, 17)}


def _homes(seed: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    rows, geoms = [], []
    for town, columns in _HOME_COLUMNS.items():
        for i in columns:
            for j in range(4):
                population = 100 + 50 * j if seed == 0 else int(rng.integers(20, 400))
                rows.append({"home_id": f"H{town}_{i:02d}_{j}", "town_id": town, "population": population})
                geoms.append(Point(100 + 250 * i, 200 + 250 * j))
    rows.append({"home_id": "H_FARM", "town_id": None, "population": 4})
    geoms.append(Point(4500, 800))
    return _gdf(rows, geoms)


def _enterprises() -> pd.DataFrame:
    cols = [
        "firm_id",
        "town_id",
        "name_zh",
        "tax_wan",
        "investment_wan",
        "output_wan",
        "revenue_wan",
        "rd_wan",
        "jobs",
        "land_mu",
        "value_added_wan",
        "energy_tce",
        "emission_t",
    ]
    data = [
        ("E1", "T1", "数智科技", 15_000, 200_000, 450_000, 500_000, 25_000, 3_000, 300, 150_000, 20_000, 500),
        ("E2", "T1", "精密制造", 9_000, 150_000, 300_000, 330_000, 12_000, 2_000, 400, 90_000, 60_000, 1_200),
        ("E3", "T1", "云端服务", 4_000, 60_000, 100_000, 110_000, 2_500, 700, 100, 40_000, 5_000, 100),
        ("E4", "T1", "小微加工", 2_000, 40_000, 50_000, 60_000, 500, 300, 200, 15_000, np.nan, 300),
        ("E5", "T2", "山居文旅", 5_100, 200_000, 90_000, 100_000, 1_000, 1_000, 500, 30_000, 3_000, 50),
        ("E6", "T2", "溪畔运营", 3_000, 70_000, 45_000, 50_000, 500, 500, 400, 12_000, 1_000, 30),
    ]
    df = pd.DataFrame(data, columns=cols)
    num = cols[3:]
    df[num] = df[num].astype(float)
    return df


def _town_stats() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "visitors": [np.nan, 350_000.0, np.nan],
            "investment_3yr_wan": [520_000.0, 310_000.0, np.nan],
            "lead_industry_investment_share": [0.80, 0.65, np.nan],
            "green_coverage": [0.35, 0.10, 0.0],
        },
        index=pd.Index(["T1", "T2", "T3"], name="town_id"),
    )


def _water() -> gpd.GeoDataFrame:
    return _gdf([{"name": "溪流", "fclass": "river"}], [box(1230, -200, 1270, 1600)])


def _landcover(parcels: gpd.GeoDataFrame, water: gpd.GeoDataFrame) -> Raster:
    cell = 10.0
    minx, miny, maxx, maxy = -200.0 + ORIGIN[0], -200.0 + ORIGIN[1], 4800.0 + ORIGIN[0], 1600.0 + ORIGIN[1]
    transform = Affine(cell, 0.0, minx, 0.0, -cell, maxy)
    shape = (round((maxy - miny) / cell), round((maxx - minx) / cell))
    classes = [_LANDCOVER_OF_LEVEL1.get(code[:2], 5) for code in parcels["landuse_code"]]
    shapes = list(zip(parcels.geometry, classes, strict=True)) + [(g, 3) for g in water.geometry]
    array = features.rasterize(shapes, out_shape=shape, transform=transform, fill=5, dtype="uint8")
    return Raster(array=array, transform=transform, crs=pyproj.CRS(CRS), nodata=0)


def sample_town(seed: int = 0) -> Scene:
    """Build the sample town.

    Parameters
    ----------
    seed : int, default 0
        Only the home populations depend on it. ``seed=0`` gives the populations stated in the
        module docstring (100, 150, 200, 250 by row); any other seed draws them at random, for
        property tests. Geometry and every other figure never change.

    Returns
    -------
    Scene
        All layers in EPSG:4549; see the module docstring for every expected figure.

    Examples
    --------
    >>> import tongzhen_gis as tz
    >>> scene = tz.samples.sample_town()
    >>> scene.towns.set_index("town_id").area.round().to_dict()
    {'T1': 1000000.0, 'T2': 1000000.0, 'T3': 1200000.0}
    """
    red, farm, boundary = _control_lines()
    parcels = _parcels()
    water = _water()
    return Scene(
        towns=_towns(),
        red_line=red,
        farmland=farm,
        urban_boundary=boundary,
        parcels=parcels,
        buildings=_buildings(),
        roads=_roads(),
        facilities=_facilities(),
        homes=_homes(seed),
        water=water,
        enterprises=_enterprises(),
        town_stats=_town_stats(),
        landcover=_landcover(parcels, water),
    )


def write_scene(scene: Scene, folder: str | Path) -> dict[str, Path]:
    """Write a scene: vector layers to ``sample.gpkg``, tables to CSV, land cover to GeoTIFF.

    Parameters
    ----------
    scene : Scene
        From :func:`sample_town`.
    folder : str or pathlib.Path
        Created if needed.

    Returns
    -------
    dict
        What was written: ``{"gpkg": ..., "enterprises": ..., "town_stats": ..., "landcover": ...}``.
    """
    from tongzhen_gis import io  # local import: io is the only module that touches files

    folder = Path(folder)
    gpkg = folder / "sample.gpkg"
    for name, gdf in scene.layers().items():
        io.write_layer(gdf, gpkg, layer=name)
    out = {"gpkg": gpkg}
    out["enterprises"] = io.write_table(scene.enterprises, folder / "enterprises.csv", index=False)
    out["town_stats"] = io.write_table(scene.town_stats, folder / "town_stats.csv", index=True)
    out["landcover"] = io.write_raster(scene.landcover, folder / "landcover.tif")
    return out


# ============================================================================== sample city

CITY_YEARS = (2020, 2021, 2022, 2023)
_CITY_TOWNS = [
    # id, name, category
    ("C01", "云栖数智小镇", "digital"),
    ("C02", "钱江云谷小镇", "digital"),
    ("C03", "西溪数据小镇", "digital"),
    ("C04", "滨湖物联小镇", "digital"),
    ("C05", "湘湖智算小镇", "digital"),
    ("C06", "之江芯谷小镇", "digital"),
    ("C07", "良渚数创小镇", "digital"),
    ("C08", "紫金软件小镇", "digital"),
    ("C09", "临江数链小镇", "digital"),
    ("C10", "富春数媒小镇", "digital"),
    ("C11", "大江装备小镇", "manufacturing"),
    ("C12", "钱塘智造小镇", "manufacturing"),
    ("C13", "新安机器人小镇", "manufacturing"),
    ("C14", "桐君精工小镇", "manufacturing"),
    ("C15", "苕溪新材小镇", "manufacturing"),
    ("C16", "东洲汽配小镇", "manufacturing"),
    ("C17", "义桥航天小镇", "manufacturing"),
    ("C18", "瓶窑医械小镇", "manufacturing"),
    ("C19", "江南信息港小镇", "information"),
    ("C20", "北干电商小镇", "information"),
    ("C21", "白马湖科创小镇", "technology"),
    ("C22", "青山湖科技小镇", "technology"),
    ("C23", "千岛湖文旅小镇", "tourism"),
    ("C24", "大奇山旅游小镇", "tourism"),
    ("C25", "龙门古镇小镇", "tourism"),
    ("C26", "天目山康养小镇", "tourism"),
    ("C27", "湖畔基金小镇", "finance"),
    ("C28", "余杭纸伞小镇", "classic"),
    ("C29", "运河设计小镇", "design"),
    ("C30", "径山茶香小镇", "agriculture"),
]
#: Output grows to its 2023 value: share of the 2023 output in each year.
_OUTPUT_SHARE = {2020: 0.7, 2021: 0.8, 2022: 0.9, 2023: 1.0}


@dataclass(frozen=True)
class SampleCity:
    """The sample city (see :func:`sample_city`).

    Attributes
    ----------
    table : pandas.DataFrame
        The town table, one row per town and year, canonical column names.
    locations : geopandas.GeoDataFrame
        Where the towns are (EPSG:4549): C01–C03 as 2 km × 2 km polygons, the others as points.
    """

    table: pd.DataFrame
    locations: gpd.GeoDataFrame


def _city_status(num: int, year: int) -> tuple[str, int]:
    if num <= 15:
        return "named", 2018
    if num <= 19:
        return ("named", 2021) if year >= 2021 else ("creating", 2017)
    if num <= 21:
        return ("named", 2023) if year >= 2023 else ("creating", 2018)
    if num <= 29:
        return "creating", 2019
    return "cultivating", 2020


def _city_output_2023(num: int) -> float:
    return {1: 12_000_000.0, 2: 10_000_000.0, 3: 6_000_000.0}.get(num, 1_500_000.0 if num <= 11 else 500_000.0)


def _city_tax(num: int, year: int) -> float:
    if num <= 14:
        return 150_000.0
    if num == 15:
        return 100_000.0
    if num == 16:
        return 30_000.0 if year <= 2021 else 12_000.0
    if num == 24:
        return {2020: 45_000.0, 2021: 45_000.0, 2022: 37_500.0, 2023: 30_000.0}[year]
    return 30_000.0


def _city_rd(num: int, year: int) -> float:
    if num == 29:
        return 30_000.0 if year == 2020 else 10_000.0
    return 60_000.0 if num <= 19 else 35_000.0


def _city_row(num: int, town_id: str, name: str, category: str, year: int) -> dict:
    status, status_year = _city_status(num, year)
    hightech = category in ("digital", "information", "technology", "manufacturing")
    step = year - 2020
    output = _city_output_2023(num) if num != 12 else 800_000.0
    return {
        "town_id": town_id,
        "name_zh": name,
        "district": "示例区",
        "status": status,
        "status_year": status_year,
        "category": category,
        "year": year,
        "output_wan": np.nan if (num == 12 and year == 2023) else output * _OUTPUT_SHARE[year],
        "revenue_wan": 1_000_000.0,
        "tax_wan": _city_tax(num, year),
        "investment_wan": 100_000.0,
        "rd_wan": _city_rd(num, year),
        "soft_investment_wan": 1_000.0 + 1_000.0 * step / 3 if hightech else 500.0,
        "hightech_firms": 10 + 3 * step if hightech else 2,
        "tech_sme_firms": (np.nan if num == 22 and year == 2020 else 20 + [0, 8, 16, 25][step]) if hightech else 5,
        "innovation_platform": "national"
        if num <= 10
        else ("provincial" if num <= 27 else ("none" if num == 29 else "municipal")),
        "scenic_grade": {23: "5A", 24: "4A", 25: "4A", 26: "3A", 28: "3A"}.get(num, "无"),
        "land_mu": 1_500.0,
        "jobs": 5_000.0,
    }


def sample_city() -> SampleCity:
    """Thirty towns of a sample city over 2020–2023, whose every target and warning is stated here.

    The years are the 2020 base of 杭政办函〔2021〕25号 and its three plan years 2021–2023. All
    money is in 万元; every town has ``revenue_wan`` = 1 000 000, ``investment_wan`` = 100 000,
    ``land_mu`` = 1 500 and ``jobs`` = 5 000 in every year.

    Towns
    -----
    ========  ==============  ==========================================================
    ids       category        status (``status_year``)
    ========  ==============  ==========================================================
    C01–C10   digital         C01–C15 named (2018) in every year
    C11–C18   manufacturing   C16–C19 creating (2017) in 2020, named (2021) from 2021
    C19–C20   information     C20–C21 creating (2018) until 2022, named (2023) in 2023
    C21–C22   technology      C22–C29 creating (2019)
    C23–C26   tourism         C30 cultivating (2020)
    C27 finance, C28 classic, C29 design, C30 agriculture
    ========  ==============  ==========================================================

    Figures
    -------
    * ``output_wan`` in 2023: C01 12 000 000, C02 10 000 000, C03 6 000 000, C04–C11
      1 500 000, C12 **empty** (800 000 × the year's share before 2023), C13–C30 500 000.
      Each year's output is the 2023 value × 0.7 / 0.8 / 0.9 / 1.0 (2020 / 21 / 22 / 23).
    * ``tax_wan``: C01–C14 150 000, C15 100 000 (exactly 10亿, not more), C16 30 000 until
      2021 then 12 000, C24 45 000 / 45 000 / 37 500 / 30 000, the others 30 000.
    * ``rd_wan``: C01–C19 60 000, C20–C28 and C30 35 000, C29 30 000 in 2020 then 10 000.
    * High-tech-led towns (digital, information, technology, manufacturing: C01–C22):
      ``soft_investment_wan`` 1 000 / 1 333.3 / 1 666.7 / 2 000, ``hightech_firms`` 10 / 13 /
      16 / 19, ``tech_sme_firms`` 20 / 28 / 36 / 45 (C22 empty in 2020); the other towns
      500, 2 and 5 in every year.
    * ``innovation_platform``: C01–C10 national, C11–C27 provincial, C28 and C30 municipal,
      C29 none. ``scenic_grade``: C23 5A, C24 and C25 4A, C26 and C28 3A, the others 无.

    City targets in 2023 (``tz.city.city_targets(city.table)``)
    -----------------------------------------------------------
    ==============================  ======  =============  ================================
    target                          value   status         why
    ==============================  ======  =============  ================================
    named_towns_min (≥ 20)          21      pass           C01–C21
    towns_scale_1000yi_min (≥ 2)    2       pass           C01, C02 (on the threshold)
    towns_scale_500yi_min (≥ 3)     3       pass           C01–C03
    towns_scale_100yi_min (≥ 12)    11      missing        C01–C11; C12 unknown could be 12th
    towns_tax_over_10yi_min (≥ 15)  14      fail           C01–C14; C15 is not *over* 10亿
    digital_manufacturing_share     20/30   fail           0.6667 < 0.70
    rd_intensity_city_min (≥ 0.05)  0.05    pass           1 500 000 / 30 000 000
    soft_investment_growth_min      2.0     pass           44 000 / 22 000 (C01–C22)
    hightech_firms_growth_min       1.9     fail           418 / 220
    tech_sme_firms_growth_min       2.25    missing        C22 lacks 2020; 945 / 420 others
    innovation_platform_share_min   0.9     pass           27 / 30, on the threshold
    tourism_5a_share_min (advisory) 0.25    fail           C23 of C23–C26; never binding
    ==============================  ======  =============  ================================

    Named towns by year: 15 (2020), 19 (2021), 19 (2022), 21 (2023).

    Town rules and warnings (``tz.city.review(city.table)``)
    --------------------------------------------------------
    亩均税收 (tax / 1 500 亩) is 100 for C01–C14, 66.67 for C15, 20 for most others; C16
    falls to 8 in 2022 and 2023 (< 10: fails ``tax_per_mu_min``); C24 goes 30 → 30 → 25 →
    20. R&D intensity is 0.06 or 0.035 except C29: 0.01 from 2021 (< 0.025, fails
    ``rd_intensity_min``, which applies to design towns). Labour productivity is ≥ 70 万元/人
    (C12 missing in 2023). The town table carries no control-line or land-use figure, so
    every town's suggested grade is capped at 合格 (missing data). The warnings:

    ====  ==================  ==================  ==========  ===========================
    town  kind                years               suggestion  reason
    ====  ==================  ==================  ==========  ===========================
    C16   fails_running       2022、2023          警告        tax_per_mu_min two years
    C24   tax_per_mu_falls    2021、2022、2023    关注        30 → 25 → 20 万元/亩
    C29   fails_running       2021、2022、2023    降格        rd_intensity_min three years;
                                                              new status cultivating
    ====  ==================  ==================  ==========  ===========================

    Returns
    -------
    SampleCity
    """
    rows = [
        _city_row(num, town_id, name, category, year)
        for year in CITY_YEARS
        for num, (town_id, name, category) in enumerate(_CITY_TOWNS, 1)
    ]
    table = pd.DataFrame(rows)
    geoms = []
    for num in range(1, len(_CITY_TOWNS) + 1):
        x = 500_000.0 + 6_000.0 * ((num - 1) % 6)
        y = 3_330_000.0 + 6_000.0 * ((num - 1) // 6)
        geoms.append(box(x - 1_000, y - 1_000, x + 1_000, y + 1_000) if num <= 3 else Point(x, y))
    locations = gpd.GeoDataFrame(
        {"town_id": [t[0] for t in _CITY_TOWNS], "name_zh": [t[1] for t in _CITY_TOWNS]}, geometry=geoms, crs=CRS
    )
    return SampleCity(table=table, locations=locations)


#: Chinese headers of the town table :func:`write_city` writes (``产值`` in 亿元 on purpose).
CITY_HEADERS_ZH = {
    "town_id": "小镇编号",
    "name_zh": "小镇名称",
    "district": "区县",
    "status": "状态",
    "status_year": "命名年份",
    "category": "小镇类型",
    "year": "年份",
    "output_wan": "产值(亿元)",
    "revenue_wan": "营业收入(万元)",
    "tax_wan": "税收收入(万元)",
    "investment_wan": "固定资产投资(万元)",
    "rd_wan": "研发经费(万元)",
    "soft_investment_wan": "软投入(万元)",
    "hightech_firms": "高新技术企业数",
    "tech_sme_firms": "科技型中小企业数",
    "innovation_platform": "创新平台",
    "scenic_grade": "景区等级",
    "land_mu": "建设用地(亩)",
    "jobs": "从业人员",
}


def write_city(city: SampleCity, folder: str | Path) -> dict[str, Path]:
    """Write the sample city: ``city_towns.csv`` and ``city_locations.gpkg``.

    The table is written as a Chinese office would keep it: Chinese headers
    (:data:`CITY_HEADERS_ZH`), 产值 in 亿元, status, category and platform in Chinese.

    Parameters
    ----------
    city : SampleCity
        From :func:`sample_city`.
    folder : str or pathlib.Path
        Created if needed.

    Returns
    -------
    dict
        ``{"towns": ..., "locations": ...}``.
    """
    from tongzhen_gis import io  # local import: io is the only module that touches files

    folder = Path(folder)
    table = city.table.copy()
    table["output_wan"] = table["output_wan"] / 10_000.0
    table["status"] = table["status"].map({"named": "命名", "creating": "创建", "cultivating": "培育"})
    platforms = {"national": "国家级", "provincial": "省级", "municipal": "市级", "none": "无"}
    table["innovation_platform"] = table["innovation_platform"].map(platforms)
    names = {key: entry["name_zh"] for key, entry in rules.load("town_categories")["category"].items()}
    table["category"] = table["category"].map(names)
    table = table.rename(columns=CITY_HEADERS_ZH)
    return {
        "towns": io.write_table(table, folder / "city_towns.csv", index=False),
        "locations": io.write_layer(city.locations, folder / "city_locations.gpkg", layer="towns"),
    }
