"""The ``smscampaign`` command line.

Credentials come from ``SMSCAMPAIGN_USERNAME`` / ``SMSCAMPAIGN_PASSWORD`` / ``SMSCAMPAIGN_BASE_URL`` /
``SMSCAMPAIGN_CHARSET`` (read by :meth:`Gateway.from_env`, never from argv); ``--sandbox`` runs against
an in-process sandbox with a demo account instead (``send --sandbox`` runs are all one gateway,
:data:`SANDBOX_REGISTRY_KEY`, to the campaign home's send registry). User errors print one clear line
and exit 2;
gateway and account failures (the gateway unreachable, its answer unreadable, a negative code) print one
line and exit 1; anything else is a bug and shows its traceback. Every CSV written neutralises formulas.

One module per command group, as DVC's ``dvc/commands/*.py``; each gives one ``add_<command>
(subparsers)`` per command, which registers the command's parser and its handler (``func``)::

    common     UserError, gateway / recipient / plan options, open_gateway, load_checked, make_plan
    output     csv_safe, write_table, write_or_print (every --out)
    lists      check
    planning   plan, review
    sending    send
    reporting  report, history, compare
    replies    receive, replies, opt-outs
    account    balance, bind, unbind, recharge
    tools      demo, notebooks, sandbox

:data:`COMMANDS` lists them in the order ``smscampaign --help`` shows. The command modules import
nothing heavy at module level (pandas, the gateway, the planner …): a command's handler imports what
it needs when it runs, so ``smscampaign --help`` starts fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from smscampaign.cli import account, lists, planning, replies, reporting, sending, tools
from smscampaign.cli.common import (
    DEMO_PASSWORD,
    DEMO_SMS,
    DEMO_USER,
    SANDBOX_REGISTRY_KEY,
    Subparsers,
    UserError,
)
from smscampaign.cli.output import csv_safe
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

__all__ = [
    "COMMANDS",
    "DEMO_PASSWORD",
    "DEMO_SMS",
    "DEMO_USER",
    "SANDBOX_REGISTRY_KEY",
    "USER_ERRORS",
    "UserError",
    "build_parser",
    "csv_safe",
    "exit_code",
    "main",
]

#: Every command, in the order ``smscampaign --help`` lists them (by name).
COMMANDS: list[Callable[[Subparsers], None]] = [
    account.add_balance,
    account.add_bind,
    lists.add_check,
    reporting.add_compare,
    tools.add_demo,
    reporting.add_history,
    tools.add_notebooks,
    replies.add_opt_outs,
    planning.add_plan,
    replies.add_receive,
    account.add_recharge,
    replies.add_replies,
    reporting.add_report,
    planning.add_review,
    tools.add_sandbox,
    sending.add_send,
    account.add_unbind,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smscampaign",
        description="Bulk SMS campaigns through the 短信通 gateway: check, plan, send, report.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add_command in COMMANDS:
        add_command(sub)
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
        if isinstance(exc, OSError):  # the world failing (a full disk, the home gone): not the user's
            return 1
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
    except KeyboardInterrupt as exc:
        if isinstance(exc, sending.Terminated):
            print(f"smscampaign {args.command}: terminated ({exc.signal.name})", file=sys.stderr)
            return 128 + exc.signal
        print(f"smscampaign {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into `head` and closed early: not an error worth a traceback.
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
