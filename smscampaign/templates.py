"""``smscampaign.templates`` moved into the layers (mainly :mod:`smscampaign.stages.templates`).

This module re-exports its names from their new homes for one release; new code imports
from ``smscampaign`` or the layered modules (see docs/architecture.md).
"""

from __future__ import annotations

from smscampaign.stages.templates import (
    OPT_OUT_FORMS,
    SIGNATURE_CLOSE,
    SIGNATURE_OPEN,
    Template,
    TemplateError,
    astral_counts,
    field_text,
    normalize_signature,
    parse_template,
    render_bodies,
    resolve_columns,
    sms_length,
    sms_lengths,
    split_opt_out,
    split_signature,
    truncate_sms,
)

__all__ = [
    "OPT_OUT_FORMS",
    "SIGNATURE_CLOSE",
    "SIGNATURE_OPEN",
    "Template",
    "TemplateError",
    "astral_counts",
    "field_text",
    "normalize_signature",
    "parse_template",
    "render_bodies",
    "resolve_columns",
    "sms_length",
    "sms_lengths",
    "split_opt_out",
    "split_signature",
    "truncate_sms",
]
