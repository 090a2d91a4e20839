"""Moved: this module's names now live in :mod:`smscampaign.wire.gateway` (kept for one release).

``smscampaign.gateway`` re-exports them; new code imports from the layered modules
(see docs/architecture.md).
"""

from __future__ import annotations

from smscampaign.wire.gateway import (
    DEFAULT_DEADLINE,
    MAX_BODY_BYTES,
    ROOT_ELEMENT,
    Gateway,
    GatewayResponse,
    parse_response,
    redact,
)

__all__ = [
    "DEFAULT_DEADLINE",
    "Gateway",
    "GatewayResponse",
    "MAX_BODY_BYTES",
    "ROOT_ELEMENT",
    "parse_response",
    "redact",
]
