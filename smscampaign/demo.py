"""``make demo``: a whole campaign against the in-process sandbox, ending in an Excel report.

load ``sample_data/recipients.xlsx`` → check the numbers → plan a ``{姓名}`` template with a
signature → send in batches (journal in a temporary folder) → a few customers reply, two of
them 退订 → fetch the replies → ``reports/demo-report.xlsx``. Nothing leaves the machine
(loopback only) and no credentials are needed: the sandbox account gets a random password that
is never printed.

Run ``python -m smscampaign.demo [--recipients FILE] [--out REPORT.xlsx]``.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from smscampaign.inbound import fetch_replies, opt_outs
from smscampaign.numbers import check_numbers
from smscampaign.plan import plan_campaign
from smscampaign.recipients import load_recipients
from smscampaign.report import campaign_report, export_report
from smscampaign.sandbox import Sandbox

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "recipients.xlsx"
REPORT = Path("reports") / "demo-report.xlsx"
TEMPLATE = "{姓名}您好，春季会员日全场八折，详询门店。回T退订"
SIGNATURE = "【演示商城】"
ACCOUNT = "demo"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m smscampaign.demo",
        description="Run a full sandbox campaign on the sample recipients and write an Excel report.",
    )
    parser.add_argument(
        "--recipients", type=Path, default=SAMPLE, help=f"recipient list (default {SAMPLE})"
    )
    parser.add_argument("--out", type=Path, default=REPORT, help=f"report workbook (default {REPORT})")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo campaign; prints a short summary and the report's path. Returns 0."""
    from smscampaign.account import bind_numbers
    from smscampaign.send import send_campaign

    args = build_parser().parse_args(argv)
    recipients = load_recipients(args.recipients)
    checked = check_numbers(recipients)
    plan = plan_campaign(checked, TEMPLATE, signature=SIGNATURE)
    print(f"recipients: {args.recipients} — {len(recipients)} rows")
    print(repr(plan))

    password = secrets.token_urlsafe(16)  # never printed, never stored
    with tempfile.TemporaryDirectory(prefix="smscampaign-demo-") as tmp, Sandbox() as box:
        box.add_account(ACCOUNT, password, sms_left=10_000)
        with box.gateway(ACCOUNT, password) as gw:
            results = send_campaign(
                plan, gw, journal=Path(tmp) / "demo.journal", progress=sys.stderr.isatty()
            )
            # A few customers answer; two of them opt out. Replies reach the account once bound.
            accepted = results.loc[results["status"] == "accepted", "mobile"].head(3).tolist()
            bind_numbers(gw, accepted, progress=False)
            for mobile, text in zip(accepted, ["退订", "好的，周末去看看", "TD"], strict=False):
                box.reply(mobile, text, ACCOUNT)
            replies = fetch_replies(gw)
            left = gw.user_info().fields.get("sms_left")

    path = export_report(results, args.out, plan=plan, replies=replies)
    summary = campaign_report(results)["summary"]
    print()
    print(summary.to_string(index=False))
    print(
        f"\nsandbox messages left: {left}; replies: {len(replies)}, opt-outs: {len(opt_outs(replies))}"
    )
    print(f"report written to {path.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
