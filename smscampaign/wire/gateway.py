"""HTTP client for the 短信通 gateway: one method per endpoint, answers as :class:`GatewayResponse`.

A negative return code is an *answer* (``response.ok`` is False, ``response.info`` explains it), not an
exception. Exceptions (:class:`~smscampaign.GatewayError` and its subclasses) are for transport
and protocol failures, and each says whether the request may have reached the gateway (``request_sent``).
The protocol itself (endpoints, fields, answers, assumptions) is written down in ``docs/protocol.md``.

This module is the client; its parts live beside it: :mod:`~smscampaign.wire.form` (the request form),
:mod:`~smscampaign.wire.deadline` (the whole-call deadline), :mod:`~smscampaign.wire.answers` (parsing
answers) and :mod:`~smscampaign.wire.redact` (secrets out of texts and logs).

>>> gw = Gateway("demo", "secret", base_url="http://127.0.0.1:8080")   # doctest: +SKIP
>>> gw.send_sms(["13800138000"], "您好【小店】").code                   # doctest: +SKIP
1
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import NewConnectionError

from smscampaign.core.codes import RETRYABLE
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
)
from smscampaign.core.settings import read_environment
from smscampaign.wire.answers import ROOT_ELEMENT as ROOT_ELEMENT
from smscampaign.wire.answers import GatewayResponse, parse_response, read_user_stat
from smscampaign.wire.deadline import Call, Watchdog, WatchedAdapter
from smscampaign.wire.form import check_form, encode_form, join_numbers
from smscampaign.wire.protocol import DEFAULT_BASE_URL, format_sendtime, python_codec
from smscampaign.wire.redact import install_log_redaction, redact

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "Gateway",
    "GatewayResponse",
    "parse_response",
    "redact",
]

# ROOT_ELEMENT (now in answers) was defined here and stays importable from here (``X as X`` above).
logger = logging.getLogger(__name__)

MAX_BODY_BYTES: Final = 1 << 20
#: Default total deadline of one call, seconds: connect, send and the whole answer.
DEFAULT_DEADLINE: Final = 60.0
_VOICE_CODE = re.compile(r"[0-9]{4,8}")


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


def _check_status(response: requests.Response, endpoint: str) -> None:
    """Raise for any HTTP status but 200: a redirect is never followed, a 403 is the host's IP
    allow-list, anything else is a :class:`GatewayHTTPError`."""
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
    ``retry_backoff`` seconds, doubling — all within one ``deadline``: retries and their waits
    included, a call never takes longer. The password never appears in the repr, log records or
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
        self._watchdog = Watchdog()
        self._session = requests.Session()
        # max_retries=0: urllib3 never resends a request on its own (no idempotency on this gateway).
        adapter = WatchedAdapter(pool_connections=1, pool_maxsize=max(1, pool_size), max_retries=0)
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
        install_log_redaction()

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
        params = {"receiver": join_numbers(receivers), "content": content}
        formatted = format_sendtime(sendtime)
        if formatted is not None:
            params["sendtime"] = formatted
        return self._call("send_sms", params)

    def bind_mobile(self, mobiles: str | Iterable[Any]) -> GatewayResponse:
        """Bind numbers (≤ 500) to the account so that their replies reach it."""
        return self._call("bind_mobile", {"mobile": join_numbers(mobiles)})

    def cancel_bind(self, mobiles: str | Iterable[Any]) -> GatewayResponse:
        """Cancel the binding of numbers (≤ 500)."""
        return self._call("cancel_bind", {"mobile": join_numbers(mobiles)})

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
        rows = read_user_stat(response.fields)
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
        """Call a read-only endpoint, retrying what is safe to retry (see the class docstring), all
        within one ``deadline``: a retry gets what is left of it, and none starts once it is spent."""
        deadline = time.monotonic() + self.deadline
        for attempt in range(self.read_retries + 1):
            pause = self.retry_backoff * 2**attempt
            try:
                response = self._call(endpoint, {}, deadline=deadline)
            except GatewayError as exc:
                if not self._retry_within(attempt, pause, deadline) or not _may_retry(
                    exc, after_sending=after_sending
                ):
                    raise
                logger.info("%s failed (%s); retrying", endpoint, exc)
            else:
                if response.info.category != RETRYABLE or not self._retry_within(
                    attempt, pause, deadline
                ):
                    return response
                logger.info("%s answered %s; retrying", endpoint, response.info)
            time.sleep(pause)
        raise AssertionError("unreachable")  # pragma: no cover

    def _retry_within(self, attempt: int, pause: float, deadline: float) -> bool:
        """Whether attempt ``attempt`` may be followed by another after ``pause`` seconds, before
        ``deadline``."""
        return attempt < self.read_retries and time.monotonic() + pause < deadline

    def _call(
        self,
        endpoint: str,
        params: dict[str, str],
        *,
        secrets: tuple[str, ...] = (),
        deadline: float | None = None,
    ) -> GatewayResponse:
        """One request, never retried: check and encode the form, send it, check the HTTP status,
        parse the answer; by ``deadline`` (``time.monotonic()`` seconds; default ``self.deadline``
        from now)."""
        values = {"username": self.username, "password": self._password, **params}
        check_form(values, self.charset)
        query = encode_form(values, python_codec(self.charset))
        url = self.url(endpoint)
        logger.debug("%s %s (%d parameters)", self.method, url, len(params) + 2)
        started = time.perf_counter()
        response, body = self._send(endpoint, url, query, secrets, deadline)
        elapsed = time.perf_counter() - started
        _check_status(response, endpoint)
        parsed = parse_response(body, endpoint=endpoint, charset=self.charset)
        logger.debug("%s -> %d %s in %.3f s", endpoint, parsed.code, parsed.info.en, elapsed)
        return replace(parsed, elapsed=elapsed)

    def _send(
        self, endpoint: str, url: str, query: str, secrets: tuple[str, ...], deadline: float | None
    ) -> tuple[requests.Response, bytes]:
        """The HTTP exchange within the call's deadline: the response and its whole body."""
        if deadline is None:
            deadline = time.monotonic() + self.deadline
        # The failure is raised outside the except block, so that no exception of requests/urllib3
        # (whose texts and attributes hold the URL — in GET mode the password) is on its __context__.
        failure: GatewayError | None = None
        with self._watchdog.watching(deadline) as call:
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
        if call.fired:
            failure = self._past_deadline(endpoint)
        if failure is not None:
            raise failure from None
        return response, body

    def _timeouts(self, call: Call) -> tuple[float, float]:
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

    def _read_body(self, response: requests.Response, endpoint: str, call: Call) -> bytes:
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
