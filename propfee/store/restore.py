"""Restoring the database from a backup.

A restore checks the candidate on a private copy first (SQLite header, integrity, schema
version, every ``propfee check`` invariant; an older schema is upgraded on the copy). Then,
holding the database's write lock from before the safety copy until the commit, it copies the
current database to the backups folder and replaces every table's rows with the candidate's in
that one transaction: other processes see the old database or the new one, never a mixture, no
write can slip in between the safety copy and the replacement, and a failure half-way leaves
the old one. A current database that fails its integrity check is kept as it is beside the
backups (its WAL folded in, once every other process has let go of it) and replaced as a file.

What "inconsistent" means is the caller's: ``restore`` is handed the ledger check (propfee
check) as a function, so the store knows nothing of the domains.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from propfee.core.errors import DatabaseError, NotFound, PropfeeError
from propfee.core.i18n import _
from propfee.store import audit, db, migrations, pg
from propfee.store.backup import (
    SQLITE_HEADER,
    backup,
    backup_name,
    database_id,
    first_problem,
    folder_for,
    link_free,
)
from propfee.store.connection import busy_timeout, translate


@dataclass(frozen=True)
class RestoreResult:
    source: Path
    safety_copy: Path | None
    schema_from: int
    schema: int
    counts: dict[str, int]
    other_database: bool = False  # the backup was made from another database (estate)


Check = Callable[[sqlite3.Connection], list]  # propfee check: problems with .what and .detail


def restore(
    db_path: Path, source: Path, *, at: datetime, check: Check, folder: str = "backups"
) -> RestoreResult:
    """Replace the database with ``source`` after checking it (``check`` is propfee check's
    list of problems); see the module notes."""
    pg.refuse_file_work(db_path, "propfee restore")
    db_path, source = Path(db_path), Path(source)
    if not source.is_file():
        beside = folder_for(db_path, folder) / source.name
        hint = _(" — did you mean {path}?").format(path=beside) if beside.is_file() else ""
        raise NotFound(
            _("{source}: no such file to restore{hint}").format(source=source, hint=hint)
        )
    if db_path.exists() and source.resolve() == db_path.resolve():
        raise PropfeeError(_("{source} is the database itself").format(source=source))
    if not db_path.parent.is_dir():
        raise DatabaseError(
            _("{db_path}: folder {parent} does not exist").format(
                db_path=db_path, parent=db_path.parent
            )
        )
    with source.open("rb") as handle:
        if handle.read(16) != SQLITE_HEADER:
            raise DatabaseError(
                _("{source}: not an SQLite database; nothing was restored").format(source=source)
            )

    _remove_stale_scratch(db_path)
    scratch = db_path.with_name(f".{db_path.name}.restore-{os.getpid()}")
    try:
        theirs, schema_from, counts = _prepare(source, scratch, check)
        if not db_path.exists() or db_path.stat().st_size == 0:
            safety = None
            _move_into_place(scratch, db_path)
            _record(db_path, source, safety, at)
        elif not _healthy(db_path):
            safety = _replace_damaged(db_path, scratch, source, at, folder)
        else:
            safety = _replace_live(db_path, scratch, source, at, folder)
        ours = database_id(safety) if safety is not None else None
        other = bool(theirs and ours and theirs != ours)
        return RestoreResult(source, safety, schema_from, migrations.SCHEMA_VERSION, counts, other)
    except sqlite3.Error as exc:
        raise DatabaseError(
            _("{source}: cannot be restored ({exc}); nothing was changed").format(
                source=source, exc=exc
            )
        ) from None
    except OSError as exc:
        raise DatabaseError(
            _("{db_path}: cannot restore ({value}); nothing was changed").format(
                db_path=db_path, value=exc.strerror or exc
            )
        ) from None
    finally:
        for leftover in (
            scratch,
            Path(f"{scratch}-wal"),
            Path(f"{scratch}-shm"),
            Path(f"{scratch}-journal"),
        ):
            leftover.unlink(missing_ok=True)


def _prepare(source: Path, scratch: Path, check: Check) -> tuple[str | None, int, dict[str, int]]:
    """Copy the candidate to ``scratch`` and vet it there (upgrading an older one). Returns
    the id it was made with (None for a backup older than ids), its schema version and a
    few counts."""
    fd = os.open(scratch, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
    os.close(fd)
    shutil.copyfile(source, scratch)
    wal = Path(f"{source}-wal")
    if wal.is_file():
        shutil.copyfile(wal, f"{scratch}-wal")
    candidate = sqlite3.connect(scratch, isolation_level=None)
    try:
        try:
            row = candidate.execute("SELECT value FROM meta WHERE key = 'database_id'").fetchone()
        except sqlite3.DatabaseError:
            row = None
        schema_from, counts = _vet(candidate, source, check)
        candidate.execute("PRAGMA journal_mode = DELETE").fetchone()
    finally:
        candidate.close()
    return (row[0] if row else None), schema_from, counts


def _replace_damaged(db_path: Path, scratch: Path, source: Path, at: datetime, folder: str):
    """Keep a damaged current database as it is and put the candidate in its place."""
    with db_path.open("rb") as handle:
        if handle.read(16) != SQLITE_HEADER:
            raise DatabaseError(
                _(
                    "{db_path}: not an SQLite database — is --db right? Nothing "
                    "was restored (move the file away to restore into its place)"
                ).format(db_path=db_path)
            )
    identity = database_id(db_path)
    holder = _hold_damaged(db_path)
    try:
        safety = _keep_as_it_is(db_path, folder, at)
        _move_into_place(scratch, db_path)
    finally:
        if holder is not None:
            holder.close()
    _record(db_path, source, safety, at, identity)
    return safety


def _record(
    db_path: Path, source: Path, safety: Path | None, at: datetime, identity: str | None = None
) -> None:
    """The restore in the restored database's own trail, after the rows it came with; the
    file keeps the id it had (its backups stay its own)."""
    conn = db.connect(db_path)
    try:
        with db.transaction(conn):
            if identity is not None:
                db.set_meta(conn, "database_id", identity)
            call = audit.current() or audit.Invocation("restore", {}, audit.default_operator())
            changes = {"restored_from": str(source), "safety_copy": str(safety or "")}
            audit.append(conn, call, changes, at=audit.stamp(at))
    finally:
        conn.close()


def _remove_stale_scratch(db_path: Path) -> None:
    """A restore killed half-way leaves its private copy beside the database: remove those
    whose process is gone."""
    for leftover in db_path.parent.glob(f".{db_path.name}.restore-*"):
        match = re.match(r"\d+", leftover.name.rsplit(".restore-", 1)[-1])
        if match is None:
            continue
        pid = match.group(0)
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            leftover.unlink(missing_ok=True)
        except OSError:
            pass  # alive, or not ours to ask about


def _vet(candidate: sqlite3.Connection, source: Path, check: Check) -> tuple[int, dict[str, int]]:
    """Refuse a candidate that is damaged, foreign, too new or inconsistent; upgrade an
    older one (on the private copy). Returns its schema version and a few counts."""
    refuse = _("{path}: refused, nothing was restored").format(path=source)
    try:
        problems = [row[0] for row in candidate.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(
            _("{refuse} — the file is damaged ({exc})").format(refuse=refuse, exc=exc)
        ) from None
    if problems != ["ok"]:
        raise DatabaseError(
            _("{refuse} — it fails its integrity check: {first_problem}").format(
                refuse=refuse, first_problem=first_problem(problems)
            )
        )
    schema_from = candidate.execute("PRAGMA user_version").fetchone()[0]
    if schema_from == 0:
        raise DatabaseError(
            _("{refuse} — it is not a propfee database (no propfee schema)").format(refuse=refuse)
        )
    candidate.row_factory = sqlite3.Row
    try:
        migrations.migrate(candidate, source)
    except DatabaseError as exc:
        raise DatabaseError(f"{refuse} — {exc}") from None
    candidate.execute("PRAGMA foreign_keys = ON")
    found = check(candidate)
    if found:
        first = found[0]
        more = _(" (and {n} more)").format(n=len(found) - 1) if len(found) > 1 else ""
        raise DatabaseError(
            _("{refuse} — propfee check fails on it: {what}: {detail}").format(
                refuse=refuse, what=first.what, detail=first.detail
            )
            + more
        )
    counts = {
        table: candidate.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in ("unit", "bill", "payment")
    }
    return schema_from, counts


def _healthy(db_path: Path) -> bool:
    """Whether the current database opens and passes its integrity check (a damaged one is
    kept as it is and replaced as a file)."""
    try:
        conn = sqlite3.connect(db_path, timeout=busy_timeout())
        try:
            # integrity_check, not quick_check: a damaged index passes the quick one, and
            # then the safety copy would fail and leave no way to restore
            return conn.execute("PRAGMA integrity_check(1)").fetchone()[0] == "ok"
        finally:
            conn.close()
    except sqlite3.OperationalError as exc:
        return "locked" in str(exc) or "busy" in str(exc)  # busy is not damaged
    except sqlite3.DatabaseError:
        return False


def _hold_damaged(db_path: Path) -> sqlite3.Connection | None:
    """Keep every other process out of a damaged database while it is copied and replaced:
    wait (up to the busy timeout, then exit 75) for a command still writing to it, so what
    it commits is in the copy; then hold it exclusively, its WAL folded in and the file out
    of WAL mode, so closing this connection afterwards touches nothing of the new file. A
    command that was waiting fails on its next write (the file has moved) rather than write
    where nobody will look. None when the file is too damaged for SQLite to lock at all
    (then nothing else can use it either)."""
    holder = sqlite3.connect(db_path, timeout=busy_timeout(), isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode = EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("COMMIT")  # the exclusive lock stays: locking_mode is EXCLUSIVE
        holder.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        holder.execute("PRAGMA journal_mode = DELETE").fetchall()
    except sqlite3.OperationalError as exc:
        holder.close()
        if "locked" in str(exc) or "busy" in str(exc):
            raise translate(exc, db_path) from None
        return None
    except sqlite3.DatabaseError:
        holder.close()
        return None
    return holder


def _keep_as_it_is(db_path: Path, folder: str, at: datetime) -> Path:
    """A raw copy of a damaged database (and its -wal), for whoever wants to look at it."""
    target_dir = folder_for(db_path, folder)
    target_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = backup_name(db_path, at, "before-restore-damaged")
    fd, partial = tempfile.mkstemp(prefix=f".{name}.", suffix=".partial", dir=target_dir)
    os.close(fd)
    try:
        shutil.copyfile(db_path, partial)
        wal = Path(f"{db_path}-wal")
        made = link_free(Path(partial), target_dir / name, numbered=True)
        if wal.is_file():
            shutil.copyfile(wal, f"{made}-wal")
        return made
    finally:
        Path(partial).unlink(missing_ok=True)


def _move_into_place(scratch: Path, db_path: Path) -> None:
    target = db_path.resolve()  # through a symlink: replace the file it points at
    for stale in (Path(f"{target}-wal"), Path(f"{target}-shm")):
        stale.unlink(missing_ok=True)
    os.replace(scratch, target)


def _replace_live(db_path: Path, scratch: Path, source: Path, at: datetime, folder: str) -> Path:
    """Under one write lock, held from before the safety copy to the commit: copy the current
    database to the backups folder, then replace every table's rows with the checked
    candidate's and record the restore in the trail. A writer that comes first is waited for
    (up to the busy timeout, then exit 75); one that comes later waits for the restore."""
    db.connect(db_path).close()  # an older current database is upgraded (and backed up) first
    live = sqlite3.connect(db_path, timeout=busy_timeout(), isolation_level=None)
    try:
        live.execute("PRAGMA foreign_keys = OFF")  # the candidate passed propfee check
        live.execute("ATTACH DATABASE ? AS incoming", (str(scratch),))
        try:
            live.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise translate(exc, db_path) from None
        try:
            safety = backup(db_path, at=at, tag="before-restore", folder=folder).path
            _swap_contents(live)
            call = audit.current() or audit.Invocation("restore", {}, audit.default_operator())
            changes = {"restored_from": str(source), "safety_copy": str(safety)}
            audit.append(live, call, changes, at=audit.stamp(at))
            live.execute("COMMIT")
        except BaseException:
            live.rollback()
            raise
    finally:
        live.close()
    return safety


def _swap_contents(live: sqlite3.Connection) -> None:
    """Every table of ``main`` emptied and refilled from ``incoming`` (same schema). The
    search index's virtual tables are skipped: their shadow tables, copied like any other,
    carry the backup's index, which matches the backup's rows."""

    def tables(schema: str) -> list[str]:
        return [
            row[0]
            for row in live.execute(
                f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' "
                "ORDER BY name"
            )
        ]

    identity = live.execute("SELECT value FROM main.meta WHERE key = 'database_id'").fetchone()
    names = tables("main")
    if names != tables("incoming"):
        raise DatabaseError(
            _("the backup's tables differ from the database's; nothing was changed")
        )
    triggers = live.execute(
        "SELECT name, sql FROM main.sqlite_master WHERE type = 'trigger'"
    ).fetchall()
    for name, _sql in triggers:
        live.execute(f'DROP TRIGGER main."{name}"')
    for table in names:
        columns = ", ".join(
            f'"{row[1]}"' for row in live.execute(f'PRAGMA main.table_info("{table}")')
        )
        live.execute(f'DELETE FROM main."{table}"')
        live.execute(
            f'INSERT INTO main."{table}" ({columns}) SELECT {columns} FROM incoming."{table}"'
        )
    for _name, sql in triggers:
        live.execute(sql)
    if identity is not None:  # the file keeps its id: its backups are still its own
        live.execute(
            "INSERT INTO main.meta (key, value) VALUES ('database_id', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (identity[0],),
        )
