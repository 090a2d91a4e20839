"""The messy shaping path: any text, cell by cell in Arrow kernels, then numpy on the bytes.

What :func:`~smscampaign.stages.shapes.shape_cells` leaves to it (text with non-ASCII characters
:data:`~smscampaign.stages.shape_rules.TO_ASCII` does not map, long runs of padding): full-width
and typographic characters mapped, padding trimmed, scientific notation read back when no digit
was lost, float cells cut at the dot, separators dropped, then
:func:`~smscampaign.stages.shape_rules.decide`.

>>> import pyarrow as pa
>>> numbers, codes = shape_messy(pa.array(["（+86）138 0013 8000", "1.38001E+10"], pa.large_string()))
>>> numbers.tolist(), codes.tolist()
([13800138000, -1], [0, 2])
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from smscampaign.stages.cells import string_buffers
from smscampaign.stages.shape_rules import (
    DIGIT_BYTES,
    FULL_WIDTH,
    LTRIM_CHARACTERS,
    SCIENTIFIC,
    SEPARATOR_BYTES,
    UNICODE_CLASSES,
    decide,
)

__all__ = ["fix_unicode", "scientific_digits", "shape_messy"]

_SCIENTIFIC_RE: Final = r"^\+?\d+(\.\d+)?[eE]\+?\d+$"
_FINISH_ROWS: Final = 1 << 18


def fix_unicode(text: pa.Array) -> pa.Array:
    """Map full-width digits, plus, brackets, dashes, exotic spaces in non-ASCII cells to ASCII."""
    non_ascii = pc.fill_null(pc.invert(pc.string_is_ascii(text)), False)
    if not pc.any(non_ascii).as_py():
        return text
    rows = pa.array(np.flatnonzero(non_ascii.to_numpy(zero_copy_only=False)))
    subset = text.take(rows)
    for pattern, ascii_ in UNICODE_CLASSES:
        subset = pc.replace_substring_regex(subset, pattern, ascii_)
    if pc.any(pc.match_substring_regex(subset, "[\uff08-\uff19]")).as_py():
        for wide, narrow in FULL_WIDTH:
            subset = pc.replace_substring(subset, wide, narrow)
    return pc.replace_with_mask(text, non_ascii, subset)


def scientific_digits(text: str) -> str | None:
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


def shape_messy(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """:func:`shape_cells` for arbitrary text."""
    text = fix_unicode(text)
    # Leading apostrophe (Excel's "keep as text") and surrounding whitespace.
    text = pc.utf8_rtrim_whitespace(pc.utf8_ltrim(text, characters=LTRIM_CHARACTERS))
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
        exact = {v: scientific_digits(v) for v in set(originals)}
        values = [exact[v] for v in originals]
        lost = np.array([v is None for v in values])
        sci_rows = np.flatnonzero(sci_mask.to_numpy(zero_copy_only=False))
        codes[sci_rows[lost]] = SCIENTIFIC
        text = pc.replace_with_mask(
            text, sci_mask, pa.array([v if v is not None else "" for v in values], text.type)
        )

    numbers = np.empty(len(text), dtype=np.int64)
    for lo in range(0, len(text), _FINISH_ROWS):  # in slices: the byte arrays stay small
        hi = min(lo + _FINISH_ROWS, len(text))
        numbers[lo:hi] = _finish(text.slice(lo, hi - lo), codes[lo:hi])  # codes: a view, updated
    return numbers, codes


def _finish(text: pa.Array, codes: np.ndarray) -> np.ndarray:
    """The rest of :func:`shape_messy` on the bytes of trimmed ``text``, vectorised with numpy:
    float cells (``^(\\+?\\d+)\\.0+$`` → the part before the dot), separators removed
    (``[\\s\\-.()]``), then :func:`decide`. Non-ASCII bytes are never digits, separators,
    signs or dots, so such a cell ends "not digits" (as with the regexes)."""
    n = len(text)
    bounds, data = string_buffers(text)

    def per_cell(flags: np.ndarray) -> np.ndarray:
        """How many bytes of each cell are flagged (a running sum read at the cell bounds)."""
        kind = np.int32 if len(flags) < 2**31 else np.int64  # int32 halves the memory traffic
        running: np.ndarray = np.zeros(len(flags) + 1, dtype=kind)
        np.cumsum(flags, dtype=kind, out=running[1:])
        return (running[bounds[1:]] - running[bounds[:-1]]).astype(np.int64)

    separator = SEPARATOR_BYTES[data]
    kept = data[~separator]
    size = np.diff(bounds) - per_cell(separator)
    start = np.zeros(n, dtype=np.int64)
    np.cumsum(size[:-1], out=start[1:])
    not_digits = per_cell(~separator & ~DIGIT_BYTES[data])
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
    return decide(kept, start, size, not_digits, codes)
