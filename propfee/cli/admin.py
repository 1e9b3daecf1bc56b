"""Keeping the file safe: backup, restore, audit, export-all."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from propfee.cli.common import (
    Col,
    ConfigOpt,
    DbOpt,
    Format,
    FormatOpt,
    NoMaskOpt,
    QuietOpt,
    WideOpt,
    _check_day,
    chosen_estate,
    emit,
    now,
    open_env,
    parse_day,
    record_unmasked,
)
from propfee.core.errors import PropfeeError
from propfee.core.i18n import _
from propfee.insight import fullexport, readable
from propfee.payments import ledger
from propfee.store import audit, pgdump
from propfee.store import backup as backups
from propfee.store import restore as restores
from propfee.store.db import connect_server
from propfee.store.migrations import SCHEMA_VERSION


def register(app: typer.Typer) -> None:
    app.command(
        "backup",
        help=_("Copy the database safely, even while another command writes, and check the copy.")
        + "\n\n"
        + _(
            "The copy is made with SQLite's online backup API and verified with PRAGMA "
            "integrity_check before it takes its name. Never overwrites a file."
        )
        + "\n\n"
        + _(
            "An estate on a PostgreSQL server (--db postgresql://… --estate NAME) is backed up "
            "with pg_dump of its schema into NAME-YYYYMMDD-HHMMSS.sql, checked by loading it "
            "into a scratch schema and running propfee check there."
        )
        + "\n\n"
        + _("Example: propfee backup --keep 14"),
        short_help=_("Back up the database and check the copy."),
    )(backup)
    app.command(
        "restore",
        help=_("Replace the database with a checked backup; the current one is kept in backups/.")
        + "\n\n"
        + _(
            "The backup is checked first: SQLite integrity, the schema version (an older one is "
            "upgraded, a newer one refused) and every propfee check invariant. A file that fails "
            "a check is refused with the reason and nothing changes."
        )
        + "\n\n"
        + _(
            "On a PostgreSQL server the backup is a .sql file made by propfee backup; the "
            "estate's schema is replaced by it in one transaction, the estate as it was "
            "dumped to backups/ first."
        )
        + "\n\n"
        + _("Example: propfee restore backups/propfee-20261123-020000.db"),
        short_help=_("Restore the database from a checked backup."),
    )(restore)
    app.command(
        "audit",
        help=_("The audit trail: who changed what, when, with which command.")
        + "\n\n"
        + _(
            "Each entry: when, who, the command and its arguments, and what it changed (rows "
            "added per table, rows updated). Append-only; propfee check verifies it. Phone and "
            "ID numbers in the arguments are masked unless --no-mask."
        )
        + "\n\n"
        + _("Example: propfee audit --since 2026-11-01 --command reverse"),
        short_help=_("The audit trail: who changed what, when."),
    )(audit_log)
    app.command(
        "export-all",
        help=_("Everything as one workbook a person can read, and a CSV per sheet (full export).")
        + "\n\n"
        + _(
            "Without --raw: 全量导出.xlsx for an owners' committee (说明, 房屋, 收费项目, 账单, 收款, "
            "投诉与报修): Chinese sheets and headers, 房号 and names instead of internal ids, labels "
            "instead of codes, money in yuan with totals, phones masked."
        )
        + "\n\n"
        + _(
            "With --raw: propfee-export.xlsx, one sheet per database table after an explanation "
            "sheet: money in exact yuan, the roster's Chinese column names. Either way nothing a "
            "spreadsheet would run as a formula, and one consistent snapshot."
        )
        + "\n\n"
        + _("Example: propfee export-all full-export"),
        short_help=_("Export everything: readable for a committee, or --raw"),
    )(export_all)


def backup(
    file: Annotated[
        Path | None,
        typer.Argument(
            help=_(
                "Where to write the copy: a file, or a folder (default: backups/ beside the "
                "database, with a timestamped name)."
            )
        ),
    ] = None,
    keep: Annotated[
        int | None,
        typer.Option(
            min=0,
            help=_(
                "Then keep only the newest N backups in that folder (0 keeps all) "
                "(default: keep in the settings, 30)."
            ),
        ),
    ] = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Back up the database and check the copy."""
    env = open_env(db, config, quiet)
    rules = env.settings.backup
    if env.server is not None:
        _backup_server(env, file, rules.folder, rules.keep if keep is None else keep)
        return
    if file is not None and file.suffix == "" and not file.exists():
        raise PropfeeError(
            _("{path}: no such folder (a backup file name ends in .db)").format(path=file)
        )
    made = backups.backup(
        env.db_path,
        file,
        at=now(),
        folder=rules.folder,
        keep=rules.keep if keep is None else keep,
    )
    env.result(
        _("backed up to {path} ({size} bytes, schema {schema}, checked)").format(
            path=made.path, size=f"{made.size:,}", schema=made.schema
        )
    )
    for old in made.pruned:
        env.info(_("removed old backup {name}").format(name=old.name))


def restore(
    file: Annotated[Path, typer.Argument(help=_("A backup made by propfee backup."))],
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Restore the database from a checked backup."""
    env = open_env(db, config, quiet)
    if env.server is not None:
        _restore_server(env, file)
        return
    done = restores.restore(
        env.db_path, file, at=now(), check=ledger.check, folder=env.settings.backup.folder
    )
    if done.safety_copy is not None:
        env.info(_("the database as it was is kept in {path}").format(path=done.safety_copy))
    if done.other_database:
        env.warn(
            _(
                "{file} was backed up from another database (another estate?); it replaced "
                "{db} all the same — restore {copy} to undo"
            ).format(file=file, db=env.db_path, copy=done.safety_copy)
        )
    upgraded = (
        _(", upgraded from schema {schema}").format(schema=done.schema_from)
        if done.schema_from < done.schema
        else ""
    )
    counts = _(", ").join(
        _("{table}: {n} rows").format(table=table, n=f"{n:,}") for table, n in done.counts.items()
    )
    env.result(
        _("restored {db} from {file}{upgraded}: {counts}").format(
            db=env.db_path, file=file, upgraded=upgraded, counts=counts
        )
    )


def _backup_server(env, file: Path | None, folder: str, keep: int) -> None:
    """propfee backup of an estate on a server: pg_dump of its schema, checked."""
    if file is not None and file.suffix == "" and not file.exists():
        raise PropfeeError(
            _("{path}: no such folder (a server's backup file name ends in .sql)").format(path=file)
        )
    conn = env.connect(create=False)
    made = pgdump.backup(conn, file, at=now(), check=ledger.check, folder=folder, keep=keep)
    env.result(
        _("backed up to {path} ({size} bytes, schema {schema}, checked)").format(
            path=made.path, size=f"{made.size:,}", schema=made.schema
        )
    )
    for old in made.pruned:
        env.info(_("removed old backup {name}").format(name=old.name))


def _restore_server(env, file: Path) -> None:
    """propfee restore into an estate on a server: its schema replaced by a checked dump."""
    conn = connect_server(env.server, estate=chosen_estate(), migrate=False)
    env._conn = conn  # closed with the command
    safety, schema_from, counts, other = pgdump.restore(
        conn, file, at=now(), check=ledger.check, folder=env.settings.backup.folder
    )
    if safety is not None:
        env.info(_("the database as it was is kept in {path}").format(path=safety))
    if other:
        env.warn(
            _(
                "{file} was backed up from another database (another estate?); it replaced "
                "{db} all the same — restore {copy} to undo"
            ).format(file=file, db=env.db_path, copy=safety)
        )
    upgraded = (
        _(", upgraded from schema {schema}").format(schema=schema_from)
        if schema_from < SCHEMA_VERSION
        else ""
    )
    listed = _(", ").join(
        _("{table}: {n} rows").format(table=table, n=f"{n:,}") for table, n in counts.items()
    )
    env.result(
        _("restored {db} from {file}{upgraded}: {counts}").format(
            db=conn.name, file=file, upgraded=upgraded, counts=listed
        )
    )


def audit_log(
    since: Annotated[
        str | None,
        typer.Option(metavar="YYYY-MM-DD", callback=_check_day, help=_("From this day on.")),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(
            metavar="YYYY-MM-DD", callback=_check_day, help=_("Up to and including this day.")
        ),
    ] = None,
    operator: Annotated[str | None, typer.Option(help=_("Only what this person did."))] = None,
    command: Annotated[
        str | None,
        typer.Option(help=_("Only this command (e.g. pay, reverse; fees covers fees add …).")),
    ] = None,
    wide: WideOpt = False,
    no_mask: NoMaskOpt = False,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """The audit trail."""
    env = open_env(db, config)
    found = audit.entries(
        env.connect(create=False),
        since=parse_day(since, option="--since") if since else None,
        until=parse_day(until, option="--until") if until else None,
        operator=operator,
        command=command,
        mask=not no_mask,
    )

    rows = [
        {
            "id": e.id,
            "at": e.at,
            "operator": e.operator,
            "command": e.command,
            "args": e.args if fmt is Format.json else json.dumps(e.args, ensure_ascii=False),
            "changes": e.changes if fmt is Format.json else e.summary(),
        }
        for e in found
    ]
    emit(
        env,
        rows,
        (
            Col("id", "#", "right"),
            Col("at", _("Time")),
            Col("operator", _("Operator")),
            Col("command", _("Command")),
            Col("args", _("Arguments"), optional=1),
            Col("changes", _("Changes")),
        ),
        fmt,
        title=_("Audit trail ({n} entries)").format(n=len(rows)),
        wide=wide,
    )


def export_all(
    folder: Annotated[Path, typer.Argument(help=_("Folder for the workbook and the CSV files."))],
    mask: Annotated[
        bool,
        typer.Option(
            "--mask/--no-mask",
            help=_(
                "Phone and ID numbers masked (the default); --no-mask writes them in full and "
                "is recorded in the audit trail with the operator."
            ),
        ),
    ] = True,
    raw: Annotated[
        bool,
        typer.Option(
            "--raw",
            help=_(
                "Every database table as it is (internal ids and codes), for an auditor or "
                "for leaving propfee; without it, the sheets an owners' committee reads."
            ),
        ),
    ] = False,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Export everything: for an owners' committee, or every table with --raw."""
    env = open_env(db, config, quiet)
    conn = env.connect(create=False)
    if raw:
        with env.progress(_("exporting")) as tick:
            done = fullexport.export_all(conn, folder, mask=mask, at=now(), progress=tick)
    else:
        done = readable.export_readable(
            conn, folder, mask=mask, at=now(), estate=env.settings.estate.name
        )
    total = sum(done.rows.values())
    if not mask:
        record_unmasked(conn, "export-all", folder, total)
    env.result(
        _("exported {tables} tables ({rows} rows) to {workbook} and {folder}/").format(
            tables=len(done.rows), rows=f"{total:,}", workbook=done.workbook, folder=done.csv_folder
        )
    )
