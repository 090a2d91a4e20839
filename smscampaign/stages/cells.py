"""Cells as text, and text as bytes: what every stage reads a phone column through.

:func:`as_text` turns spreadsheet or Python cells into :data:`~smscampaign.core.dtypes.TEXT` (whole
numbers as integer digits, never ``1.38e10``); :func:`string_buffers` exposes the bytes of a text
column without copying them, for the byte-level shaping in :mod:`smscampaign.stages.shapes`;
:func:`numbers_as_text` writes 11-digit numbers back as text at memory speed.

>>> as_text(pd.Series([13800138000.0, None, "x"])).tolist()
['13800138000', <NA>, 'x']
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
import pyarrow as pa
import pyarrow.compute as pc

from smscampaign.core.dtypes import TEXT

__all__ = [
    "arrow_chunks",
    "as_text",
    "numbers_as_text",
    "replace_lone_surrogates",
    "string_buffers",
]

logger = logging.getLogger(__name__)


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


def replace_lone_surrogates(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[Any, pd.Series]]:
    """``frame`` with the loaders' rule applied to every text column: a lone surrogate becomes
    U+FFFD (logged); and per column that held one, its first surrogate in each row that did (a
    Series on the rows hit, e.g. ``"\\ud83d"``). ``frame`` is not modified: a copy is returned
    when something changed.

    >>> clean, found = replace_lone_surrogates(pd.DataFrame({"name": ["\\ud83d!", "ok"]}, dtype=object))
    >>> clean["name"].tolist(), found["name"].tolist()
    (['\\ufffd!', 'ok'], ['\\ud83d'])
    """
    out = frame
    found: dict[Any, pd.Series] = {}
    for position, column in enumerate(frame.columns):
        values = frame.iloc[:, position]
        if values.dtype != object and getattr(values.dtype, "storage", None) != "python":
            continue  # numbers, dates and Arrow text cannot hold one
        objs = values.to_numpy(dtype=object)
        first = [_SURROGATE.search(v) if isinstance(v, str) else None for v in objs]
        hit = np.array([m is not None for m in first], dtype=bool)
        if not hit.any():
            continue
        found[column] = pd.Series(
            [m.group() for m in first if m is not None], index=frame.index[hit], dtype=object
        )
        cleaned = objs.copy()
        cleaned[hit] = [_SURROGATE.sub("\ufffd", v) for v in objs[hit]]
        if out is frame:
            out = frame.copy()
            out.attrs = dict(frame.attrs)
        out.isetitem(position, pd.Series(cleaned, index=frame.index, dtype=values.dtype))
    if found:
        cells = sum(len(rows) for rows in found.values())
        logger.warning("%d cells held lone surrogates; replaced them with U+FFFD", cells)
    return out, found


def arrow_chunks(series: pd.Series) -> list[pa.Array]:
    """The pyarrow string arrays behind a :data:`TEXT` series, as they are (no copy)."""
    arr = pa.array(series.array)
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    return [chunk.cast(pa.large_string()) for chunk in chunks if len(chunk)]


def string_buffers(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
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


@lru_cache(maxsize=1)
def _four_digits() -> np.ndarray:
    """The four ASCII digits of 0…9999 as little-endian uint32 (``b"0042"`` at 42)."""
    values = np.arange(10_000)[:, None]
    digits = (values // 10 ** np.arange(3, -1, -1) % 10 + ord("0")).astype(np.uint8)
    return digits.view("<u4").ravel()


def numbers_as_text(numbers: np.ndarray, keep: np.ndarray) -> pa.Array:
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
