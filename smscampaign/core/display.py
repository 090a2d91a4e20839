"""How result records show in a notebook: a small two-column HTML table (``_repr_html_``).

The terminal gets each record's one-line ``repr``; JupyterLab calls ``_repr_html_`` and shows this
table instead, which does not wrap inside a value. Values are escaped; callers never pass secrets.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any

__all__ = ["html_table"]


def html_table(title: str, rows: Iterable[tuple[str, Any]]) -> str:
    """``rows`` (label, value) as a compact HTML table captioned ``title``.

    >>> html_table("X", [("a", 1)])
    '<table class="smscampaign"><caption style="text-align:left"><b>X</b></caption><tbody><tr><th style="text-align:left">a</th><td style="text-align:left;white-space:nowrap">1</td></tr></tbody></table>'
    """  # noqa: E501
    body = "".join(
        f'<tr><th style="text-align:left">{escape(str(label))}</th>'
        f'<td style="text-align:left;white-space:nowrap">{escape(str(value))}</td></tr>'
        for label, value in rows
    )
    return (
        f'<table class="smscampaign"><caption style="text-align:left"><b>{escape(title)}</b></caption>'
        f"<tbody>{body}</tbody></table>"
    )
