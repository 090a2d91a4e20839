"""``smscampaign send`` stopped by SIGTERM (a scheduler, ``docker stop``, a closed terminal): handled as
Ctrl-C — the requests in flight finish, the summary is printed, exit 143 — in a real child process
against a standalone sandbox, whose ledger is the ground truth."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import test_send
from _kill import python_child, wait_for_progress
from conftest import child_env
from test_send import _ledger, _send_argv, write_csv

import smscampaign as sc

standalone = test_send.standalone  # the fixture: a standalone sandbox process
ENV = {"SMSCAMPAIGN_USERNAME": "demo", "SMSCAMPAIGN_PASSWORD": "secret"}
PIPES = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}


def campaign(tmp_path, url: str, n: int, batch_size: int, *options: str) -> tuple[Path, list[str]]:
    """A list of ``n`` people and the ``smscampaign send`` argv sending it through ``url`` in
    batches of ``batch_size`` into ``tmp_path/j.journal``: (journal, argv)."""
    source = write_csv(tmp_path / "people.csv", n)
    journal = tmp_path / "j.journal"
    options = ("--signature", "小店", "--batch-size", str(batch_size), *options)
    return journal, _send_argv(source, url, journal, *options)


@pytest.mark.timeout(300)
def test_sigterm_finishes_the_requests_in_flight_prints_the_summary_and_exits_143(tmp_path, standalone):
    url = standalone("--latency", "0.05")
    n, batch_size = 2000, 10
    journal, argv = campaign(tmp_path, url, n, batch_size, "--workers", "2")
    env = child_env(**ENV)
    with python_child(*argv, env=env, **PIPES) as child:
        assert wait_for_progress(child, journal, 5 * batch_size), child.communicate()
        child.send_signal(signal.SIGTERM)
        out, err = child.communicate(timeout=120)
    assert child.returncode == 143, (out, err)
    assert "Traceback" not in err
    assert f"{n + 1} recipients" in out and "accepted" in out  # the summary, as after Ctrl-C
    assert "journal:" in out
    ledger = _ledger(url)
    assert not ledger["receiver"].duplicated().any()
    assert 5 * batch_size <= len(ledger) < n  # stopped part-way
    # The requests in flight finished: nothing left in flight or unknown; the journal agrees with
    # the ledger.
    results = sc.read_journal(journal)
    ready = results[results["batch"].notna()]
    assert set(ready["status"]) <= {"accepted", "not_sent"}
    assert set(ready.loc[ready["status"] == "accepted", "mobile"]) == set(ledger["receiver"])

    # The same command resumes and sends the rest, nobody twice.
    with python_child(*argv, env=env, **PIPES) as child:
        out, err = child.communicate(timeout=240)
    assert child.returncode == 0, (out, err)
    ledger = _ledger(url)
    assert not ledger["receiver"].duplicated().any() and len(ledger) == n


# -- a gateway that answers garbage ----------------------------------------------------------------


@pytest.mark.timeout(300)
def test_a_gateway_answering_garbage_to_every_batch_stops_the_run_after_a_few(tmp_path, standalone):

    import requests

    from smscampaign.campaign.workers import AMBIGUOUS_IN_A_ROW

    url = standalone("--latency", "0.02")
    n, batch_size, workers = 2000, 10, 2
    journal, argv = campaign(tmp_path, url, n, batch_size, "--workers", str(workers))
    env = child_env(**ENV)
    faults = f"{url}/_sandbox/faults"
    with python_child(*argv, env=env, **PIPES) as child:
        # Part-way through, the gateway starts answering every request with garbage (a proxy's
        # error page, a broken deployment) — though it still processes them.
        assert wait_for_progress(child, journal, 3 * batch_size), child.communicate()
        requests.post(faults, json={"garbage": 1.0}, timeout=10)
        out, err = child.communicate(timeout=120)
    requests.post(faults, json={}, timeout=10)  # the gateway is fixed
    lines = err.strip().splitlines()
    assert child.returncode == 1 and lines, (out, err)
    assert "in a row came back unknown" in lines[-1] and "run the same command again" in lines[-1]
    # Before it: at most the one line saying reconciliation by balance (the default) gave up, as
    # user_info answers garbage too.
    assert len(lines) <= 2 and all("switched off" in line for line in lines[:-1]), err
    ledger = _ledger(url)
    results = sc.read_journal(journal)
    ready = results[results["batch"].notna()]
    unknown = set(ready.loc[ready["status"] == "unknown", "mobile"])
    accepted = set(ready.loc[ready["status"] == "accepted", "mobile"])
    assert unknown | accepted == set(ledger["receiver"])
    # Only the first few batches went into it, not the whole list.
    assert 0 < len(unknown) <= (AMBIGUOUS_IN_A_ROW + workers - 1) * batch_size
    assert (ready["status"] == "not_sent").sum() == n - len(ledger)  # unsent, resumable

    with python_child(*argv, env=env, **PIPES) as child:
        out, err = child.communicate(timeout=240)
    ledger = _ledger(url)
    assert not ledger["receiver"].duplicated().any()  # 0 numbers twice
    assert len(ledger) == n  # the rest went out; the unknown ones were not resent
    assert child.returncode == 0, (out, err)


# -- balance readings survive a stop ---------------------------------------------------------------


@pytest.mark.timeout(300)
def test_a_run_killed_without_reconcile_is_settled_by_balance_on_resume(tmp_path, standalone):
    from _kill import kill_9

    url = standalone("--latency", "0.1")
    n, batch_size = 300, 10
    journal, plain = campaign(tmp_path, url, n, batch_size)
    env = child_env(**ENV)
    with python_child(*plain, env=env) as child:  # no --reconcile: the preflight reading is kept
        assert wait_for_progress(child, journal, 3 * batch_size)
        with sc.Journal(journal, readonly=True) as book:
            while book.counts()["in_flight"] == 0:  # one worker: a batch is nearly always in flight
                pass
        kill_9(child)
    with sc.Journal(journal, readonly=True) as book:
        left_in_flight = book.counts()["in_flight"]
    reconciled = [*plain, "--reconcile", "balance", "--settle", "0"]
    with python_child(*reconciled, env=env, **PIPES) as child:
        out, err = child.communicate(timeout=240)
    assert child.returncode == 0, (out, err)
    assert "no earlier balance reading" not in out + err
    ledger = _ledger(url)
    assert not ledger["receiver"].duplicated().any()  # 0 numbers twice
    results = sc.read_journal(journal)
    ready = results[results["batch"].notna()]
    verdicts = pd.DataFrame(results.attrs["reconciliations"])
    assert left_in_flight == 1 and verdicts["verdict"].isin(["accepted", "not_sent"]).any()
    assert (ready["status"] == "accepted").all()  # the batch left in flight was settled
    assert set(ready["mobile"]) == set(ledger["receiver"])


# -- reconciliation never resends on a movement someone else made -----------------------------------


@pytest.mark.timeout(300)
@pytest.mark.parametrize("waits", ["real", "none"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_reconcile_under_faults_while_others_move_the_balance_never_resends(standalone, seed, waits):
    # "none": the two readings of a settlement come back to back, so they often agree although
    # the balance moves every 50 ms: only the account's own figures can tell a recharge apart.
    import json
    import random
    import threading
    import time

    import requests

    from smscampaign.wire.gateway import Gateway

    faults = {"reset": 0.1, "http500": 0.05, "garbage": 0.05, "delay": 0.3, "delay_p": 0.05}
    url = standalone("--faults", json.dumps(faults), "--seed", str(seed))
    plan = test_send.make_plan(1500, batch_size=10, extra=False, names=3)
    stop = threading.Event()
    rng = random.Random(seed)

    def colleague_and_operator() -> None:  # ±20 messages every 50 ms, behind the client's back
        while not stop.wait(0.05):
            delta = rng.choice([-20, 20])
            requests.post(
                f"{url}/_sandbox/balance", json={"account": "demo", "delta": delta}, timeout=10
            )

    mover = threading.Thread(target=colleague_and_operator, daemon=True)
    mover.start()
    started = time.monotonic()
    try:
        with Gateway("demo", "secret", base_url=url, timeout=(2.0, 0.15)) as gw:
            sleep = test_send.no_wait if waits == "none" else None
            results = test_send.send(
                plan,
                gw,
                journal=False,
                reconcile="balance",
                settle=0.5,
                sleep=sleep,
                max_retries=5,
                workers=2,
            )
    finally:
        stop.set()
        mover.join(timeout=10)
    took = time.monotonic() - started
    ledger = _ledger(url)
    assert not ledger.duplicated(["receiver", "content"]).any()  # 0 numbers twice
    verdicts = pd.DataFrame(results.attrs["reconciliations"])
    assert "not_sent" not in set(verdicts["verdict"])  # nothing resent on a moving balance
    assert any("switched off" in w for w in results.attrs["warnings"])
    accepted = set(results.loc[results["status"] == "accepted", "mobile"])
    assert accepted <= set(ledger["receiver"])
    assert took < 120, f"{took:.0f} s: waiting for the balance must be bounded"


class HiddenCharge(test_send.ForeignDeduction):
    """A real gateway whose ``at``-th ``send_sms`` (of 10 numbers) is processed and then cut off (a
    reset) while the operator recharges 10 messages: the balance shows no deduction."""

    delta = 10


def test_a_recharge_that_hides_a_charge_leaves_the_batch_unknown_never_resent(standalone):
    url = standalone()
    plan = test_send.make_plan(60, batch_size=10, extra=False)
    with HiddenCharge("demo", "secret", base_url=url, url=url, at=3) as gw:
        results = test_send.send(plan, gw, journal=False, reconcile="balance", sleep=test_send.no_wait)
    ledger = _ledger(url)
    assert not ledger.duplicated(["receiver", "content"]).any()  # batch 3 was not sent again
    assert len(ledger) == 60
    unknown = results[results["status"] == "unknown"]
    assert unknown["batch"].unique().tolist() == [3]
    assert unknown["reason"].str.contains("recharge").all()
    verdicts = [r["verdict"] for r in results.attrs["reconciliations"]]
    assert verdicts == ["reading", "inconsistent"]
