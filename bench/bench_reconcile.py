"""Benchmark for issue 28, item 14: how many recipients end ``unknown`` under 20 % faults with the
defaults of :func:`~smscampaign.send_campaign`, and how long the runs take.

3,000 recipients (the default batch size), a standalone sandbox per run with 20 % faults (reset 0.1,
http500 0.05, garbage 0.05, 0.3 s delay at 5 %), the gateway's default timeouts, one seed per run.
Each seed runs once as ``default`` (no ``reconcile=`` passed) and once with ``reconcile=None``; the
sandbox's ledger counts who was texted twice.

    .venv/bin/python bench/bench_reconcile.py [--seeds 10] [--rows 3000] [--batch-size N]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import requests
from bench_send import PASSWORD, USER, standalone_sandbox  # bench/ is on the path: run as a script

import smscampaign as sc

FAULTS_20 = {"reset": 0.1, "http500": 0.05, "garbage": 0.05, "delay": 0.3, "delay_p": 0.05}


def run(seed: int, rows: int, batch_size: int | None, mode: str) -> tuple[int, int, int, float]:
    """(unknown recipients, accepted, texted twice, seconds) of one run."""
    numbers = 13_900_000_000 + np.random.default_rng(seed).permutation(rows * 3)[:rows]
    frame = pd.DataFrame({"mobile": numbers.astype(str), "status": "ok"})
    sizes = {} if batch_size is None else {"batch_size": batch_size}
    plan = sc.plan_campaign(frame, "会员日全场八折，回T退订", signature="小店", **sizes)
    kwargs = {} if mode == "default" else {"reconcile": None}
    faults = ("--faults", json.dumps(FAULTS_20), "--seed", str(seed))
    with standalone_sandbox(0.0, *faults) as url, sc.Gateway(USER, PASSWORD, base_url=url) as gw:
        started = time.perf_counter()
        for _ in range(5):  # the preflight's user_info may meet a fault too often: start again
            try:
                results = sc.send_campaign(plan, gw, journal=False, progress=False, **kwargs)
                break
            except sc.GatewayError:
                continue
        took = time.perf_counter() - started
        ledger = pd.DataFrame(requests.get(f"{url}/_sandbox/ledger", timeout=30).json())
    statuses = results["status"]
    twice = int(ledger.duplicated(["receiver", "content"]).sum())
    return int((statuses == "unknown").sum()), int((statuses == "accepted").sum()), twice, took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=None, help="default: the plan's default")
    args = parser.parse_args()
    os.environ["SMSCAMPAIGN_HOME"] = str(Path(tempfile.mkdtemp(prefix="bench_rec_")) / "home")
    print(f"{args.rows:,} recipients, 20 % faults, default timeouts; per seed: unknown / seconds")
    totals: dict[str, list[tuple[int, int, int, float]]] = {"default": [], "none": []}
    for seed in range(1, args.seeds + 1):
        line = f"  seed {seed:2d}"
        for mode in totals:
            unknown, accepted, twice, took = run(seed, args.rows, args.batch_size, mode)
            totals[mode].append((unknown, accepted, twice, took))
            line += f"   {mode}: {unknown:5d} unknown, {twice} twice, {took:5.1f} s"
        print(line, flush=True)
    for mode, rows in totals.items():
        unknown = [r[0] for r in rows]
        print(
            f"  {mode:<8} unknown: mean {np.mean(unknown) / args.rows:.1%} of recipients, "
            f"range {min(unknown) / args.rows:.1%}–{max(unknown) / args.rows:.1%}; texted twice "
            f"{sum(r[2] for r in rows)}; seconds per run: median {np.median([r[3] for r in rows]):.1f}"
            f", max {max(r[3] for r in rows):.1f}"
        )


if __name__ == "__main__":
    main()
