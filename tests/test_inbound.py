"""Replies: fetch paging and codes, the push receiver end to end under waitress, the store, opt-outs."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime

import pandas as pd
import pytest
import requests
from conftest import readline
from waitress import create_server

import smscampaign as sc
from smscampaign.campaign.replies import MAX_PUSH_BYTES, reply_receiver, reply_server
from smscampaign.wire.protocol import BEIJING
from tests.conftest import PASSWORD, USER

A, B, C = "13800138000", "13900139000", "15000150000"
KEY = "push-k3y-秘密"
WHEN = "2026-01-02 03:04:05"


def beijing(text: str) -> pd.Timestamp:
    return pd.Timestamp(datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING))


# -- fetch_replies ------------------------------------------------------------------------------------


def test_fetch_pages_until_none(sandbox, gateway):
    sandbox.page_size = 3
    gateway.bind_mobile([A, B])
    for i in range(7):
        sandbox.reply(A if i % 2 else B, f"r{i}", USER, receivetime=f"2026-01-02 03:04:0{i}")
    replies = sc.fetch_replies(gateway)
    assert list(replies.columns) == ["sender", "content", "receivetime"]
    assert replies["content"].tolist() == [f"r{i}" for i in range(7)]
    assert replies["receivetime"].iloc[0] == beijing("2026-01-02 03:04:00")
    assert str(replies["receivetime"].dt.tz) == str(BEIJING)
    calls = sandbox.calls
    assert calls[calls["endpoint"] == "get_sms"]["code"].tolist() == [3, 3, 1, -122]
    assert sc.fetch_replies(gateway).empty  # fetched once only


def test_no_replies_is_an_empty_frame_not_an_error(gateway):
    replies = sc.fetch_replies(gateway)
    assert replies.empty
    assert list(replies.columns) == ["sender", "content", "receivetime"]
    assert isinstance(replies["receivetime"].dtype, pd.DatetimeTZDtype)


@pytest.mark.parametrize("code", [-120, -121])
def test_fetch_failure_keeps_earlier_pages(sandbox, gateway, code):
    sandbox.page_size = 2
    gateway.bind_mobile([A])
    for i in range(5):
        sandbox.reply(A, f"r{i}", USER, receivetime=WHEN)
    with sc.ReplyStore(":memory:") as store:
        # First page succeeds, the second fails.
        original = gateway.get_sms
        calls = iter([original, lambda: (sandbox.fail_next("get_sms", code), original())[1]])
        gateway.get_sms = lambda: next(calls)()  # type: ignore[method-assign]
        with pytest.raises(sc.AccountError) as caught:
            sc.fetch_replies(gateway, store=store)
        assert caught.value.code == code
        assert caught.value.info == sc.describe_code(code)
        assert caught.value.replies["content"].tolist() == ["r0", "r1"]
        assert store.to_frame()["content"].tolist() == ["r0", "r1"]


def test_fetch_transport_failure_keeps_earlier_pages(sandbox, gateway):
    sandbox.page_size = 1
    gateway.bind_mobile([A])
    for i in range(3):
        sandbox.reply(A, f"r{i}", USER, receivetime=WHEN)
    original = gateway.get_sms
    answers = iter([original, lambda: (setattr(sandbox, "faults", {"http500": 1.0}), original())[1]])
    gateway.get_sms = lambda: next(answers)()  # type: ignore[method-assign]
    with sc.ReplyStore(":memory:") as store:
        with pytest.raises(sc.GatewayHTTPError) as caught:
            sc.fetch_replies(gateway, store=store)
        assert caught.value.replies["content"].tolist() == ["r0"]
        assert store.to_frame()["content"].tolist() == ["r0"]


def test_fetch_account_codes_raise_account_error(sandbox):
    with sandbox.gateway(USER, "wrong") as gw, pytest.raises(sc.AccountError) as caught:
        sc.fetch_replies(gw)
    assert caught.value.code == -103
    assert caught.value.info.category == "account"
    assert PASSWORD not in str(caught.value)


def test_fetch_writes_store_and_store_dedupes(sandbox, gateway):
    gateway.bind_mobile([A, B])
    sandbox.reply(A, "TD", USER, receivetime=WHEN)
    sandbox.reply(B, "好的😀", USER, receivetime=WHEN)
    with sc.ReplyStore(":memory:") as store:
        fetched = sc.fetch_replies(gateway, store=store)
        assert len(fetched) == 2
        # The same replies again (e.g. pushed as well): nothing new.
        assert store.add(fetched, received_via="push") == 0
        sandbox.reply(A, "TD", USER, receivetime=WHEN)  # a replay the gateway queues again
        sc.fetch_replies(gateway, store=store)
        frame = store.to_frame()
    assert list(frame.columns) == ["sender", "content", "receivetime", "received_via"]
    assert len(frame) == 2
    assert frame["received_via"].tolist() == ["fetch", "fetch"]
    assert set(frame["content"]) == {"TD", "好的😀"}
    assert frame["receivetime"].iloc[0] == beijing(WHEN)


# -- ReplyStore ---------------------------------------------------------------------------------------


def test_store_dedupe_and_types(tmp_path):
    path = tmp_path / "replies.sqlite"
    rows = [
        {"sender": "+86 138 0013 8000", "content": "退订", "receivetime": WHEN},
        {"sender": A, "content": "退订", "receivetime": beijing(WHEN)},  # same reply, as a datetime
        {"sender": A, "content": "退订", "receivetime": "2026-01-02 03:04:06"},  # another time: new
        {"sender": A, "content": "退订 ", "receivetime": WHEN},  # other content: new
    ]
    with sc.ReplyStore(path) as store:
        assert store.add(rows, received_via="push") == 3
        assert store.add(rows[:1], received_via="fetch") == 0
        assert len(store) == 3
    with sc.ReplyStore(path) as again:  # persisted
        frame = again.to_frame()
    assert frame["sender"].tolist() == [A, A, A]
    assert frame["received_via"].tolist() == ["push"] * 3
    assert frame["receivetime"].tolist() == [
        beijing(WHEN),
        beijing(WHEN),
        beijing("2026-01-02 03:04:06"),
    ]


def test_store_rejects_bad_input_atomically():
    with sc.ReplyStore(":memory:") as store:
        with pytest.raises(ValueError, match="received_via"):
            store.add([], received_via="email")
        with pytest.raises(ValueError, match="receivetime"):
            store.add(
                [
                    {"sender": A, "content": "x", "receivetime": WHEN},
                    {"sender": B, "content": "y", "receivetime": "yesterday"},
                ],
                received_via="push",
            )
        assert len(store) == 0
        assert store.to_frame().empty


def test_store_is_thread_safe():
    with sc.ReplyStore(":memory:") as store:

        def worker(n: int) -> None:
            for i in range(50):
                store.add([{"sender": A, "content": f"{i}", "receivetime": WHEN}], received_via="push")

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(store) == 50


# -- push receiver ------------------------------------------------------------------------------------


@pytest.fixture
def store() -> Iterator[sc.ReplyStore]:
    with sc.ReplyStore(":memory:") as s:
        yield s


def _serve(app) -> tuple[str, object, threading.Thread]:
    server = create_server(app, host="127.0.0.1", port=0, threads=2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{server.effective_port}/push", server, thread


def _stop(server, thread: threading.Thread) -> None:
    """Close the listener and the keep-alive connections still open, so the loop ends at once."""
    # The workers first: none of them pulls the trigger once it is closed.
    server.task_dispatcher.shutdown()
    try:
        # Closing happens in the loop's own thread (a trigger thunk): no select() on a closed socket.
        server.trigger.pull_trigger(lambda: [ch.close() for ch in list(server._map.values())])
    except OSError:
        # The trigger's pipe is already gone (seen once in many runs on the version floors): close
        # the channels from here; the loop ends at its next pass over an empty map.
        for channel in list(server._map.values()):
            with contextlib.suppress(OSError):
                channel.close()
    thread.join(timeout=5)
    assert not thread.is_alive()


@pytest.fixture
def receiver(store) -> Iterator[str]:
    url, server, thread = _serve(reply_receiver(KEY, store, charset="gbk"))
    try:
        yield url
    finally:
        _stop(server, thread)


def test_push_end_to_end_right_key(sandbox, gateway, receiver, store, caplog):
    caplog.set_level(logging.DEBUG)
    sandbox.update_account(USER, push_url=receiver, push_key=KEY, push_charset="gbk")
    gateway.bind_mobile([A])
    assert sandbox.reply(A, "退订", USER, receivetime=WHEN)
    assert sandbox.pushes[-1]["ok"] is True and sandbox.pushes[-1]["status"] == 200
    frame = store.to_frame()
    assert frame[["sender", "content"]].values.tolist() == [[A, "退订"]]
    assert frame["receivetime"].tolist() == [beijing(WHEN)]
    assert frame["received_via"].tolist() == ["push"]
    # The same reply fetched later is not stored twice.
    assert len(sc.fetch_replies(gateway, store=store)) == 1
    assert len(store) == 1
    assert KEY not in caplog.text


def test_push_end_to_end_wrong_key(sandbox, gateway, receiver, store, caplog):
    caplog.set_level(logging.DEBUG)
    sandbox.update_account(USER, push_url=receiver, push_key="not-the-key", push_charset="gbk")
    gateway.bind_mobile([A])
    assert sandbox.reply(A, "退订", USER, receivetime=WHEN)
    assert sandbox.pushes[-1]["status"] == 403 and sandbox.pushes[-1]["ok"] is False
    assert len(store) == 0
    assert "not-the-key" not in caplog.text and KEY not in caplog.text


def test_push_without_key_is_forbidden(sandbox, gateway, receiver, store):
    sandbox.update_account(USER, push_url=receiver, push_key=None, push_charset="gbk")
    gateway.bind_mobile([A])
    sandbox.reply(A, "T", USER, receivetime=WHEN)
    assert sandbox.pushes[-1]["status"] == 403
    assert len(store) == 0


@pytest.mark.timeout(120)
def test_real_pushes_are_served_while_500_slow_connections_are_open(store):
    # 500 clients that opened a connection and drip a request head that never ends (slowloris):
    # waitress's default connection_limit of 100 would leave the real push waiting until they go.
    server = reply_server(reply_receiver(KEY, store), host="127.0.0.1", port=0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    port = server.effective_port
    slow: list[socket.socket] = []
    try:
        for _ in range(500):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(b"POST /push HTTP/1.1\r\nHost: x\r\n")
            slow.append(sock)
        deadline = time.monotonic() + 30  # let the server accept every one of them
        while len(server._map) < 502 and time.monotonic() < deadline:  # + listener and trigger
            for sock in slow[:50]:  # still dripping: these are slow, not idle
                sock.sendall(b"X-Slow: 1\r\n")
            time.sleep(0.05)
        assert len(server._map) == 502  # the 500 slow ones are all open
        for i in range(3):
            form = {"sender": A, "content": f"退订{i}", "receivetime": WHEN, "key": KEY}
            answer = requests.post(f"http://127.0.0.1:{port}/push", data=form, timeout=10)
            assert (answer.status_code, answer.text) == (200, "ok")
        assert len(store) == 3
    finally:
        for sock in slow:
            sock.close()
        _stop(server, thread)


def test_reply_server_refuses_a_connection_limit_below_one(store):
    with pytest.raises(sc.ConfigError, match="connection_limit"):
        reply_server(reply_receiver(KEY, store), connection_limit=0)


@pytest.mark.parametrize("charset", ["utf8", "gbk", "big5"])
def test_push_charsets_and_get(store, charset):
    codec = sc.gateway.python_codec(charset)
    url, server, thread = _serve(reply_receiver(KEY, store, charset=charset))
    try:
        form = {"sender": A, "content": "退訂了", "receivetime": WHEN, "key": KEY}
        answer = requests.get(url, params={k: v.encode(codec) for k, v in form.items()}, timeout=5)
        assert (answer.status_code, answer.text) == (200, "ok")
        # Repeat: still ok (idempotent), stored once.
        answer = requests.post(url, data={k: v.encode(codec) for k, v in form.items()}, timeout=5)
        assert (answer.status_code, answer.text) == (200, "ok")
    finally:
        _stop(server, thread)
    assert store.to_frame()["content"].tolist() == ["退訂了"]


def test_push_rejections(receiver, store):
    good = {"sender": A, "content": "T", "receivetime": WHEN, "key": KEY.encode("gbk")}
    assert requests.post(receiver, data=good, timeout=5).status_code == 200
    assert requests.put(receiver, data=good, timeout=5).status_code == 405
    assert requests.delete(receiver, timeout=5).status_code == 405
    big = {**good, "content": "x" * (MAX_PUSH_BYTES + 1)}
    assert requests.post(receiver, data=big, timeout=5).status_code == 413
    for field, value in [
        ("sender", "12345"),
        ("sender", ""),
        ("receivetime", "2026/01/02"),
        ("receivetime", ""),
    ]:
        answer = requests.post(receiver, data={**good, field: value}, timeout=5)
        assert answer.status_code == 400, (field, value)
    for missing in ("sender", "content", "receivetime"):
        data = {k: v for k, v in good.items() if k != missing}
        assert requests.post(receiver, data=data, timeout=5).status_code == 400, missing
    # Undecodable bytes for the charset (a lone GBK lead byte) -> 400; wrong key beats bad fields.
    assert (
        requests.post(
            receiver,
            data=b"sender=%81&content=x&receivetime=x&key=" + KEY.encode("gbk"),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=5,
        ).status_code
        == 400
    )
    assert (
        requests.post(receiver, data={**good, "key": "nope", "sender": "1"}, timeout=5).status_code
        == 403
    )
    assert len(store) == 1


def test_push_body_limit_without_content_length(store):
    """A chunked body over the limit is refused without being read in full."""
    url, server, thread = _serve(reply_receiver(KEY, store))
    try:

        def chunks():
            for _ in range(20):
                yield b"x" * 8192

        answer = requests.post(url, data=chunks(), timeout=5)
        assert answer.status_code == 413
    finally:
        _stop(server, thread)


def test_receiver_needs_a_key(store):
    with pytest.raises(sc.ConfigError):
        reply_receiver("", store)
    with pytest.raises(sc.ConfigError):
        reply_receiver(KEY, store, charset="latin1")


# -- opt_outs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "opted_out"),
    [
        ("ＴＤ", True),
        ("退订。", True),
        (" stop! ", True),
        ("t", True),
        ("T", True),
        ("td", True),
        ("【退订】", True),
        ("退", True),
        ("取消", True),
        ("Unsubscribe", True),
        ("N", True),
        ("T恤还有吗", False),
        ("", False),
        ("   ", False),
        ("no", False),
        ("退订了吗？我想问问", False),
        ("STOPPED", False),
        ("请退订", False),
        (None, False),
    ],
)
def test_opt_out_keywords(content, opted_out):
    replies = pd.DataFrame({"sender": [A], "content": pd.Series([content], dtype="string")})
    expected = [A] if opted_out else []
    assert sc.opt_outs(replies).tolist() == expected


def test_opt_outs_distinct_normalised_and_from_store():
    replies = pd.DataFrame(
        {
            "sender": [A, "+86 139 0013 9000", A, C, B],
            "content": ["TD", "退订", "退订", "好的", "hello"],
        }
    )
    before = replies.copy()
    result = sc.opt_outs(replies)
    assert result.name == "mobile"
    assert result.tolist() == [A, B]
    pd.testing.assert_frame_equal(replies, before)  # not mutated
    assert sc.opt_outs(replies, keywords=["好的"]).tolist() == [C]
    with sc.ReplyStore(":memory:") as store:
        store.add(replies.assign(receivetime=WHEN), received_via="fetch")
        assert sorted(sc.opt_outs(store)) == [A, B]


def test_opt_outs_feed_plan_suppression():
    recipients = pd.DataFrame({"手机": [A, B, C]})
    suppressed = sc.opt_outs(pd.DataFrame({"sender": [B], "content": ["退订"]}))
    plan = sc.plan_campaign(sc.check_numbers(recipients), "您好【小店】", suppress=suppressed)
    assert plan.recipients["status"].tolist() == ["ready", "suppressed", "ready"]


# -- command line ------------------------------------------------------------------------------------


def test_cli_receive_serves_pushes_then_opt_outs(tmp_path, capsys):
    import os
    import subprocess
    import sys

    from smscampaign.cli import main

    db = tmp_path / "replies.sqlite"
    env = {**os.environ, "PUSH_KEY": KEY}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "smscampaign",
            "receive",
            "--port",
            "0",
            "--key-env",
            "PUSH_KEY",
            "--store",
            str(db),
            "--charset",
            "gbk",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        url = readline(process, 60)
        assert url.startswith("http://127.0.0.1:")
        form = {"sender": A, "content": "退订", "receivetime": WHEN, "key": KEY}
        gbk = {k: v.encode("gbk") for k, v in form.items()}
        assert requests.post(url, data=gbk, timeout=5).text == "ok"
        assert requests.post(url, data={**gbk, "key": b"x"}, timeout=5).status_code == 403
    finally:
        process.terminate()
        _, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert KEY not in err
    assert main(["opt-outs", "--store", str(db)]) == 0
    assert A in capsys.readouterr().out
    out = tmp_path / "optouts.csv"
    assert main(["opt-outs", "--store", str(db), "--out", str(out)]) == 0
    assert pd.read_csv(out, dtype=str, encoding="utf-8-sig")["mobile"].tolist() == [A]


def test_cli_receive_without_key_env(tmp_path, capsys):
    from smscampaign.cli import main

    assert (
        main(["receive", "--key-env", "SMSCAMPAIGN_TEST_UNSET", "--store", str(tmp_path / "r.db")]) == 2
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "SMSCAMPAIGN_TEST_UNSET" in err


# -- a hostile world: charsets, undecodable bytes, unknown fields, Traditional opt-outs (issue 16, 18) --


def _post(url: str, form: list[tuple[str, bytes]], content_type: str) -> requests.Response:
    from urllib.parse import quote_from_bytes

    body = "&".join(f"{name}={quote_from_bytes(value)}" for name, value in form)
    return requests.post(
        url, data=body.encode("ascii"), headers={"Content-Type": content_type}, timeout=5
    )


def _form(content: bytes, key: bytes, **more: bytes) -> list[tuple[str, bytes]]:
    return [
        ("sender", A.encode()),
        ("content", content),
        ("receivetime", WHEN.encode()),
        ("key", key),
        *more.items(),
    ]


@pytest.mark.parametrize(
    ("configured", "declared", "codec"),
    [
        ("utf8", "gbk", "gbk"),  # before: 400, the reply was gone
        ("utf8", "big5", "cp950"),
        ("gbk", "utf-8", "utf-8"),
        ("gbk", None, "utf-8"),  # before: 200 and mojibake 鍙栨秷, the opt-out lost
        ("big5", None, "utf-8"),
        ("gbk", None, "gbk"),
    ],
)
def test_push_decodes_by_declared_charset_never_mojibake(store, configured, declared, codec):
    url, server, thread = _serve(reply_receiver(KEY, store, charset=configured))
    content_type = "application/x-www-form-urlencoded" + (f"; charset={declared}" if declared else "")
    try:
        key = KEY.encode(codec if declared else sc.gateway.python_codec(configured))
        answer = _post(url, _form("取消訂閱".encode(codec), key), content_type)
        assert (answer.status_code, answer.text) == (200, "ok")
    finally:
        _stop(server, thread)
    frame = store.to_frame(details=True)
    assert frame["content"].tolist() == ["取消訂閱"]
    assert frame["decode_error"].tolist() == [False]
    assert sc.opt_outs(store).tolist() == [A]


def test_undecodable_push_is_kept_raw_and_flagged(store, tmp_path, capsys):
    raw = "退订".encode("gbk") + b"\xff"  # GBK, plus a byte no charset here decodes, nothing declared
    url, server, thread = _serve(reply_receiver(KEY, store, charset="utf8"))
    try:
        answer = _post(url, _form(raw, KEY.encode()), "application/x-www-form-urlencoded")
        assert (answer.status_code, answer.text) == (200, "ok")
        # The gateway retrying the same push: still one row.
        assert (
            _post(url, _form(raw, KEY.encode()), "application/x-www-form-urlencoded").status_code == 200
        )
    finally:
        _stop(server, thread)
    assert len(store) == 1
    undecoded = store.undecoded()
    assert undecoded["raw"].tolist() == [raw] and undecoded["decode_error"].tolist() == [True]
    shown = undecoded["content"].iloc[0]
    assert "\\x" in shown and "退" not in shown  # escaped bytes, not mojibake
    assert sc.opt_outs(store).empty
    # It shows up in the command line as needing attention.
    path = tmp_path / "replies.sqlite"
    with sc.ReplyStore(path) as disk:
        disk.add(store.to_frame(details=True), received_via="push")
    from smscampaign.cli import main

    assert main(["opt-outs", "--store", str(path)]) == 0
    err = capsys.readouterr().err
    assert "attention: 1 replies" in err and A in err and "decode" in err


def test_unknown_push_fields_are_kept_in_extra(store):
    url, server, thread = _serve(reply_receiver(KEY, store, charset="gbk"))
    try:
        form = _form("好的".encode("gbk"), KEY.encode("gbk"), type=b"1", 备注="测试".encode("gbk"))
        form = [(n.encode("gbk").decode("latin-1") if not n.isascii() else n, v) for n, v in form]
        from urllib.parse import quote_from_bytes

        body = "&".join(
            f"{quote_from_bytes(n.encode('latin-1'))}={quote_from_bytes(v)}" for n, v in form
        )
        answer = requests.post(
            url,
            data=body.encode("ascii"),
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=gbk"},
            timeout=5,
        )
        assert (answer.status_code, answer.text) == (200, "ok")
    finally:
        _stop(server, thread)
    frame = store.to_frame(details=True)
    assert frame["content"].tolist() == ["好的"]
    import json

    assert json.loads(frame["extra"].iloc[0]) == {"type": "1", "备注": "测试"}
    assert list(store.to_frame().columns) == ["sender", "content", "receivetime", "received_via"]


def test_push_from_the_sandbox_with_type_is_stored(sandbox, gateway, store):
    url, server, thread = _serve(reply_receiver(KEY, store, charset="big5"))
    try:
        sandbox.update_account(USER, push_url=url, push_key=KEY, push_charset="big5")
        gateway.bind_mobile([A])
        assert sandbox.reply(A, "退訂", USER, receivetime=WHEN)
        assert sandbox.pushes[-1]["status"] == 200
    finally:
        _stop(server, thread)
    assert sc.opt_outs(store).tolist() == [A]


def test_store_from_an_earlier_version_gains_the_new_columns(tmp_path):
    import sqlite3

    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE replies (sender TEXT NOT NULL, content TEXT NOT NULL, receivetime TEXT NOT"
            " NULL, received_via TEXT NOT NULL, stored_at TEXT NOT NULL)"
        )
        conn.execute("INSERT INTO replies VALUES (?, 'TD', ?, 'push', ?)", (A, WHEN, WHEN))
    conn.close()
    with sc.ReplyStore(path) as store:
        frame = store.to_frame(details=True)
        assert frame["decode_error"].tolist() == [False] and frame["content"].tolist() == ["TD"]
        assert store.undecoded().empty


@pytest.mark.parametrize(
    "content",
    [
        "退訂",
        "退订",
        "取消訂閱",
        "取消订阅",
        "ｓｔｏｐ",
        "ＴＤ",
        "Ｎ",
        "退訂。",
        "「取消」",
        "Ｕｎｓｕｂｓｃｒｉｂｅ",
    ],
)
def test_opt_outs_cover_traditional_forms_and_full_width(content):
    replies = pd.DataFrame({"sender": [A, B], "content": [content, "好的"]})
    assert sc.opt_outs(replies).tolist() == [A]


def test_opt_out_keywords_are_configurable(tmp_path, capsys):
    replies = pd.DataFrame({"sender": [A, B], "content": ["别再发了", "TD"]})
    assert sc.opt_outs(replies, keywords=["别再发了"]).tolist() == [A]
    path = tmp_path / "r.sqlite"
    with sc.ReplyStore(path) as store:
        store.add(replies.assign(receivetime=WHEN), received_via="fetch")
    from smscampaign.cli import main

    assert main(["opt-outs", "--store", str(path), "--keyword", "别再发了"]) == 0
    out = capsys.readouterr().out
    assert A in out and B in out


def test_misuse_is_a_config_error(store):
    with pytest.raises(sc.ConfigError, match="received_via"):
        store.add([], received_via="mail")
    with pytest.raises(sc.ReplyError, match="receivetime"):
        store.add([{"sender": A, "content": "x", "receivetime": "soon"}], received_via="push")
    with pytest.raises(sc.ReplyError, match="columns"):
        sc.opt_outs(pd.DataFrame({"x": [1]}))
    with pytest.raises(sc.ReplyError, match="DataFrame"):
        sc.opt_outs("13800138000")  # type: ignore[arg-type]
    assert issubclass(sc.ReplyError, sc.ConfigError)


def test_fetch_failure_carries_replies_as_a_constructor_argument(sandbox, gateway):
    gateway.bind_mobile([A])
    sandbox.reply(A, "r0", USER, receivetime=WHEN)
    sandbox.fail_next("get_sms", -120)  # after the first page (page 1 succeeds, then -120)
    with pytest.raises(sc.AccountError) as caught:
        sc.fetch_replies(gateway)
    assert caught.value.code == -120
    frame = pd.DataFrame({"sender": [A]})
    error = sc.GatewayHTTPError("x", status=500, endpoint="get_sms", replies=frame)
    assert error.replies is frame and error.status == 500
    assert sc.AccountError("y", code=-120, replies=frame).replies is frame


def test_replies_command_lists_undecoded_replies_for_attention(tmp_path, capsys):
    from smscampaign.cli import main

    path = tmp_path / "replies.sqlite"
    with sc.ReplyStore(path) as disk:
        record = {"sender": A, "content": "\\xcd\\xcb", "receivetime": WHEN}
        disk.add([{**record, "decode_error": True, "raw": b"\xcd\xcb"}], received_via="push")
        assert disk.undecoded()["raw"].tolist() == [b"\xcd\xcb"]
    assert main(["replies", "--sandbox", "--store", str(path)]) == 0
    err = capsys.readouterr().err
    assert "attention: 1 replies" in err and A in err
