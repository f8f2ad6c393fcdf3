"""The city view (城市总体目标): the list of towns as a whole, and the list over the years.

杭政办函〔2021〕25号 is a city plan. Its headline asks (二 总体目标, "到2023年") are about the
city's portfolio of towns: how many are named, how many reach 百亿 / 500亿 / 千亿 of output,
how many pay more than 10亿元 of tax, the share of manufacturing and digital towns, R&D over
sales, the doubling of soft investment and tech firms in high-tech towns, the share with a
provincial innovation platform (四(一)), 5A scenic areas for tourism towns (六(二)). Its
management is a list kept year by year (清单管理, 动态管理, 定期评估, 七(一), 七(三)).

* :func:`town_table` checks and normalises a town table (one row per town and year);
* :func:`city_targets` judges one year's list against ``rules/hangzhou-2021-city.toml``;
* :func:`town_indicators` derives a year's per-town indicators (亩均税收, R&D intensity …) for
  :func:`tongzhen_gis.evaluate.scorecard`;
* :func:`town_verdicts` gives each town's verdict in the last year (for the map);
* :func:`review` does all of it for every year: targets by year, per-town trends with the
  year-on-year change and the suggested grade, the changes between editions and the
  warning list (:func:`warnings`).

Decisions
---------
* A count or share target is ``pass`` only when the towns whose figure is *known* already
  reach it, ``fail`` only when even counting every town of unknown figure would not, and
  ``missing`` otherwise. A ratio of sums (R&D over sales, three-year growth) is ``missing``
  when any town it sums lacks a figure. A target is never ``pass`` on absent inputs.
* Where the text is open to reading, the rule file states the reading and marks the target
  unconfirmed (``confirmed = false``); :attr:`binding` is then False, as in the scorecard.
* A town table without a ``year`` column is one edition (``year`` is empty); without
  ``town_id`` the name is the id (reported in ``attrs["problems"]``).
* Warnings are suggestions (建议) with their reasons, never an assessment result.

Modules
-------
The public names are re-exported here (``tz.city.city_targets``):

* :mod:`~tongzhen_gis.city.table`: the town table (:func:`town_table`, :func:`parse_years`);
* :mod:`~tongzhen_gis.city.targets`: the city targets of one year (:func:`city_targets`);
* :mod:`~tongzhen_gis.city.history`: the list over the years (:func:`review`,
  :func:`town_indicators`, :func:`town_verdicts`, :func:`warnings`).
"""

from __future__ import annotations

from tongzhen_gis.city.history import (
    DEMOTED,
    VERDICTS,
    WARNING_COLUMNS,
    CityReview,
    review,
    town_indicators,
    town_verdicts,
    warnings,
)
from tongzhen_gis.city.table import FIGURES, STATUS_ZH, parse_years, town_table
from tongzhen_gis.city.targets import CITY_INDICATORS, TARGET_COLUMNS, city_targets, failing_targets

__all__ = [
    "CITY_INDICATORS",
    "DEMOTED",
    "FIGURES",
    "STATUS_ZH",
    "TARGET_COLUMNS",
    "VERDICTS",
    "WARNING_COLUMNS",
    "CityReview",
    "city_targets",
    "failing_targets",
    "parse_years",
    "review",
    "town_indicators",
    "town_table",
    "town_verdicts",
    "warnings",
]
