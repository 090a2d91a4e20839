"""``smscampaign.numbers`` moved into the layers (mainly :mod:`smscampaign.stages.numbers`).

This module re-exports its names from their new homes for one release; new code imports
from ``smscampaign`` or the layered modules (see docs/architecture.md).
"""

from __future__ import annotations

from smscampaign.stages.numbers import (
    OUTPUT_COLUMNS,
    PHONE_HEADERS,
    PROVINCES,
    TEXT,
    UNKNOWN,
    Reason,
    RecipientsError,
    Status,
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
