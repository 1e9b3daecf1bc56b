"""HC小区管理系统's fee settings (费用设置 sheet of its import workbook) as a draft: one
``propfee fees add …`` line per fee the office reviews, corrects and runs, then publishes with
``propfee fees publish``. Nothing is added or published by the import itself.

HC's 计算公式 codes are read as HC's own fee computation reads them (java110/MicroCommunity,
java110-core/src/main/java/com/java110/core/smo/impl/ComputeFeeSMOImpl.java, and the
constants of java110-bean/src/main/java/com/java110/dto/fee/FeeConfigDto.java): 1001 面积*单价
+附加费 (by area), 2002 固定费用 (fixed), 5005 meter reading × 单价; 1102 租金递增, 4004 动态,
9999 临时车 and any other code have no propfee basis and are listed, never guessed.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from propfee.core.i18n import _
from propfee.files import cells
from propfee.files.headers import norm_header
from propfee.files.tabular import Sheet

#: 计算公式 -> propfee basis (HC's codes, and the words HC's screens and templates show)
FORMULAS = {
    **{norm_header(w): "area" for w in ("1001", "面积*单价+附加费", "单价*面积", "面积*单价")},
    **{norm_header(w): "fixed" for w in ("2002", "固定费用", "固定金额")},
    **{norm_header(w): "metered" for w in ("5005", "用量*单价", "(本期度数-上期度数)*单价")},
}
#: HC's 费用类型 code of parking fees (FeeConfigDto.FEE_TYPE_CD_PARKING)
PARKING_TYPE = "888800010008"
#: 缴费周期 in months -> propfee cycle
CYCLES = {"1": "monthly", "3": "quarterly", "12": "yearly"}
_HEADERS = {
    "id": ("费用编号",),
    "type": ("费用类型",),
    "name": ("收费项目", "费用项目", "费用名称"),
    "flag": ("费用标识",),
    "cycle": ("缴费周期",),
    "start": ("计费起始时间", "开始时间"),
    "end": ("计费结束时间", "结束时间"),
    "formula": ("计算公式",),
    "price": ("计费单价", "单价"),
    "fixed": ("固定费用", "附加费"),
}
_METERS = (("水", "water"), ("电", "electricity"), ("燃气", "gas"), ("煤气", "gas"))


@dataclass
class FeeDraft:
    """The draft: command lines to review, and the fee settings left for a person."""

    lines: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)


def is_fee_settings(headers: list[str]) -> bool:
    present = {norm_header(h) for h in headers}
    return norm_header("计算公式") in present and norm_header("收费项目") in present


def read_sheet(sheet: Sheet) -> list[dict[str, object]]:
    """The fee settings of a 费用设置 sheet, one dict per fee (empty when it is not one)."""
    columns: dict[str, int] = {}
    settings: list[dict[str, object]] = []
    for _number, row in sheet.rows():
        if not columns:
            headers = [norm_header(cells.text(c)) for c in row]
            if is_fee_settings(headers):
                for key, words in _HEADERS.items():
                    found = [
                        headers.index(norm_header(w)) for w in words if norm_header(w) in headers
                    ]
                    if found:
                        columns[key] = found[0]
            continue
        values = {k: row[i] if i < len(row) else "" for k, i in columns.items()}
        if all(cells.is_blank(v) for v in values.values()):
            continue
        settings.append(values)
    return settings


def draft(settings: list[dict[str, object]], sheet: str) -> FeeDraft:
    """One ``propfee fees add`` line per fee HC's codes say how to bill; the rest listed."""
    result = FeeDraft()
    for n, fee in enumerate(settings, start=1):
        line, why = _line(fee, n)
        if line:
            result.lines.append(line)
        else:
            name = cells.text(fee.get("name")) or cells.text(fee.get("id"))
            result.left.append(_("{sheet} {name}: {why}").format(sheet=sheet, name=name, why=why))
    return result


def _line(fee: dict[str, object], n: int) -> tuple[str, str]:
    name = cells.text(fee.get("name"))
    formula_raw = cells.number_text(fee.get("formula", "")).strip()
    basis = FORMULAS.get(norm_header(formula_raw))
    if basis is None:
        return "", _("计算公式 {formula} has no propfee basis; enter it by hand").format(
            formula=formula_raw or "—"
        )
    price = _decimal(fee.get("fixed" if basis == "fixed" else "price"))
    if price is None or price <= 0:
        return "", _("no price ({column})").format(
            column="固定费用" if basis == "fixed" else "计费单价"
        )
    months = cells.number_text(fee.get("cycle", "")).strip() or "1"
    cycle = CYCLES.get(months)
    if cycle is None:
        return "", _("缴费周期 {months} months has no propfee cycle").format(months=months)
    start = cells.parse_date(fee.get("start"))
    if start is None:
        return "", _("no 计费起始时间")
    code = "HC" + (cells.number_text(fee.get("id", "")).strip() or str(n))
    kind_text = name + cells.number_text(fee.get("type", ""))
    kinds = "parking" if "车" in kind_text or PARKING_TYPE in kind_text else "residential"
    parts = [
        "propfee fees add",
        _quote(code),
        "--name",
        _quote(name or code),
        "--basis",
        basis,
        "--price",
        format(price.normalize(), "f"),
        "--kinds",
        kinds,
        "--cycle",
        cycle,
        "--from",
        start.isoformat(),
    ]
    if basis == "metered":
        meter = next((m for word, m in _METERS if word in name), "")
        if not meter:
            return "", _("a metered fee whose meter (water, electricity, gas) is not named")
        parts += ["--meter", meter]
    extra = _decimal(fee.get("fixed")) if basis == "area" else None
    line = " ".join(parts)
    if extra:
        line += "  # " + _("HC adds {amount} 附加费 to each bill: add it as a fixed fee").format(
            amount=extra
        )
    end = cells.parse_date(fee.get("end"))
    if end is not None and end.year < 2040:
        line += "\n# " + _("HC bills it until {day}: then propfee fees end {code}").format(
            day=end.isoformat(), code=code
        )
    return line, ""


def _quote(text: str) -> str:
    """A word of the command line: quoted only where a shell would split or expand it."""
    if re.fullmatch(r"[\w\-.·（）()]+", text):
        return text
    return shlex.quote(text)


def _decimal(value: object) -> Decimal | None:
    text = cells.number_text(value).strip()
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def write_draft(path: Path, fees: FeeDraft, file: str) -> None:
    """The draft as a shell script of commented ``propfee fees add`` lines to review."""
    head = [
        "# "
        + _("Fee items drafted from {file}: review each line, correct it, then run it.").format(
            file=file
        ),
        "# " + _("Nothing has been added or published; publish with propfee fees publish."),
        "# " + _("Check --kinds (residential, commercial, office, parking, storage) of each."),
        "",
    ]
    left = ["", "# " + _("Left for a person (not drafted):")] + [f"#   {t}" for t in fees.left]
    text = "\n".join(head + fees.lines + (left if fees.left else [])) + "\n"
    path.write_text(text, encoding="utf-8")


def summary(fees: FeeDraft, path: Path) -> str:
    return _(
        "fee settings drafted as {n} propfee fees add lines in {path} ({left} left for a "
        "person): review, run them, then propfee fees publish; nothing was published"
    ).format(n=len(fees.lines), path=path, left=len(fees.left))
