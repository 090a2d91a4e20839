"""The gateway's return codes: one table, read by the client, the sandbox, reports and the README.

Every code of the provider's document (−100 … −133) with its Chinese text exactly as the document writes
it, an English text and a category that tells the send engine what to do:

- ``success``   — ``code >= 0``;
- ``retryable`` — nothing was sent, resending is safe (−100, −101, −108);
- ``ambiguous`` — messages may have gone out (−109), never resend blindly;
- ``account``   — the campaign must stop (credentials, IP, frozen, expired, balance);
- ``request``   — this request is wrong; other requests may still succeed.

>>> describe_code(-107).en
'Not enough messages left on the account'
>>> describe_code(50).category
'success'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:  # codes_table imports pandas: the CLI and the gateway client start without it
    import pandas as pd

__all__ = ["CATEGORIES", "CODES", "CodeInfo", "codes_table", "describe_code"]

SUCCESS: Final = "success"
RETRYABLE: Final = "retryable"
AMBIGUOUS: Final = "ambiguous"
ACCOUNT: Final = "account"
REQUEST: Final = "request"
CATEGORIES: Final = (SUCCESS, RETRYABLE, AMBIGUOUS, ACCOUNT, REQUEST)

#: code -> (Chinese text as in the provider's document, English text, category)
CODES: Final[dict[int, tuple[str, str, str]]] = {
    -100: ("系统内部错误", "Internal system error", RETRYABLE),
    -101: ("系统维护中", "System under maintenance", RETRYABLE),
    -102: ("帐号不存在", "Account does not exist", ACCOUNT),
    -103: ("帐号密码错误", "Wrong account password", ACCOUNT),
    -104: ("禁止从此IP请求", "Requests from this IP address are not allowed", ACCOUNT),
    -105: ("帐户已冻结", "Account is frozen", ACCOUNT),
    -106: ("帐户已过期", "Account has expired", ACCOUNT),
    -107: ("可发短信条数不够", "Not enough messages left on the account", ACCOUNT),
    -108: ("发送短信失败", "Sending failed", RETRYABLE),
    -109: ("扣除可发短信数失败", "Failed to deduct sent messages from the balance", AMBIGUOUS),
    -110: ("帐户不能为空", "Username must not be empty", ACCOUNT),
    -111: ("密码不能为空", "Password must not be empty", ACCOUNT),
    -112: ("手机号不能为空", "Mobile number must not be empty", REQUEST),
    -113: ("内容不能为空", "Content must not be empty", REQUEST),
    -114: ("定时发送时间不符合规则", "Scheduled send time is malformed", REQUEST),
    -115: ("定时发送时间必须大于当前时间", "Scheduled send time must be in the future", REQUEST),
    -116: ("定时发送时间不能大于当前时间一年", "Scheduled send time must be within one year", REQUEST),
    -117: ("超过一次最多发送500个号码", "More than 500 numbers in one request", REQUEST),
    -118: ("内容超过最大长度70", "Content longer than 70 characters", REQUEST),
    -119: ("手机号不符合规则", "Malformed mobile number", REQUEST),
    -120: ("获取接收到的短信失败", "Failed to fetch received messages", REQUEST),
    -121: ("更新接收到的短信状态失败", "Failed to update the status of received messages", REQUEST),
    -122: ("没有上行短信", "No replies", REQUEST),
    -123: ("手机已在其他网站绑定", "Mobile number is already bound elsewhere", REQUEST),
    -124: ("绑定手机失败", "Binding the mobile number failed", REQUEST),
    -125: ("绑定手机不存在", "Mobile number is not bound", REQUEST),
    -126: ("取消手机绑定失败", "Cancelling the binding failed", REQUEST),
    -127: ("充值卡卡号不能为空", "Recharge card number must not be empty", REQUEST),
    -128: ("充值卡密码不能为空", "Recharge card password must not be empty", REQUEST),
    -129: ("要充值的帐号不能为空", "Account to recharge must not be empty", REQUEST),
    -130: ("充值用户不存在", "Account to recharge does not exist", REQUEST),
    -131: ("充值卡卡号不存在", "Recharge card number does not exist", REQUEST),
    -132: ("充值卡密码错误", "Wrong recharge card password", REQUEST),
    -133: ("充值卡已经使用过", "Recharge card has already been used", REQUEST),
}

_SUCCESS_TEXT = ("执行操作成功", "Success")
_UNKNOWN_TEXT = ("未知返回值", "Unknown return code")


@dataclass(frozen=True, slots=True)
class CodeInfo:
    """What one return code means: ``code``, Chinese ``zh``, English ``en`` and ``category``."""

    code: int
    zh: str
    en: str
    category: str

    @property
    def ok(self) -> bool:
        """True for success (``code >= 0``)."""
        return self.code >= 0

    def __str__(self) -> str:
        return f"{self.code} {self.zh} ({self.en})"


def describe_code(code: int) -> CodeInfo:
    """Describe a gateway return code.

    A code ``>= 0`` is success; a negative code not in the document gets a generic record
    (category ``request``) rather than an exception.

    >>> describe_code(-103)
    CodeInfo(code=-103, zh='帐号密码错误', en='Wrong account password', category='account')
    """
    code = int(code)
    if code >= 0:
        return CodeInfo(code, *_SUCCESS_TEXT, SUCCESS)
    if code in CODES:
        return CodeInfo(code, *CODES[code])
    return CodeInfo(code, *_UNKNOWN_TEXT, REQUEST)


def codes_table() -> pd.DataFrame:
    """All documented codes as a DataFrame with columns ``code, zh, en, category``.

    >>> codes_table().set_index("code").loc[-101, "category"]
    'retryable'
    """
    import pandas as pd  # noqa: PLC0415

    rows = [(code, zh, en, category) for code, (zh, en, category) in sorted(CODES.items(), reverse=True)]
    return pd.DataFrame(rows, columns=["code", "zh", "en", "category"])
