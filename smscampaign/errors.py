"""Moved: this module's names now live in :mod:`smscampaign.core.errors` (kept for one release).

``smscampaign.errors`` re-exports them; new code imports from the layered modules
(see docs/architecture.md).
"""

from __future__ import annotations

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
    InsufficientBalance,
    JournalBusy,
    JournalError,
    PlanError,
    RecipientsError,
    ReplyError,
    SendError,
    SmsCampaignError,
    TemplateError,
    UnencodableContentError,
)

__all__ = [
    "AccountError",
    "ConfigError",
    "GatewayConnectTimeout",
    "GatewayConnectionError",
    "GatewayDisconnected",
    "GatewayError",
    "GatewayHTTPError",
    "GatewayProtocolError",
    "GatewayRedirect",
    "GatewayTimeout",
    "InsufficientBalance",
    "JournalBusy",
    "JournalError",
    "PlanError",
    "RecipientsError",
    "ReplyError",
    "SendError",
    "SmsCampaignError",
    "TemplateError",
    "UnencodableContentError",
]
