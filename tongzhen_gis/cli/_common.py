"""Plumbing shared by the ``tongzhen`` commands (private: not a public API).

The library never mentions the command line: its errors carry the Python fix in the message
(``layer='towns'``, ``crs='EPSG:4549'``) and the keyword it concerns in
:attr:`tongzhen_gis.errors.TongzhenError.param`. Each command maps those keywords to its own
options with a ``hints`` dict, e.g. ``{"layer": "--layer red-line=LAYER", "crs": "--crs
red-line=EPSG:4549"}``, so that a bad input still gets one line naming the input, the problem
and the option that fixes it, and rewording a library message cannot break the hint.
"""

from __future__ import annotations

import contextlib
import copy
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click
import geopandas as gpd

from tongzhen_gis import io
from tongzhen_gis.errors import TongzhenError

logger = logging.getLogger(__name__)

_F = TypeVar("_F", bound=Callable[..., Any])

#: Text between a library message and the command's own fix.
HINT_SEP = "; on the command line: "


def out_dir_option(help_text: str = "Output folder (created if needed).") -> Callable[[_F], _F]:
    """The ``--out OUT`` option every command writes into (passed to the command as ``out_dir``)."""
    return click.option(
        "--out",
        "out_dir",
        type=click.Path(file_okay=False, path_type=Path),
        required=True,
        help=help_text,
    )


def input_name(raw: str, names: Iterable[str], option: str) -> str:
    """The input ``raw`` names (case and ``_``/``-`` do not matter); a usage error if none.

    Raises
    ------
    click.BadParameter
        When ``raw`` is not one of ``names``.
    """
    names = tuple(names)
    name = raw.strip().lower().replace("_", "-")
    for known in names:
        if name == known.replace("_", "-"):
            return known
    msg = f"unknown input {raw!r} in {option}; use one of {', '.join(names)}"
    raise click.BadParameter(msg, param_hint=option)


def parse_named(
    values: Iterable[str],
    names: Iterable[str],
    option: str,
    *,
    bare: str | None = None,
    metavar: str = "VALUE",
) -> dict[str, str]:
    """Parse repeated ``NAME=VALUE`` options (``--crs red-line=EPSG:4549``) into ``{name: value}``.

    Parameters
    ----------
    values : iterable of str
        The option's values as click collected them.
    names : iterable of str
        The inputs the command knows.
    option : str
        The option, for messages (``"--crs"``).
    bare : str, optional
        The input a bare ``VALUE`` (no ``NAME=``) belongs to; None: a bare value is an error.
    metavar : str, default "VALUE"
        What the value is called in messages (``"CRS"``, ``"LAYER"``).

    Raises
    ------
    click.BadParameter
        An unknown name, a bare value where none is allowed, or nothing after ``=``.
    """
    names = tuple(names)
    out: dict[str, str] = {}
    for value in values:
        if "=" in value:
            raw, _, item = value.partition("=")
            if not raw.strip():
                msg = f"{value!r}: write {option} NAME={metavar} with NAME one of {', '.join(names)}"
                raise click.BadParameter(msg, param_hint=option)
            key = input_name(raw, names, option)
        elif bare is not None:
            key, item = bare, value
        else:
            msg = f"{value!r}: write {option} NAME={metavar} with NAME one of {', '.join(names)}"
            raise click.BadParameter(msg, param_hint=option)
        if not item.strip():
            msg = f"{value!r} gives no value after '='; write {option} NAME={metavar}"
            raise click.BadParameter(msg, param_hint=option)
        out[key] = item.strip()
    return out


def with_context(exc: TongzhenError, *, where: str | None = None, hints: Mapping[str, str | None]) -> TongzhenError:
    """The same error (same class, ``param``, ``problems`` …) with a prefix and the command's fix.

    Parameters
    ----------
    exc : TongzhenError
        The library error.
    where : str, optional
        Prefix naming the input, e.g. ``"red-line (x.shp)"``.
    hints : mapping of str to str
        Command-line fix for each ``exc.param`` the command can fix; appended after
        :data:`HINT_SEP`. A param not in ``hints`` (or mapped to None) gets no suffix.
    """
    text = str(exc)
    if where:
        text = f"{where}: {text}"
    hint = hints.get(exc.param) if exc.param is not None else None
    if hint:
        text += f"{HINT_SEP}{hint}"
    new = copy.copy(exc)  # keeps the class and every attribute (param, problems …)
    new.args = (text,)
    return new


@contextlib.contextmanager
def hinted(hints: Mapping[str, str | None], *, where: str | None = None) -> Iterator[None]:
    """Re-raise any :class:`TongzhenError` of the block with the command's fix (see :func:`with_context`)."""
    try:
        yield
    except TongzhenError as exc:
        raise with_context(exc, where=where, hints=hints) from exc


def read_input(
    name: str,
    path: Path,
    *,
    layer: str | None,
    crs: str | None,
    coord_system: str | None = None,
    hints: Mapping[str, str | None],
    drop_empty: bool = True,
) -> gpd.GeoDataFrame:
    """Read one input with :func:`tongzhen_gis.io.read_layer`; errors name it and this command's fix.

    Parameters
    ----------
    name : str
        The input's name in messages (``"red-line"``, ``"homes"``).
    path : Path
        Its file.
    layer, crs, coord_system
        Passed to :func:`~tongzhen_gis.io.read_layer`.
    hints : mapping of str to str
        ``{param: option}``: the command's fix for each library keyword, e.g.
        ``{"layer": "--layer red-line=LAYER", "crs": "--crs red-line=EPSG:4549"}``.
    drop_empty : bool, default True
        False keeps the features without geometry (missing geometry), for commands that write
        a result per feature and report those as not measured.

    Raises
    ------
    TongzhenError
        The library's error, same class, as ``"NAME (PATH): message; on the command line: OPTION"``.
    """
    with hinted(hints, where=f"{name} ({path})"):
        gdf = io.read_layer(path, layer=layer, crs=crs, coord_system=coord_system, drop_empty=drop_empty)
    logger.info("read %d features from %s (%s)", len(gdf), path, name)
    return gdf


def dropped_empty_note(name: str, gdf: gpd.GeoDataFrame) -> str | None:
    """A ``note:`` text naming the features :func:`read_input` dropped for lack of geometry, or None."""
    info = gdf.attrs.get("repairs", {}) or {}
    count = int(info.get("empty_removed", 0) or 0)
    if not count:
        return None
    rows = [str(i) for i in info.get("empty_removed_index", [])]
    shown = ", ".join(rows[:20]) + (f" … ({len(rows) - 20} more)" if len(rows) > 20 else "")
    return f"{name}: {count} feature(s) with an empty or missing geometry not read (file rows {shown})"
