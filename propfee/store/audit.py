"""The audit trail: who ran which write command, when, with which arguments, and what it
changed — written in the same transaction as the change.

A command's transaction (``db.transaction``) asks :func:`begin` for a snapshot when it opens
and hands it to :func:`record` just before it commits. The snapshot is the connection's change
counter and the highest rowid of every table; since propfee never deletes a row, the rowid
deltas are exactly the rows each table gained, and the rest of the change counter is rows
updated. The counter is of the rows the command's statements changed themselves: the search
index, kept by triggers, is neither counted nor listed. Nothing is recorded outside a command (a library call has no invocation), for a
transaction that changed nothing (a re-run stays a no-op), or for a dry run.

A command is named by :func:`invocation`; the CLI wraps every command in one (see
propfee/cli/__init__.py), which also gives every write command its ``--operator`` option.

The trail is append-only: triggers refuse UPDATE and DELETE, and each row carries the SHA-256
of its content and of the row before it, so ``propfee check`` notices a row edited, removed or
inserted behind propfee's back (by someone who did not also recompute every later hash).
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

from propfee.core.i18n import _
from propfee.core.privacy import mask_in_text
from propfee.store import pg

GENESIS = "0" * 64
AUDIT_SCHEMA = 8  # the schema version that added the trail (migration m008_audit_trail)


@dataclass(frozen=True)
class Invocation:
    """One run of a command, as the trail names it."""

    command: str
    args: dict[str, Any]
    operator: str


@dataclass
class Snapshot:
    changes: int
    rowids: dict[str, int]
    invocation: Invocation
    at: str


_current: ContextVar[Invocation | None] = ContextVar("propfee_invocation", default=None)
_clock: ContextVar[Callable[[], datetime] | None] = ContextVar("propfee_clock", default=None)


@contextmanager
def invocation(
    command: str,
    args: dict[str, Any] | None = None,
    *,
    operator: str = "",
    clock: Callable[[], datetime] | None = None,
) -> Iterator[Invocation]:
    """Run the block as the command ``command``: every transaction committed inside it is
    recorded in the trail, stamped by ``clock`` (default: the machine's)."""
    call = Invocation(
        command,
        {k: _plain(v) for k, v in (args or {}).items()},
        operator.strip() or default_operator(),
    )
    token, clock_token = _current.set(call), _clock.set(clock)
    try:
        yield call
    finally:
        _current.reset(token)
        _clock.reset(clock_token)


def current() -> Invocation | None:
    return _current.get()


def default_operator() -> str:
    """$PROPFEE_OPERATOR, else the login name."""
    name = os.environ.get("PROPFEE_OPERATOR", "").strip()
    if name:
        return name
    try:
        return getpass.getuser()
    except Exception:  # no USER variable and no passwd entry (some containers)
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (Path, date, datetime)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def stamp(at: datetime) -> str:
    return at.replace(microsecond=0).isoformat(sep=" ")


# ---------------------------------------------------------------- recording


def _tops(conn: sqlite3.Connection) -> dict[str, int]:
    """The highest rowid of every table ``_tables`` names, and the trail's last id (as
    ``audit``): one statement, however many tables (on a server, one round trip)."""
    tables = _tables(conn)
    tops = [f'(SELECT coalesce(max(rowid), 0) FROM "{table}")' for table in tables]
    row = conn.execute(
        f"SELECT {', '.join(tops)}{', ' if tops else ''}(SELECT coalesce(max(id), 0) FROM audit)"
    ).fetchone()
    return {**dict(zip(tables, row, strict=False)), "audit": row[-1]}


def _tables(conn: sqlite3.Connection) -> list[str]:
    """The tables whose rowid counts their rows: every table but the trail itself, tables
    without a rowid, and the counters keyed by year (an INTEGER PRIMARY KEY that is not a
    surrogate ``id``). Read once per connection and schema version (a migration adds
    tables)."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    known = getattr(conn, "audited_tables", None)
    if known is not None and known[0] == version:
        return known[1]
    tables = []
    for name, sql in conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' "
        "AND name NOT LIKE 'sqlite_%' AND name NOT IN ('audit', '_migrations') "
        "AND name NOT GLOB '*_fts' AND name NOT GLOB '*_fts_*'"  # the search index
    ):
        if "WITHOUT ROWID" in (sql or "").upper():
            continue
        keys = [
            (column, kind.upper())
            for _, column, kind, _, _, pk in conn.execute(f'PRAGMA table_info("{name}")')
            if pk
        ]
        if len(keys) == 1 and keys[0][1] == "INTEGER" and keys[0][0] != "id":
            continue
        tables.append(name)
    with contextlib.suppress(AttributeError):  # a plain sqlite3 connection keeps nothing
        conn.audited_tables = (version, tables)
    return tables


def has_trail(conn: sqlite3.Connection) -> bool:
    return (
        conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit'"
        ).fetchone()
        is not None
    )


def begin(conn: sqlite3.Connection) -> Snapshot | None:
    """What the database looks like as a command's transaction opens (None: not audited)."""
    call = _current.get()
    if call is None or not has_trail(conn):
        return None
    return Snapshot(_changes(conn), _tops(conn), call, stamp(now()))


def _changes(conn: sqlite3.Connection) -> int:
    """Rows changed so far by the connection's own statements: propfee's connection counts
    them without what triggers did (the search index's upkeep); any other, all changes."""
    direct = getattr(conn, "direct_changes", None)
    return conn.total_changes if direct is None else direct


def now() -> datetime:
    """The running command's clock (the CLI's, pinned in tests); a library call outside any
    command stamps with the machine's."""
    clock = _clock.get()
    return clock() if clock is not None else datetime.now()


def record(conn: sqlite3.Connection, snapshot: Snapshot | None) -> int | None:
    """Append the trail row for the transaction ``snapshot`` opened; returns its id."""
    if snapshot is None:
        return None
    added: dict[str, int] = {}
    tops = _tops(conn)
    for table, top in tops.items():
        grown = top - snapshot.rowids.get(table, 0)
        if grown > 0 and table != "audit":
            added[table] = grown
    own = tops["audit"] - snapshot.rowids["audit"]  # rows a command appended itself
    updated = _changes(conn) - snapshot.changes - sum(added.values()) - own
    if (not added and updated <= 0) or own:
        return None  # a re-run that changed nothing leaves no trace, not even here
    changes: dict[str, Any] = {"added": added}
    if updated > 0:
        changes["updated"] = updated
    return append(conn, snapshot.invocation, changes, at=snapshot.at)


def note(conn: sqlite3.Connection, changes: dict[str, Any]) -> int | None:
    """Record, for the running command, an act that changed no row but belongs on the trail:
    personal data written out in full (LEGAL rule 10). None outside a command."""
    call = _current.get()
    if call is None or not has_trail(conn):
        return None
    return append(conn, call, changes, at=stamp(now()))


def append(conn: sqlite3.Connection, call: Invocation, changes: dict[str, Any], *, at: str) -> int:
    """Write one row of the trail, chained to the one before it."""
    last = conn.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    number = (last[0] + 1) if last else 1
    previous = last[1] if last else GENESIS
    args = _dump(call.args)
    changed = _dump(changes)
    digest = chain_hash(previous, number, at, call.operator, call.command, args, changed)
    conn.execute(
        "INSERT INTO audit (id, at, operator, command, args, changes, prev_hash, hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (number, at, call.operator, call.command, args, changed, previous, digest),
    )
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('audit_head', ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (f"{number} {digest}",),
    )
    return number


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def chain_hash(previous: str, number: int, *fields: str) -> str:
    payload = json.dumps([previous, number, *fields], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def verify(conn: sqlite3.Connection) -> list[str]:
    """Every way the trail is broken (empty: unbroken)."""
    if not has_trail(conn):
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        return ["the audit trail (table audit) is missing"] if version >= AUDIT_SCHEMA else []
    problems = []
    triggers = dict(
        conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit'"
        ).fetchall()
    )
    for trigger in ("audit_no_update", "audit_no_delete"):
        if trigger not in triggers:
            problems.append(
                _("the trigger {trigger} that keeps the trail append-only is missing").format(
                    trigger=trigger
                )
            )
        elif "RAISE" not in str(triggers[trigger]).upper():
            problems.append(
                _("the trigger {trigger} no longer refuses changes to the trail").format(
                    trigger=trigger
                )
            )
    expected_id, previous = 1, GENESIS
    for row in pg.stream(  # the whole trail, never all held
        conn,
        "SELECT id, at, operator, command, args, changes, prev_hash, hash FROM audit ORDER BY id",
    ):
        number = row[0]
        # a value someone wrote by hand may not even be text: it then fails its hash
        at, operator, command, args, changes, prev_hash, digest = (
            v if isinstance(v, str) else repr(v) for v in row[1:]
        )
        if number != expected_id:
            problems.append(
                _("rows {expected_id}–{value} are missing").format(
                    expected_id=expected_id, value=number - 1
                )
            )
        if prev_hash != previous:
            problems.append(
                _("row {number} does not follow the row before it").format(number=number)
            )
        if chain_hash(prev_hash, number, at, operator, command, args, changes) != digest:
            problems.append(
                _("row {number} was changed after it was written").format(number=number)
            )
        expected_id, previous = number + 1, digest
        if len(problems) > 20:
            break
    head = conn.execute("SELECT value FROM meta WHERE key = 'audit_head'").fetchone()
    last = f"{expected_id - 1} {previous}"
    if head is not None and head[0] != last:
        newest = str(head[0]).split(" ")[0]
        problems.append(
            _(
                "the newest entries are missing or changed: the trail ends at "
                "row {value}, its last recorded entry is row {newest}"
            ).format(value=expected_id - 1, newest=newest)
        )
    elif head is None and expected_id > 1:
        problems.append("the record of the trail's newest entry (meta audit_head) is missing")
    if expected_id == 1:
        problems.append("the audit trail is empty (it starts when the database is made)")
    return problems


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class Entry:
    id: int
    at: str
    operator: str
    command: str
    args: dict[str, Any]
    changes: dict[str, Any]

    def summary(self) -> str:
        """The changes in a few words: "bill +300, payment +2, 5 updated"."""
        added = self.changes.get("added", {})
        parts = [f"{t} +{n}" for t, n in added.items()] if isinstance(added, dict) else []
        if self.changes.get("updated"):
            parts.append(_("{changes} updated").format(changes=self.changes["updated"]))
        parts += [
            f"{key} {value}"
            for key, value in self.changes.items()
            if key not in ("added", "updated")
        ]
        return ", ".join(parts) or _("nothing changed")


def entries(
    conn: sqlite3.Connection,
    *,
    since: date | None = None,
    until: date | None = None,
    operator: str | None = None,
    command: str | None = None,
    mask: bool = False,
) -> list[Entry]:
    """The trail, oldest first, filtered; ``command`` matches a whole command or its group
    (``fees`` matches ``fees add``). With ``mask``, phone and ID numbers in the arguments
    are masked."""
    if not has_trail(conn):
        return []
    where, params = [], []
    if since is not None:
        where.append("at >= ?")
        params.append(since.isoformat())
    if until is not None:
        where.append("at < date(?, '+1 day')")
        params.append(until.isoformat())
    if operator:
        where.append("operator = ?")
        params.append(operator.strip())
    if command:
        where.append("(command = ? OR substr(command, 1, length(?) + 1) = ? || ' ')")
        params += [command.strip()] * 3
    sql = "SELECT id, at, operator, command, args, changes FROM audit"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return [
        Entry(
            number, at, who, what, _masked(_loads(args)) if mask else _loads(args), _loads(changes)
        )
        for number, at, who, what, args, changes in conn.execute(sql + " ORDER BY id", params)
    ]


def _masked(args: dict[str, Any]) -> dict[str, Any]:
    return {
        k: [mask_in_text(x) for x in v] if isinstance(v, list) else mask_in_text(v)
        for k, v in args.items()
    }


def _loads(text: str) -> dict[str, Any]:
    """A stored JSON object; a row someone has tampered with still lists (check says so)."""
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return {"unreadable": str(text)}
    return value if isinstance(value, dict) else {"unreadable": str(text)}
