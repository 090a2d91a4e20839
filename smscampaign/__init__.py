"""smscampaign — bulk SMS campaigns through the 短信通 HTTP gateway, as pandas DataFrames.

Load a recipient list, clean the numbers, plan the messages, send them in batches through the gateway
(or the bundled :class:`Sandbox`), and report per recipient what happened and why::

    import smscampaign as sc
    with sc.Sandbox() as box:
        box.add_account("demo", "secret", sms_left=1000)
        gw = box.gateway("demo", "secret")
        print(gw.user_info().fields["sms_left"])
"""

# Each module owns one concept; the public API is re-exported here (kept sorted in __all__,
# which tests/test_package.py checks).
from smscampaign import accessor as _accessor  # noqa: F401  registers df.sms
from smscampaign.account import (
    AccountInfo,
    RechargeResult,
    account_info,
    bind_numbers,
    recharge,
    unbind_numbers,
)
from smscampaign.codes import CodeInfo, codes_table, describe_code
from smscampaign.errors import (
    AccountError,
    ConfigError,
    GatewayConnectionError,
    GatewayConnectTimeout,
    GatewayDisconnected,
    GatewayError,
    GatewayHTTPError,
    GatewayProtocolError,
    GatewayTimeout,
    InsufficientBalance,
    JournalBusy,
    JournalError,
    PlanError,
    RecipientsError,
    SendError,
    SmsCampaignError,
    TemplateError,
    UnencodableContentError,
)
from smscampaign.gateway import Gateway, GatewayResponse
from smscampaign.history import History, compare_campaigns, export_comparison, plot_comparison
from smscampaign.inbound import ReplyStore, fetch_replies, opt_outs, reply_receiver, serve_replies
from smscampaign.journal import Journal
from smscampaign.numbers import check_numbers, normalize_numbers
from smscampaign.plan import Plan, plan_campaign
from smscampaign.recipients import load_recipients
from smscampaign.report import campaign_report, export_report, plot_report
from smscampaign.sandbox import Sandbox
from smscampaign.send import read_journal, send_campaign
from smscampaign.templates import sms_length
from smscampaign.variants import two_proportion_test

__version__ = "0.1.0"

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
    "ReplyStore",
    "Sandbox",
    "SendError",
    "SmsCampaignError",
    "TemplateError",
    "UnencodableContentError",
    "account_info",
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
    "read_journal",
    "recharge",
    "reply_receiver",
    "send_campaign",
    "serve_replies",
    "sms_length",
    "two_proportion_test",
    "unbind_numbers",
]
