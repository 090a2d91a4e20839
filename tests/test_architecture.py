"""The house in layers: folders that are layers, small modules, short functions (issue 25).

The layers themselves (each folder imports only from the folders below it, no circles inside a
folder) are import-linter's contracts in pyproject.toml, run by ``make lint``; this file checks what
import-linter does not: sizes, and that the old deep-import paths still lead to the same objects.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "smscampaign"
MAX_MODULE_LINES = 800
MAX_FUNCTION_LINES = 100
LAYERS = ("core", "wire", "sandbox", "stages", "memory", "campaign", "reports", "notebook", "cli")


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "data-files" not in p.parts)


def test_the_folders_are_the_layers():
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    assert folders == set(LAYERS)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_over_800_lines(path: Path):
    lines = path.read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_MODULE_LINES, f"{path.name} has {lines} lines"


def _long_functions(path: Path) -> list[str]:
    """Functions whose body (docstring included) is longer than the limit."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.end_lineno - node.body[0].lineno + 1  # type: ignore[operator]
            if body > MAX_FUNCTION_LINES:
                out.append(f"{node.name} (line {node.lineno}): {body} lines")
    return out


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_function_body_over_100_lines(path: Path):
    assert _long_functions(path) == []
