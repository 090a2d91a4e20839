"""``smscampaign.xlsx`` moved into the layers (mainly :mod:`smscampaign.reports.xlsx`).

This module re-exports its names from their new homes for one release; new code imports
from ``smscampaign`` or the layered modules (see docs/architecture.md).
"""

from __future__ import annotations

from smscampaign.reports.xlsx import (
    ENGINES,
    FONT_CHARSET,
    FONT_FAMILY,
    FONT_NAME,
    FONT_SIZE,
    HEADER_FILL,
    MAX_ROWS,
    NONE_TEXT,
    TITLE_SIZE,
    Chart,
    Column,
    ConfigError,
    Kind,
    Sheet,
    default_engine,
    display_width,
    fit_width,
    prepare,
    split,
    split_names,
    write_workbook,
)

__all__ = [
    "Chart",
    "Column",
    "ConfigError",
    "ENGINES",
    "FONT_CHARSET",
    "FONT_FAMILY",
    "FONT_NAME",
    "FONT_SIZE",
    "HEADER_FILL",
    "Kind",
    "MAX_ROWS",
    "NONE_TEXT",
    "Sheet",
    "TITLE_SIZE",
    "default_engine",
    "display_width",
    "fit_width",
    "prepare",
    "split",
    "split_names",
    "write_workbook",
]
