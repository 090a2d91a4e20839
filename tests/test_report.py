"""Reports: the DataFrames, the workbook read back with openpyxl, the figure."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from conftest import PASSWORD, USER

import smscampaign as sc
from smscampaign.core.columns import arrange
from smscampaign.core.errors import ConfigError
from smscampaign.reports import xlsx
from smscampaign.reports.plots import plot_report
from smscampaign.reports.tables import (
    _as_text,
    _first,
    _labelled,
    campaign_report,
    column_or_na,
    plain_value,
)
from smscampaign.reports.workbook import export_report
from smscampaign.reports.xlsx import display_width

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
    ).pipe(with_phone_column, "手机号")


def with_phone_column(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    frame.attrs["phone_column"] = name  # as load_recipients records it
    return frame


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


ENGINES = ["rust", "openpyxl"]


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """Every workbook test runs with the compiled writer and with the pure-Python fallback."""
    if request.param == "rust":
        pytest.importorskip("rustpy_xlsxwriter")
    return request.param


def header_row(sheet) -> int:
    """1-based row of a sheet's table header: the row its panes are frozen under."""
    return int(sheet.freeze_panes[1:]) - 1


def table(sheet) -> list[dict[str, Any]]:
    """The sheet's table as dicts keyed by the header labels."""
    top = header_row(sheet)
    header = [c.value for c in sheet[top]]
    return [
        dict(zip(header, [c.value for c in row], strict=True))
        for row in sheet.iter_rows(min_row=top + 1, max_col=len(header))
    ]


def column_width(sheet, index: int) -> float:
    """Width of the 1-based column ``index`` (one <col> element may cover several columns)."""
    for dimension in sheet.column_dimensions.values():
        if dimension.min <= index <= dimension.max:
            return dimension.width
    raise AssertionError(f"{sheet.title}: no width for column {index}")


def cells(sheet, label: str) -> list:
    top = header_row(sheet)
    header = [c.value for c in sheet[top]]
    return [row[header.index(label)] for row in sheet.iter_rows(min_row=top + 1)]


@pytest.fixture
def workbook(tmp_path: Path, engine: str) -> openpyxl.Workbook:
    replies = pd.DataFrame(
        {"sender": ["13800138000"], "content": ["=1+1 退订"], "receivetime": ["2026-01-01 10:00:00"]}
    )
    path = export_report(
        results_frame(), tmp_path / "sub" / "report.xlsx", replies=replies, engine=engine
    )
    assert path == tmp_path / "sub" / "report.xlsx"
    with zipfile.ZipFile(path) as archive:  # a well-formed package with a real chart part
        assert archive.testzip() is None
        assert any(name.startswith("xl/charts/chart") for name in archive.namelist())
    return openpyxl.load_workbook(path)


def test_sheets_headers_filters(workbook: openpyxl.Workbook) -> None:
    assert workbook.sheetnames[:5] == ["概览", "明细", "错误", "无效与重复", "批次"]
    assert workbook.sheetnames[-1] == "回复"
    for sheet in workbook.worksheets:
        top = header_row(sheet)
        assert sheet.freeze_panes == f"A{top + 1}", sheet.title
        assert sheet.auto_filter.ref and sheet.auto_filter.ref.startswith(f"A{top}:"), sheet.title
        assert all(cell.font.bold for cell in sheet[top] if cell.value is not None), sheet.title
        assert all(dim.width and dim.width >= 8 for dim in sheet.column_dimensions.values())
    assert (
        header_row(workbook["明细"]) == 1 and workbook["明细"].max_row == 7
    )  # header + every recipient
    rows = table(workbook["无效与重复"])
    assert [
        (r["状态 status"], r["中文状态 status (zh)"], r["原因 reason"], r["中文原因 reason (zh)"])
        for r in rows
    ] == [
        ("invalid", "号码无效", "wrong length", "位数不对"),
        ("duplicate", "号码重复", "duplicate of row 2", "与第 2 行重复"),
    ]
    assert [r["错误码 error code"] for r in table(workbook["错误"])] == [-107, None]
    assert workbook["回复"]["B2"].value == "=1+1 退订"


def test_every_header_is_bilingual_and_the_gateway_result_is_no_error_code(
    workbook: openpyxl.Workbook,
) -> None:
    cjk = re.compile(r"[\u4e00-\u9fff]")
    latin = re.compile(r"[A-Za-z]")
    inputs = {"手机号", "姓名"}  # the recipient list's own column names stay as the user wrote them
    for sheet in workbook.worksheets:
        labels = [c.value for c in sheet[header_row(sheet)] if c.value is not None]
        for label in labels:
            assert label in inputs or (cjk.search(label) and latin.search(label)), (sheet.title, label)
        assert "code" not in labels and "status" not in labels, sheet.title
    detail = table(workbook["明细"])
    accepted = [r for r in detail if r["状态 status"] == "accepted"]
    assert [r["网关回执 gateway result"] for r in accepted] == [50, 50]
    assert all(r["错误码 error code"] is None for r in accepted)
    failed = next(r for r in detail if r["状态 status"] == "failed")
    assert (failed["错误码 error code"], failed["网关回执 gateway result"]) == (-107, None)
    assert [r["中文状态 status (zh)"] for r in detail][:3] == ["已受理", "失败", "号码无效"]


def test_invalid_sheet_has_only_the_columns_that_mean_something(workbook: openpyxl.Workbook) -> None:
    labels = [c.value for c in workbook["无效与重复"][1]]
    assert labels[:7] == [
        "行号 row",
        "手机号",
        "手机号 mobile",
        "状态 status",
        "中文状态 status (zh)",
        "原因 reason",
        "中文原因 reason (zh)",
    ]
    sent_only = {
        "批次 batch",
        "网关回执 gateway result",
        "错误码 error code",
        "短信内容 content",
        "发送时间 sent at (北京时间)",
        "请求次数 attempts",
        "类别 category",
        "网关说明 message (zh)",
        "网关原文 gateway text",
    }
    assert not sent_only & set(labels)
    # Every column holds something for at least one row.
    rows = table(workbook["无效与重复"])
    assert all(any(r[label] is not None for r in rows) for label in labels)


def test_overview_has_a_bar_chart_on_the_summary(workbook: openpyxl.Workbook) -> None:
    overview = workbook["概览"]
    top = header_row(overview)
    assert overview["A1"].value == "短信群发报告 SMS campaign report"
    assert [c.value for c in overview[top]][:4] == [
        "中文状态 status (zh)",
        "状态 status",
        "人数 recipients",
        "占比 share",
    ]
    rows = table(overview)
    assert [(r["状态 status"], r["人数 recipients"]) for r in rows] == [
        ("accepted", 2),
        ("failed", 1),
        ("unknown", 1),
        ("invalid", 1),
        ("duplicate", 1),
    ]
    facts = {r["项目 item"]: r["数值 value"] for r in rows if r["项目 item"]}
    assert facts == {"收件人合计 recipients": 6, "回复 replies": 1}
    charts = overview._charts
    assert len(charts) == 1 and charts[0].tagname == "barChart"
    refs = charts[0].series[0].val.numRef.f.replace("'", "")
    assert refs == f"概览!$C${top + 1}:$C${top + 5}"


def test_counts_are_right_aligned_numbers(workbook: openpyxl.Workbook) -> None:
    for title, label in [
        ("概览", "人数 recipients"),
        ("概览", "数值 value"),
        ("运营商", "人数 recipients"),
        ("地区", "已受理 accepted"),
        ("错误", "人数 recipients"),
    ]:
        column = [c for c in cells(workbook[title], label) if c.value is not None]
        assert column and all(
            c.data_type == "n" and c.alignment.horizontal == "right" for c in column
        ), (title, label)
    shares = [c for c in cells(workbook["概览"], "占比 share")]
    # "86.0%" keeps a space after it: it never touches the text of the column beside it.
    assert all(c.data_type == "n" and c.number_format == "0.0%_)" for c in shares)


def test_the_workbook_prints(workbook: openpyxl.Workbook) -> None:
    for sheet in workbook.worksheets:
        top = header_row(sheet)
        setup = sheet.page_setup
        assert setup.orientation == "landscape", sheet.title
        assert sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title
        assert (setup.fitToWidth or 1) == 1, sheet.title  # absent means 1
        assert (setup.fitToHeight if setup.fitToHeight is not None else 1) == (
            1 if sheet.title == "概览" else 0
        )
        assert sheet.print_title_rows == f"${top}:${top}", sheet.title


def test_fonts_are_named_and_sized(workbook: openpyxl.Workbook) -> None:
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows(min_row=1, max_row=min(sheet.max_row, 12)):
            for cell in row:
                if cell.value is not None:
                    assert (cell.font.name, cell.font.sz) in {("等线", 11), ("等线", 14)}, (
                        sheet.title,
                        cell.coordinate,
                    )
                    assert cell.font.family == 2, (sheet.title, cell.coordinate)  # sans-serif fallback


def test_widths_follow_east_asian_display_width(workbook: openpyxl.Workbook) -> None:
    for sheet in workbook.worksheets:
        top = header_row(sheet)
        for i, cell in enumerate(sheet[top], start=1):
            if cell.value is None:
                continue
            width = column_width(sheet, i)
            assert width >= display_width(cell.value), (sheet.title, cell.value, width)
    detail = workbook["明细"]
    names = {c.value: i for i, c in enumerate(detail[1], start=1)}
    # 云南省文山壮族苗族自治州: 12 wide characters, 24 columns.
    assert column_width(detail, names["归属地 region"]) >= 24


def test_numbers_stay_text_and_nothing_is_a_formula(workbook: openpyxl.Workbook) -> None:
    detail = workbook["明细"]
    mobiles = [c.value for c in cells(detail, "手机号 mobile")]
    raw = [c.value for c in cells(detail, "手机号")]
    assert mobiles[0] == "13800138000" and raw[0] == "13800138000" and raw[2] == "12"
    names = [c.value for c in cells(detail, "姓名")]
    assert names == RISKY  # text preserved exactly
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
    name_cells = cells(detail, "姓名")
    assert all(c.data_type == "s" for c in name_cells)
    assert all(c.quotePrefix for c in name_cells if c.value[0] in "=+-@")


def test_export_rejects_other_suffixes(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\.xlsx"):
        export_report(results_frame(), tmp_path / "report.csv")
    with pytest.raises(ConfigError, match="engine"):
        export_report(results_frame(), tmp_path / "report.xlsx", engine="pandas")


def test_export_handles_empty_results(tmp_path: Path, engine: str) -> None:
    empty = results_frame().iloc[0:0]
    path = export_report(empty, tmp_path / "empty.xlsx", engine=engine)
    book = openpyxl.load_workbook(path)
    for title in ("明细", "错误", "无效与重复", "批次"):
        sheet = book[title]
        assert sheet.max_row == 2, title
        assert sheet["A2"].value == "无 none", title


def test_errors_sheet_says_none_when_nothing_failed(tmp_path: Path, engine: str) -> None:
    results = results_frame()
    results = results[results["status"] == "accepted"]
    book = openpyxl.load_workbook(export_report(results, tmp_path / "ok.xlsx", engine=engine))
    assert [c.value for c in book["错误"]["A"]] == ["错误码 error code", "无 none"]
    assert [r["状态 status"] for r in table(book["明细"])] == ["accepted", "accepted"]


def test_a_detail_over_the_sheet_limit_continues_on_numbered_sheets(
    tmp_path: Path, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xlsx, "MAX_ROWS", 3)  # header + 2 rows a sheet, as 1,048,576 would be
    book = openpyxl.load_workbook(export_report(results_frame(), tmp_path / "big.xlsx", engine=engine))
    details = [name for name in book.sheetnames if name.startswith("明细")]
    assert details == ["明细", "明细 2", "明细 3"]
    rows = [r for name in details for r in table(book[name])]
    assert [r["行号 row"] for r in rows] == [2, 3, 4, 5, 6, 7]
    assert all(header_row(book[name]) == 1 for name in details)
    notes = [c.value for c in book["概览"]["C"] if isinstance(c.value, str)]
    assert any("明细 2" in text and "1,048,576" not in text and "3" in text for text in notes) or any(
        "明细, 明细 2, 明细 3" in text for text in notes
    )


def test_a_big_report_shows_a_progress_bar(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export_report(results_frame(), tmp_path / "r.xlsx", progress=True)
    assert "writing r.xlsx" in capsys.readouterr().err
    export_report(results_frame(), tmp_path / "r.xlsx")  # small: no bar unless asked
    assert "writing" not in capsys.readouterr().err


def test_plot_report_returns_a_figure() -> None:
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    fig = plot_report(results_frame(), language="en")
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
    batch = pd.to_numeric(column_or_na(results, "batch"), errors="coerce").astype("Int64")
    sent = results[batch.notna().to_numpy(dtype=bool)]
    if sent.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    rows: list[dict[str, Any]] = []
    for number, group in sent.groupby(batch[batch.notna()], sort=True):
        statuses = list(dict.fromkeys(_labelled(column_or_na(group, "status"))))
        attempts = pd.to_numeric(column_or_na(group, "attempts"), errors="coerce").max()
        code = pd.to_numeric(column_or_na(group, "code"), errors="coerce").dropna()
        sent_at = column_or_na(group, "sent_at").dropna()
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
                "gateway_result": plain_value(column_or_na(group, "gateway_result").dropna().iloc[0])
                if column_or_na(group, "gateway_result").notna().any()
                else pd.NA,
            }
        )
    table = pd.DataFrame(rows, columns=columns)
    for name in ("code", "attempts"):
        table[name] = table[name].astype("Int64")
    source = column_or_na(results, "sent_at")
    if isinstance(source.dtype, pd.DatetimeTZDtype) and isinstance(
        table["sent_at"].dtype, pd.DatetimeTZDtype
    ):
        # rows of Timestamps infer nanoseconds on pandas 2; the table keeps the results' own unit
        table["sent_at"] = table["sent_at"].astype(source.dtype)
    return _as_text({"batches": table})["batches"]  # text in the one text dtype, as campaign_report


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


def test_text_excel_cannot_hold_is_cleaned_not_refused(tmp_path: Path, engine: str) -> None:
    results = results_frame()
    results["姓名"] = ["a\x01b", "x" * 40_000, "ok", "ok", "ok", "ok"]
    book = openpyxl.load_workbook(export_report(results, tmp_path / "r.xlsx", engine=engine))
    names = [c.value for c in cells(book["明细"], "姓名")]
    assert names[0] == "a\ufffdb" and len(names[1]) == 32_767


def figure_texts(fig) -> list:
    """Every visible text of a drawn figure: titles, axis labels, tick labels, legends, notes."""
    from matplotlib.text import Text

    fig.canvas.draw()
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip() and t.figure is fig]


def test_plot_report_labels_never_collide() -> None:
    pytest.importorskip("matplotlib")
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    results = results_frame()
    results.loc[0, "carrier"] = "中国广电"  # four carriers and 未知 on one axis
    fig = plot_report(results, language="en")
    FigureCanvasAgg(fig)
    texts = figure_texts(fig)
    renderer = fig.canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts]
    assert len(boxes) > 15
    for i, (a, box_a) in enumerate(boxes):
        for b, box_b in boxes[i + 1 :]:
            assert not box_a.overlaps(box_b), (a, b)
    # Carriers read along the vertical axis, level, not tilted into the axis below.
    carrier_ticks = [t.get_text() for t in fig.axes[1].get_yticklabels()]
    assert set(carrier_ticks) == {"China Mobile", "China Unicom", "China Broadnet", "unknown"}


def test_plot_report_says_so_when_there_are_no_errors() -> None:
    pytest.importorskip("matplotlib")
    results = results_frame()
    accepted = results[results["status"] == "accepted"]
    errors_panel = plot_report(accepted, language="en").axes[2]
    assert not errors_panel.axison  # no meaningless 0-1 axis
    assert [t.get_text() for t in errors_panel.texts] == ["no errors"]
    assert errors_panel.get_title() == "Top error codes"
    zh = plot_report(accepted, language="zh")
    assert [t.get_text() for t in zh.axes[2].texts] == ["无错误 no errors"]
    assert [ax.get_title() for ax in zh.axes] == [
        "收件人状态 Recipients by status",
        "运营商 Recipients by carrier",
        "主要错误码 Top error codes",
    ]
    assert [t.get_text() for t in zh.axes[0].get_yticklabels()][-1] == "已受理"
    with pytest.raises(ConfigError, match="language"):
        plot_report(accepted, language="fr")


def test_plot_report_speaks_chinese_when_a_cjk_font_is_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("matplotlib")
    from smscampaign.reports import plots

    monkeypatch.setattr(plots, "_cjk_font", lambda: "Noto Sans CJK SC")
    assert plot_report(results_frame()).axes[0].get_title() == "收件人状态 Recipients by status"
    monkeypatch.setattr(plots, "_cjk_font", lambda: None)
    assert plot_report(results_frame()).axes[0].get_title() == "Recipients by status"


def test_provinces_are_the_34_divisions_and_unknown() -> None:
    from smscampaign.stages.numbers import PROVINCES

    names = set(PROVINCES)
    assert len(names) == 34
    assert sum(n.endswith("自治区") for n in names) == 5
    assert {"北京市", "天津市", "上海市", "重庆市", "香港特别行政区", "澳门特别行政区"} <= names
    regions = {
        "内蒙古呼和浩特市": "内蒙古自治区",
        "内蒙古兴安盟": "内蒙古自治区",
        "广西南宁市": "广西壮族自治区",
        "新疆乌鲁木齐市": "新疆维吾尔自治区",
        "西藏林芝地区": "西藏自治区",
        "宁夏银川市": "宁夏回族自治区",
        "黑龙江省哈尔滨市": "黑龙江省",
        "陕西省西安市": "陕西省",
        "山西省太原市": "山西省",
        "北京市": "北京市",
        "重庆": "重庆市",
        "香港": "香港特别行政区",
        "广东省深圳市": "广东省",
        "中国": "未知",
        "": "未知",
    }
    results = pd.DataFrame({"status": "accepted", "region": [*regions, None]})
    table = campaign_report(results)["regions"].set_index("province")["recipients"]
    expected = pd.Series([*regions.values(), "未知"]).value_counts()
    assert table.sort_index().to_dict() == expected.sort_index().to_dict()
    assert campaign_report(results)["regions"].attrs["unknown_share"] == pytest.approx(3 / 16, abs=1e-4)


def test_regions_of_real_numbers_group_into_provinces(tmp_path: Path) -> None:
    """A fixed random sample of mobiles over many prefixes, checked by phonenumbers' geocoder: 地区
    holds only the 34 names and 未知, and says how many are 未知."""
    import numpy as np

    from smscampaign.stages.numbers import PROVINCES

    rng = np.random.default_rng(19)
    prefixes = [130, 131, 132, 133, 135, 136, 137, 138, 139, 147, 150, 151, 152, 153, 155, 156, 157]
    prefixes += [158, 159, 166, 170, 171, 173, 175, 176, 177, 178, 180, 181, 182, 183, 184, 185, 186]
    prefixes += [187, 188, 189, 190, 191, 192, 193, 195, 196, 197, 198, 199]
    mobiles = [f"{rng.choice(prefixes)}{rng.integers(0, 10**8):08d}" for _ in range(2000)]
    checked = sc.check_numbers(pd.DataFrame({"手机号": mobiles}))
    results = checked.assign(status="accepted")
    regions = campaign_report(results)["regions"]
    assert set(regions["province"]) <= {*PROVINCES, "未知"}
    assert len(set(regions["province"])) >= 25  # the sample reaches most of the country
    share = regions.attrs["unknown_share"]
    assert share == pytest.approx(
        regions.set_index("province")["recipients"].get("未知", 0) / 2000, abs=1e-4
    )
    book = openpyxl.load_workbook(export_report(results, tmp_path / "r.xlsx", engine="openpyxl"))
    note = book["地区"]["C1"].value
    assert book["地区"]["A1"].value == "未知 unknown" and f"{share:.1%}" in note
    assert {r["省份 province"] for r in table(book["地区"])} <= {*PROVINCES, "未知"}


def test_every_reason_has_its_chinese() -> None:
    from smscampaign.core.reasons import reason_zh as _reason_zh
    from smscampaign.stages.numbers import Reason

    for reason in Reason:
        text = f"{reason} 3" if reason == Reason.DUPLICATE else str(reason)
        assert _reason_zh(text), text
    assert _reason_zh("duplicate of row 8") == "与第 8 行重复"
    assert _reason_zh("Malformed mobile number (-119)") == "手机号不符合规则（-119）"
    stopped = "campaign stopped: Not enough messages left on the account (-107)"
    assert _reason_zh(stopped) == "群发已停止：可发短信条数不够（-107）"
    assert _reason_zh("something new") == ""  # no guess: the English stays beside it


def test_without_the_compiled_writer_the_report_falls_back_to_openpyxl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "rustpy_xlsxwriter", None)  # as if the wheel were missing
    assert xlsx.default_engine() == "openpyxl"
    path = export_report(results_frame(), tmp_path / "r.xlsx")
    assert openpyxl.load_workbook(path)["明细"].max_row == 7
    with pytest.raises(ConfigError, match="rustpy-xlsxwriter"):
        export_report(results_frame(), tmp_path / "r.xlsx", engine="rust")


class _FaultAt(sc.Gateway):
    """A real gateway whose n-th ``send_sms`` meets the sandbox fault ``faults[n]``."""

    def __init__(self, *args: Any, box: sc.Sandbox, faults: dict[int, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.box, self.faults, self.calls = box, faults, 0

    def send_sms(self, receivers: Any, content: str, sendtime: Any = None) -> Any:
        self.calls += 1
        if self.calls not in self.faults:
            return super().send_sms(receivers, content, sendtime)
        self.box.faults = {self.faults[self.calls]: 1.0}
        try:
            return super().send_sms(receivers, content, sendtime)
        finally:
            self.box.faults = {}


def test_balance_readings_and_verdicts_are_in_the_report(
    sandbox: sc.Sandbox, tmp_path: Path, engine: str
) -> None:
    people = pd.DataFrame({"mobile": [f"138{i:08d}" for i in range(30)], "status": "ok"})
    plan = sc.plan_campaign(people, "会员日八折", signature="小店", batch_size=10)
    # Batch 2 is processed and charged, then the connection is reset: unknown, until the balance
    # says it was accepted; batch 3 is answered 500 before processing: the balance says not sent.
    faults = {2: "reset", 3: "http500"}
    with _FaultAt(USER, PASSWORD, base_url=sandbox.url, box=sandbox, faults=faults) as gw:
        sc.send_campaign(
            plan,
            gw,
            journal=tmp_path / "c.journal",
            reconcile="balance",
            sleep=lambda seconds: None,  # the wait between the two readings
            progress=False,
            retry_backoff=0.001,
        )
    assert len(sandbox.ledger) == 30 and not sandbox.ledger["receiver"].duplicated().any()
    results = sc.read_journal(tmp_path / "c.journal")  # the journal alone carries the readings
    readings = campaign_report(results)["reconciliations"]
    assert list(readings.columns) == [
        "at",
        "sms_left",
        "expected",
        "deducted",
        "batches",
        "verdict",
        "note",
        "accepted_total",
    ]
    assert readings["verdict"].tolist() == ["reading", "accepted", "not_sent"]
    assert readings["batches"].tolist() == ["", "2", "3"]
    assert readings["sms_left"].tolist() == [1000, 980, 980]
    assert readings["deducted"].tolist()[1:] == [10, 0]
    assert (results["status"] == "accepted").all()

    book = openpyxl.load_workbook(export_report(results, tmp_path / "r.xlsx", engine=engine))
    sheet = book["批次"]
    notes = [(r[0].value, r[2].value) for r in sheet.iter_rows(max_row=header_row(sheet) - 2)]
    assert len(notes) == 1 and notes[0][0] == "余额读数 reading"
    assert "剩余 sms left 1,000" in notes[0][1] and "start of run" in notes[0][1]
    rows = {r["批次 batch"]: r for r in table(sheet)}
    assert rows[2]["余额对账 reconciliation"] == "accepted"
    assert rows[2]["中文对账 reconciliation (zh)"] == "已扣费，确认已受理"
    assert (rows[2]["剩余条数 sms left"], rows[2]["预期剩余 expected"]) == (980, 990)
    assert rows[2]["扣除条数 deducted"] == 10
    assert rows[2]["对账时间 reconciled at (北京时间)"] is not None
    assert rows[3]["余额对账 reconciliation"] == "not_sent"
    assert rows[3]["中文对账 reconciliation (zh)"] == "未扣费，确认未发送"
    assert rows[3]["扣除条数 deducted"] == 0
    assert rows[1]["余额对账 reconciliation"] is None
    # A campaign that was not reconciled keeps its 批次 sheet as it was.
    plain = results.copy()
    plain.attrs = {**results.attrs, "reconciliations": []}
    assert campaign_report(plain)["reconciliations"].empty
    book = openpyxl.load_workbook(export_report(plain, tmp_path / "p.xlsx", engine=engine))
    assert header_row(book["批次"]) == 1
    assert "余额对账 reconciliation" not in [c.value for c in book["批次"][1]]


# -- Chinese in figures (issue 28, item 8) ---------------------------------------------------------


def _system_has_cjk_font() -> bool:
    """Whether the system has a Chinese font, asked of fontconfig (not of the code under test)."""
    import shutil
    import subprocess

    if shutil.which("fc-list") is None:
        return False
    listed = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True)
    names = listed.stdout
    return any(hint in names for hint in ("Noto Sans CJK", "Source Han Sans", "WenQuanYi", "SimHei"))


COMPARISON = pd.DataFrame(
    {"campaign": ["春季会员日", "夏季促销"], "reply_rate": [0.1, 0.2], "opt_out_rate": [0.01, 0.02]}
)


def test_plot_comparison_draws_chinese_names_in_an_installed_cjk_font() -> None:
    """With a CJK font (fonts-noto-cjk …) every text of the figure resolves to it and no glyph is
    missing; without one, exactly one warning names the package to install."""
    pytest.importorskip("matplotlib")
    import warnings

    import matplotlib
    from matplotlib import font_manager

    from smscampaign.reports.plots import CJK_FONTS, CJK_PACKAGE

    before = list(matplotlib.rcParams["font.family"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = sc.plot_comparison(COMPARISON)
        texts = figure_texts(fig)
    assert matplotlib.rcParams["font.family"] == before  # the user's rcParams are left alone
    labels = [t for t in texts if t.get_text() in set(COMPARISON["campaign"])]
    assert len(labels) == 2
    if _system_has_cjk_font():
        assert not [w for w in caught if "missing from" in str(w.message) or "CJK" in str(w.message)]
        for text in texts:
            path = font_manager.findfont(text.get_fontproperties(), fallback_to_default=False)
            assert font_manager.get_font(path).family_name in CJK_FONTS, (text.get_text(), path)
    else:
        ours = [w for w in caught if CJK_PACKAGE in str(w.message)]
        assert len(ours) == 1, [str(w.message) for w in caught]


def test_without_a_cjk_font_the_figures_warn_once_naming_the_package(monkeypatch) -> None:
    pytest.importorskip("matplotlib")
    import warnings

    from smscampaign.reports import plots

    monkeypatch.setattr(plots, "_cjk_font", lambda: None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plots.plot_comparison(COMPARISON)
        plots.plot_report(results_frame(), language="zh")
        plots.plot_report(results_frame())  # English without a CJK font: nothing to warn about
        plots.plot_comparison(COMPARISON.assign(campaign=["spring", "summer"]))
    ours = [str(w.message) for w in caught if plots.CJK_PACKAGE in str(w.message)]
    assert len(ours) == 2 and all("apt-get install fonts-noto-cjk" in m for m in ours)


def test_plot_report_names_the_cjk_font_on_every_text() -> None:
    pytest.importorskip("matplotlib")
    from matplotlib import font_manager

    from smscampaign.reports.plots import CJK_FONTS

    if not _system_has_cjk_font():
        pytest.skip(
            "no CJK font installed (apt-get install fonts-noto-cjk); the warning is tested above"
        )
    fig = plot_report(results_frame())
    for text in figure_texts(fig):
        path = font_manager.findfont(text.get_fontproperties(), fallback_to_default=False)
        assert font_manager.get_font(path).family_name in CJK_FONTS, text.get_text()


# -- the workbook reads and prints well (issue 28, item 21) ----------------------------------------

#: A4 landscape, in points.
A4_WIDE = 842.0


def printed_scale(sheet) -> float:
    """The scale a spreadsheet prints the print area at when fitting it one page wide: the page's
    width between the margins over the columns' width (a width unit is a 7-pixel digit, 0.75 pt)."""
    area = sheet.print_area
    first, last = (area or "").split("!")[-1].replace("$", "").split(":") if area else ("A1", "A1")
    from openpyxl.utils import column_index_from_string
    from openpyxl.utils.cell import coordinate_from_string

    start = column_index_from_string(coordinate_from_string(first)[0])
    end = column_index_from_string(coordinate_from_string(last)[0]) if area else sheet.max_column
    points = sum(column_width(sheet, i) * 7 * 0.75 for i in range(start, end + 1))
    margins = sheet.page_margins
    room = A4_WIDE - 72 * (margins.left + margins.right)
    return min(1.0, room / points)


def test_the_message_wraps_and_the_lead_columns_print_at_a_readable_size(
    tmp_path: Path, engine: str
) -> None:
    results = arrange(results_frame()).assign(
        姓名=["张三", "李四", "王五", "赵六", "欧阳娜娜", "孙七"],
        content=["张三您好，春季会员日全场八折，详询门店。回T退订【演示商城】" * 2] * 6,
    )
    book = openpyxl.load_workbook(export_report(results, tmp_path / "r.xlsx", engine=engine))
    detail = book["明细"]
    header = [c.value for c in detail[1]]
    # Every column stays in the sheet; the message wraps in a column of a readable width.
    assert len(header) == 20
    content = header.index("短信内容 content") + 1
    assert all(c.alignment.wrap_text for c in cells(detail, "短信内容 content"))
    assert 20 <= column_width(detail, content) <= 40
    # The analyst's columns are the print area: row, name, mobile … message, nothing after it.
    assert detail.print_area == f"'明细'!$A$1:${chr(64 + content)}${detail.max_row}"
    assert detail.print_title_rows == "$1:$1"
    setup = detail.page_setup
    assert setup.orientation == "landscape" and detail.sheet_properties.pageSetUpPr.fitToPage
    assert (setup.fitToWidth or 1) == 1 and setup.fitToHeight == 0
    scale = printed_scale(detail)
    assert scale >= 0.7, scale  # 11 pt prints at 7.7 pt or more (27 columns on a page: 3 pt)
    assert printed_scale(book["无效与重复"]) >= 0.7
    # The time is left-aligned: it never touches the next column's text.
    times = [c for c in cells(detail, "发送时间 sent at (北京时间)") if c.value is not None]
    assert times and all(c.alignment.horizontal == "left" for c in times)
    # Both engines write the same margins.
    margins = detail.page_margins
    assert (margins.left, margins.right, margins.top, margins.bottom) == (0.4, 0.4, 0.6, 0.6)


def test_outcomes_in_the_report_the_comparison_and_the_plot(home: Path, tmp_path: Path) -> None:
    """The 转化 sheets, compare_campaigns' conversion columns and plot_lift show the same figures
    as measure_outcomes (issue 27)."""
    from datetime import timedelta

    from test_outcomes import T0, people_frame, record_campaign

    from smscampaign.memory.home import SQLiteStore
    from smscampaign.reports.plots import plot_lift

    rows = [
        (f"139{i:08d}", "AB"[i % 2] if i % 4 else "holdout", "accepted" if i % 4 else "holdout")
        for i in range(800)
    ]
    with SQLiteStore(home) as store:
        record_campaign(store, "f1", "spring", people_frame(rows), T0)
    orders = pd.DataFrame(
        {"mobile": [m for m, *_ in rows[::3]], "at": T0 + timedelta(days=1), "金额": 50.0}
    )
    measured = sc.measure_outcomes("spring", orders, value="金额")
    path = sc.export_report(results_frame(), tmp_path / "report.xlsx", outcomes=measured)
    sheet = openpyxl.load_workbook(path)["转化"]
    found = table(sheet)
    assert [r["分组 arm"] for r in found] == measured["arm"].tolist()
    assert [r["转化人数 converted"] for r in found] == measured["converted"].tolist()
    assert [r["结论"] for r in found] == measured["verdict_zh"].tolist()
    with sc.History() as history:
        comparison = sc.compare_campaigns(history, ["spring"], outcomes=orders, value="金额")
    arms = measured[measured["arm"] != "holdout"]
    assert comparison.loc[0, "converted"] == arms["converted"].sum()
    assert comparison.loc[0, "conversion_rate"] == pytest.approx(
        arms["converted"].sum() / arms["people"].sum()
    )
    assert comparison.loc[0, "holdout_rate"] == pytest.approx(measured["rate"].iloc[-1])
    written = sc.export_comparison(comparison, tmp_path / "compare.xlsx", outcomes=measured)
    assert (
        pd.read_excel(written, sheet_name="转化")["转化人数 converted"].tolist()
        == measured["converted"].tolist()
    )
    figure = plot_lift(measured)
    assert [t.get_text() for t in figure.axes[0].get_yticklabels()] == ["spring · A", "spring · B"]
