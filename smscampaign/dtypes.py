"""Moved: this module's names now live in :mod:`smscampaign.core.dtypes` (kept for one release).

``smscampaign.dtypes`` re-exports them; new code imports from the layered modules
(see docs/architecture.md).
"""

from __future__ import annotations

from smscampaign.core.dtypes import (
    TEXT,
    needs_text,
)

__all__ = [
    "TEXT",
    "needs_text",
]
