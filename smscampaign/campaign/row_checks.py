"""The planning steps that skip rows: each says which live rows it skips and why.

Each step reads :class:`~smscampaign.campaign.rows.Rows` and returns ``(mask, reason)`` — a bool
per row and a reason (one text, or one per row) — which :meth:`Rows.skip` applies to the rows
still live, in the order of :func:`~smscampaign.plan_campaign`'s docstring: suppressed, missing
field, unencodable, too long (or truncated), blocked by the review, duplicate.

>>> import pyarrow as pa
>>> mask, reason = missing_field_rows({"姓名": pa.array(["张三", None])}, 2)
>>> mask.tolist(), reason[1].as_py()
([False, True], 'empty field: 姓名')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from smscampaign.campaign.repeats import repeated
from smscampaign.campaign.rows import Rows, as_mask
from smscampaign.campaign.suppression import suppressed_mask
from smscampaign.core.errors import TemplateError
from smscampaign.stages.review import Kind, Lexicon, RowReview, review_rows
from smscampaign.stages.templates import (
    Template,
    astral_counts,
    field_text,
    sms_lengths,
    split_opt_out,
    truncate_sms,
)
from smscampaign.wire.protocol import python_codec, sms_length, unencodable_characters

__all__ = [
    "TOO_LONG_FIX",
    "duplicate_rows",
    "field_values",
    "missing_field_rows",
    "review_live_rows",
    "suppressed_rows",
    "surrogate_rows",
    "too_long_rows",
    "unencodable_rows",
]

#: The fix ``on_too_long="error"`` names, in Python; the command line says it with its flag.
TOO_LONG_FIX = "shorten the template or pass on_too_long='truncate' or 'skip'"


def suppressed_rows(rows: Rows, numbers: pd.Series | None) -> tuple[np.ndarray, str]:
    """Rows whose number (normalised, or as written) is in the suppression list."""
    return suppressed_mask(rows.frame["mobile"], rows.live, numbers), "in the suppression list"


def surrogate_rows(
    rows: Rows, broken: Mapping[Any, pd.Series], columns: Sequence[Any]
) -> tuple[np.ndarray, pa.Array]:
    """Rows whose ``columns`` (the number, the placeholders) held a lone surrogate (``broken``: per
    column, the first one of each row that had one); the reason names the column and the code."""
    n = len(rows.live)
    texts: dict[int, str] = {}
    for column in dict.fromkeys(columns):
        if column not in broken:
            continue
        found = broken[column]
        for position, char in zip(rows.index.get_indexer(found.index), found, strict=True):
            if position >= 0 and position not in texts:
                texts[int(position)] = (
                    f"{column} holds half a character (lone surrogate U+{ord(char):04X}, e.g. an "
                    "emoji cut in two) that no charset can carry"
                )
    mask = np.zeros(n, dtype=bool)
    mask[list(texts)] = True
    reason = pa.nulls(n, pa.string())
    if texts:
        ordered = [texts[i] for i in sorted(texts)]
        reason = pc.replace_with_mask(reason, pa.array(mask), pa.array(ordered, pa.string()))
    return mask, reason


def field_values(values: pd.Series, default: str | None) -> pa.Array:
    """A placeholder's values as text, null where empty and without a default."""
    text = field_text(values)
    return text if default is None else pc.fill_null(text, default)


def missing_field_rows(values: Mapping[str, pa.Array], n: int) -> tuple[np.ndarray, pa.Array]:
    """Rows with an empty placeholder value; the reason names the empty columns."""
    names = list(values)
    pattern = np.zeros(n, dtype=np.int64)  # bit i set: placeholder i has no value
    for bit, text in enumerate(values.values()):
        pattern |= as_mask(pc.is_null(text)).astype(np.int64) << bit
    missing = pattern != 0
    if not missing.any():
        return missing, pa.nulls(n, pa.string())
    return missing, _missing_reason(pattern, names)


def too_long_rows(
    rows: Rows, sig: str, max_length: int, on_too_long: str
) -> tuple[np.ndarray, pa.Array | str]:
    """Rows longer than ``max_length``; with ``truncate`` only those that cannot be shortened (the
    others get a shorter body and a note)."""
    if rows.constant is not None and rows.constant_length <= max_length:
        return np.zeros(len(rows.live), dtype=bool), ""
    content, length = rows.per_row()
    over = rows.live & as_mask(pc.greater(pc.fill_null(length, 0), max_length))
    if not over.any():
        return over, ""
    length_text = pc.cast(length, pa.string())
    if on_too_long == "error":
        first = int(np.flatnonzero(over)[0])
        raise TemplateError(
            f"{int(over.sum())} message(s) longer than {max_length} characters, "
            f"e.g. row {rows.labels(np.array([first]))[0]}: {length[first].as_py()} characters "
            f"({content[first].as_py()!r}); {TOO_LONG_FIX}"
        )
    reason = pc.binary_join_element_wise(length_text, f" characters, more than {max_length}", "")
    if on_too_long == "skip":
        return over, reason
    body = rows.body
    if body is None:
        body = pa.repeat(pa.scalar(rows.literal, pa.string()), len(rows.live))
    fits, content, length, note = _truncate(body, content, length, over, sig, max_length)
    rows.content, rows.length, rows.constant = content, length, None
    rows.reasons.append((over & fits, note))
    cannot = over & ~fits
    return cannot, pc.binary_join_element_wise(
        reason, "; the signature and opt-out instruction leave no room to shorten the text", ""
    )


def review_live_rows(
    rows: Rows,
    tmpl: Template,
    sig: str | None,
    kind: Kind,
    lexicon: Lexicon | None,
    charset: str,
    unencodable: tuple[np.ndarray, pa.Array],
) -> RowReview:
    """The content review of the rows still live, with the unencodable rows reported too."""
    content, _ = rows.per_row()
    bad, why = unencodable
    example, people = None, 0
    if bad.any():
        example = why[int(np.flatnonzero(bad)[0])].as_py()
        people = pc.count_distinct(rows.keys()[0].filter(pa.array(bad))).as_py()  # not their rows
    return review_rows(
        content,
        rows.live,
        counted=rows.live & ~_later_live_rows(rows),
        template=tmpl,
        signature=sig,
        kind=kind,
        lexicon=lexicon,
        unencodable=(people, example, charset),
    )


def duplicate_rows(rows: Rows) -> tuple[np.ndarray, pa.Array]:
    """One message per number: of the rows that may be sent to a number, the first that can be is
    kept; the first row of the number, when it is not that one, keeps the reason it is skipped for;
    every other row of the number is a duplicate — whatever a step said of it (the number's count
    is its first row's), as :meth:`Rows.mark` applies it."""
    n = len(rows.live)
    mask = np.zeros(n, dtype=bool)
    reason = pa.nulls(n, pa.string())
    if not rows.candidates.any():
        return mask, reason
    candidates, codes = _shared_numbers(rows)
    if len(codes) == 0:
        return mask, reason
    groups = int(codes.max()) + 1
    first = np.empty(groups, dtype=np.int64)
    first[codes[::-1]] = candidates[::-1]  # last write wins: the first row of each number
    live = rows.live[candidates]
    kept = np.full(groups, -1, dtype=np.int64)
    kept[codes[live][::-1]] = candidates[live][::-1]
    of = np.where(kept[codes] >= 0, kept[codes], first[codes])  # the row that speaks for the number
    later = (candidates != of) & (candidates != first[codes])
    if not later.any():
        return mask, reason
    positions, of = candidates[later], of[later]
    mask[positions] = True
    texts = [
        f"duplicate of row {label}, an earlier row with the same number"
        if before
        else f"duplicate of row {label}, a later row with the same number that is sent"
        for label, before in zip(rows.labels(of), (of < positions).tolist(), strict=True)
    ]
    reason = pc.replace_with_mask(reason, pa.array(mask), pa.array(texts, type=pa.string()))
    # check_numbers already called it a duplicate of the very row that speaks: keep its words.
    same = np.zeros(n, dtype=bool)
    same[positions] = first[codes[later]] == of
    same &= as_mask(pc.equal(rows.in_status, "duplicate")) & as_mask(pc.is_valid(rows.in_reason))
    if same.any():
        reason = pc.if_else(pa.array(same), rows.in_reason, reason)
    return mask, reason


def _shared_numbers(rows: Rows) -> tuple[np.ndarray, np.ndarray]:
    """The candidate rows whose number another candidate has (ascending) and a group number each:
    only those can be duplicates, so the guard works on them alone."""
    keys, digits = rows.keys()
    if rows.repeats is not None and keys is rows.mobile:
        positions, codes = rows.repeats  # found among a superset of the candidates
        among = rows.candidates[positions]
        return positions[among], codes[among]
    return repeated(keys, digits, np.flatnonzero(rows.candidates))


def _later_live_rows(rows: Rows) -> np.ndarray:
    """Live rows after the first live row of their number: the review counts people, not them."""
    later = np.zeros(len(rows.live), dtype=bool)
    if not rows.live.any():
        return later
    candidates, codes = _shared_numbers(rows)
    live = rows.live[candidates]
    candidates, codes = candidates[live], codes[live]
    if len(codes):
        first = np.zeros(len(codes), dtype=bool)
        first[np.unique(codes, return_index=True)[1]] = True  # candidates ascend: a group's first
        later[candidates[~first]] = True
    return later


def _missing_reason(pattern: np.ndarray, names: list[str]) -> pa.Array:
    """``empty field: a, b`` per row from a bit pattern of empty placeholders."""
    distinct, inverse = np.unique(pattern, return_inverse=True)
    texts = [
        "empty field: " + ", ".join(name for bit, name in enumerate(names) if code >> bit & 1)
        for code in distinct.tolist()
    ]
    return pc.take(pa.array(texts, type=pa.string()), pa.array(inverse.reshape(-1)))


def unencodable_rows(rows: Rows, charset: str) -> tuple[np.ndarray, pa.Array]:
    """:func:`_unencodable` of the rows still live (one check when they all have one text)."""
    if rows.constant is None:
        assert rows.content is not None
        return _unencodable(rows.content, rows.live, charset)
    n = len(rows.live)
    bad, why = _unencodable(pa.array([rows.constant], pa.string()), np.ones(1, dtype=bool), charset)
    if not bad[0]:
        return np.zeros(n, dtype=bool), pa.nulls(n, pa.string())
    return rows.live.copy(), pa.repeat(why[0], n)


def _unencodable(content: pa.Array, live: np.ndarray, charset: str) -> tuple[np.ndarray, pa.Array]:
    """Rows among ``live`` whose content ``charset`` cannot carry, with a reason naming them."""
    mask = np.zeros(len(content), dtype=bool)
    if charset == "utf8" or not live.any():
        # Arrow strings are valid UTF-8: every one of them is encodable in utf-8.
        return mask, pa.nulls(len(content), pa.string())
    idx = np.flatnonzero(live)
    candidates = content.take(pa.array(idx))
    distinct = candidates.unique().to_pylist()
    try:
        "\n".join(distinct).encode(python_codec(charset))
        return mask, pa.nulls(len(content), pa.string())
    except UnicodeEncodeError:
        pass
    bad: dict[str, str] = {}
    for text in distinct:
        chars = unencodable_characters(text, charset)
        if chars:
            shown = " ".join(f"{ch!r} (U+{ord(ch):04X})" for ch in chars)
            bad[text] = f"{charset} cannot carry {shown}"
    keys = pa.array(list(bad), type=pa.string())
    position = pc.index_in(content, value_set=keys)
    mask = live & as_mask(pc.is_valid(position))
    reason = pc.take(pa.array(list(bad.values()), type=pa.string()), position)
    return mask, reason


def _truncate(
    body: pa.Array, content: pa.Array, length: pa.Array, over: np.ndarray, sig: str, max_length: int
) -> tuple[np.ndarray, pa.Array, pa.Array, pa.Array]:
    """Shorten the body of the ``over`` rows so that body + opt-out + signature fit: the signature
    and a trailing opt-out instruction (回T退订 …) are kept whole. (rows that fit, content, length,
    reason)."""
    idx = np.flatnonzero(over)
    head, tail = split_opt_out(body.take(pa.array(idx)))
    tail_length = sms_lengths(tail).to_numpy(zero_copy_only=False).astype(np.int64)
    room = max_length - sms_length(sig) - tail_length
    cut = pa.nulls(len(idx), pa.string())
    for limit in np.unique(room[room > 0]).tolist():
        selected = room == limit
        part = head.filter(pa.array(selected))
        # Without astral characters a code point is one UTF-16 unit: slice in Arrow; else per row.
        shortened = pc.utf8_slice_codeunits(part, 0, limit)
        astral = astral_counts(part) > 0
        if astral.any():
            slow = [truncate_sms(text, limit) for text in part.filter(pa.array(astral)).to_pylist()]
            shortened = pc.replace_with_mask(shortened, pa.array(astral), pa.array(slow, pa.string()))
        cut = pc.replace_with_mask(cut, pa.array(selected), shortened)
    ok = as_mask(pc.greater(pc.fill_null(pc.utf8_length(cut), 0), 0))  # some text must be left
    new = pc.binary_join_element_wise(cut, tail, sig, "")
    fits = np.zeros(len(over), dtype=bool)
    fits[idx[ok]] = True
    new_content = pc.replace_with_mask(content, pa.array(fits), new.filter(pa.array(ok)))
    new_length = pc.cast(sms_lengths(new_content), pa.int64())
    kept = pc.utf8_trim(tail, " \t\n，,。.;；、!！")
    kept_full = pc.replace_with_mask(pa.nulls(len(over), pa.string()), pa.array(over), kept)
    suffix = pc.if_else(
        pc.greater(pc.fill_null(pc.utf8_length(kept_full), 0), 0),
        pc.binary_join_element_wise(", body shortened before the opt-out ", kept_full, ""),
        "",
    )
    note = pc.binary_join_element_wise(
        "truncated from ",
        pc.cast(length, pa.string()),
        " to ",
        pc.cast(new_length, pa.string()),
        " characters",
        suffix,
        "",
    )
    return fits, new_content, new_length, note
