"""The run of :func:`~smscampaign.send_campaign`, phase by phase.

:func:`run_campaign` opens the campaign home and the journal, holds the journal's runner lock (and
the home's, :meth:`~smscampaign.memory.home.Store.runner_lock`) for :func:`send_plan`, records the
run in the home's history and closes both. :func:`send_plan` is a chain of short phases:

1. :func:`_choose_batches` — attach the plan to the journal (resuming it if it knows the plan), mark
   what a killed run left in flight ``unknown``, choose the batches to send, and leave out whoever
   the registry says already got the same content (:mod:`~smscampaign.campaign.registry`);
2. :func:`_check_balance` — with ``reconcile="balance"`` (the default), settle what a killed run
   left in flight; then the preflight, whose reading is the baseline of later settlements
   (:mod:`~smscampaign.campaign.balance`);
3. :func:`_send_batches` — the worker threads (:mod:`~smscampaign.campaign.workers`) and the progress
   bar; Ctrl-C stops them cleanly. Each batch's numbers are reserved in the home before its request
   (:mod:`~smscampaign.campaign.reservations`, a few batches ahead); what a run reserved and did not
   send is released at its end, or by the next run before it sends;
4. :func:`_close_run` — what an account code left unsent, the results frame
   (:mod:`~smscampaign.campaign.results`) and its ``attrs``, the run's facts in the journal.

>>> with open_home(None) as store, Journal("spring.sqlite") as book, book.runner():  # doctest: +SKIP
...     results = send_plan(plan, gateway, book, store, options)
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import pandas as pd

from smscampaign.campaign.balance import (
    PREFLIGHT_NOTE,
    Balance,
    journal_reading,
    preflight,
    readings_shown,
)
from smscampaign.campaign.options import SendOptions
from smscampaign.campaign.registry import Registry, already_sent, journal_id
from smscampaign.campaign.reservations import Reserver
from smscampaign.campaign.results import STATUS_OF_STATE, records, results_frame, summary_line
from smscampaign.campaign.workers import Workers
from smscampaign.core.errors import ConfigError, HomeError
from smscampaign.memory.background import in_background
from smscampaign.memory.home import Store, open_home
from smscampaign.memory.journal import ACCEPTED, FAILED, PLANNED, UNKNOWN, Journal, Outcome
from smscampaign.wire.gateway import Gateway

__all__ = ["close_side_by_side", "run_campaign", "send_plan"]

logger = logging.getLogger(__name__)

#: What ``journal=`` of :func:`~smscampaign.send_campaign` may be.
JournalChoice = str | os.PathLike[str] | Journal | Literal[False] | None


def run_campaign(
    plan: Any,
    gateway: Gateway,
    options: SendOptions,
    *,
    journal: JournalChoice,
    home: str | os.PathLike[str] | None,
    name: str | None,
) -> pd.DataFrame:
    """Open the campaign home and the journal, send ``plan`` holding the journal's runner lock,
    record the campaign in the home's history under ``name``, close both."""
    if journal is None and plan.requests == 0:
        journal = False  # nothing to send: no journal file for an empty plan
    store = open_home(home)
    try:
        owned, book = _open_journal(journal, plan, store)
        try:
            started = datetime.now(UTC)
            lock = store.runner_lock(fingerprint=plan.fingerprint, gateway=options.repeat.registry_key)
            with book.runner(), lock:
                results = send_plan(plan, gateway, book, store, options)
            from smscampaign.memory.history import record_sent  # noqa: PLC0415 (issue 13)

            record_sent(plan, results, name=name, clock=options.clock, store=store, started=started)
            return results
        finally:
            if owned:
                close_side_by_side(book, store)
    finally:
        store.close()  # already closed when the journal was ours; closing twice is harmless


def _open_journal(journal: JournalChoice, plan: Any, store: Store) -> tuple[bool, Journal]:
    """(whether this run owns it, the journal) for what ``journal=`` says."""
    if isinstance(journal, Journal):
        return False, journal
    if journal is False:
        return True, Journal(":memory:", store_recipients=False)
    if journal is None:
        return True, Journal(store.journal_path(plan.fingerprint))
    if isinstance(journal, str | os.PathLike) and not isinstance(journal, bool):
        return True, Journal(journal)
    raise ConfigError(
        f"journal must be a path, a Journal, None (the campaign home) or False (in memory), "
        f"not {journal!r}"
    )


def close_side_by_side(book: Journal, store: Store) -> None:
    """Close this run's journal and the campaign home at the same time: each close is SQLite's
    checkpoint with its own fsyncs (~15 ms each here), and neither needs to wait for the other."""
    closing = in_background(store.close, "smscampaign-close-home")
    try:
        book.close()
    finally:
        futures.wait([closing])
    closing.result()  # the store's error, if any, once the journal is closed


@dataclass
class _Choice:
    """The batches this run chose to send, and what it knows of them (from the journal and the
    registry)."""

    state: pd.DataFrame  # the journal's batches (read again when a settlement changes them)
    todo: list[int]  # the batches to send, in order
    receivers: dict[int, list[str]]  # batches the registry left some out of: who is still in them
    everyone: dict[int, list[str]]  # every batch: who is in it
    sizes: dict[int, int]  # messages per batch (those left out not counted)
    resumed: bool
    accepted_before: int

    @property
    def needed(self) -> int:
        """Messages still to send."""
        return sum(self.sizes[b] for b in self.todo)


def send_plan(
    plan: Any, gateway: Gateway, journal: Journal, store: Store, options: SendOptions
) -> pd.DataFrame:
    """Send ``plan`` through ``gateway``, journaled in ``journal`` (whose runner lock the caller
    holds), recording the sends in ``store``'s registry; returns the results frame."""
    book_id = journal_id(journal)
    choice = _choose_batches(plan, journal, store, options, book_id)
    registry = Registry(
        store,
        journal=book_id,
        campaign=plan.fingerprint,
        gateway=options.repeat.registry_key,
        contents=dict(zip(plan.batches["batch"].astype(int), plan.batches["content"], strict=True)),
    )
    reserver: Reserver | None = None
    home_failed = False
    try:
        registry.sync(choice.state, choice.everyone)  # what a killed run had no time to record
        # What a killed run reserved and never requested is released before anything is sent.
        registry.settle_reservations(choice.state)
        stop = threading.Event()
        wait = options.sleep or stop.wait  # waits end early when the run is stopped
        balance, warnings = _check_balance(gateway, journal, registry, choice, options, wait)
        state = choice.state
        reserver = Reserver(
            registry,
            journal,
            order=choice.todo,
            receivers=choice.everyone,
            window=options.repeat.window,
            allow_repeat=options.repeat.allow_repeat,
            stop=stop,
        )
        workers = Workers(
            plan,
            gateway,
            journal,
            choice.todo,
            attempts=dict(zip(state["batch"].astype(int), state["attempts"].astype(int), strict=True)),
            states=dict(zip(state["batch"].astype(int), state["state"], strict=True)),
            receivers=choice.receivers,
            options=options,
            registry=registry,
            reserver=reserver,
            balance=balance,
            stop=stop,
            wait=wait,
        )
        progress = _Progress(choice, show=options.progress)
        progress.left_out = reserver.left_out
        interrupted = _send_batches(workers, progress, choice, journal, registry, options.pacing.workers)
        return _close_run(plan, journal, workers, choice, interrupted=interrupted, warnings=warnings)
    except HomeError:
        home_failed = True  # the run's one error says so: the release below fails quietly
        raise
    finally:
        if reserver is not None:
            reserver.close()
        registry.close()
        _release_unsent(registry, journal, quiet=home_failed)


def _release_unsent(registry: Registry, journal: Journal, *, quiet: bool = False) -> None:
    """At the end of a run, release the reservations of what was not sent (reserved ahead, failed);
    if the home cannot be written now, the next run releases them before it sends (said as a
    warning, or only in the debug log when the run is stopping on the home's error: ``quiet``)."""
    try:
        registry.settle_reservations(journal.batches())
    except Exception as exc:  # noqa: BLE001 - the run's own outcome (or error) matters more
        logger.log(
            logging.DEBUG if quiet else logging.WARNING,
            "reservations not released (the next run releases them): %s",
            exc,
        )


def _accepted(state: pd.DataFrame) -> int:
    """Messages the accepted batches of ``state`` (the journal's batches) carried."""
    return int(state.loc[state["state"] == ACCEPTED, "receivers"].fillna(state["size"]).sum())


def _choose_batches(
    plan: Any, journal: Journal, store: Store, options: SendOptions, book_id: str
) -> _Choice:
    """Attach and resume the journal, choose the batches to send, leave out the repeats."""
    resumed = not journal.attach(plan, defer_recipients=True)
    journal.recover(settle=options.reconciliation.by_balance)
    state = journal.batches()
    wanted = (state["state"] == PLANNED) | ((state["state"] == FAILED) & state["retryable"])
    if options.resend_unknown:
        wanted |= state["state"] == UNKNOWN
    candidates = state.loc[wanted, "batch"].astype(int).tolist()
    receivers, excluded = _leave_out_repeats(plan, journal, store, candidates, options, book_id)
    todo = [b for b in candidates if receivers.get(b, True)]  # a batch with nobody left: not sent
    sizes = {
        int(b): len(receivers.get(int(b), ())) if int(b) in receivers else int(n)
        for b, n in zip(state["batch"], state["size"], strict=True)
    }
    everyone = {
        int(b): receivers.get(int(b), list(r))
        for b, r in zip(plan.batches["batch"], plan.batches["receivers"], strict=True)
    }
    choice = _Choice(state, todo, receivers, everyone, sizes, resumed, _accepted(state))
    logger.info(
        "campaign %s: %d of %d batches to send (%d messages)%s",
        plan.fingerprint[:12],
        len(todo),
        len(state),
        choice.needed,
        f", {excluded} recipients already sent" if excluded else "",
    )
    return choice


def _leave_out_repeats(
    plan: Any,
    journal: Journal,
    store: Store,
    candidates: list[int],
    options: SendOptions,
    book_id: str,
) -> tuple[dict[int, list[str]], int]:
    """The repeat check: leave out whoever already got the same content from another journal (or,
    with ``allow_repeat``, put them back). Returns who is still in the batches some were left out
    of, and how many recipients are left out."""
    repeat = options.repeat
    if repeat.allow_repeat:
        journal.unexclude(candidates)
    else:
        journal.exclude(
            already_sent(
                store,
                plan,
                candidates,
                journal_id=book_id,
                gateway=repeat.registry_key,
                window=repeat.window,
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
    return receivers, len(excluded)


def _check_balance(
    gateway: Gateway,
    journal: Journal,
    registry: Registry,
    choice: _Choice,
    options: SendOptions,
    wait: Callable[[float], object],
) -> tuple[Balance | None, list[str]]:
    """The balance before sending: with ``reconcile="balance"``, settle what a killed run left
    pending (batches found not sent join ``todo``); then the preflight
    (:class:`~smscampaign.InsufficientBalance`), whose one reading is journaled and is the
    baseline later settlements compare with (no wait). Returns the balance and warnings."""
    warnings: list[str] = []
    balance: Balance | None = None
    known: int | None = None
    if options.reconciliation.by_balance:
        balance = Balance(
            gateway, journal, options.reconciliation.settle, wait, others=_colleagues(registry)
        )
        pending = journal.pending_settlement()
        if pending and balance.baseline is not None:
            warnings += _settle_recovered(journal, balance, choice, registry, pending)
            choice.state = state = journal.batches()  # those found not sent are sent again now
            again = state.loc[
                (state["state"] == FAILED) & state["retryable"] & ~state["batch"].isin(choice.todo),
                "batch",
            ]
            choice.todo += [int(b) for b in again if choice.receivers.get(int(b), True)]
            known = balance.baseline[0] if balance.baseline else None  # just read: no other read
        elif pending:
            journal.clear_settlement(pending, note="no earlier balance reading to settle it")
            warnings.append(f"batches {pending} stay unknown: no earlier balance reading")
    if choice.todo:
        reading = preflight(
            gateway, choice.needed, allow_partial=options.allow_partial, sleep=wait, known=known
        )
        if known is None:  # kept as the baseline, and for a later run (issue 28)
            journal_reading(journal, reading, PREFLIGHT_NOTE)
            if balance is not None:
                balance.adopt(reading)
    return balance, warnings


def _colleagues(registry: Registry) -> Callable[[datetime], pd.DataFrame]:
    """The batches other journals reserved on this run's registry key (the same gateway account)
    since a moment, as the campaign home knows them: what the balance accounts for."""
    store, key, me = registry.store, registry.gateway, registry.journal
    return lambda since: store.reservations_since(gateway=key, since=since, journal=me)


def _settle_recovered(
    journal: Journal, balance: Balance, choice: _Choice, registry: Registry, pending: list[int]
) -> list[str]:
    """Settle the batches a killed run left in flight or awaiting the balance, against the last
    journaled reading (see :class:`~smscampaign.campaign.balance.Balance`); returns warnings."""
    accepted, not_sent, warning = balance.settle_pending({b: choice.sizes.get(b, 0) for b in pending})
    for number in accepted:
        journal.record(number, ACCEPTED, reason="settled by balance (after a restart)")
        registry.settled(number, ACCEPTED, choice.everyone[number])
    for number in not_sent:
        journal.record(
            number,
            FAILED,
            error_kind="settled_by_balance",
            reason="not sent (settled by balance after a restart: nothing was charged for it)",
            retryable=True,
        )
        registry.settled(number, FAILED, choice.everyone[number])
    if warning:
        still = [b for b in pending if b not in accepted and b not in not_sent]
        journal.clear_settlement(still, note=f"the balance could not settle it ({warning})")
        message = f"batches {still} left in flight stay unknown: {warning}"
        logger.warning(message)
        return [message]
    return []


class _Progress:
    """The ``tqdm.auto`` bar over ready recipients, with accepted / failed / unknown counts."""

    def __init__(self, choice: _Choice, *, show: bool) -> None:
        from tqdm.auto import tqdm  # noqa: PLC0415 - picks the notebook or terminal bar at call time

        self.sizes = choice.sizes
        self.left_out: dict[int, int] = {}  # per batch: left out by a reservation (Reserver's)
        self.counts = {"accepted": 0, "failed": 0, "unknown": 0}
        planned = set(choice.todo)
        for number, st in zip(choice.state["batch"].astype(int), choice.state["state"], strict=True):
            key = STATUS_OF_STATE.get(st)
            if key in self.counts and number not in planned:
                self.counts[key] += self.sizes[number]
        self.bar = tqdm(
            total=sum(self.sizes.values()),
            initial=sum(self.counts.values()),
            unit="sms",
            desc="sending",
            disable=not show,
            dynamic_ncols=True,
        )

    def drain(self, done: queue.SimpleQueue[Outcome]) -> None:
        """Count the outcomes that came out of the workers since the last call."""
        changed = False
        while True:
            try:
                outcome = done.get_nowait()
            except queue.Empty:
                break
            key = STATUS_OF_STATE[outcome.state]
            if key in self.counts:
                size = self.sizes[outcome.batch] - self.left_out.get(outcome.batch, 0)
                self.counts[key] += size
                self.bar.update(size)
                changed = True
        if changed:
            self.bar.set_postfix(self.counts, refresh=False)

    def close(self) -> None:
        self.bar.set_postfix(self.counts, refresh=False)
        self.bar.close()


def _send_batches(
    workers: Workers,
    progress: _Progress,
    choice: _Choice,
    journal: Journal,
    registry: Registry,
    threads_wanted: int,
) -> bool:
    """Run the worker threads to the end, counting their outcomes; ``True`` if Ctrl-C stopped them
    (requests in flight finish; a second Ctrl-C stops waiting and leaves those ``unknown``)."""
    threads = [
        threading.Thread(target=workers.worker, name=f"smscampaign-send-{i}", daemon=True)
        for i in range(min(threads_wanted, max(1, len(choice.todo))))
    ]
    workers.active = len(threads)
    if not threads or not choice.todo:
        workers.active = 0
        threads = []
        workers.finished.set()
    interrupted = False
    try:
        for thread in threads:
            thread.start()
        try:
            while not workers.finished.wait(0.05):
                progress.drain(workers.done)
        except KeyboardInterrupt:
            interrupted = True
            workers.stop.set()
            logger.warning("interrupted: waiting for the requests in flight to finish")
            try:
                while not workers.finished.wait(0.1):
                    pass
            except KeyboardInterrupt:
                stuck = journal.recover()  # the workers' requests may still land: unknown
                for number in stuck:
                    registry.settled(number, UNKNOWN)
                logger.warning("stopped waiting; batches %s are unknown", stuck)
        progress.drain(workers.done)
    finally:
        progress.close()
    return interrupted


def _close_run(
    plan: Any,
    journal: Journal,
    workers: Workers,
    choice: _Choice,
    *,
    interrupted: bool,
    warnings: list[str],
) -> pd.DataFrame:
    """Note what an account code left unsent, build the results frame and its ``attrs``, and keep
    the run's facts in the journal (:func:`~smscampaign.read_journal` says them again)."""
    if workers.errors:
        raise workers.errors[0]
    if workers.abort is not None:
        left = workers.remaining()
        journal.record_many_planned(left, code=workers.abort.code, reason=workers.abort.reason)
    pending_reason = "interrupted before sending" if interrupted else "not sent"
    final = journal.batches()
    results = results_frame(
        plan.recipients, final, pending_reason=pending_reason, excluded=journal.excluded()
    )
    sent_now = _accepted(final) - choice.accepted_before
    facts = {
        "summary": summary_line(
            results, resumed=choice.resumed, accepted_before=choice.accepted_before, sent_now=sent_now
        ),
        "resumed": choice.resumed,
        "accepted_before": choice.accepted_before,
        "sent_now": sent_now,
    }
    results.attrs.update(
        fingerprint=plan.fingerprint,
        journal=None if journal.path == ":memory:" else journal.path,
        interrupted=interrupted,
        resumed=choice.resumed,
        accepted_before=choice.accepted_before,
        sent_now=sent_now,
        summary=facts["summary"],
        reconciliations=records(readings_shown(journal.reconciliations())),
        warnings=warnings + workers.warnings,
    )
    journal.record_run(facts)
    logger.info("campaign %s: %s", plan.fingerprint[:12], facts["summary"])
    if workers.halt is not None:  # the gateway answered nonsense again and again
        raise workers.halt
    return results
