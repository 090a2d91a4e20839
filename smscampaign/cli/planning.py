"""``smscampaign plan`` and ``smscampaign review``: what a campaign would send, nothing sent.

``review`` exits 1 when a finding is an error, so it can gate a script::

    smscampaign plan customers.xlsx --template '{姓名}您好，…回T退订' --preview 5
    smscampaign review customers.xlsx --template '…' --kind marketing --lexicon banned.txt
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from smscampaign.cli.common import (
    Subparsers,
    UserError,
    add_plan_options,
    add_recipient_options,
    add_review_options,
    load_checked,
    make_plan,
    nothing_to_send,
    parse_window,
)
from smscampaign.cli.output import write_table
from smscampaign.notebook.demo import format_table
from smscampaign.wire.protocol import CHARSETS

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd


def add_plan(sub: Subparsers) -> None:
    parser = sub.add_parser(
        "plan",
        help="plan a campaign without sending anything",
        description="Check the numbers, render every message and show who "
        "would get what, who is skipped and why, and the "
        "requests needed. Nothing is sent.",
    )
    add_recipient_options(parser)
    add_plan_options(parser)
    parser.add_argument(
        "--out", metavar="CSV", help="write one row per recipient with content and status"
    )
    parser.add_argument(
        "--send-window",
        type=parse_window,
        metavar="HH:MM-HH:MM",
        help="daily window the campaign may be sent in, Beijing time (marketing default 08:00-21:00)",
    )
    parser.add_argument(
        "--preview",
        nargs="?",
        type=int,
        const=20,
        metavar="N",
        help="show what each of the first N recipients will receive (default 20) and the totals",
    )
    parser.set_defaults(func=_cmd_plan)


def _cmd_plan(args: argparse.Namespace) -> int:
    plan = make_plan(args, load_checked(args))
    print(repr(plan))
    summary = plan.summary()
    print(format_table(summary[summary["recipients"] > 0]))
    if plan.review is not None and len(plan.review):
        print("\nreview:")
        print_findings(plan.review)
    sample = plan.sample(3)
    if len(sample):
        print("\nsample messages:")
        for row in sample.itertuples(index=False):
            print(f"  [{row.length:>2}] {row.content}")
    if args.preview is not None:
        print(f"\npreview of the first {args.preview} recipients:")
        print(repr(plan.preview(args.preview)))
    print(f"\nfingerprint {plan.fingerprint}")
    if args.out:
        write_table(plan.to_frame(), args.out)
    if plan.messages == 0:
        raise UserError(nothing_to_send(plan))
    return 0


def print_findings(findings: pd.DataFrame) -> None:
    """The review's findings as a table, then one example each."""
    table = findings[["severity", "rule", "rows", "message_zh", "message_en"]].copy()
    table["rows"] = table["rows"].astype("string").fillna("-")
    print(format_table(table))
    for row in findings.itertuples(index=False):
        print(f"  e.g. {row.rule}: {row.example}")


def add_review(sub: Subparsers) -> None:
    parser = sub.add_parser(
        "review",
        help="review the content before the gateway does (审核预检): exit 1 on an error finding",
        description="Plan FILE with --template (nothing is sent) and review every content: "
        "signature, opt-out instruction, links, phone numbers, charset and --lexicon words. "
        "Prints the findings; exits 1 when one is an error.",
    )
    add_recipient_options(parser)
    parser.add_argument("--template", required=True, help="message text with {column} placeholders")
    parser.add_argument("--signature", help="sender signature, e.g. 【演示商城】")
    parser.add_argument(
        "--charset", choices=list(CHARSETS), default="utf8", help="charset (default utf8)"
    )
    add_review_options(parser)
    parser.set_defaults(func=_cmd_review, kind="marketing")


def _cmd_review(args: argparse.Namespace) -> int:
    from smscampaign.campaign.plan import plan_campaign  # noqa: PLC0415

    plan = plan_campaign(
        load_checked(args),
        args.template,
        signature=args.signature,
        charset=args.charset,
        kind=args.kind or "marketing",
        lexicon=args.lexicon,
        review="warn",
        send_window=None,
    )
    findings = plan.review
    assert findings is not None
    reviewed = int((plan.recipients["status"] == "ready").sum())
    print(f"{args.file}: {reviewed:,} messages reviewed as {args.kind or 'marketing'}")
    if findings.empty:
        print("no findings")
        return 0
    print_findings(findings)
    errors = int((findings["severity"] == "error").sum())
    print(f"{errors} error(s), {len(findings) - errors} warning(s)")
    return 1 if errors else 0
