"""Moved: this module's names now live in :mod:`smscampaign.memory.history` (kept for one release).

``smscampaign.history`` re-exports them; new code imports from the layered modules
(see docs/architecture.md).
"""

from __future__ import annotations

from smscampaign.memory.history import (
    ATTRIBUTION_WINDOW,
    CAPPED,
    COMPARISON_COLUMNS,
    CONTACT_COLUMNS,
    OPT_OUT_COLUMNS,
    REPLY_COLUMNS,
    REPORT_SHEETS,
    Clock,
    History,
    apply_history,
    compare_campaigns,
    export_comparison,
    parse_frequency_cap,
    plot_comparison,
    record_sent,
    report_tables,
)

__all__ = [
    "ATTRIBUTION_WINDOW",
    "CAPPED",
    "COMPARISON_COLUMNS",
    "CONTACT_COLUMNS",
    "Clock",
    "History",
    "OPT_OUT_COLUMNS",
    "REPLY_COLUMNS",
    "REPORT_SHEETS",
    "apply_history",
    "compare_campaigns",
    "export_comparison",
    "parse_frequency_cap",
    "plot_comparison",
    "record_sent",
    "report_tables",
]
