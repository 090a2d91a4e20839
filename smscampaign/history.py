"""``smscampaign.history`` moved into the layers (mainly :mod:`smscampaign.memory.history`).

This module re-exports its names from their new homes for one release; new code imports
from ``smscampaign`` or the layered modules (see docs/architecture.md).
"""

from __future__ import annotations

from smscampaign.campaign.caps import (
    CAPPED,
    apply_history,
    parse_frequency_cap,
)
from smscampaign.core.errors import (
    PlanError,
)
from smscampaign.core.statuses import (
    OptionalPlanStatus,
)
from smscampaign.memory.history import (
    ATTRIBUTION_WINDOW,
    BEIJING,
    CAMPAIGN_COLUMNS,
    CONTACT_COLUMNS,
    OPT_OUT_COLUMNS,
    REPLY_COLUMNS,
    TEXT,
    TIME_FORMAT,
    Clock,
    ConfigError,
    History,
    SmsCampaignError,
    SQLiteStore,
    normalize_numbers,
    open_home,
    record_sent,
)
from smscampaign.memory.home import (
    home_dir,
)
from smscampaign.reports.compare import (
    COMPARISON_COLUMNS,
    REPORT_SHEETS,
    compare_campaigns,
    export_comparison,
    report_tables,
)
from smscampaign.reports.plots import (
    plot_comparison,
)

__all__ = [
    "ATTRIBUTION_WINDOW",
    "BEIJING",
    "CAMPAIGN_COLUMNS",
    "CAPPED",
    "COMPARISON_COLUMNS",
    "CONTACT_COLUMNS",
    "Clock",
    "ConfigError",
    "History",
    "OPT_OUT_COLUMNS",
    "OptionalPlanStatus",
    "PlanError",
    "REPLY_COLUMNS",
    "REPORT_SHEETS",
    "SQLiteStore",
    "SmsCampaignError",
    "TEXT",
    "TIME_FORMAT",
    "apply_history",
    "compare_campaigns",
    "export_comparison",
    "home_dir",
    "normalize_numbers",
    "open_home",
    "parse_frequency_cap",
    "plot_comparison",
    "record_sent",
    "report_tables",
]
