"""Moved: this module's names now live in :mod:`smscampaign.reports.report` (kept for one release).

``smscampaign.report`` re-exports them; new code imports from the layered modules
(see docs/architecture.md).
"""

from __future__ import annotations

from smscampaign.reports.report import (
    CJK_FONTS,
    COLUMN_LABELS,
    STATUS_LABELS,
    VERDICT_LABELS,
    campaign_report,
    export_report,
    plot_report,
)

__all__ = [
    "CJK_FONTS",
    "COLUMN_LABELS",
    "STATUS_LABELS",
    "VERDICT_LABELS",
    "campaign_report",
    "export_report",
    "plot_report",
]
