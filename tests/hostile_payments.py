"""Format-true payment files and the damaged copies real offices make of them.

Each format writes the same real payments (``PAYMENTS``) the way its channel exports them;
``cases()`` yields every damaged copy with what a reconcile of it may do.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

#: the real payments: unit, amount, day, time, payer, memo, WeChat ref, Alipay ref, bank serial
PAYMENTS = [
    ("1-1-1001", "400.00", "2026-11-15", "10:23:45", "张三", "1-1-1001物业费",
     "1000050001202611150123456789012", "2026111522001412345678901234", "20261115000123"),
    ("1-1-1002", "200.00", "2026-11-16", "09:00:00", "李四", "1-1-1002 十一月",
     "4200001234202611164567891234", "2026111622001412345678901235", "20261116000456"),
    ("2-1-502", "1234.56", "2026-11-18", "08:00:00", "王五", "2-1-502物业费",
     "1000050001202611180987654321098", "2026111822001412345678901236", "20261118000789"),
]  # fmt: skip
OUTGOING = ("2026-11-17", "12:00:00", "美团外卖", "午餐", "35.00")


def expected() -> list[tuple[str, int, str]]:
    """(unit, fen, day) of each real payment."""
    return sorted((u, int(a.replace(".", "")), d) for u, a, d, *_ in PAYMENTS)


@dataclass
class Table:
    """A statement as text: lines above the header, header, rows, lines below."""

    above: list[str]
    header: list[str]
    rows: list[list[str]]
    below: list[str] = field(default_factory=list)
    encoding: str = "utf-8-sig"
    newline: str = "\n"
    profile: str | None = None

    def text(self) -> str:
        lines = [*self.above, ",".join(self.header), *(",".join(r) for r in self.rows)]
        return self.newline.join([*lines, *self.below]) + self.newline

    def data(self) -> bytes:
        return self.text().encode(self.encoding)


def wechat() -> Table:
    """The personal WeChat Pay bill: preamble, ¥ amounts, tab-padded numbers, 收/支."""
    above = [
        "微信支付账单明细,,,,,,,,,,",
        "微信昵称：[翠湖物业收费],,,,,,,,,,",
        "起始时间：[2026-11-01 00:00:00] 终止时间：[2026-11-30 23:59:59],,,,,,,,,,",
        "导出时间：[2026-12-01 09:12:33],,,,,,,,,,",
        f"共{len(PAYMENTS) + 1}笔记录,,,,,,,,,,",
        ",,,,,,,,,,",
        "----------------------微信支付账单明细列表--------------------,,,,,,,,,,",
    ]
    header = "交易时间,交易类型,交易对方,商品,收/支,金额(元),支付方式,当前状态,交易单号,商户单号,备注"
    rows = []
    for _, amount, day, clock, who, memo, ref, _, _ in PAYMENTS:
        rows.append([f"{day} {clock}", "转账", who, f'"{memo}"', "收入", f"¥{amount}", "/",
                     "已存入零钱", f"{ref}\t", "/\t", "/"])  # fmt: skip
    day, clock, who, memo, amount = OUTGOING
    rows.insert(2, [f"{day} {clock}", "商户消费", who, memo, "支出", f"¥{amount}", "零钱",
                    "支付成功", "4200001111202611170000000001\t", "/\t", "/"])  # fmt: skip
    return Table(above, header.split(","), rows)


def alipay() -> Table:
    """The old Alipay personal export: GBK, space-padded columns, trailing commas, CRLF."""
    above = [
        "支付宝交易记录明细查询",
        "账号:[cuihu_wuye@163.com]",
        "起始日期:[2026-11-01 00:00:00]    终止日期:[2026-12-01 00:00:00]",
        "---------------------------------交易记录明细列表------------------------------------",
    ]
    header = ["交易号              ", "商家订单号      ", "交易创建时间        ", "付款时间     ",
              "类型         ", "交易对方      ", "商品名称          ", "金额（元）   ", "收/支   ",
              "交易状态    ", "服务费（元）   ", "成功退款（元）  ", "备注         ", "资金状态  ", ""]  # fmt: skip
    rows = []
    for _, amount, day, clock, who, memo, _, ref, _ in PAYMENTS:
        rows.append([f"{ref}\t", "            ", f"{day} {clock} ", f"{day} {clock} ",
                     "即时到账交易   ", f"{who:<12}", f"{memo:<16}", f"{amount:<8}", "收入  ",
                     "交易成功  ", "0.00     ", "0.00     ", "                ", "已收入   ", ""])  # fmt: skip
    below = [
        "------------------------------------------------------------------------------------",
        f"共{len(rows)}笔记录",
        "导出时间:[2026-12-01 09:00:00]    用户:翠湖物业",
    ]
    return Table(above, header, rows, below, encoding="gbk", newline="\r\n")


def bank_serial() -> Table:
    """A bank CSV with serial numbers, the credit column last (so a cut amount keeps every
    field)."""
    above = ["账户明细查询", "账号：6224000012345678,,,,,"]
    header = ["交易日期", "交易流水号", "对方户名", "摘要", "借方发生额", "贷方发生额"]
    rows = [[day, serial, who, memo, "", amount]
            for _, amount, day, _, who, memo, _, _, serial in PAYMENTS]  # fmt: skip
    rows.insert(1, ["2026-11-17", "20261117000999", "兰州电力", "电费", "3500.00", ""])
    return Table(above, header, rows, ["合计,,,,3500.00,1834.56"], profile="bank")


def cmb() -> Table:
    """China Merchants Bank: no serial; 交易金额 signed, 联机余额, 对手信息, 客户摘要."""
    above = ["招商银行交易流水", "账号：[6214830212345678]", "币种：人民币", ""]
    header = ["记账日期", "交易时间", "交易金额", "货币", "联机余额", "交易摘要", "对手信息", "客户摘要"]
    rows, balance = [], 100000
    for _, amount, day, clock, who, memo, *_ in PAYMENTS:
        balance += int(amount.replace(".", ""))
        rows.append([day, clock, amount, "人民币", _money(balance), "转账汇入", who, memo])
    return Table(above, header, rows, profile="bank")


def icbc() -> Table:
    """ICBC: no serial; 记账金额(收入) / 记账金额(支出); a 人民币合计 line at the end."""
    above = ["中国工商银行 账户历史明细", "账号: 0200001234567890123", ""]
    header = ["交易日期", "摘要", "记账金额(收入)", "记账金额(支出)", "余额", "对方户名", "对方账号"]
    rows, balance = [], 1000000
    for _, amount, day, _, who, memo, *_ in PAYMENTS:
        if day > "2026-11-17" and len(rows) == 2:
            balance -= 3500_00
            rows.append(["2026-11-17", "电费", "", "3500.00", _money(balance), "兰州电力", "62220"])
        balance += int(amount.replace(".", ""))
        rows.append([day, memo, amount, "", _money(balance), who, "6222020200012345678"])
    return Table(above, header, rows, ["人民币合计,,1834.56,3500.00,,,"], profile="bank")


def _money(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


FORMATS = {"wechat": wechat, "alipay": alipay, "bank": bank_serial, "cmb": cmb, "icbc": icbc}
REF_COLUMN = {"wechat": 8, "alipay": 0, "bank": 1}
DATE_COLUMN = {"wechat": 0, "alipay": 2, "bank": 0, "cmb": 0, "icbc": 0}


@dataclass
class Case:
    """A damaged copy: its bytes, the profile to read it with, and when it must be refused
    the line the message names (``refuse`` None: it may be read, never wrongly)."""

    name: str
    fmt: str
    data: bytes
    profile: str | None
    refuse: int | None = None  # the file line the refusal must name
    header_error: str | None = None  # a refusal of the whole file naming this
    cut_line: int | None = None  # the line a truncation cut: a refusal must name it


def good(fmt: str) -> bytes:
    return FORMATS[fmt]().data()


def _line_of(table: Table, row: int) -> int:
    """The file line (1-based) of a data row."""
    return len(table.above) + 2 + row


def truncations(fmt: str) -> list[Case]:
    """The file cut at every byte of its last transaction line (what follows it lost), and
    cut just before it."""
    table = FORMATS[fmt]()
    last = ",".join(table.rows[-1]).encode(table.encoding.removesuffix("-sig"))
    table.below = []
    before = table.data()[: -len(last) - len(table.newline)]
    line = _line_of(table, len(table.rows) - 1)
    return [
        Case(f"{fmt}-cut-{cut:03d}", fmt, before + last[:cut], table.profile, cut_line=line)
        for cut in range(len(last) + 1)
    ]


def _mutated(fmt: str, name: str, change, **kw) -> Case:
    table = FORMATS[fmt]()
    change(table)
    return Case(f"{fmt}-{name}", fmt, table.data(), table.profile, **kw)


def excel_resaves(fmt: str) -> list[Case]:
    """What Excel writes back: numbers for refs, its own dates, GBK, ￥, thousands commas."""
    cases = []
    ref = REF_COLUMN.get(fmt)
    if ref is not None:
        for label, mangle in (
            ("sci", lambda r: f"{int(r[0])}.{r[1:5]}E+{len(r) - 1}"),
            ("float", lambda r: r[:15] + "0" * (len(r) - 15)),
            ("sci-lower", lambda r: f"{r[0]}.{r[1:6]}e+{len(r) - 1}"),
        ):

            def change(t, mangle=mangle, ref=ref):
                for row in t.rows:
                    row[ref] = mangle(row[ref].strip())

            cases.append(_mutated(fmt, f"excel-ref-{label}", change))
    date = DATE_COLUMN[fmt]

    def slashes(t):
        for row in t.rows:
            day = row[date].strip()
            y, m, d = day[:10].split("-")
            row[date] = f"{y}/{int(m)}/{int(d)}" + (day[10:16] if len(day) > 10 else "")

    def gbk(t):  # Excel's 中文 CSV: GBK, where ¥ becomes the full-width ￥
        t.encoding = "gbk"
        t.rows = [[c.replace("¥", "￥") for c in r] for r in t.rows]

    def yen(t):
        for row in t.rows:
            for i, cell in enumerate(row):
                row[i] = cell.replace("¥", "￥")
                if i and _is_money(cell) and fmt != "alipay":
                    row[i] = "￥" + cell

    def commas(t):
        for row in t.rows:
            for i, cell in enumerate(row):
                if _is_money(cell) and float(cell) >= 1000:
                    row[i] = f'"{float(cell):,.2f}"'

    def crlf_bom(t):
        t.newline = "\r\n" if t.newline == "\n" else "\n"
        t.encoding = "utf-8-sig" if t.encoding != "utf-8-sig" else "utf-8"

    for label, change in (
        ("dates", slashes), ("gbk", gbk), ("yen", yen), ("commas", commas),
        ("newlines", crlf_bom),
    ):  # fmt: skip
        cases.append(_mutated(fmt, f"excel-{label}", change))
    return cases


def _is_money(cell: str) -> bool:
    text = cell.strip()
    return text.replace(".", "", 1).isdigit() and "." in text and len(text) < 12


def duplicates(fmt: str) -> list[Case]:
    """A line copied twice (a hand-merged statement) and the whole file pasted twice."""

    def twice(t):
        t.rows.insert(1, list(t.rows[0]))

    def pasted(t):
        t.rows = t.rows + [list(r) for r in t.rows]

    return [_mutated(fmt, "dup-line", twice), _mutated(fmt, "dup-file", pasted)]


def shuffles(fmt: str) -> list[Case]:
    """The columns in another order (a re-export with a saved layout)."""
    cases = []
    for seed in (1, 2):

        def change(t, seed=seed):
            order = list(range(len(t.header)))
            random.Random(seed).shuffle(order)
            t.header = [t.header[i] for i in order]
            t.rows = [[r[i] for i in order] for r in t.rows]
            t.above = [a.rstrip(",") for a in t.above]

        cases.append(_mutated(fmt, f"shuffled-{seed}", change))
    return cases


def footers(fmt: str) -> list[Case]:
    """Summary lines a person or a bank adds under the lines: 合计, 人民币合计, 共 N 笔."""
    cases = []
    for label, line in (("heji", "合计,,,9999.99,,"), ("rmb", "人民币合计,,,1834.56,,"),
                        ("count", "共 4 笔,,,,,"), ("page", "本页合计,,,1834.56,,")):  # fmt: skip

        def change(t, line=line):
            t.below = [line, *t.below]

        cases.append(_mutated(fmt, f"footer-{label}", change))
    return cases


def absurd(fmt: str) -> list[Case]:
    """Lines no channel ever sends: a phone number as the amount, a date in 1900 or 9999,
    three decimals. The line is never recorded (review or a refusal naming it)."""
    table = FORMATS[fmt]()
    line = _line_of(table, 0)
    amount = {"wechat": 5, "alipay": 7, "bank": 5, "cmb": 2, "icbc": 2}[fmt]
    date = DATE_COLUMN[fmt]
    cases = []
    for label, column, value, refused in (
        ("phone-amount", amount, "13912345678.00", False),
        ("date-1900", date, "1900-01-01 10:00:00" if fmt in ("wechat", "alipay") else "1900-01-01", True),
        ("date-9999", date, "9999-12-31 10:00:00" if fmt in ("wechat", "alipay") else "9999-12-31", True),
        ("three-decimals", amount, "400.005", True),
    ):  # fmt: skip

        def change(t, column=column, value=value):
            t.rows[0][column] = ("¥" if fmt == "wechat" and column == amount else "") + value

        cases.append(_mutated(fmt, f"absurd-{label}", change, refuse=line if refused else None))
    return cases


def cases() -> list[Case]:
    found = []
    for fmt in FORMATS:
        found += truncations(fmt)
        found += excel_resaves(fmt)
        found += duplicates(fmt)
        found += shuffles(fmt)
        found += footers(fmt)
        found += absurd(fmt)
    return found


def write(case: Case, folder: Path) -> Path:
    path = folder / f"{case.name}.csv"
    path.write_bytes(case.data)
    return path
