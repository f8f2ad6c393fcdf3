"""Find a font that can draw Chinese, register it with matplotlib, and use it without side effects.

A map with boxes (豆腐块) instead of Chinese characters cannot go into a report, so the maps never
rely on whatever matplotlib's default font happens to be. :func:`resolve_font` picks, in order:

1. a font file given by the caller (``font=``), or, when none is given, the file named by the
   environment variable ``TONGZHEN_FONT`` (:data:`FONT_ENV`);
2. Noto Sans CJK SC from the PyPI package ``noto-cjk-sans-otc`` (SIL OFL 1.1, a dependency of
   tongzhen_gis; the package ships one OpenType collection, ``NotoSansCJK-Regular.ttc``, whose
   third face is the Simplified Chinese one);
3. a Chinese font already known to matplotlib on the planner's machine, in the order of
   :data:`SYSTEM_FAMILIES` (SimHei, Microsoft YaHei, PingFang SC, …).

A font file that is given but missing, unreadable or without Chinese glyphs is an error, never
silently replaced by another font: the user asked for it. When nothing is found,
:class:`FontNotFoundError` says how to fix it.

Nothing here changes ``matplotlib.rcParams`` globally. Registering a file adds it to matplotlib's
font list (``font_manager.fontManager.addfont``), which only makes the font *available*;
:func:`font_context` applies it inside a ``matplotlib.rc_context`` and :func:`font_properties`
gives per-artist :class:`~matplotlib.font_manager.FontProperties`.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib
from matplotlib import font_manager, ft2font

from tongzhen_gis.errors import FontNotFoundError

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

__all__ = [
    "FONT_ENV",
    "NOTO_PACKAGE",
    "SYSTEM_FAMILIES",
    "FontNotFoundError",
    "ResolvedFont",
    "font_context",
    "font_properties",
    "resolve_font",
]

logger = logging.getLogger(__name__)

#: Environment variable naming a font file (``.ttf``, ``.otf``, ``.ttc``, ``.otc``) to use for maps.
FONT_ENV = "TONGZHEN_FONT"
#: Importable name of the PyPI package ``noto-cjk-sans-otc``.
NOTO_PACKAGE = "noto_cjk_sans_otc"
#: Family preferred inside a CJK collection (Simplified Chinese glyph shapes).
NOTO_FAMILY = "Noto Sans CJK SC"
#: Families looked up among the fonts matplotlib already knows, in this order.
SYSTEM_FAMILIES = (
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "PingFang",
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
)
#: Characters a font must have to count as able to draw a Chinese planning map.
PROBE_TEXT = "中国小镇生态保护红线永久基本农田城镇开发边界亩"
#: Latin fallback placed after the Chinese family (ships with matplotlib).
LATIN_FALLBACK = "DejaVu Sans"


@dataclass(frozen=True)
class ResolvedFont:
    """A Chinese-capable font registered with matplotlib.

    Attributes
    ----------
    family : str
        Family name matplotlib knows the font by, e.g. ``"Noto Sans CJK SC"``.
    path : pathlib.Path
        The font file.
    face_index : int
        Face inside a collection (``.ttc``/``.otc``); 0 for a single font file.
    source : str
        Where it came from: ``"argument"``, ``"environment"``, ``"noto-cjk-sans-otc"`` or
        ``"system"``.
    """

    family: str
    path: Path
    face_index: int
    source: str

    @property
    def families(self) -> list[str]:
        """The family list for ``font.family``: the Chinese font, then a Latin fallback."""
        return [self.family, LATIN_FALLBACK]


def _cjk_faces(path: Path) -> list[tuple[int, str]]:
    """``(face_index, family)`` of every face in ``path`` that has all of :data:`PROBE_TEXT`."""
    try:
        first = ft2font.FT2Font(os.fsdecode(path))
    except (OSError, RuntimeError, ValueError) as exc:
        msg = (
            f"cannot read font file {path}: {exc}; give a TrueType/OpenType font or collection "
            f"(.ttf, .otf, .ttc, .otc) that contains Chinese glyphs"
        )
        raise FontNotFoundError(msg) from exc
    faces = []
    for index in range(first.num_faces):
        face = first if index == 0 else ft2font.FT2Font(os.fsdecode(path), face_index=index)
        if all(face.get_char_index(ord(ch)) for ch in PROBE_TEXT):
            faces.append((index, face.family_name))
    return faces


@cache
def _register(path: Path) -> tuple[int, str] | None:
    """Register ``path`` with matplotlib once; return the preferred Chinese face or None."""
    faces = _cjk_faces(path)
    if not faces:
        return None
    font_manager.fontManager.addfont(os.fsdecode(path))
    for index, family in faces:
        if family == NOTO_FAMILY or family.endswith((" SC", " CN")):
            return index, family
    return faces[0]


def _from_file(path: str | os.PathLike[str], source: str) -> ResolvedFont:
    file = Path(path).expanduser()
    where = "font=" if source == "argument" else f"${FONT_ENV}"
    if not file.is_file():
        msg = (
            f"font file {file} (from {where}) does not exist; give the path of a .ttf/.otf/.ttc "
            f"font with Chinese glyphs, or leave {where} unset to use Noto Sans CJK SC from the "
            f"noto-cjk-sans-otc package"
        )
        raise FontNotFoundError(msg)
    face = _register(file.resolve())
    if face is None:
        msg = (
            f"font file {file} (from {where}) has no Chinese glyphs (tested: {PROBE_TEXT!r}); "
            f"give a Chinese font such as NotoSansCJK-Regular.ttc, simhei.ttf or msyh.ttc"
        )
        raise FontNotFoundError(msg)
    return ResolvedFont(family=face[1], path=file.resolve(), face_index=face[0], source=source)


def _noto_path() -> Path | None:
    try:
        package = importlib.import_module(NOTO_PACKAGE)
    except ImportError:
        return None
    path = Path(os.fsdecode(package.FONT_PATH))
    return path if path.is_file() else None


def _system_font() -> ResolvedFont | None:
    by_name: dict[str, font_manager.FontEntry] = {}
    for listed in font_manager.fontManager.ttflist:
        by_name.setdefault(listed.name, listed)
    for family in SYSTEM_FAMILIES:
        entry = by_name.get(family)
        if entry is None:
            continue
        path = Path(entry.fname)
        try:
            face = ft2font.FT2Font(os.fsdecode(path), face_index=entry.index)
        except (OSError, RuntimeError, ValueError):
            logger.debug("skipping unreadable system font %s", path)
            continue
        if all(face.get_char_index(ord(ch)) for ch in PROBE_TEXT):
            return ResolvedFont(family=entry.name, path=path, face_index=entry.index, source="system")
    return None


def resolve_font(font: str | os.PathLike[str] | None = None) -> ResolvedFont:
    """Find a font that draws Chinese and register it with matplotlib.

    Parameters
    ----------
    font : str or path-like, optional
        A font file to use. When None, ``$TONGZHEN_FONT`` is used if set, then Noto Sans CJK SC
        from ``noto-cjk-sans-otc``, then a system font (:data:`SYSTEM_FAMILIES`).

    Returns
    -------
    ResolvedFont

    Raises
    ------
    FontNotFoundError
        The given file (or ``$TONGZHEN_FONT``) is missing or has no Chinese glyphs, or no
        Chinese font exists at all. A given file is never silently replaced by another font.
    """
    if font is not None:
        return _from_file(font, "argument")
    env = os.environ.get(FONT_ENV, "").strip()
    if env:
        return _from_file(env, "environment")
    noto = _noto_path()
    if noto is not None:
        face = _register(noto.resolve())
        if face is not None:
            return ResolvedFont(family=face[1], path=noto.resolve(), face_index=face[0], source="noto-cjk-sans-otc")
        logger.warning("the noto-cjk-sans-otc font %s has no Chinese glyphs; trying system fonts", noto)
    system = _system_font()
    if system is not None:
        return system
    msg = (
        "no font able to draw Chinese was found, so maps would show boxes instead of characters; "
        "install the font package (pip install noto-cjk-sans-otc), or give a font file with "
        f"font='path/to/font.ttc' or the environment variable {FONT_ENV} (e.g. simhei.ttf, msyh.ttc)"
    )
    raise FontNotFoundError(msg)


def font_properties(font: ResolvedFont, *, size: float | str | None = None, weight: str | None = None):
    """:class:`matplotlib.font_manager.FontProperties` for ``font`` (per-artist, no global change)."""
    return font_manager.FontProperties(family=font.families, size=size, weight=weight)


@contextlib.contextmanager
def font_context(font: ResolvedFont) -> Iterator[ResolvedFont]:
    """Use ``font`` for every text created inside the block, then restore ``rcParams``.

    The family names are concrete (not the generic ``sans-serif``), so text created inside the
    block keeps the Chinese font when the figure is drawn or saved later, outside the block.
    """
    rc: dict[RcKeyType, Any] = {"font.family": font.families, "axes.unicode_minus": False}
    with matplotlib.rc_context(rc):
        yield font
