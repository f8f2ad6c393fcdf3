"""Plumbing shared by the ``tongzhen`` commands (private: not a public API).

The library never mentions the command line: its errors carry the Python fix in the message
(``layer='towns'``, ``crs='EPSG:4549'``) and the keyword it concerns in
:attr:`tongzhen_gis.errors.TongzhenError.param`. Each command maps those keywords to its own
options with a ``hints`` dict, e.g. ``{"layer": "--layer red-line=LAYER", "crs": "--crs
red-line=EPSG:4549"}``, so that a bad input still gets one line naming the input, the problem
and the option that fixes it, and rewording a library message cannot break the hint.
"""

from __future__ import annotations

import codecs
import contextlib
import copy
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import click
import geopandas as gpd

from tongzhen_gis import io
from tongzhen_gis.crs import COORD_SYSTEMS
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


def input_options(inputs: Iterable[str], *, bare: str | None = None) -> Callable[[_F], _F]:
    """The per-input options every command shares (``--layer NAME=LAYER`` and the like).

    One convention for every command (``NAME`` is one of the command's inputs)::

        --layer NAME=LAYER          layer inside a multi-layer file (GeoPackage, FileGDB)
        --crs NAME=CRS              CRS of a file that has none (no .prj), or whose
                                    coordinates contradict its own
        --coord-system NAME=SYSTEM  wgs84 | gcj02 | bd09: web-map coordinates converted first
        --encoding NAME=ENCODING    text encoding of a shapefile's attributes (GBK, UTF-8 …),
                                    over its .cpg and the guess from the bytes
        --swap-xy NAME              X and Y exchanged first (latitude-first or northing-first files)

    The command receives them as ``layers``, ``crss``, ``coord_systems``, ``encodings`` and
    ``swap_xys`` (tuples of the raw values), gathered as ``**per_input`` after its own
    parameters, and parses them with ``parse_input_options(**per_input, inputs=…, given=…)``.

    Parameters
    ----------
    inputs : iterable of str
        The command's input names, for the help text.
    bare : str, optional
        The input a value without ``NAME=`` belongs to (the command's positional input).
    """
    names = ", ".join(inputs)
    bare_text = f" (bare value: {bare.upper()})" if bare else ""
    options = [
        click.option(
            "--layer",
            "layers",
            multiple=True,
            metavar="NAME=LAYER",
            help=f"Layer inside a multi-layer file, NAME one of {names}{bare_text}. Repeatable.",
        ),
        click.option(
            "--crs",
            "crss",
            multiple=True,
            metavar="NAME=CRS",
            help=f"CRS of an input file that has none, e.g. EPSG:4549{bare_text}. Repeatable.",
        ),
        click.option(
            "--coord-system",
            "coord_systems",
            multiple=True,
            metavar="NAME=SYSTEM",
            help=(
                "Coordinate system of a lon/lat input: wgs84, gcj02 (Amap/Tencent) or bd09 (Baidu); "
                f"web-map coordinates are converted first{bare_text}. Repeatable."
            ),
        ),
        click.option(
            "--encoding",
            "encodings",
            multiple=True,
            metavar="NAME=ENCODING",
            help=(
                "Text encoding of a shapefile's attributes, e.g. GBK or UTF-8: wins over its .cpg and the guess "
                f"from the bytes{bare_text}. Repeatable."
            ),
        ),
        click.option(
            "--swap-xy",
            "swap_xys",
            multiple=True,
            metavar="NAME",
            help=f"Exchange X and Y of input NAME (latitude-first or northing-first files), NAME one of {names}. "
            "Repeatable.",
        ),
    ]

    def decorate(func: _F) -> _F:
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


@dataclass(frozen=True)
class InputOptions:
    """The parsed per-input options of a command: ``{input name: value}`` each."""

    layer: dict[str, str] = field(default_factory=dict)
    crs: dict[str, str] = field(default_factory=dict)
    coord_system: dict[str, str] = field(default_factory=dict)
    encoding: dict[str, str] = field(default_factory=dict)
    swap_xy: frozenset[str] = frozenset()

    @staticmethod
    def hints(name: str) -> dict[str, str]:
        """The command's fix for each library keyword, for input ``name`` (see :func:`with_context`).

        Always in the ``NAME=`` form, which is valid for every input (also the bare one).
        """
        return {
            "layer": f"--layer {name}=LAYER",
            "crs": f"--crs {name}=EPSG:4549",
            "coord_system": f"--coord-system {name}=wgs84|gcj02|bd09, or drop it",
            "encoding": f"--encoding {name}=GBK (or UTF-8)",
            "swap_xy": f"--swap-xy {name}",
        }

    def read(self, name: str, path: Path, *, drop_empty: bool = True, repair: bool = True) -> gpd.GeoDataFrame:
        """Read input ``name`` with its own ``--layer``, ``--crs``, ``--coord-system``, ``--encoding``, ``--swap-xy``.

        Every command reads its inputs through here, so a per-input option works alike in each;
        ``drop_empty`` and ``repair`` as in :func:`read_input`.
        """
        return read_input(
            name,
            path,
            layer=self.layer.get(name),
            crs=self.crs.get(name),
            coord_system=self.coord_system.get(name),
            encoding=self.encoding.get(name),
            hints=self.hints(name),
            drop_empty=drop_empty,
            swap_xy=name in self.swap_xy,
            repair=repair,
        )


def parse_input_options(
    *,
    layers: Iterable[str],
    crss: Iterable[str],
    coord_systems: Iterable[str],
    inputs: Iterable[str],
    given: Iterable[str],
    bare: str | None = None,
    swap_xys: Iterable[str] = (),
    encodings: Iterable[str] = (),
) -> InputOptions:
    """Parse the per-input options ``--layer`` … ``--swap-xy`` (see :func:`input_options`).

    Parameters
    ----------
    layers, crss, coord_systems, encodings, swap_xys : iterable of str
        The raw option values.
    inputs : iterable of str
        Every input the command knows.
    given : iterable of str
        The inputs given on this command line: an option naming another one is a usage error.
    bare : str, optional
        The input a bare value belongs to.

    Raises
    ------
    click.BadParameter, click.UsageError
        Unknown input, a bare value where none is allowed, an unknown coordinate system or text
        encoding, or an option naming an input that was not given.
    """
    inputs = tuple(inputs)
    parsed = InputOptions(
        layer=parse_named(layers, inputs, "--layer", bare=bare, metavar="LAYER"),
        crs=parse_named(crss, inputs, "--crs", bare=bare, metavar="CRS"),
        coord_system=parse_named(coord_systems, inputs, "--coord-system", bare=bare, metavar="|".join(COORD_SYSTEMS)),
        encoding=parse_named(encodings, inputs, "--encoding", bare=bare, metavar="ENCODING"),
        swap_xy=frozenset(input_name(raw, inputs, "--swap-xy") for raw in swap_xys),
    )
    for name, system in parsed.coord_system.items():
        if system.lower() not in COORD_SYSTEMS:
            msg = f"{name}={system}: unknown coordinate system; use one of {', '.join(COORD_SYSTEMS)}"
            raise click.BadParameter(msg, param_hint="--coord-system")
        parsed.coord_system[name] = system.lower()
    for name, encoding in parsed.encoding.items():
        try:
            codecs.lookup(encoding)
        except LookupError:
            msg = f"{name}={encoding}: unknown text encoding; use e.g. GBK, GB18030 or UTF-8"
            raise click.BadParameter(msg, param_hint="--encoding") from None
    given_set = set(given)
    for option, named in (
        ("--layer", parsed.layer),
        ("--crs", parsed.crs),
        ("--coord-system", parsed.coord_system),
        ("--encoding", parsed.encoding),
        ("--swap-xy", parsed.swap_xy),
    ):
        for name in sorted(set(named) - given_set):
            value = "" if option == "--swap-xy" else "=..."
            msg = f"{option} {name}{value} needs --{name}; give the file or drop the option"
            raise click.UsageError(msg)
    return parsed


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
    text = _column_options(str(exc), hints)
    if where:
        text = f"{where}: {text}"
    hint = hints.get(exc.param) if exc.param is not None else None
    if hint and exc.suggested and "EPSG:4549" in hint:  # the library named the CRS that fits
        hint = hint.replace("EPSG:4549", exc.suggested)
    if hint:
        text += f"{HINT_SEP}{hint}"
    new = copy.copy(exc)  # keeps the class and every attribute (param, problems …)
    new.args = (text,)
    return new


def _column_options(text: str, hints: Mapping[str, str | None]) -> str:
    """``pass id_col= naming the column`` → ``pass --id-col naming the column``: a command names its options.

    Only the column keywords (``*_col``) are rewritten: their option takes the same value as the
    keyword. Others (``crs=``, ``layer=``) keep the Python fix, and the hint names the option.
    """
    for keyword, hint in hints.items():
        if hint and keyword.endswith("_col"):
            option = hint.split()[0]
            text = re.sub(rf"(?<![\w-]){re.escape(keyword)}=(?=['\"])", f"{option} ", text)
            text = re.sub(rf"(?<![\w-]){re.escape(keyword)}=", option, text)
    return text


class _EncodingHint(logging.Filter):
    """Adds the command's ``--encoding NAME=…`` to a logged warning that tells to pass ``encoding=``."""

    def __init__(self, hint: str) -> None:
        super().__init__()
        self.hint = hint

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if "encoding=" in text and self.hint not in text:
            record.msg, record.args = f"{text}{HINT_SEP}{self.hint}", None
        return True


@contextlib.contextmanager
def _encoding_hint(hint: str | None) -> Iterator[None]:
    """While reading one input, its .cpg / GBK warnings also name the command's ``--encoding`` option."""
    if not hint:
        yield
        return
    logger = logging.getLogger("tongzhen_gis.io.encodings")
    hint_filter = _EncodingHint(hint)
    logger.addFilter(hint_filter)
    try:
        yield
    finally:
        logger.removeFilter(hint_filter)


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
    encoding: str | None = None,
    hints: Mapping[str, str | None],
    drop_empty: bool = True,
    swap_xy: bool = False,
    repair: bool = True,
) -> gpd.GeoDataFrame:
    """Read one input with :func:`tongzhen_gis.io.read_layer`; errors name it and this command's fix.

    Parameters
    ----------
    name : str
        The input's name in messages (``"red-line"``, ``"homes"``).
    path : Path
        Its file.
    layer, crs, coord_system, encoding
        Passed to :func:`~tongzhen_gis.io.read_layer`.
    hints : mapping of str to str
        ``{param: option}``: the command's fix for each library keyword, e.g.
        ``{"layer": "--layer red-line=LAYER", "crs": "--crs red-line=EPSG:4549"}``.
    drop_empty : bool, default True
        False keeps the features without geometry (missing geometry), for commands that write
        a result per feature and report those as not measured.
    swap_xy : bool, default False
        Exchange X and Y first (``--swap-xy NAME``).
    repair : bool, default True
        Passed to :func:`~tongzhen_gis.io.read_layer`: False when the analysis validates and
        reports the geometries it uses itself.

    Raises
    ------
    TongzhenError
        The library's error, same class, as ``"NAME (PATH): message; on the command line: OPTION"``.
    """
    with hinted(hints, where=f"{name} ({path})"), _encoding_hint(hints.get("encoding")):
        gdf = io.read_layer(
            path,
            layer=layer,
            crs=crs,
            coord_system=coord_system,
            encoding=encoding,
            drop_empty=drop_empty,
            swap_xy=swap_xy,
            repair=repair,
        )
    logger.info("read %d features from %s (%s)", len(gdf), path, name)
    return gdf


def dropped_empty_note(name: str, gdf: gpd.GeoDataFrame) -> str | None:
    """A ``note:`` text naming the features :func:`read_input` dropped or set aside, or None.

    Features without geometry, and those set aside for their coordinates
    (:func:`set_aside_notes`), in one line.
    """
    info = gdf.attrs.get("repairs", {}) or {}
    count = int(info.get("empty_removed", 0) or 0)
    notes = set_aside_notes(name, gdf)
    if count:
        rows = [str(i) for i in info.get("empty_removed_index", [])]
        shown = ", ".join(rows[:20]) + (f" … ({len(rows) - 20} more)" if len(rows) > 20 else "")
        notes.insert(0, f"{name}: {count} feature(s) with an empty or missing geometry not read (file rows {shown})")
    return "; ".join(notes) or None


def set_aside_notes(name: str, gdf: gpd.GeoDataFrame) -> list[str]:
    """``note:`` texts naming the features :func:`read_input` set aside for their coordinates.

    NaN or infinite coordinates, and features outside the area of use of the layer's CRS (see
    :func:`tongzhen_gis.io.read_layer`); empty when there are none.
    """
    info = gdf.attrs.get("repairs", {}) or {}
    crs = gdf.crs.to_string() if gdf.crs is not None else "its CRS"
    notes = []
    for key, what in (
        ("nonfinite", "with a NaN or infinite coordinate"),
        ("outside_area_of_use", f"outside the area of use of {crs} (impossible coordinates)"),
    ):
        rows = [str(i) for i in info.get(f"{key}_index", []) or []]
        if rows:
            shown = ", ".join(rows[:20]) + (f" … ({len(rows) - 20} more)" if len(rows) > 20 else "")
            notes.append(f"{name}: {len(rows)} feature(s) {what} not used (file rows {shown})")
    return notes
