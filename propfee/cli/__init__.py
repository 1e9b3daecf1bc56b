"""The ``propfee`` command line: thin Typer commands over the core modules.

Each command parses its options, calls one core function and renders the result. Errors the
user can fix arrive as PropfeeError and leave as one red line on stderr with exit code 1
(usage errors: 2); an unexpected failure is one line too, unless PROPFEE_DEBUG=1.

The commands live in modules ``propfee/cli/NAME.py``, each with ``register(app)``, listed
once in ``COMMAND_MODULES``. A command line that names a command loads only that command's
module (``propfee today`` never imports the roster reader, the workbook writer or the
templates); the help, a bare ``propfee`` and ``propfee.cli.app`` load them all.
"""

from __future__ import annotations

import importlib
import os
import sqlite3
import sys
from collections.abc import Iterable

import typer
from typer._click import exceptions as click_exceptions
from typer.core import TyperGroup

from propfee import __version__
from propfee.cli.common import audit_wrapper, choose_estate, debug_enabled, fail
from propfee.cli.lang import speak, without_lang
from propfee.cli.params import defer_validators
from propfee.core.errors import PropfeeError
from propfee.core.i18n import _, choose, normalise
from propfee.store.db import last_opened, translate

defer_validators()


class PropfeeGroup(TyperGroup):
    """Turns exceptions into one clear line and an exit code, for every subcommand."""

    def main(self, *args, standalone_mode: bool = True, **kwargs):
        """Run the command line; a usage error (exit 2) is one ``错误：…`` line like every other
        error, then the line that says where the help is."""
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except click_exceptions.ClickException as exc:
            _usage_error(exc)
            sys.exit(exc.exit_code)
        except typer.Abort:
            fail(None, PropfeeError(_("Aborted.")))
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except PropfeeError as exc:
            fail(None, exc)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            fail(None, PropfeeError(_("interrupted; the command's changes were rolled back")))
            raise typer.Exit(130) from None
        except BrokenPipeError:
            sys.stderr.close()
            raise typer.Exit(1) from None
        except sqlite3.Error as exc:
            if debug_enabled():
                raise

            error = translate(exc, last_opened())
            if not isinstance(error, PropfeeError):
                error = PropfeeError(_("database error: {error}").format(error=exc))
            fail(None, error)
            raise typer.Exit(error.exit_code) from None
        except Exception as exc:
            if debug_enabled() or _from_framework(exc):
                raise
            fail(
                None,
                PropfeeError(
                    _(
                        "internal error: {kind}: {error} (PROPFEE_DEBUG=1 shows the traceback)"
                    ).format(kind=type(exc).__name__, error=exc)
                ),
            )
            raise typer.Exit(1) from None


def _usage_error(exc: click_exceptions.ClickException) -> None:
    """``错误：没有选项 '--bogus'。`` and ``用 'propfee overdue -h' 查看帮助。`` on stderr."""
    if type(exc).__name__ == "NoArgsIsHelpError":  # the help was printed: nothing to add
        return
    fail(None, PropfeeError(exc.format_message()))
    ctx = getattr(exc, "ctx", None)
    if ctx is not None and ctx.command.get_help_option(ctx) is not None:
        sys.stderr.write(
            _("Try '{command} {option}' for help.").format(
                command=ctx.command_path, option=ctx.help_option_names[0]
            )
            + "\n"
        )


def _from_framework(exc: Exception) -> bool:
    """Exit, Abort and usage errors belong to Typer/Click, which print them and pick the code."""
    return any(k.__module__.split(".")[0] in ("typer", "click") for k in type(exc).__mro__)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"propfee {__version__}")
        raise typer.Exit()


def _lang(value: str | None) -> str | None:
    if value is None:
        return None
    if normalise(value) is None:
        raise typer.BadParameter(
            _("{value!r} is not a language (use zh or en)").format(value=value)
        )
    speak(choose(value))
    return value


def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help=_("Show the version and exit.")
    ),
    lang: str | None = typer.Option(
        None,
        "--lang",
        metavar="zh|en",
        callback=_lang,
        is_eager=True,
        help=_(
            "Language of messages and help: zh (default) or en; also $PROPFEE_LANG. "
            "Documents for owners are always Chinese."
        ),
    ),
    estate: str | None = typer.Option(
        None,
        "--estate",
        envvar="PROPFEE_ESTATE",
        metavar="NAME",
        callback=choose_estate,
        help=_(
            "With --db postgresql://…: the estate, whose tables are the schema NAME on that "
            "server (default: public)."
        ),
    ),
) -> None:
    pass


# commands with --quiet that write files but never the database: no --operator for them
# (export-units and export-all have one: an export in full is on the trail with its operator)
READS_ONLY = {
    "calendar",
    "check",
    "backup",
    "notices",
    "legal-pack",
    "report collection",
    "group report",
    "survey-report",
    "today",
}


def audited(typer_app: typer.Typer, prefix: str = "") -> None:
    """Wrap every command so the transactions it commits are recorded in the audit trail
    under its name, arguments and operator; write commands (the ones with --quiet) gain
    --operator unless they have their own."""
    for info in typer_app.registered_commands:
        name = f"{prefix}{info.name or info.callback.__name__.replace('_', '-')}"
        info.callback = audit_wrapper(info.callback, name, writes=name not in READS_ONLY)
    for sub in typer_app.registered_groups:
        audited(sub.typer_instance, f"{prefix}{sub.name} ")


#: the command modules, in the order the help lists their commands, with the names each one
#: registers at the top of the command line
COMMAND_MODULES = {
    "roster": ("import-units", "export-units", "units"),
    "fees": ("init", "fees"),
    "billing": ("bill", "adjust", "rebill", "notices", "import-history", "readings"),
    "ledger": ("pay", "reverse", "apply-credit", "statement", "check", "reconcile", "report"),
    "arrears": ("overdue", "remind", "contact"),
    "legal": ("latefee", "legal-pack", "plan"),
    "relations": ("owners", "complain"),
    "admin": ("backup", "restore", "audit", "export-all"),
    "surveys": ("survey-report", "survey"),
    "demo": ("demo",),
    "calendar": ("calendar",),
    "search": ("search",),
    "server": ("migrate-to",),
    "today": ("today",),
    "group": ("group",),
}
_MODULE_OF = {name: module for module, names in COMMAND_MODULES.items() for name in names}


def build(modules: Iterable[str] = COMMAND_MODULES) -> typer.Typer:
    """The command line with the commands of ``modules`` (names in COMMAND_MODULES), each
    module loaded here — the one place a command module is imported."""
    app = typer.Typer(
        cls=PropfeeGroup,
        name="propfee",
        help=_("Property-fee collection and owner relations for an estate, over one SQLite file."),
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode="rich",
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    app.callback(
        help=_("Property-fee collection and owner relations for an estate, over one SQLite file.")
        + "\n\n"
        + _(
            "Every command takes --db (or $PROPFEE_DB, else ./propfee.db) and --config (or "
            "$PROPFEE_CONFIG, else propfee.toml beside the database). Start with: propfee demo"
        )
    )(_root)
    for module in modules:
        importlib.import_module(f"propfee.cli.{module}").register(app)
    audited(app)
    return app


def __getattr__(name: str):
    """``propfee.cli.app``: the whole command line, built the first time it is asked for."""
    if name != "app":
        raise AttributeError(name)
    whole = globals()["app"] = build()
    return whole


def command_name(args: list[str]) -> str | None:
    """The command a command line names (its first word that is not a root option), if any."""
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            return args[i + 1] if i + 1 < len(args) else None
        if not arg.startswith("-"):
            return arg
        if arg in _ROOT_WITH_VALUE:
            i += 1
        i += 1
    return None


def for_command_line(args: list[str]) -> typer.Typer:
    """The command line for ``args``: only the module of the command they name; none for
    ``--version`` alone; every module when they name none or one that is not a command (the
    help, an error)."""
    module = _MODULE_OF.get(command_name(args) or "")
    if module:
        return build([module])
    if "--version" in args and not {"-h", "--help"} & set(args):
        return build([])
    return build()


#: options every command takes, also accepted before the command (``propfee --db x.db bill``)
_HOISTED = {"--db": "PROPFEE_DB", "--config": "PROPFEE_CONFIG"}
_ROOT_WITH_VALUE = {"--estate"}


def hoist_common_options(argv: list[str], environ: dict[str, str]) -> list[str]:
    """``--db``/``--config`` given before the command become what ``$PROPFEE_DB`` and
    ``$PROPFEE_CONFIG`` would say (the command's own ``--db`` still wins). ``--db`` given more
    than once before the command (``propfee --db A --db B group report``) is handed to the
    command as it was given: the group report reads each; any other command, the last."""
    out: list[str] = []
    dbs: list[str] = []
    i = 0
    while i < len(argv) and argv[i].startswith("-") and argv[i] != "--":
        arg = argv[i]
        name, eq, value = arg.partition("=")
        if name in _HOISTED and (eq or i + 1 < len(argv)):
            environ[_HOISTED[name]] = value if eq else argv[i + 1]
            if name == "--db":
                dbs.append(environ[_HOISTED[name]])
            i += 1 if eq else 2
            continue
        out.append(arg)
        if name in _ROOT_WITH_VALUE and not eq and i + 1 < len(argv):
            out.append(argv[i + 1])
            i += 1
        i += 1
    rest = out + argv[i:]
    if len(dbs) > 1:
        at = rest.index("--") if "--" in rest else len(rest)
        rest[at:at] = [part for db in dbs for part in ("--db", db)]
    return rest


def main() -> None:
    args = hoist_common_options(without_lang(sys.argv[1:]), os.environ)
    for_command_line(args)(args=args, prog_name="propfee")
