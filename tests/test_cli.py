"""The command line: every --help, one-line user errors (exit 2, no traceback), check, plan,
send --sandbox with --report, report JOURNAL, sandbox."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from smscampaign.cli import build_parser, main

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "recipients.xlsx"
COMMANDS = [
    "balance",
    "bind",
    "check",
    "compare",
    "history",
    "opt-outs",
    "plan",
    "receive",
    "recharge",
    "replies",
    "report",
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
    assert header[-5:] == ["mobile", "status", "reason", "carrier", "region"]


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
    assert rebuilt["概览"]["C2"].value == book["概览"]["C2"].value  # same accepted count

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
        url = process.stdout.readline().strip()  # type: ignore[union-attr]
        assert url.startswith("http://127.0.0.1:")
        from smscampaign import Gateway

        with Gateway("u", "pw", base_url=url) as gw:
            assert gw.user_info().fields["sms_left"] == 5
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert process.returncode == 0
