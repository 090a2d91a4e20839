"""``smscampaign.account`` moved into the layers (mainly :mod:`smscampaign.campaign.account`).

This module re-exports its names from their new homes for one release; new code imports
from ``smscampaign`` or the layered modules (see docs/architecture.md).
"""

from __future__ import annotations

from smscampaign.campaign.account import (
    ACCOUNT,
    BEIJING,
    BIND_COLUMNS,
    MAX_NUMBERS,
    MAX_NUMBERS_PER_CALL,
    TEXT,
    TIME_FORMAT,
    AccountError,
    AccountInfo,
    BindStatus,
    CodeInfo,
    ConfigError,
    Gateway,
    GatewayError,
    GatewayProtocolError,
    GatewayResponse,
    RechargeResult,
    Status,
    account_info,
    as_text,
    bind_numbers,
    check_numbers,
    html_table,
    recharge,
    unbind_numbers,
)
from smscampaign.core.statuses import (
    Reason,
)

__all__ = [
    "ACCOUNT",
    "AccountError",
    "AccountInfo",
    "BEIJING",
    "BIND_COLUMNS",
    "BindStatus",
    "CodeInfo",
    "ConfigError",
    "Gateway",
    "GatewayError",
    "GatewayProtocolError",
    "GatewayResponse",
    "MAX_NUMBERS",
    "MAX_NUMBERS_PER_CALL",
    "Reason",
    "RechargeResult",
    "Status",
    "TEXT",
    "TIME_FORMAT",
    "account_info",
    "as_text",
    "bind_numbers",
    "check_numbers",
    "html_table",
    "recharge",
    "unbind_numbers",
]
