"""Moved: this module's names now live in :mod:`smscampaign.notebook.accessor` (kept for one release).

``smscampaign.accessor`` re-exports them; new code imports from the layered modules
(see docs/architecture.md).
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
