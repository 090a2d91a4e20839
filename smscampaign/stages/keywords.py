"""Opt-out keywords: the replies that mean "stop texting me" (退订, T, STOP …), matched loosely.

>>> keyword_key(" 退订！")
'退订'
"""

from __future__ import annotations

import unicodedata
from typing import Final

__all__ = ["OPT_OUT_KEYWORDS", "keyword_key"]

#: Replies that mean "stop sending to me", compared after :func:`keyword_key` (width and case folded,
#: so ＴＤ and td count): Simplified and Traditional forms, as GBK and Big5 users write them.
OPT_OUT_KEYWORDS: Final = (
    "T",
    "TD",
    "N",
    "退订",
    "退訂",
    "退",
    "取消",
    "取消订阅",
    "取消訂閱",
    "退订短信",
    "退訂簡訊",
    "STOP",
    "UNSUBSCRIBE",
)


def keyword_key(text: str) -> str:
    """Fold width and case, and strip surrounding whitespace, punctuation and symbols."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    start, end = 0, len(folded)
    while start < end and unicodedata.category(folded[start])[0] in "PZSC":
        start += 1
    while end > start and unicodedata.category(folded[end - 1])[0] in "PZSC":
        end -= 1
    return folded[start:end]
