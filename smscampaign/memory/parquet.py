"""The plan's recipients as Parquet bytes: the copy a journal keeps so that
:func:`~smscampaign.read_journal` can rebuild per-recipient results from the file alone.

>>> blob = parquet_bytes(recipients_table(plan.recipients))      # doctest: +SKIP
>>> read_recipients(blob).equals(plan.recipients)                # doctest: +SKIP
True
"""

from __future__ import annotations

import io

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["parquet_bytes", "read_recipients", "recipients_table"]


def recipients_table(frame: pd.DataFrame) -> pa.Table:
    """``frame`` as an Arrow table (index kept); object columns of mixed types are stored as text.
    ``frame`` is not modified."""
    try:
        return pa.Table.from_pandas(frame)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        safe = frame.copy()
        for column in safe.columns:
            if safe[column].dtype == object:
                safe[column] = safe[column].map(lambda v: None if v is None or v is pd.NA else str(v))
        return pa.Table.from_pandas(safe)


def parquet_bytes(table: pa.Table) -> bytes:
    """``table`` as Parquet bytes. No dictionary pages and no statistics: the blob is only ever read
    whole, and on 100,000 distinct numbers they cost a third of the write for 3 % of the size."""
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd", use_dictionary=False, write_statistics=False)
    return sink.getvalue()


def read_recipients(blob: bytes) -> pd.DataFrame:
    """The frame :func:`parquet_bytes` stored (index included)."""
    return pq.read_table(io.BytesIO(blob)).to_pandas()
