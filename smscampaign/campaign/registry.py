"""The send registry's front for one run: what this run sends, recorded in the campaign home, and the
repeat check against what other journals sent.

The campaign home (:mod:`~smscampaign.memory.home`) records every message sent — number, content's
SHA-256, gateway, journal, status — across campaigns. A run records its own sends there
(:class:`Registry`) and, before sending, leaves out whoever already got the same content through the
same gateway from another journal (:func:`already_sent`): "never the same content twice". What it
is about to send it reserves first (:meth:`Registry.reserve`, driven by
:mod:`~smscampaign.campaign.reservations`), so that two runs at the same moment never both text one
person; a journal's name in the home is its :func:`journal_id`, kept in the file.

>>> already_sent(store, plan, [1, 2], journal_id=journal_id(book), gateway="sandbox://demo",
...              window=timedelta(hours=24))                             # doctest: +SKIP
[('13800138000', 1, 'already sent the same content at 2030-01-02 09:00 (Beijing) through …')]
"""

from __future__ import annotations

import logging
import queue
import threading
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import pandas as pd

from smscampaign.memory.home import Store, content_sha256
from smscampaign.memory.journal import ACCEPTED, FAILED, IN_FLIGHT, PLANNED, UNKNOWN, Journal
from smscampaign.wire.protocol import BEIJING

__all__ = ["Registry", "already_sent", "journal_id", "repeat_reason"]

logger = logging.getLogger(__name__)

#: Registry status of a journal state.
_REGISTRY_STATUS: Final[dict[str, str]] = {ACCEPTED: "accepted", UNKNOWN: "unknown", FAILED: "not_sent"}
#: What a reservation becomes when its batch is in a journal state (``None``: kept as it is — a
#: batch in flight); nothing sent (planned, failed) releases it.
_RESERVATION_STATUS: Final[dict[str, str | None]] = {
    ACCEPTED: "accepted",
    UNKNOWN: "unknown",
    IN_FLIGHT: None,
    PLANNED: "released",
    FAILED: "released",
}


class Registry:
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

    def reserve(self, batch: int, receivers: list[str], *, since: datetime) -> pd.DataFrame:
        """Reserve ``receivers`` of ``batch`` in the home, durably (see
        :mod:`~smscampaign.campaign.reservations`); returns the numbers another journal holds."""
        return self.store.reserve(
            gateway=self.gateway,
            content_sha256=self.sha[batch],
            mobiles=receivers,
            campaign=self.campaign,
            journal=self.journal,
            batch=batch,
            since=since,
        )

    def reserve_many(
        self, batches: list[tuple[int, list[str]]], *, since: datetime
    ) -> list[pd.DataFrame]:
        """:meth:`reserve` of several ``(batch, receivers)``: in one transaction (one fsync) where
        the store offers ``reserve_many`` (the SQLite home), else one after the other."""
        together = getattr(self.store, "reserve_many", None)
        if together is None:
            return [self.reserve(batch, receivers, since=since) for batch, receivers in batches]
        return list(
            together(
                [
                    {
                        "gateway": self.gateway,
                        "content_sha256": self.sha[batch],
                        "mobiles": receivers,
                        "campaign": self.campaign,
                        "journal": self.journal,
                        "batch": batch,
                        "since": since,
                    }
                    for batch, receivers in batches
                ]
            )
        )

    def settle_reservations(self, state: pd.DataFrame) -> None:
        """Bring this journal's reservations in line with the journal's batches ``state``: release
        what was never requested or provably not sent (a killed run's reservations ahead, a
        batch that failed), settle what was accepted or left unknown. Run at the start of a run
        (before any request) and at its end, when nothing is in flight and the writer is closed."""
        held = self.store.reservations_of(self.journal)
        if not held:
            return
        for number, st in zip(state["batch"].astype(int), state["state"], strict=True):
            status, wanted = held.get(number), _RESERVATION_STATUS.get(st)
            if status is not None and status != "released" and wanted not in (None, status):
                self.store.settle_reservations(journal=self.journal, batch=number, status=wanted)

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
                    if status in ("accepted", "unknown"):  # still holding the numbers
                        self.store.settle_reservations(journal=self.journal, batch=batch, status=status)
                except Exception as exc:  # noqa: BLE001 - the workers stop on it (Workers._claim)
                    if not self.errors:  # once: a full disk fails every write after the first
                        logger.debug("send registry: batch %d not recorded: %s", batch, exc)
                    self.errors.append(exc)

    def close(self) -> None:
        """Write what is queued and stop the writer."""
        self._closing.set()
        self._queue.put(None)
        self._thread.join()
        if self.errors:  # the run raised the first one, unless it came after the last request
            logger.info(
                "send registry: %d writes failed (the journal keeps the truth; the next run "
                "records them): %s",
                len(self.errors),
                self.errors[0],
            )


def journal_id(journal: Journal) -> str:
    """The journal's name in the registry and the reservations (:meth:`Journal.identity`): kept in
    the file, so a deleted or emptied journal at the same path is another journal."""
    return journal.identity()


def already_sent(
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
                out.append((mobile, int(number), repeat_reason(latest.loc[(mobile, key)], gateway)))
    return out


def repeat_reason(holder: Any, gateway: str) -> str:
    """Why a number is left out: who sent it (or holds it) the same content, when and how (a row of
    the registry or of the reservations: ``status``, ``at``, ``campaign``, ``journal``)."""
    when = holder["at"].tz_convert(BEIJING).strftime("%Y-%m-%d %H:%M")
    status = holder["status"]
    verb = {"accepted": "sent", "reserved": "being sent"}.get(status, f"possibly sent ({status})")
    return (
        f"already {verb} the same content at {when} (Beijing) through {gateway} "
        f"by campaign {holder['campaign'][:12]}… (journal {holder['journal']}); "
        "allow_repeat=True / --allow-repeat sends it again"
    )
