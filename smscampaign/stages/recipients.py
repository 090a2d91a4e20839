"""Load a recipient list from whatever spreadsheet people really have, every cell as exact text.

Excel (``.xlsx``/``.xlsm``/``.xls``, via calamine, openpyxl as fallback), OpenDocument (``.ods``),
CSV/TSV/TXT in UTF-8 (with or without BOM), UTF-16 or GBK/GB18030, an open file, a bytes buffer,
or a DataFrame. The phone column is found by header or content
(:func:`~smscampaign.stages.numbers.detect_phone_column`) and recorded in ``df.attrs["phone_column"]``;
``source_row`` is the row a person sees in the sheet.

>>> df = load_recipients("sample_data/recipients.xlsx")        # doctest: +SKIP
>>> df.attrs["phone_column"], df["source_row"].iloc[0]          # doctest: +SKIP
('手机号码', 2)
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import mmap
import os
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any, Final, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from smscampaign.core.allocator import release_memory
from smscampaign.core.dtypes import TEXT
from smscampaign.core.errors import ConfigError, RecipientsError
from smscampaign.stages.cells import as_text
from smscampaign.stages.numbers import detect_phone_column

__all__ = ["EXCEL_SUFFIXES", "MAX_CELLS", "MAX_UNPACKED_BYTES", "TEXT_SUFFIXES", "load_recipients"]

logger = logging.getLogger(__name__)

EXCEL_SUFFIXES: Final = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
TEXT_SUFFIXES: Final = (".csv", ".tsv", ".txt")
_ZIP_MAGIC: Final = b"PK\x03\x04"
_OLE_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_DELIMITERS: Final = (",", "\t", ";", "|")

Source: TypeAlias = str | os.PathLike[str] | IO[bytes] | IO[str] | bytes | pd.DataFrame


# --------------------------------------------------------------------------------------------------
# Raw grids -> frames of text


def _unique_headers(cells: Sequence[str | None]) -> list[str]:
    """Header texts made usable as column names: blanks named ``Unnamed: i``, repeats ``name.1``."""
    seen: dict[str, int] = {}
    names = []
    for i, cell in enumerate(cells):
        name = cell.strip() if cell is not None and cell.strip() else f"Unnamed: {i}"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        seen.setdefault(name, 0)
        names.append(name)
    return names


def _frame(
    columns: list[pd.Series], first_row: int = 1, headers: Sequence[str | None] | None = None
) -> pd.DataFrame:
    """A frame from text columns whose first value is the header (sheet row ``first_row``), or
    from data columns and their ``headers`` (the header is then row ``first_row``).

    Adds ``source_row`` and drops rows with no cell at all (their row numbers stay with the others).
    """
    if headers is None:
        headers = [None if pd.isna(c.iloc[0]) else c.iloc[0] for c in columns]
        columns = [col.iloc[1:].reset_index(drop=True) for col in columns]
    names = _unique_headers(headers)
    df = pd.DataFrame(dict(zip(names, columns, strict=True)))
    source_row = np.arange(first_row + 1, first_row + 1 + len(df), dtype=np.int64)
    if "source_row" in df.columns:
        df = df.rename(columns={"source_row": "source_row_original"})
    df.insert(0, "source_row", pd.Series(source_row, index=df.index, copy=False))  # not copied
    filled = df.drop(columns="source_row").notna().any(axis=1)
    if filled.all():  # the usual case: no copy
        return df
    return df.loc[filled].reset_index(drop=True)


def _grid_frame(grid: pd.DataFrame) -> pd.DataFrame:
    """A header-less grid of raw cells (row 0 = sheet row 1) to a frame of text."""
    return _frame([as_text(grid[c]) for c in grid.columns])


# --------------------------------------------------------------------------------------------------
# Text files


def _utf16_without_bom(raw: bytes) -> str | None:
    """The UTF-16 codec a BOM-less file is written in ("utf-16-le"/"-be"), judged by where its
    NUL bytes fall in the first 4 KiB (ASCII text in UTF-16 has one beside every character);
    None if the file has no NUL byte there."""
    head = raw[:4096]
    if b"\x00" not in head:
        return None
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if odd > 2 * even and odd >= len(head) // 8:
        return "utf-16-le"
    if even > 2 * odd and even >= len(head) // 8:
        return "utf-16-be"
    raise RecipientsError(
        "the file contains NUL bytes: it is not UTF-8 or GBK text (a spreadsheet saved under a .csv "
        "name, or UTF-16 that cannot be recognised); save it as CSV UTF-8, or pass encoding="
    )


def _is_utf8(data: memoryview) -> bool:
    """Whether ``data`` is valid UTF-8, checked by Arrow without building a Python str."""
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64))
    array = pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(data)])
    try:
        array.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _decode(raw: bytes, encoding: str) -> str:
    try:
        return raw.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise RecipientsError(f"cannot decode the file as {encoding}: {exc}") from exc


def _as_utf8(raw: bytes, encoding: str | None) -> tuple[memoryview, str]:
    """The content as UTF-8 bytes without a BOM (a view of ``raw`` when it already is), and the
    encoding it was read as: ``encoding`` if given, else UTF-16 by BOM (or by its NUL bytes),
    UTF-8 (BOM or not), else GB18030."""
    if encoding is not None:
        try:
            is_utf8 = codecs.lookup(encoding).name == "utf-8"
        except LookupError as exc:
            raise RecipientsError(f"unknown encoding {encoding!r}") from exc
        if is_utf8 and _is_utf8(memoryview(raw)):
            return memoryview(raw)[3 if raw.startswith(codecs.BOM_UTF8) else 0 :], encoding
        return memoryview(_decode(raw, encoding).encode("utf-8")), encoding
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return memoryview(_decode(raw, "utf-16").encode("utf-8")), "utf-16"
    utf16 = _utf16_without_bom(raw)
    if utf16 is not None:
        return memoryview(_decode(raw, utf16).encode("utf-8")), utf16
    view = memoryview(raw)[3 if raw.startswith(codecs.BOM_UTF8) else 0 :]
    if _is_utf8(view):
        return view, "utf-8"
    try:
        # GB18030 is a superset of GBK and GB2312: what Chinese Excel writes as "CSV".
        return memoryview(raw.decode("gb18030").encode("utf-8")), "gb18030"
    except UnicodeDecodeError as exc:
        raise RecipientsError(
            "cannot decode the file: it is neither UTF-8 nor GBK/GB18030 (nor UTF-16); pass encoding="
        ) from exc


def _delimiter(header: str, default: str) -> str:
    """The delimiter of the header line: the most frequent of , TAB ; | (``default`` if none)."""
    counts = {d: header.count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: (counts[d], d == default))
    return best if counts[best] else default


def _header(head: bytes, suffix: str) -> tuple[str, list[str]]:
    """The delimiter and the header cells, from the first line of UTF-8 text."""
    head = head.removeprefix(codecs.BOM_UTF8)
    first_line = head[: head.find(b"\n") if b"\n" in head else len(head)].decode("utf-8", "replace")
    delimiter = _delimiter(first_line, "\t" if suffix == ".tsv" else ",")
    return delimiter, next(csv.reader(io.StringIO(first_line), delimiter=delimiter))


def _arrow_csv(
    source: str | pa.NativeFile, delimiter: str, header: list[str], *, quoted: bool = True
) -> pd.DataFrame:
    """Arrow's CSV reader on UTF-8 text, every field a string; ArrowInvalid if it cannot.

    ``quoted=False`` says the text has no ``"``: no field can then hold a line break, and Arrow
    splits the rows by the cheaper rule (the parse takes about half the time).
    """
    names = [f"f{i}" for i in range(len(header))]
    table = pacsv.read_csv(
        source,
        read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
        parse_options=pacsv.ParseOptions(
            delimiter=delimiter, newlines_in_values=quoted, ignore_empty_lines=False
        ),
        convert_options=pacsv.ConvertOptions(
            # large_string: what a TEXT column holds, so no column is cast (copied) afterwards
            column_types={n: pa.large_string() for n in names},
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
            null_values=[""],
        ),
        memory_pool=pa.system_memory_pool(),
    )
    columns = [pd.Series(pd.array(table.column(n), dtype=TEXT)) for n in names]
    del table
    # Hand back the pages the allocators kept from the parser's buffers (~0.15 GB at 10M rows).
    release_memory()
    return _frame(columns, headers=[h or None for h in header])


def _has_quote(path: Path) -> bool:
    """Whether the file holds a ``"`` anywhere (one memchr pass over a memory map; no copy)."""
    with path.open("rb") as file:
        if not os.fstat(file.fileno()).st_size:
            return False
        with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as view:
            return view.find(b'"') >= 0


def _read_text_file(path: Path, *, suffix: str, encoding: str | None) -> tuple[pd.DataFrame, str]:
    """:func:`_read_text` for a file: UTF-8 text is streamed by Arrow from the file itself (the
    file is never held in memory whole); anything else is read and goes through the bytes."""
    with path.open("rb") as file:
        head = file.read(1 << 20)
    try:
        utf8_named = encoding is None or codecs.lookup(encoding).name == "utf-8"
    except LookupError as exc:
        raise RecipientsError(f"unknown encoding {encoding!r}") from exc
    plain = not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and b"\x00" not in head
    if utf8_named and plain and head.strip() and _is_utf8(memoryview(head[: head.rfind(b"\n") + 1])):
        delimiter, header = _header(head, suffix)
        try:  # Arrow skips a UTF-8 BOM and refuses invalid UTF-8 (then: the bytes path below)
            quoted = _has_quote(path)
            return _arrow_csv(str(path), delimiter, header, quoted=quoted), encoding or "utf-8"
        except pa.ArrowInvalid as exc:
            logger.info("streaming the file failed (%s); reading it whole", exc)
    return _read_text(path.read_bytes(), suffix=suffix, encoding=encoding)


def _read_text(raw: bytes, *, suffix: str, encoding: str | None) -> tuple[pd.DataFrame, str]:
    """Parse delimited text into a frame of text: every field a string, empty fields <NA>.

    The bytes go to Arrow's CSV reader as they are (no Python str of the whole file is made).
    """
    utf8, used = _as_utf8(raw, encoding)
    if re.fullmatch(rb"\s*", utf8):
        raise RecipientsError("the file is empty")
    delimiter, header = _header(bytes(utf8[: 1 << 20]), suffix)
    quoted = bool(np.any(np.frombuffer(utf8, dtype=np.uint8) == ord('"')))
    try:
        return _arrow_csv(pa.BufferReader(pa.py_buffer(utf8)), delimiter, header, quoted=quoted), used
    except pa.ArrowInvalid as exc:
        # Ragged rows (more or fewer fields than the header): slower, forgiving path.
        logger.info("pyarrow could not parse the file (%s); using the csv module", exc)
        text = bytes(utf8).decode("utf-8")
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        width = max(len(r) for r in rows)
        grid = [r + [""] * (width - len(r)) for r in rows]
        columns = [pd.Series([row[i] or None for row in grid], dtype=TEXT) for i in range(width)]
        return _frame(columns), used


# --------------------------------------------------------------------------------------------------
# Spreadsheets


#: Default bounds of :func:`load_recipients` for spreadsheets, checked before any cell is read.
MAX_CELLS: Final = 20_000_000  # rows × columns a sheet spans: ~1M rows of 20 columns
MAX_UNPACKED_BYTES: Final = 1 << 30  # the workbook's parts, uncompressed
_CHUNK: Final = 4 << 20
_WINDOW: Final = 14  # after ``r="``: up to 3 letters, 9 digits and the closing quote
_CARRY: Final = 64  # bytes each chunk keeps from the one before
_DIMENSION: Final = re.compile(rb'dimension\s+ref=["\'](?:[A-Z]+[0-9]+:)?([A-Z]{1,3})([0-9]{1,9})["\']')
_XML_SPACE: Final = (0x20, 0x09, 0x0A, 0x0D)
_QUOTES: Final = (0x22, 0x27)


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _cell_refs_extent(data: np.ndarray, first: int) -> tuple[int, int]:
    """(furthest row, furthest column) of the cell references ``r="XFD1048576"`` whose ``=``
    lies in ``data[first : len(data) - 2 - _WINDOW]``, vectorised (a worksheet holds millions);
    a row element's ``r="5"`` has no letters and does not count."""
    first = max(first, 2)
    end = len(data) - 2 - _WINDOW
    if end <= first:
        return 0, 0
    equals = np.flatnonzero(data[first:end] == ord("=")) + first
    before, name, quote = data[equals - 2], data[equals - 1], data[equals + 1]
    keep = (name == ord("r")) & (
        (before == 0x20) | (before == 0x09) | (before == 0x0A) | (before == 0x0D)
    )
    keep &= (quote == 0x22) | (quote == 0x27)
    starts = equals[keep] + 2
    if not len(starts):
        return 0, 0
    window = data[starts[:, None] + np.arange(_WINDOW)]
    letters = np.argmin((window >= ord("A")) & (window <= ord("Z")), axis=1)
    closing = np.argmax((window == 0x22) | (window == 0x27), axis=1)
    digits = closing - letters
    ok = (letters >= 1) & (letters <= 3) & (digits >= 1) & (digits <= 9)
    if not ok.any():
        return 0, 0
    window, letters, digits = window[ok], letters[ok], digits[ok]
    columns = 0
    for width in np.unique(letters).tolist():  # 1, 2 or 3 letters: each a base-26 number
        part = window[letters == width, :width].astype(np.int64) - (ord("A") - 1)
        columns = max(columns, int((part @ (26 ** np.arange(width - 1, -1, -1))).max()))
    longest = digits == digits.max()  # the furthest row has the most digits
    width = int(digits.max())
    part = window[longest].astype(np.int64)
    positions = letters[longest][:, None] + np.arange(width)
    values = np.take_along_axis(part, positions, axis=1) - ord("0")
    if (values < 0).any() or (values > 9).any():
        values = np.clip(values, 0, 9)  # not a reference calamine reads; bounded all the same
    rows = int((values @ (10 ** np.arange(width - 1, -1, -1))).max())
    return rows, columns


def _scan_part(stream: IO[bytes]) -> tuple[int, int]:
    """(rows, columns) a worksheet part spans: its furthest cell reference or its declared
    dimension, whichever is further; streamed, never held whole."""
    rows = columns = 0
    carry = b""
    dimension_seen = False
    while True:
        chunk = stream.read(_CHUNK)
        data = carry + chunk
        if not dimension_seen and (at := data.find(b"dimension")) >= 0:
            found = _DIMENSION.match(data, at)
            if found:
                dimension_seen = True
                rows, columns = max(rows, int(found.group(2))), _column_number(found.group(1))
        # Pad the last chunk so that its final references fall inside a full window.
        array = np.frombuffer(data if chunk else data + b" " * (2 + _WINDOW), dtype=np.uint8)
        found_rows, found_columns = _cell_refs_extent(array, len(carry) - 2 - _WINDOW)
        rows, columns = max(rows, found_rows), max(columns, found_columns)
        if not chunk:
            return rows, columns
        # Kept for the next pass: its "=" from len - 2 - _WINDOW on were not scanned, and a
        # dimension cut at the chunk's end is found whole.
        carry = data[-_CARRY:]


def _check_workbook(source: Path | io.BytesIO, *, max_cells: int, max_unpacked_bytes: int) -> None:
    """Refuse a zipped workbook (xlsx, xlsm, xlsb, ods) whose parts unpack to more than
    ``max_unpacked_bytes``, or an xlsx/xlsm sheet spanning more than ``max_cells`` cells — before a
    reader allocates room for them (one cell at ``XFD1048576`` would make calamine ask for 512 GB)."""
    if not zipfile.is_zipfile(source):
        return  # .xls (OLE) is bounded by its format: 65,536 × 256 cells
    if isinstance(source, io.BytesIO):
        source.seek(0)
    try:
        with zipfile.ZipFile(source) as archive:
            parts = archive.infolist()
            unpacked = sum(part.file_size for part in parts)
            if unpacked > max_unpacked_bytes:
                raise RecipientsError(
                    f"the workbook unpacks to {unpacked / 2**20:,.0f} MiB, more than the "
                    f"{max_unpacked_bytes / 2**20:,.0f} MiB allowed (max_unpacked_bytes=)"
                )
            for part in parts:
                name = part.filename
                if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
                    continue  # (.xlsb sheets are binary, .ods ones have no cell references)
                with archive.open(part) as stream:
                    rows, columns = _scan_part(stream)
                if rows * columns > max_cells:
                    raise RecipientsError(
                        f"worksheet {name} spans {rows:,} rows × {columns:,} columns = "
                        f"{rows * columns:,} cells, more than the {max_cells:,} allowed (max_cells=)"
                    )
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as exc:
        raise RecipientsError(f"cannot read the workbook: {exc}") from exc
    finally:
        if isinstance(source, io.BytesIO):
            source.seek(0)


class _Workbook:
    """An Excel/ODS workbook read with calamine, falling back to openpyxl for .xlsx/.xlsm."""

    def __init__(self, source: Path | io.BytesIO, *, suffix: str) -> None:
        self.source = source
        try:
            self.book = pd.ExcelFile(source, engine="calamine")
        except Exception as calamine_error:  # calamine raises its own types; any means unreadable
            if suffix not in (".xlsx", ".xlsm", ""):
                raise RecipientsError(f"cannot read the workbook: {calamine_error}") from None
            logger.info("calamine could not open the workbook (%s); trying openpyxl", calamine_error)
            if isinstance(source, io.BytesIO):
                source.seek(0)
            try:
                self.book = pd.ExcelFile(source, engine="openpyxl")
            except Exception as exc:
                raise RecipientsError(f"cannot read the workbook: {exc}") from exc

    @property
    def sheet_names(self) -> list[str]:
        return [str(name) for name in self.book.sheet_names]

    def sheet(self, name: str) -> pd.DataFrame | None:
        """The sheet as a frame of text, or None when it has no cells at all."""
        try:
            grid = pd.read_excel(self.book, sheet_name=name, header=None, dtype=object, na_filter=False)
        except Exception as exc:
            raise RecipientsError(f"cannot read sheet {name!r}: {exc}") from exc
        # na_filter=False keeps "NA" and "null" as the text they are; empty cells arrive as "".
        grid = grid.replace("", None) if len(grid) else grid
        if grid.empty:
            return None
        return _grid_frame(grid)

    def close(self) -> None:
        self.book.close()


def _read_workbook(
    source: Path | io.BytesIO,
    *,
    suffix: str,
    sheet_name: str | int | None,
    phone_column: str | None,
    max_cells: int,
    max_unpacked_bytes: int,
) -> pd.DataFrame:
    _check_workbook(source, max_cells=max_cells, max_unpacked_bytes=max_unpacked_bytes)
    book = _Workbook(source, suffix=suffix)
    try:
        names = book.sheet_names
        if sheet_name is not None:
            if isinstance(sheet_name, int) and not isinstance(sheet_name, bool):
                if not 0 <= sheet_name < len(names):
                    raise RecipientsError(
                        f"no sheet number {sheet_name}; the sheets are: {', '.join(names)}"
                    )
                sheet_name = names[sheet_name]
            if sheet_name not in names:
                raise RecipientsError(f"no sheet {sheet_name!r}; the sheets are: {', '.join(names)}")
            df = book.sheet(sheet_name)
            if df is None:
                raise RecipientsError(f"sheet {sheet_name!r} is empty")
            _set_phone_column(df, phone_column, where=f"sheet {sheet_name!r}")
            df.attrs["sheet_name"] = sheet_name
            return df
        seen: list[str] = []
        for name in names:
            df = book.sheet(name)
            if df is None:
                seen.append(f"{name!r}: empty")
                continue
            column = phone_column if phone_column in df.columns else None
            column = column if phone_column is not None else detect_phone_column(df)
            if column is not None:
                df.attrs["phone_column"] = column
                df.attrs["sheet_name"] = name
                logger.info("using sheet %r, phone column %r", name, column)
                return df
            seen.append(f"{name!r}: {', '.join(c for c in df.columns if c != 'source_row')}")
        if all(entry.endswith(": empty") for entry in seen):
            raise RecipientsError("the workbook is empty")
        wanted = f"column {phone_column!r}" if phone_column else "phone column"
        raise RecipientsError(f"no {wanted} in any sheet; columns seen: {'; '.join(seen)}")
    finally:
        book.close()


def _set_phone_column(df: pd.DataFrame, phone_column: str | None, *, where: str) -> None:
    columns = ", ".join(c for c in df.columns if c != "source_row")
    if phone_column is not None:
        if phone_column not in df.columns:
            raise RecipientsError(f"no column {phone_column!r} in {where}; columns: {columns}")
        column: str | None = phone_column
    else:
        column = detect_phone_column(df)
        if column is None:
            raise RecipientsError(f"no phone column in {where}; columns: {columns}")
    df.attrs["phone_column"] = column
    logger.info("phone column %r in %s", column, where)


# --------------------------------------------------------------------------------------------------
# Entry point


def _kind(suffix: str, head: bytes) -> str:
    if suffix in EXCEL_SUFFIXES:
        return "excel"
    if suffix in TEXT_SUFFIXES:
        return "text"
    return "excel" if head.startswith((_ZIP_MAGIC, _OLE_MAGIC)) else "text"


def load_recipients(
    source: Source,
    *,
    sheet_name: str | int | None = None,
    phone_column: str | None = None,
    encoding: str | None = None,
    max_cells: int = MAX_CELLS,
    max_unpacked_bytes: int = MAX_UNPACKED_BYTES,
) -> pd.DataFrame:
    """Load a recipient list; every cell as exact text (dtype ``string``), empty cells <NA>.

    ``source`` is a path (``.xlsx .xlsm .xls .xlsb .ods .csv .tsv .txt``), an open file (binary or
    text), ``bytes``, or a DataFrame (its cells are converted the same way; it is not mutated).
    Whole-number cells become their integer digits — never ``1.38e10`` or ``…0.0``.

    ``sheet_name=None`` takes the first sheet with a phone column. ``phone_column=None`` detects it
    by header (手机, 手机号码, 电话, mobile, phone, tel …) or else by content; the choice is in
    ``df.attrs["phone_column"]`` (and the sheet in ``df.attrs["sheet_name"]``). CSV files are read
    as UTF-8 (BOM or not), UTF-16 by BOM, else GBK/GB18030, unless ``encoding`` is given
    (``df.attrs["encoding"]`` says which). ``source_row`` is the row number a person sees in the
    sheet (header = row 1); rows with no cell at all are left out.

    A workbook is checked before any cell is read: its parts must unpack to at most
    ``max_unpacked_bytes`` and each sheet span at most ``max_cells`` cells (rows × columns, by its
    furthest cell and its declared dimension), so that no file can exhaust memory.

    Raises :class:`RecipientsError` for a missing or unreadable file, a workbook over those bounds,
    text in no recognisable encoding, an empty sheet, an unknown sheet, or no phone column (the
    message names the columns seen).

    >>> df = load_recipients(pd.DataFrame({"姓名": ["张三"], "手机": [13800138000]}))
    >>> df.attrs["phone_column"], df.loc[0, "手机"], int(df.loc[0, "source_row"])
    ('手机', '13800138000', 2)
    """
    if isinstance(source, pd.DataFrame):
        if source.shape[1] == 0:
            raise RecipientsError("the DataFrame has no columns")
        df = pd.DataFrame({str(c): as_text(source[c]).reset_index(drop=True) for c in source.columns})
        if "source_row" in source.columns:
            df["source_row"] = source["source_row"].to_numpy()
        else:
            df.insert(0, "source_row", np.arange(2, len(df) + 2, dtype=np.int64))
        df.attrs.update(source.attrs)
        _set_phone_column(df, phone_column, where="the DataFrame")
        return df

    name, raw, path, text_mode = _open(source)
    if text_mode:
        encoding = "utf-8"  # a text-mode file was decoded by its opener; _open re-encoded it
    suffix = Path(name).suffix.lower() if name else ""
    if _kind(suffix, raw[:8]) == "excel":
        df = _read_workbook(
            path if path is not None else io.BytesIO(raw),
            suffix=suffix,
            sheet_name=sheet_name,
            phone_column=phone_column,
            max_cells=max_cells,
            max_unpacked_bytes=max_unpacked_bytes,
        )
    else:
        if sheet_name not in (None, 0):
            raise RecipientsError(f"no sheet {sheet_name!r}: a text file has a single sheet")
        if path is not None:
            df, used = _read_text_file(path, suffix=suffix, encoding=encoding)
        else:
            df, used = _read_text(raw, suffix=suffix, encoding=encoding)
        df.attrs["encoding"] = used
        _set_phone_column(df, phone_column, where=name or "the text")
    if name:
        df.attrs["source"] = name
    logger.info("loaded %d recipients from %s", len(df), name or "a buffer")
    return df


def _magic(path: Path) -> bytes:
    with path.open("rb") as file:
        return file.read(8)


def _open(source: Any) -> tuple[str, bytes, Path | None, bool]:
    """(name, content, path, text mode) of a path, open file or bytes; RecipientsError if not.

    For a path the content is its first 8 bytes (the readers read the file themselves)."""
    if isinstance(source, bytes | bytearray | memoryview):
        return "", bytes(source), None, False
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            return str(path), _magic(path), path, False  # the content is read by the reader
        except FileNotFoundError:
            raise RecipientsError(f"no such file: {path}") from None
        except OSError as exc:
            raise RecipientsError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if hasattr(source, "read"):
        content = source.read()
        name = str(getattr(source, "name", "") or "")
        if isinstance(content, str):
            return name, content.encode("utf-8"), None, True
        return name, bytes(content), None, False
    raise ConfigError(
        f"cannot load recipients from a {type(source).__name__}: "
        "pass a path, a file object, bytes or a DataFrame"
    )
