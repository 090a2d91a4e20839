"""``smscampaign.inbound`` moved into the layers (mainly :mod:`smscampaign.campaign.replies`).

This module re-exports its names from their new homes for one release; new code imports
from ``smscampaign`` or the layered modules (see docs/architecture.md).
"""

from __future__ import annotations

from smscampaign.campaign.replies import (
    DECLARED_CODECS,
    DETAIL_COLUMNS,
    MAX_PUSH_BYTES,
    OPT_OUT_KEYWORDS,
    REPLY_COLUMNS,
    STORE_COLUMNS,
    TEXT,
    AccountError,
    ConfigError,
    Gateway,
    GatewayError,
    GatewayHTTPError,
    GatewayRedirect,
    ReplyError,
    ReplyStore,
    SmsCampaignError,
    StartResponse,
    WSGIApp,
    fetch_replies,
    normalize_numbers,
    opt_outs,
    python_codec,
    reply_receiver,
    serve_replies,
)
from smscampaign.wire.protocol import (
    BEIJING,
    TIME_FORMAT,
)

__all__ = [
    "AccountError",
    "BEIJING",
    "ConfigError",
    "DECLARED_CODECS",
    "DETAIL_COLUMNS",
    "Gateway",
    "GatewayError",
    "GatewayHTTPError",
    "GatewayRedirect",
    "MAX_PUSH_BYTES",
    "OPT_OUT_KEYWORDS",
    "REPLY_COLUMNS",
    "ReplyError",
    "ReplyStore",
    "STORE_COLUMNS",
    "SmsCampaignError",
    "StartResponse",
    "TEXT",
    "TIME_FORMAT",
    "WSGIApp",
    "fetch_replies",
    "normalize_numbers",
    "opt_outs",
    "python_codec",
    "reply_receiver",
    "serve_replies",
]
