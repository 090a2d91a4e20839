"""The send engine: send a :class:`~smscampaign.Plan` through a gateway, never twice.

This gateway has no idempotency key and no delivery reports: a request that timed out may or may not
have gone out. :func:`send_campaign` therefore journals every batch
(see :mod:`~smscampaign.memory.journal`), retries only what provably was not sent, and reports
honestly, per recipient, what it knows.

>>> import pandas as pd, smscampaign as sc
>>> with sc.Sandbox() as box:                                           # doctest: +SKIP
...     box.add_account("demo", "secret", sms_left=100)
...     plan = sc.plan_campaign(pd.DataFrame({"mobile": ["13800138000"]}), "您好", signature="小店")
...     with box.gateway("demo", "secret") as gw:
...         results = sc.send_campaign(plan, gw, journal="spring.sqlite", progress=False)
>>> results["status"].tolist()                                          # doctest: +SKIP
['accepted']
"""

from __future__ import annotations

import logging
import os
import queue
import random
import threading
import time
import uuid
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from smscampaign.core.codes import ACCOUNT, AMBIGUOUS, RETRYABLE, SUCCESS, describe_code
from smscampaign.core.columns import LEAD_COLUMNS, arrange
from smscampaign.core.dtypes import TEXT
from smscampaign.core.errors import (
    AccountError,
    ConfigError,
    GatewayDisconnected,
    GatewayError,
    GatewayHTTPError,
    GatewayProtocolError,
    GatewayTimeout,
    InsufficientBalance,
    JournalError,
    SmsCampaignError,
)
from smscampaign.core.statuses import ResultStatus
from smscampaign.memory.background import in_background
from smscampaign.memory.home import Store, content_sha256, open_home
from smscampaign.memory.journal import (
    ACCEPTED,
    FAILED,
    IN_FLIGHT,
    PLANNED,
    UNKNOWN,
    Journal,
    Outcome,
)
from smscampaign.wire.gateway import Gateway
from smscampaign.wire.protocol import BEIJING, in_window, parse_window

if TYPE_CHECKING:  # pragma: no cover - typing only
    from smscampaign.campaign.plan import Plan

__all__ = ["RESULT_COLUMNS", "RESULT_STATUSES", "read_journal", "send_campaign"]

logger = logging.getLogger(__name__)

#: The results frame's own columns, in order: what a person reads first (name-like columns of the
#: plan go right after ``source_row``), then the technical ones; the plan's other columns follow.
#: The order is :func:`smscampaign.core.columns.arrange`'s.
RESULT_COLUMNS: Final = (
    *LEAD_COLUMNS,
    "code",
    "category",
    "batch",
    "attempts",
    "gateway_result",
    "sent_at",
)
#: Statuses of ready rows after sending (rows that were never ready keep their plan status).
RESULT_STATUSES: Final[tuple[str, ...]] = tuple(ResultStatus)
_STATUS_OF_STATE: Final[dict[str, str]] = {
    ACCEPTED: ResultStatus.ACCEPTED,
    FAILED: ResultStatus.FAILED,
    UNKNOWN: ResultStatus.UNKNOWN,
    IN_FLIGHT: ResultStatus.UNKNOWN,
    PLANNED: ResultStatus.NOT_SENT,
}
_BACKOFF_CAP: Final = 30.0
_WINDOW_STEP: Final = 1.0
_NOT_SENT_ZH: Final = "网络错误，未发送"
_UNKNOWN_ZH: Final = "网络错误，结果未知"
_INTERRUPTED_ZH: Final = "发送中断，结果未知"

Clock = Callable[[], datetime]


# -- options ---------------------------------------------------------------------------------------


def _seconds_until(now: datetime, target: dtime) -> float:
    local = now.astimezone(BEIJING)
    opening = local.replace(hour=target.hour, minute=target.minute, second=target.second, microsecond=0)
    seconds = (opening - local).total_seconds()
    return seconds if seconds > 0 else seconds + 86400.0


def _default_clock() -> datetime:
    return datetime.now(BEIJING)


class _Pacer:
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


# -- one batch -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Outcome:
    state: str
    code: int | None = None
    gateway_result: str | None = None
    error: str | None = None
    reason: str | None = None
    retryable: bool = False
    abort: bool = False
    error_kind: str | None = None

    @property
    def settleable(self) -> bool:
        """An unknown with no answer code: the balance can tell whether it was accepted (a −109
        answer says it went out without a deduction, so it cannot be settled that way)."""
        return self.state == UNKNOWN and self.code is None


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _ask(gateway: Gateway, receivers: list[str], content: str, sendtime: str | None) -> _Outcome:
    """Send one batch once and classify what happened."""
    try:
        response = gateway.send_sms(receivers, content, sendtime)
    except GatewayError as exc:
        kind = type(exc).__name__
        if not exc.request_sent:
            return _Outcome(
                FAILED,
                error=_error_text(exc),
                retryable=True,
                reason=f"not sent: {exc}",
                error_kind=kind,
            )
        return _Outcome(
            UNKNOWN,
            error=_error_text(exc),
            reason=f"{_transport_kind(exc)}: the request may have reached the gateway",
            error_kind=kind,
        )
    except SmsCampaignError as exc:  # refused locally (e.g. unencodable content): nothing left
        return _Outcome(
            FAILED, error=_error_text(exc), reason=f"not sent: {exc}", error_kind=type(exc).__name__
        )
    info = response.info
    message = response.message or None
    if info.category == SUCCESS:
        return _Outcome(ACCEPTED, code=response.code, gateway_result=message)
    reason = f"{info.en} ({info.code})"
    if info.category == RETRYABLE:
        return _Outcome(
            FAILED, code=response.code, gateway_result=message, reason=reason, retryable=True
        )
    if info.category == AMBIGUOUS:
        return _Outcome(
            UNKNOWN,
            code=response.code,
            gateway_result=message,
            reason=f"{reason}: messages may have gone out",
        )
    if info.category == ACCOUNT:
        return _Outcome(
            PLANNED,
            code=response.code,
            gateway_result=message,
            reason=f"campaign stopped: {reason}",
            abort=True,
        )
    return _Outcome(FAILED, code=response.code, gateway_result=message, reason=reason)


def _journal_outcome(number: int, outcome: _Outcome, *, settle: str | None = None) -> Outcome:
    return Outcome(
        number,
        outcome.state,
        code=outcome.code,
        gateway_result=outcome.gateway_result,
        error=outcome.error,
        reason=outcome.reason,
        retryable=outcome.retryable,
        error_kind=outcome.error_kind,
        settle=settle,
    )


def _transport_kind(exc: GatewayError) -> str:
    if isinstance(exc, GatewayTimeout):
        return "read timeout"
    if isinstance(exc, GatewayDisconnected):
        return "connection lost after sending"
    if isinstance(exc, GatewayHTTPError):
        return f"HTTP error {exc.status}"
    if isinstance(exc, GatewayProtocolError):
        return "unreadable answer"
    return "transport failure"


# -- the balance -----------------------------------------------------------------------------------


def _sms_left(gateway: Gateway, *, retries: int = 6, sleep: Callable[[float], object]) -> int | None:
    """``sms_left`` from ``user_info``: a read, so transport failures and retryable codes are retried.
    ``None`` when the gateway gives no number. :class:`AccountError` on a negative answer."""
    for attempt in range(retries + 1):
        try:
            info = gateway.user_info()
        except GatewayError:
            if attempt == retries:
                raise
            sleep(min(2.0, 0.05 * 2**attempt))
            continue
        if not info.ok:
            if info.info.category == RETRYABLE and attempt < retries:
                sleep(min(2.0, 0.05 * 2**attempt))
                continue
            raise AccountError(f"user_info answered {info.info}", code=info.code, info=info.info)
        left = info.fields.get("sms_left")
        return left if isinstance(left, int) else None
    return None  # pragma: no cover - the loop returns or raises


def _settled_reading(gateway: Gateway, settle: float, sleep: Callable[[float], object]) -> int | None:
    """Two ``sms_left`` readings ``settle`` seconds apart that agree (up to four tries), or
    ``None`` if they never do (something else is moving the balance)."""
    first = _sms_left(gateway, sleep=sleep)
    for _ in range(4):
        sleep(settle)
        second = _sms_left(gateway, sleep=sleep)
        if first is not None and second == first:
            return first
        first = second
    return None


def _subsets(sizes: dict[int, int], target: int, limit: int = 2) -> list[list[int]]:
    """Up to ``limit`` subsets of ``sizes`` (batch → messages) whose messages add up to ``target``."""
    found: list[list[int]] = []
    items = sorted(sizes.items())

    def walk(i: int, left: int, chosen: list[int]) -> None:
        if len(found) >= limit or left < 0:
            return
        if i == len(items):
            if left == 0:
                found.append(list(chosen))
            return
        batch, size = items[i]
        walk(i + 1, left - size, [*chosen, batch])
        walk(i + 1, left, chosen)

    if len(items) <= 20:  # 2**20 paths at most; beyond that the balance cannot tell anyway
        walk(0, target, [])
    return found


class _Balance:
    """``reconcile="balance"``: settle unknowns by what the account was charged.

    The gateway deducts one message per receiver when it accepts a request. After a reading
    (``sms_left`` = L, journal's accepted messages = T), the account should show L − (T' − T); what
    is missing beyond that was charged for the pending unknowns: exactly one subset of them adding up
    to it → those were accepted and the rest were not sent; nothing missing → none was sent;
    anything else → someone else is using the account: they stay unknown and reconciliation stops.
    """

    def __init__(
        self, gateway: Gateway, journal: Journal, settle: float, sleep: Callable[[float], object]
    ) -> None:
        self.gateway = gateway
        self.journal = journal
        self.settle = settle
        self.sleep = sleep
        self.on = True
        self.baseline: tuple[int, int] | None = None  # (sms_left, accepted_total) at the last reading
        found = journal.reconciliations().dropna(subset=["sms_left"])
        if len(found):
            last = found.iloc[-1]
            self.baseline = (int(last["sms_left"]), int(last["accepted_total"]))

    def settle_pending(self, pending: dict[int, int]) -> tuple[list[int], list[int], str | None]:
        """(accepted batches, not-sent batches, warning) for ``pending`` (batch → messages sent)."""
        try:
            reading = _settled_reading(self.gateway, self.settle, self.sleep)
        except (GatewayError, AccountError) as exc:
            logger.warning("balance: user_info failed (%s)", exc)
            reading = None
        total = self.journal.accepted_total()
        batches = sorted(pending)
        if self.baseline is None or reading is None:
            why = (
                "the balance could not be read, or did not hold still between two readings"
                if reading is None
                else "no earlier balance reading to compare with"
            )
            self._journal(reading, None, None, batches, "ambiguous", why, total)
            # What these batches were charged is unknown: only a new reading can be a baseline.
            self.baseline = (reading, total) if reading is not None else None
            return [], [], why
        left, counted = self.baseline
        expected = left - (total - counted)
        deducted = expected - reading
        subsets = _subsets(pending, deducted)
        if len(subsets) == 1:
            accepted = subsets[0]
            rest = [b for b in batches if b not in accepted]
            verdict = "accepted" if not rest else "not_sent" if not accepted else "split"
            # The reading includes the charges of the batches it found accepted: so does its total.
            after = total + sum(pending[b] for b in accepted)
            self._journal(reading, expected, deducted, batches, verdict, None, after)
            self.baseline = (reading, after)
            return accepted, rest, None
        # Whatever the verdict, this reading includes every charge so far: the next baseline.
        self.baseline = (reading, total)
        if subsets:  # more than one way to explain it: honest accounting, but no verdict
            why = f"{deducted} messages charged fit several of the batches {batches}"
            self._journal(reading, expected, deducted, batches, "ambiguous", why, total)
            return [], [], why
        why = (
            f"the account was charged {deducted} messages for unknown batches of "
            f"{sum(pending.values())}: someone else is sending from or recharging it"
        )
        self._journal(reading, expected, deducted, batches, "inconsistent", why, total)
        self.on = False
        return [], [], why

    def read(self, note: str) -> int | None:
        """A plain reading (start of a run): journaled as the new baseline."""
        reading = _settled_reading(self.gateway, self.settle, self.sleep)
        total = self.journal.accepted_total()
        self._journal(reading, None, None, [], "reading", note, total)
        if reading is not None:
            self.baseline = (reading, total)
        return reading

    def _journal(
        self,
        reading: int | None,
        expected: int | None,
        deducted: int | None,
        batches: list[int],
        verdict: str,
        note: str | None,
        total: int,
    ) -> None:
        self.journal.add_reconciliation(
            sms_left=reading,
            expected=expected,
            deducted=deducted,
            batches=batches,
            verdict=verdict,
            note=note,
            accepted_total=total,
        )
        logger.info(
            "balance: sms_left %s, expected %s, charged %s for %s: %s",
            reading,
            expected,
            deducted,
            batches,
            verdict,
        )


# -- the engine ------------------------------------------------------------------------------------

#: Registry status of a journal state.
_REGISTRY_STATUS: Final[dict[str, str]] = {ACCEPTED: "accepted", UNKNOWN: "unknown", FAILED: "not_sent"}


class _Run:
    """State shared by the workers of one :func:`send_campaign` call."""

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
        max_retries: int,
        retry_backoff: float,
        window: tuple[dtime, dtime] | None,
        clock: Clock,
        rate_limit: float | None,
        registry: _Registry | None,
        balance: _Balance | None,
        stop: threading.Event,
        wait: Callable[[float], object] | None = None,
    ) -> None:
        self.gateway = gateway
        self.journal = journal
        self.max_retries = max_retries
        self.retry_backoff = retry_backoff
        self.window = window
        self.clock = clock
        self.pacer = _Pacer(rate_limit)
        self.registry = registry
        self.balance = balance
        self.stop = stop
        self.wait = wait or stop.wait  # the injected ``sleep``, else a wait the stop ends early
        self.abort: _Outcome | None = None
        self.todo: queue.SimpleQueue[int] = queue.SimpleQueue()
        for number in todo:
            self.todo.put(number)
        self.done: queue.SimpleQueue[tuple[int, _Outcome]] = queue.SimpleQueue()
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
        self.carrying = self.pacer.interval == 0 and balance is None

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
        carry: list[tuple[int, _Outcome]] = []  # this worker's outcome awaiting its next claim
        try:
            while not self.stop.is_set():
                if not self._through_gate():
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

    def _through_gate(self) -> bool:
        """Wait while unknowns await the balance; settle them when nothing is in flight."""
        while True:
            self._settle_if_due()
            with self._lock:
                if not self.pending or self.stop.is_set():
                    return not self.stop.is_set()
                self.gate.wait(0.05)

    def _settle_if_due(self) -> bool:
        """If unknowns are pending and nothing is in flight, settle them (one thread does)."""
        with self._lock:
            if not self.pending or self.in_flight or self.settling or self.balance is None:
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
            outcome = _Outcome(ACCEPTED, reason="settled by balance")
            self._record(number, outcome)
            self.done.put((number, outcome))
        for number in not_sent:
            retries = self.retries.get(number, 0)
            outcome = _Outcome(
                FAILED,
                error_kind="settled_by_balance",
                reason="not sent (settled by balance: nothing was charged for it)",
                retryable=True,
            )
            self._record(number, outcome)
            if retries < self.max_retries and not self.stop.is_set():
                self.retries[number] = retries + 1
                self.todo.put(number)
            else:
                self.done.put((number, outcome))
        if warning is not None:
            still = [b for b in pending if b not in accepted and b not in not_sent]
            self.journal.clear_settlement(still, note=f"the balance could not settle it ({warning})")
            for number in still:
                self.done.put((number, _Outcome(UNKNOWN)))
            if not self.balance.on:
                message = f"reconcile='balance' switched off for the rest of this run: {warning}"
            else:
                message = f"the balance could not settle batches {still}: {warning}"
            logger.warning(message)
            self.warnings.append(message)

    # -- sending ----------------------------------------------------------------------------------

    def wait_for_window(self, carry: list[tuple[int, _Outcome]]) -> bool:
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

    def _claim(self, number: int, receivers: list[str], carry: list[tuple[int, _Outcome]]) -> bool:
        """Claim ``number``, committing the outcome in ``carry`` (emptied) in the same transaction."""
        with self._lock:
            closed = bool(self.pending and self.balance is not None)
            if not closed:
                self.in_flight += 1
        if closed:
            self._flush(carry)
            return False  # the gate closed meanwhile: put it back
        carried = carry.pop() if carry else None
        state, attempts = self.states[number], self.attempts[number]
        try:
            won = self.journal.claim(
                number,
                states=[state],
                attempts=attempts,
                receivers=len(receivers),
                outcome=None if carried is None else _journal_outcome(*carried),
            )
        except BaseException:
            if carried is not None:
                carry.append(carried)  # not committed: _work tries it on its own
            raise
        if carried is not None:
            self._recorded(*carried)
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

    def _record(self, number: int, outcome: _Outcome, *, settle: str | None = None) -> None:
        self.journal.record_outcome(_journal_outcome(number, outcome, settle=settle))
        self._recorded(number, outcome)

    def _recorded(self, number: int, outcome: _Outcome) -> None:
        self.states[number] = outcome.state
        if self.registry is not None:
            self.registry.settled(number, outcome.state)

    def _flush(self, carry: list[tuple[int, _Outcome]]) -> None:
        """Commit the outcome in ``carry`` (emptied) on its own."""
        while carry:
            number, outcome = carry.pop()
            self._record(number, outcome)
            self.done.put((number, outcome))

    def send(self, number: int, carry: list[tuple[int, _Outcome]]) -> None:
        """Send batch ``number`` (with its retries). ``carry`` holds the outcome of this worker's
        previous batch, committed with this batch's claim; this batch's final outcome is left there
        when nothing can come between it and the next claim (else it is committed at once)."""
        content, receivers, sendtime = self.batch[number]
        retries = self.retries.get(number, 0)
        while True:
            if not self.wait_for_window(carry) or not self.pacer.acquire(self.stop):
                return  # stopped before sending: the batch keeps its journal state
            if not self._claim(number, receivers, carry):
                if self.states[number] != IN_FLIGHT:
                    self.todo.put(number)  # the gate closed: sent after the settlement
                return
            try:
                outcome = _ask(self.gateway, receivers, content, sendtime)
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
            pending = (
                outcome.settleable
                and self.balance is not None
                and self.balance.on
                and not self.stop.is_set()
            )
            if self.carrying and not (outcome.abort or outcome.retryable or self.stop.is_set()):
                with self._lock:
                    self.in_flight -= 1
                    self.gate.notify_all()
                logger.debug("batch %d: %s %s", number, outcome.state, outcome.code)
                carry.append((number, outcome))  # committed with the next claim, or by _work
                return
            self._record(number, outcome, settle="pending" if pending else None)
            with self._lock:
                self.in_flight -= 1
                if pending:
                    self.pending[number] = len(receivers)
                self.gate.notify_all()
            logger.debug("batch %d: %s %s", number, outcome.state, outcome.code)
            if pending:
                return  # the settlement decides: accepted, retried or unknown
            if outcome.abort:
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
                    self.done.put((number, outcome))
                    return
                continue
            self.done.put((number, outcome))
            return

    def remaining(self) -> list[int]:
        left = []
        while True:
            try:
                left.append(self.todo.get_nowait())
            except queue.Empty:
                return left


class _Registry:
    """This run's link to the campaign home's send registry.

    Writes go through one background thread, so that recording 500 numbers never delays a request:
    the journal is the durable record (its ``in_flight`` mark is fsynced before each request), and
    the start of every run puts into the registry whatever a killed run had no time to write
    (:meth:`sync`).
    """

    def __init__(
        self, store: Store, *, journal: str, campaign: str, gateway: str, contents: dict[int, str]
    ) -> None:
        self.store = store
        self.journal = journal
        self.campaign = campaign
        self.gateway = gateway
        self.sha = {b: content_sha256(c) for b, c in contents.items()}
        self.errors: list[BaseException] = []
        self._closing = threading.Event()
        self._queue: queue.SimpleQueue[tuple[int, list[str] | None, str] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._write, name="smscampaign-registry", daemon=True)
        self._thread.start()

    def sending(self, batch: int, receivers: list[str]) -> None:
        """``receivers`` of ``batch`` are being sent (before the request leaves)."""
        self._queue.put((batch, receivers, "in_flight"))

    def settled(self, batch: int, state: str, receivers: list[str] | None = None) -> None:
        """``batch`` ended in journal state ``state`` (``receivers`` if it may not be recorded yet)."""
        status = _REGISTRY_STATUS.get(state)
        if status is not None:
            self._queue.put((batch, receivers, status))

    def sync(self, state: pd.DataFrame, receivers: dict[int, list[str]]) -> None:
        """Record the batches the journal says were (or may have been) sent and the registry lacks."""
        recorded = self.store.batches_recorded(self.journal)
        for number, st in zip(state["batch"].astype(int), state["state"], strict=True):
            status = _REGISTRY_STATUS.get(st)
            if status in ("accepted", "unknown") and recorded.get(number) != status:
                self.settled(number, st, receivers[number])

    #: Seconds the writer gathers work before writing it: a batch sent and answered within it is
    #: written once, with its outcome (the journal holds the truth meanwhile; see :meth:`sync`).
    GATHER: Final = 0.1

    def _write(self) -> None:
        stop = False
        while not stop:
            items = [self._queue.get()]
            if items[0] is not None:
                self._closing.wait(self.GATHER)  # cut short by close(): nothing more will come
            while True:  # take whatever else is waiting: one pass writes it all
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            ops: dict[int, list[Any]] = {}
            for item in items:
                if item is None:
                    stop = True
                    continue
                batch, batch_receivers, status = item
                op = ops.setdefault(batch, [None, status])
                if batch_receivers is not None:
                    op[0] = batch_receivers
                op[1] = status
            for batch, (batch_receivers, status) in ops.items():
                try:
                    if batch_receivers is not None:
                        self.store.record_sends(
                            mobiles=batch_receivers,
                            content_sha256=self.sha[batch],
                            campaign=self.campaign,
                            journal=self.journal,
                            batch=batch,
                            status=status,
                            gateway=self.gateway,
                        )
                    else:
                        self.store.settle_sends(journal=self.journal, batch=batch, status=status)
                except Exception as exc:  # noqa: BLE001 - reported by close()
                    logger.error("send registry: batch %d not recorded: %s", batch, exc)
                    self.errors.append(exc)

    def close(self) -> None:
        """Write what is queued and stop the writer."""
        self._closing.set()
        self._queue.put(None)
        self._thread.join()


def send_campaign(
    plan: Plan,
    gateway: Gateway,
    *,
    journal: str | os.PathLike[str] | Journal | Literal[False] | None = None,
    workers: int = 1,
    rate_limit: float | None = None,
    max_retries: int = 3,
    resend_unknown: bool = False,
    allow_partial: bool = False,
    send_window: tuple[str, str] | None = None,
    progress: bool = True,
    retry_backoff: float = 0.5,
    clock: Clock | None = None,
    allow_repeat: bool = False,
    repeat_window: timedelta | str = timedelta(hours=24),
    reconcile: Literal["balance"] | None = None,
    settle: float = 5.0,
    home: str | os.PathLike[str] | None = None,
    sleep: Callable[[float], object] | None = None,
    name: str | None = None,
    registry_key: str | None = None,
) -> pd.DataFrame:
    """Send ``plan`` through ``gateway`` and return one result row per row of ``plan.recipients``.

    ``accepted`` means **accepted by the gateway**: this protocol has no delivery reports, and bulk
    content may still be filtered or held for manual review after acceptance.

    Contract:

    - **Journal**: ``None`` (default) = the journal of this plan in the campaign home
      (``home``, else ``$SMSCAMPAIGN_HOME``, else the user data dir), named by the plan's
      fingerprint, so calling again with the same plan resumes and a changed plan gets a new one; a
      path or a :class:`Journal` = that file; ``False`` = in memory, for this call only (throw-away
      sandbox runs). Each batch is committed ``in_flight`` before its request leaves and its outcome
      right after. Resuming: ``accepted`` batches are never sent again, ``failed`` batches are
      retried when their failure was retryable, ``unknown`` ones (the request may have reached the
      gateway: read timeout, connection lost after sending, HTTP error, unreadable answer, code
      −109, a process killed in flight) are resent only with ``resend_unknown=True``. A journal of
      another plan raises :class:`JournalError`.
    - **One runner per journal**: the run holds the journal's lock; a second run on the same journal
      (another kernel, the CLI started twice) raises :class:`JournalBusy` at once, sending nothing.
    - **Never the same content twice**: every message is recorded in the campaign home's send
      registry; recipients who got the same content through the same gateway within
      ``repeat_window`` (default 24 h; a ``timedelta`` or text such as ``"7d"``) from any other
      journal are not sent: status ``already_sent``, the reason naming the gateway, the earlier
      campaign and time. ``allow_repeat=True`` sends them anyway. "The same gateway" means the same
      ``registry_key``: by default ``gateway.base_url`` (a sandbox on another port is another
      gateway); pass a fixed name to make gateways whose URL changes one gateway to the registry —
      every ``smscampaign send --sandbox`` run uses ``"sandbox://demo"``
      (:data:`smscampaign.cli.SANDBOX_REGISTRY_KEY`), because each starts a sandbox on a new port.
      A name that is not an ``http(s)://`` URL never matches a real gateway's sends.
    - **Preflight**: ``user_info`` first (retried: it only reads); if ``sms_left`` is below the
      messages still to send, raise :class:`InsufficientBalance` (nothing is sent) unless
      ``allow_partial``. A negative answer raises :class:`AccountError`.
    - **Retries**: at most ``max_retries`` per batch and call, exponential backoff from
      ``retry_backoff`` seconds with jitter, only for ``retryable`` codes and failures that provably
      never reached the gateway (connection refused, DNS, connect timeout). An ``account`` code stops
      the campaign: that batch and all not yet sent become ``not_sent`` with the code's reason. A
      ``request`` code fails that batch only.
    - **Unknowns settled by the balance** (``reconcile="balance"``; off by default; safe only when
      nobody else sends from or recharges the account during the run): when a request's outcome is
      unknown, dispatch pauses, the requests in flight finish, ``sms_left`` is read twice ``settle``
      seconds apart, and what the account was charged decides: the batch's size → ``accepted``
      ("settled by balance"); nothing → not sent, retried; anything else → it stays ``unknown``,
      reconciliation stops for the run, and a warning says why. Batches a killed run left in flight
      are settled the same way on the next start when exactly one subset of them matches. Readings
      and verdicts are journaled (``results.attrs["reconciliations"]``). ``sleep`` (default: an
      interruptible wait) is how the engine waits between readings and outside the send window.
    - **Throughput**: ``workers`` threads share the gateway's connection pool (at most ``workers``
      batches in flight, so a kill leaves at most ``workers × batch_size`` recipients ``unknown``);
      ``rate_limit`` requests per second in total; ``send_window=("08:00", "22:00")`` (Beijing time,
      read from ``clock``, default the system clock) pauses outside the window (default: the plan's
      ``send_window``, e.g. a marketing plan's quiet hours, unless it has a ``sendtime``).
    - **Progress**: a ``tqdm.auto`` bar over ready recipients with accepted / failed / unknown counts
      (``progress=False`` silences it). Ctrl-C stops cleanly: requests in flight finish (a second
      Ctrl-C stops waiting; those batches become ``unknown``), the journal stays consistent, and the
      results so far are returned with ``results.attrs["interrupted"] = True``.

    The result has the columns :data:`RESULT_COLUMNS` (the plan's name-like columns right after
    ``source_row``), then the other columns of ``plan.recipients`` (``carrier``, ``region`` …), in
    the plan's row order and index; ``reason_zh`` is ``reason`` in Chinese; text is ``<NA>`` where
    missing (:func:`smscampaign.view` shows it in a notebook). ``status``
    is ``accepted``, ``failed``, ``unknown``, ``not_sent`` or ``already_sent`` for ready rows and the
    plan status (``invalid``, ``duplicate`` …) otherwise; ``code`` is the gateway's return code
    (``Int64``, NA when there was no answer), ``message_zh`` / ``message_en`` / ``category`` describe
    it (or the transport failure), ``gateway_result`` is the gateway's own message text, ``attempts``
    counts requests over all runs, ``sent_at`` is the time of the last attempt (Beijing time),
    ``reason`` says why a row is not ``accepted``. ``plan`` is not modified. ``attrs`` hold
    ``fingerprint``, ``journal`` (the path, or ``None`` in memory), ``resumed``, ``accepted_before``,
    ``sent_now``, ``summary`` (one line: what was done before and now), ``interrupted``,
    ``reconciliations`` (list of dicts) and ``warnings``. The campaign is recorded in the home's
    history under ``name`` (:class:`~smscampaign.History`), at ``clock``'s time.

    >>> results = send_campaign(plan, gw, workers=4)                   # doctest: +SKIP
    >>> results["status"].value_counts().to_dict()                     # doctest: +SKIP
    {'accepted': 998, 'invalid': 2}
    >>> results.attrs["summary"]                                       # doctest: +SKIP
    'new campaign: 998 sent now'
    """
    from smscampaign.campaign.plan import Plan  # noqa: PLC0415 - plan imports nothing of send

    if not isinstance(plan, Plan):
        raise ConfigError(
            f"send_campaign takes a Plan, not {type(plan).__name__}: call "
            "plan_campaign(recipients, template, …) first and pass its result"
        )
    if workers < 1:
        raise ConfigError(f"workers must be at least 1, not {workers}")
    if max_retries < 0:
        raise ConfigError(f"max_retries must be at least 0, not {max_retries}")
    if rate_limit is not None and rate_limit <= 0:
        raise ConfigError(f"rate_limit must be positive requests per second, not {rate_limit}")
    if reconcile not in (None, "balance"):
        raise ConfigError(f"reconcile must be None or 'balance', not {reconcile!r}")
    if settle < 0:
        raise ConfigError(f"settle must be seconds (>= 0), not {settle}")
    if registry_key is None:
        registry_key = gateway.base_url
    elif not isinstance(registry_key, str) or not registry_key.strip():
        raise ConfigError(
            f"registry_key must be a non-empty name such as 'sandbox://demo', not {registry_key!r}"
        )
    if send_window is None and plan.sendtime is None:
        send_window = plan.send_window  # a marketing plan's quiet hours
    window = parse_window(send_window)
    try:
        repeat = pd.Timedelta(repeat_window).to_pytimedelta()
    except (TypeError, ValueError):
        raise ConfigError(
            f"repeat_window must be a timedelta or a duration such as '24h', not {repeat_window!r}"
        ) from None
    if journal is None and plan.requests == 0:
        journal = False  # nothing to send: no journal file for an empty plan
    store = open_home(home)
    try:
        if isinstance(journal, Journal):
            owned, book = False, journal
        elif journal is False:
            owned, book = True, Journal(":memory:", store_recipients=False)
        elif journal is None:
            owned, book = True, Journal(store.journal_path(plan.fingerprint))
        elif isinstance(journal, str | os.PathLike) and not isinstance(journal, bool):
            owned, book = True, Journal(journal)
        else:
            raise ConfigError(
                f"journal must be a path, a Journal, None (the campaign home) or False (in memory), "
                f"not {journal!r}"
            )
        try:
            started = datetime.now(UTC)
            with book.runner():
                results = _send(
                    plan,
                    gateway,
                    book,
                    store=store,
                    workers=workers,
                    rate_limit=rate_limit,
                    max_retries=max_retries,
                    resend_unknown=resend_unknown,
                    allow_partial=allow_partial,
                    window=window,
                    progress=progress,
                    retry_backoff=retry_backoff,
                    clock=clock or _default_clock,
                    allow_repeat=allow_repeat,
                    repeat_window=repeat,
                    reconcile=reconcile,
                    settle=settle,
                    sleep=sleep,
                    registry_key=registry_key,
                )
            from smscampaign.memory.history import record_sent  # noqa: PLC0415 (issue 13)

            record_sent(plan, results, name=name, clock=clock, store=store, started=started)
            return results
        finally:
            if owned:
                _close_side_by_side(book, store)
    finally:
        store.close()  # already closed when the journal was ours; closing twice is harmless


def _close_side_by_side(book: Journal, store: Store) -> None:
    """Close this run's journal and the campaign home at the same time: each close is SQLite's
    checkpoint with its own fsyncs (~15 ms each here), and neither needs to wait for the other."""
    closing = in_background(store.close, "smscampaign-close-home")
    try:
        book.close()
    finally:
        futures.wait([closing])
    closing.result()  # the store's error, if any, once the journal is closed


def _journal_id(journal: Journal) -> str:
    """The journal's name in the registry: its absolute path, or a unique name in memory."""
    if journal.path == ":memory:":
        return f"memory:{uuid.uuid4().hex}"
    return str(Path(journal.path).resolve())


def _already_sent(
    store: Store,
    plan: Any,
    todo: list[int],
    *,
    journal_id: str,
    gateway: str,
    window: timedelta,
) -> list[tuple[str, int, str]]:
    """``(mobile, batch, reason)`` for receivers of ``todo`` batches who got the same content through
    ``gateway`` (the registry key: a base URL or a fixed name) within ``window`` from another
    journal."""
    if not todo:
        return []
    batches = plan.batches.set_index("batch").loc[todo]
    sha = {int(b): content_sha256(c) for b, c in zip(batches.index, batches["content"], strict=True)}
    found = store.sends_before(
        set(sha.values()),
        gateway=gateway,
        since=datetime.now(UTC) - window,
        exclude_journal=journal_id,
    )
    if found.empty:
        return []
    latest = found.drop_duplicates(["mobile", "content_sha256"]).set_index(["mobile", "content_sha256"])
    out = []
    for number, receivers in zip(batches.index, batches["receivers"], strict=True):
        key = sha[int(number)]
        for mobile in receivers:
            if (mobile, key) in latest.index:
                row = latest.loc[(mobile, key)]
                when = row["at"].tz_convert(BEIJING).strftime("%Y-%m-%d %H:%M")
                verb = "sent" if row["status"] == "accepted" else f"possibly sent ({row['status']})"
                out.append(
                    (
                        mobile,
                        int(number),
                        f"already {verb} the same content at {when} (Beijing) through {gateway} "
                        f"by campaign {row['campaign'][:12]}… (journal {row['journal']}); "
                        "allow_repeat=True / --allow-repeat sends it again",
                    )
                )
    return out


def _send(
    plan: Any,
    gateway: Gateway,
    journal: Journal,
    *,
    store: Store,
    workers: int,
    rate_limit: float | None,
    max_retries: int,
    resend_unknown: bool,
    allow_partial: bool,
    window: tuple[dtime, dtime] | None,
    progress: bool,
    retry_backoff: float,
    clock: Clock,
    allow_repeat: bool,
    repeat_window: timedelta,
    reconcile: str | None,
    settle: float,
    sleep: Callable[[float], object] | None,
    registry_key: str,
) -> pd.DataFrame:
    from tqdm.auto import tqdm  # noqa: PLC0415 - picks the notebook or terminal bar at call time

    resumed = not journal.attach(plan, defer_recipients=True)
    journal.recover(settle=reconcile == "balance")
    journal_id = _journal_id(journal)
    state = journal.batches()
    accepted_before = int(state.loc[state["state"] == ACCEPTED, "receivers"].fillna(state["size"]).sum())
    wanted = (state["state"] == PLANNED) | ((state["state"] == FAILED) & state["retryable"])
    if resend_unknown:
        wanted |= state["state"] == UNKNOWN
    candidates = state.loc[wanted, "batch"].astype(int).tolist()

    # The registry: leave out whoever already got the same content from another journal.
    if allow_repeat:
        journal.unexclude(candidates)
    else:
        journal.exclude(
            _already_sent(
                store,
                plan,
                candidates,
                journal_id=journal_id,
                gateway=registry_key,
                window=repeat_window,
            )
        )
    excluded = journal.excluded()
    left_out: dict[int, set[str]] = {}
    for mobile, number in zip(excluded["mobile"], excluded["batch"], strict=True):
        left_out.setdefault(int(number), set()).add(mobile)
    receivers: dict[int, list[str]] = {}
    for number, batch_receivers in zip(plan.batches["batch"], plan.batches["receivers"], strict=True):
        skip = left_out.get(int(number))
        if skip:
            receivers[int(number)] = [m for m in batch_receivers if m not in skip]
    todo = [b for b in candidates if receivers.get(b, True)]  # a batch with nobody left: not sent
    sizes = {
        int(b): len(receivers.get(int(b), ())) if int(b) in receivers else int(n)
        for b, n in zip(state["batch"], state["size"], strict=True)
    }
    needed = sum(sizes[b] for b in todo)
    logger.info(
        "campaign %s: %d of %d batches to send (%d messages)%s",
        plan.fingerprint[:12],
        len(todo),
        len(state),
        needed,
        f", {len(excluded)} recipients already sent" if len(excluded) else "",
    )

    registry = _Registry(
        store,
        journal=journal_id,
        campaign=plan.fingerprint,
        gateway=registry_key,
        contents=dict(zip(plan.batches["batch"].astype(int), plan.batches["content"], strict=True)),
    )
    full = {
        int(b): receivers.get(int(b), list(r))
        for b, r in zip(plan.batches["batch"], plan.batches["receivers"], strict=True)
    }
    registry.sync(state, full)  # what a killed run had no time to record
    try:
        stop = threading.Event()
        wait = sleep or stop.wait  # waits end early when the run is stopped
        warnings: list[str] = []
        balance: _Balance | None = None
        known: int | None = None
        if reconcile == "balance":
            balance = _Balance(gateway, journal, settle, wait)
            pending = journal.pending_settlement()
            if pending and balance.baseline is not None:
                warnings += _settle_recovered(journal, balance, sizes, registry, full, pending)
                state = journal.batches()  # those found not sent are sent again now
                again = state.loc[
                    (state["state"] == FAILED) & state["retryable"] & ~state["batch"].isin(todo), "batch"
                ]
                todo += [int(b) for b in again if receivers.get(int(b), True)]
                needed = sum(sizes[b] for b in todo)
            else:
                if pending:
                    journal.clear_settlement(pending, note="no earlier balance reading to settle it")
                    warnings.append(f"batches {pending} stay unknown: no earlier balance reading")
                if todo:
                    balance.read("start of run")
            known = balance.baseline[0] if balance.baseline else None
        if todo:
            _preflight(gateway, needed, allow_partial=allow_partial, sleep=wait, known=known)

        run = _Run(
            plan,
            gateway,
            journal,
            todo,
            attempts=dict(zip(state["batch"].astype(int), state["attempts"].astype(int), strict=True)),
            states=dict(zip(state["batch"].astype(int), state["state"], strict=True)),
            receivers=receivers,
            max_retries=max_retries,
            retry_backoff=retry_backoff,
            window=window,
            clock=clock,
            rate_limit=rate_limit,
            registry=registry,
            balance=balance,
            stop=stop,
            wait=wait,
        )
        counts = {"accepted": 0, "failed": 0, "unknown": 0}
        todo_set = set(todo)
        for number, st in zip(state["batch"].astype(int), state["state"], strict=True):
            key = _STATUS_OF_STATE.get(st)
            if key in counts and number not in todo_set:
                counts[key] += sizes[number]
        interrupted = False
        bar = tqdm(
            total=sum(sizes.values()),
            initial=sum(counts.values()),
            unit="sms",
            desc="sending",
            disable=not progress,
            dynamic_ncols=True,
        )
        sent_now = 0

        def drain() -> None:
            nonlocal sent_now
            changed = False
            while True:
                try:
                    number, outcome = run.done.get_nowait()
                except queue.Empty:
                    break
                key = _STATUS_OF_STATE[outcome.state]
                if key in counts:
                    counts[key] += sizes[number]
                    bar.update(sizes[number])
                    changed = True
            if changed:
                bar.set_postfix(counts, refresh=False)

        threads = [
            threading.Thread(target=run.worker, name=f"smscampaign-send-{i}", daemon=True)
            for i in range(min(workers, max(1, len(todo))))
        ]
        run.active = len(threads)
        if not threads or not todo:
            run.active = 0
            threads = []
            run.finished.set()
        try:
            for thread in threads:
                thread.start()
            try:
                while not run.finished.wait(0.05):
                    drain()
            except KeyboardInterrupt:
                interrupted = True
                run.stop.set()
                logger.warning("interrupted: waiting for the requests in flight to finish")
                try:
                    while not run.finished.wait(0.1):
                        pass
                except KeyboardInterrupt:
                    stuck = journal.recover()  # the workers' requests may still land: unknown
                    for number in stuck:
                        registry.settled(number, UNKNOWN)
                    logger.warning("stopped waiting; batches %s are unknown", stuck)
            drain()
        finally:
            bar.set_postfix(counts, refresh=False)
            bar.close()
        if run.errors:
            raise run.errors[0]
        if run.abort is not None:
            left = run.remaining()
            journal.record_many_planned(left, code=run.abort.code, reason=run.abort.reason)
        pending_reason = "interrupted before sending" if interrupted else "not sent"
        final = journal.batches()
        results = _results(
            plan.recipients, final, pending_reason=pending_reason, excluded=journal.excluded()
        )
        accepted_total = int(
            final.loc[final["state"] == ACCEPTED, "receivers"].fillna(final["size"]).sum()
        )
        sent_now = accepted_total - accepted_before
        summary = _summary_line(
            results, resumed=resumed, accepted_before=accepted_before, sent_now=sent_now
        )
        results.attrs.update(
            fingerprint=plan.fingerprint,
            journal=None if journal.path == ":memory:" else journal.path,
            interrupted=interrupted,
            resumed=resumed,
            accepted_before=accepted_before,
            sent_now=sent_now,
            summary=summary,
            reconciliations=_records(journal.reconciliations()),
            warnings=warnings + run.warnings,
        )
        journal.record_run(
            {
                "summary": summary,
                "resumed": resumed,
                "accepted_before": accepted_before,
                "sent_now": sent_now,
            }
        )
        logger.info("campaign %s: %s", plan.fingerprint[:12], summary)
        return results
    finally:
        registry.close()


def _settle_recovered(
    journal: Journal,
    balance: _Balance,
    sizes: dict[int, int],
    registry: _Registry,
    receivers: dict[int, list[str]],
    pending: list[int],
) -> list[str]:
    """Settle the batches a killed run left in flight or awaiting the balance, against the last
    journaled reading (see :class:`_Balance`); returns warnings."""
    accepted, not_sent, warning = balance.settle_pending({b: sizes.get(b, 0) for b in pending})
    for number in accepted:
        journal.record(number, ACCEPTED, reason="settled by balance (after a restart)")
        registry.settled(number, ACCEPTED, receivers[number])
    for number in not_sent:
        journal.record(
            number,
            FAILED,
            error_kind="settled_by_balance",
            reason="not sent (settled by balance after a restart: nothing was charged for it)",
            retryable=True,
        )
        registry.settled(number, FAILED, receivers[number])
    if warning:
        still = [b for b in pending if b not in accepted and b not in not_sent]
        journal.clear_settlement(still, note=f"the balance could not settle it ({warning})")
        message = f"batches {still} left in flight stay unknown: {warning}"
        logger.warning(message)
        return [message]
    return []


def _summary_line(results: pd.DataFrame, *, resumed: bool, accepted_before: int, sent_now: int) -> str:
    """What was done before and now, in one line (the CLI prints it; notebooks find it in attrs)."""
    counts = results["status"].value_counts()
    extra = []
    for status in ("already_sent", "unknown", "failed", "not_sent"):
        if counts.get(status, 0):
            extra.append(f"{int(counts[status]):,} {status.replace('_', ' ')}")
    tail = f" ({', '.join(extra)})" if extra else ""
    if resumed:
        return (
            f"resumed: {accepted_before:,} accepted earlier, {sent_now:,} sent now, nobody twice{tail}"
        )
    return f"new campaign: {sent_now:,} sent now{tail}"


def _preflight(
    gateway: Gateway,
    needed: int,
    *,
    allow_partial: bool,
    sleep: Callable[[float], object],
    known: int | None,
) -> None:
    """Check the balance covers ``needed`` messages (``known``: a reading just taken)."""
    left = known if known is not None else _sms_left(gateway, sleep=sleep)
    if left is None:
        logger.warning("user_info gave no numeric sms_left; balance not checked")
        return
    if left < needed:
        if not allow_partial:
            raise InsufficientBalance(
                f"the account has {left} messages left but the campaign needs {needed}; "
                "recharge, or pass allow_partial=True to send what the balance allows",
                needed=needed,
                available=left,
            )
        logger.warning("the account has %d messages left for %d: sending partially", left, needed)


# -- results ---------------------------------------------------------------------------------------


def _batch_columns(batches: pd.DataFrame, pending_reason: str) -> dict[str, np.ndarray]:
    """Per-batch result columns (object arrays, one entry per batch row)."""
    n = len(batches)
    out: dict[str, np.ndarray] = {
        name: np.full(n, None, dtype=object)
        for name in ("status", "message_zh", "message_en", "category", "reason")
    }
    codes = batches["code"]
    kinds = batches["error_kind"] if "error_kind" in batches else pd.Series([None] * n)
    for i, (st, code, error, reason, error_kind) in enumerate(
        zip(batches["state"], codes, batches["error"], batches["reason"], kinds, strict=True)
    ):
        status = _STATUS_OF_STATE[st]
        out["status"][i] = status
        # Journals written before error_kind existed: the kind is the error text's prefix.
        kind = error_kind if isinstance(error_kind, str) else (str(error).split(":", 1)[0] or None)
        if code is not pd.NA and code is not None:
            info = describe_code(int(code))
            out["message_zh"][i], out["message_en"][i], out["category"][i] = (
                info.zh,
                info.en,
                info.category,
            )
        elif st == ACCEPTED:  # settled by the balance: no answer code
            out["message_zh"][i] = "按余额核实：已受理"
            out["message_en"][i] = "Accepted (settled by the account balance)"
            out["category"][i] = SUCCESS
        elif error or isinstance(error_kind, str):
            if kind == "interrupted":
                out["message_zh"][i] = _INTERRUPTED_ZH
                out["message_en"][i] = "Interrupted while in flight; outcome unknown"
                out["category"][i] = AMBIGUOUS
            elif kind == "settled_by_balance":
                out["message_zh"][i] = "按余额核实：未发送"
                out["message_en"][i] = "Not sent (settled by the account balance)"
                out["category"][i] = RETRYABLE
            elif status == "unknown":
                out["message_zh"][i] = _UNKNOWN_ZH
                out["message_en"][i] = f"Network error ({kind}); outcome unknown"
                out["category"][i] = AMBIGUOUS
            else:
                out["message_zh"][i] = _NOT_SENT_ZH
                out["message_en"][i] = f"Network error ({kind}); not sent"
                out["category"][i] = RETRYABLE
        elif st == IN_FLIGHT:
            out["message_zh"][i] = _INTERRUPTED_ZH
            out["message_en"][i] = "In flight; outcome unknown"
            out["category"][i] = AMBIGUOUS
        if st == IN_FLIGHT:
            reason = "in flight when the journal was read: the request may have reached the gateway"
        elif st == PLANNED and not reason:
            reason = pending_reason
        out["reason"][i] = reason if isinstance(reason, str) else None
    return out


def _results(
    recipients: pd.DataFrame,
    batches: pd.DataFrame,
    *,
    pending_reason: str,
    excluded: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The results frame: ``recipients`` (a plan's) joined with the journal's batch states; the
    ``excluded`` recipients (the registry's) are ``already_sent`` with its reason."""
    n = len(recipients)
    ready = recipients["status"].eq("ready").to_numpy(dtype=bool, na_value=False)
    batch = recipients["batch"].astype("Int64")
    batch_index = pd.Index(batches["batch"].astype(int))
    pos = batch_index.get_indexer(batch.fillna(-1).astype(int).to_numpy())
    pos[~ready] = -1
    sent = pos >= 0
    take = np.where(sent, pos, 0)
    cols = _batch_columns(batches, pending_reason)

    # Per-batch texts are spread to the rows by one Arrow take (NA where a row has no batch).
    rows_pos = pa.array(take, mask=~sent)

    def spread(values: np.ndarray | pd.Series) -> pa.Array:
        clean = [v if isinstance(v, str) else None for v in values]
        if not clean:
            return pa.nulls(n, pa.large_string())
        return pa.array(clean, type=pa.large_string()).take(rows_pos)

    def column(name: str) -> pa.Array:
        if name not in recipients:
            return pa.nulls(n, pa.large_string())
        values = recipients[name]
        try:
            return pa.array(values.array, type=pa.large_string(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return pa.array([v if isinstance(v, str) else None for v in values], type=pa.large_string())

    sent_mask = pa.array(sent)
    status_arr = pc.if_else(sent_mask, spread(cols["status"]), column("status"))
    # truncation notes of ready rows stay where the batch says nothing
    reason_arr = pc.coalesce(spread(cols["reason"]), column("reason"))
    if excluded is not None and len(excluded):
        why = dict(zip(excluded["mobile"], excluded["reason"], strict=True))
        mobiles = recipients["mobile"].to_numpy(dtype=object)
        left_out = sent & pd.Series(mobiles).isin(why.keys()).to_numpy()
        if left_out.any():
            override = pa.array(
                [why[m] if out_ else None for m, out_ in zip(mobiles, left_out, strict=True)],
                type=pa.large_string(),
            )
            mask = pa.array(left_out)
            status_arr = pc.if_else(mask, pa.scalar("already_sent", pa.large_string()), status_arr)
            reason_arr = pc.if_else(mask, override, reason_arr)
    code = batches["code"].astype("Int64").array.take(pos, allow_fill=True)
    attempts = np.where(
        sent, batches["attempts"].to_numpy(dtype=np.int64)[take] if len(batches) else 0, 0
    )
    sent_at = pd.to_datetime(batches["sent_at"].astype(object), format="ISO8601", utc=True)
    sent_at_col = sent_at.dt.tz_convert(BEIJING).dt.as_unit("us").array.take(pos, allow_fill=True)
    source_row = (
        recipients["source_row"].to_numpy()
        if "source_row" in recipients
        else recipients.index.to_numpy()
    )

    def text(values: pa.Array) -> pd.api.extensions.ExtensionArray:
        return pd.array(values, dtype=TEXT)

    def as_text(name: str) -> pd.api.extensions.ExtensionArray:
        if name not in recipients:
            return pd.array([None] * n, dtype=TEXT)
        values = recipients[name]
        return values.array if values.dtype == TEXT else values.astype(TEXT).array

    out = pd.DataFrame(
        {
            "source_row": source_row,
            "mobile": as_text("mobile"),
            "status": text(status_arr),
            "code": code,
            "message_zh": text(spread(cols["message_zh"])),
            "message_en": text(spread(cols["message_en"])),
            "category": text(spread(cols["category"])),
            "batch": batch.array,
            "attempts": attempts.astype(np.int64),
            "gateway_result": text(spread(batches["gateway_result"])),
            "sent_at": sent_at_col,
            "content": as_text("content"),
            "reason": text(reason_arr),
        },
        index=recipients.index,
    )
    rest = [c for c in recipients.columns if c not in out.columns]
    for column in rest:
        out[column] = recipients[column].array
    out.attrs = dict(recipients.attrs)
    return arrange(out)


def read_journal(path: str | os.PathLike[str], fingerprint: str | None = None) -> pd.DataFrame:
    """The results frame of the campaign journaled in ``path``, rebuilt from the file alone.

    Same columns as :func:`send_campaign`; batches still ``in_flight`` (a run in progress, or one that
    died) are reported ``unknown``, ``planned`` ones ``not_sent``. The file is opened read-only
    (no lock is needed, and a read-only file or folder will do) and is not modified.
    ``fingerprint``, if given, must match the journal's plan (:class:`JournalError` otherwise).
    ``attrs`` hold ``fingerprint``, ``journal``, ``interrupted`` (False) and ``reconciliations``,
    and — once a run has finished — that run's ``summary`` line (``resumed: 2,968 accepted earlier,
    32 sent now, nobody twice``), ``resumed``, ``accepted_before`` and ``sent_now``.

    >>> read_journal("spring.sqlite")["status"].value_counts()     # doctest: +SKIP
    """
    from smscampaign.memory.journal import open_journal  # noqa: PLC0415

    with open_journal(path, readonly=True) as journal:
        if journal.fingerprint is None:
            raise JournalError(f"{path}: the journal holds no plan")
        if fingerprint is not None and fingerprint != journal.fingerprint:
            raise JournalError(
                f"{path} belongs to plan {journal.fingerprint[:12]}…, not {fingerprint[:12]}…"
            )
        recipients = journal.recipients()
        results = _results(
            recipients, journal.batches(), pending_reason="not sent", excluded=journal.excluded()
        )
        results.attrs.update(
            fingerprint=journal.fingerprint,
            journal=str(path),
            interrupted=False,
            reconciliations=_records(journal.reconciliations()),
        )
        last = journal.last_run()  # what the last finished run printed (resumed: … sent now …)
        results.attrs.update({k: last[k] for k in _RUN_FACTS if k in last})
        return results


#: What each run keeps in its journal and :func:`read_journal` puts back in ``attrs``.
_RUN_FACTS: Final = ("summary", "resumed", "accepted_before", "sent_now")


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain dicts (``None`` for missing values): what ``attrs`` can hold safely."""
    return [
        {k: (None if v is None or v is pd.NA or v != v else v) for k, v in row.items()}
        for row in frame.astype(object).to_dict("records")
    ]
