"""Reservations: the campaign home decides, before each request, who this run may text (issue 26).

Before a batch's request the run reserves (registry key, number, content) for the batch's numbers in
the home, in one durable transaction (:meth:`~smscampaign.memory.home.Store.reserve`). A number that
another journal holds — reserved, accepted or unknown within the repeat window — is left out of the
batch before anything is sent: journaled as excluded, ``already_sent`` in the results with a reason
naming that campaign, exactly as the repeat check at the start of a run leaves people out
(:func:`~smscampaign.campaign.registry.already_sent`). Two runs that start at the same moment, two
journals of one plan, a deleted journal: the home gives each number to one of them.

A reservation costs a round trip and an fsync per batch, so :class:`Reserver` reserves a few batches
ahead of the workers on its own thread, in the order they are sent: the next batch's reservation is
being made while this one is in flight. A worker never requests a batch before its reservation is
committed (:meth:`Reserver.receivers` waits for it); when the home cannot be written (a full disk, a
lost server) it raises :class:`~smscampaign.HomeError` and the run stops before its next request.

The registry's writer settles a reservation ``accepted`` / ``unknown`` after the answer;
:meth:`~smscampaign.campaign.registry.Registry.settle_reservations` releases, at the start and the end
of each run, what the journal says was never requested or provably not sent.

>>> reserver = Reserver(registry, journal, order=[1, 2], receivers=everyone,   # doctest: +SKIP
...                     window=timedelta(hours=24), allow_repeat=False, stop=threading.Event())
>>> reserver.receivers(1)                                                   # doctest: +SKIP
['13800138000', '13800138001']
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Final

import pandas as pd

from smscampaign.campaign.registry import Registry, repeat_reason
from smscampaign.memory.journal import Journal

__all__ = ["AHEAD", "Reserver"]

logger = logging.getLogger(__name__)

#: Batches reserved ahead of the workers (beyond those they are sending), in chunks of about half.
AHEAD: Final = 32


class Reserver:
    """Reserves the batches of ``order`` for this run, ahead of the workers, on its own thread.

    ``receivers`` holds who is in each batch (those left out at the start of the run already
    removed). With ``allow_repeat`` the numbers another journal holds are sent all the same (the
    others are still reserved, so that runs without it leave them out). Stops when ``stop`` is set
    or at :meth:`close`."""

    def __init__(
        self,
        registry: Registry,
        journal: Journal,
        *,
        order: list[int],
        receivers: dict[int, list[str]],
        window: timedelta,
        allow_repeat: bool,
        stop: threading.Event,
        ahead: int = AHEAD,
    ) -> None:
        self.registry = registry
        self.journal = journal
        self.window = window
        self.allow_repeat = allow_repeat
        self.stop = stop
        self.ahead = ahead
        self.everyone = receivers
        self.left_out: dict[int, int] = {}  # per batch: numbers another journal held, left out
        # A reservation this old (a worker waited for the send window) is made again before use.
        self.stale = max(window.total_seconds() / 2, 1.0)
        # A store reserving several batches in one transaction (the SQLite home: one fsync) is given
        # chunks; one reserving batch by batch (the team home: a statement each) is given them one
        # at a time, so that the first request does not wait for a whole chunk.
        self._together = getattr(registry.store, "reserve_many", None) is not None
        self._order = list(order)
        self._index = {number: i for i, number in enumerate(self._order)}
        self._ready: dict[int, tuple[list[str], float]] = {}
        self._next = 0  # position in _order of the next batch to reserve
        self._taken: set[int] = set()
        self._waiting = 0
        self._error: BaseException | None = None
        self._closed = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="smscampaign-reserve", daemon=True)
        self._thread.start()

    def receivers(self, number: int) -> list[str] | None:
        """Who of batch ``number`` this run may text, once their reservation is committed in the
        home (waits for it); ``None`` if the run stopped meanwhile. Raises the home's error
        (:class:`~smscampaign.HomeError`): nothing is requested without a reservation."""
        if number not in self._index:  # not planned for this run: reserved here and now
            found = self._reserve(number)
            with self._cond:
                self._ready[number] = (found, time.monotonic())
            return found
        with self._cond:
            self._taken.add(number)
            self._waiting += 1
            if number not in self._ready:  # else the reserver is told once the request is out
                self._cond.notify_all()
            try:
                while number not in self._ready and self._error is None and not self._stopped():
                    self._cond.wait(0.1)
            finally:
                self._waiting -= 1
            if number not in self._ready:
                if self._error is not None:
                    raise self._error
                return None
            found, at = self._ready[number]
        if time.monotonic() - at > self.stale:
            found = self._reserve(number)
            with self._cond:
                self._ready[number] = (found, time.monotonic())
        return found

    def requesting(self) -> None:
        """A worker's request is about to go out: reserve the next batches while it is in flight,
        not while the worker commits its claim (the home's work would compete with that fsync)."""
        with self._cond:
            self._cond.notify_all()

    def close(self) -> None:
        """Stop reserving ahead (what was reserved and not sent is released by the registry)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join()

    def _stopped(self) -> bool:
        return self._closed or self.stop.is_set()

    def _run(self) -> None:
        while True:
            with self._cond:
                # Wait for room for a chunk (half the batches ahead), or for a worker waiting.
                while not self._stopped() and self._next < len(self._order) and not self._waiting:
                    if self._next + max(1, self.ahead // 2) <= len(self._taken) + self.ahead:
                        break
                    self._cond.wait(0.1)
                if self._stopped() or self._next >= len(self._order):
                    return
                room = max(1, len(self._taken) + self.ahead - self._next)
                if not self._together:  # each batch its own round trip: ready once committed
                    room = 1
                chunk = self._order[self._next : self._next + room]
            try:
                found = self._reserve_chunk(chunk)
            except BaseException as exc:  # noqa: BLE001 - raised to the workers that wait for it
                # Said once, by the run that stops on it; here only in the debug log.
                logger.debug("batches %s: not reserved in the campaign home: %s", chunk, exc)
                with self._cond:
                    self._error = exc
                    self._cond.notify_all()
                return
            now = time.monotonic()
            with self._cond:
                for number in chunk:
                    self._ready[number] = (found[number], now)
                self._next += len(chunk)
                self._cond.notify_all()

    def _reserve(self, number: int) -> list[str]:
        """Reserve batch ``number`` (committed when this returns); who of it this run may text."""
        return self._reserve_chunk([number])[number]

    def _reserve_chunk(self, numbers: list[int]) -> dict[int, list[str]]:
        """Reserve ``numbers`` together (one transaction where the store can: one fsync); who of
        each batch this run may text."""
        wanted = [(number, self.everyone[number]) for number in numbers if self.everyone[number]]
        found: dict[int, list[str]] = {number: [] for number in numbers}
        since = datetime.now(UTC) - self.window
        for (number, receivers), held in zip(
            wanted, self.registry.reserve_many(wanted, since=since), strict=True
        ):
            found[number] = receivers if held.empty else self._leave_out(number, receivers, held)
        return found

    def _leave_out(self, number: int, receivers: list[str], held: pd.DataFrame) -> list[str]:
        """Journal the numbers of batch ``number`` that another journal ``held`` as left out (unless
        ``allow_repeat``); who is left in the batch."""
        if self.allow_repeat:
            return receivers
        gateway = self.registry.gateway
        self.journal.exclude(
            [(row["mobile"], number, repeat_reason(row, gateway)) for _, row in held.iterrows()]
        )
        taken = set(held["mobile"])
        self.left_out[number] = len(taken)
        logger.info("batch %d: %d number(s) held by another journal, left out", number, len(taken))
        return [m for m in receivers if m not in taken]
