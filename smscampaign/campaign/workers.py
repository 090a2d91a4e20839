"""The sending threads of one run: claim a batch, send it, record what became of it, retry.

:class:`Workers` holds what the threads share: the batches to do, the journal (each batch is claimed
``in_flight`` — compare-and-set, fsynced — before its request leaves, and its outcome committed right
after), the send window, the :class:`Pacer` (``rate_limit``), retries with backoff and jitter, and —
with ``reconcile="balance"`` — the gate that pauses dispatch while unknowns wait for the balance to
settle them. An ``account`` code stops everyone; a bug in a thread stops everyone and is re-raised by
the caller (:attr:`Workers.errors`). Before its claim, a batch waits for its reservation in the
campaign home (:class:`~smscampaign.campaign.reservations.Reserver`): numbers another run holds are
left out of the request, and a home that cannot be written stops everyone the same way. Outcomes
come out of :attr:`Workers.done` for the progress bar.

>>> workers = Workers(plan, gateway, journal, [1, 2], attempts=…, states=…,  # doctest: +SKIP
...                   receivers={}, options=options, registry=None, balance=None,
...                   stop=threading.Event())
>>> threading.Thread(target=workers.worker).start()                      # doctest: +SKIP
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from datetime import time as dtime
from typing import Any, Final

from smscampaign.campaign.attempt import send_once, stops_campaign
from smscampaign.campaign.balance import Balance, settleable
from smscampaign.campaign.options import SendOptions, system_clock
from smscampaign.campaign.registry import Registry
from smscampaign.campaign.reservations import Reserver
from smscampaign.core.errors import SendError
from smscampaign.memory.journal import ACCEPTED, FAILED, IN_FLIGHT, UNKNOWN, Journal, Outcome
from smscampaign.wire.gateway import Gateway
from smscampaign.wire.protocol import BEIJING, in_window

__all__ = ["Pacer", "Workers"]

logger = logging.getLogger(__name__)

_BACKOFF_CAP: Final = 30.0  # seconds: the longest wait before a retry
#: Unknown outcomes of one kind in a row (an unreadable answer, a timeout …) that stop the run: a
#: gateway that answers every batch with garbage must not get the whole list. Under 20 % random
#: faults five of one kind in a row happen about once in 100,000 requests.
AMBIGUOUS_IN_A_ROW: Final = 5
_WINDOW_STEP: Final = 1.0  # seconds: outside the send window, how often the clock is read again


def _seconds_until(now: datetime, target: dtime) -> float:
    local = now.astimezone(BEIJING)
    opening = local.replace(hour=target.hour, minute=target.minute, second=target.second, microsecond=0)
    seconds = (opening - local).total_seconds()
    return seconds if seconds > 0 else seconds + 86400.0


class Pacer:
    """A token bucket of capacity one shared by all workers: at most ``rate`` requests per second."""

    def __init__(self, rate: float | None) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self._next = time.monotonic()
        self._lock = threading.Lock()

    def acquire(self, stop: threading.Event) -> bool:
        """Wait for a token; ``False`` if ``stop`` was set meanwhile."""
        if not self.interval:
            return not stop.is_set()
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self.interval
        delay = slot - now
        return not stop.wait(delay) if delay > 0 else not stop.is_set()


class Workers:
    """The sending threads of one run and the state they share (:meth:`worker` is each thread's
    body; the caller starts them and waits for :attr:`finished`)."""

    def __init__(
        self,
        plan: Any,
        gateway: Gateway,
        journal: Journal,
        todo: list[int],
        *,
        attempts: dict[int, int],
        states: dict[int, str],
        receivers: dict[int, list[str]],
        options: SendOptions,
        registry: Registry | None,
        balance: Balance | None,
        stop: threading.Event,
        wait: Callable[[float], object] | None = None,
        reserver: Reserver | None = None,
    ) -> None:
        self.gateway = gateway
        self.journal = journal
        self.max_retries = options.pacing.max_retries
        self.retry_backoff = options.pacing.retry_backoff
        self.window = options.window
        self.clock = options.clock or system_clock
        self.pacer = Pacer(options.pacing.rate_limit)
        self.registry = registry
        self.reserver = reserver
        self.balance = balance
        self.stop = stop
        self.wait = wait or stop.wait  # the injected ``sleep``, else a wait the stop ends early
        self.abort: Outcome | None = None
        self.halt: SendError | None = None  # too many unknowns in a row: raised by the caller
        self._streak: list[Outcome] = []  # the latest unknowns of one kind, in a row
        self.todo: queue.SimpleQueue[int] = queue.SimpleQueue()
        for number in todo:
            self.todo.put(number)
        self.done: queue.SimpleQueue[Outcome] = queue.SimpleQueue()
        self.errors: list[BaseException] = []
        self.warnings: list[str] = []
        # Completion is an Event, not Thread.is_alive(): a KeyboardInterrupt inside Thread.join()
        # can leave a running thread reported as finished.
        self.active = 0
        self.finished = threading.Event()
        self._lock = threading.Lock()
        self._rng = random.Random()
        # Compare-and-set claims: the state and attempt count this run last saw per batch.
        self.attempts = dict(attempts)
        self.states = dict(states)
        self.retries: dict[int, int] = {}
        batches = plan.batches
        self.batch: dict[int, tuple[str, list[str], str | None]] = {
            int(b): (c, receivers.get(int(b), list(r)), s)
            for b, c, r, s in zip(
                batches["batch"],
                batches["content"],
                batches["receivers"],
                batches["sendtime"],
                strict=True,
            )
        }
        self._waiting_logged = False
        # reconcile="balance": dispatch pauses while unknowns wait for a balance reading.
        self.gate = threading.Condition(self._lock)
        self.in_flight = 0
        self.pending: dict[int, int] = {}
        self.settling = False
        # A batch's final outcome is committed in one transaction with its worker's next claim
        # (one commit instead of two; see Journal.claim), unless a wait could come between them.
        # A settlement waits for the outcomes carried so (``carried``): it counts committed ones.
        self.carrying = self.pacer.interval == 0
        self.carried = 0

    def worker(self) -> None:
        try:
            self._work()
        finally:
            with self._lock:
                self.active -= 1
                if self.active == 0:
                    self.finished.set()
                self.gate.notify_all()

    def _work(self) -> None:
        carry: list[Outcome] = []  # this worker's outcome awaiting its next claim
        try:
            while not self.stop.is_set():
                if not self._through_gate(carry):
                    return
                try:
                    number = self.todo.get_nowait()
                except queue.Empty:
                    if self._settle_if_due():
                        continue  # a settlement may have put batches back
                    return
                self.send(number, carry)
        except BaseException as exc:  # a bug: stop everyone, re-raised by the main thread
            self.errors.append(exc)
            self.stop.set()
            with self._lock:
                self.gate.notify_all()
        finally:
            try:
                self._flush(carry)  # no claim follows: committed on its own
            except BaseException as exc:
                self.errors.append(exc)
                self.stop.set()

    # -- reconciliation ---------------------------------------------------------------------------

    def _through_gate(self, carry: list[Outcome]) -> bool:
        """Wait while unknowns await the balance (committing the outcome in ``carry`` first); settle
        them when nothing is in flight."""
        while True:
            self._settle_if_due()
            with self._lock:
                if not self.pending or self.stop.is_set():
                    return not self.stop.is_set()
                if not carry:
                    self.gate.wait(0.05)
            self._flush(carry)

    def _settle_if_due(self) -> bool:
        """If unknowns are pending and nothing is in flight, settle them (one thread does)."""
        with self._lock:
            busy = self.in_flight or self.carried or self.settling
            if not self.pending or busy or self.balance is None:
                return False
            self.settling = True
            pending = dict(self.pending)
        try:
            self._settle(pending)
        finally:
            with self._lock:
                for number in pending:
                    self.pending.pop(number, None)
                self.settling = False
                self.gate.notify_all()
        return True

    def _settle(self, pending: dict[int, int]) -> None:
        assert self.balance is not None
        accepted, not_sent, warning = self.balance.settle_pending(pending)
        for number in accepted:
            outcome = Outcome(number, ACCEPTED, reason="settled by balance")
            self._record(outcome)
            self.done.put(outcome)
        for number in not_sent:
            retries = self.retries.get(number, 0)
            outcome = Outcome(
                number,
                FAILED,
                error_kind="settled_by_balance",
                reason="not sent (settled by balance: nothing was charged for it)",
                retryable=True,
            )
            self._record(outcome)
            if retries < self.max_retries and not self.stop.is_set():
                self.retries[number] = retries + 1
                self.todo.put(number)
            else:
                self.done.put(outcome)
        if warning is not None:
            still = [b for b in pending if b not in accepted and b not in not_sent]
            self.journal.clear_settlement(still, note=f"the balance could not settle it ({warning})")
            for number in still:
                self.done.put(Outcome(number, UNKNOWN))
            if not self.balance.on:
                message = f"reconcile='balance' switched off for the rest of this run: {warning}"
            else:
                message = f"the balance could not settle batches {still}: {warning}"
            logger.warning(message)
            self.warnings.append(message)

    # -- sending ----------------------------------------------------------------------------------

    def wait_for_window(self, carry: list[Outcome]) -> bool:
        """Sleep (in small, interruptible steps) until the send window is open; ``False`` if stopped.
        An outcome in ``carry`` is committed before any wait."""
        if self.window is None:
            return not self.stop.is_set()
        while not self.stop.is_set():
            now = self.clock()
            if in_window(now, self.window):
                return True
            with self._lock:
                if not self._waiting_logged:
                    logger.info(
                        "outside the send window %s–%s (Beijing time): waiting",
                        self.window[0].strftime("%H:%M"),
                        self.window[1].strftime("%H:%M"),
                    )
                    self._waiting_logged = True
            self._flush(carry)
            self.wait(min(_WINDOW_STEP, _seconds_until(now, self.window[0])))
        return False

    def _claim(self, number: int, receivers: list[str], carry: list[Outcome]) -> bool:
        """Claim ``number``, committing the outcome in ``carry`` (emptied) in the same transaction."""
        with self._lock:
            closed = bool(self.pending and self.balance is not None)
            if not closed:
                self.in_flight += 1
        if closed:
            self._flush(carry)
            return False  # the gate closed meanwhile: put it back
        if self.registry is not None and self.registry.errors:
            with self._lock:
                self.in_flight -= 1
            raise self.registry.errors[0]  # the home cannot be written: nothing more goes out
        carried = carry.pop() if carry else None
        state, attempts = self.states[number], self.attempts[number]
        try:
            won = self.journal.claim(
                number,
                states=[state],
                attempts=attempts,
                receivers=len(receivers),
                outcome=carried,
            )
        except BaseException:
            if carried is not None:
                carry.append(carried)  # not committed: _work tries it on its own
            raise
        if carried is not None:
            self._recorded(carried)
            self._uncarry()
            self.done.put(carried)
        if not won:
            with self._lock:
                self.in_flight -= 1
                self.gate.notify_all()
            logger.warning("batch %d: claimed by another run meanwhile; not sent by this one", number)
            self.states[number] = IN_FLIGHT  # never ours again in this run
            return False
        self.attempts[number] = attempts + 1
        self.states[number] = IN_FLIGHT
        if self.registry is not None:
            self.registry.sending(number, receivers)
        return True

    def _record(self, outcome: Outcome) -> None:
        self.journal.record_outcome(outcome)
        self._recorded(outcome)

    def _recorded(self, outcome: Outcome) -> None:
        self.states[outcome.batch] = outcome.state
        if self.registry is not None:
            self.registry.settled(outcome.batch, outcome.state)

    def _flush(self, carry: list[Outcome]) -> None:
        """Commit the outcome in ``carry`` (emptied) on its own."""
        while carry:
            outcome = carry.pop()
            try:
                self._record(outcome)
            finally:
                self._uncarry()
            self.done.put(outcome)

    def _uncarry(self) -> None:
        """One carried outcome less (committed): a settlement may be due."""
        with self._lock:
            self.carried -= 1
            self.gate.notify_all()

    def send(self, number: int, carry: list[Outcome]) -> None:
        """Send batch ``number`` (with its retries). ``carry`` holds the outcome of this worker's
        previous batch, committed with this batch's claim; this batch's final outcome is left there
        when nothing can come between it and the next claim (else it is committed at once)."""
        content, receivers, sendtime = self.batch[number]
        retries = self.retries.get(number, 0)
        while True:
            if not self.wait_for_window(carry) or not self.pacer.acquire(self.stop):
                return  # stopped before sending: the batch keeps its journal state
            if self.reserver is not None:
                reserved = self.reserver.receivers(number)  # committed in the home (or raises)
                if reserved is None:
                    return  # stopped while waiting for it: the batch keeps its journal state
                if reserved != receivers:  # others hold some: left out (journaled as excluded)
                    receivers = reserved
                    self.batch[number] = (content, receivers, sendtime)
                if not receivers:
                    return  # everyone is another journal's: nothing to send (already_sent)
            if not self._claim(number, receivers, carry):
                if self.states[number] != IN_FLIGHT:
                    self.todo.put(number)  # the gate closed: sent after the settlement
                return
            if self.reserver is not None:
                self.reserver.requesting()
            try:
                outcome = send_once(self.gateway, number, receivers, content, sendtime)
            except BaseException:
                self.journal.record(
                    number,
                    UNKNOWN,
                    error="interrupted",
                    error_kind="interrupted",
                    reason="interrupted while in flight: the request may have reached the gateway",
                )
                if self.registry is not None:
                    self.registry.settled(number, UNKNOWN)
                raise
            self._count_ambiguous(outcome)
            stops = stops_campaign(outcome)
            pending = (
                settleable(outcome)
                and self.balance is not None
                and self.balance.on
                and not self.stop.is_set()
            )
            if self.carrying and not (stops or outcome.retryable or pending or self.stop.is_set()):
                with self._lock:
                    self.in_flight -= 1
                    self.carried += 1
                    self.gate.notify_all()
                logger.debug("batch %d: %s %s", number, outcome.state, outcome.code)
                carry.append(outcome)  # committed with the next claim, or by _work
                return
            self._record(replace(outcome, settle="pending") if pending else outcome)
            with self._lock:
                self.in_flight -= 1
                if pending:
                    self.pending[number] = len(receivers)
                self.gate.notify_all()
            logger.debug("batch %d: %s %s", number, outcome.state, outcome.code)
            if pending:
                return  # the settlement decides: accepted, retried or unknown
            if stops:
                with self._lock:
                    if self.abort is None:
                        self.abort = outcome
                        logger.error("batch %d: %s", number, outcome.reason)
                self.stop.set()
            if outcome.retryable and retries < self.max_retries and not self.stop.is_set():
                delay = min(_BACKOFF_CAP, self.retry_backoff * 2**retries)
                with self._lock:
                    delay *= 0.5 + self._rng.random() / 2  # jitter: workers do not retry in step
                retries += 1
                self.retries[number] = retries
                logger.info(
                    "batch %d: %s; retry %d of %d in %.2f s",
                    number,
                    outcome.reason,
                    retries,
                    self.max_retries,
                    delay,
                )
                if self.stop.wait(delay):
                    self.done.put(outcome)
                    return
                continue
            self.done.put(outcome)
            return

    def _count_ambiguous(self, outcome: Outcome) -> None:
        """Stop the run at :data:`AMBIGUOUS_IN_A_ROW` unknown outcomes of one kind in a row."""
        with self._lock:
            if outcome.state != UNKNOWN:
                self._streak.clear()
                return
            kind = outcome.error_kind or f"code {outcome.code}"
            if self._streak and (self._streak[-1].error_kind or f"code {self._streak[-1].code}") != kind:
                self._streak.clear()
            self._streak.append(outcome)
            if len(self._streak) < AMBIGUOUS_IN_A_ROW or self.halt is not None:
                return
            batches = [o.batch for o in self._streak]
            self.halt = SendError(
                f"stopped: {len(batches)} requests in a row came back unknown ({outcome.reason}; "
                f"{outcome.error or kind}), so the rest of the list was not sent into it. Batches "
                f"{batches} may have gone out (unknown, never resent); the others are not sent: "
                "check the gateway (its URL: --base-url / SMSCAMPAIGN_BASE_URL, the network, the "
                "provider), then run the same command again to send them"
            )
        logger.info("%s", self.halt)  # raised by the caller once the requests in flight are back
        self.stop.set()

    def remaining(self) -> list[int]:
        left = []
        while True:
            try:
                left.append(self.todo.get_nowait())
            except queue.Empty:
                return left
