"""Town evaluation (评估): every figure beside the threshold and clause it is judged by.

The policy asks for list management, regular evaluation and the elimination of weak towns
(杭政办函〔2021〕25号 七(一), 七(三)). This module turns a per-town indicator table into

* a **scorecard** (:func:`scorecard`): one row per (town, rule) with the value, threshold,
  comparator, unit, status, document and clause;
* a **suggested grade** (:func:`grade`) on the Zhejiang scale 优秀 / 良好 / 合格 / 警告 / 降格 /
  淘汰 from a transparent point scheme in ``rules/grading.toml``, with the reasons;
* a **comparison** of two evaluations (:func:`compare`): new and resolved conflicts, rules
  crossing their threshold, grades moving (动态管理);
* a **name join** of a town list to boundaries (:func:`match_names`, :func:`join_by_name`)
  that joins exact names only and lists the closest candidates of the others.

Decisions
---------
* Statuses are ``pass``, ``fail``, ``review``, ``missing`` and ``not_applicable``. A town
  without a figure (NaN, absent column, non-finite value such as a tax per 亩 over zero land)
  is ``missing``, never ``pass``. A rule limited to some town categories (``applies_to`` /
  ``exempt``) is ``not_applicable`` to the others, and ``missing`` when the town's category
  is unknown.
* A stand-in measure is never judged. A rule with a ``proxy_indicator`` (绿化覆盖率, for which
  the 用地14 share stands in) judges its own indicator when the town has it; when only the
  stand-in is known the row reads ``review`` (待核) with the stand-in's value and the rule
  file's ``proxy_note`` (why it is not the measure, what data would measure it) as reason,
  never ``pass`` or ``fail``. :func:`grade` counts it as a missing figure.
* A value equal to its threshold within a relative tolerance (``rel_tol``, 1e-9 by default)
  counts as *on* the threshold, so 270 000 万元 over 1 350 亩 = 200 万元/亩 passes ``>= 200``
  although floating point gives 199.99999999999997.
* Encouraged values (``advisory = true``, e.g. residential share ≤ 25 %) and rules whose
  number is not confirmed against an official text (``confirmed = false``, e.g. 100 % of
  residents reaching all "八个一") keep their real status (a failed one shows ``fail``) but
  are not *binding*: the ``binding`` column is False and they never make a town fail on their
  own (:func:`failing_towns`). The report shows them with a 鼓励值 / 未核实 mark.
* Grades are suggestions (建议等级) for a reviewer, not an official assessment result.
"""

from __future__ import annotations

import difflib
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from tongzhen_gis import labels as _labels
from tongzhen_gis import rules as _rules
from tongzhen_gis import schema
from tongzhen_gis.errors import OptionError, RuleDataError, SchemaError

__all__ = [
    "FAIL",
    "MISSING",
    "NOT_APPLICABLE",
    "PASS",
    "REVIEW",
    "STATUS_ZH",
    "Evaluation",
    "city_targets",
    "collect_indicators",
    "compare",
    "evaluate",
    "failing_towns",
    "grade",
    "join_by_name",
    "match_names",
    "scorecard",
]

logger = logging.getLogger(__name__)

PASS = "pass"
FAIL = "fail"
MISSING = "missing"
NOT_APPLICABLE = "not_applicable"
#: Only a stand-in measure is known (``proxy_indicator``): shown, never judged.
REVIEW = "review"
#: Chinese labels of the statuses, for reports (``review`` reads 待核, as in :data:`tongzhen_gis.labels.VERDICT_ZH`).
STATUS_ZH: dict[str, str] = {
    PASS: "达标",
    FAIL: "未达标",
    REVIEW: _labels.VERDICT_ZH["review"],
    MISSING: "缺数据",
    NOT_APPLICABLE: "不适用",
}

SCORECARD_COLUMNS = [
    "category",
    "label_zh",
    "indicator",
    "value",
    "comparator",
    "threshold",
    "unit",
    "status",
    "binding",
    "advisory",
    "confirmed",
    "reason",
    "document",
    "clause",
    "note",
]


def _category(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    return text or None


def _numeric_indicators(indicators: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """Indicator columns as floats; raise once listing every non-numeric cell."""
    out = {}
    problems = []
    for col in columns:
        raw = indicators[col]
        num = pd.to_numeric(raw, errors="coerce").astype(float)
        bad = raw.notna() & num.isna()
        if bad.any():
            examples = ", ".join(f"{idx}={raw[idx]!r}" for idx in raw.index[bad][:3])
            problems.append(f"column {col!r} holds non-numeric values ({examples})")
        out[col] = num
    if problems:
        msg = "indicator table: " + "; ".join(problems) + "; convert these cells to numbers or leave them empty"
        raise SchemaError(msg, problems)
    return pd.DataFrame(out, index=indicators.index)


def _finite_at(arrays: Mapping[str, np.ndarray], column: str, pos: int) -> bool:
    return bool(column) and column in arrays and bool(np.isfinite(arrays[column][pos]))


def _check_ranges(values: pd.DataFrame, thresholds: Iterable[_rules.Threshold]) -> None:
    """Raise once listing every value outside its rule's ``valid_range`` (35 written for a ratio of 0.35)."""
    problems = []
    for t in thresholds:
        if not t.valid_range or t.indicator not in values.columns:
            continue
        low, high = t.valid_range
        col = values[t.indicator]
        bad = np.isfinite(col) & ~col.between(low, high)  # NaN and ±inf are 'missing', not refused
        if bad.any():
            cells = ", ".join(f"{idx}={col[idx]:g}" for idx in col.index[bad][:5])
            problems.append(
                f"column {t.indicator!r} ({t.label_zh or t.key}, unit {t.unit}) must lie in {low:g}–{high:g}, "
                f"got {cells}"
            )
    if problems:
        msg = "indicator table: " + "; ".join(problems) + "; a ratio is written 0.35 for 35 %: fix these cells"
        raise SchemaError(msg, problems)


def category_names_zh() -> dict[str, str]:
    """Chinese names of the town categories (``rules/town_categories.toml``), by category id."""
    table = _rules.load("town_categories")["category"]
    return {key: entry["name_zh"] for key, entry in table.items()}


def _category_list(ids: tuple[str, ...]) -> str:
    names = category_names_zh()
    return "、".join(names.get(i, i) for i in ids)


def scorecard(
    indicators: pd.DataFrame,
    *,
    rules: str | Path | _rules.RuleSet = "hangzhou-2021",
    category_col: str = "category",
    rel_tol: float = 1e-9,
) -> pd.DataFrame:
    """Judge every town's indicators against every rule of a rule set.

    Parameters
    ----------
    indicators : pandas.DataFrame
        One row per town, indexed by the town id (unique), with one column per indicator
        (``red_line_m2``, ``residential_share``, ``tax_per_mu`` …, as named by the rules'
        ``indicator`` keys; see :func:`collect_indicators`) and a town category column.
    rules : str, pathlib.Path or RuleSet, default "hangzhou-2021"
        Rule set name, path to a rule TOML file, or a loaded :class:`~tongzhen_gis.rules.RuleSet`.
    category_col : str, default "category"
        Column with the town type (``digital``, ``tourism``, ``manufacturing`` …) that decides
        which rules apply. Absent column: every category is unknown.
    rel_tol : float, default 1e-9
        Relative tolerance within which a value counts as equal to its threshold.

    Returns
    -------
    pandas.DataFrame
        Indexed by (town id, ``rule``), towns in input order and rules in rule-file order,
        with the columns ``category``, ``label_zh``, ``indicator``, ``value``, ``comparator``,
        ``threshold``, ``unit``, ``status`` (``pass`` / ``fail`` / ``review`` / ``missing`` /
        ``not_applicable``; ``review``: only the rule's stand-in measure is known, shown in
        ``value`` and ``indicator``, never judged), ``binding`` (the rule can make the town fail: neither advisory
        nor unconfirmed), ``advisory``, ``confirmed``, ``reason`` (why a row is missing or not
        applicable), ``document``, ``clause``, ``note``. ``attrs["problems"]`` lists indicator
        columns the rules need but the table lacks; ``attrs["rules"]`` is the rule-set name.

    Raises
    ------
    SchemaError
        Duplicate town ids, non-numeric values in an indicator column, or a value outside its
        rule's ``valid_range`` (a green coverage of 35 for 0.35).

    Examples
    --------
    >>> import pandas as pd
    >>> import tongzhen_gis as tz
    >>> ind = pd.DataFrame({"category": ["digital"], "residential_share": [0.2]}, index=pd.Index(["T1"]))
    >>> card = tz.evaluate.scorecard(ind)
    >>> card.loc[("T1", "residential_share_max"), "status"]
    'pass'
    >>> card.loc[("T1", "tax_per_mu_min"), "status"]
    'missing'
    """
    ruleset = _rules.load(rules)
    if not isinstance(indicators, pd.DataFrame):
        msg = f"indicators must be a pandas DataFrame indexed by town id, got {type(indicators).__name__}"
        raise SchemaError(msg)
    if indicators.index.has_duplicates:
        dups = sorted({str(i) for i in indicators.index[indicators.index.duplicated()]})
        msg = f"indicator table has duplicate town ids {dups}; give one row per town"
        raise SchemaError(msg, [f"duplicate town id {d}" for d in dups])
    thresholds = list(ruleset.thresholds.values())
    needed = list(dict.fromkeys(t.indicator for t in thresholds))
    present = [c for c in needed if c in indicators.columns]
    absent = [c for c in needed if c not in indicators.columns]
    if absent:
        logger.info("indicator columns absent (rules show 'missing'): %s", absent)
    proxies = [t.proxy_indicator for t in thresholds if t.proxy_indicator and t.proxy_indicator in indicators.columns]
    values = _numeric_indicators(indicators, list(dict.fromkeys(present + proxies)))
    _check_ranges(values, thresholds)
    if category_col in indicators.columns:
        categories = [_category(v) for v in indicators[category_col]]
    else:
        categories = [None] * len(indicators)

    arrays = {c: values[c].to_numpy(dtype=float) for c in values.columns}
    rows = []
    index = []
    for pos, town in enumerate(indicators.index):
        category = categories[pos]
        for t in thresholds:
            value = float(arrays[t.indicator][pos]) if t.indicator in arrays else math.nan
            restricted = bool(t.applies_to or t.exempt)
            reason, indicator = "", t.indicator
            if restricted and category is None:
                status = MISSING
                reason = f"小镇类型未知 ({category_col!r} 为空), 该规则按类型适用 (town category unknown)"
            elif not t.applies(category):
                status = NOT_APPLICABLE
                reason = (
                    f"仅适用于{_category_list(t.applies_to)}类小镇 (applies only to {', '.join(t.applies_to)})"
                    if t.applies_to
                    else f"不适用于{_category_list(t.exempt)}类小镇 (not for {', '.join(t.exempt)})"
                )
            elif math.isnan(value) and _finite_at(arrays, t.proxy_indicator, pos):
                # only a stand-in is known: shown with what it is, never judged
                status, indicator, value = REVIEW, t.proxy_indicator, float(arrays[t.proxy_indicator][pos])
                shown = f"{value:.1%}" if t.unit == "ratio" else f"{value:,.2f}"  # as the report writes it, never 7e-05
                reason = f"仅有代用指标 {t.proxy_indicator} = {shown}: {t.proxy_note}"
            elif t.indicator not in arrays:
                status, reason = MISSING, f"指标表缺少 {t.indicator!r} 列 (no column {t.indicator!r})"
            elif not math.isfinite(value):
                status = MISSING
                reason = "无数据 (no value)" if math.isnan(value) else f"数值无效 (value not finite: {value})"
            else:
                status = PASS if t.passes(value, rel_tol=rel_tol) else FAIL
            index.append((town, t.key))
            rows.append(
                {
                    "category": category,
                    "label_zh": t.label_zh or t.key,
                    "indicator": indicator,
                    "value": value,
                    "comparator": t.comparator,
                    "threshold": t.value,
                    "unit": t.unit,
                    "status": status,
                    "binding": bool(t.confirmed and not t.advisory),
                    "advisory": bool(t.advisory),
                    "confirmed": bool(t.confirmed),
                    "reason": reason,
                    "document": t.document,
                    "clause": t.clause,
                    "note": t.note,
                }
            )
    town_name = indicators.index.name or "town_id"
    mi = pd.MultiIndex.from_tuples(index, names=[town_name, "rule"]) if index else None
    card = pd.DataFrame(rows, index=mi, columns=SCORECARD_COLUMNS)
    if mi is None:
        card.index = pd.MultiIndex.from_arrays([[], []], names=[town_name, "rule"])
    stand_in = {t.indicator: t.proxy_indicator for t in thresholds if t.proxy_indicator in proxies}
    card.attrs["problems"] = [
        f"indicator column {c!r} absent: its rules read 'review' (待核) on the stand-in {stand_in[c]!r}, never pass"
        if c in stand_in
        else f"indicator column {c!r} absent: its rules are 'missing'"
        for c in absent
    ]
    card.attrs["rules"] = ruleset.name
    return card


def failing_towns(card: pd.DataFrame) -> list[Any]:
    """Town ids with at least one failed *binding* rule, in scorecard order.

    Parameters
    ----------
    card : pandas.DataFrame
        From :func:`scorecard`.

    Returns
    -------
    list
        Town ids; advisory (鼓励值) and unconfirmed rules never put a town here on their own.
    """
    if card.empty:
        return []
    failed = card[(card["status"] == FAIL) & card["binding"].astype(bool)]
    towns = failed.index.get_level_values(0)
    return list(dict.fromkeys(towns))


# ----------------------------------------------------------------------------- grading


@dataclass(frozen=True)
class _Grading:
    grades: tuple[str, ...]
    min_points: tuple[float, ...]
    start_points: float
    fail: float
    advisory_fail: float
    unconfirmed_fail: float
    missing: float
    rule_penalty: Mapping[str, float]
    missing_ceiling: str | None
    rule_ceiling: Mapping[str, str]


def _grading_config(grading: str | Path | _rules.RuleSet) -> _Grading:
    """Load and check a grading scheme (the shape of ``rules/grading.toml``); RuleDataError if not."""
    rs = _rules.load(grading)
    label = rs.name
    missing = [t for t in ("scale", "penalty", "ceiling") if t not in rs.tables]
    if missing:
        msg = (
            f"grading rules {label!r} lack table(s) {missing}: is this a grading scheme? "
            'Use grading = "grading" or a TOML file shaped like rules/grading.toml'
        )
        raise RuleDataError(msg)
    try:
        scale, penalty, ceiling = rs["scale"], rs["penalty"], rs["ceiling"]
        grades = tuple(scale["grades"])
        min_points = tuple(float(v) for v in scale["min_points"])
        cfg = _Grading(
            grades=grades,
            min_points=min_points,
            start_points=float(scale["start_points"]),
            fail=float(penalty["fail"]),
            advisory_fail=float(penalty["advisory_fail"]),
            unconfirmed_fail=float(penalty["unconfirmed_fail"]),
            missing=float(penalty["missing"]),
            rule_penalty={k: float(v) for k, v in penalty.get("rule", {}).items()},
            missing_ceiling=ceiling.get("missing_data"),
            rule_ceiling=dict(ceiling.get("rule", {})),
        )
    except KeyError as exc:
        msg = (
            f"grading rules {label!r} lack key {exc}; required: [scale] grades, min_points, start_points; "
            "[penalty] fail, advisory_fail, unconfirmed_fail, missing; [ceiling] (see rules/grading.toml)"
        )
        raise RuleDataError(msg) from None
    problems = []
    if len(grades) != len(min_points):
        problems.append(f"[scale] has {len(grades)} grades but {len(min_points)} min_points")
    if list(min_points) != sorted(min_points, reverse=True):
        problems.append("[scale] min_points must decrease from the best grade to the worst")
    if min_points and min_points[-1] > 0:
        problems.append("[scale] the last min_points must be 0 so every score gets a grade")
    for where, g in [("missing_data", cfg.missing_ceiling), *cfg.rule_ceiling.items()]:
        if g is not None and g not in grades:
            problems.append(f"[ceiling] {where} = {g!r} is not one of the grades {list(grades)}")
    if problems:
        msg = f"grading rules {label!r}: " + "; ".join(problems)
        raise RuleDataError(msg)
    return cfg


def grade(
    card: pd.DataFrame,
    *,
    rules: str | Path | _rules.RuleSet = "grading",
) -> pd.DataFrame:
    """Suggest a grade per town (建议等级) from its scorecard.

    The scheme (points, penalties, ceilings) is read from ``rules`` and documented in
    ``tongzhen_gis/rules/grading.toml``: start from a number of points, deduct a penalty per
    failed rule (binding, advisory and unconfirmed rules weigh differently, some rules have
    their own weight), map the points to a grade, then cap the grade when a listed rule fails
    or a binding figure is missing. The result is a suggestion for the reviewer, not an
    official assessment.

    Parameters
    ----------
    card : pandas.DataFrame
        From :func:`scorecard`.
    rules : str, pathlib.Path or RuleSet, default "grading"
        The grading scheme: a shipped rule file name, a path to a TOML file of the same shape,
        or a loaded rule set.

    Returns
    -------
    pandas.DataFrame
        Indexed by town id in scorecard order: ``points``, ``grade_by_points``, ``ceiling``
        (the cap that applied, or empty), ``grade`` (the suggestion), ``n_pass``, ``n_fail``
        (binding), ``n_advisory_fail``, ``n_unconfirmed_fail``, ``n_missing`` (binding; a
        ``review`` row, judged on a stand-in measure only, counts as missing),
        ``n_not_applicable``, ``reasons`` (Chinese, ``；``-separated: every deduction and cap),
        ``label`` ("建议等级, 供评审参考").

    Raises
    ------
    RuleDataError
        The grading file lacks a key or is inconsistent (grades and minimum points).
    """
    cfg = _grading_config(rules)
    codes, uniques = pd.factorize(card.index.get_level_values(0), use_na_sentinel=False)
    towns = list(uniques)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(towns) + 1))
    rule_keys = card.index.get_level_values(1).to_numpy()
    arrays = [card[c].to_numpy() for c in ("status", "label_zh", "advisory", "confirmed", "binding")]
    out = []
    for k in range(len(towns)):
        sel = order[bounds[k] : bounds[k + 1]]
        status_arr = arrays[0][sel]
        points = cfg.start_points
        reasons: list[str] = []
        ceilings: list[tuple[int, str]] = []
        counts = dict.fromkeys(["n_pass", "n_fail", "n_advisory_fail", "n_unconfirmed_fail", "n_missing"], 0)
        counts["n_not_applicable"] = int((status_arr == NOT_APPLICABLE).sum())
        counts["n_pass"] = int((status_arr == PASS).sum())
        missing_labels = []
        columns = (a[sel] for a in arrays)
        for rule, status, label, advisory, confirmed, binding in zip(rule_keys[sel], *columns, strict=True):
            if status == FAIL:
                if rule in cfg.rule_penalty:
                    penalty = cfg.rule_penalty[rule]
                elif advisory:
                    penalty = cfg.advisory_fail
                elif not confirmed:
                    penalty = cfg.unconfirmed_fail
                else:
                    penalty = cfg.fail
                if advisory:
                    counts["n_advisory_fail"] += 1
                    kind = "未达到" if "鼓励值" in label else "鼓励值未达到"
                elif not confirmed:
                    counts["n_unconfirmed_fail"] += 1
                    kind = "未达标 (阈值未核实)"
                else:
                    counts["n_fail"] += 1
                    kind = "未达标"
                points -= penalty
                reasons.append(f"{label}{kind} −{penalty:g}分")
                if rule in cfg.rule_ceiling:
                    g = cfg.rule_ceiling[rule]
                    ceilings.append((cfg.grades.index(g), f"{label}未达标, 最高{g}"))
            elif status in (MISSING, REVIEW) and binding:  # a stand-in measure is no figure
                counts["n_missing"] += 1
                missing_labels.append(label if status == MISSING else f"{label} (仅有代用指标, 待核)")
                if cfg.missing:
                    points -= cfg.missing
                    reasons.append(f"{missing_labels[-1]}缺数据 −{cfg.missing:g}分")
        if missing_labels and cfg.missing_ceiling is not None:
            g = cfg.missing_ceiling
            ceilings.append(
                (cfg.grades.index(g), f"缺数据 {len(missing_labels)} 项 ({'、'.join(missing_labels)}), 补充前最高{g}")
            )
        points = max(points, 0.0)
        by_points = next(i for i, m in enumerate(cfg.min_points) if points >= m)
        final, ceiling_text = by_points, ""
        if ceilings:
            worst_cap = max(ceilings, key=lambda c: c[0])
            if worst_cap[0] > by_points:
                final = worst_cap[0]
                ceiling_text = cfg.grades[final]
        reasons.extend(text for _, text in ceilings)
        if not reasons:
            reasons.append("全部适用指标达标")
        out.append(
            {
                "points": points,
                "grade_by_points": cfg.grades[by_points],
                "ceiling": ceiling_text,
                "grade": cfg.grades[final],
                **counts,
                "reasons": "；".join([f"得分 {points:g}", *reasons]),
                "label": "建议等级, 供评审参考",
            }
        )
    name = card.index.names[0] if card.index.nlevels else "town_id"
    result = pd.DataFrame(out, index=pd.Index(towns, name=name))
    result.attrs["grades"] = list(cfg.grades)
    return result


# ----------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class Evaluation:
    """One evaluation of a set of towns: what :func:`compare` compares.

    Attributes
    ----------
    scorecard : pandas.DataFrame
        From :func:`scorecard`.
    grades : pandas.DataFrame
        From :func:`grade`.
    conflicts : geopandas.GeoDataFrame or None
        Control-line conflicts (``controllines.check(...).conflicts``) with the town id,
        ``line`` and ``source_id`` columns, when the check was run.
    """

    scorecard: pd.DataFrame
    grades: pd.DataFrame
    conflicts: gpd.GeoDataFrame | None = None

    @property
    def failing(self) -> list[Any]:
        """Town ids with at least one failed binding rule."""
        return failing_towns(self.scorecard)


def evaluate(
    indicators: pd.DataFrame,
    *,
    rules: str | Path | _rules.RuleSet = "hangzhou-2021",
    grading: str | Path | _rules.RuleSet = "grading",
    conflicts: gpd.GeoDataFrame | None = None,
    category_col: str = "category",
) -> Evaluation:
    """Scorecard and suggested grades in one call (see :func:`scorecard` and :func:`grade`).

    Parameters
    ----------
    indicators : pandas.DataFrame
        As in :func:`scorecard`.
    rules : str, pathlib.Path or RuleSet, default "hangzhou-2021"
        Rule set judged against.
    grading : str, pathlib.Path or RuleSet, default "grading"
        Grading scheme (see :func:`grade`).
    conflicts : geopandas.GeoDataFrame, optional
        ``controllines.check(...).conflicts``, kept so :func:`compare` can list new and
        resolved conflicts.
    category_col : str, default "category"
        Town category column of ``indicators``.

    Returns
    -------
    Evaluation
    """
    card = scorecard(indicators, rules=rules, category_col=category_col)
    return Evaluation(scorecard=card, grades=grade(card, rules=grading), conflicts=conflicts)


def _same_values(a: pd.Series, b: pd.Series) -> bool:
    try:
        x, y = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
    except (TypeError, ValueError):
        return bool(a.astype(str).equals(b.astype(str)))
    return bool(np.allclose(x, y, rtol=1e-9, atol=0.0, equal_nan=True))


def _town_figures() -> list[str]:
    """The number columns of the towns role (``rules/schema.toml``): figures a town list may carry."""
    return [c.name for c in schema.ROLES["towns"].columns.values() if c.kind == "number"]


def collect_indicators(
    towns: pd.DataFrame,
    *,
    control_lines: pd.DataFrame | None = None,
    intensity: pd.DataFrame | None = None,
    access: pd.DataFrame | None = None,
    town_stats: pd.DataFrame | None = None,
    id_col: str = "town_id",
    category_col: str = "category",
) -> pd.DataFrame:
    """Join the per-town outputs of the analysis modules into one indicator table.

    Parameters
    ----------
    towns : pandas.DataFrame
        The town list (a GeoDataFrame is fine), with ``id_col`` as a column or as its index, and
        ``category_col``.
    control_lines, intensity, access, town_stats : pandas.DataFrame, optional
        Tables indexed by town id: ``controllines.check(...).summary``,
        ``intensity.summarize(...)``, a per-town access table (e.g. ``all_categories_share``)
        and user-supplied figures (visitors, three-year investment, ``green_coverage`` …).
        Non-numeric columns other than the category are carried along unchanged. The
        figures the towns role declares (``green_coverage``, 绿化覆盖率: ``rules/schema.toml``)
        are found under their aliases in ``towns`` and ``town_stats``; a value on ``towns``
        comes first.
    id_col, category_col : str
        Town id and category columns of ``towns``.

    Returns
    -------
    pandas.DataFrame
        Indexed by town id in the order of ``towns``, one row per town; a column present in
        several tables is taken from the first that has it (in the order of the parameters)
        and a clash of differing values is listed in ``attrs["problems"]``, as are table rows whose town id is
        not in ``towns`` (they are not joined).
    """
    if id_col not in towns.columns and towns.index.name != id_col:
        msg = (
            f"town list has no column {id_col!r} (columns: {list(towns.columns)}); pass id_col= with the town id column"
        )
        raise SchemaError(msg, [msg])
    base = towns if id_col not in towns.columns else towns.set_index(id_col)
    if base.index.has_duplicates:
        dups = sorted({str(i) for i in base.index[base.index.duplicated()]})
        msg = f"town list has duplicate ids {dups} in {id_col!r}; give each town a unique id"
        raise SchemaError(msg)
    out = pd.DataFrame(index=pd.Index(base.index, name=id_col))
    out[category_col] = base[category_col] if category_col in base.columns else None
    figures = _town_figures()  # green_coverage …, also under 绿化覆盖率 and the other aliases
    base = schema.use_columns(base, "towns", *figures)
    for col in ("name_zh", "name", "district", *figures):
        if col in base.columns:
            out[col] = base[col].to_numpy()
    problems: list[str] = []
    for label, table in (
        ("control_lines", control_lines),
        ("intensity", intensity),
        ("access", access),
        ("town_stats", town_stats),
    ):
        if table is None:
            continue
        table = table.set_index(id_col) if id_col in table.columns else table
        if label == "town_stats":
            table = schema.use_columns(table, "towns", *figures)
        extra = [i for i in table.index if i not in out.index]
        if extra:
            problems.append(f"{label}: rows for unknown town ids {extra[:5]} not joined")
        for col in table.columns:
            if isinstance(table, gpd.GeoDataFrame) and col == table.geometry.name:
                continue
            if col in out.columns:
                if col != category_col and not _same_values(out[col], table[col].reindex(out.index)):
                    problems.append(f"{label}: column {col!r} differs from an earlier table's; kept the first")
                continue
            out[col] = table[col].reindex(out.index)
    out.attrs["problems"] = problems
    return out


# ----------------------------------------------------------------------------- city


def city_targets(
    towns: pd.DataFrame,
    *,
    year: float | None = None,
    rules: str | Path | _rules.RuleSet = "hangzhou-2021-city",
) -> pd.DataFrame:
    """The city targets of 杭政办函〔2021〕25号 (二 总体目标) for one year's list of towns.

    One row per target: indicator, threshold, achieved value, the towns that count, status
    pass / fail / missing. See :func:`tongzhen_gis.city.city_targets` (this is the same
    function) and :mod:`tongzhen_gis.city` for the multi-year view.
    """
    from tongzhen_gis import city

    return city.city_targets(towns, year=year, rules=rules)


# ----------------------------------------------------------------------------- compare


def _as_evaluation(obj: Evaluation | pd.DataFrame) -> Evaluation:
    if isinstance(obj, Evaluation):
        return obj
    if isinstance(obj, pd.DataFrame) and "status" in obj.columns:
        return Evaluation(scorecard=obj, grades=grade(obj))
    msg = "compare() takes two Evaluation objects (tz.evaluate.evaluate) or two scorecards (tz.evaluate.scorecard)"
    raise SchemaError(msg)


def _conflict_keys(conflicts: gpd.GeoDataFrame, town_col: str) -> pd.Series:
    missing = [c for c in (town_col, "line", "source_id") if c not in conflicts.columns]
    if missing:
        msg = f"conflicts table lacks columns {missing}; pass controllines.check(...).conflicts"
        raise SchemaError(msg)
    area = conflicts["area_m2"] if "area_m2" in conflicts.columns else pd.Series(np.nan, index=conflicts.index)
    keys = list(zip(conflicts[town_col], conflicts["line"], conflicts["source_id"].astype(str), strict=True))
    return pd.Series(area.to_numpy(dtype=float), index=pd.MultiIndex.from_tuples(keys)).groupby(level=[0, 1, 2]).sum()


def compare(
    previous: Evaluation | pd.DataFrame,
    current: Evaluation | pd.DataFrame,
    *later: Evaluation | pd.DataFrame,
    labels: Sequence[Any] | None = None,
) -> pd.DataFrame:
    """What changed between evaluations of the same towns (动态管理).

    With two evaluations the result is one table of changes. With more (``compare(e2021,
    e2022, e2023)``, or ``compare(*evaluations, labels=years)``), each consecutive pair is
    compared and the tables are stacked with a leading ``period`` column
    (``"2021→2022"``; editions are numbered from 1 when ``labels`` is not given).

    Parameters
    ----------
    previous, current, *later : Evaluation or pandas.DataFrame
        :class:`Evaluation` objects (or scorecards; grades are then computed with the
        default grading), oldest first.
    labels : sequence, optional
        One label per edition (e.g. the years), used in ``period``; only with three or more
        editions or when given.

    Returns
    -------
    pandas.DataFrame
        One row per change, columns ``town_id``, ``change``, ``rule``, ``label_zh``, ``before``,
        ``after``, ``detail``. ``change`` is one of

        * ``town_added`` / ``town_removed``;
        * ``new_conflict`` / ``resolved_conflict``: a (town, line, source feature) overlap that
          appears or disappears (only when both evaluations carry conflicts; ``before`` /
          ``after`` hold the overlap area in m²);
        * ``now_fails`` / ``now_passes``: a rule crossing its threshold (status ``pass`` ↔
          ``fail``; ``before`` / ``after`` hold the values);
        * ``status_changed``: any other status move (e.g. ``missing`` → ``pass``);
        * ``grade_up`` / ``grade_down``: the suggested grade moving (``before`` / ``after``
          hold the grades).

        Rows are ordered by town (current order, then removed towns) and kind of change.
    """
    editions = [previous, current, *later]
    if labels is not None and len(labels) != len(editions):
        msg = f"compare() got {len(editions)} evaluations but {len(labels)} labels; give one label per evaluation"
        raise SchemaError(msg)
    if not later and labels is None:
        return _compare_two(previous, current)
    names = [str(x) for x in labels] if labels is not None else [str(i) for i in range(1, len(editions) + 1)]
    parts = []
    for i in range(len(editions) - 1):
        part = _compare_two(editions[i], editions[i + 1])
        part.insert(0, "period", f"{names[i]}→{names[i + 1]}")
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _compare_two(previous: Evaluation | pd.DataFrame, current: Evaluation | pd.DataFrame) -> pd.DataFrame:
    prev, curr = _as_evaluation(previous), _as_evaluation(current)
    town_col = curr.scorecard.index.names[0] or "town_id"
    prev_towns = list(dict.fromkeys(prev.scorecard.index.get_level_values(0)))
    curr_towns = list(dict.fromkeys(curr.scorecard.index.get_level_values(0)))
    rows: list[dict[str, Any]] = []

    def add(
        town: Any, change: str, rule: str = "", label: str = "", before: Any = None, after: Any = None, detail: str = ""
    ) -> None:
        rows.append(
            {
                town_col: town,
                "change": change,
                "rule": rule,
                "label_zh": label,
                "before": before,
                "after": after,
                "detail": detail,
            }
        )

    for town in curr_towns:
        if town not in prev_towns:
            add(town, "town_added", detail="新增小镇")
    for town in prev_towns:
        if town not in curr_towns:
            add(town, "town_removed", detail="移出名单")

    if prev.conflicts is not None and curr.conflicts is not None:
        a = _conflict_keys(prev.conflicts, town_col)
        b = _conflict_keys(curr.conflicts, town_col)
        for key in b.index.difference(a.index, sort=False):
            add(key[0], "new_conflict", key[1], key[2], None, float(b[key]), f"新增冲突 {key[1]} {key[2]}")
        for key in a.index.difference(b.index, sort=False):
            add(key[0], "resolved_conflict", key[1], key[2], float(a[key]), None, f"冲突消除 {key[1]} {key[2]}")

    common = prev.scorecard.index.intersection(curr.scorecard.index, sort=False)
    ps, cs = prev.scorecard.loc[common], curr.scorecard.loc[common]
    changed = ps["status"].to_numpy() != cs["status"].to_numpy()
    for key, before, after, v0, v1, label in zip(
        common[changed],
        ps["status"][changed],
        cs["status"][changed],
        ps["value"][changed],
        cs["value"][changed],
        cs["label_zh"][changed],
        strict=True,
    ):
        if {before, after} == {PASS, FAIL}:
            kind = "now_fails" if after == FAIL else "now_passes"
            detail = f"{label}: {v0:g} → {v1:g} ({STATUS_ZH[before]} → {STATUS_ZH[after]})"
            add(key[0], kind, key[1], label, v0, v1, detail)
        else:
            add(
                key[0],
                "status_changed",
                key[1],
                label,
                before,
                after,
                f"{label}: {STATUS_ZH[before]} → {STATUS_ZH[after]}",
            )

    grades = curr.grades.attrs.get("grades") or prev.grades.attrs.get("grades") or []
    for town in curr_towns:
        if town in prev.grades.index and town in curr.grades.index:
            g0, g1 = prev.grades.loc[town, "grade"], curr.grades.loc[town, "grade"]
            if g0 != g1:
                better = grades.index(g1) < grades.index(g0) if g0 in grades and g1 in grades else False
                add(town, "grade_up" if better else "grade_down", "", "建议等级", g0, g1, f"建议等级 {g0} → {g1}")

    order = {t: i for i, t in enumerate(curr_towns + [t for t in prev_towns if t not in curr_towns])}
    kinds = [
        "town_added",
        "town_removed",
        "new_conflict",
        "resolved_conflict",
        "now_fails",
        "now_passes",
        "status_changed",
        "grade_up",
        "grade_down",
    ]
    result = pd.DataFrame(rows, columns=[town_col, "change", "rule", "label_zh", "before", "after", "detail"])
    if not result.empty:
        result["_t"] = result[town_col].map(order)
        result["_k"] = result["change"].map(kinds.index)
        result = result.sort_values(["_t", "_k"], kind="stable").drop(columns=["_t", "_k"]).reset_index(drop=True)
    return result


# ----------------------------------------------------------------------------- names


def _norm(name: Any) -> str:
    return "".join(str(name).split())


def match_names(
    names: Iterable[Any],
    candidates: Iterable[Any],
    *,
    n: int = 3,
    cutoff: float = 0.5,
) -> pd.DataFrame:
    """Match town names to boundary names: exact matches only, closest candidates for the rest.

    Names are compared after removing whitespace (full-width spaces included) and nothing
    else: ``西湖云栖小镇`` does not match ``云栖小镇``; it is listed with ``云栖小镇`` as its closest
    candidate (``difflib`` ratio), for a person to decide.

    Parameters
    ----------
    names : iterable
        Names in the town list.
    candidates : iterable
        Names in the boundary layer (duplicates allowed: a town drawn as several polygons).
    n : int, default 3
        How many candidates to list per unmatched name.
    cutoff : float, default 0.5
        Minimum ``difflib`` similarity (0–1) of a listed candidate.

    Returns
    -------
    pandas.DataFrame
        One row per input name, in input order (a default integer index): ``name``,
        ``status`` (``exact`` or ``unmatched``), ``match`` (the boundary name or None),
        ``candidates`` (closest boundary names, ``；``-separated, best first; empty for exact
        matches), ``similarity`` (ratio of the best candidate).

    Raises
    ------
    OptionError
        ``n`` below 1 or ``cutoff`` outside 0–1.
    """
    if isinstance(n, bool) or not isinstance(n, Integral) or n < 1:
        raise OptionError(f"n must be a whole number of candidates, 1 or more, got {n!r}", param="n")
    if not 0.0 <= cutoff <= 1.0:
        raise OptionError(f"cutoff is a difflib similarity between 0 and 1, got {cutoff!r}", param="cutoff")
    cand = list(dict.fromkeys(str(c) for c in candidates if c is not None and not pd.isna(c)))
    by_norm: dict[str, str] = {}
    for c in cand:
        by_norm.setdefault(_norm(c), c)
    rows = []
    for name in names:
        text = "" if name is None or pd.isna(name) else str(name)
        key = _norm(text)
        if key and key in by_norm:
            rows.append({"name": text, "status": "exact", "match": by_norm[key], "candidates": "", "similarity": 1.0})
            continue
        scored = sorted(((difflib.SequenceMatcher(None, key, _norm(c)).ratio(), c) for c in cand), key=lambda s: -s[0])
        close = [(r, c) for r, c in scored if r >= cutoff][:n]
        rows.append(
            {
                "name": text,
                "status": "unmatched",
                "match": None,
                "candidates": "；".join(c for _, c in close),
                "similarity": close[0][0] if close else 0.0,
            }
        )
    return pd.DataFrame(rows, columns=["name", "status", "match", "candidates", "similarity"])


def join_by_name(
    table: pd.DataFrame,
    boundaries: gpd.GeoDataFrame,
    *,
    name_col: str = "name_zh",
    boundary_name_col: str | None = None,
    n: int = 3,
    cutoff: float = 0.5,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Join a town list to boundaries by exact name; list the others with candidates.

    Boundaries sharing one name (a town drawn as several polygons) are dissolved into one
    geometry before the join.

    Parameters
    ----------
    table : pandas.DataFrame
        The town list, with a ``name_col`` column.
    boundaries : geopandas.GeoDataFrame
        Town boundaries with a name column.
    name_col : str, default "name_zh"
        Name column of ``table``.
    boundary_name_col : str, optional
        Name column of ``boundaries`` (default: ``name_col``).
    n, cutoff
        As in :func:`match_names`.

    Returns
    -------
    joined : geopandas.GeoDataFrame
        The rows of ``table`` whose name matched exactly, with the boundary geometry, in the
        order and with the index of ``table``.
    unmatched : pandas.DataFrame
        The other rows of ``table`` with ``status``, ``candidates`` and ``similarity`` from
        :func:`match_names`: never joined silently.
    """
    bcol = boundary_name_col or name_col
    problems = [f"town list has no column {name_col!r}"] if name_col not in table.columns else []
    if bcol not in boundaries.columns:
        problems.append(f"boundaries have no column {bcol!r} (columns: {list(boundaries.columns)})")
    if problems:
        msg = "; ".join(problems) + "; pass name_col= / boundary_name_col="
        raise SchemaError(msg, problems)
    matches = match_names(table[name_col], boundaries[bcol], n=n, cutoff=cutoff)
    matches.index = table.index
    exact = matches["status"] == "exact"
    dissolved = boundaries[[bcol, boundaries.geometry.name]].dissolve(by=bcol)
    geoms = dissolved.geometry.reindex(matches.loc[exact, "match"].to_numpy())
    joined = gpd.GeoDataFrame(table.loc[exact].copy(), geometry=list(geoms.to_numpy()), crs=boundaries.crs)
    unmatched = pd.concat([table.loc[~exact], matches.loc[~exact, ["status", "candidates", "similarity"]]], axis=1)
    if (~exact).any():
        logger.info("%d town names not matched exactly; see the candidates", int((~exact).sum()))
    return joined, unmatched
