"""The one text dtype of the package.

Every text column from :func:`load_recipients` to :func:`campaign_report` is :data:`TEXT`:
pyarrow-backed strings whose missing value is ``pd.NA`` — the same dtype, and the same missing
value, on pandas 2.x and 3.x. (``"str"`` means a NumPy object column of Python strings on
pandas 2 — ``astype("str")`` turns a missing value into the text ``'None'`` — and a NaN-based
string dtype on pandas 3; ``"string"`` depends on a pandas option. Neither is used.)

>>> pd.Series(["13800138000", None], dtype=TEXT)  # doctest: +SKIP
0    13800138000
1           <NA>
dtype: string
"""

from __future__ import annotations

from typing import Final

import pandas as pd

__all__ = ["TEXT", "needs_text"]

#: The dtype of every text column this package produces: pyarrow-backed, missing is ``<NA>``.
TEXT: Final = pd.StringDtype("pyarrow")


def needs_text(column: pd.Series) -> bool:
    """Whether ``column`` holds text in another dtype than :data:`TEXT`: pandas 3's ``"str"``, a
    ``"string[python]"`` column, or (pandas 2, a frame built by hand) an object column of strings."""
    dtype = column.dtype
    if isinstance(dtype, pd.StringDtype):
        return dtype != TEXT
    return pd.api.types.is_object_dtype(dtype) and pd.api.types.infer_dtype(column) == "string"
