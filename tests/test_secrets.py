"""No password, card password or push key appears in a report, a journal, a log record or what the
demo and the command line print. (Notebook outputs: tests/test_notebooks.py.)"""

from __future__ import annotations

import logging
import secrets
import zipfile
from pathlib import Path

import pytest

from smscampaign import cli
from smscampaign.notebook import demo

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "recipients.xlsx"
KNOWN = "Pw-9f3kQ-never-shown"


def file_text(path: Path) -> bytes:
    """A file's bytes, with the members of an .xlsx (a zip) unpacked so that text is greppable."""
    data = path.read_bytes()
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            data += b"".join(archive.read(name) for name in archive.namelist())
    return data


def assert_absent(secret: str, *texts: str, files: list[Path] = ()) -> None:  # type: ignore[assignment]
    for text in texts:
        assert secret not in text
    for path in files:
        if path.is_file():
            assert secret.encode() not in file_text(path), path.name


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


def test_demo_shows_no_password(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    all_logs: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(secrets, "token_urlsafe", lambda n=None: KNOWN)
    report = tmp_path / "demo.xlsx"
    assert demo.main(["--out", str(report)]) == 0
    captured = capsys.readouterr()
    assert "report written to" in captured.out and report.is_file()
    assert_absent(KNOWN, captured.out, captured.err, all_logs.text, files=[report])


def test_cli_send_and_report_show_no_password(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    all_logs: pytest.LogCaptureFixture,
) -> None:
    journal, report = tmp_path / "c.journal", tmp_path / "c.xlsx"
    cli.main(
        [
            "send",
            str(SAMPLE),
            "--template",
            "{姓名}您好。回T退订",
            "--signature",
            "演示",
            "--journal",
            str(journal),
            "--sandbox",
            "--no-progress",
            "--report",
            str(report),
        ]
    )
    cli.main(["report", str(journal), "--out", str(tmp_path / "again.xlsx")])
    cli.main(["balance", "--sandbox"])
    captured = capsys.readouterr()
    written = [journal, report, tmp_path / "again.xlsx"]
    assert all(p.is_file() for p in written)
    assert_absent(cli.DEMO_PASSWORD, captured.out, captured.err, all_logs.text, files=written)


def test_cli_recharge_shows_no_card_password(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    all_logs: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("CARD_PWD", KNOWN)
    code = cli.main(["recharge", "--sandbox", "--card", "CARD-404", "--card-pwd-env", "CARD_PWD"])
    captured = capsys.readouterr()
    assert code != 0  # the demo sandbox has no such card
    assert_absent(KNOWN, captured.out, captured.err, all_logs.text)
    assert_absent(cli.DEMO_PASSWORD, captured.out, captured.err, all_logs.text)


def test_pushed_replies_keep_no_push_key(
    tmp_path: Path,
    all_logs: pytest.LogCaptureFixture,
) -> None:
    """A pushed reply reaches the store and the report; the push key (通讯密钥) neither."""
    import io
    from urllib.parse import urlencode

    import pandas as pd

    from smscampaign import ReplyStore, export_report, reply_receiver

    store = ReplyStore(tmp_path / "replies.sqlite")
    app = reply_receiver(KNOWN, store)
    statuses: list[str] = []
    for key in (KNOWN, "wrong-key"):
        body = urlencode(
            {
                "sender": "13800138000",
                "content": "退订",
                "key": key,
                "receivetime": "2026-01-02 03:04:05",
            }
        ).encode()
        environ = {
            "REQUEST_METHOD": "POST",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "REMOTE_ADDR": "127.0.0.1",
        }
        b"".join(app(environ, lambda status, headers: statuses.append(status)))
    assert statuses[0].startswith("200") and statuses[1].startswith("403")
    replies = store.to_frame()
    store.close()
    report = export_report(
        pd.DataFrame({"mobile": ["13800138000"], "status": ["accepted"]}),
        tmp_path / "r.xlsx",
        replies=replies,
    )
    assert_absent(KNOWN, replies.to_string(), all_logs.text, files=[report, tmp_path / "replies.sqlite"])


# -- a team home's database password (issue 26) ---------------------------------------------------

#: A password with characters a URL must escape: it appears there as ``DB_PASSWORD_IN_URL``.
DB_PASSWORD = "Db-7r@p:w/0rd%never"
DB_PASSWORD_IN_URL = "Db-7r%40p%3Aw%2F0rd%25never"


@pytest.fixture
def team_url(pg_server) -> str:
    """A team home owned by a role that must give its password (scram-sha-256); the URL holds it."""
    role = pg_server.password_role(DB_PASSWORD)
    database = pg_server.database(owner=role).rpartition("/")[2]
    return f"postgresql://{role}:{DB_PASSWORD_IN_URL}@127.0.0.1:{pg_server.port}/{database}"


def assert_no_db_password(*texts: str, files: list[Path] = ()) -> None:  # type: ignore[assignment]
    for secret in (DB_PASSWORD, DB_PASSWORD_IN_URL, "Db-7r"):
        assert_absent(secret, *texts, files=files)


def test_a_password_in_the_home_url_never_shows(
    team_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    all_logs: pytest.LogCaptureFixture,
) -> None:
    import traceback

    from smscampaign.core.errors import HomeError
    from smscampaign.memory.history import History
    from smscampaign.memory.home import open_home

    monkeypatch.setenv("SMSCAMPAIGN_HOME", team_url)
    with open_home() as store, History(store=store) as history:
        shown = [repr(store), store.location, repr(history), history.campaigns().to_string()]
    journal, report = tmp_path / "c.journal", tmp_path / "c.xlsx"
    send = ["send", str(SAMPLE), "--template", "{姓名}您好。回T退订", "--signature", "演示"]
    assert cli.main([*send, "--journal", str(journal), "--sandbox", "--report", str(report)]) == 0
    assert cli.main(["history"]) == 0
    assert cli.main(["home", "info"]) == 0
    assert cli.main(["home", "info", team_url]) == 0
    assert cli.main(["home", "copy", str(tmp_path / "none"), team_url]) == 2
    # The password wrong, the server gone: errors name the home, never the password.
    errors = []
    wrong = team_url.replace(DB_PASSWORD_IN_URL, DB_PASSWORD_IN_URL[:-1] + "X")
    gone = team_url.replace("@127.0.0.1:", "@127.0.0.1:1")
    for url in (wrong, gone):
        with pytest.raises(HomeError) as failed:
            open_home(url)
        errors += [
            str(failed.value),
            failed.value.home,
            "".join(traceback.format_exception(failed.value)),
        ]
        monkeypatch.setenv("SMSCAMPAIGN_HOME", url)
        assert cli.main(["history"]) == 1
    assert "password authentication failed" in errors[0]
    captured = capsys.readouterr()
    assert f"analyst@127.0.0.1:{team_url.rsplit(':', 1)[1]}" in captured.out  # where: shown, redacted
    assert_no_db_password(
        *shown, *errors, captured.out, captured.err, all_logs.text, files=[journal, report]
    )


def test_libpq_finds_the_password_as_psql_does(
    team_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The URL goes to libpq untouched: PGPASSWORD, a password file (~/.pgpass, or PGPASSFILE) and a
    service file (PGSERVICE) work; so do TLS parameters (sslmode=require against a server without
    TLS is refused by libpq itself)."""
    from smscampaign.core.errors import HomeError
    from smscampaign.memory.home import open_home

    bare = team_url.replace(f":{DB_PASSWORD_IN_URL}@", "@")
    host, port_db = bare.split("@")[1].split(":")
    port, database = port_db.split("/")
    with pytest.raises(HomeError, match="password"):
        open_home(bare).close()  # no password anywhere: refused
    monkeypatch.setenv("PGPASSWORD", DB_PASSWORD)
    open_home(bare).close()
    monkeypatch.delenv("PGPASSWORD")
    passfile = tmp_path / "pgpass"
    escaped = DB_PASSWORD.replace("\\", "\\\\").replace(":", "\\:")
    passfile.write_text(f"{host}:{port}:*:analyst:{escaped}\n", encoding="utf-8")
    passfile.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(passfile))
    open_home(bare).close()
    services = tmp_path / "pg_service.conf"
    services.write_text(
        f"[team]\nhost={host}\nport={port}\ndbname={database}\nuser=analyst\n", encoding="utf-8"
    )
    monkeypatch.setenv("PGSERVICEFILE", str(services))
    open_home("postgresql://?service=team").close()
    monkeypatch.setenv("PGSERVICE", "team")
    monkeypatch.setenv("SMSCAMPAIGN_HOME", "postgresql://")
    with open_home() as store:
        assert store.location == "postgresql://"
    with pytest.raises(HomeError, match="SSL"):
        open_home(f"{bare}?sslmode=require")
