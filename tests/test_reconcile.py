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
from smscampaign.memory.journal import ACCEPTED
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


# -- colleagues known to the campaign home (issue 28, item 14) ------------------------------------


def _settling_balance(gateway, journal, store, monkeypatch):
    """A Balance over ``journal`` that knows the other journals' batches in ``store`` (as a run's
    does, through its registry key), its baseline just read; clocks taken as exact here (the margin
    is for analysts' machines), so that a test need not wait seconds between events."""
    from smscampaign.campaign import balance as balance_module
    from smscampaign.campaign.balance import PREFLIGHT_NOTE, Balance, account_reading, journal_reading

    monkeypatch.setattr(balance_module, "CLOCK_MARGIN", 0.02)
    key = "sandbox://colleagues"
    balance = Balance(
        gateway,
        journal,
        0.0,
        no_wait,
        others=lambda since: store.reservations_since(gateway=key, since=since, journal="/me"),
    )
    reading = account_reading(gateway, sleep=no_wait)
    journal_reading(journal, reading, PREFLIGHT_NOTE)
    balance.adopt(reading)
    time.sleep(0.05)
    return balance, key


def _colleague_sends(gateway, store, key, batch, size, *, status="accepted"):
    """A colleague's batch of ``size`` through the same account, reserved in the home first; its
    reservation settled ``status`` (``reserved``: its answer not in yet)."""
    from smscampaign.memory.home import content_sha256

    numbers = [f"139{batch:04d}{i:04d}" for i in range(size)]
    time.sleep(0.05)  # reserved clearly after the last reading
    store.reserve(
        gateway=key,
        content_sha256=content_sha256("同事的短信【小店】"),
        mobiles=numbers,
        campaign="colleague",
        journal="/colleague",
        batch=batch,
        since=pd.Timestamp.now(tz="UTC") - pd.Timedelta(hours=1),
    )
    assert gateway.send_sms(numbers, "同事的短信【小店】").ok
    if status != "reserved":
        store.settle_reservations(journal="/colleague", batch=batch, status=status)
    time.sleep(0.05)


def test_a_colleague_s_sends_known_to_the_home_are_accounted_for(
    sandbox, gateway, tmp_path, monkeypatch
):
    # Batch S (3 people) went out and a colleague sent 2 messages from the same account: without
    # the home, 5 charged for a 3 is a movement nobody explains (reconciliation switches off). The
    # home knows the colleague's batch, accepted between the two readings: S is accepted. Then L (5)
    # is lost while the colleague sends 5 more — which without the home would make L look accepted
    # (its people never get the text): L is found not sent, to be sent again.
    from smscampaign.memory.home import SQLiteStore

    plan = make_plan(8, batch_size=5, extra=False)
    sizes = {
        int(b): len(r) for b, r in zip(plan.batches["batch"], plan.batches["receivers"], strict=True)
    }
    small, large = min(sizes, key=sizes.get), max(sizes, key=sizes.get)
    with sc.Journal(":memory:", store_recipients=False) as journal, SQLiteStore(tmp_path) as store:
        journal.attach(plan)
        balance, key = _settling_balance(gateway, journal, store, monkeypatch)
        receivers = plan.batches.set_index("batch").loc[small]
        assert gateway.send_sms(list(receivers["receivers"]), receivers["content"]).ok  # S went out
        _colleague_sends(gateway, store, key, 1, 2)
        first = balance.settle_pending({small: 3})
        journal.record(small, ACCEPTED, reason="settled by balance")  # as the run does
        _colleague_sends(gateway, store, key, 2, 5)  # L (5) was lost on its way
        second = balance.settle_pending({large: 5})
        notes = journal.reconciliations()["note"].tolist()
    assert first == ([small], [], None)
    assert second == ([], [large], None)  # L is sent again
    assert balance.on
    assert "1 batches of other runs (2 messages) accounted for" in notes[-2]
    assert "1 batches of other runs (5 messages) accounted for" in notes[-1]
    assert len(sandbox.ledger) == 3 + 2 + 5


def test_a_colleague_s_batch_not_settled_yet_that_fits_too_leaves_the_batch_unknown(
    sandbox, gateway, tmp_path, monkeypatch
):
    # S (3) went out, and so did a colleague's batch of 3 whose answer is not in yet (``reserved``
    # in the home), with a second one of 3 in flight that was not charged. 6 charged fits "S and
    # one of theirs" and "both of theirs, not S": two explanations, no verdict — and no switch-off.
    from smscampaign.memory.home import SQLiteStore

    plan = make_plan(8, batch_size=5, extra=False)
    sizes = {
        int(b): len(r) for b, r in zip(plan.batches["batch"], plan.batches["receivers"], strict=True)
    }
    small = min(sizes, key=sizes.get)
    with sc.Journal(":memory:", store_recipients=False) as journal, SQLiteStore(tmp_path) as store:
        journal.attach(plan)
        balance, key = _settling_balance(gateway, journal, store, monkeypatch)
        receivers = plan.batches.set_index("batch").loc[small]
        assert gateway.send_sms(list(receivers["receivers"]), receivers["content"]).ok
        _colleague_sends(gateway, store, key, 1, 3, status="reserved")
        store.reserve(  # in flight: nothing charged for it yet
            gateway=key,
            content_sha256="0" * 64,
            mobiles=["13700000001", "13700000002", "13700000003"],
            campaign="colleague",
            journal="/colleague",
            batch=2,
            since=pd.Timestamp.now(tz="UTC") - pd.Timedelta(hours=1),
        )
        accepted, not_sent, why = balance.settle_pending({small: 3})
        verdicts = journal.reconciliations()
    assert (accepted, not_sent) == ([], [])  # stays unknown: nothing resent, nothing assumed
    assert why is not None and "of other runs" in why
    assert verdicts["verdict"].iloc[-1] == "ambiguous" and balance.on


def _colleague_plan(n: int) -> sc.Plan:
    return sc.plan_campaign(
        test_send.people(n, extra=False, names=1), "同事的通知{name}", signature="小店", batch_size=7
    )


@pytest.mark.timeout(120)
def test_two_runs_sharing_a_home_and_an_account_settle_unknowns_while_both_send(any_home):
    # Two analysts, one gateway account, one campaign home (a personal SQLite one, then the team's
    # on PostgreSQL); the gateway misbehaves for both.
    # The colleague's run keeps the balance moving all along: without the home's knowledge of its
    # batches, the faulty run cannot settle a single unknown and switches reconciliation off. With
    # it, its unknowns are settled by the balance while the other run sends, and nobody is texted
    # twice.
    home = any_home
    colleague: dict[str, pd.DataFrame] = {}
    with sc.Sandbox(faults=FAULTS_20, seed=5) as box:
        box.add_account(USER, PASSWORD, sms_left=100_000)

        def shared(plan: sc.Plan) -> pd.DataFrame:  # one account, one home, one registry key
            with box.gateway(USER, PASSWORD, timeout=(2.0, 0.15)) as gw:
                return send(
                    plan,
                    gw,
                    journal=False,
                    home=home,
                    registry_key="sandbox://team",
                    max_retries=5,
                    sleep=no_wait,
                )

        def colleague_run() -> None:
            colleague["results"] = shared(_colleague_plan(2100))

        thread = threading.Thread(target=colleague_run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while len(box.ledger) < 50 and time.monotonic() < deadline:  # the colleague is sending
            time.sleep(0.02)
        results = shared(make_plan(400, batch_size=10, extra=False, names=3))
        still_sending = thread.is_alive()
        thread.join(timeout=90)
        ledger = box.ledger
    assert still_sending  # the two runs did overlap all along
    assert not ledger.duplicated(["receiver", "content"]).any()  # 0 duplicates, either run
    assert not any("switched off" in w for w in results.attrs["warnings"]), results.attrs["warnings"]
    verdicts = pd.DataFrame(results.attrs["reconciliations"])
    assert {"accepted", "not_sent"} <= set(verdicts["verdict"])  # settled by the balance
    settled = verdicts[verdicts["verdict"].isin(["accepted", "not_sent"])]
    assert settled["note"].fillna("").str.contains("of other runs").any()  # the colleague's, counted
    assert (results["status"] == "accepted").all()
    assert "results" in colleague
