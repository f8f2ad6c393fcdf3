"""The shared CLI plumbing (``tongzhen_gis.cli._common``) and ``TongzhenError.param``."""

from __future__ import annotations

import click
import pytest
import shapely

import tongzhen_gis as tz
from tongzhen_gis.cli import _common
from tongzhen_gis.errors import (
    CRSError,
    FontNotFoundError,
    InputFileError,
    NetworkDataError,
    RuleDataError,
    SchemaError,
    TongzhenError,
)


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [
        (CRSError, ValueError),
        (InputFileError, OSError),
        (RuleDataError, ValueError),
        (NetworkDataError, ValueError),
        (FontNotFoundError, OSError),
    ],
)
def test_every_error_takes_an_optional_param(cls, builtin):
    plain = cls("what is wrong; how to fix it")
    assert plain.param is None and str(plain) == "what is wrong; how to fix it"
    tagged = cls("x", param="crs")
    assert tagged.param == "crs" and isinstance(tagged, builtin) and isinstance(tagged, TongzhenError)


def test_schema_error_keeps_its_problems_next_to_param():
    exc = SchemaError("two problems", ["a", "b"], param="id_col")
    assert exc.problems == ["a", "b"] and exc.param == "id_col" and str(exc) == "two problems"
    assert SchemaError("one").problems == [] and SchemaError("one").param is None


def test_no_library_message_mentions_the_command_line():
    # The library gives the Python fix and tags the keyword; each command adds its own option.
    import pathlib

    root = pathlib.Path(tz.__file__).parent
    for path in root.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "(CLI:" not in text and "on the CLI:" not in text, path.name


@pytest.fixture
def two_layers(scene, tmp_path):
    path = tmp_path / "two.gpkg"
    tz.io.write_layer(scene.towns, path, layer="towns")
    tz.io.write_layer(scene.red_line, path, layer="red_line")
    return path


def test_read_input_maps_param_to_the_command_option(two_layers):
    hints = {"layer": "--layer red-line=LAYER", "crs": "--crs red-line=EPSG:4549"}
    with pytest.raises(InputFileError) as info:
        _common.read_input("red-line", two_layers, layer=None, crs=None, hints=hints)
    text = str(info.value)
    assert text.startswith(f"red-line ({two_layers}): {two_layers} holds 2 layers")
    assert text.endswith("; on the command line: --layer red-line=LAYER")
    assert "layer='towns'" in text  # the Python fix stays
    assert info.value.param == "layer" and type(info.value) is InputFileError
    assert isinstance(info.value.__cause__, InputFileError)  # the library error is chained


def test_read_input_adds_no_hint_for_a_param_the_command_cannot_fix(two_layers):
    with pytest.raises(InputFileError) as info:
        _common.read_input("homes", two_layers, layer="nope", crs=None, hints={"crs": "--crs homes=EPSG:4549"})
    assert "on the command line" not in str(info.value) and str(info.value).startswith("homes (")


def test_read_input_crs_hint_and_the_fix_works(scene, tmp_path):
    path = tmp_path / "nocrs.shp"
    scene.towns.to_file(path, engine="pyogrio", encoding="UTF-8")
    path.with_suffix(".prj").unlink()
    hints = {"crs": "--crs towns=EPSG:4549"}
    with pytest.raises(CRSError) as info:
        _common.read_input("towns", path, layer=None, crs=None, hints=hints)
    assert str(info.value).endswith("; on the command line: --crs towns=EPSG:4549")
    assert "\n" not in str(info.value)
    read = _common.read_input("towns", path, layer=None, crs="EPSG:4549", hints=hints)
    assert read.crs.to_epsg() == 4549 and len(read) == len(scene.towns)


def test_with_context_keeps_schema_problems_and_class():
    exc = SchemaError("invalid input: no column 'x'", ["no column 'x'"], param="id_col")
    new = _common.with_context(exc, where="features (f.gpkg)", hints={"id_col": "--id-col COLUMN"})
    assert type(new) is SchemaError and new.problems == ["no column 'x'"] and new.param == "id_col"
    assert str(new) == "features (f.gpkg): invalid input: no column 'x'; on the command line: --id-col COLUMN"
    assert str(exc) == "invalid input: no column 'x'"  # the original is untouched


def test_hinted_reraises_with_the_option():
    with pytest.raises(CRSError, match=r"^bad; on the command line: --crs X$"), _common.hinted({"crs": "--crs X"}):
        raise CRSError("bad", param="crs")


def test_parse_named():
    names = ("features", "red-line")
    assert _common.parse_named(["red_line=EPSG:4549", "EPSG:4490"], names, "--crs", bare="features") == {
        "red-line": "EPSG:4549",
        "features": "EPSG:4490",
    }
    with pytest.raises(click.BadParameter, match="NAME=CRS"):
        _common.parse_named(["EPSG:4549"], names, "--crs", metavar="CRS")
    with pytest.raises(click.BadParameter, match="unknown input 'roads'"):
        _common.parse_named(["roads=EPSG:4549"], names, "--crs")
    with pytest.raises(click.BadParameter, match="no value after '='"):
        _common.parse_named(["red-line="], names, "--crs")


def test_dropped_empty_note_names_every_dropped_row(scene, tmp_path):
    towns = scene.towns.copy()
    towns.loc[towns.index[1], "geometry"] = shapely.Polygon()
    path = tz.io.write_layer(towns, tmp_path / "t.gpkg", layer="towns")
    read = _common.read_input("towns", path, layer=None, crs=None, hints={})
    note = _common.dropped_empty_note("towns", read)
    assert len(read) == len(towns) - 1
    assert note is not None and note.startswith("towns: 1 feature(s)") and "1" in note.split("file rows")[1]
    kept = _common.read_input("towns", path, layer=None, crs=None, hints={}, drop_empty=False)
    assert len(kept) == len(towns) and kept.geometry.isna().sum() == 1
    assert _common.dropped_empty_note("towns", kept) is None
