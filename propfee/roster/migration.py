"""The migration report of a roster import (``import-units --report FILE``): what was read from
each sheet of the old system's file, what became of it, and every warning and note — for the
office to keep with the file it moved in from."""

from __future__ import annotations

from pathlib import Path

from propfee.core.i18n import N_, _
from propfee.files.writers import write_table
from propfee.roster.merge import ImportReport

HEADERS = (
    N_("Entry kind"),
    N_("Sheet of the file"),
    N_("Rows read"),
    N_("Units added"),
    N_("Units updated"),
    N_("Units unchanged"),
    N_("Recognised as"),
    N_("Columns used"),
    N_("Columns left out"),
    N_("Warning or note"),
)


def report_rows(report: ImportReport) -> list[list[object]]:
    """One row per sheet, then one per warning and per note."""
    rows: list[list[object]] = []
    for sheet, (read, used, left, profile) in report.sheet_facts.items():
        added, updated, same = report.by_sheet.get(sheet, [0, 0, 0])
        rows.append(
            [
                _("sheet read"),
                sheet,
                read,
                added,
                updated,
                same,
                profile,
                "、".join(used),
                "、".join(left),
                "",
            ]
        )
    for kind, texts in ((_("import warning"), report.warnings), (_("import note"), report.notices)):
        rows.extend([kind, "", "", "", "", "", "", "", "", text] for text in texts)
    return rows


def write_report(path: Path, report: ImportReport) -> None:
    """Write the migration report (.xlsx or .csv)."""
    write_table(path, [_(h) for h in HEADERS], report_rows(report), sheet=_("Migration report"))
