"""The campaign home: where it is, and its store (the send registry)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from smscampaign.errors import ConfigError
from smscampaign.home import (
    ENV_HOME,
    MIGRATIONS,
    SQLiteStore,
    Store,
    content_sha256,
    home_dir,
    open_home,
    read_environment,
)


def test_tests_run_with_a_temporary_home(home):
    assert os.environ[ENV_HOME] == str(home)
    assert home_dir() == home
    assert "pytest" in str(home) or str(home).startswith(os.path.realpath("/tmp"))


def test_home_resolution_order(home, tmp_path, monkeypatch):
    assert home_dir(tmp_path / "explicit") == tmp_path / "explicit"
    assert home_dir() == home
    monkeypatch.delenv(ENV_HOME)
    import platformdirs

    assert home_dir() == Path(platformdirs.user_data_dir("smscampaign", appauthor=False))


def test_read_environment_is_the_one_reader_and_hides_the_password():
    env = read_environment(
        {
            "SMSCAMPAIGN_USERNAME": "u",
            "SMSCAMPAIGN_PASSWORD": "pw-secret",
            "SMSCAMPAIGN_HOME": "/x",
            "SMSCAMPAIGN_CHARSET": "gbk",
        }
    )
    assert (env.username, env.password, env.home, env.charset, env.base_url) == (
        "u",
        "pw-secret",
        "/x",
        "gbk",
        None,
    )
    assert "pw-secret" not in repr(env)
    package = Path(__file__).parents[1] / "smscampaign"
    readers = sorted(
        p.name
        for p in package.rglob("*.py")
        for line in p.read_text(encoding="utf-8").splitlines()
        if ("os.environ" in line or "getenv" in line) and ">>>" not in line
    )
    assert sorted(set(readers)) == ["cli.py", "home.py"]


def test_store_is_created_with_its_schema_and_satisfies_the_interface(tmp_path):
    with open_home(tmp_path / "h") as store:
        assert isinstance(store, Store)
        assert Path(store.location) == tmp_path / "h" / "home.sqlite"
        path = store.journal_path("ab" * 32)
        assert path == tmp_path / "h" / "journals" / f"{'ab' * 32}.journal"
        assert path.parent.is_dir()
        with pytest.raises(ConfigError):
            store.journal_path("../etc/passwd")
    with SQLiteStore(tmp_path / "h") as again:  # re-opening applies no migration twice
        version = again._conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        assert int(version[0]) == len(MIGRATIONS)


GW = "http://127.0.0.1:8080"


def test_registry_records_settles_and_finds_sends(tmp_path):
    sha = content_sha256("您好【小店】")
    other = content_sha256("再见【小店】")
    now = datetime.now(UTC)
    with open_home(tmp_path) as store:
        store.record_sends(
            mobiles=["13800000001", "13800000002"],
            content_sha256=sha,
            campaign="c1",
            journal="/j1",
            batch=1,
            status="in_flight",
            gateway=GW,
        )
        store.record_sends(
            mobiles=["13800000003"],
            content_sha256=sha,
            campaign="c1",
            journal="/j1",
            batch=2,
            status="in_flight",
            gateway=GW,
        )
        store.record_sends(
            mobiles=["13800000009"],
            content_sha256=other,
            campaign="c1",
            journal="/j1",
            batch=3,
            status="accepted",
            gateway=GW,
        )
        store.settle_sends(journal="/j1", batch=1, status="accepted")
        store.settle_sends(journal="/j1", batch=2, status="not_sent")
        found = store.sends_before([sha], gateway=GW, since=now - timedelta(hours=1))
        assert sorted(found["mobile"]) == ["13800000001", "13800000002"]
        assert set(found["status"]) == {"accepted"} and set(found["campaign"]) == {"c1"}
        assert found["at"].dt.tz is not None
        assert store.sends_before(
            [sha], gateway=GW, since=now - timedelta(hours=1), exclude_journal="/j1"
        ).empty
        assert store.sends_before([sha], gateway=GW, since=now + timedelta(minutes=1)).empty
        assert store.sends_before([sha], gateway="http://other", since=now - timedelta(hours=1)).empty
        # A batch recorded again (a retry) replaces its earlier records.
        store.record_sends(
            mobiles=["13800000001"],
            content_sha256=sha,
            campaign="c1",
            journal="/j1",
            batch=1,
            status="unknown",
            gateway=GW,
        )
        found = store.sends_before([sha], gateway=GW, since=now - timedelta(hours=1))
        assert found[["mobile", "status"]].values.tolist() == [["13800000001", "unknown"]]


def test_unwritable_home_is_a_config_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match="SMSCAMPAIGN_HOME"):
        open_home(blocker / "home")


def test_children_inherit_the_temporary_home(home):
    out = subprocess.run(
        [sys.executable, "-c", "from smscampaign.home import home_dir; print(home_dir())"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.strip()
    assert out == str(home)


def test_a_new_home_opened_by_many_threads_at_once_is_never_locked(tmp_path):
    # Two kernels or a CLI started twice open a fresh home together: switching the new file to WAL
    # is refused at once while another connection does it, so opening takes turns instead of failing.
    import threading

    for round_ in range(10):
        folder = tmp_path / f"home{round_}"
        barrier = threading.Barrier(4)
        errors: list[BaseException] = []

        def open_it(
            folder: Path = folder, barrier: threading.Barrier = barrier, errors: list = errors
        ) -> None:
            barrier.wait(timeout=30)
            try:
                SQLiteStore(folder).close()
            except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=open_it) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
