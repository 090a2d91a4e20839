"""The team's campaign home on PostgreSQL (issue 26): a real server started by the test session
(tests/_postgres.py, the ``pg_server`` / ``pg_url`` fixtures), never a mock.

The store behaves as the SQLite one does (the same calls, the same frames); reservations are atomic
across runners; one runner per plan across the team; the server going away raises HomeError and the
store works again when it is back; ``smscampaign home info`` / ``home copy``; two analysts sharing a
home share their opt-outs, frequency caps and send registry.
"""

from __future__ import annotations

import random
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from _kill import kill_9, python_child
from conftest import PASSWORD, USER, child_env, readline

import smscampaign as sc
from smscampaign import cli
from smscampaign.core.errors import HomeError, JournalBusy
from smscampaign.memory.history import History
from smscampaign.memory.home import SQLiteStore, Store, home_dir, home_url, open_home
from smscampaign.memory.postgres import MIGRATIONS, PostgresStore
from smscampaign.memory.records import RESERVATION_COLUMNS, SEND_COLUMNS

Frame = pd.DataFrame
NOW = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
def team(pg_url: str) -> Iterator[PostgresStore]:
    with PostgresStore(pg_url) as store:
        yield store


# -- where the home is ------------------------------------------------------------------------------


def test_a_postgresql_url_selects_the_team_home_and_creates_no_folder(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SMSCAMPAIGN_HOME", pg_url)
    with open_home() as store:
        assert isinstance(store, PostgresStore) and isinstance(store, Store)
        assert store.location == pg_url  # no password in it to hide
        journal = store.journal_path("ab12")
    with open_home(pg_url) as store:  # the home= argument too
        assert isinstance(store, PostgresStore)
    assert home_url() == pg_url and home_url(tmp_path) is None
    # Journals stay local files, in the user data dir (a temporary one in the tests).
    assert journal.parent == home_dir() / "journals" and journal.parent.is_dir()
    assert list(tmp_path.iterdir()) == []  # no folder named "postgresql:" here


def test_the_schema_is_created_once_under_a_lock_and_versioned(pg_url: str) -> None:
    errors: list[BaseException] = []

    def open_it() -> None:
        try:
            PostgresStore(pg_url).close()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]  # four analysts at once
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with PostgresStore(pg_url) as store:
        assert store.schema_version() == len(MIGRATIONS)
        with store._session() as conn:
            conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema'")
    with pytest.raises(HomeError, match="schema 99, newer than this smscampaign"):
        PostgresStore(pg_url)


# -- the same store as SQLite's ---------------------------------------------------------------------


def _fill(store: SQLiteStore | PostgresStore) -> None:
    """The same records, in the same order, into either store."""
    for batch, (mobiles, status, ago) in enumerate(
        [
            (["13800138000", "13900139000"], "accepted", 2),
            (["13800138000"], "unknown", 30),
            (["15000150000", "13800138000"], "not_sent", 1),
            ([], "accepted", 1),
        ]
    ):
        store.record_sends(
            mobiles=mobiles,
            content_sha256=f"{batch % 2:064x}",
            campaign="c1" if batch < 2 else "c2",
            journal="j1",
            batch=batch,
            status="in_flight",
            gateway="http://gw",
            at=NOW - ago * HOUR,
        )
        store.settle_sends(journal="j1", batch=batch, status=status)
    store.record_sends(
        mobiles=["13800138000"],
        content_sha256=f"{0:064x}",
        campaign="c3",
        journal="j2",
        batch=0,
        status="accepted",
        gateway="http://other",
        at=NOW,
    )
    created = "2030-01-01T00:00:00.000000Z"
    for fingerprint, name in (("c1", "spring"), ("c2", "summer"), ("c1", "spring again")):
        store.record_campaign({"fingerprint": fingerprint, "name": name, "created": created})
    store.record_campaign({"fingerprint": "c1", "name": "spring", "created": created, "run": "j2"})
    people = {
        "mobile": ["13800138000", "13900139000"],
        "arm": ["A", "holdout"],
        "key:会员号": ["7", None],
    }
    store.record_people("c1", people)
    rows = [("13800138000", "退订", "2030-01-02T00:00:00.000000Z", "fetch")]
    assert store.add_replies(rows * 2) == 1 and store.add_replies(rows) == 0
    opt = [("13900139000", "2030-01-01T00:00:00.000000Z", "manual", None)]
    assert store.add_opt_outs(opt) == 1 and store.add_opt_outs(opt) == 0
    store.restamp_sends(campaign="c3", since=NOW, at=NOW + HOUR)


def test_the_postgresql_store_answers_as_the_sqlite_store(team: PostgresStore, tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "personal") as personal:
        for store in (personal, team):
            _fill(store)
        since = NOW - 24 * HOUR
        for method in (
            lambda s: s.sends_before([f"{0:064x}", f"{1:064x}"], gateway="http://gw", since=since),
            lambda s: s.sends_before(
                [f"{0:064x}"], gateway="http://gw", since=since, exclude_journal="j1"
            ),
            lambda s: s.sent_messages(columns=SEND_COLUMNS),
            lambda s: s.sent_messages(["13800138000"], since=NOW - 3 * HOUR, columns=("mobile", "at")),
        ):
            pd.testing.assert_frame_equal(method(team), method(personal))
        for name in ("campaigns", "replies", "opt_outs"):
            assert getattr(team, name)() == getattr(personal, name)()
        assert team.people("c1") == personal.people("c1") and team.people("c2") == {}
        assert team.people("c1")["key:会员号"].to_pylist() == ["7", None]
        assert (
            team.batches_recorded("j1")
            == personal.batches_recorded("j1")
            == {
                0: "accepted",
                1: "unknown",
                2: "not_sent",
                3: "accepted",
            }
        )
        (a, ta), (b, tb) = team.message_times(), personal.message_times()
        assert a.equals(b) and (ta == tb).all() and len(a) == 4
        assert team.table_counts()["messages"] == 6
        # History reads either the same way.
        clock = lambda: NOW + 2 * HOUR  # noqa: E731
        with History(store=team, clock=clock) as on_team, History(store=personal, clock=clock) as mine:
            pd.testing.assert_frame_equal(on_team.contacts(), mine.contacts())
            pd.testing.assert_frame_equal(on_team.campaigns(), mine.campaigns())
            pd.testing.assert_frame_equal(on_team.replies(), mine.replies())


# -- reservations -------------------------------------------------------------------------------


def _reserve(
    store: PostgresStore, mobiles: list[str], journal: str, batch: int = 0, **kw
) -> pd.DataFrame:
    return store.reserve(
        gateway="http://gw",
        content_sha256=kw.pop("sha", "a" * 64),
        mobiles=mobiles,
        campaign=kw.pop("campaign", "c"),
        journal=journal,
        batch=batch,
        since=kw.pop("since", NOW - 24 * HOUR),
        at=kw.pop("at", NOW),
    )


def test_reserve_holds_a_number_for_one_journal_batch_until_released(team: PostgresStore) -> None:
    assert _reserve(team, ["13800138000", "13900139000"], "j1").empty
    taken = _reserve(team, ["15000150000", "13900139000", "13800138000"], "j2", campaign="other")
    assert list(taken.columns) == list(RESERVATION_COLUMNS)
    assert taken["mobile"].tolist() == ["13800138000", "13900139000"]  # sorted
    assert set(taken["journal"]) == {"j1"} and set(taken["campaign"]) == {"c"}
    assert str(taken["at"].dt.tz) == "UTC" and (taken["at"] == NOW).all()
    assert taken["status"].tolist() == ["reserved"] * 2
    # The same batch again (a resume) keeps its numbers; another content is another key.
    assert _reserve(team, ["13800138000"], "j1").empty
    assert _reserve(team, ["13800138000"], "j2", sha="b" * 64).empty
    # Accepted and unknown still hold; released frees; older than the window never conflicts.
    team.settle_reservations(journal="j1", batch=0, status="unknown")
    assert _reserve(team, ["13800138000"], "j3")["status"].tolist() == ["unknown"]
    assert _reserve(team, ["13800138000"], "j3", since=NOW + HOUR, at=NOW + 2 * HOUR).empty
    assert team.reservations_of("j3") == {0: "reserved"} and team.reservations_of("j1") == {0: "unknown"}
    team.settle_reservations(journal="j2", batch=0, status="released")
    assert _reserve(team, ["15000150000"], "j4").empty  # j2 released it
    team.settle_reservations(journal="j4", batch=0, status="accepted")
    assert _reserve(team, ["15000150000"], "j2")["status"].tolist() == ["accepted"]
    with pytest.raises(sc.ConfigError):
        team.settle_reservations(journal="j4", batch=0, status="sent")


def test_a_batch_with_one_number_already_in_the_table_falls_back_number_by_number(
    team: PostgresStore,
) -> None:
    # New numbers go in with one plain INSERT; a number already present anywhere in the sorted list
    # (here the last) makes that statement take nothing, and the conflict-aware path decides.
    assert _reserve(team, ["13900139999"], "j1").empty
    fresh = [f"1380013{i:04d}" for i in range(50)]
    taken = _reserve(team, [*fresh, "13900139999"], "j2")
    assert taken["mobile"].tolist() == ["13900139999"] and set(taken["journal"]) == {"j1"}
    assert team.reservations_of("j2") == {0: "reserved"}
    team.settle_reservations(journal="j2", batch=0, status="released")
    assert _reserve(team, fresh, "j3").empty  # a release frees the numbers
    assert _reserve(team, [*fresh, "15000150000"], "j3").empty  # a resumed batch keeps its own
    assert team.reservations_of("j2") == {0: "released"}
    assert team.reservations_of("j3") == {0: "reserved"}
    assert not _reserve(team, ["15000150000"], "j4").empty


def test_a_team_home_of_the_first_schema_keeps_its_reservations_when_migrated(pg_url: str) -> None:
    # A team home created by the first schema (migrations 1-3): one text-keyed row per number.
    import psycopg  # noqa: PLC0415

    with psycopg.connect(pg_url, autocommit=True) as conn, conn.transaction():
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        for script in MIGRATIONS[:3]:
            for statement in filter(str.strip, script.split(";")):
                conn.execute(statement)
        conn.execute("INSERT INTO meta VALUES ('schema', '3')")
        old = [
            ("13800138000", "old", "j1", 0, "accepted", "2030-01-02T02:00:00.000000Z"),
            ("13800138001", "old", "j1", 0, "accepted", "2030-01-02T02:00:00.000000Z"),
            ("13800138002", "old", "j1", 1, "released", "2030-01-02T02:00:00.000000Z"),
            ("13800138003", "older", "j0", 0, "unknown", "2029-01-01T00:00:00.000000Z"),
        ]
        for row in old:
            conn.execute(
                "INSERT INTO reservations VALUES ('http://gw', %s, %s, %s, %s, %s, %s, %s)",
                ("a" * 64, *row),
            )
    with PostgresStore(pg_url) as team:
        assert team.schema_version() == len(MIGRATIONS) == 4
        held = _reserve(team, ["13800138000", "13800138001", "13800138002", "13800138003"], "j2")
        # The accepted ones still hold; the released one and the one older than the window do not.
        assert held["mobile"].tolist() == ["13800138000", "13800138001"]
        assert set(held["campaign"]) == {"old"} and set(held["status"]) == {"accepted"}
        assert team.reservations_of("j1") == {0: "accepted", 1: "released"}
        assert team.table_counts()["reservations"] == 2 + 2  # j1's two, j2's two


def test_reservations_since_lists_the_other_journals_batches_that_may_have_been_charged(
    team: PostgresStore,
) -> None:
    now = datetime.now(UTC)
    since, window = now - timedelta(minutes=1), now - 24 * HOUR
    assert _reserve(team, ["13800138000", "13800138001"], "j1", at=now - HOUR, since=window).empty
    assert _reserve(team, ["13800138002"], "j1", batch=1, at=now, since=window).empty
    assert _reserve(team, ["13800138003"], "j1", batch=2, at=now, since=window).empty
    assert _reserve(team, ["13800138005"], "j1", batch=3, at=now - HOUR, since=window).empty
    assert _reserve(team, ["13800138004"], "mine", at=now, since=window).empty
    assert _reserve(team, ["13800138009"], "j9", at=now, sha="b" * 64, since=window).empty
    team.settle_reservations(journal="j1", batch=0, status="accepted")  # settled now: after `since`
    team.settle_reservations(journal="j1", batch=2, status="released")
    with team._session() as conn:  # j1's batch 3: reserved and settled an hour ago
        conn.execute(
            "UPDATE reservation_batches SET status = 'accepted', settled_at = at WHERE batch = 3"
        )
    found = team.reservations_since(gateway="http://gw", since=since, journal="mine")
    assert list(found.columns) == ["journal", "batch", "campaign", "status", "size", "at", "settled_at"]
    assert found[["journal", "batch", "status", "size"]].values.tolist() == [
        ["j1", 0, "accepted", 2],  # reserved before, settled after `since`
        ["j1", 1, "reserved", 1],
        ["j1", 2, "released", 0],  # a release frees its numbers
        ["j9", 0, "reserved", 1],
    ]
    assert str(found["at"].dtype) == "datetime64[us, UTC]"
    assert found["settled_at"].isna().tolist() == [False, True, False, True]
    assert team.reservations_since(gateway="http://other", since=since, journal="mine").empty


def _reserve_rounds(url: str, name: str, rounds: int, seed: int, out: dict[str, set[str]]) -> None:
    rng = random.Random(seed)
    everyone = [f"138{i:08d}" for i in range(400)]
    with PostgresStore(url) as store:
        for r in range(rounds):
            mine = rng.sample(everyone, 300)  # unsorted, overlapping the other runner's
            taken = _reserve(store, mine, name, batch=r, sha=f"{r:064x}")
            out[f"{name}-{r}"] = set(mine) - set(taken["mobile"])


def test_two_runners_reserving_overlapping_numbers_at_once_never_both_get_one(pg_url: str) -> None:
    PostgresStore(pg_url).close()
    got: dict[str, set[str]] = {}
    runners = [
        threading.Thread(target=_reserve_rounds, args=(pg_url, name, 15, seed, got))
        for seed, name in enumerate(("analyst-a", "analyst-b", "analyst-c"))
    ]
    for t in runners:
        t.start()
    for t in runners:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in runners)  # no deadlock
    for r in range(15):
        sets = [got[f"{n}-{r}"] for n in ("analyst-a", "analyst-b", "analyst-c")]
        assert sum(map(len, sets)) == len(set().union(*sets))  # nobody reserved twice
        assert len(set().union(*sets)) >= 300  # and someone got each number asked for


# -- one runner per plan across the team --------------------------------------------------------

_HOLD = """
import sys
from smscampaign.memory.postgres import PostgresStore
with PostgresStore(sys.argv[1]) as store, store.runner_lock(fingerprint="ab12", gateway="http://gw"):
    print("holding", flush=True)
    sys.stdin.readline()
"""


def test_a_second_analyst_starting_the_same_plan_is_told_who_holds_it(pg_url: str) -> None:
    PostgresStore(pg_url).close()
    pipes = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "text": True}
    with python_child("-c", _HOLD, pg_url, **pipes) as holder, PostgresStore(pg_url) as store:
        assert readline(holder) == "holding"
        with (
            pytest.raises(JournalBusy) as busy,
            store.runner_lock(fingerprint="ab12", gateway="http://gw"),
        ):
            pytest.fail("the lock was taken twice")
        who = busy.value.holder
        assert who["pid"] == holder.pid and who["host"] and who["user"] and who["since"]
        assert f"(pid {holder.pid})" in str(busy.value) and "nothing was sent" in str(busy.value)
        # Another plan, or the same plan through another gateway, is not held back.
        with store.runner_lock(fingerprint="ab12", gateway="http://other"):
            pass
        kill_9(holder)  # the server ends the dead holder's session, and its lock with it
        with store.runner_lock(fingerprint="ab12", gateway="http://gw"):
            pass


# -- the server goes away -----------------------------------------------------------------------


def test_the_server_stopped_raises_home_error_then_the_store_works_again(pg_server, pg_url: str) -> None:
    with PostgresStore(pg_url) as store:
        assert _reserve(store, ["13800138000"], "j1").empty
        pg_server.stop("immediate")
        try:
            with pytest.raises(HomeError) as gone:
                _reserve(store, ["13900139000"], "j1", batch=1)
            assert gone.value.home == pg_url and pg_url in str(gone.value)
            with pytest.raises(HomeError, match="cannot be reached"):
                store.reservations_of("j1")
        finally:
            pg_server.start()
        assert _reserve(store, ["13900139000"], "j1", batch=1).empty  # connected again
        assert store.reservations_of("j1") == {0: "reserved", 1: "reserved"}  # nothing lost


def test_the_command_line_says_the_home_is_unreachable_in_one_line(
    pg_server, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = pg_server.url("nowhere").replace(str(pg_server.port), str(pg_server.port + 1))
    monkeypatch.setenv("SMSCAMPAIGN_HOME", url)
    assert cli.main(["history"]) == 1
    err = capsys.readouterr().err
    assert (
        err.startswith("smscampaign history: failed: the campaign home postgresql://")
        and len(err.splitlines()) == 1
    ), err
    assert "Traceback" not in err


# -- home info, home copy -----------------------------------------------------------------------


def _personal_home(sandbox, folder: Path) -> pd.DataFrame:
    """A personal home holding one campaign sent through the sandbox, a reply and an opt-out."""
    people = pd.DataFrame({"mobile": [f"1380013{i:04d}" for i in range(30)]})
    plan = sc.plan_campaign(
        sc.check_numbers(people), "春季八折，回T退订", signature="小店", batch_size=7
    )
    with sandbox.gateway(USER, PASSWORD) as gw:
        results = sc.send_campaign(plan, gw, home=folder, name="spring", progress=False)
    with History(folder) as mine:
        mine.add(
            pd.DataFrame({"sender": ["13800130001"], "content": ["退订"], "receivetime": [NOW]}), "push"
        )
        mine.add_opt_outs(["13800130002"])
    return results


def test_home_copy_moves_a_personal_home_into_the_team_home_and_twice_is_once(
    sandbox, pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "mine"
    _personal_home(sandbox, folder)
    assert cli.main(["home", "copy", str(folder), pg_url]) == 0
    out = capsys.readouterr().out
    assert "send_batches" in out and "campaigns" in out
    assert cli.main(["home", "info", pg_url]) == 0
    team_info = capsys.readouterr().out
    assert "kind:           postgresql" in team_info and f"home:           {pg_url}" in team_info
    assert "messages:       30" in team_info and "campaigns:      1" in team_info
    assert f"schema version: {len(MIGRATIONS)}" in team_info
    # Twice is once: nothing new, the same counts.
    assert cli.main(["home", "copy", str(folder), pg_url]) == 0
    again = capsys.readouterr().out
    assert all(line.split()[-1] == "0" for line in again.splitlines()[1:]), again
    assert cli.main(["home", "info", pg_url]) == 0
    assert capsys.readouterr().out == team_info
    # What the analyst reserved holds in the team home: another journal gets none of it.
    import psycopg  # noqa: PLC0415

    with psycopg.connect(pg_url) as conn:
        [(gateway, sha)] = conn.execute(
            "SELECT gateway, content_sha256 FROM reservation_contents"
        ).fetchall()
    with PostgresStore(pg_url) as team:
        everyone = [f"1380013{i:04d}" for i in range(30)]
        held = team.reserve(
            gateway=gateway,
            content_sha256=sha,
            mobiles=everyone,
            campaign="again",
            journal="a colleague's",
            batch=0,
            since=datetime.now(UTC) - 24 * HOUR,
        )
        assert sorted(held["mobile"]) == everyone and set(held["status"]) == {"accepted"}
    # The team's history is the analyst's.
    clock = lambda: datetime.now(UTC)  # noqa: E731
    with History(folder, clock=clock) as mine, History(pg_url, clock=clock) as ours:
        for read in ("campaigns", "opt_outs", "replies"):
            pd.testing.assert_frame_equal(getattr(ours, read)(), getattr(mine, read)())
        pd.testing.assert_frame_equal(ours.contacts(), mine.contacts())


# -- two analysts, one team home -----------------------------------------------------------------


def test_two_analysts_share_opt_outs_caps_and_the_send_registry(
    sandbox, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    people = sc.check_numbers(pd.DataFrame({"mobile": [f"1390013{i:04d}" for i in range(20)]}))
    plan = sc.plan_campaign(people, "会员日八折，回T退订", signature="小店", respect_opt_outs=False)
    # Analyst A (her own machine: her own journal folder) sends, and records an opt-out.
    with sandbox.gateway(USER, PASSWORD) as gw:
        first = sc.send_campaign(plan, gw, home=pg_url, journal=tmp_path / "a.journal", progress=False)
    assert (first["status"] == "accepted").all()
    with History(pg_url) as a:
        a.add_opt_outs(["13900130003"], note="asked on the phone")
    # Analyst B, elsewhere, with SMSCAMPAIGN_HOME set to the team home.
    monkeypatch.setenv("SMSCAMPAIGN_HOME", pg_url)
    b_plan = sc.plan_campaign(people, "周末再八折，回T退订", signature="小店", frequency_cap=(1, "7D"))
    statuses = b_plan.recipients.set_index("mobile")["status"]
    assert statuses["13900130003"] == "suppressed"  # A's opt-out
    assert (statuses.drop("13900130003") == "capped").all()  # A's messages count in B's cap
    # B sending A's very content from another journal: nobody twice.
    with sandbox.gateway(USER, PASSWORD) as gw:
        second = sc.send_campaign(plan, gw, journal=tmp_path / "b.journal", progress=False)
    assert (second["status"] == "already_sent").all()
    ledger = sandbox.ledger
    assert len(ledger) == 20 and ledger["receiver"].is_unique


def test_a_child_process_reads_either_home_from_the_environment(any_home: str) -> None:
    with open_home() as store:
        store.add_opt_outs([("13800138000", "2030-01-01T00:00:00.000000Z", "manual", None)])
        where = store.location
    code = "from smscampaign.memory.history import History\nh = History()\nprint(len(h.opt_outs()), h)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=child_env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert out.strip() == f"1 History({where!r})"


# -- in CI these tests run, never skip ----------------------------------------------------------


PROBE = "test_team_fixture"


@pytest.mark.parametrize(("ci", "outcome"), [("true", "1 error"), ("", "1 skipped")])
def test_without_postgresql_the_tests_skip_but_fail_in_ci(ci: str, outcome: str) -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"{__file__}::test_team_fixture",
        ],
        env=child_env(CI=ci, TEST_PG_BIN=""),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parent,
    )
    assert outcome in run.stdout, run.stdout
    if ci:
        assert run.returncode != 0 and "CI must run the PostgreSQL tests" in run.stdout


def test_team_fixture(team: PostgresStore) -> None:
    """The probe of the test above (and a store that opens)."""
    assert team.schema_version() == len(MIGRATIONS)
