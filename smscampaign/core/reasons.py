"""The one table of status and reason texts: every status and English ``reason`` the package writes,
with its Chinese.

Results, reports, views, the account's calls and the command line read the Chinese here; a reason
is written in English where it arises (``numbers``, ``plan``, the send engine) and translated only
here, so one reason has one Chinese text wherever it is shown.

- :data:`STATUS_LABELS` — every status of a results frame, in report order, with its Chinese;
- :data:`VERDICT_LABELS` — the balance reconciliation's verdicts, in Chinese;
- :data:`REASONS_ZH` — the reasons that are always the same words, in Chinese;
- :func:`reason_zh` / :func:`reasons_zh` — one reason, or a frame's ``reason`` column, in Chinese;
- :func:`status_zh` — a status (or several joined by ``", "``) in Chinese;
- :func:`engine_message` — the send engine's own ``message_zh`` / ``message_en`` where the gateway gave
  no return code (a network error, an interruption, a batch settled by the balance).

>>> reason_zh("duplicate of row 8"), status_zh("accepted")
('与第 8 行重复', '已受理')
"""

from __future__ import annotations

import re
from typing import Final

import pandas as pd
import pyarrow as pa

from smscampaign.core.codes import describe_code
from smscampaign.core.dtypes import TEXT
from smscampaign.core.statuses import Reason

__all__ = [
    "REASONS_ZH",
    "STATUS_LABELS",
    "VERDICT_LABELS",
    "engine_message",
    "reason_zh",
    "reasons_zh",
    "status_zh",
]

#: Every status of a results frame, in report order, with its Chinese label.
STATUS_LABELS: Final[dict[str, str]] = {
    "accepted": "已受理",
    "failed": "失败",
    "unknown": "结果未知",
    "not_sent": "未发送",
    "already_sent": "已发过，未重发",
    "invalid": "号码无效",
    "duplicate": "号码重复",
    "suppressed": "已屏蔽",
    "missing_field": "缺少字段",
    "too_long": "内容过长",
    "unencodable": "无法编码",
}

#: Verdicts of a balance reading (the send engine's ``reconcile="balance"``), in Chinese.
VERDICT_LABELS: Final[dict[str, str]] = {
    "reading": "余额读数",
    "accepted": "已扣费，确认已受理",
    "not_sent": "未扣费，确认未发送",
    "split": "部分已受理",
    "ambiguous": "无法判定",
    "inconsistent": "余额不符（账户另有使用）",
}

#: Reasons that are always the same words, in Chinese (every :class:`Reason` but the duplicate,
#: whose row number varies).
REASONS_ZH: Final[dict[str, str]] = {
    Reason.EMPTY: "号码为空",
    "no mobile number": "没有手机号",
    Reason.SCIENTIFIC: "科学计数法丢失了数字",
    Reason.FOREIGN: "境外国家代码",
    Reason.NOT_DIGITS: "含非数字字符",
    Reason.WRONG_LENGTH: "位数不对",
    Reason.NOT_MOBILE_RANGE: "不是大陆手机号段",
}

#: Reasons with a number or a name in them: (pattern on the English, Chinese with \\1… from it).
_PATTERNS_ZH: Final[tuple[tuple[re.Pattern[str], str], ...]] = tuple(
    (re.compile(pattern), zh)
    for pattern, zh in (
        (r"^duplicate of row (\d+)", r"与第 \1 行重复"),
        (r"^same number as an earlier ready row", "与前面待发送的行号码相同"),
        (r"^in the suppression list", "在屏蔽名单中"),
        (r"^empty field: (.*)$", r"字段为空：\1"),
        (r"^(\d+) characters, more than (\d+)", r"\1 字，超过 \2 字"),
        (r"^truncated from (\d+)", r"已从 \1 字截短"),
        (r"^(\w+) cannot carry (.*)$", r"\1 无法编码 \2"),
        (r"^not sent", "未发送"),
        (r"^interrupted while in flight", "发送中断，结果未知"),
        (r"may have reached the gateway", "请求可能已到达网关，结果未知"),
        (
            r"^already sent the same content at (\S+ \S+) \(Beijing\)",
            r"已于 \1（北京时间）通过同一网关发过相同内容，未重复发送",
        ),
        (
            r"^already possibly sent \(\w+\) the same content at (\S+ \S+) \(Beijing\)",
            r"已于 \1（北京时间）通过同一网关可能发过相同内容（结果未知），未重复发送",
        ),
    )
)
_GATEWAY_CODE = re.compile(r"\((-1\d\d)\)$")


def reason_zh(reason: str) -> str:
    """The Chinese of one English reason ("" when it has none): the send engine's reasons name the
    gateway's code, whose Chinese text is the provider's own."""
    if reason.startswith("campaign stopped: "):
        return "群发已停止：" + reason_zh(reason.removeprefix("campaign stopped: "))
    if reason.endswith(": messages may have gone out"):
        return reason_zh(reason.removesuffix(": messages may have gone out")) + "，短信可能已发出"
    code = _GATEWAY_CODE.search(reason)
    if code:
        return f"{describe_code(int(code.group(1))).zh}（{code.group(1)}）"
    if reason in REASONS_ZH:
        return REASONS_ZH[reason]
    for pattern, zh in _PATTERNS_ZH:
        match = pattern.search(reason)
        if match:
            return match.expand(zh)
    return ""


def reasons_zh(frame: pd.DataFrame) -> pd.Series:
    """``reason`` in Chinese: the gateway's own Chinese text for a refused request, else the
    table's translation of the English reason; ``<NA>`` where there is no reason or no translation."""
    reason = frame["reason"].astype(TEXT)
    codes, uniques = pd.factorize(reason, use_na_sentinel=True)
    table = pa.array([reason_zh(str(u)) or None for u in uniques], type=pa.large_string())
    spread = table.take(pa.array(codes, mask=codes < 0))  # once per distinct reason, then one take
    out = pd.Series(pd.array(spread, dtype=TEXT), index=frame.index)
    if "message_zh" in frame and "code" in frame:
        refused = pd.to_numeric(frame["code"], errors="coerce").lt(0).fillna(False).astype(bool)
        out = out.mask(refused & reason.notna(), frame["message_zh"].astype(TEXT))
    return out


def status_zh(status: str) -> str:
    """A status in Chinese (unknown ones as they are); several joined by ``", "`` (a batch whose
    recipients ended differently) stay joined."""
    return ", ".join(STATUS_LABELS.get(s, s) for s in status.split(", "))


#: The send engine's messages where the gateway gave no code: (Chinese, English); ``{kind}`` is the
#: transport error's kind (``timeout``, ``disconnected`` …).
ENGINE_MESSAGES: Final[dict[str, tuple[str, str]]] = {
    "settled_accepted": ("按余额核实：已受理", "Accepted (settled by the account balance)"),
    "settled_not_sent": ("按余额核实：未发送", "Not sent (settled by the account balance)"),
    "interrupted": ("发送中断，结果未知", "Interrupted while in flight; outcome unknown"),
    "in_flight": ("发送中断，结果未知", "In flight; outcome unknown"),
    "network_unknown": ("网络错误，结果未知", "Network error ({kind}); outcome unknown"),
    "network_not_sent": ("网络错误，未发送", "Network error ({kind}); not sent"),
}


def engine_message(event: str, kind: str | None = None) -> tuple[str, str]:
    """``(message_zh, message_en)`` of one of :data:`ENGINE_MESSAGES`.

    >>> engine_message("network_unknown", "timeout")
    ('网络错误，结果未知', 'Network error (timeout); outcome unknown')
    """
    zh, en = ENGINE_MESSAGES[event]
    return zh, en.format(kind=kind)
