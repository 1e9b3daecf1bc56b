"""Search: one command over owners, units, complaints, contacts and notes."""

from __future__ import annotations

from typing import Annotated

import typer

from propfee.cli.common import (
    Col,
    ConfigOpt,
    DbOpt,
    Format,
    FormatOpt,
    emit,
    open_env,
    record_unmasked,
)
from propfee.core.i18n import _
from propfee.insight import search as core


def register(app: typer.Typer) -> None:
    app.command(
        "search",
        help=_(
            "Search owners, units, complaints and repairs (with their follow-ups), contact "
            "records and notes."
        )
        + "\n\n"
        + _(
            "Words of three characters or more use the full-text index (“漏水严重” is found in "
            "“卫生间漏水严重”, a phone number's last digits “1234” find the owner); words of one "
            "or two characters (“王”, “漏水”) are compared row by row. Each result gives the kind, "
            "unit, date, a snippet holding the match and the command that shows it. Phone and ID "
            "numbers are masked by default."
        )
        + "\n\n"
        + _("Example: propfee search 漏水 --kind complaint"),
        short_help=_("Search owners, units, complaints, contacts and notes."),
    )(search)


def search(
    text: Annotated[
        str,
        typer.Argument(
            metavar="TEXT",
            help=_(
                "Words, a name, a unit code or a phone number's last digits to find (every word "
                "must appear)."
            ),
        ),
    ],
    kind: Annotated[
        list[str] | None,
        typer.Option(
            "--kind",
            metavar="owner|unit|complaint|contact|note",
            help=_(
                "Only this kind (may repeat): owner, unit, complaint (complaints and repairs), "
                "contact (contact records), note. Default: all."
            ),
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option(metavar="N", help=_("Show at most this many (1–1000)."))
    ] = 50,
    no_mask: Annotated[
        bool,
        typer.Option(
            "--no-mask",
            help=_(
                "Show phone and ID numbers in full; recorded in the audit trail with the operator."
            ),
        ),
    ] = False,
    operator: Annotated[
        str,
        typer.Option(
            metavar="NAME", help=_("Who is searching, for the audit trail (with --no-mask).")
        ),
    ] = "",
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Search owners, units, complaints, contacts and notes."""
    env = open_env(db, config)
    conn = env.connect(create=False)
    found = core.search(conn, text, kinds=kind, limit=limit, mask=not no_mask)
    if no_mask:
        record_unmasked(conn, "search", "-", len(found.hits))
    rows = [_hit_json(h) for h in found.hits]
    emit(
        env,
        rows,
        [
            Col("label", _("Kind")),
            Col("unit", _("Unit code")),
            Col("date", _("Date")),
            Col("snippet", _("Snippet")),
            Col("command", _("To see it")),
        ],
        fmt,
        title=_("Search “{text}”: {n} found").format(text=found.text, n=len(rows)),
        extra={"query": found.text, "method": found.method, "more": found.more},
    )
    if found.more:
        env.warn(
            _(
                "more than {n} results, only the first {n} shown: narrow it with --kind or "
                "more specific words"
            ).format(n=limit)
        )
    if not rows:
        env.info(_("nothing found for “{text}”").format(text=found.text))


def _hit_json(hit: core.Hit) -> dict:
    return {
        "kind": hit.kind,
        "label": hit.label,
        "unit": hit.unit,
        "date": hit.day,
        "snippet": hit.snippet,
        "command": hit.command,
        "ref": hit.ref,
    }
