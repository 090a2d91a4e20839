"""Campaigns side by side, and the report's tables from the campaign history.

- :func:`compare_campaigns` — one row per campaign run of a :class:`~smscampaign.History`: messages,
  replies, reply and opt-out rates, median time to reply (:data:`COMPARISON_COLUMNS`);
- :func:`export_comparison` — that table as an ``.xlsx`` (sheet 对比); its figure is
  :func:`~smscampaign.reports.plots.plot_comparison`;
- :func:`report_tables` — what :func:`~smscampaign.campaign_report` adds with ``history=``: reply
  and opt-out rates of this campaign (overall, per carrier, per province) and, for an A/B test, the
  arms and their tests; :data:`REPORT_SHEETS` names their workbook sheets.

>>> with sc.History() as history:                                    # doctest: +SKIP
...     sc.compare_campaigns(history, ["spring", "summer"])
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from smscampaign.campaign.variants import HOLDOUT, two_proportion_test
from smscampaign.core.dtypes import TEXT
from smscampaign.core.errors import ConfigError
from smscampaign.reports.lift import proportion_lift
from smscampaign.reports.outcomes import OUTCOME_LABELS, measure_outcomes
from smscampaign.stages.numbers import UNKNOWN, province_of

if TYPE_CHECKING:  # pragma: no cover - typing only
    from smscampaign.memory.history import History

__all__ = [
    "COMPARISON_COLUMNS",
    "CONVERSION_COLUMNS",
    "REPORT_SHEETS",
    "compare_campaigns",
    "export_comparison",
    "report_tables",
    "write_outcome_sheet",
]

logger = logging.getLogger(__name__)


def compare_campaigns(
    history: History,
    names: Sequence[str] | None = None,
    *,
    attribution_window: Any = None,
    outcomes: Any = None,
    outcome_window: Any = "14D",
    value: str | None = None,
    key: str = "mobile",
) -> pd.DataFrame:
    """Campaigns side by side, one row each (``names`` in that order; default all, oldest first).

    Columns: ``campaign, created, template, recipients`` (rows planned), ``messages`` (sent or unknown,
    from the registry), ``accepted, replied`` (numbers with an attributed reply), ``reply_rate``
    (replied / messages), ``opted_out`` (numbers whose attributed reply is an opt-out),
    ``opt_out_rate``, ``median_time_to_reply``. Names may also be fingerprints (or their start).

    With ``outcomes`` (orders, visits …: what :func:`~smscampaign.measure_outcomes` takes, with
    ``outcome_window``, ``value`` and ``key``), :data:`CONVERSION_COLUMNS` follow: the people texted
    (every arm together) against the hold-out — ``converted, conversion_rate, holdout_rate,
    conversion_lift`` with its 95 % interval and p-value, ``value_per_person`` (empty without
    ``value``). The per-arm table is ``measure_outcomes``'s.
    """
    campaigns = history.campaigns()
    if names is None:
        chosen = campaigns
    else:
        picked = []
        for name in names:
            match = campaigns[
                (campaigns["name"] == name) | campaigns["fingerprint"].str.startswith(str(name))
            ]
            if match.empty:
                known = ", ".join(campaigns["name"].astype(str)) or "none"
                raise ConfigError(
                    f"no campaign named {name!r} in {history.store.location} (known: {known})"
                )
            sent = match[match["messages"] > 0]  # a plan sent again (all already_sent): its sending run
            picked.append((sent if len(sent) else match).iloc[-1])
        chosen = pd.DataFrame(picked).reset_index(drop=True)
    replies = history.replies(attribution_window)
    attributed = replies[replies["fingerprint"].notna()]
    rows = []
    for row in chosen.itertuples(index=False):
        messages = int(row.messages)
        # a run that sent nothing (its plan's people were already_sent) has no replies of its own
        mine = attributed[(attributed["fingerprint"] == row.fingerprint) & (messages > 0)]
        replied = mine["sender"].nunique()
        opted = mine.loc[mine["opt_out"], "sender"].nunique()
        first = mine.drop_duplicates("sender")
        rows.append(
            {
                "campaign": row.name,
                "created": row.created,
                "template": row.template,
                "recipients": int(row.recipients),
                "messages": messages,
                "accepted": int(getattr(row, "accepted", 0) or 0),
                "replied": int(replied),
                "reply_rate": replied / messages if messages else np.nan,
                "opted_out": int(opted),
                "opt_out_rate": opted / messages if messages else np.nan,
                "median_time_to_reply": first["time_to_reply"].median() if len(first) else None,
            }
        )
    out = pd.DataFrame(rows, columns=COMPARISON_COLUMNS)
    for column in ("campaign", "template"):
        out[column] = out[column].astype(TEXT)
    # from an object column of None where no reply came: a table none of whose campaigns has a
    # reply yet (as right after sending) is still timedelta, not the datetime NaT infers
    medians = out["median_time_to_reply"].astype(object).where(out["median_time_to_reply"].notna())
    out["median_time_to_reply"] = pd.to_timedelta(medians).astype("timedelta64[ns]")
    if outcomes is not None:
        measured = measure_outcomes(
            history, outcomes, window=outcome_window, value=value, key=key, details=True
        )
        out = pd.concat([out, _conversions(measured, out["campaign"])], axis=1)
    return out


#: Columns :func:`compare_campaigns` adds with ``outcomes``.
CONVERSION_COLUMNS: Final = (
    "converted",
    "conversion_rate",
    "holdout_rate",
    "conversion_lift",
    "conversion_lift_low",
    "conversion_lift_high",
    "conversion_p_value",
    "value_per_person",
)


def _conversions(measured: pd.DataFrame, campaigns: pd.Series) -> pd.DataFrame:
    """Per campaign: every texted arm pooled against its hold-out."""
    rows = []
    for name in campaigns:
        mine = measured[measured["campaign"] == name]
        arms = mine[mine["arm"] != HOLDOUT]
        held = mine[mine["arm"] == HOLDOUT]
        n1, x1 = int(arms["people"].sum()), int(arms["converted"].sum())
        n0, x0 = int(held["people"].sum()), int(held["converted"].sum())
        got = proportion_lift(np.array([x1]), np.array([n1]), np.array([x0]), np.array([n0 or np.nan]))
        value = (arms["value_per_person"] * arms["people"]).sum() / n1 if n1 else np.nan
        rows.append(
            {
                "converted": x1,
                "conversion_rate": x1 / n1 if n1 else np.nan,
                "holdout_rate": x0 / n0 if n0 else np.nan,
                "conversion_lift": got["lift"][0],
                "conversion_lift_low": got["lift_low"][0],
                "conversion_lift_high": got["lift_high"][0],
                "conversion_p_value": got["p_value"][0],
                "value_per_person": value if arms["value_per_person"].notna().any() else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=list(CONVERSION_COLUMNS), index=campaigns.index)


#: Columns of :func:`compare_campaigns`.
COMPARISON_COLUMNS: Final = (
    "campaign",
    "created",
    "template",
    "recipients",
    "messages",
    "accepted",
    "replied",
    "reply_rate",
    "opted_out",
    "opt_out_rate",
    "median_time_to_reply",
)


def export_comparison(
    comparison: pd.DataFrame, path: str | os.PathLike[str], *, outcomes: pd.DataFrame | None = None
) -> Path:
    """Write the comparison as an ``.xlsx`` workbook (sheet 对比, rates as percentages); with
    ``outcomes`` (:func:`~smscampaign.measure_outcomes`), a 转化 sheet of conversions and lift per
    arm."""
    target = Path(path)
    if target.suffix.lower() != ".xlsx":
        raise ConfigError(f"the comparison is written as .xlsx, not {target.suffix or 'no suffix'}")
    sheet = comparison.copy()
    for column in sheet.columns:
        if isinstance(sheet[column].dtype, pd.DatetimeTZDtype):
            sheet[column] = sheet[column].dt.tz_localize(None)
    sheet["median_time_to_reply"] = sheet["median_time_to_reply"].map(
        lambda v: "" if pd.isna(v) else str(pd.Timedelta(v).floor("s"))
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    with pd.ExcelWriter(target, engine="openpyxl") as writer:
        _openpyxl_sheet(
            writer,
            "对比",
            sheet,
            list(sheet.columns),
            width=lambda column: min(60, max(10, len(str(column)) + 2)),
            percent=lambda column: column.endswith("_rate") or column.startswith("conversion_lift"),
            number_format="0.0%",
        )
        if outcomes is not None:
            write_outcome_sheet(writer, outcomes)
    return target


def write_outcome_sheet(writer: pd.ExcelWriter, outcomes: pd.DataFrame) -> None:
    """The 转化 sheet: measure_outcomes' table, bilingual headers, rates and lifts as percentages."""
    _openpyxl_sheet(
        writer,
        "转化",
        outcomes.rename(columns=OUTCOME_LABELS),
        list(outcomes.columns),
        width=lambda column: (
            70 if column.startswith("verdict") else max(10, len(OUTCOME_LABELS.get(column, column)) + 2)
        ),
        percent=lambda column: (
            column in ("rate", "lift", "lift_low", "lift_high", "mde")
            or column.startswith("relative_lift")
        ),
        number_format="0.00%",
    )


def _openpyxl_sheet(
    writer: pd.ExcelWriter,
    name: str,
    sheet: pd.DataFrame,
    columns: list[str],
    *,
    width: Callable[[str], float],
    percent: Callable[[str], bool],
    number_format: str,
) -> None:
    """``sheet`` as the workbook sheet ``name``: frozen header, autofilter, each of ``columns`` (the
    frame's own names, one per sheet column) ``width`` wide, ``percent`` ones as percentages."""
    sheet.to_excel(writer, sheet_name=name, index=False)
    ws = writer.sheets[name]
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    for i, column in enumerate(columns, start=1):
        letter = ws.cell(row=1, column=i).column_letter
        ws.column_dimensions[letter].width = width(column)
        if percent(column):
            for cell in ws[letter][1:]:
                cell.number_format = number_format


# -- the report's history tables -------------------------------------------------------------------

#: Result statuses of rows the send engine took on (the denominators of the A/B comparison).
_TAKEN_ON: Final = ("accepted", "failed", "unknown", "not_sent", "already_sent")
#: Sheets :func:`~smscampaign.export_report` adds for these tables, in order.
REPORT_SHEETS: Final = (
    ("回复率 engagement", "engagement"),
    ("回复率-运营商", "engagement_carriers"),
    ("回复率-地区", "engagement_regions"),
    ("AB 分组", "arms"),
    ("AB 检验", "arm_tests"),
)


def _engagement(frame: pd.DataFrame, keys: pd.Series, name: str) -> pd.DataFrame:
    """Per key: ``messages`` (accepted or unknown), ``replied``, ``reply_rate``, ``opted_out``,
    ``opt_out_rate``, ``median_time_to_reply``."""
    grouped = frame.assign(_key=keys.to_numpy()).groupby("_key", sort=False, dropna=False)
    table = pd.DataFrame(
        {
            "messages": grouped["sent"].sum().astype("int64"),
            "replied": grouped["replied"].sum().astype("int64"),
            "opted_out": grouped["opted_out"].sum().astype("int64"),
            "median_time_to_reply": grouped["time_to_reply"].median(),
        }
    )
    table["reply_rate"] = (table["replied"] / table["messages"].where(table["messages"] > 0)).round(4)
    table["opt_out_rate"] = (table["opted_out"] / table["messages"].where(table["messages"] > 0)).round(
        4
    )
    table = table.sort_values("messages", ascending=False, kind="stable")
    table.index.name = name
    table = table.reset_index()
    columns = [name, "messages", "replied", "reply_rate", "opted_out", "opt_out_rate"]
    return table[[*columns, "median_time_to_reply"]]


def report_tables(
    results: pd.DataFrame, history: History, *, attribution_window: Any = None
) -> dict[str, pd.DataFrame]:
    """The campaign history's tables for :func:`~smscampaign.campaign_report`.

    Replies attributed to this campaign (``results.attrs["fingerprint"]``) give, over the messages
    sent (``accepted`` or ``unknown``): ``engagement`` (the campaign), ``engagement_carriers``,
    ``engagement_regions`` (per province) — ``messages, replied, reply_rate, opted_out, opt_out_rate,
    median_time_to_reply``. With a ``variant`` column (an A/B test), ``arms`` (per variant:
    ``recipients, accepted, accepted_rate, replied, reply_rate, opted_out, opt_out_rate``) and
    ``arm_tests`` (each arm against the first, per rate, with :func:`two_proportion_test`'s p-value,
    95 % interval and verdict). ``results`` is not modified.
    """
    fingerprint = results.attrs.get("fingerprint")
    replies = history.replies(attribution_window)
    mine = replies[replies["fingerprint"] == fingerprint] if fingerprint else replies.iloc[0:0]
    per = mine.groupby("sender").agg(time_to_reply=("time_to_reply", "min"), opt_out=("opt_out", "any"))
    status = results["status"].astype(object).to_numpy()
    mobile = results["mobile"].astype(object).to_numpy()
    sent = np.isin(status, ["accepted", "unknown"])
    replied = sent & pd.Index(mobile, dtype=object).isin(per.index)
    opted = replied & pd.Index(mobile, dtype=object).isin(per.index[per["opt_out"]])
    ttr = pd.Series(mobile).map(per["time_to_reply"]).where(replied)
    frame = pd.DataFrame(
        {
            "sent": sent,
            "replied": replied,
            "opted_out": opted,
            "time_to_reply": pd.to_timedelta(ttr.to_numpy()),
        }
    )
    names = dict(zip(history.campaigns()["fingerprint"], history.campaigns()["name"], strict=True))
    label = names.get(fingerprint, (fingerprint or "campaign")[:12])

    def labelled(column: str) -> pd.Series:
        if column not in results.columns:
            return pd.Series([UNKNOWN] * len(results), dtype=object)
        values = results[column].astype(object).to_numpy()
        return pd.Series([v if isinstance(v, str) and v else UNKNOWN for v in values], dtype=object)

    tables = {
        "engagement": _engagement(frame, pd.Series([label] * len(results), dtype=object), "campaign"),
        "engagement_carriers": _engagement(frame, labelled("carrier"), "carrier"),
        "engagement_regions": _engagement(frame, _provinces(results), "province"),
    }
    if "variant" in results.columns:
        tables.update(_arms(results, frame))
    return tables


def _provinces(results: pd.DataFrame) -> pd.Series:
    if "region" not in results.columns and "mobile" not in results.columns:
        return pd.Series([UNKNOWN] * len(results), dtype=object)
    return province_of(results).reset_index(drop=True).astype(object)


def _arms(results: pd.DataFrame, frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    variant = results["variant"].astype(object).to_numpy()
    status = results["status"].astype(object).to_numpy()
    taken = np.isin(status, _TAKEN_ON) | (status == HOLDOUT)
    rows: list[dict[str, Any]] = []
    names = [v for v in pd.unique(variant[taken]) if isinstance(v, str)]
    names = sorted(names, key=lambda v: (v == HOLDOUT, v))
    for name in names:
        arm = taken & (variant == name)
        accepted = int((arm & (status == "accepted")).sum())
        recipients = int(arm.sum())
        replied = int(frame["replied"].to_numpy()[arm].sum())
        opted = int(frame["opted_out"].to_numpy()[arm].sum())
        rows.append(
            {
                "variant": name,
                "recipients": recipients,
                "accepted": accepted,
                "accepted_rate": accepted / recipients if recipients else np.nan,
                "replied": replied,
                "reply_rate": replied / accepted if accepted else np.nan,
                "opted_out": opted,
                "opt_out_rate": opted / accepted if accepted else np.nan,
            }
        )
    arms = pd.DataFrame(rows)
    tests = []
    sent_arms = [r for r in rows if r["variant"] != HOLDOUT]
    if sent_arms:
        ref = sent_arms[0]
        for other in sent_arms[1:]:
            for metric, hits, base in (
                ("accepted_rate", "accepted", "recipients"),
                ("reply_rate", "replied", "accepted"),
                ("opt_out_rate", "opted_out", "accepted"),
            ):
                try:
                    got = two_proportion_test(
                        ref[hits],
                        ref[base],
                        other[hits],
                        other[base],
                        labels=(ref["variant"], other["variant"]),
                    )
                except ConfigError as exc:  # scipy is an extra: the counts stay, the test says why
                    got = {k: np.nan for k in ("rate_a", "rate_b", "difference", "ci_low", "ci_high")}
                    got.update(p_value=np.nan, test=None, verdict=str(exc))
                tests.append(
                    {
                        "metric": metric,
                        "reference": ref["variant"],
                        "variant": other["variant"],
                        "reference_rate": got["rate_a"],
                        "variant_rate": got["rate_b"],
                        "difference": got["difference"],
                        "ci_low": got["ci_low"],
                        "ci_high": got["ci_high"],
                        "p_value": got["p_value"],
                        "test": got["test"],
                        "verdict": got["verdict"],
                    }
                )
    columns = [
        "metric",
        "reference",
        "variant",
        "reference_rate",
        "variant_rate",
        "difference",
        "ci_low",
        "ci_high",
        "p_value",
        "test",
        "verdict",
    ]
    return {"arms": arms, "arm_tests": pd.DataFrame(tests, columns=columns)}
