"""``smscampaign.accessor`` moved into the layers (mainly :mod:`smscampaign.notebook.accessor`).

This module re-exports its names from their new homes for one release; new code imports
from ``smscampaign`` or the layered modules (see docs/architecture.md).
"""

from __future__ import annotations

from smscampaign.notebook.accessor import (
    SmsAccessor,
    register,
    register_when_pandas_loads,
)

__all__ = [
    "SmsAccessor",
    "register",
    "register_when_pandas_loads",
]
