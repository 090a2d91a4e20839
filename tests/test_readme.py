"""The README's return-code table is generated from ``codes_table()`` and must match it exactly."""

from __future__ import annotations

import re
from pathlib import Path

import smscampaign as sc

README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- codes-table:start -->", "<!-- codes-table:end -->"


def codes_markdown() -> str:
    """The table as the README shows it (regenerate the README block with this function)."""
    lines = ["| code | 中文 (provider's text) | English | category |", "| ---: | --- | --- | --- |"]
    lines += [
        f"| {row.code} | {row.zh} | {row.en} | {row.category} |"
        for row in sc.codes_table().itertuples(index=False)
    ]
    return "\n".join(lines)


def test_readme_code_table_matches_codes_table() -> None:
    text = README.read_text(encoding="utf-8")
    assert START in text and END in text
    block = text.split(START, 1)[1].split(END, 1)[0].strip()
    assert block == codes_markdown()


def test_readme_starts_with_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    first_block = text.split("```", 2)[1]
    assert "make demo" in first_block and "make test" in first_block


def test_readme_quickstart_shows_the_clone_and_the_pip_way() -> None:
    """Issue 20: clone → make demo; pip → smscampaign demo / notebooks; issue 17: make lab."""
    text = README.read_text(encoding="utf-8")
    blocks = text.split("```")[1::2]
    assert "make lab" in blocks[0]
    pip_way = blocks[1]
    for command in ("pip install", "smscampaign demo", "smscampaign notebooks", "jupyter lab"):
        assert command in pip_way, command


def test_every_make_target_the_readme_names_exists() -> None:
    text = README.read_text(encoding="utf-8")
    makefile = (README.parent / "Makefile").read_text(encoding="utf-8")
    named = set(re.findall(r"`?make ([a-z][a-z-]*)", text))
    assert {"demo", "test", "test-min", "lab", "dist"} <= named
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, re.MULTILINE))
    assert named <= targets, named - targets
