"""Text encodings of shapefile attributes: ``.cpg`` code pages, UTF-8 detection in the ``.dbf``, GBK fallback.

A shapefile without a ``.cpg`` whose attribute bytes are not UTF-8 is read as GBK
(:data:`tongzhen_gis.settings.shapefile_fallback_encoding`), and the choice is logged.
"""

from __future__ import annotations

import codecs
import logging
from pathlib import Path

import numpy as np

from tongzhen_gis import settings
from tongzhen_gis.errors import OptionError

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
    else the fallback). A ``.cpg`` that says UTF-8 over bytes that are not UTF-8 is treated as
    missing, with a warning, rather than producing garbled text.
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
        elif codec != "utf-8" or dbf is None or _dbf_is_utf8(dbf):
            logger.debug("%s: encoding %r from %s", path, declared, cpg.name)
            return codec, f"cpg:{declared}"
        else:
            logger.warning(
                "%s: the .cpg says %r but the attributes are not valid UTF-8: reading them as %s; "
                "pass encoding=... if the text looks wrong",
                path,
                declared,
                fallback,
            )
            return fallback, f"fallback:{fallback}"
    if dbf is None or _dbf_is_utf8(dbf):
        return "UTF-8", "detected:UTF-8"
    logger.warning(
        "%s has no usable .cpg file and its attributes are not valid UTF-8: reading them as %s "
        "(tz.settings.shapefile_fallback_encoding); pass encoding=... if the text looks wrong",
        path,
        fallback,
    )
    return fallback, f"fallback:{fallback}"
