"""Reports on a campaign: small DataFrames, an Excel workbook a person is glad to receive, a figure.

All three read the results frame of :func:`~smscampaign.send_campaign` (or
:func:`~smscampaign.read_journal`): one row per recipient with at least ``mobile`` and
``status``, usually also ``source_row, code, message_zh, message_en, category, batch, attempts,
gateway_result, sent_at, content, reason, carrier, region``. Missing optional columns are tolerated.
None of them mutates its inputs.

- :func:`campaign_report` — ``summary``, ``errors``, ``carriers``, ``regions``, ``batches`` frames;
- :func:`export_report` — an ``.xlsx`` with sheets 概览 (with a native bar chart), 明细, 错误,
  无效与重复, 批次 and 回复; every text cell is written as text, never as a formula;
- :func:`plot_report` — a matplotlib :class:`~matplotlib.figure.Figure` for notebooks.

"accepted" means accepted by the gateway, not delivered: the protocol has no delivery reports.

>>> tables = campaign_report(results)                    # doctest: +SKIP
>>> tables["summary"]                                    # doctest: +SKIP
     status   zh  recipients  share
0  accepted  已受理          98   0.98
…
>>> export_report(results, "reports/campaign.xlsx")      # doctest: +SKIP
PosixPath('reports/campaign.xlsx')
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from smscampaign.reports import xlsx
from smscampaign.core.codes import describe_code
from smscampaign.core.dtypes import TEXT, needs_text
from smscampaign.core.reasons import reason_zh
from smscampaign.core.errors import ConfigError
from smscampaign.stages.numbers import province_of
from smscampaign.wire.protocol import BEIJING

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.figure import Figure

    from smscampaign.campaign.plan import Plan

__all__ = [
    "CJK_FONTS",
    "COLUMN_LABELS",
    "STATUS_LABELS",
    "VERDICT_LABELS",
    "campaign_report",
    "export_report",
    "plot_report",
]

logger = logging.getLogger(__name__)

#: Every status of a results frame, in report order, with its Chinese label.
STATUS_LABELS: dict[str, str] = {
    "accepted": "已受理",
    "failed": "失败",
    "unknown": "结果未知",
    "not_sent": "未发送",
    "already_sent": "已发过，未重发",
    "invalid": "号码无效",
    "duplicate": "号码重复",
    "suppressed": "已屏蔽",
    "missing_field": "缺少字段",
    "too_long": "内容过长",
    "unencodable": "无法编码",
}
#: Statuses the summary always lists, even at zero; the others only when they occur.
_ALWAYS = ("accepted", "failed", "unknown")
_ERROR_STATUSES = ("failed", "unknown")
_UNKNOWN_LABEL = "未知"

_CARRIERS_EN = {
    "中国移动": "China Mobile",
    "中国联通": "China Unicom",
    "中国电信": "China Telecom",
    "中国广电": "China Broadnet",
}
# -- DataFrames ------------------------------------------------------------------------------------


def _column(results: pd.DataFrame, name: str) -> pd.Series:
    """``results[name]``, or an all-NA column when the results lack it."""
    if name in results.columns:
        return results[name]
    return pd.Series(pd.NA, index=results.index, dtype="object")


def _labelled(values: pd.Series) -> pd.Series:
    """Text values with NA and blanks shown as 未知 (so they group and plot); each distinct value is
    cleaned once, then spread back (a million rows hold a handful of statuses or carriers)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    text = pd.Series(uniques, dtype=TEXT).str.strip()
    labels = text.mask(text.isna() | (text == ""), _UNKNOWN_LABEL).astype(object).to_numpy()
    labels = np.append(labels, _UNKNOWN_LABEL)  # code -1 (missing) takes the last one
    return pd.Series(labels[codes], index=values.index, dtype=object)


def _status_order(statuses: Iterable[str]) -> list[str]:
    present = set(statuses)
    known = [s for s in STATUS_LABELS if s in _ALWAYS or s in present]
    return known + sorted(str(s) for s in present - set(STATUS_LABELS))


def _summary(results: pd.DataFrame) -> pd.DataFrame:
    status = _labelled(_column(results, "status"))
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
    status = _column(results, "status").astype("string")
    failing = results[status.isin(_ERROR_STATUSES).fillna(False).to_numpy(dtype=bool)]
    if failing.empty:
        return pd.DataFrame(
            {c: pd.Series(dtype="Int64" if c in ("code", "recipients") else TEXT) for c in columns}
        )
    codes = pd.to_numeric(_column(failing, "code"), errors="coerce").astype("Int64")
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
    values = _column(group, column).dropna()
    return str(values.iloc[0]) if len(values) else default


def _crosstab(results: pd.DataFrame, keys: pd.Series, name: str) -> pd.DataFrame:
    status = _labelled(_column(results, "status"))
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
    batch = pd.to_numeric(_column(results, "batch"), errors="coerce").astype("Int64")
    mask = batch.notna().to_numpy(dtype=bool)
    if not mask.any():
        return pd.DataFrame({c: pd.Series(dtype=object) for c in _BATCH_COLUMNS})
    keys = batch.to_numpy(dtype=np.int64, na_value=0)[mask]
    sizes = pd.Series(keys).value_counts().sort_index()
    index = sizes.index

    def column(name: str) -> pd.Series:
        return _column(results, name)[mask]

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
            "gateway_result": _built(_per_batch(column("gateway_result"), keys, index, "first"), _plain),
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
    carriers = _labelled(_column(results, "carrier"))
    # phonenumbers' region, else the 号段 database's province for the mobile (numbers.province_of).
    provinces = province_of(results[[c for c in ("region", "mobile") if c in results.columns]])
    provinces = provinces.astype(object)
    regions_table = _crosstab(results, provinces, "province")
    unknown = int((provinces == _UNKNOWN_LABEL).sum())
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
        from smscampaign.reports.compare import report_tables  # noqa: PLC0415

        tables.update(report_tables(results, history))
    return _as_text(tables)


def _as_text(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The tables with their text columns in the package's one text dtype (:data:`TEXT`)."""
    for table in tables.values():
        for name, column in table.items():
            if needs_text(column):
                table[name] = column.astype(TEXT)
    return tables


#: Verdicts of a balance reading (send._Balance), in Chinese.
VERDICT_LABELS: dict[str, str] = {
    "reading": "余额读数",
    "accepted": "已扣费，确认已受理",
    "not_sent": "未扣费，确认未发送",
    "split": "部分已受理",
    "ambiguous": "无法判定",
    "inconsistent": "余额不符（账户另有使用）",
}


def _reconciliations(results: pd.DataFrame) -> pd.DataFrame:
    """``results.attrs["reconciliations"]`` (a list of dicts) as a frame, in journal order."""
    from smscampaign.memory.journal import RECONCILIATION_COLUMNS  # noqa: PLC0415 - the journal's columns

    records = results.attrs.get("reconciliations") or []
    table = pd.DataFrame(list(records), columns=list(RECONCILIATION_COLUMNS))
    for column in ("sms_left", "expected", "deducted", "accepted_total"):
        table[column] = pd.to_numeric(table[column], errors="coerce").astype("Int64")
    for column in ("at", "batches", "verdict", "note"):
        table[column] = [None if v is None or pd.isna(v) else str(v) for v in table[column]]
    return table


def _maybe(value: Any) -> Any:
    """``value``, or None where it is missing (None, NaN, NA) or empty."""
    return None if value is None or value is pd.NA or value != value or value == "" else value


def _reconciled_batches(
    batches: pd.DataFrame, readings: pd.DataFrame
) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """批次 with each batch's balance verdicts beside it (the last reading's figures), and the
    readings that named no batch (a run's first reading) as note rows above the table."""
    if readings.empty:
        return batches, []
    notes: list[tuple[str, str]] = []
    per_batch: dict[int, list[Any]] = {}
    for row in readings.itertuples(index=False):
        numbers = [int(b) for b in str(_maybe(row.batches) or "").split(",") if b.strip()]
        for number in numbers:
            per_batch.setdefault(number, []).append(row)
        if not numbers:
            left = "—" if pd.isna(row.sms_left) else f"{int(row.sms_left):,}"
            verdict = str(row.verdict)
            notes.append(
                (
                    f"{VERDICT_LABELS.get(verdict, verdict)} {verdict}",
                    f"{_time_text(pd.Timestamp(row.at))} 剩余 sms left {left}"
                    + (f" · {row.note}" if _maybe(row.note) else ""),
                )
            )
    rows = [per_batch.get(int(b), []) for b in batches["batch"]]

    def last(name: str) -> Any:
        values = [getattr(r[-1], name) if r else pd.NA for r in rows]
        return pd.array([pd.NA if pd.isna(v) else v for v in values], dtype="Int64")

    def verdicts(zh: bool) -> list[str | None]:
        return [
            " → ".join(VERDICT_LABELS.get(r.verdict, r.verdict) if zh else r.verdict for r in found)
            or None
            for found in rows
        ]

    out = batches.copy()
    out["reconciliation"] = verdicts(zh=False)
    out["reconciliation_zh"] = verdicts(zh=True)
    out["reconciled_at"] = [_plain(pd.Timestamp(r[-1].at)) if r else None for r in rows]
    out["sms_left"] = last("sms_left")
    out["expected"] = last("expected")
    out["deducted"] = last("deducted")
    out["reconciliation_note"] = [_maybe(r[-1].note) if r else None for r in rows]
    return out, notes


# -- Excel -----------------------------------------------------------------------------------------

#: Workbook labels of the results' and tables' columns: Chinese and English, like 概览. The
#: DataFrames keep their names (a contract); only the workbook shows these.
COLUMN_LABELS: dict[str, str] = {
    "source_row": "行号 row",
    "mobile": "手机号 mobile",
    "status": "状态 status",
    "reason": "原因 reason",
    "message_zh": "网关说明 message (zh)",
    "message_en": "网关说明 message (en)",
    "category": "类别 category",
    "batch": "批次 batch",
    "attempts": "请求次数 attempts",
    "gateway_result": "网关原文 gateway text",
    "sent_at": "发送时间 sent at (北京时间)",
    "content": "短信内容 content",
    "length": "字数 length",
    "carrier": "运营商 carrier",
    "region": "归属地 region",
    "province": "省份 province",
    "city": "城市 city",
    "area_code": "区号 area code",
    "recipients": "人数 recipients",
    "share": "占比 share",
    "accepted_share": "受理率 accepted share",
    "size": "人数 size",
    "zh": "中文说明 description (zh)",
    "en": "英文说明 description (en)",
    "sender": "回复号码 sender",
    "receivetime": "回复时间 received (北京时间)",
    "key": "键 key",
    "reconciliation": "余额对账 reconciliation",
    "reconciliation_zh": "中文对账 reconciliation (zh)",
    "reconciled_at": "对账时间 reconciled at (北京时间)",
    "sms_left": "剩余条数 sms left",
    "expected": "预期剩余 expected",
    "deducted": "扣除条数 deducted",
    "reconciliation_note": "对账说明 reconciliation note",
    **{status: f"{zh} {status}" for status, zh in STATUS_LABELS.items()},
}
_ACCOUNT_LABELS = {
    "period": "时段 period",
    "kind": "日/月 kind",
    "sent": "账户发送量 account sent",
    "campaign_accepted": "本次受理 this campaign",
    "other": "其他发送 other sends",
}
_STATUS_ZH_LABEL = "中文状态 status (zh)"
_REASON_ZH_LABEL = "中文原因 reason (zh)"
#: ``code`` is two things: the gateway's receipt value (≥ 0) when it accepted, a return code (< 0)
#: when it refused; the workbook never shows the first as an error code.
_RESULT_LABEL = "网关回执 gateway result"
_ERROR_CODE_LABEL = "错误码 error code"
#: Columns that only mean something for rows that were sent (left off 无效与重复).
_SEND_COLUMNS = frozenset(
    (
        "code",
        "message_zh",
        "message_en",
        "category",
        "batch",
        "attempts",
        "gateway_result",
        "sent_at",
        "content",
        "length",
    )
)
_PHONE_HINT = re.compile(r"mobile|phone|tel|手机|电话|号码|receiver|sender", re.IGNORECASE)
_INTEGERS = frozenset(("source_row", "batch", "attempts"))
_COUNTS = frozenset(("recipients", "size", "sms_left", "expected", "deducted", *STATUS_LABELS))
_PERCENTS = frozenset(("share", "accepted_share"))


def _per_distinct(values: pd.Series, translate: Any) -> pd.Series:
    """``translate`` applied once per distinct non-missing value, spread back over ``values``."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    out = np.array([translate(str(u)) for u in uniques] + [None], dtype=object)
    return pd.Series(pd.array(out[codes], dtype="string[pyarrow]"), index=values.index)


def _status_zh(status: str) -> str:
    return ", ".join(STATUS_LABELS.get(s, s) for s in status.split(", "))


def _is_phone_like(name: str, series: pd.Series, phone_columns: set[str]) -> bool:
    if name in phone_columns or _PHONE_HINT.search(name):
        return True
    numbers = pd.to_numeric(series, errors="coerce").abs()
    return bool((numbers >= 1e9).any())


def _kind(name: str, series: pd.Series, phone_columns: set[str]) -> xlsx.Kind:
    if name in _PERCENTS:
        return "percent"
    if name in _COUNTS and pd.api.types.is_numeric_dtype(series.dtype):
        return "count"
    if name in _INTEGERS:
        return "integer"
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return "datetime"
    if (
        pd.api.types.is_numeric_dtype(series.dtype)
        and not pd.api.types.is_bool_dtype(series.dtype)
        and not _is_phone_like(name, series, phone_columns)
    ):
        return "number"
    if (
        series.dtype == object
        and len(series)
        and series.dropna().map(type).isin([dt.datetime, pd.Timestamp]).all()
    ):
        return "datetime" if series.notna().any() else "text"
    return "text"


def _sheet(
    name: str,
    frame: pd.DataFrame,
    phone_columns: set[str],
    *,
    labels: Mapping[str, str] | None = None,
    split_code: bool = True,
    **options: Any,
) -> xlsx.Sheet:
    """``frame`` as a workbook sheet: bilingual labels, Chinese beside ``status`` and ``reason``,
    ``code`` split into the gateway's receipt value and the error code."""
    labels = {**COLUMN_LABELS, **(labels or {})}
    parts: list[tuple[str, pd.Series, xlsx.Kind]] = []
    for column in frame.columns:
        series, key = frame[column], str(column)
        if key == "code" and split_code:
            codes = pd.to_numeric(series, errors="coerce")
            parts.append((_RESULT_LABEL, codes.where(codes >= 0), "integer"))
            parts.append((_ERROR_CODE_LABEL, codes.where(codes < 0), "integer"))
            continue
        if key == "reason_zh" and "reason" in frame.columns:
            continue  # the results' own Chinese reason is written beside reason, below
        parts.append((labels.get(key, key), series, _kind(key, series, phone_columns)))
        if key == "status":
            parts.append((_STATUS_ZH_LABEL, _per_distinct(series, _status_zh), "text"))
        elif key == "reason":
            zh = frame["reason_zh"] if "reason_zh" in frame.columns else None
            parts.append(
                (_REASON_ZH_LABEL, _per_distinct(series, reason_zh) if zh is None else zh, "text")
            )
    seen: dict[str, int] = {}
    columns: list[xlsx.Column] = []
    prepared: dict[str, Any] = {}
    for label, series, kind in parts:
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            label = f"{label} ({seen[label]})"
        values = xlsx.prepare(series, kind)
        shown = values.dt.strftime("%Y-%m-%d %H:%M:%S") if kind == "datetime" else values
        columns.append(xlsx.Column(label, kind, xlsx.fit_width(label, shown)))
        prepared[label] = values.to_numpy() if kind != "text" else values.array
    data = pd.DataFrame(prepared, index=pd.RangeIndex(len(frame)))
    return xlsx.Sheet(name, data, columns, **options)


def _plain(value: Any) -> Any:
    """A plain Python value: NA → None, numpy → Python, tz-aware → naive, lists joined."""
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


def _phone_columns(results: pd.DataFrame, plan: Plan | None) -> set[str]:
    names = {"mobile", "sender"}
    for frame in (results, getattr(plan, "recipients", None)):
        column = getattr(frame, "attrs", {}).get("phone_column") if frame is not None else None
        if column:
            names.add(str(column))
            names.add(f"{column}_raw")
    return names


def _time_text(value: Any) -> str:
    value = _plain(value)
    return value.strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, dt.datetime) else str(value)


def _overview(
    results: pd.DataFrame,
    summary: pd.DataFrame,
    plan: Plan | None,
    replies: pd.DataFrame | None,
    detail_sheets: Sequence[str],
) -> xlsx.Sheet:
    """概览: title, key facts as text rows, then the summary per status (the chart's data) with the
    key counts beside it as numbers."""
    notes: list[tuple[str, str]] = [
        ("生成时间 generated (北京时间)", _time_text(dt.datetime.now(BEIJING).replace(microsecond=0)))
    ]
    sent_at = _column(results, "sent_at").dropna()
    if len(sent_at):
        notes.append(("首次发送 first sent", _time_text(sent_at.min())))
        notes.append(("最后发送 last sent", _time_text(sent_at.max())))
    counts: list[tuple[str, int]] = [("收件人合计 recipients", len(results))]
    if plan is not None:
        notes += [
            ("模板 template", plan.template),
            ("签名 signature", plan.signature or ""),
            ("字符集 charset", plan.charset),
            ("定时 sendtime (北京时间)", plan.sendtime or "立即 now"),
            ("计划指纹 fingerprint", plan.fingerprint),
        ]
        counts += [("请求数 requests", int(plan.requests)), ("计费条数 messages", int(plan.messages))]
    if replies is not None:
        counts.append(("回复 replies", len(replies)))
    if len(detail_sheets) > 1:
        notes.append(
            (
                "明细分表 detail sheets",
                f"明细分为 {len(detail_sheets)} 个工作表：{'、'.join(detail_sheets)}（每个工作表最多 "
                f"{xlsx.MAX_ROWS:,} 行）; detail split over {len(detail_sheets)} sheets "
                f"({', '.join(detail_sheets)}): an .xlsx sheet holds at most {xlsx.MAX_ROWS:,} rows",
            )
        )
    # The chart covers the table's rows, so the counts beside it never add rows; any left over
    # (a three-status summary with replies) are stated in the notes.
    for label, value in counts[len(summary) :]:
        notes.append((label, f"{value:,}"))
    counts = counts[: len(summary)]
    notes.append(
        ("说明 note", "已受理 = 网关已接收，不代表已送达 (accepted by the gateway, not delivered)")
    )
    pad = [None] * (len(summary) - len(counts))
    table = pd.DataFrame(
        {
            _STATUS_ZH_LABEL: summary["zh"].to_numpy(),
            "状态 status": summary["status"].to_numpy(),
            "人数 recipients": summary["recipients"].to_numpy(),
            "占比 share": summary["share"].to_numpy(),
            "项目 item": [label for label, _ in counts] + pad,
            "数值 value": pd.array([value for _, value in counts] + pad, dtype="Int64"),
        }
    )
    kinds: list[xlsx.Kind] = ["text", "text", "count", "percent", "text", "count"]
    columns = [
        xlsx.Column(str(name), kind, xlsx.fit_width(str(name), table[name].astype(str)))
        for name, kind in zip(table.columns, kinds, strict=True)
    ]
    # Note labels span A:B; widen A so they fit.
    widest = max(xlsx.display_width(label) for label, _ in notes) + 2
    if widest > columns[0].width + columns[1].width:
        columns[0] = xlsx.Column(columns[0].label, "text", widest - columns[1].width)
    data = pd.DataFrame(
        {c.label: xlsx.prepare(table.iloc[:, i], c.kind).to_numpy() for i, c in enumerate(columns)}
    )
    return xlsx.Sheet(
        "概览",
        data,
        columns,
        title="短信群发报告 SMS campaign report",
        notes=notes,
        chart=xlsx.Chart("收件人状态 Recipients by status", 0, 2, "人数 recipients"),
        one_page=True,
    )


def _unknown_note(regions: pd.DataFrame) -> tuple[str, str]:
    share = regions.attrs.get("unknown_share", 0.0)
    return (
        "未知 unknown",
        f"{share:.1%} 的收件人归属地未知 (no province known for {share:.1%} of recipients)",
    )


def _invalid_sheet(results: pd.DataFrame, phone_columns: set[str]) -> pd.DataFrame:
    """The invalid and duplicate rows with the columns that mean something for them: the row, the
    number as given and as read, status and reason, then the input's own non-empty columns."""
    status = _column(results, "status").astype("string")
    bad = results[status.isin(["invalid", "duplicate"]).fillna(False).to_numpy(dtype=bool)]
    first = [
        c
        for c in (
            "source_row",
            *sorted(phone_columns - {"mobile", "sender"}),
            "mobile",
            "status",
            "reason",
        )
        if c in bad.columns
    ]
    rest = [
        c
        for c in bad.columns
        if c not in first and c not in _SEND_COLUMNS and (bad.empty or bad[c].notna().any())
    ]
    return bad[first + rest]


def export_report(
    results: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    plan: Plan | None = None,
    replies: pd.DataFrame | None = None,
    engine: str | None = None,
    progress: bool | None = None,
    account_stats: pd.DataFrame | None = None,
    history: Any = None,
) -> Path:
    """Write the campaign workbook to ``path`` (``.xlsx``, parent folders created) and return it.

    Sheets: 概览 (title, key facts, the summary per status with a native Excel column chart, and
    — when ``plan`` is given — the template, charset, fingerprint, requests and messages),
    明细 (every recipient, every column; over 1,048,576 rows it continues on 明细 2, 明细 3 …, and
    概览 says so), 错误 (per return code), 无效与重复 (invalid and duplicate rows with the columns that
    mean something for them), 批次 (one row per ``send_sms`` call; for a ``reconcile="balance"``
    campaign each batch's balance verdicts and figures beside it, and the readings that named no
    batch — a run's first reading — as rows above the table), 运营商 and 地区 (per carrier /
    province), and 回复 (``replies``, e.g. from :func:`~smscampaign.fetch_replies`) when given.
    ``account_stats`` (:meth:`~smscampaign.Gateway.user_stat`) adds 账户发送量: the account's
    sends per day and month beside this campaign's (:func:`~smscampaign.account_sends`).

    Headers are bilingual (``手机号 mobile``); ``status`` and ``reason`` have their Chinese beside
    them; the gateway's non-negative answer to an accepted request is shown as ``网关回执 gateway
    result``, a negative one as ``错误码 error code``; an empty table says ``无 none``. Every sheet
    has a bold frozen header, an autofilter, widths from East Asian display width, a named
    CJK-capable font, and prints landscape, one page wide, with the header row repeated (概览 on
    one page). Identifiers (mobiles, senders, phone columns) are text, so none becomes ``1.38E+10``;
    text beginning with ``=``, ``+``, ``-`` or ``@`` stays text, never a formula. ``engine``:
    ``"rust"`` (rustpy-xlsxwriter, the default when installed) or ``"openpyxl"``; ``progress``: a
    tqdm bar while a big report is written (None: from 50,000 rows). ``results``, ``plan`` and
    ``replies`` are not modified. The DataFrame column names are unchanged; only the labels differ.

    >>> export_report(results, "reports/campaign.xlsx", plan=plan)   # doctest: +SKIP
    PosixPath('reports/campaign.xlsx')
    """
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise ConfigError(
            f"the report is an Excel workbook: its path must end in .xlsx, not {str(path)!r} "
            "(for a CSV, use results.to_csv)"
        )
    tables = campaign_report(results, history=history)
    path.parent.mkdir(parents=True, exist_ok=True)
    phones = _phone_columns(results, plan)
    details = xlsx.split(_sheet("明细", results, phones))
    batches, batch_notes = _reconciled_batches(tables["batches"], tables["reconciliations"])
    sheets = [
        _overview(results, tables["summary"], plan, replies, [s.name for s in details]),
        *details,
        _sheet("错误", tables["errors"], phones, split_code=False, labels={"code": _ERROR_CODE_LABEL}),
        *xlsx.split(_sheet("无效与重复", _invalid_sheet(results, phones), phones)),
        *xlsx.split(_sheet("批次", batches, phones, notes=batch_notes)),
        _sheet("运营商", tables["carriers"], phones),
        _sheet("地区", tables["regions"], phones, notes=[_unknown_note(tables["regions"])]),
    ]
    if replies is not None:
        sheets += xlsx.split(_sheet("回复", replies, phones, labels={"content": "回复内容 reply"}))
    if account_stats is not None:
        from smscampaign.notebook.views import account_sends  # noqa: PLC0415

        sends = account_sends(results, account_stats)
        sheets.append(_sheet("账户发送量", sends, phones, labels=_ACCOUNT_LABELS))
    if history is not None:  # the campaign history's sheets (issue 13)
        from smscampaign.reports.compare import REPORT_SHEETS  # noqa: PLC0415

        sheets += [_sheet(title, tables[key], phones) for title, key in REPORT_SHEETS if key in tables]
    xlsx.write_workbook(path, sheets, engine=engine, progress=progress)
    logger.info("report written to %s (%d recipients)", path, len(results))
    return path


# -- matplotlib ------------------------------------------------------------------------------------


#: CJK-capable fonts plot_report looks for, most common first (Linux, Windows, macOS).
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "DengXian",
    "SimHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "Heiti SC",
    "Sarasa Gothic SC",
)


def _cjk_font() -> str | None:
    """The first of :data:`CJK_FONTS` matplotlib can use, or None."""
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def plot_report(results: pd.DataFrame, *, top: int = 8, language: str | None = None) -> Figure:
    """A matplotlib figure with three horizontal-bar panels: recipients per status, per carrier
    (accepted vs not), and the ``top`` most frequent error codes. ``language``: ``"zh"`` (Chinese
    labels beside the English), ``"en"``, or None — Chinese when a CJK font (:data:`CJK_FONTS`) is
    installed, English otherwise. A panel with nothing to show says so in words (无错误 / no
    errors). ``results`` is not modified. Needs matplotlib (``pip install 'smscampaign[notebook]'``).

    >>> fig = plot_report(results)                           # doctest: +SKIP
    >>> fig.savefig("reports/campaign.png")                  # doctest: +SKIP
    """
    try:
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ImportError("plot_report needs matplotlib: pip install 'smscampaign[notebook]'") from exc

    if language not in (None, "zh", "en"):
        raise ConfigError(f"language must be 'zh', 'en' or None (detect), not {language!r}")
    font = _cjk_font()
    zh = language == "zh" or (language is None and font is not None)
    rc: Any = {"font.family": [font, "sans-serif"]} if zh and font else {}

    def words(chinese: str, english: str) -> str:
        return f"{chinese} {english}" if zh else english

    tables = campaign_report(results)
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=(13, 4.2), layout="constrained")
        ax_status, ax_carrier, ax_errors = fig.subplots(1, 3)
        if rc:  # tick labels are made again when drawn, after this context: name the font on them
            for ax in (ax_status, ax_carrier, ax_errors):
                ax.tick_params(labelfontfamily=font)

        summary = tables["summary"]
        names = summary["zh"] if zh else summary["status"]
        ax_status.barh(list(names[::-1]), summary["recipients"][::-1], color="#4472C4")
        ax_status.set_title(words("收件人状态", "Recipients by status"))
        ax_status.set_xlabel(words("人数", "recipients"))

        carriers = tables["carriers"]
        ax_carrier.set_title(words("运营商", "Recipients by carrier"))
        if len(carriers):
            labels = [
                str(c) if zh else _CARRIERS_EN.get(c, "unknown" if c == _UNKNOWN_LABEL else str(c))
                for c in carriers["carrier"]
            ][::-1]
            accepted = carriers["accepted"].to_numpy()[::-1]
            other = carriers["recipients"].to_numpy()[::-1] - accepted
            ax_carrier.barh(labels, accepted, label=words("已受理", "accepted"), color="#70AD47")
            ax_carrier.barh(labels, other, left=accepted, label=words("其他", "other"), color="#BFBFBF")
            ax_carrier.set_xlabel(words("人数", "recipients"))
            ax_carrier.legend(loc="lower right", fontsize="small")
        else:
            _say(ax_carrier, words("无数据", "no data"))

        errors = tables["errors"].head(top)
        ax_errors.set_title(words("主要错误码", "Top error codes"))
        if len(errors):
            texts = errors["zh"] if zh else errors["en"]
            labels = [
                f"{'n/a' if pd.isna(c) else int(c)} {_shorten(str(t), 14 if zh else 28)}"
                for c, t in zip(errors["code"], texts, strict=True)
            ]
            ax_errors.barh(labels[::-1], errors["recipients"].to_numpy()[::-1], color="#C00000")
            ax_errors.set_xlabel(words("人数", "recipients"))
        else:
            _say(ax_errors, words("无错误", "no errors"))
    return fig


def _say(ax: Any, text: str) -> None:
    """An empty panel: the words instead of an axis with nothing on it."""
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize="large", transform=ax.transAxes)


def _shorten(text: str, limit: int = 28) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
