"""``smscampaign.codes`` moved into the layers (mainly :mod:`smscampaign.core.codes`).

This module re-exports its names from their new homes for one release; new code imports
from ``smscampaign`` or the layered modules (see docs/architecture.md).
"""

from __future__ import annotations

from smscampaign.core.codes import (
    ACCOUNT,
    AMBIGUOUS,
    CATEGORIES,
    CODES,
    REQUEST,
    RETRYABLE,
    SUCCESS,
    CodeInfo,
    codes_table,
    describe_code,
)

__all__ = [
    "ACCOUNT",
    "AMBIGUOUS",
    "CATEGORIES",
    "CODES",
    "CodeInfo",
    "REQUEST",
    "RETRYABLE",
    "SUCCESS",
    "codes_table",
    "describe_code",
]
