"""A faithful local simulator of the 短信通 gateway, for demos, notebooks, tests and benchmarks.

It serves every endpoint of PROTOCOL.md (``/{utf8|gbk|big5}/interface/{name}.aspx``, GET and POST) on
127.0.0.1, with accounts, balances, bound numbers, replies (fetched and pushed), recharge cards, an IP
allow-list, maintenance mode, every return code and fault injection, and it records every message it
accepts in :attr:`Sandbox.ledger` — the ground truth tests compare with.

In-process::

    with Sandbox() as box:
        box.add_account("demo", "secret", sms_left=1000)
        gw = box.gateway("demo", "secret", charset="gbk")
        gw.send_sms(["13800138000"], "您好【小店】")
        box.ledger                      # one row per accepted receiver

Standalone, for other processes (the URL is the first line printed)::

    python -m smscampaign.sandbox --port 8080 --account demo:secret:10000 --latency 0.01

with a JSON admin API under ``/_sandbox/``: ``GET ledger``, ``GET accounts``, ``GET calls``,
``POST accounts``, ``POST reply``, ``POST cards``, ``POST maintenance``, ``POST faults``,
``POST fail_next``.

Behaviour where the provider's document is silent is PROTOCOL.md's "our assumption", implemented
exactly: validation order (empty account fields, credentials, IP, frozen, expired, empty receiver /
content, more than 500 numbers, more than 70 UTF-16 units, malformed numbers, sendtime, balance);
``bind_mobile`` / ``cancel_bind`` are all-or-nothing; ``get_sms`` returns at most ``page_size`` replies a
call. Faults (``faults=dict(reset=p, delay=seconds, delay_p=p, http500=p, garbage=p)``, drawn from a
seeded generator in that order): ``http500`` answers 500 *before* processing; ``reset`` processes the
request and then drops the connection without an answer; ``garbage`` processes it and answers non-XML
bytes; ``delay`` processes it and answers ``delay`` seconds late — so every fault but ``http500`` leaves
the client unable to know whether the gateway acted, exactly like the real thing.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import re
import signal
import socket
import struct
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit
from xml.sax.saxutils import escape

import requests

from smscampaign.codes import CODES
from smscampaign.gateway import Gateway
from smscampaign.protocol import (
    BEIJING,
    CHARSETS,
    ENDPOINTS,
    MAX_LENGTH,
    MAX_NUMBERS,
    TIME_FORMAT,
    sms_length,
)

if TYPE_CHECKING:  # ledger/calls import pandas: ``smscampaign --help`` starts without it
    import pandas as pd

__all__ = ["LEDGER_COLUMNS", "Sandbox", "main"]

logger = logging.getLogger(__name__)

LEDGER_COLUMNS = ["account", "receiver", "content", "sendtime", "request_id", "accepted_at"]
_MOBILE = re.compile(r"1[3-9]\d{9}")
_DECLARED = {"utf8": "utf-8", "gbk": "gbk", "big5": "big5"}
_SUCCESS_TEXT = {
    "send_sms": "短信发送成功",
    "bind_mobile": "绑定手机成功",
    "get_sms": "获取上行短信成功",
    "cancel_bind": "取消绑定成功",
    "user_info": "获取用户信息成功",
    "recharge": "充值成功",
}
_FAULT_KEYS = {"reset", "delay", "delay_p", "http500", "garbage"}


def _now() -> datetime:
    """Beijing wall-clock time, naive (the gateway's own clock)."""
    return datetime.now(BEIJING).replace(tzinfo=None)


@dataclass
class _Account:
    username: str
    password: str = field(repr=False)
    user_id: int
    sms_left: int
    balance: float
    expired: bool
    frozen: bool
    allowed_ips: tuple[str, ...] | None
    push_url: str | None
    push_key: str | None = field(repr=False)
    push_charset: str
    amount: float = 0.0
    sms_send: int = 0
    sms_receive: int = 0
    point: int = 0
    replies: list[dict[str, Any]] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        """The account as the admin API shows it: no password, no push key."""
        return {
            "username": self.username,
            "user_id": self.user_id,
            "sms_left": self.sms_left,
            "balance": self.balance,
            "amount": self.amount,
            "sms_send": self.sms_send,
            "sms_receive": self.sms_receive,
            "expired": self.expired,
            "frozen": self.frozen,
            "allowed_ips": list(self.allowed_ips) if self.allowed_ips is not None else None,
            "push_url": self.push_url,
            "bound": None,
        }

    def expired_date(self) -> str:
        now = _now()
        date = now - timedelta(days=1) if self.expired else now + timedelta(days=365)
        return date.strftime(TIME_FORMAT)


@dataclass
class _Card:
    number: str
    password: str = field(repr=False)
    sms: int
    amount: float
    used: bool = False


class _Answer(Exception):
    """Raised inside an endpoint to answer with a return code."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class Sandbox:
    """The simulated gateway: a threaded HTTP server on ``host:port`` (a free port by default).

    ``latency`` seconds are slept before each interface request; ``faults`` and ``seed`` inject
    failures (see the module docstring); ``page_size`` caps the replies one ``get_sms`` returns.
    Use it as a context manager (``with Sandbox() as box``) or call :meth:`start` / :meth:`stop`.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        latency: float = 0.0,
        faults: dict[str, float] | None = None,
        seed: int | None = None,
        page_size: int = 100,
    ) -> None:
        self.host = host
        self.port = port
        self.latency = latency
        self.page_size = page_size
        self.maintenance = False
        self._faults: dict[str, float] = {}
        self.faults = faults or {}
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._accounts: dict[str, _Account] = {}
        self._cards: dict[str, _Card] = {}
        self._bound: dict[str, str] = {}  # mobile -> username
        self._forced: dict[str, list[int]] = {}
        self._ledger: list[tuple[Any, ...]] = []
        self._calls: list[tuple[Any, ...]] = []
        self._pushes: list[dict[str, Any]] = []
        self._request_id = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._push_session = requests.Session()

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> Sandbox:
        """Start serving in a background thread; returns self."""
        if self._server is not None:
            return self
        handler = type("_BoundHandler", (_Handler,), {"sandbox": self})
        self._server = _Server((self.host, self.port), handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=f"sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()
        logger.info("sandbox serving at %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket and open connections."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.close_all()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None
        self._push_session.close()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = self.url if self._server is not None else "stopped"
        return f"Sandbox({state}, accounts={len(self._accounts)}, ledger={len(self._ledger)})"

    @property
    def url(self) -> str:
        """Base URL to give a :class:`~smscampaign.gateway.Gateway`, e.g. ``http://127.0.0.1:50123``."""
        return f"http://{self.host}:{self.port}"

    def gateway(
        self, username: str, password: str, *, charset: str = "utf8", method: str = "POST", **kwargs: Any
    ) -> Gateway:
        """A :class:`~smscampaign.gateway.Gateway` pointed at this sandbox."""
        return Gateway(username, password, base_url=self.url, charset=charset, method=method, **kwargs)

    # -- state -------------------------------------------------------------------------------------

    @property
    def faults(self) -> dict[str, float]:
        """Current fault probabilities (``reset``, ``delay``, ``delay_p``, ``http500``, ``garbage``)."""
        return dict(self._faults)

    @faults.setter
    def faults(self, value: dict[str, float]) -> None:
        unknown = set(value) - _FAULT_KEYS
        if unknown:
            raise ValueError(f"unknown fault(s) {sorted(unknown)}; known: {sorted(_FAULT_KEYS)}")
        self._faults = {k: float(v) for k, v in value.items()}

    def add_account(
        self,
        username: str,
        password: str,
        sms_left: int = 1000,
        balance: float = 0.0,
        expired: bool = False,
        frozen: bool = False,
        allowed_ips: Sequence[str] | None = None,
        push_url: str | None = None,
        push_key: str | None = None,
        push_charset: str = "utf8",
    ) -> None:
        """Create (or replace) an account. ``allowed_ips`` restricts client addresses (−104)."""
        if push_charset not in CHARSETS:
            raise ValueError(f"push_charset must be one of {list(CHARSETS)}")
        with self._lock:
            old = self._accounts.get(username)
            self._accounts[username] = _Account(
                username=username,
                password=password,
                user_id=old.user_id if old else 10000 + len(self._accounts) + 1,
                sms_left=int(sms_left),
                balance=float(balance),
                expired=expired,
                frozen=frozen,
                allowed_ips=tuple(allowed_ips) if allowed_ips is not None else None,
                push_url=push_url,
                push_key=push_key,
                push_charset=push_charset,
            )

    def update_account(self, username: str, **changes: Any) -> None:
        """Change an account's state, e.g. ``update_account("demo", frozen=True, sms_left=0)``."""
        allowed = {
            "sms_left",
            "balance",
            "expired",
            "frozen",
            "allowed_ips",
            "push_url",
            "push_key",
            "push_charset",
        }
        unknown = set(changes) - allowed
        if unknown:
            raise ValueError(f"cannot change {sorted(unknown)}; changeable: {sorted(allowed)}")
        with self._lock:
            account = self._accounts[username]
            for key, value in changes.items():
                if key == "allowed_ips" and value is not None:
                    value = tuple(value)
                setattr(account, key, value)

    def account(self, username: str) -> dict[str, Any]:
        """A snapshot of one account (no password), including its bound numbers."""
        with self._lock:
            info = self._accounts[username].public()
            info["bound"] = sorted(m for m, u in self._bound.items() if u == username)
            return info

    def add_card(self, number: str, password: str, sms: int = 100, amount: float = 0.0) -> None:
        """Create a single-use recharge card worth ``sms`` messages (and ``amount`` yuan)."""
        with self._lock:
            self._cards[number] = _Card(number, password, int(sms), float(amount))

    def fail_next(self, endpoint: str, code: int, times: int = 1) -> None:
        """Answer the next ``times`` valid requests to ``endpoint`` with ``code``.

        For codes the gateway cannot be driven to by state (−100, −108, −109, −120, −121, −124, −126 …).
        ``send_sms`` with −109 (deduction failed) *does* record the messages, as the real one would.
        """
        if endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {endpoint!r}")
        with self._lock:
            self._forced.setdefault(endpoint, []).extend([int(code)] * times)

    def reply(
        self, sender: str, content: str, account: str, receivetime: datetime | str | None = None
    ) -> bool:
        """A mobile user replies. Queued for ``account`` only if ``sender`` is bound to it
        (returns False otherwise); pushed to the account's ``push_url`` if it has one."""
        if isinstance(receivetime, datetime):
            receivetime = receivetime.strftime(TIME_FORMAT)
        when = receivetime or _now().strftime(TIME_FORMAT)
        with self._lock:
            target = self._accounts.get(account)
            if target is None or self._bound.get(sender) != account:
                return False
            item = {"sender": sender, "content": content, "receivetime": when, "fetched": False}
            target.replies.append(item)
            target.sms_receive += 1
            url, key, charset = target.push_url, target.push_key, target.push_charset
        if url:
            self._push(item, url, key, charset)
        return True

    def _push(self, item: dict[str, Any], url: str, key: str | None, charset: str) -> None:
        form = {
            "sender": item["sender"],
            "content": item["content"],
            "receivetime": item["receivetime"],
            "key": key or "",
        }
        body = urlencode(form, encoding=CHARSETS[charset], errors="xmlcharrefreplace")
        outcome: dict[str, Any] = {"url": url, "sender": item["sender"], "status": None, "ok": False}
        try:
            answer = self._push_session.post(
                url,
                data=body.encode("ascii"),
                timeout=5,
                headers={"Content-Type": f"application/x-www-form-urlencoded; charset={charset}"},
            )
            outcome["status"] = answer.status_code
            outcome["ok"] = answer.status_code == 200 and answer.text.strip().lower() == "ok"
        except requests.RequestException as exc:
            outcome["error"] = type(exc).__name__
        with self._lock:
            self._pushes.append(outcome)

    @property
    def ledger(self) -> pd.DataFrame:
        """Every message accepted, one row per receiver:
        ``account, receiver, content, sendtime, request_id, accepted_at``."""
        import pandas as pd  # noqa: PLC0415 - keep start-up light

        with self._lock:
            rows = list(self._ledger)
        frame = pd.DataFrame(rows, columns=LEDGER_COLUMNS)
        frame["accepted_at"] = pd.to_datetime(frame["accepted_at"])
        return frame

    @property
    def calls(self) -> pd.DataFrame:
        """Every interface request seen: ``endpoint, method, charset, username, code, fault, at``
        (``code`` is None where a fault answered instead)."""
        import pandas as pd  # noqa: PLC0415

        with self._lock:
            rows = list(self._calls)
        return pd.DataFrame(
            rows, columns=["endpoint", "method", "charset", "username", "code", "fault", "at"]
        )

    @property
    def pushes(self) -> list[dict[str, Any]]:
        """Outcome of every reply push: ``url, sender, status, ok``."""
        with self._lock:
            return list(self._pushes)

    # -- protocol ----------------------------------------------------------------------------------

    def _draw_faults(self) -> tuple[bool, bool, bool, float]:
        """(http500, reset, garbage, delay seconds) for one request."""
        f = self._faults
        if not f:
            return False, False, False, 0.0
        with self._lock:
            r = self._rng.random
            http500 = r() < f.get("http500", 0.0)
            reset = r() < f.get("reset", 0.0)
            garbage = r() < f.get("garbage", 0.0)
            delay = f.get("delay", 0.0) if r() < f.get("delay_p", 0.0) else 0.0
        return http500, reset, garbage, delay

    def _handle(self, endpoint: str, params: dict[str, str], client_ip: str) -> tuple[int, list[Any]]:
        """Run one interface request; returns (code, extra XML elements)."""
        with self._lock:
            try:
                if self.maintenance:
                    raise _Answer(-101)
                account = self._authenticate(params, client_ip)
                handler = getattr(self, f"_ep_{endpoint}")
                return handler(account, params)
            except _Answer as answer:
                return answer.code, []

    def _authenticate(self, params: dict[str, str], client_ip: str) -> _Account:
        username, password = params.get("username", "").strip(), params.get("password", "")
        if not username:
            raise _Answer(-110)
        if not password:
            raise _Answer(-111)
        account = self._accounts.get(username)
        if account is None:
            raise _Answer(-102)
        if password != account.password:
            raise _Answer(-103)
        if account.allowed_ips is not None and client_ip not in account.allowed_ips:
            raise _Answer(-104)
        if account.frozen:
            raise _Answer(-105)
        if account.expired:
            raise _Answer(-106)
        return account

    def _forced_code(self, endpoint: str) -> int | None:
        queue = self._forced.get(endpoint)
        return queue.pop(0) if queue else None

    @staticmethod
    def _numbers(raw: str) -> list[str]:
        numbers = [n.strip() for n in raw.split(",") if n.strip()]
        if not numbers:
            raise _Answer(-112)
        return numbers

    @staticmethod
    def _check_numbers(numbers: list[str]) -> None:
        if len(numbers) > MAX_NUMBERS:
            raise _Answer(-117)

    @classmethod
    def _mobiles(cls, raw: str) -> list[str]:
        """The ``mobile`` list of bind_mobile / cancel_bind.

        −112 if empty, −117 over 500 numbers, −119 if one is malformed."""
        numbers = cls._numbers(raw)
        cls._check_numbers(numbers)
        if not all(_MOBILE.fullmatch(n) for n in numbers):
            raise _Answer(-119)
        return numbers

    @staticmethod
    def _check_sendtime(raw: str) -> str | None:
        raw = raw.strip()
        if not raw:
            return None
        try:
            when = datetime.strptime(raw, TIME_FORMAT)
        except ValueError:
            raise _Answer(-114) from None
        now = _now()
        if when <= now:
            raise _Answer(-115)
        if when > now + timedelta(days=365):
            raise _Answer(-116)
        return raw

    def _ep_send_sms(self, account: _Account, params: dict[str, str]) -> tuple[int, list[Any]]:
        numbers = self._numbers(params.get("receiver", ""))
        content = params.get("content", "")
        if not content.strip():
            raise _Answer(-113)
        self._check_numbers(numbers)
        if sms_length(content) > MAX_LENGTH:
            raise _Answer(-118)
        if not all(_MOBILE.fullmatch(n) for n in numbers):
            raise _Answer(-119)
        sendtime = self._check_sendtime(params.get("sendtime", ""))
        if account.sms_left < len(numbers):
            raise _Answer(-107)
        forced = self._forced_code("send_sms")
        if forced is not None and forced != -109:
            raise _Answer(forced)
        self._request_id += 1
        request_id = self._request_id
        accepted_at = _now()
        self._ledger.extend(
            (account.username, n, content, sendtime, request_id, accepted_at) for n in numbers
        )
        account.sms_send += len(numbers)
        if forced == -109:  # sent, but the deduction failed
            raise _Answer(-109)
        account.sms_left -= len(numbers)
        return request_id, []

    def _ep_bind_mobile(self, account: _Account, params: dict[str, str]) -> tuple[int, list[Any]]:
        numbers = self._mobiles(params.get("mobile", ""))
        if any(self._bound.get(n, account.username) != account.username for n in numbers):
            raise _Answer(-123)
        forced = self._forced_code("bind_mobile")
        if forced is not None:
            raise _Answer(forced)
        distinct = dict.fromkeys(numbers)
        for n in distinct:
            self._bound[n] = account.username
        return len(distinct), []

    def _ep_cancel_bind(self, account: _Account, params: dict[str, str]) -> tuple[int, list[Any]]:
        numbers = self._mobiles(params.get("mobile", ""))
        if any(self._bound.get(n) != account.username for n in numbers):
            raise _Answer(-125)
        forced = self._forced_code("cancel_bind")
        if forced is not None:
            raise _Answer(forced)
        distinct = dict.fromkeys(numbers)
        for n in distinct:
            del self._bound[n]
        return len(distinct), []

    def _ep_get_sms(self, account: _Account, params: dict[str, str]) -> tuple[int, list[Any]]:
        forced = self._forced_code("get_sms")
        if forced is not None:
            raise _Answer(forced)
        pending = [r for r in account.replies if not r["fetched"]][: self.page_size]
        if not pending:
            raise _Answer(-122)
        for item in pending:
            item["fetched"] = True
        elements = [
            (
                "sms",
                [("sender", r["sender"]), ("content", r["content"]), ("receivetime", r["receivetime"])],
            )
            for r in pending
        ]
        return len(pending), elements

    def _ep_user_info(self, account: _Account, params: dict[str, str]) -> tuple[int, list[Any]]:
        forced = self._forced_code("user_info")
        if forced is not None:
            raise _Answer(forced)
        return account.user_id, [
            ("user_balance", f"{account.balance:.2f}"),
            ("user_amount", f"{account.amount:.2f}"),
            ("sms_left", account.sms_left),
            ("sms_send", account.sms_send),
            ("sms_receive", account.sms_receive),
            ("expired_date", account.expired_date()),
            ("user_point", account.point),
        ]

    def _ep_recharge(self, account: _Account, params: dict[str, str]) -> tuple[int, list[Any]]:
        number, password = params.get("cardnumber", "").strip(), params.get("cardpwd", "")
        target_name = params.get("account", "").strip()
        if not number:
            raise _Answer(-127)
        if not password:
            raise _Answer(-128)
        if not target_name:
            raise _Answer(-129)
        target = self._accounts.get(target_name)
        if target is None:
            raise _Answer(-130)
        card = self._cards.get(number)
        if card is None:
            raise _Answer(-131)
        if password != card.password:
            raise _Answer(-132)
        if card.used:
            raise _Answer(-133)
        forced = self._forced_code("recharge")
        if forced is not None:
            raise _Answer(forced)
        card.used = True
        target.sms_left += card.sms
        target.balance += card.amount
        return card.sms, []

    def _record_call(
        self,
        endpoint: str,
        method: str,
        charset: str,
        username: str,
        code: int | None,
        fault: str | None,
    ) -> None:
        with self._lock:
            self._calls.append((endpoint, method, charset, username, code, fault, _now()))

    def _render(self, endpoint: str, charset: str, code: int, extra: list[Any]) -> bytes:
        message = _SUCCESS_TEXT[endpoint] if code >= 0 else CODES[code][0]
        lines = [
            f'<?xml version="1.0" encoding="{_DECLARED[charset]}" ?>',
            "<response>",
            f"  <result>{code}</result>",
            f"  <message>{escape(message)}</message>",
        ]
        for name, value in extra:
            if isinstance(value, list):
                inner = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in value)
                lines.append(f"  <{name}>{inner}</{name}>")
            else:
                lines.append(f"  <{name}>{escape(str(value))}</{name}>")
        lines.append("</response>")
        # Characters the charset lacks (an emoji in a GBK reply) go out as XML character references.
        return "\n".join(lines).encode(CHARSETS[charset], errors="xmlcharrefreplace")

    # -- admin API -----------------------------------------------------------------------------------

    def _admin(self, method: str, name: str, payload: dict[str, Any]) -> tuple[int, Any]:
        if method == "GET" and name == "ledger":
            return 200, _json_records(self.ledger, "accepted_at")
        if method == "GET" and name == "accounts":
            return 200, [self.account(u) for u in list(self._accounts)]
        if method == "GET" and name == "calls":
            return 200, _json_records(self.calls, "at")
        if method == "GET" and name == "pushes":
            return 200, self.pushes
        if method != "POST":
            return 404, {"error": f"no {method} /_sandbox/{name}"}
        if name == "accounts":
            self.add_account(**payload)
            return 201, self.account(payload["username"])
        if name == "reply":
            return 200, {"queued": self.reply(**payload)}
        if name == "cards":
            self.add_card(**payload)
            return 201, {"number": payload["number"]}
        if name == "maintenance":
            self.maintenance = bool(payload.get("on", True))
            return 200, {"maintenance": self.maintenance}
        if name == "faults":
            self.faults = payload
            return 200, self.faults
        if name == "fail_next":
            self.fail_next(**payload)
            return 200, {"ok": True}
        return 404, {"error": f"no POST /_sandbox/{name}"}


def _json_records(frame: pd.DataFrame, time_column: str) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts: the timestamp column as text, missing values as None."""
    frame = frame.assign(**{time_column: frame[time_column].astype(str)})
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_all(self) -> None:
        """Close keep-alive connections still open, so their threads end with the server."""
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    sandbox: Sandbox
    protocol_version = "HTTP/1.1"
    server_version = "smscampaign-sandbox"
    # Answers go out in one write with Nagle off: no 40 ms delayed-ACK stall per keep-alive request.
    disable_nagle_algorithm = True
    timeout = 120

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        # The request line of a GET holds the password: never log it.
        logger.debug("sandbox %s %s", self.command, urlsplit(self.path).path)

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        reason = self.responses.get(status, ("",))[0]
        head = (
            f"HTTP/1.1 {status} {reason}\r\nServer: {self.server_version}\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
            f"Connection: {'close' if self.close_connection else 'keep-alive'}\r\n\r\n"
        )
        self.wfile.write(head.encode("latin-1") + body)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self) -> None:
        parts = urlsplit(self.path)
        segments = [s for s in parts.path.split("/") if s]
        body = self._body() if self.command == "POST" else b""
        if segments[:1] == ["_sandbox"] and len(segments) == 2:
            self._dispatch_admin(segments[1], body)
            return
        match = (
            len(segments) == 3
            and segments[1].lower() == "interface"
            and segments[2].lower().endswith(".aspx")
        )
        charset = segments[0].lower() if segments else ""
        endpoint = segments[2][:-5].lower() if match else ""
        if not match or charset not in CHARSETS or endpoint not in ENDPOINTS:
            self._send(404, b"<html><body>404 Not Found</body></html>", "text/html")
            return
        codec = CHARSETS[charset]
        raw = parts.query if self.command == "GET" else body.decode("latin-1")
        params = dict(parse_qsl(raw, keep_blank_values=True, encoding=codec, errors="replace"))
        self._interface(endpoint, charset, params)

    def _interface(self, endpoint: str, charset: str, params: dict[str, str]) -> None:
        box = self.sandbox
        username = params.get("username", "")
        if box.latency:
            time.sleep(box.latency)
        http500, reset, garbage, delay = box._draw_faults()
        if http500:
            box._record_call(endpoint, self.command, charset, username, None, "http500")
            self._send(500, b"<html><body>500 Internal Server Error</body></html>", "text/html")
            return
        code, extra = box._handle(endpoint, params, self.client_address[0])
        fault = "reset" if reset else "garbage" if garbage else "delay" if delay else None
        box._record_call(endpoint, self.command, charset, username, code, fault)
        if reset:
            # Drop the connection with a RST and no answer: the client cannot know what happened.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        if delay:
            time.sleep(delay)
        if garbage:
            self._send(200, bytes(box._rng.getrandbits(8) for _ in range(64)), "text/html")
            return
        self._send(
            200, box._render(endpoint, charset, code, extra), f"text/xml; charset={_DECLARED[charset]}"
        )

    def _dispatch_admin(self, name: str, body: bytes) -> None:
        try:
            payload = json.loads(body.decode("utf-8")) if body else {}
            if not isinstance(payload, dict):
                raise ValueError("expected a JSON object")
            status, result = self.sandbox._admin(self.command, name, payload)
        except (ValueError, TypeError, KeyError) as exc:
            status, result = 400, {"error": str(exc)}
        data = json.dumps(result, ensure_ascii=False, default=str).encode("utf-8")
        self._send(status, data, "application/json; charset=utf-8")


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
