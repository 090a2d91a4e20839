"""The people of a campaign, as the campaign home keeps them: arm, final status, identifier columns.

The send registry knows who was texted; it never sees the hold-out (not texted, on purpose) nor the
customer ids the list carried. :func:`campaign_people` takes a send's results and picks what outcomes
measured weeks later need (:mod:`smscampaign.reports.outcomes`):

- ``mobile`` — the number (normalised, or as written when it has no mobile shape);
- ``arm`` — the A/B variant, ``holdout``, or :data:`ALL_ARM` for a campaign without variants;
- ``status`` — the result status (``accepted``, ``holdout``, ``invalid``, ``capped`` …);
- ``key:<column>`` — each of the list's own columns that identifies a person (:func:`key_columns`):
  at least half its rows hold a value, values of at most 64 characters, distinct on at least 90 %
  of those rows — e.g. 会员号 or 客户编号, never 城市 or 会员等级 — and not a name (姓名) or the
  phone column.

>>> frame = pd.DataFrame({"mobile": ["13800138000", "13900139000"], "status": ["accepted", "holdout"],
...                       "variant": ["A", "holdout"], "会员号": ["M1", "M2"], "城市": ["上海", "上海"]})
>>> sorted(campaign_people(frame))
['arm', 'key:会员号', 'mobile', 'status']
"""

from __future__ import annotations

from typing import Any, Final

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from smscampaign.core.columns import LEAD_COLUMNS, TECHNICAL_COLUMNS, name_columns
from smscampaign.memory.home import PEOPLE_SEPARATOR
from smscampaign.stages.numbers import OUTPUT_COLUMNS

__all__ = ["ALL_ARM", "KEY_PREFIX", "campaign_people", "key_columns"]

#: The arm of every person of a campaign without variants.
ALL_ARM: Final = "all"
#: Fields of identifier columns start with this.
KEY_PREFIX: Final = "key:"
#: Columns the toolkit adds to a list (checking, planning, sending): never a customer's identifier.
_TOOLKIT_COLUMNS: Final = frozenset(
    {
        *LEAD_COLUMNS,
        *TECHNICAL_COLUMNS,
        *OUTPUT_COLUMNS,
        "reason_zh",
        "length",
        "variant",
    }
)
_MAX_KEY_LENGTH: Final = 64


def _text(values: pd.Series) -> list[str | None]:
    """Cells as stripped text (None for missing or empty), the separator replaced by a space."""
    text = pc.utf8_trim_whitespace(pa.array(values.astype("string[pyarrow]")))  # as str.strip()
    text = pc.replace_substring(text, PEOPLE_SEPARATOR, " ")
    return pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text).to_pylist()


def key_columns(results: pd.DataFrame) -> list[str]:
    """The list's own columns that identify a person (see the module's docstring), in order."""
    skip = set(_TOOLKIT_COLUMNS) | set(name_columns(results))
    skip.add(str(results.attrs.get("phone_column", "")))
    found = []
    for column in results.columns:
        if str(column) in skip or not len(results):
            continue
        values = results[column].astype("string[pyarrow]").str.strip()
        values = values[values.notna() & (values != "")]
        if len(values) * 2 < len(results) or values.str.len().max() > _MAX_KEY_LENGTH:
            continue
        if values.nunique() >= 0.9 * len(values):
            found.append(str(column))
    return found


def campaign_people(results: pd.DataFrame) -> dict[str, list[Any]]:
    """The fields the campaign home keeps of each person of a send's ``results`` (every row): see
    the module's docstring. ``results`` is not modified."""
    if "variant" in results.columns:
        arm = _text(results["variant"])
    else:
        arm = [ALL_ARM] * len(results)
    fields: dict[str, list[Any]] = {
        "mobile": _text(results["mobile"]),
        "arm": arm,
        "status": _text(results["status"]),
    }
    for column in key_columns(results):
        fields[KEY_PREFIX + column] = _text(results[column])
    return fields
