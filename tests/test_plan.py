"""plan_campaign and Plan: statuses, signatures, charsets, suppression, sendtime, batches."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import hypothesis
import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pandas.testing as pdt
import pyarrow as pa
import pytest

import smscampaign as sc
from smscampaign import Plan, PlanError, TemplateError, plan_campaign
from smscampaign.campaign.plan import STATUSES, load_suppression, resolve_sendtime
from smscampaign.cli import main
from smscampaign.stages.numbers import TEXT
from smscampaign.wire.protocol import BEIJING

SIG = "【小店】"


def people(*names: str, status: list[str] | None = None, start: int = 0) -> pd.DataFrame:
    """Checked-looking recipients, one per name, with distinct numbers."""
    n = len(names)
    return pd.DataFrame(
        {
            "mobile": [f"138{start + i:08d}" for i in range(n)],
            "status": status or ["ok"] * n,
            "reason": pd.array([None] * n, dtype="str"),
            "姓名": list(names),
        }
    )


def statuses(plan: Plan) -> list[str]:
    return plan.recipients["status"].tolist()


# -- statuses ----------------------------------------------------------------------------------


def test_ready_rows_get_content_length_and_batch():
    plan = plan_campaign(people("张三", "李四"), "{姓名}您好，会员日八折", signature="小店")
    frame = plan.recipients
    assert statuses(plan) == ["ready", "ready"]
    assert frame["content"].tolist() == [
        "张三您好，会员日八折【小店】",
        "李四您好，会员日八折【小店】",
    ]
    assert frame["length"].tolist() == [14, 14]
    assert frame["batch"].tolist() == [1, 2]
    assert frame["reason"].isna().all()
    assert str(frame["batch"].dtype) == "Int64" and str(frame["length"].dtype) == "Int64"


def test_input_invalid_and_duplicate_keep_status_and_reason():
    df = pd.DataFrame(
        {
            "mobile": ["13800000000", None, "13800000000"],
            "status": ["ok", "invalid", "duplicate"],
            "reason": [None, "wrong length", "duplicate of row 2"],
        }
    )
    plan = plan_campaign(df, "会员日八折", signature="小店")
    assert statuses(plan) == ["ready", "invalid", "duplicate"]
    assert plan.recipients["reason"].tolist()[1:] == ["wrong length", "duplicate of row 2"]
    assert plan.recipients["batch"].isna().tolist() == [False, True, True]
    assert plan.recipients["content"].isna().tolist() == [False, True, True]


def test_frame_without_status_counts_rows_with_a_number_as_ok():
    df = pd.DataFrame({"mobile": ["13800000000", "", None, 13900000000]})
    plan = plan_campaign(df, "会员日八折【小店】")
    assert statuses(plan) == ["ready", "invalid", "invalid", "ready"]
    assert plan.recipients["reason"].tolist()[1] == "no mobile number"
    assert plan.recipients["mobile"].tolist()[3] == "13900000000"
    assert plan.batches.loc[0, "receivers"] == ["13800000000", "13900000000"]


def test_duplicate_guard_one_message_per_number():
    df = people("张三", "李四", "王五")
    df.loc[2, "mobile"] = df.loc[0, "mobile"]  # an input that was never deduplicated
    plan = plan_campaign(df, "会员日八折", signature="小店")
    assert statuses(plan) == ["ready", "ready", "duplicate"]
    assert "earlier" in plan.recipients.loc[2, "reason"]
    assert plan.batches["receivers"].tolist() == [[df.loc[0, "mobile"], df.loc[1, "mobile"]]]


def test_duplicate_guard_keeps_the_first_ready_row_not_the_first_row():
    df = people("", "李四")
    df.loc[1, "mobile"] = df.loc[0, "mobile"]
    plan = plan_campaign(df, "{姓名}您好", signature="小店")
    assert statuses(plan) == ["missing_field", "ready"]


def test_duplicate_guard_with_unnormalised_numbers():
    df = pd.DataFrame({"mobile": ["138 0000 0000", "+8613800000000", "138 0000 0000"]})
    plan = plan_campaign(df, "八折", signature="小店")
    assert statuses(plan) == ["ready", "duplicate", "duplicate"]


def test_missing_field_names_the_empty_columns():
    df = people("张三", "", " ", None)
    df["等级"] = ["金卡", "银卡", None, "金卡"]
    plan = plan_campaign(df, "{姓名}您好，{等级}会员八折", signature="小店")
    assert statuses(plan) == ["ready", "missing_field", "missing_field", "missing_field"]
    reasons = plan.recipients["reason"].tolist()
    assert reasons[1] == "empty field: 姓名"
    assert reasons[2] == "empty field: 姓名, 等级"
    assert plan.recipients["content"].isna().tolist() == [False, True, True, True]


def test_defaults_fill_empty_values():
    df = people("张三", "")
    plan = plan_campaign(df, "{姓名}您好", signature="小店", defaults={"姓名": "顾客"})
    assert statuses(plan) == ["ready", "ready"]
    assert plan.recipients["content"].tolist() == ["张三您好【小店】", "顾客您好【小店】"]


def test_empty_default_is_allowed():
    plan = plan_campaign(people(""), "尊敬的会员{姓名}您好", signature="小店", defaults={"姓名": ""})
    assert plan.recipients["content"].tolist() == ["尊敬的会员您好【小店】"]


def test_unknown_placeholder_lists_the_columns():
    with pytest.raises(TemplateError, match=r"\{名字\}.*mobile, status, reason, 姓名"):
        plan_campaign(people("张三"), "{名字}您好", signature="小店")


def test_placeholders_render_numbers_like_a_person_reads_them():
    df = people("张三", "李四")
    df["积分"] = [1200.0, None]
    plan = plan_campaign(df, "{姓名}积分{积分}", signature="小店", defaults={"积分": 0})
    assert plan.recipients["content"].tolist() == ["张三积分1200【小店】", "李四积分0【小店】"]


def test_suppressed_status():
    plan = plan_campaign(people("张三", "李四"), "八折", signature="小店", suppress=["13800000001"])
    assert statuses(plan) == ["ready", "suppressed"]
    assert plan.recipients.loc[1, "reason"] == "in the suppression list"


def test_too_long_status_with_the_length():
    body = "字" * 66  # 66 + 【小店】 4 = 70: fits
    plan = plan_campaign(people("a", "b"), body + "{姓名}", signature="小店")
    assert statuses(plan) == ["too_long", "too_long"]
    assert plan.recipients["length"].tolist() == [71, 71]
    assert plan.recipients.loc[0, "reason"] == "71 characters, more than 70"
    assert plan.batches.empty


def test_unencodable_status_names_the_characters():
    plan = plan_campaign(people("张三", "😀"), "{姓名}您好", signature="小店", charset="gbk")
    assert statuses(plan) == ["ready", "unencodable"]
    assert "'😀' (U+1F600)" in plan.recipients.loc[1, "reason"]
    assert "gbk" in plan.recipients.loc[1, "reason"]


def test_every_status_in_one_plan_and_in_the_summary():
    df = people("张三", "李四", "", "王五", "😀", "长" * 80, "赵六", status=["ok"] * 7)
    df.loc[1, "status"] = "invalid"
    df.loc[6, "mobile"] = df.loc[0, "mobile"]
    plan = plan_campaign(
        df, "{姓名}您好", signature="小店", charset="gbk", suppress=[df.loc[3, "mobile"]]
    )
    assert statuses(plan) == [
        "ready",
        "invalid",
        "missing_field",
        "suppressed",
        "unencodable",
        "too_long",
        "duplicate",
    ]
    summary = plan.summary()
    assert summary["status"].tolist() == list(STATUSES)
    assert dict(zip(summary["status"], summary["recipients"], strict=True)) == dict.fromkeys(STATUSES, 1)
    assert summary.attrs["messages"] == 1 and summary.attrs["requests"] == 1
    assert summary.attrs["recipients"] == 7


def test_precedence_suppressed_then_missing_then_unencodable_then_too_long():
    df = people("", "", "😀" + "长" * 80, "😀")
    plan = plan_campaign(
        df, "{姓名}您好", signature="小店", charset="gbk", suppress=[df.loc[0, "mobile"]]
    )
    assert statuses(plan) == ["suppressed", "missing_field", "unencodable", "unencodable"]


# -- signature and length ------------------------------------------------------------------------


@pytest.mark.parametrize("signature", ["小店", "【小店】", " 【小店】 "])
def test_signature_is_normalised_and_placed_at_the_end(signature):
    plan = plan_campaign(people("张三"), "{姓名}您好", signature=signature)
    assert plan.recipients.loc[0, "content"] == "张三您好【小店】"
    assert plan.signature == SIG


def test_template_ending_with_the_signature_does_not_get_it_twice():
    plan = plan_campaign(people("张三"), "{姓名}您好【小店】", signature="小店")
    assert plan.recipients.loc[0, "content"] == "张三您好【小店】"


def test_template_signature_is_used_when_none_is_given():
    plan = plan_campaign(people("张三"), "{姓名}您好【小店】")
    assert plan.signature == SIG
    assert plan.recipients.loc[0, "content"] == "张三您好【小店】"


def test_no_signature_is_allowed_but_warned(caplog):
    with caplog.at_level("WARNING", logger="smscampaign.campaign.planning"):
        plan = plan_campaign(people("张三"), "{姓名}您好", signature="  ")
    assert plan.signature is None
    assert plan.recipients.loc[0, "content"] == "张三您好"
    assert "signature" in caplog.text


def test_signature_counts_towards_the_limit():
    body = "字" * 66
    fits = plan_campaign(people("a"), body, signature="小店")
    assert statuses(fits) == ["ready"] and fits.recipients.loc[0, "length"] == 70
    over = plan_campaign(people("a"), body, signature="小店铺")
    assert statuses(over) == ["too_long"] and over.recipients.loc[0, "length"] == 71


def test_emoji_count_two():
    body = "字" * 64 + "😀"  # 64 + 2 + 4 = 70
    plan = plan_campaign(people("a"), body, signature="小店")
    assert plan.recipients.loc[0, "length"] == 70 and statuses(plan) == ["ready"]
    plan = plan_campaign(people("a"), body + "!", signature="小店")
    assert plan.recipients.loc[0, "length"] == 71 and statuses(plan) == ["too_long"]
    assert sc.sms_length("😀") == 2


def test_max_length_is_configurable():
    plan = plan_campaign(people("张三"), "{姓名}您好", signature="小店", max_length=7)
    assert statuses(plan) == ["too_long"]


def test_on_too_long_error_raises():
    with pytest.raises(TemplateError, match="71 characters"):
        plan_campaign(people("a"), "字" * 67, signature="小店", on_too_long="error")


def test_on_too_long_error_ignores_skipped_rows():
    df = people("张三", "长" * 80, status=["ok", "invalid"])
    plan = plan_campaign(df, "{姓名}您好", signature="小店", on_too_long="error")
    assert statuses(plan) == ["ready", "invalid"]


def test_on_too_long_truncate_cuts_the_body_and_keeps_the_signature():
    df = people("张三", "长" * 80)
    plan = plan_campaign(df, "{姓名}您好", signature="小店", on_too_long="truncate")
    frame = plan.recipients
    assert statuses(plan) == ["ready", "ready"]
    assert frame.loc[1, "content"] == "长" * 66 + SIG
    assert frame.loc[1, "length"] == 70
    assert frame.loc[1, "reason"] == "truncated from 86 to 70 characters"
    assert pd.isna(frame.loc[0, "reason"])


def test_truncate_never_splits_an_emoji():
    plan = plan_campaign(people("a"), "字" * 65 + "😀尾", signature="小店", on_too_long="truncate")
    assert plan.recipients.loc[0, "content"] == "字" * 65 + SIG
    assert plan.recipients.loc[0, "length"] == 69


def test_signature_too_long_for_any_text():
    with pytest.raises(TemplateError, match="no room"):
        plan_campaign(people("a"), "x", signature="小店", max_length=4)


# -- charsets -------------------------------------------------------------------------------------


def test_gbk_carries_chinese_but_not_emoji_or_euro():
    plan = plan_campaign(people("张三", "€"), "{姓名}您好", signature="小店", charset="gbk")
    assert statuses(plan) == ["ready", "unencodable"]
    assert "'€' (U+20AC)" in plan.recipients.loc[1, "reason"]


def test_big5_refuses_simplified_characters():
    df = people("們", "们")
    plan = plan_campaign(df, "{姓名}好", signature="小店", charset="big5")
    assert statuses(plan) == ["ready", "unencodable"]
    assert "'们' (U+4EEC)" in plan.recipients.loc[1, "reason"]
    assert plan.charset == "big5"


def test_unencodable_literal_text_affects_every_row():
    plan = plan_campaign(people("甲", "乙"), "{姓名}们好", signature="小店", charset="big5")
    assert statuses(plan) == ["unencodable", "unencodable"]


def test_utf8_carries_emoji():
    plan = plan_campaign(people("😀"), "{姓名}您好", signature="小店")
    assert statuses(plan) == ["ready"]


def test_unknown_charset_is_a_plan_error():
    with pytest.raises(PlanError, match="charset"):
        plan_campaign(people("a"), "x", signature="小店", charset="latin1")


# -- suppression --------------------------------------------------------------------------------


SUPPRESSED = "13800000001"


@pytest.mark.parametrize(
    "suppress",
    [
        [SUPPRESSED],
        {SUPPRESSED},
        (n for n in [SUPPRESSED]),
        ["+86 138-0000-0001"],  # normalised before matching
        [13800000001],
        pd.Series(["138 0000 0001"]),
        pd.DataFrame({"mobile": [SUPPRESSED], "备注": ["退订"]}),
        pd.DataFrame({"手机号码": ["13800000001"]}),
    ],
    ids=["list", "set", "generator", "formatted", "int", "series", "frame", "frame-phone-column"],
)
def test_suppression_forms(suppress):
    plan = plan_campaign(people("张三", "李四", "王五"), "八折", signature="小店", suppress=suppress)
    assert statuses(plan) == ["ready", "suppressed", "ready"]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_suppression_from_a_file(tmp_path, suffix):
    path = tmp_path / f"optout{suffix}"
    frame = pd.DataFrame({"手机": ["+86 13800000001", "13900000000"], "备注": ["退订", "退订"]})
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_excel(path, index=False)
    plan = plan_campaign(people("张三", "李四"), "八折", signature="小店", suppress=path)
    assert statuses(plan) == ["ready", "suppressed"]
    plan = plan_campaign(people("张三", "李四"), "八折", signature="小店", suppress=str(path))
    assert statuses(plan) == ["ready", "suppressed"]


def test_suppression_matches_unnormalised_recipients():
    df = pd.DataFrame({"mobile": ["+86 138 0000 0001", "13800000002"]})
    plan = plan_campaign(df, "八折", signature="小店", suppress=["13800000001"])
    assert statuses(plan) == ["suppressed", "ready"]


def test_suppression_leaves_invalid_rows_invalid():
    df = people("张三", "李四", status=["ok", "invalid"])
    plan = plan_campaign(df, "八折", signature="小店", suppress=df["mobile"])
    assert statuses(plan) == ["suppressed", "invalid"]


def test_a_single_number_string_is_not_taken_for_a_path():
    with pytest.raises(PlanError, match="as a list"):
        plan_campaign(people("张三"), "八折", signature="小店", suppress="13800000001")


def test_missing_suppression_file_raises():
    with pytest.raises(sc.RecipientsError):
        plan_campaign(people("张三"), "八折", signature="小店", suppress="/nonexistent/optout.csv")


@pytest.mark.parametrize("bad", [42, {"13800000001": True}])
def test_suppress_of_the_wrong_type(bad):
    with pytest.raises(PlanError, match="suppress"):
        plan_campaign(people("张三"), "八折", signature="小店", suppress=bad)


# -- sendtime -----------------------------------------------------------------------------------


NOW = datetime(2030, 1, 1, 12, 0, 0, tzinfo=BEIJING)


def test_resolve_sendtime_forms():
    assert resolve_sendtime(None, now=NOW) is None
    assert resolve_sendtime("", now=NOW) is None
    assert resolve_sendtime(datetime(2030, 1, 2, 9, 0), now=NOW) == "2030-01-02 09:00:00"
    utc = datetime(2030, 1, 2, 1, 0, tzinfo=UTC)
    assert resolve_sendtime(utc, now=NOW) == "2030-01-02 09:00:00"
    assert resolve_sendtime(pd.Timestamp("2030-01-02 09:00"), now=NOW) == "2030-01-02 09:00:00"
    assert resolve_sendtime(pd.Timestamp("2030-01-02 01:00", tz="UTC"), now=NOW) == "2030-01-02 09:00:00"
    assert resolve_sendtime("2030-01-02 09:00:00", now=NOW) == "2030-01-02 09:00:00"
    assert resolve_sendtime("2030-01-02T09:00", now=NOW) == "2030-01-02 09:00:00"
    assert resolve_sendtime("2030-01-02T01:00:00Z", now=NOW) == "2030-01-02 09:00:00"


@pytest.mark.parametrize("bad", ["tomorrow", "2030-13-01 00:00:00", "2030/01/02 09:00", pd.NaT, 5])
def test_malformed_sendtime(bad):
    with pytest.raises(PlanError, match="−114"):
        resolve_sendtime(bad, now=NOW)


def test_sendtime_must_be_in_the_future():
    with pytest.raises(PlanError, match="−115"):
        resolve_sendtime(NOW, now=NOW)
    with pytest.raises(PlanError, match="not in the future"):
        resolve_sendtime("2030-01-01 11:59:59", now=NOW)
    assert resolve_sendtime(NOW + timedelta(seconds=1), now=NOW) == "2030-01-01 12:00:01"


def test_sendtime_within_a_year():
    assert resolve_sendtime(NOW + timedelta(days=365), now=NOW) == "2031-01-01 12:00:00"
    with pytest.raises(PlanError, match="−116"):
        resolve_sendtime(NOW + timedelta(days=365, seconds=1), now=NOW)


def test_plan_checks_sendtime_against_the_clock():
    soon = datetime.now(BEIJING) + timedelta(days=1)
    plan = plan_campaign(people("张三", "李四"), "八折", signature="小店", sendtime=soon)
    expected = soon.strftime("%Y-%m-%d %H:%M:%S")
    assert plan.sendtime == expected
    assert plan.batches["sendtime"].tolist() == [expected]
    with pytest.raises(PlanError, match="−115"):
        plan_campaign(people("张三"), "八折", signature="小店", sendtime="2020-01-01 00:00:00")
    with pytest.raises(PlanError, match="−116"):
        plan_campaign(
            people("张三"),
            "八折",
            signature="小店",
            sendtime=datetime.now(BEIJING) + timedelta(days=400),
        )


def test_no_sendtime_means_now():
    plan = plan_campaign(people("张三"), "八折", signature="小店")
    assert plan.sendtime is None and plan.batches["sendtime"].tolist() == [None]


# -- batches --------------------------------------------------------------------------------------


def test_1200_identical_contents_make_batches_of_500_500_200():
    df = people(*["张三"] * 1200)
    plan = plan_campaign(df, "会员日八折", signature="小店")
    assert plan.batches["size"].tolist() == [500, 500, 200]
    assert plan.batches["batch"].tolist() == [1, 2, 3]
    assert [len(r) for r in plan.batches["receivers"]] == [500, 500, 200]
    assert plan.batches.loc[0, "receivers"] == df["mobile"].tolist()[:500]
    assert plan.recipients["batch"].tolist() == [1] * 500 + [2] * 500 + [3] * 200
    assert plan.messages == 1200 and plan.requests == 3


def test_1200_personalised_contents_make_1200_batches_of_one():
    df = people(*[f"客户{i}" for i in range(1200)])
    plan = plan_campaign(df, "{姓名}您好", signature="小店")
    assert len(plan.batches) == 1200
    assert set(plan.batches["size"]) == {1}
    assert plan.batches.loc[7, "content"] == "客户7您好【小店】"
    assert plan.batches.loc[7, "receivers"] == [df.loc[7, "mobile"]]


def test_exactly_500_make_one_batch_and_501_make_two():
    assert plan_campaign(people(*["a"] * 500), "八折", signature="小店").batches["size"].tolist() == [
        500
    ]
    sizes = plan_campaign(people(*["a"] * 501), "八折", signature="小店").batches["size"].tolist()
    assert sizes == [500, 1]


def test_batches_group_contents_in_order_of_first_appearance():
    df = people("乙", "甲", "乙", "甲", "丙")
    plan = plan_campaign(df, "{姓名}您好", signature="小店", batch_size=500)
    assert plan.batches["content"].tolist() == [
        "乙您好【小店】",
        "甲您好【小店】",
        "丙您好【小店】",
    ]
    m = df["mobile"].tolist()
    assert plan.batches["receivers"].tolist() == [[m[0], m[2]], [m[1], m[3]], [m[4]]]
    assert plan.recipients["batch"].tolist() == [1, 2, 1, 2, 3]


def test_batch_size_option_and_batches_frame_types():
    plan = plan_campaign(people(*["a"] * 5), "八折", signature="小店", batch_size=2)
    batches = plan.batches
    assert batches.columns.tolist() == ["batch", "content", "receivers", "size", "sendtime"]
    assert batches["size"].tolist() == [2, 2, 1]
    assert batches["batch"].dtype == "int64" and batches["size"].dtype == "int64"
    assert all(type(r) is list and all(type(x) is str for x in r) for r in batches["receivers"])
    assert all(type(c) is str for c in batches["content"])


def test_no_number_twice_in_a_batch():
    df = people(*["a"] * 6)
    df["mobile"] = ["13800000000", "13800000001"] * 3
    plan = plan_campaign(df, "八折", signature="小店")
    for receivers in plan.batches["receivers"]:
        assert len(receivers) == len(set(receivers))
    assert plan.messages == 2


def test_no_ready_rows_gives_no_batches():
    plan = plan_campaign(people("a", status=["invalid"]), "八折", signature="小店")
    assert plan.batches.empty and plan.messages == 0 and plan.requests == 0
    assert plan.batches.columns.tolist() == ["batch", "content", "receivers", "size", "sendtime"]


def test_empty_recipients():
    plan = plan_campaign(people(), "{姓名}八折", signature="小店")
    assert len(plan) == 0 and plan.batches.empty


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("batch_size", 501),
        ("batch_size", 0),
        ("max_length", 71),
        ("max_length", 0),
        ("on_too_long", "cut"),
        ("defaults", ["x"]),
    ],
)
def test_bad_options_are_plan_errors(option, value):
    with pytest.raises(PlanError, match=option):
        plan_campaign(people("a"), "八折", signature="小店", **{option: value})


def test_recipients_need_a_mobile_column():
    with pytest.raises(PlanError, match="mobile"):
        plan_campaign(pd.DataFrame({"tel": ["13800000000"]}), "八折", signature="小店")
    with pytest.raises(PlanError, match="DataFrame"):
        plan_campaign(["13800000000"], "八折", signature="小店")  # type: ignore[arg-type]


# -- determinism ----------------------------------------------------------------------------------


def test_fingerprint_is_deterministic():
    df = people("张三", "李四", "张三")
    a = plan_campaign(df, "{姓名}您好", signature="小店")
    b = plan_campaign(df.copy(), "{姓名}您好", signature="小店")
    assert a.fingerprint == b.fingerprint
    assert len(a.fingerprint) == 64 and int(a.fingerprint, 16) >= 0
    pdt.assert_frame_equal(a.batches, b.batches)


def test_fingerprint_depends_on_resolved_batches_not_on_the_template():
    df = people("张三")
    a = plan_campaign(df, "{姓名}您好", signature="小店")
    b = plan_campaign(df, "张三您好【小店】")
    assert a.fingerprint == b.fingerprint


@pytest.mark.parametrize(
    "change",
    [
        {"template": "{姓名}你好"},
        {"charset": "gbk"},
        {"batch_size": 1},
        {"suppress": ["13800000001"]},
        {"sendtime": datetime.now(BEIJING) + timedelta(days=2)},
    ],
)
def test_fingerprint_changes_with_what_is_sent(change):
    df = people("张三", "张三")
    base = {"template": "{姓名}您好", "signature": "小店"}
    assert plan_campaign(df, **base).fingerprint != plan_campaign(df, **{**base, **change}).fingerprint


def test_fingerprint_changes_with_receivers_order():
    df = people("张三", "张三")
    reordered = df.iloc[::-1].reset_index(drop=True)
    base = plan_campaign(df, "八折", signature="小店")
    assert base.fingerprint != plan_campaign(reordered, "八折", signature="小店").fingerprint


def test_fingerprint_is_stable_across_processes(tmp_path):
    code = (
        "import pandas as pd, smscampaign as sc;"
        "df = pd.DataFrame({'mobile': ['13800000000', '13800000001'], 'status': 'ok',"
        " '姓名': ['张三', '李四']});"
        "print(sc.plan_campaign(df, '{姓名}您好', signature='小店').fingerprint)"
    )
    here = plan_campaign(
        pd.DataFrame(
            {"mobile": ["13800000000", "13800000001"], "status": "ok", "姓名": ["张三", "李四"]}
        ),
        "{姓名}您好",
        signature="小店",
    ).fingerprint
    for seed in ("1", "2"):
        out = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            # Only the hash seed varies; the code under test and an empty campaign home (never
            # the real one) are passed on.
            env={
                "PYTHONHASHSEED": seed,
                "PATH": "",
                "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
                "SMSCAMPAIGN_HOME": str(tmp_path / "home"),
            },
        )
        assert out.stdout.strip() == here


def _fixed_recipients() -> pd.DataFrame:
    """Checked-looking rows with every kind of row the batching sees: repeats, an invalid row, an
    empty name, a number ``check_numbers`` called a duplicate whose first row is sent."""
    mobiles = [f"1380000000{i}" for i in (1, 2, 1, 0, 3, 4, 5, 2, 6, 7, 8, 9)]
    return pd.DataFrame(
        {
            "source_row": range(2, 14),
            "mobile": [None if m.endswith("0") else m for m in mobiles],
            "status": ["ok", "ok", "duplicate", "invalid"] + ["ok"] * 3 + ["duplicate"] + ["ok"] * 4,
            "reason": [None, None, "duplicate of row 2", "not a mobile number"]
            + [None] * 3
            + ["duplicate of row 3"]
            + [None] * 4,
            "姓名": [
                "张三",
                "李四",
                "张三",
                "王五",
                "",
                "赵六",
                "张三",
                "李四",
                "钱七",
                "孙八",
                "李四",
                "周九",
            ],
        }
    )


@pytest.mark.parametrize(
    ("template", "options", "fingerprint"),
    [
        (
            "会员日全场八折，回T退订",
            {"batch_size": 2, "suppress": ["13800000006"]},
            "30dbc2646fc283f7dac0fc21100d957c05d5b4a830cde5e9d427381786021a08",
        ),
        (
            "{姓名}您好，会员日全场八折",
            {"batch_size": 2, "charset": "gbk", "defaults": {"姓名": "顾客"}},
            "6d672307b8b90ccd8d76a587d2e75377df3de826b95983638b25c17d6227f54d",
        ),
        (
            "{姓名}您好" + "很长的话" * 20 + "回T退订",
            {"on_too_long": "truncate"},
            "57fbcd616955930c153761784fdf0a2ee90c62dfeb7a1a2784eb03ddda599474",
        ),
    ],
)
def test_fingerprint_of_a_fixed_plan_is_unchanged(template, options, fingerprint):
    # Journals are found by fingerprint: a plan must keep the fingerprint it had in earlier
    # releases (these were computed before the batches were kept as compact arrays).
    plan = plan_campaign(_fixed_recipients(), template, signature="小店", **options)
    assert plan.fingerprint == fingerprint


@pytest.mark.parametrize(
    "mobile",
    [
        "13800000002",
        " 13800000002",
        "13800000002\t",
        "\u300013800000002",
        "13800000002\u00a0",
        "",
    ],
)
def test_text_columns_are_read_like_any_other(mobile):
    # TEXT columns are read in place when there is nothing to trim: padded or empty cells must
    # plan exactly as the same cells in an object column.
    cells = {
        "mobile": ["13800000001", mobile, None, "13800000001"],
        "status": ["ok", " ok", "invalid", ""],
        "reason": [None, "", "not a number", None],
    }
    text = pd.DataFrame({k: pd.array(v, dtype=TEXT) for k, v in cells.items()})
    objects = pd.DataFrame({k: pd.array(v, dtype=object) for k, v in cells.items()})
    a = plan_campaign(text, "八折", signature="小店", batch_size=1)
    b = plan_campaign(objects, "八折", signature="小店", batch_size=1)
    pdt.assert_frame_equal(a.recipients.drop(columns="mobile"), b.recipients.drop(columns="mobile"))
    pdt.assert_frame_equal(a.batches, b.batches)
    assert a.fingerprint == b.fingerprint


def test_batches_frame_is_built_on_first_access_and_kept():
    df = people("张三", "李四", "王五")
    plan = plan_campaign(df, "{姓名}您好", signature="小店", batch_size=2)
    assert plan.requests == 3 and plan.summary().attrs["requests"] == 3
    assert "张三您好【小店】" in plan._repr_html_() and "3 requests" in repr(plan)
    assert not isinstance(plan.__dict__["_batches"], pd.DataFrame)  # not built for the summary
    expected = pd.DataFrame(
        {
            "batch": pd.array([1, 2, 3], dtype="int64"),
            "content": pd.array(
                ["张三您好【小店】", "李四您好【小店】", "王五您好【小店】"], dtype=TEXT
            ),
            "receivers": pd.Series([[m] for m in df["mobile"]], dtype=object),
            "size": pd.array([1, 1, 1], dtype="int64"),
            "sendtime": pd.Series([None] * 3, dtype=object),
        }
    )
    pdt.assert_frame_equal(plan.batches, expected)
    assert plan.batches is plan.batches
    assert all(type(r) is list and type(r[0]) is str for r in plan.batches["receivers"])


def _buffers(column: pd.Series) -> list[int]:
    """The addresses of the Arrow buffers behind a TEXT column (one chunk)."""
    arrow = pa.array(column.array)
    if isinstance(arrow, pa.ChunkedArray):
        assert arrow.num_chunks == 1
        arrow = arrow.chunk(0)
    return [b.address for b in arrow.buffers() if b is not None]


def test_a_plan_keeps_no_copy_of_the_checked_numbers_and_reasons():
    # 10M rows (issue 14): the plan's reason column is the input's when the plan gives no row a
    # new reason, and the batches keep positions into the numbers, not a copy of each number.
    checked = sc.check_numbers(
        pd.DataFrame({"mobile": ["13800000001", "138 0000 0002", "12", "13800000001", "+8613800000003"]})
    )
    plan = plan_campaign(checked, "八折", signature="小店", batch_size=2)
    assert list(plan.recipients["status"]) == ["ready", "ready", "invalid", "duplicate", "ready"]
    pdt.assert_series_equal(plan.recipients["reason"], checked["reason"])
    assert _buffers(plan.recipients["reason"]) == _buffers(checked["reason"])
    batches = plan.__dict__["_batches"]
    assert batches.numbers.buffers()[2].address == _buffers(checked["mobile"])[-1]
    assert batches.packed and batches.sending.nbytes == 1  # one content: a bit per row
    assert [list(r) for r in plan.batches["receivers"]] == [
        ["13800000001", "13800000002"],
        ["13800000003"],
    ]
    personal = checked.assign(name=["甲", "乙", "丙", "丁", "甲"])
    plan = plan_campaign(personal, "{name}八折", signature="小店", batch_size=2)
    batches = plan.__dict__["_batches"]
    assert not batches.packed and batches.sending.dtype == np.int32
    assert batches.numbers.buffers()[2].address == _buffers(checked["mobile"])[-1]
    assert [list(r) for r in plan.batches["receivers"]] == [
        ["13800000001", "13800000003"],
        ["13800000002"],
    ]


def test_a_plan_giving_new_reasons_builds_its_own_reason_column():
    checked = sc.check_numbers(pd.DataFrame({"mobile": ["13800000001", "13800000002", "12"]}))
    plan = plan_campaign(checked, "八折", signature="小店", suppress=["13800000002"])
    reason = plan.recipients["reason"]
    assert reason.dtype == TEXT and list(plan.recipients["status"]) == ["ready", "suppressed", "invalid"]
    assert pd.isna(reason.iloc[0]) and reason.iloc[1] and reason.iloc[2] == checked["reason"].iloc[2]
    assert pd.isna(checked["reason"].iloc[1])  # the input is not modified


def test_batches_stay_the_plans_when_its_recipients_frame_is_edited_afterwards():
    checked = sc.check_numbers(pd.DataFrame({"mobile": ["13800000001", "13800000002"]}))
    plan = plan_campaign(checked, "八折", signature="小店")
    plan.recipients.loc[0, "mobile"] = "13900000009"  # a user's edit after planning
    assert plan.batches["receivers"].tolist() == [["13800000001", "13800000002"]]
    if int(pd.__version__.split(".")[0]) >= 3 or pd.options.mode.copy_on_write is True:
        # (without copy-on-write, pandas 2's shallow copies share their columns both ways)
        assert list(checked["mobile"]) == ["13800000001", "13800000002"]


# -- the Plan object -----------------------------------------------------------------------


def test_input_is_not_mutated_and_columns_index_attrs_are_kept():
    df = people("张三", "")
    df.insert(0, "source_row", [2, 3])
    df.index = [10, 11]
    df.attrs["phone_column"] = "手机"
    before = df.copy()
    plan = plan_campaign(df, "{姓名}您好", signature="小店")
    pdt.assert_frame_equal(df, before)
    assert df.attrs == {"phone_column": "手机"}
    frame = plan.recipients
    assert frame.columns.tolist() == [
        "source_row",
        "mobile",
        "status",
        "reason",
        "姓名",
        "content",
        "length",
        "batch",
    ]
    assert frame.index.tolist() == [10, 11]
    assert frame["source_row"].tolist() == [2, 3]
    assert frame.attrs["phone_column"] == "手机"


def test_len_to_frame_and_frozen():
    plan = plan_campaign(people("张三", "李四"), "八折", signature="小店")
    assert len(plan) == 2
    frame = plan.to_frame()
    pdt.assert_frame_equal(frame, plan.recipients)
    frame.loc[0, "status"] = "changed"
    assert plan.recipients.loc[0, "status"] == "ready"
    with pytest.raises(AttributeError):
        plan.charset = "gbk"  # type: ignore[misc]


def test_summary_counts_requests_and_messages():
    df = people(*["a"] * 501, "", status=None)
    summary = plan_campaign(df, "{姓名}八折", signature="小店").summary()
    counts = dict(zip(summary["status"], summary["recipients"], strict=True))
    assert counts["ready"] == 501 and counts["missing_field"] == 1 and counts["too_long"] == 0
    assert summary.attrs["requests"] == 2 and summary.attrs["messages"] == 501
    assert summary.attrs["charset"] == "utf8" and summary.attrs["sendtime"] is None


def test_summary_lists_unknown_input_statuses_too():
    plan = plan_campaign(people("a", status=["blocked"]), "八折", signature="小店")
    assert plan.counts()["blocked"] == 1
    assert "blocked" in plan.summary()["status"].tolist()


def test_html_repr_is_short_escaped_and_samples_five():
    df = people(*[f"<b>{i}</b>" for i in range(8)])
    plan = plan_campaign(df, "{姓名}您好", signature="小店")
    page = plan._repr_html_()
    assert "<b>0</b>" not in page and "&lt;b&gt;0&lt;/b&gt;" in page
    assert "&lt;b&gt;4&lt;/b&gt;" in page and "&lt;b&gt;5&lt;/b&gt;" not in page
    assert "8 requests" in page and "8 messages" in page
    assert len(plan.sample()) == 5


def test_repr_is_one_line():
    plan = plan_campaign(people("张三", ""), "{姓名}八折", signature="小店")
    text = repr(plan)
    assert "\n" not in text and "1 ready" in text and "1 skipped" in text


def test_plan_from_check_numbers_output():
    raw = pd.DataFrame(
        {"手机": ["138 0013 8000", "13800138000", "12345"], "姓名": ["张三", "张三", "李四"]}
    )
    checked = sc.check_numbers(sc.load_recipients(raw))
    plan = plan_campaign(checked, "{姓名}您好", signature="小店")
    assert statuses(plan) == ["ready", "duplicate", "invalid"]
    assert plan.recipients["reason"].tolist()[1:] == checked["reason"].tolist()[1:]
    assert plan.batches["receivers"].tolist() == [["13800138000"]]


# -- duplicates among sendable rows (issue 17, item 1) ------------------------------------------


def test_a_duplicate_is_sent_when_the_first_row_of_its_number_cannot_be():
    raw = pd.DataFrame(
        {
            "手机": ["13800000001", "13800000002", "138 0000 0002", "13800000003"],
            "会员等级": ["金卡", "", "银卡", "铜卡"],
        }
    )
    checked = sc.check_numbers(sc.load_recipients(raw))
    assert checked["status"].tolist() == ["ok", "ok", "duplicate", "ok"]
    plan = plan_campaign(checked, "{会员等级}会员您好", signature="小店")
    assert statuses(plan) == ["ready", "missing_field", "ready", "ready"]
    assert plan.recipients.loc[1, "reason"] == "empty field: 会员等级"
    assert pd.isna(plan.recipients.loc[2, "reason"])
    assert plan.recipients.loc[2, "content"] == "银卡会员您好【小店】"
    assert plan.messages == 3


def test_later_rows_name_the_kept_row_by_spreadsheet_number():
    raw = pd.DataFrame({"手机": ["13800000002"] * 4, "会员等级": ["", "银卡", "金卡", ""]})
    checked = sc.check_numbers(sc.load_recipients(raw))
    plan = plan_campaign(checked, "{会员等级}会员您好", signature="小店")
    # row 5 is still a duplicate: its empty field is no second reason for the same person
    assert statuses(plan) == ["missing_field", "ready", "duplicate", "duplicate"]
    # source_row 3 is the kept row (the header is row 1)
    assert plan.recipients["reason"].tolist()[2].startswith("duplicate of row 3")
    assert plan.recipients["reason"].tolist()[3].startswith("duplicate of row 3")
    assert plan.recipients["content"].isna().tolist() == [True, False, True, True]


def test_when_no_row_of_a_number_can_be_sent_its_first_row_says_why():
    # one person, counted once: the later rows stay the duplicates check_numbers called them
    raw = pd.DataFrame({"手机": ["13800000002"] * 3, "会员等级": ["", "", "长" * 80]})
    checked = sc.check_numbers(sc.load_recipients(raw))
    plan = plan_campaign(checked, "{会员等级}会员您好", signature="小店")
    assert statuses(plan) == ["missing_field", "duplicate", "duplicate"]
    assert plan.recipients["reason"].tolist()[1:] == checked["reason"].tolist()[1:]
    assert plan.messages == 0


def test_a_duplicate_whose_first_row_is_in_another_plan_stays_a_duplicate():
    checked = sc.check_numbers(
        sc.load_recipients(pd.DataFrame({"手机": ["13800000002", "13800000002"], "姓名": ["甲", "乙"]}))
    )
    second_half = checked.iloc[1:]
    plan = plan_campaign(second_half, "{姓名}您好", signature="小店")
    assert statuses(plan) == ["duplicate"] and plan.messages == 0
    assert plan.recipients["reason"].tolist() == ["duplicate of row 2"]


def test_suppressed_rows_are_never_kept():
    df = people("张三", "李四")
    df.loc[1, "mobile"] = df.loc[0, "mobile"]
    df.loc[1, "status"] = "duplicate"
    plan = plan_campaign(df, "{姓名}您好", signature="小店", suppress=[df.loc[0, "mobile"]])
    assert statuses(plan) == ["suppressed", "duplicate"] and plan.messages == 0


@hypothesis.settings(max_examples=150, deadline=None)
@hypothesis.given(
    st.lists(
        st.tuples(st.integers(0, 5), st.sampled_from(["", "甲", "乙", "长" * 70])),
        min_size=0,
        max_size=25,
    ),
    st.booleans(),
)
def test_no_number_with_a_sendable_row_ends_unsent(rows, checked):
    """Property: a number with at least one row that can be sent gets exactly one message."""
    raw = pd.DataFrame(
        {"手机": [f"1380000000{k}" for k, _ in rows], "姓名": [name for _, name in rows]},
        dtype=object,
    )
    frame = (
        sc.check_numbers(sc.load_recipients(raw))
        if checked and rows
        else raw.rename(columns={"手机": "mobile"})
    )
    plan = plan_campaign(frame, "{姓名}您好", signature="小店")
    sendable = {f"1380000000{k}" for k, name in rows if name in ("甲", "乙")}
    ready = plan.recipients.loc[plan.recipients["status"] == "ready", "mobile"].tolist()
    assert sorted(ready) == sorted(sendable)  # each sendable number once, nobody else
    sent = [n for receivers in plan.batches["receivers"] for n in receivers]
    assert sorted(sent) == sorted(sendable)


# -- truncation keeps the signature and the opt-out (issue 17, item 2) ---------------------------


LONG = (
    "尊敬的会员您好，春季会员日全场商品八折起，"
    "更有满减好礼等你来拿，详情请到店咨询了解，欢迎光临本店选购新品"
) * 2


@pytest.mark.parametrize("opt_out", ["回T退订", "退订回T", "拒收请回复R", "回TD退订"])
def test_truncate_keeps_a_trailing_opt_out_and_the_signature(opt_out):
    template = "{姓名}" + LONG + "，" + opt_out
    plan = plan_campaign(people("欧阳娜娜"), template, signature="演示商城", on_too_long="truncate")
    content = plan.recipients.loc[0, "content"]
    assert statuses(plan) == ["ready"]
    assert content.endswith("，" + opt_out + "【演示商城】")
    assert content.startswith("欧阳娜娜尊敬的会员")
    assert plan.recipients.loc[0, "length"] == 70 == sc.sms_length(content)
    reason = plan.recipients.loc[0, "reason"]
    assert reason.startswith("truncated from ") and reason.endswith(f"before the opt-out {opt_out}")


def test_truncate_without_room_for_the_opt_out_is_too_long():
    plan = plan_campaign(
        people("张三"),
        "{姓名}" + LONG + "回T退订",
        signature="小店",
        max_length=8,
        on_too_long="truncate",
    )
    assert statuses(plan) == ["too_long"]
    assert "leave no room" in plan.recipients.loc[0, "reason"]
    assert plan.messages == 0


def test_on_too_long_error_names_the_spreadsheet_row():
    raw = pd.DataFrame({"手机": ["13800000001", "13800000002"], "姓名": ["张三", "长" * 80]})
    checked = sc.check_numbers(sc.load_recipients(raw))
    with pytest.raises(TemplateError, match=r"e\.g\. row 3: 86 characters"):
        plan_campaign(checked, "{姓名}您好", signature="小店", on_too_long="error")


# -- one text dtype, missing reasons (issue 11, items 3 and 6) --------------------------------------


def test_text_columns_use_the_project_text_dtype_and_missing_reasons_are_na():
    df = people("张三", "", status=["ok", "ok"])
    df["reason"] = pd.array([None, None], dtype="str")
    df["mobile"] = df["mobile"].astype(object)
    plan = plan_campaign(df, "{姓名}您好", signature="小店")
    frame = plan.recipients
    for column in ("mobile", "status", "reason", "content"):
        assert frame[column].dtype == TEXT, column
    assert frame.loc[0, "reason"] is pd.NA
    assert frame["reason"].isna().tolist() == [True, False]
    assert plan.batches["content"].dtype == TEXT


def test_suppression_is_loaded_by_one_named_helper(tmp_path):
    path = tmp_path / "optout.csv"
    pd.DataFrame({"手机": ["13800000001"]}).to_csv(path, index=False)
    numbers = load_suppression(path)
    assert numbers.tolist() == ["13800000001"]
    plan = plan_campaign(people("张三", "李四"), "八折", signature="小店", suppress=numbers)
    assert statuses(plan) == ["ready", "suppressed"]


# -- the command line: --on-too-long, nothing to send (issue 17, item 3) ------------------------------


TOO_LONG = "{姓名}" + "春季会员日全场商品八折起" * 6 + "，回T退订"


@pytest.fixture
def recipients_csv(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("手机,姓名\n13800000001,张三\n13800000002,李四\n138000000,王五\n", encoding="utf-8")
    return path


def test_cli_plan_with_nothing_to_send_exits_2_with_counts_rows_lengths_and_the_fix(
    recipients_csv, capsys
):
    code = main(["plan", str(recipients_csv), "--template", TOO_LONG, "--signature", "演示商城"])
    err = capsys.readouterr().err
    assert code == 2
    assert "nothing can be sent: all 3 recipients are skipped" in err
    assert "too_long            2  rows 2 (85 characters), 3 (85 characters); at most 70" in err
    assert "invalid             1  rows 4: wrong length" in err
    assert "--on-too-long truncate" in err


def test_cli_on_too_long_truncate_and_error(recipients_csv, capsys):
    args = ["plan", str(recipients_csv), "--template", TOO_LONG, "--signature", "演示商城"]
    assert main([*args, "--on-too-long", "truncate", "--preview", "2"]) == 0
    out = capsys.readouterr().out
    assert "[70] 张三春季会员日" in out and "，回T退订【演示商城】" in out
    assert "2 messages in 2 requests" in out  # the preview's totals
    assert main([*args, "--on-too-long", "error"]) == 2
    assert "e.g. row 2: 85 characters" in capsys.readouterr().err


def test_cli_send_with_nothing_to_send_exits_2_and_creates_no_journal(recipients_csv, tmp_path, capsys):
    journal = tmp_path / "c.journal"
    code = main(
        [
            "send",
            str(recipients_csv),
            "--template",
            TOO_LONG,
            "--signature",
            "演示商城",
            "--sandbox",
            "--journal",
            str(journal),
            "--no-progress",
        ]
    )
    assert code == 2
    assert "nothing can be sent" in capsys.readouterr().err
    assert not journal.exists()


# -- send window and preview (issue 12, items 3 and 4) ---------------------------------------------


def test_marketing_plans_carry_quiet_hours_and_refuse_a_sendtime_outside():
    df = people("张三")
    template = "{姓名}您好，八折，回T退订"
    plan = plan_campaign(df, template, signature="小店", kind="marketing")
    assert plan.send_window == ("08:00", "21:00")
    night = (datetime.now(BEIJING) + timedelta(days=1)).replace(hour=22, minute=30, second=0)
    with pytest.raises(PlanError, match="outside the send window 08:00–21:00"):
        plan_campaign(df, template, signature="小店", kind="marketing", sendtime=night)
    lifted = plan_campaign(
        df, template, signature="小店", kind="marketing", sendtime=night, send_window=None
    )
    assert lifted.send_window is None and lifted.messages == 1
    custom = plan_campaign(
        df, template, signature="小店", kind="marketing", sendtime=night, send_window=("08:00", "23:00")
    )
    assert custom.send_window == ("08:00", "23:00")
    assert plan_campaign(df, template, signature="小店", kind="notification").send_window is None
    assert plan_campaign(df, template, signature="小店").send_window is None


def test_preview_shows_the_first_recipients_and_the_totals():
    df = people("张三", "", "王五")
    df.insert(0, "source_row", [5, 6, 7])
    plan = plan_campaign(df, "{姓名}您好", signature="小店")
    preview = plan.preview(2, workers=2, rate_limit=0.5)
    assert preview.rows["row"].tolist() == [5, 6]
    assert preview.rows["content"].tolist()[0] == "张三您好【小店】"
    assert preview.rows["status"].tolist() == ["ready", "missing_field"]
    assert preview.rows["length"].tolist()[0] == 8
    assert (preview.messages, preview.requests) == (2, 2)
    assert preview.seconds == 4.0  # 2 requests at 0.5 per second
    text = repr(preview)
    assert "(empty field: 姓名)" in text and "2 messages in 2 requests" in text
    assert preview.sms_left is None and preview.sms_left_after is None


def test_preview_with_a_gateway_says_what_is_left(sandbox):
    sandbox.add_account("u", "p", sms_left=100)
    plan = plan_campaign(people("张三", "李四"), "{姓名}您好", signature="小店")
    with sandbox.gateway("u", "p") as gw:
        preview = plan.preview(gateway=gw)
    assert preview.sms_left == 100 and preview.sms_left_after == 98
    assert "100 messages left now, 98 after" in repr(preview)


@pytest.mark.parametrize("on_too_long", ["skip", "truncate"])
def test_constant_template_plans_like_the_same_text_through_a_placeholder(on_too_long):
    # a template without placeholders takes a shortcut (one string, no per-row copies): it must
    # give the rows, contents and batches a placeholder filled with the same text gives
    df = people("a", "b", "c", "d", "e", status=["ok", "duplicate", "invalid", "ok", "ok"])
    df.loc[1, "mobile"] = df.loc[0, "mobile"]
    df.loc[2, "mobile"] = None
    df["店"] = "会员日"
    for text in ("全场八折", "字" * 80):
        constant = plan_campaign(df, f"会员日{text}", signature="小店", on_too_long=on_too_long)
        general = plan_campaign(df, f"{{店}}{text}", signature="小店", on_too_long=on_too_long)
        pdt.assert_frame_equal(constant.recipients, general.recipients)
        pdt.assert_frame_equal(constant.batches, general.batches)


# -- a row keeps the first reason it is skipped for (issue 28, item 3) ---------------------------


def _with_duplicates() -> pd.DataFrame:
    raw = pd.DataFrame(
        {
            "手机": ["13800000001", "13800000002", "138 0000 0001", "13800000003", "13800000002"],
            "姓名": ["张三", "李四", "张三", "王五", "李四"],
        }
    )
    checked = sc.check_numbers(sc.load_recipients(raw))
    assert checked["status"].tolist() == ["ok", "ok", "duplicate", "ok", "duplicate"]
    return checked


def test_a_duplicate_is_not_counted_again_as_too_long():
    checked = _with_duplicates()
    plan = plan_campaign(checked, "{姓名}" + "长" * 80, signature="小店")
    assert statuses(plan) == ["too_long", "too_long", "duplicate", "too_long", "duplicate"]
    assert plan.counts()["too_long"] == 3 and plan.counts()["duplicate"] == 2
    assert plan.recipients["reason"].tolist()[2::2] == checked["reason"].tolist()[2::2]


def test_a_duplicate_is_not_blocked_again_and_the_review_counts_people():
    checked = _with_duplicates()
    plan = plan_campaign(checked, "{姓名}您好，周末八折", signature="小店", kind="marketing")
    assert statuses(plan) == ["blocked", "blocked", "duplicate", "blocked", "duplicate"]
    review = plan.review.set_index("rule")
    assert review.loc["opt_out_missing", "rows"] == 3
    warned = plan_campaign(
        checked, "{姓名}您好，周末八折", signature="小店", kind="marketing", review="warn"
    )
    assert warned.review.set_index("rule").loc["opt_out_missing", "rows"] == 3
    assert statuses(warned) == ["ready", "ready", "duplicate", "ready", "duplicate"]


def test_cli_plan_counts_each_person_once_and_gives_no_false_fix(tmp_path, capsys):
    people_csv = tmp_path / "people.csv"
    _with_duplicates()  # the same rows, checked by the command
    people_csv.write_text(
        "手机,姓名\n13800000001,张三\n13800000002,李四\n138 0000 0001,张三\n"
        "13800000003,王五\n13800000002,李四\n",
        encoding="utf-8",
    )
    args = ["plan", str(people_csv), "--template", "{姓名}您好，周末八折", "--signature", "小店"]
    assert main([*args, "--kind", "marketing"]) == 2
    captured = capsys.readouterr()
    counts = {
        line.split()[0]: line.split()[1]
        for line in captured.out.splitlines()
        if line.split()[:1] in (["blocked"], ["duplicate"])
    }
    assert counts == {"blocked": "3", "duplicate": "2"}
    assert "another list" not in captured.err  # their first rows are here, blocked


def test_cli_nothing_to_send_says_each_reason_with_its_rows(tmp_path, capsys):
    """Issue 28, item 4: rows skipped for several reasons are not all given the first one's."""
    path = tmp_path / "invalid.csv"
    path.write_text(
        "手机,姓名\n1.38E+10,张三\n138000000,李四\n01062345678,王五\n1.39E+10,赵六\n", encoding="utf-8"
    )
    assert main(["plan", str(path), "--template", "{姓名}您好", "--signature", "小店"]) == 2
    err = capsys.readouterr().err.splitlines()
    start = next(i for i, line in enumerate(err) if line.lstrip().startswith("invalid"))
    assert err[start].split()[:2] == ["invalid", "4"]
    parts = [line.split("rows ", 1)[1] for line in err[start : start + 3]]
    assert parts == [
        "2, 5: digits lost to scientific notation",
        "3: wrong length",
        "4: not a mainland mobile range",
    ]


def test_a_lone_surrogate_in_a_built_frame_makes_its_row_unencodable(sandbox):
    """Issue 28, item 5: half an emoji in a frame built in Python (the loaders replace it) is a row
    that cannot be sent, with a reason — not pyarrow's UnicodeEncodeError; the rest is planned and
    sent, the frame the analyst built untouched."""
    built = pd.DataFrame(
        {
            "手机": pd.Series(["13800000001", "13800000002", "13800000003"], dtype=object),
            "姓名": pd.Series(["张\ud83d", "李四", "王五"], dtype=object),
            "备注": pd.Series(["", "\udc00x", ""], dtype=object),  # not in the message: cleaned only
        }
    )
    checked = sc.check_numbers(built)
    plan = plan_campaign(checked, "{姓名}您好", signature="小店")
    assert statuses(plan) == ["unencodable", "ready", "ready"]
    assert "姓名" in plan.recipients["reason"].iloc[0] and "U+D83D" in plan.recipients["reason"].iloc[0]
    assert plan.recipients["备注"].tolist()[1] == "\ufffdx" and plan.messages == 2
    assert built["姓名"].iloc[0] == "张\ud83d"
    ab = plan_campaign(checked, {"A": "{姓名}您好", "B": "{姓名}你好"}, signature="小店", seed=1)
    assert ab.recipients["status"].tolist()[0] == "unencodable"
    with sandbox.gateway("demo", "s3cret-PW!") as gw:
        results = sc.send_campaign(plan, gw, progress=False)
    assert results["status"].tolist() == ["unencodable", "accepted", "accepted"]
    assert sorted(sandbox.ledger["receiver"]) == ["13800000002", "13800000003"]


def test_suppress_journal_skips_those_it_found_already_sent(sandbox, tmp_path):
    """Issue 28, item 6: a journal that found people ``already_sent`` (they got its content from
    another journal) suppresses them too, not only those it sent itself."""
    first = [f"138{i:08d}" for i in range(4)]
    later = [*first, "13800000008", "13800000009"]
    with sandbox.gateway("demo", "s3cret-PW!") as gw:
        spring = plan_campaign(people(*"甲乙丙丁"), "春季八折", signature="小店")
        assert spring.recipients["mobile"].tolist() == first
        sc.send_campaign(spring, gw, journal=tmp_path / "a.journal", progress=False)
        wider = pd.DataFrame({"mobile": later, "姓名": list("甲乙丙丁戊己")})
        again = plan_campaign(wider, "春季八折", signature="小店")
        results = sc.send_campaign(again, gw, journal=tmp_path / "b.journal", progress=False)
        assert results["status"].tolist() == ["already_sent"] * 4 + ["accepted"] * 2
    summer = plan_campaign(wider, "夏季满减", signature="小店", suppress=tmp_path / "b.journal")
    assert statuses(summer) == ["suppressed"] * 6 and summer.messages == 0
    assert sorted(sandbox.ledger["receiver"]) == sorted(later)  # each texted once
