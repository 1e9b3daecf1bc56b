"""propfee migrate-to: an estate's SQLite file moved into its schema on a PostgreSQL server."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from propfee.cli.common import Format, chosen_estate, open_env, write_json
from propfee.core.errors import DatabaseError
from propfee.core.i18n import _
from propfee.payments import ledger
from propfee.store import moving, pg


def register(app: typer.Typer) -> None:
    app.command(
        "migrate-to",
        help=_(
            "Copy the estate in an SQLite file (--db, else ./propfee.db) into its schema on a "
            "PostgreSQL server, in one transaction. The estate's schema must be new. Before "
            "the copy is committed, propfee check must pass on both sides and both must have "
            "the same rows, money totals, bill and receipt counts and audit trail head; "
            "otherwise nothing is written. The file is never changed."
        )
        + "\n\n"
        + _("Example:")
        + "\n\n"
        + _("propfee migrate-to postgresql://fees@db.example/propfee --estate cuihu"),
        short_help=_("Move an estate from its SQLite file to a PostgreSQL server"),
    )(migrate_to)


def migrate_to(
    server: Annotated[
        str, typer.Argument(metavar="postgresql://…", help=_("The PostgreSQL server's address."))
    ],
    estate: Annotated[
        str | None,
        typer.Option(
            "--estate",
            metavar="NAME",
            help=_("The estate's schema on the server (default: the root --estate, else public)."),
        ),
    ] = None,
    db: Annotated[
        Path | None,
        typer.Option(
            "--db", metavar="PATH", help=_("The estate's SQLite file (default: ./propfee.db).")
        ),
    ] = None,
    fmt: Annotated[
        Format,
        typer.Option("--format", "-f", help=_("Output format."), case_sensitive=False),
    ] = Format.table,
) -> None:
    env = open_env(db or Path("propfee.db"), None)
    if not pg.is_server(server):
        raise DatabaseError(
            _("{server}: not a PostgreSQL address (postgresql://user@host/dbname)").format(
                server=server
            )
        )
    moved = moving.migrate_to(env.db_path, server, estate or chosen_estate(), check=ledger.check)
    if fmt is Format.json:
        write_json(
            {
                "source": moved.source,
                "target": moved.target,
                "tables": moved.tables,
                "tally": moved.tally,
            }
        )
        return
    rows = sum(moved.tables.values())
    env.result(
        _("copied {rows} rows of {tables} tables from {source} to {target}").format(
            rows=f"{rows:,}", tables=len(moved.tables), source=moved.source, target=moved.target
        )
    )
    env.result(
        _(
            "propfee check passes on both; the same bills ({bills}), receipts ({receipts}) "
            "and audit trail head ({head})"
        ).format(
            bills=moved.tally["bill"][0],
            receipts=moved.tally["receipts"],
            head=str(moved.tally["audit_head"] or "").split(" ")[0],
        )
    )
    env.result(_("from now on: export PROPFEE_DB={target}").format(target=moved.target))
