"""The campaign home: what must outlive one run — journals, the send registry, campaign history.

The home is a folder: the ``home`` argument, else ``SMSCAMPAIGN_HOME``, else the platform's user
data dir (``platformdirs.user_data_dir("smscampaign")``, e.g. ``~/.local/share/smscampaign``).
Tests and notebooks point it at a temporary folder.

It holds:

- ``journals/<fingerprint>.journal``: the journal of each plan sent without an explicit journal
  path (:meth:`Store.journal_path`), so re-running the same command or cell resumes;
- ``home.sqlite``: the **store** — the send registry (who got which content, from which campaign
  and journal, when: one row per batch in ``send_batches``, its numbers packed in one row of
  ``send_batch_mobiles``), the campaign history (campaigns, replies, opt-outs) and each campaign's
  people (``campaign_people``: arm, final status — the hold-out too — and the list's identifier
  columns, for outcomes measured weeks later).

The store sits behind one small interface, :class:`Store`: :class:`SQLiteStore` in the folder, or
:class:`~smscampaign.memory.postgres.PostgresStore` when the home is a ``postgresql://…`` URL (a
team's home, shared by its analysts; journals then stay in the local user data dir). The store
methods' SQL is portable (TEXT / INTEGER / BIGINT, times as ISO-8601 UTC text, no SQLite-only
functions) and bulk data is split in Arrow, not in SQL (:mod:`~smscampaign.memory.records`).
Schema changes are appended to :data:`MIGRATIONS` (never edited), each applied once, in order; the
migrations are this store's own (moving old rows may use SQLite's functions).

Environment variables are read in exactly one function, :func:`read_environment` (the gateway's
credentials too).

>>> home = open_home("/tmp/smscampaign-home")                       # doctest: +SKIP
>>> home.journal_path(plan.fingerprint)                            # doctest: +SKIP
PosixPath('/tmp/smscampaign-home/journals/3f9a….journal')
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Any, Final, Protocol, TypeVar, runtime_checkable

import numpy as np
import pandas as pd
import pyarrow as pa

from smscampaign.core.errors import ConfigError, HomeError, JournalError
from smscampaign.core.settings import ENV_HOME, Environment, read_environment
from smscampaign.memory.location import resolve_home
from smscampaign.memory.postgres import PostgresStore
from smscampaign.memory.records import (
    CAMPAIGN_COLUMNS,
    PEOPLE_SEPARATOR,
    RESERVATION_COLUMNS,
    RESERVATION_STATUSES,
    RESERVED_BATCH_COLUMNS,
    SEND_COLUMNS,
    SENT_STATUSES,
    campaign_takeover,
    campaign_takeover_values,
    campaign_upsert,
    campaign_values,
    journal_file,
    message_times,
    pack_mobiles,
    people_arrays,
    people_rows,
    reserved_batch_frame,
    select_messages,
)
from smscampaign.memory.records import split_rows as _split_rows
from smscampaign.memory.records import unpack as _unpack
from smscampaign.memory.records import utc_text as _utc
from smscampaign.memory.reservations import MIGRATION as RESERVATIONS_TABLE
from smscampaign.memory.reservations import SETTLED_MIGRATION, ReservationLog, conflicts_frame
from smscampaign.memory.reservations import reserved_batches as _reserved_batches
from smscampaign.memory.sqlite import connect_wal, home_error, rollback

__all__ = [
    "CAMPAIGN_COLUMNS",
    "ENV_HOME",
    "MIGRATIONS",
    "PEOPLE_SEPARATOR",
    "RESERVATION_COLUMNS",
    "RESERVATION_STATUSES",
    "RESERVED_BATCH_COLUMNS",
    "SEND_COLUMNS",
    "Environment",
    "PostgresStore",
    "SQLiteStore",
    "Store",
    "content_sha256",
    "home_dir",
    "home_url",
    "open_home",
    "read_environment",
]

_T = TypeVar("_T")

#: Schema changes of the store, in order; the store applies each once (its number is its index + 1).
#: Append, never edit: stores in the field have applied the earlier ones.
MIGRATIONS: Final[list[str]] = [
    # The send registry: one row per request (batch) and one small row per number in it; the view
    # ``sends`` shows one row per message (mobile, content_sha256, campaign, journal, batch, status,
    # at, gateway). Ids are chosen by the application (no SERIAL / AUTOINCREMENT dialects).
    """
    CREATE TABLE IF NOT EXISTS send_batches (
        id BIGINT PRIMARY KEY,
        content_sha256 TEXT NOT NULL,
        campaign TEXT NOT NULL,
        journal TEXT NOT NULL,
        batch INTEGER NOT NULL,
        status TEXT NOT NULL,
        at TEXT NOT NULL,
        gateway TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS send_batches_by_content ON send_batches (content_sha256, gateway, at);
    CREATE UNIQUE INDEX IF NOT EXISTS send_batches_by_journal ON send_batches (journal, batch);
    CREATE TABLE IF NOT EXISTS send_mobiles (batch_id BIGINT NOT NULL, mobile TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS send_mobiles_by_batch ON send_mobiles (batch_id);
    CREATE VIEW IF NOT EXISTS sends AS
        SELECT m.mobile, b.content_sha256, b.campaign, b.journal, b.batch, b.status, b.at, b.gateway
        FROM send_mobiles m JOIN send_batches b ON b.id = m.batch_id
    """,
    # 2: campaign history (smscampaign.memory.history): campaigns, replies, opt-outs; messages by number
    # (History.contacts sums the registry per number along this index).
    """
    CREATE TABLE IF NOT EXISTS campaigns (
        fingerprint TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        created TEXT NOT NULL,
        template TEXT,
        signature TEXT,
        kind TEXT,
        journal TEXT,
        charset TEXT,
        variants TEXT,
        counts TEXT
    );
    CREATE TABLE IF NOT EXISTS replies (
        sender TEXT NOT NULL,
        content TEXT NOT NULL,
        receivetime TEXT NOT NULL,
        received_via TEXT NOT NULL,
        stored_at TEXT NOT NULL,
        PRIMARY KEY (sender, content, receivetime)
    );
    CREATE TABLE IF NOT EXISTS opt_outs (
        mobile TEXT NOT NULL,
        at TEXT NOT NULL,
        source TEXT NOT NULL,
        note TEXT,
        PRIMARY KEY (mobile, at, source)
    );
    CREATE INDEX IF NOT EXISTS send_mobiles_by_mobile ON send_mobiles (mobile, batch_id);
    """,
    # 3: the numbers of a batch in ONE row, joined by commas (as the gateway's ``receiver`` field
    # takes them), instead of one indexed row per number: recording a batch writes two rows, and
    # reading 1M messages reads a few thousand rows, split in Arrow (``_sent_batches``). The rows of
    # the old layout move over in their order; the ``sends`` view goes with ``send_mobiles``.
    """
    CREATE TABLE IF NOT EXISTS send_batch_mobiles (batch_id BIGINT PRIMARY KEY, mobiles TEXT NOT NULL);
    INSERT INTO send_batch_mobiles (batch_id, mobiles)
        SELECT batch_id, group_concat(mobile, ',')
        FROM (SELECT batch_id, mobile FROM send_mobiles ORDER BY batch_id, rowid)
        GROUP BY batch_id;
    DROP VIEW IF EXISTS sends;
    DROP TABLE IF EXISTS send_mobiles
    """,
    # 4: one campaign row per run of a plan (``run``: the registry's name of its journal; '' for a
    # plan recorded unsent): the same plan sent again from another journal is a second row with its
    # own counts, not an overwrite of the first. Old rows' run is their journal.
    """
    ALTER TABLE campaigns RENAME TO campaigns_3;
    CREATE TABLE campaigns (
        fingerprint TEXT NOT NULL,
        name TEXT NOT NULL,
        created TEXT NOT NULL,
        template TEXT,
        signature TEXT,
        kind TEXT,
        journal TEXT,
        charset TEXT,
        variants TEXT,
        counts TEXT,
        run TEXT NOT NULL,
        PRIMARY KEY (fingerprint, run)
    );
    INSERT INTO campaigns
        SELECT fingerprint, name, created, template, signature, kind, journal, charset, variants,
               counts, COALESCE(journal, '')
        FROM campaigns_3 ORDER BY rowid;
    DROP TABLE campaigns_3
    """,
    # 5: the people of each campaign (outcomes, smscampaign.reports.outcomes): who was in which arm
    # with which final status — the hold-out too, which the registry never sees — and the identifier
    # columns their list carried (e.g. 会员号), so that outcomes weeks later find them. Packed like the
    # registry: per campaign, per part of up to PEOPLE_PART people, one row per field
    # (``mobile``, ``arm``, ``status``, ``key:<column>``), its values joined by U+001F.
    """
    CREATE TABLE IF NOT EXISTS campaign_people (
        fingerprint TEXT NOT NULL,
        part INTEGER NOT NULL,
        field TEXT NOT NULL,
        cells TEXT NOT NULL,
        PRIMARY KEY (fingerprint, part, field)
    )
    """,
    # 6 (issue 26): reservations. A runner reserves (gateway, content, number) before a batch's
    # request, in one transaction; whoever holds a number (reserved, accepted, unknown) within the
    # repeat window keeps every other journal from texting it that content. One row per batch, its
    # numbers packed (smscampaign.memory.reservations says why).
    RESERVATIONS_TABLE,
    # 7 (issue 28): when a reservation was settled, so that a run settling its unknowns by the
    # balance can account for what the other journals were charged meanwhile.
    SETTLED_MIGRATION,
]


def home_dir(home: str | os.PathLike[str] | None = None) -> Path:
    """The campaign home folder: ``home``, else ``$SMSCAMPAIGN_HOME``, else the user data dir. For a
    PostgreSQL home (``postgresql://…``) the local folder its journals go to: the user data dir.

    Not created here (see :func:`open_home`).

    >>> home_dir("/tmp/h")
    PosixPath('/tmp/h')
    """
    return resolve_home(home).folder


def home_url(home: str | os.PathLike[str] | None = None) -> str | None:
    """The PostgreSQL URL of the campaign home ``home`` names (see :func:`home_dir`), or None when
    it is a local folder."""
    return resolve_home(home).url


def content_sha256(content: str) -> str:
    """The registry's key of a message text: SHA-256 hex of its UTF-8 bytes."""
    return hashlib.sha256(content.encode("utf-8", "surrogatepass")).hexdigest()


# -- the store -------------------------------------------------------------------------------------


@runtime_checkable
class Store(Protocol):
    """What the rest of smscampaign needs from the campaign home's store (SQLite today).

    Registry statuses: ``in_flight`` (recorded before the request leaves), then ``accepted``,
    ``unknown`` or ``not_sent`` (provably not sent; ignored by :meth:`sends_before`).
    """

    @property
    def location(self) -> str:
        """Where the store lives (a path or a database name; never a password)."""
        ...

    def journal_path(self, fingerprint: str) -> Path:
        """The journal file of the plan with this fingerprint (its folder created)."""
        ...

    def record_sends(
        self,
        *,
        mobiles: Sequence[str],
        content_sha256: str,
        campaign: str,
        journal: str,
        batch: int,
        status: str,
        gateway: str,
        at: datetime | None = None,
    ) -> None:
        """Record that ``mobiles`` were (or are being) sent ``content_sha256`` through ``gateway``
        (its base URL, or the ``registry_key`` given to ``send_campaign``, e.g. ``sandbox://demo``
        for the command line's ``--sandbox`` runs) by ``campaign`` from ``journal``'s ``batch``; an
        earlier record of the same journal and batch is replaced."""
        ...

    def settle_sends(self, *, journal: str, batch: int, status: str) -> None:
        """Set the status of a journal batch's records (``accepted``, ``unknown``, ``not_sent``)."""
        ...

    def sends_before(
        self,
        content_sha256s: Iterable[str],
        *,
        gateway: str,
        since: datetime,
        exclude_journal: str | None = None,
    ) -> pd.DataFrame:
        """Records of these contents through ``gateway`` at or after ``since`` whose status means
        "may have been sent", from every journal but ``exclude_journal``: columns
        :data:`SEND_COLUMNS`, latest first. (A sandbox on another port is another gateway, unless
        both use one ``registry_key``; either way its sends never hold back a real campaign.)"""
        ...

    def batches_recorded(self, journal: str) -> dict[int, str]:
        """The batches of ``journal`` the registry holds, with their status."""
        ...

    def record_people(self, fingerprint: str, people: Mapping[str, Sequence[str | None]]) -> None:
        """Keep the people of a campaign (its hold-out included): ``people`` maps a field
        (``mobile``, ``arm``, ``status``, ``key:<column>``) to one text per person (None: none), all
        of one length; an earlier record of the campaign is replaced. Values never hold
        :data:`PEOPLE_SEPARATOR`."""
        ...

    def people(self, fingerprint: str) -> dict[str, pa.Array]:
        """The people kept for a campaign: each field :meth:`record_people` got, as an Arrow string
        array (null for none), in their order; an empty dict when none were kept."""
        ...

    def reserve(
        self,
        *,
        gateway: str,
        content_sha256: str,
        mobiles: Sequence[str],
        campaign: str,
        journal: str,
        batch: int,
        since: datetime,
        at: datetime | None = None,
    ) -> pd.DataFrame:
        """Atomically and durably reserve (``gateway``, number, content) for ``journal``'s ``batch``.

        In one transaction: every number of ``mobiles`` held for the same ``gateway`` and
        ``content_sha256`` by a *different* (journal, batch) with status ``reserved``, ``accepted``
        or ``unknown`` at or after ``since`` is a conflict; every other number is (re)reserved for
        this (journal, batch), status ``reserved``, time ``at`` (default now). Released rows and
        rows older than ``since`` are taken over. Returns the conflicts
        (:data:`RESERVATION_COLUMNS`, ``at`` tz-aware UTC), empty when every number was reserved;
        committed (and fsynced) before it returns. Two runners reserving overlapping numbers at the
        same moment never both get one."""
        ...

    def settle_reservations(self, *, journal: str, batch: int, status: str) -> None:
        """After the answer: ``accepted`` | ``unknown`` (still holding the numbers) | ``released``
        (provably nothing sent: the numbers are free again)."""
        ...

    def reservations_since(self, *, gateway: str, since: datetime, journal: str) -> pd.DataFrame:
        """The reserved batches of journals other than ``journal`` on ``gateway`` that may have been
        charged at or after ``since``: reserved at or after it, settled at or after it, or not
        settled yet (status ``reserved`` or ``unknown``), any status included (``released`` too).
        Columns :data:`RESERVED_BATCH_COLUMNS`: journal, campaign, status (str), batch, size (int64:
        the numbers the batch holds), at (when reserved), settled_at (NaT while ``reserved``), both
        datetime64[us, UTC]."""
        ...

    def reservations_of(self, journal: str) -> dict[int, str]:
        """Per batch of ``journal``: its reservation status (``reserved``, ``accepted``,
        ``unknown``, ``released``)."""
        ...

    def runner_lock(self, *, fingerprint: str, gateway: str) -> AbstractContextManager[None]:
        """Hold "one runner per plan" across everyone sharing this home while a run sends: a second
        holder gets :class:`~smscampaign.JournalBusy`, naming who holds it."""
        ...

    def close(self) -> None:
        """Release the store's connections (a second call does nothing)."""
        ...


class SQLiteStore:
    """The :class:`Store` in one SQLite file (WAL, one connection behind a lock, busy timeout)."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"cannot create the campaign home {str(self.folder)!r} ({exc.strerror}); "
                f"set {ENV_HOME} to a writable folder"
            ) from None
        self.path = self.folder / "home.sqlite"
        self._lock = threading.Lock()
        self._reservations = ReservationLog()
        try:
            self._conn = connect_wal(self.path)
            self._conn.translate = lambda exc: home_error(exc, self.path)  # type: ignore[attr-defined]
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise home_error(exc, self.path) from None

    def _migrate(self) -> None:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.execute(
                    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
                )
                row = self._conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
                version = int(row[0]) if row else 0
                if version > len(MIGRATIONS):
                    raise JournalError(
                        f"{self.path}: store schema {version} is newer than this smscampaign "
                        f"({len(MIGRATIONS)}); upgrade smscampaign"
                    )
                for script in MIGRATIONS[version:]:
                    for statement in filter(str.strip, script.split(";")):
                        self._conn.execute(statement)
                self._conn.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (str(len(MIGRATIONS)),)
                )
                self._conn.execute("COMMIT")
            except BaseException:
                rollback(self._conn)
                raise

    @property
    def location(self) -> str:
        return str(self.path)

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.folder)!r})"

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def journal_path(self, fingerprint: str) -> Path:
        return journal_file(self.folder, fingerprint)

    def record_sends(
        self,
        *,
        mobiles: Sequence[str],
        content_sha256: str,
        campaign: str,
        journal: str,
        batch: int,
        status: str,
        gateway: str,
        at: datetime | None = None,
    ) -> None:
        packed = pack_mobiles(mobiles)
        row_id = secrets.randbits(62)
        with self._lock, self._home_errors():
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                old = self._conn.execute(
                    "SELECT id FROM send_batches WHERE journal = ? AND batch = ?",
                    (journal, int(batch)),
                ).fetchone()
                if old is not None:
                    self._conn.execute("DELETE FROM send_batch_mobiles WHERE batch_id = ?", (old[0],))
                    self._conn.execute("DELETE FROM send_batches WHERE id = ?", (old[0],))
                self._conn.execute(
                    "INSERT INTO send_batches VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (row_id, content_sha256, campaign, journal, int(batch), status, _utc(at), gateway),
                )
                if mobiles:  # a batch of no numbers has no row: no message to read back
                    self._conn.execute("INSERT INTO send_batch_mobiles VALUES (?, ?)", (row_id, packed))
                self._conn.execute("COMMIT")
            except BaseException:
                rollback(self._conn)
                raise

    def settle_sends(self, *, journal: str, batch: int, status: str) -> None:
        with self._lock, self._home_errors():
            self._conn.execute(
                "UPDATE send_batches SET status = ? WHERE journal = ? AND batch = ?",
                (status, journal, int(batch)),
            )

    def batches_recorded(self, journal: str) -> dict[int, str]:
        with self._lock, self._home_errors():
            rows = self._conn.execute(
                "SELECT batch, status FROM send_batches WHERE journal = ?", (journal,)
            ).fetchall()
        return {int(b): str(st) for b, st in rows}

    # -- reservations (issue 26) ---------------------------------------------

    @contextlib.contextmanager
    def _home_errors(self) -> Iterator[None]:
        """The database failing (a full disk, an I/O error, no permission, a corrupt file) as
        :class:`~smscampaign.HomeError` naming the home."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            raise HomeError(
                f"the campaign home {self.folder} cannot be read or written ({exc}); nothing more "
                "is sent without it: fix it and run the same command again to resume",
                home=str(self.folder),
            ) from exc
        except sqlite3.DatabaseError as exc:
            if type(exc) is not sqlite3.DatabaseError:  # integrity, programming: a bug
                raise
            raise HomeError(
                f"the campaign home's store {self.path} is not usable ({exc})", home=str(self.folder)
            ) from exc

    def _durably(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        """``work(conn)`` in one write transaction (BEGIN IMMEDIATE: writers take turns, across
        processes too) committed with ``synchronous=FULL``: fsynced before this returns."""
        with self._lock, self._home_errors():
            self._conn.execute("PRAGMA synchronous=FULL")
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    result = work(self._conn)
                    self._conn.execute("COMMIT")
                except BaseException:
                    if self._conn.in_transaction:  # SQLite may have rolled back already (disk full)
                        with contextlib.suppress(sqlite3.Error):
                            self._conn.execute("ROLLBACK")
                    raise
            finally:
                with contextlib.suppress(sqlite3.Error):
                    self._conn.execute("PRAGMA synchronous=NORMAL")
        return result

    def reserve(
        self,
        *,
        gateway: str,
        content_sha256: str,
        mobiles: Sequence[str],
        campaign: str,
        journal: str,
        batch: int,
        since: datetime,
        at: datetime | None = None,
    ) -> pd.DataFrame:
        return self.reserve_many(
            [
                {
                    "gateway": gateway,
                    "content_sha256": content_sha256,
                    "mobiles": mobiles,
                    "campaign": campaign,
                    "journal": journal,
                    "batch": batch,
                    "since": since,
                    "at": at,
                }
            ]
        )[0]

    def reserve_many(self, batches: Sequence[Mapping[str, Any]]) -> list[pd.DataFrame]:
        """:meth:`reserve` of several batches (each a mapping of its keywords) in one transaction,
        committed with one fsync: how a run reserves a few batches ahead without paying an fsync
        for each (not part of :class:`Store`: a store without it is asked batch by batch)."""

        def work(conn: sqlite3.Connection) -> list[list[tuple[object, ...]]]:
            return [
                self._reservations.reserve(
                    conn, {**b, "since": _utc(b["since"]), "at": _utc(b.get("at"))}
                )
                for b in batches
            ]

        return [conflicts_frame(held) for held in self._durably(work)]

    def settle_reservations(self, *, journal: str, batch: int, status: str) -> None:
        if status not in RESERVATION_STATUSES[1:]:
            raise ConfigError(f"a reservation settles to accepted, unknown or released, not {status!r}")
        with self._lock, self._home_errors():
            self._conn.execute(
                "UPDATE reservations SET status = ?, settled_at = ? WHERE journal = ? AND batch = ?",
                (status, _utc(), journal, int(batch)),
            )

    def reservations_since(self, *, gateway: str, since: datetime, journal: str) -> pd.DataFrame:
        with self._lock, self._home_errors():
            rows = _reserved_batches(self._conn, gateway=gateway, since=_utc(since), journal=journal)
        return reserved_batch_frame(rows)

    def reservations_of(self, journal: str) -> dict[int, str]:
        with self._lock, self._home_errors():
            rows = self._conn.execute(
                "SELECT DISTINCT batch, status FROM reservations WHERE journal = ?", (journal,)
            ).fetchall()
        rank = {status: i for i, status in enumerate(RESERVATION_STATUSES)}
        found: dict[int, str] = {}
        for number, status in rows:  # one status per batch; the one that holds most wins
            current = found.get(int(number))
            if current is None or rank.get(status, 0) < rank.get(current, 0):
                found[int(number)] = str(status)
        return found

    def runner_lock(self, *, fingerprint: str, gateway: str) -> AbstractContextManager[None]:
        """A no-op: on one machine the journal's runner lock already keeps one runner per plan."""
        return contextlib.nullcontext()

    def sends_before(
        self,
        content_sha256s: Iterable[str],
        *,
        gateway: str,
        since: datetime,
        exclude_journal: str | None = None,
    ) -> pd.DataFrame:
        keys = sorted(set(content_sha256s))
        columns = [c for c in SEND_COLUMNS if c != "mobile"]
        rows: list[tuple[object, ...]] = []
        statuses = ", ".join("?" * len(SENT_STATUSES))
        for start in range(0, len(keys), 500):  # stay under any database's parameter limit
            chunk = keys[start : start + 500]
            rows += self._sent_batches(
                columns,
                f"b.content_sha256 IN ({', '.join('?' * len(chunk))}) AND b.gateway = ? "
                f"AND b.at >= ? AND b.status IN ({statuses}) AND b.journal <> ?",
                (*chunk, gateway, _utc(since), *SENT_STATUSES, exclude_journal or ""),
            )
        frame = _unpack(*_split_rows(rows), columns)[list(SEND_COLUMNS)]
        return frame.sort_values("at", ascending=False, kind="stable", ignore_index=True)

    def _sent_batches(
        self, columns: Sequence[str], where: str, params: Sequence[object]
    ) -> list[tuple[object, ...]]:
        """``columns`` of the batches matching ``where`` (on ``send_batches b``), each followed by
        its packed numbers (batches of no numbers left out)."""
        with self._lock, self._home_errors():
            return self._conn.execute(
                f"SELECT {', '.join(f'b.{c}' for c in columns)}, m.mobiles "
                "FROM send_batches b JOIN send_batch_mobiles m ON m.batch_id = b.id "
                f"WHERE {where}",
                params,
            ).fetchall()

    # -- the people of each campaign (its arms and hold-out, its identifier columns) -----------------

    def record_people(self, fingerprint: str, people: Mapping[str, Sequence[str | None]]) -> None:
        rows = people_rows(fingerprint, people)
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.execute("DELETE FROM campaign_people WHERE fingerprint = ?", (fingerprint,))
                self._conn.executemany("INSERT INTO campaign_people VALUES (?, ?, ?, ?)", rows)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def people(self, fingerprint: str) -> dict[str, pa.Array]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT field, cells FROM campaign_people WHERE fingerprint = ? ORDER BY field, part",
                (fingerprint,),
            ).fetchall()
        return people_arrays(rows)

    # -- campaign history: campaigns, replies, opt-outs ----------------------

    def record_campaign(self, row: Mapping[str, str | None]) -> None:
        """Insert or update one run of a campaign (keys :data:`CAMPAIGN_COLUMNS`; one row per
        ``fingerprint`` and ``run``); ``created`` and ``name`` of a run already recorded are kept
        unless ``name`` is given again. A run takes over its plan's row recorded unsent (run '')."""
        values = campaign_values(row)
        with self._lock:
            if values[-1]:  # each statement on its own is atomic: two runs never take over one row
                self._conn.execute(campaign_takeover("?"), campaign_takeover_values(row))
            self._conn.execute(campaign_upsert("?"), values)

    def campaigns(self) -> list[tuple[str | None, ...]]:
        """Every campaign as a tuple of :data:`CAMPAIGN_COLUMNS`, oldest first."""
        with self._lock:
            return self._conn.execute(
                f"SELECT {', '.join(CAMPAIGN_COLUMNS)} FROM campaigns ORDER BY created, rowid"
            ).fetchall()

    def add_replies(self, rows: Sequence[tuple[str, str, str, str]]) -> int:
        """Store ``(sender, content, receivetime, received_via)`` rows (times as store time text),
        each (sender, content, receivetime) once; returns how many were new."""
        stored = _utc()
        with self._lock:
            before = self._conn.total_changes
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(
                    "INSERT INTO replies VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    [(*r, stored) for r in rows],
                )
                self._conn.execute("COMMIT")
            except BaseException:
                rollback(self._conn)
                raise
            return self._conn.total_changes - before

    def replies(self) -> list[tuple[str, str, str, str]]:
        """Every reply: ``(sender, content, receivetime, received_via)``, oldest first."""
        with self._lock:
            return self._conn.execute(
                "SELECT sender, content, receivetime, received_via FROM replies "
                "ORDER BY receivetime, sender, content"
            ).fetchall()

    def add_opt_outs(self, rows: Sequence[tuple[str, str, str, str | None]]) -> int:
        """Store ``(mobile, at, source, note)`` opt-outs not coming from a reply; returns the new."""
        with self._lock:
            before = self._conn.total_changes
            self._conn.executemany(
                "INSERT INTO opt_outs VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", list(rows)
            )
            return self._conn.total_changes - before

    def opt_outs(self) -> list[tuple[str, str, str, str | None]]:
        """Every recorded opt-out: ``(mobile, at, source, note)``, oldest first."""
        with self._lock:
            return self._conn.execute(
                "SELECT mobile, at, source, note FROM opt_outs ORDER BY at, mobile"
            ).fetchall()

    def restamp_sends(self, *, campaign: str, since: datetime, at: datetime) -> None:
        """Set the time of ``campaign``'s records made at or after ``since`` to ``at`` (a run on an
        injected clock is recorded at the clock's time)."""
        with self._lock:
            self._conn.execute(
                "UPDATE send_batches SET at = ? WHERE campaign = ? AND at >= ?",
                (_utc(at), campaign, _utc(since)),
            )

    def message_times(self, *, since: datetime | None = None) -> tuple[pa.Array, np.ndarray]:
        """Every registry message whose status means "may have been sent" (at or after ``since``):
        its number (an Arrow string array) and its time as integer microseconds since the epoch
        (UTC), as two parallel arrays. One row per batch comes from the database; its numbers are
        split in Arrow and its time parsed once, so a registry of 1M messages is read without
        per-message Python objects (``History.contacts``, frequency caps)."""
        return message_times(*self._sent_numbers(["at"], since))

    def sent_messages(
        self,
        mobiles: Sequence[str] | None = None,
        *,
        since: datetime | None = None,
        columns: Sequence[str] = ("mobile", "at"),
    ) -> pd.DataFrame:
        """Registry messages whose status means "may have been sent" (at or after ``since``), one
        row per message with ``columns`` (of :data:`SEND_COLUMNS`; ``at`` as UTC datetimes): of every
        number, or of ``mobiles`` (found among the messages in Arrow: no index by number to keep
        up on every write)."""
        return select_messages(
            lambda batch_columns: self._sent_numbers(batch_columns, since), mobiles, columns
        )

    def _sent_numbers(
        self, columns: Sequence[str], since: datetime | None
    ) -> tuple[pa.Array, np.ndarray, list[tuple[object, ...]]]:
        """The numbers of every batch that may have been sent (at or after ``since``), flat, with
        how many each batch holds and its ``columns``."""
        statuses = ", ".join("?" * len(SENT_STATUSES))
        rows = self._sent_batches(
            columns,
            f"b.status IN ({statuses}) AND b.at >= ?",
            (*SENT_STATUSES, _utc(since) if since is not None else ""),
        )
        return _split_rows(rows)


def open_home(home: str | os.PathLike[str] | None = None) -> SQLiteStore | PostgresStore:
    """The store of the campaign home ``home`` names (else ``$SMSCAMPAIGN_HOME``, else the user
    data dir): a :class:`PostgresStore` for a ``postgresql://…`` URL (the team home), else a
    :class:`SQLiteStore` in the folder (created if missing).

    >>> with open_home("/tmp/h") as store:                            # doctest: +SKIP
    ...     store.journal_path("ab12…")
    """
    url, folder = resolve_home(home)
    if url is not None:
        return PostgresStore(url, journals=folder)
    return SQLiteStore(folder)
