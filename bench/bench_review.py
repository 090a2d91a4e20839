"""Benchmark for issue 12: review 1,000,000 personalised contents against a 5,000-word lexicon.

Target (docs/benchmarks.md): ≤ 2 s for ``review_content(plan, kind="marketing", lexicon=…)`` over
1M distinct contents (``{姓名}`` and a per-recipient member number). Also prints the planning time
with and without ``kind="marketing"`` (the review inside the plan) and the findings.

    .venv/bin/python bench/bench_review.py [--rows N] [--words N] [--repeat K]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from bench_plan import make_recipients

import smscampaign as sc
from smscampaign.stages.review import load_lexicon

TEMPLATE = "{姓名}您好，会员号{source_row}本周全场八折，回T退订"


def make_lexicon(words: int, seed: int = 12) -> list[str]:
    """``words`` random 2–4 character words from the CJK block, plus two that do occur."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0x4E00, 0x9FA5, size=(words, 4))
    lengths = rng.integers(2, 5, size=words)
    found = ["八折", "芳娜"]
    return found + ["".join(map(chr, row[:k])) for row, k in zip(codes, lengths, strict=True)][2:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--words", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    people = make_recipients(args.rows)
    words = make_lexicon(args.words)
    started = time.perf_counter()
    lexicon = load_lexicon(words)
    print(f"lexicon of {len(lexicon.words):,} words compiled in {time.perf_counter() - started:.2f} s")

    started = time.perf_counter()
    plan = sc.plan_campaign(people, TEMPLATE, signature="小店")
    plain = time.perf_counter() - started
    distinct = plan.recipients["content"].nunique()
    print(f"plan without review: {plain:.2f} s ({len(plan):,} rows, {distinct:,} distinct contents)")

    times = []
    findings = pd.DataFrame()
    for _ in range(args.repeat):
        started = time.perf_counter()
        findings = sc.review_content(plan, kind="marketing", lexicon=lexicon)
        times.append(time.perf_counter() - started)
    print(
        f"review_content: first {times[0]:.2f} s, best {min(times):.2f} s "
        f"({distinct:,} contents, {len(lexicon.words):,} words)"
    )
    print(findings[["rule", "severity", "rows", "message_en"]].to_string(index=False))

    started = time.perf_counter()
    reviewed = sc.plan_campaign(people, TEMPLATE, signature="小店", kind="marketing", lexicon=lexicon)
    print(
        f"plan with kind='marketing' and the lexicon: {time.perf_counter() - started:.2f} s, "
        f"{reviewed.counts()['ready']:,} ready, {reviewed.counts().get('blocked', 0):,} blocked"
    )


if __name__ == "__main__":
    main()
