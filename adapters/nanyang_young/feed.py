"""What 南阳young exports: one CSV file a day, GBK-encoded, Windows line endings.

A file is read line by line (split on `\\n`, each line decoded on its own) so that one line
with a broken byte or a missing cell is refused with its line number while the rest of the file
is imported. Cells never span lines in these exports (the platform writes no line breaks into
its cells), which is what makes line-by-line reading sound; a file edited by hand that breaks a
cell over lines has both halves refused, each as a line that is not well-formed CSV or has the
wrong number of cells.
"""

from __future__ import annotations

import contextlib
import csv
import io
from typing import Any

from adapters.base.records import NativeRecord

HEADER = ("流水号", "身份证号", "姓名", "积分类型", "积分", "发生日期", "备注")
ENCODING = "gbk"
# A file staff re-saved as "CSV UTF-8" in Excel: recognized by its header alone, so a wrong
# guess can only produce unknown categories (quarantined), never a different mapping.
FALLBACK_ENCODING = "utf-8"
UTF8_BOM = b"\xef\xbb\xbf"


def native_records(data: bytes, prefix: str) -> list[NativeRecord]:
    """Each data line of the file is a record located as `{prefix} line {n}` (header = 1)."""
    lines = data.removeprefix(UTF8_BOM).split(b"\n")
    header = lines[0].removesuffix(b"\r")
    encoding = _encoding_of(header)
    if encoding is None:
        return [NativeRecord(prefix, data.decode(ENCODING, errors="replace"),
                             unreadable=f"the header is not {','.join(HEADER)}")]
    records = []
    for number, line in enumerate(lines[1:], start=2):
        line = line.removesuffix(b"\r")
        if line.strip():
            records.append(_record(line, encoding, f"{prefix} line {number}"))
    return records


def payload(records: list[dict[str, Any]]) -> bytes:
    """The export as the platform writes it: GBK, a header, `\\r\\n` after every line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    for record in records:
        writer.writerow(["" if record.get(name) is None else record[name] for name in HEADER])
    return buffer.getvalue().encode(ENCODING)


def _encoding_of(header: bytes) -> str | None:
    for encoding in (ENCODING, FALLBACK_ENCODING):
        try:
            text = header.decode(encoding).lstrip("\ufeff")
        except UnicodeDecodeError:
            continue
        with contextlib.suppress(csv.Error):  # not our header either
            if tuple(cell.strip() for cell in _cells(text)) == HEADER:
                return encoding
    return None


def _record(line: bytes, encoding: str, location: str) -> NativeRecord:
    try:
        text = line.decode(encoding)
    except UnicodeDecodeError:
        return NativeRecord(location, line.decode(encoding, errors="replace"),
                            unreadable=f"the line is not {encoding.upper()} text")
    try:
        cells = _cells(text)
    except csv.Error as error:
        return NativeRecord(location, text, unreadable=f"the line is not well-formed CSV ({error})")
    if len(cells) != len(HEADER):
        return NativeRecord(location, text, unreadable=f"the line has {len(cells)} cells, "
                                                       f"the header {len(HEADER)}")
    return NativeRecord(location, text, dict(zip(HEADER, cells, strict=True)))


def _cells(text: str) -> list[str]:
    """The line's cells; raises csv.Error for a line that is not well-formed CSV.

    Strict: csv otherwise reads an unclosed quote to the end of the line, and a cell broken
    over two lines would import its first half as a whole record."""
    return next(csv.reader([text], strict=True), [])
