"""The fast shaping path: the cells a spreadsheet really holds, decided on their bytes.

:func:`clean_numbers` reads the cells that already are 11 ASCII digits starting with ``1`` straight
off their bytes (two overlapping 64-bit words a cell); :func:`shape_fast` takes the rest through
the messy path's steps, in the same order, with whole-array numpy work: map full-width and
typographic characters, trim, scientific notation, float cells, separators,
:func:`~smscampaign.stages.shape_rules.decide`. It hands back the few cells it cannot decide so
(see :func:`shape_fast`), which :func:`~smscampaign.stages.shape_messy.shape_messy` then decides.
``tests/test_numbers.py`` checks both paths agree on generated messy cells.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.lib.stride_tricks import sliding_window_view

from smscampaign.stages.cells import string_buffers
from smscampaign.stages.shape_rules import (
    LTRIM_CHARACTERS,
    SCIENTIFIC,
    SEPARATOR_BYTES,
    TO_ASCII,
    all_digits,
    byte_words,
    decide,
    eight_digits,
)

__all__ = ["clean_numbers", "shape_fast"]


_TRIM_STEPS: Final = 24  # padding characters trimmed per end before a cell is left to the general path
_CELL_WIDTH: Final = 24  # longest trimmed float-like or scientific cell the fast path decides
_TRAILING_BYTES: Final = slice(0x80, 0xC0)  # a UTF-8 character's bytes after its first
_DROPPED_BYTES: Final = SEPARATOR_BYTES.copy()  # separators, and what _to_ascii leaves behind
_DROPPED_BYTES[_TRAILING_BYTES] = True


def clean_numbers(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(which cells already are ``^1\\d{10}$`` — 11 ASCII digits starting with 1 —, their numbers;
    −1 for the other cells). Two overlapping words per cell, no per-byte pass."""
    bounds, data = string_buffers(text)
    numbers = np.full(len(text), -1, dtype=np.int64)
    clean = np.diff(bounds) == 11
    rows = np.flatnonzero(clean)
    if len(rows):
        words, at = byte_words(data), bounds[rows]
        first, second = words[at], words[at + 3]
        good = all_digits(first) & all_digits(second) & ((first & np.uint64(0xFF)) == ord("1"))
        if text.null_count:
            good &= text.is_valid().to_numpy(zero_copy_only=False)[rows]
        clean[rows[~good]] = False
        rows = rows[good]
        numbers[rows] = eight_digits(first[good]) * 1000 + eight_digits(second[good]) % 1000
    return clean, numbers


@lru_cache(maxsize=1)
def _ascii_map() -> tuple[np.ndarray, np.ndarray]:
    """:data:`TO_ASCII` as (sorted keys, ASCII bytes): a character's UTF-8 bytes packed as
    ``b0 << 16 | b1 << 8 | b2`` (``b2`` = 0 for a 2-byte character)."""
    pairs = sorted(
        (int.from_bytes(wide.encode("utf-8").ljust(3, b"\0"), "big"), ord(ascii_))
        for wide, ascii_ in TO_ASCII.items()
    )
    keys, values = zip(*pairs, strict=True)
    return np.array(keys, dtype=np.int64), np.array(values, dtype=np.uint8)


@lru_cache(maxsize=1)
def _trim_bytes() -> tuple[np.ndarray, np.ndarray]:
    """The ASCII bytes the general path trims on the left and on the right, as Arrow's kernels
    say (``utf8_rtrim_whitespace`` also trims the separators 0x1C–0x1F), as 256-entry tables;
    with the bytes that follow a mapped character's first (see :func:`_to_ascii`)."""
    probes = pa.array([chr(c) + "1" + chr(c) for c in range(128)], pa.large_string())
    left = pc.utf8_ltrim(probes, characters=LTRIM_CHARACTERS).to_pylist()
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
    """The bytes with the first byte of each character of :data:`TO_ASCII` replaced by its ASCII
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
    and what they stand for, as :func:`scientific_digits` says: (rows, where the digits start in the
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


def shape_fast(text: pa.Array, numbers: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """:func:`shape_messy` on the bytes of ``text`` for the cells a spreadsheet really holds:
    fills ``numbers`` and ``codes`` and returns the rows it leaves to the general path — cells
    with a non-ASCII character :data:`TO_ASCII` does not map, long runs of padding, long
    float-like or scientific-looking text. Same steps, same order: map full-width and
    typographic characters to ASCII, trim, scientific notation, float cells, separators,
    :func:`decide`."""
    n = len(text)
    bounds, data = string_buffers(text)
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
    codes[sci_rows[sci_size < 0]] = SCIENTIFIC
    size[null] = 0
    numbers[:] = decide(data[keep], kept_from, size, not_digits, codes)
    return np.flatnonzero(left)
