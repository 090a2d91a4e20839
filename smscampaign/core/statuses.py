"""Every status and reason vocabulary of the project, as StrEnums, in one place.

Each member *is* its string (``Status.OK == "ok"``), so frames, journals and reports hold plain text
and comparisons with literals keep working; the enums give the vocabulary a name, a docstring and a
place where a newcomer finds all of it:

- :class:`Status` / :class:`Reason` — :func:`~smscampaign.check_numbers`, per row;
- :class:`PlanStatus` — :func:`~smscampaign.plan_campaign`, per recipient (``ready`` or why not);
- :class:`BatchState` — the journal, per ``send_sms`` batch;
- :class:`ResultStatus` — :func:`~smscampaign.send_campaign`, per ready recipient;
- :class:`BindStatus` — :func:`~smscampaign.bind_numbers` / ``unbind_numbers``, per input.

>>> Status.OK == "ok", str(PlanStatus.TOO_LONG), ResultStatus.NOT_SENT == "not_sent"
(True, 'too_long', True)
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "BatchState",
    "BindStatus",
    "OptionalPlanStatus",
    "PlanStatus",
    "Reason",
    "ResultStatus",
    "Status",
]


class Status(StrEnum):
    """Verdict of :func:`~smscampaign.check_numbers` on one row."""

    OK = "ok"
    INVALID = "invalid"
    DUPLICATE = "duplicate"


class Reason(StrEnum):
    """Why a row is not ``ok``; duplicates read ``"duplicate of row N"``."""

    EMPTY = "empty"
    SCIENTIFIC = "digits lost to scientific notation"
    FOREIGN = "foreign country code"
    NOT_DIGITS = "not digits"
    WRONG_LENGTH = "wrong length"
    NOT_MOBILE_RANGE = "not a mainland mobile range"
    DUPLICATE = "duplicate of row"


class PlanStatus(StrEnum):
    """A planned recipient: ``ready``, or why it is skipped, in order of precedence."""

    READY = "ready"
    INVALID = "invalid"
    DUPLICATE = "duplicate"
    SUPPRESSED = "suppressed"
    MISSING_FIELD = "missing_field"
    UNENCODABLE = "unencodable"
    TOO_LONG = "too_long"


class OptionalPlanStatus(StrEnum):
    """Statuses a planned row has only when the feature that sets them is used, so a plan's summary
    lists them only when they occur: the content review's ``blocked`` (``plan_campaign(kind=…)``), the
    frequency cap's ``capped`` and the A/B test's ``holdout``."""

    BLOCKED = "blocked"
    CAPPED = "capped"
    HOLDOUT = "holdout"


class BatchState(StrEnum):
    """A journal batch (one ``send_sms`` call)."""

    PLANNED = "planned"
    IN_FLIGHT = "in_flight"
    ACCEPTED = "accepted"
    FAILED = "failed"
    UNKNOWN = "unknown"


class ResultStatus(StrEnum):
    """A ready recipient after :func:`~smscampaign.send_campaign`."""

    ACCEPTED = "accepted"
    FAILED = "failed"
    UNKNOWN = "unknown"
    NOT_SENT = "not_sent"
    ALREADY_SENT = "already_sent"


class BindStatus(StrEnum):
    """One input of :func:`~smscampaign.bind_numbers` / ``unbind_numbers``."""

    BOUND = "bound"
    UNBOUND = "unbound"
    FAILED = "failed"
    ERROR = "error"
    INVALID = "invalid"
    DUPLICATE = "duplicate"
