"""``smscampaign.demo`` moved into the layers (mainly :mod:`smscampaign.notebook.demo`).

This module re-exports its names from their new homes for one release; new code imports
from ``smscampaign`` or the layered modules (see docs/architecture.md).
"""

from __future__ import annotations

from smscampaign.notebook.demo import (
    ACCOUNT,
    REPORT_DIR,
    REPORT_NAME,
    SAMPLE_SUFFIXES,
    SIGNATURE,
    TEMPLATE,
    ConfigError,
    add_demo_options,
    build_parser,
    copy_notebooks,
    format_table,
    main,
    run_demo,
    sample_data,
)

__all__ = [
    "ACCOUNT",
    "ConfigError",
    "REPORT_DIR",
    "REPORT_NAME",
    "SAMPLE_SUFFIXES",
    "SIGNATURE",
    "TEMPLATE",
    "add_demo_options",
    "build_parser",
    "copy_notebooks",
    "format_table",
    "main",
    "run_demo",
    "sample_data",
]
