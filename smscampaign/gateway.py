"""HTTP client for the 短信通 gateway: one method per endpoint, answers as :class:`GatewayResponse`.

A negative return code is an *answer* (``response.ok`` is False, ``response.info`` explains it), not an
exception. Exceptions (:class:`~smscampaign.errors.GatewayError` and its subclasses) are for transport
and protocol failures, and each says whether the request may have reached the gateway (``request_sent``).
The protocol itself (endpoints, fields, answers, assumptions) is written down in ``docs/protocol.md``.

>>> gw = Gateway("demo", "secret", base_url="http://127.0.0.1:8080")   # doctest: +SKIP
>>> gw.send_sms(["13800138000"], "您好【小店】").code                   # doctest: +SKIP
1
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Final
from urllib.parse import urlencode, urlsplit

import defusedxml.ElementTree as SafeET
import pandas as pd
import requests
from defusedxml import DefusedXmlException
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NewConnectionError

from smscampaign.codes import CodeInfo, describe_code
from smscampaign.errors import (
    AccountError,
    ConfigError,
    GatewayConnectionError,
    GatewayConnectTimeout,
    GatewayDisconnected,
    GatewayError,
    GatewayHTTPError,
    GatewayProtocolError,
    GatewayTimeout,
    UnencodableContentError,
)
from smscampaign.protocol import (
    DEFAULT_BASE_URL,
    check_encodable,
    format_sendtime,
    python_codec,
    unencodable_characters,
)

__all__ = [
    "Gateway",
    "GatewayResponse",
    "parse_response",
    "redact",
]

logger = logging.getLogger(__name__)

MAX_BODY_BYTES: Final = 1 << 20

# Codecs named in XML declarations -> Python codecs (GBK-family answers decode as GB18030, a superset).
_DECLARED_CODECS: Final = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "gbk": "gb18030",
    "gb2312": "gb18030",
    "gb18030": "gb18030",
    "cp936": "gb18030",
    "big5": "cp950",
    "cp950": "cp950",
    "big5-hkscs": "big5hkscs",
}
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
    gateway's own text, ``info`` the :func:`~smscampaign.codes.describe_code` record, ``fields`` the
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


def _decode_body(body: bytes, charset: str) -> str:
    """Decode by the XML declaration, falling back to the endpoint's charset."""
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    candidates = []
    match = _DECLARATION.match(body)
    if match:
        declared = match.group(1).decode("ascii").lower()
        candidates.append(_DECLARED_CODECS.get(declared, declared))
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
        code = int(bare.group(1))
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
    result = root.find("result")
    if result is None or not _BARE_CODE.match(result.text or ""):
        raise GatewayProtocolError(f"{endpoint}: answer has no numeric <result>", endpoint=endpoint)
    code = int((result.text or "").strip())
    message, fields, items = "", {}, []
    for child in root:
        tag = child.tag
        if tag == "result":
            continue
        if tag == "message":
            message = (child.text or "").strip()
        elif tag == "sms":
            items.append({_ITEM_ALIASES.get(e.tag, e.tag): (e.text or "").strip() for e in child})
        elif len(child):  # a container of replies, e.g. <list><sms>…</sms></list>
            for sms in child.iter("sms"):
                items.append({_ITEM_ALIASES.get(e.tag, e.tag): (e.text or "").strip() for e in sms})
        else:
            fields[tag] = _typed(tag, (child.text or "").strip())
    return GatewayResponse(endpoint, code, message, describe_code(code), fields, tuple(items))


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


def _join_numbers(numbers: str | Iterable[Any]) -> str:
    if isinstance(numbers, str):
        return numbers
    return ",".join(str(n).strip() for n in numbers)


class Gateway:
    """Client for one 短信通 account.

    ``base_url`` is the host (``http://a1.imrobots.cn``; the sandbox's URL for tests), ``charset`` the
    endpoint folder and request encoding (``utf8``, ``gbk``, ``big5``), ``method`` ``POST`` (recommended:
    GET puts the password in URLs) or ``GET``, ``timeout`` seconds or a ``(connect, read)`` pair.
    One ``requests.Session`` with keep-alive is shared by all calls, threads included (``pool_size``
    connections); requests are never retried automatically. The password never appears in the repr,
    log records or exception texts.

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
        pool_size: int = 10,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        python_codec(charset)
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
        self.max_body_bytes = max_body_bytes
        self._session = requests.Session()
        # max_retries=0: urllib3 never resends a request on its own (no idempotency on this gateway).
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=max(1, pool_size), max_retries=0)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._session.headers["User-Agent"] = "smscampaign/0.1"
        _install_log_redaction()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Gateway:
        """A Gateway configured from ``SMSCAMPAIGN_USERNAME``, ``SMSCAMPAIGN_PASSWORD``,
        ``SMSCAMPAIGN_BASE_URL`` and ``SMSCAMPAIGN_CHARSET`` (read, like every environment
        variable, by :func:`~smscampaign.home.read_environment`).

        ``overrides`` (e.g. ``base_url=…``) win over the environment.
        """
        from smscampaign.home import read_environment  # noqa: PLC0415 - the one env reader

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
        """Fetch replies not fetched yet (``items``); −122 means there are none."""
        return self._call("get_sms", {})

    def user_info(self) -> GatewayResponse:
        """Account details: ``fields`` holds ``sms_left``, ``user_balance``, …; ``code``: user id."""
        return self._call("user_info", {})

    def user_stat(self) -> pd.DataFrame:
        """Messages the account sent per day and per month, as the gateway counts them (an endpoint
        of the vendor's plugins, see ``docs/protocol.md``): columns ``period`` (the gateway's label,
        e.g. ``11-29`` or ``2026-11``), ``kind`` (``day`` / ``month``) and ``sent``.

        A negative code raises :class:`~smscampaign.errors.AccountError`.
        """
        from smscampaign.numbers import TEXT  # noqa: PLC0415 (pandas' text dtype, kept in one place)

        response = self._call("user_stat", {})
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
        query = urlencode(values, encoding=python_codec(self.charset))
        url = self.url(endpoint)
        logger.debug("%s %s (%d parameters)", self.method, url, len(params) + 2)
        started = time.perf_counter()
        try:
            if self.method == "POST":
                response = self._session.post(
                    url,
                    data=query.encode("ascii"),
                    timeout=self.timeout,
                    stream=True,
                    headers={
                        "Content-Type": f"application/x-www-form-urlencoded; charset={self.charset}"
                    },
                )
            else:
                response = self._session.get(f"{url}?{query}", timeout=self.timeout, stream=True)
            with response:
                body = self._read_body(response, endpoint)
        except requests.RequestException as exc:
            raise self._translate(exc, endpoint, secrets) from None
        elapsed = time.perf_counter() - started
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

    def _read_body(self, response: requests.Response, endpoint: str) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            raise GatewayProtocolError(
                f"{endpoint}: answer of {int(declared)} bytes exceeds the "
                f"{self.max_body_bytes}-byte limit",
                endpoint=endpoint,
            )
        chunks, size = [], 0
        for chunk in response.iter_content(65536):
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
            return GatewayConnectionError(
                f"{endpoint}: cannot connect to {host} ({detail})", endpoint=endpoint
            )
        if isinstance(exc, (requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
            return GatewayDisconnected(
                f"{endpoint}: connection to {host} lost after sending ({detail}); "
                "the request may have been processed",
                endpoint=endpoint,
            )
        return GatewayError(f"{endpoint}: request to {host} failed ({detail})", endpoint=endpoint)
