"""The status and reason vocabularies: StrEnums in one place, values unchanged (issue 11, item 5)."""

from __future__ import annotations

from enum import StrEnum

import smscampaign.campaign.plan as plan
import smscampaign.campaign.send as send
import smscampaign.memory.journal as journal
import smscampaign.stages.numbers as numbers
from smscampaign.core import statuses
from smscampaign.core.statuses import BatchState, BindStatus, PlanStatus, Reason, ResultStatus, Status


def test_every_vocabulary_is_a_str_enum_with_the_old_values():
    assert [str(s) for s in Status] == ["ok", "invalid", "duplicate"]
    assert Reason.WRONG_LENGTH == "wrong length" and Reason.DUPLICATE == "duplicate of row"
    assert list(plan.STATUSES) == [
        "ready",
        "invalid",
        "duplicate",
        "suppressed",
        "missing_field",
        "unencodable",
        "too_long",
    ]
    assert list(journal.STATES) == ["planned", "in_flight", "accepted", "failed", "unknown"]
    assert list(send.RESULT_STATUSES) == ["accepted", "failed", "unknown", "not_sent", "already_sent"]
    assert {str(s) for s in BindStatus} == {
        "bound",
        "unbound",
        "failed",
        "error",
        "invalid",
        "duplicate",
    }
    for name in statuses.__all__:
        assert issubclass(getattr(statuses, name), StrEnum), name


def test_the_modules_use_the_one_definition():
    assert numbers.Status is Status and numbers.Reason is Reason
    assert all(isinstance(s, PlanStatus) for s in plan.STATUSES)
    assert all(isinstance(s, BatchState) for s in journal.STATES)
    assert all(isinstance(s, ResultStatus) for s in send.RESULT_STATUSES)


def test_members_behave_as_plain_text():
    import json

    import pandas as pd

    frame = pd.DataFrame({"status": [PlanStatus.READY, "too_long"]})
    assert (frame["status"] == "ready").tolist() == [True, False]
    assert (
        json.dumps([ResultStatus.NOT_SENT]) == '["not_sent"]'
        and f"{BatchState.IN_FLIGHT}" == "in_flight"
    )
