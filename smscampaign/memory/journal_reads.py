"""Reading an earlier journal file: whom it texted (for ``suppress=``), and whether a file is one.

>>> is_journal("recipients.csv")                                   # doctest: +SKIP
False
"""

from __future__ import annotations

import os

import pandas as pd

from smscampaign.core.dtypes import TEXT
from smscampaign.core.errors import JournalError
from smscampaign.memory.journal import ACCEPTED, IN_FLIGHT, UNKNOWN, open_journal

__all__ = ["is_journal", "journal_mobiles"]


def journal_mobiles(path: str | os.PathLike[str]) -> pd.Series:
    """The numbers an earlier journal **accepted or left unknown** (a ``mobile`` text Series), to
    leave out of a changed plan: ``plan_campaign(..., suppress=JOURNAL_PATH)``. Read-only.

    >>> journal_mobiles("spring.journal").head()                  # doctest: +SKIP
    """
    with open_journal(path, readonly=True) as journal:
        batches = journal.batches()
        if not (batches["attempts"] > 0).any():  # no batch was ever claimed: nobody was texted
            return pd.Series([], name="mobile", dtype=TEXT)
        recipients = journal.recipients()
        states = batches.set_index("batch")["state"]
        excluded = set(journal.excluded()["mobile"])
    if "batch" not in recipients or "mobile" not in recipients:
        raise JournalError(f"{path}: the journal's recipients have no batch or mobile column")
    batch = recipients["batch"].astype("Int64")
    state = batch.map(states.to_dict())
    # in_flight: a run may be going on, or died; either way the request may have gone out.
    maybe_sent = state.isin([ACCEPTED, UNKNOWN, IN_FLIGHT]).fillna(False).astype(bool)
    mobiles = recipients.loc[maybe_sent, "mobile"].astype(str)
    mobiles = mobiles[~mobiles.isin(excluded)].drop_duplicates()
    return pd.Series(mobiles.to_numpy(), name="mobile", dtype=TEXT)


def is_journal(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is an SQLite file holding a send journal (a quick, read-only look)."""
    try:
        with open(path, "rb") as handle:
            if handle.read(16) != b"SQLite format 3\x00":
                return False
        with open_journal(path, readonly=True) as journal:
            return journal._has_table("plan") and journal._has_table("batches")
    except (OSError, JournalError):
        return False
