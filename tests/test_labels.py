"""tz.labels: one table of Chinese labels, used by every module that shows a column or a verdict."""

from __future__ import annotations

import tongzhen_gis as tz


def test_every_control_line_verdict_has_one_chinese_word():
    # the verdicts controllines.check can give, plus 'unchecked' for a feature kept without lines
    assert tz.labels.VERDICT_ZH == {"pass": "通过", "review": "待核", "conflict": "冲突", "unchecked": "未核查"}
    assert set(tz.controllines._VERDICT_ORDER) | {"unchecked"} == set(tz.labels.VERDICT_ZH)
    assert tz.labels.verdict_zh("conflict") == "冲突"
    assert tz.labels.verdict_zh("something else") == "something else"  # shown as it is, never blank


def test_modules_read_their_labels_from_the_one_table():
    assert tz.intensity.COLUMNS_ZH is tz.labels.COLUMNS_ZH  # the public name still works
    # the map legend titles are in the table with the same wording (maps still holds its copy)
    for key, text in tz.maps.VALUE_LABELS_ZH.items():
        assert tz.labels.VALUE_LABELS_ZH[key] == text


def test_every_intensity_column_has_a_label():
    scene = tz.samples.sample_town()
    table = tz.intensity.summarize(
        scene.towns, parcels=scene.parcels, buildings=scene.buildings, enterprises=scene.enterprises
    )
    unlabelled = [c for c in table.columns if c not in tz.labels.COLUMNS_ZH and not str(c).startswith("share_")]
    assert unlabelled == []
