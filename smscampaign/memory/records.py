"""What every campaign home store shares: the registry's columns, its time text, and how a batch's
numbers are packed in one row and read back as one row per message in Arrow.

The SQLite store (:mod:`~smscampaign.memory.home`) and the PostgreSQL store
(:mod:`~smscampaign.memory.postgres`) keep the same rows: one per batch in ``send_batches``, its
numbers joined by :data:`SEPARATOR` in one row of ``send_batch_mobiles``, times as fixed-width
ISO-8601 UTC text (:func:`utc_text`), so text order is time order in any database.

>>> utc_text(datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC))
'2030-01-02T03:04:05.000000Z'
>>> pack_mobiles(["13800138000", "13900139000"])
'13800138000,13900139000'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from smscampaign.core.errors import ConfigError

__all__ = [
    "CAMPAIGN_COLUMNS",
    "RESERVATION_COLUMNS",
    "RESERVATION_STATUSES",
    "RESERVED_BATCH_COLUMNS",
    "SEND_COLUMNS",
    "SENT_STATUSES",
    "SEPARATOR",
    "campaign_takeover",
    "campaign_takeover_values",
    "campaign_upsert",
    "campaign_values",
    "people_arrays",
    "people_rows",
    "journal_file",
    "message_times",
    "pack_mobiles",
    "reservation_frame",
    "reserved_batches_frame",
    "select_messages",
    "split_rows",
    "unpack",
    "utc_text",
]

#: Columns of :meth:`Store.sends_before`.
SEND_COLUMNS: Final = (
    "mobile",
    "content_sha256",
    "campaign",
    "journal",
    "batch",
    "status",
    "at",
    "gateway",
)
#: Columns of the campaign history's ``campaigns`` table (:meth:`SQLiteStore.campaigns`).
CAMPAIGN_COLUMNS: Final = (
    "fingerprint",
    "name",
    "created",
    "template",
    "signature",
    "kind",
    "journal",
    "charset",
    "variants",
    "counts",
    "run",
)
#: Columns of the frame :meth:`Store.reserve` returns (one row per number held by someone else).
RESERVATION_COLUMNS: Final = ("mobile", "campaign", "journal", "batch", "status", "at")
#: A reservation's statuses: ``reserved`` before the request, then ``accepted`` / ``unknown`` (still
#: holding the number) or ``released`` (provably nothing sent: the number is free again).
RESERVATION_STATUSES: Final = ("reserved", "accepted", "unknown", "released")

#: Columns of the frame ``Store.reservations_since`` returns: one row per reserved batch of another
#: journal (``size``: the numbers it holds; ``at``: reserved; ``settled_at``: NaT while reserved).
RESERVED_BATCH_COLUMNS: Final = ("journal", "batch", "campaign", "status", "size", "at", "settled_at")
#: Registry statuses that mean "this person may have got this content" (``not_sent`` does not).
SENT_STATUSES: Final = ("in_flight", "accepted", "unknown")
#: What joins the numbers of a batch in ``send_batch_mobiles`` (never part of a number: the gateway
#: takes a batch's receivers joined by it).
SEPARATOR: Final = ","


def campaign_values(row: Mapping[str, str | None]) -> list[str | None]:
    """The parameters of :func:`campaign_upsert` for one campaign row (``run`` '' when not given)."""
    return [row.get(c) or "" if c == "run" else row.get(c) for c in CAMPAIGN_COLUMNS]


def campaign_upsert(placeholder: str) -> str:
    """The statement recording one run of a campaign (parameters: :func:`campaign_values`, each
    written as ``placeholder``): one row per ``fingerprint`` and ``run`` (the journal it sent from;
    '' for a plan recorded unsent). A run already recorded keeps its ``created``, and keeps any
    other value given as NULL."""
    updates = ", ".join(
        f"{c} = COALESCE(excluded.{c}, campaigns.{c})"
        for c in CAMPAIGN_COLUMNS[1:]
        if c not in ("created", "run")
    )
    return (
        f"INSERT INTO campaigns ({', '.join(CAMPAIGN_COLUMNS)}) "
        f"VALUES ({', '.join([placeholder] * len(CAMPAIGN_COLUMNS))}) "
        f"ON CONFLICT (fingerprint, run) DO UPDATE SET {updates}"
    )


def campaign_takeover(placeholder: str) -> str:
    """The statement by which a run takes over its plan's row recorded unsent (run ''), unless the
    run has a row already (parameters: :func:`campaign_takeover_values`)."""
    p = placeholder
    return (
        f"UPDATE campaigns SET run = {p} WHERE fingerprint = {p} AND run = '' AND NOT EXISTS "
        f"(SELECT 1 FROM campaigns AS c WHERE c.fingerprint = {p} AND c.run = {p})"
    )


def campaign_takeover_values(row: Mapping[str, str | None]) -> tuple[str | None, ...]:
    """The parameters of :func:`campaign_takeover`."""
    run, fingerprint = row.get("run") or "", row["fingerprint"]
    return (run, fingerprint, fingerprint, run)


def utc_text(at: datetime | None = None) -> str:
    """``at`` (default now) as the store's time text: ISO-8601 UTC, fixed width, so text order is
    time order in any database."""
    moment = (at or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def pack_mobiles(mobiles: Sequence[str]) -> str:
    """A batch's numbers as the one text ``send_batch_mobiles`` keeps; :class:`ConfigError` if a
    number holds the separator."""
    packed = SEPARATOR.join(mobiles)
    if packed.count(SEPARATOR) != max(len(mobiles) - 1, 0):
        raise ConfigError(f"a number holds the separator {SEPARATOR!r}: {list(mobiles)!r:.200}")
    return packed


def split_rows(
    rows: Sequence[tuple[object, ...]],
) -> tuple[pa.Array, np.ndarray, list[tuple[object, ...]]]:
    """Batch rows ending in their packed numbers (one text per batch) as one flat Arrow string array
    of the numbers, the count per batch, and the rows without the packed text."""
    lists = pc.split_pattern(pa.array([r[-1] for r in rows], pa.string()), SEPARATOR)
    if isinstance(lists, pa.ChunkedArray):  # over 2 GB of text
        lists = lists.combine_chunks()
    counts = pc.list_value_length(lists).to_numpy(zero_copy_only=False).astype(np.int64)
    return lists.flatten(), counts, [r[:-1] for r in rows]


def unpack(
    numbers: pa.Array,
    counts: np.ndarray,
    rows: Sequence[tuple[object, ...]],
    columns: Sequence[str],
) -> pd.DataFrame:
    """What :func:`split_rows` gives (batch rows of ``columns``) as one row per message:
    ``mobile`` then ``columns``, ``at`` as UTC datetimes."""
    head = pd.DataFrame(list(rows), columns=list(columns))
    if "at" in head.columns:
        head["at"] = pd.to_datetime(head["at"], format="ISO8601", utc=True).dt.as_unit("us")
    frame = head.take(np.repeat(np.arange(len(head)), counts)).reset_index(drop=True)
    frame.insert(0, "mobile", numbers.to_pandas())
    return frame


def message_times(
    numbers: pa.Array, counts: np.ndarray, heads: Sequence[tuple[object, ...]]
) -> tuple[pa.Array, np.ndarray]:
    """What :func:`split_rows` gives for batch rows of ``(at,)``: the numbers and, parallel to them,
    each message's time as integer microseconds since the epoch (UTC), parsed once per batch."""
    times = pd.to_datetime([h[0] for h in heads], format="ISO8601", utc=True)
    micros = pd.DatetimeIndex(times).as_unit("us").asi8
    return numbers, np.repeat(micros, counts)


def select_messages(
    sent_numbers: Callable[[Sequence[str]], tuple[pa.Array, np.ndarray, list[tuple[object, ...]]]],
    mobiles: Sequence[str] | None,
    columns: Sequence[str],
) -> pd.DataFrame:
    """A store's ``sent_messages``: one row per message with ``columns`` (of :data:`SEND_COLUMNS`),
    from ``sent_numbers(batch_columns)`` (:func:`split_rows` of the batches that may have been
    sent); of every number, or of ``mobiles`` (found among the messages in Arrow)."""
    unknown = sorted(set(columns) - set(SEND_COLUMNS))
    if unknown:
        raise ConfigError(f"unknown registry columns: {unknown}")
    batch_columns = [c for c in columns if c != "mobile"]
    numbers, counts, heads = sent_numbers(batch_columns)
    frame = unpack(numbers, counts, heads, batch_columns)
    if mobiles is not None:
        wanted = pc.is_in(numbers, value_set=pa.array(sorted(set(mobiles)), pa.string()))
        frame = frame[wanted.to_numpy(zero_copy_only=False)].reset_index(drop=True)
    return frame[list(columns)]


def reservation_frame(rows: Sequence[tuple[object, ...]]) -> pd.DataFrame:
    """Reservation rows (:data:`RESERVATION_COLUMNS`, ``at`` as store time text) as the frame
    ``Store.reserve`` returns: ``at`` tz-aware UTC."""
    frame = pd.DataFrame(list(rows), columns=list(RESERVATION_COLUMNS))
    frame["batch"] = frame["batch"].astype("int64")
    frame["at"] = pd.to_datetime(frame["at"], format="ISO8601", utc=True).dt.as_unit("us")
    return frame


def reserved_batches_frame(rows: Sequence[tuple[object, ...]]) -> pd.DataFrame:
    """Reserved-batch rows (:data:`RESERVED_BATCH_COLUMNS`, times as store time text) as the frame
    ``Store.reservations_since`` returns: ``batch`` and ``size`` int64, times tz-aware UTC."""
    frame = pd.DataFrame(list(rows), columns=list(RESERVED_BATCH_COLUMNS))
    for column in ("journal", "campaign", "status"):
        frame[column] = frame[column].astype("str")
    for column in ("batch", "size"):
        frame[column] = frame[column].astype("int64")
    for column in ("at", "settled_at"):
        frame[column] = pd.to_datetime(frame[column], format="ISO8601", utc=True).dt.as_unit("us")
    return frame


def journal_file(folder: Path, fingerprint: str) -> Path:
    """``folder/journals/<fingerprint>.journal`` (the folder created): the journal of a plan sent
    without an explicit journal path."""
    if not fingerprint or not all(c in "0123456789abcdef" for c in fingerprint):
        raise ConfigError(f"not a plan fingerprint: {fingerprint!r}")
    journals = folder / "journals"
    journals.mkdir(parents=True, exist_ok=True)
    return journals / f"{fingerprint}.journal"


#: What joins the values of a field in ``campaign_people`` (a control character no cell holds).
PEOPLE_SEPARATOR: Final = "\x1f"
#: People per row of ``campaign_people`` (each row's text stays a few MB).
PEOPLE_PART: Final = 100_000


def people_rows(
    fingerprint: str, people: Mapping[str, Sequence[str | None]]
) -> list[tuple[str, int, str, str]]:
    """A campaign's people as ``campaign_people`` rows ``(fingerprint, part, field, cells)``: per part
    of :data:`PEOPLE_PART` people, one row per field, its values joined by :data:`PEOPLE_SEPARATOR`
    (a missing value written as "")."""
    lengths = {len(values) for values in people.values()}
    if len(lengths) > 1:
        raise ConfigError(f"the fields of a campaign's people differ in length: {sorted(lengths)}")
    size = lengths.pop() if lengths else 0
    rows: list[tuple[str, int, str, str]] = []
    for name, values in people.items():
        for part, start in enumerate(range(0, size, PEOPLE_PART)):
            cells = ["" if v is None else v for v in values[start : start + PEOPLE_PART]]
            packed = PEOPLE_SEPARATOR.join(cells)
            if packed.count(PEOPLE_SEPARATOR) != len(cells) - 1:
                raise ConfigError(f"a value of {name!r} holds the separator U+001F")
            rows.append((fingerprint, part, name, packed))
    return rows


def people_arrays(rows: Iterable[Sequence[Any]]) -> dict[str, pa.Array]:
    """``(field, cells)`` rows, ordered by field and part, back as one Arrow array per field ("" read
    as missing)."""
    fields: dict[str, list[str]] = {}
    for name, cells in rows:
        fields.setdefault(str(name), []).append(str(cells))
    out: dict[str, pa.Array] = {}
    for name, parts in fields.items():
        flat = pc.split_pattern(pa.array(parts, pa.string()), PEOPLE_SEPARATOR).flatten()
        out[name] = pc.if_else(pc.equal(flat, ""), pa.scalar(None, pa.string()), flat)
    return out
