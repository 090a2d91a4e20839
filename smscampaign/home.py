"""Moved: this module's names now live in :mod:`smscampaign.memory.home` (kept for one release).

``smscampaign.home`` re-exports them; new code imports from the layered modules
(see docs/architecture.md).
"""

from __future__ import annotations

from smscampaign.memory.home import (
    CAMPAIGN_COLUMNS,
    ENV_HOME,
    MIGRATIONS,
    SEND_COLUMNS,
    SENT_STATUSES,
    Environment,
    SQLiteStore,
    Store,
    content_sha256,
    home_dir,
    open_home,
    read_environment,
)

__all__ = [
    "CAMPAIGN_COLUMNS",
    "ENV_HOME",
    "Environment",
    "MIGRATIONS",
    "SEND_COLUMNS",
    "SENT_STATUSES",
    "SQLiteStore",
    "Store",
    "content_sha256",
    "home_dir",
    "open_home",
    "read_environment",
]
