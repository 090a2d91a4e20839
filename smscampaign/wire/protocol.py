"""Protocol facts of the 短信通 gateway: the one place every module reads them.

Limits (numbers per call, characters per message), endpoint charsets and their codecs, the characters
a charset cannot carry, the message length as the gateway counts it (UTF-16 code units), Beijing time,
the protocol's time format and ``sendtime`` resolution. Nothing here talks HTTP:
:mod:`smscampaign.wire.gateway` is the client, :mod:`smscampaign.sandbox` the simulator; both read these
facts, as do ``plan``, ``journal`` and ``report``. The protocol is written down in
``docs/protocol.md``.

>>> MAX_NUMBERS, MAX_LENGTH, sms_length("您好😀")
(500, 70, 4)
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import TYPE_CHECKING, Any, Final

from smscampaign.core.errors import ConfigError, PlanError, UnencodableContentError

__all__ = [
    "BEIJING",
    "CHARSETS",
    "DECLARED_CODECS",
    "DEFAULT_BASE_URL",
    "ENDPOINTS",
    "MAX_LENGTH",
    "MAX_NUMBERS",
    "TIME_FORMAT",
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

if TYPE_CHECKING:  # pandas is imported where a value needs it: the CLI starts without it
    import pandas as pd

#: The real gateway's host; point a client at a sandbox by changing this one URL.
DEFAULT_BASE_URL: Final = "http://a1.imrobots.cn"
#: Endpoint charset folder -> Python codec. The gateway is ASP.NET: its "big5" is code page 950.
CHARSETS: Final[dict[str, str]] = {"utf8": "utf-8", "gbk": "gbk", "big5": "cp950"}
#: Charsets named in XML declarations and push Content-Types -> Python codecs (the GBK family decodes
#: as GB18030, a superset; Big5 as code page 950, what ASP.NET means by it).
DECLARED_CODECS: Final[dict[str, str]] = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "gbk": "gb18030",
    "gb2312": "gb18030",
    "gb18030": "gb18030",
    "cp936": "gb18030",
    "big5": "cp950",
    "cp950": "cp950",
    "big5-hkscs": "big5hkscs",
}
ENDPOINTS: Final = ("send_sms", "bind_mobile", "get_sms", "cancel_bind", "user_info", "recharge")
#: At most this many numbers in one call (−117).
MAX_NUMBERS: Final = 500
#: At most this many characters (UTF-16 code units) in one message (−118).
MAX_LENGTH: Final = 70
BEIJING: Final = timezone(timedelta(hours=8), "Asia/Shanghai")
#: The protocol's timestamps (sendtime, receivetime, expired_date), Beijing time.
TIME_FORMAT: Final = "%Y-%m-%d %H:%M:%S"


def beijing_now() -> datetime:
    """The current time in Beijing (aware)."""
    return datetime.now(BEIJING)


def parse_time(text: str) -> datetime:
    """A protocol timestamp (``YYYY-MM-DD HH:MM:SS``, Beijing time) as an aware datetime.

    Raises ``ValueError`` (from :meth:`datetime.strptime`) for anything else.

    >>> parse_time("2030-01-02 09:00:00").isoformat()
    '2030-01-02T09:00:00+08:00'
    """
    return datetime.strptime(text.strip(), TIME_FORMAT).replace(tzinfo=BEIJING)


def sms_length(text: str) -> int:
    """The length of ``text`` as the gateway counts it: UTF-16 code units (.NET ``String.Length``).

    Characters outside the Basic Multilingual Plane (most emoji) count 2; everything else 1.

    >>> sms_length("您好【小店】"), sms_length("😀")
    (6, 2)
    """
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def python_codec(charset: str) -> str:
    """The Python codec for an endpoint charset (``utf8``, ``gbk``, ``big5``)."""
    try:
        return CHARSETS[charset]
    except KeyError:
        raise ConfigError(
            f"unknown charset {charset!r}; expected one of {', '.join(CHARSETS)}"
        ) from None


def unencodable_characters(text: str, charset: str) -> tuple[str, ...]:
    """The distinct characters of ``text`` that ``charset`` cannot carry, in order of appearance.

    A character counts as carried only if it survives the round trip unchanged (code page 950 turns
    ``£`` into ``￡``, which is not what the analyst wrote).

    >>> unencodable_characters("你好😀", "gbk")
    ('😀',)
    """
    codec = python_codec(charset)
    try:
        if text.encode(codec).decode(codec) == text:
            return ()
    except UnicodeEncodeError:
        pass
    bad: dict[str, None] = {}
    for ch in text:
        try:
            if ch.encode(codec).decode(codec) == ch:
                continue
        except UnicodeEncodeError:
            pass
        bad[ch] = None
    return tuple(bad)


def check_encodable(text: str, charset: str, *, what: str = "content") -> None:
    """Raise :class:`UnencodableContentError` naming the characters ``charset`` cannot carry."""
    bad = unencodable_characters(text, charset)
    if bad:
        shown = " ".join(f"{ch!r} (U+{ord(ch):04X})" for ch in bad)
        raise UnencodableContentError(
            f"{what} has characters the {charset} charset cannot carry: {shown}",
            charset=charset,
            characters=bad,
        )


def format_sendtime(value: datetime | str | None) -> str | None:
    """``sendtime`` as the gateway wants it: ``YYYY-MM-DD HH:MM:SS`` in Beijing time.

    A naive datetime is taken to be Beijing time already; an aware one is converted. A string is passed
    through unchanged (the gateway judges it: −114 if malformed); ``None`` means "send now".

    >>> format_sendtime(datetime(2030, 1, 2, 1, 0, tzinfo=timezone.utc))
    '2030-01-02 09:00:00'
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value
    moment: datetime = value.to_pydatetime() if hasattr(value, "to_pydatetime") else value  # Timestamp
    if moment.tzinfo is not None:
        moment = moment.astimezone(BEIJING)
    return moment.strftime(TIME_FORMAT)


def resolve_sendtime(
    value: datetime | pd.Timestamp | str | None, *, now: datetime | None = None
) -> str | None:
    """Check a scheduled send time; format it for the gateway (``YYYY-MM-DD HH:MM:SS``, Beijing).

    Accepts a ``datetime`` or pandas ``Timestamp`` (naive = Beijing time, aware = converted) or a
    string (``YYYY-MM-DD HH:MM:SS`` or an ISO 8601 form such as ``2030-01-02T09:00+08:00``).
    ``None`` or an empty string means "send now" and gives ``None``. Raises :class:`PlanError` for
    what the gateway would refuse: malformed (−114), not in the future (−115), more than a year
    (365 days) ahead (−116). ``now`` (aware, or naive Beijing) defaults to the current time.

    >>> resolve_sendtime("2030-01-02 09:00:00", now=datetime(2029, 6, 1))
    '2030-01-02 09:00:00'
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    when = _parse_sendtime(value)
    current = as_beijing(now) if now is not None else beijing_now()
    shown = format_sendtime(when)
    if when <= current:
        raise PlanError(
            f"sendtime {shown} (Beijing time) is not in the future; the gateway would refuse it (−115)"
        )
    if when > current + timedelta(days=365):
        raise PlanError(
            f"sendtime {shown} (Beijing time) is more than a year ahead; "
            "the gateway would refuse it (−116)"
        )
    return shown


def _parse_sendtime(value: Any) -> datetime:
    import pandas as pd  # noqa: PLC0415 - keep ``import smscampaign.wire.protocol`` light

    if value is pd.NaT:
        raise PlanError("sendtime is NaT; the gateway would refuse it as malformed (−114)")
    if isinstance(value, pd.Timestamp):
        return as_beijing(value.to_pydatetime())
    if isinstance(value, datetime):
        return as_beijing(value)
    if isinstance(value, date):
        raise PlanError(f"sendtime {value!r} is a date without a time; pass a datetime (−114 malformed)")
    if isinstance(value, str):
        text = value.strip()
        if len(text) <= 10 and text[:4].isdigit():  # "2026-11-27": fromisoformat would mean midnight
            raise PlanError(
                f"sendtime {value!r} is a date without a time; write YYYY-MM-DD HH:MM:SS (Beijing "
                "time) — a bare date would silently mean midnight"
            )
        try:
            return as_beijing(datetime.strptime(text, TIME_FORMAT))
        except ValueError:
            pass
        try:
            return as_beijing(datetime.fromisoformat(text))
        except ValueError:
            raise PlanError(
                f"sendtime {value!r} is malformed; write YYYY-MM-DD HH:MM:SS (Beijing time) — "
                "the gateway would refuse it (−114)"
            ) from None
    raise PlanError(f"sendtime must be a datetime or a string, not {type(value).__name__} (−114)")


def as_beijing(value: datetime) -> datetime:
    """``value`` in Beijing time: a naive datetime is taken as Beijing time, an aware one converted."""
    return value.replace(tzinfo=BEIJING) if value.tzinfo is None else value.astimezone(BEIJING)


def parse_window(window: tuple[str, str] | None) -> tuple[time, time] | None:
    """A daily send window ``("08:00", "21:00")`` (Beijing time) as two times; ``None`` stays ``None``.

    The window may run across midnight (``("22:00", "06:00")``). Raises :class:`ConfigError` for
    anything but two different ``HH:MM`` times.

    >>> parse_window(("08:00", "21:00"))
    (datetime.time(8, 0), datetime.time(21, 0))
    """
    if window is None:
        return None
    try:
        start, end = (time.fromisoformat(str(part).strip()) for part in window)
    except (TypeError, ValueError):
        raise ConfigError(
            f"send_window must be two HH:MM times such as ('08:00', '21:00'), not {window!r}"
        ) from None
    if start == end:
        raise ConfigError("send_window start and end must differ")
    return start, end


def in_window(moment: datetime, window: tuple[time, time]) -> bool:
    """Whether ``moment`` (aware, or naive Beijing time) falls in the daily ``window`` (Beijing time).

    >>> in_window(datetime(2030, 1, 2, 23, 30), (time(22, 0), time(6, 0)))
    True
    """
    start, end = window
    t = as_beijing(moment).time().replace(tzinfo=None)
    if start < end:
        return start <= t < end
    return t >= start or t < end  # a window across midnight
