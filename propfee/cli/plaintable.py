"""A listing's table written line by line, the same bytes rich prints to a pipe or a file.

rich measures and lays out every cell of a table before it prints a line, some 0.7 ms a row:
a whole estate's late fees at 10,000 units took a minute and 600 MB. Where rich would print the
table as it is — no colours (a pipe, a file), its box drawn in Unicode, every column at its
natural width within the console's — the lines are written here from the cells' widths, as
rich's ``Table._render`` writes them (every text markup-escaped, as ``cli/common._table`` gives
it to rich). Anywhere else (a terminal's colours, a table or title wider than the console, a
cell over two lines) ``Grid.of`` or ``Grid.text`` gives None and rich lays the table out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_BREAKS = re.compile("[\n\r\t\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")  # what splits a line


# rich is loaded when a table is written (as in cli/common), not when a command starts


def _shown(markup: str) -> str:
    """A markup-escaped text as rich shows it: the text itself, its emoji codes replaced (and
    a trailing backslash doubled, as rich's own escape leaves it)."""
    if "[" in markup or "\\" in markup:
        from rich.markup import render

        return render(markup).plain
    if ":" in markup:
        from rich.emoji import Emoji

        return Emoji.replace(markup)
    return markup


def _width(text: str) -> int:
    """The cells ``text`` takes on a terminal, as rich counts them."""
    if text.isascii():
        return len(text)
    from rich.cells import cell_len

    return cell_len(text)


@dataclass
class Grid:
    """A table's texts as shown, each column's widest cell, and its rows; ``columns`` are the
    indexes of the columns kept (see ``width``)."""

    title: str | None
    headers: list[str]
    justify: list[str]
    footers: list[str] | None
    rows: list[list[str]]
    widest: list[int]

    @classmethod
    def of(
        cls,
        console,
        title: str | None,
        headers: Sequence[str],
        justify: Sequence[str],
        footers: Sequence[str] | None,
        rows: list[list[str]],
    ) -> Grid | None:
        """The grid of ``rows`` under ``headers``, ``footers`` and ``title``, every text
        markup-escaped as rich is given it; None where rich would print the table otherwise
        than ``text`` does."""
        if (
            console.color_system is not None
            or console.legacy_windows
            or console.options.ascii_only
            or console.is_jupyter
            or any(mode not in ("left", "right", "center") for mode in justify)
        ):
            return None
        annotations = "".join([*headers, *(footers or ()), title or ""])
        if _BREAKS.search(annotations) or any(_BREAKS.search("".join(row)) for row in rows):
            return None
        shown = [[_shown(cell) for cell in row] for row in rows]
        headers = [_shown(text) for text in headers]
        footers = [_shown(text) for text in footers] if footers is not None else None
        widest = [_width(text) for text in headers]
        for other in ([footers] if footers is not None else []) + shown:
            for index, cell in enumerate(other):
                if len(cell) > widest[index] or not cell.isascii():
                    widest[index] = max(widest[index], _width(cell))
        title = _shown(title) if title else title
        return cls(title, headers, list(justify), footers, shown, widest)

    def width(self, columns: Sequence[int]) -> int:
        """The columns a table of ``columns`` takes unwrapped: each cell padded by a space
        either side, a rule between columns and at both edges."""
        return sum(self.widest[i] + 2 for i in columns) + len(columns) + 1

    def text(self, console, columns: Sequence[int], caption: str | None) -> str | None:
        """The table of ``columns`` with ``caption`` (markup-escaped) as rich prints it to
        ``console``; None when it would not fit unwrapped."""
        table_width = self.width(columns)
        if not columns or table_width > console.width:
            return None
        caption = _shown(caption) if caption else caption
        for annotation in (self.title, caption):
            if annotation and _width(annotation) > table_width:
                return None  # rich would wrap it
        from rich.box import HEAVY_HEAD as frame  # rich's Table default

        widths = [self.widest[i] + 2 for i in columns]
        out: list[str] = []
        if self.title:
            out.append(_centred(self.title, table_width))
        out.append(frame.get_top(widths) + "\n")
        out.append(
            self._line(
                [self.headers[i] for i in columns],
                columns,
                frame.head_left,
                frame.head_vertical,
                frame.head_right,
            )
        )
        out.append(frame.get_row(widths, "head") + "\n")
        body = self.rows
        last = len(body) - 1 if self.footers is None else -1
        for index, row in enumerate(body):
            if index == last:  # rich draws the last line's rules as a footer's
                edges = (frame.foot_left, frame.foot_vertical, frame.foot_right)
            else:
                edges = (frame.mid_left, frame.mid_vertical, frame.mid_right)
            out.append(self._line([row[i] for i in columns], columns, *edges))
        if self.footers is not None:
            out.append(frame.get_row(widths, "foot") + "\n")
            out.append(
                self._line(
                    [self.footers[i] for i in columns],
                    columns,
                    frame.foot_left,
                    frame.foot_vertical,
                    frame.foot_right,
                )
            )
        out.append(frame.get_bottom(widths) + "\n")
        if caption:
            out.append(_centred(caption, table_width))
        return "".join(out)

    def _line(
        self, cells: list[str], columns: Sequence[int], left: str, rule: str, right: str
    ) -> str:
        parts = []
        for cell, index in zip(cells, columns, strict=True):
            parts.append(" " + _justified(cell, self.widest[index], self.justify[index]) + " ")
        return left + rule.join(parts) + right + "\n"


def _justified(text: str, width: int, justify: str) -> str:
    """``text`` in ``width`` cells as rich justifies a line: left keeps its trailing spaces,
    right and centre lose them first."""
    if justify == "left":
        return text + " " * (width - _width(text))
    text = text.rstrip()
    excess = width - _width(text)
    if justify == "right":
        return " " * excess + text
    return " " * (excess // 2) + text + " " * (excess - excess // 2)


def _centred(text: str, width: int) -> str:
    return _justified(text, width, "center") + "\n"
