"""Sandbox throughput: 500-number send_sms requests per second over keep-alive loopback HTTP.

Compares the sandbox as shipped (one write per answer, TCP_NODELAY) with the naive pattern (headers
and body in two writes, Nagle on), which stalls ~40 ms per request on delayed ACKs, and times the
protocol engine alone (no sockets) to show what the HTTP layer costs.

    python bench/bench_sandbox.py
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

from smscampaign.sandbox import Engine, Sandbox
from smscampaign.sandbox.engine import Answer
from smscampaign.sandbox.server import Handler, SandboxServer
from smscampaign.wire.gateway import Gateway

NUMBERS = [f"138{i:08d}" for i in range(500)]
CONTENT = "基准测试【bench】"


def rate(gw: Gateway, seconds: float = 3.0) -> float:
    gw.send_sms(NUMBERS, "warm-up")
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        assert gw.send_sms(NUMBERS, CONTENT).ok
        n += 1
    return n / (time.perf_counter() - start)


def engine_rate(seconds: float = 3.0) -> float:
    engine = Engine()
    engine.add_account("bench", "pw", sms_left=10**9)
    form = {"username": "bench", "password": "pw", "receiver": ",".join(NUMBERS), "content": CONTENT}
    body = urlencode(form).encode("ascii")
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        assert engine.handle("POST", b"/utf8/interface/send_sms.aspx", body).status == 200
        n += 1
    return n / (time.perf_counter() - start)


class _NaiveHandler(Handler):
    """Nagle on, headers and body written separately."""

    disable_nagle_algorithm = False

    def _write(self, answer: Answer, *, keep_alive: bool, head_only: bool = False) -> None:
        head = (
            f"HTTP/1.1 {answer.status} OK\r\nContent-Type: {answer.content_type}\r\n"
            f"Content-Length: {len(answer.body)}\r\n\r\n"
        )
        self.wfile.write(head.encode("latin-1"))
        self.wfile.write(answer.body)


def main() -> None:
    with Sandbox() as box:
        box.add_account("bench", "pw", sms_left=10**9)
        with box.gateway("bench", "pw") as gw:
            shipped = rate(gw)
    engine = Engine()
    engine.add_account("bench", "pw", sms_left=10**9)
    server = SandboxServer(engine, handler=_NaiveHandler).start()
    try:
        with Gateway("bench", "pw", base_url=f"http://127.0.0.1:{server.port}") as gw:
            naive = rate(gw)
    finally:
        server.stop()
    alone = engine_rate()
    print("500-number send_sms over keep-alive, 1 client thread:")
    print(f"  sandbox as shipped (one segment, TCP_NODELAY): {shipped:8.0f} requests/s")
    print(f"  naive handler (two writes, Nagle on):          {naive:8.0f} requests/s")
    print(f"  ratio: {shipped / naive:.1f}x")
    print(f"  engine alone (Engine.handle, no sockets):      {alone:8.0f} requests/s")


if __name__ == "__main__":
    main()
