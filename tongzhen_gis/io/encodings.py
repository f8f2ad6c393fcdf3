"""Text encodings of shapefile attributes: ``.cpg`` code pages, UTF-8 detection in the ``.dbf``, GBK fallback.

A shapefile without a ``.cpg`` whose attribute bytes are not UTF-8 is read as GBK
(:data:`tongzhen_gis.settings.shapefile_fallback_encoding`), and the choice is logged. Bytes
that GBK cannot decode either are tried as GB18030 and Big5 (read as such when they make
Chinese text, with a warning) and otherwise refused: never read as garbled text.
"""

from __future__ import annotations

import codecs
import logging
from pathlib import Path

import numpy as np

from tongzhen_gis import settings
from tongzhen_gis.errors import InputFileError, OptionError

logger = logging.getLogger(__name__)


def _dbf_text_fields(header: bytes) -> tuple[list[bytes], list[tuple[int, int]]]:
    """Field names and ``(offset, length)`` of the character fields of a dBASE header."""
    names, fields = [], []
    offset = 1  # each record starts with a one-byte deletion flag
    for start in range(32, len(header) - 31, 32):
        desc = header[start : start + 32]
        if desc[0] == 0x0D:
            break
        names.append(desc[:11].split(b"\x00", 1)[0])
        length = desc[16]
        if desc[11:12] in (b"C", b"V"):
            fields.append((offset, length))
        offset += length
    return names, fields


def _dbf_is_utf8(dbf: Path, *, chunk_records: int = 65536) -> bool:
    """Whether the field names and every text value of a ``.dbf`` decode as UTF-8.

    Only the text (``C``) fields are checked, not the binary header or numbers; the records
    are read in chunks so a large table costs little memory. A multi-byte character cut at
    the end of a full-width field (some writers truncate bytes, not characters) is tolerated.
    """
    with dbf.open("rb") as fh:
        head = fh.read(32)
        if len(head) < 32:
            return True
        n_records = int.from_bytes(head[4:8], "little")
        header_len = int.from_bytes(head[8:10], "little")
        record_len = int.from_bytes(head[10:12], "little")
        names, fields = _dbf_text_fields(head + fh.read(max(header_len - 32, 0)))
        try:
            for name in names:
                name.decode("utf-8")
            if not fields or record_len == 0:
                return True
            fh.seek(header_len)
            columns = [slice(o, o + n) for o, n in fields]
            remaining = n_records
            while remaining > 0:
                k = min(chunk_records, remaining)
                raw = fh.read(k * record_len)
                k = len(raw) // record_len
                if k == 0:
                    break
                records = np.frombuffer(raw[: k * record_len], dtype=np.uint8).reshape(k, record_len)
                for cols in columns:
                    block = records[:, cols]
                    try:
                        block.tobytes().decode("utf-8")  # fast path: the whole column at once
                    except UnicodeDecodeError:
                        # Row by row, tolerating a multi-byte character cut at the field's width.
                        for row in block[(block >= 0x80).any(axis=1)]:
                            codecs.utf_8_decode(row.tobytes(), "strict", False)
                remaining -= k
        except UnicodeDecodeError:
            return False
    return True


def _dbf_text_cells(dbf: Path, *, max_cells: int = 5000, max_records: int = 65536) -> list[bytes]:
    """Field names and the non-ASCII text cells of a ``.dbf`` (trailing padding removed), for judging codecs.

    At most ``max_cells`` cells from the first ``max_records`` records: enough to tell UTF-8
    from GBK, cheap on a large table.
    """
    with dbf.open("rb") as fh:
        head = fh.read(32)
        if len(head) < 32:
            return []
        n_records = int.from_bytes(head[4:8], "little")
        header_len = int.from_bytes(head[8:10], "little")
        record_len = int.from_bytes(head[10:12], "little")
        names, fields = _dbf_text_fields(head + fh.read(max(header_len - 32, 0)))
        wide_names = [n for n in names if max(n, default=0) >= 0x80]
        if not fields or record_len == 0:
            return wide_names
        fh.seek(header_len)
        raw = fh.read(min(n_records, max_records) * record_len)
    k = len(raw) // record_len
    records = np.frombuffer(raw[: k * record_len], dtype=np.uint8).reshape(k, record_len)
    cells: list[bytes] = []
    for offset, length in fields:
        block = records[:, offset : offset + length]
        for row in block[(block >= 0x80).any(axis=1)]:
            cells.append(row.tobytes().rstrip(b" \x00"))
            if len(cells) >= max_cells:
                return cells + wide_names
    return cells + wide_names  # values first: they make the sample quoted in messages


def _is_cjk(ch: str) -> bool:
    """A Chinese character, CJK punctuation or a full-width form (what Chinese attribute text is made of)."""
    o = ord(ch)
    return 0x3000 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or 0xFF00 <= o <= 0xFFEF or 0x20000 <= o <= 0x2FFFF


def _decoding(cells: list[bytes], codec: str) -> tuple[bool, float, str]:
    """Whether every cell decodes in ``codec``, the share of CJK among the non-ASCII characters, a sample.

    A multi-byte character cut at the end of a full-width field (writers that truncate bytes)
    is tolerated in UTF-8.
    """
    texts = []
    try:
        for cell in cells:
            if codecs.lookup(codec).name == "utf-8":
                texts.append(codecs.utf_8_decode(cell, "strict", False)[0])
            else:
                texts.append(cell.decode(codec))
    except (UnicodeDecodeError, LookupError):
        return False, 0.0, ""
    wide = [ch for text in texts for ch in text if ord(ch) >= 0x80]
    share = sum(map(_is_cjk, wide)) / len(wide) if wide else 1.0
    sample = next((t.strip() for t in texts if t.strip()), "")
    return True, share, sample[:20]


#: Share of CJK among the non-ASCII characters above which a decoding reads as Chinese text.
_CJK_SHARE = 0.8


def _check_declared(path: Path, dbf: Path, codec: str, declared: str) -> tuple[str, str]:
    """The codec to read with when a ``.cpg`` declares ``codec``, and how it was chosen.

    The declaration is held against the bytes of the text fields: UTF-8 bytes declared GBK (or
    any other code page) are read as UTF-8 when they decode to Chinese text, with a warning;
    bytes the declared code page cannot decode, and that no other encoding reads as Chinese,
    are refused.
    """
    cells = _dbf_text_cells(dbf)
    if not cells:
        return codec, f"cpg:{declared}"
    fix = (
        f"write the right code page into {path.with_suffix('.cpg').name} (UTF-8 or GBK), or pass "
        "encoding='UTF-8' or encoding='GBK' to tz.io.read_layer"
    )
    ok, _, sample = _decoding(cells, codec)
    if codec != "utf-8":
        utf_ok, utf_share, utf_sample = _decoding(cells, "utf-8")
        if utf_ok and utf_share >= _CJK_SHARE and _dbf_is_utf8(dbf):
            seen = f" (read as {declared} they look like {sample!r})" if ok else ""
            logger.warning(
                "%s: the .cpg says %r but the attributes are UTF-8 text such as %r%s: read them as UTF-8; %s",
                path,
                declared,
                utf_sample,
                seen,
                fix,
            )
            return "UTF-8", f"repaired:UTF-8 (cpg:{declared})"
    if ok and (codec != "utf-8" or _dbf_is_utf8(dbf)):
        return codec, f"cpg:{declared}"
    found = _reads_as_chinese(cells, (settings.shapefile_fallback_encoding, "GB18030", "BIG5"))
    if found is not None:
        other, other_sample = found
        logger.warning(
            "%s: the .cpg says %r but the attributes are not valid %s; they read as %s text such as %r: "
            "read them as %s; %s",
            path,
            declared,
            codec.upper(),
            other,
            other_sample,
            other,
            fix,
        )
        return other, f"repaired:{other} (cpg:{declared})"
    msg = (
        f"{path}: the .cpg says {declared!r} but the attribute text is not valid {codec.upper()}, nor UTF-8, GBK, "
        f"GB18030 or Big5 Chinese text; {fix}"
    )
    raise InputFileError(msg, param="encoding")


# Code pages written in .cpg files by ArcGIS and others, as Python codec names.
_CODE_PAGES = {"65001": "UTF-8", "936": "GBK", "54936": "GB18030", "20936": "GB2312", "950": "BIG5"}


def _codec_from_cpg(text: str) -> str | None:
    """The Python codec a ``.cpg`` declares ("UTF-8", "936", "ANSI 936", "GBK" …), or None."""
    token = text.strip().upper()
    for prefix in ("ANSI ", "OEM ", "CP", "CODEPAGE "):
        if token.startswith(prefix) and token[len(prefix) :].strip().isdigit():
            token = token[len(prefix) :].strip()
    if token.isdigit():
        token = _CODE_PAGES.get(token, f"cp{token}")
    try:
        return codecs.lookup(token).name
    except LookupError:
        return None


def _check_codec(encoding: str) -> str:
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        msg = f"unknown text encoding {encoding!r}; use e.g. 'GBK', 'GB18030' or 'UTF-8'"
        raise OptionError(msg, param="encoding") from exc
    return encoding


def _shapefile_encoding(path: Path, encoding: str | None) -> tuple[str, str]:
    """Encoding to open a shapefile with, and how it was chosen (for logs and ``attrs``).

    Order: an explicit ``encoding``; the ``.cpg`` (code-page numbers such as ``936`` or
    ``ANSI 936`` understood, which GDAL alone does not); the ``.dbf`` bytes (UTF-8 if valid,
    else the fallback if it decodes them, else GB18030 or Big5 if one reads them as Chinese,
    else :class:`~tongzhen_gis.errors.InputFileError`). A ``.cpg`` that says UTF-8 over bytes
    that are not UTF-8 is treated as missing, with a warning, rather than producing garbled text.
    """
    if encoding is not None:
        return _check_codec(encoding), "explicit"
    dbf = next((p for p in (path.with_suffix(".dbf"), path.with_suffix(".DBF")) if p.exists()), None)
    cpg = next((p for p in (path.with_suffix(".cpg"), path.with_suffix(".CPG")) if p.exists()), None)
    fallback = settings.shapefile_fallback_encoding
    if cpg is not None:
        declared = cpg.read_text(encoding="ascii", errors="replace").strip()
        codec = _codec_from_cpg(declared)
        if codec is None:
            logger.warning("%s: the .cpg names an unknown encoding %r; guessing from the bytes", path, declared)
        elif dbf is None:
            return codec, f"cpg:{declared}"
        else:
            logger.debug("%s: encoding %r from %s, checked against the bytes", path, declared, cpg.name)
            return _check_declared(path, dbf, codec, declared)
    if dbf is None or _dbf_is_utf8(dbf):
        return "UTF-8", "detected:UTF-8"
    cells = _dbf_text_cells(dbf)
    if cells and not _decoding(cells, fallback)[0]:
        return _without_cpg(path, cells, fallback)
    logger.warning(
        "%s has no usable .cpg file and its attributes are not valid UTF-8: reading them as %s "
        "(tz.settings.shapefile_fallback_encoding); pass encoding=... if the text looks wrong",
        path,
        fallback,
    )
    return fallback, f"fallback:{fallback}"


def _without_cpg(path: Path, cells: list[bytes], fallback: str) -> tuple[str, str]:
    """The codec of a shapefile without ``.cpg`` whose text is neither UTF-8 nor ``fallback``.

    GB18030 (GBK's superset) and Big5 (traditional characters, Taiwan and Hong Kong data) are
    tried: one that reads the bytes as Chinese text is used, with a warning quoting a sample;
    otherwise the file is refused rather than read as garbled text.
    """
    found = _reads_as_chinese(cells, ("GB18030", "BIG5"))
    if found is not None:
        codec, sample = found
        logger.warning(
            "%s has no .cpg file and its attributes are neither UTF-8 nor %s; they read as %s text such as "
            "%r: read them as %s; pass encoding=... if the text looks wrong",
            path,
            fallback,
            codec,
            sample,
            codec,
        )
        return codec, f"detected:{codec}"
    msg = (
        f"{path}: no .cpg file, and the attribute text is not valid UTF-8, {fallback}, GB18030 or Big5 Chinese "
        f"text; pass the encoding (encoding='...' to tz.io.read_layer) or write its code page into "
        f"{path.with_suffix('.cpg').name}"
    )
    raise InputFileError(msg, param="encoding")


def _reads_as_chinese(cells: list[bytes], candidates: tuple[str, ...]) -> tuple[str, str] | None:
    """The first of ``candidates`` that decodes every cell into Chinese text, and a sample; None if none does."""
    for codec in dict.fromkeys(candidates):
        ok, share, sample = _decoding(cells, codec)
        if ok and share >= _CJK_SHARE:
            return codec, sample
    return None
