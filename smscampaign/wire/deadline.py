"""The whole-call deadline: a watchdog thread that cuts the sockets of a call past its deadline.

A socket timeout bounds each read, but a server dripping one byte a second never trips it. So every
call of the gateway client runs inside :meth:`Watchdog.watching`; the HTTP(S) connections of
:class:`WatchedAdapter` report their sockets to the call in progress (a context variable), and the
watchdog shuts them down once the call's deadline passes — a blocked read returns at once.

>>> dog = Watchdog()
>>> with dog.watching(time.monotonic() + 60) as call:
...     call.fired
False
"""

from __future__ import annotations

import socket
import threading
import time
from contextvars import ContextVar, Token
from typing import Any, Final

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

__all__ = ["Call", "WatchedAdapter", "Watchdog"]


class Call:
    """One call's deadline and the sockets it uses; ``fired`` once the watchdog cut them off."""

    __slots__ = ("deadline", "fired", "sockets")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.fired = False
        self.sockets: list[socket.socket] = []


def _cut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)  # a blocked recv returns at once; the pool drops the connection
    except OSError:
        pass


class Watchdog:
    """Enforces total deadlines: a socket timeout bounds each read, but a server dripping one byte a
    second never trips it. One thread per Gateway, only while calls are in flight (it ends when idle),
    shuts down the sockets of a call past its deadline."""

    _IDLE_SECONDS: Final = 5.0

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._calls: set[Call] = set()
        self._thread: threading.Thread | None = None
        self._wake_at = 0.0  # when the thread wakes up next (it is told only about earlier deadlines)

    def watching(self, deadline: float) -> _Watching:
        """A context manager: a :class:`Call` ending at ``deadline`` (``time.monotonic()`` seconds),
        the call in progress for the connections below while the block runs."""
        return _Watching(self, deadline)

    def start(self, deadline: float) -> Call:
        call = Call(deadline)
        with self._cond:
            self._calls.add(call)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="smscampaign-deadline", daemon=True
                )
                self._thread.start()
            elif deadline < self._wake_at:
                self._cond.notify()
        return call

    def watch(self, call: Call, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._cond:
            if call.fired:
                _cut(sock)
            elif sock not in call.sockets:
                call.sockets.append(sock)

    def finish(self, call: Call) -> None:
        with self._cond:
            self._calls.discard(call)

    def _run(self) -> None:
        with self._cond:
            while True:
                if not self._calls:
                    self._wake_at = time.monotonic() + self._IDLE_SECONDS
                    self._cond.wait(self._IDLE_SECONDS)
                    if not self._calls:
                        self._thread = None
                        return
                    continue
                now = time.monotonic()
                for call in [c for c in self._calls if c.deadline <= now]:
                    call.fired = True
                    self._calls.discard(call)
                    for sock in call.sockets:
                        _cut(sock)
                if self._calls:
                    self._wake_at = min(c.deadline for c in self._calls)
                    self._cond.wait(self._wake_at - now)


#: The call in progress in this thread (or context): the connections below report their sockets to it.
_CURRENT: ContextVar[tuple[Watchdog, Call] | None] = ContextVar("smscampaign_call", default=None)


class _Watching:
    """What :meth:`Watchdog.watching` returns: starts the call, makes it current, finishes it."""

    __slots__ = ("_call", "_deadline", "_token", "_watchdog")

    def __init__(self, watchdog: Watchdog, deadline: float) -> None:
        self._watchdog = watchdog
        self._deadline = deadline

    def __enter__(self) -> Call:
        self._call = self._watchdog.start(self._deadline)
        self._token: Token[tuple[Watchdog, Call] | None] = _CURRENT.set((self._watchdog, self._call))
        return self._call

    def __exit__(self, *exc_info: object) -> None:
        _CURRENT.reset(self._token)
        self._watchdog.finish(self._call)


def _watch(sock: socket.socket | None) -> None:
    current = _CURRENT.get()
    if current is not None:
        current[0].watch(current[1], sock)


class _WatchedHTTPConnection(HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _watch(self.sock)

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        _watch(self.sock)  # a kept-alive connection is not connected again
        return super().getresponse(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        _watch(self.sock)

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        _watch(self.sock)
        return super().getresponse(*args, **kwargs)


class _WatchedPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class WatchedAdapter(HTTPAdapter):
    """An adapter whose connections report their sockets to the call's deadline watchdog."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedPool, "https": _WatchedHTTPSPool}
