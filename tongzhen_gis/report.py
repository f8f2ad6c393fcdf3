"""The report bundle (评估报告): every analysis a project config names, in three files.

``tz.report.build(config, out_dir)`` (and ``tongzhen report --config project.toml --out DIR``)
reads the inputs a :class:`ProjectConfig` names, runs the control-line check
(:mod:`~tongzhen_gis.controllines`), land-use intensity (:mod:`~tongzhen_gis.intensity`) and
15-minute access (:mod:`~tongzhen_gis.network`, :mod:`~tongzhen_gis.access`) when their inputs
are given, judges every town against the rule set (:mod:`~tongzhen_gis.evaluate`) and writes,
through :mod:`tongzhen_gis.io` only:

* ``report.html``: one self-contained page (maps embedded as base64 PNG, no external files or
  scripts) with an overview and a section per town: suggested grade and its reasons, the
  scorecard, the conflicts list, coverage and the maps from :mod:`tongzhen_gis.maps`. Every
  value that comes from the data is HTML-escaped.
* ``report.xlsx``: sheets 汇总, 三线核查, 三线冲突清单, 用地集约, 生活圈, 评估 with Chinese
  headers (the conflicts list has a sheet of its own so both tables stay machine-readable).
* ``results.gpkg``: every result layer (towns with their indicators and grade, conflicts,
  homes with walking distances, service areas), and ``far_grid.tif`` (the FAR raster) beside it.
* ``maps/``: the same maps as PNG files: ``landuse.png`` and ``far.png`` for the whole area,
  ``<town>/control_lines.png`` and ``<town>/access.png`` per town (that town's homes only).
  Folder names are made from town names by :func:`safe_name` (no path separators or control
  characters) and joined with :func:`tongzhen_gis.io.safe_join`, so a run never writes outside
  the output folder.

``project.toml``
----------------
Paths are relative to the config file's folder. A layer is a path string, or a table
``{path = "...", layer = "...", crs = "EPSG:4549", coord_system = "gcj02"}`` (``crs`` declares
the CRS of a file that has none; ``coord_system`` declares web-map coordinates to convert).
Every table and key is listed in :data:`CONFIG_KEYS`; an unknown key is an error that names the
valid ones::

    [project]
    title = "示例小镇 年度评估"
    rules = "hangzhou-2021"          # rule set name or path to a .toml
    grading = "grading"              # grading scheme name or path
    source = "示例数据"               # data source printed on maps

    [towns]                          # required
    path = "sample.gpkg"
    layer = "towns"
    id_col = "town_id"
    name_col = "name_zh"
    category_col = "category"

    [control_lines]
    red_line = { path = "sample.gpkg", layer = "red_line" }
    farmland = { path = "sample.gpkg", layer = "farmland" }
    urban_boundary = { path = "sample.gpkg", layer = "urban_boundary" }

    [intensity]
    parcels = { path = "sample.gpkg", layer = "parcels" }
    buildings = { path = "sample.gpkg", layer = "buildings" }
    enterprises = "enterprises.csv"
    far_cell_m = 50.0

    [access]
    roads = { path = "sample.gpkg", layer = "roads" }
    facilities = { path = "sample.gpkg", layer = "facilities" }
    homes = { path = "sample.gpkg", layer = "homes" }
    population_col = "population"

    [town_stats]
    path = "town_stats.csv"

    [maps]
    enabled = true
    dpi = 110

Decisions
---------
* A section left out of the config is not run; its rules show ``missing`` (never ``pass``)
  and the HTML lists what was not run and every data problem met (repairs, homes outside any
  town, absent indicator columns).
* ``all_categories_share`` (the 15-minute rule) is the share of *people* reaching every
  "八个一" category within the threshold when ``population_col`` is given, else the share of
  homes; homes are assigned to towns by ``home_town_col``, the towns' id column when the
  homes carry it, or by location.
* Service areas are built at the 15-minute threshold only (``service_areas = false`` skips them).
* The FAR grid covers every building whole (not cut at town edges), at ``far_cell_m``.

Exit code of the CLI: 1 when any town fails a *binding* rule (see :mod:`tongzhen_gis.evaluate`),
else 0; a bad config or input raises a :class:`~tongzhen_gis.errors.TongzhenError` (exit 2).
"""

from __future__ import annotations

import copy
import io as _bytes
import logging
import math
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from tongzhen_gis import __version__, evaluate
from tongzhen_gis import _html as H
from tongzhen_gis import io as tzio
from tongzhen_gis.errors import InputFileError, SchemaError, TongzhenError
from tongzhen_gis.raster import Raster

__all__ = [
    "CONFIG_KEYS",
    "LayerSource",
    "ProjectConfig",
    "ReportResult",
    "build",
    "load_config",
    "parse_config",
    "safe_name",
    "sample_config_text",
]

logger = logging.getLogger(__name__)

_LAYER_KEYS = ("path", "layer", "crs", "coord_system")
#: Every table of ``project.toml`` and its keys; ``None`` marks a key whose value is a layer.
CONFIG_KEYS: dict[str, dict[str, str]] = {
    "project": {"title": "str", "rules": "str", "grading": "str", "source": "str"},
    "towns": {
        "path": "str",
        "layer": "str",
        "crs": "str",
        "coord_system": "str",
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
    },
    "town_stats": {"path": "str", "id_col": "str"},
    "base_layers": {"water": "layer"},
    "maps": {"enabled": "bool", "dpi": "number", "scheme": "str"},
}

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

_SHEET_HEADERS: dict[str, str] = {
    "town_id": "小镇编号",
    "name_zh": "小镇名称",
    "category": "类型",
    "district": "所在区",
    "grade": "建议等级",
    "points": "得分",
    "grade_by_points": "按得分等级",
    "ceiling": "封顶等级",
    "n_pass": "达标项数",
    "n_fail": "未达标项数 (约束性)",
    "n_advisory_fail": "鼓励值未达到项数",
    "n_unconfirmed_fail": "未核实阈值未达标项数",
    "n_missing": "缺数据项数",
    "n_not_applicable": "不适用项数",
    "reasons": "评定理由",
    "label": "说明",
    "verdict": "三线核查结论",
    "area_m2": "面积 (m²)",
    "area_mu": "面积 (亩)",
    "red_line_m2": "占用生态保护红线 (m²)",
    "red_line_mu": "占用生态保护红线 (亩)",
    "red_line_share": "红线占比",
    "farmland_m2": "占用永久基本农田 (m²)",
    "farmland_mu": "占用永久基本农田 (亩)",
    "farmland_share": "农田占比",
    "inside_boundary_m2": "城镇开发边界内 (m²)",
    "inside_boundary_mu": "城镇开发边界内 (亩)",
    "outside_boundary_m2": "城镇开发边界外 (m²)",
    "outside_boundary_mu": "城镇开发边界外 (亩)",
    "outside_boundary_share": "边界外占比",
    "n_conflicts": "冲突图斑数",
    "line": "控制线",
    "source_id": "控制线图斑编号",
    "share": "占比",
    "sliver": "碎片 (≤容差)",
    "construction": "计入 (建设用地)",
    "construction_m2": "建设用地 (m²)",
    "construction_mu": "建设用地 (亩)",
    "construction_share": "开发强度",
    "residential_m2": "居住用地 (m²)",
    "residential_share": "居住用地占建设用地比重",
    "industrial_m2": "工矿用地 (m²)",
    "industrial_share": "工矿用地占比",
    "green_m2": "绿地与开敞空间 (m²)",
    "green_share": "绿地占比",
    "unclassified_m2": "未分类 (m²)",
    "building_count": "建筑数",
    "footprint_m2": "建筑基底面积 (m²)",
    "floor_area_m2": "建筑面积 (m²)",
    "far": "综合容积率",
    "gross_far": "毛容积率",
    "building_coverage": "建筑密度",
    "unknown_floors_count": "层数未知建筑数",
    "unknown_floors_footprint_m2": "层数未知建筑基底 (m²)",
    "firm_count": "企业数",
    "tax_wan": "税收 (万元)",
    "investment_wan": "累计投资 (万元)",
    "output_wan": "产值 (万元)",
    "revenue_wan": "营业收入 (万元)",
    "rd_wan": "研发经费 (万元)",
    "jobs": "从业人员",
    "tax_per_mu": "亩均税收 (万元/亩)",
    "investment_per_mu": "亩均投资 (万元/亩)",
    "output_per_mu": "亩均产值 (万元/亩)",
    "rd_intensity": "研发投入强度",
    "labour_productivity": "全员劳动生产率 (万元/人)",
    "visitors": "年接待游客 (人次)",
    "investment_3yr_wan": "三年固定资产投资 (万元)",
    "lead_industry_investment_share": "主导产业投资占比",
    "all_categories_share": '"八个一"全覆盖人口比例',
    "rule": "规则",
    "label_zh": "指标",
    "indicator": "指标字段",
    "value": "数值",
    "comparator": "比较",
    "threshold": "阈值",
    "unit": "单位",
    "status": "状态代码",
    "status_zh": "结论",
    "binding": "约束性",
    "advisory": "鼓励值",
    "confirmed": "阈值已核实",
    "reason": "说明",
    "document": "文件",
    "clause": "条款",
    "note": "备注",
    "population": "人口",
    "homes": "住宅点数",
    "facility_category": "设施类别",
    "covered_share": "覆盖比例 (按点数)",
    "covered_population_share": "覆盖比例 (按人口)",
}


def _header(col: Any) -> str:
    text = str(col)
    if text in _SHEET_HEADERS:
        return _SHEET_HEADERS[text]
    if text.startswith("share_") and text[6:].isdigit():
        return f"用地{text[6:]}占比"
    return text


# ----------------------------------------------------------------------------- config


@dataclass(frozen=True)
class LayerSource:
    """Where one input layer or table is: a path, and for layers the layer name and declarations."""

    path: Path
    layer: str | None = None
    crs: str | None = None
    coord_system: str | None = None


@dataclass(frozen=True)
class ProjectConfig:
    """A parsed ``project.toml`` (see the module docstring). Build one with :func:`parse_config`.

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
    def rules(self) -> str | Path:
        """Rule set name or path."""
        return self._rule_ref(self.get("project", "rules", "hangzhou-2021"))

    @property
    def grading(self) -> str | Path:
        """Grading scheme name or path."""
        return self._rule_ref(self.get("project", "grading", "grading"))

    def _rule_ref(self, value: str) -> str | Path:
        return self.base_dir / value if str(value).endswith(".toml") else value


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
        bad = [k for k in keys if k in value and not isinstance(value[k], str)]
        if bad:
            problems.append(f"{where}: {bad} must be text")
        return LayerSource(
            path=base_dir / value["path"],
            **{k: value.get(k) for k in ("layer", "crs", "coord_system") if not table},
        )
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
            elif kind == "bool" and not isinstance(value, bool):
                problems.append(f"{where} must be true or false, got {value!r}")
            elif kind == "str" and not isinstance(value, str):
                problems.append(f"{where} must be text in quotes, got {value!r}")
            elif key == "path":
                out[key] = base / value
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
        What ``write_scene`` returned (``gpkg``, ``enterprises``, ``town_stats``).
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
    return "\n".join(lines)


# ----------------------------------------------------------------------------- names


def safe_name(name: Any, *, fallback: str = "town") -> str:
    r"""A file-name-safe version of a town name: separators and control characters become ``_``.

    Keeps Chinese characters. ``..`` and empty names become ``fallback``-based names; the
    result is further checked by :func:`tongzhen_gis.io.safe_join` when joined to a folder.

    Parameters
    ----------
    name : Any
        A town name (or id); None is allowed.
    fallback : str, default "town"
        Used when nothing of the name is left, or prefixed to a name of dots only.

    Returns
    -------
    str
        At most 120 characters, NFC-normalised, without ``/``, ``\`` or control characters.
    """
    text = unicodedata.normalize("NFC", "" if name is None else str(name))
    chars = [
        "_" if ch in "/\\" or unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co") else ch for ch in text
    ]
    text = "".join(chars).strip()
    if not text.strip("._ "):
        text = f"{fallback}{text}" if text else fallback
    return text[:120]


# ----------------------------------------------------------------------------- build


@dataclass(frozen=True)
class ReportResult:
    """What :func:`build` wrote and found.

    Attributes
    ----------
    evaluation : tongzhen_gis.evaluate.Evaluation
        Scorecard, grades and conflicts.
    indicators : pandas.DataFrame
        The joined indicator table.
    files : dict
        Name → path of every file written (``html``, ``xlsx``, ``gpkg``, ``far_grid`` and maps).
    problems : list of str
        Everything that could not be used as given or was not run (and why).
    """

    evaluation: evaluate.Evaluation
    indicators: pd.DataFrame
    files: dict[str, Path]
    problems: list[str]

    @property
    def failing(self) -> list[Any]:
        """Town ids that fail at least one binding rule."""
        return self.evaluation.failing

    @property
    def exit_code(self) -> int:
        """1 when any town fails a binding rule, else 0 (the CLI's exit code)."""
        return 1 if self.failing else 0


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
    for candidate in (section, "towns", *CONFIG_KEYS):
        if param in CONFIG_KEYS.get(candidate, {}):
            return f'in project.toml set it in [{candidate}]: {param} = "..."'
    return None


def _config_error(exc: TongzhenError, where: str) -> TongzhenError:
    """The same error (class, ``param``, ``problems``), prefixed with the config entry and its project.toml fix."""
    text = str(exc)
    fix = _config_fix(exc.param, where)
    section = where.split(".")[0].strip("[]")
    columns = [k for k in CONFIG_KEYS.get(section, {}) if k.endswith("_col")]
    if fix is not None:
        text += f"; {fix}"
    elif isinstance(exc, SchemaError) and "." not in where and columns:
        text += f"; in project.toml name the columns in [{section}]: {', '.join(columns)}"
    new = copy.copy(exc)  # keeps the class and every attribute (param, problems …)
    new.args = (f"{where}: {text}",)
    return new


def _dropped_note(gdf: gpd.GeoDataFrame, where: str) -> str | None:
    """A problem line naming the features :func:`tongzhen_gis.io.read_layer` dropped for lack of geometry."""
    info = gdf.attrs.get("repairs", {}) or {}
    count = int(info.get("empty_removed", 0) or 0)
    if not count:
        return None
    rows = ", ".join(str(i) for i in info.get("empty_removed_index", [])[:20])
    return f"{where}: {count} feature(s) with an empty or missing geometry not read (file rows {rows})"


def _read(config: ProjectConfig, section: str, key: str, problems: list[str] | None = None) -> gpd.GeoDataFrame | None:
    """The layer a config entry names (None when absent); errors name the entry.

    Features without geometry are dropped by :func:`tongzhen_gis.io.read_layer` and, never
    silently, listed in ``problems``.
    """
    src = config.get(section, key)
    if src is None:
        return None
    where = f"[{section}].{key}"
    try:
        gdf = tzio.read_layer(src.path, layer=src.layer, crs=src.crs, coord_system=src.coord_system)
    except TongzhenError as exc:
        raise _config_error(exc, where) from exc
    note = _dropped_note(gdf, where)
    if note is not None and problems is not None:
        problems.append(note)
    return gdf


def _read_table(path: Path, where: str) -> pd.DataFrame:
    try:
        return tzio.read_table(path)
    except TongzhenError as exc:
        raise _config_error(exc, where) from exc


def _check_files(config: ProjectConfig) -> None:
    missing = []
    for name, section in config.sections.items():
        for key, value in section.items():
            path = value.path if isinstance(value, LayerSource) else (value if key == "path" else None)
            if path is not None and not Path(path).exists():
                missing.append(f"[{name}].{key}: {path}")
    for key, ref in (("rules", config.rules), ("grading", config.grading)):
        if isinstance(ref, Path) and not ref.exists():
            missing.append(f"[project].{key}: {ref}")
    if missing:
        msg = "input files not found: " + "; ".join(missing) + " (paths are relative to the config file's folder)"
        raise InputFileError(msg)


def _check_rules(config: ProjectConfig) -> None:
    """Load the rule set and the grading scheme before any analysis runs; errors name the config key."""
    from tongzhen_gis import rules

    try:
        rules.load(config.rules)
    except TongzhenError as exc:
        raise _config_error(exc, "[project].rules") from exc
    try:
        evaluate.grade(evaluate.scorecard(pd.DataFrame(index=pd.Index([], name="town_id"))), rules=config.grading)
    except TongzhenError as exc:
        raise _config_error(exc, "[project].grading") from exc


@dataclass
class _Run:
    """Everything computed in one build (internal)."""

    towns: gpd.GeoDataFrame
    id_col: str
    name_col: str | None
    lines: Any = None
    line_layers: dict[str, gpd.GeoDataFrame | None] = field(default_factory=dict)
    parcels: gpd.GeoDataFrame | None = None
    intensity: pd.DataFrame | None = None
    far_grid: Raster | None = None
    homes: gpd.GeoDataFrame | None = None
    facilities: gpd.GeoDataFrame | None = None
    roads: gpd.GeoDataFrame | None = None
    water: gpd.GeoDataFrame | None = None
    nearest: pd.DataFrame | None = None
    coverage: pd.DataFrame | None = None
    access_by_town: pd.DataFrame | None = None
    town_of_home: pd.Series | None = None
    service_areas: gpd.GeoDataFrame | None = None
    problems: list[str] = field(default_factory=list)


def _run_control_lines(config: ProjectConfig, run: _Run) -> None:
    from tongzhen_gis import controllines

    layers = {k: _read(config, "control_lines", k, run.problems) for k in ("red_line", "farmland", "urban_boundary")}
    if all(v is None for v in layers.values()):
        run.problems.append("[control_lines] names no line layer: the three-line check was not run")
        return
    run.line_layers = layers
    run.lines = controllines.check(
        run.towns, id_col=run.id_col, sliver_m2=config.get("control_lines", "sliver_m2"), **layers
    )
    run.problems.extend(f"三线核查: line layer {m} not given; its rules are 'missing'" for m in run.lines.missing_lines)
    for rec in run.lines.repairs.itertuples():
        run.problems.append(f"三线核查 {rec.layer}: {rec.issue} ({rec.count}) → {rec.action}")


def _run_intensity(config: ProjectConfig, run: _Run) -> None:
    from tongzhen_gis import intensity

    run.parcels = _read(config, "intensity", "parcels", run.problems)
    buildings = _read(config, "intensity", "buildings", run.problems)
    ent_src = config.get("intensity", "enterprises")
    enterprises = _read_table(ent_src.path, "[intensity].enterprises") if ent_src is not None else None
    if run.parcels is None:
        run.problems.append("[intensity] has no parcels: land-use intensity was not measured")
        return
    kwargs = {k: config.get("intensity", k) for k in ("landuse_col", "floors_col", "height_col")}
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    run.intensity = intensity.summarize(
        run.towns, parcels=run.parcels, buildings=buildings, enterprises=enterprises, id_col=run.id_col, **kwargs
    )
    run.problems.extend(f"用地集约: {p}" for p in run.intensity.attrs.get("problems", []))
    run.problems.extend(f"用地集约 (修复): {p}" for p in run.intensity.attrs.get("repairs", []))
    if enterprises is None:
        run.problems.append("用地集约: no enterprise table; 亩均 figures are 'missing'")
    if buildings is not None and len(buildings):
        cell = float(config.get("intensity", "far_cell_m", 100.0))
        grid_kwargs = {k: kwargs[k] for k in ("floors_col", "height_col") if k in kwargs}
        run.far_grid = intensity.floor_area_grid(buildings, cell_m=cell, **grid_kwargs)


def _run_access(config: ProjectConfig, run: _Run) -> None:
    from tongzhen_gis import access, network

    roads = _read(config, "access", "roads", run.problems)
    run.facilities = _read(config, "access", "facilities", run.problems)
    run.homes = _read(config, "access", "homes", run.problems)
    if roads is None or run.facilities is None or run.homes is None:
        run.problems.append("[access] needs roads, facilities and homes: 15-minute access was not measured")
        return
    run.roads = roads
    absent = [
        f"{key} = {config.get('access', key)!r}"
        for key in ("population_col", "home_town_col")
        if config.get("access", key) is not None and config.get("access", key) not in run.homes.columns
    ]
    if absent:
        msg = (
            f"[access]: the homes layer has no column {', '.join(absent)} "
            f"(columns: {list(run.homes.columns)}); fix the name in project.toml"
        )
        raise SchemaError(msg, absent)
    category_col = config.get("access", "category_col", "category")
    G = network.from_lines(roads)
    options: dict[str, Any] = {"category_col": category_col}
    if config.get("access", "max_distance_m") is not None:
        options["max_distance_m"] = float(config.get("access", "max_distance_m"))
    run.nearest = access.nearest(G, run.homes, run.facilities, **options)
    homes = run.homes
    town_col = config.get("access", "home_town_col")
    if town_col is None:
        town_col = run.id_col if run.id_col in homes.columns else None
    if town_col is None:
        joined = gpd.sjoin(
            homes[[homes.geometry.name]],
            run.towns[[run.id_col, run.towns.geometry.name]].to_crs(homes.crs),
            how="left",
            predicate="within",
        )
        town_of_home = joined[~joined.index.duplicated()][run.id_col]
    else:
        town_of_home = homes[town_col]
    pop_col = config.get("access", "population_col")
    threshold = config.get("access", "threshold_m")
    cov_kwargs: dict[str, Any] = {"by": town_of_home}
    if pop_col is not None:
        cov_kwargs["weights"] = homes[pop_col]
    if threshold is not None:
        cov_kwargs["threshold_m"] = float(threshold)
    run.coverage = access.coverage(run.nearest, **cov_kwargs)
    run.access_by_town = _access_indicators(run.coverage, run.towns[run.id_col], weighted=pop_col is not None)
    if config.get("access", "service_areas", True):
        t = float(threshold) if threshold is not None else access.default_threshold_m()
        run.service_areas = access.service_areas(G, run.facilities, category_col=category_col, thresholds_m=(t,))
    unplaced = [str(t) for t in pd.unique(town_of_home.dropna()) if t not in set(run.towns[run.id_col])]
    if unplaced:
        run.problems.append(f"生活圈: homes assigned to unknown towns {unplaced[:5]}")
    run.town_of_home = town_of_home
    n_out = int(town_of_home.isna().sum())
    if n_out:
        run.problems.append(
            f"生活圈: {n_out} home(s) lie in no town; they are in the homes layer, not in any town's figures"
        )


def _access_indicators(coverage: pd.DataFrame, town_ids: pd.Series, *, weighted: bool) -> pd.DataFrame:
    """Per-town ``all_categories_share`` from :func:`tongzhen_gis.access.coverage`.

    The share of *people* (``population_share``) when homes carry a population, else the share
    of homes (``share``) that reach every category within the threshold.
    """
    col = "population_share" if weighted else "share"
    complete = coverage.xs("all_categories", level="category")[col]
    out = pd.DataFrame(index=pd.Index(town_ids, name=town_ids.name))
    out["all_categories_share"] = complete.reindex(out.index).astype(float)
    return out


def _towns_layer(config: ProjectConfig) -> tuple[gpd.GeoDataFrame, str, str | None, str]:
    try:
        towns = tzio.read_layer(
            config.get("towns", "path"),
            layer=config.get("towns", "layer"),
            crs=config.get("towns", "crs"),
            coord_system=config.get("towns", "coord_system"),
        )
    except TongzhenError as exc:
        raise _config_error(exc, "[towns]") from exc
    id_col = config.get("towns", "id_col", "town_id")
    name_col = config.get("towns", "name_col", "name_zh")
    category_col = config.get("towns", "category_col", "category")
    problems = []
    if id_col not in towns.columns:
        problems.append(f"towns layer has no id column {id_col!r} (columns: {list(towns.columns)}); set [towns].id_col")
    elif towns[id_col].duplicated().any():
        dups = sorted(map(str, towns.loc[towns[id_col].duplicated(), id_col]))
        problems.append(f"towns layer has duplicate ids {dups[:5]} in {id_col!r}; give each town a unique id")
    if category_col not in towns.columns:
        logger.warning("towns layer has no %r column: rules limited to town types are 'missing'", category_col)
    if problems:
        raise SchemaError("; ".join(problems), problems)
    if name_col not in towns.columns:
        name_col = None
    return towns, id_col, name_col, category_col


def build(config: ProjectConfig | str | Path, out_dir: str | Path) -> ReportResult:
    """Run every analysis the config names and write the report bundle to ``out_dir``.

    Parameters
    ----------
    config : ProjectConfig, str or pathlib.Path
        From :func:`parse_config`, or the path of a ``project.toml`` (read with :func:`load_config`).
    out_dir : str or pathlib.Path
        Output folder (created). Nothing is written outside it.

    Returns
    -------
    ReportResult
        The evaluation, the indicators, the files written and the problems met;
        ``exit_code`` is 1 when any town fails a binding rule.

    Raises
    ------
    TongzhenError
        Missing input files (all listed at once), layers without CRS, missing columns ….
    """
    if isinstance(config, str | Path):
        config = load_config(config)
    if not isinstance(config, ProjectConfig):
        msg = (
            f"build() takes a ProjectConfig or the path of a project.toml, got {type(config).__name__}; "
            "use tz.report.build('project.toml', out_dir)"
        )
        raise TypeError(msg)
    out = Path(out_dir)
    _check_files(config)
    _check_rules(config)
    towns, id_col, name_col, category_col = _towns_layer(config)
    run = _Run(towns=towns, id_col=id_col, name_col=name_col)
    if (note := _dropped_note(towns, "[towns]")) is not None:
        run.problems.append(note)
    run.water = _read(config, "base_layers", "water", run.problems)
    for section, step, absent in (
        ("control_lines", _run_control_lines, "the three-line rules are 'missing'"),
        ("intensity", _run_intensity, "land-use and 亩均 rules are 'missing'"),
        ("access", _run_access, "the 15-minute rule is 'missing'"),
    ):
        if not config.has(section):
            run.problems.append(f"no [{section}] in the config: {absent}")
            continue
        try:
            step(config, run)
        except TongzhenError as exc:
            if str(exc).startswith("["):  # already names its config entry
                raise
            raise _config_error(exc, f"[{section}]") from exc
    stats = None
    stats_src = config.get("town_stats", "path")
    if stats_src is not None:
        stats = _read_table(stats_src, "[town_stats].path")
        stats_id = config.get("town_stats", "id_col", id_col)
        if stats_id not in stats.columns:
            msg = f"town statistics table {stats_src} has no column {stats_id!r}; set [town_stats].id_col"
            raise SchemaError(msg)
        stats = stats.set_index(stats_id)
    indicators = evaluate.collect_indicators(
        towns,
        control_lines=run.lines.summary if run.lines is not None else None,
        intensity=run.intensity,
        access=run.access_by_town,
        town_stats=stats,
        id_col=id_col,
        category_col=category_col,
    )
    if name_col is not None and name_col not in indicators.columns:
        indicators.insert(1, name_col, towns.set_index(id_col)[name_col].reindex(indicators.index))
    run.problems.extend(f"指标汇总: {p}" for p in indicators.attrs.get("problems", []))
    card = evaluate.scorecard(indicators, rules=config.rules, category_col=category_col)
    run.problems.extend(f"评估: {p}" for p in card.attrs.get("problems", []))
    evaluation = evaluate.Evaluation(
        scorecard=card,
        grades=evaluate.grade(card, rules=config.grading),
        conflicts=run.lines.conflicts if run.lines is not None else None,
    )
    files: dict[str, Path] = {}
    maps = _render_maps(config, run, out, files) if config.get("maps", "enabled", True) else {}
    files["xlsx"] = _write_workbook(run, indicators, evaluation, out)
    files.update(_write_geodata(run, indicators, evaluation, out))
    html_text = _html_report(config, run, indicators, evaluation, maps)
    files["html"] = tzio.write_text(html_text, tzio.safe_join(out, "report.html"))
    for p in run.problems:
        logger.info("report: %s", p)
    return ReportResult(evaluation=evaluation, indicators=indicators, files=files, problems=run.problems)


# ----------------------------------------------------------------------------- outputs


def _zh(df: pd.DataFrame) -> pd.DataFrame:
    return df.rename(columns=_header)


def _scorecard_sheet(card: pd.DataFrame) -> pd.DataFrame:
    df = card.reset_index()
    df.insert(df.columns.get_loc("status") + 1, "status_zh", df["status"].map(evaluate.STATUS_ZH))
    return df


#: Chinese names of the ``line`` values of the conflicts table.
_LINE_ZH = {"red_line": "生态保护红线", "farmland": "永久基本农田", "outside_boundary": "城镇开发边界外"}
#: Chinese labels of the control-line verdicts.
_VERDICT_ZH = {"pass": "通过", "review": "待复核 (碎片)", "conflict": "冲突", "unchecked": "未核查"}


def _summary_table(run: _Run, indicators: pd.DataFrame, ev: evaluate.Evaluation) -> pd.DataFrame:
    cols = [c for c in ("name_zh", "category", "district") if c in indicators.columns]
    out = indicators[cols].copy()
    if run.lines is not None:
        verdict = run.lines.summary["verdict"].reindex(out.index)
        out["verdict"] = verdict.map(lambda v: _VERDICT_ZH.get(v, v))
    for col in ("grade", "points", "n_fail", "n_missing", "n_advisory_fail", "n_unconfirmed_fail", "reasons", "label"):
        out[col] = ev.grades[col].reindex(out.index)
    return out


_COVERAGE_HEADERS = {
    "category": "设施类别",
    "category_zh": "设施类别名称",
    "origins": "住宅点数",
    "covered": "覆盖点数",
    "share": "覆盖比例 (按点数)",
    "unreachable": "无法接入路网点数",
    "mean_categories_reached": "平均可达类别数",
    "population": "人口",
    "covered_population": "覆盖人口",
    "population_share": "覆盖比例 (按人口)",
}


def _coverage_table(coverage: pd.DataFrame) -> pd.DataFrame:
    """Coverage with Chinese category names and headers (group column first)."""
    from tongzhen_gis import rules

    catalogue = rules.load("facilities")["category"]
    df = coverage.reset_index()
    names = {k: v.get("name_zh", k) for k, v in catalogue.items()}
    names["all_categories"] = '"八个一"全部可达'
    df.insert(df.columns.get_loc("category") + 1, "category_zh", df["category"].map(lambda c: names.get(c, c)))
    group = df.columns[0]
    df[group] = df[group].map(lambda g: "不在任何小镇" if g is None or (isinstance(g, float) and math.isnan(g)) else g)
    return df.rename(columns={**_COVERAGE_HEADERS, group: _header(group)})


def _coverage_sheet(run: _Run) -> pd.DataFrame:
    if run.coverage is None:
        return pd.DataFrame({"说明": ["未运行15分钟生活圈分析 (配置中无 [access] 或输入不全)"]})
    return _coverage_table(run.coverage)


def _intensity_sheet(table: pd.DataFrame) -> pd.DataFrame:
    """The intensity table with the Chinese labels and units of :data:`tongzhen_gis.intensity.COLUMNS_ZH`."""
    from tongzhen_gis import intensity, rules

    classes = rules.load("landuse")["class"]

    def label(col: Any) -> str:
        text = str(col)
        if text in intensity.COLUMNS_ZH:
            name, unit = intensity.COLUMNS_ZH[text]
            return f"{name} ({unit})" if unit else name
        if text.startswith("share_") and text[6:] in classes:
            return f"{text[6:]} {classes[text[6:]]['name_zh']} 占小镇面积比重"
        return _header(text)

    return table.reset_index().rename(columns=label)


def _write_workbook(run: _Run, indicators: pd.DataFrame, ev: evaluate.Evaluation, out: Path) -> Path:
    none = pd.DataFrame({"说明": ["未运行 (配置中无相应输入)"]})
    if run.lines is not None:
        conflicts = pd.DataFrame(run.lines.conflicts.drop(columns=run.lines.conflicts.geometry.name))
        conflicts["line"] = conflicts["line"].map(lambda v: _LINE_ZH.get(v, v))
        lines_sheet, conflicts_sheet = _zh(run.lines.summary.reset_index()), _zh(conflicts)
    else:
        lines_sheet = conflicts_sheet = none
    sheets = {
        "汇总": _zh(_summary_table(run, indicators, ev).reset_index()),
        "三线核查": lines_sheet,
        "三线冲突清单": conflicts_sheet,
        "用地集约": _intensity_sheet(run.intensity) if run.intensity is not None else none,
        "生活圈": _coverage_sheet(run),
        "评估": _zh(_scorecard_sheet(ev.scorecard)),
    }
    return tzio.write_workbook(sheets, tzio.safe_join(out, "report.xlsx"), index=False)


def _gpkg_safe(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Columns a GeoPackage can store: objects as text, everything else unchanged."""
    gdf = gdf.copy()
    for col in gdf.columns:
        if col == gdf.geometry.name:
            continue
        if gdf[col].dtype == object or str(gdf[col].dtype) in ("string", "str"):
            gdf[col] = gdf[col].map(lambda v: None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v))
    gdf.columns = [str(c) for c in gdf.columns]
    return gdf


def _write_geodata(run: _Run, indicators: pd.DataFrame, ev: evaluate.Evaluation, out: Path) -> dict[str, Path]:
    gpkg = tzio.safe_join(out, "results.gpkg")
    files: dict[str, Path] = {}
    towns = run.towns.set_index(run.id_col)
    extra = indicators.drop(columns=[c for c in indicators.columns if c in towns.columns])
    result = towns.join(extra).join(ev.grades[["grade", "points", "reasons"]])
    layers: dict[str, gpd.GeoDataFrame] = {"towns": result.reset_index()}
    if run.lines is not None:
        layers["conflicts"] = run.lines.conflicts
    if run.homes is not None and run.nearest is not None:
        near = run.nearest.add_prefix("dist_m_").rename(columns={"dist_m_snap_m": "snap_m"})
        layers["homes"] = run.homes.join(near)
    if run.service_areas is not None:
        layers["service_areas"] = run.service_areas
    if run.facilities is not None:
        layers["facilities"] = run.facilities
    for name, gdf in layers.items():
        if gdf is None or len(gdf) == 0:
            run.problems.append(f"results.gpkg: layer {name} is empty and was not written")
            continue
        tzio.write_layer(_gpkg_safe(gpd.GeoDataFrame(gdf)), gpkg, layer=name)
    files["gpkg"] = gpkg
    if run.far_grid is not None:
        files["far_grid"] = tzio.write_raster(run.far_grid, tzio.safe_join(out, "far_grid.tif"))
    return files


# ----------------------------------------------------------------------------- maps


def _png(fig: Any, dpi: int) -> bytes:
    import matplotlib.pyplot as plt

    buffer = _bytes.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=dpi, facecolor="white", metadata={"Software": "tongzhen_gis"})
    finally:
        plt.close(fig)
    return buffer.getvalue()


#: Key of the maps of the whole project area in :func:`_render_maps`'s result.
_OVERVIEW = "__overview__"


def _draw(run: _Run, caption: str, draw: Any, dpi: int) -> bytes | None:
    try:
        fig, _ = draw()
    except TongzhenError as exc:
        run.problems.append(f"地图 {caption}: not drawn ({exc})")
        return None
    return _png(fig, dpi)


def _render_maps(
    config: ProjectConfig, run: _Run, out: Path, files: dict[str, Path]
) -> dict[Any, list[tuple[str, bytes]]]:
    """(caption, PNG bytes) of each map, per town and for the whole area; also written to ``maps/``.

    Town maps (control lines, access) are framed on the town; land use and the FAR grid are
    drawn once for the whole area (same data for every town). Folder names come from town
    names through :func:`safe_name` and :func:`tongzhen_gis.io.safe_join`.
    """
    from tongzhen_gis import maps

    dpi = int(config.get("maps", "dpi", 110))
    scheme = str(config.get("maps", "scheme", "Quantiles"))
    towns = run.towns
    common = {"source": config.get("project", "source"), "label_col": run.name_col, "water": run.water}
    result: dict[Any, list[tuple[str, bytes]]] = {_OVERVIEW: []}
    overview: list[tuple[str, str, Any]] = []
    if run.parcels is not None:
        overview.append(("landuse", "用地用海分类图", lambda: maps.landuse_map(run.parcels, towns=towns, **common)))
    if run.far_grid is not None:
        overview.append(
            (
                "far",
                "容积率分布图",
                lambda: maps.intensity_map(run.far_grid, towns=towns, hide_zero=True, scheme=scheme, **common),
            )
        )
    for key, caption, draw in overview:
        png = _draw(run, caption, draw, dpi)
        if png is not None:
            files[f"map:{key}"] = tzio.write_bytes(png, tzio.safe_join(out, "maps", f"{key}.png"))
            result[_OVERVIEW].append((caption, png))

    used: set[str] = set()
    for _, town in towns.iterrows():
        tid = town[run.id_col]
        one = towns[towns[run.id_col] == tid]
        minx, miny, maxx, maxy = one.total_bounds
        pad = 0.15 * max(maxx - minx, maxy - miny, 1.0)
        framed = {**common, "extent": (minx - pad, miny - pad, maxx + pad, maxy + pad), "roads": run.roads}
        name = town[run.name_col] if run.name_col else tid
        items: list[tuple[str, str, Any]] = []
        if run.lines is not None:
            own = run.lines.conflicts[run.lines.conflicts[run.id_col] == tid]
            title = f"{name} 三条控制线核查图"
            items.append(
                (
                    "control_lines",
                    title,
                    lambda o=one, c=own, t=title, f=framed: maps.control_lines_map(
                        o, conflicts=c, id_col=run.id_col, title=t, **run.line_layers, **f
                    ),
                )
            )
        if run.nearest is not None and run.homes is not None and run.town_of_home is not None:
            mine = (run.town_of_home == tid).to_numpy()
            if mine.any():
                title = f"{name} 15分钟生活圈可达性图"
                items.append(
                    (
                        "access",
                        title,
                        lambda t=title, f=framed, m=mine: maps.access_map(
                            run.homes[m], nearest=run.nearest[m], facilities=run.facilities, towns=towns, title=t, **f
                        ),
                    )
                )
        folder = safe_name(name, fallback=f"town_{safe_name(tid)}")
        if folder.lower() in used:
            folder = f"{folder}_{safe_name(tid)}"
        used.add(folder.lower())
        rendered = []
        for key, caption, draw in items:
            png = _draw(run, caption, draw, dpi)
            if png is not None:
                files[f"map:{tid}:{key}"] = tzio.write_bytes(png, tzio.safe_join(out, "maps", folder, f"{key}.png"))
                rendered.append((caption, png))
        result[tid] = rendered
    return result


# ----------------------------------------------------------------------------- html


_CARD_HEADERS = {
    "label_zh": "指标",
    "value": "数值",
    "comparator": "比较",
    "threshold": "阈值",
    "unit": "单位",
    "status_zh": "结论",
    "mark": "性质",
    "reason": "说明",
    "document": "文件",
    "clause": "条款",
}


#: How a comparator and a unit of the rule files are shown to a reader.
_COMPARATOR_TEXT = {"<=": "≤", ">=": "≥", "<": "<", ">": ">", "==": "="}
_UNIT_TEXT = {"m2": "m²", "ratio": "比例"}


def _shown(value: Any, unit: str) -> Any:
    """A scorecard value or threshold as a reader expects it: ratios as percentages."""
    if unit == "ratio" and isinstance(value, int | float) and math.isfinite(value):
        return f"{value * 100:.4g}%"
    return value


def _card_html(card: pd.DataFrame) -> str:
    df = card.copy()
    df["value"] = [_shown(v, u) for v, u in zip(df["value"], df["unit"], strict=True)]
    df["threshold"] = [_shown(v, u) for v, u in zip(df["threshold"], df["unit"], strict=True)]
    df["comparator"] = df["comparator"].map(lambda c: _COMPARATOR_TEXT.get(c, c))
    df["unit"] = df["unit"].map(lambda u: _UNIT_TEXT.get(u, u))
    df["status_zh"] = df["status"].map(evaluate.STATUS_ZH)
    df["mark"] = [
        "鼓励值" if a else ("阈值未核实" if not c else "约束性")
        for a, c in zip(df["advisory"], df["confirmed"], strict=True)
    ]
    cols = list(_CARD_HEADERS)
    return H.table(df[cols], headers=_CARD_HEADERS, row_class=df["status"])


def _html_report(
    config: ProjectConfig,
    run: _Run,
    indicators: pd.DataFrame,
    ev: evaluate.Evaluation,
    maps: Mapping[Any, list[tuple[str, bytes]]],
) -> str:
    e = H.esc
    parts = [f"<h1>{e(config.title)}</h1>"]
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    rules_label = config.rules if isinstance(config.rules, str) else Path(config.rules).name
    parts.append(
        f'<p class="note">生成时间 {e(stamp)} · tongzhen_gis {e(__version__)} · 规则集 {e(rules_label)} · '
        "建议等级由 rules/grading.toml 计分规则给出, 仅供评审参考, 非官方考核结论。</p>"
    )
    summary = _summary_table(run, indicators, ev).reset_index()
    if "category" in summary.columns:
        names_zh = evaluate.category_names_zh()
        summary["category"] = summary["category"].map(
            lambda c: f"{names_zh[c]} ({c})" if isinstance(c, str) and c in names_zh else c
        )
    heads = {c: _header(c) for c in summary.columns}
    parts.append("<h2>汇总</h2>")
    parts.append(H.table(summary.drop(columns=["reasons", "label"]), headers=heads))
    overview = maps.get(_OVERVIEW, [])
    if overview:
        parts.append("<h3>全域地图</h3>")
        parts.extend(H.image(png, caption=cap) for cap, png in overview)
    failing = ev.failing
    parts.append(
        f"<p>未达到约束性指标的小镇: {e('、'.join(map(str, failing)) if failing else '无')}。"
        "“鼓励值”与“阈值未核实”的规则单独标注, 不单独导致不达标。</p>"
    )
    for tid in indicators.index:
        name = indicators.loc[tid, run.name_col] if run.name_col in indicators.columns else tid
        g = ev.grades.loc[tid]
        parts.append(f"<h2>{e(name)} ({e(tid)})</h2>")
        parts.append(
            f'<p class="grade">建议等级: {e(g["grade"])} · 得分 {e(g["points"])}</p>'
            f'<p class="note">{e(g["reasons"])}</p>'
        )
        parts.append("<h3>评估表</h3>")
        parts.append(_card_html(ev.scorecard.xs(tid, level=0)))
        if run.lines is not None:
            parts.append("<h3>三线冲突清单</h3>")
            conf = run.lines.conflicts
            conf = pd.DataFrame(conf[conf[run.id_col] == tid].drop(columns=conf.geometry.name))
            if conf.empty:
                parts.append("<p>无冲突。</p>")
            else:
                cols = [
                    c
                    for c in ("line", "source_id", "area_m2", "area_mu", "share", "sliver", "construction")
                    if c in conf.columns
                ]
                conf["line"] = conf["line"].map(lambda v: _LINE_ZH.get(v, v))
                if "share" in conf.columns:
                    conf["share"] = [_shown(v, "ratio") for v in conf["share"]]
                parts.append(H.table(conf[cols], headers={c: _header(c) for c in cols}))
        if run.coverage is not None:
            parts.append("<h3>15分钟生活圈覆盖</h3>")
            cov = run.coverage
            if tid in set(cov.index.get_level_values(0)):
                shown = _coverage_table(cov.loc[[tid]]).iloc[:, 1:]
                for col in (_COVERAGE_HEADERS["share"], _COVERAGE_HEADERS["population_share"]):
                    if col in shown.columns:
                        shown[col] = [_shown(v, "ratio") for v in shown[col]]
                parts.append(H.table(shown))
            else:
                parts.append("<p>无该小镇的住宅点。</p>")
        town_maps = maps.get(tid, [])
        if town_maps:
            parts.append("<h3>地图</h3>")
            parts.extend(H.image(png, caption=cap) for cap, png in town_maps)
    if run.problems:
        parts.append("<h2>数据问题与未运行的分析</h2><ul>")
        parts.extend(f"<li>{e(p)}</li>" for p in run.problems)
        parts.append("</ul>")
    return H.page(config.title, "\n".join(parts))
