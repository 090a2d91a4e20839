"""Recipients benchmark: load + check a 1,000,000-row messy CSV, against phonenumbers per row.

Generates (untimed, under bench/data/, git-ignored) a 1M-row CSV of messy Chinese mobile numbers
and a 100,000-row xlsx written with openpyxl, then, in one run:

(a) ``load_recipients`` + ``check_numbers`` on the CSV, in a fresh child process (time, peak RSS);
(b) the naive way, ``phonenumbers.parse`` + ``is_valid_number`` + ``number_type`` per row, on a
    random sample of the same rows (scaled to rows/s), with its verdicts compared to (a)'s;
(c) ``load_recipients`` on the 100,000-row xlsx, in a fresh child process.

    python bench/bench_numbers.py [--rows 1000000] [--sample 100000] [--repeat 5]

The naive baseline strips a trailing ``.0`` before parsing (what anyone does for Excel float
cells; phonenumbers would otherwise read ``13800138000.0`` as a 12-digit number), so both sides
are asked the same question.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).parent / "data"
SEGMENTS = np.array(
    "130 131 132 133 134 135 136 137 138 139 145 147 150 151 152 153 155 156 157 158 159 162 "
    "165 166 167 170 171 172 173 175 176 177 178 180 181 182 183 184 185 186 187 188 189 190 "
    "191 192 193 195 196 197 198 199 100 120 140".split()
)
FULL_WIDTH = str.maketrans("0123456789+", "０１２３４５６７８９＋")


def make_numbers(rows: int, seed: int = 7) -> np.ndarray:
    """``rows`` messy phone cells (as text), ~10 % invalid, a few % duplicates."""
    rng = np.random.default_rng(seed)
    pool = np.char.add(
        SEGMENTS[rng.integers(0, len(SEGMENTS), rows)],
        np.char.zfill(rng.integers(0, 10**8, rows).astype(str), 8),
    )
    numbers = pool.copy()
    again = rng.random(rows) < 0.03  # some people twice
    numbers[again] = pool[rng.integers(0, rows, int(again.sum()))]
    shape = rng.choice(
        14,
        size=rows,
        p=[0.36, 0.1, 0.08, 0.06, 0.06, 0.05, 0.05, 0.04, 0.04, 0.06, 0.03, 0.03, 0.02, 0.02],
    )
    out = numbers.astype(object)
    n = numbers
    forms = {
        1: lambda m: np.char.add("+86 ", n[m]),
        2: lambda m: np.char.add(n[m], ".0"),
        3: lambda m: np.char.add("0086", n[m]),
        4: lambda m: np.char.add("86", n[m]),
        5: lambda m: np.char.add(
            np.char.add(
                np.char.add(n[m].astype("U3"), " "),
                np.char.add(np.char.ljust(np.array([s[3:7] for s in n[m]]), 4), " "),
            ),
            np.array([s[7:] for s in n[m]]),
        ),
        6: lambda m: np.array([f"{s[:3]}-{s[3:7]}-{s[7:]}" for s in n[m]]),
        7: lambda m: np.array([s.translate(FULL_WIDTH) for s in n[m]]),
        8: lambda m: np.char.add("'", n[m]),
        9: lambda m: np.array([f"\u00a0{s}\t" for s in n[m]]),
        10: lambda m: np.array([s[: rng.integers(5, 11)] for s in n[m]]),  # too short
        11: lambda m: np.full(m.sum(), ""),  # empty
        12: lambda m: np.array([f"{int(s[:6]) / 10**5:.5f}E+10" for s in n[m]]),  # digits lost
        13: lambda m: np.char.add(n[m], "0"),  # too long
    }
    for code, form in forms.items():
        mask = shape == code
        out[mask] = form(mask)
    return out


def write_csv(path: Path, rows: int) -> None:
    import pandas as pd

    numbers = make_numbers(rows)
    ids = np.char.add("C", np.arange(1, rows + 1).astype(str))
    df = pd.DataFrame({"客户编号": ids, "姓名": "测试用户", "手机号码": numbers, "城市": "深圳"})
    df.to_csv(path, index=False, encoding="utf-8-sig")


def write_xlsx(path: Path, rows: int) -> None:
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("名单")
    ws.append(["客户编号", "姓名", "手机号码", "城市", "积分"])
    rng = random.Random(11)
    for i, raw in enumerate(make_numbers(rows, seed=11)):
        cell: object = int(raw) if raw.isdigit() and len(raw) == 11 else raw
        ws.append([f"C{i + 1}", "测试用户", cell, "深圳", rng.randrange(10_000)])
    wb.save(path)


def child(kind: str, path: str) -> None:
    """Timed in a fresh process, so that peak RSS is this work's alone."""
    start = time.perf_counter()
    import smscampaign as sc

    # The package imports lazily: load the modules the work needs (pandas, pyarrow, phonenumbers)
    # here, so that "import" means what it meant before the lazy imports.
    _ = sc.load_recipients, sc.check_numbers
    imported, cpu_imported = time.perf_counter(), time.process_time()
    df = sc.load_recipients(path)
    loaded, cpu_loaded = time.perf_counter(), time.process_time()
    if kind == "csv":
        df = sc.check_numbers(df)
    done, cpu_done = time.perf_counter(), time.process_time()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    counts = df["status"].value_counts().to_dict() if "status" in df else {}
    print(
        json.dumps(
            {
                "rows": len(df),
                "import_s": imported - start,
                "load_s": loaded - imported,
                "check_s": done - loaded,
                # CPU seconds of the process (all threads): less sensitive to a loaded machine
                "load_cpu_s": cpu_loaded - cpu_imported,
                "check_cpu_s": cpu_done - cpu_loaded,
                "peak_mb": peak_mb,
                "counts": {str(k): int(v) for k, v in counts.items()},
            }
        )
    )


def run_child(kind: str, path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def naive_is_mobile(raw: str) -> bool:
    import phonenumbers
    from phonenumbers import PhoneNumberType

    try:
        number = phonenumbers.parse(raw.removesuffix(".0"), "CN")
    except phonenumbers.NumberParseException:
        return False
    return (
        phonenumbers.is_valid_number(number)
        and phonenumbers.region_code_for_number(number) == "CN"
        and phonenumbers.number_type(number)
        in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--xlsx-rows", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=1, help="cold processes for (a); the best counts")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    DATA.mkdir(parents=True, exist_ok=True)
    csv_path = DATA / f"recipients_{args.rows}.csv"
    xlsx_path = DATA / f"recipients_{args.xlsx_rows}.xlsx"
    if not csv_path.exists():
        print(f"generating {csv_path} …", flush=True)
        write_csv(csv_path, args.rows)
    if not xlsx_path.exists():
        print(f"generating {xlsx_path} …", flush=True)
        write_xlsx(xlsx_path, args.xlsx_rows)

    # (a) vectorised, in fresh processes (--repeat of them: the best one counts)
    print(
        f"\n(a) load_recipients + check_numbers, {args.rows:,} rows "
        f"({csv_path.stat().st_size / 1e6:.0f} MB CSV), {args.repeat} cold process(es)"
    )
    runs = []
    for _ in range(args.repeat):
        a = run_child("csv", csv_path)
        runs.append(a)
        print(
            f"    load {a['load_s']:.2f} s + check {a['check_s']:.2f} s = "
            f"{a['load_s'] + a['check_s']:.2f} s wall; CPU (all threads) load {a['load_cpu_s']:.2f} s "
            f"+ check {a['check_cpu_s']:.2f} s; peak RSS {a['peak_mb']:.0f} MB "
            f"(package import {a['import_s']:.2f} s not counted)"
        )
    a = min(runs, key=lambda r: r["load_s"] + r["check_s"])
    a_total = a["load_s"] + a["check_s"]
    print(f"    best: {a_total:.2f} s -> {a['rows'] / a_total:,.0f} rows/s; verdicts: {a['counts']}")

    # (b) naive per row, on a sample of the same rows; verdicts compared with (a)'s
    import pandas as pd

    import smscampaign as sc

    checked = sc.check_numbers(sc.load_recipients(csv_path))
    rng = np.random.default_rng(1)
    idx = np.sort(rng.choice(len(checked), size=min(args.sample, len(checked)), replace=False))
    raws = [("" if v is None or v is pd.NA else v) for v in checked["手机号码"].iloc[idx].tolist()]
    start = time.perf_counter()
    naive = [naive_is_mobile(raw) for raw in raws]
    b_s = time.perf_counter() - start
    ours = (checked["status"].iloc[idx] != "invalid").to_numpy()
    disagree = [raws[i] for i in np.flatnonzero(ours != np.array(naive))]
    b_rate = len(raws) / b_s
    print(f"\n(b) phonenumbers parse + is_valid_number per row, sample of {len(raws):,} rows")
    print(f"    {b_s:.2f} s -> {b_rate:,.0f} rows/s (1M rows would take {1e6 / b_rate:.1f} s)")
    print(
        f"    verdicts identical on {len(raws) - len(disagree):,}/{len(raws):,} rows"
        + (f"; differing: {disagree[:10]}" if disagree else "")
    )
    print(f"\n    ratio (a)/(b): {a['rows'] / a_total / b_rate:.1f}x faster")

    # (c) xlsx load
    c = run_child("xlsx", xlsx_path)
    print(
        f"\n(c) load_recipients, {c['rows']:,}-row xlsx ({xlsx_path.stat().st_size / 1e6:.1f} MB): "
        f"{c['load_s']:.2f} s; peak RSS {c['peak_mb']:.0f} MB"
    )
    if disagree:
        sys.exit(1)


if __name__ == "__main__":
    main()
