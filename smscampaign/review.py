"""Moved: this module's names now live in :mod:`smscampaign.stages.review` (kept for one release).

``smscampaign.review`` re-exports them; new code imports from the layered modules
(see docs/architecture.md).
"""

from __future__ import annotations

from smscampaign.stages.review import (
    FINDING_COLUMNS,
    KINDS,
    RULES,
    Kind,
    Lexicon,
    RowReview,
    load_lexicon,
    review_content,
    review_rows,
)

__all__ = [
    "FINDING_COLUMNS",
    "KINDS",
    "Kind",
    "Lexicon",
    "RULES",
    "RowReview",
    "load_lexicon",
    "review_content",
    "review_rows",
]
