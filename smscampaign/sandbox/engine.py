"""The sandbox's state and protocol engine: no sockets, testable directly.

:class:`Engine` holds the accounts, cards, bindings, replies, the ledger and the call log, and answers
one request at a time through :meth:`Engine.handle`, which takes the request as the wire gave it (method,
raw request target, raw body) and returns an :class:`Answer` (status, content type, body). Everything the
engine does is written down in ``docs/protocol.md``; where the provider's document is silent, that page
names our assumption and this module implements it exactly.

>>> engine = Engine()
>>> engine.add_account("demo", "pw", sms_left=10)
>>> answer = engine.handle("GET", "/utf8/interface/user_info.aspx?username=demo&password=pw".encode())
>>> answer.status, answer.content_type
(200, 'text/xml; charset=utf-8')
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import unquote_to_bytes, urlencode
from xml.sax.saxutils import escape

from smscampaign.core.codes import CODES
from smscampaign.core.errors import ConfigError
from smscampaign.wire.protocol import (
    BEIJING,
    CHARSETS,
    ENDPOINTS,
    MAX_LENGTH,
    MAX_NUMBERS,
    TIME_FORMAT,
    sms_length,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ENGINE_ENDPOINTS", "LEDGER_COLUMNS", "VOICE_COLUMNS", "Answer", "Engine", "Pusher"]

logger = logging.getLogger(__name__)

LEDGER_COLUMNS: Final = ["account", "receiver", "content", "sendtime", "request_id", "accepted_at"]
VOICE_COLUMNS: Final = ["account", "receiver", "content", "request_id", "accepted_at"]
CALL_COLUMNS: Final = ["endpoint", "method", "charset", "username", "code", "fault", "at"]
#: The document's six endpoints plus the two the vendor's plugins call.
ENGINE_ENDPOINTS: Final = (*ENDPOINTS, "user_stat", "send_voice")
#: Days and months user_stat reports, ending today (our assumption).
STAT_DAYS: Final = 7
STAT_MONTHS: Final = 12

_MOBILE = re.compile(r"1[3-9]\d{9}")
_VOICE_CODE = re.compile(r"[0-9]{4,8}")
_DECLARED = {"utf8": "utf-8", "gbk": "gbk", "big5": "big5"}
_SUCCESS_TEXT = {
    "send_sms": "短信发送成功",
    "bind_mobile": "绑定手机成功",
    "get_sms": "获取上行短信成功",
    "cancel_bind": "取消绑定成功",
    "user_info": "获取用户信息成功",
    "recharge": "充值成功",
    "user_stat": "获取发送统计成功",
    "send_voice": "语音验证码发送成功",
}
_FAULT_KEYS = frozenset({"reset", "delay", "delay_p", "http500", "garbage"})
_METHODS = frozenset({"GET", "POST", "HEAD"})

#: Sends a reply push: (url, form body, charset) -> outcome ``{"status": …, "ok": …}``.
Pusher = Callable[[str, bytes, str], dict[str, Any]]


def _iis_page(status: str, title: str, detail: str) -> bytes:
    """An error page in the style of IIS's own (what the host answers before the application runs)."""
    return (
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" '
        '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\r\n'
        '<html xmlns="http://www.w3.org/1999/xhtml">\r\n<head>\r\n'
        '<meta http-equiv="Content-Type" content="text/html; charset=utf-8"/>\r\n'
        f"<title>{status} - {title}</title>\r\n</head>\r\n<body>\r\n"
        f'<div id="header"><h1>服务器错误 Server Error</h1></div>\r\n<div id="content">\r\n'
        f"<h2>{status} - {title}</h2>\r\n<h3>{detail}</h3>\r\n</div>\r\n</body>\r\n</html>\r\n"
    ).encode()


_HTML = "text/html; charset=utf-8"
NOT_FOUND_PAGE: Final = _iis_page(
    "404", "找不到文件或目录 Not Found", "您要查找的资源可能已被删除、已更改名称或者暂时不可用。"
)
FORBIDDEN_PAGE: Final = _iis_page(
    "403 Forbidden",
    "禁止访问：访问被拒绝",
    "您未被授权查看该页。HTTP 403.6 - 客户端的 IP 地址被拒绝 (IP address rejected)。",
)
METHOD_PAGE: Final = _iis_page("405", "不允许使用该动词 Method Not Allowed", "请使用 GET 或 POST。")
ERROR_PAGE: Final = _iis_page("500", "内部服务器错误 Internal Server Error", "服务器暂时无法处理请求。")


@dataclass(frozen=True, slots=True)
class Answer:
    """What the server writes back: ``status``, ``content_type`` and ``body``; ``reset`` asks the
    server to drop the connection with no answer at all (a transport fault)."""

    status: int
    content_type: str
    body: bytes
    reset: bool = False


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
    push_type: str = "0"
    forbidden_page: bool = False
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
            "forbidden_page": self.forbidden_page,
            "push_url": self.push_url,
            "bound": None,
        }

    def expired_date(self) -> str:
        now = _now()
        when = now - timedelta(days=1) if self.expired else now + timedelta(days=365)
        return when.strftime(TIME_FORMAT)


@dataclass
class _Card:
    number: str
    password: str = field(repr=False)
    sms: int
    amount: float
    used: bool = False


class _Refusal(Exception):
    """Raised inside an endpoint to answer with a return code."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class _Forbidden(Exception):
    """Raised when the host itself refuses the client's IP (IIS's 403 page instead of −104)."""


def _decode_component(raw: bytes, codec: str) -> str:
    """One form name or value: ``+`` is a space, ``%XX`` and raw bytes alike are bytes of ``codec``."""
    raw = raw.replace(b"+", b" ")
    if b"%" in raw:
        # Commas between 500 numbers are most of the escapes; replacing them first is the same
        # decoding and spares unquote_to_bytes a Python-level step per number.
        raw = unquote_to_bytes(raw.replace(b"%2C", b",").replace(b"%2c", b","))
    return raw.decode(codec, errors="replace")


def parse_form(raw: bytes, codec: str) -> dict[str, str]:
    """A query string or form body as ASP.NET reads it: bytes decoded with the endpoint's codec.

    Percent-encoded and raw bytes are treated alike (clients that build URLs by concatenation send raw
    UTF-8 or GBK); a name given twice yields its values joined by commas, as ``Request[name]`` does.

    >>> parse_form("content=测试&receiver=1&receiver=2".encode("gbk"), "gbk")
    {'content': '测试', 'receiver': '1,2'}
    """
    values: dict[str, list[str]] = {}
    for part in raw.split(b"&"):
        name, _, value = part.partition(b"=")
        key = _decode_component(name, codec)
        if key:
            values.setdefault(key, []).append(_decode_component(value, codec))
    return {key: ",".join(items) for key, items in values.items()}


def split_target(target: bytes) -> tuple[list[str], bytes]:
    """The path segments (decoded, original case) and the raw query of a request target."""
    if target[:7].lower() == b"http://" or target[:8].lower() == b"https://":  # absolute form
        rest = target.split(b"//", 1)[1]
        slash = rest.find(b"/")
        target = rest[slash:] if slash >= 0 else b"/"
    path, _, query = target.partition(b"?")
    text = unquote_to_bytes(path).decode("utf-8", errors="replace")
    return [s for s in text.split("/") if s], query


def route(segments: Sequence[str]) -> tuple[str, str] | None:
    """(charset, endpoint) for an interface path, None for any other path (IIS paths ignore case).

    ``/{charset}/interface/{name}.aspx`` and the plugins' alias ``/{charset}/sendsms.aspx``.
    """
    lowered = [s.lower() for s in segments]
    if len(lowered) == 3 and lowered[1] == "interface" and lowered[2].endswith(".aspx"):
        charset, endpoint = lowered[0], lowered[2][: -len(".aspx")]
    elif len(lowered) == 2 and lowered[1] == "sendsms.aspx":
        charset, endpoint = lowered[0], "send_sms"
    else:
        return None
    if charset not in CHARSETS or endpoint not in ENGINE_ENDPOINTS:
        return None
    return charset, endpoint


def _js_array(values: Sequence[Any], *, quoted: bool) -> str:
    """The text of a JavaScript array, as user_stat's fields carry it: ``['11-29','11-30']``."""
    return "[" + ",".join(f"'{v}'" if quoted else str(v) for v in values) + "]"


def _last_months(today: date, count: int) -> list[tuple[int, int]]:
    year, month = today.year, today.month
    months = []
    for _ in range(count):
        months.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


class Engine:
    """The simulated gateway's state and protocol, without sockets.

    ``latency`` seconds are slept before each interface request; ``faults`` and ``seed`` inject failures
    (see :attr:`faults`); ``page_size`` caps the replies one ``get_sms`` returns; ``pusher`` sends reply
    pushes (the :class:`~smscampaign.sandbox.Sandbox` gives it an HTTP client; without one, pushes are
    recorded as not sent).
    """

    def __init__(
        self,
        *,
        latency: float = 0.0,
        faults: dict[str, float] | None = None,
        seed: int | None = None,
        page_size: int = 100,
        pusher: Pusher | None = None,
    ) -> None:
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
        self._voice: list[tuple[Any, ...]] = []
        self._calls: list[tuple[Any, ...]] = []
        self._pushes: list[dict[str, Any]] = []
        self._request_id = 0
        self._pusher = pusher
        # Set while the server stops: a ``delay`` fault answers at once then (its client is gone).
        self.stopping = threading.Event()

    # -- state -------------------------------------------------------------------------------------

    @property
    def faults(self) -> dict[str, float]:
        """Fault probabilities, drawn from a seeded generator in this order per interface request:
        ``http500`` answers 500 *before* processing; ``reset`` processes the request and then drops the
        connection without an answer; ``garbage`` processes it and answers non-XML bytes; ``delay``
        (with probability ``delay_p``) processes it and answers ``delay`` seconds late."""
        return dict(self._faults)

    @faults.setter
    def faults(self, value: dict[str, float]) -> None:
        unknown = set(value) - _FAULT_KEYS
        if unknown:
            raise ConfigError(f"unknown fault(s) {sorted(unknown)}; known: {sorted(_FAULT_KEYS)}")
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
        push_type: str = "0",
        forbidden_page: bool = False,
    ) -> None:
        """Create (or replace) an account. ``allowed_ips`` restricts client addresses (−104, or IIS's
        HTML 403 page with ``forbidden_page=True``); ``push_type`` is the push's ``type`` field."""
        if push_charset not in CHARSETS:
            raise ConfigError(f"push_charset must be one of {list(CHARSETS)}")
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
                push_type=str(push_type),
                forbidden_page=bool(forbidden_page),
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
            "push_type",
            "forbidden_page",
        }
        unknown = set(changes) - allowed
        if unknown:
            raise ConfigError(f"cannot change {sorted(unknown)}; changeable: {sorted(allowed)}")
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

    def accounts(self) -> list[dict[str, Any]]:
        """Snapshots of every account, as :meth:`account` gives them."""
        with self._lock:
            return [self.account(username) for username in self._accounts]

    def adjust_balance(self, account: str, delta: int) -> int:
        """Change ``account``'s messages left by ``delta`` behind the client's back; returns the rest.

        A negative ``delta`` is a foreign deduction (someone else sending from the account), a positive
        one a recharge by the operator. Neither appears in the ledger or in ``sms_send``: only
        ``user_info``'s ``sms_left`` moves, which is what a client reconciling by balance must notice.
        """
        if isinstance(delta, bool) or not isinstance(delta, int):
            raise ConfigError(f"delta must be a whole number of messages, not {delta!r}")
        with self._lock:
            target = self._accounts.get(account)
            if target is None:
                raise ConfigError(f"no sandbox account {account!r}; create it with add_account()")
            if target.sms_left + delta < 0:
                raise ConfigError(
                    f"cannot deduct {-delta} messages from {account!r}: only {target.sms_left} left"
                )
            target.sms_left += delta
            return target.sms_left

    def add_card(self, number: str, password: str, sms: int = 100, amount: float = 0.0) -> None:
        """Create a single-use recharge card worth ``sms`` messages (and ``amount`` yuan)."""
        with self._lock:
            self._cards[number] = _Card(number, password, int(sms), float(amount))

    def fail_next(self, endpoint: str, code: int, times: int = 1) -> None:
        """Answer the next ``times`` valid requests to ``endpoint`` with ``code``.

        For codes the gateway cannot be driven to by state (−100, −108, −109, −120, −121, −124, −126 …).
        ``send_sms`` with −109 (deduction failed) *does* record the messages, as the real one would.
        """
        if endpoint not in ENGINE_ENDPOINTS:
            raise ConfigError(f"unknown endpoint {endpoint!r}")
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
            url, key, charset, kind = (
                target.push_url,
                target.push_key,
                target.push_charset,
                target.push_type,
            )
        if url:
            self._push(item, url, key, charset, kind)
        return True

    def _push(self, item: dict[str, Any], url: str, key: str | None, charset: str, kind: str) -> None:
        form = {
            "sender": item["sender"],
            "content": item["content"],
            "receivetime": item["receivetime"],
            "key": key or "",
            "type": kind,
        }
        body = urlencode(form, encoding=CHARSETS[charset], errors="xmlcharrefreplace").encode("ascii")
        outcome: dict[str, Any] = {"url": url, "sender": item["sender"], "status": None, "ok": False}
        if self._pusher is None:
            outcome["error"] = "no pusher"
        else:
            outcome.update(self._pusher(url, body, charset))
        with self._lock:
            self._pushes.append(outcome)

    @property
    def ledger(self) -> pd.DataFrame:
        """Every message accepted, one row per receiver:
        ``account, receiver, content, sendtime, request_id, accepted_at``."""
        import pandas as pd  # noqa: PLC0415 (only when asked: keeps the CLI's start-up light)

        with self._lock:
            rows = list(self._ledger)
        frame = pd.DataFrame(rows, columns=LEDGER_COLUMNS)
        frame["accepted_at"] = pd.to_datetime(frame["accepted_at"])
        return frame

    @property
    def voice_calls(self) -> pd.DataFrame:
        """Every voice verification call accepted (send_voice):
        ``account, receiver, content, request_id, accepted_at``."""
        import pandas as pd  # noqa: PLC0415 (only when asked: keeps the CLI's start-up light)

        with self._lock:
            rows = list(self._voice)
        frame = pd.DataFrame(rows, columns=VOICE_COLUMNS)
        frame["accepted_at"] = pd.to_datetime(frame["accepted_at"])
        return frame

    @property
    def calls(self) -> pd.DataFrame:
        """Every interface request seen: ``endpoint, method, charset, username, code, fault, at``
        (``code`` is None where a fault or the host's 403 page answered instead)."""
        import pandas as pd  # noqa: PLC0415 (only when asked: keeps the CLI's start-up light)

        with self._lock:
            rows = list(self._calls)
        return pd.DataFrame(rows, columns=CALL_COLUMNS)

    @property
    def pushes(self) -> list[dict[str, Any]]:
        """Outcome of every reply push: ``url, sender, status, ok``."""
        with self._lock:
            return list(self._pushes)

    # -- one request -------------------------------------------------------------------------------

    def handle(
        self,
        method: str,
        target: bytes,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        client_ip: str = "127.0.0.1",
    ) -> Answer:
        """Answer one HTTP request to the gateway's host.

        ``target`` is the raw request target (path and query, any bytes a client put there), ``body``
        the raw form body of a POST. Parameters are decoded with the endpoint's charset; a POST's form
        fields win over query fields of the same name. Unknown paths get IIS's HTML 404, other methods
        than GET, POST and HEAD its 405. ``headers`` are accepted for the server's sake and not used:
        the gateway reads its charset from the path, not from Content-Type.
        """
        del headers
        segments, query = split_target(target)
        routed = route(segments)
        if routed is None:
            return Answer(404, _HTML, NOT_FOUND_PAGE)
        if method not in _METHODS:
            return Answer(405, _HTML, METHOD_PAGE)
        charset, endpoint = routed
        codec = CHARSETS[charset]
        params = parse_form(query, codec)
        if method == "POST" and body:
            params.update(parse_form(body, codec))
        return self._interface(endpoint, charset, method, params, client_ip)

    def _interface(
        self, endpoint: str, charset: str, method: str, params: dict[str, str], client_ip: str
    ) -> Answer:
        username = params.get("username", "")
        if self.latency:
            time.sleep(self.latency)
        http500, reset, garbage, delay = self._draw_faults()
        if http500:
            self._record_call(endpoint, method, charset, username, None, "http500")
            return Answer(500, _HTML, ERROR_PAGE)
        try:
            code, extra = self._process(endpoint, params, client_ip)
        except _Forbidden:
            self._record_call(endpoint, method, charset, username, None, "http403")
            return Answer(403, _HTML, FORBIDDEN_PAGE)
        fault = "reset" if reset else "garbage" if garbage else "delay" if delay else None
        self._record_call(endpoint, method, charset, username, code, fault)
        if reset:
            return Answer(200, "", b"", reset=True)
        if delay:
            self.stopping.wait(delay)
        if garbage:
            with self._lock:
                noise = bytes(self._rng.getrandbits(8) for _ in range(64))
            return Answer(200, "text/html", noise)
        body = self.render(endpoint, charset, code, extra)
        return Answer(200, f"text/xml; charset={_DECLARED[charset]}", body)

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

    def _process(self, endpoint: str, params: dict[str, str], client_ip: str) -> tuple[int, list[Any]]:
        """Run one interface request; returns (code, extra XML elements)."""
        with self._lock:
            try:
                if self.maintenance:
                    raise _Refusal(-101)
                account = self._authenticate(params, client_ip)
                handler: Callable[[_Account, dict[str, str]], tuple[int, list[Any]]]
                handler = getattr(self, f"_ep_{endpoint}")
                return handler(account, params)
            except _Refusal as refusal:
                return refusal.code, []

    @staticmethod
    def render(endpoint: str, charset: str, code: int, extra: Sequence[Any] = ()) -> bytes:
        """The XML answer of ``endpoint`` in the endpoint's charset, declaration included."""
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

    # -- validation ----------------------------------------------------------------------------------

    def _authenticate(self, params: dict[str, str], client_ip: str) -> _Account:
        username, password = params.get("username", "").strip(), params.get("password", "")
        if not username:
            raise _Refusal(-110)
        if not password:
            raise _Refusal(-111)
        account = self._accounts.get(username)
        if account is None:
            raise _Refusal(-102)
        if password != account.password:
            raise _Refusal(-103)
        if account.allowed_ips is not None and client_ip not in account.allowed_ips:
            if account.forbidden_page:
                raise _Forbidden
            raise _Refusal(-104)
        if account.frozen:
            raise _Refusal(-105)
        if account.expired:
            raise _Refusal(-106)
        return account

    def _forced_code(self, endpoint: str) -> int | None:
        queue = self._forced.get(endpoint)
        return queue.pop(0) if queue else None

    @staticmethod
    def _numbers(raw: str) -> list[str]:
        numbers = [n.strip() for n in raw.split(",") if n.strip()]
        if not numbers:
            raise _Refusal(-112)
        return numbers

    @staticmethod
    def _check_numbers(numbers: list[str]) -> None:
        if len(numbers) > MAX_NUMBERS:
            raise _Refusal(-117)

    @classmethod
    def _mobiles(cls, raw: str) -> list[str]:
        """The ``mobile`` list of bind_mobile / cancel_bind.

        −112 if empty, −117 over 500 numbers, −119 if one is malformed."""
        numbers = cls._numbers(raw)
        cls._check_numbers(numbers)
        if not all(_MOBILE.fullmatch(n) for n in numbers):
            raise _Refusal(-119)
        return numbers

    @staticmethod
    def _check_sendtime(raw: str) -> str | None:
        raw = raw.strip()
        if not raw:
            return None
        try:
            when = datetime.strptime(raw, TIME_FORMAT)
        except ValueError:
            raise _Refusal(-114) from None
        now = _now()
        if when <= now:
            raise _Refusal(-115)
        if when > now + timedelta(days=365):
            raise _Refusal(-116)
        return raw

    def _next_request_id(self) -> int:
        self._request_id += 1
        return self._request_id

    # -- endpoints -----------------------------------------------------------------------------------

    def _ep_send_sms(self, account: _Account, params: dict[str, str]) -> tuple[int, list[Any]]:
        numbers = self._numbers(params.get("receiver", ""))
        content = params.get("content", "")
        if not content.strip():
            raise _Refusal(-113)
        self._check_numbers(numbers)
        if sms_length(content) > MAX_LENGTH:
            raise _Refusal(-118)
        if not all(_MOBILE.fullmatch(n) for n in numbers):
            raise _Refusal(-119)
        sendtime = self._check_sendtime(params.get("sendtime", ""))
        if account.sms_left < len(numbers):
            raise _Refusal(-107)
        forced = self._forced_code("send_sms")
        if forced is not None and forced != -109:
            raise _Refusal(forced)
        request_id = self._next_request_id()
        accepted_at = _now()
        self._ledger.extend(
            (account.username, n, content, sendtime, request_id, accepted_at) for n in numbers
        )
        account.sms_send += len(numbers)
        if forced == -109:  # sent, but the deduction failed
            raise _Refusal(-109)
        # Deducted at acceptance, scheduled sends included: user_info shows it at once.
        account.sms_left -= len(numbers)
        return request_id, []

    def _ep_send_voice(self, account: _Account, params: dict[str, str]) -> tuple[int, list[Any]]:
        receiver = params.get("receiver", "").strip()
        content = params.get("content", "").strip()
        if not receiver:
            raise _Refusal(-112)
        if not content:
            raise _Refusal(-113)
        if not _MOBILE.fullmatch(receiver):  # one number a call (our assumption)
            raise _Refusal(-119)
        if not _VOICE_CODE.fullmatch(content):  # 4 to 8 digits (our assumption)
            raise _Refusal(-118)
        if account.sms_left < 1:
            raise _Refusal(-107)
        forced = self._forced_code("send_voice")
        if forced is not None:
            raise _Refusal(forced)
        request_id = self._next_request_id()
        self._voice.append((account.username, receiver, content, request_id, _now()))
        account.sms_left -= 1
        return request_id, []

    def _ep_bind_mobile(self, account: _Account, params: dict[str, str]) -> tuple[int, list[Any]]:
        numbers = self._mobiles(params.get("mobile", ""))
        if any(self._bound.get(n, account.username) != account.username for n in numbers):
            raise _Refusal(-123)
        forced = self._forced_code("bind_mobile")
        if forced is not None:
            raise _Refusal(forced)
        distinct = dict.fromkeys(numbers)
        for n in distinct:
            self._bound[n] = account.username
        return len(distinct), []

    def _ep_cancel_bind(self, account: _Account, params: dict[str, str]) -> tuple[int, list[Any]]:
        numbers = self._mobiles(params.get("mobile", ""))
        if any(self._bound.get(n) != account.username for n in numbers):
            raise _Refusal(-125)
        forced = self._forced_code("cancel_bind")
        if forced is not None:
            raise _Refusal(forced)
        distinct = dict.fromkeys(numbers)
        for n in distinct:
            del self._bound[n]
        return len(distinct), []

    def _ep_get_sms(self, account: _Account, params: dict[str, str]) -> tuple[int, list[Any]]:
        forced = self._forced_code("get_sms")
        if forced is not None:
            raise _Refusal(forced)
        pending = [r for r in account.replies if not r["fetched"]][: self.page_size]
        if not pending:
            raise _Refusal(-122)
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
            raise _Refusal(forced)
        return account.user_id, [
            ("user_balance", f"{account.balance:.2f}"),
            ("user_amount", f"{account.amount:.2f}"),
            ("sms_left", account.sms_left),
            ("sms_send", account.sms_send),
            ("sms_receive", account.sms_receive),
            ("expired_date", account.expired_date()),
            ("user_point", account.point),
        ]

    def _ep_user_stat(self, account: _Account, params: dict[str, str]) -> tuple[int, list[Any]]:
        forced = self._forced_code("user_stat")
        if forced is not None:
            raise _Refusal(forced)
        per_day: Counter[date] = Counter(
            row[5].date() for row in self._ledger if row[0] == account.username
        )
        today = _now().date()
        days = [today - timedelta(days=n) for n in range(STAT_DAYS - 1, -1, -1)]
        months = _last_months(today, STAT_MONTHS)
        per_month: Counter[tuple[int, int]] = Counter()
        for day, sent in per_day.items():
            per_month[(day.year, day.month)] += sent
        return account.user_id, [
            ("daytitle", _js_array([d.strftime("%m-%d") for d in days], quoted=True)),
            ("daytotal", _js_array([per_day[d] for d in days], quoted=False)),
            ("monthtitle", _js_array([f"{y:04d}-{m:02d}" for y, m in months], quoted=True)),
            ("monthtotal", _js_array([per_month[ym] for ym in months], quoted=False)),
        ]

    def _ep_recharge(self, account: _Account, params: dict[str, str]) -> tuple[int, list[Any]]:
        number, password = params.get("cardnumber", "").strip(), params.get("cardpwd", "")
        target_name = params.get("account", "").strip()
        if not number:
            raise _Refusal(-127)
        if not password:
            raise _Refusal(-128)
        if not target_name:
            raise _Refusal(-129)
        target = self._accounts.get(target_name)
        if target is None:
            raise _Refusal(-130)
        card = self._cards.get(number)
        if card is None:
            raise _Refusal(-131)
        if password != card.password:
            raise _Refusal(-132)
        if card.used:
            raise _Refusal(-133)
        forced = self._forced_code("recharge")
        if forced is not None:
            raise _Refusal(forced)
        card.used = True
        target.sms_left += card.sms
        target.balance += card.amount
        return card.sms, []
