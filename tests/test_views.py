"""What an analyst sees (issue 19): results in reading order, one text dtype, a view that fits."""

from __future__ import annotations

import re

import openpyxl
import pandas as pd
import pytest

import smscampaign as sc
from smscampaign.campaign.send import RESULT_COLUMNS
from smscampaign.core.columns import LEAD_COLUMNS, arrange, name_columns
from smscampaign.notebook.views import MISSING, view
from smscampaign.reports.account import account_sends
from smscampaign.stages.numbers import TEXT

CONTENT = (
    "{姓名}您好，春季会员日全场八折，详询门店，地址见会员卡背面，活动截止到本月三十一日晚上十点。回T退订"
)


@pytest.fixture
def results(gateway) -> pd.DataFrame:
    recipients = pd.DataFrame(
        {
            "客户编号": ["C1", "C2", "C3", "C4"],
            "姓名": ["何军", "欧阳娜娜", "李四", "王五"],
            "手机": ["13800138000", "12345", "13900139000", "13800138000"],
            "城市": ["北京", "上海", None, "广州"],
        }
    )
    plan = sc.plan_campaign(sc.check_numbers(recipients), CONTENT, signature="【演示商城】")
    return sc.send_campaign(plan, gateway, progress=False)


def test_results_lead_with_what_an_analyst_reads(results, sandbox):
    assert list(results.columns[:9]) == [
        "source_row",
        "姓名",
        "mobile",
        "status",
        "reason_zh",
        "reason",
        "message_zh",
        "message_en",
        "content",
    ]
    assert [c for c in results.columns if c in RESULT_COLUMNS] == list(RESULT_COLUMNS)
    assert {"客户编号", "手机", "城市", "carrier", "region"} <= set(results.columns)  # nothing lost
    assert LEAD_COLUMNS == RESULT_COLUMNS[: len(LEAD_COLUMNS)]
    by_status = results.set_index("status")
    assert by_status.loc["invalid", "reason"] == "wrong length"
    assert by_status.loc["invalid", "reason_zh"] == "位数不对"
    assert (
        by_status.loc["duplicate", "reason_zh"] == "与第 0 行重复"
    )  # source_row of an inline frame is its index
    assert pd.isna(by_status.loc["accepted", "reason_zh"]).all()
    assert len(sandbox.ledger) == 2


def test_one_missing_value_marker(results):
    text = [
        c
        for c in results.columns
        if results[c].dtype == object or isinstance(results[c].dtype, pd.StringDtype)
    ]
    assert {"mobile", "status", "reason", "reason_zh", "message_zh", "content", "姓名", "城市"} <= set(
        text
    )
    for column in text:
        assert results[column].dtype == TEXT, column
    assert results["reason"].iloc[0] is pd.NA and results["message_zh"].iloc[1] is pd.NA
    # value_counts ends in one dtype, whichever text column is counted
    assert results["status"].value_counts().dtype == results["carrier"].value_counts().dtype


def test_read_journal_has_the_same_order(gateway, tmp_path):
    recipients = pd.DataFrame({"name": ["A", "B"], "手机": ["13800138000", "13900139000"]})
    plan = sc.plan_campaign(sc.check_numbers(recipients), "{name}: hello")
    sent = sc.send_campaign(plan, gateway, journal=tmp_path / "j.sqlite", progress=False)
    again = sc.read_journal(tmp_path / "j.sqlite")
    assert list(again.columns) == list(sent.columns)
    assert list(sent.columns[:3]) == ["source_row", "name", "mobile"]


def test_arrange_keeps_names_rows_and_does_not_mutate():
    frame = pd.DataFrame(
        {
            "mobile": ["13800138000", "13900139000"],
            "客户编号": ["C1", "C2"],
            "status": ["accepted", "invalid"],
            "客户名称": ["甲公司", "乙公司"],
            "source_row": [1, 2],
            "reason": [None, "wrong length"],
            "extra": [1, 2],
        }
    )
    before = frame.copy()
    out = arrange(frame)
    pd.testing.assert_frame_equal(frame, before)
    assert name_columns(frame) == ["客户名称"]  # 客户编号 is an identifier, not a name
    assert list(out.columns) == [
        "source_row",
        "客户名称",
        "mobile",
        "status",
        "reason_zh",
        "reason",
        "客户编号",
        "extra",
    ]
    assert out["reason_zh"].tolist()[1] == "位数不对" and out["reason_zh"].iloc[0] is pd.NA


def _style_of(html: str, header: str) -> str:
    match = re.search(rf'<th style="([^"]*)">{re.escape(header)}</th>', html)
    assert match, f"no header {header}"
    return match.group(1)


def test_view_fits_a_notebook(results):
    shown = view(results)
    html = shown._repr_html_()
    lead = ["source_row", "姓名", "mobile", "status", "reason_zh", "reason", "content"]
    assert list(shown.data.columns) == lead
    assert "<style" not in html  # inline styles: kept by JupyterLab's sanitizer and GitHub
    for name in ("姓名", "reason_zh"):  # short Chinese columns: one line, header-wide
        css = _style_of(html, name)
        assert "white-space: nowrap" in css
        width = float(re.search(r"min-width: ([\d.]+)em", css).group(1))
        assert width >= 2  # at least the header's width (two wide characters are 2 em)
        assert html.count(f'<td style="{css.rsplit("; vertical-align", 1)[0]}') >= 1
    content = _style_of(html, "content")
    assert "white-space: normal" in content and "max-width" in content
    texts = results["content"].dropna()
    assert len(texts) and all(len(t) > 50 and t in html for t in texts)  # whole, never cut with …
    # one marker for missing values, whatever the column's dtype
    assert f">{MISSING}<" in html
    assert not re.search(r">\s*(nan|NaN|NaT|None|&lt;NA&gt;)\s*<", html)
    assert MISSING in repr(shown) and "<NA>" not in repr(shown)
    assert sc.view is view
    assert results.sms.view().to_html() == html


def test_view_rows_and_columns(results):
    shown = view(results, ["姓名", "status"], rows=2)
    assert list(shown.data.columns) == ["姓名", "status"] and len(shown.data) == 2
    assert "first 2 of 4 rows" in shown.to_html()
    with pytest.raises(sc.ConfigError, match="nope"):
        view(results, ["nope"])


def test_report_writes_the_chinese_reason_once(results, tmp_path):
    path = sc.export_report(results, tmp_path / "r.xlsx")
    sheet = openpyxl.load_workbook(path, read_only=True)["明细"]
    header = [c for c in next(sheet.iter_rows(max_row=1, values_only=True)) if c]
    assert "reason_zh" not in header
    assert sum("中文原因" in str(c) for c in header) == 1
    assert header.index("原因 reason") + 1 == header.index("中文原因 reason (zh)")


def test_account_sends_beside_the_campaign(results, gateway, sandbox, tmp_path):
    gateway.send_sms(["13700137000"], "另一条短信")  # sent from the account, not by this campaign
    stats = gateway.user_stat()
    before = stats.copy()
    table = account_sends(results, stats)
    pd.testing.assert_frame_equal(stats, before)
    assert list(table.columns) == ["period", "kind", "sent", "campaign_accepted", "other"]
    accepted = int(results["status"].eq("accepted").sum())
    for kind in ("day", "month"):
        rows = table[table["kind"] == kind]
        assert rows["sent"].sum() == len(sandbox.ledger) == accepted + 1
        assert rows["campaign_accepted"].sum() == accepted and rows["other"].sum() == 1
    path = sc.export_report(results, tmp_path / "r.xlsx", account_stats=stats)
    sheet = openpyxl.load_workbook(path, read_only=True)["账户发送量"]
    values = list(sheet.iter_rows(values_only=True))
    header = [c for c in values[0] if c]
    assert header[:3] == ["时段 period", "日/月 kind", "账户发送量 account sent"]
    sent_col = header.index("本次受理 this campaign")
    assert sum(row[sent_col] for row in values[1:] if row[1] == "day") == accepted
    with pytest.raises(sc.ConfigError, match="period"):
        account_sends(results, pd.DataFrame({"x": [1]}))


def test_view_shows_the_number_as_given_for_a_row_that_could_not_be_read() -> None:
    raw = pd.DataFrame({"手机": ["13800000001", " 138-0000 ", ""], "姓名": ["张三", "李四", "王五"]})
    checked = sc.check_numbers(sc.load_recipients(raw))
    shown = view(checked)
    assert shown.data["mobile"].tolist()[:2] == ["13800000001", "138-0000"]
    assert shown.data["mobile"].isna().tolist() == [False, False, True]  # nothing was given
    assert "138-0000" in shown.to_html() and "138-0000" in repr(shown)
    assert checked["mobile"].isna().sum() == 2  # the input is not modified
    assert shown.data["mobile"].dtype == TEXT
