"""Fee standards: propfee init | fees add | set-price | list | show | publish | end | remove."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from propfee.billing import fees, setup
from propfee.cli.common import (
    AsOfOpt,
    Col,
    ConfigOpt,
    DbOpt,
    Format,
    FormatOpt,
    QuietOpt,
    emit,
    now,
    open_env,
    parse_day,
    safe_markup,
    write_json,
)
from propfee.core.periods import CYCLE_LABELS
from propfee.roster.units import kind_label
from propfee.store.db import transaction

fees_app = typer.Typer(
    help="Fee standards (收费标准): items, prices, publication.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.add_typer(fees_app, name="fees")


def init(db: DbOpt = None, config: ConfigOpt = None, quiet: QuietOpt = False) -> None:
    """新建（或打开）数据库，并列出新小区的设置顺序。

    重复运行不会改动已有数据。

    Example: propfee init --db 翠湖花园.db
    """
    env = open_env(db, config, quiet)
    conn = env.connect()
    with transaction(conn):
        pass  # the file exists and is migrated: nothing else to write
    env.result(f"数据库：{env.db_path}")
    for line in setup.SETUP_STEPS:
        env.result(line)


@fees_app.command("add")
def fees_add(
    code: Annotated[str, typer.Argument(help="A short code, e.g. PROP, PARK, WATER.")],
    name: Annotated[str, typer.Option(help="The name owners see, e.g. 物业服务费.")],
    basis: Annotated[str, typer.Option(help="area | fixed | metered | one_off")],
    price: Annotated[
        str,
        typer.Option(
            help="Monthly price: 元/㎡·月 for area, 元/月 for fixed, "
            "元 per unit of use for metered."
        ),
    ],
    kinds: Annotated[
        list[str],
        typer.Option(
            help="Kinds of unit it applies to: residential,commercial,office,parking,storage "
            "(or 住宅,商铺 …)."
        ),
    ],
    effective_from: Annotated[
        str, typer.Option("--from", metavar="YYYY-MM-DD", help="The first day the price applies.")
    ],
    cycle: Annotated[str, typer.Option(help="monthly | quarterly | yearly")] = "monthly",
    due_day: Annotated[int, typer.Option(help="Due on this day of the cycle's first month.")] = 15,
    buildings: Annotated[list[str] | None, typer.Option(help="Only these buildings.")] = None,
    units: Annotated[list[str] | None, typer.Option(help="Only these units (codes).")] = None,
    meter: Annotated[
        str, typer.Option(help="For metered items: water, electricity, gas, heat.")
    ] = "",
    unit_label: Annotated[
        str, typer.Option(help="How the price reads, e.g. 元/个·月, 元/吨.")
    ] = "",
    price_type: Annotated[str, typer.Option(help="政府指导价 or 市场调节价.")] = "市场调节价",
    services: Annotated[
        str, typer.Option(help="What the fee pays for (shown in the notice).")
    ] = "",
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Add a fee item with its first price (publish it before billing).

    Example: propfee fees add PROP --name 物业服务费 --basis area --price 2.50 --kinds residential --cycle monthly --from 2026-01-01
    """
    env = open_env(db, config, quiet)
    conn = env.connect()
    with transaction(conn):
        item = fees.add_item(
            conn,
            code=code,
            name=name,
            basis=basis,
            price=price,
            kinds=fees.option_list(kinds),
            cycle=cycle,
            effective_from=parse_day(effective_from, option="--from"),
            now=now(),
            due_day=due_day,
            buildings=fees.option_list(buildings),
            units=fees.option_list(units),
            meter=meter,
            unit_label=unit_label,
            price_type=price_type,
            services=services,
        )
        first = len(fees.load_items(conn)) == 1
    env.result(
        f"added {item.code} {item.name}: ¥{item.prices[0].text} {item.unit_label} from "
        f"{item.prices[0].effective_from} (not yet published: propfee fees publish)"
    )
    if first:  # the first fee item of an estate: say what comes next
        for line in setup.SETUP_STEPS:
            env.info(line)


@fees_app.command("set-price")
def fees_set_price(
    code: Annotated[str, typer.Argument(help="The fee item's code.")],
    price: Annotated[str, typer.Option(help="The new monthly price.")],
    effective_from: Annotated[
        str,
        typer.Option("--from", metavar="YYYY-MM-DD", help="The first day the new price applies."),
    ],
    instead_of: Annotated[
        str | None,
        typer.Option(
            metavar="YYYY-MM-DD",
            help="Put off the price from this day (published, not billed yet) to --from.",
        ),
    ] = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Set a new price from a date; bills already made keep their price.

    Publish the change at least a month before it takes effect (propfee fees publish).

    Example: propfee fees set-price PROP --price 2.80 --from 2027-01-01
    """
    env = open_env(db, config, quiet)
    conn = env.connect()
    with transaction(conn):
        item, new = fees.set_price(
            conn,
            code,
            price=price,
            effective_from=parse_day(effective_from, option="--from"),
            now=now(),
            instead_of=parse_day(instead_of, option="--instead-of") if instead_of else None,
        )
    state = (
        f"published on {new.published_on}"
        if new.published_on
        else "not yet published: propfee fees publish"
    )
    env.result(
        f"{item.code} {item.name}: ¥{new.text} {item.unit_label} from "
        f"{new.effective_from} ({state})"
    )


@fees_app.command("list")
def fees_list(
    as_of: AsOfOpt = None,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """List fee items with the price in effect and any coming change.

    Example: propfee fees list --format json
    """
    env = open_env(db, config)
    day = parse_day(as_of)
    rows = [fees.item_summary(item, day) for item in fees.load_items(env.connect(create=False))]
    if fmt is not Format.json:  # a table and CSV show the Chinese labels
        for row in rows:
            row["basis"] = fees.BASES[row["basis"]]
            row["cycle"] = CYCLE_LABELS[row["cycle"]]
            row["kinds"] = "、".join(kind_label(k) for k in row["kinds"].split(","))
            row["price"] = f"{row['price']} {row['unit_label']}" if row["price"] else "—"
            row["published_on"] = row["published_on"] or "未公示"
            row["next_price"] = (
                f"{row['next_price']} ({row['next_from']}起)" if row["next_price"] else ""
            )
            row["ends_on"] = f"{row['ends_on']}后停止" if row["ends_on"] else ""
    emit(
        env,
        rows,
        (
            Col("code", "代码"),
            Col("name", "收费项目"),
            Col("basis", "计费方式"),
            Col("cycle", "周期"),
            Col("kinds", "适用"),
            Col("price", "现行标准", "right"),
            Col("published_on", "公示日期"),
            Col("next_price", "调整"),
            Col("ends_on", "停止收费"),
        ),
        fmt,
    )


@fees_app.command("show")
def fees_show(
    code: Annotated[str, typer.Argument(help="The fee item's code.")],
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Show one fee item and its whole price history with publication dates.

    Example: propfee fees show PROP
    """
    env = open_env(db, config)
    item = fees.get_item(env.connect(create=False), code)
    history = fees.price_rows(item)
    if fmt is Format.json:
        write_json(
            {**fees.item_summary(item, item.prices[-1].effective_from), "prices": history}
        )
        return
    if fmt is Format.table:
        _print_item_head(env, item)
    for row in history:
        later = "（补录）" if row["recorded_later"] else ""
        row["published_on"] = (row["published_on"] or "未公示") + later
    emit(
        env,
        history,
        (
            Col("price", "标准", "right"),
            Col("unit_label", "单位"),
            Col("from", "执行日期"),
            Col("published_on", "公示日期"),
        ),
        fmt,
        title="价格记录",
    )


def _print_item_head(env, item) -> None:
    env.out.print(
        f"[bold]{safe_markup(item.code)} {safe_markup(item.name)}[/bold]  "
        f"{fees.BASES[item.basis]}，{CYCLE_LABELS[item.cycle]}，每期首月{item.due_day}日前缴纳"
    )
    env.out.print(
        f"适用：{'、'.join(kind_label(k) for k in item.kinds)}（{safe_markup(fees.scope_text(item))}）  "
        f"价格形式：{safe_markup(item.price_type)}"
        + (f"  表计：{safe_markup(item.meter)}" if item.meter else "")
    )
    if item.services:
        env.out.print(f"服务内容：{safe_markup(item.services, newlines=True)}")
    if item.ends_on:
        env.out.print(f"停止收费：{item.ends_on} 之后不再开票", markup=False)


@fees_app.command("publish")
def fees_publish(
    out: Annotated[Path, typer.Option(help="Folder for the notice (HTML and text).")] = Path("."),
    language: Annotated[str, typer.Option(help="zh or en.")] = "zh",
    recorded_later: Annotated[
        bool,
        typer.Option(
            "--recorded-later",
            help="Record a publication posted before propfee was in use (补录), "
            "with --published-on and --evidence.",
        ),
    ] = False,
    published_on: Annotated[
        str | None,
        typer.Option(metavar="YYYY-MM-DD", help="The day it was posted (for --recorded-later)."),
    ] = None,
    evidence: Annotated[
        str,
        typer.Option(help="A notice number or photo file name (for --recorded-later)."),
    ] = "",
    as_of: AsOfOpt = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Publish the fee standard (明码标价): write the notice and record its date.

    The notice lists the company, each item's services, rate, billing basis, cycle, the
    billing start rule, price type and the 12358 price-complaint line. Every price it shows
    is recorded as published today, the day the command runs (never another day); only
    published prices are billed, and a change of price no earlier than one month after it.
    A publication posted before propfee was in use is recorded with --recorded-later, its
    day and its evidence, and is marked 补录 wherever it is printed.

    Example: propfee fees publish --out 公示
    Example: propfee fees publish --recorded-later --published-on 2025-12-20 --evidence "公示照片 IMG_0231.jpg"
    """
    env = open_env(db, config, quiet)
    clock = now()
    day = fees.publication_day(
        today=clock.date(),
        as_of=parse_day(as_of) if as_of else None,
        recorded_later=recorded_later,
        published_on=parse_day(published_on, option="--published-on") if published_on else None,
    )
    conn = env.connect()
    with transaction(conn):
        publication = fees.publish(
            conn,
            as_of=day,
            now=clock,
            settings=env.settings,
            out_dir=out,
            language=language,
            recorded_later=recorded_later,
            evidence=evidence,
        )
    for warning in publication.warnings:
        env.warn(warning)
    later = "（补录）" if recorded_later else ""
    env.result(
        f"published on {publication.published_on}{later}: {publication.prices} new price(s); "
        f"notice in {publication.html_path} and {publication.text_path}"
    )


@fees_app.command("end")
def fees_end(
    code: Annotated[str, typer.Argument(help="收费项目代码。")],
    to: Annotated[
        str,
        typer.Option("--to", metavar="YYYY-MM-DD", help="最后一个收费日；此后不再开票。"),
    ],
    reason: Annotated[str, typer.Option(help="停止收费的原因。")] = "",
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """停止一个收费项目：--to 之后不再开票，已有账单和价格记录全部保留。

    --to 之后已有账单（且未冲减为零）时拒绝，并列出这些账单。再次运行同一日期不会重复记录；
    换一个日期则以新的为准。

    Example: propfee fees end PARK --to 2026-12-31 --reason "车位改由业委会管理"
    """
    env = open_env(db, config, quiet)
    day = parse_day(to, option="--to")
    conn = env.connect()
    with transaction(conn):
        change = setup.end_item(conn, code, to=day, reason=reason, now=now())
    state = "已记录" if change.changed else "此前已记录，未改动"
    env.result(f"{change.code} {change.name}：{change.ends_on} 之后停止收费（{state}）")


@fees_app.command("remove")
def fees_remove(
    code: Annotated[str, typer.Argument(help="收费项目代码。")],
    reason: Annotated[str, typer.Option(help="删除的原因，例如“录入错误”。")] = "",
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """删除加错的收费项目：仅限从未开票、从未公示的项目。

    删除作为一条记录保留（操作日志可查），代码可以重新添加。开过票或公示过的项目不能删除，
    改用 propfee fees end CODE --to YYYY-MM-DD 停止收费。

    Example: propfee fees remove PARK --reason "录入错误"
    """
    env = open_env(db, config, quiet)
    conn = env.connect()
    with transaction(conn):
        change = setup.remove_item(conn, code, reason=reason, now=now())
    state = "已删除" if change.changed else "此前已删除，未改动"
    env.result(f"{change.code} {change.name}：{state}")
