"""The command line's language: ours through the catalogue, and Click's and Typer's own words
("Usage:", "Options", "Missing option …") through the same catalogue."""

from __future__ import annotations

import importlib
import re
from collections.abc import Sequence

import rich._wrap
import typer.core
from typer._click import core as click_core
from typer._click import exceptions as click_exceptions
from typer._click import formatting as click_formatting

from propfee.core import i18n
from propfee.core.i18n import N_, Nn_

#: what Click and Typer print, for extraction into the catalogue
FRAMEWORK_TEXT = (
    N_("Aborted!"),
    N_("Aborted."),
    N_("Options"),
    N_("Commands"),
    N_("Arguments"),
    N_("Error"),
    N_("Usage:"),
    N_("Missing command."),
    N_("env var: {var}"),
    N_("default: {default}"),
    N_("required"),
    N_("(dynamic)"),
    N_("(deprecated) "),
    N_("[default: {}]"),
    N_("[env var: {}]"),
    N_("[required]"),
    N_("Show the version and exit."),
    N_("Show this message and exit."),
    N_("Error: {message}"),
    N_("Try '{command} {option}' for help."),
    N_("Try [blue]'{command_path} {help_option}'[/] for help."),
    N_("Invalid value: {message}"),
    N_("Invalid value for {param_hint}: {message}"),
    N_("Missing argument"),
    N_("Missing option"),
    N_("Missing parameter"),
    N_("Missing {param_type}"),
    N_("Missing parameter: {param_name}"),
    N_("No such option {name!r}."),
    N_("No such command {name!r}."),
    N_("Could not open file {filename!r}: {message}"),
    N_("Argument {name!r} takes {nargs} values."),
    N_("Option {name!r} does not take a value."),
    N_("Do you want to continue?"),
    N_("Error: invalid input"),
    N_("Choose from:\n\t{choices}"),
    N_("{value!r} is not a valid {number_type}."),
    N_("{value} is not in the range {range}."),
    N_("{value!r} is not a valid boolean. Recognized values: {states}"),
    N_("file"),
    N_("directory"),
    N_("path"),
    N_("{name} {filename!r} does not exist."),
    N_("{name} {filename!r} is a file."),
    N_("{name} {filename!r} is a directory."),
    N_("{name} {filename!r} is not readable."),
    N_("{name} {filename!r} is not writable."),
)
#: the same, where Click needs singular and plural
FRAMEWORK_PLURALS = (
    Nn_("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})"),
    Nn_("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments."),
    Nn_("{value!r} is not {choice}.", "{value!r} is not one of {choices}."),
    Nn_("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)"),
    Nn_(
        "{value!r} does not match the format {format}.",
        "{value!r} does not match the formats {formats}.",
    ),
)


class _AsWritten(str):
    """Text already quoted: shown as it is where a message says ``{value!r}``."""

    def __repr__(self) -> str:
        return str(self)


_NOT_ONE_OF = re.compile(r"(?P<value>.+) is not one of (?P<choices>.+)\.")


def _plain(message: str) -> str:
    """A value refused by Typer's own checks: without the validator's "Value error, " and, for
    a choice, in the catalogue's words."""
    message = message.removeprefix("Value error, ")
    found = _NOT_ONE_OF.fullmatch(message)
    if found is None:
        return message
    choices = found["choices"]
    return i18n.ngettext(
        "{value!r} is not {choice}.", "{value!r} is not one of {choices}.", choices.count(",") + 1
    ).format(value=_AsWritten(found["value"]), choice=choices, choices=choices)


def _bad_parameter(self) -> str:
    message = _plain(self.message)
    if self.param_hint is not None:
        hint = self.param_hint
    elif self.param is not None:
        hint = self.param.get_error_hint()
    else:
        return i18n._("Invalid value: {message}").format(message=message)
    if not isinstance(hint, str):
        hint = " / ".join(repr(x) for x in hint)
    return i18n._("Invalid value for {param_hint}: {message}").format(
        param_hint=hint, message=message
    )


def _missing_parameter(self) -> str:
    hint = self.param_hint if self.param_hint is not None else None
    if hint is None and self.param is not None:
        hint = self.param.get_error_hint()
    if hint is not None and not isinstance(hint, str):
        hint = " / ".join(repr(x) for x in hint)
    kind = self.param_type or (self.param.param_type_name if self.param is not None else "")
    what = {"option": i18n._("Missing option"), "argument": i18n._("Missing argument")}.get(
        kind, i18n._("Missing parameter")
    )
    text = f"{what} {hint}" if hint else what
    return f"{text}. {self.message}" if self.message else text


def _no_such_option(self) -> str:
    text = i18n._("No such option {name!r}.").format(name=self.option_name)
    if self.possibilities:
        text += " " + i18n._("Did you mean {possibility}?").format(
            possibility=", ".join(sorted(self.possibilities))
        )
    return text


def _write_usage(original):
    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        if prefix is None:
            prefix = i18n._("Usage:") + " "
        original(self, prog, args, prefix)

    return write_usage


def _with_help_page(original):
    """Load the help page's layout (``propfee.cli.helppage``: rich and Typer's help
    formatting, about a tenth of a second) only when a help page is printed, and give it the
    active language."""

    def format_help(self, ctx, formatter):
        importlib.import_module("propfee.cli.helppage").speak()
        return original(self, ctx, formatter)

    return format_help


def _help_option(original):
    def get_help_option(self, ctx):
        option = original(self, ctx)
        if option is not None:
            option.help = i18n._("Show this message and exit.")
        return option

    return get_help_option


_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_OPENING = "（「『《【“‘"
_CLOSING = "，。、；：！？）」』》】”’…"
#: a "word" for line wrapping: one Chinese character with the punctuation that may not start
#: or end a line kept beside it, or a run of anything else up to a space or a Chinese character
_WRAP_WORD = re.compile(
    rf"\s*(?:[{_OPENING}]*[{_CJK}][{_CLOSING}]*"
    rf"|[{_OPENING}]*[^\s{_CJK}{_OPENING}{_CLOSING}]+[{_CLOSING}]*"
    rf"|\S)\s*"
)


def _patch_framework() -> None:
    """Click as Typer ships it prints a few fixed English phrases; route them through the
    catalogue (each patch is skipped if a later Typer moves the thing it patches). Rich wraps
    lines at spaces only, so a Chinese paragraph (no spaces) would be cut mid-option; let it
    break between Chinese characters, never before a closing mark. The help page's own layout
    is loaded and set up only when a help page is printed."""
    if isinstance(getattr(rich._wrap, "re_word", None), re.Pattern):
        rich._wrap.re_word = _WRAP_WORD
    exc = click_exceptions
    for cls, name, func in (
        (getattr(exc, "BadParameter", None), "format_message", _bad_parameter),
        (getattr(exc, "MissingParameter", None), "format_message", _missing_parameter),
        (getattr(exc, "NoSuchOption", None), "format_message", _no_such_option),
    ):
        if cls is not None and hasattr(cls, name):
            setattr(cls, name, func)
    formatter = getattr(click_formatting, "HelpFormatter", None)
    if formatter is not None and hasattr(formatter, "write_usage"):
        formatter.write_usage = _write_usage(formatter.write_usage)
    for param in (
        getattr(typer.core, "TyperOption", None),
        getattr(typer.core, "TyperArgument", None),
    ):
        if param is not None and hasattr(param, "display_type_rich"):
            param.display_type_rich = _shown_type(param.display_type_rich)
    argument = getattr(typer.core, "TyperArgument", None)
    if argument is not None and hasattr(argument, "_usage_display_name"):
        argument._usage_display_name = _argument_name
    if isinstance(getattr(argument, "display_name_raw", None), property):
        argument.display_name_raw = property(_argument_shown)
    command = getattr(click_core, "Command", None)
    if command is not None and hasattr(command, "get_help_option"):
        command.get_help_option = _help_option(command.get_help_option)
    for command in (
        getattr(typer.core, "TyperCommand", None),
        getattr(typer.core, "TyperGroup", None),
    ):
        if command is not None and hasattr(command, "format_help"):
            command.format_help = _with_help_page(command.format_help)


#: the type Typer shows beside an option that has no metavar of its own
_TYPE_LABELS = {
    "<str>": N_("TEXT"),
    "<int>": N_("INTEGER"),
    "<float>": N_("NUMBER"),
    "<path>": N_("PATH"),
}


def _shown_type(display_type_rich):
    """A flag takes no value, so nothing is shown beside it (Typer shows ``<bool>``); the
    plain types are named in the reader's language."""

    def display(self, ctx):
        if getattr(self, "is_flag", False):
            return None
        label = display_type_rich(self, ctx)
        return i18n._(_TYPE_LABELS[label]) if label in _TYPE_LABELS else label

    return display


def _argument_name(self) -> str:
    """An argument as the README writes it: ``UNIT``, ``[FILE]``, ``CODES...``."""
    name = _argument_shown(self)
    if not self.required:
        name = f"[{name}]"
    return name + ("..." if self.nargs != 1 else "")


def _argument_shown(self) -> str:
    return self.metavar if self.metavar is not None else self.name.upper()


_FRAMEWORK_MODULES = (typer.core,)


def speak(lang: str) -> None:
    """Switch every message, ours and the framework's, to ``lang``."""
    i18n.activate(lang)
    for module in _FRAMEWORK_MODULES:
        if hasattr(module, "_"):
            module._ = i18n._
        if hasattr(module, "ngettext"):
            module.ngettext = i18n.ngettext


def without_lang(argv: Sequence[str]) -> list[str]:
    """The command line with ``--lang X`` taken out (it is read before anything is parsed,
    so it may stand anywhere, before or after the command)."""
    out: list[str] = []
    skip = False
    for i, arg in enumerate(argv):
        if skip:
            skip = False
            continue
        if arg == "--":
            out.extend(argv[i:])
            break
        if arg == "--lang":
            skip = True
            continue
        if arg.startswith("--lang="):
            continue
        out.append(arg)
    return out


_patch_framework()
speak(i18n.current())
