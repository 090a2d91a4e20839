"""The report workbook: a results frame as an ``.xlsx`` a person is glad to receive.

Sheets 概览 (key facts and the summary per status, with a native bar chart), 明细, 错误, 无效与重复,
批次, 运营商, 地区, and 回复 / 账户发送量 / the history's sheets when given. The tables are
:func:`~smscampaign.reports.tables.campaign_report`'s; this module labels them (:data:`COLUMN_LABELS`,
Chinese and English), puts the Chinese of statuses and reasons beside them (from
:mod:`smscampaign.core.reasons`), and hands the sheets to :mod:`~smscampaign.reports.xlsx`. Every text
cell is written as text, never as a formula; no input is modified.

>>> export_report(results, "reports/campaign.xlsx")      # doctest: +SKIP
PosixPath('reports/campaign.xlsx')
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from smscampaign.core.columns import LEAD_COLUMNS, name_columns
from smscampaign.core.errors import ConfigError
from smscampaign.core.reasons import STATUS_LABELS, VERDICT_LABELS, reason_zh, status_zh
from smscampaign.reports import xlsx
from smscampaign.reports.account import account_sends
from smscampaign.reports.compare import REPORT_SHEETS
from smscampaign.reports.outcomes import OUTCOME_LABELS
from smscampaign.reports.tables import campaign_report, column_or_na, plain_value
from smscampaign.wire.protocol import BEIJING

if TYPE_CHECKING:  # pragma: no cover - typing only
    from smscampaign.campaign.plan import Plan

__all__ = ["COLUMN_LABELS", "export_report"]

logger = logging.getLogger(__name__)

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
#: Columns of long text that wrap in their cells (at :data:`~smscampaign.reports.xlsx.WRAP_WIDTH`).
_WRAPPED = frozenset(
    (
        *("content", "reason", "reason_zh", "message_zh", "message_en"),
        *("gateway_result", "reconciliation_note"),
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
    print_lead: bool = False,
    **options: Any,
) -> xlsx.Sheet:
    """``frame`` as a workbook sheet: bilingual labels, Chinese beside ``status`` and ``reason``,
    ``code`` split into the gateway's receipt value and the error code; long text wraps.
    ``print_lead``: print only the leading columns a person reads first (``LEAD_COLUMNS``, the
    name-like and phone columns, the Chinese beside them), every column staying in the sheet."""
    labels = {**COLUMN_LABELS, **(labels or {})}
    parts: list[tuple[str, pd.Series, xlsx.Kind, str]] = []
    for column in frame.columns:
        series, key = frame[column], str(column)
        if key == "code" and split_code:
            codes = pd.to_numeric(series, errors="coerce")
            parts.append((_RESULT_LABEL, codes.where(codes >= 0), "integer", key))
            parts.append((_ERROR_CODE_LABEL, codes.where(codes < 0), "integer", key))
            continue
        if key == "reason_zh" and "reason" in frame.columns:
            continue  # the results' own Chinese reason is written beside reason, below
        parts.append((labels.get(key, key), series, _kind(key, series, phone_columns), key))
        if key == "status":
            parts.append((_STATUS_ZH_LABEL, _per_distinct(series, status_zh), "text", "status"))
        elif key == "reason":
            zh = frame["reason_zh"] if "reason_zh" in frame.columns else None
            chinese = _per_distinct(series, reason_zh) if zh is None else zh
            parts.append((_REASON_ZH_LABEL, chinese, "text", "reason_zh"))
    seen: dict[str, int] = {}
    columns: list[xlsx.Column] = []
    prepared: dict[str, Any] = {}
    for label, series, kind, key in parts:
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            label = f"{label} ({seen[label]})"
        values = xlsx.prepare(series, kind)
        shown = values.dt.strftime("%Y-%m-%d %H:%M:%S") if kind == "datetime" else values
        width, wrap = xlsx.fit_width(label, shown), kind == "text" and key in _WRAPPED
        if wrap:
            width = max(min(width, xlsx.WRAP_WIDTH), xlsx.display_width(label) + 2.0)
        columns.append(xlsx.Column(label, kind, width, wrap))
        prepared[label] = values.to_numpy() if kind != "text" else values.array
    data = pd.DataFrame(prepared, index=pd.RangeIndex(len(frame)))
    if print_lead:
        lead = {*LEAD_COLUMNS, *name_columns(frame), *phone_columns}
        count = next((i for i, part in enumerate(parts) if part[3] not in lead), len(parts))
        options["print_columns"] = count if 0 < count < len(parts) else None
    return xlsx.Sheet(name, data, columns, **options)


def _phone_columns(results: pd.DataFrame, plan: Plan | None) -> set[str]:
    names = {"mobile", "sender"}
    for frame in (results, getattr(plan, "recipients", None)):
        column = getattr(frame, "attrs", {}).get("phone_column") if frame is not None else None
        if column:
            names.add(str(column))
            names.add(f"{column}_raw")
    return names


def _time_text(value: Any) -> str:
    value = plain_value(value)
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
    sent_at = column_or_na(results, "sent_at").dropna()
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
    status = column_or_na(results, "status").astype("string")
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
    out["reconciled_at"] = [plain_value(pd.Timestamp(r[-1].at)) if r else None for r in rows]
    out["sms_left"] = last("sms_left")
    out["expected"] = last("expected")
    out["deducted"] = last("deducted")
    out["reconciliation_note"] = [_maybe(r[-1].note) if r else None for r in rows]
    return out, notes


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
    outcomes: pd.DataFrame | None = None,
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
    ``outcomes`` (:func:`~smscampaign.measure_outcomes`) adds 转化: conversions and lift against the
    hold-out per arm, with intervals and verdicts.

    Headers are bilingual (``手机号 mobile``); ``status`` and ``reason`` have their Chinese beside
    them; the gateway's non-negative answer to an accepted request is shown as ``网关回执 gateway
    result``, a negative one as ``错误码 error code``; an empty table says ``无 none``. Every sheet
    has a bold frozen header, an autofilter, widths from East Asian display width, a named
    CJK-capable font, long text wrapped, and prints landscape, one page wide, with the header row
    repeated (概览 on one page; 明细 and 无效与重复 print their lead columns, the rest stay in the
    sheet). Identifiers (mobiles, senders, phone columns) are text, so none becomes ``1.38E+10``;
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
    details = xlsx.split(_sheet("明细", results, phones, print_lead=True))
    batches, batch_notes = _reconciled_batches(tables["batches"], tables["reconciliations"])
    sheets = [
        _overview(results, tables["summary"], plan, replies, [s.name for s in details]),
        *details,
        _sheet("错误", tables["errors"], phones, split_code=False, labels={"code": _ERROR_CODE_LABEL}),
        *xlsx.split(_sheet("无效与重复", _invalid_sheet(results, phones), phones, print_lead=True)),
        *xlsx.split(_sheet("批次", batches, phones, notes=batch_notes)),
        _sheet("运营商", tables["carriers"], phones),
        _sheet("地区", tables["regions"], phones, notes=[_unknown_note(tables["regions"])]),
    ]
    if replies is not None:
        sheets += xlsx.split(_sheet("回复", replies, phones, labels={"content": "回复内容 reply"}))
    if account_stats is not None:
        sends = account_sends(results, account_stats)
        sheets.append(_sheet("账户发送量", sends, phones, labels=_ACCOUNT_LABELS))
    if history is not None:  # the campaign history's sheets (issue 13)
        sheets += [_sheet(title, tables[key], phones) for title, key in REPORT_SHEETS if key in tables]
    if outcomes is not None:  # did it sell? (issue 27)
        sheets.append(_sheet("转化", outcomes, phones, labels=OUTCOME_LABELS))
    xlsx.write_workbook(path, sheets, engine=engine, progress=progress)
    logger.info("report written to %s (%d recipients)", path, len(results))
    return path
