"""Plan a campaign: who gets which exact content in which gateway call, who is skipped and why.

:func:`plan_campaign` turns checked recipients and one template into a :class:`Plan` — nothing
is sent. Every input row gets a ``status`` (``ready`` or the reason it is skipped) and ``ready``
rows that share a content are grouped into batches of at most 500 receivers, one gateway
``send_sms`` call each.

>>> import pandas as pd, smscampaign as sc
>>> people = pd.DataFrame(
...     {"mobile": ["13800138000", "13900139000"], "status": "ok", "姓名": ["张三", ""]}
... )
>>> plan = sc.plan_campaign(people, "{姓名}您好，会员日全场八折", signature="小店")
>>> plan.recipients[["mobile", "status", "content"]].to_dict("records")[0]
{'mobile': '13800138000', 'status': 'ready', 'content': '张三您好，会员日全场八折【小店】'}
>>> plan.recipients["status"].tolist()
['ready', 'missing_field']
"""

from __future__ import annotations

import copy
import hashlib
import html
import logging
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from smscampaign.errors import ConfigError, PlanError, TemplateError
from smscampaign.protocol import (
    MAX_LENGTH,
    MAX_NUMBERS,
    python_codec,
    resolve_sendtime,
    sms_length,
    unencodable_characters,
)
from smscampaign.templates import (
    SIGNATURE_CLOSE,
    SIGNATURE_OPEN,
    Template,
    astral_counts,
    field_text,
    normalize_signature,
    parse_template,
    render_bodies,
    resolve_columns,
    sms_lengths,
    truncate_sms,
)

__all__ = [
    "MAX_CONTENT_LENGTH",
    "MAX_RECEIVERS",
    "STATUSES",
    "Plan",
    "plan_campaign",
    "resolve_sendtime",
]

logger = logging.getLogger(__name__)

#: The gateway's limits: characters per content (−118) and numbers per request (−117).
MAX_CONTENT_LENGTH: Final = MAX_LENGTH
MAX_RECEIVERS: Final = MAX_NUMBERS
#: Every status a planned row can have, ``ready`` first; the rest in order of precedence for
#: ``ok`` rows
#: (``invalid``/``duplicate`` come from :func:`check_numbers` or the final duplicate guard).
STATUSES: Final = (
    "ready",
    "invalid",
    "duplicate",
    "suppressed",
    "missing_field",
    "unencodable",
    "too_long",
)
_READY, _INVALID, _DUPLICATE, _SUPPRESSED, _MISSING, _UNENCODABLE, _TOO_LONG = range(len(STATUSES))
OnTooLong = Literal["skip", "error", "truncate"]
_ON_TOO_LONG: Final = ("skip", "error", "truncate")
_FINGERPRINT_VERSION: Final = b"smscampaign-plan-v1"
_LOOKS_LIKE_NUMBER: Final = re.compile(r"^\+?[\d\s()\-]{5,}$")
_NULL_STR: Final = pa.scalar(None, pa.string())


# -- sendtime --------------------------------------------------------------------------------------


# -- suppression -----------------------------------------------------------------------------------


def _suppression_values(suppress: Any) -> pd.Series:
    """The raw numbers of a suppression list in any accepted form."""
    if isinstance(suppress, str | os.PathLike):
        if (
            isinstance(suppress, str)
            and _LOOKS_LIKE_NUMBER.match(suppress.strip())
            and not os.path.exists(suppress)
        ):
            raise PlanError(
                f"suppress={suppress!r} is read as a file path; "
                f"pass numbers as a list, e.g. [{suppress!r}]"
            )
        from smscampaign.journal import is_journal, journal_mobiles  # noqa: PLC0415
        from smscampaign.recipients import load_recipients  # noqa: PLC0415 (written alongside)

        if is_journal(suppress):  # an earlier campaign: whoever it accepted or left unknown
            return journal_mobiles(suppress)
        suppress = load_recipients(suppress)
    if isinstance(suppress, pd.DataFrame):
        column = "mobile" if "mobile" in suppress.columns else suppress.attrs.get("phone_column")
        if column is None or column not in suppress.columns:
            from smscampaign.recipients import load_recipients  # noqa: PLC0415

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


def _number_keys(values: pd.Series) -> tuple[pa.Array, pa.Array]:
    """(normalised numbers, raw stripped text) for matching; nulls where there is none."""
    from smscampaign.numbers import normalize_numbers  # noqa: PLC0415 (written alongside)

    raw = field_text(values.reset_index(drop=True))
    normalized = field_text(pd.Series(normalize_numbers(values), copy=False).reset_index(drop=True))
    return normalized, raw


def _suppressed_mask(mobiles: pd.Series, candidates: np.ndarray, suppress: Any) -> np.ndarray:
    """Rows among ``candidates`` whose number (normalised, or as written) is in ``suppress``."""
    mask = np.zeros(len(mobiles), dtype=bool)
    if suppress is None:
        return mask
    listed_norm, listed_raw = _number_keys(_suppression_values(suppress))
    keys = pa.concat_arrays([listed_norm, listed_raw]).drop_null().unique()
    logger.debug("suppression list: %d distinct keys", len(keys))
    if len(keys) == 0 or not candidates.any():
        return mask
    idx = np.flatnonzero(candidates)
    norm, raw = _number_keys(mobiles.iloc[idx])
    hit = pc.or_(pc.is_in(norm, value_set=keys), pc.is_in(raw, value_set=keys))
    mask[idx] = pc.fill_null(hit, False).to_numpy(zero_copy_only=False)
    return mask


# -- the plan -------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class Plan:
    """What a campaign will send, to whom, in which calls — what it skips and why. Nothing is sent.

    - ``recipients``: one row per input row, in input order with the input index, columns and
      ``attrs``, plus ``status`` (see :data:`STATUSES`), ``reason`` (why skipped, or
      ``truncated …``), ``content`` (the exact text, signature included), ``length`` (as the
      gateway counts, ``Int64``), ``batch`` (``Int64``, ``<NA>`` unless ready). ``mobile`` is text.
    - ``batches``: one row per ``send_sms`` call, in sending order: ``batch`` (int, **numbered
      from 1**), ``content`` (str), ``receivers`` (list of str, ≤ ``batch_size``, no number
      twice), ``size`` (int), ``sendtime`` (``YYYY-MM-DD HH:MM:SS`` Beijing time, or ``None``).
    - ``fingerprint``: SHA-256 hex of the resolved batches (contents, receivers, order),
      ``charset`` and ``sendtime``: equal plans have equal fingerprints, in any process.
    - ``messages``: messages to be charged (one per ready recipient; every content fits one SMS).

    >>> plan.summary()                                         # doctest: +SKIP
              status  recipients
    0          ready           1
    …
    """

    recipients: pd.DataFrame
    batches: pd.DataFrame
    template: str
    signature: str | None
    charset: str
    sendtime: str | None
    max_length: int
    batch_size: int
    messages: int
    fingerprint: str

    @property
    def requests(self) -> int:
        """Gateway calls the plan needs (one per batch)."""
        return len(self.batches)

    def __len__(self) -> int:
        return len(self.recipients)

    def to_frame(self) -> pd.DataFrame:
        """A copy of :attr:`recipients` (safe to modify)."""
        frame = self.recipients.copy()
        frame.attrs = copy.deepcopy(self.recipients.attrs)
        return frame

    def counts(self) -> dict[str, int]:
        """Recipients per status: every status of :data:`STATUSES` (zeros included), then any other
        status the input carried."""
        found = self.recipients["status"].value_counts(dropna=False)
        counts = {status: int(found.get(status, 0)) for status in STATUSES}
        for status, count in found.items():
            if status not in counts:
                counts[str(status)] = int(count)
        return counts

    def summary(self) -> pd.DataFrame:
        """Recipients per status as a small DataFrame ``status, recipients`` (all statuses, zeros
        included), with the totals in ``attrs``: ``recipients``, ``requests``, ``messages`` (to be
        charged), ``charset``, ``sendtime``, ``fingerprint``.

        >>> plan.summary().attrs["messages"]                   # doctest: +SKIP
        1
        """
        counts = self.counts()
        table = pd.DataFrame({"status": list(counts), "recipients": list(counts.values())})
        table.attrs = {
            "recipients": len(self),
            "requests": self.requests,
            "messages": self.messages,
            "charset": self.charset,
            "sendtime": self.sendtime,
            "fingerprint": self.fingerprint,
        }
        return table

    def sample(self, n: int = 5) -> pd.DataFrame:
        """Up to ``n`` distinct contents in sending order, with their length and receivers."""
        firsts = self.batches.drop_duplicates("content").head(n)
        per_content = self.batches.groupby("content", sort=False)["size"].sum()
        return pd.DataFrame(
            {
                "content": firsts["content"].to_numpy(),
                "length": [sms_length(c) for c in firsts["content"]],
                "receivers": [int(per_content[c]) for c in firsts["content"]],
            }
        )

    def __repr__(self) -> str:
        skipped = len(self) - self.messages
        when = self.sendtime or "now"
        return (
            f"<Plan {len(self)} recipients: {self.messages} ready, {skipped} skipped; "
            f"{self.requests} requests, {self.messages} messages, {self.charset}, send {when}>"
        )

    def _repr_html_(self) -> str:
        esc = html.escape
        rows = "".join(
            f"<tr><td>{esc(status)}</td><td style='text-align:right'>{count:,}</td></tr>"
            for status, count in self.counts().items()
            if count or status == "ready"
        )
        sample = self.sample(5)
        samples = "".join(
            f"<tr><td>{esc(row.content)}</td><td style='text-align:right'>{row.length}</td>"
            f"<td style='text-align:right'>{row.receivers:,}</td></tr>"
            for row in sample.itertuples(index=False)
        )
        when = esc(self.sendtime + " (Beijing)") if self.sendtime else "now"
        return (
            "<div><strong>smscampaign plan</strong> — "
            f"{len(self):,} recipients, {self.requests:,} requests, "
            f"{self.messages:,} messages to be charged, charset {esc(self.charset)}, send {when}"
            "<table><thead><tr><th>status</th><th>recipients</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
            + (
                "<table><thead><tr><th>content</th><th>length</th><th>receivers</th></tr></thead>"
                f"<tbody>{samples}</tbody></table>"
                if samples
                else ""
            )
            + f"<small>fingerprint {esc(self.fingerprint[:16])}…</small></div>"
        )


def plan_campaign(
    recipients: pd.DataFrame,
    template: str | Mapping[str, str],
    *,
    signature: str | None = None,
    charset: str = "utf8",
    max_length: int = MAX_CONTENT_LENGTH,
    batch_size: int = MAX_RECEIVERS,
    suppress: Any = None,
    defaults: Mapping[str, Any] | None = None,
    sendtime: datetime | pd.Timestamp | str | None = None,
    on_too_long: OnTooLong = "skip",
    holdout: float = 0.0,
    seed: Any = None,
    history: Any = None,
    respect_opt_outs: bool = True,
    frequency_cap: Any = None,
) -> Plan:
    """Plan the exact gateway calls of a campaign; nothing is sent, ``recipients`` is not modified.

    ``recipients`` is the output of :func:`check_numbers` (or any DataFrame with ``mobile``;
    without a ``status`` column a row with a number counts as ``ok``). Rows whose input status is
    not ``ok`` keep it and their ``reason``. For ``ok`` rows the first that applies wins:

    1. ``suppressed`` — the number (normalised) is in ``suppress``: numbers as a list/set/Series, a
       DataFrame with ``mobile``, a path :func:`load_recipients` can read, or an earlier
       campaign's journal (everyone it accepted or left unknown);
    2. ``missing_field`` — a placeholder's value is empty and ``defaults`` has none for it;
    3. ``unencodable`` — ``charset`` (``utf8``, ``gbk``, ``big5``) cannot carry the content;
    4. ``too_long`` — longer than ``max_length`` UTF-16 code units, signature included
       (``on_too_long="skip"``; ``"error"`` raises :class:`TemplateError`; ``"truncate"`` cuts
       the body so that body + signature fit and notes it in ``reason``, the row stays ``ready``);
    5. ``duplicate`` — a number already ready in an earlier row (one message per number).

    The rest are ``ready``. ``template`` uses ``{column}`` placeholders (``{{``/``}}`` for
    braces); the ``signature`` (``"小店"`` or ``"【小店】"``) ends every content — without one, a
    ``【…】`` ending the template is taken as the signature. Ready rows sharing a content form
    batches of at most ``batch_size`` (≤ 500) receivers, in order of first appearance.
    ``sendtime`` (naive = Beijing time) must be in the future and within a year:
    :class:`PlanError` otherwise, as for bad options.

    The campaign home's history (issue 13, :mod:`smscampaign.history`): numbers that ever opted out
    are ``suppressed`` unless ``respect_opt_outs=False``; ``frequency_cap=(3, "7D")`` makes rows
    whose number already got 3 messages in 7 days ``capped`` (``history``: a ``History`` or a home
    folder, default the campaign home). ``template`` as ``{"A": …, "B": …}`` (and/or ``holdout``,
    ``seed``) plans an A/B test: :func:`smscampaign.variants.plan_variants`.

    >>> people = pd.DataFrame({"mobile": ["13800138000"] * 2, "status": ["ok", "duplicate"]})
    >>> plan_campaign(people, "会员日全场八折", signature="小店").batches.loc[0, "receivers"]
    ['13800138000']
    """
    if isinstance(template, Mapping) or holdout:  # an A/B test (issue 13): smscampaign.variants
        options = {k: v for k, v in locals().items() if k not in ("recipients", "template")}
        from smscampaign.variants import plan_variants  # noqa: PLC0415

        variants = template if isinstance(template, Mapping) else {"A": template}
        return plan_variants(recipients, variants, **options)
    if respect_opt_outs or frequency_cap is not None:  # the campaign history (issue 13)
        from smscampaign.history import apply_history  # noqa: PLC0415

        recipients = apply_history(
            recipients, history, respect_opt_outs=respect_opt_outs, frequency_cap=frequency_cap
        )
    _check_options(recipients, charset, max_length, batch_size, on_too_long)
    sig = normalize_signature(signature)
    tmpl = parse_template(template)
    if sig is None:
        tmpl, sig = _trailing_signature(tmpl)
    else:
        tmpl = tmpl.without_signature(sig)
    if sig is None:
        logger.warning(
            "no signature: providers do not deliver content without a 【signature】 at the end"
        )
    sig_text = sig or ""
    sig_len = sms_length(sig_text)
    if sig_len >= max_length:
        raise TemplateError(f"signature {sig} leaves no room for text within {max_length} characters")
    columns = resolve_columns(tmpl, recipients.columns)
    fill = _check_defaults(defaults, tmpl)
    sendtime_text = resolve_sendtime(sendtime)

    n = len(recipients)
    frame = recipients.reset_index(drop=True)
    mobile = field_text(frame["mobile"])
    if "status" in frame.columns:
        in_status = pc.fill_null(field_text(frame["status"]), "ok")
    else:
        logger.warning(
            "recipients have no status column: numbers are sent as written; "
            "use check_numbers to validate and normalise them"
        )
        in_status = pa.repeat(pa.scalar("ok"), n)
    if "reason" in frame.columns:
        in_reason = field_text(frame["reason"])
    else:
        in_reason = pa.nulls(n, pa.string())
    ok = _np(pc.equal(in_status, "ok"))
    no_number = ok & _np(pc.is_null(mobile))
    ok &= ~no_number

    status = np.full(n, _READY, dtype=np.int8)
    status[no_number] = _INVALID
    reasons: list[tuple[np.ndarray, pa.Array | str]] = [(no_number, "no mobile number")]

    # 1. suppressed
    suppressed = _suppressed_mask(frame["mobile"], ok, suppress)
    status[suppressed] = _SUPPRESSED
    reasons.append((suppressed, "in the suppression list"))
    live = ok & ~suppressed

    # 2. missing fields; render
    values: dict[str, pa.Array] = {}
    pattern = np.zeros(n, dtype=np.int64)  # bit i set: placeholder i has no value
    for bit, (name, label) in enumerate(columns.items()):
        text = field_text(frame[label])
        if name in fill:
            text = pc.fill_null(text, fill[name])
        values[name] = text
        pattern |= _np(pc.is_null(text)).astype(np.int64) << bit
    missing = live & (pattern != 0)
    if missing.any():
        status[missing] = _MISSING
        reasons.append((missing, _missing_reason(pattern, list(columns))))
    live &= ~missing

    body = render_bodies(tmpl, values, n)
    if tmpl.is_constant:
        content_text = tmpl.literal_text() + sig_text
        content = pa.repeat(pa.scalar(content_text), n)
        length = pa.repeat(pa.scalar(sms_length(content_text), pa.int64()), n)
    else:
        content = pc.binary_join_element_wise(body, sig_text, "") if sig_text else body
        length = pc.cast(sms_lengths(content), pa.int64())

    # 3. unencodable (judged per distinct content)
    unencodable, unencodable_reason = _unencodable(content, live, charset)
    if unencodable.any():
        status[unencodable] = _UNENCODABLE
        reasons.append((unencodable, unencodable_reason))
    live &= ~unencodable

    # 4. too long
    over = live & _np(pc.greater(pc.fill_null(length, 0), max_length))
    if over.any():
        if on_too_long == "error":
            first = int(np.flatnonzero(over)[0])
            raise TemplateError(
                f"{int(over.sum())} message(s) longer than {max_length} characters, "
                f"e.g. row {first}: {length[first].as_py()} characters "
                f"({content[first].as_py()!r}); shorten the template "
                "or pass on_too_long='truncate' or 'skip'"
            )
        if on_too_long == "skip":
            status[over] = _TOO_LONG
            reasons.append(
                (
                    over,
                    pc.binary_join_element_wise(
                        pc.cast(length, pa.string()), f" characters, more than {max_length}", ""
                    ),
                )
            )
            live &= ~over
        else:
            content, length, note = _truncate(body, content, length, over, sig_text, max_length)
            reasons.append((over, note))

    # 5. one message per number
    # Checked numbers are normalised already; unchecked ones are compared by normalised form.
    if "status" in frame.columns or not live.any():
        keys = mobile
    else:
        keys = pc.coalesce(*_number_keys(frame["mobile"]))
    duplicate = _later_duplicates(keys, live)
    if duplicate.any():
        status[duplicate] = _DUPLICATE
        reasons.append((duplicate, "same number as an earlier ready row"))
    ready = live & ~duplicate

    batch_of_row, batches, fingerprint = _batch(
        ready, mobile, content, batch_size, sendtime_text, charset
    )
    out = _assemble(
        recipients,
        mobile,
        ok | no_number,
        status,
        in_status,
        in_reason,
        reasons,
        content,
        length,
        batch_of_row,
    )
    messages = int(ready.sum())
    plan = Plan(
        recipients=out,
        batches=batches,
        template=template,
        signature=sig,
        charset=charset,
        sendtime=sendtime_text,
        max_length=max_length,
        batch_size=batch_size,
        messages=messages,
        fingerprint=fingerprint,
    )
    logger.info("planned %d recipients: %d ready in %d requests", n, messages, len(batches))
    return plan


def _check_options(
    recipients: Any, charset: str, max_length: int, batch_size: int, on_too_long: str
) -> None:
    if not isinstance(recipients, pd.DataFrame):
        raise PlanError(f"recipients must be a DataFrame, not {type(recipients).__name__}")
    if "mobile" not in recipients.columns:
        raise PlanError(
            "recipients need a 'mobile' column (use check_numbers); the columns are: "
            + ", ".join(str(c) for c in recipients.columns)
        )
    try:
        python_codec(charset)
    except ConfigError as exc:
        raise PlanError(str(exc)) from None
    if isinstance(max_length, bool) or not isinstance(max_length, int) or not 1 <= max_length <= 70:
        raise PlanError(
            f"max_length must be an int from 1 to 70 (the gateway's −118), not {max_length!r}"
        )
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= 500:
        raise PlanError(
            f"batch_size must be an int from 1 to 500 (the gateway's −117), not {batch_size!r}"
        )
    if on_too_long not in _ON_TOO_LONG:
        raise PlanError(f"on_too_long must be one of {', '.join(_ON_TOO_LONG)}, not {on_too_long!r}")


def _trailing_signature(tmpl: Template) -> tuple[Template, str | None]:
    """Without a signature argument, a ``【…】`` ending the template is its signature."""
    tail = tmpl.parts[-1].rstrip()
    if tail.endswith(SIGNATURE_CLOSE) and SIGNATURE_OPEN in tail:
        candidate = tail[tail.rindex(SIGNATURE_OPEN) :]
        sig = normalize_signature(candidate)
        if sig == candidate:
            return tmpl.without_signature(sig), sig
    return tmpl, None


def _check_defaults(defaults: Mapping[str, Any] | None, tmpl: Template) -> dict[str, str]:
    if defaults is None:
        return {}
    if not isinstance(defaults, Mapping):
        raise PlanError(f"defaults must be a mapping of column to value, not {type(defaults).__name__}")
    fill = {str(name): "" if value is None else str(value).strip() for name, value in defaults.items()}
    unused = [name for name in fill if name not in tmpl.columns]
    if unused:
        logger.warning("defaults for columns the template does not use: %s", ", ".join(unused))
    return fill


def _missing_reason(pattern: np.ndarray, names: list[str]) -> pa.Array:
    """``empty field: a, b`` per row from a bit pattern of empty placeholders."""
    distinct, inverse = np.unique(pattern, return_inverse=True)
    texts = [
        "empty field: " + ", ".join(name for bit, name in enumerate(names) if code >> bit & 1)
        for code in distinct.tolist()
    ]
    return pc.take(pa.array(texts, type=pa.string()), pa.array(inverse.reshape(-1)))


def _np(mask: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A pyarrow boolean array as numpy, null = False."""
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)


def _unencodable(content: pa.Array, live: np.ndarray, charset: str) -> tuple[np.ndarray, pa.Array]:
    """Rows among ``live`` whose content ``charset`` cannot carry, with a reason naming them."""
    mask = np.zeros(len(content), dtype=bool)
    if charset == "utf8" or not live.any():
        # Arrow strings are valid UTF-8: every one of them is encodable in utf-8.
        return mask, pa.nulls(len(content), pa.string())
    idx = np.flatnonzero(live)
    candidates = content.take(pa.array(idx))
    distinct = candidates.unique().to_pylist()
    try:
        "\n".join(distinct).encode(python_codec(charset))
        return mask, pa.nulls(len(content), pa.string())
    except UnicodeEncodeError:
        pass
    bad: dict[str, str] = {}
    for text in distinct:
        chars = unencodable_characters(text, charset)
        if chars:
            shown = " ".join(f"{ch!r} (U+{ord(ch):04X})" for ch in chars)
            bad[text] = f"{charset} cannot carry {shown}"
    keys = pa.array(list(bad), type=pa.string())
    position = pc.index_in(content, value_set=keys)
    mask = live & _np(pc.is_valid(position))
    reason = pc.take(pa.array(list(bad.values()), type=pa.string()), position)
    return mask, reason


def _truncate(
    body: pa.Array, content: pa.Array, length: pa.Array, over: np.ndarray, sig: str, max_length: int
) -> tuple[pa.Array, pa.Array, pa.Array]:
    """Cut the body of the ``over`` rows so that body + signature fit; (content, length, reason)."""
    limit = max_length - sms_length(sig)
    bodies = body.filter(pa.array(over))
    # Without astral characters a code point is one UTF-16 unit: slice in Arrow; else per row.
    astral = astral_counts(bodies) > 0
    cut = pc.utf8_slice_codeunits(bodies, 0, limit)
    if astral.any():
        slow = [truncate_sms(text, limit) for text in bodies.filter(pa.array(astral)).to_pylist()]
        cut = pc.replace_with_mask(cut, pa.array(astral), pa.array(slow, type=pa.string()))
    if sig:
        cut = pc.binary_join_element_wise(cut, sig, "")
    new_content = pc.replace_with_mask(content, pa.array(over), cut)
    new_length = pc.cast(sms_lengths(new_content), pa.int64())
    note = pc.binary_join_element_wise(
        "truncated from ",
        pc.cast(length, pa.string()),
        " to ",
        pc.cast(new_length, pa.string()),
        " characters",
        "",
    )
    return new_content, new_length, note


def _later_duplicates(mobile: pa.Array, live: np.ndarray) -> np.ndarray:
    """Rows among ``live`` whose number already appears in an earlier ``live`` row."""
    mask = np.zeros(len(mobile), dtype=bool)
    idx = np.flatnonzero(live)
    if not len(idx):
        return mask
    numbers = mobile.take(pa.array(idx))
    lengths = pc.min_max(pc.binary_length(numbers))
    try:
        # Fast path for normalised numbers (all digits, one length): duplicates by integer value.
        if lengths["min"].as_py() != lengths["max"].as_py():
            raise pa.ArrowInvalid("numbers of different lengths")
        keys = pc.cast(numbers, pa.int64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        later = pd.Series(numbers.to_pandas(), copy=False).duplicated(keep="first").to_numpy()
    else:
        order = np.argsort(keys, kind="stable")
        repeat_sorted = np.zeros(len(keys), dtype=bool)
        repeat_sorted[1:] = keys[order][1:] == keys[order][:-1]
        later = np.zeros(len(keys), dtype=bool)
        later[order] = repeat_sorted
    mask[idx[later]] = True
    return mask


def _batch(
    ready: np.ndarray,
    mobile: pa.Array,
    content: pa.Array,
    batch_size: int,
    sendtime: str | None,
    charset: str,
) -> tuple[np.ndarray, pd.DataFrame, str]:
    """(batch number per row, 0 = none; the batches frame; the fingerprint)."""
    n = len(ready)
    batch_of_row = np.zeros(n, dtype=np.int64)
    idx = np.flatnonzero(ready)
    m = len(idx)
    taken = pa.array(idx)
    if m == 0:
        order = idx
        codes = np.zeros(0, dtype=np.int64)
        uniques = pa.array([], type=pa.string())
    else:
        ready_content = content.take(taken)
        encoded = pc.dictionary_encode(ready_content)  # codes in order of first appearance
        codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
        uniques = encoded.dictionary
        order = np.argsort(codes, kind="stable") if len(uniques) > 1 else np.arange(m)
    sorted_codes = codes[order]
    new_group = np.ones(m, dtype=bool)
    new_group[1:] = sorted_codes[1:] != sorted_codes[:-1]
    group_starts = np.flatnonzero(new_group)
    group_sizes = np.diff(np.append(group_starts, m))
    position = np.arange(m) - np.repeat(group_starts, group_sizes)
    new_batch = position % batch_size == 0
    batch_sorted = np.cumsum(new_batch)
    batch_of_row[idx[order]] = batch_sorted
    starts = np.flatnonzero(new_batch)
    offsets = np.append(starts, m).astype(np.int64)
    receivers_flat = mobile.take(pa.array(idx[order])) if m else pa.array([], type=pa.string())
    receivers = pa.LargeListArray.from_arrays(pa.array(offsets), receivers_flat)
    batch_content = uniques.take(pa.array(sorted_codes[starts])) if m else uniques
    batches = pd.DataFrame(
        {
            "batch": np.arange(1, len(starts) + 1, dtype=np.int64),
            "content": pd.Series(batch_content.to_pandas(), dtype="str"),
            "receivers": pd.Series(receivers.to_pylist(), dtype=object),
            "size": np.diff(offsets),
            "sendtime": pd.Series([sendtime] * len(starts), dtype=object),
        }
    )
    fingerprint = _fingerprint(batch_content, receivers_flat, offsets, sendtime, charset)
    return batch_of_row, batches, fingerprint


def _fingerprint(
    contents: pa.Array, receivers: pa.Array, offsets: np.ndarray, sendtime: str | None, charset: str
) -> str:
    """SHA-256 of a canonical serialisation of the batches (no ``hash()``: stable anywhere)."""
    digest = hashlib.sha256(_FINGERPRINT_VERSION)
    for text in (charset, sendtime or ""):
        _update_bytes(digest, text.encode("utf-8"))
    _update_strings(digest, contents)
    _update_strings(digest, receivers)
    _update_bytes(digest, np.asarray(offsets, dtype="<i8").tobytes())
    return digest.hexdigest()


def _update_bytes(digest: Any, data: bytes) -> None:
    digest.update(len(data).to_bytes(8, "little"))
    digest.update(data)


def _update_strings(digest: Any, strings: pa.Array) -> None:
    """Feed the lengths and the UTF-8 bytes of ``strings`` (no nulls) to ``digest``, canonically."""
    arr = pa.concat_arrays([pc.fill_null(strings, "").cast(pa.large_string())])  # fresh, offset 0
    lengths = pc.binary_length(arr).to_numpy(zero_copy_only=False).astype("<i8")
    _update_bytes(digest, lengths.tobytes())
    data = arr.buffers()[2]
    size = int(lengths.sum())
    _update_bytes(digest, b"" if data is None else data.to_pybytes()[:size])


def _assemble(
    recipients: pd.DataFrame,
    mobile: pa.Array,
    planned: np.ndarray,
    status: np.ndarray,
    in_status: pa.Array,
    in_reason: pa.Array,
    reasons: list[tuple[np.ndarray, pa.Array | str]],
    content: pa.Array,
    length: pa.Array,
    batch_of_row: np.ndarray,
) -> pd.DataFrame:
    """The output frame: the input columns plus status, reason, content, length, batch."""
    n = len(recipients)
    mask = pa.array(planned)
    status_text = pc.if_else(mask, pc.take(pa.array(STATUSES), pa.array(status)), in_status)
    reason = pc.if_else(mask, _NULL_STR, in_reason)
    for rows, text in reasons:
        if rows.any():
            reason = pc.if_else(pa.array(rows), text, reason)
    content = pc.if_else(mask, content, _NULL_STR)
    length = pc.if_else(mask, length, pa.scalar(None, pa.int64()))
    out = recipients.copy(deep=False)
    out.attrs = copy.deepcopy(recipients.attrs)
    if not isinstance(recipients["mobile"].dtype, pd.StringDtype):
        out["mobile"] = _to_str(mobile)
    out["status"] = _to_str(status_text)
    out["reason"] = _to_str(reason)
    out["content"] = _to_str(content)
    out["length"] = pd.array(length.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get))
    batch = pd.array(batch_of_row, dtype="Int64")
    batch[batch_of_row == 0] = pd.NA
    out["batch"] = batch
    assert len(out) == n
    return out


def _to_str(values: pa.Array) -> pd.api.extensions.ExtensionArray:
    return pd.array(values.to_pandas(), dtype="str")
