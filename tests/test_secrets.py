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
