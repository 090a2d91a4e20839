"""``smscampaign.review`` moved into the layers (mainly :mod:`smscampaign.stages.review`).

This module re-exports its names from their new homes for one release; new code imports
from ``smscampaign`` or the layered modules (see docs/architecture.md).
"""

from __future__ import annotations

from smscampaign.stages.review import (
    FINDING_COLUMNS,
    KINDS,
    OPT_OUT_FORMS,
    RULES,
    SIGNATURE_CLOSE,
    SIGNATURE_OPEN,
    TEXT,
    ConfigError,
    Kind,
    Lexicon,
    RowReview,
    Template,
    load_lexicon,
    normalize_signature,
    parse_template,
    python_codec,
    review_content,
    review_rows,
    unencodable_characters,
)

__all__ = [
    "ConfigError",
    "FINDING_COLUMNS",
    "KINDS",
    "Kind",
    "Lexicon",
    "OPT_OUT_FORMS",
    "RULES",
    "RowReview",
    "SIGNATURE_CLOSE",
    "SIGNATURE_OPEN",
    "TEXT",
    "Template",
    "load_lexicon",
    "normalize_signature",
    "parse_template",
    "python_codec",
    "review_content",
    "review_rows",
    "unencodable_characters",
]
