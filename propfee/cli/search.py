"""Search: one command over owners, units, complaints, contacts and notes."""

from __future__ import annotations

from typing import Annotated

import typer

from propfee.cli.common import (
    Col,
    ConfigOpt,
    DbOpt,
    Format,
    FormatOpt,
    emit,
    open_env,
    record_unmasked,
    write_json,
)
from propfee.insight import search as core


def register(app: typer.Typer) -> None:
    app.command("search")(search)


def search(
    text: Annotated[
        str,
        typer.Argument(metavar="TEXT", help="要找的字词、姓名、房号或电话尾号（多个词须都出现）。"),
    ],
    kind: Annotated[
        list[str] | None,
        typer.Option(
            "--kind",
            metavar="owner|unit|complaint|contact|note",
            help="只找这一类（可重复）：owner 业主、unit 房屋、complaint 投诉报修、"
            "contact 联系记录、note 备注。默认全部。",
        ),
    ] = None,
    limit: Annotated[int, typer.Option(metavar="N", help="最多显示几条（1–1000）。")] = 50,
    no_mask: Annotated[
        bool,
        typer.Option("--no-mask", help="电话、证件号完整显示；此操作连同操作人记入审计日志。"),
    ] = False,
    operator: Annotated[
        str, typer.Option(metavar="NAME", help="操作人，记入审计日志（--no-mask 时）。")
    ] = "",
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """搜索业主、房屋、投诉报修（含处理记录）、联系记录和备注。

    三个字以上的词走全文索引（“漏水严重”可在“卫生间漏水严重”中找到，电话尾号“1234”找到业主）；
    一两个字的词（“王”“漏水”）逐行比对。每条结果给出类别、房号、日期、含匹配内容的摘要和查看它的命令。
    电话、证件号默认打码。

    Example: propfee search 漏水 --kind complaint
    """
    env = open_env(db, config)
    conn = env.connect(create=False)
    found = core.search(conn, text, kinds=kind, limit=limit, mask=not no_mask)
    if no_mask:
        record_unmasked(conn, "search", "-", len(found.hits))
    rows = [_hit_json(h) for h in found.hits]
    if fmt is Format.json:
        write_json(
            {"query": found.text, "method": found.method, "more": found.more, "results": rows}
        )
        return
    emit(
        env,
        rows,
        [
            Col("label", "类别"),
            Col("unit", "房号"),
            Col("date", "日期"),
            Col("snippet", "摘要"),
            Col("command", "查看"),
        ],
        fmt,
        title=f"搜索“{found.text}”：{len(rows)} 条",
    )
    if found.more:
        env.warn(f"结果多于 {limit} 条，只显示前 {limit} 条：用 --kind 或更具体的词缩小范围")
    if not rows:
        env.info(f"没有找到“{found.text}”")


def _hit_json(hit: core.Hit) -> dict:
    return {
        "kind": hit.kind,
        "label": hit.label,
        "unit": hit.unit,
        "date": hit.day,
        "snippet": hit.snippet,
        "command": hit.command,
        "ref": hit.ref,
    }
