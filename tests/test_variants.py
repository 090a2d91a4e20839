"""A/B variants: a split fixed by the person, every arm checked like a single template, the test."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import smscampaign as sc
from smscampaign.campaign.variants import HOLDOUT, VariantPlan, assign_variants, two_proportion_test
from smscampaign.core.errors import PlanError, TemplateError

VARIANTS = {"A": "{姓名}您好，周末全场八折，回T退订", "B": "{姓名}您好，周末满百减二十，回T退订"}


def _people(n: int, start: int = 13800000000) -> pd.DataFrame:
    return pd.DataFrame(
        {"mobile": [str(start + 7 * i) for i in range(n)], "status": "ok", "姓名": "张三"}
    )


def test_shares_within_two_percent_on_100k_numbers() -> None:
    people = _people(100_000)
    plan = sc.plan_campaign(people, VARIANTS, signature="小店", holdout=0.1, seed="spring")
    shares = plan.recipients["variant"].value_counts(normalize=True)
    assert abs(shares["A"] - 0.45) <= 0.02
    assert abs(shares["B"] - 0.45) <= 0.02
    assert abs(shares[HOLDOUT] - 0.10) <= 0.02
    # weighted arms too (the public helper)
    arms = assign_variants(people["mobile"], {"A": 3, "B": 1}, holdout=0.2, seed=7)
    got = arms.value_counts(normalize=True)
    assert abs(got["A"] - 0.6) <= 0.02 and abs(got["B"] - 0.2) <= 0.02
    assert abs(got[HOLDOUT] - 0.2) <= 0.02


def test_same_person_same_arm_on_replanning() -> None:
    people = _people(2_000)
    first = sc.plan_campaign(people, VARIANTS, signature="小店", holdout=0.1, seed=42)
    # re-planned later: another order, half the list, numbers written differently
    again_people = people.sample(frac=0.5, random_state=1).copy()
    again_people["mobile"] = "+86 " + again_people["mobile"]
    again_people = sc.check_numbers(again_people)
    again = sc.plan_campaign(again_people, VARIANTS, signature="小店", holdout=0.1, seed=42)
    before = dict(zip(first.recipients["mobile"], first.recipients["variant"], strict=True))
    after = dict(zip(again.recipients["mobile"], again.recipients["variant"], strict=True))
    assert after and all(before[m] == v for m, v in after.items())
    # same plan twice: same fingerprint; a changed wording with the same seed keeps the split
    assert sc.plan_campaign(people, VARIANTS, signature="小店", holdout=0.1, seed=42).fingerprint == (
        first.fingerprint
    )
    edited = sc.plan_campaign(
        people,
        {**VARIANTS, "B": "{姓名}您好，满百减二十，回T退订"},
        signature="小店",
        holdout=0.1,
        seed=42,
    )
    assert edited.fingerprint != first.fingerprint
    assert edited.recipients["variant"].tolist() == first.recipients["variant"].tolist()
    # another seed reshuffles
    other = sc.plan_campaign(people, VARIANTS, signature="小店", holdout=0.1, seed=43)
    assert other.recipients["variant"].tolist() != first.recipients["variant"].tolist()


def test_split_is_the_same_in_other_processes() -> None:
    numbers = [str(13800000000 + 13 * i) for i in range(500)] + ["abc", "+86 139 0000 0000"]
    code = (
        "import json, sys; from smscampaign.campaign.variants import assign_variants;"
        "nums = json.loads(sys.stdin.read());"
        "print(json.dumps(assign_variants(nums, ['A', 'B', 'C'], holdout=0.1, seed='x').tolist()))"
    )
    here = assign_variants(numbers, ["A", "B", "C"], holdout=0.1, seed="x").tolist()
    for hash_seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-c", code],
            input=json.dumps(numbers),
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=True,
        )
        assert json.loads(done.stdout) == here
    assert set(here) == {"A", "B", "C", HOLDOUT}


def test_every_variant_is_checked_like_a_single_template() -> None:
    people = _people(400)
    long_b = "{姓名}您好" + "满百减二十" * 14
    plan = sc.plan_campaign(people, {"A": VARIANTS["A"], "B": long_b}, signature="小店", seed=1)
    rec = plan.recipients
    assert set(rec.loc[rec["variant"] == "A", "status"]) == {"ready"}
    assert set(rec.loc[rec["variant"] == "B", "status"]) == {"too_long"}
    with pytest.raises(TemplateError):
        sc.plan_campaign(
            people, {"A": VARIANTS["A"], "B": long_b}, signature="小店", seed=1, on_too_long="error"
        )
    gbk = sc.plan_campaign(
        people,
        {"A": VARIANTS["A"], "B": "{姓名}您好😀周末八折"},
        signature="小店",
        seed=1,
        charset="gbk",
    )
    rec = gbk.recipients
    assert set(rec.loc[rec["variant"] == "B", "status"]) == {"unencodable"}
    assert set(rec.loc[rec["variant"] == "A", "status"]) == {"ready"}
    with pytest.raises(TemplateError):  # an unknown placeholder in any variant
        sc.plan_campaign(people, {"A": VARIANTS["A"], "B": "{会员等级}您好"}, signature="小店")


def test_holdout_rows_are_not_sent_and_arms_get_their_content(sandbox: sc.Sandbox) -> None:
    people = _people(300)
    people.loc[5, "mobile"] = people.loc[4, "mobile"]  # a duplicate stays a duplicate
    people.loc[6, "姓名"] = None
    original = people.copy()
    plan = sc.plan_campaign(people, VARIANTS, signature="小店", holdout=0.2, seed="t")
    pd.testing.assert_frame_equal(people, original)
    assert isinstance(plan, VariantPlan) and isinstance(plan, sc.Plan)
    rec = plan.recipients
    assert rec.index.equals(people.index) and rec["mobile"].tolist() == people["mobile"].tolist()
    held = rec["status"] == HOLDOUT
    assert held.any() and (rec.loc[held, "variant"] == HOLDOUT).all()
    assert rec.loc[held, "content"].isna().all() and rec.loc[held, "batch"].isna().all()
    assert rec.loc[5, "status"] == "duplicate" or rec.loc[4, "status"] == HOLDOUT
    assert rec.loc[6, "status"] == "missing_field"
    receivers = {m for r in plan.batches["receivers"] for m in r}
    assert receivers == set(rec.loc[rec["status"] == "ready", "mobile"])
    assert plan.batches["batch"].tolist() == list(range(1, len(plan.batches) + 1))
    assert plan.messages == int((rec["status"] == "ready").sum())
    with sandbox.gateway("demo", "s3cret-PW!") as gw:
        results = sc.send_campaign(plan, gw, progress=False)
    ledger = sandbox.ledger
    sent = dict(zip(ledger["receiver"], ledger["content"], strict=True))
    assert len(ledger) == plan.messages == int((results["status"] == "accepted").sum())
    for row in rec.itertuples():
        if row.status == "ready":
            word = "八折" if row.variant == "A" else "满百减二十"
            assert word in sent[row.mobile]
        elif row.status == HOLDOUT:
            assert row.mobile not in sent
    assert "variant" in results.columns


def test_holdout_with_one_template_and_bad_options() -> None:
    people = _people(1_000)
    plan = sc.plan_campaign(people, VARIANTS["A"], signature="小店", holdout=0.5, seed=3)
    assert set(plan.recipients["variant"]) == {"A", HOLDOUT}
    for bad in (1.0, -0.1, "0.1"):
        with pytest.raises(PlanError):
            sc.plan_campaign(people, VARIANTS, signature="小店", holdout=bad)
    with pytest.raises(PlanError):
        sc.plan_campaign(people, {"A": "x", HOLDOUT: "y"}, signature="小店")
    with pytest.raises(PlanError):
        sc.plan_campaign(people, {}, signature="小店")


def test_two_proportion_test_matches_a_hand_computation() -> None:
    got = two_proportion_test(30, 1000, 60, 1000)
    pooled = 90 / 2000
    z = 0.03 / math.sqrt(pooled * (1 - pooled) * (2 / 1000))
    assert got["p_value"] == pytest.approx(math.erfc(z / math.sqrt(2)), rel=1e-9)
    assert got["difference"] == pytest.approx(0.03)
    assert got["ci_low"] < 0.03 < got["ci_high"] and got["ci_low"] > 0
    assert got["enough"] and got["verdict"].startswith("B is higher than A")
    same = two_proportion_test(50, 1000, 52, 1000)
    assert same["p_value"] > 0.5 and same["verdict"].startswith("no clear difference")
    assert same["ci_low"] < 0 < same["ci_high"]
    small = two_proportion_test(1, 20, 3, 20)
    assert not small["enough"] and small["verdict"].startswith("too small to tell")
    assert small["test"] == "Fisher's exact test" and 0 < small["p_value"] <= 1
    assert two_proportion_test(0, 0, 3, 20)["verdict"].startswith("nothing to compare")
    all_in = two_proportion_test(300, 300, 280, 280)
    assert all_in["verdict"] == "no difference: 100% in both A and B" and all_in["p_value"] == 1.0
    with pytest.raises(sc.ConfigError):
        two_proportion_test(5, 3, 1, 10)


def test_split_uniform_for_random_numbers() -> None:
    rng = np.random.default_rng(0)
    numbers = (13000000000 + rng.choice(10**9, 100_000, replace=False)).astype(str)
    arms = assign_variants(pd.Series(numbers), ["A", "B"], holdout=0.1, seed="x")
    shares = arms.value_counts(normalize=True)
    assert abs(shares["A"] - 0.45) <= 0.02 and abs(shares[HOLDOUT] - 0.1) <= 0.02
