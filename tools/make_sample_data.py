"""Generate propfee/sample_data/: the demo estate 翠湖花园 (about 200 units in three buildings,
homes, shops, offices, parking spaces and storage rooms) with the messy cells real exports
have. Deterministic: running it again writes the same data.

    python tools/make_sample_data.py
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

OUT = Path(__file__).resolve().parent.parent / "sample_data"

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国建华志强海燕红梅玉兰淑珍文博子轩浩然欣怡思远雨桐梓涵宇航佳怡俊杰晓东春花秋菊冬梅国庆卫东"
COMPANIES = [
    "兰州金城餐饮管理有限公司",
    "甘肃陇原商贸有限责任公司",
    "兰州市城关区便民超市",
    "甘肃丝路文化传媒有限公司",
    "兰州百合口腔诊所",
    "兰州黄河律师事务所",
    "甘肃绿洲教育咨询有限公司",
    "中国农业银行兰州翠湖支行",
    "兰州拉面馆（翠湖店）",
    "甘肃飞天健身服务有限公司",
    "兰州晨光文具店",
    "甘肃星河网络科技有限公司",
]
AREA_CODES = ["620102", "620103", "620104", "620105", "620111", "620121"]
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(rng: random.Random) -> str:
    born = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 50))
    body = f"{rng.choice(AREA_CODES)}{born:%Y%m%d}{rng.randrange(0, 1000):03d}"
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True)) % 11]
    return body + check


def person(rng: random.Random) -> str:
    given = rng.choice(GIVEN) if rng.random() < 0.3 else rng.choice(GIVEN) + rng.choice(GIVEN)
    return rng.choice(SURNAMES) + given


def mobile(rng: random.Random) -> int:
    return int(
        rng.choice(["138", "139", "150", "151", "158", "177", "181", "189", "199"])
        + f"{rng.randrange(0, 10**8):08d}"
    )


def main() -> None:
    rng = random.Random(20261101)
    wb = Workbook()
    ws = wb.active
    ws.title = "业主信息"
    headers = [
        "序号",
        "楼号",
        "单元",
        "房间",
        "房屋类型",
        "建筑面积(㎡)",
        "套内面积",
        "业主姓名",
        "联系电话",
        "身份证号",
        "交付日期",
        "租户",
        "租户电话",
        "缴费方",
        "备注",
    ]
    ws.append(["翠湖花园业主信息表（2026年11月）"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.append(["导出时间：2026-11-01  制表：客服部"])
    ws.append(headers)
    for cell in ws[3]:
        cell.font = Font(bold=True)
    ws.cell(
        row=3, column=len(headers) + 2, value="说明：面积以房产证为准；缴费方为空时由业主缴费。"
    )

    rows: list[list[object]] = []
    owners_by_name: dict[str, tuple[int, str]] = {}

    def add(
        building,
        entrance,
        room,
        kind,
        area,
        inner,
        delivered,
        owner="",
        phone=None,
        idn="",
        tenant="",
        tenant_phone=None,
        payer="",
        notes="",
    ):
        rows.append(
            [
                None,
                building,
                entrance,
                room,
                kind,
                area,
                inner,
                owner,
                phone,
                idn,
                delivered,
                tenant,
                tenant_phone,
                payer,
                notes,
            ]
        )

    # Buildings 1 and 2: homes, 2 entrances x 15 floors x 2 rooms.
    layouts = {1: (89.37, 71.2), 2: (120.0, 98.65)}
    for building in (1, 2):
        for entrance in (1, 2):
            for floor in range(1, 16):
                for side in (1, 2):
                    room = floor * 100 + side
                    gross, inner = (
                        layouts[side]
                        if building == 1
                        else ((105.5, 86.1) if side == 1 else (143.28, 118.4))
                    )
                    delivered = date(2020, 6, 10) + timedelta(days=rng.randrange(0, 400))
                    if rng.random() < 0.02:
                        add(
                            building,
                            entrance,
                            float(room),
                            "住宅",
                            gross,
                            inner,
                            None,
                            owner="未售",
                            notes="开发商持有",
                        )
                        continue
                    name = person(rng)
                    phone: object = mobile(rng)
                    if rng.random() < 0.08:
                        phone = f"{phone}/{mobile(rng)}"
                    idn = id_number(rng) if rng.random() < 0.7 else ""
                    if rng.random() < 0.05:
                        name = f"{name}、{person(rng)}"
                    owners_by_name[name] = (phone, idn)
                    tenant = tenant_phone = payer = ""
                    if rng.random() < 0.07:
                        tenant, tenant_phone = person(rng), mobile(rng)
                        payer = "租户" if rng.random() < 0.5 else "业主"
                    add(
                        building,
                        entrance,
                        float(room) if rng.random() < 0.5 else str(room),
                        "住宅",
                        gross,
                        inner,
                        delivered,
                        name,
                        phone,
                        idn,
                        tenant,
                        tenant_phone,
                        payer,
                    )
    # Building 3: shops on the ground floor, offices above.
    for number in range(1, 11):
        delivered = date(2021, 3, 1) + timedelta(days=rng.randrange(0, 200))
        owner = rng.choice(COMPANIES[:4]) if rng.random() < 0.4 else person(rng)
        tenant = rng.choice(COMPANIES[4:]) if rng.random() < 0.7 else ""
        add(
            "3栋",
            "",
            f"1{number:02d}",
            "商铺",
            round(rng.uniform(45, 180), 2),
            None,
            delivered,
            owner,
            mobile(rng),
            "",
            tenant,
            mobile(rng) if tenant else None,
            "租户" if tenant else "",
        )
    for floor in range(2, 6):
        for number in range(1, 6):
            delivered = date(2021, 3, 1) + timedelta(days=rng.randrange(0, 200))
            owner = rng.choice(COMPANIES) if rng.random() < 0.5 else person(rng)
            add(
                "3栋",
                "",
                f"{floor}{number:02d}",
                "写字楼",
                round(rng.uniform(60, 220), 2),
                None,
                delivered,
                owner,
                mobile(rng) if rng.random() < 0.8 else "0931-8" + f"{rng.randrange(0, 10**6):06d}",
            )
    # Parking spaces and storage rooms, many held by home owners.
    home_owners = list(owners_by_name.items())
    for number in range(1, 46):
        delivered = date(2020, 9, 1) + timedelta(days=rng.randrange(0, 300))
        if rng.random() < 0.1:
            add("P", "", f"{number:03d}", "车位", None, None, None, "未售")
            continue
        name, (phone, idn) = rng.choice(home_owners)
        add("P", "", f"{number:03d}", "车位", None, None, delivered, name, phone, idn)
    for number in range(1, 11):
        name, (phone, idn) = rng.choice(home_owners)
        add(
            "1号楼",
            "1单元",
            f"B{number:02d}",
            "储藏室",
            round(rng.uniform(6, 15), 2),
            None,
            date(2020, 8, 1),
            name,
            phone,
            idn,
        )

    # The messy cells of real exports.
    rows[3][7] = f"  {rows[3][7]} "  # stray spaces around a name
    rows[5][3] = str(int(float(rows[5][3]))).translate(
        str.maketrans("0123456789", "０１２３４５６７８９")
    )
    rows[8][10] = rows[8][10].strftime("%Y/%m/%d") if rows[8][10] else None
    rows[9][10] = (
        f"{rows[9][10].year}年{rows[9][10].month}月{rows[9][10].day}日" if rows[9][10] else None
    )
    rows[10][10] = (
        f"{rows[10][10].year}-{rows[10][10].month}-{rows[10][10].day}" if rows[10][10] else None
    )
    rows[12][8] = str(rows[12][8]) + ".0" if isinstance(rows[12][8], int) else rows[12][8]
    rows[14][1] = "1栋"

    for index, row in enumerate(rows):
        if index == 40:
            ws.append([])  # a blank row in the middle
        row[0] = index + 1
        ws.append(row)
        r = ws.max_row
        if isinstance(row[10], date):
            ws.cell(row=r, column=11).number_format = "yyyy-mm-dd"
    ws.cell(row=ws.max_row - 3, column=len(headers) + 2, value="（车位面积不计）")
    ws.append([])
    ws.append(["合计", None, None, None, None, None, None, f"{len(rows)}户"])
    widths = (6, 6, 6, 8, 10, 12, 10, 22, 26, 22, 12, 24, 14, 8, 12)
    for letter, width in zip("ABCDEFGHIJKLMNO", widths, strict=True):
        ws.column_dimensions[letter].width = width
    OUT.mkdir(parents=True, exist_ok=True)
    wb.save(OUT / "roster.xlsx")
    print(f"wrote {OUT / 'roster.xlsx'}: {len(rows)} units")
    make_survey()


QUESTIONS = {  # question -> how it tends to score against a respondent's mood
    "服务态度": 0.3,
    "服务效率": -0.1,
    "保洁": 0.0,
    "安保": 0.1,
    "绿化": 0.2,
    "维修": -0.4,
    "收费透明": -0.3,
    "总体满意度": 0.0,
}
PRAISE = [
    "管家服务热情，很满意",
    "保洁阿姨很负责，楼道很干净",
    "保安巡逻认真，感觉很安全",
    "绿化比去年好多了",
    "维修师傅上门及时",
    "物业服务整体不错，继续保持",
]
GRIPES = [
    "电梯经常坏，维修不及时",
    "地下车库照明太暗，停车位不够",
    "楼道垃圾清理不及时",
    "物业费收支不公示，收费不透明",
    "外来人员随便进出，门禁形同虚设",
    "夜间装修噪音没人管",
    "报修后好几天没人来，维修太慢",
    "小区里狗太多，宠物粪便没人管",
    "快递堆在门口，没人管理",
    "电梯维修不及时，老人上下楼不方便",
]
WORDS = {5: "非常满意", 4: "满意", 3: "一般", 2: "不满意", 1: "非常不满意"}


def make_survey() -> None:
    """survey_2026.xlsx: the 2026 questionnaire, one pre-filled row per home (some never came
    back), a few anonymous answers, a few answered in words, the 问卷星-style numbering."""
    rng = random.Random(20261110)
    codes = [
        f"{building}-{entrance}-{floor}{room:02d}"
        for building in (1, 2)
        for entrance in (1, 2)
        for floor in range(1, 16)
        for room in (1, 2)
    ]
    wb = Workbook()
    ws = wb.active
    ws.title = "汇总"
    ws.append(["翠湖花园2026年度业主满意度调查问卷汇总（5分制：5非常满意 … 1非常不满意）"])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append(
        ["序号", "房号"]
        + [f"{i}、{q}" for i, q in enumerate(QUESTIONS, start=1)]
        + ["您是否愿意向亲友推荐本物业（0-10分）", "意见建议", "填写日期"]
    )
    ws.cell(2, 11).value = "推荐意愿（0-10分）"
    for cell in ws[2]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True)
    number = 0
    people = [(code, True) for code in codes] + [("", False)] * 5
    for code, named in people:
        number += 1
        returned = not named or rng.random() < 0.7
        if not returned:
            ws.append([number, code])
            continue
        mood = min(5.0, max(1.2, rng.gauss(3.9, 0.75)))
        scores = []
        for offset in QUESTIONS.values():
            if rng.random() < 0.04:
                scores.append(None)  # not answered
                continue
            score = min(5, max(1, round(mood + offset + rng.gauss(0, 0.6))))
            scores.append(WORDS[score] if rng.random() < 0.03 else score)
        recommend = (
            None
            if rng.random() < 0.1
            else min(10, max(0, round(mood * 2.2 - 1 + rng.gauss(0, 1.2))))
        )
        comment = ""
        if mood < 3.4 and rng.random() < 0.8:
            comment = rng.choice(GRIPES)
        elif mood >= 4.3 and rng.random() < 0.4:
            comment = rng.choice(PRAISE)
        elif rng.random() < 0.25:
            comment = rng.choice(GRIPES + PRAISE)
        day = date(2026, 11, 1) + timedelta(days=rng.randrange(0, 10))
        ws.append([number, code if named else None, *scores, recommend, comment, day])
        ws.cell(ws.max_row, 13).number_format = "yyyy-mm-dd"
    for letter, width in zip(
        "ABCDEFGHIJKLM", (6, 10, 8, 8, 8, 8, 8, 8, 8, 10, 12, 36, 12), strict=True
    ):
        ws.column_dimensions[letter].width = width
    wb.save(OUT / "survey_2026.xlsx")
    print(f"wrote {OUT / 'survey_2026.xlsx'}: {number} rows")


if __name__ == "__main__":
    main()
