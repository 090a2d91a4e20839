"""Account: account_info, recharge (every card code), bind / unbind in batches, secrets kept out."""

from __future__ import annotations

import logging
from datetime import datetime

import pandas as pd
import pytest

import smscampaign as sc
from smscampaign.campaign.account import BIND_COLUMNS
from smscampaign.wire.protocol import BEIJING
from tests.conftest import PASSWORD, USER

A, B, C = "13800138000", "13900139000", "15000150000"
CARD, CARD_PWD = "CARD-0001", "card-pw-9z!"


# -- account_info ------------------------------------------------------------------------------------


def test_account_info_typed(sandbox, gateway):
    sandbox.update_account(USER, balance=12.5, sms_left=321)
    info = sc.account_info(gateway)
    assert isinstance(info, sc.AccountInfo)
    assert info.user_id == sandbox.account(USER)["user_id"] > 0
    assert (info.balance, info.amount, info.sms_left) == (12.5, 0.0, 321)
    assert (info.sms_send, info.sms_receive, info.point) == (0, 0, 0)
    assert isinstance(info.expired_date, datetime) and info.expired_date.tzinfo is not None
    assert info.expired_date > datetime.now(BEIJING) and not info.expired
    text = repr(info)
    assert "sms_left=321" in text and "balance=12.50" in text and "datetime.datetime" not in text
    with pytest.raises(AttributeError):
        info.sms_left = 5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("code", "setup"),
    [
        (-101, lambda box, gw: setattr(box, "maintenance", True)),
        (-104, lambda box, gw: box.update_account(USER, allowed_ips=["10.1.2.3"])),
        (-105, lambda box, gw: box.update_account(USER, frozen=True)),
        (-106, lambda box, gw: box.update_account(USER, expired=True)),
        (-100, lambda box, gw: box.fail_next("user_info", -100, times=3)),
    ],
)
def test_account_info_failures_raise(sandbox, gateway, code, setup):
    setup(sandbox, gateway)
    with pytest.raises(sc.AccountError) as caught:
        sc.account_info(gateway)
    assert caught.value.code == code
    assert caught.value.info == sc.describe_code(code)
    assert str(code) in str(caught.value)


@pytest.mark.parametrize(
    ("user", "password", "code"),
    [
        ("nobody", "x", -102),
        (USER, "wrong", -103),
        ("", PASSWORD, -110),
        (USER, "", -111),
    ],
)
def test_account_info_credentials(sandbox, user, password, code):
    with sandbox.gateway(user, password) as gw, pytest.raises(sc.AccountError) as caught:
        sc.account_info(gw)
    assert caught.value.code == code
    assert isinstance(caught.value, sc.SmsCampaignError)
    assert PASSWORD not in str(caught.value)


# -- recharge ----------------------------------------------------------------------------------------


def test_recharge_success_credits(sandbox, gateway):
    sandbox.add_account("shop2", "pw2", sms_left=5)
    sandbox.add_card(CARD, CARD_PWD, sms=300, amount=30.0)
    result = sc.recharge(gateway, CARD, CARD_PWD, "shop2")
    assert result.ok and result.code == 300 and result.sms == 300
    assert result.info.category == "success"
    assert sandbox.account("shop2")["sms_left"] == 305
    assert repr(result) == "RechargeResult('CARD-0001' -> 'shop2': credited 300 messages)"


RECHARGE_CASES = {
    -127: ("", CARD_PWD, USER),
    -128: (CARD, "", USER),
    -129: (CARD, CARD_PWD, ""),
    -130: (CARD, CARD_PWD, "ghost"),
    -131: ("NO-SUCH-CARD", CARD_PWD, USER),
    -132: (CARD, "wrong-pw", USER),
}


@pytest.mark.parametrize("code", sorted(RECHARGE_CASES, reverse=True))
def test_recharge_card_codes_are_outcomes(sandbox, gateway, code):
    sandbox.add_card(CARD, CARD_PWD, sms=10)
    result = sc.recharge(gateway, *RECHARGE_CASES[code])
    assert not result.ok and result.code == code and result.sms == 0
    assert result.info == sc.describe_code(code)
    assert (result.message_zh, result.message_en) == (result.info.zh, result.info.en)
    assert sandbox.account(USER)["sms_left"] == 1000


def test_recharge_used_card(sandbox, gateway):
    sandbox.add_card(CARD, CARD_PWD, sms=10)
    assert sc.recharge(gateway, CARD, CARD_PWD, USER).ok
    again = sc.recharge(gateway, CARD, CARD_PWD, USER)
    assert again.code == -133 and not again.ok
    assert sandbox.account(USER)["sms_left"] == 1010


def test_recharge_account_codes_raise(sandbox):
    sandbox.add_card(CARD, CARD_PWD, sms=10)
    with sandbox.gateway(USER, "wrong") as gw, pytest.raises(sc.AccountError) as caught:
        sc.recharge(gw, CARD, CARD_PWD, USER)
    assert caught.value.code == -103
    assert CARD_PWD not in str(caught.value) and CARD_PWD not in repr(caught.value)


def test_card_password_never_shown(sandbox, gateway, caplog):
    caplog.set_level(logging.DEBUG)
    sandbox.add_card(CARD, CARD_PWD, sms=10)
    outcomes = [
        sc.recharge(gateway, CARD, CARD_PWD, USER),
        sc.recharge(gateway, CARD, "wrong-pw", USER),
    ]
    with sandbox.gateway(USER, PASSWORD, method="GET") as gw:  # GET puts it in the URL
        outcomes.append(sc.recharge(gw, CARD, CARD_PWD, USER))
    text = " ".join(repr(o) + str(o) for o in outcomes)
    assert CARD_PWD not in text and "wrong-pw" not in text
    assert CARD_PWD not in caplog.text and "wrong-pw" not in caplog.text
    assert CARD in caplog.text  # the card number is fine to log
    sandbox.stop()  # the world fails: the transport error must not carry it either
    with pytest.raises(sc.GatewayError) as caught:
        sc.recharge(gateway, CARD, CARD_PWD, USER)
    assert CARD_PWD not in str(caught.value) and CARD_PWD not in repr(caught.value.args)


# -- bind / unbind -----------------------------------------------------------------------------------


def test_bind_normalises_dedupes_and_never_sends_invalid(sandbox, gateway):
    mobiles = [
        A,
        "+86 138-0013-8000",
        "12345",
        B,
        "12345",
        "１３９００１３９０００",
        None,
        "19999999999x",
    ]
    before = list(mobiles)
    result = sc.bind_numbers(gateway, mobiles, progress=False)
    assert mobiles == before
    assert list(result.columns) == list(BIND_COLUMNS)
    # One row per input (issue 19): duplicates name the input they repeat.
    assert result["mobile"].tolist() == [A, A, pd.NA, B, pd.NA, B, pd.NA, pd.NA]
    assert result["status"].tolist() == [
        "bound",
        "duplicate",
        "invalid",
        "bound",
        "invalid",
        "duplicate",
        "invalid",
        "invalid",
    ]
    assert result["code"].tolist() == [2, pd.NA, pd.NA, 2, pd.NA, pd.NA, pd.NA, pd.NA]
    assert result.loc[2, "message_en"] == "wrong length"
    assert result["input"].tolist()[:4] == [A, "+86 138-0013-8000", "12345", B]
    assert sandbox.account(USER)["bound"] == [A, B]
    calls = sandbox.calls
    assert calls["endpoint"].tolist() == ["bind_mobile"]
    assert result["status"].dtype == "string" and result["code"].dtype == "Int64"


def test_bind_1200_numbers_in_three_calls(sandbox, gateway):
    numbers = [f"138{i:08d}" for i in range(1200)]
    result = sc.bind_numbers(gateway, numbers + numbers[:10], progress=False)
    assert len(result) == 1210
    assert (result["status"][:1200] == "bound").all()
    assert (result["status"][1200:] == "duplicate").all()
    assert result["code"].tolist()[:1200] == [500] * 1000 + [200] * 200
    calls = sandbox.calls
    assert calls["endpoint"].tolist() == ["bind_mobile"] * 3
    assert calls["code"].tolist() == [500, 500, 200]
    assert len(sandbox.account(USER)["bound"]) == 1200
    unbound = sc.unbind_numbers(gateway, numbers, progress=False)
    assert (unbound["status"] == "unbound").all()
    assert sandbox.account(USER)["bound"] == []


def test_bind_only_invalid_makes_no_call(sandbox, gateway):
    result = sc.bind_numbers(gateway, ["12345", "abc", ""], progress=False)
    assert result["status"].tolist() == ["invalid"] * 3
    assert sandbox.calls.empty
    assert sc.bind_numbers(gateway, [], progress=False).empty


def test_bind_elsewhere_fails_its_whole_call(sandbox, gateway):
    sandbox.add_account("other", "pw")
    with sandbox.gateway("other", "pw") as other:
        sc.bind_numbers(other, [C], progress=False)
    result = sc.bind_numbers(gateway, [A, B, C], batch_size=2, progress=False)
    assert result["status"].tolist() == ["bound", "bound", "failed"]
    assert result["code"].tolist() == [2, 2, -123]
    assert result.loc[2, "message_zh"] == "手机已在其他网站绑定"
    assert result.loc[2, "message_en"] == sc.describe_code(-123).en
    assert sandbox.account(USER)["bound"] == [A, B]


def test_bind_forced_failure_124(sandbox, gateway):
    sandbox.fail_next("bind_mobile", -124)
    result = sc.bind_numbers(gateway, [A, B], progress=False)
    assert result["status"].tolist() == ["failed", "failed"]
    assert result["code"].tolist() == [-124, -124]
    assert sandbox.account(USER)["bound"] == []


def test_unbind_codes_125_126(sandbox, gateway):
    sc.bind_numbers(gateway, [A], progress=False)
    not_bound = sc.unbind_numbers(gateway, [B], progress=False)
    assert not_bound["status"].tolist() == ["failed"] and not_bound["code"].tolist() == [-125]
    sandbox.fail_next("cancel_bind", -126)
    failed = sc.unbind_numbers(gateway, [A], progress=False)
    assert failed["code"].tolist() == [-126] and failed["status"].tolist() == ["failed"]
    assert sandbox.account(USER)["bound"] == [A]
    done = sc.unbind_numbers(gateway, ["+86 13800138000", "bad"], progress=False)
    assert done["status"].tolist() == ["unbound", "invalid"]
    assert sandbox.account(USER)["bound"] == []


def test_bind_account_code_raises(sandbox):
    with sandbox.gateway(USER, "wrong") as gw, pytest.raises(sc.AccountError) as caught:
        sc.bind_numbers(gw, [A], progress=False)
    assert caught.value.code == -103


def test_bind_transport_failure_is_a_row_status(sandbox, gateway):
    sandbox.faults = {"http500": 1.0}
    result = sc.bind_numbers(gateway, [A, "bad"], progress=False)
    assert result["status"].tolist() == ["error", "invalid"]
    assert "HTTP 500" in result.loc[0, "message_en"]


def test_bind_accepts_series_and_batch_size_limit(sandbox, gateway):
    series = pd.Series([A, B], index=[10, 20])
    result = sc.bind_numbers(gateway, series, progress=False)
    assert result.index.tolist() == [0, 1]
    with pytest.raises(ValueError, match="batch_size"):
        sc.bind_numbers(gateway, [A], batch_size=501)


# -- what the analyst sees (issue 19, item 3) ------------------------------------------------------


def test_results_render_as_html_tables_and_one_line_reprs(sandbox, gateway):
    sandbox.add_card("CARD-H", CARD_PWD, sms=7)
    info = sc.account_info(gateway)
    result = sc.recharge(gateway, "CARD-H", CARD_PWD, USER)
    response = gateway.user_info()
    for record in (info, result, response):
        text = repr(record)
        assert "\n" not in text and len(text) < 200, text
        html = record._repr_html_()
        assert html.startswith("<table") and html.count("<tr>") >= 5
        assert CARD_PWD not in html + text and PASSWORD not in html + text
    assert "<td" in info._repr_html_() and str(info.sms_left) in info._repr_html_()
    assert "可发条数" in info._repr_html_() and "white-space:nowrap" in info._repr_html_()
    assert "credited 7 messages" in repr(result) and ">7<" in result._repr_html_()
    assert repr(response).startswith("GatewayResponse(user_info: ")


def test_bind_one_row_per_input_names_duplicates(sandbox, gateway):
    inputs = [A, "12345", B, "138 0013 8000"]
    result = sc.bind_numbers(gateway, inputs, progress=False)
    assert result["input"].tolist() == inputs
    assert result["status"].tolist() == ["bound", "invalid", "bound", "duplicate"]
    assert result.loc[3, "mobile"] == A
    assert "input 1" in result.loc[3, "message_en"] and A in result.loc[3, "message_en"]
    assert "第1个输入" in result.loc[3, "message_zh"]
    assert sandbox.account(USER)["bound"] == [A, B]  # the duplicate was sent once
    again = sc.unbind_numbers(gateway, [B, B, "abc"], progress=False)
    assert again["status"].tolist() == ["unbound", "duplicate", "invalid"]


@pytest.mark.parametrize(
    ("number", "zh", "en"),
    [
        ("12345", "位数不对", "wrong length"),
        ("", "号码为空", "empty"),
        ("1380013800x", "含非数字字符", "not digits"),
    ],
)
def test_invalid_number_messages_say_the_same_in_both_languages(sandbox, gateway, number, zh, en):
    result = sc.bind_numbers(gateway, [number], progress=False)
    assert result.loc[0, "status"] == "invalid"
    assert (result.loc[0, "message_zh"], result.loc[0, "message_en"]) == (zh, en)


def test_every_number_reason_has_a_chinese_message():
    from smscampaign.core.reasons import REASONS_ZH
    from smscampaign.stages.numbers import Reason

    assert {str(r) for r in Reason} - {"duplicate of row"} <= set(REASONS_ZH)


def test_account_misuse_is_a_config_error(gateway):
    with pytest.raises(sc.ConfigError, match="batch_size"):
        sc.bind_numbers(gateway, [A], batch_size=0)


def test_unreadable_user_info_field_is_a_protocol_error_not_account_error():
    from tests.test_gateway import http, scripted_server

    body = b"<response><result>5</result><sms_left>lots</sms_left></response>"

    def answer(request, sock, stop):
        sock.sendall(http(body))

    with scripted_server(answer) as (url, _):
        with pytest.raises(sc.GatewayProtocolError, match="sms_left"):
            sc.account_info(sc.Gateway(USER, PASSWORD, base_url=url))
