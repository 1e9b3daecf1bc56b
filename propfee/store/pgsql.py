"""propfee's SQL, written for SQLite, as PostgreSQL runs it.

Every statement a store module executes is translated once (and cached): placeholders ``?``
and ``?N`` become psycopg's ``%s`` with the parameters put in order, ``[name]`` identifiers
become ``"name"``, and the few SQLite functions and operators propfee uses become their
PostgreSQL equivalents (``json_each`` lists, ``group_concat``, two-argument ``max``/``min``,
``GLOB``, ``LIKE`` without case, ``COLLATE NOCASE``, ``date(…, '+1 day')``, ``rowid``,
``sqlite_master``). A statement that inserts into a table with an ``id`` gains
``RETURNING id`` so the cursor's ``lastrowid`` means what it means on SQLite. The schema
steps' DDL is translated by :func:`ddl` (INTEGER is BIGINT, an ``id INTEGER PRIMARY KEY`` an
identity column, a trigger that refuses a change a PL/pgSQL function that raises).

The translation knows propfee's statements, not every SQLite statement: a construct it does
not know passes through unchanged and PostgreSQL names it in its error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

#: tables without an ``id`` column: their rows are counted, not numbered
NO_ID_TABLES = frozenset(
    {
        "meta",
        "receipt_counter",
        "notice_counter",
        "complaint_counter",
        "plan_bill",
        "plan_installment",
        "survey_score",
        "_migrations",
    }
)

# what sqlite_master and PRAGMA table_info answer, read from PostgreSQL's catalogue
CATALOG = (
    "(SELECT 'table'::text AS type, c.relname::text AS name, c.relname::text AS tbl_name, "
    "''::text AS sql, c.oid::bigint AS id FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace "
    "AND c.relkind = 'r' UNION ALL "
    "SELECT 'trigger', t.tgname::text, c.relname::text, "
    "pg_get_triggerdef(t.oid) || ' ' || p.prosrc, t.oid::bigint FROM pg_trigger t "
    "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid "
    "WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal UNION ALL "
    "SELECT 'index', c.relname::text, t.relname::text, pg_get_indexdef(c.oid), c.oid::bigint "
    "FROM pg_index i "
    "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid "
    "WHERE c.relnamespace = current_schema()::regnamespace) AS sqlite_master"
)

TABLE_INFO = (
    "SELECT a.attnum - 1 AS cid, a.attname::text AS name, "
    "CASE WHEN t.typname IN ('int8', 'int4', 'int2') THEN 'INTEGER' "
    "WHEN t.typname = 'text' THEN 'TEXT' ELSE upper(t.typname) END AS type, "
    "CASE WHEN a.attnotnull THEN 1 ELSE 0 END AS notnull, "
    "pg_get_expr(d.adbin, d.adrelid) AS dflt_value, "
    "coalesce(array_position(k.conkey, a.attnum), 0) AS pk "
    "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
    "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
    "LEFT JOIN pg_constraint k ON k.conrelid = a.attrelid AND k.contype = 'p' "
    "WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped "
    "ORDER BY a.attnum"
)


@dataclass(frozen=True)
class Statement:
    """A translated statement: its text, which parameter goes to each ``%s`` (1-based), what
    it is, and whether it returns the id it inserted."""

    text: str
    order: tuple[int, ...] = ()
    kind: str = "sql"  # sql | begin | begin-immediate | user-version | noop | table-info
    returns_id: bool = False
    writes: bool = False
    sets_id: str = ""  # the table whose ids this INSERT writes itself: its sequence follows


_PLACEHOLDER = "\x00{}\x00"
_SENTINEL = re.compile("\x00(\\d+)\x00")


def _tokenize(sql: str) -> tuple[str, list[int]]:
    """Placeholders as sentinels (with the parameter each takes), ``[x]`` as ``"x"``; string
    literals, quoted names and comments are copied as they are."""
    out: list[str] = []
    order: list[int] = []
    i, n, following = 0, len(sql), 0
    while i < n:
        ch = sql[i]
        if ch in "'\"":
            end = i + 1
            while end < n:
                if sql[end] == ch:
                    if end + 1 < n and sql[end + 1] == ch:
                        end += 2
                        continue
                    break
                end += 1
            out.append(sql[i : end + 1])
            i = end + 1
        elif ch == "-" and sql.startswith("--", i):
            end = sql.find("\n", i)
            end = n if end < 0 else end
            i = end
        elif ch == "[":
            end = sql.find("]", i)
            out.append('"' + sql[i + 1 : end] + '"')
            i = end + 1
        elif ch == "?":
            j = i + 1
            while j < n and sql[j].isdigit():
                j += 1
            number = int(sql[i + 1 : j]) if j > i + 1 else following + 1
            following = number
            order.append(number)
            out.append(_PLACEHOLDER.format(len(order) - 1))
            i = j
        else:
            out.append(ch)
            i += 1
    return "".join(out), order


def _call_end(text: str, open_paren: int) -> int:
    """The index of the parenthesis closing the one at ``open_paren``."""
    depth, i = 0, open_paren
    quote = None
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError(f"unbalanced parentheses in: {text[:80]}")


def _split_args(inner: str) -> list[str]:
    args, depth, start, quote = [], 0, 0, None
    for i, ch in enumerate(inner):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            args.append(inner[start:i].strip())
            start = i + 1
    args.append(inner[start:].strip())
    return args


def _date(args: list[str]) -> str:
    shift = ""
    for modifier in args[1:]:
        match = re.fullmatch(r"'([+-]\d+) (day|month|year)s?'", modifier)
        if not match:
            raise ValueError(f"date modifier {modifier} has no PostgreSQL translation")
        shift += f" + interval '{match.group(1)} {match.group(2)}'"
    return f"to_char(({args[0]})::date{shift}, 'YYYY-MM-DD')"


_TEST = re.compile(r"<>|<=|>=|!=|[=<>]|\b(IS|IN|LIKE|ILIKE|BETWEEN|EXISTS|AND|OR|NOT)\b", re.I)


def _is_test(expression: str) -> bool:
    """Whether an expression is a comparison (SQLite's 0/1, PostgreSQL's boolean)."""
    if expression.upper().startswith(("CASE", "DISTINCT")):
        return False
    depth, flat = 0, []
    for ch in re.sub(r"'[^']*'", "''", expression):
        depth += ch == "("
        depth -= ch == ")"
        flat.append(ch if depth == 0 or ch in "()" else " ")
    return _TEST.search("".join(flat)) is not None


def _rewrite_call(name: str, args: list[str]) -> str | None:
    lowered = name.lower()
    if lowered in ("sum", "total", "avg") and len(args) == 1 and _is_test(args[0]):
        return f"{lowered}(({args[0]})::int)"
    if lowered in ("max", "min") and len(args) > 1:
        return ("greatest" if lowered == "max" else "least") + "(" + ", ".join(args) + ")"
    if lowered == "group_concat":
        separator = args[1] if len(args) > 1 else "','"
        return f"string_agg(({args[0]})::text, {separator})"
    if lowered == "json_group_array":
        return f"json_agg({args[0]})::text"
    if lowered == "ifnull":
        return f"coalesce({', '.join(args)})"
    if lowered == "iif":
        return f"CASE WHEN {args[0]} THEN {args[1]} ELSE {args[2]} END"
    if lowered == "date":
        return _date(args)
    return None


_CALL = re.compile(
    r"\b(max|min|sum|total|avg|group_concat|json_group_array|ifnull|iif|date)\s*\(", re.I
)


def _rewrite_calls(text: str) -> str:
    position = 0
    while True:
        match = _CALL.search(text, position)
        if match is None:
            return text
        open_paren = match.end() - 1
        close = _call_end(text, open_paren)
        args = _split_args(_rewrite_calls(text[open_paren + 1 : close]))
        replacement = _rewrite_call(match.group(1), args)
        if replacement is None:
            position = match.end()
            continue
        text = text[: match.start()] + replacement + text[close + 1 :]
        position = match.start() + len(replacement)


def _after_between(match: re.Match) -> bool:
    """Whether the AND before a parameter is BETWEEN's (``x BETWEEN ? AND ?``)."""
    before = match.string[: match.start()].upper()
    between = before.rfind("BETWEEN")
    return between >= 0 and not re.search(r"\b(AND|OR|WHERE)\b", before[between:])


def _glob(match: re.Match) -> str:
    pattern = match.group(3).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = pattern.replace("*", "%").replace("?", "_")
    return f"{match.group(1)} {match.group(2) or ''}LIKE '{pattern}'"


_JSON_LIST = re.compile(
    r"([\w.]+)\s+IN\s*\(\s*SELECT\s+value\s+FROM\s+json_each\(\s*(\x00\d+\x00)\s*\)\s*\)", re.I
)


def _json_list(match: re.Match) -> str:
    """``x IN (SELECT value FROM json_each(?))``: the list's items as ids or as text."""
    column = match.group(1).split(".")[-1].lower()
    kind = "bigint" if column == "id" or column.endswith("_id") else "text"
    return f"{match.group(1)} IN (SELECT json_array_elements_text({match.group(2)}::json)::{kind})"


_INSERT = re.compile(r"^\s*INSERT\s+(?:OR\s+IGNORE\s+)?INTO\s+\"?(\w+)\"?", re.I)
_REWRITES: list[tuple[re.Pattern, object]] = [
    (re.compile(r"\b(?:main\.)?sqlite_master\b", re.I), CATALOG),
    (re.compile(r"\bLIKE\b", re.I), "ILIKE"),
    (re.compile(r"([\w.]+)\s+(NOT\s+)?GLOB\s+'([^']*)'", re.I), _glob),
    (
        re.compile(r"([\w.]+)\s*=\s*(\x00\d+\x00|'[^']*')\s+COLLATE\s+NOCASE", re.I),
        r"lower(\1) = lower(\2)",
    ),
    (_JSON_LIST, _json_list),
    (re.compile(r"\bIS\s+NOT\s+(\x00\d+\x00)", re.I), r"IS DISTINCT FROM \1"),
    (re.compile(r"\bIS\s+(\x00\d+\x00)", re.I), r"IS NOT DISTINCT FROM \1"),
    # a flag passed as a parameter and used as a condition: SQLite's 0/1 as a boolean
    (
        re.compile(r"(\(\s*)(\x00\d+\x00)(?=\s+(?:AND|OR)\b)", re.I),
        r"\1(\2 <> 0)",
    ),
    (
        re.compile(
            r"(\bAND|\bOR|\bNOT|\bWHERE|\bWHEN)(\s+)(\x00\d+\x00)"
            r"(?=\s*(?:\)|AND\b|OR\b|THEN\b|$))",
            re.I,
        ),
        lambda m: (
            m.group(0) if _after_between(m) else f"{m.group(1)}{m.group(2)}({m.group(3)} <> 0)"
        ),
    ),
    (
        re.compile(r"lower\(hex\(randomblob\(16\)\)\)", re.I),
        "md5(random()::text || clock_timestamp()::text)",
    ),
]


def _max_rowid(text: str) -> str:
    """``max(rowid)`` counts the rows of a table without an id (rows are never deleted, so
    the count grows exactly as the rowid would); elsewhere rowid is the id."""
    text = re.sub(  # each table of a statement that reads the tops of many
        r"max\(rowid\)(,\s*0\)\s+FROM\s+\"?(\w+)\"?)",
        lambda m: ("count(*)" if m.group(2) in NO_ID_TABLES else "max(id)") + m.group(1),
        text,
        flags=re.I,
    )
    table = re.search(r"\bFROM\s+\"?(\w+)\"?", text, re.I)
    if table and table.group(1) in NO_ID_TABLES:  # in the order the rows were written
        return re.sub(r"\browid\b", "ctid", text)
    return re.sub(r"\browid\b", "id", text)


@lru_cache(maxsize=4096)
def translate(sql: str) -> Statement:
    """The statement ``sql`` (SQLite, as propfee writes it) for PostgreSQL."""
    stripped = sql.strip().rstrip(";").strip()
    head = " ".join(stripped.split()[:2]).upper()
    if head == "BEGIN IMMEDIATE":
        return Statement("BEGIN", kind="begin-immediate")
    if head in ("BEGIN", "BEGIN DEFERRED", "BEGIN TRANSACTION"):
        return Statement("BEGIN", kind="begin")
    if head.startswith("PRAGMA"):
        return _pragma(stripped)
    text, order = _tokenize(stripped)
    for pattern, replacement in _REWRITES:
        text = pattern.sub(replacement, text)
    text = _rewrite_calls(text)
    text = _max_rowid(text)
    insert = _INSERT.match(text)
    if insert:  # an upsert's "SET n = n + 1": PostgreSQL names the row's own n
        text = re.sub(
            r"(DO\s+UPDATE\s+SET\s+)(\w+)(\s*=\s*)\2\b",
            lambda m: f"{m.group(1)}{m.group(2)}{m.group(3)}{insert.group(1)}.{m.group(2)}",
            text,
            flags=re.I,
        )
    if insert and re.match(r"^\s*INSERT\s+OR\s+IGNORE", text, re.I):
        text = re.sub(r"\s+OR\s+IGNORE", "", text, count=1, flags=re.I)
        if "ON CONFLICT" not in text.upper():
            text += " ON CONFLICT DO NOTHING"
    returns_id = bool(
        insert and insert.group(1) not in NO_ID_TABLES and "RETURNING" not in text.upper()
    )
    if returns_id:
        text += " RETURNING id"
    writes = stripped[:7].upper().startswith(("INSERT", "UPDATE", "DELETE", "REPLACE"))
    sets_id = ""
    if insert and re.match(r"\s*\(\s*\"?id\"?\s*,", text[insert.end() :]):
        sets_id = insert.group(1)
    if order:
        text = text.replace("%", "%%")
    text = _SENTINEL.sub("%s", text)
    return Statement(text, tuple(order), returns_id=returns_id, writes=writes, sets_id=sets_id)


_PLAIN_INSERT = re.compile(
    r'INSERT\s+INTO\s+"?(\w+)"?\s*\(([^()]*)\)\s*VALUES\s*\(\s*%s(?:\s*,\s*%s)*\s*\)'
    r"(?:\s+RETURNING\s+id)?",
    re.I,
)


def plain_insert(text: str) -> tuple[str, list[str]] | None:
    """The table and columns of a translated INSERT whose values are all parameters (no
    upsert, no expression): its rows can go in by COPY, with the same constraints and
    triggers."""
    match = _PLAIN_INSERT.fullmatch(text.strip())
    if match is None:
        return None
    columns = [c.strip().strip('"') for c in match.group(2).split(",")]
    if text.count("%s") != len(columns):
        return None
    return match.group(1), columns


def follow_ids(table: str) -> str:
    """After rows were inserted with ids of their own: the table's id sequence goes on from
    the highest, as SQLite's next rowid does."""
    return (
        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
        f'(SELECT coalesce(max(id), 0) + 1 FROM "{table}"), false)'
    )


def _pragma(statement: str) -> Statement:
    body = statement[len("PRAGMA") :].strip()
    name = re.split(r"[\s=(]", body, maxsplit=1)[0].lower().removeprefix("main.")
    if name == "user_version" and "=" not in body:
        return Statement("SELECT coalesce(max(version), 0) FROM _migrations", kind="user-version")
    if name == "table_info":
        table = re.search(r"\(\s*[\"']?(\w+)[\"']?\s*\)", body)
        return Statement(
            TABLE_INFO.replace("%s", "'" + (table.group(1) if table else "") + "'"),
            kind="table-info",
        )
    if name in ("integrity_check", "quick_check"):
        return Statement("SELECT 'ok' AS integrity_check")
    if name == "foreign_key_check":
        return Statement("SELECT NULL, NULL, NULL, NULL WHERE false")
    if name == "database_list":
        return Statement("SELECT 0, 'main', current_database() || '/' || current_schema()")
    if name == "journal_mode":
        return Statement("SELECT 'wal'")
    return Statement("", kind="noop")


_TRIGGER = re.compile(
    r"CREATE\s+TRIGGER\s+(\w+)\s+BEFORE\s+(UPDATE|DELETE)\s+ON\s+(\w+)\s+BEGIN\s+"
    r"SELECT\s+RAISE\(ABORT,\s*'([^']*)'\);\s+END;",
    re.I,
)


def _trigger(match: re.Match) -> str:
    name, event, table, message = match.groups()
    return (
        f"CREATE FUNCTION {name}_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"RAISE EXCEPTION '{message}' USING ERRCODE = 'integrity_constraint_violation'; "
        f"END $$;\n"
        f"CREATE TRIGGER {name} BEFORE {event} ON {table} FOR EACH ROW "
        f"EXECUTE FUNCTION {name}_refuse();"
    )


def ddl(script: str) -> str:
    """A schema step's SQLite DDL as PostgreSQL DDL: integers are BIGINT (money is fen), a
    table's ``id`` an identity column (explicit ids, as the audit trail writes, are kept),
    and a trigger that refuses a change a function that raises."""
    script = _TRIGGER.sub(_trigger, script)
    script = re.sub(
        r"\bid\s+INTEGER\s+PRIMARY\s+KEY\b",
        "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
        script,
        flags=re.I,
    )
    return re.sub(r"\bINTEGER\b", "BIGINT", script)
