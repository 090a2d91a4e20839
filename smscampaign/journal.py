"""Moved: this module's names now live in :mod:`smscampaign.memory.journal` (kept for one release).

``smscampaign.journal`` re-exports them; new code imports from the layered modules
(see docs/architecture.md).
"""

from __future__ import annotations

from smscampaign.memory.journal import (
    BATCH_COLUMNS,
    EXCLUDED_COLUMNS,
    RECONCILIATION_COLUMNS,
    SCHEMA_VERSION,
    STATES,
    Journal,
    Outcome,
    is_journal,
    journal_mobiles,
    open_journal,
)

__all__ = [
    "BATCH_COLUMNS",
    "EXCLUDED_COLUMNS",
    "Journal",
    "Outcome",
    "RECONCILIATION_COLUMNS",
    "SCHEMA_VERSION",
    "STATES",
    "is_journal",
    "journal_mobiles",
    "open_journal",
]
