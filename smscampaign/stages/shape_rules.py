"""The rules of a phone cell's shape, shared by the fast and the messy shaping paths.

A cell's *shape* is settled before validity: :data:`CANDIDATE` (11 digits starting with ``1``) or
why not (:data:`SHAPE_REASONS`). Both paths in :mod:`smscampaign.stages.shapes` map the same
characters to ASCII (:data:`TO_ASCII`), trim the same padding (:data:`LTRIM_CHARACTERS`), drop the
same separators (:data:`SEPARATOR_BYTES`) and end with the same verdict on a cell's bytes,
:func:`decide`. Digits are read eight at a time from 64-bit words (:func:`byte_words`,
:func:`eight_digits`).

>>> SHAPE_REASONS[WRONG_LENGTH].value
'wrong length'
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from smscampaign.core.statuses import Reason

__all__ = [
    "CANDIDATE",
    "DIGIT_BYTES",
    "EMPTY",
    "FOREIGN",
    "FULL_WIDTH",
    "LTRIM_CHARACTERS",
    "NOT_DIGITS",
    "NOT_RANGE",
    "SCIENTIFIC",
    "SEPARATOR_BYTES",
    "SHAPE_REASONS",
    "TO_ASCII",
    "UNICODE_CLASSES",
    "WRONG_LENGTH",
    "all_digits",
    "byte_words",
    "decide",
    "eight_digits",
    "eleven_digits",
]


# Shape codes computed before validity, indexing SHAPE_REASONS (0 = 11 digits starting with "1").
CANDIDATE, EMPTY, SCIENTIFIC, FOREIGN, NOT_DIGITS, WRONG_LENGTH, NOT_RANGE = range(7)
SHAPE_REASONS: Final = (
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
UNICODE_CLASSES: Final = (
    ("[\u00a0\u3000\u2000-\u200b\u202f\u205f\ufeff]", " "),
    ("[\u2010-\u2015\u2212\uff0d]", "-"),
    ("[\uff07\u2018\u2019]", "'"),
)
FULL_WIDTH: Final = (
    *((chr(0xFF10 + i), str(i)) for i in range(10)),
    ("＋", "+"),
    ("（", "("),
    ("）", ")"),
    ("．", "."),
)
# The same mapping character by character, for the fast path (tests/test_numbers.py checks that
# fix_unicode maps exactly these, over the whole Basic Multilingual Plane).
TO_ASCII: Final = {
    **dict.fromkeys("\u00a0\u3000\u202f\u205f\ufeff", " "),
    **dict.fromkeys(map(chr, range(0x2000, 0x200C)), " "),
    **dict.fromkeys([*map(chr, range(0x2010, 0x2016)), "\u2212", "\uff0d"], "-"),
    **dict.fromkeys("\uff07\u2018\u2019", "'"),
    **dict(FULL_WIDTH),
}
LTRIM_CHARACTERS: Final = " \t\n\r\v\f'"  # Excel's "keep as text" apostrophe, ASCII whitespace
# Bytes the normalisation looks at (the rest of a cell's text is never changed, only cut).
SEPARATOR_BYTES: Final = np.zeros(256, dtype=bool)
SEPARATOR_BYTES[[ord(c) for c in "\t\n\f\r -.()"]] = True  # RE2's \s is [\t\n\f\r ]
DIGIT_BYTES: Final = np.zeros(256, dtype=bool)
DIGIT_BYTES[ord("0") : ord("9") + 1] = True
_HEAD: Final = 16  # leading bytes examined per cell: "+86", "86"/"860", "01", then 3 to classify


def byte_words(data: np.ndarray) -> np.ndarray:
    """The little-endian uint64 starting at every byte of ``data`` (a view, ``len(data) − 7``
    words; x86 and ARM read unaligned words at full speed)."""
    if len(data) < 8:
        return np.zeros(0, dtype="<u8")
    return np.ndarray((len(data) - 7,), dtype="<u8", buffer=data, offset=0, strides=(1,))


_ASCII_ZEROS: Final = np.uint64(0x3030303030303030)
_HIGH_NIBBLES: Final = np.uint64(0xF0F0F0F0F0F0F0F0)


def all_digits(words: np.ndarray) -> np.ndarray:
    """Whether each of the eight bytes of each word is an ASCII digit (no byte carries into the
    next: each byte is 0x3? before the add)."""
    return ((words & _HIGH_NIBBLES) == _ASCII_ZEROS) & (
        ((words + np.uint64(0x0606060606060606)) & _HIGH_NIBBLES) == _ASCII_ZEROS
    )


def eight_digits(words: np.ndarray) -> np.ndarray:
    """The number eight ASCII digits spell (first digit in the lowest byte), as int64: pairs,
    then fours, then the eight, by multiply-and-shift within the word."""
    x = words - _ASCII_ZEROS
    x = (x * np.uint64(10) + (x >> np.uint64(8))) & np.uint64(0x00FF00FF00FF00FF)
    x = (x * np.uint64(100) + (x >> np.uint64(16))) & np.uint64(0x0000FFFF0000FFFF)
    x = (x * np.uint64(10000) + (x >> np.uint64(32))) & np.uint64(0xFFFFFFFF)
    return x.astype(np.int64)


def eleven_digits(words: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The 11-digit numbers whose digits start at byte ``at`` (words from :func:`byte_words`): digits
    1–8 and 4–11, two words that overlap."""
    return eight_digits(words[at]) * 1000 + eight_digits(words[at + 3]) % 1000


def decide(
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
    rows = np.flatnonzero(~simple & (codes == CANDIDATE))
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
            (length == 0, EMPTY),
            (foreign, FOREIGN),
            (rest_not_digits != 0, NOT_DIGITS),
            (length != 11, WRONG_LENGTH),
            (first != ord("1"), NOT_RANGE),
        ):
            found[(found == CANDIDATE) & mask] = code
        codes[rows] = found
        cut[rows] = shift
    numbers = np.full(n, -1, dtype=np.int64)
    rows = np.flatnonzero(codes == CANDIDATE)
    if len(rows):
        numbers[rows] = eleven_digits(byte_words(padded), start[rows] + cut[rows])
    return numbers
