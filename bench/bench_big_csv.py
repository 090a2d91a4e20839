"""Big-list benchmark: load a 10,000,000-row messy CSV, check its numbers, plan the campaign.

Generates (untimed, under bench/data/, git-ignored) the CSV with ``bench_numbers.make_numbers``
(the same messy cells as the 1M benchmark, written in 1M-row parts), then runs
``load_recipients`` → ``check_numbers`` → ``plan_campaign`` in a fresh child process and prints
each step's wall time and the child's peak RSS. Issue 14's target: ≤ 20 s, ≤ 3 GB peak.

    python bench/bench_big_csv.py [--rows 10000000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_numbers import DATA, make_numbers  # noqa: E402

PART = 1_000_000


def write_csv(path: Path, rows: int) -> None:
    import pandas as pd

    with path.open("wb") as out:
        out.write("\ufeff客户编号,姓名,手机号码,城市\n".encode())
        for start in range(0, rows, PART):
            size = min(PART, rows - start)
            numbers = make_numbers(size, seed=7 + start // PART)
            ids = np.char.add("C", np.arange(start + 1, start + size + 1).astype(str))
            columns = {"客户编号": ids, "姓名": "测试用户", "手机号码": numbers, "城市": "深圳"}
            part = pd.DataFrame(columns)
            part.to_csv(out, index=False, header=False, encoding="utf-8")


def child(path: str) -> None:
    start = time.perf_counter()
    import smscampaign as sc

    _ = sc.load_recipients, sc.check_numbers, sc.plan_campaign
    t0, c0 = time.perf_counter(), time.process_time()
    df = sc.load_recipients(path)
    t1, c1 = time.perf_counter(), time.process_time()
    checked = sc.check_numbers(df)
    del df
    t2, c2 = time.perf_counter(), time.process_time()
    plan = sc.plan_campaign(checked, "您好，您的会员积分即将到期，详询门店。", signature="小店")
    t3, c3 = time.perf_counter(), time.process_time()
    print(
        json.dumps(
            {
                "rows": len(checked),
                "import_s": t0 - start,
                "load_s": t1 - t0,
                "check_s": t2 - t1,
                "plan_s": t3 - t2,
                "cpu_s": [c1 - c0, c2 - c1, c3 - c2],
                "requests": plan.requests,
                "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "counts": {str(k): int(v) for k, v in checked["status"].value_counts().items()},
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--child", metavar="PATH", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"recipients_{args.rows}.csv"
    if not path.exists():
        print(f"generating {path} …", flush=True)
        write_csv(path, args.rows)
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(path)], capture_output=True, text=True, check=True
    )
    r = json.loads(out.stdout.strip().splitlines()[-1])
    total = r["load_s"] + r["check_s"] + r["plan_s"]
    print(f"{r['rows']:,} rows ({path.stat().st_size / 1e6:,.0f} MB CSV), fresh process:")
    print(
        f"  load {r['load_s']:.2f} s + check {r['check_s']:.2f} s + plan {r['plan_s']:.2f} s "
        f"= {total:.2f} s; peak RSS {r['peak_mb'] / 1024:.2f} GB "
        f"(package import {r['import_s']:.2f} s not counted)"
    )
    cpu = r["cpu_s"]
    print(
        f"  CPU seconds (all threads): load {cpu[0]:.2f} + check {cpu[1]:.2f} + plan {cpu[2]:.2f} "
        f"= {sum(cpu):.2f} s"
    )
    print(f"  verdicts: {r['counts']}; plan: {r['requests']:,} requests")


if __name__ == "__main__":
    main()
