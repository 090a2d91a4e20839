"""The send engine against the sandbox over loopback; the sandbox's ledger is the ground truth."""

from __future__ import annotations

import _thread
import random
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
import requests
from conftest import PASSWORD, USER, child_env

import smscampaign as sc
from smscampaign.errors import GatewayConnectionError
from smscampaign.gateway import Gateway
from smscampaign.protocol import BEIJING
from smscampaign.send import RESULT_COLUMNS

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

    assert list(results.columns[: len(RESULT_COLUMNS) + 1]) == [*RESULT_COLUMNS, "reason"]
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

    def slow() -> None:
        sandbox.faults = dict(delay=0.6, delay_p=1.0)

    def fast() -> None:
        sandbox.faults = {}

    with ScriptedGateway(
        USER, PASSWORD, base_url=sandbox.url, timeout=(2.0, 0.2), script=[slow, fast]
    ) as gw:
        results = send(gw=gw, plan=plan)
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
    with ScriptedGateway(USER, PASSWORD, base_url=sandbox.url, script=[record] * 3) as gw:
        results = send(plan, gw, send_window=("08:00", "22:00"), clock=clock)
    assert (results["status"] == "accepted").all()
    assert [t.strftime("%H:%M") for t in seen] == ["21:50", "08:00", "08:00"]
    assert clock.calls >= 4


def test_send_window_is_validated(gateway):
    with pytest.raises(ValueError, match="send_window"):
        send(make_plan(2), gateway, send_window=("8 o'clock", "22:00"))


# -- journal and resume ----------------------------------------------------------------------------


def test_resume_after_interruption_sends_the_rest_once(sandbox, tmp_path):
    plan = make_plan(15, batch_size=3, extra=False)
    journal = tmp_path / "j.sqlite"

    def ctrl_c() -> None:
        # Ctrl-C arrives in the main thread while the third request is being sent; the pause lets
        # the main thread handle it before this request completes.
        _thread.interrupt_main()
        time.sleep(0.5)

    with ScriptedGateway(
        USER, PASSWORD, base_url=sandbox.url, script=[lambda: None, lambda: None, ctrl_c]
    ) as gw:
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
                    results = send(plan, gw, journal=path, workers=4)
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


def _spawn(argv: list[str], env: dict[str, str] | None = None, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, *argv], env=env, cwd=Path(__file__).parents[1], **kwargs)


def _in_flight(journal: Path) -> int:
    """Recipients whose batch a killed run left in flight (0 if it died before journaling)."""
    try:
        results = sc.read_journal(journal)
    except sc.JournalError:
        return 0
    return int(results["reason"].str.startswith("in flight when the journal was read").sum())


def test_kill_9_at_random_moments_never_sends_twice(tmp_path):
    rng = random.Random(20261124)
    workers, batch_size, n = 2, 20, 3000
    source = write_csv(tmp_path / "people.csv", n)
    journal = tmp_path / "j.sqlite"
    env = child_env(SMSCAMPAIGN_USERNAME="demo", SMSCAMPAIGN_PASSWORD="secret")
    server = _spawn(
        [
            "-m",
            "smscampaign.sandbox",
            "--port",
            "0",
            "--account",
            "demo:secret:100000",
            "--latency",
            "0.02",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    child = None
    kills, runs = 0, 0
    in_flight_after_kill: list[int] = []
    try:
        url = server.stdout.readline().strip()
        assert url.startswith("http://")
        argv = [
            "-m",
            "smscampaign",
            "send",
            str(source),
            "--template",
            "您好，会员日八折",
            "--signature",
            "小店",
            "--base-url",
            url,
            "--journal",
            str(journal),
            "--workers",
            str(workers),
            "--batch-size",
            str(batch_size),
            "--no-progress",
        ]
        while runs < 20:
            runs += 1
            child = _spawn(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if kills < 8:
                try:
                    child.wait(timeout=rng.uniform(0.8, 2.0))
                except subprocess.TimeoutExpired:
                    child.send_signal(signal.SIGKILL)
                    child.wait()
                    kills += 1
                    in_flight_after_kill.append(_in_flight(journal))
                    continue
            else:
                child.wait(timeout=120)
            if child.returncode != -signal.SIGKILL:
                break
        assert child.returncode == 0, f"last run exited {child.returncode}"
        ledger = pd.DataFrame(requests.get(f"{url}/_sandbox/ledger", timeout=10).json())
    finally:
        for proc in (child, server):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
        if server.stdout:
            server.stdout.close()

    results = sc.read_journal(journal)
    ready = results[results["batch"].notna()].set_index("mobile")
    assert kills >= 1
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
