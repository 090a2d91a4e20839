"""HTTP client for the 短信通 gateway: one method per endpoint, answers as :class:`GatewayResponse`.

A negative return code is an *answer* (``response.ok`` is False, ``response.info`` explains it), not an
exception. Exceptions (:class:`~smscampaign.GatewayError` and its subclasses) are for transport
and protocol failures, and each says whether the request may have reached the gateway (``request_sent``).
The protocol itself (endpoints, fields, answers, assumptions) is written down in ``docs/protocol.md``.

>>> gw = Gateway("demo", "secret", base_url="http://127.0.0.1:8080")   # doctest: +SKIP
>>> gw.send_sms(["13800138000"], "您好【小店】").code                   # doctest: +SKIP
1
"""

from __future__ import annotations

import logging
import re
import socket
import threading
import time
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlencode, urlsplit

import defusedxml.ElementTree as SafeET
import requests
from defusedxml import DefusedXmlException
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError

from smscampaign.core.codes import RETRYABLE, CodeInfo, describe_code
from smscampaign.core.display import html_table
from smscampaign.core.errors import (
    AccountError,
    ConfigError,
    GatewayConnectionError,
    GatewayConnectTimeout,
    GatewayDisconnected,
    GatewayError,
    GatewayHTTPError,
    GatewayProtocolError,
    GatewayRedirect,
    GatewayTimeout,
    UnencodableContentError,
)
from smscampaign.core.settings import read_environment
from smscampaign.wire.protocol import (
    DECLARED_CODECS,
    DEFAULT_BASE_URL,
    check_encodable,
    format_sendtime,
    python_codec,
    unencodable_characters,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "Gateway",
    "GatewayResponse",
    "parse_response",
    "redact",
]

logger = logging.getLogger(__name__)

MAX_BODY_BYTES: Final = 1 << 20
#: Default total deadline of one call, seconds: connect, send and the whole answer.
DEFAULT_DEADLINE: Final = 60.0
#: The protocol's root element (``<response><result>…``); any other root is not a gateway answer.
ROOT_ELEMENT: Final = "response"
_INT64: Final = (-(1 << 63), (1 << 63) - 1)

# Codecs named in XML declarations -> Python codecs (GBK-family answers decode as GB18030, a superset).
_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"'][^>]*\?>")
_DECLARATION_TEXT = re.compile(r"^\s*<\?xml[^>]*\?>")
_BARE_CODE = re.compile(r"^\s*(-?\d+)\s*$")
_HTML_START = re.compile(r"\s*<(!doctype\s+html|html[\s>])", re.IGNORECASE)
_VOICE_CODE = re.compile(r"[0-9]{4,8}")

#: Known user_info fields and their types; other fields stay text.
_FIELD_TYPES: Final[dict[str, Any]] = {
    "user_balance": float,
    "user_amount": float,
    "sms_left": int,
    "sms_send": int,
    "sms_receive": int,
    "user_point": int,
}
#: Reply element names used by other members of the gateway family -> ours.
_ITEM_ALIASES: Final = {"mobile": "sender", "recvtime": "receivetime"}
_SECRET_NAMES: Final = frozenset({"password", "cardpwd"})
# What quote_plus leaves as it is; a number list is that plus commas, quoted with one replace.
_FORM_SAFE = re.compile(r"[A-Za-z0-9_.~,-]*")
_NAME_SAFE = re.compile(r"[A-Za-z0-9_.~-]*")
_DIGITS_AND_COMMAS = re.compile(r"[0-9,]*")
_SECRET_PARAM = re.compile(r"(?i)\b(password|cardpwd|key)=[^&\s\"']*")


def redact(text: str, *secrets: str | None) -> str:
    """Replace secret query parameters and the given secret values in ``text`` with ``***``."""
    text = _SECRET_PARAM.sub(r"\1=***", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


class _RedactSecrets(logging.Filter):
    """Scrubs ``password=…`` from urllib3's request log lines (a GET carries it in the URL)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def _install_log_redaction() -> None:
    # urllib3 logs every request line at DEBUG, query string included; a filter on that one logger
    # keeps GET passwords out of any log a user captures. Installed once, idempotent.
    pool_logger = logging.getLogger("urllib3.connectionpool")
    if not any(isinstance(f, _RedactSecrets) for f in pool_logger.filters):
        pool_logger.addFilter(_RedactSecrets())


@dataclass(frozen=True, slots=True)
class GatewayResponse:
    """One decoded gateway answer.

    ``code`` is the ``result`` element (``>= 0`` success), ``ok`` is ``code >= 0``, ``message`` the
    gateway's own text, ``info`` the :func:`~smscampaign.describe_code` record, ``fields`` the
    other elements (typed where the type is known, e.g. user_info's ``sms_left`` is an int),
    ``items`` one dict per ``<sms>`` reply of ``get_sms``.
    """

    endpoint: str
    code: int
    message: str
    info: CodeInfo
    fields: Mapping[str, Any] = field(default_factory=dict)
    items: tuple[dict[str, str], ...] = ()
    elapsed: float = 0.0
    ok: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ok", self.code >= 0)

    def __repr__(self) -> str:
        more = f", {len(self.fields)} fields" if self.fields else ""
        more += f", {len(self.items)} replies" if self.items else ""
        return f"GatewayResponse({self.endpoint}: {self.info}{more}, {self.elapsed:.3f} s)"

    def _repr_html_(self) -> str:
        rows: list[tuple[str, Any]] = [
            ("endpoint", self.endpoint),
            ("code 返回值", self.code),
            ("ok", self.ok),
            ("message", self.message),
            ("zh", self.info.zh),
            ("en", self.info.en),
            ("category", self.info.category),
        ]
        rows += [(name, value) for name, value in self.fields.items()]
        if self.items:
            rows.append(("replies", len(self.items)))
        rows.append(("elapsed (s)", f"{self.elapsed:.3f}"))
        return html_table("GatewayResponse 网关应答", rows)


def _decode_body(body: bytes, charset: str) -> str:
    """Decode by the XML declaration, falling back to the endpoint's charset."""
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    candidates = []
    match = _DECLARATION.match(body)
    if match:
        declared = match.group(1).decode("ascii").lower()
        candidates.append(DECLARED_CODECS.get(declared, declared))
    candidates.append(python_codec(charset))
    if "utf-8" not in candidates:
        candidates.append("utf-8")
    for codec in candidates:
        try:
            return body.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
    first = body.lstrip().split(b"\n", 1)[0][:60]
    raise GatewayProtocolError(f"answer cannot be decoded in any expected charset: {first!r}")


def _first_line(text: str) -> str:
    """The first non-blank line of an answer, short and with no secret, for error messages."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return redact(line[:120] + ("…" if len(line) > 120 else ""))


def _js_array(text: str, name: str, endpoint: str) -> list[str]:
    """The items of a JavaScript array literal, as user_stat sends it: ``['11-29','11-30']``."""
    inner = text.strip()
    if not (inner.startswith("[") and inner.endswith("]")):
        raise GatewayProtocolError(
            f"{endpoint}: {name} is not an array: {inner[:60]!r}", endpoint=endpoint
        )
    items = [item.strip().strip("'\"").strip() for item in inner[1:-1].split(",")]
    return [item for item in items if item] if inner[1:-1].strip() else []


def _typed(name: str, text: str) -> Any:
    kind = _FIELD_TYPES.get(name)
    if kind is None or text == "":
        return text
    try:
        return kind(text)
    except ValueError:
        return text


def parse_response(body: bytes, *, endpoint: str, charset: str = "utf8") -> GatewayResponse:
    """Parse a gateway answer from bytes; untrusted input (no DTDs, no entities).

    Accepts the XML envelope ``<response><result>…</result><message>…</message>…</response>`` and, to be
    tolerant of older members of the gateway family, a bare integer body. Anything else raises
    :class:`GatewayProtocolError`.
    """
    text = _decode_body(body, charset)
    bare = _BARE_CODE.match(text)
    if bare:
        code = _code(bare.group(1), endpoint)
        return GatewayResponse(endpoint, code, "", describe_code(code))
    text = _DECLARATION_TEXT.sub("", text, count=1)
    if not text.lstrip().startswith("<") or _HTML_START.match(text):
        raise GatewayProtocolError(
            f"{endpoint}: answer is not the gateway's XML: {_first_line(text)!r}", endpoint=endpoint
        )
    try:
        root = SafeET.fromstring(text, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise GatewayProtocolError(
            f"{endpoint}: answer refused: {type(exc).__name__}", endpoint=endpoint
        ) from None
    except SafeET.ParseError as exc:
        raise GatewayProtocolError(
            f"{endpoint}: malformed XML answer: {exc}", endpoint=endpoint
        ) from None
    if root.tag != ROOT_ELEMENT:
        raise GatewayProtocolError(
            f"{endpoint}: answer's root element is <{str(root.tag)[:40]}>, not <{ROOT_ELEMENT}>",
            endpoint=endpoint,
        )
    result = root.find("result")
    if result is None or not _BARE_CODE.match(result.text or ""):
        raise GatewayProtocolError(f"{endpoint}: answer has no numeric <result>", endpoint=endpoint)
    code = _code(result.text or "", endpoint)
    message, fields, items = "", {}, []
    for child in root:
        tag = child.tag
        if tag == "result":
            continue
        if tag == "message":
            message = (child.text or "").strip()
        elif tag == "sms":
            items.append(_item(child))
        elif len(child):  # a container of replies, e.g. <list><sms>…</sms></list>
            for sms in child.iter("sms"):
                items.append(_item(sms))
        else:
            fields[tag] = _typed(tag, (child.text or "").strip())
    return GatewayResponse(endpoint, code, message, describe_code(code), fields, tuple(items))


def _code(text: str, endpoint: str) -> int:
    """The ``result`` code; one outside int64 is not a gateway answer (no code is that long)."""
    code = int(text.strip())
    if not _INT64[0] <= code <= _INT64[1]:
        raise GatewayProtocolError(
            f"{endpoint}: answer's result code has {len(text.strip())} digits, out of range",
            endpoint=endpoint,
        )
    return code


def _item(sms: Any) -> dict[str, str]:
    """One ``<sms>`` reply; its ``content`` exactly as received (a leading tab or space is data)."""
    item = {}
    for element in sms:
        name = _ITEM_ALIASES.get(element.tag, element.tag)
        text = element.text or ""
        item[name] = text if name == "content" else text.strip()
    return item


def _causes(exc: BaseException) -> Iterable[BaseException]:
    """The exception, its args, reasons and causes, breadth first (bounded)."""
    queue, seen = [exc], 0
    while queue and seen < 20:
        item = queue.pop(0)
        seen += 1
        yield item
        for nxt in (getattr(item, "reason", None), item.__cause__, item.__context__, *item.args):
            if isinstance(nxt, BaseException):
                queue.append(nxt)


def _may_retry(exc: GatewayError, *, after_sending: bool) -> bool:
    """Whether a read-only call that failed with ``exc`` may be asked again."""
    if not exc.request_sent:
        return True
    if not after_sending or isinstance(exc, GatewayRedirect):
        return False
    if isinstance(exc, GatewayHTTPError):
        return exc.status >= 500
    return isinstance(exc, (GatewayTimeout, GatewayDisconnected, GatewayProtocolError))


def _join_numbers(numbers: str | Iterable[Any]) -> str:
    if isinstance(numbers, str):
        return numbers
    if isinstance(numbers, list) and numbers and type(numbers[0]) is str:
        # A plan's receivers (digits already): one join, and only if something is not a digit or
        # not a str the per-number str/strip below (0.3 ms a 500-number call) — the same text.
        try:
            joined = ",".join(numbers)
        except TypeError:
            pass
        else:
            if _DIGITS_AND_COMMAS.fullmatch(joined):
                return joined
    return ",".join(str(n).strip() for n in numbers)


def _form_encode(values: Mapping[str, str], codec: str) -> str:
    """``urlencode(values, encoding=codec)``, byte for byte, without quoting a 500-number list one
    character at a time (quote_plus's slow path, ~0.5 ms a call)."""
    pairs = []
    for name, value in values.items():
        if isinstance(value, str) and _FORM_SAFE.fullmatch(value) and _NAME_SAFE.fullmatch(name):
            pairs.append(f"{name}={value.replace(',', '%2C')}")
        else:
            pairs.append(urlencode({name: value}, encoding=codec))
    return "&".join(pairs)


# -- the total deadline ------------------------------------------------------------------------------


class _Call:
    """One call's deadline and the sockets it uses; ``fired`` once the watchdog cut them off."""

    __slots__ = ("deadline", "fired", "sockets")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.fired = False
        self.sockets: list[socket.socket] = []


def _cut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)  # a blocked recv returns at once; the pool drops the connection
    except OSError:
        pass


class _Watchdog:
    """Enforces total deadlines: a socket timeout bounds each read, but a server dripping one byte a
    second never trips it. One thread per Gateway, only while calls are in flight (it ends when idle),
    shuts down the sockets of a call past its deadline."""

    _IDLE_SECONDS: Final = 5.0

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._calls: set[_Call] = set()
        self._thread: threading.Thread | None = None
        self._wake_at = 0.0  # when the thread wakes up next (it is told only about earlier deadlines)

    def start(self, deadline: float) -> _Call:
        call = _Call(deadline)
        with self._cond:
            self._calls.add(call)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="smscampaign-deadline", daemon=True
                )
                self._thread.start()
            elif deadline < self._wake_at:
                self._cond.notify()
        return call

    def watch(self, call: _Call, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._cond:
            if call.fired:
                _cut(sock)
            elif sock not in call.sockets:
                call.sockets.append(sock)

    def finish(self, call: _Call) -> None:
        with self._cond:
            self._calls.discard(call)

    def _run(self) -> None:
        with self._cond:
            while True:
                if not self._calls:
                    self._wake_at = time.monotonic() + self._IDLE_SECONDS
                    self._cond.wait(self._IDLE_SECONDS)
                    if not self._calls:
                        self._thread = None
                        return
                    continue
                now = time.monotonic()
                for call in [c for c in self._calls if c.deadline <= now]:
                    call.fired = True
                    self._calls.discard(call)
                    for sock in call.sockets:
                        _cut(sock)
                if self._calls:
                    self._wake_at = min(c.deadline for c in self._calls)
                    self._cond.wait(self._wake_at - now)


#: The call in progress in this thread (or context): the connections below report their sockets to it.
_CURRENT: ContextVar[tuple[_Watchdog, _Call] | None] = ContextVar("smscampaign_call", default=None)


def _watch(sock: socket.socket | None) -> None:
    current = _CURRENT.get()
    if current is not None:
        current[0].watch(current[1], sock)


class _WatchedHTTPConnection(HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _watch(self.sock)

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        _watch(self.sock)  # a kept-alive connection is not connected again
        return super().getresponse(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        _watch(self.sock)

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        _watch(self.sock)
        return super().getresponse(*args, **kwargs)


class _WatchedPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _Adapter(HTTPAdapter):
    """An adapter whose connections report their sockets to the call's deadline watchdog."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedPool, "https": _WatchedHTTPSPool}


class Gateway:
    """Client for one 短信通 account.

    ``base_url`` is the host (``http://a1.imrobots.cn``; the sandbox's URL for tests), ``charset`` the
    endpoint folder and request encoding (``utf8``, ``gbk``, ``big5``), ``method`` ``POST`` (recommended:
    GET puts the password in URLs) or ``GET``, ``timeout`` seconds or a ``(connect, read)`` pair (per
    socket operation), ``deadline`` the total seconds one call may take — connect, send and the whole
    answer — however slowly a server drips bytes (past it: :class:`GatewayTimeout`).
    One ``requests.Session`` with keep-alive is shared by all calls, threads included (``pool_size``
    connections); the environment's proxy settings (``HTTP_PROXY``, ``NO_PROXY`` …), CA bundle and
    ``~/.netrc`` are looked up (by requests) once, when the Gateway is made. Redirects are never
    followed (a 3xx is a :class:`GatewayRedirect`: following one would re-send the password to
    wherever ``Location`` points). Calls that change something
    (``send_sms``, ``bind_mobile``, ``cancel_bind``, ``recharge``) are never retried; the read-only
    ``user_info`` and ``user_stat`` are retried up to ``read_retries`` times on transport failures,
    5xx and retryable codes (−100, −101), ``get_sms`` only when the request provably did not arrive
    or the code is retryable (the gateway marks replies fetched once it has answered) —
    ``retry_backoff`` seconds, doubling. The password never appears in the repr, log records or
    exception texts and chains.

    >>> with Gateway("demo", "secret", base_url=box.url) as gw:     # doctest: +SKIP
    ...     gw.user_info().fields["sms_left"]
    """

    def __init__(
        self,
        username: str,
        password: str,
        base_url: str = DEFAULT_BASE_URL,
        charset: str = "utf8",
        method: str = "POST",
        timeout: float | tuple[float, float] = (5.0, 30.0),
        *,
        deadline: float = DEFAULT_DEADLINE,
        read_retries: int = 2,
        retry_backoff: float = 0.5,
        pool_size: int = 10,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        python_codec(charset)
        if not deadline > 0:
            raise ConfigError(f"deadline must be a positive number of seconds, not {deadline!r}")
        if read_retries < 0 or retry_backoff < 0:
            raise ConfigError("read_retries and retry_backoff must not be negative")
        method = method.upper()
        if method not in ("GET", "POST"):
            raise ConfigError(f"method must be 'GET' or 'POST', not {method!r}")
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"base_url must be an http(s) URL such as {DEFAULT_BASE_URL!r}")
        self.username = username
        self._password = password
        self.base_url = base_url.rstrip("/")
        self.charset = charset
        self.method = method
        self.timeout = timeout
        self.deadline = float(deadline)
        self.read_retries = read_retries
        self.retry_backoff = retry_backoff
        self.max_body_bytes = max_body_bytes
        self._watchdog = _Watchdog()
        self._session = requests.Session()
        # max_retries=0: urllib3 never resends a request on its own (no idempotency on this gateway).
        adapter = _Adapter(pool_connections=1, pool_maxsize=max(1, pool_size), max_retries=0)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._session.headers["User-Agent"] = "smscampaign/0.1"
        # The environment's proxies (HTTP(S)_PROXY, NO_PROXY), CA bundle and ~/.netrc, looked up
        # once for base_url by requests itself; requests would look them up again on every call
        # (two scans of the environment and a .netrc lookup: ~0.15 ms a request).
        found = self._session.merge_environment_settings(self.base_url, {}, None, None, None)
        self._session.proxies = found["proxies"]
        self._session.verify = found["verify"]
        self._session.auth = requests.utils.get_netrc_auth(self.base_url)
        self._session.trust_env = False
        _install_log_redaction()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Gateway:
        """A Gateway configured from ``SMSCAMPAIGN_USERNAME``, ``SMSCAMPAIGN_PASSWORD``,
        ``SMSCAMPAIGN_BASE_URL`` and ``SMSCAMPAIGN_CHARSET`` (read, like every environment
        variable, by :func:`~smscampaign.core.settings.read_environment`).

        ``overrides`` (e.g. ``base_url=…``) win over the environment.
        """

        env = read_environment(environ)
        settings: dict[str, Any] = {
            "username": env.username,
            "password": env.password,
            "base_url": env.base_url or DEFAULT_BASE_URL,
            "charset": env.charset or "utf8",
        }
        settings.update({k: v for k, v in overrides.items() if v is not None})
        missing = [name for name in ("username", "password") if not settings[name]]
        if missing:
            names = " and ".join(f"SMSCAMPAIGN_{m.upper()}" for m in missing)
            raise ConfigError(f"set {names} in the environment to use the gateway")
        return cls(**settings)

    def __repr__(self) -> str:
        return (
            f"Gateway(username={self.username!r}, base_url={self.base_url!r}, "
            f"charset={self.charset!r}, method={self.method!r})"
        )

    def __enter__(self) -> Gateway:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the pooled connections."""
        self._session.close()

    def url(self, endpoint: str) -> str:
        """The endpoint's URL (without parameters)."""
        return f"{self.base_url}/{self.charset}/interface/{endpoint}.aspx"

    # -- endpoints ---------------------------------------------------------------------------------

    def send_sms(
        self, receivers: str | Iterable[Any], content: str, sendtime: datetime | str | None = None
    ) -> GatewayResponse:
        """Send ``content`` to ``receivers`` (≤ 500 numbers, a list or a comma-separated string).

        ``sendtime`` schedules it (naive datetimes are Beijing time). Success (``ok``) means *accepted
        by the gateway*; this protocol has no delivery reports. Content the charset cannot carry raises
        :class:`UnencodableContentError` before anything is sent.
        """
        params = {"receiver": _join_numbers(receivers), "content": content}
        formatted = format_sendtime(sendtime)
        if formatted is not None:
            params["sendtime"] = formatted
        return self._call("send_sms", params)

    def bind_mobile(self, mobiles: str | Iterable[Any]) -> GatewayResponse:
        """Bind numbers (≤ 500) to the account so that their replies reach it."""
        return self._call("bind_mobile", {"mobile": _join_numbers(mobiles)})

    def cancel_bind(self, mobiles: str | Iterable[Any]) -> GatewayResponse:
        """Cancel the binding of numbers (≤ 500)."""
        return self._call("cancel_bind", {"mobile": _join_numbers(mobiles)})

    def get_sms(self) -> GatewayResponse:
        """Fetch replies not fetched yet (``items``); −122 means there are none.

        Retried only when the request provably never arrived or the code is retryable: the gateway
        counts replies as fetched once it has answered, so a lost answer must not be asked again.
        """
        return self._read_only("get_sms", after_sending=False)

    def user_info(self) -> GatewayResponse:
        """Account details: ``fields`` holds ``sms_left``, ``user_balance``, …; ``code``: user id.

        Read-only, so retried on transport failures, 5xx and retryable codes (``read_retries``)."""
        return self._read_only("user_info", after_sending=True)

    def user_stat(self) -> pd.DataFrame:
        """Messages the account sent per day and per month, as the gateway counts them (an endpoint
        of the vendor's plugins, see ``docs/protocol.md``): columns ``period`` (the gateway's label,
        e.g. ``11-29`` or ``2026-11``), ``kind`` (``day`` / ``month``) and ``sent``.

        A negative code raises :class:`~smscampaign.AccountError`.
        """
        import pandas as pd  # noqa: PLC0415 (only when asked: keeps the CLI's start-up light)

        from smscampaign.core.dtypes import TEXT  # noqa: PLC0415 - loads pandas

        response = self._read_only("user_stat", after_sending=True)
        if not response.ok:
            raise AccountError(
                f"user_stat: {response.code} {response.info.zh} ({response.info.en})",
                code=response.code,
                info=response.info,
            )
        rows: list[tuple[str, str, int]] = []
        for kind in ("day", "month"):
            titles = _js_array(str(response.fields.get(f"{kind}title", "")), f"{kind}title", "user_stat")
            totals = _js_array(str(response.fields.get(f"{kind}total", "")), f"{kind}total", "user_stat")
            if len(titles) != len(totals) or not all(t.isdigit() for t in totals):
                raise GatewayProtocolError(
                    f"user_stat: {kind}title and {kind}total do not match", endpoint="user_stat"
                )
            rows.extend((title, kind, int(total)) for title, total in zip(titles, totals, strict=True))
        frame = pd.DataFrame(rows, columns=["period", "kind", "sent"])
        return frame.astype({"period": TEXT, "kind": TEXT, "sent": "int64"})

    def send_voice(self, receiver: str, code: str) -> GatewayResponse:
        """Have the gateway call ``receiver`` (one number) and read out ``code`` (4 to 8 digits, as
        text so that leading zeros survive): the vendor's voice verification endpoint."""
        number = receiver.strip() if isinstance(receiver, str) else ""
        if not number.isdigit():
            raise ConfigError(f"send_voice calls one mobile number given as text, not {receiver!r}")
        if not isinstance(code, str) or not _VOICE_CODE.fullmatch(code):
            raise ConfigError("send_voice needs a code of 4 to 8 digits, given as text")
        return self._call("send_voice", {"receiver": number, "content": code})

    def recharge(self, cardnumber: str, cardpwd: str, account: str) -> GatewayResponse:
        """Credit ``account`` with a recharge card. The card password is never logged or shown."""
        return self._call(
            "recharge",
            {"cardnumber": cardnumber, "cardpwd": cardpwd, "account": account},
            secrets=(cardpwd,),
        )

    # -- transport ---------------------------------------------------------------------------------

    def _read_only(self, endpoint: str, *, after_sending: bool) -> GatewayResponse:
        """Call a read-only endpoint, retrying what is safe to retry (see the class docstring)."""
        for attempt in range(self.read_retries + 1):
            last = attempt == self.read_retries
            try:
                response = self._call(endpoint, {})
            except GatewayError as exc:
                if last or not _may_retry(exc, after_sending=after_sending):
                    raise
                logger.info("%s failed (%s); retrying", endpoint, exc)
            else:
                if last or response.info.category != RETRYABLE:
                    return response
                logger.info("%s answered %s; retrying", endpoint, response.info)
            time.sleep(self.retry_backoff * 2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def _call(
        self, endpoint: str, params: dict[str, str], *, secrets: tuple[str, ...] = ()
    ) -> GatewayResponse:
        values = {"username": self.username, "password": self._password, **params}
        for name, value in values.items():
            if name not in _SECRET_NAMES:
                check_encodable(value, self.charset, what=name)
            elif unencodable_characters(value, self.charset):  # never name a secret's characters
                raise UnencodableContentError(
                    f"{name} cannot be encoded in {self.charset}", charset=self.charset, characters=()
                )
        query = _form_encode(values, python_codec(self.charset))
        url = self.url(endpoint)
        logger.debug("%s %s (%d parameters)", self.method, url, len(params) + 2)
        started = time.perf_counter()
        call = self._watchdog.start(time.monotonic() + self.deadline)
        token = _CURRENT.set((self._watchdog, call))
        # The failure is raised outside the except block, so that no exception of requests/urllib3
        # (whose texts and attributes hold the URL — in GET mode the password) is on its __context__.
        failure: GatewayError | None = None
        try:
            try:
                timeout = self._timeouts(call)
                if self.method == "POST":
                    response = self._session.post(
                        url,
                        data=query.encode("ascii"),
                        timeout=timeout,
                        stream=True,
                        allow_redirects=False,
                        headers={
                            "Content-Type": f"application/x-www-form-urlencoded; charset={self.charset}"
                        },
                    )
                else:
                    response = self._session.get(
                        f"{url}?{query}", timeout=timeout, stream=True, allow_redirects=False
                    )
                with response:
                    body = self._read_body(response, endpoint, call)
            except requests.RequestException as exc:
                failure = self._translate(exc, endpoint, secrets)
        finally:
            _CURRENT.reset(token)
            self._watchdog.finish(call)
        if call.fired:
            failure = self._past_deadline(endpoint)
        if failure is not None:
            raise failure from None
        elapsed = time.perf_counter() - started
        if 300 <= response.status_code < 400:
            raise GatewayRedirect(
                f"{endpoint}: HTTP {response.status_code}: the gateway answered with a redirect, "
                "which is never followed (it would carry the password to another address)",
                endpoint=endpoint,
                status=response.status_code,
            )
        if response.status_code == 403:  # IIS's own page when the account's IP allow-list blocks us
            raise GatewayHTTPError(
                f"{endpoint}: HTTP 403 Forbidden from the gateway's host: this server's IP address is "
                "not allowed to use the account (like −104 禁止从此IP请求); add it to the account's "
                "allowed IPs in the provider's console",
                status=403,
                endpoint=endpoint,
            )
        if response.status_code != 200:
            raise GatewayHTTPError(
                f"{endpoint}: HTTP {response.status_code} {response.reason or ''}".rstrip(),
                status=response.status_code,
                endpoint=endpoint,
            )
        parsed = parse_response(body, endpoint=endpoint, charset=self.charset)
        logger.debug("%s -> %d %s in %.3f s", endpoint, parsed.code, parsed.info.en, elapsed)
        return replace(parsed, elapsed=elapsed)

    def _timeouts(self, call: _Call) -> tuple[float, float]:
        """Per-operation timeouts, none longer than what is left of the deadline."""
        left = max(call.deadline - time.monotonic(), 0.001)
        connect, read = self.timeout if isinstance(self.timeout, tuple) else (self.timeout,) * 2
        return min(connect, left), min(read, left)

    def _past_deadline(self, endpoint: str) -> GatewayTimeout:
        host = urlsplit(self.base_url).netloc
        return GatewayTimeout(
            f"{endpoint}: no complete answer from {host} within the {self.deadline:g} s deadline; "
            "the request may have been processed",
            endpoint=endpoint,
        )

    def _read_body(self, response: requests.Response, endpoint: str, call: _Call) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            raise GatewayProtocolError(
                f"{endpoint}: answer of {int(declared)} bytes exceeds the "
                f"{self.max_body_bytes}-byte limit",
                endpoint=endpoint,
            )
        chunks, size = [], 0
        for chunk in response.iter_content(65536):
            if call.fired:
                break
            size += len(chunk)
            if size > self.max_body_bytes:
                raise GatewayProtocolError(
                    f"{endpoint}: answer exceeds the {self.max_body_bytes}-byte limit", endpoint=endpoint
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def _translate(
        self, exc: requests.RequestException, endpoint: str, secrets: tuple[str, ...]
    ) -> GatewayError:
        """A transport failure as a GatewayError whose text holds no secret."""
        host = urlsplit(self.base_url).netloc
        causes = list(_causes(exc))
        detail = next(
            (type(c).__name__ for c in reversed(causes) if not isinstance(c, requests.RequestException)),
            type(exc).__name__,
        )
        detail = redact(detail, self._password, *secrets)
        if isinstance(exc, requests.ConnectTimeout):
            return GatewayConnectTimeout(
                f"{endpoint}: no connection to {host} within the timeout", endpoint=endpoint
            )
        if isinstance(exc, requests.ReadTimeout):
            return GatewayTimeout(
                f"{endpoint}: no answer from {host} within the timeout; "
                "the request may have been processed",
                endpoint=endpoint,
            )
        if any(isinstance(c, NewConnectionError) for c in causes):
            hint = "check the URL (--base-url / SMSCAMPAIGN_BASE_URL)"
            if urlsplit(self.base_url).hostname in ("127.0.0.1", "localhost", "::1"):
                hint += " and that the sandbox is running (smscampaign sandbox)"
            return GatewayConnectionError(
                f"{endpoint}: cannot connect to {self.base_url} ({detail}); {hint}", endpoint=endpoint
            )
        if isinstance(exc, (requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
            return GatewayDisconnected(
                f"{endpoint}: connection to {host} lost after sending ({detail}); "
                "the request may have been processed",
                endpoint=endpoint,
            )
        return GatewayError(f"{endpoint}: request to {host} failed ({detail})", endpoint=endpoint)
