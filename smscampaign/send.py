"""``smscampaign.send`` moved into the layers (mainly :mod:`smscampaign.campaign.send`).

This module re-exports its names from their new homes for one release; new code imports
from ``smscampaign`` or the layered modules (see docs/architecture.md).
"""

from __future__ import annotations

from smscampaign.campaign.send import (
    ACCEPTED,
    ACCOUNT,
    FAILED,
    IN_FLIGHT,
    LEAD_COLUMNS,
    PLANNED,
    RESULT_COLUMNS,
    RESULT_STATUSES,
    Clock,
    Journal,
    JournalError,
    ResultStatus,
    read_journal,
    send_campaign,
)
from smscampaign.core.codes import (
    AMBIGUOUS,
    RETRYABLE,
    SUCCESS,
    describe_code,
)
from smscampaign.core.columns import (
    arrange,
)
from smscampaign.core.dtypes import (
    TEXT,
)
from smscampaign.core.errors import (
    AccountError,
    ConfigError,
    GatewayDisconnected,
    GatewayError,
    GatewayHTTPError,
    GatewayProtocolError,
    GatewayTimeout,
    InsufficientBalance,
    SmsCampaignError,
)
from smscampaign.memory.home import (
    Store,
    content_sha256,
    open_home,
)
from smscampaign.memory.journal import (
    Outcome,
)
from smscampaign.stages.prefixes import (
    UNKNOWN,
)
from smscampaign.wire.gateway import (
    Gateway,
)
from smscampaign.wire.protocol import (
    BEIJING,
    in_window,
    parse_window,
)

__all__ = [
    "ACCEPTED",
    "ACCOUNT",
    "AMBIGUOUS",
    "AccountError",
    "BEIJING",
    "Clock",
    "ConfigError",
    "FAILED",
    "Gateway",
    "GatewayDisconnected",
    "GatewayError",
    "GatewayHTTPError",
    "GatewayProtocolError",
    "GatewayTimeout",
    "IN_FLIGHT",
    "InsufficientBalance",
    "Journal",
    "JournalError",
    "LEAD_COLUMNS",
    "Outcome",
    "PLANNED",
    "RESULT_COLUMNS",
    "RESULT_STATUSES",
    "RETRYABLE",
    "ResultStatus",
    "SUCCESS",
    "SmsCampaignError",
    "Store",
    "TEXT",
    "UNKNOWN",
    "arrange",
    "content_sha256",
    "describe_code",
    "in_window",
    "open_home",
    "parse_window",
    "read_journal",
    "send_campaign",
]
