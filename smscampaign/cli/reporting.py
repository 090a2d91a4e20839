"""``smscampaign report``, ``history`` and ``compare``: what campaigns did, from their journals and
the campaign home::

    smscampaign report spring.journal --out spring.xlsx
    smscampaign history --contacts 13800138000
    smscampaign compare spring autumn --window 72h --out compare.xlsx
"""

from __future__ import annotations

import argparse
from pathlib import Path

from smscampaign.cli.common import Subparsers
from smscampaign.cli.output import write_or_print
from smscampaign.notebook.demo import format_table


def add_report(sub: Subparsers) -> None:
    parser = sub.add_parser(
        "report",
        help="write the Excel report of a campaign from its journal",
        description="Rebuild the results of a campaign from its journal and "
        "write the Excel report (概览, 明细, 错误, 无效与重复, "
        "批次 …).",
    )
    parser.add_argument(
        "journal",
        metavar="JOURNAL",
        help="the journal file `send` printed (read only: a read-only file will do)",
    )
    parser.add_argument(
        "--out",
        metavar="XLSX",
        help="report workbook (default: beside the journal, <name>-report.xlsx; for a journal in "
        "the campaign home, reports/<name>-report.xlsx in the current folder)",
    )
    parser.add_argument(
        "--replies",
        metavar="FILE",
        help="replies to include (CSV/Excel with sender, content, receivetime)",
    )
    parser.set_defaults(func=_cmd_report)


def _cmd_report(args: argparse.Namespace) -> int:
    from smscampaign.campaign.send import read_journal  # noqa: PLC0415
    from smscampaign.reports.tables import campaign_report  # noqa: PLC0415
    from smscampaign.reports.workbook import export_report  # noqa: PLC0415

    journal = Path(args.journal)
    if not journal.is_file():
        raise FileNotFoundError(f"no journal at {str(journal)!r}")
    results = read_journal(journal)
    replies = None
    if args.replies:
        from smscampaign.stages.recipients import load_recipients  # noqa: PLC0415

        replies = load_recipients(args.replies, phone_column="sender")
        replies = replies[[c for c in ("sender", "content", "receivetime") if c in replies.columns]]
    out, where = (Path(args.out), "") if args.out else _default_report(journal)
    path = export_report(results, out, replies=replies)
    print(format_table(campaign_report(results)["summary"]))
    if results.attrs.get("summary"):  # what the last run printed: resumed: … accepted earlier, …
        print(f"last run: {results.attrs['summary']}")
    print(f"report written to {path}{where}")
    return 0


def _default_report(journal: Path) -> tuple[Path, str]:
    """Where the report goes without ``--out``, and what to say about it: beside the journal, but
    never into the campaign home (a hidden folder nobody browses): ``reports/`` here instead."""
    from smscampaign.memory.home import home_dir  # noqa: PLC0415

    name = f"{journal.stem}-report.xlsx"
    if not journal.resolve().is_relative_to(home_dir().resolve()):
        return journal.with_name(name), ""
    if len(journal.stem) == 64:  # the home names a journal by its plan's fingerprint
        name = f"{journal.stem[:12]}-report.xlsx"
    out = Path("reports") / name
    return out, f" ({out.resolve()}; the journal is in the campaign home, so not beside it)"


def add_history(sub: Subparsers) -> None:
    parser = sub.add_parser(
        "history",
        help="campaigns, contacts, replies and opt-outs kept in the campaign home",
        description="Show the campaign home's history: every campaign with its counts (default), "
        "or per number (--contacts), every reply with the campaign it answers (--replies), or "
        "every opt-out (--opt-outs).",
    )
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument(
        "--contacts",
        nargs="*",
        metavar="MOBILE",
        help="per number: first/last contacted, messages in 7/30 days, replied, opted out "
        "(the numbers given, else every number)",
    )
    shown.add_argument("--replies", action="store_true", help="replies and their campaigns")
    shown.add_argument("--opt-outs", action="store_true", help="numbers that opted out")
    parser.add_argument("--home", help="campaign home folder (default: $SMSCAMPAIGN_HOME or user data)")
    parser.add_argument("--out", metavar="FILE.csv", help="write the table to a CSV file")
    parser.set_defaults(func=_cmd_history)


def _cmd_history(args: argparse.Namespace) -> int:
    from smscampaign.memory.history import History  # noqa: PLC0415

    with History(args.home) as history:
        if args.contacts is not None:
            table = history.contacts(args.contacts or None)
        elif args.replies:
            table = history.replies()
        elif args.opt_outs:
            table = history.opt_outs()
        else:
            table = history.campaigns()
            table["fingerprint"] = table["fingerprint"].str.slice(0, 12)
    write_or_print(table, args.out)
    return 0


def add_compare(sub: Subparsers) -> None:
    parser = sub.add_parser(
        "compare",
        help="compare campaigns: messages, reply and opt-out rates, time to reply",
        description="Set campaigns of the campaign home side by side (by name or fingerprint): "
        "messages, replies and opt-outs attributed within the window, rates, median time to reply.",
    )
    parser.add_argument("names", nargs="+", metavar="NAME", help="campaign names (smscampaign history)")
    parser.add_argument("--window", default="72h", help="attribution window (default 72h)")
    parser.add_argument("--home", help="campaign home folder (default: $SMSCAMPAIGN_HOME or user data)")
    parser.add_argument("--out", metavar="FILE.xlsx", help="also write the comparison workbook")
    parser.add_argument("--plot", metavar="FILE.png", help="also save the rates as a bar chart")
    parser.set_defaults(func=_cmd_compare)


def _cmd_compare(args: argparse.Namespace) -> int:
    from smscampaign.memory.history import History  # noqa: PLC0415
    from smscampaign.reports.compare import compare_campaigns, export_comparison  # noqa: PLC0415
    from smscampaign.reports.plots import plot_comparison  # noqa: PLC0415

    with History(args.home) as history:
        table = compare_campaigns(history, args.names, attribution_window=args.window)
    shown = table.drop(columns=["template"]).copy()
    for column in ("reply_rate", "opt_out_rate"):
        shown[column] = shown[column].map(lambda v: "" if v != v else f"{v:.1%}")
    print(shown.to_string(index=False))
    if args.out:
        print(f"comparison: {export_comparison(table, args.out)}")
    if args.plot:
        plot_comparison(table).savefig(args.plot, dpi=120)
        print(f"chart: {args.plot}")
    return 0
