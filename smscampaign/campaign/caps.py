"""Planning from the campaign history: opt-outs follow the person, frequency caps hold.

:func:`apply_history` is the first step of ``plan_campaign``: numbers that ever opted out become
``suppressed``, numbers already texted ``frequency_cap`` times in the window become ``capped``.

>>> parse_frequency_cap("2/24h")
(2, Timedelta('1 days 00:00:00'))
"""

from __future__ import annotations

import logging
import os
import re
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa

from smscampaign.core.dtypes import TEXT
from smscampaign.core.errors import ConfigError, PlanError
from smscampaign.core.statuses import OptionalPlanStatus
from smscampaign.memory.history import History
from smscampaign.memory.home import home_dir, home_url
from smscampaign.memory.keys import arrow_text, join_keys, normalized_keys
from smscampaign.memory.times import NAT, from_micros, micros, positive_duration

__all__ = ["CAPPED", "CAP_FORMAT", "apply_history", "parse_frequency_cap"]

logger = logging.getLogger(__name__)

#: Status of plan rows whose number already got ``frequency_cap`` messages in the window.
CAPPED: Final = OptionalPlanStatus.CAPPED
_CAP_UNITS: Final = {"h": "hours", "d": "days", "w": "weeks"}
#: How a frequency cap is written, for the messages that refuse one.
CAP_FORMAT: Final = (
    "write messages/window — at least 1 message, a window of at least 1 hour, day or week — "
    "e.g. 3/7d, 2/24h, 1/2w"
)


def parse_frequency_cap(value: Any) -> tuple[int, pd.Timedelta]:
    """``(3, "7D")``, ``"3/7d"``, ``"2/24h"``, ``"1/2w"`` → (messages, window); a cap of 0
    messages (everyone capped), an empty window (no cap at all) or a negative count is a
    :class:`ConfigError` giving the format.

    >>> parse_frequency_cap("3/7d")
    (3, Timedelta('7 days 00:00:00'))
    """
    if isinstance(value, str):
        found = re.fullmatch(r"\s*(-?\d+)\s*/\s*(-?\d+)\s*([hdwHDW])\s*", value)
        if not found:
            raise ConfigError(f"frequency cap {value!r}: {CAP_FORMAT}")
        count, size, unit = int(found[1]), int(found[2]), found[3].lower()
        if count < 1:
            why = "a negative count" if count < 0 else "0 messages: everyone would be capped"
            raise ConfigError(f"frequency cap {value!r} has {why}; {CAP_FORMAT}")
        if size < 1:
            why = "a negative window" if size < 0 else f"a window of 0{unit}: nobody would be capped"
            raise ConfigError(f"frequency cap {value!r} has {why}; {CAP_FORMAT}")
        return count, pd.Timedelta(**{_CAP_UNITS[unit]: size})
    if isinstance(value, tuple | list) and len(value) == 2:
        count, window = value
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ConfigError(f"a frequency cap allows at least 1 message, not {count!r}; {CAP_FORMAT}")
        return count, positive_duration(window, "the frequency cap's window")
    raise ConfigError(
        f"frequency_cap must be (messages, window) such as (3, '7D'), or '3/7d'; got {value!r}"
    )


def _window_text(window: pd.Timedelta) -> str:
    hours = window / pd.Timedelta(hours=1)
    if hours % 24 == 0:
        return f"{int(hours // 24)}d"
    return f"{hours:g}h"


def apply_history(
    recipients: pd.DataFrame,
    history: History | str | os.PathLike[str] | None = None,
    *,
    respect_opt_outs: bool = True,
    frequency_cap: Any = None,
) -> pd.DataFrame:
    """Mark the ``ok`` rows the campaign history rules out (what ``plan_campaign`` calls first).

    - numbers that ever opted out (:meth:`History.opt_outs`) become ``suppressed``, the reason naming
      the reply and its date (unless ``respect_opt_outs=False``);
    - with ``frequency_cap=(n, window)`` (or ``"n/7d"``), numbers already sent ``n`` messages within
      ``window`` before now become ``capped``, the reason giving the count and the last date.

    ``history`` is a :class:`History`, a home folder or URL, or ``None``: the default campaign home, and
    only if it exists (planning never creates it). Returns ``recipients`` itself when nothing applies,
    else a copy; ``recipients`` is not modified.
    """
    if not respect_opt_outs and frequency_cap is None:
        return recipients
    if not isinstance(recipients, pd.DataFrame) or "mobile" not in recipients.columns:
        return recipients  # plan_campaign says what is wrong with it
    try:
        cap = None if frequency_cap is None else parse_frequency_cap(frequency_cap)
    except ConfigError as exc:
        raise PlanError(str(exc)) from None
    if history is None or isinstance(history, str | os.PathLike):
        where = home_url(history) or home_dir(history)  # a team home (PostgreSQL) always exists
        if not isinstance(where, str) and not (where / "home.sqlite").is_file():
            return recipients
        with History(where) as opened:
            return _apply(recipients, opened, respect_opt_outs, cap)
    if not isinstance(history, History):
        raise PlanError(f"history must be a History or a home folder, not {type(history).__name__}")
    return _apply(recipients, history, respect_opt_outs, cap)


def _apply(
    recipients: pd.DataFrame,
    history: History,
    respect_opt_outs: bool,
    cap: tuple[int, pd.Timedelta] | None,
) -> pd.DataFrame:
    n = len(recipients)
    if "status" in recipients.columns:
        status = recipients["status"]
        # a duplicate stays one: its number's first row carries the person's status
        ok = (status.isna() | (status == "ok")).to_numpy(dtype=bool)
    else:
        ok = np.ones(n, dtype=bool)
    keys = normalized_keys(recipients["mobile"])
    new_status = np.full(n, None, dtype=object)
    new_reason = np.full(n, None, dtype=object)
    if respect_opt_outs and n:
        opt = history.opt_outs()
        if len(opt):
            row_keys, opt_keys = join_keys([keys, arrow_text(opt["mobile"])])
            found = opt_keys.get_indexer(row_keys)  # opt_outs() holds each number once
            hit = ok & (found >= 0)
            # One reason per opted-out number, then spread to its rows.
            whens = opt["at"].dt.strftime("%Y-%m-%d %H:%M").tolist()
            reasons = [
                f"opted out: replied {note!r} on {when}"
                if source == "reply"
                else f"opted out ({source}{f' ({note})' if isinstance(note, str) and note else ''}) "
                f"on {when}"
                for source, note, when in zip(opt["source"], opt["note"], whens, strict=True)
            ]
            rows_hit = np.flatnonzero(hit)
            new_status[rows_hit] = "suppressed"
            new_reason[rows_hit] = np.array(reasons, dtype=object)[found[rows_hit]]
            ok = ok & ~hit
    if cap is not None and ok.any():
        limit, window = cap
        now = history.now()
        since = now - window.to_pytimedelta()
        registry, at = history.store.message_times(since=since)
        recent = at <= micros(pd.Timestamp(now))
        sent_keys, row_keys = join_keys([registry.filter(pa.array(recent)), keys])
        codes, numbers = pd.factorize(sent_keys.to_numpy())
        sent_count = np.bincount(codes, minlength=len(numbers))
        last = np.full(len(numbers), NAT, dtype=np.int64)
        np.maximum.at(last, codes, at[recent])
        over = sent_count >= limit
        if over.any():
            found = pd.Index(numbers[over]).get_indexer(row_keys)
            hit = ok & (found >= 0)
            label = f"frequency cap {limit}/{_window_text(window)}"  # once, not per number
            # One reason per distinct (count, last time): numbers texted by the same batches share it.
            pairs, which = np.unique(
                np.column_stack([sent_count[over], last[over]]), axis=0, return_inverse=True
            )
            whens = from_micros(pairs[:, 1]).dt.strftime("%Y-%m-%d %H:%M").tolist()
            capped = np.array(
                [
                    f"{label}: {count} message{'s' if count != 1 else ''} in the window, last {when}"
                    for count, when in zip(pairs[:, 0].tolist(), whens, strict=True)
                ],
                dtype=object,
            )[which.reshape(-1)]
            rows_hit = np.flatnonzero(hit)
            new_status[rows_hit] = CAPPED
            new_reason[rows_hit] = capped[found[rows_hit]]
    marked = pd.notna(new_status)
    if not marked.any():
        return recipients
    out = recipients.copy()
    out.attrs = dict(recipients.attrs)
    if "status" in out.columns:
        old_status = out["status"].astype(object).to_numpy()
    else:
        old_status = np.full(n, "ok", dtype=object)
    old_reason = (
        out["reason"].astype(object).to_numpy()
        if "reason" in out.columns
        else np.full(n, None, dtype=object)
    )
    out["status"] = pd.Series(np.where(marked, new_status, old_status), index=out.index, dtype=TEXT)
    out["reason"] = pd.Series(np.where(marked, new_reason, old_reason), index=out.index, dtype=TEXT)
    logger.info(
        "campaign history: %d opted-out number(s) suppressed, %d capped",
        int((new_status == "suppressed").sum()),
        int((new_status == CAPPED).sum()),
    )
    return out
