"""The order a person reads result columns in: the lead columns, then the technical ones.

>>> LEAD_COLUMNS[:3]
('source_row', 'mobile', 'status')
"""

from __future__ import annotations

import re
from typing import Final

import pandas as pd

from smscampaign.core.dtypes import TEXT, needs_text
from smscampaign.core.reasons import reasons_zh

__all__ = ["LEAD_COLUMNS", "TECHNICAL_COLUMNS", "arrange", "name_columns"]

#: The fixed columns a person reads first, in order; name-like columns go right after ``source_row``.
LEAD_COLUMNS: Final = (
    "source_row",
    "mobile",
    "status",
    "reason_zh",
    "reason",
    "message_zh",
    "message_en",
    "content",
)
#: The send results' technical columns, after :data:`LEAD_COLUMNS`.
TECHNICAL_COLUMNS: Final = ("code", "category", "batch", "attempts", "gateway_result", "sent_at")
_NAME_HINT: Final = re.compile(r"姓名|名字|名称|称呼|客户|联系人|收件人|name|customer|contact", re.I)
#: Identifiers are not names: 客户编号, customer_id, contact number …
_NOT_NAME_HINT: Final = re.compile(
    r"编号|号码|电话|手机|代码|id\b|_id|code|number|phone|mobile|tel|no\b", re.I
)


def name_columns(frame: pd.DataFrame) -> list[str]:
    """The columns holding a name or the like (``姓名``, ``客户名称``, ``name`` …), in order."""
    phone = str(frame.attrs.get("phone_column", ""))
    return [
        str(c)
        for c in frame.columns
        if _NAME_HINT.search(str(c)) and not _NOT_NAME_HINT.search(str(c)) and str(c) != phone
    ]


def arrange(results: pd.DataFrame) -> pd.DataFrame:
    """``results`` with the columns a person reads first, and every text column in one dtype.

    Order: ``source_row``, the name-like columns (:func:`name_columns`), ``mobile``, ``status``,
    ``reason_zh``, ``reason``, ``message_zh``, ``message_en``, ``content``, then every other column
    in its order. ``reason_zh`` (``reason`` in Chinese) is added when ``reason`` is there and it is
    not. Text columns become :data:`~smscampaign.stages.numbers.TEXT` (missing is ``<NA>``, never ``nan``).
    Column names, rows, index and ``attrs`` are unchanged; ``results`` is not modified.

    >>> arrange(pd.DataFrame({"mobile": ["13800138000"], "source_row": [2], "姓名": ["张三"]})).columns.tolist()
    ['source_row', '姓名', 'mobile']
    """  # noqa: E501
    out = results.copy(deep=False)
    if "reason" in out and "reason_zh" not in out:
        out["reason_zh"] = reasons_zh(out)
    for column in out.columns:
        if needs_text(out[column]):  # e.g. the columns of a frame built by hand on pandas 2
            out[column] = out[column].astype(TEXT)
    names = [c for c in name_columns(out) if c not in LEAD_COLUMNS]
    lead = [c for c in (LEAD_COLUMNS[0], *names, *LEAD_COLUMNS[1:]) if c in out.columns]
    order = [*lead, *(c for c in out.columns if c not in lead)]
    arranged = out[order]
    arranged.attrs = dict(results.attrs)
    return arranged
