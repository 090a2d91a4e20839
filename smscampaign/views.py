"""``smscampaign.views`` moved into the layers (mainly :mod:`smscampaign.notebook.views`).

This module re-exports its names from their new homes for one release; new code imports
from ``smscampaign`` or the layered modules (see docs/architecture.md).
"""

from __future__ import annotations

from smscampaign.core.dtypes import (
    needs_text,
)
from smscampaign.notebook.views import (
    LEAD_COLUMNS,
    MISSING,
    TEXT,
    ResultsView,
    account_sends,
    arrange,
    display_width,
    name_columns,
    view,
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
