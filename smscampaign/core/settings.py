"""The project's configuration from the environment: the one place ``SMSCAMPAIGN_*`` is read.

>>> read_environment({"SMSCAMPAIGN_CHARSET": "gbk"}).charset
'gbk'
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

__all__ = ["ENV_HOME", "Environment", "read_environment", "read_variable"]

#: The environment variable naming the campaign home.
ENV_HOME: Final = "SMSCAMPAIGN_HOME"


@dataclass(frozen=True)
class Environment:
    """The ``SMSCAMPAIGN_*`` settings (empty / ``None`` when unset); the password is never shown."""

    username: str = ""
    password: str = field(default="", repr=False)
    base_url: str | None = None
    charset: str | None = None
    home: str | None = None


def read_environment(environ: Mapping[str, str] | None = None) -> Environment:
    """The project's one reader of environment variables: ``SMSCAMPAIGN_USERNAME``,
    ``SMSCAMPAIGN_PASSWORD``, ``SMSCAMPAIGN_BASE_URL``, ``SMSCAMPAIGN_CHARSET``, ``SMSCAMPAIGN_HOME``.

    >>> read_environment({"SMSCAMPAIGN_HOME": "/tmp/h"}).home
    '/tmp/h'
    """
    env = os.environ if environ is None else environ
    return Environment(
        username=env.get("SMSCAMPAIGN_USERNAME", ""),
        password=env.get("SMSCAMPAIGN_PASSWORD", ""),
        base_url=env.get("SMSCAMPAIGN_BASE_URL") or None,
        charset=env.get("SMSCAMPAIGN_CHARSET") or None,
        home=env.get(ENV_HOME) or None,
    )


def read_variable(name: str, environ: Mapping[str, str] | None = None) -> str:
    """One variable the user named (``--key-env``, ``--card-pwd-env``): secrets never come from argv.

    >>> read_variable("PUSH_KEY", {"PUSH_KEY": "k"})
    'k'
    """
    env = os.environ if environ is None else environ
    return env.get(name, "")
