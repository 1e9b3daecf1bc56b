"""Messages in the reader's language: Chinese (zh-CN) by default, English on request.

Every sentence a person reads at the terminal is written in the code in English and wrapped:
``_("{n} payments recorded").format(n=n)``. The Chinese lives in one gettext catalogue,
``propfee/locale/zh_CN/LC_MESSAGES/propfee.po`` (compiled to ``propfee.mo`` beside it;
``python tools/i18n.py`` extracts, merges and compiles). English is the catalogue's identity.

- ``_(text)`` — the text in the active language.
- ``ngettext(one, many, n)`` — English needs two forms; Chinese has one.
- ``N_(text)`` — marks a label kept in a table (kinds, channels, states) for extraction;
  translate it with ``_()`` where it is shown.
- ``Nn_(one, many)`` — marks a pair that other code (Click) passes to ``ngettext``.
- ``zh(text)`` — always the Chinese: documents handed to owners (notices, letters, receipts)
  are Chinese whatever the operator's language.

The language is chosen once, before any help text is built: ``--lang`` on the command line,
else ``$PROPFEE_LANG``, else ``$LC_ALL``/``$LANG`` starting with ``en`` gives English,
else Chinese.
"""

from __future__ import annotations

import gettext
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

DOMAIN = "propfee"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LANGUAGES = ("zh", "en")

_CATALOGUE_OF = {"zh": "zh_CN"}


def _load(lang: str) -> gettext.NullTranslations:
    if lang not in _CATALOGUE_OF:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[_CATALOGUE_OF[lang]], fallback=True)


def normalise(value: str) -> str | None:
    """``zh``, ``zh_CN.UTF-8``, ``zh-Hans``, ``中文`` → ``zh``; ``en``, ``en_US`` → ``en``;
    anything else → None."""
    text = value.strip().lower().replace("-", "_")
    if text.startswith("en") or text in ("english", "英文"):
        return "en"
    if text.startswith(("zh", "cn")) or text in ("chinese", "中文", "简体中文"):
        return "zh"
    return None


def lang_in_argv(argv: Sequence[str]) -> str | None:
    """The value of ``--lang X`` / ``--lang=X`` on a command line, if any."""
    for i, arg in enumerate(argv):
        if arg == "--":
            return None
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None


def choose(
    explicit: str | None = None,
    environ: Mapping[str, str] | None = None,
    argv: Sequence[str] | None = None,
) -> str:
    """The language to speak: ``zh`` unless English is asked for."""
    environ = os.environ if environ is None else environ
    argv = sys.argv[1:] if argv is None else argv
    for value in (explicit, lang_in_argv(argv), environ.get("PROPFEE_LANG")):
        if value and normalise(value):
            return normalise(value)  # type: ignore[return-value]
    for key in ("LC_ALL", "LANG"):
        value = environ.get(key, "")
        if value:
            return "en" if value.lower().startswith("en") else "zh"
    return "zh"


_zh = _load("zh")
_active: gettext.NullTranslations = _zh
_lang = "zh"


def activate(lang: str) -> None:
    """Speak ``lang`` (``zh`` or ``en``) from now on."""
    global _active, _lang
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}")
    _lang = lang
    _active = _zh if lang == "zh" else _load(lang)


def current() -> str:
    return _lang


def _(message: str) -> str:
    return _active.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _active.ngettext(singular, plural, n)


def N_(message: str) -> str:
    return message


def Nn_(singular: str, plural: str) -> tuple[str, str]:
    """Marks a singular/plural pair for extraction, for code that calls ``ngettext`` itself."""
    return singular, plural


def zh(message: str) -> str:
    return _zh.gettext(message)


activate(choose())
