"""The ``smscampaign`` command line.

Credentials come from ``SMSCAMPAIGN_USERNAME`` / ``SMSCAMPAIGN_PASSWORD`` / ``SMSCAMPAIGN_BASE_URL`` /
``SMSCAMPAIGN_CHARSET`` (read by :meth:`Gateway.from_env`, never from argv); ``--sandbox`` runs against
an in-process sandbox with a demo account instead. User errors print one clear line and exit 2.

Each subcommand is a pair ``_add_<name>(subparsers)`` / ``_cmd_<name>(args) -> int``, registered in
:func:`build_parser`.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator, Sequence

from smscampaign.errors import SmsCampaignError
from smscampaign.gateway import Gateway
from smscampaign.sandbox import Sandbox

__all__ = ["build_parser", "main"]

DEMO_USER, DEMO_PASSWORD, DEMO_SMS = "demo", "demo-password", 10_000_000


class UserError(Exception):
    """A mistake of the user's (bad option combination …): one line, exit 2."""


# -- shared options -------------------------------------------------------------------------------


def add_gateway_options(parser: argparse.ArgumentParser, *, sandbox: bool = True) -> None:
    """``--base-url``, ``--charset`` and (optionally) ``--sandbox``."""
    parser.add_argument("--base-url", help="gateway host (default: $SMSCAMPAIGN_BASE_URL or the real host)")
    parser.add_argument("--charset", choices=["utf8", "gbk", "big5"],
                        help="endpoint charset (default: $SMSCAMPAIGN_CHARSET or utf8)")
    if sandbox:
        parser.add_argument("--sandbox", action="store_true",
                            help="run against an in-process sandbox with a demo account")


@contextlib.contextmanager
def open_gateway(args: argparse.Namespace, *, sandbox_sms: int = DEMO_SMS) -> Iterator[tuple[Gateway, Sandbox | None]]:
    """The gateway the command talks to: the in-process sandbox with ``--sandbox``, else the
    environment's credentials (``--base-url`` / ``--charset`` override)."""
    if getattr(args, "sandbox", False):
        with Sandbox() as box:
            box.add_account(DEMO_USER, DEMO_PASSWORD, sms_left=sandbox_sms)
            with box.gateway(DEMO_USER, DEMO_PASSWORD, charset=args.charset or "utf8") as gw:
                yield gw, box
        return
    with Gateway.from_env(base_url=args.base_url, charset=args.charset) as gw:
        yield gw, None


# -- subcommands (each issue adds its own pair below) ------------------------------------------------


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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (2 for user errors, 1 for gateway failures)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (UserError, FileNotFoundError, IsADirectoryError, ValueError) as exc:
        print(f"smscampaign {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except SmsCampaignError as exc:
        print(f"smscampaign {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"smscampaign {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
