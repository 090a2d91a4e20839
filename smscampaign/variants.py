"""``smscampaign.variants`` moved into the layers (mainly :mod:`smscampaign.campaign.variants`).

This module re-exports its names from their new homes for one release; new code imports
from ``smscampaign`` or the layered modules (see docs/architecture.md).
"""

from __future__ import annotations

from smscampaign.campaign.variants import (
    HOLDOUT,
    MIN_COUNT,
    TEXT,
    ConfigError,
    OptionalPlanStatus,
    Plan,
    PlanError,
    VariantPlan,
    assign_variants,
    plan_variants,
    two_proportion_test,
)

__all__ = [
    "ConfigError",
    "HOLDOUT",
    "MIN_COUNT",
    "OptionalPlanStatus",
    "Plan",
    "PlanError",
    "TEXT",
    "VariantPlan",
    "assign_variants",
    "plan_variants",
    "two_proportion_test",
]
