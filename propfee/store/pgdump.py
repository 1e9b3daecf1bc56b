"""Backups of an estate on a PostgreSQL server, and restores from them.

A backup is ``pg_dump`` of the estate's schema (plain SQL, without owners or grants, so it
loads under any role), written beside its final name and checked before it takes it: loaded
into a scratch schema of the same server, upgraded there if it is older, and passed through
``propfee check``; the scratch schema is dropped afterwards. Names carry the estate and the
time, ``cuihu-20261123-020000.sql``.

A restore loads the dump into a scratch schema and checks it the same way. Then, holding the
estate's lock (the one every writing command takes) from before the safety copy until the
commit, it dumps the current estate to the backups folder and swaps the schemas in one
transaction: other commands see the old estate or the new one, never a mixture.

``pg_dump`` and ``psql`` come with the server's client programs; the ones found on PATH,
in PostgreSQL's usual folders and in pgserver's wheel are asked their version, and one at
least as new as the server is used (an older ``pg_dump`` refuses a newer server).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from datetime import datetime
from glob import glob
from pathlib import Path

from propfee.core.errors import DatabaseError, NotFound, PropfeeError
from propfee.core.i18n import _
from propfee.store import audit, db, migrations, pg
from propfee.store.backup import KEPT_TAGS, SQLITE_HEADER, BackupResult, folder_for
from propfee.store.migrations import SCHEMA_VERSION

DUMP_HEADER = "-- PostgreSQL database dump"
Check = Callable[[object], list]


def _candidates(program: str) -> list[str]:
    found = [shutil.which(program) or ""]
    found += sorted(glob(f"/usr/lib/postgresql/*/bin/{program}"), reverse=True)
    found += sorted(glob(f"/usr/pgsql-*/bin/{program}"), reverse=True)
    spec = importlib.util.find_spec("pgserver")
    if spec and spec.origin:
        found.append(str(Path(spec.origin).parent / "pginstall" / "bin" / program))
    return [path for path in dict.fromkeys(found) if path and os.access(path, os.X_OK)]


def _major(program: str) -> int:
    try:
        done = subprocess.run(
            [program, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError:
        return 0
    match = re.search(r"\b(\d+)(?:\.\d+)?", done.stdout)
    return int(match.group(1)) if match else 0


def tool(program: str, server_major: int) -> str:
    """The newest ``pg_dump`` or ``psql`` at least as new as the server, or a clear error
    naming what to install."""
    versions = sorted(((_major(p), p) for p in _candidates(program)), reverse=True)
    if versions and versions[0][0] >= server_major:
        return versions[0][1]
    found = _(", ").join(f"{path} ({major})" for major, path in versions) or _("none")
    raise DatabaseError(
        _(
            "{program} of PostgreSQL {major} or later is needed for a server's backups "
            "(found: {found}); install PostgreSQL {major}'s client programs (on Debian and "
            "Ubuntu: apt install postgresql-client-{major}) and put {program} on PATH"
        ).format(program=program, major=server_major, found=found)
    )


def _client(conn: pg.Connection) -> tuple[list[str], dict[str, str]]:
    """The connection options for pg_dump and psql, the password in their environment
    (never on the command line, where ps shows it)."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo  # heavy: loaded when needed

    options = conninfo_to_dict(conn.url)
    password = options.pop("password", None)
    env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
    if password:
        env["PGPASSWORD"] = str(password)
    return [f"--dbname={make_conninfo(**options)}"], env


def _server_major(conn: pg.Connection) -> int:
    return int(conn.raw.execute("SHOW server_version_num").fetchone()[0]) // 10000


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        lines = [line.strip() for line in (done.stderr or done.stdout).splitlines()]
        # the server's error, not the caret psql prints under the line it quotes
        errors = [line[line.index("ERROR:") :] for line in lines if "ERROR:" in line]
        detail = errors or [line for line in lines if line.strip("^ ")]
        raise DatabaseError(
            _("{what} failed: {error}").format(what=what, error=detail[-1] if detail else "?")
        )


def dump(conn: pg.Connection, estate: str, target: Path) -> None:
    """``pg_dump`` of one estate's schema into ``target`` (plain SQL)."""
    options, env = _client(conn)
    program = tool("pg_dump", _server_major(conn))
    _run(
        [program, *options, f'--schema="{estate}"', "--no-owner", "--no-privileges",
         "--format=plain", f"--file={target}"],
        env,
        f"pg_dump --schema {estate}",
    )  # fmt: skip


def dumped_estate(path: Path) -> str | None:
    """The estate (schema) a dump made by propfee backup holds, or None for another file."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    if head.startswith(SQLITE_HEADER) or DUMP_HEADER.encode() not in head:
        return None
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            match = re.match(r'CREATE SCHEMA "?(\w+)"?;', line)
            if match:
                return match.group(1)
    return None


def _renamed(source: Path, target: Path, schema: str, scratch: str) -> None:
    """The dump with its schema's name changed (never inside the rows of a COPY)."""
    name = re.compile(rf'(?<![\w"])"?{re.escape(schema)}"?(?=[.;])')
    in_rows = False
    with source.open(encoding="utf-8") as src, target.open("w", encoding="utf-8") as out:
        for line in src:
            if in_rows:
                in_rows = line != "\\.\n"
            elif line.startswith("COPY "):
                in_rows = True
                line = name.sub(scratch, line, count=1)
            elif not line.startswith("--"):
                line = name.sub(scratch, line)
            out.write(line)


def load(conn: pg.Connection, source: Path, schema: str, into: str) -> None:
    """Load a dump of ``schema`` into the new schema ``into``, in one transaction."""
    options, env = _client(conn)
    program = tool("psql", _server_major(conn))
    fd, name = tempfile.mkstemp(prefix=".propfee-load-", suffix=".sql")
    os.close(fd)
    try:
        _renamed(source, Path(name), schema, into)
        _run(
            [program, *options, "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction",
             "-f", name],
            env,
            f"psql {source.name}",
        )  # fmt: skip
    finally:
        os.unlink(name)


def scratch_name(estate: str) -> str:
    return f"_{estate[:40]}_scratch_{os.getpid()}"


def vet(
    conn: pg.Connection, source: Path, schema: str, check: Check
) -> tuple[str, int, dict[str, int]]:
    """Load a dump into a scratch schema, upgrade it if older, run ``check`` on it. Returns
    the scratch schema (the caller drops or keeps it), the dump's schema version and counts.
    A dump that fails is refused with the reason, its scratch schema dropped."""
    scratch = scratch_name(schema)
    conn.raw.execute(f'DROP SCHEMA IF EXISTS "{scratch}" CASCADE')
    refuse = _("{path}: refused, nothing was restored").format(path=source)
    try:
        try:
            load(conn, source, schema, scratch)
        except DatabaseError as exc:  # a dump cut short or spoilt: psql stops at the error
            raise DatabaseError(f"{refuse} — {exc}") from None
        version = conn.raw.execute(
            f'SELECT coalesce(max(version), 0) FROM "{scratch}"._migrations'
        ).fetchone()[0]
        if version > SCHEMA_VERSION:  # refused naming the propfee that made it and this one
            newer = db.connect_server(conn.url, estate=scratch, migrate=False)
            try:
                migrations.migrate(newer, source)
            except DatabaseError as exc:
                raise DatabaseError(f"{refuse} — {exc}") from None
            finally:
                newer.close()
        candidate = db.connect_server(conn.url, estate=scratch)  # an older one upgraded
        try:
            found = check(candidate)
            counts = {
                table: candidate.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("unit", "bill", "payment")
            }
        finally:
            candidate.close()
        if found:
            first = found[0]
            raise DatabaseError(
                _("{refuse} — propfee check fails on it: {what}: {detail}").format(
                    refuse=refuse, what=first.what, detail=first.detail
                )
            )
    except BaseException:
        conn.raw.execute(f'DROP SCHEMA IF EXISTS "{scratch}" CASCADE')
        raise
    return scratch, version, counts


def backup_name(estate: str, at: datetime, tag: str = "") -> str:
    suffix = "-" + re.sub(r"[^\w-]+", "-", tag.strip()).strip("-")[:40] if tag else ""
    return f"{estate}-{at:%Y%m%d-%H%M%S}{suffix}.sql"


def _target(estate: str, dest: Path | None, at: datetime, tag: str, folder: str) -> Path:
    if dest is not None and not dest.is_dir():
        if not dest.parent.is_dir():
            raise PropfeeError(
                _("{dest}: folder {target_dir} does not exist").format(
                    dest=dest, target_dir=dest.parent
                )
            )
        if dest.exists():
            raise PropfeeError(
                _("{target} already exists; a backup never overwrites a file").format(target=dest)
            )
        return dest
    where = dest if dest is not None else folder_for(pg.estate_path(estate), folder)
    where.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = where / backup_name(estate, at, tag)
    number = 2
    while target.exists():
        target = where / backup_name(estate, at, f"{tag}-{number}" if tag else str(number))
        number += 1
    return target


def backup(
    conn: pg.Connection,
    dest: Path | None,
    *,
    at: datetime,
    check: Check,
    tag: str = "",
    folder: str = "backups",
    keep: int = 0,
) -> BackupResult:
    """Dump the estate to ``dest`` (a file, or a folder for a timestamped name; default the
    backups folder), checked by loading it into a scratch schema before it takes its name;
    then keep only the newest ``keep`` dumps of the estate in that folder (0 keeps all)."""
    estate = conn.estate
    target = _target(estate, dest, at, tag, folder)
    partial = target.with_name(f".{target.name}.partial")
    try:
        dump(conn, estate, partial)
        os.chmod(partial, 0o600)
        scratch, version, _counts = vet(conn, partial, estate, check)
        conn.raw.execute(f'DROP SCHEMA IF EXISTS "{scratch}" CASCADE')
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    pruned = prune(estate, target.parent, keep, spare=target) if keep else []
    return BackupResult(target, target.stat().st_size, version, pruned)


def before_upgrade(
    conn: pg.Connection,
    version: int,
    *,
    folder: str = "backups",
    on_upgrade: Callable[[int, int], None] | None = None,
) -> None:
    """An estate made by an older propfee (schema ``version``) is dumped to the backups
    folder before it is upgraded, as a file is copied there: ``on_upgrade(from, to)`` told
    first. The dump is proven as every backup is — loaded into a scratch schema and upgraded
    there — so the upgrade has run once on a copy before it touches the estate."""
    if on_upgrade is not None:
        on_upgrade(version, SCHEMA_VERSION)
    try:
        backup(
            conn,
            None,
            at=audit.now(),
            check=lambda _copy: [],  # the copy loads and upgrades: what the file's copy proves
            tag=f"before-upgrade-from-schema-{version}",
            folder=folder,
        )
    except (PropfeeError, OSError) as exc:
        raise DatabaseError(
            _(
                "{path}: made by an older propfee (schema {version}); it is "
                "backed up before the upgrade, and the backup failed: {exc}"
            ).format(path=conn.name, version=version, exc=exc)
        ) from None


def prune(estate: str, folder: Path, keep: int, *, spare: Path) -> list[Path]:
    """Delete all but the newest ``keep`` dumps of the estate in ``folder`` (never a safety
    copy taken before a restore)."""
    pattern = re.compile(rf"{re.escape(estate)}-(\d{{8}}-\d{{6}})(-[\w-]+)?\.sql")
    found = sorted(  # the same second: the second one made is "-2", the third "-3" …
        (match.group(1), int((re.search(r"-(\d+)$", match.group(2) or "") or [0, 1])[1]), path)
        for path in folder.iterdir()
        if (match := pattern.fullmatch(path.name))
        and not any(tag in path.name for tag in KEPT_TAGS)
        and dumped_estate(path) == estate
    )
    removed = []
    for _at, _n, path in found[: max(len(found) - keep, 0)]:
        if path != spare:
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def restore(
    conn: pg.Connection,
    source: Path,
    *,
    at: datetime,
    check: Check,
    folder: str = "backups",
) -> tuple[Path | None, int, dict[str, int], bool]:
    """Replace the estate's schema with a checked dump (see the module notes). Returns the
    safety copy of the estate as it was (None for a new estate), the dump's schema version,
    a few counts, and whether the dump came from another estate."""
    if not source.is_file():
        raise NotFound(_("{source}: no such file to restore").format(source=source))
    theirs = dumped_estate(source)
    if theirs is None:
        raise DatabaseError(
            _(
                "{source}: not a backup of an estate on a PostgreSQL server (propfee backup "
                "--db postgresql://…); an SQLite backup is moved to a server with propfee "
                "migrate-to; nothing was restored"
            ).format(source=source)
        )
    estate = conn.estate
    scratch, version, counts = vet(conn, source, theirs, check)
    safety = identity = None
    try:
        with conn.raw.transaction():
            conn.raw.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"propfee {estate}",))
            if conn.raw.execute("SELECT to_regclass(%s)", (f'"{estate}".meta',)).fetchone()[0]:
                safety = _target(estate, None, at, "before-restore", folder)
                dump(conn, estate, safety)
                identity = conn.raw.execute(
                    f"SELECT value FROM \"{estate}\".meta WHERE key = 'database_id'"
                ).fetchone()
            conn.raw.execute(f'DROP SCHEMA IF EXISTS "{estate}" CASCADE')
            conn.raw.execute(f'ALTER SCHEMA "{scratch}" RENAME TO "{estate}"')
    except BaseException:
        conn.raw.execute(f'DROP SCHEMA IF EXISTS "{scratch}" CASCADE')
        raise
    _record(conn, source, safety, at, identity[0] if identity else None)
    return safety, version, counts, theirs != estate


def _record(
    conn: pg.Connection, source: Path, safety: Path | None, at: datetime, identity: str | None
) -> None:
    """The restore in the restored estate's own trail; the estate keeps the id it had."""
    with db.transaction(conn):
        if identity is not None:
            db.set_meta(conn, "database_id", identity)
        call = audit.current() or audit.Invocation("restore", {}, audit.default_operator())
        changes = {"restored_from": str(source), "safety_copy": str(safety or "")}
        audit.append(conn, call, changes, at=audit.stamp(at))
