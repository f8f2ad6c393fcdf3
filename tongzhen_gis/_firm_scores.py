"""亩均论英雄: Zhejiang-style per-firm land-efficiency score and A/B/C/D grade.

Private module; the public name is :func:`tongzhen_gis.intensity.firm_scores`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from tongzhen_gis import rules as tzrules
from tongzhen_gis import schema
from tongzhen_gis.errors import OptionError, RuleDataError, SchemaError

__all__ = ["firm_scores"]

logger = logging.getLogger(__name__)


def firm_scores(
    enterprises: pd.DataFrame,
    *,
    rules: str | Any = "firm_scores",
    benchmarks: str | Mapping[str, float] = "median",
) -> pd.DataFrame:
    """亩均效益综合评价: score and grade each firm (the Zhejiang 亩均论英雄 scheme).

    For every indicator of the rule file (by default 亩均税收 = tax / land, 亩均增加值,
    单位能耗增加值 = value added / energy, 单位排放增加值 = value added / emissions,
    全员劳动生产率 = value added / jobs, R&D / revenue)::

        score = Σ min(value / benchmark, ratio_cap) × weight

    with weights 30/20/20/10/10/10, so a firm exactly at every benchmark scores 100.
    Grades come from the cut-offs of the rule file (A ≥ 120, B ≥ 90, C ≥ 60, else D by
    default; **unconfirmed**, replace with the county's).

    Parameters
    ----------
    enterprises : DataFrame
        One row per firm with the canonical columns of ``tz.schema`` "enterprises"
        (``tax_wan``, ``value_added_wan``, ``land_mu``, ``energy_tce``, ``emission_t``,
        ``jobs``, ``rd_wan``, ``revenue_wan``; Chinese headers are mapped by
        ``tz.schema.standardize``).
    rules : str or RuleSet, default "firm_scores"
        Indicators (numerator, denominator, weight, benchmark), ``ratio_cap`` and ``grades``.
    benchmarks : "median", "rules" or mapping, default "median"
        The regional benchmark of each indicator. ``"median"`` (default): the median over the
        firms given with a valid value, i.e. a relative ranking of the firms submitted, which
        needs no outside figure; ``attrs["benchmarks"]`` records the numbers used. ``"rules"``:
        the (placeholder, unconfirmed) numbers of the rule file. A mapping gives the county's
        published benchmark per indicator key (missing keys fall back to the median).

    Returns
    -------
    DataFrame
        Indexed like ``enterprises``: identifying columns present (``firm_id``, ``name_zh``,
        ``town_id``), each indicator value, ``score_<indicator>``, ``score``, ``grade``
        (A/B/C/D, missing when not graded), ``graded`` (bool) and ``missing`` (why a firm
        is not graded: every input that is absent, not a number, or a zero/negative
        denominator). Firms with missing inputs are listed, never graded.
        ``attrs["benchmarks"]``, ``attrs["weights"]`` and ``attrs["problems"]`` document the run.

    Raises
    ------
    SchemaError
        The table lacks an indicator's column altogether.
    RuleDataError
        The rule file lacks ``indicator`` or ``grades``, or weights are not positive.
    OptionError
        ``benchmarks`` is none of ``"median"``, ``"rules"`` or a mapping.
    """
    ruleset = tzrules.load(rules)
    indicators = ruleset["indicator"]
    grades = ruleset["grades"]
    cap = ruleset.parameter("ratio_cap")
    cutoffs = sorted(
        ((k, float(v)) for k, v in grades.items() if k in "ABCDEFG" and len(k) == 1), key=lambda kv: -kv[1]
    )
    if not cutoffs:
        msg = f"rule set {ruleset.name!r}: [grades] needs cut-offs such as A = 120.0, B = 90.0, C = 60.0"
        raise RuleDataError(msg)
    lowest = chr(ord(max(k for k, _ in cutoffs)) + 1)
    firms = schema.parse_numbers(schema.standardize(enterprises, "enterprises"), "enterprises")  # "1.2亿", "—" …
    needed = sorted({v[k] for v in indicators.values() for k in ("numerator", "denominator")})
    absent = [c for c in needed if c not in firms.columns]
    if absent:
        msg = (
            f"cannot score firms: the enterprise table lacks column(s) {absent} (has {list(firms.columns)}); "
            "add them (NaN where unknown) or use a rule file without those indicators"
        )
        raise SchemaError(msg, [f"missing column {c}" for c in absent])

    out = firms[[c for c in ("firm_id", "name_zh", "town_id") if c in firms.columns]].copy()
    reasons: list[list[str]] = [[] for _ in range(len(firms))]
    used_benchmarks: dict[str, float] = {}
    weights: dict[str, float] = {}
    total = np.zeros(len(firms))
    for key, spec in indicators.items():
        weight = float(spec["weight"])
        if weight <= 0:
            msg = f"rule set {ruleset.name!r}: indicator.{key}.weight must be positive, got {weight}"
            raise RuleDataError(msg)
        num = pd.to_numeric(firms[spec["numerator"]], errors="coerce")
        den = pd.to_numeric(firms[spec["denominator"]], errors="coerce")
        bad_num, bad_den = num.isna() | (num < 0), den.isna() | (den <= 0)
        for pos in np.flatnonzero(bad_num.to_numpy()):
            reasons[pos].append(f"{spec['numerator']} missing or negative")
        for pos in np.flatnonzero(bad_den.to_numpy()):
            reasons[pos].append(f"{spec['denominator']} missing or not positive")
        value = (num / den).where(~bad_num & ~bad_den)
        bench = _benchmark(key, spec, value, benchmarks)
        used_benchmarks[key] = bench
        weights[key] = weight
        out[key] = value
        out[f"score_{key}"] = np.minimum(value / bench, cap) * weight
        total = total + out[f"score_{key}"].to_numpy()
    missing = [", ".join(dict.fromkeys(r)) for r in reasons]
    graded = np.array([not r for r in reasons])
    out["score"] = np.where(graded, total, np.nan)
    grade = pd.Series(pd.NA, index=out.index, dtype="string")
    for pos in np.flatnonzero(graded):
        grade.iloc[pos] = next((k for k, cut in cutoffs if total[pos] >= cut), lowest)
    out["grade"] = grade
    out["graded"] = graded
    out["missing"] = pd.Series(missing, index=out.index, dtype="string").replace("", pd.NA)
    problems = []
    for pos in np.flatnonzero(~graded):
        label = out["firm_id"].iloc[pos] if "firm_id" in out else out.index[pos]
        problems.append(f"firm {label} not graded: {missing[pos]}")
    for p in problems:
        logger.warning(p)
    out.attrs["benchmarks"] = used_benchmarks
    out.attrs["weights"] = weights
    out.attrs["benchmark_source"] = benchmarks if isinstance(benchmarks, str) else "given"
    out.attrs["problems"] = problems
    out.attrs["repairs"] = firms.attrs.get("repairs", [])
    return out


def _benchmark(key: str, spec: Mapping[str, Any], value: pd.Series, benchmarks: str | Mapping[str, float]) -> float:
    if isinstance(benchmarks, Mapping) and key in benchmarks:
        bench = float(benchmarks[key])
    elif benchmarks == "rules":
        if "benchmark" not in spec:
            msg = f"rule file: indicator.{key} has no benchmark; add one or use benchmarks='median'"
            raise RuleDataError(msg)
        bench = float(spec["benchmark"])
    elif benchmarks == "median" or isinstance(benchmarks, Mapping):
        bench = float(value.median()) if value.notna().any() else float("nan")
    else:
        msg = f"benchmarks must be 'median', 'rules' or a mapping of indicator to number, got {benchmarks!r}"
        raise OptionError(msg, param="benchmarks")
    if not bench > 0:
        msg = (
            f"benchmark of {key} is {bench}: it must be a positive number (no firm has a valid value, or the "
            "given benchmark is zero); give benchmarks={...} with the county's published figure"
        )
        raise RuleDataError(msg)
    return bench
