"""Moved: this module's names now live in :mod:`smscampaign.stages.numbers` (kept for one release).

``smscampaign.numbers`` re-exports them; new code imports from the layered modules
(see docs/architecture.md).
"""

from __future__ import annotations

from smscampaign.core.dtypes import (
    TEXT,
)
from smscampaign.core.errors import (
    RecipientsError,
)
from smscampaign.core.statuses import (
    Reason,
    Status,
)
from smscampaign.stages.numbers import (
    OUTPUT_COLUMNS,
    PHONE_HEADERS,
    PROVINCES,
    UNKNOWN,
    as_text,
    check_numbers,
    detect_phone_column,
    is_valid_mobile,
    normalize_numbers,
    province_of,
)

__all__ = [
    "OUTPUT_COLUMNS",
    "PHONE_HEADERS",
    "PROVINCES",
    "Reason",
    "RecipientsError",
    "Status",
    "TEXT",
    "UNKNOWN",
    "as_text",
    "check_numbers",
    "detect_phone_column",
    "is_valid_mobile",
    "normalize_numbers",
    "province_of",
]
