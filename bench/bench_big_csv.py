"""Big-list benchmark: load a 10,000,000-row messy CSV, check its numbers, plan the campaign.

Generates (untimed, under bench/data/, git-ignored) the CSV with ``bench_numbers.make_numbers``
(the same messy cells as the 1M benchmark, written in 1M-row parts), then runs
``load_recipients`` → ``check_numbers`` → ``plan_campaign`` in a fresh child process and prints
each step's wall and CPU time and the child's RSS after and peak during each step (VmHWM, reset
between steps; Linux). Then, timed apart, the first access to ``plan.batches`` (its ``receivers``
lists of numbers are built on first use). Issue 14's target: ≤ 20 s, ≤ 3 GB peak (memory is
printed in MiB/GiB, the units of /proc and of the issue's own figures, and the peak in GB too).

    python bench/bench_big_csv.py [--rows 10000000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

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


def _memory() -> tuple[float, float]:
    """(VmRSS, VmHWM) of this process in MB (Linux); the peak is reset by :func:`_reset_peak`."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS (Linux ≥ 4.0)


def _frames_mb(*frames: Any) -> float:
    """The memory of the frames' columns in MB (MiB), each buffer counted once (the plan's
    recipients share most of their columns with the checked frame)."""
    seen: dict[int, int] = {}
    for frame in frames:
        for name in frame.columns:
            values = frame[name].array
            if hasattr(values, "_pa_array"):
                chunks = values._pa_array.chunks
                buffers = [b for chunk in chunks for b in chunk.buffers() if b is not None]
                seen.update((b.address, b.size) for b in buffers)
            else:
                for part in (getattr(values, "_data", values), getattr(values, "_mask", None)):
                    if part is not None:
                        array = np.asarray(part)
                        seen[array.__array_interface__["data"][0]] = array.nbytes
    return sum(seen.values()) / 2**20


def child(path: str) -> None:
    start = time.perf_counter()
    import smscampaign as sc

    _ = sc.load_recipients, sc.check_numbers, sc.plan_campaign
    steps: dict[str, dict[str, float]] = {}
    peak = 0.0

    def step(name: str, t: float, c: float) -> None:
        nonlocal peak
        rss, hwm = _memory()
        peak = max(peak, hwm)
        steps[name] = {
            "wall": time.perf_counter() - t,
            "cpu": time.process_time() - c,
            "rss_mb": rss,
            "peak_mb": hwm,
        }
        _reset_peak()

    _reset_peak()
    import_mb = _memory()[0]
    t, c = time.perf_counter(), time.process_time()
    df = sc.load_recipients(path)
    step("load", t, c)
    t, c = time.perf_counter(), time.process_time()
    checked = sc.check_numbers(df)
    del df
    step("check", t, c)
    t, c = time.perf_counter(), time.process_time()
    plan = sc.plan_campaign(checked, "您好，您的会员积分即将到期，详询门店。", signature="小店")
    step("plan", t, c)
    data_mb = _frames_mb(checked, plan.recipients)
    counts = {str(k): int(v) for k, v in checked["status"].value_counts().items()}
    requests, summary = plan.requests, plan.summary()
    del checked
    t, c = time.perf_counter(), time.process_time()
    batches = plan.batches  # the one-row-per-call frame with lists of numbers: built on first use
    step("batches", t, c)
    print(
        json.dumps(
            {
                "rows": len(plan.recipients),
                "import_s": time.perf_counter() - start - sum(s["wall"] for s in steps.values()),
                "steps": steps,
                "peak_mb": peak,
                "data_mb": data_mb,
                "import_mb": import_mb,
                "requests": requests,
                "batches": len(batches),
                "messages": int(summary.attrs["messages"]),
                "fingerprint": plan.fingerprint,
                "counts": counts,
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
    with tempfile.TemporaryDirectory() as home:  # an empty campaign home: no history to apply
        env = {**os.environ, "SMSCAMPAIGN_HOME": home}
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(path)],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
    r = json.loads(out.stdout.strip().splitlines()[-1])
    st = r["steps"]
    main_steps = ("load", "check", "plan")
    wall = sum(st[k]["wall"] for k in main_steps)
    cpu = sum(st[k]["cpu"] for k in main_steps)
    peak = max(st[k]["peak_mb"] for k in main_steps)
    print(f"{r['rows']:,} rows ({path.stat().st_size / 1e6:,.0f} MB CSV), fresh process:")
    print(
        "  "
        + " + ".join(f"{k} {st[k]['wall']:.2f} s" for k in main_steps)
        + f" = {wall:.2f} s; peak RSS {peak / 1024:.2f} GiB ({peak * 2**20 / 1e9:.2f} GB)"
    )
    print(
        f"  of which the checked frame's and the plan's columns (each buffer once): "
        f"{r['data_mb']:,.0f} MiB; after importing the package: {r['import_mb']:,.0f} MiB"
    )
    print(
        "  CPU seconds (all threads): "
        + " + ".join(f"{k} {st[k]['cpu']:.2f}" for k in main_steps)
        + f" = {cpu:.2f} s"
    )
    print(
        "  per step, RSS after / peak during (MiB): "
        + ", ".join(f"{k} {s['rss_mb']:,.0f} / {s['peak_mb']:,.0f}" for k, s in st.items())
    )
    b = st["batches"]
    print(
        f"  then first access to plan.batches ({r['batches']:,} rows, lists of numbers): "
        f"{b['wall']:.2f} s wall, {b['cpu']:.2f} s CPU, peak RSS {b['peak_mb'] / 1024:.2f} GiB "
        f"(package import {r['import_s']:.2f} s not counted)"
    )
    print(
        f"  verdicts: {r['counts']}; plan: {r['requests']:,} requests, {r['messages']:,} messages, "
        f"fingerprint {r['fingerprint'][:16]}"
    )


if __name__ == "__main__":
    main()
