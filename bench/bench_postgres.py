"""The team home on PostgreSQL: what a reservation and a bulk write cost (issue 26).

Times, against the database ``--home postgresql://…`` names (an empty one) or, without it, a
throwaway server started from the machine's PostgreSQL binaries (as the tests do, tests/_postgres.py):

- ``reserve`` of 500 numbers (a batch) with nobody else holding them: one round trip, committed;
- ``reserve`` of 500 numbers all held by another runner (the conflicts read back);
- ``settle_reservations`` of a batch;
- each with the server's CPU time for it (the backend's, from ``/proc``: the server runs here);
- psycopg ``COPY`` of 1,000,000 rows into a table, alone; then ``PostgresStore.copy_rows`` of 1,000,000
  opt-outs (that COPY into a temporary table, then ``INSERT … ON CONFLICT DO NOTHING`` into the
  indexed table), and the same again (all already there);
- ``home copy`` of a personal home of 1,000,000 messages (2,000 batches) into the team home.

Run: ``python bench/bench_postgres.py [--home URL] [--reservations-only]`` (figures go to
docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from smscampaign.memory.home import SQLiteStore
from smscampaign.memory.postgres import PostgresStore
from smscampaign.memory.transfer import copy_home

ROWS = 1_000_000
BATCH = 500


@contextlib.contextmanager
def database(url: str | None) -> Iterator[str]:
    """``url``, or a fresh database on a throwaway server (stopped at the end)."""
    if url:
        yield url
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from _postgres import Server, find_bin_dir  # noqa: PLC0415 - the tests' helper

    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise SystemExit("no PostgreSQL binaries: pass --home postgresql://… (an empty database)")
    server = Server(bin_dir)
    try:
        server.init()
        server.start()
        yield server.database()
    finally:
        server.cleanup()


def backend_cpu(pid: int | None) -> float:
    """Seconds of CPU the server process ``pid`` has used (0 where /proc cannot tell)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(label: str, fn, repeat: int, backend: int | None = None) -> list[float]:
    times = []
    cpu = backend_cpu(backend)
    for i in range(repeat):
        start = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - start)
    server = (backend_cpu(backend) - cpu) / repeat * 1000
    print(
        f"{label:<58} median {statistics.median(times) * 1000:8.2f} ms"
        f"   best {min(times) * 1000:8.2f} ms   ({repeat} runs)"
        + (f"   server CPU {server:.1f} ms each" if backend else "")
    )
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", help="an empty PostgreSQL database URL (default: a throwaway server)")
    parser.add_argument(
        "--reservations-only", action="store_true", help="only the reservations' figures"
    )
    parser.add_argument("--batches", type=int, default=1000, help="batches reserved and settled")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(1)
    numbers = (13000000000 + rng.choice(10**9, ROWS, replace=False)).astype(str).tolist()
    since = datetime.now(UTC) - timedelta(hours=24)
    with database(args.home) as url, PostgresStore(url) as store:
        print(f"home: {store.location}")

        def reserve(journal: str, i: int, sha: str = "a" * 64) -> int:
            taken = store.reserve(
                gateway="http://bench",
                content_sha256=sha,
                mobiles=numbers[i * BATCH : (i + 1) * BATCH],
                campaign="c",
                journal=journal,
                batch=i,
                since=since,
            )
            return len(taken)

        with store._session() as conn:
            row = conn.execute("SELECT pg_backend_pid()").fetchone()
        backend = int(row[0]) if row else None
        n = args.batches
        timed("reserve 500 numbers, free", lambda i: reserve("j1", i), n, backend)
        timed("reserve 500 numbers, all held by another runner", lambda i: reserve("j2", i), 50, backend)
        timed(
            "settle_reservations of a batch (500 numbers)",
            lambda i: store.settle_reservations(journal="j1", batch=i, status="accepted"),
            n,
            backend,
        )
        if args.reservations_only:
            return 0
        rows = [(n, "2026-03-20T02:00:00.000000Z", "bench", None) for n in numbers]
        with store._session() as conn, conn.transaction():
            conn.execute("CREATE TEMP TABLE bench_copy (mobile TEXT, at TEXT, source TEXT, note TEXT)")
            start = time.perf_counter()
            with conn.cursor().copy("COPY bench_copy FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            print(f"psycopg COPY of {ROWS:,} rows (4 text columns): {time.perf_counter() - start:.2f} s")
            conn.execute("DROP TABLE bench_copy")
        start = time.perf_counter()
        added = store.add_opt_outs(rows)
        print(f"COPY {ROWS:,} rows (opt-outs), all new: {time.perf_counter() - start:.2f} s ({added:,})")
        start = time.perf_counter()
        added = store.add_opt_outs(rows)
        print(f"COPY {ROWS:,} rows again, none new:   {time.perf_counter() - start:.2f} s ({added:,})")

        with tempfile.TemporaryDirectory() as folder:
            with SQLiteStore(folder) as personal:
                for b in range(ROWS // BATCH):
                    personal.record_sends(
                        mobiles=numbers[b * BATCH : (b + 1) * BATCH],
                        content_sha256="b" * 64,
                        campaign="c",
                        journal="bench",
                        batch=b,
                        status="accepted",
                        gateway="http://bench",
                    )
            start = time.perf_counter()
            copied = copy_home(folder, url)
            print(f"home copy of {ROWS:,} messages: {time.perf_counter() - start:.2f} s {copied}")
            start = time.perf_counter()
            copy_home(folder, url)
            print(f"home copy again (nothing new):      {time.perf_counter() - start:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
