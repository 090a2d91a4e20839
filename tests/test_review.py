"""review_content: every rule with a passing and a failing example; the plan's review; the CLI."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

import smscampaign as sc
from smscampaign import ConfigError, PlanError, plan_campaign, review_content
from smscampaign.cli import main
from smscampaign.stages.numbers import TEXT
from smscampaign.stages.review import FINDING_COLUMNS, RULES, load_lexicon
from smscampaign.wire.protocol import BEIJING

GOOD = "{姓名}您好，春季会员日全场八折，回T退订【演示商城】"


def people(*names: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source_row": range(2, len(names) + 2),
            "mobile": [f"138{i:08d}" for i in range(len(names))],
            "status": "ok",
            "姓名": list(names),
        }
    )


def rules(findings: pd.DataFrame) -> list[str]:
    return findings["rule"].tolist()


def test_a_good_marketing_template_has_no_findings():
    findings = review_content(GOOD, kind="marketing")
    assert findings.empty
    assert findings.columns.tolist() == list(FINDING_COLUMNS)


def test_findings_frame_columns_and_types():
    findings = review_content("全场八折 http://x.cn", kind="marketing")
    assert findings.columns.tolist() == list(FINDING_COLUMNS)
    assert findings["severity"].tolist() == sorted(findings["severity"].tolist())  # errors first
    assert set(findings["severity"]) <= {"error", "warning"}
    for column in FINDING_COLUMNS[:-1]:
        assert findings[column].dtype == TEXT
    assert str(findings["rows"].dtype) == "Int64"
    assert all(rule in RULES for rule in findings["rule"])


# -- one passing and one failing example per rule ----------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "passing", "failing"),
    [
        ("signature_missing", GOOD, "{姓名}您好，八折，回T退订"),
        ("signature_length", GOOD, "{姓名}您好，八折，回T退订【店】"),
        (
            "signature_length",
            "八折，回T退订【十二个字的签名十二个字的】",
            "八折，回T退订【十三个字的签名十三个字的签】",
        ),
        ("signature_symbols", GOOD, "{姓名}您好，八折，回T退订【演示 商城】"),
        ("signature_symbols", "八折，回T退订【ABC商城2】", "八折，回T退订【演示-商城】"),
        ("signature_brackets", GOOD, "【演示商城】{姓名}您好，八折，回T退订【演示商城】"),
        ("opt_out_missing", GOOD, "{姓名}您好，春季会员日全场八折【演示商城】"),
        ("opt_out_missing", "八折，拒收请回复R【演示商城】", "八折，请勿回复【演示商城】"),
        ("link", GOOD, "八折，详见 https://shop.example.cn/spring ，回T退订【演示商城】"),
        ("link", GOOD, "八折，详见 t.cn/A6x ，回T退订【演示商城】"),
        (
            "link_variable",
            "八折 https://x.cn/a ，回T退订【演示商城】",
            "八折 https://x.cn/{code} ，回T退订【演示商城】",
        ),
        ("link_variable", GOOD, "八折，详见{链接}，回T退订【演示商城】"),
        ("phone_number", GOOD, "八折，详询4008001234，回T退订【演示商城】"),
        ("phone_number", GOOD, "八折，详询 13800138000，回T退订【演示商城】"),
        ("phone_number", GOOD, "八折，详询010-12345678，回T退订【演示商城】"),
    ],
)
def test_rule_passing_and_failing_examples(rule, passing, failing):
    assert rule not in rules(review_content(passing, kind="marketing"))
    found = review_content(failing, kind="marketing")
    assert rule in rules(found)
    row = found[found["rule"] == rule].iloc[0]
    assert row["severity"] == RULES[rule][0]
    assert row["message_zh"] and row["message_en"] and row["example"]


def test_notification_with_an_opt_out_is_a_warning_and_without_is_fine():
    assert review_content("您的验证码已发送，请查收【演示商城】", kind="notification").empty
    found = review_content("您的订单已发货，回T退订【演示商城】", kind="notification")
    assert rules(found) == ["opt_out_in_notification"]
    assert found["severity"].tolist() == ["warning"]


def test_opt_out_forms_are_configurable():
    template = "八折，退订请发送STOP【演示商城】"
    assert "opt_out_missing" in rules(review_content(template))
    assert review_content(template, opt_out=["发送STOP"]).empty


def test_unencodable_characters_are_an_error():
    template = "八折😀，回T退订【演示商城】"
    assert review_content(template).empty  # utf8 carries it
    found = review_content(template, charset="gbk")
    assert rules(found) == ["unencodable"] and "gbk" in found.loc[0, "message_en"]


def test_signature_argument_overrides_the_trailing_one():
    assert "signature_missing" in rules(review_content("八折，回T退订"))
    assert review_content("八折，回T退订", signature="演示商城").empty


def test_bad_arguments_are_config_errors():
    with pytest.raises(ConfigError, match="kind"):
        review_content(GOOD, kind="spam")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="Plan"):
        review_content(42)  # type: ignore[arg-type]


# -- lexicon --------------------------------------------------------------------------------------------


def test_lexicon_words_are_found_with_the_word_in_the_finding(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("# banned\n秒杀\n\n 特价 \nVIP\n", encoding="utf-8")
    assert load_lexicon(path).words == ("秒杀", "特价", "vip")
    found = review_content("{姓名}您好，vip秒杀，回T退订【演示商城】", lexicon=path)
    lexicon = found[found["rule"] == "lexicon"]
    assert sorted(lexicon["message_zh"]) == ["含词库中的词「vip」", "含词库中的词「秒杀」"]
    assert set(lexicon["severity"]) == {"error"}
    assert review_content(GOOD, lexicon=path).empty


def test_lexicon_in_gbk_and_a_missing_file(tmp_path):
    path = tmp_path / "words.txt"
    path.write_bytes("秒杀\n".encode("gbk"))
    assert load_lexicon(path).words == ("秒杀",)
    with pytest.raises(FileNotFoundError):
        load_lexicon(tmp_path / "none.txt")


def test_lexicon_matches_never_span_two_contents():
    lexicon = load_lexicon(["店甲"])  # "…【小店】" + "甲…" would read 店甲 across two contents
    plan = plan_campaign(
        people("甲", "乙"), "{姓名}您好，回T退订【小店】", kind="marketing", lexicon=lexicon
    )
    assert plan.review is not None and plan.review.empty
    plan = plan_campaign(
        people("店甲", "乙"), "{姓名}您好，回T退订【小店】", kind="marketing", lexicon=lexicon
    )
    assert plan.review is not None
    assert plan.review["rows"].tolist() == [1] and plan.review["example"].tolist() == [
        "店甲您好，回T退订【小店】"
    ]


# -- the plan knows the kind ------------------------------------------------------------------------


def test_error_findings_block_the_affected_rows():
    df = people("张三", "秒杀王", "李四")
    plan = plan_campaign(df, GOOD, kind="marketing", lexicon=["秒杀"])
    assert plan.recipients["status"].tolist() == ["ready", "blocked", "ready"]
    assert plan.recipients.loc[1, "reason"].startswith("lexicon: ")
    assert plan.messages == 2 and plan.counts()["blocked"] == 1
    assert plan.review is not None and plan.review["rows"].tolist() == [1]
    assert "review: 1 errors, 0 warnings" in repr(plan)
    assert "秒杀" in plan._repr_html_()
    summary = plan.summary()
    assert summary.attrs["review_errors"] == 1 and summary.attrs["kind"] == "marketing"
    assert "blocked" in summary["status"].tolist()


def test_review_warn_reports_but_blocks_nothing():
    plan = plan_campaign(people("张三"), "{姓名}您好，八折【演示商城】", kind="marketing", review="warn")
    assert plan.recipients["status"].tolist() == ["ready"]
    assert plan.review is not None and rules(plan.review) == ["opt_out_missing"]


def test_a_template_level_error_blocks_every_row_and_plans_without_kind_are_not_reviewed():
    plan = plan_campaign(people("张三", "李四"), "{姓名}您好，八折【演示商城】", kind="marketing")
    assert plan.recipients["status"].tolist() == ["blocked", "blocked"] and plan.messages == 0
    plain = plan_campaign(people("张三"), "{姓名}您好，八折【演示商城】")
    assert plain.review is None and plain.messages == 1


def test_a_link_from_a_placeholder_blocks_only_its_rows():
    df = people("张三", "李四")
    df["备注"] = ["到店领取", "www.evil.cn/x"]
    plan = plan_campaign(df, "{姓名}您好，{备注}，回T退订【演示商城】", kind="marketing")
    assert plan.recipients["status"].tolist() == ["ready", "blocked"]
    assert plan.recipients.loc[1, "reason"].startswith("link_variable")


def test_unencodable_rows_are_reported_in_the_review():
    plan = plan_campaign(people("张三", "😀"), GOOD, kind="marketing", charset="gbk")
    assert plan.recipients["status"].tolist() == ["ready", "unencodable"]
    assert plan.review is not None and rules(plan.review) == ["unencodable"]
    assert plan.review["rows"].tolist() == [1]


def test_review_content_of_a_plan():
    plan = plan_campaign(people("张三", "李四"), "{姓名}您好，八折【演示商城】")
    found = review_content(plan, kind="marketing", lexicon=["张三"])
    assert rules(found) == ["opt_out_missing", "lexicon"]
    assert found["rows"].tolist() == [2, 1]


def test_bad_kind_or_review_mode_is_a_plan_error():
    with pytest.raises(PlanError, match="kind"):
        plan_campaign(people("张三"), GOOD, kind="ads")  # type: ignore[arg-type]
    with pytest.raises(PlanError, match="review"):
        plan_campaign(people("张三"), GOOD, kind="marketing", review="ignore")  # type: ignore[arg-type]
    with pytest.raises(PlanError, match="lexicon"):
        plan_campaign(people("张三"), GOOD, lexicon=["秒杀"])


def test_send_keeps_to_a_marketing_plans_quiet_hours(sandbox, gateway):
    """send_campaign without send_window uses the plan's: at 21:30 it waits for 08:00."""
    times = iter(["2030-01-01 21:30:00", "2030-01-02 07:59:59.9"])
    asked: list[datetime] = []

    def clock() -> datetime:
        now = datetime.fromisoformat(next(times, "2030-01-02 08:00:05")).replace(tzinfo=BEIJING)
        asked.append(now)
        return now

    plan = plan_campaign(people("张三"), GOOD, kind="marketing")
    waits: list[float] = []  # injected: no real time passes under the fake clock
    results = sc.send_campaign(plan, gateway, progress=False, clock=clock, sleep=waits.append)
    assert results["status"].tolist() == ["accepted"]
    assert len(asked) >= 3 and asked[-1].hour == 8  # it waited for the window to open
    assert waits == pytest.approx([1.0, 0.1])
    assert len(sandbox.ledger) == 1


# -- the command line ------------------------------------------------------------------------------


@pytest.fixture
def recipients_csv(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("手机,姓名\n13800000001,张三\n13800000002,李四\n", encoding="utf-8")
    return path


def test_cli_review_exits_1_on_an_error_and_prints_the_table(recipients_csv, tmp_path, capsys):
    words = tmp_path / "words.txt"
    words.write_text("秒杀\n", encoding="utf-8")
    code = main(
        [
            "review",
            str(recipients_csv),
            "--template",
            "{姓名}您好，秒杀价八折",
            "--signature",
            "演示商城",
            "--kind",
            "marketing",
            "--lexicon",
            str(words),
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    lines = out.splitlines()
    assert lines[0].endswith("2 messages reviewed as marketing")
    assert lines[1].split() == ["severity", "rule", "rows", "message_zh", "message_en"]
    assert any(line.split()[:3] == ["error", "opt_out_missing", "2"] for line in lines)
    assert any(line.split()[:3] == ["error", "lexicon", "2"] and "秒杀" in line for line in lines)
    assert "2 error(s), 0 warning(s)" in out


def test_cli_review_exits_0_without_errors(recipients_csv, capsys):
    args = ["review", str(recipients_csv), "--template", "{姓名}您好，八折 t.cn/x ，回T退订【演示商城】"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "warning link" in " ".join(out.split()) and "0 error(s), 1 warning(s)" in out
    assert main(["review", str(recipients_csv), "--template", GOOD]) == 0
    assert "no findings" in capsys.readouterr().out


def test_cli_plan_with_kind_blocks_and_shows_the_review(recipients_csv, capsys):
    args = [
        "plan",
        str(recipients_csv),
        "--template",
        "{姓名}您好，八折【演示商城】",
        "--kind",
        "marketing",
    ]
    assert main(args) == 2  # every row blocked: nothing to send
    captured = capsys.readouterr()
    assert "opt_out_missing" in captured.out
    assert "blocked" in captured.err and "--review warn" in captured.err
    assert main([*args, "--review", "warn"]) == 0


def test_lexicon_words_across_a_placeholder_edge_and_in_the_constant_text():
    df = people("张三", "李四")
    template = "尊敬的{姓名}您好，全场八折，回T退订【小店】"
    plan = plan_campaign(df, template, kind="marketing", lexicon=["三您好", "的张", "八折", "小店"])
    assert plan.review is not None
    by_word = dict(zip(plan.review["message_zh"], plan.review["rows"], strict=True))
    assert by_word == {
        "含词库中的词「的张」": 1,
        "含词库中的词「三您好」": 1,
        "含词库中的词「八折」": 2,
        "含词库中的词「小店」": 2,
    }
    assert plan.recipients["status"].tolist() == ["blocked", "blocked"]
