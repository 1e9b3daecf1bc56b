"""What a reader of an HTML document sees, read the way a browser reads it (the gate's exact
reading; files/render.py reads most letters by a quicker path that gives the same text).

The text is split into tokens as the HTML5 tokenizer does: a "<" opens a tag only before an
ASCII letter ("</" + letter: an end tag); "</>" is nothing; "</" before anything else, "<?"
and "<!" (but "<!--") open a bogus comment up to the next ">"; "<!--" runs to "-->" or
"--!>" ("<!-->" and "<!--->" are empty comments); any other "<" is text. A tag ends at the
first ">" outside a quoted attribute value; a tag or comment the text ends inside is not
shown. <style> and <xmp> hold raw text (the style is not shown; xmp is), <title> and
<textarea> text with character references (the title is not shown on the page: what it says
is checked on its own); after <plaintext> everything is text. Tag names are compared in
ASCII lower case only; HTML whitespace is tab, LF, FF, CR and space, nothing else; CR LF and
a lone CR are a LF, a NUL is not shown. Character references are decoded in each run of text
on its own (a tag between "&#" and "27700;" makes no 水). A tag of an element a browser shows
as a block (``BLOCK``, start or end) is a line break, unless the tree builder ignores it
(below), every other tag and every comment nothing.

What CSS and some elements do to the text is not read: instead the gate refuses a document
that uses them to hide, make or move text, since what an owner reads would then differ from
what the gate checks (``Hidden`` names what it found):

* elements that run scripts, show another document or other content in place of their own
  (script, noscript, iframe, object, embed, frame, template, math, link, audio, video,
  canvas, meter, progress), that show text another way (select, option, input, datalist,
  ruby, bdo, font) or hide it (dialog, a closed <details>, <small>/<sub>/<sup> nested more
  than twice), an image with alt text, form, button, marquee and legend (see below); an
  <svg> (a chart) may hold only shapes and text elements with plain attributes (no
  transform, style, pale fill or tiny font), each text element read on a line of its own;
* the attributes hidden, popover, on… (scripts), dir other than ltr, and the presentational
  colour attributes (color, bgcolor, text, background);
* CSS (a <style> element or a style attribute) with anything but plain layout: only known
  properties of fonts, spacing, borders, tables, flex boxes, page breaks and page size; no
  negative lengths, no function but rgb(), no escapes, no at-rule but @page and @media, no
  font size under 6pt or under 1em, no line height under 1, a text colour dark enough and a
  background light enough to read; display may make a box inline only for an element that is
  inline already (``span.box { display: inline-block }``), and never none or contents. So
  display:none, visibility, opacity, font-size:0, content, position, float, transform,
  text-indent, overflow and the like are refused wherever they appear (@media print too).

What the tree builder does with tags is read from the elements it holds open (``Tree``,
carried from piece to piece of a document): a block's end tag with no element of its name
open (in scope), a table's part outside a table, a cell's end tag with no cell open, are
ignored by a browser and read as nothing. Text, or any element but a table's own, written in
a table outside its cells and caption is shown before the table: refused, as are a heading
begun right inside another (whether a browser closes the first depends on the inline elements
between) and the elements whose handling would make the open elements depend on more than
blocks (form, button, marquee, legend).

What is not modelled: CSS that makes an inline element a block (a line break the gate does
not read), a fixed height whose content spills onto the next box, where an svg places its
text elements, and the words of an image.
"""

from __future__ import annotations

import html as _entities
import re
from typing import NamedTuple

from propfee.core import lawful
from propfee.core.i18n import _

#: the tags read as line breaks (start and end tags alike)
# the block elements of a browser's own style sheet: each begins and ends a line (an element
# read as inline that a browser shows as a block would join what the browser shows apart:
# a negation on one line would excuse a threat on the next)
_BLOCK_NAMES = (
    "td th tr p div br li ul ol table thead tbody tfoot caption section h1 h2 h3 h4 h5 h6 hr "
    "address article aside blockquote center dd details dialog dir dl dt fieldset figcaption "
    "figure footer form header hgroup legend listing main menu nav pre search summary xmp "
    "plaintext optgroup option"
)
BLOCK = frozenset(_BLOCK_NAMES.split())
_RAW_TEXT = frozenset({"style", "xmp", "iframe", "noembed", "noframes", "noscript", "script"})
_RCDATA = frozenset({"title", "textarea"})
_REFUSED = frozenset(
    [
        "script",
        "noscript",
        "iframe",
        "object",
        "embed",
        "frame",
        "frameset",
        "noframes",
        "noembed",
        "applet",
        "portal",
        "template",
        "svg",
        "math",
        "link",
        "audio",
        "video",
        "canvas",
        "meter",
        "progress",
        "select",
        "option",
        "optgroup",
        "datalist",
        "input",
        "dialog",
        "ruby",
        "rt",
        "rp",
        "rb",
        "rtc",
        "bdo",
        "font",
        "fencedframe",
        "form",
        "button",
        "marquee",
        "legend",
    ]
)
_SMALLER = frozenset({"small", "sub", "sup"})
_INLINE = frozenset(
    [
        "span",
        "b",
        "strong",
        "i",
        "em",
        "u",
        "s",
        "small",
        "big",
        "sub",
        "sup",
        "a",
        "abbr",
        "code",
        "label",
        "mark",
        "cite",
        "time",
        "q",
        "kbd",
    ]
)
_COLOUR_ATTRIBUTES = frozenset({"color", "bgcolor", "text", "background"})
_LETTER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_ATTRIBUTE = re.compile(
    r"[\t\n\f\r /]*(?:([^\t\n\f\r />][^\t\n\f\r />=]*)[\t\n\f\r ]*"
    r"(?:=[\t\n\f\r ]*(?:\"([^\"]*)\"?|'([^']*)'?|([^\t\n\f\r >]*)))?)?"
)
_TAG_NAME = re.compile(r"[^\t\n\f\r />]*")


class Hidden(Exception):
    """The document uses HTML or CSS that could hide, make or move text (what: said)."""


class ThreatInTitle(Hidden):
    """The document's title says what LEGAL rule 1 forbids (the phrase)."""


class Reading(NamedTuple):
    text: str  # what a reader sees
    cut: bool  # the HTML ends inside a tag, comment, raw text or character reference


def ascii_lower(name: str) -> str:
    return name.lower() if name.isascii() else name.translate(_LOWER)


def _data(text: str) -> str:
    """A run of text as shown: references decoded, NUL characters dropped (as browsers do)."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    return _entities.unescape(text)


def read(
    html: str, between: str | None = None, *, final: bool = True, tree: Tree | None = None
) -> Reading:
    """What a reader sees of ``html`` (see the module's docstring); given ``between``, every
    tag and comment is read as it, block or not. Raises Hidden. Not ``final``, ``html`` is a
    piece of a document that may go on: a style it ends inside is checked once it is whole.
    ``tree`` holds the elements open where the piece begins (none: a document's beginning);
    it is left holding those open where the piece ends (before a tag it ends inside)."""
    cr = html.endswith("\r")
    if "\r" in html:  # the input stream's line feeds: CR LF and a lone CR are LF
        html = html.replace("\r\n", "\n").replace("\r", "\n")
    reader = _Reader(html, between, final, Tree() if tree is None else tree)
    reader.run()
    return Reading("".join(reader.out), reader.cut or cr)


class _Reader:
    def __init__(self, html: str, between: str | None, final: bool, tree: Tree) -> None:
        self.html = html
        self.tree = tree
        self.final = final
        self.between = between
        self.out: list[str] = []
        self.cut = False
        self.smaller = 0  # <small>, <sub>, <sup> open
        self.svg = 0  # <svg> open (a picture: its text elements each a line of their own)
        self.svg_text = 0  # of them, text elements open

    def run(self) -> None:
        html, at, size = self.html, 0, len(self.html)
        while at < size:
            lt = html.find("<", at)
            if lt < 0:
                self.text(html[at:])
                break
            if lt > at:
                self.text(html[at:lt])
            at = self.markup(lt)
        else:
            return
        amp = html.rfind("&")
        self.cut = amp != -1 and _REFERENCE_BEGUN.fullmatch(html, amp) is not None

    def text(self, text: str) -> None:
        if self.svg and not self.svg_text and text.strip("\t\n\f\r "):
            raise Hidden(_("writes text in an <svg> outside its <text> elements"))
        self.tree.text(text)
        self.out.append(_data(text))

    def markup(self, lt: int) -> int:
        """Read what the "<" at ``lt`` opens; return where reading goes on."""
        html = self.html
        after = html[lt + 1 : lt + 2]
        if after in _LETTER:
            return self.start_tag(lt)
        if after == "/":
            second = html[lt + 2 : lt + 3]
            if second in _LETTER and second:
                return self.end_tag(lt)
            if second == ">":
                return lt + 3
            if not second:  # "</" at the end: text, and the next piece may make it a tag
                self.out.append("</")
                return self.ends_cut()
            return self.bogus_comment(lt + 2)
        if after == "!":
            if html.startswith("--", lt + 2):
                return self.comment(lt + 4)
            if self.svg and html.startswith("[CDATA[", lt + 2):
                raise Hidden(_("uses the element <{name}>").format(name="![CDATA["))
            return self.bogus_comment(lt + 2)
        if after == "?":
            return self.bogus_comment(lt + 1)
        self.out.append("<")
        if not after:
            return self.ends_cut()
        return lt + 1

    def ends_cut(self) -> int:
        self.cut = True
        return len(self.html)

    def separator(self, block: bool) -> None:
        if self.between is not None:
            self.out.append(self.between)
        elif block:
            self.out.append("\n")

    def bogus_comment(self, at: int) -> int:
        gt = self.html.find(">", at)
        if gt < 0:
            return self.ends_cut()
        self.separator(False)
        return gt + 1

    def comment(self, at: int) -> int:
        html = self.html
        if html.startswith(">", at):
            end = at + 1
        elif html.startswith("->", at):
            end = at + 2
        else:
            ends = [i for i in (html.find("-->", at), html.find("--!>", at)) if i >= 0]
            if not ends:
                return self.ends_cut()
            first = min(ends)
            end = first + (3 if html.startswith("-->", first) else 4)
        self.separator(False)
        return end

    def tag(self, at: int) -> tuple[str, list[tuple[str, str]], int]:
        """The tag whose name starts at ``at``: its name, attributes and end (-1: the text
        ends inside it; a tag that closes itself, "/>", ends at -end)."""
        html, size = self.html, len(self.html)
        name_end = _TAG_NAME.match(html, at).end()
        name = ascii_lower(html[at:name_end])
        attributes: list[tuple[str, str]] = []
        at = name_end
        while True:
            found = _ATTRIBUTE.match(html, at)
            at = found.end()
            if at >= size:
                return name, attributes, -1
            if found.group(1) is None:  # at the ">"
                return (
                    name,
                    attributes,
                    -(at + 1) if html[at - 1] == "/" and found.group() else at + 1,
                )
            value = next((v for v in found.group(2, 3, 4) if v is not None), "")
            attributes.append((ascii_lower(found.group(1)), value))

    def start_tag(self, lt: int) -> int:
        name, attributes, end = self.tag(lt + 1)
        if end == -1:
            return self.ends_cut()
        closed, end = end < 0, abs(end)
        if self.svg or name == "svg":
            return self.svg_tag(name, attributes, end, closed)
        refuse_element(name, attributes)
        if name in _SMALLER:
            self.smaller += 1
            if self.smaller > 2:
                raise Hidden(_("nests <small>, <sub> or <sup> more than twice"))
        self.separator(self.tree.start(name))
        if name in _RAW_TEXT or name in _RCDATA:
            return self.raw_text(name, end)
        if name == "plaintext":
            self.out.append(self.html[end:])
            return self.ends_cut()
        return end

    def end_tag(self, lt: int) -> int:
        name, _attributes, end = self.tag(lt + 2)
        if end == -1:
            return self.ends_cut()
        end = abs(end)
        if self.svg:
            return self.svg_tag("/" + name, [], end, True)
        if name in _SMALLER and self.smaller:
            self.smaller -= 1
        self.separator(self.tree.end(name))
        return end

    def svg_tag(self, name: str, attributes: list[tuple[str, str]], end: int, closed: bool) -> int:
        """A tag of an <svg> (``name`` "/…" for an end tag): only a chart's own elements and
        attributes; its text elements are read each on a line of its own."""
        element = name.lstrip("/")
        if element not in _SVG_ELEMENTS:
            raise Hidden(_("uses the element <{name}>").format(name=element))
        refuse_svg_attributes(element, attributes)
        opens = not name.startswith("/") and not closed
        if element == "svg":
            self.svg += 1 if opens else -1 if name.startswith("/") else 0
            if not self.svg:
                self.svg_text = 0
        elif element in _SVG_TEXT:
            self.svg_text += 1 if opens else -1 if name.startswith("/") and self.svg_text else 0
        self.separator(True)
        return end

    def raw_text(self, name: str, at: int) -> int:
        """The text of a raw-text or RCDATA element, up to its end tag (read next)."""
        ending = re.compile(rf"</{name}[\t\n\f\r />]", re.IGNORECASE | re.ASCII)
        found = ending.search(self.html, at)
        end = found.start() if found else len(self.html)
        content = self.html[at:end]
        if not found and not self.final:
            pass  # read once the rest of it is there
        elif name == "style":
            refuse_css(content)
        elif name == "xmp":
            self.out.append(content)
        elif name == "textarea":  # a line feed right after <textarea> is not shown
            self.out.append(_data(content[1:] if content.startswith("\n") else content))
        else:  # a title is not shown on the page, but heads the printed page and the tab
            phrase = lawful.threat(_data(content))
            if phrase is not None:
                raise ThreatInTitle(phrase)
        return end if found else self.ends_cut()


# ---------------------------------------------------------------- the tree builder's open elements

_TABLE_PARTS = frozenset(
    ["caption", "col", "colgroup", "tbody", "thead", "tfoot", "tr", "td", "th"]
)
_SECTIONS = frozenset({"tbody", "thead", "tfoot"})
#: where a table holds no text of its own: a browser shows what is written there before it
TABLE_CONTEXT = frozenset({"table", "tbody", "thead", "tfoot", "tr", "colgroup"})
_TABLE_STRUCTURE = TABLE_CONTEXT | {"td", "th", "caption"}
_CELLS = frozenset({"td", "th", "caption"})
_HEADINGS = frozenset(["h1", "h2", "h3", "h4", "h5", "h6"])
_SCOPE_EDGES = frozenset({"table", "td", "th", "caption"})
_TABLE_SCOPE = frozenset({"table"})
_LIST_SCOPE = _SCOPE_EDGES | {"ol", "ul"}
_NOT_HELD = frozenset({"br", "hr", "col"})
_ITEM_SKIPS = frozenset({"address", "div", "p"})
# the start tags that close an open <p> first
_CLOSING_P = (
    "address article aside blockquote center details dialog dir div dl fieldset figcaption "
    "figure footer header hgroup main menu nav ol p search section summary ul h1 h2 h3 h4 h5 "
    "h6 pre listing li dd dt plaintext table hr xmp"
)
_CLOSE_P = frozenset(_CLOSING_P.split())
# the end tags that close an element of their name in scope (any other: the current one)
_SCOPED_NAMES = (
    "address article aside blockquote center details dialog dir div dl fieldset figcaption "
    "figure footer header hgroup listing main menu nav ol pre search section summary ul dd dt"
)
_SCOPED = frozenset(_SCOPED_NAMES.split())


class Tree:
    """The elements a browser's tree builder holds open where a document (or a piece of
    it) ends, of those that decide whether a tag is a line break: the blocks and a table's
    parts (an inline element decides nothing: button, marquee and legend, which would, are
    refused). A block's end tag with no element of its name open (in scope), a table's part
    outside a table and a cell's end tag with no cell open are ignored by a browser: read as
    nothing. Text, or any element but a table's parts, written in a table outside its cells
    and caption is shown before the table: refused (Hidden), as is a heading begun right
    inside another (whether the browser closes the first depends on inline elements)."""

    __slots__ = ("open",)

    def __init__(self, held: tuple[str, ...] | list[str] = ()) -> None:
        self.open = list(held)

    def key(self) -> tuple[str, ...]:
        return tuple(self.open)

    def copy(self) -> Tree:
        return Tree(self.open)

    def context(self) -> str | None:
        """The innermost table, part of a table or cell held open (None: none)."""
        for name in reversed(self.open):
            if name in _TABLE_STRUCTURE:
                return name
        return None

    def text(self, text: str) -> None:
        """Raise Hidden for text a browser would show elsewhere (before its table)."""
        if text.strip("\t\n\f\r ") and self.context() in TABLE_CONTEXT:
            raise Hidden(_("writes text in a table outside its cells"))

    def _find(self, names: frozenset[str] | set[str], edges: frozenset[str]) -> int:
        """Where the innermost element named one of ``names`` is held, in the scope that
        ``edges`` bound (-1: none)."""
        for at in range(len(self.open) - 1, -1, -1):
            name = self.open[at]
            if name in names:
                return at
            if name in edges:
                return -1
        return -1

    def start(self, name: str) -> bool:
        """A start tag ``name`` (not refused): whether a browser shows a line break there."""
        context = self.context()
        if context in TABLE_CONTEXT:
            return self._table_start(name, context)
        if name in _TABLE_PARTS:
            if context is None:
                return False  # outside a table: ignored
            del self.open[self._find({context}, frozenset()) :]  # the cell or caption ends
            return self.start(name)
        if name in _CLOSE_P:
            at = self._find({"p"}, _SCOPE_EDGES)
            if at >= 0:
                del self.open[at:]
        if name == "li":
            self._close_item({"li"})
        elif name in ("dd", "dt"):
            self._close_item({"dd", "dt"})
        elif name in _HEADINGS and self.open and self.open[-1] in _HEADINGS:
            raise Hidden(_("begins a heading inside another"))
        if name not in BLOCK:
            return False
        if name not in _NOT_HELD:
            self.open.append(name)
        return True

    def _close_item(self, names: set[str]) -> None:
        for at in range(len(self.open) - 1, -1, -1):
            name = self.open[at]
            if name in names:
                del self.open[at:]
                return
            if name not in _ITEM_SKIPS:
                return

    def _table_start(self, name: str, context: str) -> bool:
        if context == "colgroup":
            if name == "col":
                return False
            self.open.pop()
            return self.start(name)
        if name in ("td", "th", "tr"):
            if context == "table":
                self.open.append("tbody")
            elif context == "tr" and name == "tr":
                self.open.pop()
            if name != "tr" and context != "tr":
                self.open.append("tr")
            self.open.append(name)
            return True
        if name in _SECTIONS or name in ("caption", "colgroup", "col", "table"):
            at = self._find({"table"}, frozenset())
            if name == "table":  # ends the table and begins another
                del self.open[at:]
                return self.start(name)
            del self.open[at + 1 :]
            self.open.append("colgroup" if name == "col" else name)
            return name in BLOCK
        if name == "style":
            return False
        raise Hidden(_("writes <{name}> in a table outside its cells").format(name=name))

    def end(self, name: str) -> bool:
        """An end tag ``name``: whether a browser shows a line break there."""
        if name in ("br", "p"):  # </br> is a <br>; </p> with no <p> open, an empty one
            if name == "p":
                at = self._find({"p"}, _SCOPE_EDGES)
                if at >= 0:
                    del self.open[at:]
            return True
        context = self.context()
        if context in TABLE_CONTEXT:
            if context == "colgroup":
                if name == "col":
                    return False
                self.open.pop()
                return name != "colgroup" and self.end(name)
            if name == "table" or name in _SECTIONS or name == "tr":
                return self._close(self._find({name}, _TABLE_SCOPE))
            if name in _TABLE_PARTS:
                return False
        elif context in _CELLS and (name in _TABLE_PARTS or name == "table"):
            return self._cell_end(name, context)
        if name in _SCOPED:
            return self._close(self._find({name}, _SCOPE_EDGES))
        if name == "li":
            return self._close(self._find({"li"}, _LIST_SCOPE))
        if name in _HEADINGS:
            return self._close(self._find(_HEADINGS, _SCOPE_EDGES))
        # any other: the current element (every element held stops a browser's search)
        return self._close(len(self.open) - 1 if self.open and self.open[-1] == name else -1)

    def _cell_end(self, name: str, context: str) -> bool:
        """The end tag of a table or its part in a cell or caption (``context``)."""
        if name == context:
            return self._close(self._find({name}, _TABLE_SCOPE))
        if name in ("col", "colgroup", "caption") or (context == "caption" and name != "table"):
            return False
        if self._find({name}, _TABLE_SCOPE) < 0:
            return False
        del self.open[self._find({context}, frozenset()) :]  # the cell ends first
        return self.end(name)

    def _close(self, at: int) -> bool:
        if at < 0:
            return False
        del self.open[at:]
        return True


_REFERENCE_BEGUN = re.compile(r"&(?:#[0-9]*|#[xX][0-9a-fA-F]*|[A-Za-z0-9]*)")
_SVG_ELEMENTS = frozenset(
    [
        "svg",
        "g",
        "title",
        "desc",
        "text",
        "tspan",
        "line",
        "rect",
        "circle",
        "ellipse",
        "path",
        "polyline",
        "polygon",
    ]
)
_SVG_TEXT = frozenset({"title", "desc", "text", "tspan"})
_SVG_ATTRIBUTES = frozenset(
    [
        "xmlns",
        "viewbox",
        "width",
        "height",
        "role",
        "aria-label",
        "font-family",
        "x",
        "y",
        "x1",
        "y1",
        "x2",
        "y2",
        "cx",
        "cy",
        "r",
        "rx",
        "ry",
        "d",
        "points",
        "fill",
        "stroke",
        "stroke-width",
        "stroke-dasharray",
        "stroke-linecap",
        "stroke-linejoin",
        "font-size",
        "font-weight",
        "text-anchor",
        "dominant-baseline",
        "class",
        "opacity",
        "fill-opacity",
    ]
)


def _svg_length(value: str) -> str:
    """An SVG length as CSS writes it: a bare number is in pixels."""
    return value + "px" if re.fullmatch(r"[0-9]*\.?[0-9]+", value) else value


def refuse_svg_attributes(element: str, attributes: list[tuple[str, str]]) -> None:
    """Raise Hidden for an attribute of an <svg>'s element that could hide or move text (a
    transform, a style, a pale or no fill, a tiny font, a text made transparent)."""
    for attribute, value in attributes:
        value = value.strip().lower()
        text = element in _SVG_TEXT or element in ("svg", "g")
        if (
            attribute not in _SVG_ATTRIBUTES
            or "(" in value
            or (text and attribute in ("opacity", "fill-opacity"))
            or (text and attribute == "fill" and _luminance(value) > 0.6)
            or (attribute == "font-size" and not _big_enough(_svg_length(value)))
        ):
            raise Hidden(
                _("uses the attribute {attribute} on <{name}>").format(
                    attribute=attribute, name=element
                )
            )


def refuse_element(name: str, attributes: list[tuple[str, str]]) -> None:
    """Raise Hidden when a start tag ``name`` with ``attributes`` may hide, make or move text."""
    if name in _REFUSED:
        raise Hidden(_("uses the element <{name}>").format(name=name))
    if name == "details" and not any(a == "open" for a, _v in attributes):
        raise Hidden(_("uses the element <{name}>").format(name="details"))
    for attribute, value in attributes:
        if (
            attribute in ("hidden", "popover")
            or attribute.startswith("on")
            or attribute in _COLOUR_ATTRIBUTES
            or (attribute == "dir" and value.strip().lower() != "ltr")
            or (attribute == "http-equiv" and value.strip().lower() == "refresh")
            or (attribute == "alt" and value.strip())
        ):
            raise Hidden(
                _("uses the attribute {attribute} on <{name}>").format(
                    attribute=attribute, name=name
                )
            )
        if attribute == "style":
            refuse_css(value, element=name)
            refuse_css(_entities.unescape(value), element=name)


# ---------------------------------------------------------------- CSS: layout only

_CSS_COMMENT = re.compile(r"/\*.*?(?:\*/|\Z)", re.DOTALL)
_CSS_STRING = re.compile(r"\"[^\"]*\"|'[^']*'")
_CSS_RULE = re.compile(r"([^{}]*)\{([^{}]*)\}")
_CSS_AT_RULE = re.compile(r"@([A-Za-z-]*)")
_CSS_NEGATIVE = re.compile(r"(?<![\w-])-[0-9.]")
_CSS_LENGTH = re.compile(r"([0-9]*\.?[0-9]+)(pt|px|mm|cm|in|pc|q|em|rem|%)?")
_POINTS = {"pt": 1.0, "px": 0.75, "mm": 72 / 25.4, "cm": 72 / 2.54, "in": 72.0, "pc": 12.0}
_POINTS["q"] = _POINTS["mm"] / 4
_CSS_FREE = frozenset(
    [
        "margin",
        "margin-top",
        "margin-right",
        "margin-bottom",
        "margin-left",
        "padding",
        "padding-top",
        "padding-right",
        "padding-bottom",
        "padding-left",
        "text-align",
        "text-align-last",
        "vertical-align",
        "font-family",
        "font-weight",
        "font-style",
        "font-variant",
        "font-variant-numeric",
        "font-kerning",
        "text-decoration",
        "text-decoration-line",
        "text-decoration-style",
        "text-decoration-color",
        "text-underline-offset",
        "white-space",
        "page-break-before",
        "page-break-after",
        "page-break-inside",
        "break-before",
        "break-after",
        "break-inside",
        "orphans",
        "widows",
        "size",
        "page",
        "table-layout",
        "border-collapse",
        "border-spacing",
        "caption-side",
        "empty-cells",
        "overflow-wrap",
        "word-wrap",
        "word-break",
        "line-break",
        "hyphens",
        "align-items",
        "align-content",
        "align-self",
        "justify-content",
        "justify-items",
        "justify-self",
        "gap",
        "row-gap",
        "column-gap",
        "flex",
        "flex-grow",
        "flex-shrink",
        "flex-basis",
        "flex-wrap",
        "box-sizing",
        "width",
        "min-width",
        "max-width",
        "height",
        "min-height",
        "letter-spacing",
        "word-spacing",
        "print-color-adjust",
        "-webkit-print-color-adjust",
        "color-adjust",
        "outline",
        "outline-width",
        "outline-style",
        "outline-color",
        "box-shadow",
        "cursor",
    ]
)
_DISPLAY = frozenset(
    [
        "block",
        "flex",
        "grid",
        "table",
        "table-row-group",
        "table-header-group",
        "table-footer-group",
        "table-row",
        "table-cell",
        "table-column-group",
        "table-column",
        "table-caption",
        "list-item",
        "flow-root",
    ]
)
_DISPLAY_INLINE = frozenset({"inline", "inline-block", "inline-flex", "inline-grid"})
_FONT_SIZES = frozenset(
    [
        "xx-small",
        "x-small",
        "small",
        "medium",
        "large",
        "x-large",
        "xx-large",
        "xxx-large",
        "larger",
    ]
)
_COLOURS = {
    "black": "#000",
    "white": "#fff",
    "gray": "#808080",
    "grey": "#808080",
    "red": "#f00",
    "darkred": "#8b0000",
    "maroon": "#800000",
    "brown": "#a52a2a",
    "blue": "#00f",
    "darkblue": "#00008b",
    "navy": "#000080",
    "green": "#008000",
    "darkgreen": "#006400",
    "purple": "#800080",
}


def refuse_css(css: str, *, element: str | None = None) -> None:
    """Raise Hidden unless ``css`` (a style sheet, or given ``element`` the style attribute of
    that element) is plain layout: see the module's docstring."""
    css = _CSS_COMMENT.sub(" ", css)
    if "\\" in css:
        raise Hidden(_("uses the CSS “{css}”").format(css="\\"))
    for string in _CSS_STRING.findall(css):
        if any(mark in string for mark in "{};:()<>@\n"):
            raise Hidden(_("uses the CSS “{css}”").format(css=string))
    css = _CSS_STRING.sub("_", css)  # a name, as far as the rest of the check goes
    if '"' in css or "'" in css:
        raise Hidden(_("uses the CSS “{css}”").format(css=css[css.find('"') :][:40]))
    if element is not None:
        _refuse_declarations(css, [element])
        return
    for at_rule in _CSS_AT_RULE.findall(css):
        if ascii_lower(at_rule) not in ("page", "media"):
            raise Hidden(_("uses the CSS “{css}”").format(css="@" + at_rule))
    while True:
        rules = _CSS_RULE.findall(css)
        if not rules:
            break
        for selector, body in rules:
            _refuse_declarations(body, _subjects(selector))
        css = _CSS_RULE.sub(" ", css)
    if "{" in css or "}" in css:
        raise Hidden(_("uses the CSS “{css}”").format(css="{"))


def _subjects(selector: str) -> list[str]:
    """The element names each selector of a rule applies to ("" for any element)."""
    names = []
    for one in selector.split(","):
        last = re.split(r"[\s>+~]+", one.strip())[-1]
        found = re.match(r"[A-Za-z][A-Za-z0-9-]*", last)
        names.append(ascii_lower(found.group()) if found else "")
    return names


def _refuse_declarations(body: str, subjects: list[str]) -> None:
    for declaration in body.split(";"):
        name, colon, value = declaration.partition(":")
        if not colon:
            if declaration.strip():
                raise Hidden(_("uses the CSS “{css}”").format(css=declaration.strip()))
            continue
        name = ascii_lower(name.strip())
        value = re.sub(r"!\s*important\s*$", "", ascii_lower(value.strip()), flags=re.I)
        value = value.strip()
        if not _css_allowed(name, value, subjects):
            said = f"{name}: {value}"
            raise Hidden(_("uses the CSS “{css}”").format(css=said))


def _css_allowed(name: str, value: str, subjects: list[str]) -> bool:
    """Whether the declaration ``name: value`` only lays text out."""
    if "(" in value and name not in ("color", "background", "background-color"):
        return False
    if name != "vertical-align" and _CSS_NEGATIVE.search(value):
        return False
    if "reverse" in value:
        return False
    if name in _CSS_FREE:
        return True
    if name == "display":
        if value in _DISPLAY_INLINE:
            return all(subject in _INLINE for subject in subjects)
        return value in _DISPLAY
    if name == "font-size":
        return value in _FONT_SIZES or _big_enough(value)
    if name == "line-height":
        return value == "normal" or _big_enough(value)
    if name == "color":  # dark on a light background (whatever an element inherits)
        return value in ("inherit", "currentcolor") or _luminance(value) <= 0.6
    if name in ("background", "background-color"):
        return value in ("none", "transparent", "inherit") or _luminance(value) >= 0.75
    return name.startswith("border") and name != "border-image"


def _big_enough(value: str) -> bool:
    """A font size or line height of at least 6pt, or 1 (em, rem, a number) or 100%."""
    found = _CSS_LENGTH.fullmatch(value)
    if found is None:
        return False
    number, unit = float(found.group(1)), found.group(2)
    if unit in _POINTS:
        return number * _POINTS[unit] >= 6
    if unit == "%":
        return number >= 100
    return number >= 1


def _luminance(value: str) -> float:
    """How light a colour is, 0 (black) to 1 (white); 0.5 for what is not a plain colour (so
    neither a text colour nor a background passes)."""
    value = _COLOURS.get(value, value)
    found = re.fullmatch(r"#([0-9a-f]{3}|[0-9a-f]{6})", value)
    if found:
        digits = found.group(1)
        if len(digits) == 3:
            digits = "".join(d * 2 for d in digits)
        red, green, blue = (int(digits[i : i + 2], 16) for i in (0, 2, 4))
    else:
        found = re.fullmatch(r"rgb\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*\)", value)
        if found is None:
            return 0.65  # neither dark nor light enough
        red, green, blue = (min(int(v), 255) for v in found.groups())
    return (0.299 * red + 0.587 * green + 0.114 * blue) / 255
