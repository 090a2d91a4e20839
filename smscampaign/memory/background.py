"""Work on a thread of its own, handed back as a future.

The journal writes its recipients' Parquet copy this way while a run gets ready, and the send engine
closes the campaign home beside the journal (each close is an fsync of its own).

>>> closing = in_background(store.close, "smscampaign-close-home")   # doctest: +SKIP
>>> closing.result()                                   # waits; re-raises the close's error, if any
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

__all__ = ["in_background"]

_T = TypeVar("_T")


def in_background(work: Callable[[], _T], name: str) -> Future[_T]:
    """``work()`` started on a thread of its own (named ``name``); the future re-raises its error
    on every ask."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
    try:
        return pool.submit(work)
    finally:
        pool.shutdown(wait=False)  # the thread ends once the work is done
