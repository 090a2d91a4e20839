"""Benchmark for issue 14 (report parts): ``campaign_report`` and ``export_report``, and the workbook
writers behind them.

Targets (docs/benchmarks.md): ``campaign_report`` ≤ 0.5 s for 100,000 results and ≤ 3 s for 1,000,000
personalised results (~94,000 batches); ``export_report`` of 100,000 recipients ≤ 5 s end to end.

The results frames are generated in memory with the columns and dtypes ``send_campaign`` returns
(``send._results``) plus the six input columns of ``sample_data/recipients.xlsx``: ~95 % accepted,
some failed / unknown / invalid / duplicate rows, batches of 500 (shared content) or ~10.6
(per-recipient ``{姓名}``, 1M rows → ~94k batches).

    .venv/bin/python bench/bench_report.py [--rows N] [--big N] [--writers] [--split N]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import pandas as pd

from smscampaign.protocol import BEIJING
from smscampaign.report import campaign_report

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


def best_of(fn, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times[0], min(times)


def bench_campaign_report(rows: int, big: int) -> None:
    print("campaign_report")
    for label, n, mean in (
        (f"{rows:,} results, batches of 500", rows, 500.0),
        (f"{big:,} personalised results", big, 10.6),
    ):
        results = make_results(n, batch_mean=mean)
        batches = int(results["batch"].nunique())
        first, best = best_of(lambda r=results: campaign_report(r), 3)
        print(f"  {label:<38} {batches:>7,} batches   first {first:5.2f} s, best {best:5.2f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--big", type=int, default=1_000_000)
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, pandas {pd.__version__}")
    bench_campaign_report(args.rows, args.big)
    return 0


if __name__ == "__main__":
    sys.exit(main())
