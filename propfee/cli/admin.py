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
    _check_day,
    emit,
    now,
    open_env,
    parse_day,
    record_unmasked,
)
from propfee.core.errors import PropfeeError
from propfee.insight import fullexport, readable
from propfee.payments import ledger
from propfee.store import audit
from propfee.store import backup as backups
from propfee.store import restore as restores


def register(app: typer.Typer) -> None:
    app.command("backup")(backup)
    app.command("restore")(restore)
    app.command("audit")(audit_log)
    app.command("export-all")(export_all)


def backup(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="Where to write the copy: a file, or a folder (default: backups/ beside the "
            "database, with a timestamped name)."
        ),
    ] = None,
    keep: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Then keep only the newest N backups in that folder (0 keeps all) "
            "(default: keep in the settings, 30).",
        ),
    ] = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Copy the database safely, even while another command writes, and check the copy.

    The copy is made with SQLite's online backup API and verified with PRAGMA
    integrity_check before it takes its name. Never overwrites a file.

    Example: propfee backup --keep 14
    """
    env = open_env(db, config, quiet)
    rules = env.settings.backup
    if file is not None and file.suffix == "" and not file.exists():
        raise PropfeeError(f"{file}: no such folder (a backup file name ends in .db)")
    made = backups.backup(
        env.db_path,
        file,
        at=now(),
        folder=rules.folder,
        keep=rules.keep if keep is None else keep,
    )
    env.result(f"backed up to {made.path} ({made.size:,} bytes, schema {made.schema}, checked)")
    for old in made.pruned:
        env.info(f"removed old backup {old.name}")


def restore(
    file: Annotated[Path, typer.Argument(help="A backup made by propfee backup.")],
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Replace the database with a checked backup; the current one is kept in backups/.

    The backup is checked first: SQLite integrity, the schema version (an older one is
    upgraded, a newer one refused) and every propfee check invariant. A file that fails a
    check is refused with the reason and nothing changes.

    Example: propfee restore backups/propfee-20261123-020000.db
    """
    env = open_env(db, config, quiet)
    done = restores.restore(
        env.db_path, file, at=now(), check=ledger.check, folder=env.settings.backup.folder
    )
    if done.safety_copy is not None:
        env.info(f"the database as it was is kept in {done.safety_copy}")
    if done.other_database:
        env.warn(
            f"{file} was backed up from another database (another estate?); it replaced "
            f"{env.db_path} all the same — restore {done.safety_copy} to undo"
        )
    upgraded = (
        f", upgraded from schema {done.schema_from}" if done.schema_from < done.schema else ""
    )
    counts = ", ".join(f"{n:,} {table}s" for table, n in done.counts.items())
    env.result(f"restored {env.db_path} from {file}{upgraded}: {counts}")


def audit_log(
    since: Annotated[
        str | None,
        typer.Option(metavar="YYYY-MM-DD", callback=_check_day, help="From this day on."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(
            metavar="YYYY-MM-DD", callback=_check_day, help="Up to and including this day."
        ),
    ] = None,
    operator: Annotated[str | None, typer.Option(help="Only what this person did.")] = None,
    command: Annotated[
        str | None,
        typer.Option(help="Only this command (e.g. pay, reverse; fees covers fees add …)."),
    ] = None,
    no_mask: NoMaskOpt = False,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """The audit trail (操作日志): who changed what, when, with which command.

    Each entry: when, who, the command and its arguments, and what it changed (rows added
    per table, rows updated). Append-only; propfee check verifies it. Phone and ID numbers
    in the arguments are masked unless --no-mask.

    Example: propfee audit --since 2026-11-01 --command reverse
    """


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
            Col("at", "时间"),
            Col("operator", "操作人"),
            Col("command", "命令"),
            Col("args", "参数"),
            Col("changes", "变更"),
        ),
        fmt,
        title=f"操作日志（{len(rows)} 条）",
    )


def export_all(
    folder: Annotated[Path, typer.Argument(help="Folder for the workbook and the CSV files.")],
    mask: Annotated[
        bool,
        typer.Option(
            "--mask/--no-mask",
            help="Phone and ID numbers masked (the default); --no-mask writes them in full and "
            "is recorded in the audit trail with the operator.",
        ),
    ] = True,
    raw: Annotated[
        bool,
        typer.Option(
            "--raw",
            help="Every database table as it is (internal ids and codes), for an auditor or "
            "for leaving propfee; without it, the sheets an owners' committee reads.",
        ),
    ] = False,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Everything as one readable workbook and a CSV each (全量导出).

    Without --raw: 全量导出.xlsx for an owners' committee — 说明, 房屋, 收费项目, 账单, 收款,
    投诉与报修 — Chinese headers, 房号 and names (no internal ids), labels (no codes), money in
    yuan, phones masked. With --raw: propfee-export.xlsx, one sheet per database table after a
    说明 sheet. Nothing a spreadsheet would run as a formula; one consistent snapshot.

    Example: propfee export-all 全量导出
    """
    env = open_env(db, config, quiet)
    conn = env.connect(create=False)
    if raw:
        with env.progress("exporting") as tick:
            done = fullexport.export_all(conn, folder, mask=mask, at=now(), progress=tick)
    else:
        done = readable.export_readable(
            conn, folder, mask=mask, at=now(), estate=env.settings.estate.name
        )
    total = sum(done.rows.values())
    if not mask:
        record_unmasked(conn, "export-all", folder, total)
    env.result(
        f"exported {len(done.rows)} tables ({total:,} rows) to {done.workbook} and "
        f"{done.csv_folder}/"
    )
