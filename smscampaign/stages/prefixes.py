"""Number prefixes: validity, carrier, region, city and province of Chinese mobile numbers.

Google's phonenumbers decides validity, carrier and region, asked once per 7-digit prefix into a
:class:`PrefixTable` that ships with the package (``smscampaign/data/prefixes.npz``, rebuilt when
another phonenumbers is installed); the ``phone`` package's 号段 database adds city and area code,
read once per process into a :class:`Haoduan` table of the same kind. Never once per row.

>>> is_valid_mobile(["13800138000", "10000000000", ""]).tolist()
[True, False, False]
>>> province_of(pd.Series(["广东省深圳市", None])).tolist()
['广东省', '未知']
"""

from __future__ import annotations

import importlib.util
import logging
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
import phonenumbers
from phonenumbers import PhoneNumberType

from smscampaign.core.dtypes import TEXT
from smscampaign.stages.shapes import shape_cells

__all__ = [
    "PREFIX_BASE",
    "PREFIX_COUNT",
    "PROVINCES",
    "UNKNOWN",
    "Haoduan",
    "PrefixTable",
    "haoduan",
    "is_valid_mobile",
    "prefix_table",
    "province_of",
    "region_by_prefix",
    "valid_numbers",
]

logger = logging.getLogger(__name__)

#: The 34 province-level divisions as :func:`province_of` names them: 23 provinces, 5 autonomous
#: regions, 4 municipalities, 2 special administrative regions; anything else is :data:`UNKNOWN`.
PROVINCES: Final = (
    "北京市",
    "天津市",
    "上海市",
    "重庆市",
    "河北省",
    "山西省",
    "辽宁省",
    "吉林省",
    "黑龙江省",
    "江苏省",
    "浙江省",
    "安徽省",
    "福建省",
    "江西省",
    "山东省",
    "河南省",
    "湖北省",
    "湖南省",
    "广东省",
    "海南省",
    "四川省",
    "贵州省",
    "云南省",
    "陕西省",
    "甘肃省",
    "青海省",
    "台湾省",
    "内蒙古自治区",
    "广西壮族自治区",
    "西藏自治区",
    "宁夏回族自治区",
    "新疆维吾尔自治区",
    "香港特别行政区",
    "澳门特别行政区",
)
UNKNOWN: Final = "未知"
# Each division by the name it starts with in phonenumbers (内蒙古呼和浩特市, 广西南宁市) and in the
# 号段 database (内蒙古, 广西): its first two characters, three for 黑龙江 and 内蒙古.
_PROVINCE_STEMS: Final = {p[:3] if p[:3] in ("黑龙江", "内蒙古") else p[:2]: p for p in PROVINCES}
_MOBILE_TYPES: Final = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)
# Validity of an 11-digit number is settled by its first 3 digits in phonenumbers' CN metadata, or
# 5 for a few ranges (``1740[0-5]``, ``1610\d``); _prefix_verdict probes each prefix and undecided
# ones are refined to longer prefixes, then to single numbers. tests/test_numbers.py compares the
# result with phonenumbers on every 5-digit prefix.
_PROBE_SUFFIXES: Final = ("0", "9", "5", "2")
# Every 7-digit prefix of an 11-digit number starting with 1, answered once in PrefixTable.
PREFIX_BASE: Final = 1_000_000
PREFIX_COUNT: Final = 1_000_000
_NO, _YES, _ASK = 0, 1, 2
_PREFIX_FILE: Final = Path(__file__).parent.parent / "data" / "prefixes.npz"


def _is_mobile(national: str) -> bool:
    """phonenumbers' verdict on one national number: valid in CN and of a mobile type."""
    number = phonenumbers.PhoneNumber(country_code=86, national_number=int(national))
    # +86 belongs to CN alone, and number_type is UNKNOWN for every invalid number, so this is
    # is_valid_number_for_region(number, "CN") and the type test in one pass.
    return phonenumbers.number_type(number) in _MOBILE_TYPES


@lru_cache(maxsize=65536)
def _prefix_verdict(prefix: str) -> bool | None:
    """Whether all 11-digit numbers starting with ``prefix`` are mobiles; None if it depends.

    Pure function of ``prefix`` (phonenumbers' metadata is static), hence the cache.
    """
    verdicts = {_is_mobile(prefix + fill * (11 - len(prefix))) for fill in _PROBE_SUFFIXES}
    return verdicts.pop() if len(verdicts) == 1 else None


def valid_numbers(numbers: np.ndarray, table: PrefixTable) -> np.ndarray:
    """Mobile validity of 11-digit numbers (int64 starting with 1), by the 7-digit prefix table."""
    verdict = table.valid[numbers // 10**4 - PREFIX_BASE]
    valid = verdict == _YES
    ask = np.flatnonzero(verdict == _ASK)
    if len(ask):  # ranges phonenumbers splits below 7 digits: ask per number
        logger.debug("checking %d numbers one by one", len(ask))
        valid[ask] = [_is_mobile(str(n)) for n in numbers[ask].tolist()]
    return valid


def _valid(numbers: np.ndarray) -> np.ndarray:
    """Vectorised mobile validity of 11-digit candidates (−1: False)."""
    present = numbers >= 0
    valid = np.zeros(len(numbers), dtype=bool)
    if present.any():
        valid[present] = valid_numbers(numbers[present], prefix_table())
    return valid


def is_valid_mobile(values: pd.Series | Iterable[Any]) -> pd.Series:
    """Return True where a value normalises to a mainland mobile number phonenumbers accepts.

    Agrees with ``phonenumbers`` (region CN, type MOBILE or FIXED_LINE_OR_MOBILE) on the normalised
    number; computed per number prefix. Keeps a Series' index; does not mutate the input.

    >>> is_valid_mobile(["13800138000", "10000000000", ""]).tolist()
    [True, False, False]
    """
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    numbers, _ = shape_cells(series)
    return pd.Series(_valid(numbers), index=series.index, dtype=bool)


@lru_cache(maxsize=2)
def _zh_prefix_table(kind: str) -> tuple[tuple[int, np.ndarray, np.ndarray], ...]:
    """phonenumbers' carrier or geocoding table for +861…, Chinese names, grouped by key length.

    These are the tables ``carrier.name_for_number`` and ``geocoder.description_for_number`` consult
    (longest prefix first; for "zh" there is no English fallback); reading them lets one
    vectorised pass answer hundreds of thousands of prefixes. tests/test_numbers.py checks the
    answers against those two functions. Returns ``(digits after 86, sorted keys as integers,
    names)`` per key length, longest first. Pure (the tables are static), hence the cache.
    """
    # Imported here: these modules take ~0.3 s to import, and only a table build needs them.
    if kind == "carrier":
        from phonenumbers.carrierdata import CARRIER_DATA as data  # noqa: PLC0415
    else:
        from phonenumbers.geodata import GEOCODE_DATA as data  # noqa: PLC0415
    by_length: dict[int, dict[int, str]] = {}
    for key, names in data.items():
        if key.startswith("861") and "zh" in names and len(key) <= 9:
            by_length.setdefault(len(key) - 2, {})[int(key[2:])] = names["zh"]
    tables = []
    for digits, table in sorted(by_length.items(), reverse=True):
        keys = np.array(sorted(table), dtype=np.int64)
        tables.append((digits, keys, np.array([table[k] for k in keys.tolist()], dtype=object)))
    return tuple(tables)


def _lookup(prefix7: np.ndarray, kind: str) -> np.ndarray:
    """Longest-prefix lookup of 7-digit prefixes (integers) in a phonenumbers table (None: none)."""
    result = np.full(len(prefix7), None, dtype=object)
    missing = np.ones(len(prefix7), dtype=bool)
    for digits, keys, names in _zh_prefix_table(kind):
        query = prefix7[missing] // 10 ** (7 - digits)
        pos = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
        hit = keys[pos] == query
        rows = np.flatnonzero(missing)[hit]
        result[rows] = names[pos[hit]]
        missing[rows] = False
    return result


@dataclass(frozen=True)
class PrefixTable:
    """phonenumbers' answers for every 7-digit prefix ``1000000…1999999`` (index = prefix − 10⁶).

    ``valid``: :data:`_NO` / :data:`_YES` / :data:`_ASK` (the range splits below 7 digits: ask
    phonenumbers per number); ``carrier`` and ``region``: codes into ``carriers`` / ``regions``, −1
    where phonenumbers has no name. One array lookup per row replaces per-prefix queries.
    """

    version: str
    valid: np.ndarray
    carrier: np.ndarray
    carriers: tuple[str, ...]
    region: np.ndarray
    regions: tuple[str, ...]


def _build_prefix_table() -> PrefixTable:
    """Ask phonenumbers (its metadata, carrier and geocoder tables) about every 7-digit prefix."""
    valid = np.full(PREFIX_COUNT, _ASK, dtype=np.uint8)

    def settle(prefix: str) -> None:  # 3 digits, refined to 5 then 7 where the range splits
        verdict = _prefix_verdict(prefix)
        width = 10 ** (7 - len(prefix))
        lo = int(prefix) * width - PREFIX_BASE
        if verdict is not None:
            valid[lo : lo + width] = _YES if verdict else _NO
        elif len(prefix) < 7:
            for tail in range(100):
                settle(f"{prefix}{tail:02d}")

    for first3 in range(100, 200):
        settle(str(first3))
    found = {}
    for kind in ("carrier", "region"):
        codes = np.full(PREFIX_COUNT, -1, dtype=np.int16)
        names: dict[str, int] = {}
        for digits, keys, labels in reversed(_zh_prefix_table(kind)):  # shortest first: longest wins
            label_codes = np.array([names.setdefault(n, len(names)) for n in labels], dtype=np.int16)
            span = 10 ** (7 - digits)
            starts = keys * span - PREFIX_BASE
            index = (starts[:, None] + np.arange(span)).ravel()
            keep = (index >= 0) & (index < PREFIX_COUNT)
            codes[index[keep]] = np.repeat(label_codes, span)[keep]
        found[kind] = (codes, tuple(names))
    return PrefixTable(phonenumbers.__version__, valid, *found["carrier"], *found["region"])


def _write_prefix_table(path: Path = _PREFIX_FILE) -> None:
    """Write :func:`_build_prefix_table` for the installed phonenumbers to ``path`` (ships with
    the package: a fresh process then needs neither phonenumbers' carrier nor geocoder modules)."""
    table = _build_prefix_table()
    np.savez_compressed(
        path,
        version=np.array(table.version),
        valid=table.valid,
        carrier=table.carrier,
        carriers=np.array(table.carriers),
        region=table.region,
        regions=np.array(table.regions),
    )


@lru_cache(maxsize=1)
def prefix_table() -> PrefixTable:
    """The shipped table when it was built from the installed phonenumbers, else built now.

    Pure (phonenumbers' data is static for a version), hence the cache; the answers are the same
    either way, only the time differs (~0.05 s loaded, ~1 s built).
    """
    try:
        with np.load(_PREFIX_FILE, allow_pickle=False) as data:
            if str(data["version"]) == phonenumbers.__version__:
                return PrefixTable(
                    str(data["version"]),
                    data["valid"],
                    data["carrier"],
                    tuple(data["carriers"].tolist()),
                    data["region"],
                    tuple(data["regions"].tolist()),
                )
            logger.info(
                "prefix table is for phonenumbers %s, %s is installed: building it",
                data["version"],
                phonenumbers.__version__,
            )
    except (OSError, KeyError, ValueError) as exc:
        logger.info("no usable prefix table (%s): building it", exc)
    return _build_prefix_table()


@dataclass(frozen=True)
class Haoduan:
    """The ``phone`` package's 号段 database per 7-digit prefix: ``record`` (−1: not listed)
    indexes ``provinces``, ``cities`` and ``area_codes`` (as the database writes them: 广东, 深圳,
    0755). Fills the places phonenumbers' geocoder lacks (many 16x/19x ranges)."""

    version: str
    record: np.ndarray
    provinces: tuple[str, ...]
    cities: tuple[str, ...]
    area_codes: tuple[str, ...]


_EMPTY_HAODUAN: Final = Haoduan("", np.full(PREFIX_COUNT, -1, dtype=np.int16), (), (), ())


@lru_cache(maxsize=1)
def haoduan() -> Haoduan:
    """Read the ``phone`` package's ``phone.dat`` once, all of it, with numpy (no per-number
    lookups). Its layout, from the package's own reader: a 4-byte version, an int32 offset of the
    index; then ``省|市|邮编|区号`` records ending in NUL; then 9-byte index entries (int32 7-digit
    prefix, int32 record offset, a carrier-type byte), sorted by prefix. Pure (the file is static).
    """
    spec = importlib.util.find_spec("phone")
    if spec is None or spec.origin is None:
        logger.warning("the phone package is not installed: no city or area code")
        return _EMPTY_HAODUAN
    raw = Path(spec.origin).with_name("phone.dat").read_bytes()
    version, index_at = struct.unpack_from("<4si", raw)
    entries = (len(raw) - index_at) // 9
    index = np.frombuffer(raw, dtype=np.uint8, offset=index_at, count=entries * 9).reshape(entries, 9)
    # (the int32 fields copied out of the 9-byte entries: whole-array work on aligned arrays)
    prefix = index[:, 0:4].copy().view("<i4")[:, 0].astype(np.int64) - PREFIX_BASE
    offset = index[:, 4:8].copy().view("<i4")[:, 0].astype(np.int64)
    texts = raw[8:index_at].split(b"\0")
    starts = np.cumsum([8] + [len(t) + 1 for t in texts[:-1]])
    fields = [t.decode("utf-8").split("|") for t in texts]
    usable = (starts <= index_at) & np.array([len(f) == 4 for f in fields])
    at_start = np.full(index_at + 1, -1, dtype=np.int64)  # a record's number by its offset
    at_start[starts[usable]] = np.flatnonzero(usable)
    record = at_start[np.clip(offset, 0, index_at)]
    known = (
        (record >= 0) & (offset >= 0) & (offset <= index_at) & (prefix >= 0) & (prefix < PREFIX_COUNT)
    )
    table = np.full(PREFIX_COUNT, -1, dtype=np.int16)
    table[prefix[known]] = record[known]
    columns = [tuple(f[i] if len(f) == 4 else "" for f in fields) for i in (0, 1, 3)]
    return Haoduan(version.decode("ascii", "replace"), table, *columns)


@lru_cache(maxsize=1)
def region_by_prefix() -> tuple[np.ndarray, tuple[str, ...]]:
    """Per 7-digit prefix, a code (−1: none) into place names: phonenumbers' region, else the 号段
    database's city — named as phonenumbers names that city where both know a prefix of it (唐山:
    河北省唐山市), else its province as phonenumbers writes provinces and the city as the database
    does (广西贵港, 湖北省仙桃). Fills the ranges phonenumbers' geocoder lacks (many 16x/19x).
    Pure, hence the cache; whole-array steps over :func:`prefix_table` and :func:`haoduan`.

    >>> codes, names = region_by_prefix()
    >>> names[codes[1991234 - PREFIX_BASE]], names[codes[1661234 - PREFIX_BASE]]
    ('河北省唐山市', '重庆市')
    """
    table, places = prefix_table(), haoduan()
    listed = places.record >= 0
    missing = np.flatnonzero(listed & (table.region < 0))  # (small temporaries: 1M prefixes)
    if not len(missing):
        return table.region, table.regions
    # The region phonenumbers gives most of the prefixes each database record shares with it.
    both = np.flatnonzero(listed & (table.region >= 0))
    del listed
    width = len(table.regions)
    shared = places.record[both].astype(np.int64) * width + table.region[both]
    del both
    pairs, counts = np.unique(shared, return_counts=True)
    del shared
    order = np.lexsort((-counts, pairs // width))  # by record, most prefixes first
    pairs = pairs[order]
    first = np.ones(len(pairs), dtype=bool)
    first[1:] = pairs[1:] // width != pairs[:-1] // width
    voted = np.full(len(places.provinces), -1, dtype=np.int64)
    voted[pairs[first] // width] = pairs[first] % width
    names = list(table.regions)
    index = {name: i for i, name in enumerate(names)}
    per_record = np.full(len(places.provinces), -1, dtype=np.int16)
    records = places.record[missing]
    for r in np.unique(records).tolist():
        province, city = places.provinces[r], places.cities[r]
        if voted[r] >= 0 and city and city in names[voted[r]]:
            per_record[r] = voted[r]  # (where the two disagree on the city, the database's stays)
            continue
        name = _place_name(province, city)
        if name:
            per_record[r] = index.setdefault(name, len(names))
            if per_record[r] == len(names):
                names.append(name)
    codes = table.region.copy()  # int16, as the table's: a few hundred names
    codes[missing] = per_record[records]
    return codes, tuple(names)


def _place_name(province: str, city: str) -> str:
    """The province as phonenumbers writes it (河北省, 重庆市, but 广西, 内蒙古) and the city as
    the 号段 database does: ``广西``, ``贵港`` → ``广西贵港``; "" without a known province."""
    full = _province_name(province)
    if full == UNKNOWN:
        return ""
    head = full if full.endswith(("省", "市")) else province
    return head if not city or head.startswith(city) else f"{head}{city}"


def _province_name(text: str | None) -> str:
    """The province-level division a place name starts with, or :data:`UNKNOWN`."""
    if text:
        for stem in (text[:3], text[:2]):
            if stem in _PROVINCE_STEMS:
                return _PROVINCE_STEMS[stem]
    return UNKNOWN


def province_of(values: pd.Series | pd.DataFrame) -> pd.Series:
    """Each row's province-level division: one of the 34 :data:`PROVINCES`, else ``"未知"``.

    ``values`` is a Series of place names (phonenumbers' ``region`` such as 内蒙古兴安盟 or
    广东省深圳市, or a bare 广西, 香港), or a frame from :func:`check_numbers` (or a plan or results
    built from one): its ``region`` decides, and where phonenumbers has none the 号段 database's
    province for ``mobile`` does. Keeps the index; does not mutate the input.

    >>> province_of(pd.Series(["内蒙古兴安盟", "广西南宁市", "北京市", "香港", None])).tolist()
    ['内蒙古自治区', '广西壮族自治区', '北京市', '香港特别行政区', '未知']
    """
    if isinstance(values, pd.DataFrame):
        region = values["region"] if "region" in values.columns else pd.Series(pd.NA, index=values.index)
        out = province_of(region)
        if "mobile" in values.columns:
            missing = (out == UNKNOWN).to_numpy() & values["mobile"].notna().to_numpy()
            mobiles = values["mobile"].to_numpy(dtype=object)[missing]
            digits = np.array([str(m).isdigit() and len(str(m)) == 11 for m in mobiles], dtype=bool)
            if digits.any():
                data = haoduan()
                prefix = np.array(mobiles[digits].tolist(), dtype=np.int64) // 10**4 - PREFIX_BASE
                record = data.record[np.clip(prefix, 0, PREFIX_COUNT - 1)]
                record = np.where((prefix >= 0) & (prefix < PREFIX_COUNT), record, -1)
                names = [
                    _province_name(data.provinces[r]) if r >= 0 else UNKNOWN for r in record.tolist()
                ]
                filled = out.to_numpy(dtype=object)
                rows = np.flatnonzero(missing)[digits]
                filled[rows] = names
                out = pd.Series(filled, index=values.index, dtype=TEXT)
        return out
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    names = [_province_name(u if isinstance(u, str) else None) for u in uniques]
    labels = np.array([*names, UNKNOWN], dtype=object)
    return pd.Series(labels[codes], index=values.index, dtype=TEXT)
