"""Chinese mobile numbers checked: normalised, validated, de-duplicated, with carrier and region.

Every row comes back accounted for (``ok``, ``invalid`` with a reason, or ``duplicate`` of which
row), computed column-wise (Arrow kernels, then numpy on the cells' bytes). The work is in three
modules this one puts together: :mod:`smscampaign.stages.shapes` (each cell as its 11-digit number,
or why it has none), :mod:`smscampaign.stages.prefixes` (validity, carrier, region, city per
7-digit prefix) and, here, duplicates (:func:`sorted_runs`) and the frame :func:`check_numbers`
returns.

>>> import pandas as pd
>>> df = pd.DataFrame({"手机号": ["+86 138-0013-8000", "13800138000.0", "1.38001E+10"]})
>>> check_numbers(df)["status"].tolist()
['ok', 'duplicate', 'invalid']
>>> check_numbers(df)["reason"].tolist()
[<NA>, 'duplicate of row 0', 'digits lost to scientific notation']

This module also owns phone-column detection (:data:`PHONE_HEADERS`, :func:`detect_phone_column`),
which :mod:`smscampaign.stages.recipients` shares. The names that moved out (:func:`as_text`,
:func:`normalize_numbers`, :func:`is_valid_mobile`, :func:`province_of`, :data:`PROVINCES`,
:data:`UNKNOWN`) are still importable from here.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from smscampaign.core.dtypes import TEXT
from smscampaign.core.errors import RecipientsError
from smscampaign.core.statuses import Reason, Status
from smscampaign.stages.cells import as_text, numbers_as_text
from smscampaign.stages.prefixes import (
    PREFIX_BASE,
    PROVINCES,
    UNKNOWN,
    haoduan,
    is_valid_mobile,
    prefix_table,
    province_of,
    region_by_prefix,
    valid_numbers,
)
from smscampaign.stages.shape_rules import CANDIDATE, EMPTY, NOT_RANGE, SHAPE_REASONS
from smscampaign.stages.shapes import cell_executor, normalize_numbers, shape_cells

__all__ = [
    "OUTPUT_COLUMNS",
    "PHONE_HEADERS",
    "PROVINCES",
    "TEXT",
    "UNKNOWN",
    "Reason",
    "RecipientsError",
    "Status",
    "as_text",
    "check_numbers",
    "detect_phone_column",
    "is_valid_mobile",
    "normalize_numbers",
    "province_of",
    "sorted_runs",
]

logger = logging.getLogger(__name__)

#: Columns :func:`check_numbers` adds, in this order.
OUTPUT_COLUMNS: Final = ("mobile", "status", "reason", "carrier", "region", "city", "area_code")

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
    _, codes = shape_cells(sample)
    filled = codes != EMPTY
    return float((codes[filled] == CANDIDATE).mean()) if filled.any() else 0.0


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


def _prefix_labels(prefix_codes: np.ndarray, rows: np.ndarray, n: int, names: Iterable[str]) -> pa.Array:
    """A string array of length ``n``: ``names[prefix_codes[i]]`` at ``rows[i]``, null elsewhere."""
    codes = np.full(n, -1, dtype=np.int32)
    codes[rows] = prefix_codes
    return _labels(codes, names)


def sorted_runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
    occurrence), for int64 ``values``: one :func:`sorted_runs`, no hashing, and work on the
    repeats only.

    >>> [r.tolist() for r in _repeats(np.array([7, 5, 7, 5, 9, 7]))]
    [[2, 3, 5], [0, 1, 0]]
    """
    position, start = sorted_runs(values)
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
    - ``carrier`` (中国移动 / 中国联通 / 中国电信 / 中国广电, the range's original carrier) for
      valid numbers, <NA> where phonenumbers does not know it;
    - ``region`` (e.g. 广东省深圳市): phonenumbers' geocoder, else the city of the ``phone``
      package's 号段 database as phonenumbers names it (19912345678: 河北省唐山市; see
      :func:`~smscampaign.stages.prefixes.region_by_prefix`); <NA> where neither knows it;
    - ``city`` and ``area_code`` (深圳, 0755) from that 号段 database, which also knows most ranges
      phonenumbers' geocoder does not; <NA> where it has no entry. :func:`province_of` groups rows
      by province from ``region``, else from that database.

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
    with cell_executor(len(df)) as pool:
        tables = pool.submit(prefix_table), pool.submit(haoduan)  # read while cells are shaped
        candidates, codes = shape_cells(df[column], pool)
        n = len(candidates)
        table, places = tables[0].result(), tables[1].result()
        regions, region_names = region_by_prefix()  # from the two tables (cached after a first use)
        candidate_rows = np.flatnonzero(codes == CANDIDATE)
        numbers = candidates[candidate_rows]
        good = valid_numbers(numbers, table)
        valid = np.zeros(n, dtype=bool)
        valid[candidate_rows[good]] = True
        codes[candidate_rows[~good]] = NOT_RANGE
        valid_rows = candidate_rows[good]
        numbers = numbers[good]
        del candidate_rows, good
        # The text columns from their few labels, on the pool while the duplicates are found.
        prefix = numbers // 10**4 - PREFIX_BASE
        record = places.record[prefix]
        later = [
            pool.submit(numbers_as_text, candidates, valid),
            pool.submit(_prefix_labels, table.carrier[prefix], valid_rows, n, table.carriers),
            pool.submit(_prefix_labels, regions[prefix], valid_rows, n, region_names),
            pool.submit(_prefix_labels, record, valid_rows, n, places.cities),
            pool.submit(_prefix_labels, record, valid_rows, n, places.area_codes),
        ]

        # Duplicates among valid numbers, on integers: the first position per number.
        repeated, first = _repeats(numbers)
        duplicate, first = valid_rows[repeated], valid_rows[first]

        status = np.where(valid, 0, 1).astype(np.int8)
        status[duplicate] = 2
        status_arr = _labels(status, [Status.OK, Status.INVALID, Status.DUPLICATE])
        reasons = pa.array(list(SHAPE_REASONS), pa.large_string())
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
            codes[duplicate] = len(SHAPE_REASONS) + np.arange(len(duplicate))
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
