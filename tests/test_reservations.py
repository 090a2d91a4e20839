"""Reservations (issue 26): the campaign home decides, before each request, who a run may text.

Every test ends with the sandbox's ledger — the ground truth — holding nobody twice, and the list
finished. Races run as separate processes (``python -c`` children) against a standalone sandbox, on
each kind of campaign home (``any_home``: the SQLite folder, then the team home on PostgreSQL).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
from _kill import kill_9, python_child
from conftest import child_env
from test_home import _FullDisk
from test_send import _ledger, _readline, people, send, standalone  # noqa: F401 (a fixture)

import smscampaign as sc
from smscampaign.campaign.registry import journal_id
from smscampaign.campaign.reservations import AHEAD
from smscampaign.memory import home as home_module
from smscampaign.memory.home import open_home

TEMPLATE = "会员日全场八折，回T退订"

# A runner child: plans numbers FIRST..LAST-1 with one content, says "ready", waits for "go" on
# stdin (so that two children start sending at the same moment), sends into JOURNAL ("": the campaign
# home's journal for the plan) with WORKERS threads (and resend_unknown if RESEND) and prints the
# count per status. With HOLD=n it prints "holding" before its n-th request leaves and waits there
# for a line on stdin (the parent kills it meanwhile). Turned away by the team home's runner lock, it
# prints {"busy": the holder's pid, "calls": its own send_sms calls, "error": the message}. With
# "bypass" last, the team home's runner lock is replaced by nothing (a test helper: production has
# no such switch), so that only the reservations stand between two runners of one plan.
RUNNER = """
import contextlib, json, sys, threading
import pandas as pd
import smscampaign as sc

url, journal = sys.argv[1], sys.argv[2] or None
first, last, hold, workers, resend = map(int, sys.argv[3:8])
if sys.argv[8:] == ["bypass"]:
    from smscampaign.memory.postgres import PostgresStore
    PostgresStore.runner_lock = lambda self, **_: contextlib.nullcontext()
frame = pd.DataFrame({"mobile": [f"139{i:08d}" for i in range(first, last)], "status": "ok"})
plan = sc.plan_campaign(frame, "TEMPLATE", signature="小店", batch_size=20)


class Held(sc.Gateway):
    calls, lock = 0, threading.Lock()

    def send_sms(self, *args, **kwargs):
        with self.lock:
            Held.calls += 1
            here = Held.calls == hold
        if here:
            print("holding", flush=True)
            sys.stdin.readline()
        return super().send_sms(*args, **kwargs)


print("ready", flush=True)
sys.stdin.readline()  # "go"
try:
    with Held("demo", "secret", base_url=url) as gw:
        results = sc.send_campaign(
            plan, gw, journal=journal, workers=workers, resend_unknown=bool(resend), progress=False
        )
except sc.JournalBusy as busy:
    said = {"busy": busy.holder.get("pid"), "calls": Held.calls, "error": str(busy)}
    print(json.dumps(said), flush=True)
    sys.exit(0)
print(json.dumps(results["status"].value_counts().to_dict()), flush=True)
""".replace("TEMPLATE", TEMPLATE)


def _runner(
    url: str,
    journal: Path | None,
    first: int,
    last: int,
    *,
    hold: int = 0,
    workers: int = 2,
    resend: bool = False,
    bypass: bool = False,
    env: dict[str, str] | None = None,
):
    """A :data:`RUNNER` child (``journal=None``: the campaign home's journal); ``env``: its
    environment (default: this one's, SMSCAMPAIGN_HOME included)."""
    return python_child(
        "-c",
        RUNNER,
        url,
        "" if journal is None else str(journal),
        *(str(int(n)) for n in (first, last, hold, workers, resend)),
        *(["bypass"] if bypass else []),
        env=env or child_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def _go(*children: subprocess.Popen) -> None:
    for child in children:
        assert _readline(child) == "ready"
    for child in children:  # both are told at once; both have everything imported
        child.stdin.write("go\n")
        child.stdin.flush()


def _finish(child: subprocess.Popen) -> dict[str, int]:
    said = json.loads(_readline(child))
    assert child.wait(timeout=120) == 0
    return said


def _assert_nobody_twice(url: str, numbers: range) -> pd.DataFrame:
    ledger = _ledger(url)
    assert not ledger.duplicated(["receiver", "content"]).any()  # 0 numbers twice
    assert sorted(ledger["receiver"]) == [f"139{i:08d}" for i in numbers]  # the list finished
    return ledger


def test_two_processes_two_journals_one_plan_at_the_same_moment(standalone, tmp_path, any_home):  # noqa: F811
    # On the team home the plan's runner lock would turn one of them away (test_team_races checks
    # that): bypassed here, so that the reservations alone decide, as on the SQLite home.
    url = standalone("--latency", "0.005")
    for round_ in range(3):
        numbers = range(round_ * 1000, round_ * 1000 + 400)
        one_plan = {"first": numbers.start, "last": numbers.stop, "bypass": True}
        with (
            _runner(url, tmp_path / f"a{round_}.journal", **one_plan) as a,
            _runner(url, tmp_path / f"b{round_}.journal", **one_plan) as b,
        ):
            _go(a, b)
            said = [_finish(a), _finish(b)]
        assert sum(s.get("accepted", 0) for s in said) == 400
        assert all(sum(s.values()) == 400 for s in said)  # the rest: already_sent
    ledger = _ledger(url)
    assert len(ledger) == 1200 and not ledger.duplicated(["receiver", "content"]).any()
    # The results say who holds the others: the same plan, from the other journal.
    results = sc.read_journal(tmp_path / "b2.journal")
    skipped = results[results["status"] == "already_sent"]
    fingerprint = results.attrs["fingerprint"][:12]
    assert skipped["reason"].str.contains(f"by campaign {fingerprint}").all()
    assert skipped["reason"].str.contains("a2.journal").all()


def test_overlapping_lists_of_two_plans_with_the_same_content(standalone, tmp_path, any_home):  # noqa: F811
    url = standalone("--latency", "0.005")
    with (
        _runner(url, tmp_path / "a.journal", 0, 300) as a,
        _runner(url, tmp_path / "b.journal", 150, 450) as b,
    ):
        _go(a, b)
        said = [_finish(a), _finish(b)]
    _assert_nobody_twice(url, range(450))
    assert sum(s.get("already_sent", 0) for s in said) == 150  # the overlap, sent by one of them
    for name in ("a", "b"):  # each journal counts what its requests carried, not its plan
        results = sc.read_journal(tmp_path / f"{name}.journal")
        with sc.Journal(tmp_path / f"{name}.journal", readonly=True) as book:
            assert book.accepted_total() == (results["status"] == "accepted").sum()


def test_a_deleted_or_emptied_journal_does_not_reopen_the_door(sandbox, gateway, tmp_path, home):
    plan = sc.plan_campaign(people(9, extra=False), TEMPLATE, signature="小店", batch_size=4)
    path = tmp_path / "spring.journal"
    assert (send(plan, gateway, journal=path)["status"] == "accepted").all()
    for way in ("deleted", "emptied"):
        if way == "deleted":
            for leftover in tmp_path.glob("spring.journal*"):
                leftover.unlink()
        else:
            path.write_bytes(b"")
        again = send(plan, gateway, journal=path)
        assert (again["status"] == "already_sent").all(), way
        assert len(sandbox.ledger) == 9
    # The journal of the campaign home (the CLI's default) too.
    send(plan, gateway)
    (default,) = (home / "journals").glob("*.journal")
    default.unlink()
    assert (send(plan, gateway)["status"] == "already_sent").all()
    assert len(sandbox.ledger) == 9


def test_a_journal_keeps_its_id_and_a_new_file_gets_another(tmp_path):
    with sc.Journal(tmp_path / "j.journal") as book:
        first = journal_id(book)
        assert first.startswith(str((tmp_path / "j.journal").resolve()) + "#")
        assert journal_id(book) == first
    with sc.Journal(tmp_path / "j.journal") as book:
        assert journal_id(book) == first
    (tmp_path / "j.journal").unlink()
    with sc.Journal(tmp_path / "j.journal") as book:
        assert journal_id(book) != first
    with sc.Journal(":memory:") as one, sc.Journal(":memory:") as two:
        assert journal_id(one).startswith("memory:") and journal_id(one) != journal_id(two)


def test_kill_9_of_a_runner_holding_reservations_then_resume(standalone, tmp_path, any_home):  # noqa: F811
    url = standalone("--latency", "0.005")
    numbers = range(20 * (AHEAD + 20))  # batches of 20: more than the run reserves ahead
    a_path, b_path = tmp_path / "a.journal", tmp_path / "b.journal"
    with _runner(url, a_path, numbers.start, numbers.stop, hold=6, workers=1) as a:
        _go(a)
        assert _readline(a) == "holding"  # five batches sent, the sixth about to leave
        with sc.Journal(a_path, readonly=True) as book:
            mine = journal_id(book)
        with open_home(any_home) as store:
            deadline = time.monotonic() + 30
            while store.reservations_of(mine).get(10) != "reserved":  # reserved ahead
                assert time.monotonic() < deadline
                time.sleep(0.01)
        kill_9(a)
    with sc.Journal(a_path, readonly=True) as book:
        states = book.batches().set_index("batch")["state"]
    assert states[5] == "accepted" and states[6] == "in_flight" and states[10] == "planned"
    # Another journal meanwhile: what the killed run holds (sent, in flight, reserved ahead) stays
    # held; it sends the rest.
    with _runner(url, b_path, numbers.start, numbers.stop) as b:
        _go(b)
        said_b = _finish(b)
    assert said_b["already_sent"] >= 20 * 10 and said_b["accepted"] >= 20 * 10
    assert said_b["accepted"] + said_b["already_sent"] == len(numbers)
    # The same command again (the held request never left, so resending the unknown is safe): the
    # killed run's journal releases what it never requested, reserves it again and finishes.
    with _runner(url, a_path, numbers.start, numbers.stop, resend=True) as a:
        _go(a)
        _finish(a)
    _assert_nobody_twice(url, numbers)
    with open_home(any_home) as store:
        assert set(store.reservations_of(mine).values()) <= {"accepted", "released"}


@pytest.fixture
def full_disk(monkeypatch):
    """The campaign home's writes fail as a full disk does once ``after`` reservations are written
    (fault injection at the store's database connection; the gateway is the real sandbox)."""
    state = {"after": None, "done": 0, "error": "database or disk is full"}
    connect = home_module.connect_wal

    class Counting(_FullDisk):
        @property
        def in_transaction(self) -> bool:
            # The store's rollback() calls sqlite3.Connection.execute on the connection itself,
            # which this wrapper is not: roll back here (when the registry's writer hit the full
            # disk), as it would.
            if self.full and self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            return bool(self.conn.in_transaction)

        def execute(self, sql: str, *args):
            if "INTO reservations" in sql and state["after"] is not None:
                if state["done"] >= state["after"]:
                    self.full = True
                state["done"] += 1
            return super().execute(sql, *args)

    monkeypatch.setattr(home_module, "connect_wal", lambda path: Counting(connect(path), state["error"]))
    return state


@pytest.mark.parametrize("error", ["database or disk is full", "disk I/O error"])
def test_the_home_full_mid_campaign_stops_before_the_next_request(
    sandbox, gateway, tmp_path, home, full_disk, monkeypatch, error
):
    batches = AHEAD + 12  # the first chunk (AHEAD batches ahead) commits; a later one fails
    plan = sc.plan_campaign(people(batches * 10, extra=False), TEMPLATE, signature="小店", batch_size=10)
    path = tmp_path / "j.journal"
    full_disk.update(after=AHEAD + 4, error=error)  # full at that batch's reservation
    with pytest.raises(sc.HomeError, match=error) as raised:
        send(plan, gateway, journal=path)
    assert raised.value.home == str(home)
    # Every batch requested had its reservation committed first; nothing after it was sent. (On a
    # loaded machine the registry's writer may meet the full disk first, and the run stops sooner.)
    sent = sandbox.ledger
    assert len(sent) <= (AHEAD + 4) * 10 and len(sent) % 10 == 0  # chunks committed
    full_disk.update(after=None)
    with sqlite3.connect(home / "home.sqlite") as db:
        reserved = {m for (ms,) in db.execute("SELECT mobiles FROM reservations") for m in ms.split(",")}
    assert set(sent["receiver"]) <= reserved  # nothing was sent without a reservation
    # The home is back: the same call resumes and finishes, nobody twice.
    results = send(plan, gateway, journal=path)
    assert results.attrs["resumed"] and (results["status"] == "accepted").all()
    assert len(sandbox.ledger) == batches * 10 and not sandbox.ledger["receiver"].duplicated().any()


def test_the_cli_stops_with_one_line_naming_the_home_and_resumes(
    sandbox, tmp_path, home, full_disk, monkeypatch, capsys
):
    from smscampaign.cli import main

    source = tmp_path / "people.csv"
    pd.DataFrame({"手机": [f"139{i:08d}" for i in range(60)]}).to_csv(source, index=False)
    argv = ["send", str(source), "--template", TEMPLATE, "--signature", "小店", "--batch-size", "10"]
    argv += ["--base-url", sandbox.url, "--no-progress", "--journal", str(tmp_path / "j.journal")]
    monkeypatch.setenv("SMSCAMPAIGN_USERNAME", "demo")
    monkeypatch.setenv("SMSCAMPAIGN_PASSWORD", "s3cret-PW!")
    full_disk.update(after=0)
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("smscampaign send: failed: the campaign home") and str(home) in err
    assert "Traceback" not in err and "s3cret" not in err
    assert sandbox.ledger.empty  # the first reservation failed: nothing was sent
    full_disk.update(after=None)
    assert main(argv) == 0
    assert len(sandbox.ledger) == 60 and not sandbox.ledger["receiver"].duplicated().any()
