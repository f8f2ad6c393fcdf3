"""Walking access (temporary shim during the move; see the package layout below)."""

from tongzhen_gis.access.nearest import *  # noqa: F403
from tongzhen_gis.access.nearest import (  # noqa: F401
    ALL_CATEGORIES,
    TILEZEN_DETAIL_KEYS,
    TILEZEN_KIND_TO_OSM,
    GraphLike,
    __all__,
    _reached_pieces,
    _sources_by_category,
)
