"""The simulated gateway's state: accounts, recharge cards, bound numbers, replies and the ledger.

Plain data with no lock and no protocol: the :class:`~smscampaign.sandbox.engine.Engine` holds one
:class:`State` and changes it only under its lock; the endpoints
(:mod:`~smscampaign.sandbox.endpoints`) read and change it there.

>>> state = State()
>>> state.next_request_id(), state.next_request_id()
(1, 2)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from smscampaign.wire.protocol import TIME_FORMAT, beijing_now

__all__ = ["Account", "Card", "State", "gateway_now"]


def gateway_now() -> datetime:
    """Beijing wall-clock time, naive (the gateway's own clock)."""
    return beijing_now().replace(tzinfo=None)


@dataclass
class Account:
    """One gateway account: credentials, balance, restrictions, push settings and its replies."""

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
        """user_info's ``expired_date``: yesterday for an expired account, a year ahead otherwise."""
        now = gateway_now()
        when = now - timedelta(days=1) if self.expired else now + timedelta(days=365)
        return when.strftime(TIME_FORMAT)


@dataclass
class Card:
    """A single-use recharge card worth ``sms`` messages and ``amount`` yuan."""

    number: str
    password: str = field(repr=False)
    sms: int
    amount: float
    used: bool = False


@dataclass
class State:
    """Everything the gateway remembers. ``ledger`` rows are ``(account, receiver, content, sendtime,
    request_id, accepted_at)``, ``voice`` rows ``(account, receiver, content, request_id,
    accepted_at)``; ``forced`` holds the codes :meth:`~smscampaign.sandbox.engine.Engine.fail_next`
    queued per endpoint; ``page_size`` caps the replies one ``get_sms`` returns."""

    page_size: int = 100
    accounts: dict[str, Account] = field(default_factory=dict)
    cards: dict[str, Card] = field(default_factory=dict)
    bound: dict[str, str] = field(default_factory=dict)  # mobile -> username
    forced: dict[str, list[int]] = field(default_factory=dict)
    ledger: list[tuple[Any, ...]] = field(default_factory=list)
    voice: list[tuple[Any, ...]] = field(default_factory=list)
    request_id: int = 0

    def next_request_id(self) -> int:
        """A new request id (what a successful send answers), counting from 1."""
        self.request_id += 1
        return self.request_id

    def forced_code(self, endpoint: str) -> int | None:
        """The next code queued for ``endpoint`` by ``fail_next``, if any (taken off the queue)."""
        queue = self.forced.get(endpoint)
        return queue.pop(0) if queue else None
