"""``smscampaign demo`` and ``smscampaign notebooks``: the shipped sample data and notebooks
(issue 20), and a summary table that lines up next to Chinese text (issue 19, item 6).

The same commands from an installed wheel: tests/test_wheel.py."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pandas as pd
import pytest

from smscampaign import cli
from smscampaign.core.errors import ConfigError
from smscampaign.notebook.demo import copy_notebooks, format_table, sample_data

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))


def display_width(text: str) -> int:
    """Terminal columns: East Asian wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def test_package_data_is_the_repository_files() -> None:
    """One copy in git: the package's data-files link to notebooks/ and sample_data/."""
    for name in ("recipients.xlsx", "recipients.csv", "recipients_gbk.csv"):
        with sample_data(name) as path:
            assert path.read_bytes() == (ROOT / "sample_data" / name).read_bytes()
    with pytest.raises(ConfigError, match="recipients.xlsx"):
        with sample_data("nope.xlsx"):
            pass


def test_notebooks_command_copies_notebooks_with_their_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = tmp_path / "analysis"
    assert cli.main(["notebooks", str(dest)]) == 0
    out = capsys.readouterr().out
    assert f"{len(NOTEBOOKS)} notebooks and 4 sample files copied" in out
    assert f"jupyter lab {dest / 'notebooks'}" in out
    assert sorted(p.name for p in (dest / "notebooks").iterdir()) == NOTEBOOKS
    for name in NOTEBOOKS:
        copied = (dest / "notebooks" / name).read_text(encoding="utf-8")
        assert copied == (ROOT / "notebooks" / name).read_text(encoding="utf-8")
        # Every file a notebook reads from ../sample_data is there beside it.
        for wanted in re.findall(r'DATA / \\"([^"\\]+)\\"', copied):
            assert (dest / "notebooks" / ".." / "sample_data" / wanted).is_file(), (name, wanted)
        if "DATA /" in copied:  # a notebook that reads the sample data finds it beside itself
            assert 'Path(\\"../sample_data\\")' in copied


def test_notebooks_command_never_replaces_files_unless_forced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy_notebooks(tmp_path)
    mine = tmp_path / "notebooks" / NOTEBOOKS[0]
    mine.write_text("my edits", encoding="utf-8")
    assert cli.main(["notebooks", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "already exist" in err and "--force" in err and "Traceback" not in err
    assert mine.read_text(encoding="utf-8") == "my edits"
    assert cli.main(["notebooks", str(tmp_path), "--force"]) == 0
    assert mine.read_bytes() == (ROOT / "notebooks" / NOTEBOOKS[0]).read_bytes()


def test_format_table_counts_wide_characters_as_two_columns() -> None:
    frame = pd.DataFrame(
        {
            "status": ["accepted", "unknown", "duplicate"],
            "zh": ["已受理", "结果未知", "号码重复"],
            "recipients": [258, 0, 7],
        }
    )
    lines = format_table(frame).splitlines()
    assert len(lines) == 4
    assert len({display_width(line) for line in lines}) == 1, lines
    # The numbers column ends at the same terminal column on every line.
    assert len({display_width(line.rstrip()) for line in lines}) == 1


def test_demo_command_writes_the_report_into_out_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMSCAMPAIGN_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    assert cli.main(["demo", "--out", "out"]) == 0
    out = capsys.readouterr().out
    report = tmp_path / "out" / "demo-report.xlsx"
    assert report.stat().st_size > 0
    assert f"report written to {report}" in out
    assert "recipients: sample recipients.xlsx — 300 rows" in out
    # Sandbox sends never enter the user's campaign home (its registry of who got what).
    home = tmp_path / "home"
    assert not home.exists() or not any(home.iterdir())
    # The summary table lines up although its zh column is Chinese.
    lines = out.split("\n\n")[1].splitlines()
    assert lines[0].split() == ["status", "zh", "recipients", "share"]
    assert any(re.search(r"[\u4e00-\u9fff]", line) for line in lines[1:])
    assert len({display_width(line) for line in lines}) == 1, lines
