"""Moved: this module's names now live in :mod:`smscampaign.campaign.variants` (kept for one release).

``smscampaign.variants`` re-exports them; new code imports from the layered modules
(see docs/architecture.md).
"""

from __future__ import annotations

from smscampaign.campaign.variants import (
    HOLDOUT,
    MIN_COUNT,
    VariantPlan,
    assign_variants,
    plan_variants,
    two_proportion_test,
)

__all__ = [
    "HOLDOUT",
    "MIN_COUNT",
    "VariantPlan",
    "assign_variants",
    "plan_variants",
    "two_proportion_test",
]
