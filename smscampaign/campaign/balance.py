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
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final

import pandas as pd

from smscampaign.core.codes import RETRYABLE
from smscampaign.core.errors import AccountError, GatewayError, InsufficientBalance
from smscampaign.memory.journal import UNKNOWN, Journal, Outcome
from smscampaign.wire.gateway import Gateway

__all__ = [
    "CLOCK_MARGIN",
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

#: Seconds by which another run's reservation or settlement time must clear a reading to count as
#: before or after it: the analysts' clocks may differ by this much, and a reading is journaled a
#: moment after the gateway took it. Closer than that, its batch may or may not be in the window.
CLOCK_MARGIN: Final = 2.0
#: Steps the search for explanations may take (as many as 20 batches of one's own need) before it
#: gives up: too many other runs' batches may have been charged to tell.
_SEARCH_STEPS: Final = 1 << 20
#: Settlements in a row that other runs known to the home keep from holding still, before
#: reconciliation is switched off for the rest of the run: waiting stays bounded.
_PATIENCE: Final = 3


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


class _TooMany(Exception):
    """The search for explanations ran out of steps."""


def _explanations(
    own: dict[int, int], maybe: dict[int, int], target: int, limit: int = 2
) -> list[list[int]] | None:
    """Up to ``limit`` ways in which some of ``own`` pending batches (batch → messages) and some of
    other runs' batches that may have been charged (``maybe``: size → how many batches) add up to
    ``target``: the own batches of each way (ways that differ only in the others' batches count
    apart; batches of one size cannot be told apart, so which of them does not). ``None`` when the
    search would take too long to tell."""
    if not maybe:
        return _subsets(own, target, limit)
    sizes = sorted(maybe, reverse=True)
    if len(own) > 20 or len(sizes) > 200:
        return [] if len(own) > 20 else None  # more own batches: as _subsets, the balance cannot tell
    reach = [sum(size * maybe[size] for size in sizes[j:]) for j in range(len(sizes) + 1)]
    items = sorted(own.items())
    found: list[list[int]] = []
    steps = [0]

    def step() -> None:
        steps[0] += 1
        if steps[0] > _SEARCH_STEPS:
            raise _TooMany

    def theirs(j: int, left: int) -> int:  # ways (up to limit) for sizes[j:] to make ``left``
        step()
        if left == 0:
            return 1
        if j == len(sizes) or left > reach[j]:
            return 0
        ways = 0
        for k in range(min(maybe[sizes[j]], left // sizes[j]) + 1):
            ways += theirs(j + 1, left - k * sizes[j])
            if ways >= limit:
                break
        return ways

    def walk(i: int, left: int, chosen: list[int]) -> None:
        step()
        if len(found) >= limit or left < 0:
            return
        if i == len(items):
            found.extend([list(chosen)] * min(theirs(0, left), limit - len(found)))
            return
        batch, size = items[i]
        walk(i + 1, left - size, [*chosen, batch])
        walk(i + 1, left, chosen)

    try:
        walk(0, target, [])
    except _TooMany:
        return None
    return found


@dataclass(frozen=True)
class _Others:
    """The batches of other runs known to the campaign home between the baseline and a reading:
    those surely charged in between, and those that may have been."""

    charged: int = 0  # messages of the batches surely charged
    batches: int = 0  # how many batches those are
    maybe: dict[int, int] = field(default_factory=dict)  # size → batches that may have been

    @property
    def known(self) -> bool:
        return bool(self.batches or self.maybe)

    def note(self) -> str:
        text = f"{self.batches} batches of other runs ({self.charged:,} messages) accounted for"
        if self.maybe:
            messages = sum(size * n for size, n in self.maybe.items())
            text += (
                f", {sum(self.maybe.values())} more ({messages:,} messages) may or may not have "
                "been charged meanwhile"
            )
        return text


def _others_within(frame: pd.DataFrame, since: datetime, lo: datetime, hi: datetime) -> _Others:
    """Of other runs' reserved batches (``Store.reservations_since``), those charged between a
    baseline taken by ``since`` and a reading whose request left after ``lo`` and was answered by
    ``hi``. A batch is charged after its reservation and, once accepted, before its settlement:
    accepted, reserved after the baseline and settled before the reading → surely charged in
    between; released, settled before the baseline or reserved after the reading → not; any other
    (reserved or unknown still, or within :data:`CLOCK_MARGIN` of either reading) → maybe."""
    margin = pd.Timedelta(seconds=CLOCK_MARGIN)
    start, lo_, hi_ = pd.Timestamp(since), pd.Timestamp(lo), pd.Timestamp(hi)
    at, settled, status = frame["at"], frame["settled_at"], frame["status"]
    outside = (status == "released") | (settled < start - margin) | (at > hi_ + margin)
    surely = ~outside & (status == "accepted") & (at > start + margin) & (settled < lo_ - margin)
    maybe = ~outside & ~surely & (frame["size"] > 0)
    counts = frame.loc[maybe, "size"].value_counts()
    return _Others(
        charged=int(frame.loc[surely, "size"].sum()),
        batches=int(surely.sum()),
        maybe={int(size): int(n) for size, n in counts.items()},
    )


@dataclass
class _Taken:
    """A reading, between the moment its request left (``lo``, or earlier) and its answer (``hi``);
    what it tells of the pending batches is worked out once (:meth:`Balance._explained`)."""

    reading: Reading
    lo: datetime
    hi: datetime
    explained: _Explained | None = None


@dataclass(frozen=True)
class _Explained:
    """What a reading tells of the pending batches, against the baseline."""

    total: int  # the journal's accepted messages when it was worked out
    expected: int  # sms_left the account's known sends leave
    deducted: int  # what is missing beyond that
    drift: int  # see Balance._drift
    found: list[list[int]] | None  # the pending batches charged, per explanation (2 at most)
    others: _Others


def _timed_reading(gateway: Gateway, sleep: Callable[[float], object]) -> _Taken:
    """A settlement's reading (retried twice at most), with when it was taken."""
    lo = datetime.now(UTC)
    reading = account_reading(gateway, retries=_SETTLE_RETRIES, sleep=sleep)
    return _Taken(reading, lo, datetime.now(UTC))


def _joined(*notes: str | None) -> str | None:
    return "; ".join(n for n in notes if n) or None


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

    Colleagues sending from the same account through the campaign home (``others``: their
    reserved batches on the same registry key, :meth:`~smscampaign.memory.home.Store.
    reservations_since`) are accounted for. A batch is charged after it is reserved and, once
    accepted, before it is settled: theirs accepted, reserved after the baseline and settled before
    the reading were surely charged in between, and join what the account's known sends take; those
    settled before the baseline, reserved after the reading or released were not; any other —
    reserved or unknown still, or within :data:`CLOCK_MARGIN` of either reading (clocks differ) —
    may or may not have been, and the explanation is searched among the pending batches and those
    together: still exactly one must fit, or no verdict (and a search too long to finish gives
    none either). Two readings that differ hold still enough when both tell the same one
    explanation of the pending batches while such colleagues' batches are about: a charge of a
    pending batch landing in between would change it. A movement they explain never switches
    reconciliation off, except after :data:`_PATIENCE` settlements in a row without a verdict; a
    sender outside the home moves the balance as anyone else does.
    """

    def __init__(
        self,
        gateway: Gateway,
        journal: Journal,
        settle: float,
        sleep: Callable[[float], object],
        *,
        others: Callable[[datetime], pd.DataFrame] | None = None,
    ) -> None:
        self.gateway = gateway
        self.journal = journal
        self.settle = settle
        self.sleep = sleep
        self.others = others  # since → other runs' reserved batches (the campaign home's)
        self.on = True
        self.restless = 0  # settlements in a row that colleagues' sends kept from holding still
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
        failure, moving = None, False
        try:
            taken, moving = self._settled(pending)
        except (GatewayError, AccountError) as exc:
            logger.info("balance: user_info failed (%s)", exc)  # the warning below says why
            taken, failure = None, f"user_info failed: {str(exc)[:200]}"
        reading = None if taken is None else taken.reading
        total = self.journal.accepted_total()
        why = failure or self._no_baseline(reading, pending, moving)
        if why is not None or taken is None:
            self.on = self.on and failure is None
            why = why or "the balance could not be read"
            self._journal(reading, None, None, sorted(pending), "ambiguous", why, total)
            # What these batches were charged is unknown: only a new reading can be a baseline.
            self._rebase(reading, total)
            return [], [], why
        self.restless = 0
        return self._verdict(taken, pending)

    def _verdict(
        self, taken: _Taken, pending: dict[int, int]
    ) -> tuple[list[int], list[int], str | None]:
        """Settle ``pending`` by ``taken``, a reading that held still (see :meth:`settle_pending`)."""
        reading, batches = taken.reading, sorted(pending)
        told = self._explained(taken, pending)
        total, expected, deducted, drift = told.total, told.expected, told.deducted, told.drift
        others = told.others.note() if told.others.known else None
        if told.found is None:
            why = f"too many batches of other runs may have been charged to tell which of {batches} were"
            self._journal(reading, expected, deducted, batches, "ambiguous", _joined(why, others), total)
            self._rebase(reading, total)
            return [], [], why
        subsets = list(told.found)
        if len(subsets) == 1 and len(subsets[0]) < len(pending) and not self._checkable(reading):
            subsets.append([])  # "not sent" cannot be told from a recharge hidden under a charge
        if len(subsets) == 1:
            accepted = subsets[0]
            rest = [b for b in batches if b not in accepted]
            verdict = "accepted" if not rest else "not_sent" if not accepted else "split"
            # The reading includes the charges of the batches it found accepted: so does its total.
            after = total + sum(pending[b] for b in accepted)
            split: str | None = None
            if accepted and rest:  # another's send of the right size would look the same
                split = (
                    f"batches {accepted} were charged and {rest} not, by the balance: someone else's "
                    f"send could look the same, so {rest} are not sent again"
                )
            self._journal(reading, expected, deducted, batches, verdict, _joined(split, others), after)
            self._rebase(reading, after)
            return accepted, [] if split else rest, split
        if subsets:  # more than one way to explain it: honest accounting, but no verdict
            why = f"{deducted} messages charged fit several of the batches {batches}"
            if told.others.maybe:
                why += " and of other runs"
            if not self._checkable(reading):
                why = "the gateway gives no sms_send: a recharge could hide a charge"
            self._journal(reading, expected, deducted, batches, "ambiguous", _joined(why, others), total)
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
        self._journal(reading, expected, deducted, batches, "inconsistent", _joined(why, others), total)
        self._rebase(reading, total)
        self.on = False
        return [], [], why

    def _settled(self, pending: dict[int, int]) -> tuple[_Taken | None, bool]:
        """A reading that holds still — two readings ``settle`` seconds apart that agree (up to four
        tries), or that tell the same one explanation of ``pending`` while colleagues' batches are
        about (see the class) — or the first at once if it shows every pending batch charged.
        ``(None, moving)`` if none does; ``moving``: colleagues' batches explained the movement.
        Each reading is retried twice at most: a gateway that cannot answer ``user_info`` now (it
        answered the send ambiguously, too) does not hold the run up for long."""
        first = _timed_reading(self.gateway, self.sleep)
        if first.reading[0] is not None and self._all_charged(first, pending):
            return first, False
        moving = False
        for _ in range(4):
            self.sleep(self.settle)
            second = _timed_reading(self.gateway, self.sleep)
            if first.reading[0] is not None and second.reading == first.reading:
                return first, False
            if self._same_explanation(first, second, pending):
                return second, False
            moving = moving or self._moved_by_others(second, pending)
            first = second
        return None, moving

    def _comparable(self, taken: _Taken) -> bool:
        """Whether colleagues' batches may explain ``taken`` (a baseline and a number to compare)."""
        return self.others is not None and self.baseline is not None and taken.reading[0] is not None

    def _same_explanation(self, first: _Taken, second: _Taken, pending: dict[int, int]) -> bool:
        """Whether two readings that differ each tell the same one explanation of ``pending``, with
        colleagues' batches about in both windows."""
        if not (self._comparable(first) and self._comparable(second)):
            return False
        one, two = self._explained(first, pending), self._explained(second, pending)
        known = one.others.known and two.others.known
        return known and one.found is not None and len(one.found) == 1 and one.found == two.found

    def _moved_by_others(self, taken: _Taken, pending: dict[int, int]) -> bool:
        """Whether colleagues' batches may explain how the balance stands at ``taken``."""
        if not self._comparable(taken):
            return False
        told = self._explained(taken, pending)
        return told.others.known and not told.drift and told.found != []

    def _explained(self, taken: _Taken, pending: dict[int, int]) -> _Explained:
        """What ``taken`` tells of ``pending`` against the baseline (worked out once)."""
        if taken.explained is None:
            left = taken.reading[0]
            assert left is not None and self.baseline is not None
            total = self.journal.accepted_total()
            others = self._others_within(taken)
            base_left, counted = self.baseline
            expected = base_left - (total - counted) - others.charged
            drift = self._drift(taken.reading)
            found = [] if drift else _explanations(pending, others.maybe, expected - left)
            taken.explained = _Explained(total, expected, expected - left, drift, found, others)
        return taken.explained

    def _others_within(self, taken: _Taken) -> _Others:
        """Colleagues' batches between the baseline and ``taken`` (none without ``others``)."""
        if self.others is None or self.baseline_at is None:
            return _Others()
        since = datetime.fromisoformat(self.baseline_at)
        frame = self.others(since - timedelta(seconds=CLOCK_MARGIN))
        return _others_within(frame, since, taken.lo, taken.hi)

    def _no_baseline(self, reading: Reading | None, pending: dict[int, int], moving: bool) -> str | None:
        """Why ``reading`` cannot be compared with the baseline (``None`` when it can)."""
        if reading is None and moving and self.restless < _PATIENCE - 1:
            self.restless += 1
            return (
                "the balance kept moving by what other runs known to the campaign home may have "
                "been charged: no one explanation held between two readings"
            )
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

    def _all_charged(self, taken: _Taken, pending: dict[int, int]) -> bool:
        """Whether ``taken`` already shows every pending batch charged, ``sms_send`` alike: the
        verdict resends nothing, so it need not wait for a second reading (a charge still on its
        way could only make a batch look not sent, never this). With colleagues' batches about,
        only as the one explanation."""
        reading = taken.reading
        if self.baseline is None or not self._checkable(reading) or self._drift(reading):
            return False
        if self._unknown_since_baseline(pending):
            return False
        told = self._explained(taken, pending)
        if told.others.known:
            return told.found == [sorted(pending)] and sum(pending.values()) > 0
        return told.deducted == sum(pending.values()) > 0

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
