"""Moved: this module's names now live in :mod:`smscampaign.core.codes` (kept for one release).

``smscampaign.codes`` re-exports them; new code imports from the layered modules
(see docs/architecture.md).
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
