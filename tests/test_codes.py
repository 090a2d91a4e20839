import re
from pathlib import Path

import pandas as pd
import pytest

import smscampaign as sc
from smscampaign.core.codes import CATEGORIES, CODES

DOC = Path(__file__).resolve().parents[2] / "shared" / "gateway" / "api-doc-zh.txt"


def test_table_covers_every_documented_code():
    assert sorted(CODES) == list(range(-133, -99))


@pytest.mark.skipif(not DOC.exists(), reason="provider document not beside the checkout")
def test_chinese_texts_are_exactly_the_documents():
    text = DOC.read_text(encoding="utf-8")
    documented = dict(
        (int(code), zh.strip()) for code, zh in re.findall(r"^\s*(-1\d\d)\s*\n\s*(\S+)\s*$", text, re.M)
    )
    assert documented == {code: zh for code, (zh, _, _) in CODES.items()}


@pytest.mark.parametrize(
    ("code", "category"),
    [
        (-100, "retryable"),
        (-101, "retryable"),
        (-108, "retryable"),
        (-109, "ambiguous"),
        (-102, "account"),
        (-103, "account"),
        (-104, "account"),
        (-105, "account"),
        (-106, "account"),
        (-107, "account"),
        (-110, "account"),
        (-111, "account"),
        (-112, "request"),
        (-119, "request"),
        (-122, "request"),
        (-133, "request"),
        (0, "success"),
        (50, "success"),
    ],
)
def test_categories(code, category):
    assert sc.describe_code(code).category == category


def test_describe_code_record():
    info = sc.describe_code(-118)
    assert (info.code, info.zh, info.en, info.category) == (
        -118,
        "内容超过最大长度70",
        "Content longer than 70 characters",
        "request",
    )
    assert not info.ok and sc.describe_code(7).ok
    with pytest.raises(AttributeError):
        info.code = 1  # frozen


def test_unknown_negative_code_is_generic_not_an_error():
    info = sc.describe_code(-999)
    assert info.code == -999 and info.category == "request" and info.en == "Unknown return code"


def test_codes_table():
    table = sc.codes_table()
    assert list(table.columns) == ["code", "zh", "en", "category"]
    assert len(table) == 34 and table["code"].is_unique
    assert set(table["category"]) <= set(CATEGORIES)
    row = table.set_index("code").loc[-103]
    pd.testing.assert_series_equal(
        row,
        pd.Series(
            {"zh": "帐号密码错误", "en": "Wrong account password", "category": "account"}, name=-103
        ),
        check_dtype=False,
    )
