"""Facility catalogues and the life-circle distances, read from the rule files.

A *catalogue* is a rule file with a ``category`` table: one entry per facility category, in
the order tables and maps show them. Each entry may hold

* ``name_zh`` (label), ``colour`` (maps), ``osm_tags`` (``[[key, value], …]``, any one matches,
  ``"*"`` any value) and ``name_contains`` (used by :func:`~tongzhen_gis.access.categorize`);
* ``distance_m``: the category's own walking distance (a kindergarten within 300 m), or
  ``level``: a life-circle level (``five_minute``, ``ten_minute``, ``fifteen_minute``) whose
  distance it takes from ``tz.rules.load("life_circle")``;
* ``document``, ``clause``, ``confirmed`` (false: not checked against a copy of the document),
  ``why``, ``note``: where the entry comes from.

Shipped catalogues (see :func:`catalogues`): ``facilities`` (the default "八个一", *to be
replaced with the official list*), ``gb50180-2018`` (城市居住区规划设计标准, the 5-, 10- and
15-minute facility lists) and ``tdt1062-2021`` (社区生活圈规划技术指南, the basic facilities of
the community life circle). A planner's own catalogue is a TOML file in the same format, passed
as ``catalogue="path/to/mine.toml"`` (or ``--catalogue FILE`` on the command line).

Decisions
---------
* A category without ``distance_m`` or ``level`` takes the catalogue's ``[meta] level``, else
  the 15-minute distance: the life circle the whole analysis is about.
* ``categories=`` given without ``catalogue=`` accepts any ids (a study of classes ``c0``…``c7``
  needs no catalogue); their distances are the 15-minute distance unless given.
* A catalogue is validated once, every problem listed in one
  :class:`~tongzhen_gis.errors.RuleDataError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tongzhen_gis import rules
from tongzhen_gis.errors import OptionError, RuleDataError

#: Name of the extra coverage row: every category within reach (the 八个一 complete).
ALL_CATEGORIES = "all_categories"
#: The catalogue used when none is named: the "八个一" default.
DEFAULT_CATALOGUE = "facilities"
#: Life-circle level a category falls back to when it states no distance.
DEFAULT_LEVEL = "fifteen_minute"

CatalogueLike = str | Path | rules.RuleSet

_ENTRY_KEYS = (
    "name_zh",
    "colour",
    "osm_tags",
    "name_contains",
    "distance_m",
    "level",
    "document",
    "clause",
    "confirmed",
    "why",
    "note",
    "name_en",
)


def catalogues() -> list[str]:
    """Names of the shipped facility catalogues (rule files whose ``[meta]`` says ``catalogue = true``)."""
    return [name for name in rules.available() if rules.load(name).meta.get("catalogue") is True]


def load_catalogue(catalogue: CatalogueLike | None = None) -> rules.RuleSet:
    """The catalogue as a validated :class:`~tongzhen_gis.rules.RuleSet`.

    Parameters
    ----------
    catalogue : str, pathlib.Path or RuleSet, optional
        A shipped name (:func:`catalogues`), a path to a TOML file in the same format, or a
        loaded rule set. Default: ``"facilities"`` (the "八个一" default).

    Returns
    -------
    RuleSet

    Raises
    ------
    RuleDataError
        Unknown name, a rule file without a ``category`` table, or bad entries (all listed).

    Examples
    --------
    >>> import tongzhen_gis as tz
    >>> tz.access.load_catalogue("gb50180-2018")["category"]["kindergarten"]["distance_m"]
    300.0
    """
    if catalogue is None:
        catalogue = DEFAULT_CATALOGUE
    ruleset = rules.load(catalogue)
    _validate(ruleset)
    return ruleset


def _validate(ruleset: rules.RuleSet) -> None:
    if "category" not in ruleset.tables:
        msg = (
            f"rule set {ruleset.name!r} is not a facility catalogue: it has no [category.<id>] tables; "
            f"shipped catalogues: {', '.join(catalogues())}"
        )
        raise RuleDataError(msg)
    table = ruleset["category"]
    levels = rules.load("life_circle")["level"]
    problems = []
    if not table:
        problems.append("the [category] table is empty")
    meta_level = ruleset.meta.get("level")
    if meta_level is not None and meta_level not in levels:
        problems.append(f"[meta] level = {meta_level!r} is not a life-circle level ({', '.join(levels)})")
    for cid, entry in table.items():
        where = f"category.{cid}"
        if not isinstance(entry, Mapping):
            problems.append(f"{where} must be a table")
            continue
        unknown = [k for k in entry if k not in _ENTRY_KEYS]
        if unknown:
            problems.append(f"{where}: unknown key(s) {unknown} (valid: {', '.join(_ENTRY_KEYS)})")
        d = entry.get("distance_m")
        if d is not None and (isinstance(d, bool) or not isinstance(d, int | float) or not d > 0):
            problems.append(f"{where}.distance_m must be a positive number of metres, got {d!r}")
        lv = entry.get("level")
        if lv is not None and lv not in levels:
            problems.append(f"{where}.level = {lv!r} is not a life-circle level ({', '.join(levels)})")
        for tag in entry.get("osm_tags", ()):
            if not (isinstance(tag, Sequence) and not isinstance(tag, str) and len(tag) == 2):
                problems.append(f"{where}.osm_tags: {tag!r} is not a [key, value] pair")
    if problems:
        msg = f"catalogue {ruleset.name!r}: " + "; ".join(problems)
        raise RuleDataError(msg)


def catalogue_name(catalogue: CatalogueLike | None) -> str:
    """The name a catalogue is known by in tables and notes (its rule-file name or path)."""
    if catalogue is None:
        return DEFAULT_CATALOGUE
    return catalogue.name if isinstance(catalogue, rules.RuleSet) else str(catalogue)


def categories(catalogue: CatalogueLike | None = None) -> list[str]:
    """The facility category ids of a catalogue, in its order (default: the "八个一" catalogue)."""
    return list(load_catalogue(catalogue)["category"])


def _names_zh(catalogue: CatalogueLike | None = None) -> dict[str, str]:
    cat = load_catalogue(catalogue)["category"]
    return {k: cat[k].get("name_zh", k) for k in cat}


def default_threshold_m(level: str = DEFAULT_LEVEL) -> float:
    """Walking distance of a life-circle level, in metres (``tz.rules.load("life_circle")``).

    Parameters
    ----------
    level : str, default "fifteen_minute"
        ``fifteen_minute``, ``ten_minute`` or ``five_minute``.
    """
    levels = rules.load("life_circle")["level"]
    if level not in levels:
        msg = f"unknown life-circle level {level!r}; valid: {list(levels)}"
        raise OptionError(msg, param="level")
    return float(levels[level]["distance_m"])


def life_circle_distances_m() -> tuple[float, ...]:
    """The walking distances of every life-circle level, ascending (300, 500, 1000 m by default rules)."""
    levels = rules.load("life_circle")["level"]
    return tuple(sorted(float(levels[k]["distance_m"]) for k in levels))


def category_distances(
    cats: Sequence[str],
    *,
    catalogue: CatalogueLike | None = None,
    threshold_m: float | Mapping[str, float] | None = None,
) -> tuple[dict[str, float], dict[str, str]]:
    """The walking distance of each category and where it comes from.

    Parameters
    ----------
    cats : sequence of str
        Category ids.
    catalogue : str, Path or RuleSet, optional
        Where ``distance_m`` / ``level`` are read; None: no catalogue (every category takes the
        15-minute distance unless ``threshold_m`` says otherwise).
    threshold_m : float or mapping, optional
        One distance for every category (the catalogue is then not read), or
        ``{category: metres}`` for some of them (the rest as with None).

    Returns
    -------
    (dict, dict)
        ``{category: metres}`` and ``{category: source}``, the source being ``"threshold_m"``,
        ``"catalogue <name>"`` (the entry's ``distance_m``), ``"life circle <level>"``.

    Raises
    ------
    OptionError
        A mapping naming categories not asked for, or a negative distance.
    """
    cats = list(cats)
    if threshold_m is not None and not isinstance(threshold_m, Mapping):
        t = _metres(threshold_m, "threshold_m")
        return dict.fromkeys(cats, t), dict.fromkeys(cats, "threshold_m")
    given = dict(threshold_m or {})
    extra = [c for c in given if c not in cats]
    if extra:
        msg = f"threshold_m names categor(ies) {extra} that are not computed; computed: {', '.join(cats)}"
        raise OptionError(msg, param="threshold_m")
    table: Mapping[str, Any] = {}
    meta_level = DEFAULT_LEVEL
    name = ""
    if catalogue is not None:
        ruleset = load_catalogue(catalogue)
        table, name = ruleset["category"], catalogue_name(catalogue)
        meta_level = ruleset.meta.get("level", DEFAULT_LEVEL)
    distances, sources = {}, {}
    for c in cats:
        entry = table.get(c, {})
        if c in given:
            distances[c], sources[c] = _metres(given[c], f"threshold_m[{c!r}]"), "threshold_m"
        elif entry.get("distance_m") is not None:
            distances[c], sources[c] = float(entry["distance_m"]), f"catalogue {name}"
        else:
            level = entry.get("level", meta_level)
            distances[c], sources[c] = default_threshold_m(level), f"life circle {level}"
    return distances, sources


def _metres(value: Any, name: str) -> float:
    try:
        t = float(value)
    except (TypeError, ValueError):
        t = float("nan")
    if not t >= 0:
        msg = f"{name} must be a distance in metres, 0 or more, got {value!r}"
        raise OptionError(msg, param="threshold_m")
    return t
