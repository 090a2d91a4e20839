"""Moved: this module's names now live in :mod:`smscampaign.campaign.send` (kept for one release).

``smscampaign.send`` re-exports them; new code imports from the layered modules
(see docs/architecture.md).
"""

from __future__ import annotations

from smscampaign.campaign.send import (
    RESULT_COLUMNS,
    RESULT_STATUSES,
    Clock,
    read_journal,
    send_campaign,
)

__all__ = [
    "Clock",
    "RESULT_COLUMNS",
    "RESULT_STATUSES",
    "read_journal",
    "send_campaign",
]
