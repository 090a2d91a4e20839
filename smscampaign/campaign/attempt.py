"""One attempt: send one batch once and say what became of it, as an :class:`Outcome`.

This gateway has no idempotency key: what an attempt may conclude depends on how far the request got.

- an answer with a ``success`` code → ``accepted``;
- a ``retryable`` code, or a failure that provably never reached the gateway (connection refused,
  DNS, connect timeout) → ``failed``, ``retryable``;
- an ``ambiguous`` code (−109), or a failure after the request left (read timeout, connection lost,
  HTTP error, unreadable answer) → ``unknown``: it may have gone out, so it is never resent blindly;
- an ``account`` code → back to ``planned``, and the campaign stops (:func:`stops_campaign`);
- a ``request`` code, or content refused locally → ``failed`` for good.

>>> send_once(gateway, 3, ["13800138000"], "【小店】您好", None)        # doctest: +SKIP
Outcome(batch=3, state='accepted', code=0, ...)
"""

from __future__ import annotations

from smscampaign.core.codes import ACCOUNT, AMBIGUOUS, RETRYABLE, SUCCESS
from smscampaign.core.errors import (
    GatewayDisconnected,
    GatewayError,
    GatewayHTTPError,
    GatewayProtocolError,
    GatewayTimeout,
    SmsCampaignError,
)
from smscampaign.memory.journal import ACCEPTED, FAILED, PLANNED, UNKNOWN, Outcome
from smscampaign.wire.gateway import Gateway

__all__ = ["send_once", "stops_campaign"]


def send_once(
    gateway: Gateway, batch: int, receivers: list[str], content: str, sendtime: str | None
) -> Outcome:
    """Send ``batch`` once and classify what happened."""
    try:
        response = gateway.send_sms(receivers, content, sendtime)
    except GatewayError as exc:
        kind = type(exc).__name__
        if not exc.request_sent:
            return Outcome(
                batch,
                FAILED,
                error=_error_text(exc),
                retryable=True,
                reason=f"not sent: {exc}",
                error_kind=kind,
            )
        return Outcome(
            batch,
            UNKNOWN,
            error=_error_text(exc),
            reason=f"{_transport_kind(exc)}: the request may have reached the gateway",
            error_kind=kind,
        )
    except SmsCampaignError as exc:  # refused locally (e.g. unencodable content): nothing left
        return Outcome(
            batch,
            FAILED,
            error=_error_text(exc),
            reason=f"not sent: {exc}",
            error_kind=type(exc).__name__,
        )
    info = response.info
    message = response.message or None
    if info.category == SUCCESS:
        return Outcome(batch, ACCEPTED, code=response.code, gateway_result=message)
    reason = f"{info.en} ({info.code})"
    if info.category == RETRYABLE:
        return Outcome(
            batch, FAILED, code=response.code, gateway_result=message, reason=reason, retryable=True
        )
    if info.category == AMBIGUOUS:
        return Outcome(
            batch,
            UNKNOWN,
            code=response.code,
            gateway_result=message,
            reason=f"{reason}: messages may have gone out",
        )
    if info.category == ACCOUNT:
        return Outcome(
            batch,
            PLANNED,
            code=response.code,
            gateway_result=message,
            reason=f"campaign stopped: {reason}",
        )
    return Outcome(batch, FAILED, code=response.code, gateway_result=message, reason=reason)


def stops_campaign(outcome: Outcome) -> bool:
    """Whether ``outcome`` stops the campaign: an ``account`` code (no balance, a wrong password …)
    puts its batch back to ``planned`` — the only attempt that does — and no later batch can go
    out either."""
    return outcome.state == PLANNED


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _transport_kind(exc: GatewayError) -> str:
    if isinstance(exc, GatewayTimeout):
        return "read timeout"
    if isinstance(exc, GatewayDisconnected):
        return "connection lost after sending"
    if isinstance(exc, GatewayHTTPError):
        return f"HTTP error {exc.status}"
    if isinstance(exc, GatewayProtocolError):
        return "unreadable answer"
    return "transport failure"
