"""Benchmark for issue 5: the send engine against the sandbox over loopback.

Targets (docs/benchmarks.md), against the same sandbox in one run:

0. (issue 14) 200 batches of 500, journal on: the engine reaches ≥ 0.9 of the **durable floor** — a
   bare ``requests`` loop that commits and fsyncs one SQLite row before each request;
1. the engine with its journal on reaches ≥ 80 % of the request rate of a bare ``requests.Session``
   loop posting the same batches;
2. with 20 ms gateway latency, ``workers=4`` is ≥ 3× faster than ``workers=1``;
3. 1,000,000 recipients with one shared content (2,000 calls) complete.

    .venv/bin/python bench/bench_send.py [--requests N] [--latency-requests N] [--rows N]
    .venv/bin/python bench/bench_send.py --floor-only --latency 0.02 --home postgresql

``--home`` picks the campaign home the engine reserves in (issue 26): a folder (default: a temporary
SQLite home), ``postgresql://…`` (an empty database of a team home), or the bare word ``postgresql``
for a throwaway server started from the machine's PostgreSQL binaries as the tests do
(tests/_postgres.py, via bench_postgres.py: 127.0.0.1, ``fsync=off``), stopped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import numpy as np
import pandas as pd
import requests

import smscampaign as sc

USER, PASSWORD = "bench", "bench-password"
TEMPLATE = "会员日全场八折，回T退订"


def make_plan(rows: int, batch_size: int, seed: int = 5, block: int = 0) -> sc.Plan:
    """A plan of ``rows`` unique numbers with one shared content, in batches of ``batch_size``;
    plans of different ``block`` share no number (each run reserves all its numbers anew)."""
    rng = np.random.default_rng(seed)
    first = 13_000_000_000 + block * 10_000_000
    numbers = first + rng.permutation(rows * 3)[:rows].astype(np.int64)
    frame = pd.DataFrame(
        {
            "mobile": pd.array(numbers.astype(str), dtype="str"),
            "status": pd.array(np.full(rows, "ok", dtype=object), dtype="str"),
        }
    )
    return sc.plan_campaign(frame, TEMPLATE, signature="小店", batch_size=batch_size)


def bare_loop(url: str, plan: sc.Plan) -> float:
    """Seconds for a plain ``requests.Session`` posting every batch once, one after another."""
    endpoint = f"{url}/utf8/interface/send_sms.aspx"
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf8"}
    with requests.Session() as session:
        started = time.perf_counter()
        for content, receivers in zip(plan.batches["content"], plan.batches["receivers"], strict=True):
            body = urlencode(
                {
                    "username": USER,
                    "password": PASSWORD,
                    "receiver": ",".join(receivers),
                    "content": content,
                }
            )
            response = session.post(endpoint, data=body.encode("ascii"), headers=headers, timeout=30)
            assert response.status_code == 200 and b"<result>-" not in response.content
        return time.perf_counter() - started


def durable_floor(url: str, plan: sc.Plan, path: Path) -> float:
    """Seconds for the bare loop that also commits and fsyncs one SQLite row before each request:
    the least any journal that survives a power cut must do."""
    endpoint = f"{url}/utf8/interface/send_sms.aspx"
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf8"}
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE IF NOT EXISTS sent (batch INTEGER PRIMARY KEY, at REAL)")
    with requests.Session() as session:
        started = time.perf_counter()
        for number, (content, receivers) in enumerate(
            zip(plan.batches["content"], plan.batches["receivers"], strict=True)
        ):
            conn.execute("INSERT OR REPLACE INTO sent VALUES (?, ?)", (number, time.time()))
            body = urlencode(
                {
                    "username": USER,
                    "password": PASSWORD,
                    "receiver": ",".join(receivers),
                    "content": content,
                }
            )
            response = session.post(endpoint, data=body.encode("ascii"), headers=headers, timeout=30)
            assert response.status_code == 200 and b"<result>-" not in response.content
        elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def engine(url: str, plan: sc.Plan, journal: sc.Journal | Path | bool | None, workers: int) -> float:
    with sc.Gateway(USER, PASSWORD, base_url=url) as gw:
        started = time.perf_counter()
        # allow_repeat: the bench sends the same plan several times through one sandbox.
        results = sc.send_campaign(
            plan, gw, journal=journal, workers=workers, progress=False, allow_repeat=True
        )
        elapsed = time.perf_counter() - started
    assert (results["status"] == "accepted").all(), results["status"].value_counts()
    return elapsed


def timed(work: Callable[..., float], *args: Any) -> tuple[float, float]:
    """``work(*args)``'s own timing (seconds, wall) and this process's CPU seconds (all threads)
    around it."""
    started = time.process_time()
    wall = work(*args)
    return wall, time.process_time() - started


@contextlib.contextmanager
def standalone_sandbox(latency: float, *options: str) -> Iterator[str]:
    """``python -m smscampaign.sandbox`` in its own process (as the CLI and a real gateway are: the
    server does not share this process's GIL), with more ``options``; yields its URL."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-W",
            "ignore",
            "-m",
            "smscampaign.sandbox",
            "--port",
            "0",
            "--account",
            f"{USER}:{PASSWORD}:1000000000",
            "--latency",
            str(latency),
            *options,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().strip()
    finally:
        proc.terminate()
        proc.wait(10)


def sent_so_far(url: str) -> int:
    accounts = requests.get(f"{url}/_sandbox/accounts", timeout=30).json()
    return int(next(a for a in accounts if a["username"] == USER)["sms_send"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="requests for the rate comparison")
    parser.add_argument(
        "--latency-requests",
        type=int,
        default=200,
        help="requests for the workers comparison (20 ms latency)",
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="recipients of the large campaign")
    parser.add_argument("--floor-rounds", type=int, default=5, help="rounds of the floor comparison")
    parser.add_argument(
        "--floor-only", action="store_true", help="only the durable-floor comparison (section 0)"
    )
    parser.add_argument(
        "--latency",
        type=float,
        default=0.0,
        help="simulated gateway latency in seconds for the durable-floor comparison (e.g. 0.02)",
    )
    parser.add_argument(
        "--home",
        help="the campaign home: a folder (default: a temporary one), a postgresql://… URL of an "
        "empty database, or 'postgresql' for a throwaway PostgreSQL server",
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench_send_"))
    with campaign_home(args.home, tmp) as home:
        os.environ["SMSCAMPAIGN_HOME"] = home  # never the real campaign home
        floor_comparison(args, tmp, home)
        if not args.floor_only:
            other_sections(args, tmp)


@contextlib.contextmanager
def campaign_home(chosen: str | None, tmp: Path) -> Iterator[str]:
    """The campaign home ``--home`` names (see the module's docstring)."""
    if chosen == "postgresql":
        from bench_postgres import database  # noqa: PLC0415 - a throwaway server, as the tests start

        with database(None) as url:
            yield url
    else:
        yield chosen or str(tmp / "home")


def floor_comparison(args: argparse.Namespace, tmp: Path, home: str) -> None:
    """0. issue 14: 200 batches of 500, journal on, against the durable floor: N rounds, floor then
    engine in each, wall and CPU (this process, all threads) of each."""
    plan = make_plan(200 * 500, batch_size=500)
    floors: list[tuple[float, float]] = []
    engines: list[tuple[float, float]] = []
    with standalone_sandbox(args.latency) as url:
        durable_floor(url, make_plan(20 * 500, 500), tmp / "warm.sqlite")  # warm up
        engine(url, make_plan(20 * 500, 500), tmp / "warm.journal", workers=1)
        for round_ in range(args.floor_rounds):
            floors.append(timed(durable_floor, url, plan, tmp / f"floor{round_}.sqlite"))
            # New numbers in each round: every batch is reserved in the home (issue 26), none left out.
            fresh = make_plan(200 * 500, batch_size=500, block=round_ + 1)
            engines.append(timed(engine, url, fresh, tmp / f"engine{round_}.sqlite", 1))
    latency = f"{args.latency * 1000:g} ms latency" if args.latency else "no latency"
    kind = "PostgreSQL" if home.startswith("postgres") else "SQLite"
    print(f"durable floor, 200 requests of 500 numbers, standalone sandbox, {latency}, w=1,")
    print(f"  the engine reserving in the {kind} campaign home:")
    print("  round   floor wall / CPU    engine wall / CPU   ratio (floor / engine wall)")
    for round_, ((fw, fc), (ew, ec)) in enumerate(zip(floors, engines, strict=True), 1):
        print(f"  {round_:5d}   {fw:6.2f} s / {fc:4.2f}   {ew:6.2f} s / {ec:4.2f}      {fw / ew:5.2f}")
    floor, best = min(w for w, _ in floors), min(w for w, _ in engines)
    ratios = sorted(f / e for (f, _), (e, _) in zip(floors, engines, strict=True))
    print(
        f"  best of {len(floors)}: floor {floor:.2f} s, engine {best:.2f} s: ratio {floor / best:.2f};"
        f" median ratio of the rounds {ratios[len(ratios) // 2]:.2f}  (target ≥ 0.90)"
    )


def other_sections(args: argparse.Namespace, tmp: Path) -> None:
    """Sections 1–3: request rate, workers at 20 ms latency, a million recipients."""
    # 1. request rate: bare Session loop vs engine + journal, same batches, same sandbox (no latency).
    plan = make_plan(args.requests * 50, batch_size=50)
    n = plan.requests
    with standalone_sandbox(0.0) as url:
        bare_loop(url, make_plan(5000, 50))  # warm up
        bare = bare_loop(url, plan)
        durable = engine(url, plan, tmp / "rate.sqlite", workers=1)
        with sc.Journal(tmp / "rate-nofsync.sqlite", fsync=False) as journal:
            no_fsync = engine(url, plan, journal, workers=1)
        durable4 = engine(url, plan, tmp / "rate4.sqlite", workers=4)
        memory = engine(url, plan, False, workers=1)
    print(f"request rate, {n} requests of 50 numbers, standalone sandbox, no latency:")
    print(f"  bare requests.Session loop              {n / bare:6.0f} req/s")
    for label, seconds in [
        ("send_campaign, journal (default), w=1", durable),
        ("send_campaign, journal (default), w=4", durable4),
        ("send_campaign, journal fsync=False, w=1", no_fsync),
        ("send_campaign, no journal (memory), w=1", memory),
    ]:
        print(f"  {label:<40}{n / seconds:6.0f} req/s   ratio {bare / seconds:.2f}  (target ≥ 0.80)")

    # 2. workers: 20 ms gateway latency.
    plan = make_plan(args.latency_requests * 50, batch_size=50)
    with standalone_sandbox(0.02) as url:
        one = engine(url, plan, tmp / "w1.sqlite", workers=1)
        four = engine(url, plan, tmp / "w4.sqlite", workers=4)
    print(f"workers, {plan.requests} requests, 20 ms latency, journal on:")
    print(
        f"  workers=1  {one:6.2f} s   workers=4  {four:6.2f} s   speed-up {one / four:.2f}x  "
        "(target ≥ 3x)"
    )

    # 3. a million recipients, one shared content: 2,000 calls of 500.
    started = time.perf_counter()
    plan = make_plan(args.rows, batch_size=500)
    planned = time.perf_counter() - started
    with standalone_sandbox(0.0) as url:
        with sc.Gateway(USER, PASSWORD, base_url=url) as gw:
            started = time.perf_counter()
            results = sc.send_campaign(
                plan, gw, journal=tmp / "million.sqlite", workers=4, progress=False
            )
            sent = time.perf_counter() - started
        gateway_count = sent_so_far(url)
    started = time.perf_counter()
    reread = sc.read_journal(tmp / "million.sqlite")
    read = time.perf_counter() - started
    accepted = int((results["status"] == "accepted").sum())
    print(f"{args.rows:,} recipients, one content, {plan.requests:,} calls, workers=4, journal on:")
    print(
        f"  plan {planned:.2f} s, send {sent:.2f} s ({plan.requests / sent:.0f} req/s), "
        f"accepted {accepted:,}, sandbox sent {gateway_count:,}, "
        f"read_journal {read:.2f} s ({len(reread):,} rows)"
    )


if __name__ == "__main__":
    main()
