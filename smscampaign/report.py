"""Moved: this module's names now live in :mod:`smscampaign.reports.report` (kept for one release).

``smscampaign.report`` re-exports them; new code imports from the layered modules
(see docs/architecture.md).
"""

from __future__ import annotations

from smscampaign.core.codes import (
    describe_code,
)
from smscampaign.core.dtypes import (
    TEXT,
    needs_text,
)
from smscampaign.core.errors import (
    ConfigError,
)
from smscampaign.reports.report import (
    CJK_FONTS,
    COLUMN_LABELS,
    STATUS_LABELS,
    VERDICT_LABELS,
    campaign_report,
    export_report,
    plot_report,
    xlsx,
)
from smscampaign.stages.numbers import (
    province_of,
)
from smscampaign.wire.protocol import (
    BEIJING,
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
