"""Benchmark for issue 4: plan 1,000,000 checked recipients.

Targets (docs/benchmarks.md): ≤ 2 s with one shared content, ≤ 6 s with a per-recipient ``{姓名}``.
Recipients are generated in memory and look like ``check_numbers`` output: ``mobile``
(11-digit text, unique), ``status="ok"``, ``reason`` empty, ``姓名`` (names, some repeated).

    .venv/bin/python bench/bench_plan.py [--rows N] [--repeat K]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

import smscampaign as sc

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英")


def make_recipients(rows: int, seed: int = 4) -> pd.DataFrame:
    """``rows`` checked-looking recipients with unique numbers and Chinese names."""
    rng = np.random.default_rng(seed)
    numbers = 13_000_000_000 + rng.permutation(rows * 3)[:rows].astype(np.int64)
    given = np.array(GIVEN)
    names = (
        np.array(SURNAMES)[rng.integers(0, len(SURNAMES), rows)].astype(object)
        + given[rng.integers(0, len(given), rows)].astype(object)
        + np.where(rng.random(rows) < 0.5, given[rng.integers(0, len(given), rows)], "").astype(object)
    )
    return pd.DataFrame(
        {
            "source_row": np.arange(2, rows + 2),
            "mobile": pd.array(numbers.astype(str), dtype="str"),
            "status": pd.array(np.full(rows, "ok", dtype=object), dtype="str"),
            "reason": pd.array(np.full(rows, None, dtype=object), dtype="str"),
            "姓名": pd.array(names, dtype="str"),
        }
    )


def timed(label: str, repeat: int, **kwargs: object) -> float:
    """Plan ``repeat`` times; print the first (cold) and the best time."""
    times = []
    plan = None
    for _ in range(repeat):
        started = time.perf_counter()
        plan = sc.plan_campaign(**kwargs)  # type: ignore[arg-type]
        times.append(time.perf_counter() - started)
    assert plan is not None
    print(
        f"{label:<28} first {times[0]:5.2f} s, best {min(times):5.2f} s   "
        f"{len(plan):,} recipients, {plan.requests:,} requests, {plan.messages:,} messages"
    )
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    started = time.perf_counter()
    people = make_recipients(args.rows)
    print(f"generated {args.rows:,} recipients in {time.perf_counter() - started:.2f} s")
    timed(
        "shared content",
        args.repeat,
        recipients=people,
        template="会员日全场八折，回T退订",
        signature="小店",
    )
    timed(
        "per-recipient {姓名}",
        args.repeat,
        recipients=people,
        template="{姓名}您好，会员日全场八折，回T退订",
        signature="小店",
    )
    timed(
        "per-recipient, all distinct",
        args.repeat,
        recipients=people,
        template="{姓名}您好，会员号{source_row}本周八折",
        signature="小店",
    )


if __name__ == "__main__":
    main()
