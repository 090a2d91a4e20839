"""Unknowns settled by the balance by default (issue 28, item 14), against the sandbox's ledger."""

from __future__ import annotations

import json
import random
import threading
import time

import pandas as pd
import pytest
import test_send
from conftest import PASSWORD, USER
from test_send import FAULTS_20, _ledger, make_plan, no_wait, send

import smscampaign as sc
from smscampaign.cli import main
from smscampaign.wire.gateway import Gateway

standalone = test_send.standalone  # the fixture: a standalone sandbox process


def _faulty_run(url: str, **kwargs) -> pd.DataFrame:
    plan = make_plan(400, batch_size=10, extra=False, names=3)
    with Gateway("demo", "secret", base_url=url, timeout=(2.0, 0.15)) as gw:
        return send(plan, gw, journal=False, max_retries=5, **kwargs)


def test_a_default_run_under_faults_settles_unknowns_by_balance_and_texts_nobody_twice(standalone):
    url = standalone("--faults", json.dumps(FAULTS_20), "--seed", "11")
    results = _faulty_run(url, sleep=no_wait)  # no reconcile=: the default
    ledger = _ledger(url)
    assert not ledger.duplicated(["receiver", "content"]).any()  # 0 duplicates
    assert (results["status"] == "accepted").all()  # 0 unknown
    verdicts = set(pd.DataFrame(results.attrs["reconciliations"])["verdict"])
    assert {"accepted", "not_sent"} <= verdicts  # unknowns came, and the balance settled them


def test_reconcile_none_keeps_unknowns_unknown(standalone):
    url = standalone("--faults", json.dumps(FAULTS_20), "--seed", "11")
    results = _faulty_run(url, reconcile=None, sleep=no_wait)
    ledger = _ledger(url)
    assert not ledger.duplicated(["receiver", "content"]).any()
    assert (results["status"] == "unknown").sum() > 0  # what the balance would have settled
    assert results.attrs["reconciliations"] == []
    assert not results["reason"].fillna("").str.contains("settled by balance").any()


@pytest.mark.parametrize("reconcile", ["default", "balance", None])
def test_a_run_without_unknowns_reads_the_balance_once_and_never_waits(sandbox, gateway, reconcile):
    waits: list[float] = []
    kwargs = {} if reconcile == "default" else {"reconcile": reconcile}
    plan = make_plan(30, batch_size=3, extra=False)
    results = send(plan, gateway, journal=False, sleep=waits.append, **kwargs)
    assert (results["status"] == "accepted").all()
    assert sandbox.calls["endpoint"].tolist().count("user_info") == 1  # the preflight's, as before
    assert waits == []  # no settle wait
    assert results.attrs["reconciliations"] == []  # the preflight reading is kept, not shown


@pytest.mark.parametrize("fault", ["reset", "lost"])
def test_an_unknown_is_settled_against_the_preflight_reading(sandbox, gateway, fault):
    # reset: the sandbox processed the first request, then dropped the connection: charged, so one
    # reading settles it at once. lost: a read timeout on a request that never arrived: nothing
    # charged, so the second reading `settle` seconds later must agree before it is sent again.
    plan = make_plan(9, batch_size=3, extra=False)
    waits: list[float] = []

    class FirstFails(Gateway):
        calls = 0

        def send_sms(self, receivers, content, sendtime=None):
            FirstFails.calls += 1
            if FirstFails.calls == 1 and fault == "lost":
                raise sc.GatewayTimeout("read timeout", endpoint="send_sms")
            sandbox.faults = {"reset": 1.0} if FirstFails.calls == 1 else {}
            try:
                return super().send_sms(receivers, content, sendtime)
            finally:
                sandbox.faults = {}

    with FirstFails(USER, PASSWORD, base_url=sandbox.url) as gw:
        results = send(plan, gw, journal=False, sleep=waits.append)
    assert not sandbox.ledger.duplicated(["receiver", "content"]).any()
    assert len(sandbox.ledger) == 9 and (results["status"] == "accepted").all()
    verdicts = [r["verdict"] for r in results.attrs["reconciliations"]]
    user_info = sandbox.calls["endpoint"].tolist().count("user_info")
    if fault == "reset":
        assert (verdicts, waits, user_info) == (["reading", "accepted"], [], 2)
    else:
        assert (verdicts, waits, user_info) == (["reading", "not_sent"], [5.0], 3)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("mover", ["colleague", "top-up"])
def test_a_default_run_never_resends_on_a_moving_balance_and_ends_in_bounded_time(mover):
    rng = random.Random(28)
    plan = make_plan(1500, batch_size=10, extra=False, names=3)
    with sc.Sandbox(faults=FAULTS_20, seed=3) as box:
        box.add_account(USER, PASSWORD, sms_left=100_000)
        stop = threading.Event()

        def move() -> None:  # behind the client's back: only sms_left moves
            if mover == "top-up":
                stop.wait(0.3)
                box.adjust_balance(USER, 20)  # the operator recharges once, mid-run
                return
            while not stop.wait(0.05):  # a colleague (and the operator): ±20 every 50 ms
                box.adjust_balance(USER, rng.choice([-20, 20]))

        thread = threading.Thread(target=move, daemon=True)
        started = time.monotonic()
        thread.start()
        try:
            with box.gateway(USER, PASSWORD, timeout=(2.0, 0.15)) as gw:
                results = send(plan, gw, journal=False, settle=0.2, max_retries=5, workers=2)
        finally:
            stop.set()
            thread.join(timeout=10)
        took = time.monotonic() - started
        ledger = box.ledger
    assert not ledger.duplicated(["receiver", "content"]).any()  # 0 twice
    assert set(results.loc[results["status"] == "accepted", "mobile"]) <= set(ledger["receiver"])
    verdicts = pd.DataFrame(results.attrs["reconciliations"])
    assert len(verdicts) > 1  # the default did reconcile
    if mover == "colleague":
        assert "not_sent" not in set(verdicts["verdict"])  # nothing resent on a moving balance
        assert any("switched off" in w for w in results.attrs["warnings"])
    assert took < 120, f"{took:.0f} s: waiting for the balance must be bounded"


def test_cli_send_reconciles_by_default_and_none_turns_it_off(tmp_path, capsys):
    people = tmp_path / "people.csv"
    people.write_text("mobile\n13800138000\n13800138001\n", encoding="utf-8")
    common = ["send", str(people), "--template", "您好", "--signature", "小店", "--sandbox"]
    assert main([*common, "--no-progress", "--reconcile", "none"]) == 0
    assert main([*common, "--no-progress", "--journal", str(tmp_path / "b.journal")]) == 0
    with pytest.raises(SystemExit):
        main([*common, "--reconcile", "ledger"])
    assert "none" in capsys.readouterr().err


def test_a_colleague_sending_a_batch_s_size_never_makes_a_sent_batch_look_lost(sandbox, gateway):
    # Two unknowns pending at once (workers=2): batch S (3 people) did go out, batch L (5) did not,
    # and meanwhile a colleague sent 2 messages from the same account (sms_left and sms_send both
    # move). Charged 3 + 2 = 5: "L accepted, S not sent" is the one subset that fits — resending S
    # would text its 3 people twice. The split's uncharged batch stays unknown instead.
    from smscampaign.campaign.balance import PREFLIGHT_NOTE, Balance, account_reading, journal_reading

    plan = make_plan(8, batch_size=5, extra=False)
    batches = plan.batches
    sizes = {int(b): len(r) for b, r in zip(batches["batch"], batches["receivers"], strict=True)}
    small, large = min(sizes, key=sizes.get), max(sizes, key=sizes.get)
    assert (sizes[small], sizes[large]) == (3, 5)
    with sc.Journal(":memory:", store_recipients=False) as journal:
        journal.attach(plan)
        balance = Balance(gateway, journal, 0.0, no_wait)
        reading = account_reading(gateway, sleep=no_wait)
        journal_reading(journal, reading, PREFLIGHT_NOTE)
        balance.adopt(reading)
        receivers = plan.batches.set_index("batch").loc[small]
        assert gateway.send_sms(list(receivers["receivers"]), receivers["content"]).ok  # S went out
        assert gateway.send_sms(["13900000001", "13900000002"], "同事的短信【小店】").ok
        accepted, not_sent, why = balance.settle_pending({small: 3, large: 5})
    assert (accepted, not_sent) == ([large], [])  # S is not sent again
    assert why is not None and "not sent again" in why
    assert balance.on
