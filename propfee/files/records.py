"""Reading a simple table (meter readings, opening balances, statements …) by its headers: a
small sibling of the roster reader for files with one row per record."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from propfee.core.errors import FileFormatError, RowError, RowErrors
from propfee.core.i18n import _
from propfee.files.cells import text
from propfee.files.headers import (
    ColumnMap,
    HeaderMatch,
    alias_index,
    ambiguous_columns,
    find_header,
    norm_header,
)
from propfee.files.tabular import read_sheets


@dataclass(frozen=True)
class Record:
    sheet: str
    row: int
    values: dict[str, object]  # field -> raw cell ("" when the column is missing)
    labels: dict[str, str]  # field -> "header (letter)"

    def label(self, field: str) -> str:
        return self.labels.get(field, field)

    def error(self, file: str, field: str, message: str) -> RowError:
        return RowError(
            file, self.sheet, self.row, self.label(field), text(self.values.get(field)), message
        )


def read_records(
    path: Path,
    fields: dict[str, tuple[str, ...]],
    *,
    required: list[tuple[str, ...]],
    what: str,
    sheet: str | None = None,
    column_map: ColumnMap | None = None,
    found_headers: list[tuple[str, HeaderMatch]] | None = None,
) -> Iterator[Record]:
    """Yield one Record per non-blank row under the header. ``required`` lists groups of
    fields of which at least one must have a column (e.g. ``[("unit",), ("amount",)]``).
    ``column_map`` names unusual headers (a ``--map`` file); each sheet's header, as found,
    is appended to ``found_headers``."""
    index = alias_index(fields)
    column_map = column_map or ColumnMap()
    sheet = sheet or column_map.sheet
    sheets = read_sheets(path)
    if sheet is not None:
        sheets = [s for s in sheets if s.name == sheet]
        if not sheets:
            raise FileFormatError(
                _("{file}: no sheet named {sheet}").format(file=path.name, sheet=repr(sheet))
            )
    else:
        sheets = [s for s in sheets if not s.hidden] or sheets
    found = False
    for one in sheets:
        rows = one.rows()
        head = []
        wanted = max(30, (column_map.header_row or 0) + 1)
        for item in rows:
            head.append(item)
            if len(head) >= wanted:
                break
        match = find_header(
            head,
            index,
            column_map.columns,
            first_column=one.first_column,
            header_row=column_map.header_row,
        )
        if match is None:
            continue
        if found_headers is not None:
            found_headers.append((one.name, match))
        errors = ambiguous_columns(match, path.name, one.name)
        missing = [group for group in required if not any(f in match.columns for f in group)]
        if missing:
            wanted = _(" and ").join("/".join(fields[f][0] for f in group) for group in missing)
            message = _("missing required column {columns}").format(columns=wanted)
            errors.append(RowError(path.name, one.name, match.row, "", "", message))
        if errors:
            raise RowErrors(errors)
        found = True
        labels = {f: c.label for f, c in match.columns.items()}
        columns = {f: c.index for f, c in match.columns.items()}
        header_key = {norm_header(c.header) for c in match.columns.values()}
        start = next(i for i, (n, _cells) in enumerate(head) if n == match.row) + 1

        for number, cells in itertools.chain(head[start:], rows):
            values = {f: (cells[i] if i < len(cells) else "") for f, i in columns.items()}
            if all(v == "" or v is None for v in values.values()):
                continue
            texts = [v for v in values.values() if isinstance(v, str) and v]
            if texts and all(norm_header(t) in header_key for t in texts):
                continue  # the header repeated
            first = next((c for c in cells if c != "" and c is not None), "")
            if isinstance(first, str) and first.strip().startswith(
                ("合计", "总计", "小计", "共计")
            ):
                continue
            yield Record(one.name, number, values, labels)
    if not found:
        columns = ", ".join(fields[group[0]][0] for group in required)
        raise FileFormatError(
            _("{file}: no {what} header found; expected columns such as {columns}").format(
                file=path.name, what=what, columns=columns
            )
        )
