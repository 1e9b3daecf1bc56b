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
                f'billing.vacancy_discount {self.vacancy_discount!r} is not a number such as "0.3"'
            ) from None
        if not 0 <= share < 1:
            raise ConfigError("billing.vacancy_discount must be at least 0 and below 1")
        return share

    @property
    def prepay_discount_share(self):
        return _share(self.prepay_discount, "billing.prepay_discount")

    @property
    def vacancy_discount_percent(self) -> int:
        return int(self.vacancy_discount_share * 100)

    def check(self, file: str) -> None:
        if self.owner_pays_from not in ("delivery", "next_month"):
            raise ConfigError(f'{file}: billing.owner_pays_from must be "delivery" or "next_month"')
        if self.fee_model not in ("包干制", "酬金制"):
            raise ConfigError(f'{file}: billing.fee_model must be "包干制" or "酬金制"')
        self.vacancy_discount_share  # noqa: B018 - validates
        self.prepay_discount_share  # noqa: B018 - validates
        if not 0 <= self.prepay_months <= 12:
            raise ConfigError(f"{file}: billing.prepay_months must be 0 (off) to 12")
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
                f"{file}: billing.discount_approval_ref 必填：酬金制下物业费属于全体业主，"
                "vacancy_discount / prepay_discount 的优惠要写明业主大会或业委会的批准文号"
                f"（LEGAL 第11条）；{REFERENCE_RULE}"
            )
        if ref.strip() and not reference_ok(ref):
            raise ConfigError(
                f"{file}: billing.discount_approval_ref {ref!r} 不像批准文号（LEGAL 第11条）："
                f"{REFERENCE_RULE}"
            )


def _share(text: str, key: str):
    try:
        share = Decimal(text)
    except InvalidOperation:
        raise ConfigError(f'{key} {text!r} is not a number such as "0.05"') from None
    if not 0 <= share < 1:
        raise ConfigError(f"{key} must be at least 0 and below 1")
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
                f'dunning.legal_min {self.legal_min!r} 不是金额，应写成元，例如 "200" 或 "200.00"'
            ) from None

    def check(self, file: str) -> None:
        edges = list(self.buckets)
        if not edges or edges != sorted(edges) or edges[0] < 1 or len(set(edges)) != len(edges):
            raise ConfigError(
                f"{file}: dunning.buckets must be rising day counts, e.g. [15, 30, 90, 365]"
            )
        if not 1 <= self.call_from <= self.notice_from <= self.legal_from:
            raise ConfigError(f"{file}: dunning needs 1 ≤ call_from ≤ notice_from ≤ legal_from")
        if not 0 <= self.chronic_shift < self.call_from:
            raise ConfigError(
                f"{file}: dunning.chronic_shift must be at least 0 and below call_from"
            )
        try:
            self.legal_min_fen  # noqa: B018 - validates
        except ConfigError as exc:
            raise ConfigError(f"{file}: {exc}") from None
        if not self.notice_prefix.strip():
            raise ConfigError(f'{file}: dunning.notice_prefix must not be empty, e.g. "催"')
        if self.chronic_periods < 1:
            raise ConfigError(f"{file}: dunning.chronic_periods must be at least 1")
        if self.plan_grace_days < 0 or self.limitation_warn_days < 0:
            raise ConfigError(
                f"{file}: dunning.plan_grace_days and limitation_warn_days must not be negative"
            )
        for key in ("quiet_start", "quiet_end"):
            value = getattr(self, key)
            try:
                hours, minutes = (int(x) for x in value.split(":"))
                if not (0 <= hours < 24 and 0 <= minutes < 60):
                    raise ValueError
            except ValueError:
                raise ConfigError(f'{file}: dunning.{key} must be a time such as "21:00"') from None
        self.check_floors(file)

    def check_floors(self, file: str) -> None:
        """The lawful floors no setting goes below: a reasonable deadline (LEGAL rule 2), quiet
        nights and no flood of messages (LEGAL rule 10)."""
        if self.deadline_days < MIN_DEADLINE_DAYS:
            raise ConfigError(
                f"{file}: dunning.deadline_days = {self.deadline_days} 太短：催缴通知书要给出合理的"
                f"最后缴费期限，至少 {MIN_DEADLINE_DAYS} 天（通常 15 天）（LEGAL 第2条）"
            )
        if self.min_days_between < MIN_DAYS_BETWEEN:
            raise ConfigError(
                f"{file}: dunning.min_days_between = {self.min_days_between} 太小：同一缴费人"
                f"两次短信或通知书之间至少隔 {MIN_DAYS_BETWEEN} 天，不得频繁催缴（LEGAL 第10条）"
            )
        start, end = _minutes(self.quiet_start), _minutes(self.quiet_end)
        if start == end:
            raise ConfigError(
                f"{file}: dunning.quiet_start 与 quiet_end 相同（{self.quiet_start}）：免打扰时段"
                "不能为空，也不能是全天（LEGAL 第10条：夜间不得催缴）"
            )
        length = (end - start) % (24 * 60)
        if not self._covers_night():
            raise ConfigError(
                f"{file}: dunning.quiet_start = {self.quiet_start!r}、quiet_end = "
                f"{self.quiet_end!r}：免打扰时段至少要包含夜间 {NIGHT[0]}–{NIGHT[1]}"
                "（LEGAL 第10条：夜间不得催缴）"
            )
        if length > 24 * 60 - MIN_OPEN_HOURS * 60:
            raise ConfigError(
                f"{file}: dunning.quiet_start = {self.quiet_start!r}、quiet_end = "
                f"{self.quiet_end!r}：免打扰时段几乎覆盖全天，白天至少要留出 {MIN_OPEN_HOURS} "
                "小时（LEGAL 第10条）"
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
                f'late_fee.minimum {self.minimum!r} is not an amount such as "10.00"'
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
                f'late_fee.cap {self.cap!r} is not an amount such as "500.00" or a share such as "30%"'
            ) from None

    def check(self, file: str) -> None:
        if self.daily_rate.strip() and not 0 <= self.rate < 1:
            raise ConfigError(
                f"{file}: late_fee.daily_rate must be a daily share below 1, e.g. 0.0005"
            )
        if self.grace_days < 0:
            raise ConfigError(f"{file}: late_fee.grace_days must not be negative")
        if not 0 <= self.annual_reference < 1:
            raise ConfigError(f"{file}: late_fee.reference_rate must be a yearly share, e.g. 0.030")
        if self.factor < 1:
            raise ConfigError(f"{file}: late_fee.court_factor must be at least 1, e.g. 1.3")
        self.minimum_fen  # noqa: B018 - validates
        self.cap_fen(100)


def _decimal(text: str, key: str, example: str):
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise ConfigError(f'{key} {text!r} is not a number such as "{example}"') from None
    if not value.is_finite() or value < 0:
        raise ConfigError(f'{key} {text!r} is not a number such as "{example}"')
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
                    f'{file}: complaints.deadlines."{key}" = {value!r}: give working hours or '
                    'days, e.g. "4h" or "3d"'
                )
        for key in ("work_start", "work_end"):
            if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", getattr(self, key)):
                raise ConfigError(f'{file}: complaints.{key} must be a time such as "09:00"')
        if self.work_start >= self.work_end:
            raise ConfigError(f"{file}: complaints.work_start must be before work_end")
        if not 1 <= self.low_score <= 5:
            raise ConfigError(f"{file}: complaints.low_score must be 1 to 5")
        if self.low_score_action not in ("reopen", "flag"):
            raise ConfigError(f'{file}: complaints.low_score_action must be "reopen" or "flag"')


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
                raise ConfigError(f'{file}: calendar.{key} must be a list of days, e.g. ["2027-02-05"]')
            for value in values:
                if _day(value) is None:
                    raise ConfigError(
                        f"{file}: calendar.{key}: {value!r} is not a day (write 2027-02-05)"
                    )
        both = sorted(set(_days(self.holidays)) & set(_days(self.workdays)))
        if both:
            raise ConfigError(
                f"{file}: calendar: {both[0].isoformat()} is both a holiday and a working day"
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
            raise ConfigError(f"{file}: backup.keep must be 0 (keep all) or more")
        if not self.folder.strip():
            raise ConfigError(f"{file}: backup.folder must name a folder")


@dataclass(frozen=True)
class Survey:
    """Satisfaction surveys: each question's weight in the satisfaction index, by its name
    as the questionnaire heads it (a question not named weighs 1; 0 leaves it out)."""

    weights: dict[str, int] = field(default_factory=dict)

    def check(self, file: str) -> None:
        for name, weight in self.weights.items():
            if weight < 0:
                raise ConfigError(f'{file}: survey.weights."{name}" must be 0 or more')


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
            raise ConfigError(f"settings file {path} does not exist")
        return path
    beside = db_path.parent / "propfee.toml"
    return beside if beside.is_file() else None


def load_settings(path: Path | None) -> Settings:
    if path is None:
        return DEFAULTS
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc})") from None
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
                        f"{file}: {section}.{key} 写有“{phrase}”：{lawful.RULE_1}"
                        f"（{lawful.RULE_1_TEXT}）；这段文字会印在通知、短信和信函上"
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
            raise ConfigError(f"{file}: template_dir: 模板 {path} 读不出来（{exc}）") from None
        phrase = lawful.threat(text)
        if phrase is not None:
            raise ConfigError(
                f"{file}: template_dir: 模板 {path} 写有“{phrase}”：{lawful.RULE_1}"
                f"（{lawful.RULE_1_TEXT}）"
            )


def _build(cls, data: dict, file: str, prefix: str):
    if not isinstance(data, dict):
        raise ConfigError(f"{file}: [{prefix.rstrip('.')}] must be a table")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        known = ", ".join(sorted(n for n in fields if n != "source"))
        raise ConfigError(f"{file}: unknown setting {prefix}{unknown[0]} (known here: {known})")
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
            raise ConfigError(f"{file}: {key} must be a list")
        items = [_coerce(item, v, file, key) for v in value]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{file}: {key} must be a table")
        _, item = typing.get_args(hint)
        return {str(k): _coerce(item, v, file, f"{key}.{k}") for k, v in value.items()}
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{file}: {key} must be true or false")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{file}: {key} must be a whole number")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{file}: {key} must be text (in quotes)")
        return value
    return value
