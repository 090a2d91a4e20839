"""``smscampaign.dtypes`` moved into the layers (mainly :mod:`smscampaign.core.dtypes`).

This module re-exports its names from their new homes for one release; new code imports
from ``smscampaign`` or the layered modules (see docs/architecture.md).
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
