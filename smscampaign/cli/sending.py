"""``smscampaign send``: plan and send a campaign, journaled so that a re-run never sends twice::

    smscampaign send customers.xlsx --template '{姓名}您好，…回T退订' --sandbox --report report.xlsx

The exit code says whether re-running could still send something: 1 when rows failed or were not
sent, 130 when interrupted (Ctrl-C), 143 when terminated (SIGTERM: a scheduler, ``docker stop``, a
closed terminal — handled as Ctrl-C: the requests in flight finish, a second signal stops waiting for
them and leaves them unknown, and the summary is printed), else 0.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Iterator

from smscampaign.cli.common import (
    SANDBOX_REGISTRY_KEY,
    Subparsers,
    UserError,
    add_gateway_options,
    add_plan_options,
    add_recipient_options,
    load_checked,
    make_plan,
    nothing_to_send,
    open_gateway,
    parse_window,
)


class Terminated(KeyboardInterrupt):
    """SIGTERM (or SIGHUP), raised where Ctrl-C's KeyboardInterrupt would be, so that it is handled
    the same; ``signal`` says which."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signal = signal.Signals(signum)


#: The exit code of a run stopped by SIGTERM (128 + 15), as shells report it (SIGHUP: 129).
EXIT_TERMINATED = 128 + signal.SIGTERM


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[list[int]]:
    """While the block runs, SIGTERM (and SIGHUP, a closed terminal) raise :class:`Terminated` in
    the main thread; yields the list of signals received."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def handler(signum: int, frame: object) -> None:
        received.append(signum)
        raise Terminated(signum)

    names = [signal.SIGTERM, *([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])]
    previous = {name: signal.signal(name, handler) for name in names}
    try:
        yield received
    finally:
        for name, old in previous.items():
            signal.signal(name, old)


def add_send(sub: Subparsers) -> None:
    parser = sub.add_parser(
        "send",
        help="plan and send a campaign, journaled so that a re-run never sends twice",
        description="Load FILE, check the numbers, plan the messages and send them. Re-running with "
        "the same file and template resumes (the journal is found by the plan): nothing accepted is "
        "sent again, and nobody gets the same content twice from another journal either "
        f"(every --sandbox run counts as one gateway, {SANDBOX_REGISTRY_KEY}, for this check).",
    )
    add_recipient_options(parser)
    add_plan_options(parser, charset=False)
    add_gateway_options(parser)
    parser.add_argument(
        "--journal",
        help="journal file (SQLite); default: the plan's journal in the campaign home "
        "($SMSCAMPAIGN_HOME), so re-running the same command resumes",
    )
    parser.add_argument(
        "--allow-repeat",
        action="store_true",
        help="send even to people who got the same content from another journal recently",
    )
    parser.add_argument(
        "--repeat-window",
        default="24h",
        metavar="DURATION",
        help="how far back the send registry looks for the same content (default 24h)",
    )
    parser.add_argument(
        "--reconcile",
        choices=["balance", "none"],
        default="balance",
        help="settle unknown outcomes by the account balance (default: balance; it reads the "
        "balance again only when an outcome is unknown, and never resends on a movement someone "
        "else made); none leaves them unknown",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="seconds between the two balance readings that settle an unknown outcome (default 5)",
    )
    parser.add_argument("--workers", type=int, default=1, help="parallel requests (default 1)")
    parser.add_argument("--rate-limit", type=float, help="requests per second at most")
    parser.add_argument("--max-retries", type=int, default=3, help="retries per batch (default 3)")
    parser.add_argument(
        "--resend-unknown",
        action="store_true",
        help="send again batches whose outcome is unknown (may text people twice)",
    )
    parser.add_argument(
        "--allow-partial",
        action="store_true",
        help="send even if the balance does not cover the whole campaign",
    )
    parser.add_argument(
        "--send-window",
        type=parse_window,
        metavar="HH:MM-HH:MM",
        help="only send within this daily window, Beijing time (e.g. 08:00-22:00)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--report", metavar="PATH", help="also write the report workbook to PATH")
    parser.add_argument("--name", help="the campaign's name in the history (smscampaign history)")
    parser.set_defaults(func=_cmd_send)


def _cmd_send(args: argparse.Namespace) -> int:
    with sigterm_as_interrupt() as received:
        return _send(args, received)


def _send(args: argparse.Namespace, received: list[int]) -> int:
    """``send``; ``received``: the signals that stopped it (SIGTERM, SIGHUP), filled as they come."""
    from smscampaign.campaign.send import send_campaign  # noqa: PLC0415

    if args.workers < 1:
        raise UserError("--workers must be at least 1")
    plan = make_plan(args, load_checked(args))
    if plan.messages == 0:  # before any journal exists
        print(repr(plan))
        raise UserError(nothing_to_send(plan))
    with open_gateway(args) as (gateway, box):
        registry_key = gateway.base_url if box is None else SANDBOX_REGISTRY_KEY
        results = send_campaign(
            plan,
            gateway,
            journal=args.journal,
            workers=args.workers,
            rate_limit=args.rate_limit,
            max_retries=args.max_retries,
            resend_unknown=args.resend_unknown,
            allow_partial=args.allow_partial,
            send_window=args.send_window,
            progress=not args.no_progress,
            allow_repeat=args.allow_repeat,
            repeat_window=args.repeat_window,
            reconcile=None if args.reconcile == "none" else args.reconcile,
            settle=args.settle,
            name=args.name,
            registry_key=registry_key,
        )
        delivered = None if box is None else len(box.ledger)  # the sandbox's ground truth
    counts = results["status"].value_counts()
    attrs = results.attrs
    print(f"{len(results)} recipients, {plan.messages} messages planned in {plan.requests} requests")
    for status, count in counts.items():
        print(f"  {status:<14}{count:>9}")
    print(attrs.get("summary", ""))
    where = attrs.get("journal") or "(none: nothing to send)"
    print(
        f"journal: {where} ({'resumed' if attrs.get('resumed') else 'new'}; re-run the same command "
        "to resume; accepted = accepted by the gateway, there are no delivery reports)"
    )
    if delivered is not None:
        print(
            f"sandbox: {delivered} messages delivered by this run (its ledger); the send registry "
            f"counts every --sandbox run as one gateway, {SANDBOX_REGISTRY_KEY}"
        )
    for warning in attrs.get("warnings", []):
        print(f"warning: {warning}", file=sys.stderr)
    if args.report:
        from smscampaign.reports.workbook import export_report  # noqa: PLC0415

        print(f"report: {export_report(results, args.report, plan=plan)}")
    if counts.get("already_sent", 0):
        where = f"{registry_key}: every --sandbox run" if box is not None else registry_key
        print(
            f"{counts['already_sent']} recipients already got this content through this gateway "
            f"({where}) within {args.repeat_window} from another journal, so they were skipped, "
            "not sent again: status already_sent, the reason says when and by which campaign "
            "(--allow-repeat sends anyway)"
        )
    if counts.get("unknown", 0):
        print(
            f"{counts['unknown']} recipients are unknown: their request may have reached the gateway; "
            "they are not resent unless you pass --resend-unknown"
        )
    if results.attrs.get("interrupted"):
        return 128 + received[0] if received else 130
    # 1 when re-running could still send something (failed or not sent); unknown is final unless asked.
    return 1 if counts.get("failed", 0) or counts.get("not_sent", 0) else 0
