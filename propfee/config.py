"""The optional settings file (TOML).

Found at ``--config``, else ``$PROPFEE_CONFIG``, else ``propfee.toml`` beside the database.
Every key has a built-in default, so the file is optional; an unknown key or a value of the
wrong type is an error naming the key, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

from propfee.core import lawful
from propfee.core.approvals import REFERENCE_RULE, reference_ok
from propfee.core.errors import ConfigError
from propfee.core.i18n import _
from propfee.core.money import parse_money
from propfee.core.workdays import RULE, Calendar


@dataclass(frozen=True)
class Estate:
    """Who the company is; shown on every notice, receipt and letter."""

    company: str = "物业服务中心"
    name: str = "本小区"
    phone: str = ""
    address: str = ""
    developer: str = "开发建设单位"


@dataclass(frozen=True)
class Billing:
    """How bills are made (LEGAL rules 9 and 11)."""

    owner_pays_from: str = "delivery"  # or "next_month": from the month after delivery
    vacancy_discount: str = "0"  # share taken off area fees of vacant homes, e.g. "0.3"
    fee_model: str = "包干制"  # or "酬金制": a waiver then needs the owners' approval reference
    prepay_months: int = 0  # paying this many months ahead in full earns prepay_discount
    prepay_discount: str = "0"  # e.g. "0.05": 5% off the months paid ahead
    discount_approval_ref: str = ""  # the owners' decision approving the discounts above

    @property
    def vacancy_discount_share(self):
        try:
            share = Decimal(self.vacancy_discount)
        except InvalidOperation:
            raise ConfigError(
                _(
                    'billing.vacancy_discount {vacancy_discount!r} is not a number such as "0.3"'
                ).format(vacancy_discount=self.vacancy_discount)
            ) from None
        if not 0 <= share < 1:
            raise ConfigError(_("billing.vacancy_discount must be at least 0 and below 1"))
        return share

    @property
    def prepay_discount_share(self):
        return _share(self.prepay_discount, "billing.prepay_discount")

    @property
    def vacancy_discount_percent(self) -> int:
        return int(self.vacancy_discount_share * 100)

    def check(self, file: str) -> None:
        if self.owner_pays_from not in ("delivery", "next_month"):
            raise ConfigError(
                _('{file}: billing.owner_pays_from must be "delivery" or "next_month"').format(
                    file=file
                )
            )
        if self.fee_model not in ("包干制", "酬金制"):
            raise ConfigError(
                _('{file}: billing.fee_model must be "包干制" or "酬金制"').format(file=file)
            )
        self.vacancy_discount_share  # noqa: B018 - validates
        self.prepay_discount_share  # noqa: B018 - validates
        if not 0 <= self.prepay_months <= 12:
            raise ConfigError(
                _("{file}: billing.prepay_months must be 0 (off) to 12").format(file=file)
            )
        self._check_discount_approval(file)

    @property
    def has_discounts(self) -> bool:
        """Whether the settings give discounts: vacancy, or prepayment."""
        return self.vacancy_discount_share > 0 or (
            self.prepay_months > 0 and self.prepay_discount_share > 0
        )

    def _check_discount_approval(self, file: str) -> None:
        """Under 酬金制 the fees are the owners' money: discounts set here need the owners'
        approval reference, of the shape every approval has (LEGAL rule 11)."""
        ref = self.discount_approval_ref
        if self.fee_model == "酬金制" and self.has_discounts and not ref.strip():
            raise ConfigError(
                _(
                    "{file}: billing.discount_approval_ref is required: under 酬金制 the fees "
                    "belong to the owners, and a vacancy_discount / prepay_discount needs the "
                    "reference of the owners' assembly's or committee's approval (LEGAL rule "
                    "11); {rule}"
                ).format(file=file, rule=REFERENCE_RULE)
            )
        if ref.strip() and not reference_ok(ref):
            raise ConfigError(
                _(
                    "{file}: billing.discount_approval_ref {ref!r} does not look like an "
                    "approval reference (LEGAL rule 11): {rule}"
                ).format(file=file, ref=ref, rule=REFERENCE_RULE)
            )


def _share(text: str, key: str):
    try:
        share = Decimal(text)
    except InvalidOperation:
        raise ConfigError(
            _('{key} {text!r} is not a number such as "0.05"').format(key=key, text=text)
        ) from None
    if not 0 <= share < 1:
        raise ConfigError(_("{key} must be at least 0 and below 1").format(key=key))
    return share


@dataclass(frozen=True)
class Payment:
    """How owners can pay: printed on notices, letters and receipts."""

    methods: tuple[str, ...] = ("微信支付", "支付宝", "银行转账", "物业服务中心前台（现金、刷卡）")
    bank_account: str = ""
    instructions: str = "转账或扫码付款时请在备注中写明房号，例如 1-1-1001 物业费。"


#: lawful floors of the dunning settings (LEGAL rules 2 and 10)
MIN_DEADLINE_DAYS = 7  # a notice's deadline, at the least (15 is the usual example)
MIN_DAYS_BETWEEN = 3  # days between two messages or letters to one party, at the least
NIGHT = ("22:00", "06:00")  # the quiet hours hold at least the night
MIN_OPEN_HOURS = 6  # and leave at least this many hours of the day


def _minutes(text: str) -> int:
    hours, minutes = (int(x) for x in text.split(":"))
    return hours * 60 + minutes


@dataclass(frozen=True)
class Dunning:
    """Tiered, differentiated collection (分阶段、差异化催收), with the seeds' defaults."""

    buckets: tuple[int, ...] = (15, 30, 90, 365)  # aging bucket edges in days overdue
    call_from: int = 16  # days overdue: phone call or visit
    notice_from: int = 31  # formal 催缴通知书 with proof of delivery
    legal_from: int = 90  # and a delivered notice whose deadline passed unpaid
    deadline_days: int = 15  # a notice's final deadline, counted from the day it is made
    chronic_periods: int = 3  # late periods in 12 months that make a payer chronic
    chronic_shift: int = 8  # a chronic payer reaches call and notice this many days sooner
    quiet_start: str = "21:00"  # no message is produced from here …
    quiet_end: str = "08:00"  # … to here
    min_days_between: int = 7  # at most one message to a party in this many days
    notice_prefix: str = "催"  # notice numbers read 催2026-0001
    plan_grace_days: int = 10  # an installment this many days unpaid breaks its plan
    limitation_warn_days: int = 180  # a bill's 3-year clock this close to its end: a notice
    # a party owing less than this (yuan) is never put up for legal review, however long
    # overdue (seed 001: 根据欠费金额、欠费时间); "0" = no threshold
    legal_min: str = "0"

    @property
    def legal_min_fen(self) -> int:
        try:
            return parse_money(self.legal_min, what="dunning.legal_min", allow_zero=True)
        except Exception:
            raise ConfigError(
                _(
                    'dunning.legal_min {value!r} is not an amount; write yuan, e.g. "200" or '
                    '"200.00"'
                ).format(value=self.legal_min)
            ) from None

    def check(self, file: str) -> None:
        edges = list(self.buckets)
        if not edges or edges != sorted(edges) or edges[0] < 1 or len(set(edges)) != len(edges):
            raise ConfigError(
                _(
                    "{file}: dunning.buckets must be rising day counts, e.g. [15, 30, 90, 365]"
                ).format(file=file)
            )
        if not 1 <= self.call_from <= self.notice_from <= self.legal_from:
            raise ConfigError(
                _("{file}: dunning needs 1 ≤ call_from ≤ notice_from ≤ legal_from").format(
                    file=file
                )
            )
        if not 0 <= self.chronic_shift < self.call_from:
            raise ConfigError(
                _("{file}: dunning.chronic_shift must be at least 0 and below call_from").format(
                    file=file
                )
            )
        try:
            self.legal_min_fen  # noqa: B018 - validates
        except ConfigError as exc:
            raise ConfigError(f"{file}: {exc}") from None
        if not self.notice_prefix.strip():
            raise ConfigError(
                _('{file}: dunning.notice_prefix must not be empty, e.g. "催"').format(file=file)
            )
        if self.chronic_periods < 1:
            raise ConfigError(
                _("{file}: dunning.chronic_periods must be at least 1").format(file=file)
            )
        if self.plan_grace_days < 0 or self.limitation_warn_days < 0:
            raise ConfigError(
                _(
                    "{file}: dunning.plan_grace_days and limitation_warn_days must not be negative"
                ).format(file=file)
            )
        for key in ("quiet_start", "quiet_end"):
            value = getattr(self, key)
            try:
                hours, minutes = (int(x) for x in value.split(":"))
                if not (0 <= hours < 24 and 0 <= minutes < 60):
                    raise ValueError
            except ValueError:
                raise ConfigError(
                    _('{file}: dunning.{key} must be a time such as "21:00"').format(
                        file=file, key=key
                    )
                ) from None
        self.check_floors(file)

    def check_floors(self, file: str) -> None:
        """The lawful floors no setting goes below: a reasonable deadline (LEGAL rule 2), quiet
        nights and no flood of messages (LEGAL rule 10)."""
        if self.deadline_days < MIN_DEADLINE_DAYS:
            raise ConfigError(
                _(
                    "{file}: dunning.deadline_days = {days} is too short: a formal demand gives "
                    "a reasonable last day to pay, at least {least} days (usually 15) (LEGAL "
                    "rule 2)"
                ).format(file=file, days=self.deadline_days, least=MIN_DEADLINE_DAYS)
            )
        if self.min_days_between < MIN_DAYS_BETWEEN:
            raise ConfigError(
                _(
                    "{file}: dunning.min_days_between = {days} is too small: two messages or "
                    "notices to the same payer are at least {least} days apart, never a flood "
                    "(LEGAL rule 10)"
                ).format(file=file, days=self.min_days_between, least=MIN_DAYS_BETWEEN)
            )
        start, end = _minutes(self.quiet_start), _minutes(self.quiet_end)
        if start == end:
            raise ConfigError(
                _(
                    "{file}: dunning.quiet_start and quiet_end are the same ({start}): the quiet "
                    "hours can be neither empty nor the whole day (LEGAL rule 10: no collection "
                    "at night)"
                ).format(file=file, start=self.quiet_start)
            )
        length = (end - start) % (24 * 60)
        if not self._covers_night():
            raise ConfigError(
                _(
                    "{file}: dunning.quiet_start = {start!r}, quiet_end = {end!r}: the quiet "
                    "hours must hold at least the night, {night_start}–{night_end} (LEGAL rule "
                    "10: no collection at night)"
                ).format(
                    file=file,
                    start=self.quiet_start,
                    end=self.quiet_end,
                    night_start=NIGHT[0],
                    night_end=NIGHT[1],
                )
            )
        if length > 24 * 60 - MIN_OPEN_HOURS * 60:
            raise ConfigError(
                _(
                    "{file}: dunning.quiet_start = {start!r}, quiet_end = {end!r}: the quiet "
                    "hours cover almost the whole day; leave at least {hours} hours in the day "
                    "(LEGAL rule 10)"
                ).format(
                    file=file, start=self.quiet_start, end=self.quiet_end, hours=MIN_OPEN_HOURS
                )
            )

    def _covers_night(self) -> bool:
        """Whether every minute of the night falls in the quiet hours."""
        start, end = _minutes(self.quiet_start), _minutes(self.quiet_end)
        first, last = _minutes(NIGHT[0]), _minutes(NIGHT[1])
        length = (end - start) % (24 * 60)
        return (first - start) % (24 * 60) + (last - first) % (24 * 60) <= length

    def quiet(self, at) -> bool:
        """True when ``at`` (a time) falls in the quiet hours."""
        start = tuple(int(x) for x in self.quiet_start.split(":"))
        end = tuple(int(x) for x in self.quiet_end.split(":"))
        now = (at.hour, at.minute)
        if start == end:
            return False
        if start < end:
            return start <= now < end
        return now >= start or now < end


@dataclass(frozen=True)
class LateFee:
    """The contract's late-fee clause (违约金, LEGAL rule 7). Without a daily rate the
    contract has no clause, and propfee charges no late fee anywhere."""

    daily_rate: str = ""  # e.g. "0.0005" (万分之五 a day); "" = no clause in the contract
    grace_days: int = 0  # days after the due date that are not charged
    cap: str = ""  # per bill: "500.00" yuan, or "30%" of the bill; "" = no cap
    minimum: str = "0"  # no late fee accrues while a bill owes less than this (yuan)
    reference_rate: str = "0.030"  # a year, for the court's view of the loss (1-year LPR)
    court_factor: str = "1.3"  # courts cut a 违约金 above loss × this (通则解释 第65条)
    # demand no more than that ceiling (letters, notices, posting); false: demand the clause
    # amount and show the ceiling beside it (法院可能依法调减至…)
    cap_at_ceiling: bool = True

    @property
    def has_clause(self) -> bool:
        return bool(self.daily_rate.strip()) and self.rate > 0

    @property
    def rate(self):
        return _decimal(self.daily_rate or "0", "late_fee.daily_rate", "0.0005")

    @property
    def annual_reference(self):
        return _decimal(self.reference_rate, "late_fee.reference_rate", "0.030")

    @property
    def factor(self):
        return _decimal(self.court_factor, "late_fee.court_factor", "1.3")

    @property
    def minimum_fen(self) -> int:
        try:
            return parse_money(self.minimum) if self.minimum.strip() not in ("", "0") else 0
        except Exception:
            raise ConfigError(
                _('late_fee.minimum {minimum!r} is not an amount such as "10.00"').format(
                    minimum=self.minimum
                )
            ) from None

    def cap_fen(self, principal_fen: int) -> int | None:
        """The most one bill may carry, or None."""
        text = self.cap.strip()
        if not text:
            return None
        if text.endswith("%"):
            share = _decimal(text[:-1], "late_fee.cap", "30%") / 100
            return int((principal_fen * share).quantize(1, rounding=ROUND_HALF_UP))

        try:
            return parse_money(text)
        except Exception:
            raise ConfigError(
                _(
                    'late_fee.cap {cap!r} is not an amount such as "500.00" or a '
                    'share such as "30%"'
                ).format(cap=self.cap)
            ) from None

    def check(self, file: str) -> None:
        if self.daily_rate.strip() and not 0 <= self.rate < 1:
            raise ConfigError(
                _("{file}: late_fee.daily_rate must be a daily share below 1, e.g. 0.0005").format(
                    file=file
                )
            )
        if self.grace_days < 0:
            raise ConfigError(
                _("{file}: late_fee.grace_days must not be negative").format(file=file)
            )
        if not 0 <= self.annual_reference < 1:
            raise ConfigError(
                _("{file}: late_fee.reference_rate must be a yearly share, e.g. 0.030").format(
                    file=file
                )
            )
        if self.factor < 1:
            raise ConfigError(
                _("{file}: late_fee.court_factor must be at least 1, e.g. 1.3").format(file=file)
            )
        self.minimum_fen  # noqa: B018 - validates
        self.cap_fen(100)


def _decimal(text: str, key: str, example: str):
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise ConfigError(
            _('{key} {text!r} is not a number such as "{example}"').format(
                key=key, text=text, example=example
            )
        ) from None
    if not value.is_finite() or value < 0:
        raise ConfigError(
            _('{key} {text!r} is not a number such as "{example}"').format(
                key=key, text=text, example=example
            )
        )
    return value


def _default_deadlines() -> dict[str, str]:
    return {
        "urgent": "4h",  # working hours
        "normal": "3d",  # working days
        "low": "5d",
        "维修.urgent": "2h",
        "安保.urgent": "1h",
        "收费.normal": "5d",
    }


@dataclass(frozen=True)
class Complaints:
    """Complaints and service requests: how long each may take, in working hours ("4h") or
    working days ("3d") on the mainland calendar, by "category.priority" or by priority."""

    deadlines: dict[str, str] = field(default_factory=_default_deadlines)
    work_start: str = "09:00"  # working hours, for deadlines in hours
    work_end: str = "18:00"
    low_score: int = 2  # a return-visit score at or below this …
    low_score_action: str = "reopen"  # … reopens the case, or "flag"s it for a manager
    number_prefix: str = "TS"  # case numbers read TS2026-0001

    def deadline_for(self, category: str, priority: str) -> str:
        """The rule for a case: "category.priority", else the priority, from the settings and
        then from the defaults."""
        defaults = _default_deadlines()
        for table in (self.deadlines, defaults):
            rule = table.get(f"{category}.{priority}")
            if rule:
                return rule
        return self.deadlines.get(priority) or defaults.get(priority, "3d")

    def check(self, file: str) -> None:
        for key, value in self.deadlines.items():
            if not RULE.fullmatch(value.strip()):
                raise ConfigError(
                    _(
                        '{file}: complaints.deadlines."{key}" = {value!r}: give '
                        'working hours or days, e.g. "4h" or "3d"'
                    ).format(file=file, key=key, value=value)
                )
        for key in ("work_start", "work_end"):
            if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", getattr(self, key)):
                raise ConfigError(
                    _('{file}: complaints.{key} must be a time such as "09:00"').format(
                        file=file, key=key
                    )
                )
        if self.work_start >= self.work_end:
            raise ConfigError(
                _("{file}: complaints.work_start must be before work_end").format(file=file)
            )
        if not 1 <= self.low_score <= 5:
            raise ConfigError(_("{file}: complaints.low_score must be 1 to 5").format(file=file))
        if self.low_score_action not in ("reopen", "flag"):
            raise ConfigError(
                _('{file}: complaints.low_score_action must be "reopen" or "flag"').format(
                    file=file
                )
            )


@dataclass(frozen=True)
class CalendarTable:
    """The official holidays and make-up working days (调休) of a year, as the State Council's
    notice publishes them each November or December: consulted before the installed calendars,
    so a new year's deadlines are right before a library release knows it. A day not listed
    follows the installed calendars (the statutory holidays are computed for any year)."""

    holidays: list = field(default_factory=list)  # "2027-02-05", … (or TOML dates)
    workdays: list = field(default_factory=list)  # the make-up Saturdays and Sundays

    def days(self) -> Calendar:
        return Calendar(frozenset(_days(self.holidays)), frozenset(_days(self.workdays)))

    def check(self, file: str) -> None:
        for key in ("holidays", "workdays"):
            values = getattr(self, key)
            if not isinstance(values, list):
                raise ConfigError(
                    _('{file}: calendar.{key} must be a list of days, e.g. ["2027-02-05"]').format(
                        file=file, key=key
                    )
                )
            for value in values:
                if _day(value) is None:
                    raise ConfigError(
                        _(
                            "{file}: calendar.{key}: {value!r} is not a day (write 2027-02-05)"
                        ).format(file=file, key=key, value=value)
                    )
        both = sorted(set(_days(self.holidays)) & set(_days(self.workdays)))
        if both:
            raise ConfigError(
                _("{file}: calendar: {isoformat} is both a holiday and a working day").format(
                    file=file, isoformat=both[0].isoformat()
                )
            )


def _day(value: object) -> date | None:
    if isinstance(value, datetime):
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _days(values: list) -> list[date]:
    return [d for d in (_day(v) for v in values) if d is not None]


@dataclass(frozen=True)
class Backup:
    """Copies of the database: where ``propfee backup`` writes them, how many it keeps, and
    whether risky writes (a roster re-import, a reconcile, the first bill run of a period)
    back up first."""

    folder: str = "backups"  # beside the database, unless an absolute path
    keep: int = 30  # the newest this many are kept; 0 keeps every backup
    auto: bool = False  # back up automatically before risky writes

    def check(self, file: str) -> None:
        if self.keep < 0:
            raise ConfigError(
                _("{file}: backup.keep must be 0 (keep all) or more").format(file=file)
            )
        if not self.folder.strip():
            raise ConfigError(_("{file}: backup.folder must name a folder").format(file=file))


@dataclass(frozen=True)
class Survey:
    """Satisfaction surveys: each question's weight in the satisfaction index, by its name
    as the questionnaire heads it (a question not named weighs 1; 0 leaves it out)."""

    weights: dict[str, int] = field(default_factory=dict)

    def check(self, file: str) -> None:
        for name, weight in self.weights.items():
            if weight < 0:
                raise ConfigError(
                    _('{file}: survey.weights."{name}" must be 0 or more').format(
                        file=file, name=name
                    )
                )


@dataclass(frozen=True)
class Settings:
    estate: Estate = field(default_factory=Estate)
    billing: Billing = field(default_factory=Billing)
    payment: Payment = field(default_factory=Payment)
    dunning: Dunning = field(default_factory=Dunning)
    late_fee: LateFee = field(default_factory=LateFee)
    complaints: Complaints = field(default_factory=Complaints)
    backup: Backup = field(default_factory=Backup)
    survey: Survey = field(default_factory=Survey)
    calendar: CalendarTable = field(default_factory=CalendarTable)
    language: str = "zh"
    template_dir: str = ""
    source: str = ""  # the file these came from, "" for built-in defaults

    @property
    def template_path(self) -> Path | None:
        if not self.template_dir:
            return None
        base = Path(self.source).parent if self.source else Path.cwd()
        return (base / self.template_dir).expanduser()


DEFAULTS = Settings()


def settings_path(config: str | Path | None, db_path: Path) -> Path | None:
    """The settings file to read: the one named, else ``propfee.toml`` beside the database."""
    if config:
        path = Path(config)
        if not path.is_file():
            raise ConfigError(_("settings file {path} does not exist").format(path=path))
        return path
    beside = db_path.parent / "propfee.toml"
    return beside if beside.is_file() else None


def load_settings(path: Path | None) -> Settings:
    if path is None:
        return DEFAULTS
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_("{path}: not valid TOML ({exc})").format(path=path, exc=exc)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(_("{path}: cannot be read ({exc})").format(path=path, exc=exc)) from None
    data["source"] = str(path)
    settings = _build(Settings, data, str(path), "")
    settings.billing.check(str(path))
    settings.dunning.check(str(path))
    settings.late_fee.check(str(path))
    settings.complaints.check(str(path))
    settings.backup.check(str(path))
    settings.survey.check(str(path))
    settings.calendar.check(str(path))
    check_wording(settings, str(path))
    check_templates(settings, str(path))
    return settings


def check_wording(settings: Settings, file: str) -> None:
    """Settings text printed on notices, messages and letters (the estate, the ways to pay)
    never says what LEGAL rule 1 forbids: refused as the file is read."""
    for section in ("estate", "payment"):
        for key, value in dataclasses.asdict(getattr(settings, section)).items():
            texts = value if isinstance(value, (list, tuple)) else [value]
            for text in texts:
                phrase = lawful.threat(text) if isinstance(text, str) else None
                if phrase is not None:
                    raise ConfigError(
                        _(
                            "{file}: {section}.{key} says “{phrase}”: {rule} ({rule_text}); "
                            "this text is printed on notices, messages and letters"
                        ).format(
                            file=file,
                            section=section,
                            key=key,
                            phrase=phrase,
                            rule=lawful.RULE_1,
                            rule_text=lawful.RULE_1_TEXT,
                        )
                    )


TEMPLATE_SUFFIXES = (".txt", ".html", ".htm")


def check_templates(settings: Settings, file: str) -> None:
    """The estate's own templates (``template_dir``) never say what LEGAL rule 1 forbids:
    refused as the settings are read, whether or not this run renders them (the text each
    one renders is checked again, with what it interpolates, before anything is sent)."""
    folder = settings.template_path
    if folder is None or not folder.is_dir():
        return
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() not in TEMPLATE_SUFFIXES or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(
                _("{file}: template_dir: the template {path} cannot be read ({error})").format(
                    file=file, path=path, error=exc
                )
            ) from None
        phrase = lawful.threat(text)
        if phrase is not None:
            raise ConfigError(
                _(
                    "{file}: template_dir: the template {path} says “{phrase}”: {rule} "
                    "({rule_text})"
                ).format(
                    file=file,
                    path=path,
                    phrase=phrase,
                    rule=lawful.RULE_1,
                    rule_text=lawful.RULE_1_TEXT,
                )
            )


def _build(cls, data: dict, file: str, prefix: str):
    if not isinstance(data, dict):
        raise ConfigError(
            _("{file}: [{rstrip}] must be a table").format(file=file, rstrip=prefix.rstrip("."))
        )
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        known = ", ".join(sorted(n for n in fields if n != "source"))
        raise ConfigError(
            _("{file}: unknown setting {prefix}{unknown} (known here: {known})").format(
                file=file, prefix=prefix, unknown=unknown[0], known=known
            )
        )
    values = {}
    for name, value in data.items():
        values[name] = _coerce(hints[name], value, file, f"{prefix}{name}")
    return cls(**values)


def _coerce(hint, value, file: str, key: str):
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, file, f"{key}.")
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return _coerce(options[0], value, file, key)
    if origin in (list, tuple):
        (item,) = typing.get_args(hint)[:1]
        if not isinstance(value, list):
            raise ConfigError(_("{file}: {key} must be a list").format(file=file, key=key))
        items = [_coerce(item, v, file, key) for v in value]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(_("{file}: {key} must be a table").format(file=file, key=key))
        _key, item = typing.get_args(hint)
        return {str(k): _coerce(item, v, file, f"{key}.{k}") for k, v in value.items()}
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(_("{file}: {key} must be true or false").format(file=file, key=key))
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(_("{file}: {key} must be a whole number").format(file=file, key=key))
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(
                _("{file}: {key} must be text (in quotes)").format(file=file, key=key)
            )
        return value
    return value
