"""Classification of map values with mapclassify, and the class labels and colours (private).

Used by :func:`tongzhen_gis.maps.intensity_map`: :func:`_classify` gives the class of each value
and the upper bound of each class (reproducible: NaturalBreaks runs with NumPy's global generator
seeded and restored), :func:`_class_labels` and :func:`_class_colours` their legend text and colours.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator, Mapping
from numbers import Integral
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import to_hex

from tongzhen_gis.errors import OptionError

logger = logging.getLogger(__name__)


@contextlib.contextmanager
def _seeded_numpy(seed: int) -> Iterator[None]:
    """Seed NumPy's global generator for the block and restore its state afterwards.

    mapclassify's NaturalBreaks runs k-means from random starts on the global generator; seeding
    makes the same data give the same classes on every run (a report map must be reproducible).
    """
    state = np.random.get_state()  # noqa: NPY002 (mapclassify uses the global generator)
    np.random.seed(seed)  # noqa: NPY002 (mapclassify uses the global generator)
    try:
        yield
    finally:
        np.random.set_state(state)  # noqa: NPY002 (mapclassify uses the global generator)


def _classify(
    values: np.ndarray, scheme: str, k: int, classify_kwds: Mapping[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    """Class index per value and upper bounds per class (mapclassify), k reduced to the unique count."""
    import mapclassify

    if scheme.lower().replace("_", "") not in {c.lower() for c in mapclassify.CLASSIFIERS}:
        msg = f"unknown scheme {scheme!r}; use a mapclassify scheme: {', '.join(mapclassify.CLASSIFIERS)}"
        raise OptionError(msg, param="scheme")
    if isinstance(k, bool) or not isinstance(k, Integral) or k < 1:
        raise OptionError(f"k must be a whole number of classes, 1 or more, got {k!r}", param="k")
    unique = np.unique(values)
    # values closer than 1e-12 × max(largest magnitude, 1) count as one (NaturalBreaks' k-means
    # cannot separate them and fails): k is reduced to the values a map can tell apart
    scale = max(float(np.abs(unique).max()), 1.0)
    distinct = len(np.unique(np.round(unique / scale, 12)))
    if distinct == 1:
        return np.zeros(len(values), dtype=int), unique[-1:].astype(float)
    kwds = dict(classify_kwds)
    takes_k = scheme.lower().replace("_", "") not in (
        "userdefined",
        "percentiles",
        "boxplot",
        "stdmean",
        "headtailbreaks",
    )
    if takes_k:
        kwds["k"] = min(k, distinct)
    while True:
        try:
            with _seeded_numpy(0), warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                classifier = mapclassify.classify(values, scheme, **kwds)
            break
        except ValueError:
            # NaturalBreaks' k-means cannot always split values that are distinct but very close
            # (0 and 6e-08 beside 10.5): one class fewer, said in the log, instead of no map
            if not takes_k or kwds["k"] <= 1:
                raise
            logger.info("mapclassify %s could not make %d classes; trying %d", scheme, kwds["k"], kwds["k"] - 1)
            kwds["k"] -= 1
    for warning in caught:  # e.g. quantiles that coincide: fewer classes, which the legend shows
        logger.info("mapclassify %s: %s", scheme, warning.message)
    return np.asarray(classifier.yb, dtype=int), np.asarray(classifier.bins, dtype=float)


def _class_labels(bins: np.ndarray, lowest: float, fmt: str) -> list[str]:
    lows = [lowest, *bins[:-1]]
    return [f"{fmt.format(lo)} – {fmt.format(hi)}" for lo, hi in zip(lows, bins, strict=True)]


def _class_colours(cmap: str, n: int) -> list[str]:
    colormap = plt.get_cmap(cmap)
    if n == 1:
        return [to_hex(colormap(0.6))]
    return [to_hex(colormap(0.15 + 0.85 * i / (n - 1))) for i in range(n)]
