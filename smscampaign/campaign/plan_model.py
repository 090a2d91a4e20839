"""The Plan a planning run returns, and its Preview (a dry run): what will be sent, to whom, how.

:class:`Plan` is a frozen value: the recipients with their ``status`` and ``content``, the
batches (one per gateway call, built on first access), the fingerprint and the options that made
it. :meth:`Plan.preview` shows the first rows and the totals; nothing here sends or plans.

>>> import pandas as pd, smscampaign as sc
>>> plan = sc.plan_campaign(pd.DataFrame({"mobile": ["13800138000"], "status": "ok"}), "八折【小店】")
>>> plan.counts()["ready"], plan.requests
(1, 1)
"""

from __future__ import annotations

import copy
import html
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import pandas as pd

from smscampaign.campaign.batches import Batches
from smscampaign.core.errors import ConfigError
from smscampaign.core.statuses import OptionalPlanStatus, PlanStatus
from smscampaign.wire.protocol import sms_length

if TYPE_CHECKING:  # pragma: no cover - typing only
    from smscampaign.wire.gateway import Gateway

__all__ = ["BLOCKED", "STATUSES", "Plan", "Preview", "esc_kind"]

#: Every status a planned row can have, ``ready`` first; the rest in order of precedence for
#: ``ok`` rows (``invalid``/``duplicate`` come from :func:`check_numbers` or the final duplicate guard).
STATUSES: Final[tuple[str, ...]] = tuple(PlanStatus)
#: The status of rows an error finding of the content review blocks (plans with a ``kind`` only;
#: listed by :meth:`Plan.counts` when it occurs, so not one of :data:`STATUSES`).
BLOCKED: Final = OptionalPlanStatus.BLOCKED


class _BatchesField:
    """``Plan.batches``: the frame given, or the frame of the plan's :class:`Batches`, built on
    first access and kept — a plan that is only summarised never turns millions of numbers into
    Python lists. A descriptor-typed dataclass field, so ``Plan(batches=frame)`` works as before."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = f"_{name}"

    def __get__(self, plan: Plan | None, owner: Any = None) -> pd.DataFrame | _BatchesField:
        if plan is None:
            raise AttributeError("batches")  # for dataclasses: the field has no default
        value = plan.__dict__[self.slot]
        if isinstance(value, Batches):
            value = plan.__dict__[self.slot] = value.frame()
        return value

    def __set__(self, plan: Plan, value: pd.DataFrame | Batches) -> None:
        plan.__dict__[self.slot] = value

    @staticmethod
    def calls(plan: Plan) -> pd.DataFrame | Batches:
        """What the plan holds now, without building the frame."""
        return plan.__dict__["_batches"]


@dataclass(frozen=True, eq=False, repr=False)
class Plan:
    """What a campaign will send, to whom, in which calls — what it skips and why. Nothing is sent.

    - ``recipients``: one row per input row, in input order with the input index, columns and
      ``attrs``, plus ``status`` (see :data:`STATUSES`), ``reason`` (why skipped, or
      ``truncated …``), ``content`` (the exact text, signature included), ``length`` (as the
      gateway counts, ``Int64``), ``batch`` (``Int64``, ``<NA>`` unless ready). ``mobile`` is text.
    - ``batches``: one row per ``send_sms`` call, in sending order: ``batch`` (int, **numbered
      from 1**), ``content`` (str), ``receivers`` (list of str, ≤ ``batch_size``, no number
      twice), ``size`` (int), ``sendtime`` (``YYYY-MM-DD HH:MM:SS`` Beijing time, or ``None``).
      Built on first access and then kept (a plan only summarised never makes the lists).
    - ``fingerprint``: SHA-256 hex of the resolved batches (contents, receivers, order),
      ``charset`` and ``sendtime``: equal plans have equal fingerprints, in any process.
    - ``messages``: messages to be charged (one per ready recipient; every content fits one SMS).
    - ``kind`` (``marketing``, ``notification`` or ``None``), ``review`` (the findings of
      :func:`review_content` when a kind was given, else ``None``) and ``send_window`` (the daily
      window, Beijing time, :func:`send_campaign` keeps to when it is given none).

    >>> plan.summary()                                         # doctest: +SKIP
              status  recipients
    0          ready           1
    …
    """

    recipients: pd.DataFrame
    if TYPE_CHECKING:  # what users get; it takes a frame or (plan_campaign) the compact batches
        batches: pd.DataFrame
    else:
        batches: _BatchesField = _BatchesField()
    template: str
    signature: str | None
    charset: str
    sendtime: str | None
    max_length: int
    batch_size: int
    messages: int
    fingerprint: str
    kind: str | None = None
    review: pd.DataFrame | None = None
    send_window: tuple[str, str] | None = None

    @property
    def requests(self) -> int:
        """Gateway calls the plan needs (one per batch)."""
        return len(_BatchesField.calls(self))

    def __len__(self) -> int:
        return len(self.recipients)

    def to_frame(self) -> pd.DataFrame:
        """A copy of :attr:`recipients` (safe to modify)."""
        frame = self.recipients.copy()
        frame.attrs = copy.deepcopy(self.recipients.attrs)
        return frame

    def counts(self) -> dict[str, int]:
        """Recipients per status: every status of :data:`STATUSES` (zeros included), then any other
        status the input carried."""
        found = self.recipients["status"].value_counts(dropna=False)
        counts = {status: int(found.get(status, 0)) for status in STATUSES}
        for status, count in found.items():
            if status not in counts:
                counts[str(status)] = int(count)
        return counts

    def summary(self) -> pd.DataFrame:
        """Recipients per status as a small DataFrame ``status, recipients`` (all statuses, zeros
        included), with the totals in ``attrs``: ``recipients``, ``requests``, ``messages`` (to be
        charged), ``charset``, ``sendtime``, ``fingerprint``, ``kind``, ``review_errors`` and
        ``review_warnings`` (counts of :attr:`review` findings), ``send_window``.

        >>> plan.summary().attrs["messages"]                   # doctest: +SKIP
        1
        """
        counts = self.counts()
        table = pd.DataFrame({"status": list(counts), "recipients": list(counts.values())})
        table.attrs = {
            "recipients": len(self),
            "requests": self.requests,
            "messages": self.messages,
            "charset": self.charset,
            "sendtime": self.sendtime,
            "fingerprint": self.fingerprint,
            "kind": self.kind,
            "review_errors": self._findings("error"),
            "review_warnings": self._findings("warning"),
            "send_window": self.send_window,
        }
        return table

    def _findings(self, severity: str) -> int:
        if self.review is None:
            return 0
        return int((self.review["severity"] == severity).sum())

    def preview(
        self,
        n: int = 20,
        *,
        gateway: Gateway | None = None,
        workers: int = 1,
        rate_limit: float | None = None,
        seconds_per_request: float = 0.2,
    ) -> Preview:
        """A dry run: what each of the first ``n`` recipients will receive (or why not), with the
        totals — messages, requests, messages left after sending (asks ``gateway``'s account when
        one is given) and the time to send with ``workers`` and ``rate_limit`` (requests/s), each
        request taking ``seconds_per_request``. Nothing is sent.

        >>> plan.preview(3)                                    # doctest: +SKIP
        """
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ConfigError(f"n must be a whole number of recipients, not {n!r}")
        if workers < 1:
            raise ConfigError(f"workers must be at least 1, not {workers}")
        frame = self.recipients.head(n)
        rows = pd.DataFrame(
            {
                "row": (
                    frame["source_row"].to_numpy()
                    if "source_row" in frame.columns
                    else frame.index.to_numpy()
                ),
                "mobile": frame["mobile"].array,
                "status": frame["status"].array,
                "length": frame["length"].array,
                "content": frame["content"].array,
                "reason": frame["reason"].array,
            }
        )
        sms_left = None
        if gateway is not None:
            from smscampaign.campaign.account import account_info  # noqa: PLC0415 - only with a gateway

            sms_left = account_info(gateway).sms_left
        seconds = self.requests * seconds_per_request / workers
        if rate_limit:
            seconds = max(seconds, self.requests / rate_limit)
        return Preview(
            rows=rows,
            messages=self.messages,
            requests=self.requests,
            sms_left=sms_left,
            seconds=seconds,
            workers=workers,
            rate_limit=rate_limit,
        )

    def sample(self, n: int = 5) -> pd.DataFrame:
        """Up to ``n`` distinct contents in sending order, with their length and receivers."""
        calls = _BatchesField.calls(self)
        batches = calls.frame(receivers=False) if isinstance(calls, Batches) else calls
        firsts = batches.drop_duplicates("content").head(n)
        per_content = batches.groupby("content", sort=False)["size"].sum()
        return pd.DataFrame(
            {
                "content": firsts["content"].to_numpy(),
                "length": [sms_length(c) for c in firsts["content"]],
                "receivers": [int(per_content[c]) for c in firsts["content"]],
            }
        )

    def __repr__(self) -> str:
        skipped = len(self) - self.messages
        when = self.sendtime or "now"
        review = ""
        if self.review is not None:
            review = f"; review: {self._findings('error')} errors, {self._findings('warning')} warnings"
        return (
            f"<Plan {len(self)} recipients: {self.messages} ready, {skipped} skipped; "
            f"{self.requests} requests, {self.messages} messages, {self.charset}, send {when}{review}>"
        )

    def _repr_html_(self) -> str:
        esc = html.escape
        rows = "".join(
            f"<tr><td>{esc(status)}</td><td style='text-align:right'>{count:,}</td></tr>"
            for status, count in self.counts().items()
            if count or status == "ready"
        )
        sample = self.sample(5)
        samples = "".join(
            f"<tr><td>{esc(row.content)}</td><td style='text-align:right'>{row.length}</td>"
            f"<td style='text-align:right'>{row.receivers:,}</td></tr>"
            for row in sample.itertuples(index=False)
        )
        when = esc(self.sendtime + " (Beijing)") if self.sendtime else "now"
        return (
            "<div><strong>smscampaign plan</strong> — "
            f"{len(self):,} recipients, {self.requests:,} requests, "
            f"{self.messages:,} messages to be charged, charset {esc(self.charset)}, send {when}"
            "<table><thead><tr><th>status</th><th>recipients</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
            + (
                "<table><thead><tr><th>content</th><th>length</th><th>receivers</th></tr></thead>"
                f"<tbody>{samples}</tbody></table>"
                if samples
                else ""
            )
            + self._review_html()
            + f"<small>fingerprint {esc(self.fingerprint[:16])}…</small></div>"
        )

    def _review_html(self) -> str:
        if self.review is None:
            return ""
        if self.review.empty:
            return f"<p>review ({esc_kind(self.kind)}): no findings</p>"
        esc = html.escape
        body = "".join(
            f"<tr><td>{esc(str(r.severity))}</td><td>{esc(str(r.rule))}</td>"
            f"<td>{esc(str(r.message_zh))}<br><small>{esc(str(r.message_en))}</small></td>"
            f"<td style='text-align:right'>{'' if pd.isna(r.rows) else f'{int(r.rows):,}'}</td></tr>"
            for r in self.review.itertuples(index=False)
        )
        return (
            f"<p>review ({esc_kind(self.kind)}):</p><table><thead><tr><th>severity</th><th>rule</th>"
            f"<th>finding</th><th>rows</th></tr></thead><tbody>{body}</tbody></table>"
        )


def esc_kind(kind: str | None) -> str:
    return html.escape(kind or "")


@dataclass(frozen=True, repr=False)
class Preview:
    """A dry run of a plan (:meth:`Plan.preview`): ``rows`` (``row`` in the spreadsheet, ``mobile``,
    ``status``, ``length``, ``content``, ``reason``) and the totals."""

    rows: pd.DataFrame
    messages: int
    requests: int
    sms_left: int | None
    seconds: float
    workers: int
    rate_limit: float | None

    @property
    def sms_left_after(self) -> int | None:
        """Messages left on the account after sending (``None`` without a gateway)."""
        return None if self.sms_left is None else self.sms_left - self.messages

    def totals(self) -> str:
        """The totals as one line."""
        pace = f"{self.workers} worker{'s' if self.workers > 1 else ''}"
        if self.rate_limit:
            pace += f", at most {self.rate_limit:g} requests/s"
        line = (
            f"{self.messages:,} messages in {self.requests:,} requests; "
            f"about {_duration(self.seconds)} to send ({pace})"
        )
        if self.sms_left is not None:
            line += f"; {self.sms_left:,} messages left now, {self.sms_left_after:,} after"
        return line

    def __repr__(self) -> str:
        shown = self.rows.copy()
        shown["content"] = shown["content"].fillna("(" + shown["reason"].fillna("") + ")")
        table = shown.drop(columns="reason").to_string(index=False) if len(shown) else "(no rows)"
        return f"{table}\n{self.totals()}"

    def _repr_html_(self) -> str:
        return self.rows.to_html(index=False, na_rep="") + f"<p>{html.escape(self.totals())}</p>"


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"
