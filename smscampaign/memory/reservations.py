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
>>> log.reserve(conn, gateway=…, content_sha256=…, mobiles=[…], …)    # in the caller's transaction
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Final

import pandas as pd

from smscampaign.core.errors import ConfigError

__all__ = ["HOLDING", "MIGRATION", "RESERVATION_COLUMNS", "ReservationLog", "conflicts_frame"]

#: Columns of the frame :meth:`~smscampaign.memory.home.Store.reserve` returns (one row per number
#: held by someone else).
RESERVATION_COLUMNS: Final = ("mobile", "campaign", "journal", "batch", "status", "at")

#: Reservation statuses that hold a number against every other journal and batch.
HOLDING: Final = ("reserved", "accepted", "unknown")

#: The reservations table (the home's migration 4).
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

_SEPARATOR: Final = ","
_CHUNK: Final = 500  # parameters per statement: under any database's limit


class ReservationLog:
    """What one store has seen of the other journals' reservations (the holder of each number, per
    gateway, content and asking journal). Not thread-safe: the store calls it under its lock."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str, str], tuple[str, int, dict[str, int]]] = {}

    def reserve(
        self,
        conn: sqlite3.Connection,
        *,
        gateway: str,
        content_sha256: str,
        mobiles: Sequence[str],
        campaign: str,
        journal: str,
        batch: int,
        since: str,
        at: str,
    ) -> list[tuple[object, ...]]:
        """In the caller's write transaction on ``conn``: the conflicts as rows of ``(mobile,
        campaign, journal, batch, status, at)``; every other number of ``mobiles`` reserved for
        (``journal``, ``batch``), whose earlier row for this content is replaced."""
        numbers = sorted(set(mobiles))
        if any(_SEPARATOR in m for m in numbers):
            raise ConfigError(f"a number holds the separator {_SEPARATOR!r}: {numbers!r:.200}")
        latest = self._refresh(conn, gateway, content_sha256, journal, since)
        ids = sorted({latest[m] for m in numbers if m in latest})
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
                (gateway, content_sha256, campaign, journal, batch, at, _SEPARATOR.join(free)),
            )
        return held

    def _refresh(
        self, conn: sqlite3.Connection, gateway: str, content_sha256: str, journal: str, since: str
    ) -> dict[str, int]:
        """The latest row of each number the other journals reserved for this content since
        ``since``, with the rows written since the last look added. Rows older than the window hold
        nothing (and a row's time follows its id), so they are never read: a home with a long
        history of one text costs nothing more. An earlier ``since`` reads again from there."""
        key = (gateway, content_sha256, journal)
        floor, last, latest = self._seen.get(key, (since, 0, {}))
        if since < floor:
            floor, last, latest = since, 0, {}
        rows = conn.execute(
            "SELECT id, mobiles FROM reservations WHERE gateway = ? AND content_sha256 = ? "
            "AND id > ? AND at >= ? AND journal <> ? ORDER BY id",
            (gateway, content_sha256, last, floor, journal),
        ).fetchall()
        for row_id, packed in rows:
            for mobile in packed.split(_SEPARATOR):
                latest[mobile] = int(row_id)
        if rows:
            last = int(rows[-1][0])
        self._seen[key] = (floor, last, latest)
        return latest


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
