"""Statement files shaped exactly like what WeChat Pay, Alipay and banks export."""

from pathlib import Path

WECHAT_PREAMBLE = [
    "微信支付账单明细,,,,,,,,,,",
    "微信昵称：[翠湖物业收费],,,,,,,,,,",
    "起始时间：[2026-11-01 00:00:00] 终止时间：[2026-11-30 23:59:59],,,,,,,,,,",
    "导出类型：[全部],,,,,,,,,,",
    "导出时间：[2026-12-01 09:12:33],,,,,,,,,,",
    ",,,,,,,,,,",
    "共{n}笔记录,,,,,,,,,,",
    "收入：{n}笔 0.00元,,,,,,,,,,",
    "支出：0笔 0.00元,,,,,,,,,,",
    "中性交易：0笔 0.00元,,,,,,,,,,",
    "注：,,,,,,,,,,",
    "1. 充值/提现/理财通购买/零钱通存取/信用卡还款等交易，将计入中性交易,,,,,,,,,,",
    "2. 本明细仅展示当前账单中的交易，不包括已删除的记录,,,,,,,,,,",
    "3. 本明细仅供个人对账使用,,,,,,,,,,",
    ",,,,,,,,,,",
    "----------------------微信支付账单明细列表--------------------,,,,,,,,,,",
    "交易时间,交易类型,交易对方,商品,收/支,金额(元),支付方式,当前状态,交易单号,商户单号,备注",
]


def wechat_bill(path: Path, lines: list[tuple]) -> Path:
    """lines: (time, counterparty, goods, direction, amount, status, ref, note)."""
    out = [row.replace("{n}", str(len(lines))) for row in WECHAT_PREAMBLE]
    for time, who, goods, direction, amount, status, ref, note in lines:
        out.append(
            f'{time},转账,{who},"{goods}",{direction},¥{amount},/,{status},'
            f"{ref}\t,/\t,{note or '/'}"
        )
    path.write_text("\ufeff" + "\n".join(out) + "\n", encoding="utf-8")
    return path


def alipay_old(path: Path, lines: list[tuple]) -> Path:
    """The GBK personal export: preamble, space-padded columns, trailing commas.
    lines: (ref, time, counterparty, goods, amount, direction, status, note)."""
    out = [
        "支付宝交易记录明细查询",
        "账号:[cuihu_wuye@163.com]",
        "起始日期:[2026-11-01 00:00:00]    终止日期:[2026-12-01 00:00:00]",
        "---------------------------------交易记录明细列表------------------------------------",
        "交易号                  ,商家订单号               ,交易创建时间              ,付款时间                "
        ",最近修改时间              ,交易来源地     ,类型              ,交易对方            ,商品名称                "
        ",金额（元）   ,收/支     ,交易状态    ,服务费（元）   ,成功退款（元）  ,备注                  ,资金状态     ,",
    ]
    for ref, time, who, goods, amount, direction, status, note in lines:
        out.append(
            f"{ref}\t,                        ,{time} ,{time} ,{time} ,其他（包括阿里巴巴和外部商家）"
            f",即时到账交易          ,{who:<16},{goods:<20},{amount:<8},{direction:<6},"
            f"{status:<8},0.00     ,0.00     ,{note:<20},已收入      ,"
        )
    out += [
        "------------------------------------------------------------------------------------",
        f"共{len(lines)}笔记录",
        "已收入:0笔,0.00元",
        "待收入:0笔,0.00元",
        "导出时间:[2026-12-01 09:00:00]    用户:翠湖物业",
    ]
    path.write_bytes(("\r\n".join(out) + "\r\n").encode("gbk"))
    return path


def wechat_merchant(path: Path, lines: list[tuple]) -> Path:
    """The merchant platform (商户平台) export: values prefixed with a backtick.
    lines: (time, transaction id, status, amount, goods, attach)."""
    out = [
        "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,"
        "付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,"
        "退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注"
    ]
    for time, ref, status, amount, goods, attach in lines:
        out.append(
            f"`{time},`wx1234567890abcdef,`1600000001,`0,`,`{ref},`PF{ref[-8:]},"
            f"`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`JSAPI,`{status},`CMB_DEBIT,`CNY,`{amount},`0.00,"
            f"`0,`0,`0.00,`0.00,`,`,`{goods},`{attach},`0.00,`0.60%,`{amount},`0.00,`"
        )
    out += [
        "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额",
        f"`{len(lines)},`0.00,`0.00,`0.00,`0.00,`0.00,`0.00",
    ]
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


def bank_xlsx(path: Path, lines: list[tuple]) -> Path:
    """A bank's account detail: title rows, 借方/贷方 columns, thousands separators.
    lines: (date, credit, debit, counterparty, memo, serial)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["兰州银行 账户交易明细"])
    ws.append(["账号：6224000012345678", None, "户名：兰州翠湖物业服务有限公司"])
    ws.append(
        [
            "交易日期",
            "摘要",
            "借方发生额",
            "贷方发生额",
            "余额",
            "对方户名",
            "对方账号",
            "交易流水号",
        ]
    )
    balance = 100000
    for day, credit, debit, who, memo, serial in lines:
        ws.append([day, memo, debit, credit, f"{balance:,.2f}", who, "6222020200012345678", serial])
    ws.append(["合计", None, None, None])
    wb.save(path)
    return path
