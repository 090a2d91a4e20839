"""``smscampaign.report`` moved into the layers (mainly :mod:`smscampaign.reports.workbook`).

This module re-exports its names from their new homes for one release; new code imports
from ``smscampaign`` or the layered modules (see docs/architecture.md).
"""

from __future__ import annotations

from smscampaign.core.codes import (
    describe_code,
)
from smscampaign.core.dtypes import (
    TEXT,
    needs_text,
)
from smscampaign.reports import (
    xlsx,
)
from smscampaign.reports.plots import (
    CJK_FONTS,
    plot_report,
)
from smscampaign.reports.workbook import (
    BEIJING,
    COLUMN_LABELS,
    STATUS_LABELS,
    VERDICT_LABELS,
    ConfigError,
    campaign_report,
    export_report,
)
from smscampaign.stages.prefixes import (
    province_of,
)

__all__ = [
    "BEIJING",
    "CJK_FONTS",
    "COLUMN_LABELS",
    "ConfigError",
    "STATUS_LABELS",
    "TEXT",
    "VERDICT_LABELS",
    "campaign_report",
    "describe_code",
    "export_report",
    "needs_text",
    "plot_report",
    "province_of",
    "xlsx",
]
