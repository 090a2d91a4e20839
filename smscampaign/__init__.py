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

from smscampaign.accessor import register_when_pandas_loads as _register_when_pandas_loads

if TYPE_CHECKING:
    from smscampaign.account import (
        AccountInfo,
        RechargeResult,
        account_info,
        bind_numbers,
        recharge,
        unbind_numbers,
    )
    from smscampaign.codes import (
        CodeInfo,
        codes_table,
        describe_code,
    )
    from smscampaign.errors import (
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
        InsufficientBalance,
        JournalBusy,
        JournalError,
        PlanError,
        RecipientsError,
        ReplyError,
        SendError,
        SmsCampaignError,
        TemplateError,
        UnencodableContentError,
    )
    from smscampaign.gateway import (
        Gateway,
        GatewayResponse,
    )
    from smscampaign.history import (
        History,
        compare_campaigns,
        export_comparison,
        plot_comparison,
    )
    from smscampaign.inbound import (
        ReplyStore,
        fetch_replies,
        opt_outs,
        reply_receiver,
        serve_replies,
    )
    from smscampaign.journal import (
        Journal,
    )
    from smscampaign.numbers import (
        check_numbers,
        normalize_numbers,
        province_of,
    )
    from smscampaign.plan import (
        Plan,
        plan_campaign,
    )
    from smscampaign.recipients import (
        load_recipients,
    )
    from smscampaign.report import (
        campaign_report,
        export_report,
        plot_report,
    )
    from smscampaign.review import (
        review_content,
    )
    from smscampaign.sandbox import (
        Sandbox,
    )
    from smscampaign.send import (
        read_journal,
        send_campaign,
    )
    from smscampaign.templates import (
        sms_length,
    )
    from smscampaign.variants import (
        two_proportion_test,
    )
    from smscampaign.views import (
        account_sends,
        view,
    )

__version__ = "0.1.0"

#: Public name -> the module that defines it.
_EXPORTS: dict[str, str] = {
    "AccountInfo": "smscampaign.account",
    "RechargeResult": "smscampaign.account",
    "account_info": "smscampaign.account",
    "bind_numbers": "smscampaign.account",
    "recharge": "smscampaign.account",
    "unbind_numbers": "smscampaign.account",
    "CodeInfo": "smscampaign.codes",
    "codes_table": "smscampaign.codes",
    "describe_code": "smscampaign.codes",
    "AccountError": "smscampaign.errors",
    "ConfigError": "smscampaign.errors",
    "GatewayConnectTimeout": "smscampaign.errors",
    "GatewayConnectionError": "smscampaign.errors",
    "GatewayDisconnected": "smscampaign.errors",
    "GatewayError": "smscampaign.errors",
    "GatewayHTTPError": "smscampaign.errors",
    "GatewayProtocolError": "smscampaign.errors",
    "GatewayTimeout": "smscampaign.errors",
    "ReplyError": "smscampaign.errors",
    "JournalBusy": "smscampaign.errors",
    "GatewayRedirect": "smscampaign.errors",
    "InsufficientBalance": "smscampaign.errors",
    "JournalError": "smscampaign.errors",
    "PlanError": "smscampaign.errors",
    "RecipientsError": "smscampaign.errors",
    "SendError": "smscampaign.errors",
    "SmsCampaignError": "smscampaign.errors",
    "TemplateError": "smscampaign.errors",
    "UnencodableContentError": "smscampaign.errors",
    "Gateway": "smscampaign.gateway",
    "GatewayResponse": "smscampaign.gateway",
    "History": "smscampaign.history",
    "compare_campaigns": "smscampaign.history",
    "export_comparison": "smscampaign.history",
    "plot_comparison": "smscampaign.history",
    "ReplyStore": "smscampaign.inbound",
    "fetch_replies": "smscampaign.inbound",
    "opt_outs": "smscampaign.inbound",
    "reply_receiver": "smscampaign.inbound",
    "serve_replies": "smscampaign.inbound",
    "Journal": "smscampaign.journal",
    "check_numbers": "smscampaign.numbers",
    "normalize_numbers": "smscampaign.numbers",
    "province_of": "smscampaign.numbers",
    "Plan": "smscampaign.plan",
    "plan_campaign": "smscampaign.plan",
    "load_recipients": "smscampaign.recipients",
    "campaign_report": "smscampaign.report",
    "export_report": "smscampaign.report",
    "plot_report": "smscampaign.report",
    "review_content": "smscampaign.review",
    "Sandbox": "smscampaign.sandbox",
    "read_journal": "smscampaign.send",
    "send_campaign": "smscampaign.send",
    "sms_length": "smscampaign.templates",
    "two_proportion_test": "smscampaign.variants",
    "account_sends": "smscampaign.views",
    "view": "smscampaign.views",
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
    "InsufficientBalance",
    "Journal",
    "JournalBusy",
    "JournalError",
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
    "normalize_numbers",
    "opt_outs",
    "plan_campaign",
    "plot_comparison",
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
