"""Plan one template: the steps that turn checked recipients into a :class:`Plan`.

:func:`plan_template` is :func:`~smscampaign.plan_campaign` for one template (each arm of an A/B
test is planned by it too): it applies the campaign history, checks the options, resolves them
against the template, runs the skipping steps of :mod:`~smscampaign.campaign.row_checks` in
their order of precedence, cuts the ready rows into batches and assembles the plan. Nothing is
sent and ``recipients`` is not modified.

>>> import pandas as pd
>>> people = pd.DataFrame({"mobile": ["13800138000"], "status": "ok"})
>>> plan_template(people, "会员日八折", PlanOptions(signature="小店")).messages
1
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, cast

import pandas as pd

from smscampaign.campaign.batches import batch_rows
from smscampaign.campaign.plan_model import Plan
from smscampaign.campaign.plan_options import (
    PlanOptions,
    check_defaults,
    check_options,
    resolve_send_window,
)
from smscampaign.campaign.row_checks import (
    duplicate_rows,
    field_values,
    missing_field_rows,
    review_live_rows,
    suppressed_rows,
    surrogate_rows,
    too_long_rows,
    unencodable_rows,
)
from smscampaign.campaign.rows import Rows, StatusCode
from smscampaign.campaign.suppression import load_suppression
from smscampaign.core.allocator import release_memory
from smscampaign.core.errors import TemplateError
from smscampaign.stages.cells import replace_lone_surrogates
from smscampaign.stages.review import Lexicon, load_lexicon
from smscampaign.stages.templates import Template, parse_template, resolve_columns, split_signature
from smscampaign.wire.protocol import resolve_sendtime, sms_length

__all__ = ["plan_template"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Resolved:
    """The options resolved against the template and the recipients' columns."""

    tmpl: Template  # without its signature
    sig: str | None
    columns: dict[str, Any]  # placeholder → the recipients' column
    fill: dict[str, str]  # placeholder → default for empty values
    sendtime: str | None
    window: tuple[str, str] | None
    lexicon: Lexicon | None
    suppressed: pd.Series | None  # the numbers of ``suppress``

    @property
    def sig_text(self) -> str:
        return self.sig or ""


def plan_template(recipients: pd.DataFrame, template: str, options: PlanOptions) -> Plan:
    """The plan of one template (see :func:`~smscampaign.plan_campaign` for what each status
    means); ``recipients`` is not modified.

    A lone surrogate (half a character, e.g. ``"\\ud83d"`` of an emoji cut in two) in a frame built
    in Python is text no charset can carry: the plan is made again on the frame cleaned by the
    loaders' rule (U+FFFD), and the rows whose number or placeholder held one are ``unencodable``."""
    try:
        return _plan_template(recipients, template, options, {})
    except UnicodeEncodeError:
        cleaned, found = replace_lone_surrogates(recipients)
        if not found:
            raise
        return _plan_template(cleaned, template, options, found)


def _plan_template(
    recipients: pd.DataFrame, template: str, options: PlanOptions, broken: dict[Any, pd.Series]
) -> Plan:
    if options.respect_opt_outs or options.frequency_cap is not None:  # the campaign history
        from smscampaign.campaign.caps import apply_history  # noqa: PLC0415 - reads the home only then

        recipients = apply_history(
            recipients,
            options.history,
            respect_opt_outs=options.respect_opt_outs,
            frequency_cap=options.frequency_cap,
        )
    check_options(recipients, options)
    resolved = _resolve(recipients, template, options)

    rows = Rows.of(recipients)
    findings = _skip_rows(rows, resolved, options, broken)
    batch_of_row, batches, fingerprint = batch_rows(
        rows.live,
        rows.mobile,
        rows.content,
        options.batch_size,
        resolved.sendtime,
        options.charset,
        rows.constant,
        numbers=rows.mobile_column,
    )
    release_memory()  # the steps' temporaries, before the output columns are allocated
    messages = int(rows.live.sum())
    plan = Plan(
        recipients=rows.assemble(recipients, batch_of_row),
        batches=cast(pd.DataFrame, batches),  # the frame is built on first access (_BatchesField)
        template=template,
        signature=resolved.sig,
        charset=options.charset,
        sendtime=resolved.sendtime,
        max_length=options.max_length,
        batch_size=options.batch_size,
        messages=messages,
        fingerprint=fingerprint,
        kind=options.kind,
        review=findings,
        send_window=resolved.window,
    )
    logger.info(
        "planned %d recipients: %d ready in %d requests", len(recipients), messages, len(batches)
    )
    del rows
    release_memory()
    return plan


def _resolve(recipients: pd.DataFrame, template: str, options: PlanOptions) -> _Resolved:
    """Parse the template and read what the options name (sendtime, lexicon, suppression list);
    the errors of a bad template or option come from here, in this order."""
    tmpl, sig = split_signature(parse_template(template), options.signature)
    if sig is None:
        logger.warning(
            "no signature: providers do not deliver content without a 【signature】 at the end"
        )
    if sms_length(sig or "") >= options.max_length:
        raise TemplateError(
            f"signature {sig} leaves no room for text within {options.max_length} characters"
        )
    columns = resolve_columns(tmpl, recipients.columns)
    fill = check_defaults(options.defaults, tmpl)
    sendtime = resolve_sendtime(options.sendtime)
    window = resolve_send_window(options.send_window, options.kind, sendtime)
    lexicon = None if options.lexicon is None else load_lexicon(options.lexicon)
    suppressed = None if options.suppress is None else load_suppression(options.suppress)
    return _Resolved(tmpl, sig, columns, fill, sendtime, window, lexicon, suppressed)


def _skip_rows(
    rows: Rows, resolved: _Resolved, options: PlanOptions, broken: dict[Any, pd.Series]
) -> pd.DataFrame | None:
    """Run the skipping steps on ``rows``, first that applies wins; the review's findings (with a
    ``kind``), else None. Each step's temporaries go as soon as the next steps no longer need them.
    ``broken``: the lone surrogates the frame held, per column (``{}`` when none)."""
    rows.skip(StatusCode.SUPPRESSED, *suppressed_rows(rows, resolved.suppressed))
    values = {
        name: field_values(rows.frame[label], resolved.fill.get(name))
        for name, label in resolved.columns.items()
    }
    rows.skip(StatusCode.MISSING, *missing_field_rows(values, len(rows.live)))
    rows.render(resolved.tmpl, values, resolved.sig_text)
    del values  # placeholder columns (copies): rendered
    if broken:
        rows.skip(
            StatusCode.UNENCODABLE,
            *surrogate_rows(rows, broken, ["mobile", *resolved.columns.values()]),
        )
    unencodable = unencodable_rows(rows, options.charset)
    rows.skip(StatusCode.UNENCODABLE, *unencodable)
    rows.skip(
        StatusCode.TOO_LONG,
        *too_long_rows(rows, resolved.sig_text, options.max_length, options.on_too_long),
    )
    findings = None
    if options.kind is not None:
        found = review_live_rows(
            rows,
            resolved.tmpl,
            resolved.sig,
            options.kind,
            resolved.lexicon,
            options.charset,
            unencodable,
        )
        findings = found.findings
        if options.review == "block":
            rows.skip(StatusCode.BLOCKED, found.blocked, found.reason)
        del found
    del unencodable
    rows.mark(StatusCode.DUPLICATE, *duplicate_rows(rows))
    return findings
