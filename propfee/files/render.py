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

HTML is read as a browser reads it (files/html_reading.py: tags, comments, raw text and
character references as the HTML5 tokenizer reads them). What CSS and some elements do to
the text is not read: the gate refuses, naming the template, a document whose HTML or CSS
could hide, make or move text (display:none, font-size:0, content:, position, the hidden
attribute, <script>, <template> …), for the owner would read what the gate did not check.
Layout — fonts, sizes, colours dark on light, spacing, borders, tables, flex boxes, page
rules, @media print — passes. The shipped templates keep to it.
"""

from __future__ import annotations

import html as _entities
import io
import os
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import date
from functools import lru_cache
from operator import itemgetter
from pathlib import Path

from markupsafe import escape as _markup_escape

from propfee.core import lawful
from propfee.core.errors import PropfeeError, Unlawful
from propfee.core.i18n import _
from propfee.core.money import decimal_str, format_money
from propfee.files import html_reading
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


def _money(fen: int) -> str:
    """``format_money``; an amount in fen made once a run (letters repeat the same few)."""
    return _money_of(fen) if type(fen) is int else format_money(fen)


def _yuan(fen: int) -> str:
    return _yuan_of(fen) if type(fen) is int else format_money(fen).replace("¥", "")


@lru_cache(maxsize=8192)
def _money_of(fen: int) -> str:
    return format_money(fen)


@lru_cache(maxsize=8192)
def _yuan_of(fen: int) -> str:
    return format_money(fen).replace("¥", "")


_DICT_ATTRIBUTES = frozenset(dir(dict))
_LOOP_ATTRIBUTES = frozenset(
    ("index", "index0", "first", "last", "length", "revindex", "revindex0", "previtem",
     "nextitem", "depth", "depth0")
)  # fmt: skip


@lru_cache(maxsize=1)
def _sandbox():
    """The sandbox, with a fast path for what letters read most: a key of a plain dict
    (data, never an attribute of an object) and a for-loop's own counters. Everything else
    goes through the sandbox's checks. Its templates are compiled by ``_generator()``."""
    from jinja2.runtime import LoopContext  # heavy: loaded when needed
    from jinja2.sandbox import SandboxedEnvironment

    class Sandbox(SandboxedEnvironment):
        code_generator_class = _generator()

        def getattr(self, obj, attribute):
            if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
                try:
                    return obj[attribute]
                except KeyError:
                    pass
            elif type(obj) is LoopContext and attribute in _LOOP_ATTRIBUTES:
                return getattr(obj, attribute)
            return super().getattr(obj, attribute)

    return Sandbox


@lru_cache(maxsize=1)
def _generator():
    """jinja2's code generator, with what letters write most done in line, without a call:
    ``a.b`` of a plain dict (a key that is no dict attribute's name), read as
    Sandbox.getattr reads it (a run of 20,000 letters reads over a million of them), and a
    text with nothing to escape, written as it is (``_escape`` in line). Anything else still
    goes to Sandbox.getattr and ``_escape``."""
    from jinja2.compiler import CodeGenerator, optimizeconst  # heavy: loaded when needed

    class Generator(CodeGenerator):
        @optimizeconst
        def visit_Getattr(self, node, frame) -> None:
            if node.attr in _DICT_ATTRIBUTES or self.environment.is_async:
                CodeGenerator.visit_Getattr(self, node, frame)
                return
            key = repr(node.attr)
            self.write(f"(_pf_v[{key}] if type(_pf_v := (")
            self.visit(node.node, frame)
            self.write(f")) is dict and {key} in _pf_v else environment.getattr(_pf_v, {key}))")

        def _inline_escape(self, frame, finalize) -> bool:
            return (
                frame.eval_ctx.autoescape
                and not frame.eval_ctx.volatile
                and finalize.src is None
            )

        def _output_child_pre(self, node, frame, finalize) -> None:
            if not self._inline_escape(frame, finalize):
                super()._output_child_pre(node, frame, finalize)
                return
            self.write("(_pf_e if type(_pf_e := (")

        def _output_child_post(self, node, frame, finalize) -> None:
            if not self._inline_escape(frame, finalize):
                super()._output_child_post(node, frame, finalize)
                return
            tests = " or ".join(f"{special!r} in _pf_e" for special in _HTML_SPECIAL)
            self.write(f")) is str and not ({tests}) else escape(_pf_e))")

    return Generator


@lru_cache(maxsize=8)
def _environment(override: str | None):
    import jinja2  # heavy: loaded when needed

    loaders: list[jinja2.BaseLoader] = []
    if override:
        loaders.append(jinja2.FileSystemLoader(override))
    loaders.append(jinja2.FileSystemLoader(str(shipped_dir("templates"))))
    env = _sandbox()(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(["html", "htm"], default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # a run renders thousands of letters: no stat() per render
    )
    env.filters["money"] = _money
    env.filters["yuan"] = _yuan
    env.filters["plain"] = decimal_str
    env.filters["cn_date"] = cn_date
    return env


def render(
    settings, name: str, context: dict, *, notices: Sequence[lawful.FormalNotice] = ()
) -> str:
    """Render template ``name`` (e.g. ``zh/bill_notice.html``) with ``context``, through the
    gate; ``notices`` are the 催缴通知书 the text holds, checked for what rule 2 asks."""
    try:  # as _template_errors, without a context manager for each of 20,000 letters
        template = _compiled(settings, name)
        text = _rendered(template, context)
    except Exception as exc:
        _as_propfee_error(exc, name)
        raise
    if name.rsplit("/", 1)[-1] not in EVIDENCE_ONLY:
        check(text, template.filename or name, notices=notices, html=_is_html(name))
    return text


def _rendered(template, context: dict) -> str:
    """``template.render(context)`` without its two copies of the context nor its walk of
    the globals' ChainMap (a run renders a text for each of tens of thousands of letters):
    the same context, made as jinja2's ``new_context`` makes it, from the same globals."""
    try:
        return "".join(template.root_render_func(_context(template, context)))
    except Exception:
        template.environment.handle_exception()  # re-raised with the template's line
        raise  # not reached: handle_exception raises


def _context(template, context: dict):
    """The context ``template`` renders ``context`` in, made as jinja2's ``new_context``
    makes it, from the same globals."""
    env, found = template.environment, _globals(template)
    return env.context_class(
        env, dict(found, **context), template.name, template.blocks, globals=found
    )


@lru_cache(maxsize=256)
def _globals(template) -> dict:
    """The template's globals as one plain dict: its own ChainMap, walked for every context
    made from it, costs a third of a short text's rendering."""
    return dict(template.globals)


def _compiled(settings, name: str):
    """The template, compiled once per run (the environment keeps it)."""
    override = settings.template_path if settings is not None else None
    return _template(str(override) if override else None, name)


@lru_cache(maxsize=256)  # a run renders one template for each of 100,000 notices
def _template(override: str | None, name: str):
    template = _environment(override).get_template(name)
    # the compiled template's module: text that needs no escaping is written as it is
    template.root_render_func.__globals__["escape"] = _escape
    return template


_HTML_SPECIAL = ("&", "<", ">", '"', "'")


def _escape(value):
    """markupsafe's escape for the text a template writes into HTML, without making a new
    string of a text that has nothing to escape (most of what a letter says): a document
    of 100,000 notices writes millions of them. Everything else goes to markupsafe."""
    if type(value) is str:
        for special in _HTML_SPECIAL:
            if special in value:
                return _markup_escape(value)
        return value
    if type(value) is int:
        return str(value)
    return _markup_escape(value)


@contextmanager
def _template_errors(name: str) -> Iterator[None]:
    """What a template's failure means, said as a PropfeeError."""
    try:
        yield
    except Exception as exc:
        _as_propfee_error(exc, name)
        raise


def _as_propfee_error(exc: Exception, name: str) -> None:
    """Raise what the failure ``exc`` of template ``name`` means as a PropfeeError; return
    when it is no template's failure (the caller re-raises it as it is)."""
    import jinja2  # heavy: loaded when needed

    if isinstance(exc, jinja2.TemplateNotFound):
        raise PropfeeError(_("template {name} not found").format(name=name)) from None
    if isinstance(exc, jinja2.UndefinedError):
        raise PropfeeError(
            _("template {name}: {error}").format(name=name, error=exc.message)
        ) from None
    if isinstance(exc, jinja2.TemplateSyntaxError):
        raise PropfeeError(_syntax_error(exc, name)) from None
    if isinstance(exc, jinja2.exceptions.SecurityError):
        raise PropfeeError(
            _("template {name}: not allowed ({error})").format(name=name, error=exc)
        ) from None


#: templates that reproduce records for a lawyer or a court rather than speak to an owner
EVIDENCE_ONLY = frozenset({"legal_pack.html"})
# the block tags (html_reading.BLOCK) but those the exact reader reads otherwise (raw text,
# elements refused), those most frequent in letters first (an alternative is tried in turn)
_FREQUENT = ("td", "tr", "th", "p", "div", "br", "table", "thead", "tbody", "section")
_ODD = {"xmp", "plaintext", "details", "dialog", "option", "optgroup", "form", "legend"}
_BLOCK_NAMES = "(?:{})".format(
    "|".join(_FREQUENT + tuple(sorted(html_reading.BLOCK - _ODD - set(_FREQUENT))))
)
_PLAIN_NAMES = r"(?:b|strong|i|em|u|span|html|body|label|abbr|code|mark)"
# the rest of a tag as templates write it: lower case, a few attributes, values without
# "<", ">" or a line break (tried first: none, then one class); anything else is read by
# the exact reader (see _reading)
_PLAIN_REST = (
    r"(?:>| class=\"[^\"<>\n]*\">|(?:[\t\f\r ]+(?:class|id|colspan|rowspan|lang)"
    r"(?:=\"[^\"<>\n]*\"|='[^'<>\n]*'|=[^\t\n\f\r \"'<>=`]+)?)*[\t\f\r ]*/?>)"
)
# (split: each tag's "<" or "</" and name kept, for html_reading.Tree)
_PLAIN_BLOCK_TAG = re.compile(rf"(</?{_BLOCK_NAMES}){_PLAIN_REST}")
_PLAIN_TAG = re.compile(rf"</?{_PLAIN_NAMES}{_PLAIN_REST}")
_REFERENCE_INTO_TAG = re.compile(r"&[#0-9A-Za-z]*<")


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
    before: str = "",
    seen: str | None = None,
    tree: html_reading.Tree | None = None,
) -> str:
    """The gate: refuse ``text`` (made from template file ``source``) when it says what
    LEGAL rule 1 forbids, or, holding formal notices, leaves out what rule 2 asks. ``before``
    is what a reader sees just before ``text`` (a document checked piece by piece: a phrase
    cut between two pieces is still found); ``seen``, what a reader sees of ``text`` when the
    caller has it already; ``tree``, the elements open where ``text`` begins (see
    html_reading.read), left holding those open where it ends. Returns what a reader sees of
    ``text``."""
    if seen is None and html:
        try:
            seen = _reading(text, tree=tree)[0]
        except html_reading.Hidden as hidden:
            raise _unreadable(source, hidden) from None
    elif seen is None:
        seen = text
    # a plain text is read for both rules in lower case: lowered once
    lowered = None if html or before else text.lower()
    phrase = lawful.threat(before + seen, after=len(before), lowered=lowered)
    if phrase is not None:
        raise _threat_refusal(source, phrase)
    if not notices:  # nothing more to ask of a text that is no formal notice
        return seen
    gaps = lawful.notice_gaps(seen, notices, lowered=lowered)
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
    return seen


def html_text(html: str, between: str | None = None) -> str:
    """What a reader of the HTML sees, read as a browser reads it (files/html_reading.py):
    each cell, paragraph or line on a line of its own and the inline tags taken out (a
    phrase split by <b> is still one phrase); or, given ``between``, every tag and comment
    replaced by it. Raises html_reading.Hidden for HTML that may hide, make or move text."""
    if between is None:
        return _reading(html)[0]
    return html_reading.read(html, between).text


def _reading(
    html: str, *, final: bool = True, tree: html_reading.Tree | None = None
) -> tuple[str, bool]:
    """``html_text`` of ``html``, and whether it ends inside a tag, a comment, raw text or a
    character reference (what a reader sees of it then depends on what follows).

    Most letters are read by the quick path: block tags made line breaks and other tags
    taken out by two regular expressions that match only tags as templates write them (see
    ``_PLAIN_REST``), then references decoded. When no "<" is left, every "<" opened such a
    tag, and there is no comment, raw text, quoted ">" or odd name or space: the browser
    reads the same tags (a block tag inside another tag's value left a line break there,
    which no plain tag holds). No reference runs into a tag and no NUL is there (checked
    first): the text is what the exact reader gives. Anything else is read exactly.

    Where a browser's tree builder ignores a block tag, or a table holds text outside its
    cells, the exact reader reads it (html_reading.Tree): the block tags' sequence, from the
    elements ``tree`` holds open, is read once (``_tree_steps``). ``tree`` is left holding
    the elements open where ``html`` ends (see html_reading.read)."""
    if "\r" in html:  # as a browser reads it: CR LF and a lone CR are a line feed
        lf = html.replace("\r\n", "\n").replace("\r", "\n")
        seen, cut = _reading(lf, final=final, tree=tree)
        return seen, cut or html.endswith("\r")  # the next piece may begin with a LF
    if "\x00" not in html and ("&" not in html or _REFERENCE_INTO_TAG.search(html) is None):
        parts = _PLAIN_BLOCK_TAG.split(html)
        held = () if tree is None else tuple(tree.open)
        tags = "".join(parts[1::2])
        steps = _TREE_STEPS.get((held, tags)) or _tree_steps(held, tags)
        if steps[0] is not None and (
            steps[1] is None or not "".join(steps[1](parts)).strip("\t\n\f\r ")
        ):
            text = _PLAIN_TAG.sub("", "\n".join(parts[::2]))
            if "<" not in text:
                if tree is not None:
                    tree.open[:] = steps[0]
                amp = html.rfind("&")
                if amp == -1:
                    return text, False
                cut = _REFERENCE_BEGUN.fullmatch(html, amp) is not None
                return _entities.unescape(text), cut
    reading = html_reading.read(html, final=final, tree=tree)
    return reading.text, reading.cut


_TREE_STEPS: dict = {}
_TAG_NAMES = re.compile(r"(</?)([a-z0-9]+)")


def _tree_steps(held: tuple[str, ...], tags: str):
    """What the block tags ``tags`` (their "<" or "</" and name, as the quick path finds
    them, one after another) do from the elements ``held`` open: the elements held open after
    them, and what takes from the quick path's parts (texts and tags in turn) the texts a
    table holds outside its cells, where only white space may be; or (None, None) when a
    browser ignores one of them or one is refused (read exactly)."""
    tree = html_reading.Tree(held)
    table = []
    found = _TAG_NAMES.findall(tags)
    try:
        for at, (opens, name) in enumerate(found):
            if tree.context() in html_reading.TABLE_CONTEXT:
                table.append(2 * at)
            if not (tree.end(name) if opens == "</" else tree.start(name)):
                raise html_reading.Hidden(name)  # read as nothing: by the exact reader
    except html_reading.Hidden:
        steps = (None, None)
    else:
        if tree.context() in html_reading.TABLE_CONTEXT:
            table.append(2 * len(found))
        steps = (tree.key(), itemgetter(*table) if table else None)
    if len(_TREE_STEPS) > 4096:
        _TREE_STEPS.clear()
    _TREE_STEPS[held, tags] = steps
    return steps


# found from each line break (faster than \s*\n\s*), and only where white space follows it:
# a line break alone (a third of a letter's) is left as it is, not replaced by itself
_LINE_BREAKS = re.compile(r"\n\s+")


def _tidy(seen: str) -> str:
    """What a reader sees (``html_text``) without the blank lines and indentation that the
    template's layout leaves: the same words on the same lines, for both rules of the gate."""
    return _LINE_BREAKS.sub("\n", seen)


def _reader_text(html: str) -> str:
    """``_reader_reading``'s text."""
    return _reader_reading(html)[0]


def _reader_reading(
    html: str, *, final: bool = True, tree: html_reading.Tree | None = None
) -> tuple[str, bool]:
    """``html_text``, tidied, with the end of a table cell that another cell follows at once
    (``</td><td``, as templates write a row) marked with a tab, which the record keeps as a
    space between the two (see printed_text): for the gate, the same lines and words as
    ``html_text``; and whether the text ends cut (see ``_reading``). A plain replace: a
    regular expression for every way of writing a row costs an eighth of a reminder run's
    gate."""
    html = html.replace("</td><td", "\t<td").replace("</th><th", "\t<th")
    seen, cut = _reading(html, final=final, tree=tree)
    return _tidy(seen), cut


def printed_text(seen: str) -> str:
    """What a reader sees of an HTML text (``_reader_text``) as a record keeps it: a line for
    each paragraph and table row, without the blank lines and indentation that the template's
    layout leaves."""
    return seen.replace("\t\n", "　").strip()


_REFERENCE_BEGUN = re.compile(r"&(?:#[0-9]*|#[xX][0-9a-fA-F]*|[A-Za-z0-9]*)")


def _threat_refusal(source: str, phrase: str) -> Unlawful:
    """The gate's refusal of a text that says ``phrase``, which LEGAL rule 1 forbids."""
    return Unlawful(
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


def _unreadable(source: str, hidden: html_reading.Hidden) -> Unlawful:
    """The gate's refusal of a document whose HTML may hide, make or move text (or whose
    title says what rule 1 forbids)."""
    if isinstance(hidden, html_reading.ThreatInTitle):
        return _threat_refusal(source, hidden.args[0])
    return Unlawful(
        _(
            "template {source}: its HTML {what}, which could hide, make or move text so that "
            "an owner reads what the gate did not check; nothing was sent, written or recorded"
        ).format(source=source, what=hidden.args[0])
    )


def _origin(source: str, phrase: str) -> str:
    """Where the phrase came from, when not from the template file itself."""
    try:
        with open(source, encoding="utf-8") as handle:
            if phrase.lower() in handle.read().lower():
                return ""
    except OSError:
        return ""
    return _(" (this text is not in the template: it comes from the settings file or the data)")


class Documents:
    """Documents written piece by piece as their template produces them — 20,000 letters are
    never one string in memory — that appear together or not at all (see ``documents``)."""

    def __init__(self) -> None:
        self.parts: list[tuple[Path, Path]] = []  # (being written, its final name)

    def write(
        self,
        settings,
        name: str,
        context: dict,
        path: Path,
        *,
        each: str,
        notices: Callable[[object], lawful.FormalNotice] | None = None,
        printed: Callable[[object, str], None] | None = None,
    ) -> None:
        """Render template ``name`` into ``path`` (UTF-8, readable by its owner only: letters
        hold owners' names and phones). ``context[each]`` is the iterable of the document's
        parts (its letters or notices): each part's text passes the gate before it reaches
        the file, with ``notices(part)``, the 催缴通知书 it is, checked for what rule 2 asks.
        ``printed(part, text)`` is told what a reader sees of a part the template printed on
        its own (made between asking for it and for the next one), as ``printed_text`` gives
        it, once the gate has passed it; a part printed with others, or not at all, is not."""
        with _template_errors(name):
            template = _compiled(settings, name)
        part = path.with_name(f".{path.name}.part")
        self.parts.append((part, path))
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            _write_pieces(template, name, context, handle, each, notices, printed)

    def open(self, path: Path, *, encoding: str = "utf-8"):
        """A text file at ``path`` (readable by its owner only) that takes its name with the
        documents: the caller writes only what has passed the gate."""
        part = path.with_name(f".{path.name}.part")
        self.parts.append((part, path))
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        return os.fdopen(fd, "w", encoding=encoding, newline="")

    def commit(self) -> None:
        for part, path in self.parts:
            os.replace(part, path)
        self.parts = []

    def discard(self) -> None:
        for part, _final in self.parts:
            part.unlink(missing_ok=True)
        self.parts = []


@contextmanager
def documents(folder: Path) -> Iterator[Documents]:
    """Write documents into ``folder`` with ``Documents.write``: when the block ends well
    they take their names together; when anything in it fails (a part refused by the gate,
    a template error) none of them is left behind, nor the folder if the block made it."""
    made = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    written = Documents()
    try:
        yield written
    except BaseException:
        written.discard()
        if made:
            with suppress(OSError):  # the folder holds something else after all
                folder.rmdir()
        raise
    written.commit()


def _write_pieces(template, name: str, context: dict, handle, each: str, notices, printed):
    """Render ``template`` into ``handle`` piece by piece, through the gate (Documents.write)."""
    pieces = _Pieces(handle, template.filename or name, name, notices, printed)
    with _template_errors(name):
        made = _context(template, {**context, each: pieces.parts(context[each])})
        try:  # each text the template yields (some 45 a letter) taken as it comes, in C
            deque(map(pieces.texts.append, template.root_render_func(made)), maxlen=0)
        except Exception:
            template.environment.handle_exception()  # as _rendered
            raise  # not reached: handle_exception raises
    pieces.flush(final=True)


def printed_alone(
    settings, name: str, context: dict, *, each: str, part, notice: lawful.FormalNotice
) -> str:
    """What document ``name`` prints of ``part`` when it is its only part — ``notice``, the
    催缴通知书 it is —, as ``printed_text`` gives it, through the gate: the text a record keeps
    of a part that was not printed on its own (see Documents.write)."""
    with _template_errors(name):
        template = _compiled(settings, name)
    told: list[str] = []
    handle = io.StringIO()
    _write_pieces(
        template,
        name,
        {**context, each: [part]},
        handle,
        each,
        lambda _part: notice,
        lambda _part, text: told.append(text),
    )
    return told[0] if told else printed_text(_reader_text(handle.getvalue()))


_NO_PART = object()


class _Pieces:
    """A document's text on its way to the file, in pieces: a piece is what the template
    produced before it asked for the next part. A piece holding formal notices is checked
    for what rule 2 asks on its own; one that does not pass (a template that speaks of a
    part after the next one was asked for) waits and is checked again with what follows, so
    every word is checked with the notices it belongs to. What has passed is checked for
    what rule 1 forbids and written in batches of some ``BATCH`` characters (the text, in
    the end, checked as one: a phrase cut between two pieces is still found)."""

    BATCH = 1 << 16

    def __init__(self, handle, source: str, name: str, notices, printed=None) -> None:
        self.handle = handle
        self.source = source
        self.html = _is_html(name)
        self.checked = name.rsplit("/", 1)[-1] not in EVIDENCE_ONLY
        self.notices = notices
        self.printed = printed
        self.texts: list[str] = []
        self.pending: list[lawful.FormalNotice] = []
        self.pending_parts: list = []  # the parts the pending notices are of
        self.retry_at = 0  # a piece that waits: its size when it is checked again
        self.counted = self.size = 0  # how many of the texts are measured, and their size
        # pieces that passed rule 2, to check for rule 1 and write: (text, what a reader
        # sees of it when known, whether it ends cut, the elements open where it ends: see
        # read)
        self.ready: list[tuple[str, str | None, bool | None, html_reading.Tree | None]] = []
        self.ready_size = 0
        self.cut_size = 0  # the size of the last ready pieces that each end cut
        self.before = ""  # the end of what was written, as a reader sees it
        self.tree = html_reading.Tree()  # the elements open where what was written ends

    def parts(self, parts: Iterable) -> Iterator:
        """The parts, each handed to the template once what it made of the one before is
        checked and passed on (before the next part is made)."""
        parts = iter(parts)
        while True:
            self.flush(final=False)
            part = next(parts, _NO_PART)
            if part is _NO_PART:
                return
            if self.notices is not None:
                self.pending.append(self.notices(part))
                self.pending_parts.append(part)
            yield part

    def flush(self, *, final: bool) -> None:
        """Check what waits and pass it on; not final, a piece missing what rule 2 asks waits
        (and is tried again once it has doubled: the work stays linear)."""
        if self.retry_at and not final:
            self.size += sum(map(len, self.texts[self.counted :]))
            self.counted = len(self.texts)
            if self.size < self.retry_at:
                return
        text = "".join(self.texts)
        self.texts.clear()  # the same list: Documents.write appends to it
        seen = cut = tree = None
        before = self.ready[-1][3] if self.ready else self.tree
        if self.checked and self.pending and not final:
            seen, cut, tree = self.read(text)
            if lawful.notice_gaps(seen, self.pending, limit=1):
                self.texts.append(text)
                self.retry_at = 2 * len(text)
                return
        notices = self.pending if final else ()
        parts = self.pending_parts
        self.pending, self.pending_parts = [], []
        self.retry_at, self.counted, self.size = 0, 0, 0
        if final:
            if not (self.html and self.ready and self.ready[-1][2]):
                self.write()  # what passed before: rule 1 first, in the order of the text
            # else the text goes on from inside a tag, comment or reference: read as one
            self.ready.append((text, None, None, None))
            seen = self.write(notices)
        else:
            if seen is None and self.checked and self.html:
                seen, cut, tree = self.read(text)  # read once: for the batch's check, its end
            self.ready.append((text, seen, cut, tree))
            self.ready_size += len(text)
            self.cut_size = self.cut_size + len(text) if cut else 0
        if self.printed is not None and len(parts) == 1:
            told = seen if seen is not None else self.seen(text, before)
            self.printed(parts[0], printed_text(told) if self.html else told.strip())
        # a batch never ends where the next would read it apart (see read)
        if not final and self.ready_size >= self.BATCH and not (self.html and cut):
            self.write()

    def seen(self, text: str, before: html_reading.Tree | None = None) -> str:
        """What a reader sees of a piece, as the gate reads it (``_reader_text``), from the
        elements ``before`` holds open."""
        return self.read(text, before=before)[0]

    def read(
        self, text: str, after_cut: bool | None = None, before: html_reading.Tree | None = None
    ) -> tuple[str, bool, html_reading.Tree | None]:
        """What a reader sees of a piece read alone, whether it ends cut (inside a tag,
        comment, raw text or reference: then it is read with what follows; see
        ``_reading``), and the elements open where it ends (from those ``before`` holds open,
        by default those the ready pieces leave open). A piece whose HTML may hide, make or
        move text is refused, unless the piece before it ends cut (inside a comment, say) or
        leaves open what is not known: then nothing is seen of it yet, and it is read, and
        refused or not, with what comes before it."""
        if not self.html:
            return text, False, None
        if before is None:
            before = self.ready[-1][3] if self.ready else self.tree
        if after_cut is None:
            after_cut = bool(self.ready and self.ready[-1][2])
        if after_cut or before is None:  # read from where the pieces were last read uncut
            cut, tree = True, None  # pieces cut one after another for long: read as one
            at = self.uncut()
            start = self.ready[at - 1][3] if at else self.tree
            if self.cut_size <= self.BATCH and start is not None:
                run = [piece for piece, _seen, _cut, _tree in self.ready[at:]]
                with suppress(html_reading.Hidden):  # else: known once the whole is read
                    tree = start.copy()
                    cut = _reading("".join([*run, text]), final=False, tree=tree)[1]
            try:
                alone = (before or html_reading.Tree()).copy()
                return _reader_reading(text, final=False, tree=alone)[0], cut, tree
            except html_reading.Hidden:
                return "", cut, tree
        tree = before.copy()
        try:
            return (*_reader_reading(text, final=False, tree=tree), tree)
        except html_reading.Hidden as hidden:
            raise _unreadable(self.source, hidden) from None

    def uncut(self) -> int:
        """Where the last run of ready pieces that each end cut begins."""
        at = len(self.ready)
        while at and self.ready[at - 1][2]:
            at -= 1
        return at

    def write(self, notices: Sequence[lawful.FormalNotice] = ()) -> str | None:
        """Check the pieces that are ready for what rule 1 forbids (and, given ``notices``,
        for what rule 2 asks of them) and write them; return what a reader sees of them."""
        ready = self.ready
        self.ready = []
        self.ready_size = self.cut_size = 0
        text = "".join([piece for piece, _seen, _cut, _tree in ready])
        if not text and not notices:
            return None
        seen = None
        if self.checked:
            tree: html_reading.Tree | None = self.tree
            if self.html:
                read: list[tuple[str, bool]] = []
                for piece, piece_seen, piece_cut, piece_tree in ready:
                    after_cut = bool(read and read[-1][1])
                    if piece_seen is None:
                        piece_seen, piece_cut, piece_tree = self.read(piece, after_cut, tree)
                    read.append((piece_seen, piece_cut))
                    tree = piece_tree
                if not any(cut for _seen, cut in read):
                    # no tag, comment or reference cut between two pieces (nor at the end of
                    # the last: the end of the document, read whole): what a reader sees of
                    # the whole is what they see of each piece, some seen already for rule 2
                    seen = "".join([piece_seen for piece_seen, _cut in read])
                else:  # read as one, from the elements open where what was written ends
                    tree = self.tree.copy()
            seen = check(
                text,
                self.source,
                notices=notices,
                html=self.html,
                before=self.before,
                seen=seen,
                tree=tree,
            )
            if tree is not None:
                self.tree = tree
            self.before = seen[-200:]  # (a phrase in English may run over a line break)
        self.handle.write(text)
        return seen


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
