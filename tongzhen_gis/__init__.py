"""tongzhen_gis: measured answers for Hangzhou's characteristic towns (特色小镇).

Modules are the public API (the osmnx pattern)::

    import tongzhen_gis as tz
    scene = tz.samples.sample_town()
    tz.controllines.check(scene.towns, red_line=scene.red_line)

Submodules are imported on first use, so ``import tongzhen_gis`` stays fast.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_MODULES = (
    "access",
    "city",
    "controllines",
    "crs",
    "errors",
    "evaluate",
    "intensity",
    "io",
    "labels",
    "maps",
    "network",
    "raster",
    "report",
    "rules",
    "samples",
    "schema",
    "settings",
    "units",
    "webmap",
)

__all__ = ["__version__", *_MODULES]

logging.getLogger(__name__).addHandler(logging.NullHandler())

if TYPE_CHECKING:  # pragma: no cover
    from tongzhen_gis import (  # noqa: F401
        access,
        city,
        controllines,
        crs,
        errors,
        evaluate,
        intensity,
        io,
        labels,
        maps,
        network,
        raster,
        report,
        rules,
        samples,
        schema,
        settings,
        units,
        webmap,
    )


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    msg = f"module 'tongzhen_gis' has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted(__all__)
