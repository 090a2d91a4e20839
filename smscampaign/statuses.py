"""Moved: this module's names now live in :mod:`smscampaign.core.statuses` (kept for one release).

``smscampaign.statuses`` re-exports them; new code imports from the layered modules
(see docs/architecture.md).
"""

from __future__ import annotations

from smscampaign.core.statuses import (
    BatchState,
    BindStatus,
    OptionalPlanStatus,
    PlanStatus,
    Reason,
    ResultStatus,
    Status,
)

__all__ = [
    "BatchState",
    "BindStatus",
    "OptionalPlanStatus",
    "PlanStatus",
    "Reason",
    "ResultStatus",
    "Status",
]
