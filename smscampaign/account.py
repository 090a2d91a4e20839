"""Moved: this module's names now live in :mod:`smscampaign.campaign.account` (kept for one release).

``smscampaign.account`` re-exports them; new code imports from the layered modules
(see docs/architecture.md).
"""

from __future__ import annotations

from smscampaign.campaign.account import (
    BIND_COLUMNS,
    MAX_NUMBERS_PER_CALL,
    AccountInfo,
    RechargeResult,
    account_info,
    bind_numbers,
    recharge,
    unbind_numbers,
)

__all__ = [
    "AccountInfo",
    "BIND_COLUMNS",
    "MAX_NUMBERS_PER_CALL",
    "RechargeResult",
    "account_info",
    "bind_numbers",
    "recharge",
    "unbind_numbers",
]
