"""One runner per plan across a team: a PostgreSQL session advisory lock, and a note of its holder.

:meth:`PostgresStore.runner_lock <smscampaign.memory.postgres.PostgresStore.runner_lock>` opens a
connection of its own and takes ``pg_try_advisory_lock`` on a 64-bit key hashed from (plan
fingerprint, registry key). The server keeps the lock as long as that session lives and drops it
when the session ends — the run finished, the process died, the network went — so a lock is never
left behind. The holder writes who it is (user, host, pid, since when) into the home's ``runners``
table, so a second analyst's :class:`~smscampaign.core.errors.JournalBusy` names them.

A transaction-pooling proxy (PgBouncer in ``pool_mode = transaction``) hands each transaction to
any server session, which breaks session locks: point ``SMSCAMPAIGN_HOME`` at the server itself,
or at a session-pooling proxy. Reservations still keep anyone from being texted twice, but two runs
of one plan would then race each other for its batches.

>>> with store.runner_lock(fingerprint=plan.fingerprint, gateway="sandbox://demo"):  # doctest: +SKIP
...     ...  # JournalBusy above if another analyst is sending this plan
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from smscampaign.core.errors import HomeError, JournalBusy
from smscampaign.wire.protocol import BEIJING

__all__ = ["advisory_runner_lock", "lock_key"]

#: How long a second runner waits for the holder's note to appear (the holder writes it right after
#: taking the lock).
_NOTE_WAIT = 2.0


def lock_key(fingerprint: str, gateway: str) -> int:
    """The advisory lock's key: the first 8 bytes of SHA-256 of (fingerprint, gateway), signed."""
    digest = hashlib.sha256(f"{fingerprint}\0{gateway}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _user() -> str:
    """The login name of this process's user, from the system (not from $USER: environment
    variables are read in core.settings alone)."""
    try:
        import pwd  # noqa: PLC0415 - POSIX only

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):  # Windows; or no name for this uid (a container)
        try:
            return os.getlogin()
        except OSError:
            return str(os.getuid()) if hasattr(os, "getuid") else "?"


def _me() -> dict[str, Any]:
    user = _user()
    return {
        "user": user,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "since": datetime.now(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
    }


@contextlib.contextmanager
def advisory_runner_lock(
    connect: Callable[[], Any],
    *,
    fingerprint: str,
    gateway: str,
    home: str,
    error: Callable[[BaseException], HomeError],
    driver_error: type[BaseException],
) -> Iterator[None]:
    """Hold the plan's advisory lock on a connection from ``connect()`` while the body runs;
    :class:`JournalBusy` naming the holder if another session holds it. ``error`` turns a driver
    error (``driver_error``) into :class:`HomeError`."""
    key = lock_key(fingerprint, gateway)
    conn = connect()
    try:
        try:
            _acquire(conn, key, fingerprint, gateway, home)
        except driver_error as exc:
            raise error(exc) from None
        yield
    finally:
        with contextlib.suppress(Exception):
            conn.execute(
                "DELETE FROM runners WHERE lock_key = %s AND backend = pg_backend_pid()", (key,)
            )
        with contextlib.suppress(Exception):
            conn.close()  # ending the session releases the lock


def _acquire(conn: Any, key: int, fingerprint: str, gateway: str, home: str) -> None:
    (got,) = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
    if not got:
        holder = _holder(conn, key)
        who = (
            f"{holder.get('user', '?')} on {holder.get('host', '?')} (pid {holder.get('pid', '?')}), "
            f"since {holder.get('since', '?')} (Beijing time)"
            if holder
            else "another analyst"
        )
        raise JournalBusy(
            f"plan {fingerprint[:12]}… through {gateway} is being sent by {who}, from the campaign "
            f"home {home}; nothing was sent. Wait for that run to finish, or stop it: a second run "
            "of the same plan would only race it",
            holder={**holder, "started": holder.get("since")} if holder else {},
        )
    conn.execute(
        "INSERT INTO runners VALUES (%s, %s, %s, %s, pg_backend_pid()) ON CONFLICT (lock_key) "
        "DO UPDATE SET fingerprint = excluded.fingerprint, gateway = excluded.gateway, "
        "holder = excluded.holder, backend = excluded.backend",
        (key, fingerprint, gateway, json.dumps(_me())),
    )


def _holder(conn: Any, key: int) -> dict[str, Any]:
    """The note of the session holding ``key`` (waiting a moment for it to be written)."""
    deadline = time.monotonic() + _NOTE_WAIT
    while True:
        row = conn.execute(
            "SELECT r.holder FROM runners r WHERE r.lock_key = %s AND EXISTS (SELECT 1 FROM pg_locks l "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.pid = r.backend)",
            (key,),
        ).fetchone()
        if row is not None:
            found = json.loads(row[0])
            return found if isinstance(found, dict) else {}
        if time.monotonic() > deadline:
            return {}
        time.sleep(0.02)
