"""``smscampaign.statuses`` moved into the layers (mainly :mod:`smscampaign.core.statuses`).

This module re-exports its names from their new homes for one release; new code imports
from ``smscampaign`` or the layered modules (see docs/architecture.md).
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
