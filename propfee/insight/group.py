"""Several estates together: the group report a company's head office reads.

For each estate — an SQLite file, every estate file of a folder, or every estate schema of a
PostgreSQL server — and for the company: the collection rates (收缴率) exactly as ``report
collection`` computes them, what is overdue exactly as ``overdue`` totals it, complaints and
requests (received in the period, still open, past their deadline, as ``complain list`` shows
them) and the satisfaction index of the latest survey held by the as-of day (as
``survey-report`` computes it).

The company's figures are sums of the estates' integer fen and counts; its rates are computed
from the summed numerators and denominators (never an average of the estates' rates). The
survey index is the estates' own: surveys ask different questions on different scales, so the
company has none.

Every estate is opened read-only. An estate that cannot be read (no such file, not a propfee
database, another propfee's schema, a broken settings file) refuses the whole report, with
every such estate named: a company total without one of its estates would be wrong.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, time
from fractions import Fraction
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from propfee.collection.arrears import overdue_totals
from propfee.config import DEFAULTS, load_settings, settings_path
from propfee.core.errors import DatabaseError, InvalidValue, PropfeeError
from propfee.core.i18n import _
from propfee.core.periods import month_end, period_label
from propfee.insight import group_store
from propfee.insight.reports import Figures, collection
from propfee.insight.survey_records import surveys
from propfee.insight.survey_report import survey_report
from propfee.service.complaints import every_case
from propfee.store import pg

OPEN_STATES = ("open", "assigned")


@dataclass(frozen=True)
class Source:
    """One estate the report reads: an SQLite file, or a schema on a server."""

    path: Path | None = None
    server: str | None = None
    schema: str = ""

    @property
    def label(self) -> str:
        """Where the estate is, as an error or the JSON names it."""
        if self.path is not None:
            return str(self.path)
        return pg.display(pg.split_target(self.server or "", self.schema)[0], self.schema)

    @property
    def stem(self) -> str:
        """The estate's name when its settings give none: the file's stem, the schema."""
        return self.path.stem if self.path is not None else self.schema


@dataclass
class EstateLine:
    """One estate's figures (or the company's: the sum of every estate's)."""

    name: str
    source: str
    figures: Figures
    overdue_units: int = 0
    overdue_fen: int = 0
    received: int = 0
    open_cases: int = 0
    past_deadline: int = 0
    survey: str | None = None
    survey_index: Fraction | None = None
    survey_responses: int = 0


@dataclass
class GroupReport:
    first_period: str
    last_period: str
    as_of: date
    window_end: str  # the last day counted: the range's end, or the as-of day if earlier
    late_fees: bool
    estates: list[EstateLine]
    company: EstateLine
    company_name: str = ""  # the company the estates' settings name, if they name one
    notes: list[str] = field(default_factory=list)

    @property
    def period(self) -> str:
        if self.first_period == self.last_period:
            return self.first_period
        return f"{self.first_period}～{self.last_period}"


# ---------------------------------------------------------------- which estates


def sources(paths: list[str], folder: Path | None) -> list[Source]:
    """The estates named: --db files or servers, and every ``*.db`` file of --dir; a server
    stands for every estate schema on it. The same file named twice is refused (it would be
    counted twice)."""
    found: list[Source] = []
    for value in paths:
        if pg.is_server(value):
            found += _schemas(value)
        else:
            found.append(Source(path=Path(value)))
    if folder is not None:
        found += _folder(folder)
    if not found:
        raise InvalidValue(_("name the estates: --db FILE (several times) or --dir FOLDER"))
    seen: dict[str, Source] = {}
    for source in found:
        key = str(source.path.resolve()) if source.path else f"{source.server}#{source.schema}"
        if key in seen:
            raise InvalidValue(
                _("{path}: named twice; each estate is counted once").format(path=source.label)
            )
        seen[key] = source
    return found


def _schemas(url: str) -> list[Source]:
    """The estate the address names (``?estate=``), else every estate on the server."""
    named = [v for k, v in parse_qsl(urlsplit(url).query) if k == "estate"]
    if named:
        return [Source(server=url, schema=pg.split_target(url)[1])]
    schemas = group_store.server_estates(url)
    if not schemas:
        raise DatabaseError(
            _("{server}: no estate on the server").format(server=group_store.server_name(url))
        )
    return [Source(server=url, schema=s) for s in schemas]


def _folder(folder: Path) -> list[Source]:
    if not folder.is_dir():
        raise InvalidValue(_("--dir {path}: no such folder").format(path=folder))
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".db" and p.is_file())
    if not files:
        raise InvalidValue(_("--dir {path}: no estate database (*.db) in it").format(path=folder))
    return [Source(path=p) for p in files]


@dataclass
class Opened:
    source: Source
    conn: object
    settings: object
    name: str = ""


def open_all(found: list[Source], config: Path | None) -> list[Opened]:
    """Every estate opened read-only with its settings; any that cannot be read refuses the
    report, naming each."""
    opened: list[Opened] = []
    failures: list[str] = []
    for source in found:
        try:
            opened.append(_open(source, config))
        except PropfeeError as exc:
            failures.append(str(exc))
    if failures:
        for one in opened:
            one.conn.close()
        raise DatabaseError(
            _("the group report needs every estate; cannot read: {problems}").format(
                problems=_("; ").join(failures)
            )
        )
    _name(opened)
    return opened


def _open(source: Source, config: Path | None) -> Opened:
    if source.path is not None:
        conn = group_store.open_file_read_only(source.path)
        where = source.path
    else:
        conn = group_store.open_schema_read_only(source.server or "", source.schema)
        where = pg.estate_path(source.schema)
    try:
        settings = load_settings(settings_path(config, where))
    except PropfeeError:
        conn.close()
        raise
    return Opened(source, conn, settings)


def _name(opened: list[Opened]) -> None:
    """The estate's name from its settings; the file's stem or the schema where the settings
    name none, or where several estates share one settings file (the same name)."""
    default = DEFAULTS.estate.name
    names = [o.settings.estate.name.strip() for o in opened]
    for one, name in zip(opened, names, strict=True):
        shared = names.count(name) > 1
        one.name = one.source.stem if (not name or name == default or shared) else name


# ---------------------------------------------------------------- the figures


def group_report(
    found: list[Source],
    *,
    config: Path | None,
    first: date,
    last: date,
    as_of: date,
    late_fees: bool = False,
) -> GroupReport:
    """The report over the estates ``found``, for the periods ``first``…``last`` (month
    starts) as of ``as_of``."""
    if last < first:
        raise InvalidValue(
            _("--to {last} is before --from {first}").format(
                last=period_label(last), first=period_label(first)
            )
        )
    opened = open_all(found, config)
    try:
        lines = [
            estate_line(o, first=first, last=last, as_of=as_of, late_fees=late_fees) for o in opened
        ]
    finally:
        for one in opened:
            one.conn.close()
    notes = [] if late_fees else [_("Late fees are left out of the rates")]
    return GroupReport(
        period_label(first),
        period_label(last),
        as_of,
        min(month_end(last), as_of).isoformat(),
        late_fees,
        lines,
        company(lines),
        _company_name(opened),
        notes,
    )


def _read(opened: Opened, **period) -> EstateLine:
    """One estate's line; what goes wrong reading it is said with the estate named."""
    try:
        return estate_line(opened, **period)
    except PropfeeError as exc:
        raise DatabaseError(
            _("{path}: {error}").format(path=opened.source.label, error=exc)
        ) from None
    except sqlite3.Error as exc:
        raise DatabaseError(
            _("{path}: cannot read the database ({message})").format(
                path=opened.source.label, message=exc
            )
        ) from None


def _company_name(opened: list[Opened]) -> str:
    """The company the estates' settings all name, else "the company"."""
    names = {o.settings.estate.company.strip() for o in opened}
    if len(names) == 1 and "" not in names and DEFAULTS.estate.company not in names:
        return names.pop()
    return _("Company")


def estate_line(
    opened: Opened, *, first: date, last: date, as_of: date, late_fees: bool
) -> EstateLine:
    """One estate's figures, each from the function its own command uses: the overdue rows'
    totals summed in SQL (as ``today`` counts them), the cases counted in one pass."""
    conn, settings = opened.conn, opened.settings
    result = collection(conn, first=first, last=last, as_of=as_of, late_fees=late_fees, trend=0)
    rows = overdue_totals(conn, as_of=as_of, settings=settings)
    end = datetime.combine(as_of, time(23, 59, 59))
    window = (first.isoformat(), min(month_end(last), as_of).isoformat())
    line = EstateLine(
        opened.name,
        opened.source.label,
        result.total,
        overdue_units=len(rows),
        overdue_fen=sum(r.outstanding_fen for r in rows),
    )
    for case in every_case(conn, at=end):
        if window[0] <= case.opened_at[:10] <= window[1]:
            line.received += 1
        if case.state in OPEN_STATES:
            line.open_cases += 1
        if case.overdue(end):
            line.past_deadline += 1
    held = [s for s in surveys(conn) if s.held_on <= as_of.isoformat()]
    if held:
        report = survey_report(conn, name=held[0].name, compare=None, settings=settings, at=end)
        line.survey, line.survey_index = held[0].name, report.index
        line.survey_responses = report.responses
    return line


def company(lines: list[EstateLine]) -> EstateLine:
    """Every estate's figures added: money in fen, counts; the rates follow from the sums."""
    total = Figures("", _("Company"))
    whole = EstateLine(_("Company"), "", total)
    for line in lines:
        total.add(line.figures)
        total.households += line.figures.households
        total.unpaid_households += line.figures.unpaid_households
        whole.overdue_units += line.overdue_units
        whole.overdue_fen += line.overdue_fen
        whole.received += line.received
        whole.open_cases += line.open_cases
        whole.past_deadline += line.past_deadline
        whole.survey_responses += line.survey_responses
    return whole
