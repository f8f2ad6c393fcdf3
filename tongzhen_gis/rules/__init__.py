"""Policy data: thresholds, catalogues and class tables, each with its source.

Rule files are TOML files shipped inside this package (``tongzhen_gis/rules/*.toml``).
Numbers that decide a verdict live there with their unit, document and clause, never in code.

A file may hold these top-level tables:

``include``
    names of other rule files merged first (their thresholds, then this file's).
``meta``
    ``title`` and ``documents``; free ``note``.
``threshold.<key>``
    a rule judged against an indicator. Required keys: ``indicator``, ``comparator``
    (``<=``, ``>=``, ``<``, ``>``, ``==``), ``value``, ``unit``, ``document``, ``clause``.
    Optional: ``label_zh``, ``applies_to`` / ``exempt`` (town categories), ``confirmed``
    (default true), ``advisory`` (default false), ``note`` (``note_zh``: the same in Chinese,
    shown by reports when present); ``proxy_indicator`` and
    ``proxy_note`` (a stand-in measure shown, never judged, when ``indicator`` has no value:
    the rule then reads ``review`` 待核, see :func:`tongzhen_gis.evaluate.scorecard`);
    ``valid_range`` (``[low, high]``: a value outside is refused as a unit mistake, e.g. 35
    written for a ratio of 0.35).
``parameter.<key>``
    a number used by a computation (``value``, ``unit``, ``document``, ``clause`` required).
any other table
    data kept as-is (catalogues, class tables, mappings), read-only.

Use :func:`load` to get a frozen, validated :class:`RuleSet`; a broken file raises
:class:`~tongzhen_gis.errors.RuleDataError` naming the file and the key.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from tongzhen_gis.errors import RuleDataError

__all__ = ["Parameter", "RuleSet", "Threshold", "available", "load"]

COMPARATORS = ("<=", ">=", "<", ">", "==")
_THRESHOLD_REQUIRED = ("indicator", "comparator", "value", "unit", "document", "clause")
_THRESHOLD_OPTIONAL = (
    "label_zh",
    "applies_to",
    "exempt",
    "confirmed",
    "advisory",
    "note",
    "note_zh",
    "proxy_indicator",
    "proxy_note",
    "valid_range",
)
_PARAMETER_REQUIRED = ("value", "unit", "document", "clause")
_PARAMETER_OPTIONAL = ("confirmed", "note", "label_zh")


@dataclass(frozen=True)
class Threshold:
    """One rule: ``indicator comparator value`` with its source.

    Attributes
    ----------
    key : str
        Rule id, e.g. ``"residential_share_max"``.
    indicator : str
        Column of the indicator table the rule judges.
    comparator : str
        One of ``<=``, ``>=``, ``<``, ``>``, ``==``.
    value : float
        The threshold, in ``unit``.
    unit : str
        Unit of ``value`` (``m2``, ``ratio``, ``万元/亩`` …).
    document, clause : str
        Where the number comes from.
    label_zh : str
        Chinese label for reports.
    applies_to, exempt : tuple of str
        Town categories the rule is limited to / does not apply to (empty: all).
    confirmed : bool
        False when the number could not be checked against an official text.
    advisory : bool
        True for encouraged values that never fail a town on their own.
    note : str
        Free text for the reader.
    note_zh : str
        ``note`` in Chinese (reports show it in place of ``note`` when present).
    proxy_indicator : str
        An indicator that stands in for ``indicator`` when the town has no value of it (e.g.
        the 用地14 share for 绿化覆盖率); empty when the rule has none. A stand-in is shown
        beside the rule, never judged.
    proxy_note : str
        What the stand-in measures, why it is not the rule's measure, and what data would
        measure it: the reason of a ``review`` row.
    valid_range : tuple of float
        ``(low, high)`` a value of ``indicator`` must lie in (empty: any number).
    source_file : str
        Rule file the threshold was read from.
    """

    key: str
    indicator: str
    comparator: str
    value: float
    unit: str
    document: str
    clause: str
    label_zh: str = ""
    applies_to: tuple[str, ...] = ()
    exempt: tuple[str, ...] = ()
    confirmed: bool = True
    advisory: bool = False
    note: str = ""
    note_zh: str = ""
    proxy_indicator: str = ""
    proxy_note: str = ""
    valid_range: tuple[float, ...] = ()
    source_file: str = ""

    def applies(self, category: str | None) -> bool:
        """Whether the rule applies to a town of ``category`` (None: unknown category)."""
        if self.applies_to:
            return category is not None and category in self.applies_to
        return not (category is not None and category in self.exempt)

    def passes(self, value: float, *, rel_tol: float = 1e-9) -> bool:
        """Whether ``value`` satisfies the rule (the one comparison of the package).

        A value equal to the threshold within ``rel_tol`` counts as *on* it: it passes ``<=``,
        ``>=`` and ``==`` and fails ``<`` and ``>``, so 270 000 万元 over 1 350 亩 (floating point
        199.99999999999997) passes ``>= 200``.
        """
        v, t = float(value), self.value
        if math.isclose(v, t, rel_tol=rel_tol, abs_tol=0.0):
            return self.comparator in ("<=", ">=", "==")
        return {"<=": v <= t, ">=": v >= t, "<": v < t, ">": v > t, "==": False}[self.comparator]


@dataclass(frozen=True)
class Parameter:
    """A number used by a computation (storey height, sliver tolerance …) with its source."""

    key: str
    value: float
    unit: str
    document: str
    clause: str
    confirmed: bool = True
    note: str = ""
    label_zh: str = ""
    source_file: str = ""


@dataclass(frozen=True)
class RuleSet:
    """A validated, read-only rule file (with its includes merged).

    Attributes
    ----------
    name : str
        Name passed to :func:`load`.
    meta : Mapping
        The ``meta`` table.
    thresholds : Mapping[str, Threshold]
        Rules judged against indicators, in file order (includes first).
    parameters : Mapping[str, Parameter]
        Numbers used by computations.
    tables : Mapping[str, Any]
        Every other top-level table, read-only.
    """

    name: str
    meta: Mapping[str, Any]
    thresholds: Mapping[str, Threshold] = field(default_factory=dict)
    parameters: Mapping[str, Parameter] = field(default_factory=dict)
    tables: Mapping[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        """Return a data table by name (``rules["category"]``)."""
        try:
            return self.tables[key]
        except KeyError:
            msg = f"rule set {self.name!r} has no table {key!r}; tables: {sorted(self.tables)}"
            raise RuleDataError(msg) from None

    def parameter(self, key: str) -> float:
        """Return the value of a parameter, with a clear error when it is absent."""
        try:
            return self.parameters[key].value
        except KeyError:
            msg = f"rule set {self.name!r} has no parameter {key!r}; parameters: {sorted(self.parameters)}"
            raise RuleDataError(msg) from None


def _freeze(obj: Any) -> Any:
    if isinstance(obj, dict):
        return MappingProxyType({k: _freeze(v) for k, v in obj.items()})
    if isinstance(obj, list):
        return tuple(_freeze(v) for v in obj)
    return obj


def available() -> list[str]:
    """Names of the rule files shipped with the package."""
    folder = resources.files(__name__)
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def _read(name_or_path: str | Path) -> tuple[str, dict[str, Any]]:
    path = Path(name_or_path)
    if path.suffix == ".toml" and path.exists():
        label, text = str(path), path.read_text(encoding="utf-8")
    else:
        res = resources.files(__name__) / f"{name_or_path}.toml"
        if not res.is_file():
            names = ", ".join(available())
            msg = f"unknown rule set {name_or_path!r}; available: {names} (or pass a path to a .toml file)"
            raise RuleDataError(msg)
        label, text = f"{name_or_path}.toml", res.read_text(encoding="utf-8")
    try:
        return label, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = f"rule file {label} is not valid TOML: {exc}"
        raise RuleDataError(msg) from exc


def _check_keys(label: str, where: str, entry: Any, required: tuple[str, ...], optional: tuple[str, ...]) -> None:
    if not isinstance(entry, dict):
        msg = f"rule file {label}: {where} must be a table"
        raise RuleDataError(msg)
    missing = [k for k in required if k not in entry]
    unknown = [k for k in entry if k not in required + optional]
    problems = []
    if missing:
        problems.append(f"missing key(s) {missing}")
    if unknown:
        problems.append(f"unknown key(s) {unknown} (valid: {list(required + optional)})")
    if problems:
        msg = f"rule file {label}: {where}: " + "; ".join(problems)
        raise RuleDataError(msg)
    if not isinstance(entry["value"], int | float) or isinstance(entry["value"], bool):
        msg = f"rule file {label}: {where}.value must be a number, got {entry['value']!r}"
        raise RuleDataError(msg)


def _threshold(label: str, key: str, entry: Any) -> Threshold:
    where = f"threshold.{key}"
    _check_keys(label, where, entry, _THRESHOLD_REQUIRED, _THRESHOLD_OPTIONAL)
    if entry["comparator"] not in COMPARATORS:
        msg = f"rule file {label}: {where}.comparator must be one of {COMPARATORS}, got {entry['comparator']!r}"
        raise RuleDataError(msg)
    kwargs = {k: entry[k] for k in _THRESHOLD_OPTIONAL if k in entry}
    for k in ("applies_to", "exempt"):
        if k in kwargs:
            kwargs[k] = tuple(kwargs[k])
    if "valid_range" in kwargs:
        low_high = kwargs["valid_range"]
        if (
            not isinstance(low_high, list)
            or len(low_high) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in low_high)
            or low_high[0] > low_high[1]
        ):
            msg = f"rule file {label}: {where}.valid_range must be [low, high] (two numbers), got {low_high!r}"
            raise RuleDataError(msg)
        kwargs["valid_range"] = (float(low_high[0]), float(low_high[1]))
    if bool(kwargs.get("proxy_indicator")) != bool(kwargs.get("proxy_note")):
        msg = f"rule file {label}: {where}: proxy_indicator and proxy_note go together (the note says what it is)"
        raise RuleDataError(msg)
    return Threshold(
        key=key,
        value=float(entry["value"]),
        source_file=label,
        **{k: entry[k] for k in _THRESHOLD_REQUIRED if k != "value"},
        **kwargs,
    )


def _parameter(label: str, key: str, entry: Any) -> Parameter:
    _check_keys(label, f"parameter.{key}", entry, _PARAMETER_REQUIRED, _PARAMETER_OPTIONAL)
    kwargs = {k: entry[k] for k in _PARAMETER_OPTIONAL if k in entry}
    return Parameter(
        key=key,
        value=float(entry["value"]),
        unit=entry["unit"],
        document=entry["document"],
        clause=entry["clause"],
        source_file=label,
        **kwargs,
    )


@cache
def _load_cached(name: str) -> RuleSet:
    label, raw = _read(name)
    thresholds: dict[str, Threshold] = {}
    parameters: dict[str, Parameter] = {}
    tables: dict[str, Any] = {}
    for inc in raw.pop("include", []):
        base = _load_cached(inc)
        thresholds.update(base.thresholds)
        parameters.update(base.parameters)
    meta = raw.pop("meta", {})
    for key, entry in raw.pop("threshold", {}).items():
        thresholds[key] = _threshold(label, key, entry)
    for key, entry in raw.pop("parameter", {}).items():
        parameters[key] = _parameter(label, key, entry)
    tables.update(raw)
    return RuleSet(
        name=name,
        meta=_freeze(meta),
        thresholds=MappingProxyType(thresholds),
        parameters=MappingProxyType(parameters),
        tables=_freeze(tables),
    )


def load(name: str | Path | RuleSet) -> RuleSet:
    """Load a rule set by name (``"hangzhou-2021"``) or from a ``.toml`` path.

    Parameters
    ----------
    name : str, pathlib.Path or RuleSet
        A shipped rule file's name (see :func:`available`) or a path to a TOML file written in
        the same format, e.g. a reviewer's overrides. A rule set already loaded is returned as
        it is, so every ``rules=`` option of the package takes a name, a path or a rule set.

    Returns
    -------
    RuleSet
        Frozen and validated.

    Raises
    ------
    RuleDataError
        Unknown name, invalid TOML, or a threshold/parameter missing a required key.

    Examples
    --------
    >>> import tongzhen_gis as tz
    >>> tz.rules.load("national-2021").thresholds["residential_share_max"].value
    0.3
    """
    if isinstance(name, RuleSet):
        return name
    return _load_cached(str(name))
