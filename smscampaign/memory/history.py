"""Campaign history: the memory across campaigns, kept in the campaign home.

:class:`History` reads and writes the home's store (:mod:`smscampaign.memory.home`): every campaign sent
(``campaigns()``), every message sent or unknown (the send registry), every reply fetched or pushed, and
every opt-out. From them it answers, as DataFrames:

- ``campaigns()`` — name, created, template, signature, kind, fingerprint, journal, counts per status;
- ``contacts(mobiles=None)`` — per number: first and last contacted, messages in the last 7 / 30 days,
  replied, opted out;
- ``replies()`` — each reply attributed to the most recent campaign that texted its sender within
  ``attribution_window`` (default 72 h) before it, with the time to reply;
- ``opt_outs()`` — every number that ever opted out, when, and why.

``plan_campaign`` consults it: numbers that ever opted out are ``suppressed`` (``respect_opt_outs``),
numbers already texted ``frequency_cap`` times in the window are ``capped``
(:func:`smscampaign.campaign.caps.apply_history`); :mod:`smscampaign.reports.compare` sets campaigns
side by side.

Times are Beijing time (tz-aware) in every frame; ``clock`` (default: the system clock) is injectable,
so a notebook or a test can play weeks of campaigns without waiting.

>>> import smscampaign as sc
>>> with sc.History() as history:                                    # doctest: +SKIP
...     history.contacts(["13800138000"])[["mobile", "messages_7d", "opted_out"]]
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from smscampaign.core.dtypes import TEXT
from smscampaign.core.errors import ConfigError, SmsCampaignError
from smscampaign.memory.home import CAMPAIGN_COLUMNS, PostgresStore, SQLiteStore, open_home
from smscampaign.memory.keys import arrow_text, join_keys, keys_as_text, mobile_keys, normalized_keys
from smscampaign.memory.people import KEY_PREFIX, campaign_people
from smscampaign.memory.times import NAT, as_micros, from_micros, micros, positive_duration
from smscampaign.stages.keywords import OPT_OUT_KEYWORDS, keyword_key
from smscampaign.stages.shapes import normalize_numbers
from smscampaign.wire.protocol import BEIJING, TIME_FORMAT

if TYPE_CHECKING:  # pragma: no cover - typing only
    pass

__all__ = [
    "ATTRIBUTION_WINDOW",
    "CONTACT_COLUMNS",
    "History",
]

logger = logging.getLogger(__name__)

#: A reply belongs to the most recent campaign that texted its sender at most this long before.
ATTRIBUTION_WINDOW: Final = pd.Timedelta(hours=72)
#: Columns of :meth:`History.contacts`.
CONTACT_COLUMNS: Final = (
    "mobile",
    "first_contacted",
    "last_contacted",
    "messages",
    "messages_7d",
    "messages_30d",
    "replied",
    "replies",
    "last_reply",
    "opted_out",
    "opted_out_at",
)
#: Columns of :meth:`History.replies`.
REPLY_COLUMNS: Final = (
    "sender",
    "content",
    "receivetime",
    "received_via",
    "opt_out",
    "campaign",
    "fingerprint",
    "sent_at",
    "time_to_reply",
)
#: Columns of :meth:`History.opt_outs`.
OPT_OUT_COLUMNS: Final = ("mobile", "at", "source", "note")

_STORE_TIME: Final = "%Y-%m-%dT%H:%M:%S.%fZ"
_DAY_US: Final = 86_400_000_000
Clock = Callable[[], datetime]


def _store_time(moment: datetime) -> str:
    """A datetime (naive = Beijing time) as the store's ISO-8601 UTC text."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=BEIJING)
    return moment.astimezone(UTC).strftime(_STORE_TIME)


def _times(values: Sequence[Any]) -> pd.Series:
    """Store time texts as Beijing-time datetimes (microseconds)."""
    # Arrow parses the fixed-width ISO-8601 text (with its Z) in one pass; missing stays missing.
    parsed = pc.cast(pa.array(list(values), pa.string()), pa.timestamp("us", "UTC"))
    return pd.Series(parsed.to_pandas(), dtype="datetime64[us, UTC]").dt.tz_convert(BEIJING)


def _named(fingerprints: pd.Series, names: Mapping[Any, Any]) -> pd.Series:
    """Each campaign fingerprint as its name (its first 12 characters when unnamed), looked up once
    per campaign, not once per message."""
    codes, distinct = pd.factorize(fingerprints)
    labels = np.array([names.get(f, f[:12]) for f in distinct] + [None], dtype=object)
    return pd.Series(labels[codes], dtype=TEXT)  # code -1 (missing) takes the final None


def _beijing(values: pd.Series) -> pd.Series:
    """Datetimes (the store's UTC ones, or any zone's) as Beijing-time datetimes (microseconds), with
    their index; naive ones and datetimes kept as objects are read as UTC, missing stays missing."""
    series = pd.Series(values)
    if not isinstance(series.dtype, pd.DatetimeTZDtype):  # e.g. datetimes kept as objects
        series = pd.to_datetime(series, utc=True)
    return series.dt.tz_convert(BEIJING).dt.as_unit("us")


def _as_moment(value: Any) -> datetime:
    """A reply time: ``YYYY-MM-DD HH:MM:SS`` text or a datetime, naive = Beijing time."""
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=BEIJING)
    if isinstance(value, str):
        text = value.strip()
        try:
            return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=BEIJING)
        except ValueError:
            try:
                moment = datetime.fromisoformat(text)
            except ValueError:
                raise ConfigError(f"unreadable receivetime {value!r}") from None
            return moment if moment.tzinfo is not None else moment.replace(tzinfo=BEIJING)
    raise ConfigError(f"unreadable receivetime {value!r}")


def _is_opt_out(contents: Iterable[Any]) -> np.ndarray:
    """Whether each reply is an opt-out keyword, as :func:`~smscampaign.opt_outs` decides."""
    wanted = {keyword_key(k) for k in OPT_OUT_KEYWORDS} - {""}
    values = pd.Series(list(contents), dtype=object)
    codes, distinct = pd.factorize(values, use_na_sentinel=False)  # each distinct text tested once
    found = [
        keyword_key("" if t is None or t is pd.NA or t != t else str(t)) in wanted for t in distinct
    ]
    return np.array(found, dtype=bool)[codes] if len(codes) else np.zeros(0, dtype=bool)


def _messages_per_run(campaigns: pd.DataFrame, sent: pd.DataFrame) -> list[int]:
    """Registry messages of each row of ``campaigns`` (the store's rows): those its run's journal
    sent; the messages of a plan no row's run claims (in-memory sends, rows recorded before runs
    were kept apart) go to that plan's oldest row that has none."""
    per = sent.groupby(["campaign", "journal"], sort=False).size().to_dict()
    keys = list(zip(campaigns["fingerprint"], campaigns["run"], strict=True))
    out = [int(per.get(key, 0)) for key in keys]
    unclaimed = sent.groupby("campaign", sort=False).size().to_dict()
    for (fingerprint, _), n in zip(keys, out, strict=True):
        unclaimed[fingerprint] = unclaimed.get(fingerprint, 0) - n
    for i, (fingerprint, _) in enumerate(keys):
        if out[i] == 0 and unclaimed.get(fingerprint, 0) > 0:
            out[i] = int(unclaimed.pop(fingerprint))
    return out


class History:
    """The campaign home's record of campaigns, messages, replies and opt-outs.

    ``home``: the campaign home folder or a team home's ``postgresql://…`` URL (default
    ``SMSCAMPAIGN_HOME``, else the user data dir), or pass an open ``store``. ``clock`` (returning an
    aware datetime, or naive Beijing time) is "now" for the 7/30-day counts, frequency caps and records
    made without a time. ``attribution_window``: how long after a message a reply still belongs to its
    campaign. A context manager; thread-safe (the push receiver can store into it). Usable wherever a
    :class:`~smscampaign.ReplyStore` is (``add``, ``to_frame``), so ``fetch_replies`` and
    ``serve_replies`` store into the home.

    >>> with History("/tmp/home") as history:                         # doctest: +SKIP
    ...     history.campaigns()[["name", "created", "accepted"]]
    """

    def __init__(
        self,
        home: str | os.PathLike[str] | None = None,
        *,
        store: SQLiteStore | PostgresStore | None = None,
        clock: Clock | None = None,
        attribution_window: Any = ATTRIBUTION_WINDOW,
    ) -> None:
        self._owned = store is None
        self.store = store if store is not None else open_home(home)
        self.clock = clock
        self.attribution_window = positive_duration(attribution_window, "attribution_window")

    def __repr__(self) -> str:
        return f"History({self.store.location!r})"

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the store if this History opened it."""
        if self._owned:
            self.store.close()

    def now(self) -> datetime:
        """The current time (Beijing, aware) by ``clock``."""
        moment = self.clock() if self.clock is not None else datetime.now(BEIJING)
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=BEIJING)

    # -- campaigns -------------------------------------------------------------------------------

    def record_campaign(
        self,
        plan: Any,
        *,
        name: str | None = None,
        journal: str | os.PathLike[str] | None = None,
        results: pd.DataFrame | None = None,
        created: datetime | None = None,
    ) -> str:
        """Record a run of ``plan`` as a campaign, with ``results`` its counts per status. Returns the
        campaign's name (default: the name its plan had, else its fingerprint's first 12 characters).

        Each run is its own row: a run is the ``journal`` it sent from (the same journal again — a
        resume — updates its row; another journal, or an in-memory send, is a new row with its own
        counts). A plan recorded without results or journal updates its latest row (or is a row of
        planned counts, which its first run then takes over)."""
        fingerprint = str(plan.fingerprint)
        mine = [row for row in self.store.campaigns() if row[0] == fingerprint]
        runs = {str(row[-1]): row for row in mine}
        if journal is not None:
            run = str(Path(journal).resolve())  # the registry's name of a journal file
        elif results is not None:
            run = f"memory:{uuid.uuid4().hex}"  # a send with no journal file: a run of its own
        else:
            run = str(mine[-1][-1]) if mine else ""
        if name is None and mine:
            name = str(runs[run][1] if run in runs else mine[-1][1])
        variants = getattr(plan, "variants", None)
        counts = None
        if results is not None and "status" in results.columns:
            found = results["status"].value_counts(dropna=False)
            counts = json.dumps({str(k): int(v) for k, v in found.items()}, ensure_ascii=False)
        elif run not in runs and not (run and "" in runs):
            found = plan.recipients["status"].value_counts(dropna=False)
            counts = json.dumps({str(k): int(v) for k, v in found.items()}, ensure_ascii=False)
        name = name or fingerprint[:12]
        self.store.record_campaign(
            {
                "fingerprint": fingerprint,
                "name": name,
                "created": _store_time(created or self.now()),
                "template": getattr(plan, "template", None),
                "signature": getattr(plan, "signature", None),
                "kind": getattr(plan, "kind", None),
                "journal": None if journal is None else str(journal),
                "charset": getattr(plan, "charset", None),
                "variants": (
                    json.dumps(
                        {"variants": variants, "holdout": plan.holdout, "seed": plan.seed},
                        ensure_ascii=False,
                    )
                    if variants
                    else None
                ),
                "counts": counts,
                "run": run,
            }
        )
        return name

    def campaigns(self) -> pd.DataFrame:
        """One row per campaign run, oldest first: ``name, created, template, signature, kind,
        fingerprint, journal, messages`` (in the registry: sent or unknown), ``recipients``, then one
        column per status (``accepted``, ``failed``, ``unknown``, ``not_sent``, ``suppressed`` …).
        A plan sent twice (another journal) is two rows, each with its own counts."""
        rows = self.store.campaigns()
        frame = pd.DataFrame(rows, columns=list(CAMPAIGN_COLUMNS))
        messages = _messages_per_run(frame, self.store.sent_messages(columns=("campaign", "journal")))
        counts = [json.loads(c) if c else {} for c in frame["counts"]]
        statuses: list[str] = []
        for first in ("accepted", "failed", "unknown", "not_sent"):
            statuses.append(first)
        for found in counts:
            statuses += [s for s in found if s not in statuses]
        out = pd.DataFrame(
            {
                "name": pd.Series(frame["name"], dtype=TEXT),
                "created": _times(frame["created"].tolist()),
                "template": pd.Series(frame["template"], dtype=TEXT),
                "signature": pd.Series(frame["signature"], dtype=TEXT),
                "kind": pd.Series(frame["kind"], dtype=TEXT),
                "fingerprint": pd.Series(frame["fingerprint"], dtype=TEXT),
                "journal": pd.Series(frame["journal"], dtype=TEXT),
                "messages": messages,
                "recipients": [sum(c.values()) for c in counts],
            }
        )
        for status in statuses:
            out[status] = pd.array([int(c.get(status, 0)) for c in counts], dtype="Int64")
        return out

    def find_campaign(self, name: str, campaigns: pd.DataFrame | None = None) -> pd.Series:
        """The row of :meth:`campaigns` (or of ``campaigns``, that table read already) named
        ``name`` (or whose fingerprint starts with it; the latest when several match);
        :class:`ConfigError` naming the known campaigns otherwise."""
        campaigns = self.campaigns() if campaigns is None else campaigns
        text = str(name)
        match = campaigns[(campaigns["name"] == text) | campaigns["fingerprint"].str.startswith(text)]
        if match.empty or not text:
            known = ", ".join(campaigns["name"].astype(str)) or "none"
            raise ConfigError(f"no campaign named {text!r} in {self.store.location} (known: {known})")
        return match.iloc[-1]

    def people(self, campaign: str) -> pd.DataFrame:
        """Everyone a campaign planned (its hold-out included), as the home kept them at the send:
        ``mobile, arm`` (variant, ``holdout``, or ``all``), ``status`` (``accepted``, ``holdout``,
        ``invalid`` …), then the list's identifier columns (e.g. ``会员号``). ``campaign``: a name or
        fingerprint. Campaigns sent before the home kept people (smscampaign before issue 27) have
        none: an empty frame with the three columns."""
        fingerprint = str(self.find_campaign(campaign)["fingerprint"])
        fields = self.store.people(fingerprint)
        columns = {"mobile": "mobile", "arm": "arm", "status": "status"}
        columns.update({f: f[len(KEY_PREFIX) :] for f in fields if f.startswith(KEY_PREFIX)})
        size = len(fields["mobile"]) if "mobile" in fields else 0
        return pd.DataFrame(
            {
                shown: pd.Series(pd.array(fields.get(field, pa.nulls(size, pa.string())), dtype=TEXT))
                for field, shown in columns.items()
            }
        )

    # -- messages (the send registry) --------------------------------------------------------------

    def messages(self, mobiles: Iterable[Any] | None = None) -> pd.DataFrame:
        """Every message sent or unknown: ``mobile, campaign`` (name), ``fingerprint, status, at``
        (Beijing time), oldest first."""
        keys = None if mobiles is None else mobile_keys(mobiles)
        frame = self.store.sent_messages(keys, columns=("mobile", "campaign", "status", "at"))
        frame = frame.rename(columns={"campaign": "fingerprint"})
        names = {row[0]: row[1] for row in self.store.campaigns()}
        out = pd.DataFrame(
            {
                "mobile": pd.Series(frame["mobile"], dtype=TEXT),
                "campaign": _named(frame["fingerprint"], names),
                "fingerprint": pd.Series(frame["fingerprint"], dtype=TEXT),
                "status": pd.Series(frame["status"], dtype=TEXT),
                "at": _beijing(frame["at"]),
            }
        )
        return out.sort_values("at", kind="stable", ignore_index=True)

    # -- replies and opt-outs ----------------------------------------------------------------------

    def add(self, replies: pd.DataFrame | Iterable[Mapping[str, Any]], received_via: str) -> int:
        """Store replies (``sender, content, receivetime``; times as ``YYYY-MM-DD HH:MM:SS`` text or
        datetimes, naive = Beijing time), each once; returns how many were new. ``received_via``:
        ``fetch`` or ``push``. The same interface as :meth:`ReplyStore.add`; ``replies`` is not
        modified."""
        if received_via not in ("fetch", "push"):
            raise ConfigError(f"received_via must be 'fetch' or 'push', not {received_via!r}")
        records = replies.to_dict("records") if isinstance(replies, pd.DataFrame) else list(replies)
        if not records:
            return 0
        senders = [r.get("sender") for r in records]
        normalized = normalize_numbers(pd.Series(senders, dtype=object))
        rows = []
        for record, sender, number in zip(records, senders, normalized, strict=True):
            content = record.get("content")
            text = (
                "" if content is None or (not isinstance(content, str) and pd.isna(content)) else content
            )
            who = str(number) if not pd.isna(number) else ("" if sender is None else str(sender).strip())
            when = _store_time(_as_moment(record.get("receivetime")))
            rows.append((who, str(text), when, received_via))
        added = self.store.add_replies(rows)
        logger.debug("stored %d of %d replies (%s)", added, len(rows), received_via)
        return added

    def add_replies(self, replies: pd.DataFrame, received_via: str = "fetch") -> int:
        """:meth:`add` with ``received_via`` defaulting to ``fetch``."""
        return self.add(replies, received_via)

    def __len__(self) -> int:
        return len(self.store.replies())

    def to_frame(self) -> pd.DataFrame:
        """Every stored reply, oldest first: ``sender, content, receivetime, received_via`` (as
        :meth:`ReplyStore.to_frame`)."""
        rows = self.store.replies()
        frame = pd.DataFrame(rows, columns=["sender", "content", "receivetime", "received_via"])
        return pd.DataFrame(
            {
                "sender": pd.Series(frame["sender"], dtype=TEXT),
                "content": pd.Series(frame["content"], dtype=TEXT),
                "receivetime": _times(frame["receivetime"].tolist()),
                "received_via": pd.Series(frame["received_via"], dtype=TEXT),
            }
        )

    def add_opt_outs(
        self,
        mobiles: Iterable[Any],
        *,
        at: datetime | None = None,
        source: str = "manual",
        note: str = "",
    ) -> int:
        """Record numbers that asked not to be texted by another channel (a call, a form, an imported
        list); returns how many were new. Opt-outs are never undone."""
        keys = mobile_keys(mobiles)
        when = _store_time(at or self.now())
        return self.store.add_opt_outs([(m, when, source, note or None) for m in keys])

    def opt_outs(self) -> pd.DataFrame:
        """Every number that ever opted out, once, at its first opt-out: ``mobile, at`` (Beijing
        time), ``source`` (``reply`` or how it was recorded) and ``note`` (the reply's text)."""
        return self._opt_outs(self.to_frame())

    def _opt_outs(self, replies: pd.DataFrame) -> pd.DataFrame:
        """:meth:`opt_outs` from the replies already read (:meth:`to_frame`)."""
        hit = _is_opt_out(replies["content"].tolist())
        from_replies = pd.DataFrame(
            {
                "mobile": replies["sender"][hit].to_numpy(),
                "at": replies["receivetime"][hit].reset_index(drop=True),  # stays datetime
                "source": "reply",
                "note": replies["content"][hit].to_numpy(),
            }
        )
        manual_rows = self.store.opt_outs()
        manual = pd.DataFrame(manual_rows, columns=list(OPT_OUT_COLUMNS))
        manual["at"] = _times(manual["at"].tolist())
        both = pd.concat([from_replies, manual], ignore_index=True)
        both = both[both["mobile"].str.fullmatch(r"\d{11}").fillna(False).astype(bool)]
        both = both.sort_values(["at", "mobile"], kind="stable").drop_duplicates("mobile")
        return pd.DataFrame(
            {
                "mobile": pd.Series(both["mobile"].to_numpy(), dtype=TEXT),
                "at": _beijing(both["at"].reset_index(drop=True)),
                "source": pd.Series(both["source"].to_numpy(), dtype=TEXT),
                "note": pd.Series(both["note"].to_numpy(), dtype=TEXT),
            }
        )

    def replies(self, attribution_window: Any = None) -> pd.DataFrame:
        """Every reply, oldest first, attributed to the most recent campaign that texted its sender
        at most ``attribution_window`` (default: this History's, 72 h) before it — columns
        :data:`REPLY_COLUMNS`: ``campaign`` (name) / ``fingerprint`` / ``sent_at`` / ``time_to_reply``
        are empty for a reply no campaign explains. A message and a reply at the same moment count
        (the reply follows it); two campaigns texting at the same moment: the one recorded later."""
        window = (
            self.attribution_window
            if attribution_window is None
            else positive_duration(attribution_window, "attribution_window")
        )
        replies = self.to_frame()
        replies["opt_out"] = _is_opt_out(replies["content"].tolist())
        sent = self.store.sent_messages(
            list(replies["sender"].dropna().unique()) if len(replies) < 50_000 else None,
            columns=("mobile", "campaign", "at"),
        ).rename(columns={"campaign": "fingerprint"})
        campaigns = self.store.campaigns()
        names = {row[0]: row[1] for row in campaigns}
        order = {row[0]: i for i, row in enumerate(campaigns)}  # oldest first: later wins a tie
        sent["sent_at"] = _beijing(sent["at"])
        codes, fingerprints = pd.factorize(sent["fingerprint"])  # a few campaigns, 1M messages
        sent["rank"] = np.array([order.get(f, -1) for f in fingerprints], dtype=np.int64)[codes]
        sent = sent.sort_values(["sent_at", "rank"], kind="stable").drop(columns=["at", "rank"])
        left = replies.reset_index(names="_order").sort_values("receivetime", kind="stable")
        # Integer keys when every number has 11 digits: merge_asof matches them far faster.
        left_keys, sent_keys = join_keys([arrow_text(left["sender"]), arrow_text(sent["mobile"])])
        left["sender_key"] = left_keys.to_numpy()
        sent["sender_key"] = sent_keys.to_numpy()
        if len(left) and len(sent):
            merged = pd.merge_asof(
                left,
                sent[["sender_key", "fingerprint", "sent_at"]],
                left_on="receivetime",
                right_on="sent_at",
                by="sender_key",
                direction="backward",
                allow_exact_matches=True,
                tolerance=window,
            )
        else:
            no_time = pd.Series(pd.NaT, index=left.index, dtype=replies["receivetime"].dtype)
            merged = left.assign(fingerprint=None, sent_at=no_time)
        merged = merged.sort_values("_order", kind="stable").reset_index(drop=True)
        fingerprints = merged["fingerprint"].astype(object)
        fingerprints = fingerprints.where(fingerprints.notna(), None)
        sent_at = pd.Series(merged["sent_at"]).astype(replies["receivetime"].dtype)
        return pd.DataFrame(
            {
                "sender": replies["sender"].to_numpy(),
                "content": replies["content"].to_numpy(),
                "receivetime": replies["receivetime"].array,
                "received_via": replies["received_via"].to_numpy(),
                "opt_out": replies["opt_out"].to_numpy(dtype=bool),
                "campaign": pd.Series(
                    [None if f is None else names.get(f, f[:12]) for f in fingerprints], dtype=TEXT
                ),
                "fingerprint": pd.Series(fingerprints, dtype=TEXT),
                "sent_at": sent_at.array,
                "time_to_reply": (merged["receivetime"] - sent_at).array,
            }
        ).astype({"sender": TEXT, "content": TEXT, "received_via": TEXT})

    # -- per number ------------------------------------------------------------------------------------

    def contacts(self, mobiles: Iterable[Any] | None = None) -> pd.DataFrame:
        """Per number (``mobiles``, normalised and in their order; default every number the home
        knows): ``first_contacted, last_contacted`` (Beijing time), ``messages`` (sent or unknown,
        ever), ``messages_7d, messages_30d`` (before now), ``replied`` / ``replies`` / ``last_reply``,
        ``opted_out`` / ``opted_out_at``. A number never texted has zeros and empty times.

        The store hands over the registry's numbers (Arrow) and times (integers); every number —
        asked for, texted, replying, opted out — gets one integer code from one ``factorize``, and
        the sums per code (``bincount``, ``minimum/maximum.at``) are gathered for the numbers asked
        (``bench/bench_history.py``: 1M numbers against a home of 1M messages).
        """
        now = micros(pd.Timestamp(self.now()))
        registry, at = self.store.message_times()
        replies = self.to_frame()
        opt = self._opt_outs(replies)
        sources = [registry, arrow_text(replies["sender"]), arrow_text(opt["mobile"])]
        wanted = None if mobiles is None else normalized_keys(mobiles)
        keys = join_keys([*sources, *([] if wanted is None else [wanted])])
        sent_keys, reply_keys, opt_keys = keys[:3]
        if wanted is None:  # every number the home knows: texted ones in order, then the others
            asked = sent_keys.unique().sort_values().append([reply_keys, opt_keys])
        else:
            asked = keys[3]
        parts = [asked, sent_keys, reply_keys, opt_keys]
        codes, numbers = pd.factorize(
            np.concatenate([p.to_numpy() for p in parts]), use_na_sentinel=False
        )
        ends = np.cumsum([len(p) for p in parts])
        asked_codes, sent_codes, reply_codes, opt_codes = np.split(codes, ends[:-1])
        size = len(numbers)
        if wanted is None:  # each number once, in the order asked
            asked_codes = np.arange(size)
        messages = np.bincount(sent_codes, minlength=size)
        windows = {"messages_7d": now - 7 * _DAY_US, "messages_30d": now - 30 * _DAY_US}
        counts = {"messages": messages[asked_codes].astype(np.int64)}
        for column, after in windows.items():
            inside = (at > after) & (at <= now)
            within = np.bincount(sent_codes[inside], minlength=size)
            counts[column] = within[asked_codes].astype(np.int64)
        first = np.full(size, NAT, dtype=np.int64)
        last = np.full(size, NAT, dtype=np.int64)
        texted = messages > 0
        first[texted] = np.iinfo(np.int64).max
        np.minimum.at(first, sent_codes, at)
        np.maximum.at(last, sent_codes, at)
        reply_count = np.bincount(reply_codes, minlength=size)[asked_codes].astype(np.int64)
        last_reply = np.full(size, NAT, dtype=np.int64)
        np.maximum.at(last_reply, reply_codes, as_micros(replies["receivetime"]))
        opted_at = np.full(size, NAT, dtype=np.int64)
        opted_at[opt_codes] = as_micros(opt["at"])  # one row per number
        if wanted is None:
            text = keys_as_text(pd.Index(numbers))
        else:
            text = wanted
        return pd.DataFrame(
            {
                "mobile": pd.Series(pd.array(text, dtype=TEXT)),
                "first_contacted": from_micros(first[asked_codes]).array,
                "last_contacted": from_micros(last[asked_codes]).array,
                **counts,
                "replied": reply_count > 0,
                "replies": reply_count,
                "last_reply": from_micros(last_reply[asked_codes]).array,
                "opted_out": opted_at[asked_codes] != NAT,
                "opted_out_at": from_micros(opted_at[asked_codes]).array,
            }
        )


def record_sent(
    plan: Any,
    results: pd.DataFrame,
    *,
    name: str | None = None,
    clock: Clock | None = None,
    store: SQLiteStore | PostgresStore | None = None,
    started: datetime | None = None,
) -> None:
    """Record a finished (or interrupted) send in the campaign home's history: the campaign and its
    counts per status (the send engine keeps the registry of messages itself). With an injected
    ``clock``, the run's registry records (made since ``started``, real time) take the clock's time,
    so that simulated weeks are weeks to the history. What :func:`~smscampaign.send_campaign`
    calls; a failure to record is logged, never raised (the messages are out already)."""
    import sqlite3  # noqa: PLC0415

    try:
        with History(store=store, clock=clock) as history:
            history.record_campaign(
                plan, name=name, journal=results.attrs.get("journal"), results=results
            )
            history.store.record_people(str(plan.fingerprint), campaign_people(results))
            if clock is not None and started is not None:
                history.store.restamp_sends(campaign=plan.fingerprint, since=started, at=history.now())
    except (sqlite3.Error, OSError, SmsCampaignError) as exc:  # pragma: no cover - a broken home
        logger.warning("could not record the campaign in the campaign history: %s", exc)
