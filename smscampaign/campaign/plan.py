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

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

import pandas as pd

from smscampaign.campaign.plan_model import BLOCKED, STATUSES, Plan, Preview, esc_kind
from smscampaign.campaign.plan_options import (
    MARKETING_WINDOW,
    MAX_CONTENT_LENGTH,
    MAX_RECEIVERS,
    OnTooLong,
    PlanOptions,
    ReviewMode,
)
from smscampaign.campaign.planning import plan_template
from smscampaign.campaign.suppression import load_suppression
from smscampaign.campaign.variants import plan_arms
from smscampaign.stages.review import Kind
from smscampaign.wire.protocol import resolve_sendtime

__all__ = [
    "BLOCKED",
    "MARKETING_WINDOW",
    "MAX_CONTENT_LENGTH",
    "MAX_RECEIVERS",
    "STATUSES",
    "Kind",
    "OnTooLong",
    "Plan",
    "Preview",
    "ReviewMode",
    "esc_kind",
    "load_suppression",
    "plan_campaign",
    "resolve_sendtime",
]

logger = logging.getLogger(__name__)


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
    kind: Kind | None = None,
    lexicon: Any = None,
    review: ReviewMode = "block",
    send_window: tuple[str, str] | None | Literal["default"] = "default",
    holdout: float = 0.0,
    seed: Any = None,
    history: Any = None,
    respect_opt_outs: bool = True,
    frequency_cap: Any = None,
) -> Plan:
    """Plan the exact gateway calls of a campaign; nothing is sent, ``recipients`` is not modified.

    ``recipients`` is the output of :func:`check_numbers` (or any DataFrame with ``mobile``;
    without a ``status`` column a row with a number counts as ``ok``). Rows whose input status is
    neither ``ok`` nor ``duplicate`` keep it and their ``reason``. For the others the first that
    applies wins:

    1. ``suppressed`` — the number (normalised) is in ``suppress`` (see :func:`load_suppression`):
       numbers, a DataFrame, a list file, or an earlier campaign's journal (everyone it accepted or
       left unknown);
    2. ``missing_field`` — a placeholder's value is empty and ``defaults`` has none for it;
    3. ``unencodable`` — ``charset`` (``utf8``, ``gbk``, ``big5``) cannot carry the content;
    4. ``too_long`` — longer than ``max_length`` UTF-16 code units, signature included
       (``on_too_long="skip"``; ``"error"`` raises :class:`TemplateError` naming the spreadsheet
       row; ``"truncate"`` shortens the body — never the signature nor a trailing opt-out such as
       回T退订 — and says so in ``reason``; a row that cannot fit even then is ``too_long``);
    5. ``blocked`` — with ``kind``, an error finding of the content review (:func:`review_content`)
       applies to the row (``review="warn"`` only reports it); the rule is the ``reason``;
    6. ``duplicate`` — one message per number: of its rows, the first that can be sent is kept;
       the number's first row, when it is not that one, keeps the reason it is skipped for; every
       other row of the number is ``duplicate of row N`` (N: the kept row, else the first; its
       ``source_row``, else its index label), whatever an earlier step found — a person is counted
       once. So a row :func:`check_numbers` called a duplicate is sent when the first row of its
       number cannot be, and otherwise stays a duplicate (with its reason when it names that row).

    The rest are ``ready``. ``template`` uses ``{column}`` placeholders (``{{``/``}}`` for
    braces); the ``signature`` (``"小店"`` or ``"【小店】"``) ends every content — without one, a
    ``【…】`` ending the template is taken as the signature. Ready rows sharing a content form
    batches of at most ``batch_size`` (≤ 500) receivers, in order of first appearance.
    ``sendtime`` (naive = Beijing time) must be in the future and within a year:
    :class:`PlanError` otherwise, as for bad options.

    ``kind`` (``"marketing"`` or ``"notification"``) runs the review (``lexicon``: a word file or
    words) and keeps its findings as :attr:`Plan.review`. Marketing is sent only within
    ``send_window``, default 08:00–21:00 Beijing time (``send_window=None`` lifts it): a ``sendtime``
    outside it is a :class:`PlanError`, and :func:`send_campaign` pauses outside it.

    The campaign home's history (:mod:`~smscampaign.memory.history`): numbers that ever opted out
    are ``suppressed`` unless ``respect_opt_outs=False``; ``frequency_cap=(3, "7D")`` makes rows
    whose number already got 3 messages in 7 days ``capped`` (``history``: a ``History`` or a home
    folder, default the campaign home). ``template`` as ``{"A": …, "B": …}`` (and/or ``holdout``,
    ``seed``) plans an A/B test: :func:`smscampaign.campaign.variants.plan_variants`.

    >>> people = pd.DataFrame({"mobile": ["13800138000"] * 2, "status": ["ok", "duplicate"]})
    >>> plan_campaign(people, "会员日全场八折", signature="小店").batches.loc[0, "receivers"]
    ['13800138000']
    """
    options = PlanOptions(
        signature=signature,
        charset=charset,
        max_length=max_length,
        batch_size=batch_size,
        suppress=suppress,
        defaults=defaults,
        sendtime=sendtime,
        on_too_long=on_too_long,
        kind=kind,
        lexicon=lexicon,
        review=review,
        send_window=send_window,
        history=history,
        respect_opt_outs=respect_opt_outs,
        frequency_cap=frequency_cap,
    )
    if isinstance(template, Mapping) or holdout:  # an A/B test (issue 13): smscampaign.campaign.variants
        variants = template if isinstance(template, Mapping) else {"A": template}
        return plan_arms(recipients, variants, holdout=holdout, seed=seed, options=options)
    return plan_template(recipients, template, options)
