"""Did it sell, at scale: 1M recipients across 4 campaigns against 5M order rows (target ≤ 3 s).

Builds a temporary campaign home through the store's own interface: four A/B campaigns a week apart
(250,000 recipients each, drawn from 600,000 members: 45 % A, 45 % B, 10 % hold-out), their registry
messages in batches of 500 as the send engine records them, and each campaign's people (arm,
status, a 会员号 column) as ``send_campaign`` keeps them. Then 5,000,000 orders over ten weeks (60 %
by members, the rest by other numbers), keyed by the number as text, with a datetime column and an
amount, and times, best of three in this process:

- ``measure_outcomes`` of the four campaigns, ``window="14D"``, ``value="金额"`` (numbers);
- the same keyed by member id (``key="会员号"``).

Run: ``python bench/bench_outcomes.py`` (figures go to docs/benchmarks.md).
"""

from __future__ import annotations

import sys
import tempfile
import time
import warnings
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
from bench_history import best  # the same timing: best of three, wall and CPU

import smscampaign as sc
from smscampaign.memory.home import SQLiteStore
from smscampaign.wire.protocol import BEIJING

CAMPAIGNS = 4
PER_CAMPAIGN = 250_000
MEMBERS = 600_000
ORDERS = 5_000_000
BATCH = 500


def build(
    store: SQLiteStore, rng: np.random.Generator, numbers: np.ndarray, ids: np.ndarray
) -> datetime:
    start = datetime(2026, 3, 2, 10, 0, tzinfo=BEIJING)
    for c in range(CAMPAIGNS):
        at = start + timedelta(days=7 * c)
        fingerprint = f"{c:064x}"
        store.record_campaign(
            {
                "fingerprint": fingerprint,
                "name": f"week {c + 1}",
                "created": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            }
        )
        chosen = rng.choice(MEMBERS, PER_CAMPAIGN, replace=False)
        arm = rng.choice(
            np.array(["A", "B", "holdout"], dtype=object), PER_CAMPAIGN, p=[0.45, 0.45, 0.1]
        )
        status = np.where(arm == "holdout", "holdout", "accepted").astype(object)
        texted = numbers[chosen][status == "accepted"]
        for b, chunk in enumerate(np.array_split(texted, len(texted) // BATCH)):
            store.record_sends(
                mobiles=chunk.tolist(),
                content_sha256=fingerprint,
                campaign=fingerprint,
                journal=f"bench-{c}",
                batch=b,
                status="accepted",
                gateway="http://bench",
                at=at,
            )
        store.record_people(
            fingerprint,
            {
                "mobile": numbers[chosen].tolist(),
                "arm": arm.tolist(),
                "status": status.tolist(),
                "key:会员号": ids[chosen].tolist(),
            },
        )
    return start


def main() -> int:
    rng = np.random.default_rng(27)
    numbers = (13000000000 + rng.choice(10**9, MEMBERS, replace=False)).astype(str).astype(object)
    ids = np.array([f"M{i:07d}" for i in range(MEMBERS)], dtype=object)
    with tempfile.TemporaryDirectory() as folder:
        began = time.perf_counter()
        with SQLiteStore(folder) as store:
            start = build(store, rng, numbers, ids)
        print(
            f"home built: {CAMPAIGNS} campaigns × {PER_CAMPAIGN:,} people "
            f"in {time.perf_counter() - began:.1f} s"
        )
        member = rng.random(ORDERS) < 0.6
        who = rng.integers(0, MEMBERS, ORDERS)
        strangers = (15000000000 + rng.integers(0, 10**9, ORDERS)).astype(str).astype(object)
        keys = np.where(member, numbers[who], strangers)
        orders = pd.DataFrame(
            {
                "mobile": pd.Series(keys, dtype=sc.numbers.TEXT),
                "会员号": pd.Series(np.where(member, ids[who], "X"), dtype=sc.numbers.TEXT),
                "下单时间": pd.Timestamp(start) + pd.to_timedelta(rng.uniform(-7, 63, ORDERS), unit="D"),
                "金额": rng.lognormal(5.3, 0.8, ORDERS).round(2),
            }
        )
        names = [f"week {c + 1}" for c in range(CAMPAIGNS)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sc.HoldoutTooSmallWarning)
            out = best(
                f"measure_outcomes: {CAMPAIGNS * PER_CAMPAIGN:,} people, {ORDERS:,} orders",
                lambda: sc.measure_outcomes(names, orders, window="14D", value="金额", home=folder),
            )
            assert isinstance(out, pd.DataFrame) and len(out) == 3 * CAMPAIGNS
            print(out[["campaign", "arm", "people", "converted", "rate", "lift", "p_value"]].to_string())
            print({k: v for k, v in out.attrs.items() if k != "left_out"})
            best(
                "the same keyed by 会员号",
                lambda: sc.measure_outcomes(names, orders, window="14D", key="会员号", home=folder),
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
