"""The gateway client: parsing, charsets, transport failures and secrecy, over real loopback HTTP."""

from __future__ import annotations

import logging
import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from urllib.parse import urlencode

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import smscampaign as sc
from smscampaign.wire.deadline import Watchdog
from smscampaign.wire.form import encode_form
from smscampaign.wire.gateway import parse_response, redact
from smscampaign.wire.protocol import format_sendtime, unencodable_characters
from tests.conftest import PASSWORD, USER

A = "13800138000"


def _read_request(sock: socket.socket) -> tuple[bytes, bytes] | None:
    """One HTTP request from ``sock``: (head, body) by its Content-Length; None if the client left."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head, body


@contextmanager
def hostile_gateway(answer: bytes | None, *, delay: float = 0.0) -> Iterator[str]:
    """A real HTTP server on loopback that answers every request with ``answer`` raw bytes
    (``None``: read the request, then reset the connection), ``delay`` seconds late (a delay ends
    when the server stops)."""
    stopping = threading.Event()

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            request = _read_request(self.request)
            if request is None:
                return
            head, body = request
            if answer is None:
                self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
                return
            stopping.wait(delay)
            self.request.sendall(answer)

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        stopping.set()
        server.shutdown()
        server.server_close()


def http(body: bytes, status: str = "200 OK", content_type: str = "text/xml") -> bytes:
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode() + body


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- parsing ---------------------------------------------------------------------------------------


def test_parse_indented_xml_with_fields():
    body = """<?xml version="1.0" encoding="utf-8" ?>
    <response>
        <result>123</result>
        <message>获取用户信息成功</message>
        <user_balance>12.50</user_balance><sms_left>88</sms_left><expired_date>2027-01-01</expired_date>
        <custom>abc</custom>
    </response>""".encode()
    r = parse_response(body, endpoint="user_info")
    assert (r.code, r.ok, r.message) == (123, True, "获取用户信息成功")
    assert r.fields == {
        "user_balance": 12.5,
        "sms_left": 88,
        "expired_date": "2027-01-01",
        "custom": "abc",
    }


def test_parse_declared_gbk_and_big5():
    for charset, declared in (("gbk", "gbk"), ("big5", "big5")):
        text = (
            f'<?xml version="1.0" encoding="{declared}" ?><response><result>-103</result>'
            f"<message>帐号密码错误</message></response>"
        )
        r = parse_response(
            text.encode("gbk" if charset == "gbk" else "cp950", errors="xmlcharrefreplace"),
            endpoint="x",
            charset=charset,
        )
        assert (r.code, r.message, r.info.category) == (-103, "帐号密码错误", "account")


def test_parse_falls_back_to_endpoint_charset_when_declaration_lies():
    body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        "<response><result>-119</result><message>手机号不符合规则</message></response>"
    )
    r = parse_response(body.encode("gbk"), endpoint="send_sms", charset="gbk")
    assert r.message == "手机号不符合规则"


def test_parse_reply_items_with_aliases():
    body = (
        "<response><result>2</result><message>ok</message>"
        "<sms><sender>13800138000</sender><content>T</content>"
        "<receivetime>2026-01-01 10:00:00</receivetime></sms>"
        "<sms><mobile>13900139000</mobile><content>退订</content>"
        "<recvtime>2026-01-01 11:00:00</recvtime></sms>"
        "</response>"
    ).encode()
    r = parse_response(body, endpoint="get_sms")
    assert r.items == (
        {"sender": "13800138000", "content": "T", "receivetime": "2026-01-01 10:00:00"},
        {"sender": "13900139000", "content": "退订", "receivetime": "2026-01-01 11:00:00"},
    )


def test_bare_integer_body_is_tolerated():
    assert parse_response(b"-107", endpoint="send_sms").info.category == "account"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<html>oops</html>",
        b"Service Unavailable",
        b"<response><result>x</result></response>",
        b"<response><result>1</result>",
        b"\xff\xfe\x00garbage",
    ],
)
def test_unreadable_bodies_are_protocol_errors(body):
    with pytest.raises(sc.GatewayProtocolError):
        parse_response(body, endpoint="send_sms")


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
        b"<response><result>&b;</result></response>",
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<response><result>1</result><message>&x;</message></response>",
    ],
)
def test_entity_tricks_are_refused(body):
    with pytest.raises(sc.GatewayProtocolError, match="refused"):
        parse_response(body, endpoint="send_sms")


def test_helpers():
    assert unencodable_characters("您好", "gbk") == ()
    assert format_sendtime(datetime(2030, 1, 1, 0, 0, tzinfo=UTC)) == "2030-01-01 08:00:00"
    assert format_sendtime(datetime(2030, 1, 1, 8, 0)) == "2030-01-01 08:00:00"
    assert format_sendtime(None) is None
    assert redact("a?username=u&password=p%20q&x=1", "zz") == "a?username=u&password=***&x=1"


def test_config_errors():
    with pytest.raises(sc.ConfigError):
        sc.Gateway("u", "p", charset="latin1")
    with pytest.raises(sc.ConfigError):
        sc.Gateway("u", "p", method="PUT")
    with pytest.raises(sc.ConfigError):
        sc.Gateway("u", "p", base_url="a1.imrobots.cn")


def test_from_env_reads_the_four_variables():
    env = {
        "SMSCAMPAIGN_USERNAME": "u",
        "SMSCAMPAIGN_PASSWORD": "p",
        "SMSCAMPAIGN_BASE_URL": "http://h:1",
        "SMSCAMPAIGN_CHARSET": "gbk",
    }
    gw = sc.Gateway.from_env(env)
    assert (gw.username, gw.base_url, gw.charset) == ("u", "http://h:1", "gbk")
    assert sc.Gateway.from_env(env, base_url="http://other:2").base_url == "http://other:2"
    with pytest.raises(sc.ConfigError, match="SMSCAMPAIGN_PASSWORD"):
        sc.Gateway.from_env({"SMSCAMPAIGN_USERNAME": "u"})


# -- transport over loopback -------------------------------------------------------------------------


def test_response_record(gateway):
    r = gateway.send_sms([A], "hi")
    assert r.endpoint == "send_sms" and r.ok and r.code > 0 and r.message == "短信发送成功"
    assert r.info.category == "success" and r.elapsed > 0


def test_unreachable_host_is_a_connection_error_not_sent():
    gw = sc.Gateway(USER, PASSWORD, base_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(sc.GatewayConnectionError) as info:
        gw.send_sms([A], "hi")
    assert info.value.request_sent is False
    assert isinstance(info.value, ConnectionError) and isinstance(info.value, sc.GatewayError)


def test_reset_after_sending_is_ambiguous():
    with hostile_gateway(None) as url:
        with pytest.raises(sc.GatewayDisconnected) as info:
            sc.Gateway(USER, PASSWORD, base_url=url).send_sms([A], "hi")
    assert info.value.request_sent is True


def test_read_timeout_is_ambiguous():
    # Answered only when the server stops: the 0.2 s read timeout always comes first.
    with hostile_gateway(http(b"<response><result>1</result></response>"), delay=600) as url:
        with pytest.raises(sc.GatewayTimeout) as info:
            sc.Gateway(USER, PASSWORD, base_url=url, timeout=(2, 0.2)).send_sms([A], "hi")
    assert info.value.request_sent is True and isinstance(info.value, TimeoutError)


def test_garbage_body():
    with hostile_gateway(http(bytes(range(256)), content_type="application/octet-stream")) as url:
        with pytest.raises(sc.GatewayProtocolError):
            sc.Gateway(USER, PASSWORD, base_url=url).user_info()


def test_http_error_status():
    with hostile_gateway(http(b"<html>error</html>", status="500 Internal Server Error")) as url:
        with pytest.raises(sc.GatewayHTTPError) as info:
            sc.Gateway(USER, PASSWORD, base_url=url).user_info()
    assert info.value.status == 500 and info.value.request_sent is True


def test_oversized_body_declared_and_streamed():
    big = b"<response><result>1</result><message>" + b"x" * 3_000_000 + b"</message></response>"
    with hostile_gateway(http(big)) as url:
        with pytest.raises(sc.GatewayProtocolError, match="limit"):
            sc.Gateway(USER, PASSWORD, base_url=url).user_info()
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        + b"".join(b"%x\r\n%s\r\n" % (65536, b"y" * 65536) for _ in range(20))
        + b"0\r\n\r\n"
    )
    with hostile_gateway(chunked) as url:
        with pytest.raises(sc.GatewayProtocolError, match="limit"):
            sc.Gateway(USER, PASSWORD, base_url=url).user_info()


def test_entity_laden_body_over_http():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b"<response><result>1</result><message>&lol2;</message></response>"
    )
    with hostile_gateway(http(bomb)) as url:
        with pytest.raises(sc.GatewayProtocolError):
            sc.Gateway(USER, PASSWORD, base_url=url).user_info()


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_password_never_logged_or_shown(sandbox, caplog, method):
    card_password = "CARD-PW-777"
    sandbox.add_card("C9", card_password, sms=5)
    caplog.set_level(logging.DEBUG)
    texts = []
    with sandbox.gateway(USER, PASSWORD, method=method) as gw:
        texts.append(repr(gw))
        gw.send_sms([A], "hi")
        gw.user_info()
        texts.append(repr(gw.recharge("C9", card_password, USER)))
        texts.append(repr(gw.recharge("C9", card_password, USER)))
    for url in (sandbox.url, f"http://127.0.0.1:{free_port()}"):
        try:
            sc.Gateway(USER, PASSWORD, base_url=url, method=method).recharge("C9", card_password, USER)
        except sc.GatewayError as exc:
            texts.append(str(exc))
            texts.append(repr(exc))
    with hostile_gateway(None) as url:
        with pytest.raises(sc.GatewayError) as info:
            sc.Gateway(USER, PASSWORD, base_url=url, method=method).recharge("C9", card_password, USER)
        texts.append(str(info.value))
        assert info.value.__cause__ is None and info.value.__suppress_context__
    assert any("urllib3" in r.name for r in caplog.records)  # the client really logged at DEBUG
    everything = "\n".join(texts + [r.getMessage() for r in caplog.records])
    assert PASSWORD not in everything and card_password not in everything
    assert "s3cret" not in everything


# -- a hostile world (issue 16) --------------------------------------------------------------------


@contextmanager
def scripted_server(answer) -> Iterator[tuple[str, list[bytes]]]:
    """A loopback HTTP server; ``answer(request_bytes, sock)`` writes the response itself. Yields the
    URL and the list of requests received (head and body)."""
    seen: list[bytes] = []
    stop = threading.Event()

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            self.request.settimeout(5)
            request = _read_request(self.request)
            if request is None:
                return
            head, body = request
            seen.append(head + b"\r\n\r\n" + body)
            try:
                answer(head + b"\r\n\r\n" + body, self.request, stop)
            except OSError:
                pass

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        stop.set()
        server.shutdown()
        server.server_close()


def _send(data: bytes):
    def answer(request: bytes, sock: socket.socket, stop: threading.Event) -> None:
        sock.sendall(data)

    return answer


def _chain(exc: BaseException) -> list[BaseException]:
    """Every exception reachable from ``exc`` through __cause__, __context__, args and reason."""
    out, queue = [], [exc]
    while queue:
        item = queue.pop()
        if any(item is o for o in out):
            continue
        out.append(item)
        for nxt in (item.__cause__, item.__context__, getattr(item, "reason", None), *item.args):
            if isinstance(nxt, BaseException):
                queue.append(nxt)
    return out


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirects_are_never_followed(status):
    """A 3xx pointing at another host must not get the password or card password re-sent there."""
    with scripted_server(_send(http(b"<response><result>300</result></response>"))) as (evil, stolen):
        location = f"{evil}/steal?leak=LOCATION-QUERY"
        redirect = (
            f"HTTP/1.1 {status} Moved\r\nLocation: {location}\r\nContent-Length: 0\r\n"
            "Connection: close\r\n\r\n"
        ).encode()
        with scripted_server(_send(redirect)) as (url, _seen):
            for method in ("POST", "GET"):
                gw = sc.Gateway(USER, PASSWORD, base_url=url, method=method)
                with pytest.raises(sc.GatewayRedirect) as info:
                    gw.recharge("C1", "CARD-SECRET", USER)
                assert isinstance(info.value, sc.GatewayProtocolError)
                assert str(status) in str(info.value) and info.value.status == status
                assert "LOCATION-QUERY" not in str(info.value) and "steal" not in str(info.value)
    assert stolen == []  # the other host never heard from us


def _drip(data: bytes, *, head_first: bool):
    def answer(request: bytes, sock: socket.socket, stop: threading.Event) -> None:
        if head_first:  # headers at once, then the body a byte at a time
            head, _, body = data.partition(b"\r\n\r\n")
            sock.sendall(head + b"\r\n\r\n")
            data_left = body
        else:
            data_left = data
        for byte in data_left:
            if stop.wait(0.25):  # the server's pace (one byte per 0.25 s), not synchronisation
                return
            sock.sendall(bytes([byte]))

    return answer


@pytest.mark.timeout(30)
@pytest.mark.parametrize("head_first", [True, False], ids=["body-drip", "header-drip"])
def test_a_dripping_server_cannot_outlast_the_deadline(head_first):
    answer = http(b"<response><result>1</result><message>" + b"x" * 400 + b"</message></response>")
    with scripted_server(_drip(answer, head_first=head_first)) as (url, seen):
        gw = sc.Gateway(USER, PASSWORD, base_url=url, timeout=(2, 3), deadline=1)
        with pytest.raises(sc.GatewayTimeout, match="deadline") as info:
            gw.send_sms([A], "hi")
        assert info.value.request_sent is True and len(seen) == 1
        # The connection cut by the deadline is not reused: the next call works normally.
    with sc.Sandbox() as box:
        box.add_account(USER, PASSWORD)
        with box.gateway(USER, PASSWORD, deadline=1) as gw2:
            assert gw2.send_sms([A], "hi").ok


@pytest.mark.timeout(30)
def test_a_read_only_call_with_its_retries_stays_within_one_deadline():
    # user_info is retried on a deadline cut, but the retries share the call's one deadline: a
    # dripping server cannot make it take (1 + read_retries) deadlines.
    answer = http(b"<response><result>1</result><message>" + b"x" * 400 + b"</message></response>")
    with scripted_server(_drip(answer, head_first=True)) as (url, seen):
        gw = sc.Gateway(USER, PASSWORD, base_url=url, timeout=(2, 3), deadline=1.5, retry_backoff=0.1)
        started = time.monotonic()
        with pytest.raises(sc.GatewayTimeout, match="deadline"):
            gw.user_info()
        took = time.monotonic() - started
    assert took < 2.5, f"user_info took {took:.1f} s with a 1.5 s deadline"
    assert 1 <= len(seen) <= 3


def test_deadline_must_be_positive():
    with pytest.raises(sc.ConfigError):
        sc.Gateway(USER, PASSWORD, base_url="http://127.0.0.1:1", deadline=0)


def test_root_element_must_be_the_protocols():
    with pytest.raises(sc.GatewayProtocolError, match="root element|not the gateway's XML"):
        parse_response(b"<html><result>1</result></html>", endpoint="recharge")
    for body in (
        b"<xml><result>1</result></xml>",
        b"<root><response><result>1</result></response></root>",
    ):
        with pytest.raises(sc.GatewayProtocolError, match="root element"):
            parse_response(body, endpoint="recharge")
    with scripted_server(_send(http(b"<html><result>1</result></html>", content_type="text/html"))) as (
        url,
        _,
    ):
        with pytest.raises(sc.GatewayProtocolError, match="root element|not the gateway's XML"):
            sc.Gateway(USER, PASSWORD, base_url=url).recharge("C1", "pw", USER)


@pytest.mark.parametrize("code", ["9223372036854775808", "-9223372036854775809", "1" * 40])
def test_result_code_beyond_int64_is_a_protocol_error(code):
    for body in (f"<response><result>{code}</result></response>".encode(), code.encode()):
        with pytest.raises(sc.GatewayProtocolError, match="out of range"):
            parse_response(body, endpoint="send_sms")
    assert parse_response(b"<response><result>9223372036854775807</result></response>", endpoint="x").ok


def test_huge_result_code_fails_the_campaign_cleanly(sandbox, tmp_path):
    """Before: OverflowError inside send_campaign. Now the batch is an unreadable answer (unknown)."""
    huge = http(b"<response><result>" + b"9" * 30 + b"</result></response>")
    plan = sc.plan_campaign(sc.check_numbers(pd.DataFrame({"mobile": [A]})), "hi【店】")
    info = http(b"<response><result>1</result><sms_left>100</sms_left></response>")

    def answer(request: bytes, sock: socket.socket, stop: threading.Event) -> None:
        sock.sendall(info if b"user_info" in request.split(b"\r\n")[0] else huge)

    with scripted_server(answer) as (url, _):
        gw = sc.Gateway(USER, PASSWORD, base_url=url)
        results = sc.send_campaign(plan, gw, journal=tmp_path / "j.sqlite", progress=False)
    assert results["status"].tolist() == ["unknown"]


def test_user_info_is_retried_and_send_is_not(sandbox):
    with sandbox.gateway(USER, PASSWORD, retry_backoff=0) as gw:
        sandbox.fail_next("user_info", -100, times=2)
        assert gw.user_info().ok
        sandbox.fail_next("send_sms", -100)
        assert gw.send_sms([A], "hi").code == -100
    calls = sandbox.calls
    assert (calls["endpoint"] == "user_info").sum() == 3
    assert (calls["endpoint"] == "send_sms").sum() == 1


def test_user_info_retries_transport_failures_and_5xx():
    count = {"n": 0}

    def flaky(request: bytes, sock: socket.socket, stop: threading.Event) -> None:
        count["n"] += 1
        if count["n"] == 1:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")  # reset
        elif count["n"] == 2:
            sock.sendall(http(b"busy", status="503 Service Unavailable"))
        else:
            sock.sendall(http(b"<response><result>7</result><sms_left>5</sms_left></response>"))

    with scripted_server(flaky) as (url, seen):
        gw = sc.Gateway(USER, PASSWORD, base_url=url, retry_backoff=0)
        assert gw.user_info().fields["sms_left"] == 5
    assert len(seen) == 3
    with scripted_server(_send(http(b"busy", status="503 Service Unavailable"))) as (url, seen):
        with pytest.raises(sc.GatewayHTTPError):
            sc.Gateway(USER, PASSWORD, base_url=url, retry_backoff=0, read_retries=4).user_info()
    assert len(seen) == 5


def test_get_sms_is_retried_only_when_nothing_can_have_been_fetched(sandbox):
    with sandbox.gateway(USER, PASSWORD, retry_backoff=0) as gw:
        sandbox.fail_next("get_sms", -100, times=2)
        assert gw.get_sms().code == -122
    assert (sandbox.calls["endpoint"] == "get_sms").sum() == 3
    # A connection lost after sending: the gateway may have marked replies fetched; never asked again.
    with hostile_gateway(None) as url:
        with pytest.raises(sc.GatewayDisconnected):
            sc.Gateway(USER, PASSWORD, base_url=url, retry_backoff=0).get_sms()
    with scripted_server(
        lambda r, s, e: s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01" + b"\0" * 7)
    ) as (
        url,
        seen,
    ):
        with pytest.raises(sc.GatewayDisconnected):
            sc.Gateway(USER, PASSWORD, base_url=url, retry_backoff=0).get_sms()
    assert len(seen) == 1


def test_preflight_user_info_survives_transient_failures(sandbox, tmp_path):
    plan = sc.plan_campaign(sc.check_numbers(pd.DataFrame({"mobile": [A]})), "hi【店】")
    sandbox.fail_next("user_info", -100, times=2)
    with sandbox.gateway(USER, PASSWORD, retry_backoff=0) as gw:
        results = sc.send_campaign(plan, gw, journal=tmp_path / "j.sqlite", progress=False)
    assert results["status"].tolist() == ["accepted"]
    assert len(sandbox.ledger) == 1


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_no_secret_anywhere_on_the_exception_chain(method):
    card = "CARD-PW-4242"
    scenarios = [
        f"http://127.0.0.1:{free_port()}",  # refused
    ]
    errors: list[BaseException] = []
    for url in scenarios:
        with pytest.raises(sc.GatewayError) as info:
            sc.Gateway(USER, PASSWORD, base_url=url, method=method, retry_backoff=0).recharge(
                "C", card, USER
            )
        errors.append(info.value)
    with hostile_gateway(None) as url:  # reset after sending
        with pytest.raises(sc.GatewayError) as info:
            sc.Gateway(USER, PASSWORD, base_url=url, method=method).recharge("C", card, USER)
        errors.append(info.value)
    slow = http(b"<response><result>1</result></response>")
    with hostile_gateway(slow, delay=600) as url:  # read timeout (answered when the server stops)
        with pytest.raises(sc.GatewayTimeout) as info:
            sc.Gateway(USER, PASSWORD, base_url=url, method=method, timeout=(2, 0.2)).recharge(
                "C", card, USER
            )
        errors.append(info.value)
    for error in errors:
        chain = _chain(error)
        assert len(chain) == 1, [type(e).__name__ for e in chain]  # nothing hangs off it
        for item in chain:
            text = f"{item!s} {item!r} {vars(item)!r}"
            assert PASSWORD not in text and card not in text and "s3cret" not in text


def test_connection_errors_name_the_url_and_the_sandbox():
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(sc.GatewayConnectionError) as info:
        sc.Gateway(USER, PASSWORD, base_url=url, retry_backoff=0).user_info()
    assert url in str(info.value) and "sandbox is running" in str(info.value)
    assert "check the URL" in str(info.value)


def test_reply_contents_are_kept_exactly(sandbox):
    tricky = ["\t=1+1", " 退订 ", "a\nb", "  "]
    body = (
        "<response><result>1</result><message>ok</message>"
        + "".join(
            f"<sms><sender> 13800138000 </sender><content>{c}</content>"
            "<receivetime>2026-01-01 10:00:00</receivetime></sms>"
            for c in ("\t=1+1", " TD ")
        )
        + "</response>"
    ).encode()
    items = parse_response(body, endpoint="get_sms").items
    assert [i["content"] for i in items] == ["\t=1+1", " TD "] and items[0]["sender"] == A
    with sandbox.gateway(USER, PASSWORD) as gw:
        gw.bind_mobile([A])
        for text in tricky:
            sandbox.reply(A, text, USER)
        got = sc.fetch_replies(gw)
    assert got["content"].tolist() == tricky


@pytest.mark.parametrize("value", ["2026-11-27", "2030-01-02", " 2030-01-02 "])
def test_date_only_sendtime_is_refused(value):
    from smscampaign.wire.protocol import resolve_sendtime

    with pytest.raises(sc.PlanError, match="date without a time"):
        resolve_sendtime(value, now=datetime(2026, 1, 1))


# -- the host's own pages and other non-XML answers (issue 18) ----------------------------------------

IIS_403 = (
    "<!DOCTYPE html><html><head><title>403 Forbidden</title></head>"
    "<body><h2>您未被授权查看该页</h2></body></html>"
).encode()


def test_html_403_from_the_host_says_the_ip_is_not_allowed():
    with hostile_gateway(http(IIS_403, status="403 Forbidden", content_type="text/html")) as url:
        with pytest.raises(sc.GatewayHTTPError) as info:
            sc.Gateway(USER, PASSWORD, base_url=url).send_sms([A], "hi")
    assert info.value.status == 403
    assert "IP address is not allowed" in str(info.value) and "−104" in str(info.value)


@pytest.mark.parametrize(
    ("body", "quoted"),
    [
        (b"<!DOCTYPE html>\r\n<html><body><result>1</result></body></html>", "<!DOCTYPE html>"),
        (b"\n  <html><body><response><result>5</result></response></body></html>", "<html><body>"),
        (b"Service Unavailable\r\nRetry later", "Service Unavailable"),
        (b'<?xml version="1.0"?>\nOK 1', "OK 1"),
    ],
)
def test_non_xml_answers_quote_their_first_line_and_never_succeed(body, quoted):
    with hostile_gateway(http(body, content_type="text/html")) as url:
        with pytest.raises(sc.GatewayProtocolError) as info:
            sc.Gateway(USER, PASSWORD, base_url=url).send_sms([A], "hi")
    assert quoted in str(info.value)


def test_quoted_first_line_hides_secrets():
    with pytest.raises(sc.GatewayProtocolError) as info:
        parse_response(b"error for /send_sms.aspx?username=u&password=hunter2", endpoint="send_sms")
    assert "hunter2" not in str(info.value) and "password=***" in str(info.value)


def test_send_voice_is_validated_before_sending(sandbox, gateway):
    for receiver, code in [([A], "1234"), (A + "," + A, "1234"), (A, "12a4"), (A, 1234), (A, "123")]:
        with pytest.raises(sc.ConfigError):
            gateway.send_voice(receiver, code)
    assert sandbox.calls.empty
    assert gateway.send_voice(A, "0427").ok


def test_user_stat_refused_raises_account_error(sandbox):
    with pytest.raises(sc.AccountError) as info:
        sandbox.gateway(USER, "wrong").user_stat()
    assert info.value.code == -103


def test_user_stat_is_read_only_and_retried(sandbox):
    sandbox.fail_next("user_stat", -100, times=2)
    with sandbox.gateway(USER, PASSWORD, retry_backoff=0) as gw:
        frame = gw.user_stat()
    assert list(frame.columns) == ["period", "kind", "sent"]
    assert (sandbox.calls["endpoint"] == "user_stat").sum() == 3


@settings(max_examples=400, deadline=None)
@given(
    st.dictionaries(st.text(min_size=1), st.text() | st.from_regex(r"[0-9]{11}(,[0-9]{11}){0,5}")),
    st.sampled_from(["utf-8", "gbk", "big5"]),
)
def test_form_body_is_what_urlencode_gives(values: dict[str, str], codec: str) -> None:
    # the request body is built without urlencode's per-character quoting of number lists
    try:
        expected = urlencode(values, encoding=codec)
    except UnicodeEncodeError:
        return
    assert encode_form(values, codec) == expected


def test_deadline_still_cuts_a_call_after_many_quick_ones() -> None:
    # the watchdog is only woken for a deadline earlier than its next wake-up
    dog = Watchdog()
    for _ in range(50):
        dog.finish(dog.start(time.monotonic() + 60))
    left, right = socket.socketpair()
    with left, right:
        call = dog.start(time.monotonic() + 0.05)
        dog.watch(call, left)
        left.settimeout(10)
        assert left.recv(1) == b""  # shut down by the watchdog, not by the 10 s timeout
        assert call.fired


def _clear_proxies(monkeypatch) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)


def test_the_environments_proxy_is_used_and_read_when_the_gateway_is_made(monkeypatch):
    # requests' own lookup of the environment, done once per Gateway instead of once per call
    answer = http(b"<response><result>1</result><sms_left>7</sms_left></response>")
    with scripted_server(_send(answer)) as (proxy, seen):
        _clear_proxies(monkeypatch)
        monkeypatch.setenv("http_proxy", proxy)
        gw = sc.Gateway(USER, PASSWORD, base_url="http://127.0.0.1:9")  # nothing listens on 9
        monkeypatch.delenv("http_proxy")  # later changes do not matter to this Gateway
        with gw:
            info = gw.user_info()
    assert info.ok and info.fields["sms_left"] == 7
    assert seen[0].startswith(b"POST http://127.0.0.1:9/utf8/interface/user_info.aspx HTTP/1.1")


def test_no_proxy_of_the_environment_is_honoured(monkeypatch, sandbox):
    _clear_proxies(monkeypatch)
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{free_port()}")  # a proxy that is not there
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    with sc.Gateway(USER, PASSWORD, base_url=sandbox.url) as gw:
        assert gw.user_info().ok


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.from_regex(r"1[0-9]{10}", fullmatch=True)
        | st.from_regex(r"\s*1[0-9]{10}\s*", fullmatch=True)
        | st.integers(min_value=0, max_value=10**12)
        | st.text(max_size=4),
        max_size=8,
    )
)
def test_receivers_are_joined_as_str_and_strip_of_each_would(numbers: list[object]) -> None:
    from smscampaign.wire.form import join_numbers

    assert join_numbers(numbers) == ",".join(str(n).strip() for n in numbers)
    assert join_numbers(tuple(numbers)) == ",".join(str(n).strip() for n in numbers)
