"""The send journal: one runner per journal, compare-and-set claims, schema, read-only reading."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from _kill import kill_9, python_child, spawn
from conftest import PASSWORD, USER, readline
from test_send import ScriptedGateway, make_plan, send

import smscampaign as sc
from smscampaign.memory.journal import BATCH_COLUMNS, Journal
from smscampaign.memory.journal_reads import is_journal, journal_mobiles

# -- one runner per journal ------------------------------------------------------------------------


def test_second_runner_in_this_process_is_busy_and_names_the_holder(tmp_path):
    path = tmp_path / "j.journal"
    with Journal(path) as first, first.runner():
        with Journal(path) as second, pytest.raises(sc.JournalBusy) as info:
            with second.runner():
                pass
        assert isinstance(info.value, sc.JournalError)
        message = str(info.value)
        assert f"pid {os.getpid()}" in message and socket.gethostname() in message
        assert "started" in message and "nothing was sent" in message
        assert info.value.holder["pid"] == os.getpid()
        # Reading needs no lock.
        with Journal(path, readonly=True) as reader:
            assert reader.counts()["planned"] == 0
    with Journal(path) as third, third.runner():  # released with the first
        pass


def test_second_send_campaign_during_a_run_fails_before_sending(sandbox, tmp_path):
    plan = make_plan(6, batch_size=3, extra=False)
    path = tmp_path / "j.journal"
    seen: list[BaseException] = []

    def second_run() -> None:
        with sandbox.gateway(USER, PASSWORD) as other:
            try:
                send(plan, other, journal=path)
            except sc.SmsCampaignError as exc:
                seen.append(exc)

    with ScriptedGateway(USER, PASSWORD, base_url=sandbox.url, script=[second_run]) as gw:
        results = send(plan, gw, journal=path)
    assert len(seen) == 1 and isinstance(seen[0], sc.JournalBusy)
    assert (results["status"] == "accepted").all()
    assert len(sandbox.ledger) == 6 and not sandbox.ledger["receiver"].duplicated().any()
    # The second run asked the gateway nothing: one user_info (the first run's preflight).
    assert (sandbox.calls["endpoint"] == "user_info").sum() == 1


def test_the_lock_dies_with_its_process(tmp_path):
    path = tmp_path / "j.journal"
    code = (
        "import sys; from smscampaign.memory.journal import Journal\n"
        f"j = Journal({str(path)!r}); cm = j.runner(); cm.__enter__()\n"
        "print('locked', flush=True); sys.stdin.readline()\n"
    )
    with python_child("-c", code, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as child:
        assert readline(child) == "locked"
        with Journal(path) as journal, pytest.raises(sc.JournalBusy, match=f"pid {child.pid}"):
            with journal.runner():
                pass
        kill_9(child)
        with Journal(path) as journal, journal.runner():
            pass


# -- compare-and-set claims ------------------------------------------------------------------------


def test_claim_is_compare_and_set(tmp_path):
    plan = make_plan(6, batch_size=3, extra=False)
    with Journal(tmp_path / "j.journal") as one, Journal(tmp_path / "j.journal") as two:
        one.attach(plan)
        two.attach(plan)
        assert one.claim(1, states=["planned"], attempts=0)
        assert not two.claim(1, states=["planned"], attempts=0)  # the other runner won
        one.record(1, "failed", retryable=True, error_kind="GatewayConnectionError")
        assert not two.claim(1, states=["failed"], attempts=0)  # stale attempt count
        assert two.claim(1, states=["failed"], attempts=1)
        row = one.batches().set_index("batch").loc[1]
        assert (row["state"], row["attempts"]) == ("in_flight", 2)


def test_error_kind_is_a_journal_column(sandbox, tmp_path):
    plan = make_plan(3, batch_size=3, extra=False)
    path = tmp_path / "j.journal"

    def refuse() -> None:
        raise sc.GatewayConnectionError("send_sms: cannot connect")

    with ScriptedGateway(USER, PASSWORD, base_url=sandbox.url, script=[refuse]) as gw:
        send(plan, gw, journal=path, max_retries=0)
    with Journal(path, readonly=True) as journal:
        batches = journal.batches()
    assert list(batches.columns) == list(BATCH_COLUMNS)
    assert batches["error_kind"].tolist() == ["GatewayConnectionError"]


def test_schema_1_journal_is_upgraded_and_still_read(sandbox, gateway, tmp_path):
    plan = make_plan(6, batch_size=3, extra=False)
    path = tmp_path / "old.journal"
    with Journal(path) as journal:
        journal.attach(plan)
    with sqlite3.connect(path) as conn:  # back to what version 1 wrote
        conn.execute("DROP TABLE excluded")
        conn.execute("DROP TABLE reconciliations")
        for column in ("error_kind", "receivers", "settle"):
            conn.execute(f"ALTER TABLE batches DROP COLUMN {column}")
        conn.execute("UPDATE meta SET value='1' WHERE key='schema'")
    assert (sc.read_journal(path)["status"] == "not_sent").all()  # read as it is
    results = send(plan, gateway, journal=path)
    assert (results["status"] == "accepted").all()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone() == ("2",)


def test_two_processes_creating_one_journal_never_raise_raw_sqlite_errors(tmp_path):
    code = (
        "import sys\n"
        "sys.path.insert(0, 'tests')\n"
        "from test_send import make_plan\n"
        "from smscampaign.memory.journal import Journal\n"
        "plan = make_plan(30, batch_size=3, extra=False)\n"
        "print('ready', flush=True)\n"
        "for line in sys.stdin:\n"
        "    try:\n"
        "        with Journal(line.strip()) as j:\n"
        "            print('new' if j.attach(plan) else 'resumed', flush=True)\n"
        "    except Exception as exc:\n"
        "        print(type(exc).__name__, exc, flush=True)\n"
    )
    children = [
        spawn("-c", code, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for _ in range(2)
    ]
    try:
        for child in children:
            assert readline(child) == "ready"
        for round_ in range(10):
            path = tmp_path / f"new-{round_}.journal"
            for child in children:  # both start creating the same new file together
                child.stdin.write(f"{path}\n")
                child.stdin.flush()
            said = sorted(readline(child) for child in children)
            assert said == ["new", "resumed"], said
            with Journal(path, readonly=True) as journal:
                assert journal.counts()["planned"] == 10
    finally:
        for child in children:
            child.stdin.close()
            child.wait(timeout=60)
            child.stdout.close()


# -- read-only journals ----------------------------------------------------------------------------


def test_read_only_journal_is_reported_on_but_never_sent_from(sandbox, gateway, tmp_path, capsys):
    plan = make_plan(6, batch_size=3)
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "c.journal"
    send(plan, gateway, journal=path)
    for leftover in folder.glob("c.journal?*"):
        leftover.unlink()  # e.g. the lock file: a folder copied from elsewhere
    path.chmod(0o444)
    folder.chmod(0o555)
    try:
        results = sc.read_journal(path)
        assert (results["status"] == "accepted").sum() == 6
        from smscampaign.cli import main

        out = tmp_path / "r.xlsx"
        assert main(["report", str(path), "--out", str(out)]) == 0
        assert out.is_file()
        with pytest.raises(sc.JournalError, match="read-only"):
            send(plan, gateway, journal=path)
    finally:
        folder.chmod(0o755)
        path.chmod(0o644)
    assert len(sandbox.ledger) == 6


# -- a changed plan, and the remedy ----------------------------------------------------------------


def test_changed_plan_error_points_at_the_safe_remedy_and_it_works(sandbox, gateway, tmp_path):
    people = make_plan(9, batch_size=3, extra=False).recipients[["source_row", "mobile", "name"]]
    people = people.assign(status="ok", reason=pd.Series([None] * 9, dtype="str"))
    first = sc.plan_campaign(people, "{name}您好，会员日八折", signature="小店", batch_size=3)
    path = tmp_path / "spring.journal"
    script = [
        lambda: sandbox.fail_next("send_sms", -109),  # batch 1: unknown (sent, not charged)
        None,  # batch 2: accepted
        lambda: sandbox.fail_next("send_sms", -107),  # batch 3: the campaign stops, not sent
    ]
    with ScriptedGateway(USER, PASSWORD, base_url=sandbox.url, script=script) as gw:
        half = send(first, gw, journal=path)
    assert half["status"].value_counts().to_dict() == {"unknown": 3, "accepted": 3, "not_sent": 3}

    changed = sc.plan_campaign(people, "{name}您好，会员日七折", signature="小店", batch_size=3)
    with pytest.raises(sc.JournalError) as info:
        send(changed, gateway, journal=path)
    message = str(info.value)
    assert "suppress=" in message and "--suppress" in message and str(path) in message
    assert "new journal" not in message.replace("Do not just start a new journal", "")

    mobiles = journal_mobiles(path)
    assert sorted(mobiles) == sorted(half.loc[half["status"] != "not_sent", "mobile"])
    assert is_journal(path) and not is_journal(tmp_path / "nothing")
    remedy = sc.plan_campaign(
        people, "{name}您好，会员日七折", signature="小店", batch_size=3, suppress=path
    )
    assert remedy.counts()["suppressed"] == 6 and remedy.messages == 3
    send(remedy, gateway, journal=tmp_path / "summer.journal")
    ledger = sandbox.ledger
    assert not ledger["receiver"].duplicated().any()  # nobody got both versions
    assert len(ledger) == 9


def test_in_memory_journal_writes_no_file(gateway, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    results = send(make_plan(3), gateway, journal=False)
    assert results.attrs["journal"] is None
    assert list(tmp_path.iterdir()) == []


def test_send_campaign_needs_a_plan(gateway):
    checked = sc.check_numbers(pd.DataFrame({"手机": ["13800138000"]}))
    with pytest.raises(sc.ConfigError, match="plan_campaign"):
        sc.send_campaign(checked, gateway)


def test_journal_must_be_a_path_or_false(gateway):
    with pytest.raises(sc.ConfigError, match="journal must be"):
        send(make_plan(3), gateway, journal=True)


def test_concurrent_threads_on_one_journal_object_share_the_lock(sandbox, tmp_path):
    # Two threads of one kernel sending the same plan with their own Journal objects: one is busy.
    plan = make_plan(30, batch_size=3, extra=False)
    path = tmp_path / "j.journal"
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run() -> None:
        with sandbox.gateway(USER, PASSWORD) as gw:
            barrier.wait(timeout=30)
            try:
                send(plan, gw, journal=path)
                outcomes.append("sent")
            except sc.JournalBusy:
                outcomes.append("busy")

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(outcomes) in (["busy", "sent"], ["sent", "sent"])
    assert len(sandbox.ledger) == 30 and not sandbox.ledger["receiver"].duplicated().any()


# -- the recipients' copy: written while the run gets ready, committed before the first claim -------


def _holds_recipients(path: Path) -> bool:
    with sqlite3.connect(path) as conn:  # another connection: sees only what is committed
        return conn.execute("SELECT recipients IS NOT NULL FROM plan").fetchone() == (1,)


def test_deferred_recipients_are_committed_before_the_first_claim(tmp_path):
    plan = make_plan(6, batch_size=3, extra=False)
    path = tmp_path / "j.journal"
    with Journal(path) as journal:
        assert journal.attach(plan, defer_recipients=True)
        assert not _holds_recipients(path)  # written on a thread meanwhile, not committed yet
        assert journal.claim(1, states=["planned"], attempts=0)
        assert _holds_recipients(path)  # with the claim, before its request could leave
    with Journal(path, readonly=True) as reader:
        stored = reader.recipients()
    assert stored["mobile"].tolist() == plan.recipients["mobile"].tolist()
    assert stored["batch"].tolist() == plan.recipients["batch"].tolist()
    # Without defer_recipients, attach commits them at once.
    other = tmp_path / "k.journal"
    with Journal(other) as journal:
        journal.attach(plan)
        assert _holds_recipients(other)


def test_a_run_killed_before_its_first_claim_is_resumed_with_its_recipients(sandbox, gateway, tmp_path):
    path = tmp_path / "j.journal"
    code = (
        "import sys; sys.path.insert(0, 'tests')\n"
        "from test_send import make_plan; from smscampaign.memory.journal import Journal\n"
        f"j = Journal({str(path)!r}); j.attach(make_plan(6, batch_size=3, extra=False), "
        "defer_recipients=True)\n"
        "print('attached', flush=True); sys.stdin.readline()\n"
    )
    with python_child("-c", code, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as child:
        assert readline(child) == "attached"
        kill_9(child)
    assert not _holds_recipients(path)
    assert journal_mobiles(path).empty  # nothing was claimed, so nobody was texted
    with pytest.raises(sc.JournalError, match="stopped before sending anything"):
        sc.read_journal(path)
    plan = make_plan(6, batch_size=3, extra=False)
    results = send(plan, gateway, journal=path)
    assert results.attrs["resumed"] and (results["status"] == "accepted").all()
    assert _holds_recipients(path)
    assert (sc.read_journal(path)["status"] == "accepted").all()
    assert len(sandbox.ledger) == 6 and not sandbox.ledger["receiver"].duplicated().any()


def test_recipients_that_cannot_be_stored_stop_the_run_before_anything_is_sent(
    sandbox, gateway, tmp_path, monkeypatch
):
    import smscampaign.memory.journal as journal_module

    def broken(table):
        raise OSError("No space left on device")

    plan = make_plan(6, batch_size=3, extra=False)
    path = tmp_path / "j.journal"
    with monkeypatch.context() as patch:  # never monkeypatch.undo(): it would undo more than this
        patch.setattr(journal_module, "parquet_bytes", broken)
        with pytest.raises(OSError, match="No space left"):
            send(plan, gateway, journal=path)
    assert sandbox.ledger.empty
    with Journal(path, readonly=True) as reader:
        assert set(reader.batches()["state"]) == {"planned"}
    assert (send(plan, gateway, journal=path)["status"] == "accepted").all()
    assert len(sandbox.ledger) == 6


# -- the lock file is removed, the lock's guarantee kept (issue 28, item 22) ------------------------


def test_the_lock_file_is_removed_on_release_and_taken_over_from_a_killed_run(tmp_path):
    path = tmp_path / "j.journal"
    with Journal(path) as journal, journal.runner():
        assert (tmp_path / "j.journal.lock").is_file()
    assert not (tmp_path / "j.journal.lock").exists()
    # A lock file a killed run left (its lock died with it) is taken over, then removed.
    (tmp_path / "j.journal.lock").write_text('{"pid": 1}')
    with Journal(path) as journal, journal.runner():
        pass
    assert sorted(p.name for p in tmp_path.iterdir()) == ["j.journal"]


def test_removing_the_lock_file_never_lets_two_runners_hold_it(tmp_path):
    """Runners take and release the lock as fast as they can: one that opened the file just before
    the holder removed it must not hold "the" lock beside a runner of the new file."""
    from smscampaign.memory.lock import RunnerLock

    journal = str(tmp_path / "j.journal")
    holders, most, taken = [0], [0], [0]
    guard = threading.Lock()
    stop = threading.Event()

    def runner() -> None:
        while not stop.is_set():
            lock = RunnerLock(journal)
            try:
                lock.acquire()
            except sc.JournalBusy:
                continue
            with guard:
                holders[0] += 1
                most[0] = max(most[0], holders[0])
                taken[0] += 1
            time.sleep(0.0005)  # hold it a moment: a second holder would overlap
            with guard:
                holders[0] -= 1
            lock.release()

    threads = [threading.Thread(target=runner) for _ in range(6)]
    for thread in threads:
        thread.start()
    stop.wait(2.0)
    stop.set()
    for thread in threads:
        thread.join()
    assert taken[0] > 100 and most[0] == 1, (taken[0], most[0])
    assert not os.path.exists(journal + ".lock")
