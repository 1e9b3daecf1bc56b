"""Append-only schema steps.

Each step is a function ``mNNN_name(conn)``; ``MIGRATIONS`` lists them in order and the
database's ``PRAGMA user_version`` counts how many have run. All pending steps run inside one
``BEGIN IMMEDIATE`` transaction, so two processes opening a new database at once never both
migrate it. Never edit a step that has landed: add a new one.

Conventions: money is INTEGER fen (``*_fen``); areas are INTEGER hundredths of ㎡
(``*_x100``); dates are ISO ``YYYY-MM-DD`` text; timestamps ``YYYY-MM-DD HH:MM:SS`` text.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from propfee import __version__
from propfee.core.errors import DatabaseError
from propfee.core.i18n import _
from propfee.store import audit


def run_script(conn: sqlite3.Connection, script: str) -> None:
    """Run several statements inside the current transaction (``executescript`` would commit
    it first). On PostgreSQL the script is translated whole (see store/pgsql.py)."""
    if getattr(conn, "dialect", "sqlite") == "postgres":
        conn.run_script(script)
        return
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            conn.execute(statement)
            statement = ""
    if statement.strip():
        raise ValueError(f"incomplete SQL statement: {statement.strip()[:60]}")


def m001_roster(conn: sqlite3.Connection) -> None:
    run_script(
        conn,
        """
        CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );

        CREATE TABLE unit (
            id INTEGER PRIMARY KEY,
            code TEXT NOT NULL UNIQUE,
            building TEXT NOT NULL DEFAULT '',
            entrance TEXT NOT NULL DEFAULT '',
            room TEXT NOT NULL DEFAULT '',
            floor TEXT NOT NULL DEFAULT '',
            kind TEXT NOT NULL
                CHECK (kind IN ('residential', 'commercial', 'office', 'parking', 'storage')),
            area_x100 INTEGER CHECK (area_x100 IS NULL OR area_x100 > 0),
            area_basis TEXT NOT NULL DEFAULT '',
            inner_area_x100 INTEGER CHECK (inner_area_x100 IS NULL OR inner_area_x100 > 0),
            delivered_on TEXT,
            notes TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX unit_building ON unit (building, entrance, room);

        CREATE TABLE party (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('person', 'company')),
            name TEXT NOT NULL,
            phones TEXT NOT NULL DEFAULT '',
            id_number TEXT NOT NULL DEFAULT '',
            birthday TEXT,
            is_developer INTEGER NOT NULL DEFAULT 0 CHECK (is_developer IN (0, 1)),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX party_name ON party (name);
        CREATE UNIQUE INDEX party_one_developer ON party (is_developer) WHERE is_developer = 1;

        CREATE TABLE occupancy (
            id INTEGER PRIMARY KEY,
            unit_id INTEGER NOT NULL REFERENCES unit (id),
            party_id INTEGER NOT NULL REFERENCES party (id),
            role TEXT NOT NULL CHECK (role IN ('owner', 'tenant')),
            start_on TEXT,
            end_on TEXT,
            pays INTEGER NOT NULL DEFAULT 0 CHECK (pays IN (0, 1)),
            source TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            CHECK (start_on IS NULL OR end_on IS NULL OR end_on >= start_on)
        );
        CREATE INDEX occupancy_unit ON occupancy (unit_id, role, start_on);
        CREATE INDEX occupancy_party ON occupancy (party_id);
        CREATE UNIQUE INDEX occupancy_current ON occupancy (unit_id, role) WHERE end_on IS NULL;
        """,
    )


_M002_BILLING = """
        ALTER TABLE unit ADD COLUMN vacant INTEGER NOT NULL DEFAULT 0 CHECK (vacant IN (0, 1));

        CREATE TABLE fee_item (
            id INTEGER PRIMARY KEY,
            code TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            basis TEXT NOT NULL CHECK (basis IN ('area', 'fixed', 'metered', 'one_off')),
            cycle TEXT NOT NULL CHECK (cycle IN ('monthly', 'quarterly', 'yearly')),
            kinds TEXT NOT NULL,
            buildings TEXT NOT NULL DEFAULT '',
            units TEXT NOT NULL DEFAULT '',
            due_day INTEGER NOT NULL DEFAULT 15 CHECK (due_day BETWEEN 1 AND 31),
            meter TEXT NOT NULL DEFAULT '',
            unit_label TEXT NOT NULL DEFAULT '',
            price_type TEXT NOT NULL DEFAULT '',
            services TEXT NOT NULL DEFAULT '',
            position INTEGER NOT NULL,
            created_at TEXT NOT NULL
        );

        CREATE TABLE publication (
            id INTEGER PRIMARY KEY,
            published_on TEXT NOT NULL,
            html_path TEXT NOT NULL DEFAULT '',
            text_path TEXT NOT NULL DEFAULT '',
            content TEXT NOT NULL,
            created_at TEXT NOT NULL
        );

        CREATE TABLE fee_price (
            id INTEGER PRIMARY KEY,
            fee_item_id INTEGER NOT NULL REFERENCES fee_item (id),
            price_x10000 INTEGER NOT NULL CHECK (price_x10000 >= 0),
            effective_from TEXT NOT NULL,
            publication_id INTEGER REFERENCES publication (id),
            published_on TEXT,
            created_at TEXT NOT NULL,
            UNIQUE (fee_item_id, effective_from)
        );

        CREATE TABLE bill (
            id INTEGER PRIMARY KEY,
            unit_id INTEGER NOT NULL REFERENCES unit (id),
            fee_item_id INTEGER NOT NULL REFERENCES fee_item (id),
            party_id INTEGER REFERENCES party (id),
            period TEXT NOT NULL,
            seq INTEGER NOT NULL DEFAULT 0,
            covers_from TEXT NOT NULL,
            covers_to TEXT NOT NULL,
            due_on TEXT NOT NULL,
            amount_fen INTEGER NOT NULL CHECK (amount_fen >= 0),
            quantity TEXT NOT NULL DEFAULT '',
            price_x10000 INTEGER,
            basis TEXT NOT NULL DEFAULT '',
            opening INTEGER NOT NULL DEFAULT 0 CHECK (opening IN (0, 1)),
            settled_on TEXT,
            created_at TEXT NOT NULL,
            UNIQUE (unit_id, fee_item_id, period, seq),
            CHECK (covers_to >= covers_from)
        );
        CREATE INDEX bill_period ON bill (period, fee_item_id);
        CREATE INDEX bill_item_cover ON bill (fee_item_id, covers_to, covers_from);
        CREATE INDEX bill_party ON bill (party_id);
        CREATE INDEX bill_open ON bill (due_on) WHERE settled_on IS NULL;

        CREATE TABLE adjustment (
            id INTEGER PRIMARY KEY,
            bill_id INTEGER NOT NULL REFERENCES bill (id),
            amount_fen INTEGER NOT NULL CHECK (amount_fen <> 0),
            kind TEXT NOT NULL CHECK (kind IN ('waiver', 'discount', 'correction')),
            reason TEXT NOT NULL,
            approved_by TEXT NOT NULL DEFAULT '',
            approval_ref TEXT NOT NULL DEFAULT '',
            made_on TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX adjustment_bill ON adjustment (bill_id);

        CREATE TABLE meter_reading (
            id INTEGER PRIMARY KEY,
            unit_id INTEGER NOT NULL REFERENCES unit (id),
            meter TEXT NOT NULL,
            read_on TEXT NOT NULL,
            reading TEXT NOT NULL,
            usage_x1000 INTEGER NOT NULL CHECK (usage_x1000 >= 0),
            replaced INTEGER NOT NULL DEFAULT 0 CHECK (replaced IN (0, 1)),
            bill_id INTEGER REFERENCES bill (id),
            source TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            UNIQUE (unit_id, meter, read_on)
        );
        CREATE INDEX meter_reading_unbilled ON meter_reading (meter, read_on) WHERE bill_id IS NULL;

        CREATE TABLE payment (
            id INTEGER PRIMARY KEY,
            receipt_no TEXT UNIQUE,
            unit_id INTEGER NOT NULL REFERENCES unit (id),
            party_id INTEGER REFERENCES party (id),
            amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
            channel TEXT NOT NULL CHECK (channel IN
                ('wechat', 'alipay', 'bank', 'cash', 'pos', 'autodebit', 'other', 'opening')),
            ref TEXT,
            paid_on TEXT NOT NULL,
            cashier TEXT NOT NULL DEFAULT '',
            note TEXT NOT NULL DEFAULT '',
            payer TEXT NOT NULL DEFAULT '',
            source TEXT NOT NULL DEFAULT '',
            invoice TEXT NOT NULL DEFAULT '',
            recorded_on TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL
        );
        CREATE UNIQUE INDEX payment_ref ON payment (channel, ref) WHERE ref IS NOT NULL;
        CREATE INDEX payment_unit ON payment (unit_id, paid_on);
        CREATE INDEX payment_day ON payment (paid_on);

        CREATE TABLE reversal (
            id INTEGER PRIMARY KEY,
            payment_id INTEGER NOT NULL UNIQUE REFERENCES payment (id),
            reason TEXT NOT NULL,
            reversed_on TEXT NOT NULL,
            operator TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL
        );

        CREATE TABLE allocation (
            id INTEGER PRIMARY KEY,
            payment_id INTEGER NOT NULL REFERENCES payment (id),
            bill_id INTEGER NOT NULL REFERENCES bill (id),
            amount_fen INTEGER NOT NULL CHECK (amount_fen <> 0),
            reversal_id INTEGER REFERENCES reversal (id),
            allocated_on TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX allocation_bill ON allocation (bill_id);
        CREATE INDEX allocation_payment ON allocation (payment_id);

        CREATE TABLE receipt_counter (
            year INTEGER PRIMARY KEY,
            last INTEGER NOT NULL
        );
        """


def m002_billing(conn: sqlite3.Connection) -> None:
    """Fee standards and their publication, bills, adjustments, meter readings, and the
    ledger (payments, allocations, reversals) that opening balances already need."""
    run_script(conn, _M002_BILLING)


def m003_dunning(conn: sqlite3.Connection) -> None:
    """The contact log (every reminder, call, visit and letter, with its full text) and the
    proofs of delivery that make a demand count (民法典 第195条)."""
    run_script(
        conn,
        """
        CREATE INDEX bill_settled ON bill (settled_on);

        CREATE TABLE contact (
            id INTEGER PRIMARY KEY,
            unit_id INTEGER NOT NULL REFERENCES unit (id),
            party_id INTEGER REFERENCES party (id),
            at TEXT NOT NULL,
            channel TEXT NOT NULL CHECK (channel IN ('phone', 'visit', 'sms', 'wechat', 'letter',
                'registered-mail', 'email', 'call-list', 'legal-review')),
            outcome TEXT NOT NULL,
            reason TEXT NOT NULL DEFAULT '',
            promise_on TEXT,
            tier TEXT NOT NULL DEFAULT '',
            bill_id INTEGER REFERENCES bill (id),
            notice_no TEXT,
            deadline_on TEXT,
            amount_fen INTEGER,
            addressee TEXT NOT NULL DEFAULT '',
            phone TEXT NOT NULL DEFAULT '',
            content TEXT NOT NULL DEFAULT '',
            staff TEXT NOT NULL DEFAULT '',
            note TEXT NOT NULL DEFAULT '',
            source TEXT NOT NULL DEFAULT 'staff',
            forced INTEGER NOT NULL DEFAULT 0 CHECK (forced IN (0, 1)),
            created_at TEXT NOT NULL
        );
        CREATE INDEX contact_unit ON contact (unit_id, at);
        CREATE INDEX contact_party ON contact (party_id, at);
        CREATE INDEX contact_notice ON contact (notice_no) WHERE notice_no IS NOT NULL;
        CREATE INDEX contact_reminder ON contact (unit_id, tier, bill_id)
            WHERE source = 'remind';

        CREATE TABLE contact_delivery (
            id INTEGER PRIMARY KEY,
            contact_id INTEGER NOT NULL REFERENCES contact (id),
            delivered_on TEXT NOT NULL,
            proof TEXT NOT NULL,
            staff TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL
        );
        CREATE INDEX contact_delivery_contact ON contact_delivery (contact_id);

        CREATE TABLE notice_counter (
            year INTEGER PRIMARY KEY,
            last INTEGER NOT NULL
        );
        """,
    )


def m004_payment_ref_after_reversal(conn: sqlite3.Connection) -> None:
    """A reversed payment no longer holds its channel + reference, so the same money can be
    recorded again correctly; and a bank's serial number, which repeats, may belong to two
    payments. The one-payment-per-reference rule moves into the code that records payments
    (inside its write transaction, over payments that are not reversed); the index that stays
    is for looking references up."""
    run_script(
        conn,
        """
        DROP INDEX payment_ref;
        CREATE INDEX payment_by_ref ON payment (ref) WHERE ref IS NOT NULL;
        """,
    )


def m005_late_fees_and_plans(conn: sqlite3.Connection) -> None:
    """Late fees posted as bills (违约金, once per source bill and as-of day), installment
    plans with their covered bills and schedule (LEGAL rules 5 and 7)."""
    run_script(
        conn,
        """
        CREATE TABLE late_fee (
            id INTEGER PRIMARY KEY,
            source_bill_id INTEGER NOT NULL REFERENCES bill (id),
            bill_id INTEGER NOT NULL REFERENCES bill (id),
            as_of TEXT NOT NULL,
            amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
            created_at TEXT NOT NULL,
            UNIQUE (source_bill_id, as_of)
        );
        CREATE INDEX late_fee_bill ON late_fee (bill_id);

        CREATE TABLE plan (
            id INTEGER PRIMARY KEY,
            unit_id INTEGER NOT NULL REFERENCES unit (id),
            party_id INTEGER REFERENCES party (id),
            signed_on TEXT NOT NULL,
            first_due TEXT NOT NULL,
            every TEXT NOT NULL CHECK (every IN ('month', 'week')),
            installments INTEGER NOT NULL CHECK (installments >= 1),
            total_fen INTEGER NOT NULL CHECK (total_fen > 0),
            note TEXT NOT NULL DEFAULT '',
            staff TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL
        );
        CREATE INDEX plan_unit ON plan (unit_id);

        CREATE TABLE plan_bill (
            plan_id INTEGER NOT NULL REFERENCES plan (id),
            bill_id INTEGER NOT NULL REFERENCES bill (id),
            amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
            PRIMARY KEY (plan_id, bill_id)
        );
        CREATE INDEX plan_bill_bill ON plan_bill (bill_id);

        CREATE TABLE plan_installment (
            plan_id INTEGER NOT NULL REFERENCES plan (id),
            seq INTEGER NOT NULL,
            due_on TEXT NOT NULL,
            amount_fen INTEGER NOT NULL CHECK (amount_fen >= 0),
            PRIMARY KEY (plan_id, seq)
        );
        """,
    )


def m006_owner_relations(conn: sqlite3.Connection) -> None:
    """Owner tags (kept as events), complaints and service requests, and every change to a
    case as an event with its time and actor — nothing is overwritten."""
    run_script(
        conn,
        """
        CREATE TABLE party_tag (
            id INTEGER PRIMARY KEY,
            party_id INTEGER NOT NULL REFERENCES party (id),
            tag TEXT NOT NULL,
            action TEXT NOT NULL CHECK (action IN ('add', 'remove')),
            at TEXT NOT NULL,
            actor TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL
        );
        CREATE INDEX party_tag_party ON party_tag (party_id, tag, id);

        CREATE TABLE complaint (
            id INTEGER PRIMARY KEY,
            number TEXT NOT NULL UNIQUE,
            unit_id INTEGER REFERENCES unit (id),
            party_id INTEGER REFERENCES party (id),
            kind TEXT NOT NULL CHECK (kind IN ('complaint', 'request')),
            category TEXT NOT NULL,
            channel TEXT NOT NULL,
            priority TEXT NOT NULL CHECK (priority IN ('urgent', 'normal', 'low')),
            fee_dispute INTEGER NOT NULL DEFAULT 0 CHECK (fee_dispute IN (0, 1)),
            description TEXT NOT NULL,
            contact_name TEXT NOT NULL DEFAULT '',
            contact_phone TEXT NOT NULL DEFAULT '',
            opened_at TEXT NOT NULL,
            deadline_at TEXT NOT NULL,
            deadline_rule TEXT NOT NULL,
            calendar TEXT NOT NULL DEFAULT 'mainland',
            created_by TEXT NOT NULL DEFAULT '',
            source TEXT NOT NULL DEFAULT 'cli',
            created_at TEXT NOT NULL
        );
        CREATE INDEX complaint_unit ON complaint (unit_id, opened_at);
        CREATE INDEX complaint_opened ON complaint (opened_at);

        CREATE TABLE complaint_event (
            id INTEGER PRIMARY KEY,
            complaint_id INTEGER NOT NULL REFERENCES complaint (id),
            at TEXT NOT NULL,
            actor TEXT NOT NULL DEFAULT '',
            action TEXT NOT NULL CHECK (action IN ('open', 'assign', 'progress', 'resolve',
                'visit', 'reopen', 'merge', 'flag', 'fee-dispute')),
            assignee TEXT NOT NULL DEFAULT '',
            note TEXT NOT NULL DEFAULT '',
            score INTEGER CHECK (score IS NULL OR score BETWEEN 1 AND 5),
            other_id INTEGER REFERENCES complaint (id),
            created_at TEXT NOT NULL
        );
        CREATE INDEX complaint_event_case ON complaint_event (complaint_id, id);

        CREATE TABLE complaint_counter (
            year INTEGER PRIMARY KEY,
            last INTEGER NOT NULL
        );
        """,
    )


def m007_surveys(conn: sqlite3.Connection) -> None:
    """Satisfaction surveys: each imported file once (its name and content hash), a row per
    respondent (the unit, or none when anonymous) and an integer score per question answered."""
    run_script(
        conn,
        """
        CREATE TABLE survey (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            held_on TEXT NOT NULL,
            scale INTEGER NOT NULL CHECK (scale IN (5, 10)),
            dimensions TEXT NOT NULL,
            source TEXT NOT NULL DEFAULT '',
            sha256 TEXT NOT NULL,
            imported_at TEXT NOT NULL
        );
        CREATE INDEX survey_sha ON survey (sha256);

        CREATE TABLE survey_response (
            id INTEGER PRIMARY KEY,
            survey_id INTEGER NOT NULL REFERENCES survey (id),
            sheet TEXT NOT NULL DEFAULT '',
            row INTEGER NOT NULL,
            unit_id INTEGER REFERENCES unit (id),
            recommend INTEGER CHECK (recommend IS NULL OR recommend BETWEEN 0 AND 10),
            comment TEXT NOT NULL DEFAULT '',
            UNIQUE (survey_id, sheet, row)
        );
        CREATE INDEX survey_response_unit ON survey_response (unit_id);

        CREATE TABLE survey_score (
            response_id INTEGER NOT NULL REFERENCES survey_response (id),
            dimension TEXT NOT NULL,
            score INTEGER NOT NULL CHECK (score BETWEEN 1 AND 10),
            PRIMARY KEY (response_id, dimension)
        );
        """,
    )


def m008_audit_trail(conn: sqlite3.Connection) -> None:
    """Who ran which write command, when, and what it changed (see propfee/audit.py).
    Append-only: the triggers refuse any UPDATE or DELETE."""
    run_script(
        conn,
        """
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            operator TEXT NOT NULL,
            command TEXT NOT NULL,
            args TEXT NOT NULL DEFAULT '{}',
            changes TEXT NOT NULL DEFAULT '{}',
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        );
        CREATE INDEX audit_at ON audit (at);
        CREATE INDEX audit_operator ON audit (operator, at);
        CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
        BEGIN
            SELECT RAISE(ABORT, 'the audit trail is append-only');
        END;
        CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
        BEGIN
            SELECT RAISE(ABORT, 'the audit trail is append-only');
        END;
        """,
    )


def m009_publication_facts_and_approvals(conn: sqlite3.Connection) -> None:
    """A publication recorded after the fact (补录) says so and names its evidence; an
    adjustment records the day it was approved and, for an upward correction, the published
    fee it rests on (LEGAL rules 8 and 11)."""
    run_script(
        conn,
        """
        ALTER TABLE publication ADD COLUMN recorded_later INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE publication ADD COLUMN evidence TEXT NOT NULL DEFAULT '';
        ALTER TABLE adjustment ADD COLUMN approved_on TEXT NOT NULL DEFAULT '';
        ALTER TABLE adjustment ADD COLUMN basis_ref TEXT NOT NULL DEFAULT '';
        """,
    )


def m010_unit_events(conn: sqlite3.Connection) -> None:
    """Edits of a unit or a party kept as events (变更记录): what changed, from which day, the
    value before and after, who made the change and why. The unit and party rows hold the
    present; these rows hold the history and are never updated or deleted."""
    run_script(
        conn,
        """
        CREATE TABLE unit_event (
            id INTEGER PRIMARY KEY,
            unit_id INTEGER REFERENCES unit (id),
            party_id INTEGER REFERENCES party (id),
            action TEXT NOT NULL
                CHECK (action IN ('unit-set', 'owner-set', 'move-out', 'move-in', 'sell')),
            field TEXT NOT NULL,
            old_value TEXT NOT NULL DEFAULT '',
            new_value TEXT NOT NULL DEFAULT '',
            effective_on TEXT NOT NULL,
            reason TEXT NOT NULL DEFAULT '',
            operator TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            CHECK (unit_id IS NOT NULL OR party_id IS NOT NULL)
        );
        CREATE INDEX unit_event_unit ON unit_event (unit_id, id);
        CREATE INDEX unit_event_party ON unit_event (party_id, id);
        CREATE TRIGGER unit_event_no_update BEFORE UPDATE ON unit_event
        BEGIN
            SELECT RAISE(ABORT, 'the change history is append-only');
        END;
        CREATE TRIGGER unit_event_no_delete BEFORE DELETE ON unit_event
        BEGIN
            SELECT RAISE(ABORT, 'the change history is append-only');
        END;
        """,
    )


def m011_office_loops(conn: sqlite3.Connection) -> None:
    """A fee item ended (no bills after a day) or removed (added by mistake, never billed nor
    published) as events that keep its history; an SMS marked sent or failed from the
    gateway's delivery report as an event beside the contact, which itself never changes."""
    run_script(
        conn,
        """
        CREATE TABLE fee_item_event (
            id INTEGER PRIMARY KEY,
            fee_item_id INTEGER NOT NULL REFERENCES fee_item (id),
            action TEXT NOT NULL CHECK (action IN ('end', 'remove')),
            code TEXT NOT NULL,
            ends_on TEXT,
            reason TEXT NOT NULL DEFAULT '',
            at TEXT NOT NULL,
            created_at TEXT NOT NULL,
            CHECK ((action = 'end') = (ends_on IS NOT NULL))
        );
        CREATE INDEX fee_item_event_item ON fee_item_event (fee_item_id, id);

        CREATE TABLE contact_status (
            id INTEGER PRIMARY KEY,
            contact_id INTEGER NOT NULL REFERENCES contact (id),
            status TEXT NOT NULL CHECK (status IN ('sent', 'failed')),
            at TEXT NOT NULL,
            source TEXT NOT NULL DEFAULT '',
            detail TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL
        );
        CREATE INDEX contact_status_contact ON contact_status (contact_id, id);
        CREATE INDEX contact_sms_phone ON contact (phone) WHERE channel = 'sms';
        """,
    )


# What the search index covers: each table and its text columns. The index of a table is the
# FTS5 table ``<table>_fts`` over those columns (trigram tokenizer, external content, the DDL
# sqlite-utils writes, so its ``search()`` finds it), holding the rows with any text in them.
# The roster (owners' names and phones, unit codes) is not indexed: it is as large as the
# estate, every row has text, and indexing it made a 100,000-unit import 2.7 times slower;
# search reads it directly.
SEARCH_INDEX: dict[str, tuple[str, ...]] = {
    "unit": ("notes",),
    "complaint": ("description", "contact_name", "contact_phone", "category"),
    "complaint_event": ("note", "assignee"),
    "contact": ("note", "reason"),
    "payment": ("note",),
    "plan": ("note",),
}


def trigram_available(conn: sqlite3.Connection) -> bool:
    """FTS5 with the trigram tokenizer (SQLite 3.34 or later, built with FTS5). PostgreSQL
    has no FTS5: search reads the tables there."""
    if getattr(conn, "dialect", "sqlite") != "sqlite":
        return False
    if sqlite3.sqlite_version_info < (3, 34, 0):
        return False
    try:
        conn.execute("CREATE VIRTUAL TABLE temp._trigram_probe USING fts5(x, tokenize='trigram')")
        conn.execute("DROP TABLE temp._trigram_probe")
    except sqlite3.OperationalError:
        return False
    return True


def search_index_sql(table: str, columns: tuple[str, ...]) -> str:
    """The index of ``table``: the FTS5 table, its rows, and the triggers that keep it current.

    Not sqlite-utils' ``enable_fts(create_triggers=True)``: its triggers index every row and
    index a row again on any update. Most contacts and payments carry no note (a reminder run
    writes thousands), and a bill run or an import touches rows without touching their text:
    these triggers skip rows with no text and follow only the indexed columns."""
    fts = f"{table}_fts"
    cols = ", ".join(f"[{c}]" for c in columns)
    new = ", ".join(f"new.[{c}]" for c in columns)
    old = ", ".join(f"old.[{c}]" for c in columns)
    has = " OR ".join(f"coalesce(new.[{c}], '') <> ''" for c in columns)
    had = has.replace("new.", "old.")
    return f"""
        CREATE VIRTUAL TABLE [{fts}] USING FTS5 (
            {cols},
            tokenize='trigram',
            content=[{table}]
        );
        INSERT INTO [{fts}] (rowid, {cols}) SELECT rowid, {cols} FROM [{table}] new
            WHERE {has};
        CREATE TRIGGER [{table}_ai] AFTER INSERT ON [{table}] WHEN {has}
        BEGIN
            INSERT INTO [{fts}] (rowid, {cols}) VALUES (new.rowid, {new});
        END;
        CREATE TRIGGER [{table}_ad] AFTER DELETE ON [{table}] WHEN {had}
        BEGIN
            INSERT INTO [{fts}] ([{fts}], rowid, {cols}) VALUES ('delete', old.rowid, {old});
        END;
        CREATE TRIGGER [{table}_au] AFTER UPDATE OF {cols} ON [{table}]
        BEGIN
            INSERT INTO [{fts}] ([{fts}], rowid, {cols}) SELECT 'delete', old.rowid, {old}
                WHERE {had};
            INSERT INTO [{fts}] (rowid, {cols}) SELECT new.rowid, {new} WHERE {has};
        END;
        """


def m012_search_index(conn: sqlite3.Connection) -> None:
    """The search index (propfee search): FTS5 with the trigram tokenizer, so 漏水 is found
    inside 卫生间漏水严重, over complaints and their events, contacts and the notes kept with
    units, payments and plans. Existing rows are indexed now; triggers keep it current. An
    SQLite without trigram (before 3.34) gets no index and search reads the tables."""
    if not trigram_available(conn):
        return
    for table, columns in SEARCH_INDEX.items():
        run_script(conn, search_index_sql(table, columns))


def m013_import_events(conn: sqlite3.Connection) -> None:
    """Where a change in the history came from: blank for an edit made with a command
    (units set, owners set, units sell …), ``import FILE`` for a change a roster import made.
    A re-imported file that still holds the value an edit replaced keeps the edit, and tells
    the two apart by this."""
    run_script(
        conn,
        """
        ALTER TABLE unit_event ADD COLUMN source TEXT NOT NULL DEFAULT '';
        """,
    )


def m014_contacts_and_zones(conn: sqlite3.Connection) -> None:
    """A unit's contacts — family members and further tenants an old system lists beside
    the owner — kept as events: a contact added, a contact removed; the rows are never
    updated or deleted, and the contacts now are those added and not removed since. A
    contact is no party: no bill, payment or payer ever points at one. A unit's zone (北二区
    of 北二区30栋三单元1102) beside its building."""
    run_script(
        conn,
        """
        ALTER TABLE unit ADD COLUMN zone TEXT NOT NULL DEFAULT '';

        CREATE TABLE unit_contact (
            id INTEGER PRIMARY KEY,
            unit_id INTEGER NOT NULL REFERENCES unit (id),
            action TEXT NOT NULL CHECK (action IN ('add', 'remove')),
            relation TEXT NOT NULL CHECK (relation IN ('family', 'tenant', 'other')),
            name TEXT NOT NULL,
            phones TEXT NOT NULL DEFAULT '',
            id_number TEXT NOT NULL DEFAULT '',
            gender TEXT NOT NULL DEFAULT '' CHECK (gender IN ('', 'male', 'female')),
            effective_on TEXT NOT NULL,
            reason TEXT NOT NULL DEFAULT '',
            operator TEXT NOT NULL DEFAULT '',
            source TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL
        );
        CREATE INDEX unit_contact_unit ON unit_contact (unit_id, id);
        CREATE TRIGGER unit_contact_no_update BEFORE UPDATE ON unit_contact
        BEGIN
            SELECT RAISE(ABORT, 'the contacts history is append-only');
        END;
        CREATE TRIGGER unit_contact_no_delete BEFORE DELETE ON unit_contact
        BEGIN
            SELECT RAISE(ABORT, 'the contacts history is append-only');
        END;
        """,
    )


def m015_period_sums_index(conn: sqlite3.Connection) -> None:
    """The bills' indexes carry what the estate-wide reads sum: the period index the cycle
    start, settled-on day and amount the collection report's trend adds up, the party index
    the due and settled-on days and period a payer's history counts (propfee overdue, remind,
    today) — both read from the index alone, never from the bills themselves."""
    run_script(
        conn,
        """
        DROP INDEX IF EXISTS bill_period;
        CREATE INDEX bill_period ON bill (period, fee_item_id, covers_from, settled_on, amount_fen);
        DROP INDEX IF EXISTS bill_party;
        CREATE INDEX bill_party ON bill (party_id, due_on, settled_on, period);
        """,
    )


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    m001_roster,
    m002_billing,
    m003_dunning,
    m004_payment_ref_after_reversal,
    m005_late_fees_and_plans,
    m006_owner_relations,
    m007_surveys,
    m008_audit_trail,
    m009_publication_facts_and_approvals,
    m010_unit_events,
    m011_office_loops,
    m012_search_index,
    m013_import_events,
    m014_contacts_and_zones,
    m015_period_sums_index,
]

SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection, path: Path | str = "database") -> int:
    """Bring the schema up to date; return the number of steps applied."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    _refuse_foreign(conn, version, path)
    if version == SCHEMA_VERSION:
        return 0
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]  # re-read under the lock
        _refuse_foreign(conn, version, path)
        applied = 0
        if version < SCHEMA_VERSION:
            if version == 0:
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS _migrations ("
                    " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
                )

            now = audit.stamp(audit.now())  # the running command's clock
            applied = _apply(conn, version, now)
            _stamp_version(conn, version, now)
        conn.execute("COMMIT")
    except BaseException:
        conn.rollback()
        raise
    return applied


def _apply(conn: sqlite3.Connection, version: int, now: str) -> int:
    """Run the steps after ``version`` and note each in _migrations."""
    applied = 0
    for number, step in enumerate(MIGRATIONS[version:], start=version + 1):
        step(conn)
        conn.execute(
            "INSERT INTO _migrations (version, name, applied_at) VALUES (?, ?, ?)",
            (number, step.__name__, now),
        )
        applied += 1
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return applied


def migrate_tables(conn: sqlite3.Connection) -> int:
    """Make a new database's tables inside the caller's transaction, without the first
    entry of an audit trail or a database id: for an estate whose rows, trail and id are
    about to be copied in (propfee migrate-to)."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS _migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    return _apply(conn, 0, audit.stamp(audit.now()))


def _stamp_version(conn: sqlite3.Connection, version: int, now: str) -> None:
    """Name the propfee that last migrated the file (so an older propfee can say which
    version to install), give a new file its id, and put its creation or upgrade in the
    audit trail."""
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('propfee_version', ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (__version__,),
    )
    # a random id, so backups of two estates' propfee.db in one folder are told apart
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('database_id', lower(hex(randomblob(16)))) "
        "ON CONFLICT (key) DO NOTHING"
    )
    if audit.has_trail(conn):  # the trail starts with the database: never empty
        during = audit.current()
        call = audit.Invocation(
            "upgrade" if version else "create",
            {"during": during.command} if during else {},
            during.operator if during else audit.default_operator(),
        )
        changes = {"schema": [version, SCHEMA_VERSION], "propfee": __version__}
        audit.append(conn, call, changes, at=now)


def _refuse_foreign(conn: sqlite3.Connection, version: int, path: Path | str) -> None:
    if version > SCHEMA_VERSION:
        made_by = None
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'propfee_version'").fetchone()
            made_by = row[0] if row else None
        except sqlite3.Error:
            pass
        newer = (
            _("propfee {made_by}, schema {version}").format(made_by=made_by, version=version)
            if made_by
            else _("schema {version}").format(version=version)
        )
        install = (
            _("propfee {made_by} or later").format(made_by=made_by)
            if made_by
            else _("a newer propfee")
        )
        raise DatabaseError(
            _(
                "{path}: made by a newer propfee ({newer}); this is propfee "
                "{__version__} (schema {SCHEMA_VERSION}) — install {install} "
                "to open it"
            ).format(
                path=path,
                newer=newer,
                __version__=__version__,
                SCHEMA_VERSION=SCHEMA_VERSION,
                install=install,
            )
        )
    if version == 0:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        if tables and tables != ["_migrations"]:
            raise DatabaseError(
                _(
                    "{path}: an SQLite database that propfee did not make "
                    "(tables: {values}); point --db at a new or a propfee file"
                ).format(path=path, values=", ".join(tables[:5]))
            )
