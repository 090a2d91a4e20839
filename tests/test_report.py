"""Reports: the DataFrames, the workbook read back with openpyxl, the figure."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from conftest import PASSWORD, USER

import smscampaign as sc
from smscampaign.report import (
    _column,
    _first,
    _labelled,
    _plain,
    campaign_report,
    export_report,
    plot_report,
)

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "recipients.xlsx"

RISKY = ["=SUM(A1)", "+8613800138000", "-1", "@cmd", "#N/A", '=HYPERLINK("http://evil")']


def results_frame() -> pd.DataFrame:
    """A small results frame with the columns send_campaign returns, plus two input columns."""
    return pd.DataFrame(
        {
            "source_row": [2, 3, 4, 5, 6, 7],
            "mobile": pd.array(
                ["13800138000", "13912345678", None, "13800138000", "18612345678", "15012345678"],
                dtype="string",
            ),
            "status": ["accepted", "failed", "invalid", "duplicate", "unknown", "accepted"],
            "code": pd.array([50, -107, None, None, None, 50], dtype="Int64"),
            "message_zh": ["短信发送成功", "可发短信条数不够", None, None, "无响应", "短信发送成功"],
            "message_en": [
                "ok",
                "Not enough messages left on the account",
                None,
                None,
                "no answer",
                "ok",
            ],
            "category": ["success", "account", None, None, "ambiguous", "success"],
            "batch": pd.array([1, 2, None, None, 3, 1], dtype="Int64"),
            "attempts": pd.array([1, 1, 0, 0, 3, 1], dtype="Int64"),
            "gateway_result": ["短信发送成功", "可发短信条数不够", None, None, None, "短信发送成功"],
            "sent_at": pd.to_datetime(
                [
                    "2026-01-01 10:00",
                    "2026-01-01 10:01",
                    None,
                    None,
                    "2026-01-01 10:02",
                    "2026-01-01 10:00",
                ]
            ).tz_localize("Asia/Shanghai"),
            "content": ["您好【演示】", "您好【演示】", None, None, "您好【演示】", "您好【演示】"],
            "reason": [None, None, "wrong length", "duplicate of row 2", None, None],
            "carrier": ["中国移动", "中国移动", None, "中国移动", "中国联通", "中国移动"],
            "region": ["北京市", "江苏省常州市", None, "北京市", "北京市", "云南省文山壮族苗族自治州"],
            "手机号": [13800138000, 13912345678, 12, 13800138000, 18612345678, 15012345678],
            "姓名": RISKY,
        }
    )


def test_summary_counts_and_shares() -> None:
    summary = campaign_report(results_frame())["summary"]
    assert summary["status"].tolist() == ["accepted", "failed", "unknown", "invalid", "duplicate"]
    assert summary["recipients"].tolist() == [2, 1, 1, 1, 1]
    assert summary["share"].sum() == pytest.approx(1.0, abs=1e-3)
    assert summary.attrs["recipients"] == 6


def test_summary_lists_core_statuses_at_zero() -> None:
    summary = campaign_report(pd.DataFrame({"mobile": [None], "status": ["invalid"]}))["summary"]
    assert summary.set_index("status")["recipients"].to_dict() == {
        "accepted": 0,
        "failed": 0,
        "unknown": 0,
        "invalid": 1,
    }


def test_errors_per_code_from_the_code_table() -> None:
    errors = campaign_report(results_frame())["errors"]
    assert list(errors.columns) == ["code", "zh", "en", "category", "recipients"]
    first = errors.iloc[0]
    assert (first["code"], first["zh"], first["category"], first["recipients"]) == (
        -107,
        "可发短信条数不够",
        "account",
        1,
    )
    assert pd.isna(errors.iloc[1]["code"]) and errors.iloc[1]["zh"] == "无响应"


def test_carriers_regions_and_batches() -> None:
    tables = campaign_report(results_frame())
    carriers = tables["carriers"].set_index("carrier")
    assert carriers.loc["中国移动", "recipients"] == 4
    assert carriers.loc["中国移动", "accepted_share"] == pytest.approx(0.5)
    assert "未知" in carriers.index
    regions = tables["regions"].set_index("province")
    assert regions["recipients"].to_dict() == {"北京市": 3, "云南省": 1, "未知": 1, "江苏省": 1}
    batches = tables["batches"]
    assert batches["batch"].tolist() == [1, 2, 3]
    assert batches["size"].tolist() == [2, 1, 1]
    assert batches["status"].tolist() == ["accepted", "failed", "unknown"]
    assert batches["attempts"].tolist() == [1, 1, 3]


def test_report_functions_do_not_mutate(tmp_path: Path) -> None:
    results = results_frame()
    before = results.copy()
    campaign_report(results)
    export_report(results, tmp_path / "r.xlsx")
    pd.testing.assert_frame_equal(results, before)


def test_campaign_report_needs_status() -> None:
    with pytest.raises(ValueError, match="status"):
        campaign_report(pd.DataFrame({"mobile": ["13800138000"]}))


@pytest.fixture
def workbook(tmp_path: Path) -> openpyxl.Workbook:
    replies = pd.DataFrame(
        {"sender": ["13800138000"], "content": ["=1+1 退订"], "receivetime": ["2026-01-01 10:00:00"]}
    )
    path = export_report(results_frame(), tmp_path / "sub" / "report.xlsx", replies=replies)
    assert path == tmp_path / "sub" / "report.xlsx"
    with zipfile.ZipFile(path) as archive:  # a well-formed package with a real chart part
        assert archive.testzip() is None
        assert any(name.startswith("xl/charts/chart") for name in archive.namelist())
    return openpyxl.load_workbook(path)


def test_sheets_headers_filters(workbook: openpyxl.Workbook) -> None:
    assert workbook.sheetnames[:5] == ["概览", "明细", "错误", "无效与重复", "批次"]
    assert workbook.sheetnames[-1] == "回复"
    for sheet in workbook.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
        assert sheet.auto_filter.ref and sheet.auto_filter.ref.startswith("A1:"), sheet.title
        assert all(cell.font.bold for cell in sheet[1] if cell.value is not None), sheet.title
        assert all(dim.width and dim.width >= 8 for dim in sheet.column_dimensions.values())
    detail = workbook["明细"]
    assert detail.max_row == 7  # header + every recipient
    invalid = workbook["无效与重复"]
    header = [c.value for c in invalid[1]]
    rows = [
        dict(zip(header, [c.value for c in row], strict=True)) for row in invalid.iter_rows(min_row=2)
    ]
    assert [(r["status"], r["reason"]) for r in rows] == [
        ("invalid", "wrong length"),
        ("duplicate", "duplicate of row 2"),
    ]
    assert [c.value for c in workbook["错误"]["A"][1:]] == [-107, None]
    assert workbook["回复"]["B2"].value == "=1+1 退订"


def test_overview_has_a_bar_chart_on_the_summary(workbook: openpyxl.Workbook) -> None:
    overview = workbook["概览"]
    assert [c.value for c in overview[1]] == ["状态", "status", "人数 recipients", "占比 share"]
    assert overview["B2"].value == "accepted" and overview["C2"].value == 2
    charts = overview._charts
    assert len(charts) == 1 and charts[0].tagname == "barChart"
    refs = charts[0].series[0].val.numRef.f
    assert refs == "'概览'!$C$2:$C$6"


def test_numbers_stay_text_and_nothing_is_a_formula(workbook: openpyxl.Workbook) -> None:
    detail = workbook["明细"]
    header = [c.value for c in detail[1]]
    mobiles = [row[header.index("mobile")].value for row in detail.iter_rows(min_row=2)]
    raw = [row[header.index("手机号")].value for row in detail.iter_rows(min_row=2)]
    assert mobiles[0] == "13800138000" and raw[0] == "13800138000" and raw[2] == "12"
    names = [row[header.index("姓名")].value for row in detail.iter_rows(min_row=2)]
    assert names == RISKY  # text preserved exactly
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
    name_cells = [row[header.index("姓名")] for row in detail.iter_rows(min_row=2)]
    assert all(c.data_type == "s" for c in name_cells)
    assert all(c.quotePrefix for c in name_cells if c.value[0] in "=+-@")


def test_export_rejects_other_suffixes(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\.xlsx"):
        export_report(results_frame(), tmp_path / "report.csv")


def test_export_handles_empty_results(tmp_path: Path) -> None:
    empty = results_frame().iloc[0:0]
    path = export_report(empty, tmp_path / "empty.xlsx")
    book = openpyxl.load_workbook(path)
    assert book["明细"].max_row == 1


def test_plot_report_returns_a_figure() -> None:
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    fig = plot_report(results_frame())
    assert isinstance(fig, Figure)
    assert [ax.get_title() for ax in fig.axes] == [
        "Recipients by status",
        "Recipients by carrier",
        "Top error codes",
    ]


# -- the batches table against the per-batch implementation it replaced ------------------------------


def batches_oracle(results: pd.DataFrame) -> pd.DataFrame:
    """The batches table as the first release built it: one pandas group per batch (slow, obvious)."""
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


def sandbox_campaign(sandbox: sc.Sandbox, tmp_path: Path) -> pd.DataFrame:
    """The sample list sent for real in batches of 7: accepted batches, a failed one (-119), an unknown
    one (-109), a retried one (-100 then accepted), and the rows the plan never made ready."""
    checked = sc.check_numbers(sc.load_recipients(SAMPLE))
    plan = sc.plan_campaign(
        checked, "{姓名}您好，会员日八折。回T退订", signature="【小店】", batch_size=7
    )
    for code in (-119, -109, -100):
        sandbox.fail_next("send_sms", code)
    with sandbox.gateway(USER, PASSWORD) as gw:
        return sc.send_campaign(plan, gw, progress=False, retry_backoff=0.001)


def test_batches_identical_to_the_per_batch_build_on_a_real_campaign(sandbox, tmp_path: Path) -> None:
    results = sandbox_campaign(sandbox, tmp_path)
    assert {"accepted", "failed", "unknown", "invalid"} <= set(results["status"])
    assert results["batch"].nunique() > 20
    expected = batches_oracle(results)
    pd.testing.assert_frame_equal(campaign_report(results)["batches"], expected)
    # Mixed statuses within a batch, missing values and object columns take the same path.
    pd.testing.assert_frame_equal(
        campaign_report(results_frame())["batches"], batches_oracle(results_frame())
    )
    mixed = results.copy()
    mixed.loc[mixed.index[:3], "status"] = ["unknown", "accepted", "failed"]
    mixed.loc[mixed.index[:5], "code"] = pd.NA
    mixed["gateway_result"] = mixed["gateway_result"].astype(object)
    mixed.loc[mixed["batch"] == mixed["batch"].max(), "sent_at"] = pd.NaT  # e.g. a not_sent batch
    pd.testing.assert_frame_equal(campaign_report(mixed)["batches"], batches_oracle(mixed))
    nothing = results.assign(batch=pd.array([None] * len(results), dtype="Int64"))
    pd.testing.assert_frame_equal(campaign_report(nothing)["batches"], batches_oracle(nothing))
