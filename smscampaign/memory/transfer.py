"""What a campaign home holds (:func:`home_info`), and moving a personal home into a team's
(:func:`copy_home`).

``copy_home`` reads a personal (SQLite) home and ``COPY``-s its rows into a PostgreSQL home: the
send registry, campaigns, replies, opt-outs and reservations. Rows the team home already holds stay
as they are (``ON CONFLICT DO NOTHING``), so copying twice is copying once, and two analysts copying
their homes in keep both. The SQLite file is opened read-only: the personal home is not changed.

>>> copy_home("~/.local/share/smscampaign", "postgresql://ana@db/team")   # doctest: +SKIP
{'send_batches': 2000, 'send_batch_mobiles': 2000, 'campaigns': 4, 'replies': 50000, …}
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Final

from smscampaign.core.errors import ConfigError, HomeError
from smscampaign.memory.location import resolve_home
from smscampaign.memory.postgres import PostgresStore
from smscampaign.memory.records import CAMPAIGN_COLUMNS, RESERVATION_COLUMNS, SEND_COLUMNS
from smscampaign.memory.reservations import SEPARATOR as RESERVATION_SEPARATOR

__all__ = ["COPIED_TABLES", "copy_home", "home_info"]

#: The tables :func:`copy_home` copies, in order (a batch before its numbers), with their columns.
COPIED_TABLES: Final[dict[str, tuple[str, ...]]] = {
    "send_batches": ("id", *SEND_COLUMNS[1:]),  # a batch row: a message's columns but its number
    "send_batch_mobiles": ("batch_id", "mobiles"),
    "campaigns": CAMPAIGN_COLUMNS,
    "replies": ("sender", "content", "receivetime", "received_via", "stored_at"),
    "opt_outs": ("mobile", "at", "source", "note"),
    "reservations": ("gateway", "content_sha256", *RESERVATION_COLUMNS),
    "campaign_people": ("fingerprint", "part", "field", "cells"),
}
_SQLITE_FILE: Final = "home.sqlite"


def _source_rows(
    reader: sqlite3.Connection, table: str, columns: tuple[str, ...]
) -> Iterator[Sequence[object]]:
    """The personal home's rows of ``table`` as the team home keeps them. The personal home packs a
    reserved batch's numbers in one row (smscampaign.memory.reservations); the team home holds one
    row per number: they are unpacked, latest first, so the number's latest holder is the one kept."""
    if table != "reservations":
        yield from reader.execute(f"SELECT {', '.join(columns)} FROM {table}")
        return
    query = (
        "SELECT gateway, content_sha256, mobiles, campaign, journal, batch, status, at "
        "FROM reservations ORDER BY id DESC"
    )
    for gateway, sha, packed, *rest in reader.execute(query):
        for mobile in str(packed).split(RESERVATION_SEPARATOR) if packed else ():
            yield (gateway, sha, mobile, *rest)


def _sqlite_reader(folder: Path) -> sqlite3.Connection:
    """A read-only connection to the personal home in ``folder`` (never creating one)."""
    path = folder / _SQLITE_FILE
    if not path.is_file():
        raise ConfigError(f"no campaign home in {str(folder)!r} (no {_SQLITE_FILE} there)")
    try:
        return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise HomeError(f"the campaign home {path} cannot be read ({exc})", home=str(path)) from None


def _sqlite_facts(folder: Path) -> tuple[int, dict[str, int]]:
    """The personal home's schema version and rows per table."""
    conn = _sqlite_reader(folder)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        counts = {
            t: int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0])
            for t in ("campaigns", "send_batches", "replies", "opt_outs", "reservations")
            if t in tables
        }
        counts["messages"] = int(
            conn.execute(
                "SELECT coalesce(sum(length(mobiles) - length(replace(mobiles, ',', '')) + 1), 0) "
                "FROM send_batch_mobiles"
            ).fetchone()[0]
        )
    except sqlite3.Error as exc:
        raise HomeError(f"the campaign home {folder} cannot be read ({exc})", home=str(folder)) from None
    finally:
        conn.close()
    return (int(row[0]) if row else 0), counts


def home_info(home: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Where the campaign home ``home`` names is (a PostgreSQL URL without its password, or the
    SQLite file), its ``kind``, ``schema`` version, where journals go, and rows per table
    (``messages``: the registry's messages). A personal home not created yet is not created."""
    url, folder = resolve_home(home)
    if url is not None:
        with PostgresStore(url, journals=folder) as store:
            facts = {"schema": store.schema_version(), **store.table_counts()}
            where = store.location
        return {"home": where, "kind": "postgresql", "journals": str(folder / "journals"), **facts}
    path = folder / _SQLITE_FILE
    info: dict[str, Any] = {"home": str(path), "kind": "sqlite", "journals": str(folder / "journals")}
    if not path.is_file():
        return {**info, "schema": None, "exists": False}
    schema, counts = _sqlite_facts(folder)
    return {**info, "schema": schema, **counts}


def copy_home(
    source: str | os.PathLike[str], target: str | os.PathLike[str] | None = None
) -> dict[str, int]:
    """Copy the personal (SQLite) home ``source`` into the PostgreSQL home ``target`` (default:
    ``SMSCAMPAIGN_HOME``). Returns the rows new to the target, per table; a second copy adds none."""
    from_url, from_folder = resolve_home(source)
    to_url, to_folder = resolve_home(target)
    if from_url is not None or to_url is None:
        raise ConfigError(
            "home copy copies a personal campaign home (a folder) into a team home "
            "(a postgresql://… URL): FROM must be a folder and TO a PostgreSQL URL"
        )
    reader = _sqlite_reader(from_folder)
    try:
        tables = {r[0] for r in reader.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        with PostgresStore(to_url, journals=to_folder) as store:
            return {
                table: store.copy_rows(
                    table,
                    columns,
                    _source_rows(reader, table, columns),
                    only_known_batches=table == "send_batch_mobiles",
                )
                for table, columns in COPIED_TABLES.items()
                if table in tables
            }
    except sqlite3.Error as exc:
        where = str(from_folder / _SQLITE_FILE)
        raise HomeError(f"the campaign home {where} cannot be read ({exc})", home=where) from None
    finally:
        reader.close()
