"""``smscampaign.errors`` moved into the layers (mainly :mod:`smscampaign.core.errors`).

This module re-exports its names from their new homes for one release; new code imports
from ``smscampaign`` or the layered modules (see docs/architecture.md).
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
