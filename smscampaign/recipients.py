"""``smscampaign.recipients`` moved into the layers (mainly :mod:`smscampaign.stages.recipients`).

This module re-exports its names from their new homes for one release; new code imports
from ``smscampaign`` or the layered modules (see docs/architecture.md).
"""

from __future__ import annotations

from smscampaign.stages.recipients import (
    EXCEL_SUFFIXES,
    MAX_CELLS,
    MAX_UNPACKED_BYTES,
    TEXT,
    TEXT_SUFFIXES,
    ConfigError,
    RecipientsError,
    Source,
    as_text,
    detect_phone_column,
    load_recipients,
    release_memory,
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
