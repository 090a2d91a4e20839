"""``smscampaign.journal`` moved into the layers (mainly :mod:`smscampaign.memory.journal`).

This module re-exports its names from their new homes for one release; new code imports
from ``smscampaign`` or the layered modules (see docs/architecture.md).
"""

from __future__ import annotations

from smscampaign.core.dtypes import (
    TEXT,
)
from smscampaign.core.errors import (
    JournalBusy,
)
from smscampaign.memory.journal import (
    BATCH_COLUMNS,
    BEIJING,
    EXCLUDED_COLUMNS,
    RECONCILIATION_COLUMNS,
    SCHEMA_VERSION,
    STATES,
    BatchState,
    ConfigError,
    Journal,
    JournalError,
    Outcome,
    open_journal,
)
from smscampaign.memory.journal_reads import (
    is_journal,
    journal_mobiles,
)
from smscampaign.memory.sqlite import (
    connect_wal,
)

__all__ = [
    "BATCH_COLUMNS",
    "BEIJING",
    "BatchState",
    "ConfigError",
    "EXCLUDED_COLUMNS",
    "Journal",
    "JournalBusy",
    "JournalError",
    "Outcome",
    "RECONCILIATION_COLUMNS",
    "SCHEMA_VERSION",
    "STATES",
    "TEXT",
    "connect_wal",
    "is_journal",
    "journal_mobiles",
    "open_journal",
]
