"""The sandbox's HTTP/1.1 server and JSON admin API; it talks to the engine only through public methods.

The server reads requests as bytes, the way IIS hands them to ASP.NET: any byte a client puts in the
request target (raw UTF-8 or GBK from clients that build URLs by concatenation, ``0x85`` and ``0xA0``
included) reaches :meth:`Engine.handle <smscampaign.sandbox.engine.Engine.handle>` unchanged. Every
request gets an HTTP answer with a status line — a malformed one a 400 — and a client that disconnects
costs one quiet log line, never a traceback. Answers go out in one write with Nagle off, so keep-alive
clients never stall on delayed ACKs.

The admin API lives under ``/_sandbox/``: ``GET ledger``, ``GET accounts``, ``GET calls``,
``GET pushes``, ``GET voice``, ``POST accounts``, ``POST reply``, ``POST cards``,
``POST maintenance``, ``POST faults``, ``POST fail_next``, ``POST balance``.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import socketserver
import struct
import sys
import threading
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final

import requests

from smscampaign.sandbox.engine import ERROR_PAGE, Answer, Engine, split_target

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Handler", "HttpPusher", "SandboxServer", "admin"]

logger = logging.getLogger(__name__)

MAX_LINE: Final = 16384
MAX_HEADERS: Final = 100
MAX_BODY: Final = 1 << 20
_TOKEN = re.compile(rb"[-!#$%&'*+.^_`|~0-9A-Za-z]+")
_VERSION = re.compile(rb"HTTP/(\d)\.(\d)")
_CONTROL = re.compile(rb"[\x00-\x1f\x7f]")
_DIGITS = re.compile(rb"[0-9]{1,12}")
_HEX = re.compile(rb"[0-9A-Fa-f]{1,8}")
_BLANK = (b"\r\n", b"\n")
_PLAIN = "text/html; charset=utf-8"


class _BadRequest(Exception):
    """The request cannot be read: answer ``status`` and close the connection."""

    def __init__(self, status: int, why: str) -> None:
        super().__init__(why)
        self.status = status
        self.why = why


@dataclass(frozen=True, slots=True)
class _Request:
    method: str
    target: bytes
    headers: dict[str, str]
    body: bytes
    keep_alive: bool


def _json_records(frame: pd.DataFrame, time_column: str) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts: the timestamp column as text, missing values as None."""
    frame = frame.assign(**{time_column: frame[time_column].astype(str)})
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")


def admin(engine: Engine, method: str, name: str, payload: dict[str, Any]) -> tuple[int, Any]:
    """One admin API call: (HTTP status, JSON-ready result). Bad payloads raise ValueError/KeyError."""
    if method == "GET":
        views = {
            "ledger": lambda: _json_records(engine.ledger, "accepted_at"),
            "voice": lambda: _json_records(engine.voice_calls, "accepted_at"),
            "accounts": engine.accounts,
            "calls": lambda: _json_records(engine.calls, "at"),
            "pushes": lambda: engine.pushes,
        }
        if name in views:
            return 200, views[name]()
    if method != "POST":
        return 404, {"error": f"no {method} /_sandbox/{name}"}
    if name == "accounts":
        engine.add_account(**payload)
        return 201, engine.account(payload["username"])
    if name == "reply":
        return 200, {"queued": engine.reply(**payload)}
    if name == "cards":
        engine.add_card(**payload)
        return 201, {"number": payload["number"]}
    if name == "maintenance":
        engine.maintenance = bool(payload.get("on", True))
        return 200, {"maintenance": engine.maintenance}
    if name == "faults":
        engine.faults = payload
        return 200, engine.faults
    if name == "fail_next":
        engine.fail_next(**payload)
        return 200, {"ok": True}
    if name == "balance":
        account, delta = payload["account"], payload["delta"]
        return 200, {"account": account, "sms_left": engine.adjust_balance(account, delta)}
    return 404, {"error": f"no POST /_sandbox/{name}"}


def _admin_answer(engine: Engine, method: str, name: str, body: bytes) -> Answer:
    try:
        payload = json.loads(body.decode("utf-8")) if body else {}
        if not isinstance(payload, dict):
            raise ValueError("expected a JSON object")
        status, result = admin(engine, method, name, payload)
    except (ValueError, TypeError, KeyError) as exc:  # UnicodeDecodeError and ConfigError included
        status, result = 400, {"error": str(exc)}
    data = json.dumps(result, ensure_ascii=False, default=str).encode("utf-8")
    return Answer(status, "application/json; charset=utf-8", data)


class HttpPusher:
    """Posts reply pushes (form bodies) to receivers over one keep-alive session (:meth:`close`)."""

    def __init__(self, timeout: float = 5.0) -> None:
        self.timeout = timeout
        self._session = requests.Session()

    def __call__(self, url: str, body: bytes, charset: str) -> dict[str, Any]:
        outcome: dict[str, Any] = {"status": None, "ok": False}
        try:
            answer = self._session.post(
                url,
                data=body,
                timeout=self.timeout,
                headers={"Content-Type": f"application/x-www-form-urlencoded; charset={charset}"},
            )
            outcome["status"] = answer.status_code
            outcome["ok"] = answer.status_code == 200 and answer.text.strip().lower() == "ok"
        except requests.RequestException as exc:
            outcome["error"] = type(exc).__name__
        return outcome

    def close(self) -> None:
        self._session.close()


class Handler(socketserver.StreamRequestHandler):
    """One connection: requests read as bytes, answered by the engine (or the admin API), keep-alive."""

    server: SandboxServer
    # One write per answer with Nagle off: no 40 ms delayed-ACK stall per keep-alive request.
    disable_nagle_algorithm = True
    timeout = 120
    server_version = "smscampaign-sandbox"

    def handle(self) -> None:
        try:
            while self._serve_one():
                pass
        except OSError as exc:  # reset, broken pipe, idle timeout: the client is gone
            logger.info("sandbox: connection from %s ended (%s)", self.client_address[0], exc)

    def _serve_one(self) -> bool:
        """Read and answer one request; False when the connection is to be closed."""
        try:
            request = self._read_request()
        except _BadRequest as bad:
            logger.debug("sandbox: %d for %s (%s)", bad.status, self.client_address[0], bad.why)
            page = f"<html><body><h1>{bad.status} {_reason(bad.status)}</h1></body></html>"
            self._write(Answer(bad.status, _PLAIN, page.encode()), keep_alive=False)
            return False
        if request is None:
            return False
        segments, _ = split_target(request.target)
        if len(segments) == 2 and segments[0] == "_sandbox":
            answer = _admin_answer(self.server.engine, request.method, segments[1], request.body)
        else:
            try:
                answer = self.server.engine.handle(
                    request.method, request.target, request.body, request.headers, self.client_address[0]
                )
            except Exception:  # a bug of ours: still an answer, and the traceback in the log
                logger.exception("sandbox: error answering %s", self.client_address[0])
                answer = Answer(500, _PLAIN, ERROR_PAGE)
        if answer.reset:
            # Drop the connection with a RST and no answer: the client cannot know what happened.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False
        logger.debug("sandbox %s /%s -> %d", request.method, "/".join(segments), answer.status)
        self._write(answer, keep_alive=request.keep_alive, head_only=request.method == "HEAD")
        return request.keep_alive

    def _write(self, answer: Answer, *, keep_alive: bool, head_only: bool = False) -> None:
        head = (
            f"HTTP/1.1 {answer.status} {_reason(answer.status)}\r\nServer: {self.server_version}\r\n"
            f"Content-Type: {answer.content_type}\r\nContent-Length: {len(answer.body)}\r\n"
            f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
        )
        self.wfile.write(head.encode("latin-1") + (b"" if head_only else answer.body))

    def _line(self) -> bytes:
        line = self.rfile.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise _BadRequest(431, "line too long")
        return line

    def _read_request(self) -> _Request | None:
        line = self._line()
        blank = False
        while line in _BLANK:  # blank lines before a request line are ignored (RFC 9112, 2.2)
            blank = True
            line = self._line()
        if not line:
            if blank:
                raise _BadRequest(400, "no request line")
            return None  # the client closed an idle connection
        if not line.endswith(b"\n"):
            raise _BadRequest(400, "incomplete request line")
        method, target, version = _request_line(line.rstrip(b"\r\n"))
        headers = self._read_headers()
        keep_alive = _keep_alive(version, headers.get("connection", ""))
        if method == "POST" or "content-length" in headers or "transfer-encoding" in headers:
            if "100-continue" in headers.get("expect", "").lower() and version == (1, 1):
                self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            body = self._read_body(headers)
        else:
            body = b""
        return _Request(method, target, headers, body, keep_alive)

    def _read_headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        for _ in range(MAX_HEADERS):
            line = self._line()
            if not line.endswith(b"\n"):
                raise _BadRequest(400, "incomplete headers")
            if line in _BLANK:
                return headers
            if line[:1] in (b" ", b"\t"):
                raise _BadRequest(400, "folded header line")
            name, colon, value = line.partition(b":")
            if not colon or not _TOKEN.fullmatch(name):
                raise _BadRequest(400, "malformed header line")
            key, text = name.decode("ascii").lower(), value.strip().decode("latin-1")
            if key in headers:
                if key == "content-length" and headers[key] != text:
                    raise _BadRequest(400, "conflicting Content-Length")
                if key != "content-length":
                    headers[key] = f"{headers[key]}, {text}"
            else:
                headers[key] = text
        raise _BadRequest(431, "too many header lines")

    def _read_body(self, headers: dict[str, str]) -> bytes:
        encoding = headers.get("transfer-encoding")
        if encoding is not None:
            if encoding.strip().lower() != "chunked":
                raise _BadRequest(501, "unsupported Transfer-Encoding")
            return self._read_chunked()
        declared = headers.get("content-length", "").encode("latin-1")
        if not declared:
            return b""
        if not _DIGITS.fullmatch(declared):
            raise _BadRequest(400, "malformed Content-Length")
        size = int(declared)
        if size > MAX_BODY:
            raise _BadRequest(413, "body too large")
        body = self.rfile.read(size)
        if len(body) < size:
            raise _BadRequest(400, "incomplete body")
        return body

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self._line()
            size_text = line.split(b";", 1)[0].strip()
            if not line.endswith(b"\n") or not _HEX.fullmatch(size_text):
                raise _BadRequest(400, "malformed chunk size")
            size = int(size_text, 16)
            if size == 0:
                while (trailer := self._line()) not in _BLANK:
                    if not trailer.endswith(b"\n"):
                        raise _BadRequest(400, "incomplete trailers")
                return b"".join(chunks)
            total += size
            if total > MAX_BODY:
                raise _BadRequest(413, "body too large")
            chunk = self.rfile.read(size)
            if len(chunk) < size or self.rfile.read(2) != b"\r\n":
                raise _BadRequest(400, "incomplete chunk")
            chunks.append(chunk)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _request_line(line: bytes) -> tuple[str, bytes, tuple[int, int]]:
    """(method, raw target, version) of a request line; raw bytes in the target are kept as they are.

    Lenient where a real client may be sloppy: a raw space inside the target stays part of it.
    """
    method, space, rest = line.partition(b" ")
    target, space2, version_text = rest.rpartition(b" ")
    if not space or not space2 or not _TOKEN.fullmatch(method) or not target.strip():
        raise _BadRequest(400, "malformed request line")
    version = _VERSION.fullmatch(version_text)
    if version is None:
        raise _BadRequest(400, "malformed HTTP version")
    if version.group(1) != b"1":
        raise _BadRequest(505, "unsupported HTTP version")
    if _CONTROL.search(target):
        raise _BadRequest(400, "control character in the request target")
    return method.decode("ascii"), target.lstrip(b" "), (1, int(version.group(2)))


def _keep_alive(version: tuple[int, int], connection: str) -> bool:
    tokens = {t.strip().lower() for t in connection.split(",")}
    if version >= (1, 1):
        return "close" not in tokens
    return "keep-alive" in tokens


class SandboxServer(socketserver.ThreadingTCPServer):
    """A threaded server for ``engine`` on ``host:port`` (port 0: a free one), started in the background
    by :meth:`start`; :meth:`stop` also closes keep-alive connections still open."""

    # Connection threads are joined on stop (after close_all() has woken them), so that nothing a
    # connection does outlives the server: no late log line, no write to a closed ledger.
    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True

    def __init__(
        self, engine: Engine, host: str = "127.0.0.1", port: int = 0, handler: type[Handler] = Handler
    ) -> None:
        self.engine = engine
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        super().__init__((host, port), handler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def start(self) -> SandboxServer:
        self._thread = threading.Thread(
            target=self.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=f"sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.close_all()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_all(self) -> None:
        """Close keep-alive connections still open, so their threads end with the server."""
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        """socketserver prints a traceback here by default; a vanished client is worth one quiet line,
        anything else is a bug of ours and is logged as one."""
        error = sys.exc_info()[1]
        if isinstance(error, OSError):
            logger.info("sandbox: connection from %s ended (%s)", client_address[0], error)
        else:
            logger.error("sandbox: error serving %s", client_address[0], exc_info=error)
