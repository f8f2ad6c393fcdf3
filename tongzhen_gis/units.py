"""Unit conversions used across the toolkit.

These are definitions of units, not policy numbers. 1 亩 (mu) is exactly 10000/15 m²
(1 ha = 15 亩), see ``../shared/reference/standards.md`` section 2.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["M2_PER_KM2", "M2_PER_MU", "km2_to_m2", "m2_to_km2", "m2_to_mu", "mu_to_m2"]

#: Square metres in one 亩, exactly 10000 / 15.
M2_PER_MU: float = 10000.0 / 15.0
#: Square metres in one square kilometre.
M2_PER_KM2: float = 1_000_000.0


def _scale(values: float | npt.ArrayLike, factor: float) -> float | np.ndarray:
    arr = np.asarray(values, dtype=float) * factor
    return arr if arr.ndim else float(arr)


def m2_to_mu(area_m2: float | npt.ArrayLike) -> float | np.ndarray:
    """Convert square metres to 亩 (1 亩 = 10000/15 m²)."""
    return _scale(area_m2, 1.0 / M2_PER_MU)


def mu_to_m2(area_mu: float | npt.ArrayLike) -> float | np.ndarray:
    """Convert 亩 to square metres."""
    return _scale(area_mu, M2_PER_MU)


def m2_to_km2(area_m2: float | npt.ArrayLike) -> float | np.ndarray:
    """Convert square metres to square kilometres."""
    return _scale(area_m2, 1.0 / M2_PER_KM2)


def km2_to_m2(area_km2: float | npt.ArrayLike) -> float | np.ndarray:
    """Convert square kilometres to square metres."""
    return _scale(area_km2, M2_PER_KM2)
