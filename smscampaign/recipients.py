"""``smscampaign.recipients`` moved into the layers (mainly :mod:`smscampaign.stages.recipients`).

This module re-exports its names from their new homes for one release; new code imports
from ``smscampaign`` or the layered modules (see docs/architecture.md).
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
from smscampaign.stages.cells import (
    as_text,
)
from smscampaign.stages.numbers import (
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
