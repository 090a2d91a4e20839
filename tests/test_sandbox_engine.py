"""The sandbox's protocol engine on its own (no sockets), and the seams of the split package."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import smscampaign as sc
import smscampaign.sandbox as sandbox_package
from smscampaign.sandbox import Engine, Sandbox, engine, server
from smscampaign.sandbox.engine import ENGINE_ENDPOINTS, parse_form
from smscampaign.wire import gateway
from smscampaign.wire.gateway import parse_response

A, B = "13800138000", "13900139001"


@pytest.fixture
def box() -> Engine:
    eng = Engine()
    eng.add_account("demo", "pw", sms_left=10)
    return eng


def form(**fields: str) -> bytes:
    return urlencode({"username": "demo", "password": "pw", **fields}, encoding="gbk").encode("ascii")


def test_engine_answers_a_post_without_sockets(box):
    answer = box.handle(
        "POST", b"/gbk/interface/send_sms.aspx", form(receiver=f"{A},{B}", content="您好【店】")
    )
    assert (answer.status, answer.content_type, answer.reset) == (200, "text/xml; charset=gbk", False)
    parsed = parse_response(answer.body, endpoint="send_sms", charset="gbk")
    assert parsed.ok and parsed.message == "短信发送成功"
    assert box.ledger["content"].tolist() == ["您好【店】"] * 2
    assert box.account("demo")["sms_left"] == 8
    assert box.calls[["endpoint", "method", "charset", "username", "code"]].values.tolist() == [
        ["send_sms", "POST", "gbk", "demo", parsed.code]
    ]


def test_engine_answers_a_get_and_refusals(box):
    answer = box.handle("GET", b"/utf8/interface/user_info.aspx?" + form())
    info = parse_response(answer.body, endpoint="user_info")
    assert info.fields["sms_left"] == 10
    wrong = box.handle("GET", b"/utf8/interface/user_info.aspx?username=demo&password=no")
    assert parse_response(wrong.body, endpoint="user_info").code == -103
    assert box.handle("GET", b"/utf8/interface/nothing.aspx").status == 404


def test_engine_faults_are_answers(box):
    box.faults = {"reset": 1.0}
    answer = box.handle("POST", b"/utf8/interface/send_sms.aspx", form(receiver=A, content="x"))
    assert answer.reset and len(box.ledger) == 1  # processed, then the connection is dropped
    box.faults = {"http500": 1.0}
    answer = box.handle("POST", b"/utf8/interface/send_sms.aspx", form(receiver=A, content="x"))
    assert answer.status == 500 and len(box.ledger) == 1  # refused before processing


def _private_engine_uses(module) -> list[str]:
    """Attributes starting with ``_`` read from anything named ``engine`` in ``module``'s source."""
    found = []
    for node in ast.walk(ast.parse(inspect.getsource(module))):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            base = node.value
            name = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")
            if name == "engine":
                found.append(node.attr)
    return found


def test_server_talks_to_the_engine_through_public_methods():
    assert _private_engine_uses(server) == []
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(ast.parse(inspect.getsource(engine)))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")])
    }
    assert not imported & {"socket", "socketserver", "http", "requests", "urllib3"}  # no sockets


def test_public_api_is_where_it_was():
    assert sc.Sandbox is Sandbox and issubclass(Sandbox, Engine)
    from smscampaign.sandbox import LEDGER_COLUMNS, build_parser, main, serve

    assert LEDGER_COLUMNS == ["account", "receiver", "content", "sendtime", "request_id", "accepted_at"]
    assert callable(build_parser) and callable(main) and callable(serve)
    for name in (
        "start",
        "stop",
        "url",
        "gateway",
        "add_account",
        "update_account",
        "account",
        "add_card",
        "fail_next",
        "reply",
        "ledger",
        "calls",
        "pushes",
        "faults",
        "adjust_balance",
    ):
        assert hasattr(Sandbox, name), name


def test_the_protocol_is_documented_in_the_repository():
    root = Path(__file__).resolve().parents[1]
    text = (root / "docs" / "protocol.md").read_text(encoding="utf-8")
    for endpoint in ENGINE_ENDPOINTS:
        assert f"`{endpoint}`" in text, endpoint
    for name in (
        "receiver",
        "content",
        "sendtime",
        "mobile",
        "cardpwd",
        "daytitle",
        "monthtotal",
        "type",
    ):
        assert f"`{name}`" in text, name
    assert "sendsms.aspx" in text and "**[ours]**" in text
    for module in (sandbox_package, engine, server, gateway):
        doc = inspect.getsource(module)
        assert "PROTOCOL.md" not in doc
    assert "docs/protocol.md" in (sandbox_package.__doc__ or "")
    assert "docs/protocol.md" in (gateway.__doc__ or "")


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(
        st.text(st.characters(codec="gbk", exclude_characters="\x00"), min_size=1, max_size=8),
        st.text(st.characters(codec="gbk"), max_size=30),
        max_size=5,
    ),
    st.sampled_from(["utf-8", "gbk"]),
)
def test_parse_form_reads_what_urlencode_writes(fields, codec):
    assert parse_form(urlencode(fields, encoding=codec).encode("ascii"), codec) == fields
    raw = "&".join(f"{k}={v}" for k, v in fields.items() if "&" not in k + v and "=" not in k)
    expected = {k: v for k, v in fields.items() if "&" not in k + v and "=" not in k}
    if "%" not in raw and "+" not in raw:  # raw bytes, as PHP-style clients send them
        assert parse_form(raw.encode(codec), codec) == expected
