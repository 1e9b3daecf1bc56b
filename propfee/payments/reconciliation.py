"""Reconciliation (对账): turn what WeChat Pay, Alipay and banks export into payments.

A statement is read by its headers through a profile: the built-in ``wechat`` (the personal
bill and the merchant-platform export), ``alipay`` (the old and new personal exports and the
merchant 账务明细) and ``bank`` (common Chinese bank headers), or a TOML profile of the user's
that maps a bank's columns. ``auto`` recognises the two payment apps by their headers.

Only incoming money counts. A line whose memo, remark or product text names exactly one unit
code becomes a payment with the transaction number as its reference. A line without one is
never guessed into a payment: it is listed for review with candidate units (payer name or
phone matching an owner, amount equal to an outstanding total) and recorded only when the
user confirms it (``--confirm LINE=UNIT`` or a review file). A line whose reference is
already recorded for the same amount and unit is skipped, so overlapping statements are safe;
the same reference with another amount or unit is listed for review, never skipped (see
``_held_elsewhere``). A reversed payment gives its reference back: a line with that
reference and another amount or unit is recorded, but the reversed line itself (a refund, a
payment taken back on purpose) is recorded again only when confirmed, so re-reading an
overlapping statement never undoes a reversal. A refund in a statement whose payment is
recorded is listed with the receipt to reverse; nothing is reversed by itself.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import operator
import re
import sqlite3
import sys
import tomllib
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from propfee.core.errors import FileFormatError, InvalidValue, RowError, RowErrors
from propfee.core.gcpause import no_gc
from propfee.core.i18n import N_, _, zh
from propfee.core.money import decimal_str, format_money, parse_money
from propfee.files import cells
from propfee.files.headers import alias_index, find_header, lookup, norm_header
from propfee.files.tabular import read_sheets
from propfee.files.writers import check_output, write_csv
from propfee.payments import lineid, store
from propfee.payments.ledger import (
    MAX_PAYMENT_FEN,
    HeldRef,
    PaymentBatch,
    channel_label,
    held_refs,
)
from propfee.store.db import transaction

#: statement fields -> header aliases (what the three kinds of export call them)
FIELDS: dict[str, tuple[str, ...]] = {
    # a date column beats a time column: a bank's 交易时间 beside 交易日期 holds only the time
    # of day (the payment apps' 交易时间 holds date and time, and they have no 交易日期)
    "date": (
        "交易日期",
        "记账日期",
        "入账日期",
        "日期",
        "date",
        "交易时间",
        "交易创建时间",
        "付款时间",
        "发生时间",
        "入账时间",
        "time",
    ),
    "amount": ("金额(元)", "金额（元）", "订单金额", "应结订单金额", "交易金额", "金额", "amount"),
    "amount_in": (
        "记账金额(收入)",
        "收入金额（+元）",
        "收入金额",
        "贷方发生额",
        "贷方金额",
        "贷方",
        "收入",
        "存入",
        "credit",
    ),
    "amount_out": (
        "记账金额(支出)",
        "支出金额（-元）",
        "支出金额",
        "借方发生额",
        "借方金额",
        "借方",
        "支出",
        "支取",
        "debit",
    ),
    "direction": ("收/支", "收支", "收/付", "借贷标志", "借贷", "资金流向", "方向", "direction"),
    "counterparty": (
        "交易对方",
        "对方户名",
        "对方名称",
        "对方账户名",
        "对手信息",
        "付款人",
        "付款方",
        "用户标识",
        "对方账号",
        "counterparty",
        "payer",
    ),
    "memo": (
        "商品",
        "商品名称",
        "商品说明",
        "商户数据包",
        "备注",
        "附言",
        "交易附言",
        "交易摘要",
        "客户摘要",
        "摘要",
        "用途",
        "交易备注",
        "memo",
        "remark",
    ),
    "ref": (
        "交易单号",
        "微信订单号",
        "交易号",
        "交易订单号",
        "业务流水号",
        "账务流水号",
        "交易流水号",
        "柜员流水号",
        "流水号",
        "凭证号",
        "交易参考号",
        "transaction id",
        "reference",
    ),
    "status": ("当前状态", "交易状态", "状态", "status"),
    "refunded": ("退款金额", "成功退款", "refund"),
    "kind": ("交易类型", "类型", "交易分类", "业务类型"),
    "balance": ("联机余额", "账户余额", "余额", "balance"),
}
MULTI = frozenset({"memo"})
INCOMING = {norm_header(w) for w in ("收入", "收", "贷", "入", "income", "credit", "in", "已收入")}
OUTGOING = {norm_header(w) for w in ("支出", "支", "借", "出", "expense", "debit", "out")}
REFUND = re.compile(r"退款|退还|REFUND", re.IGNORECASE)
BAD_STATUS = re.compile(r"退款|关闭|失败|撤销|已退还|REFUND|REVOKED|CLOSED|FAIL", re.IGNORECASE)
SUMMARY = re.compile(
    r"^(总交易单数|总计|(?:人民币|本币|外币|本页|本期|借方|贷方)?合计|小计|本页|共\s*\d+\s*笔|#|-{3,}"
    r"|导出时间|注[:：])"
)


@dataclass
class Profile:
    name: str
    channel: str  # the payment channel the lines become: wechat, alipay or bank
    columns: dict[str, str | list[str]] = field(default_factory=dict)  # field -> header(s)
    date_format: str = ""  # strptime format when dates are not ISO-like
    skip: list[str] = field(default_factory=list)  # regexes of lines to skip


BUILT_IN = {
    "wechat": Profile("wechat", "wechat"),
    "alipay": Profile("alipay", "alipay"),
    "bank": Profile("bank", "bank"),
}


def load_profile(name: str, *, beside: Path | None = None) -> Profile | None:
    """``auto`` (None), a built-in profile, a TOML file, or ``profiles/NAME.toml`` beside the
    database."""
    if name == "auto":
        return None
    if name in BUILT_IN:
        return BUILT_IN[name]
    path = Path(name)
    if not path.suffix and beside is not None:
        path = beside / "profiles" / f"{name}.toml"
    if not path.is_file():
        known = ", ".join(["auto", *BUILT_IN])
        raise FileFormatError(
            _("no statement profile {name} (built in: {known}; or a .toml file)").format(
                name=repr(name), known=known
            )
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        raise FileFormatError(
            _("profile {path}: not valid TOML ({error})").format(path=path, error=exc)
        ) from None
    unknown = set(data) - {"name", "channel", "columns", "format"}
    if unknown:
        raise FileFormatError(
            _("profile {path}: unknown key {key}").format(path=path, key=sorted(unknown)[0])
        )
    columns = data.get("columns") or {}
    bad = set(columns) - set(FIELDS)
    if bad:
        raise FileFormatError(
            _("profile {path}: unknown field {field} (fields: {fields})").format(
                path=path, field=repr(sorted(bad)[0]), fields=", ".join(FIELDS)
            )
        )
    fmt = data.get("format") or {}
    channel = data.get("channel", "bank")
    if channel not in ("wechat", "alipay", "bank", "pos", "autodebit", "other"):
        raise FileFormatError(
            _("profile {path}: channel {channel} is not a payment channel").format(
                path=path, channel=repr(channel)
            )
        )
    return Profile(
        data.get("name", path.stem),
        channel,
        columns,
        fmt.get("date", ""),
        list(fmt.get("skip", [])),
    )


# ---------------------------------------------------------------- reading


@dataclass(slots=True)
class Line:
    row: int
    sheet: str
    day: date
    amount_fen: int  # positive: money in
    counterparty: str
    memo: str
    ref: str
    status: str
    flag: str = ""  # "refund": money paid back; "failed": closed, revoked or failed
    doubt: str = ""  # why the line goes to review whatever its memo says


@dataclass
class Parsed:
    file: str
    channel: str
    lines: list[Line]  # incoming lines
    ignored: dict[str, int]  # reason -> count
    refunds: list[Line] = field(default_factory=list)  # refunded, closed or failed lines
    skipped: dict[int, str] = field(default_factory=dict)  # row -> why it is not a payment


def _clean(value: object) -> str:
    """Statement cells: tab-padded ids, backtick-prefixed merchant fields, stray spaces."""
    text = cells.text(value)
    return text.strip().strip("`").strip("\t").strip()


#: a cell beginning or ending with one of these may lose it to ``_clean``
_EDGE = ("`", "'")


def _plain(value: str) -> str | None:
    """What ``_clean`` makes of the usual statement cell, told at once: the cell itself when
    it has nothing to take off, or without the tab a payment app puts after its numbers;
    None for any other (``_clean`` reads it)."""
    core = value[:-1] if value[-1:] == "\t" else value
    if core[:1] not in _EDGE and core[-1:] not in _EDGE and cells.plainly_tidy(core):
        return core
    return None


class _Cleaner(dict):
    """``_clean`` for the cells of one statement, each text cleaned once: most columns
    (type, in/out, status, method) hold the same few texts on every line. ``cleaner[value]``
    looks a text up (a miss cleans it); up to LIMIT texts are kept. Only texts are kept: a
    number is never equal to a text, so a number looked up is cleaned each time (1 and 1.0
    are equal keys but may read differently)."""

    LIMIT = 4096

    def __missing__(self, value: object) -> str:
        text = _plain(value) if type(value) is str else None
        if text is None:
            text = _clean(value)
        if type(value) is str and len(self) < self.LIMIT:
            self[value] = text
        return text

    def __call__(self, value: object) -> str:
        return self[value]


def read_statement(path: Path, profile: Profile | None) -> Parsed:
    """A statement's incoming lines, refunds and what it ignored, sheet by sheet, read by the
    profile's headers (or recognised by their aliases)."""
    sheets = read_sheets(path)
    reader = _StatementReader(path, profile)
    for sheet in sheets:
        reader.read_sheet(sheet)
    return reader.parsed()


class _StatementReader:
    """Reads the sheets of one statement file into its lines."""

    def __init__(self, path: Path, profile: Profile | None):
        self.path = path
        self.profile = profile
        self.explicit = {}
        if profile is not None:
            for name, headers in profile.columns.items():
                for header in [headers] if isinstance(headers, str) else headers:
                    self.explicit[norm_header(header)] = name
        self.index = alias_index(FIELDS)
        self.errors: list[RowError] = []
        self.lines: list[Line] = []
        self.refunds: list[Line] = []
        self.ignored: dict[str, int] = {}
        self.skipped: dict[int, str] = {}
        self.channel = profile.channel if profile is not None else None
        self.found = False
        self.seen: list[str] = []  # the likeliest header row, for the error when none is found
        self.identity: lineid.BankIdentity | None = None  # a bank statement without serials
        self.labels: dict[str, str] = {}

    def read_sheet(self, sheet) -> None:
        """One sheet: find its header row, check what kind of export it is, read its lines."""
        stream = sheet.rows()
        head = list(itertools.islice(stream, 40))
        rows = itertools.chain(head, stream)
        match = find_header(
            head,
            self.index,
            self.explicit,
            first_column=sheet.first_column,
            multi=MULTI,
            is_identity=_has_money,
        )
        if match is None:
            texts = max(
                ([_clean(c) for c in row if _clean(c)] for _, row in head), key=len, default=[]
            )
            if len(texts) > len(self.seen):
                self.seen = texts
            return
        self.found = True
        _refuse_one_column_read_twice(self.path, match)
        self._check_kind(head, match)
        self._read_rows(rows, match, sheet)

    def _check_kind(self, head: list, match) -> None:
        """The sheet has a transaction-number column (or is a bank statement whose lines get
        an identity from their own fields) and is the kind of export the profile says (the
        channel comes from it when no profile names one)."""
        path, profile = self.path, self.profile
        signature = _signature(head, match)
        if profile is not None and signature is not None and signature != profile.channel:
            raise FileFormatError(
                _(
                    "{file}: this is a {app} export (by its title and headers); --profile "
                    "{profile} would record its money as {channel} and again when it is read as "
                    "{signature}. Use --profile auto (or {signature})"
                ).format(
                    file=path.name,
                    app=channel_label(signature),
                    profile=profile.name,
                    channel=profile.channel,
                    signature=signature,
                )
            )
        if self.channel is None:
            self.channel = signature or _detect(head, match)
        if "ref" in match.columns:
            return
        if self.channel is not None and self.channel not in UNIQUE_REFS:
            above = " ".join(_clean(c) for number, row in head if number < match.row for c in row)
            self.identity = lineid.BankIdentity(lineid.account_in(above))
            return
        raise FileFormatError(
            _(
                "{file}: no transaction-number column (such as 交易单号, 交易流水号, 流水号, "
                '凭证号); headers found: {headers}. Name it in a profile file: [columns] ref = "…" '
                "(for a bank statement without serial numbers use --profile bank)"
            ).format(file=path.name, headers=", ".join(_headers(match)))
        )

    def _read_rows(self, rows, match, sheet) -> None:
        """The lines under the header row, each an incoming line, a refund, ignored or an
        error, up to the summary block of a payment-app export. A line missing a column it
        needs is an error (a file cut short), and so is a last line cut inside a value."""
        cols = {name: c.index for name, c in match.columns.items()}
        memos = [match.columns["memo"].index] if "memo" in match.columns else []
        memos += [c.index for c in match.extra.get("memo", [])]
        self.labels = {name: c.label for name, c in match.columns.items()}
        skips = [re.compile(p) for p in (self.profile.skip if self.profile else [])]
        width = max(cols.values()) + 1
        names = list(cols)
        pick = operator.itemgetter(*cols.values()) if len(cols) > 1 else _one(cols)
        shapes = _Shapes() if sheet.cut else None  # the last line is judged by them
        clean = _Cleaner()
        last = None
        headers = 0
        for number, row in rows:
            if number <= match.row:
                if number == match.row:
                    headers = max((i + 1 for i, c in enumerate(row) if _clean(c)), default=0)
                continue
            row = [clean[v] for v in row]  # every cell cleaned once
            got = (
                dict(zip(names, pick(row), strict=True))
                if len(row) >= width
                else {name: (row[i] if i < len(row) else "") for name, i in cols.items()}
            )
            first = row[0] if row and row[0] else next((c for c in row if c), "")
            if first.startswith("总交易单数") or (
                first.startswith(("共", "-----")) and not got.get("date")
            ):
                break  # the summary block under a payment-app export
            if not first or SUMMARY.match(first) or (skips and any(p.search(first) for p in skips)):
                last = None
                continue
            if not any(got.values()):
                last = None
                continue
            last = (number, got, len(row))
            if len(row) < width:
                self._row_error(sheet.name, number, _first_missing(cols, len(row)), "", _(_SHORT))
                continue
            self._take_row(got, row, memos, number, sheet.name, shapes)
        if sheet.cut and last is not None:
            self._check_cut(sheet.name, last, headers, shapes)

    def _check_cut(self, sheet: str, last: tuple, headers: int, shapes) -> None:
        """The last line of a file without a final line break: every column there, and no
        value unlike the same column on every other line (a value cut short)."""
        number, got, cells_ = last
        if cells_ < headers:
            if not any(e.row == number for e in self.errors):
                self._row_error(sheet, number, "", "", _(_SHORT))
            return
        for name, value, usual in shapes.odd(number, got):
            self._row_error(sheet, number, name, value, _cut_message(value, usual))

    def _take_row(self, got, row, memos, number: int, sheet: str, shapes) -> None:
        try:
            line = _line(got, row, memos, number, sheet, self.profile, "direction" in got)
        except InvalidValue as exc:
            field_ = re.split(r"[:：]", str(exc), maxsplit=1)[0].strip()
            self._row_error(sheet, number, field_, "", str(exc))
            return
        if isinstance(line, Line):
            if shapes is not None:
                shapes.add(number, got)
            if self.identity is not None:
                balance = _balance(got.get("balance", ""))
                line.ref, count = self.identity(
                    line.day,
                    lineid.clock_in(got.get("date", "")),
                    line.amount_fen,
                    balance,
                    line.counterparty,
                    line.memo,
                )
                if count > 1 and balance:
                    line.doubt = _(
                        "the same as an earlier line of this file (the balance {balance} too): "
                        "two real payments never leave the same balance, so this is most likely "
                        "a repeated line; if it is another payment, confirm it"
                    ).format(balance=got["balance"])
        self._keep(line, number)

    def _row_error(self, sheet: str, number: int, field_: str, value: str, message: str) -> None:
        column = self.labels.get(field_, field_)
        self.errors.append(RowError(self.path.name, sheet, number, column, value, message))

    def _keep(self, line: Line | str | None, number: int) -> None:
        if line is None:
            return
        if isinstance(line, str):
            self.ignored[line] = self.ignored.get(line, 0) + 1
            self.skipped[number] = line
            return
        if line.flag:
            self.refunds.append(line)
            self.skipped[number] = REFUNDED_OR_FAILED
            return
        self.lines.append(line)

    def parsed(self) -> Parsed:
        """What was read; an error when no sheet had a header, a line was bad, or the kind
        of export is unknown."""
        path, profile = self.path, self.profile
        if not self.found:
            missing = _missing(self.seen, self.index, self.explicit)
            where = (
                _("headers found: {headers}").format(headers=", ".join(self.seen[:20]))
                if self.seen
                else _("no header row")
            )
            hint = (
                _('name the columns in a profile file ([columns] {field} = "…")').format(
                    field=missing[0]
                )
                if profile is not None
                else _("for a bank statement give --profile bank or a profile file")
            )
            raise FileFormatError(
                _("{file}: no statement header found").format(file=path.name)
                + (
                    _(" with --profile {profile}").format(profile=profile.name)
                    if profile is not None
                    else ""
                )
                + _(": no {fields} column ({where}); {hint}").format(
                    fields=_(" or ").join(_(_FIELD_NAMES[m]) for m in missing),
                    where=where,
                    hint=hint,
                )
            )
        if self.errors:
            raise RowErrors(self.errors)
        if self.channel is None:
            raise FileFormatError(
                _(
                    "{file}: not recognisably a WeChat Pay or Alipay export; give --profile bank "
                    "(or wechat, alipay, or a profile file)"
                ).format(file=path.name)
            )
        return Parsed(path.name, self.channel, self.lines, self.ignored, self.refunds, self.skipped)


_FIELD_NAMES = {
    "date": N_("date (交易日期, 交易时间, 记账日期)"),
    "amount": N_("amount (金额, 交易金额, 贷方/收入)"),
    "amount_in": N_("amount (金额, 交易金额, 贷方/收入)"),
}

#: why a statement line is not recorded (keys of ``ignored``, kept in English for JSON;
#: shown through ``_()``)
REFUNDED_OR_FAILED = N_("refunded or failed")
IGNORED_REASONS = (
    N_("zero"),
    N_("outgoing"),
    N_("not income"),
    REFUNDED_OR_FAILED,
    N_("refund, receipt already reversed"),
    N_("reversed earlier (confirm to record again)"),
)


def _missing(headers: list[str], index, explicit) -> list[str]:
    """The required fields (date, amount) that a header row lacks."""
    fields = {hit[0] for h in headers if (hit := lookup(h, index, explicit))}
    missing = [] if "date" in fields else ["date"]
    if not fields & {"amount", "amount_in"}:
        missing.append("amount")
    return missing or ["date"]


def _headers(match) -> list[str]:
    columns = sorted(match.columns.values(), key=lambda c: c.index)
    return [c.header for c in columns] + list(match.ignored)


_SHORT = N_(
    "this line lacks its last fields: was the file cut short here? Export the whole file again "
    "(nothing was recorded this time)"
)


def _one(cols: dict[str, int]):
    """An itemgetter's tuple for a single column."""
    (index,) = cols.values()
    return lambda row: (row[index],)


def _first_missing(cols: dict[str, int], have: int) -> str:
    """The first column a short row lacks."""
    return min((i, name) for name, i in cols.items() if i >= have)[1]


def _cut_message(value: str, usual: str) -> str:
    return _(
        "the file's last line has no line break and its value “{value}” differs from every other "
        "line ({usual}): was the file cut short here? Export the whole file again (nothing was "
        "recorded this time)"
    ).format(value=value, usual=usual)


_DECIMALS = re.compile(r"\.(\d+)\s*$")


@functools.lru_cache(maxsize=4096)
def _decimals(value: str) -> int:
    """A money text's number of decimals (-1: none); the same few amounts recur."""
    found = _DECIMALS.search(value)
    return len(found.group(1)) if found else -1


class _Shapes:
    """What the values of the money, reference and date columns look like on the lines read,
    to tell a last line cut inside a value (``1234.56`` cut to ``123``) from a whole one.
    A shape is counted as a small key (its length, or its number of decimals) and put into
    words only for the message."""

    FIELDS = ("amount", "amount_in", "amount_out", "ref", "date")

    def __init__(self) -> None:
        self.seen: dict[str, dict[int, int]] = {name: {} for name in self.FIELDS}
        self.last = -1  # the row counted last

    @staticmethod
    def key(name: str, value: str) -> int:
        """A text's length (reference, date) or its number of decimals (money; -1: none)."""
        if name == "ref" or name == "date":
            return len(value)
        return _decimals(value)

    @staticmethod
    def words(name: str, key: int) -> str:
        if name == "ref" or name == "date":
            return _("{n} characters").format(n=key)
        return _("{n} decimals").format(n=key) if key >= 0 else _("no decimals")

    def add(self, number: int, got: dict) -> None:
        self.last = number
        for name, shapes in self.seen.items():
            value = got.get(name)
            if value and not cells.is_blank(value):
                key = len(value) if name == "ref" or name == "date" else _decimals(value)
                shapes[key] = shapes.get(key, 0) + 1

    def odd(self, number: int, got: dict) -> list[tuple[str, str, str]]:
        """(field, value, what every other line has) for each value of the last line unlike
        the same column on every other line."""
        mine = self.seen
        if number == self.last:  # take the last line out of the counts
            mine = {k: dict(v) for k, v in self.seen.items()}
            for name in self.FIELDS:
                value = got.get(name, "")
                if value and not cells.is_blank(value):
                    mine[name][self.key(name, value)] -= 1
        odd = []
        for name in self.FIELDS:
            value = got.get(name, "")
            usual = [k for k, n in mine.get(name, {}).items() if n > 0]
            blank = not value or cells.is_blank(value)
            if not blank and len(usual) == 1 and self.key(name, value) != usual[0]:
                shape = self.words(name, usual[0])
                odd.append((name, value, _("all {shape}").format(shape=shape)))
        return odd


def _refuse_one_column_read_twice(path: Path, match) -> None:
    """Two headers that read as one column (记账金额(收入) and 记账金额(支出) named alike):
    an error naming both, never one of them read for the other."""
    for name, column in match.columns.items():
        if column.index < 0:
            raise FileFormatError(
                _(
                    "{file}: the header {header} would be read as the same column ({field}): "
                    "name each in the profile file's [columns], or delete one of them"
                ).format(
                    file=path.name, header=column.header, field=_(_FIELD_LABELS.get(name, name))
                )
            )


_FIELD_LABELS = {
    "date": N_("Date"),
    "amount": N_("Amount"),
    "amount_in": N_("Amount in"),
    "amount_out": N_("Amount out"),
    "ref": N_("Transaction no."),
    "counterparty": N_("Counterparty"),
    "direction": N_("In/out"),
    "status": N_("Status"),
    "balance": N_("Balance"),
}


def _balance(text: str) -> str:
    """A balance cell as fen (as text), however a spreadsheet wrote it; else as written."""
    if not text or cells.is_blank(text):
        return ""
    try:
        return str(parse_money(text, allow_zero=True, allow_negative=True))
    except InvalidValue:
        return text


def _has_money(fields: set[str]) -> bool:
    return bool(fields & {"amount", "amount_in"}) and "date" in fields


def _signature(head: list, match) -> str | None:
    """WeChat or Alipay by what only their exports carry: the title above the header
    (微信支付账单, 支付宝…) or their own header sets. Data lines are not read: a bank memo
    that says 微信转账 does not make a bank statement a WeChat export."""
    above = " ".join(_clean(c) for number, row in head if number < match.row for c in row)
    header_row = next((row for number, row in head if number == match.row), [])
    headers = {norm_header(_clean(c)) for c in header_row if _clean(c)}

    def has(*names: str) -> bool:
        return {norm_header(n) for n in names} <= headers

    wechat = "微信支付" in above or has("微信订单号") or has("交易单号", "商户单号")
    alipay = (
        "支付宝" in above
        or "alipay" in above.lower()
        or has("交易号", "商户订单号")
        or has("交易订单号", "商家订单号")
        or has("账务流水号", "业务流水号")
    )
    if wechat == alipay:
        return None
    return "wechat" if wechat else "alipay"


def _detect(head: list, match) -> str | None:
    """WeChat or Alipay, by the export's preamble and headers."""
    text = " ".join(_clean(c) for _, row in head for c in row)
    headers = {norm_header(c.header) for c in match.columns.values()}
    if (
        "微信" in text
        or {"微信订单号"} & headers
        or {"交易单号", "商户单号"} <= set(norm_header(_clean(c)) for _, row in head for c in row)
    ):
        return "wechat"
    if (
        "支付宝" in text
        or "alipay" in text.lower()
        or headers & {norm_header(h) for h in ("交易号", "交易订单号", "账务流水号", "业务流水号")}
    ):
        return "alipay"
    return None


def _no_amount(got: dict) -> InvalidValue:
    where = "amount" if "amount" in got else "amount_in"
    return InvalidValue(
        f"{where}: "
        + _(
            "the amount is empty (a formula saved without its result, or an incomplete line): "
            "open the file in Excel and save it again, or export it again"
        )
    )


@functools.lru_cache(maxsize=4096)
def _fen(text: str, what: str) -> int:
    """A statement's money cell as fen (the same few amounts recur on many lines: each text
    is read once)."""
    return parse_money(text, what=what, allow_zero=True, allow_negative=True)


#: ``2026-11-02 10:00:00`` (or the day alone): what WeChat Pay and Alipay write on every line
_ISO_STAMP = re.compile(r"(\d{4})-(\d\d)-(\d\d)(?:[ T]\d\d:\d\d(?::\d\d)?)?", re.ASCII)


def _day(text: str) -> date | None:
    """A statement's date cell, as ``cells.parse_date`` reads it: the usual ISO stamp read at
    once, anything else (and a date that does not exist) by the general parser."""
    if _ISO_STAMP.fullmatch(text) is not None:
        with contextlib.suppress(ValueError):
            return _iso_day(text[:10])
    return cells.parse_date(text)


@functools.lru_cache(maxsize=1024)
def _iso_day(text: str) -> date:
    """``2026-11-02`` as a date, one object for the lines of a day."""
    return date(int(text[:4]), int(text[5:7]), int(text[8:10]))


@functools.lru_cache(maxsize=256)
def _refund_text(text: str) -> bool:
    """Whether a status or type says refund (a column of a few texts: each read once)."""
    return bool(REFUND.search(text))


@functools.lru_cache(maxsize=256)
def _bad_status(status: str) -> bool:
    """Whether a status says closed, revoked, failed or refunded (each text read once)."""
    return bool(BAD_STATUS.search(status))


#: the in/out column's few texts, each normalised once
_direction = functools.lru_cache(maxsize=256)(norm_header)


def _line(
    got: dict,
    row: list,
    memos: list[int],
    number: int,
    sheet: str,
    profile: Profile | None,
    has_direction: bool,
) -> Line | str | None:
    """One statement line: an incoming Line, a flagged Line (a refund, or a payment that
    was closed or failed: reconcile matches it with what was recorded), or why it is ignored."""
    direction = _direction(got.get("direction", ""))
    status = sys.intern(got.get("status", ""))  # a few texts on many lines: each held once
    refund = _refund_text(status) or _refund_text(got.get("kind", ""))
    amount_text = got.get("amount", "")
    fen = 0
    flag = ""
    if got.get("amount_in") or got.get("amount_out"):
        incoming = got.get("amount_in", "")
        if incoming and not cells.is_blank(incoming):
            fen = _fen(incoming, "amount_in")
        if fen <= 0:
            outgoing = got.get("amount_out", "")
            if outgoing in ("", "0", "0.00"):
                return "zero"
            if not refund:
                return "outgoing"
            fen = abs(_fen(outgoing, "amount_out"))
            flag = "refund"
    elif amount_text:
        fen = _fen(amount_text, "amount")
        if direction in OUTGOING or fen < 0:
            if not refund:
                return "outgoing"
            fen, flag = abs(fen), "refund"
        elif has_direction and direction not in INCOMING:
            if not refund:
                return "not income"
            flag = "refund"
    else:
        raise _no_amount(got)
    if fen == 0:
        return "zero"
    if not flag and status and _bad_status(status):
        flag = "refund" if refund else "failed"
    if flag == "refund":
        back = got.get("refunded", "")
        if back and not cells.is_blank(back):
            with contextlib.suppress(InvalidValue):  # a broken refund cell: the line's amount
                fen = abs(parse_money(back, allow_zero=True, allow_negative=True)) or fen
    raw_day = got.get("date", "")
    try:
        if profile is not None and profile.date_format:
            day = datetime.strptime(raw_day.strip(), profile.date_format).date()
        else:
            day = _day(raw_day)
    except (ValueError, InvalidValue) as exc:
        if flag:
            return REFUNDED_OR_FAILED
        raise InvalidValue(f"date: {exc}") from None
    if day is None:
        if flag:
            return REFUNDED_OR_FAILED
        raise InvalidValue("date: " + _("the line has no date"))
    width = len(row)
    memo = " ".join([row[i] for i in memos if i < width and row[i]])  # cells cleaned
    return Line(
        number,
        sheet,
        day,
        fen,
        got.get("counterparty", ""),
        memo,
        got.get("ref", ""),
        status,
        flag,
    )


# ---------------------------------------------------------------- matching

_CODE_TOKEN = re.compile(r"[0-9A-Za-z]+(?:\s*[-_#/]\s*[0-9A-Za-z]+)+|[0-9A-Za-z]*\d[0-9A-Za-z]*")
_CN_PLACE = re.compile(
    r"([0-9A-Za-z]+)\s*(?:#楼|#|号楼|栋|幢|座)\s*(?:([0-9A-Za-z]+)\s*单元)?\s*([0-9A-Za-z]+)\s*(?:室|号)?"
)
#: a memo without one of these cannot hold a _CN_PLACE (the pattern is not tried on it)
_CN_PLACE_MARKS = re.compile(r"#|号楼|栋|幢|座")
_ALNUM = re.compile(r"[0-9A-Za-z]+")
_SPACE_RUN = re.compile(r"\s+")
_CODE_SEPARATORS = re.compile(r"[_#/]")
_PHONE = re.compile(r"1[3-9]\d{9}")


class CodeFinder:
    """Finds the unit codes a memo names: ``1-1-1001``, ``1－1－1001``, ``1栋1单元1001``,
    ``A座-1201``, ``1-1-b01`` for ``1-1-B01`` … A code found inside a longer one (1-1-10 in
    1-1-1001) does not count."""

    def __init__(self, known: set[str] | dict[str, str]):
        # code -> the same code: a code found is the roster's own string, not a new one
        self.known = known if isinstance(known, dict) else dict(zip(known, known, strict=True))
        folded: dict[str, str | None] = {}
        for code in known:  # letter case tells no two units apart: such codes never fold
            key = code.lower()
            folded[key] = None if key in folded else code
        self.folded = {k: v for k, v in folded.items() if v is not None and k != v}

        self.by_token: dict[str, list[str]] = {}  # codes with Chinese characters, by a token
        for code in known:
            if not code.isascii():
                tokens = _ALNUM.findall(code)
                key = max(tokens, key=len) if tokens else code
                self.by_token.setdefault(key, []).append(code)

    def canonical(self, candidate: str) -> str | None:
        """The roster's code for a candidate, in any letter case; None if it is none."""
        code = self.known.get(candidate)
        if code is not None:
            return code
        return self.folded.get(candidate.lower())

    def __call__(self, text: str) -> list[str]:
        text = unicodedata.normalize("NFKC", text)
        found: list[str] = []
        places = _CN_PLACE.finditer(text) if _CN_PLACE_MARKS.search(text) else ()
        for match in places:
            parts = [p for p in match.groups() if p]
            for candidate in ("-".join(parts), match.group(0).replace(" ", "")):
                code = self.canonical(candidate)
                if code is not None and code not in found:
                    found.append(code)
        for token in _CODE_TOKEN.findall(text):
            # printable: no whitespace but the plain space (most tokens have none to take out)
            plain = token if token.isprintable() and " " not in token else _SPACE_RUN.sub("", token)
            for candidate in (plain, _CODE_SEPARATORS.sub("-", plain)):
                code = self.canonical(candidate)
                if code is not None and code not in found:
                    found.append(code)
                    break
        if self.by_token:
            for token in _ALNUM.findall(text):
                for code in self.by_token.get(token, ()):
                    if code in text and code not in found:
                        found.append(code)
        if len(found) < 2:
            return found
        return [c for c in found if not any(c != o and c in o for o in found)]


def codes_in(text: str, known: set[str]) -> list[str]:
    """The unit codes a memo names (see CodeFinder)."""
    return CodeFinder(known)(text)


@dataclass
class Review:
    line: Line
    reason: str
    candidates: list[str]
    conflict: bool = False  # its reference is held by a payment that does not agree with it


@dataclass
class Refund:
    """A refund (or a closed / failed transaction) whose payment is recorded: the receipt to
    reverse. Never reversed automatically: the reversal is the user's act, with a reason."""

    line: Line
    receipt: str
    unit: str
    paid_fen: int  # what the receipt holds; line.amount_fen is what was paid back

    @property
    def action(self) -> str:
        what = _("refund") if self.line.flag == "refund" else _("not completed")
        text = _("{what}: reverse receipt {receipt}").format(what=what, receipt=self.receipt)
        if self.line.flag == "refund" and self.line.amount_fen < self.paid_fen:
            text += _(" and record the {amount} kept again (a partial refund)").format(
                amount=format_money(self.paid_fen - self.line.amount_fen)
            )
        return text


@dataclass
class ReconcileReport:
    file: str
    channel: str
    recorded: list[tuple[Line, str, str]] = field(default_factory=list)  # line, unit, receipt
    already: int = 0
    review: list[Review] = field(default_factory=list)
    ignored: dict[str, int] = field(default_factory=dict)
    refunds: list[Refund] = field(default_factory=list)  # recorded payments paid back
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def recorded_fen(self) -> int:
        return sum(line.amount_fen for line, _, _ in self.recorded)

    @property
    def conflicts(self) -> int:
        """Lines for review whose reference a payment that does not agree with them holds."""
        return sum(1 for r in self.review if r.conflict)


def reconcile(
    conn: sqlite3.Connection,
    path: Path,
    *,
    profile: Profile | None,
    as_of: date,
    now: datetime,
    settings,
    confirm: dict[str, str] | None = None,
    review_in: Path | None = None,
    review_out: Path | None = None,
    dry_run: bool = False,
    progress=None,
) -> ReconcileReport:
    """Read a statement and record its incoming lines as payments, as one transaction. The
    review file (``review_out``) is written before the commit, so when it cannot be written
    nothing is recorded."""
    if review_out is not None:
        check_output(review_out, "--review-out")
    with no_gc():  # lines and payments make no cycles (see core/gcpause)
        return _reconcile(
            conn,
            path,
            profile=profile,
            as_of=as_of,
            now=now,
            settings=settings,
            confirm=confirm,
            review_in=review_in,
            review_out=review_out,
            dry_run=dry_run,
            progress=progress,
        )


def _reconcile(
    conn: sqlite3.Connection,
    path: Path,
    *,
    profile: Profile | None,
    as_of: date,
    now: datetime,
    settings,
    confirm: dict[str, str] | None,
    review_in: Path | None,
    review_out: Path | None,
    dry_run: bool,
    progress,
) -> ReconcileReport:
    parsed = read_statement(path, profile)
    report = ReconcileReport(
        parsed.file, parsed.channel, ignored=dict(parsed.ignored), dry_run=dry_run
    )
    confirmed = dict(confirm or {})
    _check_confirm(confirmed, parsed)
    from_review: dict[int, str] = {}
    if review_in is not None:
        from_review, report.warnings = _match_review(read_review(review_in), parsed, review_in.name)
    with transaction(conn, dry_run=dry_run):
        chosen = [
            confirmed.get(str(line.row)) or confirmed.get(line.ref) or from_review.get(line.row)
            for line in parsed.lines
        ]
        run = _Recording(conn, parsed, report, chosen, settings=settings, now=now, as_of=as_of)
        for done, line in enumerate(parsed.lines, start=1):
            if progress is not None and done % 2000 == 0:
                progress(done, len(parsed.lines))
            run.take(line, chosen[done - 1], run.named[done - 1])
        _match_refunds(parsed, run.holders, run.gone, report)
        if run.errors:
            raise RowErrors(run.errors)
        run.batch.flush()
        if review_out is not None:
            write_review(report, review_out)
    if progress is not None:
        progress(len(parsed.lines), len(parsed.lines))
    return report


class _Recording:
    """The statement's incoming lines taken one by one, inside the reconcile's transaction:
    recorded as payments (in one batch), skipped as already recorded, listed for review, or
    refused as errors."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        parsed: Parsed,
        report: ReconcileReport,
        chosen: list[str | None],
        *,
        settings,
        now: datetime,
        as_of: date,
    ):
        self.parsed = parsed
        self.report = report
        self.as_of = as_of
        codes = store.every_unit_code(conn)  # in the order of their ids
        self.known = dict(zip(codes, codes, strict=True))
        self.find_codes = CodeFinder(self.known)
        #: the codes each line's memo names (one code as itself, held once with the roster's):
        #: the units paid are read for these alone
        self.named = [_one_or_all(self.find_codes(line.memo)) for line in parsed.lines]
        paid = {found for found in self.named if type(found) is str}
        paid.update(self._confirmed(unit) for unit in chosen if unit is not None)
        self.batch = PaymentBatch(conn, settings=settings, now=now, as_of=as_of, codes=paid)
        self.source = f"reconcile {parsed.file}"  # one text for every payment
        refs = _refs_of(parsed)
        # ref -> payments holding it (not reversed), every channel; of this file's refs only
        self.held = held_refs(conn, refs)
        self.fresh: dict[str, HeldRef | list[HeldRef]] = {}  # ref -> recorded in this run
        #: the refs asked about again after a line holding them is recorded: those of two
        #: lines or more, and those of refunds (a ref on one line only is never looked up
        #: again, so the run keeps nothing for it)
        self.asked_again = _asked_again(parsed)
        self.gone = held_refs(conn, refs, reversed_=True)  # ref -> reversed payments
        self.finder = _Candidates(conn)
        self.errors: list[RowError] = []
        self.lookalikes = _Lookalikes(conn, parsed)

    def error(self, line: Line, column: str, value: str, message: str) -> None:
        self.errors.append(RowError(self.parsed.file, line.sheet, line.row, column, value, message))

    def _confirmed(self, chosen: str) -> str:
        """The roster's code for a unit a user confirmed, in any letter case (else as given)."""
        return self.find_codes.canonical(cells.unit_code(chosen)) or cells.unit_code(chosen)

    def take(self, line: Line, chosen: str | None, named: str | list[str]) -> None:
        """One incoming line, with the unit a user confirmed for it (if any) and the codes its
        memo names."""
        named = [named] if type(named) is str else named
        report, channel = self.report, self.parsed.channel
        if not line.ref:
            self.error(
                line, _("Transaction no."), "", _("an incoming line without a transaction number")
            )
            return
        if self._damaged(line, chosen, named):
            return
        found: list[str] = []
        unit: str | None = None
        if chosen is not None:
            unit = self._confirmed(chosen)
            if unit not in self.known:
                self.error(
                    line,
                    "",
                    chosen,
                    _("confirmed as unit {unit}, which is not on record").format(unit=repr(chosen)),
                )
                return
        else:
            found = named
            unit = found[0] if len(found) == 1 else None
        clash = _held_elsewhere(line, unit, channel, self.holders(line.ref))
        if clash == "already":
            report.already += 1
            return
        if self._impossible_day(line):
            return
        if clash is None and chosen is None and _same(line, unit, channel, self.gone):
            # the user reversed this very line (a refund, a wrong payment): recording it
            # again would undo that; a --confirm records it again on purpose
            why = IGNORED_REASONS[-1]
            report.ignored[why] = report.ignored.get(why, 0) + 1
            return
        if clash is not None:
            reason, confirmable, holder = clash
            if chosen is None or not confirmable:
                if chosen is not None:
                    self.error(
                        line,
                        _("Transaction no."),
                        line.ref,
                        _("cannot be confirmed: {reason}").format(reason=reason),
                    )
                else:
                    report.review.append(Review(line, reason, [holder], conflict=True))
                return
        if line.doubt and chosen is None:
            report.review.append(Review(line, line.doubt, [unit] if unit else []))
            return
        twin = self.lookalikes.twin(line) if chosen is None else None
        if twin is not None:
            report.review.append(Review(line, twin[0], [twin[1]], conflict=True))
            return
        if self._held_back(line, unit, chosen, found):
            return
        self._record(line, unit)

    def _damaged(self, line: Line, chosen: str | None, named: list[str]) -> bool:
        """Whether the line's transaction number is not what the channel issued (a spreadsheet
        rewrote it): an error when confirmed, else a line for review."""
        damage = lineid.ref_damage(line.ref, self.parsed.channel)
        if damage is None:
            return False
        if chosen is not None:
            self.error(
                line,
                _("Transaction no."),
                line.ref,
                _("cannot be confirmed: {damage}; use the original export").format(damage=damage),
            )
        else:
            why = _(
                "{damage}; reconcile with the original export (this line was not recorded)"
            ).format(damage=damage)
            self.report.review.append(Review(line, why, list(named)))
        return True

    def _impossible_day(self, line: Line) -> bool:
        """Whether the line's day is after --as-of or before any statement could be (an
        error either way)."""
        if line.day > self.as_of:
            why = _("after {day} (--as-of)").format(day=self.as_of)
        elif line.day < EARLIEST:
            why = _("before {day}: not a possible date").format(day=EARLIEST)
        else:
            return False
        self.error(line, _("Transaction time"), line.day.isoformat(), why)
        return True

    def _held_back(self, line: Line, unit: str | None, chosen: str | None, found: list) -> bool:
        """Whether a line too large for one payment, or naming no single unit, goes to
        review (or is an error when confirmed) instead of being recorded."""
        if line.amount_fen > MAX_PAYMENT_FEN:
            if chosen is not None:
                self.error(
                    line,
                    _("Amount"),
                    decimal_str(line.amount_fen),
                    _("too large for one payment"),
                )
            else:
                why = _("more than {amount}: record it with pay --large").format(
                    amount=format_money(MAX_PAYMENT_FEN)
                )
                self.report.review.append(Review(line, why, [unit] if unit else []))
            return True
        if unit is None:
            reason = (
                _("no unit code in the memo")
                if not found
                else _("the memo names {n} units ({units})").format(
                    n=len(found), units=", ".join(found)
                )
            )
            self.report.review.append(Review(line, reason, found or self.finder.find(line)))
            return True
        return False

    def _record(self, line: Line, unit: str) -> None:
        parsed = self.parsed
        receipt = self.batch.record(
            unit,
            line.amount_fen,
            channel=parsed.channel,
            ref=line.ref,
            paid_on=line.day,
            note=line.memo[:200],
            payer=line.counterparty,
            source=self.source,
            months=lineid.months_named(line.memo),
            words=line.memo,
        )
        self.report.recorded.append((line, unit, receipt))
        if line.ref not in self.asked_again:
            return
        held = HeldRef(
            0,
            receipt,
            parsed.channel,
            self.batch.units[unit].id,
            unit,
            line.amount_fen,
            self.batch.day_text(line.day),
        )
        before = self.fresh.get(line.ref)
        if before is None:
            self.fresh[line.ref] = held  # the usual case: no list for one
        else:
            self.fresh[line.ref] = [*(before if isinstance(before, list) else [before]), held]

    def holders(self, ref: str) -> list[HeldRef]:
        """The payments holding a reference: those recorded before, then those of this run."""
        before = self.held.get(ref, [])
        fresh = self.fresh.get(ref)
        if fresh is None:
            return before
        return [*before, *(fresh if isinstance(fresh, list) else [fresh])]


def _asked_again(parsed: Parsed) -> set[str]:
    """The references of two lines or more, and of the refunds (with an Alipay refund's
    ``_suffix`` taken off)."""
    seen: set[str] = set()
    again: set[str] = set()
    for line in parsed.lines:
        if line.ref in seen:
            again.add(line.ref)
        seen.add(line.ref)
    for line in parsed.refunds:
        again.update((line.ref, line.ref.split("_")[0]))
    return again


def _one_or_all(found: list[str]) -> str | list[str]:
    """One code as itself, else the list (of none or several)."""
    return found[0] if len(found) == 1 else found


def _refs_of(parsed: Parsed) -> list[str]:
    """The transaction numbers a statement's lines and refunds may be held under (an Alipay
    refund's number may be its payment's with a ``_suffix``)."""
    refs = [line.ref for line in parsed.lines if line.ref]
    for line in parsed.refunds:
        if line.ref:
            refs += [line.ref, line.ref.split("_")[0]]
    return refs


#: no statement line is older than this: an earlier date is a damaged cell
EARLIEST = date(2000, 1, 1)

#: channels whose transaction numbers are unique for ever (a bank's serial numbers repeat)
UNIQUE_REFS = frozenset({"wechat", "alipay"})


class _Lookalikes:
    """Payments recorded before this run on the statement's days through its channel, by
    day, amount and payer: a line under another transaction number that matches one is
    possibly that payment (its number damaged, or recorded by hand) and goes to review."""

    def __init__(self, conn: sqlite3.Connection, parsed: Parsed):
        self.by_key: dict[tuple[str, int, str], list[tuple[str, str, str]]] = {}
        if not parsed.lines:
            return
        refs = {line.ref for line in parsed.lines}
        days = [line.day for line in parsed.lines]
        rows = store.payments_on_days(conn, parsed.channel, min(days), max(days))
        for receipt, ref, paid_on, amount, payer, unit in rows:
            if ref not in refs:  # a payment holding a number of this file is another line
                key = (paid_on, amount, payer or "")
                self.by_key.setdefault(key, []).append((receipt, ref or "", unit))

    def twin(self, line: Line) -> tuple[str, str] | None:
        """(why, unit) when a recorded payment looks like this line; else None."""
        if not self.by_key:  # nothing recorded before on the statement's days
            return None
        found = self.by_key.get((line.day.isoformat(), line.amount_fen, line.counterparty))
        if not found:
            return None
        receipt, ref, unit = found[0]
        return (
            _(
                "perhaps receipt {receipt} ({unit}: the same channel, day, amount and payer, "
                "transaction no. {ref}): if it is another payment, confirm it with --confirm"
            ).format(receipt=receipt, unit=unit, ref=ref or _("none")),
            unit,
        )


def _same(line: Line, unit: str | None, channel: str, held: dict) -> bool:
    """A payment of ``held`` is this very line: its channel, reference, amount and unit (for
    a bank, its day too)."""
    if line.ref not in held:
        return False
    day = line.day.isoformat()
    return any(
        h.channel == channel
        and h.amount_fen == line.amount_fen
        and (unit is None or h.unit == unit)
        and (channel in UNIQUE_REFS or h.paid_on == day)
        for h in held.get(line.ref, [])
    )


def _held_elsewhere(line: Line, unit: str | None, channel: str, held: list) -> object:
    """How a line's reference stands against the payments that already hold it.

    ``None``: nobody holds it. ``"already"``: a payment of the same channel holds it for the
    same amount and unit (for a bank, on the same day too) — the line is recorded, skip it.
    Otherwise ``(reason, confirmable, unit holding it)``: the line goes to review, never
    silently skipped and never silently recorded.

    - WeChat Pay and Alipay transaction numbers are unique for ever: the same number with
      another amount or unit means one of the two is wrong. It cannot be confirmed; reverse
      the wrong receipt and reconcile again.
    - A bank's serial number (柜员流水号, 交易流水号) can repeat for another payment on
      another day or by another teller: the same serial with another day, amount or unit is
      listed for review and, when confirmed, recorded as a payment of its own.
    - A payment-app transaction number (16 characters or more) recorded under another
      channel (a statement read earlier with another profile) is the same money: review,
      not confirmable.
    """
    if not held:
        return None
    mine = [h for h in held if h.channel == channel]
    day = line.day.isoformat()
    if _same(line, unit, channel, {line.ref: mine}):
        return "already"
    this = _("{unit} {amount} on {day}").format(
        unit=unit or _("no unit"), amount=format_money(line.amount_fen), day=day
    )
    if mine:
        h = mine[0]
        that = _("receipt {receipt} ({unit} {amount} on {day})").format(
            receipt=h.receipt_no, unit=h.unit, amount=format_money(h.amount_fen), day=h.paid_on
        )
        if channel in UNIQUE_REFS:
            return (
                _(
                    "{channel} {ref} is already {that}, not {this}; if {receipt} is wrong, "
                    "reverse it and reconcile again"
                ).format(
                    channel=channel_label(channel),
                    ref=line.ref,
                    that=that,
                    this=this,
                    receipt=h.receipt_no,
                ),
                False,
                h.unit,
            )
        return (
            _(
                "serial {ref} is also {that}; a bank serial can repeat: if this is another "
                "payment ({this}), confirm it"
            ).format(ref=line.ref, that=that, this=this),
            True,
            h.unit,
        )
    others = [h for h in held if h.channel != channel]
    if others and len(line.ref) >= 16:
        h = others[0]
        return (
            _(
                "{ref} is already receipt {receipt} via {channel} ({unit} {amount} on {day}); "
                "the same transaction number is the same money: check the statement's --profile"
            ).format(
                ref=line.ref,
                receipt=h.receipt_no,
                channel=channel_label(h.channel),
                unit=h.unit,
                amount=format_money(h.amount_fen),
                day=h.paid_on,
            ),
            False,
            h.unit,
        )
    return None


def _match_refunds(parsed: Parsed, holders, gone: dict, report) -> None:
    """Refunds (and closed or failed transactions) in the statement against the payments
    recorded for their reference, before this run or in it: each is listed with the receipt
    to reverse. An Alipay refund's number may be the original's with a ``_suffix``. Those
    reversed already (``gone``: read with the file's other references) are counted."""
    for line in parsed.refunds:
        refs = list(dict.fromkeys([line.ref, line.ref.split("_")[0]])) if line.ref else []
        held = [h for r in refs for h in holders(r) if h.channel == parsed.channel]
        if held:
            for h in held:
                report.refunds.append(Refund(line, h.receipt_no, h.unit, h.amount_fen))
            continue
        reversed_ = any(h.channel == parsed.channel for r in refs for h in gone.get(r, []))
        reason = IGNORED_REASONS[4] if reversed_ else REFUNDED_OR_FAILED
        report.ignored[reason] = report.ignored.get(reason, 0) + 1


class _Candidates:
    """Units a line might be for: owner's name, a phone in the memo, or the amount owed."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self._names: dict[str, list[str]] | None = None
        self._phones: dict[str, list[str]] | None = None
        self._owed: dict[int, list[str]] | None = None

    def _load(self) -> None:
        self._names, self._phones, self._owed = {}, {}, {}
        for code, name, phones in store.current_contacts(self.conn):
            self._names.setdefault(name, []).append(code)
            for phone in (phones or "").split("/"):
                if phone:
                    self._phones.setdefault(phone, []).append(code)
        for code, owed in store.owed_by_unit_code(self.conn):
            self._owed.setdefault(owed, []).append(code)

    def find(self, line: Line) -> list[str]:
        if self._names is None:
            self._load()
        found: list[str] = []
        for code in self._names.get(line.counterparty, []):
            found.append(code)
        for phone in _PHONE.findall(unicodedata.normalize("NFKC", line.memo)):
            found.extend(self._phones.get(phone, []))
        owed = self._owed.get(line.amount_fen, [])
        if len(owed) <= 5:
            found.extend(owed)
        return list(dict.fromkeys(found))[:8]


# ---------------------------------------------------------------- the review file

#: the review file's columns (English msgids: the file is written in the reader's language and
#: read back in either)
REVIEW_COLUMNS = [
    N_("Line"),
    N_("Transaction no."),
    N_("Date"),
    N_("Amount"),
    N_("Counterparty"),
    N_("Memo"),
    N_("Reason"),
    N_("Candidate units"),
    N_("Unit"),
]
#: the review file's Chinese header, as earlier versions wrote it
REVIEW_HEADER = [zh(c) for c in REVIEW_COLUMNS]


def write_review(report: ReconcileReport, path: Path) -> None:
    """Lines needing review as CSV (``writers.write_csv``: a payer name or memo that looks
    like a formula is written inert); fill in 房号 and reconcile again with --review-in."""
    rows = [
        [
            item.line.row,
            f"{item.line.ref}\t",  # a tab keeps Excel from turning a long number into 1.0E+32
            item.line.day,
            decimal_str(item.line.amount_fen),
            item.line.counterparty,
            item.line.memo,
            item.reason,
            " ".join(item.candidates),
            "",
        ]
        for item in report.review
    ]
    header = [_(c) for c in REVIEW_COLUMNS]
    write_csv(path, header, rows, option="--review-out", number_columns=(3,))


@dataclass(frozen=True)
class ReviewEntry:
    """A filled-in line of a review file."""

    row: int  # the review file's own row, for messages
    line: int | None  # 行号: the statement line it is about
    ref: str  # 交易单号 as the file holds it (Excel may have mangled it)
    amount_fen: int | None
    unit: str


_MANGLED = re.compile(r"[+-]?\d+(?:\.\d*)?[eE][+-]?\d+")


def usable_ref(ref: str) -> bool:
    """A reference Excel did not turn into a number such as ``1.00004E+32``."""
    return bool(ref) and not _MANGLED.fullmatch(ref)


def read_review(path: Path) -> list[ReviewEntry]:
    """The filled-in lines (房号 given) of a review file, CSV (any encoding Excel saves) or
    .xlsx."""
    sheets = read_sheets(path)
    rows = sheets[0].rows() if sheets else iter(())
    _first, header = next(rows, (0, []))
    names = [_clean(c) for c in header]

    def at(msgid: str) -> int | None:
        for name in (zh(msgid), msgid):
            if name in names:
                return names.index(name)
        return None

    at_line, at_ref, at_unit = at("Line"), at("Transaction no."), at("Unit")
    if at_line is None or at_ref is None or at_unit is None:
        raise FileFormatError(
            _("{file}: not a review file (columns {columns})").format(
                file=path, columns=", ".join(_(c) for c in REVIEW_COLUMNS)
            )
        )
    at_amount = at("Amount")

    def cell(row: list, i: int | None) -> str:
        return _clean(row[i]) if i is not None and i < len(row) else ""

    entries = []
    for number, row in rows:
        unit = cell(row, at_unit)
        if not unit:
            continue
        line_text = cells.number_text(cell(row, at_line))
        amount = None
        if cell(row, at_amount):
            with contextlib.suppress(InvalidValue):
                amount = parse_money(cell(row, at_amount), allow_zero=True, allow_negative=True)
        entries.append(
            ReviewEntry(
                number,
                int(line_text) if line_text.isdigit() else None,
                cells.number_text(cell(row, at_ref)),
                amount,
                unit,
            )
        )
    return entries


def _match_review(
    entries: list[ReviewEntry], parsed: Parsed, review_file: str
) -> tuple[dict[int, str], list[str]]:
    """{statement line: unit} for the review entries that match a line by 行号 and amount
    (and by reference when Excel left it intact), and a warning for every filled-in entry
    that matches nothing: it is never applied to a line it might not be about."""
    by_row = {line.row: line for line in parsed.lines}
    by_ref = {line.ref: line for line in parsed.lines}
    chosen: dict[int, str] = {}
    warnings = []
    for entry in entries:

        def fits(line: Line | None, entry: ReviewEntry = entry) -> bool:
            if line is None:
                return False
            if entry.amount_fen is not None and entry.amount_fen != line.amount_fen:
                return False
            return not usable_ref(entry.ref) or entry.ref.lstrip("0") == line.ref.lstrip("0")

        line = by_row.get(entry.line) if entry.line is not None else None
        if not fits(line) and usable_ref(entry.ref):
            line = by_ref.get(entry.ref)
        if fits(line):
            chosen[line.row] = entry.unit
            continue
        what = _("line {line}").format(line=entry.line) if entry.line is not None else _("a line")
        if entry.amount_fen is not None:
            what += f" {format_money(entry.amount_fen)}"
        if entry.line in parsed.skipped:
            why = _("that line is not incoming money ({why})").format(
                why=_(parsed.skipped[entry.line])
            )
        else:
            why = _(
                "it matches no line of {file} (is the review file from another statement?)"
            ).format(file=parsed.file)
        warnings.append(
            _("{file} row {row}: {what} for {unit} was not applied: {why}").format(
                file=review_file, row=entry.row, what=what, unit=entry.unit, why=why
            )
        )
    return chosen, warnings


def _check_confirm(confirmed: dict[str, str], parsed: Parsed) -> None:
    """Every --confirm names an incoming line of the statement, by line number or reference:
    a confirmation that would silently do nothing is an error."""
    rows = {str(line.row) for line in parsed.lines}
    refs = {line.ref for line in parsed.lines}
    bad = []
    for key, unit in confirmed.items():
        if key in rows or key in refs:
            continue
        if key.isdigit() and int(key) in parsed.skipped:
            bad.append(
                _(
                    "--confirm {key}={unit}: line {key} of {file} is not incoming money ({why}); "
                    "only incoming lines can be recorded"
                ).format(key=key, unit=unit, file=parsed.file, why=_(parsed.skipped[int(key)]))
            )
        else:
            bad.append(
                _(
                    "--confirm {key}={unit}: {file} has no incoming line {key} (give the line "
                    "number or the transaction number of a line needing review)"
                ).format(key=key, unit=unit, file=parsed.file)
            )
    if bad:
        raise InvalidValue(_("; ").join(bad))


def parse_confirm(values: list[str]) -> dict[str, str]:
    """``--confirm 12=1-1-1001`` (a line number or a transaction number = a unit)."""
    chosen = {}
    for value in values:
        key, sep, unit = value.partition("=")
        if not sep or not key.strip() or not unit.strip():
            raise InvalidValue(
                _("--confirm {value}: write LINE=UNIT, e.g. 12=1-1-1001").format(value=repr(value))
            )
        chosen[key.strip()] = unit.strip()
    return chosen


__all__ = ["format_money", "reconcile"]
