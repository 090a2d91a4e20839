"""Moved: this module's names now live in :mod:`smscampaign.campaign.replies` (kept for one release).

``smscampaign.inbound`` re-exports them; new code imports from the layered modules
(see docs/architecture.md).
"""

from __future__ import annotations

from smscampaign.campaign.replies import (
    DETAIL_COLUMNS,
    MAX_PUSH_BYTES,
    OPT_OUT_KEYWORDS,
    REPLY_COLUMNS,
    STORE_COLUMNS,
    ReplyStore,
    StartResponse,
    WSGIApp,
    fetch_replies,
    opt_outs,
    reply_receiver,
    serve_replies,
)

__all__ = [
    "DETAIL_COLUMNS",
    "MAX_PUSH_BYTES",
    "OPT_OUT_KEYWORDS",
    "REPLY_COLUMNS",
    "ReplyStore",
    "STORE_COLUMNS",
    "StartResponse",
    "WSGIApp",
    "fetch_replies",
    "opt_outs",
    "reply_receiver",
    "serve_replies",
]
