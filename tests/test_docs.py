"""Every command has help text with an example and appears in the README."""

import re
from pathlib import Path

import typer.main

from propfee.cli import app

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def all_commands():
    group = typer.main.get_command(app)

    def walk(command, prefix):
        subcommands = getattr(command, "commands", None)
        if subcommands:
            for name, sub in subcommands.items():
                yield from walk(sub, f"{prefix} {name}".strip())
        else:
            yield prefix, command

    yield from walk(group, "")


def test_there_are_commands():
    names = [name for name, _ in all_commands()]
    assert {"import-units", "export-units", "units list", "units show", "demo"} <= set(names)


def test_every_command_has_help_with_an_example():
    for name, command in all_commands():
        assert command.help and len(command.help) > 40, name
        assert re.search(r"(Example|示例)[:：]\s*propfee", command.help), name


def test_every_command_is_in_the_readme():
    for name, _ in all_commands():
        assert f"propfee {name}" in README, f"README does not show `propfee {name}`"


def test_ci_runs_the_readme_test_command():
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text(encoding="utf-8")
    command = next(
        line for line in README.splitlines() if "pytest" in line and "pip install" in line
    )
    assert command in ci.splitlines()
