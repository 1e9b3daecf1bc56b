"""The help page's layout, loaded only when a help page is printed (``propfee.cli.lang``
loads it): Typer's rich help formatting in the catalogue's words, an option's help wrapped
as one text."""

from __future__ import annotations

import typer.rich_utils
from rich.text import Text

from propfee.core import i18n

_RICH_CONSTANTS = {
    "DEPRECATED_STRING": "(deprecated) ",
    "DEFAULT_STRING": "[default: {}]",
    "ENVVAR_STRING": "[env var: {}]",
    "REQUIRED_LONG_STRING": "[required]",
    "ARGUMENTS_PANEL_TITLE": "Arguments",
    "OPTIONS_PANEL_TITLE": "Options",
    "COMMANDS_PANEL_TITLE": "Commands",
    "ERRORS_PANEL_TITLE": "Error",
    "ABORTED_TEXT": "Aborted.",
    "RICH_HELP": "Try [blue]'{command_path} {help_option}'[/] for help.",
}


def _help_as_one_text(original):
    """Typer lays an option's help, default and env var out as rich Columns, which cut a
    Chinese help text with "…" at some widths; one Text wraps instead."""

    def get_parameter_help(*args, **kwargs):
        help_columns = original(*args, **kwargs)
        items = getattr(help_columns, "renderables", None)
        if items and all(isinstance(item, Text) for item in items):
            return Text(" ", overflow="fold").join(items)
        return help_columns

    return get_parameter_help


def _patch() -> None:
    """An option's help as one text that wraps (skipped if a later Typer moves it)."""
    if callable(getattr(typer.rich_utils, "_get_parameter_help", None)):
        typer.rich_utils._get_parameter_help = _help_as_one_text(
            typer.rich_utils._get_parameter_help
        )


def speak() -> None:
    """The help page's fixed words ("Options", "[default: …]") in the active language."""
    for name, text in _RICH_CONSTANTS.items():
        setattr(typer.rich_utils, name, i18n._(text))


_patch()
