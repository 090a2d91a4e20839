"""Suppression lists: the numbers a campaign must not text, and which rows they match.

:func:`load_suppression` reads any suppression source (numbers, a DataFrame, a list file, an
earlier campaign's journal); :func:`suppressed_mask` says which rows of a plan carry one of those
numbers, normalised or as written.

>>> suppressed_mask(pd.Series(["13800000001", "13900000002"]), np.array([True, True]),
...                 load_suppression(["+86 138 0000 0001"])).tolist()
[True, False]
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from smscampaign.core.errors import PlanError
from smscampaign.stages.templates import field_text

__all__ = ["load_suppression", "number_keys", "suppressed_mask"]

logger = logging.getLogger(__name__)

_LOOKS_LIKE_NUMBER: Final = re.compile(r"^\+?[\d\s()\-]{5,}$")


def load_suppression(suppress: Any) -> pd.Series:
    """The numbers of a suppression source, as written (matching normalises them).

    The one place suppression sources are read: numbers (a list, set, Series or any iterable), a
    DataFrame (its ``mobile`` column, else its phone column), a path :func:`load_recipients`
    can read, or an earlier campaign's journal (everyone it accepted or left unknown, and everyone
    it left out as ``already_sent``: they got its content from another journal). A single
    string that looks like a number is refused (pass a list).

    >>> load_suppression(["13800000001"]).tolist()
    ['13800000001']
    """
    if isinstance(suppress, str | os.PathLike):  # a file: every kind of file source is read here
        if (
            isinstance(suppress, str)
            and _LOOKS_LIKE_NUMBER.match(suppress.strip())
            and not os.path.exists(suppress)
        ):
            raise PlanError(
                f"suppress={suppress!r} is read as a file path; "
                f"pass numbers as a list, e.g. [{suppress!r}]"
            )
        from smscampaign.memory.journal_reads import is_journal  # noqa: PLC0415
        from smscampaign.stages.recipients import load_recipients  # noqa: PLC0415 (written alongside)

        if is_journal(suppress):  # an earlier campaign: whoever it texted or found already texted
            return _journal_numbers(suppress)
        suppress = load_recipients(suppress)
    if isinstance(suppress, pd.DataFrame):
        column = "mobile" if "mobile" in suppress.columns else suppress.attrs.get("phone_column")
        if column is None or column not in suppress.columns:
            from smscampaign.stages.recipients import load_recipients  # noqa: PLC0415

            suppress = load_recipients(suppress)  # detects the phone column, or says there is none
            column = suppress.attrs["phone_column"]
        return suppress[column]
    if isinstance(suppress, pd.Series):
        return suppress
    if isinstance(suppress, Iterable) and not isinstance(suppress, bytes | Mapping):
        return pd.Series(list(suppress), dtype=object)
    raise PlanError(
        "suppress must be numbers (a list, set, Series), a DataFrame with 'mobile', "
        "or a file path; "
        f"got {type(suppress).__name__}"
    )


def _journal_numbers(path: str | os.PathLike[str]) -> pd.Series:
    """The numbers of an earlier campaign's journal: those it accepted or left unknown
    (:func:`~smscampaign.memory.journal_reads.journal_mobiles`) and those it left out of their batch as
    ``already_sent`` — people its content reached through another journal."""
    from smscampaign.memory.journal import open_journal  # noqa: PLC0415
    from smscampaign.memory.journal_reads import journal_mobiles  # noqa: PLC0415

    sent = journal_mobiles(path)
    with open_journal(path, readonly=True) as journal:
        already = journal.excluded()["mobile"]
    if already.empty:
        return sent
    numbers = pd.unique(pd.Series([*sent.tolist(), *already.astype(str).tolist()], dtype=object))
    return pd.Series(numbers, name="mobile", dtype=sent.dtype)


def number_keys(values: pd.Series) -> tuple[pa.Array, pa.Array]:
    """(normalised numbers, raw stripped text) for matching; nulls where there is none."""
    from smscampaign.stages.numbers import normalize_numbers  # noqa: PLC0415 (written alongside)

    raw = field_text(values.reset_index(drop=True))
    normalized = field_text(pd.Series(normalize_numbers(values), copy=False).reset_index(drop=True))
    return normalized, raw


def suppressed_mask(mobiles: pd.Series, candidates: np.ndarray, numbers: pd.Series | None) -> np.ndarray:
    """Rows among ``candidates`` whose number (normalised, or as written) is in ``numbers``."""
    mask = np.zeros(len(mobiles), dtype=bool)
    if numbers is None:
        return mask
    listed_norm, listed_raw = number_keys(numbers)
    keys = pa.concat_arrays([listed_norm, listed_raw]).drop_null().unique()
    logger.debug("suppression list: %d distinct keys", len(keys))
    if len(keys) == 0 or not candidates.any():
        return mask
    idx = np.flatnonzero(candidates)
    norm, raw = number_keys(mobiles.iloc[idx])
    hit = pc.or_(pc.is_in(norm, value_set=keys), pc.is_in(raw, value_set=keys))
    mask[idx] = pc.fill_null(hit, False).to_numpy(zero_copy_only=False)
    return mask
