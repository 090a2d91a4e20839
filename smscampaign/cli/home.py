"""``smscampaign home info`` and ``home copy``: where the campaign home is, what it holds, and moving a
personal home into a team's::

    smscampaign home info                                   # $SMSCAMPAIGN_HOME, else the user data dir
    smscampaign home info postgresql://ana@db.example/team
    smscampaign home copy ~/.local/share/smscampaign postgresql://ana@db.example/team

A PostgreSQL home is always shown without its password (give it through ``PGPASSWORD`` or
``~/.pgpass`` rather than in the URL: a command line is visible to every user of the machine).
"""

from __future__ import annotations

import argparse

from smscampaign.cli.common import Subparsers

#: The lines of ``home info``, in order, with their labels.
_INFO_LINES = (
    ("home", "home"),
    ("kind", "kind"),
    ("schema", "schema version"),
    ("journals", "journals"),
    ("campaigns", "campaigns"),
    ("messages", "messages"),
    ("send_batches", "batches"),
    ("reservations", "reservations"),
    ("replies", "replies"),
    ("opt_outs", "opt-outs"),
)


def add_home(sub: Subparsers) -> None:
    parser = sub.add_parser(
        "home",
        help="the campaign home: where it is and what it holds; copy a personal home into a team's",
        description="The campaign home (SMSCAMPAIGN_HOME: a folder, or a postgresql://… URL for a "
        "team's home): `home info` shows where it is, its kind, schema version and counts; "
        "`home copy FROM TO` copies a personal home into a team home (twice is once).",
    )
    commands = parser.add_subparsers(dest="home_command", metavar="COMMAND", required=True)
    info = commands.add_parser("info", help="where the campaign home is, its kind, schema, counts")
    info.add_argument(
        "home",
        metavar="HOME",
        nargs="?",
        help="a home folder or postgresql://… URL (default: $SMSCAMPAIGN_HOME or user data)",
    )
    info.set_defaults(func=_cmd_info)
    copy = commands.add_parser(
        "copy", help="copy a personal (folder) home into a team (PostgreSQL) home; twice is once"
    )
    copy.add_argument("source", metavar="FROM", help="the personal home folder")
    copy.add_argument("target", metavar="TO", help="the team home: a postgresql://… URL")
    copy.set_defaults(func=_cmd_copy)


def _cmd_info(args: argparse.Namespace) -> int:
    from smscampaign.memory.transfer import home_info  # noqa: PLC0415 - keep CLI start-up light

    info = home_info(args.home)
    for key, label in _INFO_LINES:
        if key in info:
            value = info[key]
            shown = f"{value:,}" if isinstance(value, int) and key != "schema" else value
            print(f"{label + ':':<16}{'—' if shown is None else shown}")
    if info.get("exists") is False:
        print("(not created yet: the first campaign sent or reply stored creates it)")
    return 0


def _cmd_copy(args: argparse.Namespace) -> int:
    from smscampaign.memory.location import redact_url  # noqa: PLC0415
    from smscampaign.memory.transfer import copy_home  # noqa: PLC0415

    added = copy_home(args.source, args.target)
    print(f"copied {args.source} into {redact_url(args.target)} (rows new there):")
    for table, count in added.items():
        print(f"  {table:<20}{count:>12,}")
    return 0
