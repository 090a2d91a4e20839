"""``smscampaign.gateway`` moved into the layers (mainly :mod:`smscampaign.wire.gateway`).

This module re-exports its names from their new homes for one release; new code imports
from ``smscampaign`` or the layered modules (see docs/architecture.md).
"""

from __future__ import annotations

from smscampaign.core.codes import (
    CodeInfo,
    describe_code,
)
from smscampaign.core.display import (
    html_table,
)
from smscampaign.core.errors import (
    UnencodableContentError,
)
from smscampaign.wire.gateway import (
    DEFAULT_BASE_URL,
    DEFAULT_DEADLINE,
    MAX_BODY_BYTES,
    RETRYABLE,
    ROOT_ELEMENT,
    AccountError,
    ConfigError,
    Gateway,
    GatewayConnectionError,
    GatewayConnectTimeout,
    GatewayDisconnected,
    GatewayError,
    GatewayHTTPError,
    GatewayProtocolError,
    GatewayRedirect,
    GatewayResponse,
    GatewayTimeout,
    format_sendtime,
    parse_response,
    python_codec,
    redact,
)
from smscampaign.wire.protocol import (
    DECLARED_CODECS,
    check_encodable,
    unencodable_characters,
)

__all__ = [
    "AccountError",
    "CodeInfo",
    "ConfigError",
    "DECLARED_CODECS",
    "DEFAULT_BASE_URL",
    "DEFAULT_DEADLINE",
    "Gateway",
    "GatewayConnectTimeout",
    "GatewayConnectionError",
    "GatewayDisconnected",
    "GatewayError",
    "GatewayHTTPError",
    "GatewayProtocolError",
    "GatewayRedirect",
    "GatewayResponse",
    "GatewayTimeout",
    "MAX_BODY_BYTES",
    "RETRYABLE",
    "ROOT_ELEMENT",
    "UnencodableContentError",
    "check_encodable",
    "describe_code",
    "format_sendtime",
    "html_table",
    "parse_response",
    "python_codec",
    "redact",
    "unencodable_characters",
]
