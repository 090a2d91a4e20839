"""The send journal: an SQLite file that remembers, per batch, what the send engine knows.

Each batch of a :class:`~smscampaign.Plan` moves ``planned → in_flight → accepted | failed |
unknown``. The move to ``in_flight`` is committed *before* the request leaves and the outcome right
after the answer, so a campaign killed at any moment can be resumed without sending anything twice: a
batch found ``in_flight`` on the next start may have reached the gateway and becomes ``unknown``.

Design choices:

- **One plan per journal.** The file stores the plan's fingerprint; attaching a different plan raises
  :class:`~smscampaign.JournalError`. A re-planned campaign (a fixed typo, a new list) has new
  batches, and silently mixing two plans' records is how people get texted twice — start a new file.
- **WAL; the** ``in_flight`` **mark is committed with** ``synchronous=FULL``, **everything else with**
  ``NORMAL``. Any WAL commit survives a killed process (kill -9): it is in the OS before the request
  leaves. Power loss or an OS crash can lose commits that were not fsynced; a lost ``in_flight`` mark
  would turn a batch that went out back into ``planned`` and send it again, so that commit is fsynced —
  and the fsync also makes every earlier commit durable, because the WAL is written in order. What
  power loss can still lose is the outcome of the batches in flight at that moment: they come back
  ``in_flight`` and are reported ``unknown``, never resent. One fsync per request instead of two keeps
  the journal's cost low (``bench/bench_send.py``); so does one commit per request: when a worker
  claims its next batch at once, the outcome of its last one is committed in the claim's transaction
  (:meth:`Journal.claim` ``outcome=``) — fsynced with it, and never held across a wait (a send
  window, a rate limit, a retry's backoff). ``Journal(path, fsync=False)`` skips even that
  fsync: still safe against a killed process, not against power loss — for very fast local gateways.
- **One connection, one lock**: workers of the engine share it (``check_same_thread=False``); every
  state change is one short transaction.
- **The plan's recipients are stored** (a Parquet blob, :mod:`~smscampaign.memory.parquet`) so that
  :func:`~smscampaign.read_journal` can rebuild the per-recipient results from the file alone;
  committed before the first claim.
- **One runner per journal.** A run holds an exclusive OS lock (``flock`` on ``<journal>.lock``,
  released by the kernel when the process dies) for its whole life: :meth:`Journal.runner`. A second
  runner, in this or another process, gets :class:`~smscampaign.JournalBusy` naming the holder
  (pid, host, start time) before it sends anything (:mod:`~smscampaign.memory.lock`). Reading needs
  no lock (``readonly=True`` opens even a read-only file).
- **Claims are compare-and-set.** :meth:`Journal.claim` moves a batch to ``in_flight`` only if it is
  still in the state and at the attempt count the runner saw (``UPDATE … WHERE batch=? AND state
  IN (…) AND attempts=?``, row count checked): even two runners that bypass the lock never send one
  batch twice.
- **Recipients left out** because the campaign home's registry says they already got the same
  content (``excluded``) and the **balance readings** of ``reconcile="balance"``
  (``reconciliations``) are journaled too.

>>> with Journal("campaign.sqlite") as j:                # doctest: +SKIP
...     j.attach(plan)
...     j.batches()[["batch", "state"]].head()
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import pandas as pd
import pyarrow as pa

from smscampaign.core.errors import ConfigError, JournalError, JournalFull
from smscampaign.core.statuses import BatchState
from smscampaign.memory.background import in_background
from smscampaign.memory.journal_schema import SCHEMA_VERSION as SCHEMA_VERSION
from smscampaign.memory.journal_schema import (
    connect_readonly,
    connect_writable,
    side_files,
    tidy_side_files,
)
from smscampaign.memory.lock import RunnerLock
from smscampaign.memory.parquet import parquet_bytes, read_recipients, recipients_table
from smscampaign.memory.sqlite import DAMAGED, DENIED, FULL, explain, rollback
from smscampaign.wire.protocol import BEIJING

__all__ = [
    "BATCH_COLUMNS",
    "EXCLUDED_COLUMNS",
    "RECONCILIATION_COLUMNS",
    "STATES",
    "Journal",
    "Outcome",
    "open_journal",
]

logger = logging.getLogger(__name__)

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
    "error_kind",
    "receivers",
)
#: Columns of :meth:`Journal.excluded`.
EXCLUDED_COLUMNS: Final = ("mobile", "batch", "reason", "at")
#: Columns of :meth:`Journal.reconciliations`.
RECONCILIATION_COLUMNS: Final = (
    "at",
    "sms_left",
    "expected",
    "deducted",
    "batches",
    "verdict",
    "note",
    "accepted_total",
)


def _now() -> str:
    return datetime.now(BEIJING).isoformat(timespec="milliseconds")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one batch: what the send engine learned from the gateway (or the balance) and
    :meth:`Journal.record` commits (also handed to :meth:`Journal.claim`).

    ``retryable``: it provably never went out, so it may be sent again; ``settle="pending"``: an
    unknown awaiting a balance reading (``reconcile="balance"``)."""

    batch: int
    state: str
    code: int | None = None
    gateway_result: str | None = None
    error: str | None = None
    reason: str | None = None
    retryable: bool = False
    error_kind: str | None = None
    settle: str | None = None

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise ConfigError(f"unknown batch state {self.state!r}")


_RECORD: Final = (
    "UPDATE batches SET state=?, code=?, gateway_result=?, error=?, reason=?, retryable=?, "
    "error_kind=?, settle=?, sent_at=COALESCE(?, sent_at) WHERE batch=?"
)


def _record_params(outcome: Outcome) -> tuple[Any, ...]:
    return (
        outcome.state,
        outcome.code,
        outcome.gateway_result,
        outcome.error,
        outcome.reason,
        int(outcome.retryable),
        outcome.error_kind,
        outcome.settle,
        _now() if outcome.state != PLANNED else None,
        outcome.batch,
    )


class Journal:
    """One campaign's send journal, in an SQLite file (``":memory:"`` for a throw-away one).

    Open it as a context manager; :meth:`attach` binds it to a plan (creating the records, or checking
    the fingerprint of an existing file); a sending run holds :meth:`runner`. Thread-safe: one
    connection behind a lock. ``store_recipients=False`` leaves out the recipients frame (then
    :func:`read_journal` cannot rebuild results); ``fsync=False`` does not fsync the ``in_flight``
    marks (see the module docstring); ``readonly=True`` only reads (no lock, no schema change; works
    on a read-only file).

    >>> with Journal("spring.sqlite") as journal:           # doctest: +SKIP
    ...     journal.attach(plan)
    ...     journal.counts()
    {'planned': 12, 'in_flight': 0, 'accepted': 0, 'failed': 0, 'unknown': 0}
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        store_recipients: bool = True,
        fsync: bool = True,
        readonly: bool = False,
    ) -> None:
        if isinstance(path, bool) or not isinstance(path, str | os.PathLike):
            raise JournalError(f"a journal is a file path, not {path!r}")
        self.path = str(path)
        self.store_recipients = store_recipients
        self.fsync = fsync
        self.readonly = readonly
        self._side_files: frozenset[str] = frozenset()
        self._lock = threading.Lock()
        self._runner: RunnerLock | None = None
        self._fingerprint: str | None = None
        self._columns: set[str] = set()
        # The recipients' Parquet copy being written on a thread (attach), committed before the
        # first claim: see _commit_recipients.
        self._pending: Future[bytes] | None = None
        self._pending_lock = threading.Lock()
        try:
            if readonly:
                self._side_files = side_files(self.path)  # what a reader must not leave behind
                self._conn = connect_readonly(self.path)
            else:
                self._conn = connect_writable(self.path)
            self._conn.translate = self._error  # type: ignore[attr-defined]
            self._columns = {r[1] for r in self._conn.execute("PRAGMA table_info(batches)")}
            found = self._conn.execute("SELECT fingerprint FROM plan").fetchone()
            self._fingerprint = found[0] if found else None
        except sqlite3.DatabaseError as exc:
            raise self._error(exc) from None

    def _error(self, exc: sqlite3.Error) -> JournalError:
        """SQLite's ``exc`` on this journal as one line naming the file, the cause and what to do."""
        kind, cause = explain(exc, self.path)
        if kind == FULL:
            return JournalFull(
                f"{self.path}: the journal cannot be written: {cause}. Nothing more was sent; what it "
                "recorded is kept: free space on its disk, then run the same command again to resume"
            )
        if kind == DAMAGED:
            return JournalError(
                f"{self.path}: the journal is damaged: {cause}. Nothing was sent. Do not delete it "
                "and start afresh with the same list: its people would be texted again. Restore it "
                "from a backup; or send with a new --journal and a --repeat-window reaching back "
                "to this campaign's first send: the campaign home's send registry leaves out "
                f"everyone it texted (sqlite3 {self.path} .recover salvages its records)"
            )
        if kind == DENIED:
            return JournalError(f"{self.path}: cannot open or write the journal: {cause}")
        return JournalError(f"{self.path}: not a usable journal ({cause})")

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (every state change is already committed) and release the runner
        lock if this journal holds it."""
        try:
            self._commit_recipients()
        except Exception as exc:  # noqa: BLE001 - closing must not hide the error being raised
            logger.error("journal %s: the recipients could not be stored: %s", self.path, exc)
        with self._lock:
            self._conn.close()
        if self.readonly:
            tidy_side_files(self.path, self._side_files)
        if self._runner is not None:
            self._runner.release()
            self._runner = None

    def __repr__(self) -> str:
        return f"Journal({self.path!r}, fingerprint={self._fingerprint!r})"

    def identity(self) -> str:
        """This journal's name in the campaign home's registry and reservations: made once and kept
        in the file — its path and a random part, so a deleted or emptied journal at the same path is
        another journal (what the old one sent keeps protecting people). A journal that an older
        smscampaign already sent from keeps its path, the name its sends were recorded under."""
        where = ":memory:" if self.path == ":memory:" else str(Path(self.path).resolve())
        with self._lock:
            row = self._conn.execute("SELECT value FROM meta WHERE key='identity'").fetchone()
            if row is not None or self.readonly:
                return str(row[0]) if row is not None else where
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                row = self._conn.execute("SELECT value FROM meta WHERE key='identity'").fetchone()
                if row is None:
                    sent = self._conn.execute(
                        "SELECT 1 FROM batches WHERE attempts > 0 LIMIT 1"
                    ).fetchone()
                    prefix = "memory:" if where == ":memory:" else f"{where}#"
                    name = where if sent is not None else f"{prefix}{uuid.uuid4().hex[:16]}"
                    self._conn.execute("INSERT INTO meta VALUES ('identity', ?)", (name,))
                    row = (name,)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return str(row[0])

    @property
    def fingerprint(self) -> str | None:
        """The fingerprint of the plan this journal belongs to (``None`` before :meth:`attach`)."""
        return self._fingerprint

    @contextlib.contextmanager
    def runner(self) -> Iterator[Journal]:
        """Hold the journal's runner lock for the block: :class:`JournalBusy` at once if another
        run (in any process) holds it. In-memory journals need no lock.

        >>> with Journal("spring.sqlite") as j, j.runner():       # doctest: +SKIP
        ...     ...  # send
        """
        if self.readonly:
            raise JournalError(f"{self.path}: opened read-only; a run needs a writable journal")
        if self.path == ":memory:" or self._runner is not None:
            yield self
            return
        lock = RunnerLock(self.path)
        lock.acquire()
        self._runner = lock
        try:
            yield self
        finally:
            lock.release()
            self._runner = None

    # -- plan ------------------------------------------------------------------------------------------

    def attach(self, plan: Any, *, defer_recipients: bool = False) -> bool:
        """Bind the journal to ``plan``; returns ``True`` if the plan was new to this file.

        A new file gets the plan, its recipients and one ``planned`` row per batch; a file holding the
        same fingerprint is resumed as is; another fingerprint raises :class:`JournalError`.

        ``defer_recipients=True`` (what :func:`~smscampaign.send_campaign` does) writes the
        recipients' Parquet copy on a thread while the run gets ready and commits it before the first
        :meth:`claim` (or at :meth:`close`): no batch is ever in flight in a journal that cannot say
        who its recipients are. A journal whose first run died before that gets them on resuming.
        """
        if self._fingerprint is None and not self.readonly:
            table = recipients_table(plan.recipients) if self.store_recipients else None
            blob = None if table is None or defer_recipients else parquet_bytes(table)
            batches = plan.batches
            rows = list(
                zip(
                    batches["batch"].astype(int).tolist(),
                    batches["size"].astype(int).tolist(),
                    strict=True,
                )
            )
            with self._lock:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    found = self._conn.execute("SELECT fingerprint FROM plan").fetchone()
                    if found is None:  # still new: another process may have attached meanwhile
                        self._conn.execute(
                            "INSERT INTO plan VALUES (?, ?, ?, ?, ?, ?)",
                            (
                                plan.fingerprint,
                                _now(),
                                plan.charset,
                                plan.sendtime,
                                int(plan.messages),
                                blob,
                            ),
                        )
                        self._conn.executemany(
                            "INSERT INTO batches (batch, size, state) VALUES (?, ?, 'planned')", rows
                        )
                    self._conn.execute("COMMIT")
                except BaseException:
                    rollback(self._conn)
                    raise
            if found is None:
                self._fingerprint = plan.fingerprint
                if table is not None and blob is None:
                    self._write_recipients(table)
                logger.info(
                    "journal %s: new plan %s, %d batches", self.path, plan.fingerprint[:12], len(rows)
                )
                return True
            self._fingerprint = found[0]
        if self._fingerprint != plan.fingerprint:
            assert self._fingerprint is not None
            raise JournalError(
                f"{self.path} belongs to another plan ({self._fingerprint[:12]}…, this plan is "
                f"{plan.fingerprint[:12]}…). Do not just start a new journal: people it already "
                "texted would get the changed message too. Plan again with "
                f"suppress={self.path!r} (CLI: --suppress {self.path}) to leave out everyone it "
                "accepted or left unknown, then send that plan"
            )
        if self.store_recipients and not self.readonly and self._pending is None:
            with self._lock:
                row = self._conn.execute("SELECT recipients IS NULL FROM plan").fetchone()
            if row is not None and row[0]:  # the run that created it died before its first claim
                self._write_recipients(recipients_table(plan.recipients))
                if not defer_recipients:
                    self._commit_recipients()
        return False

    def _write_recipients(self, table: pa.Table) -> None:
        self._pending = in_background(lambda: parquet_bytes(table), "smscampaign-journal-recipients")

    def _commit_recipients(self) -> None:
        """Commit the recipients :meth:`attach` is writing, once (waits for the writer; its error,
        if any, is raised here, and again on every later call)."""
        if self._pending is None:
            return
        with self._pending_lock:
            pending = self._pending
            if pending is None:
                return
            blob = pending.result()
            with self._lock:
                self._conn.execute("UPDATE plan SET recipients=? WHERE recipients IS NULL", (blob,))
            self._pending = None

    def recipients(self) -> pd.DataFrame:
        """The plan's recipients frame as stored by :meth:`attach`."""
        self._commit_recipients()
        with self._lock:
            row = self._conn.execute("SELECT recipients FROM plan").fetchone()
        if row is None or row[0] is None:
            raise JournalError(
                f"{self.path}: the journal holds no recipients (it was made with "
                "store_recipients=False, or its first run stopped before sending anything: running "
                "the campaign again resumes it)"
            )
        return read_recipients(row[0])

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

    def recover(self, *, settle: bool = False) -> list[int]:
        """Batches left ``in_flight`` by a process that died: mark them ``unknown``; returns them.

        ``settle=True`` marks them as awaiting a balance reading (``reconcile="balance"``)."""
        reason = "in flight when the previous run stopped: the request may have reached the gateway"
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                found = [
                    r[0]
                    for r in self._conn.execute(
                        "SELECT batch FROM batches WHERE state='in_flight' ORDER BY batch"
                    )
                ]
                self._conn.execute(
                    "UPDATE batches SET state='unknown', error='interrupted', "
                    "error_kind='interrupted', reason=?, retryable=0, settle=? "
                    "WHERE state='in_flight'",
                    (reason, "pending" if settle else None),
                )
                self._conn.execute("COMMIT")
            except BaseException:
                rollback(self._conn)
                raise
        if found:
            logger.warning(
                "journal %s: %d batch(es) were in flight and are now unknown: %s",
                self.path,
                len(found),
                found[:10],
            )
        return found

    def claim(
        self,
        batch: int,
        *,
        states: Sequence[str],
        attempts: int,
        receivers: int | None = None,
        outcome: Outcome | None = None,
    ) -> bool:
        """Compare-and-set: commit ``batch`` as in flight (call it *before* the request leaves) only
        if it is still in one of ``states`` with ``attempts`` attempts; ``False`` if another runner
        changed it meanwhile (then do not send it).

        ``outcome``: another batch's outcome that just came back (an :class:`Outcome`), committed in
        the same transaction whether or not the claim succeeds — one commit instead of two, and that
        outcome fsynced with the claim."""
        self._commit_recipients()  # durable with this claim's fsync, before any request leaves
        marks = ", ".join("?" * len(states))
        claim = (
            "UPDATE batches SET state='in_flight', attempts=attempts+1, sent_at=?, "
            "code=NULL, gateway_result=NULL, error=NULL, reason=NULL, retryable=0, "
            "error_kind=NULL, settle=NULL, receivers=COALESCE(?, size) "
            f"WHERE batch=? AND state IN ({marks}) AND attempts=?"
        )
        params = (_now(), receivers, batch, *states, attempts)
        with self._lock:
            if self.fsync:
                self._conn.execute("PRAGMA synchronous=FULL")
            try:
                if outcome is None:
                    cursor = self._conn.execute(claim, params)
                else:
                    self._conn.execute("BEGIN IMMEDIATE")
                    try:
                        self._conn.execute(_RECORD, _record_params(outcome))
                        cursor = self._conn.execute(claim, params)
                        self._conn.execute("COMMIT")
                    except BaseException:
                        rollback(self._conn)
                        raise
            finally:
                if self.fsync:
                    self._conn.execute("PRAGMA synchronous=NORMAL")
        return cursor.rowcount == 1

    def mark_in_flight(self, batch: int) -> None:
        """Commit ``batch`` as in flight whatever its state (tests and tools; the engine uses the
        compare-and-set :meth:`claim`)."""
        with self._lock:
            row = self._conn.execute(
                "SELECT state, attempts FROM batches WHERE batch=?", (batch,)
            ).fetchone()
        if row is not None:
            self.claim(batch, states=[row[0]], attempts=row[1])

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
        error_kind: str | None = None,
        settle: str | None = None,
    ) -> None:
        """Commit the outcome of ``batch`` (``accepted``, ``failed``, ``unknown`` or back to
        ``planned`` when it was not sent)."""
        outcome = Outcome(
            batch,
            state,
            code=code,
            gateway_result=gateway_result,
            error=error,
            reason=reason,
            retryable=retryable,
            error_kind=error_kind,
            settle=settle,
        )
        self.record_outcome(outcome)

    def record_outcome(self, outcome: Outcome) -> None:
        """:meth:`record` of an :class:`Outcome` (the one :meth:`claim` also takes)."""
        with self._lock:
            self._conn.execute(_RECORD, _record_params(outcome))

    def record_many_planned(self, batches: list[int], *, code: int | None, reason: str | None) -> None:
        """Note on ``planned`` batches why they were not sent (e.g. the account code that stopped the
        campaign), in one transaction; they stay ``planned`` and are sent by the next run."""
        if not batches:
            return
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(
                    "UPDATE batches SET code=?, reason=? WHERE batch=? AND state='planned'",
                    [(code, reason, b) for b in batches],
                )
                self._conn.execute("COMMIT")
            except BaseException:
                rollback(self._conn)
                raise

    def batches(self) -> pd.DataFrame:
        """One row per batch: :data:`BATCH_COLUMNS` (``error_kind`` names the failure — the
        exception's class, or ``interrupted``; ``receivers`` counts the numbers of the last request)."""
        columns = [c if c in self._columns else f"NULL AS {c}" for c in BATCH_COLUMNS]
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {', '.join(columns)} FROM batches ORDER BY batch"
            ).fetchall()
        frame = pd.DataFrame(rows, columns=list(BATCH_COLUMNS))
        frame["code"] = frame["code"].astype("Int64")
        frame["receivers"] = frame["receivers"].astype("Int64")
        frame["retryable"] = frame["retryable"].astype(bool)
        return frame

    def counts(self) -> dict[str, int]:
        """Batches per state (every state, zeros included)."""
        with self._lock:
            found = dict(self._conn.execute("SELECT state, COUNT(*) FROM batches GROUP BY state"))
        return {state: int(found.get(state, 0)) for state in STATES}

    # -- recipients left out, balance readings ------------------------------------------------------

    def _has_table(self, name: str) -> bool:
        row = self._conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)
        ).fetchone()
        return row is not None

    def exclude(self, rows: Sequence[tuple[str, int, str]]) -> None:
        """Leave recipients out of their batch for good: ``(mobile, batch, reason)`` rows."""
        if not rows:
            return
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(
                    "INSERT OR IGNORE INTO excluded VALUES (?, ?, ?, ?)",
                    [(m, int(b), r, _now()) for m, b, r in rows],
                )
                self._conn.execute("COMMIT")
            except BaseException:
                rollback(self._conn)
                raise

    def unexclude(self, batches: Sequence[int]) -> None:
        """Put the recipients left out of ``batches`` back (``allow_repeat=True``)."""
        if not batches:
            return
        with self._lock:
            self._conn.executemany("DELETE FROM excluded WHERE batch=?", [(int(b),) for b in batches])

    def pending_settlement(self) -> list[int]:
        """Unknown batches awaiting a balance reading (``reconcile="balance"``)."""
        if "settle" not in self._columns:
            return []
        with self._lock:
            rows = self._conn.execute(
                "SELECT batch FROM batches WHERE state='unknown' AND settle='pending' ORDER BY batch"
            ).fetchall()
        return [int(r[0]) for r in rows]

    def clear_settlement(self, batches: Sequence[int], *, note: str | None = None) -> None:
        """These batches stay ``unknown`` for good (``note`` is added to their reason)."""
        if not batches:
            return
        with self._lock:
            self._conn.executemany(
                "UPDATE batches SET settle=NULL, reason=CASE WHEN ? IS NULL THEN reason "
                "ELSE COALESCE(reason || '; ', '') || ? END WHERE batch=?",
                [(note, note, int(b)) for b in batches],
            )

    def excluded(self) -> pd.DataFrame:
        """Recipients left out of their batch: :data:`EXCLUDED_COLUMNS`."""
        with self._lock:
            rows = (
                self._conn.execute(
                    f"SELECT {', '.join(EXCLUDED_COLUMNS)} FROM excluded ORDER BY batch, mobile"
                ).fetchall()
                if self._has_table("excluded")
                else []
            )
        return pd.DataFrame(rows, columns=list(EXCLUDED_COLUMNS))

    def add_reconciliation(
        self,
        *,
        sms_left: int | None,
        expected: int | None,
        deducted: int | None,
        batches: Sequence[int],
        verdict: str,
        note: str | None,
        accepted_total: int,
        sms_send: int | None = None,
    ) -> None:
        """Journal one balance reading and its verdict (``reconcile="balance"``, and every run's
        preflight); ``sms_send``: the account's messages sent in all, when the gateway says."""
        with self._lock:
            self._conn.execute(
                "INSERT INTO reconciliations "
                "(at, sms_left, expected, deducted, batches, verdict, note, accepted_total, "
                "sms_send) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    _now(),
                    sms_left,
                    expected,
                    deducted,
                    ",".join(str(b) for b in batches),
                    verdict,
                    note,
                    accepted_total,
                    sms_send,
                ),
            )

    def last_reading(self) -> dict[str, Any] | None:
        """The last balance reading with a number: ``at, sms_left, sms_send, accepted_total``
        (``sms_send`` None when not known), or None."""
        with self._lock:
            if not self._has_table("reconciliations"):
                return None
            columns = {r[1] for r in self._conn.execute("PRAGMA table_info(reconciliations)")}
            send = "sms_send" if "sms_send" in columns else "NULL"
            row = self._conn.execute(
                f"SELECT at, sms_left, {send}, accepted_total FROM reconciliations "
                "WHERE sms_left IS NOT NULL ORDER BY id DESC LIMIT 1"
            ).fetchone()
        if row is None:
            return None
        return dict(zip(("at", "sms_left", "sms_send", "accepted_total"), row, strict=True))

    def reconciliations(self) -> pd.DataFrame:
        """Every balance reading and verdict, in order: :data:`RECONCILIATION_COLUMNS`."""
        with self._lock:
            rows = (
                self._conn.execute(
                    f"SELECT {', '.join(RECONCILIATION_COLUMNS)} FROM reconciliations ORDER BY id"
                ).fetchall()
                if self._has_table("reconciliations")
                else []
            )
        frame = pd.DataFrame(rows, columns=list(RECONCILIATION_COLUMNS))
        for column in ("sms_left", "expected", "deducted", "accepted_total"):
            frame[column] = frame[column].astype("Int64")
        return frame

    def record_run(self, facts: dict[str, Any]) -> None:
        """Keep what the last run did (``summary``, ``resumed``, ``accepted_before``, ``sent_now``):
        :func:`~smscampaign.read_journal` and ``smscampaign report`` say it again."""
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO meta VALUES ('last_run', ?)",
                (json.dumps({**facts, "at": _now()}, ensure_ascii=False),),
            )

    def last_run(self) -> dict[str, Any]:
        """What :meth:`record_run` kept ({} when no run finished)."""
        with self._lock:
            row = self._conn.execute("SELECT value FROM meta WHERE key='last_run'").fetchone()
        return dict(json.loads(row[0])) if row else {}

    def accepted_total(self) -> int:
        """Messages this journal's accepted batches carried (what the gateway deducted for them)."""
        with self._lock:
            row = self._conn.execute(
                "SELECT COALESCE(SUM(COALESCE(receivers, size)), 0) FROM batches WHERE state='accepted'"
            ).fetchone()
        return int(row[0])


def open_journal(path: str | os.PathLike[str], *, readonly: bool = False) -> Journal:
    """Open an existing journal file (:class:`JournalError` if there is none)."""
    if not Path(path).is_file():
        raise JournalError(f"{path}: no such journal file")
    return Journal(path, readonly=readonly)
