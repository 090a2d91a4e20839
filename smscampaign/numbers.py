"""``smscampaign.numbers`` moved into the layers (mainly :mod:`smscampaign.stages.numbers`).

This module re-exports its names from their new homes for one release; new code imports
from ``smscampaign`` or the layered modules (see docs/architecture.md).
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
from smscampaign.stages.cells import (
    as_text,
)
from smscampaign.stages.numbers import (
    OUTPUT_COLUMNS,
    PHONE_HEADERS,
    check_numbers,
    detect_phone_column,
)
from smscampaign.stages.prefixes import (
    PROVINCES,
    UNKNOWN,
    is_valid_mobile,
    province_of,
)
from smscampaign.stages.shapes import (
    normalize_numbers,
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
