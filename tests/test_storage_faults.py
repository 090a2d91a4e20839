"""The journal, the campaign home and the reply store when their files fail: a full disk, damaged
pages, no permission — one line naming the file and the cause, the exit code, and the sandbox's
ledger (the ground truth) showing nobody texted twice."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import test_send
from _kill import python_child
from conftest import child_env
from test_send import _ledger, _send_argv, write_csv

import smscampaign as sc
from smscampaign.memory.sqlite import DAMAGED, DENIED, FULL, explain

standalone = test_send.standalone  # the fixture: a standalone sandbox process
ENV = {"SMSCAMPAIGN_USERNAME": "demo", "SMSCAMPAIGN_PASSWORD": "secret"}


def _run(argv: list[str], env: dict[str, str], timeout: float = 180) -> tuple[int, str, str]:
    """``python argv`` to its end: (exit code, stdout, stderr)."""
    with python_child(
        *argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as child:
        out, err = child.communicate(timeout=timeout)
    return child.returncode, out, err


# -- a full disk --------------------------------------------------------------------------------------


@contextlib.contextmanager
def small_disk(folder: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted on ``folder`` (root only), unmounted on the way out."""
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.decode().strip()})")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path) -> Path:
    """Fill the disk of ``folder`` to the last byte with one file; returns it."""
    filler = folder / "filler"
    handle = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        with contextlib.suppress(OSError):
            while True:
                os.write(handle, b"\0" * 4096)
    finally:
        os.close(handle)
    return filler


@pytest.mark.timeout(600)
@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")
def test_disk_full_mid_campaign_one_line_exit_1_journal_intact_and_resumable(tmp_path, standalone):
    url = standalone("--latency", "0.005", sms=100_000)
    source = write_csv(tmp_path / "people.csv", 3000)
    with small_disk(tmp_path / "disk", "64m") as disk:
        journal = disk / "j.journal"
        env = child_env(**ENV, SMSCAMPAIGN_HOME=str(disk / "home"))
        argv = _send_argv(source, url, journal, "--signature", "小店", "--batch-size", "5")
        child = subprocess.Popen(
            [sys.executable, *argv], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            # Once the run is under way, the disk fills up (a colleague's download, a log …).
            while not journal.exists() or _accepted(journal) < 100:
                assert child.poll() is None, child.communicate()
            filler = fill(disk)
            out, err = child.communicate(timeout=300)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
        assert child.returncode == 1, (out, err)
        last = err.strip().splitlines()[-1]
        assert "Traceback" not in err and "cannot rollback" not in err
        assert "disk full" in last and str(disk) in last, err
        sent = _ledger(url)
        assert not sent["receiver"].duplicated().any()
        assert 100 <= len(sent) < 3000
        with sqlite3.connect(f"file:{journal}?mode=ro", uri=True) as conn:  # the journal is intact
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)

        # A resume while the disk is still full says so (not "the home is not usable") and sends nothing.
        code, out, err = _run(argv, env)
        assert code == 1, (out, err)
        assert "disk full" in err.strip().splitlines()[-1] and "Traceback" not in err
        assert len(_ledger(url)) == len(sent)

        filler.unlink()  # space again: the same command resumes
        code, out, err = _run(argv, env)
        assert code == 0, (out, err)
        results = sc.read_journal(journal)
    ledger = _ledger(url)
    assert not ledger["receiver"].duplicated().any()  # 0 numbers twice
    ready = results[results["batch"].notna()]
    assert set(ready["status"]) <= {"accepted", "unknown"}
    accepted = set(ready.loc[ready["status"] == "accepted", "mobile"])
    assert accepted <= set(ledger["receiver"])
    assert (ready["status"] == "unknown").sum() <= 5  # at most the batch in flight at the failure


def _accepted(journal: Path) -> int:
    try:
        with sc.Journal(journal, readonly=True) as book:
            return book.accepted_total()
    except sc.JournalError:
        return 0


def test_a_failed_commit_is_not_hidden_by_the_rollback(tmp_path):
    # A full disk at the SQLite boundary (max_page_count): the commit fails and SQLite ends the
    # transaction itself; the error raised names the file and the disk, not "cannot rollback".
    path = tmp_path / "j.journal"
    with sc.Journal(path) as book:
        book._conn.execute("PRAGMA max_page_count = 8")  # the file may not grow past 8 pages
        rows = [(f"138{i:08d}", 1, "x" * 200) for i in range(500)]
        with pytest.raises(sc.JournalFull) as info:
            book.exclude(rows)
    message = str(info.value)
    assert str(path) in message and "disk full" in message
    assert "cannot rollback" not in message and isinstance(info.value, OSError)
    from smscampaign.cli import exit_code

    assert exit_code(info.value) == 1


def test_explain_names_the_cause():
    assert explain(sqlite3.OperationalError("database or disk is full"), "x")[0] == FULL
    assert explain(sqlite3.DatabaseError("database disk image is malformed"), "x")[0] == DAMAGED
    kind, cause = explain(sqlite3.OperationalError("unable to open database file"), "/nope/x.db")
    assert kind == DENIED and "'/nope' does not exist" in cause


# -- no permission, no folder ---------------------------------------------------------------------


def test_a_journal_in_a_missing_folder_names_the_path_and_the_cause(tmp_path, sandbox, capsys):
    from smscampaign.cli import main

    source = write_csv(tmp_path / "people.csv", 5)
    journal = tmp_path / "gone" / "j.journal"
    code = main(["send", str(source), "--template", "您好", "--signature", "小店", "--sandbox",
                 "--journal", str(journal), "--no-progress"])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert str(journal) in err[0] and f"its folder {str(journal.parent)!r} does not exist" in err[0]


@pytest.fixture
def read_only_disk(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs holding a journal, a campaign home and a reply store, then remounted read-only."""
    with small_disk(tmp_path / "ro", "4m") as disk:
        with sc.Journal(disk / "j.journal"):
            pass
        sc.ReplyStore(disk / "replies.sqlite").close()
        from smscampaign.memory.home import open_home

        open_home(disk / "home").close()
        for leftover in disk.rglob("*-[ws][ah][lm]"):
            leftover.unlink()
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        yield disk


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")
def test_read_only_files_name_the_path_and_the_cause(read_only_disk):
    from smscampaign.memory.home import open_home

    disk = read_only_disk
    with pytest.raises(sc.HomeError) as home:
        open_home(disk / "home")
    with pytest.raises(sc.HomeError) as replies:
        sc.ReplyStore(disk / "replies.sqlite")
    with pytest.raises(sc.JournalError) as journal:
        sc.Journal(disk / "j.journal")
    for info, name in ((home, "home/home.sqlite"), (replies, "replies.sqlite")):
        message = str(info.value)
        assert str(disk / name) in message and "read-only file system" in message, message
        assert message.count("\n") == 0
    assert str(disk / "j.journal") in str(journal.value) and "read-only" in str(journal.value)


# -- damaged pages ----------------------------------------------------------------------------------


def damage(path: Path, table: str) -> None:
    """Overwrite the root page of ``table`` in the SQLite file at ``path`` with garbage."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name=?", (table,)).fetchone()[0]
    conn.close()
    with open(path, "r+b") as handle:
        handle.seek((root - 1) * size)
        handle.write(b"\x0d\xff\xff\xff" * (size // 4))


def test_a_damaged_journal_one_line_exit_2_nothing_sent(tmp_path, standalone, capsys, monkeypatch):
    from smscampaign.cli import build_parser, main
    from smscampaign.cli.common import load_checked, make_plan

    url = standalone()
    source = write_csv(tmp_path / "people.csv", 40)
    journal = tmp_path / "j.journal"
    argv = _send_argv(source, url, journal, "--signature", "小店", "--batch-size", "10")[2:]
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    with sc.Journal(journal) as book:  # a journal of this plan, made by a run that sent nothing
        args = build_parser().parse_args(argv)
        book.attach(make_plan(args, load_checked(args)))
    damage(journal, "batches")
    for command in (argv, ["report", str(journal), "--out", str(tmp_path / "r.xlsx")]):
        code = main(command)
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1, err
        line = err[0]
        assert str(journal) in line and "damaged" in line and "malformed" in line
        assert "backup" in line and "--repeat-window" in line and "Traceback" not in line
    assert len(_ledger(url)) == 0  # nothing sent
