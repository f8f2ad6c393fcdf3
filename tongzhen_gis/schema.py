"""Roles of input layers: required columns, accepted aliases, land-use codes.

Every analysis reads its inputs by *role* (towns, control lines, land-use parcels, buildings,
facilities, homes, the enterprises table, roads …) and by *canonical column names*
(``town_id``, ``landuse_code``, ``floors``, ``tax_wan`` …). Real files name their columns in
many ways (``小镇编号``, ``用地代码``, ``层数``, ``税收(万元)``); :func:`standardize` renames the
accepted aliases to the canonical names and :func:`validate` also checks the values, listing
every problem in one :class:`~tongzhen_gis.errors.SchemaError`.

The roles, their columns and aliases are data, in ``tongzhen_gis/rules/schema.toml``; add the
column names of your own files there. :data:`ROLES` holds them as :class:`Role` objects and
:func:`roles_table` as a table for the docs.

Decisions
---------
* Aliases match case-insensitively after Unicode NFKC normalisation (full-width ``（亩）``
  equals ``(亩)``) and with spaces removed. A column whose unit differs from the canonical one
  (``用地面积(平方米)`` for ``land_mu``) is *not* an alias and is left alone.
* Land-use codes (用地用海) are text: ``"0701"``, never ``701``. Codes read as numbers have
  lost their leading zero and are reported, not repaired, because ``701`` could be ``0701``
  or a typo.
* 三调 ``DLBM`` codes are a different classification: a parcels layer that only has
  ``DLBM`` is told to convert with :func:`dlbm_to_yongdi` (or to use the ``dltb`` role).
  The mapping is data (``tz.rules.load("landuse")["dlbm_to_yongdi"]``), matched by longest
  prefix; unmapped codes are listed, never guessed.
* Number columns holding text are read by :func:`validate` and :func:`parse_numbers` with
  :mod:`tongzhen_gis.textnumbers`: what has one reading (``"120"``, ``"１２０"``, ``"1,200"``,
  ``"1.2亿"`` in a 万元 column, ``"—"`` for missing) is converted and each conversion reported
  in ``attrs["repairs"]``; any other text (``"约120"``, ``"120-150"``) is a problem naming
  its cells.
* Money may state its unit in the header: ``税收(亿元)`` or ``产值（元）`` is accepted for a
  ``_wan`` column and multiplied into 万元 by :func:`validate` (factors in ``schema.toml``
  ``unit_conversion``); only plain numbers are multiplied, a cell that states its own
  magnitude or unit (``1.2亿``, ``5000元``) is read as written; every conversion other than 万元 → 万元 is listed in
  ``attrs["unit_conversions"]``.
  :func:`standardize` renames plain aliases only, since it does not touch values.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePath
from types import MappingProxyType
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from tongzhen_gis import rules
from tongzhen_gis.crs import missing_crs_message
from tongzhen_gis.errors import OptionError, RuleDataError, SchemaError

__all__ = [
    "KINDS",
    "LANDUSE_GROUPS",
    "ROLES",
    "Column",
    "Role",
    "absent_column_hint",
    "dlbm_to_yongdi",
    "find_column",
    "landuse_classes",
    "landuse_level1",
    "parse_numbers",
    "require_polygons",
    "role_for_layer_name",
    "roles_table",
    "same_meaning",
    "standardize",
    "unit_factors",
    "use_columns",
    "validate",
]

logger = logging.getLogger(__name__)

#: Kinds of column: ``id`` (non-null, unique), ``key`` (non-null reference to another layer),
#: ``text``, ``number``, ``landuse_code`` (用地用海 code as text), ``dlbm`` (三调 code as text).
KINDS = ("id", "key", "text", "number", "landuse_code", "dlbm")
_GEOMETRY_KINDS = {
    "polygon": ("Polygon", "MultiPolygon"),
    "line": ("LineString", "MultiLineString", "LinearRing"),
    "point": ("Point", "MultiPoint"),
    "any": None,
    "none": None,
}
_LANDUSE_PATTERN = r"\d{2}(?:\d{2}){0,2}"
_MAX_LISTED = 5
_MAX_CELLS = 20  # cells named in one message
_FILE_SUFFIXES = (".shp", ".gpkg", ".geojson", ".json", ".gdb", ".fgb", ".parquet", ".csv", ".xlsx", ".xls", ".tab")


@dataclass(frozen=True)
class Column:
    """One canonical column of a role.

    Attributes
    ----------
    name : str
        Canonical name used by every analysis.
    kind : str
        One of :data:`KINDS`.
    required : bool
        Whether the role cannot be used without it.
    aliases : tuple of str
        Other accepted names (matched case-insensitively).
    nonnegative : bool
        Whether numbers below zero are a problem.
    unit : str
        Unit of a number column ("" when not applicable).
    note : str
        Free text for the docs.
    """

    name: str
    kind: str
    required: bool = False
    aliases: tuple[str, ...] = ()
    nonnegative: bool = False
    unit: str = ""
    note: str = ""

    @property
    def accepted(self) -> tuple[str, ...]:
        """The canonical name followed by its aliases."""
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class Role:
    """What a layer of one role must hold.

    Attributes
    ----------
    name : str
        Role id (``"towns"``, ``"red_line"`` …).
    label_zh : str
        Chinese name.
    description : str
        One line for the docs.
    geometry : str
        ``"polygon"``, ``"line"``, ``"point"``, ``"any"`` or ``"none"`` (a plain table).
    layer_codes : tuple of str
        Layer codes and names that announce the role (see :func:`role_for_layer_name`).
    columns : Mapping[str, Column]
        Canonical columns by name.
    """

    name: str
    label_zh: str
    description: str
    geometry: str
    layer_codes: tuple[str, ...]
    columns: Mapping[str, Column]

    @property
    def required(self) -> tuple[str, ...]:
        """Names of the required columns."""
        return tuple(c.name for c in self.columns.values() if c.required)

    @property
    def is_geo(self) -> bool:
        """Whether layers of this role carry geometry."""
        return self.geometry != "none"


def _norm(name: Hashable) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(name))).casefold()


def _build_roles() -> Mapping[str, Role]:
    data = rules.load("schema")["role"]
    roles: dict[str, Role] = {}
    for role_name, entry in data.items():
        where = f"schema.toml: role.{role_name}"
        geometry = entry.get("geometry", "any")
        if geometry not in _GEOMETRY_KINDS:
            msg = f"{where}.geometry must be one of {list(_GEOMETRY_KINDS)}, got {geometry!r}"
            raise RuleDataError(msg)
        columns: dict[str, Column] = {}
        seen: dict[str, str] = {}
        for col_name, col in entry.get("column", {}).items():
            kind = col.get("kind")
            if kind not in KINDS:
                msg = f"{where}.column.{col_name}.kind must be one of {KINDS}, got {kind!r}"
                raise RuleDataError(msg)
            column = Column(
                name=col_name,
                kind=kind,
                required=bool(col.get("required", False)),
                aliases=tuple(col.get("aliases", ())),
                nonnegative=bool(col.get("nonnegative", False)),
                unit=str(col.get("unit", "")),
                note=str(col.get("note", "")),
            )
            for alias in column.accepted:
                key = _norm(alias)
                if key in seen and seen[key] != col_name:
                    msg = f"{where}: alias {alias!r} is given for both {seen[key]!r} and {col_name!r}; keep it in one"
                    raise RuleDataError(msg)
                seen[key] = col_name
            columns[col_name] = column
        roles[role_name] = Role(
            name=role_name,
            label_zh=str(entry.get("label_zh", "")),
            description=str(entry.get("description", "")),
            geometry=geometry,
            layer_codes=tuple(entry.get("layer_codes", ())),
            columns=MappingProxyType(columns),
        )
    return MappingProxyType(roles)


#: Every role by name, read from ``rules/schema.toml``.
ROLES: Mapping[str, Role] = _build_roles()


def _role(role: str | Role) -> Role:
    if isinstance(role, Role):
        return role
    try:
        return ROLES[role]
    except KeyError:
        msg = f"unknown layer role {role!r}; roles: {', '.join(ROLES)}"
        raise OptionError(msg, param="role") from None


def roles_table() -> pd.DataFrame:
    """Every role's columns as a table (for the docs and ``tongzhen`` help).

    Returns
    -------
    DataFrame
        One row per (role, column): ``role``, ``label_zh``, ``geometry``, ``column``,
        ``required``, ``kind``, ``unit``, ``aliases`` (joined with ", ").
    """
    rows = [
        {
            "role": r.name,
            "label_zh": r.label_zh,
            "geometry": r.geometry,
            "column": c.name,
            "required": c.required,
            "kind": c.kind,
            "unit": c.unit,
            "aliases": ", ".join(c.aliases),
        }
        for r in ROLES.values()
        for c in r.columns.values()
    ]
    return pd.DataFrame(rows)


def role_for_layer_name(name: str | PurePath) -> str | None:
    """Recognise a layer's role from its name or file name.

    National layer codes are matched as tokens (not inside longer Latin words), so
    ``"330100STBHHX2022.shp"`` and ``"YJJBNTBHTB"`` are recognised but ``"DLTBX"`` is not;
    Chinese names (``生态保护红线``) are matched anywhere in the name; a role's own name
    (``"red_line"``) is accepted too. The longest matching code wins.

    Parameters
    ----------
    name : str or path
        Layer name, or file name / path (the folder and suffix are ignored).

    Returns
    -------
    str or None
        The role, or None when nothing matches.

    Examples
    --------
    >>> role_for_layer_name("STBHHX"), role_for_layer_name("330100_YJJBNT.shp"), role_for_layer_name("CZKFBJ")
    ('red_line', 'farmland', 'urban_boundary')
    >>> role_for_layer_name("XZQ") is None
    True
    """
    text = PurePath(str(name)).name
    for suffix in _FILE_SUFFIXES:
        if text.lower().endswith(suffix):
            text = text[: -len(suffix)]
            break
    text = unicodedata.normalize("NFKC", text).upper()
    best: tuple[int, str] | None = None
    for role in ROLES.values():
        for code in (role.name, *role.layer_codes):
            code_u = unicodedata.normalize("NFKC", code).upper()
            if code_u.isascii():
                found = re.search(rf"(?<![A-Z]){re.escape(code_u)}(?![A-Z])", text) is not None
            else:
                found = code_u in text
            if found and (best is None or len(code_u) > best[0]):
                best = (len(code_u), role.name)
    return best[1] if best else None


def _alias_lookup(spec: Role) -> dict[str, str]:
    return {_norm(alias): col.name for col in spec.columns.values() for alias in col.accepted}


def find_column(df: pd.DataFrame, role: str | Role, name: str) -> Hashable | None:
    """The column of ``df`` that holds ``name``: itself, or a column under another accepted name.

    A canonical column name of the role (``"town_id"``, the default of every ``id_col=``) finds
    a column of ``df`` under any of its accepted names (``小镇编号``, ``XZBH`` …: case-insensitive,
    after NFKC normalisation, spaces ignored). Any other name (one the caller chose) is taken
    literally and only found as itself.

    Parameters
    ----------
    df : DataFrame or GeoDataFrame
        The layer or table.
    role : str or Role
        One of :data:`ROLES`.
    name : str
        The column asked for (``id_col``, ``floors_col`` … of a function).

    Returns
    -------
    Hashable or None
        The column label in ``df``, or None when none is there.

    Raises
    ------
    SchemaError
        Two or more columns of ``df`` mean the same thing (``小镇编号`` and ``小镇代码``); the
        message names them, and ``param`` is None (the caller knows its keyword).

    Examples
    --------
    >>> import pandas as pd
    >>> find_column(pd.DataFrame({"小镇编号": ["T1"]}), "towns", "town_id")
    '小镇编号'
    >>> find_column(pd.DataFrame({"town_id": ["T1"]}), "towns", "XZBH") is None  # a chosen name is literal
    True
    """
    if name in df.columns:
        return name
    spec = _role(role)
    if name not in spec.columns:
        return None
    lookup = _alias_lookup(spec)
    canonical = name
    geom = _geometry_name(df)
    found = [c for c in df.columns if c != geom and lookup.get(_norm(c)) == canonical]
    if len(found) > 1:
        problem = (
            f"columns {', '.join(repr(str(c)) for c in found)} all mean {canonical!r} ({spec.name}): "
            "keep one and drop or rename the others, or name the one to use"
        )
        raise SchemaError(problem, [problem])
    return found[0] if found else None


def use_columns(df: pd.DataFrame, role: str | Role, *names: str | None) -> pd.DataFrame:
    """``df`` with the columns a function asks for under the names it asks for.

    Each canonical name of ``names`` missing from ``df`` but present under one of its aliases
    (:func:`find_column`) is renamed to the name asked for, in a copy; the renaming is
    logged and recorded in ``attrs["renamed_columns"]``. Names found nowhere are left to the
    caller to report. This is how every function with an ``id_col=``, ``floors_col=`` …
    keyword accepts the aliases of ``rules/schema.toml``.

    Parameters
    ----------
    df : DataFrame or GeoDataFrame
        The layer or table (returned unchanged, not copied, when nothing is renamed).
    role : str or Role
        One of :data:`ROLES`.
    *names : str or None
        The column names the caller uses (None entries are skipped).

    Returns
    -------
    DataFrame or GeoDataFrame

    Raises
    ------
    SchemaError
        Two columns of ``df`` mean one asked-for name (see :func:`find_column`).

    Examples
    --------
    >>> import pandas as pd
    >>> list(use_columns(pd.DataFrame({"小镇编号": ["T1"], "层数": [3]}), "buildings", "floors").columns)
    ['小镇编号', 'floors']
    """
    rename: dict[Hashable, str] = {}
    for name in names:
        if name is None or name in df.columns:
            continue
        found = find_column(df, role, name)
        if found is not None and found not in rename:
            rename[found] = name
    if not rename:
        return df
    logger.info("%s: using columns %s", _role(role).name, {str(k): v for k, v in rename.items()})
    out = df.rename(columns=rename)
    out.attrs["renamed_columns"] = {**df.attrs.get("renamed_columns", {}), **{str(k): v for k, v in rename.items()}}
    return out


def same_meaning(columns: Iterable[Hashable], name: str) -> list[Hashable]:
    """The ``columns`` (other than ``name``) that mean what ``name`` means, by the aliases of any role.

    ``name`` may be a canonical column (``"town_id"``) or one of its accepted names
    (``"town_code"``, ``"人口"``); a column is listed when it is an accepted name of the same
    canonical column (case-insensitive, NFKC, spaces ignored). For a message that suggests the
    column a user probably meant when the name they gave is not there; never used to pick a
    column silently (a name the caller chose is literal: :func:`find_column`).

    Examples
    --------
    >>> same_meaning(["XZBH", "名称"], "town_code")
    ['XZBH']
    >>> same_meaning(["人口", "name"], "pop")
    ['人口']
    >>> same_meaning(["a", "b"], "town_id")
    []
    """
    key = _norm(name)
    meaning = [{_norm(a) for a in col.accepted} for spec in ROLES.values() for col in spec.columns.values()]
    wanted = set().union(*(names for names in meaning if key in names))
    return [c for c in columns if c != name and _norm(c) in wanted]


def accepted_names(role: str | Role, name: str) -> tuple[str, ...]:
    """Every name :func:`find_column` accepts for ``name``: a canonical column's aliases, else ``name`` alone."""
    spec = _role(role)
    return spec.columns[name].accepted if name in spec.columns else (name,)


def absent_column_hint(columns: Iterable[Hashable], role: str | Role, name: str) -> str:
    """What a message says when column ``name`` is absent: the names looked for and a column that means the same.

    Examples
    --------
    >>> absent_column_hint(["人口", "geometry"], "homes", "人数")
    "looked for '人数'; '人口' means the same"
    """
    looked = ", ".join(map(repr, accepted_names(role, name)))
    alike = same_meaning(columns, name)
    return f"looked for {looked}" + (f"; {str(alike[0])!r} means the same" if alike else "")


def _geometry_name(df: pd.DataFrame) -> str | None:
    if isinstance(df, gpd.GeoDataFrame):
        try:
            return df.geometry.name
        except AttributeError:
            return None
    return None


def _standardize(df: pd.DataFrame, spec: Role) -> tuple[pd.DataFrame, set[str], list[str]]:
    lookup = _alias_lookup(spec)
    geom = _geometry_name(df)
    matches: dict[str, list[Hashable]] = {}
    for col in df.columns:
        if col == geom:
            continue
        canonical = lookup.get(_norm(col))
        if canonical is not None:
            matches.setdefault(canonical, []).append(col)
    problems = [
        f"columns {', '.join(repr(str(c)) for c in cols)} all mean {canonical!r}: "
        "keep one and drop or rename the others"
        for canonical, cols in matches.items()
        if len(cols) > 1
    ]
    rename = {cols[0]: canonical for canonical, cols in matches.items() if len(cols) == 1 and cols[0] != canonical}
    out = df.rename(columns=rename) if rename else df.copy()
    if rename:
        logger.info("%s: renamed columns %s", spec.name, rename)
    out.attrs["renamed_columns"] = {str(k): v for k, v in rename.items()}
    clashing = {canonical for canonical, cols in matches.items() if len(cols) > 1}
    return out, clashing, problems


_UNIT_HEADER = re.compile(r"^(?P<base>.+?)\((?P<unit>[^()]+)\)$")


def unit_factors() -> Mapping[str, Mapping[str, float]]:
    """Accepted units of each canonical unit and their factors (``rules/schema.toml`` ``unit_conversion``).

    Returns
    -------
    Mapping
        ``{canonical unit: {stated unit: factor}}``, e.g. ``{"万元": {"亿元": 10000.0, …}}``.
    """
    return rules.load("schema").tables.get("unit_conversion", {})


def _unit_columns(df: pd.DataFrame, spec: Role) -> tuple[pd.DataFrame, dict[str, tuple[str, float, str]], list[str]]:
    """Rename headers stating a convertible unit (``税收(亿元)``) to their canonical column.

    Returns the renamed frame, ``{canonical: (source header, factor, stated unit)}`` and problems.
    """
    lookup = _alias_lookup(spec)
    factors = unit_factors()
    geom = _geometry_name(df)
    found: dict[str, list[tuple[str, float, str]]] = {}
    for col in df.columns:
        key = _norm(col)
        if col == geom or key in lookup:
            continue
        match = _UNIT_HEADER.match(key)
        canonical = lookup.get(match["base"]) if match else None
        if match is None or canonical is None or spec.columns[canonical].kind != "number":
            continue
        factor = factors.get(spec.columns[canonical].unit, {}).get(match["unit"])
        if factor is None:
            logger.info("%s: column %r states unit %r, not convertible to %s", spec.name, col, match["unit"], canonical)
            continue
        found.setdefault(canonical, []).append((str(col), float(factor), match["unit"]))
    problems = []
    rename: dict[str, str] = {}
    converted: dict[str, tuple[str, float, str]] = {}
    for canonical, sources in found.items():
        if canonical in df.columns or len(sources) > 1:
            names = [s[0] for s in sources] + ([canonical] if canonical in df.columns else [])
            problems.append(
                f"columns {', '.join(map(repr, names))} all mean {canonical!r}: keep one and drop or rename the others"
            )
            continue
        rename[sources[0][0]] = canonical
        converted[canonical] = sources[0]
    out = df.rename(columns=rename) if rename else df
    out.attrs = {**df.attrs, "renamed_columns": {**df.attrs.get("renamed_columns", {}), **rename}}
    return out, converted, problems


def standardize(df: pd.DataFrame, role: str | Role) -> pd.DataFrame:
    """Return a copy of ``df`` with accepted aliases renamed to the role's canonical names.

    Columns that are not aliases are kept unchanged; values are not checked (see
    :func:`validate`). The renaming is recorded in ``attrs["renamed_columns"]``.

    Parameters
    ----------
    df : DataFrame or GeoDataFrame
        A layer or table.
    role : str or Role
        One of :data:`ROLES` (``"towns"``, ``"parcels"``, ``"enterprises"`` …).

    Returns
    -------
    DataFrame or GeoDataFrame
        Same type, index and row order as ``df``.

    Raises
    ------
    OptionError
        Unknown role.
    SchemaError
        Two columns mapping to the same canonical name (e.g. both ``税收`` and ``tax_wan``).

    Examples
    --------
    >>> import pandas as pd
    >>> firms = pd.DataFrame({"小镇编号": ["T1"], "税收(万元)": [120.0], "用地面积（亩）": [8.0]})
    >>> list(standardize(firms, "enterprises").columns)
    ['town_id', 'tax_wan', 'land_mu']
    """
    spec = _role(role)
    out, _, problems = _standardize(df, spec)
    if problems:
        raise SchemaError(_message(spec, None, problems), problems)
    return out


def _rows(index: pd.Index) -> str:
    labels = [repr(v) if isinstance(v, str) else str(v) for v in index[:_MAX_LISTED]]
    more = f" … and {len(index) - _MAX_LISTED} more" if len(index) > _MAX_LISTED else ""
    return ", ".join(labels) + more


def _values(values: pd.Series) -> str:
    counts = values.astype("object").value_counts(dropna=False)
    parts = [f"{v!r}×{n}" if n > 1 else repr(v) for v, n in counts.iloc[:_MAX_LISTED].items()]
    more = f" … and {len(counts) - _MAX_LISTED} more" if len(counts) > _MAX_LISTED else ""
    return ", ".join(parts) + more


def _message(spec: Role, name: str | None, problems: list[str]) -> str:
    label = f"{name} ({spec.name}, {spec.label_zh})" if name else f"{spec.name} layer ({spec.label_zh})"
    listed = "; ".join(f"({i}) {p}" for i, p in enumerate(problems, 1))
    return f"{label} has {len(problems)} problem(s): {listed}"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.number) and not isinstance(value, bool | np.bool_)


def _numeric_dtype(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _as_text(series: pd.Series) -> pd.Series:
    """Strip text, turning blank strings into missing values (numbers are kept as they are)."""
    if _numeric_dtype(series):
        return series
    out = series.map(lambda v: v.strip() if isinstance(v, str) else v)
    return out.mask(out.map(lambda v: isinstance(v, str) and v == ""))


def _same_dtype(text: pd.Series, original: pd.Series) -> pd.Series:
    """Stripped text in the original column's dtype (pandas ``str``, ``string`` or object)."""
    return text.astype(original.dtype) if pd.api.types.is_string_dtype(original.dtype) else text


def _check_id(label: str, series: pd.Series, *, unique: bool) -> list[str]:
    problems = []
    empty = series.isna()
    if empty.any():
        problems.append(f"{label} is empty in {int(empty.sum())} row(s) (index {_rows(series.index[empty])}): fill it")
    if unique:
        dup = series.notna() & series.duplicated(keep=False)
        if dup.any():
            problems.append(f"{label} must be unique but repeats {_values(series[dup])}: give every feature its own id")
    return problems


def _place(label: Hashable, rows_from: int | None) -> str:
    """Where a cell is: its index label, and its row in the file when the table came from one."""
    where = f"index {label!r}" if isinstance(label, str) else f"index {label}"
    if rows_from is not None and isinstance(label, int | np.integer):
        where += f", row {int(label) + rows_from} of the file"
    return where


def _file_rows(df: pd.DataFrame) -> int | None:
    """The file row of index 0 for a table read by ``tz.io.read_table`` (header in row 1), else None."""
    index = df.index
    if df.attrs.get("source") and isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1:
        return 2
    return None


def _check_number(
    col: Column, series: pd.Series, label: str, *, rows_from: int | None = None
) -> tuple[pd.Series, list[str], list[str], pd.DataFrame]:
    """A number column read with :func:`tongzhen_gis.textnumbers.parse_column`.

    Returns the numbers, the problems (refused cells, negatives), the repairs (each converted
    cell) and the table of converted cells.
    """
    from tongzhen_gis.textnumbers import parse_column

    problems: list[str] = []
    repairs: list[str] = []
    if pd.api.types.is_bool_dtype(series):
        return series, [f"{label} should hold numbers but holds true/false values"], repairs, pd.DataFrame()
    cells = pd.DataFrame()
    if not _numeric_dtype(series):
        numbers, cells = parse_column(series, unit=col.unit)
        refused = cells[cells["refused"] != ""]
        if len(refused):
            unit = f" in {col.unit}" if col.unit else ""
            listed = "; ".join(
                f"{r.value!r} ({_place(r.index, rows_from)}) {r.refused}"
                for r in refused.iloc[:_MAX_CELLS].itertuples()
            )
            more = f" … and {len(refused) - _MAX_CELLS} more" if len(refused) > _MAX_CELLS else ""
            problems.append(
                f"{label} should hold numbers{unit} but holds text {listed}{more}: write plain numbers "
                "(full-width digits, thousands separators, 万 / 亿 and '—' for missing are understood)"
            )
            return series, problems, repairs, cells
        converted = cells[cells["how"] != ""]
        if len(converted):
            unit = f" {col.unit}" if col.unit else ""
            listed = "; ".join(
                f"{r.value!r} ({_place(r.index, rows_from)}) → "
                f"{'missing' if pd.isna(r.number) else f'{r.number:g}{unit}'} ({r.how})"
                for r in converted.iloc[:_MAX_CELLS].itertuples()
            )
            more = f" … and {len(converted) - _MAX_CELLS} more" if len(converted) > _MAX_CELLS else ""
            repairs.append(f"{label}: {len(converted)} cell(s) written as text read as numbers: {listed}{more}")
        logger.info("column %r held numbers as text; converted", col.name)
        series = numbers
    if col.nonnegative:
        negative = series < 0
        if negative.any():
            problems.append(
                f"{label} must not be negative: {_values(series[negative])} (index {_rows(series.index[negative])})"
            )
    return series, problems, repairs, cells


def parse_numbers(df: pd.DataFrame, role: str | Role, *, name: str | None = None) -> pd.DataFrame:
    """Read the role's number columns that hold text (``１２３``, ``1,234.5``, ``1.2亿``, ``—``) as numbers.

    Only what has one reading is converted (see :mod:`tongzhen_gis.textnumbers`), each
    conversion reported; any other text is refused naming its cells. Columns are matched by
    their canonical names, so call :func:`standardize` first when the table has Chinese headers.

    Parameters
    ----------
    df : DataFrame
        A table of the role (e.g. ``"enterprises"``).
    role : str or Role
        One of :data:`ROLES`.
    name : str, optional
        How to call the table in messages.

    Returns
    -------
    DataFrame
        A copy with the number columns as float64; ``attrs["repairs"]`` lists the conversions
        (one line per column, each cell with its index, its file row when the table came from
        ``tz.io.read_table``, its text and its number) and ``attrs["conversions"]`` holds them
        all as a table (``column``, ``index``, ``value``, ``number``, ``how``).

    Raises
    ------
    SchemaError
        Cells that cannot be read as one number (``约120``, ``120-150``, ``12%``, ``1,23`` …),
        or negative values where the role forbids them; every such cell is named.

    Examples
    --------
    >>> import pandas as pd
    >>> firms = pd.DataFrame({"town_id": ["T1", "T1", "T2"], "tax_wan": ["１２０", "1.2亿", "—"]})
    >>> parse_numbers(firms, "enterprises")["tax_wan"].tolist()
    [120.0, 12000.0, nan]
    """
    spec = _role(role)
    out = df.copy()
    problems: list[str] = []
    repairs: list[str] = list(df.attrs.get("repairs", []))
    tables = []
    rows_from = _file_rows(df)
    source_of = {new: old for old, new in df.attrs.get("renamed_columns", {}).items()}
    for col in spec.columns.values():
        if col.kind != "number" or col.name not in out.columns or isinstance(out[col.name], pd.DataFrame):
            continue
        source = source_of.get(col.name, col.name)
        label = repr(col.name) if source == col.name else f"{col.name!r} (input column {source!r})"
        series, found, fixed, cells = _check_number(col, out[col.name], label, rows_from=rows_from)
        problems += found
        repairs += fixed
        if series is not out[col.name]:
            out[col.name] = series
        if len(cells):
            tables.append(cells[cells["how"] != ""].drop(columns="refused").assign(column=col.name))
    if problems:
        raise SchemaError(_message(spec, name, problems), problems)
    out.attrs["repairs"] = repairs
    columns = ["column", "index", "value", "number", "how"]
    out.attrs["conversions"] = pd.concat(tables)[columns] if tables else pd.DataFrame(columns=columns)
    return out


def _numeric_code_problem(label: str, source: str, what: str) -> str:
    return (
        f"{label} holds {what} codes as numbers, so leading zeros are lost (701 for '0701'): read the column "
        f"as text, e.g. pd.read_csv(path, dtype={{'{source}': str}}) or set the field type to text in the GIS"
    )


def _check_landuse(label: str, source: str, series: pd.Series) -> tuple[pd.Series, list[str]]:
    if _numeric_dtype(series):
        return series, [_numeric_code_problem(label, source, "用地用海")]
    text = _as_text(series)
    problems = []
    empty = text.isna()
    if empty.any():
        problems.append(f"{label} is empty in {int(empty.sum())} row(s) (index {_rows(text.index[empty])}): code them")
    valid = _valid_landuse(text)
    bad = text.notna() & ~valid
    if bad.any():
        problems.append(_invalid_landuse_problem(label, text[bad]))
    return (series if bad.any() else _same_dtype(text, series)), problems


def _valid_landuse(text: pd.Series) -> pd.Series:
    """Text values that are 用地用海 codes, as :func:`landuse_classes` decides (numbers never are)."""
    is_str = text.map(lambda v: isinstance(v, str))
    return is_str & landuse_classes(text.where(is_str))["valid"]


def _invalid_landuse_problem(label: str, bad: pd.Series) -> str:
    numbers = bad.map(_is_number)
    hint = " (numbers: read the codes as text so leading zeros survive)" if numbers.any() else ""
    return (
        f"{label} has codes that are not 用地用海 codes {_values(bad)} (index {_rows(bad.index)}){hint}: "
        "use 2, 4 or 6 digits as text starting with a first-level class 01–24, e.g. '07', '0701', '080404'"
    )


def _check_dlbm(label: str, source: str, series: pd.Series) -> tuple[pd.Series, list[str]]:
    if _numeric_dtype(series):
        return series, [_numeric_code_problem(label, source, "三调 DLBM")]
    text = _as_text(series)
    problems = []
    empty = text.isna()
    if empty.any():
        problems.append(f"{label} is empty in {int(empty.sum())} row(s) (index {_rows(text.index[empty])}): code them")
    numbers = text.map(_is_number)
    if numbers.any():
        problems.append(_numeric_code_problem(label, source, "三调 DLBM"))
    return (series if numbers.any() else _same_dtype(text, series)), problems


def _check_geometry(df: pd.DataFrame, spec: Role) -> list[str]:
    if not spec.is_geo:
        return []
    if _geometry_name(df) is None:
        return [
            (
                "has no geometry: a geographic layer is needed; read it with tz.io.read_layer(path) or build a "
                "GeoDataFrame with geometry and crs"
            )
        ]
    problems = []
    geoms = df.geometry
    missing = geoms.isna() | geoms.is_empty
    if missing.any():
        problems.append(
            f"{int(missing.sum())} feature(s) have no geometry (index {_rows(df.index[missing])}): "
            "draw them or remove them from the layer"
        )
    allowed = _GEOMETRY_KINDS[spec.geometry]
    if allowed is not None:
        types = geoms.geom_type
        wrong = ~missing & ~types.isin(allowed)
        if wrong.any():
            problems.append(
                f"{spec.name} must be {spec.geometry} features but {int(wrong.sum())} are "
                f"{', '.join(sorted(set(types[wrong])))} (index {_rows(df.index[wrong])}): export the "
                f"{spec.geometry} features only"
            )
    if df.crs is None:
        problems.append(missing_crs_message("the layer"))
    return problems


def validate(df: pd.DataFrame, role: str | Role, *, name: str | None = None) -> pd.DataFrame:
    """Check a layer or table for a role and return its standardized copy.

    Every problem is collected first and raised together in one
    :class:`~tongzhen_gis.errors.SchemaError` (its ``problems`` attribute lists them):

    * two columns mapping to one canonical name;
    * missing required columns (the message lists the names accepted for each);
    * a parcels layer with 三调 ``DLBM`` codes instead of 用地用海 codes;
    * number columns holding text; negative values where they cannot be;
    * land-use codes stored as numbers (leading zeros lost), empty or invalid codes;
    * empty or duplicate ids (columns of kind ``id``), empty keys (``key``);
    * for geographic roles: no geometry column, features without geometry, features of the
      wrong geometry type, no CRS.

    Parameters
    ----------
    df : DataFrame or GeoDataFrame
        The layer or table.
    role : str or Role
        One of :data:`ROLES`.
    name : str, optional
        How to call the layer in messages (e.g. its file name).

    Returns
    -------
    DataFrame or GeoDataFrame
        Standardized copy (see :func:`standardize`) with number columns as numbers (numeric
        text such as ``"120"`` converted) and codes as stripped text; same index and rows.

    Raises
    ------
    SchemaError
        Listing every problem found.

    Examples
    --------
    >>> import tongzhen_gis as tz
    >>> scene = tz.samples.sample_town()
    >>> parcels = validate(scene.parcels, "parcels")
    >>> parcels["landuse_code"].iloc[0]
    '0701'
    """
    spec = _role(role)
    out, clashing, problems = _standardize(df, spec)
    out, converted, unit_problems = _unit_columns(out, spec)
    problems += unit_problems
    present = set(out.columns)
    repairs: list[str] = []
    source_of = {new: old for old, new in out.attrs["renamed_columns"].items()}
    for col in spec.columns.values():
        if col.required and col.name not in present and col.name not in clashing:
            accepted = ", ".join(col.accepted)
            hint = ""
            if col.kind == "landuse_code" and any(_norm(c) in {"dlbm", "地类编码"} for c in out.columns):
                hint = (
                    "; DLBM holds 三调 地类编码, not 用地用海 codes: convert with "
                    "df['landuse_code'] = tz.schema.dlbm_to_yongdi(df['DLBM']) or validate the layer as role 'dltb'"
                )
            problems.append(f"missing required column {col.name!r} (accepted names: {accepted}){hint}")
    for col in spec.columns.values():
        if col.name not in present or isinstance(out[col.name], pd.DataFrame):
            continue
        series = out[col.name]
        source = str(source_of.get(col.name, col.name))
        label = repr(col.name) if source == col.name else f"{col.name!r} (input column {source!r})"
        if col.kind in ("id", "key"):
            problems += _check_id(label, series, unique=col.kind == "id")
        elif col.kind == "number":
            series, found, fixed, cells = _check_number(col, series, label, rows_from=_file_rows(df))
            problems += found
            repairs += fixed
            if col.name in converted and not found:
                # the header's unit (税收(亿元)) scales plain numbers; a cell that states its own
                # magnitude or unit (1.2亿, 5000元) was already read into the column's unit
                factor = np.full(len(series), converted[col.name][1])
                if len(cells):
                    factor[cells.loc[cells["stated"].astype(bool), "position"].to_numpy(dtype=np.int64)] = 1.0
                series = series * factor
        elif col.kind == "landuse_code":
            series, found = _check_landuse(label, source, series)
            problems += found
        elif col.kind == "dlbm":
            series, found = _check_dlbm(label, source, series)
            problems += found
        if series is not out[col.name]:
            out[col.name] = series
    problems += _check_geometry(out, spec)
    if problems:
        raise SchemaError(_message(spec, name, problems), problems)
    notes = [
        f"column {src!r} is in {unit}: multiplied by {factor:g} into {canon!r} ({spec.columns[canon].unit})"
        for canon, (src, factor, unit) in converted.items()
        if factor != 1.0
    ]
    for note in notes:
        logger.info("%s: %s", spec.name, note)
    out.attrs["unit_conversions"] = notes
    if repairs:
        out.attrs["repairs"] = [*df.attrs.get("repairs", []), *repairs]
    return out


def _level1_one(value: Any) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if not isinstance(value, str):
        raise _LevelError(value)
    if not value.strip():
        return None
    decided = landuse_classes(value).iloc[0]  # the one land-use decision of the package
    if decided["valid"]:
        return str(decided["level1"])
    raise _LevelError(value)


class _LevelError(Exception):
    def __init__(self, value: Any) -> None:
        self.value = value


def landuse_level1(code: Any | pd.Series, *, errors: Literal["raise", "coerce"] = "raise") -> str | pd.Series | None:
    """First-level 用地用海 class of a code: ``"0701"`` → ``"07"``, ``"080404"`` → ``"08"``.

    Parameters
    ----------
    code : str or Series
        用地用海 code(s) as text: 2, 4 or 6 digits whose first two are a class 01–24.
        Missing values and blank text give missing results.
    errors : {"raise", "coerce"}, default "raise"
        ``"raise"``: invalid codes (numbers, wrong length, unknown class) raise one
        :class:`~tongzhen_gis.errors.SchemaError` listing them. ``"coerce"``: they become
        missing, and a Series result lists them in ``attrs["problems"]``.

    Returns
    -------
    str, None or Series
        For a Series: a ``string`` Series named ``landuse_level1`` with the input's index.

    Raises
    ------
    SchemaError
        Invalid codes with ``errors="raise"``.

    Examples
    --------
    >>> landuse_level1("0701"), landuse_level1("080404"), landuse_level1("14")
    ('07', '08', '14')
    """
    if not isinstance(code, pd.Series):
        try:
            return _level1_one(code)
        except _LevelError as exc:
            problem = _invalid_landuse_problem("'code'", pd.Series([exc.value]))
            if errors == "raise":
                raise SchemaError(problem, [problem]) from None
            return None
    text = _as_text(code) if not _numeric_dtype(code) else code.astype("object")
    valid = _valid_landuse(text)
    bad = text.notna() & ~valid
    result = text.where(valid).astype("string").str.strip().str[:2].rename("landuse_level1")
    problems = [_invalid_landuse_problem(repr(str(code.name or "code")), text[bad])] if bad.any() else []
    if problems and errors == "raise":
        raise SchemaError(problems[0], problems)
    result.attrs["problems"] = problems
    return result


#: The groups :func:`landuse_classes` decides, as named in ``[groups]`` of ``rules/landuse.toml``.
LANDUSE_GROUPS = ("construction", "residential", "industrial", "green")


def _landuse_text(value: Any, repair_numbers: bool) -> tuple[str | None, bool]:
    """A code as stripped text and whether it was repaired (a number that lost its leading zero)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None, False
    if isinstance(value, bool | np.bool_):
        return str(value), False
    if _is_number(value):
        if not repair_numbers or float(value) != int(value):
            return str(value), False
        text = str(int(value))
        return (text.zfill(len(text) + len(text) % 2), True)
    text = str(value).strip()
    if not text:
        return None, False
    if repair_numbers and re.fullmatch(r"\d+(\.0+)?", text):
        digits = re.sub(r"\.0+$", "", text)
        if len(digits) % 2 or digits != text:
            return digits.zfill(len(digits) + len(digits) % 2), True
    return text, False


def landuse_classes(
    codes: Any,
    *,
    landuse_rules: str | Any = "landuse",
    repair_numbers: bool = False,
) -> pd.DataFrame:
    """Decide the first-level class of each 用地用海 code and which groups it belongs to.

    The one place that says whether a code is construction (建设用地), residential, industrial
    or green land: ``tz.controllines``, ``tz.intensity`` and the maps all ask it. A code
    belongs to a group when it starts with one of the group's entries in ``[groups]`` of the
    land-use rules, so first-level entries (``"07"``) and finer ones (``"0601"`` in
    ``construction_extra``) are honoured alike; construction land is ``construction`` plus
    ``construction_extra``.

    Parameters
    ----------
    codes : str, number or Series
        用地用海 code(s), as text (2, 4 or 6 digits, first two a class 01–24).
    landuse_rules : str or RuleSet, default "landuse"
        The land-use rules (``[groups]`` and ``[class]``).
    repair_numbers : bool, default False
        Read numbers (and digit text of odd length) as codes that lost their leading zero:
        ``701`` → ``"0701"``, ``"10"`` stays ``"10"``. Such codes are flagged ``repaired``;
        the caller reports them. Without it they are invalid.

    Returns
    -------
    DataFrame
        Indexed like ``codes`` (one row for a scalar): ``code`` (the text read, ``<NA>`` when
        missing or blank), ``level1`` (first-level class, ``<NA>`` when missing or not a
        用地用海 code), ``valid``, ``repaired``, and one bool column per
        :data:`LANDUSE_GROUPS` (False for missing or invalid codes).

    Examples
    --------
    >>> t = landuse_classes(pd.Series(["0701", "1001", "0601", "xx"]))
    >>> t["level1"].tolist(), t["construction"].tolist(), t["industrial"].tolist()
    (['07', '10', '06', <NA>], [True, True, False, False], [False, True, False, False])
    """
    ruleset = rules.load(landuse_rules)
    series = codes if isinstance(codes, pd.Series) else pd.Series([codes], dtype=object)
    groups = ruleset["groups"]
    classes = {str(c) for c in ruleset["class"]}
    entries = {
        "construction": tuple(str(c) for c in (*groups["construction"], *groups.get("construction_extra", ()))),
        **{g: tuple(str(c) for c in groups[g]) for g in LANDUSE_GROUPS[1:]},
    }

    def decide(value: Any) -> tuple[Any, ...]:
        text, repaired = (None, False) if _is_missing(value) else _landuse_text(value, repair_numbers)
        if text is None or re.fullmatch(_LANDUSE_PATTERN, text) is None or text[:2] not in classes:
            return (text, None, False, False, *(False for _ in LANDUSE_GROUPS))
        return (text, text[:2], True, repaired, *(text.startswith(entries[g]) for g in LANDUSE_GROUPS))

    # decide once per distinct code (a layer holds few), then spread to the rows
    inverse, uniques = pd.factorize(series.astype(object), use_na_sentinel=True)
    table = pd.DataFrame(
        [decide(v) for v in uniques] + [decide(None)],
        columns=["code", "level1", "valid", "repaired", *LANDUSE_GROUPS],
    )
    out = table.iloc[np.where(inverse < 0, len(uniques), inverse)].set_axis(series.index)
    for col in ("code", "level1"):
        out[col] = out[col].astype("string")
    for col in ("valid", "repaired", *LANDUSE_GROUPS):
        out[col] = out[col].astype(bool)
    return out


def _is_missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def dlbm_to_yongdi(codes: Any | pd.Series, *, errors: Literal["raise", "coerce"] = "raise") -> str | pd.Series | None:
    """Map 三调 地类编码 (DLBM) to 用地用海 codes with the table in ``rules/landuse.toml``.

    Each code takes the target of the longest key of ``tz.rules.load("landuse")
    ["dlbm_to_yongdi"]`` it starts with (``"0702"`` → ``"0703"``, ``"0101"`` → ``"01"``
    through the first-level key ``"01"``). Codes no key matches are listed, never guessed.

    Parameters
    ----------
    codes : str or Series
        DLBM code(s) as text. Missing values give missing results.
    errors : {"raise", "coerce"}, default "raise"
        ``"raise"``: unmapped codes (and codes stored as numbers) raise one
        :class:`~tongzhen_gis.errors.SchemaError` listing them. ``"coerce"``: they become
        missing and a Series result lists them in ``attrs["unmapped"]`` and
        ``attrs["problems"]``.

    Returns
    -------
    str, None or Series
        For a Series: a ``string`` Series named ``landuse_code`` with the input's index.

    Raises
    ------
    SchemaError
        Unmapped codes with ``errors="raise"``.

    Examples
    --------
    >>> dlbm_to_yongdi("0601"), dlbm_to_yongdi("0702"), dlbm_to_yongdi("1202"), dlbm_to_yongdi("0101")
    ('1001', '0703', '0602', '01')
    """
    table = rules.load("landuse")["dlbm_to_yongdi"]
    keys = sorted(table, key=len, reverse=True)

    def one(value: Any) -> str | None:
        if not isinstance(value, str):
            return None
        code = value.strip()
        for key in keys:
            if code.startswith(key):
                return str(table[key])
        return None

    scalar = not isinstance(codes, pd.Series)
    series = pd.Series([codes]) if scalar else codes
    text = _as_text(series) if not _numeric_dtype(series) else series.astype("object")
    uniques = pd.unique(text.dropna())
    mapping = {v: one(v) for v in uniques}
    result = text.map(lambda v: mapping.get(v) if v in mapping else None).astype("string").rename("landuse_code")
    bad = text.notna() & result.isna()
    problems: list[str] = []
    if bad.any():
        numbers = text[bad].map(_is_number)
        hint = " (stored as numbers: read DLBM as text so leading zeros survive)" if numbers.any() else ""
        problems.append(
            f"三调 DLBM codes with no 用地用海 mapping {_values(text[bad])} (index {_rows(text.index[bad])}){hint}: "
            "code those features by hand or add the code to [dlbm_to_yongdi] in a copy of rules/landuse.toml"
        )
    if problems and errors == "raise":
        raise SchemaError(problems[0], problems)
    if scalar:
        value = result.iloc[0]
        return None if pd.isna(value) else str(value)
    result.attrs["unmapped"] = sorted({str(v) for v in text[bad]})
    result.attrs["problems"] = problems
    return result


def require_polygons(gdf: gpd.GeoDataFrame | gpd.GeoSeries, *, what: str, param: str | None = None) -> None:
    """Refuse a layer of points or lines given where polygons are required (towns, control lines).

    A layer whose every feature with a geometry is a point or a line cannot be measured for
    areas or overlaps: checking it would pass every town (lines as a red line) or leave every
    town unchecked (points as towns). A layer with *some* polygons is accepted; its stray
    points and lines are reported by the analysis that skips them.

    Parameters
    ----------
    gdf : GeoDataFrame or GeoSeries
    what : str
        The layer in the message (``"red_line"``, ``"towns"``).
    param : str, optional
        The keyword the layer was passed as, for a front end's hint.

    Raises
    ------
    SchemaError
        Naming the layer and the geometry types found.

    Examples
    --------
    >>> from shapely import LineString
    >>> require_polygons(gpd.GeoSeries([LineString([(0, 0), (1, 1)])]), what="red_line")
    Traceback (most recent call last):
    ...
    tongzhen_gis.errors.SchemaError: red_line holds LineString geometries, not polygons: ...
    """
    geoms = gdf.geometry if isinstance(gdf, gpd.GeoDataFrame) else gdf
    arr = np.asarray(geoms.array, dtype=object)
    present = geoms[~shapely.is_missing(arr) & ~shapely.is_empty(arr)]
    if present.empty:
        return
    kinds = present.geom_type
    polygonal = kinds.isin(_GEOMETRY_KINDS["polygon"]).to_numpy().copy()
    collections = (kinds == "GeometryCollection").to_numpy()
    if collections.any():
        parts = present[collections].explode(index_parts=False).geom_type
        polygonal[collections] = parts.isin(_GEOMETRY_KINDS["polygon"]).groupby(level=0).any().to_numpy()
    if polygonal.any():
        return
    found = ", ".join(f"{count} {kind}" for kind, count in kinds.value_counts().items())
    msg = (
        f"{what} holds {'/'.join(kinds.unique())} geometries, not polygons: {found}; an area or overlap "
        "needs polygon boundaries (export the polygons, not their centroids or outlines, from your GIS)"
    )
    raise SchemaError(msg, [msg], param=param)
