"""Backups and restores of the database file.

A backup goes through SQLite's online backup API in one step: the copy is one consistent
snapshot even while another propfee process is writing (a plain file copy of a WAL database
is not). It is written beside its final name, turned into a self-contained file (no ``-wal``),
checked with ``PRAGMA integrity_check`` and only then renamed into place, so a backup that
exists is a good one. Names carry the time, ``propfee-20261123-020000.db``, and an automatic
backup says why: ``propfee-20261123-020000-before-reconcile.db``.

A restore checks the candidate on a private copy first (SQLite header, integrity, schema
version, every ``propfee check`` invariant; an older schema is upgraded on the copy), keeps a
safety copy of the current database, and then copies the candidate into the live database
with the backup API, inside one write transaction: other processes see the old database or
the new one, never a mixture, and a failure half-way leaves the old one.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from propfee.errors import DatabaseError, NotFound, PropfeeError

SQLITE_HEADER = b"SQLite format 3\x00"


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    schema: int
    pruned: list[Path] = field(default_factory=list)


@dataclass(frozen=True)
class RestoreResult:
    source: Path
    safety_copy: Path | None
    schema_from: int
    schema: int
    counts: dict[str, int]


def folder_for(db_path: Path, folder: str = "backups") -> Path:
    """Where backups of ``db_path`` go: ``folder`` beside the database unless absolute."""
    path = Path(folder).expanduser()
    return path if path.is_absolute() else db_path.parent / path


def backup_name(db_path: Path, at: datetime, tag: str = "") -> str:
    suffix = f"-{_slug(tag)}" if tag else ""
    return f"{db_path.stem}-{at:%Y%m%d-%H%M%S}{suffix}.db"


def _slug(text: str) -> str:
    return re.sub(r"[^\w-]+", "-", text.strip()).strip("-")[:40]


def _pattern(db_path: Path) -> re.Pattern[str]:
    return re.compile(
        rf"{re.escape(db_path.stem)}-(?P<at>\d{{8}}-\d{{6}})(-[\w-]+)?(\.(?P<n>\d+))?\.db"
    )


def backup(
    db_path: Path,
    dest: Path | None = None,
    *,
    at: datetime,
    tag: str = "",
    folder: str = "backups",
    keep: int = 0,
) -> BackupResult:
    """Copy the database to ``dest`` (a file, or a folder for a timestamped name; default the
    backups folder beside it), verify the copy, and prune the folder to the newest ``keep``
    backups (0 keeps all)."""
    db_path = Path(db_path)
    if not db_path.is_file():
        raise NotFound(f"{db_path}: no such database to back up")
    if dest is None:
        target_dir = folder_for(db_path, folder)
        target = None
    elif dest.is_dir():
        target_dir, target = dest, None
    else:
        target_dir, target = dest.parent, dest
        if not target_dir.is_dir():
            raise PropfeeError(f"{dest}: folder {target_dir} does not exist")
    try:
        target_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseError(
            f"{target_dir}: cannot make the backup folder ({exc.strerror})"
        ) from None
    if target is None:
        target = _free_name(target_dir, backup_name(db_path, at, tag))
    elif target.exists():
        raise PropfeeError(f"{target} already exists; a backup never overwrites a file")
    if target.resolve() == db_path.resolve():
        raise PropfeeError(f"{target} is the database itself")
    schema = copy_database(db_path, target)
    pruned = prune(db_path, target_dir, keep, spare=target) if keep else []
    return BackupResult(target, target.stat().st_size, schema, pruned)


def _free_name(folder: Path, name: str) -> Path:
    path = folder / name
    counter = 2
    while path.exists():
        path = folder / f"{name[:-3]}.{counter}.db"
        counter += 1
    return path


def copy_database(source: Path, target: Path) -> int:
    """One-step online backup of ``source`` into a new file ``target`` (mode 0600, no WAL),
    verified before it takes its name. Returns the copy's schema version."""
    from propfee.db import busy_timeout, translate

    partial = target.with_name(f".{target.name}.partial")
    src = dst = None
    try:
        fd = os.open(partial, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
        os.close(fd)
        src = sqlite3.connect(source, timeout=busy_timeout(), isolation_level=None)
        dst = sqlite3.connect(partial, isolation_level=None)
        src.backup(dst)  # all pages in one step: one read transaction, one snapshot
        dst.execute("PRAGMA journal_mode = DELETE").fetchone()
        problems = [row[0] for row in dst.execute("PRAGMA integrity_check")]
        if problems != ["ok"]:
            raise DatabaseError(f"{source}: the copy failed its integrity check: {problems[0]}")
        schema = dst.execute("PRAGMA user_version").fetchone()[0]
        dst.close()
        dst = None
        _fsync(partial)
        os.replace(partial, target)
        _fsync(target.parent)
        return schema
    except sqlite3.Error as exc:
        error = translate(exc, source)
        if "disk" in str(exc) or "full" in str(exc):
            error = DatabaseError(f"{target}: cannot write the backup ({exc})")
        raise (error if isinstance(error, PropfeeError) else DatabaseError(str(exc))) from None
    except OSError as exc:
        raise DatabaseError(f"{target}: cannot write the backup ({exc.strerror})") from None
    finally:
        for conn in (src, dst):
            if conn is not None:
                conn.close()
        for leftover in (partial, Path(f"{partial}-journal")):
            leftover.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot fsync a folder
    finally:
        os.close(fd)


def backups_of(db_path: Path, folder: Path) -> list[Path]:
    """The backups of ``db_path`` in ``folder``, oldest first."""
    if not folder.is_dir():
        return []
    pattern = _pattern(db_path)
    found = []
    for path in folder.iterdir():
        match = pattern.fullmatch(path.name)
        if match and path.is_file():
            found.append(((match["at"], int(match["n"] or 1)), path))
    return [path for _, path in sorted(found)]


def prune(db_path: Path, folder: Path, keep: int, *, spare: Path | None = None) -> list[Path]:
    """Delete all but the newest ``keep`` backups of ``db_path`` in ``folder``."""
    old = backups_of(db_path, folder)
    removed = []
    for path in old[: max(len(old) - keep, 0)]:
        if spare is not None and path == spare:
            continue
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed


# ---------------------------------------------------------------- restore


def restore(db_path: Path, source: Path, *, at: datetime, folder: str = "backups") -> RestoreResult:
    """Replace the database with ``source`` after checking it; see the module notes."""
    from propfee import db, ledger, migrations

    db_path, source = Path(db_path), Path(source)
    if not source.is_file():
        raise NotFound(f"{source}: no such file to restore")
    if db_path.exists() and source.resolve() == db_path.resolve():
        raise PropfeeError(f"{source} is the database itself")
    if not db_path.parent.is_dir():
        raise DatabaseError(f"{db_path}: folder {db_path.parent} does not exist")
    with source.open("rb") as handle:
        if handle.read(16) != SQLITE_HEADER:
            raise DatabaseError(f"{source}: not an SQLite database; nothing was restored")

    scratch = db_path.with_name(f".{db_path.name}.restore-{os.getpid()}")
    try:
        fd = os.open(scratch, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
        os.close(fd)
        shutil.copyfile(source, scratch)
        wal = Path(f"{source}-wal")
        if wal.is_file():
            shutil.copyfile(wal, f"{scratch}-wal")
        candidate = sqlite3.connect(scratch, isolation_level=None)
        try:
            schema_from, counts = _vet(candidate, source, db, ledger, migrations)
            safety = None
            if db_path.exists():
                safety = backup(db_path, at=at, tag="before-restore", folder=folder).path
                _copy_into_live(candidate, db_path)
            else:
                candidate.execute("PRAGMA journal_mode = DELETE").fetchone()
        finally:
            candidate.close()
        if safety is None:
            os.replace(scratch, db_path)
        _record(db_path, source, safety, at)
        return RestoreResult(source, safety, schema_from, migrations.SCHEMA_VERSION, counts)
    except sqlite3.Error as exc:
        raise DatabaseError(f"{source}: cannot be restored ({exc}); nothing was changed") from None
    except OSError as exc:
        raise DatabaseError(
            f"{db_path}: cannot restore ({exc.strerror or exc}); nothing was changed"
        ) from None
    finally:
        for leftover in (
            scratch,
            Path(f"{scratch}-wal"),
            Path(f"{scratch}-shm"),
            Path(f"{scratch}-journal"),
        ):
            leftover.unlink(missing_ok=True)


def _record(db_path: Path, source: Path, safety: Path | None, at: datetime) -> None:
    """The restore in the restored database's own trail, after the rows it came with."""
    from propfee import audit, db

    conn = db.connect(db_path)
    try:
        with db.transaction(conn):
            call = audit.current() or audit.Invocation("restore", {}, audit.default_operator())
            changes = {"restored_from": str(source), "safety_copy": str(safety or "")}
            audit.append(conn, call, changes, at=audit.stamp(at))
    finally:
        conn.close()


def _vet(candidate: sqlite3.Connection, source: Path, db, ledger, migrations):
    """Refuse a candidate that is damaged, foreign, too new or inconsistent; upgrade an
    older one (on the private copy). Returns its schema version and a few counts."""
    refuse = f"{source}: refused, nothing was restored"
    try:
        problems = [row[0] for row in candidate.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(f"{refuse} — the file is damaged ({exc})") from None
    if problems != ["ok"]:
        raise DatabaseError(f"{refuse} — it fails its integrity check: {problems[0]}")
    schema_from = candidate.execute("PRAGMA user_version").fetchone()[0]
    if schema_from == 0:
        raise DatabaseError(f"{refuse} — it is not a propfee database (no propfee schema)")
    candidate.row_factory = sqlite3.Row
    try:
        migrations.migrate(candidate, source)
    except DatabaseError as exc:
        raise DatabaseError(f"{refuse} — {exc}") from None
    candidate.execute("PRAGMA foreign_keys = ON")
    found = ledger.check(candidate)
    if found:
        first = found[0]
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise DatabaseError(
            f"{refuse} — propfee check fails on it: {first.what}: {first.detail}{more}"
        )
    counts = {
        table: candidate.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in ("unit", "bill", "payment")
    }
    return schema_from, counts


def _copy_into_live(candidate: sqlite3.Connection, db_path: Path) -> None:
    """The candidate's pages into the live database, in one write transaction."""
    from propfee.db import busy_timeout

    live = sqlite3.connect(db_path, timeout=busy_timeout(), isolation_level=None)
    try:
        live_size = live.execute("PRAGMA page_size").fetchone()[0]
        if candidate.execute("PRAGMA page_size").fetchone()[0] != live_size:
            # a WAL database only takes pages of its own size
            candidate.execute("PRAGMA journal_mode = DELETE").fetchone()
            candidate.execute(f"PRAGMA page_size = {live_size}")
            candidate.execute("VACUUM")
        candidate.backup(live, progress=_give_up_after(busy_timeout(), db_path))
    finally:
        live.close()


def _give_up_after(seconds: float, path: Path):
    """A backup progress callback: SQLite's backup retries a busy database for ever; this
    stops it after the busy timeout, as every other command does."""
    import time

    from propfee.errors import DatabaseBusy

    deadline = time.monotonic() + seconds

    def progress(status: int, remaining: int, total: int) -> None:
        if status in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) and time.monotonic() > deadline:
            raise DatabaseBusy(
                f"{path}: another propfee command is still writing (waited {seconds:g}s); "
                "try again when it has finished"
            )

    return progress
