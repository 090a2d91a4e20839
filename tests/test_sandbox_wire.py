"""The sandbox as third-party clients meet it on the wire: raw bytes, malformed requests, the host's
pages, disconnects — against the standalone server, over raw sockets on 127.0.0.1."""

from __future__ import annotations

import re
import signal
import socket
import struct
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote_from_bytes, urlsplit

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smscampaign.wire.gateway import parse_response

A, B = "13800138000", "13900139001"
STATUS_LINE = re.compile(rb"HTTP/1\.1 [1-5]\d\d [^\r\n]*\r\n")


@dataclass
class Standalone:
    url: str
    proc: subprocess.Popen
    stderr_path: Path

    @property
    def address(self) -> tuple[str, int]:
        parts = urlsplit(self.url)
        return parts.hostname or "", parts.port or 0

    @property
    def stderr(self) -> str:
        """What the server wrote on stderr so far."""
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def add_account(self, username: str, sms_left: int = 1000) -> None:
        account = {"username": username, "password": "secret", "sms_left": sms_left}
        assert (
            requests.post(self.url + "/_sandbox/accounts", json=account, timeout=10).status_code == 201
        )

    def ledger(self, account: str) -> list[dict]:
        rows = requests.get(self.url + "/_sandbox/ledger", timeout=10).json()
        return [row for row in rows if row["account"] == account]


def _first_line(proc: subprocess.Popen, timeout: float = 60.0) -> str:
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    if not line:
        proc.kill()
        raise AssertionError(f"no line from the child within {timeout} s")
    return line[0].strip()


@contextmanager
def standalone(folder: Path, *options: str) -> Iterator[Standalone]:
    """``python -m smscampaign.sandbox`` in its own process, its stderr in a file tests read; ended with
    SIGTERM, which stops the server and joins every connection thread before the process exits."""
    stderr_path = folder / "stderr.txt"
    with stderr_path.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "smscampaign.sandbox", "--port", "0", *options],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    box = Standalone(_first_line(proc), proc, stderr_path)
    try:
        yield box
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
        proc.stdout.close()


@pytest.fixture(scope="module")
def wire(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Standalone]:
    """One standalone sandbox for this module's tests (each uses its own account)."""
    with standalone(tmp_path_factory.mktemp("wire")) as box:
        yield box
    assert "Traceback" not in box.stderr, box.stderr


def exchange(address: tuple[str, int], data: bytes, timeout: float = 20.0) -> bytes:
    """Send raw bytes, half-close, and read everything the server answers until it closes."""
    with socket.create_connection(address, timeout=timeout) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def body_of(answer: bytes) -> bytes:
    """The body of the first response in ``answer`` (keep-alive may have sent more after it)."""
    head, _, rest = answer.partition(b"\r\n\r\n")
    length = re.search(rb"(?im)^content-length: *(\d+)", head)
    return rest[: int(length.group(1))] if length else rest


# -- a third-party client: URLs built by string concatenation, raw bytes, no percent-encoding ----------

TEXTS = {
    # 码 is e7 a0 81 in UTF-8 (byte 0xA0), 典 is e5 85 b8 (byte 0x85): both broke the stdlib parser.
    "utf8": "您的验证码是8848，典藏版已发货【演示网】",
    "gbk": "您的验证码是8848，请于十分钟内填写。如非本人操作请忽略【演示网】",  # 29+ characters
}


def php_style_get(path: str, charset: str, fields: dict[str, str], host: str) -> bytes:
    """What `file_get_contents("http://host/…?a=" . $a . "&b=" . $b)` puts on the wire."""
    codec = {"utf8": "utf-8", "gbk": "gbk"}[charset]
    query = b"&".join(k.encode() + b"=" + v.encode(codec) for k, v in fields.items())
    return b"GET " + path.encode() + b"?" + query + b" HTTP/1.0\r\nHost: " + host.encode() + b"\r\n\r\n"


@pytest.mark.parametrize("path", ["/{charset}/interface/send_sms.aspx", "/{charset}/sendsms.aspx"])
def test_third_party_raw_get_urls_reach_the_ledger_exactly(wire, path):
    account = "php" + str(len(path))
    wire.add_account(account)
    host, port = wire.address
    for charset, text in TEXTS.items():
        fields = {"username": account, "password": "secret", "receiver": f"{A},{B}", "content": text}
        request = php_style_get(path.format(charset=charset), charset, fields, f"{host}:{port}")
        assert b"\xa0" in request or charset == "gbk"
        answer = exchange(wire.address, request)
        assert STATUS_LINE.match(answer), answer[:200]
        parsed = parse_response(body_of(answer), endpoint="send_sms", charset=charset)
        assert parsed.ok, (charset, parsed)
    assert [(r["receiver"], r["content"]) for r in wire.ledger(account)] == [
        (number, text) for text in TEXTS.values() for number in (A, B)
    ]
    assert "Traceback" not in wire.stderr, wire.stderr


def test_percent_encoded_and_raw_bytes_decode_alike(wire):
    wire.add_account("mixed")
    text = "测试【演示网】"
    raw = text.encode("gbk")
    for content in (raw, quote_from_bytes(raw).encode()):
        request = (
            b"GET /gbk/interface/send_sms.aspx?username=mixed&password=secret&receiver="
            + A.encode()
            + b"&content="
            + content
            + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        assert parse_response(body_of(exchange(wire.address, request)), endpoint="send_sms").ok
    assert [r["content"] for r in wire.ledger("mixed")] == [text, text]


# -- malformed requests: always a status line, never a traceback -----------------------------------

MALFORMED = {
    b"GARBAGE\r\n\r\n": 400,
    b"GET\r\n\r\n": 400,
    b"GET /utf8/interface/user_info.aspx\r\n\r\n": 400,  # HTTP/0.9 is not served
    b"GET / HTTP/2.0\r\n\r\n": 505,
    b"GET /a\x00b HTTP/1.1\r\n\r\n": 400,
    b"GET / HTTP/1.1\r\nno colon here\r\n\r\n": 400,
    b"GET / HTTP/1.1\r\n folded: x\r\n\r\n": 400,
    b"POST /utf8/interface/send_sms.aspx HTTP/1.1\r\nContent-Length: x1\r\n\r\n": 400,
    b"POST /utf8/interface/send_sms.aspx HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc": 400,
    b"POST / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n": 413,
    b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n": 501,
    b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n": 400,
    b"GET / HTTP/1.1\r\nHost: x\r\n": 400,  # headers never end
    b"\r\n\r\n": 400,
    b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\n\r\n": 431,
    b"GET /\x85\xa0 HTTP/1.1\r\n\r\n": 404,  # the bytes that made the stdlib drop the line
    b"BREW /utf8/interface/user_info.aspx HTTP/1.1\r\n\r\n": 405,
}


def test_malformed_requests_get_a_status_line_and_no_traceback(wire):
    wire.add_account("demo", sms_left=10)
    for request, status in MALFORMED.items():
        answer = exchange(wire.address, request)
        assert STATUS_LINE.match(answer), (request[:60], answer[:100])
        assert answer.startswith(f"HTTP/1.1 {status} ".encode()), (request[:60], answer[:60])
    chunked = (
        b"POST /utf8/interface/user_info.aspx HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
        b"Connection: close\r\n\r\n10\r\nusername=demo&pa\r\nf\r\nssword=secret&x\r\n0\r\n\r\n"
    )
    info = parse_response(body_of(exchange(wire.address, chunked)), endpoint="user_info")
    assert info.fields["sms_left"] == 10
    assert wire.ledger("demo") == []
    assert "Traceback" not in wire.stderr and "Error" not in wire.stderr, wire.stderr


def test_unknown_paths_get_an_iis_html_404_that_no_client_reads_as_success(sandbox):
    for path in ("/utf8/interface/nothing.aspx", "/latin1/interface/send_sms.aspx", "/", "/x.php"):
        answer = requests.get(sandbox.url + path, timeout=5)
        assert answer.status_code == 404 and answer.headers["Content-Type"].startswith("text/html")
        assert "<result>" not in answer.text and "404" in answer.text
        with pytest.raises(ValueError):
            parse_response(answer.content, endpoint="send_sms")


# -- fuzz: random bytes in request lines, headers and bodies -----------------------------------------

PATHS = [
    "/utf8/interface/send_sms.aspx",
    "/gbk/interface/send_sms.aspx",
    "/gbk/sendsms.aspx",
    "/big5/interface/user_info.aspx",
    "/utf8/interface/user_stat.aspx",
    "/_sandbox/ledger",
    "/nowhere",
]
noise = st.binary(max_size=40)
texts = st.text(alphabet="测试验证码典好的abc123【】", min_size=1, max_size=30)


@st.composite
def requests_on_the_wire(draw: st.DrawFn) -> tuple[bytes, tuple[str, str] | None]:
    """(raw request, the (receiver, content) it validly sends, if it is a valid send)."""
    kind = draw(st.sampled_from(["valid", "mutated", "random"]))
    if kind == "random":
        return draw(st.binary(min_size=1, max_size=300)), None
    charset = draw(st.sampled_from(["utf8", "gbk"]))
    codec = {"utf8": "utf-8", "gbk": "gbk"}[charset]
    receiver, content = draw(st.sampled_from([A, B])), draw(texts)
    form = (
        b"username=fuzz&password=secret&receiver="
        + receiver.encode()
        + b"&content="
        + content.encode(codec)
    )
    method = draw(st.sampled_from(["GET", "POST"]))
    path = f"/{charset}/interface/send_sms.aspx".encode()
    if method == "GET":
        head, body = b"GET " + path + b"?" + form + b" HTTP/1.1\r\nHost: x\r\n", b""
    else:
        head = b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n" % len(form)
        body = form
    if kind == "valid":
        return head + b"Connection: close\r\n\r\n" + body, (receiver, content)
    part = draw(st.sampled_from(["line", "header", "body", "form", "path"]))
    junk = draw(noise)
    if part == "form":  # random bytes inside the form itself, Content-Length kept right
        form = junk + b"&" + form + b"&" + draw(noise)
        path += b"?" + draw(noise).replace(b" ", b"") if method == "POST" else b""
        line = b"POST " + path + b" HTTP/1.1\r\nHost: x\r\n"
        return line + b"Content-Length: %d\r\n\r\n" % len(form) + form, None
    if part == "line":
        head = draw(noise) + head[: draw(st.integers(0, len(head)))] + junk + b"\r\n"
    elif part == "header":
        head += junk + b": " + draw(noise) + b"\r\n" + draw(noise) + b"\r\n"
    elif part == "path":
        head = b"GET " + draw(st.sampled_from(PATHS)).encode() + junk + b" HTTP/1.1\r\n"
    return head + b"\r\n" + body + (junk if part == "body" else b""), None


def test_fuzzed_requests_always_get_an_answer_and_never_a_traceback(wire):
    wire.add_account("fuzz", sms_left=1_000_000)
    valid_sends: Counter[tuple[str, str]] = Counter()
    accepted = 0

    @settings(
        max_examples=250,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(requests_on_the_wire())
    def check(case: tuple[bytes, tuple[str, str] | None]) -> None:
        nonlocal accepted
        request, valid = case
        answer = exchange(wire.address, request)
        assert STATUS_LINE.match(answer), (request[:80], answer[:80])
        if valid is not None:
            assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]
            valid_sends[valid] += 1
        if answer.startswith(b"HTTP/1.1 200 ") and b"<result>" in answer:
            parsed = parse_response(body_of(answer), endpoint="send_sms")
            if parsed.ok and parsed.message == "短信发送成功":
                accepted += 1  # every request here names one receiver
                assert valid is not None or b"password=secret" in request

    check()
    ledger = Counter((r["receiver"], r["content"]) for r in wire.ledger("fuzz"))
    # The ledger holds what accepted calls sent, and every valid send exactly as it was sent.
    assert ledger.total() == accepted and ledger & valid_sends == valid_sends
    assert "Traceback" not in wire.stderr and "Error" not in wire.stderr, wire.stderr[-2000:]


# -- clients that vanish (issue 17, item 6) -----------------------------------------------------------

KILLED_CLIENT = """
import socket, sys
sock = socket.create_connection((sys.argv[1], int(sys.argv[2])))
sock.sendall(bytes.fromhex(sys.argv[3]))
print("sent", flush=True)
sys.stdin.read()  # wait to be killed
"""


def _reset(sock: socket.socket) -> None:
    """Close with a RST, as a crashed client's kernel does."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def test_clients_that_disconnect_cost_no_traceback(tmp_path):
    form = b"username=gone&password=secret&receiver=" + A.encode() + b"&content=" + "再见".encode()
    request = (
        b"POST /utf8/interface/send_sms.aspx HTTP/1.1\r\nHost: x\r\n"
        b"Content-Length: %d\r\n\r\n" % len(form) + form
    )
    with standalone(tmp_path, "--account", "gone:secret:100", "--latency", "0.3") as box:
        # Reset mid-request line, mid-headers, mid-body, and after the whole request (while the
        # sandbox is still in its latency, so its answer meets a closed connection).
        for cut in (5, 40, len(request) - 3, len(request)):
            sock = socket.create_connection(box.address, timeout=10)
            sock.sendall(request[:cut])
            _reset(sock)
        # A client process killed (SIGKILL) right after sending, before the answer comes.
        child = subprocess.Popen(
            [sys.executable, "-c", KILLED_CLIENT, *map(str, box.address), request.hex()],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert _first_line(child) == "sent"
        child.kill()
        child.wait(timeout=10)
        child.stdin.close()
        child.stdout.close()
        # A client that stops reading: keep-alive requests pile up, then it vanishes.
        sock = socket.create_connection(box.address, timeout=10)
        sock.sendall(request * 3)
        _reset(sock)
        assert requests.get(box.url + "/_sandbox/ledger", timeout=10).ok  # still serving
    stderr = box.stderr  # complete: the process joined every connection before exiting
    assert "Traceback" not in stderr and "Exception" not in stderr, stderr
    assert len(stderr.splitlines()) <= 6  # at most one quiet line per vanished client


def test_expect_100_continue_is_honoured(wire):
    wire.add_account("curl")
    form = b"username=curl&password=secret&receiver=" + A.encode() + b"&content=" + "继续".encode()
    head = (
        b"POST /utf8/interface/send_sms.aspx HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
        b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(form)
    )
    with socket.create_connection(wire.address, timeout=20) as sock:
        sock.sendall(head)
        interim = b""
        while b"\r\n\r\n" not in interim:
            interim += sock.recv(1)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(form)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    assert parse_response(body_of(b"".join(chunks)), endpoint="send_sms").ok
    assert [r["content"] for r in wire.ledger("curl")] == ["继续"]


# -- multipart/form-data: PHP curl with an array of fields (issue 28, item 18) ----------------------

MULTIPART_TEXTS = {
    "utf8": "您的验证码是8848，典藏版已发货【演示网】",
    "gbk": "您的验证码是8848，请于十分钟内填写【演示网】",
    "big5": "您的驗證碼是8848，請於十分鐘內填寫【演示網】",
}
CODECS = {"utf8": "utf-8", "gbk": "gbk", "big5": "cp950"}


def php_curl_multipart(path: str, fields: dict[str, bytes], host: str) -> bytes:
    """What `curl_setopt($ch, CURLOPT_POSTFIELDS, $fields_array)` puts on the wire: one part a
    field, the bytes of the script's own encoding, no charset anywhere."""
    boundary = b"------------------------d74496d66958873e"
    body = (
        b"".join(
            b"--"
            + boundary
            + b'\r\nContent-Disposition: form-data; name="'
            + name.encode()
            + b'"\r\n\r\n'
            + value
            + b"\r\n"
            for name, value in fields.items()
        )
        + b"--"
        + boundary
        + b"--\r\n"
    )
    return (
        b"POST " + path.encode() + b" HTTP/1.1\r\nHost: " + host.encode()
        + b"\r\nAccept: */*\r\nContent-Length: " + str(len(body)).encode()
        + b"\r\nContent-Type: multipart/form-data; boundary=" + boundary + b"\r\n\r\n" + body
    )  # fmt: skip


@pytest.mark.parametrize("charset", list(MULTIPART_TEXTS))
def test_multipart_form_posts_are_read_as_request_form_does(wire, charset):
    account = "multipart" + charset
    wire.add_account(account)
    text, codec = MULTIPART_TEXTS[charset], CODECS[charset]
    path = f"/{charset}/interface/send_sms.aspx"
    # requests' files=: fields without a filename are form fields …
    fields = {"username": account, "password": "secret", "receiver": A, "content": text}
    answer = requests.post(
        wire.url + path,
        files={name: (None, value.encode(codec)) for name, value in fields.items()},
        timeout=20,
    )
    assert parse_response(answer.content, endpoint="send_sms", charset=charset).ok, answer.content
    # … and a body built by hand as PHP's curl does it, CRLF and all.
    host, port = wire.address
    raw = {**{k: v.encode(codec) for k, v in fields.items()}, "receiver": f"{A},{B}".encode()}
    reply = exchange(wire.address, php_curl_multipart(path, raw, f"{host}:{port}"))
    assert parse_response(body_of(reply), endpoint="send_sms", charset=charset).ok, reply[-300:]
    assert [(r["receiver"], r["content"]) for r in wire.ledger(account)] == [
        (A, text),
        (A, text),
        (B, text),
    ]


def test_multipart_file_parts_are_not_form_fields(wire):
    wire.add_account("multipartfile")
    fields = {"username": (None, "multipartfile"), "password": (None, "secret")}
    # A part with a filename is an upload (Request.Files), never the account's password.
    answer = requests.post(
        wire.url + "/utf8/interface/user_info.aspx",
        files={**fields, "receiver": ("numbers.txt", A.encode())},
        timeout=20,
    )
    assert parse_response(answer.content, endpoint="user_info").ok
    wrong = requests.post(
        wire.url + "/utf8/interface/user_info.aspx",
        files={"username": (None, "multipartfile"), "password": ("p.txt", b"secret")},
        timeout=20,
    )
    assert parse_response(wrong.content, endpoint="user_info").code < 0
