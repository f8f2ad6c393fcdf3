"""Coordinate reference systems (temporary re-export while the web-map offsets move to :mod:`tongzhen_gis.webmap`)."""

from __future__ import annotations

from tongzhen_gis.webmap import *  # noqa: F403
from tongzhen_gis.webmap import __all__  # noqa: F401
