"""Backups of the database file (restores: store/restore.py).

A backup goes through SQLite's online backup API in one step: the copy is one consistent
snapshot even while another propfee process is writing (a plain file copy of a WAL database
is not). It is written beside its final name, turned into a self-contained file (no ``-wal``),
checked with ``PRAGMA integrity_check`` and only then renamed into place, so a backup that
exists is a good one. Names carry the time, ``propfee-20261123-020000.db``, and an automatic
backup says why: ``propfee-20261123-020000-before-reconcile.db``.
"""

from __future__ import annotations

import os
import re
import sqlite3
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from propfee.core.errors import DatabaseError, NotFound, PropfeeError
from propfee.core.i18n import _
from propfee.store.connection import busy_timeout, translate

SQLITE_HEADER = b"SQLite format 3\x00"


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    schema: int
    pruned: list[Path] = field(default_factory=list)


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
    backups of this database (0 keeps all)."""
    db_path = Path(db_path)
    if not db_path.is_file():
        raise NotFound(_("{db_path}: no such database to back up").format(db_path=db_path))
    if db_path.stat().st_size == 0:
        raise DatabaseError(
            _(
                "{db_path}: the file is empty (0 bytes); no backup was made — "
                "if it was the database, it was truncated: restore a backup"
            ).format(db_path=db_path)
        )
    if dest is None:
        target_dir, target = folder_for(db_path, folder), None
    elif dest.is_dir():
        target_dir, target = dest, None
    else:
        target_dir, target = dest.parent, dest
        if not target_dir.is_dir():
            raise PropfeeError(
                _("{dest}: folder {target_dir} does not exist").format(
                    dest=dest, target_dir=target_dir
                )
            )
        if target.exists():
            raise PropfeeError(
                _("{target} already exists; a backup never overwrites a file").format(target=target)
            )
        if target.resolve() == db_path.resolve():
            raise PropfeeError(_("{target} is the database itself").format(target=target))
    try:
        target_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseError(
            _("{target_dir}: cannot make the backup folder ({error})").format(
                target_dir=target_dir, error=exc.strerror
            )
        ) from None
    made, schema = copy_database(
        db_path, target or target_dir / backup_name(db_path, at, tag), numbered=target is None
    )
    pruned = prune(db_path, target_dir, keep, spare=made) if keep else []
    return BackupResult(made, made.stat().st_size, schema, pruned)


def copy_database(source: Path, target: Path, *, numbered: bool = False) -> tuple[Path, int]:
    """One-step online backup of ``source`` into a new file (mode 0600, no WAL), verified
    before it takes its name: ``target``, or with ``numbered`` the first free of ``target``,
    ``….2.db``, ``….3.db`` (two backups in the same second each get their own). Returns the
    file made and its schema version."""
    src = dst = None
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    os.close(fd)
    partial = Path(name)
    stage = "read"  # a fresh copy that reads as malformed was copied from a damaged file
    try:
        src = sqlite3.connect(source, timeout=busy_timeout(), isolation_level=None)
        dst = sqlite3.connect(partial, isolation_level=None)
        src.backup(dst)  # all pages in one step: one read transaction, one snapshot
        stage = "write"
        dst.execute("PRAGMA journal_mode = DELETE").fetchone()
        problems = [row[0] for row in dst.execute("PRAGMA integrity_check")]
        if problems != ["ok"]:
            raise DatabaseError(
                _(
                    "{source}: the database is damaged ({first_problem}); no "
                    "backup was made — restore an earlier backup"
                ).format(source=source, first_problem=first_problem(problems))
            )
        schema = dst.execute("PRAGMA user_version").fetchone()[0]
        if schema == 0:
            raise DatabaseError(
                _("{source}: not a propfee database; no backup was made").format(source=source)
            )
        dst.close()
        dst = None
        _fsync(partial)
        made = link_free(partial, target, numbered)
        _fsync(made.parent)
        return made, schema
    except sqlite3.Error as exc:
        message = str(exc)
        if "malformed" in message or (stage == "read" and "not a database" in message):
            raise DatabaseError(
                _(
                    "{source}: the database is damaged ({message}); no backup was "
                    "made — restore an earlier backup"
                ).format(source=source, message=message)
            ) from None
        if "locked" in message or "busy" in message:
            raise translate(exc, source) from None
        raise DatabaseError(
            _("{target}: cannot write the backup ({message})").format(
                target=target, message=message
            )
        ) from None
    except OSError as exc:
        raise DatabaseError(
            _("{target}: cannot write the backup ({error})").format(
                target=target, error=exc.strerror
            )
        ) from None
    finally:
        for conn in (src, dst):
            if conn is not None:
                conn.close()
        for leftover in (partial, Path(f"{partial}-journal")):
            leftover.unlink(missing_ok=True)


def first_problem(problems: list[str]) -> str:
    """One line of what integrity_check found (it can run to hundreds)."""
    lines = [line.strip() for p in problems for line in str(p).splitlines() if "***" not in line]
    more = _(" and {value} more").format(value=len(lines) - 1) if len(lines) > 1 else ""
    return (lines[0] if lines else _("damaged")) + more


def link_free(partial: Path, target: Path, numbered: bool) -> Path:
    """Give the finished copy its name without ever replacing a file (a hard link fails if
    the name is taken, even by a backup another process finished a moment ago)."""
    candidate, counter = target, 2
    while True:
        try:
            os.link(partial, candidate)
            return candidate
        except FileExistsError:
            if not numbered:
                raise PropfeeError(
                    _("{target} already exists; a backup never overwrites a file").format(
                        target=target
                    )
                ) from None
            candidate = target.with_name(f"{target.name[:-3]}.{counter}.db")
            counter += 1


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot fsync a folder
    finally:
        os.close(fd)


KEPT_TAGS = ("before-restore", "before-upgrade")  # never pruned: the way back from those


def backups_of(db_path: Path, folder: Path) -> list[Path]:
    """The backups of this database in ``folder``, oldest first: named after it, and made
    from it — the same database id (another estate's ``propfee.db`` backed up into a shared
    folder is not ours; a file without an id is only ours if we have none either)."""
    if not folder.is_dir():
        return []
    pattern = _pattern(db_path)
    ours = database_id(db_path)
    found = []
    for path in folder.iterdir():
        match = pattern.fullmatch(path.name)
        if match and path.is_file() and database_id(path) == ours:
            found.append(((match["at"], int(match["n"] or 1)), path))
    return [path for _, path in sorted(found)]


def database_id(path: Path) -> str | None:
    """The random id a propfee database is given when it is made (None: unreadable or made
    before ids)."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'database_id'").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return row[0] if row else None


def prune(db_path: Path, folder: Path, keep: int, *, spare: Path | None = None) -> list[Path]:
    """Delete all but the newest ``keep`` backups of ``db_path`` in ``folder`` (never a
    safety copy taken before a restore or an upgrade)."""
    old = [p for p in backups_of(db_path, folder) if not any(tag in p.name for tag in KEPT_TAGS)]
    removed = []
    for path in old[: max(len(old) - keep, 0)]:
        if spare is not None and path == spare:
            continue
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed
