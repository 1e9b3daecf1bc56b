"""Reading option values without building a validator per option.

Typer turns each option's text into its value through a pydantic validator that it builds
the first time the option is processed, even when the option was not given; loading pydantic
and building those validators costs more than most commands' own work. Here the validator is
built only when a value needs it: a value left out (None) needs none; text, a plain whole
number, a choice, a path and a value read by the option's own parser are read as Typer's
validators read them (choices and paths by the very functions those validators call).
Anything else, and any value refused here, goes to Typer's own validator, so what is
accepted and every error message stay Typer's. (Skipped if a later Typer moves what this
relies on.)
"""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path

import typer.core
from typer import _coercion, _param_types

#: a whole number as Typer's validator reads it, in the form it surely reads the same
_WHOLE = re.compile(r"-?(?:0|[1-9][0-9]{0,17})")


def _reader(param):
    """How a value of ``param`` is read without pydantic, or None where Typer's validator
    is needed (the same order of cases as Typer's ``build_leaf_adapter``)."""
    desc = param.type_descriptor
    info = desc.parameter_info
    annotation = desc.annotation
    if desc.file_annotation is not None or param.multiple or param.nargs != 1:
        return None
    if info.parser is not None:
        parser = info.parser
        return lambda value, ctx: parser(value)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        choices = list(annotation)

        def choice(value, ctx):
            return _param_types.coerce_cli_choice(
                value, choices=choices, case_sensitive=info.case_sensitive, ctx=ctx
            )

        return choice
    if annotation is int and info.min is None and info.max is None and not info.clamp:
        return lambda value, ctx: (
            value
            if type(value) is int
            else int(value)
            if type(value) is str and _WHOLE.fullmatch(value)
            else _refused()
        )
    if annotation is str:
        return lambda value, ctx: value if type(value) is str else _refused()
    if annotation is Path and info.path_type is None:

        def path(value, ctx):
            if type(value) is not str or not value:
                _refused()
            return _param_types.coerce_cli_path(
                Path(value), info, path_type=Path, param=param, ctx=ctx
            )

        return path
    return None


def _refused():
    raise ValueError("left to Typer's validator")


class _Deferred:
    """A parameter's coercion: the reader above when it takes the value, else Typer's."""

    def __init__(self, param, build) -> None:
        self.param = param
        self.build = build
        self.read = _reader(param)
        self.typer = None

    def coerce(self, value, param, ctx):
        if value is None:  # as Typer: nothing given is None, or () for a list
            return () if param.multiple or param.nargs == -1 else None
        if self.read is not None:
            try:
                return self.read(value, ctx)
            except Exception:  # refused here: Typer's validator decides, with its message
                pass
        if self.typer is None:
            self.typer = self.build(self.param.type_descriptor)
        return self.typer.coerce(value, param=param, ctx=ctx)


def defer_validators() -> None:
    """Typer's parameters build their validator only when a value needs it."""
    param = getattr(typer.core, "_TyperParameter", None)
    build = getattr(_coercion, "build_runtime_param", None)
    needed = ("coerce_cli_choice", "coerce_cli_path")
    if param is None or build is None or not all(hasattr(_param_types, n) for n in needed):
        return
    if not hasattr(param, "get_runtime_param"):
        return

    def get_runtime_param(self):
        if getattr(self, "_runtime_param", None) is None:
            self._runtime_param = _Deferred(self, build)
        return self._runtime_param

    param.get_runtime_param = get_runtime_param
