"""Chinese mobile numbers: normalise, validate, de-duplicate, look up carrier and region.

Every row comes back accounted for (``ok``, ``invalid`` with a reason, or ``duplicate`` of which
row), computed column-wise with :mod:`pyarrow.compute`: Google's phonenumbers is consulted once per
number *prefix* (validity per 5-digit prefix, carrier and region per 7-digit prefix), never once
per row, so a million rows take about a second.

>>> import pandas as pd
>>> df = pd.DataFrame({"手机号": ["+86 138-0013-8000", "13800138000.0", "1.38001E+10"]})
>>> check_numbers(df)["status"].tolist()
['ok', 'duplicate', 'invalid']
>>> check_numbers(df)["reason"].tolist()
[<NA>, 'duplicate of row 0', 'digits lost to scientific notation']

This module also owns phone-column detection (:data:`PHONE_HEADERS`, :func:`detect_phone_column`)
and cell-to-text conversion (:func:`as_text`), which :mod:`smscampaign.recipients` shares.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable
from datetime import date, datetime, time
from functools import lru_cache
from typing import Any, Final

import numpy as np
import pandas as pd
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc
from phonenumbers import PhoneNumberType
from phonenumbers.carrierdata import CARRIER_DATA
from phonenumbers.geodata import GEOCODE_DATA

from smscampaign.errors import RecipientsError
from smscampaign.statuses import Reason, Status

__all__ = [
    "OUTPUT_COLUMNS",
    "PHONE_HEADERS",
    "TEXT",
    "Reason",
    "Status",
    "as_text",
    "check_numbers",
    "detect_phone_column",
    "is_valid_mobile",
    "normalize_numbers",
]

logger = logging.getLogger(__name__)

#: The dtype of every text column this package produces: pyarrow-backed, missing is ``<NA>``.
TEXT: Final = pd.StringDtype("pyarrow")

#: Columns :func:`check_numbers` adds, in this order.
OUTPUT_COLUMNS: Final = ("mobile", "status", "reason", "carrier", "region")

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
_SCIENTIFIC_RE: Final = r"^\+?\d+(\.\d+)?[eE]\+?\d+$"
_SEPARATORS_RE: Final = r"[\s\-.()]"
_MOBILE_TYPES: Final = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)
# Validity of an 11-digit number is settled by its first 3 digits in phonenumbers' CN metadata, or
# 5 for a few ranges (``1740[0-5]``, ``1610\d``); _prefix_verdict probes each prefix and undecided
# ones are refined to longer prefixes, then to single numbers. tests/test_numbers.py compares the
# result with phonenumbers on every 5-digit prefix.
_VALIDITY_PREFIXES: Final = (3, 5, 7)
_PROBE_SUFFIXES: Final = ("0", "9", "5", "2")


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
        return series.astype(TEXT)
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
    return pd.Series([_cell_text(v) for v in objects], index=series.index, dtype=TEXT)


def _arrow(series: pd.Series) -> pa.Array:
    """The pyarrow string array behind a :data:`TEXT` series (one chunk)."""
    arr = pa.array(series.array)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr.cast(pa.large_string())


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


def _shape(raw: pd.Series) -> tuple[pa.Array, np.ndarray]:
    """Normalise raw values; return (11-digit candidate or null, shape code per value)."""
    text = _arrow(as_text(raw))
    # Fast path: cells that already are 11 digits starting with "1" (most of a real list).
    clean = pc.fill_null(pc.match_substring_regex(text, r"^1\d{10}$"), False)
    n_clean = pc.sum(clean).as_py() or 0
    if n_clean == len(text):
        return text, np.zeros(len(text), dtype=np.int8)
    if n_clean:
        messy_rows = np.flatnonzero(~clean.to_numpy(zero_copy_only=False))
        messy_candidate, messy_codes = _shape_messy(text.take(pa.array(messy_rows)))
        codes = np.zeros(len(text), dtype=np.int8)
        codes[messy_rows] = messy_codes
        mask = pc.invert(clean)
        candidate = pc.replace_with_mask(text, mask, messy_candidate)
        return candidate, codes
    return _shape_messy(text)


def _shape_messy(text: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """:func:`_shape` for arbitrary text."""
    text = _fix_unicode(text)
    # Leading apostrophe (Excel's "keep as text") and surrounding whitespace.
    text = pc.utf8_rtrim_whitespace(pc.utf8_ltrim(text, characters=" \t\n\r\v\f'"))
    codes = np.zeros(len(text), dtype=np.int8)

    # Scientific notation: the regex runs only on the few cells that contain an "e".
    has_e = pc.fill_null(pc.match_substring(text, "e", ignore_case=True), False)
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

    # Float cells ("13800138000.0"), then separators, then the country code and trunk prefix.
    text = pc.replace_substring_regex(text, r"^(\+?\d+)\.0+$", r"\1")
    text = pc.replace_substring_regex(text, _SEPARATORS_RE, "")
    text = pc.replace_substring_regex(text, r"^(\+86|0086)", "")
    length = pc.utf8_length(text)
    national = pc.or_(
        pc.and_(pc.equal(length, 13), pc.starts_with(text, "86")),
        pc.and_(pc.equal(length, 14), pc.starts_with(text, "860")),
    )
    text = pc.if_else(pc.fill_null(national, False), pc.utf8_slice_codeunits(text, 2), text)
    length = pc.utf8_length(text)
    trunk = pc.and_(pc.equal(length, 12), pc.starts_with(text, "01"))
    text = pc.if_else(pc.fill_null(trunk, False), pc.utf8_slice_codeunits(text, 1), text)

    def flag(mask: pa.Array) -> np.ndarray:
        return pc.fill_null(mask, False).to_numpy(zero_copy_only=False)

    length = pc.utf8_length(text)
    empty = flag(pc.or_kleene(pc.is_null(text), pc.equal(length, 0)))
    foreign = flag(pc.match_substring_regex(text, r"^(\+|00)[1-9]\d*$"))
    digits = flag(pc.match_substring_regex(text, r"^\d+$"))
    eleven = flag(pc.equal(length, 11))
    leading_one = flag(pc.starts_with(text, "1"))
    unset = codes == _CANDIDATE
    for mask, code in (
        (empty, _EMPTY),
        (foreign, _FOREIGN),
        (~digits, _NOT_DIGITS),
        (~eleven, _WRONG_LENGTH),
        (~leading_one, _NOT_RANGE),
    ):
        hit = unset & mask
        codes[hit] = code
        unset &= ~hit
    candidate = pc.if_else(pa.array(codes == _CANDIDATE), text, pa.scalar(None, text.type))
    return candidate, codes


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
    candidate, _ = _shape(series)
    return pd.Series(pd.array(candidate.cast(pa.string()), dtype=TEXT), index=series.index)


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


def _valid(candidate: pa.Array) -> np.ndarray:
    """Vectorised mobile validity of 11-digit candidates (null: False), phonenumbers per prefix."""
    valid = np.zeros(len(candidate), dtype=bool)
    undecided = pc.is_valid(candidate).to_numpy(zero_copy_only=False)
    for width in _VALIDITY_PREFIXES:
        if not undecided.any():
            return valid
        rows = np.flatnonzero(undecided)
        prefixes = pc.utf8_slice_codeunits(candidate.take(pa.array(rows)), 0, width)
        verdicts = {p: _prefix_verdict(p) for p in pc.unique(prefixes).to_pylist()}
        good = [p for p, v in verdicts.items() if v is True]
        mixed = [p for p, v in verdicts.items() if v is None]
        valid[rows] = pc.is_in(prefixes, value_set=pa.array(good, prefixes.type)).to_numpy(
            zero_copy_only=False
        )
        undecided[:] = False
        undecided[rows] = pc.is_in(prefixes, value_set=pa.array(mixed, prefixes.type)).to_numpy(
            zero_copy_only=False
        )
    rows = np.flatnonzero(undecided)
    if len(rows):  # prefixes phonenumbers splits below 7 digits: ask per number
        logger.debug("checking %d numbers one by one", len(rows))
        valid[rows] = [_is_mobile(n) for n in candidate.take(pa.array(rows)).to_pylist()]
    return valid


def is_valid_mobile(values: pd.Series | Iterable[Any]) -> pd.Series:
    """Return True where a value normalises to a mainland mobile number phonenumbers accepts.

    Agrees with ``phonenumbers`` (region CN, type MOBILE or FIXED_LINE_OR_MOBILE) on the normalised
    number; computed per number prefix. Keeps a Series' index; does not mutate the input.

    >>> is_valid_mobile(["13800138000", "10000000000", ""]).tolist()
    [True, False, False]
    """
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    candidate, _ = _shape(series)
    return pd.Series(_valid(candidate), index=series.index, dtype=bool)


@lru_cache(maxsize=2)
def _zh_prefix_table(kind: str) -> tuple[tuple[int, np.ndarray, np.ndarray], ...]:
    """phonenumbers' carrier or geocoding table for +861…, Chinese names, grouped by key length.

    These are the tables ``carrier.name_for_number`` and ``geocoder.description_for_number`` consult
    (longest prefix first; for "zh" there is no English fallback); reading them lets one
    vectorised pass answer hundreds of thousands of prefixes. tests/test_numbers.py checks the
    answers against those two functions. Returns ``(digits after 86, sorted keys as integers,
    names)`` per key length, longest first. Pure (the tables are static), hence the cache.
    """
    data = CARRIER_DATA if kind == "carrier" else GEOCODE_DATA
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


def _carrier_region(numbers: np.ndarray) -> tuple[pa.Array, pa.Array]:
    """Carrier and region per valid number (int64), looked up once per distinct 7-digit prefix."""
    inverse, prefixes = pd.factorize(numbers // 10**4)
    found = []
    for kind in ("carrier", "region"):
        names = pd.Series(_lookup(prefixes, kind), dtype=object)
        codes, labels = pd.factorize(names, use_na_sentinel=True)
        found.append(_labels(codes[inverse], [*labels.tolist(), None]))
    return found[0], found[1]


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


def _labels(codes: np.ndarray, labels: Iterable[str | None]) -> pa.Array:
    """Integer codes to a string array (code -1 or a None label: null), no Python loop."""
    labels = list(labels)
    codes = np.where(codes < 0, len(labels), codes)
    dictionary = pa.array([*labels, None], pa.string())
    indices = pa.array(codes.astype(np.int32))
    return pa.DictionaryArray.from_arrays(indices, dictionary).cast(pa.string())


def check_numbers(df: pd.DataFrame, column: str | None = None) -> pd.DataFrame:
    """Return the rows of ``df`` with ``mobile, status, reason, carrier, region`` added.

    - ``mobile``: the normalised 11-digit number for ``ok`` and ``duplicate`` rows, <NA> otherwise
      (so nothing invalid can be sent);
    - ``status``: ``ok``, ``invalid`` or ``duplicate`` — among valid numbers the first occurrence is
      ``ok``, later ones ``duplicate``; an invalid value stays ``invalid`` however often it appears;
    - ``reason``: <NA> for ``ok`` rows, else a :class:`Reason` value, or ``"duplicate of row N"``
      where N is the first occurrence's ``source_row`` (its index label when there is no
      ``source_row`` column);
    - ``carrier`` (中国移动 / 中国联通 / 中国电信 / 中国广电, the range's original carrier) and
      ``region`` (e.g. 广东省深圳市) for valid numbers, <NA> where phonenumbers does not know them.

    ``column`` defaults to ``df.attrs["phone_column"]``, else it is detected like
    :func:`~smscampaign.recipients.load_recipients` does; :class:`RecipientsError` if there is
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
    candidate, codes = _shape(df[column])
    valid = _valid(candidate)
    codes[(codes == _CANDIDATE) & ~valid] = _NOT_RANGE
    mobile = pc.if_else(pa.array(valid), candidate, pa.scalar(None, candidate.type))
    mobile = mobile.cast(pa.string())

    # Duplicates among valid numbers, on integers: first position per number.
    valid_rows = np.flatnonzero(valid)
    numbers = pc.cast(mobile.filter(pa.array(valid)), pa.int64()).to_numpy()
    # Hash-based (pd.factorize, O(n)) rather than np.unique's sort: codes follow first appearance.
    inverse, uniques = pd.factorize(numbers)
    first_idx = np.empty(len(uniques), dtype=np.int64)
    first_idx[inverse[::-1]] = np.arange(len(inverse) - 1, -1, -1)  # last write = first occurrence
    first = np.arange(len(valid))
    first[valid_rows] = valid_rows[first_idx[inverse]]
    duplicate = first != np.arange(len(valid))

    status = np.where(valid, 0, 1).astype(np.int8)
    status[duplicate] = 2
    status_arr = _labels(status, [Status.OK, Status.INVALID, Status.DUPLICATE])
    reason = _labels(codes, _SHAPE_REASONS)
    if duplicate.any():
        rows = (
            df["source_row"].to_numpy(dtype=object)
            if "source_row" in df.columns
            else df.index.to_numpy(dtype=object)
        )
        try:
            firsts = pa.array(rows[first[duplicate]].tolist()).cast(pa.string())
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            firsts = pa.array([str(r) for r in rows[first[duplicate]]], pa.string())
        texts = pc.binary_join_element_wise(f"{Reason.DUPLICATE.value} ", firsts, "")
        reason = pc.replace_with_mask(reason, pa.array(duplicate), texts)
    carrier = pa.nulls(len(mobile), pa.string())
    region = carrier
    if len(valid_rows):
        found = _carrier_region(numbers)
        carrier, region = (pc.replace_with_mask(carrier, pa.array(valid), f) for f in found)

    out = df.copy(deep=False)
    out.attrs = dict(df.attrs)
    if column in OUTPUT_COLUMNS:
        out = out.rename(columns={column: f"{column}_raw"})
        column = f"{column}_raw"
    for name, values in zip(OUTPUT_COLUMNS, (mobile, status_arr, reason, carrier, region), strict=True):
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
