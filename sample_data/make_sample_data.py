"""Regenerate recipients.xlsx, recipients.csv (UTF-8 with BOM) and recipients_gbk.csv (GBK), and
orders.csv (notebook 05: did it sell?).

A few hundred customers with Chinese headers and numbers in every messy shape real exports have:
numeric cells, ``+86``/``0086``/``86`` prefixes, spaces and dashes, full-width digits, a leading
apostrophe, ``.0`` floats, scientific notation, duplicates and a few invalid rows. The workbook's
first sheet is a note, not a list. Deterministic: ``python sample_data/make_sample_data.py``
(``… orders`` writes orders.csv only).

orders.csv holds the orders of the 20,000 members of notebook 05 (:func:`members`) after its A/B
campaign, sent 2026-04-06 10:00 Beijing time with ``holdout=0.2, seed=ORDERS_SEED``, generated with
a **known effect**: within 14 days of the send, 5 % of the hold-out orders, 8 % of arm A (+3.0
points) and 6.5 % of arm B (+1.5 points); amounts lognormal (median ≈ ¥200), one buyer in ten
orders twice. Around them, orders the attribution must leave out: before the send, after the
window, and by people who are not members. The member id is the key (会员号); the number is there
too, in the mixed shapes real exports have.
"""

from __future__ import annotations

import csv
import random
import sys
from datetime import datetime, timedelta
from pathlib import Path

import openpyxl

HERE = Path(__file__).parent
HEADER = ["客户编号", "姓名", "手机号码", "城市", "会员等级", "备注"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"
CITIES = ["北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "南京", "西安", "重庆"]
LEVELS = ["普通", "银卡", "金卡", "钻石"]
SEGMENTS = ["138", "139", "135", "137", "150", "186", "130", "133", "189", "177", "199", "192"]
FULL = str.maketrans("0123456789", "０１２３４５６７８９")


def messy(number: str, rng: random.Random) -> str | int | float:
    """One number in the shape a real export might hold it."""
    shape = rng.choices(
        ["int", "text", "spaces", "dashes", "+86", "0086", "86", "full", "apostrophe", "float"],
        weights=[30, 25, 8, 8, 8, 4, 3, 4, 5, 5],
    )[0]
    return {
        "int": int(number),
        "text": number,
        "spaces": f"{number[:3]} {number[3:7]} {number[7:]}",
        "dashes": f"{number[:3]}-{number[3:7]}-{number[7:]}",
        "+86": f"+86 {number}",
        "0086": f"0086{number}",
        "86": f"86{number}",
        "full": number.translate(FULL),
        "apostrophe": f"'{number}",
        "float": float(number),
    }[shape]


def rows(count: int = 300, seed: int = 20240501) -> list[list[object]]:
    rng = random.Random(seed)
    out: list[list[object]] = []
    numbers: list[str] = []
    for i in range(count):
        number = rng.choice(SEGMENTS) + f"{rng.randrange(10**8):08d}"
        if numbers and rng.random() < 0.06:  # the same person again, typed differently
            number = rng.choice(numbers)
        numbers.append(number)
        phone: object = messy(number, rng)
        note = ""
        if i % 37 == 5:
            phone, note = "", "电话待补"
        elif i % 41 == 7:
            phone, note = number[:10], "少一位"
        elif i % 53 == 11:
            phone, note = f"{number[:3]}{number[3:]}"[:3] + "0013800", "号码不全"
        elif i % 59 == 13:
            phone, note = "1.38001E+10", "科学计数法"
        elif i % 61 == 17:
            phone, note = "010-62345678", "座机"
        elif i % 67 == 19:
            phone, note = "10012345678", ""
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice([1, 2])))
        out.append([f"C{10001 + i}", name, phone, rng.choice(CITIES), rng.choice(LEVELS), note])
    return out


#: Notebook 05's campaign: its seed, hold-out, send time (Beijing) and the true order rates per arm.
ORDERS_SEED = "did-it-sell-2026"
ORDERS_HOLDOUT = 0.2
ORDERS_SENT = datetime(2026, 4, 6, 10, 0)
ORDER_RATES = {"holdout": 0.05, "A": 0.08, "B": 0.065}


def members(count: int = 20_000) -> list[tuple[str, str]]:
    """(会员号, 手机号码) of notebook 05's members: the same formula there (no file needed)."""
    return [(f"M{i:06d}", f"139{(i * 7919 + 12345) % 10**8:08d}") for i in range(1, count + 1)]


def orders(seed: int = 20260406) -> list[list[object]]:
    """The rows of orders.csv (see the module docstring)."""
    from smscampaign.campaign.variants import assign_variants  # the campaign's own split

    rng = random.Random(seed)
    people = members()
    arms = assign_variants([m for _, m in people], ["A", "B"], holdout=ORDERS_HOLDOUT, seed=ORDERS_SEED)
    out: list[list[object]] = []

    def order(member: str, mobile: str, at: datetime) -> None:
        amount = round(rng.lognormvariate(5.3, 0.8), 2)
        out.append(
            [
                f"D{len(out) + 100001}",
                member,
                messy(mobile, rng),
                at.strftime("%Y-%m-%d %H:%M:%S"),
                amount,
            ]
        )

    for (member, mobile), arm in zip(people, arms, strict=True):
        if rng.random() < ORDER_RATES[arm]:
            first = ORDERS_SENT + timedelta(days=rng.uniform(0.01, 13.9))
            order(member, mobile, first)
            if rng.random() < 0.1:
                order(member, mobile, first + timedelta(hours=rng.uniform(1, 24)))
        if rng.random() < 0.04:  # before the send: no campaign's
            order(member, mobile, ORDERS_SENT - timedelta(days=rng.uniform(0.1, 12)))
        if rng.random() < 0.03:  # after the 14-day window
            order(member, mobile, ORDERS_SENT + timedelta(days=rng.uniform(14.1, 24)))
    for i in range(300):  # not members: never texted, never held out
        mobile = f"137{rng.randrange(10**8):08d}"
        order(f"X{i:05d}", mobile, ORDERS_SENT + timedelta(days=rng.uniform(0, 20)))
    out.sort(key=lambda row: str(row[3]))
    return out


def write_orders() -> None:
    with open(HERE / "orders.csv", "w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows([["订单号", "会员号", "手机号码", "下单时间", "金额"], *orders()])


def main() -> None:
    write_orders()
    if sys.argv[1:] == ["orders"]:
        return
    data = rows()
    wb = openpyxl.Workbook()
    notes = wb.active
    notes.title = "说明"
    for line in (["客户短信名单（2024年五一活动）"], ["导出人：市场部"], ["名单见下一页"]):
        notes.append(line)
    sheet = wb.create_sheet("客户名单")
    sheet.append(HEADER)
    for row in data:
        sheet.append(row)
    wb.save(HERE / "recipients.xlsx")
    text = [[("" if v is None else str(v)) for v in row] for row in data]
    with open(HERE / "recipients.csv", "w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows([HEADER, *text])
    with open(HERE / "recipients_gbk.csv", "w", encoding="gbk", newline="") as f:
        csv.writer(f).writerows([HEADER, *text])


if __name__ == "__main__":
    main()
