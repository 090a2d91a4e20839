"""The ``df.sms`` namespace for notebooks: thin wrappers over the package's functions.

Registered once pandas and smscampaign are both imported, in either order; it adds nothing the
functions do not do.

>>> import smscampaign, pandas as pd
>>> pd.DataFrame({"手机": ["13800138000"]}).sms.check()["status"].tolist()
['ok']

``import smscampaign`` does not import pandas (start-up stays fast for the CLI): when pandas is not
loaded yet, :func:`register_when_pandas_loads` leaves a one-shot finder on :data:`sys.meta_path`
that registers the accessor right after pandas' own import finishes, and then removes itself.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import logging
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from smscampaign.notebook.views import ResultsView

__all__ = ["SmsAccessor", "register", "register_when_pandas_loads"]

logger = logging.getLogger(__name__)


class SmsAccessor:
    """``df.sms.check()`` is :func:`~smscampaign.check_numbers`, ``df.sms.view()`` is
    :func:`~smscampaign.view` (``df`` is not mutated)."""

    def __init__(self, df: pd.DataFrame) -> None:
        self._df = df

    def check(self, column: str | None = None) -> pd.DataFrame:
        """Return ``check_numbers(df, column)``: the rows plus mobile, status, reason, carrier…"""
        from smscampaign.stages.numbers import check_numbers  # noqa: PLC0415 - numbers loads phonenumbers

        return check_numbers(self._df, column)

    def view(self, columns: Sequence[str] | None = None, *, rows: int | None = 20) -> ResultsView:
        """Return ``smscampaign.view(df, columns, rows=rows)``: the results as an analyst reads them."""
        from smscampaign.notebook.views import view  # noqa: PLC0415 - views loads numbers

        return view(self._df, columns, rows=rows)


def register() -> None:
    """Register ``df.sms`` with pandas (imports pandas; registering twice does nothing)."""
    import pandas as pd  # noqa: PLC0415

    if getattr(pd.DataFrame, "sms", None) is not SmsAccessor:
        pd.api.extensions.register_dataframe_accessor("sms")(SmsAccessor)


class _AfterPandas(importlib.abc.MetaPathFinder):
    """Finds nothing itself; makes pandas' own loader call :func:`register` once pandas is loaded."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "pandas":
            return None
        sys.meta_path.remove(self)  # one shot, and not asked again by the lookup below
        spec = None
        for finder in sys.meta_path:  # the finders that would have found pandas without us
            find = getattr(finder, "find_spec", None)
            if find is not None and (spec := find(fullname, path, target)) is not None:
                break
        loader = spec.loader if spec is not None else None
        exec_module = getattr(loader, "exec_module", None)
        if spec is None or exec_module is None:
            return spec

        def exec_then_register(module: ModuleType) -> None:
            exec_module(module)
            try:
                register()
            except Exception:  # never break the user's ``import pandas``
                logger.warning("could not register the df.sms accessor", exc_info=True)

        setattr(loader, "exec_module", exec_then_register)  # this spec's loader instance only  # noqa: B010
        return spec


def register_when_pandas_loads() -> None:
    """Register ``df.sms`` now if pandas is imported, else right after pandas gets imported."""
    if "pandas" in sys.modules:
        register()
    elif not any(isinstance(finder, _AfterPandas) for finder in sys.meta_path):
        sys.meta_path.insert(0, _AfterPandas())
