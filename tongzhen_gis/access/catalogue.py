"""The facility catalogue and the life-circle distances, read from the rule files.

The categories and their order come from ``tz.rules.load("facilities")["category"]`` (default
list, to be replaced with the official one), the walking distances of the 5-, 10- and
15-minute life circles from ``tz.rules.load("life_circle")``.
"""

from __future__ import annotations

from tongzhen_gis import rules
from tongzhen_gis.errors import SchemaError

#: Name of the extra coverage row: every category within reach (the 八个一 complete).
ALL_CATEGORIES = "all_categories"


def categories() -> list[str]:
    """The facility category ids, in catalogue order (``tz.rules.load("facilities")``)."""
    return list(rules.load("facilities")["category"])


def _names_zh() -> dict[str, str]:
    cat = rules.load("facilities")["category"]
    return {k: cat[k].get("name_zh", k) for k in cat}


def default_threshold_m(level: str = "fifteen_minute") -> float:
    """Walking distance of a life-circle level, in metres (``tz.rules.load("life_circle")``).

    Parameters
    ----------
    level : str, default "fifteen_minute"
        ``fifteen_minute``, ``ten_minute`` or ``five_minute``.
    """
    levels = rules.load("life_circle")["level"]
    if level not in levels:
        msg = f"unknown life-circle level {level!r}; valid: {list(levels)}"
        raise SchemaError(msg)
    return float(levels[level]["distance_m"])


def life_circle_distances_m() -> tuple[float, ...]:
    """The walking distances of every life-circle level, ascending (300, 500, 1000 m by default rules)."""
    levels = rules.load("life_circle")["level"]
    return tuple(sorted(float(levels[k]["distance_m"]) for k in levels))
