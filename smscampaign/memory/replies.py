"""The reply store: replies kept in SQLite, each one once, whichever way it came.

A reply is its sender, content and receive time; :class:`ReplyStore` keeps each such triple once, so
the same reply fetched (``get_sms``) and pushed by the gateway is stored once, with the way it came
first (``received_via``). Fetching, receiving pushes and finding the opt-outs are
:mod:`smscampaign.campaign.replies`; the campaign home's :class:`~smscampaign.History` offers the
same ``add`` / ``to_frame`` interface.

>>> with ReplyStore(":memory:") as store:
...     reply = {"sender": "+86 138 0013 8000", "content": "TD", "receivetime": "2026-01-02 03:04:05"}
...     store.add([reply], received_via="push")
...     store.to_frame()["sender"].tolist()
1
['13800138000']
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Final

import pandas as pd

from smscampaign.core.dtypes import TEXT
from smscampaign.core.errors import ConfigError, ReplyError
from smscampaign.memory.sqlite import GuardedConnection, home_error, rollback
from smscampaign.stages.shapes import normalize_numbers
from smscampaign.wire.protocol import BEIJING, TIME_FORMAT

__all__ = [
    "DETAIL_COLUMNS",
    "REPLY_COLUMNS",
    "STORE_COLUMNS",
    "ReplyStore",
    "beijing_datetimes",
    "beijing_time_text",
    "sender_text",
]

#: Columns of :func:`~smscampaign.fetch_replies`.
REPLY_COLUMNS: Final = ("sender", "content", "receivetime")
#: Columns of :meth:`ReplyStore.to_frame`.
STORE_COLUMNS: Final = (*REPLY_COLUMNS, "received_via")
#: Further columns of ``ReplyStore.to_frame(details=True)``: ``decode_error`` (the content's bytes did
#: not decode; ``content`` shows them escaped, ``raw`` holds them), ``extra`` (push fields we do not
#: know, as JSON).
DETAIL_COLUMNS: Final = ("decode_error", "raw", "extra")

logger = logging.getLogger(__name__)

_VIA: Final = frozenset({"fetch", "push"})


def beijing_time_text(value: Any) -> str | None:
    """A receive time as the gateway's ``YYYY-MM-DD HH:MM:SS`` Beijing wall clock; None if unreadable.

    Naive values are Beijing time already; aware ones are converted.
    """
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, str):
        try:
            return datetime.strptime(value.strip(), TIME_FORMAT).strftime(TIME_FORMAT)
        except ValueError:
            return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(BEIJING)
        return value.strftime(TIME_FORMAT)
    return None


def beijing_datetimes(values: Iterable[Any]) -> pd.Series:
    """Beijing wall-clock texts as tz-aware datetimes (Asia/Shanghai, UTC+8); unreadable → NaT."""
    parsed = pd.to_datetime(pd.Series(list(values), dtype=object), format=TIME_FORMAT, errors="coerce")
    return parsed.dt.tz_localize(BEIJING)


def sender_text(value: Any) -> str:
    """The sender as an 11-digit number when it has that shape, else its text unchanged (never lost)."""
    text = "" if value is None else str(value).strip()
    normalized = normalize_numbers([text]).iloc[0]
    return text if pd.isna(normalized) else str(normalized)


class ReplyStore:
    """Replies kept in SQLite, each (sender, content, receivetime) once, whichever way it came.

    ``path`` is a file (created if missing) or ``":memory:"``. Safe to share between threads (the
    push receiver's server is multithreaded): one connection, one lock. Works as a context manager.

    >>> with ReplyStore(":memory:") as store:
    ...     store.add([{"sender": "13800138000", "content": "TD", "receivetime": "2026-01-02 03:04:05"}],
    ...               received_via="push")
    ...     store.add([{"sender": "13800138000", "content": "TD", "receivetime": "2026-01-02 03:04:05"}],
    ...               received_via="fetch")
    ...     len(store)
    1
    0
    1
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        try:
            self._conn = sqlite3.connect(
                self.path,
                check_same_thread=False,
                isolation_level=None,
                timeout=30,
                factory=GuardedConnection,
            )
            self._make_current(self._conn)
        except sqlite3.Error as exc:
            if self._conn is not None:
                self._conn.close()
            raise home_error(exc, self.path, what="the reply store") from None
        self._conn.translate = self._error

    def _error(self, exc: sqlite3.Error) -> Exception:
        return home_error(exc, self.path, what="the reply store")

    def _make_current(self, conn: sqlite3.Connection) -> None:
        """WAL, the table and its index, the columns an older store lacks."""
        with self._lock:
            if self.path != ":memory:":
                # WAL lets `smscampaign opt-outs` read while `smscampaign receive` writes.
                conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS replies ("
                " sender TEXT NOT NULL, content TEXT NOT NULL, receivetime TEXT NOT NULL,"
                " received_via TEXT NOT NULL, stored_at TEXT NOT NULL)"
            )
            conn.execute(
                "CREATE UNIQUE INDEX IF NOT EXISTS replies_once"
                " ON replies (sender, content, receivetime)"
            )
            have = {row[1] for row in conn.execute("PRAGMA table_info(replies)")}
            for column, kind in (
                ("decode_error", "INTEGER NOT NULL DEFAULT 0"),
                ("raw", "BLOB"),
                ("extra", "TEXT"),
            ):
                if column not in have:  # a store written by an earlier version
                    conn.execute(f"ALTER TABLE replies ADD COLUMN {column} {kind}")

    def __repr__(self) -> str:
        state = "closed" if self._conn is None else f"{len(self)} replies"
        return f"ReplyStore({self.path!r}, {state})"

    def __enter__(self) -> ReplyStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the database; further use raises ``sqlite3.ProgrammingError``."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise sqlite3.ProgrammingError("the reply store is closed")
        return self._conn

    def __len__(self) -> int:
        with self._lock:
            return int(self._connection().execute("SELECT count(*) FROM replies").fetchone()[0])

    def add(self, replies: pd.DataFrame | Iterable[Mapping[str, Any]], received_via: str) -> int:
        """Store replies (a frame or records with ``sender, content, receivetime``, optionally
        ``decode_error``, ``raw`` and ``extra``); returns how many were new. ``received_via`` is
        ``"fetch"`` or ``"push"``; a reply already stored keeps its first ``received_via``. Times may
        be text (``YYYY-MM-DD HH:MM:SS``, Beijing) or datetimes (naive = Beijing); a reply whose time
        cannot be read raises :class:`ReplyError` and nothing is stored. Content is stored exactly as
        given. Does not mutate ``replies``.
        """
        if received_via not in _VIA:
            raise ConfigError(f"received_via must be 'fetch' or 'push', not {received_via!r}")
        records = replies.to_dict("records") if isinstance(replies, pd.DataFrame) else list(replies)
        stored_at = datetime.now(BEIJING).strftime(TIME_FORMAT)
        rows = []
        for record in records:
            when = beijing_time_text(record.get("receivetime"))
            if when is None:
                raise ReplyError(f"unreadable receivetime {record.get('receivetime')!r}")
            content = record.get("content")
            content = (
                ""
                if content is None or (not isinstance(content, str) and pd.isna(content))
                else str(content)
            )
            raw = record.get("raw")
            extra = record.get("extra")
            if isinstance(extra, Mapping):
                extra = json.dumps(dict(extra), ensure_ascii=False, sort_keys=True) if extra else None
            elif not isinstance(extra, str):
                extra = None
            rows.append(
                (
                    sender_text(record.get("sender")),
                    content,
                    when,
                    received_via,
                    stored_at,
                    1 if record.get("decode_error") is True else 0,
                    bytes(raw) if isinstance(raw, (bytes, bytearray)) else None,
                    extra,
                )
            )
        with self._lock:
            conn = self._connection()
            before = conn.total_changes
            conn.execute("BEGIN")
            try:
                conn.executemany(
                    "INSERT OR IGNORE INTO replies (sender, content, receivetime, received_via,"
                    " stored_at, decode_error, raw, extra) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
            except BaseException:
                rollback(conn)
                raise
            conn.execute("COMMIT")
            added = conn.total_changes - before
        logger.debug("stored %d of %d replies (%s)", added, len(rows), received_via)
        return added

    def to_frame(self, *, details: bool = False) -> pd.DataFrame:
        """Every stored reply, oldest first: ``sender, content`` (text), ``receivetime`` (datetime,
        Beijing time), ``received_via`` (``fetch`` / ``push``); with ``details=True`` also
        :data:`DETAIL_COLUMNS`: ``decode_error`` (bool — the content's bytes did not decode in the
        push's charset; ``content`` shows them as ``\\x..`` escapes and ``raw`` holds the bytes),
        ``raw`` (bytes or None) and ``extra`` (push fields we do not know, as JSON text, or NA)."""
        with self._lock:
            rows = (
                self._connection()
                .execute(
                    "SELECT sender, content, receivetime, received_via, decode_error, raw, extra"
                    " FROM replies ORDER BY receivetime, rowid"
                )
                .fetchall()
            )
        senders, contents, times, via, errors, raws, extras = (
            zip(*rows, strict=True) if rows else ((),) * 7
        )
        frame = pd.DataFrame(
            {
                "sender": pd.Series(senders, dtype=TEXT),
                "content": pd.Series(contents, dtype=TEXT),
                "receivetime": beijing_datetimes(times),
                "received_via": pd.Series(via, dtype=TEXT),
            }
        )
        if details:
            frame["decode_error"] = pd.Series([bool(e) for e in errors], dtype=bool)
            frame["raw"] = pd.Series(list(raws), dtype=object)
            frame["extra"] = pd.Series(extras, dtype=TEXT)
        return frame

    def undecoded(self) -> pd.DataFrame:
        """The replies whose bytes did not decode (``decode_error``): they need a person to read
        them — one may be an opt-out. Columns as ``to_frame(details=True)``."""
        frame = self.to_frame(details=True)
        return frame[frame["decode_error"]].reset_index(drop=True)
