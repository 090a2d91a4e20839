"""The runner lock: one sending run per journal, across processes.

An exclusive, non-blocking OS lock (``flock`` on ``<journal>.lock``; ``filelock`` where there is no
``fcntl``) held for a run's whole life and released by the kernel when the process dies. The lock file
holds a note of its holder (pid, host, start time), so a second runner's :class:`JournalBusy` can say
who is sending. :meth:`~smscampaign.memory.journal.Journal.runner` is the way to take it.

The holder removes the lock file when it releases, so no ``.lock`` is left beside the journal. The
lock is the lock on the file *at the path*: the holder unlinks it while still holding it, and a run
that locks a file which is no longer the one at the path (it opened it just before the unlink) lets
it go and tries again — two runs can never each hold "the" lock on two different files. A lock file
left by a killed run is taken over as before (the kernel released its lock) and removed on release.

>>> lock = RunnerLock("spring.sqlite")                  # doctest: +SKIP
>>> lock.acquire()                                      # JournalBusy if another run holds it
>>> lock.release()
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from datetime import datetime
from typing import Any, NoReturn

from smscampaign.core.errors import JournalBusy, JournalError
from smscampaign.wire.protocol import BEIJING

try:  # POSIX; elsewhere the runner lock comes from filelock
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["RunnerLock"]


class RunnerLock:
    """An exclusive, non-blocking OS lock on ``<journal>.lock`` holding a note of its holder."""

    def __init__(self, journal: str) -> None:
        self.journal = journal
        self.path = f"{journal}.lock"
        self._fd: int | None = None
        self._fallback: Any = None

    def acquire(self) -> None:
        """Take the lock (:class:`JournalBusy` when another run holds it)."""
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": datetime.now(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
        }
        if fcntl is None:  # pragma: no cover - Windows
            import filelock  # noqa: PLC0415

            lock = filelock.FileLock(self.path, timeout=0)
            try:
                lock.acquire()
            except filelock.Timeout:
                raise JournalBusy(
                    f"{self.journal} is in use by another run; wait for it to finish",
                    holder={},
                ) from None
            self._fallback = lock
            return
        fd = self._lock_current()
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode(), 0)
        self._fd = fd

    def _lock_current(self) -> int:
        """A descriptor of the file at :attr:`path`, locked; retried while the file we locked was
        unlinked by a run releasing it (it is no longer the lock)."""
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise JournalError(
                    f"{self.journal}: cannot lock the journal for sending ({exc.strerror}); "
                    "is its folder read-only?"
                ) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                self._busy(fd)
            if self._is_current(fd):
                return fd
            os.close(fd)  # a released lock's unlinked file: lock the one at the path now

    def _is_current(self, fd: int) -> bool:
        try:
            here = os.stat(self.path)
        except FileNotFoundError:
            return False
        mine = os.fstat(fd)
        return (here.st_dev, here.st_ino) == (mine.st_dev, mine.st_ino)

    def _busy(self, fd: int) -> NoReturn:
        """Raise :class:`JournalBusy` naming the holder (``fd`` is closed)."""
        found = self._holder(fd)
        os.close(fd)
        who = (
            f"pid {found.get('pid', '?')} on {found.get('host', '?')}, "
            f"started {found.get('started', '?')} (Beijing time)"
            if found
            else "another process"
        )
        raise JournalBusy(
            f"{self.journal} is in use by another run ({who}); nothing was sent. Wait for it to "
            "finish, or stop it; a second run of the same campaign would only race it",
            holder=found,
        ) from None

    @staticmethod
    def _holder(fd: int) -> dict[str, Any]:
        # The holder writes its note right after locking: give it a moment to appear.
        deadline = time.monotonic() + 2.0
        while True:
            raw = os.pread(fd, 4096, 0)
            try:
                found = json.loads(raw.decode()) if raw else None
            except ValueError:
                found = None
            if isinstance(found, dict) or time.monotonic() > deadline:
                return found or {}
            time.sleep(0.02)

    def release(self) -> None:
        if self._fallback is not None:  # pragma: no cover - Windows
            self._fallback.release()
            self._fallback = None
        if self._fd is not None:
            # Unlink while still holding the lock: whoever opened this file meanwhile finds it is
            # no longer the one at the path once they lock it, and tries again (see the module).
            with contextlib.suppress(OSError):
                if self._is_current(self._fd):
                    os.unlink(self.path)
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None
