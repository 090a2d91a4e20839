"""The sandbox's command line: ``python -m smscampaign.sandbox`` (also ``smscampaign sandbox``)."""

from __future__ import annotations

import argparse
import json
import signal
import threading
from collections.abc import Sequence

__all__ = ["build_parser", "main", "serve"]


def _parse_account(spec: str) -> tuple[str, str, int]:
    try:
        username, password, sms = spec.rsplit(":", 2)
        return username, password, int(sms)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected USER:PASSWORD:SMS, got {spec.split(':')[0]}:…"
        ) from None


def _parse_card(spec: str) -> tuple[str, str, int]:
    try:
        number, password, sms = spec.rsplit(":", 2)
        return number, password, int(sms)
    except ValueError:
        raise argparse.ArgumentTypeError("expected NUMBER:PASSWORD:SMS") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m smscampaign.sandbox",
        description="Serve a local simulator of the 短信通 gateway. Prints its URL on the first line.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (0 = a free port; default 8080)")
    parser.add_argument(
        "--account",
        action="append",
        type=_parse_account,
        default=[],
        metavar="USER:PASSWORD:SMS",
        help="create an account (repeatable)",
    )
    parser.add_argument(
        "--card",
        action="append",
        type=_parse_card,
        default=[],
        metavar="NUMBER:PASSWORD:SMS",
        help="create a recharge card (repeatable)",
    )
    parser.add_argument("--latency", type=float, default=0.0, help="seconds slept per request")
    parser.add_argument(
        "--faults",
        type=json.loads,
        default=None,
        help='fault probabilities as JSON, e.g. \'{"reset": 0.05, "http500": 0.05}\'',
    )
    parser.add_argument("--seed", type=int, default=None, help="seed for fault injection")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m smscampaign.sandbox``: serve until interrupted."""
    return serve(build_parser().parse_args(argv))


def serve(args: argparse.Namespace) -> int:
    """Serve a sandbox configured by the options of :func:`build_parser` until interrupted
    (also ``smscampaign sandbox``)."""
    from smscampaign.sandbox.box import Sandbox  # noqa: PLC0415 - starts no server at import

    box = Sandbox(args.host, args.port, latency=args.latency, faults=args.faults, seed=args.seed)
    for username, password, sms in args.account:
        box.add_account(username, password, sms_left=sms)
    for number, password, sms in args.card:
        box.add_card(number, password, sms=sms)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with box:
        print(box.url, flush=True)
        print(
            f"accounts: {', '.join(u for u, _, _ in args.account) or 'none'}; admin API at "
            f"{box.url}/_sandbox/",
            flush=True,
        )
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    return 0
