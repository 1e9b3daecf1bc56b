"""The demo estate: a database built from the shipped sample data, to try propfee on."""

from __future__ import annotations

import random
import sqlite3
from copy import copy
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from propfee.billing import fees, notices
from propfee.collection import arrears, dunning, plans
from propfee.config import load_settings
from propfee.core import periods
from propfee.core.errors import PropfeeError
from propfee.core.i18n import _
from propfee.demo import store
from propfee.files.shipped import shipped_dir
from propfee.files.writers import copy_private, save_workbook, write_text
from propfee.insight import surveys
from propfee.payments import ledger, many, reconciliation
from propfee.roster import merge
from propfee.service import complaints
from propfee.store import db, pg

DEMO_SETTINGS = """\
# Settings for the demo estate. Every key is optional; see the README.
[estate]
company = "兰州翠湖物业服务有限公司"
name = "翠湖花园"
phone = "0931-8123456"
address = "兰州市城关区翠湖路88号"
developer = "兰州翠湖置业有限公司"

[billing]
owner_pays_from = "delivery"   # or "next_month"
vacancy_discount = "0"         # e.g. "0.3": vacant homes pay 70% of the area fee
fee_model = "包干制"            # or "酬金制"

[payment]
methods = ["微信支付（翠湖花园物业公众号）", "支付宝", "银行转账", "物业服务中心前台（现金、刷卡）"]
bank_account = "兰州银行城关支行 6224 0000 1234 5678（兰州翠湖物业服务有限公司）"
instructions = "转账或扫码付款时请在备注中写明房号，例如 1-1-1001 物业费。"
"""

#: the demo estate's fee standards: (code, name, basis, price, kinds, unit label, services);
#: due days in DEMO_DUE_DAYS (the 15th unless named)
DEMO_FEES = (
    (
        "PROP",
        "物业服务费",
        "area",
        "2.50",
        ["residential"],
        "元/㎡·月",
        "公共区域保洁、绿化养护、秩序维护、共用设施设备日常运行维护",
    ),
    (
        "SHOP",
        "商业物业服务费",
        "area",
        "4.20",
        ["commercial"],
        "元/㎡·月",
        "公共区域保洁、秩序维护、消防设施维护、公共照明",
    ),
    (
        "OFFICE",
        "写字楼物业服务费",
        "area",
        "3.80",
        ["office"],
        "元/㎡·月",
        "大堂及公共区域保洁、电梯运行维护、安保、前台服务",
    ),
    ("PARK", "停车服务费", "fixed", "80", ["parking"], "元/个·月", "车位秩序维护、地库保洁及照明"),
    ("STORE", "储藏室管理费", "area", "1.00", ["storage"], "元/㎡·月", "地下室保洁、照明及巡查"),
)


DEMO_DUE_DAYS = {"SHOP": 10, "OFFICE": 25, "PARK": 1, "STORE": 5}


@dataclass
class DemoReport:
    folder: Path
    db_path: Path | str  # a file, or a PostgreSQL server's address
    roster: merge.ImportReport
    files: list[Path] = field(default_factory=list)
    replaced: bool = False
    fees: int = 0
    bills: object = None  # BillRunReport
    notices: object = None  # NoticeReport
    reconciled: object = None  # ReconcileReport
    statement: Path | None = None
    reminders: object = None  # RemindReport
    reminder_dir: Path | None = None
    legal_unit: str = ""  # one unit worth a legal pack
    cases: list[str] = field(default_factory=list)  # complaint numbers
    survey: object = None  # SurveyReport of the year's satisfaction survey


def sample_file(name: str) -> Path:
    """A file shipped in sample_data/ (works from a wheel install too)."""
    path = shipped_dir("sample_data") / name
    if not path.is_file():
        raise PropfeeError(
            _("sample data {name} is missing from this installation").format(name=name)
        )
    return path


def build_demo(
    folder: Path,
    *,
    as_of: date,
    now: datetime,
    server: str | None = None,
    estate: str | None = None,
) -> DemoReport:
    """Create ``folder`` with a demo database, its settings and the sample files; with
    ``server`` (a PostgreSQL address) the database is the schema ``estate`` there.

    An existing demo database in the folder (or demo estate on the server) is rebuilt; any
    other database there is left alone and the demo refuses to run.
    """
    folder.mkdir(parents=True, exist_ok=True)
    db_path: Path | str = folder / "propfee.db"
    if server is not None:
        replaced = _clear_demo_estate(server, estate)
        db_path = server
    else:
        replaced = _clear_demo_file(folder / "propfee.db")
    settings = folder / "propfee.toml"
    settings.write_text(DEMO_SETTINGS, encoding="utf-8")
    roster_file = folder / "roster.xlsx"
    copy_private(sample_file("roster.xlsx"), roster_file, option="--dir")

    settings_loaded = load_settings(settings)
    conn = db.connect_server(server, estate=estate) if server else db.connect(db_path)
    if server:
        db_path = pg.shareable(conn.url, conn.estate)
    try:
        with db.transaction(conn):
            db.set_meta(conn, "demo", "1")
        report = merge.import_roster(conn, roster_file, as_of=as_of, now=now)
        result = DemoReport(folder, db_path, report, [settings, roster_file], replaced)
        _bill_a_year(conn, result, settings_loaded, as_of=as_of, now=now)
        _survey(conn, result, settings_loaded, as_of=as_of, now=now)
    finally:
        conn.close()
    return result


def _clear_demo_file(db_path: Path) -> bool:
    """Remove an earlier demo database (True); refuse any other database."""
    if not db_path.exists():
        return False
    conn = db.connect(db_path, migrate=False)
    try:
        is_demo = _is_demo(conn)
    finally:
        conn.close()
    if not is_demo:
        raise PropfeeError(
            _("{db_path} exists and is not a demo database; choose another --dir").format(
                db_path=db_path
            )
        )
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    return True


def _clear_demo_estate(server: str, estate: str | None) -> bool:
    """Empty an earlier demo estate's schema (True); refuse an estate that is not the demo."""
    conn = db.connect_server(server, estate=estate, migrate=False)
    try:
        if not db.has_tables(conn):
            return False
        if not _is_demo(conn):
            raise PropfeeError(
                _("{server} holds an estate that is not the demo; choose another --estate").format(
                    server=conn.name
                )
            )
        db.drop_estate(conn)
        return True
    finally:
        conn.close()


def _bill_a_year(conn, result: DemoReport, settings, *, as_of: date, now: datetime) -> None:
    """Publish the demo's fee standards and bill the twelve months up to ``as_of``."""
    this_month = periods.month_start(as_of)
    first = periods.add_months(this_month, -11)
    with db.transaction(conn):
        for code, name, basis, price, kinds, label, services in DEMO_FEES:
            fees.add_item(
                conn,
                code=code,
                name=name,
                basis=basis,
                price=price,
                kinds=kinds,
                cycle="monthly",
                effective_from=date(2020, 1, 1),
                now=now,
                unit_label=label,
                services=services,
                due_day=DEMO_DUE_DAYS.get(code, 15),
            )
        fees.publish(
            conn,
            as_of=periods.add_months(first, -1),
            now=now,
            settings=settings,
            out_dir=result.folder / "公示",
        )
        result.fees = len(DEMO_FEES)
        result.bills = ledger.run_bills_and_apply_credit(
            conn,
            months=periods.months_in_range(first, this_month),
            as_of=as_of,
            now=now,
            settings=settings,
        )
    result.notices = notices.write_notices(
        conn, month=this_month, settings=settings, as_of=as_of, out_dir=result.folder / "通知单"
    )
    _collect(conn, result, settings, as_of=as_of, now=now)
    _remind(conn, result, settings, as_of=as_of, now=now)


def _collect(conn, result: DemoReport, settings, *, as_of: date, now: datetime) -> None:
    """Most owners pay: a WeChat Pay export of their transfers is reconciled (a few memos name
    no unit and wait for review), and a few pay cash at the counter."""
    rng = random.Random(as_of.toordinal())
    habits = _pay_the_year(conn, settings, as_of=as_of, now=now, rng=rng)
    owed = [row for row in store.owed_by_owners(conn) if habits.get(row[0]) in ("good", "late")]
    first = periods.month_start(as_of)
    lines = []
    for number, (code, name, fen) in enumerate(owed):
        chance = rng.random()
        if chance < 0.55:  # pays everything by WeChat, most naming the unit
            memo = f"转账备注:{code}物业费" if rng.random() < 0.9 else "物业费"
            amount = fen
        elif chance < 0.75:  # pays the last few months only
            amount = min(fen, rng.choice((30000, 60000, 90000)))
            memo = f"{code} 物业费"
        else:
            continue
        day = first + timedelta(days=rng.randrange(0, as_of.day))
        lines.append(
            f"{day.isoformat()} {8 + number % 12:02d}:{number % 60:02d}:00,转账,{name},"
            f"{memo},收入,¥{amount // 100}.{amount % 100:02d},/,已存入零钱,"
            f"1000050001{as_of:%Y%m}{number:012d}\t,/\t,/"
        )
    lines.append(
        f"{first.isoformat()} 12:00:00,商户消费,兰州晨光文具店,办公用品,支出,¥86.50,零钱,"
        f"支付成功,4200001234{as_of:%Y%m}000000000001\t,/\t,/"
    )
    path = result.folder / f"微信支付账单-{as_of:%Y%m}.csv"
    header = [
        "微信支付账单明细",
        "微信昵称：[翠湖物业收费]",
        f"起始时间：[{first} 00:00:00] 终止时间：[{as_of} 23:59:59]",
        "----------------------微信支付账单明细列表--------------------",
        "交易时间,交易类型,交易对方,商品,收/支,金额(元),支付方式,当前状态,交易单号,商户单号,备注",
    ]
    write_text(path, "\ufeff" + "\n".join(header + lines) + "\n", option="--dir")
    result.statement = path
    result.reconciled = reconciliation.reconcile(
        conn, path, profile=None, as_of=as_of, now=now, settings=settings
    )
    with db.transaction(conn):
        for code, _name, fen in owed[::17][:6]:
            ledger.record_payment(
                conn,
                code,
                min(fen, 20000),
                channel="cash",
                ref=None,
                paid_on=as_of,
                as_of=as_of,
                now=now,
                settings=settings,
                cashier="李娜",
            )


def _remind(conn, result: DemoReport, settings, *, as_of: date, now: datetime) -> None:
    """Last month's letters, some signed for; then staff log a service dispute, a plan and a
    promise to pay, and the day's reminders go out."""
    # the demo may be built for a day ahead of the calendar: its staff work on that day
    now = max(now, datetime.combine(as_of, time(23, 59)))
    _last_months_letters(conn, settings, as_of=as_of, now=now)
    rows = arrears.overdue(conn, as_of=as_of, settings=settings)
    long_overdue = [r for r in rows if r.days_overdue > 60 and not r.developer]
    recent = [r for r in rows if 16 <= r.days_overdue <= 40 and not r.developer]
    with db.transaction(conn):
        _dispute_plan_and_promise(conn, settings, long_overdue, recent, as_of=as_of, now=now)
        result.legal_unit = long_overdue[-2].unit if len(long_overdue) > 2 else ""
        taken = {r.unit for r in (*long_overdue[:1], *long_overdue[-1:], *recent[:1])}
        _calls_with_reasons(
            conn, settings, [r for r in long_overdue if r.unit not in taken], as_of=as_of, now=now
        )
        result.cases = _complaints(
            conn, settings, [r for r in rows if r.unit not in taken], as_of=as_of, now=now
        )
        result.reminder_dir = result.folder / f"催缴-{as_of.isoformat()}"
        result.reminders = dunning.remind(
            conn,
            as_of=as_of,
            at=time(10, 0),
            now=now,
            settings=settings,
            out_dir=result.reminder_dir,
            staff="王强",
        )


def _last_months_letters(conn, settings, *, as_of: date, now: datetime) -> None:
    """Last month's run of formal notices: some of its letters were signed for three days
    later."""
    earlier = as_of - timedelta(days=40)
    with db.transaction(conn):
        last_month = dunning.remind(
            conn,
            as_of=earlier,
            at=time(10, 0),
            now=now,
            settings=settings,
            out_dir=None,
            tiers=["notice"],
            staff="王强",
        )
        for index, number in enumerate(last_month.notices):
            if index % 3:
                continue  # most letters still wait: the owner was away, the EMS came back
            dunning.deliver(
                conn,
                number,
                proof=f"EMS 11{earlier:%m%d}{index:07d}",
                on=earlier + timedelta(days=3),
                now=now,
                staff="王强",
            )


def _dispute_plan_and_promise(
    conn, settings, long_overdue: list, recent: list, *, as_of: date, now: datetime
) -> None:
    """A long-overdue owner disputes the service, another signs a plan to pay in three, and a
    recent one promises to pay next week."""
    if long_overdue:
        dunning.add_contact(
            conn,
            long_overdue[-1].unit,
            channel="visit",
            outcome="dispute",
            at=datetime.combine(as_of - timedelta(days=3), time(15, 30)),
            now=now,
            settings=settings,
            note="楼道照明坏了两个月未修，修好再缴费",
            staff="王强",
        )
    if len(long_overdue) > 1:  # hardship: the owner signs a plan to pay in three
        plans.create(
            conn,
            long_overdue[0].unit,
            installments=3,
            first_due=as_of + timedelta(days=20),
            every="month",
            signed_on=as_of - timedelta(days=2),
            now=now,
            settings=settings,
            note="失业，申请分期缴纳",
            staff="王强",
        )
    if recent:
        dunning.add_contact(
            conn,
            recent[0].unit,
            channel="phone",
            outcome="promised",
            at=datetime.combine(as_of - timedelta(days=1), time(10, 0)),
            now=now,
            settings=settings,
            promise_on=as_of + timedelta(days=7),
            note="出差在外，回来就缴",
            staff="王强",
        )


# what owners said on the phone three weeks ago: (outcome, reason, note)
_CALLS = (
    ("reached", "forgot", "说忘了，这几天去交"),
    ("hardship", "hardship", "做生意亏了，手头紧"),
    ("reached", "other", "房子在出租，说租客会交"),
    ("refused", "refusal", "认为物业费太贵，不愿意交"),
    ("reached", "forgot", "老人不会用手机缴费，子女代缴"),
    ("reached", "other", "在外地工作，年底回来一次交清"),
)


def _calls_with_reasons(conn, settings, rows, *, as_of: date, now: datetime) -> None:
    """Staff called some of the long-overdue owners three weeks ago and noted why they had not
    paid: the reasons the collection report and the overdue list break arrears down by."""
    for row, (outcome, reason, note) in zip(rows[1::3], _CALLS * 3, strict=False):
        dunning.add_contact(
            conn,
            row.unit,
            channel="phone",
            outcome=outcome,
            reason=reason,
            at=datetime.combine(as_of - timedelta(days=21), time(10, 30)),
            now=now,
            settings=settings,
            note=note,
            staff="王强",
        )


def _complaints(conn, settings, rows, *, as_of: date, now: datetime) -> list[str]:
    """A few cases at the service centre: a repair done and visited, a cleaning complaint
    past its deadline, a noise complaint in hand, and a fee dispute that holds a unit's
    arrears out of the letters."""
    units = store.home_codes(conn)
    disputed = next((r.unit for r in rows if 16 <= r.days_overdue <= 60 and not r.developer), None)

    def at(days: int, hour: int = 10) -> datetime:
        return datetime.combine(as_of - timedelta(days=days), time(hour, 0))

    made = []
    plan = [
        (units[3], "request", "维修", "phone", "normal", "卫生间下水管漏水，楼下天花板有水渍", 20),
        (units[10], "complaint", "保洁", "wechat", "normal", "2单元电梯间连续三天无人清扫", 12),
        (units[25], "complaint", "噪音", "hotline-12345", "urgent", "楼上夜间装修噪音", 2),
    ]
    for code, kind, category, channel, priority, text, days in plan:
        case, _ = complaints.add(
            conn,
            code,
            kind=kind,
            category=category,
            channel=channel,
            priority=priority,
            description=text,
            at=at(days),
            now=now,
            settings=settings,
            actor="李娜",
        )
        made.append(case.number)
    repair, _cleaning, noise = made  # the cleaning complaint waits past its deadline
    complaints.assign(conn, repair, to="工程部王师傅", at=at(20, 11), now=now, actor="李娜")
    complaints.resolve(
        conn, repair, note="更换下水管件，试水无渗漏", at=at(18, 16), now=now, actor="王师傅"
    )
    complaints.visit(
        conn,
        repair,
        score=5,
        comment="修得及时，很满意",
        at=at(17),
        now=now,
        settings=settings,
        actor="李娜",
    )
    complaints.assign(conn, noise, to="秩序维护部", at=at(2, 11), now=now, actor="李娜")
    complaints.progress(conn, noise, note="已上门提醒施工时间", at=at(1), now=now, actor="张强")
    if disputed:
        case, _ = complaints.add(
            conn,
            disputed,
            kind="complaint",
            category="收费",
            channel="counter",
            priority="normal",
            description="认为公共照明长期不亮仍收全额物业费，暂不缴费",
            at=at(1, 15),
            now=now,
            settings=settings,
            fee_dispute=True,
            actor="李娜",
        )
        made.append(case.number)
    return made


def _pay_the_year(conn, settings, *, as_of: date, now: datetime, rng) -> dict[str, str]:
    """The months before this one, paid the way an estate's owners pay: most around the due
    day, some habitually a month or so late, some stopped a few months ago, a few not at all
    this year. Returns each unit's habit."""
    this_month = periods.month_start(as_of).strftime("%Y-%m")
    by_unit: dict[str, list[tuple[str, int, str]]] = {}
    for code, period, fen, due_on in store.owners_bills_by_period(conn):
        by_unit.setdefault(code, []).append((period, fen, due_on))
    habits, planned = {}, []
    for code, months in by_unit.items():
        habit = rng.choices(("good", "late", "stopped", "never"), (62, 18, 12, 8))[0]
        habits[code] = habit
        earlier = [m for m in months if m[0] < this_month]
        if habit == "never":
            continue
        if habit == "stopped":
            earlier = earlier[: max(len(earlier) - rng.randint(2, 5), 0)]
        for period, fen, due_on in earlier:
            due = date.fromisoformat(due_on)
            if habit == "late":
                day = due + timedelta(days=rng.randint(20, 50))
            elif rng.random() < 0.15:
                day = due + timedelta(days=rng.randint(1, 12))
            else:
                day = due - timedelta(days=rng.randint(0, 12))
            if day <= as_of:
                planned.append((day, code, period, fen))
    planned.sort()
    channels = ("wechat", "alipay", "cash", "wechat", "bank")
    payments = []
    for index, (day, code, _period, fen) in enumerate(planned):
        channel = channels[index % len(channels)]
        payments.append(
            many.NewPayment(
                code,
                fen,
                channel=channel,
                ref=None if channel == "cash" else f"DEMO{day:%Y%m%d}{index:06d}",
                paid_on=day,
                as_of=day,
                cashier="李娜" if channel == "cash" else "",
            )
        )
    with db.transaction(conn):
        many.record_payments(conn, payments, now=now, settings=settings)
    return habits


def _survey(conn, result: DemoReport, settings, *, as_of: date, now: datetime) -> None:
    """The year's satisfaction survey, held five days ago: the shipped questionnaire answers
    (survey_2026.xlsx), handed to the homes that answered so that the least satisfied answers
    come more often from homes in arrears — as at a real estate — then imported and read."""
    from openpyxl import (
        load_workbook,  # heavy: loaded when needed
    )

    held_on = as_of - timedelta(days=5)
    now = max(now, datetime.combine(as_of, time(23, 59)))
    workbook = load_workbook(sample_file("survey_2026.xlsx"))
    ws = workbook.active
    answered = []  # (row, mean score) of the rows that name a unit and answer
    for row in range(3, ws.max_row + 1):
        code = ws.cell(row, 2).value
        scores = [ws.cell(row, c).value for c in range(3, 11)]
        numbers = [surveys.SCORE_WORDS.get(v, v) for v in scores if v not in (None, "")]
        if code and numbers:
            answered.append((row, sum(numbers) / len(numbers)))
        if ws.cell(row, 13).value is not None:
            ws.cell(row, 13).value = held_on - timedelta(days=row % 7)
    late = {r.unit: r.days_overdue for r in arrears.overdue(conn, as_of=held_on, settings=settings)}
    rng = random.Random(as_of.toordinal())
    codes = sorted(
        (ws.cell(row, 2).value for row, _ in answered),
        key=lambda code: -(late.get(code, 0) + rng.uniform(0, 25)),
    )
    for (row, _score), code in zip(sorted(answered, key=lambda a: a[1]), codes, strict=True):
        ws.cell(row, 2).value = code
    path = result.folder / f"满意度调查-{held_on.year}.xlsx"
    save_workbook(workbook, path, option="--dir")
    result.files.append(path)
    last_year = _last_years_survey(workbook, held_on, rng)
    before = result.folder / f"满意度调查-{held_on.year - 1}.xlsx"
    save_workbook(last_year, before, option="--dir")
    result.files.append(before)
    with db.transaction(conn):
        surveys.import_survey(
            conn,
            before,
            name=f"{held_on.year - 1}年度",
            held_on=held_on.replace(year=held_on.year - 1),
            scale=5,
            now=now,
        )
        surveys.import_survey(
            conn, path, name=f"{held_on.year}年度", held_on=held_on, scale=5, now=now
        )
    result.survey = surveys.survey_report(
        conn, name=None, compare=f"{held_on.year - 1}年度", settings=settings, at=now
    )


def _last_years_survey(workbook, held_on: date, rng):
    """Last year's answers: the same homes, repairs (维修) and cleaning (保洁) a point worse
    for about half of them — what the year's work on those improved — and the rest as now."""
    ws = workbook.active
    ws.cell(1, 1).value = str(ws.cell(1, 1).value).replace(str(held_on.year), str(held_on.year - 1))
    worse = {col for col in range(3, 11) if str(ws.cell(2, col).value).endswith(("维修", "保洁"))}
    for row in range(3, ws.max_row + 1):
        for col in worse:
            value = ws.cell(row, col).value
            if isinstance(value, int) and value > 1 and rng.random() < 0.5:
                ws.cell(row, col).value = value - 1
        answered_on = ws.cell(row, 13).value
        if answered_on is not None:
            ws.cell(row, 13).value = copy(answered_on).replace(year=answered_on.year - 1)
    return workbook


def _is_demo(conn) -> bool:
    try:
        return db.get_meta(conn, "demo") == "1"
    except sqlite3.Error:  # not our schema at all: certainly not a demo
        return False
