"""The account's sends beside the campaign's: what else went out in the same days and months.

:meth:`~smscampaign.Gateway.user_stat` says how many messages the whole account sent per day and
per month; :func:`account_sends` puts this campaign's accepted recipients beside those counts, so a
reader sees how much of the account's traffic the campaign was (the workbook's 账户发送量 sheet).

>>> account_sends(results, gw.user_stat()).tail(3)        # doctest: +SKIP
    period   kind  sent  campaign_accepted  other
"""

from __future__ import annotations

import pandas as pd

from smscampaign.core.dtypes import TEXT
from smscampaign.core.errors import ConfigError
from smscampaign.wire.protocol import BEIJING

__all__ = ["account_sends"]


def account_sends(results: pd.DataFrame, stats: pd.DataFrame) -> pd.DataFrame:
    """The account's sends (``stats``, from :meth:`~smscampaign.Gateway.user_stat`) beside
    this campaign's: ``period, kind, sent`` plus ``campaign_accepted`` (recipients of ``results``
    accepted in that period, by ``sent_at`` in Beijing time) and ``other`` (``sent`` minus them,
    never below 0: what else the account sent). Periods are the gateway's labels (``11-29``,
    ``2026-11``). Neither input is modified.

    >>> account_sends(results, gw.user_stat()).tail(3)        # doctest: +SKIP
        period   kind  sent  campaign_accepted  other
    """
    missing = [c for c in ("period", "kind", "sent") if c not in stats.columns]
    if missing:
        raise ConfigError(
            f"account stats need the columns period, kind, sent (Gateway.user_stat()); missing {missing}"
        )
    out = stats.loc[:, ["period", "kind", "sent"]].astype({"period": TEXT, "kind": TEXT})
    campaign = pd.Series(0, index=out.index, dtype="int64")
    if {"status", "sent_at"} <= set(results.columns):
        accepted = results["status"].eq("accepted").fillna(False).astype(bool)
        when = pd.to_datetime(results.loc[accepted, "sent_at"], utc=True).dt.tz_convert(BEIJING)
        counts = {
            "day": when.dt.strftime("%m-%d").value_counts(),
            "month": when.dt.strftime("%Y-%m").value_counts(),
        }
        for kind, per in counts.items():
            rows = out["kind"].eq(kind).fillna(False).astype(bool)
            looked_up = out.loc[rows, "period"].map(per.to_dict())
            campaign[rows] = looked_up.fillna(0).astype("int64")
    out["campaign_accepted"] = campaign
    out["other"] = (out["sent"].astype("int64") - campaign).clip(lower=0)
    return out.reset_index(drop=True)
