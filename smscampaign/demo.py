"""Moved: this module's names now live in :mod:`smscampaign.notebook.demo` (kept for one release).

``smscampaign.demo`` re-exports them; new code imports from the layered modules
(see docs/architecture.md).
"""

from __future__ import annotations

from smscampaign.core.errors import (
    ConfigError,
)
from smscampaign.notebook.demo import (
    ACCOUNT,
    REPORT_DIR,
    REPORT_NAME,
    SAMPLE_SUFFIXES,
    SIGNATURE,
    TEMPLATE,
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
