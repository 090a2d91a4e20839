"""smscampaign — bulk SMS campaigns through the 短信通 HTTP gateway, as pandas DataFrames.

Load a recipient list, clean the numbers, plan the messages, send them in batches through the gateway
(or the bundled :class:`Sandbox`), and report per recipient what happened and why::

    import smscampaign as sc
    with sc.Sandbox() as box:
        box.add_account("demo", "secret", sms_left=1000)
        gw = box.gateway("demo", "secret")
        print(gw.user_info().fields["sms_left"])
"""

# Each module owns one concept; the public API is re-exported here (kept sorted in __all__, which
# tests/test_package.py checks). The re-exports are lazy (PEP 562): ``import smscampaign`` loads
# neither pandas nor phonenumbers nor requests, so the CLI and ``import smscampaign`` start fast;
# a name's module is imported on first access. Type checkers read the imports below.
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from smscampaign.notebook.accessor import register_when_pandas_loads as _register_when_pandas_loads

if TYPE_CHECKING:
    from smscampaign.campaign.account import (
        AccountInfo,
        RechargeResult,
        account_info,
        bind_numbers,
        recharge,
        unbind_numbers,
    )
    from smscampaign.campaign.plan import (
        Plan,
        plan_campaign,
    )
    from smscampaign.campaign.replies import (
        fetch_replies,
        opt_outs,
        reply_receiver,
        serve_replies,
    )
    from smscampaign.campaign.send import (
        read_journal,
        send_campaign,
    )
    from smscampaign.campaign.variants import (
        two_proportion_test,
    )
    from smscampaign.core.codes import (
        CodeInfo,
        codes_table,
        describe_code,
    )
    from smscampaign.core.errors import (
        AccountError,
        ConfigError,
        GatewayConnectionError,
        GatewayConnectTimeout,
        GatewayDisconnected,
        GatewayError,
        GatewayHTTPError,
        GatewayProtocolError,
        GatewayRedirect,
        GatewayTimeout,
        HomeError,
        InsufficientBalance,
        JournalBusy,
        JournalError,
        JournalFull,
        OutcomesError,
        PlanError,
        RecipientsError,
        ReplyError,
        SendError,
        SmsCampaignError,
        TemplateError,
        UnencodableContentError,
    )
    from smscampaign.memory.history import (
        History,
    )
    from smscampaign.memory.journal import (
        Journal,
    )
    from smscampaign.memory.replies import (
        ReplyStore,
    )
    from smscampaign.notebook.views import (
        view,
    )
    from smscampaign.reports.account import (
        account_sends,
    )
    from smscampaign.reports.compare import (
        compare_campaigns,
        export_comparison,
    )
    from smscampaign.reports.outcomes import (
        HoldoutTooSmallWarning,
        measure_outcomes,
    )
    from smscampaign.reports.plots import (
        plot_comparison,
        plot_lift,
        plot_report,
    )
    from smscampaign.reports.tables import (
        campaign_report,
    )
    from smscampaign.reports.workbook import (
        export_report,
    )
    from smscampaign.sandbox import (
        Sandbox,
    )
    from smscampaign.stages.numbers import (
        check_numbers,
        normalize_numbers,
        province_of,
    )
    from smscampaign.stages.recipients import (
        load_recipients,
    )
    from smscampaign.stages.review import (
        review_content,
    )
    from smscampaign.stages.templates import (
        sms_length,
    )
    from smscampaign.wire.gateway import (
        Gateway,
        GatewayResponse,
    )

__version__ = "0.1.0"

#: Public name -> the module that defines it.
_EXPORTS: dict[str, str] = {
    "AccountInfo": "smscampaign.campaign.account",
    "RechargeResult": "smscampaign.campaign.account",
    "account_info": "smscampaign.campaign.account",
    "bind_numbers": "smscampaign.campaign.account",
    "recharge": "smscampaign.campaign.account",
    "unbind_numbers": "smscampaign.campaign.account",
    "CodeInfo": "smscampaign.core.codes",
    "codes_table": "smscampaign.core.codes",
    "describe_code": "smscampaign.core.codes",
    "AccountError": "smscampaign.core.errors",
    "ConfigError": "smscampaign.core.errors",
    "GatewayConnectTimeout": "smscampaign.core.errors",
    "GatewayConnectionError": "smscampaign.core.errors",
    "GatewayDisconnected": "smscampaign.core.errors",
    "GatewayError": "smscampaign.core.errors",
    "GatewayHTTPError": "smscampaign.core.errors",
    "GatewayProtocolError": "smscampaign.core.errors",
    "GatewayTimeout": "smscampaign.core.errors",
    "HomeError": "smscampaign.core.errors",
    "ReplyError": "smscampaign.core.errors",
    "JournalBusy": "smscampaign.core.errors",
    "JournalFull": "smscampaign.core.errors",
    "GatewayRedirect": "smscampaign.core.errors",
    "InsufficientBalance": "smscampaign.core.errors",
    "JournalError": "smscampaign.core.errors",
    "OutcomesError": "smscampaign.core.errors",
    "PlanError": "smscampaign.core.errors",
    "RecipientsError": "smscampaign.core.errors",
    "SendError": "smscampaign.core.errors",
    "SmsCampaignError": "smscampaign.core.errors",
    "TemplateError": "smscampaign.core.errors",
    "UnencodableContentError": "smscampaign.core.errors",
    "Gateway": "smscampaign.wire.gateway",
    "GatewayResponse": "smscampaign.wire.gateway",
    "History": "smscampaign.memory.history",
    "compare_campaigns": "smscampaign.reports.compare",
    "export_comparison": "smscampaign.reports.compare",
    "HoldoutTooSmallWarning": "smscampaign.reports.outcomes",
    "measure_outcomes": "smscampaign.reports.outcomes",
    "plot_comparison": "smscampaign.reports.plots",
    "plot_lift": "smscampaign.reports.plots",
    "ReplyStore": "smscampaign.memory.replies",
    "fetch_replies": "smscampaign.campaign.replies",
    "opt_outs": "smscampaign.campaign.replies",
    "reply_receiver": "smscampaign.campaign.replies",
    "serve_replies": "smscampaign.campaign.replies",
    "Journal": "smscampaign.memory.journal",
    "check_numbers": "smscampaign.stages.numbers",
    "normalize_numbers": "smscampaign.stages.numbers",
    "province_of": "smscampaign.stages.numbers",
    "Plan": "smscampaign.campaign.plan",
    "plan_campaign": "smscampaign.campaign.plan",
    "load_recipients": "smscampaign.stages.recipients",
    "campaign_report": "smscampaign.reports.tables",
    "export_report": "smscampaign.reports.workbook",
    "plot_report": "smscampaign.reports.plots",
    "review_content": "smscampaign.stages.review",
    "Sandbox": "smscampaign.sandbox",
    "read_journal": "smscampaign.campaign.send",
    "send_campaign": "smscampaign.campaign.send",
    "sms_length": "smscampaign.stages.templates",
    "two_proportion_test": "smscampaign.campaign.variants",
    "account_sends": "smscampaign.reports.account",
    "view": "smscampaign.notebook.views",
}
#: Submodules reachable as attributes (``sc.numbers.province_of``) before anyone imported them.
_SUBMODULES = frozenset(
    {
        "accessor",
        "account",
        "cli",
        "codes",
        "demo",
        "errors",
        "gateway",
        "history",
        "home",
        "inbound",
        "journal",
        "numbers",
        "plan",
        "protocol",
        "recipients",
        "report",
        "review",
        "sandbox",
        "send",
        "statuses",
        "templates",
        "variants",
        "views",
    }
)

__all__ = [
    "AccountError",
    "AccountInfo",
    "CodeInfo",
    "ConfigError",
    "Gateway",
    "GatewayConnectTimeout",
    "GatewayConnectionError",
    "GatewayDisconnected",
    "GatewayError",
    "GatewayHTTPError",
    "GatewayProtocolError",
    "GatewayRedirect",
    "GatewayResponse",
    "GatewayTimeout",
    "History",
    "HoldoutTooSmallWarning",
    "HomeError",
    "InsufficientBalance",
    "Journal",
    "JournalBusy",
    "JournalError",
    "JournalFull",
    "OutcomesError",
    "Plan",
    "PlanError",
    "RechargeResult",
    "RecipientsError",
    "ReplyError",
    "ReplyStore",
    "Sandbox",
    "SendError",
    "SmsCampaignError",
    "TemplateError",
    "UnencodableContentError",
    "account_info",
    "account_sends",
    "bind_numbers",
    "campaign_report",
    "check_numbers",
    "codes_table",
    "compare_campaigns",
    "describe_code",
    "export_comparison",
    "export_report",
    "fetch_replies",
    "load_recipients",
    "measure_outcomes",
    "normalize_numbers",
    "opt_outs",
    "plan_campaign",
    "plot_comparison",
    "plot_lift",
    "plot_report",
    "province_of",
    "read_journal",
    "recharge",
    "reply_receiver",
    "review_content",
    "send_campaign",
    "serve_replies",
    "sms_length",
    "two_proportion_test",
    "unbind_numbers",
    "view",
]


def __getattr__(name: str) -> Any:
    """Import a public name's module on first access (PEP 562) and keep the name here."""
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, *_SUBMODULES})


# ``df.sms`` is registered as soon as pandas is imported (now, if it already is).
_register_when_pandas_loads()
