"""Regenerate recipients.xlsx, recipients.csv (UTF-8 with BOM) and recipients_gbk.csv (GBK).

A few hundred customers with Chinese headers and numbers in every messy shape real exports have:
numeric cells, ``+86``/``0086``/``86`` prefixes, spaces and dashes, full-width digits, a leading
apostrophe, ``.0`` floats, scientific notation, duplicates and a few invalid rows. The workbook's
first sheet is a note, not a list. Deterministic: ``python sample_data/make_sample_data.py``.
"""

from __future__ import annotations

import csv
import random
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


def main() -> None:
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
