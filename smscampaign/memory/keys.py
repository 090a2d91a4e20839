"""Number keys: how the campaign memory matches a number across frames and the store.

A number's key is its normalised 11 digits, or its text (stripped) when it has no mobile shape, so
that nothing is lost (:func:`mobile_keys`, :func:`normalized_keys`). :func:`join_keys` turns key
arrays into indexes of one type to match them — int64 when every key is 11 digits (fast hashing),
else text — and :func:`keys_as_text` turns such an index back into text.

>>> normalized_keys(["+86 138 0013 8000", "x"]).to_pylist()
['13800138000', 'x']
>>> join_keys([normalized_keys(["13800138000"]), arrow_text(["13900139000"])])[1].tolist()
[13900139000]
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from smscampaign.stages.shapes import normalize_numbers

__all__ = ["arrow_text", "join_keys", "keys_as_text", "mobile_keys", "normalized_keys"]


def keys_as_text(index: pd.Index) -> pa.Array:
    """Per-number keys (int64 or text) back as the registry's number text."""
    if index.dtype == np.int64:  # 11-digit keys (join_keys): padding restores a leading zero
        return pc.utf8_lpad(pc.cast(pa.array(index.to_numpy()), pa.string()), 11, "0")
    return arrow_text(index)


def arrow_text(values: Any) -> pa.Array:
    """Text values as one Arrow string array (Arrow-backed text handed over without Python objects)."""
    if isinstance(values, pd.Series | pd.Index) and isinstance(values.dtype, pd.StringDtype):
        if values.dtype.storage == "pyarrow":
            found = pa.array(values.array, pa.string())
            return found.combine_chunks() if isinstance(found, pa.ChunkedArray) else found
    return pa.array(pd.Series(values, dtype=object).to_numpy(dtype=object), pa.string())


def normalized_keys(mobiles: Iterable[Any]) -> pa.Array:
    """Numbers as the registry keeps them (11 digits), in order with repeats; as written (stripped)
    when they have no mobile shape. Already normalised text is taken as is, in Arrow."""
    if isinstance(mobiles, pd.Series) and isinstance(mobiles.dtype, pd.StringDtype):
        text = pa.array(mobiles.array, type=pa.string())
        if isinstance(text, pa.ChunkedArray):
            text = text.combine_chunks()
        shaped = pc.and_(pc.utf8_is_digit(text), pc.equal(pc.utf8_length(text), 11))
        if pc.all(shaped).as_py() is not False:  # every number present is normalised already
            return text
    return pa.array(mobile_keys(mobiles, keep_all=True), pa.string())


def join_keys(arrays: list[pa.Array]) -> list[pd.Index]:
    """One index per array, all of one key type: int64 when every value is 11 digits (fast
    hashing), else text."""

    def numeric(arr: pa.Array) -> bool:
        if len(arr) == 0:
            return True
        shaped = pc.and_(pc.utf8_is_digit(arr), pc.equal(pc.utf8_length(arr), 11))
        return bool(pc.all(pc.fill_null(shaped, False)).as_py())

    if all(numeric(a) for a in arrays):
        return [pd.Index(pc.cast(a, pa.int64()).to_numpy(zero_copy_only=False)) for a in arrays]
    return [pd.Index(a.to_numpy(zero_copy_only=False), dtype=object) for a in arrays]


def mobile_keys(mobiles: Iterable[Any], *, keep_all: bool = False) -> list[str]:
    """Normalised numbers (as written when they have no mobile shape); with ``keep_all`` in order with
    repeats, else distinct."""
    series = mobiles if isinstance(mobiles, pd.Series) else pd.Series(list(mobiles), dtype=object)
    normalized = normalize_numbers(series.reset_index(drop=True))
    raw = series.reset_index(drop=True).astype(object).map(lambda v: "" if v is None else str(v).strip())
    keys = normalized.astype(object).where(normalized.notna(), raw).tolist()
    return keys if keep_all else list(dict.fromkeys(k for k in keys if k))
