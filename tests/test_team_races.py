"""The send engine on the team's campaign home (PostgreSQL, issue 26): one runner per plan across the
team, and the home going away mid-campaign.

A real PostgreSQL (tests/_postgres.py: ``pg_server``, ``pg_url``), a standalone sandbox whose ledger
is the ground truth, and runners in child processes (tests/test_reservations.py's ``RUNNER``, or the
CLI itself). The races of two journals, two plans and a kill -9 run on both homes in
tests/test_reservations.py. Every test ends with nobody twice in the ledger and the list finished.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pandas as pd
import pytest
import requests
from _kill import python_child, wait_for_progress
from _postgres import Server
from conftest import child_env
from test_reservations import TEMPLATE, _assert_nobody_twice, _finish, _go, _runner
from test_send import _ledger, _readline, standalone  # noqa: F401 (a fixture)


def _send_calls(url: str) -> int:
    """send_sms requests the standalone sandbox at ``url`` has seen (its call log)."""
    calls = pd.DataFrame(requests.get(f"{url}/_sandbox/calls", timeout=10).json())
    return int(calls["endpoint"].str.contains("send_sms").sum()) if len(calls) else 0


def test_a_second_analyst_sending_the_same_plan_is_turned_away_before_any_request(
    standalone,  # noqa: F811
    pg_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SMSCAMPAIGN_HOME", pg_url)  # one team home ...

    def analyst(name: str) -> dict[str, str]:  # ... and each analyst's own journal folder
        return child_env(XDG_DATA_HOME=str(tmp_path / name))

    url = standalone("--latency", "0.005")
    numbers = range(400)
    with _runner(url, None, numbers.start, numbers.stop, hold=4, workers=1, env=analyst("ana")) as a:
        _go(a)
        assert _readline(a) == "holding"  # three batches sent, the plan's lock held
        calls = _send_calls(url)
        with _runner(url, None, numbers.start, numbers.stop, env=analyst("bo")) as b:
            _go(b)
            said = _finish(b)
        assert said["busy"] == a.pid and f"(pid {a.pid})" in said["error"], said
        assert "nothing was sent" in said["error"]
        assert said["calls"] == 0 and _send_calls(url) == calls  # not one send_sms from Bo
        a.stdin.write("\n")  # Ana goes on and finishes
        a.stdin.flush()
        assert _finish(a) == {"accepted": len(numbers)}
    # Bo, again, once Ana is done: from his own journal, everyone is already sent.
    with _runner(url, None, numbers.start, numbers.stop, env=analyst("bo")) as b:
        _go(b)
        assert _finish(b) == {"already_sent": len(numbers)}
    for name in ("ana", "bo"):
        assert len(list((tmp_path / name / "smscampaign" / "journals").glob("*.journal"))) == 1
    _assert_nobody_twice(url, numbers)


def _reserved(server: Server, database: str) -> set[str]:
    """Numbers the team home holds reserved, accepted or unknown (not released)."""
    import psycopg  # noqa: PLC0415

    with psycopg.connect(server.url(database)) as conn:
        rows = conn.execute(
            "SELECT n.mobile FROM reservation_numbers n "
            "JOIN reservation_batches b ON b.id = n.holder WHERE b.status <> 'released'"
        ).fetchall()
    return {mobile for (mobile,) in rows}


def test_the_server_stopped_mid_campaign_stops_the_run_and_the_same_command_resumes(
    standalone,  # noqa: F811
    pg_server: Server,
    tmp_path: Path,
) -> None:
    secret = "pg-Secret-42"
    role = pg_server.password_role(secret)
    database = pg_server.database(owner=role).rsplit("/", 1)[1]
    team = pg_server.url(database, user=role, password=secret)  # the password in the URL
    url = standalone("--latency", "0.03")  # a gateway that takes its time: the run is mid-way
    numbers = range(60 * 20)
    source, journal = tmp_path / "people.csv", tmp_path / "spring.journal"
    pd.DataFrame({"手机": [f"139{i:08d}" for i in numbers]}).to_csv(source, index=False)
    argv = ["-m", "smscampaign", "send", str(source), "--template", TEMPLATE, "--signature", "小店"]
    argv += ["--batch-size", "20", "--base-url", url, "--no-progress", "--journal", str(journal)]
    env = child_env(SMSCAMPAIGN_HOME=team, SMSCAMPAIGN_USERNAME="demo", SMSCAMPAIGN_PASSWORD="secret")
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    with python_child(*argv, env=env, **pipes) as run:
        assert wait_for_progress(run, journal, 10 * 20), "the run ended before the server stopped"
        pg_server.stop("immediate")
        at_stop = len(_ledger(url))
        try:
            out, err = run.communicate(timeout=60)  # no hang: it stops by itself
        finally:
            pg_server.start()
    # One clear line naming the home (without its password); exit 1; no traceback.
    assert run.returncode == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    home = f"postgresql://{role}@127.0.0.1:{pg_server.port}/{database}"
    assert lines[0].startswith(f"smscampaign send: failed: the campaign home {home} "), err
    assert secret not in out + err and "Traceback" not in err
    # It stopped before its next requests (not running on through the batches it had reserved
    # ahead), and nothing went out without a reservation in the home.
    sent = _ledger(url)
    assert len(sent) < len(numbers) and len(sent) - at_stop <= 4 * 20, (at_stop, len(sent))
    assert set(sent["receiver"]) <= _reserved(pg_server, database)
    # The server is back: the same command resumes and finishes, nobody twice.
    with python_child(*argv, env=env, **pipes) as again:
        out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert secret not in out + err
    _assert_nobody_twice(url, numbers)
