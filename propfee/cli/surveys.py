"""Satisfaction surveys: survey import | list, and survey-report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from propfee.cli.common import (
    Col,
    ConfigOpt,
    DbOpt,
    DryRunOpt,
    Format,
    FormatOpt,
    NoMaskOpt,
    QuietOpt,
    _check_day,
    emit,
    now,
    open_env,
    parse_day,
    safe_markup,
    show_row_errors,
    write_json,
)
from propfee.core.errors import PropfeeError, RowError, RowErrors
from propfee.core.i18n import _, ngettext
from propfee.core.money import decimal_str, format_money
from propfee.core.privacy import mask_phones
from propfee.files.workbook import Title
from propfee.insight import pages, surveys
from propfee.insight.surveys import fmt as f
from propfee.insight.surveys import percent
from propfee.store.db import transaction

survey_app = typer.Typer(
    help=_("Satisfaction surveys: import the answers, list them, analyse them."),
    short_help=_("Satisfaction surveys"),
    no_args_is_help=True,
)

_EMPTY = {"name": "", "responses": 0, "unchanged": False}


def register(app: typer.Typer) -> None:
    app.add_typer(survey_app, name="survey")
    app.command(
        "survey-report",
        help=_(
            "Analyse a satisfaction survey: what owners think, and who to visit. "
            "Response rate per building, each question's mean, share satisfied, 95% confidence "
            "interval and answers per score (weakest first), the satisfaction index (0–100) and "
            "NPS, the change since --compare and whether it is beyond the noise, who to visit "
            "again with their open complaints, satisfaction by payment and collection by "
            "satisfaction, and the words the comments use most."
        )
        + "\n\n"
        + _("Example: propfee survey-report --compare 2025年度 --out 满意度分析.xlsx"),
        short_help=_("Analyse a survey: scores, trends and who to visit"),
    )(survey_report)


@survey_app.command(
    "import",
    help=_(
        "Import a satisfaction survey: one row per respondent. The unit is its code (房号, "
        "1-1-101, 1栋1单元101室) or 楼栋/单元/房间, as in the roster; a row naming no unit is an "
        "anonymous answer (a file with no unit column needs --anonymous). Every other column "
        "holding numbers is a question (服务态度, 保洁, 安保 …), scored 1–5 or 1–10; "
        "非常满意/满意/一般/不满意/非常不满意 read as 5–1. A blank score, (跳过), 不适用, 不清楚, -, 无 … "
        "is not answered. Optional: 推荐意愿 (0–10), 意见建议 (free text), a date column."
    )
    + "\n\n"
    + _(
        "Question numbering (1、 Q3. 第7题) is left off every header. Every bad cell is "
        "reported with its row and column and nothing is written. The same file again under its "
        "name changes nothing; another file under a used name is refused."
    )
    + "\n\n"
    + _("Example: propfee survey import 满意度调查.xlsx --name 2026年度 --date 2026-11-10"),
    short_help=_("Import a survey's answers (.xlsx/.xls/.csv)"),
)
def survey_import(
    file: Annotated[
        Path, typer.Argument(help=_("Survey answers: .xlsx, .xls, .csv (UTF-8 or GBK)."))
    ],
    name: Annotated[str, typer.Option("--name", help=_("The survey's name, e.g. 2026年度."))],
    held_on: Annotated[
        str | None,
        typer.Option(
            "--date",
            metavar="YYYY-MM-DD",
            callback=_check_day,
            help=_(
                "The survey's day (default: the latest date in the file's date column, "
                "such as 提交答卷时间)."
            ),
        ),
    ] = None,
    scale: Annotated[
        int | None,
        typer.Option(
            "--scale",
            help=_("Points on the scale: 5 or 10 (default: read from how the answers run)."),
        ),
    ] = None,
    anonymous: Annotated[
        bool,
        typer.Option(
            "--anonymous",
            help=_(
                "An anonymous survey: the file names no unit (without it, a file without a "
                "房号 or 楼栋/单元/房间 column is refused)."
            ),
        ),
    ] = False,
    dry_run: DryRunOpt = False,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Import a satisfaction survey."""
    if scale not in (None, 5, 10):
        raise typer.BadParameter(_("--scale must be 5 or 10"))

    env = open_env(db, config, quiet)
    try:
        conn = env.connect(dry_run=dry_run, create=False)
        with transaction(conn, dry_run=dry_run):
            result = surveys.import_survey(
                conn,
                file,
                name=name,
                held_on=parse_day(held_on, option="--date") if held_on else None,
                scale=scale,
                now=now(),
                anonymous=anonymous,
            )
    except RowErrors as exc:
        show_row_errors(env, exc, fmt, _EMPTY)
        raise typer.Exit(1) from None
    except PropfeeError as exc:
        if fmt is Format.json:
            error = RowError(file.name, "", 0, "", "", str(exc)).as_dict()
            write_json({**_EMPTY, "errors": [error]})
        raise
    result.dry_run = dry_run
    _print_import(env, result, file, fmt)


def _print_import(env, result: surveys.ImportResult, file: Path, fmt: Format) -> None:
    for notice in result.notices:
        env.info(_("note: {notice}").format(notice=notice))
    if fmt is not Format.table:
        if fmt is Format.json:
            write_json(result.as_dict())
        else:
            emit(
                env,
                [result.as_dict()],
                [
                    Col("name", _("Survey")),
                    Col("responses", _("Responses"), "right"),
                    Col("units", _("Households"), "right"),
                ],
                fmt,
            )
        return
    if result.unchanged:
        env.result(
            _("survey {name}: {file} is already imported; nothing changed").format(
                name=result.name, file=file.name
            )
        )
        return
    scale = (
        _("{scale}-point scale read from the answers")
        if result.scale_detected
        else _("{scale}-point scale")
    ).format(scale=result.scale)
    line = _("survey {name} ({day}, {scale}): {responses} responses from {units} units").format(
        name=result.name,
        day=result.held_on,
        scale=scale,
        responses=result.responses,
        units=result.units,
    )
    if result.anonymous:
        line += _(", {n} anonymous").format(n=result.anonymous)
    env.result(line + _("; questions: {names}").format(names="、".join(result.dimensions)))
    if result.dry_run:
        env.result(_("dry run: nothing was written"))


@survey_app.command(
    "list",
    help=_("The surveys imported, latest first: name, day, scale, responses and source file.")
    + "\n\n"
    + _("Example: propfee survey list"),
    short_help=_("The surveys imported"),
)
def survey_list(
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """The surveys imported."""
    env = open_env(db, config)
    conn = env.connect(create=False)
    rows = [
        {
            "name": s.name,
            "held_on": s.held_on,
            "scale": s.scale,
            "responses": s.responses,
            "questions": len(s.dimensions),
            "source": s.source,
            "imported_at": s.imported_at,
        }
        for s in surveys.surveys(conn)
    ]
    emit(
        env,
        rows,
        [
            Col("name", _("Survey")),
            Col("held_on", _("Date")),
            Col("scale", _("Scale"), "right"),
            Col("responses", _("Number of responses"), "right"),
            Col("questions", _("Questions"), "right"),
            Col("source", _("File")),
            Col("imported_at", _("Imported at")),
        ],
        fmt,
        title=_("Satisfaction surveys"),
    )


def survey_report(
    name: Annotated[
        str | None,
        typer.Option("--survey", help=_("Which survey (default: the latest by date).")),
    ] = None,
    compare: Annotated[
        str | None,
        typer.Option("--compare", metavar="PREV", help=_("An earlier survey to compare with.")),
    ] = None,
    by: Annotated[
        str | None,
        typer.Option("--by", metavar="building", help=_("Also each building's mean per question.")),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="FILE.xlsx|FILE.html",
            help=_("Also write the report: .xlsx with charts, or .html with pictures."),
        ),
    ] = None,
    no_mask: NoMaskOpt = False,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Analyse a satisfaction survey."""
    if by not in (None, "building"):
        raise typer.BadParameter(_("--by takes building"))
    env = open_env(db, config)
    conn = env.connect(create=False)
    report = surveys.survey_report(
        conn, name=name, compare=compare, settings=env.settings, at=now()
    )
    if out is not None:
        if out.suffix.lower() in (".html", ".htm"):
            context = pages.survey_context(report, estate=env.settings.estate, produced_at=now())
            pages.write_page(env.settings, pages.SURVEY_TEMPLATE, context, out)
        else:
            title = Title(env.settings.estate.name, "", produced_at=now())
            surveys.write_workbook(out, report, title, mask=not no_mask)
    for note in report.notes:
        env.warn(note)
    if fmt is Format.json:
        write_json(_document(report, mask=not no_mask))
    elif fmt is Format.csv:
        emit(env, _dimension_rows(report), _dimension_cols(report), fmt)
    else:
        _show(env, report, by_building=by == "building", mask=not no_mask)
    if out is not None:
        env.info(_("wrote {path}").format(path=out))


def _dimension_rows(report) -> list[dict[str, Any]]:
    rows = []
    for d in report.dimensions:
        row = {
            "dimension": d.name,
            "answers": d.answers,
            "mean": f(d.mean),
            "satisfied": percent(d.satisfied),
            "ci_low": f(d.ci[0]) if d.ci else "—",
            "ci_high": f(d.ci[1]) if d.ci else "—",
            "weight": d.weight,
            "distribution": " ".join(f"{k}:{v}" for k, v in d.distribution.items()),
        }
        if d.change is not None:
            row["previous"] = f(d.change.previous_mean)
            row["change"] = _signed(d.change.delta)
            row["verdict"] = d.change.statement
        rows.append(row)
    return rows


def _dimension_cols(report) -> list[Col]:
    cols = [
        Col("dimension", _("Question")),
        Col("answers", _("Answers"), "right"),
        Col("mean", _("Mean score"), "right"),
        Col("satisfied", _("Share satisfied"), "right"),
        Col("ci_low", _("95% lower bound"), "right"),
        Col("ci_high", _("95% upper bound"), "right"),
        Col("weight", _("Weight"), "right"),
        Col("distribution", _("Distribution")),
    ]
    if report.compare is not None:
        cols += [
            Col("previous", _("Previous"), "right"),
            Col("change", _("Change since last time"), "right"),
            Col("verdict", _("Verdict")),
        ]
    return cols


def _signed(value) -> str:
    if value is None:
        return "—"
    return ("+" if value > 0 else "") + f(value)


def _document(report, *, mask: bool = True) -> dict[str, Any]:
    s = report.survey
    return {
        "survey": {"name": s.name, "held_on": s.held_on, "scale": s.scale, "source": s.source},
        "compare": report.compare.name if report.compare else None,
        "responses": report.responses,
        "anonymous": report.anonymous,
        "outside_households": report.outside,
        "notes": report.notes,
        "response_rate": percent(report.total.rate),
        "index": f(report.index, 1),
        "previous_index": f(report.previous_index, 1) if report.compare else None,
        "nps": f(report.nps, 1),
        "promoters": report.promoters,
        "passives": report.passives,
        "detractors": report.detractors,
        "dimensions": _dimension_rows(report),
        "buildings": [_building_json(b) for b in [*report.buildings, report.total]],
        "follow_up": [_follow_up_json(x, mask=mask) for x in report.follow_up],
        "anonymous_low": report.anonymous_low,
        "outside_low": report.outside_low,
        "by_payment": [
            {"group": g.label, "units": g.units, "mean": f(g.mean)} for g in report.by_payment
        ],
        "collection_by_band": [
            {
                "band": b.label,
                "units": b.units,
                "due": decimal_str(b.due_fen),
                "collected": decimal_str(b.collected_fen),
                "rate": percent(b.rate),
            }
            for b in report.by_band
        ],
        "phrases": [{"phrase": p, "comments": c} for p, c in report.phrases],
    }


def _building_json(b) -> dict[str, Any]:
    return {
        "building": b.building,
        "respondents": b.respondents,
        "occupied": b.occupied,
        "rate": percent(b.rate),
        "mean": f(b.mean),
        "means": {k: f(v) for k, v in b.dimension_means.items()},
    }


def phone_shown(phone: str, *, mask: bool) -> str:
    """The owner's phone numbers as shown: masked (``138****1234``) unless --no-mask."""
    return mask_phones(phone) if mask else phone


def _follow_up_json(x, *, mask: bool) -> dict[str, Any]:
    return {
        "unit": x.unit,
        "owner": x.owner,
        "phone": phone_shown(x.phone, mask=mask),
        "low_scores": x.low_scores,
        "mean": f(x.mean),
        "comment": x.comment,
        "open_complaints": x.complaints,
    }


def _distribution(counts: dict[int, int]) -> str:
    """Answers per score, compact: ``1:2 2:5 3:10 4:30 5:20`` (scores nobody gave left out)."""
    return " ".join(f"{k}:{v}" for k, v in sorted(counts.items()) if v) or "—"


def _bar(value, top: int, width: int = 20) -> str:
    if value is None or top <= 0:
        return ""
    filled = max(0, min(width, round(float(value) / top * width)))
    return "█" * filled + "░" * (width - filled)


def _show(env, report, *, by_building: bool, mask: bool) -> None:
    out = env.out
    _print_head(out, report)
    out.print(_dimension_table(report))
    out.print(_building_table(report, by_building=by_building))
    out.print(_payment_table(report))
    out.print(_band_table(report))
    _print_follow_up(out, report, mask=mask)


def _table(title: str, columns) -> Any:
    from rich.table import Table  # heavy: loaded when needed

    table = Table(title=title, header_style="bold")
    for header, justify in columns:
        table.add_column(header, justify=justify)
    return table


def _print_head(out, report) -> None:

    s = report.survey
    head = _("{name}  {day}  {scale}-point scale  {n} valid responses").format(
        name=f"[bold]{safe_markup(s.name)}[/bold]",
        day=s.held_on,
        scale=s.scale,
        n=report.responses,
    )
    if report.anonymous:
        head += _(" ({n} anonymous)").format(n=report.anonymous)
    if report.outside:
        head += _(" ({n} from units no household lives in, left out of the response rate)").format(
            n=report.outside
        )
    out.print(head + _("  response rate {rate}").format(rate=percent(report.total.rate)))
    line = _("Satisfaction index {index}").format(index=f(report.index, 1))
    if report.compare is not None:
        line += _(" (previous {name} {index})").format(
            name=safe_markup(report.compare.name), index=f(report.previous_index, 1)
        )
    line += _(
        "  NPS {nps} (promoters {promoters} · passives {passives} · detractors {detractors})"
    ).format(
        nps=f(report.nps, 1),
        promoters=report.promoters,
        passives=report.passives,
        detractors=report.detractors,
    )
    out.print(line)


def _dimension_table(report) -> Any:

    table = _table(
        _("Satisfaction by question (weakest first)"),
        (
            (_("Question"), "left"),
            (_("Answers"), "right"),
            (_("Mean score"), "right"),
            ("", "left"),
            (_("Share satisfied"), "right"),
            (_("95% confidence interval"), "right"),
            (_("Distribution (score:answers)"), "left"),
        ),
    )
    if report.compare is not None:
        table.add_column(_("Change since last time"), justify="right")
        table.add_column(_("Verdict"))
    for d in report.dimensions:
        cells = [
            safe_markup(d.name),
            str(d.answers),
            f(d.mean),
            _bar(d.mean, report.survey.scale),
            percent(d.satisfied),
            f"{f(d.ci[0])}–{f(d.ci[1])}" if d.ci else "—",
            _distribution(d.distribution),
        ]
        if report.compare is not None:
            cells += [_signed(d.change.delta), d.change.statement]
        table.add_row(*cells)
    return table


def _building_table(report, *, by_building: bool) -> Any:

    rates = _table(
        _("Response rate by building"),
        (
            (_("Building"), "left"),
            (_("Responded/occupied"), "right"),
            (_("Response rate"), "right"),
            ("", "left"),
            (_("Mean score"), "right"),
        ),
    )
    names = [d.name for d in report.dimensions] if by_building else []
    for n in names:
        rates.add_column(safe_markup(n), justify="right")
    for b in [*report.buildings, report.total]:
        rates.add_row(
            safe_markup(b.building),
            f"{b.respondents}/{b.occupied}",
            percent(b.rate),
            _bar(b.rate, 1, 10),
            f(b.mean),
            *(f(b.dimension_means.get(n)) for n in names),
        )
    return rates


def _payment_table(report) -> Any:
    pay = _table(
        _("Satisfaction and payment (as of the survey day)"),
        (
            (_("Payment status"), "left"),
            (_("Households"), "right"),
            (_("Mean score"), "right"),
            ("", "left"),
        ),
    )
    for g in report.by_payment:
        pay.add_row(g.label, str(g.units), f(g.mean), _bar(g.mean, report.survey.scale))
    return pay


def _band_table(report) -> Any:
    bands = _table(
        _("Collection rate by satisfaction band (as of the survey day)"),
        (
            (_("Band"), "left"),
            (_("Households"), "right"),
            (_("Amount due"), "right"),
            (_("Collected"), "right"),
            (_("Collection rate"), "right"),
        ),
    )
    for b in report.by_band:
        bands.add_row(
            b.label,
            str(b.units),
            format_money(b.due_fen),
            format_money(b.collected_fen),
            percent(b.rate),
        )
    return bands


def _print_follow_up(out, report, *, mask: bool) -> None:
    """The return-visit list, and the low answers that cannot be visited; the phrases."""
    from rich.table import Table

    if report.follow_up:
        visit = Table(
            title=ngettext(
                "Return visits ({n} household with a low score)",
                "Return visits ({n} households with a low score)",
                len(report.follow_up),
            ).format(n=len(report.follow_up)),
            header_style="bold",
        )
        for header in (
            _("Unit"),
            _("Owner"),
            _("Phone"),
            _("Low scores"),
            _("Mean score"),
            _("Comments"),
            _("Open complaints"),
        ):
            visit.add_column(header)
        for x in report.follow_up:
            visit.add_row(
                safe_markup(x.unit),
                safe_markup(x.owner),
                safe_markup(phone_shown(x.phone, mask=mask)) or "—",
                safe_markup(
                    "、".join(
                        _("{question} {score} points").format(question=d, score=v)
                        for d, v in x.low_scores.items()
                    )
                ),
                f(x.mean),
                safe_markup(x.comment),
                safe_markup("；".join(x.complaints)) or "—",
            )
        out.print(visit)
    else:
        out.print(_("Return visits: no response has a low score"))
    if report.anonymous_low:
        out.print(
            _("{n} more anonymous responses have a low score (no one to visit)").format(
                n=report.anonymous_low
            )
        )
    if report.outside_low:
        out.print(
            _(
                "{n} more responses from units no household lives in (parking spaces, store "
                "rooms, unsold units …) have a low score"
            ).format(n=report.outside_low)
        )
    if report.phrases:
        out.print(
            _("Words the comments use most: ")
            + "、".join(
                _("{phrase} ({n})").format(phrase=safe_markup(p), n=c) for p, c in report.phrases
            )
        )
