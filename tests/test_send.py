"""The send engine against the sandbox over loopback; the sandbox's ledger is the ground truth."""

from __future__ import annotations

import _thread
import json
import logging
import random
import sqlite3
import subprocess
import threading
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
import requests
from _kill import send_killing_runs, spawn
from conftest import PASSWORD, USER, child_env, readline

import smscampaign as sc
from smscampaign.campaign.send import RESULT_COLUMNS
from smscampaign.core.errors import GatewayConnectionError
from smscampaign.wire.gateway import Gateway
from smscampaign.wire.protocol import BEIJING

READY = "ready"


def people(n: int, *, extra: bool = True, names: int = 1) -> pd.DataFrame:
    """``n`` ok recipients with ``names`` distinct names (so as many contents), plus (``extra``) one
    invalid row and one duplicate."""
    frame = pd.DataFrame(
        {
            "source_row": range(2, n + 2),
            "mobile": [f"138{i:08d}" for i in range(n)],
            "status": "ok",
            "reason": pd.Series([None] * n, dtype="str"),
            "name": [f"客户{i % names}" for i in range(n)],
            "carrier": "中国移动",
        }
    )
    if extra:
        bad = pd.DataFrame(
            {
                "source_row": [n + 2, n + 3],
                "mobile": [None, "13800000000"],
                "status": ["invalid", "duplicate"],
                "reason": ["wrong length", "duplicate of row 2"],
                "name": ["x", "y"],
                "carrier": [None, "中国移动"],
            }
        )
        frame = pd.concat([frame, bad], ignore_index=True)
    return frame


def make_plan(
    n: int = 10, *, batch_size: int = 3, extra: bool = True, names: int = 1, **kwargs
) -> sc.Plan:
    return sc.plan_campaign(
        people(n, extra=extra, names=names),
        "{name}您好，会员日八折",
        signature="小店",
        batch_size=batch_size,
        **kwargs,
    )


def ready_pairs(plan: sc.Plan) -> set[tuple[str, str]]:
    ready = plan.recipients[plan.recipients["status"] == READY]
    return set(zip(ready["mobile"], ready["content"], strict=True))


def ledger_pairs(ledger: pd.DataFrame) -> list[tuple[str, str]]:
    return list(zip(ledger["receiver"], ledger["content"], strict=True))


def send(plan, gw, **kwargs) -> pd.DataFrame:
    kwargs.setdefault("progress", False)
    kwargs.setdefault("retry_backoff", 0.001)
    return sc.send_campaign(plan, gw, **kwargs)


class ScriptedGateway(Gateway):
    """A real gateway whose ``send_sms`` first runs a scripted action per call (raise, set faults …)."""

    def __init__(self, *args, script=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.script = list(script)
        self.lock = threading.Lock()

    def send_sms(self, receivers, content, sendtime=None):
        with self.lock:
            action = self.script.pop(0) if self.script else None
        if action is not None:
            action()
        return super().send_sms(receivers, content, sendtime)


class LogSeen(logging.Handler):
    """While active (``with``), sets ``event`` when smscampaign logs a message containing ``text``:
    a test waits for what the library says it did, never for a while."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text, self.event = text, threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.event.set()

    def __enter__(self) -> LogSeen:
        logging.getLogger("smscampaign").addHandler(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        logging.getLogger("smscampaign").removeHandler(self)


# -- a full campaign -------------------------------------------------------------------------------


@pytest.mark.parametrize("workers", [1, 3])
def test_full_campaign_sends_each_ready_recipient_once_with_its_content(sandbox, gateway, workers):
    plan = make_plan(20, batch_size=3, names=7)
    before = plan.recipients.copy()
    results = send(plan, gateway, workers=workers)

    ledger = sandbox.ledger
    assert len(ledger) == plan.messages == 20
    assert sorted(ledger_pairs(ledger)) == sorted(ready_pairs(plan))
    assert results["status"].value_counts().to_dict() == {"accepted": 20, "invalid": 1, "duplicate": 1}
    pd.testing.assert_frame_equal(plan.recipients, before)  # the plan is not modified


def test_results_columns_types_and_not_ready_rows(gateway):
    plan = make_plan(4, batch_size=2)
    results = send(plan, gateway)

    # issue 19: what a person reads first (the plan's ``name`` right after source_row), then the rest
    lead = list(results.columns[: len(RESULT_COLUMNS) + 1])
    assert lead == ["source_row", "name", *RESULT_COLUMNS[1:]]
    assert {"carrier", "name"} <= set(results.columns)
    assert len(results) == len(plan.recipients)
    pd.testing.assert_index_equal(results.index, plan.recipients.index)
    assert str(results["code"].dtype) == "Int64"
    assert isinstance(results["sent_at"].dtype, pd.DatetimeTZDtype)
    accepted = results[results["status"] == "accepted"]
    assert (accepted["code"] >= 0).all() and (accepted["attempts"] == 1).all()
    assert (accepted["category"] == "success").all() and accepted["sent_at"].notna().all()
    assert accepted["batch"].notna().all()
    skipped = results.set_index("status").loc[["invalid", "duplicate"]]
    assert skipped["code"].isna().all() and skipped["batch"].isna().all()
    assert skipped.loc["invalid", "reason"] == "wrong length"  # the plan's reason, kept
    assert skipped["reason"].notna().all()
    assert results.attrs["fingerprint"] == plan.fingerprint


# -- code categories -------------------------------------------------------------------------------


def test_retryable_code_is_retried_until_accepted(sandbox, gateway):
    plan = make_plan(6, batch_size=3, extra=False)
    sandbox.fail_next("send_sms", -101, times=2)
    results = send(plan, gateway, max_retries=3)

    assert (results["status"] == "accepted").all()
    assert sorted(ledger_pairs(sandbox.ledger)) == sorted(ready_pairs(plan))
    assert results.groupby("batch")["attempts"].first().tolist() == [3, 1]


def test_retryable_failures_exhausted_are_failed_then_retried_on_resume(sandbox, gateway, tmp_path):
    plan = make_plan(9, batch_size=3, extra=False)
    journal = tmp_path / "j.sqlite"
    sandbox.fail_next("send_sms", -100, times=4)  # batches 1 and 2: first try and one retry
    first = send(plan, gateway, journal=journal, max_retries=1)

    failed = first[first["status"] == "failed"]
    assert sorted(failed["batch"].unique().tolist()) == [1, 2]
    assert (failed["code"] == -100).all() and (failed["category"] == "retryable").all()
    assert failed["message_zh"].eq("系统内部错误").all()
    assert len(sandbox.ledger) == 3

    second = send(plan, gateway, journal=journal)
    assert (second["status"] == "accepted").all()
    assert sorted(ledger_pairs(sandbox.ledger)) == sorted(ready_pairs(plan))  # nothing twice


def test_ambiguous_code_is_unknown_and_never_resent_unless_asked(sandbox, gateway, tmp_path):
    plan = make_plan(6, batch_size=3, extra=False)
    journal = tmp_path / "j.sqlite"
    sandbox.fail_next("send_sms", -109)
    first = send(plan, gateway, journal=journal)

    unknown = first[first["status"] == "unknown"]
    assert len(unknown) == 3 and (unknown["code"] == -109).all()
    assert (unknown["category"] == "ambiguous").all() and unknown["reason"].notna().all()
    assert len(sandbox.ledger) == 6  # −109: the messages did go out

    again = send(plan, gateway, journal=journal)
    assert len(sandbox.ledger) == 6
    assert (again["status"] == "unknown").sum() == 3

    send(plan, gateway, journal=journal, resend_unknown=True)
    assert len(sandbox.ledger) == 9  # the caller asked for it: those three were sent again


def test_account_code_stops_the_campaign_and_the_rest_is_not_sent(sandbox, gateway):
    sandbox.update_account(USER, sms_left=5)
    plan = make_plan(9, batch_size=3, extra=False)
    results = send(plan, gateway, allow_partial=True)

    assert len(sandbox.ledger) == 3
    counts = results["status"].value_counts().to_dict()
    assert counts == {"accepted": 3, "not_sent": 6}
    not_sent = results[results["status"] == "not_sent"]
    assert (not_sent["code"] == -107).all()
    assert not_sent["reason"].str.contains("Not enough messages").all()
    assert (sandbox.calls["endpoint"] == "send_sms").sum() == 2  # stopped at once


def test_request_code_fails_that_batch_only_and_is_not_retried(sandbox, gateway, tmp_path):
    plan = make_plan(9, batch_size=3, extra=False)
    journal = tmp_path / "j.sqlite"
    sandbox.fail_next("send_sms", -119)
    first = send(plan, gateway, journal=journal)

    failed = first[first["status"] == "failed"]
    assert len(failed) == 3 and (failed["code"] == -119).all() and (failed["attempts"] == 1).all()
    assert (failed["category"] == "request").all()
    assert len(sandbox.ledger) == 6
    second = send(plan, gateway, journal=journal)
    assert len(sandbox.ledger) == 6
    assert second.loc[failed.index, "attempts"].eq(1).all()


# -- transport failures ----------------------------------------------------------------------------


def test_failure_before_sending_is_retried(sandbox):
    plan = make_plan(6, batch_size=3, extra=False)

    def refuse() -> None:
        raise GatewayConnectionError("send_sms: cannot connect (ConnectionRefusedError)")

    with ScriptedGateway(USER, PASSWORD, base_url=sandbox.url, script=[refuse, refuse]) as gw:
        results = send(gw=gw, plan=plan, max_retries=2)
    assert (results["status"] == "accepted").all()
    assert sorted(ledger_pairs(sandbox.ledger)) == sorted(ready_pairs(plan))
    assert results["attempts"].max() == 3


def test_connection_refused_exhausted_is_failed_and_not_sent(sandbox):
    plan = make_plan(3, batch_size=3, extra=False)

    def refuse() -> None:
        raise GatewayConnectionError("send_sms: cannot connect (ConnectionRefusedError)")

    with ScriptedGateway(USER, PASSWORD, base_url=sandbox.url, script=[refuse] * 3) as gw:
        results = send(gw=gw, plan=plan, max_retries=1)
    assert (results["status"] == "failed").all() and results["code"].isna().all()
    assert results["message_en"].str.contains("GatewayConnectionError").all()
    assert results["message_zh"].eq("网络错误，未发送").all()
    assert sandbox.ledger.empty


def test_read_timeout_is_unknown_and_not_retried(sandbox):
    plan = make_plan(6, batch_size=3, extra=False)

    def slow() -> None:  # answered only when the sandbox stops: the 0.2 s read timeout always wins
        sandbox.faults = dict(delay=600, delay_p=1.0)

    def fast() -> None:
        sandbox.faults = {}

    with ScriptedGateway(
        USER, PASSWORD, base_url=sandbox.url, timeout=(2.0, 0.2), script=[slow, fast]
    ) as gw:
        results = send(gw=gw, plan=plan, reconcile=None)  # not settled by the balance
    unknown = results[results["status"] == "unknown"]
    assert len(unknown) == 3 and (unknown["attempts"] == 1).all()
    assert unknown["reason"].str.contains("read timeout").all()
    assert unknown["message_zh"].eq("网络错误，结果未知").all()
    assert len(sandbox.ledger) == 6  # the slow one was accepted after all: an unknown, not a failure
    assert (results["status"] == "accepted").sum() == 3


# -- preflight -------------------------------------------------------------------------------------


def test_preflight_stops_when_the_balance_is_short(sandbox, gateway):
    sandbox.update_account(USER, sms_left=4)
    plan = make_plan(7, batch_size=3)
    with pytest.raises(sc.InsufficientBalance) as info:
        send(plan, gateway)
    assert (info.value.needed, info.value.available) == (7, 4)
    assert "4" in str(info.value) and "7" in str(info.value)
    assert sandbox.ledger.empty
    assert sandbox.calls["endpoint"].tolist() == ["user_info"]


def test_preflight_account_error(sandbox, gateway):
    sandbox.update_account(USER, frozen=True)
    with pytest.raises(sc.AccountError) as info:
        send(make_plan(3), gateway)
    assert info.value.code == -105


# -- send window -----------------------------------------------------------------------------------


class FakeClock:
    """Beijing times from a list, one per call, the last repeated; remembers the last one given."""

    def __init__(self, *times: str) -> None:
        self.times = [datetime.fromisoformat(t).replace(tzinfo=BEIJING) for t in times]
        self.last: datetime | None = None
        self.calls = 0

    def __call__(self) -> datetime:
        self.calls += 1
        self.last = self.times.pop(0) if len(self.times) > 1 else self.times[0]
        return self.last


def test_send_window_pauses_outside_the_window(sandbox):
    plan = make_plan(9, batch_size=3, extra=False)
    clock = FakeClock(
        "2030-01-01 21:50", "2030-01-01 22:10", "2030-01-02 07:59:59.9", "2030-01-02 08:00:05"
    )
    seen: list[datetime | None] = []
    record = lambda: seen.append(clock.last)  # noqa: E731
    waits: list[float] = []  # the engine's waits, injected: no real time passes under the fake clock
    with ScriptedGateway(USER, PASSWORD, base_url=sandbox.url, script=[record] * 3) as gw:
        results = send(plan, gw, send_window=("08:00", "22:00"), clock=clock, sleep=waits.append)
    assert (results["status"] == "accepted").all()
    assert [t.strftime("%H:%M") for t in seen] == ["21:50", "08:00", "08:00"]
    assert clock.calls >= 4
    assert waits == pytest.approx([1.0, 0.1])  # a step at 22:10, the last 0.1 s before 08:00


def test_send_window_is_validated(gateway):
    with pytest.raises(ValueError, match="send_window"):
        send(make_plan(2), gateway, send_window=("8 o'clock", "22:00"))


# -- journal and resume ----------------------------------------------------------------------------


def test_resume_after_interruption_sends_the_rest_once(sandbox, tmp_path):
    plan = make_plan(15, batch_size=3, extra=False)
    journal = tmp_path / "j.sqlite"

    handled = LogSeen("interrupted: waiting for the requests in flight to finish")

    def ctrl_c() -> None:
        # Ctrl-C arrives in the main thread while the third request is being sent; the request
        # waits until the main thread has handled it (the run says so in its log).
        _thread.interrupt_main()
        assert handled.event.wait(60), "the run did not handle the interrupt"

    with (
        handled,
        ScriptedGateway(
            USER, PASSWORD, base_url=sandbox.url, script=[lambda: None, lambda: None, ctrl_c]
        ) as gw,
    ):
        first = send(plan, gw, journal=journal)
    assert first.attrs["interrupted"]
    assert (first["status"] == "accepted").sum() == 9  # requests in flight finish
    assert (first["status"] == "not_sent").sum() == 6
    assert first.loc[first["status"] == "not_sent", "reason"].eq("interrupted before sending").all()

    with sandbox.gateway(USER, PASSWORD) as gw:
        second = send(plan, gw, journal=journal)
    assert (second["status"] == "accepted").all()
    assert sorted(ledger_pairs(sandbox.ledger)) == sorted(ready_pairs(plan))


def test_batch_in_flight_when_the_process_died_becomes_unknown(sandbox, gateway, tmp_path):
    plan = make_plan(6, batch_size=3, extra=False)
    path = tmp_path / "j.sqlite"
    with sc.Journal(path) as journal:
        journal.attach(plan)
        journal.mark_in_flight(1)  # and then the process was killed
    results = send(plan, gateway, journal=path)
    assert results.loc[results["batch"] == 1, "status"].eq("unknown").all()
    assert results.loc[results["batch"] == 1, "reason"].str.contains("may have reached").all()
    assert results.loc[results["batch"] == 1, "message_zh"].eq("发送中断，结果未知").all()
    assert set(sandbox.ledger["receiver"]) == set(results.loc[results["batch"] == 2, "mobile"])


def test_journal_of_another_plan_is_refused(gateway, tmp_path):
    path = tmp_path / "j.sqlite"
    send(make_plan(3), gateway, journal=path)
    with pytest.raises(sc.JournalError, match="another plan"):
        send(make_plan(4), gateway, journal=path)


def test_read_journal_rebuilds_the_results(sandbox, gateway, tmp_path):
    plan = make_plan(8, batch_size=3)
    path = tmp_path / "j.sqlite"
    sandbox.fail_next("send_sms", -119)
    results = send(plan, gateway, journal=path)
    rebuilt = sc.read_journal(path)
    pd.testing.assert_frame_equal(rebuilt, results, check_dtype=False)
    assert rebuilt["code"].dtype == results["code"].dtype
    with pytest.raises(sc.JournalError):
        sc.read_journal(path, fingerprint="0" * 64)
    with pytest.raises(sc.JournalError):
        sc.read_journal(tmp_path / "missing.sqlite")


def test_plan_with_nobody_ready_sends_nothing(sandbox, gateway):
    plan = sc.plan_campaign(people(2).iloc[2:], "您好", signature="小店")
    results = send(plan, gateway)
    assert results["status"].tolist() == ["invalid", "duplicate"]
    assert sandbox.calls.empty and isinstance(results["sent_at"].dtype, pd.DatetimeTZDtype)


def test_in_memory_journal_with_allow_repeat_sends_again(sandbox, gateway, home):
    # journal=False: the journal lives in memory for one call; only allow_repeat lets a second call
    # text the same people the same content (issue 10: journal=None now means the campaign home).
    plan = make_plan(3, extra=False)
    first = send(plan, gateway, journal=False)
    assert first.attrs["journal"] is None
    assert not Path("False").exists() and not list(home.glob("journals/*"))
    again = send(plan, gateway, journal=False)
    assert (again["status"] == "already_sent").all() and len(sandbox.ledger) == 3
    send(plan, gateway, journal=False, allow_repeat=True)
    assert len(sandbox.ledger) == 6


def test_rate_limit_and_progress_run(sandbox, gateway, capsys):
    plan = make_plan(6, batch_size=2, extra=False)
    results = send(plan, gateway, rate_limit=200, workers=2, progress=True)
    assert (results["status"] == "accepted").all()
    assert "accepted=6" in capsys.readouterr().err


# -- faults ----------------------------------------------------------------------------------------


def test_faulty_gateway_no_duplicates_everyone_accounted_for(tmp_path):
    plan = make_plan(600, batch_size=5, extra=False)
    path = tmp_path / "j.sqlite"
    faults = dict(reset=0.05, delay=0.5, delay_p=0.05, http500=0.05, garbage=0.05)
    with sc.Sandbox(faults=faults, seed=7) as box:
        box.add_account(USER, PASSWORD, sms_left=10_000)
        box.faults = {}
        with box.gateway(USER, PASSWORD, timeout=(2.0, 0.25)) as gw:
            gw.user_info()
            box.faults = faults
            results = None
            for _ in range(5):  # a user re-running after faults: unknowns are never resent
                try:
                    results = send(plan, gw, journal=path, workers=4, sleep=no_wait)
                    break
                except sc.GatewayError:  # the preflight itself hit a fault
                    continue
        ledger = box.ledger
        faulted = box.calls["fault"].notna().sum()
    assert results is not None
    assert faulted > 0
    assert not ledger["receiver"].duplicated().any()
    ready = results[results["batch"].notna()]
    statuses = ready.set_index("mobile")["status"]
    assert set(statuses) <= {"accepted", "unknown", "failed"}
    in_ledger = set(ledger["receiver"])
    accepted = set(statuses[statuses == "accepted"].index)
    assert accepted <= in_ledger
    assert set(statuses.index) - in_ledger <= set(statuses[statuses != "accepted"].index)
    assert (statuses == "unknown").sum() > 0  # the faults did produce ambiguous outcomes
    for mobile, content in zip(ledger["receiver"], ledger["content"], strict=True):
        assert content == ready.set_index("mobile").at[mobile, "content"]


# -- command line ----------------------------------------------------------------------------------


def write_csv(path: Path, n: int, *, names: int = 1) -> Path:
    frame = pd.DataFrame(
        {
            "姓名": [f"客户{i % names}" for i in range(n)],
            "手机": [f"139{i:08d}" for i in range(n)] + [],
        }
    )
    frame.loc[len(frame)] = ["坏号", "12"]  # one invalid number
    frame.to_csv(path, index=False)
    return path


def test_cli_send_against_the_in_process_sandbox(tmp_path, capsys):
    from smscampaign.cli import main

    source = write_csv(tmp_path / "people.csv", 7, names=2)
    journal = tmp_path / "j.sqlite"
    argv = [
        "send",
        str(source),
        "--template",
        "{姓名}您好",
        "--signature",
        "小店",
        "--sandbox",
        "--journal",
        str(journal),
        "--no-progress",
        "--workers",
        "2",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "accepted" in out and str(journal) in out
    results = sc.read_journal(journal)
    assert results["status"].value_counts().to_dict() == {"accepted": 7, "invalid": 1}
    assert results.loc[results["status"] == "accepted", "content"].str.endswith("您好【小店】").all()


def test_cli_send_never_takes_credentials_from_argv(tmp_path, capsys):
    from smscampaign.cli import main

    source = write_csv(tmp_path / "people.csv", 2)
    code = main(
        [
            "send",
            str(source),
            "--template",
            "您好",
            "--journal",
            str(tmp_path / "j.sqlite"),
            "--base-url",
            "http://127.0.0.1:9",
            "--no-progress",
        ]
    )
    assert code == 2
    assert "SMSCAMPAIGN_USERNAME" in capsys.readouterr().err


# -- kill -9 ---------------------------------------------------------------------------------------


def _in_flight(journal: Path) -> int:
    """Recipients whose batch a killed run left in flight (0 if it died before journaling)."""
    try:
        results = sc.read_journal(journal)
    except sc.JournalError:
        return 0
    return int(results["reason"].str.startswith("in flight when the journal was read").sum())


def _send_argv(source: Path, url: str, journal: Path, *options: str) -> list[str]:
    """``python -m smscampaign send`` of ``source`` through the sandbox at ``url`` into ``journal``."""
    return [
        "-m",
        "smscampaign",
        "send",
        str(source),
        "--template",
        "您好，会员日八折",
        "--base-url",
        url,
        "--journal",
        str(journal),
        "--no-progress",
        "--settle",  # the sandbox charges at once: settlements need not wait
        "0",
        *options,
    ]


def test_kill_9_at_random_moments_never_sends_twice(tmp_path, standalone):
    rng = random.Random(20261124)
    workers, batch_size, n = 2, 20, 3000
    url = standalone("--latency", "0.02", sms=100_000)
    source = write_csv(tmp_path / "people.csv", n)
    journal = tmp_path / "j.sqlite"
    options = ["--signature", "小店", "--workers", str(workers), "--batch-size", str(batch_size)]
    argv = _send_argv(source, url, journal, *options)
    in_flight_after_kill: list[int] = []
    # Kill once a run has sent a few more batches (watched in the journal), at a random moment of a
    # request: 150 batches cannot all go out before the 8th kill.
    kills = send_killing_runs(
        argv,
        journal,
        rng,
        env=child_env(SMSCAMPAIGN_USERNAME="demo", SMSCAMPAIGN_PASSWORD="secret"),
        kills=8,
        runs=20,
        batch_size=batch_size,
        batches=6,
        after_kill=lambda: in_flight_after_kill.append(_in_flight(journal)),
    )
    ledger = _ledger(url)

    results = sc.read_journal(journal)
    ready = results[results["batch"].notna()].set_index("mobile")
    assert kills == 8
    assert len(ready) == n
    assert not ledger["receiver"].duplicated().any()  # nobody texted twice
    assert set(ledger["receiver"]) <= set(ready.index)
    missing = set(ready.index) - set(ledger["receiver"])
    assert (ready.loc[sorted(missing), "status"] == "unknown").all()  # not in ledger => unknown
    accepted = set(ready.index[ready["status"] == "accepted"])
    assert accepted <= set(ledger["receiver"])
    assert set(ready["status"]) <= {"accepted", "unknown"}
    # Each kill leaves at most `workers` batches in flight: the unknowns it can cause.
    assert max(in_flight_after_kill) <= workers * batch_size
    assert (ready["status"] == "unknown").sum() <= sum(in_flight_after_kill)


def _journal_after_kill(journal: Path, ledger: pd.DataFrame) -> tuple[dict[int, str], set[int]]:
    """The journal's state per batch, and the batches the gateway's ledger shows it received."""
    with sc.Journal(journal, readonly=True) as book:
        batches = book.batches()
        states = dict(zip(batches["batch"].astype(int), batches["state"], strict=True))
        if not (batches["attempts"] > 0).any():
            return states, set()
        recipients = book.recipients()
    batch_of = dict(zip(recipients["mobile"], recipients["batch"], strict=True))
    return states, {int(batch_of[m]) for m in ledger["receiver"]}


def test_kill_9_with_one_worker_every_batch_the_gateway_got_was_journaled_first(tmp_path, standalone):
    # One worker: a batch's outcome is committed with the next batch's claim. After a kill at any
    # moment the ledger (the ground truth) holds only batches the journal shows accepted, in flight
    # or unknown; the journal never calls a batch accepted that the gateway did not get; and no
    # more than one batch (the worker's) is in flight.
    rng = random.Random(20261201)
    batch_size, n = 10, 1500
    url = standalone("--latency", "0.002", sms=100_000)
    source = write_csv(tmp_path / "people.csv", n)
    journal = tmp_path / "j.sqlite"
    argv = _send_argv(source, url, journal, "--batch-size", str(batch_size))

    def after_kill() -> None:
        states, received = _journal_after_kill(journal, _ledger(url))
        assert all(states[b] in ("accepted", "in_flight", "unknown") for b in received)
        assert {b for b, st in states.items() if st == "accepted"} <= received
        assert sum(st == "in_flight" for st in states.values()) <= 1

    kills = send_killing_runs(
        argv,
        journal,
        rng,
        env=child_env(SMSCAMPAIGN_USERNAME="demo", SMSCAMPAIGN_PASSWORD="secret"),
        kills=6,
        runs=12,
        batch_size=batch_size,
        batches=8,
        within=0.02,
        after_kill=after_kill,
    )
    ledger = _ledger(url)
    assert kills == 6
    assert not ledger["receiver"].duplicated().any()
    results = sc.read_journal(journal)
    ready = results[results["batch"].notna()].set_index("mobile")
    accepted = set(ready.index[ready["status"] == "accepted"])
    assert accepted <= set(ledger["receiver"])
    assert (ready.loc[sorted(set(ready.index) - set(ledger["receiver"])), "status"] == "unknown").all()


def test_an_outcome_is_committed_before_the_engine_waits_for_the_window(sandbox, gateway, tmp_path):
    plan = make_plan(6, batch_size=3, extra=False)
    path = tmp_path / "j.journal"
    clock = FakeClock("2030-01-01 21:50", "2030-01-01 22:10", "2030-01-02 08:00:05")
    seen: list[list[str]] = []

    def sleep(seconds: float) -> None:  # the engine waits: what does the journal say meanwhile?
        with sc.Journal(path, readonly=True) as book:
            seen.append(book.batches()["state"].tolist())

    results = send(plan, gateway, journal=path, send_window=("08:00", "22:00"), clock=clock, sleep=sleep)
    assert (results["status"] == "accepted").all()
    assert seen == [["accepted", "planned"]]  # not left in flight while the window is closed


# -- never twice: one runner per journal, journals found by plan, the registry (issue 10) ----------


def _readline(proc: subprocess.Popen, timeout: float = 120.0) -> str:
    """One line of the child's stdout, or fail after ``timeout`` seconds."""
    return readline(proc, timeout)


@pytest.fixture
def standalone():
    """A standalone sandbox process (``python -m smscampaign.sandbox``) with demo:secret; yields
    a function returning ``(url, stop)`` for given extra options."""
    servers: list[subprocess.Popen] = []

    def start(*options: str, sms: int = 1_000_000) -> str:
        server = spawn(
            "-m",
            "smscampaign.sandbox",
            "--port",
            "0",
            "--account",
            f"demo:secret:{sms}",
            *options,
            stdout=subprocess.PIPE,
            text=True,
        )
        servers.append(server)
        url = _readline(server, 60)
        assert url.startswith("http://127.0.0.1:")
        return url

    yield start
    for server in servers:
        server.kill()
        server.wait()
        server.stdout.close()


def _ledger(url: str) -> pd.DataFrame:
    return pd.DataFrame(requests.get(f"{url}/_sandbox/ledger", timeout=10).json())


# A child that plans round N (its own numbers) and sends it when told; prints one JSON line per round.
# With the lock ("locked"), the runner that gets it says "sending" at its first request and waits for
# the parent's "go": the parent lets it on once the other runner has answered, so the two always
# overlap (nothing left to timing).
# "bypass" replaces the runner lock by nothing (a test helper: production has no such switch), so
# only the compare-and-set claims stand between two runners.
RUNNER = """
import contextlib, json, sys, threading
sys.path.insert(0, "tests")
from test_send import people
import smscampaign as sc
from smscampaign.memory.journal import Journal

url, bypass = sys.argv[1], sys.argv[2] == "bypass"
if bypass:
    Journal.runner = lambda self: contextlib.nullcontext(self)


class Held(sc.Gateway):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lock, self.first = threading.Lock(), not bypass

    def send_sms(self, *args, **kwargs):
        with self.lock:
            hold, self.first = self.first, False
        if hold:
            print("sending", flush=True)
            sys.stdin.readline()  # "go"
        return super().send_sms(*args, **kwargs)


print("ready", flush=True)
for line in sys.stdin:
    round_, path = line.split()
    frame = people(40, extra=False)
    frame["mobile"] = [f"139{int(round_):03d}{i:05d}" for i in range(40)]
    plan = sc.plan_campaign(frame, "{name}您好，会员日八折", signature="小店", batch_size=4)
    try:
        with Held("demo", "secret", base_url=url) as gw:
            res = sc.send_campaign(plan, gw, journal=path, workers=2, progress=False)
        out = {"ok": res["status"].value_counts().to_dict()}
    except sc.JournalBusy as exc:
        out = {"busy": str(exc), "holder": exc.holder}
    print(json.dumps(out), flush=True)
"""


@pytest.mark.parametrize("mode", ["locked", "bypass"])
def test_two_runners_on_one_journal_never_send_twice(standalone, tmp_path, mode):
    url = standalone("--latency", "0.01")
    children = [
        spawn("-c", RUNNER, url, mode, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    import json

    busy = 0
    try:
        for child in children:
            assert _readline(child) == "ready"
        for round_ in range(30):
            path = tmp_path / f"r{round_}.journal"
            for child in children:  # both are told at once; both have everything imported
                child.stdin.write(f"{round_} {path}\n")
                child.stdin.flush()
            first = [_readline(child) for child in children]
            if mode == "locked":  # the holder waits at its first request until the other answered
                assert sorted(line == "sending" for line in first) == [False, True], first
                holder = children[first.index("sending")]
                holder.stdin.write("go\n")
                holder.stdin.flush()
                first[first.index("sending")] = _readline(holder)
            said = [json.loads(line) for line in first]
            if mode == "locked":
                outcomes = sorted("busy" if "busy" in s else "ok" for s in said)
                if outcomes == ["busy", "ok"]:
                    busy += 1
                    (loser,) = [s for s in said if "busy" in s]
                    pids = {child.pid for child in children}
                    assert loser["holder"]["pid"] in pids and "started" in loser["busy"]
            results = sc.read_journal(path)
            assert (results["status"] == "accepted").all(), said
    finally:
        for child in children:
            child.stdin.close()
            child.wait(timeout=60)
            child.stdout.close()
    ledger = _ledger(url)
    assert len(ledger) == 30 * 40
    assert not ledger.duplicated(["receiver", "content"]).any()  # 0 duplicates
    if mode == "locked":
        # The loser fails before sending: every request of a round came from the winner; every
        # round overlaps (the winner waits at its first request until the loser has answered).
        assert busy == 30


def _cli_send(url: str, source: Path, *extra: str) -> tuple[int, str]:
    import contextlib
    import io

    from smscampaign.cli import main

    out = io.StringIO()
    argv = [
        "send",
        str(source),
        "--template",
        "{姓名}您好，会员日八折",
        "--signature",
        "小店",
        "--base-url",
        url,
        "--batch-size",
        "4",
        "--no-progress",
        *extra,
    ]
    with contextlib.redirect_stdout(out):
        code = main(argv)
    return code, out.getvalue()


def test_cli_rerun_without_journal_resumes_and_another_journal_sends_nobody_twice(
    standalone, tmp_path, home, monkeypatch
):
    url = standalone()
    monkeypatch.setenv("SMSCAMPAIGN_USERNAME", "demo")
    monkeypatch.setenv("SMSCAMPAIGN_PASSWORD", "secret")
    source = write_csv(tmp_path / "people.csv", 10, names=3)

    code, out = _cli_send(url, source)
    assert code == 0
    journals = list((home / "journals").glob("*.journal"))
    assert len(journals) == 1
    assert f"journal: {journals[0]} (new" in out and "new campaign: 10 sent now" in out

    code, out = _cli_send(url, source)  # the same command again: resumes
    assert code == 0
    assert f"journal: {journals[0]} (resumed" in out
    assert "resumed: 10 accepted earlier, 0 sent now, nobody twice" in out
    assert len(_ledger(url)) == 10

    other = tmp_path / "typo.journal"
    code, out = _cli_send(url, source, "--journal", str(other))
    assert code == 0
    assert "already_sent" in out and "10 recipients already got this content" in out
    assert len(_ledger(url)) == 10  # nobody twice
    results = sc.read_journal(other)
    skipped = results[results["status"] == "already_sent"]
    assert len(skipped) == 10
    assert skipped["reason"].str.contains(r"already sent the same content at 20\d\d-").all()
    assert skipped["reason"].str.contains(results.attrs["fingerprint"][:12]).all()

    code, out = _cli_send(url, source, "--journal", str(tmp_path / "again.journal"), "--allow-repeat")
    assert code == 0 and len(_ledger(url)) == 20  # asked for: sent again


def test_changed_plan_in_the_home_gets_a_new_journal(gateway, home):
    first = send(make_plan(3), gateway)
    assert not first.attrs["resumed"] and first.attrs["summary"] == ("new campaign: 3 sent now")
    # Another plan: another journal, no error; its first three people already got this content.
    changed = send(make_plan(4), gateway)
    assert len(list((home / "journals").glob("*.journal"))) == 2
    assert changed.attrs["summary"] == "new campaign: 1 sent now (3 already sent)"
    again = send(make_plan(4), gateway)
    assert again.attrs["resumed"] and again.attrs["sent_now"] == 0
    assert again.attrs["summary"] == (
        "resumed: 1 accepted earlier, 0 sent now, nobody twice (3 already sent)"
    )
    # The journal keeps what its last run did: read back, the same line and facts.
    read = sc.read_journal(again.attrs["journal"])
    assert {k: read.attrs[k] for k in ("summary", "resumed", "accepted_before", "sent_now")} == {
        k: again.attrs[k] for k in ("summary", "resumed", "accepted_before", "sent_now")
    }


def test_registry_ignores_other_gateways_and_the_repeat_window(sandbox, gateway, tmp_path):
    plan = make_plan(3, extra=False)
    send(plan, gateway, journal=tmp_path / "a.journal")
    with sc.Sandbox() as other:  # a sandbox on another port is another gateway
        other.add_account(USER, PASSWORD, sms_left=100)
        with other.gateway(USER, PASSWORD) as gw:
            results = send(plan, gw, journal=tmp_path / "b.journal")
        assert (results["status"] == "accepted").all() and len(other.ledger) == 3
    results = send(plan, gateway, journal=tmp_path / "c.journal", repeat_window="0s")
    assert (results["status"] == "accepted").all() and len(sandbox.ledger) == 6
    with pytest.raises(sc.ConfigError, match="repeat_window"):
        send(plan, gateway, repeat_window="soon")


def _registry_keys(home: Path) -> set[str]:
    db = sqlite3.connect(home / "home.sqlite")
    try:
        return {key for (key,) in db.execute("SELECT DISTINCT gateway FROM send_batches")}
    finally:
        db.close()


def test_registry_key_is_the_gateway_url_unless_a_name_is_given(sandbox, gateway, home, tmp_path):
    plan = make_plan(3, extra=False)
    delivered = []
    for name in ("a", "b"):  # two sandboxes, two URLs, one name: one gateway to the registry
        with sc.Sandbox() as box:
            box.add_account(USER, PASSWORD, sms_left=100)
            with box.gateway(USER, PASSWORD) as gw:
                results = send(
                    plan, gw, journal=tmp_path / f"{name}.journal", registry_key="sandbox://x"
                )
            delivered.append(len(box.ledger))
    assert delivered == [3, 0]
    assert (results["status"] == "already_sent").all()
    assert results["reason"].str.contains("through sandbox://x by campaign").all()
    assert _registry_keys(home) == {"sandbox://x"}

    # A real gateway's key is its base URL, as in every existing home; a name never holds it back.
    results = send(plan, gateway, journal=tmp_path / "c.journal")
    assert (results["status"] == "accepted").all() and len(sandbox.ledger) == 3
    assert _registry_keys(home) == {"sandbox://x", sandbox.url}
    results = send(plan, gateway, journal=tmp_path / "d.journal")
    assert (results["status"] == "already_sent").all() and len(sandbox.ledger) == 3
    assert results["reason"].str.contains(f"through {sandbox.url} by campaign").all()
    for bad in ("", "  ", 42):
        with pytest.raises(sc.ConfigError, match="registry_key"):
            send(plan, gateway, registry_key=bad)
    assert len(sandbox.ledger) == 3


def test_unknown_and_in_flight_sends_count_in_the_registry(sandbox, gateway, tmp_path):
    plan = make_plan(6, batch_size=3, extra=False)
    sandbox.fail_next("send_sms", -109)  # batch 1 unknown: it may have gone out
    send(plan, gateway, journal=tmp_path / "a.journal")
    second = send(plan, gateway, journal=tmp_path / "b.journal")
    assert (second["status"] == "already_sent").all()
    assert second["reason"].str.contains("possibly sent").sum() == 3
    assert len(sandbox.ledger) == 6


# -- unknowns settled by the balance (issue 10, item 4) --------------------------------------------

FAULTS_20 = {"reset": 0.1, "http500": 0.05, "garbage": 0.05, "delay": 0.3, "delay_p": 0.05}


def no_wait(seconds: float) -> None:
    """The injected wait between balance readings: tests never sleep ``settle`` seconds."""


def test_reconcile_balance_under_20_percent_faults_settles_every_unknown(standalone):
    url = standalone("--faults", json.dumps(FAULTS_20), "--seed", "11")
    plan = make_plan(400, batch_size=10, extra=False, names=3)
    with Gateway("demo", "secret", base_url=url, timeout=(2.0, 0.15)) as gw:
        results = send(
            plan, gw, journal=False, reconcile="balance", settle=5.0, sleep=no_wait, max_retries=5
        )
    calls = pd.DataFrame(requests.get(f"{url}/_sandbox/calls", timeout=10).json())
    assert calls["fault"].notna().sum() >= 10  # the faults did happen
    ledger = _ledger(url)
    assert not ledger.duplicated(["receiver", "content"]).any()  # 0 duplicates
    assert (results["status"] == "accepted").all()  # 0 unknown: every ready recipient accepted
    assert sorted(ledger_pairs(ledger)) == sorted(ready_pairs(plan))
    verdicts = pd.DataFrame(results.attrs["reconciliations"])
    assert {"reading", "accepted", "not_sent"} <= set(verdicts["verdict"])
    settled = results[results["reason"].fillna("").str.contains("settled by balance")]
    assert len(settled) > 0 and (settled["message_zh"] == "按余额核实：已受理").all()
    assert not results.attrs["warnings"]


class ForeignDeduction(Gateway):
    """A real gateway whose ``n``-th ``send_sms`` is cut off after the sandbox processed it (a reset)
    while someone else spends 7 messages of the account at that moment (``delta``)."""

    delta = -7

    def __init__(self, *args, url: str, at: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.admin, self.at, self.calls = url, at, 0

    def send_sms(self, receivers, content, sendtime=None):
        self.calls += 1
        if self.calls != self.at:
            return super().send_sms(receivers, content, sendtime)
        post = lambda name, body: requests.post(f"{self.admin}/_sandbox/{name}", json=body, timeout=10)  # noqa: E731
        post("balance", {"account": "demo", "delta": self.delta})
        post("faults", {"reset": 1.0})
        try:
            return super().send_sms(receivers, content, sendtime)
        finally:
            post("faults", {})


def test_reconcile_balance_with_a_foreign_deduction_stays_unknown_and_warns(standalone, caplog):
    url = standalone()
    plan = make_plan(60, batch_size=10, extra=False)
    with ForeignDeduction("demo", "secret", base_url=url, url=url, at=3) as gw:
        results = send(plan, gw, journal=False, reconcile="balance", sleep=no_wait)
    ledger = _ledger(url)
    assert not ledger.duplicated(["receiver", "content"]).any()
    assert len(ledger) == 60  # the reset batch did go out; nothing was resent
    unknown = results[results["status"] == "unknown"]
    assert unknown["batch"].unique().tolist() == [3]  # the ambiguous batch
    assert unknown["reason"].str.contains("someone else").all()
    assert (results["status"] == "accepted").sum() == 50
    assert any("switched off" in w for w in results.attrs["warnings"])
    assert any("switched off" in r.getMessage() for r in caplog.records)
    verdicts = [r["verdict"] for r in results.attrs["reconciliations"]]
    assert verdicts == ["reading", "inconsistent"]


def test_reconcile_is_validated(sandbox, gateway):
    plan = make_plan(3, extra=False)
    results = send(plan, gateway, journal=False)
    assert results.attrs["reconciliations"] == []  # on by default; only the preflight reading
    with pytest.raises(sc.ConfigError, match="reconcile"):
        send(plan, gateway, reconcile="ledger")


def test_kill_9_during_a_reconciled_campaign_settles_what_it_can(tmp_path, standalone):
    rng = random.Random(20261201)
    batch_size, n = 20, 1500
    url = standalone("--latency", "0.02")
    source = write_csv(tmp_path / "people.csv", n)
    journal = tmp_path / "j.journal"
    env = child_env(SMSCAMPAIGN_USERNAME="demo", SMSCAMPAIGN_PASSWORD="secret")
    options = ["--signature", "小店", "--batch-size", str(batch_size), "--reconcile", "balance"]
    argv = _send_argv(source, url, journal, *options, "--settle", "0")

    # Kill once a run has sent a few more batches (watched in the journal), at a random moment of
    # a request.
    kills = send_killing_runs(
        argv, journal, rng, env=env, kills=10, runs=40, batch_size=batch_size, batches=4
    )
    ledger = _ledger(url)
    results = sc.read_journal(journal)
    ready = results[results["batch"].notna()].set_index("mobile")
    assert kills == 10
    assert not ledger["receiver"].duplicated().any()  # 0 duplicates
    assert set(ledger["receiver"]) <= set(ready.index)
    accepted = set(ready.index[ready["status"] == "accepted"])
    assert accepted <= set(ledger["receiver"])
    assert set(ready["status"]) <= {"accepted", "unknown"}
    # unknown only where no single subset of the batches left in flight matched the balance
    verdicts = pd.DataFrame(results.attrs["reconciliations"])
    unsettled = {
        int(b)
        for row in verdicts.itertuples()
        if row.verdict in ("ambiguous", "inconsistent")
        for b in str(row.batches or "").split(",")
        if b
    }
    unknown_batches = set(ready.loc[ready["status"] == "unknown", "batch"].astype(int))
    assert unknown_batches <= unsettled
    assert (ready["status"] == "accepted").sum() >= n - batch_size * len(unsettled)
    assert "accepted" in set(verdicts["verdict"]) or "not_sent" in set(verdicts["verdict"])


def test_empty_plan_creates_no_journal(sandbox, gateway, home):
    plan = sc.plan_campaign(people(2).iloc[2:], "您好", signature="小店")
    results = send(plan, gateway)
    assert results.attrs["journal"] is None
    assert not list(home.glob("journals/*.journal"))


def test_registry_writes_lost_by_a_killed_run_are_restored_on_resume(sandbox, gateway, home, tmp_path):
    plan = make_plan(6, batch_size=3, extra=False)
    first = tmp_path / "a.journal"
    send(plan, gateway, journal=first)
    with sqlite3.connect(home / "home.sqlite") as conn:  # as if killed before the writer wrote
        conn.execute("DELETE FROM send_batch_mobiles")
        conn.execute("DELETE FROM send_batches")
    send(plan, gateway, journal=first)  # resuming puts the journal's sends back in the registry
    other = send(plan, gateway, journal=tmp_path / "b.journal")
    assert (other["status"] == "already_sent").all()
    assert len(sandbox.ledger) == 6


def test_journal_and_home_are_both_closed_and_a_failing_close_is_raised(tmp_path):
    from smscampaign.campaign.engine import close_side_by_side
    from smscampaign.memory.home import open_home

    book, store = sc.Journal(tmp_path / "j.journal"), open_home(tmp_path / "home")
    close_side_by_side(book, store)
    with pytest.raises(sqlite3.ProgrammingError):
        store._conn.execute("SELECT 1")
    with pytest.raises(sqlite3.ProgrammingError):
        book._conn.execute("SELECT 1")

    class Failing:
        def close(self) -> None:
            raise OSError("disk gone")

    book = sc.Journal(tmp_path / "k.journal")
    with pytest.raises(OSError, match="disk gone"):
        close_side_by_side(book, Failing())  # type: ignore[arg-type]
    with pytest.raises(sqlite3.ProgrammingError):
        book._conn.execute("SELECT 1")  # the journal is closed all the same
