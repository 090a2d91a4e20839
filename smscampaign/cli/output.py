"""Tables the commands print or write with ``--out``: CSV files that cannot run as formulas.

Names and reply contents come from strangers, so every CSV the command line writes goes through
:func:`csv_safe` (the OWASP "CSV injection" rule)::

    write_or_print(frame, args.out)   # a CSV in UTF-8 with a BOM with --out, else a table on stdout
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smscampaign.cli.common import UserError
from smscampaign.notebook.demo import format_table

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd

#: First characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
_SIGNED_NUMBER = re.compile(r"[+-]\d+(?:\.\d+)?")


def _neutral(value: Any) -> Any:
    """A text cell that starts with a formula trigger, prefixed with ``'`` (the OWASP rule).

    Plain signed numbers (``+8613800138000``, ``-5``, ``+3.5``) are left alone: a spreadsheet reads
    them as numbers, never as a call, and an international mobile number stays as written.
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        if not _SIGNED_NUMBER.fullmatch(value):
            return "'" + value
    return value


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names cannot run as formulas when the CSV is
    opened in Excel or LibreOffice: those starting with ``= + - @``, tab, CR or LF get a leading ``'``.
    Numbers, dates and plain signed numbers (``+8613800138000``) are unchanged. Does not mutate
    ``frame``.

    >>> import pandas as pd
    >>> csv_safe(pd.DataFrame({"name": ["=1+1", "李雷", "+8613800138000"]}))["name"].tolist()
    ["'=1+1", '李雷', '+8613800138000']
    """
    import pandas as pd  # noqa: PLC0415 - keep CLI start-up light

    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if values.dtype == object or isinstance(values.dtype, pd.StringDtype):
            out[column] = values.map(_neutral, na_action="ignore").astype(values.dtype)
    out.columns = [_neutral(str(c)) if isinstance(c, str) else c for c in out.columns]
    return out


def write_table(frame: pd.DataFrame, out: str) -> None:
    """``--out``: CSV in UTF-8 with a BOM, so that Excel reads the Chinese text; formula triggers
    neutralised (:func:`csv_safe`), since names and reply contents come from strangers."""
    path = Path(out)
    if path.suffix.lower() not in (".csv", ".tsv", ".txt"):
        raise UserError(f"--out must name a .csv file, not {out!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    csv_safe(frame).to_csv(
        path, index=False, encoding="utf-8-sig", sep="\t" if path.suffix.lower() == ".tsv" else ","
    )
    print(f"{len(frame)} rows written to {path}")


def write_or_print(frame: Any, out: str | None) -> None:
    """Save ``frame`` with :func:`write_table` or print it."""
    if out:
        write_table(frame, out)
    else:
        print(format_table(frame) if len(frame) else "(none)")
