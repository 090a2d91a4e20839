"""The send engine: send a :class:`~smscampaign.Plan` through a gateway, never twice.

This gateway has no idempotency key and no delivery reports: a request that timed out may or may not
have gone out. :func:`send_campaign` therefore journals every batch
(see :mod:`~smscampaign.memory.journal`), retries only what provably was not sent, and reports
honestly, per recipient, what it knows.

The engine's parts, each a module of :mod:`smscampaign.campaign`: ``options`` (the keywords,
checked), ``engine`` (the run, phase by phase), ``attempt`` (one request and its outcome),
``workers`` (the sending threads), ``balance`` (preflight and ``reconcile="balance"``),
``registry`` (the campaign home's send registry), ``results`` (the results frame).

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

import os
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Final, Literal

import pandas as pd

from smscampaign.campaign.balance import readings_shown
from smscampaign.campaign.engine import run_campaign
from smscampaign.campaign.options import Clock as Clock
from smscampaign.campaign.options import SendOptions
from smscampaign.campaign.results import records, results_frame
from smscampaign.core.codes import ACCOUNT as ACCOUNT
from smscampaign.core.columns import LEAD_COLUMNS, TECHNICAL_COLUMNS
from smscampaign.core.errors import JournalError
from smscampaign.core.statuses import ResultStatus
from smscampaign.memory.journal import ACCEPTED as ACCEPTED
from smscampaign.memory.journal import FAILED as FAILED
from smscampaign.memory.journal import IN_FLIGHT as IN_FLIGHT
from smscampaign.memory.journal import PLANNED as PLANNED
from smscampaign.memory.journal import Journal

if TYPE_CHECKING:  # pragma: no cover - typing only
    from smscampaign.campaign.plan import Plan
    from smscampaign.wire.gateway import Gateway

__all__ = ["RESULT_COLUMNS", "RESULT_STATUSES", "read_journal", "send_campaign"]

#: The results frame's own columns, in order: what a person reads first (name-like columns of the
#: plan go right after ``source_row``), then the technical ones; the plan's other columns follow.
#: The order is :func:`smscampaign.core.columns.arrange`'s.
RESULT_COLUMNS: Final = (*LEAD_COLUMNS, *TECHNICAL_COLUMNS)
#: Statuses of ready rows after sending (rows that were never ready keep their plan status).
RESULT_STATUSES: Final[tuple[str, ...]] = tuple(ResultStatus)
#: What each run keeps in its journal and :func:`read_journal` puts back in ``attrs``.
_RUN_FACTS: Final = ("summary", "resumed", "accepted_before", "sent_now")


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
    reconcile: Literal["balance"] | None = "balance",
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
      A name that is not an ``http(s)://`` URL never matches a real gateway's sends. Each batch's
      numbers are **reserved** in the home before its request: whoever another run holds is left
      out; a home that cannot be written stops the run with :class:`HomeError` (re-run: resumes).
    - **Preflight**: ``user_info`` first (retried: it only reads); if ``sms_left`` is below the
      messages still to send, raise :class:`InsufficientBalance` (nothing is sent) unless
      ``allow_partial``. A negative answer raises :class:`AccountError`.
    - **Retries**: at most ``max_retries`` per batch and call, exponential backoff from
      ``retry_backoff`` seconds with jitter, only for ``retryable`` codes and failures that provably
      never reached the gateway (connection refused, DNS, connect timeout). An ``account`` code stops
      the campaign: that batch and all not yet sent become ``not_sent`` with the code's reason. A
      ``request`` code fails that batch only.
    - **Unknowns settled by the balance** (``reconcile="balance"``, the default; ``None`` turns it
      off): the preflight's reading is the baseline, so a run without unknowns waits for nothing.
      When an outcome is unknown, dispatch pauses, the requests in flight finish and the balance
      decides: the batch's size charged → ``accepted`` ("settled by balance") at once; nothing, on a
      second reading ``settle`` seconds later → not sent, retried. A batch is resent only when
      exactly one explanation fits (``sms_left`` and ``sms_send`` moved alike); else it stays
      ``unknown``, and a movement someone else made (a recharge, a colleague) switches reconciliation
      off for the run with a warning, after one wait of at most 4 × ``settle``. A killed run's
      batches are settled on the next start. Readings, verdicts: ``results.attrs["reconciliations"]``.
      ``sleep`` (default: an interruptible wait) waits between readings and outside the send window.
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
    options = SendOptions.from_keywords(
        plan,
        gateway,
        workers=workers,
        rate_limit=rate_limit,
        max_retries=max_retries,
        resend_unknown=resend_unknown,
        allow_partial=allow_partial,
        send_window=send_window,
        progress=progress,
        retry_backoff=retry_backoff,
        clock=clock,
        allow_repeat=allow_repeat,
        repeat_window=repeat_window,
        reconcile=reconcile,
        settle=settle,
        sleep=sleep,
        registry_key=registry_key,
    )
    return run_campaign(plan, gateway, options, journal=journal, home=home, name=name)


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
        results = results_frame(
            recipients, journal.batches(), pending_reason="not sent", excluded=journal.excluded()
        )
        results.attrs.update(
            fingerprint=journal.fingerprint,
            journal=str(path),
            interrupted=False,
            reconciliations=records(readings_shown(journal.reconciliations())),
        )
        last = journal.last_run()  # what the last finished run printed (resumed: … sent now …)
        results.attrs.update({k: last[k] for k in _RUN_FACTS if k in last})
        return results
