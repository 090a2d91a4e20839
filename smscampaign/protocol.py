"""``smscampaign.protocol`` moved into the layers (mainly :mod:`smscampaign.wire.protocol`).

This module re-exports its names from their new homes for one release; new code imports
from ``smscampaign`` or the layered modules (see docs/architecture.md).
"""

from __future__ import annotations

from smscampaign.wire.protocol import (
    BEIJING,
    CHARSETS,
    DECLARED_CODECS,
    DEFAULT_BASE_URL,
    ENDPOINTS,
    MAX_LENGTH,
    MAX_NUMBERS,
    TIME_FORMAT,
    ConfigError,
    PlanError,
    UnencodableContentError,
    as_beijing,
    beijing_now,
    check_encodable,
    format_sendtime,
    in_window,
    parse_time,
    parse_window,
    python_codec,
    resolve_sendtime,
    sms_length,
    unencodable_characters,
)

__all__ = [
    "BEIJING",
    "CHARSETS",
    "ConfigError",
    "DECLARED_CODECS",
    "DEFAULT_BASE_URL",
    "ENDPOINTS",
    "MAX_LENGTH",
    "MAX_NUMBERS",
    "PlanError",
    "TIME_FORMAT",
    "UnencodableContentError",
    "as_beijing",
    "beijing_now",
    "check_encodable",
    "format_sendtime",
    "in_window",
    "parse_time",
    "parse_window",
    "python_codec",
    "resolve_sendtime",
    "sms_length",
    "unencodable_characters",
]
