"""propfee today: the day's work on one screen."""

from __future__ import annotations

import typer

from propfee.cli.common import (
    AsOfOpt,
    Col,
    ConfigOpt,
    DbOpt,
    Format,
    FormatOpt,
    emit,
    open_env,
    parse_day,
    write_json,
)
from propfee.core.money import decimal_str, format_money
from propfee.insight import today as work


def register(app: typer.Typer) -> None:
    app.command("today")(today)


def today(
    as_of: AsOfOpt = None,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """今日工作（默认今天；--as-of 指定日期）：今日实收分渠道、到期的缴费承诺、待登记送达的催缴通知书、
    电话催缴、超时或临近时限的投诉报修、待回访、90天内届满的诉讼时效、到期的分期、生日与关怀名单。
    每行给出处理它的命令。

    Example: propfee today --as-of 2026-11-15 --format json
    """
    env = open_env(db, config)
    day = parse_day(as_of)
    found = work.today(env.connect(create=False), as_of=day, settings=env.settings)
    if fmt is Format.json:
        write_json(
            {
                "as_of": found.as_of,
                "lines": [
                    {
                        "key": line.key,
                        "label": line.label,
                        "count": line.count,
                        "amount": None if line.amount_fen is None else decimal_str(line.amount_fen),
                        "command": line.command,
                    }
                    for line in found.lines
                ],
            }
        )
        return
    emit(
        env,
        [
            {
                "label": line.label,
                "count": line.count,
                "amount": "" if line.amount_fen is None else format_money(line.amount_fen),
                "command": line.command,
            }
            for line in found.lines
        ],
        (
            Col("label", "事项"),
            Col("count", "数量", "right"),
            Col("amount", "金额", "right"),
            Col("command", "处理命令"),
        ),
        fmt,
        title=f"今日工作（{found.as_of}）",
    )
