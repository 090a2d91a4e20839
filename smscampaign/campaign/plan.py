"""Plan a campaign: who gets which exact content in which gateway call, who is skipped and why.

:func:`plan_campaign` turns checked recipients and one template into a :class:`Plan` — nothing
is sent. Every input row gets a ``status`` (``ready`` or the reason it is skipped) and ``ready``
rows that share a content are grouped into batches of at most 500 receivers, one gateway
``send_sms`` call each.

>>> import pandas as pd, smscampaign as sc
>>> people = pd.DataFrame(
...     {"mobile": ["13800138000", "13900139000"], "status": "ok", "姓名": ["张三", ""]}
... )
>>> plan = sc.plan_campaign(people, "{姓名}您好，会员日全场八折", signature="小店")
>>> plan.recipients[["mobile", "status", "content"]].to_dict("records")[0]
{'mobile': '13800138000', 'status': 'ready', 'content': '张三您好，会员日全场八折【小店】'}
>>> plan.recipients["status"].tolist()
['ready', 'missing_field']
"""

from __future__ import annotations

import copy
import hashlib
import html
import logging
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Literal, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from smscampaign.core.allocator import release_memory
from smscampaign.core.errors import ConfigError, PlanError, TemplateError
from smscampaign.core.statuses import OptionalPlanStatus, PlanStatus
from smscampaign.stages.numbers import TEXT, _sorted_runs
from smscampaign.stages.review import KINDS, Kind, Lexicon, RowReview, load_lexicon, review_rows
from smscampaign.stages.templates import (
    Template,
    astral_counts,
    field_text,
    parse_template,
    render_bodies,
    resolve_columns,
    sms_lengths,
    split_opt_out,
    split_signature,
    truncate_sms,
)
from smscampaign.wire.protocol import (
    MAX_LENGTH,
    MAX_NUMBERS,
    in_window,
    parse_time,
    parse_window,
    python_codec,
    resolve_sendtime,
    sms_length,
    unencodable_characters,
)

if TYPE_CHECKING:  # pragma: no cover - typing only
    from smscampaign.wire.gateway import Gateway

__all__ = [
    "BLOCKED",
    "MARKETING_WINDOW",
    "MAX_CONTENT_LENGTH",
    "MAX_RECEIVERS",
    "STATUSES",
    "Plan",
    "Preview",
    "load_suppression",
    "plan_campaign",
    "resolve_sendtime",
]

logger = logging.getLogger(__name__)

#: The gateway's limits: characters per content (−118) and numbers per request (−117).
MAX_CONTENT_LENGTH: Final = MAX_LENGTH
MAX_RECEIVERS: Final = MAX_NUMBERS
#: Every status a planned row can have, ``ready`` first; the rest in order of precedence for
#: ``ok`` rows
#: (``invalid``/``duplicate`` come from :func:`check_numbers` or the final duplicate guard).
STATUSES: Final[tuple[str, ...]] = tuple(PlanStatus)
#: The status of rows an error finding of the content review blocks (plans with a ``kind`` only;
#: listed by :meth:`Plan.counts` when it occurs, so not one of :data:`STATUSES`).
BLOCKED: Final = OptionalPlanStatus.BLOCKED
_STATUS_NAMES: Final = (*STATUSES, BLOCKED)
_READY, _INVALID, _DUPLICATE, _SUPPRESSED, _MISSING, _UNENCODABLE, _TOO_LONG, _BLOCKED = range(
    len(_STATUS_NAMES)
)
OnTooLong = Literal["skip", "error", "truncate"]
_ON_TOO_LONG: Final = ("skip", "error", "truncate")
ReviewMode = Literal["block", "warn"]
_REVIEW_MODES: Final = ("block", "warn")
#: Marketing texts go out only in this daily window, Beijing time, unless the plan says otherwise.
MARKETING_WINDOW: Final = ("08:00", "21:00")
_FINGERPRINT_VERSION: Final = b"smscampaign-plan-v1"
_LOOKS_LIKE_NUMBER: Final = re.compile(r"^\+?[\d\s()\-]{5,}$")
_NULL_STR: Final = pa.scalar(None, pa.string())


# -- suppression -----------------------------------------------------------------------------------


def load_suppression(suppress: Any) -> pd.Series:
    """The numbers of a suppression source, as written (matching normalises them).

    The one place suppression sources are read: numbers (a list, set, Series or any iterable), a
    DataFrame (its ``mobile`` column, else its phone column), a path :func:`load_recipients`
    can read, or an earlier campaign's journal (everyone it accepted or left unknown). A single
    string that looks like a number is refused (pass a list).

    >>> load_suppression(["13800000001"]).tolist()
    ['13800000001']
    """
    if isinstance(suppress, str | os.PathLike):  # a file: every kind of file source is read here
        if (
            isinstance(suppress, str)
            and _LOOKS_LIKE_NUMBER.match(suppress.strip())
            and not os.path.exists(suppress)
        ):
            raise PlanError(
                f"suppress={suppress!r} is read as a file path; "
                f"pass numbers as a list, e.g. [{suppress!r}]"
            )
        from smscampaign.memory.journal import is_journal, journal_mobiles  # noqa: PLC0415
        from smscampaign.stages.recipients import load_recipients  # noqa: PLC0415 (written alongside)

        if is_journal(suppress):  # an earlier campaign: whoever it accepted or left unknown
            return journal_mobiles(suppress)
        suppress = load_recipients(suppress)
    if isinstance(suppress, pd.DataFrame):
        column = "mobile" if "mobile" in suppress.columns else suppress.attrs.get("phone_column")
        if column is None or column not in suppress.columns:
            from smscampaign.stages.recipients import load_recipients  # noqa: PLC0415

            suppress = load_recipients(suppress)  # detects the phone column, or says there is none
            column = suppress.attrs["phone_column"]
        return suppress[column]
    if isinstance(suppress, pd.Series):
        return suppress
    if isinstance(suppress, Iterable) and not isinstance(suppress, bytes | Mapping):
        return pd.Series(list(suppress), dtype=object)
    raise PlanError(
        "suppress must be numbers (a list, set, Series), a DataFrame with 'mobile', "
        "or a file path; "
        f"got {type(suppress).__name__}"
    )


def _number_keys(values: pd.Series) -> tuple[pa.Array, pa.Array]:
    """(normalised numbers, raw stripped text) for matching; nulls where there is none."""
    from smscampaign.stages.numbers import normalize_numbers  # noqa: PLC0415 (written alongside)

    raw = field_text(values.reset_index(drop=True))
    normalized = field_text(pd.Series(normalize_numbers(values), copy=False).reset_index(drop=True))
    return normalized, raw


def _suppressed_mask(
    mobiles: pd.Series, candidates: np.ndarray, numbers: pd.Series | None
) -> np.ndarray:
    """Rows among ``candidates`` whose number (normalised, or as written) is in ``numbers``."""
    mask = np.zeros(len(mobiles), dtype=bool)
    if numbers is None:
        return mask
    listed_norm, listed_raw = _number_keys(numbers)
    keys = pa.concat_arrays([listed_norm, listed_raw]).drop_null().unique()
    logger.debug("suppression list: %d distinct keys", len(keys))
    if len(keys) == 0 or not candidates.any():
        return mask
    idx = np.flatnonzero(candidates)
    norm, raw = _number_keys(mobiles.iloc[idx])
    hit = pc.or_(pc.is_in(norm, value_set=keys), pc.is_in(raw, value_set=keys))
    mask[idx] = pc.fill_null(hit, False).to_numpy(zero_copy_only=False)
    return mask


# -- the plan -------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class _Batches:
    """The batches as a few arrays: batch ``i`` (from 0) sends ``contents[i]`` to the numbers
    ``numbers[rows[offsets[i]:offsets[i + 1]]]``. :meth:`frame` is the public frame.

    ``numbers`` is the plan's own (immutable) Arrow array of every row's number — the very buffers
    of the recipients' ``mobile`` column when it was read in place — and ``sending`` says which
    rows go in which order: their positions (int32 below 2**31 rows), or with ``packed`` one bit
    per row (:func:`numpy.packbits`) when the rows go in row order (one content). 4 bytes, or one
    bit, a receiver instead of a copy of each number (10M rows: 0.03 or 0.001 GB, not 0.12)."""

    contents: pa.Array
    numbers: pa.Array
    sending: np.ndarray
    packed: bool
    offsets: np.ndarray
    sendtime: str | None

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def rows(self) -> np.ndarray:
        """The positions of the receivers in sending order."""
        if self.packed:
            return np.flatnonzero(np.unpackbits(self.sending, count=len(self.numbers)))
        return self.sending

    @property
    def receivers(self) -> pa.Array:
        """Every batch's numbers, one after the other (``offsets`` cut them)."""
        return self.numbers.take(pa.array(self.rows))

    def frame(self, *, receivers: bool = True) -> pd.DataFrame:
        """``batch, content, receivers, size, sendtime`` (``receivers`` as lists of str — a
        Python string per number: ~1 s and ~70 B a number; left out with ``receivers=False``)."""
        count = len(self)
        columns: dict[str, Any] = {
            "batch": np.arange(1, count + 1, dtype=np.int64),
            "content": pd.Series(pd.array(self.contents, dtype=TEXT)),
        }
        if receivers:
            lists = pa.LargeListArray.from_arrays(pa.array(self.offsets), self.receivers)
            columns["receivers"] = pd.Series(lists.to_pylist(), dtype=object)
        columns["size"] = np.diff(self.offsets)
        columns["sendtime"] = pd.Series([self.sendtime] * count, dtype=object)
        return pd.DataFrame(columns)


class _BatchesField:
    """``Plan.batches``: the frame given, or the frame of the plan's :class:`_Batches`, built on
    first access and kept — a plan that is only summarised never turns millions of numbers into
    Python lists. A descriptor-typed dataclass field, so ``Plan(batches=frame)`` works as before."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = f"_{name}"

    def __get__(self, plan: Plan | None, owner: Any = None) -> pd.DataFrame | _BatchesField:
        if plan is None:
            raise AttributeError("batches")  # for dataclasses: the field has no default
        value = plan.__dict__[self.slot]
        if isinstance(value, _Batches):
            value = plan.__dict__[self.slot] = value.frame()
        return value

    def __set__(self, plan: Plan, value: pd.DataFrame | _Batches) -> None:
        plan.__dict__[self.slot] = value

    @staticmethod
    def calls(plan: Plan) -> pd.DataFrame | _Batches:
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
        batches = calls.frame(receivers=False) if isinstance(calls, _Batches) else calls
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


def plan_campaign(
    recipients: pd.DataFrame,
    template: str | Mapping[str, str],
    *,
    signature: str | None = None,
    charset: str = "utf8",
    max_length: int = MAX_CONTENT_LENGTH,
    batch_size: int = MAX_RECEIVERS,
    suppress: Any = None,
    defaults: Mapping[str, Any] | None = None,
    sendtime: datetime | pd.Timestamp | str | None = None,
    on_too_long: OnTooLong = "skip",
    kind: Kind | None = None,
    lexicon: Any = None,
    review: ReviewMode = "block",
    send_window: tuple[str, str] | None | Literal["default"] = "default",
    holdout: float = 0.0,
    seed: Any = None,
    history: Any = None,
    respect_opt_outs: bool = True,
    frequency_cap: Any = None,
) -> Plan:
    """Plan the exact gateway calls of a campaign; nothing is sent, ``recipients`` is not modified.

    ``recipients`` is the output of :func:`check_numbers` (or any DataFrame with ``mobile``;
    without a ``status`` column a row with a number counts as ``ok``). Rows whose input status is
    neither ``ok`` nor ``duplicate`` keep it and their ``reason``. For the others the first that
    applies wins:

    1. ``suppressed`` — the number (normalised) is in ``suppress`` (see :func:`load_suppression`):
       numbers, a DataFrame, a list file, or an earlier campaign's journal (everyone it accepted or
       left unknown);
    2. ``missing_field`` — a placeholder's value is empty and ``defaults`` has none for it;
    3. ``unencodable`` — ``charset`` (``utf8``, ``gbk``, ``big5``) cannot carry the content;
    4. ``too_long`` — longer than ``max_length`` UTF-16 code units, signature included
       (``on_too_long="skip"``; ``"error"`` raises :class:`TemplateError` naming the spreadsheet
       row; ``"truncate"`` shortens the body — never the signature nor a trailing opt-out such as
       回T退订 — and says so in ``reason``; a row that cannot fit even then is ``too_long``);
    5. ``blocked`` — with ``kind``, an error finding of the content review (:func:`review_content`)
       applies to the row (``review="warn"`` only reports it); the rule is the ``reason``;
    6. ``duplicate`` — among the rows that can be sent, one message per number: the first such row
       is kept, the later ones read ``duplicate of row N`` (N: its ``source_row``, else its index
       label). So a row :func:`check_numbers` called a duplicate is sent when the first row of its
       number cannot be; a row it called a duplicate of the kept row keeps its reason.

    The rest are ``ready``. ``template`` uses ``{column}`` placeholders (``{{``/``}}`` for
    braces); the ``signature`` (``"小店"`` or ``"【小店】"``) ends every content — without one, a
    ``【…】`` ending the template is taken as the signature. Ready rows sharing a content form
    batches of at most ``batch_size`` (≤ 500) receivers, in order of first appearance.
    ``sendtime`` (naive = Beijing time) must be in the future and within a year:
    :class:`PlanError` otherwise, as for bad options.

    ``kind`` (``"marketing"`` or ``"notification"``) runs the review (``lexicon``: a word file or
    words) and keeps its findings as :attr:`Plan.review`. Marketing is sent only within
    ``send_window``, default 08:00–21:00 Beijing time (``send_window=None`` lifts it): a ``sendtime``
    outside it is a :class:`PlanError`, and :func:`send_campaign` pauses outside it.

    The campaign home's history (:mod:`~smscampaign.memory.history`): numbers that ever opted out
    are ``suppressed`` unless ``respect_opt_outs=False``; ``frequency_cap=(3, "7D")`` makes rows
    whose number already got 3 messages in 7 days ``capped`` (``history``: a ``History`` or a home
    folder, default the campaign home). ``template`` as ``{"A": …, "B": …}`` (and/or ``holdout``,
    ``seed``) plans an A/B test: :func:`smscampaign.campaign.variants.plan_variants`.

    >>> people = pd.DataFrame({"mobile": ["13800138000"] * 2, "status": ["ok", "duplicate"]})
    >>> plan_campaign(people, "会员日全场八折", signature="小店").batches.loc[0, "receivers"]
    ['13800138000']
    """
    if isinstance(template, Mapping) or holdout:  # an A/B test (issue 13): smscampaign.campaign.variants
        options = {k: v for k, v in locals().items() if k not in ("recipients", "template")}
        from smscampaign.campaign.variants import plan_variants  # noqa: PLC0415

        variants = template if isinstance(template, Mapping) else {"A": template}
        return plan_variants(recipients, variants, **options)
    if respect_opt_outs or frequency_cap is not None:  # the campaign history (issue 13)
        from smscampaign.campaign.caps import apply_history  # noqa: PLC0415

        recipients = apply_history(
            recipients, history, respect_opt_outs=respect_opt_outs, frequency_cap=frequency_cap
        )
    _check_options(recipients, charset, max_length, batch_size, on_too_long, kind, review, lexicon)
    tmpl, sig = split_signature(parse_template(template), signature)
    if sig is None:
        logger.warning(
            "no signature: providers do not deliver content without a 【signature】 at the end"
        )
    sig_text = sig or ""
    if sms_length(sig_text) >= max_length:
        raise TemplateError(f"signature {sig} leaves no room for text within {max_length} characters")
    columns = resolve_columns(tmpl, recipients.columns)
    fill = _check_defaults(defaults, tmpl)
    sendtime_text = resolve_sendtime(sendtime)
    window = _send_window(send_window, kind, sendtime_text)
    words = None if lexicon is None else load_lexicon(lexicon)
    suppressed_numbers = None if suppress is None else load_suppression(suppress)

    rows = _Rows.of(recipients)
    rows.skip(_SUPPRESSED, *_suppressed(rows, suppressed_numbers))
    values = {name: _field_values(rows.frame[label], fill.get(name)) for name, label in columns.items()}
    rows.skip(_MISSING, *_missing_fields(values, len(rows.live)))
    rows.render(tmpl, values, sig_text)
    del values  # placeholder columns (copies): rendered
    unencodable = _unencodable_rows(rows, charset)
    rows.skip(_UNENCODABLE, *unencodable)
    rows.skip(_TOO_LONG, *_too_long(rows, sig_text, max_length, on_too_long))
    findings = None
    if kind is not None:
        found = _review(rows, tmpl, sig, kind, words, charset, unencodable)
        findings = found.findings
        if review == "block":
            rows.skip(_BLOCKED, found.blocked, found.reason)
        del found
    del unencodable
    rows.skip(_DUPLICATE, *_duplicates(rows))

    batch_of_row, batches, fingerprint = _batch(
        rows.live,
        rows.mobile,
        rows.content,
        batch_size,
        sendtime_text,
        charset,
        rows.constant,
        numbers=rows.mobile_column,
    )
    release_memory()  # the steps' temporaries, before the output columns are allocated
    messages = int(rows.live.sum())
    plan = Plan(
        recipients=rows.assemble(recipients, batch_of_row),
        batches=cast(pd.DataFrame, batches),  # the frame is built on first access (_BatchesField)
        template=template,
        signature=sig,
        charset=charset,
        sendtime=sendtime_text,
        max_length=max_length,
        batch_size=batch_size,
        messages=messages,
        fingerprint=fingerprint,
        kind=kind,
        review=findings,
        send_window=window,
    )
    logger.info(
        "planned %d recipients: %d ready in %d requests", len(recipients), messages, len(batches)
    )
    del rows
    release_memory()
    return plan


# -- the steps: each returns (rows it skips, their reason) ------------------------------------------


@dataclass(eq=False)
class _Rows:
    """The working state of one planning run, one entry per input row (positions, not labels)."""

    frame: pd.DataFrame  # the input, index reset
    index: pd.Index  # the input's index (labels for messages when there is no source_row)
    mobile: pa.Array
    # The input column's own large_string array when ``mobile`` is its texts read in place: what
    # the batches keep (no copy of the numbers).
    mobile_column: pa.Array | None
    mobile_digits: np.ndarray | None  # mobile as int64 when all are digits of one length
    # Rows among ok and duplicate ones whose number another has (positions, group numbers): the
    # candidates are among those rows, so the duplicate guard starts from these.
    repeats: tuple[np.ndarray, np.ndarray] | None
    in_status: pa.Array
    in_reason: pa.Array
    reason_column: pa.Array | None  # as mobile_column, for the input's reason
    planned: np.ndarray  # rows the plan decides (the others keep their input status)
    candidates: np.ndarray  # rows with a number the plan may send to
    live: np.ndarray  # candidates not skipped yet
    status: np.ndarray
    reasons: list[tuple[np.ndarray, pa.Array | str]]
    body: pa.Array | None = None
    content: pa.Array | None = None
    length: pa.Array | None = None
    # The one text every row gets while the template has no placeholder (None once truncation
    # made contents differ): content, length and body per row are then built only if a step
    # needs them (too long, review), and batches and the output columns come from this one string
    # instead of copies of a 10M-row column.
    constant: str | None = None
    constant_length: int = 0
    literal: str | None = None

    @classmethod
    def of(cls, recipients: pd.DataFrame) -> _Rows:
        n = len(recipients)
        frame = recipients.reset_index(drop=True)
        mobile, mobile_column = _column_text(frame["mobile"])
        if "status" in frame.columns:
            in_status = pc.fill_null(_field_text(frame["status"]), "ok")
        else:
            logger.warning(
                "recipients have no status column: numbers are sent as written; "
                "use check_numbers to validate and normalise them"
            )
            in_status = pa.repeat(pa.scalar("ok"), n)
        reason_column = None
        if "reason" in frame.columns:
            in_reason, reason_column = _column_text(frame["reason"])
        else:
            in_reason = pa.nulls(n, pa.string())
        ok = _np(pc.equal(in_status, "ok"))
        has_number = _np(pc.is_valid(mobile))
        no_number = ok & ~has_number
        # check_numbers' duplicates are candidates again, as their first row may not be sendable —
        # but only when that row is in this plan: a list split into two plans must not text a
        # person from both.
        duplicates = _np(pc.equal(in_status, "duplicate")) & has_number
        digits = _digit_keys(mobile) if duplicates.any() or ok.any() else None
        repeats = None
        if duplicates.any():
            # The numbers that repeat among these rows: found once, here and for the guard.
            repeats = _repeated(mobile, digits, np.flatnonzero((ok & has_number) | duplicates))
            duplicates &= _shares_number_with_ok(ok & has_number, duplicates, *repeats)
        candidates = (ok & has_number) | duplicates
        status = np.full(n, _READY, dtype=np.int8)
        status[no_number] = _INVALID
        return cls(
            frame=frame,
            index=recipients.index,
            mobile=mobile,
            mobile_column=mobile_column,
            mobile_digits=digits,
            repeats=repeats,
            in_status=in_status,
            in_reason=in_reason,
            reason_column=reason_column,
            planned=candidates | no_number,
            candidates=candidates,
            live=candidates.copy(),
            status=status,
            reasons=[(no_number, "no mobile number")],
        )

    def skip(self, code: int, mask: np.ndarray, reason: pa.Array | str) -> None:
        """Give the ``mask`` rows still live status ``code`` and ``reason``."""
        mask = mask & self.live
        if mask.any():
            self.status[mask] = code
            self.reasons.append((mask, reason))
            self.live &= ~mask

    def render(self, tmpl: Template, values: Mapping[str, pa.Array], sig: str) -> None:
        n = len(self.live)
        if tmpl.is_constant:
            text = tmpl.literal_text() + sig
            self.literal, self.constant, self.constant_length = (
                tmpl.literal_text(),
                text,
                sms_length(text),
            )
        else:
            self.body = render_bodies(tmpl, values, n)
            self.content = pc.binary_join_element_wise(self.body, sig, "") if sig else self.body
            self.length = pc.cast(sms_lengths(self.content), pa.int64())

    def per_row(self) -> tuple[pa.Array, pa.Array]:
        """(content, length) per row, built from the one text when the template has none."""
        if self.content is None or self.length is None:
            assert self.constant is not None
            n = len(self.live)
            self.content = pa.repeat(pa.scalar(self.constant, pa.string()), n)
            self.length = pa.repeat(pa.scalar(self.constant_length, pa.int64()), n)
        return self.content, self.length

    def _status_text(self) -> pa.Array:
        """The output ``status``: the plan's for planned rows, the input's for the others — one
        take from the few distinct texts, straight into the output's large_string."""
        names = pa.array(_STATUS_NAMES, pa.large_string())
        index = self.status.astype(np.int32)
        kept = ~self.planned
        if kept.any():
            others = pc.dictionary_encode(self.in_status.filter(pa.array(kept)))
            names = pa.concat_arrays([names, others.dictionary.cast(pa.large_string())])
            index[kept] = others.indices.to_numpy(zero_copy_only=False) + len(_STATUS_NAMES)
        return names.take(pa.array(index))

    def _reason_text(self) -> pa.Array:
        """The output ``reason``: the input's for rows the plan does not decide, else the reason
        of the last step that marked the row (null if none) — the steps' reasons of their own
        rows gathered once, then one take (no 10M-row copy per step)."""
        n = len(self.planned)
        index = np.full(n, -1, dtype=np.int64)
        pieces: list[pa.Array] = []
        size = 0
        for rows, text in [(~self.planned, self.in_reason), *self.reasons]:
            positions = np.flatnonzero(rows)
            if len(positions) == 0:
                continue
            if isinstance(text, str):
                piece = pa.array([text], pa.large_string())
                index[positions] = size
            else:
                piece = text.take(pa.array(positions)).cast(pa.large_string())
                index[positions] = np.arange(size, size + len(positions))
            pieces.append(piece)
            size += len(piece)
        if not pieces:
            return pa.nulls(n, pa.large_string())
        return pa.concat_arrays(pieces).take(pa.array(index, mask=index < 0))

    def keys(self) -> tuple[pa.Array, np.ndarray | None]:
        """The number each row is compared by — checked numbers as they are, unchecked ones by
        normalised form — and the same as integers when they all are digits of one length."""
        if "status" in self.frame.columns or not self.live.any():
            return self.mobile, self.mobile_digits
        keys = pc.coalesce(*_number_keys(self.frame["mobile"]))
        return keys, _digit_keys(keys)

    def labels(self, positions: np.ndarray) -> list[str]:
        """The spreadsheet row numbers of ``positions`` (``source_row``, else the index label)."""
        source = (
            self.frame["source_row"].iloc[positions].to_numpy()
            if "source_row" in self.frame.columns
            else self.index[positions].to_numpy()
        )
        if source.dtype.kind in "iu":  # the usual case: row numbers as integers
            return source.astype(str).tolist()
        return [_label(value) for value in source.astype(object)]

    def assemble(self, recipients: pd.DataFrame, batch_of_row: np.ndarray) -> pd.DataFrame:
        """The output frame: the input columns plus status, reason, content, length, batch."""
        out = recipients.copy(deep=False)
        out.attrs = copy.deepcopy(recipients.attrs)

        def put(name: str, values: Any) -> None:
            # A Series on the frame's own index is taken as it is; a bare array would be copied.
            out[name] = pd.Series(values, index=out.index, copy=False)

        if out["mobile"].dtype != TEXT:
            put("mobile", _text(self.mobile))
        put("status", _text(self._status_text()))
        reason = self._reason_text()
        if self.reason_column is None or not reason.equals(self.reason_column):
            put("reason", _text(reason))
        # else the input's reason column, as it is (the usual plan decides no new reason): no copy
        del reason
        # A duplicate gets nothing itself: its number gets the kept row's content.
        shown_rows = self.planned & (self.status != _DUPLICATE)
        # What only status and reason needed, and the working masks, go (and their pages back to
        # the system) before the biggest columns are built.
        empty = pa.array([], pa.string())
        self.mobile = self.in_status = self.in_reason = empty
        self.reasons, self.mobile_digits, self.mobile_column, self.reason_column = [], None, None, None
        self.status = self.planned = self.candidates = self.live = np.zeros(0, dtype=bool)
        self.repeats = None
        release_memory()
        shown = pa.array(shown_rows)
        if self.constant is not None:
            # The output columns from the one text (any per-row copy freed first).
            self.body = self.content = self.length = None
            content = _repeat_text(self.constant, shown_rows)
            values = np.where(shown_rows, np.int64(self.constant_length), np.int64(0))
            lengths = pd.arrays.IntegerArray(values, ~shown_rows)
        else:
            assert self.content is not None and self.length is not None
            length = pc.if_else(shown, self.length, pa.scalar(None, pa.int64()))
            self.body = self.length = None
            content = pc.if_else(shown, self.content, _NULL_STR)
            self.content = None
            lengths = pd.array(length.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get))
        put("content", _text(content))
        put("length", lengths)
        put("batch", pd.arrays.IntegerArray(batch_of_row, batch_of_row == 0))
        return out


def _repeat_text(text: str, rows: np.ndarray) -> pa.Array:
    """``text`` on ``rows``, null elsewhere: a large_string array made from its three buffers at
    their exact sizes (Arrow's if_else grows its data buffer by doubling: at 10M rows it left
    ~0.3 GB of freed buffers with the allocator)."""
    data = text.encode("utf-8")
    n = len(rows)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(rows, out=offsets[1:])
    count = int(offsets[-1])
    offsets *= len(data)
    validity = pa.array(rows, type=pa.bool_()).buffers()[1]
    buffers = [validity, pa.py_buffer(offsets), pa.py_buffer(data * count)]
    return pa.Array.from_buffers(pa.large_string(), n, buffers, null_count=n - count)


def _shares_number_with_ok(
    ok: np.ndarray, duplicates: np.ndarray, rows: np.ndarray, codes: np.ndarray
) -> np.ndarray:
    """Which ``duplicates`` rows share their number with an ``ok`` row of the frame (``rows``,
    ``codes``: :func:`_repeated` of the ``ok`` and ``duplicates`` rows)."""
    out = np.zeros(len(ok), dtype=bool)
    if len(codes) == 0:
        return out
    with_ok = np.zeros(int(codes.max()) + 1, dtype=bool)
    with_ok[codes[ok[rows]]] = True
    out[rows] = with_ok[codes]
    return out & duplicates


def _field_text(values: pd.Series) -> pa.Array:
    """:func:`field_text` of a column; a :data:`TEXT` column with nothing to trim (numbers and
    statuses from :func:`check_numbers`) is read in place instead of copied twice."""
    return _column_text(values)[0]


def _column_text(values: pd.Series) -> tuple[pa.Array, pa.Array | None]:
    """(:func:`_field_text` of a column; the column's own large_string array when that is the same
    texts read in place, else None)."""
    if values.dtype == TEXT:
        arrow = pa.array(values.array)  # the column's own (chunked) large_string array
        if isinstance(arrow, pa.ChunkedArray):
            arrow = arrow.chunk(0) if arrow.num_chunks == 1 else None
        if arrow is not None and pa.types.is_large_string(arrow.type) and _nothing_to_trim(arrow):
            return arrow.cast(pa.string()), arrow  # new 32-bit offsets; the text is shared
    return field_text(values), None


def _nothing_to_trim(strings: pa.Array) -> bool:
    """Whether no string of ``strings`` (large_string) is empty or starts or ends with a byte
    that may begin or end whitespace (ASCII space or control, or any non-ASCII byte): then
    ``field_text`` would return the same strings. Read from the buffers, a few numpy passes."""
    if pc.all(pc.ascii_is_decimal(strings)).as_py():  # digits only (numbers): nothing to trim
        return True
    _, offsets_buffer, data = strings.buffers()
    n = len(strings)
    if n == 0 or data is None:
        return n == strings.null_count
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[strings.offset : strings.offset + n + 1]
    lengths = np.diff(offsets)
    if strings.null_count:  # null slots may be empty: look at the strings only
        kept = _np(pc.is_valid(strings))
        starts, lengths = offsets[:-1][kept], lengths[kept]
    else:
        starts = offsets[:-1]
    if not lengths.all():
        return False  # an empty string: field_text makes it null
    raw = np.frombuffer(data, dtype=np.uint8)
    first, last = raw[starts], raw[starts + lengths - 1]
    return bool(((first > 0x20) & (first < 0x7F)).all() and ((last > 0x20) & (last < 0x7F)).all())


def _label(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _suppressed(rows: _Rows, numbers: pd.Series | None) -> tuple[np.ndarray, str]:
    """Rows whose number (normalised, or as written) is in the suppression list."""
    return _suppressed_mask(rows.frame["mobile"], rows.live, numbers), "in the suppression list"


def _field_values(values: pd.Series, default: str | None) -> pa.Array:
    """A placeholder's values as text, null where empty and without a default."""
    text = field_text(values)
    return text if default is None else pc.fill_null(text, default)


def _missing_fields(values: Mapping[str, pa.Array], n: int) -> tuple[np.ndarray, pa.Array]:
    """Rows with an empty placeholder value; the reason names the empty columns."""
    names = list(values)
    pattern = np.zeros(n, dtype=np.int64)  # bit i set: placeholder i has no value
    for bit, text in enumerate(values.values()):
        pattern |= _np(pc.is_null(text)).astype(np.int64) << bit
    missing = pattern != 0
    if not missing.any():
        return missing, pa.nulls(n, pa.string())
    return missing, _missing_reason(pattern, names)


def _too_long(
    rows: _Rows, sig: str, max_length: int, on_too_long: str
) -> tuple[np.ndarray, pa.Array | str]:
    """Rows longer than ``max_length``; with ``truncate`` only those that cannot be shortened (the
    others get a shorter body and a note)."""
    if rows.constant is not None and rows.constant_length <= max_length:
        return np.zeros(len(rows.live), dtype=bool), ""
    content, length = rows.per_row()
    over = rows.live & _np(pc.greater(pc.fill_null(length, 0), max_length))
    if not over.any():
        return over, ""
    length_text = pc.cast(length, pa.string())
    if on_too_long == "error":
        first = int(np.flatnonzero(over)[0])
        raise TemplateError(
            f"{int(over.sum())} message(s) longer than {max_length} characters, "
            f"e.g. row {rows.labels(np.array([first]))[0]}: {length[first].as_py()} characters "
            f"({content[first].as_py()!r}); shorten the template "
            "or pass on_too_long='truncate' or 'skip'"
        )
    reason = pc.binary_join_element_wise(length_text, f" characters, more than {max_length}", "")
    if on_too_long == "skip":
        return over, reason
    body = rows.body
    if body is None:
        body = pa.repeat(pa.scalar(rows.literal, pa.string()), len(rows.live))
    fits, content, length, note = _truncate(body, content, length, over, sig, max_length)
    rows.content, rows.length, rows.constant = content, length, None
    rows.reasons.append((over & fits, note))
    cannot = over & ~fits
    return cannot, pc.binary_join_element_wise(
        reason, "; the signature and opt-out instruction leave no room to shorten the text", ""
    )


def _review(
    rows: _Rows,
    tmpl: Template,
    sig: str | None,
    kind: Kind,
    lexicon: Lexicon | None,
    charset: str,
    unencodable: tuple[np.ndarray, pa.Array],
) -> RowReview:
    """The content review of the rows still live, with the unencodable rows reported too."""
    content, _ = rows.per_row()
    bad, why = unencodable
    example = None
    if bad.any():
        example = why[int(np.flatnonzero(bad)[0])].as_py()
    return review_rows(
        content,
        rows.live,
        template=tmpl,
        signature=sig,
        kind=kind,
        lexicon=lexicon,
        unencodable=(int(bad.sum()), example, charset),
    )


def _duplicates(rows: _Rows) -> tuple[np.ndarray, pa.Array]:
    """Among the rows that can be sent, those whose number an earlier one already gets."""
    n = len(rows.live)
    mask = np.zeros(n, dtype=bool)
    reason = pa.nulls(n, pa.string())
    if not rows.live.any():
        return mask, reason
    # Only rows whose number another candidate has can be duplicates: work on those alone.
    keys, digits = rows.keys()
    if rows.repeats is not None and keys is rows.mobile:
        positions, codes = rows.repeats  # found among a superset of the candidates
        among = rows.candidates[positions]
        candidates, codes = positions[among], codes[among]
    else:
        candidates, codes = _repeated(keys, digits, np.flatnonzero(rows.candidates))
    if len(codes) == 0:
        return mask, reason
    groups = int(codes.max()) + 1
    first = np.empty(groups, dtype=np.int64)
    first[codes[::-1]] = candidates[::-1]  # last write wins: the first row of each number
    live = rows.live[candidates]
    kept = np.full(groups, -1, dtype=np.int64)
    kept[codes[live][::-1]] = candidates[live][::-1]
    later = live & (kept[codes] != candidates)
    if not later.any():
        return mask, reason
    positions = candidates[later]
    of = kept[codes[later]]
    mask[positions] = True
    texts = [
        f"duplicate of row {label}, an earlier row with the same number" for label in rows.labels(of)
    ]
    reason = pc.replace_with_mask(reason, pa.array(mask), pa.array(texts, type=pa.string()))
    # check_numbers already called it a duplicate of the very row that is sent: keep its words.
    same = np.zeros(n, dtype=bool)
    same[positions] = first[codes[later]] == of
    same &= _np(pc.equal(rows.in_status, "duplicate")) & _np(pc.is_valid(rows.in_reason))
    if same.any():
        reason = pc.if_else(pa.array(same), rows.in_reason, reason)
    return mask, reason


def _repeated(
    keys: pa.Array, digits: np.ndarray | None, positions: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Those of ``positions`` (ascending; keys not null there) whose key another of them has, in
    the same order, and a group number for each (equal keys, equal numbers, from 0). ``digits``:
    the keys as integers (:func:`_digit_keys`), when they all are."""
    if digits is None:
        codes = pd.factorize(keys.take(pa.array(positions)).to_numpy(zero_copy_only=False))[0]
        repeated = np.bincount(codes)[codes] > 1
        codes = np.unique(codes[repeated], return_inverse=True)[1].reshape(-1)
        return positions[repeated], codes.astype(np.int64, copy=False)
    index, start = _sorted_runs(digits[positions])
    n = len(index)
    alone = start.copy()
    alone[:-1] &= start[1:]  # a run of one: it starts and the next starts too
    repeated = ~alone
    del alone
    index = index[repeated]
    codes = np.cumsum(start[repeated], dtype=np.int64) - 1
    order = np.argsort(index, kind="stable") if n else index
    return positions[index[order]], codes[order]


def _digit_keys(keys: pa.Array) -> np.ndarray | None:
    """``keys`` as int64 (null: 0) when every one is ASCII digits of one length — normalised
    numbers — so that equal integers mean equal texts; else None."""
    lengths = pc.min_max(pc.binary_length(keys))
    low, high = lengths["min"].as_py(), lengths["max"].as_py()
    if low is None or low != high or high > 18 or not pc.all(pc.ascii_is_decimal(keys)).as_py():
        return None
    return np.asarray(pc.fill_null(pc.cast(keys, pa.int64()), 0).to_numpy(), dtype=np.int64)


def _send_window(send_window: Any, kind: str | None, sendtime: str | None) -> tuple[str, str] | None:
    """The daily window (Beijing time) the plan may be sent in; refuses a sendtime outside it."""
    if isinstance(send_window, str) and send_window == "default":
        window = MARKETING_WINDOW if kind == "marketing" else None
    else:
        parsed = parse_window(send_window)
        if parsed is None:
            return None
        window = (parsed[0].strftime("%H:%M"), parsed[1].strftime("%H:%M"))
    if window is None or sendtime is None:
        return window
    bounds = parse_window(window)
    if bounds is not None and not in_window(parse_time(sendtime), bounds):
        raise PlanError(
            f"sendtime {sendtime} is outside the send window {window[0]}–{window[1]} Beijing time"
            + (" for marketing" if kind == "marketing" else "")
            + "; choose a time inside it, or pass send_window=None to lift it"
        )
    return window


def _check_options(
    recipients: Any,
    charset: str,
    max_length: int,
    batch_size: int,
    on_too_long: str,
    kind: str | None,
    review: str,
    lexicon: Any,
) -> None:
    if not isinstance(recipients, pd.DataFrame):
        raise PlanError(f"recipients must be a DataFrame, not {type(recipients).__name__}")
    if "mobile" not in recipients.columns:
        raise PlanError(
            "recipients need a 'mobile' column (use check_numbers); the columns are: "
            + ", ".join(str(c) for c in recipients.columns)
        )
    try:
        python_codec(charset)
    except ConfigError as exc:
        raise PlanError(str(exc)) from None
    if isinstance(max_length, bool) or not isinstance(max_length, int) or not 1 <= max_length <= 70:
        raise PlanError(
            f"max_length must be an int from 1 to 70 (the gateway's −118), not {max_length!r}"
        )
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= 500:
        raise PlanError(
            f"batch_size must be an int from 1 to 500 (the gateway's −117), not {batch_size!r}"
        )
    if on_too_long not in _ON_TOO_LONG:
        raise PlanError(f"on_too_long must be one of {', '.join(_ON_TOO_LONG)}, not {on_too_long!r}")
    if kind is not None and kind not in KINDS:
        raise PlanError(f"kind must be one of {', '.join(KINDS)} or None, not {kind!r}")
    if review not in _REVIEW_MODES:
        raise PlanError(f"review must be one of {', '.join(_REVIEW_MODES)}, not {review!r}")
    if lexicon is not None and kind is None:
        raise PlanError("a lexicon is used by the review: pass kind='marketing' or 'notification'")


def _check_defaults(defaults: Mapping[str, Any] | None, tmpl: Template) -> dict[str, str]:
    if defaults is None:
        return {}
    if not isinstance(defaults, Mapping):
        raise PlanError(f"defaults must be a mapping of column to value, not {type(defaults).__name__}")
    fill = {str(name): "" if value is None else str(value).strip() for name, value in defaults.items()}
    unused = [name for name in fill if name not in tmpl.columns]
    if unused:
        logger.warning("defaults for columns the template does not use: %s", ", ".join(unused))
    return fill


def _missing_reason(pattern: np.ndarray, names: list[str]) -> pa.Array:
    """``empty field: a, b`` per row from a bit pattern of empty placeholders."""
    distinct, inverse = np.unique(pattern, return_inverse=True)
    texts = [
        "empty field: " + ", ".join(name for bit, name in enumerate(names) if code >> bit & 1)
        for code in distinct.tolist()
    ]
    return pc.take(pa.array(texts, type=pa.string()), pa.array(inverse.reshape(-1)))


def _np(mask: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A pyarrow boolean array as numpy, null = False."""
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)


def _unencodable_rows(rows: _Rows, charset: str) -> tuple[np.ndarray, pa.Array]:
    """:func:`_unencodable` of the rows still live (one check when they all have one text)."""
    if rows.constant is None:
        assert rows.content is not None
        return _unencodable(rows.content, rows.live, charset)
    n = len(rows.live)
    bad, why = _unencodable(pa.array([rows.constant], pa.string()), np.ones(1, dtype=bool), charset)
    if not bad[0]:
        return np.zeros(n, dtype=bool), pa.nulls(n, pa.string())
    return rows.live.copy(), pa.repeat(why[0], n)


def _unencodable(content: pa.Array, live: np.ndarray, charset: str) -> tuple[np.ndarray, pa.Array]:
    """Rows among ``live`` whose content ``charset`` cannot carry, with a reason naming them."""
    mask = np.zeros(len(content), dtype=bool)
    if charset == "utf8" or not live.any():
        # Arrow strings are valid UTF-8: every one of them is encodable in utf-8.
        return mask, pa.nulls(len(content), pa.string())
    idx = np.flatnonzero(live)
    candidates = content.take(pa.array(idx))
    distinct = candidates.unique().to_pylist()
    try:
        "\n".join(distinct).encode(python_codec(charset))
        return mask, pa.nulls(len(content), pa.string())
    except UnicodeEncodeError:
        pass
    bad: dict[str, str] = {}
    for text in distinct:
        chars = unencodable_characters(text, charset)
        if chars:
            shown = " ".join(f"{ch!r} (U+{ord(ch):04X})" for ch in chars)
            bad[text] = f"{charset} cannot carry {shown}"
    keys = pa.array(list(bad), type=pa.string())
    position = pc.index_in(content, value_set=keys)
    mask = live & _np(pc.is_valid(position))
    reason = pc.take(pa.array(list(bad.values()), type=pa.string()), position)
    return mask, reason


def _truncate(
    body: pa.Array, content: pa.Array, length: pa.Array, over: np.ndarray, sig: str, max_length: int
) -> tuple[np.ndarray, pa.Array, pa.Array, pa.Array]:
    """Shorten the body of the ``over`` rows so that body + opt-out + signature fit: the signature
    and a trailing opt-out instruction (回T退订 …) are kept whole. (rows that fit, content, length,
    reason)."""
    idx = np.flatnonzero(over)
    head, tail = split_opt_out(body.take(pa.array(idx)))
    tail_length = sms_lengths(tail).to_numpy(zero_copy_only=False).astype(np.int64)
    room = max_length - sms_length(sig) - tail_length
    cut = pa.nulls(len(idx), pa.string())
    for limit in np.unique(room[room > 0]).tolist():
        selected = room == limit
        part = head.filter(pa.array(selected))
        # Without astral characters a code point is one UTF-16 unit: slice in Arrow; else per row.
        shortened = pc.utf8_slice_codeunits(part, 0, limit)
        astral = astral_counts(part) > 0
        if astral.any():
            slow = [truncate_sms(text, limit) for text in part.filter(pa.array(astral)).to_pylist()]
            shortened = pc.replace_with_mask(shortened, pa.array(astral), pa.array(slow, pa.string()))
        cut = pc.replace_with_mask(cut, pa.array(selected), shortened)
    ok = _np(pc.greater(pc.fill_null(pc.utf8_length(cut), 0), 0))  # some text must be left
    new = pc.binary_join_element_wise(cut, tail, sig, "")
    fits = np.zeros(len(over), dtype=bool)
    fits[idx[ok]] = True
    new_content = pc.replace_with_mask(content, pa.array(fits), new.filter(pa.array(ok)))
    new_length = pc.cast(sms_lengths(new_content), pa.int64())
    kept = pc.utf8_trim(tail, " \t\n，,。.;；、!！")
    kept_full = pc.replace_with_mask(pa.nulls(len(over), pa.string()), pa.array(over), kept)
    suffix = pc.if_else(
        pc.greater(pc.fill_null(pc.utf8_length(kept_full), 0), 0),
        pc.binary_join_element_wise(", body shortened before the opt-out ", kept_full, ""),
        "",
    )
    note = pc.binary_join_element_wise(
        "truncated from ",
        pc.cast(length, pa.string()),
        " to ",
        pc.cast(new_length, pa.string()),
        " characters",
        suffix,
        "",
    )
    return fits, new_content, new_length, note


def _batch(
    ready: np.ndarray,
    mobile: pa.Array,
    content: pa.Array | None,
    batch_size: int,
    sendtime: str | None,
    charset: str,
    constant: str | None = None,
    numbers: pa.Array | None = None,
) -> tuple[np.ndarray, _Batches, str]:
    """(batch number per row, 0 = none; the batches; the fingerprint). ``constant``: the one
    content every row has, when known (then ``content`` is not read). ``numbers``: the same
    texts as ``mobile`` in the array the batches are to keep (default ``mobile``)."""
    n = len(ready)
    batch_of_row = np.zeros(n, dtype=np.int64)
    idx = np.flatnonzero(ready)
    m = len(idx)
    if m == 0 or constant is not None:
        # One content (or none): the ready rows in order, cut every batch_size.
        uniques = pa.array([] if m == 0 else [constant], type=pa.string())
        starts = np.arange(0, m, batch_size, dtype=np.int64)
        first_codes = np.zeros(len(starts), dtype=np.int64)
        batch_of_row[idx] = np.arange(m, dtype=np.int64) // batch_size + 1
        sending = idx
    else:
        assert content is not None
        encoded = pc.dictionary_encode(content.take(pa.array(idx)))  # codes in order of first appearance
        codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
        uniques = encoded.dictionary
        order = np.argsort(codes, kind="stable") if len(uniques) > 1 else np.arange(m)
        sorted_codes = codes[order]
        new_group = np.ones(m, dtype=bool)
        new_group[1:] = sorted_codes[1:] != sorted_codes[:-1]
        group_starts = np.flatnonzero(new_group)
        group_sizes = np.diff(np.append(group_starts, m))
        position = np.arange(m) - np.repeat(group_starts, group_sizes)
        new_batch = position % batch_size == 0
        sending = idx[order] if len(uniques) > 1 else idx
        batch_of_row[sending] = np.cumsum(new_batch)
        starts = np.flatnonzero(new_batch)
        first_codes = sorted_codes[starts]
    offsets = np.append(starts, m).astype(np.int64)
    batch_content = uniques.take(pa.array(first_codes)) if m else uniques
    receivers = mobile.take(pa.array(sending))  # for the fingerprint only: not kept
    fingerprint = _fingerprint(batch_content, receivers, offsets, sendtime, charset)
    del receivers
    in_row_order = sending is idx
    kept = _Batches(
        batch_content,
        mobile if numbers is None else numbers,
        np.packbits(ready) if in_row_order else sending.astype(np.int32 if n < 2**31 else np.int64),
        in_row_order,
        offsets,
        sendtime,
    )
    return batch_of_row, kept, fingerprint


def _fingerprint(
    contents: pa.Array, receivers: pa.Array, offsets: np.ndarray, sendtime: str | None, charset: str
) -> str:
    """SHA-256 of a canonical serialisation of the batches (no ``hash()``: stable anywhere)."""
    digest = hashlib.sha256(_FINGERPRINT_VERSION)
    for text in (charset, sendtime or ""):
        _update_bytes(digest, text.encode("utf-8"))
    _update_strings(digest, contents)
    _update_strings(digest, receivers)
    _update_bytes(digest, np.asarray(offsets, dtype="<i8").tobytes())
    return digest.hexdigest()


def _update_bytes(digest: Any, data: bytes | memoryview) -> None:
    digest.update(len(data).to_bytes(8, "little"))
    digest.update(data)


def _update_strings(digest: Any, strings: pa.Array) -> None:
    """Feed the lengths and the UTF-8 bytes of ``strings`` (null = empty) to ``digest``,
    canonically: read from the array's own buffers, nothing copied."""
    if len(strings) == 0:
        _update_bytes(digest, b"")
        _update_bytes(digest, b"")
        return
    if strings.null_count:
        strings = pc.fill_null(strings, "")
    if not pa.types.is_string(strings.type):
        strings = strings.cast(pa.large_string())
    width = np.int32 if pa.types.is_string(strings.type) else np.int64
    _, offsets_buffer, data = strings.buffers()
    first = strings.offset
    offsets = np.frombuffer(offsets_buffer, dtype=width)[first : first + len(strings) + 1]
    _update_bytes(digest, np.diff(offsets).astype("<i8").tobytes())
    _update_bytes(
        digest, memoryview(data if data is not None else b"")[int(offsets[0]) : int(offsets[-1])]
    )


def _text(values: pa.Array) -> pd.api.extensions.ExtensionArray:
    """An Arrow string array as the project's text dtype (:data:`TEXT`, missing = ``<NA>``)."""
    return pd.array(values, dtype=TEXT)
