"""15-minute walking access to the "八个一" facilities along the streets (15分钟生活圈 可达性).

For every home: how far the nearest facility of each category is *along the streets*; for
every town: what share of homes and people are covered; where the covered streets are; and
where a new facility would cover the most people (补齐).

How distances are measured
--------------------------
* Origins (homes, buildings, parcels; a polygon uses a point inside it,
  ``representative_point``) and facilities are snapped to the nearest point of the nearest
  street edge (not the nearest node). A distance is origin leg + network path + facility leg,
  the legs being straight lines to the snap points.
* A point farther than ``max_snap_m`` (default 200 m) from every street is *unreachable*: it
  stays in the result with ``reachable = False`` and its distance to the street in ``snap_m``,
  its distances NaN, and is listed in ``attrs["problems"]``.
* Facilities given as polygons (a park, a school compound) are reached along every stretch of
  street within ``touch_m`` of the polygon: a walk along the street to the stretch's first
  point, then straight to the polygon (a home snapped onto the stretch walks straight from its
  snap point), so no distance is shorter than the straight line to the polygon; or, when no
  street passes that close, at the polygon's nearest point to a street. When entrance
  points are given for a facility, it is reached only through them.
* Engine: the graph becomes one symmetric CSR matrix (built once, see :func:`prepare`); per
  category one ``scipy.sparse.csgraph.dijkstra`` runs from a virtual source linked to both ends
  of every facility snap edge (partial edge length + facility leg), with ``limit`` at the
  largest distance asked. An origin's distance is the smaller of (node distance + part of its
  edge) over its edge's two ends, plus its leg; when an origin and a facility share an edge the
  direct stretch along it is also considered. This equals networkx's ``multi_source_dijkstra``
  on the graph augmented with the snap points as real nodes (tested to 1e-6 m).

Categories and distances come from a *catalogue* (:func:`load_catalogue`): by default
``tz.rules.load("facilities")`` (the "八个一" default list, to be replaced with the official
one); ``catalogue=`` names another shipped one (``gb50180-2018``, ``tdt1062-2021``) or a
planner's own TOML file. A category's walking distance is its ``distance_m`` in the catalogue,
falling back to its life-circle level (``tz.rules.load("life_circle")``, 15 minutes = 1000 m).
``categories=`` given alone accepts any ids. People per home come from a column or from
:func:`estimate_population` (floor area, known totals shared out, or a population raster).

Modules
-------
* :mod:`~tongzhen_gis.access.engine`: the prepared network (CSR matrix, oriented edge
  geometry, spatial index), snapping and the Dijkstra runs (:class:`PreparedNetwork`,
  :func:`prepare`); :mod:`~tongzhen_gis.access.build`: its builder steps.
* :mod:`~tongzhen_gis.access.sources`: facilities and homes onto the network, one set of
  sources per category.
* :mod:`~tongzhen_gis.access.distances`: :func:`nearest`, :func:`categories_reached`,
  :func:`coverage`.
* :mod:`~tongzhen_gis.access.towns`: the town of each home (:func:`assign_towns`), the
  per-home table (:func:`home_table`), the categories a town lacks (:func:`gaps`), the
  coverage table (:func:`share_table`) and the towns' names (:func:`town_names`).
* :mod:`~tongzhen_gis.access.areas`: :func:`service_areas`.
* :mod:`~tongzhen_gis.access.sites`: :func:`suggest_sites` and its pure greedy step.
* :mod:`~tongzhen_gis.access.pois`: :func:`categorize` (OSM and Tilezen POIs).
* :mod:`~tongzhen_gis.access.catalogue`: :func:`load_catalogue`, :func:`catalogues`,
  :func:`categories`, :func:`category_distances`, :func:`default_threshold_m`,
  :func:`life_circle_distances_m` (the rule files).
* :mod:`~tongzhen_gis.access.population`: :func:`estimate_population`.

The modules are named apart from the functions they hold (``distances`` holds :func:`nearest`,
``areas`` holds :func:`service_areas`) so that ``tz.access.nearest`` is always the function.
"""

from __future__ import annotations

from tongzhen_gis.access.areas import service_areas
from tongzhen_gis.access.catalogue import (
    ALL_CATEGORIES,
    DEFAULT_CATALOGUE,
    catalogues,
    categories,
    category_distances,
    default_threshold_m,
    life_circle_distances_m,
    load_catalogue,
)
from tongzhen_gis.access.distances import categories_reached, coverage, nearest
from tongzhen_gis.access.engine import GraphLike, PreparedNetwork, prepare
from tongzhen_gis.access.pois import TILEZEN_DETAIL_KEYS, TILEZEN_KIND_TO_OSM, categorize
from tongzhen_gis.access.population import estimate_population
from tongzhen_gis.access.sites import greedy_max_coverage, suggest_sites
from tongzhen_gis.access.towns import assign_towns, gaps, home_table, share_table, town_names

__all__ = [
    "ALL_CATEGORIES",
    "DEFAULT_CATALOGUE",
    "TILEZEN_DETAIL_KEYS",
    "TILEZEN_KIND_TO_OSM",
    "GraphLike",
    "PreparedNetwork",
    "assign_towns",
    "catalogues",
    "categories",
    "categories_reached",
    "categorize",
    "category_distances",
    "coverage",
    "default_threshold_m",
    "estimate_population",
    "gaps",
    "greedy_max_coverage",
    "home_table",
    "life_circle_distances_m",
    "load_catalogue",
    "nearest",
    "prepare",
    "service_areas",
    "share_table",
    "suggest_sites",
    "town_names",
]
