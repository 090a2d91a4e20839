"""``smscampaign outcomes``: did it sell? Orders (visits, renewals …) attributed to campaigns, and
each arm's lift against the hold-out::

    smscampaign outcomes spring --orders orders.csv --window 14d --value 金额
    smscampaign outcomes spring summer --orders crm.xlsx --key 会员号 --out outcomes.xlsx
"""

from __future__ import annotations

import argparse

from smscampaign.cli.common import Subparsers


def add_outcomes(sub: Subparsers) -> None:
    parser = sub.add_parser(
        "outcomes",
        help="did it sell? outcomes attributed to campaigns, lift against the hold-out",
        description="Attribute the outcomes in FILE (one row each: a number or customer id, a time, "
        "maybe an amount) to the campaigns of the campaign home — the latest campaign that texted "
        "the person within the window — and compare each arm with the people held out: conversion "
        "rate, lift with its 95 %% interval and p-value, value per person, a verdict.",
    )
    parser.add_argument("names", nargs="+", metavar="NAME", help="campaign names (smscampaign history)")
    parser.add_argument(
        "--orders",
        required=True,
        metavar="FILE",
        help="the outcomes: .xlsx / .csv, one row per order, visit … (every cell read as text)",
    )
    parser.add_argument(
        "--window", default="14d", help="how long after the message an outcome counts (default 14d)"
    )
    parser.add_argument(
        "--value", metavar="COLUMN", help="the amount column, e.g. 金额 (value per person)"
    )
    parser.add_argument(
        "--key",
        default="mobile",
        metavar="COLUMN",
        help="match people by the number (mobile, default) or by a column the campaign's list "
        "carried, e.g. 会员号",
    )
    parser.add_argument("--time", metavar="COLUMN", help="the time column (default: found by its name)")
    parser.add_argument(
        "--min-effect",
        type=float,
        metavar="POINTS",
        help="the lift you care about, in percentage points: warns when the hold-out is too "
        "small to see it",
    )
    parser.add_argument("--home", help="campaign home folder (default: $SMSCAMPAIGN_HOME or user data)")
    parser.add_argument("--out", metavar="FILE", help="also write the table (.xlsx: a 转化 sheet; .csv)")
    parser.add_argument("--plot", metavar="FILE.png", help="also save the lift per arm as a chart")
    parser.set_defaults(func=_cmd_outcomes)


def _cmd_outcomes(args: argparse.Namespace) -> int:
    import warnings  # noqa: PLC0415

    from smscampaign.reports.outcomes import HoldoutTooSmallWarning, measure_outcomes  # noqa: PLC0415

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", HoldoutTooSmallWarning)
        table = measure_outcomes(
            args.names,
            args.orders,
            window=args.window,
            value=args.value,
            key=args.key,
            time=args.time,
            home=args.home,
            min_effect=None if args.min_effect is None else args.min_effect / 100,
        )
    shown = table.drop(columns=["verdict_zh", "verdict_en"]).copy()
    for column in ("rate", "lift", "lift_low", "lift_high"):
        shown[column] = shown[column].map(lambda v: "" if v != v else f"{v * 100:.2f}%")
    shown["p_value"] = shown["p_value"].map(lambda v: "" if v != v else f"{v:.2g}")
    if args.value is None:
        shown = shown.drop(columns=[c for c in shown.columns if c.startswith("value_")])
    else:
        for column in [c for c in shown.columns if c.startswith("value_")]:
            shown[column] = shown[column].map(lambda v: "" if v != v else f"{v:.2f}")
    print(shown.to_string(index=False))
    print()
    for row in table.itertuples(index=False):
        print(f"{row.campaign} · {row.verdict_zh}")
        print(f"{' ' * len(str(row.campaign))}   {row.verdict_en}")
    left = {name: counts for name, counts in table.attrs["left_out"].items() if counts}
    if left:
        print("never sent, on neither side: " + "; ".join(f"{n}: {c}" for n, c in left.items()))
    for warning in caught:
        print(f"warning: {warning.message}")
    if args.out:
        print(f"outcomes: {_write(table, args.out)}")
    if args.plot:
        from smscampaign.reports.plots import plot_lift  # noqa: PLC0415

        plot_lift(table).savefig(args.plot, dpi=120)
        print(f"chart: {args.plot}")
    return 0


def _write(table: object, out: str) -> str:
    from pathlib import Path  # noqa: PLC0415

    import pandas as pd  # noqa: PLC0415

    from smscampaign.cli.output import write_table  # noqa: PLC0415
    from smscampaign.reports.compare import write_outcome_sheet  # noqa: PLC0415

    assert isinstance(table, pd.DataFrame)
    path = Path(out)
    if path.suffix.lower() == ".xlsx":
        path.parent.mkdir(parents=True, exist_ok=True)
        with pd.ExcelWriter(path, engine="openpyxl") as writer:
            write_outcome_sheet(writer, table)
    else:
        write_table(table, out)
    return str(path)
