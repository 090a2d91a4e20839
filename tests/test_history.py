"""Campaign history against the sandbox: opt-outs follow the person, frequency caps, replies attributed
to the right campaign, contacts per number, comparisons — weeks of campaigns on an injected clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import smscampaign as sc
from smscampaign.campaign.caps import apply_history
from smscampaign.memory.history import History, _beijing
from smscampaign.reports.compare import compare_campaigns, export_comparison
from smscampaign.wire.protocol import BEIJING, TIME_FORMAT

USER, PASSWORD = "demo", "s3cret-PW!"
NUMBERS = ["13800000001", "13800000002", "13800000003", "13800000004"]
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=BEIJING)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def history(home: Path, clock: Clock):
    with History(clock=clock) as h:
        yield h


@pytest.fixture
def gw(sandbox: sc.Sandbox):
    with sandbox.gateway(USER, PASSWORD) as gateway:
        sc.bind_numbers(gateway, NUMBERS)
        yield gateway


def _people(numbers: list[str] = NUMBERS) -> pd.DataFrame:
    return sc.check_numbers(pd.DataFrame({"手机": numbers, "姓名": ["张三"] * len(numbers)}))


def _campaign(gw, history: History, text: str, name: str, people: pd.DataFrame | None = None, **kw):
    plan = sc.plan_campaign(
        _people() if people is None else people, text, signature="小店", history=history, **kw
    )
    results = sc.send_campaign(plan, gw, progress=False, clock=history.clock, name=name)
    return plan, results


def _ledger_count(sandbox: sc.Sandbox, mobile: str) -> int:
    return int((sandbox.ledger["receiver"] == mobile).sum())


def _reply(sandbox: sc.Sandbox, gw, history: History, sender: str, content: str, at: datetime) -> None:
    assert sandbox.reply(sender, content, USER, receivetime=at.astimezone(BEIJING).strftime(TIME_FORMAT))
    sc.fetch_replies(gw, store=history)


def test_an_opted_out_number_is_never_planned_again(sandbox, gw, history, clock) -> None:
    _campaign(gw, history, "{姓名}您好，周末八折，回T退订", "week 1")
    _reply(sandbox, gw, history, NUMBERS[1], "退订。", clock.advance(hours=3))
    when = clock.now.strftime("%Y-%m-%d %H:%M")
    for week in range(2, 5):
        clock.advance(days=7)
        plan, results = _campaign(gw, history, f"{{姓名}}您好，第{week}周新品，回T退订", f"week {week}")
        row = plan.recipients[plan.recipients["mobile"] == NUMBERS[1]].iloc[0]
        assert row["status"] == "suppressed"
        assert "退订" in row["reason"] and when in row["reason"]
    assert _ledger_count(sandbox, NUMBERS[1]) == 1  # week 1 only
    assert _ledger_count(sandbox, NUMBERS[0]) == 4
    # an A/B test and a frame without check_numbers respect it too
    ab = sc.plan_campaign(
        _people(), {"A": "甲，回T退订", "B": "乙，回T退订"}, signature="小店", history=history
    )
    assert ab.recipients.loc[ab.recipients["mobile"] == NUMBERS[1], "status"].tolist() == ["suppressed"]
    raw = pd.DataFrame({"mobile": ["+86 138 0000 0002", NUMBERS[0]]})
    raw_plan = sc.plan_campaign(raw, "你好，回T退订", signature="小店", history=history)
    assert raw_plan.recipients["status"].tolist() == ["suppressed", "ready"]
    # the default home is the same memory (SMSCAMPAIGN_HOME in tests)
    again = sc.plan_campaign(_people(), "再见，回T退订", signature="小店")
    assert (
        again.recipients.loc[again.recipients["mobile"] == NUMBERS[1], "status"].item() == "suppressed"
    )
    # respect_opt_outs=False is the explicit way round it
    forced = sc.plan_campaign(_people(), "再见，回T退订", signature="小店", respect_opt_outs=False)
    assert set(forced.recipients["status"]) == {"ready"}


def test_manual_opt_out_and_suppress_file_still_work(history, clock, tmp_path) -> None:
    history.add_opt_outs(["+86 13800000003"], source="hotline", note="called the shop")
    listed = tmp_path / "optouts.csv"
    listed.write_text("mobile\n13800000004\n", encoding="utf-8")
    plan = sc.plan_campaign(
        _people(), "你好，回T退订", signature="小店", history=history, suppress=listed
    )
    status = dict(zip(plan.recipients["mobile"], plan.recipients["status"], strict=True))
    reason = dict(zip(plan.recipients["mobile"], plan.recipients["reason"], strict=True))
    assert status == {
        NUMBERS[0]: "ready",
        NUMBERS[1]: "ready",
        NUMBERS[2]: "suppressed",
        NUMBERS[3]: "suppressed",
    }
    assert "hotline" in reason[NUMBERS[2]] and "called the shop" in reason[NUMBERS[2]]
    assert reason[NUMBERS[3]] == "in the suppression list"
    opted = history.opt_outs()
    assert opted["mobile"].tolist() == [NUMBERS[2]] and opted["source"].tolist() == ["hotline"]


def test_no_home_no_history_and_planning_creates_none(tmp_path, monkeypatch) -> None:
    empty = tmp_path / "nothing-here"
    monkeypatch.setenv("SMSCAMPAIGN_HOME", str(empty))
    plan = sc.plan_campaign(_people(), "你好，回T退订", signature="小店", frequency_cap="1/7d")
    assert set(plan.recipients["status"]) == {"ready"}
    assert not empty.exists()


def test_frequency_cap_two_per_seven_days_across_three_campaigns(sandbox, gw, history, clock) -> None:
    sent_days = []
    for day, text in ((0, "周一特价"), (2, "周三特价"), (4, "周五特价")):
        clock.now = T0 + timedelta(days=day)
        plan, results = _campaign(gw, history, text + "，回T退订", f"day {day}", frequency_cap=(2, "7D"))
        sent_days.append(plan)
    assert all(_ledger_count(sandbox, m) == 2 for m in NUMBERS)
    third = sent_days[2].recipients
    assert set(third["status"]) == {"capped"}
    last = (T0 + timedelta(days=2)).strftime("%Y-%m-%d %H:%M")
    assert all("2 messages" in r and last in r and "2/7d" in r for r in third["reason"])
    assert sent_days[2].counts()["capped"] == len(NUMBERS) and sent_days[2].messages == 0
    # the window slides: day 9 sees only day 4's (none sent) and day 2's is 7 days old
    clock.now = T0 + timedelta(days=9, hours=1)
    later = sc.plan_campaign(
        _people(), "下周见，回T退订", signature="小店", history=history, frequency_cap="2/7d"
    )
    assert set(later.recipients["status"]) == {"ready"}
    capped_one = sc.plan_campaign(
        _people(), "又见，回T退订", signature="小店", history=history, frequency_cap="1/7d"
    )
    assert set(capped_one.recipients["status"]) == {"ready"}
    clock.now = T0 + timedelta(days=8)
    tight = sc.plan_campaign(
        _people(), "又见，回T退订", signature="小店", history=history, frequency_cap="1/7d"
    )
    assert set(tight.recipients["status"]) == {"capped"}
    with pytest.raises(sc.PlanError):
        sc.plan_campaign(
            _people(), "x，回T退订", signature="小店", history=history, frequency_cap="2 per week"
        )


def test_replies_land_on_the_right_campaign(sandbox, gw, history, clock) -> None:
    a, b, c = NUMBERS[0], NUMBERS[1], NUMBERS[2]
    _reply(sandbox, gw, history, c, "在吗", clock.now - timedelta(hours=1))  # before any campaign
    _campaign(gw, history, "春季上新，回T退订", "spring")  # T0 to everyone
    _reply(sandbox, gw, history, a, "好的", T0 + timedelta(hours=2))  # spring
    clock.now = T0 + timedelta(hours=24)
    _campaign(gw, history, "限时秒杀，回T退订", "flash", people=_people([a, b]))  # T0+24h to a, b
    _reply(sandbox, gw, history, a, "多少钱", T0 + timedelta(hours=25))  # flash: the most recent
    _reply(sandbox, gw, history, c, "收到", T0 + timedelta(hours=30))  # c only got spring: spring
    _reply(sandbox, gw, history, b, "TD", T0 + timedelta(hours=24 + 72))  # exactly 72 h: flash
    _reply(sandbox, gw, history, NUMBERS[3], "？", T0 + timedelta(hours=72, seconds=1))  # too late
    got = history.replies()
    assert got["content"].tolist() == ["在吗", "好的", "多少钱", "收到", "？", "TD"]
    assert got["campaign"].fillna("-").tolist() == ["-", "spring", "flash", "spring", "-", "flash"]
    assert got["time_to_reply"].tolist()[1:4] == [
        timedelta(hours=2),
        timedelta(hours=1),
        timedelta(hours=30),
    ]
    assert got["opt_out"].tolist() == [False, False, False, False, False, True]
    # a shorter window leaves the late ones unattributed
    short = history.replies(attribution_window="24h")
    assert short["campaign"].fillna("-").tolist() == ["-", "spring", "flash", "-", "-", "-"]


def test_tie_goes_to_the_campaign_recorded_later(sandbox, gw, history, clock) -> None:
    _campaign(gw, history, "第一条，回T退订", "first")
    _campaign(gw, history, "第二条，回T退订", "second")  # the same instant on the clock
    _reply(sandbox, gw, history, NUMBERS[0], "好", T0)  # the same second as both
    assert history.replies()["campaign"].tolist() == ["second"]


def test_contacts_and_campaigns(sandbox, gw, history, clock) -> None:
    _campaign(gw, history, "一，回T退订", "one")
    clock.advance(days=10)
    _campaign(gw, history, "二，回T退订", "two", people=_people(NUMBERS[:2]))
    clock.advance(days=3)
    _reply(sandbox, gw, history, NUMBERS[0], "退订", clock.now)
    clock.advance(days=1)
    contacts = history.contacts([NUMBERS[0], "+86 138 0000 0003", "13999999999", NUMBERS[0]])
    assert contacts["mobile"].tolist() == [NUMBERS[0], NUMBERS[2], "13999999999", NUMBERS[0]]
    first = contacts.iloc[0]
    assert first["first_contacted"] == pd.Timestamp(T0)
    assert first["last_contacted"] == pd.Timestamp(T0 + timedelta(days=10))
    assert (first["messages"], first["messages_7d"], first["messages_30d"]) == (2, 1, 2)
    assert first["replied"] and first["opted_out"]
    assert first["opted_out_at"] == pd.Timestamp(T0 + timedelta(days=13))
    third = contacts.iloc[1]
    assert (third["messages"], third["messages_30d"], third["replied"], third["opted_out"]) == (
        1,
        1,
        False,
        False,
    )
    nobody = contacts.iloc[2]
    assert nobody["messages"] == 0 and pd.isna(nobody["first_contacted"])
    everyone = history.contacts()
    assert set(everyone["mobile"]) == set(NUMBERS)
    assert list(everyone.columns) == list(sc.history.CONTACT_COLUMNS)
    campaigns = history.campaigns()
    assert campaigns["name"].tolist() == ["one", "two"]
    assert campaigns["accepted"].tolist() == [4, 2] and campaigns["messages"].tolist() == [4, 2]
    assert campaigns["template"].tolist() == ["一，回T退订", "二，回T退订"]
    assert campaigns["signature"].tolist() == ["【小店】", "【小店】"]
    assert campaigns["created"].tolist() == [pd.Timestamp(T0), pd.Timestamp(T0 + timedelta(days=10))]
    messages = history.messages([NUMBERS[1]])
    assert messages["campaign"].tolist() == ["one", "two"]


def _plain_contacts(history: History, asked: list[str]) -> pd.DataFrame:
    """The oracle of History.contacts: a row-by-row pandas count over the registry's messages, the
    replies and the opt-outs as History lists them."""
    now = pd.Timestamp(history.now())
    messages, replies, opted = history.messages(), history.to_frame(), history.opt_outs()
    rows = []
    for mobile in asked:
        at = messages.loc[messages["mobile"] == mobile, "at"]
        replied = replies.loc[replies["sender"] == mobile, "receivetime"]
        opt_at = opted.loc[opted["mobile"] == mobile, "at"]
        rows.append(
            {
                "mobile": mobile,
                "first_contacted": at.min() if len(at) else pd.NaT,
                "last_contacted": at.max() if len(at) else pd.NaT,
                "messages": len(at),
                "messages_7d": int(((at > now - pd.Timedelta(days=7)) & (at <= now)).sum()),
                "messages_30d": int(((at > now - pd.Timedelta(days=30)) & (at <= now)).sum()),
                "replied": len(replied) > 0,
                "replies": len(replied),
                "last_reply": replied.max() if len(replied) else pd.NaT,
                "opted_out": len(opt_at) > 0,
                "opted_out_at": opt_at.iloc[0] if len(opt_at) else pd.NaT,
            }
        )
    frame = pd.DataFrame(rows, columns=list(sc.history.CONTACT_COLUMNS))
    frame["mobile"] = frame["mobile"].astype(sc.numbers.TEXT)
    for column in ("first_contacted", "last_contacted", "last_reply", "opted_out_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True).dt.tz_convert(BEIJING).dt.as_unit("us")
    for column in ("messages", "messages_7d", "messages_30d", "replies"):
        frame[column] = frame[column].astype("int64")
    return frame.astype({"replied": bool, "opted_out": bool})


def test_contacts_match_a_plain_pandas_count(sandbox, gw, history, clock) -> None:
    replier = "13900000009"  # replies, never texted
    sc.bind_numbers(gw, [replier])
    _campaign(gw, history, "一，回T退订", "one")
    clock.advance(days=20)
    _campaign(gw, history, "二，回T退订", "two", people=_people(NUMBERS[:3]))
    clock.advance(days=6)
    _campaign(gw, history, "三，回T退订", "three", people=_people(NUMBERS[:1]))
    _reply(sandbox, gw, history, NUMBERS[1], "好的", clock.now)
    _reply(sandbox, gw, history, NUMBERS[1], "几点开门", clock.now + timedelta(hours=1))
    _reply(sandbox, gw, history, NUMBERS[2], "退订", clock.now + timedelta(hours=2))
    _reply(sandbox, gw, history, replier, "T", clock.now + timedelta(hours=3))
    history.add_opt_outs(["13700000007"], source="call", note="hotline")
    clock.advance(days=1)  # "two" exactly 7 days ago (outside the 7 days), "one" 27 (inside 30)
    asked = [*NUMBERS, replier, "13700000007", "13600000000", NUMBERS[0]]
    expected = _plain_contacts(history, asked)
    assert expected["messages"].tolist() == [3, 2, 2, 1, 0, 0, 0, 3]
    assert expected["messages_7d"].tolist() == [1, 0, 0, 0, 0, 0, 0, 1]
    pd.testing.assert_frame_equal(history.contacts(asked), expected, check_exact=True)
    everyone = history.contacts()
    assert set(everyone["mobile"]) == {*NUMBERS, replier, "13700000007"}
    ordered = everyone.sort_values("mobile", ignore_index=True)
    pd.testing.assert_frame_equal(
        ordered, _plain_contacts(history, ordered["mobile"].tolist()), check_exact=True
    )
    # Seen from earlier (a clock before "two" and "three"): later messages count in ``messages``
    # but in no window.
    with History(store=history.store, clock=lambda: T0 + timedelta(days=10)) as earlier:
        expected = _plain_contacts(earlier, asked)
        assert expected["messages_30d"].tolist() == [1, 1, 1, 1, 0, 0, 0, 1]
        pd.testing.assert_frame_equal(earlier.contacts(asked), expected, check_exact=True)


def test_comparison_rates_match_a_hand_count(sandbox, gw, history, clock, tmp_path) -> None:
    many = [f"1390000{i:04d}" for i in range(40)]
    sc.bind_numbers(gw, many)
    people = _people(many)
    _campaign(gw, history, "春季八折，回T退订", "spring", people=people)
    spring_repliers = many[:8]  # 8 replies, 2 of them opt-outs
    for i, m in enumerate(spring_repliers):
        sandbox.reply(
            m,
            "退订" if i < 2 else "好的",
            USER,
            receivetime=(clock.now + timedelta(hours=i + 1)).strftime(TIME_FORMAT),
        )
    sandbox.reply(
        many[0], "再问一下", USER, receivetime=(clock.now + timedelta(hours=20)).strftime(TIME_FORMAT)
    )
    sc.fetch_replies(gw, store=history)
    clock.advance(days=7)
    summer = sc.plan_campaign(people, "夏季满减，回T退订", signature="小店", history=history)
    sc.send_campaign(summer, gw, progress=False, clock=clock, name="summer")
    for i, m in enumerate(many[10:13]):  # 3 replies, 1 opt-out
        sandbox.reply(
            m,
            "TD" if i == 0 else "1",
            USER,
            receivetime=(clock.now + timedelta(hours=1)).strftime(TIME_FORMAT),
        )
    sc.fetch_replies(gw, store=history)
    table = compare_campaigns(history, ["spring", "summer"])
    spring, summer_row = table.iloc[0], table.iloc[1]
    assert (spring["messages"], spring["replied"], spring["opted_out"]) == (40, 8, 2)
    assert spring["reply_rate"] == pytest.approx(8 / 40) and spring["opt_out_rate"] == pytest.approx(
        2 / 40
    )
    # summer skips the 2 who opted out in spring
    assert (summer_row["messages"], summer_row["replied"], summer_row["opted_out"]) == (38, 3, 1)
    assert summer_row["reply_rate"] == pytest.approx(3 / 38)
    assert spring["median_time_to_reply"] == pd.Timedelta(hours=4.5)
    out = export_comparison(table, tmp_path / "compare.xlsx")
    sheet = openpyxl.load_workbook(out)["对比"]
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["campaign", "created", "template"]
    assert sheet.cell(row=2, column=header.index("reply_rate") + 1).value == pytest.approx(0.2)
    fig = sc.plot_comparison(table)
    assert len(fig.axes[0].patches) == 4
    with pytest.raises(sc.ConfigError):
        compare_campaigns(history, ["autumn"])


def test_history_is_a_reply_store(history, clock) -> None:
    rows = [{"sender": "+86 138 0000 0001", "content": "TD", "receivetime": "2026-03-01 09:00:00"}]
    assert history.add(rows, received_via="push") == 1
    assert history.add(rows, received_via="fetch") == 0
    frame = history.to_frame()
    assert frame["sender"].tolist() == ["13800000001"] and frame["received_via"].tolist() == ["push"]
    assert frame["receivetime"].iloc[0] == pd.Timestamp("2026-03-01 09:00:00", tz=BEIJING)
    assert len(history) == 1
    with pytest.raises(sc.ConfigError):
        history.add(rows, received_via="mail")


def test_apply_history_leaves_the_input_alone(history) -> None:
    history.add_opt_outs([NUMBERS[0]])
    people = _people()
    before = people.copy()
    out = apply_history(people, history)
    pd.testing.assert_frame_equal(people, before)
    assert out["status"].tolist() == ["suppressed", "ok", "ok", "ok"]
    assert apply_history(people, history, respect_opt_outs=False) is people


def test_report_gains_rates_and_compares_arms(sandbox, gw, history, clock, tmp_path) -> None:
    many = [f"1370000{i:04d}" for i in range(200)]
    sc.bind_numbers(gw, many)
    plan = sc.plan_campaign(
        _people(many),
        {"A": "{姓名}您好，周末八折，回T退订", "B": "{姓名}您好，满百减二十，回T退订"},
        signature="小店",
        holdout=0.1,
        seed="report",
        history=history,
    )
    results = sc.send_campaign(plan, gw, progress=False, clock=clock, name="ab test")
    arm = dict(zip(results["mobile"], results["variant"], strict=True))
    a_numbers = [m for m in many if arm[m] == "A"]
    b_numbers = [m for m in many if arm[m] == "B"]
    held = [m for m in many if arm[m] == "holdout"]
    repliers = a_numbers[:4] + b_numbers[:20]
    for i, m in enumerate(repliers):
        text = "退订" if m in (a_numbers[0], b_numbers[0], b_numbers[1]) else "好"
        sandbox.reply(
            m, text, USER, receivetime=(clock.now + timedelta(minutes=10 + i)).strftime(TIME_FORMAT)
        )
    sandbox.reply(
        held[0], "在吗", USER, receivetime=(clock.now + timedelta(hours=1)).strftime(TIME_FORMAT)
    )
    sc.fetch_replies(gw, store=history)
    tables = sc.campaign_report(results, history=history)
    engagement = tables["engagement"].iloc[0]
    sent = len(a_numbers) + len(b_numbers)
    assert engagement["campaign"] == "ab test"
    assert (engagement["messages"], engagement["replied"], engagement["opted_out"]) == (sent, 24, 3)
    assert engagement["reply_rate"] == pytest.approx(round(24 / sent, 4))
    assert tables["engagement_carriers"]["messages"].sum() == sent
    assert tables["engagement_regions"]["replied"].sum() == 24
    arms = tables["arms"].set_index("variant")
    assert arms.loc["A", "recipients"] == arms.loc["A", "accepted"] == len(a_numbers)
    assert (arms.loc["A", "replied"], arms.loc["B", "replied"]) == (4, 20)
    assert (arms.loc["A", "opted_out"], arms.loc["B", "opted_out"]) == (1, 2)
    assert arms.loc["B", "reply_rate"] == pytest.approx(20 / len(b_numbers))
    assert arms.loc["holdout", "recipients"] == len(held) and arms.loc["holdout", "accepted"] == 0
    tests = tables["arm_tests"].set_index("metric")
    expected = sc.two_proportion_test(4, len(a_numbers), 20, len(b_numbers))
    assert tests.loc["reply_rate", "p_value"] == pytest.approx(expected["p_value"])
    assert tests.loc["reply_rate", "verdict"] == expected["verdict"]
    assert tests.loc["opt_out_rate", "verdict"].startswith("too small to tell")
    out = sc.export_report(results, tmp_path / "ab.xlsx", plan=plan, history=history)
    book = openpyxl.load_workbook(out)
    assert {"回复率 engagement", "AB 分组", "AB 检验"} <= set(book.sheetnames)
    verdicts = [row[-1] for row in book["AB 检验"].iter_rows(min_row=2, values_only=True)]
    assert expected["verdict"] in verdicts


def test_cli_history_compare_and_frequency_cap(home, tmp_path, capsys) -> None:
    from smscampaign.cli import main

    people = tmp_path / "people.csv"
    people.write_text("手机,姓名\n" + "".join(f"{m},张三\n" for m in NUMBERS), encoding="utf-8")
    common = [str(people), "--signature", "小店", "--sandbox", "--no-progress"]
    assert (
        main(
            [
                "send",
                *common,
                "--template",
                "一，回T退订",
                "--journal",
                str(tmp_path / "1.j"),
                "--name",
                "first",
            ]
        )
        == 0
    )
    with History() as history:  # a reply and an opt-out arrive
        now = datetime.now(BEIJING).replace(microsecond=0)
        history.add(
            [
                {"sender": NUMBERS[0], "content": "好", "receivetime": now + timedelta(seconds=5)},
                {"sender": NUMBERS[1], "content": "退订", "receivetime": now + timedelta(seconds=5)},
            ],
            "push",
        )
    capsys.readouterr()
    plan_args = ["plan", str(people), "--template", "二，回T退订", "--signature", "小店"]
    assert main([*plan_args, "--frequency-cap", "1/7d"]) == 2  # nothing can be sent: says why
    captured = capsys.readouterr()
    assert "capped" in captured.out + captured.err and "suppressed" in captured.out + captured.err
    assert main([*plan_args, "--frequency-cap", "2/7d", "--ignore-opt-outs"]) == 0
    capsys.readouterr()
    assert (
        main(
            [
                "send",
                *common,
                "--template",
                "二，回T退订",
                "--journal",
                str(tmp_path / "2.j"),
                "--name",
                "second",
                "--ignore-opt-outs",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["history"]) == 0
    out = capsys.readouterr().out
    assert "first" in out and "second" in out
    assert main(["history", "--contacts", NUMBERS[0], "--out", str(tmp_path / "c.csv")]) == 0
    contacts = pd.read_csv(tmp_path / "c.csv", dtype=str)
    assert contacts["messages"].tolist() == ["2"] and contacts["replied"].tolist() == ["True"]
    assert main(["opt-outs"]) == 0
    assert NUMBERS[1] in capsys.readouterr().out
    book = tmp_path / "compare.xlsx"
    assert (
        main(["compare", "first", "second", "--out", str(book), "--plot", str(tmp_path / "c.png")]) == 0
    )
    out = capsys.readouterr().out
    assert "50.0%" in out and "25.0%" in out  # first: 2 of 4 replied, 1 of 4 opted out
    assert book.is_file() and (tmp_path / "c.png").stat().st_size > 0
    assert main(["compare", "autumn"]) == 2


def _record(history: History, *batches: list[str], days: list[int]) -> None:
    """Registry records of one unnamed campaign straight into the store: batch ``i`` holds
    ``batches[i]``, accepted ``days[i]`` days after T0."""
    for batch, (mobiles, day) in enumerate(zip(batches, days, strict=True)):
        history.store.record_sends(
            mobiles=mobiles,
            content_sha256="0" * 64,
            campaign="c" * 64,
            journal="j",
            batch=batch,
            status="accepted",
            gateway="http://127.0.0.1",
            at=T0 + timedelta(days=day),
        )


def test_contacts_of_numbers_without_mobile_shape_match_the_plain_count(history, clock) -> None:
    """Registry numbers that are not 11 digits (joined as text, not as integers) and one with a
    leading zero."""
    _record(history, ["13800000001", "+85291234567"], ["+85291234567", "01234567890"], days=[0, 3])
    clock.advance(days=8)
    asked = ["+85291234567", "13800000001", "01234567890"]
    pd.testing.assert_frame_equal(history.contacts(asked), _plain_contacts(history, asked))
    everyone = history.contacts()
    assert everyone["mobile"].tolist() == ["+85291234567", "01234567890", "13800000001"]
    assert everyone["messages"].tolist() == [2, 1, 1] and everyone["messages_7d"].tolist() == [1, 1, 0]


def test_replies_before_any_campaign_are_unattributed(history, clock) -> None:
    # A fresh home that fetched replies but holds no registry record yet.
    history.add([{"sender": "13800000001", "content": "T", "receivetime": T0}], "fetch")
    replies = history.replies()
    assert replies[["sender", "opt_out"]].values.tolist() == [["13800000001", True]]
    assert replies["campaign"].isna().all() and replies["sent_at"].isna().all()
    assert replies["sent_at"].dtype == replies["receivetime"].dtype
    contacts = history.contacts(["13800000001"])
    assert contacts[["messages", "replies", "opted_out"]].values.tolist() == [[0, 1, True]]


def test_cap_and_opt_outs_with_numbers_without_mobile_shape(history, clock) -> None:
    """Plan rows and registry numbers that are not 11 digits are matched as text."""
    _record(history, ["+85291234567", "13800000001"], ["+85291234567"], days=[0, 0])
    history.add_opt_outs(["13800000002"], source="call")
    clock.advance(days=1)
    people = pd.DataFrame(
        {"mobile": ["+85291234567", "13800000001", "13800000002", "13800000003"], "status": "ok"}
    )
    out = apply_history(people, history, frequency_cap=(2, "7D"))
    assert out["status"].tolist() == ["capped", "ok", "suppressed", "ok"]
    assert "frequency cap 2/7d: 2 messages in the window, last 2026-03-02 10:00" == out["reason"][0]
    assert out["reason"][2].startswith("opted out (call)")
    assert apply_history(people, history, frequency_cap=(1, "7D"))["status"].tolist()[:2] == [
        "capped",
        "capped",
    ]


def test_times_read_back_are_beijing_microseconds_from_any_datetimes(history) -> None:
    """The one conversion behind ``messages()["at"]``, ``replies()["sent_at"]`` and
    ``opt_outs()["at"]``: the store's UTC datetimes, any zone's, naive ones (read as UTC), datetimes
    kept as objects, missing ones and none at all all come back as Beijing time in microseconds,
    each value on its own index label."""
    utc = pd.Series(
        pd.to_datetime(["2026-03-02 02:00", None, "2026-03-03 02:00"], utc=True), index=[5, 2, 9]
    )
    beijing = pd.to_datetime(["2026-03-02 10:00", None, "2026-03-03 10:00"]).tz_localize(BEIJING)
    expected = pd.Series(beijing.as_unit("us"), index=[5, 2, 9])
    for given in (utc, utc.dt.tz_convert("Europe/Paris"), utc.dt.tz_localize(None), utc.astype(object)):
        pd.testing.assert_series_equal(_beijing(given), expected)
    for nothing in (pd.Series([], dtype="datetime64[us, UTC]"), pd.Series([], dtype=object)):
        assert _beijing(nothing).dtype == expected.dtype and _beijing(nothing).empty
    # An empty home: the public frames keep the dtype.
    assert history.messages()["at"].dtype == expected.dtype
    assert history.opt_outs()["at"].dtype == expected.dtype
    assert history.replies()["sent_at"].dtype == expected.dtype
    # Opt-outs from replies and from elsewhere, sorted by time: each keeps its own time.
    history.add(
        [{"sender": NUMBERS[0], "content": "退订", "receivetime": T0 + timedelta(hours=2)}], "push"
    )
    history.add_opt_outs([NUMBERS[1]], at=T0 + timedelta(hours=1), source="call")
    history.add_opt_outs([NUMBERS[0], NUMBERS[2]], at=T0 + timedelta(hours=3), source="call")
    opted = history.opt_outs()
    assert opted["mobile"].tolist() == [NUMBERS[1], NUMBERS[0], NUMBERS[2]]
    assert opted["at"].tolist() == [T0 + timedelta(hours=h) for h in (1, 2, 3)]
    assert opted["source"].tolist() == ["call", "reply", "call"]


def test_compare_right_after_sending_before_any_reply(home, tmp_path, capsys) -> None:
    """No campaign has a reply yet (always true right after sending): the table still comes, its
    median time to reply missing but a timedelta."""
    from smscampaign.cli import main

    people = tmp_path / "people.csv"
    people.write_text("手机,姓名\n" + "".join(f"{m},张三\n" for m in NUMBERS), encoding="utf-8")
    for name in ("first", "second"):
        args = ["send", str(people), "--signature", "小店", "--sandbox", "--no-progress"]
        args += ["--template", f"{name}，回T退订", "--name", name, "--ignore-opt-outs"]
        assert main([*args, "--journal", str(tmp_path / f"{name}.j")]) == 0
    with History() as history:
        table = compare_campaigns(history)
    assert table["campaign"].tolist() == ["first", "second"]
    assert table["messages"].tolist() == [4, 4] and table["replied"].tolist() == [0, 0]
    assert table["median_time_to_reply"].dtype == "timedelta64[ns]"
    assert table["median_time_to_reply"].isna().all()
    capsys.readouterr()
    book = tmp_path / "compare.xlsx"
    assert (
        main(["compare", "first", "second", "--out", str(book), "--plot", str(tmp_path / "c.png")]) == 0
    )
    assert "first" in capsys.readouterr().out and book.is_file()


def test_a_plan_sent_again_from_another_journal_keeps_both_runs(sandbox, home, tmp_path, capsys):
    """Send a plan (16 accepted), send it again with --journal other.journal (16 already_sent): the
    history shows both runs, each with its own counts; the first is what ``compare`` reads."""
    from smscampaign.cli import main

    many = [f"1380000{i:04d}" for i in range(16)]
    people = tmp_path / "people.csv"
    people.write_text("手机,姓名\n" + "".join(f"{m},张三\n" for m in many), encoding="utf-8")
    common = [str(people), "--template", "你好，回T退订", "--signature", "小店", "--no-progress"]
    common += ["--sandbox", "--name", "spring"]
    assert main(["send", *common]) == 0
    assert main(["send", *common, "--journal", str(tmp_path / "other.journal")]) == 0
    capsys.readouterr()
    assert main(["history", "--out", str(tmp_path / "h.csv")]) == 0
    table = pd.read_csv(tmp_path / "h.csv", dtype=str)
    assert table["name"].tolist() == ["spring", "spring"]
    assert table["accepted"].tolist() == ["16", "0"]
    assert table["already_sent"].tolist() == ["0", "16"]
    assert table["messages"].tolist() == ["16", "0"]
    assert table["journal"].iloc[1].endswith("other.journal")
    # the same journal again (a resume) is the same run: still two rows
    assert main(["send", *common, "--journal", str(tmp_path / "other.journal")]) == 0
    with History() as history:
        assert len(history.campaigns()) == 2
        assert compare_campaigns(history, ["spring"])["messages"].tolist() == [16]


def test_a_home_of_one_row_per_plan_is_migrated_to_runs(tmp_path) -> None:
    """A home of schema 3 (one campaign row per plan) keeps its rows; a new run is a new row."""
    import sqlite3

    from smscampaign.memory.home import MIGRATIONS, SQLiteStore

    folder = tmp_path / "old"
    folder.mkdir()
    conn = sqlite3.connect(folder / "home.sqlite", isolation_level=None)
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    for script in MIGRATIONS[:3]:
        conn.executescript(script)
    conn.execute("INSERT INTO meta VALUES ('schema', '3')")
    conn.execute(
        "INSERT INTO campaigns VALUES ('f1', 'old', '2026-03-01T00:00:00.000000Z', 't', 's', NULL, "
        "'/a.journal', NULL, NULL, '{\"accepted\": 3}')"
    )
    conn.close()
    with SQLiteStore(folder) as store, History(store=store) as history:
        before = history.campaigns()
        assert before["name"].tolist() == ["old"] and before["accepted"].tolist() == [3]
        plan = type("Plan", (), {"fingerprint": "f1", "template": "t", "signature": "s"})()
        results = pd.DataFrame({"status": ["already_sent"] * 3})
        assert history.record_campaign(plan, journal=tmp_path / "b.journal", results=results) == "old"
        after = history.campaigns()
        assert after["accepted"].tolist() == [3, 0] and after["already_sent"].tolist() == [0, 3]


def test_a_duplicate_stays_a_duplicate_under_a_cap_and_an_opt_out(history, clock) -> None:
    """Issue 28, item 3: the history's steps mark a number's first row; its duplicates stay what
    check_numbers called them (one person, counted once)."""
    _record(history, [NUMBERS[0]], days=[-1])
    history.add_opt_outs([NUMBERS[1]])
    raw = pd.DataFrame({"手机": [NUMBERS[0], NUMBERS[1], NUMBERS[0], NUMBERS[1], NUMBERS[2]]})
    checked = sc.check_numbers(raw)
    assert checked["status"].tolist() == ["ok", "ok", "duplicate", "duplicate", "ok"]
    plan = sc.plan_campaign(
        checked, "你好，回T退订", signature="小店", history=history, frequency_cap="1/7d"
    )
    assert plan.recipients["status"].tolist() == [
        "capped",
        "suppressed",
        "duplicate",
        "duplicate",
        "ready",
    ]
    assert plan.recipients["reason"].tolist()[2:4] == checked["reason"].tolist()[2:4]
    assert plan.counts()["capped"] == 1 and plan.messages == 1


@pytest.mark.parametrize("cap", ["0/7d", "3/0d", "-1/7d", "3/-1w", (0, "7D"), (3, "0D")])
def test_a_nonsense_frequency_cap_is_refused(history, cap) -> None:
    """Issue 28, item 20: a cap of 0 messages capped everyone, an empty window silently capped
    nobody; both are refused, as is a negative count, before anything is planned."""
    from smscampaign.campaign.caps import parse_frequency_cap

    with pytest.raises(sc.ConfigError, match="at least 1|positive"):
        parse_frequency_cap(cap)
    with pytest.raises(sc.PlanError):
        sc.plan_campaign(
            _people(), "你好，回T退订", signature="小店", history=history, frequency_cap=cap
        )
