"""The errors propfee raises for the user. Only the CLI layer turns them into exit codes."""

from __future__ import annotations

from dataclasses import dataclass

from propfee.core.i18n import _, ngettext


class PropfeeError(Exception):
    """A problem the user can fix; shown as one line, exit 1."""

    exit_code = 1


class InvalidValue(PropfeeError, ValueError):
    """A single value (amount, date, phone …) that cannot be understood."""


class NotFound(PropfeeError):
    """A unit, party or record named by the user does not exist."""


class DatabaseError(PropfeeError):
    """The database file is missing, unreadable, too new or not a propfee database."""


class DatabaseBusy(PropfeeError):
    """Another propfee process held the database longer than the busy timeout."""

    exit_code = 75  # EX_TEMPFAIL: try again later


class ConfigError(PropfeeError):
    """The settings file is unreadable or holds an unknown or ill-typed key."""


class Unlawful(PropfeeError):
    """A text propfee would send or print breaks a rule of LEGAL.md (core/lawful.py)."""


class FileFormatError(PropfeeError):
    """An input file is not a spreadsheet/CSV, is empty, truncated or has no usable header."""


@dataclass(frozen=True)
class RowError:
    """One bad cell or row of an imported file, located as the user sees it in Excel."""

    file: str
    sheet: str
    row: int
    column: str
    value: str
    message: str
    rows: str = ""  # every row with this same error, as ranges ("2–3001, 3005"), when grouped

    def __str__(self) -> str:
        where = f"{self.file}"
        if self.sheet:
            where += f" [{self.sheet}]"
        if self.rows:
            return _("{where} rows {rows}: {message}").format(
                where=where, rows=self.rows, message=self.message
            )
        where = _("{where} row {row}").format(where=where, row=self.row)
        if self.column:
            where = _("{where}, column {column}").format(where=where, column=self.column)
        shown = f" '{self.value}'" if self.value != "" else ""
        return _("{where}:{value} — {message}").format(
            where=where, value=shown, message=self.message
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "message": self.message,
            **({"rows": self.rows} if self.rows else {}),
        }


def row_ranges(rows: list[int]) -> str:
    """Row numbers as ranges: [2, 3, 4, 7] -> "2–4, 7"."""
    spans: list[list[int]] = []
    for row in sorted(set(rows)):
        if spans and row == spans[-1][1] + 1:
            spans[-1][1] = row
        else:
            spans.append([row, row])
    return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in spans)


def grouped(errors: list[RowError]) -> list[RowError]:
    """One error per cause: rows with the same column, value and message become one error
    naming their row ranges (3,000 rows with one unknown item are one line)."""
    by_cause: dict[tuple, list[RowError]] = {}
    for error in errors:
        by_cause.setdefault((error.sheet, error.column, error.value, error.message), []).append(
            error
        )
    result = []
    for (sheet, column, value, message), same in by_cause.items():
        if len(same) == 1:
            result.append(same[0])
            continue
        result.append(
            RowError(
                same[0].file,
                sheet,
                same[0].row,
                column,
                value,
                _("{message} ({n} rows)").format(message=message, n=len(same)),
                row_ranges([e.row for e in same]),
            )
        )
    return sorted(result, key=lambda e: e.row)


class RowErrors(PropfeeError):
    """An import found bad rows; all are reported together and nothing was written."""

    def __init__(self, errors: list[RowError], summary: str = ""):
        self.errors = errors
        count = len(errors)
        super().__init__(
            summary
            or ngettext(
                "{n} bad row; nothing was written", "{n} bad rows; nothing was written", count
            ).format(n=count)
        )
