"""Keeping secrets out of texts and logs: :func:`redact` and the filter on urllib3's request log.

A GET carries the password in its query string, and urllib3 logs every request line at DEBUG; the
gateway client installs :class:`RedactSecrets` on that one logger so that no captured log holds it.

>>> redact("GET /utf8/interface/user_info.aspx?username=demo&password=secret")
'GET /utf8/interface/user_info.aspx?username=demo&password=***'
>>> redact("card 8812-PW refused", "8812-PW")
'card *** refused'
"""

from __future__ import annotations

import logging
import re

__all__ = ["RedactSecrets", "install_log_redaction", "redact"]

_SECRET_PARAM = re.compile(r"(?i)\b(password|cardpwd|key)=[^&\s\"']*")


def redact(text: str, *secrets: str | None) -> str:
    """Replace secret query parameters and the given secret values in ``text`` with ``***``."""
    text = _SECRET_PARAM.sub(r"\1=***", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


class RedactSecrets(logging.Filter):
    """Scrubs ``password=…`` from urllib3's request log lines (a GET carries it in the URL)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def install_log_redaction() -> None:
    """Put :class:`RedactSecrets` on urllib3's request logger (once: calling again changes nothing)."""
    # urllib3 logs every request line at DEBUG, query string included; a filter on that one logger
    # keeps GET passwords out of any log a user captures.
    pool_logger = logging.getLogger("urllib3.connectionpool")
    if not any(isinstance(f, RedactSecrets) for f in pool_logger.filters):
        pool_logger.addFilter(RedactSecrets())
