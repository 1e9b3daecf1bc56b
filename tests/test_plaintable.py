"""A listing's table written by ``cli/plaintable`` is the table rich prints, byte for byte,
wherever plaintable writes it; elsewhere rich still lays it out. And a long listing no longer
waits on rich: the lines of 20,000 rows are written without it."""

import contextlib
import io
import os
import tracemalloc
from decimal import Decimal, InvalidOperation
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from propfee.cli import common, plaintable
from propfee.cli.common import Col, Format, emit, emit_spooled
from propfee.core.money import format_money

# what office data holds, and what rich reads in a cell: Chinese (two cells wide), markup
# brackets and backslashes, emoji codes, a zero-width space, a combining mark, line breaks
# and tabs (made visible or spaces by terminal_text), trailing spaces
PIECES = st.sampled_from(
    [
        "1-1-1001",
        "张洋超",
        "物业服务费",
        "¥",
        "[",
        "]",
        "[b]",
        "[/b]",
        "\\",
        "\\[",
        ":",
        ":smile:",
        ":100:",
        ":thumbs_up:",
        "10:00:00",
        " ",
        "  ",
        "a",
        "Z",
        "\u200b",
        "e\u0301",
        "\n",
        "\t",
        "\r",
        "\x1b[2J",
        "😀",
        "１２",
        "-12.50",
        "1234.5",
    ]
)
TEXT = st.lists(PIECES, max_size=5).map("".join)
MONEY = st.sampled_from(["", "0.00", "1234.50", "-12.5", "1e3", "abc", "100000000.00"])


@st.composite
def listings(draw):
    count = draw(st.integers(1, 5))
    columns = [
        Col(
            f"c{i}",
            draw(st.sampled_from(["Unit no.", "Payer", "期间", "尚欠", "a:b", "x[y]", "天数"])),
            draw(st.sampled_from(["left", "right", "center"])),
            money=draw(st.booleans()),
            optional=draw(st.integers(0, 3)),
        )
        for i in range(count)
    ]
    rows = [
        {c.key: draw(MONEY if c.money else TEXT) for c in columns}
        for _ in range(draw(st.integers(0, 6)))
    ]
    footer = draw(st.none() | st.just({c.key: draw(MONEY if c.money else TEXT) for c in columns}))
    title = draw(st.none() | TEXT | st.just("违约金（截至 2026-11-20）"))
    width = draw(st.integers(20, 200))
    return columns, rows, footer, title, width, draw(st.booleans())


# a pipe or a file, and a terminal in each of rich's colour systems
CONSOLES = {
    "pipe": {"color_system": None},
    "truecolor": {"color_system": "truecolor", "force_terminal": True},
    "256": {"color_system": "256", "force_terminal": True},
    "standard": {"color_system": "standard", "force_terminal": True},
}


def _console(width: int, kind: str) -> Console:
    return Console(
        file=io.StringIO(), width=width, highlight=False, soft_wrap=False, **CONSOLES[kind]
    )


def _printed(columns, rows, footer, title, width, wide, *, kind: str, how: str) -> str:
    console = _console(width, kind)
    env = SimpleNamespace(out=console)
    if how == "spooled":  # read twice, never held
        emit_spooled(env, lambda: iter(rows), columns, title=title, footer=footer, wide=wide)
    elif how == "held":
        emit(env, rows, columns, Format.table, title=title, footer=footer, wide=wide)
    else:  # rich lays it out
        of = plaintable.Grid.of
        try:
            plaintable.Grid.of = classmethod(lambda cls, *args, **kwargs: None)
            emit(env, rows, columns, Format.table, title=title, footer=footer, wide=wide)
        finally:
            plaintable.Grid.of = of
    return console.file.getvalue()


@settings(max_examples=300)
@given(listings(), st.sampled_from(sorted(CONSOLES)))
def test_the_table_written_is_the_table_rich_prints(listing, kind):
    printed = _printed(*listing, kind=kind, how="rich")
    assert _printed(*listing, kind=kind, how="held") == printed
    assert _printed(*listing, kind=kind, how="spooled") == printed


@pytest.mark.parametrize("kind", ["pipe", "truecolor"])
def test_a_long_listing_is_written_without_rich_laying_it_out(monkeypatch, kind):
    columns = [
        Col("unit", "Unit no."),
        Col("payer", "Payer", optional=1),
        Col("owed", "Still owed", "right", money=True),
        Col("days", "Days", "right"),
    ]
    rows = [
        {
            "unit": f"{i // 1000}-{i % 1000:04d}",
            "payer": "张三" * (i % 3),
            "owed": f"{i}.50",
            "days": i % 400,
        }
        for i in range(20_000)
    ]
    laid_out = []
    monkeypatch.setattr(common, "_table", lambda *args: laid_out.append(args))
    console = _console(200, kind)
    emit(SimpleNamespace(out=console), rows, columns, Format.table, title="欠费", wide=False)
    lines = console.file.getvalue().splitlines()
    if kind == "truecolor":  # the title italic, the header bold, as rich styles them
        assert lines[0].startswith("\x1b[3m") and "\x1b[1m房号" in lines[2]
        lines[0], lines[2] = lines[0][4:], lines[2].replace("\x1b[1m", "").replace("\x1b[0m", "")
    assert laid_out == []
    assert len(lines) == 1 + 3 + 20_000 + 1  # title, top rule, header, its rule, rows, bottom
    assert lines[1] == "┏━━━━━━━━━┳━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━┓"
    assert lines[4] == "│ 0-0000  │          │      ¥0.50 │    0 │"
    assert lines[-2] == "│ 19-0999 │ 张三     │ ¥19,999.50 │  399 │"
    assert lines[-1] == "└─────────┴──────────┴────────────┴──────┘"


@pytest.mark.parametrize(
    "console",
    [
        pytest.param(dict(color_system=None, width=30), id="narrower than the table"),
        pytest.param(dict(color_system=None, legacy_windows=True), id="legacy Windows"),
    ],
)
def test_where_rich_would_print_otherwise_rich_lays_the_table_out(console, monkeypatch):
    laid_out = []
    table = common._table
    monkeypatch.setattr(common, "_table", lambda *args: laid_out.append(1) or table(*args))
    out = Console(file=io.StringIO(), highlight=False, **({"width": 120} | console))
    columns = [Col("unit", "Unit no."), Col("owed", "Still owed", "right", money=True)]
    rows = [{"unit": "1-1-1001 张洋超", "owed": "1234.50"}]
    emit(SimpleNamespace(out=out), rows, columns, Format.table, title="欠费", wide=True)
    assert laid_out
    assert "¥1,234.50" in out.file.getvalue()


def test_a_spooled_listing_is_read_twice_and_never_held(monkeypatch):
    columns = [Col("unit", "Unit no."), Col("owed", "Still owed", "right", money=True)]
    reads = []

    def rows():
        reads.append(1)
        return ({"unit": f"{i // 1000}-{i % 1000:04d}", "owed": f"{i}.50"} for i in range(50_000))

    monkeypatch.setattr(common, "_table", lambda *args: pytest.fail("rich laid it out"))
    with open(os.devnull, "w", encoding="utf-8") as sink:
        console = Console(file=sink, width=200, highlight=False, color_system=None)
        tracemalloc.start()
        try:
            emit_spooled(SimpleNamespace(out=console), rows, columns, title="违约金")
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert len(reads) == 2
    assert peak < 2_000_000, peak  # held, 50,000 rows of cells take some 10 MB


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=12) | TEXT)
def test_a_plain_cell_is_its_own_safe_markup(text):
    assert common.safe_markup(text) == common._escape(common.terminal_text(text))


@given(
    st.from_regex(r"-?[0-9]{1,12}\.[0-9]{2}", fullmatch=True)
    | st.from_regex(r"[-+]?[0-9]{0,4}(\.[0-9]{0,3})?(e[0-9])?", fullmatch=True)
)
def test_a_money_cell_read_as_text_is_the_decimal_read(text):
    try:
        amount = Decimal(text)
    except InvalidOperation:
        expected = text
    else:
        exact = amount.is_finite() and amount == amount.quantize(Decimal("0.01"))
        expected = format_money(int(amount * 100)) if exact else text
    assert common.money_cell(text) == expected


@pytest.mark.parametrize("kind", sorted(CONSOLES))
def test_a_table_with_columns_left_out_says_so_below_as_rich_does(kind):
    columns = [
        Col("unit", "Unit no."),
        Col("payer", "Payer", optional=1),
        Col("note", "Note", optional=2),
        Col("owed", "Still owed", "right", money=True),
    ]
    rows = [
        {"unit": f"1-1-{i:04d} 翠湖花园北区", "payer": "张三" * 6, "note": "x" * 30, "owed": "1.00"}
        for i in range(3)
    ]
    listing = (
        columns,
        rows,
        {"unit": "合计", "owed": "3.00"},
        "欠费（截至 2026-11-20）",
        60,
        False,
    )
    printed = _printed(*listing, kind=kind, how="rich")
    assert "--wide" in printed and "x" * 30 not in printed  # the note column left out
    assert _printed(*listing, kind=kind, how="held") == printed
    assert _printed(*listing, kind=kind, how="spooled") == printed


@settings(max_examples=100)
@given(listings())
def test_a_listing_s_json_and_csv_are_the_bytes_of_the_whole_document(listing):
    columns, rows, _footer, _title, _width, _wide = listing
    env = SimpleNamespace(out=None)
    for fmt, whole in (
        (Format.json, lambda: common.write_json(common.listing(rows, "2026-11-20", total=1))),
        (
            Format.csv,
            lambda: common.print_csv(
                [common._(c.header) for c in columns],
                [[common._csv_value(row.get(c.key)) for c in columns] for row in rows],
                number_columns=[
                    i for i, c in enumerate(columns) if c.justify == "right" or c.money
                ],
            ),
        ),
    ):
        streamed, held = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(streamed):
            emit(env, rows, columns, fmt, as_of="2026-11-20", extra={"total": 1})
        with contextlib.redirect_stdout(held):
            whole()
        assert streamed.getvalue() == held.getvalue()
