"""Chinese mobile numbers: normalise, validate, de-duplicate, look up carrier, region and city.

Every row comes back accounted for (``ok``, ``invalid`` with a reason, or ``duplicate`` of which
row), computed column-wise (Arrow kernels, then numpy on the cells' bytes). Google's phonenumbers
decides validity, carrier and region, asked once per 7-digit prefix into a table that ships with
the package (rebuilt when another phonenumbers is installed); the ``phone`` package's 号段 database
adds city and area code, read once per process into the same kind of table. Never once per row.

>>> import pandas as pd
>>> df = pd.DataFrame({"手机号": ["+86 138-0013-8000", "13800138000.0", "1.38001E+10"]})
>>> check_numbers(df)["status"].tolist()
['ok', 'duplicate', 'invalid']
>>> check_numbers(df)["reason"].tolist()
[<NA>, 'duplicate of row 0', 'digits lost to scientific notation']

This module also owns phone-column detection (:data:`PHONE_HEADERS`, :func:`detect_phone_column`)
and cell-to-text conversion (:func:`as_text`), which :mod:`smscampaign.stages.recipients` shares.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import os
import re
import struct
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, TypeVar

import numpy as np
import pandas as pd
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc
from numpy.lib.stride_tricks import sliding_window_view
from phonenumbers import PhoneNumberType

from smscampaign.core.dtypes import TEXT
from smscampaign.core.errors import RecipientsError
from smscampaign.core.statuses import Reason, Status

__all__ = [
    "OUTPUT_COLUMNS",
    "PHONE_HEADERS",
    "PROVINCES",
    "TEXT",
    "UNKNOWN",
    "Reason",
    "Status",
    "as_text",
    "check_numbers",
    "detect_phone_column",
    "is_valid_mobile",
    "normalize_numbers",
    "province_of",
]

logger = logging.getLogger(__name__)
_T = TypeVar("_T")

#: Columns :func:`check_numbers` adds, in this order.
OUTPUT_COLUMNS: Final = ("mobile", "status", "reason", "carrier", "region", "city", "area_code")

#: The 34 province-level divisions as :func:`province_of` names them: 23 provinces, 5 autonomous
#: regions, 4 municipalities, 2 special administrative regions; anything else is :data:`UNKNOWN`.
PROVINCES: Final = (
    "北京市",
    "天津市",
    "上海市",
    "重庆市",
    "河北省",
    "山西省",
    "辽宁省",
    "吉林省",
    "黑龙江省",
    "江苏省",
    "浙江省",
    "安徽省",
    "福建省",
    "江西省",
    "山东省",
    "河南省",
    "湖北省",
    "湖南省",
    "广东省",
    "海南省",
    "四川省",
    "贵州省",
    "云南省",
    "陕西省",
    "甘肃省",
    "青海省",
    "台湾省",
    "内蒙古自治区",
    "广西壮族自治区",
    "西藏自治区",
    "宁夏回族自治区",
    "新疆维吾尔自治区",
    "香港特别行政区",
    "澳门特别行政区",
)
UNKNOWN: Final = "未知"
# Each division by the name it starts with in phonenumbers (内蒙古呼和浩特市, 广西南宁市) and in the
# 号段 database (内蒙古, 广西): its first two characters, three for 黑龙江 and 内蒙古.
_PROVINCE_STEMS: Final = {p[:3] if p[:3] in ("黑龙江", "内蒙古") else p[:2]: p for p in PROVINCES}

#: Headers that name a phone column, most specific first. Compared after :func:`_header_key`
#: (lower case, no spaces, punctuation or bracketed notes such as ``（必填）``).
PHONE_HEADERS: Final[tuple[str, ...]] = (
    "手机号码",
    "手机号",
    "手机",
    "移动电话",
    "联系手机",
    "联系电话",
    "电话号码",
    "电话",
    "号码",
    "联系方式",
    "接收号码",
    "mobile",
    "mobile number",
    "mobile phone",
    "cellphone",
    "cell phone",
    "cell",
    "phone",
    "phone number",
    "telephone",
    "tel",
    "msisdn",
    "receiver",
)
# Words that make a header a phone column wherever they occur in it ("客户手机号", "cust_mobile").
# Deliberately excludes 号码 (身份证号码, 订单号码 are not phones).
_HEADER_PARTS_ZH: Final = ("手机", "电话")
_HEADER_WORDS_EN: Final = frozenset({"mobile", "phone", "cellphone", "telephone", "tel", "msisdn"})
_CONTENT_SAMPLE: Final = 2000  # rows examined when scoring a column's content
_CONTENT_MIN_SHARE: Final = 0.5  # share of non-empty cells that must look like mobiles


# Shape codes computed before validity, indexing _SHAPE_REASONS (0 = 11 digits starting with "1").
_CANDIDATE, _EMPTY, _SCIENTIFIC, _FOREIGN, _NOT_DIGITS, _WRONG_LENGTH, _NOT_RANGE = range(7)
_SHAPE_REASONS: Final = (
    None,
    Reason.EMPTY,
    Reason.SCIENTIFIC,
    Reason.FOREIGN,
    Reason.NOT_DIGITS,
    Reason.WRONG_LENGTH,
    Reason.NOT_MOBILE_RANGE,
)

# Full-width forms typed with Chinese input methods, typographic quotes and dashes, exotic spaces,
# mapped to the ASCII a spreadsheet user meant. Only non-ASCII cells go through this.
_UNICODE_CLASSES: Final = (
    ("[\u00a0\u3000\u2000-\u200b\u202f\u205f\ufeff]", " "),
    ("[\u2010-\u2015\u2212\uff0d]", "-"),
    ("[\uff07\u2018\u2019]", "'"),
)
_FULL_WIDTH: Final = (
    *((chr(0xFF10 + i), str(i)) for i in range(10)),
    ("＋", "+"),
    ("（", "("),
    ("）", ")"),
    ("．", "."),
)
# The same mapping character by character, for the fast path (tests/test_numbers.py checks that
# _fix_unicode maps exactly these, over the whole Basic Multilingual Plane).
_TO_ASCII: Final = {
    **dict.fromkeys("\u00a0\u3000\u202f\u205f\ufeff", " "),
    **dict.fromkeys(map(chr, range(0x2000, 0x200C)), " "),
    **dict.fromkeys([*map(chr, range(0x2010, 0x2016)), "\u2212", "\uff0d"], "-"),
    **dict.fromkeys("\uff07\u2018\u2019", "'"),
    **dict(_FULL_WIDTH),
}
_LTRIM_CHARACTERS: Final = " \t\n\r\v\f'"  # Excel's "keep as text" apostrophe, ASCII whitespace
_SCIENTIFIC_RE: Final = r"^\+?\d+(\.\d+)?[eE]\+?\d+$"
_MOBILE_TYPES: Final = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)
# Validity of an 11-digit number is settled by its first 3 digits in phonenumbers' CN metadata, or
# 5 for a few ranges (``1740[0-5]``, ``1610\d``); _prefix_verdict probes each prefix and undecided
# ones are refined to longer prefixes, then to single numbers. tests/test_numbers.py compares the
# result with phonenumbers on every 5-digit prefix.
_PROBE_SUFFIXES: Final = ("0", "9", "5", "2")
# Every 7-digit prefix of an 11-digit number starting with 1, answered once in _PrefixTable.
_PREFIX_BASE: Final = 1_000_000
_PREFIX_COUNT: Final = 1_000_000
_NO, _YES, _ASK = 0, 1, 2
_PREFIX_FILE: Final = Path(__file__).parent.parent / "data" / "prefixes.npz"


# --------------------------------------------------------------------------------------------------
# Cells to text


def _cell_text(value: Any) -> str | None:
    """One spreadsheet or Python cell as the text a person sees; ``None`` for an empty cell."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        value = float(value)
        if math.isnan(value):
            return None
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))  # never "1.38e10", never "…0.0"
        return repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def as_text(values: pd.Series | Iterable[Any]) -> pd.Series:
    """Return the values as text (:data:`TEXT`): whole numbers as integer digits, empty as <NA>.

    Keeps the index of a Series; does not mutate the input.

    >>> as_text(pd.Series([13800138000.0, None, "x"])).tolist()
    ['13800138000', <NA>, 'x']
    """
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    dtype = series.dtype
    if isinstance(dtype, pd.StringDtype):
        try:
            return series.astype(TEXT)
        except UnicodeEncodeError:  # a lone surrogate in a python-backed string column
            return _clean_text([None if v is pd.NA else v for v in series.tolist()], series.index)
    if pd.api.types.is_bool_dtype(dtype):
        return pd.Series(
            [_cell_text(v) for v in series.to_numpy(dtype=object)], index=series.index, dtype=TEXT
        )
    if pd.api.types.is_integer_dtype(dtype):
        return series.astype("Int64").astype(TEXT)
    if pd.api.types.is_float_dtype(dtype):
        arr = series.to_numpy(dtype="float64", na_value=np.nan)
        whole = np.isfinite(arr) & (np.floor(arr) == arr) & (np.abs(arr) < 1e15)
        out = np.full(len(arr), None, dtype=object)
        out[whole] = arr[whole].astype(np.int64).astype(str)
        rest = ~whole & ~np.isnan(arr)
        out[rest] = [repr(float(v)) for v in arr[rest]]
        return pd.Series(out, index=series.index, dtype=TEXT)
    objects = series.to_numpy(dtype=object)
    return _clean_text([_cell_text(v) for v in objects], series.index)


_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def _clean_text(texts: list[str | None], index: pd.Index) -> pd.Series:
    """:data:`TEXT` of ``texts``; a lone surrogate (which no encoder accepts: it would break the
    plan, the journal and the report) becomes U+FFFD, the replacement character."""
    try:
        return pd.Series(texts, index=index, dtype=TEXT)
    except UnicodeEncodeError:
        dirty = sum(1 for t in texts if t is not None and _SURROGATE.search(t))
        logger.warning("%d cells held lone surrogates; replaced them with U+FFFD", dirty)
        clean = [t if t is None else _SURROGATE.sub("\ufffd", t) for t in texts]
        return pd.Series(clean, index=index, dtype=TEXT)


def _arrow_chunks(series: pd.Series) -> list[pa.Array]:
    """The pyarrow string arrays behind a :data:`TEXT` series, as they are (no copy)."""
    arr = pa.array(series.array)
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    return [chunk.cast(pa.large_string()) for chunk in chunks if len(chunk)]


# --------------------------------------------------------------------------------------------------
# Normalisation (shape only)


def _fix_unicode(text: pa.Array) -> pa.Array:
    """Map full-width digits, plus, brackets, dashes, exotic spaces in non-ASCII cells to ASCII."""
    non_ascii = pc.fill_null(pc.invert(pc.string_is_ascii(text)), False)
    if not pc.any(non_ascii).as_py():
        return text
    rows = pa.array(np.flatnonzero(non_ascii.to_numpy(zero_copy_only=False)))
    subset = text.take(rows)
    for pattern, ascii_ in _UNICODE_CLASSES:
        subset = pc.replace_substring_regex(subset, pattern, ascii_)
    if pc.any(pc.match_substring_regex(subset, "[\uff08-\uff19]")).as_py():
        for wide, narrow in _FULL_WIDTH:
            subset = pc.replace_substring(subset, wide, narrow)
    return pc.replace_with_mask(text, non_ascii, subset)


def _scientific(text: str) -> str | None:
    """The digits a scientific-notation cell stands for, or ``None`` when some were lost.

    ``1.3800138000E+10`` keeps all eleven digits and is exact; ``1.38001E+10`` is what a spreadsheet
    wrote after rounding the number away, and no one can tell what it was.
    """
    mantissa, _, exponent = text.lstrip("+").lower().partition("e")
    whole, _, fraction = mantissa.partition(".")
    shift = int(exponent) - len(fraction)
    digits = whole + fraction
    if shift > 0:  # the number has digits the mantissa does not: rounded away
        return None
    if shift < 0:
        if digits[shift:].strip("0"):
            return None  # not a whole number
        digits = digits[:shift]
    return digits.lstrip("0") or None


def _all(*masks: pa.Array) -> pa.Array:
    out = masks[0]
    for mask in masks[1:]:
        out = pc.and_(out, mask)
    return out


def _shape(raw: pd.Series, pool: Executor | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Normalise raw values; return (the 11-digit candidate as int64, −1 where there is none;
    the shape code per value).

    Three paths give the same answers, in slices of :data:`_FAST_ROWS` cells (on ``pool``'s
    threads: numpy and Arrow let go of the GIL): cells that already are 11 ASCII digits starting
    with ``1`` are read straight off their bytes (:func:`_clean_numbers`); :func:`_shape_fast`
    decides the other cells a spreadsheet really holds on their bytes; the few it leaves (other
    non-ASCII text, long runs of padding) go through :func:`_shape_messy`, the general path.
    ``tests/test_numbers.py`` compares them on generated messy cells.
    """
    chunks = _arrow_chunks(as_text(raw))
    n = sum(len(chunk) for chunk in chunks)
    numbers = np.empty(n, dtype=np.int64)
    codes = np.zeros(n, dtype=np.int8)
    # Slices of _FAST_ROWS cells, each from one chunk or a few small ones (a CSV read by Arrow
    # comes in chunks of about a megabyte): (where the slice starts, its pieces).
    slices: list[tuple[int, list[pa.Array]]] = []
    at = 0
    for chunk in chunks:
        for lo in range(0, len(chunk), _FAST_ROWS):
            piece = chunk.slice(lo, _FAST_ROWS)
            if slices and sum(map(len, slices[-1][1])) + len(piece) <= _FAST_ROWS:
                slices[-1][1].append(piece)
            else:
                slices.append((at, [piece]))
            at += len(piece)

    def slice_(job: tuple[int, list[pa.Array]]) -> np.ndarray:
        """Fill ``numbers`` and ``codes`` for one slice; the rows left to the general path."""
        lo, pieces = job
        part = pieces[0] if len(pieces) == 1 else pa.concat_arrays(pieces)  # (a small copy)
        here = slice(lo, lo + len(part))
        clean, numbers[here] = _clean_numbers(part)
        messy = np.flatnonzero(~clean)
        if len(messy) == len(part):
            return _shape_fast(part, numbers[here], codes[here]) + lo
        if not len(messy):
            return messy
        found, found_codes = np.empty(len(messy), dtype=np.int64), np.zeros(len(messy), dtype=np.int8)
        rows = messy[_shape_fast(part.take(pa.array(messy)), found, found_codes)]
        numbers[lo + messy], codes[lo + messy] = found, found_codes
        return rows + lo

    with _executor(n) if pool is None else nullcontext(pool) as run:
        left = np.concatenate([np.zeros(0, dtype=np.int64), *run.map(slice_, slices)])
    if len(left):
        text = pa.chunked_array(chunks, pa.large_string()).take(pa.array(left)).combine_chunks()
        numbers[left], codes[left] = _shape_messy(text)
    return numbers, codes


class _Inline(Executor):
    """An executor that runs each call at once, in the caller's thread."""

    def submit(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> Future[_T]:
        future: Future[_T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the caller by future.result(), as a pool does
            future.set_exception(exc)
        return future


def _executor(rows: int) -> Executor:
    """Threads for checking ``rows`` cells: one per CPU this process may use (at most 4), when
    there are at least two slices of work; else everything runs in the caller's thread."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    workers = min(cpus, 4, -(-rows // _FAST_ROWS))
    return ThreadPoolExecutor(workers, thread_name_prefix="check_numbers") if workers > 1 else _Inline()


def _words(data: np.ndarray) -> np.ndarray:
    """The little-endian uint64 starting at every byte of ``data`` (a view, ``len(data) − 7``
    words; x86 and ARM read unaligned words at full speed)."""
    if len(data) < 8:
        return np.zeros(0, dtype="<u8")
    return np.ndarray((len(data) - 7,), dtype="<u8", buffer=data, offset=0, strides=(1,))


_ASCII_ZEROS: Final = np.uint64(0x3030303030303030)
_HIGH_NIBBLES: Final = np.uint64(0xF0F0F0F0F0F0F0F0)


def _all_digits(words: np.ndarray) -> np.ndarray:
    """Whether each of the eight bytes of each word is an ASCII digit (no byte carries into the
    next: each byte is 0x3? before the add)."""
    return ((words & _HIGH_NIBBLES) == _ASCII_ZEROS) & (
        ((words + np.uint64(0x0606060606060606)) & _HIGH_NIBBLES) == _ASCII_ZEROS
    )


def _eight_digits(words: np.ndarray) -> np.ndarray:
    """The number eight ASCII digits spell (first digit in the lowest byte), as int64: pairs,
    then fours, then the eight, by multiply-and-shift within the word."""
    x = words - _ASCII_ZEROS
    x = (x * np.uint64(10) + (x >> np.uint64(8))) & np.uint64(0x00FF00FF00FF00FF)
    x = (x * np.uint64(100) + (x >> np.uint64(16))) & np.uint64(0x0000FFFF0000FFFF)
    x = (x * np.uint64(10000) + (x >> np.uint64(32))) & np.uint64(0xFFFFFFFF)
    return x.astype(np.int64)


def _eleven_digits(words: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The 11-digit numbers whose digits start at byte ``at`` (words from :func:`_words`): digits
    1–8 and 4–11, two words that overlap."""
    return _eight_digits(words[at]) * 1000 + _eight_digits(words[at + 3]) % 1000


def _clean_numbers(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(which cells already are ``^1\\d{10}$`` — 11 ASCII digits starting with 1 —, their numbers;
    −1 for the other cells). Two overlapping words per cell, no per-byte pass."""
    bounds, data = _buffers(text)
    numbers = np.full(len(text), -1, dtype=np.int64)
    clean = np.diff(bounds) == 11
    rows = np.flatnonzero(clean)
    if len(rows):
        words, at = _words(data), bounds[rows]
        first, second = words[at], words[at + 3]
        good = _all_digits(first) & _all_digits(second) & ((first & np.uint64(0xFF)) == ord("1"))
        if text.null_count:
            good &= text.is_valid().to_numpy(zero_copy_only=False)[rows]
        clean[rows[~good]] = False
        rows = rows[good]
        numbers[rows] = _eight_digits(first[good]) * 1000 + _eight_digits(second[good]) % 1000
    return clean, numbers


def _shape_messy(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_shape` for arbitrary text."""
    text = _fix_unicode(text)
    # Leading apostrophe (Excel's "keep as text") and surrounding whitespace.
    text = pc.utf8_rtrim_whitespace(pc.utf8_ltrim(text, characters=_LTRIM_CHARACTERS))
    codes = np.zeros(len(text), dtype=np.int8)

    # Scientific notation: the regex runs only on the few cells that contain an "e".
    has_e = pc.fill_null(pc.or_(pc.match_substring(text, "e"), pc.match_substring(text, "E")), False)
    sci = np.zeros(len(text), dtype=bool)
    if pc.any(has_e).as_py():
        e_rows = np.flatnonzero(has_e.to_numpy(zero_copy_only=False))
        matched = pc.match_substring_regex(text.take(pa.array(e_rows)), _SCIENTIFIC_RE)
        sci[e_rows] = pc.fill_null(matched, False).to_numpy(zero_copy_only=False)
    sci_mask = pa.array(sci)
    if sci.any():
        originals = pc.filter(text, sci_mask).to_pylist()
        exact = {v: _scientific(v) for v in set(originals)}
        values = [exact[v] for v in originals]
        lost = np.array([v is None for v in values])
        sci_rows = np.flatnonzero(sci_mask.to_numpy(zero_copy_only=False))
        codes[sci_rows[lost]] = _SCIENTIFIC
        text = pc.replace_with_mask(
            text, sci_mask, pa.array([v if v is not None else "" for v in values], text.type)
        )

    numbers = np.empty(len(text), dtype=np.int64)
    for lo in range(0, len(text), _FINISH_ROWS):  # in slices: the byte arrays stay small
        hi = min(lo + _FINISH_ROWS, len(text))
        numbers[lo:hi] = _finish(text.slice(lo, hi - lo), codes[lo:hi])  # codes: a view, updated
    return numbers, codes


# Bytes the normalisation looks at (the rest of a cell's text is never changed, only cut).
_SEPARATOR_BYTES: Final = np.zeros(256, dtype=bool)
_SEPARATOR_BYTES[[ord(c) for c in "\t\n\f\r -.()"]] = True  # RE2's \s is [\t\n\f\r ]
_DIGIT_BYTES: Final = np.zeros(256, dtype=bool)
_DIGIT_BYTES[ord("0") : ord("9") + 1] = True
_FINISH_ROWS: Final = 1 << 18
_HEAD: Final = 16  # leading bytes examined per cell: "+86", "86"/"860", "01", then 3 to classify


def _buffers(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(cell bounds, the bytes of the cells) of a large_string array, zero-copy: cell ``i`` is
    ``data[bounds[i] : bounds[i + 1]]``."""
    n = len(text)
    buffers = text.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int64)[text.offset : text.offset + n + 1]
    base = int(offsets[0])
    data = (
        np.frombuffer(buffers[2], dtype=np.uint8)[base : int(offsets[-1])]
        if buffers[2] is not None
        else np.zeros(0, dtype=np.uint8)
    )
    return offsets - base, data


def _finish(text: pa.Array, codes: np.ndarray) -> np.ndarray:
    """The rest of :func:`_shape_messy` on the bytes of trimmed ``text``, vectorised with numpy:
    float cells (``^(\\+?\\d+)\\.0+$`` → the part before the dot), separators removed
    (``[\\s\\-.()]``), then :func:`_decide`. Non-ASCII bytes are never digits, separators,
    signs or dots, so such a cell ends "not digits" (as with the regexes)."""
    n = len(text)
    bounds, data = _buffers(text)

    def per_cell(flags: np.ndarray) -> np.ndarray:
        """How many bytes of each cell are flagged (a running sum read at the cell bounds)."""
        kind = np.int32 if len(flags) < 2**31 else np.int64  # int32 halves the memory traffic
        running: np.ndarray = np.zeros(len(flags) + 1, dtype=kind)
        np.cumsum(flags, dtype=kind, out=running[1:])
        return (running[bounds[1:]] - running[bounds[:-1]]).astype(np.int64)

    separator = _SEPARATOR_BYTES[data]
    kept = data[~separator]
    size = np.diff(bounds) - per_cell(separator)
    start = np.zeros(n, dtype=np.int64)
    np.cumsum(size[:-1], out=start[1:])
    not_digits = per_cell(~separator & ~_DIGIT_BYTES[data])
    # Float cells (``^(\\+?\\d+)\\.0+$``, a few): keep what stands before the dot; the zeros after
    # it are digits, so only the cell's size changes.
    maybe = pc.fill_null(_all(pc.ends_with(text, "0"), pc.match_substring(text, ".")), False)
    if pc.any(maybe).as_py():
        rows = np.flatnonzero(maybe.to_numpy(zero_copy_only=False))
        subset = text.take(pa.array(rows))
        floats = pc.fill_null(pc.match_substring_regex(subset, r"^\+?\d+\.0+$"), False)
        floats_np = floats.to_numpy(zero_copy_only=False)
        size[rows[floats_np]] = pc.find_substring(subset.filter(floats), ".").to_numpy()
    size[pc.is_null(text).to_numpy(zero_copy_only=False)] = 0
    return _decide(kept, start, size, not_digits, codes)


def _decide(
    kept: np.ndarray, start: np.ndarray, size: np.ndarray, not_digits: np.ndarray, codes: np.ndarray
) -> np.ndarray:
    """The prefixes and the verdict of each cell, given its bytes without separators (cell ``i``:
    ``kept[start[i] : start[i] + size[i]]``) and how many of them are not digits: ``+86``/``0086``
    cut, a national ``86`` (13 digits, or 14 with ``860``) and a trunk ``0`` (12 digits, ``01…``)
    cut, then empty / foreign (``^(\\+|00)[1-9]\\d*$``) / not digits / wrong length / not ``1…``
    written to ``codes`` where unset. Returns the 11-digit number per cell (int64), −1 where it
    has none."""
    n = len(start)
    padded = np.concatenate((kept, np.zeros(_HEAD, dtype=np.uint8)))
    windows = sliding_window_view(padded, _HEAD)
    cut = np.zeros(n, dtype=np.int64)
    # Most cells are 11 digits starting with "1" by now: nothing to cut, nothing to classify.
    simple = (size == 11) & (not_digits == 0) & (padded[np.minimum(start, len(kept))] == ord("1"))
    rows = np.flatnonzero(~simple & (codes == _CANDIDATE))
    if len(rows):
        sizes = size[rows]
        head = windows[start[rows]]  # (rows, _HEAD) bytes; those past the cell's end read as 0
        head *= np.arange(_HEAD) < sizes[:, None]
        flat, base = head.ravel(), np.arange(0, len(rows) * _HEAD, _HEAD)

        def at(offset: np.ndarray, k: int) -> np.ndarray:
            return flat[base + offset + k]

        word = head.view("<u4")[:, 0]  # the first four bytes, the first one lowest
        plus86 = (word & 0xFFFFFF) == int.from_bytes(b"+86", "little")
        zero086 = word == int.from_bytes(b"0086", "little")
        shift = 3 * plus86 + 4 * zero086
        after = sizes - shift
        starts86 = (at(shift, 0) == ord("8")) & (at(shift, 1) == ord("6"))
        national = starts86 & ((after == 13) | ((after == 14) & (at(shift, 2) == ord("0"))))
        shift += 2 * national
        trunk = (sizes - shift == 12) & (at(shift, 0) == ord("0")) & (at(shift, 1) == ord("1"))
        shift += trunk
        length = sizes - shift
        rest_not_digits = not_digits[rows] - plus86  # the "+" of "+86" was cut; digits are the rest

        first, second, third = at(shift, 0), at(shift, 1), at(shift, 2)
        one_to_nine = (second >= ord("1")) & (second <= ord("9"))
        foreign = (first == ord("+")) & one_to_nine & (rest_not_digits == 1)
        foreign |= (first == ord("0")) & (second == ord("0")) & (third >= ord("1")) & (third <= ord("9"))
        foreign &= (rest_not_digits == 0) | (first == ord("+"))
        found = np.zeros(len(rows), dtype=np.int8)
        for mask, code in (
            (length == 0, _EMPTY),
            (foreign, _FOREIGN),
            (rest_not_digits != 0, _NOT_DIGITS),
            (length != 11, _WRONG_LENGTH),
            (first != ord("1"), _NOT_RANGE),
        ):
            found[(found == _CANDIDATE) & mask] = code
        codes[rows] = found
        cut[rows] = shift
    numbers = np.full(n, -1, dtype=np.int64)
    rows = np.flatnonzero(codes == _CANDIDATE)
    if len(rows):
        numbers[rows] = _eleven_digits(_words(padded), start[rows] + cut[rows])
    return numbers


# --------------------------------------------------------------------------------------------------
# The fast path: cells that are ASCII once mapped, decided on their bytes

_FAST_ROWS: Final = 1 << 16  # cells per slice: the arrays stay in the CPU cache (measured best)
_TRIM_STEPS: Final = 24  # padding characters trimmed per end before a cell is left to the general path
_CELL_WIDTH: Final = 24  # longest trimmed float-like or scientific cell the fast path decides
_TRAILING_BYTES: Final = slice(0x80, 0xC0)  # a UTF-8 character's bytes after its first
_DROPPED_BYTES: Final = _SEPARATOR_BYTES.copy()  # separators, and what _to_ascii leaves behind
_DROPPED_BYTES[_TRAILING_BYTES] = True


@lru_cache(maxsize=1)
def _ascii_map() -> tuple[np.ndarray, np.ndarray]:
    """:data:`_TO_ASCII` as (sorted keys, ASCII bytes): a character's UTF-8 bytes packed as
    ``b0 << 16 | b1 << 8 | b2`` (``b2`` = 0 for a 2-byte character)."""
    pairs = sorted(
        (int.from_bytes(wide.encode("utf-8").ljust(3, b"\0"), "big"), ord(ascii_))
        for wide, ascii_ in _TO_ASCII.items()
    )
    keys, values = zip(*pairs, strict=True)
    return np.array(keys, dtype=np.int64), np.array(values, dtype=np.uint8)


@lru_cache(maxsize=1)
def _trim_bytes() -> tuple[np.ndarray, np.ndarray]:
    """The ASCII bytes the general path trims on the left and on the right, as Arrow's kernels
    say (``utf8_rtrim_whitespace`` also trims the separators 0x1C–0x1F), as 256-entry tables;
    with the bytes that follow a mapped character's first (see :func:`_to_ascii`)."""
    probes = pa.array([chr(c) + "1" + chr(c) for c in range(128)], pa.large_string())
    left = pc.utf8_ltrim(probes, characters=_LTRIM_CHARACTERS).to_pylist()
    right = pc.utf8_rtrim_whitespace(probes).to_pylist()
    ltrim, rtrim = np.zeros(256, dtype=bool), np.zeros(256, dtype=bool)
    ltrim[:128] = [len(t) == 2 for t in left]
    rtrim[:128] = [len(t) == 2 for t in right]
    ltrim[_TRAILING_BYTES] = rtrim[_TRAILING_BYTES] = True  # the rest of a mapped character
    return ltrim, rtrim


def _running(flags: np.ndarray) -> np.ndarray:
    """How many of ``flags`` are set before each position (``len(flags) + 1`` values, int64)."""
    kind = np.int32 if len(flags) < 2**31 else np.int64  # int32 halves the memory traffic
    running: np.ndarray = np.zeros(len(flags) + 1, dtype=kind)
    np.cumsum(flags, dtype=kind, out=running[1:])
    return running


def _row_of(bounds: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """The cell each byte position lies in."""
    return np.searchsorted(bounds, positions, side="right") - 1


def _to_ascii(data: np.ndarray, bounds: np.ndarray, left: np.ndarray) -> np.ndarray:
    """The bytes with the first byte of each character of :data:`_TO_ASCII` replaced by its ASCII
    byte; the character's other bytes (0x80–0xBF) stay, and the fast path passes over them as it
    passes over padding and separators. Cells holding any other non-ASCII character are marked
    in ``left``."""
    keys, values = _ascii_map()
    last = len(data) - 1
    lead = np.flatnonzero(data >= 0xC0)  # the first byte of each non-ASCII character
    b0 = data[lead].astype(np.int64)
    b1 = data[np.minimum(lead + 1, last)].astype(np.int64)
    b2 = data[np.minimum(lead + 2, last)].astype(np.int64)
    key = (b0 << 16) | (b1 << 8) | np.where(b0 >= 0xE0, b2, 0)
    at = np.minimum(np.searchsorted(keys, key), len(keys) - 1)
    known = keys[at] == key
    left[_row_of(bounds, lead[~known])] = True
    out = data.copy()
    out[lead[known]] = values[at[known]]
    return out


def _trim(
    data: np.ndarray, bounds: np.ndarray, left: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start, end, the positions trimmed) of each cell with the general path's trimming: Excel's
    leading apostrophe and ASCII whitespace on the left, whitespace on the right. A cell with more
    than :data:`_TRIM_STEPS` such characters at one end is marked in ``left``."""
    ltrim, rtrim = _trim_bytes()
    start, end = bounds[:-1].copy(), bounds[1:].copy()
    trimmed = []
    last = max(len(data) - 1, 0)
    padded = data if len(data) else np.zeros(1, dtype=np.uint8)
    for table, at, step in ((ltrim, start, 1), (rtrim, end, -1)):
        rows = np.flatnonzero(start < end)
        for _ in range(_TRIM_STEPS):
            byte_at = at[rows] if step == 1 else at[rows] - 1
            rows = rows[table[padded[np.minimum(byte_at, last)]]]
            if not len(rows):
                break
            trimmed.append(at[rows] if step == 1 else at[rows] - 1)
            at[rows] += step
            rows = rows[start[rows] < end[rows]]
        else:
            left[rows] = True
    positions = np.concatenate(trimmed) if trimmed else np.zeros(0, dtype=np.int64)
    return start, end, positions


def _cells(data: np.ndarray, start: np.ndarray, width: np.ndarray) -> np.ndarray:
    """The cells ``data[start : start + width]`` as rows of :data:`_CELL_WIDTH` bytes, 0 past
    each cell's end (``width`` ≤ :data:`_CELL_WIDTH`)."""
    near_end = start + _CELL_WIDTH > len(data)  # their windows would run past the bytes:
    if not len(start):
        return np.zeros((0, _CELL_WIDTH), dtype=np.uint8)
    if near_end.any():  # read from a padded copy of the last bytes
        cells = np.empty((len(start), _CELL_WIDTH), dtype=np.uint8)
        if len(data) >= _CELL_WIDTH:
            cells[~near_end] = sliding_window_view(data, _CELL_WIDTH)[start[~near_end]]
        tail_from = max(len(data) - _CELL_WIDTH, 0)
        tail = np.concatenate((data[tail_from:], np.zeros(_CELL_WIDTH, dtype=np.uint8)))
        cells[near_end] = sliding_window_view(tail, _CELL_WIDTH)[start[near_end] - tail_from]
    else:
        cells = sliding_window_view(data, _CELL_WIDTH)[start]
    cells *= np.arange(_CELL_WIDTH) < width[:, None]
    return cells


def _float_sizes(
    data: np.ndarray, bounds: np.ndarray, start: np.ndarray, end: np.ndarray, left: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    r"""(rows, bytes before the dot) of the cells whose trimmed text is a float, ``^\+?\d+\.0+$``;
    float-like cells longer than :data:`_CELL_WIDTH` are marked in ``left``."""
    dots = np.flatnonzero(data == ord("."))
    none = np.zeros(0, dtype=np.int64)
    if not len(dots):
        return none, none
    rows = _row_of(bounds, dots)
    rows = rows[np.r_[True, rows[1:] != rows[:-1]]]
    rows = rows[data[end[rows] - 1] == ord("0")]  # (a cell with a dot is not empty)
    width = end[rows] - start[rows]
    left[rows[width > _CELL_WIDTH]] = True
    rows, width = rows[width <= _CELL_WIDTH], width[width <= _CELL_WIDTH]
    if not len(rows):
        return none, none
    cells = _cells(data, start[rows], width)
    position = np.arange(_CELL_WIDTH)
    digit = (cells >= ord("0")) & (cells <= ord("9"))
    dot = cells == ord(".")
    plus = cells[:, 0] == ord("+")
    at = np.argmax(dot, axis=1)  # the first dot
    before = position < at[:, None]
    after = (position > at[:, None]) & (position < width[:, None])
    mapped = (cells >= 0x80).any(axis=1)  # e.g. full-width: the general path decides
    left[rows[mapped]] = True
    ok = ~mapped & (dot.sum(axis=1) == 1) & (at > plus) & (width - at >= 2)
    ok &= (digit | ~before | ((position == 0) & plus[:, None])).all(axis=1)
    ok &= ((cells == ord("0")) | ~after).all(axis=1)
    return rows[ok], at[ok]


def _scientific_cells(
    data: np.ndarray, start: np.ndarray, end: np.ndarray, rows: np.ndarray, left: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Which of ``rows`` (cells with an ``e``) are scientific notation, ``^\+?\d+(\.\d+)?[eE]\+?\d+$``,
    and what they stand for, as :func:`_scientific` says: (rows, where the digits start in the
    cell's kept bytes, how many there are — −1 where digits were lost). Cells longer than
    :data:`_CELL_WIDTH` are marked in ``left``.

    The digits are always a stretch of the mantissa's (its dot is a separator, so they are
    contiguous in the kept bytes): from the first non-zero digit to the end, less the trailing
    zeros that the exponent does not cover.
    """
    width = end[rows] - start[rows]
    left[rows[width > _CELL_WIDTH]] = True
    rows, width = rows[width <= _CELL_WIDTH], width[width <= _CELL_WIDTH]
    cells = _cells(data, start[rows], width)
    mapped = (cells >= 0x80).any(axis=1)  # e.g. full-width: the general path decides
    left[rows[mapped]] = True
    rows, width, cells = rows[~mapped], width[~mapped], cells[~mapped]
    position = np.arange(_CELL_WIDTH)
    inside = position < width[:, None]
    digit = (cells >= ord("0")) & (cells <= ord("9"))
    is_e = (cells | 0x20) == ord("e")
    e_at = np.argmax(is_e, axis=1)
    plus = (cells[:, 0] == ord("+")).astype(np.int64)
    in_mantissa = (position >= plus[:, None]) & (position < e_at[:, None])
    dot = (cells == ord(".")) & in_mantissa
    dots = dot.sum(axis=1)
    dot_at = np.where(dots > 0, np.argmax(dot, axis=1), e_at)
    exponent_plus = (
        np.take_along_axis(cells, np.minimum(e_at + 1, _CELL_WIDTH - 1)[:, None], 1)[:, 0] == ord("+")
    ) & (e_at + 1 < width)
    exponent_from = e_at + 1 + exponent_plus
    in_exponent = (position >= exponent_from[:, None]) & inside
    sci = (is_e.sum(axis=1) == 1) & (dots <= 1) & (dot_at > plus) & (width > exponent_from)
    sci &= (dots == 0) | (dot_at < e_at - 1)
    sci &= (digit | dot | ~in_mantissa).all(axis=1) & (digit | ~in_exponent).all(axis=1)
    # The exponent's value; beyond 4 significant digits it exceeds any fraction here: lost.
    significant = in_exponent & (cells != ord("0"))
    first_significant = np.where(significant.any(axis=1), np.argmax(significant, axis=1), width)
    exponent = np.zeros(len(rows), dtype=np.int64)
    for k in range(4):
        at = width - 1 - k
        value = np.take_along_axis(cells, np.maximum(at, 0)[:, None], 1)[:, 0].astype(np.int64)
        exponent += np.where(at >= exponent_from, value - ord("0"), 0) * 10**k
    fraction = np.where(dots > 0, e_at - dot_at - 1, 0)
    shift = np.where(width - first_significant > 4, 1, exponent - fraction)
    length = e_at - plus - dots + np.minimum(shift, 0)  # the mantissa's digits, less the cut zeros
    cut = (position >= (e_at + np.minimum(shift, 0))[:, None]) & (position < e_at[:, None])
    lost = (shift > 0) | ~((cells == ord("0")) | ~cut).all(axis=1)
    nonzero = digit & in_mantissa & (cells != ord("0"))
    first_nonzero = np.where(nonzero.any(axis=1), np.argmax(nonzero, axis=1), e_at)
    zeros = first_nonzero - plus - (dot_at < first_nonzero)  # leading zeros of the digits
    lost |= zeros >= length
    return rows[sci], (plus + zeros)[sci], np.where(lost, -1, length - zeros)[sci]


def _shape_fast(text: pa.Array, numbers: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """:func:`_shape_messy` on the bytes of ``text`` for the cells a spreadsheet really holds:
    fills ``numbers`` and ``codes`` and returns the rows it leaves to the general path — cells
    with a non-ASCII character :data:`_TO_ASCII` does not map, long runs of padding, long
    float-like or scientific-looking text. Same steps, same order: map full-width and
    typographic characters to ASCII, trim, scientific notation, float cells, separators,
    :func:`_decide`."""
    n = len(text)
    bounds, data = _buffers(text)
    left = np.zeros(n, dtype=bool)
    null = pc.is_null(text).to_numpy(zero_copy_only=False)
    if len(data) and data.max() >= 0x80:
        data = _to_ascii(data, bounds, left)
    start, end, trimmed = _trim(data, bounds, left)
    e_rows = np.unique(_row_of(bounds, np.flatnonzero((data | 0x20) == ord("e"))))  # e or E
    e_rows = e_rows[~null[e_rows] & ~left[e_rows]]
    sci_rows, sci_from, sci_size = _scientific_cells(data, start, end, e_rows, left)
    float_rows, float_sizes = _float_sizes(data, bounds, start, end, left)

    others = np.flatnonzero((data < ord("0")) | (data > ord("9")))  # (few: most bytes are digits)
    keep = np.ones(len(data), dtype=bool)
    keep[others[_DROPPED_BYTES[data[others]]]] = False
    keep[trimmed] = False
    kept_at = _running(keep)[bounds]  # where each cell starts in the kept bytes
    size = np.diff(kept_at)
    kept_from = kept_at[:-1].astype(np.int64)
    not_digit = others[keep[others]]
    if len(not_digit) * 8 < len(data):  # few: count them per cell directly
        not_digits = np.bincount(_row_of(bounds, not_digit), minlength=n)
    else:
        flags = np.zeros(len(data), dtype=bool)
        flags[not_digit] = True
        not_digits = np.diff(_running(flags)[bounds])
    size[float_rows] = float_sizes
    kept_from[sci_rows] += sci_from
    size[sci_rows] = np.maximum(sci_size, 0)
    not_digits[sci_rows] = 0
    codes[sci_rows[sci_size < 0]] = _SCIENTIFIC
    size[null] = 0
    numbers[:] = _decide(data[keep], kept_from, size, not_digits, codes)
    return np.flatnonzero(left)


def normalize_numbers(values: pd.Series | Iterable[Any]) -> pd.Series:
    """Return each value as its normalised 11-digit mobile number, or <NA> if it has no such shape.

    Handles full-width digits and plus, spaces / NBSP / tabs / dashes / dots / parentheses, a
    leading apostrophe, ``+86`` / ``0086`` / ``86`` prefixes, a trunk ``0``, and integer or ``.0``
    float cells. This is shape only — an unallocated range such as ``100…`` is still returned; use
    :func:`is_valid_mobile` or :func:`check_numbers` for validity. Keeps a Series' index; does not
    mutate the input.

    >>> normalize_numbers(["+86 138-0013-8000", "１３８0013８000", 13800138000.0, "x"]).tolist()
    ['13800138000', '13800138000', '13800138000', <NA>]
    """
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    numbers, _ = _shape(series)
    return pd.Series(pd.array(_as_text_numbers(numbers, numbers >= 0), dtype=TEXT), index=series.index)


@lru_cache(maxsize=1)
def _four_digits() -> np.ndarray:
    """The four ASCII digits of 0…9999 as little-endian uint32 (``b"0042"`` at 42)."""
    values = np.arange(10_000)[:, None]
    digits = (values // 10 ** np.arange(3, -1, -1) % 10 + ord("0")).astype(np.uint8)
    return digits.view("<u4").ravel()


def _as_text_numbers(numbers: np.ndarray, keep: np.ndarray) -> pa.Array:
    """int64 numbers as a string array, null where ``keep`` is false. 11-digit numbers (all a
    check keeps) are written straight into the array's buffers, eight and four digits at a time
    from a table (the two writes share the eighth digit)."""
    picked = numbers[keep]
    if len(picked) and not (int(picked.min()) >= 10**10 and int(picked.max()) < 10**11):
        return pc.cast(pa.array(numbers, mask=~keep), pa.large_string())
    digits = _four_digits()
    data = np.empty(len(picked) * 11 + 5, dtype=np.uint8)  # (room for the last 8-byte write)
    high, rest = np.divmod(picked, 10**7)  # digits 1-4 | 5-11
    first8 = digits[high].astype(np.uint64) | (digits[rest // 1000].astype(np.uint64) << np.uint64(32))
    if len(picked):
        np.ndarray((len(picked),), "<u8", data, 0, (11,))[:] = first8
        np.ndarray((len(picked),), "<u4", data, 7, (11,))[:] = digits[picked % 10**4]
    offsets = np.zeros(len(numbers) + 1, dtype=np.int64)
    np.cumsum(keep * 11, out=offsets[1:])
    nulls = len(numbers) - len(picked)
    validity = pa.py_buffer(np.packbits(keep, bitorder="little")) if nulls else None
    return pa.LargeStringArray.from_buffers(
        len(numbers), pa.py_buffer(offsets), pa.py_buffer(data[: len(picked) * 11]), validity, nulls
    )


# --------------------------------------------------------------------------------------------------
# Validity, carrier and region: phonenumbers per prefix


def _is_mobile(national: str) -> bool:
    """phonenumbers' verdict on one national number: valid in CN and of a mobile type."""
    number = phonenumbers.PhoneNumber(country_code=86, national_number=int(national))
    # +86 belongs to CN alone, and number_type is UNKNOWN for every invalid number, so this is
    # is_valid_number_for_region(number, "CN") and the type test in one pass.
    return phonenumbers.number_type(number) in _MOBILE_TYPES


@lru_cache(maxsize=65536)
def _prefix_verdict(prefix: str) -> bool | None:
    """Whether all 11-digit numbers starting with ``prefix`` are mobiles; None if it depends.

    Pure function of ``prefix`` (phonenumbers' metadata is static), hence the cache.
    """
    verdicts = {_is_mobile(prefix + fill * (11 - len(prefix))) for fill in _PROBE_SUFFIXES}
    return verdicts.pop() if len(verdicts) == 1 else None


def _valid_numbers(numbers: np.ndarray, table: _PrefixTable) -> np.ndarray:
    """Mobile validity of 11-digit numbers (int64 starting with 1), by the 7-digit prefix table."""
    verdict = table.valid[numbers // 10**4 - _PREFIX_BASE]
    valid = verdict == _YES
    ask = np.flatnonzero(verdict == _ASK)
    if len(ask):  # ranges phonenumbers splits below 7 digits: ask per number
        logger.debug("checking %d numbers one by one", len(ask))
        valid[ask] = [_is_mobile(str(n)) for n in numbers[ask].tolist()]
    return valid


def _valid(numbers: np.ndarray) -> np.ndarray:
    """Vectorised mobile validity of 11-digit candidates (−1: False)."""
    present = numbers >= 0
    valid = np.zeros(len(numbers), dtype=bool)
    if present.any():
        valid[present] = _valid_numbers(numbers[present], _prefix_table())
    return valid


def is_valid_mobile(values: pd.Series | Iterable[Any]) -> pd.Series:
    """Return True where a value normalises to a mainland mobile number phonenumbers accepts.

    Agrees with ``phonenumbers`` (region CN, type MOBILE or FIXED_LINE_OR_MOBILE) on the normalised
    number; computed per number prefix. Keeps a Series' index; does not mutate the input.

    >>> is_valid_mobile(["13800138000", "10000000000", ""]).tolist()
    [True, False, False]
    """
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    numbers, _ = _shape(series)
    return pd.Series(_valid(numbers), index=series.index, dtype=bool)


@lru_cache(maxsize=2)
def _zh_prefix_table(kind: str) -> tuple[tuple[int, np.ndarray, np.ndarray], ...]:
    """phonenumbers' carrier or geocoding table for +861…, Chinese names, grouped by key length.

    These are the tables ``carrier.name_for_number`` and ``geocoder.description_for_number`` consult
    (longest prefix first; for "zh" there is no English fallback); reading them lets one
    vectorised pass answer hundreds of thousands of prefixes. tests/test_numbers.py checks the
    answers against those two functions. Returns ``(digits after 86, sorted keys as integers,
    names)`` per key length, longest first. Pure (the tables are static), hence the cache.
    """
    # Imported here: these modules take ~0.3 s to import, and only a table build needs them.
    if kind == "carrier":
        from phonenumbers.carrierdata import CARRIER_DATA as data  # noqa: PLC0415
    else:
        from phonenumbers.geodata import GEOCODE_DATA as data  # noqa: PLC0415
    by_length: dict[int, dict[int, str]] = {}
    for key, names in data.items():
        if key.startswith("861") and "zh" in names and len(key) <= 9:
            by_length.setdefault(len(key) - 2, {})[int(key[2:])] = names["zh"]
    tables = []
    for digits, table in sorted(by_length.items(), reverse=True):
        keys = np.array(sorted(table), dtype=np.int64)
        tables.append((digits, keys, np.array([table[k] for k in keys.tolist()], dtype=object)))
    return tuple(tables)


def _lookup(prefix7: np.ndarray, kind: str) -> np.ndarray:
    """Longest-prefix lookup of 7-digit prefixes (integers) in a phonenumbers table (None: none)."""
    result = np.full(len(prefix7), None, dtype=object)
    missing = np.ones(len(prefix7), dtype=bool)
    for digits, keys, names in _zh_prefix_table(kind):
        query = prefix7[missing] // 10 ** (7 - digits)
        pos = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
        hit = keys[pos] == query
        rows = np.flatnonzero(missing)[hit]
        result[rows] = names[pos[hit]]
        missing[rows] = False
    return result


@dataclass(frozen=True)
class _PrefixTable:
    """phonenumbers' answers for every 7-digit prefix ``1000000…1999999`` (index = prefix − 10⁶).

    ``valid``: :data:`_NO` / :data:`_YES` / :data:`_ASK` (the range splits below 7 digits: ask
    phonenumbers per number); ``carrier`` and ``region``: codes into ``carriers`` / ``regions``, −1
    where phonenumbers has no name. One array lookup per row replaces per-prefix queries.
    """

    version: str
    valid: np.ndarray
    carrier: np.ndarray
    carriers: tuple[str, ...]
    region: np.ndarray
    regions: tuple[str, ...]


def _build_prefix_table() -> _PrefixTable:
    """Ask phonenumbers (its metadata, carrier and geocoder tables) about every 7-digit prefix."""
    valid = np.full(_PREFIX_COUNT, _ASK, dtype=np.uint8)

    def settle(prefix: str) -> None:  # 3 digits, refined to 5 then 7 where the range splits
        verdict = _prefix_verdict(prefix)
        width = 10 ** (7 - len(prefix))
        lo = int(prefix) * width - _PREFIX_BASE
        if verdict is not None:
            valid[lo : lo + width] = _YES if verdict else _NO
        elif len(prefix) < 7:
            for tail in range(100):
                settle(f"{prefix}{tail:02d}")

    for first3 in range(100, 200):
        settle(str(first3))
    found = {}
    for kind in ("carrier", "region"):
        codes = np.full(_PREFIX_COUNT, -1, dtype=np.int16)
        names: dict[str, int] = {}
        for digits, keys, labels in reversed(_zh_prefix_table(kind)):  # shortest first: longest wins
            label_codes = np.array([names.setdefault(n, len(names)) for n in labels], dtype=np.int16)
            span = 10 ** (7 - digits)
            starts = keys * span - _PREFIX_BASE
            index = (starts[:, None] + np.arange(span)).ravel()
            keep = (index >= 0) & (index < _PREFIX_COUNT)
            codes[index[keep]] = np.repeat(label_codes, span)[keep]
        found[kind] = (codes, tuple(names))
    return _PrefixTable(phonenumbers.__version__, valid, *found["carrier"], *found["region"])


def _write_prefix_table(path: Path = _PREFIX_FILE) -> None:
    """Write :func:`_build_prefix_table` for the installed phonenumbers to ``path`` (ships with
    the package: a fresh process then needs neither phonenumbers' carrier nor geocoder modules)."""
    table = _build_prefix_table()
    np.savez_compressed(
        path,
        version=np.array(table.version),
        valid=table.valid,
        carrier=table.carrier,
        carriers=np.array(table.carriers),
        region=table.region,
        regions=np.array(table.regions),
    )


@lru_cache(maxsize=1)
def _prefix_table() -> _PrefixTable:
    """The shipped table when it was built from the installed phonenumbers, else built now.

    Pure (phonenumbers' data is static for a version), hence the cache; the answers are the same
    either way, only the time differs (~0.05 s loaded, ~1 s built).
    """
    try:
        with np.load(_PREFIX_FILE, allow_pickle=False) as data:
            if str(data["version"]) == phonenumbers.__version__:
                return _PrefixTable(
                    str(data["version"]),
                    data["valid"],
                    data["carrier"],
                    tuple(data["carriers"].tolist()),
                    data["region"],
                    tuple(data["regions"].tolist()),
                )
            logger.info(
                "prefix table is for phonenumbers %s, %s is installed: building it",
                data["version"],
                phonenumbers.__version__,
            )
    except (OSError, KeyError, ValueError) as exc:
        logger.info("no usable prefix table (%s): building it", exc)
    return _build_prefix_table()


def _prefix_labels(prefix_codes: np.ndarray, rows: np.ndarray, n: int, names: Iterable[str]) -> pa.Array:
    """A string array of length ``n``: ``names[prefix_codes[i]]`` at ``rows[i]``, null elsewhere."""
    codes = np.full(n, -1, dtype=np.int32)
    codes[rows] = prefix_codes
    return _labels(codes, names)


@dataclass(frozen=True)
class _Haoduan:
    """The ``phone`` package's 号段 database per 7-digit prefix: ``record`` (−1: not listed)
    indexes ``provinces``, ``cities`` and ``area_codes`` (as the database writes them: 广东, 深圳,
    0755). Fills the places phonenumbers' geocoder lacks (many 16x/19x ranges)."""

    version: str
    record: np.ndarray
    provinces: tuple[str, ...]
    cities: tuple[str, ...]
    area_codes: tuple[str, ...]


_EMPTY_HAODUAN: Final = _Haoduan("", np.full(_PREFIX_COUNT, -1, dtype=np.int16), (), (), ())


@lru_cache(maxsize=1)
def _haoduan() -> _Haoduan:
    """Read the ``phone`` package's ``phone.dat`` once, all of it, with numpy (no per-number
    lookups). Its layout, from the package's own reader: a 4-byte version, an int32 offset of the
    index; then ``省|市|邮编|区号`` records ending in NUL; then 9-byte index entries (int32 7-digit
    prefix, int32 record offset, a carrier-type byte), sorted by prefix. Pure (the file is static).
    """
    spec = importlib.util.find_spec("phone")
    if spec is None or spec.origin is None:
        logger.warning("the phone package is not installed: no city or area code")
        return _EMPTY_HAODUAN
    raw = Path(spec.origin).with_name("phone.dat").read_bytes()
    version, index_at = struct.unpack_from("<4si", raw)
    entries = (len(raw) - index_at) // 9
    index = np.frombuffer(raw, dtype=np.uint8, offset=index_at, count=entries * 9).reshape(entries, 9)
    # (the int32 fields copied out of the 9-byte entries: whole-array work on aligned arrays)
    prefix = index[:, 0:4].copy().view("<i4")[:, 0].astype(np.int64) - _PREFIX_BASE
    offset = index[:, 4:8].copy().view("<i4")[:, 0].astype(np.int64)
    texts = raw[8:index_at].split(b"\0")
    starts = np.cumsum([8] + [len(t) + 1 for t in texts[:-1]])
    fields = [t.decode("utf-8").split("|") for t in texts]
    usable = (starts <= index_at) & np.array([len(f) == 4 for f in fields])
    at_start = np.full(index_at + 1, -1, dtype=np.int64)  # a record's number by its offset
    at_start[starts[usable]] = np.flatnonzero(usable)
    record = at_start[np.clip(offset, 0, index_at)]
    known = (
        (record >= 0) & (offset >= 0) & (offset <= index_at) & (prefix >= 0) & (prefix < _PREFIX_COUNT)
    )
    table = np.full(_PREFIX_COUNT, -1, dtype=np.int16)
    table[prefix[known]] = record[known]
    columns = [tuple(f[i] if len(f) == 4 else "" for f in fields) for i in (0, 1, 3)]
    return _Haoduan(version.decode("ascii", "replace"), table, *columns)


def _province_name(text: str | None) -> str:
    """The province-level division a place name starts with, or :data:`UNKNOWN`."""
    if text:
        for stem in (text[:3], text[:2]):
            if stem in _PROVINCE_STEMS:
                return _PROVINCE_STEMS[stem]
    return UNKNOWN


def province_of(values: pd.Series | pd.DataFrame) -> pd.Series:
    """Each row's province-level division: one of the 34 :data:`PROVINCES`, else ``"未知"``.

    ``values`` is a Series of place names (phonenumbers' ``region`` such as 内蒙古兴安盟 or
    广东省深圳市, or a bare 广西, 香港), or a frame from :func:`check_numbers` (or a plan or results
    built from one): its ``region`` decides, and where phonenumbers has none the 号段 database's
    province for ``mobile`` does. Keeps the index; does not mutate the input.

    >>> province_of(pd.Series(["内蒙古兴安盟", "广西南宁市", "北京市", "香港", None])).tolist()
    ['内蒙古自治区', '广西壮族自治区', '北京市', '香港特别行政区', '未知']
    """
    if isinstance(values, pd.DataFrame):
        region = values["region"] if "region" in values.columns else pd.Series(pd.NA, index=values.index)
        out = province_of(region)
        if "mobile" in values.columns:
            missing = (out == UNKNOWN).to_numpy() & values["mobile"].notna().to_numpy()
            mobiles = values["mobile"].to_numpy(dtype=object)[missing]
            digits = np.array([str(m).isdigit() and len(str(m)) == 11 for m in mobiles], dtype=bool)
            if digits.any():
                data = _haoduan()
                prefix = np.array(mobiles[digits].tolist(), dtype=np.int64) // 10**4 - _PREFIX_BASE
                record = data.record[np.clip(prefix, 0, _PREFIX_COUNT - 1)]
                record = np.where((prefix >= 0) & (prefix < _PREFIX_COUNT), record, -1)
                names = [
                    _province_name(data.provinces[r]) if r >= 0 else UNKNOWN for r in record.tolist()
                ]
                filled = out.to_numpy(dtype=object)
                rows = np.flatnonzero(missing)[digits]
                filled[rows] = names
                out = pd.Series(filled, index=values.index, dtype=TEXT)
        return out
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    names = [_province_name(u if isinstance(u, str) else None) for u in uniques]
    labels = np.array([*names, UNKNOWN], dtype=object)
    return pd.Series(labels[codes], index=values.index, dtype=TEXT)


# --------------------------------------------------------------------------------------------------
# Phone column detection (shared with recipients.load_recipients)


def _header_key(header: object) -> str:
    """A header reduced for comparison: lower case, no bracketed notes, spaces or punctuation."""
    text = re.sub(r"[(（\[【].*?[)）\]】]", "", str(header).strip().lower())
    return re.sub(r"[\s_\-*:：.·/]", "", text)


_HEADER_KEYS: Final = {_header_key(h): rank for rank, h in enumerate(PHONE_HEADERS)}


def _header_rank(header: object) -> int | None:
    """0… for a phone-column header (lower is more specific), None if the header says nothing."""
    key = _header_key(header)
    if key in _HEADER_KEYS:
        return _HEADER_KEYS[key]
    if any(part in key for part in _HEADER_PARTS_ZH):
        return len(PHONE_HEADERS)
    words = set(re.split(r"[^a-z]+", str(header).lower()))
    return len(PHONE_HEADERS) + 1 if words & _HEADER_WORDS_EN else None


def _content_share(column: pd.Series) -> float:
    """Share of the non-empty cells (in a sample) that have the shape of a Chinese mobile number."""
    sample = column.iloc[:_CONTENT_SAMPLE]
    _, codes = _shape(sample)
    filled = codes != _EMPTY
    return float((codes[filled] == _CANDIDATE).mean()) if filled.any() else 0.0


def detect_phone_column(df: pd.DataFrame) -> str | None:
    """Name the column holding phone numbers, or None.

    By header first (:data:`PHONE_HEADERS`, exact before partial, ties settled by content), else by
    content: the column where most non-empty cells look like Chinese mobiles (at least half).
    ``source_row`` is never a candidate, nor are the columns :func:`check_numbers` adds when the
    frame has all of them.

    >>> detect_phone_column(pd.DataFrame({"姓名": ["张三"], "联系电话": ["13800138000"]}))
    '联系电话'
    """
    # A checked frame's own output columns are not candidates (its raw column is ``<name>_raw``).
    checked = set(OUTPUT_COLUMNS) <= set(df.columns)
    columns = [c for c in df.columns if c != "source_row" and not (checked and c in OUTPUT_COLUMNS)]
    by_header = [(rank, c) for c in columns if (rank := _header_rank(c)) is not None]
    if by_header:
        best_rank = min(rank for rank, _ in by_header)
        tied = [c for rank, c in by_header if rank == best_rank]
        if len(tied) == 1:
            return tied[0]
        shares = [_content_share(df[c]) for c in tied]
        return tied[int(np.argmax(shares))]
    shares = [_content_share(df[c]) for c in columns]
    if shares and max(shares) >= _CONTENT_MIN_SHARE:
        return columns[int(np.argmax(shares))]
    return None


# --------------------------------------------------------------------------------------------------
# check_numbers


def _resolve_column(df: pd.DataFrame, column: str | None) -> str:
    if column is None:
        column = df.attrs.get("phone_column")
        if column is not None and column not in df.columns:
            column = None
    if column is None:
        column = detect_phone_column(df)
        if column is None:
            raise RecipientsError(
                f"no phone column found; columns are: {', '.join(map(str, df.columns))}"
            )
    elif column not in df.columns:
        raise RecipientsError(f"no column {column!r}; columns are: {', '.join(map(str, df.columns))}")
    return column


def _labels(codes: np.ndarray, labels: Iterable[str | None] | pa.Array) -> pa.Array:
    """Integer codes to a string array (code -1 or a None label: null): one take from the few
    labels, no Python loop. large_string: what a TEXT column stores, so that pandas takes the
    array without a copy."""
    if not isinstance(labels, pa.Array):
        labels = pa.array(list(labels), pa.large_string())
    return labels.take(pa.array(codes.astype(np.int32, copy=False), mask=codes < 0))


def _sorted_runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index, start): ``values[index]`` is sorted (equal values by index), ``start`` marks where
    a run of equal values begins. One sort: a hash table of millions of distinct numbers costs
    ~0.35 µs a number in cache misses (pandas or Arrow alike); sorting them, a tenth of that."""
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    bits = max(1, (n - 1).bit_length())
    low = int(values.min())
    if int(values.max()) - low < 1 << (62 - bits):
        # Value and index packed into one int64: a plain (SIMD) sort, no argsort.
        packed = values - low
        packed <<= bits
        packed |= np.arange(n, dtype=np.int64)
        packed.sort()
        key = packed >> bits
        index = np.bitwise_and(packed, (1 << bits) - 1, out=packed)
    else:
        index = np.argsort(values, kind="stable")
        key = values[index]
    start = np.empty(n, dtype=bool)
    start[0] = True
    np.not_equal(key[1:], key[:-1], out=start[1:])
    return index, start


def _repeats(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the positions of values seen before, in order; the position of each one's first
    occurrence), for int64 ``values``: one :func:`_sorted_runs`, no hashing, and work on the
    repeats only.

    >>> [r.tolist() for r in _repeats(np.array([7, 5, 7, 5, 9, 7]))]
    [[2, 3, 5], [0, 1, 0]]
    """
    position, start = _sorted_runs(values)
    again = np.flatnonzero(~start)  # sorted by position within a value
    starts = np.flatnonzero(start)
    firsts = position[starts[np.searchsorted(starts, again, side="right") - 1]]
    order = np.argsort(position[again])
    return position[again][order], firsts[order]


def check_numbers(df: pd.DataFrame, column: str | None = None) -> pd.DataFrame:
    """Return the rows of ``df`` with ``mobile, status, reason, carrier, region, city, area_code``
    added.

    - ``mobile``: the normalised 11-digit number for ``ok`` and ``duplicate`` rows, <NA> otherwise
      (so nothing invalid can be sent);
    - ``status``: ``ok``, ``invalid`` or ``duplicate`` — among valid numbers the first occurrence is
      ``ok``, later ones ``duplicate``; an invalid value stays ``invalid`` however often it appears;
    - ``reason``: <NA> for ``ok`` rows, else a :class:`Reason` value, or ``"duplicate of row N"``
      where N is the first occurrence's ``source_row`` (its index label when there is no
      ``source_row`` column);
    - ``carrier`` (中国移动 / 中国联通 / 中国电信 / 中国广电, the range's original carrier) and
      ``region`` (e.g. 广东省深圳市) for valid numbers, <NA> where phonenumbers does not know them;
    - ``city`` and ``area_code`` (深圳, 0755) from the ``phone`` package's 号段 database, which
      also knows most ranges phonenumbers' geocoder does not; <NA> where it has no entry.
      :func:`province_of` groups rows by province from ``region``, else from that database.

    ``column`` defaults to ``df.attrs["phone_column"]``, else it is detected like
    :func:`~smscampaign.load_recipients` does; :class:`RecipientsError` if there is
    none. Validity agrees with phonenumbers (CN, MOBILE or FIXED_LINE_OR_MOBILE). Existing columns
    with the output names are replaced — except the phone column itself, which is kept as
    ``<column>_raw``. Does not mutate ``df``; the result keeps ``df.attrs`` with ``phone_column``
    set.

    >>> df = pd.DataFrame({"tel": ["13800138000", "138 0013 8000", "+86 192 0000 0000", "12"]})
    >>> check_numbers(df)[["status", "reason", "carrier"]].to_dict("list")  # doctest: +SKIP
    {'status': ['ok', 'duplicate', 'ok', 'invalid'],
     'reason': [<NA>, 'duplicate of row 0', <NA>, 'wrong length'],
     'carrier': ['中国移动', '中国移动', '中国广电', <NA>]}
    """
    column = _resolve_column(df, column)
    with _executor(len(df)) as pool:
        tables = pool.submit(_prefix_table), pool.submit(_haoduan)  # read while cells are shaped
        candidates, codes = _shape(df[column], pool)
        n = len(candidates)
        table, haoduan = tables[0].result(), tables[1].result()
        candidate_rows = np.flatnonzero(codes == _CANDIDATE)
        numbers = candidates[candidate_rows]
        good = _valid_numbers(numbers, table)
        valid = np.zeros(n, dtype=bool)
        valid[candidate_rows[good]] = True
        codes[candidate_rows[~good]] = _NOT_RANGE
        valid_rows = candidate_rows[good]
        numbers = numbers[good]
        del candidate_rows, good
        # The text columns from their few labels, on the pool while the duplicates are found.
        prefix = numbers // 10**4 - _PREFIX_BASE
        record = haoduan.record[prefix]
        later = [
            pool.submit(_as_text_numbers, candidates, valid),
            pool.submit(_prefix_labels, table.carrier[prefix], valid_rows, n, table.carriers),
            pool.submit(_prefix_labels, table.region[prefix], valid_rows, n, table.regions),
            pool.submit(_prefix_labels, record, valid_rows, n, haoduan.cities),
            pool.submit(_prefix_labels, record, valid_rows, n, haoduan.area_codes),
        ]

        # Duplicates among valid numbers, on integers: the first position per number.
        repeated, first = _repeats(numbers)
        duplicate, first = valid_rows[repeated], valid_rows[first]

        status = np.where(valid, 0, 1).astype(np.int8)
        status[duplicate] = 2
        status_arr = _labels(status, [Status.OK, Status.INVALID, Status.DUPLICATE])
        reasons = pa.array(list(_SHAPE_REASONS), pa.large_string())
        if len(duplicate):
            ids = df["source_row"] if "source_row" in df.columns else df.index
            rows = ids.take(first).to_numpy(dtype=object)
            try:
                firsts = pa.array(rows.tolist()).cast(pa.large_string())
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
                firsts = pa.array([str(r) for r in rows], pa.large_string())
            prefix, empty = (pa.scalar(t, pa.large_string()) for t in (f"{Reason.DUPLICATE.value} ", ""))
            # One label per duplicate row, after the shape reasons.
            reasons = pa.concat_arrays([reasons, pc.binary_join_element_wise(prefix, firsts, empty)])
            codes = codes.astype(np.int32)
            codes[duplicate] = len(_SHAPE_REASONS) + np.arange(len(duplicate))
        reason = _labels(codes, reasons)
        mobile, carrier, region, city, area_code = (future.result() for future in later)

    out = df.copy(deep=False)
    out.attrs = dict(df.attrs)
    if column in OUTPUT_COLUMNS:
        out = out.rename(columns={column: f"{column}_raw"})
        column = f"{column}_raw"
    found = (mobile, status_arr, reason, carrier, region, city, area_code)
    for name, values in zip(OUTPUT_COLUMNS, found, strict=True):
        out[name] = pd.array(values, dtype=TEXT)
    out.attrs["phone_column"] = column
    logger.info(
        "checked %d numbers in %r: %d ok, %d duplicate, %d invalid",
        len(out),
        column,
        int((status == 0).sum()),
        int((status == 2).sum()),
        int((status == 1).sum()),
    )
    return out
