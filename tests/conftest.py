from __future__ import annotations

import csv
import inspect
import os
import re
import shutil
import sqlite3
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import NamedTuple

import pytest
from typer.testing import CliRunner

# the suite reads Chinese output whatever the machine's locale; English is tested on purpose
os.environ["PROPFEE_LANG"] = "zh"

from propfee.cli import app
from propfee.cli.lang import speak
from propfee.collection import dunning
from propfee.config import DEFAULTS
from propfee.payments import ledger
from propfee.store import db, pg
from propfee.store.db import transaction

AS_OF = date(2026, 11, 15)
NOW = datetime(2026, 11, 15, 9, 30, 0)
CLI_NOW = datetime(2027, 6, 30, 12, 0, 0)


# the residential service fee most CLI tests start from
PROP_FEE = (
    "fees",
    "add",
    "PROP",
    "--name",
    "物业服务费",
    "--basis",
    "area",
    "--price",
    "2.50",
    "--kinds",
    "residential",
    "--from",
    "2020-01-01",
)


def propfee_process(*args, db_path, cwd, env=None, preexec_fn=None, wait=True):
    """propfee in a real process of its own: finished (CompletedProcess), or with
    ``wait=False`` still running (Popen)."""
    import os
    import subprocess
    import sys

    command = [sys.executable, "-m", "propfee", *args, "--db", str(db_path)]
    environment = {**os.environ, **(env or {})}
    if not wait:
        return subprocess.Popen(
            command,
            cwd=cwd,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=preexec_fn,
        )
    return subprocess.run(
        command,
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=preexec_fn,
        timeout=300,
    )


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """No test sees the user's environment, home directory or working directory."""
    for var in (
        "PROPFEE_DB",
        "PROPFEE_CONFIG",
        "PROPFEE_OPERATOR",
        "PROPFEE_DEBUG",
        "PROPFEE_BUSY_TIMEOUT",
        "PROPFEE_ESTATE",
    ):
        monkeypatch.delenv(var, raising=False)
    # the commands' clock (stamps, "not in the future" checks) is pinned: no test depends on
    # the machine's date
    import propfee.cli

    for module in vars(propfee.cli).values():
        if getattr(module, "__name__", "").startswith("propfee.cli.") and hasattr(module, "now"):
            monkeypatch.setattr(module, "now", lambda: CLI_NOW)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)
    yield
    speak("zh")  # a test that asked for English (--lang en in process) leaves none behind


def _pg_wanted() -> bool:
    """Whether the suite runs its database tests on PostgreSQL too: always in CI
    (PROPFEE_TEST_PG=required), elsewhere where pgserver and psycopg are installed, never
    with PROPFEE_TEST_PG=off."""
    wanted = os.environ.get("PROPFEE_TEST_PG", "")
    if wanted == "required":
        return True
    if wanted == "off":
        return False
    import importlib.util

    return all(importlib.util.find_spec(name) for name in ("pgserver", "psycopg"))


#: conftest's own fixtures that give the database to a test (on either engine)
_ENGINE_FIXTURES = frozenset({"engine", "database", "db_path", "conn", "cli", "pg_url"})

#: how a test may use ``db_path`` and still run on both engines: as the CLI's --db, through
#: :func:`dump` and through propfee's own ``db.connect``
_DB_PATH_EITHER_ENGINE = re.compile(
    r"\bdump\(db_path\)|\bdb\.connect\(db_path\)|\"--db\",\s*(?:str\()?db_path\b\)?"
    r"|\bdb(?:_path)?=db_path\b"
)
_SIGNATURE = re.compile(r"\bdef \w+\(.*?\)\s*(?:->[^:]*)?:", re.S)

#: what only an SQLite file has: sqlite3 itself, its dump, the file by name or as a path
_THE_FILE = re.compile(
    r"\bsqlite3\.|\bsqlite_utils\b|iterdump|\"propfee\.db\"|\bdb_path\b|PRAGMA|sqlite_master"
    r"|_fts\b"
)


def _uses_the_file(metafunc) -> bool:
    """Whether a test needs the SQLite file itself: its code, or the code of a fixture of its
    test module it asks for, uses sqlite3, the file by its name or its path (anything but
    the CLI's --db, :func:`dump` and ``db.connect``), a PRAGMA or the FTS5 index."""
    sources = [metafunc.function]
    for name, defs in metafunc._arg2fixturedefs.items():
        if name not in _ENGINE_FIXTURES:
            sources.append(defs[-1].func)
    for function in sources:
        try:
            source = inspect.getsource(function)
        except (OSError, TypeError):
            continue
        body = _SIGNATURE.sub("", source, count=1)
        if _THE_FILE.search(_DB_PATH_EITHER_ENGINE.sub("", body)):
            return True
    return False


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "sqlite_only: the test is about the SQLite file itself (its bytes, its folder, a raw "
        "sqlite3 connection): the cli fixture runs it on SQLite only",
    )


def pytest_generate_tests(metafunc):
    """Every test that reaches the database through ``cli``, ``conn`` or ``db_path`` runs on
    both engines (``[lite]`` and ``[pg]``), unless it needs the SQLite file itself (see
    :func:`_uses_the_file`) or is marked ``sqlite_only``."""
    if "engine" not in metafunc.fixturenames:
        return
    engines = ["lite"]
    if (
        _pg_wanted()
        and not _uses_the_file(metafunc)
        and metafunc.definition.get_closest_marker("sqlite_only") is None
    ):
        engines.append("pg")
    metafunc.parametrize("engine", engines, indirect=True)


def pytest_collection_modifyitems(config, items):
    """PROPFEE_TEST_ENGINE=pg (or lite) runs only that engine's half of the database tests."""
    only = os.environ.get("PROPFEE_TEST_ENGINE")
    if only not in ("lite", "pg"):
        return
    kept, dropped = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        (kept if params.get("engine") == only else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture
def engine(request) -> str:
    """The database engine a test's ``cli`` runs on: lite (an SQLite file) or pg."""
    return getattr(request, "param", "lite")


@pytest.fixture(scope="session")
def pg_url():
    """A PostgreSQL server for the whole session (pgserver: a server in a wheel, started
    without network); tests that need it are skipped where pgserver or psycopg is missing.
    It runs without fsync: a test's data need not survive a power cut, and making an
    estate's schema takes a tenth of a second instead of half a second."""
    if os.environ.get("PROPFEE_TEST_PG") == "required":  # CI: never skipped there
        import pgserver
    else:
        pgserver = pytest.importorskip("pgserver")
        pytest.importorskip("psycopg")
    import psycopg

    # its own folder under the system's temporary one: run as root, pgserver starts the
    # server as another user, who may not enter pytest's private folders
    data = Path(tempfile.mkdtemp(prefix="propfee-pg-"))
    server = pgserver.get_server(data, cleanup_mode="stop")
    try:
        url = server.get_uri()
        with psycopg.connect(url, autocommit=True) as raw:
            for setting in ("fsync", "synchronous_commit", "full_page_writes"):
                raw.execute(f"ALTER SYSTEM SET {setting} = off")
            raw.execute("SELECT pg_reload_conf()")
        yield url
    finally:
        server.cleanup()
        shutil.rmtree(data, ignore_errors=True)


_estates = iter(range(1, 1_000_000))


def _estate_name(request) -> str:
    """A schema name of this test's own, never used before in the session (so no test
    needs to drop one)."""
    name = "".join(c if c.isalnum() else "_" for c in request.node.name.lower())
    return f"t{next(_estates):05d}_{name}"[:63].rstrip("_")


@pytest.fixture
def pg_estate(pg_url, request) -> str:
    """A server address naming an estate of its own for this test (a schema not yet made)."""
    return pg.shareable(pg_url, _estate_name(request))


@pytest.fixture
def database(engine, tmp_path, request) -> str:
    """Where the test's commands keep the estate: ./propfee.db in the test's folder, or on
    [pg] a fresh estate on the session's server."""
    if engine == "pg":
        return pg.shareable(request.getfixturevalue("pg_url"), _estate_name(request))
    return str(tmp_path / "propfee.db")


@pytest.fixture
def db_path(engine, database) -> Path:
    """The test's database: ./propfee.db in the test's folder; on [pg] (a test that only
    hands it to the CLI's --db) the address of the test's estate on the session's server."""
    return Path(database) if engine == "lite" else database


@pytest.fixture
def conn(db_path):
    """propfee's connection to the test's database (on [pg] its estate on the server)."""
    connection = db.connect(db_path)
    yield connection
    connection.close()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def cli(runner, database):
    """Run a propfee command against the test database: cli("units", "list"); on [pg] the
    test's estate on the session's server."""

    def run(*args: str, db: Path | str | None = None):
        return runner.invoke(app, [*args, "--db", str(db or database)], catch_exceptions=False)

    return run


def write_xlsx(
    path: Path,
    rows: list[list[object]],
    *,
    sheet: str = "Sheet1",
    merges: tuple[str, ...] = (),
    more_sheets: dict | None = None,
) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    for row in rows:
        ws.append(row)
    for merge in merges:
        ws.merge_cells(merge)
    for name, (extra_rows, state) in (more_sheets or {}).items():
        other = wb.create_sheet(name)
        other.sheet_state = state
        for row in extra_rows:
            other.append(row)
    wb.save(path)
    return path


def write_csv(
    path: Path, rows: list[list[object]], *, encoding: str = "utf-8", delimiter: str = ","
) -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])
    return path


def dump(path: Path | str) -> list[str]:
    """Every row of every table, to compare a database before and after a command: an SQLite
    file, or on [pg] the estate's schema (nothing when the schema is not there)."""
    if pg.is_server(path):
        return _dump_schema(str(path))
    connection = sqlite3.connect(path)
    try:
        return list(connection.iterdump())
    finally:
        connection.close()


def _dump_schema(address: str) -> list[str]:
    import psycopg

    url, schema = pg.split_target(address)
    try:
        return _dump_tables(_dumper(url), schema)
    except psycopg.OperationalError:  # the connection kept from before is gone: once more
        _DUMPERS.pop(url).close()
        return _dump_tables(_dumper(url), schema)


#: a connection to each server kept for :func:`dump` and :func:`estate_there` (connecting
#: takes longer than a dump)
_DUMPERS: dict[str, object] = {}


def _dumper(url: str):
    import psycopg

    if url not in _DUMPERS or _DUMPERS[url].closed:
        _DUMPERS[url] = psycopg.connect(url, autocommit=True)
    return _DUMPERS[url]


def _dump_tables(raw, schema: str) -> list[str]:
    """Every row of the schema's tables, the tables' queries sent at once (one round trip)."""
    tables = [
        row[0]
        for row in raw.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind = 'r' ORDER BY c.relname",
            (schema,),
        )
    ]
    with raw.pipeline():
        cursors = [
            raw.execute(f'SELECT * FROM "{schema}"."{table}" ORDER BY 1') for table in tables
        ]
    lines = [f"TABLE {schema}.{table}" for table in tables]
    for table, cursor in zip(tables, cursors, strict=True):
        lines += [f'INSERT INTO "{table}" VALUES{tuple(row)!r}' for row in cursor.fetchall()]
    return lines


# ---------------------------------------------------------------- estates built once, copied per test


def estate_there(database: Path | str) -> bool:
    """Whether the estate is there at all: its file, or on [pg] its schema, whatever is in it
    (a schema holding only propfee's bookkeeping is still there)."""
    if not pg.is_server(database):
        return Path(database).exists()
    import psycopg

    url, schema = pg.split_target(str(database))
    sql = "SELECT 1 FROM pg_namespace WHERE nspname = %s"
    try:
        return _dumper(url).execute(sql, (schema,)).fetchone() is not None
    except psycopg.OperationalError:  # the connection kept from before is gone: once more
        _DUMPERS.pop(url).close()
        return _dumper(url).execute(sql, (schema,)).fetchone() is not None


def sibling(database: Path | str, name: str) -> Path | str:
    """Another estate of the test's own, on its engine: a file beside the test's database, or
    a schema of its own on the same server (neither made yet)."""
    if not pg.is_server(database):
        return Path(database).with_name(f"{name}.db")
    url, schema = pg.split_target(str(database))
    return pg.shareable(url, f"{schema[:40]}_{name}"[:63].rstrip("_"))


class Templates:
    """Estates built once per test module and copied afresh for each test, on the test's
    engine (told by where its database is).

    [lite] a copy of the template's file. [pg] the test's schema, made in one batch of
    statements (one round trip): either a new copy — the template's own DDL as pg_dump
    writes it (tables, identity columns, the append-only triggers and their functions), its
    rows copied across, each identity sequence set where the template's stands, then its
    keys, indexes, foreign keys and triggers — or, cheaper, the copy an earlier test of the
    module was given, renamed to this test's schema and its rows and sequences put back as
    the template's (only when its tables, columns, keys, indexes, triggers and functions
    are still the template's). Either way the copy's ``dump()`` is the template's and
    ``propfee check`` passes on it."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._made: dict[tuple[str, str], Path | _SchemaTemplate] = {}
        self._admin: dict[str, object] = {}
        self._lent: list[tuple[_SchemaTemplate, str]] = []

    def fresh(self, database: Path | str, name: str, build) -> Path | str:
        """``database`` (not made yet) made a copy of the template ``name``, which
        ``build(location)`` makes at a location of the same engine the first time."""
        server = pg.split_target(str(database))[0] if pg.is_server(database) else ""
        template = self._made.get((server, name))
        if template is None:
            template = self._made[(server, name)] = self._build(server, name, build)
        if isinstance(template, Path):
            shutil.copy(template, database)
            return database
        into = pg.split_target(str(database))[1]
        template.copy(self._connection(server), into)
        self._lent.append((template, into))
        return database

    def template(self, database: Path | str, name: str) -> Path | str:
        """Where the template ``name`` of ``database``'s engine is (made already)."""
        if not pg.is_server(database):
            return self._made[("", name)]
        server = pg.split_target(str(database))[0]
        return pg.shareable(server, self._made[(server, name)].schema)

    def give_back(self) -> None:
        """The test is over: the schemas it was given may be put back for the next."""
        for template, schema in self._lent:
            template.spares.append(schema)
        self._lent.clear()

    def _build(self, server: str, name: str, build) -> Path | _SchemaTemplate:
        import gc

        if not server:
            path = self.folder / f"{name}.db"
            build(path)
            gc.collect()  # a connection left to the collector: closed, its log folded in
            return path
        schema = f"tpl{next(_estates):05d}_{name}"[:63]
        build(pg.shareable(server, schema))
        gc.collect()
        return _SchemaTemplate(self._connection(server), server, schema)

    def _connection(self, server: str):
        import psycopg

        if server not in self._admin:
            raw = psycopg.connect(server, autocommit=True)
            raw.execute("SET lock_timeout = '10s'")  # a copy a test left locked: made anew
            self._admin[server] = raw
        return self._admin[server]

    def close(self) -> None:
        for raw in self._admin.values():
            raw.close()


#: what a schema's tables, columns, keys, indexes, triggers and functions are, by name (the
#: schema's own name taken out of what they refer to)
_SHAPE = """(SELECT replace(concat_ws('|',
    (SELECT string_agg(c.relname || ':' || c.relkind::text || ':' || c.relnatts, ',' ORDER BY c.relname)
     FROM pg_class c WHERE c.relnamespace = n.oid),
    (SELECT string_agg(c.relname || '.' || a.attname || ':' || format_type(a.atttypid,
     a.atttypmod) || a.attnotnull::text || a.attidentity::text || coalesce(pg_get_expr(d.adbin, d.adrelid),
     ''), ',' ORDER BY c.relname, a.attnum) FROM pg_attribute a JOIN pg_class c ON c.oid =
     a.attrelid LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE c.relnamespace = n.oid AND a.attnum > 0 AND NOT a.attisdropped),
    (SELECT string_agg(c.relname || '.' || t.tgname || ':' || t.tgenabled::text || ':' || t.tgtype
     || ':' || t.tgfoid::regproc::text, ',' ORDER BY c.relname, t.tgname) FROM pg_trigger t
     JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relnamespace = n.oid AND NOT t.tgisinternal),
    (SELECT string_agg(o.conname || ':' || o.contype::text || ':' || pg_get_constraintdef(o.oid), ','
     ORDER BY o.conname) FROM pg_constraint o WHERE o.connamespace = n.oid),
    (SELECT string_agg(pg_get_indexdef(i.indexrelid), ',' ORDER BY c.relname) FROM pg_index i
     JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relnamespace = n.oid),
    (SELECT string_agg(p.proname || ':' || md5(p.prosrc), ',' ORDER BY p.proname)
     FROM pg_proc p WHERE p.pronamespace = n.oid)), n.nspname || '.', '')
  FROM pg_namespace n WHERE n.nspname = '{name}')"""


class _SchemaTemplate:
    """A template estate's schema on the server, the batches that copy it, and the copies
    earlier tests were given (spares, to be put back as the template for a later one)."""

    def __init__(self, raw, server: str, schema: str):
        import subprocess

        self.schema = schema
        self.spares: list[str] = []
        self._renew = True  # whether a spare may be renewed (it takes a superuser's role)
        in_schema = (
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind = %s ORDER BY c.relname"
        )
        tables = [row[0] for row in raw.execute(in_schema, (schema, "r"))]
        sequences = [row[0] for row in raw.execute(in_schema, (schema, "S"))]
        major = int(raw.execute("SHOW server_version_num").fetchone()[0]) // 10000
        sections = []
        for section in ("pre-data", "post-data"):
            done = subprocess.run(
                [_pg_dump(major), f"--dbname={server}", f"--schema={schema}", "--no-owner",
                 "--no-privileges", f"--section={section}"],
                capture_output=True, text=True, check=True, timeout=120,
            )  # fmt: skip
            # its settings for this batch only (the connection keeps its lock timeout)
            lines = [
                re.sub(
                    r"^SET |, false\);$",
                    lambda m: "SET LOCAL " if m[0] == "SET " else ", true);",
                    line,
                )
                for line in done.stdout.splitlines()
                if not line.startswith("--")
            ]
            sections.append("\n".join(lines).replace("{", "{{").replace("}", "}}"))
        rows = "".join(
            f'INSERT INTO "{{schema}}"."{table}" SELECT * FROM "{schema}"."{table}";\n'
            for table in tables
        )
        rows += "".join(
            f'SELECT setval(\'"{{schema}}"."{sequence}"\', last_value, is_called) '
            f'FROM "{schema}"."{sequence}";\n'
            for sequence in sequences
        )
        name = re.compile(rf'(?<![\w"]){re.escape(schema)}(?![\w"])')
        pre, post = (name.sub("{schema}", part) for part in sections)
        assert pre.count("{schema}") >= len(tables), "the template's name is not in its DDL"
        self._new = f"BEGIN;\n{pre}\n{rows}{post}\nCOMMIT;\n"
        emptied = "".join(f'DELETE FROM "{{schema}}"."{table}";\n' for table in tables)
        shape = raw.execute(f"SELECT md5({_SHAPE.replace('{name}', schema)})").fetchone()[0]
        same = (
            f"DO $$ BEGIN IF md5({_SHAPE.replace('{name}', '{schema}')}) IS DISTINCT FROM "
            f"'{shape}' THEN RAISE EXCEPTION 'not the template'; END IF; END $$;\n"
        )
        self._renewed = (
            "BEGIN;\nSET LOCAL session_replication_role = replica;\n"
            f'ALTER SCHEMA "{{spare}}" RENAME TO "{{schema}}";\n{same}{emptied}{rows}COMMIT;\n'
        )

    def copy(self, raw, into: str) -> None:
        """Make schema ``into`` a copy of the template: a spare renewed, else a new one."""
        import psycopg

        while self._renew and self.spares:
            spare = self.spares.pop()
            try:
                raw.execute(self._renewed.format(spare=spare, schema=into).encode())
                return
            except psycopg.errors.InsufficientPrivilege:
                self._renew = False
            except psycopg.Error:
                pass  # that spare is not the template any more: left as it is
            finally:
                if raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                    raw.execute("ROLLBACK")
        raw.execute(self._new.format(schema=into).encode())


_PG_DUMP: dict[int, str] = {}


def _pg_dump(major: int) -> str:
    from propfee.store import pgdump

    if major not in _PG_DUMP:
        _PG_DUMP[major] = pgdump.tool("pg_dump", major)
    return _PG_DUMP[major]


@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    """Estates built once for the test module, copied afresh for each test on its engine
    (see :class:`Templates`)."""
    made = Templates(tmp_path_factory.mktemp("templates"))
    yield made
    made.close()


@pytest.fixture
def estate_copy(templates, database):
    """``estate_copy(name, build)``: the test's database made a copy of the module's
    template ``name`` (``build(location)`` makes it, once per engine); ``into=`` another
    estate of the test's own (see :func:`sibling`)."""

    def copy(name: str, build, into: Path | str | None = None) -> Path | str:
        return templates.fresh(into or database, name, build)

    yield copy
    templates.give_back()


def valid_id(prefix: str = "620102", born: str = "19800101", seq: str = "123") -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    body = prefix + born + seq
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


# ---------------------------------------------------------------- a small billed estate

ESTATE_HEADER = [
    "房号",
    "房屋类型",
    "建筑面积",
    "业主",
    "手机号",
    "交付日期",
    "租户",
    "缴费方",
    "入住状态",
]


def estate(conn, tmp_path, rows, *, as_of=date(2026, 10, 1)):
    """Import roster rows (see ``home``) into the test database."""
    from propfee.roster.merge import import_roster

    path = write_csv(
        tmp_path / f"roster-{len(list(tmp_path.iterdir()))}.csv", [ESTATE_HEADER, *rows]
    )
    import_roster(conn, path, as_of=as_of, now=NOW)


def home(
    code,
    area="89.37",
    owner="张三",
    delivered="2020-01-01",
    kind="住宅",
    tenant="",
    payer="",
    vacant="",
    phone="",
):
    return [code, kind, area, owner, phone, delivered, tenant, payer, vacant]


def add_fee(
    conn,
    code="PROP",
    *,
    price="2.50",
    basis="area",
    kinds=("residential",),
    cycle="monthly",
    start=date(2020, 1, 1),
    publish_on=date(2020, 1, 1),
    **extra,
):
    """Add a fee item and (unless publish_on is None) publish it."""
    from propfee.billing import fees
    from propfee.config import DEFAULTS

    with db.transaction(conn):
        fees.add_item(
            conn,
            code=code,
            name={
                "PROP": "物业服务费",
                "SHOP": "商业物业服务费",
                "PARK": "停车服务费",
                "WATER": "水费",
            }.get(code, code),
            basis=basis,
            price=price,
            kinds=list(kinds),
            cycle=cycle,
            effective_from=start,
            now=NOW,
            **extra,
        )
        if publish_on is not None:
            fees.publish(conn, as_of=publish_on, now=NOW, settings=DEFAULTS, out_dir=None)


def run(conn, *months, settings=None, as_of=date(2026, 11, 1), items=None, dry_run=False):
    """A bill run for months given as "YYYY-MM"."""
    from propfee.config import DEFAULTS

    with db.transaction(conn, dry_run=dry_run):
        return ledger.run_bills_and_apply_credit(
            conn,
            months=[date.fromisoformat(m + "-01") for m in months],
            as_of=as_of,
            now=NOW,
            settings=settings or DEFAULTS,
            item_codes=items,
        )


def settings_replace(**billing_values):
    """The default settings with some billing settings changed."""
    import dataclasses

    from propfee.config import DEFAULTS

    return dataclasses.replace(
        DEFAULTS, billing=dataclasses.replace(DEFAULTS.billing, **billing_values)
    )


def bills(conn, code=None):
    """(unit, item, period, seq, from, to, fen, party, due) of every bill."""
    sql = (
        "SELECT u.code, f.code, b.period, b.seq, b.covers_from, b.covers_to, b.amount_fen, "
        "coalesce(p.name, ''), b.due_on FROM bill b JOIN unit u ON u.id = b.unit_id "
        "JOIN fee_item f ON f.id = b.fee_item_id LEFT JOIN party p ON p.id = b.party_id"
    )
    params = ()
    if code:
        sql += " WHERE u.code = ?"
        params = (code,)
    return [
        tuple(r) for r in conn.execute(sql + " ORDER BY u.code, f.code, b.period, b.seq", params)
    ]


@pytest.fixture
def estate3(conn, tmp_path):
    """Three homes billed for October and November 2026, for reconciling statements."""
    estate(
        conn,
        tmp_path,
        [
            home("1-1-1001", area="80", owner="张三", phone="13812341234"),
            home("1-1-1002", area="80", owner="李四"),
            home("2-1-502", area="120", owner="王五"),
        ],
    )
    add_fee(conn)
    run(conn, "2026-10", "2026-11", as_of=date(2026, 11, 1))
    return conn


def reconcile(conn, path, profile=None, **kwargs):
    """Reconcile a statement file as of 2026-12-01."""
    from propfee.payments import reconciliation

    return reconciliation.reconcile(
        conn, path, profile=profile, as_of=date(2026, 12, 1), now=NOW, settings=DEFAULTS, **kwargs
    )


MONTHS = ["2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"]


def pay(conn, unit, fen, day):
    with transaction(conn):
        ledger.record_payment(
            conn,
            unit,
            fen,
            channel="cash",
            ref=None,
            paid_on=day,
            as_of=day,
            now=NOW,
            settings=DEFAULTS,
        )


def contact(conn, unit, outcome, at, **extra):
    with transaction(conn):
        return dunning.add_contact(
            conn,
            unit,
            channel="phone",
            outcome=outcome,
            at=at,
            now=max(NOW, at),
            settings=DEFAULTS,
            **extra,
        )


@pytest.fixture
def history(conn, tmp_path):
    """A history small enough to work out by hand. Bills for June–November 2026; the
    property fee is due on the 15th, parking on the 1st. As of 2026-11-10:

      1-101 张三  223.43/month, paid June–August on 08-20 (late), paid again 11-12 (after)
                  → September (56 days) and October (26 days) open: 446.86, chronic → notice
      1-102 李四  300.00 + parking 100.00 (due the 1st), paid on the 1st June–October
                  → November parking open: 9 days, 100.00
      2-201 李四  250.00/month, paid June–September on the 10th → October open: 26 days
                  → 李四 paid every earlier month on time: a good payer
      S-101 公司  254.10/month, never paid → 5 periods, 148 days, no record → notice
      3-301 王五  200.00/month, never paid, a recorded service dispute → held at dispute
      3-302 赵六  200.00/month, paid June–September; promised on 11-04 to pay by 11-08
    """
    estate(
        conn,
        tmp_path,
        [
            home("1-101", area="89.37", owner="张三", phone="13800000001"),
            home("1-102", area="120", owner="李四", phone="13800000002"),
            home("2-201", area="100", owner="李四", phone="13800000002"),
            home("S-101", kind="商铺", area="60.5", owner="陇原商贸有限公司", phone="0931-8765432"),
            home("3-301", area="80", owner="王五", phone="13800000003"),
            home("3-302", area="80", owner="赵六", phone="13800000004"),
        ],
    )
    add_fee(conn)
    add_fee(conn, "SHOP", price="4.20", kinds=("commercial",))
    add_fee(conn, "PARK", price="100.00", basis="fixed", due_day=1, units=["1-102"])
    run(conn, *MONTHS, as_of=date(2026, 6, 1))
    pay(conn, "1-101", 67029, date(2026, 8, 20))
    pay(conn, "1-101", 22343, date(2026, 11, 12))
    for month in range(6, 11):
        pay(conn, "1-102", 40000, date(2026, month, 1))
    for month in range(6, 10):
        pay(conn, "2-201", 25000, date(2026, month, 10))
        pay(conn, "3-302", 20000, date(2026, month, 10))
    contact(conn, "3-301", "dispute", datetime(2026, 10, 20, 10), note="电梯长期故障")
    contact(conn, "3-302", "promised", datetime(2026, 11, 4, 15), promise_on=date(2026, 11, 8))
    return conn


from hypothesis import settings  # noqa: E402

settings.register_profile("ci", deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.register_profile("thorough", deadline=None, max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


# ---------------------------------------------------------------- either engine, by hand


def query(database, sql: str, params=()) -> list[tuple]:
    """What a query reads from the test's database, on either engine: an SQLite file, or on
    [pg] the estate's schema (propfee's own connection, rows as tuples)."""
    connection = db.connect(database, create=False, migrate=False)
    try:
        return [tuple(row) for row in connection.execute(sql, params)]
    finally:
        connection.close()


def behind_its_back(database, *statements: str, triggers: bool = True) -> None:
    """Statements run on the database as someone with the file (or the server's login) would,
    without propfee: committed, each as written. With ``triggers=False`` the audit trail's
    triggers do not fire (dropped and made again on SQLite; the session's replication role on
    PostgreSQL), as for someone who knows how to get past them."""
    if pg.is_server(database):
        import psycopg

        url, schema = pg.split_target(str(database))
        with psycopg.connect(url, autocommit=True) as raw, raw.transaction():
            raw.execute(f'SET LOCAL search_path TO "{schema}"')
            if not triggers:
                raw.execute("SET LOCAL session_replication_role = replica")
            for statement in statements:
                raw.execute(statement)
        return
    raw = sqlite3.connect(database)
    try:
        made = []
        if not triggers:
            made = raw.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit'"
            ).fetchall()
            for name, _ in made:
                raw.execute(f"DROP TRIGGER {name}")
        for statement in statements:
            raw.execute(statement)
        for _, sql in made:
            raw.execute(sql)
        raw.commit()
    finally:
        raw.close()


def drop_trigger(database, name: str, table: str = "audit") -> None:
    """Remove one of the database's triggers (PostgreSQL names the table it is on)."""
    on = f" ON {table}" if pg.is_server(database) else ""
    behind_its_back(database, f"DROP TRIGGER {name}{on}")


def database_made(database) -> bool:
    """Whether the test's database is there: the SQLite file, or on [pg] the estate's
    tables on the server."""
    if pg.is_server(database):
        return pg.estate_exists(str(database))
    return Path(database).exists()


def backup_suffix(database) -> str:
    """The ending of a backup's name: an SQLite file's copy, or a server estate's dump."""
    return ".sql" if pg.is_server(database) else ".db"


def backup_prefix(database) -> str:
    """How a backup's default name begins: the file's name, or the estate's."""
    if pg.is_server(database):
        return pg.split_target(str(database))[1]
    return Path(database).stem


#: what propfee's connection raises on either engine (a server's errors come out as the
#: sqlite3 exception that means the same: see propfee.store.pg)
StoreError = sqlite3.DatabaseError
StoreIntegrityError = sqlite3.IntegrityError


def pretend_newer(database, schema: int, version: str | None = None) -> None:
    """Make the test's database look made by a later propfee: its schema ``schema`` (the
    file's user_version, a server estate's newest _migrations row) and, if given, the
    propfee ``version`` that made it."""
    if pg.is_server(database):
        step = f"INSERT INTO _migrations VALUES ({schema}, 'm{schema:03d}_later', '')"
    else:
        step = f"PRAGMA user_version = {schema}"
    named = (
        ["DELETE FROM meta WHERE key = 'propfee_version'",
         f"INSERT INTO meta (key, value) VALUES ('propfee_version', '{version}')"]
        if version
        else []
    )  # fmt: skip
    behind_its_back(database, step, *named)


def database_in(database, folder: Path) -> Path | str:
    """Another database beside the test's own: ``folder``/propfee.db, or on [pg] an estate of
    its own on the same server, named after the folder."""
    if pg.is_server(database):
        url, schema = pg.split_target(str(database))
        suffix = re.sub(r"\W", "_", folder.name.lower())
        return pg.shareable(url, f"{schema[: 62 - len(suffix)]}_{suffix}")
    return folder / "propfee.db"


def anything_made(database) -> bool:
    """Whether anything of the test's database is there: the SQLite file, or on [pg] the
    estate's schema on the server (even one without tables: stricter than
    :func:`database_made`)."""
    if not pg.is_server(database):
        return Path(database).exists()
    import psycopg

    url, schema = pg.split_target(str(database))
    with psycopg.connect(url, autocommit=True) as raw:
        found = raw.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
        return found.fetchone() is not None


class DemoEstate(NamedTuple):
    """The demo an estate's tests share: its folder (settings, sample files) and database."""

    folder: Path
    database: str
    output: str = ""  # what the demo command printed
    errors: str = ""  # and what it said on stderr

    def options(self) -> list[str]:
        """--db for a command on the demo; on [pg] with the demo's settings as --config (an
        estate on a server reads propfee.toml from the working folder, not from beside a file)."""
        if pg.is_server(self.database):
            return ["--db", self.database, "--config", str(self.folder / "propfee.toml")]
        return ["--db", self.database]


def build_demo(
    engine: str, folder: Path, request, *args: str, again: DemoEstate | None = None
) -> DemoEstate:
    """``propfee demo --dir folder`` on ``engine``: the database in the folder, or on [pg] an
    estate of its own on the session's server (named by $PROPFEE_DB, as a user would);
    ``again``: the demo built before, rebuilt in its place."""
    database = str(folder / "propfee.db")
    with pytest.MonkeyPatch.context() as patch:
        if engine == "pg":
            database = (
                again.database
                if again is not None
                else pg.shareable(request.getfixturevalue("pg_url"), _estate_name(request))
            )
            patch.setenv("PROPFEE_DB", database)
        result = CliRunner().invoke(app, ["demo", "--dir", str(folder), *args])
    assert result.exit_code == 0, result.output
    assert (folder / "propfee.db").exists() == (engine == "lite")
    return DemoEstate(folder, database, result.stdout, result.stderr)


def new_database(engine: str, folder: Path, request) -> str:
    """A database of its own, beside the test's (for each example of a property test): a new
    file in ``folder``, or on [pg] a new estate on the session's server."""
    if engine == "pg":
        return pg.shareable(request.getfixturevalue("pg_url"), _estate_name(request))
    return str(folder / "propfee.db")


def published_fees(folder: Path | str) -> tuple[str, ...]:
    """``fees publish`` as most tests record it: the fees were put up on 2020-01-01 and are
    recorded later with the photo as evidence; the announcement is written into ``folder``."""
    return (
        "fees",
        "publish",
        "--out",
        str(folder),
        "--recorded-later",
        "--published-on",
        "2020-01-01",
        "--evidence",
        "公示照片 IMG_0231.jpg",
    )
