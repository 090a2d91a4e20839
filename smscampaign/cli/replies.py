"""``smscampaign receive``, ``replies`` and ``opt-outs``: the customers' replies, pushed or fetched,
and the numbers that opted out::

    PUSH_KEY=… smscampaign receive --key-env PUSH_KEY --port 8081
    smscampaign replies --store replies.sqlite
    smscampaign opt-outs --out suppress.csv
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import Any

from smscampaign.cli.common import Subparsers, add_gateway_options, open_gateway, secret_from_env
from smscampaign.cli.output import write_or_print
from smscampaign.wire.protocol import CHARSETS


def add_receive(sub: Subparsers) -> None:
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
    parser.add_argument(
        "--connection-limit",
        type=int,
        default=2000,
        help="connections served at once, slow ones included (default 2000); on the internet, "
        "put a reverse proxy in front (see the README)",
    )
    parser.set_defaults(func=_cmd_receive)


def _cmd_receive(args: argparse.Namespace) -> int:
    import signal  # noqa: PLC0415

    from smscampaign.campaign.replies import ReplyStore, serve_replies  # noqa: PLC0415

    key = secret_from_env(args.key_env, "--key-env")

    def stop(*_: object) -> None:
        raise SystemExit(0)  # waitress ends its loop on SystemExit / KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    _allow_descriptors(args.connection_limit + 64)
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
            connection_limit=args.connection_limit,
        )
    return 0


def _allow_descriptors(wanted: int) -> None:
    """Raise this process's soft limit of open files towards ``wanted`` (at most the hard limit):
    each connection the receiver keeps open is one."""
    try:
        import resource  # noqa: PLC0415 - POSIX only
    except ImportError:  # pragma: no cover - Windows
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def add_replies(sub: Subparsers) -> None:
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
    write_or_print(replies, args.out)
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


def add_opt_outs(sub: Subparsers) -> None:
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

    if args.store is None:  # the campaign home: opt-outs by reply and recorded ones
        from smscampaign.memory.history import History  # noqa: PLC0415

        with History() as history:
            write_or_print(history.opt_outs()[["mobile"]], args.out)
        return 0
    if not Path(args.store).is_file():
        raise FileNotFoundError(f"no reply store at {args.store}")
    with ReplyStore(args.store) as store:
        numbers = opt_outs(store, keywords=(*OPT_OUT_KEYWORDS, *args.keyword))
        _warn_undecoded(store)
    write_or_print(numbers.to_frame(), args.out)
    return 0
