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
def test_notebook_runs_and_leaks_no_secret(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A copy beside a link to the sample data: ../sample_data resolves, ../reports lands in tmp.
    (tmp_path / "notebooks").mkdir()
    # The kernel's temporary folder, to see what the notebook leaves there.
    (tmp_path / "tmp").mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
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
    # Issue 28, item 22: nothing left in the temporary folder (04's campaign home is removed) …
    assert not list((tmp_path / "tmp").glob("smscampaign-home-*"))
    if path.stem == "04_history_and_ab_test":  # … and its history tables fit the page
        assert not re.search(r"[0-9a-f]{64}", outputs), "a whole fingerprint in a table"
        for cell in book.cells[:-1]:
            if "history.contacts(" in cell.source or "history.replies(" in cell.source:
                assert _table_width(cell) <= 130, cell.source
    for written in (tmp_path / "reports").rglob("*"):
        if written.is_file():
            data = written.read_bytes()
            for secret in secrets:
                assert secret.encode() not in data, written.name
    shutil.rmtree(tmp_path / "reports", ignore_errors=True)


def _table_width(cell) -> int:
    """Characters a cell's HTML table takes: its columns' widest texts (header or value) plus a
    gap each, Chinese counted as two (about the pixels JupyterLab gives the table at 13 px)."""
    from smscampaign.reports.xlsx import display_width

    html = next(o["data"]["text/html"] for o in cell.outputs if "text/html" in o.get("data", {}))
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S)
    cells = [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S) for row in rows]
    columns = max(len(row) for row in cells)
    widest = [0] * columns
    for row in cells:
        for i, text in enumerate(row[-columns:] if len(row) < columns else row):
            widest[i] = max(widest[i], display_width(re.sub(r"<[^>]+>", "", text).strip()))
    return sum(width + 2 for width in widest)


def test_notebooks_open_clean_in_jupyterlab() -> None:
    """JupyterLab marks a notebook unsaved when the kernel's kernelspec or language_info differ
    from the saved ones (it compares them deeply): each notebook saves what the kernel says,
    bar the Python version (which is the user's), as nbformat 4.5 with cell ids."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3")
    try:
        info = client.kernel_info(reply=True, timeout=60)["content"]["language_info"]
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    spec = KernelSpecManager().get_kernel_spec("python3")
    for path in NOTEBOOKS:
        book = nbformat.read(path, as_version=4)
        assert (book.nbformat, book.nbformat_minor) == (4, 5), path.name
        assert all(cell.get("id") for cell in book.cells), path.name
        assert book.metadata["kernelspec"] == {
            "display_name": spec.display_name,
            "language": spec.language,
            "name": "python3",
        }, path.name
        saved = dict(book.metadata["language_info"])
        assert saved.pop("version", None) and saved == {
            k: v for k, v in info.items() if k != "version"
        }, path.name


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
