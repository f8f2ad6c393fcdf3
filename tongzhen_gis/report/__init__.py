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
* ``report.docx``: the same content as a Word file (python-docx; no Word needed): a cover with
  the title and date, a table-of-contents field, headings in Word's heading styles, editable
  tables and the maps as pictures.
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
``{path = "...", layer = "...", crs = "EPSG:4549", coord_system = "gcj02", encoding = "GBK", swap_xy = true}``
(``crs`` declares the CRS of a file that has none, or whose coordinates contradict its own;
``coord_system`` declares web-map coordinates to convert; ``encoding`` names the text encoding
of a shapefile's attributes, over its ``.cpg`` and the guess from the bytes; ``swap_xy``
exchanges X and Y of a latitude-first or northing-first file). ``[towns]`` takes the same keys.
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
    # catalogue = "gb50180-2018"        # or "my_catalogue.toml" beside this file
    # population = "estimate"           # floor area on [intensity] parcels; or a column name
    # per_capita_m2 = 36.52             # population_totals = { path = "..." }; population_raster = "..."

    [town_stats]
    path = "town_stats.csv"          # per-town figures: visitors, green_coverage (绿化覆盖率, 0–1) …

    [base_layers]                    # beneath the maps; names of major roads and water bodies shown
    water = { path = "sample.gpkg", layer = "water" }
    roads = { path = "osm.gpkg", layer = "roads" }   # when [access] gives no roads

    [maps]
    enabled = true
    dpi = 110

    [report]
    formats = ["html", "docx", "xlsx"]   # the report files to write (default: all three)
    [city]                           # the chapter 城市总体目标 (tongzhen_gis.report.city)
    towns = "city_towns.csv"         # town table, one row per town and year
    years = "2021-2023"
    locations = { path = "city_locations.gpkg", layer = "towns" }

Decisions
---------
* A section left out of the config is not run; its rules show ``missing`` (never ``pass``)
  and the HTML lists what was not run and every data problem met (repairs, homes outside any
  town, absent indicator columns).
* ``all_categories_share`` (the 15-minute rule) is the share of *people* reaching every
  category of the catalogue (``[access] catalogue``, default "八个一"), each within its own
  walking distance (``distance_m`` in the catalogue, else 1000 m; ``threshold_m`` sets one for
  all), when ``population_col`` or ``population`` is given, else the share of homes; homes are
  assigned to towns by ``home_town_col``, the towns' id column when the homes carry it, or by
  location. ``population = "estimate"`` estimates people per home
  (:func:`tongzhen_gis.access.estimate_population`): shared from ``population_totals``, summed
  from ``population_raster``, or from floor area on the residential ``[intensity]`` parcels (or
  ``use_col``); the method and the non-residential homes set to 0 are listed with the problems.
* Service areas are built at each category's distance (``service_areas = false`` skips them).
* The FAR grid covers every building whole (not cut at town edges), at ``far_cell_m``.
* ``[city]`` adds the chapter 城市总体目标 (the city targets of 杭政办函〔2021〕25号 二, their status
  by year and the warning list; sheets 城市总体目标 and 小镇预警; maps ``city_targets.png`` and
  ``city_verdicts.png``). It does not change the exit code, which is about the towns.

Exit code of the CLI: 1 when any town fails a *binding* rule (see :mod:`tongzhen_gis.evaluate`),
else 0; a bad config or input raises a :class:`~tongzhen_gis.errors.TongzhenError` (exit 2)
whose ``config_key`` names the ``project.toml`` entry it concerns (``"[access].homes"``).

Modules
-------
Each one reason to change; :func:`build` runs them in order.

* :mod:`~tongzhen_gis.report.config`: the ``project.toml`` model, parsing, validation, and the
  mapping of a library error to its config entry.
* :mod:`~tongzhen_gis.report.run`: reading the inputs and running the analyses; each step
  returns a frozen result (``ControlLinesResult``, ``IntensityResult``, ``AccessResult``)
  gathered in one immutable ``ReportRun``.
* :mod:`~tongzhen_gis.report.tables`: the workbook ``report.xlsx``.
* :mod:`~tongzhen_gis.report.content`: what the page and the Word file say, section by section,
  as plain blocks (numbers written by ``_format``, one formatter for page, Word and workbook).
* :mod:`~tongzhen_gis.report.html` (with its escaped builders in ``_html``): the page ``report.html``.
* :mod:`~tongzhen_gis.report.docx`: the Word file ``report.docx``.
* :mod:`~tongzhen_gis.report.maps`: the maps, as PNG in the page and in ``maps/``.
* :mod:`~tongzhen_gis.report.geodata`: ``results.gpkg`` and ``far_grid.tif``.
* :mod:`~tongzhen_gis.report.city`: the chapter 城市总体目标 of ``[city]`` (run, sheets, page).

Chinese wording (headers, verdicts, line names) comes from :mod:`tongzhen_gis.labels`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from tongzhen_gis import evaluate
from tongzhen_gis import io as tzio
from tongzhen_gis.errors import OptionError
from tongzhen_gis.report import content as _content  # what the page and the Word file say
from tongzhen_gis.report import docx as _docx  # report.docx
from tongzhen_gis.report import html as _html  # report.html

# The steps live in modules of this package, one reason to change each; build() below runs them in order.
from tongzhen_gis.report.city import _city_blocks  # the chapter 城市总体目标 of [city]
from tongzhen_gis.report.config import (  # the config: model, parsing, validation, error mapping
    CONFIG_KEYS,
    REPORT_FORMATS,
    LayerSource,
    ProjectConfig,
    load_config,
    parse_config,
    sample_config_text,
)
from tongzhen_gis.report.geodata import _write_geodata  # results.gpkg, far_grid.tif
from tongzhen_gis.report.maps import _render_maps, safe_name  # maps/ and the page's images
from tongzhen_gis.report.run import evaluate_towns, run_analyses  # reading the inputs, running the analyses
from tongzhen_gis.report.tables import _write_workbook  # report.xlsx

__all__ = [
    "CONFIG_KEYS",
    "REPORT_FORMATS",
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


def _pdf(files: dict[str, Path], out: Path, problems: list[str]) -> None:
    """``report.pdf`` printed from ``report.html`` by headless Chromium, or a problem saying why not."""
    if "html" not in files:
        problems.append('report.pdf not written: it is printed from report.html; add "html" to [report].formats')
    elif tzio.find_chromium() is None:
        problems.append(
            "report.pdf not written: no Chromium on this machine "
            "(Debian/Ubuntu: apt-get install chromium; or set TONGZHEN_CHROMIUM to the browser)"
        )
    else:
        files["pdf"] = tzio.print_pdf(files["html"], tzio.safe_join(out, "report.pdf"))


def build(config: ProjectConfig | str | Path, out_dir: str | Path, *, pdf: bool = False) -> ReportResult:
    """Run every analysis the config names and write the report bundle to ``out_dir``.

    Parameters
    ----------
    config : ProjectConfig, str or pathlib.Path
        From :func:`parse_config`, or the path of a ``project.toml`` (read with :func:`load_config`).
    out_dir : str or pathlib.Path
        Output folder (created). Nothing is written outside it.
    pdf : bool, default False
        Also print ``report.html`` to ``report.pdf`` in headless Chromium
        (:func:`tongzhen_gis.io.print_pdf`). Without Chromium on the machine no PDF is written
        and ``problems`` says so and how to install it.

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
        raise OptionError(msg, param="config")
    out = Path(out_dir)
    problems: list[str] = []
    run = run_analyses(config, problems)
    indicators, evaluation = evaluate_towns(config, run, problems)
    files: dict[str, Path] = {}
    maps = _render_maps(config, run, out, files, problems) if config.get("maps", "enabled", True) else {}
    formats = config.formats
    if "xlsx" in formats:
        files["xlsx"] = _write_workbook(run, indicators, evaluation, out)
    files.update(_write_geodata(run, indicators, evaluation, out, problems))
    city_blocks = _city_blocks(run.city, config=config, out=out, files=files, problems=problems)
    blocks = _content.report_blocks(config, run, indicators, evaluation, maps, problems, city=city_blocks)
    if "html" in formats:
        files["html"] = tzio.write_text(_html.render(config.title, blocks), tzio.safe_join(out, "report.html"))
    if "docx" in formats:
        files["docx"] = tzio.write_bytes(_docx.render(config.title, blocks), tzio.safe_join(out, "report.docx"))
    if pdf:
        _pdf(files, out, problems)
    for p in problems:
        logger.info("report: %s", p)
    return ReportResult(evaluation=evaluation, indicators=indicators, files=files, problems=problems)
