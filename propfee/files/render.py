"""Rendering notices, letters and receipts from Jinja templates.

Templates ship with propfee (``templates/zh`` is the default language, ``templates/en`` the
alternative; see files/shipped.py). An estate may point ``template_dir`` in its settings
at a folder of its own: a template found there wins over the shipped one of the same name.
Rendering is sandboxed, an undefined variable is an error (never a silent blank in a legal
letter), and HTML output is autoescaped.

Every text rendered here passes one gate before the caller can write, send or log it
(``check``): the wording LEGAL rule 1 forbids is refused in every template — shipped or the
estate's own, with the settings and data it interpolates — and a formal 催缴通知书 must state
what rule 2 asks (core/lawful.py). A refusal names the template file, the rule and the phrase.
The legal evidence pack alone is not checked: it reproduces records, it is not sent.
"""

from __future__ import annotations

import html as _entities
import re
from collections.abc import Sequence
from datetime import date
from functools import lru_cache

from propfee.core import lawful
from propfee.core.errors import PropfeeError, Unlawful
from propfee.core.i18n import _
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


def render(
    settings, name: str, context: dict, *, notices: Sequence[lawful.FormalNotice] = ()
) -> str:
    """Render template ``name`` (e.g. ``zh/bill_notice.html``) with ``context``, through the
    gate; ``notices`` are the 催缴通知书 the text holds, checked for what rule 2 asks."""
    import jinja2  # heavy: loaded when needed

    override = settings.template_path if settings is not None else None
    env = _environment(str(override) if override else None)
    try:
        template = env.get_template(name)
        text = template.render(**context)
    except jinja2.TemplateNotFound:
        raise PropfeeError(_("template {name} not found").format(name=name)) from None
    except jinja2.UndefinedError as exc:
        raise PropfeeError(
            _("template {name}: {error}").format(name=name, error=exc.message)
        ) from None
    except jinja2.TemplateSyntaxError as exc:
        raise PropfeeError(_syntax_error(exc, name)) from None
    except jinja2.exceptions.SecurityError as exc:
        raise PropfeeError(
            _("template {name}: not allowed ({error})").format(name=name, error=exc)
        ) from None
    if name.rsplit("/", 1)[-1] not in EVIDENCE_ONLY:
        check(text, template.filename or name, notices=notices, html=_is_html(name))
    return text


#: templates that reproduce records for a lawyer or a court rather than speak to an owner
EVIDENCE_ONLY = frozenset({"legal_pack.html"})
_TAG = re.compile(r"<[^>]*>")
_BLOCK_TAG = re.compile(
    r"<\s*/?\s*(?:td|th|tr|p|div|br|li|ul|ol|table|thead|tbody|section|h[1-6]|hr)\b[^>]*>",
    re.IGNORECASE,
)


def _syntax_error(exc, name: str) -> str:
    return _("template {name} line {line}: {error}").format(
        name=exc.filename or name, line=exc.lineno, error=exc.message
    )


def _is_html(name: str) -> bool:
    return name.lower().endswith((".html", ".htm"))


def check(
    text: str,
    source: str,
    *,
    notices: Sequence[lawful.FormalNotice] = (),
    html: bool = False,
) -> None:
    """The gate: refuse ``text`` (made from template file ``source``) when it says what
    LEGAL rule 1 forbids, or, holding formal notices, leaves out what rule 2 asks."""
    phrase = lawful.threat(html_text(text) if html else text)
    if phrase is not None:
        raise Unlawful(
            _(
                "template {source}: {rule} ({text}) does not allow “{phrase}”{origin}; nothing "
                "was sent, written or recorded"
            ).format(
                source=source,
                rule=lawful.RULE_1,
                text=lawful.RULE_1_TEXT,
                phrase=phrase,
                origin=_origin(source, phrase),
            )
        )
    gaps = lawful.notice_gaps(html_text(text, " ") if html else text, notices)
    if gaps:
        raise Unlawful(
            _(
                "template {source}: under {rule} ({text}) the formal notice it makes lacks: "
                "{gaps}; nothing was sent, written or recorded"
            ).format(
                source=source,
                rule=lawful.RULE_2,
                text=lawful.RULE_2_TEXT,
                gaps=_("; ").join(gaps),
            )
        )


def html_text(html: str, between: str | None = None) -> str:
    """What a reader of the HTML sees: each cell, paragraph or line on a line of its own and
    the inline tags taken out (a phrase split by <b> is still one phrase); or, given
    ``between``, every tag replaced by it."""
    if between is None:
        return _entities.unescape(_TAG.sub("", _BLOCK_TAG.sub("\n", html)))
    return _entities.unescape(_TAG.sub(between, html))


def _origin(source: str, phrase: str) -> str:
    """Where the phrase came from, when not from the template file itself."""
    try:
        with open(source, encoding="utf-8") as handle:
            if phrase.lower() in handle.read().lower():
                return ""
    except OSError:
        return ""
    return _(" (this text is not in the template: it comes from the settings file or the data)")


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
                _(
                    "{option} {language}: template {name} not found (shipped languages: "
                    "{languages}; or add {name} to the template_dir of the settings)"
                ).format(
                    option=option,
                    language=language,
                    name=name,
                    languages=", ".join(_languages()),
                )
            ) from None
        except jinja2.TemplateSyntaxError as exc:
            raise PropfeeError(_syntax_error(exc, name)) from None


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
