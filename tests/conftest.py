"""Shared fixtures: a real sandbox over loopback HTTP, and a clean environment."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from smscampaign import Sandbox

USER, PASSWORD = "demo", "s3cret-PW!"


@pytest.fixture(autouse=True)
def _no_smscampaign_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see the developer's SMSCAMPAIGN_* settings."""
    for name in list(os.environ):
        if name.startswith("SMSCAMPAIGN_"):
            monkeypatch.delenv(name)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A running sandbox on 127.0.0.1 (free port) with account demo / s3cret-PW! and 1000 messages."""
    with Sandbox() as box:
        box.add_account(USER, PASSWORD, sms_left=1000)
        yield box


@pytest.fixture
def gateway(sandbox: Sandbox):
    with sandbox.gateway(USER, PASSWORD) as gw:
        yield gw
