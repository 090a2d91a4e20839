"""Moved: this module's names now live in :mod:`smscampaign.stages.recipients` (kept for one release).

``smscampaign.recipients`` re-exports them; new code imports from the layered modules
(see docs/architecture.md).
"""

from __future__ import annotations

from smscampaign.core.allocator import (
    release_memory,
)
from smscampaign.core.dtypes import (
    TEXT,
)
from smscampaign.core.errors import (
    ConfigError,
    RecipientsError,
)
from smscampaign.stages.numbers import (
    as_text,
    detect_phone_column,
)
from smscampaign.stages.recipients import (
    EXCEL_SUFFIXES,
    MAX_CELLS,
    MAX_UNPACKED_BYTES,
    TEXT_SUFFIXES,
    Source,
    load_recipients,
)

__all__ = [
    "ConfigError",
    "EXCEL_SUFFIXES",
    "MAX_CELLS",
    "MAX_UNPACKED_BYTES",
    "RecipientsError",
    "Source",
    "TEXT",
    "TEXT_SUFFIXES",
    "as_text",
    "detect_phone_column",
    "load_recipients",
    "release_memory",
]
