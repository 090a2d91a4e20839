"""The team's campaign home on PostgreSQL: :class:`PostgresStore`, the
:class:`~smscampaign.memory.home.Store` a whole team shares.

``SMSCAMPAIGN_HOME=postgresql://…`` (or ``home="postgresql://…"`` wherever ``home=`` exists) selects
it. The send registry, the reservations, campaigns, replies and opt-outs live in the database, so
every analyst's opt-outs, sends and frequency caps count for everyone; journals stay local files (the
journal is the fsynced truth of one run) in the user data dir (:mod:`~smscampaign.memory.location`).

The rows are the SQLite store's (:mod:`~smscampaign.memory.records`: times as ISO-8601 UTC text, a
batch's numbers packed in one row, split in Arrow when read), created and migrated by
:data:`MIGRATIONS` under an advisory lock, so two analysts opening a new home at once do not collide.
Reservations are a plain ``INSERT`` (``INSERT … ON CONFLICT`` when a number is already there) on
``(gateway, content_sha256, mobile)`` with the numbers sorted, so two runners never deadlock; bulk
writes (replies, opt-outs, ``smscampaign home copy``) go through ``COPY``.
:meth:`PostgresStore.runner_lock` is a session advisory lock (:mod:`~smscampaign.memory.postgres_lock`).

psycopg (``pip install 'smscampaign[postgres]'``) is imported when a PostgreSQL home is opened,
never before. The URL goes to libpq untouched (``PGPASSWORD``, ``~/.pgpass``, ``PGSERVICE``,
``sslmode`` … work as for ``psql``); the store shows it only without its password (``location``), and
every database error becomes :class:`~smscampaign.core.errors.HomeError` naming the home that way,
the password scrubbed from the driver's text. A connection that broke (server restarted, network
cut) raises once, and the next call connects again.

>>> with PostgresStore("postgresql://ana@db/team") as store:        # doctest: +SKIP
...     store.location
'postgresql://ana@db/team'
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa

from smscampaign.core.errors import ConfigError, HomeError
from smscampaign.memory.location import redact_url, resolve_home, scrub
from smscampaign.memory.postgres_lock import advisory_runner_lock
from smscampaign.memory.postgres_reservations import MIGRATION as RESERVATIONS_TABLES
from smscampaign.memory.postgres_reservations import (
    SETTLE,
    content_id,
    copy_reservations,
    reservations_since,
    reserve_numbers,
)
from smscampaign.memory.records import (
    CAMPAIGN_COLUMNS,
    RESERVATION_STATUSES,
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
    reservation_frame,
    reserved_batch_frame,
    select_messages,
    split_rows,
    unpack,
    utc_text,
)

if TYPE_CHECKING:  # pragma: no cover - typing only
    import psycopg

__all__ = ["MIGRATIONS", "RESERVATION_STATUSES", "PostgresStore", "connect"]

logger = logging.getLogger(__name__)

#: Schema changes of the PostgreSQL store, in order; each applied once (its number is its index + 1).
#: Append, never edit: team homes in the field have applied the earlier ones.
MIGRATIONS: Final[list[str]] = [
    # 1: the send registry (as the SQLite store's: one row per batch, its numbers packed in one
    # row), the campaign history, the reservations (reserved before the request, settled after)
    # and the holders of the runner locks (to name them). Text compares byte by byte (COLLATE "C"),
    # as in SQLite, whatever the database's locale: numbers, keys and ISO times sort the same.
    """
    CREATE TABLE send_batches (
        id BIGINT PRIMARY KEY,
        content_sha256 TEXT COLLATE "C" NOT NULL,
        campaign TEXT COLLATE "C" NOT NULL,
        journal TEXT COLLATE "C" NOT NULL,
        batch INTEGER NOT NULL,
        status TEXT COLLATE "C" NOT NULL,
        at TEXT COLLATE "C" NOT NULL,
        gateway TEXT COLLATE "C" NOT NULL
    );
    CREATE INDEX send_batches_by_content ON send_batches (content_sha256, gateway, at);
    CREATE UNIQUE INDEX send_batches_by_journal ON send_batches (journal, batch);
    CREATE INDEX send_batches_by_time ON send_batches (at);
    CREATE TABLE send_batch_mobiles (batch_id BIGINT PRIMARY KEY, mobiles TEXT COLLATE "C" NOT NULL);
    CREATE TABLE campaigns (
        fingerprint TEXT COLLATE "C" NOT NULL,
        name TEXT COLLATE "C" NOT NULL,
        created TEXT COLLATE "C" NOT NULL,
        template TEXT COLLATE "C",
        signature TEXT COLLATE "C",
        kind TEXT COLLATE "C",
        journal TEXT COLLATE "C",
        charset TEXT COLLATE "C",
        variants TEXT COLLATE "C",
        counts TEXT COLLATE "C",
        run TEXT COLLATE "C" NOT NULL DEFAULT '',
        position BIGINT GENERATED ALWAYS AS IDENTITY,
        PRIMARY KEY (fingerprint, run)
    );
    CREATE TABLE replies (
        sender TEXT COLLATE "C" NOT NULL,
        content TEXT COLLATE "C" NOT NULL,
        receivetime TEXT COLLATE "C" NOT NULL,
        received_via TEXT COLLATE "C" NOT NULL,
        stored_at TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (sender, content, receivetime)
    );
    CREATE TABLE opt_outs (
        mobile TEXT COLLATE "C" NOT NULL,
        at TEXT COLLATE "C" NOT NULL,
        source TEXT COLLATE "C" NOT NULL,
        note TEXT COLLATE "C",
        PRIMARY KEY (mobile, at, source)
    );
    CREATE TABLE reservations (
        gateway TEXT COLLATE "C" NOT NULL,
        content_sha256 TEXT COLLATE "C" NOT NULL,
        mobile TEXT COLLATE "C" NOT NULL,
        campaign TEXT COLLATE "C" NOT NULL,
        journal TEXT COLLATE "C" NOT NULL,
        batch INTEGER NOT NULL,
        status TEXT COLLATE "C" NOT NULL,
        at TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (gateway, content_sha256, mobile)
    );
    CREATE INDEX reservations_by_journal ON reservations (journal, batch);
    CREATE TABLE runners (
        lock_key BIGINT PRIMARY KEY,
        fingerprint TEXT COLLATE "C" NOT NULL,
        gateway TEXT COLLATE "C" NOT NULL,
        holder TEXT COLLATE "C" NOT NULL,
        backend INTEGER NOT NULL
    )
    """,
    # 2: the people of each campaign (its arms and hold-out, its identifier columns), as the SQLite
    # store's migration 5 keeps them: per part of PEOPLE_PART people, one row per field.
    """
    CREATE TABLE IF NOT EXISTS campaign_people (
        fingerprint TEXT COLLATE "C" NOT NULL,
        part INTEGER NOT NULL,
        field TEXT COLLATE "C" NOT NULL,
        cells TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (fingerprint, part, field)
    )
    """,
    # 3: room in each page of the reservations for their settling (reserved → accepted, released):
    # an update that fits in its page touches no index (a HOT update), a third of the work and WAL
    # of settling a batch of 500 (10 ms → 3.5 ms of the server's time). Pages written from now on.
    """
    ALTER TABLE reservations SET (fillfactor = 60)
    """,
    # 4: narrow reservations (smscampaign.memory.postgres_reservations): integer ids for the content
    # and the holding batch instead of three text keys per number, a batch settled in one row.
    RESERVATIONS_TABLES,
]

#: Record a batch in the send registry (again, on a resume: its row keeps its id) and its numbers,
#: in one statement; ``NULL`` numbers record the batch alone.
_RECORD_SENDS: Final = """
    WITH b AS (
        INSERT INTO send_batches AS b VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
        ON CONFLICT (journal, batch) DO UPDATE
        SET content_sha256 = excluded.content_sha256, campaign = excluded.campaign,
            status = excluded.status, at = excluded.at, gateway = excluded.gateway
        RETURNING b.id
    )
    INSERT INTO send_batch_mobiles (batch_id, mobiles)
    SELECT b.id, m.mobiles FROM b, (SELECT %s::text AS mobiles) m WHERE m.mobiles IS NOT NULL
    ON CONFLICT (batch_id) DO UPDATE SET mobiles = excluded.mobiles
"""

#: The advisory lock (transaction-scoped) that serialises migrations of one database.
_MIGRATION_LOCK: Final = 0x736D7363616D70  # "smscamp"


def _driver() -> Any:
    """psycopg, imported now (a PostgreSQL home is being opened), or a ConfigError saying how to
    install it."""
    try:
        import psycopg  # noqa: PLC0415 - optional dependency, imported only for a PostgreSQL home
    except ImportError:
        raise ConfigError(
            "a PostgreSQL campaign home needs psycopg: pip install 'smscampaign[postgres]'"
        ) from None
    return psycopg


def connect(url: str) -> psycopg.Connection[Any]:
    """An autocommit connection to ``url`` (handed to libpq untouched); :class:`HomeError` naming
    the home without its password when it cannot be made."""
    psycopg = _driver()
    try:
        return psycopg.connect(url, autocommit=True, fallback_application_name="smscampaign")
    except psycopg.Error as exc:
        raise home_error(exc, url, "cannot be reached") from None


def home_error(exc: BaseException, url: str, what: str = "failed") -> HomeError:
    """A driver's error as :class:`HomeError`: the home redacted, the password scrubbed, one line."""
    text = " ".join(scrub(str(exc), url).split())
    home = redact_url(url)
    return HomeError(f"the campaign home {home} {what}: {text}", home=home)


class PostgresStore:
    """The :class:`~smscampaign.memory.home.Store` in a PostgreSQL database (one autocommit
    connection behind a lock; connected again after it broke).

    ``url``: a libpq URL (``postgresql://user@host:5432/db?sslmode=require``); ``journals``: the
    local folder whose ``journals/`` holds the journals (default: the user data dir).
    """

    def __init__(self, url: str, *, journals: str | os.PathLike[str] | None = None) -> None:
        self._url = url  # handed to libpq only; never shown
        self.folder = Path(journals) if journals is not None else resolve_home(url).folder
        self._lock = threading.RLock()
        self._conn: psycopg.Connection[Any] | None = None
        self._closed = False
        self._nobody_held: pd.DataFrame | None = None  # what reserve returns when it got them all
        self._contents: dict[tuple[str, str], int] = {}  # (gateway, content) → its reservations' id
        self._migrate()

    @property
    def location(self) -> str:
        """The home's URL without its password."""
        return redact_url(self._url)

    def __repr__(self) -> str:
        return f"PostgresStore({self.location!r})"

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._conn is not None:
                with contextlib.suppress(Exception):
                    self._conn.close()
                self._conn = None

    @contextlib.contextmanager
    def _session(self, what: str = "failed") -> Iterator[psycopg.Connection[Any]]:
        """The connection, under the lock (connected again if it broke); a database error inside
        becomes :class:`HomeError`."""
        psycopg = _driver()
        with self._lock:
            if self._closed:
                raise HomeError(f"the campaign home {self.location} is closed", home=self.location)
            if self._conn is None or self._conn.closed or self._conn.broken:
                if self._conn is not None:
                    with contextlib.suppress(Exception):
                        self._conn.close()
                self._conn = None
                self._conn = connect(self._url)
            try:
                yield self._conn
            except psycopg.Error as exc:
                raise home_error(exc, self._url, what) from None

    def _migrate(self) -> None:
        with self._session("cannot be set up") as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            version = int(row[0]) if row else 0
            if version > len(MIGRATIONS):
                raise HomeError(
                    f"the campaign home {self.location} has schema {version}, newer than this "
                    f"smscampaign ({len(MIGRATIONS)}); upgrade smscampaign",
                    home=self.location,
                )
            for script in MIGRATIONS[version:]:
                for statement in filter(str.strip, script.split(";")):
                    conn.execute(statement)
            conn.execute(
                "INSERT INTO meta VALUES ('schema', %s) ON CONFLICT (key) DO UPDATE "
                "SET value = excluded.value",
                (str(len(MIGRATIONS)),),
            )
            if version < len(MIGRATIONS):
                logger.info("campaign home %s: schema %d → %d", self.location, version, len(MIGRATIONS))

    def schema_version(self) -> int:
        """The schema version the home is at (the number of :data:`MIGRATIONS` applied)."""
        with self._session() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        return int(row[0]) if row else 0

    def table_counts(self) -> dict[str, int]:
        """Rows per table (``send_batch_mobiles`` as the messages it holds)."""
        tables = ("campaigns", "send_batches", "replies", "opt_outs", "reservations")
        counted = ", ".join(
            f"(SELECT count(*) FROM {'reservation_numbers' if t == 'reservations' else t})"
            for t in tables
        )
        messages = (
            "(SELECT coalesce(sum(length(mobiles) - length(replace(mobiles, ',', '')) + 1), 0) "
            "FROM send_batch_mobiles)"
        )
        with self._session() as conn:
            row = conn.execute(f"SELECT {counted}, {messages}").fetchone()
        assert row is not None  # a SELECT without FROM returns its one row
        return {name: int(n) for name, n in zip((*tables, "messages"), row, strict=True)}

    def journal_path(self, fingerprint: str) -> Path:
        return journal_file(self.folder, fingerprint)

    # -- the send registry ---------------------------------------------------------------------------

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
        row = (secrets.randbits(62), content_sha256, campaign, journal, int(batch), status)
        with self._session() as conn:
            if mobiles:  # the usual case: one statement, one round trip
                conn.execute(_RECORD_SENDS, (*row, utc_text(at), gateway, packed))
                return
            with conn.transaction():  # a batch of no numbers has no row: no message to read back
                conn.execute(
                    "DELETE FROM send_batch_mobiles WHERE batch_id IN "
                    "(SELECT id FROM send_batches WHERE journal = %s AND batch = %s)",
                    (journal, int(batch)),
                )
                conn.execute(_RECORD_SENDS, (*row, utc_text(at), gateway, None))

    def settle_sends(self, *, journal: str, batch: int, status: str) -> None:
        with self._session() as conn:
            conn.execute(
                "UPDATE send_batches SET status = %s WHERE journal = %s AND batch = %s",
                (status, journal, int(batch)),
            )

    def batches_recorded(self, journal: str) -> dict[int, str]:
        with self._session() as conn:
            rows = conn.execute(
                "SELECT batch, status FROM send_batches WHERE journal = %s", (journal,)
            ).fetchall()
        return {int(b): str(st) for b, st in rows}

    def sends_before(
        self,
        content_sha256s: Iterable[str],
        *,
        gateway: str,
        since: datetime,
        exclude_journal: str | None = None,
    ) -> pd.DataFrame:
        columns = [c for c in SEND_COLUMNS if c != "mobile"]
        rows = self._sent_batches(
            columns,
            "b.content_sha256 = ANY(%s) AND b.gateway = %s AND b.at >= %s "
            "AND b.status = ANY(%s) AND b.journal <> %s",
            (
                sorted(set(content_sha256s)),
                gateway,
                utc_text(since),
                list(SENT_STATUSES),
                exclude_journal or "",
            ),
        )
        frame = unpack(*split_rows(rows), columns)[list(SEND_COLUMNS)]
        return frame.sort_values("at", ascending=False, kind="stable", ignore_index=True)

    def _sent_batches(
        self, columns: Sequence[str], where: str, params: Sequence[object]
    ) -> list[tuple[object, ...]]:
        """``columns`` of the batches matching ``where`` (on ``send_batches b``), each followed by
        its packed numbers (batches of no numbers left out)."""
        with self._session() as conn:
            return conn.execute(
                f"SELECT {', '.join(f'b.{c}' for c in columns)}, m.mobiles "
                "FROM send_batches b JOIN send_batch_mobiles m ON m.batch_id = b.id "
                f"WHERE {where}",
                params,
            ).fetchall()

    def restamp_sends(self, *, campaign: str, since: datetime, at: datetime) -> None:
        """Set the time of ``campaign``'s records made at or after ``since`` to ``at``."""
        with self._session() as conn:
            conn.execute(
                "UPDATE send_batches SET at = %s WHERE campaign = %s AND at >= %s",
                (utc_text(at), campaign, utc_text(since)),
            )

    def message_times(self, *, since: datetime | None = None) -> tuple[pa.Array, np.ndarray]:
        """Every registry message that may have been sent (at or after ``since``): its number and
        its time as integer microseconds since the epoch (UTC), as two parallel arrays."""
        return message_times(*self._sent_numbers(["at"], since))

    def sent_messages(
        self,
        mobiles: Sequence[str] | None = None,
        *,
        since: datetime | None = None,
        columns: Sequence[str] = ("mobile", "at"),
    ) -> pd.DataFrame:
        """Registry messages that may have been sent (at or after ``since``), one row per message
        with ``columns`` (of :data:`SEND_COLUMNS`): of every number, or of ``mobiles``."""
        return select_messages(
            lambda batch_columns: self._sent_numbers(batch_columns, since), mobiles, columns
        )

    def _sent_numbers(
        self, columns: Sequence[str], since: datetime | None
    ) -> tuple[pa.Array, np.ndarray, list[tuple[object, ...]]]:
        rows = self._sent_batches(
            columns,
            "b.status = ANY(%s) AND b.at >= %s",
            (list(SENT_STATUSES), utc_text(since) if since is not None else ""),
        )
        return split_rows(rows)

    # -- reservations --------------------------------------------------------------------------------

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
        """Reserve (gateway, number, content) for this journal's batch, in one committed statement;
        returns the numbers someone else holds (:data:`RESERVATION_COLUMNS`), empty when all were
        reserved. The numbers go in sorted, so two runners lock rows in one order: no deadlock."""
        wanted = sorted(set(mobiles))
        params = {
            "mobiles": ",".join(wanted),
            "wanted": len(wanted),
            "campaign": campaign,
            "journal": journal,
            "batch": int(batch),
            "at": utc_text(at),
            "since": utc_text(since),
        }
        errors = _driver().errors
        for attempt in range(3):  # a release deleting rows in another order: rare, and retried
            try:
                with self._session() as conn:
                    params["content"] = self._content_id(conn, gateway, content_sha256)
                    rows = reserve_numbers(conn, params, errors.UniqueViolation)
                break
            except HomeError as exc:
                if attempt == 2 or not isinstance(exc.__context__, errors.DeadlockDetected):
                    raise
        if not rows:
            return self._nobody_held_frame()
        return reservation_frame(rows)

    def _content_id(self, conn: psycopg.Connection[Any], gateway: str, content_sha256: str) -> int:
        """The integer id of (gateway, content), kept once known (ids are never reused)."""
        key = (gateway, content_sha256)
        found = self._contents.get(key)
        if found is None:
            found = self._contents[key] = content_id(conn, gateway, content_sha256)
        return found

    def _nobody_held_frame(self) -> pd.DataFrame:
        """What :meth:`reserve` returns when it got every number: built once (a frame costs ~0.7 ms)."""
        if self._nobody_held is None:
            self._nobody_held = reservation_frame([])
        return self._nobody_held.copy()

    def settle_reservations(self, *, journal: str, batch: int, status: str) -> None:
        if status not in RESERVATION_STATUSES:
            raise ConfigError(
                f"reservation status must be one of {RESERVATION_STATUSES}, not {status!r}"
            )
        params = {"status": status, "at": utc_text(), "journal": journal, "batch": int(batch)}
        with self._session() as conn:
            conn.execute(SETTLE, params)

    def reservations_of(self, journal: str) -> dict[int, str]:
        """Per batch of ``journal``: its reservation status."""
        with self._session() as conn:
            rows = conn.execute(
                "SELECT batch, status FROM reservation_batches WHERE journal = %s", (journal,)
            ).fetchall()
        return {int(batch): str(status) for batch, status in rows}

    def reservations_since(self, *, gateway: str, since: datetime, journal: str) -> pd.DataFrame:
        """The reserved batches of journals other than ``journal`` on ``gateway`` that may have been
        charged at or after ``since`` (see :meth:`~smscampaign.memory.home.Store.reservations_since`;
        a released batch holds no number here: its ``size`` is 0)."""
        params = {"gateway": gateway, "since": utc_text(since), "journal": journal}
        with self._session() as conn:
            rows = reservations_since(conn, params)
        return reserved_batch_frame(rows)

    def runner_lock(self, *, fingerprint: str, gateway: str) -> contextlib.AbstractContextManager[None]:
        """One runner per plan across everyone sharing this home: a session advisory lock keyed by
        (fingerprint, gateway) on a connection of its own, held while the run sends; a second
        holder gets :class:`~smscampaign.core.errors.JournalBusy` naming who holds it."""
        return advisory_runner_lock(
            lambda: connect(self._url),
            fingerprint=fingerprint,
            gateway=gateway,
            home=self.location,
            error=lambda exc: home_error(exc, self._url),
            driver_error=_driver().Error,
        )

    # -- the people of each campaign (its arms and hold-out, its identifier columns) -----------------

    def record_people(self, fingerprint: str, people: Mapping[str, Sequence[str | None]]) -> None:
        """Keep a campaign's people (see :meth:`SQLiteStore.record_people`), replacing any earlier."""
        rows = people_rows(fingerprint, people)
        with self._session() as conn, conn.transaction():
            conn.execute("DELETE FROM campaign_people WHERE fingerprint = %s", (fingerprint,))
            with conn.cursor().copy(
                "COPY campaign_people (fingerprint, part, field, cells) FROM STDIN"
            ) as copy:
                for row in rows:
                    copy.write_row(row)

    def people(self, fingerprint: str) -> dict[str, pa.Array]:
        """A campaign's people as one Arrow array per field; empty when nothing was kept."""
        with self._session() as conn:
            rows = conn.execute(
                "SELECT field, cells FROM campaign_people WHERE fingerprint = %s ORDER BY field, part",
                (fingerprint,),
            ).fetchall()
        return people_arrays(rows)

    # -- campaign history: campaigns, replies, opt-outs ------------------------------------------------

    def record_campaign(self, row: Mapping[str, str | None]) -> None:
        """Insert or update one run of a campaign, as :meth:`SQLiteStore.record_campaign`."""
        values = campaign_values(row)
        with self._session() as conn:
            if values[-1]:
                conn.execute(campaign_takeover("%s"), campaign_takeover_values(row))
            conn.execute(campaign_upsert("%s"), values)

    def campaigns(self) -> list[tuple[str | None, ...]]:
        """Every campaign as a tuple of :data:`CAMPAIGN_COLUMNS`, oldest first."""
        with self._session() as conn:
            return conn.execute(
                f"SELECT {', '.join(CAMPAIGN_COLUMNS)} FROM campaigns ORDER BY created, position"
            ).fetchall()

    def add_replies(self, rows: Sequence[tuple[str, str, str, str]]) -> int:
        """Store ``(sender, content, receivetime, received_via)`` rows, each (sender, content,
        receivetime) once (``COPY``); returns how many were new."""
        stored = utc_text()
        return self.copy_rows(
            "replies",
            ("sender", "content", "receivetime", "received_via", "stored_at"),
            [(*r, stored) for r in rows],
        )

    def replies(self) -> list[tuple[str, str, str, str]]:
        """Every reply: ``(sender, content, receivetime, received_via)``, oldest first."""
        with self._session() as conn:
            return conn.execute(
                "SELECT sender, content, receivetime, received_via FROM replies "
                "ORDER BY receivetime, sender, content"
            ).fetchall()

    def add_opt_outs(self, rows: Sequence[tuple[str, str, str, str | None]]) -> int:
        """Store ``(mobile, at, source, note)`` opt-outs not coming from a reply; returns the new."""
        return self.copy_rows("opt_outs", ("mobile", "at", "source", "note"), rows)

    def opt_outs(self) -> list[tuple[str, str, str, str | None]]:
        """Every recorded opt-out: ``(mobile, at, source, note)``, oldest first."""
        with self._session() as conn:
            return conn.execute(
                "SELECT mobile, at, source, note FROM opt_outs ORDER BY at, mobile"
            ).fetchall()

    def copy_rows(
        self,
        table: str,
        columns: Sequence[str],
        rows: Iterable[Sequence[object]],
        *,
        only_known_batches: bool = False,
    ) -> int:
        """``COPY`` ``rows`` into ``table`` through a temporary table, keeping rows already there
        (``ON CONFLICT DO NOTHING``: copying twice is copying once); returns how many were new.
        ``only_known_batches``: keep only rows whose ``batch_id`` is a batch of the registry."""
        if table == "reservations":  # one flat row per number: into the three tables
            with self._session() as conn, conn.transaction():
                return copy_reservations(conn, rows)
        names = ", ".join(columns)
        keep = " WHERE t.batch_id IN (SELECT id FROM send_batches)" if only_known_batches else ""
        with self._session() as conn, conn.transaction():
            conn.execute(
                f"CREATE TEMP TABLE incoming ON COMMIT DROP AS SELECT {names} FROM {table} WITH NO DATA"
            )
            with conn.cursor().copy(f"COPY incoming ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            added = conn.execute(
                f"INSERT INTO {table} ({names}) SELECT {names} FROM incoming t{keep} "
                "ON CONFLICT DO NOTHING"
            ).rowcount
        return max(int(added), 0)
