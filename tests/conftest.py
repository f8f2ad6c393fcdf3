"""Shared test fixtures.

Real data in ``../shared/data`` is reached only through :func:`shared_data` (fixture of the
same name); tests that use it skip with a clear reason when the folder is absent, so a fresh
clone elsewhere still passes the core suite, which runs on the generated sample town.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import matplotlib
import pytest

import tongzhen_gis as tz

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parents[1]

#: Chinese headers an enterprise table exported from a Chinese spreadsheet typically has.
ENTERPRISE_HEADERS_ZH = {
    "town_id": "小镇编号",
    "tax_wan": "税收",
    "investment_wan": "投资",
    "output_wan": "产值",
    "revenue_wan": "营业收入",
    "rd_wan": "研发经费",
    "jobs": "从业人员",
}


def shared_data_root() -> Path:
    """Folder of the real shared data: ``$TONGZHEN_SHARED_DATA`` or ``../shared/data``."""
    return Path(os.environ.get(tz.settings.shared_data_env, REPO.parent / "shared" / "data"))


@pytest.fixture
def shared_data() -> Callable[[str], Path]:
    """Return a function mapping a path inside the shared data folder to a real path, or skip."""

    def get(relative: str) -> Path:
        path = shared_data_root() / relative
        if not path.exists():
            pytest.skip(f"shared data not available: {path} (set ${tz.settings.shared_data_env})")
        return path

    return get


@pytest.fixture
def scene() -> tz.samples.Scene:
    """A fresh sample town (seed 0) for each test, so tests may modify it freely."""
    return tz.samples.sample_town()


@pytest.fixture(scope="session")
def sample_gpkg(tmp_path_factory) -> Path:
    """The sample town written once per session (``write_scene``): its GeoPackage, for tests that only read it."""
    return tz.samples.write_scene(tz.samples.sample_town(), tmp_path_factory.mktemp("sample"))["gpkg"]
