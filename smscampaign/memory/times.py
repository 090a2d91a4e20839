"""Times in the campaign memory: integer microseconds since the epoch (UTC), and durations.

The history and the planning from it (:mod:`smscampaign.campaign.caps`) count and compare send times
as int64 microseconds — whole-array numpy work — with :data:`NAT` for "never"; they come back as
Beijing-time datetimes only for display (:func:`from_micros`).

>>> micros(pd.Timestamp("1970-01-01 08:00:01", tz=BEIJING))
1000000
>>> from_micros(np.array([1_000_000])).tolist()
[Timestamp('1970-01-01 08:00:01+0800', tz='Asia/Shanghai')]
>>> positive_duration("72h", "attribution_window")
Timedelta('3 days 00:00:00')
"""

from __future__ import annotations

from datetime import UTC
from typing import Any, Final

import numpy as np
import pandas as pd

from smscampaign.core.errors import ConfigError
from smscampaign.wire.protocol import BEIJING

__all__ = ["NAT", "as_micros", "from_micros", "micros", "positive_duration"]

#: Integer microseconds that read as NaT (numpy's and pandas' missing time).
NAT: Final = np.iinfo(np.int64).min


def as_micros(values: pd.Series) -> np.ndarray:
    """Aware datetimes as integer microseconds since the epoch (UTC)."""
    return pd.DatetimeIndex(values).as_unit("us").asi8


def from_micros(values: np.ndarray) -> pd.Series:
    """Integer microseconds since the epoch (UTC) as Beijing-time datetimes (microseconds)."""
    utc = pd.Series(np.asarray(values, dtype=np.int64).view("datetime64[us]")).dt.tz_localize(UTC)
    return utc.dt.tz_convert(BEIJING)


def micros(moment: pd.Timestamp) -> int:
    """An aware timestamp as microseconds since the epoch (UTC)."""
    return int(np.datetime64(moment.tz_convert(None).to_datetime64(), "us").astype(np.int64))


def positive_duration(value: Any, what: str) -> pd.Timedelta:
    """``value`` as a positive duration (``"72h"``, ``"7D"``, a timedelta); :class:`ConfigError`
    naming ``what`` otherwise."""
    try:
        window = pd.Timedelta(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{what} must be a duration such as '72h' or '7D', not {value!r}") from None
    if window <= pd.Timedelta(0):
        raise ConfigError(f"{what} must be positive, not {value!r}")
    return window
