"""Report maps with Chinese titles and legends (成果图); the four maps still live in ``access`` (being split)."""

from tongzhen_gis.maps.access import (
    EXPORT_FORMATS,
    UNKNOWN_SOURCE,
    VALUE_LABELS_ZH,
    FontNotFoundError,
    ResolvedFont,
    access_map,
    control_lines_map,
    export,
    intensity_map,
    landuse_map,
    resolve_font,
)

__all__ = [
    "EXPORT_FORMATS",
    "UNKNOWN_SOURCE",
    "VALUE_LABELS_ZH",
    "FontNotFoundError",
    "ResolvedFont",
    "access_map",
    "control_lines_map",
    "export",
    "intensity_map",
    "landuse_map",
    "resolve_font",
]
