"""``smscampaign.home`` moved into the layers (mainly :mod:`smscampaign.memory.home`).

This module re-exports its names from their new homes for one release; new code imports
from ``smscampaign`` or the layered modules (see docs/architecture.md).
"""

from __future__ import annotations

from smscampaign.memory.home import (
    CAMPAIGN_COLUMNS,
    ENV_HOME,
    MIGRATIONS,
    SEND_COLUMNS,
    SENT_STATUSES,
    ConfigError,
    Environment,
    JournalError,
    SQLiteStore,
    Store,
    connect_wal,
    content_sha256,
    home_dir,
    open_home,
    read_environment,
)

__all__ = [
    "CAMPAIGN_COLUMNS",
    "ConfigError",
    "ENV_HOME",
    "Environment",
    "JournalError",
    "MIGRATIONS",
    "SEND_COLUMNS",
    "SENT_STATUSES",
    "SQLiteStore",
    "Store",
    "connect_wal",
    "content_sha256",
    "home_dir",
    "open_home",
    "read_environment",
]
