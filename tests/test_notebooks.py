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
        "04_history_and_ab_test.ipynb",
        "05_did_it_sell.ipynb",
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


def test_the_dev_environment_has_jupyterlab() -> None:
    """Issue 17 item 7: the venv `make test` builds (the dev extra) opens the notebooks."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert "smscampaign[notebook]" in project["optional-dependencies"]["dev"]
    assert any(r.startswith("jupyterlab") for r in project["optional-dependencies"]["notebook"])
    bindir = Path(sys.executable).parent
    for tool in ("jupyter", "jupyter-lab", "jupyter-nbconvert"):
        assert (bindir / tool).is_file(), tool


def test_make_lab_serves_the_notebooks(tmp_path: Path) -> None:
    """What `make lab` runs (`jupyter lab` in the clone, --allow-root as root) serves the
    notebooks; the test binds 127.0.0.1 on a free port and stops the server."""
    import queue
    import subprocess
    import threading
    import time
    import urllib.error
    import urllib.request

    token = "make-lab-test"
    argv = [str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser"]
    argv += ["--ServerApp.ip=127.0.0.1", "--ServerApp.port=0", f"--IdentityProvider.token={token}"]
    argv += ["--allow-root"] if os.geteuid() == 0 else []
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMSCAMPAIGN_")}
    env["JUPYTER_RUNTIME_DIR"] = str(tmp_path / "runtime")
    server = subprocess.Popen(argv, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put(line) for line in server.stderr or []], daemon=True
    ).start()
    try:
        port = None
        while port is None:
            line = lines.get(timeout=120)  # raises queue.Empty if the server never says where it is
            if "http://127.0.0.1:" in line:
                port = line.split("http://127.0.0.1:", 1)[1].split("/", 1)[0]
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/contents/notebooks/01_quickstart.ipynb?content=0",
            headers={"Authorization": f"token {token}"},
        )
        # jupyter_server logs its URL before the io loop binds the port: poll until it answers
        # (readiness, bounded; the result does not depend on the pause).
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(request, timeout=60) as answer:
                    model = json.load(answer)
                break
            except urllib.error.URLError as exc:
                if not isinstance(exc.reason, ConnectionRefusedError) or time.monotonic() > deadline:
                    raise
                assert server.poll() is None, "jupyter lab exited"
                time.sleep(0.1)
        assert model["type"] == "notebook" and model["name"] == "01_quickstart.ipynb"
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)
