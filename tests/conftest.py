"""Shared fixtures: a real sandbox over loopback HTTP, and a clean environment."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from _postgres import Server, find_bin_dir

from smscampaign import Sandbox

USER, PASSWORD = "demo", "s3cret-PW!"


def pytest_configure(config: pytest.Config) -> None:
    """A second fence around the real campaign home: should a test ever run without
    SMSCAMPAIGN_HOME, the platform's user data dir (platformdirs reads XDG_DATA_HOME) is a
    temporary folder of this session, not the developer's."""
    if "XDG_DATA_HOME" not in os.environ or not os.environ["XDG_DATA_HOME"].startswith(
        tempfile.gettempdir()
    ):
        os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="smscampaign-xdg-")


@pytest.fixture(autouse=True)
def _no_smscampaign_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Tests never see the developer's SMSCAMPAIGN_* settings, and never write to the real campaign
    home: SMSCAMPAIGN_HOME is a fresh temporary folder for every test (inherited by the children and
    notebook kernels a test starts). Yields that folder.

    The environment is set through a MonkeyPatch of its own, not the test's ``monkeypatch``: a test
    calling ``monkeypatch.undo()`` must not put the real home back."""
    with pytest.MonkeyPatch.context() as fence:
        for name in list(os.environ):
            if name.startswith("SMSCAMPAIGN_"):
                fence.delenv(name)
        home = tmp_path_factory.mktemp("home")
        fence.setenv("SMSCAMPAIGN_HOME", str(home))
        yield home


@pytest.fixture
def home(_no_smscampaign_env: Path) -> Path:
    """This test's campaign home (the temporary folder SMSCAMPAIGN_HOME points at)."""
    return _no_smscampaign_env


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a child process: this one (SMSCAMPAIGN_HOME included) plus ``extra``."""
    return {**os.environ, **extra}


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


def readline(proc: subprocess.Popen, timeout: float = 60.0) -> str:
    """One line of a child's stdout (stripped), or an AssertionError after ``timeout`` seconds: a
    child that never answers fails the test instead of hanging it. The read runs in a daemon thread,
    which ends with the child's stdout (tests stop their children)."""
    assert proc.stdout is not None, "the child needs stdout=subprocess.PIPE"
    found: list[str | bytes] = []
    reader = threading.Thread(target=lambda: found.append(proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(timeout)
    if reader.is_alive():
        raise AssertionError(f"no line from the child (pid {proc.pid}) within {timeout} s")
    line = found[0]
    return (line.decode() if isinstance(line, bytes) else line).strip()


# -- PostgreSQL: a real server for the team home's tests ------------------------------------------


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Server]:
    """A PostgreSQL server of this test session (the machine's binaries, 127.0.0.1, a free port),
    stopped at the session's end. Skipped where PostgreSQL or psycopg is missing — but in CI
    (``CI=true``) that is a failure: ``.ci/run`` installs them, and these tests must run there."""
    bin_dir = find_bin_dir()
    missing = (
        "PostgreSQL server binaries (initdb, pg_ctl)"
        if bin_dir is None
        else "psycopg"
        if importlib.util.find_spec("psycopg") is None
        else None
    )
    if missing:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI must run the PostgreSQL tests, but {missing} are missing", pytrace=False)
        pytest.skip(f"{missing} not installed (apt-get install postgresql; pip install psycopg[binary])")
    assert bin_dir is not None
    server = Server(bin_dir)
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def pg_url(pg_server: Server) -> str:
    """The URL of a fresh, empty database on the session's PostgreSQL server (a new team home)."""
    return pg_server.database()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_home(request: pytest.FixtureRequest, home: Path) -> str:
    """Each kind of campaign home in turn, with SMSCAMPAIGN_HOME pointing at it (children inherit
    it): this test's SQLite folder, then a fresh PostgreSQL database (its URL)."""
    if request.param == "sqlite":
        return str(home)
    url = str(request.getfixturevalue("pg_url"))
    request.getfixturevalue("monkeypatch").setenv("SMSCAMPAIGN_HOME", url)
    return url
