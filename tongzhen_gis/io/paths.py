"""Paths, text and bytes: safe file names from user data, plain text and binary writes.

Writers create parent folders and return the :class:`pathlib.Path` written.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from pathlib import Path
from typing import Any

from tongzhen_gis.errors import InputFileError

__all__ = ["read_text", "safe_join", "write_bytes", "write_text"]

logger = logging.getLogger(__name__)

_NAME_BYTES = 240  # below the 255-byte file-name limit of common file systems
_WINDOWS_FORBIDDEN = re.compile(r'[<>:"|?*]')
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def _require_exists(path: Path) -> None:
    if not path.exists():
        msg = f"file not found: {path}; check the path and the file name (absolute path: {path.absolute()})"
        raise InputFileError(msg)


def _mkparent(path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def read_text(path: str | Path, *, encoding: str = "utf-8") -> str:
    """Read a text file (a ``project.toml``, a rule file …).

    Parameters
    ----------
    path : str or pathlib.Path
    encoding : str, default "utf-8"

    Returns
    -------
    str

    Raises
    ------
    InputFileError
        The file is missing or is not text in ``encoding``.
    """
    path = Path(path)
    if not path.is_file():
        msg = f"{path}: no such file; check the path (relative paths start from {Path.cwd()})"
        raise InputFileError(msg)
    try:
        return path.read_text(encoding=encoding)
    except UnicodeDecodeError as exc:
        msg = f"{path}: not {encoding} text ({exc.reason} at byte {exc.start}); save it as UTF-8 or pass encoding="
        raise InputFileError(msg) from exc


def write_text(text: str, path: str | Path, *, encoding: str = "utf-8") -> Path:
    """Write text (HTML, Markdown, SVG …) to ``path``, creating parent folders.

    Parameters
    ----------
    text : str
    path : str or pathlib.Path
    encoding : str, default "utf-8"

    Returns
    -------
    pathlib.Path
    """
    path = _mkparent(path)
    path.write_text(text, encoding=encoding)
    return path


def write_bytes(data: bytes, path: str | Path) -> Path:
    """Write bytes (a PNG, a PDF …) to ``path``, creating parent folders.

    Parameters
    ----------
    data : bytes
    path : str or pathlib.Path

    Returns
    -------
    pathlib.Path
    """
    path = _mkparent(path)
    path.write_bytes(data)
    return path


def _clean_part(part: Any) -> str:
    text = unicodedata.normalize("NFC", str(part))
    problem = None
    if not text.strip():
        problem = "is empty"
    elif "/" in text or "\\" in text:
        problem = "contains a path separator (/ or \\)"
    elif any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in text):
        problem = "contains control characters"
    elif text.strip() in (".", ".."):
        problem = "is '.' or '..'"
    if problem is not None:
        msg = f"file name part {part!r} {problem}; use a plain name such as the town's name or id"
        raise InputFileError(msg)
    # Characters Windows refuses in file names; trailing dots/spaces vanish on Windows.
    text = _WINDOWS_FORBIDDEN.sub("_", text.strip()).rstrip(". ")
    if not text or text.split(".")[0].upper() in _WINDOWS_RESERVED:
        text = f"_{text}"
    if len(text.encode("utf-8")) > _NAME_BYTES:
        stem, dot, suffix = text.rpartition(".")
        if not dot or not stem or len(suffix) > 10:
            stem, suffix = text, ""
        keep = _NAME_BYTES - len(suffix.encode("utf-8")) - (1 if suffix else 0)
        short = stem.encode("utf-8")[:keep].decode("utf-8", errors="ignore").rstrip(". ")
        logger.info("file name %r shortened to %d bytes", text, _NAME_BYTES)
        text = f"{short}.{suffix}" if suffix else short
    return text


def safe_join(base: str | Path, *parts: Any) -> Path:
    """Join file-name parts made from user data (town names) under ``base``, safely.

    Each part must be one plain name: not empty, without path separators, control
    characters or ``..``. Characters Windows refuses (``<>:"|?*``) become ``_``, trailing dots
    and spaces are removed, reserved names (``CON``, ``NUL`` …) get a ``_`` prefix, and names
    longer than 240 bytes (80 Chinese characters) are shortened, keeping their extension. The
    result is checked to lie inside ``base`` (symbolic links resolved).

    Parameters
    ----------
    base : str or pathlib.Path
        Folder the result must stay in.
    *parts : str
        Names, e.g. ``safe_join(out, "云栖小镇", "map.png")``.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    InputFileError
        A part is empty or would leave ``base``.

    Examples
    --------
    >>> safe_join("out", "云栖小镇", "map.png").as_posix()
    'out/云栖小镇/map.png'
    """
    base = Path(base)
    if not parts:
        msg = "safe_join needs at least one name to join to the base folder"
        raise InputFileError(msg)
    result = base.joinpath(*(_clean_part(p) for p in parts))
    if not result.resolve().is_relative_to(base.resolve()):
        msg = f"{result} would lie outside {base}; use plain names without '..' or links"
        raise InputFileError(msg)
    return result
