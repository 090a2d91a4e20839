"""Moved: this module's names now live in :mod:`smscampaign.campaign.plan` (kept for one release).

``smscampaign.plan`` re-exports them; new code imports from the layered modules
(see docs/architecture.md).
"""

from __future__ import annotations

from smscampaign.campaign.plan import (
    BLOCKED,
    MARKETING_WINDOW,
    MAX_CONTENT_LENGTH,
    MAX_RECEIVERS,
    STATUSES,
    OnTooLong,
    Plan,
    Preview,
    ReviewMode,
    esc_kind,
    load_suppression,
    plan_campaign,
)
from smscampaign.wire.protocol import (
    resolve_sendtime,
)

__all__ = [
    "BLOCKED",
    "MARKETING_WINDOW",
    "MAX_CONTENT_LENGTH",
    "MAX_RECEIVERS",
    "OnTooLong",
    "Plan",
    "Preview",
    "ReviewMode",
    "STATUSES",
    "esc_kind",
    "load_suppression",
    "plan_campaign",
    "resolve_sendtime",
]
