"""Sandbox throughput: 500-number send_sms requests per second over keep-alive loopback HTTP.

Compares the sandbox as shipped (one write per answer, TCP_NODELAY) with the naive stdlib pattern
(headers and body in two writes, Nagle on), which stalls ~40 ms per request on delayed ACKs.

    python bench/bench_sandbox.py
"""

from __future__ import annotations

import time

from smscampaign import sandbox as sandbox_module
from smscampaign.sandbox import Sandbox

NUMBERS = [f"138{i:08d}" for i in range(500)]


def rate(box: Sandbox, seconds: float = 3.0) -> float:
    box.add_account("bench", "pw", sms_left=10**9)
    with box.gateway("bench", "pw") as gw:
        gw.send_sms(NUMBERS, "warm-up")
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            assert gw.send_sms(NUMBERS, "基准测试【bench】").ok
            n += 1
        return n / (time.perf_counter() - start)


class _NaiveHandler(sandbox_module._Handler):
    """The stdlib default: Nagle on, headers and body written separately."""

    disable_nagle_algorithm = False

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main() -> None:
    with Sandbox() as box:
        shipped = rate(box)
    original = sandbox_module._Handler
    sandbox_module._Handler = _NaiveHandler  # bench-only swap, restored below
    try:
        with Sandbox() as box:
            naive = rate(box)
    finally:
        sandbox_module._Handler = original
    print("500-number send_sms over keep-alive, 1 client thread:")
    print(f"  sandbox as shipped (one segment, TCP_NODELAY): {shipped:8.0f} requests/s")
    print(f"  naive stdlib handler (two writes, Nagle on):   {naive:8.0f} requests/s")
    print(f"  ratio: {shipped / naive:.1f}x")


if __name__ == "__main__":
    main()
