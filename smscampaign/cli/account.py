"""``smscampaign balance``, ``bind``, ``unbind`` and ``recharge``: the gateway account.

The card password of ``recharge`` comes from an environment variable, never from argv::

    smscampaign balance
    smscampaign bind customers.xlsx --out bound.csv
    CARD_PWD=… smscampaign recharge --card 1234567890 --card-pwd-env CARD_PWD
"""

from __future__ import annotations

import argparse
import sys

from smscampaign.cli.common import Subparsers, add_gateway_options, open_gateway, secret_from_env
from smscampaign.cli.output import write_or_print
from smscampaign.wire.protocol import TIME_FORMAT


def add_balance(sub: Subparsers) -> None:
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


def _binding_parser(sub: Subparsers, name: str, verb: str, why: str) -> None:
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


def add_bind(sub: Subparsers) -> None:
    _binding_parser(sub, "bind", "bind", "so their replies reach the account")


def add_unbind(sub: Subparsers) -> None:
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
        write_or_print(result, args.out)
    return 0 if result["status"].isin(["bound", "unbound", "invalid", "duplicate"]).all() else 1


def add_recharge(sub: Subparsers) -> None:
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

    card_pwd = secret_from_env(args.card_pwd_env, "--card-pwd-env")
    with open_gateway(args) as (gateway, _box):
        result = recharge(gateway, args.card, card_pwd, args.account or gateway.username)
    if result.ok:
        print(f"credited {result.sms} messages to {result.account}")
        return 0
    print(f"recharge refused: {result.info}", file=sys.stderr)
    return 1
