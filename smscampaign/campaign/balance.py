"""The account's balance: the preflight check, and ``reconcile="balance"``, which settles unknowns by
what the account was charged.

The gateway deducts one message per receiver when it accepts a request, and ``user_info`` tells
``sms_left``. So before a run, :func:`preflight` checks the balance covers what is left to send; and
when a request's outcome is unknown (a read timeout, a connection lost after sending), two readings
that agree tell :class:`Balance` whether that batch was charged — accepted — or not — never sent, safe
to send again. Safe only while nobody else sends from or recharges the account.

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
    "readings_shown",
    "settleable",
    "sms_left",
]

logger = logging.getLogger(__name__)

#: The note of the reading every run journals before sending (:func:`journal_reading`).
PREFLIGHT_NOTE = "start of run (preflight)"


def sms_left(gateway: Gateway, *, retries: int = 6, sleep: Callable[[float], object]) -> int | None:
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
    first = sms_left(gateway, sleep=sleep)
    for _ in range(4):
        sleep(settle)
        second = sms_left(gateway, sleep=sleep)
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


class Balance:
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
        self.baseline_at: str | None = None  # when it was taken (the journal's time text)
        # The last reading of any run, reconciled or not (a stop does not lose it: it is journaled).
        found = journal.reconciliations().dropna(subset=["sms_left"])
        if len(found):
            last = found.iloc[-1]
            self.baseline = (int(last["sms_left"]), int(last["accepted_total"]))
            self.baseline_at = str(last["at"])

    def settle_pending(self, pending: dict[int, int]) -> tuple[list[int], list[int], str | None]:
        """(accepted batches, not-sent batches, warning) for ``pending`` (batch → messages sent)."""
        try:
            reading = _settled_reading(self.gateway, self.settle, self.sleep)
        except (GatewayError, AccountError) as exc:
            logger.warning("balance: user_info failed (%s)", exc)
            reading = None
        total = self.journal.accepted_total()
        batches = sorted(pending)
        others = self._unknown_since_baseline(pending)
        if self.baseline is None or reading is None or others:
            why = (
                "the balance could not be read, or did not hold still between two readings"
                if reading is None
                else "no earlier balance reading to compare with"
                if self.baseline is None
                else f"batches {others[:10]} became unknown since the last reading, unsettled: "
                "what they were charged cannot be told apart"
            )
            self._journal(reading, None, None, batches, "ambiguous", why, total)
            # What these batches were charged is unknown: only a new reading can be a baseline.
            self.baseline = (reading, total) if reading is not None else None
            self.baseline_at = self._last_at()
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
            self.baseline, self.baseline_at = (reading, after), self._last_at()
            return accepted, rest, None
        # Whatever the verdict, this reading includes every charge so far: the next baseline.
        self.baseline = (reading, total)
        if subsets:  # more than one way to explain it: honest accounting, but no verdict
            why = f"{deducted} messages charged fit several of the batches {batches}"
            self._journal(reading, expected, deducted, batches, "ambiguous", why, total)
            self.baseline_at = self._last_at()
            return [], [], why
        why = (
            f"the account was charged {deducted} messages for unknown batches of "
            f"{sum(pending.values())}: someone else is sending from or recharging it"
        )
        self._journal(reading, expected, deducted, batches, "inconsistent", why, total)
        self.baseline_at = self._last_at()
        self.on = False
        return [], [], why

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

    def read(self, note: str) -> int | None:
        """A plain reading (start of a run): journaled as the new baseline."""
        reading = _settled_reading(self.gateway, self.settle, self.sleep)
        total = self.journal.accepted_total()
        self._journal(reading, None, None, [], "reading", note, total)
        if reading is not None:
            self.baseline, self.baseline_at = (reading, total), self._last_at()
        return reading

    def _last_at(self) -> str | None:
        """When the reading just journaled was taken."""
        found = self.journal.reconciliations()
        return str(found["at"].iloc[-1]) if len(found) else None

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


def journal_reading(journal: Journal, left: int | None, note: str) -> None:
    """Journal a plain reading (a run's preflight): should the run stop with batches in flight, a
    later run with ``reconcile="balance"`` settles them against it."""
    if left is not None:
        journal.add_reconciliation(
            sms_left=left,
            expected=None,
            deducted=None,
            batches=[],
            verdict="reading",
            note=note,
            accepted_total=journal.accepted_total(),
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
) -> int | None:
    """Check the balance covers ``needed`` messages (``known``: a reading just taken); returns the
    reading (``None`` when the gateway gives no number)."""
    left = known if known is not None else sms_left(gateway, sleep=sleep)
    if left is None:
        logger.warning("user_info gave no numeric sms_left; balance not checked")
        return None
    if left < needed:
        if not allow_partial:
            raise InsufficientBalance(
                f"the account has {left} messages left but the campaign needs {needed}; "
                "recharge, or pass allow_partial=True to send what the balance allows",
                needed=needed,
                available=left,
            )
        logger.warning("the account has %d messages left for %d: sending partially", left, needed)
    return left


def settleable(outcome: Outcome) -> bool:
    """An unknown with no answer code: the balance can tell whether it was accepted (a −109 answer
    says it went out without a deduction, so it cannot be settled that way)."""
    return outcome.state == UNKNOWN and outcome.code is None
