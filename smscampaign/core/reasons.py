"""The one table of reason texts: every English ``reason`` the package writes, in Chinese.

Results, reports, views and the command line read reasons here; a reason is written in English
where it arises (``numbers``, ``plan``, the send engine) and translated only here.

>>> reason_zh("duplicate of row 8")
'与第 8 行重复'
"""

from __future__ import annotations

import re

import pandas as pd
import pyarrow as pa

from smscampaign.core.codes import describe_code
from smscampaign.core.dtypes import TEXT

__all__ = ["reason_zh", "reasons_zh"]

#: Reasons in Chinese: (pattern on the English reason, Chinese with \\1… from the pattern).
_REASONS_ZH: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), zh)
    for pattern, zh in (
        (r"^empty$", "号码为空"),
        (r"^no mobile number$", "没有手机号"),
        (r"^digits lost to scientific notation$", "科学计数法丢失了数字"),
        (r"^foreign country code$", "境外国家代码"),
        (r"^not digits$", "含非数字字符"),
        (r"^wrong length$", "位数不对"),
        (r"^not a mainland mobile range$", "不是大陆手机号段"),
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
    for pattern, zh in _REASONS_ZH:
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
