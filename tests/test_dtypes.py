"""One text dtype from load to report (issue 11 item 3, issue 20): every text column of every
stage's output is :data:`smscampaign.core.dtypes.TEXT` (pyarrow strings, missing ``pd.NA``), on
pandas 2.x and 3.x alike — never ``object``, pandas 3's NaN-based ``str`` or a categorical."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import smscampaign as sc
from smscampaign.core.dtypes import TEXT
from smscampaign.stages.numbers import TEXT as NUMBERS_TEXT

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "recipients.xlsx"
TEMPLATE = "{姓名}您好，春季会员日全场八折。回T退订"


def _holds_text(values: pd.Series | pd.Index) -> bool:
    if isinstance(values.dtype, pd.StringDtype):
        return True
    if isinstance(values.dtype, pd.CategoricalDtype):
        return _holds_text(pd.Series(values.dtype.categories))
    if pd.api.types.is_object_dtype(values.dtype):
        return any(isinstance(v, str) for v in pd.Series(values).dropna())
    return False


def wrong_text_dtypes(frame: pd.DataFrame) -> dict[str, str]:
    """Text columns (and a text index) whose dtype is not TEXT, with the dtype they have."""
    wrong = {
        str(name): str(column.dtype)
        for name, column in frame.items()
        if _holds_text(column) and column.dtype != TEXT
    }
    if _holds_text(frame.index) and frame.index.dtype != TEXT:
        wrong["<index>"] = str(frame.index.dtype)
    return wrong


@pytest.fixture(scope="module")
def stages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    """Every stage's output for the sample list, sent to a sandbox (campaign home in a temporary
    folder: module-scoped, so it sets SMSCAMPAIGN_HOME itself)."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SMSCAMPAIGN_HOME", str(tmp_path_factory.mktemp("home")))
        recipients = sc.load_recipients(SAMPLE)
        checked = sc.check_numbers(recipients)
        plan = sc.plan_campaign(checked, TEMPLATE, signature="【演示商城】")
        with sc.Sandbox() as box:
            box.add_account("demo", "dtype-test", sms_left=10_000)
            with box.gateway("demo", "dtype-test") as gw:
                results = sc.send_campaign(plan, gw, progress=False)
    out = {
        "load_recipients": recipients,
        "check_numbers": checked,
        "plan.recipients": plan.recipients,
        "send_campaign": results,
    }
    for name, table in sc.campaign_report(results).items():
        out[f"campaign_report[{name!r}]"] = table
    return out


def test_text_is_one_pyarrow_dtype_with_na() -> None:
    assert TEXT == pd.StringDtype("pyarrow") and TEXT.na_value is pd.NA
    assert NUMBERS_TEXT is TEXT  # the old import path names the same object
    missing = pd.Series(["a", None], dtype=TEXT)
    assert missing[1] is pd.NA and missing.str.len().tolist() == [1, pd.NA]


STAGES = [
    "load_recipients",
    "check_numbers",
    "plan.recipients",
    "send_campaign",
    "campaign_report['summary']",
]


@pytest.mark.parametrize("stage", STAGES)
def test_stage_output_text_columns_are_TEXT(stage: str, stages: dict[str, pd.DataFrame]) -> None:
    frame = stages[stage]
    assert len(frame) > 0
    assert wrong_text_dtypes(frame) == {}


def test_every_report_table_text_column_is_TEXT(stages: dict[str, pd.DataFrame]) -> None:
    tables = {k: v for k, v in stages.items() if k.startswith("campaign_report")}
    assert len(tables) >= 4
    assert {name: wrong_text_dtypes(t) for name, t in tables.items() if wrong_text_dtypes(t)} == {}


def test_missing_text_is_na_not_a_string(stages: dict[str, pd.DataFrame]) -> None:
    """pandas 2's ``astype(str)`` turned a missing reason into the text 'None' (issue 20)."""
    for stage in ("check_numbers", "plan.recipients", "send_campaign"):
        frame = stages[stage]
        for name, column in frame.items():
            if column.dtype == TEXT:
                assert not column.isin(["None", "nan", "<NA>"]).any(), (stage, name)
    ready = stages["plan.recipients"].query("status == 'ready'")
    assert len(ready) and ready["reason"].isna().all()
    assert ready["content"].notna().all()


def test_the_plan_reason_of_a_skipped_row_is_text(stages: dict[str, pd.DataFrame]) -> None:
    skipped = stages["plan.recipients"].query("status != 'ready'")
    assert len(skipped) and skipped["reason"].notna().all()
    assert skipped["content"].isna().all()
