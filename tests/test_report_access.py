"""The report's access step: ``[access] catalogue`` and ``population`` in project.toml.

Expected figures come from the sample docstring (tongzhen_gis/samples.py).
"""

from __future__ import annotations

import pytest

import tongzhen_gis as tz
from tongzhen_gis.report.run import run_analyses


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    folder = tmp_path_factory.mktemp("raw")
    written = tz.samples.write_scene(tz.samples.sample_town(), folder)
    text = tz.report.sample_config_text(written, base_dir=folder).replace("enabled = true", "enabled = false")
    return folder, text


def _run(folder, text):
    problems: list[str] = []
    return run_analyses(tz.report.parse_config(text, base_dir=folder), problems), problems


def test_own_catalogue_beside_the_config(raw):
    folder, text = raw
    entries = "\n".join(
        f"[category.{c}]" + ("\ndistance_m = 300.0" if c == "kindergarten" else "") for c in tz.access.categories()
    )
    (folder / "mine.toml").write_text("[meta]\ntitle = 'mine'\n" + entries + "\n", encoding="utf-8")
    run, _ = _run(
        folder, text.replace('population_col = "population"', 'population_col = "population"\ncatalogue = "mine.toml"')
    )
    cov = run.access.coverage
    assert cov.xs("kindergarten", level="category")["threshold_m"].eq(300.0).all()
    assert cov.xs("park", level="category")["threshold_m"].eq(1000.0).all()
    areas = run.access.service_areas.set_index("category")
    assert areas.loc["kindergarten", "threshold_m"] == 300.0 and areas.loc["park", "threshold_m"] == 1000.0
    # a table over rows of homes: the kindergarten share at 300 m is never above that at 1000 m
    default, _ = _run(folder, text)
    share = default.access.coverage.xs("kindergarten", level="category")["share"]
    assert (cov.xs("kindergarten", level="category")["share"] <= share + 1e-12).all()


def test_unknown_catalogue_names_its_entry(raw):
    folder, text = raw
    with pytest.raises(tz.errors.TongzhenError) as err:
        _run(folder, text.replace('population_col = "population"', 'catalogue = "gb99999"'))
    assert err.value.config_key == "[access].catalogue"
    assert "gb50180-2018" in str(err.value)


def test_population_estimate_on_the_intensity_parcels(raw):
    folder, text = raw
    text = text.replace('layer = "homes" }', 'layer = "buildings" }').replace(
        'population_col = "population"', 'population = "estimate"\nper_capita_m2 = 50.0'
    )
    run, problems = _run(folder, text)
    people = run.access.population.set_axis(run.access.homes["building_id"])
    # residential parcels P1 (B01 100×100×10, B02 ×6) and Q1 (C01–C03 ×18); the rest on other land: 0
    expected = {"B01": 2000.0, "B02": 1200.0, "C01": 3600.0, "C02": 3600.0, "C03": 3600.0}
    for bid, n in people.items():
        assert n == pytest.approx(expected.get(bid, 0.0)), bid
    assert people.attrs["method"] == "floor_area"
    assert any("floor_area" in p and "non-residential" in p for p in problems)
    assert run.access.coverage.attrs["population_method"] == "floor_area"
    assert run.access.coverage["population"].groupby(level=0).first().sum() == pytest.approx(14_000.0)
