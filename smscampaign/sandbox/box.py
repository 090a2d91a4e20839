"""The sandbox as one object: the :class:`~smscampaign.sandbox.engine.Engine` served over HTTP."""

from __future__ import annotations

import logging
from typing import Any

from smscampaign.core.errors import ConfigError
from smscampaign.sandbox.engine import Engine
from smscampaign.sandbox.server import HttpPusher, SandboxServer
from smscampaign.wire.gateway import Gateway

__all__ = ["Sandbox"]

logger = logging.getLogger(__name__)


class Sandbox(Engine):
    """The simulated gateway: its :class:`~smscampaign.sandbox.engine.Engine` served over HTTP on
    ``host:port`` (a free port by default).

    ``latency`` seconds are slept before each interface request; ``faults`` and ``seed`` inject
    failures (see the module docstring); ``page_size`` caps the replies one ``get_sms`` returns.
    Use it as a context manager (``with Sandbox() as box``) or call :meth:`start` / :meth:`stop`.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        latency: float = 0.0,
        faults: dict[str, float] | None = None,
        seed: int | None = None,
        page_size: int = 100,
    ) -> None:
        self._pusher_client = HttpPusher()
        super().__init__(
            latency=latency, faults=faults, seed=seed, page_size=page_size, pusher=self._pusher_client
        )
        self.host = host
        self.port = port
        self._server: SandboxServer | None = None

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> Sandbox:
        """Start serving in a background thread; returns self."""
        if self._server is not None:
            return self
        self.stopping.clear()
        self._server = SandboxServer(self, self.host, self.port).start()
        self.port = self._server.port
        logger.info("sandbox serving at %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket and open connections."""
        if self._server is None:
            return
        self.stopping.set()  # delayed answers end now: stop joins the connections' threads
        self._server.stop()
        self._server = None
        self._pusher_client.close()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = self.url if self._server is not None else "stopped"
        return (
            f"Sandbox({state}, accounts={len(self._state.accounts)}, ledger={len(self._state.ledger)})"
        )

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._server is not None

    @property
    def url(self) -> str:
        """Base URL to give a :class:`~smscampaign.Gateway`, e.g. ``http://127.0.0.1:50123``.

        Raises :class:`~smscampaign.ConfigError` while the sandbox is not serving."""
        if self._server is None:
            raise ConfigError(
                "this Sandbox is not running: use `with Sandbox() as box:` or call `box.start()` "
                "before asking for its url or a gateway (and `box.stop()` when done)"
            )
        return f"http://{self.host}:{self.port}"

    def gateway(
        self, username: str, password: str, *, charset: str = "utf8", method: str = "POST", **kwargs: Any
    ) -> Gateway:
        """A :class:`~smscampaign.Gateway` pointed at this (running) sandbox."""
        return Gateway(username, password, base_url=self.url, charset=charset, method=method, **kwargs)
