"""Moved: this module's names now live in :mod:`smscampaign.campaign.variants` (kept for one release).

``smscampaign.variants`` re-exports them; new code imports from the layered modules
(see docs/architecture.md).
"""

from __future__ import annotations

from smscampaign.campaign.plan import (
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
