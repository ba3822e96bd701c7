"""What 南阳young exports: one CSV file a day, GBK-encoded, Windows line endings.

A file is read line by line (split on `\\n`, each line decoded on its own) so that one line
with a broken byte or a missing cell is refused with its line number while the rest of the file
is imported. Cells never span lines in these exports (the platform writes no line breaks into
its cells), which is what makes line-by-line reading sound; a file edited by hand that breaks a
cell over lines has both halves refused, each as a line that is not well-formed CSV or has the
wrong number of cells.

An export is read as a stream (`read_export`), a line at a time, so that a file of any size is
imported in bounded memory; a line longer than any export writes is refused unread. Each record
comes with where the next line starts, so that an import interrupted after a chunk of records
resumes there (adapters.base.file_import).
"""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Iterator
from typing import Any, BinaryIO

from adapters.base.file_import import FilePosition, FileRecord
from adapters.base.records import NativeRecord

HEADER = ("流水号", "身份证号", "姓名", "积分类型", "积分", "发生日期", "备注")
ENCODING = "gbk"
# A file staff re-saved as "CSV UTF-8" in Excel: recognized by its header alone, so a wrong
# guess can only produce unknown categories (quarantined), never a different mapping.
FALLBACK_ENCODING = "utf-8"
UTF8_BOM = b"\xef\xbb\xbf"
# A line of an export is about 70 bytes; one far longer is not an export's line, and is refused
# without being held in memory whole.
LINE_BYTES_MAX = 64 * 1024
FIRST_DATA_LINE = 2  # the header is line 1


def native_records(data: bytes, prefix: str) -> list[NativeRecord]:
    """Each data line of the file is a record located as `{prefix} line {n}` (header = 1)."""
    return [item.record for item in read_export(io.BytesIO(data), prefix)]


def read_export(stream: BinaryIO, prefix: str,
                resume: FilePosition | None = None) -> Iterator[FileRecord]:
    """The records of an export, one line at a time, from the start or from `resume` (where an
    earlier read left off: the header is read again first, for the file's encoding)."""
    stream.seek(0)
    header = (_line(stream)[0] or b"").removeprefix(UTF8_BOM)
    encoding = _encoding_of(header)
    if encoding is None:
        record = NativeRecord(prefix, header.decode(ENCODING, errors="replace"),
                              unreadable=f"the header is not {','.join(HEADER)}")
        yield FileRecord(record, FilePosition(stream.tell(), FIRST_DATA_LINE))
        return
    number = FIRST_DATA_LINE
    if resume is not None:
        stream.seek(resume.offset)
        number = resume.line
    while True:
        line, whole = _line(stream)
        if line is None:
            return
        location = f"{prefix} line {number}"
        number += 1
        if not whole:
            refused = NativeRecord(location, "(the line is not kept)",
                                   unreadable=f"the line is longer than {LINE_BYTES_MAX} bytes")
            yield FileRecord(refused, FilePosition(stream.tell(), number))
        elif line.strip():
            yield FileRecord(_record(line, encoding, location),
                             FilePosition(stream.tell(), number))


def _line(stream: BinaryIO) -> tuple[bytes | None, bool]:
    """The next line without its line ending (None at the end of the file), and whether it was
    whole: a line longer than LINE_BYTES_MAX is skipped to its end and comes back empty."""
    line = stream.readline(LINE_BYTES_MAX + 1)
    if not line:
        return None, True
    if len(line) > LINE_BYTES_MAX and not line.endswith(b"\n"):
        while (rest := stream.readline(LINE_BYTES_MAX)) and not rest.endswith(b"\n"):
            pass
        return b"", False
    return line.removesuffix(b"\n").removesuffix(b"\r"), True


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
