"""Text shapes: each phone cell as its 11-digit number, or why it has none.

:func:`normalize_numbers` is the public face; :func:`shape_cells` does the work for it and for
:func:`~smscampaign.stages.numbers.check_numbers`, in slices on threads, choosing per cell between
three paths that give the same answers: cells already clean (read straight off their bytes), the
fast path (:mod:`smscampaign.stages.shape_fast`) and the messy one
(:mod:`smscampaign.stages.shape_messy`). The rules they share are :mod:`smscampaign.stages.shape_rules`.

>>> normalize_numbers(["+86 138-0013-8000", "１３８0013８000", 13800138000.0, "x"]).tolist()
['13800138000', '13800138000', '13800138000', <NA>]
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import nullcontext
from typing import Any, Final, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa

from smscampaign.core.dtypes import TEXT
from smscampaign.stages.cells import arrow_chunks, as_text, numbers_as_text
from smscampaign.stages.shape_fast import clean_numbers, shape_fast
from smscampaign.stages.shape_messy import shape_messy

__all__ = ["cell_executor", "normalize_numbers", "shape_cells"]

_T = TypeVar("_T")
_FAST_ROWS: Final = 1 << 16  # cells per slice: the arrays stay in the CPU cache (measured best)


def shape_cells(raw: pd.Series, pool: Executor | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Normalise raw values; return (the 11-digit candidate as int64, −1 where there is none;
    the shape code per value).

    Three paths give the same answers, in slices of :data:`_FAST_ROWS` cells (on ``pool``'s
    threads: numpy and Arrow let go of the GIL): cells that already are 11 ASCII digits starting
    with ``1`` are read straight off their bytes (:func:`clean_numbers`); :func:`shape_fast`
    decides the other cells a spreadsheet really holds on their bytes; the few it leaves (other
    non-ASCII text, long runs of padding) go through :func:`shape_messy`, the general path.
    ``tests/test_numbers.py`` compares them on generated messy cells.
    """
    chunks = arrow_chunks(as_text(raw))
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
        clean, numbers[here] = clean_numbers(part)
        messy = np.flatnonzero(~clean)
        if len(messy) == len(part):
            return shape_fast(part, numbers[here], codes[here]) + lo
        if not len(messy):
            return messy
        found, found_codes = np.empty(len(messy), dtype=np.int64), np.zeros(len(messy), dtype=np.int8)
        rows = messy[shape_fast(part.take(pa.array(messy)), found, found_codes)]
        numbers[lo + messy], codes[lo + messy] = found, found_codes
        return rows + lo

    with cell_executor(n) if pool is None else nullcontext(pool) as run:
        left = np.concatenate([np.zeros(0, dtype=np.int64), *run.map(slice_, slices)])
    if len(left):
        text = pa.chunked_array(chunks, pa.large_string()).take(pa.array(left)).combine_chunks()
        numbers[left], codes[left] = shape_messy(text)
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


def cell_executor(rows: int) -> Executor:
    """Threads for checking ``rows`` cells: one per CPU this process may use (at most 4), when
    there are at least two slices of work; else everything runs in the caller's thread."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    workers = min(cpus, 4, -(-rows // _FAST_ROWS))
    return ThreadPoolExecutor(workers, thread_name_prefix="check_numbers") if workers > 1 else _Inline()


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
    numbers, _ = shape_cells(series)
    return pd.Series(pd.array(numbers_as_text(numbers, numbers >= 0), dtype=TEXT), index=series.index)
