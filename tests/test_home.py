"""The campaign home: where it is, and its store (the send registry)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from smscampaign.core.errors import ConfigError, HomeError
from smscampaign.memory.home import (
    ENV_HOME,
    MIGRATIONS,
    RESERVATION_COLUMNS,
    RESERVED_BATCH_COLUMNS,
    SEND_COLUMNS,
    SQLiteStore,
    Store,
    content_sha256,
    home_dir,
    open_home,
    read_environment,
)
from smscampaign.memory.home import _utc as _utc


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
        str(p.relative_to(package))
        for p in package.rglob("*.py")
        for line in p.read_text(encoding="utf-8").splitlines()
        if ("os.environ" in line or "getenv" in line) and ">>>" not in line
    )
    assert sorted(set(readers)) == ["core/settings.py"]


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
        [sys.executable, "-c", "from smscampaign.memory.home import home_dir; print(home_dir())"],
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


def _registry_rows(store: SQLiteStore) -> list[tuple[object, ...]]:
    """Every registry message that may have been sent, as sorted (mobile, campaign, status, at)."""
    frame = store.sent_messages(columns=("mobile", "campaign", "status", "at"))
    return sorted(frame.itertuples(index=False, name=None), key=repr)


# Batches of a registry: (numbers, content, journal, batch, status, gateway, minutes ago).
BATCHES = [
    (["13800000001", "13800000002", "13800000003"], "a", "/j1", 1, "accepted", GW, 30),
    (["13800000004"], "a", "/j1", 2, "unknown", GW, 20),
    (["13800000002", "+85291234567"], "a", "/j2", 1, "accepted", GW, 10),
    (["13800000005"], "a", "/j2", 2, "not_sent", GW, 5),
    (["13800000001"], "b", "/j3", 1, "in_flight", GW, 2),
    (["13800000001", "13800000006"], "a", "/j4", 1, "accepted", "http://other", 1),
]


def test_a_home_in_the_old_layout_is_migrated_and_reads_the_same(tmp_path):
    # A home written by the previous release: migrations 1 and 2, one row per number in send_mobiles.
    folder = tmp_path / "old"
    folder.mkdir()
    now = datetime.now(UTC)
    conn = sqlite3.connect(folder / "home.sqlite", isolation_level=None)
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    for script in MIGRATIONS[:2]:
        conn.executescript(script)
    conn.execute("INSERT INTO meta VALUES ('schema', '2')")
    for i, (mobiles, content, journal, batch, status, gateway, ago) in enumerate(BATCHES):
        at = _utc(now - timedelta(minutes=ago))
        conn.execute(
            "INSERT INTO send_batches VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (100 + i, content_sha256(content), f"c{i % 2}", journal, batch, status, at, gateway),
        )
        conn.executemany("INSERT INTO send_mobiles VALUES (?, ?)", [(100 + i, m) for m in mobiles])
    # What the old layout answers, through its own view.
    expected = sorted(
        conn.execute(
            "SELECT mobile, campaign, status, at FROM sends "
            "WHERE status IN ('in_flight', 'accepted', 'unknown')"
        ).fetchall(),
        key=repr,
    )
    conn.close()
    assert len(expected) == 9

    with SQLiteStore(folder) as store:
        tables = {r[0] for r in store._conn.execute("SELECT name FROM sqlite_master").fetchall()}
        assert "send_mobiles" not in tables and "sends" not in tables
        assert "send_batch_mobiles" in tables
        got = [(m, c, s, _utc(a.to_pydatetime())) for m, c, s, a in _registry_rows(store)]
        assert sorted(got, key=repr) == expected
        # The same registry recorded by this release reads the same.
        with SQLiteStore(tmp_path / "new") as fresh:
            for i, (mobiles, content, journal, batch, status, gateway, ago) in enumerate(BATCHES):
                fresh.record_sends(
                    mobiles=mobiles,
                    content_sha256=content_sha256(content),
                    campaign=f"c{i % 2}",
                    journal=journal,
                    batch=batch,
                    status=status,
                    gateway=gateway,
                    at=now - timedelta(minutes=ago),
                )
            assert _registry_rows(fresh) == _registry_rows(store)
            for reader in (store, fresh):
                found = reader.sends_before(
                    [content_sha256("a")],
                    gateway=GW,
                    since=now - timedelta(minutes=25),
                    exclude_journal="/j3",
                )
                assert list(found.columns) == list(SEND_COLUMNS)
                assert found[["mobile", "journal", "batch", "status"]].values.tolist() == [
                    ["13800000002", "/j2", 1, "accepted"],
                    ["+85291234567", "/j2", 1, "accepted"],
                    ["13800000004", "/j1", 2, "unknown"],
                ]
                mobiles, micros = reader.message_times(since=now - timedelta(minutes=15))
                assert sorted(zip(mobiles.to_pylist(), micros.tolist(), strict=True)) == sorted(
                    [
                        ("13800000002", _micros(now - timedelta(minutes=10))),
                        ("+85291234567", _micros(now - timedelta(minutes=10))),
                        ("13800000001", _micros(now - timedelta(minutes=2))),
                        ("13800000001", _micros(now - timedelta(minutes=1))),
                        ("13800000006", _micros(now - timedelta(minutes=1))),
                    ]
                )
                some = reader.sent_messages(["13800000001", "13800000005"], columns=("mobile", "batch"))
                assert sorted(some.itertuples(index=False, name=None)) == [
                    ("13800000001", 1),
                    ("13800000001", 1),
                    ("13800000001", 1),
                ]
        # The migrated home takes new records and replaces old ones like any other.
        store.record_sends(
            mobiles=["13800000007"],
            content_sha256=content_sha256("a"),
            campaign="c0",
            journal="/j1",
            batch=1,
            status="accepted",
            gateway=GW,
        )
        assert store.sent_messages(["13800000003", "13800000007"])["mobile"].tolist() == ["13800000007"]


def _micros(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def test_a_batch_of_many_numbers_is_one_record_read_back_whole(tmp_path):
    numbers = [f"139{i:08d}" for i in range(20_000)]
    now = datetime.now(UTC)
    with open_home(tmp_path) as store:
        store.record_sends(
            mobiles=numbers,
            content_sha256=content_sha256("x"),
            campaign="c",
            journal="/j",
            batch=7,
            status="in_flight",
            gateway=GW,
        )
        store.record_sends(  # a batch of no numbers holds no message
            mobiles=[],
            content_sha256=content_sha256("x"),
            campaign="c",
            journal="/j",
            batch=8,
            status="accepted",
            gateway=GW,
        )
        rows = store._conn.execute("SELECT count(*) FROM send_batch_mobiles").fetchone()
        assert rows == (1,)
        assert store.batches_recorded("/j") == {7: "in_flight", 8: "accepted"}
        found = store.sends_before([content_sha256("x")], gateway=GW, since=now - timedelta(hours=1))
        assert found["mobile"].tolist() == numbers and set(found["batch"]) == {7}
        mobiles, micros = store.message_times()
        assert mobiles.to_pylist() == numbers and len(set(micros.tolist())) == 1
        assert store.sent_messages(numbers[-2:])["mobile"].tolist() == numbers[-2:]
        with pytest.raises(ConfigError, match="separator"):
            store.record_sends(
                mobiles=["13800000001,13800000002"],
                content_sha256=content_sha256("x"),
                campaign="c",
                journal="/j",
                batch=9,
                status="in_flight",
                gateway=GW,
            )
        assert 9 not in store.batches_recorded("/j")


def test_a_test_undoing_its_monkeypatch_still_has_a_temporary_home(monkeypatch, home):
    # The conftest fences the home with a MonkeyPatch of its own: undoing the test's one (a test
    # did, once, and its send wrote to the developer's real home) keeps SMSCAMPAIGN_HOME.
    monkeypatch.setenv("SMSCAMPAIGN_USERNAME", "someone")
    monkeypatch.undo()
    assert os.environ["SMSCAMPAIGN_HOME"] == str(home)
    assert home_dir() == home
    # And with no SMSCAMPAIGN_HOME at all, the platform's data dir is a temporary folder.
    monkeypatch.delenv("SMSCAMPAIGN_HOME")
    assert str(home_dir()).startswith(tempfile.gettempdir())


def test_a_postgresql_url_is_a_team_home_not_a_folder(home, monkeypatch, tmp_path):
    """Before issue 26, SMSCAMPAIGN_HOME=postgresql://… made a local folder named ``postgresql:``."""
    import platformdirs

    from smscampaign.memory.home import home_url

    data_dir = Path(platformdirs.user_data_dir("smscampaign", appauthor=False))
    for url in ("postgresql://ana@db.example/team", "postgres://db.example/team", "postgresql://"):
        assert home_url(url) == url
        assert home_dir(url) == data_dir  # where its journals go: the local user data dir
    monkeypatch.setenv(ENV_HOME, "postgresql://ana@db.example/team")
    assert home_url() == "postgresql://ana@db.example/team" and home_dir() == data_dir
    monkeypatch.setenv(ENV_HOME, str(home))
    assert home_url() is None and home_url(tmp_path) is None


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://ana:s3cret@db:5432/team", "postgresql://ana@db:5432/team"),
        ("postgresql://ana:p%40ss@db/team?sslmode=require", "postgresql://ana@db/team?sslmode=require"),
        (
            "postgresql://db/team?password=s3cret&sslmode=verify-full",
            "postgresql://db/team?sslmode=verify-full",
        ),
        ("postgresql://ana@db/team?sslpassword=s3cret", "postgresql://ana@db/team"),
        ("postgresql://?service=team", "postgresql://?service=team"),
        ("postgres://", "postgres://"),
    ],
)
def test_a_home_url_is_shown_without_its_password(url, shown):
    from smscampaign.memory.location import redact_url, scrub, url_password

    assert redact_url(url) == shown
    secret = url_password(url)
    told = scrub(f"connecting to {url} failed: password {secret} refused", url)
    assert told == f"connecting to {shown} failed: password {'***' if secret else None} refused"


def test_a_team_home_without_psycopg_says_how_to_install_it(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if the postgres extra were not installed
    with pytest.raises(ConfigError, match=r"pip install 'smscampaign\[postgres\]'"):
        open_home("postgresql://ana@db.example/team")


# -- reservations (issue 26) -----------------------------------------------------------------------


def _reserve(store, mobiles, *, journal="/j1#a", batch=1, since=None, sha=None, at=None):
    return store.reserve(
        gateway=GW,
        content_sha256=sha or content_sha256("您好【小店】"),
        mobiles=mobiles,
        campaign=f"campaign-of-{journal}",
        journal=journal,
        batch=batch,
        since=since or datetime.now(UTC) - timedelta(hours=24),
        at=at,
    )


def test_a_number_is_reserved_by_one_journal_and_batch_until_released(tmp_path):
    with open_home(tmp_path) as store:
        assert _reserve(store, ["13800000001", "13800000002"]).empty
        assert store.reservations_of("/j1#a") == {1: "reserved"}
        # The same journal and batch again (a resumed batch): kept, no conflict.
        assert _reserve(store, ["13800000002", "13800000001"]).empty
        held = _reserve(store, ["13800000002", "13800000003"], journal="/j2#b", batch=7)
        assert list(held.columns) == list(RESERVATION_COLUMNS)
        assert held[["mobile", "journal", "batch", "status"]].values.tolist() == [
            ["13800000002", "/j1#a", 1, "reserved"]
        ]
        assert held["campaign"].tolist() == ["campaign-of-/j1#a"] and held["at"].dt.tz is not None
        assert store.reservations_of("/j2#b") == {7: "reserved"}  # 13800000003 is its own
        # Another content, another gateway: no conflict.
        assert _reserve(store, ["13800000001"], journal="/j3", sha=content_sha256("x")).empty
        for status in ("accepted", "unknown"):  # still held after the answer
            store.settle_reservations(journal="/j1#a", batch=1, status=status)
            assert _reserve(store, ["13800000001"], journal="/j2#b", batch=7)["status"].tolist() == [
                status
            ]
        store.settle_reservations(journal="/j1#a", batch=1, status="released")
        assert _reserve(store, ["13800000001", "13800000002"], journal="/j2#b", batch=7).empty
        assert store.reservations_of("/j1#a") == {1: "released"}  # j2 holds both now
        # Older than the repeat window: taken over too.
        old = datetime.now(UTC) - timedelta(days=3)
        assert _reserve(store, ["13800000009"], journal="/j4", at=old).empty
        assert _reserve(store, ["13800000009"], journal="/j5").empty
        with pytest.raises(ConfigError, match="released"):
            store.settle_reservations(journal="/j5", batch=1, status="in_flight")
        with store.runner_lock(fingerprint="ab" * 32, gateway=GW):  # SQLite: the journal's lock
            pass
        assert isinstance(store, Store)


def test_two_stores_reserving_the_same_numbers_at_once_never_both_get_one(tmp_path):
    numbers = [f"1380000{i:04d}" for i in range(300)]
    won: dict[str, list[str]] = {}
    start = threading.Barrier(4)

    def runner(name: str) -> None:
        with open_home(tmp_path) as store:
            start.wait()
            for batch in range(30):
                chunk = numbers[batch * 10 : batch * 10 + 40]  # overlapping windows
                held = set(_reserve(store, chunk, journal=name, batch=batch)["mobile"])
                won.setdefault(name, []).extend(m for m in chunk if m not in held)

    threads = [threading.Thread(target=runner, args=(f"/r{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # A journal may get a number again for its own later batch only by taking it over from itself
    # (same journal), never from another journal.
    owners: dict[str, set[str]] = {}
    for name, got in won.items():
        for mobile in got:
            owners.setdefault(mobile, set()).add(name)
    assert all(len(who) == 1 for who in owners.values())
    assert set(owners) == set(numbers)


class _FullDisk:
    """A connection to the store whose writes fail as a full disk does, once ``full`` is set."""

    def __init__(self, conn: sqlite3.Connection, error: str) -> None:
        self.conn, self.error, self.full = conn, error, False

    def execute(self, sql: str, *args):
        if self.full and sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE", "COMMIT")):
            raise sqlite3.OperationalError(self.error)
        return self.conn.execute(sql, *args)

    def executemany(self, sql: str, *args):
        if self.full:
            raise sqlite3.OperationalError(self.error)
        return self.conn.executemany(sql, *args)

    def __getattr__(self, name: str):
        return getattr(self.conn, name)


@pytest.mark.parametrize("error", ["database or disk is full", "disk I/O error"])
def test_a_home_that_cannot_be_written_raises_home_error_naming_it(tmp_path, error):
    with open_home(tmp_path / "h") as store:
        store._conn = faulty = _FullDisk(store._conn, error)  # fault injection at the store boundary
        assert _reserve(store, ["13800000001"]).empty
        faulty.full = True
        with pytest.raises(HomeError, match=error) as raised:
            _reserve(store, ["13800000002"], batch=2)
        assert raised.value.home == str(tmp_path / "h") and str(tmp_path / "h") in str(raised.value)
        assert isinstance(raised.value, OSError)
        with pytest.raises(HomeError):
            store.settle_reservations(journal="/j1#a", batch=1, status="accepted")
        faulty.full = False
        assert store.reservations_of("/j1#a") == {1: "reserved"}  # nothing half-written
        assert _reserve(store, ["13800000002"], batch=2).empty


def test_an_older_home_gets_the_reservations_table(tmp_path):
    with SQLiteStore(tmp_path) as store:
        store._conn.execute("DROP TABLE reservations")
        store._conn.execute("UPDATE meta SET value='5' WHERE key='schema'")  # before reservations
    with SQLiteStore(tmp_path) as store:
        assert _reserve(store, ["13800000001"]).empty
        version = store._conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        assert int(version[0]) == len(MIGRATIONS) == 7


def test_another_store_sees_a_batch_reserved_again_with_fewer_numbers(tmp_path):
    with open_home(tmp_path) as a, open_home(tmp_path) as b:
        assert _reserve(a, ["13800000001", "13800000002"], journal="/a").empty
        assert _reserve(b, ["13800000001"], journal="/b")["mobile"].tolist() == ["13800000001"]
        assert _reserve(a, ["13800000002"], journal="/a").empty  # the batch resumed, smaller
        assert _reserve(b, ["13800000001"], journal="/b").empty  # free again: b holds it now
        assert _reserve(b, ["13800000002"], journal="/b", batch=2)["journal"].tolist() == ["/a"]
        assert _reserve(a, ["13800000001"], journal="/a", batch=3)["journal"].tolist() == ["/b"]


@pytest.mark.parametrize("numbers", [["13800000001", "13800000002"], ["0138", "x-1"]])
def test_holders_are_found_from_a_first_look_and_from_later_rows(tmp_path, numbers):
    # The first look of a store is read into sorted arrays (11-digit numbers) or a dict (others).
    with open_home(tmp_path) as a, open_home(tmp_path) as b:
        assert _reserve(a, numbers[:1], journal="/a").empty
        assert _reserve(b, numbers, journal="/b")["mobile"].tolist() == numbers[:1]  # first look
        assert _reserve(a, numbers[1:], journal="/a", batch=2)["journal"].tolist() == ["/b"]
        a.settle_reservations(journal="/a", batch=1, status="released")
        assert _reserve(b, numbers, journal="/b").empty  # a later look: b takes both now
        assert _reserve(a, numbers, journal="/a", batch=3)["journal"].tolist() == ["/b", "/b"]


def test_reservations_since_lists_other_journals_batches_that_may_have_been_charged(tmp_path):
    # What a run settling its unknowns by the balance accounts for (issue 28): the other journals'
    # batches on the same gateway reserved or settled since a moment, or not settled yet.
    now = datetime.now(UTC)
    since = now - timedelta(minutes=10)
    with open_home(tmp_path) as store:
        _reserve(store, ["13800000001", "13800000002"], journal="/me")  # this run's own: left out
        _reserve(store, ["13800000003"], journal="/old", at=now - timedelta(hours=1))
        store.settle_reservations(journal="/old", batch=1, status="accepted")  # settled since
        _reserve(store, ["13800000004"], journal="/older", at=now - timedelta(hours=2))  # reserved
        _reserve(store, ["13800000005", "13800000006", "13800000007"], journal="/b", batch=2)
        _reserve(store, ["13800000008"], journal="/c", batch=3)
        store.settle_reservations(journal="/c", batch=3, status="released")
        store.reserve(  # another gateway: left out
            gateway="sandbox://other",
            content_sha256=content_sha256("x"),
            mobiles=["13800000009"],
            campaign="c",
            journal="/d",
            batch=1,
            since=since,
        )
        # Reserved again (the DELETE and INSERT of a retried batch): not settled any more.
        _reserve(store, ["13800000010"], journal="/e", batch=4)
        store.settle_reservations(journal="/e", batch=4, status="unknown")
        _reserve(store, ["13800000010", "13800000011"], journal="/e", batch=4)
        found = store.reservations_since(gateway=GW, since=since, journal="/me")
    assert list(found.columns) == list(RESERVED_BATCH_COLUMNS)
    text = str(pd.Series(["x"]).astype("str").dtype)  # pandas 3: "str"; pandas 2: "object"
    assert {c: str(t) for c, t in found.dtypes.items()} == {
        "journal": text,
        "batch": "int64",
        "campaign": text,
        "status": text,
        "size": "int64",
        "at": "datetime64[us, UTC]",
        "settled_at": "datetime64[us, UTC]",
    }
    rows = found.set_index("journal")
    assert sorted(rows.index) == ["/b", "/c", "/e", "/old", "/older"]
    assert rows["size"].to_dict() == {"/old": 1, "/older": 1, "/b": 3, "/c": 1, "/e": 2}
    assert rows["status"].to_dict() == {
        "/old": "accepted",
        "/older": "reserved",
        "/b": "reserved",
        "/c": "released",
        "/e": "reserved",
    }
    assert rows.loc["/old", "at"] < since <= rows.loc["/old", "settled_at"] <= datetime.now(UTC)
    assert rows["settled_at"].isna().to_dict() == {
        "/old": False,
        "/older": True,
        "/b": True,
        "/c": False,
        "/e": True,
    }
    assert rows.loc["/b", "campaign"] == "campaign-of-/b" and rows.loc["/b", "batch"] == 2
    with open_home(tmp_path) as store:  # a settled batch older than ``since`` is not listed
        later = store.reservations_since(gateway=GW, since=datetime.now(UTC), journal="/me")
    assert sorted(later["journal"]) == ["/b", "/e", "/older"]
