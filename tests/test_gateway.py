"""The gateway client: parsing, charsets, transport failures and secrecy, over real loopback HTTP."""

from __future__ import annotations

import logging
import socket
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest

import smscampaign as sc
from smscampaign.gateway import parse_response, redact
from smscampaign.protocol import format_sendtime, unencodable_characters
from tests.conftest import PASSWORD, USER

A = "13800138000"


@contextmanager
def hostile_gateway(answer: bytes | None, *, delay: float = 0.0) -> Iterator[str]:
    """A real HTTP server on loopback that answers every request with ``answer`` raw bytes
    (``None``: read the request, then reset the connection)."""

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = self.request.recv(65536)
                if not chunk:
                    return
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
                body += self.request.recv(65536)
            if answer is None:
                self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
                return
            threading.Event().wait(delay)
            self.request.sendall(answer)

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
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
    with hostile_gateway(http(b"<response><result>1</result></response>"), delay=1.0) as url:
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
