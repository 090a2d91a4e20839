"""The report's tables: a results frame summarised into small DataFrames (:func:`campaign_report`).

The input is the results frame of :func:`~smscampaign.send_campaign` (or
:func:`~smscampaign.read_journal`): one row per recipient with at least ``mobile`` and ``status``,
usually also ``source_row, code, message_zh, message_en, category, batch, attempts,
gateway_result, sent_at, content, reason, carrier, region``. Missing optional columns are
tolerated; the input is never modified. The workbook (:mod:`~smscampaign.reports.workbook`) and the
figure (:mod:`~smscampaign.reports.plots`) are drawn from these tables.

"accepted" means accepted by the gateway, not delivered: the protocol has no delivery reports.

>>> tables = campaign_report(results)                    # doctest: +SKIP
>>> tables["summary"]                                    # doctest: +SKIP
     status   zh  recipients  share
0  accepted  已受理          98   0.98
…
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from smscampaign.core.codes import describe_code
from smscampaign.core.dtypes import TEXT, needs_text
from smscampaign.core.errors import ConfigError
from smscampaign.core.reasons import STATUS_LABELS
from smscampaign.memory.journal import RECONCILIATION_COLUMNS
from smscampaign.reports.compare import report_tables
from smscampaign.stages.numbers import UNKNOWN, province_of

__all__ = ["campaign_report", "column_or_na", "plain_value"]

#: Statuses the summary always lists, even at zero; the others only when they occur.
_ALWAYS = ("accepted", "failed", "unknown")
_ERROR_STATUSES = ("failed", "unknown")


def column_or_na(results: pd.DataFrame, name: str) -> pd.Series:
    """``results[name]``, or an all-NA column when the results lack it."""
    if name in results.columns:
        return results[name]
    return pd.Series(pd.NA, index=results.index, dtype="object")


def plain_value(value: Any) -> Any:
    """A plain Python value, as a table cell or an Excel cell holds it: NA → None, numpy → Python,
    tz-aware → naive, lists joined."""
    if value is None:
        return None
    if isinstance(value, (list, tuple, set)):
        return ",".join(str(v) for v in value)
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()
        if isinstance(value, list):
            return ",".join(str(v) for v in value)
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)  # local wall time of its own zone; Excel has no zones
    if isinstance(value, (str, int, float, bool, dt.datetime, dt.date, dt.time)):
        return value
    return str(value)


def _labelled(values: pd.Series) -> pd.Series:
    """Text values with NA and blanks shown as 未知 (so they group and plot); each distinct value is
    cleaned once, then spread back (a million rows hold a handful of statuses or carriers)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    text = pd.Series(uniques, dtype=TEXT).str.strip()
    labels = text.mask(text.isna() | (text == ""), UNKNOWN).astype(object).to_numpy()
    labels = np.append(labels, UNKNOWN)  # code -1 (missing) takes the last one
    return pd.Series(labels[codes], index=values.index, dtype=object)


def _status_order(statuses: Iterable[str]) -> list[str]:
    present = set(statuses)
    known = [s for s in STATUS_LABELS if s in _ALWAYS or s in present]
    return known + sorted(str(s) for s in present - set(STATUS_LABELS))


def _summary(results: pd.DataFrame) -> pd.DataFrame:
    status = _labelled(column_or_na(results, "status"))
    counts = status.value_counts()
    order = _status_order(counts.index)
    total = len(results)
    table = pd.DataFrame(
        {
            "status": order,
            "zh": [STATUS_LABELS.get(s, s) for s in order],
            "recipients": [int(counts.get(s, 0)) for s in order],
        }
    )
    table["share"] = [round(n / total, 4) if total else 0.0 for n in table["recipients"]]
    table.attrs = {"recipients": total}
    return table


def _errors(results: pd.DataFrame) -> pd.DataFrame:
    columns = ["code", "zh", "en", "category", "recipients"]
    status = column_or_na(results, "status").astype("string")
    failing = results[status.isin(_ERROR_STATUSES).fillna(False).to_numpy(dtype=bool)]
    if failing.empty:
        return pd.DataFrame(
            {c: pd.Series(dtype="Int64" if c in ("code", "recipients") else TEXT) for c in columns}
        )
    codes = pd.to_numeric(column_or_na(failing, "code"), errors="coerce").astype("Int64")
    rows: list[dict[str, Any]] = []
    for code, group in failing.groupby(codes, dropna=False, sort=False):
        if pd.isna(code):
            # No gateway answer (network failure …): take the send engine's own words.
            zh, en, category = (
                _first(group, "message_zh", "无响应"),
                _first(group, "message_en", "No answer from the gateway"),
                _first(group, "category", "ambiguous"),
            )
            rows.append(
                {"code": pd.NA, "zh": zh, "en": en, "category": category, "recipients": len(group)}
            )
        else:
            info = describe_code(int(code))
            rows.append(
                {
                    "code": int(code),
                    "zh": info.zh,
                    "en": info.en,
                    "category": info.category,
                    "recipients": len(group),
                }
            )
    table = pd.DataFrame(rows, columns=columns)
    table["code"] = table["code"].astype("Int64")
    table["recipients"] = table["recipients"].astype("Int64")
    return table.sort_values(
        ["recipients", "code"], ascending=[False, True], na_position="last", kind="stable"
    ).reset_index(drop=True)


def _first(group: pd.DataFrame, column: str, default: str) -> str:
    values = column_or_na(group, column).dropna()
    return str(values.iloc[0]) if len(values) else default


def _crosstab(results: pd.DataFrame, keys: pd.Series, name: str) -> pd.DataFrame:
    status = _labelled(column_or_na(results, "status"))
    order = _status_order(status.unique())
    table = pd.crosstab(keys.to_numpy(), status.to_numpy())
    table = table.reindex(columns=[s for s in order if s in table.columns], fill_value=0)
    table.columns = [str(c) for c in table.columns]
    table.insert(0, "recipients", table.sum(axis=1))
    if "accepted" not in table.columns:
        table["accepted"] = 0
    table["accepted_share"] = (table["accepted"] / table["recipients"]).round(4)
    table = table.sort_values("recipients", ascending=False, kind="stable")
    table.index.name = name
    table = table.reset_index()
    table[name] = table[name].astype(object)
    return table.astype({c: "int64" for c in table.columns if c not in (name, "accepted_share")})


_BATCH_COLUMNS = [
    "batch",
    "size",
    "status",
    "code",
    "message_zh",
    "message_en",
    "attempts",
    "sent_at",
    "gateway_result",
]


def _per_batch(values: pd.Series, keys: np.ndarray, index: pd.Index, how: str) -> pd.Series:
    """``how`` ("first", "min", "max") of each batch's non-missing ``values``, NA where a batch has
    none; one groupby over the whole column, not one per batch."""
    present = values.notna().to_numpy(dtype=bool)
    grouped = pd.Series(values.array[present]).groupby(keys[present], sort=True)
    return getattr(grouped, how)().reindex(index)


def _built(values: pd.Series, convert: Any = None) -> Any:
    """``values`` as a frame built from per-batch Python values holds them (the first release's
    dtypes): text stays ``str``, complete datetimes stay datetimes, anything else goes through
    Python objects with NA as ``pd.NA``."""
    missing = values.isna().to_numpy(dtype=bool)
    if not missing.all():
        if pd.api.types.is_string_dtype(values.dtype) and values.dtype != object:
            return values.astype(TEXT).array
        if pd.api.types.is_datetime64_any_dtype(values.dtype) and not missing.any():
            return values.array
    objects = values.astype(object).to_numpy().copy()
    if convert is not None:
        objects[~missing] = [convert(v) for v in objects[~missing]]
    objects[missing] = pd.NA
    return objects.tolist()


def _integers(values: pd.Series) -> Any:
    return pd.array(np.trunc(values.to_numpy(dtype=float, na_value=np.nan)), dtype="Int64")


def _batches(results: pd.DataFrame) -> pd.DataFrame:
    batch = pd.to_numeric(column_or_na(results, "batch"), errors="coerce").astype("Int64")
    mask = batch.notna().to_numpy(dtype=bool)
    if not mask.any():
        return pd.DataFrame({c: pd.Series(dtype=object) for c in _BATCH_COLUMNS})
    keys = batch.to_numpy(dtype=np.int64, na_value=0)[mask]
    sizes = pd.Series(keys).value_counts().sort_index()
    index = sizes.index

    def column(name: str) -> pd.Series:
        return column_or_na(results, name)[mask]

    # Statuses of a batch in order of first appearance, joined (nearly always just one).
    labels = pd.DataFrame({"batch": keys, "status": _labelled(column("status")).to_numpy()})
    labels = labels.drop_duplicates()
    statuses = labels.groupby("batch", sort=True)["status"].first()
    mixed = labels["batch"].duplicated(keep=False).to_numpy()
    if mixed.any():
        joined = labels[mixed].groupby("batch", sort=True)["status"].agg(", ".join)
        statuses.loc[joined.index] = joined
    code = _per_batch(pd.to_numeric(column("code"), errors="coerce"), keys, index, "first")
    attempts = _per_batch(pd.to_numeric(column("attempts"), errors="coerce"), keys, index, "max")

    def first_text(name: str) -> Any:
        values = _per_batch(column(name), keys, index, "first")
        return values.astype(object).fillna("").astype(TEXT).array

    return pd.DataFrame(
        {
            "batch": index.to_numpy(dtype=np.int64),
            "size": sizes.to_numpy(dtype=np.int64),
            "status": pd.array(statuses.reindex(index).to_numpy(dtype=object), dtype=TEXT),
            "code": _integers(code),
            "message_zh": first_text("message_zh"),
            "message_en": first_text("message_en"),
            "attempts": _integers(attempts),
            "sent_at": _built(_per_batch(column("sent_at"), keys, index, "min")),
            "gateway_result": _built(
                _per_batch(column("gateway_result"), keys, index, "first"), plain_value
            ),
        },
        columns=_BATCH_COLUMNS,
    )


def campaign_report(results: pd.DataFrame, history: Any = None) -> dict[str, pd.DataFrame]:
    """Summarise a results frame into small DataFrames; ``results`` is not modified.

    - ``summary``: ``status, zh, recipients, share`` — accepted / failed / unknown always, the other
      statuses when they occur, in a fixed order; ``attrs["recipients"]`` is the total;
    - ``errors``: one row per return code among ``failed`` and ``unknown`` recipients —
      ``code, zh, en, category, recipients``, most frequent first (``code`` <NA>: no gateway
      answer);
    - ``carriers`` / ``regions``: per carrier / per province-level division (``region`` cut to
      one of the 34 :data:`PROVINCES`, e.g. 广东省深圳市 → 广东省, 内蒙古呼和浩特市 → 内蒙古自治区)
      — ``carrier|province, recipients``, one column per status, ``accepted_share``; unknown ones
      as 未知 (``regions.attrs["unknown_share"]`` is their share of all recipients);
    - ``batches``: one row per ``send_sms`` call — ``batch, size, status, code, message_zh,
      message_en, attempts, sent_at, gateway_result``;
    - ``reconciliations``: every balance reading and verdict of ``reconcile="balance"`` (from
      ``results.attrs["reconciliations"]``), in order — ``at, sms_left, expected, deducted, batches,
      verdict, note, accepted_total``; empty when the campaign was not reconciled.
    - with ``history`` (a :class:`~smscampaign.History`): ``engagement``,
      ``engagement_carriers``, ``engagement_regions`` (reply rate, opt-out rate, time to reply) and,
      for an A/B test, ``arms`` and ``arm_tests`` (:func:`~smscampaign.reports.compare.report_tables`).

    >>> results = pd.DataFrame({"mobile": ["13800138000", None], "status": ["accepted", "invalid"]})
    >>> campaign_report(results)["summary"][["status", "recipients"]].to_dict("list")
    {'status': ['accepted', 'failed', 'unknown', 'invalid'], 'recipients': [1, 0, 0, 1]}
    """
    if not isinstance(results, pd.DataFrame):
        raise ConfigError(f"results must be a DataFrame, not {type(results).__name__}")
    if "status" not in results.columns:
        raise ConfigError("results have no 'status' column (expected the frame send_campaign returns)")
    carriers = _labelled(column_or_na(results, "carrier"))
    # phonenumbers' region, else the 号段 database's province for the mobile (numbers.province_of).
    provinces = province_of(results[[c for c in ("region", "mobile") if c in results.columns]])
    provinces = provinces.astype(object)
    regions_table = _crosstab(results, provinces, "province")
    unknown = int((provinces == UNKNOWN).sum())
    regions_table.attrs = {"unknown_share": round(unknown / len(results), 4) if len(results) else 0.0}
    tables = {
        "summary": _summary(results),
        "errors": _errors(results),
        "carriers": _crosstab(results, carriers, "carrier"),
        "regions": regions_table,
        "batches": _batches(results),
        "reconciliations": _reconciliations(results),
    }
    if history is not None:  # reply / opt-out rates and A/B arms (smscampaign.memory.history, issue 13)
        tables.update(report_tables(results, history))
    return _as_text(tables)


def _as_text(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The tables with their text columns in the package's one text dtype (:data:`TEXT`)."""
    for table in tables.values():
        for name, column in table.items():
            if needs_text(column):
                table[name] = column.astype(TEXT)
    return tables


def _reconciliations(results: pd.DataFrame) -> pd.DataFrame:
    """``results.attrs["reconciliations"]`` (a list of dicts) as a frame, in journal order, with
    the journal's columns."""
    records = results.attrs.get("reconciliations") or []
    table = pd.DataFrame(list(records), columns=list(RECONCILIATION_COLUMNS))
    for column in ("sms_left", "expected", "deducted", "accepted_total"):
        table[column] = pd.to_numeric(table[column], errors="coerce").astype("Int64")
    for column in ("at", "batches", "verdict", "note"):
        table[column] = [None if v is None or pd.isna(v) else str(v) for v in table[column]]
    return table
