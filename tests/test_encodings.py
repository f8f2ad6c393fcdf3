"""A ``.cpg`` that lies: its declared code page is held against the bytes of the ``.dbf``.

Each shapefile is written in the test with known bytes (UTF-8 or GBK, checked on disk), then
its ``.cpg`` is overwritten with the wrong code page.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import pytest
import shapely

import tongzhen_gis as tz
from tongzhen_gis.errors import InputFileError

LOGGER = "tongzhen_gis.io"
NAMES = ["云栖小镇", "梦想小镇", "玉皇山南基金小镇"]


@pytest.fixture
def layer() -> gpd.GeoDataFrame:
    boxes = [shapely.box(520000 + 200 * i, 3350000, 520100 + 200 * i, 3350100) for i in range(3)]
    return gpd.GeoDataFrame({"名称": NAMES, "floors": [3, 12, 6]}, geometry=boxes, crs="EPSG:4549")


def _written(layer, path, *, encoding: str, cpg: str):
    path = tz.io.write_layer(layer, path, encoding=encoding)
    assert NAMES[0].encode(encoding) in path.with_suffix(".dbf").read_bytes()  # the bytes really are that
    path.with_suffix(".cpg").write_text(cpg)
    return path


@pytest.mark.parametrize("cpg", ["GBK", "936", "ANSI 936", "GB18030", "BIG5"])
def test_utf8_bytes_under_a_gbk_cpg_are_read_as_utf8_and_said(tmp_path, layer, caplog, cpg):
    path = _written(layer, tmp_path / "u.shp", encoding="UTF-8", cpg=cpg)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        read = tz.io.read_layer(path)
    assert list(read["名称"]) == NAMES
    assert read.attrs["encoding"] == f"repaired:UTF-8 (cpg:{cpg})"
    assert "the attributes are UTF-8" in caplog.text and "encoding=" in caplog.text


@pytest.mark.parametrize("cpg", ["UTF-8", "65001"])
def test_gbk_bytes_under_a_utf8_cpg_are_read_as_gbk_and_said(tmp_path, layer, caplog, cpg):
    path = _written(layer, tmp_path / "g.shp", encoding="GBK", cpg=cpg)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        read = tz.io.read_layer(path)
    assert list(read["名称"]) == NAMES
    assert read.attrs["encoding"] == f"repaired:GBK (cpg:{cpg})"
    assert "not valid UTF-8" in caplog.text and "encoding=" in caplog.text


def test_a_true_cpg_is_kept_without_a_word(tmp_path, layer, caplog):
    for encoding, cpg in (("GBK", "GBK"), ("UTF-8", "UTF-8")):
        path = _written(layer, tmp_path / f"{encoding}.shp", encoding=encoding, cpg=cpg)
        with caplog.at_level(logging.WARNING, logger=LOGGER):
            read = tz.io.read_layer(path)
        assert list(read["名称"]) == NAMES and read.attrs["encoding"] == f"cpg:{cpg}"
    assert caplog.text == ""


def test_an_explicit_encoding_wins_over_the_bytes(tmp_path, layer):
    path = _written(layer, tmp_path / "u.shp", encoding="UTF-8", cpg="GBK")
    read = tz.io.read_layer(path, encoding="GBK")  # the caller asked for it: read as told
    assert read.attrs["encoding"] == "explicit" and "名称" not in read.columns  # mojibake, as asked


def test_bytes_no_encoding_reads_as_chinese_are_refused_naming_encoding(tmp_path, layer):
    latin = ["café", "naïve", "señor"]
    placeholders = ["cafeX", "naiveX", "senorX"]  # as long in bytes as the Latin-1 text with one byte less
    path = tz.io.write_layer(layer.drop(columns="名称").assign(name=placeholders), tmp_path / "l.shp")
    dbf = path.with_suffix(".dbf").read_bytes()
    for placeholder, text in zip(placeholders, latin, strict=True):
        dbf = dbf.replace(placeholder.encode("ascii"), text.encode("latin-1").ljust(len(placeholder)))
    path.with_suffix(".dbf").write_bytes(dbf)  # Latin-1 bytes: neither UTF-8 nor Chinese in GBK
    path.with_suffix(".cpg").write_text("UTF-8")
    with pytest.raises(InputFileError, match=r"encoding=") as info:
        tz.io.read_layer(path)
    assert info.value.param == "encoding" and "l.cpg" in str(info.value)
    assert list(tz.io.read_layer(path, encoding="ISO-8859-1")["name"]) == latin


def test_the_judge_tells_utf8_from_gbk_on_cells():
    from tongzhen_gis.io.encodings import _decoding

    utf8 = [n.encode("utf-8") for n in NAMES]
    gbk = [n.encode("gbk") for n in NAMES]
    ok, share, sample = _decoding(utf8, "utf-8")
    assert ok and share == 1.0 and sample == NAMES[0]
    assert not _decoding(gbk, "utf-8")[0]
    ok, share, _ = _decoding(gbk, "gbk")
    assert ok and share == 1.0
