"""What every command shares: the global options, opening the database, the clock, output
(table / JSON / CSV to stdout; messages and progress to stderr) and error translation."""

from __future__ import annotations

import functools
import inspect
import json
import os
import re
import sqlite3
import stat
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from itertools import islice
from pathlib import Path
from typing import Annotated, Any

import typer

from propfee.cli.plaintable import Grid
from propfee.config import load_settings, settings_path
from propfee.core.errors import ConfigError, DatabaseError, InvalidValue, PropfeeError, RowErrors
from propfee.core.i18n import _, ngettext
from propfee.core.money import format_money
from propfee.core.periods import parse_period
from propfee.files.writers import csv_text, visible, write_csv_rows
from propfee.payments import ledger
from propfee.store import audit, pg, pgdump
from propfee.store.backup import backup
from propfee.store.db import connect, connect_scratch, connect_server, drop_estate, transaction


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def db_target(value: str | Path | None) -> Path | str | None:
    """--db: an SQLite file's path, or a PostgreSQL server's address kept as it was typed."""
    if value is None or isinstance(value, Path):
        return value
    return value if pg.is_server(value) else Path(value)


DbOpt = Annotated[
    Path | None,
    typer.Option(
        "--db",
        envvar="PROPFEE_DB",
        show_envvar=True,
        metavar="PATH",
        parser=db_target,
        help=_("Database file (default: ./propfee.db)."),
    ),
]

#: the estate (its schema) on a PostgreSQL server: the root's --estate, else $PROPFEE_ESTATE
_estate: str | None = None


def choose_estate(value: str | None) -> str | None:
    """The root option --estate: which estate's schema a server address opens."""
    global _estate
    _estate = value.strip() if value else None
    return value


def chosen_estate() -> str | None:
    return _estate


def server_target(db: Path | str | None) -> str | None:
    """The server address --db or $PROPFEE_DB names, if it names one."""
    value = db if db is not None else os.environ.get("PROPFEE_DB")
    return str(value) if value is not None and pg.is_server(value) else None


ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        envvar="PROPFEE_CONFIG",
        show_envvar=True,
        metavar="FILE",
        help=_("Settings file (TOML) (default: propfee.toml beside the database)."),
    ),
]
QuietOpt = Annotated[
    bool, typer.Option("--quiet", "-q", help=_("Print nothing on success (for cron)."))
]
FormatOpt = Annotated[
    Format,
    typer.Option(
        "--format", "-f", help=_("Output format: table, json or csv."), case_sensitive=False
    ),
]


def _check_day(value: str | None) -> str | None:
    if value:
        try:
            date.fromisoformat(value.strip())
        except ValueError:
            raise typer.BadParameter(
                _("{value!r} is not a date (use YYYY-MM-DD)").format(value=value)
            ) from None
    return value


def check_month(value: str | None) -> str | None:
    """Typer callback: a malformed month is a usage error (exit 2), like a malformed date."""
    if value:
        try:
            parse_period(value)
        except InvalidValue:
            raise typer.BadParameter(
                _("{value!r} is not a month (use YYYY-MM)").format(value=value)
            ) from None
    return value


#: one month, and the first and last month of a range (reports over months)
MonthOpt = Annotated[
    str | None,
    typer.Option(
        "--period",
        metavar="YYYY-MM",
        callback=check_month,
        help=_("One month (default: the as-of month)."),
    ),
]
FromMonthOpt = Annotated[
    str | None,
    typer.Option(
        "--from", metavar="YYYY-MM", callback=check_month, help=_("First month of a range.")
    ),
]
ToMonthOpt = Annotated[
    str | None,
    typer.Option("--to", metavar="YYYY-MM", callback=check_month, help=_("Last month of a range.")),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        metavar="YYYY-MM-DD",
        callback=_check_day,
        help=_("The day to act as of (default: today)."),
    ),
]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help=_("Do everything, report it, then roll back."))
]
WideOpt = Annotated[
    bool,
    typer.Option(
        "--wide",
        help=_(
            "Every column in the table, however wide (without it, the columns that do not fit "
            "the terminal are left out; JSON and CSV always have them all)."
        ),
    ),
]
NoMaskOpt = Annotated[bool, typer.Option("--no-mask", help=_("Show phone and ID numbers in full."))]


def today() -> date:
    """The one place that reads the calendar; the core receives the date as a parameter."""
    return date.today()


def now() -> datetime:
    return datetime.now().replace(microsecond=0)


def parse_day(value: str | None, *, option: str = "--as-of") -> date:
    if value is None or value == "":
        return today()
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidValue(
            _("{option}: {value!r} is not a date (use YYYY-MM-DD)").format(
                option=option, value=value
            )
        ) from None


#: no day a payment or reversal is booked on is before this
EARLIEST_DAY = date(2000, 1, 1)


def parse_past_day(value: str | None, *, option: str = "--as-of") -> date:
    """A day money is booked on: not before 2000, not after today (a year 9999 would number
    receipts 9999-000001)."""
    day = parse_day(value, option=option)
    today_ = now().date()
    if day < EARLIEST_DAY:
        raise InvalidValue(
            _("{option} {day} is before {earliest}: check the date").format(
                option=option, day=day, earliest=EARLIEST_DAY
            )
        )
    if day > today_:
        raise InvalidValue(
            _("{option} {day} is after today ({today}): check the date").format(
                option=option, day=day, today=today_
            )
        )
    return day


@dataclass
class Env:
    """One command's view of the world: where the database is, the settings, the consoles."""

    db_path: Path
    config: Path | None
    quiet: bool
    server: str | None = None  # a PostgreSQL server's address: the estate is a schema there
    _conn: sqlite3.Connection | None = None
    _settings: Any = None
    _err: Any = field(default=None, repr=False)
    _out: Any = field(default=None, repr=False)

    @property
    def err(self):
        if self._err is None:
            from rich.console import Console

            self._err = Console(stderr=True, highlight=False, soft_wrap=True)
        return self._err

    @property
    def out(self):
        if self._out is None:
            from rich.console import Console

            self._out = Console(highlight=False, soft_wrap=False)
            if not self._out.is_terminal:
                self._out.width = 200  # a pipe or a file: never truncate a table cell
        return self._out

    def connect(self, *, dry_run: bool = False, create: bool = True) -> sqlite3.Connection:
        """The database; a dry run against a file that does not exist yet uses a scratch
        database in memory, so it never creates the file. A command that only reads, or that
        needs units to exist, passes ``create=False``: a mistyped --db is then an error, not
        a new empty database."""
        if self._conn is None and self.server is not None:
            if dry_run and create and not pg.estate_exists(self.server, _estate):
                self._conn = connect_scratch()  # a dry run never makes the estate's schema
            else:
                self._conn = connect_server(
                    self.server,
                    estate=_estate,
                    create=create,
                    before_upgrade=functools.partial(
                        pgdump.before_upgrade,
                        folder=self._backup_folder(),
                        on_upgrade=self._upgrading,
                    ),
                )
        if self._conn is None:
            if not create and not self.db_path.exists():
                raise DatabaseError(
                    _(
                        "{path}: no such database (check --db or $PROPFEE_DB; a new one "
                        "is made by propfee import-units)"
                    ).format(path=self.db_path)
                )
            if dry_run and not self.db_path.exists():
                self._conn = connect_scratch()
            else:
                self._conn = connect(
                    self.db_path,
                    create=create,
                    backup_folder=self._backup_folder(),
                    on_upgrade=self._upgrading,
                )
        return self._conn

    def database_exists(self) -> bool:
        """Whether the estate's database is there: its file, or its schema on the server."""
        if self.server is not None:
            return pg.estate_exists(self.server, _estate)
        return self.db_path.exists()

    def forget_database(self) -> None:
        """Remove the estate's database (made a moment ago by a command that failed): its
        file with its journal, or its schema on the server."""
        if self.server is not None:
            drop_estate(self.connect(create=False))
            self.close()
            return
        self.close()
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.db_path}{suffix}").unlink(missing_ok=True)

    def _backup_folder(self) -> str:
        """Where an upgrade's backup goes: [backup] folder (a broken settings file is
        reported by the command that needs it, not here)."""
        try:
            return self.settings.backup.folder
        except ConfigError:
            return "backups"

    @property
    def settings(self):
        if self._settings is None:
            self._settings = load_settings(settings_path(self.config, self.db_path))
        return self._settings

    def backup_first(self, reason: str, *, dry_run: bool = False) -> None:
        """With ``[backup] auto = true``, copy the database before a risky write."""
        rules = self.settings.backup
        if self.server is not None and not dry_run and rules.auto and self.database_exists():
            made = pgdump.backup(
                self.connect(create=False),
                None,
                at=now(),
                check=ledger.check,
                tag=f"before-{reason}",
                folder=rules.folder,
                keep=rules.keep,
            )
            self.info(_("backed up to {path}").format(path=made.path))
            return
        if dry_run or not rules.auto or not self.db_path.is_file():
            return

        made = backup(
            self.db_path, at=now(), tag=f"before-{reason}", folder=rules.folder, keep=rules.keep
        )
        self.info(_("backed up to {path}").format(path=made.path))

    def _upgrading(self, old: int, new: int) -> None:
        """Said before a database made by an older propfee is copied and upgraded, which
        takes a while on a large estate (stderr, so output for programs is unchanged)."""
        self.info(
            _(
                "upgrading the database from schema {old} to {new} (a backup copy is made "
                "first; on a large estate this can take a minute)…"
            ).format(old=old, new=new)
        )

    def info(self, message: str) -> None:
        if not self.quiet:
            self.err.print(terminal_text(message, newlines=True), markup=False)

    def warn(self, message: str) -> None:
        self.err.print(_prefix(_("warning:"), "yellow") + safe_markup(message, newlines=True))

    def result(self, message: str) -> None:
        """A write command's summary: stdout, suppressed by --quiet."""
        if not self.quiet:
            self.out.print(terminal_text(message, newlines=True), markup=False, soft_wrap=True)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @contextmanager
    def progress(self, description: str) -> Iterator[Callable[[int, int], None] | None]:
        """A progress bar on stderr when it is a terminal (and not --quiet)."""
        if self.quiet or not sys.stderr.isatty():
            yield None
            return
        from rich.progress import (  # heavy: loaded when needed
            BarColumn,
            Progress,
            TaskProgressColumn,
            TimeRemainingColumn,
        )

        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            TaskProgressColumn(),
            TimeRemainingColumn(),
            console=self.err,
            transient=True,
        ) as bar:
            task = bar.add_task(description, total=None)

            def tick(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            yield tick


def _escape(text: str) -> str:
    from rich.markup import escape  # heavy: loaded when needed

    return escape(text)


_LINE_BREAKS = re.compile("[\t\n]")


def terminal_text(value: Any, *, newlines: bool = False) -> str:
    """Text from the database or a file, made safe to print to a terminal: escape sequences
    (``\\x1b[2J`` clears the screen), carriage returns and every other control character are
    shown as visible symbols (␛, ␍) instead of being obeyed. A newline is kept where a text
    runs over lines (``newlines``, in messages and notes) and is a space in a table cell."""
    text = visible(_plain(value))
    if not newlines:
        text = _LINE_BREAKS.sub(" ", text)
    return text


# a text with none of these is its own terminal-safe, markup-escaped form (see safe_markup)
_NEEDS_CARE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069[\\\\]")


def safe_markup(value: Any, *, newlines: bool = False) -> str:
    """A value to put inside a rich markup string: terminal-safe and markup-escaped."""
    if type(value) is str and not newlines and _NEEDS_CARE.search(value) is None:
        return value  # nothing to show differently, nothing rich would read as markup
    return _escape(terminal_text(value, newlines=newlines))


def open_env(db: Path | str | None, config: Path | None, quiet: bool = False) -> Env:
    server = server_target(db) if not isinstance(db, Path) else None
    if server is not None:  # settings: --config, else propfee.toml in the working folder
        estate = pg.split_target(server, _estate)[1]
        return Env(db_path=pg.estate_path(estate), config=config, quiet=quiet, server=server)
    return Env(db_path=Path(db) if db else Path("propfee.db"), config=config, quiet=quiet)


# ---------------------------------------------------------------- listings


@dataclass(frozen=True)
class Col:
    """A column of a listing: its row key, its header (an English msgid, ``_()`` or ``N_()``;
    shown in the reader's language in the table and the CSV alike), and its alignment; a
    right-aligned column is numeric, so CSV leaves its plain numbers (``-12.50``) as they are
    while neutralising anything else. A ``money`` column holds decimal strings (``"1234.50"``,
    as JSON and CSV carry them) and is shown in the table as ``¥1,234.50``. An ``optional``
    column (1, 2 …) is left out of a table too wide for the terminal unless --wide: the highest
    number first, then the next; 0 is always shown."""

    key: str
    header: str
    justify: str = "left"
    money: bool = False
    optional: int = 0


_FEN_TEXT = re.compile("-?[0-9]+[.][0-9][0-9]")


def money_cell(value: Any) -> str:
    """A money value of a row (``"1234.50"``, fen as an int, or empty) as the table shows it."""
    if value is None or value == "":
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return format_money(value)
    if type(value) is str and _FEN_TEXT.fullmatch(value):  # "1234.50", as listings carry it
        return format_money(int(value.replace(".", "")))
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        return str(value)
    return format_money(int(amount * 100))


def listing(
    rows: Sequence[dict[str, Any]], as_of: date | str | None = None, **extra: Any
) -> dict[str, Any]:
    """The one shape of every JSON listing: ``{"as_of": "YYYY-MM-DD", "rows": [...], ...}``;
    ``as_of`` is the day the listing is as of (today when the command has no day), ``extra``
    the summary keys beside the rows (totals, the query, the period …), documented in the
    README's "JSON output"."""
    day = as_of if as_of is not None else today()
    return {
        "as_of": day.isoformat() if isinstance(day, date) else str(day),
        "rows": list(rows),
        **extra,
    }


def emit(
    env: Env,
    rows: Sequence[dict[str, Any]],
    columns: Sequence[Col],
    fmt: Format,
    *,
    title: str | None = None,
    footer: dict[str, Any] | None = None,
    as_of: date | str | None = None,
    extra: dict[str, Any] | None = None,
    json_rows: Sequence[dict[str, Any]] | None = None,
    document: dict[str, Any] | None = None,
    wide: bool = True,
) -> None:
    """Print rows as a rich table, a JSON listing (``listing``: ``as_of``, ``rows`` — the
    ``json_rows`` if given, else the rows — and the ``extra`` summary keys; a command whose
    output is one object, not a listing, gives its ``document`` instead) or CSV. CSV has
    the table's headers and cells in the reader's language (``print_csv``: the bytes --out
    writes, with a BOM); every table cell is made terminal-safe (``terminal_text``) and a
    money column shows ``¥1,234.50``. Without ``wide``, optional columns are left out (see
    ``Col``) while the table is wider than the terminal, and its caption says so."""
    if fmt is Format.json:
        if document is not None:
            write_json(document)
            return
        # written as the rows go by: a long listing's text is never held whole
        write_json_listing(rows if json_rows is None else json_rows, as_of, **(extra or {}))
        return
    if fmt is Format.csv:
        print_csv_rows(
            [_(c.header) for c in columns],
            ([_csv_value(row.get(c.key)) for c in columns] for row in rows),
            number_columns=[i for i, c in enumerate(columns) if c.justify == "right" or c.money],
        )
        return
    _print_table(env, lambda: rows, columns, title, footer, wide, hold=True)


def emit_spooled(
    env: Env,
    rows: Callable[[], Iterable[dict[str, Any]]],
    columns: Sequence[Col],
    *,
    title: str | None = None,
    footer: dict[str, Any] | None = None,
    wide: bool = True,
) -> None:
    """``emit``'s table of the rows ``rows()`` gives, each time anew (a listing spooled to a
    file): read once for the widths and again as the lines are written, never all held —
    except where rich lays the table out (a table wider than the console)."""
    _print_table(env, rows, columns, title, footer, wide, hold=False)


def _print_table(env, rows_of, columns, title, footer, wide: bool, *, hold: bool) -> None:
    """The table: written by ``plaintable`` where rich would print it as it is, else laid out
    by rich; without ``wide``, optional columns left out while it is wider than the
    terminal."""
    grid = _grid(env.out, rows_of, columns, title, footer, hold)  # None: rich lays it out
    kept = list(range(len(columns)))
    caption = None
    if not wide:
        limit = env.out.width
        while _table_width(env.out, grid, rows_of, columns, kept, title, footer) > limit and any(
            columns[i].optional for i in kept
        ):
            dropped = max(range(len(kept)), key=lambda j: (columns[kept[j]].optional, j))
            del kept[dropped]
        if len(kept) < len(columns):
            hidden = len(columns) - len(kept)
            caption = ngettext(
                "{n} more column: --wide shows it", "{n} more columns: --wide shows them", hidden
            ).format(n=hidden)
    if caption is not None:
        caption = _escape(caption)
    if grid is not None and grid.write(env.out, kept, caption):
        return  # the lines rich would print, written as they are
    table = _table(list(rows_of()), [columns[i] for i in kept], title, footer)
    table.caption = caption
    env.out.print(table)


def _grid(console, rows_of, columns: Sequence[Col], title, footer, hold: bool) -> Grid | None:
    """The table's texts as ``_table`` gives them to rich, for ``plaintable`` to write."""
    footers = None
    if footer is not None:
        footers = [_cell(c, footer.get(c.key, "")) for c in columns]

    def cells() -> Iterator[list[str]]:
        for row in rows_of():
            yield [_cell(c, row.get(c.key)) for c in columns]

    return Grid.of(
        console,
        safe_markup(title) if title else title,
        [safe_markup(_(c.header)) for c in columns],
        ["right" if c.money else c.justify for c in columns],
        footers,
        cells,
        hold=hold,
    )


def _table_width(console, grid, rows_of, columns, kept, title, footer) -> int:
    """The columns the table of the ``kept`` columns takes unwrapped."""
    if grid is not None:
        return grid.width(kept)
    return _width(console, _table(list(rows_of()), [columns[i] for i in kept], title, footer))


def _table(rows, columns: Sequence[Col], title: str | None, footer: dict[str, Any] | None):
    from rich.table import Table  # heavy: loaded when needed

    table = Table(  # a title or total may hold what a user typed: shown, never read as markup
        title=safe_markup(title) if title else title,
        show_footer=footer is not None,
        header_style="bold",
    )
    for c in columns:
        cell = (footer or {}).get(c.key, "")
        table.add_column(
            safe_markup(_(c.header)),
            justify="right" if c.money else c.justify,  # type: ignore[arg-type]
            footer=_cell(c, cell),
        )
    for row in rows:
        table.add_row(*(_cell(c, row.get(c.key)) for c in columns))
    return table


def _cell(column: Col, value: Any) -> str:
    """A cell as a table is given it (a money column's as ``¥1,234.50``), markup-escaped."""
    return safe_markup(money_cell(value) if column.money else value)


def _width(console, table) -> int:
    """The columns a table takes unwrapped."""
    return console.measure(table, options=console.options.update_width(100_000)).maximum


def print_csv(
    headers: Sequence[str], rows: Sequence[Sequence[Any]], *, number_columns: Sequence[int] = ()
) -> None:
    """CSV on stdout: the same bytes ``--out FILE.csv`` writes (``writers.csv_text``) — UTF-8
    with a BOM so Excel reads it right, formula-looking text neutralised — into a terminal, a
    pipe or a new file alike. Appended to a file that already holds something (``>>``), it
    leaves the BOM out: a second one mid-file would be read as part of a cell."""
    text = csv_text(headers, rows, number_columns=number_columns)
    if _appending():
        text = text.removeprefix("\ufeff")
    stream = getattr(sys.stdout, "buffer", None)
    encoding = (getattr(sys.stdout, "encoding", None) or "").lower().replace("_", "-")
    if stream is not None and encoding not in ("utf-8", "utf8"):  # a GBK console: still UTF-8
        sys.stdout.flush()
        stream.write(text.encode("utf-8"))
        stream.flush()
        return
    sys.stdout.write(text)


def _csv_value(value: Any) -> Any:
    """A cell for a CSV: a flag as the word a person reads (是 / yes), anything else as is."""
    if isinstance(value, bool):
        return _plain(value)
    return value


def _appending() -> bool:
    try:
        info = os.fstat(sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        return False  # not a real file (a test's captured output)
    return stat.S_ISREG(info.st_mode) and info.st_size > 0


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else ""
    return str(value)


def write_json(document: dict[str, Any]) -> None:
    """One JSON object on stdout: indented at a terminal; compact (and several times faster)
    into a pipe or a file. A listing is ``listing(...)``, never a bare list: scripts read every
    command's output the same way (the README's "JSON output"). A listing too long to hold is
    written a row at a time by ``write_json_listing``, to the same bytes."""
    if not isinstance(document, dict):
        raise TypeError("a JSON document is an object; a listing is listing(rows, as_of)")
    pretty = sys.stdout.isatty()
    sys.stdout.write(
        json.dumps(
            document,
            ensure_ascii=False,
            indent=2 if pretty else None,
            separators=None if pretty else (",", ":"),
            default=str,
        )
    )
    sys.stdout.write("\n")


JSON_ROWS = 200  # rows of a listing encoded at a time by write_json_listing


def write_json_listing(
    rows: Iterable[dict[str, Any]], as_of: date | str | None = None, **extra: Any
) -> None:
    """``write_json(listing(rows, as_of, **extra))`` byte for byte — indented at a terminal,
    compact into a pipe or a file — written ``JSON_ROWS`` rows at a time as ``rows`` go by, so a
    listing of any length is never held whole (neither its rows nor its text)."""
    if "as_of" in extra or "rows" in extra:
        raise TypeError("as_of and rows are the listing's own keys")
    pretty = sys.stdout.isatty()
    encoder = json.JSONEncoder(
        ensure_ascii=False,
        indent=2 if pretty else None,
        separators=None if pretty else (",", ":"),
        default=str,
    )

    def text(value: Any, indent: str) -> str:
        """``value`` as it stands ``indent`` deep in the document (a JSON text holds no raw
        newline: each one starts a line of the indented text)."""
        return (
            encoder.encode(value).replace("\n", "\n" + indent) if pretty else encoder.encode(value)
        )

    def key(name: str) -> str:
        return f"\n  {text(name, '')}: " if pretty else text(name, "") + ":"

    out = sys.stdout
    out.write("{" + key("as_of") + text(listing((), as_of)["as_of"], "  ") + "," + key("rows"))
    out.write("[")
    rows = iter(rows)
    first = True
    while chunk := list(islice(rows, JSON_ROWS)):
        # the rows as a list a level deeper, less its brackets: "{…},{…}" / "\n    {…},\n    {…}"
        inner = text(chunk, "  ")[1 : -4 if pretty else -1]
        out.write(inner if first else "," + inner)
        first = False
    out.write("\n  ]" if pretty and not first else "]")
    for name, value in extra.items():
        out.write("," + key(name) + text(value, "  "))
    out.write("\n}\n" if pretty else "}\n")


def print_csv_rows(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], *, number_columns: Sequence[int] = ()
) -> None:
    """``print_csv`` byte for byte, written a row at a time as ``rows`` go by."""
    stream = getattr(sys.stdout, "buffer", None)
    encoding = (getattr(sys.stdout, "encoding", None) or "").lower().replace("_", "-")
    target = _CsvOut(stream if stream is not None and encoding not in ("utf-8", "utf8") else None)
    target.skip_bom = _appending()
    write_csv_rows(target, headers, rows, number_columns=number_columns)
    target.flush()


class _CsvOut:
    """Where ``print_csv_rows`` writes: stdout, or its bytes as UTF-8 (a GBK console), less
    the BOM when appending to a file that already holds something."""

    def __init__(self, raw) -> None:
        self.raw = raw
        self.skip_bom = False
        self.parts: list[str] = []
        if raw is not None:
            sys.stdout.flush()

    def write(self, text: str) -> None:
        if self.skip_bom and text == "\ufeff":
            self.skip_bom = False  # left out, once
            return
        self.parts.append(text)
        if len(self.parts) >= 1000:
            self.flush()

    def flush(self) -> None:
        text = "".join(self.parts)
        self.parts.clear()
        if self.raw is None:
            sys.stdout.write(text)
        else:
            self.raw.write(text.encode("utf-8"))
            self.raw.flush()


# ---------------------------------------------------------------- errors


def show_row_errors(env: Env, exc: RowErrors, fmt: Format, base: dict[str, Any]) -> None:
    """Row errors: in the JSON document on stdout for --format json (and the summary line on
    stderr), else every bad row and the summary on stderr."""
    if fmt is Format.json:
        write_json({**base, "errors": [e.as_dict() for e in exc.errors]})
        env.err.print(_error_prefix() + safe_markup(exc, newlines=True), soft_wrap=True)
    else:
        fail(env, exc)


def _error_prefix() -> str:
    return _prefix(_("error:"), "red")


def _prefix(word: str, colour: str) -> str:
    """``error:`` / ``错误：`` in colour, then a space unless a full-width colon ends it."""
    space = "" if word.endswith("：") else " "
    return f"[{colour}]{_escape(word)}[/{colour}]{space}"


def fail(env_or_none: Env | None, exc: PropfeeError, limit: int = 200) -> None:
    """Print a user error on stderr: one line, preceded by each bad row of an import."""
    from rich.console import Console  # heavy: loaded when needed

    console = env_or_none.err if env_or_none else Console(stderr=True, highlight=False)
    if isinstance(exc, RowErrors):
        for error in exc.errors[:limit]:
            console.print(f"[red]✗[/red] {safe_markup(error, newlines=True)}", soft_wrap=True)
        if len(exc.errors) > limit:
            console.print(
                _("… and {n} more (--format json lists them all)").format(
                    n=len(exc.errors) - limit
                ),
                markup=False,
            )
    console.print(_error_prefix() + safe_markup(exc, newlines=True), soft_wrap=True)


# ---------------------------------------------------------------- the audit trail

OperatorOpt = Annotated[
    str,
    typer.Option(
        "--operator",
        metavar="NAME",
        help=_(
            "Who is doing this, for the audit trail (default: the command's own staff option, "
            "else $PROPFEE_OPERATOR, else the login name)."
        ),
    ),
]

_STAFF_OPTIONS = ("operator", "staff", "by", "cashier")
_NOT_ARGUMENTS = {"db", "config", "quiet", "fmt"}


def audit_wrapper(func: Callable, command: str, *, writes: bool = True) -> Callable:
    """``func`` run inside ``audit.invocation`` (the command, the arguments the user gave,
    the operator); a write command without its own --operator option gains one."""

    signature = inspect.signature(func, eval_str=True)
    adds_operator = (
        writes and "quiet" in signature.parameters and "operator" not in signature.parameters
    )

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        operator = kwargs.pop("operator", "") if adds_operator else ""
        given = {
            name: value
            for name, value in kwargs.items()
            if name not in _NOT_ARGUMENTS and value != signature.parameters[name].default
        }
        if not operator:
            operator = next(
                (
                    kwargs[name]
                    for name in _STAFF_OPTIONS
                    if isinstance(kwargs.get(name), str)
                    and not isinstance(kwargs[name], StrEnum)
                    and kwargs[name].strip()
                ),
                "",
            )
        with audit.invocation(command, given, operator=operator, clock=lambda: now()):
            return func(*args, **kwargs)

    if adds_operator:
        extra = inspect.Parameter(
            "operator", inspect.Parameter.KEYWORD_ONLY, default="", annotation=OperatorOpt
        )
        wrapper.__signature__ = signature.replace(
            parameters=[*signature.parameters.values(), extra]
        )
        wrapper.__annotations__ = {**func.__annotations__, "operator": OperatorOpt}
    return wrapper


def record_unmasked(conn, command: str, where: Path, rows: int) -> None:
    """Personal data written in full goes on the audit trail with its operator (LEGAL 10)."""
    with transaction(conn):
        audit.note(conn, {"unmasked": {"command": command, "path": str(where), "rows": rows}})


def debug_enabled() -> bool:
    return os.environ.get("PROPFEE_DEBUG", "") not in ("", "0")


def moved(m) -> dict[str, object]:
    """The fields a message about a re-billed bill names (a ``rebill`` move)."""
    return {
        "bill": m.bill_id,
        "item": m.item,
        "period": m.period,
        "first": m.first,
        "last": m.last,
        "amount": format_money(m.amount_fen),
        "old": m.from_party or "—",
        "new": m.to_party,
        "new_bill": m.new_bill_id,
    }
