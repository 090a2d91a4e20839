"""The send engine: send a :class:`~smscampaign.plan.Plan` through a gateway, never twice.

This gateway has no idempotency key and no delivery reports: a request that timed out may or may not
have gone out. :func:`send_campaign` therefore journals every batch (see :mod:`smscampaign.journal`),
retries only what provably was not sent, and reports honestly, per recipient, what it knows.

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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from datetime import time as dtime
from typing import Any, Final

import numpy as np
import pandas as pd

from smscampaign.codes import ACCOUNT, AMBIGUOUS, RETRYABLE, SUCCESS, describe_code
from smscampaign.errors import (
    AccountError,
    GatewayError,
    InsufficientBalance,
    JournalError,
    SmsCampaignError,
)
from smscampaign.gateway import Gateway
from smscampaign.journal import ACCEPTED, FAILED, IN_FLIGHT, PLANNED, UNKNOWN, Journal
from smscampaign.protocol import BEIJING

__all__ = ["RESULT_COLUMNS", "RESULT_STATUSES", "read_journal", "send_campaign"]

logger = logging.getLogger(__name__)

#: The leading columns of the results frame, in order; ``reason`` and the plan's other columns follow.
RESULT_COLUMNS: Final = (
    "source_row",
    "mobile",
    "status",
    "code",
    "message_zh",
    "message_en",
    "category",
    "batch",
    "attempts",
    "gateway_result",
    "sent_at",
    "content",
)
#: Statuses of ready rows after sending (rows that were never ready keep their plan status).
RESULT_STATUSES: Final = ("accepted", "failed", "unknown", "not_sent")
_STATUS_OF_STATE: Final = {
    ACCEPTED: "accepted",
    FAILED: "failed",
    UNKNOWN: "unknown",
    IN_FLIGHT: "unknown",
    PLANNED: "not_sent",
}
_BACKOFF_CAP: Final = 30.0
_WINDOW_STEP: Final = 1.0
_NOT_SENT_ZH: Final = "网络错误，未发送"
_UNKNOWN_ZH: Final = "网络错误，结果未知"
_INTERRUPTED_ZH: Final = "发送中断，结果未知"

Clock = Callable[[], datetime]


# -- options ---------------------------------------------------------------------------------------


def _parse_window(window: tuple[str, str] | None) -> tuple[dtime, dtime] | None:
    if window is None:
        return None
    try:
        start, end = (dtime.fromisoformat(str(part).strip()) for part in window)
    except (TypeError, ValueError):
        raise ValueError(
            f"send_window must be two HH:MM times such as ('08:00', '22:00'), not {window!r}"
        ) from None
    if start == end:
        raise ValueError("send_window start and end must differ")
    return start, end


def _in_window(now: datetime, window: tuple[dtime, dtime]) -> bool:
    start, end = window
    t = now.astimezone(BEIJING).time().replace(tzinfo=None)
    if start < end:
        return start <= t < end
    return t >= start or t < end  # a window across midnight


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


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _ask(gateway: Gateway, receivers: list[str], content: str, sendtime: str | None) -> _Outcome:
    """Send one batch once and classify what happened."""
    try:
        response = gateway.send_sms(receivers, content, sendtime)
    except GatewayError as exc:
        if not exc.request_sent:
            return _Outcome(FAILED, error=_error_text(exc), retryable=True, reason=f"not sent: {exc}")
        return _Outcome(
            UNKNOWN,
            error=_error_text(exc),
            reason=f"{_transport_kind(exc)}: the request may have reached the gateway",
        )
    except SmsCampaignError as exc:  # refused locally (e.g. unencodable content): nothing left
        return _Outcome(FAILED, error=_error_text(exc), reason=f"not sent: {exc}")
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


def _transport_kind(exc: GatewayError) -> str:
    name = type(exc).__name__
    return {
        "GatewayTimeout": "read timeout",
        "GatewayDisconnected": "connection lost after sending",
        "GatewayHTTPError": f"HTTP error {getattr(exc, 'status', '')}".rstrip(),
        "GatewayProtocolError": "unreadable answer",
    }.get(name, "transport failure")


# -- the engine ------------------------------------------------------------------------------------


class _Run:
    """State shared by the workers of one :func:`send_campaign` call."""

    def __init__(
        self,
        plan: Any,
        gateway: Gateway,
        journal: Journal,
        todo: list[int],
        *,
        max_retries: int,
        retry_backoff: float,
        window: tuple[dtime, dtime] | None,
        clock: Clock,
        rate_limit: float | None,
    ) -> None:
        self.gateway = gateway
        self.journal = journal
        self.max_retries = max_retries
        self.retry_backoff = retry_backoff
        self.window = window
        self.clock = clock
        self.pacer = _Pacer(rate_limit)
        self.stop = threading.Event()
        self.abort: _Outcome | None = None
        self.todo: queue.SimpleQueue[int] = queue.SimpleQueue()
        for number in todo:
            self.todo.put(number)
        self.done: queue.SimpleQueue[tuple[int, _Outcome]] = queue.SimpleQueue()
        self.errors: list[BaseException] = []
        # Completion is an Event, not Thread.is_alive(): a KeyboardInterrupt inside Thread.join()
        # can leave a running thread reported as finished.
        self.active = 0
        self.finished = threading.Event()
        self._lock = threading.Lock()
        self._rng = random.Random()
        batches = plan.batches
        self.batch: dict[int, tuple[str, list[str], str | None]] = {
            int(b): (c, list(r), s)
            for b, c, r, s in zip(
                batches["batch"],
                batches["content"],
                batches["receivers"],
                batches["sendtime"],
                strict=True,
            )
        }
        self._waiting_logged = False

    def worker(self) -> None:
        try:
            self._work()
        finally:
            with self._lock:
                self.active -= 1
                if self.active == 0:
                    self.finished.set()

    def _work(self) -> None:
        try:
            while not self.stop.is_set():
                try:
                    number = self.todo.get_nowait()
                except queue.Empty:
                    return
                self.send(number)
        except BaseException as exc:  # a bug: stop everyone, re-raised by the main thread
            self.errors.append(exc)
            self.stop.set()

    def wait_for_window(self) -> bool:
        """Sleep (in small, interruptible steps) until the send window is open; ``False`` if stopped."""
        if self.window is None:
            return not self.stop.is_set()
        while not self.stop.is_set():
            now = self.clock()
            if _in_window(now, self.window):
                return True
            with self._lock:
                if not self._waiting_logged:
                    logger.info(
                        "outside the send window %s–%s (Beijing time): waiting",
                        self.window[0].strftime("%H:%M"),
                        self.window[1].strftime("%H:%M"),
                    )
                    self._waiting_logged = True
            self.stop.wait(min(_WINDOW_STEP, _seconds_until(now, self.window[0])))
        return False

    def send(self, number: int) -> None:
        content, receivers, sendtime = self.batch[number]
        retries = 0
        while True:
            if not self.wait_for_window() or not self.pacer.acquire(self.stop):
                return  # stopped before sending: the batch keeps its journal state
            self.journal.mark_in_flight(number)  # committed before the request leaves
            try:
                outcome = _ask(self.gateway, receivers, content, sendtime)
            except BaseException:
                self.journal.record(
                    number,
                    UNKNOWN,
                    error="interrupted",
                    reason="interrupted while in flight: the request may have reached the gateway",
                )
                raise
            self.journal.record(
                number,
                outcome.state,
                code=outcome.code,
                gateway_result=outcome.gateway_result,
                error=outcome.error,
                reason=outcome.reason,
                retryable=outcome.retryable,
            )
            logger.debug("batch %d: %s %s", number, outcome.state, outcome.code)
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


def send_campaign(
    plan: Any,
    gateway: Gateway,
    *,
    journal: str | os.PathLike[str] | Journal | None = None,
    workers: int = 1,
    rate_limit: float | None = None,
    max_retries: int = 3,
    resend_unknown: bool = False,
    allow_partial: bool = False,
    send_window: tuple[str, str] | None = None,
    progress: bool = True,
    retry_backoff: float = 0.5,
    clock: Clock | None = None,
    name: str | None = None,
) -> pd.DataFrame:
    """Send ``plan`` through ``gateway`` and return one result row per row of ``plan.recipients``.

    ``accepted`` means **accepted by the gateway**: this protocol has no delivery reports, and bulk
    content may still be filtered or held for manual review after acceptance.

    Contract:

    - **Preflight**: ``user_info`` first; if ``sms_left`` is below the messages still to send, raise
      :class:`InsufficientBalance` (nothing is sent) unless ``allow_partial``. A negative answer raises
      :class:`AccountError`.
    - **Journal** (a path or a :class:`Journal`; ``None`` = in memory, for this call only): each batch
      is committed ``in_flight`` before its request leaves and its outcome right after. Calling again
      with the same plan and journal resumes: ``accepted`` batches are never sent again, ``failed``
      batches are retried when their failure was retryable, ``unknown`` ones (the request may have
      reached the gateway: read timeout, connection lost after sending, HTTP error, unreadable answer,
      code −109, a process killed in flight) are resent only with ``resend_unknown=True``. A journal
      of another plan raises :class:`JournalError`.
    - **Retries**: at most ``max_retries`` per batch and call, exponential backoff from
      ``retry_backoff`` seconds with jitter, only for ``retryable`` codes and failures that provably
      never reached the gateway (connection refused, DNS, connect timeout). An ``account`` code stops
      the campaign: that batch and all not yet sent become ``not_sent`` with the code's reason. A
      ``request`` code fails that batch only.
    - **Throughput**: ``workers`` threads share the gateway's connection pool (at most ``workers``
      batches in flight, so a kill leaves at most ``workers × batch_size`` recipients ``unknown``);
      ``rate_limit`` requests per second in total; ``send_window=("08:00", "22:00")`` (Beijing time,
      read from ``clock``, default the system clock) pauses outside the window.
    - **Progress**: a ``tqdm.auto`` bar over ready recipients with accepted / failed / unknown counts
      (``progress=False`` silences it). Ctrl-C stops cleanly: requests in flight finish (a second
      Ctrl-C stops waiting; those batches become ``unknown``), the journal stays consistent, and the
      results so far are returned with ``results.attrs["interrupted"] = True``.

    The result has the columns :data:`RESULT_COLUMNS`, then ``reason``, then the other columns of
    ``plan.recipients`` (``carrier``, ``region``, names …), in the plan's row order and index. ``status``
    is ``accepted``, ``failed``, ``unknown`` or ``not_sent`` for ready rows and the plan status
    (``invalid``, ``duplicate`` …) otherwise; ``code`` is the gateway's return code (``Int64``, NA when
    there was no answer), ``message_zh`` / ``message_en`` / ``category`` describe it (or the transport
    failure), ``gateway_result`` is the gateway's own message text, ``attempts`` counts requests over
    all runs, ``sent_at`` is the time of the last attempt (Beijing time), ``reason`` says why a row is
    not ``accepted``. ``plan`` is not modified. ``attrs`` hold ``fingerprint``, ``journal`` and
    ``interrupted``. The campaign is recorded in the campaign home's history under ``name``
    (:class:`~smscampaign.history.History`).

    >>> results = send_campaign(plan, gw, journal="spring.sqlite", workers=4)   # doctest: +SKIP
    >>> results["status"].value_counts().to_dict()                             # doctest: +SKIP
    {'accepted': 998, 'invalid': 2}
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    if max_retries < 0:
        raise ValueError(f"max_retries must be at least 0, not {max_retries}")
    if rate_limit is not None and rate_limit <= 0:
        raise ValueError(f"rate_limit must be positive requests per second, not {rate_limit}")
    window = _parse_window(send_window)
    if isinstance(journal, Journal):
        owned, book = False, journal
    elif journal is None:
        owned, book = True, Journal(":memory:", store_recipients=False)
    else:
        owned, book = True, Journal(journal)
    try:
        results = _send(
            plan,
            gateway,
            book,
            workers=workers,
            rate_limit=rate_limit,
            max_retries=max_retries,
            resend_unknown=resend_unknown,
            allow_partial=allow_partial,
            window=window,
            progress=progress,
            retry_backoff=retry_backoff,
            clock=clock or _default_clock,
            journal_path=None if journal is None else book.path,
        )
        from smscampaign.history import record_sent  # noqa: PLC0415 (issue 13: campaign history)

        record_sent(plan, results, name=name, clock=clock)
        return results
    finally:
        if owned:
            book.close()


def _send(
    plan: Any,
    gateway: Gateway,
    journal: Journal,
    *,
    workers: int,
    rate_limit: float | None,
    max_retries: int,
    resend_unknown: bool,
    allow_partial: bool,
    window: tuple[dtime, dtime] | None,
    progress: bool,
    retry_backoff: float,
    clock: Clock,
    journal_path: str | None,
) -> pd.DataFrame:
    from tqdm.auto import tqdm  # noqa: PLC0415 - picks the notebook or terminal bar at call time

    journal.attach(plan)
    journal.recover()
    state = journal.batches()
    wanted = (state["state"] == PLANNED) | ((state["state"] == FAILED) & state["retryable"])
    if resend_unknown:
        wanted |= state["state"] == UNKNOWN
    todo = state.loc[wanted, "batch"].astype(int).tolist()
    needed = int(state.loc[wanted, "size"].sum())
    logger.info(
        "campaign %s: %d of %d batches to send (%d messages)",
        plan.fingerprint[:12],
        len(todo),
        len(state),
        needed,
    )
    if todo:
        _preflight(gateway, needed, allow_partial=allow_partial)

    run = _Run(
        plan,
        gateway,
        journal,
        todo,
        max_retries=max_retries,
        retry_backoff=retry_backoff,
        window=window,
        clock=clock,
        rate_limit=rate_limit,
    )
    sizes = dict(zip(state["batch"].astype(int), state["size"].astype(int), strict=True))
    counts = {"accepted": 0, "failed": 0, "unknown": 0}
    for st, size in zip(state.loc[~wanted, "state"], state.loc[~wanted, "size"], strict=True):
        key = _STATUS_OF_STATE.get(st)
        if key in counts:
            counts[key] += int(size)
    interrupted = False
    bar = tqdm(
        total=int(state["size"].sum()),
        initial=sum(counts.values()),
        unit="sms",
        desc="sending",
        disable=not progress,
        dynamic_ncols=True,
    )

    def drain() -> None:
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
    if not threads:
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
    pending = "interrupted before sending" if interrupted else "not sent"
    results = _results(plan.recipients, journal.batches(), pending_reason=pending)
    results.attrs.update(fingerprint=plan.fingerprint, journal=journal_path, interrupted=interrupted)
    logger.info("campaign %s: %s", plan.fingerprint[:12], results["status"].value_counts().to_dict())
    return results


def _preflight(gateway: Gateway, needed: int, *, allow_partial: bool) -> None:
    info = gateway.user_info()
    if not info.ok:
        raise AccountError(f"user_info answered {info.info}", code=info.code, info=info.info)
    left = info.fields.get("sms_left")
    if not isinstance(left, int):
        logger.warning("user_info gave no numeric sms_left (%r); balance not checked", left)
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
    for i, (st, code, error, reason) in enumerate(
        zip(batches["state"], codes, batches["error"], batches["reason"], strict=True)
    ):
        status = _STATUS_OF_STATE[st]
        out["status"][i] = status
        if code is not pd.NA and code is not None:
            info = describe_code(int(code))
            out["message_zh"][i], out["message_en"][i], out["category"][i] = (
                info.zh,
                info.en,
                info.category,
            )
        elif error:
            kind = str(error).split(":", 1)[0]
            if kind == "interrupted":
                out["message_zh"][i] = _INTERRUPTED_ZH
                out["message_en"][i] = "Interrupted while in flight; outcome unknown"
                out["category"][i] = AMBIGUOUS
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


def _results(recipients: pd.DataFrame, batches: pd.DataFrame, *, pending_reason: str) -> pd.DataFrame:
    """The results frame: ``recipients`` (a plan's) joined with the journal's batch states."""
    n = len(recipients)
    status_in = recipients["status"].astype(object).to_numpy()
    ready = status_in == "ready"
    batch = recipients["batch"].astype("Int64")
    batch_index = pd.Index(batches["batch"].astype(int))
    pos = batch_index.get_indexer(batch.fillna(-1).astype(int).to_numpy())
    pos[~ready] = -1
    sent = pos >= 0
    take = np.where(sent, pos, 0)
    cols = _batch_columns(batches, pending_reason)

    def spread(values: np.ndarray, fill: Any = None) -> np.ndarray:
        if len(values) == 0:
            return np.full(n, fill, dtype=object)
        return np.where(sent, values.astype(object)[take], fill)

    plan_reason = (
        recipients["reason"].astype(object).to_numpy()
        if "reason" in recipients
        else np.full(n, None, dtype=object)
    )
    status = np.where(sent, spread(cols["status"]), status_in)
    reason = spread(cols["reason"])
    reason = np.where(pd.isna(reason), plan_reason, reason)  # truncation notes of ready rows stay
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

    def text(values: np.ndarray) -> pd.api.extensions.ExtensionArray:
        return pd.array(pd.Series(values, dtype=object).where(pd.notna(values), None), dtype="str")

    out = pd.DataFrame(
        {
            "source_row": source_row,
            "mobile": recipients["mobile"].to_numpy(),
            "status": text(status),
            "code": code,
            "message_zh": text(spread(cols["message_zh"])),
            "message_en": text(spread(cols["message_en"])),
            "category": text(spread(cols["category"])),
            "batch": batch.array,
            "attempts": attempts.astype(np.int64),
            "gateway_result": text(spread(batches["gateway_result"].astype(object).to_numpy())),
            "sent_at": sent_at_col,
            "content": recipients["content"].to_numpy() if "content" in recipients else None,
            "reason": text(reason),
        },
        index=recipients.index,
    )
    for name in ("mobile", "content"):
        out[name] = out[name].astype("str")
    rest = [c for c in recipients.columns if c not in out.columns]
    for column in rest:
        out[column] = recipients[column].array
    out.attrs = dict(recipients.attrs)
    return out


def read_journal(path: str | os.PathLike[str], fingerprint: str | None = None) -> pd.DataFrame:
    """The results frame of the campaign journaled in ``path``, rebuilt from the file alone.

    Same columns as :func:`send_campaign`; batches still ``in_flight`` (a run in progress, or one that
    died) are reported ``unknown``, ``planned`` ones ``not_sent``. The file is not modified.
    ``fingerprint``, if given, must match the journal's plan (:class:`JournalError` otherwise).

    >>> read_journal("spring.sqlite")["status"].value_counts()     # doctest: +SKIP
    """
    from smscampaign.journal import open_journal  # noqa: PLC0415

    with open_journal(path) as journal:
        if journal.fingerprint is None:
            raise JournalError(f"{path}: the journal holds no plan")
        if fingerprint is not None and fingerprint != journal.fingerprint:
            raise JournalError(
                f"{path} belongs to plan {journal.fingerprint[:12]}…, not {fingerprint[:12]}…"
            )
        recipients = journal.recipients()
        results = _results(recipients, journal.batches(), pending_reason="not sent")
        results.attrs.update(fingerprint=journal.fingerprint, journal=str(path), interrupted=False)
        return results
