"""Every notebook runs top to bottom on a real kernel, with no credentials and no network beyond
loopback, and no secret of the run appears in any output."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SECRET_NAMES = ("SANDBOX_PASSWORD", "CARD_PASSWORD", "PUSH_KEY")
# Appended at run time (never saved): which secrets the run used and which Python ran.
PROBE = (
    "import json as _json, sys as _sys\n"
    f"print(_json.dumps({{'python': _sys.executable, 'secrets': "
    f"[globals()[n] for n in {SECRET_NAMES!r} if isinstance(globals().get(n), str)]}}))"
)


def test_the_three_notebooks_exist() -> None:
    assert [p.name for p in NOTEBOOKS] == [
        "01_quickstart.ipynb",
        "02_replies_and_optouts.ipynb",
        "03_account.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_without_outputs(path: Path) -> None:
    book = nbformat.read(path, as_version=4)
    nbformat.validate(book)
    for cell in book.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, path.name
    first = book.cells[0]
    assert first.cell_type == "markdown" and "SMSCAMPAIGN_PASSWORD" in first.source
    code = "\n".join(c.source for c in book.cells if c.cell_type == "code")
    assert "os.environ" in code or "from_env" in code


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_and_leaks_no_secret(path: Path, tmp_path: Path) -> None:
    # A copy beside a link to the sample data: ../sample_data resolves, ../reports lands in tmp.
    (tmp_path / "notebooks").mkdir()
    os.symlink(ROOT / "sample_data", tmp_path / "sample_data")
    book = nbformat.read(path, as_version=4)
    book.cells.append(nbformat.v4.new_code_cell(PROBE))
    client = nbclient.NotebookClient(
        book,
        timeout=180,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path / "notebooks")}},
    )
    client.execute()  # raises CellExecutionError on any error, with the cell and traceback

    probe = json.loads(book.cells[-1].outputs[0]["text"])
    assert Path(probe["python"]).resolve().parent == Path(sys.executable).resolve().parent
    secrets = probe["secrets"]
    assert secrets, "the notebook should use a sandbox password"
    outputs = json.dumps([c.get("outputs", []) for c in book.cells[:-1]], ensure_ascii=False)
    for secret in secrets:
        assert secret not in outputs
    for cell in book.cells[:-1]:
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error"
    if path.stem == "01_quickstart":  # the one-line summary of what the send did (issue 17)
        assert re.search(r"new campaign: [\d,]+ sent now", outputs), "the send's summary line"
    for written in (tmp_path / "reports").rglob("*"):
        if written.is_file():
            data = written.read_bytes()
            for secret in secrets:
                assert secret.encode() not in data, written.name
    shutil.rmtree(tmp_path / "reports", ignore_errors=True)
