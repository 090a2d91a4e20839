"""Did it sell? The business's own outcomes attributed to campaigns, and lift against the hold-out.

:func:`measure_outcomes` reads the campaign home (who was texted when, who was held out, the ids
their list carried) and an outcomes file (orders, visits, renewals: a key, a time, maybe an amount),
and answers per campaign and arm how many people converted, and how much more than the people who
were not texted — with 95 % intervals, a p-value and a one-line verdict in Chinese and English.

Attribution, the rule replies already follow (:meth:`~smscampaign.History.replies`):

- an outcome belongs to the **latest** campaign that reached the person at or before it, when it is
  at most ``window`` after (the arms: the person's own message; the hold-out: the campaign's send
  time, its first message — the moment the hold-out was *not* texted). Every campaign in the home
  competes, measured or not, so measuring one campaign or four gives the same figures;
- outcomes before the send are ignored (an earlier campaign may own them);
- the sides compared are the people texted (``accepted``) and the hold-out (``holdout``); people
  never sent — invalid, duplicate, suppressed, capped, failed, unknown … — are on neither side and
  counted apart (``attrs["left_out"]``; a ``left_out`` column per arm with ``details=True``).

The statistics are :mod:`smscampaign.reports.lift`'s, checked by simulation in
``tests/test_outcomes.py``: the rate's interval (Newcombe) covers the truth 95 % of the time, the
p-value is below 0.05 in 5 % of campaigns without effect, and so is the value per person's (Welch)
for lognormal order amounts.

>>> import smscampaign as sc
>>> sc.measure_outcomes("spring", "orders.csv", window="14D", value="金额")   # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Iterator, Sequence
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from smscampaign.core.dtypes import TEXT
from smscampaign.core.errors import OutcomesError
from smscampaign.memory.history import History
from smscampaign.memory.keys import arrow_text
from smscampaign.memory.people import KEY_PREFIX
from smscampaign.memory.times import as_micros
from smscampaign.reports.lift import (
    MIN_COUNT,
    mean_lift,
    minimum_detectable_effect,
    proportion_lift,
    relative_lift,
)
from smscampaign.reports.outcome_input import MOBILE_KEY, OutcomeRows, outcome_window, read_outcomes
from smscampaign.reports.verdicts import Verdicts

__all__ = [
    "DETAIL_COLUMNS",
    "HOLDOUT_ARM",
    "OUTCOME_COLUMNS",
    "OUTCOME_LABELS",
    "HoldoutTooSmallWarning",
    "measure_outcomes",
]

logger = logging.getLogger(__name__)

#: Columns of :func:`measure_outcomes` (a contract).
OUTCOME_COLUMNS: Final = (
    "campaign",
    "arm",
    "people",
    "converted",
    "rate",
    "lift",
    "lift_low",
    "lift_high",
    "p_value",
    "value_per_person",
    "value_lift",
    "value_lift_low",
    "value_lift_high",
    "verdict_zh",
    "verdict_en",
)
#: Columns ``details=True`` adds after them.
DETAIL_COLUMNS: Final = (
    "outcomes",
    "outcomes_per_person",
    "relative_lift",
    "relative_lift_low",
    "relative_lift_high",
    "mde",
    "left_out",
)
#: Workbook labels of those columns (the 转化 sheet of the report and of the comparison).
OUTCOME_LABELS: Final = {
    "campaign": "活动 campaign",
    "arm": "分组 arm",
    "people": "人数 people",
    "converted": "转化人数 converted",
    "rate": "转化率 rate",
    "lift": "提升（百分点） lift",
    "lift_low": "提升下限 lift low",
    "lift_high": "提升上限 lift high",
    "p_value": "p 值 p-value",
    "value_per_person": "人均金额 value per person",
    "value_lift": "人均金额提升 value lift",
    "value_lift_low": "金额提升下限 value lift low",
    "value_lift_high": "金额提升上限 value lift high",
    "verdict_zh": "结论",
    "verdict_en": "verdict",
    "outcomes": "转化次数 outcomes",
    "outcomes_per_person": "人均转化次数 outcomes per person",
    "relative_lift": "相对提升 relative lift",
    "relative_lift_low": "相对提升下限 relative lift low",
    "relative_lift_high": "相对提升上限 relative lift high",
    "mde": "最小可检测差别 MDE",
    "left_out": "未发送（不计） left out",
}
#: The arm (and status) of the people held out.
HOLDOUT_ARM: Final = "holdout"
#: Statuses whose people may have got the message: they compete for outcomes as exposures.
_EXPOSED: Final = ("accepted", "unknown")
_COUNTED: Final = "accepted"
_NONE: Final = np.iinfo(np.int64).min


class HoldoutTooSmallWarning(UserWarning):
    """The hold-out is too small to see the effect asked for (or any): the message gives the
    minimum detectable effect."""


# -- the campaigns -----------------------------------------------------------------------------------


@contextlib.contextmanager
def _opened(
    campaigns: Any, home: str | os.PathLike[str] | None
) -> Iterator[tuple[History, list[str], pd.DataFrame]]:
    """The History to read, the fingerprints of the campaigns asked for (in order) and every
    campaign of the home (:meth:`History.campaigns`, read once)."""
    if isinstance(campaigns, History):
        catalogue = campaigns.campaigns()
        yield campaigns, catalogue["fingerprint"].astype(str).tolist(), catalogue
        return
    names = [campaigns] if isinstance(campaigns, str) else list(campaigns)
    if not names or not all(isinstance(n, str) for n in names):
        raise OutcomesError(f"campaigns must be a name, several names or a History, not {campaigns!r}")
    with History(home) as history:
        catalogue = history.campaigns()
        found = [history.find_campaign(n, catalogue) for n in names]
        yield history, [str(row["fingerprint"]) for row in found], catalogue


# -- exposures: who was reached (or held out) when, by which campaign ------------------------------


def _number_key(mobiles: pa.Array) -> np.ndarray:
    """11-digit numbers as int64, anything else as :data:`_NONE`."""
    shaped = pc.fill_null(
        pc.and_(pc.utf8_is_digit(mobiles), pc.equal(pc.binary_length(mobiles), 11)), False
    )
    numbers = pc.cast(pc.if_else(shaped, mobiles, "0"), pa.int64()).to_numpy(zero_copy_only=False)
    return np.where(shaped.to_numpy(zero_copy_only=False), numbers, _NONE)


class _Home:
    """Everything the home knows that attribution needs, as flat arrays: every campaign's people
    (``campaign`` index, ``arm``, ``status``, ``mobile`` key) and the exposures."""

    def __init__(
        self, history: History, key: str, chosen: Sequence[str], catalogue: pd.DataFrame
    ) -> None:
        self.fingerprints = catalogue["fingerprint"].astype(str).tolist()
        self.names = dict(zip(self.fingerprints, catalogue["name"].astype(str), strict=True))
        created = as_micros(catalogue["created"])
        sent = history.store.sent_messages(columns=("mobile", "campaign", "at"))
        sent_key = _number_key(arrow_text(sent["mobile"]))
        sent_at = as_micros(sent["at"])
        codes, found = pd.factorize(sent["campaign"])
        sent_campaign = pd.Index(self.fingerprints).get_indexer(found)[codes] if len(codes) else codes
        people = {fp: history.store.people(fp) for fp in self.fingerprints}
        field = KEY_PREFIX + key
        if key != MOBILE_KEY:
            for fp in chosen:
                if people[fp] and field not in people[fp]:
                    kept = [f[len(KEY_PREFIX) :] for f in people[fp] if f.startswith(KEY_PREFIX)]
                    raise OutcomesError(
                        f"campaign {self.names[fp]!r} never had a column {key!r}: its recipients "
                        f"carried {', '.join(map(repr, kept)) or 'no identifier column'}; use "
                        "key='mobile' or one of those"
                    )
        for fp in chosen:
            if not people[fp]:
                logger.warning(
                    "campaign %r was sent before the campaign home kept its people (hold-out and "
                    "arms): nothing to measure",
                    self.names[fp],
                )
        self.starts = np.array(
            [
                sent_at[sent_campaign == i].min() if (sent_campaign == i).any() else created[i]
                for i in range(len(self.fingerprints))
            ],
            dtype=np.int64,
        )
        self._people(people, key)
        self._exposures(people, sent_key, sent_at, sent_campaign)

    @staticmethod
    def _codes(values: pa.Array, names: list[str]) -> np.ndarray:
        """Text as codes into ``names`` (extended with new values; -1 for null), in Arrow."""
        encoded = pc.dictionary_encode(values)
        if isinstance(encoded, pa.ChunkedArray):
            encoded = encoded.combine_chunks()
        local = [str(v) for v in encoded.dictionary.to_pylist()]
        for value in local:
            if value not in names:
                names.append(value)
        table = np.array([names.index(v) for v in local] + [-1], dtype=np.int64)
        indices = pc.fill_null(encoded.indices, len(local)).to_numpy(zero_copy_only=False)
        return table[indices]

    def code(self, names: list[str], value: str) -> int:
        """The code of ``value`` in ``names`` (-2, matching nothing, when absent)."""
        return names.index(value) if value in names else -2

    def _people(self, people: dict[str, dict[str, pa.Array]], key: str) -> None:
        campaign, arm, status, mobile, ident = [], [], [], [], []
        self.arm_names: list[str] = []
        self.status_names: list[str] = []
        for i, fp in enumerate(self.fingerprints):
            fields = people[fp]
            if not fields:
                continue
            size = len(fields["mobile"])
            campaign.append(np.full(size, i, dtype=np.int64))
            arm.append(self._codes(fields["arm"], self.arm_names))
            status.append(self._codes(fields["status"], self.status_names))
            mobile.append(_number_key(fields["mobile"]))
            if key != MOBILE_KEY:
                found = fields.get(KEY_PREFIX + key, pa.nulls(size, pa.string()))
                ident.append(found.to_numpy(zero_copy_only=False))

        def joined(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
            return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)

        self.campaign = joined(campaign, np.int64)
        self.arm = joined(arm, np.int64)
        self.status = joined(status, np.int64)
        self.mobile = joined(mobile, np.int64)
        if key == MOBILE_KEY:
            self.key: pd.Index = pd.Index(self.mobile)
            self.has_key = self.mobile != _NONE
            self.by_number = pd.Series(dtype=object)
        else:
            ident_all = joined(ident, object)
            self.has_key = pd.notna(ident_all)
            # A campaign that did not carry the column finds its people's ids by their number, in
            # the campaigns that did (the latest one wins).
            known = pd.Series(ident_all[self.has_key], index=self.mobile[self.has_key])
            known = known[~known.index.duplicated(keep="last")]
            lookup = known.reindex(self.mobile[~self.has_key]).to_numpy(dtype=object)
            ident_all[~self.has_key] = lookup
            self.has_key = pd.notna(ident_all)
            self.key = pd.Index(ident_all, dtype=object)
            self.by_number = known

    def _exposures(
        self,
        people: dict[str, dict[str, pa.Array]],
        sent_key: np.ndarray,
        sent_at: np.ndarray,
        sent_campaign: np.ndarray,
    ) -> None:
        """Exposures: (key, time, campaign rank, person) — texted people at their message, the
        hold-out at the campaign's start, and messages of campaigns without kept people."""
        exposed = np.isin(self.status, [self.code(self.status_names, s) for s in _EXPOSED])
        held = self.status == self.code(self.status_names, HOLDOUT_ARM)
        # Each texted person's own message time: the first message of their campaign to their
        # number; (campaign, number) as one int64 (numbers are below 2**35).
        usable = (sent_key != _NONE) & (sent_campaign >= 0)
        pair = (sent_campaign[usable] << 36) | sent_key[usable]
        first = pd.Series(sent_at[usable]).groupby(pair, sort=False).min()
        found = first.index.get_indexer((self.campaign << 36) | np.maximum(self.mobile, 0))
        found = np.where(self.mobile == _NONE, -1, found)
        times = first.to_numpy(dtype=np.int64)
        at = np.where(found >= 0, times[np.maximum(found, 0)] if len(times) else 0, _NONE)
        at = np.where((exposed & (at == _NONE)) | held, self.starts[self.campaign], at)
        take = (exposed | held) & self.has_key
        persons = np.flatnonzero(take)
        keys = [self.key.take(persons)]
        when = [at[persons]]
        rank = [self.campaign[persons]]
        who = [persons.astype(np.int64)]
        # Campaigns from before the home kept people still compete, by their registry messages.
        orphan = np.isin(sent_campaign, [i for i, fp in enumerate(self.fingerprints) if not people[fp]])
        orphan &= sent_key != _NONE
        if orphan.any():
            if isinstance(self.key.dtype, np.dtype) and self.key.dtype == np.int64:
                orphan_keys = pd.Index(sent_key[orphan])
            else:
                mapped = self.by_number.reindex(sent_key[orphan]).to_numpy(dtype=object)
                orphan = np.flatnonzero(orphan)[pd.notna(mapped)]
                orphan_keys = pd.Index(mapped[pd.notna(mapped)], dtype=object)
            keys.append(orphan_keys)
            when.append(sent_at[orphan])
            rank.append(sent_campaign[orphan])
            who.append(np.full(len(orphan_keys), -1, dtype=np.int64))
        self.exposure_key = keys[0].append(keys[1:]) if len(keys) > 1 else keys[0]
        self.exposure_at = np.concatenate(when)
        self.exposure_rank = np.concatenate(rank)
        self.exposure_person = np.concatenate(who)


def _attribute(home: _Home, rows: OutcomeRows, window: pd.Timedelta) -> np.ndarray:
    """The person (index into the home's people) each outcome belongs to, or -1."""
    person = np.full(len(rows.at), -1, dtype=np.int64)
    if not len(home.exposure_at) or not len(rows.at):
        return person
    exposure_code, distinct = pd.factorize(home.exposure_key)
    span = int(window / pd.Timedelta(microseconds=1))
    t0, t1 = int(home.exposure_at.min()), int(home.exposure_at.max())
    inside = np.flatnonzero((rows.at >= t0) & (rows.at <= t1 + span))  # cheap: before any hashing
    code = np.full(len(rows.at), -1, dtype=np.int64)
    code[inside] = pd.Index(distinct).get_indexer(rows.keys[inside])
    inside = inside[code[inside] >= 0]
    # One sortable int64 per (person, time): code * slots + time since t0 (in units fine enough to
    # keep the product under 2**62: microseconds for any realistic home).
    unit = 1
    while len(distinct) * ((t1 + span - t0) // unit + 2) >= 2**62:
        unit *= 1000
    slots = (t1 + span - t0) // unit + 2
    exposure_comp = exposure_code * slots + (home.exposure_at - t0) // unit
    order = np.lexsort((home.exposure_rank, exposure_comp))  # ties: the campaign recorded later wins
    comp = code[inside] * slots + (rows.at[inside] - t0) // unit
    pos = np.searchsorted(exposure_comp[order], comp, side="right") - 1
    hit = order[np.maximum(pos, 0)]
    gap = rows.at[inside] - home.exposure_at[hit]
    ok = (pos >= 0) & (exposure_code[hit] == code[inside]) & (gap >= 0) & (gap <= span)
    person[inside[ok]] = home.exposure_person[hit[ok]]
    return person


# -- the table -----------------------------------------------------------------------------------------


def _sides(home: _Home, c: int) -> tuple[list[str], dict[str, np.ndarray], np.ndarray]:
    """The arms of campaign ``c`` (variants in order, the hold-out last), each arm's counted
    people, and its people never sent."""
    mine = home.campaign == c
    held_arm = home.code(home.arm_names, HOLDOUT_ARM)
    held_status = home.code(home.status_names, HOLDOUT_ARM)
    counted = mine & (home.arm >= 0)
    counted &= ((home.status == home.code(home.status_names, _COUNTED)) & (home.arm != held_arm)) | (
        (home.status == held_status) & (home.arm == held_arm)
    )
    present = np.unique(home.arm[counted])
    arms = sorted((home.arm_names[a] for a in present), key=lambda a: (a == HOLDOUT_ARM, a))
    return (
        arms,
        {a: counted & (home.arm == home.arm_names.index(a)) for a in arms},
        mine & ~counted,
    )


def _rows(
    home: _Home, chosen: Sequence[str], person: np.ndarray, values: np.ndarray | None
) -> pd.DataFrame:
    """Per chosen campaign and arm: people, converted, outcomes, value sums, the hold-out's."""
    size = len(home.status)
    hits = person >= 0
    outcomes = np.bincount(person[hits], minlength=size)
    worth = (
        np.bincount(person[hits], weights=values[hits], minlength=size)
        if values is not None
        else np.zeros(size)
    )
    records: list[dict[str, Any]] = []
    for fp in chosen:
        c = home.fingerprints.index(fp)
        arms, members, left = _sides(home, c)
        held = members.get(HOLDOUT_ARM, np.zeros(size, dtype=bool))
        base = {
            "n0": int(held.sum()),
            "x0": int((outcomes[held] > 0).sum()),
            "s0": float(worth[held].sum()),
            "q0": float((worth[held] ** 2).sum()),
        }
        for arm in arms:
            mask = members[arm]
            records.append(
                {
                    "campaign": home.names[fp],
                    "arm": arm,
                    "people": int(mask.sum()),
                    "converted": int((outcomes[mask] > 0).sum()),
                    "outcomes": int(outcomes[mask].sum()),
                    "s1": float(worth[mask].sum()),
                    "q1": float((worth[mask] ** 2).sum()),
                    "left_out": int((left & (home.arm == home.arm_names.index(arm))).sum()),
                    **base,
                }
            )
    return pd.DataFrame(
        records,
        columns=[
            "campaign",
            "arm",
            "people",
            "converted",
            "outcomes",
            "s1",
            "q1",
            "left_out",
            "n0",
            "x0",
            "s0",
            "q0",
        ],
    )


def _statistics(raw: pd.DataFrame, *, confidence: float, valued: bool) -> pd.DataFrame:
    """The lift columns of every row at once; the hold-out's own row has lift 0."""
    n1, x1, n0, x0 = (raw[c].to_numpy(dtype=float) for c in ("people", "converted", "n0", "x0"))
    holdout = (raw["arm"] == HOLDOUT_ARM).to_numpy()
    rates = proportion_lift(x1, n1, x0, np.where(n0 > 0, n0, np.nan), confidence=confidence)
    relative = relative_lift(x1, n1, x0, np.where(n0 > 0, n0, np.nan), confidence=confidence)
    money = mean_lift(
        raw["s1"].to_numpy(dtype=float),
        raw["q1"].to_numpy(dtype=float),
        n1,
        raw["s0"].to_numpy(dtype=float),
        raw["q0"].to_numpy(dtype=float),
        np.where(n0 > 0, n0, np.nan),
        confidence=confidence,
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = (x1 + x0) / (n1 + n0)
        base = np.where((x0 > 0) & (x0 < n0), x0 / n0, pooled)
        base = np.where((base > 0) & (base < 1), base, 0.5)  # no variation seen: the widest case
        rate = np.where(n1 > 0, x1 / n1, np.nan)
        per_person = raw["s1"].to_numpy(dtype=float) / np.where(n1 > 0, n1, np.nan)
        outcomes_per_person = raw["outcomes"].to_numpy(dtype=float) / np.where(n1 > 0, n1, np.nan)
    mde = minimum_detectable_effect(base, n1, n0, confidence=confidence)

    def arm_only(values: np.ndarray, own: float) -> np.ndarray:
        return np.where(holdout, own, values)

    out = pd.DataFrame(
        {
            "rate": rate,
            "lift": arm_only(rates["lift"], 0.0),
            "lift_low": arm_only(rates["lift_low"], 0.0),
            "lift_high": arm_only(rates["lift_high"], 0.0),
            "p_value": arm_only(rates["p_value"], np.nan),
            "value_per_person": per_person,
            "value_lift": arm_only(money["lift"], 0.0),
            "value_lift_low": arm_only(money["lift_low"], 0.0),
            "value_lift_high": arm_only(money["lift_high"], 0.0),
            "outcomes_per_person": outcomes_per_person,
            "relative_lift": arm_only(relative["relative_lift"], 0.0),
            "relative_lift_low": arm_only(relative["relative_lift_low"], 0.0),
            "relative_lift_high": arm_only(relative["relative_lift_high"], 0.0),
            "mde": arm_only(mde, np.nan),
            "enough": rates["enough"] | holdout,
        }
    )
    if not valued:
        for column in ("value_per_person", "value_lift", "value_lift_low", "value_lift_high"):
            out[column] = np.nan
    return out


def _warn_small(table: pd.DataFrame, min_effect: float | None) -> None:
    """A warning per campaign whose hold-out cannot see ``min_effect`` (or is tiny)."""
    for row in table.itertuples(index=False):
        if row.arm == HOLDOUT_ARM:
            continue
        reason = None
        if row.n0 == 0:
            reason = "it has no hold-out, so there is nothing to compare against"
        elif min_effect is not None and not row.mde <= min_effect:
            reason = (
                f"its hold-out ({row.n0:,} people) is too small to see a lift of "
                f"{min_effect * 100:.2f} points: the minimum detectable effect is "
                f"{row.mde * 100:.2f} points (80 % power, 5 % level)"
            )
        elif min(row.x0, row.n0 - row.x0) < MIN_COUNT:
            reason = (
                f"its hold-out ({row.n0:,} people, {row.x0} converted) is too small to tell: the "
                f"minimum detectable effect is {row.mde * 100:.2f} points (80 % power, 5 % level)"
            )
        if reason:
            message = f"campaign {row.campaign!r}, arm {row.arm!r}: {reason}"
            warnings.warn(message, HoldoutTooSmallWarning, stacklevel=3)


def measure_outcomes(
    campaigns: str | Sequence[str] | History,
    outcomes: Any,
    *,
    window: Any = "14D",
    value: str | None = None,
    key: str = MOBILE_KEY,
    time: str | None = None,
    home: str | os.PathLike[str] | None = None,
    confidence: float = 0.95,
    min_effect: float | None = None,
    label: tuple[str, str] = ("转化率", "conversion rate"),
    details: bool = False,
) -> pd.DataFrame:
    """Outcomes attributed to campaigns, and each arm's lift against the campaign's hold-out.

    ``campaigns``: a campaign name (or fingerprint), several, or a :class:`~smscampaign.History`
    (all its campaigns; else the campaign home ``home`` is opened). ``outcomes``: a DataFrame (not
    modified) or a file loaded like a recipient list, one row per outcome: a key (``key="mobile"``:
    the number, normalised like recipient numbers; or a column the campaign's recipients carried,
    e.g. ``key="会员号"``), a time (``time=``, else the column whose name or dtype says so) and,
    with ``value=`` (e.g. ``"金额"``), an amount. ``window``: how long after the message an outcome
    still counts (``"14D"``, ``"36h"``). ``min_effect``: the lift (a fraction, e.g. 0.005) you
    care about — a :class:`HoldoutTooSmallWarning` gives the minimum detectable effect when the
    hold-out cannot see it. ``label``: what a conversion is called in the verdicts.

    One row per campaign and arm (the variants, then ``holdout``): :data:`OUTCOME_COLUMNS` —
    ``people`` on the side, ``converted`` (with at least one outcome), ``rate``, ``lift`` (rate
    minus the hold-out's, a fraction; 0 on the hold-out's own row) with its interval and
    ``p_value``, ``value_per_person`` (zeros included) and ``value_lift`` with its interval (empty
    without ``value=``), and the verdicts. ``details=True`` adds :data:`DETAIL_COLUMNS`.
    ``attrs``: ``left_out`` (per campaign, people never sent per status), ``outcomes_read``,
    ``outcomes_attributed``, ``outcomes_without_key``, ``window``, ``key``. Attribution: see the
    module's docstring.
    """
    span = outcome_window(window)
    if not 0 < confidence < 1:
        raise OutcomesError(f"confidence must be between 0 and 1, not {confidence!r}")
    rows = read_outcomes(outcomes, key=key, time=time, value=value)
    with _opened(campaigns, home) as (history, chosen, catalogue):
        found = _Home(history, key, chosen, catalogue)
    person = _attribute(found, rows, span)
    raw = _rows(found, chosen, person, rows.values)
    stats = _statistics(raw, confidence=confidence, valued=value is not None)
    table = pd.concat([raw.reset_index(drop=True), stats], axis=1)
    _warn_small(table, min_effect)
    words = Verdicts(label=label, confidence=confidence, valued=value is not None)
    table["verdict_zh"] = [words.zh(r) for r in table.to_dict("records")]
    table["verdict_en"] = [words.en(r) for r in table.to_dict("records")]
    columns = [*OUTCOME_COLUMNS, *(DETAIL_COLUMNS if details else ())]
    out = table[columns].copy()
    for column in ("campaign", "arm", "verdict_zh", "verdict_en"):
        out[column] = out[column].astype(TEXT)
    for column in ("people", "converted", *(("outcomes", "left_out") if details else ())):
        out[column] = out[column].astype("int64")
    out.attrs = {
        "left_out": _left_out(found, chosen),
        "outcomes_read": rows.read,
        "outcomes_without_key": rows.no_key,
        "outcomes_attributed": int(
            np.isin(
                found.campaign[person[person >= 0]], [found.fingerprints.index(f) for f in chosen]
            ).sum()
        ),
        "window": str(span),
        "key": key,
    }
    return out


def _left_out(home: _Home, chosen: Sequence[str]) -> dict[str, dict[str, int]]:
    """Per chosen campaign: its people on neither side, per status."""
    out: dict[str, dict[str, int]] = {}
    for fp in chosen:
        c = home.fingerprints.index(fp)
        _, _, left = _sides(home, c)
        codes, counts = np.unique(home.status[left], return_counts=True)
        named = [home.status_names[i] if i >= 0 else "unknown" for i in codes]
        out[home.names[fp]] = {n: int(k) for n, k in zip(named, counts, strict=True)}
    return out
