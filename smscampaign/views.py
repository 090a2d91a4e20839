"""Moved: this module's names now live in :mod:`smscampaign.notebook.views` (kept for one release).

``smscampaign.views`` re-exports them; new code imports from the layered modules
(see docs/architecture.md).
"""

from __future__ import annotations

from smscampaign.notebook.views import (
    LEAD_COLUMNS,
    MISSING,
    ResultsView,
    account_sends,
    arrange,
    name_columns,
    view,
)

__all__ = [
    "LEAD_COLUMNS",
    "MISSING",
    "ResultsView",
    "account_sends",
    "arrange",
    "name_columns",
    "view",
]
