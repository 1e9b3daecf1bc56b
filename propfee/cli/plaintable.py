"""A listing's table written line by line, the same bytes rich prints.

rich measures and lays out every cell of a table before it prints a line, some 0.7 ms a row:
a whole estate's late fees at 10,000 units took a minute and 600 MB, 100,000 units listed took
another. Where rich would print the table as it is — its box drawn in Unicode, every column at
its natural width within the console's — the lines are written here from the cells' widths, as
rich's ``Table._render`` writes them (every text markup-escaped, as ``cli/common._table`` gives
it to rich), to a pipe or a file and, in rich's styles, to a colour terminal. Anywhere else (a
table or title wider than the console, a cell over two lines, an ASCII-only or legacy Windows
console) ``Grid.of`` or ``Grid.write`` gives None or False and rich lays the table out.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
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
    """A table's texts as shown and each column's widest cell; its rows are held (``held``)
    or read again when written (``again``: a listing spooled to a file, never all in
    memory). ``columns`` are the indexes of the columns kept (see ``width``)."""

    title: str | None
    headers: list[str]
    justify: list[str]
    footers: list[str] | None
    widest: list[int]
    count: int
    held: list[list[str]] | None
    again: Callable[[], Iterable[list[str]]] | None

    @classmethod
    def of(
        cls,
        console,
        title: str | None,
        headers: Sequence[str],
        justify: Sequence[str],
        footers: Sequence[str] | None,
        rows: Callable[[], Iterable[list[str]]],
        *,
        hold: bool = True,
    ) -> Grid | None:
        """The grid of the rows ``rows()`` gives under ``headers``, ``footers`` and
        ``title``, every text markup-escaped as rich is given it; None where rich would print
        the table otherwise than ``write`` does. Without ``hold`` the rows are read once here
        for their widths and again as they are written."""
        if (
            console.legacy_windows
            or console.options.ascii_only
            or console.is_jupyter
            or any(mode not in ("left", "right", "center") for mode in justify)
        ):
            return None
        if _BREAKS.search("".join([*headers, *(footers or ()), title or ""])):
            return None
        headers = [_shown(text) for text in headers]
        footers = [_shown(text) for text in footers] if footers is not None else None
        widest = [_width(text) for text in headers]
        if footers is not None:
            widest = [max(width, _width(text)) for width, text in zip(widest, footers, strict=True)]
        held: list[list[str]] | None = [] if hold else None
        count = 0
        for row in _shown_rows(rows()):
            if row is None:
                return None  # a cell over two lines: rich lays it out
            for index, cell in enumerate(row):
                if len(cell) > widest[index] or not cell.isascii():
                    widest[index] = max(widest[index], _width(cell))
            if held is not None:
                held.append(row)
            count += 1
        title = _shown(title) if title else title
        again = None if hold else rows
        return cls(title, headers, list(justify), footers, widest, count, held, again)

    def width(self, columns: Sequence[int]) -> int:
        """The columns a table of ``columns`` takes unwrapped: each cell padded by a space
        either side, a rule between columns and at both edges."""
        return sum(self.widest[i] + 2 for i in columns) + len(columns) + 1

    def write(self, console, columns: Sequence[int], caption: str | None) -> bool:
        """Write the table of ``columns`` with ``caption`` (markup-escaped) to ``console``'s
        file as rich prints it, a few thousand lines at a time; False, and nothing written,
        when it would not fit unwrapped."""
        table_width = self.width(columns)
        if not columns or table_width > console.width:
            return False
        caption = _shown(caption) if caption else caption
        for annotation in (self.title, caption):
            if annotation and _width(annotation) > table_width:
                return False  # rich would wrap it
        from rich.box import HEAVY_HEAD as frame  # rich's Table default

        widths = [self.widest[i] + 2 for i in columns]
        title_style, header_style, footer_style, caption_style = _styles(console)
        out: list[str] = []
        write = console.file.write
        if self.title:
            out.append(title_style(_justified(self.title, table_width, "center")) + "\n")
        out.append(frame.get_top(widths) + "\n")
        head = (frame.head_left, frame.head_vertical, frame.head_right)
        out.append(self._line([self.headers[i] for i in columns], columns, *head, header_style))
        out.append(frame.get_row(widths, "head") + "\n")
        rows = self.held
        if rows is None and self.again is not None:  # read again: checked as the widths were
            rows = ([_shown(cell) for cell in row] for row in self.again())
        last = self.count - 1 if self.footers is None else -1
        middle = (frame.mid_left, frame.mid_vertical, frame.mid_right)
        foot = (frame.foot_left, frame.foot_vertical, frame.foot_right)
        for index, row in enumerate(rows):
            # rich draws the last line's rules as a footer's
            edges = foot if index == last else middle
            out.append(self._line([row[i] for i in columns], columns, *edges))
            if len(out) >= _LINES_AT_ONCE:
                write("".join(out))
                out.clear()
        if self.footers is not None:
            out.append(frame.get_row(widths, "foot") + "\n")
            out.append(self._line([self.footers[i] for i in columns], columns, *foot, footer_style))
        out.append(frame.get_bottom(widths) + "\n")
        if caption:
            out.append(caption_style(_justified(caption, table_width, "center")) + "\n")
        write("".join(out))
        console.file.flush()
        return True

    def _line(
        self,
        cells: list[str],
        columns: Sequence[int],
        left: str,
        rule: str,
        right: str,
        style: Callable[[str], str] | None = None,
    ) -> str:
        """A row: each cell padded by a space either side; with ``style`` (a header's or a
        footer's on a colour terminal) each pad and text styled apart, as rich writes them."""
        parts = []
        for cell, index in zip(cells, columns, strict=True):
            text = _justified(cell, self.widest[index], self.justify[index])
            if style is None:
                parts.append(" " + text + " ")
            else:
                pad = style(" ")
                parts.append(pad + (style(text) if text else "") + pad)
        return left + rule.join(parts) + right + "\n"


_LINES_AT_ONCE = 2000


def _shown_rows(rows: Iterable[list[str]]) -> Iterator[list[str] | None]:
    """Each row's cells as shown; None for a row with a cell over two lines (or a tab), and
    nothing after it."""
    for row in rows:
        if _BREAKS.search("".join(row)):
            yield None
            return
        yield [_shown(cell) for cell in row]


def _styles(console) -> tuple[Callable[[str], str], ...]:
    """How the title, a header cell, a footer cell and the caption are written: as they are
    to a pipe or a file; on a colour terminal in the styles rich gives them (``_table``'s
    bold header, the theme's table title, footer and caption)."""
    if console.color_system is None:
        return str, str, str, str
    from rich.console import ColorSystem

    system = {
        "standard": ColorSystem.STANDARD,
        "256": ColorSystem.EIGHT_BIT,
        "truecolor": ColorSystem.TRUECOLOR,
        "windows": ColorSystem.WINDOWS,
    }[console.color_system]
    return tuple(
        functools.partial(console.get_style(name).render, color_system=system)
        for name in ("table.title", "bold", "table.footer", "table.caption")
    )


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
