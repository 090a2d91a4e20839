"""Templates: placeholders, signatures, length as the gateway counts it, vectorised rendering."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from smscampaign import TemplateError, sms_length
from smscampaign.stages.templates import (
    Template,
    astral_counts,
    field_text,
    normalize_signature,
    parse_template,
    render_bodies,
    resolve_columns,
    sms_lengths,
    split_opt_out,
    split_signature,
    truncate_sms,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("abc", 3),
        ("您好【小店】", 6),
        ("😀", 2),
        ("您好😀【小店】", 8),
        ("👍🏽", 4),
        ("é", 1),
    ],
)
def test_sms_length_counts_utf16_code_units(text, expected):
    assert sms_length(text) == expected
    assert sms_length(text) == len(text.encode("utf-16-le")) // 2


def test_sms_lengths_is_the_vectorised_sms_length():
    texts = ["您好", "😀x", None, "a👍🏽b【小店】"]
    assert sms_lengths(pa.array(texts)).to_pylist() == [2, 3, None, 10]


def test_truncate_sms_never_splits_a_character():
    assert truncate_sms("ab😀c", 3) == "ab"
    assert truncate_sms("ab😀c", 4) == "ab😀"
    assert truncate_sms("您好", 5) == "您好"
    assert truncate_sms("您好", 0) == ""


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("小店", "【小店】"),
        ("【小店】", "【小店】"),
        ("  【 小店 】 ", "【小店】"),
        (" 小店\n", "【小店】"),
        ("", None),
        ("   ", None),
        ("【】", None),
        (None, None),
    ],
)
def test_normalize_signature(given, expected):
    assert normalize_signature(given) == expected


@pytest.mark.parametrize("bad", ["小【店", "【小】店】", 42])
def test_normalize_signature_refuses_brackets_inside_and_non_text(bad):
    with pytest.raises(TemplateError):
        normalize_signature(bad)


def test_parse_template_with_chinese_placeholders():
    t = parse_template("{姓名}您好，您的积分是{积分}，{姓名}")
    assert t.fields == ("姓名", "积分", "姓名")
    assert t.columns == ("姓名", "积分")
    assert t.parts == ("", "您好，您的积分是", "，", "")
    assert not t.is_constant


def test_parse_template_escaped_braces_are_literal():
    t = parse_template("{{VIP}} {姓名} }}")
    assert t.fields == ("姓名",)
    assert t.parts == ("{VIP} ", " }")
    assert parse_template("a{{b}}").literal_text() == "a{b}"


def test_parse_template_strips_whitespace_inside_braces():
    assert parse_template("{ 姓名 }您好").fields == ("姓名",)


def test_parse_template_constant():
    t = parse_template("会员日全场八折")
    assert t.is_constant and t.literal_text() == "会员日全场八折"


@pytest.mark.parametrize("bad", ["您好{}", "您好{姓名", "您好}", "{a{b}}", "", "   "])
def test_parse_template_refuses_malformed(bad):
    with pytest.raises(TemplateError):
        parse_template(bad)


def test_template_error_is_a_value_error():
    with pytest.raises(ValueError, match="empty placeholder"):
        parse_template("{}")


def test_without_signature_removes_a_trailing_signature_once():
    t = parse_template("{姓名}您好【小店】 ")
    assert t.without_signature("【小店】").parts == ("", "您好")
    assert t.without_signature("【别家】") is t
    assert parse_template("您好").without_signature(None).parts == ("您好",)


def test_template_render_one_row():
    t = parse_template("{姓名}您好{{}}")
    assert t.render({"姓名": "张三"}) == "张三您好{}"
    with pytest.raises(TemplateError, match="姓名"):
        t.render({})


def test_resolve_columns_maps_placeholders_to_labels():
    t = parse_template("{姓名}{2024}")
    assert resolve_columns(t, ["mobile", "姓名", 2024]) == {"姓名": "姓名", "2024": 2024}


def test_resolve_columns_lists_the_columns_there_are():
    with pytest.raises(TemplateError) as info:
        resolve_columns(parse_template("{名字}您好"), ["mobile", "姓名"])
    message = str(info.value)
    assert "{名字}" in message and "mobile, 姓名" in message


def test_field_text_strips_and_nulls_empty_values():
    values = pd.Series([" 张三 ", "", None, "  ", "李四"], dtype=object)
    assert field_text(values).to_pylist() == ["张三", None, None, None, "李四"]


def test_field_text_on_arrow_strings_and_categoricals():
    assert field_text(pd.Series(["a", None], dtype="str")).to_pylist() == ["a", None]
    cat = pd.Series(pd.Categorical(["金卡", None, "银卡"]))
    assert field_text(cat).to_pylist() == ["金卡", None, "银卡"]


def test_field_text_numbers_and_dates():
    assert field_text(pd.Series([100.0, None, 3.0])).to_pylist() == ["100", None, "3"]
    assert field_text(pd.Series([1.5, float("nan")])).to_pylist() == ["1.5", None]
    assert field_text(pd.Series([7, 8])).to_pylist() == ["7", "8"]
    days = pd.Series(pd.to_datetime(["2024-01-02", None]))
    assert field_text(days).to_pylist() == ["2024-01-02", None]
    times = pd.Series(pd.to_datetime(["2024-01-02 09:30"]))
    assert field_text(times).to_pylist() == ["2024-01-02 09:30:00"]
    assert field_text(pd.Series([1, "x", 2.0], dtype=object)).to_pylist() == ["1", "x", "2"]


def test_field_text_does_not_modify_the_input():
    values = pd.Series([" 张三 ", ""], dtype=object)
    before = values.copy()
    field_text(values)
    pd.testing.assert_series_equal(values, before)


def test_render_bodies_vectorised_nulls_propagate():
    t = parse_template("尊敬的{姓名}，您的{等级}积分{积分}")
    values = {
        "姓名": pa.array(["张三", "李四", None]),
        "等级": pa.array(["金卡", "银卡", "金卡"]),
        "积分": pa.array(["10", "20", "30"]),
    }
    assert render_bodies(t, values, 3).to_pylist() == [
        "尊敬的张三，您的金卡积分10",
        "尊敬的李四，您的银卡积分20",
        None,
    ]


def test_render_bodies_single_placeholder_and_constant():
    only = parse_template("{姓名}")
    assert render_bodies(only, {"姓名": pa.array(["张三"])}, 1).to_pylist() == ["张三"]
    constant = parse_template("全场八折")
    assert render_bodies(constant, {}, 2).to_pylist() == ["全场八折", "全场八折"]


def test_template_is_frozen():
    t = parse_template("{a}")
    assert isinstance(t, Template)
    with pytest.raises(AttributeError):
        t.text = "x"  # type: ignore[misc]


def test_astral_counts_on_slices_large_strings_and_nulls():
    arr = pa.array(["x", "😀a", None, "b😀😀"])
    assert astral_counts(arr).tolist() == [0, 1, 0, 2]
    assert astral_counts(arr.slice(1)).tolist() == [1, 0, 2]
    assert astral_counts(arr.cast(pa.large_string()).slice(3)).tolist() == [2]
    assert astral_counts(pa.array(["您好", ""])).tolist() == [0, 0]
    assert astral_counts(pa.array([], pa.string())).tolist() == []
    chunked = pa.chunked_array([["😀"], ["a", "😀😀"]])
    assert sms_lengths(chunked).to_pylist() == [2, 1, 4]


# -- opt-out and signature splitting ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "head", "tail"),
    [
        ("全场八折，回T退订", "全场八折", "，回T退订"),
        ("全场八折 退订回TD。", "全场八折", " 退订回TD。"),
        ("全场八折拒收请回复R", "全场八折", "拒收请回复R"),
        ("全场八折回t退订", "全场八折", "回t退订"),
        ("回T退订后全场八折", "回T退订后全场八折", ""),  # not at the end: not a trailing opt-out
        ("全场八折", "全场八折", ""),
    ],
)
def test_split_opt_out(text, head, tail):
    got_head, got_tail = split_opt_out(pa.array([text]))
    assert (got_head[0].as_py(), got_tail[0].as_py()) == (head, tail)


def test_split_opt_out_keeps_nulls():
    head, tail = split_opt_out(pa.array([None], type=pa.string()))
    assert head.to_pylist() == [None] and tail.to_pylist() == [""]


def test_split_signature_given_or_trailing():
    tmpl, sig = split_signature(parse_template("{姓名}您好【小店】"))
    assert sig == "【小店】" and tmpl.parts == ("", "您好")
    tmpl, sig = split_signature(parse_template("{姓名}您好【小店】"), "小店")
    assert sig == "【小店】" and tmpl.parts == ("", "您好")
    tmpl, sig = split_signature(parse_template("【小店】{姓名}您好"))
    assert sig is None and tmpl.parts == ("【小店】", "您好")
