"""The SQLite home's reservations (issue 26): one row per reserved batch, its numbers packed in it.

:class:`~smscampaign.memory.home.SQLiteStore` keeps :meth:`~smscampaign.memory.home.Store.reserve`'s
contract with one row per (journal, batch) — gateway, content's SHA-256, campaign, journal, batch,
status, time and the batch's numbers joined by commas, as ``send_batch_mobiles`` holds them — rather
than one row per number under a primary key (gateway, content, number): a batch's 500 numbers land
on some 400 random pages of such an index, and SQLite writes every page a commit touches to its WAL
(15–35 ms per fsynced commit here, against about 1 ms for one packed row; ``bench/bench_send.py``).

Who holds a number: the latest row (highest ``id``; ``AUTOINCREMENT`` never hands out a deleted
row's id again) of the same gateway and content whose numbers include it — it holds while its status
is ``reserved``, ``accepted`` or ``unknown`` and its time is within the window. A row taken over is
never edited: the later row that took its number over wins.

:class:`ReservationLog` keeps, per (gateway, content, journal), the latest row of every number the
*other* journals reserved, read incrementally (the rows written since its last look) inside the
reserving transaction; the status and time of the rows that hold this batch's numbers are read
fresh each time. A journal's own rows are not looked at: one runner per journal (its runner lock),
and a plan holds a number once per content, so a journal's batches never compete for one number.

>>> log = ReservationLog()                                            # doctest: +SKIP
>>> log.reserve(conn, {"gateway": …, "mobiles": […], …})              # in the caller's transaction
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from smscampaign.core.errors import ConfigError
from smscampaign.memory.records import RESERVATION_COLUMNS

__all__ = [
    "HOLDING",
    "MIGRATION",
    "SEPARATOR",
    "SETTLED_MIGRATION",
    "ReservationLog",
    "conflicts_frame",
    "reserved_batches",
]

#: Reservation statuses that hold a number against every other journal and batch.
HOLDING: Final = ("reserved", "accepted", "unknown")

#: The reservations table (the home's migration 6).
MIGRATION: Final = """
CREATE TABLE IF NOT EXISTS reservations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    gateway TEXT NOT NULL,
    content_sha256 TEXT NOT NULL,
    campaign TEXT NOT NULL,
    journal TEXT NOT NULL,
    batch INTEGER NOT NULL,
    status TEXT NOT NULL,
    at TEXT NOT NULL,
    mobiles TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS reservations_by_content ON reservations (gateway, content_sha256, id);
CREATE INDEX IF NOT EXISTS reservations_by_journal ON reservations (journal, batch)
"""

#: When a reservation's status last changed (the home's migration 7; NULL while ``reserved``): with
#: its ``at``, it bounds when the gateway may have charged the batch (``reserved_batches``).
SETTLED_MIGRATION: Final = "ALTER TABLE reservations ADD COLUMN settled_at TEXT"

SEPARATOR: Final = ","
_CHUNK: Final = 500  # parameters per statement: under any database's limit


@dataclass
class _Seen:
    """What a store has read of one content's reservations by the other journals: from ``floor``
    (a time) up to row ``last``. The first look, often large (a text sent to many people within the
    window), is kept as two sorted arrays — 11-digit numbers as integers and the latest row holding
    each — built in Arrow and NumPy; the rows read after it go to ``later``, a dict."""

    floor: str
    last: int = 0
    numbers: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    rows: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    later: dict[str, int] = field(default_factory=dict)

    def add(self, found: list[tuple[int, str]]) -> None:
        """Rows ``(id, packed numbers)`` written since the last look, in id order."""
        if not found:
            return
        self.last = int(found[-1][0])
        if len(self.numbers) or self.later or not self._as_arrays(found):
            for row_id, packed in found:
                self.later.update(dict.fromkeys(packed.split(SEPARATOR), int(row_id)))

    def _as_arrays(self, found: list[tuple[int, str]]) -> bool:
        """The first look as sorted arrays, if every number is 11 digits not starting with 0."""
        lists = pc.split_pattern(pa.array([packed for _, packed in found], pa.string()), SEPARATOR)
        flat = lists.flatten()
        plain = pc.and_(pc.equal(pc.utf8_length(flat), 11), pc.utf8_is_digit(flat))
        if not pc.all(pc.and_(plain, pc.invert(pc.starts_with(flat, "0")))).as_py():
            return False
        numbers = pc.cast(flat, pa.int64()).to_numpy()
        counts = pc.list_value_length(lists).to_numpy(zero_copy_only=False)
        rows = np.repeat(np.array([row_id for row_id, _ in found], np.int64), counts)
        order = np.lexsort((rows, numbers))  # by number, then row: the latest row last
        numbers, rows = numbers[order], rows[order]
        latest = np.append(numbers[1:] != numbers[:-1], True)
        self.numbers, self.rows = numbers[latest], rows[latest]
        return True

    def holders(self, numbers: list[str]) -> dict[str, int]:
        """The latest row holding each of ``numbers`` that any row holds."""
        found: dict[str, int] = {}
        if len(self.numbers):
            plain = [m for m in numbers if len(m) == 11 and m.isdigit() and m[0] != "0"]
            values = np.fromiter(map(int, plain), np.int64, len(plain))
            at = np.minimum(np.searchsorted(self.numbers, values), len(self.numbers) - 1)
            for i in np.flatnonzero(self.numbers[at] == values):
                found[plain[i]] = int(self.rows[at[i]])
        for mobile in numbers:  # later rows win
            if mobile in self.later:
                found[mobile] = self.later[mobile]
        return found


class ReservationLog:
    """What one store has seen of the other journals' reservations (the holder of each number, per
    gateway, content and asking journal). Not thread-safe: the store calls it under its lock."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str, str], _Seen] = {}

    def reserve(self, conn: sqlite3.Connection, request: Mapping[str, Any]) -> list[tuple[object, ...]]:
        """In the caller's write transaction on ``conn``, one batch's reservation: ``request`` holds
        :meth:`~smscampaign.memory.home.Store.reserve`'s keywords (``since`` and ``at`` as the
        store's time text). Returns the conflicts as rows of ``(mobile, campaign, journal, batch,
        status, at)``; every other number is reserved for (journal, batch), whose earlier row for
        this content is replaced."""
        gateway, content_sha256 = request["gateway"], request["content_sha256"]
        journal, batch, since = request["journal"], int(request["batch"]), request["since"]
        mobiles: Sequence[str] = request["mobiles"]
        numbers = sorted(set(mobiles))
        if any(SEPARATOR in m for m in numbers):
            raise ConfigError(f"a number holds the separator {SEPARATOR!r}: {numbers!r:.200}")
        latest = self._refresh(conn, gateway, content_sha256, journal, since).holders(numbers)
        ids = sorted(set(latest.values()))
        holders: dict[int, tuple[object, ...]] = {}
        for first in range(0, len(ids), _CHUNK):
            chunk = ids[first : first + _CHUNK]
            for row in conn.execute(
                "SELECT id, campaign, journal, batch, status, at FROM reservations "
                f"WHERE id IN ({', '.join('?' * len(chunk))})",
                chunk,
            ):
                if row[4] in HOLDING and row[5] >= since:
                    holders[int(row[0])] = tuple(row[1:])
        held = [(m, *holders[latest[m]]) for m in numbers if latest.get(m) in holders]
        taken = {row[0] for row in held}
        conn.execute(
            "DELETE FROM reservations WHERE journal = ? AND batch = ? AND gateway = ? "
            "AND content_sha256 = ?",
            (journal, batch, gateway, content_sha256),
        )
        free = [m for m in numbers if m not in taken]
        if free:
            conn.execute(
                "INSERT INTO reservations (gateway, content_sha256, campaign, journal, batch, "
                "status, at, mobiles) VALUES (?, ?, ?, ?, ?, 'reserved', ?, ?)",
                (
                    gateway,
                    content_sha256,
                    request["campaign"],
                    journal,
                    batch,
                    request["at"],
                    SEPARATOR.join(free),
                ),
            )
        return held

    def _refresh(
        self, conn: sqlite3.Connection, gateway: str, content_sha256: str, journal: str, since: str
    ) -> _Seen:
        """What the other journals reserved for this content since ``since``, with the rows
        written since the last look added. Rows older than the window hold nothing (and a row's
        time follows its id), so they are never read: a home with a long history of one text
        costs nothing more. An earlier ``since`` reads again from there."""
        key = (gateway, content_sha256, journal)
        seen = self._seen.get(key)
        if seen is None or since < seen.floor:
            seen = self._seen[key] = _Seen(since)
        seen.add(
            conn.execute(
                "SELECT id, mobiles FROM reservations WHERE gateway = ? AND content_sha256 = ? "
                "AND id > ? AND at >= ? AND journal <> ? ORDER BY id",
                (gateway, content_sha256, seen.last, seen.floor, journal),
            ).fetchall()
        )
        # Past this journal's own rows too, so that each is stepped over once, not at every look.
        (top,) = conn.execute(
            "SELECT MAX(id) FROM reservations WHERE gateway = ? AND content_sha256 = ?",
            (gateway, content_sha256),
        ).fetchone()
        seen.last = max(seen.last, int(top or 0))
        return seen


def reserved_batches(
    conn: sqlite3.Connection, *, gateway: str, since: str, journal: str
) -> list[tuple[object, ...]]:
    """:meth:`~smscampaign.memory.home.Store.reservations_since` as rows of
    ``RESERVED_BATCH_COLUMNS`` (``since`` as the store's time text; a batch's size counted from its
    packed numbers, never empty)."""
    return conn.execute(
        "SELECT journal, batch, campaign, status, "
        f"LENGTH(mobiles) - LENGTH(REPLACE(mobiles, '{SEPARATOR}', '')) + 1, at, settled_at "
        "FROM reservations WHERE gateway = ? AND journal <> ? "
        "AND (at >= ? OR settled_at >= ? OR status IN ('reserved', 'unknown')) ORDER BY id",
        (gateway, journal, since, since),
    ).fetchall()


def conflicts_frame(held: list[tuple[object, ...]]) -> pd.DataFrame:
    """Conflict rows ``(mobile, campaign, journal, batch, status, at)`` as
    :meth:`~smscampaign.memory.home.Store.reserve` returns them."""
    if not held:  # the usual case, kept cheap: the reserver runs beside the requests
        return _NO_CONFLICTS.copy()
    frame = pd.DataFrame(held, columns=list(RESERVATION_COLUMNS))
    frame["batch"] = frame["batch"].astype("int64")
    frame["at"] = pd.to_datetime(frame["at"], format="ISO8601", utc=True).dt.as_unit("us")
    return frame


#: What :meth:`~smscampaign.memory.home.SQLiteStore.reserve` returns when every number was reserved.
_NO_CONFLICTS: Final = pd.DataFrame(
    {
        "mobile": pd.Series([], dtype="str"),
        "campaign": pd.Series([], dtype="str"),
        "journal": pd.Series([], dtype="str"),
        "batch": pd.Series([], dtype="int64"),
        "status": pd.Series([], dtype="str"),
        "at": pd.Series([], dtype="datetime64[us, UTC]"),
    }
)
