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
    home       home info, home copy
    outcomes   outcomes (did it sell? lift against the hold-out)
    replies    receive, replies, opt-outs
    account    balance, bind, unbind, recharge
    tools      demo, notebooks, sandbox

:data:`COMMANDS` lists them in the order ``smscampaign --help`` shows. The command modules import
nothing heavy at module level (pandas, the gateway, the planner …): a command's handler imports what
it needs when it runs, so ``smscampaign --help`` starts fast.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Callable, Sequence

from smscampaign.cli import account, home, lists, outcomes, planning, replies, reporting, sending, tools
from smscampaign.cli.common import (
    DEMO_PASSWORD,
    DEMO_SMS,
    DEMO_USER,
    SANDBOX_REGISTRY_KEY,
    Subparsers,
    UserError,
    join_dashed_values,
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
    home.add_home,
    tools.add_notebooks,
    replies.add_opt_outs,
    outcomes.add_outcomes,
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


class Parser(argparse.ArgumentParser):
    """argparse's parser that names an unknown option first, with the closest known one
    (``unknown option --tempalte, did you mean --template?``), instead of complaining about a
    required option it took for missing. Every command's parser is one (``add_subparsers`` makes
    its parsers of the parent's class). Python 3.14's ``suggest_on_error`` does the like for
    choices only, and not before 3.14."""

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        self._check_options(list(sys.argv[1:] if args is None else args))
        return super().parse_known_args(args, namespace)

    def _check_options(self, args: list[str]) -> None:
        commands = any(isinstance(a, argparse._SubParsersAction) for a in self._actions)
        known = sorted(self._option_string_actions)
        for arg in args:
            if arg == "--":
                return
            if not arg.startswith("-") or arg == "-" or self._negative_number_matcher.match(arg):
                if commands:  # the command's own parser checks what follows its name
                    return
                continue
            name = arg.split("=", 1)[0]
            if name in known or (
                self.allow_abbrev
                and name.startswith("--")
                and any(option.startswith(name) for option in known)
            ):
                continue
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
            hint = f", did you mean {close[0]}?" if close else f" (see {self.prog} --help)"
            self.error(f"unknown option {name}{hint}")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="smscampaign",
        description="Bulk SMS campaigns through the 短信通 gateway: check, plan, send, report.",
    )
    # Every command's parser is a Parser too (argparse makes them of the parent's class).
    sub: Subparsers = parser.add_subparsers(  # type: ignore[assignment]
        dest="command", metavar="COMMAND", required=True
    )
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
    args = parser.parse_args(join_dashed_values(sys.argv[1:] if argv is None else argv))
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
