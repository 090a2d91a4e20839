"""The exceptions smscampaign raises, all rooted in :class:`SmsCampaignError`.

Bad *rows* are data (``status`` / ``reason`` columns), never exceptions; these are raised only when the
caller misuses the API or the world fails. Each also inherits from the builtin it resembles, so
``except ValueError`` keeps working for callers who do not know this package::

    SmsCampaignError
    ├── GatewayError                      transport or protocol failure talking to the gateway
    │   ├── GatewayConnectionError        (ConnectionError) the request provably never left:
    │   │   │                             connection refused, DNS failure
    │   │   └── GatewayConnectTimeout     (+ GatewayTimeout) no connection within the connect timeout
    │   ├── GatewayTimeout                (TimeoutError) no answer in time; the request may have arrived
    │   ├── GatewayDisconnected           (ConnectionError) connection dropped after the request was sent
    │   ├── GatewayHTTPError              the gateway answered with an HTTP error status
    │   └── GatewayProtocolError          (ValueError) the body is not a gateway answer: not XML,
    │       │                             wrong root element, code out of range, oversized,
    │       │                             malformed, entity tricks
    │       └── GatewayRedirect           a 3xx answer (never followed: it would carry the password)
    ├── UnencodableContentError           (ValueError) text the request charset cannot carry
    ├── RecipientsError                   (ValueError) unreadable list, no phone column, unknown sheet
    ├── TemplateError                     (ValueError) placeholder naming no column, content too long
    ├── PlanError                         (ValueError) bad plan options, e.g. sendtime in the past
    ├── SendError                         the send engine cannot go on
    │   ├── InsufficientBalance           fewer messages left than the plan needs
    │   └── JournalError                  the journal belongs to another plan, is unreadable or
    │       │                             damaged, or cannot be opened (names the file and the cause)
    │       ├── JournalBusy               another run holds the journal (pid, host, start time)
    │       └── JournalFull               (OSError) the journal's disk is full: nothing more is sent
    ├── AccountError                      user_info / recharge answered with a negative code
    ├── HomeError                         (OSError) the campaign home cannot be read or written: its
    │                                     server gone, the disk full, no permission (names the home,
    │                                     never its password)
    └── ConfigError                       (ValueError) missing or invalid configuration, API misuse
        ├── ReplyError                    replies without sender / content, unreadable receive time
        └── OutcomesError                 outcomes (orders, visits) without a time column, unreadable
                                          times, keys or values (rows named), a key column the
                                          campaign never had, a window that is not a duration

Every :class:`GatewayError` says whether the request may have reached the gateway
(``request_sent``): ``False`` only when it provably did not, which is what makes a retry safe.
Messages are plain and stable, and never contain a password.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AccountError",
    "ConfigError",
    "GatewayConnectTimeout",
    "GatewayConnectionError",
    "GatewayDisconnected",
    "GatewayError",
    "GatewayHTTPError",
    "GatewayProtocolError",
    "GatewayRedirect",
    "GatewayTimeout",
    "HomeError",
    "InsufficientBalance",
    "JournalBusy",
    "JournalError",
    "JournalFull",
    "OutcomesError",
    "PlanError",
    "RecipientsError",
    "ReplyError",
    "SendError",
    "SmsCampaignError",
    "TemplateError",
    "UnencodableContentError",
]


class SmsCampaignError(Exception):
    """Root of every exception raised by smscampaign."""


class GatewayError(SmsCampaignError):
    """The gateway could not be asked, or its answer could not be read.

    ``endpoint`` names the interface (``"send_sms"`` …); ``request_sent`` is ``False`` only when the
    request provably never reached the gateway, ``True`` when it may have; ``replies`` holds what
    :func:`~smscampaign.fetch_replies` had already fetched when it failed (else None).
    """

    request_sent: bool = True

    def __init__(
        self,
        message: str,
        *,
        endpoint: str | None = None,
        request_sent: bool | None = None,
        replies: Any = None,
    ) -> None:
        super().__init__(message)
        self.endpoint = endpoint
        self.replies = replies
        if request_sent is not None:
            self.request_sent = request_sent


class GatewayConnectionError(GatewayError, ConnectionError):
    """No connection could be made (refused, DNS): the request never left."""

    request_sent = False


class GatewayTimeout(GatewayError, TimeoutError):
    """No answer within the read timeout: the request may have been processed."""


class GatewayConnectTimeout(GatewayConnectionError, GatewayTimeout):
    """No connection within the connect timeout: the request never left."""

    request_sent = False


class GatewayDisconnected(GatewayError, ConnectionError):
    """The connection broke after the request was sent: it may have been processed."""


class GatewayHTTPError(GatewayError):
    """The gateway answered with an HTTP error status instead of a return code."""

    def __init__(self, message: str, *, status: int, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.status = status


class GatewayProtocolError(GatewayError, ValueError):
    """The body is not a readable gateway answer (not XML, oversized, malformed, entities)."""


class GatewayRedirect(GatewayProtocolError):
    """The gateway answered with a redirect (3xx, ``status``); it is never followed, since following
    it would re-send the password (and a recharge card's password) to wherever ``Location`` points."""

    def __init__(self, message: str, *, status: int, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.status = status


class UnencodableContentError(SmsCampaignError, ValueError):
    """Text holds characters the request charset cannot carry; ``characters`` lists them."""

    def __init__(self, message: str, *, charset: str, characters: tuple[str, ...]) -> None:
        super().__init__(message)
        self.charset = charset
        self.characters = characters


class RecipientsError(SmsCampaignError, ValueError):
    """A recipient list cannot be loaded: missing file, empty sheet, no phone column …"""


class TemplateError(SmsCampaignError, ValueError):
    """A message template is unusable: unknown placeholder, content too long …"""


class PlanError(SmsCampaignError, ValueError):
    """Invalid planning options, e.g. a sendtime that is not in the future."""


class SendError(SmsCampaignError):
    """The send engine cannot go on."""


class InsufficientBalance(SendError):
    """The account has fewer messages left than the plan needs."""

    def __init__(self, message: str, *, needed: int, available: int) -> None:
        super().__init__(message)
        self.needed = needed
        self.available = available


class JournalError(SendError):
    """The journal cannot be used: it belongs to another plan, or is unreadable."""


class JournalBusy(JournalError):
    """Another run (in this or another process) is sending from the journal; ``holder`` has its
    ``pid``, ``host`` and ``started`` time when known."""

    def __init__(self, message: str, *, holder: dict[str, Any]) -> None:
        super().__init__(message)
        self.holder = holder


class JournalFull(JournalError, OSError):
    """The journal cannot be written because its disk is full. The run stops before its next
    request; what the journal recorded is kept, and a run with space again resumes it."""


class AccountError(SmsCampaignError):
    """An account call (user_info, recharge) answered with a negative code.

    ``code`` is the gateway's (negative) code and ``info`` its :class:`~smscampaign.CodeInfo`.
    ``replies`` holds what :func:`~smscampaign.fetch_replies` had already fetched.
    """

    def __init__(
        self,
        message: str,
        *,
        code: int,
        info: Any = None,
        replies: Any = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.info = info
        self.replies = replies


class HomeError(SmsCampaignError, OSError):
    """The campaign home cannot be read or written (a PostgreSQL server gone, a full disk, no
    permission). ``home`` names it (a folder, or a database URL without its password). A run stops
    before its next request: nothing is sent without the home knowing."""

    def __init__(self, message: str, *, home: str) -> None:
        super().__init__(message)
        self.home = home


class ConfigError(SmsCampaignError, ValueError):
    """Configuration is missing or invalid (e.g. no credentials in the environment), or the API is
    misused (an argument of the wrong type or out of range)."""


class ReplyError(ConfigError):
    """Replies handed to the reply store or to ``opt_outs`` are unusable (unreadable receive time,
    missing ``sender`` / ``content`` columns)."""


class OutcomesError(ConfigError):
    """Outcomes handed to :func:`~smscampaign.measure_outcomes` are unusable: no time column, times,
    keys or values that cannot be read (the message names the rows), a key column a campaign's
    recipients never carried, a window that is not a duration."""
