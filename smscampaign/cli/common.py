"""What several command groups share: the user's-mistake error, the gateway, recipient and plan options.

A command module registers its parser with these helpers and calls them from its handler::

    parser = subparsers.add_parser("balance", help="…")
    add_gateway_options(parser)            # --base-url, --charset, --sandbox
    ...
    with open_gateway(args) as (gateway, box):   # box is the Sandbox with --sandbox, else None
        ...

Nothing heavy is imported here at module level (pandas, the gateway, the planner): ``smscampaign --help``
imports every command module, so those imports wait inside the functions that need them.
"""

from __future__ import annotations

import argparse
import contextlib
import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

from smscampaign.wire.protocol import CHARSETS, MAX_LENGTH, MAX_NUMBERS

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd

    from smscampaign.campaign.plan import Plan
    from smscampaign.sandbox import Sandbox
    from smscampaign.wire.gateway import Gateway

#: What ``ArgumentParser.add_subparsers`` returns; every command module adds its commands to it.
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

DEMO_USER, DEMO_PASSWORD, DEMO_SMS = "demo", "demo-password", 10_000_000
#: The one gateway every ``--sandbox`` send is recorded under in the campaign home's send registry.
#: Each run starts its own sandbox on a new port, so its URL cannot be the key: under this fixed name
#: a second ``--sandbox`` run (from another journal, too) sees the first one's sends and sends
#: nobody twice. Not an ``http(s)://`` URL, so it never matches — nor holds back — a real gateway.
SANDBOX_REGISTRY_KEY = f"sandbox://{DEMO_USER}"


class UserError(Exception):
    """A mistake of the user's (bad option combination …): one line, exit 2."""


# -- the gateway ----------------------------------------------------------------------------------


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


def secret_from_env(variable: str, option: str) -> str:
    """A secret from the environment variable the user named (secrets never come from argv)."""
    from smscampaign.core.settings import read_variable  # noqa: PLC0415

    value = read_variable(variable)
    if not value:
        raise UserError(f"{option}: environment variable {variable} is not set or empty")
    return value


# -- the recipient list ---------------------------------------------------------------------------


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


# -- the plan -------------------------------------------------------------------------------------


def parse_window(text: str) -> tuple[str, str]:
    """``--send-window HH:MM-HH:MM`` as ``(start, end)``; argparse's ``type``."""
    start, sep, end = text.partition("-")
    if not sep or not start.strip() or not end.strip():
        raise argparse.ArgumentTypeError(f"expected HH:MM-HH:MM such as 08:00-22:00, not {text!r}")
    return start.strip(), end.strip()


def frequency_cap(text: str) -> str:
    """``--frequency-cap N/WINDOW`` checked as :func:`parse_frequency_cap` checks it (argparse's
    ``type``): ``0/7d``, ``3/0d``, ``-1/7d`` are refused with the format."""
    from smscampaign.campaign.caps import parse_frequency_cap  # noqa: PLC0415 - pandas, when used
    from smscampaign.core.errors import ConfigError  # noqa: PLC0415

    try:
        parse_frequency_cap(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


#: Options whose value may start with "-" (argparse takes ``-1/7d`` for an option and says only
#: "expected one argument"): :func:`join_dashed_values` hands such a value to the option's own check.
DASHED_VALUES = ("--frequency-cap",)


def join_dashed_values(argv: Sequence[str]) -> list[str]:
    """``["--frequency-cap", "-1/7d"]`` as ``["--frequency-cap=-1/7d"]`` (a value starting with
    a minus and a digit, after an option of :data:`DASHED_VALUES`); the rest as it is."""
    out: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg in DASHED_VALUES:
            value = next(args, None)
            if value is not None and re.match(r"-\d", value):
                out.append(f"{arg}={value}")
                continue
            out.append(arg)
            if value is not None:
                out.append(value)
            continue
        out.append(arg)
    return out


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
        type=frequency_cap,
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
    """The plan for ``checked`` from the options of :func:`add_plan_options`; a too-long message
    with ``--on-too-long error`` names the flag that fixes it."""
    from smscampaign.campaign.row_checks import TOO_LONG_FIX  # noqa: PLC0415
    from smscampaign.core.errors import TemplateError  # noqa: PLC0415

    if args.lexicon and not args.kind:
        raise UserError("--lexicon needs --kind marketing or --kind notification")
    window: Any = "default"
    if getattr(args, "send_window", None):
        window = args.send_window
    if args.any_time:
        window = None
    try:
        return _plan(args, checked, window)
    except TemplateError as exc:
        text = str(exc)
        if TOO_LONG_FIX not in text:
            raise
        # The library names its Python keyword; on the command line the fix is a flag.
        flag = "shorten the template or pass --on-too-long truncate (or skip)"
        raise TemplateError(text.replace(TOO_LONG_FIX, flag)) from None


def _plan(args: argparse.Namespace, checked: pd.DataFrame, window: Any) -> Plan:
    from smscampaign.campaign.plan import plan_campaign  # noqa: PLC0415

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
    """Why a plan sends nothing: counts by status, each reason with its first rows (lengths for
    too long ones), and the fix."""
    frame = plan.recipients
    rows = frame["source_row"] if "source_row" in frame.columns else pd_index(frame)
    lines = [f"nothing can be sent: all {len(frame):,} recipients are skipped"]
    fixes = []
    counts = sorted(plan.counts().items(), key=lambda item: -item[1])
    for status, count in counts:
        if not count or status == "ready":
            continue
        chosen = (frame["status"] == status).to_numpy(dtype=bool)
        head = f"  {status:<14}{count:>7}  "
        if status == "too_long":
            shown = [
                f"{row} ({length} characters)"
                for row, length in list(zip(rows[chosen], frame.loc[chosen, "length"], strict=True))[:3]
            ]
            more = "…" if count > 3 else ""
            lines.append(f"{head}rows {', '.join(shown)}{more}; at most {plan.max_length}")
        else:
            for i, part in enumerate(_by_reason(rows[chosen], frame.loc[chosen, "reason"])):
                lines.append((head if i == 0 else " " * len(head)) + part)
        if status == "duplicate" and not _first_rows_elsewhere(frame, chosen):
            continue  # their first rows are in this list: the fix is theirs
        if status in _FIXES:
            fixes.append(_FIXES[status].format(max_length=plan.max_length))
    if not len(frame):
        fixes.append("the list has no rows")
    lines.extend(f"fix: {fix}" for fix in fixes)
    return "\n".join(lines)


def _by_reason(rows: pd.Series, reasons: pd.Series, *, most: int = 4) -> list[str]:
    """``rows 7, 10, 12… (9): why`` for each reason of these rows, in order of first appearance
    (the first ``most``; then how many more reasons)."""
    texts = reasons.astype(object).where(reasons.notna(), "").to_numpy()
    labels = rows.astype(str).to_numpy()
    order = list(dict.fromkeys(texts.tolist()))
    parts = []
    for why in order[:most]:
        mine = labels[texts == why]
        more = f"… ({len(mine)})" if len(mine) > 3 else ""
        parts.append(f"rows {', '.join(mine[:3])}{more}{f': {why}' if why else ''}")
    if len(order) > most:
        parts.append(f"… and {len(order) - most} more reasons")
    return parts


def _first_rows_elsewhere(frame: pd.DataFrame, duplicates: Any) -> bool:
    """Whether some ``duplicates`` row has a number no other row of the plan has: its first row is
    in another list."""
    mobile = frame["mobile"].astype(object)
    return not mobile[duplicates].isin(set(mobile[~duplicates].dropna())).all()


def pd_index(frame: pd.DataFrame) -> Any:
    """The index as a Series aligned with ``frame`` (row labels when there is no source_row)."""
    return frame.index.to_series(index=frame.index)
