"""Reports on a campaign: small DataFrames, an Excel workbook a person is glad to receive, a figure.

All three read the results frame of :func:`~smscampaign.send.send_campaign` (or
:func:`~smscampaign.journal.read_journal`): one row per recipient with at least ``mobile`` and
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
import math
import os
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from smscampaign.codes import describe_code
from smscampaign.protocol import BEIJING

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.figure import Figure

    from smscampaign.plan import Plan

__all__ = ["STATUS_LABELS", "campaign_report", "export_report", "plot_report"]

logger = logging.getLogger(__name__)

#: Every status of a results frame, in report order, with its Chinese label.
STATUS_LABELS: dict[str, str] = {
    "accepted": "已受理",
    "failed": "失败",
    "unknown": "结果未知",
    "not_sent": "未发送",
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
_PROVINCE = re.compile(r"^(.*?(?:省|自治区|特别行政区))|^(北京|上海|天津|重庆)(?:市)?")

# Excel's limits and the characters XML 1.0 cannot carry (openpyxl would refuse them).
_MAX_CELL = 32_767
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ERROR_LIKE = frozenset(("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"))
_PHONE_HINT = re.compile(r"mobile|phone|tel|手机|电话|号码|receiver|sender", re.IGNORECASE)
# Known numeric columns of our own frames, written as numbers.
_NUMERIC_OK = {
    "source_row",
    "code",
    "batch",
    "attempts",
    "gateway_result",
    "recipients",
    "share",
    "size",
    "length",
    "accepted_share",
}


# -- DataFrames ------------------------------------------------------------------------------------


def _column(results: pd.DataFrame, name: str) -> pd.Series:
    """``results[name]``, or an all-NA column when the results lack it."""
    if name in results.columns:
        return results[name]
    return pd.Series(pd.NA, index=results.index, dtype="object")


def _labelled(values: pd.Series) -> pd.Series:
    """Text values with NA and blanks shown as 未知 (so they group and plot)."""
    text = values.astype("string").str.strip()
    return text.mask(text.isna() | (text == ""), _UNKNOWN_LABEL).astype(object)


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
            {c: pd.Series(dtype="Int64" if c in ("code", "recipients") else object) for c in columns}
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


def _province(region: Any) -> str:
    if not isinstance(region, str) or region == _UNKNOWN_LABEL:
        return _UNKNOWN_LABEL
    match = _PROVINCE.match(region)
    if match is None:
        return region
    return match.group(1) or f"{match.group(2)}市"


def _batches(results: pd.DataFrame) -> pd.DataFrame:
    columns = [
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
    batch = pd.to_numeric(_column(results, "batch"), errors="coerce").astype("Int64")
    sent = results[batch.notna().to_numpy(dtype=bool)]
    if sent.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    rows: list[dict[str, Any]] = []
    for number, group in sent.groupby(batch[batch.notna()], sort=True):
        statuses = list(dict.fromkeys(_labelled(_column(group, "status"))))
        attempts = pd.to_numeric(_column(group, "attempts"), errors="coerce").max()
        code = pd.to_numeric(_column(group, "code"), errors="coerce").dropna()
        sent_at = _column(group, "sent_at").dropna()
        rows.append(
            {
                "batch": int(number),
                "size": len(group),
                "status": ", ".join(statuses),
                "code": int(code.iloc[0]) if len(code) else pd.NA,
                "message_zh": _first(group, "message_zh", ""),
                "message_en": _first(group, "message_en", ""),
                "attempts": int(attempts) if pd.notna(attempts) else pd.NA,
                "sent_at": sent_at.min() if len(sent_at) else pd.NA,
                "gateway_result": _plain(_column(group, "gateway_result").dropna().iloc[0])
                if _column(group, "gateway_result").notna().any()
                else pd.NA,
            }
        )
    table = pd.DataFrame(rows, columns=columns)
    for name in ("code", "attempts"):
        table[name] = table[name].astype("Int64")
    return table


def campaign_report(results: pd.DataFrame, history: Any = None) -> dict[str, pd.DataFrame]:
    """Summarise a results frame into small DataFrames; ``results`` is not modified.

    - ``summary``: ``status, zh, recipients, share`` — accepted / failed / unknown always, the other
      statuses when they occur, in a fixed order; ``attrs["recipients"]`` is the total;
    - ``errors``: one row per return code among ``failed`` and ``unknown`` recipients —
      ``code, zh, en, category, recipients``, most frequent first (``code`` <NA>: no gateway
      answer);
    - ``carriers`` / ``regions``: per carrier / per province (``region`` cut to its province,
      e.g. 广东省深圳市 → 广东省) — ``carrier|province, recipients``, one column per status,
      ``accepted_share``; unknown ones as 未知;
    - ``batches``: one row per ``send_sms`` call — ``batch, size, status, code, message_zh,
      message_en, attempts, sent_at, gateway_result``.
    - with ``history`` (a :class:`~smscampaign.history.History`): ``engagement``,
      ``engagement_carriers``, ``engagement_regions`` (reply rate, opt-out rate, time to reply) and,
      for an A/B test, ``arms`` and ``arm_tests`` (:func:`~smscampaign.history.report_tables`).

    >>> results = pd.DataFrame({"mobile": ["13800138000", None], "status": ["accepted", "invalid"]})
    >>> campaign_report(results)["summary"][["status", "recipients"]].to_dict("list")
    {'status': ['accepted', 'failed', 'unknown', 'invalid'], 'recipients': [1, 0, 0, 1]}
    """
    if not isinstance(results, pd.DataFrame):
        raise TypeError(f"results must be a DataFrame, not {type(results).__name__}")
    if "status" not in results.columns:
        raise ValueError("results have no 'status' column (expected the frame send_campaign returns)")
    carriers = _labelled(_column(results, "carrier"))
    provinces = _labelled(_column(results, "region")).map(_province)
    tables = {
        "summary": _summary(results),
        "errors": _errors(results),
        "carriers": _crosstab(results, carriers, "carrier"),
        "regions": _crosstab(results, provinces, "province"),
        "batches": _batches(results),
    }
    if history is not None:  # reply / opt-out rates and A/B arms (smscampaign.history, issue 13)
        from smscampaign.history import report_tables  # noqa: PLC0415

        tables.update(report_tables(results, history))
    return tables


# -- Excel -----------------------------------------------------------------------------------------


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _text_cell(value: str) -> str:
    text = _ILLEGAL.sub("\ufffd", value)
    return text[:_MAX_CELL]


def _is_phone_like(name: str, series: pd.Series, phone_columns: set[str]) -> bool:
    if name in phone_columns or _PHONE_HINT.search(name):
        return True
    numbers = pd.to_numeric(series, errors="coerce").abs()
    return bool((numbers >= 1e9).any())


class _SheetWriter:
    """Writes DataFrames into write-only sheets: bold frozen header, autofilter, widths, text
    cells that stay text (never formulas), numbers only where a column is truly numeric."""

    def __init__(self, phone_columns: set[str]) -> None:
        from openpyxl import Workbook
        from openpyxl.styles import Alignment, Font, PatternFill

        self.workbook = Workbook(write_only=True)
        self.phone_columns = phone_columns
        self._header_font = Font(bold=True)
        self._header_fill = PatternFill("solid", start_color="DDEBF7")
        self._header_align = Alignment(vertical="center")

    def cell(
        self,
        sheet: Any,
        value: Any,
        *,
        numeric: bool = True,
        number_format: str | None = None,
        header: bool = False,
    ) -> Any:
        from openpyxl.cell import WriteOnlyCell

        value = _plain(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and not numeric:
            value = _number_text(value)
        if isinstance(value, float) and not math.isfinite(value):
            value = None
        if isinstance(value, str):
            text = _text_cell(value)
            cell = WriteOnlyCell(sheet, value=None)
            cell.value = text  # openpyxl guesses "f" for "=…" and "e" for "#N/A": undo below
            cell.data_type = "s"
            cell.number_format = "@"
            if text.startswith(_FORMULA_START):
                cell.quotePrefix = True  # Excel/LibreOffice keep it text when the cell is edited
        else:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, dt.datetime):
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
        if number_format:
            cell.number_format = number_format
        if header:
            cell.font = self._header_font
            cell.fill = self._header_fill
            cell.alignment = self._header_align
        return cell

    def _column_values(
        self, sheet: Any, series: pd.Series, *, numeric: bool, number_format: str | None
    ) -> list[Any]:
        """One column as cell-ready values, converted once per column (not per cell): plain
        values where openpyxl stores them faithfully, styled cells only where needed."""
        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            if getattr(series.dtype, "tz", None) is not None:
                # Wall time of its own zone: Excel has no time zones.
                series = series.dt.tz_localize(None)
            values = [None if pd.isna(v) else v.to_pydatetime() for v in series]
        else:
            values = [_plain(v) for v in series.tolist()]
        out: list[Any] = []
        for value in values:
            if isinstance(value, bool):
                pass
            elif isinstance(value, (int, float)):
                if not numeric:
                    value = _number_text(value)
                elif isinstance(value, float) and not math.isfinite(value):
                    value = None
            if isinstance(value, str):
                if _ILLEGAL.search(value) or len(value) > _MAX_CELL:
                    value = _text_cell(value)
                if value.startswith(_FORMULA_START) or value in _ERROR_LIKE:
                    value = self.cell(sheet, value)
            elif number_format and value is not None:
                value = self.cell(sheet, value, number_format=number_format)
            out.append(value)
        return out

    def frame(
        self,
        title: str,
        frame: pd.DataFrame,
        *,
        number_formats: Mapping[str, str] | None = None,
        rows_before: Iterable[Iterable[Any]] = (),
        min_widths: Sequence[int] = (),
    ) -> Any:
        """A sheet holding ``frame`` (after ``rows_before`` note rows) as a filterable table;
        ``min_widths`` widen the first columns for rows appended after the table."""
        from openpyxl.utils import get_column_letter

        sheet = self.workbook.create_sheet(title)
        number_formats = dict(number_formats or {})
        names = [str(c) for c in frame.columns]
        numeric = [
            name in _NUMERIC_OK
            or (
                pd.api.types.is_numeric_dtype(frame[col])
                and not pd.api.types.is_bool_dtype(frame[col])
                and not _is_phone_like(name, frame[col], self.phone_columns)
            )
            for name, col in zip(names, frame.columns, strict=True)
        ]
        columns = [
            self._column_values(
                sheet, frame.iloc[:, i], numeric=numeric[i], number_format=number_formats.get(names[i])
            )
            for i in range(len(names))
        ]
        before = [list(r) for r in rows_before]
        header_row = len(before) + 1
        # Widths, column styles and panes must be set before the first row is streamed.
        for i, (name, values) in enumerate(zip(names, columns, strict=True), start=1):
            widths = [_display_width(name)] + [
                _display_width(v if isinstance(v, str) else str(_number_text(getattr(v, "value", v))))
                for v in values[:500]
                if v is not None
            ]
            if i <= len(min_widths):
                widths.append(min_widths[i - 1])
            dimension = sheet.column_dimensions[get_column_letter(i)]
            dimension.width = min(max(max(widths) + 2, 8), 60)
            if not numeric[i - 1]:
                dimension.number_format = "@"  # text typed into the column later stays text
        sheet.freeze_panes = f"A{header_row + 1}"
        last = get_column_letter(max(len(names), 1))
        sheet.auto_filter.ref = f"A{header_row}:{last}{header_row + len(frame)}"
        for line in before:
            sheet.append([self.cell(sheet, v) for v in line])
        sheet.append([self.cell(sheet, n, header=True) for n in names])
        for row in zip(*columns, strict=True):
            sheet.append(row)
        return sheet


def _plain(value: Any) -> Any:
    """A Python value openpyxl can store: NA → None, numpy → Python, tz-aware → naive, lists
    joined."""
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
    if isinstance(value, pd.Timedelta):
        return str(value)
    return str(value)


def _number_text(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value if value is None else str(value)


def _phone_columns(results: pd.DataFrame, plan: Plan | None) -> set[str]:
    names = {"mobile", "sender"}
    for frame in (results, getattr(plan, "recipients", None)):
        column = getattr(frame, "attrs", {}).get("phone_column") if frame is not None else None
        if column:
            names.add(str(column))
            names.add(f"{column}_raw")
    return names


def _overview_facts(
    results: pd.DataFrame, summary: pd.DataFrame, plan: Plan | None, replies: pd.DataFrame | None
) -> list[tuple[str, Any]]:
    counts = dict(zip(summary["status"], summary["recipients"], strict=True))
    facts: list[tuple[str, Any]] = [
        ("生成时间 generated (北京时间)", dt.datetime.now(BEIJING).replace(microsecond=0, tzinfo=None)),
        ("收件人 recipients", len(results)),
        ("已受理 accepted", int(counts.get("accepted", 0))),
        ("失败 failed", int(counts.get("failed", 0))),
        ("结果未知 unknown", int(counts.get("unknown", 0))),
    ]
    sent_at = _column(results, "sent_at").dropna()
    if len(sent_at):
        facts.append(("首次发送 first sent", _plain(sent_at.min())))
        facts.append(("最后发送 last sent", _plain(sent_at.max())))
    if plan is not None:
        facts += [
            ("模板 template", plan.template),
            ("签名 signature", plan.signature or ""),
            ("字符集 charset", plan.charset),
            ("定时 sendtime (北京时间)", plan.sendtime or "立即 now"),
            ("请求数 requests", plan.requests),
            ("计费条数 messages", plan.messages),
            ("计划指纹 fingerprint", plan.fingerprint),
        ]
    if replies is not None:
        facts.append(("回复 replies", len(replies)))
    facts.append(
        ("说明 note", "已受理 = 网关已接收，不代表已送达 (accepted by the gateway, not delivered)")
    )
    return facts


def export_report(
    results: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    plan: Plan | None = None,
    replies: pd.DataFrame | None = None,
    history: Any = None,
) -> Path:
    """Write the campaign workbook to ``path`` (``.xlsx``, parent folders created) and return it.

    Sheets: 概览 (summary per status with a native Excel bar chart, then key facts — and the plan's
    template, charset, fingerprint when ``plan`` is given), 明细 (every recipient, every column),
    错误 (per return code), 无效与重复 (invalid and duplicate rows with their reasons),
    批次 (one row per ``send_sms`` call), 运营商 and 地区 (per carrier / province), and 回复
    (``replies``, e.g.
    from :func:`~smscampaign.inbound.fetch_replies`) when given.

    Every sheet has a bold frozen header, an autofilter and column widths fitted to the text.
    Numbers that are identifiers (mobiles, senders, phone columns) are written as text, so none
    becomes ``1.38E+10``; text beginning with ``=``, ``+``, ``-`` or ``@`` is stored as text with
    Excel's quote prefix, never as a formula. ``results``, ``plan`` and ``replies`` are not
    modified.

    >>> export_report(results, "reports/campaign.xlsx", plan=plan)   # doctest: +SKIP
    PosixPath('reports/campaign.xlsx')
    """
    from openpyxl.chart import BarChart, Reference

    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise ValueError(f"report path must end in .xlsx: {str(path)!r}")
    tables = campaign_report(results, history=history)
    path.parent.mkdir(parents=True, exist_ok=True)

    writer = _SheetWriter(_phone_columns(results, plan))
    summary = tables["summary"].rename(
        columns={
            "status": "status",
            "zh": "状态",
            "recipients": "人数 recipients",
            "share": "占比 share",
        }
    )
    summary = summary[["状态", "status", "人数 recipients", "占比 share"]]
    facts = _overview_facts(results, tables["summary"], plan, replies)
    fact_widths = (
        [
            max((_display_width(str(_plain(column))) for column in values), default=0)
            for values in zip(*facts, strict=True)
        ]
        if facts
        else []
    )
    overview = writer.frame(
        "概览",
        summary,
        number_formats={"占比 share": "0.0%"},
        min_widths=[min(w, 40) for w in fact_widths],
    )
    # Facts to the right of the summary would fight the autofilter; append them below instead.
    overview.append([])
    for key, value in facts:
        overview.append([writer.cell(overview, key, header=True), writer.cell(overview, value)])
    chart = BarChart()
    chart.type = "col"
    chart.title = "收件人状态 Recipients by status"
    chart.y_axis.title = "人数 recipients"
    chart.legend = None
    last_row = len(summary) + 1
    chart.add_data(Reference(overview, min_col=3, min_row=1, max_row=last_row), titles_from_data=True)
    chart.set_categories(Reference(overview, min_col=1, min_row=2, max_row=last_row))
    chart.width, chart.height = 18, 9
    overview.add_chart(chart, "F2")

    writer.frame("明细", results)
    writer.frame("错误", tables["errors"])
    status = _column(results, "status").astype("string")
    bad = results[status.isin(["invalid", "duplicate"]).fillna(False).to_numpy(dtype=bool)]
    writer.frame("无效与重复", _invalid_columns(bad, writer.phone_columns))
    writer.frame("批次", tables["batches"])
    writer.frame("运营商", tables["carriers"], number_formats={"accepted_share": "0.0%"})
    writer.frame("地区", tables["regions"], number_formats={"accepted_share": "0.0%"})
    if replies is not None:
        writer.frame("回复", replies)
    if history is not None:  # the campaign history's sheets (issue 13)
        from smscampaign.history import REPORT_SHEETS  # noqa: PLC0415

        for title, key in REPORT_SHEETS:
            if key in tables:
                rates = {c: "0.0%" for c in tables[key].columns if str(c).endswith("_rate")}
                writer.frame(title, tables[key], number_formats=rates)
    writer.workbook.save(path)
    logger.info("report written to %s (%d recipients)", path, len(results))
    return path


def _invalid_columns(bad: pd.DataFrame, phone_columns: set[str]) -> pd.DataFrame:
    """The invalid/duplicate rows with the columns a reader needs first."""
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
    rest = [c for c in bad.columns if c not in first]
    return bad[first + rest]


# -- matplotlib ------------------------------------------------------------------------------------


def plot_report(results: pd.DataFrame, *, top: int = 8) -> Figure:
    """A matplotlib figure with three panels: recipients per status, per carrier (accepted vs
    not), and the ``top`` most frequent error codes. Labels are English so that no CJK font is
    needed. ``results`` is not modified. Needs matplotlib (``pip install 'smscampaign[notebook]'``).

    >>> fig = plot_report(results)                           # doctest: +SKIP
    >>> fig.savefig("reports/campaign.png")                  # doctest: +SKIP
    """
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ImportError("plot_report needs matplotlib: pip install 'smscampaign[notebook]'") from exc

    tables = campaign_report(results)
    fig = Figure(figsize=(13, 4), layout="constrained")
    ax_status, ax_carrier, ax_errors = fig.subplots(1, 3)

    summary = tables["summary"]
    ax_status.barh(summary["status"][::-1], summary["recipients"][::-1], color="#4472C4")
    ax_status.set_title("Recipients by status")
    ax_status.set_xlabel("recipients")

    carriers = tables["carriers"]
    names = [
        _CARRIERS_EN.get(c, "unknown" if c == _UNKNOWN_LABEL else str(c)) for c in carriers["carrier"]
    ]
    accepted = carriers["accepted"].to_numpy()
    other = carriers["recipients"].to_numpy() - accepted
    ax_carrier.bar(names, accepted, label="accepted", color="#70AD47")
    ax_carrier.bar(names, other, bottom=accepted, label="other", color="#BFBFBF")
    ax_carrier.set_title("Recipients by carrier")
    ax_carrier.set_ylabel("recipients")
    ax_carrier.tick_params(axis="x", labelrotation=20)
    if len(names):
        ax_carrier.legend()

    errors = tables["errors"].head(top)
    if len(errors):
        labels = [
            f"{'n/a' if pd.isna(c) else int(c)} {_shorten(str(en))}"
            for c, en in zip(errors["code"], errors["en"], strict=True)
        ]
        ax_errors.barh(labels[::-1], errors["recipients"].to_numpy()[::-1], color="#C00000")
    else:
        ax_errors.text(0.5, 0.5, "no errors", ha="center", va="center", transform=ax_errors.transAxes)
        ax_errors.set_yticks([])
    ax_errors.set_title("Top error codes")
    ax_errors.set_xlabel("recipients")
    return fig


def _shorten(text: str, limit: int = 28) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
