"""Moved: this module's names now live in :mod:`smscampaign.stages.recipients` (kept for one release).

``smscampaign.recipients`` re-exports them; new code imports from the layered modules
(see docs/architecture.md).
"""

from __future__ import annotations

from smscampaign.stages.recipients import (
    EXCEL_SUFFIXES,
    MAX_CELLS,
    MAX_UNPACKED_BYTES,
    TEXT_SUFFIXES,
    Source,
    load_recipients,
)

__all__ = [
    "EXCEL_SUFFIXES",
    "MAX_CELLS",
    "MAX_UNPACKED_BYTES",
    "Source",
    "TEXT_SUFFIXES",
    "load_recipients",
]
