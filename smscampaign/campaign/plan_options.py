"""The options of a plan: one frozen value, its checks, and the send window it resolves to.

:class:`PlanOptions` carries every keyword of :func:`~smscampaign.plan_campaign` but the
recipients, the template and the A/B split (``holdout``, ``seed``), so that a plan of one template
and each arm of an A/B test are planned from the same explicit value.

>>> options = PlanOptions(signature="小店", kind="marketing")
>>> options.charset, options.send_window
('utf8', 'default')
>>> resolve_send_window(options.send_window, options.kind, None)
('08:00', '21:00')
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

import pandas as pd

from smscampaign.core.errors import ConfigError, PlanError
from smscampaign.stages.review import KINDS, Kind
from smscampaign.stages.templates import Template
from smscampaign.wire.protocol import (
    MAX_LENGTH,
    MAX_NUMBERS,
    in_window,
    parse_time,
    parse_window,
    python_codec,
)

__all__ = [
    "MARKETING_WINDOW",
    "MAX_CONTENT_LENGTH",
    "MAX_RECEIVERS",
    "OnTooLong",
    "PlanOptions",
    "ReviewMode",
    "check_defaults",
    "check_options",
    "resolve_send_window",
]

logger = logging.getLogger(__name__)

#: The gateway's limits: characters per content (−118) and numbers per request (−117).
MAX_CONTENT_LENGTH: Final = MAX_LENGTH
MAX_RECEIVERS: Final = MAX_NUMBERS
OnTooLong = Literal["skip", "error", "truncate"]
_ON_TOO_LONG: Final = ("skip", "error", "truncate")
ReviewMode = Literal["block", "warn"]
_REVIEW_MODES: Final = ("block", "warn")
#: Marketing texts go out only in this daily window, Beijing time, unless the plan says otherwise.
MARKETING_WINDOW: Final = ("08:00", "21:00")


@dataclass(frozen=True)
class PlanOptions:
    """How to plan one template: :func:`~smscampaign.plan_campaign`'s keywords, same defaults.

    Checked by :func:`check_options` when planning starts, not here: building one never raises
    for a bad value, so the errors stay those of ``plan_campaign``.
    """

    signature: str | None = None
    charset: str = "utf8"
    max_length: int = MAX_CONTENT_LENGTH
    batch_size: int = MAX_RECEIVERS
    suppress: Any = field(default=None, repr=False)  # may be a list of millions of numbers
    defaults: Mapping[str, Any] | None = None
    sendtime: datetime | pd.Timestamp | str | None = None
    on_too_long: OnTooLong = "skip"
    kind: Kind | None = None
    lexicon: Any = field(default=None, repr=False)
    review: ReviewMode = "block"
    send_window: tuple[str, str] | None | Literal["default"] = "default"
    history: Any = None
    respect_opt_outs: bool = True
    frequency_cap: Any = None


def check_options(recipients: Any, options: PlanOptions) -> None:
    """Refuse recipients that are no frame with ``mobile``, and option values out of range."""
    charset, max_length, batch_size = options.charset, options.max_length, options.batch_size
    on_too_long, kind, review = options.on_too_long, options.kind, options.review
    if not isinstance(recipients, pd.DataFrame):
        raise PlanError(f"recipients must be a DataFrame, not {type(recipients).__name__}")
    if "mobile" not in recipients.columns:
        raise PlanError(
            "recipients need a 'mobile' column (use check_numbers); the columns are: "
            + ", ".join(str(c) for c in recipients.columns)
        )
    try:
        python_codec(charset)
    except ConfigError as exc:
        raise PlanError(str(exc)) from None
    if isinstance(max_length, bool) or not isinstance(max_length, int) or not 1 <= max_length <= 70:
        raise PlanError(
            f"max_length must be an int from 1 to 70 (the gateway's −118), not {max_length!r}"
        )
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= 500:
        raise PlanError(
            f"batch_size must be an int from 1 to 500 (the gateway's −117), not {batch_size!r}"
        )
    if on_too_long not in _ON_TOO_LONG:
        raise PlanError(f"on_too_long must be one of {', '.join(_ON_TOO_LONG)}, not {on_too_long!r}")
    if kind is not None and kind not in KINDS:
        raise PlanError(f"kind must be one of {', '.join(KINDS)} or None, not {kind!r}")
    if review not in _REVIEW_MODES:
        raise PlanError(f"review must be one of {', '.join(_REVIEW_MODES)}, not {review!r}")
    if options.lexicon is not None and kind is None:
        raise PlanError("a lexicon is used by the review: pass kind='marketing' or 'notification'")


def check_defaults(defaults: Mapping[str, Any] | None, tmpl: Template) -> dict[str, str]:
    """``defaults`` as column → text (stripped, ``None`` = empty); warns of columns not used."""
    if defaults is None:
        return {}
    if not isinstance(defaults, Mapping):
        raise PlanError(f"defaults must be a mapping of column to value, not {type(defaults).__name__}")
    fill = {str(name): "" if value is None else str(value).strip() for name, value in defaults.items()}
    unused = [name for name in fill if name not in tmpl.columns]
    if unused:
        logger.warning("defaults for columns the template does not use: %s", ", ".join(unused))
    return fill


def resolve_send_window(
    send_window: Any, kind: str | None, sendtime: str | None
) -> tuple[str, str] | None:
    """The daily window (Beijing time) the plan may be sent in; refuses a sendtime outside it."""
    if isinstance(send_window, str) and send_window == "default":
        window = MARKETING_WINDOW if kind == "marketing" else None
    else:
        parsed = parse_window(send_window)
        if parsed is None:
            return None
        window = (parsed[0].strftime("%H:%M"), parsed[1].strftime("%H:%M"))
    if window is None or sendtime is None:
        return window
    bounds = parse_window(window)
    if bounds is not None and not in_window(parse_time(sendtime), bounds):
        raise PlanError(
            f"sendtime {sendtime} is outside the send window {window[0]}–{window[1]} Beijing time"
            + (" for marketing" if kind == "marketing" else "")
            + "; choose a time inside it, or pass send_window=None to lift it"
        )
    return window
