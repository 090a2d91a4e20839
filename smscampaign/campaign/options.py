"""The send engine's options as small value objects (httpx's ``Timeout`` and ``Limits`` habit).

:func:`~smscampaign.send_campaign` keeps its keywords; :meth:`SendOptions.from_keywords` checks them
(raising :class:`~smscampaign.ConfigError` for a bad value) and groups them, so that the engine's
phases take one object instead of twenty keywords:

- :class:`Pacing` — how fast and how stubbornly: workers, rate limit, retries and their backoff;
- :class:`Reconciliation` — whether unknowns are settled by the balance (the default), and how long
  it must hold still;
- :class:`RepeatCheck` — the send registry's repeat check: which gateway, over what window;
- :class:`SendOptions` — those three, the send window and clock, and the run's switches.

>>> Pacing(workers=4, rate_limit=20.0)
Pacing(workers=4, rate_limit=20.0, max_retries=3, retry_backoff=0.5)
>>> Pacing(workers=0)
Traceback (most recent call last):
...
smscampaign.core.errors.ConfigError: workers must be at least 1, not 0
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as dtime
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from smscampaign.core.errors import ConfigError
from smscampaign.wire.protocol import BEIJING, parse_window

if TYPE_CHECKING:  # pragma: no cover - typing only
    from smscampaign.wire.gateway import Gateway

__all__ = ["Clock", "Pacing", "Reconciliation", "RepeatCheck", "SendOptions", "system_clock"]

#: What tells the engine the time (the send window is read from it).
Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Now, in Beijing time: the engine's clock unless one is injected."""
    return datetime.now(BEIJING)


@dataclass(frozen=True, slots=True)
class Pacing:
    """``workers`` threads; ``rate_limit`` requests per second in total (``None``: no limit); at most
    ``max_retries`` retries per batch, with exponential backoff from ``retry_backoff`` seconds."""

    workers: int = 1
    rate_limit: float | None = None
    max_retries: int = 3
    retry_backoff: float = 0.5

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ConfigError(f"workers must be at least 1, not {self.workers}")
        if self.max_retries < 0:
            raise ConfigError(f"max_retries must be at least 0, not {self.max_retries}")
        if self.rate_limit is not None and self.rate_limit <= 0:
            raise ConfigError(f"rate_limit must be positive requests per second, not {self.rate_limit}")


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """``reconcile="balance"`` (the default) settles unknowns by what the account was charged, from
    two ``sms_left`` readings ``settle`` seconds apart, taken only when an unknown needs settling;
    ``None`` leaves them unknown."""

    reconcile: Literal["balance"] | None = "balance"
    settle: float = 5.0

    def __post_init__(self) -> None:
        if self.reconcile not in (None, "balance"):
            raise ConfigError(f"reconcile must be None or 'balance', not {self.reconcile!r}")
        if self.settle < 0:
            raise ConfigError(f"settle must be seconds (>= 0), not {self.settle}")

    @property
    def by_balance(self) -> bool:
        """Whether unknowns are settled by the balance."""
        return self.reconcile == "balance"


@dataclass(frozen=True, slots=True)
class RepeatCheck:
    """Leave out whoever got the same content through the gateway ``registry_key`` within
    ``window`` from another journal, unless ``allow_repeat``."""

    registry_key: str
    window: timedelta = timedelta(hours=24)
    allow_repeat: bool = False

    @staticmethod
    def key_for(gateway: Gateway, registry_key: str | None) -> str:
        """``registry_key``, checked; ``None`` is the gateway's base URL."""
        if registry_key is None:
            return gateway.base_url
        if not isinstance(registry_key, str) or not registry_key.strip():
            raise ConfigError(
                f"registry_key must be a non-empty name such as 'sandbox://demo', not {registry_key!r}"
            )
        return registry_key

    @staticmethod
    def duration(repeat_window: timedelta | str) -> timedelta:
        """``repeat_window`` (a ``timedelta`` or text such as ``"7d"``) as a ``timedelta``."""
        try:
            return pd.Timedelta(repeat_window).to_pytimedelta()
        except (TypeError, ValueError):
            raise ConfigError(
                f"repeat_window must be a timedelta or a duration such as '24h', not {repeat_window!r}"
            ) from None


@dataclass(frozen=True, slots=True)
class SendOptions:
    """Everything :func:`~smscampaign.send_campaign` was asked, checked. ``clock`` is as given
    (``None``: the system clock; the history then records real time); ``sleep`` too (``None``: a
    wait that a stopped run cuts short)."""

    pacing: Pacing
    reconciliation: Reconciliation
    repeat: RepeatCheck
    window: tuple[dtime, dtime] | None = None
    clock: Clock | None = None
    sleep: Callable[[float], object] | None = None
    resend_unknown: bool = False
    allow_partial: bool = False
    progress: bool = True

    @classmethod
    def from_keywords(
        cls,
        plan: Any,
        gateway: Gateway,
        *,
        workers: int,
        rate_limit: float | None,
        max_retries: int,
        resend_unknown: bool,
        allow_partial: bool,
        send_window: tuple[str, str] | None,
        progress: bool,
        retry_backoff: float,
        clock: Clock | None,
        allow_repeat: bool,
        repeat_window: timedelta | str,
        reconcile: Literal["balance"] | None,
        settle: float,
        sleep: Callable[[float], object] | None,
        registry_key: str | None,
    ) -> SendOptions:
        """:func:`~smscampaign.send_campaign`'s keywords, checked in its order (the plan first);
        ``send_window=None`` is the plan's own window (a marketing plan's quiet hours) unless the
        plan has a ``sendtime``."""
        from smscampaign.campaign.plan import Plan  # noqa: PLC0415 - plan imports nothing of send

        if not isinstance(plan, Plan):
            raise ConfigError(
                f"send_campaign takes a Plan, not {type(plan).__name__}: call "
                "plan_campaign(recipients, template, …) first and pass its result"
            )
        pacing = Pacing(workers, rate_limit, max_retries, retry_backoff)
        reconciliation = Reconciliation(reconcile, settle)
        key = RepeatCheck.key_for(gateway, registry_key)
        if send_window is None and plan.sendtime is None:
            send_window = plan.send_window
        window = parse_window(send_window)
        repeat = RepeatCheck(key, RepeatCheck.duration(repeat_window), allow_repeat)
        return cls(
            pacing,
            reconciliation,
            repeat,
            window=window,
            clock=clock,
            sleep=sleep,
            resend_unknown=resend_unknown,
            allow_partial=allow_partial,
            progress=progress,
        )
