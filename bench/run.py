"""propfee benchmarks: measure against baselines in the same run and print ratios.

    python bench/run.py                 # 100,000 units
    python bench/run.py --units 20000   # smaller
    python bench/run.py --repeat 3      # best of three
    python bench/run.py --only import   # the calamine read, the floor and import-units only
    python bench/run.py --scale         # seconds per 1,000 units at 10k, 30k, 100k, 300k
    python bench/run.py --scale 10000,30000
    python bench/run.py --scale 10000,300000 --only notices,remind   # some commands only
    python bench/run.py --engine pg --units 20000   # the main commands on PostgreSQL too

Each measurement runs in its own process, so its peak memory (ru_maxrss from wait4) is its
own. The synthetic rosters and histories are cached in bench/.cache/ ($PROPFEE_BENCH_CACHE
names another folder); commands run on copies, never on the cached files. This is a benchmark, not a test: it
prints figures and the targets they are held to; it fails nothing.
"""

from __future__ import annotations

import argparse
import atexit
import compileall
import importlib.util
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = Path(os.environ.get("PROPFEE_BENCH_CACHE") or HERE / ".cache")  # rosters, histories
HEADERS = [
    "楼号",
    "单元",
    "房间",
    "房屋类型",
    "建筑面积",
    "业主姓名",
    "联系电话",
    "身份证号",
    "交付日期",
    "备注",
]


# ---------------------------------------------------------------- the synthetic estate


def apart(job: str, *args) -> None:
    """Run the bench's ``job`` in a child process. The harness stays small: a command it
    starts later would otherwise show the harness's peak memory as its own (Linux keeps a
    process's peak RSS across exec, and a child starts from its parent's)."""
    me = [sys.executable, str(Path(__file__).resolve())]
    subprocess.run([*me, "--child", job, *map(str, args)], check=True)


def make_roster(units: int) -> Path:
    """An xlsx roster of ``units`` rows shaped like a real export (cached; made apart)."""
    path = CACHE / f"roster-{units}.xlsx"
    if not path.exists():
        apart("roster", units)
    return path


def job_roster(units_text: str) -> None:
    """Write the roster of ``make_roster`` (numbers as numbers)."""
    units = int(units_text)
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"roster-{units}.xlsx"
    from openpyxl import Workbook

    rng = random.Random(units)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("业主信息")
    ws.append(HEADERS)
    surnames = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
    given = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    per_building = 2 * 33 * 4  # entrances x floors x rooms
    for i in range(units):
        building, rest = divmod(i, per_building)
        entrance, rest = divmod(rest, 33 * 4)
        floor, side = divmod(rest, 4)
        body = f"620102{1950 + i % 50}{1 + i % 12:02d}{1 + i % 28:02d}{i % 1000:03d}"
        check = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]
        ws.append(
            [
                building + 1,
                entrance + 1,
                float((floor + 1) * 100 + side + 1),
                "住宅" if side else "商铺" if floor == 0 else "住宅",
                (89.37, 120.0, 105.5, 143.28)[side],
                rng.choice(surnames) + rng.choice(given) + rng.choice(given),
                float(13800000000 + i),
                body + check if i % 3 else None,
                date(2018, 1, 1) + timedelta(days=i % 1500),
                "" if i % 10 else "空置",
            ]
        )
    wb.save(path)


def make_statement(db_path: str, units: int) -> Path:
    """A WeChat Pay bill export paying November for every unit, memo naming the unit
    (cached; made apart)."""
    path = CACHE / f"wechat-{units}.csv"
    if not path.exists():
        apart("statement", db_path, units)
    return path


def job_statement(db_path: str, units: str) -> None:
    """Write the export of ``make_statement``."""
    import sqlite3

    path = CACHE / f"wechat-{units}.csv"
    conn = sqlite3.connect(db_path)
    rows = conn.execute(
        "SELECT u.code, b.amount_fen FROM bill b JOIN unit u ON u.id = b.unit_id "
        "WHERE b.fee_item_id = 1 ORDER BY u.id"
    ).fetchall()
    lines = [
        "微信支付账单明细",
        "微信昵称：[物业收费]",
        "----------------------微信支付账单明细列表--------------------",
        "交易时间,交易类型,交易对方,商品,收/支,金额(元),支付方式,当前状态,交易单号,商户单号,备注",
    ]
    for number, (code, fen) in enumerate(rows, start=1):
        lines.append(
            f"2026-11-{1 + number % 28:02d} 10:00:00,转账,业主{number},转账备注:{code}物业费,"
            f"收入,¥{fen // 100}.{fen % 100:02d},/,已存入零钱,10000500{number:022d}\t,/\t,/"
        )
    path.write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")


# ---------------------------------------------------------------- the measured jobs (children)


def job_calamine(path: str) -> None:
    import python_calamine

    with open(path, "rb") as handle:
        sheet = python_calamine.CalamineWorkbook.from_filelike(handle).get_sheet_by_index(0)
    cells = sum(len(row) for row in sheet.iter_rows())
    print(cells, file=sys.stderr)


def job_openpyxl(path: str) -> None:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    cells = sum(len(row) for row in wb.active.iter_rows(values_only=True))
    print(cells, file=sys.stderr)


def job_floor(path: str, db_path: str) -> None:
    """A bare read and raw executemany of the same units, owners and occupancies: the least
    any importer can do."""
    import python_calamine

    from propfee.store import db

    with open(path, "rb") as handle:
        sheet = python_calamine.CalamineWorkbook.from_filelike(handle).get_sheet_by_index(0)
    rows = sheet.iter_rows()
    next(rows)
    stamp = "2026-11-01 00:00:00"
    units, parties, occupancies = [], [], []
    for i, r in enumerate(rows, start=1):
        code = f"{int(r[0])}-{int(r[1])}-{int(r[2])}"
        units.append(
            (
                i,
                code,
                str(int(r[0])),
                str(int(r[1])),
                str(int(r[2])),
                "",
                "residential",
                int(r[4] * 100),
                "建筑面积",
                None,
                str(r[8]),
                "",
                stamp,
                stamp,
            )
        )
        parties.append((i, "person", r[5], str(int(r[6])), r[7] or "", None, stamp, stamp))
        occupancies.append((i, i, "owner", str(r[8]), None, 1, "bench", stamp))
    conn = db.connect(db_path)
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        "INSERT INTO unit (id, code, building, entrance, room, floor, kind, area_x100, "
        "area_basis, inner_area_x100, delivered_on, notes, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        units,
    )
    conn.executemany(
        "INSERT INTO party (id, kind, name, phones, id_number, birthday, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        parties,
    )
    conn.executemany(
        "INSERT INTO occupancy (unit_id, party_id, role, start_on, end_on, pays, source, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        occupancies,
    )
    conn.execute("COMMIT")
    conn.close()


def job_rawbills(db_path: str, keys: str = "") -> None:
    """The same bill rows the bill run makes for one month, inserted with raw executemany;
    with ``keys``, foreign keys checked as on every propfee connection."""
    import sqlite3

    conn = sqlite3.connect(db_path, isolation_level=None)
    if keys:
        conn.execute("PRAGMA foreign_keys = ON")
    units = conn.execute(
        "SELECT u.id, u.area_x100, o.party_id FROM unit u JOIN occupancy o "
        "ON o.unit_id = u.id AND o.end_on IS NULL"
    ).fetchall()
    items = conn.execute(
        "SELECT f.id, f.basis, p.price_x10000 FROM fee_item f "
        "JOIN fee_price p ON p.fee_item_id = f.id"
    ).fetchall()
    stamp = "2026-11-15 00:00:00"
    rows = []
    for item_id, basis, price in items:
        for uid, area, party in units:
            base = area if basis == "area" else 100
            amount = (2 * price * base + 10000) // 20000
            rows.append(
                (
                    uid,
                    item_id,
                    party,
                    "2026-11",
                    0,
                    "2026-11-01",
                    "2026-11-30",
                    "2026-11-15",
                    amount,
                    str(base),
                    price,
                    "",
                    stamp,
                )
            )
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        "INSERT INTO bill (unit_id, fee_item_id, party_id, period, seq, covers_from, covers_to, "
        "due_on, amount_fen, quantity, price_x10000, basis, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.execute("COMMIT")


def job_rawpayments(db_path: str, notes: str = "") -> None:
    """One payment and one allocation per billed unit, inserted with raw executemany; with
    ``notes``, each payment's note is the statement line's memo, as reconcile writes it (and
    the note's full-text index is kept up to date for each, in one statement as reconcile
    does)."""
    import sqlite3

    conn = sqlite3.connect(db_path, isolation_level=None)
    bills = conn.execute(
        "SELECT b.id, b.unit_id, b.party_id, b.amount_fen, u.code FROM bill b "
        "JOIN unit u ON u.id = b.unit_id WHERE b.fee_item_id = 1 ORDER BY b.unit_id"
    ).fetchall()
    stamp = "2026-12-01 00:00:00"
    payments, allocations = [], []
    for number, (bill_id, unit_id, party_id, amount, code) in enumerate(bills, start=1):
        payments.append(
            (
                number,
                f"2026-{number:06d}",
                unit_id,
                party_id,
                amount,
                "wechat",
                f"R{number:012d}",
                "2026-11-20",
                "",
                f"转账备注:{code}物业费 /" if notes else "",
                "",
                "",
                "",
                "2026-12-01",
                stamp,
            )
        )
        allocations.append((number, bill_id, amount, "2026-11-20", stamp))
    columns = (
        "id, receipt_no, unit_id, party_id, amount_fen, channel, ref, paid_on, cashier, note, "
        "payer, source, invoice, recorded_on, created_at"
    )
    conn.execute("BEGIN IMMEDIATE")
    if notes:  # the notes indexed in one statement (row by row, FTS5 flushes at every row)
        conn.execute(f"CREATE TEMP TABLE staged ({columns})")
        conn.executemany(f"INSERT INTO staged VALUES ({', '.join('?' * 15)})", payments)
        conn.execute(f"INSERT INTO payment ({columns}) SELECT {columns} FROM staged ORDER BY rowid")
    else:
        conn.executemany(
            f"INSERT INTO payment ({columns}) VALUES ({', '.join('?' * 15)})", payments
        )
    conn.executemany(
        "INSERT INTO allocation (payment_id, bill_id, amount_fen, allocated_on, "
        "created_at) VALUES (?, ?, ?, ?, ?)",
        allocations,
    )
    conn.execute("COMMIT")


def job_history(db_path: str) -> None:
    """24 months of one fee item for every unit, paid the way an estate pays: most on time,
    some a month or two behind, some stopped months ago, a few never — raw inserts, with the
    settled-on day the ledger keeps."""
    import sqlite3
    from datetime import date as day

    conn = sqlite3.connect(db_path, isolation_level=None)
    units = conn.execute(
        "SELECT u.id, u.area_x100, o.party_id FROM unit u JOIN occupancy o "
        "ON o.unit_id = u.id AND o.end_on IS NULL"
    ).fetchall()
    item, price = conn.execute(
        "SELECT f.id, p.price_x10000 FROM fee_item f JOIN fee_price p ON p.fee_item_id = f.id "
        "WHERE f.code = 'PROP'"
    ).fetchone()
    months = [(2024 + (m + 11) // 12, (m + 11) % 12 + 1) for m in range(24)]  # 2024-12…2026-11
    rng = random.Random(24)
    stamp = "2026-11-20 00:00:00"
    bills, payments, allocations = [], [], []
    bill_id = conn.execute("SELECT coalesce(max(id), 0) FROM bill").fetchone()[0]
    payment_id = 0
    for uid, area, party in units:
        amount = (2 * price * (area or 10000) + 10000) // 20000
        habit = rng.random()
        paid_months = (
            24
            if habit < 0.80
            else 24 - rng.randint(1, 2)
            if habit < 0.90
            else 24 - rng.randint(3, 12)
            if habit < 0.97
            else 0
        )
        mine = []
        for index, (year, month) in enumerate(months):
            bill_id += 1
            due = day(year, month, 15).isoformat()
            settled = None
            if index < paid_months:
                settled = day(year, month, rng.randint(1, 20)).isoformat()
                mine.append((bill_id, amount, settled))
            last = (day(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).isoformat()
            bills.append(
                (
                    bill_id,
                    uid,
                    item,
                    party,
                    f"{year}-{month:02d}",
                    f"{year}-{month:02d}-01",
                    last,
                    due,
                    amount,
                    settled,
                    stamp,
                )
            )
        if mine:
            payment_id += 1
            payments.append(
                (
                    payment_id,
                    f"B{payment_id:09d}",
                    uid,
                    party,
                    sum(m[1] for m in mine),
                    "bank",
                    f"H{payment_id:012d}",
                    mine[-1][2],
                    stamp,
                )
            )
            allocations.extend((payment_id, b, fen, on, stamp) for b, fen, on in mine)
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        "INSERT INTO bill (id, unit_id, fee_item_id, party_id, period, covers_from, covers_to, "
        "due_on, amount_fen, settled_on, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        bills,
    )
    conn.executemany(
        "INSERT INTO payment (id, receipt_no, unit_id, party_id, amount_fen, channel, ref, "
        "paid_on, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        payments,
    )
    conn.executemany(
        "INSERT INTO allocation (payment_id, bill_id, amount_fen, allocated_on, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        allocations,
    )
    conn.execute("COMMIT")
    conn.execute("ANALYZE")


def job_rawopen(db_path: str, as_of: str) -> None:
    """The floor for overdue: one SQL pass over the bills open as of the day, summed per unit."""
    import sqlite3

    conn = sqlite3.connect(db_path)
    totals: dict[int, int] = {}
    for part in ("b.settled_on IS NULL", "b.settled_on > ?1"):
        for unit_id, owed in conn.execute(
            "SELECT b.unit_id, b.amount_fen - coalesce((SELECT sum(a.amount_fen) FROM allocation a "
            f"WHERE a.bill_id = b.id AND a.allocated_on <= ?1), 0) FROM bill b WHERE {part} "
            "AND b.due_on < ?1",
            (as_of,),
        ):
            totals[unit_id] = totals.get(unit_id, 0) + owed
    print(len(totals), sum(totals.values()))


JOBS = {
    "roster": job_roster,
    "statement": job_statement,
    "history": job_history,
    "rawopen": job_rawopen,
    "calamine": job_calamine,
    "openpyxl": job_openpyxl,
    "floor": job_floor,
    "rawbills": job_rawbills,
    "rawpayments": job_rawpayments,
}


def backup_during_bill(propfee: list[str], db_path: str, work: Path, units: int) -> str:
    """Start a bill run, take a backup once it is writing, restore the backup elsewhere and
    check it: it must pass propfee check and hold none or all of the run's bills."""
    import sqlite3

    bill = subprocess.Popen(
        [
            *propfee,
            "bill",
            "--period",
            "2026-12",
            "--as-of",
            "2026-11-15",
            "--db",
            db_path,
            "--quiet",
        ],
    )
    wal = Path(f"{db_path}-wal")
    while bill.poll() is None and not (wal.exists() and wal.stat().st_size > 8 << 20):
        time.sleep(0.01)
    writing = bill.poll() is None
    copy = work / "during.db"
    subprocess.run([*propfee, "backup", str(copy), "--db", db_path, "--quiet"], check=True)
    if bill.wait() != 0:
        raise SystemExit("the bill run failed")
    restored = work / "restored.db"
    subprocess.run([*propfee, "restore", str(copy), "--db", str(restored), "--quiet"], check=True)
    checked = subprocess.run([*propfee, "check", "--db", str(restored)], capture_output=True)
    with sqlite3.connect(restored) as conn:
        held = conn.execute("SELECT count(*) FROM bill WHERE period = '2026-12'").fetchone()[0]
    with sqlite3.connect(db_path) as conn:
        whole = conn.execute("SELECT count(*) FROM bill WHERE period = '2026-12'").fetchone()[0]
    verdict = "ok" if checked.returncode == 0 and held in (0, whole) else "FAILED"
    return (
        f"{verdict} — taken {'while the run was writing' if writing else 'after the run'}, "
        f"restored copy holds {held:,} of the run's {whole:,} bills, "
        f"propfee check {'passes' if checked.returncode == 0 else 'FAILS'}"
    )


FEES = (
    ["PROP", "--name", "物业服务费", "--basis", "area", "--price", "2.50"],
    ["CLEAN", "--name", "垃圾清运费", "--basis", "fixed", "--price", "10"],
    ["LIFT", "--name", "电梯运行费", "--basis", "area", "--price", "0.35"],
)


def add_fees(propfee: list[str], db_path: str, work: Path) -> None:
    """The three fee items every bench estate is billed for, published in 2020 (recorded
    later: a publication is otherwise dated the day the command runs)."""
    for item in FEES:
        command = ["fees", "add", *item, "--kinds", "residential,commercial"]
        command += ["--from", "2020-01-01"]
        subprocess.run([*propfee, *command, "--db", db_path, "--quiet"], check=True)
    subprocess.run(
        [
            *propfee,
            "fees",
            "publish",
            "--out",
            str(work),
            "--recorded-later",
            "--published-on",
            "2020-01-01",
            "--evidence",
            "bench",
            "--db",
            db_path,
            "--quiet",
        ],
        check=True,
    )


def history_for(me: list[str], template: str, work: Path, units: int) -> Path:
    """24 months of history over the priced estate of ``units`` units (cached)."""
    from propfee.store.migrations import SCHEMA_VERSION

    history_db = CACHE / f"history-{units}-schema{SCHEMA_VERSION}.db"
    if not history_db.exists():
        t0 = time.perf_counter()
        staging = work / f"history-{units}.db"
        shutil.copyfile(template, staging)
        subprocess.run([*me, "--child", "history", str(staging)], check=True)
        shutil.move(staging, history_db)
        print(f"history: {history_db} in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    return history_db


# ---------------------------------------------------------------- the harness


def copied(source: str | Path, target: str | Path) -> str:
    """A working copy of a database, on disk before a command is timed: the kernel would
    otherwise write the copy back (900 MB at 100k units of history) while the command runs,
    and its first fsync of the file would wait for all of it."""
    shutil.copyfile(source, target)
    fd = os.open(target, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return str(target)


def measure_cpu(argv: list[str]) -> tuple[float, float, float]:
    """Run a command; return (seconds, CPU seconds — user + system —, peak RSS in MB) of that
    process alone. On a machine shared with other work the CPU seconds move least."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n{err}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def best_cpu_of(repeat: int, make_argv) -> tuple[float, float, float]:
    """(least seconds, least CPU seconds, most peak MB) of ``repeat`` runs."""
    results = [measure_cpu(make_argv()) for _ in range(repeat)]
    return (
        min(r[0] for r in results),
        min(r[1] for r in results),
        max(r[2] for r in results),
    )


# ---------------------------------------------------------------- scaling

SCALE_SIZES = "10000,30000,100000,300000"
SCALE_FLAG = 1.5  # a per-unit cost growing more than this from the smallest size is flagged
SCALE_BASE = 100  # units: an estate this small costs a command its start-up and little more
# at this size and below a command's work is a fraction of a second, as near its start-up's
# ups and downs as its own: best of at least SCALE_SMALL_REPEAT, whatever --repeat says (one
# slow start-up taken off a small size's figure would flag a line growing by nothing)
SCALE_SMALL, SCALE_SMALL_REPEAT = 30_000, 3


def scale(sizes: list[int], repeat: int, only: list[str]) -> None:
    """Every command (or those whose name starts with a word of ``only``) at each size, in
    seconds per 1,000 units after its start-up: linear work keeps its line flat; a line whose
    per-unit CPU seconds or peak memory grows more than SCALE_FLAG× from the smallest size to
    the largest is flagged (wall-clock seconds are shown, not flagged: on a shared machine
    they follow the other work more than the command's). Start-up (the interpreter, imports, templates: some 0.3–0.5 s whatever the size)
    is what the same command costs over SCALE_BASE units; it is taken off every figure and
    shown apart, so it does not make the small sizes look dearer per unit than they are."""
    me = [sys.executable, str(Path(__file__).resolve())]
    propfee = [sys.executable, "-m", "propfee"]
    root = Path(tempfile.mkdtemp(prefix="propfee-scale-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)  # gigabytes of databases
    table: dict[str, dict[int, tuple[float, float, float]]] = {}

    def wanted(name: str) -> bool:
        return not only or name.startswith(tuple(only))

    for units in [SCALE_BASE, *sizes]:
        t0 = time.perf_counter()
        for name, figures in scale_one(me, propfee, root / str(units), units, repeat, wanted):
            if figures is None:  # not wanted
                continue
            table.setdefault(name, {})[units] = figures
            seconds, cpu, rss = figures
            print(
                f"  {units:>9,} {name:<34}{seconds:>8.2f} s{cpu:>8.2f} s CPU{rss:>7.0f} MB",
                file=sys.stderr,
            )
        shutil.rmtree(root / str(units), ignore_errors=True)  # large databases
        print(f"{units:,} units done in {time.perf_counter() - t0:.0f}s", file=sys.stderr)
    print_scale(
        table, sizes, repeat, 0, "wall-clock seconds (moved by the machine's other work: not "
        "flagged)", flag=False,
    )  # fmt: skip
    print_scale(table, sizes, repeat, 1, "CPU seconds (user + system)")
    print_scale(table, sizes, repeat, 2, "peak memory (MB)")


def print_scale(
    table: dict, sizes: list[int], repeat: int, column: int, what: str, *, flag: bool = True
) -> None:
    """One table: ``what`` per 1,000 units at each size once start-up is taken off, the
    growth from the smallest size to the largest and the start-up itself; with ``flag``, a
    line growing more than SCALE_FLAG× is flagged."""
    small = max(repeat, SCALE_SMALL_REPEAT)
    print(
        f"\n{what} per 1,000 units after start-up, best of {repeat}"
        + (f" ({small} at {SCALE_SMALL:,} units and below)" if small > repeat else "")
    )
    head = "".join(f"{units:>10,}" for units in sizes)
    print(f"{'command':<34}{head}{'growth':>9}{'start-up':>10}")
    flagged = 0
    for name, by_size in table.items():
        base = by_size[SCALE_BASE][column]
        per = {
            units: (by_size[units][column] - base) * 1000 / (units - SCALE_BASE)
            for units in sizes
            if units in by_size
        }
        cells = "".join(f"{per[u]:>10.3f}" if u in per else f"{'-':>10}" for u in sizes)
        first, last = (per[min(per)], per[max(per)]) if per else (0.0, 0.0)
        growth = last / first if len(per) > 1 and first > 0 else float("nan")
        grows = flag and growth > SCALE_FLAG
        flagged += grows
        mark = f"  <- per-unit cost grows {growth:.1f}x" if grows else ""
        shown = f"{growth:>8.2f}x" if growth == growth else f"{'-':>9}"  # nan: not measured
        print(f"{name:<34}{cells}{shown}{base:>10.2f}{mark}")
    if flag and len(sizes) > 1:
        print(
            f"{flagged} line(s) flagged (per-unit cost up more than {SCALE_FLAG}x from "
            f"{sizes[0]:,} to {sizes[-1]:,} units); start-up is each command over "
            f"{SCALE_BASE} units, taken off every figure: a flag is work growing faster than "
            "the estate, never start-up"
        )


def scale_one(me: list[str], propfee: list[str], work: Path, units: int, repeat: int, wanted):
    """(command, (seconds, CPU seconds, peak MB)) of each ``wanted`` command over an estate
    of ``units`` units; what a wanted command needs (the import, the bill run) is still run,
    once, and not shown."""
    work.mkdir(parents=True)
    roster = make_roster(units)
    counter = iter(range(10**6))

    def fresh() -> str:
        return str(work / f"s{next(counter)}.db")

    def copy_of(source: str) -> str:
        return copied(source, fresh())

    def run(name: str, make_argv, needed: bool = False):
        """The command's figures when it is wanted; run once unmeasured when ``needed``."""
        if wanted(name):
            small = units <= SCALE_SMALL
            return best_cpu_of(max(repeat, SCALE_SMALL_REPEAT) if small else repeat, make_argv)
        if needed:
            measure_cpu(make_argv())
        return None

    made: list[str] = []

    def imported() -> list[str]:
        made.append(fresh())
        return [*propfee, "import-units", str(roster), "--db", made[-1], "--quiet"]

    yield "import-units", run("import-units", imported, needed=True)
    template = made[-1]
    add_fees(propfee, template, work)
    billed: list[str] = []

    def bill() -> list[str]:
        billed.append(copy_of(template))
        month = ["--period", "2026-11", "--as-of", "2026-11-15"]
        return [*propfee, "bill", *month, "--db", billed[-1], "--quiet"]

    needs_bills = wanted("notices") or wanted("reconcile")
    yield "bill (one month, 3 items)", run("bill (one month, 3 items)", bill, needs_bills)

    def notices() -> list[str]:
        out = str(work / f"n{next(counter)}")
        month = ["--period", "2026-11", "--as-of", "2026-11-20"]
        return [*propfee, "notices", *month, "--out", out, "--db", copy_of(billed[-1]), "-q"]

    yield "notices (one month)", run("notices (one month)", notices)

    def reconcile() -> list[str]:
        statement = str(make_statement(billed[-1], units))
        day = ["--as-of", "2026-12-01"]
        return [*propfee, "reconcile", statement, *day, "--db", copy_of(billed[-1]), "--quiet"]

    yield "reconcile (WeChat, a line a unit)", run("reconcile (WeChat, a line a unit)", reconcile)
    for path in billed:
        Path(path).unlink(missing_ok=True)
    if any(wanted(name) for name in ("overdue", "remind", "report", "today")):
        history = copy_of(str(history_for(me, template, work, units)))
        yield from scale_arrears(propfee, work, history, counter, copy_of, run)


def scale_arrears(propfee: list[str], work: Path, history: str, counter, copy_of, run):
    """overdue, remind, the collection report and today over 24 months of history (a working
    copy: the cached database is never opened by a command)."""
    day = ["--as-of", "2026-11-20"]
    yield (
        "overdue --format json",
        run(
            "overdue --format json",
            lambda: [*propfee, "overdue", *day, "--format", "json", "--db", history],
        ),
    )

    def remind() -> list[str]:
        out = str(work / f"r{next(counter)}")
        return [*propfee, "remind", *day, "--at", "10:00", "--out", out, "--db", copy_of(history),
                "-q"]  # fmt: skip

    yield "remind (every overdue party)", run("remind (every overdue party)", remind)
    report = ["report", "collection", "--period", "2026-11", *day, "--by", "building"]
    yield (
        "report collection --by building",
        run(
            "report collection --by building",
            lambda: [*propfee, *report, "--format", "json", "--db", history],
        ),
    )
    yield (
        "today --format json",
        run(
            "today --format json",
            lambda: [*propfee, "today", *day, "--format", "json", "--db", history],
        ),
    )


# ---------------------------------------------------------------- both engines


def engines(units: int, repeat: int) -> None:
    """The main commands on an SQLite file and on a PostgreSQL server, the same estate on the
    same machine: the server is $PROPFEE_BENCH_PG (postgresql://…), else one started from
    the pgserver wheel. Each write runs once, on its engine's estate, in the month's order;
    overdue is the best of ``repeat``."""
    roster = make_roster(units)
    work = Path(tempfile.mkdtemp(prefix="propfee-bench-"))
    atexit.register(shutil.rmtree, work, ignore_errors=True)  # gigabytes of databases
    url, server = os.environ.get("PROPFEE_BENCH_PG", ""), None
    if not url:
        import pgserver

        data = Path(tempfile.mkdtemp(prefix="propfee-bench-pg-"))
        atexit.register(shutil.rmtree, data, ignore_errors=True)
        server = pgserver.get_server(data, cleanup_mode="stop")
        url = server.get_uri()
    estate = f"bench_{units}_{os.getpid()}"
    targets = {
        "SQLite": str(work / "bench.db"),
        "PostgreSQL": f"{url}{'&' if '?' in url else '?'}estate={estate}",
    }
    propfee = [sys.executable, "-m", "propfee"]
    figures: dict[str, dict[str, tuple[float, float, float]]] = {}
    try:
        for engine, db in targets.items():
            print(f"{engine}: {units:,} units", file=sys.stderr)
            run = {}
            run["import-units"] = measure_cpu(
                [*propfee, "import-units", str(roster), "--db", db, "--quiet"]
            )
            add_fees(propfee, db, work / engine)
            month = ["--period", "2026-11", "--as-of", "2026-11-15"]
            run["bill (one month, 3 items)"] = measure_cpu(
                [*propfee, "bill", *month, "--db", db, "--quiet"]
            )
            run["overdue --format json"] = best_cpu_of(
                repeat,
                lambda db=db: [*propfee, "overdue", "--as-of", "2026-11-20", "--format", "json",
                               "--db", db],
            )  # fmt: skip
            run["remind (every overdue party)"] = measure_cpu(
                [*propfee, "remind", "--as-of", "2026-11-20", "--at", "10:00", "--out",
                 str(work / f"remind-{engine}"), "--db", db, "--quiet"]
            )  # fmt: skip
            statement = make_statement(targets["SQLite"], units)
            run["reconcile (WeChat export)"] = measure_cpu(
                [*propfee, "reconcile", str(statement), "--as-of", "2026-12-01", "--db", db,
                 "--quiet"]
            )  # fmt: skip
            figures[engine] = run
            for name, (wall, cpu, _rss) in run.items():
                print(f"  {engine} {name}: {wall:.1f} s ({cpu:.1f} s CPU)", file=sys.stderr)
    finally:
        if server is not None:
            server.cleanup()
    # wall seconds: a server's own work is not in the command's CPU seconds (shown beside)
    print(
        f"\n{'the same estate, two engines':<34}{'SQLite s':>10}{'PostgreSQL s':>14}{'×':>7}"
        f"{'CPU s: SQLite':>15}{'propfee on PG':>15}"
    )
    for name, (lite, lite_cpu, _rss) in figures["SQLite"].items():
        on_server, server_cpu, _ = figures.get("PostgreSQL", {}).get(name, (float("nan"),) * 3)
        print(
            f"{name:<34}{lite:>10.2f}{on_server:>14.2f}{on_server / lite:>7.2f}"
            f"{lite_cpu:>15.2f}{server_cpu:>15.2f}"
        )


def compiled() -> None:
    """Compile propfee's modules before measuring, as installing it does: a source tree run
    where PYTHONDONTWRITEBYTECODE is set would otherwise compile every module on every run,
    which no installed propfee does (the libraries it is measured against are compiled)."""
    spec = importlib.util.find_spec("propfee")
    if spec is not None and spec.origin:
        compileall.compile_dir(str(Path(spec.origin).parent), quiet=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=1, help="best of N runs")
    parser.add_argument(
        "--scale",
        nargs="?",
        const=SCALE_SIZES,
        metavar="SIZES",
        help=f"seconds per 1,000 units of each command at each size (default {SCALE_SIZES})",
    )
    parser.add_argument(
        "--only",
        metavar="WORDS",
        help="with --scale: only the commands whose name starts with one of these words "
        "(notices,bill), what they need still run once; without it, only one block: import = "
        "the calamine read, the floor and import-units (and its re-run)",
    )
    parser.add_argument(
        "--engine", choices=("pg",), help="the main commands on SQLite and on PostgreSQL"
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        JOBS[args.child[0]](*args.child[1:])
        return
    compiled()
    if args.engine == "pg":
        engines(args.units, args.repeat)
        return
    if args.scale:
        sizes = sorted({int(size.replace("_", "")) for size in args.scale.split(",")})
        scale(sizes, args.repeat, [w for w in (args.only or "").split(",") if w])
        return
    if args.only not in (None, "import"):
        parser.error("--only without --scale: import is the one block it picks")

    print(f"propfee bench: {args.units:,} units, best of {args.repeat}", file=sys.stderr)
    t0 = time.perf_counter()
    roster = make_roster(args.units)
    print(
        f"roster: {roster} ({roster.stat().st_size / 1e6:.1f} MB, "
        f"ready in {time.perf_counter() - t0:.1f}s)",
        file=sys.stderr,
    )
    me = [sys.executable, str(Path(__file__).resolve())]
    work = Path(tempfile.mkdtemp(prefix="propfee-bench-"))
    atexit.register(shutil.rmtree, work, ignore_errors=True)  # gigabytes of databases
    counter = iter(range(10**6))

    def fresh_db() -> str:
        return str(work / f"b{next(counter)}.db")

    rows: dict[str, tuple[float, float, float]] = {}
    rows["calamine read (bare)"] = best_cpu_of(
        args.repeat, lambda: [*me, "--child", "calamine", str(roster)]
    )
    if not args.only:
        rows["openpyxl read-only read"] = best_cpu_of(
            args.repeat, lambda: [*me, "--child", "openpyxl", str(roster)]
        )
    rows["floor: read + raw executemany"] = best_cpu_of(
        args.repeat, lambda: [*me, "--child", "floor", str(roster), fresh_db()]
    )
    rows["propfee import-units"] = best_cpu_of(
        args.repeat,
        lambda: [
            sys.executable,
            "-m",
            "propfee",
            "import-units",
            str(roster),
            "--db",
            fresh_db(),
            "--quiet",
        ],
    )
    reimport_db = fresh_db()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "propfee",
            "import-units",
            str(roster),
            "--db",
            reimport_db,
            "--quiet",
        ],
        check=True,
    )
    rows["propfee import-units (re-run, no change)"] = best_cpu_of(
        args.repeat,
        lambda: [
            sys.executable,
            "-m",
            "propfee",
            "import-units",
            str(roster),
            "--db",
            reimport_db,
            "--quiet",
        ],
    )
    if args.only == "import":
        print_import(rows)
        return

    # the bill run: 3 fee items over every unit, against raw inserts of the same rows

    template = Path(reimport_db)
    propfee = [sys.executable, "-m", "propfee"]
    add_fees(propfee, str(template), work)

    def copy() -> str:
        return copied(template, fresh_db())

    def copy_of(source: str) -> str:
        return copied(source, fresh_db())

    bill_rows: dict[str, tuple[float, float, float]] = {}
    bill_rows["raw executemany of the bill rows"] = best_cpu_of(
        args.repeat, lambda: [*me, "--child", "rawbills", copy()]
    )
    bill_rows["raw executemany, foreign keys checked"] = best_cpu_of(
        args.repeat, lambda: [*me, "--child", "rawbills", copy(), "keys"]
    )
    billed = []

    def bill_once() -> list[str]:
        billed.append(copy())
        return [
            *propfee,
            "bill",
            "--period",
            "2026-11",
            "--as-of",
            "2026-11-15",
            "--db",
            billed[-1],
            "--quiet",
        ]

    bill_rows["propfee bill (one month, 3 items)"] = best_cpu_of(args.repeat, bill_once)
    bill_rows["propfee bill (re-run, nothing to do)"] = best_cpu_of(
        args.repeat,
        lambda: [
            *propfee,
            "bill",
            "--period",
            "2026-11",
            "--as-of",
            "2026-11-15",
            "--db",
            billed[-1],
            "--quiet",
        ],
    )

    bill_rows["propfee notices (one month, every party)"] = best_cpu_of(
        args.repeat,
        lambda: [
            *propfee,
            "notices",
            "--period",
            "2026-11",
            "--as-of",
            "2026-11-20",
            "--out",
            str(work / f"notices-{next(counter)}"),
            "--db",
            copy_of(billed[-1]),
            "--quiet",
        ],
    )

    # reconcile: a WeChat export with one incoming line per unit, into the billed estate
    statement = make_statement(billed[-1], args.units)
    pay_rows: dict[str, tuple[float, float, float]] = {}
    pay_rows["raw executemany of payments + allocations"] = best_cpu_of(
        args.repeat, lambda: [*me, "--child", "rawpayments", copy_of(billed[-1])]
    )
    pay_rows["raw executemany, memo as note (indexed)"] = best_cpu_of(
        args.repeat, lambda: [*me, "--child", "rawpayments", copy_of(billed[-1]), "notes"]
    )
    pay_rows["propfee reconcile (WeChat export)"] = best_cpu_of(
        args.repeat,
        lambda: [
            *propfee,
            "reconcile",
            str(statement),
            "--as-of",
            "2026-12-01",
            "--db",
            copy_of(billed[-1]),
            "--quiet",
        ],
    )

    # keeping the file safe: a backup against a plain file copy, a backup taken while a bill
    # run writes (restored, it must hold none or all of that run), the full export
    safe_rows: dict[str, tuple[float, float, float]] = {}
    safe_rows["plain file copy (cp)"] = best_cpu_of(
        args.repeat, lambda: ["cp", billed[-1], str(work / f"cp-{next(counter)}.db")]
    )
    safe_rows["propfee backup (checked)"] = best_cpu_of(
        args.repeat,
        lambda: [
            *propfee,
            "backup",
            str(work / f"bk-{next(counter)}.db"),
            "--db",
            billed[-1],
            "--quiet",
        ],
    )
    safe_rows["propfee export-all"] = best_cpu_of(
        args.repeat,
        lambda: [
            *propfee,
            "export-all",
            str(work / f"all-{next(counter)}"),
            "--db",
            billed[-1],
            "--quiet",
        ],
    )
    during = backup_during_bill(propfee, copy(), work, args.units)

    # arrears: 24 months of history over every unit, about a fifth of them behind (a working
    # copy: a command never opens the cached file)
    history_db = copy_of(str(history_for(me, str(template), work, args.units)))
    dun_rows: dict[str, tuple[float, float, float]] = {}
    dun_rows["raw SQL over the bills open as of D"] = best_cpu_of(
        args.repeat, lambda: [*me, "--child", "rawopen", str(history_db), "2026-11-20"]
    )
    dun_rows["propfee overdue --format json"] = best_cpu_of(
        args.repeat,
        lambda: [
            *propfee,
            "overdue",
            "--as-of",
            "2026-11-20",
            "--format",
            "json",
            "--db",
            str(history_db),
        ],
    )
    dun_rows["propfee remind (every overdue party)"] = best_cpu_of(
        args.repeat,
        lambda: [
            *propfee,
            "remind",
            "--as-of",
            "2026-11-20",
            "--at",
            "10:00",
            "--out",
            str(work / f"remind-{next(counter)}"),
            "--db",
            copy_of(str(history_db)),
            "--quiet",
        ],
    )

    dun_rows["propfee report collection --by building"] = best_cpu_of(
        args.repeat,
        lambda: [
            *propfee,
            "report",
            "collection",
            "--period",
            "2026-11",
            "--as-of",
            "2026-11-20",
            "--by",
            "building",
            "--format",
            "json",
            "--db",
            str(history_db),
        ],
    )

    dun_rows["propfee today --format json"] = best_cpu_of(
        args.repeat,
        lambda: [
            *propfee,
            "today",
            "--as-of",
            "2026-11-20",
            "--format",
            "json",
            "--db",
            str(history_db),
        ],
    )
    # start-up: what a command costs before it reads anything (its module and no other)
    dun_rows["propfee today --help (start-up)"] = best_cpu_of(
        args.repeat, lambda: [*propfee, "today", "--help"]
    )

    print_import(rows)

    table("bill run", bill_rows, "raw executemany of the bill rows", "raw")
    raw, raw_cpu, _ = bill_rows["raw executemany of the bill rows"]
    first, first_cpu, _ = bill_rows["propfee bill (one month, 3 items)"]
    again, again_cpu, _ = bill_rows["propfee bill (re-run, nothing to do)"]
    print("\ntargets")
    print(
        f"  bill rate ≥ 70% of raw executemany:  {raw / first:.0%}, {raw_cpu / first_cpu:.0%} CPU"
    )
    keyed, keyed_cpu, _ = bill_rows["raw executemany, foreign keys checked"]
    print(
        f"  (of raw with foreign keys checked:  {keyed / first:.0%}, "
        f"{keyed_cpu / first_cpu:.0%} CPU)"
    )
    print(
        f"  re-run ≤ 20% of the first run:       {again / first:.0%}, {again_cpu / first_cpu:.0%} CPU"
    )

    notices, notices_cpu, notices_rss = bill_rows["propfee notices (one month, every party)"]
    print(
        f"  notices, linear (see --scale):       {notices:.2f} s, {notices_cpu:.2f} s CPU, "
        f"{notices_rss:.0f} MB, {notices_cpu * 1000 / args.units:.3f} s CPU per 1,000 units"
    )

    table("reconcile", pay_rows, "raw executemany of payments + allocations", "raw")
    raw_pay, raw_pay_cpu, _ = pay_rows["raw executemany of payments + allocations"]
    rec, rec_cpu, rec_rss = pay_rows["propfee reconcile (WeChat export)"]
    print("\ntargets")
    print(
        f"  reconcile ≤ 3 × raw, ≤ 250 MB:       {rec / raw_pay:.2f}×, "
        f"{rec_cpu / raw_pay_cpu:.2f}× CPU, {rec_rss:.0f} MB"
    )
    noted, noted_cpu, _ = pay_rows["raw executemany, memo as note (indexed)"]
    print(
        f"  (against raw writing the memo too:  {rec / noted:.2f}×, {rec_cpu / noted_cpu:.2f}× CPU)"
    )

    table("keeping the file safe", safe_rows, "plain file copy (cp)", "cp")
    print(f"  backup while a bill run writes: {during}")

    import sqlite3

    with sqlite3.connect(history_db) as conn:
        bills = conn.execute("SELECT count(*) FROM bill").fetchone()[0]
        behind = conn.execute(
            "SELECT count(DISTINCT party_id) FROM bill WHERE settled_on IS NULL "
            "AND due_on < '2026-11-20'"
        ).fetchone()[0]
    table(
        f"arrears ({bills:,} bills, {behind:,} parties behind)",
        dun_rows,
        "raw SQL over the bills open as of D",
        "raw",
    )
    over, over_cpu, over_rss = dun_rows["propfee overdue --format json"]
    remind, remind_cpu, remind_rss = dun_rows["propfee remind (every overdue party)"]
    collect, collect_cpu, collect_rss = dun_rows["propfee report collection --by building"]
    day, day_cpu, day_rss = dun_rows["propfee today --format json"]
    print("\ntargets (at 100,000 units: 2.4M bills, 20,001 parties)")
    print(
        f"  today ≤ 1 s:                         {day:.2f} s, {day_cpu:.2f} s CPU, {day_rss:.0f} MB"
    )
    print(
        f"  overdue ≤ 1.5 s:                     {over:.2f} s, {over_cpu:.2f} s CPU, {over_rss:.0f} MB"
    )
    print(
        f"  remind ≤ 3 s, ≤ 250 MB:              {remind:.2f} s, {remind_cpu:.2f} s CPU, "
        f"{remind_rss:.0f} MB for {behind:,} parties"
    )
    print(
        f"  report collection ≤ 2 s:             {collect:.2f} s, {collect_cpu:.2f} s CPU, "
        f"{collect_rss:.0f} MB"
    )


def print_import(rows: dict) -> None:
    """The measurement block and the import targets (openpyxl's line only when it ran)."""
    table("measurement", rows, "calamine read (bare)", "calamine")
    imp, imp_cpu, imp_rss = rows["propfee import-units"]
    base = rows["calamine read (bare)"][0]
    floor, floor_cpu, _ = rows["floor: read + raw executemany"]
    print("\ntargets (× by wall clock, and by CPU seconds)")
    print(
        f"  import ≤ 1.3 × the floor:            {imp / floor:.2f}×, {imp_cpu / floor_cpu:.2f}× CPU"
    )
    if "openpyxl read-only read" in rows:
        opx = rows["openpyxl read-only read"][0]
        print(f"  import ≥ 6 × faster than openpyxl:  {opx / imp:.2f}×")
    print(f"  import peak RSS ≤ 250 MB:           {imp_rss:.0f} MB")
    print(f"  (floor, read + executemany:         {floor / base:.2f}× calamine)")
    again = rows.get("propfee import-units (re-run, no change)")
    if again is not None:
        print(
            f"  (re-run, no change:                 {again[0] / base:.2f}× calamine, "
            f"{again[0] / floor:.2f}× the floor)"
        )


def table(title: str, rows: dict, base_name: str, base_label: str) -> None:
    """One block of figures: seconds, CPU seconds (user + system: what a shared machine moves
    least), peak memory, and each against the block's baseline, by wall clock and by CPU."""
    base, base_cpu, _ = rows[base_name]
    print(
        f"\n{title:<42}{'seconds':>9}{'CPU s':>8}{'peak MB':>9}{'× ' + base_label:>12}{'× CPU':>8}"
    )
    for name, (seconds, cpu, rss) in rows.items():
        print(
            f"{name:<42}{seconds:>9.2f}{cpu:>8.2f}{rss:>9.0f}{seconds / base:>12.2f}"
            f"{cpu / max(base_cpu, 0.01):>8.2f}"
        )


if __name__ == "__main__":
    main()
