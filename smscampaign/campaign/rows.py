"""The rows of one planning run: each input row's number, status and reason while the steps run.

:class:`Rows` holds, by position, what the steps of :func:`~smscampaign.plan_campaign` read and
decide: the numbers as Arrow text, which rows are still ``live`` (may be sent), each row's status
as a one-byte :class:`StatusCode` and the reasons the steps gave. :meth:`Rows.skip` is how a step
marks rows; :meth:`Rows.assemble` builds the output frame, freeing the working arrays first.

>>> import pandas as pd
>>> rows = Rows.of(pd.DataFrame({"mobile": ["13800138000", None], "status": "ok"}))
>>> rows.live.tolist(), [str(STATUS_NAMES[code]) for code in rows.status]
([True, False], ['ready', 'invalid'])
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from smscampaign.campaign.plan_model import BLOCKED, STATUSES
from smscampaign.campaign.repeats import digit_keys, repeated, shares_number_with_ok
from smscampaign.campaign.suppression import number_keys
from smscampaign.core.allocator import release_memory
from smscampaign.stages.numbers import TEXT
from smscampaign.stages.templates import Template, field_text, render_bodies, sms_lengths
from smscampaign.wire.protocol import sms_length

__all__ = ["STATUS_NAMES", "Rows", "StatusCode", "as_mask"]

logger = logging.getLogger(__name__)

#: Every status the plan gives, in the order of :class:`StatusCode`.
STATUS_NAMES: Final = (*STATUSES, BLOCKED)
_NULL_STR: Final = pa.scalar(None, pa.string())


class StatusCode(IntEnum):
    """A row's status while planning, one byte a row: ``STATUS_NAMES[code]`` is its text."""

    READY = 0
    INVALID = 1
    DUPLICATE = 2
    SUPPRESSED = 3
    MISSING = 4
    UNENCODABLE = 5
    TOO_LONG = 6
    BLOCKED = 7


@dataclass(eq=False)
class Rows:
    """The working state of one planning run, one entry per input row (positions, not labels)."""

    frame: pd.DataFrame  # the input, index reset
    index: pd.Index  # the input's index (labels for messages when there is no source_row)
    mobile: pa.Array
    # The input column's own large_string array when ``mobile`` is its texts read in place: what
    # the batches keep (no copy of the numbers).
    mobile_column: pa.Array | None
    mobile_digits: np.ndarray | None  # mobile as int64 when all are digits of one length
    # Rows among ok and duplicate ones whose number another has (positions, group numbers): the
    # candidates are among those rows, so the duplicate guard starts from these.
    repeats: tuple[np.ndarray, np.ndarray] | None
    in_status: pa.Array
    in_reason: pa.Array
    reason_column: pa.Array | None  # as mobile_column, for the input's reason
    planned: np.ndarray  # rows the plan decides (the others keep their input status)
    candidates: np.ndarray  # rows with a number the plan may send to
    live: np.ndarray  # candidates not skipped yet
    status: np.ndarray
    reasons: list[tuple[np.ndarray, pa.Array | str]]
    body: pa.Array | None = None
    content: pa.Array | None = None
    length: pa.Array | None = None
    # The one text every row gets while the template has no placeholder (None once truncation
    # made contents differ): content, length and body per row are then built only if a step
    # needs them (too long, review), and batches and the output columns come from this one string
    # instead of copies of a 10M-row column.
    constant: str | None = None
    constant_length: int = 0
    literal: str | None = None

    @classmethod
    def of(cls, recipients: pd.DataFrame) -> Rows:
        n = len(recipients)
        frame = recipients.reset_index(drop=True)
        mobile, mobile_column = _column_text(frame["mobile"])
        if "status" in frame.columns:
            in_status = pc.fill_null(_field_text(frame["status"]), "ok")
        else:
            logger.warning(
                "recipients have no status column: numbers are sent as written; "
                "use check_numbers to validate and normalise them"
            )
            in_status = pa.repeat(pa.scalar("ok"), n)
        reason_column = None
        if "reason" in frame.columns:
            in_reason, reason_column = _column_text(frame["reason"])
        else:
            in_reason = pa.nulls(n, pa.string())
        ok = as_mask(pc.equal(in_status, "ok"))
        has_number = as_mask(pc.is_valid(mobile))
        no_number = ok & ~has_number
        # check_numbers' duplicates are candidates again, as their first row may not be sendable —
        # but only when that row is in this plan: a list split into two plans must not text a
        # person from both.
        duplicates = as_mask(pc.equal(in_status, "duplicate")) & has_number
        digits = digit_keys(mobile) if duplicates.any() or ok.any() else None
        repeats = None
        if duplicates.any():
            # The numbers that repeat among these rows: found once, here and for the guard.
            repeats = repeated(mobile, digits, np.flatnonzero((ok & has_number) | duplicates))
            duplicates &= shares_number_with_ok(ok & has_number, duplicates, *repeats)
        candidates = (ok & has_number) | duplicates
        status = np.full(n, StatusCode.READY, dtype=np.int8)
        status[no_number] = StatusCode.INVALID
        return cls(
            frame=frame,
            index=recipients.index,
            mobile=mobile,
            mobile_column=mobile_column,
            mobile_digits=digits,
            repeats=repeats,
            in_status=in_status,
            in_reason=in_reason,
            reason_column=reason_column,
            planned=candidates | no_number,
            candidates=candidates,
            live=candidates.copy(),
            status=status,
            reasons=[(no_number, "no mobile number")],
        )

    def skip(self, code: int, mask: np.ndarray, reason: pa.Array | str) -> None:
        """Give the ``mask`` rows still live status ``code`` and ``reason``."""
        mask = mask & self.live
        if mask.any():
            self.status[mask] = code
            self.reasons.append((mask, reason))
            self.live &= ~mask

    def mark(self, code: int, mask: np.ndarray, reason: pa.Array | str) -> None:
        """Give the ``mask`` rows status ``code`` and ``reason`` whatever a step said of them before
        (the duplicate guard: a later row of a number is a duplicate, not the step's count again)."""
        if mask.any():
            self.status[mask] = code
            self.reasons.append((mask, reason))
            self.live &= ~mask

    def render(self, tmpl: Template, values: Mapping[str, pa.Array], sig: str) -> None:
        n = len(self.live)
        if tmpl.is_constant:
            text = tmpl.literal_text() + sig
            self.literal, self.constant, self.constant_length = (
                tmpl.literal_text(),
                text,
                sms_length(text),
            )
        else:
            self.body = render_bodies(tmpl, values, n)
            self.content = pc.binary_join_element_wise(self.body, sig, "") if sig else self.body
            self.length = pc.cast(sms_lengths(self.content), pa.int64())

    def per_row(self) -> tuple[pa.Array, pa.Array]:
        """(content, length) per row, built from the one text when the template has none."""
        if self.content is None or self.length is None:
            assert self.constant is not None
            n = len(self.live)
            self.content = pa.repeat(pa.scalar(self.constant, pa.string()), n)
            self.length = pa.repeat(pa.scalar(self.constant_length, pa.int64()), n)
        return self.content, self.length

    def _status_text(self) -> pa.Array:
        """The output ``status``: the plan's for planned rows, the input's for the others — one
        take from the few distinct texts, straight into the output's large_string."""
        names = pa.array(STATUS_NAMES, pa.large_string())
        index = self.status.astype(np.int32)
        kept = ~self.planned
        if kept.any():
            others = pc.dictionary_encode(self.in_status.filter(pa.array(kept)))
            names = pa.concat_arrays([names, others.dictionary.cast(pa.large_string())])
            index[kept] = others.indices.to_numpy(zero_copy_only=False) + len(STATUS_NAMES)
        return names.take(pa.array(index))

    def _reason_text(self) -> pa.Array:
        """The output ``reason``: the input's for rows the plan does not decide, else the reason
        of the last step that marked the row (null if none) — the steps' reasons of their own
        rows gathered once, then one take (no 10M-row copy per step)."""
        n = len(self.planned)
        index = np.full(n, -1, dtype=np.int64)
        pieces: list[pa.Array] = []
        size = 0
        for rows, text in [(~self.planned, self.in_reason), *self.reasons]:
            positions = np.flatnonzero(rows)
            if len(positions) == 0:
                continue
            if isinstance(text, str):
                piece = pa.array([text], pa.large_string())
                index[positions] = size
            else:
                piece = text.take(pa.array(positions)).cast(pa.large_string())
                index[positions] = np.arange(size, size + len(positions))
            pieces.append(piece)
            size += len(piece)
        if not pieces:
            return pa.nulls(n, pa.large_string())
        return pa.concat_arrays(pieces).take(pa.array(index, mask=index < 0))

    def keys(self) -> tuple[pa.Array, np.ndarray | None]:
        """The number each row is compared by — checked numbers as they are, unchecked ones by
        normalised form — and the same as integers when they all are digits of one length."""
        if "status" in self.frame.columns or not self.live.any():
            return self.mobile, self.mobile_digits
        keys = pc.coalesce(*number_keys(self.frame["mobile"]))
        return keys, digit_keys(keys)

    def labels(self, positions: np.ndarray) -> list[str]:
        """The spreadsheet row numbers of ``positions`` (``source_row``, else the index label)."""
        source = (
            self.frame["source_row"].iloc[positions].to_numpy()
            if "source_row" in self.frame.columns
            else self.index[positions].to_numpy()
        )
        if source.dtype.kind in "iu":  # the usual case: row numbers as integers
            return source.astype(str).tolist()
        return [_label(value) for value in source.astype(object)]

    def assemble(self, recipients: pd.DataFrame, batch_of_row: np.ndarray) -> pd.DataFrame:
        """The output frame: the input columns plus status, reason, content, length, batch."""
        out = recipients.copy(deep=False)
        out.attrs = copy.deepcopy(recipients.attrs)

        def put(name: str, values: Any) -> None:
            # A Series on the frame's own index is taken as it is; a bare array would be copied.
            out[name] = pd.Series(values, index=out.index, copy=False)

        if out["mobile"].dtype != TEXT:
            put("mobile", _text(self.mobile))
        put("status", _text(self._status_text()))
        reason = self._reason_text()
        if self.reason_column is None or not reason.equals(self.reason_column):
            put("reason", _text(reason))
        # else the input's reason column, as it is (the usual plan decides no new reason): no copy
        del reason
        # A duplicate gets nothing itself: its number gets the kept row's content.
        shown_rows = self.planned & (self.status != StatusCode.DUPLICATE)
        # What only status and reason needed, and the working masks, go (and their pages back to
        # the system) before the biggest columns are built.
        empty = pa.array([], pa.string())
        self.mobile = self.in_status = self.in_reason = empty
        self.reasons, self.mobile_digits, self.mobile_column, self.reason_column = [], None, None, None
        self.status = self.planned = self.candidates = self.live = np.zeros(0, dtype=bool)
        self.repeats = None
        release_memory()
        shown = pa.array(shown_rows)
        if self.constant is not None:
            # The output columns from the one text (any per-row copy freed first).
            self.body = self.content = self.length = None
            content = _repeat_text(self.constant, shown_rows)
            values = np.where(shown_rows, np.int64(self.constant_length), np.int64(0))
            lengths = pd.arrays.IntegerArray(values, ~shown_rows)
        else:
            assert self.content is not None and self.length is not None
            length = pc.if_else(shown, self.length, pa.scalar(None, pa.int64()))
            self.body = self.length = None
            content = pc.if_else(shown, self.content, _NULL_STR)
            self.content = None
            lengths = pd.array(length.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get))
        put("content", _text(content))
        put("length", lengths)
        put("batch", pd.arrays.IntegerArray(batch_of_row, batch_of_row == 0))
        return out


def _repeat_text(text: str, rows: np.ndarray) -> pa.Array:
    """``text`` on ``rows``, null elsewhere: a large_string array made from its three buffers at
    their exact sizes (Arrow's if_else grows its data buffer by doubling: at 10M rows it left
    ~0.3 GB of freed buffers with the allocator)."""
    data = text.encode("utf-8")
    n = len(rows)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(rows, out=offsets[1:])
    count = int(offsets[-1])
    offsets *= len(data)
    validity = pa.array(rows, type=pa.bool_()).buffers()[1]
    buffers = [validity, pa.py_buffer(offsets), pa.py_buffer(data * count)]
    return pa.Array.from_buffers(pa.large_string(), n, buffers, null_count=n - count)


def _field_text(values: pd.Series) -> pa.Array:
    """:func:`field_text` of a column; a :data:`TEXT` column with nothing to trim (numbers and
    statuses from :func:`check_numbers`) is read in place instead of copied twice."""
    return _column_text(values)[0]


def _column_text(values: pd.Series) -> tuple[pa.Array, pa.Array | None]:
    """(:func:`_field_text` of a column; the column's own large_string array when that is the same
    texts read in place, else None)."""
    if values.dtype == TEXT:
        arrow = pa.array(values.array)  # the column's own (chunked) large_string array
        if isinstance(arrow, pa.ChunkedArray):
            arrow = arrow.chunk(0) if arrow.num_chunks == 1 else None
        if arrow is not None and pa.types.is_large_string(arrow.type) and _nothing_to_trim(arrow):
            return arrow.cast(pa.string()), arrow  # new 32-bit offsets; the text is shared
    return field_text(values), None


def _nothing_to_trim(strings: pa.Array) -> bool:
    """Whether no string of ``strings`` (large_string) is empty or starts or ends with a byte
    that may begin or end whitespace (ASCII space or control, or any non-ASCII byte): then
    ``field_text`` would return the same strings. Read from the buffers, a few numpy passes."""
    if pc.all(pc.ascii_is_decimal(strings)).as_py():  # digits only (numbers): nothing to trim
        return True
    _, offsets_buffer, data = strings.buffers()
    n = len(strings)
    if n == 0 or data is None:
        return n == strings.null_count
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[strings.offset : strings.offset + n + 1]
    lengths = np.diff(offsets)
    if strings.null_count:  # null slots may be empty: look at the strings only
        kept = as_mask(pc.is_valid(strings))
        starts, lengths = offsets[:-1][kept], lengths[kept]
    else:
        starts = offsets[:-1]
    if not lengths.all():
        return False  # an empty string: field_text makes it null
    raw = np.frombuffer(data, dtype=np.uint8)
    first, last = raw[starts], raw[starts + lengths - 1]
    return bool(((first > 0x20) & (first < 0x7F)).all() and ((last > 0x20) & (last < 0x7F)).all())


def _label(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def as_mask(mask: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A pyarrow boolean array as numpy, null = False."""
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)


def _text(values: pa.Array) -> pd.api.extensions.ExtensionArray:
    """An Arrow string array as the project's text dtype (:data:`TEXT`, missing = ``<NA>``)."""
    return pd.array(values, dtype=TEXT)
