"""The sandbox over real HTTP on loopback: every return code, charsets, methods, state, faults."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from urllib.parse import urlencode

import pandas as pd
import pytest
import requests
from conftest import readline

import smscampaign as sc
from smscampaign.core.codes import CODES
from smscampaign.stages.numbers import TEXT
from smscampaign.wire.gateway import parse_response
from smscampaign.wire.protocol import BEIJING
from tests.conftest import PASSWORD, USER

A, B = "13800138000", "13900139001"


def beijing_now() -> datetime:
    return datetime.now(BEIJING).replace(tzinfo=None)


def _send(box, gw, **kw):
    return gw.send_sms(kw.get("to", [A]), kw.get("content", "您好【小店】"), kw.get("sendtime"))


# code -> a function (sandbox, gateway) -> GatewayResponse that makes the sandbox answer it
SCENARIOS = {
    -100: lambda box, gw: (box.fail_next("send_sms", -100), _send(box, gw))[1],
    -101: lambda box, gw: (setattr(box, "maintenance", True), gw.user_info())[1],
    -102: lambda box, gw: box.gateway("nobody", "x").user_info(),
    -103: lambda box, gw: box.gateway(USER, "wrong").user_info(),
    -104: lambda box, gw: (box.update_account(USER, allowed_ips=["10.1.2.3"]), gw.user_info())[1],
    -105: lambda box, gw: (box.update_account(USER, frozen=True), gw.user_info())[1],
    -106: lambda box, gw: (box.update_account(USER, expired=True), gw.user_info())[1],
    -107: lambda box, gw: (box.update_account(USER, sms_left=1), _send(box, gw, to=[A, B]))[1],
    -108: lambda box, gw: (box.fail_next("send_sms", -108), _send(box, gw))[1],
    -109: lambda box, gw: (box.fail_next("send_sms", -109), _send(box, gw))[1],
    -110: lambda box, gw: box.gateway("", PASSWORD).user_info(),
    -111: lambda box, gw: box.gateway(USER, "").user_info(),
    -112: lambda box, gw: _send(box, gw, to=[]),
    -113: lambda box, gw: _send(box, gw, content=""),
    -114: lambda box, gw: _send(box, gw, sendtime="2030/01/01 08:00"),
    -115: lambda box, gw: _send(box, gw, sendtime=beijing_now() - timedelta(minutes=5)),
    -116: lambda box, gw: _send(box, gw, sendtime=beijing_now() + timedelta(days=400)),
    -117: lambda box, gw: _send(box, gw, to=[f"138{i:08d}" for i in range(501)]),
    -118: lambda box, gw: _send(box, gw, content="好" * 71),
    -119: lambda box, gw: _send(box, gw, to=[A, "12345"]),
    -120: lambda box, gw: (box.fail_next("get_sms", -120), gw.get_sms())[1],
    -121: lambda box, gw: (box.fail_next("get_sms", -121), gw.get_sms())[1],
    -122: lambda box, gw: gw.get_sms(),
    -123: lambda box, gw: (
        box.add_account("other", "pw"),
        box.gateway("other", "pw").bind_mobile([A]),
        gw.bind_mobile([A, B]),
    )[2],
    -124: lambda box, gw: (box.fail_next("bind_mobile", -124), gw.bind_mobile([A]))[1],
    -125: lambda box, gw: gw.cancel_bind([A]),
    -126: lambda box, gw: (gw.bind_mobile([A]), box.fail_next("cancel_bind", -126), gw.cancel_bind([A]))[
        2
    ],
    -127: lambda box, gw: gw.recharge("", "pw", USER),
    -128: lambda box, gw: gw.recharge("C1", "", USER),
    -129: lambda box, gw: gw.recharge("C1", "pw", ""),
    -130: lambda box, gw: gw.recharge("C1", "pw", "ghost"),
    -131: lambda box, gw: gw.recharge("NOPE", "pw", USER),
    -132: lambda box, gw: (box.add_card("C1", "right", sms=10), gw.recharge("C1", "wrong", USER))[1],
    -133: lambda box, gw: (
        box.add_card("C1", "pw", sms=10),
        gw.recharge("C1", "pw", USER),
        gw.recharge("C1", "pw", USER),
    )[2],
}


def test_every_code_has_a_scenario():
    assert sorted(SCENARIOS) == sorted(CODES)


@pytest.mark.parametrize("charset", ["utf8", "gbk", "big5"])
@pytest.mark.parametrize("code", sorted(CODES, reverse=True))
def test_every_code_is_produced_and_decoded(sandbox, code, charset):
    with sandbox.gateway(USER, PASSWORD, charset=charset) as gw:
        response = SCENARIOS[code](sandbox, gw)
    assert response.code == code
    assert not response.ok
    assert response.message == CODES[code][0]  # the gateway's own Chinese text, decoded
    assert response.info == sc.describe_code(code)


def test_rejected_sends_leave_no_trace_but_109_does(sandbox, gateway):
    for code in (-100, -107, -108, -112, -113, -114, -117, -118, -119):
        SCENARIOS[code](sandbox, gateway)
        sandbox.update_account(USER, sms_left=1000)
    assert sandbox.ledger.empty
    SCENARIOS[-109](sandbox, gateway)
    assert list(sandbox.ledger["receiver"]) == [A]  # messages went out, deduction failed
    assert sandbox.account(USER)["sms_left"] == 1000


CONTENTS = {
    "utf8": "您好，发票已开£😀【小店】",
    "gbk": "您好，发票已开¤【小店】",  # 发 exists in GBK but not in Big5
    "big5": "您好，裏面請€‧【小店】",  # € ‧ exist in Big5 (code page 950) but not in GBK
}


@pytest.mark.parametrize("method", ["POST", "GET"])
@pytest.mark.parametrize("charset", ["utf8", "gbk", "big5"])
def test_chinese_content_arrives_exactly(sandbox, charset, method):
    content = CONTENTS[charset]
    with sandbox.gateway(USER, PASSWORD, charset=charset, method=method) as gw:
        response = gw.send_sms([A, B], content)
    assert response.ok and response.code > 0
    ledger = sandbox.ledger
    assert list(ledger["receiver"]) == [A, B]
    assert set(ledger["content"]) == {content}
    assert (ledger["request_id"] == response.code).all()
    calls = sandbox.calls
    assert list(calls[["method", "charset"]].iloc[0]) == [method, charset]


@pytest.mark.parametrize(
    ("charset", "text", "bad"),
    [
        ("gbk", "价格€5【小店】", "€"),
        ("big5", "发票【小店】", "发"),
        ("gbk", "好的😀【小店】", "😀"),
        ("big5", "價格£5【小店】", "£"),  # code page 950 would turn it into ￡
    ],
)
def test_unencodable_content_refused_before_sending(sandbox, charset, text, bad):
    with sandbox.gateway(USER, PASSWORD, charset=charset) as gw:
        with pytest.raises(sc.UnencodableContentError) as info:
            gw.send_sms([A], text)
    assert info.value.characters == (bad,) and bad in str(info.value)
    assert sandbox.calls.empty  # nothing left the client


def test_seventy_utf16_units_is_the_limit(sandbox, gateway):
    assert gateway.send_sms([A], "好" * 70).ok
    assert gateway.send_sms([A], "好" * 69 + "😀").code == -118  # the emoji counts 2
    assert gateway.send_sms([A], "好" * 68 + "😀").ok


def test_sending_deducts_and_user_info_reports(sandbox, gateway):
    gateway.send_sms([A, B], "hi【x】")
    info = gateway.user_info()
    assert info.ok and info.code > 0
    f = info.fields
    assert (f["sms_left"], f["sms_send"], f["sms_receive"]) == (998, 2, 0)
    assert isinstance(f["user_balance"], float) and isinstance(f["user_point"], int)
    assert set(f) == {
        "user_balance",
        "user_amount",
        "sms_left",
        "sms_send",
        "sms_receive",
        "expired_date",
        "user_point",
    }


def test_scheduled_send_records_sendtime(sandbox, gateway):
    when = beijing_now().replace(microsecond=0) + timedelta(days=1)
    assert gateway.send_sms([A], "明天见【x】", sendtime=when).ok
    assert sandbox.ledger["sendtime"].tolist() == [when.strftime("%Y-%m-%d %H:%M:%S")]


def test_bind_reply_fetch_cancel(sandbox, gateway):
    assert not sandbox.reply(A, "not bound yet", USER)
    bound = gateway.bind_mobile([A, B, A])
    assert bound.ok and bound.code == 2
    assert sandbox.account(USER)["bound"] == [A, B]
    assert sandbox.reply(A, "退订", USER, receivetime="2026-01-02 03:04:05")
    assert sandbox.reply(B, "好的😀 & <ok>", USER)
    fetched = sandbox.gateway(USER, PASSWORD, charset="gbk").get_sms()
    assert fetched.code == 2
    assert fetched.items[0] == {"sender": A, "content": "退订", "receivetime": "2026-01-02 03:04:05"}
    assert fetched.items[1]["content"] == "好的😀 & <ok>"  # GBK answer carries the emoji as a reference
    assert gateway.get_sms().code == -122  # fetched once only
    assert gateway.cancel_bind([A]).code == 1
    assert not sandbox.reply(A, "again", USER)
    assert gateway.user_info().fields["sms_receive"] == 2


def test_get_sms_pages(sandbox, gateway):
    sandbox.page_size = 3
    gateway.bind_mobile([A])
    for i in range(7):
        sandbox.reply(A, f"r{i}", USER)
    assert [gateway.get_sms().code for _ in range(4)] == [3, 3, 1, -122]


def test_recharge_credits_the_target_account(sandbox, gateway):
    sandbox.add_account("shop2", "pw2", sms_left=5)
    sandbox.add_card("CARD-1", "cardpw", sms=300, amount=30.0)
    response = gateway.recharge("CARD-1", "cardpw", "shop2")
    assert response.ok and response.code == 300
    assert sandbox.account("shop2")["sms_left"] == 305
    assert sandbox.account("shop2")["balance"] == 30.0


def test_allowed_ip_passes_loopback(sandbox, gateway):
    sandbox.update_account(USER, allowed_ips=["127.0.0.1"])
    assert gateway.user_info().ok


def test_push_reaches_url(sandbox, gateway):
    received = []
    import threading
    from urllib.parse import parse_qsl
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    def app(environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        received.append(dict(parse_qsl(body.decode("ascii"), encoding="gbk")))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    class Quiet(WSGIRequestHandler):
        def log_message(self, *a):
            pass

    server = make_server("127.0.0.1", 0, app, handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/push"
        sandbox.update_account(USER, push_url=url, push_key="k3y", push_charset="gbk")
        gateway.bind_mobile([A])
        assert sandbox.reply(A, "退订", USER, receivetime="2026-01-02 03:04:05")
    finally:
        server.shutdown()
        server.server_close()
    assert received == [
        {"sender": A, "content": "退订", "receivetime": "2026-01-02 03:04:05", "key": "k3y", "type": "0"}
    ]
    assert sandbox.pushes[0]["ok"] is True


def test_not_found_paths(sandbox):
    assert requests.get(sandbox.url + "/utf8/interface/nothing.aspx", timeout=5).status_code == 404
    assert requests.get(sandbox.url + "/latin1/interface/send_sms.aspx", timeout=5).status_code == 404


def test_admin_api_drives_and_inspects(sandbox):
    url = sandbox.url + "/_sandbox"
    assert (
        requests.post(
            url + "/accounts", json={"username": "x", "password": "y", "sms_left": 3}, timeout=5
        ).status_code
        == 201
    )
    gw = sandbox.gateway("x", "y")
    assert gw.bind_mobile([A]).ok
    assert requests.post(
        url + "/reply", json={"sender": A, "content": "T", "account": "x"}, timeout=5
    ).json() == {"queued": True}
    assert gw.get_sms().items[0]["content"] == "T"
    gw.send_sms([A], "hello")
    ledger = requests.get(url + "/ledger", timeout=5).json()
    assert [(r["account"], r["receiver"], r["content"]) for r in ledger] == [("x", A, "hello")]
    accounts = requests.get(url + "/accounts", timeout=5).json()
    assert {a["username"] for a in accounts} == {USER, "x"}
    assert "y" not in json.dumps(accounts) and PASSWORD not in json.dumps(accounts)
    assert requests.post(url + "/maintenance", json={"on": True}, timeout=5).ok
    assert gw.user_info().code == -101
    assert requests.post(url + "/faults", json={"bogus": 1}, timeout=5).status_code == 400


def test_faults_are_seeded_and_ledger_is_ground_truth(sandbox):
    sandbox.faults = {"http500": 0.25, "garbage": 0.25}
    sandbox._rng.seed(7)
    gw = sandbox.gateway(USER, PASSWORD)
    outcomes = []
    for i in range(40):
        try:
            outcomes.append(gw.send_sms([f"138{i:08d}"], "x").code)
        except sc.GatewayHTTPError:
            outcomes.append("500")
        except sc.GatewayProtocolError:
            outcomes.append("garbage")
    assert "500" in outcomes and "garbage" in outcomes and any(isinstance(o, int) for o in outcomes)
    calls = sandbox.calls
    # garbage answers are processed (in the ledger), 500s are not
    processed = calls[calls["fault"] != "http500"]
    assert len(sandbox.ledger) == len(processed)


def test_ledger_columns(sandbox):
    assert list(sandbox.ledger.columns) == [
        "account",
        "receiver",
        "content",
        "sendtime",
        "request_id",
        "accepted_at",
    ]


def test_standalone_process_serves_a_real_client():
    proc = subprocess.Popen(
        [sys.executable, "-m", "smscampaign.sandbox", "--port", "0", "--account", "demo:secret:50"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = readline(proc, 60)
        assert url.startswith("http://127.0.0.1:")
        with sc.Gateway("demo", "secret", base_url=url, charset="gbk") as gw:
            assert gw.send_sms([A, B], "独立进程【测试】").ok
            assert gw.user_info().fields["sms_left"] == 48
        ledger = pd.DataFrame(requests.get(url + "/_sandbox/ledger", timeout=5).json())
        assert ledger["receiver"].tolist() == [A, B]
        assert set(ledger["content"]) == {"独立进程【测试】"}
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert "Warning" not in stderr and "Traceback" not in stderr, stderr


def test_scheduled_send_deducts_at_acceptance(sandbox, gateway):
    when = beijing_now().replace(microsecond=0) + timedelta(days=2)
    assert gateway.send_sms([A, B], "后天见【x】", sendtime=when).ok
    assert gateway.send_sms([A], "now【x】").ok
    assert gateway.user_info().fields["sms_left"] == 1000 - 3  # the scheduled two count at once
    assert sandbox.account(USER)["sms_left"] == 997


def test_adjust_balance_behind_the_clients_back(sandbox, gateway):
    assert sandbox.adjust_balance(USER, -7) == 993
    assert gateway.user_info().fields["sms_left"] == 993
    assert sandbox.adjust_balance(USER, 20) == 1013
    gateway.send_sms([A], "hi【x】")
    info = gateway.user_info().fields
    assert (info["sms_left"], info["sms_send"]) == (1012, 1)  # a foreign change is not a send
    assert sandbox.ledger["receiver"].tolist() == [A]
    with pytest.raises(sc.ConfigError, match="only 1012 left"):
        sandbox.adjust_balance(USER, -2000)
    with pytest.raises(sc.ConfigError, match="no sandbox account"):
        sandbox.adjust_balance("ghost", 1)
    with pytest.raises(sc.ConfigError, match="whole number"):
        sandbox.adjust_balance(USER, 1.5)  # type: ignore[arg-type]
    assert sandbox.account(USER)["sms_left"] == 1012


def first_line(proc: subprocess.Popen, timeout: float = 30.0) -> str:
    """The child's first stdout line, or fail (and kill it) after ``timeout`` seconds."""
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    if not line:
        proc.kill()
        raise AssertionError(f"no line from the child within {timeout} s")
    return line[0].strip()


def test_standalone_admin_balance_endpoint():
    proc = subprocess.Popen(
        [sys.executable, "-m", "smscampaign.sandbox", "--port", "0", "--account", "demo:secret:50"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = first_line(proc)
        admin = url + "/_sandbox/balance"
        answer = requests.post(admin, json={"account": "demo", "delta": -5}, timeout=5)
        assert answer.status_code == 200 and answer.json() == {"account": "demo", "sms_left": 45}
        with sc.Gateway("demo", "secret", base_url=url) as gw:
            assert gw.user_info().fields["sms_left"] == 45
            answer = requests.post(admin, json={"account": "demo", "delta": 100}, timeout=5)
            assert answer.json()["sms_left"] == 145
            assert gw.user_info().fields["sms_left"] == 145
        refused = requests.post(admin, json={"account": "demo", "delta": -1000}, timeout=5)
        assert refused.status_code == 400 and "only 145 left" in refused.json()["error"]
        assert requests.post(admin, json={"delta": 1}, timeout=5).status_code == 400
        assert requests.get(url + "/_sandbox/ledger", timeout=5).json() == []
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=10)
    assert "Traceback" not in stderr, stderr


# -- what the vendor's plugins add (issue 18) ---------------------------------------------------------


def test_user_stat_counts_the_ledger_per_day_and_month(sandbox, gateway):
    empty = gateway.user_stat()
    assert list(empty.columns) == ["period", "kind", "sent"]
    assert empty["kind"].value_counts().to_dict() == {"day": 7, "month": 12}
    assert empty["sent"].sum() == 0
    gateway.send_sms([A, B], "一【x】")
    gateway.send_sms([A], "二【x】", sendtime=beijing_now() + timedelta(days=3))
    sandbox.add_account("other", "pw")
    sandbox.gateway("other", "pw").send_sms([A], "别人的【x】")  # another account's sends don't count
    stat = gateway.user_stat()
    today = beijing_now()
    days, months = stat[stat["kind"] == "day"], stat[stat["kind"] == "month"]
    assert days["period"].iloc[-1] == today.strftime("%m-%d")
    assert months["period"].iloc[-1] == today.strftime("%Y-%m")
    assert days["sent"].tolist() == [0] * 6 + [3] and months["sent"].tolist() == [0] * 11 + [3]
    assert str(stat["period"].dtype) == str(TEXT) and stat["sent"].dtype == "int64"


def test_user_stat_answers_the_documents_array_texts(sandbox):
    query = f"username={USER}&password={PASSWORD}"
    answer = requests.get(f"{sandbox.url}/gbk/interface/user_stat.aspx?{query}", timeout=5)
    parsed = parse_response(answer.content, endpoint="user_stat", charset="gbk")
    assert parsed.code == sandbox.account(USER)["user_id"]
    assert set(parsed.fields) == {"daytitle", "daytotal", "monthtitle", "monthtotal"}
    assert parsed.fields["daytotal"] == "[0,0,0,0,0,0,0]"
    assert parsed.fields["daytitle"].startswith("['") and parsed.fields["daytitle"].endswith("']")


def test_send_voice_calls_one_number_and_deducts_one(sandbox, gateway):
    response = gateway.send_voice(A, "0427")
    assert response.ok and response.message == "语音验证码发送成功"
    voice = sandbox.voice_calls
    assert voice[["account", "receiver", "content"]].values.tolist() == [[USER, A, "0427"]]
    assert sandbox.ledger.empty  # a voice call is not a text message
    assert sandbox.account(USER)["sms_left"] == 999
    url = f"{sandbox.url}/utf8/interface/send_voice.aspx"
    base = {"username": USER, "password": PASSWORD}
    for fields, code in [
        ({"receiver": A, "content": "12ab"}, -118),
        ({"receiver": f"{A},{B}", "content": "1234"}, -119),
        ({"receiver": "", "content": "1234"}, -112),
        ({"receiver": A, "content": ""}, -113),
    ]:
        answer = requests.post(url, data={**base, **fields}, timeout=5)
        assert parse_response(answer.content, endpoint="send_voice").code == code
    sandbox.update_account(USER, sms_left=0)
    assert gateway.send_voice(A, "5555").code == -107
    assert len(sandbox.voice_calls) == 1


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_sendsms_alias_sends_like_send_sms(sandbox, method):
    fields = {"username": USER, "password": PASSWORD, "receiver": A, "content": "别名【x】"}
    url = f"{sandbox.url}/gbk/SendSms.aspx"  # IIS paths ignore case
    query = urlencode(fields, encoding="gbk")
    if method == "GET":
        answer = requests.get(f"{url}?{query}", timeout=5)
    else:
        answer = requests.post(url, data=query.encode("ascii"), timeout=5)
    assert parse_response(answer.content, endpoint="send_sms", charset="gbk").ok
    assert sandbox.ledger["content"].tolist() == ["别名【x】"]
    assert sandbox.calls["endpoint"].tolist() == ["send_sms"]


def test_blocked_ip_gets_the_hosts_403_page_when_the_account_says_so(sandbox, gateway):
    sandbox.update_account(USER, allowed_ips=["10.1.2.3"], forbidden_page=True)
    with pytest.raises(sc.GatewayHTTPError) as info:
        gateway.send_sms([A], "hi【x】")
    assert info.value.status == 403 and "IP address is not allowed" in str(info.value)
    page = requests.post(
        f"{sandbox.url}/utf8/interface/user_info.aspx",
        data={"username": USER, "password": PASSWORD},
        timeout=5,
    )
    assert page.status_code == 403 and page.headers["Content-Type"].startswith("text/html")
    assert "403 Forbidden" in page.text and "您未被授权查看该页" in page.text
    assert sandbox.ledger.empty
    assert sandbox.calls["fault"].tolist() == ["http403", "http403"]
    sandbox.update_account(USER, forbidden_page=False)
    assert gateway.user_info().code == -104


def _push_receiver():
    from urllib.parse import parse_qsl
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    received: list[dict[str, str]] = []

    def app(environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        received.append(dict(parse_qsl(body.decode("ascii"))))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    class Quiet(WSGIRequestHandler):
        def log_message(self, *a):
            pass

    server = make_server("127.0.0.1", 0, app, handler_class=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}/push", received


def test_push_carries_a_configurable_type(sandbox, gateway):
    server, url, received = _push_receiver()
    try:
        sandbox.update_account(USER, push_url=url, push_key="k", push_type="1")
        gateway.bind_mobile([A])
        assert sandbox.reply(A, "收到", USER)
        sandbox.add_account("plain", "pw", push_url=url)
        sandbox.gateway("plain", "pw").bind_mobile([B])
        assert sandbox.reply(B, "好", "plain")
    finally:
        server.shutdown()
        server.server_close()
    assert [r["type"] for r in received] == ["1", "0"]


def test_unstarted_sandbox_says_how_to_start_it():
    box = sc.Sandbox()
    for use in (lambda: box.url, lambda: box.gateway(USER, PASSWORD)):
        with pytest.raises(
            sc.ConfigError, match=r"not running.*with Sandbox\(\) as box.*box\.start\(\)"
        ):
            use()
    assert "stopped" in repr(box)
    with box:
        assert box.url.startswith("http://127.0.0.1:") and box.running
    with pytest.raises(sc.ConfigError, match="not running"):
        box.gateway(USER, PASSWORD)


def test_sandbox_misuse_is_a_config_error():
    box = sc.Sandbox()
    with pytest.raises(sc.ConfigError, match="unknown fault"):
        box.faults = {"lightning": 0.5}
    with pytest.raises(sc.ConfigError, match="push_charset"):
        box.add_account("demo", "pw", push_charset="latin1")
    with pytest.raises(sc.ConfigError, match="unknown endpoint"):
        box.fail_next("nowhere", -100)
