"""The outcomes an analyst brings (an orders export, a CRM visits sheet), read and checked.

:func:`read_outcomes` takes a DataFrame or a path (loaded like a recipient list: ``.xlsx .csv …``,
every cell as exact text) and returns one row per usable outcome: its person key, its time as
integer microseconds (UTC) and its value. What cannot be read is an :class:`OutcomesError` that
names the rows — a time, a number or an amount that means nothing would bias the measure silently:

- the key: ``"mobile"`` — the number, normalised like recipient numbers (``+86 …``, spaces,
  ``138.0013.8000``, numeric cells all become the same 11 digits); or a customer id column such as
  ``会员号``, matched as exact text (stripped). Rows without a key are left out (counted);
- the time: ``time=`` or the column a name (下单时间, 日期, time, date …) or a datetime dtype gives
  away; text such as ``2026-03-05 14:22``, ``2026/3/5 14:22:00`` or ISO-8601; naive times are
  Beijing time;
- the value (``value=``, e.g. 金额): numbers, or text such as ``¥1,280.50`` / ``1280元``; empty is 0.

>>> rows = read_outcomes(pd.DataFrame({"手机": ["+86 138 0013 8000"], "下单时间": ["2026-03-05 14:22"]}),
...                      key="mobile", time=None, value=None)
>>> rows.keys.tolist(), len(rows.at)
([13800138000], 1)
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from smscampaign.core.errors import OutcomesError
from smscampaign.memory.times import positive_duration
from smscampaign.stages.cells import as_text
from smscampaign.stages.numbers import detect_phone_column
from smscampaign.stages.recipients import load_recipients
from smscampaign.stages.shapes import normalize_numbers
from smscampaign.wire.protocol import BEIJING

__all__ = ["MOBILE_KEY", "OutcomeRows", "outcome_window", "read_outcomes"]

#: ``key=`` for matching outcomes by the number.
MOBILE_KEY: Final = "mobile"
_TIME_HINT: Final = re.compile(r"时间|日期|时刻|time|date|^at$|_at$|when", re.I)
_MONEY_NOISE: Final = r"[¥￥$,，元\s]"
_SHOWN: Final = 5


@dataclass(frozen=True)
class OutcomeRows:
    """Usable outcomes: ``keys`` (int64 numbers when matching by mobile, else text), ``at`` (int64
    microseconds since the epoch, UTC), ``values`` (float64, or None without ``value=``); ``read``
    rows were read, ``no_key`` of them had no key."""

    keys: pd.Index
    at: np.ndarray
    values: np.ndarray | None
    read: int
    no_key: int


def outcome_window(window: Any) -> pd.Timedelta:
    """``window`` (``"14D"``, ``"14d"``, ``"36h"``, a timedelta) as a positive duration; a bare
    number is refused (``14`` would be 14 nanoseconds to pandas)."""
    bare = isinstance(window, str) and re.fullmatch(r"\s*[-+]?[\d.]+\s*", window)
    if bare or isinstance(window, bool | int | float | np.integer | np.floating):
        raise OutcomesError(
            f"window must be a duration such as '14D' or '36h', not the bare number {window!r}"
        )
    try:
        return positive_duration(window, "window")
    except ValueError as exc:
        raise OutcomesError(str(exc)) from None


def _where(frame: pd.DataFrame, bad: np.ndarray) -> str:
    """The rows a person looks for: sheet rows (``source_row``) or index labels, the first few."""
    hits = np.flatnonzero(bad)
    if "source_row" in frame.columns:
        labels = frame["source_row"].to_numpy()[hits[:_SHOWN]]
        head = "row" + ("s" if len(hits) > 1 else "")
    else:
        labels = frame.index.to_numpy()[hits[:_SHOWN]]
        head = "index" + ("es" if len(hits) > 1 else "")
    more = f" and {len(hits) - _SHOWN} more" if len(hits) > _SHOWN else ""
    return f"{head} {', '.join(str(v) for v in labels)}{more}"


def _examples(column: pd.Series, bad: np.ndarray) -> str:
    found = column.to_numpy(dtype=object)[np.flatnonzero(bad)[:_SHOWN]]
    return ", ".join(repr(str(v)) for v in found)


def _load(outcomes: Any, key: str) -> pd.DataFrame:
    if isinstance(outcomes, pd.DataFrame):
        return outcomes
    if isinstance(outcomes, str | os.PathLike):
        return load_recipients(outcomes, phone_column=None if key == MOBILE_KEY else key)
    raise OutcomesError(f"outcomes must be a DataFrame or a file path, not {type(outcomes).__name__}")


def _key_column(frame: pd.DataFrame, key: str) -> str:
    columns = ", ".join(str(c) for c in frame.columns if c != "source_row") or "none"
    if key != MOBILE_KEY:
        if key not in frame.columns:
            raise OutcomesError(f"the outcomes have no column {key!r} (columns: {columns})")
        return key
    if MOBILE_KEY in frame.columns:
        return MOBILE_KEY
    found = detect_phone_column(frame) or frame.attrs.get("phone_column")
    if not found or found not in frame.columns:
        raise OutcomesError(
            f"no phone column in the outcomes (columns: {columns}); name the key with key=…"
        )
    return str(found)


def _time_column(frame: pd.DataFrame, time: str | None, taken: set[str]) -> str:
    columns = ", ".join(str(c) for c in frame.columns if c != "source_row") or "none"
    if time is not None:
        if time not in frame.columns:
            raise OutcomesError(f"the outcomes have no time column {time!r} (columns: {columns})")
        return time
    candidates = [c for c in frame.columns if c not in taken and c != "source_row"]
    typed = [c for c in candidates if pd.api.types.is_datetime64_any_dtype(frame[c])]
    named = [c for c in candidates if _TIME_HINT.search(str(c))]
    if typed or named:
        return str((typed or named)[0])
    raise OutcomesError(
        f"no time column in the outcomes (columns: {columns}): each outcome needs the time it "
        "happened (e.g. 下单时间); name it with time=…"
    )


def _arrow_cells(cells: pd.Series) -> pa.Array:
    """A column as one Arrow string array: Arrow-backed text as is, anything else as cell text."""
    if isinstance(cells.dtype, pd.StringDtype) and cells.dtype.storage == "pyarrow":
        found = pa.array(cells.array, pa.string())
    else:
        found = pa.array(as_text(cells).array, pa.string())
    return found.combine_chunks() if isinstance(found, pa.ChunkedArray) else found


def _number_keys(frame: pd.DataFrame, column: str) -> tuple[pd.Index, np.ndarray]:
    """Each row's number as int64 (11 digits) and which rows have one; numbers that cannot be read
    are an error naming the rows. Clean 11-digit text is cast in Arrow; only the other shapes go
    through :func:`normalize_numbers`, once per distinct value."""
    cells = frame[column]
    text = _arrow_cells(cells)
    clean = pc.fill_null(pc.and_(pc.utf8_is_digit(text), pc.equal(pc.binary_length(text), 11)), False)
    clean_rows = clean.to_numpy(zero_copy_only=False)
    numbers = np.zeros(len(text), dtype=np.int64)
    if clean_rows.any():
        numbers[clean_rows] = pc.cast(pc.filter(text, clean), pa.int64()).to_numpy(zero_copy_only=False)
    keep = clean_rows.copy()
    messy = np.flatnonzero(~clean_rows)
    if len(messy):
        codes, uniques = pd.factorize(
            pd.Series(text.take(pa.array(messy)).to_pandas()), use_na_sentinel=True
        )
        distinct = pd.Series(np.asarray(uniques, dtype=object))
        normalized = normalize_numbers(distinct)
        stripped = distinct.astype(object).map(lambda v: str(v).strip())
        unreadable = (normalized.isna() & (stripped != "")).to_numpy()
        bad = np.zeros(len(text), dtype=bool)
        bad[messy] = (codes >= 0) & np.append(unreadable, False)[codes]
        if bad.any():
            raise OutcomesError(
                f"the outcomes' {column!r} holds values that are not mobile numbers at "
                f"{_where(frame, bad)} ({_examples(cells, bad)}); fix or drop those rows (numbers "
                "are read like recipient numbers: +86, spaces and dashes are fine, 1.38E+10 is not)"
            )
        found = np.append(normalized.notna().to_numpy(), False)[codes]
        values = np.append(normalized.fillna("0").astype("int64").to_numpy(), 0)[codes]
        numbers[messy] = values
        keep[messy] = found
    return pd.Index(numbers[keep]), keep


def _text_keys(frame: pd.DataFrame, column: str) -> tuple[pd.Index, np.ndarray]:
    text = as_text(frame[column]).str.strip()
    keep = (text.notna() & (text != "")).to_numpy()
    return pd.Index(text.to_numpy(dtype=object)[keep], dtype=object), keep


def _parse_times(distinct: pd.Series) -> pd.Series:
    """Distinct time texts as UTC datetimes (NaT where unreadable); naive = Beijing time."""
    try:
        parsed = pd.to_datetime(distinct, format="ISO8601", errors="coerce")
    except (ValueError, TypeError):  # mixed offsets: one by one below
        parsed = pd.Series(pd.NaT, index=distinct.index, dtype="datetime64[us]")
    out = []
    for text, stamp in zip(distinct.tolist(), list(parsed), strict=True):
        if pd.isna(stamp) and text is not None:
            try:
                stamp = pd.to_datetime(text, format="mixed")
            except (ValueError, TypeError, OverflowError):
                stamp = pd.NaT
        if pd.isna(stamp):
            out.append(pd.NaT)
        elif stamp.tzinfo is None:
            out.append(stamp.tz_localize(BEIJING).tz_convert("UTC"))
        else:
            out.append(stamp.tz_convert("UTC"))
    return pd.Series(pd.DatetimeIndex(out, tz="UTC").as_unit("us"), index=distinct.index)


def _micros(frame: pd.DataFrame, column: str) -> np.ndarray:
    """The outcomes' times as int64 microseconds (UTC); unreadable or missing ones are an error."""
    cells = frame[column]
    if pd.api.types.is_datetime64_any_dtype(cells.dtype):
        stamps = pd.DatetimeIndex(cells)
        stamps = stamps.tz_localize(BEIJING) if stamps.tz is None else stamps
        micros = stamps.as_unit("us").asi8
        bad = stamps.isna()
    else:
        text = as_text(cells).str.strip()
        codes, uniques = pd.factorize(text, use_na_sentinel=True)
        parsed = _parse_times(pd.Series(np.asarray(uniques, dtype=object)))
        table = np.append(pd.DatetimeIndex(parsed).asi8, np.iinfo(np.int64).min)
        micros = table[codes]
        bad = micros == np.iinfo(np.int64).min
    if bad.any():
        raise OutcomesError(
            f"the outcomes' times ({column!r}) cannot be read at {_where(frame, bad)} "
            f"({_examples(cells, bad)}); write them like 2026-03-05 14:22"
        )
    return np.asarray(micros, dtype=np.int64)


def _values(frame: pd.DataFrame, column: str) -> np.ndarray:
    """The outcomes' values as float64 (empty: 0); text that is no amount is an error."""
    cells = frame[column]
    if pd.api.types.is_numeric_dtype(cells.dtype) and not pd.api.types.is_bool_dtype(cells.dtype):
        return cells.to_numpy(dtype="float64", na_value=0.0)
    text = as_text(cells).str.replace(_MONEY_NOISE, "", regex=True)
    numbers = pd.to_numeric(text, errors="coerce")
    bad = (numbers.isna() & text.notna() & (text != "")).to_numpy()
    if bad.any():
        raise OutcomesError(
            f"the outcomes' values ({column!r}) are not amounts at {_where(frame, bad)} "
            f"({_examples(cells, bad)})"
        )
    return numbers.to_numpy(dtype="float64", na_value=0.0)


def read_outcomes(outcomes: Any, *, key: str, time: str | None, value: str | None) -> OutcomeRows:
    """The usable rows of ``outcomes`` (a DataFrame, not modified, or a path): see the module."""
    frame = _load(outcomes, key)
    key_column = _key_column(frame, key)
    time_column = _time_column(frame, time, {key_column, *([value] if value else [])})
    if value is not None and value not in frame.columns:
        columns = ", ".join(str(c) for c in frame.columns if c != "source_row")
        raise OutcomesError(f"the outcomes have no value column {value!r} (columns: {columns})")
    if key == MOBILE_KEY:
        keys, keep = _number_keys(frame, key_column)
    else:
        keys, keep = _text_keys(frame, key_column)
    kept = frame if keep.all() else frame[keep]
    return OutcomeRows(
        keys=keys,
        at=_micros(kept, time_column),
        values=None if value is None else _values(kept, value),
        read=len(frame),
        no_key=int((~keep).sum()),
    )
