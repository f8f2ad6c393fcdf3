"""Exception hierarchy of tongzhen_gis.

Every error the toolkit raises on purpose derives from :class:`TongzhenError`, and each
subclass also inherits the matching builtin (``ValueError`` or ``OSError``), so code that
already catches builtins keeps working (the rasterio pattern). Messages say what is wrong
*and* how to fix it; the CLI prints them as one line and exits with code 2.
"""

from __future__ import annotations

__all__ = [
    "CRSError",
    "FontNotFoundError",
    "InputFileError",
    "NetworkDataError",
    "OptionError",
    "RasterDataError",
    "RuleDataError",
    "SchemaError",
    "TongzhenError",
]


class TongzhenError(Exception):
    """Root of every error raised on purpose by tongzhen_gis.

    Parameters
    ----------
    *args
        As for :class:`Exception` (normally one message).
    param : str, optional
        The Python keyword the fix concerns (``"layer"``, ``"crs"``, ``"coord_system"``,
        ``"encoding"``, ``"id_col"``, ``"category_col"``, ``"landuse_col"``, ``"sliver_m2"`` …),
        or None. Messages give the Python fix (``layer='towns'``); a front end such as the CLI
        maps ``param`` to its own option instead of rewriting the text, so the library never
        needs to know the command line.

    Attributes
    ----------
    config_key : str or None
        The ``project.toml`` entry the error concerns (``"[access].homes"``, ``"[towns]"``),
        set by :mod:`tongzhen_gis.report` when the error names it; None elsewhere.
    suggested : str or None
        The value of ``param`` the message recommends (``"EPSG:4528"`` for ``crs`` when the
        coordinates name their CRS), for a front end to put in its own fix; None when the
        message gives no single value.
    """

    def __init__(self, *args: object, param: str | None = None) -> None:
        super().__init__(*args)
        self.param: str | None = param
        self.config_key: str | None = None
        self.suggested: str | None = None


class CRSError(TongzhenError, ValueError):
    """A layer has no coordinate reference system, or one unfit for measuring."""


class OptionError(TongzhenError, ValueError):
    """A keyword option has a value the function cannot use.

    A negative distance, an unknown engine, a value of the wrong type … One class for every
    bad option in the package, so callers catch one thing; ``param`` names the keyword.
    """


class SchemaError(TongzhenError, ValueError):
    """A layer or table lacks required columns or holds values of the wrong kind.

    The message lists every problem found, not only the first.
    """

    def __init__(self, message: str, problems: list[str] | None = None, *, param: str | None = None) -> None:
        super().__init__(message, param=param)
        self.problems: list[str] = list(problems or [])


class InputFileError(TongzhenError, OSError):
    """A file is missing, unreadable, empty, or lacks the layer asked for."""


class RuleDataError(TongzhenError, ValueError):
    """A rule file (policy thresholds, catalogues) is missing a key or holds a bad value."""


class NetworkDataError(TongzhenError, ValueError):
    """A road network cannot be built or used (no walkable edges, no CRS, …)."""


class RasterDataError(TongzhenError, ValueError):
    """A raster cannot be used: not a 2-D array, no affine transform, a bad nodata, a rotated grid."""


class FontNotFoundError(InputFileError):
    """No font able to draw Chinese map labels could be found or used.

    A map with boxes instead of characters cannot go into a report, so this is an error, not a
    fallback. Also an ``OSError``; the CLI reports it as bad input (exit code 2).
    """
