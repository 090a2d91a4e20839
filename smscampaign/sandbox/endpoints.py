"""The protocol: one function per endpoint, checking a request in ``docs/protocol.md``'s order.

:func:`process` runs one interface request against a :class:`~smscampaign.sandbox.state.State`
(the caller holds the engine's lock): maintenance, then the account (:func:`authenticate`), then the
endpoint. Each endpoint returns ``(code, extra XML elements)``, or raises :class:`Refusal` to answer
with a negative return code; :class:`Forbidden` asks for the host's HTML 403 page instead.

>>> state = State()
>>> process(state, "user_info", {"username": "nobody", "password": "pw"}, "127.0.0.1")
(-102, [])
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any, Final

from smscampaign.sandbox.state import Account, State, gateway_now
from smscampaign.wire.protocol import ENDPOINTS, MAX_LENGTH, MAX_NUMBERS, TIME_FORMAT, sms_length

__all__ = [
    "ENGINE_ENDPOINTS",
    "STAT_DAYS",
    "STAT_MONTHS",
    "Forbidden",
    "Refusal",
    "authenticate",
    "process",
]

#: The document's six endpoints plus the two the vendor's plugins call.
ENGINE_ENDPOINTS: Final = (*ENDPOINTS, "user_stat", "send_voice")
#: Days and months user_stat reports, ending today (our assumption).
STAT_DAYS: Final = 7
STAT_MONTHS: Final = 12

_MOBILE = re.compile(r"1[3-9]\d{9}")
_VOICE_CODE = re.compile(r"[0-9]{4,8}")

#: What an endpoint answers: (code, extra XML elements), as
#: :func:`~smscampaign.sandbox.answers.render` writes them.
Result = tuple[int, list[Any]]


class Refusal(Exception):
    """Raised inside an endpoint to answer with a return code."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class Forbidden(Exception):
    """Raised when the host itself refuses the client's IP (IIS's 403 page instead of −104)."""


def process(
    state: State, endpoint: str, params: dict[str, str], client_ip: str, *, maintenance: bool = False
) -> Result:
    """Run one interface request; returns (code, extra XML elements). Raises :class:`Forbidden`."""
    try:
        if maintenance:
            raise Refusal(-101)
        account = authenticate(state, params, client_ip)
        return _HANDLERS[endpoint](state, account, params)
    except Refusal as refusal:
        return refusal.code, []


# -- validation --------------------------------------------------------------------------------------


def authenticate(state: State, params: dict[str, str], client_ip: str) -> Account:
    """The account a request names, checked in the document's order (−110 … −106)."""
    username, password = params.get("username", "").strip(), params.get("password", "")
    if not username:
        raise Refusal(-110)
    if not password:
        raise Refusal(-111)
    account = state.accounts.get(username)
    if account is None:
        raise Refusal(-102)
    if password != account.password:
        raise Refusal(-103)
    if account.allowed_ips is not None and client_ip not in account.allowed_ips:
        if account.forbidden_page:
            raise Forbidden
        raise Refusal(-104)
    if account.frozen:
        raise Refusal(-105)
    if account.expired:
        raise Refusal(-106)
    return account


def _numbers(raw: str) -> list[str]:
    numbers = [n.strip() for n in raw.split(",") if n.strip()]
    if not numbers:
        raise Refusal(-112)
    return numbers


def _check_numbers(numbers: list[str]) -> None:
    if len(numbers) > MAX_NUMBERS:
        raise Refusal(-117)


def _mobiles(raw: str) -> list[str]:
    """The ``mobile`` list of bind_mobile / cancel_bind.

    −112 if empty, −117 over 500 numbers, −119 if one is malformed."""
    numbers = _numbers(raw)
    _check_numbers(numbers)
    if not all(_MOBILE.fullmatch(n) for n in numbers):
        raise Refusal(-119)
    return numbers


def _check_sendtime(raw: str) -> str | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        when = datetime.strptime(raw, TIME_FORMAT)
    except ValueError:
        raise Refusal(-114) from None
    now = gateway_now()
    if when <= now:
        raise Refusal(-115)
    if when > now + timedelta(days=365):
        raise Refusal(-116)
    return raw


def _raise_forced(state: State, endpoint: str) -> None:
    forced = state.forced_code(endpoint)
    if forced is not None:
        raise Refusal(forced)


# -- endpoints ---------------------------------------------------------------------------------------


def send_sms(state: State, account: Account, params: dict[str, str]) -> Result:
    numbers = _numbers(params.get("receiver", ""))
    content = params.get("content", "")
    if not content.strip():
        raise Refusal(-113)
    _check_numbers(numbers)
    if sms_length(content) > MAX_LENGTH:
        raise Refusal(-118)
    if not all(_MOBILE.fullmatch(n) for n in numbers):
        raise Refusal(-119)
    sendtime = _check_sendtime(params.get("sendtime", ""))
    if account.sms_left < len(numbers):
        raise Refusal(-107)
    forced = state.forced_code("send_sms")
    if forced is not None and forced != -109:
        raise Refusal(forced)
    request_id = state.next_request_id()
    accepted_at = gateway_now()
    state.ledger.extend(
        (account.username, n, content, sendtime, request_id, accepted_at) for n in numbers
    )
    account.sms_send += len(numbers)
    if forced == -109:  # sent, but the deduction failed
        raise Refusal(-109)
    # Deducted at acceptance, scheduled sends included: user_info shows it at once.
    account.sms_left -= len(numbers)
    return request_id, []


def send_voice(state: State, account: Account, params: dict[str, str]) -> Result:
    receiver = params.get("receiver", "").strip()
    content = params.get("content", "").strip()
    if not receiver:
        raise Refusal(-112)
    if not content:
        raise Refusal(-113)
    if not _MOBILE.fullmatch(receiver):  # one number a call (our assumption)
        raise Refusal(-119)
    if not _VOICE_CODE.fullmatch(content):  # 4 to 8 digits (our assumption)
        raise Refusal(-118)
    if account.sms_left < 1:
        raise Refusal(-107)
    _raise_forced(state, "send_voice")
    request_id = state.next_request_id()
    state.voice.append((account.username, receiver, content, request_id, gateway_now()))
    account.sms_left -= 1
    return request_id, []


def bind_mobile(state: State, account: Account, params: dict[str, str]) -> Result:
    numbers = _mobiles(params.get("mobile", ""))
    if any(state.bound.get(n, account.username) != account.username for n in numbers):
        raise Refusal(-123)
    _raise_forced(state, "bind_mobile")
    distinct = dict.fromkeys(numbers)
    for n in distinct:
        state.bound[n] = account.username
    return len(distinct), []


def cancel_bind(state: State, account: Account, params: dict[str, str]) -> Result:
    numbers = _mobiles(params.get("mobile", ""))
    if any(state.bound.get(n) != account.username for n in numbers):
        raise Refusal(-125)
    _raise_forced(state, "cancel_bind")
    distinct = dict.fromkeys(numbers)
    for n in distinct:
        del state.bound[n]
    return len(distinct), []


def get_sms(state: State, account: Account, params: dict[str, str]) -> Result:
    _raise_forced(state, "get_sms")
    pending = [r for r in account.replies if not r["fetched"]][: state.page_size]
    if not pending:
        raise Refusal(-122)
    for item in pending:
        item["fetched"] = True
    elements = [
        (
            "sms",
            [("sender", r["sender"]), ("content", r["content"]), ("receivetime", r["receivetime"])],
        )
        for r in pending
    ]
    return len(pending), elements


def user_info(state: State, account: Account, params: dict[str, str]) -> Result:
    _raise_forced(state, "user_info")
    return account.user_id, [
        ("user_balance", f"{account.balance:.2f}"),
        ("user_amount", f"{account.amount:.2f}"),
        ("sms_left", account.sms_left),
        ("sms_send", account.sms_send),
        ("sms_receive", account.sms_receive),
        ("expired_date", account.expired_date()),
        ("user_point", account.point),
    ]


def _js_array(values: Sequence[Any], *, quoted: bool) -> str:
    """The text of a JavaScript array, as user_stat's fields carry it: ``['11-29','11-30']``."""
    return "[" + ",".join(f"'{v}'" if quoted else str(v) for v in values) + "]"


def _last_months(today: date, count: int) -> list[tuple[int, int]]:
    year, month = today.year, today.month
    months = []
    for _ in range(count):
        months.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def user_stat(state: State, account: Account, params: dict[str, str]) -> Result:
    _raise_forced(state, "user_stat")
    per_day: Counter[date] = Counter(row[5].date() for row in state.ledger if row[0] == account.username)
    today = gateway_now().date()
    days = [today - timedelta(days=n) for n in range(STAT_DAYS - 1, -1, -1)]
    months = _last_months(today, STAT_MONTHS)
    per_month: Counter[tuple[int, int]] = Counter()
    for day, sent in per_day.items():
        per_month[(day.year, day.month)] += sent
    return account.user_id, [
        ("daytitle", _js_array([d.strftime("%m-%d") for d in days], quoted=True)),
        ("daytotal", _js_array([per_day[d] for d in days], quoted=False)),
        ("monthtitle", _js_array([f"{y:04d}-{m:02d}" for y, m in months], quoted=True)),
        ("monthtotal", _js_array([per_month[ym] for ym in months], quoted=False)),
    ]


def recharge(state: State, account: Account, params: dict[str, str]) -> Result:
    number, password = params.get("cardnumber", "").strip(), params.get("cardpwd", "")
    target_name = params.get("account", "").strip()
    if not number:
        raise Refusal(-127)
    if not password:
        raise Refusal(-128)
    if not target_name:
        raise Refusal(-129)
    target = state.accounts.get(target_name)
    if target is None:
        raise Refusal(-130)
    card = state.cards.get(number)
    if card is None:
        raise Refusal(-131)
    if password != card.password:
        raise Refusal(-132)
    if card.used:
        raise Refusal(-133)
    _raise_forced(state, "recharge")
    card.used = True
    target.sms_left += card.sms
    target.balance += card.amount
    return card.sms, []


_HANDLERS: Final[dict[str, Callable[[State, Account, dict[str, str]], Result]]] = {
    "send_sms": send_sms,
    "bind_mobile": bind_mobile,
    "get_sms": get_sms,
    "cancel_bind": cancel_bind,
    "user_info": user_info,
    "recharge": recharge,
    "user_stat": user_stat,
    "send_voice": send_voice,
}
