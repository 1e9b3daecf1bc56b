"""The optional settings file (TOML).

Found at ``--config``, else ``$PROPFEE_CONFIG``, else ``propfee.toml`` beside the database.
Every key has a built-in default, so the file is optional; an unknown key or a value of the
wrong type is an error naming the key, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

from propfee.errors import ConfigError


@dataclass(frozen=True)
class Estate:
    """Who the company is; shown on every notice, receipt and letter."""

    company: str = "物业服务中心"
    name: str = "本小区"
    phone: str = ""
    address: str = ""
    developer: str = "开发建设单位"


@dataclass(frozen=True)
class Settings:
    estate: Estate = field(default_factory=Estate)
    language: str = "zh"
    template_dir: str = ""
    source: str = ""  # the file these came from, "" for built-in defaults

    @property
    def template_path(self) -> Path | None:
        if not self.template_dir:
            return None
        base = Path(self.source).parent if self.source else Path.cwd()
        return (base / self.template_dir).expanduser()


DEFAULTS = Settings()


def settings_path(config: str | Path | None, db_path: Path) -> Path | None:
    """The settings file to read: the one named, else ``propfee.toml`` beside the database."""
    if config:
        path = Path(config)
        if not path.is_file():
            raise ConfigError(f"settings file {path} does not exist")
        return path
    beside = db_path.parent / "propfee.toml"
    return beside if beside.is_file() else None


def load_settings(path: Path | None) -> Settings:
    if path is None:
        return DEFAULTS
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc})") from None
    data["source"] = str(path)
    return _build(Settings, data, str(path), "")


def _build(cls, data: dict, file: str, prefix: str):
    if not isinstance(data, dict):
        raise ConfigError(f"{file}: [{prefix.rstrip('.')}] must be a table")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        known = ", ".join(sorted(n for n in fields if n != "source"))
        raise ConfigError(f"{file}: unknown setting {prefix}{unknown[0]} (known here: {known})")
    values = {}
    for name, value in data.items():
        values[name] = _coerce(hints[name], value, file, f"{prefix}{name}")
    return cls(**values)


def _coerce(hint, value, file: str, key: str):
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, file, f"{key}.")
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return _coerce(options[0], value, file, key)
    if origin in (list, tuple):
        (item,) = typing.get_args(hint)[:1]
        if not isinstance(value, list):
            raise ConfigError(f"{file}: {key} must be a list")
        items = [_coerce(item, v, file, key) for v in value]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{file}: {key} must be a table")
        _, item = typing.get_args(hint)
        return {str(k): _coerce(item, v, file, f"{key}.{k}") for k, v in value.items()}
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{file}: {key} must be true or false")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{file}: {key} must be a whole number")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{file}: {key} must be text (in quotes)")
        return value
    return value
