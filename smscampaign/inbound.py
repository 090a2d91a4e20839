"""``smscampaign.inbound`` moved into the layers (mainly :mod:`smscampaign.campaign.replies`).

This module re-exports its names from their new homes for one release; new code imports
from ``smscampaign`` or the layered modules (see docs/architecture.md).
"""

from __future__ import annotations

from smscampaign.campaign.replies import (
    MAX_PUSH_BYTES,
    REPLY_COLUMNS,
    StartResponse,
    WSGIApp,
    fetch_replies,
    opt_outs,
    reply_receiver,
    serve_replies,
)
from smscampaign.core.dtypes import (
    TEXT,
)
from smscampaign.core.errors import (
    AccountError,
    ConfigError,
    GatewayError,
    GatewayHTTPError,
    GatewayRedirect,
    ReplyError,
    SmsCampaignError,
)
from smscampaign.memory.replies import (
    DETAIL_COLUMNS,
    STORE_COLUMNS,
    ReplyStore,
)
from smscampaign.stages.keywords import (
    OPT_OUT_KEYWORDS,
)
from smscampaign.stages.shapes import (
    normalize_numbers,
)
from smscampaign.wire.gateway import (
    Gateway,
)
from smscampaign.wire.protocol import (
    BEIJING,
    DECLARED_CODECS,
    TIME_FORMAT,
    python_codec,
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
