"""Where the campaign home is: a local folder (SQLite) or a PostgreSQL database (a team's home).

``home`` (an argument) or else ``SMSCAMPAIGN_HOME`` names the home. A value starting with
``postgresql://`` or ``postgres://`` is a libpq connection URL: the team home on PostgreSQL. It is
handed to libpq untouched (so ``PGPASSWORD``, ``~/.pgpass``, ``PGSERVICE`` and TLS parameters such as
``sslmode`` work as for ``psql``), and shown only through :func:`redact_url`, which drops its
password. Anything else is a folder. Journals always stay local files: with a PostgreSQL home they go
to the platform's user data dir (``platformdirs.user_data_dir("smscampaign")``), where a personal
home would be.

>>> resolve_home("/tmp/h")
Location(url=None, folder=PosixPath('/tmp/h'))
>>> redact_url("postgresql://ana:s3cret@db.example:5432/team?sslmode=require&password=x")
'postgresql://ana@db.example:5432/team?sslmode=require'
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final, NamedTuple
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from smscampaign.core.settings import read_environment

__all__ = [
    "URL_SCHEMES",
    "Location",
    "is_database_url",
    "redact_url",
    "resolve_home",
    "scrub",
    "url_password",
]

#: The URL schemes libpq takes; a home starting with one of them is a PostgreSQL database.
URL_SCHEMES: Final = ("postgresql://", "postgres://")
#: Query parameters of a libpq URL that hold a secret.
_SECRET_PARAMS: Final = frozenset({"password", "sslpassword"})


class Location(NamedTuple):
    """A resolved campaign home: ``url`` (a PostgreSQL URL, or None for a local home) and ``folder``
    (the local folder: the home itself, or where a PostgreSQL home's journals go)."""

    url: str | None
    folder: Path


def is_database_url(home: object) -> bool:
    """Whether ``home`` is a PostgreSQL URL (``postgresql://…`` or ``postgres://…``)."""
    return isinstance(home, str) and home.strip().lower().startswith(URL_SCHEMES)


def resolve_home(home: str | os.PathLike[str] | None = None) -> Location:
    """The home ``home`` names, else ``$SMSCAMPAIGN_HOME``, else the user data dir (not created)."""
    chosen: str | os.PathLike[str] | None = home if home is not None and str(home) != "" else None
    if chosen is None:
        chosen = read_environment().home
    if chosen is not None and is_database_url(chosen):
        return Location(str(chosen).strip(), _user_data_dir())
    if chosen is not None:
        return Location(None, Path(chosen).expanduser())
    return Location(None, _user_data_dir())


def _user_data_dir() -> Path:
    import platformdirs  # noqa: PLC0415 - only needed for the default location

    return Path(platformdirs.user_data_dir("smscampaign", appauthor=False))


def redact_url(url: str) -> str:
    """``url`` without its password (in the user part or a ``password=`` parameter): what a
    PostgreSQL home is called in every repr, log line, error and output."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            user, _, hosts = netloc.rpartition("@")
            netloc = f"{user.partition(':')[0]}@{hosts}"
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        kept = [(k, v) for k, v in pairs if k.lower() not in _SECRET_PARAMS]
        query = f"?{urlencode(kept, safe='/:')}" if kept else ""
        return f"{parts.scheme}://{netloc}{parts.path}{query}"
    except ValueError:  # unparseable: show only the scheme
        return url.partition("://")[0] + "://…"


def url_password(url: str) -> str | None:
    """The password written in ``url`` (decoded), if any: to scrub it from foreign error texts."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if "@" in parts.netloc:
        user = parts.netloc.rpartition("@")[0]
        if ":" in user:
            return unquote(user.partition(":")[2]) or None
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key.lower() in _SECRET_PARAMS and value:
            return value
    return None


def scrub(text: str, url: str) -> str:
    """``text`` (a foreign error message) with the URL shown redacted and its password, as written
    and decoded, replaced by ``***``."""
    text = text.replace(url, redact_url(url))
    secret = url_password(url)
    if secret:
        for form in {secret, quote(secret, safe=""), quote(secret)}:
            text = text.replace(form, "***")
    return text
