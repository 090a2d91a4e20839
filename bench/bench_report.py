"""Benchmark for issue 14 (report parts): ``campaign_report`` and ``export_report``, and the workbook
writers behind them.

Targets (docs/benchmarks.md): ``campaign_report`` ≤ 0.5 s for 100,000 results and ≤ 3 s for 1,000,000
personalised results (~94,000 batches); ``export_report`` of 100,000 recipients ≤ 5 s end to end.

The results frames are generated in memory with the columns and dtypes ``send_campaign`` returns
(``send._results``) plus the six input columns of ``sample_data/recipients.xlsx``: ~95 % accepted,
some failed / unknown / invalid / duplicate rows, batches of 500 (shared content) or ~10.6
(per-recipient ``{姓名}``, 1M rows → ~94k batches).

    .venv/bin/python bench/bench_report.py [--rows N] [--big N] [--split N] [--writers LIST]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from smscampaign.reports import xlsx
from smscampaign.reports.tables import campaign_report
from smscampaign.reports.workbook import export_report
from smscampaign.wire.protocol import BEIJING

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华")
CITIES = ["北京市", "广东省深圳市", "内蒙古呼和浩特市", "江苏省南京市", "新疆乌鲁木齐市", "四川省成都市"]


def make_results(rows: int, *, batch_mean: float, seed: int = 14) -> pd.DataFrame:
    """A results frame of ``rows`` recipients, batches of about ``batch_mean`` recipients."""
    rng = np.random.default_rng(seed)
    numbers = (13_000_000_000 + rng.permutation(rows * 3)[:rows]).astype(np.int64).astype(str)
    draw = rng.random(rows)
    status = np.select(
        [draw < 0.93, draw < 0.95, draw < 0.96, draw < 0.985],
        ["accepted", "failed", "unknown", "invalid"],
        "duplicate",
    )
    ready = np.isin(status, ["accepted", "failed", "unknown"])
    n_ready = int(ready.sum())
    batch = np.full(rows, -1, dtype=np.int64)
    batch[ready] = np.floor(np.arange(n_ready) / batch_mean).astype(np.int64) + 1
    # A batch shares one outcome: take the status of its first member.
    first_of = pd.Series(status[ready]).groupby(batch[ready]).transform("first").to_numpy()
    status[ready] = first_of
    code = np.where(status == "accepted", 1, np.where(status == "failed", -119, 0)).astype(object)
    code[(status == "unknown") | ~ready] = None
    zh = np.select([status == "accepted", status == "failed"], ["执行操作成功", "手机号不符合规则"], "")
    en = np.select(
        [status == "accepted", status == "failed"], ["Success", "Malformed mobile number"], ""
    )
    names = np.array([s + g + h for s in SURNAMES for g in GIVEN for h in GIVEN], dtype=object)
    name = names[rng.integers(0, len(names), rows)]
    start = pd.Timestamp("2026-03-01 10:00", tz=BEIJING)
    sent_at = pd.Series(start + pd.to_timedelta(batch * 0.05, unit="s")).dt.as_unit("us")
    sent_at[~ready] = pd.NaT

    def text(values: np.ndarray, keep: np.ndarray) -> pd.arrays.ArrowStringArray:
        return pd.array(np.where(keep, values, None), dtype="str")

    region = np.array(CITIES, dtype=object)[rng.integers(0, len(CITIES), rows)]
    frame = pd.DataFrame(
        {
            "source_row": np.arange(2, rows + 2),
            "mobile": pd.array(np.where(status == "invalid", None, numbers), dtype="str"),
            "status": pd.array(status, dtype="str"),
            "code": pd.array(code, dtype="Int64"),
            "message_zh": text(zh, ready & (status != "unknown")),
            "message_en": text(en, ready & (status != "unknown")),
            "category": text(np.where(status == "accepted", "success", "request"), ready),
            "batch": pd.array(np.where(ready, batch, None), dtype="Int64"),
            "attempts": ready.astype(np.int64),
            "gateway_result": text(zh, ready & (status != "unknown")),
            "sent_at": sent_at.array,
            "content": text(
                np.char.add(name.astype(str), "您好，春季会员日全场八折。回T退订【演示商城】"), ready
            ),
            "reason": text(
                np.where(status == "invalid", "wrong length", "duplicate of row 2"),
                np.isin(status, ["invalid", "duplicate"]),
            ),
            "客户编号": pd.array([f"C{i:07d}" for i in range(rows)], dtype="str"),
            "姓名": pd.array(name, dtype="str"),
            "手机号码": pd.array(numbers, dtype="str"),
            "城市": pd.array(region, dtype="str"),
            "会员等级": pd.array(
                np.array(["金卡", "银卡", "普通"])[rng.integers(0, 3, rows)], dtype="str"
            ),
            "备注": pd.array(
                np.where(rng.random(rows) < 0.02, '=HYPERLINK("http://x")', None), dtype="str"
            ),
            "carrier": pd.array(
                np.array(["中国移动", "中国联通", "中国电信"])[rng.integers(0, 3, rows)]
            ),
            "region": pd.array(region, dtype="str"),
        }
    )
    frame.attrs["phone_column"] = "手机号码"
    return frame


def best_of(fn, repeat: int) -> tuple[float, float, float]:
    """First and best wall-clock seconds, and the CPU seconds (all threads) of the best run: on a
    shared machine the CPU time is the steadier figure."""
    runs = []
    for _ in range(repeat):
        started, cpu = time.perf_counter(), time.process_time()
        fn()
        runs.append((time.perf_counter() - started, time.process_time() - cpu))
    best = min(runs)
    return runs[0][0], best[0], best[1]


def bench_campaign_report(rows: int, big: int) -> None:
    print("campaign_report")
    for label, n, mean in (
        (f"{rows:,} results, batches of 500", rows, 500.0),
        (f"{rows:,} personalised results", rows, 10.6),
        (f"{big:,} personalised results", big, 10.6),
    ):
        results = make_results(n, batch_mean=mean)
        batches = int(results["batch"].nunique())
        first, best, cpu = best_of(lambda r=results: campaign_report(r), 3)
        print(
            f"  {label:<38} {batches:>7,} batches   first {first:5.2f} s, best {best:5.2f} s"
            f" (cpu {cpu:5.2f} s)"
        )


def write_xlsxwriter(path: Path, sheets: list[xlsx.Sheet]) -> None:
    """The same sheets written cell by cell with XlsxWriter (constant memory): the candidate between
    openpyxl and the Rust writer. Bench-only: the package does not depend on XlsxWriter."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False})
    base = {"font_name": xlsx.FONT_NAME, "font_size": xlsx.FONT_SIZE, "font_family": xlsx.FONT_FAMILY}
    formats = {
        kind: book.add_format({**base, "num_format": fmt})
        for kind, fmt in {**xlsx._NUMBER_FORMATS, "integer": "General", "number": "General"}.items()
    }
    formats["text"].set_quote_prefix()
    header = book.add_format({**base, "bold": True, "bg_color": xlsx.HEADER_FILL})
    bold = book.add_format({**base, "bold": True})
    for sheet in sheets:
        ws = book.add_worksheet(sheet.name)
        top = sheet.header_row
        for i, column in enumerate(sheet.columns):
            ws.set_column(i, i, column.width)
        ws.set_landscape()
        ws.set_paper(9)
        ws.fit_to_pages(1, 1 if sheet.one_page else 0)
        ws.repeat_rows(top)
        ws.freeze_panes(top + 1, 0)
        ws.autofilter(top, 0, top + len(sheet.data), len(sheet.columns) - 1)
        row = 0
        if sheet.title:
            ws.merge_range(0, 0, 0, sheet.span - 1, sheet.title, bold)
            row = 1
        for label, text in sheet.notes:
            ws.merge_range(row, 0, row, 1, label, bold)
            ws.merge_range(row, 2, row, sheet.span - 1, text, formats["text"])
            row += 1
        for i, column in enumerate(sheet.columns):
            ws.write_string(top, i, column.label, header)
        columns = []
        for i, column in enumerate(sheet.columns):
            series = sheet.data.iloc[:, i]
            if column.kind == "datetime":
                values = [None if pd.isna(v) else v.to_pydatetime() for v in series]
            else:
                values = series.astype(object).where(series.notna(), None).tolist()
            columns.append((values, column.kind, formats[column.kind]))
        for r in range(len(sheet.data)):
            for c, (values, kind, fmt) in enumerate(columns):
                value = values[r]
                if value is None:
                    continue
                if kind == "text":
                    ws.write_string(top + 1 + r, c, value, fmt)
                elif kind == "datetime":
                    ws.write_datetime(top + 1 + r, c, value, fmt)
                else:
                    ws.write_number(top + 1 + r, c, value, fmt)
        if sheet.chart is not None:
            chart = book.add_chart({"type": "column"})
            first, last = top + 1, top + len(sheet.data)
            chart.add_series(
                {
                    "values": [sheet.name, first, sheet.chart.values, last, sheet.chart.values],
                    "categories": [
                        sheet.name,
                        first,
                        sheet.chart.categories,
                        last,
                        sheet.chart.categories,
                    ],
                }
            )
            chart.set_title({"name": sheet.chart.title})
            chart.set_legend({"none": True})
            ws.insert_chart(top, len(sheet.columns) + 1, chart)
    book.close()


def bench_writers(rows: int, folder: Path, writers: list[str]) -> None:
    """export_report end to end with each engine, and the same sheets through XlsxWriter."""
    results = make_results(rows, batch_mean=500)
    print(f"export_report, {rows:,} recipients ({len(results.columns)} columns), end to end")
    for engine in [w for w in xlsx.ENGINES if w in writers]:
        path = folder / f"report-{engine}.xlsx"
        first, _, cpu = best_of(
            lambda e=engine, p=path: export_report(results, p, engine=e, progress=False), 1
        )
        print(f"  {engine:<10} {first:6.2f} s (cpu {cpu:6.2f} s)   {path.stat().st_size / 1e6:5.1f} MB")
    if "xlsxwriter" not in writers:
        return
    sheets = report_sheets(results)
    path = folder / "report-xlsxwriter.xlsx"
    _, took, cpu = best_of(lambda: write_xlsxwriter(path, sheets), 1)
    _, prepared, prepared_cpu = best_of(lambda: report_sheets(results), 1)
    print(
        f"  xlsxwriter {took + prepared:6.2f} s (cpu {cpu + prepared_cpu:6.2f} s)"
        f"   {path.stat().st_size / 1e6:5.1f} MB   (same sheets; {prepared:.2f} s of it preparing them)"
    )


def report_sheets(results: pd.DataFrame) -> list[xlsx.Sheet]:
    """The sheets export_report writes, through its own helpers."""
    from smscampaign.reports import workbook

    tables = campaign_report(results)
    phones = workbook._phone_columns(results, None)
    return [
        workbook._overview(results, tables["summary"], None, None, ["明细"]),
        workbook._sheet("明细", results, phones),
        workbook._sheet("错误", tables["errors"], phones, split_code=False),
        workbook._sheet("无效与重复", workbook._invalid_sheet(results, phones), phones),
        workbook._sheet("批次", tables["batches"], phones),
        workbook._sheet("运营商", tables["carriers"], phones),
        workbook._sheet("地区", tables["regions"], phones),
    ]


def bench_split(rows: int, folder: Path) -> None:
    results = make_results(rows, batch_mean=500)
    path = folder / "report-split.xlsx"
    _, took, cpu = best_of(lambda: export_report(results, path, progress=False), 1)
    names = xlsx.split_names("明细", rows, 0)
    print(
        f"export_report, {rows:,} recipients: {took:.2f} s (cpu {cpu:.2f} s), "
        f"{path.stat().st_size / 1e6:.0f} MB, detail on {', '.join(names)}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--split", type=int, default=0, help="also export this many (e.g. 1500000)")
    parser.add_argument(
        "--writers",
        default="rust,openpyxl,xlsxwriter",
        help="comma-separated; empty: campaign_report only",
    )
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, pandas {pd.__version__}")
    bench_campaign_report(args.rows, args.big)
    writers = [w for w in args.writers.split(",") if w]
    if writers or args.split:
        with tempfile.TemporaryDirectory(prefix="bench-report-") as folder:
            bench_writers(args.rows, Path(folder), writers)
            if args.split:
                bench_split(args.split, Path(folder))
    return 0


if __name__ == "__main__":
    sys.exit(main())
