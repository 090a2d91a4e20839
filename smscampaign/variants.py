"""``smscampaign.variants`` moved into the layers (mainly :mod:`smscampaign.campaign.variants`).

This module re-exports its names from their new homes for one release; new code imports
from ``smscampaign`` or the layered modules (see docs/architecture.md).
"""

from __future__ import annotations

from smscampaign.campaign.plan_model import (
    Plan,
)
from smscampaign.campaign.variants import (
    HOLDOUT,
    MIN_COUNT,
    VariantPlan,
    assign_variants,
    plan_variants,
    two_proportion_test,
)
from smscampaign.core.dtypes import (
    TEXT,
)
from smscampaign.core.errors import (
    ConfigError,
    PlanError,
)
from smscampaign.core.statuses import (
    OptionalPlanStatus,
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
