"""``make demo``: a sandbox round trip (account → send → ledger). Later issues grow it into a campaign."""

from __future__ import annotations

import sys

from smscampaign.sandbox import Sandbox


def main() -> int:
    with Sandbox() as box:
        box.add_account("demo", "demo-password", sms_left=100)
        with box.gateway("demo", "demo-password", charset="gbk") as gw:
            before = gw.user_info().fields["sms_left"]
            sent = gw.send_sms(["13800138000", "13900139000"], "您好，欢迎试用 smscampaign【演示】")
            after = gw.user_info().fields["sms_left"]
        print(f"sandbox at {box.url}: send_sms -> {sent.code} {sent.message}; sms_left {before} -> {after}")
        print(box.ledger.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
