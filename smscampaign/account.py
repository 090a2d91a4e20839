"""``smscampaign.account`` moved into the layers (mainly :mod:`smscampaign.campaign.account`).

This module re-exports its names from their new homes for one release; new code imports
from ``smscampaign`` or the layered modules (see docs/architecture.md).
"""

from __future__ import annotations

from smscampaign.campaign.account import (
    ACCOUNT,
    BIND_COLUMNS,
    MAX_NUMBERS_PER_CALL,
    AccountInfo,
    RechargeResult,
    account_info,
    bind_numbers,
    recharge,
    unbind_numbers,
)
from smscampaign.core.codes import (
    CodeInfo,
)
from smscampaign.core.display import (
    html_table,
)
from smscampaign.core.dtypes import (
    TEXT,
)
from smscampaign.core.errors import (
    AccountError,
    ConfigError,
    GatewayError,
    GatewayProtocolError,
)
from smscampaign.core.statuses import (
    BindStatus,
    Reason,
    Status,
)
from smscampaign.stages.cells import (
    as_text,
)
from smscampaign.stages.numbers import (
    check_numbers,
)
from smscampaign.wire.gateway import (
    Gateway,
    GatewayResponse,
)
from smscampaign.wire.protocol import (
    BEIJING,
    MAX_NUMBERS,
    TIME_FORMAT,
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
