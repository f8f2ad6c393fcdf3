"""The project config (``project.toml``) of :mod:`tongzhen_gis.report`: model, parsing, validation.

Private: import these names from :mod:`tongzhen_gis.report`, whose docstring describes the file.
Besides the config model (:class:`ProjectConfig`, :class:`LayerSource`) and its checks
(:data:`CONFIG_KEYS`, :func:`parse_config`, :func:`load_config`), this module holds what
only depends on the config format: the ``project.toml`` of the sample scene
(:func:`sample_config_text`) and the mapping of a library error to the config entry that
caused it and its fix (:func:`_config_error`). Nothing here runs an analysis.
"""

from __future__ import annotations

import codecs
import copy
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tongzhen_gis import io as tzio
from tongzhen_gis.errors import SchemaError, TongzhenError

_LAYER_KEYS = ("path", "layer", "crs", "coord_system", "encoding", "swap_xy")
#: Keys of a layer entry whose value is true/false rather than text.
_LAYER_FLAGS = ("swap_xy",)


#: Every table of ``project.toml`` and its keys; ``None`` marks a key whose value is a layer.
CONFIG_KEYS: dict[str, dict[str, str]] = {
    "project": {"title": "str", "rules": "str", "grading": "str", "source": "str"},
    "towns": {
        "path": "str",
        "layer": "str",
        "crs": "str",
        "coord_system": "str",
        "encoding": "str",
        "swap_xy": "bool",
        "id_col": "str",
        "name_col": "str",
        "category_col": "str",
    },
    "control_lines": {"red_line": "layer", "farmland": "layer", "urban_boundary": "layer", "sliver_m2": "number"},
    "intensity": {
        "parcels": "layer",
        "buildings": "layer",
        "enterprises": "table",
        "landuse_col": "str",
        "floors_col": "str",
        "height_col": "str",
        "far_cell_m": "number",
    },
    "access": {
        "roads": "layer",
        "facilities": "layer",
        "homes": "layer",
        "category_col": "str",
        "population_col": "str",
        "home_town_col": "str",
        "threshold_m": "number",
        "max_distance_m": "number",
        "service_areas": "bool",
        "catalogue": "str",
        "population": "str",
        "use_col": "str",
        "per_capita_m2": "number",
        "population_totals": "layer",
        "totals_col": "str",
        "population_raster": "table",
    },
    "town_stats": {"path": "str", "id_col": "str"},
    "city": {"towns": "table", "years": "str", "rules": "str", "locations": "layer"},
    "base_layers": {"water": "layer", "roads": "layer"},
    "maps": {"enabled": "bool", "dpi": "number", "scheme": "str"},
    "report": {"formats": "list"},
}

#: The files ``[report].formats`` may name (all by default).
REPORT_FORMATS = ("html", "docx", "xlsx")


#: Map classification schemes ``[maps].scheme`` accepts (mapclassify names needing no options).
_SCHEMES = {
    name.lower(): name
    for name in (
        "Quantiles",
        "NaturalBreaks",
        "EqualInterval",
        "FisherJenks",
        "HeadTailBreaks",
        "JenksCaspall",
        "MaximumBreaks",
        "PrettyBreaks",
        "StdMean",
        "BoxPlot",
        "Percentiles",
    )
}


@dataclass(frozen=True)
class LayerSource:
    """Where one input layer or table is: a path, and for layers the layer name and declarations."""

    path: Path
    layer: str | None = None
    crs: str | None = None
    coord_system: str | None = None
    encoding: str | None = None
    swap_xy: bool = False

    def read_options(self) -> dict[str, Any]:
        """The keywords of :func:`tongzhen_gis.io.read_layer` this entry declares."""
        return {
            "layer": self.layer,
            "crs": self.crs,
            "coord_system": self.coord_system,
            "encoding": self.encoding,
            "swap_xy": self.swap_xy,
        }


@dataclass(frozen=True)
class ProjectConfig:
    """A parsed ``project.toml`` (see :mod:`tongzhen_gis.report`). Build one with :func:`parse_config`.

    Attributes
    ----------
    base_dir : pathlib.Path
        Folder relative paths were resolved against.
    sections : Mapping[str, Mapping[str, Any]]
        The tables of the file, validated: layer entries are :class:`LayerSource`, paths are
        absolute.
    """

    base_dir: Path
    sections: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def get(self, section: str, key: str, default: Any = None) -> Any:
        """A value of the config, or ``default`` when the table or key is absent."""
        return self.sections.get(section, {}).get(key, default)

    def has(self, section: str) -> bool:
        """Whether the config has the table ``section``."""
        return section in self.sections

    @property
    def title(self) -> str:
        """Report title."""
        return str(self.get("project", "title", "特色小镇评估报告"))

    @property
    def formats(self) -> tuple[str, ...]:
        """The report files to write (``[report].formats``; default all of :data:`REPORT_FORMATS`)."""
        chosen = self.get("report", "formats", REPORT_FORMATS)
        return tuple(f for f in REPORT_FORMATS if f in chosen)

    @property
    def rules(self) -> str | Path:
        """Rule set name or path."""
        return self._rule_ref(self.get("project", "rules", "hangzhou-2021"))

    @property
    def grading(self) -> str | Path:
        """Grading scheme name or path."""
        return self._rule_ref(self.get("project", "grading", "grading"))

    def _rule_ref(self, value: str) -> str | Path:
        return self.base_dir / value if str(value).endswith(".toml") else value


def _check_encoding(encoding: str, where: str, problems: list[str]) -> None:
    try:
        codecs.lookup(encoding)
    except LookupError:
        problems.append(f'{where} = {encoding!r} is not a text encoding; use e.g. "GBK", "GB18030" or "UTF-8"')


def _layer_source(value: Any, where: str, base_dir: Path, problems: list[str], *, table: bool = False) -> Any:
    if isinstance(value, str):
        return LayerSource(path=(base_dir / value))
    if isinstance(value, dict):
        keys = ("path",) if table else _LAYER_KEYS
        unknown = [k for k in value if k not in keys]
        if unknown:
            problems.append(f"{where}: unknown key(s) {unknown} (valid keys: {', '.join(keys)})")
        if "path" not in value or not isinstance(value["path"], str):
            problems.append(f'{where}: needs path = "..." (a file path relative to the config)')
            return None
        bad = [k for k in keys if k in value and k not in _LAYER_FLAGS and not isinstance(value[k], str)]
        if bad:
            problems.append(f"{where}: {bad} must be text")
        flags = [k for k in _LAYER_FLAGS if k in value and not isinstance(value[k], bool)]
        if flags and not table:
            problems.append(f"{where}: {flags} must be true or false")
        declared: dict[str, Any] = {k: value.get(k) for k in ("layer", "crs", "coord_system", "encoding") if not table}
        if isinstance(value.get("encoding"), str) and not table:
            _check_encoding(value["encoding"], f"{where}.encoding", problems)
        if not table:
            declared["swap_xy"] = value.get("swap_xy") is True
        return LayerSource(path=base_dir / value["path"], **declared)
    problems.append(f"{where}: must be a path string or a table {{path = ..., layer = ...}}")
    return None


def parse_config(text: str, *, base_dir: str | Path = ".") -> ProjectConfig:
    r"""Parse and validate the text of a ``project.toml``.

    Parameters
    ----------
    text : str
        TOML text (read it with the CLI, or ``Path(...).read_text("utf-8")``).
    base_dir : str or pathlib.Path, default "."
        Folder relative paths are resolved against (the config file's folder).

    Returns
    -------
    ProjectConfig

    Raises
    ------
    SchemaError
        Invalid TOML, an unknown table or key (the message lists the valid ones), a value of
        the wrong kind, or no ``[towns]`` table; every problem is listed in one message.

    Examples
    --------
    >>> cfg = parse_config('[towns]\npath = "towns.gpkg"\n', base_dir="/data")
    >>> cfg.get("towns", "path").as_posix()
    '/data/towns.gpkg'
    """
    base = Path(base_dir)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = f"project config is not valid TOML ({exc}); check quotes and [table] headers"
        raise SchemaError(msg, [str(exc)]) from exc
    problems: list[str] = []
    sections: dict[str, dict[str, Any]] = {}
    for name, entry in raw.items():
        if name not in CONFIG_KEYS:
            problems.append(f"unknown table [{name}] (valid tables: {', '.join(CONFIG_KEYS)})")
            continue
        if not isinstance(entry, dict):
            problems.append(f"[{name}] must be a table")
            continue
        spec = CONFIG_KEYS[name]
        out: dict[str, Any] = {}
        for key, value in entry.items():
            where = f"[{name}].{key}"
            kind = spec.get(key)
            if kind is None:
                problems.append(f"unknown key {where} (valid keys of [{name}]: {', '.join(spec)})")
            elif kind in ("layer", "table"):
                out[key] = _layer_source(value, where, base, problems, table=kind == "table")
            elif kind == "number" and (not isinstance(value, int | float) or isinstance(value, bool)):
                problems.append(f"{where} must be a number, got {value!r}")
            elif kind == "number" and not (value >= 0 if key == "sliver_m2" else value > 0):
                problems.append(f"{where} must be {'0 or more' if key == 'sliver_m2' else 'above 0'}, got {value!r}")
            elif key == "scheme" and str(value).lower().replace("_", "") not in _SCHEMES:
                problems.append(
                    f"{where} = {value!r} is not a classification scheme; use one of {', '.join(_SCHEMES.values())}"
                )
            elif kind == "list" and (
                not isinstance(value, list) or not value or any(v not in REPORT_FORMATS for v in value)
            ):
                problems.append(
                    f"{where} = {value!r} must be a non-empty list of {', '.join(map(repr, REPORT_FORMATS))}"
                )
            elif kind == "bool" and not isinstance(value, bool):
                problems.append(f"{where} must be true or false, got {value!r}")
            elif kind == "str" and not isinstance(value, str):
                problems.append(f"{where} must be text in quotes, got {value!r}")
            elif key == "path":
                out[key] = base / value
            elif key == "encoding":
                _check_encoding(value, where, problems)
                out[key] = value
            elif key == "catalogue" and str(value).endswith(".toml"):
                out[key] = str(base / value)  # a planner's own catalogue, beside the config
            else:
                out[key] = value
        sections[name] = out
    if "towns" not in raw:
        problems.append('no [towns] table: add [towns] with path = "..." (and layer = "..." for a GeoPackage)')
    elif "path" not in raw.get("towns", {}):
        problems.append('[towns] needs path = "..."')
    if "town_stats" in raw and "path" not in raw.get("town_stats", {}):
        problems.append('[town_stats] needs path = "..."')
    if problems:
        msg = "project config: " + "; ".join(problems)
        raise SchemaError(msg, problems)
    return ProjectConfig(base_dir=base, sections=sections)


def load_config(path: str | Path) -> ProjectConfig:
    """Read and parse a ``project.toml``; relative paths in it start from its folder.

    Parameters
    ----------
    path : str or pathlib.Path
        The config file (UTF-8).

    Returns
    -------
    ProjectConfig

    Raises
    ------
    InputFileError
        The file is missing or not UTF-8 text.
    SchemaError
        As :func:`parse_config`.
    """
    path = Path(path)
    return parse_config(tzio.read_text(path), base_dir=path.parent)


def sample_config_text(written: Mapping[str, Path], *, base_dir: str | Path, title: str = "示例小镇 年度评估") -> str:
    """The ``project.toml`` text for a sample scene written by :func:`tongzhen_gis.samples.write_scene`.

    Parameters
    ----------
    written : mapping
        What ``write_scene`` returned (``gpkg``, ``enterprises``, ``town_stats``); with
        ``city_towns`` (and ``city_locations``), the files of
        :func:`tongzhen_gis.samples.write_city`, the config gets a ``[city]`` table.
    base_dir : str or pathlib.Path
        Folder the config will be saved in; paths are written relative to it.
    title : str
        Report title.

    Returns
    -------
    str
        TOML text (strings are written as TOML basic strings with escapes).
    """
    base = Path(base_dir)

    def rel(p: Path) -> str:
        p = Path(p)
        try:
            return p.relative_to(base).as_posix()
        except ValueError:
            return p.as_posix()

    def q(text: str) -> str:
        escaped = text.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'

    gpkg = q(rel(written["gpkg"]))

    def layer(name: str) -> str:
        return f"{{ path = {gpkg}, layer = {q(name)} }}"

    lines = [
        "# Project config of the sample town, written by `tongzhen demo`. Paths are relative to this file.",
        "[project]",
        f"title = {q(title)}",
        'rules = "hangzhou-2021"',
        'grading = "grading"',
        'source = "tongzhen_gis 示例数据 (生成)"',
        "",
        "[towns]",
        f"path = {gpkg}",
        'layer = "towns"',
        'id_col = "town_id"',
        'name_col = "name_zh"',
        'category_col = "category"',
        "",
        "[control_lines]",
        f"red_line = {layer('red_line')}",
        f"farmland = {layer('farmland')}",
        f"urban_boundary = {layer('urban_boundary')}",
        "",
        "[intensity]",
        f"parcels = {layer('parcels')}",
        f"buildings = {layer('buildings')}",
        f"enterprises = {q(rel(written['enterprises']))}",
        "far_cell_m = 50.0",
        "",
        "[access]",
        f"roads = {layer('roads')}",
        f"facilities = {layer('facilities')}",
        f"homes = {layer('homes')}",
        'population_col = "population"',
        "",
        "[town_stats]",
        f"path = {q(rel(written['town_stats']))}",
        'id_col = "town_id"',
        "",
        "[base_layers]",
        f"water = {layer('water')}",
        "",
        "[maps]",
        "enabled = true",
        "dpi = 110",
        "",
    ]
    if "city_towns" in written:  # the sample city of tz.samples.write_city, for the chapter 城市总体目标
        lines += [
            "[city]",
            f"towns = {q(rel(written['city_towns']))}",
            'rules = "hangzhou-2021-city"',
        ]
        if "city_locations" in written:
            lines.append(f'locations = {{ path = {q(rel(written["city_locations"]))}, layer = "towns" }}')
        lines.append("")
    return "\n".join(lines)


def _config_fix(param: str | None, where: str) -> str | None:
    """The project.toml fix for a library keyword (``TongzhenError.param``) met under ``where``.

    ``where`` is ``"[section]"`` or ``"[section].key"``. Layer keywords (``layer``, ``crs``,
    ``coord_system``) belong to the entry that named the file; a column or number keyword to the
    table that holds it (the current one first, then ``[towns]``, which holds ``id_col``).
    """
    if param is None:
        return None
    section = where.split("]")[0].strip("[")
    key = where.split("].", 1)[1] if "]." in where else None
    if param in ("layer", "crs"):
        value = '"EPSG:4549"' if param == "crs" else '"LAYER"'
        verb = "declare it" if param == "crs" else "name the layer"
        setting = f"{param} = {value}" if key is None else f'{key} = {{ path = "...", {param} = {value} }}'
        tail = " (the CRS the file was made in)" if param == "crs" else ""
        return f"in project.toml {verb} in [{section}]: {setting}{tail}"
    if param == "coord_system":
        return f"in project.toml drop coord_system from {where}"
    if param == "encoding":
        setting = 'encoding = "GBK"' if key is None else f'{key} = {{ path = "...", encoding = "GBK" }}'
        return f"in project.toml name the shapefile's text encoding in [{section}]: {setting} (or UTF-8)"
    if param == "swap_xy":
        setting = "swap_xy = true" if key is None else f'{key} = {{ path = "...", swap_xy = true }}'
        return f"in project.toml exchange X and Y in [{section}]: {setting}"
    for candidate in (section, "towns", *CONFIG_KEYS):
        if param in CONFIG_KEYS.get(candidate, {}):
            return f'in project.toml set it in [{candidate}]: {param} = "..."'
    return None


def _config_error(exc: TongzhenError, where: str) -> TongzhenError:
    """The same error (class, ``param``, ``problems``), prefixed with the config entry and its project.toml fix.

    The entry is also kept in the copy's ``config_key`` (``"[section]"`` or ``"[section].key"``),
    which tells a caller the error already names its entry.
    """
    text = str(exc)
    fix = _config_fix(exc.param, where)
    if fix is not None and exc.suggested and "EPSG:4549" in fix:  # the library named the CRS that fits
        fix = fix.replace("EPSG:4549", exc.suggested)
    section = where.split(".")[0].strip("[]")
    columns = [k for k in CONFIG_KEYS.get(section, {}) if k.endswith("_col")]
    if fix is not None:
        text += f"; {fix}"
    elif isinstance(exc, SchemaError) and "." not in where and columns:
        text += f"; in project.toml name the columns in [{section}]: {', '.join(columns)}"
    new = copy.copy(exc)  # keeps the class and every attribute (param, problems …)
    new.args = (f"{where}: {text}",)
    new.config_key = where
    return new
