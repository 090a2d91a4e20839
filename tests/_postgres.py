"""A throwaway PostgreSQL server for the tests, started from the machine's own binaries.

:class:`Server` runs ``initdb`` and ``pg_ctl`` (as the ``postgres`` user when we are root: the server
refuses to run as root) on a temporary data dir, listening on 127.0.0.1 on a free port and a socket in
that dir; :meth:`Server.database` creates a fresh database and returns its URL. The session fixture
``pg_server`` (tests/conftest.py) starts one per test session and stops it at the end; ``pg_url`` gives
each test a fresh database.

Where the binaries are missing the PostgreSQL tests are skipped — except in CI (``CI=true``), where
they fail: ``make test`` installs Debian's ``postgresql`` package first. ``TEST_PG_BIN=DIR`` picks
the binaries' folder (an empty value: as if there were none).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

#: The role that must give a password (scram-sha-256 on 127.0.0.1); every other role is trusted.
PASSWORD_ROLE = "analyst"
#: Where Debian and the official image put the server binaries (newest version first).
BIN_GLOBS = ("/usr/lib/postgresql/*/bin",)


def find_bin_dir() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl`` (newest version), else None."""
    chosen = os.environ.get("TEST_PG_BIN")  # this folder and no other (empty: none at all)
    if chosen is not None:
        ok = chosen and (Path(chosen) / "initdb").is_file() and (Path(chosen) / "pg_ctl").is_file()
        return Path(chosen) if ok else None
    candidates: list[str] = []
    for pattern in BIN_GLOBS:
        candidates += sorted(glob.glob(pattern), key=_version, reverse=True)
    which = shutil.which("pg_ctl")
    if which:
        candidates.append(str(Path(which).parent))
    for folder in candidates:
        if folder and (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    return None


def _version(folder: str) -> float:
    with contextlib.suppress(ValueError):
        return float(Path(folder).parent.name)
    return 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """One PostgreSQL server in a temporary data dir (trust authentication on 127.0.0.1)."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="smscampaign-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.user = "postgres" if os.geteuid() == 0 else None
        self.superuser = "postgres" if self.user else os.environ.get("USER", "postgres")

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        return subprocess.run(
            command, capture_output=True, text=True, check=check, timeout=120, cwd=self.root
        )

    def init(self) -> None:
        self.root.chmod(0o755)
        if self.user:
            shutil.chown(self.root, self.user)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "--no-sync", "-U", self.superuser)
        hba = self.data / "pg_hba.conf"
        rule = f"host all {PASSWORD_ROLE} 127.0.0.1/32 scram-sha-256\n"
        hba.write_text(rule + hba.read_text(encoding="utf-8"), encoding="utf-8")

    def start(self) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} "
            "-c fsync=off -c full_page_writes=off -c max_connections=100"
        )
        log = str(self.root / "log")
        self._run("pg_ctl", "-w", "-D", str(self.data), "-l", log, "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-w", "-D", str(self.data), "-m", mode, "stop", check=False)

    def url(self, database: str = "postgres", *, user: str | None = None, password: str = "") -> str:
        who = user or self.superuser
        secret = f":{password}" if password else ""
        return f"postgresql://{who}{secret}@127.0.0.1:{self.port}/{database}"

    def execute(self, sql: str, database: str = "postgres") -> None:
        import psycopg  # noqa: PLC0415

        with psycopg.connect(self.url(database), autocommit=True) as conn:
            conn.execute(sql)

    def database(self, owner: str | None = None) -> str:
        """A fresh, empty database (owned by ``owner``); its URL (as the superuser)."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        self.execute(f"CREATE DATABASE {name}" + (f" OWNER {owner}" if owner else ""))
        return self.url(name)

    def password_role(self, password: str) -> str:
        """(Re)create :data:`PASSWORD_ROLE` with ``password``; its name."""
        self.execute(
            f"DO $$ BEGIN CREATE ROLE {PASSWORD_ROLE} LOGIN; "
            "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        )
        self.execute(f"ALTER ROLE {PASSWORD_ROLE} PASSWORD '{password}'")
        return PASSWORD_ROLE

    def cleanup(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
