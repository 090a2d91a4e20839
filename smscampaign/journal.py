"""The send journal: an SQLite file that remembers, per batch, what the send engine knows.

Each batch of a :class:`~smscampaign.plan.Plan` moves ``planned → in_flight → accepted | failed |
unknown``. The move to ``in_flight`` is committed *before* the request leaves and the outcome right
after the answer, so a campaign killed at any moment can be resumed without sending anything twice: a
batch found ``in_flight`` on the next start may have reached the gateway and becomes ``unknown``.

Design choices:

- **One plan per journal.** The file stores the plan's fingerprint; attaching a different plan raises
  :class:`~smscampaign.errors.JournalError`. A re-planned campaign (a fixed typo, a new list) has new
  batches, and silently mixing two plans' records is how people get texted twice — start a new file.
- **WAL; the** ``in_flight`` **mark is committed with** ``synchronous=FULL``, **everything else with**
  ``NORMAL``. Any WAL commit survives a killed process (kill -9): it is in the OS before the request
  leaves. Power loss or an OS crash can lose commits that were not fsynced; a lost ``in_flight`` mark
  would turn a batch that went out back into ``planned`` and send it again, so that commit is fsynced —
  and the fsync also makes every earlier commit durable, because the WAL is written in order. What
  power loss can still lose is the outcome of the batches in flight at that moment: they come back
  ``in_flight`` and are reported ``unknown``, never resent. One fsync per request instead of two keeps
  the journal's cost low (``bench/bench_send.py``). ``Journal(path, fsync=False)`` skips even that
  fsync: still safe against a killed process, not against power loss — for very fast local gateways.
- **One connection, one lock**: workers of the engine share it (``check_same_thread=False``); every
  state change is one short transaction.
- **The plan's recipients are stored** (a Parquet blob) so that :func:`~smscampaign.send.read_journal`
  can rebuild the per-recipient results from the file alone.

>>> with Journal("campaign.sqlite") as j:                # doctest: +SKIP
...     j.attach(plan)
...     j.batches()[["batch", "state"]].head()
"""

from __future__ import annotations

import io
import logging
import os
import sqlite3
import threading
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from smscampaign.errors import JournalError
from smscampaign.protocol import BEIJING
from smscampaign.statuses import BatchState

__all__ = ["BATCH_COLUMNS", "STATES", "Journal"]

logger = logging.getLogger(__name__)

SCHEMA_VERSION: Final = 1
PLANNED, IN_FLIGHT, ACCEPTED, FAILED, UNKNOWN = (
    BatchState.PLANNED,
    BatchState.IN_FLIGHT,
    BatchState.ACCEPTED,
    BatchState.FAILED,
    BatchState.UNKNOWN,
)
#: Every state a batch can be in.
STATES: Final = (PLANNED, IN_FLIGHT, ACCEPTED, FAILED, UNKNOWN)
#: Columns of :meth:`Journal.batches`.
BATCH_COLUMNS: Final = (
    "batch",
    "size",
    "state",
    "code",
    "gateway_result",
    "attempts",
    "sent_at",
    "error",
    "reason",
    "retryable",
)

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS plan (
    fingerprint TEXT PRIMARY KEY, created_at TEXT NOT NULL, charset TEXT, sendtime TEXT,
    messages INTEGER NOT NULL, recipients BLOB
);
CREATE TABLE IF NOT EXISTS batches (
    batch INTEGER PRIMARY KEY, size INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('planned', 'in_flight', 'accepted', 'failed', 'unknown')),
    code INTEGER, gateway_result TEXT, attempts INTEGER NOT NULL DEFAULT 0, sent_at TEXT,
    error TEXT, reason TEXT, retryable INTEGER NOT NULL DEFAULT 0
);
"""


def _now() -> str:
    return datetime.now(BEIJING).isoformat(timespec="milliseconds")


def _recipients_blob(frame: pd.DataFrame) -> bytes:
    """``frame`` as Parquet bytes (index kept); object columns of mixed types are stored as text."""
    try:
        table = pa.Table.from_pandas(frame)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        safe = frame.copy()
        for column in safe.columns:
            if safe[column].dtype == object:
                safe[column] = safe[column].map(lambda v: None if v is None or v is pd.NA else str(v))
        table = pa.Table.from_pandas(safe)
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


class Journal:
    """One campaign's send journal, in an SQLite file (``":memory:"`` for a throw-away one).

    Open it as a context manager; :meth:`attach` binds it to a plan (creating the records, or checking
    the fingerprint of an existing file). Thread-safe: one connection behind a lock.
    ``store_recipients=False`` leaves out the recipients frame (then :func:`read_journal` cannot
    rebuild results); ``fsync=False`` does not fsync the ``in_flight`` marks (see the module
    docstring).

    >>> with Journal("spring.sqlite") as journal:           # doctest: +SKIP
    ...     journal.attach(plan)
    ...     journal.counts()
    {'planned': 12, 'in_flight': 0, 'accepted': 0, 'failed': 0, 'unknown': 0}
    """

    def __init__(
        self, path: str | os.PathLike[str], *, store_recipients: bool = True, fsync: bool = True
    ) -> None:
        self.path = str(path)
        self.store_recipients = store_recipients
        self.fsync = fsync
        self._lock = threading.Lock()
        self._fingerprint: str | None = None
        try:
            self._conn = sqlite3.connect(
                self.path, check_same_thread=False, isolation_level=None, timeout=30.0
            )
            self._conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL by default; mark_in_flight switches to FULL for its own commit (see the module
            # docstring): that fsync also makes every earlier commit durable.
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(_SCHEMA)
            row = self._conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if row is None:
                self._conn.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            elif int(row[0]) != SCHEMA_VERSION:
                raise JournalError(f"{self.path}: journal schema {row[0]} is not {SCHEMA_VERSION}")
            found = self._conn.execute("SELECT fingerprint FROM plan").fetchone()
            self._fingerprint = found[0] if found else None
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"{self.path}: not a usable journal ({exc})") from None

    # -- lifecycle -----------------------------------------------------------------------------------

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (every state change is already committed)."""
        with self._lock:
            self._conn.close()

    def __repr__(self) -> str:
        return f"Journal({self.path!r}, fingerprint={self._fingerprint!r})"

    @property
    def fingerprint(self) -> str | None:
        """The fingerprint of the plan this journal belongs to (``None`` before :meth:`attach`)."""
        return self._fingerprint

    # -- plan ------------------------------------------------------------------------------------------

    def attach(self, plan: Any) -> bool:
        """Bind the journal to ``plan``; returns ``True`` if the plan was new to this file.

        A new file gets the plan, its recipients and one ``planned`` row per batch; a file holding the
        same fingerprint is resumed as is; another fingerprint raises :class:`JournalError`.
        """
        if self._fingerprint is not None:
            if self._fingerprint != plan.fingerprint:
                raise JournalError(
                    f"{self.path} belongs to another plan ({self._fingerprint[:12]}…, this plan is "
                    f"{plan.fingerprint[:12]}…); use a new journal file for a changed campaign"
                )
            return False
        blob = _recipients_blob(plan.recipients) if self.store_recipients else None
        batches = plan.batches
        rows = list(
            zip(batches["batch"].astype(int).tolist(), batches["size"].astype(int).tolist(), strict=True)
        )
        with self._lock, self._conn:
            self._conn.execute("BEGIN IMMEDIATE")
            self._conn.execute(
                "INSERT INTO plan VALUES (?, ?, ?, ?, ?, ?)",
                (plan.fingerprint, _now(), plan.charset, plan.sendtime, int(plan.messages), blob),
            )
            self._conn.executemany(
                "INSERT INTO batches (batch, size, state) VALUES (?, ?, 'planned')", rows
            )
        self._fingerprint = plan.fingerprint
        logger.info("journal %s: new plan %s, %d batches", self.path, plan.fingerprint[:12], len(rows))
        return True

    def recipients(self) -> pd.DataFrame:
        """The plan's recipients frame as stored by :meth:`attach`."""
        with self._lock:
            row = self._conn.execute("SELECT recipients FROM plan").fetchone()
        if row is None or row[0] is None:
            raise JournalError(f"{self.path}: the journal holds no recipients")
        frame = pq.read_table(io.BytesIO(row[0])).to_pandas()
        return frame

    def plan_info(self) -> dict[str, Any]:
        """``fingerprint, created_at, charset, sendtime, messages`` of the stored plan."""
        with self._lock:
            row = self._conn.execute(
                "SELECT fingerprint, created_at, charset, sendtime, messages FROM plan"
            ).fetchone()
        if row is None:
            raise JournalError(f"{self.path}: the journal holds no plan")
        return dict(
            zip(("fingerprint", "created_at", "charset", "sendtime", "messages"), row, strict=True)
        )

    # -- batches -------------------------------------------------------------------------------------

    def recover(self) -> list[int]:
        """Batches left ``in_flight`` by a process that died: mark them ``unknown``; returns them."""
        reason = "in flight when the previous run stopped: the request may have reached the gateway"
        with self._lock, self._conn:
            self._conn.execute("BEGIN IMMEDIATE")
            found = [
                r[0]
                for r in self._conn.execute(
                    "SELECT batch FROM batches WHERE state='in_flight' ORDER BY batch"
                )
            ]
            self._conn.execute(
                "UPDATE batches SET state='unknown', error='interrupted', reason=?, retryable=0 "
                "WHERE state='in_flight'",
                (reason,),
            )
        if found:
            logger.warning(
                "journal %s: %d batch(es) were in flight and are now unknown: %s",
                self.path,
                len(found),
                found[:10],
            )
        return found

    def mark_in_flight(self, batch: int) -> None:
        """Commit ``batch`` as in flight (call it *before* the request leaves)."""
        with self._lock:
            if self.fsync:
                self._conn.execute("PRAGMA synchronous=FULL")
            try:
                self._conn.execute(
                    "UPDATE batches SET state='in_flight', attempts=attempts+1, sent_at=?, "
                    "code=NULL, gateway_result=NULL, error=NULL, reason=NULL, retryable=0 "
                    "WHERE batch=?",
                    (_now(), batch),
                )
            finally:
                if self.fsync:
                    self._conn.execute("PRAGMA synchronous=NORMAL")

    def record(
        self,
        batch: int,
        state: str,
        *,
        code: int | None = None,
        gateway_result: str | None = None,
        error: str | None = None,
        reason: str | None = None,
        retryable: bool = False,
    ) -> None:
        """Commit the outcome of ``batch`` (``accepted``, ``failed``, ``unknown`` or back to
        ``planned`` when it was not sent)."""
        if state not in STATES:
            raise ValueError(f"unknown batch state {state!r}")
        with self._lock:
            self._conn.execute(
                "UPDATE batches SET state=?, code=?, gateway_result=?, error=?, reason=?, retryable=?, "
                "sent_at=COALESCE(?, sent_at) WHERE batch=?",
                (
                    state,
                    code,
                    gateway_result,
                    error,
                    reason,
                    int(retryable),
                    _now() if state != PLANNED else None,
                    batch,
                ),
            )

    def record_many_planned(self, batches: list[int], *, code: int | None, reason: str | None) -> None:
        """Note on ``planned`` batches why they were not sent (e.g. the account code that stopped the
        campaign), in one transaction; they stay ``planned`` and are sent by the next run."""
        if not batches:
            return
        with self._lock, self._conn:
            self._conn.execute("BEGIN IMMEDIATE")
            self._conn.executemany(
                "UPDATE batches SET code=?, reason=? WHERE batch=? AND state='planned'",
                [(code, reason, b) for b in batches],
            )

    def batches(self) -> pd.DataFrame:
        """One row per batch: ``batch, size, state, code, gateway_result, attempts, sent_at, error,
        reason, retryable``."""
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {', '.join(BATCH_COLUMNS)} FROM batches ORDER BY batch"
            ).fetchall()
        frame = pd.DataFrame(rows, columns=list(BATCH_COLUMNS))
        frame["code"] = frame["code"].astype("Int64")
        frame["retryable"] = frame["retryable"].astype(bool)
        return frame

    def counts(self) -> dict[str, int]:
        """Batches per state (every state, zeros included)."""
        with self._lock:
            found = dict(self._conn.execute("SELECT state, COUNT(*) FROM batches GROUP BY state"))
        return {state: int(found.get(state, 0)) for state in STATES}


def open_journal(path: str | os.PathLike[str]) -> Journal:
    """Open an existing journal file (:class:`JournalError` if there is none)."""
    if not Path(path).is_file():
        raise JournalError(f"{path}: no such journal file")
    return Journal(path)
