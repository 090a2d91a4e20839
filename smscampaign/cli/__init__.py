"""The ``smscampaign`` command line.

Credentials come from ``SMSCAMPAIGN_USERNAME`` / ``SMSCAMPAIGN_PASSWORD`` / ``SMSCAMPAIGN_BASE_URL`` /
``SMSCAMPAIGN_CHARSET`` (read by :meth:`Gateway.from_env`, never from argv); ``--sandbox`` runs against
an in-process sandbox with a demo account instead (``send --sandbox`` runs are all one gateway,
:data:`SANDBOX_REGISTRY_KEY`, to the campaign home's send registry). User errors print one clear line
and exit 2;
gateway and account failures (the gateway unreachable, its answer unreadable, a negative code) print one
line and exit 1; anything else is a bug and shows its traceback. Every CSV written neutralises formulas.

Each subcommand is a pair ``_add_<name>(subparsers)`` / ``_cmd_<name>(args) -> int``, registered in
:func:`build_parser`.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smscampaign.core.errors import (
    ConfigError,
    GatewayError,
    JournalError,
    PlanError,
    RecipientsError,
    SmsCampaignError,
    TemplateError,
    UnencodableContentError,
)
from smscampaign.notebook.demo import format_table
from smscampaign.wire.protocol import CHARSETS, MAX_LENGTH, MAX_NUMBERS, TIME_FORMAT

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd

    from smscampaign.campaign.plan import Plan
    from smscampaign.sandbox import Sandbox
    from smscampaign.wire.gateway import Gateway

__all__ = ["build_parser", "main"]

DEMO_USER, DEMO_PASSWORD, DEMO_SMS = "demo", "demo-password", 10_000_000
#: The one gateway every ``--sandbox`` send is recorded under in the campaign home's send registry.
#: Each run starts its own sandbox on a new port, so its URL cannot be the key: under this fixed name
#: a second ``--sandbox`` run (from another journal, too) sees the first one's sends and sends
#: nobody twice. Not an ``http(s)://`` URL, so it never matches — nor holds back — a real gateway.
SANDBOX_REGISTRY_KEY = f"sandbox://{DEMO_USER}"


class UserError(Exception):
    """A mistake of the user's (bad option combination …): one line, exit 2."""


# -- shared options -------------------------------------------------------------------------------


def add_gateway_options(parser: argparse.ArgumentParser, *, sandbox: bool = True) -> None:
    """``--base-url``, ``--charset`` and (optionally) ``--sandbox``."""
    parser.add_argument(
        "--base-url", help="gateway host (default: $SMSCAMPAIGN_BASE_URL or the real host)"
    )
    parser.add_argument(
        "--charset",
        choices=list(CHARSETS),
        help="endpoint charset (default: $SMSCAMPAIGN_CHARSET or utf8)",
    )
    if sandbox:
        parser.add_argument(
            "--sandbox",
            action="store_true",
            help="run against an in-process sandbox with a demo account",
        )


@contextlib.contextmanager
def open_gateway(
    args: argparse.Namespace, *, sandbox_sms: int = DEMO_SMS
) -> Iterator[tuple[Gateway, Sandbox | None]]:
    """The gateway the command talks to: the in-process sandbox with ``--sandbox``, else the
    environment's credentials (``--base-url`` / ``--charset`` override)."""
    from smscampaign.sandbox import Sandbox  # noqa: PLC0415
    from smscampaign.wire.gateway import Gateway  # noqa: PLC0415 - keep CLI start-up light

    if getattr(args, "sandbox", False):
        with Sandbox() as box:
            box.add_account(DEMO_USER, DEMO_PASSWORD, sms_left=sandbox_sms)
            with box.gateway(DEMO_USER, DEMO_PASSWORD, charset=args.charset or "utf8") as gw:
                yield gw, box
        return
    with Gateway.from_env(base_url=args.base_url, charset=args.charset) as gw:
        yield gw, None


# -- subcommands (each issue adds its own pair below) ------------------------------------------------


# -- check, plan, report, sandbox (issue 7) -------------------------------------------------------


def add_recipient_options(parser: argparse.ArgumentParser) -> None:
    """``FILE`` plus ``--sheet``, ``--phone-column`` and ``--encoding`` (see
    :func:`load_recipients`)."""
    parser.add_argument("file", metavar="FILE", help="recipient list (.xlsx .xls .ods .csv …)")
    parser.add_argument("--sheet", help="sheet name (default: the first sheet with a phone column)")
    parser.add_argument("--phone-column", help="column holding the numbers (default: detected)")
    parser.add_argument("--encoding", help="CSV encoding (default: UTF-8, else GBK, detected)")


def load_checked(args: argparse.Namespace) -> pd.DataFrame:
    """Load ``args.file`` with the recipient options and check its numbers."""
    from smscampaign.stages.numbers import check_numbers  # noqa: PLC0415 - keep CLI start-up light
    from smscampaign.stages.recipients import load_recipients  # noqa: PLC0415

    recipients = load_recipients(
        args.file, sheet_name=args.sheet, phone_column=args.phone_column, encoding=args.encoding
    )
    return check_numbers(recipients)


#: First characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
_SIGNED_NUMBER = re.compile(r"[+-]\d+(?:\.\d+)?")


def _neutral(value: Any) -> Any:
    """A text cell that starts with a formula trigger, prefixed with ``'`` (the OWASP rule).

    Plain signed numbers (``+8613800138000``, ``-5``, ``+3.5``) are left alone: a spreadsheet reads
    them as numbers, never as a call, and an international mobile number stays as written.
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        if not _SIGNED_NUMBER.fullmatch(value):
            return "'" + value
    return value


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names cannot run as formulas when the CSV is
    opened in Excel or LibreOffice: those starting with ``= + - @``, tab, CR or LF get a leading ``'``.
    Numbers, dates and plain signed numbers (``+8613800138000``) are unchanged. Does not mutate
    ``frame``.

    >>> import pandas as pd
    >>> csv_safe(pd.DataFrame({"name": ["=1+1", "李雷", "+8613800138000"]}))["name"].tolist()
    ["'=1+1", '李雷', '+8613800138000']
    """
    import pandas as pd  # noqa: PLC0415 - keep CLI start-up light

    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if values.dtype == object or isinstance(values.dtype, pd.StringDtype):
            out[column] = values.map(_neutral, na_action="ignore").astype(values.dtype)
    out.columns = [_neutral(str(c)) if isinstance(c, str) else c for c in out.columns]
    return out


def _write_table(frame: pd.DataFrame, out: str) -> None:
    """``--out``: CSV in UTF-8 with a BOM, so that Excel reads the Chinese text; formula triggers
    neutralised (:func:`csv_safe`), since names and reply contents come from strangers."""
    path = Path(out)
    if path.suffix.lower() not in (".csv", ".tsv", ".txt"):
        raise UserError(f"--out must name a .csv file, not {out!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    csv_safe(frame).to_csv(
        path, index=False, encoding="utf-8-sig", sep="\t" if path.suffix.lower() == ".tsv" else ","
    )
    print(f"{len(frame)} rows written to {path}")


def _add_check(sub: argparse._SubParsersAction) -> None:
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
        _write_table(checked, args.out)
    return 0


def add_plan_options(parser: argparse.ArgumentParser, *, charset: bool = True) -> None:
    """``--template`` (required), ``--signature``, ``--suppress``, ``--sendtime``, ``--max-length``,
    ``--batch-size`` and (optionally) ``--charset``, as :func:`plan_campaign` takes them."""
    parser.add_argument(
        "--template",
        required=True,
        help="message text with {column} placeholders, e.g. '{姓名}您好，…回T退订'",
    )
    parser.add_argument("--signature", help="sender signature, e.g. 【演示商城】 (put at the end)")
    parser.add_argument("--suppress", metavar="FILE", help="list of numbers not to send to (opt-outs)")
    parser.add_argument(
        "--frequency-cap",
        metavar="N/WINDOW",
        help="skip numbers already sent N messages within WINDOW (e.g. 3/7d, 2/24h), per the "
        "campaign home's history (status capped)",
    )
    parser.add_argument(
        "--ignore-opt-outs",
        action="store_true",
        help="do not suppress the numbers that ever opted out (they are suppressed by default)",
    )
    parser.add_argument("--sendtime", help="scheduled time YYYY-MM-DD HH:MM:SS, Beijing time")
    parser.add_argument(
        "--max-length",
        type=int,
        default=MAX_LENGTH,
        help=f"characters a message (default {MAX_LENGTH})",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=MAX_NUMBERS,
        help=f"numbers a request (default {MAX_NUMBERS})",
    )
    if charset:
        parser.add_argument(
            "--charset",
            choices=list(CHARSETS),
            default="utf8",
            help="charset the content must fit (default utf8)",
        )
    parser.add_argument(
        "--on-too-long",
        choices=["skip", "error", "truncate"],
        default="skip",
        help="a message over --max-length: skip the row (default), stop with an error, or shorten "
        "the text (never the signature nor the opt-out)",
    )
    add_review_options(parser)
    parser.add_argument(
        "--review",
        choices=["block", "warn"],
        default="block",
        help="with --kind: rows with an error finding are blocked (default) or only reported",
    )
    parser.add_argument(
        "--any-time",
        action="store_true",
        help="lift the marketing quiet hours (by default marketing goes out 08:00-21:00 Beijing time)",
    )


def add_review_options(parser: argparse.ArgumentParser) -> None:
    """``--kind`` and ``--lexicon`` (see :func:`review_content`)."""
    parser.add_argument(
        "--kind",
        choices=["marketing", "notification"],
        help="review the content as marketing (opt-out required, quiet hours) or a notification",
    )
    parser.add_argument("--lexicon", metavar="FILE", help="words to refuse, one a line (with --kind)")


def make_plan(args: argparse.Namespace, checked: pd.DataFrame) -> Plan:
    """The plan for ``checked`` from the options of :func:`add_plan_options`."""
    from smscampaign.campaign.plan import plan_campaign  # noqa: PLC0415

    if args.lexicon and not args.kind:
        raise UserError("--lexicon needs --kind marketing or --kind notification")
    window: Any = "default"
    if getattr(args, "send_window", None):
        window = args.send_window
    if args.any_time:
        window = None
    return plan_campaign(
        checked,
        args.template,
        signature=args.signature,
        charset=getattr(args, "charset", None) or "utf8",
        max_length=args.max_length,
        batch_size=args.batch_size,
        suppress=args.suppress,
        sendtime=args.sendtime,
        on_too_long=args.on_too_long,
        kind=args.kind,
        lexicon=args.lexicon,
        review=args.review,
        send_window=window,
        frequency_cap=args.frequency_cap,
        respect_opt_outs=not args.ignore_opt_outs,
    )


_FIXES = {
    "too_long": "shorten the template (at most {max_length} characters with the signature), "
    "or pass --on-too-long truncate",
    "missing_field": "fill the empty columns named above, or remove their placeholders",
    "invalid": "check the phone column (--phone-column); `smscampaign check FILE` lists why",
    "suppressed": "every number is in the suppression list (--suppress)",
    "unencodable": "remove the characters named above, or send with the utf8 charset",
    "blocked": "fix the review findings (`smscampaign review FILE --template … --kind …`), "
    "or pass --review warn",
    "duplicate": "the first rows of these numbers are in another list",
}


def nothing_to_send(plan: Plan) -> str:
    """Why a plan sends nothing: counts by reason, the first rows and lengths, and the fix."""
    frame = plan.recipients
    rows = frame["source_row"] if "source_row" in frame.columns else pd_index(frame)
    lines = [f"nothing can be sent: all {len(frame):,} recipients are skipped"]
    fixes = []
    counts = sorted(plan.counts().items(), key=lambda item: -item[1])
    for status, count in counts:
        if not count or status == "ready":
            continue
        chosen = frame["status"] == status
        shown = []
        for row, length in list(zip(rows[chosen], frame.loc[chosen, "length"], strict=True))[:3]:
            shown.append(f"{row} ({length} characters)" if status == "too_long" else str(row))
        first = frame.loc[chosen, "reason"].dropna()
        why = f": {first.iloc[0]}" if len(first) and status != "too_long" else ""
        if status == "too_long":
            why = f"; at most {plan.max_length}"
        lines.append(f"  {status:<14}{count:>7}  rows {', '.join(shown)}{'…' if count > 3 else ''}{why}")
        if status in _FIXES:
            fixes.append(_FIXES[status].format(max_length=plan.max_length))
    if not len(frame):
        fixes.append("the list has no rows")
    lines.extend(f"fix: {fix}" for fix in fixes)
    return "\n".join(lines)


def pd_index(frame: pd.DataFrame) -> Any:
    """The index as a Series aligned with ``frame`` (row labels when there is no source_row)."""
    return frame.index.to_series(index=frame.index)


def _add_plan(sub: argparse._SubParsersAction) -> None:
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
        type=_window,
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
        _write_table(plan.to_frame(), args.out)
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


def _add_review(sub: argparse._SubParsersAction) -> None:
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


def _add_report(sub: argparse._SubParsersAction) -> None:
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
        "--out", metavar="XLSX", help="report workbook (default: beside the journal, <name>-report.xlsx)"
    )
    parser.add_argument(
        "--replies",
        metavar="FILE",
        help="replies to include (CSV/Excel with sender, content, receivetime)",
    )
    parser.set_defaults(func=_cmd_report)


def _cmd_report(args: argparse.Namespace) -> int:
    from smscampaign.campaign.send import read_journal  # noqa: PLC0415
    from smscampaign.reports.report import campaign_report, export_report  # noqa: PLC0415

    journal = Path(args.journal)
    if not journal.is_file():
        raise FileNotFoundError(f"no journal at {str(journal)!r}")
    results = read_journal(journal)
    replies = None
    if args.replies:
        from smscampaign.stages.recipients import load_recipients  # noqa: PLC0415

        replies = load_recipients(args.replies, phone_column="sender")
        replies = replies[[c for c in ("sender", "content", "receivetime") if c in replies.columns]]
    out = Path(args.out) if args.out else journal.with_name(f"{journal.stem}-report.xlsx")
    path = export_report(results, out, replies=replies)
    print(format_table(campaign_report(results)["summary"]))
    if results.attrs.get("summary"):  # what the last run printed: resumed: … accepted earlier, …
        print(f"last run: {results.attrs['summary']}")
    print(f"report written to {path}")
    return 0


def _add_sandbox(sub: argparse._SubParsersAction) -> None:
    from smscampaign import sandbox  # noqa: PLC0415

    parser = sub.add_parser(
        "sandbox",
        parents=[sandbox.build_parser()],
        add_help=False,
        help="serve a local simulator of the gateway",
        description="Serve a local simulator of the 短信通 gateway until "
        "interrupted. Prints its URL on the first line.",
    )
    parser.set_defaults(func=_cmd_sandbox)


def _cmd_sandbox(args: argparse.Namespace) -> int:
    from smscampaign import sandbox  # noqa: PLC0415

    return sandbox.serve(args)


# -- send (issue 5) ---------------------------------------------------------------------------------


def _window(text: str) -> tuple[str, str]:
    start, sep, end = text.partition("-")
    if not sep or not start.strip() or not end.strip():
        raise argparse.ArgumentTypeError(f"expected HH:MM-HH:MM such as 08:00-22:00, not {text!r}")
    return start.strip(), end.strip()


def _add_send(sub: argparse._SubParsersAction) -> None:
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
        choices=["balance"],
        help="settle unknown outcomes by the account balance (only if nobody else uses the account "
        "during the run)",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="seconds between the two balance readings of --reconcile balance (default 5)",
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
        type=_window,
        metavar="HH:MM-HH:MM",
        help="only send within this daily window, Beijing time (e.g. 08:00-22:00)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--report", metavar="PATH", help="also write the report workbook to PATH")
    parser.add_argument("--name", help="the campaign's name in the history (smscampaign history)")
    parser.set_defaults(func=_cmd_send)


def _cmd_send(args: argparse.Namespace) -> int:
    import importlib.util  # noqa: PLC0415 - keep CLI start-up light

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
            reconcile=args.reconcile,
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
        if importlib.util.find_spec("smscampaign.reports.report") is None:
            print("report: not available in this version", file=sys.stderr)
        else:
            from smscampaign.reports.report import export_report  # noqa: PLC0415

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
        return 130
    # 1 when re-running could still send something (failed or not sent); unknown is final unless asked.
    return 1 if counts.get("failed", 0) or counts.get("not_sent", 0) else 0


# -- replies, opt-outs and the account (issue 6) ------------------------------------------------------


def _secret_from_env(variable: str, option: str) -> str:
    """A secret from the environment variable the user named (secrets never come from argv)."""
    from smscampaign.core.settings import read_variable  # noqa: PLC0415

    value = read_variable(variable)
    if not value:
        raise UserError(f"{option}: environment variable {variable} is not set or empty")
    return value


def _write_or_print(frame: Any, out: str | None) -> None:
    """Save ``frame`` with :func:`_write_table` or print it."""
    if out:
        _write_table(frame, out)
    else:
        print(format_table(frame) if len(frame) else "(none)")


def _add_receive(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "receive",
        help="serve the reply-push receiver (waitress) and store replies",
        description="Serve the URL the gateway pushes replies to; each reply with the right key is "
        "stored once in --store. Prints the URL on the first line; Ctrl-C stops.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8081, help="port (0 = a free one; default 8081)")
    parser.add_argument(
        "--key-env",
        required=True,
        metavar="VAR",
        help="name of the environment variable holding the push key (通讯密钥)",
    )
    parser.add_argument(
        "--store", help="reply store (SQLite file, created if missing; default: the campaign home)"
    )
    parser.add_argument(
        "--charset",
        choices=list(CHARSETS),
        default="utf8",
        help="charset the gateway pushes in (default utf8)",
    )
    parser.add_argument("--threads", type=int, default=4, help="worker threads (default 4)")
    parser.set_defaults(func=_cmd_receive)


def _cmd_receive(args: argparse.Namespace) -> int:
    import signal  # noqa: PLC0415

    from smscampaign.campaign.replies import ReplyStore, serve_replies  # noqa: PLC0415

    key = _secret_from_env(args.key_env, "--key-env")

    def stop(*_: object) -> None:
        raise SystemExit(0)  # waitress ends its loop on SystemExit / KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    from smscampaign.memory.history import History  # noqa: PLC0415

    with ReplyStore(args.store) if args.store else History() as store:
        serve_replies(
            key,
            store,
            args.host,
            args.port,
            charset=args.charset,
            threads=args.threads,
            ready=lambda url: print(url, flush=True),
        )
    return 0


def _add_replies(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "replies",
        help="fetch the replies not fetched yet (get_sms)",
        description="Fetch every reply the gateway has not handed over yet; store them with --store, "
        "save them with --out, else print them.",
    )
    add_gateway_options(parser)
    parser.add_argument("--store", help="also add them to this reply store (SQLite)")
    parser.add_argument("--out", metavar="FILE.csv", help="write the replies to a CSV file")
    parser.set_defaults(func=_cmd_replies)


def _cmd_replies(args: argparse.Namespace) -> int:
    from smscampaign.campaign.replies import ReplyStore, fetch_replies  # noqa: PLC0415

    with open_gateway(args) as (gateway, _box), contextlib.ExitStack() as stack:
        store = stack.enter_context(ReplyStore(args.store)) if args.store else None
        replies = fetch_replies(gateway, store=store)
        if store is not None:
            _warn_undecoded(store)
    _write_or_print(replies, args.out)
    return 0


def _warn_undecoded(store: Any) -> None:
    """Replies whose bytes did not decode need a person: one may be an opt-out."""
    undecoded = store.undecoded()
    if not len(undecoded):
        return
    print(
        f"attention: {len(undecoded)} replies in {store.path} could not be decoded (raw bytes kept, "
        "decode_error); read them — one may be an opt-out:",
        file=sys.stderr,
    )
    for row in undecoded.itertuples(index=False):
        print(f"  {row.sender}  {row.receivetime:%Y-%m-%d %H:%M:%S}  {row.content}", file=sys.stderr)


def _add_opt_outs(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "opt-outs",
        help="numbers that replied 退订 / TD / STOP …, from a reply store",
        description="List the numbers whose reply is an opt-out keyword (T, TD, N, 退订, 退訂, 退, "
        "取消, 取消订阅, 取消訂閱, STOP, UNSUBSCRIBE …; case and full width ignored), ready to pass "
        "as a suppression list. Replies that could not be decoded are listed on stderr for a "
        "person to read.",
    )
    parser.add_argument("--store", help="reply store (SQLite; default: the campaign home's history)")
    parser.add_argument("--out", metavar="FILE.csv", help="write them to a CSV file (column mobile)")
    parser.add_argument(
        "--keyword",
        action="append",
        default=[],
        metavar="WORD",
        help="one more opt-out keyword (repeatable), besides the default list",
    )
    parser.set_defaults(func=_cmd_opt_outs)


def _cmd_opt_outs(args: argparse.Namespace) -> int:
    from pathlib import Path  # noqa: PLC0415

    from smscampaign.campaign.replies import OPT_OUT_KEYWORDS, ReplyStore, opt_outs  # noqa: PLC0415

    if args.store is None:  # the campaign home: opt-outs by reply and recorded ones (issue 13)
        from smscampaign.memory.history import History  # noqa: PLC0415

        with History() as history:
            _write_or_print(history.opt_outs()[["mobile"]], args.out)
        return 0
    if not Path(args.store).is_file():
        raise FileNotFoundError(f"no reply store at {args.store}")
    with ReplyStore(args.store) as store:
        numbers = opt_outs(store, keywords=(*OPT_OUT_KEYWORDS, *args.keyword))
        _warn_undecoded(store)
    _write_or_print(numbers.to_frame(), args.out)
    return 0


def _add_balance(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "balance",
        help="account balance, messages left, expiry (user_info)",
        description="Show the account's balance, messages left and expiry date.",
    )
    add_gateway_options(parser)
    parser.set_defaults(func=_cmd_balance)


def _cmd_balance(args: argparse.Namespace) -> int:
    from smscampaign.campaign.account import account_info  # noqa: PLC0415

    with open_gateway(args) as (gateway, _box):
        info = account_info(gateway)
    expires = info.expired_date.strftime(TIME_FORMAT) if info.expired_date else info.expired_text
    print(f"user id        {info.user_id}")
    print(f"messages left  {info.sms_left}")
    print(f"balance        {info.balance:.2f} yuan (spent {info.amount:.2f})")
    print(f"sent/received  {info.sms_send} / {info.sms_receive}")
    print(f"expires        {expires}{' (expired)' if info.expired else ''}")
    print(f"points         {info.point}")
    return 0


def _binding_parser(sub: argparse._SubParsersAction, name: str, verb: str, why: str) -> None:
    parser = sub.add_parser(
        name,
        help=f"{verb} the numbers of FILE ({why})",
        description=f"{verb.capitalize()} the numbers of FILE, normalised and de-duplicated, in "
        "calls of at most 500. Invalid numbers are reported, never sent.",
    )
    parser.add_argument("file", metavar="FILE", help="a list of numbers (.xlsx, .csv …)")
    add_gateway_options(parser)
    parser.add_argument("--out", metavar="FILE.csv", help="write one row per number to a CSV file")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=_cmd_binding, binding=name)


def _add_bind(sub: argparse._SubParsersAction) -> None:
    _binding_parser(sub, "bind", "bind", "so their replies reach the account")


def _add_unbind(sub: argparse._SubParsersAction) -> None:
    _binding_parser(sub, "unbind", "unbind", "their replies stop reaching the account")


def _cmd_binding(args: argparse.Namespace) -> int:
    from smscampaign.campaign.account import bind_numbers, unbind_numbers  # noqa: PLC0415
    from smscampaign.stages.recipients import load_recipients  # noqa: PLC0415

    recipients = load_recipients(args.file)
    mobiles = recipients[recipients.attrs["phone_column"]]
    action = bind_numbers if args.binding == "bind" else unbind_numbers
    with open_gateway(args) as (gateway, _box):
        result = action(gateway, mobiles, progress=False if args.no_progress else None)
    print(f"{len(result)} numbers ({result['mobile'].nunique()} distinct valid)")
    for status, count in result["status"].value_counts().items():
        print(f"  {status:<10}{count:>9}")
    if args.out:
        _write_or_print(result, args.out)
    return 0 if result["status"].isin(["bound", "unbound", "invalid", "duplicate"]).all() else 1


def _add_recharge(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "recharge",
        help="credit an account with a recharge card",
        description="Credit --account (default: your own) with a recharge card. The card password "
        "is read from the environment variable named by --card-pwd-env, never from argv.",
    )
    parser.add_argument("--card", required=True, metavar="NUMBER", help="recharge card number")
    parser.add_argument(
        "--card-pwd-env",
        required=True,
        metavar="VAR",
        help="name of the environment variable holding the card password",
    )
    parser.add_argument("--account", help="account to credit (default: the gateway account)")
    add_gateway_options(parser)
    parser.set_defaults(func=_cmd_recharge)


def _cmd_recharge(args: argparse.Namespace) -> int:
    from smscampaign.campaign.account import recharge  # noqa: PLC0415

    card_pwd = _secret_from_env(args.card_pwd_env, "--card-pwd-env")
    with open_gateway(args) as (gateway, _box):
        result = recharge(gateway, args.card, card_pwd, args.account or gateway.username)
    if result.ok:
        print(f"credited {result.sms} messages to {result.account}")
        return 0
    print(f"recharge refused: {result.info}", file=sys.stderr)
    return 1


# -- demo, notebooks (issue 20): the shipped sample data and notebooks ----------------------------


def _add_demo(sub: argparse._SubParsersAction) -> None:
    from smscampaign.notebook.demo import add_demo_options  # noqa: PLC0415 - keep CLI start-up light

    parser = sub.add_parser(
        "demo",
        help="a whole sandbox campaign on the shipped sample, ending in an Excel report",
        description="Load the shipped sample recipients, check, plan and send them to an in-process "
        "sandbox (no credentials, loopback only), let three customers reply, and write the report.",
    )
    add_demo_options(parser)
    parser.set_defaults(func=_cmd_demo)


def _cmd_demo(args: argparse.Namespace) -> int:
    from smscampaign.notebook.demo import run_demo  # noqa: PLC0415

    run_demo(args.out, recipients=args.recipients)
    return 0


def _add_notebooks(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "notebooks",
        help="copy the analyst notebooks and their sample data into a folder",
        description="Copy the notebooks to DIR/notebooks and the sample data they read to "
        "DIR/sample_data, ready to open in JupyterLab.",
    )
    parser.add_argument("dir", metavar="DIR", help="destination folder (created if missing)")
    parser.add_argument("--force", action="store_true", help="replace files that already exist")
    parser.set_defaults(func=_cmd_notebooks)


def _cmd_notebooks(args: argparse.Namespace) -> int:
    import importlib.util  # noqa: PLC0415

    from smscampaign.notebook.demo import copy_notebooks  # noqa: PLC0415

    written = copy_notebooks(args.dir, overwrite=args.force)
    books = [p for p in written if p.suffix == ".ipynb"]
    print(f"{len(books)} notebooks and {len(written) - len(books)} sample files copied to {args.dir}")
    print(f"open them with:  jupyter lab {Path(args.dir) / 'notebooks'}")
    if importlib.util.find_spec("jupyterlab") is None:
        print("(JupyterLab is not installed here: pip install 'smscampaign[notebook]')")
    return 0


def _add_history(sub: argparse._SubParsersAction) -> None:
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
    _write_or_print(table, args.out)
    return 0


def _add_compare(sub: argparse._SubParsersAction) -> None:
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
    from smscampaign.reports.compare import (  # noqa: PLC0415
        compare_campaigns,
        export_comparison,
        plot_comparison,
    )

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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smscampaign",
        description="Bulk SMS campaigns through the 短信通 gateway: check, plan, send, report.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, value in sorted(globals().items()):
        if name.startswith("_add_") and callable(value):
            value(sub)
    return parser


#: SmsCampaignError kinds that are the user's to fix (bad file, option, template, journal): exit 2.
USER_ERRORS: tuple[type[SmsCampaignError], ...] = (
    ConfigError,
    RecipientsError,
    TemplateError,
    PlanError,
    UnencodableContentError,
    JournalError,
)


_USER_OS_ERRORS = (UserError, FileNotFoundError, IsADirectoryError, NotADirectoryError)


def exit_code(exc: BaseException) -> int | None:
    """The exit code for an exception: 2 for the user's mistakes, 1 for the gateway's and the
    account's failures (unreachable, unreadable answer, negative code, balance); None for anything
    else — a bug, which shows its traceback."""
    if isinstance(exc, SmsCampaignError):
        return 2 if isinstance(exc, USER_ERRORS) else 1
    if isinstance(exc, _USER_OS_ERRORS):
        return 2
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (2 for user errors, 1 for gateway failures)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (SmsCampaignError, *_USER_OS_ERRORS) as exc:
        code = exit_code(exc)
        kind = "error" if code == 2 else "gateway error" if isinstance(exc, GatewayError) else "failed"
        print(f"smscampaign {args.command}: {kind}: {exc}", file=sys.stderr)
        return code or 1
    except KeyboardInterrupt:
        print(f"smscampaign {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into `head` and closed early: not an error worth a traceback.
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
