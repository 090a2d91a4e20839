"""The account's balance: the preflight check, and ``reconcile="balance"`` (the default), which
settles unknowns by what the account was charged.

The gateway deducts one message per receiver when it accepts a request, and ``user_info`` tells
``sms_left``. So before a run, :func:`preflight` checks the balance covers what is left to send — that
one reading is also the baseline reconciliation compares with, so a run without unknowns reads the
balance once and waits for nothing; and when a request's outcome is unknown (a read timeout, a
connection lost after sending), two readings that agree tell :class:`Balance` whether that batch was
charged — accepted — or not — never sent, safe to send again. Safe only while nobody else sends
from or recharges the account: a movement it cannot explain leaves the batch unknown.

>>> preflight(gateway, 998, allow_partial=False, sleep=time.sleep, known=None)   # doctest: +SKIP
>>> sms_left(gateway, sleep=time.sleep)                                         # doctest: +SKIP
1500
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import pandas as pd

from smscampaign.core.codes import RETRYABLE
from smscampaign.core.errors import AccountError, GatewayError, InsufficientBalance
from smscampaign.memory.journal import UNKNOWN, Journal, Outcome
from smscampaign.wire.gateway import Gateway

__all__ = [
    "PREFLIGHT_NOTE",
    "Balance",
    "journal_reading",
    "preflight",
    "Reading",
    "account_reading",
    "readings_shown",
    "settleable",
    "sms_left",
]

logger = logging.getLogger(__name__)

#: Retries of each ``user_info`` reading of a settlement (the preflight's: :func:`account_reading`'s).
_SETTLE_RETRIES = 2

#: The note of the reading every run journals before sending (:func:`journal_reading`).
PREFLIGHT_NOTE = "start of run (preflight)"


#: A reading of the account: ``(sms_left, sms_send)`` — messages left, and messages the account has
#: sent in all (``None`` each when the gateway gives no number). Whatever the gateway charges for
#: a send moves both by the same amount; a recharge or a deduction outside the gateway moves only
#: ``sms_left``.
Reading = tuple[int | None, int | None]


def account_reading(gateway: Gateway, *, retries: int = 6, sleep: Callable[[float], object]) -> Reading:
    """``(sms_left, sms_send)`` from ``user_info``: a read, so transport failures and retryable codes
    are retried. :class:`AccountError` on a negative answer."""
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
        left, sent = info.fields.get("sms_left"), info.fields.get("sms_send")
        return (
            left if isinstance(left, int) else None,
            sent if isinstance(sent, int) and not isinstance(sent, bool) else None,
        )
    return None, None  # pragma: no cover - the loop returns or raises


def sms_left(gateway: Gateway, *, retries: int = 6, sleep: Callable[[float], object]) -> int | None:
    """``sms_left`` from ``user_info`` (see :func:`account_reading`); ``None`` when the gateway
    gives no number."""
    return account_reading(gateway, retries=retries, sleep=sleep)[0]


def _settled_reading(
    gateway: Gateway,
    settle: float,
    sleep: Callable[[float], object],
    enough: Callable[[Reading], bool] = lambda reading: False,
) -> Reading | None:
    """Two readings ``settle`` seconds apart that agree (up to four tries), or ``None`` if they
    never do (something else is moving the balance); the first at once if ``enough`` says so.
    Each reading is retried twice at most: a gateway that cannot answer ``user_info`` now (it
    answered the send ambiguously, too) does not hold the run up for long."""
    first = account_reading(gateway, retries=_SETTLE_RETRIES, sleep=sleep)
    if first[0] is not None and enough(first):
        return first
    for _ in range(4):
        sleep(settle)
        second = account_reading(gateway, retries=_SETTLE_RETRIES, sleep=sleep)
        if first[0] is not None and second == first:
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


class Balance:
    """``reconcile="balance"`` (the default): settle unknowns by what the account was charged.

    The gateway deducts one message per receiver when it accepts a request. After a reading
    (``sms_left`` = L, journal's accepted messages = T), the account should show L − (T' − T); what
    is missing beyond that was charged for the pending unknowns: exactly one subset of them adding up
    to it → those were accepted and the rest were not sent; nothing missing → none was sent.

    A batch is sent again only on that one explanation, and only when nothing at all was charged
    for the pending batches: another's send only ever adds a charge, so it can make a lost batch
    look accepted (someone misses a message) but never a sent one look lost — which a split verdict
    (some charged, some not) could, so its uncharged batches stay unknown. No verdict — the
    batches stay unknown — when the balance moved in a way the account's sends do not explain:
    ``sms_left`` and ``sms_send`` (messages sent in all) move by the same amount for every charged
    send, so a recharge, even one hidden under a larger deduction, or a deduction outside the
    gateway shows as a difference; or when the balance does not hold still between two readings,
    no earlier reading exists, or unsettled unknowns came since it; and never a resend when the
    gateway gives no ``sms_send`` to check the movement with. A movement someone else made
    switches reconciliation off for the rest of the run: waiting for a balance that never holds
    still is bounded to one settlement (``settle`` × 4 seconds).
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
        self.baseline_send: int | None = None  # sms_send at that reading
        self.baseline_at: str | None = None  # when it was taken (the journal's time text)
        # The last reading of any run, reconciled or not (a stop does not lose it: it is journaled).
        last = journal.last_reading()
        if last is not None:
            self.baseline = (int(last["sms_left"]), int(last["accepted_total"]))
            self.baseline_send = last["sms_send"]
            self.baseline_at = str(last["at"])

    def settle_pending(self, pending: dict[int, int]) -> tuple[list[int], list[int], str | None]:
        """(accepted batches, not-sent batches, warning) for ``pending`` (batch → messages sent)."""
        failure = None
        try:
            reading = _settled_reading(
                self.gateway, self.settle, self.sleep, lambda r: self._all_charged(r, pending)
            )
        except (GatewayError, AccountError) as exc:
            logger.info("balance: user_info failed (%s)", exc)  # the warning below says why
            reading, failure = None, f"user_info failed: {str(exc)[:200]}"
        total = self.journal.accepted_total()
        batches = sorted(pending)
        why = failure or self._no_baseline(reading, pending)
        if why is not None or reading is None:
            self.on = self.on and failure is None
            why = why or "the balance could not be read"
            self._journal(reading, None, None, batches, "ambiguous", why, total)
            # What these batches were charged is unknown: only a new reading can be a baseline.
            self._rebase(reading, total)
            return [], [], why
        left, sent = reading
        assert left is not None and self.baseline is not None
        base_left, counted = self.baseline
        expected = base_left - (total - counted)
        deducted = expected - left
        drift = self._drift(reading)
        subsets = _subsets(pending, deducted) if not drift else []
        if len(subsets) == 1 and len(subsets[0]) < len(pending) and not self._checkable(reading):
            subsets.append([])  # "not sent" cannot be told from a recharge hidden under a charge
        if len(subsets) == 1:
            accepted = subsets[0]
            rest = [b for b in batches if b not in accepted]
            verdict = "accepted" if not rest else "not_sent" if not accepted else "split"
            # The reading includes the charges of the batches it found accepted: so does its total.
            after = total + sum(pending[b] for b in accepted)
            why = None
            if accepted and rest:  # another's send of the right size would look the same
                why = (
                    f"batches {accepted} were charged and {rest} not, by the balance: someone else's "
                    f"send could look the same, so {rest} are not sent again"
                )
            self._journal(reading, expected, deducted, batches, verdict, why, after)
            self._rebase(reading, after)
            return accepted, [] if why else rest, why
        if subsets:  # more than one way to explain it: honest accounting, but no verdict
            why = f"{deducted} messages charged fit several of the batches {batches}"
            if not self._checkable(reading):
                why = "the gateway gives no sms_send: a recharge could hide a charge"
            self._journal(reading, expected, deducted, batches, "ambiguous", why, total)
            self._rebase(reading, total)  # this reading includes every charge so far
            return [], [], why
        if drift:
            why = (
                f"sms_left moved {drift:+d} beyond what the account sent since the last reading "
                "(a recharge, or a deduction outside the gateway): someone else is sending from "
                "or recharging it"
            )
        else:
            why = (
                f"the account was charged {deducted} messages for unknown batches of "
                f"{sum(pending.values())}: someone else is sending from or recharging it"
            )
        self._journal(reading, expected, deducted, batches, "inconsistent", why, total)
        self._rebase(reading, total)
        self.on = False
        return [], [], why

    def _no_baseline(self, reading: Reading | None, pending: dict[int, int]) -> str | None:
        """Why ``reading`` cannot be compared with the baseline (``None`` when it can)."""
        if reading is None:
            self.on = False  # someone else keeps moving it: do not wait for it again this run
            return "the balance could not be read, or did not hold still between two readings"
        if self.baseline is None:
            return "no earlier balance reading to compare with"
        others = self._unknown_since_baseline(pending)
        if others:
            return (
                f"batches {others[:10]} became unknown since the last reading, unsettled: what "
                "they were charged cannot be told apart"
            )
        return None

    def _drift(self, reading: Reading) -> int:
        """How far ``sms_left`` moved beyond what ``sms_send`` says the account sent since the
        baseline (0 when either reading lacks ``sms_send``): a recharge shows as more, a deduction
        outside the gateway as less, whatever else happened meanwhile."""
        left, sent = reading
        if sent is None or self.baseline_send is None or left is None or self.baseline is None:
            return 0
        return (left - self.baseline[0]) + (sent - self.baseline_send)

    def _all_charged(self, reading: Reading, pending: dict[int, int]) -> bool:
        """Whether ``reading`` already shows every pending batch charged, ``sms_send`` alike: the
        verdict resends nothing, so it need not wait for a second reading (a charge still on its
        way could only make a batch look not sent, never this)."""
        if self.baseline is None or not self._checkable(reading) or self._drift(reading):
            return False
        if self._unknown_since_baseline(pending):
            return False
        left = reading[0]
        expected = self.baseline[0] - (self.journal.accepted_total() - self.baseline[1])
        return left is not None and expected - left == sum(pending.values()) > 0

    def _checkable(self, reading: Reading) -> bool:
        """Whether both this reading and the baseline have ``sms_send`` (see :meth:`_drift`)."""
        return reading[1] is not None and self.baseline_send is not None

    def _rebase(self, reading: Reading | None, total: int) -> None:
        """Make ``reading`` (just journaled) the baseline, or forget the baseline."""
        if reading is None or reading[0] is None:
            self.baseline, self.baseline_send, self.baseline_at = None, None, None
            return
        self.baseline, self.baseline_send = (reading[0], total), reading[1]
        last = self.journal.last_reading()
        self.baseline_at = None if last is None else str(last["at"])

    def _unknown_since_baseline(self, pending: dict[int, int]) -> list[int]:
        """Unknown batches sent after the baseline reading that are not ``pending`` and may have
        been charged (no answer code): their charges are in the balance too, so the baseline cannot
        tell which of ``pending`` were charged (e.g. unknowns of a run without reconciliation)."""
        if self.baseline_at is None:
            return []
        state = self.journal.batches()
        found = state[
            (state["state"] == UNKNOWN)
            & state["code"].isna()
            & (state["sent_at"].fillna("") > self.baseline_at)
            & ~state["batch"].isin(list(pending))
        ]
        return [int(b) for b in found["batch"]]

    def adopt(self, reading: Reading | None) -> None:
        """Make ``reading`` — one the run took anyway and journaled (the preflight's,
        :func:`journal_reading`) — the baseline: a run without unknowns waits for nothing."""
        self._rebase(reading, self.journal.accepted_total())

    def _journal(
        self,
        reading: Reading | None,
        expected: int | None,
        deducted: int | None,
        batches: list[int],
        verdict: str,
        note: str | None,
        total: int,
    ) -> None:
        left, sent = reading if reading is not None else (None, None)
        self.journal.add_reconciliation(
            sms_left=left,
            expected=expected,
            deducted=deducted,
            batches=batches,
            verdict=verdict,
            note=note,
            accepted_total=total,
            sms_send=sent,
        )
        logger.info(
            "balance: sms_left %s, expected %s, charged %s for %s: %s",
            left,
            expected,
            deducted,
            batches,
            verdict,
        )


def journal_reading(journal: Journal, reading: Reading | None, note: str) -> None:
    """Journal a plain reading (a run's preflight): should the run stop with batches in flight, a
    later run with ``reconcile="balance"`` settles them against it."""
    if reading is not None and reading[0] is not None:
        journal.add_reconciliation(
            sms_left=reading[0],
            expected=None,
            deducted=None,
            batches=[],
            verdict="reading",
            note=note,
            accepted_total=journal.accepted_total(),
            sms_send=reading[1],
        )


def readings_shown(readings: pd.DataFrame) -> pd.DataFrame:
    """The journal's balance readings as ``results.attrs["reconciliations"]`` shows them: none when
    all are preflight readings of runs that did not reconcile (kept only as a later baseline)."""
    if (readings["note"] == PREFLIGHT_NOTE).all():
        return readings.iloc[0:0]
    return readings


def preflight(
    gateway: Gateway,
    needed: int,
    *,
    allow_partial: bool,
    sleep: Callable[[float], object],
    known: int | None,
) -> Reading | None:
    """Check the balance covers ``needed`` messages (``known``: a reading just taken); returns the
    reading it took (``None`` when ``known`` was given)."""
    reading = None if known is not None else account_reading(gateway, sleep=sleep)
    left = known if reading is None else reading[0]
    if left is None:
        logger.warning("user_info gave no numeric sms_left; balance not checked")
        return reading
    if left < needed:
        if not allow_partial:
            raise InsufficientBalance(
                f"the account has {left} messages left but the campaign needs {needed}; "
                "recharge, or pass allow_partial=True to send what the balance allows",
                needed=needed,
                available=left,
            )
        logger.warning("the account has %d messages left for %d: sending partially", left, needed)
    return reading


def settleable(outcome: Outcome) -> bool:
    """An unknown with no answer code: the balance can tell whether it was accepted (a −109 answer
    says it went out without a deduction, so it cannot be settled that way)."""
    return outcome.state == UNKNOWN and outcome.code is None
