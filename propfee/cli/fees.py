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
from propfee.core.i18n import _
from propfee.core.periods import CYCLE_LABELS
from propfee.roster.units import kind_label
from propfee.store.db import transaction

fees_app = typer.Typer(
    help=_("Fee standards: items, prices, publication."),
    short_help=_("Fee standards: items, prices, publication."),
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.command(
        "init",
        help=_("Create (or open) the database and list the order a new estate is set up in.")
        + "\n\n"
        + _("Running it again changes nothing that is there.")
        + "\n\n"
        + _("Example: propfee init --db estate.db"),
        short_help=_("Create the database and show the setup steps."),
    )(init)
    app.add_typer(fees_app, name="fees")


def init(db: DbOpt = None, config: ConfigOpt = None, quiet: QuietOpt = False) -> None:
    """Create or open the database; print the setup steps."""
    env = open_env(db, config, quiet)
    conn = env.connect()
    with transaction(conn):
        pass  # the file exists and is migrated: nothing else to write
    env.result(_("Database: {path}").format(path=env.db_path))
    for line in setup.SETUP_STEPS:
        env.result(_(line))


@fees_app.command(
    "add",
    help=_("Add a fee item with its first price (publish it before billing).")
    + "\n\n"
    + _(
        "Example: propfee fees add PROP --name 物业服务费 --basis area --price 2.50 "
        "--kinds residential --cycle monthly --from 2026-01-01"
    ),
    short_help=_("Add a fee item with its first price."),
)
def fees_add(
    code: Annotated[str, typer.Argument(help=_("A short code, e.g. PROP, PARK, WATER."))],
    name: Annotated[str, typer.Option(help=_("The name owners see, e.g. 物业服务费."))],
    basis: Annotated[
        str, typer.Option(help=_("How it is billed: area | fixed | metered | one_off."))
    ],
    price: Annotated[
        str,
        typer.Option(
            help=_(
                "Monthly price: 元/㎡·月 for area, 元/月 for fixed, 元 per unit of use for metered."
            )
        ),
    ],
    kinds: Annotated[
        list[str],
        typer.Option(
            help=_(
                "Kinds of unit it applies to: residential,commercial,office,parking,storage "
                "(or 住宅,商铺 …)."
            )
        ),
    ],
    effective_from: Annotated[
        str,
        typer.Option("--from", metavar="YYYY-MM-DD", help=_("The first day the price applies.")),
    ],
    cycle: Annotated[
        str, typer.Option(help=_("Billing cycle: monthly | quarterly | yearly."))
    ] = "monthly",
    due_day: Annotated[
        int, typer.Option(help=_("Due on this day of the cycle's first month."))
    ] = 15,
    buildings: Annotated[list[str] | None, typer.Option(help=_("Only these buildings."))] = None,
    units: Annotated[list[str] | None, typer.Option(help=_("Only these units (codes)."))] = None,
    meter: Annotated[
        str, typer.Option(help=_("For metered items: water, electricity, gas, heat."))
    ] = "",
    unit_label: Annotated[
        str, typer.Option(help=_("How the price reads, e.g. 元/个·月, 元/吨."))
    ] = "",
    price_type: Annotated[
        str, typer.Option(help=_("Price type: 政府指导价 or 市场调节价."))
    ] = "市场调节价",
    services: Annotated[
        str, typer.Option(help=_("What the fee pays for (shown in the notice)."))
    ] = "",
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Add a fee item with its first price."""
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
        _(
            "added {code} {name}: {price} {unit} from {day} "
            "(not yet published: propfee fees publish)"
        ).format(
            code=item.code,
            name=item.name,
            price=item.prices[0].text,
            unit=item.unit_label,
            day=item.prices[0].effective_from,
        )
    )
    if first:  # the first fee item of an estate: say what comes next
        for line in setup.SETUP_STEPS:
            env.info(_(line))


@fees_app.command(
    "set-price",
    help=_("Set a new price from a date; bills already made keep their price.")
    + "\n\n"
    + _("Publish the change at least a month before it takes effect (propfee fees publish).")
    + "\n\n"
    + _("Example: propfee fees set-price PROP --price 2.80 --from 2027-01-01"),
    short_help=_("Set a new price from a date."),
)
def fees_set_price(
    code: Annotated[str, typer.Argument(help=_("The fee item's code."))],
    price: Annotated[str, typer.Option(help=_("The new monthly price."))],
    effective_from: Annotated[
        str,
        typer.Option(
            "--from", metavar="YYYY-MM-DD", help=_("The first day the new price applies.")
        ),
    ],
    instead_of: Annotated[
        str | None,
        typer.Option(
            metavar="YYYY-MM-DD",
            help=_("Put off the price from this day (published, not billed yet) to --from."),
        ),
    ] = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Set a new price from a date."""
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
        _("published on {day}").format(day=new.published_on)
        if new.published_on
        else _("not yet published: propfee fees publish")
    )
    env.result(
        _("{code} {name}: {price} {unit} from {day} ({state})").format(
            code=item.code,
            name=item.name,
            price=new.text,
            unit=item.unit_label,
            day=new.effective_from,
            state=state,
        )
    )


@fees_app.command(
    "list",
    help=_("List fee items with the price in effect and any coming change.")
    + "\n\n"
    + _("Example: propfee fees list --format json"),
    short_help=_("List fee items and their prices."),
)
def fees_list(
    as_of: AsOfOpt = None,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """List fee items."""
    env = open_env(db, config)
    day = parse_day(as_of)
    rows = [fees.item_summary(item, day) for item in fees.load_items(env.connect(create=False))]
    if fmt is not Format.json:  # a table and CSV show the labels in the reader's language
        for row in rows:
            row["basis"] = _(fees.BASES[row["basis"]])
            row["cycle"] = _(CYCLE_LABELS[row["cycle"]])
            row["kinds"] = _(", ").join(kind_label(k) for k in row["kinds"].split(","))
            row["price"] = f"{row['price']} {row['unit_label']}" if row["price"] else "—"
            row["published_on"] = row["published_on"] or _("not published")
            row["next_price"] = (
                _("{price} (from {day})").format(price=row["next_price"], day=row["next_from"])
                if row["next_price"]
                else ""
            )
            row["ends_on"] = (
                _("stops after {day}").format(day=row["ends_on"]) if row["ends_on"] else ""
            )
    emit(
        env,
        rows,
        (
            Col("code", _("Code")),
            Col("name", _("Fee item")),
            Col("basis", _("Basis")),
            Col("cycle", _("Cycle")),
            Col("kinds", _("Applies to")),
            Col("price", _("Current price"), "right"),
            Col("published_on", _("Published")),
            Col("next_price", _("Change")),
            Col("ends_on", _("Billing stops")),
        ),
        fmt,
        as_of=day,
    )


@fees_app.command(
    "show",
    help=_("Show one fee item and its whole price history with publication dates.")
    + "\n\n"
    + _("Example: propfee fees show PROP"),
    short_help=_("Show a fee item and its price history."),
)
def fees_show(
    code: Annotated[str, typer.Argument(help=_("The fee item's code."))],
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Show one fee item."""
    env = open_env(db, config)
    item = fees.get_item(env.connect(create=False), code)
    history = fees.price_rows(item)
    if fmt is Format.json:
        write_json({**fees.item_summary(item, item.prices[-1].effective_from), "prices": history})
        return
    if fmt is Format.table:
        _print_item_head(env, item)
    for row in history:
        later = _(" (recorded later)") if row["recorded_later"] else ""
        row["published_on"] = (row["published_on"] or _("not published")) + later
    emit(
        env,
        history,
        (
            Col("price", _("Price"), "right"),
            Col("unit_label", _("Price unit")),
            Col("from", _("From")),
            Col("published_on", _("Published")),
        ),
        fmt,
        title=_("Price history"),
    )


def _print_item_head(env, item) -> None:
    env.out.print(
        f"[bold]{safe_markup(item.code)} {safe_markup(item.name)}[/bold]  "
        + safe_markup(
            _("{basis}, {cycle}, due by day {day} of each cycle's first month").format(
                basis=_(fees.BASES[item.basis]), cycle=_(CYCLE_LABELS[item.cycle]), day=item.due_day
            )
        )
    )
    env.out.print(
        safe_markup(
            _("Applies to: {kinds} ({scope})  Price type: {type}").format(
                kinds=_(", ").join(kind_label(k) for k in item.kinds),
                scope=fees.scope_text(item),
                type=item.price_type,
            )
            + (_("  Meter: {meter}").format(meter=item.meter) if item.meter else "")
        )
    )
    if item.services:
        env.out.print(safe_markup(_("Services: {text}").format(text=item.services), newlines=True))
    if item.ends_on:
        env.out.print(
            _("Billing stops: nothing is billed after {day}").format(day=item.ends_on),
            markup=False,
        )


@fees_app.command(
    "publish",
    help=_("Publish the fee standard: write the notice and record its date.")
    + "\n\n"
    + _(
        "The notice lists the company, each item's services, rate, billing basis, cycle, the "
        "billing start rule, price type and the 12358 price-complaint line. Every price it shows "
        "is recorded as published today, the day the command runs (never another day); only "
        "published prices are billed, and a change of price no earlier than one month after it. "
        "A publication posted before propfee was in use is recorded with --recorded-later, its "
        "day and its evidence, and is marked as recorded later wherever it is printed."
    )
    + "\n\n"
    + _("Example: propfee fees publish --out notices")
    + "\n\n"
    + _(
        "Example: propfee fees publish --recorded-later --published-on 2025-12-20 "
        '--evidence "notice photo IMG_0231.jpg"'
    ),
    short_help=_("Publish the fee standard and write the notice."),
)
def fees_publish(
    out: Annotated[Path, typer.Option(help=_("Folder for the notice (HTML and text)."))] = Path(
        "."
    ),
    language: Annotated[str, typer.Option(help=_("Language of the notice: zh or en."))] = "zh",
    recorded_later: Annotated[
        bool,
        typer.Option(
            "--recorded-later",
            help=_(
                "Record a publication posted before propfee was in use, "
                "with --published-on and --evidence."
            ),
        ),
    ] = False,
    published_on: Annotated[
        str | None,
        typer.Option(metavar="YYYY-MM-DD", help=_("The day it was posted (for --recorded-later).")),
    ] = None,
    evidence: Annotated[
        str,
        typer.Option(help=_("A notice number or photo file name (for --recorded-later).")),
    ] = "",
    as_of: AsOfOpt = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Publish the fee standard."""
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
    later = _(" (recorded later)") if recorded_later else ""
    env.result(
        _("published on {day}{later}: {n} new price(s); notice in {html} and {text}").format(
            day=publication.published_on,
            later=later,
            n=publication.prices,
            html=publication.html_path,
            text=publication.text_path,
        )
    )


@fees_app.command(
    "end",
    help=_("End a fee item: nothing is billed after --to; its bills and price history all stay.")
    + "\n\n"
    + _(
        "Refused while a bill after --to exists (and is not adjusted to zero); the bills are "
        "listed. Running it again with the same day records nothing new; another day replaces it."
    )
    + "\n\n"
    + _('Example: propfee fees end PARK --to 2026-12-31 --reason "parking now run by the owners"'),
    short_help=_("End a fee item: no bills after a day."),
)
def fees_end(
    code: Annotated[str, typer.Argument(help=_("The fee item's code."))],
    to: Annotated[
        str,
        typer.Option(
            "--to",
            metavar="YYYY-MM-DD",
            help=_("The last day billed; nothing is billed after it."),
        ),
    ],
    reason: Annotated[str, typer.Option(help=_("Why billing stops."))] = "",
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """End a fee item."""
    env = open_env(db, config, quiet)
    day = parse_day(to, option="--to")
    conn = env.connect()
    with transaction(conn):
        change = setup.end_item(conn, code, to=day, reason=reason, now=now())
    state = _("recorded") if change.changed else _("recorded before; nothing changed")
    env.result(
        _("{code} {name}: billing stops after {day} ({state})").format(
            code=change.code, name=change.name, day=change.ends_on, state=state
        )
    )


@fees_app.command(
    "remove",
    help=_("Remove a fee item added by mistake: only one never billed and never published.")
    + "\n\n"
    + _(
        "The removal stays on record (in the operation log) and the code can be added again. "
        "An item that was billed or published cannot be removed: stop it with propfee fees "
        "end CODE --to YYYY-MM-DD instead."
    )
    + "\n\n"
    + _('Example: propfee fees remove PARK --reason "entered by mistake"'),
    short_help=_("Remove a fee item added by mistake."),
)
def fees_remove(
    code: Annotated[str, typer.Argument(help=_("The fee item's code."))],
    reason: Annotated[
        str, typer.Option(help=_('Why it is removed, e.g. "entered by mistake".'))
    ] = "",
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Remove a fee item added by mistake."""
    env = open_env(db, config, quiet)
    conn = env.connect()
    with transaction(conn):
        change = setup.remove_item(conn, code, reason=reason, now=now())
    state = _("removed") if change.changed else _("removed before; nothing changed")
    env.result(_("{code} {name}: {state}").format(code=change.code, name=change.name, state=state))
