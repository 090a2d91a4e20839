"""Start-up benchmark: ``import smscampaign`` and ``smscampaign --help`` in fresh interpreters.

Each command runs ``--runs`` times (wall clock of the whole process, interpreter start included);
the best and median are printed next to a bare ``python -c pass``, then the biggest cumulative
entries of ``python -X importtime`` for each command. Targets (issue 14): ≤ 0.45 s / ≤ 0.6 s.

    python bench/bench_startup.py [--runs 7] [--top 12]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "import smscampaign": [sys.executable, "-c", "import smscampaign"],
    "smscampaign --help": [sys.executable, "-m", "smscampaign", "--help"],
}


def wall(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def importtime(argv: list[str], top: int) -> list[tuple[int, int, str]]:
    """(self µs, cumulative µs, module) of the ``top`` biggest top-level imports by cumulative time."""
    out = subprocess.run(
        [argv[0], "-X", "importtime", *argv[1:]], check=True, capture_output=True, text=True
    ).stderr
    rows = []
    for line in out.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative, name = (part.strip() for part in line[len("import time:") :].split("|"))
        depth = (len(name) - len(name.lstrip())) // 2
        if depth <= 1:  # the package and what it (or the interpreter) imports directly
            rows.append((int(self_us), int(cumulative), name.strip()))
    return sorted(rows, key=lambda r: -r[1])[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()
    for label, argv in COMMANDS.items():
        times = sorted(wall(argv) for _ in range(args.runs))
        print(f"{label:22} best {times[0]:.3f} s   median {statistics.median(times):.3f} s")
    for label, argv in list(COMMANDS.items())[1:]:
        print(f"\n-X importtime, {label} (top-level imports, cumulative ms):")
        for _self_us, cumulative, name in importtime(argv, args.top):
            print(f"    {cumulative / 1000:8.1f}  {name}")


if __name__ == "__main__":
    main()
