"""Numbers that repeat: which rows share a number with another, found once per plan.

The duplicate guard of :func:`~smscampaign.plan_campaign` (one message per number) starts from
these groups: :func:`repeated` finds the rows whose key another row has and numbers their groups,
in numpy when the keys are digits of one length (:func:`digit_keys`), else with ``pandas.factorize``.

>>> import numpy as np, pyarrow as pa
>>> keys = pa.array(["138", "139", "138"])
>>> rows, groups = repeated(keys, digit_keys(keys), np.arange(3))
>>> rows.tolist(), groups.tolist()
([0, 2], [0, 0])
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from smscampaign.stages.numbers import sorted_runs

__all__ = ["digit_keys", "repeated", "shares_number_with_ok"]


def repeated(
    keys: pa.Array, digits: np.ndarray | None, positions: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Those of ``positions`` (ascending; keys not null there) whose key another of them has, in
    the same order, and a group number for each (equal keys, equal numbers, from 0). ``digits``:
    the keys as integers (:func:`digit_keys`), when they all are."""
    if digits is None:
        codes = pd.factorize(keys.take(pa.array(positions)).to_numpy(zero_copy_only=False))[0]
        shared = np.bincount(codes)[codes] > 1
        codes = np.unique(codes[shared], return_inverse=True)[1].reshape(-1)
        return positions[shared], codes.astype(np.int64, copy=False)
    index, start = sorted_runs(digits[positions])
    n = len(index)
    alone = start.copy()
    alone[:-1] &= start[1:]  # a run of one: it starts and the next starts too
    shared = ~alone
    del alone
    index = index[shared]
    codes = np.cumsum(start[shared], dtype=np.int64) - 1
    order = np.argsort(index, kind="stable") if n else index
    return positions[index[order]], codes[order]


def digit_keys(keys: pa.Array) -> np.ndarray | None:
    """``keys`` as int64 (null: 0) when every one is ASCII digits of one length — normalised
    numbers — so that equal integers mean equal texts; else None."""
    lengths = pc.min_max(pc.binary_length(keys))
    low, high = lengths["min"].as_py(), lengths["max"].as_py()
    if low is None or low != high or high > 18 or not pc.all(pc.ascii_is_decimal(keys)).as_py():
        return None
    return np.asarray(pc.fill_null(pc.cast(keys, pa.int64()), 0).to_numpy(), dtype=np.int64)


def shares_number_with_ok(
    ok: np.ndarray, duplicates: np.ndarray, rows: np.ndarray, codes: np.ndarray
) -> np.ndarray:
    """Which ``duplicates`` rows share their number with an ``ok`` row of the frame (``rows``,
    ``codes``: :func:`repeated` of the ``ok`` and ``duplicates`` rows)."""
    out = np.zeros(len(ok), dtype=bool)
    if len(codes) == 0:
        return out
    with_ok = np.zeros(int(codes.max()) + 1, dtype=bool)
    with_ok[codes[ok[rows]]] = True
    out[rows] = with_ok[codes]
    return out & duplicates
