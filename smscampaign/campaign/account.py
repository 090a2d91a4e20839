"""The account, as analysts use it: balance and messages left, recharge cards, numbers bound for replies.

- :func:`account_info` — ``user_info`` as an :class:`AccountInfo` record (typed fields, readable repr);
- :func:`recharge` — credit an account with a card; the outcome as a :class:`RechargeResult`;
- :func:`bind_numbers` / :func:`unbind_numbers` — bind numbers so their replies reach the account (or
  cancel that), normalised, de-duplicated, in calls of at most 500, one result row per input.

>>> import smscampaign as sc
>>> sc.account_info(gw)                                            # doctest: +SKIP
AccountInfo(user_id=10001, balance=0.00, sms_left=1000, expired_date=2027-11-24 20:00:00, …)
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import pandas as pd
from tqdm.auto import tqdm

from smscampaign.core.codes import ACCOUNT, CodeInfo
from smscampaign.core.display import html_table
from smscampaign.core.errors import AccountError, ConfigError, GatewayError, GatewayProtocolError
from smscampaign.core.reasons import STATUS_LABELS, reason_zh
from smscampaign.core.statuses import BindStatus, Status
from smscampaign.stages.numbers import TEXT, as_text, check_numbers
from smscampaign.wire.gateway import Gateway, GatewayResponse
from smscampaign.wire.protocol import BEIJING, MAX_NUMBERS, TIME_FORMAT

__all__ = [
    "BIND_COLUMNS",
    "MAX_NUMBERS_PER_CALL",
    "AccountInfo",
    "RechargeResult",
    "account_info",
    "bind_numbers",
    "recharge",
    "unbind_numbers",
]

logger = logging.getLogger(__name__)

#: The gateway's limit on numbers per ``bind_mobile`` / ``cancel_bind`` call.
MAX_NUMBERS_PER_CALL: Final = MAX_NUMBERS
#: Columns of :func:`bind_numbers` / :func:`unbind_numbers`.
BIND_COLUMNS: Final = ("input", "mobile", "status", "code", "message_zh", "message_en")


# -- account_info -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccountInfo:
    """What ``user_info`` says about the account.

    ``balance`` (余额) and ``amount`` (消费金额) are yuan; ``sms_left`` / ``sms_send`` / ``sms_receive``
    are message counts; ``expired_date`` is when the account expires (Beijing time, tz-aware; None if
    the gateway's text cannot be read — the text is kept in ``expired_text``); ``point`` is 积分.
    """

    user_id: int
    balance: float
    amount: float
    sms_left: int
    sms_send: int
    sms_receive: int
    expired_date: datetime | None
    point: int
    expired_text: str = ""

    @property
    def expired(self) -> bool:
        """True when the expiry date has passed."""
        return self.expired_date is not None and self.expired_date <= datetime.now(BEIJING)

    def __repr__(self) -> str:
        expires = (
            self.expired_date.strftime(TIME_FORMAT) if self.expired_date else self.expired_text or "?"
        )
        return (
            f"AccountInfo(user_id={self.user_id}, balance={self.balance:.2f}, amount={self.amount:.2f}, "
            f"sms_left={self.sms_left}, sms_send={self.sms_send}, sms_receive={self.sms_receive}, "
            f"expired_date={expires}, point={self.point})"
        )

    def _repr_html_(self) -> str:
        expires = (
            self.expired_date.strftime(TIME_FORMAT) if self.expired_date else self.expired_text or "?"
        )
        return html_table(
            "AccountInfo 账户信息",
            [
                ("user_id 用户编号", self.user_id),
                ("sms_left 可发条数", self.sms_left),
                ("balance 余额 (yuan)", f"{self.balance:.2f}"),
                ("amount 消费金额 (yuan)", f"{self.amount:.2f}"),
                ("sms_send 已发", self.sms_send),
                ("sms_receive 已收", self.sms_receive),
                ("expired_date 到期", expires + (" (expired 已过期)" if self.expired else "")),
                ("point 积分", self.point),
            ],
        )


def _number(fields: Any, name: str, kind: type) -> Any:
    value = fields.get(name, "")
    try:
        return kind(value) if value != "" else kind(0)
    except (TypeError, ValueError):
        # A success whose numbers are not numbers is a broken answer, not an account problem.
        raise GatewayProtocolError(
            f"user_info: field {name} is not a number ({str(value)[:40]!r})", endpoint="user_info"
        ) from None


def _account_error(response: GatewayResponse) -> AccountError:
    return AccountError(
        f"{response.endpoint} failed: {response.info}", code=response.code, info=response.info
    )


def account_info(gateway: Gateway) -> AccountInfo:
    """The account's details from ``user_info``.

    A negative code raises :class:`AccountError` with ``code`` and the decoded ``info``
    (:class:`~smscampaign.CodeInfo`); transport failures raise
    :class:`~smscampaign.GatewayError`.

    >>> info = account_info(gw)                                   # doctest: +SKIP
    >>> info.sms_left, info.balance                               # doctest: +SKIP
    (1000, 0.0)
    """
    response = gateway.user_info()
    if not response.ok:
        raise _account_error(response)
    fields = response.fields
    text = str(fields.get("expired_date", "")).strip()
    try:
        expires: datetime | None = datetime.strptime(text, TIME_FORMAT).replace(tzinfo=BEIJING)
    except ValueError:
        expires = None
    return AccountInfo(
        user_id=response.code,
        balance=_number(fields, "user_balance", float),
        amount=_number(fields, "user_amount", float),
        sms_left=_number(fields, "sms_left", int),
        sms_send=_number(fields, "sms_send", int),
        sms_receive=_number(fields, "sms_receive", int),
        expired_date=expires,
        point=_number(fields, "user_point", int),
        expired_text=text,
    )


# -- recharge ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RechargeResult:
    """The outcome of one recharge: ``ok``, the gateway's ``code`` (messages credited on success),
    its decoded ``info``, the ``cardnumber`` and the ``account`` credited. Never holds the card
    password."""

    ok: bool
    code: int
    info: CodeInfo
    cardnumber: str
    account: str

    @property
    def sms(self) -> int:
        """Messages credited (0 on failure)."""
        return self.code if self.ok else 0

    @property
    def message_zh(self) -> str:
        return self.info.zh

    @property
    def message_en(self) -> str:
        return self.info.en

    def __repr__(self) -> str:
        outcome = f"credited {self.code} messages" if self.ok else str(self.info)
        return f"RechargeResult({self.cardnumber!r} -> {self.account!r}: {outcome})"

    def _repr_html_(self) -> str:
        return html_table(
            "RechargeResult 充值结果",
            [
                ("ok 成功", self.ok),
                ("sms 充入条数", self.sms),
                ("code 返回值", self.code),
                ("message_zh", self.message_zh),
                ("message_en", self.message_en),
                ("cardnumber 卡号", self.cardnumber),
                ("account 账户", self.account),
            ],
        )


def recharge(gateway: Gateway, cardnumber: str, cardpwd: str, account: str) -> RechargeResult:
    """Credit ``account`` with recharge card ``cardnumber`` / ``cardpwd``; returns the decoded outcome.

    Card problems (−127 … −133: empty fields, unknown account or card, wrong password, card used) come
    back as a :class:`RechargeResult` with ``ok=False``; an answer about the caller's own account
    (category ``account``: wrong credentials, frozen, expired …) raises :class:`AccountError`.
    The card password appears in no repr, log record or exception text.

    >>> recharge(gw, "CARD-1", os.environ["CARD_PWD"], "demo")     # doctest: +SKIP
    RechargeResult('CARD-1' -> 'demo': credited 300 messages)
    """
    response = gateway.recharge(cardnumber, cardpwd, account)
    if not response.ok and response.info.category == ACCOUNT:
        raise _account_error(response)
    result = RechargeResult(response.ok, response.code, response.info, cardnumber, account)
    logger.info("recharge of %r with card %r: %s", account, cardnumber, response.info)
    return result


# -- binding ----------------------------------------------------------------------------------------


def _progress(total: int, desc: str, progress: bool | None) -> tqdm:
    # disable=None lets tqdm decide (off when not on a terminal or notebook).
    return tqdm(
        total=total, desc=desc, unit="number", disable=None if progress is None else not progress
    )


def _numbers_frame(mobiles: Iterable[Any] | pd.Series | str) -> pd.DataFrame:
    if isinstance(mobiles, str):
        mobiles = [m for m in mobiles.split(",")]
    values = mobiles if isinstance(mobiles, pd.Series) else pd.Series(list(mobiles), dtype=object)
    return pd.DataFrame({"input": as_text(values.reset_index(drop=True))})


def _bind_calls(
    gateway: Gateway,
    mobiles: Iterable[Any] | pd.Series | str,
    *,
    endpoint: str,
    done: str,
    batch_size: int,
    progress: bool | None,
) -> pd.DataFrame:
    if not 1 <= batch_size <= MAX_NUMBERS_PER_CALL:
        raise ConfigError(f"batch_size must be between 1 and {MAX_NUMBERS_PER_CALL}, not {batch_size!r}")
    frame = _numbers_frame(mobiles)
    if len(frame):
        checked = check_numbers(frame, column="input")
        input_col = "input_raw" if "input_raw" in checked.columns else "input"
        checked = checked.rename(columns={input_col: "input"})
    else:
        checked = frame.assign(
            mobile=pd.Series([], dtype=TEXT),
            status=pd.Series([], dtype=TEXT),
            reason=pd.Series([], dtype=TEXT),
        )
    # One call per distinct valid number; one result row per input.
    states = checked["status"].astype(object).to_numpy()
    mobiles_out = checked["mobile"].astype(object).to_numpy()
    reasons = checked["reason"].astype(object).to_numpy()
    first_row: dict[str, int] = {}
    for position, (state, mobile) in enumerate(zip(states, mobiles_out, strict=True)):
        if state == Status.OK:
            first_row.setdefault(str(mobile), position)
    numbers = list(first_row)

    outcomes: dict[str, tuple[str, Any, str, str]] = {}
    call = getattr(gateway, endpoint)
    with _progress(len(numbers), endpoint, progress) as bar:
        for start in range(0, len(numbers), batch_size):
            batch = numbers[start : start + batch_size]
            try:
                response = call(batch)
            except GatewayError as exc:
                # Bad rows are data: the batch is marked and the others still go; the caller decides.
                logger.warning("%s of %d numbers failed: %s", endpoint, len(batch), exc)
                outcome: tuple[str, Any, str, str] = (
                    BindStatus.ERROR,
                    pd.NA,
                    f"请求失败，结果未知：{exc}",
                    f"request failed, outcome unknown: {exc}",
                )
            else:
                if not response.ok and response.info.category == ACCOUNT:
                    raise _account_error(response)
                status = done if response.ok else BindStatus.FAILED
                outcome = (status, response.code, response.info.zh, response.info.en)
                logger.debug("%s of %d numbers -> %s", endpoint, len(batch), response.info)
            outcomes.update(dict.fromkeys(batch, outcome))
            bar.update(len(batch))

    rows: list[tuple[Any, str, Any, str, str]] = []
    for state, mobile, reason in zip(states, mobiles_out, reasons, strict=True):
        if state == Status.OK:
            rows.append((mobile, *outcomes[str(mobile)]))
        elif state == Status.DUPLICATE and str(mobile) in first_row:
            first = first_row[str(mobile)] + 1
            rows.append(
                (
                    mobile,
                    BindStatus.DUPLICATE,
                    pd.NA,
                    f"与第{first}个输入重复（{mobile}），只提交一次",
                    f"duplicate of input {first} ({mobile}), sent once",
                )
            )
        else:
            reason_en = str(reason) if isinstance(reason, str) and reason else "invalid number"
            reason_zh_text = reason_zh(reason_en) or STATUS_LABELS[Status.INVALID]
            rows.append((pd.NA, BindStatus.INVALID, pd.NA, reason_zh_text, reason_en))
    result = pd.DataFrame(
        {
            "input": checked["input"].astype(TEXT).to_numpy(),
            "mobile": pd.array([r[0] for r in rows], dtype=TEXT),
            "status": pd.array([r[1] for r in rows], dtype=TEXT),
            "code": pd.array([r[2] for r in rows], dtype="Int64"),
            "message_zh": pd.array([r[3] for r in rows], dtype=TEXT),
            "message_en": pd.array([r[4] for r in rows], dtype=TEXT),
        }
    )
    return result[list(BIND_COLUMNS)]


def bind_numbers(
    gateway: Gateway,
    mobiles: Iterable[Any] | pd.Series | str,
    *,
    batch_size: int = MAX_NUMBERS_PER_CALL,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Bind numbers to the account so their replies reach it; one result row per input, in order.

    Numbers are normalised (``+86 138-0013-8000`` → ``13800138000``) and de-duplicated, then sent in
    calls of at most ``batch_size`` (≤ 500). Columns ``input, mobile, status, code, message_zh,
    message_en``: ``status`` is ``bound``, ``failed`` (the gateway refused the call — it is
    all-or-nothing, so one number bound elsewhere, −123, fails its whole call), ``error`` (transport
    failure: the call may or may not have bound them), ``duplicate`` (the same number as an earlier
    input, which the messages name — sent once, with that one) or ``invalid`` (never sent;
    ``message_en`` says why, ``message_zh`` says the same in Chinese). ``code`` is the call's return
    code.
    An account-level code (wrong password, frozen …) raises :class:`AccountError`.
    ``progress``: a bar, None = only on a terminal or in a notebook.

    >>> res = bind_numbers(gw, ["13800138000", "138 0013 8000", "12345"])  # doctest: +SKIP
    >>> res[["mobile", "status", "message_en"]]  # doctest: +SKIP
            mobile     status                              message_en
    0  13800138000      bound                                 Success
    1  13800138000  duplicate  duplicate of input 1 (13800138000), sent once
    2         <NA>    invalid                            wrong length
    """
    return _bind_calls(
        gateway,
        mobiles,
        endpoint="bind_mobile",
        done=BindStatus.BOUND,
        batch_size=batch_size,
        progress=progress,
    )


def unbind_numbers(
    gateway: Gateway,
    mobiles: Iterable[Any] | pd.Series | str,
    *,
    batch_size: int = MAX_NUMBERS_PER_CALL,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Cancel the binding of numbers; like :func:`bind_numbers`, with ``status`` ``unbound`` on success
    (a number not bound to this account, −125, fails its whole call).

    >>> unbind_numbers(gw, ["13800138000"])["status"].tolist()   # doctest: +SKIP
    ['unbound']
    """
    return _bind_calls(
        gateway,
        mobiles,
        endpoint="cancel_bind",
        done=BindStatus.UNBOUND,
        batch_size=batch_size,
        progress=progress,
    )
