"""Make the README's screenshots: the notebooks in JupyterLab and the report's 概览 sheet as printed.

Not part of ``make test``. It needs, besides the project's dev environment (``make test`` builds it):

- Debian packages ``chromium`` (headless browser), ``libreoffice-calc-nogui`` (renders the workbook to
  PDF), ``poppler-utils`` (``pdftoppm``: PDF page to PNG) and ``fonts-noto-cjk`` (Chinese glyphs)::

      apt-get install chromium libreoffice-calc-nogui poppler-utils fonts-noto-cjk

Run from the repository root: ``.venv/bin/python docs/screenshots/make_screenshots.py``. It executes each
notebook against the sandbox in a temporary folder (a temporary campaign home, loopback only), opens
the executed copies in a JupyterLab bound to 127.0.0.1, takes a 1280-px-wide screenshot of each with
headless Chromium, runs the demo campaign and renders the first page of its report with LibreOffice.
The PNGs land beside this script.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _need(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        sys.exit(f"{program} not found: see this script's docstring for what to install")
    return path


def execute_notebooks(work: Path, env: dict[str, str]) -> list[Path]:
    import nbclient
    import nbformat

    (work / "notebooks").mkdir()
    os.symlink(ROOT / "sample_data", work / "sample_data")
    done = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        book = nbformat.read(path, as_version=4)
        old = dict(os.environ)
        os.environ.update(env)
        try:
            nbclient.NotebookClient(
                book,
                timeout=300,
                kernel_name="python3",
                resources={"metadata": {"path": str(work / "notebooks")}},
            ).execute()
        finally:
            os.environ.clear()
            os.environ.update(old)
        target = work / "notebooks" / path.name
        nbformat.write(book, target)
        done.append(target)
    return done


def screenshot_lab(work: Path, books: list[Path], env: dict[str, str]) -> None:
    chromium = _need("chromium")
    port = _free_port()
    settings = work / "lab-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    # No "news" or update pop-ups over the notebook.
    (settings / "notification.jupyterlab-settings").write_text(
        '{"fetchNews": "false", "checkForUpdates": false}', encoding="utf-8"
    )
    lab = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--allow-root",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--IdentityProvider.token=",
            "--ServerApp.password=",
            f"--ServerApp.root_dir={work}",
            f"--LabApp.user_settings_dir={work / 'lab-settings'}",
            f"--LabApp.workspaces_dir={work / 'lab-workspaces'}",
        ],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline or lab.poll() is not None:
                    sys.exit("JupyterLab did not start")
                time.sleep(0.5)
        for book in books:
            out = HERE / f"notebook-{book.stem}.png"
            url = f"http://127.0.0.1:{port}/lab/tree/notebooks/{book.name}?reset"
            subprocess.run(
                [
                    chromium,
                    *CHROMIUM_FLAGS,
                    f"--user-data-dir={work / 'chromium'}",
                    "--window-size=1280,4800",
                    "--virtual-time-budget=25000",
                    f"--screenshot={out}",
                    url,
                ],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=180,
            )
            print(out.relative_to(ROOT))
    finally:
        lab.terminate()
        lab.wait(timeout=30)


def screenshot_report(work: Path, env: dict[str, str]) -> None:
    soffice = _need("soffice")
    pdftoppm = _need("pdftoppm")
    report = work / "demo-report.xlsx"
    subprocess.run(
        [sys.executable, "-m", "smscampaign.notebook.demo", "--out", str(report)],
        check=True,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        cwd=work,
    )
    subprocess.run(
        [
            soffice,
            "--headless",
            f"-env:UserInstallation=file://{work / 'lo'}",
            "--convert-to",
            "pdf",
            "--outdir",
            str(work),
            str(report),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=300,
    )
    out = HERE / "report-overview"
    subprocess.run(
        [
            pdftoppm,
            "-png",
            "-r",
            "90",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(work / "demo-report.pdf"),
            str(out),
        ],
        check=True,
    )
    print(out.with_suffix(".png").relative_to(ROOT))


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="smscampaign-shots-") as tmp:
        work = Path(tmp)
        env = {"SMSCAMPAIGN_HOME": str(work / "home")}
        for name in [n for n in os.environ if n.startswith("SMSCAMPAIGN_") and n != "SMSCAMPAIGN_HOME"]:
            os.environ.pop(name)
        books = execute_notebooks(work, env)
        screenshot_lab(work, books, env)
        screenshot_report(work, env)


if __name__ == "__main__":
    main()
