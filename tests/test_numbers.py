"""stages.numbers: shapes, reasons, duplicates, carrier/region, agreement with phonenumbers."""

import random
from pathlib import Path

import numpy as np
import pandas as pd
import phonenumbers
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal, assert_series_equal
from phone import Phone
from phonenumbers import PhoneNumberType, carrier, geocoder

import smscampaign as sc
from smscampaign.stages import shapes
from smscampaign.stages.numbers import (
    OUTPUT_COLUMNS,
    PROVINCES,
    TEXT,
    Reason,
    _repeats,
    as_text,
    detect_phone_column,
    is_valid_mobile,
    province_of,
)
from smscampaign.stages.prefixes import _build_prefix_table, _lookup, _zh_prefix_table, prefix_table
from smscampaign.stages.shape_fast import shape_fast
from smscampaign.stages.shape_messy import fix_unicode, shape_messy
from smscampaign.stages.shape_rules import TO_ASCII
from smscampaign.stages.shapes import shape_cells


def phonenumbers_says_mobile(raw: str) -> bool:
    """The per-row reference: parse in CN, valid, region CN, type MOBILE or FIXED_LINE_OR_MOBILE."""
    try:
        number = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException:
        return False
    return (
        phonenumbers.is_valid_number(number)
        and phonenumbers.region_code_for_number(number) == "CN"
        and phonenumbers.number_type(number)
        in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)
    )


SHAPES = {
    "plain": "13800138000",
    "int": 13800138000,
    "numpy int": np.int64(13800138000),
    "float": 13800138000.0,
    "float text": "13800138000.0",
    "float text 00": "13800138000.00",
    "full-width": "１３８００１３８０００",
    "full-width plus": "＋８６１３８００１３８０００",
    "spaces": "138 0013 8000",
    "nbsp": "\u00a013800138000\u00a0",
    "ideographic space": "138\u30000013\u30008000",
    "tabs": "\t138\t0013\t8000\t",
    "dashes": "138-0013-8000",
    "em dashes": "138—0013—8000",
    "dots": "138.0013.8000",
    "parentheses": "(138)0013-8000",
    "full-width parentheses": "（+86）13800138000",
    "apostrophe": "'13800138000",
    "apostrophe full-width": "＇13800138000",
    "plus86": "+8613800138000",
    "plus86 spaced": "+86 138 0013 8000",
    "0086": "008613800138000",
    "0086 spaced": "0086 138-0013-8000",
    "86": "8613800138000",
    "86 trunk": "86-0138-0013-8000",
    "trunk zero": "013800138000",
    "plus86 trunk": "+86 (0) 138 0013 8000",
    "plus86 float": "+8613800138000.0",
    "exact scientific": "1.3800138000E+10",
}


@pytest.mark.parametrize("value", SHAPES.values(), ids=SHAPES.keys())
def test_every_shape_normalises(value):
    assert sc.normalize_numbers([value]).tolist() == ["13800138000"]
    assert sc.check_numbers(pd.DataFrame({"手机": [value]}))["mobile"].tolist() == ["13800138000"]


REASONS = {
    "none": (None, Reason.EMPTY),
    "nan": (float("nan"), Reason.EMPTY),
    "blank": ("   ", Reason.EMPTY),
    "dash placeholder": ("-", Reason.EMPTY),
    "letters": ("abc", Reason.NOT_DIGITS),
    "letter O": ("1380013800O", Reason.NOT_DIGITS),
    "two numbers": ("13800138000/13900139000", Reason.NOT_DIGITS),
    "chinese": ("无", Reason.NOT_DIGITS),
    "short": ("1380013800", Reason.WRONG_LENGTH),
    "long": ("138001380001", Reason.WRONG_LENGTH),
    "landline": ("010-62345678", Reason.NOT_MOBILE_RANGE),
    "local landline": ("6234-5678", Reason.WRONG_LENGTH),
    "unallocated 100": ("10000000000", Reason.NOT_MOBILE_RANGE),
    "unallocated 140": ("14000000000", Reason.NOT_MOBILE_RANGE),
    "1740 satellite beyond 5": ("17406123456", Reason.NOT_MOBILE_RANGE),
    "11 digits not 1": ("23800138000", Reason.NOT_MOBILE_RANGE),
    "scientific": ("1.38001E+10", Reason.SCIENTIFIC),
    "scientific lower": ("1.3800138e10", Reason.SCIENTIFIC),
    "scientific float repr": (1.38e20, Reason.SCIENTIFIC),
    "foreign plus": ("+1 415 555 0123", Reason.FOREIGN),
    "foreign 00": ("0014155550123", Reason.FOREIGN),
}


@pytest.mark.parametrize("value, reason", REASONS.values(), ids=REASONS.keys())
def test_every_reason(value, reason):
    out = sc.check_numbers(pd.DataFrame({"手机": pd.Series([value], dtype=object)}))
    assert out[["status", "reason"]].iloc[0].tolist() == ["invalid", str(reason)]
    assert out["mobile"].isna().all() and out["carrier"].isna().all()


def test_check_numbers_output_frame():
    df = pd.DataFrame(
        {
            "source_row": [2, 3, 4, 5, 6, 7],
            "姓名": ["甲", "乙", "丙", "丁", "戊", "己"],
            "tel": ["13800138000", "138 0013 8000", "19200000000", "12", "12", "+86 13800138000"],
        }
    )
    df.attrs["phone_column"] = "tel"
    before = df.copy()
    out = sc.check_numbers(df)
    expected = df.assign(
        mobile=pd.array(
            ["13800138000", "13800138000", "19200000000", None, None, "13800138000"], dtype=TEXT
        ),
        status=pd.array(["ok", "duplicate", "ok", "invalid", "invalid", "duplicate"], dtype=TEXT),
        reason=pd.array(
            [
                None,
                "duplicate of row 2",
                None,
                "wrong length",
                "wrong length",
                "duplicate of row 2",
            ],
            dtype=TEXT,
        ),
        carrier=pd.array(
            [carrier_of("13800138000")] * 2
            + [carrier_of("19200000000"), None, None]
            + [carrier_of("13800138000")],
            dtype=TEXT,
        ),
        region=pd.array(["北京市", "北京市", "广东省佛山市", None, None, "北京市"], dtype=TEXT),
        city=pd.array(["北京", "北京", "佛山", None, None, "北京"], dtype=TEXT),
        area_code=pd.array(["010", "010", "0757", None, None, "010"], dtype=TEXT),
    )
    assert_frame_equal(out, expected)
    assert list(out.columns[-len(OUTPUT_COLUMNS) :]) == list(OUTPUT_COLUMNS)
    assert OUTPUT_COLUMNS[:5] == ("mobile", "status", "reason", "carrier", "region")
    assert out.attrs["phone_column"] == "tel"
    assert_frame_equal(df, before)  # not mutated
    assert list(df.columns) == ["source_row", "姓名", "tel"]


def test_duplicates_without_source_row_name_the_index_label():
    df = pd.DataFrame({"mobile_no": ["13800138000", "13800138000"]}, index=[10, 11])
    out = sc.check_numbers(df, "mobile_no")
    assert out["reason"].tolist() == [pd.NA, "duplicate of row 10"]
    assert out.index.tolist() == [10, 11]


def test_invalid_values_repeat_without_becoming_duplicates():
    out = sc.check_numbers(pd.DataFrame({"手机": ["abc", "abc", "10000000000", "10000000000"]}))
    assert out["status"].tolist() == ["invalid"] * 4


def test_phone_column_named_mobile_is_kept_as_raw():
    out = sc.check_numbers(pd.DataFrame({"mobile": ["138-0013-8000"]}))
    assert out["mobile_raw"].tolist() == ["138-0013-8000"]
    assert out["mobile"].tolist() == ["13800138000"]
    assert out.attrs["phone_column"] == "mobile_raw"
    again = sc.check_numbers(out)  # re-checking a checked frame works
    assert again["status"].tolist() == ["ok"]


def test_column_resolution_errors():
    with pytest.raises(sc.RecipientsError, match="no phone column found; columns are: a, b"):
        sc.check_numbers(pd.DataFrame({"a": ["x"], "b": ["y"]}))
    with pytest.raises(sc.RecipientsError, match="no column 'zz'"):
        sc.check_numbers(pd.DataFrame({"手机": ["13800138000"]}), "zz")


def carrier_of(mobile: str) -> str:
    """phonenumbers' own Chinese carrier name: its data changes between releases (192 is 中国广电
    in recent ones, CBN in 8.13.0), so tests take its answer rather than a literal."""
    name = carrier.name_for_number(phonenumbers.parse(mobile, "CN"), "zh")
    assert name, mobile
    return name


def test_carrier_for_each_operator_including_broadnet():
    mobiles = ["13800138000", "13000000000", "13300000000", "19200000000"]
    carriers = sc.check_numbers(pd.DataFrame({"手机": mobiles}))["carrier"].tolist()
    assert carriers == [carrier_of(m) for m in mobiles]
    assert len(set(carriers)) == 4  # 移动, 联通, 电信 and 广电 (broadnet) told apart


def test_empty_frame():
    out = sc.check_numbers(pd.DataFrame({"手机": pd.Series([], dtype=TEXT)}))
    assert len(out) == 0 and list(out.columns) == ["手机", *OUTPUT_COLUMNS]


def test_numeric_columns():
    ints = pd.DataFrame({"手机": pd.array([13800138000, None], dtype="Int64")})
    floats = pd.DataFrame({"手机": [13800138000.0, np.nan]})
    for df in (ints, floats):
        assert sc.check_numbers(df)["reason"].tolist() == [pd.NA, "empty"]


def test_normalize_numbers_keeps_index_and_is_shape_only():
    s = pd.Series(["10000000000", "x", "+86 19200000000"], index=["a", "b", "c"])
    assert_series_equal(
        sc.normalize_numbers(s),
        pd.Series(["10000000000", None, "19200000000"], index=["a", "b", "c"], dtype=TEXT),
    )
    assert is_valid_mobile(s).tolist() == [False, False, True]


def test_as_text():
    s = pd.Series([13800138000.0, 1.5, None, True, "x", 7])
    assert as_text(s).tolist() == ["13800138000", "1.5", pd.NA, "True", "x", "7"]


def test_accessor_is_check_numbers():
    df = pd.DataFrame({"手机": ["13800138000", "x"]})
    assert_frame_equal(df.sms.check(), sc.check_numbers(df))


# --- column detection --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "columns, expected",
    [
        ({"姓名": ["a"], "手机号码": ["x"]}, "手机号码"),
        ({"联系电话": ["x"]}, "联系电话"),
        ({"手机号码（必填）": ["x"]}, "手机号码（必填）"),
        ({"客户手机号": ["x"]}, "客户手机号"),
        ({"Mobile Phone": ["x"]}, "Mobile Phone"),
        ({"customer_tel": ["x"]}, "customer_tel"),
        ({"Receiver": ["x"]}, "Receiver"),
        ({"hotel": ["x"], "手机": ["x"]}, "手机"),
        ({"身份证号码": ["110101199001011234"]}, None),
        ({"a": ["x"], "b": ["13800138000"], "c": ["y"]}, "b"),
        ({"a": ["13800138000", "x", "y"]}, None),  # one in three: not a phone column
    ],
)
def test_detect_phone_column(columns, expected):
    assert detect_phone_column(pd.DataFrame(columns)) == expected


def test_detect_prefers_the_header_whose_content_is_mobiles():
    df = pd.DataFrame({"电话": ["010-62345678"], "电话.1": ["13800138000"]})
    df.columns = ["电话", "电话 "]
    assert detect_phone_column(df) == "电话 "


# --- agreement with phonenumbers ------------------------------------------------------------------

_DECORATIONS = [
    lambda n: n,
    lambda n: f"+86 {n[:3]} {n[3:7]} {n[7:]}",
    lambda n: f"0086{n}",
    lambda n: f"86{n}",
    lambda n: f"{n[:3]}-{n[3:7]}-{n[7:]}",
    lambda n: n.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
    lambda n: f"'{n}",
    lambda n: f"({n[:3]}){n[3:]}",
]


_number = st.builds(
    lambda digits, leading_one, decoration: (
        _DECORATIONS[decoration]("1" + digits[:10].ljust(10, "0")) if leading_one else digits
    ),
    st.text("0123456789", min_size=1, max_size=14),
    st.booleans(),
    st.sampled_from(range(len(_DECORATIONS))),
)


@settings(max_examples=150, deadline=None)
@given(raws=st.lists(_number, min_size=1, max_size=40))
def test_verdicts_agree_with_phonenumbers(raws):
    out = sc.check_numbers(pd.DataFrame({"手机": raws}))
    ours = (out["status"] != "invalid").tolist()
    assert ours == [phonenumbers_says_mobile(raw) for raw in raws], raws


def test_verdicts_agree_on_every_5_digit_prefix():
    rng = random.Random(3)
    numbers = [f"{prefix}{rng.randrange(10**6):06d}" for prefix in range(10000, 20000) for _ in range(3)]
    ours = is_valid_mobile(numbers).tolist()
    theirs = [phonenumbers_says_mobile(n) for n in numbers]
    assert ours == theirs


def test_vectorised_carrier_and_region_agree_with_phonenumbers():
    rng = random.Random(5)
    prefixes = {f"1{rng.randrange(10**6):06d}" for _ in range(2000)}
    for kind in ("carrier", "region"):
        for _length, keys, _names in _zh_prefix_table(kind):
            sample = rng.sample(keys.tolist(), min(300, len(keys)))
            prefixes.update(str(k).ljust(7, "0")[:7] for k in sample)
    numbers = [p + "1234" for p in sorted(prefixes)]
    numbers = [n for n in numbers if is_valid_mobile([n]).iloc[0]]
    assert len(numbers) > 1000
    out = sc.check_numbers(pd.DataFrame({"手机": numbers}))
    filled = 0
    for n, car, reg, city in zip(numbers, out["carrier"], out["region"], out["city"], strict=True):
        number = phonenumbers.parse(n, "CN")
        assert (car if car is not pd.NA else "") == carrier.name_for_number(number, "zh"), n
        expected_region = geocoder.description_for_number(number, "zh")
        if expected_region == "中国" and reg is not pd.NA:  # the geocoder has no place: the 号段 city
            assert city is not pd.NA and city in reg, n
            filled += 1
        else:
            assert (reg if reg is not pd.NA else "中国") == expected_region, n
    assert filled > 0


def test_lookup_of_unknown_prefix_is_null():
    assert _lookup(np.array([9999999, 1380013]), "region").tolist() == [None, "北京市"]


def test_prefix_table_in_use_is_what_phonenumbers_says_now():
    """The shipped table (or the one built when phonenumbers changed) equals a fresh build."""
    used, built = prefix_table(), _build_prefix_table()
    assert used.version == phonenumbers.__version__
    for field in ("valid", "carrier", "region"):
        np.testing.assert_array_equal(getattr(used, field), getattr(built, field), err_msg=field)
    assert (used.carriers, used.regions) == (built.carriers, built.regions)


# --- regions: phonenumbers' region, the phone package's 号段 database, provinces ----------------------


def _sample_mobiles(seed: int = 19, per_prefix: int = 40) -> list[str]:
    """A fixed random sample: ``per_prefix`` numbers in every 3-digit mobile prefix."""
    rng = random.Random(seed)
    prefixes = [
        p
        for p in range(130, 200)
        if is_valid_mobile([f"{p}{n:08d}" for n in range(0, 10**8, 10**6)]).any()
    ]
    assert len(prefixes) >= 50
    return [f"{p}{rng.randrange(10**8):08d}" for p in prefixes for _ in range(per_prefix)]


def test_city_and_area_code_are_the_phone_packages():
    numbers = _sample_mobiles(per_prefix=10)
    out = sc.check_numbers(pd.DataFrame({"手机": numbers}))
    book = Phone()
    for n, status, city, area in zip(numbers, out["status"], out["city"], out["area_code"], strict=True):
        entry = book.find(n) if status != "invalid" else None
        expected = (entry["city"], entry["area_code"]) if entry else (None, None)
        assert (None if city is pd.NA else city, None if area is pd.NA else area) == expected, n


def test_region_coverage_on_a_fixed_random_sample():
    out = sc.check_numbers(pd.DataFrame({"手机": _sample_mobiles()}))
    valid = out[out["status"] != "invalid"]
    assert len(valid) > 2000
    provinces = province_of(valid)
    # phonenumbers' geocoder alone leaves about a third without a place (many 16x/19x ranges);
    # with the 号段 database (region filled from it too) under a tenth is unknown.
    assert valid["region"].isna().mean() < 0.10
    assert (provinces == "未知").mean() < 0.10
    assert (valid["region"].isna() & valid["city"].notna()).sum() == 0
    # Where both know the place they name the same province almost always.
    both = valid["region"].notna() & valid["city"].notna()
    from_region = province_of(valid.loc[both, "region"])
    from_haoduan = province_of(valid.loc[both].assign(region=pd.NA))
    assert (from_region == from_haoduan).mean() > 0.9
    assert set(provinces) <= {*PROVINCES, "未知"}


PROVINCE_FORMS = {
    "内蒙古兴安盟": "内蒙古自治区",
    "内蒙古呼和浩特市": "内蒙古自治区",
    "内蒙古": "内蒙古自治区",
    "广西南宁市": "广西壮族自治区",
    "广西": "广西壮族自治区",
    "新疆乌鲁木齐市": "新疆维吾尔自治区",
    "西藏林芝地区": "西藏自治区",
    "宁夏银川市": "宁夏回族自治区",
    "北京市": "北京市",
    "重庆": "重庆市",
    "黑龙江省哈尔滨市": "黑龙江省",
    "黑龙江": "黑龙江省",
    "陕西省西安市": "陕西省",
    "山西": "山西省",
    "香港": "香港特别行政区",
    "澳门特别行政区": "澳门特别行政区",
    "台湾": "台湾省",
    "中国": "未知",
    "": "未知",
}


def test_province_of_groups_every_division():
    values = pd.Series([*PROVINCE_FORMS, None], index=range(10, 10 + len(PROVINCE_FORMS) + 1))
    out = province_of(values)
    assert out.tolist() == [*PROVINCE_FORMS.values(), "未知"]
    assert out.index.equals(values.index) and out.dtype == TEXT
    assert len(PROVINCES) == 34 and len(set(PROVINCES)) == 34
    assert province_of(pd.Series(PROVINCES)).tolist() == list(PROVINCES)
    # Every place phonenumbers and the 号段 database name maps to one of the 34.
    table = prefix_table()
    assert "未知" not in set(province_of(pd.Series(table.regions)))


def test_province_of_a_checked_frame_falls_back_to_the_haoduan_database():
    out = sc.check_numbers(pd.DataFrame({"手机": ["13800138000", "19200000000", "abc"]}))
    assert province_of(out).tolist() == ["北京市", "广东省", "未知"]
    # a frame whose region was left empty (an older check_numbers) falls back to the database
    assert province_of(out.assign(region=pd.NA)).tolist() == ["北京市", "广东省", "未知"]


def test_region_is_filled_where_only_the_haoduan_database_knows_the_city():
    """Issue 28, item 7: phonenumbers' geocoder has no place for these ranges; the 号段 database
    has the city, and region names it as phonenumbers names that city elsewhere."""
    out = sc.check_numbers(pd.DataFrame({"手机": ["19912345678", "16612345678", "13800138000"]}))
    assert out["region"].tolist() == ["河北省唐山市", "重庆市", "北京市"]
    assert out["city"].tolist() == ["唐山", "重庆", "北京"]
    for n in ("19912345678", "16612345678"):
        assert geocoder.description_for_number(phonenumbers.parse(n, "CN"), "zh") == "中国"
    sample_file = Path(__file__).resolve().parent.parent / "sample_data" / "recipients.xlsx"
    sample = sc.check_numbers(sc.load_recipients(sample_file))
    valid = sample[sample["status"] != "invalid"]
    assert len(valid) == 265
    assert (valid["region"].isna() & valid["city"].notna()).sum() == 0  # 42 before
    assert province_of(out).tolist() == ["河北省", "重庆市", "北京市"]


# --- the fast path decides like the general path ---------------------------------------------------

# Characters that matter to normalisation (digits, signs, separators, padding, the e of scientific
# notation, what fix_unicode maps) and some that must stay "not digits" (letters, Chinese, emoji,
# a Unicode line separator the right trim removes, NUL).
_ALPHABET = (
    "0123456789" * 3
    + "+-.() \t\n\r\v\f'eE86\x1c\x1f\x00"
    + "０１２３４５６７８９＋－．（）＇\u00a0\u3000\u2003\u200b\u2014\u2212\u2018\ufeff"
    + "无a\u2028\u0085😀ｅ"
)
_PADDING = ["", " ", "\t", "'", "\u00a0", "\u3000", "\v", "\x1c", "  '", "\n", "\u2028", "＇"]


def _sci(digits: str, dot_at: int, exponent: str) -> str:
    return f"{digits[:dot_at]}.{digits[dot_at:]}E{exponent}" if dot_at else f"{digits}e{exponent}"


_decorated = st.builds(
    lambda prefix, digits, cuts, separator, suffix, left, right, wide: (
        left
        + (
            prefix
            + separator.join(digits[a:b] for a, b in zip([0, *cuts], [*cuts, len(digits)], strict=True))
            + suffix
        ).translate(str.maketrans("0123456789+-.'", "０１２３４５６７８９＋－．＇") if wide else {})
        + right
    ),
    st.sampled_from(["", "+86", "+86 ", "0086", "86", "860", "0", "+", "00", "+1 ", "(+86)", "86-0"]),
    st.text("0123456789", min_size=0, max_size=16).map(lambda d: "1" + d if d[:1] != "0" else d),
    st.lists(st.integers(1, 10), max_size=3).map(sorted),
    st.sampled_from(["", " ", "-", ".", "\u00a0", "—", "()"]),
    st.sampled_from(["", ".0", ".00", ".000", ".5", ".0.0", "0", "e0", "E+0"]),
    st.sampled_from(_PADDING),
    st.sampled_from(_PADDING),
    st.booleans(),
)
_scientific_cell = st.builds(
    lambda sign, digits, dot_at, exponent, pad: pad + sign + _sci(digits, dot_at, exponent) + pad,
    st.sampled_from(["", "+"]),
    st.text("0123456789", min_size=1, max_size=16),
    st.integers(0, 4),
    st.sampled_from(["10", "+10", "+010", "9", "+0", "11", "12", "+100000", "0000000010", "1e"]),
    st.sampled_from(["", " ", "'"]),
)
_messy_cell = st.one_of(
    st.none(), st.text(_ALPHABET, max_size=24), _decorated, _scientific_cell, st.text(max_size=6)
)


@settings(max_examples=400, deadline=None)
@given(cells=st.lists(_messy_cell, min_size=1, max_size=60))
def test_fast_path_decides_like_the_general_path(cells):
    cells = [c.replace("\ud800", "") if c else c for c in cells]  # (no lone surrogates in Arrow)
    text = pa.array(cells, pa.large_string())
    numbers, codes = np.empty(len(cells), dtype=np.int64), np.zeros(len(cells), dtype=np.int8)
    left = shape_fast(text, numbers, codes)
    general_numbers, general_codes = shape_messy(text)
    decided = np.setdiff1d(np.arange(len(cells)), left)
    assert numbers[decided].tolist() == general_numbers[decided].tolist(), cells
    assert codes[decided].tolist() == general_codes[decided].tolist(), cells
    both = shape_cells(pd.Series(cells, dtype=TEXT))
    assert both[0].tolist() == general_numbers.tolist() and both[1].tolist() == general_codes.tolist()


def test_fast_path_decides_the_usual_shapes_itself():
    # Every shape a list really holds is decided on the bytes; only what needs the general path
    # (an unmapped character, a long run of padding) goes there.
    usual = [v for v in SHAPES.values() if isinstance(v, str)] + [
        r[0] for r in REASONS.values() if isinstance(r[0], str) and r[0] != "无"
    ]
    unusual = ["无", "138 0013 8000 😀", " " * 40 + "13800138000", "1.3800138" + "0" * 40 + "E+10"]
    text = pa.array(usual + unusual, pa.large_string())
    n = len(text)
    left = shape_fast(text, np.empty(n, dtype=np.int64), np.zeros(n, dtype=np.int8))
    assert left.tolist() == list(range(len(usual), n))


def test_fast_paths_character_map_is_the_general_paths():
    characters = [chr(c) for c in range(0x80, 0x10000) if not 0xD800 <= c < 0xE000]
    mapped = fix_unicode(pa.array(characters, pa.large_string())).to_pylist()
    assert {c: m for c, m in zip(characters, mapped, strict=True) if m != c} == TO_ASCII


@settings(max_examples=100, deadline=None)
@given(values=st.lists(st.integers(10**10, 10**10 + 50), max_size=50))
def test_repeats(values):
    first = {v: values.index(v) for v in reversed(values)}
    again = [i for i, v in enumerate(values) if first[v] != i]
    expected = [again, [first[values[i]] for i in again]]
    assert [r.tolist() for r in _repeats(np.array(values, dtype=np.int64))] == expected
    wide = np.array([v * 10**8 - 2**62 for v in values], dtype=np.int64)  # (the argsort way)
    assert [r.tolist() for r in _repeats(wide)] == expected


def test_slices_and_threads_change_nothing(monkeypatch):
    # A big list is checked in slices, on threads; the answers are those of one slice.
    rng = random.Random(9)
    cells = [
        rng.choice([d(n) for d in _DECORATIONS])
        for n in sc.normalize_numbers(
            [f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}" for _ in range(300)]
        ).tolist()
    ]
    cells += ["1.3800138000E+10", "无", None, " " * 40 + "13800138000", "12", "abc"] * 5
    rng.shuffle(cells)
    df = pd.DataFrame({"手机": cells + cells[:50]})  # duplicates across slices
    whole = sc.check_numbers(df)
    monkeypatch.setattr(shapes, "_FAST_ROWS", 16)
    assert_frame_equal(sc.check_numbers(df), whole)
    numbers, codes = shape_cells(df["手机"])
    general = shape_messy(pa.array(as_text(df["手机"]).array))
    assert numbers.tolist() == general[0].tolist() and codes.tolist() == general[1].tolist()


@pytest.mark.parametrize("rows", [8, 65536])
def test_chunks_of_a_csv_are_shaped_where_they_lie(monkeypatch, rows):
    # An Arrow CSV read gives a column in chunks: they are split into slices, or small ones
    # grouped into one; every row's answer stays in its place.
    monkeypatch.setattr(shapes, "_FAST_ROWS", rows)
    cells = ["+86 138 0013 8000", "无", None, "1.3800138000E+10", " " * 30 + "13900139000", "12"] * 7
    pieces = [cells[:5], [], cells[5:17], cells[17:18], cells[18:]]
    chunked = pa.chunked_array([pa.array(p, pa.large_string()) for p in pieces], pa.large_string())
    series = pd.Series(pd.array(chunked, dtype=TEXT))
    numbers, codes = shape_cells(series)
    general = shape_messy(pa.array(cells, pa.large_string()))
    assert numbers.tolist() == general[0].tolist() and codes.tolist() == general[1].tolist()
    out = sc.check_numbers(pd.DataFrame({"手机": series}))
    assert_frame_equal(out, sc.check_numbers(pd.DataFrame({"手机": pd.Series(cells, dtype=TEXT)})))
