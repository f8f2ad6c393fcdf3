"""Private OpenStreetMap reading for :mod:`tongzhen_gis.network`.

One reader, pyosmium (libosmium), for ``.osm``, ``.osm.bz2``, ``.osm.gz`` and ``.osm.pbf``, so
the same data in XML and PBF gives the same lines. Ways are filtered with Overpass-style tag
filters (the syntax osmnx uses for ``network_type`` and ``custom_filter``), evaluated on the
way's own tags exactly as the Overpass API would: ``["k"]`` the key exists; ``["k"="v"]`` /
``["k"!="v"]`` equality; ``["k"~"re"]`` / ``["k"!~"re"]`` an *unanchored*, case-sensitive
regular-expression search (so ``"motor"`` excludes ``motorway`` and ``motorway_link``). A
negated clause passes when the key is absent.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import shapely

from tongzhen_gis.errors import InputFileError, OptionError

__all__ = ["OSM_FILTERS", "TagFilter", "read_highways"]

#: Overpass-style way filters, identical to osmnx 2.1's ``network_type`` filters (with its
#: default ``["access"!~"private"]``), so graphs can be compared with osmnx's.
OSM_FILTERS: dict[str, str] = {
    "walk": (
        '["highway"]["area"!~"yes"]["access"!~"private"]'
        '["highway"!~"abandoned|bus_guideway|construction|cycleway|motor|no|planned|'
        'platform|proposed|raceway|razed|rest_area|services"]'
        '["foot"!~"no"]["service"!~"private"]'
        '["sidewalk"!~"separate"]["sidewalk:both"!~"separate"]'
        '["sidewalk:left"!~"separate"]["sidewalk:right"!~"separate"]'
    ),
    "all": (
        '["highway"]["area"!~"yes"]'
        '["highway"!~"abandoned|construction|no|planned|platform|proposed|raceway|razed|rest_area|services"]'
    ),
}

#: Way tags kept as columns of the lines handed to ``from_lines``.
WAY_COLUMNS = (
    "highway",
    "name",
    "layer",
    "bridge",
    "tunnel",
    "oneway",
    "foot",
    "access",
    "service",
    "sidewalk",
    "sidewalk:both",
    "sidewalk:left",
    "sidewalk:right",
)

_CLAUSE = re.compile(r'\[\s*"([^"]+)"\s*(?:(=|!=|~|!~)\s*"([^"]*)"\s*)?\]')
_SUFFIXES = (".osm", ".osm.bz2", ".osm.gz", ".osm.pbf", ".pbf", ".xml", ".xml.bz2")


@dataclass(frozen=True)
class TagFilter:
    """A parsed Overpass-style way filter: a conjunction of tag clauses.

    Attributes
    ----------
    text : str
        The filter as written.
    clauses : tuple of (key, operator, value)
        ``operator`` is ``None`` for a bare ``["key"]``.
    """

    text: str
    clauses: tuple[tuple[str, str | None, str | None], ...]

    @classmethod
    def parse(cls, text: str) -> TagFilter:
        """Parse ``'["highway"]["foot"!~"no"]…'``; raise OptionError on anything else."""
        clauses, pos = [], 0
        stripped = text.strip()
        for m in _CLAUSE.finditer(stripped):
            if stripped[pos : m.start()].strip():
                break
            clauses.append((m.group(1), m.group(2), m.group(3)))
            pos = m.end()
        if not clauses or stripped[pos:].strip():
            msg = (
                f"cannot read the OSM way filter {text!r}; write Overpass-style clauses such as "
                '\'["highway"]["foot"!~"no"]\' or use network="walk"'
            )
            raise OptionError(msg, param="network")
        return cls(text=text, clauses=tuple(clauses))

    def first_failure(self, tags: dict[str, str]) -> str | None:
        """The first clause the tags fail (as text), or None when the way passes."""
        for key, op, value in self.clauses:
            have = tags.get(key)
            if op is None:
                ok = have is not None
            elif op == "=":
                ok = have == value
            elif op == "!=":
                ok = have != value
            elif op == "~":
                ok = have is not None and re.search(value or "", have) is not None
            else:  # "!~"
                ok = have is None or re.search(value or "", have) is None
            if not ok:
                return f"{key}={have}" if have is not None else f"no {key}"
        return None


def _check_path(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_file():
        msg = f"OSM file not found: {path}; give the path of a .osm, .osm.bz2 or .osm.pbf extract"
        raise InputFileError(msg)
    name = path.name.lower()
    if not name.endswith(_SUFFIXES):
        msg = f"{path.name} is not an OSM extract; expected one of {', '.join(_SUFFIXES)}"
        raise InputFileError(msg)
    return path


def read_highways(
    path: str | Path, way_filter: TagFilter | Callable[[dict[str, str]], bool]
) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """Ways with a ``highway`` tag that pass the filter, as WGS84 LineStrings.

    Consecutive repeated node references are removed (as osmnx does). Node references
    without a location in the file (an extract cut through a way) are skipped and counted; a
    way left with fewer than two located nodes is dropped and counted.

    Returns
    -------
    lines : GeoDataFrame
        EPSG:4326, columns ``osm_id`` and :data:`WAY_COLUMNS`, one row per way.
    report : dict
        ``highway_ways`` read, ``ways_filtered_out`` (``{failed clause: count}``),
        ``missing_node_locations``, ``ways_without_geometry``, ``duplicate_node_positions``
        (nodes of kept ways lying exactly where another node of a kept way lies: the
        geometry joins them, OSM node ids would not).
    """
    import osmium  # imported here: only OSM reading needs it

    path = _check_path(path)
    entities = osmium.osm.NODE | osmium.osm.WAY
    try:
        processor = (
            osmium.FileProcessor(str(path), entities)
            .with_locations()
            .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
            .with_filter(osmium.filter.KeyFilter("highway"))
        )
        rows: list[dict[str, Any]] = []
        geoms: list[shapely.LineString] = []
        filtered: Counter[str] = Counter()
        missing = no_geometry = seen = 0
        node_at: dict[tuple[int, int], int] = {}  # node position (1e-7 degree units) -> first node id there
        duplicates: set[int] = set()
        for way in processor:
            seen += 1
            tags = {t.k: t.v for t in way.tags}
            if isinstance(way_filter, TagFilter):
                failed = way_filter.first_failure(tags)
            else:
                failed = None if way_filter(tags) else "custom filter"
            if failed is not None:
                filtered[failed] += 1
                continue
            coords, last_ref = [], None
            for node in cast("osmium.osm.Way", way).nodes:  # the EntityFilter above lets only ways through
                if node.ref == last_ref:
                    continue
                last_ref = node.ref
                if not node.location.valid():
                    missing += 1
                    continue
                coords.append((node.lon, node.lat))
                if node_at.setdefault((node.location.x, node.location.y), node.ref) != node.ref:
                    duplicates.add(node.ref)
            if len(coords) < 2:
                no_geometry += 1
                continue
            row: dict[str, Any] = {"osm_id": way.id}
            row.update({k: tags.get(k) for k in WAY_COLUMNS})
            rows.append(row)
            geoms.append(shapely.LineString(coords))
    except RuntimeError as exc:  # libosmium reports unreadable or corrupt files this way
        msg = f"cannot read OSM file {path}: {exc}; check that it is a complete .osm/.osm.bz2/.osm.pbf extract"
        raise InputFileError(msg) from exc
    report = {
        "source": str(path),
        "highway_ways": seen,
        "ways_filtered_out": dict(sorted(filtered.items())),
        "missing_node_locations": missing,
        "ways_without_geometry": no_geometry,
        "duplicate_node_positions": len(duplicates),
    }
    lines = gpd.GeoDataFrame(rows, geometry=geoms, columns=["osm_id", *WAY_COLUMNS], crs="EPSG:4326")
    return lines, report
