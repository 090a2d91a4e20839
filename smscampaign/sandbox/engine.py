"""The sandbox's state and protocol engine: no sockets, testable directly.

:class:`Engine` holds the accounts, cards, bindings, replies, the ledger and the call log, and answers
one request at a time through :meth:`Engine.handle`, which takes the request as the wire gave it (method,
raw request target, raw body) and returns an :class:`Answer` (status, content type, body). Everything the
engine does is written down in ``docs/protocol.md``; where the provider's document is silent, that page
names our assumption and this module implements it exactly.

The engine is the front of four parts: :mod:`~smscampaign.sandbox.request` (reading the target and the
form), :mod:`~smscampaign.sandbox.endpoints` (the protocol, one function per endpoint),
:mod:`~smscampaign.sandbox.state` (accounts, cards, bindings, the ledger) and
:mod:`~smscampaign.sandbox.answers` (the XML envelope and the host's error pages).

>>> engine = Engine()
>>> engine.add_account("demo", "pw", sms_left=10)
>>> answer = engine.handle("GET", "/utf8/interface/user_info.aspx?username=demo&password=pw".encode())
>>> answer.status, answer.content_type
(200, 'text/xml; charset=utf-8')
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlencode

from smscampaign.core.errors import ConfigError
from smscampaign.sandbox.answers import (
    ERROR_PAGE,
    FORBIDDEN_PAGE,
    HTML,
    METHOD_PAGE,
    NOT_FOUND_PAGE,
    Answer,
    render,
    xml_content_type,
)
from smscampaign.sandbox.endpoints import ENGINE_ENDPOINTS, Forbidden, Result, process
from smscampaign.sandbox.endpoints import STAT_DAYS as STAT_DAYS
from smscampaign.sandbox.endpoints import STAT_MONTHS as STAT_MONTHS
from smscampaign.sandbox.request import form_body, parse_form, route, split_target
from smscampaign.sandbox.state import Account, Card, State, gateway_now
from smscampaign.wire.protocol import CHARSETS, TIME_FORMAT

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ENGINE_ENDPOINTS", "LEDGER_COLUMNS", "VOICE_COLUMNS", "Answer", "Engine", "Pusher"]

# Defined here before the split and still importable from here (``X as X`` above): STAT_DAYS,
# STAT_MONTHS; and, used here too, Answer, ERROR_PAGE, split_target, parse_form, ENGINE_ENDPOINTS.
logger = logging.getLogger(__name__)

LEDGER_COLUMNS: Final = ["account", "receiver", "content", "sendtime", "request_id", "accepted_at"]
VOICE_COLUMNS: Final = ["account", "receiver", "content", "request_id", "accepted_at"]
CALL_COLUMNS: Final = ["endpoint", "method", "charset", "username", "code", "fault", "at"]

_FAULT_KEYS = frozenset({"reset", "delay", "delay_p", "http500", "garbage"})
_METHODS = frozenset({"GET", "POST", "HEAD"})

#: Sends a reply push: (url, form body, charset) -> outcome ``{"status": …, "ok": …}``.
Pusher = Callable[[str, bytes, str], dict[str, Any]]


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
        self.maintenance = False
        self._faults: dict[str, float] = {}
        self.faults = faults or {}
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._state = State(page_size=page_size)
        self._calls: list[tuple[Any, ...]] = []
        self._pushes: list[dict[str, Any]] = []
        self._pusher = pusher
        # Set while the server stops: a ``delay`` fault answers at once then (its client is gone).
        self.stopping = threading.Event()

    # -- state -------------------------------------------------------------------------------------

    @property
    def page_size(self) -> int:
        """At most this many replies in one ``get_sms`` answer (settable)."""
        return self._state.page_size

    @page_size.setter
    def page_size(self, value: int) -> None:
        self._state.page_size = value

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
            old = self._state.accounts.get(username)
            self._state.accounts[username] = Account(
                username=username,
                password=password,
                user_id=old.user_id if old else 10000 + len(self._state.accounts) + 1,
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
            account = self._state.accounts[username]
            for key, value in changes.items():
                if key == "allowed_ips" and value is not None:
                    value = tuple(value)
                setattr(account, key, value)

    def account(self, username: str) -> dict[str, Any]:
        """A snapshot of one account (no password), including its bound numbers."""
        with self._lock:
            info = self._state.accounts[username].public()
            info["bound"] = sorted(m for m, u in self._state.bound.items() if u == username)
            return info

    def accounts(self) -> list[dict[str, Any]]:
        """Snapshots of every account, as :meth:`account` gives them."""
        with self._lock:
            return [self.account(username) for username in self._state.accounts]

    def adjust_balance(self, account: str, delta: int) -> int:
        """Change ``account``'s messages left by ``delta`` behind the client's back; returns the rest.

        A negative ``delta`` is a foreign deduction (someone else sending from the account), a positive
        one a recharge by the operator. Neither appears in the ledger or in ``sms_send``: only
        ``user_info``'s ``sms_left`` moves, which is what a client reconciling by balance must notice.
        """
        if isinstance(delta, bool) or not isinstance(delta, int):
            raise ConfigError(f"delta must be a whole number of messages, not {delta!r}")
        with self._lock:
            target = self._state.accounts.get(account)
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
            self._state.cards[number] = Card(number, password, int(sms), float(amount))

    def fail_next(self, endpoint: str, code: int, times: int = 1) -> None:
        """Answer the next ``times`` valid requests to ``endpoint`` with ``code``.

        For codes the gateway cannot be driven to by state (−100, −108, −109, −120, −121, −124, −126 …).
        ``send_sms`` with −109 (deduction failed) *does* record the messages, as the real one would.
        """
        if endpoint not in ENGINE_ENDPOINTS:
            raise ConfigError(f"unknown endpoint {endpoint!r}")
        with self._lock:
            self._state.forced.setdefault(endpoint, []).extend([int(code)] * times)

    def reply(
        self, sender: str, content: str, account: str, receivetime: datetime | str | None = None
    ) -> bool:
        """A mobile user replies. Queued for ``account`` only if ``sender`` is bound to it
        (returns False otherwise); pushed to the account's ``push_url`` if it has one."""
        if isinstance(receivetime, datetime):
            receivetime = receivetime.strftime(TIME_FORMAT)
        when = receivetime or gateway_now().strftime(TIME_FORMAT)
        with self._lock:
            target = self._state.accounts.get(account)
            if target is None or self._state.bound.get(sender) != account:
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
            rows = list(self._state.ledger)
        frame = pd.DataFrame(rows, columns=LEDGER_COLUMNS)
        frame["accepted_at"] = pd.to_datetime(frame["accepted_at"])
        return frame

    @property
    def voice_calls(self) -> pd.DataFrame:
        """Every voice verification call accepted (send_voice):
        ``account, receiver, content, request_id, accepted_at``."""
        import pandas as pd  # noqa: PLC0415 (only when asked: keeps the CLI's start-up light)

        with self._lock:
            rows = list(self._state.voice)
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
        the raw form body of a POST: urlencoded, or ``multipart/form-data`` when ``headers`` (names in
        lower case) say so. Parameters are decoded with the endpoint's charset — the gateway reads its
        charset from the path, not from Content-Type; a POST's form fields win over query fields of
        the same name. Unknown paths get IIS's HTML 404, other methods than GET, POST and HEAD its 405.
        """
        segments, query = split_target(target)
        routed = route(segments)
        if routed is None:
            return Answer(404, HTML, NOT_FOUND_PAGE)
        if method not in _METHODS:
            return Answer(405, HTML, METHOD_PAGE)
        charset, endpoint = routed
        codec = CHARSETS[charset]
        params = parse_form(query, codec)
        if method == "POST" and body:
            params.update(form_body(body, headers, codec))
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
            return Answer(500, HTML, ERROR_PAGE)
        try:
            code, extra = self._process(endpoint, params, client_ip)
        except Forbidden:
            self._record_call(endpoint, method, charset, username, None, "http403")
            return Answer(403, HTML, FORBIDDEN_PAGE)
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
        return Answer(200, xml_content_type(charset), body)

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
            self._calls.append((endpoint, method, charset, username, code, fault, gateway_now()))

    def _process(self, endpoint: str, params: dict[str, str], client_ip: str) -> Result:
        """Run one interface request; returns (code, extra XML elements)."""
        with self._lock:
            return process(self._state, endpoint, params, client_ip, maintenance=self.maintenance)

    #: The XML answer of an endpoint (:func:`~smscampaign.sandbox.answers.render`).
    render = staticmethod(render)
