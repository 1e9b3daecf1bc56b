"""Rendering notices, letters and receipts from Jinja templates.

Templates ship with propfee (``templates/zh`` is the default language, ``templates/en`` the
alternative; see files/shipped.py). An estate may point ``template_dir`` in its settings
at a folder of its own: a template found there wins over the shipped one of the same name.
Rendering is sandboxed, an undefined variable is an error (never a silent blank in a legal
letter), and HTML output is autoescaped.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from propfee.core.errors import PropfeeError
from propfee.core.money import decimal_str, format_money
from propfee.files.shipped import shipped_dir


def cn_date(value: object) -> str:
    """``2026-11-15`` -> ``2026年11月15日``."""
    if isinstance(value, str):
        return _cn_date_text(value)
    if not isinstance(value, date):
        return ""
    return f"{value.year}年{value.month}月{value.day}日"


@lru_cache(maxsize=4096)
def _cn_date_text(value: str) -> str:
    day = date.fromisoformat(value)
    return f"{day.year}年{day.month}月{day.day}日"


def _yuan(fen: int) -> str:
    return format_money(fen).replace("¥", "")


@lru_cache(maxsize=8)
def _environment(override: str | None):
    import jinja2  # heavy: loaded when needed
    from jinja2.runtime import LoopContext
    from jinja2.sandbox import SandboxedEnvironment

    dict_attributes = frozenset(dir(dict))
    loop_attributes = frozenset(
        (
            "index",
            "index0",
            "first",
            "last",
            "length",
            "revindex",
            "revindex0",
            "previtem",
            "nextitem",
            "depth",
            "depth0",
        )
    )

    class Sandbox(SandboxedEnvironment):
        """The sandbox, with a fast path for what letters read most: a key of a plain dict
        (data, never an attribute of an object) and a for-loop's own counters. Everything
        else goes through the sandbox's checks."""

        def getattr(self, obj, attribute):
            if type(obj) is dict and attribute not in dict_attributes:
                try:
                    return obj[attribute]
                except KeyError:
                    pass
            elif type(obj) is LoopContext and attribute in loop_attributes:
                return getattr(obj, attribute)
            return super().getattr(obj, attribute)

    loaders: list[jinja2.BaseLoader] = []
    if override:
        loaders.append(jinja2.FileSystemLoader(override))
    loaders.append(jinja2.FileSystemLoader(str(shipped_dir("templates"))))
    env = Sandbox(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(["html", "htm"], default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # a run renders thousands of letters: no stat() per render
    )
    env.filters["money"] = format_money
    env.filters["yuan"] = _yuan
    env.filters["plain"] = decimal_str
    env.filters["cn_date"] = cn_date
    return env


def render(settings, name: str, context: dict) -> str:
    """Render template ``name`` (e.g. ``zh/bill_notice.html``) with ``context``."""
    import jinja2  # heavy: loaded when needed

    override = settings.template_path if settings is not None else None
    env = _environment(str(override) if override else None)
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateNotFound:
        raise PropfeeError(f"template {name} not found") from None
    except jinja2.UndefinedError as exc:
        raise PropfeeError(f"template {name}: {exc.message}") from None
    except jinja2.TemplateSyntaxError as exc:
        raise PropfeeError(
            f"template {exc.filename or name} line {exc.lineno}: {exc.message}"
        ) from None
    except jinja2.exceptions.SecurityError as exc:
        raise PropfeeError(f"template {name}: not allowed ({exc})") from None


def require(settings, names: list[str], *, option: str = "--language") -> None:
    """Every template a command will render exists: checked before the command writes
    anything, so a mistyped language never leaves a half-done command behind."""
    import jinja2  # heavy: loaded when needed

    override = settings.template_path if settings is not None else None
    env = _environment(str(override) if override else None)
    for name in names:
        try:
            env.get_template(name)
        except jinja2.TemplateNotFound:
            language = name.split("/", 1)[0]
            raise PropfeeError(
                f"{option} {language}: template {name} not found (shipped languages: "
                f"{', '.join(_languages())}; or add {name} to the template_dir of the settings)"
            ) from None
        except jinja2.TemplateSyntaxError as exc:
            raise PropfeeError(
                f"template {exc.filename or name} line {exc.lineno}: {exc.message}"
            ) from None


def _languages() -> list[str]:
    return sorted({name.split("/", 1)[0] for name in template_names()})


def template_names() -> list[str]:
    """Every shipped template (for tests that check them all)."""
    root = shipped_dir("templates")
    names = []
    for language in root.iterdir():
        if language.is_dir():
            names.extend(f"{language.name}/{t.name}" for t in language.iterdir() if t.is_file())
    return sorted(names)
