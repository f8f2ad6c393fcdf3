from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import tongzhen_gis as tz


def test_mu_definition():
    assert tz.units.m2_to_mu(10_000) == 15.0
    assert tz.units.m2_to_mu(100_000) == 150.0
    assert tz.units.mu_to_m2(1) == 10000 / 15


def test_arrays_stay_arrays():
    out = tz.units.m2_to_km2([1e6, 2e6])
    assert isinstance(out, np.ndarray)
    assert out.tolist() == [1.0, 2.0]


@given(st.floats(min_value=0, max_value=1e12, allow_nan=False))
def test_round_trips(area_m2):
    assert np.isclose(tz.units.mu_to_m2(tz.units.m2_to_mu(area_m2)), area_m2)
    assert np.isclose(tz.units.km2_to_m2(tz.units.m2_to_km2(area_m2)), area_m2)
