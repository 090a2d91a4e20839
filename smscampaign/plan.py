"""``smscampaign.plan`` moved into the layers (mainly :mod:`smscampaign.campaign.plan`).

This module re-exports its names from their new homes for one release; new code imports
from ``smscampaign`` or the layered modules (see docs/architecture.md).
"""

from __future__ import annotations

from smscampaign.campaign.plan import (
    BLOCKED,
    MARKETING_WINDOW,
    MAX_CONTENT_LENGTH,
    MAX_RECEIVERS,
    STATUSES,
    Kind,
    OnTooLong,
    Plan,
    Preview,
    ReviewMode,
    esc_kind,
    load_suppression,
    plan_campaign,
    resolve_sendtime,
)
from smscampaign.core.allocator import (
    release_memory,
)
from smscampaign.core.dtypes import (
    TEXT,
)
from smscampaign.core.errors import (
    ConfigError,
    PlanError,
    TemplateError,
)
from smscampaign.core.statuses import (
    OptionalPlanStatus,
    PlanStatus,
)
from smscampaign.stages.review import (
    KINDS,
    Lexicon,
    RowReview,
    load_lexicon,
    review_rows,
)
from smscampaign.stages.templates import (
    Template,
    astral_counts,
    field_text,
    parse_template,
    render_bodies,
    resolve_columns,
    sms_lengths,
    split_opt_out,
    split_signature,
    truncate_sms,
)
from smscampaign.wire.protocol import (
    MAX_LENGTH,
    MAX_NUMBERS,
    in_window,
    parse_time,
    parse_window,
    python_codec,
    sms_length,
    unencodable_characters,
)

__all__ = [
    "BLOCKED",
    "ConfigError",
    "KINDS",
    "Kind",
    "Lexicon",
    "MARKETING_WINDOW",
    "MAX_CONTENT_LENGTH",
    "MAX_LENGTH",
    "MAX_NUMBERS",
    "MAX_RECEIVERS",
    "OnTooLong",
    "OptionalPlanStatus",
    "Plan",
    "PlanError",
    "PlanStatus",
    "Preview",
    "ReviewMode",
    "RowReview",
    "STATUSES",
    "TEXT",
    "Template",
    "TemplateError",
    "astral_counts",
    "esc_kind",
    "field_text",
    "in_window",
    "load_lexicon",
    "load_suppression",
    "parse_template",
    "parse_time",
    "parse_window",
    "plan_campaign",
    "python_codec",
    "release_memory",
    "render_bodies",
    "resolve_columns",
    "resolve_sendtime",
    "review_rows",
    "sms_length",
    "sms_lengths",
    "split_opt_out",
    "split_signature",
    "truncate_sms",
    "unencodable_characters",
]
