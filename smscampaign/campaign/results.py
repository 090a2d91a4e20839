"""The results frame: one row per recipient of a plan, joined with the journal's batch states.

What :func:`~smscampaign.send_campaign` returns and :func:`~smscampaign.read_journal` rebuilds from a
journal alone: the plan's recipients, each ready row with the status, code, texts, attempts and time of
its batch (``status`` per :data:`STATUS_OF_STATE`; recipients the registry left out are
``already_sent``), in the plan's row order and index. The recipients frame is not modified.

>>> results_frame(journal.recipients(), journal.batches(), pending_reason="not sent",
...               excluded=journal.excluded())["status"].tolist()        # doctest: +SKIP
['accepted', 'accepted', 'invalid']
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from smscampaign.core.codes import AMBIGUOUS, RETRYABLE, SUCCESS, describe_code
from smscampaign.core.columns import arrange
from smscampaign.core.dtypes import TEXT
from smscampaign.core.reasons import engine_message
from smscampaign.core.statuses import ResultStatus
from smscampaign.memory.journal import ACCEPTED, FAILED, IN_FLIGHT, PLANNED, UNKNOWN
from smscampaign.wire.protocol import BEIJING

__all__ = ["STATUS_OF_STATE", "records", "results_frame", "summary_line"]

#: A ready recipient's status after sending, per journal state of its batch.
STATUS_OF_STATE: Final[dict[str, str]] = {
    ACCEPTED: ResultStatus.ACCEPTED,
    FAILED: ResultStatus.FAILED,
    UNKNOWN: ResultStatus.UNKNOWN,
    IN_FLIGHT: ResultStatus.UNKNOWN,
    PLANNED: ResultStatus.NOT_SENT,
}


def _batch_columns(batches: pd.DataFrame, pending_reason: str) -> dict[str, np.ndarray]:
    """Per-batch result columns (object arrays, one entry per batch row)."""
    n = len(batches)
    out: dict[str, np.ndarray] = {
        name: np.full(n, None, dtype=object)
        for name in ("status", "message_zh", "message_en", "category", "reason")
    }
    codes = batches["code"]
    kinds = batches["error_kind"] if "error_kind" in batches else pd.Series([None] * n)
    for i, (st, code, error, reason, error_kind) in enumerate(
        zip(batches["state"], codes, batches["error"], batches["reason"], kinds, strict=True)
    ):
        status = STATUS_OF_STATE[st]
        out["status"][i] = status
        # Journals written before error_kind existed: the kind is the error text's prefix.
        kind = error_kind if isinstance(error_kind, str) else (str(error).split(":", 1)[0] or None)
        if code is not pd.NA and code is not None:
            info = describe_code(int(code))
            out["message_zh"][i], out["message_en"][i], out["category"][i] = (
                info.zh,
                info.en,
                info.category,
            )
        elif st == ACCEPTED:  # settled by the balance: no answer code
            out["message_zh"][i], out["message_en"][i] = engine_message("settled_accepted")
            out["category"][i] = SUCCESS
        elif error or isinstance(error_kind, str):
            if kind == "interrupted":
                out["message_zh"][i], out["message_en"][i] = engine_message("interrupted")
                out["category"][i] = AMBIGUOUS
            elif kind == "settled_by_balance":
                out["message_zh"][i], out["message_en"][i] = engine_message("settled_not_sent")
                out["category"][i] = RETRYABLE
            elif status == "unknown":
                out["message_zh"][i], out["message_en"][i] = engine_message("network_unknown", kind)
                out["category"][i] = AMBIGUOUS
            else:
                out["message_zh"][i], out["message_en"][i] = engine_message("network_not_sent", kind)
                out["category"][i] = RETRYABLE
        elif st == IN_FLIGHT:
            out["message_zh"][i], out["message_en"][i] = engine_message("in_flight")
            out["category"][i] = AMBIGUOUS
        if st == IN_FLIGHT:
            reason = "in flight when the journal was read: the request may have reached the gateway"
        elif st == PLANNED and not reason:
            reason = pending_reason
        out["reason"][i] = reason if isinstance(reason, str) else None
    return out


def results_frame(
    recipients: pd.DataFrame,
    batches: pd.DataFrame,
    *,
    pending_reason: str,
    excluded: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The results frame: ``recipients`` (a plan's) joined with the journal's batch states; the
    ``excluded`` recipients (the registry's) are ``already_sent`` with its reason."""
    n = len(recipients)
    ready = recipients["status"].eq("ready").to_numpy(dtype=bool, na_value=False)
    batch = recipients["batch"].astype("Int64")
    batch_index = pd.Index(batches["batch"].astype(int))
    pos = batch_index.get_indexer(batch.fillna(-1).astype(int).to_numpy())
    pos[~ready] = -1
    sent = pos >= 0
    take = np.where(sent, pos, 0)
    cols = _batch_columns(batches, pending_reason)

    # Per-batch texts are spread to the rows by one Arrow take (NA where a row has no batch).
    rows_pos = pa.array(take, mask=~sent)

    def spread(values: np.ndarray | pd.Series) -> pa.Array:
        clean = [v if isinstance(v, str) else None for v in values]
        if not clean:
            return pa.nulls(n, pa.large_string())
        return pa.array(clean, type=pa.large_string()).take(rows_pos)

    def column(name: str) -> pa.Array:
        if name not in recipients:
            return pa.nulls(n, pa.large_string())
        values = recipients[name]
        try:
            return pa.array(values.array, type=pa.large_string(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return pa.array([v if isinstance(v, str) else None for v in values], type=pa.large_string())

    sent_mask = pa.array(sent)
    status_arr = pc.if_else(sent_mask, spread(cols["status"]), column("status"))
    # truncation notes of ready rows stay where the batch says nothing
    reason_arr = pc.coalesce(spread(cols["reason"]), column("reason"))
    if excluded is not None and len(excluded):
        why = dict(zip(excluded["mobile"], excluded["reason"], strict=True))
        mobiles = recipients["mobile"].to_numpy(dtype=object)
        left_out = sent & pd.Series(mobiles).isin(why.keys()).to_numpy()
        if left_out.any():
            override = pa.array(
                [why[m] if out_ else None for m, out_ in zip(mobiles, left_out, strict=True)],
                type=pa.large_string(),
            )
            mask = pa.array(left_out)
            status_arr = pc.if_else(mask, pa.scalar("already_sent", pa.large_string()), status_arr)
            reason_arr = pc.if_else(mask, override, reason_arr)
    code = batches["code"].astype("Int64").array.take(pos, allow_fill=True)
    attempts = np.where(
        sent, batches["attempts"].to_numpy(dtype=np.int64)[take] if len(batches) else 0, 0
    )
    sent_at = pd.to_datetime(batches["sent_at"].astype(object), format="ISO8601", utc=True)
    sent_at_col = sent_at.dt.tz_convert(BEIJING).dt.as_unit("us").array.take(pos, allow_fill=True)
    source_row = (
        recipients["source_row"].to_numpy()
        if "source_row" in recipients
        else recipients.index.to_numpy()
    )

    def text(values: pa.Array) -> pd.api.extensions.ExtensionArray:
        return pd.array(values, dtype=TEXT)

    def as_text(name: str) -> pd.api.extensions.ExtensionArray:
        if name not in recipients:
            return pd.array([None] * n, dtype=TEXT)
        values = recipients[name]
        return values.array if values.dtype == TEXT else values.astype(TEXT).array

    out = pd.DataFrame(
        {
            "source_row": source_row,
            "mobile": as_text("mobile"),
            "status": text(status_arr),
            "code": code,
            "message_zh": text(spread(cols["message_zh"])),
            "message_en": text(spread(cols["message_en"])),
            "category": text(spread(cols["category"])),
            "batch": batch.array,
            "attempts": attempts.astype(np.int64),
            "gateway_result": text(spread(batches["gateway_result"])),
            "sent_at": sent_at_col,
            "content": as_text("content"),
            "reason": text(reason_arr),
        },
        index=recipients.index,
    )
    rest = [c for c in recipients.columns if c not in out.columns]
    for column in rest:
        out[column] = recipients[column].array
    out.attrs = dict(recipients.attrs)
    return arrange(out)


def summary_line(results: pd.DataFrame, *, resumed: bool, accepted_before: int, sent_now: int) -> str:
    """What was done before and now, in one line (the CLI prints it; notebooks find it in attrs)."""
    counts = results["status"].value_counts()
    extra = []
    for status in ("already_sent", "unknown", "failed", "not_sent"):
        if counts.get(status, 0):
            extra.append(f"{int(counts[status]):,} {status.replace('_', ' ')}")
    tail = f" ({', '.join(extra)})" if extra else ""
    if resumed:
        return (
            f"resumed: {accepted_before:,} accepted earlier, {sent_now:,} sent now, nobody twice{tail}"
        )
    return f"new campaign: {sent_now:,} sent now{tail}"


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain dicts (``None`` for missing values): what ``attrs`` can hold safely."""
    return [
        {k: (None if v is None or v is pd.NA or v != v else v) for k, v in row.items()}
        for row in frame.astype(object).to_dict("records")
    ]
