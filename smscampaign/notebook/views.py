"""What an analyst reads first: result columns in reading order, and a view that fits a notebook.

- :func:`arrange` — the results frame of :func:`~smscampaign.send_campaign` with the columns a
  person reads first (``source_row``, the name-like columns, ``mobile``, ``status``, ``reason_zh``,
  ``reason``, ``message_zh``, ``message_en``, ``content``), then the technical ones; text columns in
  the one text dtype (:data:`~smscampaign.core.dtypes.TEXT`, missing is ``<NA>``). Names are unchanged.
- :func:`account_sends` — the account's sends per day and month beside this campaign's; it lives in
  :mod:`smscampaign.reports.account` and is imported here for those who used it from this module.
- :func:`view` — an HTML table of those leading columns for JupyterLab: no Chinese column narrower
  than its header, the message wrapped but whole, one marker for missing values. Also
  ``results.sms.view()``.

>>> sc.view(results)                                      # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Final

import pandas as pd

from smscampaign.core.columns import LEAD_COLUMNS, arrange, name_columns
from smscampaign.core.dtypes import TEXT
from smscampaign.reports.account import account_sends
from smscampaign.reports.xlsx import display_width

__all__ = ["MISSING", "ResultsView", "account_sends", "view"]

#: How :func:`view` shows a missing value (every column the same way).
MISSING: Final = "—"

#: Short text columns that never wrap; longer text wraps inside these widths (in ``ch``).
_NOWRAP_UP_TO: Final = 24
_WRAP_WIDTH: Final = {"content": (24, 40), "reason": (14, 24), "message_en": (14, 24)}
_DEFAULT_WRAP: Final = (16, 28)
#: What :func:`view` shows by default: the lead without the gateway's messages (for a refused row
#: ``reason_zh`` is the gateway's Chinese already; for an accepted one they say only "success").
_VIEW_COLUMNS: Final = tuple(c for c in LEAD_COLUMNS if c not in ("message_zh", "message_en"))


def _is_text(series: pd.Series) -> bool:
    return isinstance(series.dtype, pd.StringDtype) or series.dtype == object


def _em(width: float) -> str:
    """A display width (East Asian wide characters count two) in ``em`` of a sans-serif font; ``ch``
    would be closer, but JupyterLab's sanitizer keeps only px/em/… in an untrusted output's style."""
    return f"{round(width * 0.55 + 0.3, 1)}em"


def _column_style(name: str, series: pd.Series) -> str:
    """Inline CSS for one column's cells: at least as wide as the header, short text on one line,
    long text wrapped inside a fixed width (never cut)."""
    header = display_width(name)
    if not _is_text(series):
        return f"text-align: right; white-space: nowrap; min-width: {_em(header)}"
    sample = series.dropna().astype(str).unique()[:500]
    widest = max((display_width(str(v)) for v in sample), default=0)
    if widest <= _NOWRAP_UP_TO:
        return f"text-align: left; white-space: nowrap; min-width: {_em(max(header, widest))}"
    low, high = _WRAP_WIDTH.get(name, _DEFAULT_WRAP)
    return (
        f"text-align: left; white-space: normal; overflow-wrap: anywhere; "
        f"min-width: {_em(max(header, low))}; max-width: {_em(max(header, high))}"
    )


def _cell(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return MISSING
    if value is pd.NaT:
        return MISSING
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


@dataclass(frozen=True)
class ResultsView:
    """What :func:`view` returns: the shown ``data`` (a new DataFrame) and the ``total`` rows of the
    frame it came from. In a notebook it is an HTML table with inline styles (they survive
    JupyterLab's sanitizer for untrusted outputs and GitHub's renderer); ``repr`` is plain text."""

    data: pd.DataFrame
    total: int

    def to_html(self) -> str:
        """The table as HTML: one ``<th>``/``<td>`` style per column, values escaped, missing = —."""
        styles = [_column_style(str(c), self.data[c]) for c in self.data.columns]
        head = "".join(
            f'<th style="{css}; vertical-align: bottom">{escape(str(c))}</th>'
            for c, css in zip(self.data.columns, styles, strict=True)
        )
        body = "".join(
            "<tr>"
            + "".join(
                f'<td style="{css}; vertical-align: top">{escape(_cell(v))}</td>'
                for v, css in zip(row, styles, strict=True)
            )
            + "</tr>"
            for row in self.data.itertuples(index=False, name=None)
        )
        caption = ""
        if self.total > len(self.data):
            caption = (
                '<caption style="text-align: left; caption-side: bottom">'
                f"first {len(self.data):,} of {self.total:,} rows</caption>"
            )
        return (
            f'<table class="smscampaign-view">{caption}<thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>"
        )

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        text = self.data.astype(object).map(_cell).to_string(index=False)
        more = (
            f"\n(first {len(self.data):,} of {self.total:,} rows)" if self.total > len(self.data) else ""
        )
        return text + more


def view(
    results: pd.DataFrame,
    columns: Sequence[str] | None = None,
    *,
    rows: int | None = 20,
) -> ResultsView:
    """The leading columns of ``results`` (see :func:`arrange`) as a table that fits a notebook.

    ``columns`` (default: :data:`LEAD_COLUMNS` and the name-like columns present, less
    ``message_zh`` / ``message_en``, which ``reason_zh`` / ``reason`` already carry) are shown
    for the first ``rows`` rows (``None``: all), without the index. Every column is at least as wide
    as its header and short text columns never wrap (so ``姓名`` or ``中国联通`` stay on one line);
    long text (``content``, ``reason``) wraps inside a fixed width and is never cut. A row whose
    number could not be read shows in ``mobile`` what was given (``138-0000``) — the phone column
    of the list, ``attrs["phone_column"]``; other missing values show as :data:`MISSING`.
    ``results`` is not modified; ``.data`` is the shown frame.

    >>> sc.view(results[results["status"] != "accepted"], rows=10)    # doctest: +SKIP
    """
    frame = arrange(results)
    if columns is None:
        columns = [c for c in frame.columns if c in (*_VIEW_COLUMNS, *name_columns(frame))]
    else:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            from smscampaign.core.errors import ConfigError  # noqa: PLC0415

            raise ConfigError(f"view: no column {', '.join(map(repr, missing))} in the results")
    shown = frame.loc[:, list(columns)]
    if rows is not None:
        shown = shown.head(rows)
    return ResultsView(_given_numbers(shown, frame).reset_index(drop=True), len(frame))


def _given_numbers(shown: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """``shown`` with the number as given where ``mobile`` is missing (an invalid row), so the
    reader sees what to fix instead of a dash; a new frame."""
    given_column = frame.attrs.get("phone_column")
    if "mobile" not in shown.columns or not given_column or given_column not in frame.columns:
        return shown
    given = frame.loc[shown.index, given_column].astype(TEXT).str.strip()
    given = given.mask(given == "")
    out = shown.copy()
    out["mobile"] = shown["mobile"].astype(TEXT).fillna(given)
    return out
