"""Every JSON listing has the shape the README documents: ``{"as_of", "rows", …}`` with the
top-level keys of the README's "JSON output" table, checked by running each listing command
on the small estate of the ``history`` fixture (see conftest)."""

import json
import re
from datetime import date
from pathlib import Path

import pytest
import typer

from propfee.cli import app

README = Path(__file__).resolve().parent.parent / "README.md"

#: how each documented listing is run on the history estate (after its command words)
RUN = {
    "audit": (),
    "calendar": ("--year", "2026", "--as-of", "2026-11-10"),
    "complain list": ("--at", "2026-11-10 10:00"),
    "contact list": (),
    "fees list": ("--as-of", "2026-11-10"),
    "group report": ("--as-of", "2026-11-10"),
    "import-units --list-profiles": (),
    "latefee": ("--as-of", "2026-11-10"),
    "overdue": ("--as-of", "2026-11-10"),
    "overdue --by building": ("--as-of", "2026-11-10"),
    "overdue --limitation": ("--as-of", "2026-11-10", "--within", "3650"),
    "overdue --notice-board": ("--as-of", "2026-11-10"),
    "owners care": ("--month", "2026-11"),
    "owners show": ("李四",),
    "plan list": ("--as-of", "2026-11-10"),
    "search": ("张三",),
    "survey list": (),
    "today": ("--as-of", "2026-11-10"),
    "units list": (),
}

#: listings the history estate fills, so their rows are checked too
NOT_EMPTY = {
    "audit",
    "calendar",
    "contact list",
    "fees list",
    "import-units --list-profiles",
    "latefee",
    "overdue",
}


def json_section() -> str:
    text = README.read_text(encoding="utf-8")
    return text.split("\n## JSON output\n", 1)[1].split("\n## ", 1)[0]


def documented() -> dict[str, set[str]]:
    """The README's table: command → its top-level keys."""
    table = {}
    for line in json_section().splitlines():
        found = re.fullmatch(r"\| `propfee ([^`]+)` \| (.+) \|", line.strip())
        if found:
            table[found[1]] = set(re.findall(r"`([^`]+)`", found[2]))
    return table


def test_the_readme_table_lists_the_listings_run_here():
    table = documented()
    assert set(table) == set(RUN)
    for command, keys in table.items():
        assert {"as_of", "rows"} <= keys, command


@pytest.mark.parametrize("command", sorted(RUN))
def test_each_listing_prints_its_documented_keys(history, cli, command):
    result = cli(*command.split(), *RUN[command], "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert isinstance(document, dict), command
    assert set(document) == documented()[command], command
    date.fromisoformat(document["as_of"])
    assert isinstance(document["rows"], list)
    assert all(isinstance(row, dict) for row in document["rows"])
    if command in NOT_EMPTY:
        assert document["rows"], command


def test_every_reading_command_with_json_is_documented():
    """A command that prints JSON and changes nothing is either a listing in the table or a
    single object the README names: none prints a shape nobody wrote down."""
    named = set(re.findall(r"`([a-z][a-z -]+)`", json_section()))
    listings = {command.split(" --")[0] for command in documented()}
    reading = []

    def walk(group, prefix=""):
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                walk(command, f"{prefix}{name} ")
                continue
            params = {p.name for p in command.params}
            if "fmt" in params and "quiet" not in params:
                reading.append(f"{prefix}{name}")

    walk(typer.main.get_command(app))
    assert len(reading) > 15
    assert [c for c in reading if c not in listings and c not in named] == []


def test_a_listing_never_prints_a_bare_list():
    from propfee.cli.common import write_json

    with pytest.raises(TypeError):
        write_json([{"unit": "1-101"}])
