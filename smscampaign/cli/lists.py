"""``smscampaign check``: load a recipient list and count its ok, invalid and duplicate numbers.

With ``--out`` every row is written with its status and reason::

    smscampaign check customers.xlsx --out checked.csv
"""

from __future__ import annotations

import argparse

from smscampaign.cli.common import Subparsers, add_recipient_options, load_checked
from smscampaign.cli.output import write_table


def add_check(sub: Subparsers) -> None:
    parser = sub.add_parser(
        "check",
        help="load a recipient list and check its numbers",
        description="Load a recipient list, normalise and check every number, "
        "and print how many are ok, invalid or duplicate.",
    )
    add_recipient_options(parser)
    parser.add_argument(
        "--out",
        metavar="CSV",
        help="write every row with mobile, status, reason, carrier, region, city, area_code",
    )
    parser.set_defaults(func=_cmd_check)


def _cmd_check(args: argparse.Namespace) -> int:
    checked = load_checked(args)
    attrs = checked.attrs
    where = f" (sheet {attrs['sheet_name']})" if attrs.get("sheet_name") else ""
    print(f"{args.file}{where}: {len(checked)} rows, phone column {attrs.get('phone_column')!r}")
    counts = checked["status"].value_counts()
    for status in ("ok", "invalid", "duplicate"):
        print(f"  {status:<10}{int(counts.get(status, 0)):>8}")
    reasons = checked.loc[checked["status"] == "invalid", "reason"].value_counts()
    for reason, count in reasons.items():
        print(f"    {reason}: {int(count)}")
    if args.out:
        write_table(checked, args.out)
    return 0
