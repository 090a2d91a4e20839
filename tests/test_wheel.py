"""The package as users install it (issue 20).

``python -m build`` makes an sdist and a wheel without a warning; both carry the licence, the
``py.typed`` marker, the notebooks and the sample data (byte for byte the repository's files); an
editable install prints no packaging warning; and the wheel, installed alone into a fresh venv
(dependencies from the package index, nothing from this checkout), runs ``smscampaign --help``,
``smscampaign demo`` and ``smscampaign notebooks``.

These build and install for real, so they are marked ``slow`` (``pytest -m "not slow"`` skips
them while working); ``make test`` and ``make test-min`` run them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from email.parser import HeaderParser
from pathlib import Path

import pytest

pytest.importorskip("build")

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
SAMPLES = sorted(p.name for p in (ROOT / "sample_data").iterdir() if p.suffix in (".csv", ".xlsx"))
#: What a clone holds that a build must not see (our own venvs and artefacts).
_NOT_IN_A_CLONE = shutil.ignore_patterns(
    ".git", ".venv*", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis",
    ".mypy_cache", ".ruff_cache", ".ipynb_checkpoints",
)  # fmt: skip


def NOT_IN_A_CLONE(folder: str, names: list[str]) -> set[str]:
    """Those, and the top-level ``reports/`` (the demo's output; ``smscampaign/reports`` is code)."""
    ignored = set(_NOT_IN_A_CLONE(folder, names))
    return ignored | ({"reports"} if Path(folder) == ROOT else set())


#: A Python warning as printed (``SetuptoolsDeprecationWarning: …``), setuptools' boxed notices,
#: distutils' ``warning: …`` lines.
WARNING = re.compile(r"\w*Warning\b|^\s*warning:|same name|\*{20}", re.IGNORECASE | re.MULTILINE)


def _env(**extra: str) -> dict[str, str]:
    """The environment without this checkout on the path and without our settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "VIRTUAL_ENV") and not k.startswith("SMSCAMPAIGN_")
    }
    # A developer's shell setting, not the project's: with it distutils prints
    # "warning: byte-compiling is disabled" for every build.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(extra)
    return env


def _run(argv: list[str | Path], *, cwd: Path, timeout: float = 600, **env: str) -> str:
    done = subprocess.run(
        [str(a) for a in argv],
        cwd=cwd,
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{argv} exited {done.returncode}:\n{output[-4000:]}"
    return output


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the checkout as a clone has it (links kept as links)."""
    dest = tmp_path_factory.mktemp("clone") / "smscampaign"
    shutil.copytree(ROOT, dest, symlinks=True, ignore=NOT_IN_A_CLONE)
    return dest


@pytest.fixture(scope="module")
def dist(source: Path) -> tuple[Path, Path, str]:
    """``python -m build``: the sdist, the wheel (built from the sdist) and what it printed."""
    out = source.parent / "dist"
    output = _run([sys.executable, "-m", "build", "--outdir", out, source], cwd=source)
    (sdist,) = out.glob("smscampaign-*.tar.gz")
    (wheel,) = out.glob("smscampaign-*-py3-none-any.whl")
    return sdist, wheel, output


def test_build_prints_no_warning(dist: tuple[Path, Path, str]) -> None:
    output = dist[2]
    assert "Successfully built" in output
    assert not WARNING.search(output), WARNING.search(output)


def test_wheel_carries_licence_types_notebooks_and_sample_data(dist: tuple[Path, Path, str]) -> None:
    with zipfile.ZipFile(dist[1]) as wheel:
        names = set(wheel.namelist())
        info = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = HeaderParser().parsestr(wheel.read(info).decode())
        assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
        assert "smscampaign/py.typed" in names
        assert "smscampaign/data/prefixes.npz" in names  # numbers' prefix table
        for name in NOTEBOOKS:
            packaged = wheel.read(f"smscampaign/data-files/notebooks/{name}")
            assert packaged == (ROOT / "notebooks" / name).read_bytes(), name
        for name in SAMPLES:
            packaged = wheel.read(f"smscampaign/data-files/sample_data/{name}")
            assert packaged == (ROOT / "sample_data" / name).read_bytes(), name
    assert not [n for n in names if n.endswith("make_sample_data.py") or n.startswith("tests/")]
    assert metadata["License-Expression"] == "MIT"
    assert metadata.get_all("License-File") == ["LICENSE"]
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert "make demo" in metadata.get_payload()  # the README is the long description
    classifiers = metadata.get_all("Classifier")
    assert "Typing :: Typed" in classifiers and "Programming Language :: Python :: 3.11" in classifiers
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")


def test_sdist_carries_licence_and_package_data(dist: tuple[Path, Path, str]) -> None:
    with tarfile.open(dist[0]) as sdist:
        members = {m.name.split("/", 1)[1]: m for m in sdist.getmembers() if "/" in m.name}
    assert members["LICENSE"].isfile()
    for name in NOTEBOOKS:
        assert members[f"smscampaign/data-files/notebooks/{name}"].isfile(), name  # a file, not a link
    for name in SAMPLES:
        assert members[f"smscampaign/data-files/sample_data/{name}"].isfile(), name


def test_editable_install_prints_no_warning(source: Path, tmp_path: Path) -> None:
    """What ``make demo`` does first; pip forwards the build backend's warnings."""
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv], cwd=tmp_path)
    python = venv / "bin" / "python"
    _run([python, "-m", "pip", "install", "--quiet", "setuptools>=77"], cwd=tmp_path)
    output = _run(
        [python, "-m", "pip", "install", "-v", "--no-deps", "--no-build-isolation", "-e", source],
        cwd=tmp_path,
    )
    backend = "\n".join(line for line in output.splitlines() if not line.startswith("WARNING: Location"))
    assert "Successfully installed smscampaign" in output
    assert not WARNING.search(backend), WARNING.search(backend)
    done = subprocess.run(  # find_spec: --no-deps, so importing (pandas …) would fail
        [python, "-c", "import importlib.util as u; print(u.find_spec('smscampaign').origin)"],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert Path(done.stdout.strip()).parent == source / "smscampaign", done.stderr  # really editable


def test_wheel_installed_alone_runs_demo_and_copies_notebooks(
    dist: tuple[Path, Path, str], tmp_path: Path
) -> None:
    """The slow one: a fresh venv, ``pip install the.whl`` from the index, then the commands."""
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv], cwd=tmp_path)
    bin_ = venv / "bin"
    _run([bin_ / "python", "-m", "pip", "install", "--quiet", dist[1]], cwd=tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    home = str(tmp_path / "home")

    helptext = _run([bin_ / "smscampaign", "--help"], cwd=work, SMSCAMPAIGN_HOME=home)
    assert "demo" in helptext and "notebooks" in helptext

    output = _run([bin_ / "smscampaign", "demo", "--out", "out"], cwd=work, SMSCAMPAIGN_HOME=home)
    assert (work / "out" / "demo-report.xlsx").stat().st_size > 0
    assert f"report written to {work / 'out' / 'demo-report.xlsx'}" in output
    assert "Traceback" not in output

    _run([bin_ / "smscampaign", "notebooks", "nb"], cwd=work, SMSCAMPAIGN_HOME=home)
    assert sorted(p.name for p in (work / "nb" / "notebooks").iterdir()) == NOTEBOOKS
    assert sorted(p.name for p in (work / "nb" / "sample_data").iterdir()) == SAMPLES
    for name in NOTEBOOKS:
        assert (work / "nb" / "notebooks" / name).read_bytes() == (
            ROOT / "notebooks" / name
        ).read_bytes()

    # The installed package, not this checkout, ran: its files live in the venv.
    where = _run(
        [bin_ / "python", "-c", "import smscampaign; print(smscampaign.__file__)"], cwd=work
    ).strip()
    assert Path(where).is_relative_to(venv), where
