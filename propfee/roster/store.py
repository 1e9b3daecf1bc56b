"""The roster's SQL: reads and writes units, parties and occupancies (who held a unit when),
and the developer's party; asks the bills only whether days are billed already."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator

from propfee.store import bulk


def _plain(conn: sqlite3.Connection) -> sqlite3.Cursor:
    """A cursor yielding plain tuples, whatever the connection's row factory: the fastest way
    to read every unit of a 100k-unit estate."""
    fast = conn.cursor()
    fast.row_factory = None
    return fast


# ---------------------------------------------------------------- units


def has_units(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM unit LIMIT 1").fetchone() is not None


def code_exists(conn: sqlite3.Connection, code: str) -> bool:
    return conn.execute("SELECT 1 FROM unit WHERE code = ?", (code,)).fetchone() is not None


def codes_ignoring_case(conn: sqlite3.Connection, code: str) -> list[str]:
    """Up to two codes equal to ``code`` when letter case is ignored."""
    rows = conn.execute(
        "SELECT code FROM unit WHERE code = ? COLLATE NOCASE LIMIT 2", (code,)
    ).fetchall()
    return [row[0] for row in rows]


def codes_containing(conn: sqlite3.Connection, text: str) -> list[str]:
    """Up to three codes that contain ``text``, for a "did you mean" hint."""
    rows = conn.execute(
        "SELECT code FROM unit WHERE code LIKE ? ORDER BY code LIMIT 3", (f"%{text}%",)
    ).fetchall()
    return [row[0] for row in rows]


def delivered_on(conn: sqlite3.Connection, unit_id: int) -> str | None:
    return conn.execute("SELECT delivered_on FROM unit WHERE id = ?", (unit_id,)).fetchone()[0]


def undelivered_units(conn: sqlite3.Connection) -> list[tuple[int, str]]:
    """(id, code) of the units with no delivery date on record."""
    return conn.execute("SELECT id, code FROM unit WHERE delivered_on IS NULL").fetchall()


def set_delivered(conn: sqlite3.Connection, unit_ids: list[int], day: str, stamp: str) -> None:
    """Record ``day`` as the delivery date of units that have none."""
    conn.executemany(
        "UPDATE unit SET delivered_on = ?, updated_at = ? WHERE id = ? AND delivered_on IS NULL",
        [(day, stamp, uid) for uid in unit_ids],
    )


def units_for_billing(conn: sqlite3.Connection) -> Iterator[tuple]:
    """(id, code, building, kind, area_x100, delivered_on, vacant) of every unit."""
    return _plain(conn).execute(
        "SELECT id, code, building, kind, area_x100, delivered_on, vacant FROM unit"
    )


def units_for_billing_named(conn: sqlite3.Connection, codes: list[str]) -> Iterator[tuple]:
    """The same of the units with these codes (one statement, the codes as one JSON array),
    in the order of their ids."""
    return _plain(conn).execute(
        "SELECT id, code, building, kind, area_x100, delivered_on, vacant FROM unit "
        "WHERE code IN (SELECT value FROM json_each(?)) ORDER BY id",
        (json.dumps(codes),),
    )


def live_occupancies_of(conn: sqlite3.Connection, unit_ids: list[int]) -> Iterator[tuple]:
    """``live_occupancies`` of these units only (one statement)."""
    return _plain(conn).execute(
        "SELECT unit_id, role, party_id, start_on, end_on, pays FROM occupancy "
        "WHERE unit_id IN (SELECT value FROM json_each(?)) "
        "AND (end_on IS NULL OR start_on IS NULL OR end_on > start_on) ORDER BY id",
        (json.dumps(unit_ids),),
    )


# ---------------------------------------------------------------- the current roster

_ROSTER_SQL = """
SELECT u.code, u.building, u.entrance, u.room, u.floor, u.kind, u.area_x100, u.area_basis,
       u.inner_area_x100, u.delivered_on, u.notes,
       coalesce(po.name, ''), coalesce(po.kind, ''), coalesce(po.phones, ''),
       coalesce(po.id_number, ''), po.birthday,
       coalesce(pt.name, ''), coalesce(pt.phones, ''),
       CASE WHEN t.pays = 1 THEN 'tenant' WHEN o.id IS NULL THEN 'developer' ELSE 'owner' END,
       u.vacant, u.zone
FROM unit u
LEFT JOIN occupancy o ON o.unit_id = u.id AND o.role = 'owner' AND o.end_on IS NULL
LEFT JOIN party po ON po.id = o.party_id
LEFT JOIN occupancy t ON t.unit_id = u.id AND t.role = 'tenant' AND t.end_on IS NULL
LEFT JOIN party pt ON pt.id = t.party_id
"""


def roster_rows(
    conn: sqlite3.Connection,
    *,
    building: str | None = None,
    kind: str | None = None,
    owner_contains: str | None = None,
    zone: str | None = None,
) -> sqlite3.Cursor:
    """Units with their current owner, tenant and payer (the columns of ``UnitView``), in no
    particular order; only those in a building, of a kind, or whose owner's name contains a
    text when given."""
    where, params = [], []
    if building is not None:
        where.append("u.building = ?")
        params.append(building)
    if zone is not None:
        where.append("u.zone = ?")
        params.append(zone)
    if kind is not None:
        where.append("u.kind = ?")
        params.append(kind)
    if owner_contains is not None:
        where.append("po.name LIKE ?")
        params.append(f"%{owner_contains}%")
    sql = _ROSTER_SQL + (" WHERE " + " AND ".join(where) if where else "")
    return conn.execute(sql, params)


def roster_row(conn: sqlite3.Connection, code: str) -> tuple | None:
    """One unit with its current owner, tenant and payer, by its exact code."""
    return conn.execute(_ROSTER_SQL + " WHERE u.code = ?", (code,)).fetchone()


def occupancy_history(conn: sqlite3.Connection, code: str) -> sqlite3.Cursor:
    """(role, name, kind, phones, id_number, start_on, end_on, pays, source) of everyone who
    held a unit, by role and then in order of time."""
    return conn.execute(
        "SELECT o.role, p.name, p.kind, p.phones, p.id_number, o.start_on, o.end_on, o.pays, "
        "o.source FROM occupancy o JOIN party p ON p.id = o.party_id "
        "JOIN unit u ON u.id = o.unit_id WHERE u.code = ? "
        "ORDER BY o.role, coalesce(o.start_on, ''), o.id",
        (code,),
    )


# ---------------------------------------------------------------- who held a unit when


def unit_occupancies(conn: sqlite3.Connection, unit_id: int) -> sqlite3.Cursor:
    """(role, party_id, start_on, end_on, pays) of a unit's occupancies, oldest first."""
    return conn.execute(
        "SELECT role, party_id, start_on, end_on, pays FROM occupancy WHERE unit_id = ? "
        "ORDER BY id",
        (unit_id,),
    )


def live_occupancies(conn: sqlite3.Connection) -> Iterator[tuple]:
    """(unit_id, role, party_id, start_on, end_on, pays) of every occupancy that lasts at
    least a day, oldest first."""
    return _plain(conn).execute(
        "SELECT unit_id, role, party_id, start_on, end_on, pays FROM occupancy "
        "WHERE end_on IS NULL OR start_on IS NULL OR end_on > start_on ORDER BY id"
    )


def developer(conn: sqlite3.Connection) -> tuple | None:
    """(id, name) of the developer's party, or None before it is made."""
    return conn.execute("SELECT id, name FROM party WHERE is_developer = 1").fetchone()


def developer_id(conn: sqlite3.Connection) -> int | None:
    row = conn.execute("SELECT id FROM party WHERE is_developer = 1").fetchone()
    return row[0] if row else None


def rename_party(conn: sqlite3.Connection, party_id: int, name: str, stamp: str) -> None:
    conn.execute("UPDATE party SET name = ?, updated_at = ? WHERE id = ?", (name, stamp, party_id))


def insert_developer(conn: sqlite3.Connection, name: str, stamp: str) -> int:
    cursor = conn.execute(
        "INSERT INTO party (kind, name, is_developer, created_at, updated_at) "
        "VALUES ('company', ?, 1, ?, ?)",
        (name, stamp, stamp),
    )
    return cursor.lastrowid


# ---------------------------------------------------------------- a roster merge: reads


def units_on_record(conn: sqlite3.Connection, code: str | None = None) -> Iterator[tuple]:
    """(id, code, vacant, building, entrance, room, floor, kind, area_x100, area_basis,
    inner_area_x100, delivered_on, notes, zone) of every unit (or the one with ``code``), as
    plain tuples."""
    sql = (
        "SELECT id, code, vacant, building, entrance, room, floor, kind, area_x100, "
        "area_basis, inner_area_x100, delivered_on, notes, zone FROM unit"
    )
    if code is None:
        return _plain(conn).execute(sql)
    return _plain(conn).execute(sql + " WHERE code = ?", (code,))


def current_holders(conn: sqlite3.Connection, code: str | None = None) -> Iterator[tuple]:
    """(unit_id, role, occupancy id, party_id, start_on, pays, name, kind, phones, id_number,
    birthday) of every occupancy not ended (of the unit with ``code``), as plain tuples."""
    sql = (
        "SELECT o.unit_id, o.role, o.id, o.party_id, o.start_on, o.pays, p.name, p.kind, "
        "p.phones, p.id_number, p.birthday FROM occupancy o "
        "JOIN party p ON p.id = o.party_id WHERE o.end_on IS NULL"
    )
    if code is None:
        return _plain(conn).execute(sql)
    return _plain(conn).execute(
        sql + " AND o.unit_id = (SELECT id FROM unit WHERE code = ?)", (code,)
    )


def next_unit_id(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT coalesce(max(id), 0) + 1 FROM unit").fetchone()[0]


def next_party_id(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT coalesce(max(id), 0) + 1 FROM party").fetchone()[0]


def people(conn: sqlite3.Connection) -> sqlite3.Cursor:
    """(id, name, phones, id_number) of every party but the developer, oldest first."""
    return conn.execute(
        "SELECT id, name, phones, id_number FROM party WHERE is_developer = 0 ORDER BY id"
    )


def people_named(conn: sqlite3.Connection, name: str) -> sqlite3.Cursor:
    """``people`` of this name only, found by the name's index."""
    return conn.execute(
        "SELECT id, name, phones, id_number FROM party WHERE name = ? AND is_developer = 0 "
        "ORDER BY id",
        (name,),
    )


def billed_from(conn: sqlite3.Connection, unit_id: int, day: str) -> bool:
    """Whether a unit has a bill (not an opening balance) covering ``day`` or later."""
    return (
        conn.execute(
            "SELECT 1 FROM bill WHERE unit_id = ? AND covers_to >= ? AND opening = 0 LIMIT 1",
            (unit_id, day),
        ).fetchone()
        is not None
    )


# ---------------------------------------------------------------- a roster merge: writes


def insert_units(conn: sqlite3.Connection, rows: Iterable[tuple]) -> None:
    """(id, code, vacant, building, entrance, room, floor, kind, area_x100, area_basis,
    inner_area_x100, delivered_on, notes, zone, created_at, updated_at); a None vacant is 0."""
    bulk.insert_many(  # notes are indexed for search: in one pass
        conn, "unit", UNIT_COLUMNS, list(rows), values={"vacant": "coalesce({}, 0)"}
    )


UNIT_COLUMNS = (
    "id",
    "code",
    "vacant",
    "building",
    "entrance",
    "room",
    "floor",
    "kind",
    "area_x100",
    "area_basis",
    "inner_area_x100",
    "delivered_on",
    "notes",
    "zone",
    "created_at",
    "updated_at",
)


def update_units(conn: sqlite3.Connection, rows: Iterable[tuple]) -> None:
    """(vacant, building, entrance, room, floor, kind, area_x100, area_basis, inner_area_x100,
    delivered_on, notes, zone, updated_at, id); a None vacant keeps the one on record."""
    conn.executemany(
        "UPDATE unit SET vacant = coalesce(?, vacant), building = ?, entrance = ?, room = ?, "
        "floor = ?, kind = ?, "
        "area_x100 = ?, area_basis = ?, inner_area_x100 = ?, delivered_on = ?, notes = ?, "
        "zone = ?, updated_at = ? WHERE id = ?",
        rows,
    )


def insert_parties(conn: sqlite3.Connection, rows: Iterable) -> None:
    """(id, kind, name, phones, id_number, birthday, created_at, updated_at)."""
    conn.executemany(
        "INSERT INTO party (id, kind, name, phones, id_number, birthday, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def end_occupancies(conn: sqlite3.Connection, rows: Iterable[tuple]) -> None:
    """(end_on, id)."""
    conn.executemany("UPDATE occupancy SET end_on = ? WHERE id = ?", rows)


def insert_occupancies(conn: sqlite3.Connection, rows: Iterable[tuple]) -> None:
    """(unit_id, party_id, role, start_on, end_on, pays, source, created_at)."""
    conn.executemany(
        "INSERT INTO occupancy (unit_id, party_id, role, start_on, end_on, pays, source, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def update_party_details(conn: sqlite3.Connection, rows: Iterable[tuple]) -> None:
    """(kind, id_number, birthday, updated_at, id)."""
    conn.executemany(
        "UPDATE party SET kind = ?, id_number = ?, birthday = ?, updated_at = ? WHERE id = ?",
        rows,
    )


def update_party_phones(conn: sqlite3.Connection, rows: Iterable[tuple]) -> None:
    """(phones, updated_at, id)."""
    conn.executemany("UPDATE party SET phones = ?, updated_at = ? WHERE id = ?", rows)


def codes_without_owner(conn: sqlite3.Connection) -> list[str]:
    """Codes of the units with no current owner (the developer pays for them), by code."""
    return [
        code
        for (code,) in conn.execute(
            "SELECT u.code FROM unit u WHERE NOT EXISTS (SELECT 1 FROM occupancy o "
            "WHERE o.unit_id = u.id AND o.role = 'owner' AND o.end_on IS NULL) ORDER BY u.code"
        )
    ]


# ---------------------------------------------------------------- edits kept as events


def party_row(conn: sqlite3.Connection, party_id: int) -> tuple | None:
    """(id, kind, name, phones, id_number, is_developer) of one party."""
    return conn.execute(
        "SELECT id, kind, name, phones, id_number, is_developer FROM party WHERE id = ?",
        (party_id,),
    ).fetchone()


def current_holder_id(conn: sqlite3.Connection, code: str, role: str) -> int | None:
    """The party holding the unit with ``code`` now as ``role`` (owner, tenant), if any."""
    row = conn.execute(
        "SELECT o.party_id FROM occupancy o JOIN unit u ON u.id = o.unit_id "
        "WHERE u.code = ? AND o.role = ? AND o.end_on IS NULL",
        (code, role),
    ).fetchone()
    return row[0] if row else None


def unit_id_of(conn: sqlite3.Connection, code: str) -> int | None:
    row = conn.execute("SELECT id FROM unit WHERE code = ?", (code,)).fetchone()
    return row[0] if row else None


def parties_named(conn: sqlite3.Connection, name: str) -> list[int]:
    """Ids of the parties (not the developer) with exactly this name."""
    return [
        r[0]
        for r in conn.execute(
            "SELECT id FROM party WHERE name = ? AND is_developer = 0 ORDER BY id", (name,)
        )
    ]


def parties_with_phone(conn: sqlite3.Connection, phone: str) -> list[int]:
    """Ids of the parties (not the developer) with this phone among their phones."""
    return [
        r[0]
        for r in conn.execute(
            "SELECT id FROM party WHERE is_developer = 0 AND ('/' || phones || '/') LIKE ? "
            "ORDER BY id",
            (f"%/{phone}/%",),
        )
    ]


def update_party(
    conn: sqlite3.Connection,
    party_id: int,
    *,
    kind: str,
    name: str,
    phones: str,
    id_number: str,
    stamp: str,
) -> None:
    conn.execute(
        "UPDATE party SET kind = ?, name = ?, phones = ?, id_number = ?, updated_at = ? "
        "WHERE id = ?",
        (kind, name, phones, id_number, stamp, party_id),
    )


def insert_unit_events(conn: sqlite3.Connection, rows: Iterable[tuple]) -> None:
    """(unit_id, party_id, action, field, old_value, new_value, effective_on, reason,
    operator, created_at[, source]); without a source, an edit made with a command."""
    rows = [row if len(row) == 11 else (*row, "") for row in rows]
    conn.executemany(
        "INSERT INTO unit_event (unit_id, party_id, action, field, old_value, new_value, "
        "effective_on, reason, operator, created_at, source) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def edit_events(conn: sqlite3.Connection) -> Iterator[tuple]:
    """(unit_id, party_id, action, field, old_value, new_value) of every edit made with a
    command (not by an import), oldest first: what a re-import compares with, read once."""
    return _plain(conn).execute(
        "SELECT unit_id, party_id, action, field, old_value, new_value FROM unit_event "
        "WHERE source = '' ORDER BY id"
    )


_EVENT_SQL = (
    "SELECT e.effective_on, e.operator, e.action, e.field, e.old_value, e.new_value, e.reason, "
    "e.created_at, coalesce(u.code, ''), coalesce(p.name, ''), e.source FROM unit_event e "
    "LEFT JOIN unit u ON u.id = e.unit_id LEFT JOIN party p ON p.id = e.party_id "
)


def unit_events(conn: sqlite3.Connection, unit_id: int) -> list[tuple]:
    """(effective_on, operator, action, field, old, new, reason, created_at, unit code, party
    name) of a unit's events and of the edits of anyone who held it, oldest first."""
    return conn.execute(
        _EVENT_SQL + "WHERE e.unit_id = ? OR (e.unit_id IS NULL AND e.party_id IN "
        "(SELECT party_id FROM occupancy WHERE unit_id = ?)) ORDER BY e.id",
        (unit_id, unit_id),
    ).fetchall()


def party_events(conn: sqlite3.Connection, party_id: int) -> list[tuple]:
    """The events naming a party (its edits, its sales and moves), oldest first; the columns
    of ``unit_events``."""
    return conn.execute(_EVENT_SQL + "WHERE e.party_id = ? ORDER BY e.id", (party_id,)).fetchall()


def set_unit_notes(conn: sqlite3.Connection, rows: Iterable[tuple]) -> None:
    """(notes, updated_at, id) of units whose notes gain something (a vehicle's plate)."""
    conn.executemany("UPDATE unit SET notes = ?, updated_at = ? WHERE id = ?", rows)


# ---------------------------------------------------------------- a unit's contacts


def contact_events(conn: sqlite3.Connection, unit_id: int | None = None) -> Iterator[tuple]:
    """(unit_id, action, relation, name, phones, id_number, gender, source) of every contact
    event (of one unit), oldest first: the contacts now are folded from them."""
    sql = (
        "SELECT unit_id, action, relation, name, phones, id_number, gender, source "
        "FROM unit_contact"
    )
    if unit_id is None:
        return _plain(conn).execute(sql + " ORDER BY id")
    return _plain(conn).execute(sql + " WHERE unit_id = ? ORDER BY id", (unit_id,))


def contact_events_of_units(conn: sqlite3.Connection, unit_ids: list[int]) -> list[tuple]:
    """The contact events of these units (the columns of ``contact_events``), oldest first."""
    if not unit_ids:
        return []
    marks = ", ".join("?" for _ in unit_ids)
    return (
        _plain(conn)
        .execute(
            "SELECT unit_id, action, relation, name, phones, id_number, gender, source "
            f"FROM unit_contact WHERE unit_id IN ({marks}) ORDER BY id",
            unit_ids,
        )
        .fetchall()
    )


def insert_contact_events(conn: sqlite3.Connection, rows: Iterable[tuple]) -> None:
    """(unit_id, action, relation, name, phones, id_number, gender, effective_on, reason,
    operator, source, created_at)."""
    conn.executemany(
        "INSERT INTO unit_contact (unit_id, action, relation, name, phones, id_number, gender, "
        "effective_on, reason, operator, source, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def unit_ids_by_code(conn: sqlite3.Connection) -> dict[int, str]:
    """unit id -> code of every unit."""
    return dict(_plain(conn).execute("SELECT id, code FROM unit"))
