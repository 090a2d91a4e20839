"""The ``df.sms`` namespace for notebooks: thin wrappers over the package's functions.

Registered once, on ``import smscampaign``; it adds nothing the functions do not do.

>>> import smscampaign, pandas as pd
>>> pd.DataFrame({"手机": ["13800138000"]}).sms.check()["status"].tolist()
['ok']
"""

from __future__ import annotations

import pandas as pd

from smscampaign.numbers import check_numbers

__all__ = ["SmsAccessor"]


@pd.api.extensions.register_dataframe_accessor("sms")
class SmsAccessor:
    """``df.sms.check()`` is :func:`~smscampaign.numbers.check_numbers` (``df`` is not mutated)."""

    def __init__(self, df: pd.DataFrame) -> None:
        self._df = df

    def check(self, column: str | None = None) -> pd.DataFrame:
        """Return ``check_numbers(df, column)``: the rows plus mobile, status, reason, carrier…"""
        return check_numbers(self._df, column)
