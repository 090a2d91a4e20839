"""A faithful local simulator of the 短信通 gateway, for demos, notebooks, tests and benchmarks.

It serves every endpoint of the protocol written down in ``docs/protocol.md``
(``/{utf8|gbk|big5}/interface/{name}.aspx``, GET and POST, plus the vendor plugins' ``user_stat``,
``send_voice`` and ``/{charset}/sendsms.aspx``) on 127.0.0.1, with accounts, balances, bound numbers,
replies (fetched and pushed), recharge cards, an IP allow-list, maintenance mode, every return code and
fault injection, and it records every message it accepts in :attr:`Sandbox.ledger` — the ground truth
tests compare with.

In-process::

    with Sandbox() as box:
        box.add_account("demo", "secret", sms_left=1000)
        gw = box.gateway("demo", "secret", charset="gbk")
        gw.send_sms(["13800138000"], "您好【小店】")
        box.ledger                      # one row per accepted receiver

Standalone, for other processes (the URL is the first line printed)::

    python -m smscampaign.sandbox --port 8080 --account demo:secret:10000 --latency 0.01

with a JSON admin API under ``/_sandbox/``: ``GET ledger``, ``GET accounts``, ``GET calls``,
``GET pushes``, ``GET voice``, ``POST accounts``, ``POST reply``, ``POST cards``, ``POST maintenance``,
``POST faults``, ``POST fail_next``, ``POST balance`` (``{"account": "demo", "delta": -3}``: a
deduction or recharge behind the client's back, see :meth:`Sandbox.adjust_balance`).

Its modules: :mod:`~smscampaign.sandbox.engine` (state and protocol, no sockets:
``Engine.handle(method, target, body, headers, client_ip) -> Answer``; its parts ``request``,
``endpoints``, ``state`` and ``answers`` beside it), :mod:`~smscampaign.sandbox.server` (HTTP/1.1
server and admin API), :mod:`~smscampaign.sandbox.box` (:class:`Sandbox`, the engine served) and
:mod:`~smscampaign.sandbox.cli` (the command line). Behaviour where the provider's document is silent is
``docs/protocol.md``'s "our assumption", implemented exactly: validation order (empty account fields,
credentials, IP, frozen, expired, empty receiver / content, more than 500 numbers, more than 70 UTF-16
units, malformed numbers, sendtime, balance); one message deducted per receiver at acceptance, scheduled
sends included; ``bind_mobile`` / ``cancel_bind`` are all-or-nothing; ``get_sms`` returns at most
``page_size`` replies a call. Faults (``faults=dict(reset=p, delay=seconds, delay_p=p, http500=p,
garbage=p)``, drawn from a seeded generator in that order): ``http500`` answers 500 *before* processing;
``reset`` processes the request and then drops the connection without an answer; ``garbage`` processes
it and answers non-XML bytes; ``delay`` processes it and answers ``delay`` seconds late — so every fault
but ``http500`` leaves the client unable to know whether the gateway acted, exactly like the real thing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from smscampaign.sandbox.cli import build_parser, main, serve

if TYPE_CHECKING:
    from smscampaign.sandbox.box import Sandbox
    from smscampaign.sandbox.engine import LEDGER_COLUMNS, Answer, Engine

__all__ = ["LEDGER_COLUMNS", "Answer", "Engine", "Sandbox", "build_parser", "main", "serve"]

# The simulator loads requests and the HTTP server on first use, not when `smscampaign --help` reads
# the sandbox command's options (PEP 562, as the package's own __init__ does).
_LAZY = {
    "Sandbox": "smscampaign.sandbox.box",
    "LEDGER_COLUMNS": "smscampaign.sandbox.engine",
    "Answer": "smscampaign.sandbox.engine",
    "Engine": "smscampaign.sandbox.engine",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value
