"""Writing a map as PNG, PDF or SVG (:func:`export`, re-exported as ``tz.maps.export``)."""

from __future__ import annotations

import io as _bytes_io
import os
from pathlib import Path

from matplotlib.figure import Figure

from tongzhen_gis.errors import InputFileError

__all__ = ["EXPORT_FORMATS", "export"]

#: Formats :func:`export` writes, by file suffix.
EXPORT_FORMATS = {".png": "png", ".pdf": "pdf", ".svg": "svg"}


def export(fig: Figure, path: str | os.PathLike[str], *, dpi: int = 300) -> Path:
    """Write a map as PNG, PDF or SVG (chosen by the file suffix).

    PDF text stays text: fonts are embedded as TrueType/CID fonts (``pdf.fonttype`` 42) with a
    Unicode map, so the Chinese title and legend can be searched and copied. SVG text is written
    as outlines (``svg.fonttype`` "path"), so it looks the same on machines without the font.
    The figure is rendered to memory and written by :func:`tongzhen_gis.io.write_bytes`.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A map from this module (or any figure).
    path : str or path-like
        Ends in ``.png``, ``.pdf`` or ``.svg``; parent folders are created.
    dpi : int, default 300
        Resolution of PNG output (and of raster parts of PDF/SVG).

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    InputFileError
        The suffix is not one of ``.png``, ``.pdf``, ``.svg``.
    """
    from tongzhen_gis import io

    target = Path(path)
    fmt = EXPORT_FORMATS.get(target.suffix.lower())
    if fmt is None:
        msg = f"cannot export a map to {target.name!r}: use a file name ending in .png, .pdf or .svg"
        raise InputFileError(msg)
    rc = {"pdf.fonttype": 42, "ps.fonttype": 42, "svg.fonttype": "path", "svg.hashsalt": "tongzhen_gis"}
    metadata = {
        "png": {"Software": "tongzhen_gis"},
        "pdf": {"Creator": "tongzhen_gis", "CreationDate": None},
        "svg": {"Creator": "tongzhen_gis", "Date": None},
    }[fmt]
    buffer = _bytes_io.BytesIO()
    import matplotlib

    with matplotlib.rc_context(rc):
        fig.savefig(
            buffer, format=fmt, dpi=dpi, metadata=metadata, facecolor="white", bbox_inches="tight", pad_inches=0.1
        )
    return io.write_bytes(buffer.getvalue(), target)
