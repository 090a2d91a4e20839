"""Moved: this module's names now live in :mod:`smscampaign.notebook.views` (kept for one release).

``smscampaign.views`` re-exports them; new code imports from the layered modules
(see docs/architecture.md).
"""

from __future__ import annotations

from smscampaign.core.columns import (
    LEAD_COLUMNS,
    arrange,
    name_columns,
)
from smscampaign.core.dtypes import (
    TEXT,
    needs_text,
)
from smscampaign.notebook.views import (
    MISSING,
    ResultsView,
    account_sends,
    view,
)
from smscampaign.reports.xlsx import (
    display_width,
)

__all__ = [
    "LEAD_COLUMNS",
    "MISSING",
    "ResultsView",
    "TEXT",
    "account_sends",
    "arrange",
    "display_width",
    "name_columns",
    "needs_text",
    "view",
]
